/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int vh_dl_load(const char *lib, const struct vh_dl_sym *syms, size_t n, void *table, char *why,
	       size_t why_len)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(why, why_len, "%s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		void *f = dlsym(h, syms[i].name);
		if (!f) {
			snprintf(why, why_len, "%s has no %s", lib, syms[i].name);
			return -1;
		}
		memcpy(syms[i].at ? (void *)syms[i].at : (char *)table + syms[i].off, &f,
		       sizeof(f));
	}
	return 0;
}
