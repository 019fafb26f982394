#!/usr/bin/env bash
# vfio-hooks installer.
#
#   sudo ./install.sh [--prefix DIR] [--no-deps] [--no-build] [--no-reload]
#                     [--wrap-qemu]
#   sudo ./install.sh --uninstall [--force]
#
# Installs the build dependencies with the system's package manager, builds,
# installs the vfio-hooks command, the libvirt hook, the device profiles and
# a default configuration (an edited one is never overwritten), places the
# hook where libvirt runs it, makes the running libvirt daemon pick it up,
# and shows the host checks of 'vfio-hooks doctor'.  --wrap-qemu also puts
# links named qemu-system-ARCH to vfio-qemu-wrapper in PREFIX/bin (before
# /usr/bin in PATH), so QEMU run by hand is checked too.  Every path it creates is listed in a manifest, so
# --uninstall removes exactly that.  Running it again is safe.
set -euo pipefail
cd "$(dirname "$0")"

prefix=/usr/local deps=1 build=1 reload=1 uninstall=0 force=0 wrap=0
MANIFEST=/var/lib/vfio-hooks/install-manifest
HOOKS_DIR=/etc/libvirt/hooks
SYSCONFDIR=/etc/vfio-hooks
STATE_DIR=/run/vfio-hooks

usage() { sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--no-deps) deps=0; shift ;;
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
# reload; a reload (SIGHUP) does not touch running VMs.
reload_daemons() {
	local d pid any=0
	for d in $(running_daemons); do
		any=1
		if [ -d /run/systemd/system ] && systemctl is-active --quiet "$d" 2>/dev/null; then
			say "reloading $d (systemctl reload $d)"
			systemctl reload "$d" || die "systemctl reload $d failed; run it by hand"
		else
			for pid in $(pgrep -x "$d"); do
				say "reloading $d (SIGHUP to pid $pid)"
				kill -HUP "$pid"
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
	# Files first, then directories (deepest first) that are empty.
	tac "$MANIFEST" | while IFS= read -r p; do
		if [ "$p" = "$conf" ] && [ $keep_conf = 1 ]; then
			say "keeping $conf (edited)"
		elif [ -L "$p" ] || [ -f "$p" ]; then
			rm -f "$p" && say "removed $p"
		fi
	done
	tac "$MANIFEST" | while IFS= read -r p; do
		[ -d "$p" ] && [ ! -L "$p" ] && rmdir "$p" 2>/dev/null && say "removed $p/"
	done
	rm -f "$MANIFEST"
	rmdir "$(dirname "$MANIFEST")" 2>/dev/null || true
	[ $reload = 1 ] && reload_daemons
	say "uninstalled"
	exit 0
fi

# --- dependencies and build -----------------------------------------------

if [ $deps = 1 ]; then
	if command -v apt-get >/dev/null; then
		say "installing build dependencies with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq build-essential pkg-config libxml2-dev libudev-dev \
			zlib1g-dev liblzma-dev libvirt-dev >/dev/null
	elif command -v dnf >/dev/null; then
		say "installing build dependencies with dnf"
		dnf install -y -q gcc glibc-static make pkgconf-pkg-config libxml2-devel systemd-devel \
			libvirt-devel
	else
		say "no apt-get or dnf: install a C compiler, make, pkg-config and the"
		say "development files of libxml2, libudev and libvirt, then use --no-deps"
		exit 1
	fi
fi
if [ $build = 1 ]; then
	say "building"
	make -s -j"$(nproc)" PREFIX="$prefix" >/dev/null
fi
[ -x build/vfio-hooks ] && [ -x build/qemu-hook ] || die "build/ has no binaries: build first (without --no-build)"

# --- install, recording every path ----------------------------------------

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
make -s "$([ $build = 1 ] && echo install || echo install-files)" DESTDIR="$stage" PREFIX="$prefix" SYSCONFDIR="$SYSCONFDIR" >/dev/null
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

# --- the hook where libvirt runs it ----------------------------------------

hook_bin=$prefix/libexec/vfio-hooks/qemu-hook
ver=$(libvirt_version || true)
if [ -z "$ver" ] || [ "$ver" -ge 6005000 ]; then
	# libvirt 6.5 and later run every executable in hooks/qemu.d/.
	[ -n "$ver" ] || say "libvirt is not installed; placing the hook for libvirt 6.5 and later"
	record_dirs "$HOOKS_DIR/qemu.d"
	ln -sfn "$hook_bin" "$HOOKS_DIR/qemu.d/vfio-hooks"
	record "$HOOKS_DIR/qemu.d/vfio-hooks"
	say "hook: $HOOKS_DIR/qemu.d/vfio-hooks -> $hook_bin"
elif [ ! -e "$HOOKS_DIR/qemu" ]; then
	record_dirs "$HOOKS_DIR"
	ln -sfn "$hook_bin" "$HOOKS_DIR/qemu"
	record "$HOOKS_DIR/qemu"
	say "hook: $HOOKS_DIR/qemu -> $hook_bin (libvirt before 6.5 runs only this file)"
elif [ "$(readlink "$HOOKS_DIR/qemu" || true)" = "$hook_bin" ]; then
	record "$HOOKS_DIR/qemu"
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
	if [ -e "$link" ] && [ "$(readlink "$link" || true)" != "$hook_bin" ]; then
		say "not placing the Xen hook: $link exists and is not ours"
	else
		record_dirs "$HOOKS_DIR/libxl.d"
		ln -sfn "$hook_bin" "$link"
		record "$link"
		say "Xen hook ($xd): $link -> $hook_bin"
	fi
fi
if [ $wrap = 1 ]; then
	# The real binaries stay where they are; the wrapper finds the next
	# one in PATH that is not itself.
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
fi
sort -u "$new_manifest" >"$MANIFEST"
rm -f "$new_manifest"
say "manifest: $MANIFEST ($(wc -l <"$MANIFEST") paths)"

[ $reload = 1 ] && reload_daemons

# Is the host ready?  (Read-only; a FAIL here does not fail the install.)
say "host checks (vfio-hooks doctor):"
timeout 60 "$prefix/bin/vfio-hooks" doctor 2>&1 | sed 's/^/  /' || true
# What the domains defined so far look like to the hook.
if [ -n "$(running_daemons)" ]; then
	say "checking the defined domains (vfio-hooks check --all):"
	timeout 60 "$prefix/bin/vfio-hooks" check --all 2>&1 | sed 's/^/  /' || true
fi
say "done"
