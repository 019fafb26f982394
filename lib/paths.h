/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where installed data lives, shared by the front ends.  VH_DATADIR and
 * VH_SYSCONFDIR are set by the build; VFIO_HOOKS_DATADIR overrides the data
 * directory (to run from a source tree).
 */
#pragma once

#include <stdbool.h>

#include "profile.h"
#include "sysfs.h"

#ifndef VH_DATADIR
#define VH_DATADIR "/usr/local/share/vfio-hooks"
#endif
#ifndef VH_SYSCONFDIR
#define VH_SYSCONFDIR "/etc/vfio-hooks"
#endif
#ifndef VH_VERSION
#define VH_VERSION "0.1"
#endif

/* The data directory in force. */
const char *vh_datadir(void);
/* The profile schema's path in the data directory. */
const char *vh_schema_path(void);
/* The directory, opened, whose "profiles.validated" spares a front end
 * RelaxNG for profiles it validated before (vh_profiles_use_stamps): as
 * root the hook's state directory in @sys's root (created when @create,
 * else only when it exists), for any other user that user's own cache
 * directory, $XDG_CACHE_HOME/vfio-hooks or ~/.cache/vfio-hooks (created,
 * 0700).  Either must be owned by the caller and writable by nobody else.
 * -1 when there is none: the caller validates every profile. */
int vh_stamp_dir_open(const struct vh_sys *sys, bool create);
/* Load profiles from @dirs (NULL: the shipped directory, then
 * VH_SYSCONFDIR/profiles.d). */
int vh_profiles_load_default(const char *const *dirs, struct vh_profiles *ret, struct vh_err *e);
/* The same with the validation stamps of the directory @stamp_dirfd (-1:
 * none; closed here) and, with @ids (@n of them), only the profiles that
 * can match those devices (vh_profiles_want). */
int vh_profiles_load_stamped(const char *const *dirs, int stamp_dirfd, const struct vh_pci_id *ids,
			     size_t n, struct vh_profiles *ret, struct vh_err *e);
