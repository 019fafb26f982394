#!/usr/bin/env bash
# The paths compiled in are those installed for: a copy of a release build
# (BUILD), made for /usr/local, then `make install PREFIX=/usr` into a
# temporary DESTDIR rebuilds the objects that compile paths in (and no
# other): the hook and the CLI installed look for /usr/share/vfio-hooks and
# not /usr/local, the boot unit runs /usr/bin/vfio-hooks; a second make
# compiles nothing; `make install-files` for other paths refuses, naming
# both, and installs nothing.  Nothing is installed outside the temporary
# directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
tmp=$(mktemp -d); [ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL paths/$1: $3"; fi; }
# make as a user types it: not the variables of a make that runs this test.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PREFIX -u DATADIR -u SYSCONFDIR -u LIBEXECDIR -u BINDIR make --no-print-directory -C "$top" BUILD="$tmp/b" SAN="${SAN:-}" "$@"; }
# A C string in a program (as strings(1) shows them).
has() { strings -a "$1" | grep -qxF "$2"; }

b=$tmp/b; mkdir -p "$b"
# The release build's objects, times kept (else this builds them all).
cp -a "$build"/{lib,cli,hooks,qemu-wrapper,libvfiohooks.a,vfio-hooks,qemu-hook,vfio-qemu-wrapper,paths} "$b"/ 2>/dev/null
# A plain make (for /usr/local), then a second one that compiles nothing.
mk all >"$tmp/out" 2>&1; check make $? "make: $(tail -3 "$tmp/out")"
has "$b/qemu-hook" /usr/local/share/vfio-hooks; check make-local $? "a plain make did not compile /usr/local/share/vfio-hooks in"
mk all >"$tmp/out" 2>&1
! grep -q "CC " "$tmp/out"; check no-rebuild $? "a second make compiled: $(grep "CC " "$tmp/out" | head -3)"

mk install PREFIX=/usr DESTDIR="$tmp/d" >"$tmp/out" 2>&1; check install-usr $? "make install PREFIX=/usr: $(tail -3 "$tmp/out")"
grep -q "CC  $b/lib/paths.o" "$tmp/out"; check rebuilds-paths $? "lib/paths.o not rebuilt for PREFIX=/usr"
! grep -q "CC  $b/cli/main.o" "$tmp/out"; check rebuilds-only-paths $? "cli/main.o, which compiles no path in, rebuilt"
for p in "$tmp/d/usr/libexec/vfio-hooks/qemu-hook" "$tmp/d/usr/bin/vfio-hooks"; do
	n=${p##*/}
	has "$p" /usr/share/vfio-hooks; check "$n-usr" $? "$p has no /usr/share/vfio-hooks compiled in"
	! has "$p" /usr/local/share/vfio-hooks; check "$n-not-local" $? "$p has /usr/local/share/vfio-hooks compiled in"
done
has "$tmp/d/usr/bin/vfio-hooks" /etc/vfio-hooks/vfio-hooks.conf; check cli-sysconfdir $? "the CLI has no /etc/vfio-hooks/vfio-hooks.conf"
unit=$(find "$tmp/d" -name vfio-hooks-bind.service | head -1)
grep -q '^ExecStart=/usr/bin/vfio-hooks ' "$unit"; check unit-usr $? "the boot unit installed ($unit) does not run /usr/bin/vfio-hooks"

mk install PREFIX=/usr DESTDIR="$tmp/d" >"$tmp/out" 2>&1
! grep -q "CC " "$tmp/out"; check no-reinstall-rebuild $? "a second make install compiled: $(grep "CC " "$tmp/out" | head -3)"

! mk install-files PREFIX=/opt/vh DESTDIR="$tmp/d2" >"$tmp/out" 2>&1; check refuses $? "install-files for other paths than built did not fail"
grep -qF "built for DATADIR=/usr/share/vfio-hooks" "$tmp/out" && grep -qF "asks for DATADIR=/opt/vh/share/vfio-hooks" "$tmp/out"
check refusal-names-both $? "the refusal does not name both paths: $(cat "$tmp/out")"
[ ! -e "$tmp/d2" ]; check refusal-installs-nothing $? "the refused install-files created $tmp/d2"

# Back to a plain make: /usr/local compiled in again.
mk all >"$tmp/out" 2>&1
has "$b/qemu-hook" /usr/local/share/vfio-hooks && ! has "$b/qemu-hook" /usr/share/vfio-hooks
check rebuilds-back $? "a plain make after PREFIX=/usr did not compile /usr/local/share/vfio-hooks back in"
echo "paths: $pass passed, $fail failed"
[ $fail = 0 ]
