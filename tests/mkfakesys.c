/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mkfakesys ROOT SPEC: build a fake sysroot from a spec file (see
 * fakesys.h), for golden tests of the real binaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakesys.h"

int main(int argc, char **argv)
{
	char err[256] = "", *spec;
	size_t len = 0, cap = 1 << 16;
	FILE *f;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: mkfakesys ROOT SPEC\n");
		return 2;
	}
	f = strcmp(argv[2], "-") ? fopen(argv[2], "r") : stdin;
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	spec = malloc(cap + 1);
	while (spec && (r = (int)fread(spec + len, 1, cap - len, f)) > 0) {
		len += (size_t)r;
		if (len == cap)
			spec = realloc(spec, (cap *= 2) + 1);
	}
	if (!spec)
		return 2;
	spec[len] = '\0';
	r = fakesys_build(argv[1], spec, err, sizeof(err));
	free(spec);
	if (r < 0) {
		fprintf(stderr, "mkfakesys: %s: %s\n", argv[2], err[0] ? err : strerror(-r));
		return 1;
	}
	return 0;
}
