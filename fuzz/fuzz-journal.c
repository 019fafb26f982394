/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the journal reader, on a file in a private directory. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../lib/journal.h"
#include "../tests/fakesys.h"

#define UUID "6f1c3a52-8d0e-4b7e-9a55-000000000001"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char *dir;
	static int dirfd = -1;
	struct vh_journal j;
	struct vh_err e = {0};
	int fd;

	if (dirfd < 0) {
		dir = fakesys_mkroot();
		dirfd = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
		if (dirfd < 0)
			abort();
	}
	fd = openat(dirfd, UUID ".journal", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (vh_journal_load(dirfd, UUID, &j, &e) == 0)
		vh_journal_done(&j);
	return 0;
}
