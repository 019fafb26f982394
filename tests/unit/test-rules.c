/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of vh_check_domain over fake sysroots: every rule of the
 * catalog triggered and not triggered, each in detail, non-x86 and Xen
 * guests, that checking reads only the hostdevs and their group members, and
 * the report's renderings.
 */
#include "fixture-rules.h"

/* --- every rule of the catalog --- */

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
    /* A Vega 10 without vendor-reset loaded. */
    {"kernel-module-missing",
     VH_ERROR,
     "0000:0f:00.0",
     "modprobe vendor-reset",
     {.machine = "q35", .hostdevs = HOSTDEV("0x0f", "0x00", "0x0")},
     {.machine = "q35", .hostdevs = HOSTDEV("0x08", "0x00", "0x0")}},
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
    /* 1 TiB of BAR above 16 GiB of RAM: more than QEMU's 40 address
     * bits hold for SeaBIOS; no /proc/cpuinfo, so the fix can only say how
     * many the host needs. */
    {"mmio-window",
     VH_ERROR,
     "0000:10:00.0",
     "<maxphysaddr mode='passthrough'/>",
     {.machine = "q35", .hostdevs = HOSTDEV("0x10", "0x00", "0x0")},
     {.machine = "q35", .hostdevs = HD01}},
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
	assert_int_equal(vh_n_rules, 26);
	for (size_t i = 0; i < vh_n_rules; i++) {
		const struct scenario *s = NULL;
		const struct vh_finding *f;

		/* Only a QEMU command line can trigger it: see
		 * test-qemuargs-rules.c. */
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

/* The rules whose fix Nova's settings write, or that say Nova cannot: a
 * new rule gets a Nova form of its fix where a Nova user could not apply
 * the XML fix (vh_rule_info.fix_nova), and is listed here. */
static void nova_fixes_listed(void **state UNUSED)
{
	static const char with_nova[] =
	    "bad-address device-duplicate device-missing sriov-numvfs-busy device-bridge device-in-use sriov-pf-assigned machine-q35 viommu-misplaced viommu-missing viommu-intremap viommu-caching-mode viommu-eim ioapic-split group-not-viable memlock-too-low mmio-window xen-pv-unsupported";
	struct vh_buf b = {0};

	for (size_t i = 0; i < vh_n_rules; i++) {
		const char *t = vh_rules[i].fix_nova;
		if (!t)
			continue;
		vh_buf_printf(&b, "%s%s", b.len ? " " : "", vh_rule_id_to_string(vh_rules[i].id));
		/* whole sentences, on lines of their own */
		assert_true(t[0] && t[0] != ' ' && t[0] != '\n');
		assert_true(t[strlen(t) - 1] == '.');
		assert_null(strstr(t, "\n "));
	}
	assert_string_equal(vh_buf_str(&b), with_nova);
	vh_buf_done(&b);
}

/* On a domain Nova wrote, each finding with a fix has its rule's Nova
 * form of it, and only there. */
static void every_rule_nova(void **state UNUSED)
{
	host(big_host);
	break_config("0000:0c:00.0");
	assert_int_equal(fakesys_put(T.root, "run/libvirt/network/vfs.xml",
				     "<networkstatus><network><name>vfs</name>"
				     "<forward mode='hostdev'><address type='pci' "
				     "domain='0' bus='1' slot='0' function='0'/>"
				     "</forward></network></networkstatus>"),
			 0);
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(*scenarios); i++) {
		const struct scenario *s = &scenarios[i];
		struct dom d = s->bad;
		const struct vh_finding *f;

		run(&d);
		for (size_t k = 0; k < T.rep.n_findings; k++)
			assert_null(T.rep.findings[k].fix_nova);
		d.metadata = NOVA_METADATA;
		run(&d);
		assert_true(T.dom->nova.present);
		f = expect_rule(s->rule, s->sev, s->addr, s->fix);
		for (size_t k = 0; k < T.rep.n_findings; k++) {
			f = &T.rep.findings[k];
			if (f->fix_nova != (f->fix ? vh_rules[f->id].fix_nova : NULL))
				fail_msg("%s: fix_nova %s", f->rule,
					 f->fix_nova ? f->fix_nova : "(none)");
		}
	}
}

/* --- each rule in detail --- */

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

/* A Vega 10 and its HDMI audio function: vendor-reset is the profile's
 * <kernel-module>, loaded when /sys/module/vendor_reset exists. */
static void kernel_module_details(void **state UNUSED)
{
	const struct vh_finding *f;
	struct dom d = {.machine = "q35", .hostdevs = HOSTDEV("0x0c", "0x00", "0x0")};

	host("0000:0c:00.0 id=1002:687f class=0x030000 msi=1 pcie driver=amdgpu group=15 "
	     "reset=bus\n"
	     "0000:0c:00.1 id=1002:aaf8 class=0x040300 msi=1 pcie driver=snd_hda_intel "
	     "group=15 reset=bus\n");
	run(&d);
	f = expect_rule("kernel-module-missing", VH_ERROR, "0000:0c:00.0", "dkms install");
	assert_int_equal(count("kernel-module-missing"), 1);
	assert_non_null(strstr(f->message, "[1002:687f] needs the kernel module vendor-reset"));
	assert_non_null(strstr(f->why, "profile 'amd-vendor-reset'"));
	assert_non_null(strstr(f->fix, "modprobe vendor-reset"));
	assert_non_null(strstr(f->fix, "/etc/modules-load.d/vendor-reset.conf"));
	assert_true(vh_rules[f->id].refuses_in_warn);
	/* The audio function goes with the GPU (same-device companion). */
	expect_rule("group-companions-bind", VH_WARNING, "0000:0c:00.0", NULL);

	/* Loaded: the kernel shows vendor-reset as vendor_reset. */
	assert_int_equal(fakesys_put(T.root, "sys/module/vendor_reset/refcnt", "0\n"), 0);
	run(&d);
	assert_null(find("kernel-module-missing"));
	expect_rule("group-companions-bind", VH_WARNING, "0000:0c:00.0", NULL);

	/* The audio function alone has no profile and needs no module. */
	host("0000:0c:00.0 id=1002:687f class=0x030000 msi=1 pcie driver=amdgpu group=15 "
	     "reset=bus\n"
	     "0000:0c:00.1 id=1002:aaf8 class=0x040300 msi=1 pcie driver=snd_hda_intel "
	     "group=15 reset=bus\n");
	d.hostdevs = HOSTDEV("0x0c", "0x00", "0x1");
	run(&d);
	assert_null(find("kernel-module-missing"));
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

/* With Nova's metadata: the Nova fix beside the XML one, in every
 * rendering; the flavor and image named where it goes. */
static void report_renderings_nova(void **state UNUSED)
{
	struct dom d = aic(NULL);
	struct vh_buf b = {0};
	const char *s;

	host(AIC_HOST);
	d.machine = "pc";
	d.metadata = NOVA_METADATA;
	run(&d);
	vh_report_text(&T.rep, &b);
	s = vh_buf_str(&b);
	assert_non_null(
	    strstr(s, "  Fix, in <os>:\n    <type arch='x86_64' machine='q35'>hvm</type>\n"));
	assert_non_null(strstr(
	    s,
	    "\n  Fix, in OpenStack Nova (flavor 'm1.aic', image fe55c69a-8b2e-4bbc-811a-9ad2023a0426):\n    image property hw_machine_type=q35, "));
	assert_non_null(strstr(s, "\n    Since Nova 23.0.0 (Wallaby) "));
	vh_buf_done(&b);

	vh_report_json(&T.rep, &b);
	s = vh_buf_str(&b);
	assert_non_null(strstr(
	    s,
	    "\"nova\":{\"namespace\":\"http://openstack.org/xmlns/libvirt/nova/1.1\",\"flavor\":\"m1.aic\",\"image\":\"fe55c69a-8b2e-4bbc-811a-9ad2023a0426\"}"));
	assert_non_null(strstr(s, "\"fix_nova\":\"image property hw_machine_type=q35, "));
	assert_true(strchr(s, '\n') == s + b.len - 1);
	vh_buf_done(&b);

	vh_finding_oneline(find("machine-q35"), &b);
	s = vh_buf_str(&b);
	assert_non_null(
	    strstr(s, "<type arch='x86_64' machine='q35'>hvm</type> (an existing guest"));
	assert_non_null(
	    strstr(s, " Fix, in OpenStack Nova: image property hw_machine_type=q35, or for new "));
	assert_non_null(strstr(s, "(Nova's x86 default is pc). Since Nova 23.0.0"));
	assert_null(strchr(s, '\n'));
	vh_buf_done(&b);

	/* Neither flavor nor image: just Nova. */
	d.metadata = "<nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.0'/>";
	run(&d);
	vh_report_text(&T.rep, &b);
	assert_non_null(strstr(vh_buf_str(&b), "\n  Fix, in OpenStack Nova:\n"));
	vh_buf_done(&b);
	vh_report_json(&T.rep, &b);
	assert_non_null(strstr(vh_buf_str(&b), "\"flavor\":null,\"image\":null}"));
	vh_buf_done(&b);

	/* Without: no trace of Nova. */
	d.metadata = NULL;
	run(&d);
	vh_report_text(&T.rep, &b);
	assert_null(strstr(vh_buf_str(&b), "Nova"));
	vh_buf_done(&b);
	vh_report_json(&T.rep, &b);
	assert_null(strstr(vh_buf_str(&b), "\"nova\""));
	assert_null(strstr(vh_buf_str(&b), "fix_nova"));
	vh_buf_done(&b);
	vh_report_oneline(&T.rep, VH_INFO, &b);
	assert_null(strstr(vh_buf_str(&b), "Nova"));
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
	    T_(aarch64_no_x86_rules),
	    T_(aarch64_misplaced_iommu_not_intel),
	    T_(xen_no_x86_rules),
	    T_(xen_pv_details),
	    T_(kernel_module_details),
	    T_(unrelated_broken_devices_ignored),
	    T_(broken_group_member_is_read),
	    T_(report_renderings),
	    T_(report_renderings_nova),
	    T_(nova_fixes_listed),
	    T_(every_rule_nova),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
