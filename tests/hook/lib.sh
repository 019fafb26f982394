# Shared by the hook's test scripts (sourced): the fake kernel's programs, a
# comparable snapshot of a sysroot, fresh sysroots from a spec, and the
# hook run as libvirt runs it.  Needs: top, build.
HOOK="$build/tests/qemu-hook-fk" # the engine, on the fake kernel
CLI="$build/tests/vfio-hooks-fk"
MKFS="$build/tests/mkfakesys"
export VFIO_HOOKS_DATADIR=$top/xml
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
unset VFIO_HOOKS_LOG
pass=0 fail=0

ok() { pass=$((pass + 1)); [ "${VERBOSE:-0}" = 1 ] && echo "PASS $SUITE/$1"; return 0; }
bad() { fail=$((fail + 1)); echo "FAIL $SUITE/$1: $2"; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/    /' "$3" | head -30; return 0; }
check() { # NAME CONDITION-RESULT MESSAGE [FILE]
	if [ "$2" = 0 ]; then ok "$1"; else bad "$1" "$3" "${4:-}"; fi
}

# Everything the kernel shows, in one comparable text: every path, its type,
# its link target and its content (the fake kernel's state and our own /run
# excluded).
snap() {
	(cd "$1" && {
		find . \( -path ./.fakekernel -o -path ./run \) -prune -o -printf '%p %y %m %l\n' | sort
		find . \( -path ./.fakekernel -o -path ./run \) -prune -o -type f -print0 | sort -z | xargs -0 sha1sum
	})
}

fresh() { # DIR [SPEC]: a new sysroot, its config, its pristine snapshot
	rm -rf "$1"; mkdir -p "$1"
	printf '%s\n' "${2:-$SPEC}" | "$MKFS" "$1/root" - || exit 1
	printf 'root = %s\nlog_level = debug\ntimeout = 2\nlock_timeout = 30\n' "$1/root" >"$1/conf"
	snap "$1/root" >"$1/before"
}

pristine() { # DIR: the sysroot is as fresh made it
	snap "$1/root" >"$1/after"
	diff -q "$1/before" "$1/after" >/dev/null
}

uuid_of() { printf '6f1c3a52-8d0e-4b7e-9a55-%012d' "$1"; }

driver_of() { basename "$(readlink "$1/root/sys/bus/pci/devices/$2/driver" 2>/dev/null)" 2>/dev/null; }
reset_of() { cat "$1/root/sys/bus/pci/devices/$2/reset_method" 2>/dev/null; }

hook() { # DIR XMLFILE OP [SUBOP] -> runs the hook as libvirt does; rc in $rc
	# (in a subshell: bash reports a SIGKILLed child on its own stderr)
	(VFIO_HOOKS_CONF="$1/conf" "$HOOK" "$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$2" | head -1)" \
		"$3" "${4:-begin}" - <"$2" >"$1/stdout" 2>"$1/stderr"; exit $?) 2>/dev/null
	rc=$?
}

cli() { # DIR ARGS... -> the CLI on DIR's sysroot; rc in $rc, output in DIR/out, DIR/err
	local d=$1; shift
	(VFIO_HOOKS_CONF="$d/conf" "$CLI" "$@" >"$d/out" 2>"$d/err"; exit $?) 2>/dev/null
	rc=$?
}
