# Shared by the guest runners (guest.sh: level 2; guest3.sh, guest4.sh:
# levels 3 and 4): their arguments, host tools, the Debian kernel and busybox
# from the apt archive, the initramfs that mounts the root disk, the per-run
# image helpers, the QEMU boot with its console log, the guest's exit status
# and the export over the console.  Sourced; the runner sets PROG and
# CACHE first, defines usage, and before what needs them sets LDIR (its
# cache directory), SUITE and work; it may set GUEST_MEM, GUEST_IOMMU,
# GUEST_QEMU_EXTRA (an array) and GUEST_KCMD before boot_guest.
# shellcheck shell=bash disable=SC2054 # commas inside QEMU arguments
# A runner's own failure: its exit status (the guest's command has any other).
readonly HARNESS_FAIL=125
die() { echo "$PROG: $*" >&2; exit "$HARNESS_FAIL"; }
note() { echo "$PROG: $*" >&2; }

# ---------------------------------------------------------------- arguments
# The runners' options; each runner takes those it names in ALLOWED (a
# space-separated list such as "--append --timeout --payload --out --export")
# and sets their variables: append, timeout_s, payload, out_file,
# export_dir, reboots, SUITE, src, lone_nics; --no-iommu sets iommu=0.  Both "--opt
# VALUE" and "--opt=VALUE" are accepted.  Checks --timeout and --payload
# DIR; the command (ARGS, an array) is what follows "--", /payload/run when
# nothing does.  Usage: parse_args "ALLOWED" "$@"
# shellcheck disable=SC2034 # the variables are the runner's
parse_args() {
	local allowed=" $1 " opt
	shift
	while (($#)); do
		opt=$1
		# Accept both "--opt VALUE" and "--opt=VALUE".
		if [[ $opt == --*=* ]]; then
			set -- "${opt%%=*}" "${opt#*=}" "${@:2}"
			opt=$1
		fi
		case $opt in
		-h | --help) usage ;;
		--) shift; break ;;
		esac
		[[ $opt == --* && $allowed == *" $opt "* ]] || { note "unknown argument: $opt"; usage; }
		if [[ $opt == --no-iommu ]]; then
			iommu=0
			shift
			continue
		fi
		(($# >= 2)) || die "$opt needs a value"
		case $opt in
		--append) append=$2 ;;
		--timeout) timeout_s=$2 ;;
		--payload) payload=$2 ;;
		--out) out_file=$2 ;;
		--export) export_dir=$2 ;;
		--reboots) reboots=$2 ;;
		--suite) SUITE=$2 ;;
		--src) src=$2 ;;
		--nics) nics=$2 ;;
		--lone-nics) lone_nics=$2 ;;
		esac
		shift 2
	done
	[[ $timeout_s =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, got '$timeout_s'"
	[[ -n $payload ]] || { note "--payload DIR is required"; usage; }
	[[ -d $payload ]] || die "payload '$payload' is not a directory"
	ARGS=("$@")
	if ((${#ARGS[@]} == 0)); then
		[[ -e $payload/run ]] || die "no COMMAND given and '$payload/run' does not exist"
		ARGS=(/payload/run)
	fi
}

# ---------------------------------------------------------------- host tools
# Installs what is missing (a fresh machine has none of it).  With
# "initramfs" (guest.sh: a guest without a root disk), only what such a guest
# needs; busybox and the kernel are not installed: they are downloaded and
# cached (prepare_kernel).
# shellcheck disable=SC2120 # the argument is optional
ensure_host_tools() {
	local -A need=()
	command -v qemu-system-x86_64 >/dev/null || need[qemu-system-x86]=1
	command -v cpio >/dev/null || need[cpio]=1
	command -v gzip >/dev/null || need[gzip]=1
	command -v flock >/dev/null || need[util-linux]=1
	command -v ldd >/dev/null || need[libc-bin]=1
	if [[ ${1:-} != initramfs ]]; then
		# qemu-img: the overlay a run with reboots boots from (a recommends of
		# qemu-system-x86, which a machine without recommends lacks).
		command -v qemu-img >/dev/null || need[qemu-utils]=1
		command -v debootstrap >/dev/null || need[debootstrap]=1
		command -v depmod >/dev/null || need[kmod]=1
		# -d (populate from a directory) needs e2fsprogs >= 1.43. (Not a pipe
		# into grep -q: with pipefail, its early exit would count as a failure.)
		local v
		v=$(mke2fs -V 2>&1 || true)
		[[ $v =~ mke2fs\ 1\.(4[3-9]|[5-9]) ]] || need[e2fsprogs]=1
		command -v debugfs >/dev/null || need[e2fsprogs]=1
	fi
	((${#need[@]})) || return 0
	((EUID == 0)) || die "missing host packages (${!need[*]}) and not root to install them"
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
# Every level shares $CACHE/debs (one ~70 MB kernel package for all) and
# $CACHE/busybox; each keeps its kernel builds in its own directory.
#
# Sets kpkg/kver/bbver from the local apt lists (one apt-cache call: each
# costs ~1 s here). linux-image-amd64 is a metapackage whose candidate
# depends on the ABI-numbered image package, normally with "(= VERSION)".
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

# Takes $CACHE/.lock (fd 9; the caller releases it), finds the kernel and
# busybox packages apt offers and downloads them into $CACHE/debs (sets
# kdeb, bbdeb) unless their builds are there, and unpacks busybox into
# $CACHE/busybox/VER/busybox. Sets kdir (KERNELS/PKG_VER_MODKEY: the
# caller builds it unless it has .complete) and bbdir. Returns 1, the lock
# released, when apt offers nothing and the newest cached builds are used.
# Usage: kernel_cache_open KERNELS MODKEY
kernel_cache_open() {
	local kernels=$1 modkey=$2
	mkdir -p "$CACHE/debs" "$CACHE/busybox" "$kernels"
	exec 9>"$CACHE/.lock"
	flock -w 900 9 || die "timed out waiting for the cache lock $CACHE/.lock"
	# Left over by an interrupted run (nobody else works in them: we hold the lock).
	rm -rf "$CACHE"/tmp.*

	if ! resolve_versions; then
		# Fresh machine, or lists without these packages yet.
		apt-get update -qq >/dev/null 2>&1 || true
		resolve_versions || true
	fi
	if [[ -z $kpkg || -z $kver || -z $bbver ]]; then
		# Offline with no usable apt lists: reuse the newest cached build.
		local d
		kdir="" bbdir=""
		for d in "$kernels"/*; do
			if [[ -e $d/.complete && ( -z $kdir || $d -nt $kdir ) ]]; then kdir=$d; fi
		done
		for d in "$CACHE"/busybox/*; do
			if [[ -e $d/busybox && ( -z $bbdir || $d -nt $bbdir ) ]]; then bbdir=$d; fi
		done
		[[ -n $kdir && -n $bbdir ]] ||
			die "cannot tell the linux-image-amd64 / busybox-static versions from apt, and nothing is cached"
		note "apt has no candidate; using cached $kdir"
		exec 9>&-
		return 1
	fi

	kdir=$kernels/${kpkg}_${kver//:/%3a}_$modkey
	bbdir=$CACHE/busybox/${bbver//:/%3a}

	if [[ ! -e $kdir/.complete || ! -e $bbdir/busybox ]]; then
		# Stale lists make apt ask for files the mirror already dropped:
		# refresh once and retry with the then-current candidates.
		if ! { fetch_deb "$kpkg" "$kver" && kdeb=$REPLY && fetch_deb busybox-static "$bbver" && bbdeb=$REPLY; }; then
			note "download failed; refreshing apt lists and retrying"
			apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
			resolve_versions || die "no candidate for linux-image-amd64 / busybox-static"
			kdir=$kernels/${kpkg}_${kver//:/%3a}_$modkey
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
}

# Unpacks the kernel package kdeb into a new temporary directory: sets x
# (its out/ becomes the build: see kernel_cache_commit), moddir (the
# package's module tree) and mod_path (module name, "-" as "_", to its
# file), and writes out/vmlinuz and out/release.
kernel_unpack() {
	local f n
	note "extracting $kpkg $kver (once)"
	x=$(mktemp -d "$CACHE/tmp.XXXXXX")
	dpkg -x "$kdeb" "$x/root"
	mkdir -p "$x/out"
	cp "$x/root"/boot/vmlinuz-* "$x/out/vmlinuz"
	moddir=$(echo "$x/root"/lib/modules/*)
	echo "${moddir##*/}" >"$x/out/release"
	declare -gA mod_path=() mod_added=() tree_added=()
	while IFS= read -r -d '' f; do
		n=${f##*/}
		n=${n%%.ko*}
		mod_path[${n//-/_}]=$f
	done < <(find "$moddir" -name '*.ko*' -print0)
}

# Makes $x/out the build kdir, complete, and removes the builds for other
# kernel versions or module lists in KERNELS (they are stale now).
# Usage: kernel_cache_commit KERNELS
kernel_cache_commit() {
	local d
	touch "$x/out/.complete"
	rm -rf "$kdir" && mv "$x/out" "$kdir" && rm -rf "$x"
	for d in "$1"/*; do
		[[ $d == "$kdir" ]] || rm -rf "$d"
	done
}

# Fills $LDIR/kernel/KEY/ once per kernel package version and module lists:
#   vmlinuz, release, initrd/{*.ko,load.list}, modules.list (what the guest
#   modprobes) and tree/lib/modules/RELEASE/ (the modules of both lists, with
#   depmod's indexes, for the root file system);
# and $CACHE/busybox/VER/busybox (the same layout as guest.sh's, so shared).
prepare_kernel() {
	local modkey x moddir rel m tree
	modkey=$(printf '%s\n' "${INITRD_MODULES[@]}" - "${GUEST_MODULES[@]}" | sha256sum | cut -c1-8)
	kernel_cache_open "$LDIR/kernel" "$modkey" || return 0
	if [[ ! -e $kdir/.complete ]]; then
		kernel_unpack
		rel=${moddir##*/}
		mkdir -p "$x/out/initrd"
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
		kernel_cache_commit "$LDIR/kernel"
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
# Makes the run's work directory under RUNS (in the cache, so that the
# per-run root can be hard links to the cached one: same file system) and
# sets work. Each run holds a lock on its own directory (fd 7) while it
# lives; a directory whose lock is free belongs to a run that was killed,
# and is removed here. Usage: new_run_dir RUNS
new_run_dir() {
	local d
	mkdir -p "$1"
	for d in "$1"/*; do
		[[ -d $d ]] || continue
		if flock -n "$d/.alive" true 2>/dev/null; then remove_tree "$d"; fi
	done
	work=$(mktemp -d "$1/run.XXXXXX")
	exec 7>"$work/.alive"
	flock -n 7 || die "cannot lock $work/.alive"
}

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
# need (as ldd on the host resolves them, the dynamic loader included) and
# the root lacks, to the same absolute path. A Debian root is the same
# release, so normally nothing is missing; libraries the root has are not
# overwritten. "all": every library, without a note for each (guest.sh's
# initramfs has none of them). Usage: copy_missing_libs PDIR [all]
copy_missing_libs() {
	local pdir=$1 all=${2:-} f o xml line lib
	local -A libs=()
	while IFS= read -r -d '' f; do
		[[ $(head -c4 "$f" | tr -d '\0') == $'\x7fELF' ]] || continue
		# libxml2, which the programs load with dlopen() (lib/xmlapi.c)
		# and ldd does not list, with what it needs.
		local -a objs=("$f")
		if grep -qa 'libxml2\.so\.2' "$f"; then
			xml=$(ldconfig -p | awk '/libxml2\.so\.2 .*x86-64/ && !x { x = $NF } END { print x }')
			[[ -n $xml ]] && libs[$xml]=1 && objs+=("$xml")
		fi
		for o in "${objs[@]}"; do
			while IFS= read -r line; do
				case $line in
				*"=> not found"*) note "warning: ${f#"$pdir"/}: ${line//[[:space:]]/ } on the host" ;;
				*"=> /"*) lib=${line#*=> }; libs[${lib%% (*}]=1 ;;
				/*) libs[${line%% (*}]=1 ;; # the dynamic loader
				esac
			done < <(ldd "$o" 2>/dev/null | sed 's/^[[:space:]]*//' || true)
		done
	done < <(find "$pdir" -type f -print0)
	for lib in "${!libs[@]}"; do
		# Debian's /lib is a symlink to /usr/lib: test the resolved path.
		if [[ -z $all ]]; then
			[[ -e $root$lib || -e $root/usr$lib ]] && continue
			note "note: copying $lib (not in the root file system) into the guest"
		fi
		mkdir -p "$root${lib%/*}"
		cp -L "$lib" "$root$lib"
	done
}

# The end of the guest's init (its shell code, on stdout): run the command
# of /e2e/cmd in /payload, export /payload/out over the console when
# /e2e/export asks for it and print E2E-EXIT with the command's status.
# With "disk" (a guest on a root disk): not on a reboot, status 100 (the
# next boot exports), and sync after. The caller powers off.
# Usage: guest_command_sh [disk]
# shellcheck disable=SC2120 # the argument is optional
guest_command_sh() {
	cat <<'EOF'
# shellcheck source=/dev/null
. /e2e/cmd  # set -- COMMAND ARGS...
cd /payload || exit 1
"$@"
status=$?
# The command's last line may lack its newline; the markers must start a line.
echo

EOF
	if [[ ${1:-} == disk ]]; then
		cat <<'EOF'
# A reboot asked for: the next boot exports.
if [ -e /e2e/export ] && [ $status != 100 ]; then
EOF
	else
		echo 'if [ -e /e2e/export ]; then'
	fi
	cat <<'EOF'
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
EOF
	if [[ ${1:-} == disk ]]; then echo sync; fi
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
	run_qemu "$log" "$show" "$limit" "${qemu[@]}"
}

# Runs the QEMU command line QEMU... for at most TIMEOUT seconds, the
# console going (without its \r) to LOG and, when SHOW is 1, minus the
# export's base64 lines, to stdout as it comes. Sets qemu_rc.
# Usage: run_qemu LOG SHOW TIMEOUT QEMU...
run_qemu() {
	local log=$1 show=$2 limit=$3
	shift 3
	# stdin from /dev/null: the guest gets nothing from the host terminal and
	# QEMU leaves its modes alone.
	set +e
	# Expected QEMU warnings: NICs without a network backend, the fw_cfg name.
	timeout -k 10 "$limit" "$@" </dev/null \
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

# The runner's end, after the guest's last boot: exits with the guest's
# STATUS, extracting the export from $log into $export_dir when asked for;
# exits HARNESS_FAIL when there is no status (timeout or crash: HINT, when
# given, says what may have happened) or the export is broken. "warn": a
# note when QEMU failed after the guest reported its status.
# Usage: guest_finish STATUS HINT [warn]
guest_finish() {
	local status=$1 hint=$2
	if [[ -z $status ]]; then
		if ((qemu_rc == 124 || qemu_rc == 137)); then
			note "guest timed out after ${timeout_s}s without reporting an exit status"
		else
			note "guest stopped without reporting an exit status (qemu exit $qemu_rc${hint:+; $hint})"
		fi
		[[ -z $out_file ]] || note "console log: $out_file"
		exit "$HARNESS_FAIL"
	fi
	if [[ ${3:-} == warn ]] && ((qemu_rc != 0)); then
		note "warning: qemu exited $qemu_rc after the guest reported status $status"
	fi
	if [[ -n $export_dir ]]; then
		extract_export "$log" "$export_dir" || exit "$HARNESS_FAIL"
	fi
	exit "$status"
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

