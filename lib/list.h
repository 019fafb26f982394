/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI functions that matter for passthrough, as `vfio-hooks list`
 * shows them: gathered from the host (read-only), then rendered as text
 * or JSON, as the check's and the doctor's reports are.
 */
#pragma once

#include "config.h"
#include "inuse.h"
#include "pci.h"
#include "profile.h"
#include "sysfs.h"
#include "util.h"

/* One function. */
struct vh_listed {
	struct vh_pci_dev dev;
	const struct vh_profile *profile; /* the matching one, or NULL */
	char vendor_name[96], model_name[128];
	char held[256];		   /* the domain holding it per the journals, "" none */
	char unknown[160];	   /* why the journals could not say, "" when they could */
	struct vh_pci_addr *group; /* the IOMMU group's members */
	int n_group;
	struct vh_uses uses; /* what the check's device-in-use rule would say */
	/* On a vfio driver: why (vh_vfio_explain), or nothing explains it
	 * (stray: 'vfio-hooks unbind' gives it back). */
	char vfio_why[256];
	bool stray;
};

struct vh_listing {
	struct vh_listed *v;
	size_t n;
	bool all; /* every function, not only the interesting ones */
};

/* Read the functions (@all: every one; else those a profile matches or of
 * an accelerator, display or co-processor class).  -errno when the
 * functions cannot be listed (/sys/bus/pci/devices), -ENOMEM. */
int vh_listing_gather(struct vh_sys *sys, const struct vh_profiles *ps, const struct vh_config *cfg,
		      bool all, struct vh_listing *ret);
void vh_listing_done(struct vh_listing *l);
/* Why @d is on a vfio driver: a journal holds it (a domain's, or a binding
 * of `vfio-hooks bind`), a process has its VFIO node open (a running VM),
 * a boot binding (`bind --persist`'s udev rule, vfio-pci.ids= on the
 * kernel command line or in /etc/modprobe.d, a driverctl override).  1
 * with the reason in @why; 0 when nothing does (a device left behind by a
 * hot-plug that ran no hook, a crash, a hand bind); -errno when the
 * journals cannot be read. */
int vh_vfio_explain(const struct vh_sys *sys, const struct vh_config *cfg,
		    const struct vh_pci_dev *d, char *why, size_t n);
void vh_listing_text(const struct vh_listing *l, struct vh_buf *out);
void vh_listing_json(const struct vh_listing *l, struct vh_buf *out);
