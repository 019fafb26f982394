/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "paths.h"
#include "xml.h"

void vh_config_init(struct vh_config *c)
{
	*c = (struct vh_config){
	    .mode = VH_MODE_ENFORCE,
	    .bind_unmanaged = true,
	    .parallel = true,
	    .companions = VH_COMPANIONS_SAME_DEVICE,
	    .timeout_ms = 20000,
	    .lock_timeout_ms = 60000,
	    .log_level = VH_LOG_INFO,
	};
}

void vh_config_done(struct vh_config *c)
{
	for (size_t i = 0; i < ELEMENTSOF(c->profiles); i++)
		free(c->profiles[i]);
	free(c->root);
	free(c->qemu_dir);
	free(c->path);
	vh_config_init(c);
}

const char *vh_config_path(void)
{
	const char *p = secure_getenv("VFIO_HOOKS_CONF");

	return p && *p ? p : VH_SYSCONFDIR "/vfio-hooks.conf";
}

const char *vh_config_sysroot(const struct vh_config *c, const char *option)
{
	const char *env = secure_getenv("VFIO_HOOKS_ROOT");

	return option ? option : env ? env : c->root;
}

static int parse_bool(const char *v, bool *ret)
{
	if (streq(v, "yes") || streq(v, "true") || streq(v, "1")) {
		*ret = true;
		return 0;
	}
	if (streq(v, "no") || streq(v, "false") || streq(v, "0")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_seconds(const char *v, int max_s, int *ret_ms)
{
	unsigned long long s;

	if (vh_parse_uint(v, 10, (unsigned long long)max_s, &s) < 0 || s == 0)
		return -EINVAL;
	*ret_ms = (int)s * 1000;
	return 0;
}

static const struct {
	const char *name;
	enum vh_log_level level;
} levels[] = {
    {"error", VH_LOG_ERR},
    {"warning", VH_LOG_WARNING},
    {"info", VH_LOG_INFO},
    {"debug", VH_LOG_DEBUG},
};

/* One row per key: how to parse it and what the values may be, for the
 * error message. */
enum key {
	K_MODE,
	K_BIND,
	K_PREBIND,
	K_PARALLEL,
	K_COMP,
	K_TIMEOUT,
	K_LOCK,
	K_PROFILES,
	K_LOG,
	K_ROOT,
	K_QEMU_DIR
};
static const struct {
	const char *key;
	enum key k;
	const char *expect;
} keys[] = {
    {"mode", K_MODE, "enforce, warn or off"},
    {"bind_unmanaged", K_BIND, "yes or no"},
    {"parallel", K_PARALLEL, "yes or no"},
    {"prebind_managed", K_PREBIND, "yes or no"},
    {"companions", K_COMP, "refuse, same-device or any"},
    {"timeout", K_TIMEOUT, "whole seconds, 1 to 600"},
    {"lock_timeout", K_LOCK, "whole seconds, 1 to 3600"},
    {"profiles", K_PROFILES, "absolute directories separated by ':' (at most 8)"},
    {"log_level", K_LOG, "error, warning, info or debug"},
    {"root", K_ROOT, "an absolute directory"},
    {"qemu_dir", K_QEMU_DIR, "an absolute directory"},
};

static int set_key(struct vh_config *c, enum key k, const char *v)
{
	switch (k) {
	case K_MODE:
		return vh_mode_parse(v, &c->mode);
	case K_BIND:
		return parse_bool(v, &c->bind_unmanaged);
	case K_PARALLEL:
		return parse_bool(v, &c->parallel);
	case K_PREBIND:
		return parse_bool(v, &c->prebind_managed);
	case K_COMP:
		return vh_companions_parse(v, &c->companions);
	case K_TIMEOUT:
		return parse_seconds(v, 600, &c->timeout_ms);
	case K_LOCK:
		return parse_seconds(v, 3600, &c->lock_timeout_ms);
	case K_LOG:
		for (size_t i = 0; i < ELEMENTSOF(levels); i++)
			if (streq(v, levels[i].name)) {
				c->log_level = levels[i].level;
				return 0;
			}
		return -EINVAL;
	case K_ROOT:
	case K_QEMU_DIR: {
		char **dst = k == K_ROOT ? &c->root : &c->qemu_dir;
		if (v[0] != '/')
			return -EINVAL;
		free(*dst);
		*dst = strdup(v);
		return *dst ? 0 : -ENOMEM;
	}
	case K_PROFILES: {
		_cleanup_free_ char *copy = strdup(v);
		char *save = NULL, *tok, *list[ELEMENTSOF(c->profiles)] = {0};
		size_t n = 0;
		int r = 0;
		if (!copy)
			return -ENOMEM;
		/* Parsed aside: a bad value leaves the previous list. */
		for (tok = strtok_r(copy, ":", &save); tok && r == 0;
		     tok = strtok_r(NULL, ":", &save)) {
			if (tok[0] != '/' || n + 1 >= ELEMENTSOF(c->profiles))
				r = -EINVAL;
			else if (!(list[n++] = strdup(tok)))
				r = -ENOMEM;
		}
		if (r == 0 && n == 0)
			r = -EINVAL;
		if (r < 0) {
			for (size_t i = 0; i < n; i++)
				free(list[i]);
			return r;
		}
		for (size_t i = 0; i < ELEMENTSOF(c->profiles); i++) {
			free(c->profiles[i]);
			c->profiles[i] = list[i];
		}
		return 0;
	}
	}
	return -EINVAL;
}

int vh_config_parse(struct vh_config *c, const char *path, const char *text, struct vh_err *e)
{
	_cleanup_free_ char *copy = strdup(text);
	char *line, *next;
	int ln = 0;

	if (!copy)
		return -ENOMEM;
	free(c->path);
	c->path = strdup(path);
	for (line = copy; line; line = next) {
		char *eq, *k, *v;
		size_t i;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		ln++;
		while (isspace((unsigned char)*line))
			line++;
		vh_strip_trailing(line);
		if (!*line || *line == '#' || *line == ';')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return vh_err_set(e, -EINVAL, "%s:%d: '%s' is not a 'key = value' line.",
					  path, ln, line);
		*eq = '\0';
		k = line;
		vh_strip_trailing(k);
		v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		/* Values may be quoted. */
		if (v[0] == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
			v[strlen(v) - 1] = '\0';
			v++;
		}
		for (i = 0; i < ELEMENTSOF(keys); i++)
			if (streq(keys[i].key, k))
				break;
		if (i == ELEMENTSOF(keys)) {
			struct vh_buf known = {0};
			for (size_t j = 0; j < ELEMENTSOF(keys); j++)
				vh_buf_printf(&known, "%s%s", j ? ", " : "", keys[j].key);
			vh_err_set(e, -EINVAL, "%s:%d: unknown key '%s' (known keys: %s).", path,
				   ln, k, vh_buf_str(&known));
			vh_buf_done(&known);
			return -EINVAL;
		}
		if (set_key(c, keys[i].k, v) < 0)
			return vh_err_set(e, -EINVAL, "%s:%d: %s = '%s' is not valid: expected %s.",
					  path, ln, k, v, keys[i].expect);
	}
	return 0;
}

int vh_config_load(struct vh_config *c, const char *path, struct vh_err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0)
		return vh_err_set(e, -errno, "Cannot open %s: %s.", path, strerror(errno));
	/* /dev/null: no configuration (tests, and a way to say "defaults"). */
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		return 0;
	if (!S_ISREG(st.st_mode))
		return vh_err_set(
		    e, -EINVAL,
		    "%s is not a regular file: refusing to read the configuration from it.", path);
	/* It can turn the checks off (mode = off) for every VM. */
	r = vh_check_trusted(path, &st, "the configuration", e);
	if (r < 0)
		return r;
	r = vh_read_fd_capped(fd, path, 1u << 20, &buf, &len, e);
	if (r < 0)
		return r;
	if (strlen(buf) != len)
		return vh_err_set(e, -EINVAL, "%s: contains a NUL byte.", path);
	return vh_config_parse(c, path, buf, e);
}
