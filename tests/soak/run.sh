#!/usr/bin/env bash
# Concurrency soak (not part of make check): SOAK_DOMAINS domains in
# parallel, each SOAK_CYCLES times through prepare, start, started, stopped
# and release, through the hook as libvirt runs it (built with the fake
# kernel), on one fake sysroot whose IOMMU groups the
# domains share: two domains want each device set, so device-busy refusals
# are expected and counted.  Some domains have two to four independent
# devices (units, lib/units.h), prepared and given back by worker threads;
# the kernel's slow writes take SOAK_DELAY_MS (default 1) so that they
# overlap, and the overlaps are counted.  A refused prepare is followed by release, as
# libvirt does.  At the end every device must be on its original driver with
# its original reset_method and driver_override (the whole sysroot
# byte-identical), no journal left, and no sanitizer report (ASan's leak
# check is on).  With a valgrind build (VG_BUILD, default build/vg) a few
# cycles also run under valgrind --track-fds=yes: no fd left open at exit.
#   BUILD=build/asan SOAK_DOMAINS=16 SOAK_CYCLES=100 tests/soak/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build/asan}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
vgbuild=${VG_BUILD:-build/vg}
case "$vgbuild" in /*) ;; *) vgbuild="$top/$vgbuild" ;; esac
NDOM=${SOAK_DOMAINS:-16}
CYCLES=${SOAK_CYCLES:-100}
FRONT="$build/tests/qemu-hook-fk" # the hook, on the fake kernel
MKFS="$build/tests/mkfakesys"
export VFIO_HOOKS_DATADIR=$top/xml
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export FAKEKERNEL_DELAY_MS=${SOAK_DELAY_MS:-1}
unset VFIO_HOOKS_LOG
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Eleven device sets; sets 3 and 5 share IOMMU group 41 (a GPU and its
# audio function), the others are whole groups.  Sets 1, 4 and 7 are of
# several units (2, 3 and 4: the GPU's audio function comes with set 7's
# GPU as its companion) and share devices with others.
SPEC='iommu dmar0
driver vfio-pci
0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 msix=5 pcie reset=pm,bus
0000:02:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=16 msi=1 pcie reset=flr,bus
0000:03:00.0 id=17cb:a100 class=0x120000 driver=qaic group=12 msi=32 pcie
0000:41:00.0 id=10de:2204 class=0x030000 driver=nouveau group=41 msi=1 pcie
0000:41:00.1 id=10de:1aef class=0x040300 driver=snd_hda_intel group=41 msi=1 pcie
0000:05:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=60 msix=5 pcie reset=pm,bus
0000:06:00.0 id=1b21:1242 class=0x0c0330 driver=xhci_hcd group=60 msi=8 msix=8 pcie
0000:07:00.0 id=8086:10d3 class=0x020000 group=70 msix=5 pcie reset=pm,bus
0000:09:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=90 msi=1 pcie reset=flr,bus
0000:0a:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=100 msix=5 pcie reset=pm,bus
0000:0b:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=110 msix=5 pcie reset=pm,bus
0000:0c:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=120 msix=5 pcie reset=pm,bus
0000:0d:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=130 msi=1 pcie reset=flr,bus'
SETS=("01.0" "0a.0 0b.0" "02.0" "41.0" "0c.0 0d.0 02.0" "41.1" "03.0" "01.0 09.0 0a.0 41.0" "07.0" "05.0 06.0" "09.0")

snap() {
	(cd "$1" && {
		find . \( -path ./.fakekernel -o -path ./run \) -prune -o -printf '%p %y %m %l\n' | sort
		find . \( -path ./.fakekernel -o -path ./run \) -prune -o -type f -print0 | sort -z | xargs -0 sha1sum
	})
}

domain() { # N -> XML of domain vmN with device set N % 11
	local n=$1 b
	printf "<domain type='kvm'><name>vm%d</name><uuid>6f1c3a52-8d0e-4b7e-9a55-%012d</uuid>" "$n" "$n"
	printf "<memory unit='MiB'>512</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os>"
	printf "<features><acpi/><ioapic driver='qemu'/></features><devices><iommu model='intel'><driver intremap='on' caching_mode='on'/></iommu>"
	for b in ${SETS[$((n % ${#SETS[@]}))]}; do
		printf "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x%s' slot='0x00' function='0x%s'/></source></hostdev>" "${b%.*}" "${b#*.}"
	done
	printf '</devices></domain>\n'
}

mkdir -p "$T/root"
printf '%s\n' "$SPEC" | "$MKFS" "$T/root" - >/dev/null
printf 'root = %s\ntimeout = 5\nlock_timeout = 120\n' "$T/root" >"$T/conf"
snap "$T/root" >"$T/before"

# One domain's life, CYCLES times; counts go to $T/N.count as
# "prepares refusals failures".
life() {
	local n=$1 c rc op prepares=0 refusals=0 failures=0 late=0
	domain "$n" >"$T/$n.xml"
	hook() { # OP SUBOP
		rc=0
		VFIO_HOOKS_CONF="$T/conf" "$FRONT" "vm$n" "$1" "$2" - <"$T/$n.xml" >"$T/$n.out" 2>"$T/$n.err" || rc=$?
		if [ -s "$T/$n.out" ] || grep -q 'Sanitizer\|runtime error' "$T/$n.err"; then
			failures=$((failures + 1))
			{ echo "vm$n $1: rc=$rc"; cat "$T/$n.out" "$T/$n.err"; } >>"$T/failures"
		fi
	}
	for ((c = 0; c < CYCLES; c++)); do
		hook prepare begin
		if [ "$rc" = 0 ]; then
			prepares=$((prepares + 1))
			for op in "start begin" "started begin" "stopped end"; do
				# shellcheck disable=SC2086
				hook $op
				if [ "$rc" != 0 ] && [ "$op" = "start begin" ] &&
					grep -q 'not on a vfio driver, as QEMU is about to open it' "$T/$n.err"; then
					# The race prepare closed by checking again under
					# the state lock (lib/engine.h, recheck): a group
					# member given back by another domain between the
					# check and the lock.  Counted apart, and a failure.
					late=$((late + 1))
					{ echo "vm$n late refusal at start:"; cat "$T/$n.err"; } >>"$T/late"
					break
				elif [ "$rc" != 0 ]; then
					failures=$((failures + 1))
					{ echo "vm$n $op: rc=$rc"; cat "$T/$n.err"; } >>"$T/failures"
				fi
			done
		elif grep -q '\[device-busy\]' "$T/$n.err"; then
			refusals=$((refusals + 1))
		else
			failures=$((failures + 1))
			{ echo "vm$n prepare: rc=$rc"; cat "$T/$n.err"; } >>"$T/failures"
		fi
		hook release end
		if [ "$rc" != 0 ]; then
			failures=$((failures + 1))
			{ echo "vm$n release: rc=$rc"; cat "$T/$n.err"; } >>"$T/failures"
		fi
	done
	echo "$prepares $refusals $failures $late" >"$T/$n.count"
}

start=$SECONDS
for ((n = 0; n < NDOM; n++)); do life "$n" & done
wait
prepares=0 refusals=0 failures=0 late=0
for ((n = 0; n < NDOM; n++)); do
	read -r p r f l <"$T/$n.count"
	prepares=$((prepares + p)) refusals=$((refusals + r)) failures=$((failures + f)) late=$((late + l))
done

# Leftovers: every difference from the pristine sysroot (a device on the
# wrong driver, a changed reset_method or driver_override), every journal.
snap "$T/root" >"$T/after"
leftovers=$(diff "$T/before" "$T/after" | grep -c '^>' || true)
journals=$(find "$T/root/run/vfio-hooks" -name '*.journal' 2>/dev/null | wc -l)
leftovers=$((leftovers + journals))
if [ "$leftovers" != 0 ]; then
	echo "soak: leftovers:"
	diff "$T/before" "$T/after" | sed 's/^/    /' | head -20 || true
	find "$T/root/run/vfio-hooks" -name '*.journal' | sed 's/^/    /'
fi

# Writes of two devices in the kernel at once (worker threads of a
# domain of several units).
overlaps=$(grep -c '^overlap ' "$T/root/.fakekernel/log" || true)

# File descriptors: one domain's cycle under valgrind --track-fds=yes, on
# the valgrind build; every fd but 0, 1 and 2 must be closed at exit.
fdleaks=-
if [ -x "$vgbuild/tests/qemu-hook-fk" ] && command -v valgrind >/dev/null; then
	fdleaks=0
	domain 0 >"$T/vg.xml"
	for op in "prepare begin" "start begin" "started begin" "stopped end" "release end"; do
		# shellcheck disable=SC2086
		VFIO_HOOKS_CONF="$T/conf" valgrind -q --track-fds=yes --log-file="$T/vg.log" \
			"$vgbuild/tests/qemu-hook-fk" vm0 $op - <"$T/vg.xml" >/dev/null 2>&1 || true
		# what the program opened itself and left open (the standard
		# streams and what the shell passed down excluded)
		open=$(awk '/Open file descriptor [0-9]+:/ { getline; if ($0 !~ /inherited from parent/) n++ } END { print n + 0 }' "$T/vg.log")
		if [ "$open" -gt 0 ]; then
			fdleaks=$((fdleaks + open))
			{ echo "fds open at exit of $op:"; cat "$T/vg.log"; } >>"$T/failures"
		fi
	done
fi

if [ -s "$T/late" ]; then head -4 "$T/late"; fi
if [ -s "$T/failures" ]; then head -40 "$T/failures"; fi
echo "soak: $NDOM domains x $CYCLES cycles in $((SECONDS - start)) s, $prepares prepares, $refusals refusals, $late late refusals, $leftovers leftovers, $failures failures, $overlaps overlapping writes, ${fdleaks} fd leaks"
# More than one domain, slow writes: the multi-unit sets run, their
# writes overlap (without a delay the fake kernel logs no overlap).
if [ "$NDOM" -ge 2 ] && [ "${SOAK_DELAY_MS:-1}" != 0 ] && [ "$overlaps" = 0 ]; then
	echo "soak: no overlapping writes: the worker threads did not run"
	exit 1
fi
[ "$leftovers" = 0 ] && [ "$failures" = 0 ] && [ "$late" = 0 ] && { [ "$fdleaks" = 0 ] || [ "$fdleaks" = - ]; } && [ "$prepares" -gt 0 ]
