#!/usr/bin/env bash
# vfio-hooks installer.
#
#   sudo ./install.sh [--prefix DIR] [--no-deps] [--no-build] [--no-reload]
#                     [--wrap-qemu]
#   sudo ./install.sh --deps-only
#   sudo ./install.sh --uninstall [--force]
#
# On Debian and Ubuntu the package does the same ('make deb', then 'sudo
# apt-get install ./build/deb/vfio-hooks_*.deb'); while it is installed,
# install.sh refuses to install a second copy (unless --force).
#
# Installs the build and test dependencies with the system's package
# manager (what 'make check' needs too), builds, installs the vfio-hooks
# command, the libvirt hook, the device profiles and a default
# configuration (an edited one is never overwritten), places the hook where
# libvirt runs it (a file, not a link: AppArmor lets a confined libvirtd
# execute hooks only under /etc/libvirt/hooks), makes the running libvirt
# daemon pick it up, and shows the host checks of 'vfio-hooks doctor'.
# --wrap-qemu also puts links named qemu-system-ARCH to vfio-qemu-wrapper in
# PREFIX/bin (before /usr/bin in PATH), so QEMU run by hand is checked too,
# and adds the wrapper's rules to libvirt's AppArmor files.  Every
# path it creates is listed in a manifest, so --uninstall removes exactly
# that.  Running it again is safe, and replaces what an older version placed.
set -euo pipefail
cd "$(dirname "$0")"

prefix=/usr/local deps=1 build=1 reload=1 uninstall=0 force=0 wrap=0 deps_only=0
MANIFEST=/var/lib/vfio-hooks/install-manifest
HOOKS_DIR=/etc/libvirt/hooks
SYSCONFDIR=/etc/vfio-hooks
STATE_DIR=/run/vfio-hooks

usage() { sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--no-deps) deps=0; shift ;;
	--deps-only) deps_only=1; shift ;;
	--no-build) build=0; shift ;;
	--no-reload) reload=0; shift ;;
	--uninstall) uninstall=1; shift ;;
	--force) force=1; shift ;;
	--wrap-qemu) wrap=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (sudo ./install.sh)"

# --- the libvirt daemon ---------------------------------------------------

# The running libvirt daemons that run our hooks: libvirtd (monolithic),
# virtqemud and virtxend (modular: QEMU's and Xen's).
running_daemons() {
	local d
	for d in virtqemud virtxend libvirtd; do
		pgrep -x "$d" >/dev/null 2>&1 && echo "$d"
	done
	return 0
}

# libvirt decides at start-up whether a hook exists and looks again only on
# reload; a reload (SIGHUP) does not touch running VMs.  With STAMP, each
# daemon reloaded is noted there as "DAEMON PID EPOCH": the doctor cannot
# tell a reload from the daemon's start time.
reload_daemons() {
	local d pid any=0 stamp=${1:-}
	[ -z "$stamp" ] || : >"$stamp"
	for d in $(running_daemons); do
		any=1
		if [ -d /run/systemd/system ] && systemctl is-active --quiet "$d" 2>/dev/null; then
			say "reloading $d (systemctl reload $d)"
			systemctl reload "$d" || die "systemctl reload $d failed; run it by hand"
			pid=$(systemctl show -p MainPID --value "$d" 2>/dev/null || true)
			[ -z "$stamp" ] || [ -z "$pid" ] || echo "$d $pid $(date +%s)" >>"$stamp"
		else
			for pid in $(pgrep -x "$d"); do
				say "reloading $d (SIGHUP to pid $pid)"
				kill -HUP "$pid"
				[ -z "$stamp" ] || echo "$d $pid $(date +%s)" >>"$stamp"
			done
		fi
	done
	[ $any = 1 ] || say "no libvirt daemon is running: it picks the hook up when it starts"
}

libvirt_version() { # prints e.g. 9000000 for 9.0.0, or nothing
	local bin v
	for bin in virtqemud libvirtd; do
		command -v "$bin" >/dev/null 2>&1 || continue
		v=$("$bin" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1) || true
		[ -n "$v" ] || continue
		IFS=. read -r a b c <<<"$v"
		echo $((a * 1000000 + b * 1000 + c))
		return 0
	done
}

# --- AppArmor (Debian, Ubuntu) ----------------------------------------------

# Only the wrapper (--wrap-qemu) needs rules; the hook needs none, as it is
# placed under /etc/libvirt/hooks.  libvirtd's profile includes
# local/usr.sbin.libvirtd for local additions: one marked block goes there.
# A domain's profile includes abstractions/libvirt-qemu, which includes
# abstractions/libvirt-qemu.d/ where libvirt has it (10.x and later: Debian
# 13; a file of ours there), else local/abstractions/libvirt-qemu (Debian
# 12, Ubuntu 24.04: a marked block).
AA=/etc/apparmor.d
AA_LIBVIRTD=$AA/local/usr.sbin.libvirtd
AA_QEMU_LOCAL=$AA/local/abstractions/libvirt-qemu
AA_QEMU_D=$AA/abstractions/libvirt-qemu.d
AA_BEGIN="# BEGIN vfio-hooks (install.sh --wrap-qemu; removed by install.sh --uninstall)"
AA_END="# END vfio-hooks"

apparmor_enabled() {
	[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] &&
		command -v apparmor_parser >/dev/null 2>&1
}

# Replaces (or with no RULES removes) our block in FILE.  Returns 1 when
# nothing changed.  Usage: FILE [RULES]
apparmor_block() {
	local file=$1 rules=${2:-} tmp
	[ -f "$file" ] || return 1
	tmp=$(mktemp "$file.XXXXXX")
	awk -v b="$AA_BEGIN" -v e="$AA_END" '$0 == b { skip = 1; next } skip && $0 == e { skip = 0; next } !skip' "$file" >"$tmp"
	[ -z "$rules" ] || printf '%s\n%s\n%s\n' "$AA_BEGIN" "$rules" "$AA_END" >>"$tmp"
	if cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 1; fi
	chmod --reference="$file" "$tmp" && mv -f "$tmp" "$file"
}

# Reloads libvirtd's profile so that the running daemon has the new rules.
# The domains' profiles are made at each start from the abstraction; a
# running VM keeps the one it has.
apparmor_reload() {
	[ $reload = 1 ] && apparmor_enabled || return 0
	[ -f $AA/usr.sbin.libvirtd ] || return 0
	say "reloading libvirtd's AppArmor profile (apparmor_parser -r)"
	apparmor_parser -r -T -W $AA/usr.sbin.libvirtd ||
		say "warning: apparmor_parser -r $AA/usr.sbin.libvirtd failed; run it by hand"
}

# The wrapper as a domain's <emulator>: libvirtd executes it to probe
# QEMU's capabilities (PUx, as for /usr/bin/*), and the domain's profile
# (virt-aa-helper, from abstractions/libvirt-qemu) lets it run, read its
# configuration, profiles and the sysfs of the devices it checks.  The
# checks run in the wrapper, which then loads the system's libxml2
# (dlopen): abstractions/base, which abstractions/libvirt-qemu includes,
# lets it map /{usr/,}lib/@{multiarch}/**.so*.  The real QEMU it then
# executes is in the stock rules.
apparmor_add() {
	local changed=0 rules qemu_file
	[ -f $AA/usr.sbin.libvirtd ] || [ -f $AA/abstractions/libvirt-qemu ] || return 0
	rules="  $prefix/bin/vfio-qemu-wrapper rmix,
  $SYSCONFDIR/ r,
  $SYSCONFDIR/** r,
  $prefix/share/vfio-hooks/ r,
  $prefix/share/vfio-hooks/** r,
  /sys/bus/pci/devices/ r,
  /sys/devices/pci[0-9]*/** r,
  /sys/kernel/iommu_groups/ r,
  /sys/kernel/iommu_groups/** r,"
	if [ -f $AA/usr.sbin.libvirtd ]; then
		[ -e "$AA_LIBVIRTD" ] || install -D -m 0644 /dev/null "$AA_LIBVIRTD"
		apparmor_block "$AA_LIBVIRTD" "  $prefix/bin/vfio-qemu-wrapper PUx," && changed=1
	fi
	if grep -qs '^ *include if exists <abstractions/libvirt-qemu.d>' $AA/abstractions/libvirt-qemu; then
		qemu_file=$AA_QEMU_D/vfio-hooks
		record_dirs "$AA_QEMU_D"
		printf '%s\n%s\n%s\n' "$AA_BEGIN" "$rules" "$AA_END" >"$qemu_file"
		record "$qemu_file"
	elif [ -f $AA/abstractions/libvirt-qemu ]; then
		qemu_file=$AA_QEMU_LOCAL
		[ -e "$qemu_file" ] || install -D -m 0644 /dev/null "$qemu_file"
		apparmor_block "$qemu_file" "$rules" || true
	fi
	say "AppArmor: the wrapper's rules in $AA_LIBVIRTD${qemu_file:+ and $qemu_file}"
	[ $changed = 0 ] || apparmor_reload
}

apparmor_remove() {
	local changed=0
	apparmor_block "$AA_LIBVIRTD" && changed=1
	apparmor_block "$AA_QEMU_LOCAL" || true
	rm -f "$AA_QEMU_D/vfio-hooks"
	[ $changed = 0 ] || apparmor_reload
}

# --- the journal's message catalog ----------------------------------------

# journalctl -x reads a binary database made from the catalog files in
# /usr/lib/systemd/catalog and /usr/local/lib/systemd/catalog.
update_catalog() {
	if command -v journalctl >/dev/null 2>&1; then
		journalctl --update-catalog || say "journalctl --update-catalog failed: 'journalctl -x' will not explain vfio-hooks' messages"
	fi
}

# Whether the Debian package is installed: it owns the programs and places
# the hook itself (debian/vfio-hooks.postinst).
package_installed() {
	command -v dpkg-query >/dev/null 2>&1 &&
		[ "$(dpkg-query -W -f '${Status}' vfio-hooks 2>/dev/null || true)" = "install ok installed" ]
}

# --- uninstall ------------------------------------------------------------

if [ $uninstall = 1 ]; then
	[ -f "$MANIFEST" ] || die "nothing to uninstall ($MANIFEST is missing)"
	if ls "$STATE_DIR"/*.journal >/dev/null 2>&1 && [ $force = 0 ]; then
		say "running VMs hold devices that vfio-hooks prepared:"
		for j in "$STATE_DIR"/*.journal; do
			sed -n 's/^domain /  domain: /p' "$j"
		done
		die "stop them first (their devices are given back when they stop), or use --force"
	fi
	# A persistent binding's udev rule runs vfio-hooks at every boot.
	if ls /etc/udev/rules.d/90-vfio-hooks-*.rules >/dev/null 2>&1 && [ $force = 0 ]; then
		say "devices bound at every boot by 'vfio-hooks bind --persist':"
		for r in /etc/udev/rules.d/90-vfio-hooks-*.rules; do
			r=${r##*/90-vfio-hooks-}
			say "  ${r%.rules}: 'vfio-hooks unbind --persist ${r%.rules}' removes it"
		done
		die "unbind them first, or use --force (the rules stay and fail at boot)"
	fi
	# The configuration goes only if it is still as shipped.
	conf=$SYSCONFDIR/vfio-hooks.conf keep_conf=0
	example=$(grep '/vfio-hooks.conf.example$' "$MANIFEST" | head -1 || true)
	if [ -f "$conf" ] && { [ -z "$example" ] || ! cmp -s "$conf" "$example"; }; then
		keep_conf=1
	fi
	# The package placed its own hook where ours was: it stays.
	pkg=0
	package_installed && pkg=1
	# Files first, then directories (deepest first) that are empty.
	tac "$MANIFEST" | while IFS= read -r p; do
		if [ "$p" = "$conf" ] && [ $keep_conf = 1 ]; then
			say "keeping $conf (edited)"
		elif [ $pkg = 1 ] && grep -qxF "$p" /var/lib/vfio-hooks/package-hooks 2>/dev/null; then
			say "keeping $p (the vfio-hooks package's hook now)"
		elif [ $pkg = 1 ] && [ "$p" = /etc/systemd/system/sysinit.target.wants/vfio-hooks-bind.service ]; then
			say "keeping $p (the vfio-hooks package's boot unit, enabled)"
		elif [ -L "$p" ] || [ -f "$p" ]; then
			rm -f "$p" && say "removed $p"
		fi
	done
	tac "$MANIFEST" | while IFS= read -r p; do
		[ -d "$p" ] && [ ! -L "$p" ] && rmdir "$p" 2>/dev/null && say "removed $p/"
	done
	rm -f "$MANIFEST"
	rmdir "$(dirname "$MANIFEST")" 2>/dev/null || true
	[ ! -d /run/systemd/system ] || systemctl daemon-reload 2>/dev/null || true
	apparmor_remove
	update_catalog
	[ $reload = 1 ] && reload_daemons
	say "uninstalled"
	exit 0
fi

# --- dependencies and build -----------------------------------------------

# What the build needs, then what 'make check' needs on top (cmocka for the
# unit tests, python3 for the JSON checks, man for the manual pages, QEMU
# for the wrapper's tests in front of the real QEMU; a KVM host has it).
# The programs link libc alone and load the system's libxml2 (libxml2;
# libxml2-dev brings it too) when they parse XML, so its security updates
# reach them.
APT_BUILD=(build-essential pkg-config libxml2 libxml2-dev libudev-dev libvirt-dev)
APT_TEST=(libcmocka-dev python3 man-db qemu-system-x86)
DNF_BUILD=(gcc make pkgconf-pkg-config libxml2 libxml2-devel systemd-devel libvirt-devel)
DNF_TEST=(libcmocka-devel python3 man-db qemu-system-x86-core)
if [ $deps_only = 0 ] && [ $force = 0 ] && package_installed; then
	die "the vfio-hooks package is installed: it owns the programs in /usr and the hook in $HOOKS_DIR/qemu.d, and a second copy would replace its hook; remove it first (sudo apt remove vfio-hooks), or use --force"
fi
if [ $deps = 1 ] || [ $deps_only = 1 ]; then
	if command -v apt-get >/dev/null; then
		say "installing the build and test dependencies with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${APT_BUILD[@]}" "${APT_TEST[@]}" >/dev/null
	elif command -v dnf >/dev/null; then
		say "installing the build and test dependencies with dnf"
		dnf install -y -q "${DNF_BUILD[@]}" "${DNF_TEST[@]}"
	else
		say "no apt-get or dnf: install a C compiler, make, pkg-config, the"
		say "development files of libxml2, libudev, libvirt and cmocka, and"
		say "python3, then use --no-deps"
		exit 1
	fi
fi
[ $deps_only = 0 ] || { say "dependencies installed"; exit 0; }
# The user who ran sudo keeps the build tree: 'make check' then runs as
# that user without "Permission denied" on build/.
owner=$(stat -c %u:%g .)
if [ $build = 1 ]; then
	say "building"
	make -s -j"$(nproc)" PREFIX="$prefix" >/dev/null
fi
[ -x build/vfio-hooks ] && [ -x build/qemu-hook ] || die "build/ has no binaries: build first (without --no-build)"
# The programs load libxml2 when they parse XML (dlopen, not a library the
# loader checks at start): without it, every VM with a device would fail.
xml_soname=$(grep -aoE -m1 'libxml2\.so\.[0-9]+' build/vfio-hooks | head -1 || true)
# (Read whole, not piped into grep -q: under pipefail, grep quitting at
# the first match can kill ldconfig with SIGPIPE and fail the check.)
xml_soname=${xml_soname:-libxml2.so.2}
libs=$(ldconfig -p 2>/dev/null || true)
case "$libs" in
*"$xml_soname "*) ;;
*) die "$xml_soname is not installed: the programs load it to parse XML; install the libxml2 package (apt-get install libxml2)" ;;
esac

# --- install, recording every path ----------------------------------------

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -s "$([ $build = 1 ] && echo install || echo install-files)" DESTDIR="$stage" PREFIX="$prefix" SYSCONFDIR="$SYSCONFDIR" >/dev/null
[ $build = 0 ] || [ "$owner" = 0:0 ] || chown -R "$owner" build
mkdir -p "$(dirname "$MANIFEST")"
new_manifest=$(mktemp)
record() { printf '%s\n' "$1" >>"$new_manifest"; }
record_dirs() { # record the directories above $1 that we create
	local d=$1 list=()
	while [ ! -e "$d" ]; do list=("$d" "${list[@]}"); d=$(dirname "$d"); done
	for d in "${list[@]}"; do mkdir -p "$d"; record "$d"; done
}
# Directories we made in an earlier run are ours too.
if [ -f "$MANIFEST" ]; then
	while IFS= read -r p; do
		if [ -d "$p" ] && [ ! -L "$p" ]; then printf '%s\n' "$p"; fi
	done <"$MANIFEST" >>"$new_manifest"
fi

(cd "$stage" && find . \( -type f -o -type l \) -print | sort) | while IFS= read -r rel; do
	dst=/${rel#./}
	if [ "$dst" = "$SYSCONFDIR/vfio-hooks.conf" ] && [ -e "$dst" ]; then
		if cmp -s "$stage/$rel" "$dst"; then record "$dst"
		else say "keeping your $dst"; fi
		continue
	fi
	record_dirs "$(dirname "$dst")"
	install -m "$(stat -c %a "$stage/$rel")" "$stage/$rel" "$dst"
	record "$dst"
done
# Empty directories the package owns (profiles.d for the admin's profiles).
(cd "$stage" && find . -mindepth 1 -type d -empty -print | sort) | while IFS= read -r rel; do
	record_dirs "/${rel#./}"
done
say "installed $prefix/bin/vfio-hooks, $prefix/libexec/vfio-hooks/qemu-hook, profiles in $prefix/share/vfio-hooks"
update_catalog

# --- the hook where libvirt runs it ----------------------------------------

# The hook is placed as a copy of the program, not a link to it: AppArmor
# judges an exec by the path a link resolves to, and Debian's and Ubuntu's
# profile lets libvirtd execute hooks only under /etc/libvirt/hooks/ (a link
# to PREFIX/libexec was denied, and every VM failed to start).  Written
# beside the hooks' directories and renamed into place, so that libvirt
# never sees a half-written executable; a link an older version placed is
# replaced the same way.
hook_bin=$prefix/libexec/vfio-hooks/qemu-hook
place_hook() { # DEST
	local tmp
	record_dirs "$(dirname "$1")"
	tmp=$(mktemp "$HOOKS_DIR/.vfio-hooks.XXXXXX")
	install -m 0755 "$hook_bin" "$tmp" && mv -f "$tmp" "$1" || { rm -f "$tmp"; die "cannot place the hook at $1"; }
	record "$1"
}
# Whether DEST was placed by vfio-hooks: listed in the manifest, or a link
# to our program (older versions).
ours() {
	{ [ -f "$MANIFEST" ] && grep -qxF "$1" "$MANIFEST"; } ||
		[ "$(readlink "$1" 2>/dev/null || true)" = "$hook_bin" ]
}
ver=$(libvirt_version || true)
if [ -z "$ver" ] || [ "$ver" -ge 6005000 ]; then
	# libvirt 6.5 and later run every executable in hooks/qemu.d/.
	[ -n "$ver" ] || say "libvirt is not installed; placing the hook for libvirt 6.5 and later"
	place_hook "$HOOKS_DIR/qemu.d/vfio-hooks"
	say "hook: $HOOKS_DIR/qemu.d/vfio-hooks (a copy of $hook_bin)"
elif [ ! -e "$HOOKS_DIR/qemu" ] || ours "$HOOKS_DIR/qemu"; then
	place_hook "$HOOKS_DIR/qemu"
	say "hook: $HOOKS_DIR/qemu (a copy of $hook_bin; libvirt before 6.5 runs only this file)"
else
	sort -u "$new_manifest" >"$MANIFEST"
	cat >&2 <<EOF
install.sh: this libvirt ($ver) runs only $HOOKS_DIR/qemu, and you have one.
  It is left as it is.  Chain vfio-hooks from it: pass the same arguments and
  standard input on, and exit with its status when it fails, e.g. near the top:

    xml=\$(cat)
    printf '%s' "\$xml" | $hook_bin "\$@" || exit \$?

  and give your own logic the XML from "\$xml".  Then reload the daemon.
EOF
	exit 1
fi
# Xen: the same program is libvirt's libxl hook (it knows which one from
# the directory it runs from), where libvirt drives Xen: virtxend, or a
# libvirtd with its libxl driver module.  libxl.d/ is libvirt 6.5 too.
xen_daemon() {
	local m
	command -v virtxend >/dev/null 2>&1 && { echo virtxend; return 0; }
	for m in /usr/lib/*/libvirt/connection-driver/libvirt_driver_libxl.so \
		/usr/lib64/libvirt/connection-driver/libvirt_driver_libxl.so; do
		[ -e "$m" ] && { echo libvirtd; return 0; }
	done
	return 0
}
xd=$(xen_daemon)
if [ -n "$xd" ] && { [ -z "$ver" ] || [ "$ver" -ge 6005000 ]; }; then
	link=$HOOKS_DIR/libxl.d/vfio-hooks
	if { [ -e "$link" ] || [ -L "$link" ]; } && ! ours "$link"; then
		say "not placing the Xen hook: $link exists and is not ours"
	else
		place_hook "$link"
		say "Xen hook ($xd): $link (a copy of $hook_bin)"
	fi
fi
if [ $wrap = 1 ]; then
	# The real binaries stay where they are; the wrapper finds them in
	# qemu_dir or a fixed list of directories, skipping wrappers.
	for q in /usr/bin/qemu-system-*; do
		[ -x "$q" ] || continue
		link=$prefix/bin/$(basename "$q")
		if [ -e "$link" ] && [ "$(readlink "$link" || true)" != "$prefix/bin/vfio-qemu-wrapper" ]; then
			say "not wrapping $(basename "$q"): $link exists and is not ours"
			continue
		fi
		ln -sfn "$prefix/bin/vfio-qemu-wrapper" "$link"
		record "$link"
		say "wrapped: $link -> vfio-qemu-wrapper (then $q)"
	done
	apparmor_add
fi
# The boot unit: devices of 'vfio-hooks bind --persist' on vfio before the
# libvirt daemon starts autostart domains.  Enabled (a link in
# sysinit.target.wants, recorded); it does nothing where no such rule is.
unit=vfio-hooks-bind.service
if command -v systemctl >/dev/null 2>&1 && [ -f "$prefix/lib/systemd/system/$unit" ]; then
	[ ! -d /run/systemd/system ] || systemctl daemon-reload || true
	record_dirs /etc/systemd/system/sysinit.target.wants
	if systemctl enable --quiet "$unit" 2>/dev/null; then
		record /etc/systemd/system/sysinit.target.wants/$unit
		say "boot unit: $unit enabled (binds 'bind --persist' devices before libvirt starts)"
	else
		say "warning: 'systemctl enable $unit' failed: devices of 'bind --persist' are then bound by their udev rules alone, in no order with libvirt's autostart"
	fi
fi
RELOAD_STAMP=$(dirname "$MANIFEST")/reloaded
record "$RELOAD_STAMP"
sort -u "$new_manifest" >"$MANIFEST"
rm -f "$new_manifest"
say "manifest: $MANIFEST ($(wc -l <"$MANIFEST") paths)"

if [ $reload = 1 ]; then reload_daemons "$RELOAD_STAMP"; else : >"$RELOAD_STAMP"; fi

# Is the host ready?  (Read-only; a FAIL here does not fail the install.)
say "host checks (vfio-hooks doctor):"
timeout 60 "$prefix/bin/vfio-hooks" doctor 2>&1 | sed 's/^/  /' || true
# What the domains defined so far look like to the hook.
if [ -n "$(running_daemons)" ]; then
	say "checking the defined domains (vfio-hooks check --all):"
	timeout 60 "$prefix/bin/vfio-hooks" check --all 2>&1 | sed 's/^/  /' || true
fi
say "done"
