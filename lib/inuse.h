/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the host is using below a PCI function: a disk with a mounted
 * filesystem, active swap or a member of an md/dm (LVM) device; a network
 * interface that is up with an address or a route; the framebuffer
 * console.  Taking such a function for a VM takes it from the host (the
 * filesystem loses its disk, the host its network).  Reads go through the
 * sysfs gateway only (/sys/class/block, /sys/class/net,
 * /sys/class/graphics, /sys/class/vtconsole, /proc/self/mountinfo,
 * /proc/swaps, /proc/net/route, /proc/net/ipv6_route, /proc/net/if_inet6),
 * so a --root snapshot or a fake sysroot is judged as the real host is.
 */
#pragma once

#include <stdbool.h>

#include "pci.h"
#include "sysfs.h"

struct vh_use {
	/* The host loses something it runs on (a mount, swap, an md/dm
	 * member, its network): refused in every mode but off.  false: a
	 * warning (the boot console, which single-GPU passthrough gives up
	 * on purpose), or a use that could not be checked. */
	bool error;
	char *reason; /* a whole sentence: "/dev/sda2 is mounted on /." */
	char *fix;    /* what to do: "unmount /, or pass another ..." */
};

struct vh_uses {
	struct vh_use *v;
	size_t n;
	unsigned n_error;
};

/* What the host is using below @dev (as vh_pci_dev_read gave it).  A
 * function without a host driver has nothing below it and costs no read.
 * Files that cannot be read are uses that could not be checked (a
 * warning naming the file), never an error of the call; a missing
 * /proc/... file in a sysroot that has none is nothing to check.  Returns
 * the number of uses (0: free), -ENOMEM; @ret written on success (free
 * with vh_uses_done). */
int vh_pci_in_use(const struct vh_sys *sys, const struct vh_pci_dev *dev, struct vh_uses *ret);
void vh_uses_done(struct vh_uses *u);
/* The reasons as one text, joined by @sep (free()); NULL on ENOMEM. */
char *vh_uses_reasons(const struct vh_uses *u, const char *sep);
char *vh_uses_fixes(const struct vh_uses *u, const char *sep);
