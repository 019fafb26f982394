/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the QEMU a domain runs does with what the domain leaves out.  Some
 * defaults depend on the QEMU version: the emulated x86 IOMMU's interrupt
 * remapping ("intremap") is OnOffAuto from QEMU 4.1 and turns itself on
 * unless KVM emulates the whole irqchip in the kernel
 * (hw/i386/x86-iommu.c); Intel's extended interrupt mode ("eim") turns
 * itself on with KVM's in-kernel local APIC when interrupt remapping is on
 * (hw/i386/intel_iommu.c).  libvirt probes every emulator it runs and keeps
 * the result, version included, in /var/cache/libvirt/qemu/capabilities:
 * read without running anything.  An unknown version gets the conservative
 * answer: what the domain does not write is not assumed on.
 */
#pragma once

#include "domain.h"
#include "sysfs.h"

/* libvirt's version number: major * 1000000 + minor * 1000 + micro. */
#define VH_QEMU_VERSION(a, b, c) ((a)*1000000u + (b)*1000u + (c))

/* The version libvirt's probe of @emulator (an absolute path) recorded
 * under @sys's root; 0 when no probe that can be trusted names it. */
unsigned vh_qemu_version(const struct vh_sys *sys, const char *emulator);

/* What QEMU makes of the emulated IOMMU's switches. */
struct vh_viommu_eff {
	enum vh_switch intremap, eim; /* VH_ABSENT: unknown (no version) */
	bool irq_all_kernel;	      /* KVM emulates the whole irqchip (no split) */
	bool defaulted;		      /* intremap came from QEMU's default */
};
void vh_viommu_effective(const struct vh_domain *d, unsigned qemu_version,
			 struct vh_viommu_eff *ret);
