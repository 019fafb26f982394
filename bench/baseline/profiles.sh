# shellcheck shell=bash
# The shipped profiles (xml/profiles/*.xml) as a shell table, written by
# hand: a shell implementation would not validate XML profiles against a
# schema on every run (the hook does), so the baseline gets them for free.
#
# P_MATCH: "vendor:device" (a device list) or "vendor:class/mask" lines.
declare -A P_Q35=() P_VIOMMU=() P_INTREMAP=() P_IOAPIC=() P_RESET=() P_RESET_ON_RELEASE=() P_COMP=()
P_IDS=(qcom-aic100 hailo-8 rebellions-npu intel-flex nvidia-gpu)
declare -A P_DEVICES=(
	[qcom-aic100]="0x17cb:0xa100 0x17cb:0xa080 0x17cb:0xa110"
	[hailo-8]="0x1e60:0x2864"
	[intel-flex]="0x8086:0x56c0 0x8086:0x56c1"
)
declare -A P_CLASS=(
	[rebellions-npu]="0x1eff:0x120000/0xff0000"
	[nvidia-gpu]="0x10de:0x030000/0xff0000"
)
P_Q35[qcom-aic100]=1 P_VIOMMU[qcom-aic100]=1 P_INTREMAP[qcom-aic100]=1 P_IOAPIC[qcom-aic100]=1
P_Q35[rebellions-npu]=1
P_RESET[hailo-8]="" # emptied while assigned
P_RESET_ON_RELEASE=([hailo-8]=no [qcom-aic100]=yes [rebellions-npu]=yes [intel-flex]=yes [nvidia-gpu]=yes)
P_COMP=([hailo-8]=refuse [qcom-aic100]=refuse [rebellions-npu]=refuse [intel-flex]=refuse [nvidia-gpu]=same-device)

# bl_profile_match VENDOR DEVICE CLASS SVENDOR SDEVICE -> REPLY (id or "")
# The most specific wins: a device list before a class.
bl_profile_match() {
	local v=$(($1)) d=$(($2)) c=$(($3)) id e ev ed cls mask
	REPLY=""
	for id in "${!P_DEVICES[@]}"; do
		for e in ${P_DEVICES[$id]}; do
			ev=$((${e%%:*})) ed=$((${e#*:}))
			((v == ev && d == ed)) && { REPLY=$id; return 0; }
		done
	done
	for id in "${!P_CLASS[@]}"; do
		e=${P_CLASS[$id]}
		ev=$((${e%%:*})) cls=${e#*:} mask=$((${cls#*/})) cls=$((${cls%/*}))
		((v == ev && (c & mask) == cls)) && { REPLY=$id; return 0; }
	done
	return 0
}
