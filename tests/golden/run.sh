#!/usr/bin/env bash
# Golden tests of the real vfio-hooks binary (or the one a case's `prog`
# file names, such as vfio-qemu-wrapper): for each case directory, build
# the fake sysroot (the case's sysfs.spec, else host.spec), run the command in
# the case's `cmd` file (default: check domain.xml), and diff stdout, stderr
# and the exit status against expected.{out,err,rc}.  UPDATE=1 rewrites them.
# Where BUILD has the static CLI's twin (vfio-hooks-dl), each case also runs
# on both with names on, which must agree; TWIN_ONLY=1 runs just that.
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
pass=0 fail=0 named=0

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
	if [ "${TWIN_ONLY:-0}" != 1 ]; then
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
	fi
	# The static vfio-hooks hands what needs libudev or libvirt (device
	# names here) to its dynamically linked twin (cli/twin.c): with names
	# on, both must print the same, byte for byte, whichever way a case
	# goes (the twin from the start, at a message naming a device, or
	# not at all).
	if [ "$prog" = "$bin" ] && [ -x "$build/vfio-hooks-dl" ]; then
		for p in "$bin" "$build/vfio-hooks-dl"; do
			mkroot # each on the case's own tree
			# names from the stand-in libudev (tests/fakeudev.c),
			# whatever database this machine has
			(cd "$dir" && eval "LD_LIBRARY_PATH=\"$build/tests/fakeudev\" \"$p\" --root \"$root\" $cmd" <"$stdin" \
				>"$tmp/out.${p##*/}" 2>"$tmp/err.${p##*/}"; echo $? >>"$tmp/out.${p##*/}")
		done
		grep -q 'Vendor [0-9a-f]\{4\}' "$tmp/out.vfio-hooks-dl" "$tmp/err.vfio-hooks-dl" && named=$((named + 1))
		if cmp -s "$tmp/out.vfio-hooks" "$tmp/out.vfio-hooks-dl" &&
			cmp -s "$tmp/err.vfio-hooks" "$tmp/err.vfio-hooks-dl"; then
			pass=$((pass + 1)); echo "ok: golden/$name (names: static = twin)"
		else
			fail=$((fail + 1)); echo "FAIL: golden/$name: with names, vfio-hooks and vfio-hooks-dl differ"
			diff -u "$tmp/out.vfio-hooks-dl" "$tmp/out.vfio-hooks"
			diff -u "$tmp/err.vfio-hooks-dl" "$tmp/err.vfio-hooks"
		fi
	fi
done
# A FIFO (as `check <(virsh dumpxml vm)` gives) is read once: the static
# CLI hands it to its twin unopened (the JSON report names every device,
# so the twin is needed), and the check is the file's.
if [ -x "$build/vfio-hooks-dl" ]; then
	dir=$here/cases/hailo-plain-q35; root=$tmp/fifo-root; spec=$here/host.spec
	export LD_LIBRARY_PATH="$build/tests/fakeudev"
	mkroot && "$build/vfio-hooks-dl" --json --root "$root" check "$dir/domain.xml" >"$tmp/file.out" 2>&1
	mkfifo "$tmp/fifo" &&
		{ timeout 20 sh -c 'cat "$1" >"$2"' sh "$dir/domain.xml" "$tmp/fifo" & } &&
		timeout 20 "$bin" --json --root "$root" check "$tmp/fifo" >"$tmp/fifo.out" 2>&1
	unset LD_LIBRARY_PATH
	if grep -q 'Vendor ' "$tmp/file.out" && diff -u "$tmp/file.out" "$tmp/fifo.out" >"$tmp/diff"; then
		pass=$((pass + 1)); echo "ok: golden/fifo (read once, by the twin)"
	else
		fail=$((fail + 1)); echo "FAIL: golden/fifo"; cat "$tmp/diff"
	fi
	wait
fi
# The comparison means something only if names were printed.
if [ -x "$build/vfio-hooks-dl" ] && [ "$named" = 0 ]; then
	fail=$((fail + 1)); echo "FAIL: golden: no case printed a device name (is $build/tests/fakeudev/libudev.so.1 built?)"
fi
if [ "${TWIN_ONLY:-0}" = 1 ]; then echo "twin: $pass passed, $fail failed"
else echo "golden: $pass passed, $fail failed"; fi
[ "$fail" -eq 0 ]
