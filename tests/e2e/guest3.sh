#!/usr/bin/env bash
# Level-3 end-to-end runner: boot a real Debian kernel under QEMU (TCG) with an
# emulated IOMMU and emulated PCI devices, on a Debian root file system that
# has libvirtd and QEMU in it, and run a command from a payload directory
# there. The payload decides when libvirtd starts (tests install their hook
# first: libvirtd only looks for hooks at start-up).
#
# Usage:
#   tests/e2e/guest3.sh [--timeout SECS] [--out FILE] [--export DIR]
#                       [--append ARGS] --payload DIR -- [COMMAND ARGS...]
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
readonly HARNESS_FAIL=125
# A command exiting with this status asks for a reboot (see --reboots).
readonly REBOOT_STATUS=100

die() { echo "$PROG: $*" >&2; exit "$HARNESS_FAIL"; }
note() { echo "$PROG: $*" >&2; }

usage() {
	cat >&2 <<EOF
usage: $PROG [--timeout SECS] [--out FILE] [--export DIR] [--append ARGS]
       [--reboots N] --payload DIR -- [COMMAND ARGS...]
(see tests/e2e/README.md, "Level 3")
EOF
	exit "$HARNESS_FAIL"
}

# ---------------------------------------------------------------- arguments
append="" timeout_s=300 payload="" out_file="" export_dir="" reboots=0
while (($#)); do
	opt=$1
	# Accept both "--opt VALUE" and "--opt=VALUE".
	if [[ $opt == --*=* ]]; then
		set -- "${opt%%=*}" "${opt#*=}" "${@:2}"
		opt=$1
	fi
	case $opt in
	--append | --timeout | --payload | --out | --export | --reboots)
		(($# >= 2)) || die "$opt needs a value"
		case $opt in
		--append) append=$2 ;;
		--timeout) timeout_s=$2 ;;
		--payload) payload=$2 ;;
		--out) out_file=$2 ;;
		--export) export_dir=$2 ;;
		--reboots) reboots=$2 ;;
		esac
		shift 2
		;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) note "unknown argument: $opt"; usage ;;
	esac
done
[[ $timeout_s =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, got '$timeout_s'"
[[ $reboots =~ ^[0-9]+$ ]] || die "--reboots wants a count, got '$reboots'"
[[ -n $payload ]] || { note "--payload DIR is required"; usage; }
[[ -d $payload ]] || die "payload '$payload' is not a directory"
if (($# == 0)); then
	[[ -e $payload/run ]] || die "no COMMAND given and '$payload/run' does not exist"
	set -- /payload/run
fi
# debootstrap, root-owned files in the image and hard links to the cached
# root file system (protected_hardlinks) all need root.
((EUID == 0)) || die "must run as root"

# ---------------------------------------------------------------- host tools
# Installs what is missing (a fresh machine has none of it).
ensure_host_tools() {
	local -A need=()
	command -v qemu-system-x86_64 >/dev/null || need[qemu-system-x86]=1
	command -v cpio >/dev/null || need[cpio]=1
	command -v gzip >/dev/null || need[gzip]=1
	command -v flock >/dev/null || need[util-linux]=1
	command -v ldd >/dev/null || need[libc-bin]=1
	command -v debootstrap >/dev/null || need[debootstrap]=1
	command -v depmod >/dev/null || need[kmod]=1
	# -d (populate from a directory) needs e2fsprogs >= 1.43. (Not a pipe
	# into grep -q: with pipefail, its early exit would count as a failure.)
	local v
	v=$(mke2fs -V 2>&1 || true)
	[[ $v =~ mke2fs\ 1\.(4[3-9]|[5-9]) ]] || need[e2fsprogs]=1
	command -v debugfs >/dev/null || need[e2fsprogs]=1
	((${#need[@]})) || return 0
	note "installing ${!need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	local err
	err=$(mktemp)
	if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${!need[@]}"; } >"$err" 2>&1; then
		cat "$err" >&2
		rm -f "$err"
		die "could not install ${!need[*]}"
	fi
	rm -f "$err"
}

# Removes a directory tree that may hold a root file system. Anything mounted
# inside it (debootstrap mounts proc and sysfs in its target and may bind
# /dev; an interrupted run can leave them) is unmounted first, and rm never
# crosses into another file system: these trees must never lead rm into the
# host's /sys or /dev.
remove_tree() {
	local dir=$1 m
	[[ -e $dir ]] || return 0
	dir=$(realpath "$dir")
	# Deepest first; mount points with spaces are octal-escaped in
	# /proc/mounts, which is fine for a prefix match on our own paths.
	while read -r m; do
		umount -l "$m" 2>/dev/null || note "warning: could not unmount $m"
	done < <(awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r)
	rm -rf --one-file-system "$dir"
}

# ---------------------------------------------------------------- kernel + busybox
# The same resolution and download code as guest.sh, so both share
# $CACHE/debs (one ~70 MB kernel package for both levels).
#
# Sets kpkg/kver/bbver from the local apt lists. linux-image-amd64 is a
# metapackage whose candidate depends on the ABI-numbered image package,
# normally with "(= VERSION)".
resolve_versions() {
	local k="" b=""
	read -r k b < <(apt-cache show --no-all-versions linux-image-amd64 busybox-static 2>/dev/null | awk '
		/^Package: / { p = $2 }
		p == "linux-image-amd64" && /^Depends: / &&
			match($0, /linux-image-[0-9][^ ,]*-amd64( \(= [^)]*\))?/) {
			split(substr($0, RSTART, RLENGTH), w, /[ ()=]+/); kp = w[1]; kv = w[2] }
		p == "busybox-static" && /^Version: / { bv = $2 }
		END { print kp "=" kv, bv }') || true
	kpkg=${k%%=*} kver=${k#*=} bbver=$b
	if [[ -n $kpkg && -z $kver ]]; then
		kver=$(apt-cache policy "$kpkg" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }')
	fi
	[[ -n $kpkg && -n $kver && -n $bbver ]]
}

# apt-get download PKG=VER into the cache as $CACHE/debs/PKG_VER.deb (":" of
# an epoch spelled "%3a", as apt does). Call with $CACHE/.lock held.
fetch_deb() {
	local pkg=$1 ver=$2 deb tmp
	deb=$CACHE/debs/${pkg}_${ver//:/%3a}.deb
	REPLY=$deb
	[[ -s $deb ]] && return 0
	tmp=$(mktemp -d "$CACHE/tmp.XXXXXX")
	# apt drops privileges to _apt for downloads; let it write here to avoid
	# the "unsandboxed" notice.
	chown _apt "$tmp" 2>/dev/null || true
	if ! (cd "$tmp" && apt-get download -qq "$pkg=$ver" >/dev/null 2>"$tmp/err"); then
		cat "$tmp/err" >&2
		rm -rf "$tmp"
		return 1
	fi
	mv "$tmp"/*.deb "$deb"
	rm -rf "$tmp"
	# Older versions of the same package are dead weight (70 MB per kernel).
	local old
	for old in "$CACHE/debs/${pkg%%-[0-9]*}"*.deb; do
		[[ $old == "$deb" || ! -e $old ]] || rm -f "$old"
	done
}

# Writes module file $1 decompressed to stdout (Debian 6.1 ships plain .ko;
# later kernels may compress them).
ko_cat() {
	case $1 in
	*.ko) cat "$1" ;;
	*.ko.xz) xz -dc "$1" ;;
	*.ko.zst) zstd -qdc "$1" ;;
	*.ko.gz) gzip -dc "$1" ;;
	esac
}

# The comma-separated depends= list of the module file $1.
ko_depends() {
	local deps
	deps=$(ko_cat "$1" | tr '\0' '\n' | sed -n 's/^depends=//p')
	echo "${deps%%$'\n'*}"
}

# Copies one module of the unpacked kernel package (decompressed: busybox
# insmod only takes plain .ko) into $1/NAME.ko, after its dependencies, and
# appends NAME to $1/load.list.
add_module() {
	local dst=$1 name=${2//-/_} src dep
	[[ -z ${mod_added[$name]:-} ]] || return 0
	src=${mod_path[$name]:-}
	[[ -n $src ]] || return 1
	mod_added[$name]=1
	ko_cat "$src" >"$dst/$name.ko"
	local -a list=()
	IFS=, read -ra list <<<"$(ko_depends "$src")"
	for dep in "${list[@]}"; do
		add_module "$dst" "$dep" || die "module $name needs $dep, which $kpkg does not ship"
	done
	echo "$name" >>"$dst/load.list"
}

# Copies module NAME and its dependencies as shipped (same relative path and
# compression: kmod reads them) from the package's module tree $1 into the
# module tree $2.
add_tree_module() {
	local from=$1 to=$2 name=${3//-/_} src rel dep
	[[ -z ${tree_added[$name]:-} ]] || return 0
	src=${mod_path[$name]:-}
	[[ -n $src ]] || return 1
	tree_added[$name]=1
	rel=${src#"$from"/}
	mkdir -p "$to/${rel%/*}"
	cp "$src" "$to/$rel"
	local -a list=()
	IFS=, read -ra list <<<"$(ko_depends "$src")"
	for dep in "${list[@]}"; do
		add_tree_module "$from" "$to" "$dep" || die "module $name needs $dep, which $kpkg does not ship"
	done
}

# Fills $L3/kernel/KEY/ once per kernel package version and module lists:
#   vmlinuz, release, initrd/{*.ko,load.list}, modules.list (what the guest
#   modprobes) and tree/lib/modules/RELEASE/ (the modules of both lists, with
#   depmod's indexes, for the root file system);
# and $CACHE/busybox/VER/busybox (the same layout as guest.sh's, so shared).
prepare_kernel() {
	mkdir -p "$CACHE/debs" "$CACHE/busybox" "$L3/kernel"
	exec 9>"$CACHE/.lock"
	flock -w 900 9 || die "timed out waiting for the cache lock $CACHE/.lock"
	# Left over by an interrupted run (guest.sh cleans these too, under the
	# same lock).
	rm -rf "$CACHE"/tmp.*

	if ! resolve_versions; then
		apt-get update -qq >/dev/null 2>&1 || true
		resolve_versions || true
	fi
	if [[ -z $kpkg || -z $kver || -z $bbver ]]; then
		# Offline with no usable apt lists: reuse the newest cached build.
		local d
		kdir="" bbdir=""
		for d in "$L3"/kernel/*; do
			if [[ -e $d/.complete && ( -z $kdir || $d -nt $kdir ) ]]; then kdir=$d; fi
		done
		for d in "$CACHE"/busybox/*; do
			if [[ -e $d/busybox && ( -z $bbdir || $d -nt $bbdir ) ]]; then bbdir=$d; fi
		done
		[[ -n $kdir && -n $bbdir ]] ||
			die "cannot tell the linux-image-amd64 / busybox-static versions from apt, and nothing is cached"
		note "apt has no candidate; using cached $kdir"
		exec 9>&-
		return
	fi

	local modkey
	modkey=$(printf '%s\n' "${INITRD_MODULES[@]}" - "${GUEST_MODULES[@]}" | sha256sum | cut -c1-8)
	kdir=$L3/kernel/${kpkg}_${kver//:/%3a}_$modkey
	bbdir=$CACHE/busybox/${bbver//:/%3a}

	if [[ ! -e $kdir/.complete || ! -e $bbdir/busybox ]]; then
		# Stale lists make apt ask for files the mirror already dropped:
		# refresh once and retry with the then-current candidates.
		if ! { fetch_deb "$kpkg" "$kver" && kdeb=$REPLY && fetch_deb busybox-static "$bbver" && bbdeb=$REPLY; }; then
			note "download failed; refreshing apt lists and retrying"
			apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
			resolve_versions || die "no candidate for linux-image-amd64 / busybox-static"
			kdir=$L3/kernel/${kpkg}_${kver//:/%3a}_$modkey
			bbdir=$CACHE/busybox/${bbver//:/%3a}
			fetch_deb "$kpkg" "$kver" || die "apt-get download $kpkg=$kver failed"
			kdeb=$REPLY
			fetch_deb busybox-static "$bbver" || die "apt-get download busybox-static=$bbver failed"
			bbdeb=$REPLY
		fi
	fi

	local x
	if [[ ! -e $bbdir/busybox ]]; then
		x=$(mktemp -d "$CACHE/tmp.XXXXXX")
		dpkg -x "$bbdeb" "$x/root"
		mkdir -p "$x/out"
		cp "$x/root/bin/busybox" "$x/out/busybox"
		rm -rf "$bbdir" && mv "$x/out" "$bbdir" && rm -rf "$x"
	fi

	if [[ ! -e $kdir/.complete ]]; then
		note "extracting $kpkg $kver (once)"
		x=$(mktemp -d "$CACHE/tmp.XXXXXX")
		dpkg -x "$kdeb" "$x/root"
		mkdir -p "$x/out/initrd"
		cp "$x/root"/boot/vmlinuz-* "$x/out/vmlinuz"
		local moddir rel f n m tree
		moddir=$(echo "$x/root"/lib/modules/*)
		rel=${moddir##*/}
		echo "$rel" >"$x/out/release"
		declare -gA mod_path=() mod_added=() tree_added=()
		while IFS= read -r -d '' f; do
			n=${f##*/}
			n=${n%%.ko*}
			mod_path[${n//-/_}]=$f
		done < <(find "$moddir" -name '*.ko*' -print0)

		touch "$x/out/initrd/load.list"
		for m in "${INITRD_MODULES[@]}"; do
			add_module "$x/out/initrd" "$m" || note "note: $kpkg has no module $m, skipped"
		done

		# The root's module tree holds both sets: modprobe then knows the
		# initramfs ones too (already loaded, nothing to do) and resolves the
		# guest set's dependencies itself.
		tree=$x/out/tree/lib/modules/$rel
		mkdir -p "$tree"
		cp "$moddir"/modules.builtin "$moddir"/modules.builtin.modinfo "$moddir"/modules.order "$tree/" 2>/dev/null || true
		: >"$x/out/modules.list"
		for m in "${INITRD_MODULES[@]}" "${GUEST_MODULES[@]}"; do
			add_tree_module "$moddir" "$tree" "$m" || continue
		done
		for m in "${GUEST_MODULES[@]}"; do
			[[ -n ${mod_path[${m//-/_}]:-} ]] && echo "$m" >>"$x/out/modules.list"
		done
		depmod -b "$x/out/tree" "$rel" || die "depmod failed for $rel"

		touch "$x/out/.complete"
		rm -rf "$kdir" && mv "$x/out" "$kdir" && rm -rf "$x"
		# Builds for other kernel versions or module lists are stale now.
		for x in "$L3"/kernel/*; do
			[[ $x == "$kdir" ]] || rm -rf "$x"
		done
	fi
	exec 9>&-
}

# ---------------------------------------------------------------- root file system
# The Debian mirror this machine's apt uses for $SUITE: deb822 .sources files
# and one-line .list files, as apt reads them (other file names are ignored,
# like apt does). VFIO_HOOKS_E2E_MIRROR overrides it.
detect_mirror() {
	if [[ -n ${VFIO_HOOKS_E2E_MIRROR:-} ]]; then
		echo "$VFIO_HOOKS_E2E_MIRROR"
		return
	fi
	local f m=""
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -r $f ]] || continue
		# deb [options] URI SUITE COMPONENT...
		m=$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
			awk -v s="$SUITE" '$1 == "deb" && $3 == s { print $2; exit }')
		[[ -z $m ]] || break
	done
	if [[ -z $m ]]; then
		for f in /etc/apt/sources.list.d/*.sources; do
			[[ -r $f ]] || continue
			# Paragraphs of "Field: value"; continuation lines start with a
			# space (Signed-By keys), comments with "#".
			m=$(awk -v s="$SUITE" '
				function flush() {
					if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && enabled != "no" && uri != "")
						{ print uri; found = 1; exit }
					types = suites = uri = enabled = ""
				}
				/^[ \t]*$/ { flush(); next }
				/^#/ || /^[ \t]/ { next }
				{ key = tolower($1); sub(/^[^:]*:[ \t]*/, "") }
				key == "types:" { types = $0 }
				key == "suites:" { suites = $0 }
				key == "uris:" { split($0, u, /[ \t]+/); uri = u[1] }
				key == "enabled:" { enabled = tolower($0) }
				END { if (!found) flush() }' "$f")
			[[ -z $m ]] || break
		done
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

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

# ---------------------------------------------------------------- guest init scripts
# PID 1 of the initramfs (busybox ash): load the modules that reach the root
# file system, mount it and hand over to /e2e/init there.
initrd_init() {
	cat <<'EOF'
#!/bin/sh
# Generated by tests/e2e/guest3.sh: PID 1 of the level-3 initramfs.
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1
fail() {
	echo "e2e-initramfs: $*"
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 10
}
while read -r mod; do
	insmod "/lib/modules/e2e/$mod.ko" || echo "e2e-initramfs: insmod $mod failed"
done </lib/modules/e2e/load.list
root=/dev/vda
read -r cmdline </proc/cmdline
set -f
for arg in $cmdline; do
	case $arg in root=*) root=${arg#root=} ;; esac
done
# virtio-blk usually has its disk by now; give it 10 s anyway.
i=0
while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /newroot
mount -t ext4 "$root" /newroot || fail "cannot mount $root"
[ -x /newroot/e2e/init ] || fail "no /e2e/init on $root"
# The root's init finds them mounted already.
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
exec switch_root /newroot /e2e/init
EOF
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

# shellcheck source=/dev/null
. /e2e/cmd  # set -- COMMAND ARGS...
cd /payload || exit 1
"$@"
status=$?
# The command's last line may lack its newline; the markers must start a line.
echo

# A reboot asked for: the next boot exports.
if [ -e /e2e/export ] && [ $status != 100 ]; then
	if [ -d /payload/out ]; then
		# Kernel messages in the middle of the base64 would corrupt it.
		echo 1 >/proc/sys/kernel/printk
		tar -C /payload/out -czf /tmp/e2e-export.tgz . &&
			echo "E2E-EXPORT-BEGIN $(sha256sum </tmp/e2e-export.tgz | cut -d' ' -f1)" &&
			base64 /tmp/e2e-export.tgz &&
			echo "E2E-EXPORT-END"
	else
		echo "E2E-EXPORT-NONE"
	fi
fi

echo "E2E-EXIT $status"
sync
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

# ---------------------------------------------------------------- per-run image
# Shell-quotes each argument for a POSIX sh `set --` line.
sh_quote() {
	local a out=""
	for a; do out+=" '${a//\'/\'\\\'\'}'"; done
	printf '%s' "$out"
}

# Writes stdin to FILE under the per-run root through a new inode: the root
# is a tree of hard links to the cache, so writing a file in place (or
# chmod-ing it) would change the cached copy too.
# Without MODE, a file that replaces another keeps its mode and owner.
put() {
	local file=$root$1 mode=${2:-}
	mkdir -p "${file%/*}"
	cat >"$file.e2e-new"
	if [[ -z $mode && -e $file ]]; then
		chmod --reference="$file" "$file.e2e-new"
		chown --reference="$file" "$file.e2e-new"
	else
		chmod "${mode:-644}" "$file.e2e-new"
	fi
	mv -f "$file.e2e-new" "$file"
}

# Copies into the root every shared library that the payload's ELF files
# need (as ldd on the host resolves them) and the root lacks. The root is the
# same Debian release, so normally nothing is missing; libraries the root has
# are not overwritten.
copy_missing_libs() {
	local pdir=$1 f line lib
	local -A libs=()
	while IFS= read -r -d '' f; do
		[[ $(head -c4 "$f" | tr -d '\0') == $'\x7fELF' ]] || continue
		while IFS= read -r line; do
			case $line in
			*"=> not found"*) note "warning: ${f#"$pdir"/}: ${line//[[:space:]]/ } on the host" ;;
			*"=> /"*) lib=${line#*=> }; libs[${lib%% (*}]=1 ;;
			/*) libs[${line%% (*}]=1 ;; # the dynamic loader
			esac
		done < <(ldd "$f" 2>/dev/null | sed 's/^[[:space:]]*//' || true)
	done < <(find "$pdir" -type f -print0)
	for lib in "${!libs[@]}"; do
		# Debian's /lib is a symlink to /usr/lib: test the resolved path.
		[[ -e $root$lib || -e $root/usr$lib ]] && continue
		note "note: copying $lib (not in the root file system) into the guest"
		mkdir -p "$root${lib%/*}"
		cp -L "$lib" "$root$lib"
	done
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

# Writes the cpio (newc) archive of directory $1 to stdout.
cpio_of() {
	(cd "$1" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet)
}

# The initramfs only mounts the root: ~1.5 MB, cached per kernel build and
# init script. Sets initramfs.
build_initramfs() {
	local key dir
	key=$({ echo "$kdir $bbdir"; initrd_init; } | sha256sum | cut -c1-16)
	initramfs=$L3/initramfs/initrd-$key.cpio.gz
	[[ -s $initramfs ]] && return 0
	dir=$work/initrd
	mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,newroot,lib/modules/e2e}
	chmod 755 "$dir"
	cp "$bbdir/busybox" "$dir/bin/busybox"
	ln -s busybox "$dir/bin/sh"
	cp "$kdir"/initrd/*.ko "$kdir/initrd/load.list" "$dir/lib/modules/e2e/"
	# The kernel opens /dev/console for init before anything is mounted.
	mknod -m 600 "$dir/dev/console" c 5 1
	initrd_init >"$dir/init"
	chmod 755 "$dir/init"
	mkdir -p "$L3/initramfs"
	cpio_of "$dir" | gzip -9 >"$work/initrd.cpio.gz"
	rm -f "$L3"/initramfs/initrd-*.cpio.gz # stale: other kernel or init
	mv "$work/initrd.cpio.gz" "$initramfs" # atomic: concurrent runs may race here
	rm -rf "$dir"
}

# ---------------------------------------------------------------- boot
# Boots IMG, the console going (without its \r) to LOG and, when SHOW is 1,
# minus the export's base64 lines, to stdout as it comes. Sets qemu_rc.
# Usage: boot_guest IMG LOG SHOW TIMEOUT
boot_guest() {
	local img=$1 log=$2 show=$3 limit=$4 kcmdline
	kcmdline="console=ttyS0 intel_iommu=on panic=-1 quiet loglevel=3 root=/dev/vda${append:+ $append}"
	printf '\0\0' >"$work/sercon-port"
	local -a qemu=(
		qemu-system-x86_64 -accel tcg -M q35,kernel-irqchip=split -cpu max -smp 2 -m 1536
		-nodefaults -nographic -no-reboot -serial stdio -monitor none
		-device intel-iommu,intremap=on,caching-mode=on
		# A single e1000e in its own IOMMU group, behind a root port:
		# 0000:02:00.0 in the guest (buses are numbered in slot order).
		-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x3
		-device e1000e,bus=rp1,romfile=
		# A multi-function device, two e1000e functions in one IOMMU group:
		# 0000:01:00.0 and 0000:01:00.1.
		-device pcie-root-port,id=rp2,chassis=2,bus=pcie.0,addr=0x2
		-device e1000e,bus=rp2,romfile=,addr=0x0,multifunction=on
		-device e1000e,bus=rp2,romfile=,addr=0x0.1
		-device edu,addr=0x4
		# MSI with 16 vectors and no MSI-X: the shape of a device whose
		# guest needs interrupt remapping.
		-device nec-usb-xhci,msix=off,addr=0x7
		# See drive_fmt: an overlay thrown away, or one kept across boots.
		-drive file="$img",if=none,id=d0,"${drive_fmt:-format=raw,snapshot=on}"
		-device virtio-blk-pci,drive=d0
		# Port 0 turns SeaBIOS's serial console off: else its banner and
		# terminal resets come first on the console.
		-fw_cfg name=etc/sercon-port,file="$work/sercon-port"
		-kernel "$kdir/vmlinuz" -initrd "$initramfs" -append "$kcmdline"
	)
	# stdin from /dev/null: the guest gets nothing from the host terminal and
	# QEMU leaves its modes alone.
	set +e
	# Expected QEMU warnings: NICs without a network backend, the fw_cfg name.
	timeout -k 10 "$limit" "${qemu[@]}" </dev/null \
		2> >(grep -Ev 'nic e1000e(\.[0-9]+)? has no peer|etc/sercon-port.*should be prefixed' >&2) |
		awk -v logf="$log" -v show="$show" '
			{ sub(/\r$/, ""); print >> logf; fflush(logf) }
			!show { next }
			/^E2E-EXPORT-BEGIN / { skip = 1; n = 0; next }
			skip && /^E2E-EXPORT-END$/ { skip = 0; print "[export: " n " base64 lines]"; fflush(); next }
			skip { n++; next }
			{ print; fflush() }'
	qemu_rc=${PIPESTATUS[0]}
	set -e
}

# Prints the status of the guest's last `E2E-EXIT <n>` line in LOG (nothing
# if there is none).
guest_status() {
	sed -n 's/.*E2E-EXIT \([0-9]\{1,3\}\)$/\1/p' "$1" | tail -n1
}

# ---------------------------------------------------------------- export
# Decodes the base64 block between the E2E-EXPORT markers of the log into DIR.
extract_export() {
	local log=$1 dir=$2 sum
	mkdir -p "$dir"
	if grep -aq '^E2E-EXPORT-NONE$' "$log"; then
		note "--export: the command did not create /payload/out; nothing exported"
		return 0
	fi
	sum=$(sed -n 's/^E2E-EXPORT-BEGIN \([0-9a-f]\{64\}\)$/\1/p' "$log" | tail -n1)
	if [[ -z $sum ]] || ! grep -aq '^E2E-EXPORT-END$' "$log"; then
		note "--export: no complete export block on the console"
		return 1
	fi
	awk '/^E2E-EXPORT-BEGIN /{on=1; next} /^E2E-EXPORT-END$/{on=0} on && /^[A-Za-z0-9+\/=]+$/' "$log" |
		base64 -d >"$work/export.tgz" || { note "--export: bad base64"; return 1; }
	[[ $(sha256sum <"$work/export.tgz" | cut -d' ' -f1) == "$sum" ]] || {
		note "--export: checksum mismatch (console output interleaved?)"
		return 1
	}
	tar -xzf "$work/export.tgz" -C "$dir"
}

# ---------------------------------------------------------------- main
ensure_host_tools
prepare_kernel

# The work directory is in the cache so that the per-run root can be hard
# links to the cached one (same file system). Each run holds a lock on its
# own directory while it lives; a directory whose lock is free belongs to a
# run that was killed, and is removed by the next run.
mkdir -p "$L3/runs"
exec 8>"$L3/.rootfs.lock"
flock -w 1200 8 || die "timed out waiting for the cache lock $L3/.rootfs.lock"
for d in "$L3"/runs/*; do
	[[ -d $d ]] || continue
	if flock -n "$d/.alive" true 2>/dev/null; then remove_tree "$d"; fi
done
work=$(mktemp -d "$L3/runs/run.XXXXXX")
exec 7>"$work/.alive"
flock -n 7 || die "cannot lock $work/.alive"
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
boot=0
while :; do
	boot_guest "$disk" "$log" 1 "$timeout_s"
	status=$(guest_status "$log")
	[[ $status == "$REBOOT_STATUS" ]] && ((boot < reboots)) || break
	boot=$((boot + 1))
	note "the guest asked for a reboot: boot $((boot + 1))"
	echo "E2E-REBOOT" >>"$log"
done
if [[ -z $status ]]; then
	if ((qemu_rc == 124 || qemu_rc == 137)); then
		note "guest timed out after ${timeout_s}s without reporting an exit status"
	else
		note "guest stopped without reporting an exit status (qemu exit $qemu_rc; kernel panic or init crash?)"
	fi
	[[ -z $out_file ]] || note "console log: $out_file"
	exit "$HARNESS_FAIL"
fi
if ((qemu_rc != 0)); then
	note "warning: qemu exited $qemu_rc after the guest reported status $status"
fi
if [[ -n $export_dir ]]; then
	extract_export "$log" "$export_dir" || exit "$HARNESS_FAIL"
fi
exit "$status"
