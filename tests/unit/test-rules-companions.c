/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of vh_check_domain for IOMMU group companions under each
 * policy: what is bound with a hostdev, what is in use, what is harmless.
 */
#include "fixture-rules.h"

/* --- IOMMU group companions --- */

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

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
