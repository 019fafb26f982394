/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs gateway (vh_sys_*) and vh_pci_dev_read over temp roots.  Every
 * struct vh_sys here has a temp root: the real /sys is never touched.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/journal.h"
#include "../../lib/pci.h"
#include "../../lib/sysfs.h"
#include "../fakesys.h"

static struct {
	char *root;
	struct vh_sys *sys;
} T;

static int setup(void **state UNUSED)
{
	T.root = fakesys_mkroot();
	if (!T.root)
		return -1;
	if (vh_sys_new(T.root, &T.sys) < 0)
		return -1;
	/* never the real system */
	if (vh_sys_is_real(T.sys) || !vh_sys_root(T.sys)[0])
		return -1;
	return 0;
}

static int teardown(void **state UNUSED)
{
	T.sys = vh_sys_free(T.sys);
	if (T.root) {
		fakesys_rmrf(T.root);
		free(T.root);
	}
	T.root = NULL;
	return 0;
}

static void put(const char *rel, const char *content)
{
	assert_int_equal(fakesys_put(T.root, rel, content), 0);
}

static void put_bytes(const char *rel, const void *data, size_t len)
{
	char p[4200];
	int fd;

	put(rel, "");
	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void link_at(const char *rel, const char *target)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void mkdir_at(const char *rel)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	/* parents as needed, the directory itself must be new */
	for (char *s = p + strlen(T.root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0755) < 0)
			assert_int_equal(errno, EEXIST);
		*s = '/';
	}
	assert_int_equal(mkdir(p, 0755), 0);
}

static void build(const char *spec)
{
	char err[256] = "";

	if (fakesys_build(T.root, spec, err, sizeof(err)) < 0)
		fail_msg("fakesys_build: %s", err);
}

/* The IDs of the AIC100 the tests build (17cb:a100, subsystem 17cb:0100)
 * and @class. */
static void assert_aic_ids(const struct vh_pci_dev *d, uint32_t class)
{
	assert_int_equal(d->vendor, 0x17cb);
	assert_int_equal(d->device, 0xa100);
	assert_int_equal(d->subsys_vendor, 0x17cb);
	assert_int_equal(d->subsys_device, 0x0100);
	assert_int_equal(d->class, class);
}

/* --- the object --- */

static void root_and_timeout(void **state UNUSED)
{
	struct vh_sys *s = NULL;
	char with_slashes[4200];

	snprintf(with_slashes, sizeof(with_slashes), "%s///", T.root);
	assert_int_equal(vh_sys_new(with_slashes, &s), 0);
	assert_string_equal(vh_sys_root(s), T.root);
	assert_false(vh_sys_is_real(s));
	assert_int_equal(vh_sys_timeout_ms(s), 20000);
	vh_sys_set_timeout_ms(s, 200);
	assert_int_equal(vh_sys_timeout_ms(s), 200);
	vh_sys_set_timeout_ms(s, 0);
	assert_int_equal(vh_sys_timeout_ms(s), 1);
	vh_sys_set_timeout_ms(s, -5);
	assert_int_equal(vh_sys_timeout_ms(s), 1);
	assert_null(vh_sys_free(s));
}

static void path_prefixing(void **state UNUSED)
{
	char buf[4200], want[4200];

	assert_int_equal(
	    vh_sys_path(T.sys, buf, sizeof(buf), "/sys/bus/pci/devices/%s/config", "0000:01:00.0"),
	    0);
	snprintf(want, sizeof(want), "%s/sys/bus/pci/devices/0000:01:00.0/config", T.root);
	assert_string_equal(buf, want);

	assert_int_equal(vh_sys_path(T.sys, buf, 8, "/sys/bus/pci"), -ENAMETOOLONG);
	assert_int_equal(vh_sys_path(T.sys, buf, sizeof(buf), "sys/bus"), -EINVAL);
	assert_int_equal(vh_sys_path(T.sys, buf, sizeof(buf), "%s", ""), -EINVAL);
	/* Formats of %s only are joined by hand: the same results as
	 * vsnprintf, a component too long for PATH_MAX included, and other
	 * conversions still work. */
	{
		static char big[5000];
		memset(big, 'x', sizeof(big) - 1);
		assert_int_equal(vh_sys_path(T.sys, buf, sizeof(buf), "/sys/%s/x", big),
				 -ENAMETOOLONG);
		assert_int_equal(vh_sys_path(T.sys, buf, sizeof(buf), "%s%s", big, "/x"),
				 -EINVAL); /* not absolute */
		assert_int_equal(vh_sys_path(T.sys, buf, sizeof(buf),
					     "/sys/kernel/iommu_groups/%d/%s", 12, "devices"),
				 0);
		snprintf(want, sizeof(want),
			 "%s/sys/kernel/iommu_groups/12/"
			 "devices",
			 T.root);
		assert_string_equal(buf, want);
		assert_int_equal(vh_sys_path(T.sys, buf, sizeof(buf), "/%s/%s%s", "sys", "a", "b"),
				 0);
		snprintf(want, sizeof(want), "%s/sys/ab", T.root);
		assert_string_equal(buf, want);
	}
}

static void dotdot_refused(void **state UNUSED)
{
	static const char *const bad[] = {
	    "/sys/../etc/hostname",
	    "/sys/bus/pci/devices/0000:01:00.0/../../../../../etc/hostname",
	    "/..",
	    "/sys/..",
	    "/../etc/hostname",
	    "/sys/bus/pci/drivers/../../../../..",
	};
	char buf[256], **v = NULL;
	unsigned long long u;
	size_t len;

	put("etc/hostname", "inside-root\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const char *p = bad[i];
		assert_int_equal(vh_sys_path(T.sys, buf, sizeof(buf), "%s", p), -EINVAL);
		assert_int_equal(vh_sys_read_str(T.sys, buf, sizeof(buf), "%s", p), -EINVAL);
		assert_int_equal(vh_sys_read_raw(T.sys, buf, sizeof(buf), &len, "%s", p), -EINVAL);
		assert_int_equal(vh_sys_read_uint(T.sys, &u, "%s", p), -EINVAL);
		assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "%s", p), -EINVAL);
		assert_int_equal(vh_sys_exists(T.sys, "%s", p), -EINVAL);
		assert_int_equal(vh_sys_list(T.sys, &v, "%s", p), -EINVAL);
		assert_int_equal(vh_sys_write(T.sys, "1", 0, "%s", p), -EINVAL);
		assert_int_equal(vh_sys_write(T.sys, "1", VH_WRITE_BOUNDED, "%s", p), -EINVAL);
	}
	/* ".." inside a name is not a parent reference. */
	assert_int_equal(vh_sys_exists(T.sys, "/sys/..x"), 0);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/x.."), 0);
	/* the file inside the root is still readable by its own path */
	assert_int_equal(vh_sys_read_str(T.sys, buf, sizeof(buf), "/etc/hostname"), 0);
	assert_string_equal(buf, "inside-root");
}

/* --- reads --- */

static void read_str(void **state UNUSED)
{
	char buf[64];

	put("sys/a", "vfio-pci\n");
	put("sys/b", "  flr bus \t\n\n");
	put("sys/c", "");
	put("sys/d", "0123456789abcdef");
	put_bytes("sys/nul", "ab\0cd\n", 6);

	assert_int_equal(vh_sys_read_str(T.sys, buf, sizeof(buf), "/sys/a"), 0);
	assert_string_equal(buf, "vfio-pci");
	assert_int_equal(vh_sys_read_str(T.sys, buf, sizeof(buf), "/sys/b"), 0);
	assert_string_equal(buf, "  flr bus");
	assert_int_equal(vh_sys_read_str(T.sys, buf, sizeof(buf), "/sys/c"), 0);
	assert_string_equal(buf, "");

	/* too long for the buffer: -EFBIG, buffer untouched */
	strcpy(buf, "keep");
	assert_int_equal(vh_sys_read_str(T.sys, buf, 16, "/sys/d"), -EFBIG);
	assert_string_equal(buf, "keep");
	assert_int_equal(vh_sys_read_str(T.sys, buf, 17, "/sys/d"), 0);
	assert_string_equal(buf, "0123456789abcdef");

	assert_int_equal(vh_sys_read_str(T.sys, buf, sizeof(buf), "/sys/nul"), -EBADMSG);
	assert_int_equal(vh_sys_read_str(T.sys, buf, sizeof(buf), "/sys/nope"), -ENOENT);
	assert_int_equal(vh_sys_read_str(T.sys, buf, sizeof(buf), "/sys/%s/x", "a"), -ENOTDIR);
}

/* Regression (fixed): vh_sys_read_str reads at most 4095 bytes into an internal
 * buffer and returns a longer value cut short with 0, although the caller's
 * buffer is large enough and sysfs.h promises the value or -EFBIG.  A 4096-byte
 * attribute (PAGE_SIZE, the sysfs maximum) loses its last byte.  Fix
 * (lib/sysfs.c, read_str_full): read into a buffer of 4096 + 1 bytes and
 * return -EFBIG when the read filled it (more data than an attribute can
 * hold), so nothing is ever silently truncated. */
static void read_str_never_truncates(void **state UNUSED)
{
	char big[5001], *buf = malloc(8192);
	int r;

	assert_non_null(buf);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("sys/big", big);
	r = vh_sys_read_str(T.sys, buf, 8192, "/sys/big");
	if (r == 0) {
		size_t l = strlen(buf);
		free(buf);
		assert_int_equal(l, sizeof(big) - 1);
	} else {
		free(buf);
		assert_int_equal(r, -EFBIG);
	}

	/* exactly one page, as sysfs can produce */
	big[4096] = '\0';
	put("sys/page", big);
	buf = malloc(8192);
	assert_non_null(buf);
	r = vh_sys_read_str(T.sys, buf, 8192, "/sys/page");
	if (r == 0) {
		size_t l = strlen(buf);
		free(buf);
		assert_int_equal(l, 4096);
	} else {
		free(buf);
		assert_int_equal(r, -EFBIG);
	}
}

static void read_uint(void **state UNUSED)
{
	unsigned long long v = 77;

	put("sys/hex", "0x17cb\n");
	put("sys/dec", "16\n");
	put("sys/zero", "0\n");
	put("sys/neg", "-1\n");
	put("sys/text", "abc\n");
	put("sys/empty", "\n");
	put("sys/big", "99999999999999999999999\n");
	put("sys/long", "0000000000000000000000000000000000000000000000000000000"
			"00000000000001\n");

	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/hex"), 0);
	assert_int_equal(v, 0x17cb);
	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/dec"), 0);
	assert_int_equal(v, 16);
	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/zero"), 0);
	assert_int_equal(v, 0);
	v = 77;
	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/neg"), -EBADMSG);
	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/text"), -EBADMSG);
	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/empty"), -EBADMSG);
	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/big"), -EBADMSG);
	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/long"), -EBADMSG);
	assert_int_equal(vh_sys_read_uint(T.sys, &v, "/sys/missing"), -ENOENT);
	assert_int_equal(v, 77);
}

static void read_raw(void **state UNUSED)
{
	uint8_t data[300], buf[512];
	size_t len = 12345;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	data[10] = 0;
	put_bytes("sys/config", data, sizeof(data));
	assert_int_equal(vh_sys_read_raw(T.sys, buf, sizeof(buf), &len, "/sys/config"), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));

	/* at most n bytes */
	assert_int_equal(vh_sys_read_raw(T.sys, buf, 64, &len, "/sys/config"), 0);
	assert_int_equal(len, 64);

	len = 999;
	assert_int_equal(vh_sys_read_raw(T.sys, buf, 64, &len, "/sys/none"), -ENOENT);
	assert_int_equal(len, 999);

	/* a directory */
	mkdir_at("sys/dir");
	assert_int_equal(vh_sys_read_raw(T.sys, buf, 64, &len, "/sys/dir"), -EISDIR);
}

static void link_name(void **state UNUSED)
{
	char buf[64];

	mkdir_at("sys/dev");
	link_at("sys/dev/driver", "../../../bus/pci/drivers/vfio-pci");
	link_at("sys/dev/iommu_group", "../../../../kernel/iommu_groups/12");
	link_at("sys/dev/slash", "../a/b/");
	link_at("sys/dev/bare", "name");
	link_at("sys/dev/root", "/");
	link_at("sys/dev/long", "../"
				"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	put("sys/dev/file", "x");

	assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "/sys/dev/driver"), 0);
	assert_string_equal(buf, "vfio-pci");
	assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "/sys/dev/iommu_group"), 0);
	assert_string_equal(buf, "12");
	assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "/sys/dev/slash"), 0);
	assert_string_equal(buf, "b");
	assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "/sys/dev/bare"), 0);
	assert_string_equal(buf, "name");
	assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "/sys/dev/root"), -EBADMSG);
	strcpy(buf, "keep");
	assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "/sys/dev/long"), -EFBIG);
	assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "/sys/dev/file"), -EINVAL);
	assert_int_equal(vh_sys_link_name(T.sys, buf, sizeof(buf), "/sys/dev/none"), -ENOENT);
}

static void exists(void **state UNUSED)
{
	put("sys/file", "x");
	mkdir_at("sys/dir");
	link_at("sys/dangling", "nowhere");
	link_at("sys/loop", "loop");
	link_at("sys/todir", "dir");

	assert_int_equal(vh_sys_exists(T.sys, "/sys/file"), 1);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/dir"), 1);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/todir"), 1);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/missing"), 0);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/file/sub"), 0);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/dangling"), 0);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/loop"), -ELOOP);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/%s/%d", "dir", 3), 0);
}

static void list_sorted(void **state UNUSED)
{
	char **v = NULL;
	static const char *const names[] = {"0000:0a:00.0", "0000:01:00.1", "0000:01:00.0",
					    "zeta",	    "Alpha",	    ".hidden"};
	static const char *const sorted[] = {".hidden",	     "0000:01:00.0", "0000:01:00.1",
					     "0000:0a:00.0", "Alpha",	     "zeta"};
	char rel[64];

	mkdir_at("sys/d");
	for (size_t i = 0; i < 6; i++) {
		snprintf(rel, sizeof(rel), "sys/d/%s", names[i]);
		put(rel, "");
	}
	assert_int_equal(vh_sys_list(T.sys, &v, "/sys/d"), 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(v[i], sorted[i]);
	assert_null(v[6]);
	vh_strv_free(v);

	mkdir_at("sys/empty");
	v = NULL;
	assert_int_equal(vh_sys_list(T.sys, &v, "/sys/empty"), 0);
	assert_non_null(v);
	assert_null(v[0]);
	vh_strv_free(v);

	v = (char **)0x1;
	assert_int_equal(vh_sys_list(T.sys, &v, "/sys/missing"), -ENOENT);
	assert_int_equal(vh_sys_list(T.sys, &v, "/sys/d/zeta"), -ENOTDIR);
	assert_ptr_equal(v, (char **)0x1);

	/* many entries (the array grows; names long enough that the
	 * directory takes several reads of the kernel's entries) */
	mkdir_at("sys/many");
	for (int i = 399; i >= 0; i--) {
		snprintf(rel, sizeof(rel), "sys/many/n%03d-a-name-of-forty-characters-", i);
		put(rel, "");
	}
	v = NULL;
	assert_int_equal(vh_sys_list(T.sys, &v, "/sys/many"), 400);
	assert_string_equal(v[0], "n000-a-name-of-forty-characters-");
	assert_string_equal(v[399], "n399-a-name-of-forty-characters-");
	for (int i = 1; i < 400; i++)
		assert_true(strcmp(v[i - 1], v[i]) < 0);
	assert_null(v[400]);
	vh_strv_free(v);
}

/* --- writes --- */

static void write_plain(void **state UNUSED)
{
	char buf[64];

	put("sys/bus/pci/drivers_probe", "");
	assert_int_equal(vh_sys_write(T.sys, "0000:01:00.0", 0, "/sys/bus/pci/drivers_probe"), 0);
	assert_int_equal(fakesys_get(T.root, "sys/bus/pci/drivers_probe", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0000:01:00.0");

	/* no file is created */
	assert_int_equal(vh_sys_write(T.sys, "x", 0, "/sys/new_attr"), -ENOENT);
	assert_int_equal(vh_sys_exists(T.sys, "/sys/new_attr"), 0);

	/* a symlink as the last component is not followed */
	put("sys/target", "");
	link_at("sys/alias", "target");
	assert_int_equal(vh_sys_write(T.sys, "x", 0, "/sys/alias"), -ELOOP);
	assert_int_equal(fakesys_get(T.root, "sys/target", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	mkdir_at("sys/adir");
	assert_int_equal(vh_sys_write(T.sys, "x", 0, "/sys/adir"), -EISDIR);
}

static void write_bounded_ok(void **state UNUSED)
{
	char buf[64];

	put("sys/reset_method", "flr bus\n");
	assert_int_equal(vh_sys_write(T.sys, "", VH_WRITE_BOUNDED, "/sys/reset_method"), 0);
	put("sys/driver_override", "");
	assert_int_equal(vh_sys_write(T.sys, "vfio-pci", VH_WRITE_BOUNDED, "/sys/driver_override"),
			 0);
	assert_int_equal(fakesys_get(T.root, "sys/driver_override", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vfio-pci");
	/* The child's errno comes back. */
	assert_int_equal(vh_sys_write(T.sys, "1", VH_WRITE_BOUNDED, "/sys/missing"), -ENOENT);
	mkdir_at("sys/adir");
	assert_int_equal(vh_sys_write(T.sys, "1", VH_WRITE_BOUNDED, "/sys/adir"), -EISDIR);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void write_bounded_fifo_times_out(void **state UNUSED)
{
	char p[4200];
	double t0, ms;
	int r;

	snprintf(p, sizeof(p), "%s/sys/unbind", T.root);
	put("sys/x", "");
	assert_int_equal(mkfifo(p, 0600), 0);
	vh_sys_set_timeout_ms(T.sys, 200);
	/* A hang here would be the bug: the alarm kills the test. */
	alarm(30);
	t0 = now_ms();
	r = vh_sys_write(T.sys, "0000:01:00.0", VH_WRITE_BOUNDED, "/sys/unbind");
	ms = now_ms() - t0;
	alarm(0);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(ms >= 150.0);
	if (ms > 5000.0)
		fail_msg("timed out only after %.0f ms", ms);
	/* Reap the killed child so it does not outlive the test. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void write_unbounded_fifo_with_reader(void **state UNUSED)
{
	char p[4200], buf[64] = "";
	pid_t pid;
	int status, fd;

	snprintf(p, sizeof(p), "%s/sys/pipe", T.root);
	put("sys/x", "");
	assert_int_equal(mkfifo(p, 0600), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ssize_t k;
		fd = open(p, O_RDONLY);
		k = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		_exit(k == 4 && memcmp(buf, "bind", 4) == 0 ? 0 : 1);
	}
	vh_sys_set_timeout_ms(T.sys, 5000);
	alarm(30);
	assert_int_equal(vh_sys_write(T.sys, "bind", VH_WRITE_BOUNDED, "/sys/pipe"), 0);
	alarm(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* --- a replaceable write path --- */

static struct {
	int calls;
	char path[256], full[4200], value[64];
	bool bounded;
} B;

static int fake_write(const struct vh_sys *sys UNUSED, const char *path, const char *full,
		      const char *value, size_t len, bool bounded)
{
	B.calls++;
	snprintf(B.path, sizeof(B.path), "%s", path);
	snprintf(B.full, sizeof(B.full), "%s", full);
	snprintf(B.value, sizeof(B.value), "%.*s", (int)len, value);
	B.bounded = bounded;
	return -EBUSY;
}

static void backend_receives_writes(void **state UNUSED)
{
	static const struct vh_sys_backend be = {.write = fake_write};
	struct vh_sys *s = NULL;
	char want[4200];

	memset(&B, 0, sizeof(B));
	assert_int_equal(vh_sys_new(T.root, &s), 0);
	vh_sys_set_backend(s, &be);
	assert_int_equal(vh_sys_write(s, "vfio-pci", VH_WRITE_BOUNDED,
				      "/sys/bus/pci/devices/%s/driver_override", "0000:01:00.0"),
			 -EBUSY);
	assert_int_equal(B.calls, 1);
	assert_string_equal(B.path, "/sys/bus/pci/devices/0000:01:00.0/driver_override");
	snprintf(want, sizeof(want), "%s%s", T.root, B.path);
	assert_string_equal(B.full, want);
	assert_string_equal(B.value, "vfio-pci");
	assert_true(B.bounded);

	assert_int_equal(vh_sys_write(s, "1", 0, "/sys/x"), -EBUSY);
	assert_false(B.bounded);
	assert_int_equal(B.calls, 2);

	/* ".." is refused before the backend sees it */
	assert_int_equal(vh_sys_write(s, "1", 0, "/sys/../x"), -EINVAL);
	assert_int_equal(B.calls, 2);
	vh_sys_free(s);

	/* another gateway keeps its own backend (none: real writes) */
	put("sys/x", "");
	assert_int_equal(vh_sys_write(T.sys, "1", 0, "/sys/x"), 0);
	assert_int_equal(B.calls, 2);
}

/* --- vh_pci_dev_read --- */

static void pci_dev_read_fields(void **state UNUSED)
{
	struct vh_pci_dev d;
	struct vh_pci_addr a = {0, 1, 0, 0};

	build("0000:01:00.0 id=17cb:a100 subsys=17cb:0100 class=0x120000 "
	      "rev=2 driver=qaic group=7 msi=32 pcie\n");
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_true(d.present);
	assert_string_equal(d.name, "0000:01:00.0");
	assert_aic_ids(&d, 0x120000);
	assert_int_equal(d.revision, 2);
	assert_string_equal(d.driver, "qaic");
	/* "(null)" in sysfs means no override */
	assert_string_equal(d.driver_override, "");
	assert_int_equal(d.iommu_group, 7);
	assert_true(d.has_reset_method);
	assert_string_equal(d.reset_method, "flr bus");
	assert_true(d.has_reset);
	assert_true(d.caps.readable);
	assert_int_equal(d.caps.msi_vectors, 32);
	assert_true(d.caps.pcie);
	assert_false(d.is_vf);
	assert_int_equal(d.sriov_totalvfs, -1);
	assert_int_equal(d.sriov_numvfs, -1);
	assert_int_equal(d.err, 0);
	assert_string_equal(d.err_file, "");
	assert_false(vh_pci_dev_is_bridge(&d));
}

static void pci_dev_read_variants(void **state UNUSED)
{
	struct vh_pci_dev d;
	struct vh_pci_addr a1 = {0, 2, 0, 0}, a2 = {0, 3, 0, 0}, a3 = {0, 4, 0, 0};

	build("0000:02:00.0 id=1e60:2864 override=vfio-pci reset=\n"
	      "0000:03:00.0 id=8086:1533 reset=none cfg=64 msix=5\n"
	      "0000:04:00.0 id=8086:a338 class=0x060400 bridge pcie=4 "
	      "reset=bus\n");
	assert_int_equal(vh_pci_dev_read(T.sys, &a1, &d), 0);
	assert_string_equal(d.driver_override, "vfio-pci");
	assert_string_equal(d.driver, "");
	assert_int_equal(d.iommu_group, -1);
	assert_true(d.has_reset_method);
	assert_string_equal(d.reset_method, "");
	assert_int_equal(d.err, 0);

	assert_int_equal(vh_pci_dev_read(T.sys, &a2, &d), 0);
	assert_false(d.has_reset_method);
	assert_false(d.has_reset);
	assert_true(d.caps.readable);
	assert_false(d.caps.ext_read);
	assert_int_equal(d.caps.msix_vectors, 0); /* beyond 64 bytes */
	assert_int_equal(d.err, 0);

	assert_int_equal(vh_pci_dev_read(T.sys, &a3, &d), 0);
	assert_true(vh_pci_dev_is_bridge(&d));
	assert_int_equal(d.caps.header_type, 1);
	assert_string_equal(d.reset_method, "bus");
}

static void pci_dev_read_missing(void **state UNUSED)
{
	struct vh_pci_dev d;
	struct vh_pci_addr a = {0, 9, 0, 0};

	build("");
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), -ENODEV);
	assert_false(d.present);
	assert_string_equal(d.name, "0000:09:00.0");
	assert_int_equal(d.iommu_group, -1);
	assert_int_equal(d.err, 0);
}

static void pci_dev_read_sriov(void **state UNUSED)
{
	struct vh_pci_dev pf, vf;
	struct vh_pci_addr ap = {0, 0x3b, 0, 0}, av = {0, 0x3b, 0, 1};

	build("0000:3b:00.0 id=8086:56c0 class=0x038000 pcie "
	      "sriov=total:7,offset:1,stride:1,vfdev:56c1 numvfs=2 driver=i915 "
	      "group=20\n"
	      "0000:3b:00.1 id=8086:56c1 class=0x038000 pcie "
	      "physfn=0000:3b:00.0 driver=vfio-pci group=21\n");
	assert_int_equal(vh_pci_dev_read(T.sys, &ap, &pf), 0);
	assert_int_equal(pf.sriov_totalvfs, 7);
	assert_int_equal(pf.sriov_numvfs, 2);
	assert_true(pf.caps.sriov);
	assert_int_equal(pf.caps.sriov_total, 7);
	assert_int_equal(pf.caps.sriov_num, 2);
	assert_int_equal(pf.caps.sriov_vf_device, 0x56c1);
	assert_false(pf.is_vf);

	assert_int_equal(vh_pci_dev_read(T.sys, &av, &vf), 0);
	assert_true(vf.is_vf);
	assert_true(vh_pci_addr_eq(&vf.physfn, &ap));
	assert_int_equal(vf.iommu_group, 21);
	assert_string_equal(vf.driver, "vfio-pci");
}

static void pci_dev_read_errors_recorded(void **state UNUSED)
{
	struct vh_pci_dev d;
	struct vh_pci_addr a = {0, 1, 0, 0};
	char p[4200];

	build("0000:01:00.0 id=17cb:a100 class=0x120000 group=3\n");
	put("sys/bus/pci/devices/0000:01:00.0/vendor", "0x117cb\n");
	/* a vendor out of range in modalias too: the files are read */
	put("sys/bus/pci/devices/0000:01:00.0/modalias",
	    "pci:v000117CBd0000A100sv00000000sd00000000bc12sc00i00\n");
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_true(d.present);
	assert_int_equal(d.err, -EBADMSG);
	assert_non_null(strstr(d.err_file, "0000:01:00.0/vendor"));
	assert_int_equal(d.vendor, 0);
	assert_int_equal(d.device, 0xa100); /* the rest is still read */
	assert_int_equal(d.iommu_group, 3);

	/* A broken iommu_group link. */
	build("0000:02:00.0 id=17cb:a100 class=0x120000\n");
	link_at("sys/bus/pci/devices/0000:02:00.0/iommu_group",
		"../../../kernel/iommu_groups/notanumber");
	a.bus = 2;
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_int_equal(d.iommu_group, -1);
	assert_int_equal(d.err, -EBADMSG);
	assert_non_null(strstr(d.err_file, "iommu_group"));

	/* Config is a directory. */
	build("0000:05:00.0 id=17cb:a100 class=0x120000 group=5\n");
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:05:00.0/config", T.root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	a.bus = 5;
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_int_equal(d.err, -EISDIR);
	assert_non_null(strstr(d.err_file, "config"));
	assert_false(d.caps.readable);
	assert_int_equal(d.iommu_group, 5);
}

static void group_members(void **state UNUSED)
{
	struct vh_pci_addr *v = NULL;
	char buf[VH_PCI_ADDR_LEN];
	int n;

	build("0000:0a:00.0 id=8086:1533 group=4\n"
	      "0000:01:00.1 id=10de:1aef group=4\n"
	      "0001:00:02.0 id=8086:1533 group=4\n"
	      "0000:01:00.0 id=10de:2204 group=4\n"
	      "0000:05:00.0 id=8086:1533 group=5\n");
	put("sys/kernel/iommu_groups/4/devices/not-an-address", "");
	n = vh_iommu_group_members(T.sys, 4, &v);
	assert_int_equal(n, 4);
	vh_pci_addr_format(&v[0], buf);
	assert_string_equal(buf, "0000:01:00.0");
	vh_pci_addr_format(&v[1], buf);
	assert_string_equal(buf, "0000:01:00.1");
	vh_pci_addr_format(&v[2], buf);
	assert_string_equal(buf, "0000:0a:00.0");
	vh_pci_addr_format(&v[3], buf);
	assert_string_equal(buf, "0001:00:02.0");
	free(v);

	assert_int_equal(vh_iommu_group_members(T.sys, 5, &v), 1);
	free(v);
	assert_int_equal(vh_iommu_group_members(T.sys, 99, &v), -ENOENT);
}

static void names_disabled(void **state UNUSED)
{
	char vn[64] = "x", mn[64] = "y";

	vh_pci_names(T.sys, 0x8086, 0x1533, vn, sizeof(vn), mn, sizeof(mn));
	assert_string_equal(vn, "");
	assert_string_equal(mn, "");
}

/* --- the hook's state directory --- */

/* A journal's path is journal.c's: under the root's VH_JOURNAL_DIR. */
static void journal_exists_under_root(void **state UNUSED)
{
	const char *u = "6c7b0f7e-1b7c-4c8e-9d7e-0a1b2c3d4e5f";

	assert_int_equal(vh_journal_dir_exists(T.sys), 0);
	assert_int_equal(vh_journal_exists(T.sys, u), 0);
	put("run/vfio-hooks/6c7b0f7e-1b7c-4c8e-9d7e-0a1b2c3d4e5f.journal", "");
	assert_int_equal(vh_journal_dir_exists(T.sys), 1);
	assert_int_equal(vh_journal_exists(T.sys, u), 1);
	assert_int_equal(vh_journal_exists(T.sys, "6c7b0f7e-1b7c-4c8e-9d7e-0a1b2c3d4e50"), 0);
	assert_int_equal(vh_journal_exists(T.sys, ""), 0);
	assert_int_equal(vh_journal_exists(T.sys, NULL), 0);
}

/* The root itself, through the gateway (the doctor takes the owner of a
 * fake root's "/" for root's): the sysroot's directory, not an error. */
static void root_itself(void **state UNUSED)
{
	struct stat st, want;

	assert_int_equal(vh_sys_lstat(T.sys, &st, "/"), 0);
	assert_int_equal(lstat(vh_sys_root(T.sys), &want), 0);
	assert_int_equal(st.st_ino, want.st_ino);
	assert_int_equal(st.st_dev, want.st_dev);
	assert_int_equal(vh_sys_exists(T.sys, "/"), 1);
}

static void state_dir_created(void **state UNUSED)
{
	char why[512] = "", p[4200];
	struct stat st;
	int fd = -1;

	build("");
	assert_int_equal(vh_sys_state_dir(T.sys, &fd, why, sizeof(why)), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());

	/* Again: the existing directory is accepted. */
	fd = -1;
	assert_int_equal(vh_sys_state_dir(T.sys, &fd, why, sizeof(why)), 0);
	assert_true(fd >= 0);
	close(fd);

	/* 0755 is not writable by others: accepted. */
	assert_int_equal(chmod(p, 0755), 0);
	fd = -1;
	assert_int_equal(vh_sys_state_dir(T.sys, &fd, why, sizeof(why)), 0);
	close(fd);
}

static void state_dir_writable_refused(void **state UNUSED)
{
	char why[512] = "", p[4200];
	int fd = -1;

	build("");
	mkdir_at("run/vfio-hooks");
	snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(vh_sys_state_dir(T.sys, &fd, why, sizeof(why)), -EPERM);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(why, p));

	why[0] = '\0';
	assert_int_equal(chmod(p, 0770), 0);
	assert_int_equal(vh_sys_state_dir(T.sys, &fd, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable"));

	if (geteuid() == 0) {
		assert_int_equal(chmod(p, 0700), 0);
		assert_int_equal(chown(p, 65534, 65534), 0);
		why[0] = '\0';
		assert_int_equal(vh_sys_state_dir(T.sys, &fd, why, sizeof(why)), -EPERM);
		assert_non_null(strstr(why, "owned"));
		assert_int_equal(fd, -1);
	}
}

/* Regression (fixed): sysfs.h documents -EPERM when the state directory "is a
 * symlink, not a directory", but vh_sys_state_dir returns the open() errno
 * there
 * (-ENOTDIR for both a symlink, because of O_DIRECTORY|O_NOFOLLOW, and a
 * file).  Fix (lib/sysfs.c, vh_sys_state_dir, the open() failure branch
 * after "fd = open(dir, ...)"): return -EPERM when errno is ELOOP or
 * ENOTDIR, or document the errno values in sysfs.h. */
static void state_dir_symlink_or_file_refused(void **state UNUSED)
{
	char why[512] = "", p[4200];
	int fd = -1, r1, r2;
	struct stat st;

	build("");
	mkdir_at("elsewhere");
	link_at("run/vfio-hooks", "../elsewhere");
	r1 = vh_sys_state_dir(T.sys, &fd, why, sizeof(why));
	assert_int_equal(fd, -1);
	assert_true(r1 < 0);
	assert_non_null(strstr(why, "symlink"));
	/* the link was not followed into creating anything */
	snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	assert_int_equal(unlink(p), 0);
	put("run/vfio-hooks", "a file");
	why[0] = '\0';
	r2 = vh_sys_state_dir(T.sys, &fd, why, sizeof(why));
	assert_int_equal(fd, -1);
	assert_true(r2 < 0);
	assert_true(why[0] != '\0');

	assert_int_equal(r1, -EPERM);
	assert_int_equal(r2, -EPERM);
}

/* --- the device-directory cache --- */

/* A device at sys/devices/pci0000:00/ADDR with its bus link, @vendor. */
static void dev_at_root(const char *addr, const char *vendor)
{
	char rel[128], target[128];

	struct stat st;
	char p[4200];

	snprintf(rel, sizeof(rel), "sys/devices/pci0000:00/%s/vendor", addr);
	put(rel, vendor);
	put("sys/bus/pci/rescan", "");
	put("sys/bus/pci/devices/.keep", "");
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", addr);
	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	if (lstat(p, &st) == 0)
		return;
	snprintf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
	link_at(rel, target);
}

static int open_fds(void)
{
	char **v = NULL;
	int n;
	struct vh_sys *proc = NULL;

	assert_int_equal(vh_sys_new("/", &proc), 0);
	n = vh_sys_list(proc, &v, "/proc/self/fd");
	vh_strv_free(v);
	vh_sys_free(proc);
	return n;
}

/* More devices than the cache holds, read round and round: every value is
 * the device's own, and nothing stays open after vh_sys_free. */
static void dev_cache_many_devices(void **state UNUSED)
{
	/* More devices than the cache holds (64), read round robin. */
	enum { N = 100 };
	char a[16], v[16], got[16];
	int before;

	/* The count without the gateway, which holds its root's directory. */
	T.sys = vh_sys_free(T.sys);
	before = open_fds();
	assert_int_equal(vh_sys_new(T.root, &T.sys), 0);

	for (int i = 0; i < N; i++) {
		snprintf(a, sizeof(a), "0000:%02x:%02x.0", i / 32, i % 32);
		snprintf(v, sizeof(v), "0x%04x", 0x1000 + i);
		dev_at_root(a, v);
	}
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < N; i++) {
			int k = (i * 7) % N;
			snprintf(a, sizeof(a), "0000:%02x:%02x.0", k / 32, k % 32);
			snprintf(v, sizeof(v), "0x%04x", 0x1000 + k);
			assert_int_equal(vh_sys_read_str(T.sys, got, sizeof(got),
							 "/sys/bus/pci/devices/"
							 "%s/vendor",
							 a),
					 0);
			assert_string_equal(got, v);
			assert_int_equal(vh_sys_exists(T.sys,
						       "/sys/bus/pci/devices/"
						       "%s/vendor",
						       a),
					 1);
			assert_int_equal(vh_sys_exists(T.sys,
						       "/sys/bus/pci/devices/"
						       "%s/nothing",
						       a),
					 0);
		}
	/* a device that is not there: the error of the whole path */
	assert_int_equal(vh_sys_read_str(T.sys, got, sizeof(got),
					 "/sys/bus/pci/devices/0000:1f:00.0/"
					 "vendor"),
			 -ENOENT);
	T.sys = vh_sys_free(T.sys);
	assert_int_equal(open_fds(), before);
	assert_int_equal(vh_sys_new(T.root, &T.sys), 0);
}

/* A device directory that goes and comes back at the same path (a VF when
 * sriov_numvfs is written): after a write through the gateway, reads see
 * the new one. */
static void dev_cache_fresh_after_write(void **state UNUSED)
{
	char got[16], p[4200];

	dev_at_root("0000:00:05.0", "0x1111");
	assert_int_equal(vh_sys_read_str(T.sys, got, sizeof(got),
					 "/sys/bus/pci/devices/0000:00:05.0/"
					 "vendor"),
			 0);
	assert_string_equal(got, "0x1111");
	snprintf(p, sizeof(p), "%s/sys/devices/pci0000:00/0000:00:05.0", T.root);
	fakesys_rmrf(p);
	dev_at_root("0000:00:05.0", "0x2222");
	assert_int_equal(vh_sys_write(T.sys, "1", 0, "/sys/bus/pci/rescan"), 0);
	assert_int_equal(vh_sys_read_str(T.sys, got, sizeof(got),
					 "/sys/bus/pci/devices/0000:00:05.0/"
					 "vendor"),
			 0);
	assert_string_equal(got, "0x2222");
}

/* The write count a reading is stamped with: it moves with every write
 * through the gateway (even a failed one), and a reading is current only
 * for the gateway it was taken through. */
static void writes_counted(void **state UNUSED)
{
	struct vh_pci_addr a = {0, 1, 0, 0};
	struct vh_pci_dev d;
	struct vh_sys *other;
	unsigned long w;

	build("0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e\n");
	put("sys/bus/pci/rescan", "");
	w = vh_sys_writes(T.sys);
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_ptr_equal(d.read_by, T.sys);
	assert_int_equal(d.sys_writes, w);
	assert_true(vh_sys_unwritten_since(T.sys, d.read_by, d.sys_writes));
	/* Reads move nothing. */
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_true(vh_sys_unwritten_since(T.sys, d.read_by, d.sys_writes));
	assert_int_equal(vh_sys_write(T.sys, "1", 0, "/sys/bus/pci/rescan"), 0);
	assert_int_equal(vh_sys_writes(T.sys), w + 1);
	assert_false(vh_sys_unwritten_since(T.sys, d.read_by, d.sys_writes));
	assert_true(vh_sys_write(T.sys, "1", 0, "/sys/no/such/file") < 0);
	assert_int_equal(vh_sys_writes(T.sys), w + 2);
	/* Another gateway at the same count is not the same history. */
	assert_int_equal(vh_sys_new(T.root, &other), 0);
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_false(vh_sys_unwritten_since(other, d.read_by, d.sys_writes));
	vh_sys_free(other);
}

/* The revision comes from config space (byte 8), as the kernel's
 * attribute does; a device without SR-IOV attributes never has its
 * sriov_numvfs read; a device whose vendor file is missing is present,
 * with the error, and one whose directory is missing is absent. */
static void pci_dev_read_lean(void **state UNUSED)
{
	struct vh_pci_addr a = {0, 1, 0, 0};
	struct vh_pci_dev d;

	build("0000:01:00.0 id=8086:10d3 class=0x020000 rev=0x2a\n");
	put("sys/bus/pci/devices/0000:01:00.0/revision", "0x01\n");
	put("sys/bus/pci/devices/0000:01:00.0/sriov_numvfs", "3\n");
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_int_equal(d.revision, 0x2a);
	assert_int_equal(d.sriov_totalvfs, -1);
	assert_int_equal(d.sriov_numvfs, -1);
	assert_int_equal(d.err, 0);

	{
		char p[4200];
		snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0/vendor", T.root);
		assert_int_equal(unlink(p), 0);
		snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0/modalias", T.root);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_true(d.present);
	assert_int_equal(d.err, -ENOENT);
	assert_non_null(strstr(d.err_file, "0000:01:00.0/vendor"));
	assert_int_equal(d.device, 0x10d3);

	a.bus = 2;
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), -ENODEV);
	assert_false(d.present);
	assert_int_equal(d.err, 0);
}

/* modalias gives the IDs and the class in one read (the five files are
 * not needed); one not in the kernel's form sends the read to the files. */
static void pci_dev_read_modalias(void **state UNUSED)
{
	static const char *const files[] = {"vendor", "device", "class", "subsystem_vendor",
					    "subsystem_device"};
	static const char *const bad[] = {
	    "",
	    "pci:v000017CBd0000A100sv000017CBsd00000100bc12sc00",
	    "pci:v000017CBd0000A100sv000017CBsd00000100bc12sc00i00x",
	    "pci:v000017CBd0001A100sv000017CBsd00000100bc12sc00i00",
	    "pci:v000017CBd0000A100sv000017CBsd00000100bc12sc00i0g",
	    "usb:v000017CBd0000A100sv000017CBsd00000100bc12sc00i00",
	    "pci:v 00017CBd0000A100sv000017CBsd00000100bc12sc00i00",
	};
	struct vh_pci_addr a = {0, 1, 0, 0};
	struct vh_pci_dev d;
	char rel[128], p[4200];

	build("0000:01:00.0 id=17cb:a100 subsys=17cb:0100 class=0x120000 "
	      "group=3\n");
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0/%s", T.root, files[i]);
		assert_int_equal(unlink(p), 0);
	}
	/* the interface byte in lower case, as kernels before 5.10 */
	put("sys/bus/pci/devices/0000:01:00.0/modalias",
	    "pci:v000017CBd0000A100sv000017CBsd00000100bc12sc00i0a\n");
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	assert_true(d.present);
	assert_int_equal(d.err, 0);
	assert_aic_ids(&d, 0x12000a);

	/* not the kernel's form: the files, which say otherwise here */
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/0000:01:00.0/%s", files[i]);
		put(rel, i == 2 ? "0x020000\n" : "0x1234\n");
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		put("sys/bus/pci/devices/0000:01:00.0/modalias", bad[i]);
		assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
		if (d.vendor != 0x1234 || d.device != 0x1234 || d.subsys_vendor != 0x1234 ||
		    d.class != 0x020000)
			fail_msg("modalias '%s' was taken", bad[i]);
		assert_int_equal(d.err, 0);
	}
}

/* Config space: 4096 bytes for a PF (its SR-IOV capability is extended),
 * the standard 256 for any other device, even one whose image has an
 * SR-IOV capability (a real read of the device per 4 bytes).  reset: known
 * from reset_method when it lists a method, stat'ed otherwise. */
static void pci_dev_read_config_extent(void **state UNUSED)
{
	struct vh_pci_addr ap = {0, 0x3b, 0, 0}, an = {0, 1, 0, 0};
	struct vh_pci_dev pf, d;
	uint8_t cfg[4096];
	char p[4200];
	int fd;
	ssize_t k;

	build("0000:3b:00.0 id=8086:56c0 class=0x038000 pcie "
	      "sriov=total:7,offset:1,stride:1,vfdev:56c1 numvfs=0 driver=i915 "
	      "group=20\n"
	      "0000:01:00.0 id=8086:10d3 class=0x020000 pcie driver=e1000e "
	      "group=1\n");
	assert_int_equal(vh_pci_dev_read(T.sys, &ap, &pf), 0);
	assert_true(pf.caps.ext_read);
	assert_true(pf.caps.sriov);

	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:3b:00.0/config", T.root);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	k = read(fd, cfg, sizeof(cfg));
	close(fd);
	assert_int_equal(k, 4096);
	cfg[0] = 0x86, cfg[1] = 0x80, cfg[2] = 0xd3, cfg[3] = 0x10;
	put_bytes("sys/bus/pci/devices/0000:01:00.0/config", cfg, sizeof(cfg));
	assert_int_equal(vh_pci_dev_read(T.sys, &an, &d), 0);
	assert_int_equal(d.err, 0);
	assert_true(d.caps.pcie);
	assert_false(d.caps.ext_read);
	assert_false(d.caps.sriov);
	assert_int_equal(d.sriov_totalvfs, -1);

	/* reset_method lists a method: reset is there (not stat'ed) */
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0/reset", T.root);
	assert_int_equal(unlink(p), 0);
	put("sys/bus/pci/devices/0000:01:00.0/reset_method", "flr\n");
	assert_int_equal(vh_pci_dev_read(T.sys, &an, &d), 0);
	assert_true(d.has_reset);
	/* an empty one (all methods removed), or none: the file decides */
	put("sys/bus/pci/devices/0000:01:00.0/reset_method", "\n");
	assert_int_equal(vh_pci_dev_read(T.sys, &an, &d), 0);
	assert_false(d.has_reset);
	put("sys/bus/pci/devices/0000:01:00.0/reset", "");
	assert_int_equal(vh_pci_dev_read(T.sys, &an, &d), 0);
	assert_true(d.has_reset);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:01:00.0/reset_method", T.root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(vh_pci_dev_read(T.sys, &an, &d), 0);
	assert_false(d.has_reset_method);
	assert_true(d.has_reset);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(root_and_timeout),
	    T_(path_prefixing),
	    T_(dotdot_refused),
	    T_(read_str),
	    T_(read_str_never_truncates),
	    T_(read_uint),
	    T_(read_raw),
	    T_(link_name),
	    T_(exists),
	    T_(list_sorted),
	    T_(write_plain),
	    T_(dev_cache_many_devices),
	    T_(dev_cache_fresh_after_write),
	    T_(writes_counted),
	    T_(pci_dev_read_lean),
	    T_(pci_dev_read_config_extent),
	    T_(pci_dev_read_modalias),
	    T_(write_bounded_ok),
	    T_(write_bounded_fifo_times_out),
	    T_(write_unbounded_fifo_with_reader),
	    T_(backend_receives_writes),
	    T_(pci_dev_read_fields),
	    T_(pci_dev_read_variants),
	    T_(pci_dev_read_missing),
	    T_(pci_dev_read_sriov),
	    T_(pci_dev_read_errors_recorded),
	    T_(group_members),
	    T_(names_disabled),
	    T_(journal_exists_under_root),
	    T_(root_itself),
	    T_(state_dir_created),
	    T_(state_dir_writable_refused),
	    T_(state_dir_symlink_or_file_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
