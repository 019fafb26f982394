/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_pci_in_use over fake sysroots: what the host uses below a PCI
 * function (mounted disks and partitions, swap, md/dm members, network
 * interfaces with routes or addresses, the console), what it does not
 * (unmounted disks, interfaces that are down), and /proc files that
 * cannot be read.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/inuse.h"
#include "../fakesys.h"

static struct {
	char *root;
	struct vh_sys *sys;
	struct vh_uses u;
} T;

static void host(const char *spec)
{
	vh_uses_done(&T.u);
	hx_host(&T.root, &T.sys, spec);
}

static int teardown(void **state UNUSED)
{
	vh_uses_done(&T.u);
	T.sys = vh_sys_free(T.sys);
	if (T.root)
		chmod(T.root, 0755);
	hx_rmroot(&T.root);
	return 0;
}

/* The uses of @addr; returns their count. */
static int uses(const char *addr)
{
	struct vh_pci_addr a;
	struct vh_pci_dev d;
	int r;

	vh_uses_done(&T.u);
	assert_int_equal(vh_pci_addr_parse(addr, &a), 0);
	assert_int_equal(vh_pci_dev_read(T.sys, &a, &d), 0);
	r = vh_pci_in_use(T.sys, &d, &T.u);
	assert_true(r >= 0);
	assert_int_equal((size_t)r, T.u.n);
	return r;
}

static void expect_reason(const char *text, bool error)
{
	for (size_t i = 0; i < T.u.n; i++)
		if (strstr(T.u.v[i].reason, text)) {
			assert_int_equal(T.u.v[i].error, error);
			assert_non_null(T.u.v[i].fix);
			return;
		}
	fail_msg("no use says \"%s\" (%zu uses%s%s)", text, T.u.n, T.u.n ? ", first: " : "",
		 T.u.n ? T.u.v[0].reason : "");
}

static const char *fix_of(const char *text)
{
	for (size_t i = 0; i < T.u.n; i++)
		if (strstr(T.u.v[i].reason, text))
			return T.u.v[i].fix;
	return "";
}

#define AHCI                                                                                       \
	"0000:00:1f.2 id=8086:2922 class=0x010601 driver=ahci group=9 "                            \
	"msi=1\n"                                                                                  \
	"block sda pci=0000:00:1f.2 dev=8:0\n"                                                     \
	"block sda1 part=sda dev=8:1\n"                                                            \
	"block sda2 part=sda dev=8:2\n"

static void mounted_partition(void **state UNUSED)
{
	host(AHCI "mount sda2 /data xfs\n");
	assert_int_equal(uses("0000:00:1f.2"), 1);
	expect_reason("/dev/sda2 is mounted on /data.", true);
	assert_non_null(strstr(fix_of("sda2"), "unmount /data"));
	assert_int_equal(T.u.n_error, 1);
}

static void whole_disk_mounted(void **state UNUSED)
{
	host("0000:03:00.0 id=1b4b:9215 class=0x010601 pcie driver=ahci "
	     "group=3\n"
	     "block sdb pci=0000:03:00.0 dev=8:16\n"
	     "mount sdb /srv/backup\n");
	assert_int_equal(uses("0000:03:00.0"), 1);
	expect_reason("/dev/sdb is mounted on /srv/backup.", true);
}

static void mounted_by_source(void **state UNUSED)
{
	/* btrfs: an anonymous device number; the source names the disk. */
	host(AHCI);
	assert_int_equal(fakesys_put(T.root, "proc/self/mountinfo",
				     "30 1 0:35 / /home rw - btrfs /dev/sda1 "
				     "rw\n"
				     "31 1 0:35 / /var/lib/a\\040b rw - btrfs "
				     "/dev/sda1 rw\n"),
			 0);
	assert_int_equal(uses("0000:00:1f.2"), 1);
	expect_reason("/dev/sda1 is mounted on /home (and 1 more places).", true);
}

static void swap(void **state UNUSED)
{
	host(AHCI "swap sda1\n");
	assert_int_equal(uses("0000:00:1f.2"), 1);
	expect_reason("/dev/sda1 is active swap.", true);
	assert_non_null(strstr(fix_of("swap"), "swapoff"));
}

static void md_and_dm_holders(void **state UNUSED)
{
	/* sda2 in md0 under LVM's vg-root, mounted on / */
	host(AHCI "block md0 dev=9:0 slaves=sda2\n"
		  "block dm-0 dev=253:0 dm=vg-root slaves=md0\n"
		  "mount dm-0 /\n");
	assert_int_equal(uses("0000:00:1f.2"), 1);
	expect_reason("/dev/sda2 is a member of md0, which is a member of "
		      "dm-0 (vg-root), which is mounted on /.",
		      true);
	assert_non_null(strstr(fix_of("sda2"), "mdadm --stop"));

	/* An active md device with nothing mounted on it. */
	host(AHCI "block md1 dev=9:1 slaves=sda1\n");
	assert_int_equal(uses("0000:00:1f.2"), 1);
	expect_reason("/dev/sda1 is a member of md1, which is active.", true);
}

static void unmounted_disk_free(void **state UNUSED)
{
	host(AHCI "block sdc pci=0000:00:1f.2 dev=8:32\n"
		  /* a mount of another disk's device number */
		  "0000:04:00.0 id=1b4b:9215 class=0x010601 pcie driver=ahci "
		  "group=4\n"
		  "block sdd pci=0000:04:00.0 dev=8:48\n"
		  "mount sdd /\n");
	assert_int_equal(uses("0000:00:1f.2"), 0);
	assert_int_equal(uses("0000:04:00.0"), 1);
}

#define NIC                                                                                        \
	"0000:00:1f.6 id=8086:15bc class=0x020000 driver=e1000e group=10 "                         \
	"msi=1\n"

static void nic_default_route(void **state UNUSED)
{
	host(NIC "net eno1 pci=0000:00:1f.6 up\n"
		 "addr eno1 10.0.0.5/24\n"
		 "route eno1 default via 10.0.0.1\n");
	assert_int_equal(uses("0000:00:1f.6"), 1);
	expect_reason("eno1 carries the default route (via 10.0.0.1).", true);
	assert_non_null(strstr(fix_of("eno1"), "take eno1 down: ip link set eno1 down"));
}

static void nic_link_route_only(void **state UNUSED)
{
	host(NIC "net eno1 pci=0000:00:1f.6 up\n"
		 "addr eno1 10.0.0.5/24\n");
	assert_int_equal(uses("0000:00:1f.6"), 1);
	expect_reason("eno1 is up with a route to 10.0.0.0/24.", true);
}

static void nic_ipv6(void **state UNUSED)
{
	/* A global address (and its prefix route). */
	host(NIC "net eno1 pci=0000:00:1f.6 up\n"
		 "addr eno1 2001:db8:1::5/64\n");
	assert_int_equal(uses("0000:00:1f.6"), 1);
	expect_reason("eno1 is up with a route to 2001:db8:1::/64.", true);
	/* The IPv6 default route. */
	host(NIC "net eno1 pci=0000:00:1f.6 up\n"
		 "route eno1 default via fe80::1\n");
	assert_int_equal(uses("0000:00:1f.6"), 1);
	expect_reason("eno1 carries the IPv6 default route.", true);
	/* Link-local only: what every interface that is up has. */
	host(NIC "net eno1 pci=0000:00:1f.6 up\n"
		 "addr eno1 fe80::1234/64\n");
	assert_int_equal(uses("0000:00:1f.6"), 0);
}

static void nic_down_free(void **state UNUSED)
{
	/* Down, with stale routes in the file: the kernel dropped them. */
	host(NIC "net eno1 pci=0000:00:1f.6\n"
		 "route eno1 default via 10.0.0.1\n");
	assert_int_equal(uses("0000:00:1f.6"), 0);
	/* Up with nothing on it. */
	host(NIC "net eno1 pci=0000:00:1f.6 up\n"
		 "net eno2 virtual up\n"
		 "route eno2 default via 10.0.0.1\n");
	assert_int_equal(uses("0000:00:1f.6"), 0);
}

static void nic_bridge_port(void **state UNUSED)
{
	host(NIC "net br0 virtual up\n"
		 "net eno1 pci=0000:00:1f.6 up master=br0\n"
		 "addr br0 192.168.0.2/24\n"
		 "route br0 default via 192.168.0.1\n");
	assert_int_equal(uses("0000:00:1f.6"), 1);
	expect_reason("eno1 is a port of br0, which carries the default route "
		      "(via 192.168.0.1).",
		      true);
}

#define GPU                                                                                        \
	"0000:01:00.0 id=10de:2204 class=0x030000 driver=nouveau group=1 "                         \
	"pcie boot_vga\n"

static void boot_vga_console_warning(void **state UNUSED)
{
	host(GPU "fb fb0 pci=0000:01:00.0\n");
	assert_int_equal(uses("0000:01:00.0"), 1);
	expect_reason("console is on it (boot_vga 1, framebuffer fb0)", false);
	assert_int_equal(T.u.n_error, 0);
	/* efifb: the framebuffer is not below the function, fbcon is. */
	host(GPU "fbcon\n");
	assert_int_equal(uses("0000:01:00.0"), 1);
	expect_reason("fbcon bound", false);
	/* Not the boot GPU: no console on it. */
	host("0000:01:00.0 id=10de:2204 class=0x030000 driver=nouveau "
	     "group=1 pcie\nfbcon\n");
	assert_int_equal(uses("0000:01:00.0"), 0);
	/* The boot GPU without any console. */
	host(GPU);
	assert_int_equal(uses("0000:01:00.0"), 0);
}

static void nothing_free(void **state UNUSED)
{
	host(AHCI NIC GPU);
	assert_int_equal(uses("0000:00:1f.2"), 0);
	assert_int_equal(uses("0000:00:1f.6"), 0);
	assert_int_equal(uses("0000:01:00.0"), 0);
	/* A function on vfio-pci has nothing of the host's below it: its
	 * stale tree is not even read. */
	host("0000:00:1f.2 id=8086:2922 class=0x010601 driver=vfio-pci "
	     "group=9\n"
	     "block sda pci=0000:00:1f.2 dev=8:0\n"
	     "mount sda /\n");
	assert_int_equal(uses("0000:00:1f.2"), 0);
}

static void unreadable_proc(void **state UNUSED)
{
	char p[4200];

	host(AHCI "mount sda2 /\n" NIC "net eno1 pci=0000:00:1f.6 up\n"
		  "route eno1 default via 10.0.0.1\n");
	/* Directories where the files are: unreadable even for root. */
	snprintf(p, sizeof(p), "%s/proc/self/mountinfo", T.root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/proc/net/route", T.root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	/* The mount cannot be seen: said as a warning, never as free. */
	assert_int_equal(uses("0000:00:1f.2"), 1);
	expect_reason("/proc/self/mountinfo cannot be read (Is a directory), "
		      "so whether /dev/sda is in use is not known.",
		      false);
	assert_int_equal(uses("0000:00:1f.6"), 1);
	expect_reason("/proc/net/route cannot be read", false);

	/* A sysroot without /proc at all has nothing to say. */
	host(AHCI NIC "net eno1 pci=0000:00:1f.6 up\n");
	snprintf(p, sizeof(p), "%s/proc", T.root);
	assert_int_equal(fakesys_rmrf(p), 0);
	assert_int_equal(uses("0000:00:1f.2"), 0);
	assert_int_equal(uses("0000:00:1f.6"), 0);

	/* Garbage in the files: nothing matched, nothing crashed. */
	host(AHCI NIC "net eno1 pci=0000:00:1f.6 up\n");
	assert_int_equal(fakesys_put(T.root, "proc/self/mountinfo", "garbage\n\n 1 2 3\n - - -"),
			 0);
	assert_int_equal(fakesys_put(T.root, "proc/net/route", "eno1 zz\neno1\neno1 0 0 0 0 0 0"),
			 0);
	assert_int_equal(fakesys_put(T.root, "proc/net/ipv6_route", "x 1 2 3 4 5 6 7 8 eno1"), 0);
	assert_int_equal(uses("0000:00:1f.2"), 0);
	assert_int_equal(uses("0000:00:1f.6"), 0);
}

static void joined(void **state UNUSED)
{
	char *r, *f;

	host(AHCI "mount sda2 /\nswap sda1\n");
	assert_int_equal(uses("0000:00:1f.2"), 2);
	r = vh_uses_reasons(&T.u, " ");
	f = vh_uses_fixes(&T.u, "\n");
	assert_non_null(r);
	assert_non_null(f);
	assert_non_null(strstr(r, "/dev/sda1 is active swap. /dev/sda2 is "
				  "mounted on /."));
	assert_non_null(strstr(f, "\n"));
	free(r);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(mounted_partition, teardown),
	    cmocka_unit_test_teardown(whole_disk_mounted, teardown),
	    cmocka_unit_test_teardown(mounted_by_source, teardown),
	    cmocka_unit_test_teardown(swap, teardown),
	    cmocka_unit_test_teardown(md_and_dm_holders, teardown),
	    cmocka_unit_test_teardown(unmounted_disk_free, teardown),
	    cmocka_unit_test_teardown(nic_default_route, teardown),
	    cmocka_unit_test_teardown(nic_link_route_only, teardown),
	    cmocka_unit_test_teardown(nic_ipv6, teardown),
	    cmocka_unit_test_teardown(nic_down_free, teardown),
	    cmocka_unit_test_teardown(nic_bridge_port, teardown),
	    cmocka_unit_test_teardown(boot_vga_console_warning, teardown),
	    cmocka_unit_test_teardown(nothing_free, teardown),
	    cmocka_unit_test_teardown(unreadable_proc, teardown),
	    cmocka_unit_test_teardown(joined, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
