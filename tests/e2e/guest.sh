#!/usr/bin/env bash
# Level-2 end-to-end runner: boot a real Debian kernel under QEMU (TCG) with an
# emulated IOMMU and a few emulated PCI devices, run a command from a payload
# directory inside it, and report the command's exit status.
#
# Usage:
#   tests/e2e/guest.sh [--append "EXTRA KERNEL ARGS"] [--no-iommu] [--timeout SECS]
#                      [--out FILE] [--export DIR] --payload DIR -- [COMMAND ARGS...]
#
# Exit status: the guest command's status (parsed from the `E2E-EXIT <n>` line
# the guest prints), or 125 when the harness itself failed (bad usage, download
# failure, guest timeout or crash, corrupt export).
#
# Everything that touches sysfs happens inside the guest kernel; this script
# never writes to the host's /sys.
# shellcheck disable=SC2054 # commas inside QEMU arguments, not array separators
set -euo pipefail

readonly PROG=${0##*/}
readonly CACHE=${VFIO_HOOKS_E2E_CACHE:-/var/cache/vfio-hooks-e2e}
# Wanted in the guest, loaded in this order; their .modinfo dependencies are
# pulled in (and loaded first) automatically. Names absent from the kernel
# version at hand are skipped (e.g. vfio_virqfd was merged into vfio in 6.2).
readonly MODULES=(irqbypass vfio vfio_virqfd vfio_iommu_type1 vfio-pci-core vfio-pci pci-stub e1000e)
readonly HARNESS_FAIL=125

die() { echo "$PROG: $*" >&2; exit "$HARNESS_FAIL"; }
note() { echo "$PROG: $*" >&2; }

usage() {
	cat >&2 <<EOF
usage: $PROG [--append "EXTRA KERNEL ARGS"] [--no-iommu] [--timeout SECS]
       [--out FILE] [--export DIR] --payload DIR -- [COMMAND ARGS...]
(see tests/e2e/README.md)
EOF
	exit "$HARNESS_FAIL"
}

# ---------------------------------------------------------------- arguments
append="" iommu=1 timeout_s=120 payload="" out_file="" export_dir=""
while (($#)); do
	opt=$1
	# Accept both "--opt VALUE" and "--opt=VALUE".
	if [[ $opt == --*=* ]]; then
		set -- "${opt%%=*}" "${opt#*=}" "${@:2}"
		opt=$1
	fi
	case $opt in
	--append | --timeout | --payload | --out | --export)
		(($# >= 2)) || die "$opt needs a value"
		case $opt in
		--append) append=$2 ;;
		--timeout) timeout_s=$2 ;;
		--payload) payload=$2 ;;
		--out) out_file=$2 ;;
		--export) export_dir=$2 ;;
		esac
		shift 2
		;;
	--no-iommu) iommu=0; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) note "unknown argument: $opt"; usage ;;
	esac
done
[[ $timeout_s =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, got '$timeout_s'"
[[ -n $payload ]] || { note "--payload DIR is required"; usage; }
[[ -d $payload ]] || die "payload '$payload' is not a directory"
if (($# == 0)); then
	[[ -e $payload/run ]] || die "no COMMAND given and '$payload/run' does not exist"
	set -- /payload/run
fi

# ---------------------------------------------------------------- host tools
# Installs what is missing (a fresh machine has none of it). Busybox and the
# kernel are not installed: they are downloaded and cached below.
ensure_host_tools() {
	local -A need=()
	command -v qemu-system-x86_64 >/dev/null || need[qemu-system-x86]=1
	command -v cpio >/dev/null || need[cpio]=1
	command -v gzip >/dev/null || need[gzip]=1
	command -v flock >/dev/null || need[util-linux]=1
	command -v ldd >/dev/null || need[libc-bin]=1
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

# ---------------------------------------------------------------- kernel + busybox cache
# Sets kpkg/kver/bbver from the local apt lists (one apt-cache call: each
# costs ~1 s here). linux-image-amd64 is a metapackage whose candidate depends
# on the ABI-numbered image package, normally with "(= VERSION)".
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
# an epoch spelled "%3a", as apt does).
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

# Copies one module (decompressing it if the kernel ships them compressed:
# busybox insmod only takes plain .ko) into $1/NAME.ko, after its
# dependencies, and appends NAME to $1/load.list.
add_module() {
	local dst=$1 name=${2//-/_} src deps dep
	[[ -z ${mod_added[$name]:-} ]] || return 0
	src=${mod_path[$name]:-}
	[[ -n $src ]] || return 1
	mod_added[$name]=1
	case $src in
	*.ko) cp "$src" "$dst/$name.ko" ;;
	*.ko.xz) xz -dc "$src" >"$dst/$name.ko" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst/$name.ko" ;;
	*.ko.gz) gzip -dc "$src" >"$dst/$name.ko" ;;
	esac
	deps=$(tr '\0' '\n' <"$dst/$name.ko" | sed -n 's/^depends=//p')
	deps=${deps%%$'\n'*}
	local -a list=()
	IFS=, read -ra list <<<"$deps"
	for dep in "${list[@]}"; do
		add_module "$dst" "$dep" || die "module $name needs $dep, which $kpkg does not ship"
	done
	echo "$name" >>"$dst/load.list"
}

# Fills $CACHE/kernel/KEY/{vmlinuz,modules/*.ko,modules/load.list,release}
# and $CACHE/busybox/VER/busybox, once per package version (and module list).
prepare_cache() {
	mkdir -p "$CACHE/debs" "$CACHE/kernel" "$CACHE/busybox"
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
		for d in "$CACHE"/kernel/*; do
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
	modkey=$(printf '%s\n' "${MODULES[@]}" | sha256sum | cut -c1-8)
	kdir=$CACHE/kernel/${kpkg}_${kver//:/%3a}_$modkey
	bbdir=$CACHE/busybox/${bbver//:/%3a}

	if [[ ! -e $kdir/.complete || ! -e $bbdir/busybox ]]; then
		# Stale lists make apt ask for files the mirror already dropped:
		# refresh once and retry with the then-current candidates.
		if ! { fetch_deb "$kpkg" "$kver" && kdeb=$REPLY && fetch_deb busybox-static "$bbver" && bbdeb=$REPLY; }; then
			note "download failed; refreshing apt lists and retrying"
			apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
			resolve_versions || die "no candidate for linux-image-amd64 / busybox-static"
			kdir=$CACHE/kernel/${kpkg}_${kver//:/%3a}_$modkey
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
		mkdir -p "$x/out/modules"
		cp "$x/root"/boot/vmlinuz-* "$x/out/vmlinuz"
		local moddir f n m
		moddir=$(echo "$x/root"/lib/modules/*)
		basename "$moddir" >"$x/out/release"
		declare -gA mod_path=() mod_added=()
		while IFS= read -r -d '' f; do
			n=${f##*/}
			n=${n%%.ko*}
			mod_path[${n//-/_}]=$f
		done < <(find "$moddir" -name '*.ko*' -print0)
		touch "$x/out/modules/load.list"
		for m in "${MODULES[@]}"; do
			add_module "$x/out/modules" "$m" || note "note: $kpkg has no module $m, skipped"
		done
		touch "$x/out/.complete"
		rm -rf "$kdir" && mv "$x/out" "$kdir" && rm -rf "$x"
		# Builds for other kernel versions or module lists are stale now.
		for x in "$CACHE"/kernel/*; do
			[[ $x == "$kdir" ]] || rm -rf "$x"
		done
	fi
	exec 9>&-
}

# ---------------------------------------------------------------- initramfs
# PID 1 of the guest (busybox ash). Quoted heredoc: nothing expands on the host.
init_script() {
	cat <<'EOF'
#!/bin/sh
# Generated by tests/e2e/guest.sh: PID 1 of the level-2 e2e guest.
/bin/busybox --install -s
export PATH=/payload/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
exec </dev/null >/dev/console 2>&1

# busybox insmod does not read module options from the kernel command line
# the way modprobe does; do it here so --append "vfio_pci.ids=..." works.
# Module names normalised to "_" once here: forks are slow under TCG.
set -f
modargs=""
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case ${arg%%=*} in
	*.*) modargs="$modargs $(echo "${arg%%.*}" | tr - _).${arg#*.}" ;;
	esac
done
while read -r mod; do
	opts=""
	for arg in $modargs; do
		case $arg in "$mod".*) opts="$opts ${arg#*.}" ;; esac
	done
	# shellcheck disable=SC2086 # opts is a word list on purpose
	insmod "/lib/modules/e2e/$mod.ko" $opts || echo "e2e-init: insmod $mod failed"
done </lib/modules/e2e/load.list
set +f

# shellcheck source=/dev/null
. /e2e/cmd  # set -- COMMAND ARGS...
cd /payload || exit 1
"$@"
status=$?
# The command's last line may lack its newline; the markers must start a line.
echo

if [ -e /e2e/export ]; then
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
poweroff -f
echo o >/proc/sysrq-trigger
EOF
}

# Shell-quotes each argument for a POSIX sh (busybox ash) `set --` line.
sh_quote() {
	local a out=""
	for a; do out+=" '${a//\'/\'\\\'\'}'"; done
	printf '%s' "$out"
}

# Copies every shared library that the ELF files of the payload need (as ldd
# on the host resolves them, the dynamic loader included) to the same
# absolute path under $1; and libxml2 with what it needs, for the programs
# that load it with dlopen() (lib/xmlapi.c), which ldd does not list.
copy_payload_libs() {
	local root=$1 f o xml line lib
	local -A libs=()
	while IFS= read -r -d '' f; do
		[[ $(head -c4 "$f" | tr -d '\0') == $'\x7fELF' ]] || continue
		local -a objs=("$f")
		if grep -qa 'libxml2\.so\.2' "$f"; then
			xml=$(ldconfig -p | awk '/libxml2\.so\.2 .*x86-64/ { print $NF; exit }')
			[[ -n $xml ]] && libs[$xml]=1 && objs+=("$xml")
		fi
		for o in "${objs[@]}"; do
			while IFS= read -r line; do
				case $line in
				*"=> not found"*) note "warning: ${f#"$payload"/}: ${line//[[:space:]]/ } on the host" ;;
				*"=> /"*) lib=${line#*=> }; libs[${lib%% (*}]=1 ;;
				/*) libs[${line%% (*}]=1 ;; # the dynamic loader
				esac
			done < <(ldd "$o" 2>/dev/null | sed 's/^[[:space:]]*//' || true)
		done
	done < <(find "$payload" -type f -print0)
	for lib in "${!libs[@]}"; do
		mkdir -p "$root${lib%/*}"
		cp -L "$lib" "$root$lib"
	done
}

# Writes the cpio (newc) archive of directory $1 to stdout.
cpio_of() {
	(cd "$1" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet)
}

# The initramfs is two concatenated archives, which the kernel unpacks in
# turn: a cached gzip one (busybox, modules, init; ~1.5 MB) and a per-run
# uncompressed one (payload, its libraries, the command). The payload part
# stays uncompressed because with libxml2's dependencies it is ~35 MB (ICU
# data), which costs ~3 s to gzip on the host plus ~3 s to inflate under TCG.
build_initramfs() {
	local base key root
	key=$({ echo "$kdir $bbdir"; init_script; } | sha256sum | cut -c1-16)
	base=$CACHE/initramfs/base-$key.cpio.gz
	if [[ ! -s $base ]]; then
		root=$work/base
		mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,root,etc,e2e,payload,lib/modules/e2e}
		chmod 755 "$root"
		cp "$bbdir/busybox" "$root/bin/busybox"
		ln -s busybox "$root/bin/sh"
		cp -r "$kdir/modules/." "$root/lib/modules/e2e/"
		# The kernel opens /dev/console for init before anything is mounted.
		if ((EUID == 0)); then mknod -m 600 "$root/dev/console" c 5 1; fi
		echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
		echo 'root:x:0:' >"$root/etc/group"
		init_script >"$root/init"
		chmod 755 "$root/init"
		mkdir -p "$CACHE/initramfs"
		cpio_of "$root" | gzip -9 >"$work/base.cpio.gz"
		# Zero padding to a 4-byte boundary: where the kernel looks for the
		# next archive's header.
		truncate -s %512 "$work/base.cpio.gz"
		rm -f "$CACHE"/initramfs/base-*.cpio.gz # stale: other kernel or init
		mv "$work/base.cpio.gz" "$base"          # atomic: concurrent runs may race here
	fi

	root=$work/run
	mkdir -p "$root/e2e" "$root/payload"
	chmod 755 "$root" # the archive's "." entry sets the mode of the guest's /
	printf 'set --%s\n' "$(sh_quote "$@")" >"$root/e2e/cmd"
	if [[ -n $export_dir ]]; then touch "$root/e2e/export"; fi
	cp -a "$payload/." "$root/payload/"
	copy_payload_libs "$root"
	{ cat "$base"; cpio_of "$root"; } >"$work/initramfs.img"
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
prepare_cache

work=$(mktemp -d "${TMPDIR:-/tmp}/vfio-hooks-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
build_initramfs "$@"

kcmdline="console=ttyS0"
qemu_iommu=()
if ((iommu)); then
	kcmdline+=" intel_iommu=on"
	qemu_iommu=(-device intel-iommu,intremap=on,caching-mode=on)
fi
# quiet + loglevel=3: only kernel errors reach the console; --append
# "loglevel=7" (last one wins) brings the rest back for debugging.
kcmdline+=" panic=-1 quiet loglevel=3${append:+ $append}"

printf '\0\0' >"$work/sercon-port"
log=${out_file:-$work/console.log}
: >"$log"
qemu=(
	qemu-system-x86_64 -accel tcg -M q35,kernel-irqchip=split -cpu max -smp 2 -m 512
	-nodefaults -nographic -no-reboot -serial stdio -monitor none
	"${qemu_iommu[@]}"
	-device pcie-root-port,id=rp1,chassis=1,bus=pcie.0,addr=0x3
	-device e1000e,bus=rp1,romfile=
	-device edu,addr=0x4
	-device pci-testdev,addr=0x5
	-device e1000e,addr=0x6,romfile=
	-device nec-usb-xhci,msix=off,addr=0x7
	# Port 0 turns SeaBIOS's serial console off: else its banner and
	# terminal resets come first on the console.
	-fw_cfg name=etc/sercon-port,file="$work/sercon-port"
	-kernel "$kdir/vmlinuz" -initrd "$work/initramfs.img" -append "$kcmdline"
)

# stdin from /dev/null: the guest gets nothing from the host terminal and QEMU
# leaves its modes alone. The console goes, without its \r, to the log and,
# minus the export's base64 lines, to stdout as it comes.
set +e
# Expected QEMU warnings: NICs without a network backend, the fw_cfg name.
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null \
	2> >(grep -Ev 'nic e1000e\.[0-9]+ has no peer|etc/sercon-port.*should be prefixed' >&2) |
	awk -v logf="$log" '
		{ sub(/\r$/, ""); print >> logf; fflush(logf) }
		/^E2E-EXPORT-BEGIN / { skip = 1; n = 0; next }
		skip && /^E2E-EXPORT-END$/ { skip = 0; print "[export: " n " base64 lines]"; fflush(); next }
		skip { n++; next }
		{ print; fflush() }'
qemu_rc=${PIPESTATUS[0]}
set -e

status=$(sed -n 's/.*E2E-EXIT \([0-9]\{1,3\}\)$/\1/p' "$log" | tail -n1)
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
