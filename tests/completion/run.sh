#!/usr/bin/env bash
# The shell completions (completion/) offer exactly what the program says it
# takes: the commands and global options of `vfio-hooks --help`, and each
# command's options from `vfio-hooks COMMAND --help` (its usage lines and its
# option lines), for bash, zsh and fish; none missing, none that does not
# exist.  Then each file is loaded by its shell, when that shell is installed
# (SKIP otherwise), and completing a command's prefix yields the command.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
bin="$build/vfio-hooks"
comp=${COMPLETION_DIR:-$top/completion}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skip=0
check() { if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL completion/$1: $3"; fi; }

# The options of a help text: every option in its usage lines, and the
# leading options of its option lines ("  -n, --numeric   ...").
opts_of() {
	sed -nE -e '/^(Usage: | +)vfio-hooks /{s/^(Usage: | +)vfio-hooks //;p;}' \
		-e '/^ +-/{s/^ +((-[-a-zA-Z]+,? )+).*/\1/;p;}' |
		grep -oE '(^|[][ |,])--?[a-zA-Z][-a-zA-Z]*' | tr -d '[]|, ' | sort -u
}
# What --help says, as "LEVEL WORD" lines: LEVEL '-' before the command.
"$bin" --help >"$tmp/help" 2>&1
cmds=$(sed -n '/^Commands:/,/^$/p' "$tmp/help" | awk 'NR > 1 && NF {print $1}')
[ -n "$cmds" ]; check commands-in-help $? "no commands in '$bin --help'"
{
	for c in $cmds; do echo "- $c"; done
	sed -n '/^Options:/,/^$/p' "$tmp/help" | opts_of | sed 's/^/- /'
	for c in $cmds; do "$bin" "$c" --help 2>&1 | opts_of | sed "s/^/$c /"; done
} | sort -u >"$tmp/want"
grep -q -- '^bind --persist$' "$tmp/want"; check options-in-help $? "no 'bind --persist' in the help texts"

# What each file offers, as the same lines, read from the file's own tables.
# bash: cmds="..." and one 'COMMAND) opts="..." ;;' line per command.
offered_bash() {
	sed -nE 's/^[[:space:]]*local cmds="([^"]*)"/\1/p' "$1" | tr ' ' '\n' | sed '/^$/d; s/^/- /'
	sed -nE 's/^[[:space:]]*(""|[-a-z|]+)\) opts="([^"]*)".*/\1 \2/p' "$1" | sed 's/^""/-/' |
		while read -r cs os; do
			for c in ${cs//|/ }; do for o in $os; do echo "$c $o"; done; done
		done
}
# zsh: the cmds=( 'NAME:...' ) array, the option specs of the first
# _arguments (before the command), then those of each 'COMMAND)' arm.
offered_zsh() {
	awk '/^[[:space:]]*local -a cmds=\(/ { incmds = 1; next }
		incmds && /^[[:space:]]*\)/ { incmds = 0 }
		incmds && match($0, /'"'"'[a-z][-a-z]*:/) { print "- " substr($0, RSTART + 1, RLENGTH - 2) }
		/case \$words\[1\] in/ { inarms = 1 }
		inarms && /^[[:space:]]*[-a-z|]+\)[[:space:]]*$/ { gsub(/[[:space:])]/, ""); level = $0; next }
		/case \$state in/ { done = 1 }
		(!done || level != "") && match($0, /'"'"'(\([^)]*\))?\*?--?[a-zA-Z][-a-zA-Z]*[=[]/) {
			o = substr($0, RSTART + 1, RLENGTH - 2); sub(/^\([^)]*\)/, "", o); sub(/^\*/, "", o)
			n = split(level == "" ? "-" : level, ls, "|"); for (i = 1; i <= n; i++) print ls[i], o
		}' "$1"
}
# fish: one 'complete' line per option (-l, -s) or command (-a NAME), for
# the commands its condition names or, with 'not', before the command.
offered_fish() {
	awk '$1 == "complete" {
		if (match($0, /-n "not __fish_seen_subcommand_from/)) lv = "-"
		else if (match($0, /-n .__fish_seen_subcommand_from [-a-z ]+/)) {
			lv = substr($0, RSTART, RLENGTH); sub(/.*_from /, "", lv) }
		else next
		n = split(lv, ls, " "); o = ""
		if (match($0, / -s [a-zA-Z] /)) o = o " -" substr($0, RSTART + 4, 1)
		if (match($0, / -l [a-z][-a-z]*/)) o = o " --" substr($0, RSTART + 4, RLENGTH - 4)
		if (o == "" && lv == "-" && match($0, / -a [a-z][-a-z]* /)) o = " " substr($0, RSTART + 4, RLENGTH - 5)
		m = split(o, os, " "); for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print ls[i], os[j]
	}' "$1"
}
for sh in bash zsh fish; do
	case $sh in bash) f=$comp/vfio-hooks.bash ;; zsh) f=$comp/_vfio-hooks ;; fish) f=$comp/vfio-hooks.fish ;; esac
	"offered_$sh" "$f" | sort -u >"$tmp/$sh"
	miss=$(comm -23 "$tmp/want" "$tmp/$sh" | tr '\n' ';')
	[ -z "$miss" ]; check "$sh-lacks-none" $? "$(basename "$f") lacks (command option): $miss"
	extra=$(comm -13 "$tmp/want" "$tmp/$sh" | tr '\n' ';')
	[ -z "$extra" ]; check "$sh-offers-no-other" $? "$(basename "$f") offers what --help does not (command option): $extra"
done

# Loaded by each shell: completing a command's prefix (and an option's)
# yields it.
# shellcheck disable=SC2016
got=$(bash --norc --noprofile -c 'source "$1"; COMP_WORDS=(vfio-hooks b); COMP_CWORD=1; _vfio_hooks
	echo "${COMPREPLY[*]}"; COMP_WORDS=(vfio-hooks unbind --p); COMP_CWORD=2; _vfio_hooks; echo "${COMPREPLY[*]}"' \
	bash "$comp/vfio-hooks.bash" 2>&1)
[ "$got" = "bind
--persist" ]; check bash-completes $? "bash completes 'vfio-hooks b' and 'vfio-hooks unbind --p' as: $got"
if command -v fish >/dev/null; then
	# shellcheck disable=SC2016
	got=$(HOME=$tmp fish --no-config -c 'source $argv[1]; complete --do-complete "vfio-hooks b"; complete --do-complete "vfio-hooks unbind --p"' \
		"$comp/vfio-hooks.fish" 2>&1 | cut -f1)
	[ "$got" = "bind
--persist" ]; check fish-completes $? "fish completes 'vfio-hooks b' and 'vfio-hooks unbind --p' as: $got"
else
	skip=$((skip + 1)); echo "SKIP completion/fish-completes: no fish (apt-get install fish)"
fi
if command -v zsh >/dev/null; then
	zsh -n "$comp/_vfio-hooks"; check zsh-parses $? "zsh -n $comp/_vfio-hooks fails"
	# compinit finds the function by its #compdef line, autoloads it and
	# completes with it (in a pseudo-terminal: completion needs the line
	# editor).
	mkdir -p "$tmp/fpath" && cp "$comp/_vfio-hooks" "$tmp/fpath/"
	got=$(HOME=$tmp ZDOTDIR=$tmp zsh -f "$(dirname "$0")/zsh-complete.zsh" "$tmp/fpath" 'vfio-hooks b' 'vfio-hooks unbind --p' 2>&1)
	[ "$got" = "bind
--persist" ]; check zsh-completes $? "zsh completes 'vfio-hooks b' and 'vfio-hooks unbind --p' as: $got"
else
	skip=$((skip + 1)); echo "SKIP completion/zsh-completes: no zsh (apt-get install zsh)"
fi
echo "completion: $pass passed, $fail failed"
[ $fail = 0 ]
