#!/usr/bin/env bash
# bench/run.sh: the benchmark suite (`make bench`; not part of `make check`).
#
#   bench/run.sh            full run (~5-7 minutes on 2 cores, plus ~15 for
#                           the libvirt guest)
#   QUICK=1 bench/run.sh    smoke run (few repetitions, ~2 minutes; no libvirt stage unless LIBVIRT=1)
#   GUEST=0 bench/run.sh    without the real-kernel guest (saves 1-3 minutes)
#   LIBVIRT=0 bench/run.sh  without the libvirt guest (bench/libvirt.sh)
#   ONLY=link bench/run.sh  only the programs of now against the static
#                           build of before (OLD_COMMIT), printed, no report
#
# Whole-process timings as libvirt sees the hook (fork, exec, XML on stdin,
# wait), on fake sysroots (tests/fakesys.h) with the fake kernel
# (build/tests/qemu-hook-fk), side by side with the floor (a program that
# does nothing) and a shell baseline (bench/baseline/); the same for
# `vfio-hooks check`; the QEMU wrapper's start-up against exec'ing the
# target directly; the start-up of the programs as built now (dynamic,
# libxml2 loaded on demand) against the static build of before (commit
# OLD_COMMIT, built once into build/bench/old-*); peak memory; and, in a
# real kernel under QEMU
# (tests/e2e/guest.sh), the real hook against the bare sysfs writes, for
# one device and for 1 to 4 devices in as many IOMMU groups.
#
# Results: build/bench/*.csv; the report: docs/bench/README.md with PNG
# plots in docs/bench/.  Never writes to this machine's /sys: every sysroot
# is a directory under a temporary directory, the fake-kernel hook is the
# only hook run here, and the real hook runs only inside the guest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
QUICK=${QUICK:-0}
GUEST=${GUEST:-1}
LIBVIRT_SET=$([[ -n ${LIBVIRT:-} ]] && echo 1 || true)
LIBVIRT=${LIBVIRT:-1}
OUT=$top/build/bench
DOC=$top/docs/bench
t_start=$(date +%s)

say() { printf 'bench: [%3ds] %s\n' "$(($(date +%s) - t_start))" "$*" >&2; }
die() { say "$*"; exit 1; }

# ---------------------------------------------------------------- binaries
HOOK_FK=$top/build/tests/qemu-hook-fk
MKFS=$top/build/tests/mkfakesys
CLI=$top/build/vfio-hooks
WRAP=$top/build/vfio-qemu-wrapper
HOOK_REAL=$top/build/qemu-hook
for b in "$HOOK_FK" "$MKFS" "$CLI" "$WRAP" "$HOOK_REAL"; do
	if [[ ! -x $b ]]; then
		say "building (missing ${b#"$top"/})"
		make -C "$top" -s all build/tests/qemu-hook-fk build/tests/mkfakesys >&2
		break
	fi
done
# The sanitizer build lives in build/asan/; build/ must be the plain one.
if nm -D "$HOOK_FK" 2>/dev/null | grep -q __asan_init; then
	die "build/ holds a sanitizer build; run 'make clean all' first"
fi

mkdir -p "$OUT" "$DOC"
CC=${CC:-cc}
"$CC" -O2 -Wall -Wextra -o "$OUT/runner" "$here/runner.c"
"$CC" -O2 -o "$OUT/true" "$here/true.c"
# The program that does nothing, linked statically (as the hook was), and
# linked with the shared libxml2 (what a DT_NEEDED libxml2 would cost every
# start: ICU, the C++ runtime; the programs load it only to parse XML):
# measured beside the hook.
"$CC" -O2 -static -o "$OUT/true-static" "$here/true.c"
# The least a wrapper can be: a static "exec $@".
"$CC" -O2 -static -o "$OUT/exec-static" "$here/exec.c"
"$CC" -O2 -o "$OUT/true-xmllibs" "$here/true.c" -Wl,--no-as-needed \
	$(pkg-config --libs libxml-2.0)
RUNNER=$OUT/runner
TRUE=$OUT/true

# ---------------------------------------------------------------- machine
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "nproc=$(nproc)"
	echo "cpu=${cpu:-unknown}"
	echo "kernel=$(uname -srm)"
	echo "mem_mb=$(awk '/^MemTotal/ {print int($2/1024)}' /proc/meminfo)"
	echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$top" diff --quiet HEAD 2>/dev/null || echo '+changes')"
	echo "quick=$QUICK"
	echo "cc=$("$CC" --version | head -1)"
	echo "libxml2=$(pkg-config --modversion libxml-2.0 2>/dev/null)"
	echo "bash=${BASH_VERSION}"
	echo "xmllint=$(xmllint --version 2>&1 | head -1 | sed 's/.*version //')"
	if ldd "$HOOK_REAL" 2>/dev/null | grep -q '=>'; then
		echo "hook_libs=$(ldd "$HOOK_REAL" | awk '$1 !~ /vdso/ {sub(/.*\//, "", $1); print $1}' | tr '\n' ' ')"
	else
		echo "hook_libs=none (static)"
	fi
	echo "hook_kib=$(($(stat -c %s "$HOOK_REAL") / 1024))"
	echo "xml_libs=$(ldd "$OUT/true-xmllibs" | awk '$1 !~ /vdso/ {sub(/.*\//, "", $1); print $1}' | tr '\n' ' ')"
} >"$OUT/machine.txt"

command -v xmllint >/dev/null || die "xmllint missing (apt-get install libxml2-utils): the baseline needs it"

# ---------------------------------------------------------------- sysroots
# On tmpfs when there is one: sysfs and /run are in memory too, and the
# hook's journal is fdatasync'ed on every device.
if [[ -d /dev/shm && -w /dev/shm ]]; then T=$(mktemp -d /dev/shm/vfio-hooks-bench.XXXXXX)
else T=$(mktemp -d "${TMPDIR:-/tmp}/vfio-hooks-bench.XXXXXX"); fi
trap 'rm -rf "$T"' EXIT
# The binaries under test, copied: a concurrent rebuild of build/ cannot
# change them in the middle of a run.
mkdir -p "$T/bin"
cp "$HOOK_FK" "$HOOK_REAL" "$CLI" "$WRAP" "$T/bin/"
HOOK_FK=$T/bin/qemu-hook-fk HOOK_REAL=$T/bin/qemu-hook CLI=$T/bin/vfio-hooks WRAP=$T/bin/vfio-qemu-wrapper
# The hook as libvirt runs it, one program; here built with the fake
# kernel (the installed build, $HOOK_REAL, would write plain files).
HOOK_UNDER_TEST=$HOOK_FK
SIZES=(64 1024 4096)
HOSTDEVS=(0 1 16 64 256)

# N NICs, 8086:10d3 class 0x020000 on e1000e, each in its own IOMMU group,
# MSI-X; 0000:BB:SS.0 with BB from 01, 32 slots a bus.
spec() { # N DRIVER
	awk -v n="$1" -v drv="$2" 'BEGIN {
		print "iommu dmar0"; print "driver vfio-pci"; print "driver e1000e"
		for (i = 0; i < n; i++)
			printf "0000:%02x:%02x.0 id=8086:10d3 class=0x020000 driver=%s group=%d msix=5 pcie reset=flr,bus\n", 1 + int(i / 32), i % 32, drv, i + 1
	}'
}
# A q35 domain with an Intel vIOMMU (intremap, caching mode), a split I/O
# APIC, a disk and an interface, and D managed='no' PCI hostdevs: the
# first D NICs.
domain() { # D
	awk -v d="$1" 'BEGIN {
		printf "<domain type=\x27kvm\x27>\n  <name>bench-%d</name>\n  <uuid>6f1c3a52-8d0e-4b7e-9a55-%012d</uuid>\n", d, d
		print "  <memory unit=\x27GiB\x27>8</memory>\n  <vcpu placement=\x27static\x27>4</vcpu>"
		print "  <os><type arch=\x27x86_64\x27 machine=\x27pc-q35-7.2\x27>hvm</type><boot dev=\x27hd\x27/></os>"
		print "  <features><acpi/><apic/><ioapic driver=\x27qemu\x27/></features>"
		print "  <cpu mode=\x27host-passthrough\x27/>"
		print "  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>"
		print "    <disk type=\x27file\x27 device=\x27disk\x27><driver name=\x27qemu\x27 type=\x27qcow2\x27/><source file=\x27/var/lib/libvirt/images/bench.qcow2\x27/><target dev=\x27vda\x27 bus=\x27virtio\x27/></disk>"
		print "    <interface type=\x27network\x27><source network=\x27default\x27/><model type=\x27virtio\x27/></interface>"
		print "    <iommu model=\x27intel\x27><driver intremap=\x27on\x27 caching_mode=\x27on\x27/></iommu>"
		for (i = 0; i < d; i++)
			printf "    <hostdev mode=\x27subsystem\x27 type=\x27pci\x27 managed=\x27no\x27>\n      <source><address domain=\x270x0000\x27 bus=\x270x%02x\x27 slot=\x270x%02x\x27 function=\x270x0\x27/></source>\n    </hostdev>\n", 1 + int(i / 32), i % 32
		print "  </devices>\n</domain>"
	}'
}
t0=$(date +%s.%N)
for h in "${SIZES[@]}"; do
	spec "$h" e1000e >"$T/spec$h"
	"$MKFS" "$T/root$h" "$T/spec$h" || die "mkfakesys $h failed"
	printf 'root = %s\n' "$T/root$h" >"$T/conf$h"
done
for d in "${HOSTDEVS[@]}"; do domain "$d" >"$T/dom$d.xml"; done
spec 64 vfio-pci >"$T/specw"
"$MKFS" "$T/rootw" "$T/specw" || die "mkfakesys (wrapper) failed"
: >"$T/wrap.conf"
say "sysroots of ${SIZES[*]} functions built in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}') s under $T"

# The environment of every measured process: a clean one, as libvirt gives
# hooks.  BL_FAKE tells the baseline the sysroot has no kernel behind it.
ENV=(env -i PATH=/usr/bin:/bin LC_ALL=C VFIO_HOOKS_DATADIR="$top/xml" BL_FAKE=1)

# Repetitions.  One plan holds every case, so that all of them are measured
# side by side, interleaved in the same cycles (drift and the load of the
# machine hit them all alike); a cycle runs each case's VM life once, the
# expensive cases only every EVERY-th cycle.
if [[ $QUICK = 1 ]]; then
	CYCLES=4 WARM=1
	declare -A EV_OURS=([0]=1 [1]=1 [16]=1 [64]=2 [256]=4)
	declare -A EV_BASE=([0]=2 [1]=2 [16]=4 [64]=4 [256]=4)
else
	CYCLES=64 WARM=2
	declare -A EV_OURS=([0]=1 [1]=1 [16]=1 [64]=2 [256]=4)
	declare -A EV_BASE=([0]=2 [1]=2 [16]=8 [64]=16 [256]=16)
fi

# The fake kernel's own time in every hook run (tests/fakekernel.c): the
# shell baseline writes plain files, so the report sets the hook's time
# less the model's beside its total.
FKD=$OUT/fk
rm -rf "$FKD"; mkdir -p "$FKD"
CSV=$OUT/results.csv
RAW=$OUT/raw.csv
echo "suite,impl,op,host,hostdevs,runs,median_us,p10_us,p90_us,q1_us,q3_us,min_us,mean_us,max_us,maxrss_kb,fails" >"$CSV"
echo "suite,impl,op,host,hostdevs,cycle,us,rc,maxrss_kb" >"$RAW"
fails=0
ONLY=${ONLY:-}
if [[ $ONLY != link ]]; then
OPS=(prepare:begin start:begin started:begin stopped:end release:end)
plan=$T/plan
{
printf 'floor,true,run,0,0\t0\t1\t-\t%s\n' "$TRUE"
for d in "${HOSTDEVS[@]}"; do
	x=$T/dom$d.xml eo=${EV_OURS[$d]} eb=${EV_BASE[$d]}
	for h in "${SIZES[@]}"; do
		((d <= h)) || continue
		c=VFIO_HOOKS_CONF=$T/conf$h
		for o in "${OPS[@]}"; do
			fkt=FAKEKERNEL_TIME_LOG=$FKD/hook-${o%:*}-$h-$d.log
			printf 'hook,ours,%s,%s,%s\t0\t%s\t%s\t%s\t%s\t%s\tbench-%s\t%s\t%s\t-\n' "${o%:*}" "$h" "$d" "$eo" "$x" "$c" "$fkt" "$HOOK_UNDER_TEST" "$d" "${o%:*}" "${o#*:}"
		done
		printf 'check,ours,check,%s,%s\t0\t%s\t-\t%s\t%s\t--root\t%s\tcheck\t%s\n' "$h" "$d" "$eo" "$c" "$CLI" "$T/root$h" "$x"
		for o in "${OPS[@]}"; do
			e=$eb
			# Stateless and cheap: every cycle.
			[[ ${o%:*} == started || ${o%:*} == stopped ]] && e=$eo
			printf 'hook,baseline,%s,%s,%s\t0\t%s\t%s\t%s\t%s\tbench-%s\t%s\t%s\t-\n' "${o%:*}" "$h" "$d" "$e" "$x" "$c" "$here/baseline/qemu" "$d" "${o%:*}" "${o#*:}"
		done
		printf 'check,baseline,check,%s,%s\t0\t%s\t-\t%s\t%s\t--root\t%s\t%s\n' "$h" "$d" "$eb" "$c" "$here/baseline/check" "$T/root$h" "$x"
	done
done
} >"$plan"
say "hook and check: $CYCLES cycles of every case (hosts of ${SIZES[*]} functions, ${HOSTDEVS[*]} hostdevs)"
"${ENV[@]}" "$RUNNER" -q -p -n "$CYCLES" -w "$WARM" -o "$CSV" -r "$RAW" "$plan" || fails=1
for h in "${SIZES[@]}"; do
	# Every prepare was released: nothing may be left, and the fake
	# kernel did what the hook asked: every device back on e1000e.
	if compgen -G "$T/root$h/run/vfio-hooks/*.journal*" >/dev/null; then
		say "a journal was left in $T/root$h/run/vfio-hooks"; fails=1
	fi
	n=$(find "$T/root$h/sys/bus/pci/drivers/e1000e" -maxdepth 1 -name '0000:*' | wc -l)
	[[ $n = "$h" ]] || { say "host $h: $n of $h devices back on e1000e"; fails=1; }
done
grep -q '^hook,ours,prepare,4096,256,' "$CSV" || fails=1

# ---------------------------------------------------------------- start-up
# What a process costs to start: the floor, the same program static and
# with the shared libxml2, the hook's no-op path and the CLI's --version.
plan=$T/plan-startup
mkdir -p "$T/noprofiles/profiles"
cp "$top/xml/profile.rng" "$T/noprofiles/"
{
	printf 'startup,floor,true,0,0\t0\t1\t-\t%s\n' "$TRUE"
	printf 'startup,floor,true-static,0,0\t0\t1\t-\t%s\n' "$OUT/true-static"
	printf 'startup,floor,true+libxml2.so,0,0\t0\t1\t-\t%s\n' "$OUT/true-xmllibs"
	printf 'startup,ours,hook-started,0,0\t0\t1\t%s\t%s\tbench-0\tstarted\tbegin\t-\n' "$T/dom0.xml" "$HOOK_UNDER_TEST"
	printf 'startup,ours,hook-real-started,0,0\t0\t1\t%s\t%s\tbench-0\tstarted\tbegin\t-\n' "$T/dom0.xml" "$HOOK_REAL"
	printf 'startup,ours,cli-version,0,0\t0\t1\t-\t%s\t--version\n' "$CLI"
	printf 'startup,baseline,bash-started,0,0\t0\t1\t%s\t%s\tbench-0\tstarted\tbegin\t-\n' "$T/dom0.xml" "$here/baseline/qemu"
	# Validation of one hostdev ("migrate": prepare's checks, no change),
	# with the shipped profiles and with none: what loading and
	# schema-validating the profiles costs on every prepare and start.
	printf 'startup,ours,migrate-1-profiles,0,1\t0\t1\t%s\tVFIO_HOOKS_DATADIR=%s\t%s\tbench-1\tmigrate\tbegin\t-\n' "$T/dom1.xml" "$top/xml" "$HOOK_UNDER_TEST"
	printf 'startup,ours,migrate-1-noprofiles,0,1\t0\t1\t%s\tVFIO_HOOKS_DATADIR=%s\t%s\tbench-1\tmigrate\tbegin\t-\n' "$T/dom1.xml" "$T/noprofiles" "$HOOK_UNDER_TEST"
	# The same hostdev in a domain as libvirt passes it to a hook (a
	# virt-install'ed q35 VM: disks, 18 controllers, consoles, channels,
	# graphics, seclabels; 236 lines): what the rest of a real domain
	# XML costs.
	printf 'startup,ours,migrate-1-libvirt,0,1\t0\t1\t%s\tVFIO_HOOKS_DATADIR=%s\t%s\tbench-libvirt\tmigrate\tbegin\t-\n' "$here/libvirt-domain.xml" "$top/xml" "$HOOK_UNDER_TEST"
} >"$plan"
say "start-up costs"
if [[ $QUICK = 1 ]]; then n=5; else n=60; fi
"${ENV[@]}" VFIO_HOOKS_CONF="$T/conf64" "$RUNNER" -q -n "$n" -w 3 -o "$CSV" -r "$RAW" "$plan" || fails=1

# ---------------------------------------------------------------- wrapper
# vfio-qemu-wrapper exec'ing a trivial target, against exec'ing it
# directly: a command line without a vfio device (passed through), and one
# with 64 -device vfio-pci on a fake root where they are all on vfio-pci
# (the check passes, so the wrapper execs the target).
wargs=(-machine q35,accel=kvm,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on)
for ((i = 0; i < 64; i++)); do wargs+=(-device "$(printf 'vfio-pci,host=0000:%02x:%02x.0' $((1 + i / 32)) $((i % 32)))"); done
plan=$T/plan-wrapper
{
	printf 'wrapper,floor,run,0,0\t0\t1\t-\t%s\n' "$TRUE"
	printf 'wrapper,direct,exec,0,0\t0\t1\t-\t%s\t-m\t1G\n' "$TRUE"
	printf 'wrapper,wrapper,exec,0,0\t0\t1\t-\t%s\t%s\t-m\t1G\n' "$WRAP" "$TRUE"
	printf 'wrapper,shim,exec,0,0\t0\t1\t-\t%s\t%s\t-m\t1G\n' "$OUT/exec-static" "$TRUE"
	printf 'wrapper,direct,exec,64,64\t0\t1\t-\t%s' "$TRUE"; printf '\t%s' "${wargs[@]}"; printf '\n'
	printf 'wrapper,wrapper,exec,64,64\t0\t1\t-\t%s\t%s' "$WRAP" "$TRUE"; printf '\t%s' "${wargs[@]}"; printf '\n'
} >"$plan"
say "wrapper"
if [[ $QUICK = 1 ]]; then n=5; else n=60; fi
"${ENV[@]}" VFIO_HOOKS_CONF="$T/wrap.conf" VFIO_HOOKS_ROOT="$T/rootw" "$RUNNER" -q -n "$n" -w 3 -o "$CSV" -r "$RAW" "$plan" || fails=1

# ---------------------------------------------------------------- latency
# The kernel's time as hardware takes it: a device's unbind, probe and
# reset wait for the device (an FLR 100 ms, a D3hot cycle 20 ms, a GPU
# driver's unbind up to seconds), time in which a CPU is free.  The fake
# kernel's bounded writes (unbind, drivers_probe, reset) made to take
# LAT_MS each (FAKEKERNEL_DELAY_MS, outside its lock), prepare and release
# of 1 to 8 hostdevs in as many IOMMU groups, with parallel = no and yes.
LAT_MS=${LAT_MS:-20}
LAT_DEVS=(1 2 4 8)
for d in "${LAT_DEVS[@]}"; do [[ -e $T/dom$d.xml ]] || domain "$d" >"$T/dom$d.xml"; done
for par in no yes; do printf 'root = %s\nparallel = %s\n' "$T/root64" "$par" >"$T/conf-lat-$par"; done
plan=$T/plan-latency
{
	for d in "${LAT_DEVS[@]}"; do
		for par in no yes; do
			impl=$([[ $par = yes ]] && echo parallel || echo sequential)
			for o in prepare:begin release:end; do
				printf 'latency,%s,%s,64,%s\t0\t1\t%s\tVFIO_HOOKS_CONF=%s\tFAKEKERNEL_DELAY_MS=%s\t%s\tbench-%s\t%s\t%s\t-\n' \
					"$impl" "${o%:*}" "$d" "$T/dom$d.xml" "$T/conf-lat-$par" "$LAT_MS" "$HOOK_UNDER_TEST" "$d" "${o%:*}" "${o#*:}"
			done
		done
	done
} >"$plan"
say "modelled hardware latency: ${LAT_MS} ms a bounded write, 1 to 8 hostdevs, parallel = no and yes"
if [[ $QUICK = 1 ]]; then n=3; else n=12; fi
"${ENV[@]}" "$RUNNER" -q -n "$n" -w 1 -o "$CSV" -r "$RAW" "$plan" || fails=1
n=$(find "$T/root64/sys/bus/pci/drivers/e1000e" -maxdepth 1 -name '0000:*' | wc -l)
[[ $n = 64 ]] || { say "latency: $n of 64 devices back on e1000e"; fails=1; }
echo "lat_ms=$LAT_MS" >>"$OUT/machine.txt"

fi # ONLY

# ---------------------------------------------------------------- linking
# The programs as built now (dynamic PIEs linking libc alone, libxml2
# loaded from the system when XML is parsed) against the static build of
# before (libxml2.a inside the hook, the wrapper's checker and the CLI,
# with the CLI's dynamically linked twin): the tree at OLD_COMMIT, built
# once with plain `make` into build/bench/old-OLD_COMMIT (about 25 s; kept
# for later runs).  Without git or that commit, the report keeps the
# figures of before as recorded.
OLD_COMMIT=${OLD_COMMIT:-202744f}
OLD=$OUT/old-$OLD_COMMIT
if [[ ! -x $OLD/src/build/tests/qemu-hook-fk ]] &&
	git -C "$top" rev-parse -q --verify "$OLD_COMMIT^{commit}" >/dev/null 2>&1; then
	say "building the static build of before ($OLD_COMMIT) into ${OLD#"$top"/}"
	rm -rf "$OLD"; mkdir -p "$OLD/src"
	git -C "$top" archive "$OLD_COMMIT" | tar -x -C "$OLD/src"
	make -s -j"$(nproc)" -C "$OLD/src" all build/tests/qemu-hook-fk >"$OLD/build.log" 2>&1 ||
		say "the build of $OLD_COMMIT failed (${OLD#"$top"/}/build.log): linking figures of before as recorded"
fi
plan=$T/plan-link
w1=(-machine q35,accel=kvm,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on -device vfio-pci,host=0000:01:00.0)
link_steps() { # IMPL DIR (a build directory)
	local b=$2
	printf 'link,%s,hook-no-passthrough,0,0\t0\t1\t%s\t%s\tbench-0\tprepare\tbegin\t-\n' "$1" "$T/dom0.xml" "$b/qemu-hook"
	printf 'link,%s,hook-migrate-1,64,1\t0\t1\t%s\tVFIO_HOOKS_CONF=%s\t%s\tbench-1\tmigrate\tbegin\t-\n' "$1" "$T/dom1.xml" "$T/conf64" "$b/tests/qemu-hook-fk"
	printf 'link,%s,wrapper-plain,0,0\t0\t1\t-\t%s\t%s\t-m\t1G\n' "$1" "$b/vfio-qemu-wrapper" "$TRUE"
	printf 'link,%s,wrapper-vfio-1,64,1\t0\t1\t-\t%s\t%s' "$1" "$b/vfio-qemu-wrapper" "$TRUE"; printf '\t%s' "${w1[@]}"; printf '\n'
	printf 'link,%s,check-file,64,1\t*\t1\t-\tVFIO_HOOKS_CONF=%s\t%s\t--root\t%s\tcheck\t%s\n' "$1" "$T/conf64" "$b/vfio-hooks" "$T/root64" "$T/dom1.xml"
}
{
	printf 'link,floor,true,0,0\t0\t1\t-\t%s\n' "$TRUE"
	printf 'link,floor,true+libxml2.so,0,0\t0\t1\t-\t%s\n' "$OUT/true-xmllibs"
	link_steps new "$T/bin/link-new"
	[[ ! -x $OLD/src/build/tests/qemu-hook-fk ]] || link_steps old "$OLD/src/build"
} >"$plan"
# The programs of now, as installed: beside each other (no twin, no
# checker), the fake-kernel hook under tests/.
mkdir -p "$T/bin/link-new/tests"
cp "$HOOK_REAL" "$CLI" "$WRAP" "$T/bin/link-new/"
cp "$HOOK_FK" "$T/bin/link-new/tests/"
say "linking: now against the static build of $OLD_COMMIT"
if [[ $QUICK = 1 ]]; then n=5; else n=60; fi
"${ENV[@]}" VFIO_HOOKS_CONF="$T/wrap.conf" VFIO_HOOKS_ROOT="$T/rootw" "$RUNNER" -q -n "$n" -w 3 -o "$CSV" -r "$RAW" "$plan" || fails=1

if [[ $ONLY = link ]]; then
	grep -E '^(suite|link),' "$CSV" | cut -d, -f1-9
	exit $fails
fi

# ---------------------------------------------------------------- guest
GCSV=$OUT/guest.csv
rm -f "$GCSV"
if [[ $GUEST = 1 ]]; then
	if [[ $EUID -ne 0 ]]; then
		say "guest skipped: tests/e2e/guest.sh needs root"
	else
		say "guest: the real hook in a real kernel (tests/e2e/guest.sh)"
		p=$T/guest
		mkdir -p "$p/bin" "$p/xml"
		cp "$HOOK_REAL" "$p/bin/qemu-hook"
		# The hook is a PIE; under TCG, code at a new address each
		# run is translated again each run.  The same hook at a fixed
		# address, measured beside it, shows that share.
		if make -s -C "$top" BUILD="$OUT/nopie" CFLAGS=-fno-PIE LDFLAGS=-no-pie "$OUT/nopie/qemu-hook" >/dev/null 2>&1; then
			cp "$OUT/nopie/qemu-hook" "$p/bin/qemu-hook-nopie"
		fi
		cp "$TRUE" "$p/bin/true"
		"$CC" -O2 -static -pthread -o "$p/bin/timer" "$here/guest/timer.c" 2>/dev/null ||
			"$CC" -O2 -pthread -o "$p/bin/timer" "$here/guest/timer.c"
		cp -r "$top/xml/profiles" "$top/xml/profile.rng" "$p/xml/"
		cp "$here/guest/run" "$here"/guest/bench*.xml "$p/"
		if [[ $QUICK = 1 ]]; then gn=3; else gn=10; fi
		# no_timer_check: on a loaded host, TCG can be too slow for the
		# kernel's I/O APIC timer check, which then panics at boot.  A
		# harness failure (125) is retried once.  --nics 4: three more
		# e1000e (02:00.0 to 04:00.0, each behind its own root port, in
		# its own IOMMU group) for the series of 1 to 4 devices.
		for try in 1 2; do
			rm -rf "$p.out"
			"$top/tests/e2e/guest.sh" --nics 4 --timeout 900 --append no_timer_check --out "$OUT/guest.log" \
				--payload "$p" --export "$p.out" -- /payload/run "$gn" >"$OUT/guest.console" 2>&1 &&
				rc=0 || rc=$?
			[[ $rc = 125 && $try = 1 ]] || break
			say "guest: harness failure, once more"
		done
		if [[ $rc = 0 ]]; then
			cp "$p.out/guest.csv" "$GCSV"
			if grep -q "does not know the key 'parallel'" "$OUT/guest.console"; then
				say "guest: the hook does not know the key 'parallel': its parallel series was skipped"
			fi
		else
			say "guest run failed (exit $rc); console in $OUT/guest.console"
			grep -E '^(FAIL|guest)' "$OUT/guest.console" >&2 || tail -5 "$OUT/guest.console" >&2
			fails=1
		fi
	fi
fi

# ---------------------------------------------------------------- libvirt
# virsh start + destroy through a real libvirtd in the level-3 guest, with
# 1 and 4 managed='yes' e1000e, without the hook, with it, and with it and
# prebind_managed (bench/libvirt.sh, bench/libvirt/run).
LCSV=$OUT/libvirt.csv
rm -f "$LCSV"
# A smoke run (QUICK=1) leaves it out unless LIBVIRT=1 is given.
if [[ $QUICK = 1 && ${LIBVIRT_SET:-} != 1 ]]; then
	say "libvirt skipped in a smoke run (QUICK=1; LIBVIRT=1 runs it, ~8 min)"
elif [[ $LIBVIRT = 1 ]]; then
	if [[ $EUID -ne 0 ]]; then
		say "libvirt skipped: tests/e2e/guest3.sh needs root"
	else
		if [[ $QUICK = 1 ]]; then ln=1; else ln=5; fi
		say "libvirt: virsh start + destroy in the level-3 guest, $ln rounds a block (~15 min)"
		t_lv=$(date +%s)
		"$here/libvirt.sh" "$LCSV" "$ln" && rc=0 || rc=$?
		echo "libvirt_seconds=$(($(date +%s) - t_lv))" >>"$OUT/machine.txt"
		if [[ $rc != 0 ]]; then
			say "libvirt run failed (exit $rc); console in $OUT/libvirt.console"
			fails=1
		fi
	fi
fi

sed -i "\$a load_end=$(cut -d' ' -f1-3 /proc/loadavg)" "$OUT/machine.txt"
echo "seconds=$(($(date +%s) - t_start))" >>"$OUT/machine.txt"

# ---------------------------------------------------------------- report
# matplotlib for the plots: python3-matplotlib (Debian), installed when
# missing and apt-get is at hand.
PY=""
for c in python3 /usr/bin/python3; do
	if command -v "$c" >/dev/null && "$c" -c 'import matplotlib' 2>/dev/null; then PY=$c; break; fi
done
if [[ -z $PY && $EUID -eq 0 ]] && command -v apt-get >/dev/null; then
	say "installing python3-matplotlib for the plots"
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-matplotlib ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-matplotlib; }; } >/dev/null 2>&1 || true
	/usr/bin/python3 -c 'import matplotlib' 2>/dev/null && PY=/usr/bin/python3
fi
if [[ -z $PY ]]; then
	say "no matplotlib: the report has no plots"
	PY=$(command -v python3 || echo /usr/bin/python3)
fi
"$PY" "$here/report.py" --results "$CSV" --guest "$GCSV" --machine "$OUT/machine.txt" --fk "$FKD" \
	--libvirt "$LCSV" --doc "$DOC" --fails "$fails" || fails=1
say "report: ${DOC#"$top"/}/README.md; results: ${OUT#"$top"/}/*.csv ($(($(date +%s) - t_start)) s)"
[[ $fails = 0 ]] || { say "some runs failed (see above)"; exit 1; }
