/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the test-rules*.c files (vh_check_domain over fake
 * sysroots): the shipped profiles, the per-test state, the fake host, the
 * domain to check and what to expect of its report.
 */
#ifndef VH_TESTS_UNIT_FIXTURE_RULES_H
#define VH_TESTS_UNIT_FIXTURE_RULES_H

/* Not every test file of the family uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/check.h"
#include "../../lib/domain.h"
#include "../../lib/memlock.h"
#include "../../lib/profile.h"
#include "../fakesys.h"

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
	if (hx_profiles_load(&profiles) < 0)
		return -1;
	if (profiles.n != 6) {
		fprintf(stderr, "expected 6 shipped profiles, got %zu\n", profiles.n);
		return -1;
	}
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
	hx_rmroot(&T.root);
	memset(&T, 0, sizeof(T));
	return 0;
}

/* Build the fake host. */
static void host(const char *spec)
{
	hx_host(&T.root, &T.sys, spec);
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
	/* Inside <metadata>; NULL: no <metadata>. */
	const char *metadata;
};

/* What Nova's libvirt driver writes of an instance. */
#define NOVA_METADATA                                                                              \
	"<nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"                 \
	"<nova:name>vm</nova:name><nova:flavor name='m1.aic'/>"                                    \
	"<nova:root type='image' uuid='fe55c69a-8b2e-4bbc-811a-9ad2023a0426'/>"                    \
	"</nova:instance>"

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
		     "  <name>guest</name>%s%s%s\n"
		     "  <memory unit='GiB'>16</memory><memtune>%s</memtune>\n"
		     "  <vcpu placement='static'>%u</vcpu>\n"
		     "  <os>\n"
		     "    <type arch='%s'%s%s%s>%s</type>\n"
		     "  </os>\n"
		     "  <features>%s</features>\n"
		     "  <devices>\n%s\n%s  </devices>\n"
		     "</domain>\n",
		     d->type ? d->type : "kvm", d->metadata ? "<metadata>" : "",
		     d->metadata ? d->metadata : "", d->metadata ? "</metadata>" : "",
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

/* Hosts several test files build. */

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
    /* an AMD Vega 10, whose profile needs vendor-reset (not loaded) */
    "0000:0f:00.0 id=1002:687f class=0x030000 msi=1 pcie driver=vfio-pci "
    "group=15\n"
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
    /* a GPU with 1 TiB of 64-bit prefetchable BAR */
    "0000:10:00.0 id=10de:2331 class=0x030200 msix=8 pcie driver=vfio-pci "
    "group=16 bar0=32:16M bar1=64:pref:1T\n"
    "net eno1 pci=0000:0d:00.0 up\n"
    "addr eno1 192.168.1.20/24\n"
    "route eno1 default via 192.168.1.1\n"
    "net eno2 pci=0000:0e:00.0\n";

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

#define XHCI(extra)                                                                                \
	"0000:06:00.0 id=1033:0194 class=0x0c0330 pcie driver=xhci_hcd "                           \
	"group=6 " extra "\n"

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

#endif
