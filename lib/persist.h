/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-hooks bind --persist`: a udev rule per device, written the way
 * driverctl does it.  On the device's "add" event (every boot, and every
 * hot-plug) the rule sets driver_override so no host driver can claim it,
 * loads the vfio driver, and runs `vfio-hooks bind --boot`, which moves the
 * device there (off a host driver that got it first) and applies the
 * reset_method of its profile.  The rule also matches the vendor and
 * device IDs, so a different card in the same slot is left alone.
 *
 *   ROOT/etc/udev/rules.d/90-vfio-hooks-0000:01:00.0.rules
 *
 * One file per device bound; its IOMMU group companions get a line each in
 * the same file.  `unbind --persist` removes the file.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "sysfs.h"
#include "util.h"

#define VH_PERSIST_DIR "/etc/udev/rules.d"

struct vh_persist_dev {
	struct vh_pci_addr addr;
	uint16_t vendor, device;
	char driver[64];	/* vfio-pci or the profile's variant driver */
	bool set_reset;		/* apply reset_method at boot */
	char reset_method[128]; /* "" disables resets */
};

/* The rule file of @a (rooted), for messages. */
void vh_persist_path(const struct vh_sys *sys, const struct vh_pci_addr *a, char *buf, size_t n);
/* Write (atomically, mode 0644) the rule file of @devs[0] with one line
 * for each of @devs; @prog is the absolute path of vfio-hooks. */
int vh_persist_write(const struct vh_sys *sys, const struct vh_persist_dev *devs, size_t n,
		     const char *prog, struct vh_err *e);
/* Read back the rule file of @a: -ENOENT when there is none, -EBADMSG when
 * it is not one of ours (with @e naming the file and line). */
int vh_persist_read(const struct vh_sys *sys, const struct vh_pci_addr *a,
		    struct vh_persist_dev **ret, size_t *n, struct vh_err *e);
/* The devices that have a rule file, in name order, into *@ret (free
 * it); files not named 90-vfio-hooks-ADDRESS.rules are not ours and are
 * skipped.  Returns the count (0 when the directory is missing), or
 * -errno. */
int vh_persist_list(const struct vh_sys *sys, struct vh_pci_addr **ret);
/* Remove it; -ENOENT when there is none. */
int vh_persist_remove(const struct vh_sys *sys, const struct vh_pci_addr *a, struct vh_err *e);
/* The udev-safe form of a reset_method for the rule's command line:
 * "" (disable) is written as "none". */
const char *vh_persist_reset_arg(const char *reset_method);
