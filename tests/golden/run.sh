#!/usr/bin/env bash
# Golden tests of the real vfio-hooks binary (or the one a case's `prog`
# file names, such as vfio-qemu-wrapper): for each case directory, build
# the fake sysroot (the case's sysfs.spec, else host.spec), run the command in
# the case's `cmd` file (default: check domain.xml), and diff stdout, stderr
# and the exit status against expected.{out,err,rc}.  UPDATE=1 rewrites them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
bin="$build/vfio-hooks"
mkfs="$build/tests/mkfakesys"
export VFIO_HOOKS_DATADIR=${VFIO_HOOKS_DATADIR:-$top/xml}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# Paths that differ between checkouts are shown as @DATADIR@ and @ROOT@.
norm() { sed -e "s#$VFIO_HOOKS_DATADIR#@DATADIR@#g" -e "s#$1#@ROOT@#g" -e "s#$here/cases/[^/]*/#@CASE@/#g" -e "s#$here/cases/[^/ ]*#@CASE@#g"; }

for dir in "$here"/cases/*/; do
	name=$(basename "$dir")
	root="$tmp/$name"
	spec="$dir/sysfs.spec"; [ -f "$spec" ] || spec="$here/host.spec"
	mkroot() {
		rm -rf "$root"
		if [ -f "$dir/snapshot" ]; then
			# A tree captured from a real kernel (vfio-hooks snapshot).
			mkdir -p "$root" && tar -xf "$here/../fixtures/$(cat "$dir/snapshot")" -C "$root"
		else
			"$mkfs" "$root" "$spec"
		fi
	}
	if ! mkroot; then
		echo "FAIL golden/$name: cannot build the sysroot"; fail=$((fail + 1)); continue
	fi
	cmd="check domain.xml"; [ -f "$dir/cmd" ] && cmd=$(cat "$dir/cmd")
	prog=$bin; [ -f "$dir/prog" ] && prog="$build/$(cat "$dir/prog")"
	stdin=/dev/null; [ -f "$dir/stdin" ] && stdin="$dir/stdin"
	(cd "$dir" && eval "\"$prog\" --numeric --root \"$root\" $cmd" <"$stdin" \
		>"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc")
	norm "$root" <"$tmp/out" >"$tmp/out.n"
	norm "$root" <"$tmp/err" | grep -v '^    #' >"$tmp/err.n"
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$tmp/out.n" "$dir/expected.out"; cp "$tmp/err.n" "$dir/expected.err"
		cp "$tmp/rc" "$dir/expected.rc"
	fi
	ok=1
	for k in out err rc; do
		src="$tmp/$k.n"; [ "$k" = rc ] && src="$tmp/rc"
		if ! diff -u "$dir/expected.$k" "$src" >"$tmp/diff"; then
			ok=0; echo "--- golden/$name: $k differs"; cat "$tmp/diff"
		fi
	done
	if [ $ok = 1 ]; then pass=$((pass + 1)); echo "ok: golden/$name"
	else fail=$((fail + 1)); echo "FAIL: golden/$name"; fi
done
# A FIFO (as `check <(virsh dumpxml vm)` gives) is read once, and the
# check is the file's.
dir=$here/cases/hailo-plain-q35; root=$tmp/fifo-root; spec=$here/host.spec
mkroot && "$bin" --json --root "$root" check "$dir/domain.xml" >"$tmp/file.out" 2>&1
mkfifo "$tmp/fifo" &&
	{ timeout 20 sh -c 'cat "$1" >"$2"' sh "$dir/domain.xml" "$tmp/fifo" & } &&
	timeout 20 "$bin" --json --root "$root" check "$tmp/fifo" >"$tmp/fifo.out" 2>&1
if grep -q '"device"' "$tmp/file.out" && diff -u "$tmp/file.out" "$tmp/fifo.out" >"$tmp/diff"; then
	pass=$((pass + 1)); echo "ok: golden/fifo (read once)"
else
	fail=$((fail + 1)); echo "FAIL: golden/fifo"; cat "$tmp/diff"
fi
wait
echo "golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
