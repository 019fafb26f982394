#!/bin/bash
# Baseline "release end": undo the journal in reverse: reset where allowed,
# reset_method, driver_override and the original driver back.  Never fails
# the stop; what it cannot restore stays in the journal.
. "${BASH_SOURCE[0]%/*}/lib.sh"
bl_load_conf
bl_state_dir
[[ ${BL_LOCKED:-0} = 1 ]] || bl_lock
J=$S/$BL_UUID.journal.baseline
[[ -e $J ]] || exit 0
devs=()
while IFS= read -r line; do
	[[ $line == dev\|* ]] && devs+=("$line")
done <"$J"
left=0
for ((i = ${#devs[@]} - 1; i >= 0; i--)); do
	IFS='|' read -r _ a o_drv o_ov o_hasrm o_rm target <<<"${devs[i]}"
	D=$R/sys/bus/pci/devices/$a
	[[ -d $D/ ]] || { bl_logmsg "$a: the device is gone"; continue; }
	bl_link "$D/driver"; cur=$REPLY
	bl_read "$D/driver_override"; cur_ov=$REPLY; [[ $cur_ov == "(null)" ]] && cur_ov=""
	cur_hasrm=0; bl_read "$D/reset_method" && cur_hasrm=1; cur_rm=$REPLY
	[[ ${BL_FAKE:-0} = 1 ]] && cur=$target cur_ov=$target
	p=""
	bl_read "$D/vendor"; v=$REPLY; bl_read "$D/device"; bl_profile_match "$v" "$REPLY" 0 0 0; p=$REPLY
	rr=yes; [[ -n $p ]] && rr=${P_RESET_ON_RELEASE[$p]}
	if [[ $rr == yes && $cur_hasrm = 1 && -n $cur_rm && $cur == vfio* && -e $D/reset ]]; then
		echo 1 >"$D/reset" 2>/dev/null && bl_logmsg "$a: reset"
	fi
	if [[ $o_hasrm = 1 && $cur_hasrm = 1 && $cur_rm != "$o_rm" ]]; then
		echo "$o_rm" >"$D/reset_method" || { left=$((left + 1)); continue; }
	fi
	if [[ $cur != "$o_drv" || $cur_ov != "$o_ov" ]]; then
		if bl_move_driver "$a" "$o_drv" "$o_ov" "$cur"; then
			bl_logmsg "$a: back on ${o_drv:-no driver}"
		else
			left=$((left + 1)); echo "failed $a" >>"$J"
		fi
	fi
done
((left)) || rm -f "$J"
bl_flush_log
exit 0
