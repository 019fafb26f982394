/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the VM: which hypervisor runs it, and whether the passed-through
 * devices arrived as their profiles need them (visible, driver bound,
 * enough MSI vectors, an IOMMU with interrupt remapping where the
 * hypervisor can give one, a kernel with the fixes the hypervisor needs).
 * Read-only; everything through the sysfs gateway.
 */
#pragma once

#include "host.h"

/* The hypervisor the guest runs under, as the checks name it. */
struct vh_hypervisor_info {
	const char *id;	  /* "kvm", "hyper-v", "xen", "vmware", "unknown",
			     "none" */
	const char *name; /* for messages */
	char evidence[160];
};
void vh_guest_hypervisor(const struct vh_sys *sys, struct vh_hypervisor_info *ret);

/* The doctor's guest checks.  @devices limits the device checks; NULL:
 * every interesting device.  Fails only on ENOMEM. */
int vh_guest_doctor(const struct vh_sys *sys, const struct vh_profiles *ps,
		    const struct vh_pci_addr *devices, size_t n_devices, struct vh_hostreport *ret);
