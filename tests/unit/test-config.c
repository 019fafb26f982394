/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-hooks.conf: vh_config_init/parse/load/done and vh_config_path.
 * Defaults, every key with good and bad values, quoting, comments,
 * whitespace, the error messages (FILE:LINE and the key), the profiles list
 * limits, NUL bytes, a missing file.  Files live in a temp directory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/config.h"
#include "../fakesys.h"

#define FILE_NAME "/etc/vfio-hooks/test.conf"

static struct {
	struct vh_config c;
	struct vh_err e;
	char *dir;
} T;

static int setup(void **state UNUSED)
{
	memset(&T, 0, sizeof(T));
	vh_config_init(&T.c);
	return 0;
}

static int teardown(void **state UNUSED)
{
	vh_config_done(&T.c);
	hx_rmroot(&T.dir);
	memset(&T, 0, sizeof(T));
	return 0;
}

static int parse(const char *text)
{
	memset(&T.e, 0, sizeof(T.e));
	return vh_config_parse(&T.c, FILE_NAME, text, &T.e);
}

static void parse_ok(const char *text)
{
	int r = parse(text);

	if (r != 0)
		fail_msg("parse of \"%s\" failed (%d): %s", text, r, T.e.msg);
	assert_int_equal(T.e.code, 0);
}

/* @text must fail with -EINVAL, naming FILE:@line and @key (when given). */
static void parse_bad(const char *text, int line, const char *key)
{
	char where[300];
	int r = parse(text);

	if (r != -EINVAL)
		fail_msg("parse of \"%s\" returned %d, expected -EINVAL", text, r);
	assert_int_equal(T.e.code, -EINVAL);
	snprintf(where, sizeof(where), FILE_NAME ":%d:", line);
	assert_contains(T.e.msg, where);
	if (key)
		assert_contains(T.e.msg, key);
}

static void defaults_are(const struct vh_config *c)
{
	assert_int_equal(c->mode, VH_MODE_ENFORCE);
	assert_true(c->bind_unmanaged);
	assert_true(c->parallel);
	assert_false(c->prebind_managed);
	assert_int_equal(c->companions, VH_COMPANIONS_SAME_DEVICE);
	assert_int_equal(c->timeout_ms, 20000);
	assert_int_equal(c->lock_timeout_ms, 60000);
	for (size_t i = 0; i < ELEMENTSOF(c->profiles); i++)
		assert_null(c->profiles[i]);
	assert_int_equal(c->log_level, VH_LOG_INFO);
	assert_null(c->root);
}

/* --- defaults --- */

static void defaults(void **state UNUSED)
{
	defaults_are(&T.c);
	assert_null(T.c.path);
	/* an empty file and a file of comments change nothing */
	parse_ok("");
	defaults_are(&T.c);
	assert_string_equal(T.c.path, FILE_NAME);
	parse_ok("# a comment\n; another\n\n   \n\t# indented\n");
	defaults_are(&T.c);
}

static void done_resets_to_defaults(void **state UNUSED)
{
	parse_ok("mode = off\nroot = /tmp/x\nprofiles = /a:/b\n"
		 "bind_unmanaged = no\ntimeout = 5\n");
	assert_int_equal(T.c.mode, VH_MODE_OFF);
	vh_config_done(&T.c);
	defaults_are(&T.c);
	assert_null(T.c.path);
	/* done twice is harmless */
	vh_config_done(&T.c);
	defaults_are(&T.c);
}

/* --- every key, valid values --- */

static void key_mode(void **state UNUSED)
{
	parse_ok("mode = warn");
	assert_int_equal(T.c.mode, VH_MODE_WARN);
	parse_ok("mode = off\n");
	assert_int_equal(T.c.mode, VH_MODE_OFF);
	parse_ok("mode=enforce");
	assert_int_equal(T.c.mode, VH_MODE_ENFORCE);
	parse_ok("mode = \"warn\"\n");
	assert_int_equal(T.c.mode, VH_MODE_WARN);
}

static void key_bind_unmanaged(void **state UNUSED)
{
	static const struct {
		const char *v;
		bool want;
	} cases[] = {
	    {"no", false}, {"yes", true}, {"false", false},  {"true", true},
	    {"0", false},  {"1", true},	  {"\"no\"", false}, {"\"yes\"", true},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char line[64];
		snprintf(line, sizeof(line), "bind_unmanaged = %s\n", cases[i].v);
		/* start from the opposite value each time */
		T.c.bind_unmanaged = !cases[i].want;
		parse_ok(line);
		if (T.c.bind_unmanaged != cases[i].want)
			fail_msg("%s: got %d", line, T.c.bind_unmanaged);
	}
}

static void key_parallel(void **state UNUSED)
{
	parse_ok("parallel = no\n");
	assert_false(T.c.parallel);
	parse_ok("parallel = yes\n");
	assert_true(T.c.parallel);
	parse_bad("parallel = sometimes\n", 1, "parallel");
	parse_ok("prebind_managed = yes\n");
	assert_true(T.c.prebind_managed);
	parse_bad("prebind_managed = maybe\n", 1, "prebind_managed");
}

static void key_companions(void **state UNUSED)
{
	parse_ok("companions = refuse");
	assert_int_equal(T.c.companions, VH_COMPANIONS_REFUSE);
	parse_ok("companions = any");
	assert_int_equal(T.c.companions, VH_COMPANIONS_ANY);
	parse_ok("companions = \"same-device\"");
	assert_int_equal(T.c.companions, VH_COMPANIONS_SAME_DEVICE);
}

static void key_timeouts(void **state UNUSED)
{
	parse_ok("timeout = 1");
	assert_int_equal(T.c.timeout_ms, 1000);
	parse_ok("timeout = 600");
	assert_int_equal(T.c.timeout_ms, 600000);
	parse_ok("timeout = \"45\"");
	assert_int_equal(T.c.timeout_ms, 45000);
	parse_ok("lock_timeout = 1");
	assert_int_equal(T.c.lock_timeout_ms, 1000);
	parse_ok("lock_timeout = 3600");
	assert_int_equal(T.c.lock_timeout_ms, 3600000);
	/* the other one untouched */
	assert_int_equal(T.c.timeout_ms, 45000);
}

static void key_profiles(void **state UNUSED)
{
	parse_ok("profiles = /usr/share/vfio-hooks/profiles");
	assert_string_equal(T.c.profiles[0], "/usr/share/vfio-hooks/profiles");
	assert_null(T.c.profiles[1]);

	parse_ok("profiles = /a:/b/c:/d");
	assert_string_equal(T.c.profiles[0], "/a");
	assert_string_equal(T.c.profiles[1], "/b/c");
	assert_string_equal(T.c.profiles[2], "/d");
	assert_null(T.c.profiles[3]);

	/* a second line replaces the list, it does not append */
	parse_ok("profiles = \"/x:/y\"");
	assert_string_equal(T.c.profiles[0], "/x");
	assert_string_equal(T.c.profiles[1], "/y");
	assert_null(T.c.profiles[2]);

	/* empty elements are skipped */
	parse_ok("profiles = /p::/q:");
	assert_string_equal(T.c.profiles[0], "/p");
	assert_string_equal(T.c.profiles[1], "/q");
	assert_null(T.c.profiles[2]);
}

static void profiles_limit(void **state UNUSED)
{
	/* exactly 8: accepted, and the array stays NULL-terminated */
	parse_ok("profiles = /1:/2:/3:/4:/5:/6:/7:/8");
	for (int i = 0; i < 8; i++) {
		char want[8];
		snprintf(want, sizeof(want), "/%d", i + 1);
		assert_non_null(T.c.profiles[i]);
		assert_string_equal(T.c.profiles[i], want);
	}
	assert_null(T.c.profiles[8]);

	/* 9: refused */
	parse_bad("profiles = /1:/2:/3:/4:/5:/6:/7:/8:/9", 1, "profiles");
	assert_contains(T.e.msg, "at most 8");
	assert_null(T.c.profiles[8]);

	/* a relative directory, alone or in a list */
	parse_bad("profiles = profiles.d", 1, "profiles");
	assert_contains(T.e.msg, "absolute");
	parse_bad("\nprofiles = /ok:rel/dir", 2, "profiles");
	assert_contains(T.e.msg, "rel/dir");
	/* nothing at all */
	parse_bad("profiles =", 1, "profiles");
	parse_bad("profiles = \"\"", 1, "profiles");
	parse_bad("profiles = :::", 1, "profiles");
}

static void key_log_level(void **state UNUSED)
{
	parse_ok("log_level = error");
	assert_int_equal(T.c.log_level, VH_LOG_ERR);
	parse_ok("log_level = warning");
	assert_int_equal(T.c.log_level, VH_LOG_WARNING);
	parse_ok("log_level = debug");
	assert_int_equal(T.c.log_level, VH_LOG_DEBUG);
	parse_ok("log_level = \"info\"");
	assert_int_equal(T.c.log_level, VH_LOG_INFO);
	/* syslog numbering */
	assert_int_equal(VH_LOG_ERR, 3);
	assert_int_equal(VH_LOG_DEBUG, 7);
}

static void key_root(void **state UNUSED)
{
	parse_ok("root = /tmp/fake root");
	assert_string_equal(T.c.root, "/tmp/fake root");
	/* replaced (the old one freed: ASan would see a leak) */
	parse_ok("root = \"/srv/other\"");
	assert_string_equal(T.c.root, "/srv/other");
	parse_bad("root = relative/dir", 1, "root");
	assert_contains(T.e.msg, "absolute");
	parse_bad("root =", 1, "root");
}

static void whole_file(void **state UNUSED)
{
	parse_ok("# vfio-hooks.conf\n"
		 "; old-style comment\n"
		 "\n"
		 "   mode   =   warn   \n"
		 "\tbind_unmanaged\t=\tno\t\n"
		 "companions=any\n"
		 "timeout = \"7\"\n"
		 "lock_timeout = 9\r\n" /* CRLF */
		 "profiles = /etc/vfio-hooks/profiles.d:/opt/p\n"
		 "log_level = debug\n"
		 "root = /tmp/r\n"
		 "# end\n");
	assert_int_equal(T.c.mode, VH_MODE_WARN);
	assert_false(T.c.bind_unmanaged);
	assert_int_equal(T.c.companions, VH_COMPANIONS_ANY);
	assert_int_equal(T.c.timeout_ms, 7000);
	assert_int_equal(T.c.lock_timeout_ms, 9000);
	assert_string_equal(T.c.profiles[0], "/etc/vfio-hooks/profiles.d");
	assert_string_equal(T.c.profiles[1], "/opt/p");
	assert_null(T.c.profiles[2]);
	assert_int_equal(T.c.log_level, VH_LOG_DEBUG);
	assert_string_equal(T.c.root, "/tmp/r");
	assert_string_equal(T.c.path, FILE_NAME);
}

static void quoting(void **state UNUSED)
{
	/* quotes are removed only in pairs */
	parse_ok("root = \"/q\"");
	assert_string_equal(T.c.root, "/q");
	parse_bad("mode = \"warn", 1, "mode");
	parse_bad("mode = warn\"", 1, "mode");
	/* a lone quote is not a pair */
	parse_bad("mode = \"", 1, "mode");
	/* spaces inside the quotes are kept (so this is not a mode) */
	parse_bad("mode = \" warn \"", 1, "mode");
	/* an empty quoted value */
	parse_bad("mode = \"\"", 1, "mode");
}

/* --- bad values --- */

static void bad_values(void **state UNUSED)
{
	static const struct {
		const char *key, *value, *expect;
	} cases[] = {
	    {"mode", "enforcing", "enforce, warn or off"},
	    {"mode", "WARN", "enforce, warn or off"},
	    {"mode", "", "enforce, warn or off"},
	    {"bind_unmanaged", "maybe", "yes or no"},
	    {"bind_unmanaged", "Yes", "yes or no"},
	    {"bind_unmanaged", "2", "yes or no"},
	    {"companions", "all", "refuse, same-device or any"},
	    {"companions", "default", "refuse, same-device or any"},
	    {"timeout", "0", "1 to 600"},
	    {"timeout", "601", "1 to 600"},
	    {"timeout", "-1", "1 to 600"},
	    {"timeout", "+5", "1 to 600"},
	    {"timeout", "1.5", "1 to 600"},
	    {"timeout", "10s", "1 to 600"},
	    {"timeout", "0x10", "1 to 600"},
	    {"timeout", "99999999999999999999999", "1 to 600"},
	    {"lock_timeout", "0", "1 to 3600"},
	    {"lock_timeout", "3601", "1 to 3600"},
	    {"lock_timeout", "abc", "1 to 3600"},
	    {"log_level", "verbose", "error, warning, info or debug"},
	    {"log_level", "7", "error, warning, info or debug"},
	    {"root", "tmp", "an absolute directory"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char text[256], quoted[128];
		int r;

		vh_config_done(&T.c);
		/* two good lines first: the error is on line 3 */
		snprintf(text, sizeof(text), "# header\nlog_level = info\n%s = %s\n", cases[i].key,
			 cases[i].value);
		memset(&T.e, 0, sizeof(T.e));
		r = vh_config_parse(&T.c, FILE_NAME, text, &T.e);
		if (r != -EINVAL)
			fail_msg("%s = '%s': returned %d, expected -EINVAL", cases[i].key,
				 cases[i].value, r);
		assert_int_equal(T.e.code, -EINVAL);
		assert_contains(T.e.msg, FILE_NAME ":3:");
		assert_contains(T.e.msg, cases[i].key);
		snprintf(quoted, sizeof(quoted), "'%s'", cases[i].value);
		assert_contains(T.e.msg, quoted);
		assert_contains(T.e.msg, cases[i].expect);
	}
	/* the timeouts stay at their defaults after refused values */
	vh_config_done(&T.c);
	parse_bad("timeout = 0", 1, "timeout");
	assert_int_equal(T.c.timeout_ms, 20000);
	parse_bad("timeout = 601", 1, "timeout");
	assert_int_equal(T.c.timeout_ms, 20000);
}

static void error_stops_at_first(void **state UNUSED)
{
	/* line 2 is bad; line 3 is never applied */
	parse_bad("mode = warn\ntimeout = 0\nlog_level = debug\n", 2, "timeout");
	assert_int_equal(T.c.mode, VH_MODE_WARN);
	assert_int_equal(T.c.log_level, VH_LOG_INFO);
}

static void line_numbers_count_everything(void **state UNUSED)
{
	/* comments, blank lines and CRLF lines all count */
	parse_bad("# 1\n\n; 3\n   \nmode = warn\r\n\tbogus = 1\n", 6, "bogus");
	parse_bad("\n\n\n\n\n\n\n\n\n\n\n\ntimeout = 1000\n", 13, "timeout");
}

static void unknown_key(void **state UNUSED)
{
	static const char *const known[] = {
	    "mode",	    "bind_unmanaged", "companions", "timeout",
	    "lock_timeout", "profiles",	      "log_level",  "root"};

	parse_bad("mode = warn\nfrobnicate = yes\n", 2, "'frobnicate'");
	assert_contains(T.e.msg, "unknown key");
	for (size_t i = 0; i < ELEMENTSOF(known); i++)
		assert_contains(T.e.msg, known[i]);
	/* keys are case-sensitive and whole */
	parse_bad("Mode = warn", 1, "'Mode'");
	parse_bad("mode_x = warn", 1, "'mode_x'");
	parse_bad("log level = info", 1, "'log level'");
	/* an empty key */
	parse_bad(" = warn", 1, "unknown key ''");
}

static void not_key_value(void **state UNUSED)
{
	parse_bad("mode = warn\njust some words\n", 2, "'just some words'");
	assert_contains(T.e.msg, "key = value");
	parse_bad("mode warn", 1, "'mode warn'");
	/* a comment must start the line: after a value it is part of it */
	parse_bad("mode = warn # not a comment", 1, "mode");
}

static void first_error_wins(void **state UNUSED)
{
	struct vh_err e = {0};
	int r;

	vh_err_set(&e, -EIO, "earlier");
	r = vh_config_parse(&T.c, FILE_NAME, "timeout = 0", &e);
	assert_int_equal(r, -EINVAL);
	/* the earlier error is kept */
	assert_int_equal(e.code, -EIO);
	assert_string_equal(e.msg, "earlier");
	/* and a NULL error is allowed */
	assert_int_equal(vh_config_parse(&T.c, FILE_NAME, "bogus", NULL), -EINVAL);
}

/* --- files --- */

static char *write_file(const char *name, const void *data, size_t len)
{
	char *p = NULL;
	int fd;

	if (!T.dir) {
		T.dir = fakesys_mkroot();
		assert_non_null(T.dir);
	}
	assert_true(asprintf(&p, "%s/%s", T.dir, name) > 0);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return p;
}

static void load_file(void **state UNUSED)
{
	static const char text[] = "mode = off\n"
				   "timeout = 3\n"
				   "root = /tmp/zz\n";
	char *p = write_file("vfio-hooks.conf", text, strlen(text));
	struct vh_err e = {0};

	assert_int_equal(vh_config_load(&T.c, p, &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(T.c.mode, VH_MODE_OFF);
	assert_int_equal(T.c.timeout_ms, 3000);
	assert_string_equal(T.c.root, "/tmp/zz");
	assert_string_equal(T.c.path, p);
	free(p);
}

static void load_bad_file_names_path(void **state UNUSED)
{
	static const char text[] = "\n\nlock_timeout = never\n";
	char *p = write_file("bad.conf", text, strlen(text));
	char where[4200];
	struct vh_err e = {0};

	assert_int_equal(vh_config_load(&T.c, p, &e), -EINVAL);
	snprintf(where, sizeof(where), "%s:3:", p);
	assert_contains(e.msg, where);
	assert_contains(e.msg, "lock_timeout");
	assert_int_equal(T.c.lock_timeout_ms, 60000);
	free(p);
}

static void load_missing_keeps_defaults(void **state UNUSED)
{
	struct vh_err e = {0};
	char *p;

	T.dir = fakesys_mkroot();
	assert_non_null(T.dir);
	assert_true(asprintf(&p, "%s/no-such.conf", T.dir) > 0);
	assert_int_equal(vh_config_load(&T.c, p, &e), 0);
	assert_int_equal(e.code, 0);
	defaults_are(&T.c);
	free(p);

	/* a missing file after other settings leaves them too */
	T.c.mode = VH_MODE_WARN;
	assert_true(asprintf(&p, "%s/missing/dir/x.conf", T.dir) > 0);
	assert_int_equal(vh_config_load(&T.c, p, &e), 0);
	assert_int_equal(T.c.mode, VH_MODE_WARN);
	free(p);
}

static void load_nul_byte(void **state UNUSED)
{
	static const char text[] = "mode = warn\n\0timeout = 0\n";
	char *p = write_file("nul.conf", text, sizeof(text) - 1);
	struct vh_err e = {0};
	int r;

	r = vh_config_load(&T.c, p, &e);
	assert_int_equal(r, -EINVAL);
	assert_int_equal(e.code, -EINVAL);
	assert_contains(e.msg, p);
	assert_contains(e.msg, "NUL");
	/* nothing applied */
	assert_int_equal(T.c.mode, VH_MODE_ENFORCE);
	free(p);
}

static void load_unreadable(void **state UNUSED)
{
	struct vh_err e = {0};
	int r;

	/* a directory where the file should be */
	T.dir = fakesys_mkroot();
	assert_non_null(T.dir);
	r = vh_config_load(&T.c, T.dir, &e);
	assert_true(r < 0);
	assert_int_not_equal(e.code, 0);
	defaults_are(&T.c);
}

/* The configuration can turn every check off (mode = off): a file its
 * group or every user may write is refused, whatever it says; so is one
 * owned by another user, and anything but a regular file (except
 * /dev/null, "no configuration"). */
static void load_untrusted_refused(void **state UNUSED)
{
	static const char text[] = "mode = off\n";
	char *p = write_file("vfio-hooks.conf", text, strlen(text));
	struct vh_err e = {0};

	assert_int_equal(chmod(p, 0666), 0);
	assert_int_equal(vh_config_load(&T.c, p, &e), -EPERM);
	assert_contains(e.msg, p);
	assert_contains(e.msg, "writable by every user");
	assert_contains(e.msg, "chmod o-w");
	assert_int_equal(T.c.mode, VH_MODE_ENFORCE);

	e = (struct vh_err){0};
	assert_int_equal(chmod(p, 0664), 0);
	assert_int_equal(vh_config_load(&T.c, p, &e), -EPERM);
	assert_contains(e.msg, "writable by its group");
	assert_contains(e.msg, "chmod g-w");
	assert_int_equal(T.c.mode, VH_MODE_ENFORCE);

	if (geteuid() == 0) {
		e = (struct vh_err){0};
		assert_int_equal(chmod(p, 0644), 0);
		assert_int_equal(chown(p, 65534, 65534), 0);
		assert_int_equal(vh_config_load(&T.c, p, &e), -EPERM);
		assert_contains(e.msg, "owned by uid 65534");
		assert_contains(e.msg, "chown root:");
		assert_int_equal(chown(p, 0, 0), 0);
	}

	e = (struct vh_err){0};
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(vh_config_load(&T.c, p, &e), 0);
	assert_int_equal(T.c.mode, VH_MODE_OFF);
	free(p);

	/* /dev/null: the defaults */
	vh_config_done(&T.c);
	assert_int_equal(vh_config_load(&T.c, "/dev/null", &e), 0);
	defaults_are(&T.c);
}

static void config_path_env(void **state UNUSED)
{
	char *saved = getenv("VFIO_HOOKS_CONF");

	saved = saved ? strdup(saved) : NULL;
	assert_int_equal(setenv("VFIO_HOOKS_CONF", "/tmp/my-vfio-hooks.conf", 1), 0);
	assert_string_equal(vh_config_path(), "/tmp/my-vfio-hooks.conf");
	assert_int_equal(unsetenv("VFIO_HOOKS_CONF"), 0);
	assert_string_equal(vh_config_path(), VH_SYSCONFDIR "/vfio-hooks.conf");
	/* empty: the default */
	assert_int_equal(setenv("VFIO_HOOKS_CONF", "", 1), 0);
	assert_string_equal(vh_config_path(), VH_SYSCONFDIR "/vfio-hooks.conf");
	if (saved)
		setenv("VFIO_HOOKS_CONF", saved, 1);
	else
		unsetenv("VFIO_HOOKS_CONF");
	free(saved);
}

/* The sysroot of every front end: --root, then VFIO_HOOKS_ROOT (even
 * empty: the real system), then the configuration's root. */
static void sysroot_precedence(void **state UNUSED)
{
	char *saved = getenv("VFIO_HOOKS_ROOT");

	saved = saved ? strdup(saved) : NULL;
	parse_ok("root = /srv/conf-root");
	assert_int_equal(unsetenv("VFIO_HOOKS_ROOT"), 0);
	assert_string_equal(vh_config_sysroot(&T.c, "/srv/option"), "/srv/option");
	assert_string_equal(vh_config_sysroot(&T.c, NULL), "/srv/conf-root");
	assert_int_equal(setenv("VFIO_HOOKS_ROOT", "/srv/env", 1), 0);
	assert_string_equal(vh_config_sysroot(&T.c, "/srv/option"), "/srv/option");
	assert_string_equal(vh_config_sysroot(&T.c, NULL), "/srv/env");
	assert_int_equal(setenv("VFIO_HOOKS_ROOT", "", 1), 0);
	assert_string_equal(vh_config_sysroot(&T.c, NULL), "");
	assert_int_equal(unsetenv("VFIO_HOOKS_ROOT"), 0);
	vh_config_done(&T.c);
	assert_null(vh_config_sysroot(&T.c, NULL));
	if (saved)
		setenv("VFIO_HOOKS_ROOT", saved, 1);
	free(saved);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T_(defaults),
	    T_(done_resets_to_defaults),
	    T_(key_mode),
	    T_(key_bind_unmanaged),
	    T_(key_parallel),
	    T_(key_companions),
	    T_(key_timeouts),
	    T_(key_profiles),
	    T_(profiles_limit),
	    T_(key_log_level),
	    T_(key_root),
	    T_(whole_file),
	    T_(quoting),
	    T_(bad_values),
	    T_(error_stops_at_first),
	    T_(line_numbers_count_everything),
	    T_(unknown_key),
	    T_(not_key_value),
	    T_(first_error_wins),
	    T_(load_file),
	    T_(load_bad_file_names_path),
	    T_(load_missing_keeps_defaults),
	    T_(load_nul_byte),
	    T_(load_unreadable),
	    T_(load_untrusted_refused),
	    T_(config_path_env),
	    T_(sysroot_precedence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
