#!/usr/bin/env bash
# What the programs link and load: the hook, the wrapper and the CLI link
# only libc (no libxml2 code inside them, no DT_NEEDED libxml2: Debian's
# security updates of libxml2 reach them), name the soname of the libxml2
# they were built against (libxml2.so.2, libxml2.so.16 from 2.14) to load it,
# and map the system's libxml2 only when they parse XML: the hook for a VM
# with a PCI hostdev, not for one without; the wrapper for a command line
# with a vfio device, not without.  The loader's own trace (LD_DEBUG=files)
# says what is loaded.  BUILD names the build directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
export VFIO_HOOKS_DATADIR=$top/xml
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
unset VFIO_HOOKS_LOG
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { # NAME STATUS DETAIL [FILE]
	if [ "$2" = 0 ]; then pass=$((pass + 1)); [ "${VERBOSE:-0}" = 1 ] && echo "PASS link/$1"
	else fail=$((fail + 1)); echo "FAIL link/$1: $3"; [ -n "${4:-}" ] && sed 's/^/    /' "$4" | head -20; fi
	return 0
}

# The soname of the libxml2 the headers are from (libxml2.so.16 from 2.14
# on), as the Makefile reads it.
soname=$(objdump -p "$(pkg-config --variable=libdir libxml-2.0)/libxml2.so" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
soname=${soname:-libxml2.so.2}
for p in qemu-hook vfio-qemu-wrapper vfio-hooks tests/qemu-hook-fk; do
	f=$build/$p
	readelf -d "$f" >"$T/dyn" 2>&1
	! grep -q 'NEEDED.*libxml2' "$T/dyn"
	check "$p-no-needed-libxml2" $? "$f has libxml2 among its DT_NEEDED" "$T/dyn"
	# Defined xml* functions would be libxml2's code linked in.
	nm "$f" 2>/dev/null | grep -E ' [TtWw] (xml|html|__xml)[A-Z]' >"$T/nm"
	[ ! -s "$T/nm" ]
	check "$p-no-libxml2-code" $? "$f has libxml2's code linked in" "$T/nm"
	grep -qaF "$soname" "$f"
	check "$p-names-soname" $? "$f does not name $soname"
done
# The release hook links only libc (the sanitizer build its runtimes too).
if [ -z "${SAN:-}" ]; then
	readelf -d "$build/qemu-hook" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' >"$T/needed"
	[ "$(cat "$T/needed")" = libc.so.6 ]
	check "hook-libc-only" $? "the hook needs more than libc" "$T/needed"
fi

# The hook on the fake kernel: a VM without a PCI hostdev never loads
# libxml2, one with a device loads the system's.
printf '%s\n' 'iommu dmar0' 'driver vfio-pci' '0000:01:00.0 id=17cb:a100 class=0x120000 driver=vfio-pci group=1 msi=32 pcie' |
	"$build/tests/mkfakesys" "$T/root" - || exit 1
printf 'root = %s\nmode = warn\n' "$T/root" >"$T/conf"
cat >"$T/plain.xml" <<'XML'
<domain type='kvm'><name>plain</name><uuid>6f1c3a52-8d0e-4b7e-9a55-000000000001</uuid>
<devices><disk type='file' device='disk'/></devices></domain>
XML
cat >"$T/dev.xml" <<'XML'
<domain type='kvm'><name>dev</name><uuid>6f1c3a52-8d0e-4b7e-9a55-000000000002</uuid>
<devices><hostdev mode='subsystem' type='pci' managed='yes'><source>
<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev></devices></domain>
XML
hook() { # XML OP -> the loader's trace in $T/trace
	VFIO_HOOKS_CONF="$T/conf" LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" \
		"$build/tests/qemu-hook-fk" "$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$1")" "$2" begin - <"$1" >/dev/null 2>"$T/err"
	cat "$T"/ld.* >"$T/trace" 2>/dev/null; rm -f "$T"/ld.*
}
hook "$T/plain.xml" prepare
# (the trace must have the loader's lines, or its absence proves nothing)
grep -q 'calling init: .*libc\.so' "$T/trace" && ! grep -q 'libxml2' "$T/trace"
check "hook-plain-no-libxml2" $? "the hook loaded libxml2 for a VM without a PCI hostdev" "$T/trace"
hook "$T/dev.xml" prepare
grep -q 'file=libxml2\.so\.2 .*dynamically loaded by' "$T/trace" &&
	grep -Eq 'calling init: (/usr)?/lib/.*libxml2\.so\.2' "$T/trace"
check "hook-device-loads-system-libxml2" $? "the hook did not load the system's libxml2.so.2 for a VM with a device" "$T/trace"
hook "$T/dev.xml" release

# The wrapper: without a vfio device straight to the binary, no libxml2;
# with one (checked only), libxml2 loaded.
VFIO_HOOKS_CONF=/dev/null LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$build/vfio-qemu-wrapper" /bin/true -m 64 >/dev/null 2>&1
cat "$T"/ld.* >"$T/trace" 2>/dev/null; rm -f "$T"/ld.*
grep -q 'calling init: .*libc\.so' "$T/trace" && ! grep -q 'libxml2' "$T/trace"
check "wrapper-plain-no-libxml2" $? "the wrapper loaded libxml2 for a command line without a vfio device" "$T/trace"
VFIO_HOOKS_CONF=/dev/null LD_DEBUG=files LD_DEBUG_OUTPUT="$T/ld" "$build/vfio-qemu-wrapper" --check --root "$T/root" \
	/bin/true -M q35 -device vfio-pci,host=0000:01:00.0 >/dev/null 2>&1
cat "$T"/ld.* >"$T/trace" 2>/dev/null; rm -f "$T"/ld.*
grep -q 'file=libxml2\.so\.2 .*dynamically loaded by' "$T/trace"
check "wrapper-device-loads-libxml2" $? "the wrapper did not load libxml2.so.2 to check a vfio device" "$T/trace"

echo "link: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
