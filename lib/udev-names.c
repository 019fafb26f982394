/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Vendor and model names from udev's hardware database: the CLI's names
 * provider (vh_sys_set_namer), the only user of libudev.  libudev is
 * loaded on the first name asked for (as the CLI loads libvirt only to
 * talk to it), so that a run that names nothing does not pay for it. */
#include "pci.h"

#include "dl.h"

#include <libudev.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static struct {
	struct udev *(*new_)(void);
	struct udev *(*unref)(struct udev *);
	struct udev_hwdb *(*hwdb_new)(struct udev *);
	struct udev_list_entry *(*props)(struct udev_hwdb *, const char *, unsigned);
	struct udev_list_entry *(*next)(struct udev_list_entry *);
	const char *(*name)(struct udev_list_entry *);
	const char *(*value)(struct udev_list_entry *);
} U;

static bool load_udev(void)
{
#define S(f, m)                                                                                    \
	{                                                                                          \
		.name = f, .off = offsetof(__typeof__(U), m)                                       \
	}
	static const struct vh_dl_sym syms[] = {
	    S("udev_new", new_),
	    S("udev_unref", unref),
	    S("udev_hwdb_new", hwdb_new),
	    S("udev_hwdb_get_properties_list_entry", props),
	    S("udev_list_entry_get_next", next),
	    S("udev_list_entry_get_name", name),
	    S("udev_list_entry_get_value", value),
	};
#undef S
	char why[256];

	/* no libudev: IDs without names */
	return vh_dl_load("libudev.so.1", syms, ELEMENTSOF(syms), &U, why, sizeof(why)) == 0;
}

void vh_pci_names_udev(uint16_t vendor, uint16_t device, char *vendor_name, size_t vn,
		       char *model_name, size_t mn)
{
	/* One hardware database for the whole process: it is opened (and
	 * mapped) once, not per device. */
	static struct udev *udev;
	static struct udev_hwdb *hwdb;
	static bool tried;
	char modalias[64];

	vendor_name[0] = model_name[0] = '\0';
	if (!tried) {
		tried = true;
		if (load_udev()) {
			udev = U.new_();
			hwdb = udev ? U.hwdb_new(udev) : NULL;
			if (!hwdb && udev) /* no database: nothing to keep */
				udev = U.unref(udev);
		}
	}
	if (!hwdb)
		return;
	snprintf(modalias, sizeof(modalias), "pci:v%08Xd%08X*", vendor, device);
	for (struct udev_list_entry *e = U.props(hwdb, modalias, 0); e; e = U.next(e)) {
		const char *k = U.name(e), *v = U.value(e);
		if (streq(k, "ID_VENDOR_FROM_DATABASE"))
			vh_strlcpy(vendor_name, v, vn);
		else if (streq(k, "ID_MODEL_FROM_DATABASE"))
			vh_strlcpy(model_name, v, mn);
	}
}
