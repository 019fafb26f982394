#!/usr/bin/env bash
# End-to-end, level 1: a real libvirtd on this machine (no guest kernel).
# `vfio-hooks check --domain` and `--all` fetch domain XMLs through the
# libvirt API from a daemon this script starts (or one already running).
# The domains reference PCI addresses that do not exist on this machine;
# the devices live in a fake sysroot given with --root.  Nothing here writes
# to /sys.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${VFIO_HOOKS_BIN:-$top/build/vfio-hooks}
export VFIO_HOOKS_DATADIR=$top/xml
tmp=$(mktemp -d)
pass=0 fail=0 started=0
uri=qemu:///system

cleanup() {
	for d in vh-e2e-ok vh-e2e-bad; do
		timeout 20 virsh -c $uri undefine "$d" >/dev/null 2>&1
	done
	if [ $started = 1 ]; then
		kill "$(cat /run/libvirtd.pid 2>/dev/null)" 2>/dev/null
		kill "$(cat /run/virtlogd.pid 2>/dev/null)" 2>/dev/null
		if [ -f "$tmp/qemu.conf.orig" ]; then cp "$tmp/qemu.conf.orig" /etc/libvirt/qemu.conf
		else rm -f /etc/libvirt/qemu.conf; fi
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

result() { # NAME OK(0/1) [DETAILS FILE]
	if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS e2e/level1/$1"
	else fail=$((fail + 1)); echo "FAIL e2e/level1/$1"; [ -n "${3:-}" ] && sed 's/^/    /' "$3"; fi
}

if [ "$(id -u)" != 0 ] || ! command -v libvirtd >/dev/null; then
	echo "e2e/level1: needs root and libvirtd (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86)" >&2
	echo "level1: 0 passed, 1 failed"; exit 1
fi

# Start a daemon the way the recipe measured, unless one already answers.
if ! timeout 10 virsh -c $uri version >/dev/null 2>&1; then
	mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu /run/libvirt
	getent passwd libvirt-qemu >/dev/null || useradd -r -M -s /usr/sbin/nologin libvirt-qemu 2>/dev/null
	# The minimal configuration the recipe measured (no systemd, no
	# cgroups, no security driver); without it every API call waits for
	# a capability probe.  The original is put back on exit.
	[ -f /etc/libvirt/qemu.conf ] && cp /etc/libvirt/qemu.conf "$tmp/qemu.conf.orig"
	mkdir -p /etc/libvirt
	printf '%s\n' 'user = "root"' 'group = "root"' 'dynamic_ownership = 0' \
		'remember_owner = 0' 'security_driver = "none"' 'cgroup_controllers = [ ]' \
		>/etc/libvirt/qemu.conf
	virtlogd -d -p /run/virtlogd.pid
	libvirtd -d -p /run/libvirtd.pid
	started=1
	for _ in $(seq 50); do timeout 5 virsh -c $uri version >/dev/null 2>&1 && break; sleep 0.2; done
fi

# Addresses on bus 0xe1/0xe2 are checked to be absent from this machine.
for a in 0000:e1:00.0 0000:e2:00.0; do
	if [ -e "/sys/bus/pci/devices/$a" ]; then
		echo "e2e/level1: $a exists on this machine; refusing to use it" >&2; exit 1
	fi
done
"$top/build/tests/mkfakesys" "$tmp/root" - <<'SPEC' || exit 1
iommu dmar0
0000:e1:00.0 id=17cb:a100 class=0x120000 driver=qaic group=81 msi=32 pcie
0000:e2:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=82 msi=1 pcie
SPEC

domain() { # NAME MACHINE EXTRA_FEATURES IOMMU BUS
	cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='$2'>hvm</type></os>
  <features><acpi/>$3</features>
  <devices>
    $4
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='$5' slot='0x00' function='0x0'/></source>
    </hostdev>
  </devices>
</domain>
XML
}
domain vh-e2e-ok q35 "<ioapic driver='qemu'/>" \
	"<iommu model='intel'><driver intremap='on' caching_mode='on'/></iommu>" 0xe1 >"$tmp/ok.xml"
domain vh-e2e-bad pc "" "" 0xe1 >"$tmp/bad.xml"
for d in ok bad; do
	timeout 20 virsh -c $uri undefine "vh-e2e-$d" >/dev/null 2>&1
	if ! timeout 60 virsh -c $uri define "$tmp/$d.xml" >"$tmp/define.log" 2>&1; then
		result "define-$d" 1 "$tmp/define.log"; echo "level1: $pass passed, $fail failed"; exit 1
	fi
done

run() { timeout 60 "$bin" --numeric --root "$tmp/root" "$@" >"$tmp/out" 2>&1; echo $?; }

rc=$(run check --connect $uri --domain vh-e2e-ok)
[ "$rc" = 0 ] && grep -q "vh-e2e-ok: 0 errors" "$tmp/out"; result check-domain-complete $? "$tmp/out"

rc=$(run check --connect $uri --domain vh-e2e-bad)
[ "$rc" = 1 ] && grep -q 'error\[machine-q35\] 0000:e1:00.0' "$tmp/out" &&
	grep -q 'error\[viommu-missing\]' "$tmp/out" && ! grep -q 'error\[ioapic-split\]' "$tmp/out" &&
	grep -q "<ioapic driver='qemu'/>" "$tmp/out"
result check-domain-refused $? "$tmp/out"

rc=$(timeout 60 "$bin" --numeric --root "$tmp/root" --json check --connect $uri --all 2>"$tmp/err" >"$tmp/out"; echo $?)
[ "$rc" = 1 ] && python3 - "$tmp/out" <<'PY'
import json, sys
doms = {d["domain"]["name"]: d for d in json.load(open(sys.argv[1]))}
assert doms["vh-e2e-ok"]["summary"]["errors"] == 0, doms["vh-e2e-ok"]
bad = {f["rule"] for f in doms["vh-e2e-bad"]["findings"]}
# TCG emulates the I/O APIC: no ioapic-split, but the vIOMMU fix says
# what libvirt 9 wants beside intremap='on'.
assert {"machine-q35", "viommu-missing"} <= bad and "ioapic-split" not in bad, bad
assert doms["vh-e2e-bad"]["devices"][0]["profile"] == "qcom-aic100"
PY
result check-all-json $? "$tmp/out"

rc=$(run check --connect $uri --domain vh-e2e-no-such)
[ "$rc" = 2 ] && grep -q "no domain 'vh-e2e-no-such'" "$tmp/out"; result check-domain-unknown $? "$tmp/out"

rc=$(run check --connect qemu:///nonexistent-path --domain x)
[ "$rc" = 2 ] && grep -q "cannot connect to libvirt" "$tmp/out"; result check-bad-uri $? "$tmp/out"

# libvirt probing QEMU's capabilities through the wrapper (as an <emulator>
# link named qemu-system-x86_64): the same capabilities as without it.
mkdir -p "$tmp/wrap"
ln -s "$top/build/vfio-qemu-wrapper" "$tmp/wrap/qemu-system-x86_64"
real=$(command -v qemu-system-x86_64)
timeout 120 virsh -c $uri domcapabilities --emulatorbin "$real" --arch x86_64 --virttype qemu >"$tmp/caps.real" 2>&1
timeout 120 virsh -c $uri domcapabilities --emulatorbin "$tmp/wrap/qemu-system-x86_64" --arch x86_64 --virttype qemu 2>&1 |
	sed "s#$tmp/wrap/qemu-system-x86_64#$real#" >"$tmp/caps.wrap"
diff "$tmp/caps.real" "$tmp/caps.wrap" >"$tmp/caps.diff"
[ -s "$tmp/caps.real" ] && grep -q '<domainCapabilities>' "$tmp/caps.real" && ! [ -s "$tmp/caps.diff" ]
result wrapper-capabilities-probe $? "$tmp/caps.diff"

echo "level1: $pass passed, $fail failed"
[ $fail = 0 ]
