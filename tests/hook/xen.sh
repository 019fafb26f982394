#!/usr/bin/env bash
# The hook as libvirt's libxl (Xen) hook, on the fake kernel's model of
# xen-pciback (no Xen here): prepare hands devices to pciback as
# 'xl pci-assignable-add' does (unbind, new_slot, bind; permissive where the
# profile says), release gives them back exactly; PV guests are refused
# with xen-pv-unsupported; the front end's fast path; and fault and crash
# matrices over every pciback write.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
SUITE=xen
# shellcheck source=tests/hook/lib.sh
. "$here/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# libvirt runs the libxl hook from /etc/libvirt/hooks/libxl.d/.
mkdir -p "$T/hooks/libxl.d" "$T/hooks/qemu.d" "$T/hooks/byname"
ln -s "$HOOK" "$T/hooks/libxl.d/vfio-hooks"
ln -s "$HOOK" "$T/hooks/qemu.d/vfio-hooks"
ln -s "$HOOK" "$T/hooks/byname/libxl"
QEMU_HOOK=$HOOK
HOOK=$T/hooks/libxl.d/vfio-hooks

# A Xen dom0: Xen owns the IOMMU, so Linux shows no IOMMU groups.  An
# AIC100 (its profile: HVM only, permissive), a NIC whose driver_override
# names its own driver, a Hailo-8 (reset_method emptied while assigned).
SPEC='driver pciback
0000:01:00.0 id=17cb:a100 class=0x120000 driver=qaic msi=32 pcie reset=flr
0000:02:00.0 id=1e60:2864 class=0x0b4000 driver=hailo msi=1 pcie reset=flr,bus
0000:05:00.0 id=8086:10d3 class=0x020000 driver=e1000e override=e1000e msix=5 pcie reset=pm,bus'
PCIBACK=sys/bus/pci/drivers/pciback

xvm() { # NAME N OSTYPE BUS... : a Xen domain with unmanaged hostdevs
	local name=$1 n=$2 os=$3 machine=xenfv; shift 3
	[ "$os" = hvm ] || machine=xenpv
	echo "<domain type='xen'><name>$name</name><uuid>$(uuid_of "$n")</uuid><memory unit='MiB'>512</memory>"
	echo "<os><type arch='x86_64' machine='$machine'>$os</type></os><devices>"
	for b in "$@"; do
		echo "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x$b' slot='0x00' function='0x0'/></source></hostdev>"
	done
	echo "</devices></domain>"
}
listed() { grep -qx "$3" "$1/root/$PCIBACK/$2"; } # DIR slots|permissive ADDR
writes() { sed 's/ .*//' "$1/root/.fakekernel/log" | tr '\n' ' '; }

# ---------------------------------------------------------------- prepare
D=$T/x1; fresh "$D"
xvm aic-hvm 1 hvm 01 >"$D/vm.xml"
: >"$D/root/.fakekernel/log"
hook "$D" "$D/vm.xml" prepare
check hvm-prepare-pciback "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:01:00.0)" = pciback ] && listed "$D" slots 0000:01:00.0 &&
	[ "$(writes "$D")" = "unbind new_slot bind permissive " ] && [ ! -s "$D/stdout" ] &&
	grep -q 'pciback=added' "$D/root/run/vfio-hooks/$(uuid_of 1).journal"; echo $?)" \
	"rc=$rc driver=$(driver_of "$D" 0000:01:00.0) writes: $(writes "$D")" "$D/stderr"
check hvm-permissive-written "$(listed "$D" permissive 0000:01:00.0; echo $?)" "permissive: $(cat "$D/root/$PCIBACK/permissive")"
hook "$D" "$D/vm.xml" start begin
check hvm-start-verifies "$([ $rc = 0 ] && [ ! -s "$D/stderr" ]; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/vm.xml" started begin
check started-nothing "$([ $rc = 0 ] && [ ! -s "$D/stderr" ]; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/vm.xml" reconnect begin
check reconnect-quiet "$([ $rc = 0 ] && ! grep -q 'not on' "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/vm.xml" stopped end
check stopped-nothing "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:01:00.0)" = pciback ]; echo $?)" "rc=$rc" "$D/stderr"
: >"$D/root/.fakekernel/log"
hook "$D" "$D/vm.xml" release end
check hvm-release-restores "$([ $rc = 0 ] && pristine "$D" && [ "$(writes "$D")" = "unbind remove_slot bind " ] &&
	[ ! -e "$D/root/run/vfio-hooks/$(uuid_of 1).journal" ]; echo $?)" \
	"rc=$rc writes: $(writes "$D") $(diff "$D/before" "$D/after" | head -5)" "$D/stderr"

# No profile asks for permissive: none written.  A driver_override naming
# another driver is cleared for pciback's bind and given back.
xvm nic-hvm 2 hvm 05 >"$D/nic.xml"
hook "$D" "$D/nic.xml" prepare
check no-permissive-without-profile "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:05:00.0)" = pciback ] &&
	[ ! -s "$D/root/$PCIBACK/permissive" ] && grep -qx '(null)' "$D/root/sys/bus/pci/devices/0000:05:00.0/driver_override"; echo $?)" \
	"rc=$rc driver=$(driver_of "$D" 0000:05:00.0)" "$D/stderr"
hook "$D" "$D/nic.xml" release end
check override-restored "$([ $rc = 0 ] && pristine "$D" && grep -qx e1000e "$D/root/sys/bus/pci/devices/0000:05:00.0/driver_override"; echo $?)" \
	"rc=$rc $(diff "$D/before" "$D/after" | head -5)" "$D/stderr"

# A slot listed before (the admin ran 'xl pci-assignable-add' and then
# gave the device back to its driver): no new_slot, and it stays listed.
echo 0000:02:00.0 >"$D/root/$PCIBACK/slots"; snap "$D/root" >"$D/before"
xvm hailo-hvm 3 hvm 02 >"$D/hailo.xml"
: >"$D/root/.fakekernel/log"
hook "$D" "$D/hailo.xml" prepare
check listed-slot-kept "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = pciback ] && ! grep -q new_slot "$D/root/.fakekernel/log" &&
	[ -z "$(reset_of "$D" 0000:02:00.0)" ] && grep -q 'pciback=kept' "$D/root/run/vfio-hooks/$(uuid_of 3).journal"; echo $?)" \
	"rc=$rc writes: $(writes "$D")" "$D/stderr"
hook "$D" "$D/hailo.xml" release end
check listed-slot-stays "$([ $rc = 0 ] && pristine "$D" && ! grep -q remove_slot "$D/root/.fakekernel/log" && listed "$D" slots 0000:02:00.0; echo $?)" \
	"rc=$rc writes: $(writes "$D")" "$D/stderr"

# ---------------------------------------------------------------- PV
D=$T/x2; fresh "$D"
for os in linux xen xenpvh; do
	xvm aic-$os 4 $os 01 >"$D/pv.xml"
	hook "$D" "$D/pv.xml" prepare
	check pv-refused-$os "$([ $rc = 1 ] && grep -q "\[xen-pv-unsupported\] The domain 'aic-$os' is a Xen PV.* guest (<type>$os</type>).*0000:01:00.0.*works only in an HVM guest" "$D/stderr" &&
		pristine "$D" && [ -z "$(ls "$D/root/run/vfio-hooks" 2>/dev/null | grep journal)" ]; echo $?)" "rc=$rc" "$D/stderr"
done
xvm nic-pv 5 linux 05 >"$D/pv-nic.xml"
hook "$D" "$D/pv-nic.xml" prepare
check pv-nic-allowed "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:05:00.0)" = pciback ]; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/pv-nic.xml" release end
check pv-nic-released "$([ $rc = 0 ] && pristine "$D"; echo $?)" "rc=$rc" "$D/stderr"
# No QEMU rule on Xen, and no host-iommu-off in a dom0 without groups.
xvm aic-hvm 6 hvm 01 >"$D/hvm.xml"
hook "$D" "$D/hvm.xml" migrate begin
check hvm-no-qemu-rules "$([ $rc = 0 ] && ! grep -Eq 'machine-q35|viommu|ioapic|host-iommu-off' "$D/stderr" && pristine "$D"; echo $?)" "rc=$rc" "$D/stderr"
# The same program as the qemu hook judges the same device by QEMU's rules.
(VFIO_HOOKS_CONF="$D/conf" "$T/hooks/qemu.d/vfio-hooks" aic-kvm prepare begin - \
	<<<"$(sed "s/type='xen'/type='kvm'/;s/xenfv/pc/" "$D/hvm.xml")" >"$D/stdout" 2>"$D/stderr")
rc=$?
check qemu-d-is-qemu "$([ $rc = 1 ] && grep -q machine-q35 "$D/stderr" && ! grep -q xen-pv "$D/stderr" && pristine "$D"; echo $?)" "rc=$rc" "$D/stderr"
# libxl has no restore operation: nothing to do.
hook "$D" "$D/pv.xml" restore begin
check libxl-restore-nothing "$([ $rc = 0 ] && [ ! -s "$D/stderr" ]; echo $?)" "rc=$rc" "$D/stderr"

# Named libxl (a hook in /etc/libvirt/hooks/libxl itself).
(VFIO_HOOKS_CONF="$D/conf" "$T/hooks/byname/libxl" aic-linux prepare begin - <"$D/pv.xml" >"$D/stdout" 2>"$D/stderr")
rc=$?
check argv0-libxl "$([ $rc = 1 ] && grep -q xen-pv-unsupported "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"

# pciback not loaded: a clear error, nothing changed.
D=$T/x3; fresh "$D" "$(sed 1d <<<"$SPEC")"
xvm aic-hvm 7 hvm 01 >"$D/vm.xml"
hook "$D" "$D/vm.xml" prepare
check pciback-not-loaded "$([ $rc = 1 ] && grep -q "xen-pciback is not loaded.*modprobe xen-pciback" "$D/stderr" && pristine "$D"; echo $?)" "rc=$rc" "$D/stderr"

# ------------------------------------------------------ installed as libxl.d
# Installed as libxl.d/vfio-hooks (a link to the one hook program): the
# name makes it the libxl hook; a domain without hostdevs is answered at
# once, one with hostdevs goes to pciback.
D=$T/x4; fresh "$D"
mkdir -p "$D/hooks/libxl.d"; ln -s "$QEMU_HOOK" "$D/hooks/libxl.d/vfio-hooks"
xvm plain 8 hvm >"$D/plain.xml"
(VFIO_HOOKS_CONF="$D/conf" "$D/hooks/libxl.d/vfio-hooks" plain prepare begin - <"$D/plain.xml" >"$D/stdout" 2>"$D/stderr")
rc=$?
check libxl-d-fast-path "$([ $rc = 0 ] && [ ! -s "$D/stdout" ] && [ ! -s "$D/stderr" ] && pristine "$D"; echo $?)" "rc=$rc" "$D/stderr"
(VFIO_HOOKS_CONF="$D/conf" "$D/hooks/libxl.d/vfio-hooks" plain release end - <"$D/plain.xml" >"$D/stdout" 2>"$D/stderr")
rc=$?
check libxl-d-fast-release "$([ $rc = 0 ] && [ ! -s "$D/stderr" ]; echo $?)" "rc=$rc" "$D/stderr"
xvm aic-hvm 9 hvm 01 >"$D/vm.xml"
(VFIO_HOOKS_CONF="$D/conf" "$D/hooks/libxl.d/vfio-hooks" aic-hvm prepare begin - <"$D/vm.xml" >"$D/stdout" 2>"$D/stderr")
rc=$?
check libxl-d-prepare "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:01:00.0)" = pciback ] && [ ! -s "$D/stdout" ]; echo $?)" "rc=$rc" "$D/stderr"
(VFIO_HOOKS_CONF="$D/conf" "$D/hooks/libxl.d/vfio-hooks" aic-hvm release end - <"$D/vm.xml" >"$D/stdout" 2>"$D/stderr")
rc=$?
check libxl-d-release "$([ $rc = 0 ] && pristine "$D"; echo $?)" "rc=$rc" "$D/stderr"

# ---------------------------------------------------------------- faults
# Every write of a prepare (two devices: the AIC100, permissive, and the NIC
# with its override) fails once with each error: the sysroot is as before
# and no journal is left, or the prepare succeeded and release restores.
# Then every write of release fails once: a second release finishes.
faults=0 fault_fail=0
fault_case() {
	faults=$((faults + 1))
	[ "$2" = 0 ] || fault_fail=$((fault_fail + 1))
	check "$1" "$2" "${3:-}" "${4:-}"
}
D=$T/f; fresh "$D"
xvm two 10 hvm 01 05 >"$T/two.xml"
: >"$D/root/.fakekernel/log"
hook "$D" "$T/two.xml" prepare
np=$(wc -l <"$D/root/.fakekernel/log")
hook "$D" "$T/two.xml" release end
nr=$(($(wc -l <"$D/root/.fakekernel/log") - np))
for op in new_slot remove_slot permissive; do
	grep -q "^$op " "$D/root/.fakekernel/log" || bad "matrix-covers-$op" "no $op write in prepare and release"
done
no_journal() { [ -z "$(ls "$1/root/run/vfio-hooks" 2>/dev/null | grep journal)" ]; }
for err in EBUSY EIO ETIMEDOUT ENODEV EINVAL; do
	for ((k = 0; k < np; k++)); do
		fresh "$D"
		echo "any $err skip=$k once" >"$D/root/.fakekernel/inject"
		hook "$D" "$T/two.xml" prepare
		rm -f "$D/root/.fakekernel/inject"
		if [ $rc = 0 ]; then
			hook "$D" "$T/two.xml" release end
			fault_case "fault-prepare-$err-$k" "$([ $rc = 0 ] && pristine "$D" && no_journal "$D"; echo $?)" "prepared, then release rc=$rc" "$D/stderr"
		else
			fault_case "fault-prepare-$err-$k" "$(pristine "$D" && no_journal "$D" && grep -q '0000:0[15]:00.0' "$D/stderr"; echo $?)" \
				"rc=$rc, sysroot changed or journal left: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
		fi
	done
	for ((k = 0; k < nr; k++)); do
		fresh "$D"
		hook "$D" "$T/two.xml" prepare
		echo "any $err skip=$k once" >"$D/root/.fakekernel/inject"
		hook "$D" "$T/two.xml" release end
		first=$rc
		rm -f "$D/root/.fakekernel/inject"
		# A release never fails the stop; what it could not restore
		# stays in the journal for the next one.
		hook "$D" "$T/two.xml" release end
		fault_case "fault-release-$err-$k" "$([ $first = 0 ] && [ $rc = 0 ] && pristine "$D" && no_journal "$D"; echo $?)" \
			"first rc=$first, second rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
	done
done

# ---------------------------------------------------------------- crashes
# SIGKILL before each write of prepare: release puts everything back.
# Before each write of release: release again finishes.
crashes=0 crash_fail=0
crash_case() {
	crashes=$((crashes + 1))
	[ "$2" = 0 ] || crash_fail=$((crash_fail + 1))
	check "$1" "$2" "${3:-}" "${4:-}"
}
for ((k = 0; k < np; k++)); do
	fresh "$D"
	echo "any KILL skip=$k" >"$D/root/.fakekernel/inject"
	hook "$D" "$T/two.xml" prepare
	killed=$rc
	rm -f "$D/root/.fakekernel/inject"
	hook "$D" "$T/two.xml" release end
	crash_case "crash-prepare-$k" "$([ $killed = 137 ] && [ $rc = 0 ] && pristine "$D" && no_journal "$D"; echo $?)" \
		"killed=$killed release rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
done
for ((k = 0; k < nr; k++)); do
	fresh "$D"
	hook "$D" "$T/two.xml" prepare
	echo "any KILL skip=$k" >"$D/root/.fakekernel/inject"
	hook "$D" "$T/two.xml" release end
	killed=$rc
	rm -f "$D/root/.fakekernel/inject"
	hook "$D" "$T/two.xml" release end
	crash_case "crash-release-$k" "$([ $killed = 137 ] && [ $rc = 0 ] && pristine "$D" && no_journal "$D"; echo $?)" \
		"killed=$killed release again rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
done

echo "xen-faults: $faults cases, $((faults - fault_fail)) passed ($np writes of prepare, $nr of release)"
echo "xen-crashes: $crashes cases, $((crashes - crash_fail)) passed"
echo "xen: $pass passed, $fail failed"
[ $fail = 0 ]
