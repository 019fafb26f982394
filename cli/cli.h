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

/* The static vfio-hooks hands over to its dynamically linked twin
 * (cli/twin.c): cli_twin_arm (main) makes the first library asked for run
 * the twin with @argv; cli_twin_disarm, once output starts, stops that;
 * cli_twin_now runs it at once.  No-ops in the dynamically linked program
 * (weak definitions in cli/main.c); each returns only when the twin is not
 * run. */
void cli_twin_arm(char **argv);
void cli_twin_disarm(void);
void cli_twin_now(void);
/* Set for the twin: the path of the static vfio-hooks that ran it (what a
 * udev rule of `bind --persist` runs). */
#define CLI_FRONT_ENV "VFIO_HOOKS_FRONT"
#define CLI_TWIN "vfio-hooks-dl"
#ifndef VH_LIBEXECDIR
#define VH_LIBEXECDIR "/usr/local/libexec/vfio-hooks"
#endif
/* The twin of the vfio-hooks at @front (NULL: this program): beside it,
 * else in LIBEXECDIR. */
static inline void cli_twin_path(const char *front, char *out, size_t n)
{
	if (front)
		vh_sibling_path_of(front, CLI_TWIN, VH_LIBEXECDIR, out, n);
	else
		vh_sibling_path(CLI_TWIN, VH_LIBEXECDIR, out, n);
}

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
