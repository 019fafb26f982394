#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/report.py: docs/bench/README.md and its plots from bench/run.sh's
CSV files.  Every verdict is computed here from the numbers of this run;
nothing is tuned to pass."""
import argparse
import csv
import math
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--results", required=True)
ap.add_argument("--guest", default="")
ap.add_argument("--machine", required=True)
ap.add_argument("--doc", required=True)
ap.add_argument("--fails", default="0")
ap.add_argument("--fk", default="")
ap.add_argument("--libvirt", default="")
a = ap.parse_args()

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    HAVE_PLT = True
except Exception:  # no matplotlib: tables only
    HAVE_PLT = False

M = {}
with open(a.machine) as f:
    for line in f:
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            M[k] = v

R = {}
with open(a.results) as f:
    for r in csv.DictReader(f):
        key = (r["suite"], r["impl"], r["op"], int(r["host"]), int(r["hostdevs"]))
        for k in ("median_us", "p10_us", "p90_us", "q1_us", "q3_us", "min_us", "mean_us", "max_us"):
            r[k] = float(r[k])
        r["runs"] = int(r["runs"])
        r["maxrss_kb"] = int(r["maxrss_kb"])
        r["fails"] = int(r["fails"])
        R[key] = r

G = {}
if a.guest and os.path.exists(a.guest):
    with open(a.guest) as f:
        for line in f:
            p = line.strip().split(",")
            if len(p) >= 4 and p[3]:
                G[(p[0], p[1])] = {
                    "n": int(p[2]),
                    "median": float(p[3]),
                    "p10": float(p[4]) if len(p) > 4 and p[4] else None,
                    "p90": float(p[5]) if len(p) > 5 and p[5] else None,
                }

# bench/libvirt/run: setup,n_devices,block,iteration,start_ms,destroy_ms
LV = []
if a.libvirt and os.path.exists(a.libvirt):
    with open(a.libvirt) as f:
        for r in csv.DictReader(f):
            LV.append((r["setup"], int(r["n_devices"]), int(r["block"]), int(r["iteration"]),
                       float(r["start_ms"]), float(r["destroy_ms"])))


def lv_samples(setup, n, col):
    # col: 4 start, 5 destroy, None start + destroy
    return sorted((r[4] + r[5]) if col is None else r[col] for r in LV if r[0] == setup and r[1] == n)


def median(v):
    if not v:
        return None
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def quantile(v, q):
    if not v:
        return None
    pos = q * (len(v) - 1)
    i = int(pos)
    return v[i] if i + 1 >= len(v) else v[i] + (v[i + 1] - v[i]) * (pos - i)


SIZES = sorted({k[3] for k in R if k[0] == "hook"})
HOSTDEVS = sorted({k[4] for k in R if k[0] == "hook"})
OPS = ["prepare", "start", "started", "stopped", "release"]
WORK_OPS = ["prepare", "start", "release"]


def get(suite, impl, op, h, d):
    return R.get((suite, impl, op, h, d))


def med(suite, impl, op, h, d):
    r = get(suite, impl, op, h, d)
    return r["median_us"] if r else None


def floor(h=0, d=0):
    """The floor: one step in every cycle of the plan that holds every
    case, so measured side by side with all of them."""
    return med("floor", "true", "run", 0, 0)


def ours(op, h, d):
    return get("check", "ours", "check", h, d) if op == "check" else get("hook", "ours", op, h, d)


# The fake kernel's own time per hook run (FAKEKERNEL_TIME_LOG files, one
# line of ns per run that wrote anything): the model of what the kernel
# does on a write (links, its log, fault
# injection lookups), not the hook's work.  The shell baseline writes plain
# files on the same root and pays none of it.
FK = {}
if a.fk and os.path.isdir(a.fk):
    for fn in os.listdir(a.fk):
        p_ = fn[:-4].split("-") if fn.endswith(".log") else []
        if len(p_) != 4 or p_[0] != "hook":
            continue
        with open(os.path.join(a.fk, fn)) as f:
            v = sorted(int(l) / 1000.0 for l in f if l.strip().isdigit())
        if v:
            FK[(p_[1], int(p_[2]), int(p_[3]))] = {"median": v[len(v) // 2], "n": len(v)}


def model(op, h, d):
    """Median µs of the fake kernel's own time in a run of (op, h, d)."""
    r = FK.get((op, h, d))
    return r["median"] if r else 0.0


def net(op, h, d):
    """The hook's own time: its median less the model's median."""
    r = ours(op, h, d)
    if not r:
        return None
    return r["median_us"] - (model(op, h, d) if op != "check" else 0.0)


def base(op, h, d):
    return get("check", "baseline", "check", h, d) if op == "check" else get("hook", "baseline", op, h, d)


def ms(us):
    if us is None:
        return "–"
    if us >= 100000:
        return "%.0f" % (us / 1000)
    if us >= 10000:
        return "%.1f" % (us / 1000)
    return "%.2f" % (us / 1000)


def x(v):
    if v is None:
        return "–"
    return ("%.1f×" % v) if v < 100 else ("%.0f×" % v)


def verdict(ok):
    return "**PASS**" if ok else "**MISS**"



FLOOR = get("floor", "true", "run", 0, 0)

# ------------------------------------------------------------------ targets
targets = []  # (name, target, measured, verdict)

# 1. Nothing to do: every operation of a domain without a PCI hostdev,
# and started/stopped of any domain, within 1.1x the floor (a C program
# that does nothing, linked as the hook is: a dynamic PIE linking libc).
NOOP = [(op, h, d) for h in SIZES for d in HOSTDEVS for op in OPS
        if (d == 0 or op in ("started", "stopped")) and ours(op, h, d) and floor(h, d)]
if NOOP:
    qs_ = {k: ours(*k)["median_us"] / floor(k[1], k[2]) for k in NOOP}
    wk = max(qs_, key=qs_.get)
    targets.append((
        "Nothing to do (every operation of a domain without a PCI hostdev; `started` and `stopped` of every domain)",
        "≤ 1.1× the floor",
        "worst %s (`%s`, %d-function host, %d hostdevs: %s ms against %s ms); all cases %s–%s" % (
            x(qs_[wk]), wk[0], wk[1], wk[2], ms(ours(*wk)["median_us"]), ms(floor(wk[1], wk[2])),
            x(min(qs_.values())), x(qs_[wk])),
        qs_[wk] <= 1.1))

# 3. Growth: linear in hostdevs, independent of host size.
def fit(points):
    n = len(points)
    if n < 3:
        return None
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    b = sxy / sxx
    a0 = my - b * mx
    ss_res = sum((p[1] - (a0 + b * p[0])) ** 2 for p in points)
    ss_tot = sum((p[1] - my) ** 2 for p in points)
    return a0, b, (1 - ss_res / ss_tot) if ss_tot else 1.0


fits = {}
for op in WORK_OPS + ["check"]:
    for h in SIZES:
        pts = [(d, ours(op, h, d)["median_us"]) for d in HOSTDEVS if ours(op, h, d)]
        f = fit(pts)
        if f:
            m1 = m2 = None
            t = {d: v for d, v in pts}
            low = [p for p in pts if p[0] <= 64]
            if len(low) >= 3 and 64 in t:
                m1 = fit(low)[1]  # slope through 0-64 hostdevs
            if 64 in t and 256 in t:
                m2 = (t[256] - t[64]) / 192
            fits[(op, h)] = f + (m1, m2)
# Linear: the cost of a hostdev does not grow with their number, i.e. the
# cost per added hostdev from 64 to 256 is at most 1.5x that from 1 to 64
# (hook operations, hosts with 256 hostdevs measured).
lin_ok = True
lin_worst = None
lin_r2 = min((f[2] for (op, h), f in fits.items() if op in WORK_OPS), default=1.0)
for (op, h), (a0, b, r2, m1, m2) in fits.items():
    if op not in WORK_OPS or m1 is None or m2 is None:
        continue
    q = m2 / m1 if m1 > 0 else float("inf")  # no growth measured up to 64
    if lin_worst is None or q > lin_worst[0]:
        lin_worst = (q, op, h)
    if q > 1.5:
        lin_ok = False
host_ratios = {}
for op in WORK_OPS + ["check"]:
    for d in HOSTDEVS:
        if d == 0:
            continue
        vals = [ours(op, h, d)["median_us"] for h in SIZES if ours(op, h, d)]
        if len(vals) >= 2:
            host_ratios[(op, d)] = max(vals) / min(vals)
hr = {k: v for k, v in host_ratios.items() if k[0] in WORK_OPS}
host_worst = max(hr.items(), key=lambda kv: kv[1]) if hr else None
host_ok = host_worst is not None and host_worst[1] <= 1.25
if lin_worst:
    targets.append((
        "Hook: growth linear in hostdevs",
        "cost per added hostdev from 64 to 256 ≤ 1.5× the slope of a line through 0–64 hostdevs (prepare, start, release; every host size with 256 hostdevs)",
        "at most %s (`%s`, %d functions); lowest R² of a straight line through 0–256 hostdevs %.3f" % ("%.2f×" % lin_worst[0] if lin_worst[0] != float("inf") else "∞ (no growth measured up to 64)", lin_worst[1], lin_worst[2], lin_r2),
        lin_ok))
if host_worst:
    targets.append((
        "Hook: independent of host size",
        "at every hostdev count, slowest/fastest median across the host sizes (measured in the same cycles) ≤ 1.25 (prepare, start, release)",
        "worst %.2f (`%s`, %d hostdevs: %s ms on %s functions)" % (
            host_worst[1], host_worst[0][0], host_worst[0][1],
            " / ".join(ms(ours(host_worst[0][0], h, host_worst[0][1])["median_us"]) for h in SIZES if ours(host_worst[0][0], h, host_worst[0][1])),
            " / ".join(format(h, ",") for h in SIZES if ours(host_worst[0][0], h, host_worst[0][1]))),
        host_ok))

# The speed-up over the shell baseline, for its plot and tables.
speed = {}
for op in OPS + ["check"]:
    for h in SIZES:
        for d in HOSTDEVS:
            o, b = ours(op, h, d), base(op, h, d)
            if o and b:
                speed[(op, h, d)] = b["median_us"] / o["median_us"]


# 5. The wrapper against the least exec shim (bench/exec.c: a static
# program that only execs its arguments).
sh_ = get("wrapper", "shim", "exec", 0, 0)
for nd in (0, 64):
    wr = get("wrapper", "wrapper", "exec", nd, nd)
    di = get("wrapper", "direct", "exec", nd, nd)
    if wr and sh_:
        q = wr["median_us"] / sh_["median_us"]
        targets.append((
            "vfio-qemu-wrapper exec'ing a trivial target, %s" % (
                "no vfio device (passed through)" if nd == 0 else "64 `-device vfio-pci` (checked, then exec)"),
            "≤ 1.1× the least exec shim (`bench/exec.c`)",
            "%s (%s ms vs %s ms; a direct exec %s ms)" % (x(q), ms(wr["median_us"]), ms(sh_["median_us"]), ms(di["median_us"]) if di else "?"),
            q <= 1.1))

# 6b. The real kernel, 1 to 4 devices in as many IOMMU groups: the hook
# with parallel = yes (hook-par-K), beside the bare kernel work (bare-par-K,
# one thread per device: the floor any hook can reach in this guest) and
# the hook with parallel = no (hook-seq-K).
NDEV = sorted({int(k[0].rsplit("-", 1)[1]) for k in G if k[0].startswith(("bare-seq-", "bare-par-", "hook-seq-", "hook-par-")) and k[1] == "cycle"})


def gk(series, k, phase="cycle"):
    r = G.get(("%s-%d" % (series, k), phase))
    return r["median"] if r else None


def gq(series, k, phase="cycle"):
    """series-k over series-1 (medians), or None."""
    a_, b_ = gk(series, k, phase), gk(series, 1, phase)
    return a_ / b_ if a_ and b_ else None


if NDEV and max(NDEV) >= 4:
    qp, qs, qb, qbs = gq("hook-par", 4), gq("hook-seq", 4), gq("bare-par", 4), gq("bare-seq", 4)
    b4s1 = gk("bare-par", 4) / gk("bare-seq", 1) if gk("bare-par", 4) and gk("bare-seq", 1) else None
    side = "the floor, the bare kernel work in parallel (one thread per device): %s (%s the bare work for 1 device without a thread), one after another %s; the hook with `parallel = no` %s (prepare %s, release %s)" % (
        x(qb), x(b4s1), x(qbs), x(qs), x(gq("hook-seq", 4, "prepare")), x(gq("hook-seq", 4, "release")))
    if qp:
        got = "%s (%s ms vs %s ms; prepare %s, release %s); %s" % (
            x(qp), ms(gk("hook-par", 4)), ms(gk("hook-par", 1)), x(gq("hook-par", 4, "prepare")), x(gq("hook-par", 4, "release")), side)
    else:
        got = "not measured: the hook does not know `parallel` (its parallel series was skipped); %s" % side
    targets.append((
        "Parallel preparation (TCG guest, 2 vCPUs): prepare + release of 4 e1000e in 4 IOMMU groups, `parallel = yes`",
        "≤ 1.5× the same for 1 device",
        got,
        bool(qp) and qp <= 1.5))

# 8. Through a real libvirtd (level-3 guest): virsh start + destroy with
# the hook against without it.
LV_N = sorted({r[1] for r in LV})
if LV and all(lv_samples(s_, n, None) for s_ in "AB" for n in LV_N):
    parts, ok = [], True
    for n in LV_N:
        ma, mb = median(lv_samples("A", n, None)), median(lv_samples("B", n, None))
        pct = 100 * (mb - ma) / ma
        ok = ok and pct <= 5
        parts.append("%d device%s: %.0f ms with, %.0f ms without, %+.0f ms (%+.1f %%)" % (
            n, "" if n == 1 else "s", mb, ma, mb - ma, pct))
    targets.append((
        "Through libvirt (level-3 guest, TCG): the hook's share of `virsh start` + `virsh destroy`, %s managed e1000e" % " and ".join(map(str, LV_N)),
        "≤ 5 % of the time without it",
        "; ".join(parts) + " (medians)",
        ok))
elif LV:
    targets.append((
        "Through libvirt (level-3 guest, TCG): the hook's share of `virsh start` + `virsh destroy`",
        "≤ 5 % of the time without it",
        "not measured: the runs without the hook (A) or with it (B) have no sample for %s device(s) (see build/bench/libvirt.console)" % ", ".join(
            str(n) for n in LV_N if not (lv_samples("A", n, None) and lv_samples("B", n, None))),
        False))

# 7. Peak RSS with 256 hostdevs.
rss = [(r["maxrss_kb"], k) for k, r in R.items() if k[0] == "hook" and k[1] == "ours" and k[4] == 256]
if rss:
    top_rss = max(rss)
    targets.append((
        "Peak RSS of the hook, 256 hostdevs",
        "≤ 8 MB (8,192 KiB)",
        "%d KiB (`%s`, %d functions; ru_maxrss from wait4, which also counts the forked runner before exec: the floor's %s KiB)" % (
            top_rss[0], top_rss[1][2], top_rss[1][3], FLOOR["maxrss_kb"] if FLOOR else "?"),
        top_rss[0] <= 8192))

# The order: parallel preparation, the share of a VM's life, then
# the targets kept from before.
ORDER = ("Parallel preparation", "Through libvirt", "Nothing to do", "Hook: growth", "Hook: independent", "Peak RSS", "vfio-qemu-wrapper")
targets.sort(key=lambda t: next((i for i, p_ in enumerate(ORDER) if t[0].startswith(p_)), len(ORDER)))

# Modelled hardware latency (fake kernel, FAKEKERNEL_DELAY_MS a bounded
# write): prepare and release of 1 to 8 hostdevs, sequential and parallel.
LAT_D = sorted({k[4] for k in R if k[0] == "latency"})


def lat(impl, op, d):
    r = get("latency", impl, op, 64, d)
    return r["median_us"] if r else None


# ------------------------------------------------------------------ plots
plots = []
COL = {64: "tab:green", 1024: "tab:blue", 4096: "tab:red"}
if HAVE_PLT:
    def xpos(ds):
        return [math.log2(d + 1) for d in ds]

    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2), sharey=False)
    for ax, op in zip(axes, WORK_OPS + ["check"]):
        for h in SIZES:
            ds = [d for d in HOSTDEVS if ours(op, h, d)]
            ys = [ours(op, h, d)["median_us"] / 1000 for d in ds]
            lo = [(ours(op, h, d)["median_us"] - ours(op, h, d)["p10_us"]) / 1000 for d in ds]
            hi = [(ours(op, h, d)["p90_us"] - ours(op, h, d)["median_us"]) / 1000 for d in ds]
            ax.errorbar(xpos(ds), ys, yerr=[lo, hi], marker="o", capsize=3, color=COL.get(h), label="%d functions" % h)
        if floor():
            ax.axhline(floor() / 1000, color="gray", ls="--", label="floor")
        ax.set_xticks(xpos(HOSTDEVS))
        ax.set_xticklabels([str(d) for d in HOSTDEVS])
        ax.set_xlabel("PCI hostdevs in the domain")
        ax.set_title("vfio-hooks check" if op == "check" else "hook: %s" % op)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("ms (median, p10–p90)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.doc, "time-vs-hostdevs.png"), dpi=90)
    plt.close(fig)
    plots.append(("time-vs-hostdevs.png", "Time against the number of hostdevs (x axis log-scaled), per host size"))

    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
    DC = {1: "tab:green", 16: "tab:blue", 64: "tab:orange", 256: "tab:red"}
    for ax, op in zip(axes, WORK_OPS + ["check"]):
        for d in [d for d in HOSTDEVS if d > 0]:
            hs = [h for h in SIZES if ours(op, h, d)]
            ys = [ours(op, h, d)["median_us"] / 1000 for h in hs]
            lo = [(ours(op, h, d)["median_us"] - ours(op, h, d)["p10_us"]) / 1000 for h in hs]
            hi = [(ours(op, h, d)["p90_us"] - ours(op, h, d)["median_us"]) / 1000 for h in hs]
            ax.errorbar(hs, ys, yerr=[lo, hi], marker="o", capsize=3, color=DC.get(d), label="%d hostdevs" % d)
        ax.set_xscale("log")
        ax.set_xticks(SIZES)
        ax.set_xticklabels([str(h) for h in SIZES])
        ax.set_xlabel("PCI functions on the host")
        ax.set_title("vfio-hooks check" if op == "check" else "hook: %s" % op)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("ms (median, p10–p90)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.doc, "time-vs-host.png"), dpi=90)
    plt.close(fig)
    plots.append(("time-vs-host.png", "Time against the size of the host (a flat line is independence)"))

    hbig = max(SIZES) if SIZES else 0
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.6))
    ax = axes[0]
    OC = {"prepare": "tab:red", "start": "tab:blue", "release": "tab:green", "check": "tab:purple"}
    for op in WORK_OPS + ["check"]:
        ds = [d for d in HOSTDEVS if ours(op, hbig, d) and base(op, hbig, d)]
        ax.plot(xpos(ds), [ours(op, hbig, d)["median_us"] / 1000 for d in ds], marker="o", color=OC[op], label="%s (vfio-hooks)" % op)
        ax.plot(xpos(ds), [base(op, hbig, d)["median_us"] / 1000 for d in ds], marker="s", ls="--", color=OC[op], label="%s (shell)" % op)
    ax.set_yscale("log")
    ax.set_xticks(xpos(HOSTDEVS))
    ax.set_xticklabels([str(d) for d in HOSTDEVS])
    ax.set_xlabel("PCI hostdevs (%d-function host)" % hbig)
    ax.set_ylabel("ms (median, log scale)")
    ax.set_title("vfio-hooks against the shell baseline")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    ops4 = WORK_OPS + ["check"]
    w = 0.8 / len(HOSTDEVS)
    for i, d in enumerate(HOSTDEVS):
        vals = [speed.get((op, hbig, d), 0) for op in ops4]
        ax.bar([j + i * w for j in range(len(ops4))], vals, width=w, label="%d hostdevs" % d)
    ax.axhline(10, color="black", ls="--", label="target 10×")
    ax.axhline(1, color="gray", ls=":")
    ax.set_yscale("log")
    ax.set_xticks([j + 0.4 - w / 2 for j in range(len(ops4))])
    ax.set_xticklabels(ops4)
    ax.set_ylabel("shell time / vfio-hooks time (log scale)")
    ax.set_title("Speed-up over the shell baseline (%d-function host)" % hbig)
    ax.grid(alpha=0.3, axis="y", which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.doc, "ours-vs-baseline.png"), dpi=90)
    plt.close(fig)
    plots.append(("ours-vs-baseline.png", "vfio-hooks against the shell baseline"))

    st = [k for k in R if k[0] == "startup"]
    if st:
        order = ["true", "true-static", "true+libxml2.so", "hook-started", "hook-real-started", "bash-started",
                 "migrate-1-noprofiles", "migrate-1-profiles", "migrate-1-libvirt", "cli-version"]
        keys = [k for o in order for k in st if k[2] == o]
        fig, ax = plt.subplots(figsize=(10, 4))
        ys = [R[k]["median_us"] / 1000 for k in keys]
        ax.barh(range(len(keys)), ys, xerr=[[R[k]["median_us"] / 1000 - R[k]["p10_us"] / 1000 for k in keys],
                                             [R[k]["p90_us"] / 1000 - R[k]["median_us"] / 1000 for k in keys]],
                color=["gray" if k[1] == "floor" else "tab:orange" if k[1] == "baseline" else "tab:blue" for k in keys], capsize=3)
        ax.set_yticks(range(len(keys)))
        ax.set_yticklabels([k[2] for k in keys])
        ax.invert_yaxis()
        ax.set_xlabel("ms (median, p10–p90)")
        ax.set_title("What starting a process costs")
        ax.grid(alpha=0.3, axis="x")
        fig.tight_layout()
        fig.savefig(os.path.join(a.doc, "startup.png"), dpi=90)
        plt.close(fig)
        plots.append(("startup.png", "Start-up costs: the floor, the same program static and with the shared libxml2, the hook's no-op"))

    if NDEV:
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
        SER = (("hook-seq", "hook, parallel = no (sequential)", "tab:red", "o", "-"),
               ("hook-par", "hook, parallel = yes", "tab:blue", "o", "-"),
               ("bare-seq", "bare writes, one after another", "tab:red", "s", "--"),
               ("bare-par", "bare writes, one thread per device", "tab:blue", "s", "--"))
        for ax, ph, title in zip(axes, ("cycle", "prepare", "release"), ("prepare + release", "prepare", "release (with the reset)")):
            for ser, lab, col, mk, ls in SER:
                ks = [k for k in NDEV if G.get(("%s-%d" % (ser, k), ph))]
                if not ks:
                    continue
                rs = [G[("%s-%d" % (ser, k), ph)] for k in ks]
                ax.errorbar(ks, [r["median"] / 1000 for r in rs],
                            yerr=[[(r["median"] - r["p10"]) / 1000 for r in rs], [(r["p90"] - r["median"]) / 1000 for r in rs]],
                            marker=mk, ls=ls, capsize=3, color=col, label=lab)
            if ph == "cycle" and gk("hook-par", 1):
                ax.plot(NDEV, [1.5 * gk("hook-par", 1) / 1000] * len(NDEV), color="black", ls=":", label="target: 1.5× one device (parallel)")
            ax.set_xticks(NDEV)
            ax.set_xlabel("e1000e, each in its own IOMMU group")
            ax.set_title(title)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("ms (median, p10–p90)")
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(a.doc, "parallel.png"), dpi=90)
        plt.close(fig)
        plots.append(("parallel.png", "Real kernel (TCG guest, 2 vCPUs): time against the number of devices, the hook with parallel = no and yes, and the bare kernel work one after another and in parallel"))
    if LAT_D:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, op in zip(axes, ("prepare", "release")):
            for impl, col, lab in (("sequential", "tab:red", "parallel = no"), ("parallel", "tab:blue", "parallel = yes")):
                ds = [d for d in LAT_D if lat(impl, op, d)]
                ax.plot(ds, [lat(impl, op, d) / 1000 for d in ds], marker="o", color=col, label=lab)
            ax.set_xticks(LAT_D)
            ax.set_xlabel("hostdevs, each in its own IOMMU group")
            ax.set_title("hook: %s, %s ms a bounded write" % (op, M.get("lat_ms", "?")))
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("ms (median)")
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(a.doc, "latency.png"), dpi=90)
        plt.close(fig)
        plots.append(("latency.png", "Modelled hardware latency (fake kernel, %s ms an unbind, probe or reset): prepare and release time against the number of devices, one after the other and at once" % M.get("lat_ms", "?")))

# ------------------------------------------------------------------ report
L = []
P = L.append
P("# vfio-hooks benchmarks")
P("")
P("Generated by `make bench` (`bench/run.sh`%s) on %s; commit `%s`. Do not edit: run it again." % (
    ", QUICK=1: few repetitions, a smoke run" if M.get("quick") == "1" else "", M.get("date", "?"), M.get("commit", "?")))
P("")
P("**Machine:** %s CPU%s, %s; `%s`; %s MB RAM. Load average %s at the start, %s at the end (the timings are only as quiet as the machine). Whole run: %s s." % (
    M.get("nproc", "?"), "s" if M.get("nproc") != "1" else "", M.get("cpu", "?"), M.get("kernel", "?"),
    M.get("mem_mb", "?"), M.get("load_start", "?"), M.get("load_end", "?"), M.get("seconds", "?")))
P("")
P("Toolchain: %s; libxml2 %s; bash %s; xmllint %s." % (M.get("cc", "?"), M.get("libxml2", "?"), M.get("bash", "?"), M.get("xmllint", "?")))
P("")
if a.fails != "0":
    P("> **Some runs of this benchmark failed** (an unexpected exit status or state left behind); see the output of `make bench`.")
    P("")
P("## Targets")
P("")
P("Ratios are taken between medians measured side by side in one run (the floor, the hook and the baseline interleaved in the same cycles).")
P("")
P("| target | wanted | measured | verdict |")
P("| --- | --- | --- | --- |")
for name, want, got, ok in targets:
    P("| %s | %s | %s | %s |" % (name, want, got, verdict(ok)))
P("")
if FLOOR:
    P("The floor (a C program that only returns 0, `bench/true.c`, run the same way in every cycle): median **%s ms** (p10–p90 %s–%s ms, %d runs, peak RSS %d KiB)." % (
        ms(FLOOR["median_us"]), ms(FLOOR["p10_us"]), ms(FLOOR["p90_us"]), FLOOR["runs"], FLOOR["maxrss_kb"]))
P("")
# What bounds the misses: the arithmetic from this run's own rows.
bounds = []
wr0, di0 = get("wrapper", "wrapper", "exec", 0, 0), get("wrapper", "direct", "exec", 0, 0)
sh0 = get("wrapper", "shim", "exec", 0, 0)
if wr0 and di0 and sh0:
    bounds.append("The wrapper: any wrapper that is a program adds an exec of itself. The least one, a static program that only execs its arguments (`bench/exec.c`), adds %s ms: %s a direct exec (%s ms), measured in the same cycles. Ours adds %s ms (%s)." % (
        ms(sh0["median_us"] - di0["median_us"]), x(sh0["median_us"] / di0["median_us"]), ms(di0["median_us"]),
        ms(wr0["median_us"] - di0["median_us"]), x(wr0["median_us"] / di0["median_us"])))
if NOOP and max(qs_.values()) > 1.1:
    bounds.append("Nothing to do: the worst case is `%s` of a domain with %d hostdevs, whose XML the hook reads whole from its pipe (as libvirt gives it, to learn that there is nothing to do), where the floor reads nothing (its stdin is /dev/null); the cases with no hostdev are %s–%s." % (
        wk[0], wk[2], x(min(v for k, v in qs_.items() if k[2] == 0)), x(max(v for k, v in qs_.items() if k[2] == 0))))
if NDEV and max(NDEV) >= 4 and gq("bare-par", 4) and not (gq("hook-par", 4) and gq("hook-par", 4) <= 1.5):
    bounds.append("Parallel preparation in the TCG guest: the guest's kernel work is emulated CPU work on 2 vCPUs (the host has 2 cores), so the bare writes themselves, one thread per device, take %s for 4 devices what they take for 1 (the floor of any hook in this guest); the hook with `parallel = yes` %s, with `parallel = no` %s. Where the kernel waits for the devices instead (real hardware: resets, a driver's unbind), the modelled-latency section below shows what parallel work does: %s for %d devices, %s one after the other." % (
        x(gq("bare-par", 4)), x(gq("hook-par", 4)) if gq("hook-par", 4) else "–", x(gq("hook-seq", 4)) if gq("hook-seq", 4) else "–",
        x((lat("parallel", "prepare", max(LAT_D)) + lat("parallel", "release", max(LAT_D))) / (lat("parallel", "prepare", 1) + lat("parallel", "release", 1))) if LAT_D and lat("parallel", "prepare", 1) else "–",
        max(LAT_D) if LAT_D else 0,
        x((lat("sequential", "prepare", max(LAT_D)) + lat("sequential", "release", max(LAT_D))) / (lat("sequential", "prepare", 1) + lat("sequential", "release", 1))) if LAT_D and lat("sequential", "prepare", 1) else "–"))
if bounds:
    P("### What the misses are made of")
    P("")
    for b_ in bounds:
        P("- " + b_)
    P("")

if LAT_D:
    P("## Modelled hardware latency")
    P("")
    P("On real hardware a device's unbind, probe and reset wait for the device (an FLR 100 ms, a D3hot cycle 20 ms, a GPU driver's unbind up to seconds), time in which the CPU is free; under TCG the guest's kernel work is emulated CPU work instead, which two vCPUs bound (the parallel target above). Here the fake kernel's bounded writes (unbind, drivers_probe, reset) take %s ms each (`FAKEKERNEL_DELAY_MS`, outside its lock), on the 64-function host, for 1 to %d hostdevs each in its own IOMMU group. Median ms, then × the same with 1 device." % (M.get("lat_ms", "?"), max(LAT_D)))
    P("")
    P("| hostdevs | prepare, parallel = no | prepare, parallel = yes | release, parallel = no | release, parallel = yes |")
    P("| ---: | ---: | ---: | ---: | ---: |")
    for d in LAT_D:
        cells = []
        for op in ("prepare", "release"):
            for impl in ("sequential", "parallel"):
                v, v1 = lat(impl, op, d), lat(impl, op, LAT_D[0])
                cells.append("%s (%s)" % (ms(v), x(v / v1)) if v and v1 else "–")
        P("| %d | %s |" % (d, " | ".join(cells)))
    P("")

P("## Method")
P("")
P("- `bench/runner.c` runs each process as libvirt runs a hook: `fork`, `execve`, the domain XML written to a pipe on its standard input, `wait4`; the time is from before `fork` to after `wait4` (CLOCK_MONOTONIC), peak memory is `ru_maxrss` from `wait4`. A clean environment (`env -i`), stdout to /dev/null.")
P("- One plan holds every case, and each *cycle* of it runs, for every host size and hostdev count, a VM's life: `prepare begin`, `start begin`, `started begin`, `stopped end`, `release end` of the hook, then `vfio-hooks check FILE`, then the same five of the shell baseline and its check; and the floor once. So every number of the report was measured interleaved with every other: drift and the load of the machine hit them alike. The expensive cases run only in every *k*-th cycle (the baseline with many hostdevs in every 16th); the number of runs is in the tables. Warm-up cycles are not recorded. Reported: the median and the 10th–90th percentiles.")
P("- The hook is the program libvirt runs (`build/qemu-hook`, one program linking the C library alone, that returns at once when the VM has nothing for vfio-hooks and loads the system's libxml2 only when it parses the domain), here built with the fake kernel, `build/tests/qemu-hook-fk` (`tests/fakekernel.h`), so `prepare` really binds the devices to vfio-pci (driver_override, unbind, drivers_probe, driver links, /dev/vfio/N) and `release` really gives them back, on a fake sysroot (`tests/fakesys.h`, `build/tests/mkfakesys`) on tmpfs. The fake kernel adds bookkeeping to every write (a log line and a lookup of injected faults), so these writes cost more than the baseline's plain file writes.")
P("- Hosts: 64, 1,024 and 4,096 PCI functions, each an e1000e NIC (8086:10d3, class 0x020000) with MSI-X in its own IOMMU group. Domains: q35 with an Intel vIOMMU (intremap, caching_mode), a split I/O APIC, a disk, a network interface and 0, 1, 16, 64 or 256 `managed='no'` hostdevs (the first NICs of the host). Every check passes, every prepare binds.")
P("- The baseline (`bench/baseline/`) is the same job in bash: a dispatcher hook that execs `prepare.sh`, `start.sh`, `release.sh`; one `xmllint --xpath` for the domain, the same sysfs attributes read (IDs, class, driver, driver_override, IOMMU group, reset_method, reset, config space through `od`, SR-IOV) and written (reset_method, driver_override, unbind, drivers_probe, reset on release), a synced journal, a lock, one `logger` per run. It is written to be fast (builtins for reads, `cd -P` instead of `readlink`), knows the profiles as a table instead of parsing them, and on the fake sysroot (no kernel behind it) takes the driver a real kernel would show where a decision depends on it (`BL_FAKE=1`): the same reads and writes as the hook (checked with strace and the fake kernel's log: per device, prepare writes driver_override, unbind, drivers_probe; release writes reset, driver_override, unbind, drivers_probe), plus two reads per device in release to find the profile.")
P("- Nothing here writes to this machine's `/sys`: the sysroots are directories under a temporary directory, and the real (non-fake-kernel) hook runs only in the guest.")
P("")
for fn, title in plots:
    P("![%s](%s)" % (title, fn))
    P("")
    P("*%s.*" % title)
    P("")

P("## The hook and `vfio-hooks check`, per host size")
P("")
P("Each cell: median ms (p10–p90), then the multiple of the floor (measured in the same cycles).")
P("")
for h in SIZES:
    P("### %s PCI functions" % format(h, ","))
    P("")
    P("| hostdevs | " + " | ".join(OPS + ["check"]) + " | runs | peak RSS KiB |")
    P("| ---: | " + " | ".join(["---:"] * (len(OPS) + 1)) + " | ---: | ---: |")
    for d in HOSTDEVS:
        if not ours("prepare", h, d):
            continue
        fl = floor(h, d)
        cells = []
        for op in OPS + ["check"]:
            r = ours(op, h, d)
            cells.append("%s (%s–%s) %s" % (ms(r["median_us"]), ms(r["p10_us"]), ms(r["p90_us"]), x(r["median_us"] / fl)) if r else "–")
        rs = max(ours(op, h, d)["maxrss_kb"] for op in OPS)
        P("| %d | %s | %d | %d |" % (d, " | ".join(cells), ours("prepare", h, d)["runs"], rs))
    P("")

P("### Growth with the number of hostdevs")
P("")
P("A least-squares line per operation and host size through all hostdev counts (`t = a + b·hostdevs`), the slope through 0–64 hostdevs, and the cost per added hostdev between 64 and 256.")
P("")
P("| operation | host functions | a (ms) | b (µs per hostdev) | R² | µs/hostdev, 0–64 | µs/hostdev, 64→256 |")
P("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for (op, h), (a0, b, r2, m1, m2) in sorted(fits.items(), key=lambda kv: ((WORK_OPS + ["check"]).index(kv[0][0]), kv[0][1])):
    P("| %s | %d | %s | %.0f | %.3f | %s | %s |" % (op, h, ms(a0), b, r2, "%.0f" % m1 if m1 is not None else "–", "%.0f" % m2 if m2 is not None else "–"))
P("")
P("Host size: slowest/fastest median across the host sizes, per operation and hostdev count:")
P("")
P("| operation | " + " | ".join("%d hostdevs" % d for d in HOSTDEVS if d) + " |")
P("| --- | " + " | ".join(["---:"] * len([d for d in HOSTDEVS if d])) + " |")
for op in WORK_OPS + ["check"]:
    P("| %s | %s |" % (op, " | ".join("%.2f" % host_ratios[(op, d)] if (op, d) in host_ratios else "–" for d in HOSTDEVS if d)))
P("")

if FK:
    P("## The fake kernel's own share")
    P("")
    P("The fake kernel (`tests/fakekernel.c`) models what Linux does on each write (driver links, `/dev/vfio`, a log line, a lookup of injected faults); it runs inside the hook's process and its time is part of every number above. Measured in the same runs (`FAKEKERNEL_TIME_LOG`), median ms per run on the 4,096-function host; the shell baseline writes plain files and pays none of it. The verdicts above use the totals.")
    P("")
    P("| hostdevs | prepare: total / model / hook's own | start: total / model / hook's own | release: total / model / hook's own |")
    P("| ---: | ---: | ---: | ---: |")
    hmax = max(SIZES) if SIZES else 0
    for d in HOSTDEVS:
        if d == 0 or not ours("prepare", hmax, d):
            continue
        cells = []
        for op in WORK_OPS:
            r = ours(op, hmax, d)
            cells.append("%s / %s / %s" % (ms(r["median_us"]), ms(model(op, hmax, d)), ms(net(op, hmax, d))) if r else "–")
        P("| %d | %s |" % (d, " | ".join(cells)))
    P("")

P("## Against the shell baseline")
P("")
P("Median ms of the baseline, and how many times slower it is than vfio-hooks (baseline ÷ vfio-hooks; below 1× the baseline is faster).")
P("")
for h in SIZES:
    P("### %s PCI functions" % format(h, ","))
    P("")
    P("| hostdevs | " + " | ".join(OPS + ["check"]) + " | baseline runs |")
    P("| ---: | " + " | ".join(["---:"] * (len(OPS) + 1)) + " | ---: |")
    for d in HOSTDEVS:
        if not base("prepare", h, d):
            continue
        cells = []
        for op in OPS + ["check"]:
            r = base(op, h, d)
            cells.append("%s ms, %s" % (ms(r["median_us"]), x(speed.get((op, h, d)))) if r else "–")
        P("| %d | %s | %d |" % (d, " | ".join(cells), base("prepare", h, d)["runs"]))
    P("")

st = {k[2]: R[k] for k in R if k[0] == "startup"}
if st:
    P("## What starting costs")
    P("")
    P("| process | median ms | p10–p90 ms | × floor | peak RSS KiB |")
    P("| --- | ---: | ---: | ---: | ---: |")
    f0 = st.get("true", {}).get("median_us")
    desc = {
        "true": "the floor: `int main(void){return 0;}`",
        "true-static": "the same, linked statically (as the hook was before: see Linking)",
        "true+libxml2.so": "the same, linked with the shared libxml2 and using none of it",
        "hook-started": "the hook, `started` (nothing to do), fake-kernel build",
        "hook-real-started": "the hook, `started`, the installed build (`build/qemu-hook`)",
        "bash-started": "the shell baseline's dispatcher, `started`",
        "cli-version": "`vfio-hooks --version`",
        "migrate-1-profiles": "the hook validating 1 hostdev (`migrate`), with the shipped profiles",
        "migrate-1-noprofiles": "the hook validating 1 hostdev (`migrate`), with an empty profile directory",
        "migrate-1-libvirt": "the same hostdev in a domain as libvirt passes it (`bench/libvirt-domain.xml`, 236 lines), shipped profiles",
    }
    for k in ["true", "true-static", "true+libxml2.so", "hook-started", "hook-real-started", "bash-started", "cli-version", "migrate-1-noprofiles", "migrate-1-profiles", "migrate-1-libvirt"]:  # noqa: E501
        if k in st:
            r = st[k]
            P("| %s | %s | %s–%s | %s | %d |" % (desc.get(k, k), ms(r["median_us"]), ms(r["p10_us"]), ms(r["p90_us"]), x(r["median_us"] / f0) if f0 else "–", r["maxrss_kb"]))
    P("")
    if "hook-started" in st and "true+libxml2.so" in st and f0:
        P("The hook's shared libraries, on this machine: %s (%s KiB); libxml2's, were it shared: %s." % (
            M.get("hook_libs", "?").strip(), M.get("hook_kib", "?"), M.get("xml_libs", "?").strip()))
        P("")
        P("Where the time of a small case goes, from the rows above (differences of medians):")
        P("")
        P("- loading libxml2 as a shared library (the dynamic loader, libxml2 with ICU and the C++ runtime): **%s ms** a run (`true+libxml2.so` − floor). The hook does not pay it where it parses nothing: it links the C library alone and loads the system's libxml2 (`lib/xmlapi.c`) only to parse a domain; its no-op costs %s ms against the floor (%s ms for a static program that does nothing)." % (
            ms(st["true+libxml2.so"]["median_us"] - f0), ms(st["hook-started"]["median_us"] - f0),
            ms(st["true-static"]["median_us"] - f0) if "true-static" in st else "?"))
        if "migrate-1-profiles" in st and "migrate-1-noprofiles" in st:
            P("- reading the 5 shipped profiles (parsed; their schema validation is skipped while `profiles.validated` in the state directory says they have not changed): **%s ms** per `prepare`/`start`/`migrate` with a hostdev." % ms(st["migrate-1-profiles"]["median_us"] - st["migrate-1-noprofiles"]["median_us"]))
        if "migrate-1-profiles" in st and "migrate-1-libvirt" in st:
            P("- the rest of a domain XML as libvirt passes it (disks, controllers, consoles, channels, graphics, seclabels: 236 lines against 18): **%s ms** a run; of it only the elements the checks read are built (`vh_domain_elements` in `lib/domain.c`), the others parsed and dropped." % ms(st["migrate-1-libvirt"]["median_us"] - st["migrate-1-profiles"]["median_us"]))
        P("- udev's hardware database: the hook never opens it (device names in its messages come from the profiles; `vfio-hooks check` adds the database's).")
        P("")

# Linking: the programs of now against the static build of before
# (bench/run.sh builds it once; without it, that column is empty).
lk = {(k[1], k[2]): R[k] for k in R if k[0] == "link"}
if lk:
    P("## Linking: dynamic, libxml2 loaded on demand, against the static build of before")
    P("")
    P("Every program is now an ordinary dynamically linked PIE that links the C library alone; libxml2 is loaded from the system (`dlopen(\"libxml2.so.2\")`, `lib/xmlapi.c`) when XML must be parsed, so Debian's security updates of libxml2 reach the programs. Before (commit 202744f, plain `make`), the hook, the wrapper's checker and the CLI carried Debian's `libxml2.a` inside, as static PIEs (the CLI with a dynamically linked twin for libvirt and libudev). Both measured in the same cycles, the build of before from `build/bench/old-202744f` (`git archive 202744f`, `make all build/tests/qemu-hook-fk`, done by `bench/run.sh` once); `ONLY=link bench/run.sh` measures just this.")
    P("")
    P("| process | static, before ms | now ms | now − before ms |")
    P("| --- | ---: | ---: | ---: |")
    ldesc = [
        ("hook-no-passthrough", "the hook, `prepare` of a VM without a PCI hostdev (`build/qemu-hook`; never parses)"),
        ("hook-migrate-1", "the hook validating 1 hostdev (`migrate`: prepare's checks, fake sysroot, fake-kernel build; loads libxml2)"),
        ("wrapper-plain", "`vfio-qemu-wrapper TARGET -m 1G` (no vfio device: straight to exec)"),
        ("wrapper-vfio-1", "`vfio-qemu-wrapper TARGET … -device vfio-pci,host=…` (1 device, checked; before: the front end exec'd the checker)"),
        ("check-file", "`vfio-hooks --root … check FILE` (1 hostdev)"),
    ]
    for op, d in ldesc:
        new, old = lk.get(("new", op)), lk.get(("old", op))
        om = old["median_us"] if old else None
        if new:
            P("| %s | %s | %s (%s–%s) | %s |" % (d, ms(om) if om else "–", ms(new["median_us"]), ms(new["p10_us"]), ms(new["p90_us"]),
                                             ("%+.2f" % ((new["median_us"] - om) / 1000.0)) if om else "–"))
    tl, tx = lk.get(("floor", "true")), lk.get(("floor", "true+libxml2.so"))
    if tl and tx:
        P("| for reference: a program that does nothing | | %s | |" % ms(tl["median_us"]))
        P("| for reference: the same linked with `-lxml2` (what a DT_NEEDED libxml2 would add to every start, ICU and the C++ runtime with it) | | %s | %+.2f |" % (ms(tx["median_us"]), (tx["median_us"] - tl["median_us"]) / 1000.0))
    P("")
    if not any(k[0] == "old" for k in lk):
        P("The build of before could not be made in this run (no git, or no commit 202744f): `git archive 202744f | tar -x -C build/bench/old-202744f/src && make -C build/bench/old-202744f/src all build/tests/qemu-hook-fk`, then `ONLY=link bench/run.sh`.")
        P("")

P("## vfio-qemu-wrapper")
P("")
P("| command line | direct ms | through the wrapper ms | ratio | added ms |")
P("| --- | ---: | ---: | ---: | ---: |")
for nd, label in ((0, "`TARGET -m 1G` (no vfio device: passed through)"), (64, "`TARGET -machine q35,… -device intel-iommu,… ` + 64 × `-device vfio-pci,host=…` (all on vfio-pci on the fake root: the check passes)")):
    wr, di = get("wrapper", "wrapper", "exec", nd, nd), get("wrapper", "direct", "exec", nd, nd)
    if wr and di:
        P("| %s | %s (%s–%s) | %s (%s–%s) | %s | %s |" % (label, ms(di["median_us"]), ms(di["p10_us"]), ms(di["p90_us"]),
                                                       ms(wr["median_us"]), ms(wr["p10_us"]), ms(wr["p90_us"]),
                                                       x(wr["median_us"] / di["median_us"]), ms(wr["median_us"] - di["median_us"])))
sh0, di0 = get("wrapper", "shim", "exec", 0, 0), get("wrapper", "direct", "exec", 0, 0)
if sh0 and di0:
    P("| `bench/exec TARGET -m 1G`: a static program that only execs its arguments, the least a wrapper can be | %s (%s–%s) | %s (%s–%s) | %s | %s |" % (
        ms(di0["median_us"]), ms(di0["p10_us"]), ms(di0["p90_us"]), ms(sh0["median_us"]), ms(sh0["p10_us"]), ms(sh0["p90_us"]),
        x(sh0["median_us"] / di0["median_us"]), ms(sh0["median_us"] - di0["median_us"])))
P("")

P("## In a real kernel (guest)")
P("")
if G:
    P("`tests/e2e/guest.sh` boots a Debian kernel under QEMU (TCG, no KVM: everything is slow, the ratios are what matters) with an emulated Intel IOMMU; `bench/guest/run` times, in one boot, the real hook (`build/qemu-hook`) binding the e1000e at 0000:01:00.0 to the real vfio-pci and giving it back, against the bare sysfs writes that do the same, from C (`bench/guest/timer.c`: driver_override, unbind, drivers_probe, and back), and as busybox `echo` builtins.")
    P("")
    P("| what | prepare ms | release ms | cycle ms | cycle × bare |")
    P("| --- | ---: | ---: | ---: | ---: |")
    bare = G.get(("bare", "cycle"), {}).get("median")
    for lab, d in (("bare", "bare writes (C)"), ("bare+reset", "bare writes + the reset the hook's release does (C)"), ("hook", "the hook: `prepare begin` + `release end`"),
                   ("hook-nopie", "the same hook linked at a fixed address (not a PIE)")):
        p_, r_, c_ = G.get((lab, "prepare")), G.get((lab, "release")), G.get((lab, "cycle"))
        if c_:
            P("| %s | %s | %s | %s (%s–%s) | %s |" % (d, ms(p_["median"]), ms(r_["median"]), ms(c_["median"]), ms(c_["p10"]), ms(c_["p90"]), x(c_["median"] / bare) if bare else "–"))
    sh = G.get(("sh-bare", "cycle-mean"))
    if sh:
        P("| bare writes as busybox `echo` (mean of %d) | | | %s | %s |" % (sh["n"], ms(sh["median"]), x(sh["median"] / bare) if bare else "–"))
    P("")
    fl, no = G.get(("floor", "run")), G.get(("hook-noop", "run"))
    if fl and no:
        P("In the same guest: the floor (a process that does nothing) %s ms; the hook's `started` (nothing to do) %s ms (%s the floor). %d cycles each." % (
            ms(fl["median"]), ms(no["median"]), x(no["median"] / fl["median"]), G.get(("hook", "cycle"), {}).get("n", 0)))
        nn = G.get(("hook-nopie-noop", "run"))
        if nn:
            P("")
            P("Under TCG a process start is expensive (the floor is a dynamically linked program: its libraries land at new addresses every run, and QEMU translates their code again every run). The hook is a PIE, so that its code gets a random address (it parses XML as root); the same hook at a fixed address starts in %s ms against %s ms here. The difference is TCG's, not the kernel's." % (
                ms(nn["median"]), ms(no["median"])))
    P("")
    if NDEV:
        P("### 1 to 4 devices")
        P("")
        P("The same guest with three more e1000e (`tests/e2e/guest.sh --nics 4`: 02:00.0, 03:00.0, 04:00.0, each behind its own root port and alone in its IOMMU group, reset_method `pm bus`). For K = 1 to 4 of them: the bare kernel work (the writes of `bare writes + the reset` above, from C) for the K devices one after another (all prepared, then all released: `timer bare-seq`) and in parallel (one thread per device: `timer bare-par`), and the hook's `prepare begin` + `release end` of a domain with K `managed='no'` hostdevs (`bench/guest/bench.xml`, `bench2.xml` to `bench4.xml`) with `parallel = no` and `parallel = yes` in its configuration. Each cell: median ms, then × the same with 1 device. %d cycles each." % (
            G.get(("bare-seq-1", "cycle"), {}).get("n", 0)))
        P("")
        P("| what | phase | " + " | ".join("%d device%s" % (k, "s" if k > 1 else "") for k in NDEV) + " |")
        P("| --- | --- | " + " | ".join("---:" for k in NDEV) + " |")
        for ser, lab in (("bare-seq", "bare writes + reset, one after another"), ("bare-par", "bare writes + reset, one thread per device"),
                         ("hook-seq", "the hook, `parallel = no`"), ("hook-par", "the hook, `parallel = yes`")):
            if not gk(ser, 1):
                continue
            for ph, phl in (("prepare", "prepare"), ("release", "release"), ("cycle", "**prepare + release**")):
                P("| %s | %s | " % (lab, phl) + " | ".join("%s (%s)" % (ms(gk(ser, k, ph)), x(gq(ser, k, ph))) if gk(ser, k, ph) else "–" for k in NDEV) + " |")
        P("")
        if gk("hook-seq", 1) and not gk("hook-par", 1):
            P("The hook's parallel series was not run: this hook does not know the key `parallel` (an unknown key fails every prepare); its sequential series ran without the key (sequential is all it does).")
            P("")
    P("")
else:
    P("Not run (`GUEST=0`, not root, or the guest failed).")
    P("")

P("## Through libvirt (level-3 guest)")
P("")
if LV:
    P("`bench/libvirt.sh` boots the level-3 guest (`tests/e2e/guest3.sh --lone-nics 4`: a Debian kernel under TCG with an emulated Intel IOMMU, libvirt 9.0 and QEMU 7.2 of Debian 12, four more e1000e each behind its own root port, so each alone in its IOMMU group) and, in it, `bench/libvirt/run` installs vfio-hooks with `install.sh` (the shipped profiles: none is for the e1000e, so the hook checks the domain and the devices and writes nothing) and times `virsh start` and `virsh destroy` of a q35 domain (Intel vIOMMU with intremap and caching_mode, `<ioapic driver='qemu'/>`, no OS) with 1 and with 4 `managed='yes'` e1000e, each from before the fork of `virsh` to after its exit (CLOCK_MONOTONIC, `bench/guest/timer.c`). Setups: **A** without the hook (its file moved out of `/etc/libvirt/hooks/qemu.d`), **B** with it, **C** with it and `prebind_managed = yes`. Blocks in the order of the CSV's `block` column (A B C C B A: drift hits every setup alike); libvirtd restarted at each block (it looks for hooks only when it starts), one start and destroy of each domain discarded after the restart. After every destroy the devices must be back on e1000e. Under TCG everything is slow, and not alike: the hook runs as five processes in a VM's life (prepare, start, started, stopped, release), and a process start costs far more under TCG than on a KVM host, while QEMU's own start (here a TCG QEMU inside a TCG guest) is slow in its own way; the percentage is this guest's, not a host's.")
    P("")
    P("| setup | devices | runs | start ms | destroy ms | start + destroy ms (p10–p90) | against A |")
    P("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    names = {"A": "A: no hook", "B": "B: the hook", "C": "C: the hook, `prebind_managed = yes`"}
    for n in LV_N:
        ma = median(lv_samples("A", n, None))
        for s_ in "ABC":
            v = lv_samples(s_, n, None)
            if not v:
                continue
            m = median(v)
            P("| %s | %d | %d | %.0f | %.0f | %.0f (%.0f–%.0f) | %s |" % (
                names[s_], n, len(v), median(lv_samples(s_, n, 4)), median(lv_samples(s_, n, 5)), m,
                quantile(v, 0.1), quantile(v, 0.9),
                "–" if s_ == "A" or ma is None else "%+.0f ms (%+.1f %%)" % (m - ma, 100 * (m - ma) / ma)))
    P("")
    if any(r[0] == "C" for r in LV):
        for n in LV_N:
            ma, mc = median(lv_samples("A", n, None)), median(lv_samples("C", n, None))
            if ma and mc:
                va = lv_samples("A", n, None)
                noise = abs(mc - ma) < (quantile(va, 0.9) - quantile(va, 0.1)) / 2
                P("- Pre-binding (C), %d device%s: %s than without the hook (%.0f ms against %.0f ms, %+.1f %%)%s." % (
                    n, "" if n == 1 else "s", "faster" if mc < ma else "not faster", mc, ma, 100 * (mc - ma) / ma,
                    "; within the noise (less than half of A's p10–p90 spread)" if noise else ""))
    else:
        P("- C (`prebind_managed = yes`) was not measured (`build/bench/libvirt.console` says why: a `SKIP C` line when the installed hook refused the key).")
    P("")
else:
    P("Not run (`LIBVIRT=0`, not root, or the guest failed).")
    P("")

P("## Reproduce")
P("")
P("```sh\nmake bench            # builds, then bench/run.sh\nQUICK=1 bench/run.sh  # smoke run\nGUEST=0 bench/run.sh  # without the guest\nLIBVIRT=0 bench/run.sh  # without the libvirt guest\n```")
P("")
P("Raw results: `build/bench/results.csv` (one line per step), `build/bench/raw.csv` (every sample), `build/bench/guest.csv`, `build/bench/libvirt.csv`, `build/bench/machine.txt`.")
P("")

with open(os.path.join(a.doc, "README.md"), "w") as f:
    f.write("\n".join(L))
print("\n".join("%-8s %s: %s" % ("PASS" if ok else "MISS", name, got) for name, want, got, ok in targets))
