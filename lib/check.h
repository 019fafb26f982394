/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Judging a domain against what its passed-through PCI devices need.
 * Only the domain's hostdevs and their IOMMU group members are read from
 * sysfs: checking never scans every device of the host.
 */
#pragma once

#include <stdbool.h>

#include "domain.h"
#include "pci.h"
#include "profile.h"
#include "util.h"

enum vh_severity { VH_INFO = 0, VH_WARNING, VH_ERROR };
const char *vh_severity_name(enum vh_severity s);

/* The rules, in the order they are evaluated.  Their textual ids
 * (vh_rule_id_to_string) are stable: messages, JSON output, tests and
 * users depend on them. */
enum vh_rule_id {
	VH_RULE_NETWORK_HOSTDEV,
	VH_RULE_BAD_ADDRESS,
	VH_RULE_DEVICE_DUPLICATE,
	VH_RULE_DEVICE_MISSING,
	VH_RULE_SRIOV_VF_CREATE,
	VH_RULE_SRIOV_NUMVFS_BUSY,
	VH_RULE_DEVICE_UNREADABLE,
	VH_RULE_DEVICE_BRIDGE,
	VH_RULE_HOST_IOMMU_OFF,
	VH_RULE_DEVICE_IN_USE,
	VH_RULE_SRIOV_PF_ASSIGNED,
	VH_RULE_KERNEL_MODULE_MISSING,
	VH_RULE_MACHINE_Q35,
	VH_RULE_VIOMMU_MISPLACED,
	VH_RULE_VIOMMU_MISSING,
	VH_RULE_VIOMMU_INTREMAP,
	VH_RULE_VIOMMU_CACHING_MODE,
	VH_RULE_VIOMMU_EIM,
	VH_RULE_IOAPIC_SPLIT,
	VH_RULE_VIOMMU_ORDER,
	VH_RULE_DEVICE_NOT_BOUND,
	VH_RULE_GROUP_NOT_VIABLE,
	VH_RULE_GROUP_COMPANIONS_BIND,
	VH_RULE_MEMLOCK_TOO_LOW,
	VH_RULE_MMIO_WINDOW,
	VH_RULE_XEN_PV_UNSUPPORTED,
	_VH_RULE_MAX,
};
/* "bad-address" for VH_RULE_BAD_ADDRESS; "?" when out of range. */
const char *vh_rule_id_to_string(enum vh_rule_id id);

/* What a rule function reads: the domain, the host, the resolved devices;
 * what it writes: findings (private to check.c). */
struct vh_check_ctx;

/* The rule catalog, one entry per rule, indexed by its id. */
struct vh_rule_info {
	enum vh_rule_id id;
	/* The MESSAGE_ID of its findings in the journal (fixed: `journalctl
	 * MESSAGE_ID=...` and the catalog, lib/log.c, depend on it). */
	const char *message_id;
	/* The severity of its findings. */
	enum vh_severity severity;
	/* Some of its findings have this other severity instead, in the
	 * case .when says; .when NULL: none has. */
	struct {
		enum vh_severity severity;
		const char *when;
	} other;
	const char *summary;
	/* Its errors refuse the VM in mode warn too (only mode off lets it
	 * start): what it guards is the host's, not the VM's. */
	bool refuses_in_warn;
	/* Its errors stop 'vfio-hooks bind': the device itself is not
	 * usable (what a VM would need is the business of 'check').  The
	 * fix shown is .bind_fix, or the finding's own when NULL. */
	bool blocks_bind;
	const char *bind_fix;
	/* Its fix on a domain OpenStack Nova wrote (vh_domain.nova), which a
	 * user changes through Nova's settings (flavor extra specs, image
	 * properties, nova.conf), not the XML: shown beside the XML fix of
	 * each finding that has one.  NULL: none (Nova adds nothing to the
	 * fix, or the rule never judges a domain Nova writes). */
	const char *fix_nova;
	/* Evaluates it.  Rules evaluated by the same function are adjacent
	 * in the catalog; the function runs once, for the first of them. */
	void (*check)(struct vh_check_ctx *c);
};
extern const struct vh_rule_info vh_rules[_VH_RULE_MAX];
extern const size_t vh_n_rules;
/* The catalog's entry for the textual @id, NULL when unknown. */
const struct vh_rule_info *vh_rule_lookup(const char *id);

struct vh_finding {
	enum vh_rule_id id;
	const char *rule;	   /* its textual id, vh_rule_id_to_string(id) */
	enum vh_severity severity; /* vh_rules[id].severity or .other.severity */
	bool has_addr;
	struct vh_pci_addr addr; /* the (first) device concerned */
	char **devices;		 /* every device concerned, NULL-terminated */
	char *message;		 /* what is wrong, naming the device */
	char *why;		 /* which profile or capability asks for it */
	char *fix_where;	 /* where the fix goes ("<devices>") */
	char *fix;		 /* the exact XML (or action) */
	/* The fix in OpenStack Nova's terms (vh_rules[id].fix_nova), when
	 * the domain is Nova's and the finding has a fix; NULL else. */
	const char *fix_nova;
};

/* One hostdev as resolved against the host. */
struct vh_resolved {
	const struct vh_hostdev *hd;
	struct vh_pci_dev dev; /* valid when hd->addr_ok */
	const struct vh_profile *profile;
	struct vh_needs needs;
	char needs_why[512]; /* why the device has those needs */
	/* "0000:01:00.0 (Name) [17cb:a100]": made when a finding names the
	 * device (check.c's label()), empty until then. */
	char label[192];
	struct vh_pci_addr *group;
	int n_group;
	bool duplicate; /* a later copy of an address already listed */
	/* An SR-IOV VF that does not exist yet: VF @vf_n of @vf_pf, which
	 * has @pf_numvfs VFs now.  Its profile and needs are those of the
	 * VF's IDs (the PF's vendor, the capability's VF Device ID). */
	bool vf_create;
	struct vh_pci_addr vf_pf;
	unsigned vf_n;
	int pf_numvfs;
	/* Endpoints of the device's group that are on a host driver and not
	 * in the domain; companions_ok when the policy lets the hook bind
	 * them.  Set on the first device of each group only, while the
	 * devices are resolved (before any rule): what the engine binds. */
	struct vh_pci_addr *companions;
	int n_companions;
	bool companions_ok;
};

/* Which hypervisor's rules apply: QEMU/KVM (q35, the vIOMMU, the I/O
 * APIC) or Xen through libxl (HVM only where a profile says; no IOMMU
 * groups in dom0: Xen owns the IOMMU). */
enum vh_hypervisor {
	VH_HV_AUTO = 0, /* from <domain type=...>: 'xen' is Xen */
	VH_HV_QEMU,
	VH_HV_XEN,
};

struct vh_check_opts {
	/* Companion policy when the device's profile has none. */
	enum vh_companions companions;
	/* Nobody will bind the devices for the VM (a QEMU started by hand):
	 * each must already be on a vfio driver. */
	bool require_bound;
	/* The libxl hook says Xen whatever the XML says. */
	enum vh_hypervisor hypervisor;
	/* Profiles on demand: called once, after the devices are read and
	 * before any is matched, with the IDs of the devices whose profiles
	 * will be looked up (NULL, 0: one of them is unknown, so every
	 * device), so that the caller can load just those into the profiles
	 * given to vh_check_domain (vh_profiles_want).  A negative return
	 * fails the check with it. */
	int (*load_profiles)(void *ud, const struct vh_pci_id *ids, size_t n);
	void *load_ud;
};

struct vh_report {
	const struct vh_domain *dom;
	struct vh_resolved *devs;
	size_t n_devs;
	struct vh_finding *findings;
	size_t n_findings;
	unsigned n_error, n_warning, n_info;
};

/* Check @dom.  Fails only on out-of-memory; everything about the domain or
 * the host is a finding. */
int vh_check_domain(const struct vh_sys *sys, const struct vh_profiles *ps,
		    const struct vh_domain *dom, const struct vh_check_opts *opts,
		    struct vh_report *ret);
void vh_report_done(struct vh_report *r);
/* Keep only the findings @keep says yes to (the counts follow): a
 * hot-plug judges what the new device brings, not what the domain has had
 * since its start. */
void vh_report_keep(struct vh_report *r, bool (*keep)(const struct vh_finding *f, void *ud),
		    void *ud);
/* Whether libvirt has an active <forward mode='hostdev'> network (its
 * status in /run/libvirt/network says so), from which an <interface
 * type='network'> can get a PCI device. */
bool vh_hostdev_networks(const struct vh_sys *sys);
/* How many error findings refuse the VM even in mode warn
 * (vh_rule_info.refuses_in_warn): device-in-use, device-bridge. */
unsigned vh_report_n_refusing_in_warn(const struct vh_report *r);

/* Render for people (one block per finding, then a summary line). */
void vh_report_text(const struct vh_report *r, struct vh_buf *out);
/* Render as one JSON object. */
void vh_report_json(const struct vh_report *r, struct vh_buf *out);
/* The findings folded into short lines for a one-line error (libvirt puts
 * a hook's stderr into a single error message). */
void vh_report_oneline(const struct vh_report *r, enum vh_severity min, struct vh_buf *out);
/* One finding folded into one line, without the line break: the hook logs
 * each at its own severity. */
void vh_finding_oneline(const struct vh_finding *f, struct vh_buf *out);
