/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of vh_check_domain over fake sysroots: every rule of the
 * catalog triggered and not triggered, the AIC100 vendor configuration and
 * each of its parts, multi-vector MSI devices without a profile, IOMMU group
 * companions under each policy, non-x86 and Xen guests, and that checking
 * reads only the hostdevs and their group members.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../lib/check.h"
#include "../../lib/domain.h"
#include "../../lib/memlock.h"
#include "../../lib/profile.h"
#include "../fakesys.h"

#define UNUSED __attribute__((unused))

static struct vh_profiles profiles;

/* Per-test state, freed by the teardown even when a test fails. */
static struct {
	char *root;
	struct vh_sys *sys;
	struct vh_domain *dom;
	struct vh_report rep;
	bool have_rep;
	char *xml;
} T;

static int group_setup(void **state UNUSED)
{
	const char *d = getenv("VFIO_HOOKS_DATADIR");
	char dir[4096], schema[4096];
	const char *dirs[] = {dir, NULL};
	struct vh_err e = {0};
	int r;

	if (!d || !*d)
		d = "xml";
	snprintf(dir, sizeof(dir), "%s/profiles", d);
	snprintf(schema, sizeof(schema), "%s/profile.rng", d);
	r = vh_profiles_load(dirs, schema, &profiles, &e);
	if (r < 0) {
		fprintf(stderr, "loading profiles: %s\n", e.msg);
		return -1;
	}
	if (profiles.n != 5) {
		fprintf(stderr, "expected 5 shipped profiles, got %zu\n", profiles.n);
		return -1;
	}
	/* Labels without hwdb names, the same on every machine. */
	vh_pci_names_disable(true);
	return 0;
}

static int group_teardown(void **state UNUSED)
{
	vh_profiles_done(&profiles);
	return 0;
}

static void reset_check(void)
{
	if (T.have_rep)
		vh_report_done(&T.rep);
	T.have_rep = false;
	T.dom = vh_domain_free(T.dom);
	free(T.xml);
	T.xml = NULL;
}

static int setup(void **state UNUSED)
{
	memset(&T, 0, sizeof(T));
	return 0;
}

static int teardown(void **state UNUSED)
{
	reset_check();
	T.sys = vh_sys_free(T.sys);
	if (T.root) {
		fakesys_rmrf(T.root);
		free(T.root);
	}
	memset(&T, 0, sizeof(T));
	return 0;
}

/* Build the fake host. */
static void host(const char *spec)
{
	char err[256] = "";
	int r;

	if (T.sys)
		T.sys = vh_sys_free(T.sys);
	if (T.root) {
		fakesys_rmrf(T.root);
		free(T.root);
	}
	T.root = fakesys_mkroot();
	assert_non_null(T.root);
	r = fakesys_build(T.root, spec, err, sizeof(err));
	if (r < 0)
		fail_msg("fakesys_build: %s", err);
	assert_int_equal(vh_sys_new(T.root, &T.sys), 0);
	assert_string_equal(vh_sys_root(T.sys), T.root);
}

/* Replace a device's config space with a directory: reading it fails. */
static void break_config(const char *addr)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/config", T.root, addr);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
}

struct dom {
	const char *type;     /* default kvm */
	const char *arch;     /* default x86_64 */
	const char *machine;  /* NULL: no machine attribute */
	const char *features; /* inside <features> */
	const char *devices;  /* inside <devices>, before the hostdevs */
	const char *hostdevs;
	unsigned vcpus; /* 0: 4 */
	/* Inside <memtune>; NULL: a hard limit of 1 TiB, enough for every
	 * test not about locked memory. */
	const char *memtune;
	const char *os; /* <os><type>: default hvm */
};

#define AIC_FEATURES "<acpi/><apic/><ioapic driver='qemu'/>"
#define AIC_IOMMU                                                                                  \
	"<iommu model='intel'><driver intremap='on' caching_mode='on'/>"                           \
	"</iommu>"
#define HOSTDEV(bus, slot, fn)                                                                     \
	"<hostdev mode='subsystem' type='pci' managed='yes'>\n"                                    \
	"  <source><address domain='0x0000' bus='" bus "' slot='" slot "' function='" fn           \
	"'/></source>\n"                                                                           \
	"</hostdev>\n"
#define HD01 HOSTDEV("0x01", "0x00", "0x0")

/* The configuration of the AIC100 vendor page. */
static struct dom aic(const char *hostdevs)
{
	return (struct dom){.machine = "q35",
			    .features = AIC_FEATURES,
			    .devices = AIC_IOMMU,
			    .hostdevs = hostdevs ? hostdevs : HD01};
}

static void dump(void)
{
	struct vh_buf b = {0};

	if (!T.have_rep)
		return;
	vh_report_text(&T.rep, &b);
	fprintf(stderr, "---- report ----\n%s----------------\n", vh_buf_str(&b));
	vh_buf_done(&b);
}

/* Parse and check @d.  @pol VH_COMPANIONS_DEFAULT passes no options. */
static void run_with(const struct dom *d, const struct vh_profiles *ps, enum vh_companions pol)
{
	struct vh_check_opts o = {.companions = pol};
	struct vh_err e = {0};
	int r;

	reset_check();
	r = asprintf(&T.xml,
		     "<domain type='%s'>\n"
		     "  <name>guest</name>\n"
		     "  <memory unit='GiB'>16</memory><memtune>%s</memtune>\n"
		     "  <vcpu placement='static'>%u</vcpu>\n"
		     "  <os>\n"
		     "    <type arch='%s'%s%s%s>%s</type>\n"
		     "  </os>\n"
		     "  <features>%s</features>\n"
		     "  <devices>\n%s\n%s  </devices>\n"
		     "</domain>\n",
		     d->type ? d->type : "kvm",
		     d->memtune ? d->memtune : "<hard_limit unit='TiB'>1</hard_limit>",
		     d->vcpus ? d->vcpus : 4, d->arch ? d->arch : "x86_64",
		     d->machine ? " machine='" : "", d->machine ? d->machine : "",
		     d->machine ? "'" : "", d->os ? d->os : "hvm", d->features ? d->features : "",
		     d->devices ? d->devices : "", d->hostdevs ? d->hostdevs : "");
	assert_true(r > 0);
	r = vh_domain_parse(T.xml, strlen(T.xml), "guest.xml", &T.dom, &e);
	if (r < 0)
		fail_msg("domain: %s\n%s", e.msg, T.xml);
	r = vh_check_domain(T.sys, ps, T.dom, pol == VH_COMPANIONS_DEFAULT ? NULL : &o, &T.rep);
	assert_int_equal(r, 0);
	T.have_rep = true;
}

static void run(const struct dom *d)
{
	run_with(d, &profiles, VH_COMPANIONS_DEFAULT);
}

static const struct vh_finding *find(const char *rule)
{
	for (size_t i = 0; i < T.rep.n_findings; i++)
		if (streq(T.rep.findings[i].rule, rule))
			return &T.rep.findings[i];
	return NULL;
}

static size_t count(const char *rule)
{
	size_t n = 0;

	for (size_t i = 0; i < T.rep.n_findings; i++)
		n += streq(T.rep.findings[i].rule, rule);
	return n;
}

static bool has_device(const struct vh_finding *f, const char *addr)
{
	for (char **p = f->devices; p && *p; p++)
		if (streq(*p, addr))
			return true;
	return false;
}

static void expect_none(void)
{
	if (T.rep.n_findings) {
		dump();
		fail_msg("expected no findings, got %zu (first: %s)", T.rep.n_findings,
			 T.rep.findings[0].rule);
	}
	assert_int_equal(T.rep.n_error + T.rep.n_warning + T.rep.n_info, 0);
}

static void expect_no_rule(const char *rule)
{
	if (find(rule)) {
		dump();
		fail_msg("unexpected finding %s", rule);
	}
}

/* Expect a @rule finding with @sev; @addr NULL means no address.  The
 * message names the address, the device list holds it, and the fix
 * contains @fix (when given). */
static const struct vh_finding *expect_rule(const char *rule, enum vh_severity sev,
					    const char *addr, const char *fix)
{
	const struct vh_finding *f = find(rule);

	if (!f) {
		dump();
		fail_msg("no %s finding", rule);
	}
	if (f->severity != sev) {
		dump();
		fail_msg("%s: severity %s, expected %s", rule, vh_severity_name(f->severity),
			 vh_severity_name(sev));
	}
	assert_non_null(f->message);
	if (addr) {
		char a[VH_PCI_ADDR_LEN];
		assert_true(f->has_addr);
		vh_pci_addr_format(&f->addr, a);
		assert_string_equal(a, addr);
		if (!strstr(f->message, addr))
			fail_msg("%s: message does not name %s: %s", rule, addr, f->message);
		/* group findings list the companions, not the hostdev */
		if (strncmp(rule, "group-", 6) != 0)
			assert_true(has_device(f, addr));
	} else {
		assert_false(f->has_addr);
	}
	if (fix) {
		if (!f->fix || !strstr(f->fix, fix))
			fail_msg("%s: fix does not contain \"%s\": %s", rule, fix,
				 f->fix ? f->fix : "(none)");
	}
	return f;
}

static const struct vh_finding *expect_only(const char *rule, enum vh_severity sev,
					    const char *addr, const char *fix)
{
	if (T.rep.n_findings != 1) {
		dump();
		fail_msg("expected exactly one finding (%s), got %zu", rule, T.rep.n_findings);
	}
	return expect_rule(rule, sev, addr, fix);
}

/* --- every rule of the catalog --- */

static const char *const big_host =
    "0000:00:1c.0 id=8086:a338 class=0x060400 bridge pcie=4 "
    "driver=pcieport group=2\n"
    "0000:01:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=vfio-pci group=1\n"
    "0000:05:00.0 id=17cb:a100 class=0x120000 msi=32 pcie driver=vfio-pci\n"
    "0000:08:00.0 id=10de:2204 class=0x030000 msix=8 pcie "
    "driver=vfio-pci group=8\n"
    "0000:08:00.1 id=10de:1aef class=0x040300 msi=1 pcie "
    "driver=snd_hda_intel group=8\n"
    "0000:0a:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=vfio-pci group=10\n"
    "0000:0b:00.0 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "
    "group=10\n"
    "0000:0c:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=vfio-pci group=12\n"
    "0000:4d:00.0 id=8086:56c0 class=0x038000 pcie driver=i915 group=40 "
    "sriov=total:16,offset:1,stride:1,vfdev:56c0\n"
    "0000:5e:00.0 id=8086:56c0 class=0x038000 pcie driver=i915 group=50 "
    "sriov=total:4,offset:1,stride:1,vfdev:56c0 numvfs=1\n"
    "0000:5e:00.1 id=8086:56c0 class=0x038000 pcie group=51 "
    "physfn=0000:5e:00.0\n"
    /* the host's network, and a NIC that is down */
    "0000:0d:00.0 id=8086:10d3 class=0x020000 msix=5 pcie driver=e1000e "
    "group=13\n"
    "0000:0e:00.0 id=8086:10d3 class=0x020000 msix=5 pcie driver=e1000e "
    "group=14\n"
    "net eno1 pci=0000:0d:00.0 up\n"
    "addr eno1 192.168.1.20/24\n"
    "route eno1 default via 192.168.1.1\n"
    "net eno2 pci=0000:0e:00.0\n";

struct scenario {
	const char *rule;
	enum vh_severity sev;
	const char *addr; /* the finding's address, NULL: none */
	const char *fix;  /* expected in the fix, NULL: not checked */
	struct dom bad, good;
};

static const struct scenario scenarios[] = {
    /* SR-IOV: VF 1 of a PF without VFs; VF 3 of one with 1; a PF with
     * its own VF. */
    {"sriov-vf-create",
     VH_INFO,
     "0000:4d:00.1",
     NULL,
     {.machine = "q35", .hostdevs = HOSTDEV("0x4d", "0x00", "0x1")},
     {.machine = "q35", .hostdevs = HOSTDEV("0x5e", "0x00", "0x1")}},
    {"sriov-numvfs-busy",
     VH_ERROR,
     "0000:5e:00.3",
     "echo 3 > /sys/bus/pci/devices/0000:5e:00.0/sriov_numvfs",
     {.machine = "q35", .hostdevs = HOSTDEV("0x5e", "0x00", "0x3")},
     {.machine = "q35", .hostdevs = HOSTDEV("0x5e", "0x00", "0x1")}},
    {"sriov-pf-assigned",
     VH_ERROR,
     "0000:4d:00.0",
     "give the VM only virtual functions",
     {.machine = "q35", .hostdevs = HOSTDEV("0x4d", "0x00", "0x0") HOSTDEV("0x4d", "0x00", "0x1")},
     {.machine = "q35", .hostdevs = HOSTDEV("0x4d", "0x00", "0x1")}},
    /* 16 GiB and two devices behind a vIOMMU: 2 * 16 GiB + 1 GiB. */
    {"memlock-too-low",
     VH_ERROR,
     NULL,
     "<memtune><hard_limit unit='KiB'>34603008</hard_limit></memtune>",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HD01 HOSTDEV("0x0a", "0x00", "0x0"),
      .memtune = "<hard_limit unit='GiB'>32</hard_limit>"},
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HD01 HOSTDEV("0x0a", "0x00", "0x0"),
      .memtune = "<hard_limit unit='GiB'>33</hard_limit>"}},
    {"bad-address",
     VH_ERROR,
     NULL,
     "<address domain='0x0000'",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x0000", "zz", "0x0")},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"device-duplicate",
     VH_ERROR,
     "0000:01:00.0",
     "remove the second",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HD01 HOSTDEV("1", "0", "0")},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"device-missing",
     VH_ERROR,
     "0000:09:00.0",
     "lspci -D",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HD01 HOSTDEV("0x09", "0x00", "0x0")},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"device-unreadable",
     VH_WARNING,
     "0000:0c:00.0",
     NULL,
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x0c", "0x00", "0x0")},
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x0a", "0x00", "0x0") HOSTDEV("0x0b", "0x00", "0x0")}},
    {"device-in-use",
     VH_ERROR,
     "0000:0d:00.0",
     "ip link set eno1 down",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x0d", "0x00", "0x0")},
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x0e", "0x00", "0x0")}},
    {"device-bridge",
     VH_ERROR,
     "0000:00:1c.0",
     "endpoint",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x00", "0x1c", "0x0")},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"host-iommu-off",
     VH_ERROR,
     "0000:05:00.0",
     "intel_iommu=on",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x05", "0x00", "0x0")},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"machine-q35",
     VH_ERROR,
     "0000:01:00.0",
     "machine='q35'",
     {.machine = "pc-i440fx-7.2", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01},
     {.machine = "pc-q35-7.2", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"viommu-misplaced",
     VH_ERROR,
     "0000:01:00.0",
     "<iommu model='intel'>",
     {.machine = "q35", .features = AIC_FEATURES AIC_IOMMU, .hostdevs = HD01},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"viommu-missing",
     VH_ERROR,
     "0000:01:00.0",
     "<iommu model='intel'>",
     {.machine = "q35", .features = AIC_FEATURES, .hostdevs = HD01},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"viommu-intremap",
     VH_ERROR,
     "0000:01:00.0",
     "intremap='on'",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = "<iommu model='intel'><driver caching_mode='on'/>"
		 "</iommu>",
      .hostdevs = HD01},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"viommu-caching-mode",
     VH_ERROR,
     "0000:01:00.0",
     "caching_mode='on'",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = "<iommu model='intel'><driver intremap='on'/></iommu>",
      .hostdevs = HD01},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"ioapic-split",
     VH_ERROR,
     "0000:01:00.0",
     "<ioapic driver='qemu'/>",
     {.machine = "q35", .features = "<acpi/><apic/>", .devices = AIC_IOMMU, .hostdevs = HD01},
     {.machine = "q35", .features = AIC_FEATURES, .devices = AIC_IOMMU, .hostdevs = HD01}},
    {"viommu-eim",
     VH_WARNING,
     NULL,
     "eim='on'",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HD01,
      .vcpus = 288},
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HD01,
      .vcpus = 255}},
    {"group-not-viable",
     VH_ERROR,
     "0000:0a:00.0",
     "bus='0x0b'",
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x0a", "0x00", "0x0")},
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x0a", "0x00", "0x0") HOSTDEV("0x0b", "0x00", "0x0")}},
    {"group-companions-bind",
     VH_WARNING,
     "0000:08:00.0",
     NULL,
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x08", "0x00", "0x0")},
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = HOSTDEV("0x08", "0x00", "0x0") HOSTDEV("0x08", "0x00", "0x1")}},
    {"network-hostdev",
     VH_INFO,
     "0000:01:00.0",
     NULL,
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = "<interface type='network'><source network='vfs'/>"
		  "</interface>"},
     {.machine = "q35",
      .features = AIC_FEATURES,
      .devices = AIC_IOMMU,
      .hostdevs = "<interface type='network'><source network='default'/>"
		  "</interface>"}},
    {"xen-pv-unsupported",
     VH_ERROR,
     "0000:01:00.0",
     "machine='xenfv'>hvm</type>",
     {.type = "xen", .machine = "xenpv", .os = "linux", .hostdevs = HD01},
     {.type = "xen", .machine = "xenfv", .hostdevs = HD01}},
};

static void every_rule_triggered_and_not(void **state UNUSED)
{
	host(big_host);
	break_config("0000:0c:00.0");
	assert_int_equal(fakesys_put(T.root, "run/libvirt/network/vfs.xml",
				     "<networkstatus><network><name>vfs</name>"
				     "<forward mode='hostdev'><address type='pci' "
				     "domain='0' bus='1' slot='0' function='0'/>"
				     "</forward></network></networkstatus>"),
			 0);
	assert_int_equal(vh_n_rules, 24);
	for (size_t i = 0; i < vh_n_rules; i++) {
		const struct scenario *s = NULL;
		const struct vh_finding *f;

		/* Only a QEMU command line can trigger it: see
		 * test-qemuargs.c. */
		if (streq(vh_rule_id_to_string(vh_rules[i].id), "viommu-order") ||
		    streq(vh_rule_id_to_string(vh_rules[i].id), "device-not-bound"))
			continue;
		for (size_t j = 0; j < sizeof(scenarios) / sizeof(*scenarios); j++)
			if (streq(scenarios[j].rule, vh_rule_id_to_string(vh_rules[i].id)))
				s = &scenarios[j];
		if (!s)
			fail_msg("rule %s has no scenario", vh_rule_id_to_string(vh_rules[i].id));
		assert_true(vh_rules[i].summary && vh_rules[i].summary[0]);

		run(&s->bad);
		f = expect_rule(s->rule, s->sev, s->addr, s->fix);
		/* the catalog's severity is the rule's severity */
		assert_int_equal(f->severity, vh_rules[i].severity);
		assert_int_equal(count(s->rule), 1);

		run(&s->good);
		if (find(s->rule)) {
			dump();
			fail_msg("%s: found in the corrected domain", s->rule);
		}
	}
}

/* --- each rule in detail --- */

#define AIC_HOST                                                                                   \
	"0000:01:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "                                    \
	"driver=vfio-pci group=1\n"

/* The AIC100 host with its vendor file holding @value (and no modalias,
 * which would give the IDs without it). */
static void aic_host_vendor(const char *value)
{
	host(AIC_HOST);
	assert_int_equal(fakesys_put(T.root, "sys/bus/pci/devices/0000:01:00.0/vendor", value), 0);
	assert_int_equal(fakesys_put(T.root, "sys/bus/pci/devices/0000:01:00.0/modalias", ""), 0);
}

static void bad_address_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic("\n\n" HOSTDEV("../..", "0x00", "0x0"));

	host(AIC_HOST);
	run(&d);
	f = expect_only("bad-address", VH_ERROR, NULL, "<address domain='0x0000' bus='0x01'");
	assert_non_null(strstr(f->message, "bus='../..'"));
	assert_non_null(strstr(f->message, "not a number"));
	/* The hostdev starts on line 13 of the generated document. */
	assert_non_null(strstr(T.xml, "\n\n\n<hostdev"));
	assert_non_null(strstr(f->message, "at line 13 "));
	assert_non_null(strstr(f->fix_where, "line 13"));

	d.hostdevs = HOSTDEV("0x100", "1", "0");
	run(&d);
	f = expect_only("bad-address", VH_ERROR, NULL, NULL);
	assert_non_null(strstr(f->message, "out of range"));

	d.hostdevs = "<interface type='hostdev'><source/></interface>";
	run(&d);
	f = expect_only("bad-address", VH_ERROR, NULL, NULL);
	assert_non_null(strstr(f->message, "<interface type='hostdev'>"));
}

static void duplicate_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(HD01 "<interface type='hostdev'><source><address "
				"type='pci' bus='01' slot='0' function='0'/>"
				"</source></interface>");

	host(AIC_HOST);
	run(&d);
	f = expect_only("device-duplicate", VH_ERROR, "0000:01:00.0", "remove the second");
	assert_non_null(strstr(f->message, "<interface type='hostdev'>"));
	assert_true(T.rep.devs[1].duplicate);
	assert_false(T.rep.devs[0].duplicate);
}

static void missing_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.hostdevs = HOSTDEV("0x3b", "0x00", "0x0");
	run(&d);
	f = expect_only("device-missing", VH_ERROR, "0000:3b:00.0", NULL);
	assert_non_null(strstr(f->message, "does not exist"));
	/* The VM rules need a device: nothing else is said. */
	assert_int_equal(T.rep.n_error, 1);
}

static void unreadable_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	break_config("0000:01:00.0");
	run(&d);
	f = expect_only("device-unreadable", VH_WARNING, "0000:01:00.0", NULL);
	assert_non_null(strstr(f->message, "config"));
	/* the profile still matched from vendor/device */
	assert_non_null(T.rep.devs[0].profile);
	assert_string_equal(T.rep.devs[0].profile->id, "qcom-aic100");

	/* A garbage vendor file. */
	aic_host_vendor("banana\n");
	run(&d);
	f = expect_rule("device-unreadable", VH_WARNING, "0000:01:00.0", NULL);
	assert_non_null(strstr(f->message, "vendor"));
}

static void bridge_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(HOSTDEV("0x00", "0x1c", "0x0"));

	host("0000:00:1c.0 id=8086:a338 class=0x060400 bridge pcie=4 "
	     "driver=pcieport group=2\n");
	run(&d);
	f = expect_only("device-bridge", VH_ERROR, "0000:00:1c.0", NULL);
	assert_non_null(strstr(f->message, "060400"));
	assert_non_null(strstr(f->message, "header type 1"));
	assert_string_equal(f->fix_where, "<devices>");

	/* A bridge without an IOMMU group is reported as a bridge only. */
	host("0000:00:1c.0 id=8086:a338 class=0x060400 bridge pcie=4\n");
	run(&d);
	expect_only("device-bridge", VH_ERROR, "0000:00:1c.0", NULL);
}

/* 0000:00:00.0 is a hostdev address libvirt takes (s390x's first zPCI
 * function): judged by what the host has there, never as bad-address. */
static void zero_address_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(HOSTDEV("0", "0", "0"));

	/* x86: the host bridge, header type 0, so vfio-pci would bind it */
	host("0000:00:00.0 id=8086:1901 class=0x060000 group=0 reset=none\n");
	run(&d);
	f = expect_only("device-bridge", VH_ERROR, "0000:00:00.0", "lspci");
	assert_non_null(strstr(f->message, "host bridge"));
	assert_non_null(strstr(f->message, "060000"));
	/* mode warn does not start a VM over it: libvirt would take it */
	assert_int_equal(vh_report_n_refusing_in_warn(&T.rep), 1);

	/* the chipset's ISA/LPC bridge likewise */
	d.hostdevs = HOSTDEV("0", "0x1f", "0");
	host("0000:00:1f.0 id=8086:a3c8 class=0x060100 group=9 "
	     "driver=lpc_ich reset=none\n");
	run(&d);
	f = expect_rule("device-bridge", VH_ERROR, "0000:00:1f.0", NULL);
	assert_non_null(strstr(f->message, "ISA/LPC bridge"));
	expect_no_rule("bad-address");

	/* nothing there */
	d.hostdevs = HOSTDEV("0", "0", "0");
	host(AIC_HOST);
	run(&d);
	expect_only("device-missing", VH_ERROR, "0000:00:00.0", NULL);

	/* s390x: a zPCI function, an endpoint like any other */
	host("0000:00:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
	     "driver=vfio-pci group=1\n");
	run(&d);
	expect_none();
}

static void iommu_off_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host("0000:01:00.0 id=17cb:a100 class=0x120000 msi=32 pcie\n");
	run(&d);
	f = expect_only("host-iommu-off", VH_ERROR, "0000:01:00.0", "iommu=pt");
	assert_string_equal(f->fix_where, "the host");
	assert_non_null(strstr(f->message, "iommu_group"));
}

/* --- the AIC100 vendor page --- */

static void aic100_page_is_clean(void **state UNUSED)
{
	struct dom d = aic(NULL);

	host(AIC_HOST);
	run(&d);
	expect_none();
	assert_int_equal(T.rep.n_devs, 1);
	assert_non_null(T.rep.devs[0].profile);
	assert_string_equal(T.rep.devs[0].profile->id, "qcom-aic100");
	assert_int_equal(T.rep.devs[0].dev.caps.msi_vectors, 32);
	assert_true(T.rep.devs[0].needs.intremap);

	/* The same with the device on its host driver (the hook binds it). */
	host("0000:01:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
	     "driver=qaic group=1\n");
	run(&d);
	expect_none();
}

/* opts->load_profiles: what the check asked for, and a loader that puts
 * the shipped profiles of those vendors only into its own set. */
static struct {
	unsigned calls;
	bool every; /* asked with NULL */
	struct vh_pci_id v[8];
	size_t n;
	int ret;
	size_t matched_before; /* devices with a profile when it was called */
	struct vh_profiles ps;
} LP;

static int lp_load(void *ud, const struct vh_pci_id *v, size_t n)
{
	LP.calls++;
	LP.every = !v;
	LP.n = n;
	for (size_t i = 0; v && i < n && i < 8; i++)
		LP.v[i] = v[i];
	for (size_t i = 0; i < T.rep.n_devs; i++)
		LP.matched_before += T.rep.devs[i].profile != NULL;
	for (size_t i = 0; i < profiles.n && LP.ret == 0; i++) {
		bool want = !v;
		for (size_t j = 0; j < n && !want; j++)
			want = profiles.v[i].vendor == v[j].vendor;
		if (want) /* a shallow copy: the group's set owns it */
			LP.ps.v[LP.ps.n++] = profiles.v[i];
	}
	(void)ud;
	return LP.ret;
}

static bool lp_asked(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < LP.n; i++)
		if (LP.v[i].vendor == vendor && LP.v[i].device == device)
			return true;
	return false;
}

static void lp_check(const char *hostdevs)
{
	struct vh_check_opts o = {.companions = VH_COMPANIONS_SAME_DEVICE,
				  .load_profiles = lp_load};
	struct dom d = aic(hostdevs);
	/* Shallow copies of the group's profiles; the report points into
	 * them after this returns. */
	static struct vh_profile slots[8];
	struct vh_err e = {0};
	int ret = LP.ret;

	memset(&LP, 0, sizeof(LP));
	LP.ret = ret;
	LP.ps.v = slots;
	reset_check();
	assert_true(asprintf(&T.xml,
			     "<domain type='kvm'><name>guest</name>"
			     "<memory unit='GiB'>16</memory><memtune>"
			     "<hard_limit unit='TiB'>1</hard_limit></memtune>"
			     "<os><type arch='x86_64' machine='q35'>hvm</type>"
			     "</os><features>%s</features><devices>%s%s"
			     "</devices></domain>",
			     d.features, d.devices, d.hostdevs) > 0);
	assert_int_equal(vh_domain_parse(T.xml, strlen(T.xml), "guest.xml", &T.dom, &e), 0);
	T.have_rep = false;
	assert_int_equal(vh_check_domain(T.sys, &LP.ps, T.dom, &o, &T.rep), LP.ret);
	T.have_rep = LP.ret == 0;
	if (!T.have_rep)
		vh_report_done(&T.rep);
}

/* The check reads every device before it matches a profile, and asks its
 * caller once for the devices it will match: the present ones and the VFs
 * it will have created (their PF's vendor, its VF device id), each once;
 * every device when one could not be read; an error of the loader fails
 * it. */
static void profiles_loaded_by_device(void **state UNUSED)
{
	host(AIC_HOST "0000:02:00.0 id=1e60:2864 class=0x120000 msi=1 pcie "
		      "driver=vfio-pci group=2\n"
		      "0000:03:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
		      "driver=vfio-pci group=3\n"
		      "0000:5e:00.0 id=8086:56c0 class=0x038000 pcie "
		      "driver=i915 group=50 "
		      "sriov=total:4,offset:1,stride:1,vfdev:56c0\n");
	lp_check(HD01 HOSTDEV("0x02", "0x00", "0x0") HOSTDEV("0x03", "0x00", "0x0")
		     HOSTDEV("0x09", "0x00", "0x0"));
	assert_int_equal(LP.calls, 1);
	assert_false(LP.every);
	assert_int_equal(LP.n, 2); /* 17cb:a100 once; the absent one: none */
	assert_true(lp_asked(0x17cb, 0xa100));
	assert_true(lp_asked(0x1e60, 0x2864));
	assert_int_equal(LP.matched_before, 0);
	/* What it loaded is what the devices matched. */
	assert_string_equal(T.rep.devs[0].profile->id, "qcom-aic100");
	assert_string_equal(T.rep.devs[1].profile->id, "hailo-8");
	assert_string_equal(T.rep.devs[2].profile->id, "qcom-aic100");
	assert_null(T.rep.devs[3].profile);
	assert_non_null(find("device-missing"));

	/* A VF to be created: its PF's vendor, and its profile. */
	lp_check(HOSTDEV("0x5e", "0x00", "0x1"));
	assert_int_equal(LP.calls, 1);
	assert_int_equal(LP.n, 1);
	assert_true(lp_asked(0x8086, 0x56c0)); /* the PF's VF device id */
	assert_true(T.rep.devs[0].vf_create);
	assert_string_equal(T.rep.devs[0].profile->id, "intel-flex");

	/* A vendor that cannot be read: every vendor. */
	aic_host_vendor("garbage\n");
	lp_check(HD01);
	assert_int_equal(LP.calls, 1);
	assert_true(LP.every);

	/* The loader fails: so does the check, with its error. */
	host(AIC_HOST);
	LP.ret = -EPERM;
	lp_check(HD01);
	assert_int_equal(LP.calls, 1);
	LP.ret = 0;
}

static unsigned n_named;

static void counting_namer(uint16_t vendor, uint16_t device, char *vn, size_t vnl, char *mn,
			   size_t mnl)
{
	n_named++;
	snprintf(vn, vnl, "Vendor%04x", vendor);
	snprintf(mn, mnl, "Model%04x", device);
}

/* A device's names (the front end's database) are looked up only for a
 * finding that names the device, once however many do. */
static void names_looked_up_when_reported(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	vh_pci_set_namer(counting_namer);
	vh_pci_names_disable(false);
	n_named = 0;
	run(&d);
	expect_none();
	assert_int_equal(n_named, 0);

	d.machine = "pc-i440fx-7.2";
	d.devices = NULL; /* no vIOMMU either: several findings */
	run(&d);
	f = find("machine-q35");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "Vendor17cb Modela100 at 0000:01:00.0"));
	assert_true(T.rep.n_findings > 1);
	assert_int_equal(n_named, 1);

	/* Two devices that need q35: one message names both. */
	host(big_host);
	n_named = 0;
	d = aic(HD01 HOSTDEV("0x05", "0x00", "0x0"));
	d.machine = "pc-i440fx-7.2";
	run(&d);
	f = find("machine-q35");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "Modela100 at 0000:01:00.0"));
	assert_non_null(strstr(f->message, "Modela100 at 0000:05:00.0"));
	assert_int_equal(n_named, 2);
	vh_pci_names_disable(true);
	vh_pci_set_namer(NULL);
}

static void aic100_without_q35(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.machine = "pc-i440fx-7.2";
	run(&d);
	f = expect_only("machine-q35", VH_ERROR, "0000:01:00.0",
			"<type arch='x86_64' machine='q35'>hvm</type>");
	assert_non_null(strstr(f->message, "pc-i440fx-7.2"));
	assert_non_null(strstr(f->why, "qcom-aic100"));
	assert_string_equal(f->fix_where, "<os>");

	d.machine = NULL;
	run(&d);
	f = expect_only("machine-q35", VH_ERROR, "0000:01:00.0", "machine='q35'");
	assert_non_null(strstr(f->message, "default"));

	d.machine = "pc";
	run(&d);
	expect_only("machine-q35", VH_ERROR, "0000:01:00.0", "machine='q35'");

	d.machine = "microvm";
	run(&d);
	expect_only("machine-q35", VH_ERROR, "0000:01:00.0", "machine='q35'");

	d.machine = "pc-q35-8.2";
	run(&d);
	expect_none();
}

static void aic100_without_ioapic(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.features = "<acpi/><apic/>";
	run(&d);
	f = expect_only("ioapic-split", VH_ERROR, "0000:01:00.0", "<ioapic driver='qemu'/>");
	assert_string_equal(f->fix_where, "<features>");
	assert_non_null(f->why);

	d.features = "<acpi/><apic/><ioapic driver='kvm'/>";
	run(&d);
	f = expect_only("ioapic-split", VH_ERROR, "0000:01:00.0", "<ioapic driver='qemu'/>");
	assert_non_null(strstr(f->message, "driver='kvm'"));

	/* <ioapic> under <devices> is not the feature. */
	d.features = "<acpi/>";
	d.devices = AIC_IOMMU "<ioapic driver='qemu'/>";
	run(&d);
	expect_only("ioapic-split", VH_ERROR, "0000:01:00.0", "<ioapic driver='qemu'/>");
}

static void aic100_without_iommu(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.devices = NULL;
	run(&d);
	f = expect_only("viommu-missing", VH_ERROR, "0000:01:00.0", "<iommu model='intel'>");
	assert_non_null(strstr(f->fix, "intremap='on'"));
	assert_non_null(strstr(f->fix, "caching_mode='on'"));
	assert_string_equal(f->fix_where, "<devices>");
	assert_non_null(strstr(f->message, "no emulated IOMMU"));

	d.devices = "<iommu model='smmuv3'/>";
	run(&d);
	f = expect_only("viommu-missing", VH_ERROR, "0000:01:00.0", "<iommu model='intel'>");
	assert_non_null(strstr(f->message, "smmuv3"));

	d.devices = "<iommu model='virtio'/>";
	run(&d);
	expect_only("viommu-missing", VH_ERROR, "0000:01:00.0", "intremap='on'");
}

static void aic100_without_intremap(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.devices = "<iommu model='intel'><driver caching_mode='on'/></iommu>";
	run(&d);
	f = expect_only("viommu-intremap", VH_ERROR, "0000:01:00.0", "intremap='on'");
	assert_non_null(strstr(f->fix, "caching_mode='on'"));
	/* No probe of its QEMU: the version is unknown. */
	assert_non_null(strstr(f->message, "unknown version"));

	d.devices = "<iommu model='intel'><driver intremap='off' "
		    "caching_mode='on' aw_bits='48'/></iommu>";
	run(&d);
	f = expect_only("viommu-intremap", VH_ERROR, "0000:01:00.0", "intremap='on'");
	assert_non_null(strstr(f->message, "off"));
	/* what the domain already has is kept in the fix */
	assert_non_null(strstr(f->fix, "aw_bits='48'"));
}

/* libvirt's probe of the emulator, as it keeps it: @version 0 removes it. */
static void qemu_probe(unsigned version, mode_t mode)
{
	const char *rel = "var/cache/libvirt/qemu/capabilities/0a1b.xml";
	char p[4200], body[256];

	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	if (!version) {
		(void)unlink(p);
		return;
	}
	snprintf(body, sizeof(body),
		 "<qemuCaps>\n  <emulator>/usr/bin/qemu-system-x86_64"
		 "</emulator>\n  <flag name='kvm'/>\n  <version>%u</version>\n"
		 "</qemuCaps>\n",
		 version);
	assert_int_equal(fakesys_put(T.root, rel, body), 0);
	assert_int_equal(chmod(p, mode), 0);
}

#define EMULATOR "<emulator>/usr/bin/qemu-system-x86_64</emulator>"

/* QEMU's intremap is OnOffAuto from 4.1: left out, it is on unless KVM
 * emulates the whole irqchip; the version comes from libvirt's probe. */
static void intremap_qemu_default(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.devices = EMULATOR "<iommu model='intel'><driver caching_mode='on'/></iommu>";
	qemu_probe(8002002, 0600);
	run(&d);
	expect_none();

	/* KVM's in-kernel irqchip: QEMU turns it off, the I/O APIC too. */
	d.features = "<acpi/><apic/>";
	run(&d);
	f = expect_rule("viommu-intremap", VH_ERROR, "0000:01:00.0", "intremap='on'");
	assert_non_null(strstr(f->message, "QEMU 8.2.2"));
	expect_rule("ioapic-split", VH_ERROR, "0000:01:00.0", "<ioapic driver='qemu'/>");
	assert_int_equal(T.rep.n_error, 2);

	/* TCG: QEMU emulates the I/O APIC, and remapping is on. */
	d.type = "qemu";
	run(&d);
	expect_none();
	/* TCG without a vIOMMU: no ioapic-split, but the fix that writes
	 * intremap='on' says what libvirt 9 wants beside it. */
	d.devices = EMULATOR;
	run(&d);
	f = expect_only("viommu-missing", VH_ERROR, "0000:01:00.0", "intremap='on'");
	assert_non_null(strstr(f->fix, "libvirt 9"));
	/* With KVM, ioapic-split says it, and the fix does not. */
	d.type = NULL;
	run(&d);
	f = expect_rule("viommu-missing", VH_ERROR, "0000:01:00.0", "intremap='on'");
	assert_null(strstr(f->fix, "libvirt 9"));
	expect_rule("ioapic-split", VH_ERROR, "0000:01:00.0", NULL);
	d.type = "qemu";
	d.devices = EMULATOR "<iommu model='intel'><driver caching_mode='on'/></iommu>";
	d.type = NULL;
	d.features = AIC_FEATURES;

	/* Before 4.1 it was off. */
	qemu_probe(4000000, 0600);
	run(&d);
	f = expect_only("viommu-intremap", VH_ERROR, "0000:01:00.0", "intremap='on'");
	assert_non_null(strstr(f->message, "QEMU 4.0.0, which keeps it off"));

	/* A probe another user could have written is not believed, nor
	 * one of another emulator: the version is unknown. */
	qemu_probe(8002002, 0666);
	run(&d);
	f = expect_only("viommu-intremap", VH_ERROR, "0000:01:00.0", "intremap='on'");
	assert_non_null(strstr(f->message, "unknown"));
	qemu_probe(8002002, 0600);
	d.devices = "<emulator>/usr/bin/qemu-kvm</emulator>"
		    "<iommu model='intel'><driver caching_mode='on'/></iommu>";
	run(&d);
	f = expect_only("viommu-intremap", VH_ERROR, "0000:01:00.0", "intremap='on'");
	assert_non_null(strstr(f->message, "/usr/bin/qemu-kvm"));
	qemu_probe(0, 0);
}

/* eim follows intremap with KVM; TCG leaves it off. */
static void eim_qemu_default(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.vcpus = 300;
	d.devices = EMULATOR AIC_IOMMU;
	qemu_probe(9002000, 0600);
	run(&d);
	expect_none();
	d.type = "qemu";
	run(&d);
	f = expect_only("viommu-eim", VH_WARNING, NULL, "eim='on'");
	assert_non_null(strstr(f->message, "300 vCPUs"));
	d.type = NULL;
	qemu_probe(0, 0);
	run(&d);
	expect_only("viommu-eim", VH_WARNING, NULL, "eim='on'");
}

/* <address type='unassigned'/>: bound, given to no guest. */
static void unassigned_hostdev(void **state UNUSED)
{
	struct dom d = {.machine = "pc",
			.hostdevs = "<hostdev mode='subsystem' type='pci' managed='yes'>"
				    "<source><address domain='0x0000' bus='0x01' "
				    "slot='0x00' function='0x0'/></source>"
				    "<address type='unassigned'/></hostdev>"};

	host(AIC_HOST "0000:02:00.0 id=8086:1521 class=0x020000 msix=8 pcie "
		      "driver=igb group=1\n");
	run(&d);
	/* Only the host's side: its group-mate on a host driver. */
	expect_no_rule("machine-q35");
	expect_no_rule("viommu-missing");
	expect_no_rule("ioapic-split");
	expect_rule("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);
	/* The same hostdev given to the guest gets the guest's rules. */
	d.hostdevs = HD01;
	run(&d);
	expect_rule("machine-q35", VH_ERROR, "0000:01:00.0", "q35");
}

/* An <interface type='network'> on a <forward mode='hostdev'> pool. */
static void network_hostdev_pool(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = {.machine = "pc",
			.hostdevs = "<interface type='network'><source network='vfs'/>"
				    "</interface>\n"
				    "<interface type='network'><source network='default'/>"
				    "</interface>"};

	host(AIC_HOST);
	assert_int_equal(fakesys_put(T.root, "run/libvirt/network/vfs.xml",
				     "<networkstatus><network><name>vfs</name>"
				     "<forward mode='hostdev' managed='yes'>"
				     "<address type='pci' domain='0x0000' bus='0x01' "
				     "slot='0x00' function='0x0'/>"
				     "<address type='pci' domain='0x0000' bus='0x07' "
				     "slot='0x00' function='0x0'/>"
				     "</forward></network></networkstatus>"),
			 0);
	assert_int_equal(fakesys_put(T.root, "run/libvirt/network/default.xml",
				     "<networkstatus><network><name>default</name>"
				     "<forward mode='nat'/></network></networkstatus>"),
			 0);
	run(&d);
	f = expect_rule("network-hostdev", VH_INFO, "0000:01:00.0", NULL);
	assert_non_null(strstr(f->message, "network 'vfs'"));
	assert_non_null(strstr(f->message, "2 devices"));
	expect_rule("machine-q35", VH_ERROR, "0000:01:00.0", "q35");
	assert_int_equal(count("network-hostdev"), 1);

	/* A status file another user could have written: a warning, never
	 * a silent pass. */
	{
		char p[4200];
		snprintf(p, sizeof(p), "%s/run/libvirt/network/vfs.xml", T.root);
		assert_int_equal(chmod(p, 0666), 0);
	}
	run(&d);
	f = expect_only("network-hostdev", VH_WARNING, NULL, "net-dumpxml");
	assert_non_null(strstr(f->message, "writable by every user"));
}

static void aic100_without_caching_mode(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.devices = "<iommu model='intel'><driver intremap='on'/></iommu>";
	run(&d);
	f = expect_only("viommu-caching-mode", VH_ERROR, "0000:01:00.0", "caching_mode='on'");
	assert_non_null(strstr(f->fix, "intremap='on'"));
	assert_non_null(strstr(f->message, "not set"));

	d.devices = "<iommu model='intel'><driver intremap='on' "
		    "caching_mode='off'/></iommu>";
	run(&d);
	f = expect_only("viommu-caching-mode", VH_ERROR, "0000:01:00.0", "caching_mode='on'");
	assert_non_null(strstr(f->message, "off"));
}

static void aic100_without_iommu_driver(void **state UNUSED)
{
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.devices = "<iommu model='intel'/>";
	run(&d);
	assert_int_equal(T.rep.n_findings, 2);
	expect_rule("viommu-intremap", VH_ERROR, "0000:01:00.0", "intremap='on'");
	expect_rule("viommu-caching-mode", VH_ERROR, "0000:01:00.0", "caching_mode='on'");
}

static void aic100_iommu_misplaced(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.features = AIC_FEATURES AIC_IOMMU;
	d.devices = NULL;
	run(&d);
	f = expect_rule("viommu-misplaced", VH_ERROR, "0000:01:00.0", "<iommu model='intel'>");
	assert_non_null(strstr(f->fix_where, "<devices>"));
	assert_non_null(strstr(f->fix, "intremap='on'"));
	expect_rule("viommu-missing", VH_ERROR, "0000:01:00.0", NULL);
	assert_int_equal(T.rep.n_findings, 2);

	/* Under both: only the misplaced copy is reported. */
	d.devices = AIC_IOMMU;
	run(&d);
	expect_only("viommu-misplaced", VH_ERROR, "0000:01:00.0", NULL);
}

static void misplaced_without_needs_is_warning(void **state UNUSED)
{
	struct dom d = {.machine = "q35",
			.features = AIC_FEATURES AIC_IOMMU,
			.hostdevs = HOSTDEV("0x07", "0x00", "0x0")};

	host("0000:07:00.0 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "
	     "group=7\n");
	run(&d);
	expect_only("viommu-misplaced", VH_WARNING, NULL, "caching_mode='on'");
}

static void eim_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = aic(NULL);

	host(AIC_HOST);
	d.vcpus = 288;
	run(&d);
	f = expect_only("viommu-eim", VH_WARNING, NULL, "eim='on'");
	assert_non_null(strstr(f->message, "288"));

	d.devices = "<iommu model='intel'><driver intremap='on' "
		    "caching_mode='on' eim='on'/></iommu>";
	run(&d);
	expect_none();

	/* The eim warning needs a passed-through device. */
	d.devices = AIC_IOMMU;
	d.hostdevs = "";
	run(&d);
	expect_none();

	/* With many vCPUs the intremap fix carries eim='on' too. */
	d.devices = "<iommu model='intel'><driver caching_mode='on'/></iommu>";
	d.hostdevs = HD01;
	run(&d);
	f = expect_rule("viommu-intremap", VH_ERROR, "0000:01:00.0", "eim='on'");
	(void)f;
}

static void no_hostdevs_no_findings(void **state UNUSED)
{
	struct dom d = {.machine = "pc"};

	host(AIC_HOST);
	run(&d);
	expect_none();
	d.hostdevs = "<hostdev mode='subsystem' type='usb'><source><vendor "
		     "id='0x1'/><product id='0x2'/></source></hostdev>";
	run(&d);
	expect_none();
	assert_int_equal(T.rep.n_devs, 0);
}

/* Any VFIO device behind an Intel vIOMMU needs caching mode, and interrupt
 * remapping needs the split I/O APIC, whatever the device. */
static void plain_device_behind_viommu(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = {.machine = "q35",
			.features = "<acpi/>",
			.devices = "<iommu model='intel'/>",
			.hostdevs = HOSTDEV("0x07", "0x00", "0x0")};

	host("0000:07:00.0 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "
	     "group=7\n");
	run(&d);
	f = expect_only("viommu-caching-mode", VH_ERROR, "0000:07:00.0", "caching_mode='on'");
	assert_null(strstr(f->fix, "intremap"));

	d.devices = "<iommu model='intel'><driver intremap='on' "
		    "caching_mode='on'/></iommu>";
	run(&d);
	f = expect_only("ioapic-split", VH_ERROR, NULL, "<ioapic driver='qemu'/>");
	assert_non_null(strstr(f->message, "guest"));

	d.features = "<acpi/><ioapic driver='qemu'/>";
	run(&d);
	expect_none();

	/* No vIOMMU at all: a plain device needs nothing. */
	d.features = "<acpi/>";
	d.devices = NULL;
	d.machine = "pc";
	run(&d);
	expect_none();
}

/* --- multi-vector MSI without MSI-X, no profile --- */

#define XHCI(extra)                                                                                \
	"0000:06:00.0 id=1033:0194 class=0x0c0330 pcie driver=xhci_hcd "                           \
	"group=6 " extra "\n"

static void msi16_without_msix_needs_aic_setup(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = {.machine = "pc-i440fx-7.2",
			.features = "<acpi/><apic/>",
			.hostdevs = HOSTDEV("0x06", "0x00", "0x0")};
	static const char *const rules[] = {"machine-q35", "viommu-missing", "ioapic-split"};

	host(XHCI("msi=16"));
	run(&d);
	assert_null(T.rep.devs[0].profile);
	assert_int_equal(T.rep.devs[0].dev.caps.msi_vectors, 16);
	assert_int_equal(T.rep.n_findings, 3);
	for (size_t i = 0; i < 3; i++) {
		f = expect_rule(rules[i], VH_ERROR, "0000:06:00.0", NULL);
		assert_non_null(f->why);
		if (!strstr(f->why, "MSI") || !strstr(f->why, "16"))
			fail_msg("%s: why does not explain MSI: %s", rules[i], f->why);
		assert_non_null(strstr(f->why, "0000:06:00.0"));
	}
	expect_rule("machine-q35", VH_ERROR, "0000:06:00.0", "machine='q35'");
	f = expect_rule("viommu-missing", VH_ERROR, "0000:06:00.0", "intremap='on'");
	assert_non_null(strstr(f->fix, "caching_mode='on'"));
	expect_rule("ioapic-split", VH_ERROR, "0000:06:00.0", "<ioapic driver='qemu'/>");

	/* The AIC100 configuration satisfies it. */
	d = aic(HOSTDEV("0x06", "0x00", "0x0"));
	run(&d);
	expect_none();
	assert_true(T.rep.devs[0].needs.intremap);
	assert_int_equal(T.rep.devs[0].needs.min_msi, 16);
}

static void msi_with_msix_needs_nothing(void **state UNUSED)
{
	struct dom d = {.machine = "pc-i440fx-7.2",
			.features = "<acpi/><apic/>",
			.hostdevs = HOSTDEV("0x06", "0x00", "0x0")};

	host(XHCI("msi=16 msix=8"));
	run(&d);
	expect_none();
	assert_false(T.rep.devs[0].needs.q35);
	assert_false(T.rep.devs[0].needs.intremap);

	/* One MSI vector works without remapping. */
	host(XHCI("msi=1"));
	run(&d);
	expect_none();

	host(XHCI("msi=2"));
	run(&d);
	expect_rule("machine-q35", VH_ERROR, "0000:06:00.0", NULL);
}

/* --- IOMMU group companions --- */

#define GPU_HOST                                                                                   \
	"0000:01:00.0 id=10de:2204 class=0x030000 msix=8 pcie "                                    \
	"driver=vfio-pci group=1\n"
#define GPU_AUDIO                                                                                  \
	"0000:01:00.1 id=10de:1aef class=0x040300 msi=1 pcie "                                     \
	"driver=snd_hda_intel group=1\n"
#define NIC_IN_GROUP                                                                               \
	"0000:02:00.0 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "                         \
	"group=1\n"

static struct dom gpu_dom(const char *hostdevs)
{
	return (struct dom){
	    .machine = "q35", .features = "<acpi/>", .hostdevs = hostdevs ? hostdevs : HD01};
}

static void gpu_audio_companion_bind(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = gpu_dom(NULL);

	host(GPU_HOST GPU_AUDIO);
	run(&d);
	assert_string_equal(T.rep.devs[0].profile->id, "nvidia-gpu");
	assert_int_equal(T.rep.devs[0].n_group, 2);
	f = expect_only("group-companions-bind", VH_WARNING, "0000:01:00.0", NULL);
	assert_true(has_device(f, "0000:01:00.1"));
	assert_non_null(strstr(f->message, "0000:01:00.1"));
	assert_non_null(strstr(f->message, "snd_hda_intel"));
	assert_non_null(strstr(f->why, "same-device"));
	assert_non_null(strstr(f->why, "profile"));

	/* Without profiles the default policy is same-device too. */
	run_with(&d, NULL, VH_COMPANIONS_DEFAULT);
	f = expect_only("group-companions-bind", VH_WARNING, "0000:01:00.0", NULL);
	assert_non_null(strstr(f->why, "configuration"));

	/* Both functions given: nothing to say. */
	d.hostdevs = HD01 HOSTDEV("0x01", "0x00", "0x1");
	run(&d);
	expect_none();
}

/* q35's slot 00:1f is the chipset: the SMBus function given alone, its
 * group holding the LPC bridge and the SATA controller.  None of them is
 * "the same device": nothing is bound, the group is not viable. */
#define Q35_CHIPSET                                                                                \
	"0000:00:1f.0 id=8086:2918 class=0x060100 driver=lpc_ich group=9 "                         \
	"reset=none\n"                                                                             \
	"0000:00:1f.2 id=8086:2922 class=0x010601 driver=ahci group=9 msi=1 "                      \
	"reset=none\n"                                                                             \
	"0000:00:1f.3 id=8086:2930 class=0x0c0500 driver=i801_smbus group=9 "                      \
	"reset=none\n"

static void chipset_no_companions(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = gpu_dom(HOSTDEV("0x00", "0x1f", "0x3"));

	host(Q35_CHIPSET);
	run_with(&d, NULL, VH_COMPANIONS_SAME_DEVICE);
	f = expect_only("group-not-viable", VH_ERROR, "0000:00:1f.3", NULL);
	assert_true(has_device(f, "0000:00:1f.0"));
	assert_true(has_device(f, "0000:00:1f.2"));
	assert_non_null(strstr(f->message, "lpc_ich, the chipset's host or ISA/LPC bridge"));
	assert_non_null(strstr(f->message, "ahci, part of the chipset"));
	assert_false(T.rep.devs[0].companions_ok);
	/* 'any' still never takes the bridge */
	run_with(&d, NULL, VH_COMPANIONS_ANY);
	f = expect_only("group-not-viable", VH_ERROR, "0000:00:1f.3", NULL);
	assert_non_null(strstr(f->message, "lpc_ich, the chipset's host or ISA/LPC bridge"));
	assert_false(T.rep.devs[0].companions_ok);

	/* Without drivers too (as in a guest whose kernel lacks lpc_ich and
	 * ahci): VFIO would take the LPC bridge with the group, and the
	 * host with it. */
	host("0000:00:1f.0 id=8086:2918 class=0x060100 group=9\n"
	     "0000:00:1f.2 id=8086:2922 class=0x010601 group=9\n"
	     "0000:00:1f.3 id=8086:2930 class=0x0c0500 group=9\n");
	run_with(&d, NULL, VH_COMPANIONS_SAME_DEVICE);
	f = expect_only("group-not-viable", VH_ERROR, "0000:00:1f.3", NULL);
	assert_true(has_device(f, "0000:00:1f.0"));
	assert_non_null(strstr(f->message, "0000:00:1f.0 (driver none, the chipset's host "
					   "or ISA/LPC bridge)"));
	assert_false(T.rep.devs[0].companions_ok);

	/* A driverless function that is no bridge (Intel's shared SRAM beside
	 * the USB controller at 00:14.0) is VFIO's business: no finding. */
	host("0000:00:14.0 id=8086:a36d class=0x0c0330 driver=xhci_hcd "
	     "group=5\n"
	     "0000:00:14.2 id=8086:a36f class=0x050000 group=5\n");
	d = gpu_dom(HOSTDEV("0x00", "0x14", "0x0"));
	run_with(&d, NULL, VH_COMPANIONS_SAME_DEVICE);
	expect_no_rule("group-not-viable");
	d = gpu_dom(HOSTDEV("0x00", "0x1f", "0x3"));

	/* The same as root-complex integrated endpoints (PCIe type 9). */
	host("0000:00:1f.2 id=8086:2922 class=0x010601 driver=ahci group=9 "
	     "pcie=rciep\n"
	     "0000:00:1f.3 id=8086:2930 class=0x0c0500 driver=i801_smbus "
	     "group=9 pcie=rciep\n");
	run_with(&d, NULL, VH_COMPANIONS_SAME_DEVICE);
	f = expect_only("group-not-viable", VH_ERROR, "0000:00:1f.3", NULL);
	assert_non_null(strstr(f->message, "part of the chipset"));
	/* 'any' binds a chipset endpoint the host does not use */
	run_with(&d, NULL, VH_COMPANIONS_ANY);
	expect_only("group-companions-bind", VH_WARNING, "0000:00:1f.3", NULL);
	assert_true(T.rep.devs[0].companions_ok);

	/* A card's functions behind a root port are one device. */
	host(GPU_HOST GPU_AUDIO);
	run_with(&d, NULL, VH_COMPANIONS_SAME_DEVICE);
	d = gpu_dom(NULL);
	run_with(&d, NULL, VH_COMPANIONS_SAME_DEVICE);
	expect_only("group-companions-bind", VH_WARNING, "0000:01:00.0", NULL);
}

/* A would-be companion the host uses is never bound. */
static void companion_in_use(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = gpu_dom(NULL);

	host(GPU_HOST "0000:01:00.1 id=8086:2922 class=0x010601 pcie driver=ahci "
		      "group=1\n"
		      "block sda pci=0000:01:00.1 dev=8:0\n"
		      "mount sda /data\n");
	run_with(&d, NULL, VH_COMPANIONS_SAME_DEVICE);
	f = expect_rule("device-in-use", VH_ERROR, "0000:01:00.1", "unmount /data");
	assert_non_null(strstr(f->message, "/dev/sda is mounted on /data."));
	assert_non_null(strstr(f->message, "IOMMU group 1"));
	f = expect_rule("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);
	assert_non_null(strstr(f->message, "ahci, in use by the host"));
	assert_false(T.rep.devs[0].companions_ok);
	assert_int_equal(vh_report_n_refusing_in_warn(&T.rep), 1);
	/* 'any' does not take it either */
	run_with(&d, NULL, VH_COMPANIONS_ANY);
	expect_rule("device-in-use", VH_ERROR, "0000:01:00.1", NULL);
	expect_rule("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);
	assert_false(T.rep.devs[0].companions_ok);
}

/* The hostdev itself: a mounted disk's controller refused, in mode warn
 * too; unmounted, accepted. */
static void hostdev_in_use(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = gpu_dom(HOSTDEV("0x03", "0x00", "0x0"));
	const char *ctl = "0000:03:00.0 id=1b4b:9215 class=0x010601 pcie "
			  "driver=ahci group=3\n"
			  "block sdb pci=0000:03:00.0 dev=8:16\n"
			  "block sdb1 part=sdb dev=8:17\n";
	char spec[512];

	snprintf(spec, sizeof(spec), "%smount sdb1 /srv\n", ctl);
	host(spec);
	run(&d);
	f = expect_only("device-in-use", VH_ERROR, "0000:03:00.0",
			"unmount /srv, or pass another disk's controller");
	assert_non_null(strstr(f->message, "/dev/sdb1 is mounted on /srv."));
	assert_non_null(strstr(f->why, "mode warn"));
	assert_int_equal(vh_report_n_refusing_in_warn(&T.rep), 1);
	assert_true(vh_rule_lookup("device-in-use")->refuses_in_warn);
	assert_false(vh_rule_lookup("group-not-viable")->refuses_in_warn);
	assert_null(vh_rule_lookup("no-such-rule"));

	host(ctl);
	run(&d);
	expect_none();
	assert_int_equal(vh_report_n_refusing_in_warn(&T.rep), 0);

	/* The boot GPU's console: a warning only, never refusing. */
	host("0000:01:00.0 id=10de:2204 class=0x030000 msix=8 pcie "
	     "driver=nouveau group=1 boot_vga\nfbcon\n");
	d = gpu_dom(NULL);
	run(&d);
	f = expect_only("device-in-use", VH_WARNING, "0000:01:00.0", "single-GPU passthrough");
	assert_int_equal(vh_report_n_refusing_in_warn(&T.rep), 0);
}

static void unrelated_endpoint_not_viable(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = gpu_dom(NULL);

	host(GPU_HOST NIC_IN_GROUP);
	run(&d);
	f = expect_only("group-not-viable", VH_ERROR, "0000:01:00.0",
			"<hostdev mode='subsystem' type='pci' managed='yes'>");
	assert_true(has_device(f, "0000:02:00.0"));
	assert_non_null(strstr(f->message, "0000:02:00.0"));
	assert_non_null(strstr(f->message, "igb"));
	assert_non_null(strstr(f->fix, "bus='0x02' slot='0x00' "
				       "function='0x0'"));

	/* GPU, its audio function and a NIC: all listed, not viable. */
	host(GPU_HOST GPU_AUDIO NIC_IN_GROUP);
	run(&d);
	f = expect_only("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);
	assert_true(has_device(f, "0000:01:00.1"));
	assert_true(has_device(f, "0000:02:00.0"));
	assert_non_null(strstr(f->fix, "bus='0x01' slot='0x00' "
				       "function='0x1'"));
}

static void harmless_group_members(void **state UNUSED)
{
	struct dom d = gpu_dom(NULL);
	static const char *const members[] = {
	    /* a PCIe root port (header type 1) on pcieport */
	    "0000:00:01.0 id=8086:1901 class=0x060400 bridge pcie=4 "
	    "driver=pcieport group=1\n",
	    /* a driverless endpoint */
	    "0000:02:00.0 id=8086:1533 class=0x020000 msix=5 pcie group=1\n",
	    /* already on vfio-pci */
	    "0000:02:00.0 id=8086:1533 class=0x020000 msix=5 pcie "
	    "driver=vfio-pci group=1\n",
	    /* on pci-stub */
	    "0000:02:00.0 id=8086:1533 class=0x020000 msix=5 pcie "
	    "driver=pci-stub group=1\n",
	    /* on a vfio variant driver */
	    "0000:02:00.0 id=15b3:101e class=0x020000 msix=5 pcie "
	    "driver=mlx5_vfio_pci group=1\n",
	};

	for (size_t i = 0; i < sizeof(members) / sizeof(*members); i++) {
		char spec[512];
		snprintf(spec, sizeof(spec), "%s%s", GPU_HOST, members[i]);
		host(spec);
		run(&d);
		assert_int_equal(T.rep.devs[0].n_group, 2);
		expect_none();
	}
}

static void policy_any(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = gpu_dom(NULL);

	host(GPU_HOST NIC_IN_GROUP);
	run_with(&d, NULL, VH_COMPANIONS_ANY);
	f = expect_only("group-companions-bind", VH_WARNING, "0000:01:00.0", NULL);
	assert_true(has_device(f, "0000:02:00.0"));
	assert_non_null(strstr(f->why, "'any'"));

	/* same-device keeps it an error */
	run_with(&d, NULL, VH_COMPANIONS_SAME_DEVICE);
	expect_only("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);

	/* The nvidia-gpu profile's same-device policy wins over 'any'. */
	run_with(&d, &profiles, VH_COMPANIONS_ANY);
	expect_only("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);
}

static void policy_refuse(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = gpu_dom(NULL);

	host(GPU_HOST GPU_AUDIO);
	run_with(&d, NULL, VH_COMPANIONS_REFUSE);
	f = expect_only("group-not-viable", VH_ERROR, "0000:01:00.0", "function='0x1'");
	assert_true(has_device(f, "0000:01:00.1"));
	assert_non_null(strstr(f->why, "refuse"));

	/* The AIC100 profile refuses companions whatever the option says. */
	host(AIC_HOST "0000:01:00.1 id=17cb:a100 class=0x120000 msi=32 pcie "
		      "driver=qaic group=1\n");
	d = aic(NULL);
	run_with(&d, &profiles, VH_COMPANIONS_ANY);
	expect_only("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);
}

static void group_reported_once(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = gpu_dom(HD01 HOSTDEV("0x01", "0x00", "0x1"));

	host(GPU_HOST GPU_AUDIO NIC_IN_GROUP);
	run(&d);
	f = expect_only("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);
	assert_true(has_device(f, "0000:02:00.0"));
	assert_false(has_device(f, "0000:01:00.1"));
}

/* The companions a hook would bind, as the report lists them for it. */
static void companions_in_report(void **state UNUSED)
{
	struct dom d = gpu_dom(NULL);
	char a[VH_PCI_ADDR_LEN];

	host(GPU_HOST GPU_AUDIO);
	run(&d);
	assert_int_equal(T.rep.devs[0].n_companions, 1);
	vh_pci_addr_format(&T.rep.devs[0].companions[0], a);
	assert_string_equal(a, "0000:01:00.1");
	assert_true(T.rep.devs[0].companions_ok);

	host(GPU_HOST GPU_AUDIO NIC_IN_GROUP);
	run(&d);
	assert_int_equal(T.rep.devs[0].n_companions, 2);
	vh_pci_addr_format(&T.rep.devs[0].companions[1], a);
	assert_string_equal(a, "0000:02:00.0");
	assert_false(T.rep.devs[0].companions_ok);

	/* vfio-pci and driverless members are no companions. */
	host(GPU_HOST "0000:01:00.1 id=10de:1aef class=0x040300 pcie driver=vfio-pci "
		      "group=1\n"
		      "0000:02:00.0 id=8086:1533 class=0x020000 pcie group=1\n");
	run(&d);
	assert_int_equal(T.rep.devs[0].n_companions, 0);
}

/* --- guests the x86 rules do not apply to --- */

static void aarch64_no_x86_rules(void **state UNUSED)
{
	struct dom d = {.arch = "aarch64",
			.machine = "virt",
			.features = "<gic version='3'/>",
			.hostdevs = HD01};

	host(AIC_HOST);
	run(&d);
	expect_none();

	d.devices = "<iommu model='smmuv3'/>";
	run(&d);
	expect_none();

	/* A multi-MSI device without a profile: no x86 requirements. */
	host(XHCI("msi=16"));
	d.hostdevs = HOSTDEV("0x06", "0x00", "0x0");
	run(&d);
	expect_none();

	/* The host rules still apply. */
	host("0000:01:00.0 id=17cb:a100 class=0x120000 msi=32 pcie\n");
	d.hostdevs = HD01;
	run(&d);
	expect_only("host-iommu-off", VH_ERROR, "0000:01:00.0", NULL);
}

/* Regression (fixed): viommu-misplaced ignores the guest architecture: for an
 * aarch64 guest with an <iommu> under <features> it reports an ERROR that the
 * AIC100 "needs an emulated Intel IOMMU" and proposes
 * <iommu model='intel'>, which libvirt refuses on aarch64, although the
 * x86 requirements do not apply to this guest (needs_apply is false).
 * Fix (lib/check.c:474, rule_viommu_misplaced): collect the needers only
 * when needs_apply(c), so the finding stays a warning without devices, and
 * propose iommu_xml(c) only when needs_apply(c) (otherwise: move the
 * element as written).  Verified: both changes make this test pass. */
static void aarch64_misplaced_iommu_not_intel(void **state UNUSED)
{
	struct dom d = {.arch = "aarch64",
			.machine = "virt",
			.features = "<gic version='3'/><iommu model='smmuv3'/>",
			.hostdevs = HD01};
	const struct vh_finding *f;

	host(AIC_HOST);
	run(&d);
	f = find("viommu-misplaced");
	if (f) {
		bool intel = f->fix && strstr(f->fix, "model='intel'");
		enum vh_severity sev = f->severity;
		if (sev == VH_ERROR || intel)
			dump();
		assert_int_not_equal(sev, VH_ERROR);
		assert_false(intel);
	}
	expect_no_rule("viommu-missing");
	expect_no_rule("machine-q35");
	expect_no_rule("ioapic-split");
}

static void xen_no_x86_rules(void **state UNUSED)
{
	struct dom d = {.type = "xen", .machine = "xenfv", .hostdevs = HD01};

	host(AIC_HOST);
	run(&d);
	expect_none();

	d.type = "kvm";
	run(&d);
	expect_rule("machine-q35", VH_ERROR, "0000:01:00.0", NULL);
	expect_rule("viommu-missing", VH_ERROR, "0000:01:00.0", NULL);
	expect_rule("ioapic-split", VH_ERROR, "0000:01:00.0", NULL);

	d.type = "qemu";
	run(&d);
	expect_rule("machine-q35", VH_ERROR, "0000:01:00.0", NULL);
}

static void xen_pv_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = {.type = "xen", .os = "xen", .hostdevs = HD01};

	/* A dom0 shows no IOMMU groups: no host-iommu-off on Xen. */
	host("0000:01:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
	     "driver=qaic\n"
	     "0000:02:00.0 id=8086:10d3 class=0x020000 msix=5 pcie "
	     "driver=e1000e\n");
	run(&d);
	f = expect_only("xen-pv-unsupported", VH_ERROR, "0000:01:00.0",
			"<type arch='x86_64' machine='xenfv'>hvm</type>");
	assert_non_null(strstr(f->message, "Xen PV guest (<type>xen</type>)"));
	assert_non_null(strstr(f->why, "<xen guest='hvm'/>"));
	d.os = "xenpvh";
	run(&d);
	f = expect_only("xen-pv-unsupported", VH_ERROR, "0000:01:00.0", NULL);
	assert_non_null(strstr(f->message, "Xen PVH guest"));
	/* A device no profile restricts is fine in a PV guest. */
	d.hostdevs = HOSTDEV("0x02", "0x00", "0x0");
	run(&d);
	expect_none();
	/* The same PV domain under QEMU's rules is not judged by Xen's. */
	d.type = "kvm";
	d.hostdevs = HD01;
	run(&d);
	assert_null(find("xen-pv-unsupported"));
}

/* --- checking reads only what it needs --- */

static void unrelated_broken_devices_ignored(void **state UNUSED)
{
	struct dom d = aic(NULL);
	char p[4200];

	host(AIC_HOST "0000:03:00.0 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "
		      "group=3\n"
		      "0000:04:00.0 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "
		      "group=4\n"
		      "0000:05:00.0 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "
		      "group=5\n");
	/* 03:00.0: config is a directory, vendor (and modalias) garbage. */
	break_config("0000:03:00.0");
	assert_int_equal(
	    fakesys_put(T.root, "sys/bus/pci/devices/0000:03:00.0/vendor", "\x01\x02garbage"), 0);
	assert_int_equal(
	    fakesys_put(T.root, "sys/bus/pci/devices/0000:03:00.0/modalias", "pci:garbage"), 0);
	/* 04:00.0: its sysfs link loops. */
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:04:00.0", T.root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("0000:04:00.0", p), 0);
	/* 05:00.0: its directory is not readable, and its group is gone. */
	snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/5", T.root);
	assert_int_equal(fakesys_rmrf(p), 0);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:05:00.0/", T.root);
	assert_int_equal(chmod(p, 0), 0);
	/* an unrelated file where a directory is expected */
	assert_int_equal(fakesys_put(T.root, "sys/kernel/iommu_groups/9", "not a directory"), 0);

	run(&d);
	expect_none();
	assert_int_equal(T.rep.devs[0].dev.err, 0);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:05:00.0/", T.root);
	chmod(p, 0755);
}

static void broken_group_member_is_read(void **state UNUSED)
{
	struct dom d = gpu_dom(NULL);

	/* The members of the hostdev's group are read: a member whose
	 * config is unreadable is still judged by its driver. */
	host(GPU_HOST NIC_IN_GROUP);
	break_config("0000:02:00.0");
	run(&d);
	expect_only("group-not-viable", VH_ERROR, "0000:01:00.0", NULL);
}

/* --- output --- */

static void report_renderings(void **state UNUSED)
{
	struct dom d = aic(NULL);
	struct vh_buf b = {0};

	host(AIC_HOST);
	d.machine = "pc";
	run(&d);
	vh_report_text(&T.rep, &b);
	assert_non_null(strstr(vh_buf_str(&b), "error[machine-q35] "
					       "0000:01:00.0"));
	assert_non_null(strstr(vh_buf_str(&b), "guest: 1 error, 0 warnings"));
	assert_non_null(strstr(vh_buf_str(&b), "1 of 1 PCI hostdev checked"));
	vh_buf_done(&b);

	vh_report_json(&T.rep, &b);
	assert_non_null(strstr(vh_buf_str(&b), "\"rule\":\"machine-q35\""));
	assert_non_null(strstr(vh_buf_str(&b), "\"address\":\"0000:01:00.0\""));
	assert_non_null(strstr(vh_buf_str(&b), "\"profile\":\"qcom-aic100\""));
	assert_non_null(strstr(vh_buf_str(&b), "\"msi_vectors\":32"));
	assert_non_null(strstr(vh_buf_str(&b), "\"errors\":1"));
	assert_null(
	    strchr(vh_buf_str(&b), '\n') == vh_buf_str(&b) + b.len - 1 ? NULL : "embedded newline");
	vh_buf_done(&b);

	vh_report_oneline(&T.rep, VH_WARNING, &b);
	assert_non_null(strstr(vh_buf_str(&b), "[machine-q35] "));
	assert_non_null(strstr(vh_buf_str(&b), "machine='q35'"));
	/* one line per finding */
	assert_int_equal(strchr(vh_buf_str(&b), '\n') - vh_buf_str(&b) + 1, (long)b.len);
	vh_buf_done(&b);

	/* One finding: the same line, without its line break. */
	vh_finding_oneline(find("machine-q35"), &b);
	assert_non_null(strstr(vh_buf_str(&b), "[machine-q35] "));
	assert_null(strchr(vh_buf_str(&b), '\n'));
	vh_buf_done(&b);
}

static void catalog(void **state UNUSED)
{
	for (size_t i = 0; i < vh_n_rules; i++) {
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(vh_rule_id_to_string(vh_rules[i].id),
						vh_rule_id_to_string(vh_rules[j].id));
		assert_true(vh_rules[i].severity <= VH_ERROR);
		/* indexed by its id, with a textual id that finds it */
		assert_int_equal(vh_rules[i].id, i);
		assert_ptr_equal(vh_rule_lookup(vh_rule_id_to_string(vh_rules[i].id)),
				 &vh_rules[i]);
		/* a second severity is a different one, and says when */
		if (vh_rules[i].other.when)
			assert_int_not_equal(vh_rules[i].other.severity, vh_rules[i].severity);
		/* evaluated once: rules sharing a function are adjacent */
		assert_non_null(vh_rules[i].check);
		for (size_t j = 0; j + 1 < i; j++)
			if (vh_rules[j].check == vh_rules[i].check)
				assert_ptr_equal(vh_rules[i - 1].check, vh_rules[i].check);
		/* a bind fix only where the rule blocks a bind */
		assert_true(!vh_rules[i].bind_fix || vh_rules[i].blocks_bind);
	}
	assert_int_equal(vh_n_rules, _VH_RULE_MAX);
	assert_string_equal(vh_rule_id_to_string(VH_RULE_VIOMMU_MISPLACED), "viommu-misplaced");
	assert_string_equal(vh_rule_id_to_string(_VH_RULE_MAX), "?");
	assert_string_equal(vh_severity_name(VH_ERROR), "error");
	assert_string_equal(vh_severity_name(VH_WARNING), "warning");
	assert_string_equal(vh_severity_name(VH_INFO), "info");
	assert_string_equal(vh_severity_name((enum vh_severity)7), "?");
}

/* --- locked memory: libvirt's own tests (tests/qemumemlocktest.c and
 * tests/qemumemlockdata/qemumemlock-*.xml), their numbers in bytes. --- */

#define ML_HOST                                                                                    \
	"0001:01:00.0 id=10de:1db1 class=0x030200 msix=8 pcie "                                    \
	"driver=vfio-pci group=5\n"                                                                \
	"0001:02:00.0 id=10de:1db1 class=0x030200 msix=8 pcie "                                    \
	"driver=vfio-pci group=6\n"                                                                \
	"0001:03:00.0 id=10de:1db1 class=0x030200 msix=8 pcie "                                    \
	"driver=vfio-pci group=7 nvlink2\n"
#define ML_HOSTDEV(bus)                                                                            \
	"<hostdev mode='subsystem' type='pci' managed='yes'>"                                      \
	"<driver name='vfio'/><source><address domain='0x0001' bus='" bus                          \
	"' slot='0x00' function='0x0'/></source></hostdev>"

/* libvirt's test domain: 1 GiB, one vCPU. */
static void run_ml(const char *type, const char *arch, const char *machine, const char *memtune,
		   const char *devices)
{
	struct vh_err e = {0};
	int r;

	reset_check();
	r = asprintf(&T.xml,
		     "<domain type='%s'><name>guest</name>"
		     "<memory unit='KiB'>1048576</memory>%s%s%s"
		     "<vcpu placement='static'>1</vcpu><os>"
		     "<type arch='%s' machine='%s'>hvm</type></os>"
		     "<devices>%s</devices></domain>",
		     type, memtune ? "<memtune>" : "", memtune ? memtune : "",
		     memtune ? "</memtune>" : "", arch, machine, devices);
	assert_true(r > 0);
	r = vh_domain_parse(T.xml, strlen(T.xml), "guest.xml", &T.dom, &e);
	if (r < 0)
		fail_msg("domain: %s\n%s", e.msg, T.xml);
	assert_int_equal(vh_check_domain(T.sys, &profiles, T.dom, NULL, &T.rep), 0);
	T.have_rep = true;
}

/* The limit libvirt computes for the last domain, in bytes, with the
 * host facts the check derived. */
static unsigned long long ml_need_bytes(const struct vh_memlock_host *h)
{
	struct vh_memlock m;

	assert_int_equal(vh_memlock_need(T.dom, h, &m), 0);
	return m.kib * 1024;
}

static void expect_memlock_info(unsigned long long bytes)
{
	char want[64];
	const struct vh_finding *f = expect_only("memlock-too-low", VH_INFO, NULL, NULL);

	snprintf(want, sizeof(want), " %llu KiB ", bytes / 1024);
	if (!strstr(f->message, want))
		fail_msg("memlock info does not say%s: %s", want, f->message);
}

static void memlock_libvirt_pc(void **state UNUSED)
{
	static const struct vh_memlock_host one_group = {1, false};

	host(ML_HOST);
	/* pc-kvm, pc-tcg: 0, nothing locked, nothing said. */
	run_ml("kvm", "x86_64", "pc", NULL, "");
	assert_int_equal(ml_need_bytes(NULL), 0);
	expect_none();
	run_ml("qemu", "x86_64", "pc", NULL, "");
	assert_int_equal(ml_need_bytes(NULL), 0);
	expect_none();
	/* pc-hostdev: 2147483648. */
	run_ml("kvm", "x86_64", "pc", NULL, ML_HOSTDEV("0x01"));
	assert_int_equal(ml_need_bytes(&one_group), 2147483648ULL);
	expect_memlock_info(2147483648ULL);
	/* pc-hostdev-nvme: 3221225472 (the NVMe disk counts on its own). */
	run_ml("kvm", "x86_64", "pc", NULL,
	       "<disk type='nvme' device='disk'><driver name='qemu' "
	       "type='raw'/><source type='pci' managed='yes' namespace='1'>"
	       "<address domain='0x0003' bus='0x02' slot='0x00' "
	       "function='0x0'/></source><target dev='vda' bus='virtio'/>"
	       "</disk>" ML_HOSTDEV("0x01"));
	assert_int_equal(ml_need_bytes(&one_group), 3221225472ULL);
	expect_memlock_info(3221225472ULL);
	/* pc-hardlimit+hostdev: the hard limit, 2147483648, is just
	 * enough. */
	run_ml("kvm", "x86_64", "pc", "<hard_limit unit='KiB'>2097152</hard_limit>",
	       ML_HOSTDEV("0x01"));
	expect_none();
	/* One KiB less is not. */
	run_ml("kvm", "x86_64", "pc", "<hard_limit unit='KiB'>2097151</hard_limit>",
	       ML_HOSTDEV("0x01"));
	expect_only("memlock-too-low", VH_ERROR, NULL,
		    "<memtune><hard_limit unit='KiB'>2097152</hard_limit>"
		    "</memtune>");
	/* pc-hardlimit (no hostdev): nothing to lock, nothing said. */
	run_ml("kvm", "x86_64", "pc", "<hard_limit unit='KiB'>2097152</hard_limit>", "");
	expect_none();
}

static void memlock_libvirt_locked(void **state UNUSED)
{
	host(ML_HOST);
	/* pc-locked+hostdev, pseries-locked+hostdev: unlimited. */
	reset_check();
	T.xml = strdup("<domain type='kvm'><name>guest</name>"
		       "<memory unit='KiB'>1048576</memory>"
		       "<memoryBacking><locked/></memoryBacking>"
		       "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
		       "<devices>" ML_HOSTDEV("0x01") "</devices></domain>");
	{
		struct vh_err e = {0};
		assert_int_equal(vh_domain_parse(T.xml, strlen(T.xml), "g", &T.dom, &e), 0);
		assert_true(T.dom->mem_locked);
		assert_int_equal(vh_check_domain(T.sys, &profiles, T.dom, NULL, &T.rep), 0);
		T.have_rep = true;
	}
	expect_none();
}

static void memlock_viommu_per_device(void **state UNUSED)
{
	static const struct vh_memlock_host h = {2, false};

	host(ML_HOST);
	/* Without a vIOMMU two devices share one mapping: 2 GiB. */
	run_ml("kvm", "x86_64", "q35", NULL, ML_HOSTDEV("0x01") ML_HOSTDEV("0x02"));
	assert_int_equal(ml_need_bytes(&h), 2147483648ULL);
	expect_memlock_info(2147483648ULL);
	/* With one each maps all memory: 2 * 1 GiB + 1 GiB. */
	run_ml("kvm", "x86_64", "q35", NULL,
	       "<iommu model='intel'><driver intremap='on' "
	       "caching_mode='on'/></iommu>" ML_HOSTDEV("0x01") ML_HOSTDEV("0x02"));
	assert_int_equal(ml_need_bytes(&h), 3221225472ULL);
	expect_rule("memlock-too-low", VH_INFO, NULL, NULL);
	assert_non_null(strstr(find("memlock-too-low")->message, "3145728"));
}

static void memlock_libvirt_pseries(void **state UNUSED)
{
	host(ML_HOST);
	/* pseries-kvm: 20971520, the hash table and the default PHB's DMA
	 * window; no device, so nothing said. */
	run_ml("kvm", "ppc64", "pseries", NULL, "");
	assert_int_equal(ml_need_bytes(NULL), 20971520ULL);
	expect_none();
	/* pseries-tcg: 0. */
	run_ml("qemu", "ppc64", "pseries", NULL, "");
	assert_int_equal(ml_need_bytes(NULL), 0);
	/* pseries-hostdev: 4320133120 (the device isolated on a 2nd PHB). */
	run_ml("kvm", "ppc64", "pseries", NULL, ML_HOSTDEV("0x01"));
	expect_memlock_info(4320133120ULL);
	/* pseries-hardlimit+hostdev: libvirt takes the 2 GiB hard limit as
	 * it is, below the 4320133120 the device needs: an error here. */
	run_ml("kvm", "ppc64", "pseries", "<hard_limit unit='KiB'>2097152</hard_limit>",
	       ML_HOSTDEV("0x01"));
	expect_only("memlock-too-low", VH_ERROR, NULL,
		    "<hard_limit unit='KiB'>4218880</hard_limit>");
	/* pseries-hardlimit (no hostdev): 2 GiB covers 20971520. */
	run_ml("kvm", "ppc64", "pseries", "<hard_limit unit='KiB'>2097152</hard_limit>", "");
	expect_none();
}

static void memlock_pseries_nvlink2(void **state UNUSED)
{
	host(ML_HOST);
	/* An NVLink2 GPU: the passthrough window covers the GPU RAM up to
	 * 128 TiB: maxMemory + 2^28 KiB * PHBs + 8192, so with 2 PHBs
	 * 24576 + 1048576 + 536870912 + 8192 KiB. */
	run_ml("kvm", "ppc64", "pseries", NULL, ML_HOSTDEV("0x03"));
	expect_memlock_info((24576ULL + 1048576 + 536870912 + 8192) * 1024);
	/* The same device without the device-tree properties. */
	run_ml("kvm", "ppc64le", "pseries", NULL, ML_HOSTDEV("0x02"));
	expect_memlock_info(4320133120ULL);
	/* Two groups: three PHBs.  base 8192+12288+8192, window 6 GiB. */
	run_ml("kvm", "ppc64", "pseries", NULL, ML_HOSTDEV("0x01") ML_HOSTDEV("0x02"));
	expect_memlock_info((28672ULL + 6291456) * 1024);
	/* Explicit PHBs count (libvirt's formula without isolation). */
	{
		struct vh_memlock m;
		struct vh_domain d = {.arch = (char *)"ppc64",
				      .virt_type = (char *)"kvm",
				      .memory_kib = 1048576,
				      .max_memory_kib = 4194304,
				      .n_phbs = 4};
		assert_int_equal(vh_memlock_need(&d, NULL, &m), 0);
		/* 4194304/128 + 4*4096 + 8192, no device: no window. */
		assert_int_equal(m.kib, 32768 + 16384 + 8192);
	}
}

/* libvirt aligns the memory before it computes the limit
 * (qemuDomainAlignMemorySizes): 1 MiB (DIMMs 2 MiB), 256 MiB on ppc64. */
static void parse_ml(const char *xml)
{
	struct vh_err e = {0};

	reset_check();
	T.xml = strdup(xml);
	assert_non_null(T.xml);
	if (vh_domain_parse(T.xml, strlen(T.xml), "guest.xml", &T.dom, &e) < 0)
		fail_msg("domain: %s\n%s", e.msg, T.xml);
	assert_int_equal(vh_check_domain(T.sys, &profiles, T.dom, NULL, &T.rep), 0);
	T.have_rep = true;
}

static void memlock_memory_alignment(void **state UNUSED)
{
	struct vh_memlock m;

	host(ML_HOST);
	/* 219100 KiB: libvirt locks 219136 + 1048576 KiB. */
	parse_ml("<domain type='kvm'><name>guest</name>"
		 "<memory>219100</memory><os><type arch='x86_64' "
		 "machine='q35'>hvm</type></os><devices>" ML_HOSTDEV("0x01") "</devices></domain>");
	assert_int_equal(ml_need_bytes(NULL), 1267712ULL * 1024);
	expect_memlock_info(1267712ULL * 1024);
	assert_non_null(strstr(find("memlock-too-low")->why,
			       "memory 219136 KiB + 1 GiB for MMIO (the 219100 "
			       "KiB written, which libvirt rounds up to a "
			       "multiple of 1 MiB)"));
	/* NUMA: each cell rounded up to 1 MiB, each DIMM to 2 MiB, and
	 * <memory> ignored: 219136 + 1024 + 2048 + 1048576 KiB. */
	parse_ml(
	    "<domain type='kvm'><name>guest</name>"
	    "<memory>99</memory><cpu><numa>"
	    "<cell id='0' cpus='0' memory='219100'/>"
	    "<cell id='1' cpus='1' memory='1000'/></numa></cpu>"
	    "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
	    "<devices><memory model='dimm'><target><size unit='KiB'>1025"
	    "</size><node>0</node></target></memory>" ML_HOSTDEV("0x01") "</devices></domain>");
	assert_int_equal(vh_memlock_need(T.dom, NULL, &m), 0);
	assert_int_equal(m.memory_kib, 219136 + 1024 + 2048);
	assert_int_equal(m.kib, 219136 + 1024 + 2048 + 1048576);
	expect_memlock_info((219136ULL + 1024 + 2048 + 1048576) * 1024);
	/* Without cells <memory> includes the DIMMs: the initial memory,
	 * 1050001 - 1025 KiB, is rounded up on its own. */
	parse_ml("<domain type='kvm'><name>guest</name>"
		 "<memory>1050001</memory><os><type arch='x86_64' "
		 "machine='q35'>hvm</type></os><devices><memory model='dimm'>"
		 "<target><size unit='KiB'>1025</size><node>0</node></target>"
		 "</memory>" ML_HOSTDEV("0x01") "</devices></domain>");
	assert_int_equal(vh_memlock_need(T.dom, NULL, &m), 0);
	assert_int_equal(m.memory_kib, 1049600 + 2048);
	/* Aligned already (what libvirt gives a running domain): as is. */
	parse_ml("<domain type='kvm'><name>guest</name>"
		 "<memory>1051648</memory><os><type arch='x86_64' "
		 "machine='q35'>hvm</type></os><devices><memory model='dimm'>"
		 "<target><size unit='KiB'>2048</size><node>0</node></target>"
		 "</memory>" ML_HOSTDEV("0x01") "</devices></domain>");
	assert_int_equal(vh_memlock_need(T.dom, NULL, &m), 0);
	assert_int_equal(m.memory_kib, 1051648);
	assert_null(strstr(m.formula, "written"));
	/* ppc64: 256 MiB.  1000000 KiB is libvirt's 1 GiB test domain
	 * (pseries-hostdev, 4320133120 bytes) once aligned. */
	parse_ml(
	    "<domain type='kvm'><name>guest</name>"
	    "<memory>1000000</memory><os><type arch='ppc64' "
	    "machine='pseries'>hvm</type></os><devices>" ML_HOSTDEV("0x01") "</devices></domain>");
	expect_memlock_info(4320133120ULL);
	assert_non_null(strstr(find("memlock-too-low")->why, "rounds up to a multiple of 256 MiB"));
	/* ppc64 NUMA cells, maxMemory and a DIMM: 256 MiB each; an NVDIMM
	 * as written (libvirt aligns it down when it defines the domain). */
	{
		unsigned long long cells[] = {1, 262144};
		struct vh_memory_device devs[] = {{1, false}, {262144 + 128, true}};
		struct vh_domain d = {.arch = (char *)"ppc64le",
				      .virt_type = (char *)"kvm",
				      .memory_kib = 1 + 262144 + 1 + 262272,
				      .max_memory_kib = 4000000,
				      .numa_cells_kib = cells,
				      .n_numa_cells = 2,
				      .memory_devices = devs,
				      .n_memory_devices = 2};
		assert_int_equal(vh_memlock_need(&d, NULL, &m), 0);
		assert_int_equal(m.memory_kib, 3 * 262144 + 262272);
		assert_int_equal(m.max_memory_kib, 4194304);
		/* 4194304/128 + 4096 + 8192, no device: no window. */
		assert_int_equal(m.kib, 32768 + 4096 + 8192);
		assert_non_null(strstr(m.formula, "<maxMemory> 4000000 KiB "
						  "written"));
		/* The same on x86: 1 MiB, DIMMs (and NVDIMMs) 2 MiB. */
		d.arch = (char *)"x86_64";
		d.n_hostdevs = 1;
		assert_int_equal(vh_memlock_need(&d, NULL, &m), 0);
		assert_int_equal(m.memory_kib, 1024 + 262144 + 2048 + 264192);
		assert_int_equal(m.kib, m.memory_kib + 1048576);
	}
	/* Rounding up past 2^64 KiB. */
	{
		unsigned long long cells[] = {~0ULL};
		struct vh_domain d = {.arch = (char *)"x86_64",
				      .virt_type = (char *)"kvm",
				      .memory_kib = ~0ULL,
				      .numa_cells_kib = cells,
				      .n_numa_cells = 1,
				      .n_hostdevs = 1};
		assert_int_equal(vh_memlock_need(&d, NULL, &m), -ERANGE);
	}
}

static void memlock_overflow_and_garbage(void **state UNUSED)
{
	struct vh_memlock m;
	struct vh_domain d = {.arch = (char *)"x86_64",
			      .virt_type = (char *)"kvm",
			      .memory_kib = VH_MEMORY_MAX_KIB,
			      .has_iommu = true,
			      .n_hostdevs = 4096};

	assert_int_equal(vh_memlock_need(&d, NULL, &m), -ERANGE);
	d.arch = (char *)"ppc64";
	d.max_memory_kib = ~0ULL;
	d.n_phbs = ~0u;
	assert_int_equal(vh_memlock_need(&d, NULL, &m), -ERANGE);

	host(ML_HOST);
	static const char *const bad[] = {
	    "<hard_limit unit='KiB'>-1</hard_limit>",
	    "<hard_limit unit='KiB'>lots</hard_limit>",
	    "<hard_limit unit='parsecs'>1</hard_limit>",
	    "<hard_limit>99999999999999999999999999</hard_limit>",
	    "<hard_limit unit='EiB'>16</hard_limit>",
	    /* above libvirt's "unlimited" (2^53 - 1 KiB): refused */
	    "<hard_limit unit='KiB'>9007199254740992</hard_limit>",
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		run_ml("kvm", "x86_64", "pc", bad[i], ML_HOSTDEV("0x01"));
		expect_only("memlock-too-low", VH_ERROR, NULL, NULL);
		if (!strstr(find("memlock-too-low")->message, "<hard_limit"))
			fail_msg("%s: %s", bad[i], find("memlock-too-low")->message);
	}
	/* Exactly "unlimited": no limit, libvirt computes its own. */
	run_ml("kvm", "x86_64", "pc", "<hard_limit unit='KiB'>9007199254740991</hard_limit>",
	       ML_HOSTDEV("0x01"));
	expect_memlock_info(2147483648ULL);
	/* Units as libvirt scales them. */
	run_ml("kvm", "x86_64", "pc", "<hard_limit unit='G'>2</hard_limit>", ML_HOSTDEV("0x01"));
	expect_none();
	run_ml("kvm", "x86_64", "pc", "<hard_limit unit='GB'>2</hard_limit>", ML_HOSTDEV("0x01"));
	expect_only("memlock-too-low", VH_ERROR, NULL, "2097152");
	run_ml("kvm", "x86_64", "pc", "<hard_limit unit='bytes'>2147483648</hard_limit>",
	       ML_HOSTDEV("0x01"));
	expect_none();
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(catalog),
	    T_(every_rule_triggered_and_not),
	    T_(bad_address_details),
	    T_(duplicate_details),
	    T_(missing_details),
	    T_(unreadable_details),
	    T_(bridge_details),
	    T_(zero_address_details),
	    T_(iommu_off_details),
	    T_(aic100_page_is_clean),
	    T_(names_looked_up_when_reported),
	    T_(profiles_loaded_by_device),
	    T_(aic100_without_q35),
	    T_(aic100_without_ioapic),
	    T_(aic100_without_iommu),
	    T_(aic100_without_intremap),
	    T_(intremap_qemu_default),
	    T_(eim_qemu_default),
	    T_(unassigned_hostdev),
	    T_(network_hostdev_pool),
	    T_(aic100_without_caching_mode),
	    T_(aic100_without_iommu_driver),
	    T_(aic100_iommu_misplaced),
	    T_(misplaced_without_needs_is_warning),
	    T_(eim_details),
	    T_(no_hostdevs_no_findings),
	    T_(plain_device_behind_viommu),
	    T_(msi16_without_msix_needs_aic_setup),
	    T_(msi_with_msix_needs_nothing),
	    T_(gpu_audio_companion_bind),
	    T_(unrelated_endpoint_not_viable),
	    T_(chipset_no_companions),
	    T_(companion_in_use),
	    T_(hostdev_in_use),
	    T_(harmless_group_members),
	    T_(policy_any),
	    T_(policy_refuse),
	    T_(group_reported_once),
	    T_(companions_in_report),
	    T_(aarch64_no_x86_rules),
	    T_(aarch64_misplaced_iommu_not_intel),
	    T_(xen_no_x86_rules),
	    T_(xen_pv_details),
	    T_(unrelated_broken_devices_ignored),
	    T_(broken_group_member_is_read),
	    T_(report_renderings),
	    T_(memlock_libvirt_pc),
	    T_(memlock_libvirt_locked),
	    T_(memlock_viommu_per_device),
	    T_(memlock_libvirt_pseries),
	    T_(memlock_memory_alignment),
	    T_(memlock_pseries_nvlink2),
	    T_(memlock_overflow_and_garbage),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
