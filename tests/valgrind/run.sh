#!/usr/bin/env bash
# make valgrind: the cmocka unit tests and a subset of hook and CLI runs of
# the non-sanitizer build (BUILD, default build/vg) under valgrind; any
# memory error or definite leak fails the run (exit 99), and so does an fd
# other than 0, 1 and 2 left open at exit of the hook.
#   BUILD=build/vg tests/valgrind/run.sh UNIT_BINARIES...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build/vg}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
export VFIO_HOOKS_DATADIR=$top/xml
unset VFIO_HOOKS_LOG
export VH_TEST_NO_TIMING=1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--track-fds=yes)
runs=0 errors=0 pass=0 fail=0

# The fds valgrind lists open at exit that the program opened itself (the
# standard streams and what the parent passed down excluded).
leaked_fds() {
	awk '/Open file descriptor [0-9]+:/ { getline; if ($0 !~ /inherited from parent/) n++ } END { print n + 0 }' "$1"
}

# vg NAME WANT_RC CMD... (stdin passed through): one run under valgrind.
vg() {
	local name=$1 want=$2 rc=0 e open
	shift 2
	runs=$((runs + 1))
	"${VG[@]}" --log-file="$T/vg.log" "$@" >"$T/out" 2>"$T/err" || rc=$?
	e=$(grep -c '^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|definitely lost\|Mismatched\|overlap\)' "$T/vg.log" || true)
	open=$(leaked_fds "$T/vg.log")
	if [ "$rc" = 99 ] && [ "$e" = 0 ]; then e=1; fi
	if [ "$open" -gt 0 ] && [ "$name" != "${name#hook/}" ]; then e=$((e + open)); fi
	errors=$((errors + e))
	if [ "$e" = 0 ] && [ "$rc" = "$want" ]; then
		pass=$((pass + 1))
		[ "${VERBOSE:-0}" = 1 ] && echo "PASS valgrind/$name"
	else
		fail=$((fail + 1))
		echo "FAIL valgrind/$name: exit $rc (want $want), $e errors"
		sed 's/^/    /' "$T/vg.log" "$T/err" | head -40
	fi
	return 0
}

for t in "$@"; do vg "unit/$(basename "$t")" 0 "$t"; done

# The hook on the fake kernel: a NIC, a Hailo-8 (reset_method), a GPU with
# its companion, a refused AIC100, malformed XML, and busy devices.
printf '%s\n' 'iommu dmar0' 'driver vfio-pci' \
	'0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 msix=5 pcie reset=pm,bus' \
	'0000:02:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=16 msi=1 pcie reset=flr,bus' \
	'0000:03:00.0 id=17cb:a100 class=0x120000 driver=qaic group=12 msi=32 pcie' \
	'0000:41:00.0 id=10de:2204 class=0x030000 driver=nouveau group=41 msi=1 pcie' \
	'0000:41:00.1 id=10de:1aef class=0x040300 driver=snd_hda_intel group=41 msi=1 pcie' |
	"$build/tests/mkfakesys" "$T/root" -
printf 'root = %s\ntimeout = 5\n' "$T/root" >"$T/conf"
export VFIO_HOOKS_CONF=$T/conf
dom() { # NAME N BUS...
	local name=$1 n=$2 b
	shift 2
	printf "<domain type='kvm'><name>%s</name><uuid>6f1c3a52-8d0e-4b7e-9a55-%012d</uuid><memory unit='MiB'>512</memory><vcpu>1</vcpu>" "$name" "$n"
	printf "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features><devices>"
	for b in "$@"; do
		printf "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x%s' slot='0x00' function='0x0'/></source></hostdev>" "$b"
	done
	printf '</devices></domain>\n'
}
dom nic 1 01 >"$T/nic.xml"
dom many 2 02 41 >"$T/many.xml"
dom aic 3 03 >"$T/aic.xml"
dom other 4 01 >"$T/other.xml"
dom plain 5 >"$T/plain.xml"
printf '<domain><name>x</name><devices><hostdev' >"$T/broken.xml"
HOOK="$build/tests/qemu-hook-fk"
for op in "prepare begin" "start begin" "started begin" "stopped end" "release end"; do
	# shellcheck disable=SC2086
	vg "hook/nic-${op% *}" 0 "$HOOK" nic $op - <"$T/nic.xml"
	# shellcheck disable=SC2086
	vg "hook/many-${op% *}" 0 "$HOOK" many $op - <"$T/many.xml"
done
vg hook/busy-hold 0 "$HOOK" nic prepare begin - <"$T/nic.xml"
vg hook/busy-refused 1 "$HOOK" other prepare begin - <"$T/other.xml"
vg hook/busy-release-other 0 "$HOOK" other release end - <"$T/other.xml"
vg hook/busy-release 0 "$HOOK" nic release end - <"$T/nic.xml"
vg hook/aic-refused 1 "$HOOK" aic prepare begin - <"$T/aic.xml"
vg hook/malformed 1 "$HOOK" x prepare begin - <"$T/broken.xml"
vg hook/nothing 0 "$HOOK" plain prepare begin - <"$T/plain.xml"
echo 'any EIO skip=2 once' >"$T/root/.fakekernel/inject"
vg hook/fault-rollback 1 "$HOOK" many prepare begin - <"$T/many.xml"
rm -f "$T/root/.fakekernel/inject"
vg hook/fault-release 0 "$HOOK" many release end - <"$T/many.xml"
vg cli/check-aic 1 "$build/vfio-hooks" --root "$T/root" check "$T/aic.xml"
vg cli/check-json 1 "$build/vfio-hooks" --json --root "$T/root" check "$T/aic.xml"
vg cli/check-many 0 "$build/vfio-hooks" --root "$T/root" check "$T/many.xml"
vg cli/list 0 "$build/vfio-hooks" --root "$T/root" list
vg cli/recover 0 "$build/tests/vfio-hooks-fk" recover
if [ -n "$(find "$T/root/run/vfio-hooks" -name '*.journal' 2>/dev/null)" ]; then
	echo "FAIL valgrind: a journal was left"
	fail=$((fail + 1))
fi

echo "valgrind runs: $runs runs, $errors errors"
echo "valgrind: $pass passed, $fail failed"
[ "$fail" = 0 ]
