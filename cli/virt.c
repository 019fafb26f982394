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
 * --all, attach-device, detach-device): linking it costs every other command about twenty
 * milliseconds and some fifty libraries. */
static struct {
	virConnectPtr (*ConnectOpen)(const char *);
	virConnectPtr (*ConnectOpenReadOnly)(const char *);
	int (*ConnectClose)(virConnectPtr);
	int (*ConnectListAllDomains)(virConnectPtr, virDomainPtr **, unsigned int);
	virDomainPtr (*DomainLookupByName)(virConnectPtr, const char *);
	const char *(*DomainGetName)(virDomainPtr);
	char *(*DomainGetXMLDesc)(virDomainPtr, unsigned int);
	int (*DomainIsPersistent)(virDomainPtr);
	int (*DomainFree)(virDomainPtr);
	int (*DomainIsActive)(virDomainPtr);
	int (*DomainGetUUIDString)(virDomainPtr, char *);
	int (*DomainAttachDeviceFlags)(virDomainPtr, const char *, unsigned int);
	int (*DomainDetachDeviceFlags)(virDomainPtr, const char *, unsigned int);
	virErrorPtr (*GetLastError)(void);
	void (*SetErrorFunc)(void *, virErrorFunc);
} V;

static int load_libvirt(void)
{
	static const struct vh_dl_sym syms[] = {
#define S(f) {.name = "vir" #f, .off = offsetof(__typeof__(V), f)}
	    S(ConnectOpen),
	    S(ConnectOpenReadOnly),
	    S(ConnectClose),
	    S(ConnectListAllDomains),
	    S(DomainLookupByName),
	    S(DomainGetName),
	    S(DomainGetXMLDesc),
	    S(DomainIsPersistent),
	    S(DomainFree),
	    S(DomainIsActive),
	    S(DomainGetUUIDString),
	    S(DomainAttachDeviceFlags),
	    S(DomainDetachDeviceFlags),
	    S(GetLastError),
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

struct virt_dom {
	virConnectPtr conn;
	virDomainPtr dom;
};

int virt_dom_open(const char *uri, const char *name, struct virt_dom **ret)
{
	struct virt_dom *v;

	if (load_libvirt() < 0)
		return EXIT_USAGE;
	V.SetErrorFunc(NULL, quiet);
	v = calloc(1, sizeof(*v));
	if (!v)
		return EXIT_USAGE;
	v->conn = V.ConnectOpen(uri ? uri : "qemu:///system");
	if (!v->conn) {
		fprintf(
		    stderr,
		    "vfio-hooks: cannot connect to libvirt at %s: %s\n"
		    "  Is the daemon running, and are you root (or in group libvirt)? Use --connect URI for another connection.\n",
		    uri ? uri : "qemu:///system", last_error());
		free(v);
		return EXIT_USAGE;
	}
	v->dom = V.DomainLookupByName(v->conn, name);
	if (!v->dom) {
		fprintf(stderr, "vfio-hooks: no domain '%s' at %s: %s\n", name,
			uri ? uri : "qemu:///system", last_error());
		virt_dom_close(v);
		return EXIT_USAGE;
	}
	*ret = v;
	return 0;
}

void virt_dom_close(struct virt_dom *v)
{
	if (!v)
		return;
	if (v->dom)
		V.DomainFree(v->dom);
	if (v->conn)
		V.ConnectClose(v->conn);
	free(v);
}

char *virt_dom_xml(struct virt_dom *v, bool inactive)
{
	return V.DomainGetXMLDesc(v->dom, inactive ? VIR_DOMAIN_XML_INACTIVE : 0);
}

int virt_dom_active(struct virt_dom *v)
{
	return V.DomainIsActive(v->dom);
}

int virt_dom_uuid(struct virt_dom *v, char out[37])
{
	char buf[VIR_UUID_STRING_BUFLEN];

	if (V.DomainGetUUIDString(v->dom, buf) < 0)
		return -1;
	snprintf(out, 37, "%s", buf);
	return 0;
}

int virt_dom_attach(struct virt_dom *v, const char *xml, bool live, bool config)
{
	return V.DomainAttachDeviceFlags(v->dom, xml,
					 (live ? VIR_DOMAIN_AFFECT_LIVE : 0) |
					     (config ? VIR_DOMAIN_AFFECT_CONFIG : 0));
}

int virt_dom_detach(struct virt_dom *v, const char *xml, bool live, bool config)
{
	return V.DomainDetachDeviceFlags(v->dom, xml,
					 (live ? VIR_DOMAIN_AFFECT_LIVE : 0) |
					     (config ? VIR_DOMAIN_AFFECT_CONFIG : 0));
}

const char *virt_error(void)
{
	return last_error();
}
