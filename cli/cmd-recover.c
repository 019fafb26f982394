/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks recover: finish every undo the journals record (after a crash
 * of the hook, or a release that could not complete). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "../lib/engine.h"
#include "cli.h"

static void say(void *ud, int level, const char *msg)
{
	(void)ud;
	syslog(level, "%s", msg);
	fprintf(stderr, "%s%s\n", level <= LOG_WARNING ? "warning: " : "", msg);
}

int cmd_recover(struct cli *cli, int argc, char **argv)
{
	_cleanup_sys_ struct vh_sys *sys = NULL;
	struct vh_engine en = {.cfg = &cli->cfg, .log = say};
	struct vh_err e = {0};
	bool force = argc == 2 && streq(argv[1], "--force");
	unsigned kept = 0;
	int r;

	if (argc > 2 || (argc == 2 && !force)) {
		fputs(
		    "Usage: vfio-hooks recover [--force]\n"
		    "Put back every device that a journal in /run/vfio-hooks records, but those of\na domain still running (a process has its /dev/vfio group open).\n"
		    "  --force   undo the journals of running domains too\n",
		    stderr);
		return EXIT_USAGE;
	}
	if (cli_sys(cli, &sys) < 0)
		return EXIT_USAGE;
	en.sys = sys;
	openlog("vfio-hooks", LOG_PID, LOG_DAEMON);
	r = vh_engine_recover(&en, force, &kept, &e);
	closelog();
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (r > 0) {
		fprintf(stderr,
			"vfio-hooks: %d device%s could not be restored: %s\n"
			"  Fix the cause and run 'vfio-hooks recover' again.\n",
			r, r > 1 ? "s" : "", e.msg);
		return EXIT_FINDINGS;
	}
	if (kept)
		printf(
		    "Every journal recovered but %u of running domain%s (kept; each gives its devices back when it stops).\n",
		    kept, kept > 1 ? "s" : "");
	else
		printf("Every journal recovered; nothing left.\n");
	return EXIT_OK;
}
