/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "xmlapi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "dl.h"

#define VH_XML_DLSYM_DEFINE(sym) typeof(sym) *sym_##sym;
VH_XML_SYMS(VH_XML_DLSYM_DEFINE)

int vh_xml_load(struct vh_err *e)
{
#define VH_XML_DLSYM_ENTRY(sym) {.name = #sym, .at = (void **)&sym_##sym},
	static const struct vh_dl_sym syms[] = {VH_XML_SYMS(VH_XML_DLSYM_ENTRY)};
	/* 0: not tried; 1: loaded; -errno: failed, as @why says. */
	static int state;
	static char why[512];

	if (state == 0) {
		char reason[400];

		if (vh_dl_load(VH_XML_SONAME, syms, ELEMENTSOF(syms), NULL, reason,
			       sizeof(reason)) == 0) {
			state = 1;
		} else {
			state = -EOPNOTSUPP;
			snprintf(
			    why, sizeof(why),
			    "The XML library libxml2 (%s) could not be loaded (%s): install it, with 'apt-get install libxml2' on Debian.",
			    VH_XML_SONAME, reason);
		}
	}
	if (state < 0)
		return vh_err_set(e, state, "%s", why);
	return 0;
}

int vh_xml_loaded(char *path, size_t path_len, char *version, size_t version_len)
{
	Dl_info info;
	const char *v;
	long n;

	if (vh_xml_load(NULL) < 0)
		return -EOPNOTSUPP;
	if (!dladdr((void *)sym_xmlCtxtReadMemory, &info) || !info.dli_fname)
		return -ENOENT;
	snprintf(path, path_len, "%s", info.dli_fname);
	/* xmlParserVersion: "20914" for 2.9.14 */
	v = *sym___xmlParserVersion();
	n = v ? strtol(v, NULL, 10) : 0;
	snprintf(version, version_len, "%ld.%ld.%ld", n / 10000, n / 100 % 100, n % 100);
	return 0;
}
