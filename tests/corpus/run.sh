#!/usr/bin/env bash
# libvirt's own test corpus (tests/qemuxmlconfdata and the QEMU probes in
# tests/qemucapabilitiesdata) as a test suite: see corpus.py.
#
# The corpus comes from Debian's libvirt source package, fetched once with
# apt-get source --download-only through a private apt configuration (a
# deb-src line for the archive this machine already uses; the machine's own
# apt state is not touched) and cached; nothing of libvirt's is committed
# to the project.
#
#   LIBVIRT_SUITE   the Debian suite to take libvirt from (default trixie)
#   CORPUS_CACHE    the cache (default /var/cache/vfio-hooks-corpus as root,
#                   else ~/.cache/vfio-hooks-corpus)
#   LIBVIRT_SRC     an unpacked libvirt source tree to use instead (a newer
#                   libvirt: git clone https://gitlab.com/libvirt/libvirt)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build/asan}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
suite=${LIBVIRT_SUITE:-trixie}
if [ -z "${CORPUS_CACHE:-}" ]; then
	if [ "$(id -u)" = 0 ]; then CORPUS_CACHE=/var/cache/vfio-hooks-corpus
	else CORPUS_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/vfio-hooks-corpus; fi
fi

# The archive URI of this machine's Debian sources (deb822 or one-line).
archive() {
	local u
	u=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '{print $2}' | grep -v security | head -n1 || true)
	[ -n "$u" ] || u=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '{print $2}' | grep -v security | grep debian | head -n1 || true)
	echo "${u:-http://deb.debian.org/debian}"
}

fetch() { # SUITE DIR: unpack libvirt's tests/ data into DIR
	local apt="$2.apt" dl="$2.dl" uri opts tarball
	uri=$(archive)
	rm -rf "$apt" "$dl"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dl"
	echo "deb-src $uri $1 main" >"$apt/sources.list"
	opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
		-o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")
	echo "corpus: fetching libvirt's source package from $uri $1"
	apt-get -qq "${opts[@]}" update
	# Some mirrors lack the .dsc's detached signature; the tarball is what
	# counts, and apt checked it against the signed Sources index.
	(cd "$dl" && apt-get -qq "${opts[@]}" source --download-only libvirt) >"$2.log" 2>&1 || true
	tarball=$(ls "$dl"/libvirt_*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n1)
	[ -n "$tarball" ] || { cat "$2.log"; echo "corpus: no libvirt source tarball from $uri $1"; return 1; }
	rm -f "$2.log"
	mkdir -p "$2.new"
	tar -xf "$tarball" -C "$2.new" --strip-components=1 --wildcards \
		'*/tests/qemuxmlconfdata/*' '*/tests/qemucapabilitiesdata/*'
	basename "$tarball" >"$2.new/VERSION"
	rm -rf "$2" "$apt" "$dl"
	mv "$2.new" "$2"
}

if [ -n "${LIBVIRT_SRC:-}" ]; then
	src=$LIBVIRT_SRC
	what="libvirt source $src"
else
	src=$CORPUS_CACHE/$suite
	[ -d "$src/tests/qemuxmlconfdata" ] || { mkdir -p "$CORPUS_CACHE"; fetch "$suite" "$src"; }
	what="$(cat "$src/VERSION") (Debian $suite)"
fi
[ -d "$src/tests/qemuxmlconfdata" ] || { echo "corpus: no tests/qemuxmlconfdata in $src"; exit 1; }
echo "corpus: $what, programs from $build"
exec python3 "$here/corpus.py" --data "$src/tests/qemuxmlconfdata" \
	--caps "$src/tests/qemucapabilitiesdata" --build "$build" --top "$top" "$@"
