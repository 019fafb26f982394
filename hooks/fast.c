/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "fast.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/util.h"

/* libvirt's hooks.html: qemu has prepare, start, started, stopped,
 * release, migrate, restore, reconnect, attach; libxl (libxl_domain.c,
 * libxl_driver.c, libxl_migration.c) the same but restore and attach.
 * prepare runs before libvirt prepares the hostdevs (managed='yes' ones
 * go to pciback there, as to vfio-pci for QEMU), release after it gave
 * them back. */
static const struct vh_hook_op qemu_ops[] = {
    {"prepare", VH_NEED_HOSTDEV}, {"start", VH_NEED_HOSTDEV},	{"migrate", VH_NEED_HOSTDEV},
    {"restore", VH_NEED_HOSTDEV}, {"release", VH_NEED_JOURNAL}, {"reconnect", VH_NEED_JOURNAL},
};
static const struct vh_hook_op libxl_ops[] = {
    {"prepare", VH_NEED_HOSTDEV}, {"start", VH_NEED_HOSTDEV},	  {"migrate", VH_NEED_HOSTDEV},
    {"release", VH_NEED_JOURNAL}, {"reconnect", VH_NEED_JOURNAL},
};
static const struct vh_hook_kind kinds[] = {
    {"qemu", "vfio-pci", false, qemu_ops, ELEMENTSOF(qemu_ops)},
    {"libxl", "pciback", true, libxl_ops, ELEMENTSOF(libxl_ops)},
};

/* "libxl" for .../libxl.d/NAME or a program named libxl. */
static bool named(const char *argv0, const char *name)
{
	size_t n = strlen(name);
	const char *base = strrchr(argv0, '/');

	for (const char *p = argv0; (p = strstr(p, name)); p += n)
		if ((p == argv0 || p[-1] == '/') && strncmp(p + n, ".d/", 3) == 0)
			return true;
	return streq(base ? base + 1 : argv0, name);
}

const struct vh_hook_kind *vh_hook_kind(const char *argv0)
{
	for (size_t i = 1; argv0 && i < ELEMENTSOF(kinds); i++)
		if (named(argv0, kinds[i].name))
			return &kinds[i];
	return &kinds[0];
}

enum vh_hook_need vh_hook_need(const struct vh_hook_kind *k, const char *op)
{
	for (size_t i = 0; i < k->n_ops; i++)
		if (streq(k->ops[i].op, op))
			return k->ops[i].need;
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
		fprintf(
		    stderr,
		    "usage: %s DOMAIN OPERATION SUB-OPERATION EXTRA < domain.xml\n(run by libvirt)\n",
		    argv[0]);
		return 2;
	}
	return 0;
}
