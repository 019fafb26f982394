/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

const char *vh_datadir(void)
{
	const char *d = secure_getenv("VFIO_HOOKS_DATADIR");

	return d && *d ? d : VH_DATADIR;
}

const char *vh_schema_path(void)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/profile.rng", vh_datadir());
	return p;
}

int vh_profiles_load_default(const char *const *dirs, struct vh_profiles *ret,
			     struct vh_err *e)
{
	char shipped[PATH_MAX];
	const char *def[3];

	if (!dirs) {
		snprintf(shipped, sizeof(shipped), "%s/profiles", vh_datadir());
		def[0] = shipped;
		def[1] = VH_SYSCONFDIR "/profiles.d";
		def[2] = NULL;
		dirs = def;
	}
	return vh_profiles_load(dirs, vh_schema_path(), ret, e);
}
