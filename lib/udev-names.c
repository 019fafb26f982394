/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Vendor and model names from udev's hardware database: the CLI's names
 * provider (vh_pci_set_namer), the only user of libudev.  libudev is
 * loaded on the first name asked for (as the CLI loads libvirt only to
 * talk to it), so that a run that names nothing does not pay for it. */
#include "pci.h"

#include <dlfcn.h>
#include <libudev.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static struct {
	struct udev *(*new_)(void);
	struct udev *(*unref)(struct udev *);
	struct udev_hwdb *(*hwdb_new)(struct udev *);
	struct udev_list_entry *(*props)(struct udev_hwdb *, const char *,
					 unsigned);
	struct udev_list_entry *(*next)(struct udev_list_entry *);
	const char *(*name)(struct udev_list_entry *);
	const char *(*value)(struct udev_list_entry *);
} U;

static bool load_udev(void)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
	    {"udev_new", offsetof(__typeof__(U), new_)},
	    {"udev_unref", offsetof(__typeof__(U), unref)},
	    {"udev_hwdb_new", offsetof(__typeof__(U), hwdb_new)},
	    {"udev_hwdb_get_properties_list_entry",
	     offsetof(__typeof__(U), props)},
	    {"udev_list_entry_get_next", offsetof(__typeof__(U), next)},
	    {"udev_list_entry_get_name", offsetof(__typeof__(U), name)},
	    {"udev_list_entry_get_value", offsetof(__typeof__(U), value)},
	};
	void *h = dlopen("libudev.so.1", RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return false; /* no names: IDs only */
	for (size_t i = 0; i < ELEMENTSOF(syms); i++) {
		void *f = dlsym(h, syms[i].name);
		if (!f)
			return false;
		memcpy((char *)&U + syms[i].off, &f, sizeof(f));
	}
	return true;
}

void vh_pci_names_udev(uint16_t vendor, uint16_t device, char *vendor_name,
		       size_t vn, char *model_name, size_t mn)
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
	for (struct udev_list_entry *e = U.props(hwdb, modalias, 0); e;
	     e = U.next(e)) {
		const char *k = U.name(e), *v = U.value(e);
		if (streq(k, "ID_VENDOR_FROM_DATABASE"))
			vh_strlcpy(vendor_name, v, vn);
		else if (streq(k, "ID_MODEL_FROM_DATABASE"))
			vh_strlcpy(model_name, v, mn);
	}
}
