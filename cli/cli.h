/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vfio-hooks command: shared state of the sub-commands. */
#pragma once

#include <stdbool.h>

#include "../lib/check.h"
#include "../lib/config.h"
#include "../lib/profile.h"
#include "../lib/sysfs.h"

struct cli {
	const char *root;
	const char *profile_dirs[17]; /* --profiles, NULL-terminated */
	int n_profile_dirs;
	bool json;
	bool numeric;
	struct vh_check_opts check;
	bool companions_set;
	struct vh_config cfg; /* vfio-hooks.conf; options override it */
	const char *prog;
};

/* The sysroot in force: --root, VFIO_HOOKS_ROOT, then the configuration. */
int cli_sys(struct cli *cli, struct vh_sys **ret);
/* Profiles: --profiles, then the configuration, then the default path;
 * with @ids, only those that can match the devices. */
int cli_profiles(struct cli *cli, const struct vh_pci_id *ids, size_t n, struct vh_profiles *ret);

/* Exit codes, as documented in vfio-hooks(8). */
enum { EXIT_OK = 0, EXIT_FINDINGS = 1, EXIT_USAGE = 2 };

int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_recover(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_doctor(struct cli *cli, int argc, char **argv);
int cmd_snapshot(struct cli *cli, int argc, char **argv);
int cmd_bind(struct cli *cli, int argc, char **argv);
int cmd_unbind(struct cli *cli, int argc, char **argv);
int cmd_attach(struct cli *cli, int argc, char **argv);
int cmd_detach(struct cli *cli, int argc, char **argv);

/* Fetch domain XMLs over the libvirt API.  The only place the project
 * talks to libvirt.  @name NULL: every defined domain.  Calls @fn for each
 * with its XML; returns the worst of @fn's results, or EXIT_USAGE when
 * libvirt cannot be reached or the domain does not exist (message
 * printed). */
int virt_for_each_domain(const char *uri, const char *name,
			 int (*fn)(void *ud, const char *what, const char *xml), void *ud);

/* One domain over a read-write connection, for attach-device and
 * detach-device.  virt_dom_open prints why it fails (EXIT_USAGE). */
struct virt_dom;
int virt_dom_open(const char *uri, const char *name, struct virt_dom **ret);
void virt_dom_close(struct virt_dom *v);
/* The live XML, or the persistent one with @inactive; NULL on error
 * (virt_error()).  Caller frees. */
char *virt_dom_xml(struct virt_dom *v, bool inactive);
/* 1 running, 0 not, -1 error. */
int virt_dom_active(struct virt_dom *v);
int virt_dom_uuid(struct virt_dom *v, char out[37]);
/* virDomainAttachDeviceFlags / virDomainDetachDeviceFlags with
 * VIR_DOMAIN_AFFECT_LIVE and/or _CONFIG: 0, or -1 (virt_error()). */
int virt_dom_attach(struct virt_dom *v, const char *xml, bool live, bool config);
int virt_dom_detach(struct virt_dom *v, const char *xml, bool live, bool config);
/* libvirt's last error message. */
const char *virt_error(void);
