/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The locked memory a domain needs, as libvirt computes it, and the rule that
 * compares it with the domain's limits.
 */
#include "fixture-rules.h"

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
	    T_(memlock_libvirt_pc),	      T_(memlock_libvirt_locked),
	    T_(memlock_viommu_per_device),    T_(memlock_libvirt_pseries),
	    T_(memlock_memory_alignment),     T_(memlock_pseries_nvlink2),
	    T_(memlock_overflow_and_garbage),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
