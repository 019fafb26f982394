/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Xen: handing a device to xen-pciback the way `xl pci-assignable-add`
 * does (libxl_pci.c: unbind from the current driver, add the address to
 * pciback's slot list with new_slot unless it is listed, bind to pciback)
 * and taking it back as `xl pci-assignable-remove` does (unbind from
 * pciback, remove_slot), through the sysfs gateway only.  The engine
 * journals the original driver first and rebinds it afterwards.
 */
#pragma once

#include <stdbool.h>

#include "journal.h"
#include "sysfs.h"
#include "util.h"

#define VH_PCIBACK "pciback" /* the driver's name in sysfs */

/* Unbind @name (0000:01:00.0) from driver @drv, a bounded write.  -errno
 * with @e naming the driver; @busy_hint is added to the message when the
 * driver did not answer within the timeout (it holds the device). */
int vh_driver_unbind(const struct vh_sys *sys, const char *name, const char *drv,
		     const char *busy_hint, struct vh_err *e);
/* 1 when @name (0000:01:00.0) is in /sys/bus/pci/drivers/pciback/slots,
 * 0 when not, -errno (-ENOENT: pciback is not loaded). */
int vh_pciback_has_slot(const struct vh_sys *sys, const char *name);
/* Put @d's device on pciback: clear a driver_override naming another
 * driver, unbind, new_slot when @d->pciback is VH_PCIBACK_ADDED, bind,
 * check the driver link; with @permissive, write the address to
 * pciback/permissive.  Every write bounded.  -errno with @e on failure
 * (the journal's undo takes back what was done). */
int vh_pciback_assign(const struct vh_sys *sys, const struct vh_jdev *d, bool permissive,
		      struct vh_err *e);
/* Take @d's device off pciback: unbind when pciback holds it, remove_slot
 * when the hook added the slot and it is still listed, then bind the
 * original driver by name.  The caller then checks the driver and
 * restores driver_override (drivers_probe when the bind did not take). */
int vh_pciback_unassign(const struct vh_sys *sys, const struct vh_jdev *d, struct vh_err *e);
