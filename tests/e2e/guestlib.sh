# Shared by the level-3 and level-4 guest runners (guest3.sh, guest4.sh):
# host tools, the Debian kernel and busybox from the apt archive, the
# initramfs that mounts the root disk, the per-run image helpers, the QEMU
# boot with its console log, and the export over the console.  Sourced; the
# runner sets PROG, CACHE, LDIR (its cache directory), SUITE, work, die and
# note, and may set GUEST_MEM, GUEST_IOMMU, GUEST_QEMU_EXTRA (an array) and
# GUEST_KCMD before boot_guest.
# shellcheck shell=bash disable=SC2054 # commas inside QEMU arguments
# ---------------------------------------------------------------- host tools
# Installs what is missing (a fresh machine has none of it).
ensure_host_tools() {
	local -A need=()
	command -v qemu-system-x86_64 >/dev/null || need[qemu-system-x86]=1
	# qemu-img: the overlay a run with reboots boots from (a recommends of
	# qemu-system-x86, which a machine without recommends lacks).
	command -v qemu-img >/dev/null || need[qemu-utils]=1
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

# Fills $LDIR/kernel/KEY/ once per kernel package version and module lists:
#   vmlinuz, release, initrd/{*.ko,load.list}, modules.list (what the guest
#   modprobes) and tree/lib/modules/RELEASE/ (the modules of both lists, with
#   depmod's indexes, for the root file system);
# and $CACHE/busybox/VER/busybox (the same layout as guest.sh's, so shared).
prepare_kernel() {
	mkdir -p "$CACHE/debs" "$CACHE/busybox" "$LDIR/kernel"
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
		for d in "$LDIR"/kernel/*; do
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
	kdir=$LDIR/kernel/${kpkg}_${kver//:/%3a}_$modkey
	bbdir=$CACHE/busybox/${bbver//:/%3a}

	if [[ ! -e $kdir/.complete || ! -e $bbdir/busybox ]]; then
		# Stale lists make apt ask for files the mirror already dropped:
		# refresh once and retry with the then-current candidates.
		if ! { fetch_deb "$kpkg" "$kver" && kdeb=$REPLY && fetch_deb busybox-static "$bbver" && bbdeb=$REPLY; }; then
			note "download failed; refreshing apt lists and retrying"
			apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
			resolve_versions || die "no candidate for linux-image-amd64 / busybox-static"
			kdir=$LDIR/kernel/${kpkg}_${kver//:/%3a}_$modkey
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
		for x in "$LDIR"/kernel/*; do
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

# PID 1 of the initramfs (busybox ash): load the modules that reach the root
# file system, mount it and hand over to the root's init: /e2e/init, or the
# program named by e2e.init= on the kernel command line (level 4: systemd).
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
root=/dev/vda init=/e2e/init
read -r cmdline </proc/cmdline
set -f
for arg in $cmdline; do
	case $arg in
	root=*) root=${arg#root=} ;;
	e2e.init=*) init=${arg#e2e.init=} ;;
	esac
done
# virtio-blk usually has its disk by now; give it 10 s anyway.
i=0
while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /newroot
mount -t ext4 "$root" /newroot || fail "cannot mount $root"
[ -x "/newroot$init" ] || [ -L "/newroot$init" ] || fail "no $init on $root"
# The root's init finds them mounted already.
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
exec switch_root /newroot "$init"
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

# The end of the guest's init (its shell code, on stdout): after the
# command has set $status, export /payload/out over the console when
# /e2e/export asks for it (not on a reboot, status 100: the next boot
# exports), print E2E-EXIT and sync. The caller powers off.
guest_exit_sh() {
	cat <<'EOF'
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
EOF
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
	initramfs=$LDIR/initramfs/initrd-$key.cpio.gz
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
	mkdir -p "$LDIR/initramfs"
	cpio_of "$dir" | gzip -9 >"$work/initrd.cpio.gz"
	rm -f "$LDIR"/initramfs/initrd-*.cpio.gz # stale: other kernel or init
	mv "$work/initrd.cpio.gz" "$initramfs" # atomic: concurrent runs may race here
	rm -rf "$dir"
}

# ---------------------------------------------------------------- boot
GUEST_QEMU_EXTRA=()
# Boots IMG, the console going (without its \r) to LOG and, when SHOW is 1,
# minus the export's base64 lines, to stdout as it comes. Sets qemu_rc.
# Usage: boot_guest IMG LOG SHOW TIMEOUT
boot_guest() {
	local img=$1 log=$2 show=$3 limit=$4 kcmdline
	kcmdline="console=ttyS0 intel_iommu=on panic=-1 quiet loglevel=3 root=/dev/vda${GUEST_KCMD:+ $GUEST_KCMD}${append:+ $append}"
	printf '\0\0' >"$work/sercon-port"
	local -a qemu=(
		qemu-system-x86_64 -accel tcg -M q35,kernel-irqchip=split -cpu max -smp 2 -m "${GUEST_MEM:-1536}"
		-nodefaults -nographic -no-reboot -serial stdio -monitor none
		-device intel-iommu,intremap=on,caching-mode=on${GUEST_IOMMU:+,$GUEST_IOMMU}
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
		"${GUEST_QEMU_EXTRA[@]}"
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

