#!/usr/bin/env bash
# End-to-end, level 4: a default Debian host (tests/e2e/guest4.sh: systemd
# as PID 1, AppArmor enforcing, Debian's libvirt-daemon-system and
# qemu.conf, QEMU as libvirt-qemu), on Debian 12 and Debian 13; vfio-hooks
# built and installed there with its own install.sh, driven through virsh
# (tests/e2e/level4/run), after the Debian package of the suite
# (build/deb/SUITE/, made by tests/deb/run.sh when missing or older than the
# tree) is installed and removed with apt-get; the guest reboots once (the
# boot order of bind --persist and autostart domains). VFIO_HOOKS_E2E_SUITES picks the releases
# (default "bookworm trixie"). Guest logs of a failed run are kept in
# build/e2e-logs/.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$top/build/e2e-logs" "$top/build/e2e-out"
rc_all=0
for suite in ${VFIO_HOOKS_E2E_SUITES:-bookworm trixie}; do
	p=$tmp/$suite
	mkdir -p "$p/xml"
	cp "$here"/level3/{plain,managed,unmanaged,second,test-e1000e}.xml "$here"/level4/*.xml "$p/xml/"
	cp "$here/level4/run" "$here/level4/package" "$p/"
	# The suite's package, built from this tree in a fresh chroot.
	key=$("$top/tests/deb/run.sh" --key)
	if [ "$(cat "$top/build/deb/$suite/key" 2>/dev/null)" != "$key" ]; then
		t0=$SECONDS
		SUITES=$suite "$top/tests/deb/run.sh" | grep -E '^(FAIL|deb: )'
		echo "level4: $suite: tests/deb/run.sh took $((SECONDS - t0)) s"
	fi
	cp "$top/build/deb/$suite"/vfio-hooks_*.deb "$p/" 2>/dev/null ||
		echo "level4: $suite: no package in build/deb/$suite/ (tests/deb/run.sh failed)"
	echo "$suite" >"$p/suite"
	log=$top/build/e2e-logs/level4-$suite.log
	t0=$SECONDS
	"$here/guest4.sh" --suite "$suite" --timeout 1500 --reboots 1 --src "$top" --out "$log" \
		--export "$tmp/export-$suite" --payload "$p" -- /payload/run >"$tmp/console" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL) |^level4: |^AppArmor denials|^  .*apparmor="DENIED"|^guest4.sh: ' "$tmp/console"
	echo "level4: $suite: guest run took $((SECONDS - t0)) s"
	[ ! -s "$tmp/export-$suite/refused.txt" ] || cp "$tmp/export-$suite/refused.txt" "$top/build/e2e-out/level4-$suite-refused.txt"
	if [ $rc != 0 ]; then
		rc_all=1
		echo "level4: $suite: guest exit $rc; console kept in $log"
		grep -q '^FAIL ' "$tmp/console" || echo "FAIL e2e/level4/$suite/guest: exit $rc"
		tail -30 "$tmp/console" | sed 's/^/    /'
	else
		rm -f "$log"
	fi
done
exit $rc_all
