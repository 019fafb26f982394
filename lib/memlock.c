/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "memlock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The NVLink2 GPU RAM window QEMU maps up to 128 TiB, one 4 KiB TCE entry
 * of 8 bytes per page: 128 TiB / 512, in KiB. */
#define NVLINK2_TCE_KIB (128ULL * 1024 * 1024 * 1024 / 512)

bool vh_memlock_is_ppc64_kvm(const struct vh_domain *d)
{
	return d->arch &&
	       (streq(d->arch, "ppc64") || streq(d->arch, "ppc64le")) &&
	       streq(d->virt_type, "kvm");
}

/* a * b + c, or false on overflow. */
static bool mad(unsigned long long a, unsigned long long b,
		unsigned long long c, unsigned long long *ret)
{
	unsigned long long p;

	return !__builtin_mul_overflow(a, b, &p) &&
	       !__builtin_add_overflow(p, c, ret);
}

static int ppc64(const struct vh_domain *d, const struct vh_memlock_host *h,
		 struct vh_memlock *m)
{
	unsigned long long mem = d->memory_kib;
	unsigned long long maxmem = d->max_memory_kib ? d->max_memory_kib : mem;
	unsigned long long phbs = d->n_phbs ? d->n_phbs : 1; /* the default */
	unsigned long long base, pass = 0, t;
	const char *kind = "no VFIO, NVMe or vDPA device: no DMA window";

	if (m->n_vfio && 1ULL + h->n_isolation_groups > phbs)
		phbs = 1ULL + h->n_isolation_groups;
	m->n_phbs = (unsigned)phbs;
	if (!mad(4096, phbs, maxmem / 128 + 8192, &base))
		return -ERANGE;
	if (m->n_vfio && h->nvlink2) {
		kind = "NVLink2 GPU: maxMemory + 128 TiB/512 * PHBs + 8192";
		if (!mad(NVLINK2_TCE_KIB, phbs, 8192, &t) ||
		    __builtin_add_overflow(maxmem, t, &pass))
			return -ERANGE;
	} else if (m->n_vfio || d->n_nvme_disks || d->n_vdpa) {
		unsigned long long a, b;
		kind = "VFIO: max(2 GiB * PHBs, memory + memory/512 * PHBs + "
		       "8192)";
		if (!mad(2097152, phbs, 0, &a) ||
		    !mad(mem / 512, phbs, 8192, &t) ||
		    __builtin_add_overflow(mem, t, &b))
			return -ERANGE;
		pass = a > b ? a : b;
	}
	if (__builtin_add_overflow(base, pass, &m->kib))
		return -ERANGE;
	snprintf(m->formula, sizeof(m->formula),
		 "libvirt's ppc64 formula: maxMemory/128 + 4096*PHBs + 8192 "
		 "= %llu KiB (maxMemory %llu KiB, %llu PHB%s), plus %llu KiB "
		 "for the DMA window (%s)",
		 base, maxmem, phbs, phbs == 1 ? "" : "s", pass, kind);
	return 0;
}

int vh_memlock_need(const struct vh_domain *d,
		    const struct vh_memlock_host *host, struct vh_memlock *ret)
{
	static const struct vh_memlock_host none;
	struct vh_memlock m = {.n_vfio = (unsigned)d->n_hostdevs};
	unsigned long long factor;
	int r;

	if (!host)
		host = &none;
	if (vh_memlock_is_ppc64_kvm(d)) {
		r = ppc64(d, host, &m);
		if (r < 0)
			return r;
		*ret = m;
		return 0;
	}
	if (!m.n_vfio && !d->n_nvme_disks && !d->n_vdpa) {
		*ret = m;
		return 0;
	}
	/* Each VFIO device behind a vIOMMU maps all guest memory in its own
	 * address space; without one they share one mapping.  NVMe disks and
	 * vDPA devices always count once each. */
	factor = (unsigned long long)d->n_vdpa + d->n_nvme_disks;
	if (m.n_vfio)
		factor += d->has_iommu ? m.n_vfio : 1;
	if (!mad(factor, d->memory_kib, 1048576, &m.kib))
		return -ERANGE;
	if (factor == 1)
		snprintf(m.formula, sizeof(m.formula),
			 "libvirt's formula: memory %llu KiB + 1 GiB for MMIO",
			 d->memory_kib);
	else
		snprintf(
		    m.formula, sizeof(m.formula),
		    "libvirt's formula: %llu * memory %llu KiB + 1 GiB for "
		    "MMIO (%s%u VFIO device%s%s%s, %u NVMe disk%s, %u "
		    "vDPA device%s)",
		    factor, d->memory_kib,
		    m.n_vfio && d->has_iommu ? "each of " : "", m.n_vfio,
		    m.n_vfio == 1 ? "" : "s",
		    m.n_vfio && d->has_iommu
			? " maps all memory behind the vIOMMU"
			: "",
		    m.n_vfio && !d->has_iommu ? " sharing one mapping" : "",
		    d->n_nvme_disks, d->n_nvme_disks == 1 ? "" : "s", d->n_vdpa,
		    d->n_vdpa == 1 ? "" : "s");
	*ret = m;
	return 0;
}
