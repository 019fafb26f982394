/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the hook can decide without parsing anything: which operations can
 * have work, and whether this VM gives them any.  Most VMs of a host have
 * no PCI hostdev and must pay nothing for the hook: the hook (and the
 * wrapper's libc-only front end) decide with this before any
 * configuration, profile or XML parser is touched.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum vh_hook_need {
	VH_NEED_NOTHING = 0,
	VH_NEED_HOSTDEV,  /* prepare, start, migrate, restore */
	VH_NEED_JOURNAL,  /* release, reconnect */
};

/* One hypervisor's hook.  The same program is libvirt's qemu hook and
 * its libxl hook; which one it is comes from where libvirt ran it
 * (.../qemu.d/... or .../libxl.d/...), else the name it was run by. */
struct vh_hook_op {
	const char *op;
	enum vh_hook_need need;
};
struct vh_hook_kind {
	const char *name;   /* libvirt's: "qemu", "libxl" */
	const char *target; /* the driver the hook binds devices to */
	bool xen;	    /* Xen's rules, and pciback instead of vfio */
	const struct vh_hook_op *ops; /* the operations that can have work */
	size_t n_ops;
};
const struct vh_hook_kind *vh_hook_kind(const char *argv0);
enum vh_hook_need vh_hook_need(const struct vh_hook_kind *k, const char *op);
bool vh_hook_mentions_hostdev(const char *xml, size_t len);
/* The domain's UUID by a plain scan; "" when there is none or it is not a
 * UUID.  @out holds 37 bytes. */
void vh_hook_scan_uuid(const char *xml, size_t len, char out[37]);

/* What the hook does first: send standard output
 * to /dev/null (libvirt takes a hook's stdout as replacement XML, and no
 * library may print there), and check the arguments.  Returns 0, or the
 * exit status for a call that is not libvirt's. */
int vh_hook_enter(int argc, char **argv);
