#!/usr/bin/env bash
# bench/libvirt.sh: the hook's share of a VM's life, measured through a
# real libvirtd in the level-3 guest (tests/e2e/guest3.sh --lone-nics 4):
# `virsh start` + `virsh destroy` of a domain with 1 and with 4 managed
# e1000e, without the hook, with it, and with it and prebind_managed (see
# bench/libvirt/run).  Run by bench/run.sh (LIBVIRT=0 skips it); needs
# root and the binaries of build/.
#
#   bench/libvirt.sh OUT.csv [N [BLOCKS]]
#
# N measured rounds per block (default 5), BLOCKS default "A B C C B A".
# The console goes to OUT's directory as libvirt.console.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${1:?usage: bench/libvirt.sh OUT.csv [N [BLOCKS]]}
n=${2:-5}
blocks=${3:-A B C C B A}
((EUID == 0)) || { echo "bench/libvirt.sh: tests/e2e/guest3.sh needs root" >&2; exit 1; }
for b in vfio-hooks qemu-hook vfio-qemu-wrapper vfio-hooks-bind.service vfio-hooks.catalog paths; do
	[[ -e $top/build/$b ]] || { echo "bench/libvirt.sh: build/$b missing (make all)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
p=$tmp/payload
mkdir -p "$p/src/build" "$p/bin"
# The source tree as a user has it, with the binaries built here (the
# guest has no compiler; install.sh --no-build installs them).
(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$p/src")
cp -p "$top"/build/{vfio-hooks,qemu-hook,vfio-qemu-wrapper,vfio-hooks-bind.service,vfio-hooks.catalog,paths} "$p/src/build/"
CC=${CC:-cc}
"$CC" -O2 -static -pthread -o "$p/bin/timer" "$here/guest/timer.c" 2>/dev/null ||
	"$CC" -O2 -pthread -o "$p/bin/timer" "$here/guest/timer.c"
cp "$here/libvirt/run" "$p/run"
console=$(dirname "$out")/libvirt.console
# no_timer_check: see bench/run.sh's guest stage.
rc=0
"$top/tests/e2e/guest3.sh" --timeout 1800 --lone-nics 4 --append no_timer_check \
	--export "$tmp/export" --payload "$p" -- /payload/run "$n" "$blocks" >"$console" 2>&1 || rc=$?
grep -E '^(FAIL|SKIP|libvirt-bench)' "$console" >&2 || true
if [[ -s $tmp/export/libvirt.csv ]]; then
	cp "$tmp/export/libvirt.csv" "$out"
fi
exit "$rc"
