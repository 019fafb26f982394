/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV virtual functions that do not exist yet.  A VF's routing ID is its
 * physical function's plus the SR-IOV capability's First VF Offset plus
 * (n - 1) times its VF Stride (PCIe base spec, "SR-IOV Extended
 * Capability"), in the PF's PCI domain: so a hostdev's address names one VF
 * number of one PF, and the hook can create it on prepare by setting
 * sriov_numvfs (from 0 only) and remove it on release.
 */
#pragma once

#include <stdbool.h>

#include "pci.h"
#include "sysfs.h"

/* The address of VF @n (1-based) of @pf; -ERANGE when past the bus range
 * or past TotalVFs, -EINVAL when @pf has no SR-IOV capability. */
int vh_sriov_vf_addr(const struct vh_pci_dev *pf, unsigned n, struct vh_pci_addr *ret);
/* The VF number of @vf under @pf (1-based); -ENOENT when it is none of
 * its VFs. */
int vh_sriov_vf_number(const struct vh_pci_dev *pf, const struct vh_pci_addr *vf, unsigned *ret);
/* The PF of this host that would create @vf, and its VF number: scans the
 * SR-IOV capable functions of @vf's PCI domain (only done for an address
 * that does not exist).  1 found, 0 none, -errno. */
int vh_sriov_find_pf(const struct vh_sys *sys, const struct vh_pci_addr *vf,
		     struct vh_pci_dev *ret_pf, unsigned *ret_n);
