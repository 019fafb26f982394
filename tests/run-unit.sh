#!/usr/bin/env bash
# Run the cmocka unit tests given as arguments; print a closing
# "N passed, N failed" line and fail when any test failed.
set -u
# detect_stack_use_after_return: a pointer into a returned frame (off by
# default in ASan; valgrind found one that way).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pass=0 fail=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	# cmocka's summary: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)..."
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
	pass=$((pass + ${p:-0})); f=${f:-0}
	if [ "$rc" -ne 0 ]; then
		[ "$f" -eq 0 ] && f=1
		printf '%s\n' "$out" | grep -v '^\[ RUN      \]\|^\[       OK \]'
		echo "FAIL: $t (exit $rc)"
	else
		echo "ok: $(basename "$t") (${p:-0} tests)"
	fi
	fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
