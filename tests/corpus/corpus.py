#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libvirt's own test corpus (tests/qemuxmlconfdata) as a test suite.

Every case with a PCI hostdev, a hostdev interface, an <iommu> or an
<ioapic> (and the network-allocated hostdev interfaces libvirt's test
driver plugs) is run through `vfio-hooks check` (the input XML and each of
libvirt's output XMLs), the libvirt hook (prepare, then release, of the
output XML, on the fake kernel) and `vfio-qemu-wrapper --check` (the QEMU
command line libvirt generates for that output), on fake sysroots that hold every
address the corpus names: once as ordinary devices, once as AIC100-like
ones (32 MSI vectors, no MSI-X).  Each fake sysroot carries libvirt's
capabilities probe of the QEMU the case was generated for, as libvirt keeps
it in /var/cache/libvirt/qemu/capabilities.

It asserts, per case and sysroot:
  crash       no exit status beyond 0-2, no sanitizer report;
  refuse      exit 2 (bad input) only where libvirt refuses the XML itself;
  agree       check of libvirt's output XML, the hook's prepare of it and
              the wrapper on libvirt's command line for it: the same
              verdict and error rule ids, and the hook's release leaves
              the fake sysroot as it was;
  filled      check of the input XML and of libvirt's output XML: the same
              verdict and error rule ids (what libvirt fills in changes
              nothing);
  arch        no x86-only rule on a non-x86 guest;
  false       where libvirt accepts the domain: no rule that judges the
              XML as libvirt does (bad-address, device-duplicate), and, for
              ordinary devices, no error but what QEMU itself refuses.

Usage: corpus.py --data DIR --caps DIR --build DIR --top DIR [--keep DIR]
       [--only NAME] [-v]
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

X86_ONLY = {
    "machine-q35",
    "viommu-missing",
    "viommu-intremap",
    "viommu-caching-mode",
    "ioapic-split",
    "viommu-eim",
}
X86 = {"x86_64", "i686"}
# Rules that judge the XML as libvirt does: never where libvirt accepts it.
LIBVIRT_RULES = {"bad-address", "device-duplicate"}
# What QEMU itself refuses of a VFIO device, whatever the device: the only
# errors an ordinary device may get where libvirt accepts the domain.
QEMU_REFUSES = {"viommu-caching-mode", "viommu-order"}
OUT_RE = re.compile(
    r"^(?P<name>.+?)\.(?P<arch>[a-z0-9_]+)-(?P<ver>latest|[0-9]+\.[0-9]+\.[0-9]+)"
    r"(?P<variant>\.[A-Za-z0-9_-]+)?\.(?P<ext>args|xml|err)$"
)
SANITIZER = re.compile(r"ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer")
KINDS = {
    # An ordinary endpoint (a NIC), and an AIC100-like one.
    "ordinary": "id=8086:1521 class=0x020000 driver=vfio-pci msix=8 pcie",
    "aic100": "id=17cb:a100 class=0x120000 driver=vfio-pci msi=32 pcie",
}


def selected(text):
    return (
        re.search(r"<hostdev[^>]*type=['\"]pci['\"]", text)
        or re.search(r"<interface[^>]*type=['\"]hostdev['\"]", text)
        or "<iommu" in text
        or "<ioapic" in text
        or re.search(r"<source[^>]*network=['\"]hostdev", text)
    )


def hexnum(s):
    s = s.strip()
    return int(s, 16) if s.lower().startswith("0x") else int(s, 0)


def xml_addresses(path):
    out = set()
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return out
    for el in root.iter():
        if el.tag not in ("hostdev", "interface"):
            continue
        src = el.find("source")
        a = src.find("address") if src is not None else None
        if a is None or a.get("type", "pci") != "pci":
            continue
        try:
            v = [hexnum(a.get(k, "0")) for k in ("domain", "bus", "slot", "function")]
        except ValueError:
            continue
        if v[0] <= 0xFFFF and v[1] <= 0xFF and v[2] <= 0x1F and v[3] <= 7:
            out.add("%04x:%02x:%02x.%x" % tuple(v))
    return out


def xml_networks(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return []
    out = []
    for el in root.iter("interface"):
        src = el.find("source")
        if el.get("type") == "network" and src is not None and src.get("network"):
            out.append(src.get("network"))
    return out


def tree(root):
    """What the fake kernel shows: every path, link and file content."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".fakekernel", "run")]
        for f in files + dirs:
            p = os.path.join(d, f)
            if os.path.islink(p):
                out.append((p, "l", os.readlink(p)))
            elif os.path.isfile(p):
                with open(p, "rb") as fh:
                    out.append((p, "f", fh.read()))
    return sorted(out)


def args_argv(path):
    """The QEMU argv of a libvirt .args file: env assignments dropped."""
    text = open(path).read().replace("\\\n", " ")
    words = shlex.split(text)
    i = 0
    while i < len(words) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[i]):
        i += 1
    return words[i:]


def args_addresses(argv):
    out = set()
    for w in argv:
        host = None
        if w.startswith("{"):
            try:
                o = json.loads(w)
            except ValueError:
                continue
            if str(o.get("driver", "")).startswith("vfio-pci"):
                host = o.get("host")
        else:
            m = re.search(r"(?:^|,)host=([0-9a-fA-F:.]+)", w)
            if m and "vfio" in w:
                host = m.group(1)
        if not host:
            continue
        p = re.split("[:.]", host)
        if len(p) == 3:
            p = ["0"] + p
        try:
            v = [int(x, 16) for x in p]
        except ValueError:
            continue
        out.add("%04x:%02x:%02x.%x" % tuple(v))
    return out


class Corpus:
    def __init__(self, a):
        self.a = a
        self.tmp = a.keep or tempfile.mkdtemp(prefix="vh-corpus.")
        self.roots = {}
        self.addrs = set()
        # libvirt's test driver plugs a device from these networks: they
        # are <forward mode='hostdev'> pools of what the command line gets.
        self.networks = {}
        self.n_runs = 0
        self.failures = []
        self.counts = {
            "cases": 0,
            "files": 0,
            "runs": 0,
            "refused-by-libvirt": 0,
            "disagreements": 0,
            "crashes": 0,
            "bad-exit-2": 0,
            "x86-rules-on-other-arch": 0,
            "false-refusals": 0,
        }
        self.verdicts = {0: 0, 1: 0, 2: 0}
        env = dict(os.environ)
        env.update(
            VFIO_HOOKS_DATADIR=os.path.join(a.top, "xml"),
            VFIO_HOOKS_CONF="/dev/null",
            ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
            UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
        )
        env.pop("VFIO_HOOKS_ROOT", None)
        self.env = env

    def caps_file(self, arch, ver):
        """libvirt's probe of the QEMU a case was generated for."""
        if ver != "latest":
            f = os.path.join(self.a.caps, "caps_%s_%s.xml" % (ver, arch))
            return f if os.path.exists(f) else None
        best = None
        for f in os.listdir(self.a.caps):
            m = re.match(r"^caps_([0-9]+)\.([0-9]+)\.([0-9]+)_%s\.xml$" % re.escape(arch), f)
            if m:
                v = tuple(int(x) for x in m.groups())
                if not best or v > best[0]:
                    best = (v, f)
        return os.path.join(self.a.caps, best[1]) if best else None

    def root(self, kind, arch, ver):
        key = (kind, arch, ver)
        if key in self.roots:
            return self.roots[key]
        r = os.path.join(self.tmp, "root-%s-%s-%s" % key)
        spec = ["iommu dmar0", "driver vfio-pci"]
        for g, addr in enumerate(sorted(self.addrs)):
            spec.append("%s %s group=%d" % (addr, KINDS[kind], 100 + g))
        subprocess.run(
            [os.path.join(self.a.build, "tests", "mkfakesys"), r, "-"],
            input="\n".join(spec) + "\n",
            text=True,
            check=True,
        )
        netdir = os.path.join(r, "run/libvirt/network")
        os.makedirs(netdir, exist_ok=True)
        for net, addrs in self.networks.items():
            with open(os.path.join(netdir, net + ".xml"), "w") as f:
                f.write("<networkstatus><network><name>%s</name><forward mode='hostdev' managed='yes'>\n" % net)
                for a in sorted(addrs):
                    d, b, sf = a.split(":")
                    sl, fn = sf.split(".")
                    f.write(
                        "<address type='pci' domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/>\n"
                        % (d, b, sl, fn)
                    )
                f.write("</forward></network></networkstatus>\n")
        caps = self.caps_file(arch, ver)
        if caps:
            d = os.path.join(r, "var/cache/libvirt/qemu/capabilities")
            os.makedirs(d, exist_ok=True)
            shutil.copy(caps, os.path.join(d, "corpus-%s-%s.xml" % (arch, ver)))
        self.roots[key] = r
        return r

    def run(self, what, argv, root):
        self.counts["runs"] += 1
        p = subprocess.run(
            argv,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        res = {"what": what, "rc": p.returncode, "errors": set(), "all": set(), "stderr": p.stderr}
        if p.returncode in (0, 1) and p.stdout.strip():
            try:
                rep = json.loads(p.stdout)
                for f in rep.get("findings", []):
                    res["all"].add(f["rule"])
                    if f["severity"] == "error":
                        res["errors"].add(f["rule"])
            except ValueError as e:
                res["rc"] = "bad-json(%s)" % e
        if p.returncode not in (0, 1, 2) or SANITIZER.search(p.stderr) or isinstance(res["rc"], str):
            self.fail("crashes", what, "exit %s\n%s" % (res["rc"], p.stderr[-2000:]))
        elif p.returncode in self.verdicts:
            self.verdicts[p.returncode] += 1
        return res

    def check(self, path, root):
        return self.run(
            "check %s" % os.path.basename(path),
            [os.path.join(self.a.build, "vfio-hooks"), "--root", root, "--json", "check", path],
            root,
        )

    def hook(self, path, root):
        """prepare as libvirt runs it, then release; the refusal's ids."""
        hook = os.path.join(self.a.build, "tests", "qemu-hook-fk")
        conf = os.path.join(self.tmp, "hook-%s.conf" % os.path.basename(root))
        with open(conf, "w") as f:
            f.write("root = %s\ntimeout = 2\n" % root)
        try:
            name = ET.parse(path).getroot().findtext("name") or "corpus"
        except ET.ParseError:
            name = "corpus"
        env = dict(self.env, VFIO_HOOKS_CONF=conf, VFIO_HOOKS_LOG="stderr")
        xml = open(path, "rb").read()
        before = tree(root)
        res = {"what": "hook %s" % os.path.basename(path), "errors": set(), "all": set()}
        self.counts["runs"] += 2
        p = subprocess.run([hook, name, "prepare", "begin", "-"], input=xml, env=env, capture_output=True)
        err = p.stderr.decode(errors="replace")
        res["rc"], res["stderr"] = p.returncode, err
        refused = False
        for line in err.splitlines():
            if "refuses to start domain" in line:
                refused = True
            m = re.match(r"^\s*\[([a-z0-9-]+)\]", line)
            if refused and m:
                res["errors"].add(m.group(1))
        res["all"] = set(res["errors"])
        q = subprocess.run([hook, name, "release", "end", "-"], input=xml, env=env, capture_output=True)
        qerr = q.stderr.decode(errors="replace")
        if p.returncode not in (0, 1) or q.returncode != 0 or SANITIZER.search(err + qerr) or p.stdout or q.stdout:
            self.fail(
                "crashes",
                res["what"],
                "prepare exit %d, release exit %d, stdout %d+%d bytes\n%s%s"
                % (p.returncode, q.returncode, len(p.stdout), len(q.stdout), err[-1500:], qerr[-1500:]),
            )
        elif tree(root) != before:
            self.fail("crashes", res["what"], "prepare then release changed the fake sysroot")
        return res

    def wrapper(self, path, root):
        argv = args_argv(path)
        return self.run(
            "wrapper %s" % os.path.basename(path),
            [os.path.join(self.a.build, "vfio-qemu-wrapper"), "--check", "--root", root, "--json"] + argv,
            root,
        )

    def fail(self, counter, what, detail):
        self.counts[counter] += 1
        self.failures.append("%s: %s: %s" % (counter, what, detail.strip()))

    @staticmethod
    def verdict(res):
        return "exit %s, errors %s" % (res["rc"], ",".join(sorted(res["errors"])) or "none")

    def same(self, a, b):
        return a["rc"] == b["rc"] and a["errors"] == b["errors"]

    def case(self, name, outs):
        data = self.a.data
        inp = os.path.join(data, name + ".xml")
        self.counts["cases"] += 1
        self.counts["files"] += 1 + len(outs)
        variants = {}
        for f, m in outs:
            variants.setdefault((m["arch"], m["ver"], m["variant"] or ""), {})[m["ext"]] = f
        for (arch, ver, variant), files in sorted(variants.items()):
            accepted = "args" in files
            if not accepted:
                self.counts["refused-by-libvirt"] += 1
            for kind in KINDS:
                r = self.root(kind, arch, ver)
                tag = "%s.%s-%s%s [%s]" % (name, arch, ver, variant, kind)
                cin = self.check(inp, r)
                results = [cin]
                if accepted and cin["rc"] == 2:
                    self.fail("bad-exit-2", tag, "check of the input XML exits 2 where libvirt accepts it:\n" + cin["stderr"])
                cout = wrap = hook = None
                if "xml" in files:
                    cout = self.check(os.path.join(data, files["xml"]), r)
                    results.append(cout)
                    if cout["rc"] == 2:
                        self.fail("bad-exit-2", tag, "check of libvirt's output XML exits 2:\n" + cout["stderr"])
                    if accepted:
                        hook = self.hook(os.path.join(data, files["xml"]), r)
                        results.append(hook)
                if accepted:
                    wrap = self.wrapper(os.path.join(data, files["args"]), r)
                    results.append(wrap)
                    if wrap["rc"] == 2:
                        self.fail("bad-exit-2", tag, "the wrapper exits 2 on libvirt's command line:\n" + wrap["stderr"])
                if accepted and cout and wrap and not self.same(cout, wrap):
                    self.fail(
                        "disagreements",
                        tag,
                        "check of the output XML: %s; the wrapper on the command line: %s"
                        % (self.verdict(cout), self.verdict(wrap)),
                    )
                if accepted and cout and hook and not self.same(cout, hook):
                    self.fail(
                        "disagreements",
                        tag,
                        "check of the output XML: %s; the hook's prepare of it: %s\n%s"
                        % (self.verdict(cout), self.verdict(hook), hook["stderr"][-1500:]),
                    )
                if accepted and cout and not self.same(cin, cout):
                    self.fail(
                        "disagreements",
                        tag,
                        "check of the input XML: %s; of libvirt's output XML: %s"
                        % (self.verdict(cin), self.verdict(cout)),
                    )
                if accepted:
                    for res in results:
                        bad = res["errors"] & LIBVIRT_RULES
                        if kind == "ordinary":
                            bad |= res["errors"] - QEMU_REFUSES
                        if bad:
                            self.fail("false-refusals", tag, "%s: %s" % (res["what"], ",".join(sorted(bad))))
                if arch not in X86:
                    for res in results:
                        bad = res["all"] & X86_ONLY
                        if bad:
                            self.fail("x86-rules-on-other-arch", tag, "%s: %s" % (res["what"], ",".join(sorted(bad))))
                if self.a.verbose:
                    print("%-60s %s" % (tag, " | ".join(self.verdict(x) for x in results)))

    def main(self):
        data = self.a.data
        names = {}
        for f in sorted(os.listdir(data)):
            m = OUT_RE.match(f)
            if m:
                names.setdefault(m["name"], []).append((f, m))
        cases = []
        for name, outs in sorted(names.items()):
            inp = os.path.join(data, name + ".xml")
            if not os.path.exists(inp) or (self.a.only and name not in self.a.only):
                continue
            if not selected(open(inp, errors="replace").read()):
                continue
            cases.append((name, outs))
            self.addrs |= xml_addresses(inp)
            named = xml_addresses(inp)
            for f, m in outs:
                p = os.path.join(data, f)
                if m["ext"] == "xml":
                    self.addrs |= xml_addresses(p)
                    named |= xml_addresses(p)
            for f, m in outs:
                if m["ext"] == "args":
                    got = args_addresses(args_argv(os.path.join(data, f)))
                    self.addrs |= got
                    for net in xml_networks(inp):
                        if net.startswith("hostdev") and got - named:
                            self.networks.setdefault(net, set()).update(got - named)
        for name, outs in cases:
            self.case(name, outs)
        c = self.counts
        print(
            "corpus: %d cases, %d files, %d runs (exit 0: %d, 1: %d, 2: %d) on %d fake sysroots of %d devices; "
            "%d variants refused by libvirt"
            % (
                c["cases"],
                c["files"],
                c["runs"],
                self.verdicts[0],
                self.verdicts[1],
                self.verdicts[2],
                len(self.roots),
                len(self.addrs),
                c["refused-by-libvirt"],
            )
        )
        for f in self.failures:
            print("FAIL " + f)
        print(
            "corpus: disagreements %d, false refusals %d, crashes %d, bad exit 2 %d, x86 rules on other guests %d"
            % (
                c["disagreements"],
                c["false-refusals"],
                c["crashes"],
                c["bad-exit-2"],
                c["x86-rules-on-other-arch"],
            )
        )
        if not self.a.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return 1 if self.failures or not c["cases"] else 0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="libvirt's tests/qemuxmlconfdata")
    p.add_argument("--caps", required=True, help="libvirt's tests/qemucapabilitiesdata")
    p.add_argument("--build", required=True, help="the build directory with the programs")
    p.add_argument("--top", required=True, help="the source tree (its xml/ profiles)")
    p.add_argument("--keep", help="build the fake sysroots here and keep them")
    p.add_argument("--only", action="append", help="only this case (repeatable)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(Corpus(parse_args()).main())
