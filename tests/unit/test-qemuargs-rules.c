/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of vh_check_domain giving command-line fixes for a QEMU command
 * line over a fake sysroot.
 */
#include "fixture-qemuargs.h"

/* --- the rules, over a fake sysroot, in the QEMU dialect --- */

static const char *const aic_host =
    "0000:00:1c.0 id=8086:a338 class=0x060400 bridge pcie=4 "
    "driver=pcieport group=2\n"
    "0000:01:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=vfio-pci group=1\n"
    "0000:02:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=qaic group=3\n"
    "0000:03:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=vfio-pci group=4\n"
    "0000:03:00.1 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "
    "group=4\n"
    "0000:04:00.0 id=17cb:a100 class=0x120000 msi=32 pcie group=5\n";

static void host(const char *spec)
{
	tmpdir();
	hx_build(T.root, &T.sys, spec);
}

static void dump(void)
{
	struct vh_buf b = {0};

	vh_report_text(&T.rep, &b);
	fprintf(stderr, "---- report ----\n%s----------------\n", vh_buf_str(&b));
	vh_buf_done(&b);
}

static void check_with(bool require_bound, int argc, char **argv)
{
	struct vh_check_opts o = {.companions = VH_COMPANIONS_SAME_DEVICE,
				  .require_bound = require_bound};

	if (!T.sys)
		host(aic_host);
	parse_ok(argc, argv);
	assert_int_equal(vh_check_domain(T.sys, &profiles, T.dom, &o, &T.rep), 0);
	T.have_rep = true;
}
#define CHECK(...) check_with(false, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))
#define CHECK_BOUND(...) check_with(true, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

static const struct vh_finding *find(const char *rule)
{
	for (size_t i = 0; i < T.rep.n_findings; i++)
		if (streq(T.rep.findings[i].rule, rule))
			return &T.rep.findings[i];
	return NULL;
}

static const struct vh_finding *expect_rule(const char *rule, const char *fix)
{
	const struct vh_finding *f = find(rule);

	if (!f) {
		dump();
		fail_msg("no %s finding", rule);
	}
	if (fix && (!f->fix || !strstr(f->fix, fix))) {
		dump();
		fail_msg("%s: fix does not contain \"%s\": %s", rule, fix,
			 f->fix ? f->fix : "(none)");
	}
	return f;
}

static void expect_no_rule(const char *rule)
{
	if (find(rule)) {
		dump();
		fail_msg("unexpected %s finding", rule);
	}
}

/* Findings other than the locked-memory info every VFIO line gets. */
static size_t n_real(void)
{
	size_t n = 0;

	for (size_t i = 0; i < T.rep.n_findings; i++)
		n += !(streq(T.rep.findings[i].rule, "memlock-too-low") &&
		       T.rep.findings[i].severity == VH_INFO);
	return n;
}

static void expect_clean(void)
{
	if (n_real()) {
		dump();
		fail_msg("expected no findings, got %zu (first: %s)", T.rep.n_findings,
			 T.rep.findings[0].rule);
	}
	assert_int_equal(T.rep.n_error + T.rep.n_warning, 0);
}

/* No fix of the QEMU dialect is written in XML. */
static void expect_no_xml(void)
{
	for (size_t i = 0; i < T.rep.n_findings; i++) {
		const struct vh_finding *f = &T.rep.findings[i];
		if ((f->fix && strchr(f->fix, '<')) ||
		    (f->fix_where && strchr(f->fix_where, '<'))) {
			dump();
			fail_msg("%s: XML in a command-line fix: %s / %s", f->rule,
				 f->fix_where ? f->fix_where : "", f->fix ? f->fix : "");
		}
	}
}

static void check_good_line_is_clean(void **state UNUSED)
{
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_clean();
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-accel", "kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_clean();
	/* the same from a -readconfig file */
	CHECK_BOUND(QEMU, "-readconfig",
		    config_file("good.cfg", "[machine]\n"
					    "  type = \"q35\"\n"
					    "  kernel-irqchip = \"split\"\n"
					    "  accel = \"kvm\"\n"
					    "[device \"vi\"]\n"
					    "  driver = \"intel-iommu\"\n"
					    "  intremap = \"on\"\n"
					    "  caching-mode = \"on\"\n"
					    "[device \"hostdev0\"]\n"
					    "  driver = \"vfio-pci\"\n"
					    "  host = \"" AIC "\"\n"));
	expect_clean();
	/* the same with -global defaults */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", "-global", "intel-iommu.caching-mode=on",
	      "-global", "driver=intel-iommu,property=intremap,value=on", "-device", "intel-iommu",
	      GOOD_VFIO);
	expect_clean();
}

static void check_machine_q35(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	f = expect_rule("machine-q35", "-machine q35");
	assert_non_null(f->fix_where);
	assert_non_null(strstr(f->fix_where, "-machine"));
	assert_non_null(strstr(f->message, "pc"));
	expect_no_xml();
	/* an explicit i440fx machine keeps its irqchip in the fix */
	CHECK(QEMU, "-machine", "pc-i440fx-8.2,kernel-irqchip=split", "-enable-kvm", GOOD_IOMMU,
	      GOOD_VFIO);
	f = expect_rule("machine-q35", "-machine q35,kernel-irqchip=split");
	expect_no_rule("ioapic-split");
	expect_no_xml();
}

static void check_viommu_missing(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_VFIO);
	f = expect_rule("viommu-missing", "-device intel-iommu,intremap=on,caching-mode=on");
	assert_non_null(f->fix_where);
	if (!strstr(f->fix_where, "before the first -device vfio-pci"))
		fail_msg("fix_where: %s", f->fix_where);
	expect_no_rule("viommu-order");
	expect_no_xml();
	/* another model: replace it */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", "-device", "virtio-iommu-pci", GOOD_VFIO);
	f = expect_rule("viommu-missing", "-device intel-iommu,intremap=on,caching-mode=on");
	assert_non_null(strstr(f->fix_where, "before the first -device vfio"));
	expect_no_xml();
}

static void check_viommu_properties(void **state UNUSED)
{
	/* intremap left to QEMU with KVM's in-kernel irqchip: off */
	CHECK(QEMU, "-machine", "q35", "-enable-kvm", "-device", "intel-iommu,caching-mode=on",
	      GOOD_VFIO);
	expect_rule("viommu-intremap", "intremap=on");
	expect_rule("ioapic-split", "kernel-irqchip=split");
	expect_no_xml();
	/* caching-mode missing, the -set turned it off */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", "-device",
	      "intel-iommu,id=vi,intremap=on,caching-mode=on", "-set", "device.vi.caching-mode=off",
	      GOOD_VFIO);
	expect_rule("viommu-caching-mode", "caching-mode=on");
	expect_no_rule("viommu-intremap");
	expect_no_xml();
	/* eim with more than 255 vCPUs; aw-bits kept in the fix */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", "-smp", "300", "-device",
	      "intel-iommu,intremap=on,caching-mode=on,aw-bits=48", GOOD_VFIO);
	expect_rule("viommu-eim", "eim=on");
	expect_rule("viommu-eim", "aw-bits=48");
	expect_no_xml();
}

static void check_ioapic_split(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, "-machine", "q35", "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	f = expect_rule("ioapic-split", "kernel-irqchip=split");
	assert_non_null(strstr(f->fix, "-machine q35"));
	assert_non_null(strstr(f->fix_where, "-machine"));
	expect_no_rule("machine-q35");
	expect_no_xml();
	/* the fix keeps a versioned q35 */
	CHECK(QEMU, "-machine", "pc-q35-9.0", "-accel", "kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_rule("ioapic-split", "-machine pc-q35-9.0,kernel-irqchip=split");
	/* TCG emulates the I/O APIC */
	CHECK(QEMU, "-machine", "q35", GOOD_IOMMU, GOOD_VFIO);
	expect_no_rule("ioapic-split");
	expect_clean();
}

static void check_viommu_order(void **state UNUSED)
{
	const struct vh_finding *f;
	struct vh_domain *xd = NULL;
	struct vh_err e = {0};
	struct vh_report xr = {0};
	static const char xml[] = "<domain type='kvm'><name>g</name><memory>1048576</memory>"
				  "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
				  "<features><acpi/><apic/><ioapic driver='qemu'/></features>"
				  "<devices>"
				  "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
				  "<address domain='0x0000' bus='0x01' slot='0x00' "
				  "function='0x0'/></source></hostdev>"
				  "<iommu model='intel'><driver intremap='on' caching_mode='on'/>"
				  "</iommu></devices></domain>";

	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_VFIO, GOOD_IOMMU);
	f = expect_rule("viommu-order", "-device intel-iommu");
	assert_int_equal(f->severity, VH_ERROR);
	assert_non_null(strstr(f->message, "-device vfio-pci at argument 5"));
	assert_non_null(strstr(f->fix_where, "before"));
	assert_int_equal(n_real(), 1);
	expect_no_xml();
	/* the same devices in the right order */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_no_rule("viommu-order");
	/* libvirt XML has no order: the hostdev before <iommu> is fine */
	assert_int_equal(vh_domain_parse(xml, strlen(xml), "g.xml", &xd, &e), 0);
	assert_int_equal(xd->dialect, VH_DIALECT_XML);
	assert_false(xd->iommu_after_vfio);
	assert_int_equal(vh_check_domain(T.sys, &profiles, xd, NULL, &xr), 0);
	for (size_t i = 0; i < xr.n_findings; i++)
		if (streq(xr.findings[i].rule, "viommu-order")) {
			vh_report_done(&xr);
			vh_domain_free(xd);
			fail_msg("viommu-order for a libvirt domain");
		}
	vh_report_done(&xr);
	vh_domain_free(xd);
}

static void check_group_not_viable(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
	      "vfio-pci,host=0000:03:00.0");
	f = expect_rule("group-not-viable", "-device vfio-pci,host=");
	assert_non_null(strstr(f->fix, "-device vfio-pci,host=0000:03:00.1"));
	assert_non_null(strstr(f->fix_where, "-device vfio-pci"));
	expect_no_xml();
	/* with the companion on the line as well, the group is viable */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
	      "vfio-pci,host=0000:03:00.0", "-device", "vfio-pci,host=0000:03:00.1");
	expect_no_rule("group-not-viable");
}

/* A hand-written host= is checked as the device QEMU opens. */
static void check_host_qemu_forms(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device", "vfio-pci,host=1:0.0");
	expect_no_rule("bad-address");
	expect_clean();
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
		    "vfio-pci,host=0:2:0.0");
	f = expect_rule("device-not-bound", NULL);
	assert_non_null(strstr(f->message, "0000:02:00.0"));
	expect_no_rule("bad-address");
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device", "vfio-pci,host=9:0.0");
	f = expect_rule("device-missing", NULL);
	assert_non_null(strstr(f->message, "0000:09:00.0"));
	/* a value QEMU refuses stays bad-address, naming the limits */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device", "vfio-pci,host=1:0.8");
	f = expect_rule("bad-address", NULL);
	assert_non_null(strstr(f->message, "function <= 7"));
}

static void check_device_not_bound(void **state UNUSED)
{
	const struct vh_finding *f;

	/* on qaic: only when nobody binds it for QEMU */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
	      "vfio-pci,host=0000:02:00.0");
	expect_no_rule("device-not-bound");
	expect_clean();
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
		    "vfio-pci,host=0000:02:00.0");
	f = expect_rule("device-not-bound", "driver_override");
	assert_non_null(strstr(f->message, "0000:02:00.0"));
	assert_non_null(strstr(f->message, "qaic"));
	assert_true(f->has_addr);
	expect_no_xml();
	/* on no driver at all */
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
		    "vfio-pci,host=0000:04:00.0");
	expect_rule("device-not-bound", "driver_override");
	/* on vfio-pci: fine */
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_no_rule("device-not-bound");
}

static void check_no_xml_anywhere(void **state UNUSED)
{
	/* every rule a command line can raise, in one go and one by one */
	CHECK_BOUND(QEMU, "-enable-kvm", "-smp", "300", "-device", "vfio-pci,host=0000:02:00.0",
		    "-device", "intel-iommu,intremap=off", "-device", "vfio-pci,host=0000:03:00.0",
		    "-device", "vfio-pci,host=zz", "-device", "vfio-pci,host=0000:09:00.0",
		    "-device", "vfio-pci,host=02:00.0", "-device", "vfio-pci,host=0000:00:1c.0");
	expect_rule("machine-q35", "-machine q35");
	expect_rule("viommu-intremap", "-device intel-iommu");
	expect_rule("viommu-caching-mode", "caching-mode=on");
	expect_rule("ioapic-split", "kernel-irqchip=split");
	expect_rule("viommu-order", NULL);
	expect_rule("device-not-bound", NULL);
	expect_rule("group-not-viable", "-device vfio-pci,host=0000:03:00.1");
	expect_rule("bad-address", "host=");
	expect_rule("device-missing", NULL);
	expect_rule("device-duplicate", NULL);
	expect_rule("device-bridge", NULL);
	expect_no_xml();
	for (size_t i = 0; i < T.rep.n_findings; i++) {
		const struct vh_finding *f = &T.rep.findings[i];
		if (strchr(f->message, '<')) {
			dump();
			fail_msg("%s: XML in the message: %s", f->rule, f->message);
		}
	}
	/* a QEMU line's subject is the command line, with its name */
	CHECK(QEMU, "-name", "guest=aic,debug-threads=on", "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	assert_non_null(strstr(expect_rule("machine-q35", NULL)->message, "'aic'"));
	expect_no_xml();
}

/* BUG (consequence of arch_i386_is_x86): a qemu-system-i386 line with the
 * AIC100 on machine pc and no vIOMMU passes every rule. */
static void check_i386_line(void **state UNUSED)
{
	CHECK("qemu-system-i386", "-enable-kvm", GOOD_VFIO);
	expect_rule("machine-q35", "-machine q35");
	expect_rule("viommu-missing", "-device intel-iommu");
}

/* BUG (consequence of vfio_mdev_not_bad_address): a vGPU given as an mdev
 * is refused with bad-address. */
static void check_mdev_line(void **state UNUSED)
{
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
	      "vfio-pci,sysfsdev=/sys/bus/mdev/devices/"
	      "c2e088c0-7e4b-4c2f-a5a6-2f1bb5f3a1d3");
	expect_no_rule("bad-address");
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(check_good_line_is_clean), T_(check_machine_q35),     T_(check_viommu_missing),
	    T_(check_viommu_properties),  T_(check_ioapic_split),    T_(check_viommu_order),
	    T_(check_group_not_viable),	  T_(check_host_qemu_forms), T_(check_device_not_bound),
	    T_(check_no_xml_anywhere),	  T_(check_i386_line),	     T_(check_mdev_line),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
