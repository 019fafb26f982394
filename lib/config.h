/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/vfio-hooks/vfio-hooks.conf: commented "key = value" lines.  Unknown
 * keys and bad values are errors naming the file and line, never ignored.
 */
#pragma once

#include <stdbool.h>

#include "domain.h"
#include "profile.h"
#include "util.h"

enum vh_log_level { VH_LOG_ERR = 3, VH_LOG_WARNING = 4, VH_LOG_INFO = 6, VH_LOG_DEBUG = 7 };

struct vh_config {
	enum vh_mode mode;	       /* enforce */
	bool bind_unmanaged;	       /* yes */
	bool parallel;		       /* yes: independent devices at once */
	bool prebind_managed;	       /* no: bind managed='yes' ones too */
	enum vh_companions companions; /* same-device */
	int timeout_ms;		       /* 20000 */
	int lock_timeout_ms;	       /* 60000 */
	char *profiles[9];	       /* NULL: the default search path */
	enum vh_log_level log_level;   /* info */
	char *root;		       /* sysroot; NULL: the real system */
	char *qemu_dir;		       /* where the wrapper finds QEMU */
	char *path;		       /* the file read, for messages */
};

void vh_config_init(struct vh_config *c);
void vh_config_done(struct vh_config *c);
/* Parse @text (named @path in messages) over the defaults in @c. */
int vh_config_parse(struct vh_config *c, const char *path, const char *text, struct vh_err *e);
/* Load @path; a missing file leaves the defaults. */
int vh_config_load(struct vh_config *c, const char *path, struct vh_err *e);
/* The configuration file in force: $VFIO_HOOKS_CONF or the default. */
const char *vh_config_path(void);
/* The sysroot in force, for every front end: @option (a command line's
 * --root; NULL: none), then $VFIO_HOOKS_ROOT (set, even empty: the real
 * system), then @c's root (NULL: the real system). */
const char *vh_config_sysroot(const struct vh_config *c, const char *option);
