/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which devices may be worked on at once (lib/units.h): vh_units_split on
 * keys given by hand (groups, SR-IOV families, bridges, root-bus slots,
 * devices without a group, chains of ties), and vh_unit_key_read on fake
 * sysroots (a device behind a bridge, on a root bus, a VF, one gone).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

#include "../../lib/pci.h"
#include "../../lib/sysfs.h"
#include "../../lib/units.h"

#define K(g, f, b)                                                                                 \
	{                                                                                          \
		.group = g, .family = f, .bus = b                                                  \
	}

/* Split @keys and compare the units with @want ("0 1 0 2": device i's
 * unit) and their count with @count. */
static void expect_units(const struct vh_unit_key *keys, size_t n, const char *want, int count)
{
	size_t unit[16];
	char got[64] = "";
	int r;

	assert_true(n <= 16);
	r = vh_units_split(keys, n, unit);
	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%zu", i ? " " : "",
			 unit[i]);
	if (r != count || strcmp(got, want))
		fail_msg("units '%s' (%d), expected '%s' (%d)", got, r, want, count);
}

static void independent_devices(void **state UNUSED)
{
	const struct vh_unit_key k[] = {
	    K("10", "0000:01:00.0", "0000:00:01.0"),
	    K("11", "0000:02:00.0", "0000:00:02.0"),
	    K("12", "0000:03:00.0", "0000:00:03.0"),
	    K("13", "0000:04:00.0", "0000:00:04.0"),
	};

	expect_units(k, 4, "0 1 2 3", 4);
}

static void one_group_is_one_unit(void **state UNUSED)
{
	/* A GPU and its audio function, between two others. */
	const struct vh_unit_key k[] = {
	    K("41", "0000:41:00.0", "0000:40:01.0"),
	    K("16", "0000:02:00.0", "0000:00:02.0"),
	    K("41", "0000:41:00.1", "0000:40:02.0"),
	    K("10", "0000:01:00.0", "0000:00:01.0"),
	};

	expect_units(k, 4, "0 1 0 2", 3);
}

static void pf_and_vfs_are_one_unit(void **state UNUSED)
{
	/* VFs in groups of their own, with their PF's family. */
	const struct vh_unit_key k[] = {
	    K("30", "0000:03:00.0", "0000:00:03.0"),
	    K("31", "0000:03:00.0", "0000:00:03.0"),
	    K("32", "0000:03:00.0", "0000:00:03.0"),
	    K("40", "0000:04:00.0", "0000:00:04.0"),
	};

	expect_units(k, 4, "0 0 0 1", 2);
}

static void one_bridge_is_one_unit(void **state UNUSED)
{
	/* Two devices behind one bridge (a bus reset resets both), in
	 * groups of their own; a third behind another. */
	const struct vh_unit_key k[] = {
	    K("20", "0000:05:00.0", "0000:04:00.0"),
	    K("21", "0000:06:00.0", "0000:04:01.0"),
	    K("22", "0000:05:01.0", "0000:04:00.0"),
	};

	expect_units(k, 3, "0 1 0", 2);
}

static void root_bus_slots(void **state UNUSED)
{
	/* On a root bus, functions of one slot are tied, other slots not. */
	const struct vh_unit_key k[] = {
	    K("1", "0000:00:06.0", "pci0000:00/06"),
	    K("2", "0000:00:07.0", "pci0000:00/07"),
	    K("3", "0000:00:06.1", "pci0000:00/06"),
	};

	expect_units(k, 3, "0 1 0", 2);
}

static void no_group_is_the_serial_unit(void **state UNUSED)
{
	/* Devices without a group (or gone: empty keys) go together,
	 * whatever else they share or not. */
	const struct vh_unit_key k[] = {
	    K("10", "0000:01:00.0", "0000:00:01.0"),
	    K("", "", ""),
	    K("11", "0000:02:00.0", "0000:00:02.0"),
	    K("", "0000:07:00.0", "0000:00:07.0"),
	};

	expect_units(k, 4, "0 1 2 1", 3);
}

static void ties_chain(void **state UNUSED)
{
	/* 0-1 share a group, 1-2 a bridge, 2-3 a family: one unit; 4 free.
	 * The chain found from its far end too. */
	const struct vh_unit_key k[] = {
	    K("1", "0000:01:00.0", "0000:00:01.0"), K("9", "0000:0a:00.0", "0000:00:0a.0"),
	    K("1", "0000:01:00.1", "0000:00:02.0"), K("2", "0000:02:00.0", "0000:00:02.0"),
	    K("3", "0000:02:00.0", "0000:00:03.0"),
	};

	expect_units(k, 5, "0 1 0 0 0", 2);
}

static void late_member_of_a_later_unit(void **state UNUSED)
{
	/* A release's journal order: the bridge pair (0, 3), the VF pair
	 * (1, 5), the Hailo-8 (2), the GPU (4) and its audio function last
	 * (6): the audio function goes with the GPU, not with the unit the
	 * GPU's number happens to name as a device. */
	const struct vh_unit_key k[] = {
	    K("10", "0000:01:00.0", "0000:00:01.0"),  K("3001", "0000:4d:00.0", "pci0000:4d/00"),
	    K("16", "0000:02:00.0", "pci0000:02/00"), K("11", "0000:01:01.0", "0000:00:01.0"),
	    K("41", "0000:41:00.0", "pci0000:41/00"), K("3002", "0000:4d:00.0", "pci0000:4d/00"),
	    K("41", "0000:41:00.1", "pci0000:41/00"),
	};

	expect_units(k, 7, "0 1 2 0 3 1 3", 4);
}

static void empty_bus_ties_nothing(void **state UNUSED)
{
	/* A bus that could not be read is no tie. */
	const struct vh_unit_key k[] = {
	    K("1", "0000:01:00.0", ""),
	    K("2", "0000:02:00.0", ""),
	};

	expect_units(k, 2, "0 1", 2);
}

static void nothing(void **state UNUSED)
{
	size_t unit[1] = {99};

	assert_int_equal(vh_units_split(NULL, 0, unit), 0);
}

static const char *const spec =
    "iommu dmar0\n"
    "0000:00:01.0 id=8086:1905 class=0x060400 bridge pcie=4 group=1 driver=pcieport\n"
    "0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 parent=0000:00:01.0\n"
    "0000:01:00.1 id=8086:10d3 class=0x020000 driver=e1000e group=11 parent=0000:00:01.0\n"
    "0000:00:06.0 id=8086:10d3 class=0x020000 driver=e1000e group=6\n"
    "0000:00:06.1 id=8086:10d3 class=0x020000 driver=e1000e group=7\n"
    "0000:03:00.0 id=8086:1521 class=0x020000 driver=igb group=30\n"
    "0000:03:10.0 id=8086:1520 class=0x020000 group=31 physfn=0000:03:00.0\n"
    "0000:08:00.0 id=8086:10d3 class=0x020000 driver=e1000e\n";

static void read_key(struct vh_sys *sys, const char *addr, struct vh_unit_key *k)
{
	struct vh_pci_addr a;

	assert_int_equal(vh_pci_addr_parse(addr, &a), 0);
	vh_unit_key_read(sys, &a, k);
}

static void keys_from_sysfs(void **state UNUSED)
{
	char *root = NULL;
	struct vh_sys *sys = NULL;
	struct vh_unit_key k;

	hx_host(&root, &sys, spec);
	read_key(sys, "0000:01:00.0", &k);
	assert_string_equal(k.group, "10");
	assert_string_equal(k.family, "0000:01:00.0");
	assert_string_equal(k.bus, "0000:00:01.0");
	read_key(sys, "0000:01:00.1", &k);
	assert_string_equal(k.bus, "0000:00:01.0");
	read_key(sys, "0000:00:06.1", &k);
	assert_string_equal(k.group, "7");
	assert_string_equal(k.bus, "pci0000:00/06");
	read_key(sys, "0000:03:10.0", &k);
	assert_string_equal(k.group, "31");
	assert_string_equal(k.family, "0000:03:00.0");
	/* No group: an empty key; gone: the same. */
	read_key(sys, "0000:08:00.0", &k);
	assert_string_equal(k.group, "");
	read_key(sys, "0000:09:00.0", &k);
	assert_string_equal(k.group, "");
	assert_string_equal(k.family, "");
	vh_sys_free(sys);
	hx_rmroot(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(independent_devices),
	    cmocka_unit_test(one_group_is_one_unit),
	    cmocka_unit_test(pf_and_vfs_are_one_unit),
	    cmocka_unit_test(one_bridge_is_one_unit),
	    cmocka_unit_test(root_bus_slots),
	    cmocka_unit_test(no_group_is_the_serial_unit),
	    cmocka_unit_test(ties_chain),
	    cmocka_unit_test(late_member_of_a_later_unit),
	    cmocka_unit_test(empty_bus_ties_nothing),
	    cmocka_unit_test(nothing),
	    cmocka_unit_test(keys_from_sysfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
