#!/usr/bin/env bash
# vfio-hooks installer: installs the build dependencies with the system's
# package manager, builds, and installs into --prefix (default /usr/local).
#   sudo ./install.sh [--prefix DIR] [--no-deps]
set -euo pipefail
cd "$(dirname "$0")"
prefix=/usr/local deps=1
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--no-deps) deps=0; shift ;;
	-h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
say() { printf 'install.sh: %s\n' "$*"; }
if [ "$(id -u)" != 0 ]; then
	echo "install.sh: run as root (sudo ./install.sh)" >&2; exit 1
fi
if [ $deps = 1 ]; then
	if command -v apt-get >/dev/null; then
		say "installing build dependencies with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq build-essential pkg-config libxml2-dev libudev-dev \
			libvirt-dev >/dev/null
	elif command -v dnf >/dev/null; then
		say "installing build dependencies with dnf"
		dnf install -y -q gcc make pkgconf-pkg-config libxml2-devel systemd-devel \
			libvirt-devel
	else
		say "no apt-get or dnf: install a C compiler, make, pkg-config and the"
		say "development files of libxml2, libudev and libvirt, then use --no-deps"
		exit 1
	fi
fi
say "building"
make -s -j"$(nproc)" PREFIX="$prefix"
say "installing into $prefix"
make -s install PREFIX="$prefix"
say "done: $prefix/bin/vfio-hooks"
