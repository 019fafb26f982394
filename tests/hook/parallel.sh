#!/usr/bin/env bash
# Domains of several units (lib/units.h) through the hook as libvirt runs
# it, against the fake kernel: independent devices prepared and given back
# at once (FAKEKERNEL_RENDEZVOUS), one after the other with `parallel = no`;
# devices tied by a bridge, an IOMMU group or an SR-IOV family never in the
# kernel at once (FAKEKERNEL_DELAY_MS, "overlap" lines); the fault and
# crash matrices by device and step; faults of release in one unit; domains
# of several units started at once, two of them wanting one device.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
SUITE=parallel
# shellcheck source=tests/hook/lib.sh
. "$here/lib.sh"
# Every case copies a sysroot: on a tmpfs where there is one.
T=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$T"' EXIT
QUICK=${QUICK:-0}
unset FAKEKERNEL_DELAY_MS FAKEKERNEL_RENDEZVOUS
# A ThreadSanitizer build (make tsan) reports to files, read at the end
# (a report in a run whose status a case accepts fails too).
export TSAN_OPTIONS="${TSAN_OPTIONS:-} log_path=$T/tsan"

# Two NICs behind one bridge, a Hailo-8, a GPU with its audio function
# (one group), a Flex 170 PF whose VFs the hook creates (VF n at 4d:00.n,
# each in a group of its own), NICs of their own on root buses.
SPEC='iommu dmar0
driver vfio-pci
0000:00:01.0 id=8086:1905 class=0x060400 bridge pcie=4 group=1 driver=pcieport reset=none
0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 msix=5 pcie reset=pm,bus parent=0000:00:01.0
0000:01:01.0 id=8086:10d3 class=0x020000 driver=e1000e group=11 msix=5 pcie reset=pm,bus parent=0000:00:01.0
0000:02:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=16 msi=1 pcie reset=flr,bus
0000:41:00.0 id=10de:2204 class=0x030000 driver=nouveau group=41 msi=1 pcie
0000:41:00.1 id=10de:1aef class=0x040300 driver=snd_hda_intel group=41 msi=1 pcie
0000:4d:00.0 id=8086:56c0 class=0x038000 driver=i915 group=40 pcie sriov=total:16,offset:1,stride:1,vfdev:56c0
0000:05:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=50 msix=5 pcie reset=pm,bus
0000:07:00.0 id=8086:10d3 class=0x020000 group=70 msix=5 pcie reset=pm,bus
0000:09:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=90 msix=5 pcie reset=pm,bus
0000:0a:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=100 msix=5 pcie reset=pm,bus
0000:0b:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=110 msix=5 pcie reset=pm,bus
0000:0c:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=120 msix=5 pcie reset=pm,bus'

# The sysroot made once; every case works on a copy.
TPL=$T/tpl
fresh "$TPL"
new() { # DIR [CONF-LINE...]: a pristine sysroot and its configuration
	local d=$1
	shift
	rm -rf "$d"
	mkdir -p "$d"
	cp -a "$TPL/root" "$d/root"
	cp "$TPL/before" "$d/before"
	printf 'root = %s\nlog_level = debug\ntimeout = 2\nlock_timeout = 30\n' "$d/root" >"$d/conf"
	for l in "$@"; do echo "$l" >>"$d/conf"; done
}

vm() { # NAME N BB:SS.F... : a domain with unmanaged hostdevs
	local name=$1 n=$2 a s
	shift 2
	echo "<domain type='kvm'><name>$name</name><uuid>$(uuid_of "$n")</uuid><memory unit='MiB'>512</memory>"
	echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
	for a in "$@"; do
		s=${a#*:}
		echo "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x${a%%:*}' slot='0x${s%.*}' function='0x${s#*.}'/></source></hostdev>"
	done
	echo "</devices></domain>"
}

klog() { cat "$1/root/.fakekernel/log" 2>/dev/null; }
klog_clear() { : >"$1/root/.fakekernel/log"; }
# Whether A and B were in the kernel at once (either way round).
overlapped() { grep -qE "^overlap ($2 $3|$3 $2)\$" "$1/root/.fakekernel/log"; }
# The writes a kernel log has for ADDR, one a line (not the fake kernel's
# own lines).
writes_of_log() { # LOG ADDR
	awk -v a="$2" '$2 == a && $1 != "overlap" && $1 != "rendezvous-timeout" && $1 != "killed-before" && $1 != "unlocked"' "$1"
}
no_journal() { ! ls "$1/root/run/vfio-hooks/"*.journal >/dev/null 2>&1; }
journal_of() { cat "$1/root/run/vfio-hooks/"*.journal 2>/dev/null; }
all_on_vfio() { # DIR ADDR...
	local d=$1 a
	shift
	for a in "$@"; do [ "$(driver_of "$d" "$a")" = vfio-pci ] || return 1; done
}
# ADDR as the pristine sysroot has it: its driver, no override, or gone
# (a VF the hook created).
as_before() { # DIR ADDR
	if [ ! -e "$TPL/root/sys/bus/pci/devices/$2" ]; then
		[ ! -e "$1/root/sys/bus/pci/devices/$2" ]
		return
	fi
	[ "$(driver_of "$1" "$2")" = "$(driver_of "$TPL" "$2")" ] &&
		cmp -s "$1/root/sys/bus/pci/devices/$2/driver_override" "$TPL/root/sys/bus/pci/devices/$2/driver_override" &&
		[ "$(reset_of "$1" "$2")" = "$(reset_of "$TPL" "$2")" ]
}
restored() { pristine "$1" && no_journal "$1"; }

# ------------------------------------------------ independent devices meet
# Four devices in groups of their own on root buses of their own: four
# units, worked on at once (each one's first slow write waits for the
# other three: none times out), at prepare and at release.
FOUR="02:00.0 05:00.0 07:00.0 09:00.0"
FOURA="0000:02:00.0 0000:05:00.0 0000:07:00.0 0000:09:00.0"
D=$T/a
new "$D"
# shellcheck disable=SC2086
vm four 1 $FOUR >"$T/four.xml"
FAKEKERNEL_RENDEZVOUS=4 hook "$D" "$T/four.xml" prepare
# shellcheck disable=SC2086
check four-prepare-meet "$([ $rc = 0 ] && [ ! -s "$D/stdout" ] && all_on_vfio "$D" $FOURA &&
	! grep -q '^rendezvous-timeout' "$D/root/.fakekernel/log"; echo $?)" \
	"rc=$rc, or a device came alone: $(grep '^rendezvous-timeout' "$D/root/.fakekernel/log" | tr '\n' ';')" "$D/stderr"
snap "$D/root" >"$D/prepared"
klog_clear "$D"
FAKEKERNEL_RENDEZVOUS=4 hook "$D" "$T/four.xml" release end
check four-release-meet "$([ $rc = 0 ] && [ ! -s "$D/stdout" ] && ! grep -q '^rendezvous-timeout' "$D/root/.fakekernel/log"; echo $?)" \
	"rc=$rc, or a device came alone: $(grep '^rendezvous-timeout' "$D/root/.fakekernel/log" | tr '\n' ';')" "$D/stderr"
check four-restored "$(restored "$D"; echo $?)" "sysroot differs or journal left: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"

# `parallel = no`: the same domain, one device after the other (no write
# of one device while another's is in the kernel), the same end states.
S=$T/a-serial
new "$S" "parallel = no"
FAKEKERNEL_DELAY_MS=10 hook "$S" "$T/four.xml" prepare
snap "$S/root" >"$S/prepared"
# shellcheck disable=SC2086
check serial-prepare "$([ $rc = 0 ] && all_on_vfio "$S" $FOURA && ! grep -q '^overlap' "$S/root/.fakekernel/log" &&
	diff -q "$D/prepared" "$S/prepared" >/dev/null; echo $?)" \
	"rc=$rc, overlaps: $(grep -c '^overlap' "$S/root/.fakekernel/log"), or not as the parallel prepare left it: $(diff "$D/prepared" "$S/prepared" | head -4)" "$S/stderr"
klog_clear "$S"
FAKEKERNEL_DELAY_MS=10 hook "$S" "$T/four.xml" release end
check serial-release "$([ $rc = 0 ] && ! grep -q '^overlap' "$S/root/.fakekernel/log" && restored "$S"; echo $?)" \
	"rc=$rc, overlaps: $(grep -c '^overlap' "$S/root/.fakekernel/log"): $(diff "$S/before" "$S/after" | head -4)" "$S/stderr"
# The control: with the default, the same domain's writes do overlap.
P=$T/a-par
new "$P"
FAKEKERNEL_DELAY_MS=10 hook "$P" "$T/four.xml" prepare
check parallel-overlaps "$([ $rc = 0 ] && grep -q '^overlap' "$P/root/.fakekernel/log"; echo $?)" "rc=$rc, no overlap" "$P/stderr"
hook "$P" "$T/four.xml" release end

# ------------------------------------------------------------ ties kept
# Two NICs behind one bridge; the GPU (its audio function comes as its
# companion); two VFs the hook creates of one PF; the Hailo-8 alone: four
# units.  Devices of one unit are never in the kernel at once; devices of
# different units are.
TIED="01:00.0 01:01.0 41:00.0 4d:00.1 4d:00.2 02:00.0"
TIEDA="0000:01:00.0 0000:01:01.0 0000:41:00.0 0000:41:00.1 0000:4d:00.1 0000:4d:00.2 0000:02:00.0"
PAIRS="0000:01:00.0,0000:01:01.0 0000:41:00.0,0000:41:00.1 0000:4d:00.1,0000:4d:00.2"
unit_of() {
	case $1 in 0000:01:*) echo bridge ;; 0000:41:*) echo gpu ;; 0000:4d:*) echo sriov ;; *) echo "$1" ;; esac
}
tied_overlaps() { # DIR: the overlap lines between devices of one unit
	local p
	for p in $PAIRS; do overlapped "$1" "${p%,*}" "${p#*,}" && echo "${p%,*} ${p#*,}"; done
	return 0
}
cross_overlaps() { # DIR: the count of overlap lines between units
	local o a b n=0
	while read -r o a b; do
		[ "$o" = overlap ] && [ "$(unit_of "$a")" != "$(unit_of "$b")" ] && n=$((n + 1))
	done <"$1/root/.fakekernel/log"
	echo $n
}
D=$T/b
new "$D"
# shellcheck disable=SC2086
vm tied 2 $TIED >"$T/tied.xml"
FAKEKERNEL_DELAY_MS=20 hook "$D" "$T/tied.xml" prepare
t=$(tied_overlaps "$D")
x=$(cross_overlaps "$D")
# shellcheck disable=SC2086
check ties-prepare "$([ $rc = 0 ] && [ ! -s "$D/stdout" ] && all_on_vfio "$D" $TIEDA && [ -z "$t" ] && [ "$x" -gt 0 ]; echo $?)" \
	"rc=$rc, tied devices at once: '$t', overlaps between units: $x" "$D/stderr"
klog_clear "$D"
FAKEKERNEL_DELAY_MS=20 hook "$D" "$T/tied.xml" release end
t=$(tied_overlaps "$D")
x=$(cross_overlaps "$D")
check ties-release "$([ $rc = 0 ] && [ -z "$t" ] && [ "$x" -gt 0 ]; echo $?)" \
	"rc=$rc, tied devices at once: '$t', overlaps between units: $x" "$D/stderr"
check ties-restored "$(restored "$D"; echo $?)" "sysroot differs or journal left: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"

# ------------------------------------------------------------ fault matrix
# A domain of four units (the GPU with its companion, the Hailo-8, a NIC
# without a driver, a VF the hook creates).  For every device written to
# (the PF too: its VFs are created) and every write k of that device,
# the write fails (once, or from then on) while the other units are
# anywhere in their work: the hook exits 1 naming the device, prints
# nothing on stdout, and the sysroot is exactly as before with no journal;
# or, when the failure persists and the roll-back fails too, the journal
# is left naming what is left (`failed` lines, the PF's `sriov` record)
# and a release (the fault gone) restores everything.  NOBIND (the probe
# binds nothing) for the probes only: other writes ignore it.  A fault the engine absorbs (rc 0) must leave the domain
# prepared, and a release restores everything.
MX="41:00.0 02:00.0 07:00.0 4d:00.1"
MXA="0000:41:00.0 0000:41:00.1 0000:02:00.0 0000:07:00.0 0000:4d:00.1"
export FAKEKERNEL_DELAY_MS=2
D=$T/fm
new "$D"
# shellcheck disable=SC2086
vm matrix 3 $MX >"$T/mx.xml"
hook "$D" "$T/mx.xml" prepare
cp "$D/root/.fakekernel/log" "$T/mx-prepare.log"
klog_clear "$D"
hook "$D" "$T/mx.xml" release end
cp "$D/root/.fakekernel/log" "$T/mx-release.log"
# shellcheck disable=SC2086
check matrix-clean-run "$([ $rc = 0 ] && restored "$D"; echo $?)" "rc=$rc" "$D/stderr"
ADDRS=$(awk '$1 != "overlap" && $1 != "rendezvous-timeout" { print $2 }' "$T/mx-prepare.log" | sort -u)
declare -A steps
for a in $ADDRS; do steps[$a]=$(writes_of_log "$T/mx-prepare.log" "$a" | wc -l); done

errors="EBUSY ETIMEDOUT EIO NOBIND"
[ "$QUICK" = 1 ] && errors="EBUSY NOBIND"
fm_cases=0 fm_ok=0 fm_absorbed=0 fm_left=0 t0=$SECONDS
for a in $ADDRS; do
	for err in $errors; do
		for persist in once always; do
			for ((k = 0; k < ${steps[$a]}; k++)); do
				name="fault-$a-$err-$persist-$k"
				[ "$err" = NOBIND ] && [ "$(writes_of_log "$T/mx-prepare.log" "$a" | sed -n "$((k + 1))p" | cut -d' ' -f1)" != probe ] && continue
				new "$D"
				once=""
				[ $persist = once ] && once=" once"
				if [ "$err" = NOBIND ]; then
					# drivers_probe "succeeds" binding nothing, and
					# the explicit bind after it fails too.
					printf 'any NOBIND %s skip=%s%s\nbind ENODEV %s\n' "$a" "$k" "$once" "$a" >"$D/root/.fakekernel/inject"
				else
					echo "any $err $a skip=$k$once" >"$D/root/.fakekernel/inject"
				fi
				hook "$D" "$T/mx.xml" prepare
				fm_cases=$((fm_cases + 1))
				rm -f "$D/root/.fakekernel/inject"
				if [ -s "$D/stdout" ]; then
					bad "$name" "rc=$rc, stdout not empty" "$D/stdout"
				elif [ $rc = 0 ]; then
					# shellcheck disable=SC2086
					if all_on_vfio "$D" $MXA; then
						hook "$D" "$T/mx.xml" release end
						if [ $rc = 0 ] && restored "$D"; then
							fm_ok=$((fm_ok + 1)) fm_absorbed=$((fm_absorbed + 1))
						else bad "$name" "absorbed, but release left changes: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"; fi
					else
						bad "$name" "rc=0 but the devices are not on vfio-pci" "$D/stderr"
					fi
				elif [ $rc != 1 ] || ! grep -q "$a" "$D/stderr"; then
					bad "$name" "rc=$rc, or stderr does not name $a" "$D/stderr"
				elif restored "$D"; then
					fm_ok=$((fm_ok + 1))
				elif [ $persist = always ] && ! no_journal "$D" && journal_of "$D" | grep -qE '^(failed|sriov) '; then
					# Rolled back as far as the kernel let it; the
					# journal names what is left: a release finishes.
					hook "$D" "$T/mx.xml" release end
					if [ $rc = 0 ] && restored "$D"; then
						fm_ok=$((fm_ok + 1)) fm_left=$((fm_left + 1))
					else bad "$name" "not restored by a second release: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"; fi
				else
					bad "$name" "sysroot changed or journal left: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"
				fi
			done
		done
	done
done
check fault-matrix "$([ $fm_ok = $fm_cases ] && [ $fm_cases -gt 0 ]; echo $?)" "$fm_ok of $fm_cases cases clean"
nsteps=0
for a in $ADDRS; do nsteps=$((nsteps + steps[$a])); done
echo "parallel-faults: $fm_cases cases ($(wc -w <<<"$ADDRS") devices, $nsteps writes x errors $errors x once/persistent; $fm_absorbed absorbed, $fm_left finished by a second release) in $((SECONDS - t0)) s, $fm_ok passed"

# ------------------------------------------------------------ crash matrix
# SIGKILL before write k of each device (the other units anywhere in
# theirs), then release: everything back, no journal.  Then: recover
# instead of release (the last write of each device), and prepare again
# after the kill (its first write), then release.
cm_cases=0 cm_ok=0 t0=$SECONDS
for a in $ADDRS; do
	for ((k = 0; k < ${steps[$a]}; k++)); do
		new "$D"
		echo "any KILL $a skip=$k" >"$D/root/.fakekernel/inject"
		hook "$D" "$T/mx.xml" prepare
		killed=$rc
		rm -f "$D/root/.fakekernel/inject"
		hook "$D" "$T/mx.xml" release end
		cm_cases=$((cm_cases + 1))
		if [ "$killed" = 137 ] && [ $rc = 0 ] && restored "$D"; then
			cm_ok=$((cm_ok + 1))
		else bad "crash-$a-$k" "killed=$killed release rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"; fi
	done
	new "$D"
	echo "any KILL $a skip=$((steps[$a] - 1))" >"$D/root/.fakekernel/inject"
	hook "$D" "$T/mx.xml" prepare
	killed=$rc
	rm -f "$D/root/.fakekernel/inject"
	cli "$D" recover
	cm_cases=$((cm_cases + 1))
	if [ "$killed" = 137 ] && [ $rc = 0 ] && grep -q 'nothing left' "$D/out" && restored "$D"; then
		cm_ok=$((cm_ok + 1))
	else bad "crash-recover-$a" "killed=$killed recover rc=$rc: $(diff "$D/before" "$D/after" | head -4)" "$D/err"; fi
	new "$D"
	echo "any KILL $a" >"$D/root/.fakekernel/inject"
	hook "$D" "$T/mx.xml" prepare
	killed=$rc
	rm -f "$D/root/.fakekernel/inject"
	hook "$D" "$T/mx.xml" prepare
	again=$rc
	# shellcheck disable=SC2086
	all_on_vfio "$D" $MXA
	on=$?
	hook "$D" "$T/mx.xml" release end
	cm_cases=$((cm_cases + 1))
	if [ "$killed" = 137 ] && [ $again = 0 ] && [ $on = 0 ] && [ $rc = 0 ] && restored "$D"; then
		cm_ok=$((cm_ok + 1))
	else bad "crash-prepare-again-$a" "killed=$killed prepare again rc=$again on vfio=$on release rc=$rc" "$D/stderr"; fi
done
check crash-matrix "$([ $cm_ok = $cm_cases ] && [ $cm_cases -gt 0 ]; echo $?)" "$cm_ok of $cm_cases"
echo "parallel-crashes: $cm_cases cases ($nsteps kills then release, $(wc -w <<<"$ADDRS") then recover, $(wc -w <<<"$ADDRS") then prepare again) in $((SECONDS - t0)) s, $cm_ok passed"

# ------------------------------------------------------ faults of release
# One device's give-back fails (a probe with the explicit bind after it):
# release exits 0 (libvirt ignores it), the other devices are back, the
# journal marks that device alone failed, and a second release finishes
# it, touching no other device.  An
# operation release does not write for that device fails nothing: all back.
rf_cases=0 rf_ok=0 rf_na=0 t0=$SECONDS
rf_errors="EIO EBUSY"
[ "$QUICK" = 1 ] && rf_errors="EIO"
for a in $MXA; do
	for op in unbind probe reset_method override; do
		for err in $rf_errors; do
			name="release-fault-$a-$op-$err"
			new "$D"
			hook "$D" "$T/mx.xml" prepare
			r0=$rc
			if [ $op = probe ]; then
				printf 'probe %s %s\nbind %s %s\n' "$err" "$a" "$err" "$a" >"$D/root/.fakekernel/inject"
			else
				echo "$op $err $a" >"$D/root/.fakekernel/inject"
			fi
			hook "$D" "$T/mx.xml" release end
			r1=$rc
			rm -f "$D/root/.fakekernel/inject"
			rf_cases=$((rf_cases + 1))
			journal_of "$D" >"$D/journal"
			if ! awk -v o="$op" -v a="$a" '$1 == o && $2 == a { f = 1 } END { exit !f }' "$T/mx-release.log"; then
				# not written at release: nothing to fail
				if [ $r0 = 0 ] && [ $r1 = 0 ] && restored "$D"; then
					rf_ok=$((rf_ok + 1)) rf_na=$((rf_na + 1))
				else bad "$name" "rc=$r0/$r1, not restored: $(diff "$D/before" "$D/after" | head -4)" "$D/stderr"; fi
				continue
			fi
			others_back=0
			for o in $MXA; do
				[ "$o" = "$a" ] && continue
				as_before "$D" "$o" || { others_back=1; echo "    $o: driver $(driver_of "$D" "$o")"; }
			done
			# The journal marks that device alone; the second
			# release writes to it alone (and to the PF, whose
			# record stays while a VF of it may be left).
			kept=$(awk '$1 == "failed" { print $2 }' "$D/journal" | tr '\n' ' ')
			klog_clear "$D"
			hook "$D" "$T/mx.xml" release end
			touched=$(awk '$1 != "overlap" { print $2 }' "$D/root/.fakekernel/log" | sort -u | grep -vxF -e "$a" -e 0000:4d:00.0 | tr '\n' ' ')
			if [ $r0 = 0 ] && [ $r1 = 0 ] && [ ! -s "$D/stdout" ] && [ $others_back = 0 ] &&
				[ "$kept" = "$a " ] && [ -z "$touched" ] && [ $rc = 0 ] && restored "$D"; then
				rf_ok=$((rf_ok + 1))
			else
				bad "$name" "rc=$r0/$r1/$rc, others back: $others_back, journal marks failed '$kept', second release touched '$touched': $(diff "$D/before" "$D/after" | head -4)" "$D/journal"
			fi
		done
	done
done
check release-fault-matrix "$([ $rf_ok = $rf_cases ]; echo $?)" "$rf_ok of $rf_cases"
echo "parallel-release-faults: $rf_cases cases ($(wc -w <<<"$MXA") devices x 4 operations x $rf_errors; $rf_na not written at release) in $((SECONDS - t0)) s, $rf_ok passed"

# ---------------------------------------------------------- concurrency
# Domains of several units started at once, c1 and c4 wanting the
# Hailo-8, c2 and c5 the NIC 09: for each, exactly one gets it, the other
# is refused (device-busy) and touches nothing; the others all get theirs;
# every release at once gives everything back.
CC=("" "01:00.0 01:01.0 02:00.0" "05:00.0 09:00.0 41:00.0" "0a:00.0 0b:00.0 07:00.0" "0c:00.0 02:00.0" "4d:00.1 09:00.0")
addrs_of() { local b; for b in "$@"; do printf '0000:%s ' "$b"; done; }
rounds=3
[ "$QUICK" = 1 ] && rounds=1
cc_ok=0 t0=$SECONDS
D=$T/cc
for ((r = 0; r < rounds; r++)); do
	new "$D"
	for i in 1 2 3 4 5; do
		# shellcheck disable=SC2086
		vm "c$i" $((40 + i)) ${CC[i]} >"$T/cc$i.xml"
	done
	for i in 1 2 3 4 5; do
		(VFIO_HOOKS_CONF="$D/conf" "$HOOK" "c$i" prepare begin - <"$T/cc$i.xml" >"$D/$i.out" 2>"$D/$i.err"
			echo $? >"$D/$i.rc") &
	done
	wait
	good=0
	# c3: nobody else wants its devices.
	# shellcheck disable=SC2046,SC2086
	if [ "$(cat "$D/3.rc")" != 0 ] || ! all_on_vfio "$D" $(addrs_of ${CC[3]}); then
		good=1
		echo "    c3: rc=$(cat "$D/3.rc")"
	fi
	for pair in "1 4 0000:02:00.0" "2 5 0000:09:00.0"; do
		read -r x y dev <<<"$pair"
		rx=$(cat "$D/$x.rc") ry=$(cat "$D/$y.rc")
		if [ "$rx" = 0 ] && [ "$ry" = 1 ]; then win=$x lose=$y
		elif [ "$rx" = 1 ] && [ "$ry" = 0 ]; then win=$y lose=$x
		else
			good=1
			echo "    c$x rc=$rx, c$y rc=$ry: not one winner for $dev"
			continue
		fi
		for b in ${CC[lose]}; do
			# The loser's own devices are as they were.
			[ "0000:$b" = "$dev" ] && continue
			as_before "$D" "0000:$b" || { good=1; echo "    c$lose touched 0000:$b"; }
		done
		# shellcheck disable=SC2086,SC2046,SC2154
		all_on_vfio "$D" $(addrs_of ${CC[win]}) || { good=1; echo "    c$win's devices not on vfio-pci"; }
		grep -q "\[device-busy\] $dev" "$D/$lose.err" || { good=1; echo "    c$lose not refused device-busy for $dev:"; head -3 "$D/$lose.err"; }
		[ -e "$D/root/run/vfio-hooks/$(uuid_of $((40 + lose))).journal" ] && { good=1; echo "    c$lose left a journal"; }
	done
	cat "$D"/*.out >"$D/outs"
	[ -s "$D/outs" ] && { good=1; echo "    stdout:"; head -3 "$D/outs"; }
	for i in 1 2 3 4 5; do
		(VFIO_HOOKS_CONF="$D/conf" "$HOOK" "c$i" release end - <"$T/cc$i.xml" >/dev/null 2>"$D/$i.rel"; echo $? >"$D/$i.rc") &
	done
	wait
	for i in 1 2 3 4 5; do [ "$(cat "$D/$i.rc")" = 0 ] || { good=1; echo "    c$i release rc=$(cat "$D/$i.rc")"; }; done
	restored "$D" || { good=1; echo "    not restored: $(diff "$D/before" "$D/after" | head -4)"; }
	check "concurrent-round$r" "$good" "see above"
	[ $good = 0 ] && cc_ok=$((cc_ok + 1))
done
echo "parallel-concurrency: $rounds rounds of 5 domains in $((SECONDS - t0)) s, $cc_ok passed"

# ------------------------------------------------------- prebind_managed
# managed='yes' devices bound at prepare, at once, then given back by the
# release (libvirt, finding them on vfio-pci, leaves them); one whose
# profile wants a variant vfio driver is left to libvirt (which would bind
# it to vfio-pci itself): not bound, even though its driver is missing.
D=$T/prebind
mkdir -p "$T/variant"
cat >"$T/variant/test-variant.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<profile xmlns="urn:vfio-hooks:profile:1" id="test-variant">
  <description>e1000e on a variant vfio driver (test profile)</description>
  <match vendor="0x8086"><device id="0x10d3"/></match>
  <host><vfio-driver name="vfio-variant"/></host>
</profile>
XML
new "$D" "prebind_managed = yes" "profiles = $top/xml/profiles:$T/variant"
vm pb 60 02:00.0 09:00.0 0a:00.0 | sed "s/managed='no'/managed='yes'/g" >"$T/pb.xml"
hook "$D" "$T/pb.xml" prepare
[ "$rc" = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = vfio-pci ] &&
	[ "$(driver_of "$D" 0000:09:00.0)" = e1000e ] && [ "$(driver_of "$D" 0000:0a:00.0)" = e1000e ]
check prebind-managed "$?" "rc=$rc: 02:00.0 on $(driver_of "$D" 0000:02:00.0), 09:00.0 on $(driver_of "$D" 0000:09:00.0)" "$D/stderr"
hook "$D" "$T/pb.xml" release end
[ "$rc" = 0 ] && restored "$D" && no_journal "$D"
check prebind-managed-released "$?" "rc=$rc" "$D/stderr"
new "$D"
hook "$D" "$T/pb.xml" prepare
[ "$rc" = 0 ] && [ "$(driver_of "$D" 0000:02:00.0)" = hailo ]
check prebind-managed-off-by-default "$?" "rc=$rc: 02:00.0 on $(driver_of "$D" 0000:02:00.0)" "$D/stderr"
hook "$D" "$T/pb.xml" release end

reports=$(find "$T" -maxdepth 1 -name 'tsan.*' | wc -l)
check sanitizer-reports "$([ "$reports" = 0 ]; echo $?)" "$reports ThreadSanitizer reports"
[ "$reports" = 0 ] || cat "$T"/tsan.* | head -80

echo "parallel: $pass passed, $fail failed"
[ $fail = 0 ]
