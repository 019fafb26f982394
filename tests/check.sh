#!/usr/bin/env bash
# make check: every suite in turn (unit, golden, link, paths, hook (parallel too, and under ThreadSanitizer), hostile, wrapper, docs, completion),
# then one closing line with the totals.  BUILD names the (sanitizer) build directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
total_p=0 total_f=0 rc=0
run() {
	local out
	out=$("$@" 2>&1); local r=$?
	printf '%s\n' "$out"
	local line p f
	line=$(grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
	p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$line")
	[ -z "$line" ] && { p=0; f=1; }
	[ $r != 0 ] && [ "${f:-0}" = 0 ] && f=1
	total_p=$((total_p + p)); total_f=$((total_f + f))
	[ $r = 0 ] || rc=1
}
run "$here/run-unit.sh" "$@"
run "$here/golden/run.sh"
# What the programs link and load: the sanitizer build, and the release
# build (libc alone).
run env SAN=1 "$here/link/run.sh"
if [ -n "${RELEASE_BUILD:-}" ]; then
	run env -u SAN BUILD="$RELEASE_BUILD" "$here/link/run.sh"
	# The paths compiled in are those installed for (a copy of the build).
	run env -u SAN BUILD="$RELEASE_BUILD" "$here/paths/run.sh"
fi
run "$here/hook/run.sh"
run "$here/hook/bind.sh"
run "$here/hook/hotplug.sh"
run "$here/hook/sriov.sh"
run "$here/hook/xen.sh"
run "$here/hook/amd.sh"
run "$here/hook/parallel.sh"
# The same under ThreadSanitizer (TSAN_BUILD: where the compiler has it),
# its quick part: a race report fails it.
if [ -n "${TSAN_BUILD:-}" ]; then
	run env BUILD="$TSAN_BUILD" QUICK=1 TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$here/hook/parallel.sh"
else
	echo "SKIP hook/parallel under ThreadSanitizer: the compiler has no ThreadSanitizer whose programs start on this kernel"
fi
run "$here/hostile/run.sh"
run "$here/wrapper/run.sh"
run "$here/docs/run.sh"
run "$here/completion/run.sh"
echo "check: $total_p passed, $total_f failed"
exit $rc
