/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the profile reader (the XML layer, the schema, the model). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lib/paths.h"
#include "../lib/profile.h"
#include "../tests/fakesys.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char path[PATH_MAX];
	struct vh_profiles ps = {0};
	struct vh_err e = {0};
	int fd;

	if (!path[0]) {
		char *dir = fakesys_mkroot();
		if (!dir)
			abort();
		snprintf(path, sizeof(path), "%s/p.xml", dir);
		free(dir);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	(void)vh_profiles_load_file(&ps, path, vh_schema_path(), &e);
	vh_profiles_done(&ps);
	return 0;
}
