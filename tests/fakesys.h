/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fake sysroot for tests, laid out exactly as the kernel lays out /sys:
 * sys/bus/pci/devices/<addr> links into sys/devices/pci<dom>:<bus>/...,
 * attributes are files, config is a binary config-space image with real
 * capability lists, driver/iommu_group/physfn/virtfnN are symlinks.
 *
 * The spec has one line per thing (blank lines and # comments skipped):
 *
 *   ADDR id=VVVV:DDDD [subsys=VVVV:DDDD] [class=0xCCCCCC] [rev=N]
 *        [driver=NAME] [group=N] [reset=m1,m2 | reset= | reset=none]
 *        [override=NAME] [msi=N] [msix=N] [pcie[=TYPE]] [bridge]
 *        [msi_irqs=N] [msix_irqs=N]
 *        [sriov=total:N,offset:N,stride:N,vfdev:XXXX] [numvfs=N]
 *        [physfn=ADDR] [parent=ADDR] [cfg=64] [nvlink2]
 *        [barN=[32|64][:pref]:SIZE ...]
 *   driver NAME            an (empty) driver directory (pciback: with
 *                          its empty slots and permissive lists)
 *   cmdline TEXT...        /proc/cmdline
 *   iommu NAME             /sys/class/iommu/NAME (a hardware IOMMU)
 *   file PATH TEXT...      any file under the root (DMI, osrelease, ...);
 *                          \n in TEXT is a line break
 *   link PATH TARGET       a symlink to TARGET exactly as given
 *
 * msi_irqs=N and msix_irqs=N are the vectors a driver enabled: entries of
 * the device's msi_irqs directory.
 *
 * nvlink2 gives the device an of_node with the device-tree properties of a
 * POWER9 GPU with NVLink2 bridges (ibm,gpu, ibm,nvlink, ibm,nvlink-speed,
 * memory-region).
 *
 * barN=64:pref:128G (N 0-5; SIZE a power of two with K, M, G, T or P,
 * powers of 1024) gives the device a resource file, as the kernel writes
 * it: a line "0xSTART 0xEND 0xFLAGS" for each of BARs 0-5, the ROM and the
 * bridge windows (13 lines), the BARs given at naturally aligned
 * addresses (64-bit ones from 0x38000000000, 32-bit ones from 0xf0000000),
 * flags IORESOURCE_MEM (0x200) | IORESOURCE_SIZEALIGN (0x40000), with
 * IORESOURCE_PREFETCH (0x2000) for pref and IORESOURCE_MEM_64 (0x100000)
 * for 64; the other lines are zeros.  Without barN= there is no resource
 * file (what older fake trees had); a malformed one is written with
 * "file sys/bus/pci/devices/ADDR/resource TEXT".
 *
 * reset= defaults to "flr bus" (and a reset file); reset=none gives neither
 * reset_method nor reset, as for devices the kernel cannot reset.
 */
#pragma once

#include <stddef.h>

/* Build the tree described by @spec under @root (created if needed).
 * Returns 0, or -errno with a message naming the spec line in @err. */
int fakesys_build(const char *root, const char *spec, char *err, size_t n);
/* A new empty directory under $TMPDIR; caller frees the string. */
char *fakesys_mkroot(void);
/* rm -rf, without following symlinks. */
int fakesys_rmrf(const char *root);
/* Write @content to ROOT/@rel, creating parent directories. */
int fakesys_put(const char *root, const char *rel, const char *content);
/* A relative symlink ROOT/@from -> ROOT/@to, as the kernel makes them. */
int fakesys_link(const char *root, const char *from, const char *to);
/* Read ROOT/@rel into @buf (trailing newline stripped); -errno. */
int fakesys_get(const char *root, const char *rel, char *buf, size_t n);
