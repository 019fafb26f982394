#!/usr/bin/env bash
# SR-IOV virtual functions on demand (the Intel Flex page's steps, done by
# the hook): a hostdev naming a VF that does not exist yet is created on
# prepare (sriov_drivers_autoprobe 0, sriov_numvfs from 0), bound, and
# removed on release once no domain uses a VF of that PF; the rules about
# it; the fault and crash matrices over those steps.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
SUITE=sriov
# shellcheck source=tests/hook/lib.sh
. "$here/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# An Intel Flex 170 PF on i915 with 16 VFs possible (VF n at 4d:00.n, then
# 4d:01.0...), none created; a second PF with one VF already there.
SPEC='iommu dmar0
driver vfio-pci
0000:4d:00.0 id=8086:56c0 class=0x038000 driver=i915 group=40 pcie sriov=total:16,offset:1,stride:1,vfdev:56c0
0000:5e:00.0 id=8086:56c0 class=0x038000 driver=i915 group=50 pcie sriov=total:4,offset:1,stride:1,vfdev:56c0 numvfs=1
0000:5e:00.1 id=8086:56c0 class=0x038000 group=51 pcie physfn=0000:5e:00.0 reset=flr
file sys/devices/pci0000:4d/0000:4d:00.0/drm/card1/prelim_iov/vf2/gt/exec_quantum_ms 0
file sys/devices/pci0000:4d/0000:4d:00.0/drm/card1/prelim_iov/vf2/gt/preempt_timeout_us 0
file sys/devices/pci0000:4d/0000:4d:00.0/drm/card1/prelim_iov/vf2/gt/lmem_quota 0'
PF=0000:4d:00.0
numvfs_of() { cat "$1/root/sys/bus/pci/devices/$2/sriov_numvfs"; }
autoprobe_of() { cat "$1/root/sys/bus/pci/devices/$2/sriov_drivers_autoprobe"; }

vm() { # NAME N SLOT.FN... : a domain with unmanaged hostdevs on bus 4d (or BB:SS.F)
	local name=$1 n=$2; shift 2
	echo "<domain type='kvm'><name>$name</name><uuid>$(uuid_of "$n")</uuid><memory unit='MiB'>512</memory>"
	echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
	for a in "$@"; do
		local bus=4d
		case $a in *:*) bus=${a%%:*}; a=${a#*:} ;; esac
		echo "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x$bus' slot='0x${a%.*}' function='0x${a#*.}'/></source></hostdev>"
	done
	echo "</devices></domain>"
}
no_journal() { [ -z "$(ls "$1/root/run/vfio-hooks" 2>/dev/null | grep journal)" ]; }

# ---------------------------------------------------------------- check
D=$T/c; fresh "$D"
vm flex-vm 1 00.1 >"$D/vm.xml"
cli "$D" check "$D/vm.xml"
check check-vf-create "$([ $rc = 0 ] && grep -q 'sriov-vf-create' "$D/out" &&
	grep -q '0000:4d:00.1 does not exist yet: it is virtual function 1 of 0000:4d:00.0' "$D/out" && pristine "$D"; echo $?)" "rc=$rc" "$D/out"
vm far-vm 2 01.2 >"$D/far.xml" # VF 10: 4d:00.0 + 1 + 9 = 4d:01.2
cli "$D" check "$D/far.xml"
check check-vf-number "$([ $rc = 0 ] && grep -q 'virtual function 10 of 0000:4d:00.0' "$D/out"; echo $?)" "rc=$rc" "$D/out"
vm busy-vm 3 5e:00.3 >"$D/busy.xml"
cli "$D" check "$D/busy.xml"
check check-numvfs-busy "$([ $rc = 1 ] && grep -q 'sriov-numvfs-busy' "$D/out" && grep -q 'virtual function 3 of 0000:5e:00.0, which has 1 VFs' "$D/out"; echo $?)" "rc=$rc" "$D/out"
vm pf-vm 4 00.0 00.1 >"$D/pf.xml"
cli "$D" check "$D/pf.xml"
check check-pf-with-own-vf "$([ $rc = 1 ] && grep -q 'sriov-pf-assigned' "$D/out" && grep -q 'together with its own virtual function 0000:4d:00.1' "$D/out"; echo $?)" "rc=$rc" "$D/out"
vm pf2-vm 5 5e:00.0 >"$D/pf2.xml"
cli "$D" check "$D/pf2.xml"
check check-pf-with-live-vfs "$([ $rc = 1 ] && grep -q 'has 1 virtual functions' "$D/out"; echo $?)" "rc=$rc" "$D/out"
vm nope-vm 6 4d:02.1 >"$D/nope.xml" # past TotalVFs (VF 17)
cli "$D" check "$D/nope.xml"
check check-past-totalvfs "$([ $rc = 1 ] && grep -q 'device-missing' "$D/out"; echo $?)" "rc=$rc" "$D/out"

# ---------------------------------------------------------------- lifecycle
D=$T/l; fresh "$D"
vm flex-vm 1 00.2 >"$D/vm.xml"
hook "$D" "$D/vm.xml" prepare
check prepare-creates-vf "$([ $rc = 0 ] && [ "$(numvfs_of "$D" $PF)" = 2 ] && [ "$(autoprobe_of "$D" $PF)" = 0 ] &&
	[ "$(driver_of "$D" 0000:4d:00.2)" = vfio-pci ] && [ -z "$(driver_of "$D" 0000:4d:00.1)" ] &&
	grep -q "^sriov $PF numvfs=0 autoprobe=1$" "$D/root/run/vfio-hooks/$(uuid_of 1).journal"; echo $?)" \
	"rc=$rc numvfs=$(numvfs_of "$D" $PF) driver=$(driver_of "$D" 0000:4d:00.2)" "$D/stderr"
hook "$D" "$D/vm.xml" start
check start-verifies-vf "$([ $rc = 0 ]; echo $?)" "rc=$rc" "$D/stderr"
# A second domain takes VF 1, which exists now: no creation, no refusal.
vm other-vm 2 00.1 >"$D/other.xml"
hook "$D" "$D/other.xml" prepare
check second-domain-uses-vf "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:4d:00.1)" = vfio-pci ] && ! grep -q '^sriov' "$D/root/run/vfio-hooks/$(uuid_of 2).journal"; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/vm.xml" release end
check release-keeps-vfs-in-use "$([ $rc = 0 ] && [ "$(numvfs_of "$D" $PF)" = 2 ] && [ "$(driver_of "$D" 0000:4d:00.1)" = vfio-pci ] &&
	grep -q "^sriov $PF numvfs=0 autoprobe=1$" "$D/root/run/vfio-hooks/$(uuid_of 2).journal" &&
	[ ! -e "$D/root/run/vfio-hooks/$(uuid_of 1).journal" ]; echo $?)" "rc=$rc numvfs=$(numvfs_of "$D" $PF)" "$D/stderr"
hook "$D" "$D/other.xml" release end
check last-release-removes-vfs "$([ $rc = 0 ] && pristine "$D" && no_journal "$D"; echo $?)" "rc=$rc $(diff "$D/before" "$D/after" | head -5)" "$D/stderr"
# Refused: numvfs busy; the PF with its own VF.  Nothing changes.
hook "$D" "$T/c/busy.xml" prepare
check prepare-numvfs-busy-refused "$([ $rc = 1 ] && grep -q 'sriov-numvfs-busy' "$D/stderr" && pristine "$D" && no_journal "$D"; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$T/c/pf.xml" prepare
check prepare-pf-assigned-refused "$([ $rc = 1 ] && grep -q 'sriov-pf-assigned' "$D/stderr" && pristine "$D" && no_journal "$D"; echo $?)" "rc=$rc" "$D/stderr"

# Per-VF settings from the domain's metadata, where the profile's directory
# has them (the Flex page's exec_quantum_ms, preempt_timeout_us,
# lmem_quota); one the driver lacks is skipped.  Restored on release.
D=$T/v; fresh "$D"
GT=$D/root/sys/devices/pci0000:4d/0000:4d:00.0/drm/card1/prelim_iov/vf2/gt
cat >"$D/vm.xml" <<XML
<domain type='kvm'><name>flex-vm</name><uuid>$(uuid_of 7)</uuid><memory unit='MiB'>512</memory>
<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'><vh:device address='0000:4d:00.2'>
<vh:vf-setting name='exec_quantum_ms' value='20'/><vh:vf-setting name='preempt_timeout_us' value='40000'/>
<vh:vf-setting name='lmem_quota' value='4294967296'/><vh:vf-setting name='doorbells_quota' value='8'/>
</vh:device></vh:settings></metadata>
<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>
<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x4d' slot='0x00' function='0x2'/></source></hostdev>
</devices></domain>
XML
hook "$D" "$D/vm.xml" prepare
check vf-settings-applied "$([ $rc = 0 ] && [ "$(cat "$GT/exec_quantum_ms")" = 20 ] && [ "$(cat "$GT/preempt_timeout_us")" = 40000 ] &&
	[ "$(cat "$GT/lmem_quota")" = 4294967296 ] && [ "$(grep -c '^attr ' "$D/root/run/vfio-hooks/$(uuid_of 7).journal")" = 3 ]; echo $?)" 	"rc=$rc exec_quantum_ms=$(cat "$GT/exec_quantum_ms")" "$D/stderr"
hook "$D" "$D/vm.xml" release end
check vf-settings-restored "$([ $rc = 0 ] && pristine "$D" && no_journal "$D"; echo $?)" "rc=$rc $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
echo "preempt_timeout_us EIO" >"$D/root/.fakekernel/inject"
hook "$D" "$D/vm.xml" prepare
rm -f "$D/root/.fakekernel/inject"
check vf-setting-refused-rolls-back "$([ $rc = 1 ] && grep -q 'refused .*preempt_timeout_us = 40000' "$D/stderr" && pristine "$D" && no_journal "$D"; echo $?)" 	"rc=$rc $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
sed -i "s/value='20'/value='2\\/..\\/x'/" "$D/vm.xml"
VFIO_HOOKS_LOG=stderr hook "$D" "$D/vm.xml" prepare
# A bad value in the metadata is a warning, like any metadata problem: that
# setting is left out, the others apply.
check vf-setting-bad-value "$([ $rc = 0 ] && [ "$(cat "$GT/exec_quantum_ms")" = 0 ] && [ "$(cat "$GT/preempt_timeout_us")" = 40000 ] &&
	grep -q "vf-setting name='exec_quantum_ms'" "$D/stderr"; echo $?)" "rc=$rc exec_quantum_ms=$(cat "$GT/exec_quantum_ms")" "$D/stderr"
hook "$D" "$D/vm.xml" release end
check vf-setting-bad-value-restored "$([ $rc = 0 ] && pristine "$D" && no_journal "$D"; echo $?)" "rc=$rc" "$D/stderr"

# ---------------------------------------------------------------- faults
faults=0 fault_fail=0
D=$T/f; fresh "$D"
vm flex-vm 1 00.2 >"$T/flex.xml"
: >"$D/root/.fakekernel/log"
hook "$D" "$T/flex.xml" prepare
nw=$(wc -l <"$D/root/.fakekernel/log")
hook "$D" "$T/flex.xml" release end
for err in EBUSY EIO ETIMEDOUT ENOMEM; do
	for ((k = 0; k < nw; k++)); do
		fresh "$D"
		echo "any $err skip=$k once" >"$D/root/.fakekernel/inject"
		hook "$D" "$T/flex.xml" prepare
		rm -f "$D/root/.fakekernel/inject"
		if [ $rc = 0 ]; then hook "$D" "$T/flex.xml" release end; fi
		faults=$((faults + 1))
		pristine "$D" && no_journal "$D"
		r=$?
		[ $r = 0 ] || fault_fail=$((fault_fail + 1))
		check "fault-$err-$k" $r "rc=$rc, sysroot changed or journal left: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
	done
done
# Release: numvfs 0 fails once: the VFs stay, the journal keeps the record
# (libvirt ignores a release's status), the next release finishes.
fresh "$D"
hook "$D" "$T/flex.xml" prepare
echo "numvfs EBUSY once" >"$D/root/.fakekernel/inject"
hook "$D" "$T/flex.xml" release end
first=$(numvfs_of "$D" $PF)
rm -f "$D/root/.fakekernel/inject"
kept=$(! no_journal "$D"; echo $?)
hook "$D" "$T/flex.xml" release end
faults=$((faults + 1))
[ "$first" = 2 ] && [ "$kept" = 0 ] && [ $rc = 0 ] && pristine "$D" && no_journal "$D"
r=$?; [ $r = 0 ] || fault_fail=$((fault_fail + 1))
check release-numvfs-fault "$r" "numvfs after the failed release=$first journal kept=$kept rc=$rc" "$D/stderr"

# ---------------------------------------------------------------- crashes
crashes=0 crash_fail=0
for ((k = 0; k < nw; k++)); do
	fresh "$D"
	echo "any KILL skip=$k" >"$D/root/.fakekernel/inject"
	hook "$D" "$T/flex.xml" prepare
	killed=$rc
	rm -f "$D/root/.fakekernel/inject"
	hook "$D" "$T/flex.xml" release end
	crashes=$((crashes + 1))
	[ $killed = 137 ] && [ $rc = 0 ] && pristine "$D" && no_journal "$D"
	r=$?; [ $r = 0 ] || crash_fail=$((crash_fail + 1))
	check "crash-$k" $r "killed=$killed release rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
done

echo "sriov-faults: $faults cases, $((faults - fault_fail)) passed ($nw writes of prepare)"
echo "sriov-crashes: $crashes cases, $((crashes - crash_fail)) passed"
echo "sriov: $pass passed, $fail failed"
[ $fail = 0 ]
