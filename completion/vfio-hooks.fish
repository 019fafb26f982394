# fish completion for vfio-hooks
# tests/completion/run.sh checks its commands and options against --help.
set -l cmds check list doctor snapshot bind unbind recover
complete -c vfio-hooks -f
# Before the command: the global options and the commands.
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -l root -x -a '(__fish_complete_directories)' -d 'read /sys, /proc and /dev under DIR'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -l profiles -x -a '(__fish_complete_directories)' -d 'load device profiles from DIR'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -l companions -x -a 'refuse same-device any' -d 'IOMMU group companions the hook may bind'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -l json -d 'machine-readable output'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -s n -l numeric -d 'show PCI IDs, not names'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -s h -l help -d 'this help'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -l version -d 'the version'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -a check -d 'judge a domain XML'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -a list -d 'the devices that matter for passthrough'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -a doctor -d 'is the host (or this VM) ready?'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -a snapshot -d 'capture what vfio-hooks reads'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -a bind -d 'bind devices to vfio now (and at every boot)'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -a unbind -d 'give devices back to the host'
complete -c vfio-hooks -n "not __fish_seen_subcommand_from $cmds" -a recover -d 'finish every undo left in the journals'
# Each command's own options and arguments.
complete -c vfio-hooks -n '__fish_seen_subcommand_from check' -l domain -x -a '(virsh -r list --all --name 2>/dev/null)' -d 'a domain defined in libvirt'
complete -c vfio-hooks -n '__fish_seen_subcommand_from check' -l all -d 'every defined domain'
complete -c vfio-hooks -n '__fish_seen_subcommand_from check' -l connect -x -d 'the libvirt URI'
complete -c vfio-hooks -n '__fish_seen_subcommand_from check' -k -a '(__fish_complete_suffix .xml)'
complete -c vfio-hooks -n '__fish_seen_subcommand_from list' -l all -d 'every PCI function'
complete -c vfio-hooks -n '__fish_seen_subcommand_from doctor' -l guest -d 'check the VM this runs in'
complete -c vfio-hooks -n '__fish_seen_subcommand_from snapshot' -s o -r -F -d 'the archive to write (- for standard output)'
complete -c vfio-hooks -n '__fish_seen_subcommand_from bind unbind' -l persist -d 'also at every boot'
complete -c vfio-hooks -n '__fish_seen_subcommand_from recover' -l force -d 'undo the journals of running domains too'
complete -c vfio-hooks -n '__fish_seen_subcommand_from doctor bind unbind' -a '(ls /sys/bus/pci/devices 2>/dev/null)' -d 'PCI device'
