/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Vendor and model names from udev's hardware database: the CLI's names
 * provider (vh_pci_set_namer), the only user of libudev. */
#include "pci.h"

#include <libudev.h>
#include <stdio.h>

void vh_pci_names_udev(uint16_t vendor, uint16_t device, char *vendor_name,
		       size_t vn, char *model_name, size_t mn)
{
	/* One hardware database for the whole process: it is opened (and
	 * mapped) once, not per device. */
	static struct udev *udev;
	static struct udev_hwdb *hwdb;
	static bool tried;
	struct udev_list_entry *e;
	char modalias[64];

	vendor_name[0] = model_name[0] = '\0';
	if (!tried) {
		tried = true;
		udev = udev_new();
		hwdb = udev ? udev_hwdb_new(udev) : NULL;
		if (!hwdb && udev)
			udev =
			    udev_unref(udev); /* no database: nothing to keep */
	}
	if (hwdb) {
		snprintf(modalias, sizeof(modalias), "pci:v%08Xd%08X*", vendor,
			 device);
		udev_list_entry_foreach(
		    e, udev_hwdb_get_properties_list_entry(hwdb, modalias, 0))
		{
			const char *k = udev_list_entry_get_name(e);
			const char *v = udev_list_entry_get_value(e);
			if (streq(k, "ID_VENDOR_FROM_DATABASE"))
				vh_strlcpy(vendor_name, v, vn);
			else if (streq(k, "ID_MODEL_FROM_DATABASE"))
				vh_strlcpy(model_name, v, mn);
		}
	}
}
