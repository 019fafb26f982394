#!/usr/bin/env bash
# End-to-end, level 2: the real hook binary in a real kernel with real
# vfio-pci (a Debian kernel under QEMU TCG, tests/e2e/guest.sh), driven with
# real domain XML the way libvirt drives it.  Guest logs of a failed run are
# kept in build/e2e-logs/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
p=$tmp/payload
mkdir -p "$p/bin" "$p/xml" "$p/test-profiles" "$p/bad-profiles" "$top/build/e2e-logs"
cp "$top/build/qemu-hook" "$top/build/vfio-hooks" "$p/bin/"
# The hook the guest runs is what install.sh installs: a dynamic program
# that links libc alone (libxml2 is the system's, loaded when a domain is
# parsed: lib/xmlapi.c; the guest gets it beside the payload's libraries),
# with nothing of libxml2 inside it, and so none of libxml2's HTTP/FTP
# code or ICU.
hook_why=""
needed=$(readelf -dW "$top/build/qemu-hook" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p')
[ "$needed" = libc.so.6 ] || hook_why="$hook_why needs $(echo $needed);"
syms=$(nm "$top/build/qemu-hook" 2>/dev/null)
[ -n "$syms" ] || hook_why="$hook_why no symbols to check;"
for s in getaddrinfo xmlNanoHTTPConnectHost xmlNanoFTPConnect ucnv_toUnicode xmlCtxtReadMemory; do
	grep -q " [TtWw] ${s}\(_[0-9]*\)\?$" <<<"$syms" && hook_why="$hook_why has $s;"
done
if [ -z "$hook_why" ]; then echo "PASS e2e/level2/hook-libc-only-no-network"
else echo "FAIL e2e/level2/hook-libc-only-no-network:$hook_why"; fi
cp -r "$top/xml/profiles" "$top/xml/profile.rng" "$p/xml/"
cp "$here/level2/test-e1000e.xml" "$p/test-profiles/"
cp "$here/level2/bad-profiles/"*.xml "$p/bad-profiles/"
cp "$here/level2/run" "$here/level2/run-noiommu" "$here/level2/"*.xml "$p/"
log=$top/build/e2e-logs/level2.log
"$here/guest.sh" --timeout 300 --out "$log" --export "$tmp/export" --payload "$p" \
	-- /payload/run >"$tmp/console" 2>&1
rc=$?
grep -E '^(PASS|FAIL) ' "$tmp/console"
# The snapshot of the guest's real /sys becomes the host-side fixture when
# asked (UPDATE_FIXTURES=1) or when there is none yet.
fixture=$top/tests/fixtures/guest-sysfs.tar
if [ -s "$tmp/export/guest-sysfs.tar" ] && { [ "${UPDATE_FIXTURES:-0}" = 1 ] || [ ! -e "$fixture" ]; }; then
	mkdir -p "$(dirname "$fixture")"
	cp "$tmp/export/guest-sysfs.tar" "$fixture"
	echo "level2: wrote $fixture"
fi
# Booted without an IOMMU, the doctor says FAIL with the fix.
"$here/guest.sh" --no-iommu --timeout 300 --out "$log.noiommu" --payload "$p" \
	-- /payload/run-noiommu >"$tmp/console2" 2>&1
rc2=$?
grep -E '^(PASS|FAIL) ' "$tmp/console2" || echo "FAIL e2e/level2/doctor-no-iommu-fails: guest exit $rc2"
[ $rc2 = 0 ] || rc=1
if [ $rc != 0 ]; then
	echo "level2: guest exit $rc; console kept in $log"
	cat "$tmp/console" "$tmp/console2" | grep -q "^FAIL " || echo "FAIL e2e/level2/guest: exit $rc"
	tail -20 "$tmp/console" | sed 's/^/    /'
	exit 1
fi
rm -f "$log"
