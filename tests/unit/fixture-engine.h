/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the test-engine*.c files (lib/engine.h against the fake
 * kernel, tests/fakekernel.h, on fake sysroots): the per-test state, the
 * host, a comparable picture of the kernel's tree, the domains.  Every
 * struct vh_sys has a temp root: the real /sys is never touched.
 */
#ifndef VH_TESTS_UNIT_FIXTURE_ENGINE_H
#define VH_TESTS_UNIT_FIXTURE_ENGINE_H

/* Not every test file of the family uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/check.h"
#include "../../lib/config.h"
#include "../../lib/domain.h"
#include "../../lib/engine.h"
#include "../../lib/journal.h"
#include "../../lib/profile.h"
#include "../../lib/sysfs.h"
#include "../fakekernel.h"
#include "../fakesys.h"

#define U1 "6f1c3a52-8d0e-4b7e-9a55-000000000001"
#define U2 "6f1c3a52-8d0e-4b7e-9a55-000000000002"
#define U3 "6f1c3a52-8d0e-4b7e-9a55-000000000003"

#define NIC "0000:01:00.0"	 /* e1000e, no profile, reset pm,bus */
#define HAILO "0000:02:00.0"	 /* Hailo-8: reset_method "" while assigned */
#define GPU "0000:41:00.0"	 /* NVIDIA GPU ... */
#define GPU_AUDIO "0000:41:00.1" /* ... and its audio function, group 41 */
#define NIC_A "0000:05:00.0"	 /* two functions of a NIC without a profile, */
#define NIC_B "0000:05:00.1"	 /* in one group */
#define BARE "0000:07:00.0"	 /* no driver */
#define OVR "0000:08:00.0"	 /* e1000e with driver_override=e1000e */
#define STUB "0000:09:00.0"	 /* no driver, driver_override=pci-stub */

/* The addresses above, in the spec of tests/fakesys.h. */
static const char *const host_spec =
    "iommu dmar0\n"
    "driver vfio-pci\n"
    "driver pci-stub\n"
    "0000:00:01.0 id=8086:1905 class=0x060400 bridge pcie=4 group=1 "
    "driver=pcieport reset=none\n"
    "0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 msix=5 "
    "pcie reset=pm,bus\n"
    "0000:02:00.0 id=1e60:2864 class=0x0b4000 driver=hailo group=16 msi=1 "
    "pcie reset=flr,bus\n"
    "0000:41:00.0 id=10de:2204 class=0x030000 driver=nouveau group=41 msi=1 "
    "pcie\n"
    "0000:41:00.1 id=10de:1aef class=0x040300 driver=snd_hda_intel group=41 "
    "msi=1 pcie\n"
    "0000:05:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=50 msix=5 "
    "pcie\n"
    "0000:05:00.1 id=8086:10d3 class=0x020000 driver=e1000e group=50 msix=5 "
    "pcie\n"
    "0000:07:00.0 id=8086:10d3 class=0x020000 group=70 msix=5 pcie "
    "reset=pm,bus\n"
    "0000:08:00.0 id=8086:10d3 class=0x020000 driver=e1000e "
    "override=e1000e group=80 msix=5 pcie\n"
    "0000:09:00.0 id=8086:10d3 class=0x020000 override=pci-stub group=90 "
    "msix=5 pcie\n";

static struct vh_profiles profiles;

#define MAX_DOMS 3

static struct {
	char *root;
	struct vh_sys *sys;
	struct vh_config cfg;
	struct vh_engine en;
	struct vh_domain *dom[MAX_DOMS];
	struct vh_report rep[MAX_DOMS];
	bool have_rep[MAX_DOMS];
	struct vh_err e;
	/* the log callback */
	int n_log, n_log_level[8];
	struct vh_buf log;
	struct vh_buf log_fields; /* "KIND DEVICE" an entry ("-": none) */
	/* the journal loaded by load_journal */
	struct vh_journal j;
	bool have_j;
	/* strings the helpers return, freed by the teardown (so a failing
	 * assertion leaks nothing) */
	void **keep;
	size_t n_keep;
} T;

static void *keep(void *p)
{
	void **nv = realloc(T.keep, (T.n_keep + 1) * sizeof(*nv));

	assert_non_null(p);
	assert_non_null(nv);
	T.keep = nv;
	T.keep[T.n_keep++] = p;
	return p;
}

/* --- fixture --- */

static int group_setup(void **state UNUSED)
{
	if (hx_profiles_load(&profiles) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state UNUSED)
{
	vh_profiles_done(&profiles);
	return 0;
}

static void on_log(void *ud, const struct vh_log_entry *e)
{
	assert_ptr_equal(ud, &T);
	assert_non_null(e->message);
	T.n_log++;
	if (e->level >= 0 && e->level < 8)
		T.n_log_level[e->level]++;
	vh_buf_printf(&T.log, "<%d>%s\n", e->level, e->message);
	vh_buf_printf(&T.log_fields, "%s %s\n", vh_log_kind_name(e->kind),
		      e->device ? e->device : "-");
}

static void log_reset(void)
{
	T.n_log = 0;
	memset(T.n_log_level, 0, sizeof(T.n_log_level));
	vh_buf_done(&T.log);
	vh_buf_done(&T.log_fields);
}

static int setup(void **state UNUSED)
{
	char err[256] = "";

	memset(&T, 0, sizeof(T));
	T.root = fakesys_mkroot();
	if (!T.root)
		return -1;
	if (fakesys_build(T.root, host_spec, err, sizeof(err)) < 0) {
		fprintf(stderr, "fakesys_build: %s\n", err);
		return -1;
	}
	if (vh_sys_new(T.root, &T.sys) < 0)
		return -1;
	fakekernel_install(T.sys);
	/* never the real system */
	if (vh_sys_is_real(T.sys) || !vh_sys_root(T.sys)[0] || streq(vh_sys_root(T.sys), "/"))
		return -1;
	vh_sys_set_timeout_ms(T.sys, 5000);
	vh_config_init(&T.cfg);
	T.cfg.log_level = VH_LOG_DEBUG;
	T.cfg.lock_timeout_ms = 5000;
	T.cfg.timeout_ms = 5000;
	T.en = (struct vh_engine){.sys = T.sys, .cfg = &T.cfg, .log = on_log, .log_ud = &T};
	return 0;
}

static void drop_dom(int i)
{
	if (T.have_rep[i])
		vh_report_done(&T.rep[i]);
	T.have_rep[i] = false;
	T.dom[i] = vh_domain_free(T.dom[i]);
}

static int teardown(void **state UNUSED)
{
	for (int i = 0; i < MAX_DOMS; i++)
		drop_dom(i);
	if (T.have_j)
		vh_journal_done(&T.j);
	vh_buf_done(&T.log);
	vh_buf_done(&T.log_fields);
	vh_config_done(&T.cfg);
	for (size_t i = 0; i < T.n_keep; i++)
		free(T.keep[i]);
	free(T.keep);
	T.sys = vh_sys_free(T.sys);
	hx_rmroot(&T.root);
	memset(&T, 0, sizeof(T));
	return 0;
}

/* --- the host --- */

/* The driver a device is on, "" for none. */
static const char *driver_of(const char *addr)
{
	static char out[4][128];
	static int k;
	char p[4200], t[4200];
	ssize_t n;
	char *slash;

	k = (k + 1) % 4;
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/driver", T.root, addr);
	n = readlink(p, t, sizeof(t) - 1);
	if (n < 0) {
		assert_int_equal(errno, ENOENT);
		out[k][0] = '\0';
		return out[k];
	}
	t[n] = '\0';
	slash = strrchr(t, '/');
	snprintf(out[k], sizeof(out[k]), "%s", slash ? slash + 1 : t);
	return out[k];
}

/* A device attribute's content (trailing newline stripped). */
static const char *attr_of(const char *addr, const char *attr)
{
	static char out[4][256];
	static int k;
	char rel[256];

	k = (k + 1) % 4;
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/%s", addr, attr);
	if (fakesys_get(T.root, rel, out[k], sizeof(out[k])) < 0)
		snprintf(out[k], sizeof(out[k]), "<missing>");
	return out[k];
}

static bool rooted_exists(const char *rel)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	return lstat(p, &st) == 0;
}

static bool journal_exists(const char *uuid)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "run/vfio-hooks/%s.journal", uuid);
	return rooted_exists(rel);
}

/* The journal file's exact text. */
static char *journal_text(const char *uuid)
{
	char p[4200], *buf = keep(calloc(1, 65536));
	ssize_t k;
	int fd;

	snprintf(p, sizeof(p), "%s/run/vfio-hooks/%s.journal", T.root, uuid);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		fail_msg("cannot open %s: %s", p, strerror(errno));
	k = read(fd, buf, 65535);
	close(fd);
	assert_true(k >= 0);
	return buf;
}

static void load_journal(const char *uuid)
{
	char p[4200];
	struct vh_err e = {0};
	int dfd, r;

	if (T.have_j)
		vh_journal_done(&T.j);
	T.have_j = false;
	snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
	dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	r = vh_journal_load(dfd, uuid, &T.j, &e);
	close(dfd);
	if (r < 0)
		fail_msg("journal %s: %d %s", uuid, r, e.msg);
	T.have_j = true;
}

static const struct vh_jdev *jdev_of(const char *addr)
{
	struct vh_pci_addr a;

	assert_int_equal(vh_pci_addr_parse(addr, &a), 0);
	for (size_t i = 0; i < T.j.n_devs; i++)
		if (vh_pci_addr_eq(&T.j.devs[i].addr, &a))
			return &T.j.devs[i];
	fail_msg("%s is not in the journal", addr);
	return NULL;
}

/* The fake kernel's write log ("OP ADDR VALUE" lines); caller frees. */
static char *kernel_log(void)
{
	char *buf = malloc(1 << 16);

	assert_non_null(buf);
	if (fakesys_get(T.root, ".fakekernel/log", buf, 1 << 16) < 0)
		buf[0] = '\0';
	return buf;
}

/* How many writes of @op to @addr the fake kernel saw. */
static int kernel_ops(const char *op, const char *addr)
{
	char *klog = kernel_log(), *save = NULL, *line;
	int n = 0;

	for (line = strtok_r(klog, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char o[64] = "", a[64] = "";
		if (sscanf(line, "%63s %63s", o, a) >= 2 && streq(o, op) && streq(a, addr))
			n++;
	}
	free(klog);
	return n;
}

static void inject(const char *rules)
{
	assert_int_equal(fakesys_put(T.root, ".fakekernel/inject", rules), 0);
}

static char *inject_left(void)
{
	char *buf = keep(malloc(4096));

	if (fakesys_get(T.root, ".fakekernel/inject", buf, 4096) < 0)
		buf[0] = '\0';
	return buf;
}

/* --- a comparable picture of everything the kernel shows --- */

static struct {
	char **v;
	size_t n;
	size_t skip;
} snap_acc;

static int snap_one(const char *p, const struct stat *st, int flag, struct FTW *ftw UNUSED)
{
	const char *rel = p + snap_acc.skip;
	char line[8192], extra[4200] = "";
	char **nv;

	if (!strncmp(rel, "/.fakekernel", 12) || !strncmp(rel, "/run", 4))
		return 0;
	if (flag == FTW_SL || flag == FTW_SLN) {
		ssize_t k = readlink(p, extra, sizeof(extra) - 1);
		extra[k > 0 ? k : 0] = '\0';
	} else if (flag == FTW_F) {
		/* content as a hash: config spaces are binary */
		uint64_t h = 1469598103934665603ull;
		unsigned char buf[4096];
		ssize_t k;
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			while ((k = read(fd, buf, sizeof(buf))) > 0)
				for (ssize_t i = 0; i < k; i++)
					h = (h ^ buf[i]) * 1099511628211ull;
			close(fd);
		}
		snprintf(extra, sizeof(extra), "%llx", (unsigned long long)h);
	}
	snprintf(line, sizeof(line), "%s %c %o %s", rel,
		 flag == FTW_D	 ? 'd'
		 : flag == FTW_F ? 'f'
				 : 'l',
		 (unsigned)(st->st_mode & 07777), extra);
	nv = realloc(snap_acc.v, (snap_acc.n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	snap_acc.v = nv;
	snap_acc.v[snap_acc.n++] = strdup(line);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every path under the root but the fake kernel's state and /run, with its
 * type, mode, link target or content hash, sorted. */
static char *snapshot(void)
{
	struct vh_buf b = {0};

	snap_acc.v = NULL;
	snap_acc.n = 0;
	snap_acc.skip = strlen(T.root);
	assert_int_equal(nftw(T.root, snap_one, 32, FTW_PHYS), 0);
	qsort(snap_acc.v, snap_acc.n, sizeof(*snap_acc.v), cmp_str);
	for (size_t i = 0; i < snap_acc.n; i++) {
		vh_buf_printf(&b, "%s\n", snap_acc.v[i]);
		free(snap_acc.v[i]);
	}
	free(snap_acc.v);
	snap_acc.v = NULL;
	return keep(vh_buf_steal(&b));
}

/* Fail with the first differing line. */
static void assert_same_tree(const char *before, const char *after)
{
	const char *a = before, *b = after;

	assert_non_null(before);
	assert_non_null(after);
	while (*a && *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t la = ea ? (size_t)(ea - a) : strlen(a);
		size_t lb = eb ? (size_t)(eb - b) : strlen(b);
		if (la != lb || memcmp(a, b, la))
			fail_msg("the tree differs:\n  before: %.*s\n  after:  %.*s", (int)la, a,
				 (int)lb, b);
		a += la + (ea ? 1 : 0);
		b += lb + (eb ? 1 : 0);
	}
	if (*a || *b)
		fail_msg("the tree differs at the end:\n  before: %.200s\n  "
			 "after:  %.200s",
			 a, b);
}

/* --- domains --- */

/* Parse a domain whose hostdevs are @devs ("01:00.0 m:02:00.0": "m:" for
 * managed='yes'), with @meta inside our metadata element (NULL: none), and
 * check it into slot @i. */
static void domain(int i, const char *name, const char *uuid, const char *devs, const char *meta)
{
	struct vh_buf x = {0};
	struct vh_err e = {0};
	struct vh_check_opts o = {.companions = T.cfg.companions};
	char *copy, *save = NULL, *tok;
	int r;

	drop_dom(i);
	vh_buf_printf(&x, "<domain type='kvm'>\n  <name>%s</name>\n", name);
	if (uuid)
		vh_buf_printf(&x, "  <uuid>%s</uuid>\n", uuid);
	if (meta)
		vh_buf_printf(&x,
			      "  <metadata>\n    <vh:settings "
			      "xmlns:vh='urn:vfio-hooks:domain:1'>%s"
			      "</vh:settings>\n  </metadata>\n",
			      meta);
	vh_buf_puts(&x, "  <memory unit='MiB'>512</memory>\n  <vcpu>1</vcpu>\n"
			"  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n"
			"  <features><acpi/></features>\n  <devices>\n");
	copy = strdup(devs ? devs : "");
	assert_non_null(copy);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		bool managed = !strncmp(tok, "m:", 2);
		unsigned bus, slot, fn;
		if (managed)
			tok += 2;
		assert_int_equal(sscanf(tok, "%x:%x.%x", &bus, &slot, &fn), 3);
		vh_buf_printf(&x,
			      "    <hostdev mode='subsystem' type='pci' "
			      "managed='%s'>\n      <source><address "
			      "domain='0x0000' bus='0x%02x' slot='0x%02x' "
			      "function='0x%x'/></source>\n    </hostdev>\n",
			      managed ? "yes" : "no", bus, slot, fn);
	}
	free(copy);
	vh_buf_puts(&x, "  </devices>\n</domain>\n");
	assert_false(vh_buf_failed(&x));
	r = vh_domain_parse(vh_buf_str(&x), x.len, "test.xml", &T.dom[i], &e);
	if (r < 0)
		fail_msg("domain: %s\n%s", e.msg, vh_buf_str(&x));
	vh_buf_done(&x);
	r = vh_check_domain(T.sys, &profiles, T.dom[i], &o, &T.rep[i]);
	assert_int_equal(r, 0);
	T.have_rep[i] = true;
}

/* Check domain @i again against the host as it is now (as the hook does
 * before each operation). */
static void recheck(int i)
{
	struct vh_check_opts o = {.companions = T.cfg.companions};

	assert_true(T.have_rep[i]);
	vh_report_done(&T.rep[i]);
	T.have_rep[i] = false;
	assert_int_equal(vh_check_domain(T.sys, &profiles, T.dom[i], &o, &T.rep[i]), 0);
	T.have_rep[i] = true;
}

static int prepare(int i)
{
	memset(&T.e, 0, sizeof(T.e));
	return vh_engine_prepare(&T.en, T.dom[i], &T.rep[i], &T.e);
}

static void prepare_ok(int i)
{
	int r = prepare(i);

	if (r != 0)
		fail_msg("prepare of '%s' failed (%d): %s", T.dom[i]->name, r, T.e.msg);
	assert_int_equal(T.e.code, 0);
}

static int verify(int i)
{
	memset(&T.e, 0, sizeof(T.e));
	return vh_engine_verify(&T.en, T.dom[i], &T.rep[i], &T.e);
}

static int release(const char *uuid)
{
	memset(&T.e, 0, sizeof(T.e));
	return vh_engine_release(&T.en, uuid, &T.e);
}

static void release_ok(const char *uuid)
{
	int r = release(uuid);

	if (r != 0)
		fail_msg("release of %s returned %d: %s", uuid, r, T.e.msg);
	assert_false(journal_exists(uuid));
}

#endif
