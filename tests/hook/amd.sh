#!/usr/bin/env bash
# AMD GPUs and vendor-reset, through the hook on the fake kernel: a Radeon
# RX Vega 64 (Vega 10, 1002:687f) and its HDMI audio function.  Without
# vendor-reset loaded, prepare refuses (kernel-module-missing, mode warn
# too) and touches nothing; with it, prepare sets the GPU's reset_method to
# device_specific and binds the GPU and its audio companion to vfio-pci,
# and release gives both back exactly.  A kernel that refuses
# device_specific all the same fails prepare with a message naming the
# file, and nothing is left changed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
SUITE=amd
# shellcheck source=tests/hook/lib.sh
. "$here/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

GPU=0000:0c:00.0
AUDIO=0000:0c:00.1
SPEC='iommu AMD-Vi
driver vfio-pci
0000:00:03.1 id=1022:1453 class=0x060400 bridge pcie=4 driver=pcieport group=2 reset=none
0000:0c:00.0 id=1002:687f class=0x030000 driver=amdgpu group=15 msi=1 pcie reset=bus parent=0000:00:03.1
0000:0c:00.1 id=1002:aaf8 class=0x040300 driver=snd_hda_intel group=15 msi=1 pcie reset=bus parent=0000:00:03.1'
LOADED="$SPEC
file sys/module/vendor_reset/refcnt 0"

vm() { # NAME N [MODE]: the GPU alone, unmanaged (the hook binds it)
	echo "<domain type='kvm'><name>$1</name><uuid>$(uuid_of "$2")</uuid>"
	[ -n "${3:-}" ] && echo "<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'><vh:mode>$3</vh:mode></vh:settings></metadata>"
	echo "<memory unit='MiB'>512</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
	echo "<hostdev mode='subsystem' type='pci' managed='no'><source><address domain='0x0000' bus='0x0c' slot='0x00' function='0x0'/></source></hostdev>"
	echo "</devices></domain>"
}
no_journal() { [ -z "$(ls "$1/root/run/vfio-hooks" 2>/dev/null | grep journal)" ]; }

# vendor-reset not loaded: refused, with the rule and its fix; untouched.
D=$T/a1; fresh "$D"
vm vega-vm 1 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check no-module-refused "$([ $rc = 1 ] && grep -q "\[kernel-module-missing\] .*$GPU.*needs the kernel module vendor-reset" "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"
check no-module-fix "$(grep -q 'modprobe vendor-reset; echo vendor-reset > /etc/modules-load.d/vendor-reset.conf' "$D/stderr" && grep -q 'dkms install' "$D/stderr"; echo $?)" "stderr lacks the fix" "$D/stderr"
check no-module-untouched "$(pristine "$D" && no_journal "$D"; echo $?)" "sysroot changed or journal left" "$D/stderr"
# mode warn does not let it through: the GPU, or the host, would hang.
vm vega-vm 1 warn >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check no-module-refused-in-warn "$([ $rc = 1 ] && grep -q 'kernel-module-missing' "$D/stderr" && pristine "$D" && no_journal "$D"; echo $?)" "rc=$rc" "$D/stderr"

# vendor-reset loaded: device_specific while assigned, the audio function
# bound with the GPU; release gives both back.
D=$T/a2; fresh "$D" "$LOADED"
vm vega-vm 2 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check loaded-prepares "$([ $rc = 0 ] && [ "$(driver_of "$D" $GPU)" = vfio-pci ] && [ -e "$D/root/dev/vfio/15" ]; echo $?)" "rc=$rc driver=$(driver_of "$D" $GPU)" "$D/stderr"
check loaded-device-specific "$([ "$(reset_of "$D" $GPU)" = device_specific ]; echo $?)" "reset_method is '$(reset_of "$D" $GPU)'" "$D/stderr"
check loaded-audio-companion "$([ "$(driver_of "$D" $AUDIO)" = vfio-pci ] && [ "$(reset_of "$D" $AUDIO)" = bus ]; echo $?)" "audio on '$(driver_of "$D" $AUDIO)', reset_method '$(reset_of "$D" $AUDIO)'" "$D/stderr"
hook "$D" "$D/x.xml" start
check loaded-start "$([ $rc = 0 ]; echo $?)" "rc=$rc" "$D/stderr"
hook "$D" "$D/x.xml" release end
check loaded-released "$([ $rc = 0 ] && [ "$(driver_of "$D" $GPU)" = amdgpu ] && [ "$(driver_of "$D" $AUDIO)" = snd_hda_intel ] && [ "$(reset_of "$D" $GPU)" = bus ]; echo $?)" "rc=$rc gpu=$(driver_of "$D" $GPU) audio=$(driver_of "$D" $AUDIO) reset=$(reset_of "$D" $GPU)" "$D/stderr"
check loaded-restored "$(pristine "$D" && no_journal "$D"; echo $?)" "sysroot differs after release" "$D/stderr"

# The module is loaded but the kernel refuses device_specific all the same
# (vendor-reset did not hook this GPU): prepare fails naming the file and
# the cause, and leaves nothing changed.
D=$T/a3; fresh "$D" "$LOADED"
echo "reset_method EINVAL $GPU" >"$D/root/.fakekernel/inject"
vm vega-vm 3 >"$D/x.xml"
hook "$D" "$D/x.xml" prepare
check refused-method-fails "$([ $rc = 1 ] && grep -q "cannot write 'device_specific' to /sys/bus/pci/devices/$GPU/reset_method: Invalid argument" "$D/stderr" && grep -q 'vendor-reset' "$D/stderr"; echo $?)" "rc=$rc" "$D/stderr"
check refused-method-untouched "$(pristine "$D" && no_journal "$D"; echo $?)" "sysroot changed or journal left" "$D/stderr"

echo "amd: $pass passed, $fail failed"
[ $fail = 0 ]
