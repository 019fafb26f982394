#!/usr/bin/env bash
# The documentation keeps up with the code: every command of vfio-hooks is in
# vfio-hooks(8), every configuration key in vfio-hooks.conf(5) and in the
# shipped commented configuration, every rule id in the README, and the man
# pages render without warnings.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
pass=0 fail=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL docs/$1: $3"; fi; }

cmds=$("$build/vfio-hooks" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
[ -n "$cmds" ]; check commands-listed $? "no commands in --help"
for c in $cmds; do
	grep -q "^\.B $c\$" "$top/man/vfio-hooks.8"; check "man-command-$c" $? "vfio-hooks.8 has no section for '$c'"
done
keys=$(sed -n 's/^ *{"\([a-z_]*\)", K_[A-Z_]*,.*/\1/p' "$top/lib/config.c")
[ -n "$keys" ]; check config-keys-found $? "no keys in lib/config.c"
for k in $keys; do
	grep -q "^\.B[IR]* $k " "$top/man/vfio-hooks.conf.5"; check "man-key-$k" $? "vfio-hooks.conf.5 does not document '$k'"
	[ "$k" = root ] && continue # for tests only: not in the shipped file
	grep -q "^#$k = " "$top/conf/vfio-hooks.conf"; check "conf-key-$k" $? "conf/vfio-hooks.conf does not document '$k'"
done
rules=$(sed -n 's/^ *\[VH_RULE_[A-Z0-9_]*\] = "\([a-z0-9-]*\)",$/\1/p' "$top/lib/check.c")
[ -n "$rules" ]; check rules-found $? "no rules in lib/check.c"
for r in $rules; do
	grep -q "\`$r\`" "$top/README.md"; check "readme-rule-$r" $? "README.md does not describe rule '$r'"
done
# Each rule's severity in the README's table is the catalog's (vh_rules[]).
sevs=$(awk '/^ *\[VH_RULE_[A-Z0-9_]*\] = "/ { e = $1; gsub(/[][]/, "", e); n = $3; gsub(/[",]/, "", n); name[e] = n }
	/^\t\.id = VH_RULE_/ { id = $3; sub(/,$/, "", id) }
	/^\t\.severity = VH_/ { s = $3; sub(/,$/, "", s); sub(/^VH_/, "", s); print name[id] ":" tolower(s) }' "$top/lib/check.c")
[ "$(echo "$sevs" | grep -c .)" = "$(echo "$rules" | grep -c .)" ]; check rule-severities-found $? "not one severity per rule in lib/check.c"
for rs in $sevs; do
	grep -q "^| \`${rs%%:*}\` | ${rs#*:} |" "$top/README.md"; check "readme-severity-${rs%%:*}" $? "README.md does not give rule '${rs%%:*}' the catalog's severity, ${rs#*:}"
done
if command -v man >/dev/null; then
	for m in "$top"/man/*.[158]; do
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
		[ -z "$w" ]; check "man-renders-$(basename "$m")" $? "$w"
	done
fi
echo "docs: $pass passed, $fail failed"
[ $fail = 0 ]
