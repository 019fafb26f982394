#!/usr/bin/env bash
# The Debian package, built and installed the way Debian does it, on a
# fresh machine: for each suite in ${SUITES:-bookworm trixie}, a copy of a
# debootstrap minbase (cached as tests/fresh/run.sh caches it), apt
# pointing at this machine's archive, then
#     apt-get build-dep ./  (build-essential and the Build-Depends) + lintian
#     dpkg-buildpackage -b -us -uc       in a clean clone of this tree
#     lintian on the .changes (and so the .deb): E: fails, W: is shown
#     apt-get install ./vfio-hooks_*.deb  (files, hook copy, conffile;
#       install.sh then refuses a second copy)
#     apt-get remove refused while a journal says a VM holds devices
#     apt-get remove (the hook copy goes), apt-get purge (nothing is left)
# and the .deb is copied to build/deb/SUITE/ (level 4 installs it).  Runs in
# its own mount and PID namespaces with a fresh /proc and no /sys.  Needs
# root.  Recommends (libvirt-daemon-system and its QEMU) are not installed:
# level 4 installs the package beside a running libvirt.  The downloaded
# packages are kept in ${VFIO_HOOKS_E2E_CACHE:-/var/cache/vfio-hooks-e2e}/deb/
# for the next run.  Logs of a failed step: build/deb-SUITE-STEP.log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
E2E_CACHE=${VFIO_HOOKS_E2E_CACHE:-/var/cache/vfio-hooks-e2e}
FRESH=$E2E_CACHE/fresh
CACHE=$E2E_CACHE/deb
pass=0 fail=0
res() { # NAME STATUS DETAIL
	if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS deb/$1"
	else fail=$((fail + 1)); echo "FAIL deb/$1: $3"; fi
}
# What the package is built from: the tracked files and their changes,
# but for the tests, the docs and CI (build/deb/SUITE/key; level4.sh
# rebuilds when it differs).
tree_key() {
	(cd "$top" && { git ls-files -s -- . ':!tests' ':!docs' ':!.ci'
		git diff HEAD --binary -- . ':!tests' ':!docs' ':!.ci'; } | sha256sum | cut -c1-16)
}
if [ "${1:-}" = --key ]; then tree_key; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "deb: must run as root"; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
mirror=${VFIO_HOOKS_E2E_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$FRESH" "$CACHE" "$top/build/deb"

# Unmounts whatever is mounted below DIR, then removes it without ever
# crossing into another file system.
remove_tree() {
	local m
	[ -e "$1" ] || return 0
	awk -v d="$(realpath "$1")/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m"; done
	rm -rf --one-file-system "$1"
}

# In ROOT as root: sh -c COMMAND, in fresh namespaces, with apt's package
# cache from CACHE/SUITE-archives.  Output to build/deb-SUITE-STEP.log.
in_root() { # ROOT SUITE STEP COMMAND
	unshare --mount --pid --fork --kill-child -- bash -c '
		set -e
		r=$1
		mount --make-rprivate /
		mount -t proc proc "$r/proc"
		mount --bind "$2" "$r/var/cache/apt/archives"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb LANG=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive HOME=/root /bin/sh -ec "$3"' \
		deb "$1" "$CACHE/$2-archives" "$4" >"$top/build/deb-$2-$3.log" 2>&1
}
log() { tail -"${2:-15}" "$top/build/deb-$1.log"; }

for suite in ${SUITES:-bookworm trixie}; do
	t_suite=$SECONDS
	base=$FRESH/$suite-minbase
	if [ ! -e "$base/.complete" ]; then
		remove_tree "$base.tmp"
		t0=$SECONDS
		if ! debootstrap --variant=minbase "$suite" "$base.tmp" "$mirror" >"$top/build/deb-$suite-debootstrap.log" 2>&1; then
			res "$suite/debootstrap" 1 "$(log "$suite-debootstrap" 5)"
			continue
		fi
		rm -rf "$base.tmp"/var/cache/apt/archives/*.deb
		echo "deb: $suite minbase made in $((SECONDS - t0)) s (cached in $base)"
		touch "$base.tmp/.complete"
		remove_tree "$base"
		mv "$base.tmp" "$base"
	fi
	r=$(mktemp -d "$CACHE/run-$suite.XXXXXX")
	trap 'remove_tree "$r"' EXIT
	cp -a "$base/." "$r/"
	mkdir -p "$CACHE/$suite-archives/partial"
	cp /etc/apt/apt.conf.d/99artifact-registry "$r/etc/apt/apt.conf.d/" 2>/dev/null ||
		echo 'Acquire::Check-Valid-Until "false";' >"$r/etc/apt/apt.conf.d/99snapshot"
	# Downloaded packages stay in the shared cache for the next run.
	echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$r/etc/apt/apt.conf.d/99keep"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	# A clean clone: what is committed, plus the working tree's tracked
	# changes (a clone of a dirty tree would miss them).
	key=$(tree_key)
	git clone -q "$top" "$r/root/vfio-hooks"
	(cd "$top" && git diff HEAD --binary) | (cd "$r/root/vfio-hooks" && git apply --allow-empty 2>/dev/null || true)

	ok=1
	step() { # NAME COMMAND: runs while the steps before passed
		local rc
		[ $ok = 1 ] || return 0
		t0=$SECONDS
		in_root "$r" "$suite" "$1" "$2"
		rc=$?
		res "$suite/$1" $rc "$(log "$suite-$1")"
		echo "deb: $suite: $1 took $((SECONDS - t0)) s"
		[ $rc = 0 ] || ok=0
	}
	# A throw-away root: dpkg without fsync, no manual-page index.
	step build-deps 'echo force-unsafe-io >/etc/dpkg/dpkg.cfg.d/unsafe-io
		echo "man-db man-db/auto-update boolean false" | debconf-set-selections
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends lintian >/dev/null
		cd /root/vfio-hooks && apt-get build-dep -y -qq ./ >/dev/null'
	step build 'cd /root/vfio-hooks && dpkg-buildpackage -b -us -uc && ls ../vfio-hooks_*.deb'
	# E: fails; W: and I: are shown.
	step lintian 'cd /root && rc=0
		lintian --fail-on error ./vfio-hooks_*.changes >/tmp/lintian 2>&1 || rc=$?
		grep -v "running with root privileges" /tmp/lintian || true
		if grep -q "^E:" /tmp/lintian; then exit 1; fi
		exit $rc'
	[ $ok = 0 ] || grep -E '^(E|W):' "$top/build/deb-$suite-lintian.log" | sed "s/^/deb: $suite: lintian: /"
	step install 'cd /root && apt-get install -y -qq --no-install-recommends ./vfio-hooks_*.deb
		dpkg -L vfio-hooks | grep -qx /usr/bin/vfio-hooks
		dpkg -L vfio-hooks | grep -qx /usr/libexec/vfio-hooks/qemu-hook
		dpkg -L vfio-hooks | grep -qx /usr/share/vfio-hooks/profile.rng
		dpkg -L vfio-hooks | grep -qx /usr/share/man/man8/vfio-hooks.8.gz
		dpkg -L vfio-hooks | grep -qx /usr/share/bash-completion/completions/vfio-hooks
		dpkg-query -W -f "\${Conffiles}\n" vfio-hooks | grep -q "^ /etc/vfio-hooks/vfio-hooks.conf "
		test -x /etc/libvirt/hooks/qemu.d/vfio-hooks
		cmp /usr/libexec/vfio-hooks/qemu-hook /etc/libvirt/hooks/qemu.d/vfio-hooks
		if dpkg -S /etc/libvirt/hooks/qemu.d/vfio-hooks; then echo "dpkg owns the hook copy"; exit 1; fi
		dpkg -L vfio-hooks | grep -q "/systemd/system/vfio-hooks-bind.service$"
		dpkg -L vfio-hooks | grep -qx /usr/lib/systemd/catalog/vfio-hooks.catalog
		dpkg -L vfio-hooks | grep -qx /usr/share/zsh/vendor-completions/_vfio-hooks
		dpkg -L vfio-hooks | grep -qx /usr/share/fish/vendor_completions.d/vfio-hooks.fish
		test -L /etc/systemd/system/sysinit.target.wants/vfio-hooks-bind.service
		vfio-hooks --version
		if /root/vfio-hooks/install.sh --no-deps --no-build >/tmp/out 2>&1; then echo "install.sh installed a second copy"; exit 1; fi
		cat /tmp/out; grep -q "package is installed" /tmp/out'
	# A journal in /run/vfio-hooks is a running VM holding devices.
	step remove-refused 'mkdir -p /run/vfio-hooks
		printf "vfio-hooks-journal 1\ndomain guest-on-vfio\nuuid 6f1c3a52-8d0e-4b7e-9a55-000000000001\nprepared\n" >/run/vfio-hooks/6f1c3a52-8d0e-4b7e-9a55-000000000001.journal
		if apt-get remove -y -qq vfio-hooks >/tmp/out 2>&1; then cat /tmp/out; echo "removed while a journal exists"; exit 1; fi
		cat /tmp/out
		grep -q "domain: guest-on-vfio" /tmp/out
		grep -q VFIO_HOOKS_FORCE_REMOVE /tmp/out
		dpkg-query -W -f "\${Status}\n" vfio-hooks | grep -qx "install ok installed"
		test -x /etc/libvirt/hooks/qemu.d/vfio-hooks
		rm /run/vfio-hooks/*.journal'
	step remove 'apt-get remove -y -qq vfio-hooks
		test ! -e /etc/libvirt/hooks/qemu.d/vfio-hooks
		test ! -e /usr/bin/vfio-hooks
		test -f /etc/vfio-hooks/vfio-hooks.conf'
	step purge 'apt-get purge -y -qq vfio-hooks
		for p in /etc/vfio-hooks /etc/libvirt/hooks /var/lib/vfio-hooks /usr/share/vfio-hooks /usr/libexec/vfio-hooks; do
			if [ -e $p ]; then echo "left after purge: $p"; exit 1; fi
		done
		if dpkg-query -W -f "\${Status}\n" vfio-hooks 2>/dev/null | grep -qE " (installed|config-files)\$"; then echo "still installed"; exit 1; fi'
	if [ $ok = 1 ]; then
		mkdir -p "$top/build/deb/$suite"
		rm -f "$top/build/deb/$suite"/vfio-hooks_*.deb
		cp "$r"/root/vfio-hooks_*.deb "$top/build/deb/$suite/"
		echo "$key" >"$top/build/deb/$suite/key"
		echo "deb: $suite: $(cd "$top" && ls build/deb/"$suite"/vfio-hooks_*.deb)"
	fi
	echo "deb: $suite took $((SECONDS - t_suite)) s"
	remove_tree "$r"
	trap - EXIT
done
echo "deb: $pass passed, $fail failed"
[ $fail = 0 ]
