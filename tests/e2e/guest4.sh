#!/usr/bin/env bash
# Level-4 end-to-end runner: a default Debian host. A Debian root file
# system made the way a user gets one (debootstrap, then libvirt-daemon-system,
# libvirt-clients and qemu-system-x86 with their recommends; Debian's
# qemu.conf untouched), booted under QEMU (TCG) on Debian's kernel with
# systemd as PID 1 and AppArmor on, the emulated IOMMU and PCI devices of
# level 3. The project is built, installed and uninstalled in the root
# before the boot with its own ./install.sh (--no-deps: the dependencies are
# in the cached root, installed by the same install.sh --deps-only; no
# daemon runs there), and the payload's command runs as a systemd service
# after libvirtd.socket, its output on the serial console.
#
# Usage:
#   tests/e2e/guest4.sh --suite bookworm|trixie [--timeout SECS] [--out FILE]
#                       [--export DIR] [--append ARGS] [--reboots N] --src DIR
#                       --payload DIR -- [COMMAND ARGS...]
#
# --src DIR: the project's source tree, copied to /root/vfio-hooks in the
# root, built and installed there with `./install.sh --no-deps --no-reload`,
# then uninstalled (the payload installs it again with the daemon running).
# --reboots N: a command exiting 100 asks for a reboot (at most N): the
# guest boots again on the same disk, its writes kept (a qcow2 overlay of
# the image), and the payload's service runs the command again.
# Exit status: the command's status (`E2E-EXIT <n>` on the console), or 125
# when the harness failed. See tests/e2e/README.md, "Level 4".
# shellcheck disable=SC2054 # commas inside QEMU arguments, not array separators
set -euo pipefail

readonly PROG=${0##*/}
readonly CACHE=${VFIO_HOOKS_E2E_CACHE:-/var/cache/vfio-hooks-e2e}
readonly L4=$CACHE/level4
LDIR=$L4
# What debootstrap installs (a default variant, plus what a booted host
# has), then what a user installs with apt-get (recommends included).
readonly BASE=(systemd systemd-sysv dbus apparmor kmod procps ca-certificates udev)
readonly USER_PACKAGES=(libvirt-daemon-system libvirt-clients qemu-system-x86)
# Loaded by the initramfs (see guest3.sh).
readonly INITRD_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	virtio_blk crc16 mbcache jbd2 crc32c_generic libcrc32c ext4)
# In the root's module tree, loaded by udev and modules-load.d: the vfio
# set, the e1000e, and what libvirt's default network and vhost ask for.
readonly GUEST_MODULES=(irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core vfio-pci pci-stub e1000e
	tun bridge vhost_net)

# shellcheck source=tests/e2e/guestlib.sh
. "$(dirname "$0")/guestlib.sh"

usage() {
	cat >&2 <<EOF
usage: $PROG --suite bookworm|trixie [--timeout SECS] [--out FILE] [--export DIR]
       [--append ARGS] --src DIR --payload DIR -- [COMMAND ARGS...]
(see tests/e2e/README.md, "Level 4")
EOF
	exit "$HARNESS_FAIL"
}

# ---------------------------------------------------------------- arguments
append="" timeout_s=600 payload="" out_file="" export_dir="" SUITE="" src="" reboots=0
parse_args "--append --timeout --payload --out --export --suite --src --reboots" "$@"
set -- "${ARGS[@]}"
[[ $reboots =~ ^[0-9]+$ ]] || die "--reboots wants a count, got '$reboots'"
readonly REBOOT_STATUS=100
[[ $SUITE == bookworm || $SUITE == trixie ]] || { note "--suite bookworm|trixie is required"; usage; }
[[ -n $src && -x $src/install.sh ]] || { note "--src DIR (with install.sh) is required"; usage; }
((EUID == 0)) || die "must run as root"
command -v unshare >/dev/null || die "unshare (util-linux) is missing"

# ---------------------------------------------------------------- chroot
# Runs a shell command in ROOT, in its own mount and PID namespaces with a
# fresh /proc: a maintainer script's pgrep or SIGHUP never reaches this
# machine's processes, and /sys is not there at all (nothing in the root
# can write this machine's sysfs). Usage: in_root ROOT COMMAND
in_root() {
	local r=$1
	shift
	unshare --mount --pid --fork --kill-child -- bash -c '
		set -e
		r=$1; shift
		mount --make-rprivate /
		mount -t proc proc "$r/proc"
		mount -t tmpfs tmpfs "$r/run"
		mount -t tmpfs tmpfs "$r/tmp"
		if [ -d "$r/dev/pts" ]; then mount -t devpts devpts "$r/dev/pts" -o newinstance,ptmxmode=666; fi
		exec chroot "$r" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/bash -c "$1"' in_root "$r" "$*"
}

# The archive this machine's apt uses (the suites differ, the archive is
# the same), as a sources list for SUITE; the archive is a dated snapshot.
apt_setup() {
	local r=$1 mirror
	mirror=$(SUITE=bookworm detect_mirror)
	printf 'deb %s %s main\n' "$mirror" "$SUITE" >"$r/etc/apt/sources.list"
	echo 'Acquire::Check-Valid-Until "false";' >"$r/etc/apt/apt.conf.d/99e2e-snapshot"
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 755 "$r/usr/sbin/policy-rc.d"
}

# The dependency lines of install.sh: the root is rebuilt when they change.
deps_key() { grep -E '^(APT|DNF)_(BUILD|TEST)=' "$src/install.sh"; }

# Builds $L4/rootfs/SUITE-KEY/ once (cold: 5-8 min): debootstrap, the
# packages a user installs, the project's dependencies (install.sh
# --deps-only). Sets rootfs.
prepare_rootfs() {
	local key d mirror tmp t0 r
	key=$({ echo "$SUITE"; printf '%s\n' "${BASE[@]}" - "${USER_PACKAGES[@]}"; deps_key; } | sha256sum | cut -c1-12)
	rootfs=$L4/rootfs/$SUITE-$key
	[[ -e $rootfs/.complete ]] && return 0
	mkdir -p "$L4/rootfs"
	exec 8>"$L4/.rootfs-$SUITE.lock"
	flock -w 1800 8 || die "timed out waiting for $L4/.rootfs-$SUITE.lock"
	if [[ ! -e $rootfs/.complete ]]; then
		for d in "$L4"/rootfs/tmp-"$SUITE".*; do remove_tree "$d"; done
		mirror=$(SUITE=bookworm detect_mirror)
		note "building the $SUITE default-host root file system from $mirror (once, 5-8 min)"
		tmp=$(mktemp -d "$L4/rootfs/tmp-$SUITE.XXXXXX")
		r=$tmp/root t0=$SECONDS
		if ! debootstrap --components=main --include="$(IFS=,; echo "${BASE[*]}")" \
			"$SUITE" "$r" "$mirror" >"$tmp/log" 2>&1; then
			tail -n 30 "$tmp/log" >&2
			remove_tree "$tmp"
			die "debootstrap $SUITE from $mirror failed"
		fi
		note "debootstrap took $((SECONDS - t0)) s"
		apt_setup "$r"
		# The project's dependencies come from install.sh itself.
		mkdir -p "$r/root/deps"
		cp "$src/install.sh" "$r/root/deps/"
		if ! in_root "$r" 'apt-get update -qq && apt-get upgrade -y -qq >/dev/null &&
			apt-get install -y -qq '"${USER_PACKAGES[*]}"' >/dev/null &&
			cd /root/deps && ./install.sh --deps-only' >"$tmp/apt.log" 2>&1; then
			tail -n 30 "$tmp/apt.log" >&2
			remove_tree "$tmp"
			die "apt-get install in the $SUITE root failed"
		fi
		rm -rf "$r/root/deps" "$r/usr/sbin/policy-rc.d" "$r/etc/apt/apt.conf.d/99e2e-snapshot"
		# No network in the guest: no sources, no lists, no package cache.
		: >"$r/etc/apt/sources.list"
		rm -rf "$r"/var/cache/apt/* "$r"/var/lib/apt/lists/* "$r"/var/log/*.log "$r"/var/log/apt/*
		mkdir -p "$r/e2e"
		dpkg-query --admindir="$r/var/lib/dpkg" -W -f '${Package} ${Version}\n' >"$r/e2e/rootfs.versions"
		note "root file system ready after $((SECONDS - t0)) s, $(du -sh --one-file-system "$r" | cut -f1)"
		touch "$r/.complete"
		mv "$r" "$rootfs"
		remove_tree "$tmp"
		for d in "$L4"/rootfs/"$SUITE"-*; do
			[[ $d == "$rootfs" ]] || remove_tree "$d"
		done
	fi
	exec 8>&-
}

# The payload runs as a oneshot service once the system is up; its output
# goes to the serial console, and the guest powers off after it. Nothing
# else writes there: no getty on ttyS0, no status lines. Written into the
# per-run root with put (never through the hard links to the cache).
systemd_setup() {
	local u
	put /etc/systemd/system/e2e.service <<'EOF'
[Unit]
Description=vfio-hooks end-to-end payload
After=multi-user.target libvirtd.socket
Wants=libvirtd.socket

[Service]
Type=oneshot
ExecStart=/e2e/service
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TimeoutStartSec=infinity
EOF
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -sfn ../e2e.service "$root/etc/systemd/system/multi-user.target.wants/e2e.service"
	# Nothing to wait for in a guest without network or clock source.
	for u in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
		man-db.timer e2scrub_all.timer fstrim.timer systemd-timesyncd.service logrotate.timer \
		dpkg-db-backup.timer; do
		ln -sfn /dev/null "$root/etc/systemd/system/$u"
	done
	echo e2e-host | put /etc/hostname
	printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' | put /etc/fstab
	echo vfio-pci | put /etc/modules-load.d/e2e-vfio.conf
	{
		cat <<'EOF'
#!/bin/sh
# PID 1 is systemd; this is the payload's service (generated by guest4.sh).
export PATH=/payload/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
echo "E2E-BOOTED $(cut -d' ' -f1 /proc/uptime)"
EOF
		guest_command_sh disk
		cat <<'EOF'
# The disk is a throw-away overlay: no orderly shutdown needed.
echo o >/proc/sysrq-trigger
EOF
	} | put /e2e/service 755
}

# ---------------------------------------------------------------- per-run image
# DIR/root.img: the cached root as hard links (only new files are written
# into it: see put), the kernel's modules, the project built, installed and
# uninstalled by its install.sh in a chroot (what is left is the source tree
# with build/, for the payload to install with the daemon running), and
# the payload.
build_image() {
	local src_root=$1 dir=$2 pdir=$3 want_export=$4
	shift 4
	root=$dir/root
	cp -al "$src_root" "$root" 2>/dev/null || { rm -rf --one-file-system "$root"; cp -a "$src_root" "$root"; }
	rm -f "$root/.complete"
	mkdir -p "$root/usr/lib/modules"
	cp -a "$kdir/tree/lib/modules/." "$root/usr/lib/modules/"
	systemd_setup
	printf 'set --%s\n' "$(sh_quote "$@")" | put /e2e/cmd
	if ((want_export)); then : | put /e2e/export; fi

	# The project, as a user has it: the tracked files of the tree.
	mkdir -p "$root/root/vfio-hooks"
	if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$src" && git ls-files -z | xargs -0 cp --parents -t "$root/root/vfio-hooks")
	else
		cp -r "$src/." "$root/root/vfio-hooks/"
		rm -rf "$root/root/vfio-hooks/build"
	fi
	local t0=$SECONDS
	if ! in_root "$root" 'cd /root/vfio-hooks && ./install.sh --no-deps --no-reload && ./install.sh --uninstall --no-reload' >"$dir/install.log" 2>&1; then
		tail -n 30 "$dir/install.log" >&2
		die "install.sh in the $SUITE root failed"
	fi
	note "built and installed in the $SUITE root in $((SECONDS - t0)) s"
	cp "$dir/install.log" "$pdir/install-chroot.log" 2>/dev/null || true

	rm -rf "$root/payload"
	mkdir -p "$root/payload"
	cp -a "$pdir/." "$root/payload/"
	chown root:root "$root/payload"

	rm -f "$dir/root.img"
	mke2fs -q -t ext4 -L e2e-root -d "$root" "$dir/root.img" 6G >/dev/null ||
		die "mke2fs -d failed"
	rm -rf --one-file-system "$root"
}

# ---------------------------------------------------------------- main
ensure_host_tools
prepare_kernel

new_run_dir "$L4/runs"
trap 'remove_tree "$work"' EXIT

build_initramfs
prepare_rootfs
build_image "$rootfs" "$work" "$payload" "$([[ -n $export_dir ]] && echo 1 || echo 0)" "$@"

# Debian's kernel with AppArmor as its LSM, systemd as init. QEMU 10's
# intel-iommu (trixie) defaults to 48-bit guest addresses: the outer IOMMU
# must offer them too, or vfio refuses the nested assignment.
GUEST_MEM=2560
GUEST_IOMMU=aw-bits=48
GUEST_QEMU_EXTRA=(-device virtio-rng-pci)
GUEST_KCMD="apparmor=1 security=apparmor e2e.init=/sbin/init systemd.show_status=false"
log=${out_file:-$work/console.log}
: >"$log"
if ((reboots)); then
	# The guest's writes stay across its boots, in an overlay of the image.
	qemu-img create -q -f qcow2 -b "$work/root.img" -F raw "$work/disk.qcow2" ||
		die "qemu-img create failed"
	disk=$work/disk.qcow2 drive_fmt=format=qcow2
else
	disk=$work/root.img drive_fmt=format=raw,snapshot=on
fi
boot=0
while :; do
	boot_guest "$disk" "$log" 1 "$timeout_s"
	status=$(guest_status "$log")
	[[ $status == "$REBOOT_STATUS" ]] && ((boot < reboots)) || break
	boot=$((boot + 1))
	note "the guest asked for a reboot: boot $((boot + 1))"
	echo "E2E-REBOOT" >>"$log"
done
guest_finish "$status" ""
