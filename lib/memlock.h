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
 * not given); PHBs the pSeries PCI host bridges.
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
	unsigned n_vfio, n_phbs;
	char formula[384]; /* the formula with this domain's numbers */
};

/* ppc64 (or ppc64le) under KVM: libvirt's pSeries formula applies. */
bool vh_memlock_is_ppc64_kvm(const struct vh_domain *d);

/* The limit libvirt would set for @d, ignoring <hard_limit> and <locked/>.
 * -ERANGE when it does not fit in 64 bits of KiB. */
int vh_memlock_need(const struct vh_domain *d,
		    const struct vh_memlock_host *host, struct vh_memlock *ret);
