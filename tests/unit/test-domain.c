/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_domain_parse: the machine, I/O APIC, vIOMMU, vCPUs and memory of the
 * domain model.
 */
#include "fixture-domain.h"

/* --- machine --- */

static void machine_classify(void **state UNUSED)
{
	assert_int_equal(vh_machine_classify("q35"), VH_MACHINE_Q35);
	assert_int_equal(vh_machine_classify("pc-q35-7.2"), VH_MACHINE_Q35);
	assert_int_equal(vh_machine_classify("pc-q35-rhel9.2.0"), VH_MACHINE_Q35);
	assert_int_equal(vh_machine_classify("pc"), VH_MACHINE_I440FX);
	assert_int_equal(vh_machine_classify("pc-i440fx-7.2"), VH_MACHINE_I440FX);
	assert_int_equal(vh_machine_classify("pc-1.3"), VH_MACHINE_I440FX);
	assert_int_equal(vh_machine_classify("microvm"), VH_MACHINE_OTHER);
	assert_int_equal(vh_machine_classify("virt"), VH_MACHINE_OTHER);
	assert_int_equal(vh_machine_classify("q35x"), VH_MACHINE_OTHER);
	assert_int_equal(vh_machine_classify("pcx"), VH_MACHINE_OTHER);
	assert_int_equal(vh_machine_classify(NULL), VH_MACHINE_NONE);
	assert_int_equal(vh_machine_classify(""), VH_MACHINE_NONE);
}

static void machine_from_xml(void **state UNUSED)
{
	static const struct {
		const char *type;
		enum vh_machine kind;
		const char *machine;
	} v[] = {
	    {"<type arch='x86_64' machine='q35'>hvm</type>", VH_MACHINE_Q35, "q35"},
	    {"<type arch='x86_64' machine='pc-q35-7.2'>hvm</type>", VH_MACHINE_Q35, "pc-q35-7.2"},
	    {"<type arch='x86_64' machine='pc'>hvm</type>", VH_MACHINE_I440FX, "pc"},
	    {"<type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>", VH_MACHINE_I440FX,
	     "pc-i440fx-7.2"},
	    {"<type arch='x86_64'>hvm</type>", VH_MACHINE_NONE, NULL},
	    {"<type arch='x86_64' machine='microvm'>hvm</type>", VH_MACHINE_OTHER, "microvm"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		struct vh_domain *d = parse_parts(v[i].type, NULL, NULL, NULL);
		assert_int_equal(d->machine_kind, v[i].kind);
		if (v[i].machine)
			assert_string_equal(d->machine, v[i].machine);
		else
			assert_null(d->machine);
		assert_string_equal(d->arch, "x86_64");
		assert_string_equal(d->os_type, "hvm");
		assert_true(vh_domain_is_x86(d));
		assert_true(vh_domain_is_qemu_hvm(d));
		vh_domain_free(d);
	}
}

static void basic_fields(void **state UNUSED)
{
	struct vh_domain *d = parse_parts(NULL, NULL, NULL, NULL);

	assert_string_equal(d->name, "vm1");
	assert_string_equal(d->uuid, "c7a5fdbd-edaf-9455-926a-d65c16db1809");
	assert_string_equal(d->virt_type, "kvm");
	assert_int_equal(d->vcpus, 4);
	assert_int_equal(d->memory_kib, 4194304);
	assert_int_equal(d->hard_limit_kib, 0);
	assert_null(d->ioapic_driver);
	assert_false(d->has_iommu);
	assert_false(d->iommu_in_features);
	assert_int_equal(d->n_hostdevs, 0);
	assert_int_equal(d->meta.mode, VH_MODE_UNSET);
	assert_string_equal(d->meta.error, "");
	vh_domain_free(d);
}

static void arch_and_type(void **state UNUSED)
{
	struct vh_domain *d;
	const char *xen = "<domain type='xen'><name>x</name><os><type "
			  "arch='x86_64' machine='xenfv'>hvm</type></os>"
			  "</domain>";

	d = parse_parts("<type arch='aarch64' machine='virt'>hvm</type>", NULL, NULL, NULL);
	assert_false(vh_domain_is_x86(d));
	assert_true(vh_domain_is_qemu_hvm(d));
	vh_domain_free(d);

	d = parse_parts("<type arch='i686' machine='pc'>hvm</type>", NULL, NULL, NULL);
	assert_true(vh_domain_is_x86(d));
	vh_domain_free(d);

	d = parse_ok(xen);
	assert_string_equal(d->virt_type, "xen");
	assert_true(vh_domain_is_x86(d));
	assert_false(vh_domain_is_qemu_hvm(d));
	vh_domain_free(d);

	d = parse_parts("<type arch='x86_64'>exe</type>", NULL, NULL, NULL);
	assert_false(vh_domain_is_qemu_hvm(d));
	vh_domain_free(d);
}

/* --- features and vIOMMU --- */

static void ioapic_driver(void **state UNUSED)
{
	struct vh_domain *d;

	d = parse_parts(NULL, "<acpi/><apic/><ioapic driver='qemu'/>", NULL, NULL);
	assert_string_equal(d->ioapic_driver, "qemu");
	vh_domain_free(d);
	d = parse_parts(NULL, "<ioapic driver='kvm'/>", NULL, NULL);
	assert_string_equal(d->ioapic_driver, "kvm");
	vh_domain_free(d);
	/* An ioapic element under <devices> is not the feature. */
	d = parse_parts(NULL, "<acpi/>", "<ioapic driver='qemu'/>", NULL);
	assert_null(d->ioapic_driver);
	vh_domain_free(d);
}

static void iommu_attributes(void **state UNUSED)
{
	struct vh_domain *d;

	d = parse_parts(NULL, NULL,
			"<iommu model='intel'><driver intremap='on' "
			"caching_mode='on' eim='off' iotlb='on' "
			"aw_bits='48'/></iommu>",
			NULL);
	assert_true(d->has_iommu);
	assert_false(d->iommu_in_features);
	assert_string_equal(d->iommu_model, "intel");
	assert_int_equal(d->intremap, VH_ON);
	assert_int_equal(d->caching_mode, VH_ON);
	assert_int_equal(d->eim, VH_OFF);
	assert_int_equal(d->iotlb, VH_ON);
	assert_int_equal(d->aw_bits, 48);
	vh_domain_free(d);

	d = parse_parts(NULL, NULL,
			"<iommu model='intel'><driver intremap='yes' "
			"caching_mode='ON' aw_bits='0x30'/></iommu>",
			NULL);
	assert_int_equal(d->intremap, VH_BAD);
	assert_int_equal(d->caching_mode, VH_BAD);
	assert_int_equal(d->eim, VH_ABSENT);
	assert_int_equal(d->iotlb, VH_ABSENT);
	assert_int_equal(d->aw_bits, 0);
	vh_domain_free(d);

	d = parse_parts(NULL, NULL, "<iommu model='smmuv3'/>", NULL);
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "smmuv3");
	assert_int_equal(d->intremap, VH_ABSENT);
	assert_int_equal(d->caching_mode, VH_ABSENT);
	vh_domain_free(d);

	d = parse_parts(NULL, NULL, "<iommu><driver aw_bits='99'/></iommu>", NULL);
	assert_true(d->has_iommu);
	assert_null(d->iommu_model);
	assert_int_equal(d->aw_bits, 0);
	vh_domain_free(d);
}

static void iommu_misplaced(void **state UNUSED)
{
	struct vh_domain *d;

	d = parse_parts(NULL,
			"<ioapic driver='qemu'/><iommu model='intel'><driver "
			"intremap='on' caching_mode='on'/></iommu>",
			NULL, NULL);
	assert_true(d->iommu_in_features);
	assert_false(d->has_iommu);
	assert_int_equal(d->intremap, VH_ABSENT);
	vh_domain_free(d);
}

/* --- vCPUs and memory --- */

static void vcpus(void **state UNUSED)
{
	struct vh_domain *d;
	char extra[128];
	const char *base = "<domain type='kvm'><name>a</name>%s</domain>";
	char xml[256];

	snprintf(xml, sizeof(xml), base, "<vcpu placement='static' current='2'>288</vcpu>");
	d = parse_ok(xml);
	assert_int_equal(d->vcpus, 288);
	vh_domain_free(d);

	snprintf(xml, sizeof(xml), base, "<vcpu> 16 </vcpu>");
	d = parse_ok(xml);
	assert_int_equal(d->vcpus, 16);
	vh_domain_free(d);

	snprintf(xml, sizeof(xml), base, "<vcpu>many</vcpu>");
	d = parse_ok(xml);
	assert_int_equal(d->vcpus, 0);
	vh_domain_free(d);

	snprintf(xml, sizeof(xml), base, "<vcpu>-4</vcpu>");
	d = parse_ok(xml);
	assert_int_equal(d->vcpus, 0);
	vh_domain_free(d);

	snprintf(extra, sizeof(extra), "%s", "");
	snprintf(xml, sizeof(xml), base, extra);
	d = parse_ok(xml);
	assert_int_equal(d->vcpus, 0);
	vh_domain_free(d);
}

static void expect_kib(const char *v, const char *unit, unsigned long long kib)
{
	unsigned long long r = 0xdeadbeef;
	int k = vh_parse_memory_kib(v, unit, &r);

	if (k != 0)
		fail_msg("vh_parse_memory_kib(%s, %s) = %d", v, unit ? unit : "NULL", k);
	if (r != kib)
		fail_msg("vh_parse_memory_kib(%s, %s) gave %llu KiB, expected "
			 "%llu",
			 v, unit ? unit : "NULL", r, kib);
}

static void expect_kib_err(const char *v, const char *unit, int err)
{
	unsigned long long r = 12345;
	int k = vh_parse_memory_kib(v, unit, &r);

	if (k != err)
		fail_msg("vh_parse_memory_kib(%s, %s) = %d (%llu), expected %d", v,
			 unit ? unit : "NULL", k, r, err);
	assert_int_equal(r, 12345);
}

static void memory_units(void **state UNUSED)
{
	expect_kib("1048576", NULL, 1048576);
	expect_kib("1", "KiB", 1);
	expect_kib("1", "k", 1);
	expect_kib("1024", "MiB", 1048576);
	expect_kib("1024", "M", 1048576);
	expect_kib("4", "GiB", 4194304);
	expect_kib("4", "G", 4194304);
	expect_kib("1", "TiB", 1073741824ULL);
	expect_kib("2048", "bytes", 2);
	expect_kib("2048", "b", 2);
	expect_kib("1", "b", 1);    /* rounded up to a whole KiB */
	expect_kib("1025", "b", 2); /* rounded up */
	expect_kib("0", "b", 0);
	expect_kib("1024", "KB", 1000);
	expect_kib("1000", "KB", 977); /* 1000000 bytes, rounded up */
	expect_kib("1", "MB", 977);
	expect_kib("1", "GB", 976563);
	/* libvirt compares suffixes without case. */
	expect_kib("1", "mib", 1024);
	expect_kib("1", "GIB", 1048576);
	expect_kib("1024", "kb", 1000);
	expect_kib("1", "g", 1048576);
}

static void memory_errors(void **state UNUSED)
{
	expect_kib_err("1", "parsecs", -EINVAL);
	expect_kib_err("1", "", -EINVAL);
	expect_kib_err("1", "KiBs", -EINVAL);
	expect_kib_err("-1", NULL, -EINVAL);
	expect_kib_err("+1", NULL, -EINVAL);
	expect_kib_err("", NULL, -EINVAL);
	expect_kib_err("abc", NULL, -EINVAL);
	expect_kib_err("0x100", NULL, -EINVAL); /* decimal only */
	expect_kib_err("1.5", "GiB", -EINVAL);
	expect_kib_err("18446744073709551615", "KiB", -ERANGE);
	expect_kib_err("16", "EiB", -ERANGE);
	expect_kib_err("99999999999999999999999", NULL, -ERANGE);
}

static void qemu_sizes(void **state UNUSED)
{
	static const struct {
		const char *s;
		int r;
		unsigned long long kib;
	} v[] = {
	    {"4096", 0, 4194304},
	    {"4G", 0, 4194304},
	    {"4g", 0, 4194304},
	    {"1.5G", 0, 1572864},
	    {"512M", 0, 524288},
	    {"1024K", 0, 1024},
	    {"1025B", 0, 2},
	    {"1T", 0, 1073741824ULL},
	    {"0.5", 0, 512},
	    {"", -EINVAL, 0},
	    {"-4G", -EINVAL, 0},
	    {"4GB", -EINVAL, 0},
	    {"4X", -EINVAL, 0},
	    {".", -EINVAL, 0},
	    {"16E", -ERANGE, 0},
	    {"99999999999999999999", -ERANGE, 0},
	    {"17179869184G", -ERANGE, 0},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		unsigned long long r = 7;
		int k = vh_parse_qemu_size_kib(v[i].s, &r);
		if (k != v[i].r || (k == 0 && r != v[i].kib) || (k < 0 && r != 7))
			fail_msg("%s: %d %llu, expected %d %llu", v[i].s, k, r, v[i].r, v[i].kib);
	}
}

static void memory_numa_and_limits(void **state UNUSED)
{
	struct vh_domain *d;

	/* NUMA cells replace <memory>: their sum plus the DIMMs. */
	d = parse_ok("<domain type='kvm'><name>m</name>"
		     "<maxMemory slots='4' unit='GiB'>64</maxMemory>"
		     "<memory unit='GiB'>99</memory><cpu><numa>"
		     "<cell id='0' cpus='0' memory='2' unit='GiB'/>"
		     "<cell id='1' cpus='1' memory='2097152'/></numa></cpu>"
		     "<devices><memory model='dimm'><target>"
		     "<size unit='GiB'>1</size></target></memory></devices>"
		     "<memoryBacking><locked/></memoryBacking></domain>");
	assert_int_equal(d->memory_kib, 5242880);
	assert_int_equal(d->max_memory_kib, 67108864);
	assert_true(d->mem_locked);
	assert_false(d->has_hard_limit);
	assert_string_equal(d->mem_error, "");
	/* The parts, as written, for libvirt's alignment. */
	assert_int_equal(d->n_numa_cells, 2);
	assert_int_equal(d->numa_cells_kib[0], 2097152);
	assert_int_equal(d->numa_cells_kib[1], 2097152);
	assert_int_equal(d->n_memory_devices, 1);
	assert_int_equal(d->memory_devices[0].size_kib, 1048576);
	assert_false(d->memory_devices[0].nvdimm);
	vh_domain_free(d);
	/* Without cells <memory> is the total, devices included. */
	d = parse_ok("<domain type='kvm'><name>m</name>"
		     "<memory unit='KiB'>524416</memory><devices>"
		     "<memory model='nvdimm'><target><size unit='KiB'>262272"
		     "</size></target></memory></devices></domain>");
	assert_int_equal(d->memory_kib, 524416);
	assert_int_equal(d->n_numa_cells, 0);
	assert_int_equal(d->n_memory_devices, 1);
	assert_true(d->memory_devices[0].nvdimm);
	assert_string_equal(d->mem_error, "");
	vh_domain_free(d);
	/* libvirt's "unlimited" hard limit is no limit; above it, refused */
	d = parse_ok("<domain type='kvm'><name>m</name><memtune><hard_limit>"
		     "9007199254740991</hard_limit></memtune></domain>");
	assert_false(d->has_hard_limit);
	assert_string_equal(d->mem_error, "");
	vh_domain_free(d);
	d = parse_ok("<domain type='kvm'><name>m</name><memtune><hard_limit>"
		     "9007199254740992</hard_limit></memtune></domain>");
	assert_false(d->has_hard_limit);
	assert_non_null(strstr(d->mem_error, "too large"));
	vh_domain_free(d);
	d = parse_ok("<domain type='kvm'><name>m</name><memory unit='byte'>"
		     "2048</memory><devices><disk type='nvme'/><interface "
		     "type='vdpa'/><controller type='pci' model='pci-root'/>"
		     "</devices></domain>");
	assert_int_equal(d->memory_kib, 2);
	assert_int_equal(d->n_nvme_disks, 1);
	assert_int_equal(d->n_vdpa, 1);
	assert_int_equal(d->n_phbs, 1);
	vh_domain_free(d);
	d = parse_ok("<domain type='kvm'><name>m</name>"
		     "<memory unit='furlongs'>2</memory></domain>");
	assert_non_null(strstr(d->mem_error, "unknown unit"));
	assert_non_null(strstr(d->mem_error, "furlongs"));
	vh_domain_free(d);
}

/* Regression (fixed): vh_parse_memory_kib rounds bytes up to KiB with (v +
 * 1023) / 1024, which wraps when v is within 1023 of ULLONG_MAX:
 * 18446744073709551615 bytes gives 0 KiB ("not given") instead of 2^54 KiB, and
 * 18446744073709551 KB (v*1000 = ...551000) gives 0 too.  Fix
 * (lib/domain.c:123): *ret = v / 1024 + (v % 1024 != 0). */
static void memory_round_up_no_wrap(void **state UNUSED)
{
	unsigned long long r = 0;
	int k;

	k = vh_parse_memory_kib("18446744073709551615", "b", &r);
	if (k == 0)
		assert_int_equal(r, 18014398509481984ULL);
	else
		assert_int_equal(k, -ERANGE);

	r = 0;
	k = vh_parse_memory_kib("18446744073709551", "KB", &r);
	if (k == 0)
		assert_int_equal(r, 18014398509481984ULL);
	else
		assert_int_equal(k, -ERANGE);
}

static void memory_from_xml(void **state UNUSED)
{
	static const struct {
		const char *elem;
		unsigned long long kib;
	} v[] = {
	    {"<memory>2097152</memory>", 2097152},
	    {"<memory unit='KiB'>2097152</memory>", 2097152},
	    {"<memory unit='MiB'>2048</memory>", 2097152},
	    {"<memory unit='GiB'>2</memory>", 2097152},
	    {"<memory unit='G'>2</memory>", 2097152},
	    {"<memory unit='bytes'>2147483648</memory>", 2097152},
	    {"<memory unit='KB'>2048</memory>", 2000},
	    {"<memory unit='furlongs'>2</memory>", 0},
	    {"<memory>lots</memory>", 0},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		char xml[512];
		struct vh_domain *d;
		snprintf(xml, sizeof(xml),
			 "<domain type='kvm'><name>m</name>%s"
			 "<memtune><hard_limit unit='GiB'>3</hard_limit>"
			 "</memtune></domain>",
			 v[i].elem);
		d = parse_ok(xml);
		if (d->memory_kib != v[i].kib)
			fail_msg("%s: memory_kib %llu, expected %llu", v[i].elem, d->memory_kib,
				 v[i].kib);
		assert_int_equal(d->hard_limit_kib, 3145728);
		vh_domain_free(d);
	}
}

static void memtune_hard_limit(void **state UNUSED)
{
	struct vh_domain *d;

	d = parse_ok("<domain type='kvm'><name>m</name><memtune>"
		     "<hard_limit>1048576</hard_limit></memtune></domain>");
	assert_int_equal(d->hard_limit_kib, 1048576);
	assert_int_equal(d->memory_kib, 0);
	vh_domain_free(d);

	d = parse_ok("<domain type='kvm'><name>m</name><memtune>"
		     "<soft_limit unit='GiB'>1</soft_limit></memtune>"
		     "</domain>");
	assert_int_equal(d->hard_limit_kib, 0);
	vh_domain_free(d);

	d = parse_ok("<domain type='kvm'><name>m</name><memtune>"
		     "<hard_limit unit='MiB'>512</hard_limit></memtune>"
		     "</domain>");
	assert_int_equal(d->hard_limit_kib, 524288);
	vh_domain_free(d);
}

/* What decides the guest firmware's 64-bit window (lib/mmio.c), parsed the
 * same from the pruned tree as from the whole one. */
static void firmware_window_fields(void **state UNUSED)
{
	struct vh_domain *d = parse_ok(
	    "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
	    "<name>g</name><os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>"
	    "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader></os>"
	    "<cpu mode='custom'><model>Skylake-Server</model>"
	    "<feature policy='require' name='pdpe1gb'/>"
	    "<maxphysaddr mode='emulate' bits='43'/></cpu>"
	    "<sysinfo type='fwcfg'><entry name='opt/other'>1</entry>"
	    "<entry name='opt/ovmf/X-PciMmio64Mb'>65536</entry></sysinfo>"
	    "<devices><controller type='pci' model='pcie-root'>"
	    "<pcihole64 unit='GiB'>64</pcihole64></controller></devices>"
	    "<qemu:commandline><qemu:arg value='-fw_cfg'/>"
	    "<qemu:arg value='string=262144,name=opt/ovmf/X-PciMmio64Mb'/></qemu:commandline>"
	    "<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'>"
	    "<vh:mmio-window size='1T'/></vh:settings></metadata></domain>");

	assert_string_equal(d->fw.firmware, "efi");
	assert_string_equal(d->fw.loader, "/usr/share/OVMF/OVMF_CODE_4M.fd");
	assert_string_equal(d->fw.cpu_mode, "custom");
	assert_true(d->fw.cpu_model && d->fw.pdpe1gb);
	assert_int_equal(d->fw.physaddr, VH_PHYSADDR_EMULATE);
	assert_int_equal(d->fw.physaddr_bits, 43);
	/* The command line comes after <sysinfo>: QEMU takes the last. */
	assert_true(d->fw.has_mmio64_mb);
	assert_int_equal(d->fw.mmio64_mb, 0x40000);
	assert_non_null(strstr(d->fw.mmio64_from, "<qemu:commandline>"));
	assert_true(d->fw.has_pcihole64);
	assert_int_equal(d->fw.pcihole64_kib, 64ULL << 20);
	assert_true(d->meta.has_mmio_window);
	assert_true(d->meta.mmio_window == 1ULL << 40);
	vh_domain_free(d);

	/* What libvirt would refuse, or OVMF ignore, is no setting. */
	d = parse_ok(
	    "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
	    "<name>g</name><cpu><maxphysaddr mode='emulate'/></cpu>"
	    "<sysinfo type='smbios'><entry name='opt/ovmf/X-PciMmio64Mb'>1</entry></sysinfo>"
	    "<qemu:commandline><qemu:arg value='name=opt/ovmf/X-PciMmio64Mb,string=9'/>"
	    "<qemu:arg value='-fw_cfg'/><qemu:arg value='name=opt/ovmf/X-PciMmio64Mb,string=-1'/>"
	    "</qemu:commandline><metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'>"
	    "<vh:mmio-window size='0'/></vh:settings></metadata></domain>");
	assert_string_equal(d->fw.cpu_mode, "custom");
	assert_false(d->fw.cpu_model);
	assert_int_equal(d->fw.physaddr, VH_PHYSADDR_BAD);
	assert_false(d->fw.has_mmio64_mb);
	assert_false(d->meta.has_mmio_window);
	assert_non_null(strstr(d->meta.error, "<mmio-window size='0'>"));
	vh_domain_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(machine_classify),
	    cmocka_unit_test(machine_from_xml),
	    cmocka_unit_test(basic_fields),
	    cmocka_unit_test(arch_and_type),
	    cmocka_unit_test(ioapic_driver),
	    cmocka_unit_test(iommu_attributes),
	    cmocka_unit_test(iommu_misplaced),
	    cmocka_unit_test(vcpus),
	    cmocka_unit_test(memory_units),
	    cmocka_unit_test(memory_errors),
	    cmocka_unit_test(qemu_sizes),
	    cmocka_unit_test(memory_numa_and_limits),
	    cmocka_unit_test(memory_round_up_no_wrap),
	    cmocka_unit_test(memory_from_xml),
	    cmocka_unit_test(memtune_hard_limit),
	    cmocka_unit_test(firmware_window_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
