/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks snapshot -o FILE.tar: what vfio-hooks reads from this host, as
 * a tree that --root replays (for bug reports and test fixtures). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/snapshot.h"
#include "cli.h"

int cmd_snapshot(struct cli *cli, int argc, char **argv)
{
	_cleanup_sys_ struct vh_sys *sys = NULL;
	const char *out = NULL;
	char tmp[4096];
	struct vh_err e = {0};
	int fd, r;

	for (int i = 1; i < argc; i++) {
		if ((streq(argv[i], "-o") || streq(argv[i], "--output")) && i + 1 < argc)
			out = argv[++i];
		else {
			fputs(
			    "Usage: vfio-hooks snapshot -o FILE.tar (- for standard output)\nCapture the read-only part of /sys and /proc that vfio-hooks reads; replay it with --root.\n",
			    streq(argv[i], "--help") ? stdout : stderr);
			return streq(argv[i], "--help") ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (!out) {
		fputs("vfio-hooks snapshot: -o FILE.tar is required\n", stderr);
		return EXIT_USAGE;
	}
	if (cli_sys(cli, &sys) < 0)
		return EXIT_USAGE;
	if (streq(out, "-")) {
		r = vh_snapshot_write(sys, STDOUT_FILENO, &e);
	} else {
		/* Written aside and renamed: never a half archive. */
		snprintf(tmp, sizeof(tmp), "%s.tmp.%d", out, (int)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "vfio-hooks: cannot create %s: %s\n", tmp, strerror(errno));
			return EXIT_USAGE;
		}
		r = vh_snapshot_write(sys, fd, &e);
		if (close(fd) < 0 && r >= 0)
			r = vh_err_set(&e, -errno, "Cannot write %s: %s.", out, strerror(errno));
		if (r >= 0 && rename(tmp, out) < 0)
			r = vh_err_set(&e, -errno, "Cannot rename %s: %s.", tmp, strerror(errno));
		if (r < 0)
			unlink(tmp);
	}
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		return EXIT_USAGE;
	}
	fprintf(stderr, "vfio-hooks: %d entries written to %s\n", r, out);
	return EXIT_OK;
}
