/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The static vfio-hooks: this file is linked into it alone.  A static
 * program has no dynamic loader, so neither libvirt nor libudev; what needs
 * one of them is done by the twin, the same program linked dynamically
 * (vfio-hooks-dl, beside this program or in LIBEXECDIR), run with the same
 * arguments in place of this process.  That happens at once for a command
 * that may need a library (cli_twin_now), else at the first library asked
 * for (vh_dl_load: a device's name for a message of `check FILE`), which
 * comes before anything is written.  A clean `check FILE`, the common case,
 * starts as a static program (about 0.3 ms less a run: docs/bench).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/dl.h"
#include "../lib/util.h"
#include "cli.h"

static char **twin_argv;
static int twin_errno;

void cli_twin_arm(char **argv)
{
	twin_argv = argv;
}

void cli_twin_disarm(void)
{
	twin_argv = NULL;
}

/* Returns only when the twin could not be run (twin_errno says why). */
static void run_twin(char *path, size_t n)
{
	char self[PATH_MAX];
	ssize_t k;

	cli_twin_path(NULL, path, n);
	if (!twin_argv)
		return;
	/* This program's path, for what names it (the udev rule of `bind
	 * --persist` runs vfio-hooks, not its twin). */
	k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k > 0) {
		self[k] = '\0';
		setenv(CLI_FRONT_ENV, self, 1);
	} else {
		unsetenv(CLI_FRONT_ENV);
	}
	fflush(NULL);
	execv(path, twin_argv);
	twin_errno = errno;
	twin_argv = NULL; /* once */
	unsetenv(CLI_FRONT_ENV);
}

void cli_twin_now(void)
{
	char path[PATH_MAX];

	run_twin(path, sizeof(path));
}

int vh_dl_load(const char *lib, const struct vh_dl_sym *syms, size_t n, void *table, char *why,
	       size_t why_len)
{
	char path[PATH_MAX];

	(void)syms, (void)n, (void)table;
	run_twin(path, sizeof(path));
	snprintf(
	    why, why_len,
	    "%s: the static vfio-hooks loads no library, and its dynamically linked twin %s: %s",
	    lib, path, twin_errno ? strerror(twin_errno) : "was not run here");
	return -1;
}
