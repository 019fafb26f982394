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

/* Fetch domain XMLs over the libvirt API.  The only place the project
 * talks to libvirt.  @name NULL: every defined domain.  Calls @fn for each
 * with its XML; returns the worst of @fn's results, or EXIT_USAGE when
 * libvirt cannot be reached or the domain does not exist (message
 * printed). */
int virt_for_each_domain(const char *uri, const char *name,
			 int (*fn)(void *ud, const char *what, const char *xml), void *ud);
