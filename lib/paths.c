/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

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

/* @dirs, or the shipped and the administrator's profile directories. */
static int load_default(struct vh_profile_ctx *c, const char *const *dirs, struct vh_profiles *ret,
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
	return vh_profiles_load_ctx(c, dirs, vh_schema_path(), ret, e);
}

int vh_profiles_load_default(const char *const *dirs, struct vh_profiles *ret, struct vh_err *e)
{
	struct vh_profile_ctx c;
	int r;

	vh_profile_ctx_init(&c);
	r = load_default(&c, dirs, ret, e);
	vh_profile_ctx_done(&c);
	return r;
}

int vh_stamp_dir_open(const struct vh_sys *sys, bool create)
{
	const char *xdg, *home;
	char base[PATH_MAX], dir[PATH_MAX];
	char why[160];
	int fd, k;

	if (geteuid() == 0) {
		if (!create && vh_journal_dir_exists(sys) <= 0)
			return -1;
		return vh_sys_state_dir(sys, &fd, why, sizeof(why)) == 0 ? fd : -1;
	}
	/* The XDG base directory rule: a relative value is ignored. */
	xdg = secure_getenv("XDG_CACHE_HOME");
	home = secure_getenv("HOME");
	if (xdg && xdg[0] == '/')
		k = snprintf(base, sizeof(base), "%s", xdg);
	else if (home && home[0] == '/')
		k = snprintf(base, sizeof(base), "%s/.cache", home);
	else
		return -1;
	if (k < 0 || (size_t)k >= sizeof(base) ||
	    snprintf(dir, sizeof(dir), "%s/vfio-hooks", base) >= (int)sizeof(dir))
		return -1;
	/* ~/.cache itself is the user's: made (0700) if missing, not
	 * required to be private. */
	if (mkdir(base, 0700) < 0 && errno != EEXIST)
		return -1;
	fd = vh_private_dir_open(dir, "keep validation stamps", why, sizeof(why));
	return fd >= 0 ? fd : -1;
}

int vh_profiles_load_stamped(const char *const *dirs, int stamp_dirfd, const struct vh_pci_id *ids,
			     size_t n, struct vh_profiles *ret, struct vh_err *e)
{
	struct vh_profile_ctx c;
	int r;

	vh_profile_ctx_init(&c);
	vh_profiles_use_stamps(&c, stamp_dirfd);
	if (ids)
		vh_profiles_want(&c, ids, n);
	r = load_default(&c, dirs, ret, e);
	vh_profile_ctx_done(&c);
	if (stamp_dirfd >= 0)
		close(stamp_dirfd);
	return r;
}
