/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of the settings' values, kept apart from the XML readers. */
#include "domain.h"
#include "profile.h"

/* One name table per enum: <prefix>_name() gives the name of a value
 * ("?" for none), <prefix>_parse() the value of a name, from the first
 * value a setting may take (as systemd's DEFINE_STRING_TABLE_LOOKUP). */
#define NAME_TABLE_FUNCS(prefix, type, table, first)                                               \
	const char *prefix##_name(type v)                                                          \
	{                                                                                          \
		return (size_t)v < ELEMENTSOF(table) ? table[v] : "?";                             \
	}                                                                                          \
                                                                                                   \
	int prefix##_parse(const char *s, type *ret)                                               \
	{                                                                                          \
		for (size_t i = (first); i < ELEMENTSOF(table); i++)                               \
			if (streq(s, table[i])) {                                                  \
				*ret = (type)i;                                                    \
				return 0;                                                          \
			}                                                                          \
		return -EINVAL;                                                                    \
	}

static const char *const mode_names[] = {
    [VH_MODE_UNSET] = "unset",
    [VH_MODE_ENFORCE] = "enforce",
    [VH_MODE_WARN] = "warn",
    [VH_MODE_OFF] = "off",
};
NAME_TABLE_FUNCS(vh_mode, enum vh_mode, mode_names, VH_MODE_ENFORCE)

static const char *const companion_names[] = {
    [VH_COMPANIONS_DEFAULT] = "default",
    [VH_COMPANIONS_REFUSE] = "refuse",
    [VH_COMPANIONS_SAME_DEVICE] = "same-device",
    [VH_COMPANIONS_ANY] = "any",
};
NAME_TABLE_FUNCS(vh_companions, enum vh_companions, companion_names, VH_COMPANIONS_REFUSE)
