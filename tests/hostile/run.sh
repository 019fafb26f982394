#!/usr/bin/env bash
# Hostile input, one counted suite: every case goes through the hook as
# libvirt runs it (the libc front end with its engine, and the engine on the
# fake kernel) and through `vfio-hooks check`.  Each case asserts the exit
# status, that the message names the problem (device, file or fix), that the
# fake sysroot is byte-identical before and after, that no journal is left,
# and that a local file's content never appears in any output.
#   BUILD=build/asan tests/hostile/run.sh     (VERBOSE=1: every case)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
FK="$build/tests/qemu-hook-fk" # the hook, on the fake kernel
CLI="$build/vfio-hooks"
MKFS="$build/tests/mkfakesys"
export VFIO_HOOKS_DATADIR=$top/xml
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
unset VFIO_HOOKS_LOG
T=$(mktemp -d)
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
SECRET="vh-secret-$$-$RANDOM"
printf 'root:x:0:0:%s:/root:/bin/sh\n' "$SECRET" >"$T/secret"
chmod 644 "$T/secret"

# A bridge, a NIC, an SR-IOV physical function with one virtual function.
SPEC='iommu dmar0
driver vfio-pci
0000:00:01.0 id=8086:1905 class=0x060400 bridge pcie=4 group=1 driver=pcieport reset=none
0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 msix=5 pcie reset=pm,bus parent=0000:00:01.0
0000:08:00.0 id=8086:1521 class=0x020000 driver=igb group=80 msix=10 pcie sriov=total:4,offset:128,stride:4,vfdev:1520 numvfs=1
0000:08:10.0 id=8086:1520 class=0x020000 driver=igbvf group=81 msix=3 pcie physfn=0000:08:00.0'

# Every path of the sysroot, its type, mode and link target, and every
# file's hash (the fake kernel's own state excluded); run/ is listed apart.
snap() {
	(cd "$1" && {
		find . \( -path ./.fakekernel -o -path ./run \) -prune -o -printf '%p %y %m %l\n' | sort
		find . \( -path ./.fakekernel -o -path ./run \) -prune -o -type f -print0 | sort -z | xargs -0 sha1sum
		# the hook's own state directory, lock file and profile validation
		# stamps are not a change
		find ./run -printf '%p %y %m %u %l\n' 2>/dev/null | sort |
			grep -vx '\./run/vfio-hooks d 700 [a-z]* \|\./run/vfio-hooks/lock f 600 [a-z]* \|\./run/vfio-hooks/profiles\.validated f 600 [a-z]* ' || true
	})
}

UUID=6f1c3a52-8d0e-4b7e-9a55-000000000001
HD01="<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
# dom [HOSTDEVS] [METADATA] [UUID] -> a domain XML, q35, nothing else.
dom() {
	printf "<domain type='kvm'><name>h</name><uuid>%s</uuid>%s<memory unit='MiB'>512</memory><vcpu>1</vcpu>" "${3:-$UUID}" "${2:-}"
	printf "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
	printf "<devices>%s</devices></domain>\n" "${1-$HD01}"
}
hd() { # BUS SLOT FN [DOMAIN]
	printf "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='%s' bus='%s' slot='%s' function='%s'/></source></hostdev>" "${4:-0x0000}" "$1" "$2" "$3"
}

# new: a fresh case directory $D with a sysroot, a configuration and the
# domain XML $D/x.xml (a sane one; cases replace what they attack).
new() {
	D=$T/$1
	mkdir -p "$D"
	printf '%s\n' "$SPEC" | "$MKFS" "$D/root" - >/dev/null
	printf 'root = %s\nlog_level = debug\ntimeout = 2\nlock_timeout = 5\n' "$D/root" >"$D/conf"
	dom >"$D/x.xml"
}

# run_case NAME HOOK_RC HOOK_RE CHECK_RC CHECK_RE: the snapshot is taken
# now (after the case planted its state); the hook runs prepare,
# `vfio-hooks check` checks; then everything is compared.
run_case() {
	local name=$1 hrc=$2 hre=$3 crc=$4 cre=$5 why="" rc
	snap "$D/root" >"$D/before"
	for h in "$FK"; do
		rc=0
		VFIO_HOOKS_CONF="$D/conf" "$h" h prepare begin - <"$D/x.xml" \
			>"$D/hook.out" 2>"$D/hook.err" || rc=$?
		cat "$D/hook.out" "$D/hook.err" >>"$D/all"
		local short=${h##*/}
		[ "$rc" = "$hrc" ] || why="$why $short exit $rc (want $hrc);"
		[ ! -s "$D/hook.out" ] || why="$why $short wrote to stdout;"
		if [ -n "$hre" ]; then
			tr '\n' ' ' <"$D/hook.err" | grep -Eq -- "$hre" || why="$why $short stderr lacks /$hre/;"
		fi
	done
	rc=0
	VFIO_HOOKS_CONF="$D/conf" "$CLI" --root "$D/root" check "$D/x.xml" >"$D/check.out" 2>&1 || rc=$?
	cat "$D/check.out" >>"$D/all"
	[ "$rc" = "$crc" ] || why="$why check exit $rc (want $crc);"
	grep -Eq -- "$cre" "$D/check.out" || why="$why check output lacks /$cre/;"
	snap "$D/root" >"$D/after"
	diff -u "$D/before" "$D/after" >"$D/diff" || why="$why the sysroot changed;"
	if [ -z "${KEEP_JOURNAL:-}" ] && ls "$D/root/run/vfio-hooks/"*.journal >/dev/null 2>&1; then
		why="$why a journal was left;"
	fi
	! grep -qF "$SECRET" "$D/all" "$D/root/.fakekernel/log" 2>/dev/null || why="$why the secret leaked;"
	[ "$(cat "$T/secret")" = "root:x:0:0:$SECRET:/root:/bin/sh" ] || why="$why the local file changed;"
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		[ "${VERBOSE:-0}" = 1 ] && echo "PASS hostile/$name"
	else
		fail=$((fail + 1))
		echo "FAIL hostile/$name:$why"
		sed 's/^/    /' "$D/all" | head -20
		sed 's/^/    /' "$D/diff" | head -20
	fi
	return 0
}

# ------------------------------------------------------------ documents
DT='a document type declaration'
new xxe-local-file
printf "<?xml version='1.0'?>\n<!DOCTYPE domain [ <!ENTITY x SYSTEM 'file://%s'> ]>\n" "$T/secret" >"$D/x.xml"
dom "$HD01" "<description>&x;</description>" >>"$D/x.xml"
run_case xxe-local-file 1 "$DT" 2 "$DT"

new xxe-parameter-entity
printf "<!DOCTYPE domain [ <!ENTITY %% p SYSTEM 'file://%s'> %%p; ]>\n" "$T/secret" >"$D/x.xml"
dom >>"$D/x.xml"
run_case xxe-parameter-entity 1 "$DT" 2 "$DT"

new xxe-external-dtd
printf "<!DOCTYPE domain SYSTEM 'file://%s'>\n" "$T/secret" >"$D/x.xml"
dom >>"$D/x.xml"
run_case xxe-external-dtd 1 "$DT" 2 "$DT"

new entity-bomb-billion-laughs
{
	echo '<?xml version="1.0"?><!DOCTYPE domain ['
	echo '<!ENTITY l0 "lol">'
	for i in $(seq 1 10); do
		printf '<!ENTITY l%d "' "$i"
		for _ in $(seq 1 10); do printf '&l%d;' $((i - 1)); done
		echo '">'
	done
	echo ']>'
	dom "$HD01" "<description>&l10;</description>"
} >"$D/x.xml"
run_case entity-bomb-billion-laughs 1 "$DT" 2 "$DT"

new entity-bomb-quadratic
{
	printf '<!DOCTYPE domain [<!ENTITY a "%s">]>' "$(head -c 50000 /dev/zero | tr '\0' a)"
	dom "$HD01" "<description>$(for _ in $(seq 1 2000); do printf '&a;'; done)</description>"
} >"$D/x.xml"
run_case entity-bomb-quadratic 1 "$DT" 2 "$DT"

new document-100mb
{
	dom | sed 's:</devices>.*::'
	printf '<!--'
	head -c 100000000 /dev/zero | tr '\0' x
	printf -- '--></devices></domain>\n'
} >"$D/x.xml"
run_case document-100mb 1 'larger than 16 MiB' 2 'larger than 16 MiB'
rm -f "$D/x.xml"

new nested-100000
{
	dom | sed 's:</devices>.*::'
	for _ in $(seq 1 1000); do printf '<a><a><a><a><a><a><a><a><a><a>'; done | sed 's/.*/&&&&&&&&&&/'
	for _ in $(seq 1 1000); do printf '</a></a></a></a></a></a></a></a></a></a>'; done | sed 's/.*/&&&&&&&&&&/'
	printf '</devices></domain>\n'
} >"$D/x.xml"
[ "$(grep -o '<a>' "$D/x.xml" | wc -l)" = 100000 ] || { echo "FAIL hostile/nested-100000: bad input"; fail=$((fail + 1)); }
run_case nested-100000 1 'malformed XML.*[Dd]epth' 2 'malformed XML.*[Dd]epth'

new nul-byte
{
	dom | sed 's:<vcpu>.*::' | tr -d '\n'
	printf '<vcpu>1\0</vcpu>'
	dom | sed 's:.*</vcpu>::'
} >"$D/x.xml"
run_case nul-byte 1 'malformed XML.*(NUL|0x0)' 2 'malformed XML.*NUL byte'

new invalid-utf8
dom | sed "s:<name>h</name>:<name>h\xff\xfe\xc0\xaf</name>:" >"$D/x.xml"
run_case invalid-utf8 1 'malformed XML.*UTF-8' 2 'malformed XML.*UTF-8'

new overlong-utf8-path
dom "$(hd "0x01" "0x00" "0x0" "0x0000\xc0\xae\xc0\xae/")" >"$D/x.xml"
printf '%b' "$(cat "$D/x.xml")" >"$D/x2.xml" && mv "$D/x2.xml" "$D/x.xml"
run_case overlong-utf8-path 1 'malformed XML.*UTF-8' 2 'malformed XML.*UTF-8'

new not-a-domain
printf '<network><name>h</name></network>\n' >"$D/x.xml"
# No hostdev can be in these: the hook has nothing to do.
run_case not-a-domain 0 '' 2 'root element is <network>, not <domain>'

new empty-input
: >"$D/x.xml"
run_case empty-input 0 '' 2 'malformed XML: Document is empty'

# ------------------------------------------------------------ addresses
BA='\[bad-address\]'
new address-path-text
dom "$(hd "../../x" "0x00" "0x0")" >"$D/x.xml"
run_case address-path-text 1 "$BA.*bus='\.\./\.\./x' is not a number" 1 "bus='\.\./\.\./x' is not a number"

new address-path-in-domain
dom "$(hd "0x01" "0x00" "0x0" "0000/../../../etc")" >"$D/x.xml"
run_case address-path-in-domain 1 "$BA.*not a number" 1 "error\[bad-address\]"

new interface-hostdev-path-text
dom "<interface type='hostdev' managed='no'><source><address type='pci' domain='0x0000' bus='0x01' slot='../../../sys' function='0x0'/></source></interface>" >"$D/x.xml"
run_case interface-hostdev-path-text 1 "$BA.*slot='\.\./\.\./\.\./sys' is not a number" 1 "error\[bad-address\]"

new huge-number-decimal
dom "$(hd "18446744073709551617" "0x00" "0x0")" >"$D/x.xml"
run_case huge-number-decimal 1 "$BA.*out of range" 1 "out of range \(at most 0xff\)"

new huge-number-hex
dom "$(hd "0x01" "0x00" "0x0" "0xffffffffffffffffffffffff")" >"$D/x.xml"
run_case huge-number-hex 1 "$BA.*out of range" 1 "domain='0xffffffffffffffffffffffff' is out of range"

new negative-number
dom "$(hd "0x01" "0x00" "-1")" >"$D/x.xml"
run_case negative-number 1 "$BA" 1 "function='-1'"

new same-device-twice
dom "$HD01$(hd "1" "0" "0" "0")" >"$D/x.xml"
run_case same-device-twice 1 '\[device-duplicate\] 0000:01:00.0 is listed more than once' 1 'remove the second one'

new bridge-as-hostdev
dom "$(hd "0x00" "0x01" "0x0")" >"$D/x.xml"
run_case bridge-as-hostdev 1 '\[device-bridge\].*0000:00:01.0.*PCI bridge' 1 'pass through the endpoint devices behind the bridge'

new pf-with-own-vf
dom "$(hd "0x08" "0x00" "0x0")$(hd "0x08" "0x10" "0x0")" >"$D/x.xml"
run_case pf-with-own-vf 1 '\[sriov-pf-assigned\] .*0000:08:00.0.* together with its own virtual function 0000:08:10.0' 1 'give the VM only virtual functions'

new device-missing
dom "$(hd "0x42" "0x00" "0x0")" >"$D/x.xml"
run_case device-missing 1 '\[device-missing\] 0000:42:00.0 does not exist' 1 'lspci -D'

new uuid-path-text
dom "$HD01" "" "../../../../$(basename "$T")/pwned" >"$D/x.xml"
run_case uuid-path-text 1 'no valid <uuid>' 0 '0 errors'
if [ -e "$T/pwned.journal" ] || [ -e "$T/pwned" ]; then
	echo "FAIL hostile/uuid-path-text: a file was made outside the state directory"; fail=$((fail + 1))
fi

new metadata-reset-method-newline
dom "$HD01" "<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'><vh:device address='0000:01:00.0' reset-method='flr&#10;bus'/></vh:settings></metadata>" >"$D/x.xml"
run_case metadata-reset-method-newline 1 "0000:01:00.0: the domain's metadata asks for reset-method 'flr.bus', which is not a list" 0 '0 errors'

# A metadata address with path text is ignored with a warning: the domain
# starts (its hostdev is fine), and release gives everything back.
new metadata-address-path-text
dom "$HD01" "<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'><vh:device address='../../../etc' reset-method=''/></vh:settings></metadata>" >"$D/x.xml"
snap "$D/root" >"$D/before"
rc=0
VFIO_HOOKS_LOG=stderr VFIO_HOOKS_CONF="$D/conf" "$FK" h prepare begin - <"$D/x.xml" >/dev/null 2>"$D/err" || rc=$?
VFIO_HOOKS_CONF="$D/conf" "$FK" h release end - <"$D/x.xml" >/dev/null 2>>"$D/err" || rc=$((rc + 10))
snap "$D/root" >"$D/after"
if [ "$rc" = 0 ] && grep -q "<device address='../../../etc'> is not a PCI address" "$D/err" &&
	! grep -q '/etc' "$D/root/.fakekernel/log" && diff -q "$D/before" "$D/after" >/dev/null &&
	! ls "$D/root/run/vfio-hooks/"*.journal >/dev/null 2>&1; then
	pass=$((pass + 1))
else
	fail=$((fail + 1)); echo "FAIL hostile/metadata-address-path-text: rc=$rc"; sed 's/^/    /' "$D/err" | head
fi

# OpenStack Nova's metadata, huge and odd: a 1 MiB flavor name with line
# breaks and a forged finding in it, 20000 ports, nesting.  The fix names
# Nova's setting; what is shown of the flavor is cut and on one line.
new nova-metadata-huge
{
	printf "<metadata><nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"
	printf "<nova:flavor name='m1&#10;[device-in-use] forged&#9;"
	head -c 1048576 /dev/zero | tr '\0' 'f'
	printf "'/><nova:root type='image' uuid='&#13;%s'/><nova:ports>" "$(head -c 300 /dev/zero | tr '\0' 'u')"
	for _ in $(seq 1 20000); do printf "<nova:port uuid='p'><nova:ip type='fixed' address='10.0.0.1' ipVersion='4'/></nova:port>"; done
	printf "</nova:ports>%s%s</nova:instance></metadata>" "$(printf '<nova:x>%.0s' $(seq 1 100))" "$(printf '</nova:x>%.0s' $(seq 1 100))"
} >"$D/meta"
dom "$(hd 0x00 0x01 0x0)" "$(cat "$D/meta")" >"$D/x.xml"
run_case nova-metadata-huge 1 "\\[device-bridge\\].* Fix, in OpenStack Nova: nova.conf \\[pci\\] device_spec on this compute node matches a bridge" 1 "Fix, in OpenStack Nova \\(flavor 'm1\\?\\[device-in-use\\] forged\\?f+', image \\?u+\\):"
if [ "$(grep -c '^\[' "$D/hook.err")" = 1 ] && [ "$(wc -c <"$D/all")" -lt 20000 ] &&
	[ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$D/check.out")" -lt 400 ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1)); echo "FAIL hostile/nova-metadata-huge-bounded: the flavor name is not cut or not on one line"; head -c 2000 "$D/hook.err" | sed 's/^/    /'
fi

# ------------------------------------------------------------ state
J="$UUID.journal"
statedir() { mkdir -p "$D/root/run/vfio-hooks" && chmod 700 "$D/root/run/vfio-hooks"; }

new journal-symlink
statedir; ln -s "$T/secret" "$D/root/run/vfio-hooks/$J"
KEEP_JOURNAL=1 run_case journal-symlink 1 "journal /run/vfio-hooks/$J.*symlink" 0 '0 errors'

new journal-other-user
if [ "$(id -u)" = 0 ]; then
	statedir; printf 'vfio-hooks-journal 1\ndomain h\nuuid %s\n' "$UUID" >"$D/root/run/vfio-hooks/$J"
	chmod 600 "$D/root/run/vfio-hooks/$J"; chown 65534 "$D/root/run/vfio-hooks/$J"
	KEEP_JOURNAL=1 run_case journal-other-user 1 "journal /run/vfio-hooks/$J is not a regular file of uid 0.*inspect and remove it" 0 '0 errors'
else
	echo "SKIP hostile/journal-other-user: needs root to chown"
fi

new journal-fifo
statedir; mkfifo "$D/root/run/vfio-hooks/$J"
KEEP_JOURNAL=1 run_case journal-fifo 1 "journal /run/vfio-hooks/$J is not a regular file" 0 '0 errors'

new journal-huge
statedir; { printf 'vfio-hooks-journal 1\n'; head -c 2000000 /dev/zero | tr '\0' '#'; } >"$D/root/run/vfio-hooks/$J"
chmod 600 "$D/root/run/vfio-hooks/$J"
KEEP_JOURNAL=1 run_case journal-huge 1 "journal /run/vfio-hooks/$J is not a regular file of uid [0-9]+ under 1 MiB" 0 '0 errors'

# Planted journals: `vfio-hooks recover` and the hook's release refuse
# each, naming the file, and write nothing.  Each would otherwise unbind
# the NIC or write into its driver's directory.
FKCLI="$build/tests/vfio-hooks-fk"
planted() { # NAME RE: $D/root/run/vfio-hooks/$J planted by the caller
	local name=$1 re=$2 why="" rc=0
	snap "$D/root" >"$D/before"
	: >"$D/root/.fakekernel/log"
	VFIO_HOOKS_CONF="$D/conf" "$FKCLI" recover >"$D/rec.out" 2>"$D/rec.err" || rc=$?
	[ "$rc" = 1 ] || why="$why recover exit $rc (want 1);"
	tr '\n' ' ' <"$D/rec.err" | grep -Eq -- "$re" || why="$why recover stderr lacks /$re/;"
	rc=0
	VFIO_HOOKS_LOG=stderr VFIO_HOOKS_CONF="$D/conf" "$FK" h release end - <"$D/x.xml" >"$D/rel.out" 2>"$D/rel.err" || rc=$?
	[ "$rc" = 0 ] || why="$why release exit $rc (want 0);"
	[ ! -s "$D/rel.out" ] || why="$why release wrote to stdout;"
	tr '\n' ' ' <"$D/rel.err" | grep -Eq -- "$re" || why="$why release stderr lacks /$re/;"
	[ ! -s "$D/root/.fakekernel/log" ] || why="$why written: $(tr '\n' ';' <"$D/root/.fakekernel/log");"
	snap "$D/root" >"$D/after"
	diff -u "$D/before" "$D/after" >"$D/diff" || why="$why the sysroot changed;"
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		[ "${VERBOSE:-0}" = 1 ] && echo "PASS hostile/$name"
	else
		fail=$((fail + 1))
		echo "FAIL hostile/$name:$why"
		cat "$D/rec.err" "$D/rel.err" | sed 's/^/    /' | head -10
	fi
	return 0
}
jhead() { printf 'vfio-hooks-journal 1\ndomain h\nuuid %s\n' "$UUID"; }
JDEV='dev 0000:01:00.0 role=hostdev managed=0 driver=- override=- reset_method=- reset=0'
CORRUPT="journal /run/vfio-hooks/$J is corrupt at line 4"

new journal-link-below-device
statedir; { jhead; echo 'attr /sys/bus/pci/devices/0000:01:00.0/driver/unbind 0000:01:00.0'; } >"$D/root/run/vfio-hooks/$J"
planted journal-link-below-device "journal /run/vfio-hooks/$J names /sys/bus/pci/devices/0000:01:00.0/driver/unbind, which is not a file of device 0000:01:00.0 \(a link on the way leads out of the device\)"

new journal-link-physfn
statedir; { jhead; echo 'attr /sys/bus/pci/devices/0000:08:10.0/physfn/sriov_numvfs 0'; } >"$D/root/run/vfio-hooks/$J"
planted journal-link-physfn "journal /run/vfio-hooks/$J names /sys/bus/pci/devices/0000:08:10.0/physfn/sriov_numvfs, which is not a file of device 0000:08:10.0"

new journal-bad-address
statedir; { jhead; echo "${JDEV/0000:01:00.0/01:00.0}"; } >"$D/root/run/vfio-hooks/$J"
planted journal-bad-address "$CORRUPT"

new journal-bad-override
statedir; { jhead; echo 'dev 0000:01:00.0 role=hostdev managed=0 driver=e1000e override=nvme%0Aevil reset_method=- reset=0'; } >"$D/root/run/vfio-hooks/$J"
planted journal-bad-override "$CORRUPT"

new journal-bad-reset-method
statedir; { jhead; echo 'dev 0000:01:00.0 role=hostdev managed=0 driver=e1000e override=- reset_method=flr%0A%FF reset=0'; } >"$D/root/run/vfio-hooks/$J"
planted journal-bad-reset-method "$CORRUPT"

new journal-world-writable
statedir; { jhead; echo "$JDEV"; } >"$D/root/run/vfio-hooks/$J"; chmod 666 "$D/root/run/vfio-hooks/$J"
planted journal-world-writable "journal /run/vfio-hooks/$J is writable by group or others \(mode 0666\).*chmod 600"

new journal-group-writable
statedir; { jhead; echo "$JDEV"; } >"$D/root/run/vfio-hooks/$J"; chmod 620 "$D/root/run/vfio-hooks/$J"
planted journal-group-writable "journal /run/vfio-hooks/$J is writable by group or others \(mode 0620\)"

new journal-hard-link
statedir; { jhead; echo "$JDEV"; } >"$D/root/run/vfio-hooks/$J"; chmod 600 "$D/root/run/vfio-hooks/$J"
ln "$D/root/run/vfio-hooks/$J" "$D/root/journal-twin"
planted journal-hard-link "journal /run/vfio-hooks/$J has 2 hard links"

if [ "$(id -u)" = 0 ]; then
	new journal-other-user-recover
	statedir; { jhead; echo "$JDEV"; } >"$D/root/run/vfio-hooks/$J"
	chmod 600 "$D/root/run/vfio-hooks/$J"; chown 65534 "$D/root/run/vfio-hooks/$J"
	planted journal-other-user-recover "journal /run/vfio-hooks/$J is not a regular file of uid 0"
else
	echo "SKIP hostile/journal-other-user-recover: needs root to chown"
fi

new state-dir-symlink
mkdir -p "$D/root/run" "$D/elsewhere"; chmod 700 "$D/elsewhere"; ln -s "$D/elsewhere" "$D/root/run/vfio-hooks"
run_case state-dir-symlink 1 'state directory.*/run/vfio-hooks.*symlink' 0 '0 errors'
[ -z "$(ls -A "$D/elsewhere")" ] || { echo "FAIL hostile/state-dir-symlink: wrote through the link"; fail=$((fail + 1)); }

new state-dir-world-writable
mkdir -p "$D/root/run/vfio-hooks"; chmod 777 "$D/root/run/vfio-hooks"
run_case state-dir-world-writable 1 '/run/vfio-hooks is not owned by uid [0-9]+ or is writable by others' 0 '0 errors'

new lock-symlink
statedir; ln -s "$T/secret" "$D/root/run/vfio-hooks/lock"
run_case lock-symlink 1 'lock' 0 '0 errors'

# ------------------------------------------------------------ configuration
new profiles-dir-world-writable
mkdir -p "$D/prof"; chmod 777 "$D/prof"; echo "profiles = $D/prof" >>"$D/conf"
run_case profiles-dir-world-writable 1 "$D/prof is writable by every user.*chmod o-w" 2 "$D/prof is writable by every user.*chmod o-w"

new profile-file-world-writable
mkdir -p "$D/prof"; cp "$top"/xml/profiles/*.xml "$D/prof/"; chmod 666 "$D/prof/qcom-aic100.xml"
echo "profiles = $D/prof" >>"$D/conf"
run_case profile-file-world-writable 1 "$D/prof/.* is writable by every user.*chmod o-w" 2 "is writable by every user"

# Sticky (as /tmp) changes nothing: anyone may add a profile there.
new profiles-dir-sticky
mkdir -p "$D/prof"; chmod 1777 "$D/prof"; echo "profiles = $D/prof" >>"$D/conf"
run_case profiles-dir-sticky 1 "$D/prof is writable by every user.*chmod o-w" 2 "$D/prof is writable by every user"

new profiles-dir-group-writable
mkdir -p "$D/prof"; chmod 775 "$D/prof"; echo "profiles = $D/prof" >>"$D/conf"
run_case profiles-dir-group-writable 1 "$D/prof is writable by its group.*chmod g-w" 2 "$D/prof is writable by its group"

# A configuration anyone may write could say mode = off: refused, not
# obeyed (the hook would otherwise pass the domain's errors).
new config-world-writable
echo "mode = off" >>"$D/conf"; chmod 666 "$D/conf"
run_case config-world-writable 1 "$D/conf is writable by every user: refusing to read the configuration.*chmod o-w" 2 "writable by every user"

new config-group-writable
echo "mode = off" >>"$D/conf"; chmod 664 "$D/conf"
run_case config-group-writable 1 "$D/conf is writable by its group.*chmod g-w" 2 "writable by its group"

if [ "$(id -u)" = 0 ]; then
	new config-other-owner
	echo "mode = off" >>"$D/conf"; chown 65534:65534 "$D/conf"
	run_case config-other-owner 1 "$D/conf is owned by uid 65534.*chown root:" 2 "owned by uid 65534"
fi

new profile-with-entity
mkdir -p "$D/prof"; chmod 755 "$D/prof"
printf "<!DOCTYPE profile [ <!ENTITY x SYSTEM 'file://%s'> ]>\n<profile id='x'><name>&x;</name></profile>\n" "$T/secret" >"$D/prof/evil.xml"
echo "profiles = $D/prof" >>"$D/conf"
run_case profile-with-entity 1 "evil.xml.*$DT" 2 "evil.xml.*$DT"

new config-unknown-key
echo 'frobnicate = yes' >>"$D/conf"
run_case config-unknown-key 1 "conf:5: unknown key 'frobnicate' \(known keys: " 2 "unknown key 'frobnicate'"

new config-bad-value
echo 'mode = sideways' >>"$D/conf"
run_case config-bad-value 1 "conf:5: mode = 'sideways' is not valid: expected" 2 "mode = 'sideways' is not valid"

new config-huge-number
echo 'lock_timeout = 99999999999999999999999999' >>"$D/conf"
run_case config-huge-number 1 "conf:5: lock_timeout = '9+' is not valid" 2 "lock_timeout = '9+' is not valid"

new config-negative-number
echo 'timeout = -5' >>"$D/conf"
run_case config-negative-number 1 "conf:5: timeout = '-5' is not valid: expected whole seconds" 2 "timeout = '-5' is not valid"

new config-relative-root
printf 'root = ../../../etc\n' >"$D/conf"
run_case config-relative-root 1 "conf:1: root = '../../../etc' is not valid" 2 "root = '../../../etc' is not valid"

new config-not-key-value
echo 'this is not a setting' >>"$D/conf"
run_case config-not-key-value 1 "conf:5: 'this is not a setting' is not a 'key = value' line" 2 "is not a 'key = value' line"

new config-nul-byte
printf 'mode = enforce\0\n' >>"$D/conf"
run_case config-nul-byte 1 'conf: contains a NUL byte' 2 'NUL byte'

new config-huge-file
head -c 2000000 /dev/zero | tr '\0' '#' >>"$D/conf"
run_case config-huge-file 1 'conf.*(larger|over|1 MiB|too)' 2 'conf.*(larger|over|1 MiB|too)'

echo "hostile: $pass passed, $fail failed"
[ "$fail" = 0 ]
