#!/usr/bin/env bash
# The README's two commands on a fresh machine: a debootstrap minbase of
# Debian (bookworm unless SUITES says otherwise, e.g. SUITES="bookworm
# trixie"), a user with sudo (what the commands assume) and a clone of this
# tree in the user's home, then exactly
#     sudo ./install.sh
#     make check
# as that user, nothing else typed.  Runs in its own mount and PID
# namespaces with a fresh /proc and no /sys (nothing in there can reach
# this machine's devices or processes).  Needs root.  The minbase root is
# cached in ${VFIO_HOOKS_E2E_CACHE:-/var/cache/vfio-hooks-e2e}/fresh/;
# each run works on a copy of it.  Logs of a failed run: build/fresh-*.log.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CACHE=${VFIO_HOOKS_E2E_CACHE:-/var/cache/vfio-hooks-e2e}/fresh
pass=0 fail=0
res() { # NAME STATUS DETAIL
	if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS fresh/$1"
	else fail=$((fail + 1)); echo "FAIL fresh/$1: $3"; fi
}
[ "$(id -u)" = 0 ] || { echo "fresh: must run as root"; exit 2; }
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
mirror=${VFIO_HOOKS_E2E_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE" "$top/build"

# Unmounts whatever is mounted below DIR, then removes it without ever
# crossing into another file system.
remove_tree() {
	local m
	[ -e "$1" ] || return 0
	awk -v d="$(realpath "$1")/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do umount -l "$m"; done
	rm -rf --one-file-system "$1"
}

# As a user of ROOT: bash -lc COMMAND, in fresh namespaces.
as_user() {
	local r=$1 cmd=$2
	unshare --mount --pid --fork --kill-child -- bash -c '
		set -e
		r=$1
		mount --make-rprivate /
		mount -t proc proc "$r/proc"
		mount -t tmpfs tmpfs "$r/tmp"
		mount -t tmpfs tmpfs "$r/run"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin TERM=dumb LANG=C.UTF-8 \
			/usr/sbin/runuser -u dev -- /bin/bash -lc "$2"' fresh "$r" "$cmd"
}

for suite in ${SUITES:-bookworm}; do
	base=$CACHE/$suite-minbase
	if [ ! -e "$base/.complete" ]; then
		remove_tree "$base.tmp"
		t0=$SECONDS
		if ! debootstrap --variant=minbase "$suite" "$base.tmp" "$mirror" >"$top/build/fresh-$suite-debootstrap.log" 2>&1; then
			res "$suite/debootstrap" 1 "$(tail -5 "$top/build/fresh-$suite-debootstrap.log")"
			continue
		fi
		rm -rf "$base.tmp"/var/cache/apt/archives/*.deb
		echo "fresh: $suite minbase made in $((SECONDS - t0)) s (cached in $base)"
		touch "$base.tmp/.complete"
		remove_tree "$base"
		mv "$base.tmp" "$base"
	fi
	r=$(mktemp -d "$CACHE/run-$suite.XXXXXX")
	trap 'remove_tree "$r"' EXIT
	cp -a "$base/." "$r/"
	# The machine as a user has it: apt reaching this workplace's archive
	# (a dated snapshot: its Release files are past their Valid-Until),
	# sudo for the user, and the project cloned into the user's home.
	cp /etc/apt/apt.conf.d/99artifact-registry "$r/etc/apt/apt.conf.d/" 2>/dev/null ||
		echo 'Acquire::Check-Valid-Until "false";' >"$r/etc/apt/apt.conf.d/99snapshot"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	if ! unshare --mount --pid --fork --kill-child -- bash -c '
		mount --make-rprivate / && mount -t proc proc "$1/proc" &&
		chroot "$1" /bin/sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sudo >/dev/null &&
			useradd -m -s /bin/bash -G sudo dev && echo \"dev ALL=(ALL) NOPASSWD: ALL\" >/etc/sudoers.d/dev"' \
		fresh "$r" >"$top/build/fresh-$suite-setup.log" 2>&1; then
		res "$suite/setup" 1 "$(tail -5 "$top/build/fresh-$suite-setup.log")"
		remove_tree "$r"; trap - EXIT
		continue
	fi
	git clone -q "$top" "$r/home/dev/vfio-hooks"
	# What is committed, plus the working tree's tracked changes (a clone
	# of a dirty tree would miss them).
	(cd "$top" && git diff HEAD --binary) | (cd "$r/home/dev/vfio-hooks" && git apply --allow-empty 2>/dev/null || true)
	chroot "$r" chown -R dev:dev /home/dev/vfio-hooks

	t0=$SECONDS
	as_user "$r" 'cd ~/vfio-hooks && sudo ./install.sh' >"$top/build/fresh-$suite-install.log" 2>&1
	rc=$?
	res "$suite/sudo-install.sh" $rc "$(tail -15 "$top/build/fresh-$suite-install.log")"
	echo "fresh: $suite: sudo ./install.sh took $((SECONDS - t0)) s"
	t0=$SECONDS
	as_user "$r" 'cd ~/vfio-hooks && make check' >"$top/build/fresh-$suite-check.log" 2>&1
	rc=$?
	line=$(grep -E '^check: [0-9]+ passed, [0-9]+ failed$' "$top/build/fresh-$suite-check.log" | tail -1)
	echo "fresh: $suite: make check took $((SECONDS - t0)) s: ${line:-no closing line}"
	[ $rc = 0 ] && [ -n "$line" ]
	res "$suite/make-check" $? "rc=$rc $(grep -E '^FAIL|rror' "$top/build/fresh-$suite-check.log" | head -20; tail -5 "$top/build/fresh-$suite-check.log")"
	remove_tree "$r"
	trap - EXIT
done
echo "fresh: $pass passed, $fail failed"
[ $fail = 0 ]
