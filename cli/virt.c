/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void quiet(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

static const char *last_error(void)
{
	virErrorPtr e = virGetLastError();

	return e && e->message ? e->message : "unknown error";
}

static int by_name(const void *a, const void *b)
{
	const char *x = virDomainGetName(*(virDomainPtr const *)a);
	const char *y = virDomainGetName(*(virDomainPtr const *)b);

	return strcmp(x ? x : "", y ? y : "");
}

static int one(virDomainPtr d, int (*fn)(void *, const char *, const char *),
	       void *ud)
{
	const char *name = virDomainGetName(d);
	char *xml, what[512];
	int r, persistent = virDomainIsPersistent(d);

	/* The persistent definition is what the next start uses; a transient
	 * domain only has its live one. */
	xml = virDomainGetXMLDesc(d, persistent == 1 ? VIR_DOMAIN_XML_INACTIVE
						     : 0);
	if (!xml) {
		fprintf(stderr,
			"vfio-hooks: cannot get the XML of domain '%s': "
			"%s\n",
			name ? name : "?", last_error());
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "domain '%s'", name ? name : "?");
	r = fn(ud, what, xml);
	free(xml);
	return r;
}

int virt_for_each_domain(const char *uri, const char *name,
			 int (*fn)(void *ud, const char *what, const char *xml),
			 void *ud)
{
	virConnectPtr conn;
	int worst = EXIT_OK;

	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpenReadOnly(uri ? uri : "qemu:///system");
	if (!conn) {
		fprintf(
		    stderr,
		    "vfio-hooks: cannot connect to libvirt at %s: %s\n"
		    "  Is the daemon running (systemctl status libvirtd or "
		    "virtqemud)? Use --connect URI for another connection.\n",
		    uri ? uri : "qemu:///system", last_error());
		return EXIT_USAGE;
	}
	if (name) {
		virDomainPtr d = virDomainLookupByName(conn, name);
		if (!d) {
			fprintf(stderr,
				"vfio-hooks: no domain '%s' at %s: %s\n", name,
				uri ? uri : "qemu:///system", last_error());
			worst = EXIT_USAGE;
		} else {
			worst = one(d, fn, ud);
			virDomainFree(d);
		}
	} else {
		virDomainPtr *doms = NULL;
		int n = virConnectListAllDomains(conn, &doms, 0);
		if (n < 0) {
			fprintf(stderr, "vfio-hooks: cannot list domains: %s\n",
				last_error());
			worst = EXIT_USAGE;
		}
		/* In name order: the daemon lists them in no set order. */
		if (n > 0)
			qsort(doms, (size_t)n, sizeof(*doms), by_name);
		for (int i = 0; i < n; i++) {
			int r = one(doms[i], fn, ud);
			if (r > worst)
				worst = r;
			virDomainFree(doms[i]);
		}
		free(doms);
	}
	virConnectClose(conn);
	return worst;
}
