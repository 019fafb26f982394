/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "fast.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/util.h"

static const struct {
	const char *op;
	enum vh_hook_need need;
} ops[] = {
    {"prepare", VH_NEED_HOSTDEV}, {"start", VH_NEED_HOSTDEV},
    {"migrate", VH_NEED_HOSTDEV}, {"restore", VH_NEED_HOSTDEV},
    {"release", VH_NEED_JOURNAL}, {"reconnect", VH_NEED_JOURNAL},
};

enum vh_hook_need vh_hook_need(const char *op)
{
	for (size_t i = 0; i < ELEMENTSOF(ops); i++)
		if (streq(ops[i].op, op))
			return ops[i].need;
	return VH_NEED_NOTHING;
}

bool vh_hook_mentions_hostdev(const char *xml, size_t len)
{
	return memmem(xml, len, "hostdev", 7) != NULL;
}

void vh_hook_scan_uuid(const char *xml, size_t len, char out[37])
{
	const char *end = xml + len, *p = memmem(xml, len, "<uuid>", 6), *q;

	out[0] = '\0';
	if (!p)
		return;
	p += 6;
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t'))
		p++;
	q = p;
	while (q < end && *q != '<' && *q != ' ' && *q != '\n')
		q++;
	if (q - p == 36) {
		memcpy(out, p, 36);
		out[36] = '\0';
		if (!vh_uuid_valid(out))
			out[0] = '\0';
	}
}

int vh_hook_enter(int argc, char **argv)
{
	int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (nul >= 0) {
		dup2(nul, STDOUT_FILENO);
		close(nul);
	}
	if (argc < 3) {
		fprintf(stderr,
			"usage: %s DOMAIN OPERATION SUB-OPERATION EXTRA "
			"< domain.xml\n(run by libvirt)\n",
			argv[0]);
		return 2;
	}
	return 0;
}
