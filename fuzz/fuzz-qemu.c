/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the QEMU command-line reader.  The input is split at NUL
 * bytes into arguments. */
#include <stdlib.h>
#include <string.h>

#include "../lib/qemuargs.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *copy = malloc(size + 1), **argv;
	struct vh_domain *d = NULL;
	struct vh_err e = {0};
	int argc = 1;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i < size; i++)
		argc += copy[i] == '\0';
	argv = calloc((size_t)argc + 2, sizeof(*argv));
	if (!argv) {
		free(copy);
		return 0;
	}
	argv[0] = (char *)"qemu-system-x86_64";
	argc = 1;
	for (char *p = copy; p <= copy + size; p += strlen(p) + 1)
		argv[argc++] = p;
	/* -readconfig would read files named by the input: not here. */
	for (int i = 1; i < argc; i++)
		if (strstr(argv[i], "readconfig"))
			argv[i] = (char *)"-S";
	(void)vh_qemu_mentions_vfio(argc, argv);
	if (vh_qemu_parse(argc, argv, &d, &e) == 0)
		vh_domain_free(d);
	free(argv);
	free(copy);
	return 0;
}
