# shellcheck shell=bash
# The shell baseline's library: the job of vfio-hooks' hook and its check,
# written the way a careful shell programmer would write it, for the
# benchmark (bench/run.sh) to compare against.  Not a product: it knows the
# shipped profiles as a table (profiles.sh), parses the domain XML with one
# xmllint call, reads and writes the same sysfs files as the hook.
#
# To keep it fast (an honest baseline is the best shell version, not a
# strawman): attributes are read with the builtin `read`, symlinks to
# directories are resolved with the builtin `cd -P` (no readlink fork),
# IOMMU groups are listed by globbing; external programs are forked only
# where bash cannot do the job: xmllint (the XML), od (binary config
# space), flock (the lock), sync (the journal), logger (syslog, once per
# run).
#
# BL_FAKE=1 (set by the benchmark): the sysroot is a plain directory tree,
# with no kernel behind it: writes land in files and no driver link ever
# changes.  The reads are still made, but the decisions that depend on a
# driver having moved take the value a real kernel would show.  Same files
# read, same files written, same count.

BL_DIR=${BL_DIR:-$(cd "${BASH_SOURCE[0]%/*}" && pwd)}
# shellcheck source=profiles.sh
. "$BL_DIR/profiles.sh"

R=""               # the sysroot ("" for /)
bl_mode=enforce bl_bind_unmanaged=yes bl_companions=same-device
bl_log=()

bl_die() { echo "vfio-hooks-baseline: $*" >&2; exit 1; }
bl_logmsg() { bl_log+=("$*"); }
bl_flush_log() {
	((${#bl_log[@]})) || return 0
	printf '%s\n' "${bl_log[@]}" | logger -t vfio-hooks-baseline 2>/dev/null
	return 0
}

# The configuration: VFIO_HOOKS_CONF, "key = value" lines.
bl_load_conf() {
	local f=${VFIO_HOOKS_CONF:-/etc/vfio-hooks/vfio-hooks.conf} k v line
	[[ -r $f ]] || return 0
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%%#*}
		[[ $line == *=* ]] || continue
		k=${line%%=*}; k=${k//[[:space:]]/}
		v=${line#*=}; v=${v#"${v%%[![:space:]]*}"}; v=${v%"${v##*[![:space:]]}"}
		case $k in
		root) R=${v%/}; [[ $R == / ]] && R="" ;;
		mode) bl_mode=$v ;;
		bind_unmanaged) bl_bind_unmanaged=$v ;;
		companions) bl_companions=$v ;;
		timeout | lock_timeout | profiles | log_level) ;;
		*) bl_die "$f: unknown key '$k'" ;;
		esac
	done <"$f"
}

# ------------------------------------------------------------------ domain
# One xmllint call; fills dom_* and the hostdev arrays hd_addr, hd_managed.
bl_parse_domain() { # XML-TEXT
	local out line k v managed=no d="" b="" s="" fn=""
	dom_name="" dom_uuid="" dom_vcpus=1 dom_machine="" dom_arch=x86_64
	dom_ioapic="" dom_iommu_model="" dom_intremap="" dom_caching="" dom_eim=""
	dom_iommu_misplaced=0 dom_meta_mode=""
	hd_addr=() hd_managed=()
	out=$(xmllint --nonet --noent --xpath "/domain/name | /domain/uuid | /domain/vcpu \
| /domain/os/type/@machine | /domain/os/type/@arch | /domain/features/ioapic/@driver \
| /domain/features/iommu | /domain/devices/iommu/@model | /domain/devices/iommu/driver/@* \
| /domain/devices/hostdev[@mode='subsystem' and @type='pci']/@managed \
| /domain/devices/hostdev[@mode='subsystem' and @type='pci']/source/address/@* \
| /domain/devices/interface[@type='hostdev']/@managed \
| /domain/devices/interface[@type='hostdev']/source/address/@* \
| /domain/metadata/*[local-name()='settings']/*[local-name()='mode']" - <<<"$1" 2>&1)
	case $? in
	0 | 10) ;; # 10: the expression matched nothing
	*) echo "vfio-hooks-baseline: malformed domain XML: ${out%%$'\n'*}" >&2; return 1 ;;
	esac
	while IFS= read -r line; do
		case $line in
		'<name>'*) v=${line#<name>}; dom_name=${v%</name>} ;;
		'<uuid>'*) v=${line#<uuid>}; dom_uuid=${v%</uuid>} ;;
		'<vcpu'*) v=${line#*>}; dom_vcpus=${v%<*} ;;
		'<iommu'*) dom_iommu_misplaced=1 ;;
		*'mode>'*) v=${line#*>}; dom_meta_mode=${v%<*} ;;
		' '*=*)
			k=${line# }; k=${k%%=*}
			v=${line#*=\"}; v=${v%\"}
			case $k in
			machine) dom_machine=$v ;;
			arch) dom_arch=$v ;;
			driver) dom_ioapic=$v ;;
			model) dom_iommu_model=$v ;;
			intremap) dom_intremap=$v ;;
			caching_mode) dom_caching=$v ;;
			eim) dom_eim=$v ;;
			managed) managed=$v ;;
			domain) d=$v ;;
			bus) b=$v ;;
			slot) s=$v ;;
			function)
				fn=$v
				bl_fmt_addr "$d" "$b" "$s" "$fn" || {
					echo "[bad-address] hostdev $d:$b:$s.$fn" >&2
					return 1
				}
				hd_addr+=("$REPLY") hd_managed+=("$managed")
				managed=no
				;;
			esac
			;;
		esac
	done <<<"$out"
	return 0
}

bl_fmt_addr() { # DOMAIN BUS SLOT FUNCTION -> REPLY=DDDD:BB:SS.F
	local d=$(($1)) b=$(($2)) s=$(($3)) f=$(($4))
	((d <= 0xffff && b <= 0xff && s <= 0x1f && f <= 7)) || return 1
	((d || b || s || f)) || return 1
	printf -v REPLY '%04x:%02x:%02x.%x' "$d" "$b" "$s" "$f"
}

# ------------------------------------------------------------------ sysfs
# bl_read FILE -> REPLY (first line), status 1 when unreadable
bl_read() { REPLY=""; IFS= read -r REPLY 2>/dev/null <"$1" || [[ -n $REPLY ]]; }
# The last component of a directory symlink's target, without a fork.
bl_link() { # PATH -> REPLY ("" when absent)
	REPLY=""
	[[ -L $1 ]] || return 1
	cd -P "$1" 2>/dev/null || return 1
	REPLY=${PWD##*/}
	cd / || return 1
}

# The device's attributes, as lib/pci.c reads them: IDs, class, driver,
# driver_override, IOMMU group, reset_method, reset, config space (MSI and
# MSI-X capabilities), SR-IOV.  Sets dv_*.
bl_read_dev() { # ADDR
	local D=$R/sys/bus/pci/devices/$1 cfg ptr id n=0
	dv_present=0 dv_vendor="" dv_device="" dv_class="" dv_svendor="" dv_sdevice=""
	dv_driver="" dv_override="" dv_group=-1 dv_reset_method="" dv_has_rm=0
	dv_has_reset=0 dv_msi=0 dv_msix=0 dv_physfn="" dv_totalvfs=0 dv_numvfs=0
	[[ -d $D/ ]] || return 1
	dv_present=1
	bl_read "$D/vendor" && dv_vendor=$REPLY
	bl_read "$D/device" && dv_device=$REPLY
	bl_read "$D/class" && dv_class=$REPLY
	bl_read "$D/subsystem_vendor" && dv_svendor=$REPLY
	bl_read "$D/subsystem_device" && dv_sdevice=$REPLY
	bl_read "$D/revision"
	bl_link "$D/driver" && dv_driver=$REPLY
	bl_read "$D/driver_override" && dv_override=$REPLY
	[[ $dv_override == "(null)" ]] && dv_override=""
	bl_link "$D/iommu_group" && dv_group=$REPLY
	if bl_read "$D/reset_method"; then dv_has_rm=1 dv_reset_method=$REPLY; fi
	[[ -e $D/reset ]] && dv_has_reset=1
	# Config space: the capability list, for MSI (0x05) and MSI-X (0x11).
	cfg=($(od -An -v -tu1 -N256 "$D/config" 2>/dev/null))
	if ((${#cfg[@]} >= 64 && (cfg[6] & 0x10))); then
		ptr=$((cfg[0x34] & 0xfc))
		while ((ptr >= 0x40 && ptr + 3 < ${#cfg[@]} && n++ < 48)); do
			id=${cfg[ptr]}
			if ((id == 0x05)); then
				dv_msi=$((1 << ((cfg[ptr + 2] >> 1) & 7)))
			elif ((id == 0x11)); then
				dv_msix=$(((cfg[ptr + 2] | (cfg[ptr + 3] << 8)) & 0x7ff))
				dv_msix=$((dv_msix + 1))
			fi
			ptr=$((cfg[ptr + 1] & 0xfc))
		done
	fi
	bl_link "$D/physfn" && dv_physfn=$REPLY
	bl_read "$D/sriov_totalvfs" && dv_totalvfs=$REPLY
	bl_read "$D/sriov_numvfs" && dv_numvfs=$REPLY
	return 0
}

# ------------------------------------------------------------------ check
# The rules of lib/check.c that a domain of plain devices exercises:
# presence, duplicates, profile needs (q35, Intel vIOMMU with intremap and
# caching mode, split I/O APIC), multi-vector MSI without MSI-X, caching
# mode with any VFIO device, vIOMMU under <features>, EIM, group viability
# and companions.  Fills findings (one line each) and n_error, companions.
bl_check() {
	local i j a g m seen prof need_q35=0 need_viommu=0 need_intremap=0 need_ioapic=0
	local -A in_dom=() groups_done=()
	findings=() n_error=0 companions=() dev_profile=() dev_driver=() dev_rm=() dev_has_rm=()
	for a in "${hd_addr[@]}"; do
		[[ -n ${in_dom[$a]:-} ]] && { findings+=("error[device-duplicate] $a"); n_error=$((n_error + 1)); }
		in_dom[$a]=1
	done
	for ((i = 0; i < ${#hd_addr[@]}; i++)); do
		a=${hd_addr[i]}
		if ! bl_read_dev "$a"; then
			findings+=("error[device-missing] $a"); n_error=$((n_error + 1))
			continue
		fi
		dev_driver[i]=$dv_driver dev_rm[i]=$dv_reset_method dev_has_rm[i]=$dv_has_rm
		bl_profile_match "$dv_vendor" "$dv_device" "$dv_class" "$dv_svendor" "$dv_sdevice"
		prof=$REPLY dev_profile[i]=$REPLY
		if [[ -n $prof ]]; then
			[[ ${P_Q35[$prof]:-0} = 1 ]] && need_q35=1
			[[ ${P_VIOMMU[$prof]:-0} = 1 ]] && need_viommu=1
			[[ ${P_INTREMAP[$prof]:-0} = 1 ]] && need_intremap=1
			[[ ${P_IOAPIC[$prof]:-0} = 1 ]] && need_ioapic=1
		fi
		if ((dv_msi > 1 && dv_msix == 0)); then
			need_q35=1 need_viommu=1 need_intremap=1 need_ioapic=1
		fi
		((dv_group < 0)) && { findings+=("error[host-iommu-off] $a"); n_error=$((n_error + 1)); continue; }
		# Group viability: every other endpoint of the group is free or
		# in this domain (reported once per group).
		[[ -n ${groups_done[$dv_group]:-} ]] && continue
		groups_done[$dv_group]=1
		g=$dv_group
		for m in "$R/sys/kernel/iommu_groups/$g/devices/"*; do
			m=${m##*/}
			[[ $m == "*" || -n ${in_dom[$m]:-} ]] && continue
			bl_read "$R/sys/bus/pci/devices/$m/class"
			[[ ${REPLY:0:6} == 0x0604 ]] && continue # a bridge
			bl_link "$R/sys/bus/pci/devices/$m/driver" || continue
			case $REPLY in vfio* | *-vfio-pci | *_vfio_pci | pci-stub | "") continue ;; esac
			if [[ $bl_companions == any || ($bl_companions == same-device && ${m%.*} == "${a%.*}") ]]; then
				companions+=("$m")
				findings+=("warning[group-companions-bind] $a $m")
			else
				findings+=("error[group-not-viable] $a $m"); n_error=$((n_error + 1))
			fi
		done
	done
	((${#hd_addr[@]})) || return 0
	((dom_iommu_misplaced)) && { findings+=("error[viommu-misplaced]"); n_error=$((n_error + 1)); }
	if ((need_q35)) && [[ $dom_machine != q35* && $dom_machine != pc-q35* ]]; then
		findings+=("error[machine-q35] <type arch='$dom_arch' machine='q35'>hvm</type>"); n_error=$((n_error + 1))
	fi
	if ((need_viommu)) && [[ $dom_iommu_model != intel ]]; then
		findings+=("error[viommu-missing] <iommu model='intel'><driver intremap='on' caching_mode='on'/></iommu>"); n_error=$((n_error + 1))
	fi
	if [[ $dom_iommu_model == intel ]]; then
		if ((need_intremap)) && [[ $dom_intremap != on ]]; then
			findings+=("error[viommu-intremap]"); n_error=$((n_error + 1))
		fi
		if [[ $dom_caching != on ]]; then
			findings+=("error[viommu-caching-mode]"); n_error=$((n_error + 1))
		fi
		if [[ $dom_intremap == on ]] && ((dom_vcpus > 255)) && [[ $dom_eim != on ]]; then
			findings+=("warning[viommu-eim]")
		fi
	fi
	if [[ $dom_ioapic != qemu ]]; then
		if ((need_ioapic)) || [[ $dom_iommu_model == intel && $dom_intremap == on ]]; then
			findings+=("error[ioapic-split] <ioapic driver='qemu'/>"); n_error=$((n_error + 1))
		fi
	fi
	return 0
}

bl_mode_now() { REPLY=${dom_meta_mode:-$bl_mode}; }

# ------------------------------------------------------------------ state
bl_state_dir() {
	S=$R/run/vfio-hooks
	mkdir -p "$S" 2>/dev/null || [[ -d $S ]] || bl_die "cannot create $S"
	[[ -L $S ]] && bl_die "$S is a symlink"
	return 0
}
bl_lock() {
	exec 9>>"$S/lock.baseline" || bl_die "cannot open the lock"
	flock -w 60 9 || bl_die "cannot take $S/lock.baseline"
}

# Move ADDR from its driver to TARGET ("" = none), as lib/engine.c does:
# driver_override, unbind, drivers_probe, then the driver link.  EXPECT_CUR
# is the driver a real kernel would show now (for BL_FAKE).
bl_move_driver() { # ADDR TARGET OVERRIDE EXPECT_CUR
	local a=$1 target=$2 ov=$3 D=$R/sys/bus/pci/devices/$1 cur
	if [[ -n $target && ! -e $R/sys/bus/pci/drivers/$target ]]; then
		echo "vfio-hooks-baseline: $a: driver $target is not loaded" >&2
		return 1
	fi
	echo "${ov:-}" >"$D/driver_override" || return 1
	bl_link "$D/driver"; cur=$REPLY
	[[ ${BL_FAKE:-0} = 1 ]] && cur=$4
	[[ -n $cur && $cur == "$target" ]] && return 0
	if [[ -n $cur ]]; then
		bl_logmsg "$a: unbinding from $cur"
		echo "$a" >"$R/sys/bus/pci/drivers/$cur/unbind" || return 1
	fi
	[[ -n $target ]] || return 0
	echo "$a" >"$R/sys/bus/pci/drivers_probe" 2>/dev/null
	bl_link "$D/driver"; cur=$REPLY
	[[ ${BL_FAKE:-0} = 1 ]] && cur=$target
	if [[ $cur != "$target" ]]; then
		echo "vfio-hooks-baseline: $a: after drivers_probe the device is on ${cur:-no driver}, not $target" >&2
		return 1
	fi
	return 0
}
