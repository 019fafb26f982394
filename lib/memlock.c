/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "memlock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The NVLink2 GPU RAM window QEMU maps up to 128 TiB, one 4 KiB TCE entry
 * of 8 bytes per page: 128 TiB / 512, in KiB. */
#define NVLINK2_TCE_KIB (128ULL * 1024 * 1024 * 1024 / 512)

/* pSeries wants memory in blocks of 256 MiB, in KiB. */
#define PPC64_ALIGN_KIB (256ULL * 1024)

static bool is_ppc64(const struct vh_domain *d)
{
	return streq(d->arch, "ppc64") || streq(d->arch, "ppc64le");
}

bool vh_memlock_is_ppc64_kvm(const struct vh_domain *d)
{
	return is_ppc64(d) && streq(d->virt_type, "kvm");
}

/* @v rounded up to a multiple of @align, or false on overflow. */
static bool round_up(unsigned long long v, unsigned long long align, unsigned long long *ret)
{
	unsigned long long rest = v % align;

	if (!rest) {
		*ret = v;
		return true;
	}
	return !__builtin_add_overflow(v, align - rest, ret);
}

/* The memory and maxMemory as libvirt aligns them when it starts the
 * domain, before it computes the limit (qemuDomainAlignMemorySizes). */
static int align_memory(const struct vh_domain *d, struct vh_memlock *m)
{
	unsigned long long align = is_ppc64(d) ? PPC64_ALIGN_KIB : 1024;
	/* DIMMs want 2 MiB. */
	unsigned long long module_align = is_ppc64(d) ? PPC64_ALIGN_KIB : 2048;
	unsigned long long initial = 0, modules = 0, written = 0, v;

	for (size_t i = 0; i < d->n_numa_cells; i++)
		if (!round_up(d->numa_cells_kib[i], align, &v) ||
		    __builtin_add_overflow(initial, v, &initial))
			return -ERANGE;
	for (size_t i = 0; i < d->n_memory_devices; i++) {
		const struct vh_memory_device *md = &d->memory_devices[i];
		/* On ppc64 libvirt aligns an NVDIMM's guest area (its size
		 * less its label's) down instead, which it did already when
		 * the domain was defined (qemuDomainNVDimmAlignSizePseries):
		 * the size written is taken as it is. */
		if (md->nvdimm && is_ppc64(d))
			v = md->size_kib;
		else if (!round_up(md->size_kib, module_align, &v))
			return -ERANGE;
		if (__builtin_add_overflow(modules, v, &modules) ||
		    __builtin_add_overflow(written, md->size_kib, &written))
			return -ERANGE;
	}
	/* Without NUMA cells, the initial memory: <memory> includes the
	 * devices (libvirt refuses a domain whose devices exceed it). */
	if (!initial &&
	    !round_up(d->memory_kib > written ? d->memory_kib - written : 0, align, &initial))
		return -ERANGE;
	if (__builtin_add_overflow(initial, modules, &m->memory_kib) ||
	    !round_up(d->max_memory_kib, align, &m->max_memory_kib))
		return -ERANGE;
	return 0;
}

/* What the alignment changed, for the formula: "" when nothing. */
static void align_note(const struct vh_domain *d, const struct vh_memlock *m, bool with_max,
		       char *buf, size_t size)
{
	const char *align = is_ppc64(d) ? "256 MiB" : "1 MiB";
	const char *part = d->n_numa_cells	 ? ": each NUMA cell"
			   : d->n_memory_devices ? ": the initial memory"
						 : "";
	const char *devices = "";
	int n = 0;

	if (d->n_memory_devices)
		devices =
		    is_ppc64(d) ? ", each memory device too" : ", each memory device to 2 MiB";
	buf[0] = '\0';
	if (m->memory_kib != d->memory_kib)
		n = snprintf(
		    buf, size,
		    "the %llu KiB written, which libvirt rounds up%s to a multiple of %s%s",
		    d->memory_kib, part, align, devices);
	if (with_max && m->max_memory_kib != d->max_memory_kib && n >= 0 && (size_t)n < size)
		snprintf(
		    buf + n, size - (size_t)n,
		    "%s<maxMemory> %llu KiB written, which libvirt rounds up to a multiple of %s",
		    n ? "; " : "", d->max_memory_kib, align);
}

/* a * b + c, or false on overflow. */
static bool mad(unsigned long long a, unsigned long long b, unsigned long long c,
		unsigned long long *ret)
{
	unsigned long long p;

	return !__builtin_mul_overflow(a, b, &p) && !__builtin_add_overflow(p, c, ret);
}

static int ppc64(const struct vh_domain *d, const struct vh_memlock_host *h, struct vh_memlock *m)
{
	unsigned long long mem = m->memory_kib;
	unsigned long long maxmem = m->max_memory_kib ? m->max_memory_kib : mem;
	unsigned long long phbs = d->n_phbs ? d->n_phbs : 1; /* the default */
	unsigned long long base, pass = 0, t;
	const char *kind = "no VFIO, NVMe or vDPA device: no DMA window";
	char note[256];

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
		kind = "VFIO: max(2 GiB * PHBs, memory + memory/512 * PHBs + 8192)";
		if (!mad(2097152, phbs, 0, &a) || !mad(mem / 512, phbs, 8192, &t) ||
		    __builtin_add_overflow(mem, t, &b))
			return -ERANGE;
		pass = a > b ? a : b;
	}
	if (__builtin_add_overflow(base, pass, &m->kib))
		return -ERANGE;
	align_note(d, m, true, note, sizeof(note));
	snprintf(
	    m->formula, sizeof(m->formula),
	    "libvirt's ppc64 formula: maxMemory/128 + 4096*PHBs + 8192 = %llu KiB (maxMemory %llu KiB, %llu PHB%s), plus %llu KiB for the DMA window (%s%s%s)",
	    base, maxmem, phbs, phbs == 1 ? "" : "s", pass, kind, note[0] ? "; " : "", note);
	return 0;
}

int vh_memlock_need(const struct vh_domain *d, const struct vh_memlock_host *host,
		    struct vh_memlock *ret)
{
	static const struct vh_memlock_host none;
	struct vh_memlock m = {.n_vfio = (unsigned)d->n_hostdevs};
	unsigned long long factor;
	char note[256];
	int r;

	if (!host)
		host = &none;
	r = align_memory(d, &m);
	if (r < 0)
		return r;
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
	if (!mad(factor, m.memory_kib, 1048576, &m.kib))
		return -ERANGE;
	align_note(d, &m, false, note, sizeof(note));
	if (factor == 1)
		snprintf(m.formula, sizeof(m.formula),
			 "libvirt's formula: memory %llu KiB + 1 GiB for MMIO%s%s%s", m.memory_kib,
			 note[0] ? " (" : "", note, note[0] ? ")" : "");
	else
		snprintf(
		    m.formula, sizeof(m.formula),
		    "libvirt's formula: %llu * memory %llu KiB + 1 GiB for MMIO (%s%u VFIO device%s%s%s, %u NVMe disk%s, %u vDPA device%s%s%s)",
		    factor, m.memory_kib, m.n_vfio && d->has_iommu ? "each of " : "", m.n_vfio,
		    m.n_vfio == 1 ? "" : "s",
		    m.n_vfio && d->has_iommu ? " maps all memory behind the vIOMMU" : "",
		    m.n_vfio && !d->has_iommu ? " sharing one mapping" : "", d->n_nvme_disks,
		    d->n_nvme_disks == 1 ? "" : "s", d->n_vdpa, d->n_vdpa == 1 ? "" : "s",
		    note[0] ? "; " : "", note);
	*ret = m;
	return 0;
}
