/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vh_unit_key_read(const struct vh_sys *sys, const struct vh_pci_addr *addr,
		      struct vh_unit_key *ret)
{
	char name[VH_PCI_ADDR_LEN], link[512];
	const char *last, *parent;
	size_t plen;

	*ret = (struct vh_unit_key){0};
	vh_pci_addr_format(addr, name);
	if (vh_sys_link_name(sys, ret->group, sizeof(ret->group),
			     "/sys/bus/pci/devices/%s/iommu_group", name) < 0) {
		ret->group[0] = '\0';
		return;
	}
	if (vh_sys_link_name(sys, ret->family, sizeof(ret->family),
			     "/sys/bus/pci/devices/%s/physfn", name) < 0)
		vh_strlcpy(ret->family, name, sizeof(ret->family));
	/* "../../../devices/pci0000:00/0000:00:03.0/0000:01:00.0": the
	 * component before the device's own is its parent. */
	if (vh_sys_readlink(sys, link, sizeof(link), "/sys/bus/pci/devices/%s", name) < 0 ||
	    !(last = strrchr(link, '/')) || last == link)
		return;
	for (parent = last; parent > link && parent[-1] != '/'; parent--)
		;
	plen = (size_t)(last - parent);
	if (strncmp(parent, "pci", 3) == 0)
		snprintf(ret->bus, sizeof(ret->bus), "%.*s/%.2s", (int)plen, parent,
			 name + 8); /* the slot: "0000:00:SS.F" */
	else if (plen < sizeof(ret->bus))
		snprintf(ret->bus, sizeof(ret->bus), "%.*s", (int)plen, parent);
}

static size_t find(size_t *up, size_t i)
{
	while (up[i] != i)
		i = up[i] = up[up[i]];
	return i;
}

static void join(size_t *up, size_t a, size_t b)
{
	a = find(up, a);
	b = find(up, b);
	if (a != b)
		up[a > b ? a : b] = a < b ? a : b; /* the first device's root */
}

int vh_units_split(const struct vh_unit_key *keys, size_t n, size_t *unit)
{
	_cleanup_free_ size_t *num = NULL;
	size_t serial = n;
	int count = 0;

	if (n && !(num = calloc(n, sizeof(*num))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		unit[i] = i;
	for (size_t i = 0; i < n; i++) {
		if (!keys[i].group[0]) {
			if (serial == n)
				serial = i;
			else
				join(unit, serial, i);
			continue;
		}
		for (size_t k = 0; k < i; k++)
			if (keys[k].group[0] &&
			    (streq(keys[k].group, keys[i].group) ||
			     streq(keys[k].family, keys[i].family) ||
			     (keys[i].bus[0] && streq(keys[k].bus, keys[i].bus))))
				join(unit, k, i);
	}
	/* Every device straight to its root (a root is its unit's first
	 * device), then the roots numbered in order: no find() after a
	 * number took a pointer's place. */
	for (size_t i = 0; i < n; i++)
		unit[i] = find(unit, i);
	for (size_t i = 0; i < n; i++)
		if (unit[i] == i)
			num[i] = (size_t)count++;
	for (size_t i = 0; i < n; i++)
		unit[i] = num[unit[i]];
	return count;
}
