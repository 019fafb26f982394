/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The locked-memory limit a domain needs.  VFIO pins all guest memory, so
 * the QEMU process's RLIMIT_MEMLOCK must cover it.  libvirt sets the limit
 * itself (qemuDomainGetMemLockLimitBytes in src/qemu/qemu_domain.c), unless
 * <memtune><hard_limit> is given, which then is the limit.  This is the
 * same formula, written from libvirt's description of it:
 *
 *   ppc64 with KVM (getPPC64MemLockLimitBytes), in KiB:
 *     base = maxMemory / 128 + 4096 * PHBs + 8192
 *     NVLink2 GPU passed through:  pass = maxMemory + 2^28 * PHBs + 8192
 *     other VFIO/NVMe/vDPA:        pass = max(2097152 * PHBs,
 *                                             memory + memory / 512 * PHBs
 *                                             + 8192)
 *     none of them:                pass = 0
 *     limit = base + pass
 *   everything else, with VFIO hostdevs, NVMe disks or vDPA devices:
 *     factor = vDPA + NVMe + (VFIO ? (vIOMMU ? VFIO : 1) : 0)
 *     limit = factor * memory + 1048576
 *   else no limit is needed (0).
 *
 * memory is the guest's total memory, maxMemory <maxMemory> (memory when
 * not given), both as libvirt aligns them when it starts the domain
 * (qemuDomainAlignMemorySizes), in KiB:
 *     align = 262144 on ppc64 (pSeries wants 256 MiB blocks), else 1024
 *     module_align = 262144 on ppc64, else 2048 (what DIMMs want)
 *     initial = sum of roundup(cell, align) over the NUMA cells, or
 *               without cells roundup(<memory> - modules, align)
 *     memory = initial + sum of roundup(module, module_align) over the
 *              <memory> devices (an NVDIMM on ppc64 as written: libvirt
 *              aligned it down when it defined the domain)
 *     maxMemory = roundup(<maxMemory>, align)
 * so <memory>219100</memory> on x86 locks 219136 + 1048576 KiB.  A QEMU
 * command line libvirt wrote carries aligned sizes already.  PHBs are the
 * pSeries PCI host bridges.
 */
#pragma once

#include <stdbool.h>

#include "domain.h"

/* What the formula needs from the host and from libvirt's address
 * assignment. */
struct vh_memlock_host {
	/* Distinct IOMMU groups among the PCI hostdevs: on pSeries libvirt
	 * gives each its own PHB, apart from the emulated devices. */
	unsigned n_isolation_groups;
	/* A PCI hostdev is a GPU with NVLink2 bridges (its of_node has
	 * ibm,gpu, ibm,nvlink, ibm,nvlink-speed and memory-region). */
	bool nvlink2;
};

struct vh_memlock {
	unsigned long long kib; /* 0: libvirt sets no limit */
	/* The domain's memory and maxMemory (0: none) as libvirt aligns
	 * them. */
	unsigned long long memory_kib, max_memory_kib;
	unsigned n_vfio, n_phbs;
	char formula[640]; /* the formula with this domain's numbers */
};

/* ppc64 (or ppc64le) under KVM: libvirt's pSeries formula applies. */
bool vh_memlock_is_ppc64_kvm(const struct vh_domain *d);

/* The limit libvirt would set for @d, ignoring <hard_limit> and <locked/>.
 * -ERANGE when it does not fit in 64 bits of KiB. */
int vh_memlock_need(const struct vh_domain *d, const struct vh_memlock_host *host,
		    struct vh_memlock *ret);
