# bash completion for vfio-hooks
# tests/completion/run.sh checks its commands and options against --help.
_vfio_hooks()
{
	local cur prev cmd='' opts i
	local cmds="check list doctor snapshot bind unbind attach-device detach-device recover"
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case " $cmds " in *" ${COMP_WORDS[i]} "*) cmd=${COMP_WORDS[i]}; break ;; esac
	done
	case $prev in
	--root|--profiles) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--companions) COMPREPLY=($(compgen -W "refuse same-device any" -- "$cur")); return ;;
	-o) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--domain)
		COMPREPLY=($(compgen -W "$(virsh -r list --all --name 2>/dev/null)" -- "$cur")); return ;;
	--connect) return ;;
	esac
	case $cmd in
	"") opts="--root --profiles --companions --json -n --numeric -h --help --version" ;;
	check) opts="--domain --all --connect" ;;
	list) opts="--all" ;;
	doctor) opts="--guest" ;;
	snapshot) opts="-o" ;;
	bind|unbind) opts="--persist" ;;
	attach-device) opts="--live --config --connect" ;;
	detach-device) opts="--live --config --connect --timeout" ;;
	recover) opts="--force" ;;
	esac
	case $cmd in
	"") COMPREPLY=($(compgen -W "$cmds $opts" -- "$cur")) ;;
	check) COMPREPLY=($(compgen -W "$opts -" -- "$cur") $(compgen -f -X '!*.xml' -- "$cur")) ;;
	doctor|bind|unbind)
		COMPREPLY=($(compgen -W "$opts $(ls /sys/bus/pci/devices 2>/dev/null)" -- "$cur")) ;;
	attach-device|detach-device)
		COMPREPLY=($(compgen -W "$opts $(virsh -r list --name 2>/dev/null)" -- "$cur") $(compgen -f -X '!*.xml' -- "$cur")) ;;
	*) COMPREPLY=($(compgen -W "$opts" -- "$cur")) ;;
	esac
}
complete -F _vfio_hooks vfio-hooks
