# zsh -f zsh-complete.zsh FPATH-DIR LINE...: what zsh's completion system
# (compinit, then the function its #compdef line names) offers at the end
# of each LINE, one match a line.  An interactive zsh in a pseudo-terminal
# (zpty) completes each LINE with its compadd recording the matches in a
# file, then exits; this reads the file.
zmodload zsh/zpty || exit 2
dir=$1; shift
out=$dir/matches
: >$out
zpty vh zsh -f -i
zpty -w vh "fpath=(${(q)dir} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w vh "compadd() { local -a m; builtin compadd -O m \"\$@\"; (( \$#m )) && print -rl -- \$m >>${(q)out}; builtin compadd \"\$@\"; }"
zpty -w vh "zstyle ':completion:*' list-grouped false; bindkey '^I' complete-word"
for line in "$@"; do
	# The line, a completion, then the line killed.
	zpty -w -n vh "$line"$'\t\C-a\C-k'
done
zpty -w vh 'exit'
# Until the shell exits (zpty -r fails at its end of file).
while zpty -r vh chunk; do :; done
zpty -d vh
cat $out
