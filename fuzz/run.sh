#!/usr/bin/env bash
# Run each fuzz target for N seconds from a seed corpus made of the test
# inputs; print a line per target (runs, crashes) and fail on any crash.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
secs=$1; shift
out=$top/build/fuzz
fail=0
for t in "$@"; do
	corpus=$out/corpus-$t
	mkdir -p "$corpus"
	case $t in
	domain) cp "$top"/tests/golden/cases/*/domain.xml "$top"/tests/e2e/level*/*.xml "$corpus/" 2>/dev/null ;;
	profile) cp "$top"/xml/profiles/*.xml "$corpus/" ;;
	config) cp "$top"/conf/vfio-hooks.conf "$corpus/" ;;
	qemu) for c in "$top"/tests/golden/cases/wrap-*/cmd; do tr ' ' '\0' <"$c" >"$corpus/$(basename "$(dirname "$c")")"; done ;;
	journal) printf 'vfio-hooks-journal 1\ndomain vm\nuuid 6f1c3a52-8d0e-4b7e-9a55-000000000001\ndev 0000:01:00.0 role=hostdev managed=0 driver=e1000e override=- reset_method=pm%%20bus reset=1\nprepared\n' >"$corpus/seed" ;;
	esac
	log=$out/fuzz-$t.log
	# Every crash found so far, replayed first (fuzz/regressions/TARGET/).
	if compgen -G "$top/fuzz/regressions/$t/*" >/dev/null; then
		if ! VFIO_HOOKS_DATADIR=$top/xml "$out/fuzz-$t" "$top/fuzz/regressions/$t/"* >"$log" 2>&1; then
			echo "FAIL fuzz/$t: a regression input crashes again, see $log"; tail -30 "$log"; fail=1; continue
		fi
	fi
	VFIO_HOOKS_DATADIR=$top/xml "$out/fuzz-$t" -max_total_time="$secs" -max_len=65536 \
		-artifact_prefix="$out/crash-$t-" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
	[ -n "$runs" ] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
	if [ $rc = 0 ]; then echo "PASS fuzz/$t: ${runs:-?} runs in ${secs} s, no crash"
	else echo "FAIL fuzz/$t: exit $rc, see $log"; tail -30 "$log"; fail=1; fi
done
exit $fail
