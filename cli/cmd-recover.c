/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks recover: finish every undo the journals record (after a crash
 * of the hook, or a release that could not complete). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "../lib/engine.h"
#include "cli.h"

/* The engine's log: to the system log (@ud, a struct vh_logger), and
 * to stderr. */
static void say(void *ud, const struct vh_log_entry *e)
{
	vh_log_send(ud, e);
	fprintf(stderr, "%s%s\n", e->level <= LOG_WARNING ? "warning: " : "", e->message);
}

int cmd_recover(struct cli *cli, int argc, char **argv)
{
	_cleanup_sys_ struct vh_sys *sys = NULL;
	struct vh_logger lg = {.operation = "recover"};
	struct vh_engine en = {.cfg = &cli->cfg, .log = say, .log_ud = &lg};
	struct vh_err e = {0};
	bool force = argc == 2 && streq(argv[1], "--force");
	bool help = argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"));
	unsigned kept = 0;
	int r;

	if (argc > 2 || (argc == 2 && !force)) {
		fputs(
		    "Usage: vfio-hooks recover [--force]\n"
		    "Put back every device that a journal in /run/vfio-hooks records, but those of\na domain still running (a process has its /dev/vfio group open).\n"
		    "  --force   undo the journals of running domains too\n",
		    help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	if (cli_sys(cli, &sys) < 0)
		return EXIT_USAGE;
	en.sys = sys;
	r = vh_engine_recover(&en, force, &kept, &e);
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
