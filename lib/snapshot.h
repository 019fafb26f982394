/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A snapshot of what vfio-hooks reads from a host (PCI devices with their
 * attributes, config space and links, IOMMU groups, drivers, IOMMU units,
 * /proc/cmdline, cpuinfo, interrupts; for doctor --guest the msi_irqs of
 * each device, /sys/hypervisor, DMI vendor and product, ACPI table names,
 * the kernel release) as a tar archive that --root replays.
 * For bug reports and as test fixtures taken from real machines.  Reads
 * only; links are kept as links.
 */
#pragma once

#include "sysfs.h"

/* Write the archive to @fd.  Returns the number of entries, or -errno. */
int vh_snapshot_write(const struct vh_sys *sys, int fd, struct vh_err *e);
