/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_qemu_parse reading the vIOMMU of a QEMU command line: its properties
 * as QEMU decides them, its order among the devices, -global and -set.
 */
#include "fixture-qemuargs.h"

/* --- the vIOMMU --- */

/* What the line writes, and what QEMU 8.2 makes of it (vh_viommu_effective:
 * the parser leaves "auto" and a missing intremap to the model, which the
 * check shares with the XML). */
static void intremap_as_qemu_decides(void **state UNUSED)
{
	static const struct {
		const char *accel, *machine, *iommu;
		enum vh_switch intremap;
	} cases[] = {
	    /* KVM with the in-kernel irqchip: auto means off */
	    {"kvm", "q35", "intel-iommu", VH_OFF},
	    {"kvm", "q35", "intel-iommu,intremap=auto", VH_OFF},
	    {"kvm", "q35,kernel-irqchip=on", "intel-iommu", VH_OFF},
	    {"kvm", "q35", "intel-iommu,intremap=on", VH_ON},
	    {"kvm", "q35", "intel-iommu,intremap=off", VH_OFF},
	    /* split or off irqchip, or TCG: auto means on */
	    {"kvm", "q35,kernel-irqchip=split", "intel-iommu", VH_ON},
	    {"kvm", "q35,kernel-irqchip=split", "intel-iommu,intremap=auto", VH_ON},
	    {"kvm", "q35,kernel-irqchip=off", "intel-iommu", VH_ON},
	    {"kvm", "q35,kernel-irqchip=split", "intel-iommu,intremap=off", VH_OFF},
	    {"tcg", "q35", "intel-iommu", VH_ON},
	    {"tcg", "q35", "intel-iommu,intremap=off", VH_OFF},
	    /* not a switch */
	    {"kvm", "q35", "intel-iommu,intremap=maybe", VH_BAD},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char acc[16], mach[64], dev[64];
		struct vh_domain *d;
		snprintf(acc, sizeof(acc), "%s", cases[i].accel);
		snprintf(mach, sizeof(mach), "%s", cases[i].machine);
		snprintf(dev, sizeof(dev), "%s", cases[i].iommu);
		d = OK(QEMU, "-accel", acc, "-machine", mach, "-device", dev);
		struct vh_viommu_eff x, old;
		assert_true(d->has_iommu);
		vh_viommu_effective(d, VH_QEMU_VERSION(8, 2, 0), &x);
		if (d->intremap == VH_BAD)
			x.intremap = VH_BAD;
		if (x.intremap != cases[i].intremap)
			fail_msg("-accel %s -machine %s -device %s: intremap "
				 "%d, expected %d",
				 acc, mach, dev, x.intremap, cases[i].intremap);
		/* Before 4.1 left out meant off; unknown, not assumed on. */
		vh_viommu_effective(d, VH_QEMU_VERSION(4, 0, 0), &old);
		if (d->intremap != VH_ON && d->intremap != VH_BAD)
			assert_int_equal(old.intremap, VH_OFF);
		vh_viommu_effective(d, 0, &old);
		if (d->intremap != VH_ON && d->intremap != VH_OFF)
			assert_int_equal(old.intremap, VH_ABSENT);
	}
}

static void caching_mode_spellings(void **state UNUSED)
{
	static const struct {
		const char *dev;
		enum vh_switch cm;
	} cases[] = {
	    {"intel-iommu,caching-mode=on", VH_ON},
	    {"intel-iommu,caching_mode=on", VH_ON},
	    {"intel-iommu,caching-mode=true", VH_ON},
	    {"intel-iommu,caching_mode=true", VH_ON},
	    {"intel-iommu,caching-mode=yes", VH_ON},
	    {"intel-iommu,caching-mode=off", VH_OFF},
	    {"intel-iommu,caching_mode=false", VH_OFF},
	    {"intel-iommu,caching-mode=false", VH_OFF},
	    {"intel-iommu", VH_ABSENT},
	    {"intel-iommu,caching-mode=junk", VH_BAD},
	    {"intel-iommu,caching-mode=on,caching-mode=off", VH_OFF},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char dev[64];
		struct vh_domain *d;
		snprintf(dev, sizeof(dev), "%s", cases[i].dev);
		d = OK(QEMU, "-machine", "q35", "-device", dev);
		if (d->caching_mode != cases[i].cm)
			fail_msg("-device %s: caching_mode %d, expected %d", dev, d->caching_mode,
				 cases[i].cm);
	}
}

static void iommu_other_properties(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35", "-device", "intel-iommu,eim=on,device-iotlb=on,aw-bits=39");
	assert_int_equal(d->eim, VH_ON);
	assert_int_equal(d->iotlb, VH_ON);
	assert_int_equal(d->aw_bits, 39);
	d = OK(QEMU, "-machine", "q35", "-device",
	       "intel-iommu,eim=off,device_iotlb=off,aw_bits=48");
	assert_int_equal(d->eim, VH_OFF);
	assert_int_equal(d->iotlb, VH_OFF);
	assert_int_equal(d->aw_bits, 48);
	d = OK(QEMU, "-machine", "q35", "-device", "intel-iommu");
	assert_int_equal(d->eim, VH_ABSENT);
	assert_int_equal(d->iotlb, VH_ABSENT);
	assert_int_equal(d->aw_bits, 0);
	/* a bad aw-bits is not a number of bits */
	d = OK(QEMU, "-device", "intel-iommu,aw-bits=wide");
	assert_int_equal(d->aw_bits, 0);
	d = OK(QEMU, "-device", "intel-iommu,aw-bits=65");
	assert_int_equal(d->aw_bits, 0);
}

static void iommu_models(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35", "-device", "intel-iommu");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "intel");
	d = OK(QEMU, "-machine", "q35", "-device", "amd-iommu");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "amd");
	d = OK(QEMU, "-machine", "q35", "-device", "virtio-iommu-pci");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "virtio");
	d = OK(QEMU, "-machine", "q35", "-device", "virtio-iommu");
	assert_string_equal(d->iommu_model, "virtio");
	d = OK(QEMU, "-machine", "q35", "-device", "virtio-net-pci");
	assert_false(d->has_iommu);
	assert_null(d->iommu_model);
	assert_int_equal(d->intremap, VH_ABSENT);
	assert_int_equal(d->caching_mode, VH_ABSENT);
}

static void iommu_order(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35", GOOD_IOMMU, GOOD_VFIO);
	assert_false(d->iommu_after_vfio);
	d = OK(QEMU, "-machine", "q35", GOOD_VFIO, GOOD_IOMMU);
	assert_true(d->iommu_after_vfio);
	/* after the first of two vfio devices */
	d = OK(QEMU, "-device", "vfio-pci,host=02:00.0", GOOD_IOMMU, GOOD_VFIO);
	assert_true(d->iommu_after_vfio);
	/* other models too */
	d = OK(QEMU, GOOD_VFIO, "-device", "virtio-iommu-pci");
	assert_true(d->iommu_after_vfio);
	/* other devices before the vIOMMU do not matter */
	d = OK(QEMU, "-device", "virtio-net-pci", GOOD_IOMMU, GOOD_VFIO);
	assert_false(d->iommu_after_vfio);
	/* no vfio device, or no vIOMMU */
	d = OK(QEMU, GOOD_IOMMU);
	assert_false(d->iommu_after_vfio);
	d = OK(QEMU, GOOD_VFIO);
	assert_false(d->iommu_after_vfio);
	/* JSON on both sides keeps the command-line order */
	d = OK(QEMU, "-device", "{\"driver\":\"vfio-pci\",\"host\":\"01:00.0\"}", "-device",
	       "{\"driver\":\"intel-iommu\"}");
	assert_true(d->iommu_after_vfio);
}

/* Regression (fixed): lib/qemuargs.c:761, 803, 806 compare argv positions, but
 * QEMU creates the legacy -device options (and -readconfig [device] sections)
 * first and the JSON -device options after them (qemu_create_cli_devices in
 * system/vl.c: qemu_opts_foreach("device") then QTAILQ_FOREACH
 * device_opts).  A JSON intel-iommu before a legacy vfio-pci is created
 * after it (missed viommu-order); a legacy intel-iommu after a JSON
 * vfio-pci is created before it (a false viommu-order refuses a line QEMU
 * starts).  Fix: order devices by (is_json, sequence) instead of argi. */
static void iommu_order_json_after_legacy(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35", "-device",
	       "{\"driver\":\"intel-iommu\",\"intremap\":\"on\","
	       "\"caching-mode\":true}",
	       GOOD_VFIO);
	assert_true(d->iommu_after_vfio);
	d = OK(QEMU, "-machine", "q35", "-device",
	       "{\"driver\":\"vfio-pci\",\"host\":\"0000:01:00.0\"}", GOOD_IOMMU);
	assert_false(d->iommu_after_vfio);
}

/* Regression (fixed): lib/qemuargs.c:517 gives every [device] section of a
 * -readconfig file the same argi, and :806 needs iommu_at > first_vfio, so a
 * file that lists the vfio-pci before the intel-iommu is not reported though
 * QEMU creates its devices in file order.  Fix: a per-device sequence number
 * (as for the previous BUG) instead of the argument index. */
static void iommu_order_within_readconfig(void **state UNUSED)
{
	char *cfg = config_file("order.cfg", "[device \"hostdev0\"]\n"
					     "  driver = \"vfio-pci\"\n"
					     "  host = \"0000:01:00.0\"\n"
					     "[device \"iommu0\"]\n"
					     "  driver = \"intel-iommu\"\n"
					     "  intremap = \"on\"\n"
					     "  caching-mode = \"on\"\n");
	struct vh_domain *d = OK(QEMU, "-machine", "q35", "-readconfig", cfg);

	assert_int_equal(d->n_hostdevs, 1);
	assert_true(d->has_iommu);
	assert_true(d->iommu_after_vfio);
}

/* --- -global and -set --- */

static void global_defaults(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-global", "intel-iommu.caching-mode=on", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ON);
	/* a -global after the device is still a default for it */
	d = OK(QEMU, "-device", "intel-iommu", "-global", "intel-iommu.caching-mode=on");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-global",
	       "driver=intel-iommu,property=caching-mode,"
	       "value=on",
	       "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-global", "intel-iommu.caching_mode=on", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-global", "driver=intel-iommu,property=caching_mode,value=on", "-device",
	       "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-machine", "q35,kernel-irqchip=split", "-enable-kvm", "-global",
	       "intel-iommu.intremap=off", "-device", "intel-iommu");
	assert_int_equal(d->intremap, VH_OFF);
	/* a -global for another driver does not apply */
	d = OK(QEMU, "-global", "amd-iommu.caching-mode=on", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ABSENT);
	/* a -global that does not concern us */
	d = OK(QEMU, "-global", "ICH9-LPC.disable_s3=1", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ABSENT);
	/* the later of two -global wins */
	d = OK(QEMU, "-global", "intel-iommu.caching-mode=on", "-global",
	       "intel-iommu.caching-mode=off", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_OFF);
}

static void device_overrides_global(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-global", "intel-iommu.caching-mode=off", "-device",
	       "intel-iommu,caching-mode=on");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-device", "intel-iommu,caching-mode=on", "-global",
	       "driver=intel-iommu,property=caching-mode,value=off");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-global", "intel-iommu.caching-mode=on", "-device",
	       "{\"driver\":\"intel-iommu\",\"caching-mode\":false}");
	assert_int_equal(d->caching_mode, VH_OFF);
}

static void set_overrides_device(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35,kernel-irqchip=split", "-enable-kvm", "-device",
	       "intel-iommu,id=vi,intremap=on,caching-mode=on", "-set", "device.vi.intremap=off");
	assert_int_equal(d->intremap, VH_OFF);
	assert_int_equal(d->caching_mode, VH_ON);
	/* -set beats -global and the device; '_' spelling */
	d = OK(QEMU, "-global", "intel-iommu.caching-mode=off", "-device",
	       "intel-iommu,id=vi,caching-mode=off", "-set", "device.vi.caching_mode=on");
	assert_int_equal(d->caching_mode, VH_ON);
	/* -set on a vfio device's host */
	d = OK(QEMU, "-device", "vfio-pci,id=hd0,host=01:00.0", "-set",
	       "device.hd0.host=0000:02:00.0");
	expect_addr(&d->hostdevs[0], "0000:02:00.0");
	/* -set for an unknown id, or another group, is harmless */
	d = OK(QEMU, "-device", "intel-iommu,id=vi,caching-mode=on", "-set",
	       "device.nope.caching-mode=off", "-set", "drive.d0.cache=none", "-set", "nonsense",
	       "-set", "device.vi");
	assert_int_equal(d->caching_mode, VH_ON);
	/* a device without an id is not touched by any -set */
	d = OK(QEMU, "-device", "intel-iommu,caching-mode=on", "-set", "device..caching-mode=off");
	assert_int_equal(d->caching_mode, VH_ON);
}

static void global_malformed(void **state UNUSED)
{
	assert_int_equal(FAILS(QEMU, "-machine", "q35", "-global", "foo"), -EINVAL);
	expect_msg("Argument 4");
	expect_msg("foo");
	assert_int_equal(FAILS(QEMU, "-global", "intel-iommu"), -EINVAL);
	expect_msg("Argument 2");
	assert_int_equal(FAILS(QEMU, "-global", "a=b.c"), -EINVAL);
	expect_msg("Argument 2");
	assert_int_equal(FAILS(QEMU, "-global", "intel-iommu.caching-mode"), -EINVAL);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(intremap_as_qemu_decides),
	    T_(caching_mode_spellings),
	    T_(iommu_other_properties),
	    T_(iommu_models),
	    T_(iommu_order),
	    T_(iommu_order_json_after_legacy),
	    T_(iommu_order_within_readconfig),
	    T_(global_defaults),
	    T_(device_overrides_global),
	    T_(set_overrides_device),
	    T_(global_malformed),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
