#!/bin/bash
# Baseline "start begin": every hostdev on a vfio driver before QEMU opens
# it, reset quirks still in place.
. "${BASH_SOURCE[0]%/*}/lib.sh"
bl_load_conf
bl_parse_domain "$BL_XML_TEXT" || exit 1
bl_mode_now; [[ $REPLY == off ]] && exit 0
bl_check
for ((i = 0; i < ${#hd_addr[@]}; i++)); do
	a=${hd_addr[i]} D=$R/sys/bus/pci/devices/${hd_addr[i]}
	[[ -n ${dev_driver[i]+x} ]] || continue
	# The state, as the hook's verify reads it.
	bl_link "$D/driver"; cur=$REPLY
	bl_read "$D/driver_override"
	bl_read "$D/reset_method"; rm=$REPLY
	[[ ${BL_FAKE:-0} = 1 && ${hd_managed[i]} == no ]] && cur=vfio-pci
	if [[ $cur != vfio* ]]; then
		echo "vfio-hooks-baseline: $a is on driver ${cur:-(none)}, not on a vfio driver" >&2
		[[ ${dom_meta_mode:-$bl_mode} == warn ]] && exit 0
		exit 1
	fi
	p=${dev_profile[i]}
	if [[ -n $p && -v P_RESET[$p] && $rm != "${P_RESET[$p]}" ]]; then
		echo "${P_RESET[$p]}" >"$D/reset_method"
	fi
done
exit 0
