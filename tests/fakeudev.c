/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in libudev.so.1 for tests: the hardware database of a machine
 * that names every PCI device "Vendor VVVV" / "Model DDDD" (its IDs).  The
 * golden tests load it (LD_LIBRARY_PATH) into the CLI, so that names are
 * printed whatever udev database the test machine has, or none.
 */
#include <libudev.h>
#include <stdio.h>
#include <string.h>

struct udev {
	int unused;
};
struct udev_hwdb {
	int unused;
};
struct udev_list_entry {
	const char *name;
	char value[32];
	struct udev_list_entry *next;
};

static struct udev the_udev;
static struct udev_hwdb the_hwdb;
static struct udev_list_entry entries[2];

struct udev *udev_new(void)
{
	return &the_udev;
}

struct udev *udev_unref(struct udev *u)
{
	(void)u;
	return NULL;
}

struct udev_hwdb *udev_hwdb_new(struct udev *u)
{
	return u ? &the_hwdb : NULL;
}

struct udev_list_entry *udev_hwdb_get_properties_list_entry(struct udev_hwdb *h,
							    const char *modalias, unsigned flags)
{
	unsigned v, d;

	(void)flags;
	if (!h || sscanf(modalias, "pci:v%8Xd%8X", &v, &d) != 2)
		return NULL;
	entries[0].name = "ID_VENDOR_FROM_DATABASE";
	snprintf(entries[0].value, sizeof(entries[0].value), "Vendor %04x", v);
	entries[0].next = &entries[1];
	entries[1].name = "ID_MODEL_FROM_DATABASE";
	snprintf(entries[1].value, sizeof(entries[1].value), "Model %04x", d);
	entries[1].next = NULL;
	return &entries[0];
}

struct udev_list_entry *udev_list_entry_get_next(struct udev_list_entry *e)
{
	return e ? e->next : NULL;
}

const char *udev_list_entry_get_name(struct udev_list_entry *e)
{
	return e ? e->name : NULL;
}

const char *udev_list_entry_get_value(struct udev_list_entry *e)
{
	return e ? e->value : NULL;
}
