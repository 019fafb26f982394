#!/usr/bin/env bash
# vfio-hooks bind / unbind [--persist] on the fake kernel: what they change,
# what they refuse, how they live with the hook's domains, the boot path of
# the udev rule, and their fault and crash matrices (every injected failure
# and every SIGKILL leaves the sysroot as it was, or the journal says what
# is left and a second run finishes it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
SUITE=bind
# shellcheck source=tests/hook/lib.sh
. "$here/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# A Hailo-8 (its profile empties reset_method), a NIC with no profile, a NIC
# sharing its group with a USB controller, a bridge.
SPEC='iommu dmar0
driver vfio-pci
0000:00:01.0 id=8086:1905 class=0x060400 bridge pcie=4 group=1 driver=pcieport reset=none
0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 msix=5 pcie reset=pm,bus parent=0000:00:01.0
0000:02:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=16 msi=1 pcie reset=flr,bus
0000:05:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=60 msix=5 pcie reset=pm,bus
0000:06:00.0 id=1b21:1242 class=0x0c0330 driver=xhci_hcd group=60 msi=8 msix=8 pcie'
RULES=etc/udev/rules.d
MANUAL=00000000-0000-0000-0000-000000020000.journal

vm() { # NAME N BUS [UUID]: a domain with one unmanaged hostdev
	echo "<domain type='kvm'><name>$1</name><uuid>${4:-$(uuid_of "$2")}</uuid><memory unit='MiB'>512</memory>"
	echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
	echo "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x$3' slot='0x00' function='0x0'/></source></hostdev>"
	echo "</devices></domain>"
}

# ---------------------------------------------------------------- now
D=$T/b1; fresh "$D"
cli "$D" bind 0000:02:00.0
check bind-now "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ] && [ -z "$(reset_of "$D" 0000:02:00.0)" ] &&
	[ -e "$D/root/run/vfio-hooks/$MANUAL" ] && grep -q "0000:02:00.0: hailo -> vfio-pci, reset_method ''" "$D/out"; echo $?)" \
	"rc=$rc driver=$(driver_of "$D" 0000:02:00.0)" "$D/err"
cli "$D" list
check list-shows-bind "$(grep -A4 '^0000:02:00.0' "$D/out" | grep -q 'Held by: vfio-hooks bind'; echo $?)" "list" "$D/out"
# Journals that cannot be trusted (a state directory others can write):
# nobody can say who holds the device, and the listing says so.
chmod 0777 "$D/root/run/vfio-hooks"
cli "$D" list
check list-holder-unknown "$([ $rc = 0 ] && grep -A4 '^0000:02:00.0' "$D/out" | grep -q 'Held by: unknown (cannot read the journals in /run/vfio-hooks: Operation not permitted)'; echo $?)" "list" "$D/out"
cli "$D" --json list
check list-holder-unknown-json "$([ $rc = 0 ] && python3 -c 'import json,sys; d=[x for x in json.load(open(sys.argv[1])) if x["address"]=="0000:02:00.0"][0]; sys.exit(not (d["held_by"] is None and "not permitted" in d["held_by_error"]))' "$D/out"; echo $?)" "--json list" "$D/out"
chmod 0700 "$D/root/run/vfio-hooks"
# A journal that names no domain still holds its devices: shown by UUID.
E=$T/b-unnamed; fresh "$E"
vm hailo-vm 5 02 >"$E/vm.xml"
hook "$E" "$E/vm.xml" prepare
sed -i '/^domain /d' "$E/root/run/vfio-hooks/$(uuid_of 5).journal"
cli "$E" list
check list-holder-unnamed "$([ $rc = 0 ] && grep -A4 '^0000:02:00.0' "$E/out" | grep -q "Held by: domain $(uuid_of 5)"; echo $?)" "list" "$E/out"
: >"$D/root/.fakekernel/log"
cli "$D" bind 02:00.0
check bind-again-no-writes "$([ $rc = 0 ] && [ ! -s "$D/root/.fakekernel/log" ] && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ]; echo $?)" \
	"rc=$rc writes: $(cat "$D/root/.fakekernel/log")" "$D/err"

# A domain given the bound device: no device-busy; its release leaves the
# device as it found it, on vfio-pci.
vm hailo-vm 1 02 >"$D/vm.xml"
hook "$D" "$D/vm.xml" prepare
check vm-uses-bound-device "$([ $rc = 0 ]; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/vm.xml" release end
check vm-release-keeps-binding "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ] && [ -e "$D/root/run/vfio-hooks/$MANUAL" ]; echo $?)" \
	"rc=$rc driver=$(driver_of "$D" 0000:02:00.0)" "$D/stderr"
cli "$D" recover
check recover-keeps-binding "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ] && [ -e "$D/root/run/vfio-hooks/$MANUAL" ]; echo $?)" \
	"rc=$rc driver=$(driver_of "$D" 0000:02:00.0)" "$D/err"
cli "$D" unbind 0000:02:00.0
check unbind-restores "$([ $rc = 0 ] && pristine "$D" && [ ! -e "$D/root/run/vfio-hooks/$MANUAL" ]; echo $?)" \
	"rc=$rc $(diff "$D/before" "$D/after" | head -5)" "$D/err"

# While a domain holds a device, bind and unbind refuse it.
vm nic-vm 2 01 >"$D/nic.xml"
hook "$D" "$D/nic.xml" prepare
cli "$D" bind 0000:01:00.0
check bind-refuses-held "$([ $rc = 1 ] && grep -q "device-busy.*0000:01:00.0 is held by domain 'nic-vm'" "$D/err"; echo $?)" "rc=$rc" "$D/err"
cli "$D" unbind 0000:01:00.0
check unbind-refuses-held "$([ $rc = 1 ] && grep -q "device-busy.*nic-vm" "$D/err" && [ "$(driver_of "$D" 0000:01:00.0)" = vfio-pci ]; echo $?)" "rc=$rc" "$D/err"
hook "$D" "$D/nic.xml" release end
check release-after-refusals "$([ $rc = 0 ] && pristine "$D"; echo $?)" "rc=$rc" "$D/stderr"

# A domain may not take the UUIDs reserved for bindings.
vm sneaky 3 01 00000000-0000-0000-0000-000000010000 >"$D/sneaky.xml"
hook "$D" "$D/sneaky.xml" prepare
check reserved-uuid-refused "$([ $rc = 1 ] && grep -q 'reserves for .vfio-hooks bind' "$D/stderr" && pristine "$D"; echo $?)" "rc=$rc" "$D/stderr"

# The reserved UUIDs are no domain's, even one without a hostdev: its
# prepare is refused, and its release and reconnect (libvirt releases a
# failed start too) do nothing, while a domain runs on the bound device.
E=$T/b-reserved; fresh "$E"
cli "$E" bind 0000:02:00.0
vm hailo-vm 1 02 >"$E/vm.xml"
hook "$E" "$E/vm.xml" prepare; rc_vm=$rc
printf "<domain type='kvm'><name>thief</name><uuid>00000000-0000-0000-0000-000000020000</uuid><memory unit='MiB'>512</memory><os><type arch='x86_64' machine='q35'>hvm</type></os><devices></devices></domain>\n" >"$E/thief.xml"
hook "$E" "$E/thief.xml" prepare
check reserved-uuid-no-hostdev-refused "$([ $rc_vm = 0 ] && [ $rc = 1 ] &&
	grep -q "\[uuid-reserved\] The domain 'thief' has the UUID 00000000-0000-0000-0000-000000020000, which vfio-hooks reserves for 'vfio-hooks bind'" "$E/stderr"; echo $?)" \
	"rc_vm=$rc_vm rc=$rc" "$E/stderr"
: >"$E/root/.fakekernel/log"
for op in release reconnect; do
	VFIO_HOOKS_LOG=stderr hook "$E" "$E/thief.xml" $op end
	check "reserved-uuid-$op-nothing" "$([ $rc = 0 ] && [ ! -s "$E/root/.fakekernel/log" ] && [ "$(driver_of "$E" 0000:02:00.0)" = vfio-pci ] &&
		[ -z "$(reset_of "$E" 0000:02:00.0)" ] && [ -e "$E/root/run/vfio-hooks/$MANUAL" ] &&
		grep -q "thief: \[uuid-reserved\] $op: nothing done" "$E/stderr"; echo $?)" \
		"rc=$rc driver=$(driver_of "$E" 0000:02:00.0) writes: $(tr '\n' ';' <"$E/root/.fakekernel/log")" "$E/stderr"
done
hook "$E" "$E/vm.xml" release end
cli "$E" unbind 0000:02:00.0
check reserved-uuid-then-restored "$([ $rc = 0 ] && pristine "$E"; echo $?)" "rc=$rc" "$E/err"

# unbind holds the state lock from its holder check to its last write:
# with a journal (bind's) and without one (bound at boot).
E=$T/b-lock; fresh "$E"
cli "$E" bind 0000:02:00.0
: >"$E/root/.fakekernel/log"
FAKEKERNEL_ASSERT_LOCKED=1 cli "$E" unbind 0000:02:00.0
check unbind-journal-locked "$([ $rc = 0 ] && pristine "$E" && grep -q . "$E/root/.fakekernel/log" && ! grep -q '^unlocked' "$E/root/.fakekernel/log"; echo $?)" \
	"rc=$rc log: $(tr '\n' ';' <"$E/root/.fakekernel/log")" "$E/err"
cli "$E" bind --boot --driver vfio-pci --reset-method none 0000:02:00.0
: >"$E/root/.fakekernel/log"
FAKEKERNEL_ASSERT_LOCKED=1 cli "$E" unbind 0000:02:00.0
check unbind-boot-locked "$([ $rc = 0 ] && [ "$(driver_of "$E" 0000:02:00.0)" = hailo ] && grep -q . "$E/root/.fakekernel/log" &&
	! grep -q '^unlocked' "$E/root/.fakekernel/log"; echo $?)" \
	"rc=$rc log: $(tr '\n' ';' <"$E/root/.fakekernel/log")" "$E/err"

# ---------------------------------------------------------------- refusals
cli "$D" bind 0000:05:00.0
check group-not-viable "$([ $rc = 1 ] && grep -q 'group-not-viable.*0000:06:00.0.*--companions any' "$D/err" && pristine "$D"; echo $?)" "rc=$rc" "$D/err"
cli "$D" bind 0000:09:00.0
check missing-device "$([ $rc = 1 ] && grep -q 'device-missing' "$D/err" && pristine "$D"; echo $?)" "rc=$rc" "$D/err"
cli "$D" bind 0000:00:01.0
check bridge-refused "$([ $rc = 1 ] && grep -q 'device-bridge' "$D/err" && pristine "$D"; echo $?)" "rc=$rc" "$D/err"
cli "$D" bind ../../etc
check bad-address "$([ $rc = 2 ] && grep -q "'../../etc' is not a PCI address" "$D/err" && pristine "$D"; echo $?)" "rc=$rc" "$D/err"
cli "$D" bind --boot --driver vfio-pci 0000:02:00.0 0000:05:00.0
check boot-usage "$([ $rc = 2 ] && pristine "$D"; echo $?)" "rc=$rc" "$D/err"
mkdir -p "$D/root/$RULES"
echo 'ACTION=="add", RUN+="/bin/sh -c reboot"' >"$D/root/$RULES/90-vfio-hooks-0000:02:00.0.rules"
cli "$D" unbind --persist 0000:02:00.0
check foreign-rule-kept "$([ $rc = 1 ] && grep -q '90-vfio-hooks-0000:02:00.0.rules:1: not a rule written by vfio-hooks' "$D/err" &&
	[ -e "$D/root/$RULES/90-vfio-hooks-0000:02:00.0.rules" ]; echo $?)" "rc=$rc" "$D/err"
rm -rf "$D/root/etc"

# ---------------------------------------------------------------- persist
D=$T/b2; fresh "$D"
mkdir -p "$D/root/$RULES"; snap "$D/root" >"$D/before" # as on every host
cli "$D" --companions any bind --persist 0000:05:00.0
rule=$D/root/$RULES/90-vfio-hooks-0000:05:00.0.rules
check persist-with-companion "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:05:00.0)" = vfio-pci ] && [ "$(driver_of "$D" 0000:06:00.0)" = vfio-pci ] &&
	[ "$(grep -c '^ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:0[56]:00.0", ATTR{vendor}=="0x[0-9a-f]*", ATTR{device}=="0x[0-9a-f]*", ATTR{driver_override}="vfio-pci", RUN{builtin}+="kmod load vfio-pci", RUN+="'"$(readlink -f "$CLI")"' bind --boot --driver vfio-pci 0000:0[56]:00.0"$' "$rule")" = 2 ] &&
	[ "$(stat -c %a "$rule")" = 644 ]; echo $?)" "rc=$rc" "$rule"
cli "$D" unbind --persist 0000:05:00.0
check unpersist-restores "$([ $rc = 0 ] && pristine "$D" && [ ! -e "$rule" ]; echo $?)" "rc=$rc $(diff "$D/before" "$D/after" | head)" "$D/err"

# The boot: a new sysroot (the host driver has taken the device, as when
# another device's event loaded it first), the rule's RUN command as udev
# runs it.  The device ends on vfio-pci with the profile's reset_method.
D=$T/b3; fresh "$D"
cli "$D" bind --persist 0000:02:00.0
rule=$D/root/$RULES/90-vfio-hooks-0000:02:00.0.rules
check persist-hailo-rule "$([ $rc = 0 ] && grep -q 'ATTR{vendor}=="0x1e60", ATTR{device}=="0x2864".* bind --boot --driver vfio-pci --reset-method none 0000:02:00.0"$' "$rule"; echo $?)" "rc=$rc" "$rule"
cp "$rule" "$T/saved.rules"
fresh "$D"
mkdir -p "$D/root/$RULES"; cp "$T/saved.rules" "$rule"
snap "$D/root" >"$D/before"
run=$(sed -n 's/.*RUN+="[^ ]* \(bind --boot [^"]*\)"$/\1/p' "$rule")
# shellcheck disable=SC2086 # the rule's words
cli "$D" $run
check boot-binds "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ] && [ -z "$(reset_of "$D" 0000:02:00.0)" ] &&
	[ -z "$(ls "$D/root/run/vfio-hooks" 2>/dev/null | grep journal)" ]; echo $?)" \
	"rc=$rc driver=$(driver_of "$D" 0000:02:00.0) reset_method='$(reset_of "$D" 0000:02:00.0)'" "$D/err"
cli "$D" unbind 0000:02:00.0
check unbind-after-boot "$([ $rc = 0 ] && pristine "$D" && grep -q 'still bound at the next boot' "$D/out"; echo $?)" \
	"rc=$rc $(diff "$D/before" "$D/after" | head)" "$D/err"
cli "$D" unbind --persist 0000:02:00.0
check unpersist-after-boot "$([ $rc = 0 ] && [ ! -e "$rule" ] && grep -q 'persistent binding removed' "$D/out"; echo $?)" "rc=$rc" "$D/err"

# The boot unit (vfio-hooks-bind.service): `bind --boot` with no device
# binds every device that has a rule, under the state lock, as the rule
# would: a slot holding another card (a rule for other IDs), a device not
# in this boot and a file that is not ours are left alone. A second run
# (the udev rule after the unit) changes nothing.
fresh "$D"
mkdir -p "$D/root/$RULES"; cp "$T/saved.rules" "$rule"
sed -e 's/0000:02:00\.0/0000:05:00.0/g' "$T/saved.rules" >"$D/root/$RULES/90-vfio-hooks-0000:05:00.0.rules"
sed -e 's/0000:02:00\.0/0000:09:00.0/g' "$T/saved.rules" >"$D/root/$RULES/90-vfio-hooks-0000:09:00.0.rules"
echo 'ACTION=="add", RUN+="/bin/sh -c reboot"' >"$D/root/$RULES/90-vfio-hooks-notours.rules"
: >"$D/root/.fakekernel/log"
FAKEKERNEL_ASSERT_LOCKED=1 cli "$D" bind --boot
check boot-all "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ] && [ -z "$(reset_of "$D" 0000:02:00.0)" ] &&
	[ "$(driver_of "$D" 0000:05:00.0)" = e1000e ] && [ "$(reset_of "$D" 0000:05:00.0)" = "pm bus" ] &&
	grep -q . "$D/root/.fakekernel/log" && ! grep -q '^unlocked' "$D/root/.fakekernel/log"; echo $?)" \
	"rc=$rc 02:00.0 on $(driver_of "$D" 0000:02:00.0) '$(reset_of "$D" 0000:02:00.0)', 05:00.0 on $(driver_of "$D" 0000:05:00.0) log: $(tr '\n' ';' <"$D/root/.fakekernel/log")" "$D/err"
snap "$D/root" >"$D/boot1"
cli "$D" bind --boot
snap "$D/root" >"$D/boot2"
check boot-all-again "$([ $rc = 0 ] && diff -q "$D/boot1" "$D/boot2" >/dev/null; echo $?)" "rc=$rc $(diff "$D/boot1" "$D/boot2" | head)" "$D/err"
cli "$D" bind --boot --driver vfio-pci
check boot-all-usage "$([ $rc = 2 ]; echo $?)" "rc=$rc" "$D/err"
rm -f "$D/root/$RULES/90-vfio-hooks-0000:05:00.0.rules" "$D/root/$RULES/90-vfio-hooks-0000:09:00.0.rules" "$D/root/$RULES/90-vfio-hooks-notours.rules"

# The rule runs the program that wrote it, from where it is; never a path
# the environment names (VFIO_HOOKS_FRONT, which the static CLI of earlier
# versions gave its dynamically linked twin, is no longer read).
mkdir -p "$T/inst" "$T/other"
cp "$CLI" "$T/inst/vfio-hooks"; cp "$CLI" "$T/evil"; cp "$CLI" "$T/other/vfio-hooks"
for front in "$T/inst/vfio-hooks" "$T/evil" "$T/other/vfio-hooks"; do
	cli "$D" unbind --persist 0000:02:00.0
	(VFIO_HOOKS_CONF="$D/conf" VFIO_HOOKS_FRONT=$front "$T/inst/vfio-hooks" bind --persist 0000:02:00.0 \
		>"$D/out" 2>"$D/err"); rc=$?
	want=$T/inst/vfio-hooks
	check "persist-front-${front#"$T"/}" "$([ $rc = 0 ] && grep -qF "RUN+=\"$want bind --boot" "$rule"; echo $?)" \
		"rc=$rc want $want" "$rule"
done
cli "$D" unbind --persist 0000:02:00.0
cli "$D" --json bind --persist 0000:02:00.0
check bind-json "$([ $rc = 0 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; sys.exit(not (r["device"]=="0000:02:00.0" and r["driver_before"]=="hailo" and r["driver"]=="vfio-pci" and r["reset_method"]=="" and r["persistent"]=="written" and r["error"] is None))' "$D/out"; echo $?)" "rc=$rc" "$D/out"
cli "$D" unbind --persist 0000:02:00.0

# ---------------------------------------------------------------- faults
# Every mutating write of bind, then of unbind, fails once with each error:
# a failed bind leaves the sysroot as it was and no journal; a failed unbind
# keeps the journal, and a second unbind finishes.
faults=0 fault_fail=0
fault_case() { # NAME OK
	faults=$((faults + 1))
	[ "$2" = 0 ] || fault_fail=$((fault_fail + 1))
	check "$1" "$2" "${3:-}" "${4:-}"
}
D=$T/f; fresh "$D"
: >"$D/root/.fakekernel/log"
cli "$D" --companions any bind 0000:05:00.0
nb=$(wc -l <"$D/root/.fakekernel/log")
cli "$D" unbind 0000:05:00.0
nu=$(($(wc -l <"$D/root/.fakekernel/log") - nb))
for err in EBUSY EIO ETIMEDOUT ENODEV NOBIND; do
	for ((k = 0; k < nb; k++)); do
		fresh "$D"
		if [ $err = NOBIND ]; then
			printf 'any NOBIND skip=%s once\nbind ENODEV once\n' "$k" >"$D/root/.fakekernel/inject"
		else
			echo "any $err skip=$k once" >"$D/root/.fakekernel/inject"
		fi
		cli "$D" --companions any bind 0000:05:00.0
		rm -f "$D/root/.fakekernel/inject"
		if [ $rc = 0 ]; then
			cli "$D" unbind 0000:05:00.0
			fault_case "fault-bind-$err-$k" "$([ $rc = 0 ] && pristine "$D"; echo $?)" "bound, then unbind rc=$rc" "$D/err"
		else
			fault_case "fault-bind-$err-$k" "$(pristine "$D" && [ -z "$(ls "$D/root/run/vfio-hooks" | grep journal)" ] && grep -q '0000:0[56]:00.0' "$D/err"; echo $?)" \
				"rc=$rc, sysroot changed or journal left: $(diff "$D/before" "$D/after" | head -4)" "$D/err"
		fi
	done
	for ((k = 0; k < nu; k++)); do
		fresh "$D"
		cli "$D" --companions any bind 0000:05:00.0
		[ $err = NOBIND ] && printf 'any NOBIND skip=%s once\nbind ENODEV once\n' "$k" >"$D/root/.fakekernel/inject"
		[ $err = NOBIND ] || echo "any $err skip=$k once" >"$D/root/.fakekernel/inject"
		cli "$D" unbind 0000:05:00.0
		first=$rc
		rm -f "$D/root/.fakekernel/inject"
		if [ $first != 0 ]; then
			ls "$D/root/run/vfio-hooks" | grep -q journal
			kept=$?
			cli "$D" unbind 0000:05:00.0
		else
			kept=0
		fi
		fault_case "fault-unbind-$err-$k" "$([ $kept = 0 ] && [ $rc = 0 ] && pristine "$D" && [ -z "$(ls "$D/root/run/vfio-hooks" | grep journal)" ]; echo $?)" \
			"first rc=$first, journal kept=$kept, second rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/err"
	done
done

# ---------------------------------------------------------------- crashes
# SIGKILL before each write of bind: recover puts everything back.  Before
# each write of unbind: unbind again finishes.
crashes=0 crash_fail=0
crash_case() {
	crashes=$((crashes + 1))
	[ "$2" = 0 ] || crash_fail=$((crash_fail + 1))
	check "$1" "$2" "${3:-}" "${4:-}"
}
for ((k = 0; k < nb; k++)); do
	fresh "$D"
	echo "any KILL skip=$k" >"$D/root/.fakekernel/inject"
	cli "$D" --companions any bind 0000:05:00.0
	killed=$rc
	rm -f "$D/root/.fakekernel/inject"
	cli "$D" recover
	crash_case "crash-bind-$k" "$([ $killed = 137 ] && [ $rc = 0 ] && pristine "$D" && [ -z "$(ls "$D/root/run/vfio-hooks" | grep journal)" ]; echo $?)" \
		"killed=$killed recover rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/err"
done
for ((k = 0; k < nu; k++)); do
	fresh "$D"
	cli "$D" --companions any bind 0000:05:00.0
	echo "any KILL skip=$k" >"$D/root/.fakekernel/inject"
	cli "$D" unbind 0000:05:00.0
	killed=$rc
	rm -f "$D/root/.fakekernel/inject"
	cli "$D" unbind 0000:05:00.0
	crash_case "crash-unbind-$k" "$([ $killed = 137 ] && [ $rc = 0 ] && pristine "$D" && [ -z "$(ls "$D/root/run/vfio-hooks" | grep journal)" ]; echo $?)" \
		"killed=$killed unbind again rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/err"
done

echo "bind-faults: $faults cases, $((faults - fault_fail)) passed ($nb writes of bind, $nu of unbind)"
echo "bind-crashes: $crashes cases, $((crashes - crash_fail)) passed"
echo "bind: $pass passed, $fail failed"
[ $fail = 0 ]
