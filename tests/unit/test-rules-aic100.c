/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of vh_check_domain for the AIC100 vendor configuration and each
 * of its parts (q35, I/O APIC, vIOMMU and its properties), and for
 * multi-vector MSI devices without a profile.
 */
#include "fixture-rules.h"

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
	vh_sys_set_namer(T.sys, counting_namer);
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
	vh_sys_set_namer(T.sys, counting_namer);
	n_named = 0;
	d = aic(HD01 HOSTDEV("0x05", "0x00", "0x0"));
	d.machine = "pc-i440fx-7.2";
	run(&d);
	f = find("machine-q35");
	assert_non_null(f);
	assert_non_null(strstr(f->message, "Modela100 at 0000:01:00.0"));
	assert_non_null(strstr(f->message, "Modela100 at 0000:05:00.0"));
	assert_int_equal(n_named, 2);
	vh_sys_set_namer(T.sys, NULL);
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

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
