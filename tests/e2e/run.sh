#!/usr/bin/env bash
# The end-to-end suite: every level script, then one closing line.
set -u
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
for s in "$here"/level*.sh; do
	out=$(bash "$s" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(grep -c '^PASS ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out")
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	pass=$((pass + p)); fail=$((fail + f))
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
