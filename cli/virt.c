/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "../lib/dl.h"
#include "cli.h"

/* libvirt is loaded only when a command talks to it (check --domain and
 * --all): linking it costs every other command about twenty milliseconds
 * and some fifty libraries. */
static struct {
	virConnectPtr (*ConnectOpenReadOnly)(const char *);
	int (*ConnectClose)(virConnectPtr);
	int (*ConnectListAllDomains)(virConnectPtr, virDomainPtr **, unsigned int);
	virDomainPtr (*DomainLookupByName)(virConnectPtr, const char *);
	const char *(*DomainGetName)(virDomainPtr);
	char *(*DomainGetXMLDesc)(virDomainPtr, unsigned int);
	int (*DomainIsPersistent)(virDomainPtr);
	int (*DomainFree)(virDomainPtr);
	virErrorPtr (*GetLastError)(void);
	void (*SetErrorFunc)(void *, virErrorFunc);
} V;

static int load_libvirt(void)
{
	static const struct vh_dl_sym syms[] = {
#define S(f) {.name = "vir" #f, .off = offsetof(__typeof__(V), f)}
	    S(ConnectOpenReadOnly), S(ConnectClose),  S(ConnectListAllDomains),
	    S(DomainLookupByName),  S(DomainGetName), S(DomainGetXMLDesc),
	    S(DomainIsPersistent),  S(DomainFree),    S(GetLastError),
	    S(SetErrorFunc),
#undef S
	};
	char why[256];

	if (vh_dl_load("libvirt.so.0", syms, ELEMENTSOF(syms), &V, why, sizeof(why)) < 0) {
		fprintf(stderr,
			"vfio-hooks: cannot load libvirt (%s): install the libvirt0 package\n",
			why);
		return -1;
	}
	return 0;
}

static void quiet(void *ud, virErrorPtr e)
{
	(void)ud;
	(void)e;
}

static const char *last_error(void)
{
	virErrorPtr e = V.GetLastError();

	return e && e->message ? e->message : "unknown error";
}

static int by_name(const void *a, const void *b)
{
	const char *x = V.DomainGetName(*(virDomainPtr const *)a);
	const char *y = V.DomainGetName(*(virDomainPtr const *)b);

	return strcmp(x ? x : "", y ? y : "");
}

static int one(virDomainPtr d, int (*fn)(void *, const char *, const char *), void *ud)
{
	const char *name = V.DomainGetName(d);
	char *xml, what[512];
	int r, persistent = V.DomainIsPersistent(d);

	/* The persistent definition is what the next start uses; a transient
	 * domain only has its live one. */
	xml = V.DomainGetXMLDesc(d, persistent == 1 ? VIR_DOMAIN_XML_INACTIVE : 0);
	if (!xml) {
		fprintf(stderr, "vfio-hooks: cannot get the XML of domain '%s': %s\n",
			name ? name : "?", last_error());
		return EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "domain '%s'", name ? name : "?");
	r = fn(ud, what, xml);
	free(xml);
	return r;
}

int virt_for_each_domain(const char *uri, const char *name,
			 int (*fn)(void *ud, const char *what, const char *xml), void *ud)
{
	virConnectPtr conn;
	int worst = EXIT_OK;

	if (load_libvirt() < 0)
		return EXIT_USAGE;
	V.SetErrorFunc(NULL, quiet);
	conn = V.ConnectOpenReadOnly(uri ? uri : "qemu:///system");
	if (!conn) {
		fprintf(
		    stderr,
		    "vfio-hooks: cannot connect to libvirt at %s: %s\n"
		    "  Is the daemon running (systemctl status libvirtd or virtqemud)? Use --connect URI for another connection.\n",
		    uri ? uri : "qemu:///system", last_error());
		return EXIT_USAGE;
	}
	if (name) {
		virDomainPtr d = V.DomainLookupByName(conn, name);
		if (!d) {
			fprintf(stderr, "vfio-hooks: no domain '%s' at %s: %s\n", name,
				uri ? uri : "qemu:///system", last_error());
			worst = EXIT_USAGE;
		} else {
			worst = one(d, fn, ud);
			V.DomainFree(d);
		}
	} else {
		virDomainPtr *doms = NULL;
		int n = V.ConnectListAllDomains(conn, &doms, 0);
		if (n < 0) {
			fprintf(stderr, "vfio-hooks: cannot list domains: %s\n", last_error());
			worst = EXIT_USAGE;
		}
		/* In name order: the daemon lists them in no set order. */
		if (n > 0)
			qsort(doms, (size_t)n, sizeof(*doms), by_name);
		for (int i = 0; i < n; i++) {
			int r = one(doms[i], fn, ud);
			if (r > worst)
				worst = r;
			V.DomainFree(doms[i]);
		}
		free(doms);
	}
	V.ConnectClose(conn);
	return worst;
}
