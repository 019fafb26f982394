/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The 64-bit PCI MMIO window a domain's guest firmware maps, against the
 * 64-bit prefetchable BARs of its hostdevs.  Written from the firmware's
 * own sources (see vfio-hooks(8), LARGE BARS):
 *
 *   SeaBIOS (src/fw/pciinit.c, pci_bios_map_devices): 64-bit BARs go above
 *   RAM, below 2^phys-bits from 1.16.3 on; so they fit when RAM's end plus
 *   the BARs stays below 2^phys-bits.
 *
 *   OVMF before edk2-stable202211 (OvmfPkg PlatformPei / PlatformInitLib
 *   MemDetect.c, PlatformGetFirstNonAddress): a window of PcdPciMmio64Size,
 *   32 GiB, or opt/ovmf/X-PciMmio64Mb (at most 16 TiB), above RAM.
 *
 *   OVMF from edk2-stable202211 on (PlatformAddressWidthFromCpuid,
 *   PlatformDynamicMmioWindow): when it trusts the CPU's physical address
 *   width (41 bits or more; 36 or 39 on Intel, 40 on AMD), capped at 46
 *   bits (40 without 1 GiB pages), the window is 2^(bits - 3), one eighth
 *   of the address space, unless X-PciMmio64Mb asks for more; from
 *   edk2-stable202505 on X-PciMmio64Mb is taken as it is, smaller too.
 *
 * What is not known (the OVMF version, whether QEMU gives a host-passthrough
 * CPU the host's address width) is tried both ways: the window is a range.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "domain.h"
#include "sysfs.h"

/* What the host says, from /proc/cpuinfo and the package database. */
struct vh_mmio_host {
	unsigned phys_bits; /* "address sizes: N bits physical"; 0: unknown */
	int intel;	    /* vendor_id GenuineIntel: 1, AuthenticAMD: 0, -1 unknown */
	int pdpe1gb;	    /* the pdpe1gb flag: 1, 0, -1 unknown */
	/* OVMF's edk2 release as YYYYMM (202211), 0: unknown; and the
	 * package it was read from ("ovmf 2022.11-6", dpkg). */
	unsigned ovmf_yyyymm;
	char ovmf_pkg[96];
};

/* Read @h for @d: /proc/cpuinfo, and for an OVMF domain the version of the
 * Debian package ovmf when it holds the domain's <loader> (or when the
 * domain names none).  Never fails: what cannot be read stays unknown. */
void vh_mmio_host_read(const struct vh_sys *sys, const struct vh_domain *d, struct vh_mmio_host *h);

enum vh_mmio_fw { VH_MMIO_FW_UNKNOWN = 0, VH_MMIO_FW_SEABIOS, VH_MMIO_FW_OVMF };
/* The domain's x86 firmware: OVMF for <os firmware='efi'> or a <loader>
 * naming OVMF or edk2, SeaBIOS without a <loader> or for one naming bios,
 * else unknown. */
enum vh_mmio_fw vh_mmio_firmware(const struct vh_domain *d);

struct vh_mmio_window {
	/* The least and the most the firmware maps for 64-bit BARs, over
	 * what is unknown; equal when all is known. */
	uint64_t lo, hi;
	char why[1024]; /* the facts it was computed from, one a line */
	char fix[1024]; /* the XML that makes the window hold @need */
	bool fixable;	/* false: nothing in the domain can (the host's bits) */
};

/* The window of @d on @h, and the fix for @need bytes of BARs. */
void vh_mmio_window(const struct vh_domain *d, const struct vh_mmio_host *h, uint64_t need,
		    struct vh_mmio_window *ret);

/* "128 GiB", "256 MiB": @v in the largest binary unit that divides it
 * (else in MiB with a fraction cut). */
void vh_mmio_size_str(uint64_t v, char *buf, size_t n);
