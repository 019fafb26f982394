/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which devices can be worked on at the same time.  Moving a device between
 * drivers, writing its reset_method and resetting it touch that device
 * alone, except where the kernel ties devices together: the functions of
 * one IOMMU group (vfio claims and releases a group as a whole), a physical
 * function and its virtual functions (the PF's driver creates and removes
 * them), and the devices below one bridge (a bus reset resets them all;
 * on a root bus, which no bridge resets, the functions of one slot).  Such
 * devices form one unit, worked on in order; units are independent.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pci.h"

/* What ties a device to others, as read from sysfs. */
struct vh_unit_key {
	char group[16];	 /* IOMMU group ("" none: the serial unit) */
	char family[16]; /* the PF of a VF, else the device itself */
	char bus[32];	 /* the parent bridge's address, or "pciDDDD:BB/SS"
			    for a root bus's slot; "" unknown */
};

/* The key of @addr; a device that cannot be read (gone) gets an empty
 * key: it joins the serial unit. */
void vh_unit_key_read(const struct vh_sys *sys, const struct vh_pci_addr *addr,
		      struct vh_unit_key *ret);

/* Split @n keyed devices into units: @unit[i] is device i's unit, numbered
 * from 0 in the order of each unit's first device.  Devices sharing a
 * group, a family or a bus are in one unit; every device without a group
 * (or with an empty key) is in one serial unit.  Returns the number of
 * units (0 for none) or -ENOMEM. */
int vh_units_split(const struct vh_unit_key *keys, size_t n, size_t *unit);
