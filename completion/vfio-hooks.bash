# bash completion for vfio-hooks
_vfio_hooks()
{
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		check|list|doctor|snapshot|bind|unbind|recover) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	--root|--profiles) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--companions) COMPREPLY=($(compgen -W "refuse same-device any" -- "$cur")); return ;;
	-o) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--domain)
		COMPREPLY=($(compgen -W "$(virsh -r list --all --name 2>/dev/null)" -- "$cur")); return ;;
	esac
	case $cmd in
	"") COMPREPLY=($(compgen -W "check list doctor snapshot bind unbind recover --root --profiles --companions --json --numeric --help --version" -- "$cur")) ;;
	check) COMPREPLY=($(compgen -W "--domain --all --connect -" -- "$cur") $(compgen -f -X '!*.xml' -- "$cur")) ;;
	list) COMPREPLY=($(compgen -W "--all" -- "$cur")) ;;
	doctor)
		COMPREPLY=($(compgen -W "--guest $(ls /sys/bus/pci/devices 2>/dev/null)" -- "$cur")) ;;
	snapshot) COMPREPLY=($(compgen -W "-o" -- "$cur")) ;;
	bind|unbind)
		COMPREPLY=($(compgen -W "--persist $(ls /sys/bus/pci/devices 2>/dev/null)" -- "$cur")) ;;
	esac
}
complete -F _vfio_hooks vfio-hooks
