#!/bin/bash
# Baseline "prepare begin": check the domain, refuse it in enforce mode,
# then (journaled) apply reset_method and bind managed='no' devices and
# allowed companions to vfio-pci.  Any failure rolls back.
. "${BASH_SOURCE[0]%/*}/lib.sh"
bl_load_conf
bl_parse_domain "$BL_XML_TEXT" || exit 1
bl_mode_now; mode=$REPLY
[[ $mode == off ]] && exit 0
bl_check
if ((n_error)); then
	if [[ $mode == enforce ]]; then
		{
			echo "vfio-hooks refuses to start domain '$1': $n_error problems with its PCI passthrough:"
			printf '%s\n' "${findings[@]}"
		} >&2
		bl_logmsg "$1: refused: ${findings[*]}"; bl_flush_log
		exit 1
	fi
	bl_logmsg "$1: $n_error error findings, starting anyway (mode warn)"
fi
[[ $dom_uuid =~ ^[0-9a-fA-F-]{36}$ ]] || bl_die "the domain '$1' has no valid <uuid>"

# The plan: every present hostdev, then the companions.
plan=() plan_bind=() plan_rm=() plan_setrm=()
for ((i = 0; i < ${#hd_addr[@]}; i++)); do
	[[ -n ${dev_driver[i]+x} ]] || continue # missing
	plan+=("${hd_addr[i]}")
	if [[ ${hd_managed[i]} == no && $bl_bind_unmanaged == yes ]]; then plan_bind+=(1); else plan_bind+=(0); fi
	p=${dev_profile[i]}
	if [[ ${dev_has_rm[i]} = 1 && -n $p && -v P_RESET[$p] ]]; then
		plan_setrm+=(1) plan_rm+=("${P_RESET[$p]}")
	else
		plan_setrm+=(0) plan_rm+=("")
	fi
done
for c in "${companions[@]}"; do plan+=("$c") plan_bind+=(1) plan_setrm+=(0) plan_rm+=(""); done
((${#plan[@]})) || exit 0

bl_state_dir
bl_lock
J=$S/$dom_uuid.journal.baseline
# A journal left by a crash: undo it first (release.sh does the work).
if [[ -e $J ]]; then
	BL_LOCKED=1 BL_UUID=$dom_uuid bash "${BASH_SOURCE[0]%/*}/release.sh" "$1" || exit 1
fi
# Another domain holding one of the devices?
for f in "$S"/*.journal.baseline; do
	[[ -e $f && $f != "$J" ]] || continue
	while IFS='|' read -r k a _; do
		[[ $k == dev ]] || continue
		for x in "${plan[@]}"; do
			[[ $a == "$x" ]] && bl_die "[device-busy] $x is held by $f"
		done
	done <"$f"
done

# Record every device's state, sync, then touch them.
{
	echo "vfio-hooks-baseline-journal 1"
	echo "domain $1"
	for ((i = 0; i < ${#plan[@]}; i++)); do
		a=${plan[i]} D=$R/sys/bus/pci/devices/${plan[i]}
		bl_link "$D/driver"; drv=$REPLY
		bl_read "$D/driver_override"; ov=$REPLY; [[ $ov == "(null)" ]] && ov=""
		has_rm=0; bl_read "$D/reset_method" && has_rm=1; rm=$REPLY
		target=vfio-pci; ((plan_bind[i])) || target=$drv
		echo "dev|$a|$drv|$ov|$has_rm|$rm|$target"
		orig_drv[i]=$drv orig_rm[i]=$rm
	done
} >"$J" || bl_die "cannot write $J"
sync -d "$J"

rollback() {
	bl_logmsg "$1: rolling back"
	BL_LOCKED=1 BL_UUID=$dom_uuid bash "${BASH_SOURCE[0]%/*}/release.sh" "$1"
	bl_flush_log
	exit 1
}
for ((i = 0; i < ${#plan[@]}; i++)); do
	a=${plan[i]}
	if ((plan_setrm[i])) && [[ ${orig_rm[i]} != "${plan_rm[i]}" ]]; then
		echo "${plan_rm[i]}" >"$R/sys/bus/pci/devices/$a/reset_method" || rollback "$1"
		bl_logmsg "$1: $a: reset_method '${orig_rm[i]}' -> '${plan_rm[i]}'"
	fi
	if ((plan_bind[i])) && [[ ${orig_drv[i]} != vfio-pci ]]; then
		bl_move_driver "$a" vfio-pci vfio-pci "${orig_drv[i]}" || rollback "$1"
		bl_logmsg "$1: $a: bound ${orig_drv[i]:-(none)} -> vfio-pci"
	fi
done
echo prepared >>"$J"
bl_flush_log
exit 0
