#!/usr/bin/env bash
# Run the cmocka unit tests given as arguments; print a closing
# "N passed, N failed" line and fail when any test failed.
set -u
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0 fail=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	n_ok=$(grep -c '^\[       OK \]' <<<"$out")
	n_bad=$(grep -c '^\[  FAILED  \] [a-z_]' <<<"$out")
	pass=$((pass + n_ok))
	if [ "$rc" -ne 0 ]; then
		[ "$n_bad" -eq 0 ] && n_bad=1
		fail=$((fail + n_bad))
		printf '%s\n' "$out"
		echo "FAIL: $t (exit $rc)"
	else
		echo "ok: $(basename "$t") ($n_ok tests)"
	fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
