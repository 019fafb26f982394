/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rule mmio-window: BARs read from sysfs resource files (hostile ones
 * too), the 64-bit window of SeaBIOS and of OVMF before and after
 * edk2-stable202211, the fix, and the <vh:mmio-window> override.
 */
#include "fixture-rules.h"

#include <unistd.h>

#include "../../lib/mmio.h"

#define CPUINFO_INTEL46                                                                            \
	"file proc/cpuinfo processor : 0\\nvendor_id : GenuineIntel\\nflags : fpu lm pdpe1gb\\n"   \
	"address sizes : 46 bits physical, 48 bits virtual\n"
/* An AMD host: qemu64 under KVM takes its vendor, and OVMF trusts an AMD
 * CPU's 40 bits. */
#define CPUINFO_AMD48                                                                              \
	"file proc/cpuinfo processor : 0\\nvendor_id : AuthenticAMD\\nflags : fpu lm\\n"           \
	"address sizes : 48 bits physical, 48 bits virtual\n"
#define DPKG(version)                                                                               \
	"file var/lib/dpkg/status Package: ovmf\\nStatus: install ok installed\\nVersion: " version \
	"\\n\n"                                                                                     \
	"file var/lib/dpkg/info/ovmf.list /usr/share/OVMF/OVMF_CODE_4M.fd\n"
/* 256 MiB, 32 GiB and 128 GiB of 64-bit prefetchable BAR, a 16 MiB 32-bit
 * one beside each. */
#define DEVS                                                                                       \
	"0000:41:00.0 id=10de:2204 class=0x030000 pcie driver=vfio-pci group=1 "                   \
	"bar0=32:16M bar1=64:pref:256M\n"                                                          \
	"0000:42:00.0 id=10de:20b5 class=0x030200 pcie driver=vfio-pci group=2 "                   \
	"bar0=32:16M bar1=64:pref:32G\n"                                                           \
	"0000:43:00.0 id=10de:2331 class=0x030200 pcie driver=vfio-pci group=3 "                   \
	"bar0=32:16M bar1=64:pref:128G bar3=64:pref:32M\n"                                         \
	"0000:44:00.0 id=8086:1533 class=0x020000 pcie driver=vfio-pci group=4\n"
#define HD(bus) HOSTDEV(bus, "0x00", "0x0")
#define OVMF_LOADER "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"

/* A q35 domain of 64 GiB with @os as <os>'s attributes and @loader in it,
 * @rest after <features> (a <cpu>, <sysinfo>, <metadata>), @hostdevs, and
 * xmlns:qemu on <domain>. */
static void run_mm4(const char *os, const char *loader, const char *rest, const char *hostdevs)
{
	struct vh_err e = {0};
	int r;

	reset_check();
	r = asprintf(&T.xml,
		     "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
		     "<name>gpu</name><memory unit='GiB'>64</memory>"
		     "<memtune><hard_limit unit='TiB'>1</hard_limit></memtune>"
		     "<os%s><type arch='x86_64' machine='q35'>hvm</type>%s</os>"
		     "<features><acpi/></features>%s<devices>%s</devices></domain>",
		     os, loader, rest, hostdevs);
	assert_true(r > 0);
	r = vh_domain_parse(T.xml, strlen(T.xml), "gpu.xml", &T.dom, &e);
	if (r < 0)
		fail_msg("domain: %s\n%s", e.msg, T.xml);
	assert_int_equal(vh_check_domain(T.sys, &profiles, T.dom, NULL, &T.rep), 0);
	T.have_rep = true;
}

static void run_mm(const char *os, const char *rest, const char *hostdevs)
{
	run_mm4(os, "", rest, hostdevs);
}

static const struct vh_finding *mm(enum vh_severity sev, const char *fix, const char *why)
{
	const struct vh_finding *f = find("mmio-window");

	if (!f || f->severity != sev || count("mmio-window") != 1) {
		dump();
		fail_msg("no single mmio-window %s", vh_severity_name(sev));
	}
	assert_true(f->has_addr);
	if (fix)
		assert_contains(f->fix, fix);
	if (why)
		assert_contains(f->why, why);
	return f;
}

static void mm_none(void)
{
	if (find("mmio-window")) {
		dump();
		fail_msg("mmio-window found");
	}
}

/* --- the resource file --- */

static void put_resource(const char *text)
{
	assert_int_equal(fakesys_put(T.root, "sys/bus/pci/devices/0000:43:00.0/resource", text), 0);
}

static int bars(struct vh_pci_bar *b, unsigned *line)
{
	struct vh_pci_addr a;

	assert_int_equal(vh_pci_addr_parse("0000:43:00.0", &a), 0);
	*line = 0;
	return vh_pci_bars_read(T.sys, &a, b, line);
}

static void resource_parsed(void **state UNUSED)
{
	struct vh_pci_bar b[VH_PCI_N_BARS];
	unsigned line;

	host(DEVS);
	assert_int_equal(bars(b, &line), 3);
	assert_int_equal(b[0].index, 0);
	assert_true(b[0].size == 16ULL << 20 && !b[0].mem64 && !b[0].prefetch);
	assert_int_equal(b[1].index, 1);
	assert_true(b[1].size == 128ULL << 30 && b[1].mem64 && b[1].prefetch);
	assert_int_equal(b[2].index, 3);
	assert_true(b[2].size == 32ULL << 20 && b[2].mem64 && b[2].prefetch);
	/* An I/O BAR and unused ones are not memory BARs; fewer lines than
	 * six are fewer BARs. */
	put_resource("0x000000000000e000 0x000000000000e07f 0x0000000000040101\n"
		     "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	assert_int_equal(bars(b, &line), 0);
	put_resource("");
	assert_int_equal(bars(b, &line), 0);
	/* The whole 64-bit range: the largest size there is, no overflow. */
	put_resource("0x0000000000000000 0xffffffffffffffff 0x000000000014220c\n");
	assert_int_equal(bars(b, &line), 1);
	assert_true(b[0].size == UINT64_MAX);
	/* No file: an older kernel or a fake tree without BARs. */
	{
		char p[4096];
		snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:43:00.0/resource", T.root);
		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(bars(b, &line), -ENOENT);
}

static void resource_hostile(void **state UNUSED)
{
	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
	    {"garbage\n", 1},
	    {"0x1 0x2\n", 1},
	    {"0x1 0x2 0x200 0x4\n", 1},
	    {"0x2000 0x1000 0x200\n", 1},
	    {"0x0 0x0 0x0\n-0x1 0x2 0x200\n", 2},
	    {"0x0 0x0 0x0\n0x0 0x0 0x0\n0x1 0x10000000000000000 0x200\n", 3},
	    {"0x 0x1 0x200\n", 1},
	    {"1000 2000 200\n", 1},
	    {"0x1000 0x1fff 0x20g\n", 1},
	    {"0x0\t0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n\xff\xfe\n", 6},
	};
	struct vh_pci_bar b[VH_PCI_N_BARS];
	char big[6000];
	unsigned line;

	host(DEVS);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		put_resource(bad[i].text);
		if (bars(b, &line) != -EBADMSG || line != bad[i].line)
			fail_msg("'%s': line %u, not %u", bad[i].text, line, bad[i].line);
	}
	/* Longer than any resource file: cut, refused, no overrun. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put_resource(big);
	assert_int_equal(bars(b, &line), -EBADMSG);
	/* Past the six BARs nothing is read: the ROM line may be anything. */
	put_resource("0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n0x0 0x0 0x0\n"
		     "0x0 0x0 0x0\nnot a rom line\n");
	assert_int_equal(bars(b, &line), 0);

	/* Through the rule: a warning naming the file, the check goes on. */
	host(DEVS "file proc/cpuinfo address sizes : 46 bits physical\n");
	put_resource("0x0000038000000000 0x000003a000000000\n");
	run_mm("", "", HD("0x43") HD("0x42"));
	assert_int_equal(count("mmio-window"), 1);
	expect_rule("mmio-window", VH_WARNING, "0000:43:00.0", NULL);
	assert_contains(find("mmio-window")->message,
			"Line 1 of /sys/bus/pci/devices/0000:43:00.0/resource");
}

/* --- the window --- */

static void seabios(void **state UNUSED)
{
	host(DEVS CPUINFO_INTEL46);
	/* Above RAM, up to 2^40: all of them. */
	run_mm("", "", HD("0x41"));
	mm_none();
	run_mm("", "", HD("0x42"));
	mm_none();
	run_mm("", "", HD("0x43") HD("0x42"));
	mm_none();
	/* 37 bits: 128 GiB less RAM's 66 GiB. */
	run_mm("", "<cpu mode='host-model'><maxphysaddr mode='emulate' bits='37'/></cpu>",
	       HD("0x43"));
	mm(VH_ERROR, "<maxphysaddr mode='emulate' bits='38'/>", "64-bit window: 62 GiB");
	assert_contains(find("mmio-window")->why, "firmware: SeaBIOS");
	/* host-passthrough: the host's bits. */
	run_mm("", "<cpu mode='host-passthrough'><maxphysaddr mode='emulate' bits='37'/></cpu>",
	       HD("0x43"));
	mm(VH_ERROR, "<maxphysaddr mode='passthrough'/>", NULL);
	/* 128 TiB of BARs: more than 46 bits hold. */
	host("0000:43:00.0 id=10de:2331 class=0x030200 pcie driver=vfio-pci group=3 "
	     "bar1=64:pref:64T bar3=64:pref:64T\n" CPUINFO_INTEL46);
	run_mm("", "", HD("0x43"));
	assert_string_equal(mm(VH_ERROR, NULL, NULL)->fix_where, "the host");
	assert_contains(find("mmio-window")->fix, "the host's 46 physical address bits");
}

static void ovmf_old(void **state UNUSED)
{
	host(DEVS CPUINFO_INTEL46 DPKG("2022.02-3ubuntu0.22.04.3"));
	run_mm("", "<cpu mode='host-model'/>", HD("0x41"));
	mm_none();
	/* 32 GiB: fits alone, not with the next one's 32 MiB. */
	run_mm(" firmware='efi'", "<cpu mode='host-model'/>", HD("0x42"));
	mm_none();
	run_mm(" firmware='efi'", "<cpu mode='host-model'/>", HD("0x42") HD("0x41"));
	mm(VH_ERROR, "name=opt/ovmf/X-PciMmio64Mb,string=65536", "64-bit window: 32 GiB");
	/* The loader from the package: its version; the example. */
	run_mm4("", OVMF_LOADER, "", HD("0x43"));
	mm(VH_ERROR, "name=opt/ovmf/X-PciMmio64Mb,string=262144", "edk2 2022.02: older than");
	/* host-passthrough with maxphysaddr does not help the old one. */
	run_mm4("", OVMF_LOADER,
		"<cpu mode='host-passthrough'><maxphysaddr "
		"mode='passthrough'/></cpu>",
		HD("0x43"));
	mm(VH_ERROR, "262144", "64-bit window: 32 GiB");
	/* Asked for, in either place, within the address bits. */
	run_mm4("", OVMF_LOADER,
		"<sysinfo type='fwcfg'><entry "
		"name='opt/ovmf/X-PciMmio64Mb'>262144</entry></sysinfo>",
		HD("0x43"));
	mm_none();
	/* QEMU's other spellings: the items in any order, the name
	 * implied. */
	run_mm4("", OVMF_LOADER,
		"<qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg "
		"value='string=262144,name=opt/ovmf/X-PciMmio64Mb'/>"
		"</qemu:commandline>",
		HD("0x43"));
	mm_none();
	run_mm4("", OVMF_LOADER,
		"<qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg "
		"value='opt/ovmf/X-PciMmio64Mb,string=262144'/>"
		"</qemu:commandline>",
		HD("0x43"));
	mm_none();
	/* Hex: OVMF reads decimal only and ignores it. */
	run_mm4("", OVMF_LOADER,
		"<qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg "
		"value='name=opt/ovmf/X-PciMmio64Mb,string=0x40000'/>"
		"</qemu:commandline>",
		HD("0x43"));
	mm(VH_ERROR, NULL, "64-bit window: 32 GiB");
	/* From a file: not read here, so at most a warning. */
	run_mm4("", OVMF_LOADER,
		"<qemu:commandline><qemu:arg value='-fw_cfg'/><qemu:arg "
		"value='name=opt/ovmf/X-PciMmio64Mb,file=/etc/mmio'/>"
		"</qemu:commandline>",
		HD("0x43"));
	mm(VH_WARNING, NULL, "64-bit window: between 32 GiB and");
	/* Over 16 TiB: OVMF ignores it. */
	run_mm4("", OVMF_LOADER,
		"<sysinfo type='fwcfg'><entry "
		"name='opt/ovmf/X-PciMmio64Mb'>16777217</entry></sysinfo>",
		HD("0x43"));
	mm(VH_ERROR, NULL, "which OVMF ignores");
	/* More than 40 bits hold: both asked. */
	host("0000:43:00.0 id=10de:2331 class=0x030200 pcie driver=vfio-pci group=3 "
	     "bar1=64:pref:1T\n" CPUINFO_INTEL46 DPKG("0~20191122.bd85bf54-2ubuntu3"));
	run_mm4("", OVMF_LOADER, "", HD("0x43"));
	mm(VH_ERROR, "<maxphysaddr mode='emulate' bits='41'/>", "edk2 2019.11");
	assert_contains(find("mmio-window")->fix, "name=opt/ovmf/X-PciMmio64Mb,string=1048576'");
}

static void ovmf_new(void **state UNUSED)
{
	host(DEVS CPUINFO_INTEL46 DPKG("2024.02-2"));
	run_mm(" firmware='efi'", "<cpu mode='host-model'/>", HD("0x41"));
	mm_none();
	/* host-model: 40 bits (on an Intel CPU: not trusted, the classic
	 * 32 GiB), or the host's where libvirt gives them: a warning. */
	run_mm(" firmware='efi'", "<cpu mode='host-model'/>", HD("0x42") HD("0x41"));
	mm(VH_WARNING, NULL, "64-bit window: between 32 GiB and 8 TiB");
	run_mm(" firmware='efi'", "<cpu mode='host-model'/>", HD("0x43"));
	mm(VH_WARNING, "<maxphysaddr mode='emulate' bits='41'/>", "between 32 GiB and 8 TiB");
	/* A named model: 40 bits, the classic 32 GiB on this Intel host. */
	run_mm(" firmware='efi'", "<cpu mode='custom'><model>Skylake-Server</model></cpu>",
	       HD("0x43"));
	mm(VH_ERROR, "string=262144", "64-bit window: 32 GiB");
	/* qemu64 under KVM has the host's vendor (host_cpu_instance_init):
	 * an Intel CPU with 40 bits is not trusted, the classic 32 GiB. */
	run_mm(" firmware='efi'", "", HD("0x42") HD("0x41"));
	mm(VH_ERROR, NULL, "64-bit window: 32 GiB");
	run_mm(" firmware='efi'", "", HD("0x43"));
	mm(VH_ERROR, "262144", "64-bit window: 32 GiB");
	/* The host's 46 bits: 8 TiB. */
	run_mm(" firmware='efi'",
	       "<cpu mode='host-passthrough'><maxphysaddr mode='passthrough'/></cpu>",
	       HD("0x43") HD("0x42") HD("0x41"));
	mm_none();
	/* Before edk2-stable202505 X-PciMmio64Mb is the least... */
	run_mm(" firmware='efi'",
	       "<cpu mode='host-passthrough'><maxphysaddr mode='passthrough'/></cpu>"
	       "<sysinfo type='fwcfg'><entry name='opt/ovmf/X-PciMmio64Mb'>65536</entry>"
	       "</sysinfo>",
	       HD("0x43"));
	mm_none();
	/* ... from it on, the window. */
	host(DEVS CPUINFO_INTEL46 DPKG("2025.05-1"));
	run_mm(" firmware='efi'",
	       "<cpu mode='host-passthrough'><maxphysaddr mode='passthrough'/></cpu>"
	       "<sysinfo type='fwcfg'><entry name='opt/ovmf/X-PciMmio64Mb'>65536</entry>"
	       "</sysinfo>",
	       HD("0x43"));
	mm(VH_ERROR, "262144", "64-bit window: 64 GiB");
	assert_contains(find("mmio-window")->fix_where, "replacing the opt/ovmf/X-PciMmio64Mb in "
							"<sysinfo type='fwcfg'> at line 1");
	/* Newer than the newest read: 1/8 or maybe 1/4 (edk2 PR 12997). */
	host(DEVS CPUINFO_AMD48 DPKG("1:2026.08-1"));
	run_mm(" firmware='efi'", "", HD("0x43"));
	mm(VH_WARNING, "262144", "between 128 GiB and 256 GiB");
}

static void ovmf_unknown(void **state UNUSED)
{
	/* No package: the old one, or a newer one. */
	host(DEVS CPUINFO_INTEL46);
	run_mm(" firmware='efi'", "<cpu mode='host-passthrough'/>", HD("0x42") HD("0x41"));
	mm(VH_WARNING, "65536", "OVMF: version unknown (no Debian package ovmf installed)");
	/* A loader the package does not hold. */
	host(DEVS CPUINFO_INTEL46 DPKG("2024.02-2"));
	run_mm4("", "<loader type='pflash'>/opt/fw/OVMF.fd</loader>", "", HD("0x42") HD("0x41"));
	/* (qemu64 on this Intel host under KVM: 40 bits, untrusted, 32 GiB
	 * in every era) */
	mm(VH_ERROR, NULL, "does not hold the <loader>");
	/* A loader of neither kind: SeaBIOS and OVMF tried. */
	run_mm4("", "<loader type='rom'>/opt/fw/custom.fd</loader>", "", HD("0x43"));
	mm(VH_WARNING, NULL, "firmware: unknown");
	/* An empty <loader> (libvirt fills in the path later): the
	 * firmware's own, and no endless search of ovmf.list for "". */
	host(DEVS CPUINFO_INTEL46 DPKG("2024.02-2"));
	alarm(20);
	run_mm4(" firmware='efi'", "<loader secure='yes'/>", "", HD("0x43"));
	alarm(0);
	mm(VH_ERROR, NULL, "64-bit window: 32 GiB");
	/* Small BARs read nothing else: no cpuinfo, no dpkg needed. */
	host(DEVS);
	run_mm(" firmware='efi'", "", HD("0x41") HD("0x44"));
	mm_none();
}

static void override(void **state UNUSED)
{
	host(DEVS CPUINFO_INTEL46 DPKG("2022.02-3"));
	run_mm4("", OVMF_LOADER,
		"<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'>"
		"<vh:mmio-window size='1T'/></vh:settings></metadata>",
		HD("0x43"));
	mm_none();
	run_mm(" firmware='efi'",
	       "<cpu mode='host-passthrough'><maxphysaddr mode='passthrough'/></cpu>"
	       "<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'>"
	       "<vh:mmio-window size='64G'/></vh:settings></metadata>",
	       HD("0x43"));
	assert_contains(mm(VH_ERROR, NULL, NULL)->message,
			"more than the 64 GiB its <vh:mmio-window>");
	/* A size it cannot read is the metadata's error, and no override. */
	run_mm4("", OVMF_LOADER,
		"<metadata><vh:settings xmlns:vh='urn:vfio-hooks:domain:1'>"
		"<vh:mmio-window size='big'/></vh:settings></metadata>",
		HD("0x43"));
	assert_contains(T.dom->meta.error, "<mmio-window size='big'>");
	assert_false(T.dom->meta.has_mmio_window);
	mm(VH_ERROR, NULL, "64-bit window: 32 GiB");
}

static void not_applicable(void **state UNUSED)
{
	host(DEVS CPUINFO_INTEL46);
	/* Not an x86 QEMU guest: not checked. */
	reset_check();
	assert_true(asprintf(&T.xml,
			     "<domain type='kvm'><name>a</name><memory>1048576</memory>"
			     "<os><type arch='aarch64' machine='virt'>hvm</type></os>"
			     "<devices>%s</devices></domain>",
			     HD("0x43")) > 0);
	{
		struct vh_err e = {0};
		assert_int_equal(vh_domain_parse(T.xml, strlen(T.xml), "a.xml", &T.dom, &e), 0);
	}
	assert_int_equal(vh_check_domain(T.sys, &profiles, T.dom, NULL, &T.rep), 0);
	T.have_rep = true;
	mm_none();
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(resource_parsed), T_(resource_hostile), T_(seabios),  T_(ovmf_old),
	    T_(ovmf_new),	 T_(ovmf_unknown),     T_(override), T_(not_applicable),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
