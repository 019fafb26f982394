/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit tests' shared helpers: see harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/pci.h"
#include "../../lib/profile.h"
#include "../../lib/sysfs.h"
#include "../fakesys.h"

void assert_contains(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("\"%s\" does not contain \"%s\"", hay ? hay : "(null)", needle);
}

void assert_not_contains(const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle))
		fail_msg("\"%s\" contains \"%s\"", hay, needle);
}

void hx_rmroot(char **root)
{
	if (*root) {
		fakesys_rmrf(*root);
		free(*root);
		*root = NULL;
	}
}

void hx_build(const char *root, struct vh_sys **sys, const char *spec)
{
	char err[256] = "";

	if (fakesys_build(root, spec, err, sizeof(err)) < 0)
		fail_msg("fakesys_build: %s", err);
	assert_int_equal(vh_sys_new(root, sys), 0);
	assert_string_equal(vh_sys_root(*sys), root);
}

void hx_host(char **root, struct vh_sys **sys, const char *spec)
{
	*sys = vh_sys_free(*sys);
	hx_rmroot(root);
	*root = fakesys_mkroot();
	assert_non_null(*root);
	hx_build(*root, sys, spec);
}

int hx_profiles_load(struct vh_profiles *p)
{
	const char *d = getenv("VFIO_HOOKS_DATADIR");
	char dir[4096], schema[4096];
	const char *dirs[] = {dir, NULL};
	struct vh_err e = {0};

	if (!d || !*d)
		d = "xml";
	snprintf(dir, sizeof(dir), "%s/profiles", d);
	snprintf(schema, sizeof(schema), "%s/profile.rng", d);
	if (vh_profiles_load(dirs, schema, p, &e) < 0) {
		fprintf(stderr, "loading profiles: %s\n", e.msg);
		return -1;
	}
	/* Labels without hwdb names, the same on every machine: a gateway
	 * has no name provider unless given one. */
	return 0;
}

char *hx_slurp(const char *path)
{
	char *buf;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	return buf;
}
