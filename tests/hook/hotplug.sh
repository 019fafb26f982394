#!/usr/bin/env bash
# vfio-hooks attach-device / detach-device on the fake kernel, talking to
# the stand-in libvirt (tests/fakevirt.c): a device hot-plugged into a
# running domain is checked (refused with the rule and nothing touched),
# prepared under the domain's journal and attached; detached, it is given
# back; a VM destroyed with it attached gives it back at release; libvirt
# failing the attach undoes the preparation; a guest that keeps the device
# is reported, not forced.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
SUITE=hotplug
# shellcheck source=tests/hook/lib.sh
. "$here/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export LD_LIBRARY_PATH="$build/tests/fakevirt${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# The Hailo-8 (its profile empties reset_method), a NIC with no profile, a
# device in the golden host's shape of the AIC100 (32 MSIs: the vIOMMU).
SPEC='iommu dmar0
driver vfio-pci
0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 msix=5 pcie reset=pm,bus
0000:02:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=16 msi=1 pcie reset=flr,bus
0000:03:00.0 id=17cb:a100 subsys=17cb:0100 class=0x120000 driver=qaic group=12 msi=32 pcie reset=flr
0000:05:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=60 msix=5 pcie reset=pm,bus
0000:06:00.0 id=1b21:1242 class=0x0c0330 driver=xhci_hcd group=60 msi=8 msix=8 pcie'

domain() { # NAME N [EXTRA-DEVICES]: a running q35 domain with a NIC
	cat <<EOF
<domain type='kvm'><name>$1</name><uuid>$(uuid_of "$2")</uuid><memory unit='MiB'>512</memory>
<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features><devices>
<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>
${3:-}
</devices></domain>
EOF
}
hostdev() { # BUS [MANAGED]
	echo "<hostdev mode='subsystem' type='pci' managed='${2:-no}'><source><address domain='0x0000' bus='0x$1' slot='0x00' function='0x0'/></source></hostdev>"
}
start() { # DIR NAME N: defined, started through the hook, running
	local d=$1
	export FAKEVIRT_DIR=$d/virt
	mkdir -p "$FAKEVIRT_DIR"
	domain "$2" "$3" >"$FAKEVIRT_DIR/$2.xml"
	hook "$d" "$FAKEVIRT_DIR/$2.xml" prepare
	[ $rc = 0 ] || { bad "$2-start" "prepare failed" "$d/stderr"; return 1; }
	cp "$FAKEVIRT_DIR/$2.xml" "$FAKEVIRT_DIR/$2.live.xml"
}
stop() { # DIR NAME: the domain stops, libvirt calls release
	hook "$1" "$FAKEVIRT_DIR/$2.live.xml" release end
	rm -f "$FAKEVIRT_DIR/$2.live.xml"
}

# --------------------------------------------------------- attach, detach
D=$T/a; fresh "$D"; start "$D" vm 1
hostdev 02 >"$D/hailo.xml"
cli "$D" attach-device vm "$D/hailo.xml"
check attach "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ] && [ -z "$(reset_of "$D" 0000:02:00.0)" ] &&
	grep -q "bus='0x02'" "$FAKEVIRT_DIR/vm.live.xml" && ! grep -q "bus='0x02'" "$FAKEVIRT_DIR/vm.xml" &&
	grep -q '^0000:02:00.0: attached to domain .vm.: on vfio-pci' "$D/out"; echo $?)" \
	"rc=$rc driver=$(driver_of "$D" 0000:02:00.0)" "$D/err"
J=$D/root/run/vfio-hooks/$(uuid_of 1).journal
check attach-journaled "$(grep -q '^dev 0000:02:00.0 role=hostdev managed=0 driver=hailo' "$J" && grep -c '^dev 0000:01:00.0' "$J" | grep -qx 1; echo $?)" \
	"the journal" "$J"
check attach-calls-live "$(grep -qx 'attach vm flags=1' "$FAKEVIRT_DIR/calls"; echo $?)" "calls" "$FAKEVIRT_DIR/calls"
cli "$D" detach-device vm 0000:02:00.0
check detach "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = hailo ] && [ "$(reset_of "$D" 0000:02:00.0)" = "flr bus" ] &&
	! grep -q "bus='0x02'" "$FAKEVIRT_DIR/vm.live.xml" && [ "$(driver_of "$D" 0000:01:00.0)" = vfio-pci ] &&
	grep -q '^gone 0000:02:00.0$' "$J"; echo $?)" "rc=$rc driver=$(driver_of "$D" 0000:02:00.0)" "$D/err"
stop "$D" vm
check detach-then-stop-pristine "$(pristine "$D"; echo $?)" "$(diff "$D/before" "$D/after" | head -5)"

# ------------------------------------- the domain stops with the device on
D=$T/b; fresh "$D"; start "$D" vm 1
hostdev 02 yes >"$D/hailo.xml"
cli "$D" attach-device --live vm "$D/hailo.xml"
# managed='yes': libvirt binds it; vfio-hooks empties reset_method first
check attach-managed "$([ $rc = 0 ] && [ -z "$(reset_of "$D" 0000:02:00.0)" ] && [ "$(driver_of "$D" 0000:02:00.0)" = hailo ]; echo $?)" \
	"rc=$rc reset_method='$(reset_of "$D" 0000:02:00.0)'" "$D/err"
stop "$D" vm
check stop-gives-back "$([ "$(reset_of "$D" 0000:02:00.0)" = "flr bus" ] && pristine "$D"; echo $?)" \
	"reset_method='$(reset_of "$D" 0000:02:00.0)'" "$D/stderr"

# ------------------------------------------------- refused: no vIOMMU
D=$T/c; fresh "$D"; start "$D" vm 1
hostdev 03 >"$D/aic.xml"
cli "$D" attach-device vm "$D/aic.xml"
check refused-viommu "$([ $rc = 1 ] && grep -q 'viommu-missing' "$D/err" &&
	grep -q 'refuses to attach' "$D/err" && [ "$(driver_of "$D" 0000:03:00.0)" = qaic ] &&
	! grep -q attach "$FAKEVIRT_DIR/calls" && ! grep -q "bus='0x03'" "$FAKEVIRT_DIR/vm.live.xml"; echo $?)" "rc=$rc" "$D/err"
# what the domain had at its start is not held against the new device: the
# NIC's own findings (none here) and no new finding for a plain NIC
stop "$D" vm
check refused-pristine "$(pristine "$D"; echo $?)" "$(diff "$D/before" "$D/after" | head -5)"

# ------------------- refused: the new device's group is not viable
D=$T/c2; fresh "$D"; start "$D" vm 1
hostdev 05 >"$D/nic.xml"
cli "$D" attach-device vm "$D/nic.xml"
check refused-group "$([ $rc = 1 ] && grep -q 'group-not-viable' "$D/err" && [ "$(driver_of "$D" 0000:05:00.0)" = e1000e ] &&
	! grep -q attach "$FAKEVIRT_DIR/calls"; echo $?)" "rc=$rc" "$D/err"
stop "$D" vm

# ---------------------------------------- libvirt fails: undone, not kept
D=$T/d; fresh "$D"; start "$D" vm 1
hostdev 02 >"$D/hailo.xml"
touch "$FAKEVIRT_DIR/fail-attach"
cli "$D" attach-device vm "$D/hailo.xml"
check libvirt-fails-undone "$([ $rc = 1 ] && grep -q 'could not attach' "$D/err" && grep -q injected "$D/err" &&
	[ "$(driver_of "$D" 0000:02:00.0)" = hailo ] && [ "$(reset_of "$D" 0000:02:00.0)" = "flr bus" ] &&
	grep -q '^gone 0000:02:00.0$' "$D/root/run/vfio-hooks/$(uuid_of 1).journal"; echo $?)" "rc=$rc" "$D/err"
rm -f "$FAKEVIRT_DIR/fail-attach"
stop "$D" vm
check libvirt-fails-pristine "$(pristine "$D"; echo $?)" "$(diff "$D/before" "$D/after" | head -5)"

# --------- libvirt fails an attach of what the domain has: nothing given
D=$T/d2; fresh "$D"; start "$D" vm 1
echo 'mode = warn' >>"$D/conf"   # the duplicate is an error, not a refusal
hostdev 01 >"$D/nic.xml"
touch "$FAKEVIRT_DIR/fail-attach"
cli "$D" attach-device vm "$D/nic.xml"
check libvirt-fails-keeps-start "$([ $rc = 1 ] && grep -q injected "$D/err" && [ "$(driver_of "$D" 0000:01:00.0)" = vfio-pci ] &&
	[ -e "$D/root/run/vfio-hooks/$(uuid_of 1).journal" ]; echo $?)" "rc=$rc driver=$(driver_of "$D" 0000:01:00.0)" "$D/err"
rm -f "$FAKEVIRT_DIR/fail-attach"
stop "$D" vm
check libvirt-fails-keeps-start-pristine "$(pristine "$D"; echo $?)" "$(diff "$D/before" "$D/after" | head -5)"

# --------------------------------------- the guest keeps it: reported
D=$T/e; fresh "$D"; start "$D" vm 1
hostdev 02 >"$D/hailo.xml"
cli "$D" attach-device vm "$D/hailo.xml"
touch "$FAKEVIRT_DIR/hold"
cli "$D" detach-device --timeout 1 vm "$D/hailo.xml"
check guest-keeps-it "$([ $rc = 1 ] && grep -q 'has not released it' "$D/err" && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ]; echo $?)" \
	"rc=$rc" "$D/err"
rm -f "$FAKEVIRT_DIR/hold"
# released later: the detach run again gives it back
cli "$D" detach-device vm "$D/hailo.xml"
check detach-again "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = hailo ]; echo $?)" "rc=$rc" "$D/err"
stop "$D" vm
check detach-again-pristine "$(pristine "$D"; echo $?)" "$(diff "$D/before" "$D/after" | head -5)"

# ---------------------------------------------- a device vfio-hooks did not prepare
D=$T/f; fresh "$D"; start "$D" vm 1
cli "$D" detach-device vm 0000:01:00.0
check detach-start-device "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:01:00.0)" = e1000e ] && [ ! -e "$D/root/run/vfio-hooks/$(uuid_of 1).journal" ]; echo $?)" \
	"rc=$rc driver=$(driver_of "$D" 0000:01:00.0)" "$D/err"
stop "$D" vm

# ------------------------------------- a device that is not attached at all
D=$T/h; fresh "$D"; start "$D" vm 1
cli "$D" detach-device vm 0000:02:00.0
check detach-not-attached "$([ $rc = 1 ] && grep -q 'is not attached' "$D/err" && ! grep -q detach "$FAKEVIRT_DIR/calls"; echo $?)" "rc=$rc" "$D/err"
stop "$D" vm

# --------------------------------------------------------------- bad input
D=$T/g; fresh "$D"; start "$D" vm 1
printf '<disk type="file"><source file="/x"/></disk>' >"$D/disk.xml"
cli "$D" attach-device vm "$D/disk.xml"
check not-pci "$([ $rc = 2 ] && grep -q 'no PCI <hostdev>' "$D/err"; echo $?)" "rc=$rc" "$D/err"
printf '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><hostdev>&e;</hostdev>' >"$D/ent.xml"
cli "$D" attach-device vm "$D/ent.xml"
check entity-refused "$([ $rc = 2 ] && ! grep -q root: "$D/err"; echo $?)" "rc=$rc" "$D/err"
hostdev 02 | sed "s/bus='0x02'/bus='0x2g'/" >"$D/badaddr.xml"
cli "$D" attach-device vm "$D/badaddr.xml"
check bad-address "$([ $rc = 2 ] && grep -q "badaddr.xml" "$D/err"; echo $?)" "rc=$rc" "$D/err"
cli "$D" attach-device nosuch "$D/disk.xml"
check no-domain "$([ $rc = 2 ]; echo $?)" "rc=$rc" "$D/err"
hostdev 02 >"$D/hailo.xml"
cli "$D" attach-device nosuch "$D/hailo.xml"
check no-such-domain "$([ $rc = 2 ] && grep -q "no domain 'nosuch'" "$D/err"; echo $?)" "rc=$rc" "$D/err"
cli "$D" attach-device vm
check usage "$([ $rc = 2 ]; echo $?)" "rc=$rc" "$D/err"
stop "$D" vm
check bad-input-pristine "$(pristine "$D"; echo $?)" "$(diff "$D/before" "$D/after" | head -5)"

echo "$SUITE: $pass passed, $fail failed"
[ "$fail" = 0 ]
