#!/usr/bin/env python3
"""Apply the fixes vfio-qemu-wrapper --check --json suggests to a QEMU
command line, the way a user would: a -machine fix is added (QEMU merges
repeated -machine options), a -device intel-iommu fix replaces every
vIOMMU and goes before the first vfio-pci device, a -device vfio-pci fix
is added.  Reads the report on stdin, the command line as arguments;
prints the new command line, one argument per line."""
import json, sys

report, argv = json.load(sys.stdin), sys.argv[1:]

def is_iommu(i):
    return i > 0 and argv[i - 1] in ("-device", "--device") and (
        argv[i].startswith("intel-iommu") or '"intel-iommu"' in argv[i])

def first_vfio():
    for i in range(1, len(argv)):
        if argv[i - 1] in ("-device", "--device") and "vfio-pci" in argv[i]:
            return i - 1
    return len(argv)

for f in report["findings"]:
    fix = (f.get("fix") or "").split("\n")
    for line in fix:
        words = line.split()
        if len(words) < 2 or not words[0].startswith("-"):
            continue
        opt, val = words[0], words[1]
        if opt == "-machine":
            argv += [opt, val]
        elif opt == "-device" and val.startswith("intel-iommu"):
            keep = []
            i = 0
            while i < len(argv):
                if i + 1 < len(argv) and is_iommu(i + 1):
                    i += 2
                    continue
                keep.append(argv[i]); i += 1
            argv[:] = keep
            at = first_vfio()
            argv[at:at] = [opt, val]
        elif opt == "-device":
            argv += [opt, val]
print("\n".join(argv))
