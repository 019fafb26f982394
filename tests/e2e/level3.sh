#!/usr/bin/env bash
# End-to-end, level 3: libvirtd inside a real-kernel guest (Debian with
# libvirt and QEMU, tests/e2e/guest3.sh), vfio-hooks installed there with
# its own install.sh, everything driven through virsh.  Guest logs of a
# failed run are kept in build/e2e-logs/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
p=$tmp/payload
mkdir -p "$p/src" "$p/level3" "$top/build/e2e-logs"
# The source tree as a user has it, with the binaries built on the host
# (the guest has no compiler; install.sh --no-build installs them).
(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$p/src" 2>/dev/null) ||
	cp -r "$top"/{install.sh,Makefile,conf,xml,hooks,qemu-wrapper,lib,cli} "$p/src/"
mkdir -p "$p/src/build"
cp -p "$top"/build/{vfio-hooks,qemu-hook,vfio-qemu-wrapper,vfio-hooks-bind.service,vfio-hooks.catalog,paths} "$p/src/build/"
cp "$here/level3/"* "$p/level3/"
cp "$here/level3/run" "$p/run"
log=$top/build/e2e-logs/level3.log
"$here/guest3.sh" --timeout 1800 --reboots 1 --out "$log" --export "$tmp/export" --payload "$p" \
	-- /payload/run >"$tmp/console" 2>&1
rc=$?
grep -E '^(PASS|FAIL) ' "$tmp/console"
if [ -s "$tmp/export/refused.txt" ]; then
	mkdir -p "$top/build/e2e-out"; cp "$tmp/export/refused.txt" "$top/build/e2e-out/"
fi
if [ $rc != 0 ]; then
	echo "level3: guest exit $rc; console kept in $log"
	grep -q '^FAIL ' "$tmp/console" || echo "FAIL e2e/level3/guest: exit $rc"
	tail -30 "$tmp/console" | sed 's/^/    /'
	exit 1
fi
rm -f "$log"
