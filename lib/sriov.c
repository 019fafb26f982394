/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "sriov.h"

#include <errno.h>
#include <stdlib.h>

static unsigned rid(const struct vh_pci_addr *a)
{
	return (a->bus << 8) | (a->slot << 3) | a->function;
}

int vh_sriov_vf_addr(const struct vh_pci_dev *pf, unsigned n, struct vh_pci_addr *ret)
{
	const struct vh_pci_caps *c = &pf->caps;
	unsigned long r;

	if (!c->sriov || !c->sriov_total)
		return -EINVAL;
	if (n < 1 || n > c->sriov_total)
		return -ERANGE;
	/* Offset and stride are those of the current NumVFs; devices keep
	 * them constant in practice, and the kernel computes VF addresses
	 * the same way (pci_iov_virtfn_bus/devfn). */
	r = rid(&pf->addr) + c->sriov_offset + (unsigned long)(n - 1) * c->sriov_stride;
	if (r > 0xffff)
		return -ERANGE;
	*ret = (struct vh_pci_addr){.domain = pf->addr.domain,
				    .bus = (uint32_t)(r >> 8),
				    .slot = (uint32_t)((r >> 3) & 0x1f),
				    .function = (uint32_t)(r & 7)};
	return 0;
}

int vh_sriov_vf_number(const struct vh_pci_dev *pf, const struct vh_pci_addr *vf, unsigned *ret)
{
	const struct vh_pci_caps *c = &pf->caps;
	unsigned lo = rid(&pf->addr) + c->sriov_offset, hi = rid(vf), k;

	if (!c->sriov || vf->domain != pf->addr.domain || hi < lo)
		return -ENOENT;
	if (!c->sriov_stride) /* one VF only */
		k = hi == lo ? 1 : 0;
	else if ((hi - lo) % c->sriov_stride)
		k = 0;
	else
		k = (hi - lo) / c->sriov_stride + 1;
	if (k == 0 || k > c->sriov_total)
		return -ENOENT;
	*ret = k;
	return 0;
}

int vh_sriov_find_pf(const struct vh_sys *sys, const struct vh_pci_addr *vf,
		     struct vh_pci_dev *ret_pf, unsigned *ret_n)
{
	struct vh_pci_addr *all = NULL;
	int n = vh_pci_addrs_in(sys, &all, "/sys/bus/pci/devices");
	int found = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n && !found; i++) {
		struct vh_pci_dev pf;
		unsigned k;
		if (all[i].domain != vf->domain || all[i].bus > vf->bus ||
		    vh_sys_exists(sys, "/sys/bus/pci/devices/%04x:%02x:%02x.%x/sriov_totalvfs",
				  all[i].domain, all[i].bus, all[i].slot, all[i].function) <= 0)
			continue;
		/* Solve rid(vf) = rid(pf) + offset + (k - 1) * stride. */
		if (vh_pci_dev_read(sys, &all[i], &pf) < 0 || vh_sriov_vf_number(&pf, vf, &k) < 0)
			continue;
		*ret_pf = pf;
		*ret_n = k;
		found = 1;
	}
	free(all);
	return found;
}
