/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "pciback.h"

#include <stdio.h>
#include <string.h>

#define DRV "/sys/bus/pci/drivers/" VH_PCIBACK

static const char *errname(int r)
{
	return r == -ETIMEDOUT ? "no answer within the timeout" : strerror(-r);
}

int vh_pciback_has_slot(const struct vh_sys *sys, const char *name)
{
	char buf[4097]; /* the kernel shows one page */
	size_t len = 0, k = strlen(name);
	int r;

	r = vh_sys_read_raw(sys, buf, sizeof(buf) - 1, &len, DRV "/slots");
	if (r < 0)
		return r;
	buf[len] = '\0';
	for (const char *p = buf; *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l == k && strncmp(p, name, k) == 0)
			return 1;
		p += l + (nl ? 1 : 0);
	}
	return 0;
}

int vh_driver_unbind(const struct vh_sys *sys, const char *name, const char *drv,
		     const char *busy_hint, struct vh_err *e)
{
	int r = vh_sys_write(sys, name, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/%s/unbind", drv);

	if (r < 0)
		return vh_err_set(
		    e, r,
		    "%s: unbinding it from driver %s failed (/sys/bus/pci/drivers/%s/unbind: %s)%s.",
		    name, drv, drv, errname(r), r == -ETIMEDOUT ? busy_hint : "");
	return 0;
}

/* The driver @name is on, "" for none. */
static int current(const struct vh_sys *sys, const char *name, char *drv, size_t n)
{
	int r = vh_sys_link_name(sys, drv, n, "/sys/bus/pci/devices/%s/driver", name);

	if (r == -ENOENT) {
		drv[0] = '\0';
		return 0;
	}
	return r;
}

static int write_drv(const struct vh_sys *sys, const char *name, const char *attr, struct vh_err *e)
{
	int r = vh_sys_write(sys, name, VH_WRITE_BOUNDED, DRV "/%s", attr);

	if (r < 0)
		return vh_err_set(e, r, "%s: writing it to %s/%s failed: %s.", name, DRV, attr,
				  errname(r));
	return 0;
}

int vh_pciback_assign(const struct vh_sys *sys, const struct vh_jdev *d, bool permissive,
		      struct vh_err *e)
{
	char name[VH_PCI_ADDR_LEN], cur[64];
	int r;

	vh_pci_addr_format(&d->addr, name);
	if (vh_sys_exists(sys, DRV) <= 0)
		return vh_err_set(
		    e, -ENOENT,
		    "%s: xen-pciback is not loaded (no %s): load it with 'modprobe xen-pciback' or list it in /etc/modules-load.d/.",
		    name, DRV);
	/* An override naming another driver would make pciback's bind
	 * fail; the journal has it for release. */
	if (d->override[0] && !streq(d->override, VH_PCIBACK)) {
		r = vh_sys_write(sys, "\n", 0, "/sys/bus/pci/devices/%s/driver_override", name);
		if (r < 0)
			return vh_err_set(
			    e, r, "%s: cannot clear /sys/bus/pci/devices/%s/driver_override: %s.",
			    name, name, errname(r));
	}
	r = current(sys, name, cur, sizeof(cur));
	if (r < 0)
		return vh_err_set(e, r, "%s: cannot read its driver link: %s.", name, strerror(-r));
	if (cur[0] && !streq(cur, VH_PCIBACK)) {
		r = vh_driver_unbind(sys, name, cur,
				     "; the driver is holding the device (in use on the host?)", e);
		if (r < 0)
			return r;
	}
	if (d->pciback == VH_PCIBACK_ADDED) {
		r = write_drv(sys, name, "new_slot", e);
		if (r < 0)
			return r;
	}
	if (!streq(cur, VH_PCIBACK)) {
		r = write_drv(sys, name, "bind", e);
		if (r < 0)
			return r;
	}
	r = current(sys, name, cur, sizeof(cur));
	if (r < 0 || !streq(cur, VH_PCIBACK))
		return vh_err_set(
		    e, -ENODEV,
		    "%s: after binding it to pciback the device is on %s (see the kernel log).",
		    name, cur[0] ? cur : "no driver");
	if (permissive)
		return write_drv(sys, name, "permissive", e);
	return 0;
}

int vh_pciback_unassign(const struct vh_sys *sys, const struct vh_jdev *d, struct vh_err *e)
{
	char name[VH_PCI_ADDR_LEN], cur[64];
	int r;

	vh_pci_addr_format(&d->addr, name);
	r = current(sys, name, cur, sizeof(cur));
	if (r < 0)
		return vh_err_set(e, r, "%s: cannot read its driver link: %s.", name, strerror(-r));
	if (streq(cur, VH_PCIBACK)) {
		r = write_drv(sys, name, "unbind", e);
		if (r < 0)
			return r;
	}
	if (d->pciback == VH_PCIBACK_ADDED) {
		r = vh_pciback_has_slot(sys, name);
		if (r < 0 && r != -ENOENT) /* -ENOENT: pciback unloaded */
			return vh_err_set(e, r, "%s: cannot read %s/slots: %s.", name, DRV,
					  strerror(-r));
		if (r > 0) {
			r = write_drv(sys, name, "remove_slot", e);
			if (r < 0)
				return r;
		}
	}
	/* As libxl does, bind the original driver by name: drivers_probe
	 * would give a slot that stays listed back to pciback.  When this
	 * fails the caller's drivers_probe has its turn. */
	r = current(sys, name, cur, sizeof(cur));
	if (r == 0 && !cur[0] && d->driver[0] &&
	    vh_sys_exists(sys, "/sys/bus/pci/drivers/%s", d->driver) > 0)
		(void)vh_sys_write(sys, name, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/%s/bind",
				   d->driver);
	return 0;
}
