/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of the settings' values, kept apart from the XML readers. */
#include "domain.h"
#include "profile.h"

static const char *const mode_names[] = {
    [VH_MODE_UNSET] = "unset",
    [VH_MODE_ENFORCE] = "enforce",
    [VH_MODE_WARN] = "warn",
    [VH_MODE_OFF] = "off",
};

const char *vh_mode_name(enum vh_mode m)
{
	return (size_t)m < ELEMENTSOF(mode_names) ? mode_names[m] : "?";
}

int vh_mode_parse(const char *s, enum vh_mode *ret)
{
	for (size_t i = VH_MODE_ENFORCE; i < ELEMENTSOF(mode_names); i++)
		if (streq(s, mode_names[i])) {
			*ret = (enum vh_mode)i;
			return 0;
		}
	return -EINVAL;
}

static const char *const companion_names[] = {
    [VH_COMPANIONS_DEFAULT] = "default",
    [VH_COMPANIONS_REFUSE] = "refuse",
    [VH_COMPANIONS_SAME_DEVICE] = "same-device",
    [VH_COMPANIONS_ANY] = "any",
};

const char *vh_companions_name(enum vh_companions c)
{
	return (size_t)c < ELEMENTSOF(companion_names) ? companion_names[c] : "?";
}

int vh_companions_parse(const char *s, enum vh_companions *ret)
{
	for (size_t i = VH_COMPANIONS_REFUSE; i < ELEMENTSOF(companion_names); i++)
		if (streq(s, companion_names[i])) {
			*ret = (enum vh_companions)i;
			return 0;
		}
	return -EINVAL;
}
