#!/usr/bin/env bash
# Level-3 end-to-end runner: boot a real Debian kernel under QEMU (TCG) with an
# emulated IOMMU and emulated PCI devices, on a Debian root file system that
# has libvirtd and QEMU in it, and run a command from a payload directory
# there. The payload decides when libvirtd starts (tests install their hook
# first: libvirtd only looks for hooks at start-up).
#
# Usage:
#   tests/e2e/guest3.sh [--timeout SECS] [--out FILE] [--export DIR]
#                       [--append ARGS] [--lone-nics N] --payload DIR -- [COMMAND ARGS...]
#
# Exit status: the guest command's status (parsed from the `E2E-EXIT <n>` line
# the guest prints), or 125 when the harness itself failed (bad usage,
# debootstrap or download failure, guest timeout or crash, corrupt export).
#
# Everything that touches sysfs happens inside the guest kernel; this script
# never writes to the host's /sys. See tests/e2e/README.md, "Level 3".
# shellcheck disable=SC2054 # commas inside QEMU arguments, not array separators
set -euo pipefail

readonly PROG=${0##*/}
readonly CACHE=${VFIO_HOOKS_E2E_CACHE:-/var/cache/vfio-hooks-e2e}
# Everything of this runner lives in its own subdirectory: guest.sh deletes
# any $CACHE/kernel/* build but its own. Only debs/ and .lock are shared.
readonly L3=$CACHE/level3
readonly SUITE=bookworm
# The root file system. libxml2, libudev1 and libvirt0 are what the project's
# programs (built on the host) link against; they come with libvirt anyway but
# are named so that they stay if libvirt's dependencies change.
# udev: the boot of a host, for the persistent bindings (bind --persist).
readonly PACKAGES=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
	kmod busybox procps libxml2 libudev1 libvirt0 make udev)
# Loaded by the initramfs with insmod, in this order (their .modinfo
# dependencies first): what it takes to mount the virtio-blk ext4 root.
# crc32c_generic is no .modinfo dependency (jbd2/ext4 ask the crypto API for
# "crc32c" at mount time), so it is named here.
readonly INITRD_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	virtio_blk crc16 mbcache jbd2 crc32c_generic libcrc32c ext4)
# Installed under /lib/modules/RELEASE of the root (with depmod's indexes, so
# that modprobe works there for libvirt and the tests) and loaded by the
# guest's init with modprobe, in this order: vfio-pci before e1000e so that
# --append "vfio-pci.ids=..." can claim e1000e devices. Names absent from the
# kernel version at hand are skipped (vfio_virqfd was merged into vfio in 6.2).
readonly GUEST_MODULES=(irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core vfio-pci pci-stub e1000e tun)
# A command exiting with this status asks for a reboot (see --reboots).
readonly REBOOT_STATUS=100

LDIR=$L3
# shellcheck source=tests/e2e/guestlib.sh
. "$(dirname "$0")/guestlib.sh"

usage() {
	cat >&2 <<EOF
usage: $PROG [--timeout SECS] [--out FILE] [--export DIR] [--append ARGS]
       [--reboots N] [--lone-nics N] --payload DIR -- [COMMAND ARGS...]
(see tests/e2e/README.md, "Level 3")
EOF
	exit "$HARNESS_FAIL"
}

# ---------------------------------------------------------------- arguments
append="" timeout_s=300 payload="" out_file="" export_dir="" reboots=0 lone_nics=0
parse_args "--append --timeout --payload --out --export --reboots --lone-nics" "$@"
set -- "${ARGS[@]}"
[[ $reboots =~ ^[0-9]+$ ]] || die "--reboots wants a count, got '$reboots'"
[[ $lone_nics =~ ^[0-8]$ ]] || die "--lone-nics wants 0 to 8, got '$lone_nics'"
# debootstrap, root-owned files in the image and hard links to the cached
# root file system (protected_hardlinks) all need root.
((EUID == 0)) || die "must run as root"

# ---------------------------------------------------------------- root file system
# Builds $L3/rootfs/SUITE-KEY/ once per suite and package list (debootstrap,
# ~1 min and ~320 MB), then fills its QEMU capabilities cache once (see
# probe_caps). Sets rootfs. Needs $work, $kdir and $initramfs.
prepare_rootfs() {
	local key
	key=$(printf '%s\n' "$SUITE" "${PACKAGES[@]}" | sha256sum | cut -c1-12)
	rootfs=$L3/rootfs/$SUITE-$key
	[[ -e $rootfs/.complete && -e $rootfs/.caps ]] && return 0

	mkdir -p "$L3/rootfs"
	# Its own lock: a level-2 run need not wait for debootstrap.
	exec 8>"$L3/.rootfs.lock"
	flock -w 1200 8 || die "timed out waiting for the cache lock $L3/.rootfs.lock"
	if [[ ! -e $rootfs/.complete ]]; then
		local d mirror tmp t0 include
		for d in "$L3"/rootfs/tmp.*; do remove_tree "$d"; done
		mirror=$(detect_mirror)
		note "building the $SUITE root file system from $mirror (once, ~1.5 min)"
		tmp=$(mktemp -d "$L3/rootfs/tmp.XXXXXX")
		t0=$SECONDS
		include=$(IFS=,; echo "${PACKAGES[*]}")
		if ! debootstrap --variant=minbase --components=main --include="$include" \
			"$SUITE" "$tmp/root" "$mirror" >"$tmp/log" 2>&1; then
			tail -n 30 "$tmp/log" >&2
			remove_tree "$tmp"
			die "debootstrap $SUITE from $mirror failed"
		fi
		# The package cache and lists are of no use in the guest (no network)
		# and would be copied into every image.
		rm -rf "$tmp"/root/var/cache/apt/* "$tmp"/root/var/lib/apt/lists/* "$tmp"/root/var/log/*.log
		mkdir -p "$tmp/root/e2e"
		dpkg-query --admindir="$tmp/root/var/lib/dpkg" -W -f '${Package} ${Version}\n' \
			>"$tmp/root/e2e/rootfs.versions" 2>/dev/null || true
		note "debootstrap took $((SECONDS - t0)) s, $(du -sh --one-file-system "$tmp/root" | cut -f1)"
		touch "$tmp/root/.complete"
		mv "$tmp/root" "$rootfs"
		remove_tree "$tmp"
		# Other suites or package lists are stale now.
		for d in "$L3"/rootfs/*; do
			[[ $d == "$rootfs" ]] || remove_tree "$d"
		done
	fi
	if [[ ! -e $rootfs/.caps ]]; then
		probe_caps
	fi
	exec 8>&-
}

# libvirtd probes every qemu-system-* binary (two here) the first time a
# client needs capabilities, ~12 s under TCG, and keeps the result in
# /var/cache/libvirt/qemu/capabilities/. Since the guest's writes are
# thrown away, every run would pay that again: instead one guest boot does it
# once, and its files are added to the cached root. libvirt takes a cached
# file as valid if, among others, its <qemuctime> and <selfctime> match the
# ctimes of the QEMU binary and of libvirtd and its modules. mke2fs copies
# the host's ctimes, which the hard links of each run renew, so build_image
# sets these files' ctimes in the image to a fixed value (the root's build
# time), the probe run included. If libvirt finds anything else different it
# probes again: slower, still right. A failed probe is remembered (delete the
# cache to retry) and only costs time.
probe_caps() {
	local dir=$work/probe log status="" try
	mkdir -p "$dir/payload"
	cat >"$dir/payload/run" <<'EOF'
#!/bin/sh
# Generated by tests/e2e/guest3.sh: fill libvirt's QEMU capabilities cache.
e2e-libvirtd start || exit 1
timeout 240 virsh -q capabilities >/dev/null || exit 1
mkdir -p out && cp /var/cache/libvirt/qemu/capabilities/*.xml out/
EOF
	chmod 755 "$dir/payload/run"
	log=$dir/console.log
	# Two tries: the host's QEMU 7.2 was once seen to segfault (TCG) in the
	# middle of this boot, and a failure is remembered.
	for try in 1 2; do
		note "probing libvirt's QEMU capabilities in the guest (once, ~40 s)"
		build_image "$rootfs" "$dir" "$dir/payload" 1 /payload/run
		: >"$log"
		boot_guest "$dir/root.img" "$log" 0 300
		status=$(guest_status "$log")
		rm -rf "$dir/caps"
		if [[ $status == 0 ]] && extract_export "$log" "$dir/caps" && compgen -G "$dir/caps/*.xml" >/dev/null; then
			mkdir -p "$rootfs/var/cache/libvirt/qemu/capabilities"
			cp "$dir"/caps/*.xml "$rootfs/var/cache/libvirt/qemu/capabilities/"
			echo ok >"$rootfs/.caps"
			remove_tree "$dir"
			return 0
		fi
		cp "$log" "$L3/probe-failed.log"
		note "warning: capabilities probe $try failed (status '${status:-none}', qemu exit $qemu_rc); console in $L3/probe-failed.log"
	done
	note "warning: giving up; runs will probe themselves (~12 s each)"
	echo failed >"$rootfs/.caps"
	remove_tree "$dir"
}

# PID 1 after switch_root (dash, in the Debian root). Quoted heredoc: nothing
# expands on the host.
root_init() {
	cat <<'EOF'
#!/bin/sh
# Generated by tests/e2e/guest3.sh: PID 1 of the level-3 e2e guest.
export PATH=/payload/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
exec </dev/null >/dev/console 2>&1
hostname e2e-guest
busybox ip link set lo up 2>/dev/null

# A payload that wants a host's boot (udev's coldplug: the rules of
# /etc/udev/rules.d run and udev loads the drivers, as systemd-udev-trigger
# does) leaves this file on the disk for the next boot.
if [ -e /etc/e2e-boot-with-udev ]; then
	/lib/systemd/systemd-udevd --daemon
	udevadm trigger --type=subsystems --action=add
	udevadm trigger --type=devices --action=add
	udevadm settle --timeout=120 || echo "e2e-init: udevadm settle timed out"
fi

# modprobe reads MODULE.PARAM=VALUE (e.g. vfio-pci.ids=...) from the kernel
# command line itself.
# shellcheck disable=SC2046 # one module name per word
modprobe -a $(cat /e2e/modules.list) || echo "e2e-init: modprobe failed"

# What libvirt-daemon-system and systemd-tmpfiles would create. libvirtd is
# NOT started: the payload does that once its hook is in place.
mkdir -p /run/libvirt /run/lock /var/log/libvirt/qemu /var/lib/libvirt/qemu \
	/var/cache/libvirt/qemu /etc/libvirt/hooks/qemu.d

EOF
	guest_command_sh disk
	cat <<'EOF'
busybox poweroff -f
echo o >/proc/sysrq-trigger
EOF
}

# /usr/local/sbin/e2e-libvirtd in the guest: start, stop or restart virtlogd
# and libvirtd without systemd, waiting until libvirtd listens.
libvirtd_helper() {
	cat <<'EOF'
#!/bin/sh
# Generated by tests/e2e/guest3.sh. Usage: e2e-libvirtd start|stop|restart
# start: virtlogd -d (unless running), libvirtd -d, wait for the socket.
# stop: SIGTERM to libvirtd and wait until it is gone (running domains stay).
sock=/run/libvirt/libvirt-sock
start() {
	if ! { [ -s /run/virtlogd.pid ] && kill -0 "$(cat /run/virtlogd.pid)" 2>/dev/null; }; then
		virtlogd -d || return 1
	fi
	libvirtd -d || return 1
	i=0
	until [ -S $sock ]; do
		i=$((i + 1))
		[ $i -le 300 ] || { echo "e2e-libvirtd: no $sock after 30 s" >&2; return 1; }
		sleep 0.1
	done
}
stop() {
	[ -s /run/libvirtd.pid ] || return 0
	pid=$(cat /run/libvirtd.pid)
	kill "$pid" 2>/dev/null || return 0
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || { echo "e2e-libvirtd: libvirtd $pid still there after 30 s" >&2; return 1; }
		sleep 0.1
	done
	# Else the next start would find the old socket and not wait.
	rm -f $sock /run/libvirtd.pid
}
case ${1:-} in
start) start ;;
stop) stop ;;
restart) stop && start ;;
*) echo "usage: e2e-libvirtd start|stop|restart" >&2; exit 2 ;;
esac
EOF
}

# The minimal qemu.conf for a libvirtd without systemd, cgroups or security
# drivers, running QEMU as root (measured: e2e-recipe.md, level 1).
qemu_conf() {
	cat <<'EOF'
# Generated by tests/e2e/guest3.sh.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
EOF
}

# Makes DIR/root.img: the root file system SRC (hard links to it: cheap; a
# plain copy when DIR is on another file system), plus the guest's init, the
# libvirt setup, the kernel's modules and the payload PDIR; WANT_EXPORT 1
# makes the guest export /payload/out. Only new files are written into the
# tree (see put). Usage: build_image SRC DIR PDIR WANT_EXPORT COMMAND ARGS...
build_image() {
	local src=$1 dir=$2 pdir=$3 want_export=$4 f
	shift 4
	root=$dir/root
	cp -al "$src" "$root" 2>/dev/null || {
		rm -rf --one-file-system "$root"
		cp -a "$src" "$root"
	}
	rm -f "$root/.complete" "$root/.caps"

	# The libvirt-qemu user must exist even with user = "root" in qemu.conf
	# (libvirt-daemon-system, which would add it, is not installed).
	for f in passwd group shadow gshadow; do
		[[ -e $root/etc/$f ]] || continue
		if ! grep -q '^libvirt-qemu:' "$root/etc/$f"; then
			{
				cat "$root/etc/$f"
				case $f in
				passwd) echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin' ;;
				group) echo 'libvirt-qemu:x:64055:' ;;
				shadow) echo 'libvirt-qemu:!:19000::::::' ;;
				gshadow) echo 'libvirt-qemu:!::' ;;
				esac
			} | put "/etc/$f"
		fi
	done
	qemu_conf | put /etc/libvirt/qemu.conf
	mkdir -p "$root"/var/log/libvirt/qemu "$root"/var/lib/libvirt/qemu \
		"$root"/var/cache/libvirt/qemu "$root"/etc/libvirt/hooks/qemu.d
	libvirtd_helper | put /usr/local/sbin/e2e-libvirtd 755

	# The kernel's modules; /lib is a symlink to usr/lib in the root.
	mkdir -p "$root/usr/lib/modules"
	cp -a "$kdir/tree/lib/modules/." "$root/usr/lib/modules/"

	root_init | put /e2e/init 755
	put /e2e/modules.list <"$kdir/modules.list"
	printf 'set --%s\n' "$(sh_quote "$@")" | put /e2e/cmd
	if ((want_export)); then : | put /e2e/export; fi

	rm -rf "$root/payload"
	mkdir -p "$root/payload"
	cp -a "$pdir/." "$root/payload/"
	chown root:root "$root/payload"
	copy_missing_libs "$pdir"

	# Sparse: the image takes the size of its files on disk. -q still
	# announces the image file on stdout.
	rm -f "$dir/root.img" # else mke2fs may ask before overwriting a file system
	mke2fs -q -t ext4 -L e2e-root -d "$root" "$dir/root.img" 2G >/dev/null ||
		die "mke2fs -d failed (payload too large for the 2 GB image?)"
	# Fixed ctimes for what libvirt checks its capabilities cache against
	# (see probe_caps).
	local ctime
	ctime=$(stat -c %Y "$src/.complete")
	(
		cd "$root"
		find usr/sbin/libvirtd usr/bin/qemu-system-* usr/lib/*/libvirt -type f 2>/dev/null |
			sed "s|^|set_inode_field /|; s|\$| ctime @$ctime|"
	) | debugfs -w -f - "$dir/root.img" >/dev/null 2>&1 || note "warning: debugfs failed; libvirt will probe QEMU again"
	rm -rf --one-file-system "$root"
}

# ---------------------------------------------------------------- main
ensure_host_tools
prepare_kernel

# The work directory (see new_run_dir), made under the root file system's
# lock.
mkdir -p "$L3/runs"
exec 8>"$L3/.rootfs.lock"
flock -w 1200 8 || die "timed out waiting for the cache lock $L3/.rootfs.lock"
new_run_dir "$L3/runs"
exec 8>&-
trap 'remove_tree "$work"' EXIT

build_initramfs
prepare_rootfs
build_image "$rootfs" "$work" "$payload" "$([[ -n $export_dir ]] && echo 1 || echo 0)" "$@"

log=${out_file:-$work/console.log}
: >"$log"
if ((reboots)); then
	# The guest's writes stay across its boots, in an overlay of the image.
	qemu-img create -q -f qcow2 -b "$work/root.img" -F raw "$work/disk.qcow2" ||
		die "qemu-img create failed"
	disk=$work/disk.qcow2 drive_fmt=format=qcow2
else
	# snapshot=on: the guest's writes go to a temporary overlay, the image
	# stays as built.
	disk=$work/root.img drive_fmt=format=raw,snapshot=on
fi
# A second disk controller, not the root's: a virtio-blk at 00:08.0 with
# a small ext2 file system that nothing mounts (the tests mount it when
# they want the controller in use). Its writes are thrown away too.
truncate -s 16M "$work/data.img"
mke2fs -q -t ext2 -L e2e-data "$work/data.img" >/dev/null || die "mke2fs of the data disk failed"
GUEST_QEMU_EXTRA=(-drive file="$work/data.img",if=none,id=d1,format=raw,snapshot=on
	-device virtio-blk-pci,drive=d1,addr=0x8)
# --lone-nics N: N more e1000e, each behind its own root port (so each in
# its own IOMMU group), at slots 0x10 on: buses 03 on, after the others
# (buses follow the root ports' slot order), which keep their addresses.
for ((i = 0; i < lone_nics; i++)); do
	GUEST_QEMU_EXTRA+=(-device "pcie-root-port,id=rpn$i,chassis=$((10 + i)),bus=pcie.0,addr=$(printf '0x%x' $((0x10 + i)))"
		-device "e1000e,bus=rpn$i,romfile=")
done
boot=0
while :; do
	boot_guest "$disk" "$log" 1 "$timeout_s"
	status=$(guest_status "$log")
	[[ $status == "$REBOOT_STATUS" ]] && ((boot < reboots)) || break
	boot=$((boot + 1))
	note "the guest asked for a reboot: boot $((boot + 1))"
	echo "E2E-REBOOT" >>"$log"
done
guest_finish "$status" "kernel panic or init crash?" warn
