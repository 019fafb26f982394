#!/usr/bin/env bash
# vfio-qemu-wrapper as people run it: in front of the real QEMU (TCG, a
# 64 KiB firmware that writes to isa-debug-exit, so a run ends by itself
# with QEMU's own exit status 11), as a qemu-system-* link in PATH, with
# the fixes it suggests applied back, and with bad input.  Nothing here
# opens a host PCI device: the vfio devices are in a fake sysroot, at an
# address checked to be absent from this machine.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
W="$build/vfio-qemu-wrapper"
export VFIO_HOOKS_DATADIR=$top/xml VFIO_HOOKS_CONF=/dev/null
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
pass=0 fail=0
check() { # NAME STATUS DETAIL
	if [ "$2" = 0 ]; then pass=$((pass + 1)); [ "${VERBOSE:-0}" = 1 ] && echo "PASS wrapper/$1"
	else fail=$((fail + 1)); echo "FAIL wrapper/$1: $3"; fi
	return 0
}
QEMU=$(command -v qemu-system-x86_64) || { echo "wrapper: qemu-system-x86_64 missing"; echo "wrapper: 0 passed, 1 failed"; exit 1; }

python3 - "$T/exit.bin" <<'PY'
import sys
b = bytearray(b"\xf4" * 65536)
code = bytes([0xBA, 0xF4, 0x00, 0xB0, 0x05, 0xEE, 0xF4])  # out 5 to 0xf4; hlt
b[65520:65520 + len(code)] = code
open(sys.argv[1], "wb").write(b)
PY
RUN=(-M q35 -accel tcg -nodefaults -display none -bios "$T/exit.bin" -device isa-debug-exit,iobase=0xf4,iosize=0x04)

for a in 0000:e1:00.0 0000:e2:00.0; do
	[ -e "/sys/bus/pci/devices/$a" ] && { echo "wrapper: $a exists on this machine"; exit 1; }
done
"$build/tests/mkfakesys" "$T/root" - <<'SPEC' || exit 1
iommu dmar0
driver vfio-pci
0000:e1:00.0 id=17cb:a100 class=0x120000 driver=vfio-pci group=81 msi=32 pcie
0000:e2:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=82 msi=1 pcie
SPEC
export VFIO_HOOKS_ROOT=$T/root
OK_LINE=(-M q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on -device vfio-pci,host=0000:e1:00.0)
BAD_LINE=(-M pc -enable-kvm -device vfio-pci,host=0000:e1:00.0)

# 1. No vfio device: passed through, and QEMU itself ends the run.
"$W" "$QEMU" "${RUN[@]}" >"$T/out" 2>&1; rc=$?
check exec-no-vfio "$([ $rc = 11 ]; echo $?)" "rc=$rc $(cat "$T/out")"

# 2. As a link named qemu-system-x86_64 first in PATH: the real QEMU runs.
mkdir -p "$T/bin"; ln -s "$W" "$T/bin/qemu-system-x86_64"
PATH="$T/bin:$PATH" qemu-system-x86_64 "${RUN[@]}" >"$T/out" 2>&1; rc=$?
check link-mode-runs-qemu "$([ $rc = 11 ]; echo $?)" "rc=$rc $(cat "$T/out")"
PATH="$T/bin:$PATH" qemu-system-x86_64 "${RUN[@]}" "${BAD_LINE[@]}" >"$T/out" 2>&1; rc=$?
check link-mode-refuses "$([ $rc = 1 ] && grep -q 'QEMU not started' "$T/out" && grep -q 'error\[machine-q35\]' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"

# 3. A passing vfio line reaches QEMU: its own error about the (fake)
#    device proves QEMU, not the wrapper, produced the result.
"$W" "$QEMU" "${RUN[@]}" "${OK_LINE[@]}" >"$T/out" 2>&1; rc=$?
check passing-line-runs-qemu "$([ $rc = 1 ] && grep -q "qemu-system-x86_64: -device vfio-pci,host=0000:e1:00.0" "$T/out" && ! grep -q 'vfio-qemu-wrapper' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"

# 3b. host= as written by hand, in any form QEMU's parser takes ([domain:]
#     bus:slot.function, hex of any width): checked as the device QEMU
#     opens, here 0000:e1:00.0 (QEMU's own error names the same path).
SHORT_LINE=(-M q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on -device vfio-pci,host=e1:0.0)
"$W" --check "$QEMU" "${SHORT_LINE[@]}" >"$T/out" 2>&1; rc=$?
check host-short-form-passes "$([ $rc = 0 ] && grep -q '1 of 1 PCI hostdev checked' "$T/out" && ! grep -q 'bad-address' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
"$W" --check "$QEMU" -M pc -enable-kvm -device vfio-pci,host=0:e1:0.0 >"$T/out" 2>&1; rc=$?
check host-short-form-judged "$([ $rc = 1 ] && grep -q 'error\[machine-q35\] 0000:e1:00.0' "$T/out" && ! grep -q 'bad-address' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
"$W" --check "$QEMU" -M q35 -device vfio-pci,host=e2:0.0 >"$T/out" 2>&1; rc=$?
check host-short-form-other-device "$([ $rc = 1 ] && grep -q '0000:e2:00.0' "$T/out" && ! grep -q '0000:e1:00.0' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
"$W" "$QEMU" "${RUN[@]}" "${SHORT_LINE[@]}" >"$T/out" 2>&1; rc=$?
check host-short-form-same-device-as-qemu "$([ $rc = 1 ] && grep -q "qemu-system-x86_64: -device vfio-pci,host=e1:0.0: vfio /sys/bus/pci/devices/0000:e1:00.0" "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
"$W" --check "$QEMU" -M q35 -device vfio-pci,host=e1:0.8 >"$T/out" 2>&1; rc=$?
check host-qemu-refuses-refused "$([ $rc = 1 ] && grep -q "error\[bad-address\]" "$T/out" && grep -q "'e1:0.8' is out of range" "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"

# 4. A failing line never starts it; --warn does.
cat >"$T/fake-qemu" <<EOF2
#!/bin/sh
touch "$T/started"
for a in "\$@"; do printf '%s\n' "\$a"; done >"$T/argv"
printf '%s' "\$VH_TEST_ENV" >"$T/env"
exit 7
EOF2
chmod +x "$T/fake-qemu"
"$W" "$T/fake-qemu" "${BAD_LINE[@]}" >"$T/out" 2>&1; rc=$?
check refused-not-started "$([ $rc = 1 ] && [ ! -e "$T/started" ]; echo $?)" "rc=$rc"
"$W" --warn "$T/fake-qemu" "${BAD_LINE[@]}" >"$T/out" 2>&1; rc=$?
check warn-starts "$([ $rc = 7 ] && [ -e "$T/started" ] && grep -q 'error\[machine-q35\]' "$T/out"; echo $?)" "rc=$rc"
printf 'mode = warn\n' >"$T/warn.conf"
rm -f "$T/started"
VFIO_HOOKS_CONF="$T/warn.conf" "$W" "$T/fake-qemu" "${BAD_LINE[@]}" >/dev/null 2>&1; rc=$?
check config-warn-starts "$([ $rc = 7 ] && [ -e "$T/started" ]; echo $?)" "rc=$rc"

# A domain the libvirt hook has prepared (its journal exists): the hook's
# judgement, with the domain's own settings, stands.
u=5d0c2e8a-3b71-4f0e-8c6d-0000000000aa
mkdir -p "$T/root/run/vfio-hooks"; chmod 700 "$T/root/run/vfio-hooks"
printf 'vfio-hooks-journal 1\ndomain x\nuuid %s\n' "$u" >"$T/root/run/vfio-hooks/$u.journal"
rm -f "$T/started"
"$W" "$T/fake-qemu" -uuid "$u" "${BAD_LINE[@]}" >"$T/out" 2>&1; rc=$?
check hook-prepared-domain-passes "$([ $rc = 7 ] && [ -e "$T/started" ] && grep -q 'checks stand' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
rm -f "$T/started"
"$W" "$T/fake-qemu" -uuid 5d0c2e8a-3b71-4f0e-8c6d-0000000000bb "${BAD_LINE[@]}" >"$T/out" 2>&1; rc=$?
check unprepared-domain-judged "$([ $rc = 1 ] && [ ! -e "$T/started" ]; echo $?)" "rc=$rc"
rm -rf "$T/root/run/vfio-hooks"

# 4b. Profiles are validated once while unchanged: the stamps go to the
#     hook's state directory as root (made as the hook makes it), else to
#     the user's cache directory; a changed profile is validated again.
export XDG_CACHE_HOME=$T/cache
stamps=$T/root/run/vfio-hooks/profiles.validated
[ "$(id -u)" = 0 ] || stamps=$T/cache/vfio-hooks/profiles.validated
"$W" --check "$QEMU" "${OK_LINE[@]}" >"$T/out" 2>&1; rc=$?
check stamps-written "$([ $rc = 0 ] && [ -f "$stamps" ] && [ "$(stat -c %a "$stamps")" = 600 ] && grep -q '/qcom-aic100.xml' "$stamps"; echo $?)" "rc=$rc $(ls -la "$(dirname "$stamps")" 2>&1) $(cat "$T/out")"
mkdir -p "$T/prof"
cp "$top/xml/profiles/qcom-aic100.xml" "$T/prof/"
"$W" --check --profiles "$T/prof" "$QEMU" "${OK_LINE[@]}" >"$T/out" 2>&1; rc=$?
check stamps-own-profiles "$([ $rc = 0 ] && grep -q "$T/prof/qcom-aic100.xml" "$stamps"; echo $?)" "rc=$rc $(cat "$T/out")"
sed -i 's|</profile>|<bogus/></profile>|' "$T/prof/qcom-aic100.xml"
"$W" --check --profiles "$T/prof" "$QEMU" "${OK_LINE[@]}" >"$T/out" 2>&1; rc=$?
check stamps-changed-profile-revalidated "$([ $rc = 2 ] && grep -q "$T/prof/qcom-aic100.xml" "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
unset XDG_CACHE_HOME

# 4c. Hardening: the target is never taken from the environment, never a
#     wrapper (itself, a link to one, or a copy: two of them would exec
#     each other forever), and a setuid or setgid wrapper refuses to run.
rm -f "$T/started"
VFIO_QEMU_WRAPPER_TARGET=$T/fake-qemu PATH="$T/bin:$PATH" qemu-system-x86_64 "${RUN[@]}" >"$T/out" 2>&1; rc=$?
check target-not-from-env "$([ $rc = 11 ] && [ ! -e "$T/started" ]; echo $?)" "rc=$rc $(cat "$T/out")"
mkdir -p "$T/loop"
cp "$W" "$T/loop/qemu-system-x86_64"
printf 'qemu_dir = %s\n' "$T/loop" >"$T/loop.conf"
VFIO_HOOKS_CONF="$T/loop.conf" timeout 60 "$T/bin/qemu-system-x86_64" "${RUN[@]}" >"$T/out" 2>&1; rc=$?
check copy-in-qemu-dir-skipped "$([ $rc = 11 ]; echo $?)" "rc=$rc $(cat "$T/out")"
timeout 60 "$W" "$T/loop/qemu-system-x86_64" "${RUN[@]}" >"$T/out" 2>&1; rc=$?
check wrapper-as-target-refused "$([ $rc = 2 ] && grep -q 'is a vfio-qemu-wrapper too' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# Not under $T (0700) nor a nosuid /tmp: the build tree.
	sd=$(mktemp -d "$build/suid.XXXXXX"); chmod 755 "$sd"
	cp "$W" "$sd/w"; chmod 4755 "$sd/w"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$sd/w" "$QEMU" "${RUN[@]}" >"$T/out" 2>&1; rc=$?
	if [ $rc = 2 ] && grep -q 'refusing to run setuid' "$T/out"; then r=0
	elif findmnt -n -o OPTIONS --target "$sd" | grep -qw nosuid; then r=0; echo "SKIP wrapper/setuid-refused: $sd is on a nosuid mount"
	else r=1; fi
	check setuid-refused "$r" "rc=$rc $(cat "$T/out")"
	rm -rf "$sd"
fi
printf '[device "x"]\n  driver = "vfio-pci"\nsecret-line-7f3a\n' >"$T/secret.cfg"
"$W" --check "$QEMU" -readconfig "$T/secret.cfg" >"$T/out" 2>&1; rc=$?
check readconfig-echoes-nothing "$([ $rc = 2 ] && grep -q "$T/secret.cfg:3" "$T/out" && ! grep -q secret-line "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"

# 5. argv and environment exactly as given, never through a shell.
args=("${OK_LINE[@]}" "two words" "" "quote'\"" '$HOME;`id`' "new
line" "-name" "vm,debug-threads=on")
VH_TEST_ENV="kept as is" "$W" "$T/fake-qemu" "${args[@]}" >/dev/null 2>&1; rc=$?
printf '%s\n' "${args[@]}" >"$T/argv.want"
check argv-exact "$([ $rc = 7 ] && cmp -s "$T/argv" "$T/argv.want" && [ "$(cat "$T/env")" = "kept as is" ]; echo $?)" "rc=$rc $(diff "$T/argv.want" "$T/argv")"

# 6. Bad input.
"$W" /nonexistent/qemu-system-x86_64 -M q35 >"$T/out" 2>&1; rc=$?
check missing-binary-127 "$([ $rc = 127 ] && grep -q 'cannot find /nonexistent/qemu-system-x86_64' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
printf 'x' >"$T/noexec"; chmod 644 "$T/noexec"
"$W" "$T/noexec" -M q35 >"$T/out" 2>&1; rc=$?
check not-executable-126 "$([ $rc = 126 ]; echo $?)" "rc=$rc $(cat "$T/out")"
"$W" --check "$QEMU" -device '{"driver":"vfio-pci","host":"0000:e1:00.0"' >"$T/out" 2>&1; rc=$?
check unterminated-json "$([ $rc = 2 ] && grep -q 'not a valid JSON object' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
"$W" "$T/fake-qemu" -readconfig "$T/nope.cfg" -device vfio-pci,host=0000:e1:00.0 >"$T/out" 2>&1; rc=$?
check missing-readconfig "$([ $rc = 2 ] && grep -q 'nope.cfg' "$T/out"; echo $?)" "rc=$rc $(cat "$T/out")"
# As many arguments as execve takes: Linux caps argv and environment at
# 6 MiB (pointers included) even with an unlimited stack, so a million
# arguments never reach a program; 500,000 do.  (The parser itself is fed
# a million in tests/unit/test-qemuargs-options.c.)
n=500000
( ulimit -s unlimited 2>/dev/null
  mapfile -t many < <(yes -- -S | head -n $n)
  start=$(date +%s%N)
  "$W" --check "$QEMU" "${many[@]}" "${OK_LINE[@]}" >"$T/out" 2>&1; rc=$?
  end=$(date +%s%N)
  echo "$rc $(((end - start) / 1000000))" >"$T/many" )
read -r rc ms <"$T/many"
check many-arguments "$([ "$rc" = 0 ]; echo $?)" "rc=$rc $(tail -3 "$T/out")"
echo "wrapper: $n arguments checked in $ms ms"

# 7. Every fix the wrapper suggests, applied back, makes the line pass.
while IFS= read -r line; do
	[ -n "$line" ] || continue
	eval "set -- $line"
	"$W" --check --json "$QEMU" "$@" >"$T/r.json" 2>/dev/null; rc1=$?
	mapfile -t fixed < <(python3 "$here/apply-fixes.py" "$@" <"$T/r.json")
	"$W" --check "$QEMU" "${fixed[@]}" >"$T/out" 2>&1; rc2=$?
	check "fixes-applied: $line" "$([ $rc1 = 1 ] && [ $rc2 = 0 ]; echo $?)" "before rc=$rc1 after rc=$rc2: ${fixed[*]} $(cat "$T/out")"
done <<'LINES'
-enable-kvm -cpu host -m 8G -device vfio-pci,host=0000:e1:00.0
-M pc -device vfio-pci,host=e1:00.0
-M q35 -enable-kvm -device vfio-pci,host=e1:00.0
-M q35,kernel-irqchip=on -enable-kvm -device intel-iommu -device vfio-pci,host=e1:00.0
-M q35,kernel-irqchip=split -enable-kvm -device vfio-pci,host=e1:00.0 -device intel-iommu,intremap=on,caching-mode=on
-M q35,kernel-irqchip=split -enable-kvm -device intel-iommu,intremap=off,caching-mode=on -device vfio-pci,host=e1:00.0
-M q35,kernel-irqchip=split -accel kvm -device '{"driver":"intel-iommu","intremap":"on"}' -device '{"driver":"vfio-pci","host":"0000:e1:00.0"}'
-M q35 -accel kvm -global intel-iommu.caching-mode=off -device intel-iommu -device vfio-pci,host=e1:00.0
LINES

echo "wrapper: $pass passed, $fail failed"
[ $fail = 0 ]
