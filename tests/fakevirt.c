/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in for libvirt.so.0 with the calls `vfio-hooks attach-device`,
 * `detach-device` and `check --domain` make, for tests on a fake sysroot
 * (tests/hook/hotplug.sh puts it first on LD_LIBRARY_PATH).  Domains are
 * files in $FAKEVIRT_DIR: NAME.xml the persistent definition, NAME.live.xml
 * the running domain's XML (there while it runs).  Every call is appended
 * to $FAKEVIRT_DIR/calls.  Behaviour on demand: a file "fail-attach" makes
 * attaching fail; "hold" makes a live detach leave the device in the XML
 * (a guest that does not release it).
 */
#define _GNU_SOURCE
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct _virConnect {
	int dummy;
};
struct _virDomain {
	char name[256];
};

static struct _virConnect the_conn;
static virError last;
static char last_msg[512];

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	last.message = last_msg;
}

static const char *dir(void)
{
	const char *d = getenv("FAKEVIRT_DIR");
	return d ? d : "/nonexistent";
}

static void logcall(const char *fmt, ...)
{
	char p[4096];
	va_list ap;
	FILE *f;

	snprintf(p, sizeof(p), "%s/calls", dir());
	f = fopen(p, "a");
	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static char *slurp(const char *name, const char *suffix)
{
	char p[4096], *buf = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s%s", dir(), name, suffix);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	buf = calloc(1, 1 << 20);
	if (buf)
		n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

static int spit(const char *name, const char *suffix, const char *text)
{
	char p[4096];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s%s", dir(), name, suffix);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static bool exists(const char *name)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s", dir(), name);
	return access(p, F_OK) == 0;
}

virConnectPtr virConnectOpen(const char *uri)
{
	logcall("open %s", uri ? uri : "");
	return &the_conn;
}

virConnectPtr virConnectOpenReadOnly(const char *uri)
{
	logcall("open-ro %s", uri ? uri : "");
	return &the_conn;
}

int virConnectClose(virConnectPtr c)
{
	(void)c;
	return 0;
}

int virConnectListAllDomains(virConnectPtr c, virDomainPtr **doms, unsigned int flags)
{
	(void)c;
	(void)flags;
	*doms = NULL;
	return 0;
}

virDomainPtr virDomainLookupByName(virConnectPtr c, const char *name)
{
	char *x;
	virDomainPtr d;

	(void)c;
	x = slurp(name, ".xml");
	if (!x) {
		fail("Domain not found: no domain with matching name '%s'", name);
		return NULL;
	}
	free(x);
	d = calloc(1, sizeof(*d));
	if (d)
		snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

const char *virDomainGetName(virDomainPtr d)
{
	return d->name;
}

int virDomainFree(virDomainPtr d)
{
	free(d);
	return 0;
}

int virDomainIsPersistent(virDomainPtr d)
{
	(void)d;
	return 1;
}

int virDomainIsActive(virDomainPtr d)
{
	char *x = slurp(d->name, ".live.xml");

	free(x);
	return x != NULL;
}

char *virDomainGetXMLDesc(virDomainPtr d, unsigned int flags)
{
	char *x = (flags & VIR_DOMAIN_XML_INACTIVE) ? NULL : slurp(d->name, ".live.xml");

	if (!x)
		x = slurp(d->name, ".xml");
	if (!x)
		fail("cannot read the XML of '%s'", d->name);
	return x;
}

int virDomainGetUUIDString(virDomainPtr d, char *buf)
{
	char *x = slurp(d->name, ".xml"), *u = x ? strstr(x, "<uuid>") : NULL;

	if (!u) {
		free(x);
		fail("no uuid");
		return -1;
	}
	snprintf(buf, VIR_UUID_STRING_BUFLEN, "%.36s", u + 6);
	free(x);
	return 0;
}

/* @xml with @dev put before its last </devices>. */
static char *insert(const char *xml, const char *dev)
{
	const char *end = NULL;
	char *out = NULL;

	for (const char *p = strstr(xml, "</devices>"); p; p = strstr(p + 1, "</devices>"))
		end = p;
	if (!end || asprintf(&out, "%.*s%s\n%s", (int)(end - xml), xml, dev, end) < 0)
		return NULL;
	return out;
}

/* @xml without the <hostdev> whose source has @dev's bus and slot. */
static char *cut(const char *xml, const char *dev)
{
	char bus[32] = "", slot[32] = "", *out = NULL;
	const char *b = strstr(dev, "bus='"), *s = strstr(dev, "slot='");

	if (!b || !s || sscanf(b, "bus='%31[^']'", bus) != 1 ||
	    sscanf(s, "slot='%31[^']'", slot) != 1)
		return NULL;
	for (const char *h = strstr(xml, "<hostdev"); h; h = strstr(h + 1, "<hostdev")) {
		const char *e = strstr(h, "</hostdev>");
		char want_b[64], want_s[64];
		if (!e)
			break;
		e += strlen("</hostdev>");
		snprintf(want_b, sizeof(want_b), "bus='%s'", bus);
		snprintf(want_s, sizeof(want_s), "slot='%s'", slot);
		if (memmem(h, (size_t)(e - h), want_b, strlen(want_b)) &&
		    memmem(h, (size_t)(e - h), want_s, strlen(want_s))) {
			if (asprintf(&out, "%.*s%s", (int)(h - xml), xml, e) < 0)
				return NULL;
			return out;
		}
	}
	return NULL;
}

static int change(virDomainPtr d, const char *dev, unsigned int flags, bool add)
{
	static const char *const suffix[] = {".live.xml", ".xml"};
	const unsigned int which[] = {VIR_DOMAIN_AFFECT_LIVE, VIR_DOMAIN_AFFECT_CONFIG};

	logcall("%s %s flags=%u", add ? "attach" : "detach", d->name, flags);
	if (add && exists("fail-attach")) {
		fail("internal error: unable to execute QEMU command 'device_add': injected");
		return -1;
	}
	if (!flags)
		flags = virDomainIsActive(d) ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	for (int k = 0; k < 2; k++) {
		char *x, *y;
		if (!(flags & which[k]))
			continue;
		if (!add && k == 0 && exists("hold"))
			continue;
		x = slurp(d->name, suffix[k]);
		if (!x) {
			fail("Requested operation is not valid: domain is not running");
			return -1;
		}
		y = add ? insert(x, dev) : cut(x, dev);
		free(x);
		if (!y) {
			fail("device not found: no matching device in %s", suffix[k]);
			return -1;
		}
		spit(d->name, suffix[k], y);
		free(y);
	}
	return 0;
}

int virDomainAttachDeviceFlags(virDomainPtr d, const char *xml, unsigned int flags)
{
	return change(d, xml, flags, true);
}

int virDomainDetachDeviceFlags(virDomainPtr d, const char *xml, unsigned int flags)
{
	return change(d, xml, flags, false);
}

virErrorPtr virGetLastError(void)
{
	return last.message ? &last : NULL;
}

void virSetErrorFunc(void *ud, virErrorFunc f)
{
	(void)ud;
	(void)f;
}
