#!/usr/bin/env bash
# The libvirt hook, run as libvirt runs it (argv, XML on stdin), against the
# fake kernel (tests/fakekernel.h) on a fake sysroot: scenarios, the fault
# matrix, the crash matrix and a concurrency test.  After every failure the
# sysroot must be byte-for-byte as before, or the journal must name what is
# left.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
HOOK="$build/tests/qemu-hook-fk"   # the engine, on the fake kernel
CLI="$build/tests/vfio-hooks-fk"
MKFS="$build/tests/mkfakesys"
export VFIO_HOOKS_DATADIR=$top/xml
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
unset VFIO_HOOKS_LOG
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
QUICK=${QUICK:-0}

ok() { pass=$((pass + 1)); [ "${VERBOSE:-0}" = 1 ] && echo "PASS hook/$1"; return 0; }
bad() { fail=$((fail + 1)); echo "FAIL hook/$1: $2"; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/    /' "$3" | head -30; return 0; }
check() { # NAME CONDITION-RESULT MESSAGE [FILE]
	if [ "$2" = 0 ]; then ok "$1"; else bad "$1" "$3" "${4:-}"; fi
}

# Everything the kernel shows, in one comparable text: every path, its type,
# its link target and its content (state of the fake kernel and our own
# /run excluded).
snap() {
	(cd "$1" && {
		find . \( -path ./.fakekernel -o -path ./run \) -prune -o -printf '%p %y %m %l\n' | sort
		find . \( -path ./.fakekernel -o -path ./run \) -prune -o -type f -print0 | sort -z | xargs -0 sha1sum
	})
}

# A host: a NIC on its own, a Hailo-8, a GPU with its audio function, an
# AIC100, a device in a group with an unrelated endpoint.
SPEC='iommu dmar0
driver vfio-pci
0000:00:01.0 id=8086:1905 class=0x060400 bridge pcie=4 group=1 driver=pcieport reset=none
0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 msix=5 pcie reset=pm,bus parent=0000:00:01.0
0000:02:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=16 msi=1 pcie reset=flr,bus
0000:03:00.0 id=17cb:a100 class=0x120000 driver=qaic group=12 msi=32 pcie
0000:41:00.0 id=10de:2204 class=0x030000 driver=nouveau group=41 msi=1 pcie
0000:41:00.1 id=10de:1aef class=0x040300 driver=snd_hda_intel group=41 msi=1 pcie
0000:05:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=60 msix=5 pcie reset=pm,bus
0000:06:00.0 id=1b21:1242 class=0x0c0330 driver=xhci_hcd group=60 msi=8 msix=8 pcie
0000:07:00.0 id=8086:10d3 class=0x020000 group=70 msix=5 pcie reset=pm,bus'

fresh() { # DIR [SPEC]: a new sysroot, its config, and its pristine snapshot
	rm -rf "$1"; mkdir -p "$1"
	printf '%s\n' "${2:-$SPEC}" | "$MKFS" "$1/root" - || exit 1
	printf 'root = %s\nlog_level = debug\ntimeout = 2\nlock_timeout = 30\n' "$1/root" >"$1/conf"
	snap "$1/root" >"$1/before"
}

uuid_of() { printf '6f1c3a52-8d0e-4b7e-9a55-%012d' "$1"; }

# domain NAME N [options] -> XML.  Options: managed=yes|no, dev=BB (repeat),
# full (q35 + vIOMMU + split I/O APIC), mode=warn|off, reset=ADDR:VALUE
domain() {
	local name=$1 n=$2; shift 2
	local managed=no full=0 mode="" meta_dev="" devs=""
	for o in "$@"; do
		case "$o" in
		managed=*) managed=${o#*=} ;;
		dev=*) devs="$devs ${o#*=}" ;;
		full) full=1 ;;
		mode=*) mode=${o#*=} ;;
		reset=*) meta_dev="$meta_dev<vh:device address='${o#reset=}' reset-method=''/>" ;;
		esac
	done
	echo "<domain type='kvm'><name>$name</name><uuid>$(uuid_of "$n")</uuid>"
	if [ -n "$mode$meta_dev" ]; then
		echo "<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'>"
		[ -n "$mode" ] && echo "<vh:mode>$mode</vh:mode>"
		echo "$meta_dev</vh:settings></metadata>"
	fi
	echo "<memory unit='MiB'>512</memory><vcpu>1</vcpu>"
	if [ $full = 1 ]; then
		echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/><ioapic driver='qemu'/></features>"
		echo "<devices><iommu model='intel'><driver intremap='on' caching_mode='on'/></iommu>"
	else
		echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features><devices>"
	fi
	for b in $devs; do
		local bus=${b%%.*} fn=0
		[ "$bus" != "$b" ] && fn=${b#*.}
		echo "<hostdev mode='subsystem' type='pci' managed='$managed'><source><address domain='0x0000' bus='0x$bus' slot='0x00' function='0x$fn'/></source></hostdev>"
	done
	echo "</devices></domain>"
}

hook() { # DIR XMLFILE OP [SUBOP] -> runs the hook as libvirt does; rc in $rc
	# (in a subshell: bash reports a SIGKILLed child on its own stderr)
	(VFIO_HOOKS_CONF="$1/conf" "$HOOK" "$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$2" | head -1)" \
		"$3" "${4:-begin}" - <"$2" >"$1/stdout" 2>"$1/stderr"; exit $?) 2>/dev/null
	rc=$?
}

driver_of() { basename "$(readlink "$1/root/sys/bus/pci/devices/$2/driver" 2>/dev/null)" 2>/dev/null; }
reset_of() { cat "$1/root/sys/bus/pci/devices/$2/reset_method" 2>/dev/null; }

# ---------------------------------------------------------------- scenarios
D=$T/s1; fresh "$D"
domain nic-vm 1 dev=01 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check prepare-unmanaged-binds "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:01:00.0)" = vfio-pci ] && [ -e "$D/root/dev/vfio/10" ]; echo $?)" "rc=$rc driver=$(driver_of "$D" 0000:01:00.0)" "$D/stderr"
check prepare-stdout-empty "$([ ! -s "$D/stdout" ]; echo $?)" "the hook printed to stdout" "$D/stdout"
check journal-private "$([ "$(stat -c %a "$D/root/run/vfio-hooks")" = 700 ] && [ "$(stat -c %a "$D/root/run/vfio-hooks/$(uuid_of 1).journal")" = 600 ]; echo $?)" "state directory or journal not private"
hook "$D" "$D/x.xml" start
check start-verifies "$([ $rc = 0 ]; echo $?)" "start failed" "$D/stderr"
hook "$D" "$D/x.xml" started; hook "$D" "$D/x.xml" stopped end
hook "$D" "$D/x.xml" release end
snap "$D/root" >"$D/after"
check release-restores "$([ $rc = 0 ] && diff -q "$D/before" "$D/after" >/dev/null && [ ! -e "$D/root/run/vfio-hooks/$(uuid_of 1).journal" ]; echo $?)" "sysroot differs after release" "$D/stderr"
hook "$D" "$D/x.xml" release end
check release-idempotent "$([ $rc = 0 ] && [ ! -s "$D/stdout" ]; echo $?)" "second release rc=$rc"

# managed='yes': the hook leaves binding to libvirt; start finds it unbound.
D=$T/s2; fresh "$D"
domain nic-vm 2 dev=01 managed=yes >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check managed-not-bound "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:01:00.0)" = e1000e ]; echo $?)" "managed device was bound by the hook" "$D/stderr"
hook "$D" "$D/x.xml" start
check managed-start-refuses-unbound "$([ $rc = 1 ] && grep -q '0000:01:00.0 is on driver e1000e' "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end

# Hailo-8: reset_method emptied while assigned, restored after.
D=$T/s3; fresh "$D"
domain hailo-vm 3 dev=02 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check hailo-reset-method-empty "$([ $rc = 0 ] && [ -z "$(cat "$D/root/sys/bus/pci/devices/0000:02:00.0/reset_method")" ]; echo $?)" "reset_method is '$(cat "$D/root/sys/bus/pci/devices/0000:02:00.0/reset_method")'" "$D/stderr"
hook "$D" "$D/x.xml" release end
snap "$D/root" >"$D/after"
check hailo-restored "$(diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "sysroot differs" "$D/stderr"
check hailo-no-reset-on-release "$(! grep -q '^reset 0000:02:00.0' "$D/root/.fakekernel/log"; echo $?)" "the Hailo-8 was reset on release"

# Per-domain metadata: reset_method for a device without a profile.
D=$T/s4; fresh "$D"
domain nic-vm 4 dev=01 reset=0000:01:00.0 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check metadata-reset-method "$([ $rc = 0 ] && [ -z "$(cat "$D/root/sys/bus/pci/devices/0000:01:00.0/reset_method")" ]; echo $?)" "metadata reset_method not applied" "$D/stderr"
hook "$D" "$D/x.xml" release end
snap "$D/root" >"$D/after"
check metadata-restored "$(diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "sysroot differs" "$D/stderr"

# A refused prepare (AIC100 without vIOMMU) touches nothing and says why.
D=$T/s5; fresh "$D"
domain aic-vm 5 dev=03 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
snap "$D/root" >"$D/after"
check refused-untouched "$([ $rc = 1 ] && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "rc=$rc or sysroot changed" "$D/stderr"
check refused-message "$(grep -q 'refuses to start domain' "$D/stderr" && grep -q '\[viommu-missing\]' "$D/stderr" && grep -q '\[ioapic-split\]' "$D/stderr" && grep -q "<ioapic driver='qemu'/>" "$D/stderr"; echo $?)" "stderr lacks the rules or the fix" "$D/stderr"
check refused-one-line-per-finding "$([ "$(grep -c '^\[' "$D/stderr")" = 2 ]; echo $?)" "expected 2 finding lines" "$D/stderr"
# The same instance written by OpenStack Nova: each finding's line names
# the Nova setting after the XML fix, still one line per finding.
domain aic-vm 5 dev=03 | sed "s#</uuid>#</uuid><metadata><nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'><nova:flavor name='aic.large'/></nova:instance></metadata>#" >"$D/nova.xml"
hook "$D" "$D/nova.xml" prepare
check refused-message-nova "$([ $rc = 1 ] && grep -q "^\[viommu-missing\] .* Fix, in <devices>: <iommu model='intel'> .* Fix, in OpenStack Nova: flavor extra spec hw:viommu_model=intel " "$D/stderr" && [ "$(grep -c '^\[' "$D/stderr")" = 2 ]; echo $?)" "stderr lacks the Nova fix" "$D/stderr"
domain aic-vm 5 dev=03 full >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check complete-aic100-prepares "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:03:00.0)" = vfio-pci ]; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end

# mode warn (per domain): starts despite findings, findings logged.
D=$T/s6; fresh "$D"
domain aic-vm 6 dev=03 mode=warn >"$D/x.xml"
VFIO_HOOKS_LOG=stderr hook "$D" "$D/x.xml" prepare
check warn-mode-starts "$([ $rc = 0 ] && grep -q 'starting anyway (mode warn)' "$D/stderr" && grep -q 'viommu-missing' "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end
domain aic-vm 6 dev=03 mode=off >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
snap "$D/root" >"$D/after"
check off-mode-nothing "$([ $rc = 0 ] && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "mode off changed something" "$D/stderr"

# Each finding is logged at its own severity: memlock-too-low is an info
# (libvirt sets the locked-memory limit itself), so log_level = warning
# hides it, and error findings beside it do not make it an error.
D=$T/s6c; fresh "$D"
loglevel() { sed -i "s/^log_level = .*/log_level = $2/" "$1/conf"; }
domain nic-vm 62 dev=01 >"$D/x.xml"
loglevel "$D" info
VFIO_HOOKS_LOG=stderr hook "$D" "$D/x.xml" prepare
check log-info-finding-at-info "$([ $rc = 0 ] && grep -q 'nic-vm: \[memlock-too-low\] ' "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end
loglevel "$D" warning
VFIO_HOOKS_LOG=stderr hook "$D" "$D/x.xml" prepare
check log-info-finding-not-warning "$([ $rc = 0 ] && ! grep -q 'memlock-too-low' "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end
domain aic-vm 63 dev=03 mode=warn >"$D/x.xml"
loglevel "$D" error
VFIO_HOOKS_LOG=stderr hook "$D" "$D/x.xml" prepare
check log-info-finding-not-error "$([ $rc = 0 ] && grep -q 'aic-vm: \[viommu-missing\] ' "$D/stderr" && ! grep -q 'memlock-too-low' "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end
snap "$D/root" >"$D/after"
check log-findings-restored "$([ $rc = 0 ] && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "sysroot differs" "$D/stderr"

# device-in-use refuses in mode warn too: a VM must never take the host's
# mounted disk, whatever its mode says; nothing is written.
D=$T/s6b; fresh "$D" "iommu dmar0
driver vfio-pci
0000:00:1c.0 id=8086:a338 class=0x060400 bridge pcie=4 driver=pcieport group=2 reset=none
0000:03:00.0 id=1b4b:9215 class=0x010601 driver=ahci group=3 msi=1 pcie parent=0000:00:1c.0
block sdb pci=0000:03:00.0 dev=8:16
block sdb1 part=sdb dev=8:17
mount sdb1 /data xfs"
domain disk-vm 61 dev=03 mode=warn >"$D/x.xml"
VFIO_HOOKS_LOG=stderr hook "$D" "$D/x.xml" prepare
check in-use-refused-in-warn-mode "$([ $rc = 1 ] && grep -q 'device-in-use' "$D/stderr" && grep -q '/dev/sdb1 is mounted on /data' "$D/stderr" && grep -q '(mode warn;' "$D/stderr" && snap "$D/root" | diff -q "$D/before" - >/dev/null; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end

# GPU + its audio function: the companion is bound and given back.
D=$T/s7; fresh "$D"
domain gpu-vm 7 dev=41 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check companion-bound "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:41:00.1)" = vfio-pci ] && [ "$(driver_of "$D" 0000:41:00.0)" = vfio-pci ]; echo $?)" "companion not bound" "$D/stderr"
hook "$D" "$D/x.xml" release end
snap "$D/root" >"$D/after"
check companion-restored "$(diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "sysroot differs" "$D/stderr"

# An unrelated group member: refused as group-not-viable, nothing touched.
D=$T/s8; fresh "$D"
domain nic-vm 8 dev=05 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
snap "$D/root" >"$D/after"
check group-not-viable-refused "$([ $rc = 1 ] && grep -q 'group-not-viable' "$D/stderr" && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "rc=$rc" "$D/stderr"

# drivers_probe that binds nothing, and a bind that fails: refused, named.
D=$T/s12; fresh "$D"
domain nic-vm 12 dev=01 >"$D/x.xml"
printf 'probe NOBIND once\nbind ENODEV once\n' >"$D/root/.fakekernel/inject"
hook "$D" "$D/x.xml" prepare
rm "$D/root/.fakekernel/inject"
snap "$D/root" >"$D/after"
check probe-binds-nothing "$([ $rc = 1 ] && grep -q '0000:01:00.0: after drivers_probe the device is on no driver, not vfio-pci' "$D/stderr" && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "rc=$rc" "$D/stderr"

# An unbind that never returns: bounded, named, rolled back.
D=$T/s13; fresh "$D"
domain nic-vm 13 dev=01 >"$D/x.xml"
printf 'unbind ETIMEDOUT once\n' >"$D/root/.fakekernel/inject"
hook "$D" "$D/x.xml" prepare
snap "$D/root" >"$D/after"
check unbind-timeout "$([ $rc = 1 ] && grep -q 'unbinding it from driver e1000e failed (/sys/bus/pci/drivers/e1000e/unbind: no answer within the timeout); the driver is holding the device' "$D/stderr" && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "rc=$rc" "$D/stderr"

# Two domains, one device: the second is refused with device-busy.
D=$T/s9; fresh "$D"
domain a-vm 91 dev=01 >"$D/a.xml"; domain b-vm 92 dev=01 >"$D/b.xml"
hook "$D" "$D/a.xml" prepare; rc_a=$rc
hook "$D" "$D/b.xml" prepare
check device-busy "$([ $rc_a = 0 ] && [ $rc = 1 ] && grep -q '\[device-busy\] 0000:01:00.0 is held by domain .a-vm.' "$D/stderr" && [ "$(driver_of "$D" 0000:01:00.0)" = vfio-pci ]; echo $?)" "rc_a=$rc_a rc=$rc" "$D/stderr"
hook "$D" "$D/b.xml" release end
check busy-release-keeps-other "$([ "$(driver_of "$D" 0000:01:00.0)" = vfio-pci ] && [ -e "$D/root/run/vfio-hooks/$(uuid_of 91).journal" ]; echo $?)" "releasing b undid a's device"
hook "$D" "$D/a.xml" release end
snap "$D/root" >"$D/after"
check busy-then-restored "$(diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "sysroot differs"

# Hostile state: a symlink where the journal goes; a corrupt journal.
D=$T/s10; fresh "$D"
mkdir -p "$D/root/run/vfio-hooks"; chmod 700 "$D/root/run/vfio-hooks"
echo secret >"$T/target"
ln -s "$T/target" "$D/root/run/vfio-hooks/$(uuid_of 10).journal"
domain nic-vm 10 dev=01 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
snap "$D/root" >"$D/after"
check journal-symlink-refused "$([ $rc = 1 ] && [ "$(cat "$T/target")" = secret ] && grep -q 'symlink' "$D/stderr" && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "rc=$rc" "$D/stderr"
rm "$D/root/run/vfio-hooks/$(uuid_of 10).journal"
printf 'vfio-hooks-journal 1\ndomain x\nuuid %s\ndev garbage\n' "$(uuid_of 10)" >"$D/root/run/vfio-hooks/$(uuid_of 10).journal"
VFIO_HOOKS_LOG=stderr hook "$D" "$D/x.xml" release end
check corrupt-journal-release "$([ $rc = 0 ] && grep -q 'is corrupt at line 4' "$D/stderr" && [ -e "$D/root/run/vfio-hooks/$(uuid_of 10).journal" ]; echo $?)" "rc=$rc" "$D/stderr"
VFIO_HOOKS_LOG=stderr hook "$D" "$D/x.xml" reconnect
check corrupt-journal-reconnect-survives "$([ $rc = 0 ]; echo $?)" "reconnect failed the VM" "$D/stderr"

# Operations with nothing to do, and unknown operations.
D=$T/s11; fresh "$D"
domain plain-vm 11 >"$D/x.xml"
for op in prepare start started stopped release reconnect migrate restore attach frobnicate; do
	hook "$D" "$D/x.xml" $op
	[ $rc = 0 ] && [ ! -s "$D/stdout" ] || bad "noop-$op" "rc=$rc" "$D/stderr"
done
ok noop-operations
printf 'mode = sideways\n' >"$D/conf.bad"
VFIO_HOOKS_CONF="$D/conf.bad" "$HOOK" plain-vm prepare begin - <"$D/x.xml" >/dev/null 2>"$D/err"; rc=$?
check bad-config-spares-plain-vm "$([ $rc = 0 ]; echo $?)" "a broken config failed a VM without hostdevs" "$D/err"
domain nic-vm 11 dev=01 >"$D/y.xml"
printf 'root = %s\nmode = sideways\n' "$D/root" >"$D/conf.bad"
VFIO_HOOKS_CONF="$D/conf.bad" "$HOOK" nic-vm prepare begin - <"$D/y.xml" >/dev/null 2>"$D/err"; rc=$?
check bad-config-refuses-hostdev-vm "$([ $rc = 1 ] && grep -q "conf.bad:2: mode = 'sideways' is not valid" "$D/err"; echo $?)" "rc=$rc" "$D/err"
printf '<domain><name>x</name><devices><hostdev' >"$D/broken.xml"
hook "$D" "$D/broken.xml" prepare
check malformed-xml-refused "$([ $rc = 1 ] && grep -q 'malformed XML' "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"

# The fast path (most VMs): nothing to do is decided before the
# configuration is read: a broken one, which would refuse a domain with a
# hostdev, does not touch a domain without one, nor a release without a
# journal.
D=$T/s14; fresh "$D"
domain plain-vm 14 >"$D/plain.xml"; domain aic-vm 14 dev=03 >"$D/aic.xml"
echo 'mode = sometimes' >"$D/broken.conf"
VFIO_HOOKS_CONF="$D/broken.conf" VFIO_HOOKS_ROOT="$D/root" "$HOOK" plain-vm prepare begin - <"$D/plain.xml" >"$D/stdout" 2>"$D/stderr"; rc=$?
check fast-nothing-to-do "$([ $rc = 0 ] && [ ! -s "$D/stdout" ] && [ ! -s "$D/stderr" ]; echo $?)" "rc=$rc" "$D/stderr"
VFIO_HOOKS_CONF="$D/broken.conf" VFIO_HOOKS_ROOT="$D/root" "$HOOK" aic-vm prepare begin - <"$D/aic.xml" >"$D/stdout" 2>"$D/stderr"; rc=$?
check fast-path-not-for-hostdevs "$([ $rc = 1 ] && grep -q "mode" "$D/stderr" && [ ! -s "$D/stdout" ]; echo $?)" "rc=$rc" "$D/stderr"
VFIO_HOOKS_CONF="$D/conf" "$HOOK" aic-vm prepare begin - <"$D/aic.xml" >"$D/stdout" 2>"$D/stderr"; rc=$?
snap "$D/root" >"$D/after"
check hostdev-domain-checked "$([ $rc = 1 ] && grep -q "refuses to start domain 'aic-vm'" "$D/stderr" && grep -q viommu-missing "$D/stderr" && [ ! -s "$D/stdout" ] && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "rc=$rc" "$D/stderr"
VFIO_HOOKS_CONF="$D/broken.conf" VFIO_HOOKS_ROOT="$D/root" "$HOOK" aic-vm release end - <"$D/aic.xml" >"$D/stdout" 2>"$D/stderr"; rc=$?
check fast-release-no-journal "$([ $rc = 0 ] && [ ! -s "$D/stdout" ]; echo $?)" "rc=$rc" "$D/stderr"

# An <interface type='network'> gets a PCI device only from a <forward
# mode='hostdev'> network: with none active the fast path answers (a broken
# configuration does not touch the domain); with one, the domain is checked
# against the pool's devices, which libvirt picks after prepare.
D=$T/s14n; fresh "$D"
net_domain() { # NAME N NETWORK
	echo "<domain type='kvm'><name>$1</name><uuid>$(uuid_of "$2")</uuid><memory unit='MiB'>512</memory><vcpu>1</vcpu>"
	echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features><devices>"
	echo "<interface type='network'><source network='$3'/><model type='virtio'/></interface></devices></domain>"
}
net_domain nat-vm 141 default >"$D/nat.xml"; net_domain pool-vm 142 vfs >"$D/pool.xml"
mkdir -p "$D/root/run/libvirt/network"
printf "<networkstatus><network><name>default</name><forward mode='nat'/></network></networkstatus>\n" >"$D/root/run/libvirt/network/default.xml"
echo 'mode = sometimes' >"$D/broken.conf"
VFIO_HOOKS_CONF="$D/broken.conf" VFIO_HOOKS_ROOT="$D/root" "$HOOK" nat-vm prepare begin - <"$D/nat.xml" >"$D/stdout" 2>"$D/stderr"; rc=$?
check fast-network-not-hostdev "$([ $rc = 0 ] && [ ! -s "$D/stdout" ] && [ ! -s "$D/stderr" ]; echo $?)" "rc=$rc" "$D/stderr"
printf "<networkstatus><network><name>vfs</name><forward mode='hostdev' managed='yes'><address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></forward></network></networkstatus>\n" >"$D/root/run/libvirt/network/vfs.xml"
VFIO_HOOKS_LOG=stderr hook "$D" "$D/pool.xml" prepare
check network-pool-checked "$([ $rc = 1 ] && grep -q "refuses to start domain 'pool-vm'" "$D/stderr" && grep -q viommu-missing "$D/stderr" &&
	grep -q "network-hostdev" "$D/stderr" && [ ! -s "$D/stdout" ] && { snap "$D/root" >"$D/after"; diff -q "$D/before" "$D/after" >/dev/null; }; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/nat.xml" prepare
check network-nat-untouched "$([ $rc = 0 ] && [ ! -s "$D/stdout" ] && { snap "$D/root" >"$D/after"; diff -q "$D/before" "$D/after" >/dev/null; }; echo $?)" "rc=$rc" "$D/stderr"

# Release never touches a device another journal holds: a journal that
# also names a device a running domain holds (planted, or left by a bug)
# gives back its own devices and leaves that one alone.
D=$T/s15; fresh "$D"
domain nic-vm 151 dev=01 >"$D/nic.xml"; domain hailo-vm 152 dev=02 >"$D/hailo.xml"
hook "$D" "$D/nic.xml" prepare; rc_a=$rc
hook "$D" "$D/hailo.xml" prepare; rc_b=$rc
printf 'dev 0000:01:00.0 role=hostdev managed=0 driver=e1000e override=- reset_method=pm%%20bus reset=1\n' \
	>>"$D/root/run/vfio-hooks/$(uuid_of 152).journal"
VFIO_HOOKS_LOG=stderr hook "$D" "$D/hailo.xml" release end
check release-skips-held-device "$([ $rc_a = 0 ] && [ $rc_b = 0 ] && [ $rc = 0 ] &&
	[ "$(driver_of "$D" 0000:01:00.0)" = vfio-pci ] && [ "$(driver_of "$D" 0000:02:00.0)" = hailo ] &&
	grep -q "0000:01:00.0: left as it is: domain 'nic-vm' holds it too (journal /run/vfio-hooks/$(uuid_of 151).journal)" "$D/stderr" &&
	[ ! -e "$D/root/run/vfio-hooks/$(uuid_of 152).journal" ]; echo $?)" \
	"rc=$rc_a/$rc_b/$rc 01 on $(driver_of "$D" 0000:01:00.0), 02 on $(driver_of "$D" 0000:02:00.0)" "$D/stderr"
hook "$D" "$D/nic.xml" release end
snap "$D/root" >"$D/after"
check release-skips-held-then-restored "$([ $rc = 0 ] && diff -q "$D/before" "$D/after" >/dev/null; echo $?)" "sysroot differs" "$D/stderr"

# recover leaves a running domain's journal alone: a process (its QEMU)
# has the device's VFIO group open.  Once it is gone, recover restores.
D=$T/s16; fresh "$D"
domain nic-vm 16 dev=01 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
mkdir -p "$D/root/proc/4242/fd"; ln -s /dev/vfio/10 "$D/root/proc/4242/fd/23"; ln -s /dev/null "$D/root/proc/4242/fd/0"
echo qemu-system-x86 >"$D/root/proc/4242/comm"
: >"$D/root/.fakekernel/log"
VFIO_HOOKS_CONF="$D/conf" "$CLI" recover >"$D/out" 2>"$D/err"; rc=$?
check recover-keeps-running "$([ $rc = 0 ] && [ "$(driver_of "$D" 0000:01:00.0)" = vfio-pci ] && [ ! -s "$D/root/.fakekernel/log" ] &&
	[ -e "$D/root/run/vfio-hooks/$(uuid_of 16).journal" ] &&
	grep -q "nic-vm (journal /run/vfio-hooks/$(uuid_of 16).journal): kept: the domain is running (process 4242 (qemu-system-x86) holds /dev/vfio/10 of 0000:01:00.0)" "$D/err" &&
	grep -q 'but 1 of running domain' "$D/out"; echo $?)" "rc=$rc driver=$(driver_of "$D" 0000:01:00.0)" "$D/err"
rm -rf "$D/root/proc/4242"
VFIO_HOOKS_CONF="$D/conf" "$CLI" recover >"$D/out" 2>"$D/err"; rc=$?
snap "$D/root" >"$D/after"
check recover-after-exit "$([ $rc = 0 ] && diff -q "$D/before" "$D/after" >/dev/null && grep -q 'nothing left' "$D/out" &&
	[ ! -e "$D/root/run/vfio-hooks/$(uuid_of 16).journal" ]; echo $?)" "rc=$rc" "$D/err"
hook "$D" "$D/x.xml" prepare
mkdir -p "$D/root/proc/77/fd"; ln -s /dev/vfio/10 "$D/root/proc/77/fd/5"
VFIO_HOOKS_CONF="$D/conf" "$CLI" recover --force >"$D/out" 2>"$D/err"; rc=$?
rm -rf "$D/root/proc/77"
snap "$D/root" >"$D/after"
check recover-force "$([ $rc = 0 ] && diff -q "$D/before" "$D/after" >/dev/null && grep -q 'nothing left' "$D/out"; echo $?)" "rc=$rc" "$D/err"

# start puts a reset_method back under the state lock: every write it makes
# holds the lock, and while another holds it, start waits its lock_timeout,
# then fails naming the lock, having written nothing.
D=$T/s17; fresh "$D"
domain hailo-vm 17 dev=02 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
echo 'flr bus' >"$D/root/sys/bus/pci/devices/0000:02:00.0/reset_method"
: >"$D/root/.fakekernel/log"
FAKEKERNEL_ASSERT_LOCKED=1 hook "$D" "$D/x.xml" start
check start-writes-locked "$([ $rc = 0 ] && [ -z "$(reset_of "$D" 0000:02:00.0)" ] && grep -q '^reset_method 0000:02:00.0' "$D/root/.fakekernel/log" &&
	! grep -q '^unlocked' "$D/root/.fakekernel/log"; echo $?)" "rc=$rc log: $(tr '\n' ';' <"$D/root/.fakekernel/log")" "$D/stderr"
echo 'flr bus' >"$D/root/sys/bus/pci/devices/0000:02:00.0/reset_method"
sed -i 's/^lock_timeout = .*/lock_timeout = 1/' "$D/conf"
: >"$D/root/.fakekernel/log"
flock "$D/root/run/vfio-hooks/lock" sleep 3 & holder=$!
sleep 0.3
hook "$D" "$D/x.xml" start
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
check start-waits-for-lock "$([ $rc = 1 ] && grep -q 'Cannot take /run/vfio-hooks/lock: still held after the lock timeout' "$D/stderr" &&
	[ "$(reset_of "$D" 0000:02:00.0)" = 'flr bus' ] && [ ! -s "$D/root/.fakekernel/log" ]; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end

# ------------------------------------------------------------- fault matrix
# Every mutating step of prepare, every error: the hook exits 1 naming the
# device, and the sysroot is exactly as before.
D=$T/fm; fresh "$D"
domain gpu-vm 20 dev=41 dev=02 >"$T/fm.xml"   # companion + reset_method
hook "$D" "$T/fm.xml" prepare
steps=$(grep -c . "$D/root/.fakekernel/log")
hook "$D" "$T/fm.xml" release end
# A fault that fires once (the roll-back then works: the sysroot must be
# exactly as before) and one that persists (the roll-back fails too: the
# journal must name what is left, and a later release must finish).
errors="EBUSY ENODEV EINVAL EIO ETIMEDOUT NOBIND"
[ "$QUICK" = 1 ] && errors="EBUSY ETIMEDOUT"
fm_cases=0 fm_ok=0
for err in $errors; do
	for persist in once always; do
	for ((k = 0; k < steps; k++)); do
		fresh "$D"
		if [ "$err" = NOBIND ]; then
			# drivers_probe "succeeds" binding nothing, and the
			# explicit bind after it fails too.
			printf 'any NOBIND skip=%s %s\nbind ENODEV\n' "$k" "${persist/always/}" >"$D/root/.fakekernel/inject"
		else
			echo "any $err skip=$k ${persist/always/}" >"$D/root/.fakekernel/inject"
		fi
		hook "$D" "$T/fm.xml" prepare
		fm_cases=$((fm_cases + 1))
		snap "$D/root" >"$D/after"
		left=$(ls "$D/root/run/vfio-hooks/"*.journal 2>/dev/null | wc -l)
		op=$(sed -n "$((k + 1))p" "$D/root/.fakekernel/log" | cut -d' ' -f1)
		if [ $rc = 0 ]; then
			# The fault was absorbed (a probe error followed by an
			# explicit bind that worked, NOBIND on a write it means
			# nothing to): the devices must be prepared, and release
			# must give everything back.
			if [ "$(driver_of "$D" 0000:41:00.0)" = vfio-pci ] &&
				[ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ]; then
				rm -f "$D/root/.fakekernel/inject"
				hook "$D" "$T/fm.xml" release end
				snap "$D/root" >"$D/after"
				if diff -q "$D/before" "$D/after" >/dev/null; then fm_ok=$((fm_ok + 1))
				else bad "fault-$err-$persist-step$k" "absorbed, but release left changes" "$D/stderr"; fi
			else
				bad "fault-$err-$persist-step$k" "rc=0 but the devices are not on vfio-pci" "$D/stderr"
			fi
			continue
		fi
		if [ $rc = 1 ] && grep -q '0000:' "$D/stderr" && [ ! -s "$D/stdout" ] &&
			{ diff -q "$D/before" "$D/after" >/dev/null && [ "$left" = 0 ]; }; then
			fm_ok=$((fm_ok + 1))
		elif [ $rc = 1 ] && [ "$left" = 1 ] && grep -q '^failed ' "$D/root/run/vfio-hooks/"*.journal; then
			# Rolled back as far as the kernel let it; the journal
			# names what is left, and a later release finishes it.
			rm -f "$D/root/.fakekernel/inject"
			hook "$D" "$T/fm.xml" release end
			snap "$D/root" >"$D/after"
			if diff -q "$D/before" "$D/after" >/dev/null; then fm_ok=$((fm_ok + 1))
			else bad "fault-$err-$persist-step$k" "not restored after a second release" "$D/stderr"; fi
		else
			diff "$D/before" "$D/after" >"$D/diff"
			bad "fault-$err-$persist-step$k" "rc=$rc left=$left op=$op" "$D/diff"
			sed 's/^/    /' "$D/stderr" | head -5
		fi
	done
	done
done
check fault-matrix "$([ $fm_ok = $fm_cases ]; echo $?)" "$fm_ok of $fm_cases cases clean"
echo "fault matrix: $fm_cases cases ($steps steps x errors: $errors, once and persistent), $fm_ok clean"
echo "faults: $fm_cases cases, $fm_ok passed"

# Faults during release: the stop never fails, the journal keeps the rest,
# and a later release (or recover) completes it.
rf_cases=0 rf_ok=0
for err in EBUSY EIO ETIMEDOUT; do
	for op in unbind probe reset_method override; do
		fresh "$D"
		hook "$D" "$T/fm.xml" prepare
		echo "$op $err" >"$D/root/.fakekernel/inject"
		hook "$D" "$T/fm.xml" release end
		rf_cases=$((rf_cases + 1))
		rc1=$rc
		rm -f "$D/root/.fakekernel/inject"
		hook "$D" "$T/fm.xml" release end
		snap "$D/root" >"$D/after"
		if [ $rc1 = 0 ] && [ ! -s "$D/stdout" ] && diff -q "$D/before" "$D/after" >/dev/null &&
			! ls "$D/root/run/vfio-hooks/"*.journal >/dev/null 2>&1; then
			rf_ok=$((rf_ok + 1))
		else bad "release-fault-$op-$err" "rc=$rc1" "$D/stderr"; fi
	done
done
check release-fault-matrix "$([ $rf_ok = $rf_cases ]; echo $?)" "$rf_ok of $rf_cases"
echo "release fault matrix: $rf_cases cases, $rf_ok clean"
echo "release-faults: $rf_cases cases, $rf_ok passed"

# ------------------------------------------------------------- crash matrix
# SIGKILL before each mutating write of prepare, then release: everything
# back.
cm_cases=0 cm_ok=0
for ((k = 0; k < steps; k++)); do
	fresh "$D"
	echo "any KILL skip=$k" >"$D/root/.fakekernel/inject"
	hook "$D" "$T/fm.xml" prepare
	rc1=$rc
	rm -f "$D/root/.fakekernel/inject"
	hook "$D" "$T/fm.xml" release end
	cm_cases=$((cm_cases + 1))
	snap "$D/root" >"$D/after"
	if [ $rc1 = 137 ] && diff -q "$D/before" "$D/after" >/dev/null &&
		! ls "$D/root/run/vfio-hooks/"*.journal >/dev/null 2>&1; then
		cm_ok=$((cm_ok + 1))
	else
		diff "$D/before" "$D/after" >"$D/diff"
		bad "crash-step$k" "rc=$rc1" "$D/diff"
	fi
done
# Killed, then started again: the leftover is undone first.
fresh "$D"
echo "any KILL skip=2" >"$D/root/.fakekernel/inject"
hook "$D" "$T/fm.xml" prepare
rm -f "$D/root/.fakekernel/inject"
hook "$D" "$T/fm.xml" prepare
hook "$D" "$T/fm.xml" release end
snap "$D/root" >"$D/after"
cm_cases=$((cm_cases + 1))
if diff -q "$D/before" "$D/after" >/dev/null; then cm_ok=$((cm_ok + 1)); else bad crash-then-prepare "not restored" "$D/stderr"; fi
# Killed, then 'vfio-hooks recover' (as after a reboot of libvirtd's host
# with the VM gone): everything back.
for k in 1 5; do
	fresh "$D"
	echo "any KILL skip=$k" >"$D/root/.fakekernel/inject"
	hook "$D" "$T/fm.xml" prepare
	rm -f "$D/root/.fakekernel/inject"
	VFIO_HOOKS_CONF="$D/conf" "$CLI" recover >"$D/out" 2>"$D/err"; rc=$?
	snap "$D/root" >"$D/after"
	cm_cases=$((cm_cases + 1))
	if [ $rc = 0 ] && diff -q "$D/before" "$D/after" >/dev/null && grep -q 'nothing left' "$D/out"; then
		cm_ok=$((cm_ok + 1))
	else bad "crash-recover-step$k" "rc=$rc" "$D/err"; fi
done
check crash-matrix "$([ $cm_ok = $cm_cases ]; echo $?)" "$cm_ok of $cm_cases"
echo "crash matrix: $cm_cases cases, $cm_ok restored"
echo "crashes: $cm_cases cases, $cm_ok passed"

# -------------------------------------------------------------- concurrency
# Domains started at once, two of them wanting the same device: exactly one
# gets it, nothing is left after every release.
D=$T/cc; fresh "$D"
n=8
for i in $(seq 1 $n); do
	case $((i % 4)) in
	0) domain "vm$i" $((100 + i)) dev=01 >"$T/cc$i.xml" ;;
	1) domain "vm$i" $((100 + i)) dev=41 >"$T/cc$i.xml" ;;
	2) domain "vm$i" $((100 + i)) dev=02 >"$T/cc$i.xml" ;;
	3) domain "vm$i" $((100 + i)) dev=07 >"$T/cc$i.xml" ;;
	esac
done
for i in $(seq 1 $n); do
	(VFIO_HOOKS_CONF="$D/conf" "$HOOK" "vm$i" prepare begin - <"$T/cc$i.xml" >/dev/null 2>"$D/$i.err"; echo $? >"$D/$i.rc") &
done
wait
winners=0
for g in 01 41 02 07; do
	w=0
	for i in $(seq 1 $n); do grep -q "bus='0x$g'" "$T/cc$i.xml" && [ "$(cat "$D/$i.rc")" = 0 ] && w=$((w + 1)); done
	[ $w = 1 ] || bad "concurrent-$g" "$w domains got 0000:$g:00.0"
	winners=$((winners + w))
done
busy=$(cat "$D"/*.err | grep -c 'device-busy')
for i in $(seq 1 $n); do
	(VFIO_HOOKS_CONF="$D/conf" "$HOOK" "vm$i" release end - <"$T/cc$i.xml" >/dev/null 2>&1) &
done
wait
snap "$D/root" >"$D/after"
check concurrency "$([ $winners = 4 ] && [ "$busy" = 4 ] && diff -q "$D/before" "$D/after" >/dev/null && ! ls "$D/root/run/vfio-hooks/"*.journal >/dev/null 2>&1; echo $?)" "winners=$winners busy=$busy"

echo "hook: $pass passed, $fail failed"
[ $fail = 0 ]
