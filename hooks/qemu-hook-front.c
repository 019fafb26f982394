/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt hook's front end (QEMU's and libxl's: see vh_hook_kind).
 * libvirt runs it five times in every
 * VM's life; for the VMs that have nothing for vfio-hooks (no PCI hostdev,
 * no journal) it reads the XML and exits, linking nothing but libc.  When
 * there is work it hands the same argv and the same XML (in a memfd on
 * standard input) to qemu-hook-engine, which does it.
 *
 * Like the engine it never prints to standard output and never runs a
 * shell.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../lib/config.h"
#include "../lib/sysfs.h"
#include "fast.h"

#ifndef VH_LIBEXECDIR
#define VH_LIBEXECDIR "/usr/local/libexec/vfio-hooks"
#endif

/* The engine beside this program, else where it is installed. */
static void engine_path(char *out, size_t n)
{
	/* For tests and benchmarks (libvirt gives hooks a clean environment):
	 * the engine built with the fake kernel. */
	const char *env = secure_getenv("VFIO_HOOKS_ENGINE");

	if (env && *env)
		snprintf(out, n, "%s", env);
	else
		vh_sibling_path("qemu-hook-engine", VH_LIBEXECDIR, out, n);
}

static bool journal_exists(const char *xml, size_t len)
{
	struct vh_config cfg;
	struct vh_err e = {0};
	struct vh_sys *sys = NULL;
	char uuid[37];
	bool found = false;

	vh_hook_scan_uuid(xml, len, uuid);
	if (!uuid[0])
		return false;
	vh_config_init(&cfg);
	/* A broken configuration is the engine's to report; here only the
	 * root matters. */
	(void)vh_config_load(&cfg, vh_config_path(), &e);
	if (vh_sys_new(cfg.root ? cfg.root : secure_getenv("VFIO_HOOKS_ROOT"),
		       &sys) == 0) {
		found =
		    vh_sys_exists(sys, "/run/vfio-hooks/%s.journal", uuid) > 0;
		vh_sys_free(sys);
	}
	vh_config_done(&cfg);
	return found;
}

int main(int argc, char **argv)
{
	enum vh_hook_need need;
	struct vh_err e = {0};
	char engine[PATH_MAX], *xml = NULL;
	size_t len = 0;
	int fd, r;

	r = vh_hook_enter(argc, argv);
	if (r)
		return r;
	need = vh_hook_need(vh_hook_kind(argv[0]), argv[2]);
	if (need == VH_NEED_NOTHING)
		return 0;
	if (vh_read_fd_capped(STDIN_FILENO, "the domain XML on standard input",
			      16u << 20, &xml, &len, &e) < 0) {
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		return need == VH_NEED_HOSTDEV ? 1 : 0;
	}
	if (need == VH_NEED_HOSTDEV ? !vh_hook_mentions_hostdev(xml, len)
				    : !journal_exists(xml, len)) {
		free(xml);
		return 0;
	}

	/* Work to do: the engine gets the XML exactly as libvirt gave it. */
	fd = memfd_create("vfio-hooks-domain-xml", 0);
	if (fd < 0 || write(fd, xml, len) != (ssize_t)len ||
	    lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, STDIN_FILENO) < 0) {
		fprintf(stderr,
			"vfio-hooks: cannot pass the domain XML on: %m\n");
		free(xml);
		return need == VH_NEED_HOSTDEV ? 1 : 0;
	}
	close(fd);
	free(xml);
	engine_path(engine, sizeof(engine));
	execv(engine, argv);
	fprintf(stderr,
		"vfio-hooks: cannot run %s: %m (reinstall vfio-hooks)\n",
		engine);
	return need == VH_NEED_HOSTDEV ? 1 : 0;
}
