/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine (lib/engine.h) against the fake kernel (tests/fakekernel.h) on
 * fake sysroots: binding and restoring unmanaged devices, reset_method
 * quirks of managed ones, IOMMU group companions, devices without a driver
 * or with a driver_override, per-domain metadata, device-busy between
 * domains, injected kernel failures during prepare (roll-back to the exact
 * tree) and release (journal keeps what is left), recover, reconnect,
 * leftovers of a crash, the log callback and the lock.  Every struct vh_sys
 * has a temp root: the real /sys is never touched.
 */
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
	/* before any vh_sys_new: the backend is taken at creation */
	fakekernel_install();
	return 0;
}

static int group_teardown(void **state UNUSED)
{
	vh_profiles_done(&profiles);
	vh_sys_set_default_backend(NULL);
	return 0;
}

static void on_log(void *ud, int level, const char *msg)
{
	assert_ptr_equal(ud, &T);
	assert_non_null(msg);
	T.n_log++;
	if (level >= 0 && level < 8)
		T.n_log_level[level]++;
	vh_buf_printf(&T.log, "<%d>%s\n", level, msg);
}

static void log_reset(void)
{
	T.n_log = 0;
	memset(T.n_log_level, 0, sizeof(T.n_log_level));
	vh_buf_done(&T.log);
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

/* --- unmanaged devices --- */

static void unmanaged_bound_and_restored(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(attr_of(NIC, "driver_override"), "vfio-pci");
	assert_true(rooted_exists("dev/vfio/10"));
	/* no profile, no metadata: reset_method untouched */
	assert_string_equal(attr_of(NIC, "reset_method"), "pm bus");
	/* nothing else moved */
	assert_string_equal(driver_of(GPU), "nouveau");
	assert_string_equal(driver_of(NIC_A), "e1000e");

	/* the journal: the original state, prepared */
	assert_true(journal_exists(U1));
	load_journal(U1);
	assert_true(T.j.prepared);
	assert_string_equal(T.j.domain, "nic-vm");
	assert_int_equal(T.j.n_devs, 1);
	assert_string_equal(T.j.devs[0].driver, "e1000e");
	assert_string_equal(T.j.devs[0].override, "");
	assert_true(T.j.devs[0].has_reset_method);
	assert_string_equal(T.j.devs[0].reset_method, "pm bus");
	assert_int_equal(T.j.devs[0].role, VH_ROLE_HOSTDEV);
	assert_false(T.j.devs[0].managed);
	/* no profile: a reset on release */
	assert_true(T.j.devs[0].reset_on_release);
	{
		struct stat st;
		char p[4200];
		snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
		snprintf(p, sizeof(p), "%s/run/vfio-hooks/" U1 ".journal", T.root);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
	}

	recheck(0);
	assert_int_equal(verify(0), 0);

	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(attr_of(NIC, "driver_override"), "(null)");
	assert_false(rooted_exists("dev/vfio/10"));
	after = snapshot();
	assert_same_tree(before, after);
	/* reset on release, while still on vfio-pci */
	assert_int_equal(kernel_ops("reset", NIC), 1);

	/* a second release: nothing to do */
	assert_int_equal(release(U1), -ENOENT);
}

static void move_with(struct vh_sys *s, const char *dev, const char *from, const char *override)
{
	assert_int_equal(vh_sys_write(s, override, VH_WRITE_BOUNDED,
				      "/sys/bus/pci/devices/%s/driver_override", dev),
			 0);
	assert_int_equal(
	    vh_sys_write(s, dev, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/%s/unbind", from), 0);
	assert_int_equal(vh_sys_write(s, dev, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers_probe"), 0);
}

/* A report the caller took before the lock ('vfio-hooks bind'): another
 * process may have moved a device since, so prepare reads each device
 * again instead of taking the report's reading as its original state. */
static void caller_report_read_again(void **state UNUSED)
{
	struct vh_sys *other;

	assert_int_equal(vh_sys_new(T.root, &other), 0);
	/* Another domain's hook holds the NIC on vfio-pci... */
	move_with(other, NIC, "e1000e", "vfio-pci");
	assert_string_equal(driver_of(NIC), "vfio-pci");
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	assert_string_equal(T.rep[0].devs[0].dev.driver, "vfio-pci");
	/* ...and gives it back before this prepare runs. */
	move_with(other, NIC, "vfio-pci", "");
	assert_string_equal(driver_of(NIC), "e1000e");
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	load_journal(U1);
	assert_string_equal(T.j.devs[0].driver, "e1000e");
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
	vh_sys_free(other);
}

static void bind_unmanaged_off(void **state UNUSED)
{
	char *before = snapshot(), *after;

	T.cfg.bind_unmanaged = false;
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	/* recorded, not bound */
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_true(journal_exists(U1));
	/* QEMU would fail: verify says so, and how to fix it */
	assert_int_equal(verify(0), -EBUSY);
	assert_contains(T.e.msg, NIC " is on driver e1000e");
	assert_contains(T.e.msg, "bind_unmanaged");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- managed devices: reset_method quirks --- */

static void managed_hailo_reset_method(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "hailo-vm", U1, "m:02:00.0", NULL);
	prepare_ok(0);
	/* libvirt binds managed devices: the hook does not */
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_string_equal(attr_of(HAILO, "driver_override"), "(null)");
	/* the profile empties reset_method while assigned */
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_true(T.j.devs[0].managed);
	assert_string_equal(T.j.devs[0].reset_method, "flr bus");
	assert_false(T.j.devs[0].reset_on_release);

	/* still on its host driver: verify refuses, without the unmanaged
	 * advice */
	assert_int_equal(verify(0), -EBUSY);
	assert_contains(T.e.msg, HAILO " is on driver hailo");
	assert_not_contains(T.e.msg, "managed='no'");

	/* libvirt detaches it to vfio-pci */
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/hailo/unbind"), 0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/bind"), 0);
	assert_string_equal(driver_of(HAILO), "vfio-pci");
	recheck(0);
	assert_int_equal(verify(0), 0);

	/* something put reset_method back: verify applies it again */
	log_reset();
	assert_int_equal(
	    vh_sys_write(T.sys, "flr", 0, "/sys/bus/pci/devices/%s/reset_method", HAILO), 0);
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr");
	assert_int_equal(verify(0), 0);
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	assert_int_equal(T.n_log_level[LOG_WARNING], 1);
	assert_contains(vh_buf_str(&T.log), "reset_method was 'flr' again");

	/* libvirt reattaches it to its driver, then release */
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/unbind"),
	    0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/hailo/bind"), 0);
	release_ok(U1);
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");
	after = snapshot();
	assert_same_tree(before, after);
	/* reset-on-release "no": never reset */
	assert_int_equal(kernel_ops("reset", HAILO), 0);
	assert_true(kernel_ops("reset_method", HAILO) >= 2);
}

static void managed_release_while_on_vfio(void **state UNUSED)
{
	char *before = snapshot(), *after;

	/* libvirt did not reattach (a managed='yes' device whose domain
	 * crashed): release puts reset_method and the driver back */
	domain(0, "hailo-vm", U1, "m:02:00.0", NULL);
	prepare_ok(0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/hailo/unbind"), 0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/bind"), 0);
	release_ok(U1);
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");
	after = snapshot();
	assert_same_tree(before, after);
}

static void unmanaged_hailo(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "hailo-vm", U1, "02:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(HAILO), "vfio-pci");
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	assert_true(rooted_exists("dev/vfio/16"));
	recheck(0);
	assert_int_equal(verify(0), 0);
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- companions --- */

static void gpu_with_audio_companion(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "gpu-vm", U1, "41:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(GPU), "vfio-pci");
	assert_string_equal(driver_of(GPU_AUDIO), "vfio-pci");
	assert_string_equal(attr_of(GPU_AUDIO, "driver_override"), "vfio-pci");
	assert_true(rooted_exists("dev/vfio/41"));
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 2);
	assert_int_equal(jdev_of(GPU)->role, VH_ROLE_HOSTDEV);
	assert_string_equal(jdev_of(GPU)->driver, "nouveau");
	assert_int_equal(jdev_of(GPU_AUDIO)->role, VH_ROLE_COMPANION);
	assert_string_equal(jdev_of(GPU_AUDIO)->driver, "snd_hda_intel");
	assert_contains(vh_buf_str(&T.log), "companion snd_hda_intel -> vfio-pci");

	recheck(0);
	assert_int_equal(verify(0), 0);
	release_ok(U1);
	assert_string_equal(driver_of(GPU), "nouveau");
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
	assert_false(rooted_exists("dev/vfio/41"));
	after = snapshot();
	assert_same_tree(before, after);
}

static void companions_by_config(void **state UNUSED)
{
	char *before = snapshot(), *after;

	/* same-device (the default): the other function goes along */
	domain(0, "nic-vm", U1, "05:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC_A), "vfio-pci");
	assert_string_equal(driver_of(NIC_B), "vfio-pci");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);

	/* refuse: never bound (the check reports the group as not viable) */
	T.cfg.companions = VH_COMPANIONS_REFUSE;
	domain(0, "nic-vm", U1, "05:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC_A), "vfio-pci");
	assert_string_equal(driver_of(NIC_B), "e1000e");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- original states --- */

static void no_driver_stays_without(void **state UNUSED)
{
	char *before, *after;

	/* if drivers_probe ran, this device would land on e1000e */
	assert_int_equal(fakesys_put(T.root, ".fakekernel/native", BARE " e1000e\n"), 0);
	before = snapshot();
	domain(0, "bare-vm", U1, "07:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(BARE), "vfio-pci");
	load_journal(U1);
	assert_string_equal(T.j.devs[0].driver, "");
	assert_contains(vh_buf_str(&T.log), "(none) -> vfio-pci");

	assert_int_equal(fakesys_put(T.root, ".fakekernel/log", ""), 0);
	release_ok(U1);
	assert_string_equal(driver_of(BARE), "");
	assert_string_equal(attr_of(BARE, "driver_override"), "(null)");
	assert_int_equal(kernel_ops("unbind", BARE), 1);
	assert_int_equal(kernel_ops("probe", BARE), 0);
	assert_int_equal(kernel_ops("bind", BARE), 0);
	after = snapshot();
	assert_same_tree(before, after);
}

static void override_restored(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "ovr-vm", U1, "08:00.0 09:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(OVR), "vfio-pci");
	assert_string_equal(driver_of(STUB), "vfio-pci");
	assert_string_equal(attr_of(OVR, "driver_override"), "vfio-pci");
	assert_string_equal(attr_of(STUB, "driver_override"), "vfio-pci");
	load_journal(U1);
	assert_string_equal(jdev_of(OVR)->override, "e1000e");
	assert_string_equal(jdev_of(OVR)->driver, "e1000e");
	assert_string_equal(jdev_of(STUB)->override, "pci-stub");
	assert_string_equal(jdev_of(STUB)->driver, "");
	release_ok(U1);
	assert_string_equal(driver_of(OVR), "e1000e");
	assert_string_equal(attr_of(OVR, "driver_override"), "e1000e");
	assert_string_equal(driver_of(STUB), "");
	assert_string_equal(attr_of(STUB, "driver_override"), "pci-stub");
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- metadata --- */

static void metadata_reset_method(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "nic-vm", U1, "01:00.0", "<vh:device address='0000:01:00.0' reset-method=''/>");
	assert_int_equal(T.dom[0]->meta.n_devices, 1);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(attr_of(NIC, "reset_method"), "");
	load_journal(U1);
	assert_string_equal(T.j.devs[0].reset_method, "pm bus");
	release_ok(U1);
	assert_string_equal(attr_of(NIC, "reset_method"), "pm bus");
	after = snapshot();
	assert_same_tree(before, after);

	/* a supported subset */
	domain(0, "nic-vm", U1, "01:00.0",
	       "<vh:device address='0000:01:00.0' reset-method='bus'/>");
	prepare_ok(0);
	assert_string_equal(attr_of(NIC, "reset_method"), "bus");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);

	/* metadata wins over the profile: the Hailo-8 keeps 'bus' */
	domain(0, "hailo-vm", U1, "m:02:00.0", "<vh:device address='02:00.0' reset-method='bus'/>");
	prepare_ok(0);
	assert_string_equal(attr_of(HAILO, "reset_method"), "bus");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);

	/* metadata for a device not in the domain changes nothing */
	domain(0, "nic-vm", U1, "01:00.0", "<vh:device address='0000:07:00.0' reset-method=''/>");
	prepare_ok(0);
	assert_string_equal(attr_of(NIC, "reset_method"), "pm bus");
	assert_string_equal(attr_of(BARE, "reset_method"), "pm bus");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

static void metadata_unsupported_method(void **state UNUSED)
{
	char *before = snapshot(), *after;
	int r;

	domain(0, "nic-vm", U1, "01:00.0",
	       "<vh:device address='0000:01:00.0' reset-method='flr'/>");
	r = prepare(0);
	assert_int_equal(r, -EINVAL);
	assert_contains(T.e.msg, NIC);
	assert_contains(T.e.msg, "'flr'");
	assert_contains(T.e.msg, "does not support");
	assert_false(journal_exists(U1));
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- two domains --- */

static void device_busy(void **state UNUSED)
{
	char name[256] = "", uuid[64] = "";
	struct vh_pci_addr a;
	char *j_before, *j_after;
	int r;

	domain(0, "first", U1, "01:00.0", NULL);
	domain(1, "second", U2, "07:00.0 01:00.0", NULL);
	prepare_ok(0);
	j_before = journal_text(U1);

	r = prepare(1);
	assert_int_equal(r, -EBUSY);
	assert_int_equal(T.e.code, -EBUSY);
	if (strncmp(T.e.msg, "[device-busy]", 13) != 0)
		fail_msg("message does not start with [device-busy]: %s", T.e.msg);
	assert_contains(T.e.msg, NIC);
	assert_contains(T.e.msg, "'first'");
	assert_contains(T.e.msg, U1 ".journal");
	assert_contains(T.e.msg, "vfio-hooks recover");
	/* the first keeps it, the second touched nothing */
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(driver_of(BARE), "");
	assert_string_equal(attr_of(BARE, "driver_override"), "(null)");
	assert_false(journal_exists(U2));
	j_after = journal_text(U1);
	assert_string_equal(j_before, j_after);

	/* who holds what */
	assert_int_equal(vh_pci_addr_parse(NIC, &a), 0);
	assert_int_equal(vh_engine_holder(&T.en, &a, name, sizeof(name), uuid, sizeof(uuid)), 1);
	assert_string_equal(name, "first");
	assert_string_equal(uuid, U1);
	assert_int_equal(vh_pci_addr_parse(BARE, &a), 0);
	assert_int_equal(vh_engine_holder(&T.en, &a, name, sizeof(name), uuid, sizeof(uuid)), 0);

	/* once released, the second may have it */
	release_ok(U1);
	recheck(1);
	prepare_ok(1);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(driver_of(BARE), "vfio-pci");
	assert_int_equal(vh_pci_addr_parse(NIC, &a), 0);
	assert_int_equal(vh_engine_holder(&T.en, &a, name, sizeof(name), uuid, sizeof(uuid)), 1);
	assert_string_equal(name, "second");
	assert_string_equal(uuid, U2);
	release_ok(U2);
}

static void device_busy_companion(void **state UNUSED)
{
	int r;

	/* the GPU's domain holds the audio function as a companion; another
	 * domain asks for the audio function itself */
	domain(0, "gpu-vm", U1, "41:00.0", NULL);
	prepare_ok(0);
	domain(1, "audio-vm", U2, "41:00.1", NULL);
	r = prepare(1);
	assert_int_equal(r, -EBUSY);
	assert_contains(T.e.msg, "[device-busy] " GPU_AUDIO);
	assert_contains(T.e.msg, "'gpu-vm'");
	assert_string_equal(driver_of(GPU_AUDIO), "vfio-pci");
	assert_false(journal_exists(U2));
	release_ok(U1);
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
}

/* Domain "third" (U3) with @devs is refused: @dev is held by @holder
 * (journal @uuid), and nothing of U3's was written. */
static void third_busy(const char *devs, const char *dev, const char *holder, const char *uuid)
{
	char want[256];

	domain(2, "third", U3, devs, NULL);
	assert_int_equal(prepare(2), -EBUSY);
	snprintf(want, sizeof(want), "[device-busy] %s is held", dev);
	assert_contains(T.e.msg, want);
	assert_contains(T.e.msg, holder);
	snprintf(want, sizeof(want), "%s.journal", uuid);
	assert_contains(T.e.msg, want);
	assert_false(journal_exists(U3));
}

/* Several other journals, one of them corrupt: the first device of the
 * plan that one of them holds is named, whichever journal holds it (the
 * state directory is read once for all the devices, not per device). */
static void device_busy_many_journals(void **state UNUSED)
{
#define U9 "6f1c3a52-8d0e-4b7e-9a55-000000000009"
	static const char corrupt[] = "vfio-hooks-journal 1\ndomain lost-vm\nuuid " U9 "\n"
				      "dev " GPU " role=hostdev managed=0 driver=nou/veau "
				      "override=- reset_method=- reset=1\n";
	const char *warn = "corrupt";
	const char *log, *p;
	int warnings = 0;

	domain(0, "first", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(1, "second", U2, "07:00.0", NULL);
	prepare_ok(1);

	/* U1 comes first by name, but the plan's first held device is
	 * BARE, held by U2 */
	third_busy("05:00.0 07:00.0 01:00.0", BARE, "'second'", U2);
	assert_string_equal(driver_of(NIC_A), "e1000e");

	/* a corrupt journal naming the GPU still holds it; one warning for
	 * it, not one per device */
	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U9 ".journal", corrupt), 0);
	log_reset();
	third_busy("05:00.0 41:00.0", GPU, "'(unknown: its journal is corrupt)'", U9);
	log = vh_buf_str(&T.log);
	for (p = log; (p = strstr(p, warn)); p += strlen(warn))
		warnings++;
	assert_int_equal(warnings, 1);
	assert_string_equal(driver_of(GPU), "nouveau");

	{
		char path[4096];
		snprintf(path, sizeof(path), "%s/run/vfio-hooks/" U9 ".journal", T.root);
		assert_int_equal(unlink(path), 0);
	}
	release_ok(U1);
	release_ok(U2);
#undef U9
}

/* --- injected failures during prepare --- */

struct fault {
	const char *name;
	const char *devs; /* the domain's hostdevs */
	const char *rules;
	int err;	 /* expected return, 0: any negative */
	const char *msg; /* in the message */
};

static const struct fault prepare_faults[] = {
    {"unbind busy", "01:00.0", "unbind EBUSY once\n", -EBUSY,
     "unbinding it from driver e1000e failed"},
    {"unbind timeout", "01:00.0", "unbind ETIMEDOUT once\n", -ETIMEDOUT,
     "the driver is holding the device"},
    {"probe binds nothing, bind refused", "01:00.0", "probe NOBIND once\nbind ENODEV once\n",
     -ENODEV, "the driver did not take it"},
    {"probe fails", "01:00.0", "probe EIO once\n", -EIO, "drivers_probe failed"},
    {"override refused", "01:00.0", "override EIO once\n", -EIO, "driver_override"},
    {"reset_method refused", "02:00.0", "reset_method EIO once\n", -EIO, "reset_method"},
    {"second device's unbind", "41:00.0", "unbind EBUSY " GPU_AUDIO " once\n", -EBUSY, GPU_AUDIO},
    {"second device's override", "08:00.0 01:00.0", "override EIO " NIC " once\n", -EIO, NIC},
    {"a driverless device's probe", "07:00.0", "probe NOBIND once\nbind EBUSY once\n", -ENODEV,
     BARE},
    {"managed hailo reset_method", "m:02:00.0", "reset_method EINVAL once\n", -EINVAL,
     "does not support"},
};

static void prepare_failures_roll_back(void **state UNUSED)
{
	for (size_t i = 0; i < ELEMENTSOF(prepare_faults); i++) {
		const struct fault *f = &prepare_faults[i];
		char *before, *after, *left;
		int r;

		before = snapshot();
		log_reset();
		domain(0, "fault-vm", U1, f->devs, NULL);
		inject(f->rules);
		r = prepare(0);
		if (r >= 0 || (f->err && r != f->err))
			fail_msg("%s: prepare returned %d (%s), expected %d", f->name, r, T.e.msg,
				 f->err);
		assert_int_equal(T.e.code, r);
		if (!strstr(T.e.msg, f->msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", f->name, T.e.msg, f->msg);
		/* every injected rule fired */
		left = inject_left();
		if (left[0])
			fail_msg("%s: rules never fired: %s", f->name, left);
		/* rolled back: the same tree, no journal */
		after = snapshot();
		assert_same_tree(before, after);
		if (journal_exists(U1))
			fail_msg("%s: a journal was left", f->name);
		/* the failure and the roll-back were logged */
		assert_true(T.n_log_level[LOG_ERR] >= 1);
		assert_contains(vh_buf_str(&T.log), "rolling back");
		assert_not_contains(vh_buf_str(&T.log), "roll-back incomplete");
		/* and a clean prepare works afterwards */
		inject("");
		recheck(0);
		prepare_ok(0);
		release_ok(U1);
	}
}

static void prepare_rollback_incomplete(void **state UNUSED)
{
	char *before = snapshot(), *after, *text;
	int r;

	domain(0, "gpu-vm", U1, "41:00.0", NULL);
	/* the companion's unbind fails the prepare, and the roll-back of the
	 * GPU fails too (the second rule lets the GPU's first unbind through;
	 * tests/fakekernel.c reads at most 4 words of a rule, so it cannot
	 * also name the address) */
	inject("unbind EBUSY " GPU_AUDIO " once\n"
	       "unbind EBUSY skip=1 once\n");
	r = prepare(0);
	assert_int_equal(r, -EBUSY);
	assert_contains(T.e.msg, GPU_AUDIO);
	assert_contains(vh_buf_str(&T.log), "roll-back incomplete");
	/* the journal keeps what is left, marked */
	assert_true(journal_exists(U1));
	text = journal_text(U1);
	assert_contains(text, "failed " GPU);
	assert_not_contains(text, "failed " GPU_AUDIO);
	assert_not_contains(text, "prepared");
	assert_string_equal(driver_of(GPU), "vfio-pci");
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
	load_journal(U1);
	assert_true(jdev_of(GPU)->failed);
	assert_false(T.j.prepared);

	/* a release finishes the job */
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- failures during release --- */

static void release_failure_then_retry(void **state UNUSED)
{
	char *before = snapshot(), *after, *text;
	int r;

	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	inject("unbind EBUSY once\n");
	log_reset();
	r = release(U1);
	assert_int_equal(r, 1);
	assert_int_equal(T.e.code, -EBUSY);
	assert_contains(T.e.msg, NIC);
	assert_contains(T.e.msg, "unbind");
	assert_true(T.n_log_level[LOG_ERR] >= 1);
	/* left recorded, marked failed */
	assert_true(journal_exists(U1));
	text = journal_text(U1);
	assert_contains(text, "\nfailed " NIC "\n");
	load_journal(U1);
	assert_true(T.j.prepared);
	assert_true(jdev_of(NIC)->failed);
	assert_string_equal(jdev_of(NIC)->driver, "e1000e");
	assert_string_equal(driver_of(NIC), "vfio-pci");

	/* a later release completes */
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
	after = snapshot();
	assert_same_tree(before, after);
}

static void release_persistent_failure(void **state UNUSED)
{
	char *before = snapshot(), *after, *text;

	domain(0, "two-vm", U1, "01:00.0 07:00.0", NULL);
	prepare_ok(0);
	/* one device cannot be restored, the other can */
	inject("unbind EBUSY " NIC "\n");
	assert_int_equal(release(U1), 1);
	assert_int_equal(release(U1), 1);
	assert_string_equal(driver_of(BARE), "");
	assert_string_equal(driver_of(NIC), "vfio-pci");
	text = journal_text(U1);
	/* one mark per attempt, for the device left only */
	{
		int n = 0;
		for (const char *p = text; (p = strstr(p, "failed " NIC)); p++)
			n++;
		assert_int_equal(n, 2);
	}
	assert_not_contains(text, "failed " BARE);
	inject("");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

static void release_reset_method_failure(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "hailo-vm", U1, "02:00.0", NULL);
	prepare_ok(0);
	inject("reset_method EIO once\n");
	assert_int_equal(release(U1), 1);
	assert_contains(T.e.msg, "reset_method");
	/* the driver was still restored; reset_method was not */
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	load_journal(U1);
	assert_true(jdev_of(HAILO)->failed);
	release_ok(U1);
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");
	after = snapshot();
	assert_same_tree(before, after);
}

static void release_device_gone(void **state UNUSED)
{
	char p[4200];

	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	/* hot-unplugged while the domain ran */
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/" NIC, T.root);
	assert_int_equal(unlink(p), 0);
	log_reset();
	release_ok(U1);
	assert_contains(vh_buf_str(&T.log), "gone");
	assert_true(T.n_log_level[LOG_WARNING] >= 1);
}

static void release_without_state(void **state UNUSED)
{
	/* nothing was ever prepared */
	assert_false(rooted_exists("run/vfio-hooks"));
	assert_int_equal(release(U1), -ENOENT);
	/* a corrupt journal is refused, and kept */
	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U1 ".journal",
				     "vfio-hooks-journal 1\ndomain x\nuuid " U1 "\ndev garbage\n"),
			 0);
	assert_int_equal(release(U1), -EBADMSG);
	assert_contains(T.e.msg, "corrupt at line 4");
	assert_true(journal_exists(U1));
}

/* --- recover --- */

static void recover_releases_every_journal(void **state UNUSED)
{
	char *before = snapshot(), *after;
	struct vh_err e = {0};

	domain(0, "a", U1, "01:00.0", NULL);
	domain(1, "b", U2, "41:00.0", NULL);
	domain(2, "c", U3, "m:02:00.0", NULL);
	prepare_ok(0);
	prepare_ok(1);
	prepare_ok(2);
	assert_true(journal_exists(U1));
	assert_true(journal_exists(U2));
	assert_true(journal_exists(U3));
	assert_string_equal(driver_of(GPU_AUDIO), "vfio-pci");

	/* one device resists once: recover counts it and goes on */
	inject("unbind EBUSY " GPU " once\n");
	assert_int_equal(vh_engine_recover(&T.en, false, NULL, &e), 1);
	assert_false(journal_exists(U1));
	assert_true(journal_exists(U2));
	assert_false(journal_exists(U3));
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");

	memset(&e, 0, sizeof(e));
	assert_int_equal(vh_engine_recover(&T.en, false, NULL, &e), 0);
	assert_int_equal(e.code, 0);
	assert_false(journal_exists(U2));
	after = snapshot();
	assert_same_tree(before, after);

	/* nothing left: nothing to do */
	assert_int_equal(vh_engine_recover(&T.en, false, NULL, &e), 0);
}

/* --- leftovers of a crash --- */

static void prepare_undoes_leftover(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	/* the hook died; libvirt starts the domain again: the leftover is
	 * undone first, so the new journal records the real original */
	log_reset();
	recheck(0);
	prepare_ok(0);
	assert_contains(vh_buf_str(&T.log), "journal from an earlier start");
	assert_true(T.n_log_level[LOG_WARNING] >= 1);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_string_equal(T.j.devs[0].driver, "e1000e");
	assert_string_equal(T.j.devs[0].override, "");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);

	/* the leftover names another device than the new start */
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(0, "nic-vm", U1, "07:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(driver_of(BARE), "vfio-pci");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_string_equal(jdev_of(BARE)->driver, "");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

static void prepare_leftover_cut_by_crash(void **state UNUSED)
{
	char *before = snapshot(), *after;
	char line[512];

	/* a crash after the record and the bind, before "prepared", with a
	 * half-written second record */
	assert_int_equal(
	    vh_sys_write(T.sys, NIC, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/e1000e/unbind"), 0);
	assert_int_equal(
	    vh_sys_write(T.sys, NIC, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/bind"), 0);
	snprintf(line, sizeof(line),
		 "vfio-hooks-journal 1\ndomain nic-vm\nuuid " U1 "\n"
		 "dev " NIC " role=hostdev managed=0 driver=e1000e override=- "
		 "reset_method=pm%%20bus reset=1\ndev 0000:07:0");
	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U1 ".journal", line), 0);
	domain(0, "nic-vm", U1, "07:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(driver_of(BARE), "vfio-pci");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

static void prepare_keeps_corrupt_leftover(void **state UNUSED)
{
	static const char corrupt[] = "vfio-hooks-journal 1\ndomain nic-vm\nuuid " U1 "\n"
				      "dev " NIC " role=hostdev managed=0 driver=e1000e override=- "
				      "reset_method=pm%20bus reset=1\n"
				      "dev 0000:41:00.0 role=hostdev managed=0 driver=nou/veau "
				      "override=- reset_method=- reset=1\n";
	char *text;
	int r;

	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U1 ".journal", corrupt), 0);
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	r = prepare(0);
	/* Regression (fixed): lib/engine.c:470 vh_engine_prepare loads a
	 * leftover journal of the same UUID with a NULL error and, when it is
	 * corrupt, goes on: vh_journal_create (O_TRUNC) then overwrites the
	 * only record of the devices' original drivers (the corrupt journal
	 * says "restore them by hand ... then remove it").  A corrupt leftover
	 * must refuse the prepare, as release does, and be kept. */
	text = journal_text(U1);
	assert_string_equal(text, corrupt);
	assert_int_equal(r, -EBADMSG);
	assert_contains(T.e.msg, "corrupt");
	assert_string_equal(driver_of(NIC), "e1000e");
}

static int child_prepare(void)
{
	struct vh_err e = {0};
	int r = vh_engine_prepare(&T.en, T.dom[0], &T.rep[0], &e);

	return r == 0 ? 0 : 1;
}

static void stray_file_in_state_dir(void **state UNUSED)
{
	pid_t pid;
	int status;

	/* a file with a journal's shape of name that is not a UUID */
	assert_int_equal(fakesys_put(T.root,
				     "run/vfio-hooks/zzzzzzzz-zzzz-zzzz-zzzz-"
				     "zzzzzzzzzzzz.journal",
				     "x\n"),
			 0);
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	/* Regression (fixed): lib/journal.c:404-407 vh_journal_list frees the
	 * name that is not a UUID but leaves the freed pointer in v[n] as the
	 * list's terminator; find_holder (lib/engine.c) then frees it again
	 * with vh_strv_free: a double free in every prepare (and in recover).
	 * Run in a child so that the sanitizer's abort fails this test only. */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_prepare());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("prepare with a stray file in /run/vfio-hooks crashed "
			 "or failed (status 0x%x)",
			 status);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	release_ok(U1);
}

/* --- reconnect --- */

static void reconnect(void **state UNUSED)
{
	struct vh_err e = {0};

	assert_int_equal(vh_engine_reconnect(&T.en, U1, &e), -ENOENT);
	domain(0, "nic-vm", U1, "01:00.0 m:02:00.0", NULL);
	prepare_ok(0);
	/* libvirt did its part for the managed one */
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/hailo/unbind"), 0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/bind"), 0);
	log_reset();
	memset(&e, 0, sizeof(e));
	assert_int_equal(vh_engine_reconnect(&T.en, U1, &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(T.n_log_level[LOG_WARNING], 0);
	/* reconnect changes nothing */
	assert_true(journal_exists(U1));
	assert_string_equal(driver_of(NIC), "vfio-pci");

	/* something took a device off vfio while the domain ran: warned,
	 * not failed (the domain keeps running) */
	assert_int_equal(
	    vh_sys_write(T.sys, NIC, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/unbind"), 0);
	log_reset();
	assert_int_equal(vh_engine_reconnect(&T.en, U1, &e), 0);
	assert_int_equal(T.n_log_level[LOG_WARNING], 1);
	assert_contains(vh_buf_str(&T.log), NIC " is on no driver");
	assert_true(journal_exists(U1));

	/* a corrupt journal: an error for the caller to report */
	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U2 ".journal", "junk\n"), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(vh_engine_reconnect(&T.en, U2, &e), -EBADMSG);
	assert_contains(e.msg, "corrupt at line 1");
	{
		char p[4200];
		snprintf(p, sizeof(p), "%s/run/vfio-hooks/" U2 ".journal", T.root);
		assert_int_equal(unlink(p), 0);
	}
	release_ok(U1);
}

/* --- the log callback --- */

static void log_messages(void **state UNUSED)
{
	int all;

	domain(0, "gpu-vm", U1, "41:00.0", NULL);
	log_reset();
	prepare_ok(0);
	/* unbind and bind of the GPU and of its companion */
	assert_true(T.n_log >= 4);
	assert_int_equal(T.n_log, T.n_log_level[LOG_INFO]);
	assert_contains(vh_buf_str(&T.log), GPU ": unbinding from nouveau");
	assert_contains(vh_buf_str(&T.log), "gpu-vm: " GPU ": bound nouveau -> vfio-pci");
	assert_contains(vh_buf_str(&T.log), GPU_AUDIO ": unbinding from snd_hda_intel");
	all = T.n_log;
	log_reset();
	release_ok(U1);
	assert_true(T.n_log >= 3);
	assert_contains(vh_buf_str(&T.log), "every device restored");
	assert_contains(vh_buf_str(&T.log), GPU ": back on nouveau");

	/* the level filters: at 'warning' a clean run says nothing */
	T.cfg.log_level = VH_LOG_WARNING;
	recheck(0);
	log_reset();
	prepare_ok(0);
	assert_int_equal(T.n_log, 0);
	release_ok(U1);
	assert_int_equal(T.n_log, 0);
	/* but warnings still come */
	recheck(0);
	prepare_ok(0);
	recheck(0);
	prepare_ok(0); /* a leftover: a warning */
	assert_int_equal(T.n_log, 1);
	assert_int_equal(T.n_log_level[LOG_WARNING], 1);
	release_ok(U1);

	/* no callback at all is fine */
	T.en.log = NULL;
	T.cfg.log_level = VH_LOG_DEBUG;
	log_reset();
	recheck(0);
	prepare_ok(0);
	release_ok(U1);
	assert_int_equal(T.n_log, 0);
	assert_true(all > 0);
}

/* --- refusals --- */

static void uuid_required(void **state UNUSED)
{
	char *before = snapshot(), *after;
	int r;

	domain(0, "no-uuid", NULL, "01:00.0", NULL);
	r = prepare(0);
	assert_int_equal(r, -EINVAL);
	assert_contains(T.e.msg, "'no-uuid'");
	assert_contains(T.e.msg, "uuid");
	domain(0, "bad-uuid", "../../../etc/passwd", "01:00.0", NULL);
	assert_int_equal(prepare(0), -EINVAL);
	assert_contains(T.e.msg, "'bad-uuid'");
	after = snapshot();
	assert_same_tree(before, after);
	assert_false(rooted_exists("run/vfio-hooks"));

	/* nothing to prepare: no UUID needed, nothing done */
	domain(0, "plain", NULL, "", NULL);
	assert_int_equal(prepare(0), 0);
	assert_int_equal(verify(0), 0);
	/* a device that does not exist is not prepared either */
	domain(0, "ghost", NULL, "33:00.0", NULL);
	assert_int_equal(prepare(0), 0);
	after = snapshot();
	assert_same_tree(before, after);
}

static void lock_timeout(void **state UNUSED)
{
	char *before, *after, why[256];
	int dfd = -1, lfd = -1, r;

	assert_int_equal(vh_sys_state_dir(T.sys, &dfd, why, sizeof(why)), 0);
	assert_int_equal(vh_journal_lock(dfd, 1000, &lfd), 0);
	before = snapshot();
	T.cfg.lock_timeout_ms = 300;
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	r = prepare(0);
	assert_int_equal(r, -ETIMEDOUT);
	assert_contains(T.e.msg, "/run/vfio-hooks/lock");
	assert_contains(T.e.msg, "lock timeout");
	after = snapshot();
	assert_same_tree(before, after);
	assert_false(journal_exists(U1));
	close(lfd);
	close(dfd);
	prepare_ok(0);
	release_ok(U1);
}

static void state_dir_refused(void **state UNUSED)
{
	char p[4200];
	int r;

	/* a state directory others may write to */
	snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
	assert_int_equal(mkdir(p, 0777), 0);
	assert_int_equal(chmod(p, 0777), 0);
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	r = prepare(0);
	assert_int_equal(r, -EPERM);
	assert_contains(T.e.msg, "state directory");
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_int_equal(release(U1), -EPERM);
	assert_int_equal(chmod(p, 0700), 0);
}

/* --- prepare's one check, under the state lock --- */

static struct {
	int calls, locked, refuse;
} lc;

/* The hook's check_locked: is the lock held (another open file cannot
 * take it), then the check, or a refusal the callback reports itself. */
static int check_cb(void *ud, struct vh_report *ret, struct vh_err *e)
{
	struct vh_check_opts o = {.companions = T.cfg.companions};
	char p[4200];
	int fd;

	(void)e;
	lc.calls++;
	snprintf(p, sizeof(p), "%s/run/vfio-hooks/lock", T.root);
	fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		lc.locked++;
	if (fd >= 0)
		close(fd);
	if (lc.refuse)
		return 1;
	return vh_check_domain(T.sys, &profiles, T.dom[(intptr_t)ud], &o, ret);
}

/* The NIC domain in slot 0, prepared with no report of the caller's: the
 * engine's only check is check_cb (@refuse: it refuses). */
static int prepare_checked_locked(int refuse)
{
	memset(&lc, 0, sizeof(lc));
	lc.refuse = refuse;
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	T.en.recheck = check_cb;
	T.en.recheck_ud = (void *)(intptr_t)0;
	memset(&T.e, 0, sizeof(T.e));
	return vh_engine_prepare(&T.en, T.dom[0], NULL, &T.e);
}

static void check_once_under_lock(void **state UNUSED)
{
	assert_int_equal(prepare_checked_locked(0), 0);
	assert_int_equal(lc.calls, 1);
	assert_int_equal(lc.locked, 1);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_true(journal_exists(U1));
	T.en.recheck = NULL;
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
}

static void check_under_lock_refuses(void **state UNUSED)
{
	assert_int_equal(prepare_checked_locked(1), 1);
	assert_int_equal(lc.calls, 1);
	assert_false(journal_exists(U1));
	assert_string_equal(driver_of(NIC), "e1000e");
	/* the lock is given back: a second prepare takes it */
	lc.refuse = 0;
	assert_int_equal(vh_engine_prepare(&T.en, T.dom[0], NULL, &T.e), 0);
	assert_int_equal(lc.calls, 2);
	T.en.recheck = NULL;
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
	/* no check at all: refused before anything */
	assert_int_equal(vh_engine_prepare(&T.en, T.dom[0], NULL, &T.e), -EINVAL);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T_(unmanaged_bound_and_restored),
	    T_(check_once_under_lock),
	    T_(check_under_lock_refuses),
	    T_(bind_unmanaged_off),
	    T_(caller_report_read_again),
	    T_(managed_hailo_reset_method),
	    T_(managed_release_while_on_vfio),
	    T_(unmanaged_hailo),
	    T_(gpu_with_audio_companion),
	    T_(companions_by_config),
	    T_(no_driver_stays_without),
	    T_(override_restored),
	    T_(metadata_reset_method),
	    T_(metadata_unsupported_method),
	    T_(device_busy),
	    T_(device_busy_companion),
	    T_(device_busy_many_journals),
	    T_(prepare_failures_roll_back),
	    T_(prepare_rollback_incomplete),
	    T_(release_failure_then_retry),
	    T_(release_persistent_failure),
	    T_(release_reset_method_failure),
	    T_(release_device_gone),
	    T_(release_without_state),
	    T_(recover_releases_every_journal),
	    T_(prepare_undoes_leftover),
	    T_(prepare_leftover_cut_by_crash),
	    T_(prepare_keeps_corrupt_leftover),
	    T_(stray_file_in_state_dir),
	    T_(reconnect),
	    T_(log_messages),
	    T_(uuid_required),
	    T_(lock_timeout),
	    T_(state_dir_refused),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
