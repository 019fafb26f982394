/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV virtual functions that do not exist yet (lib/sriov.h): VF
 * addresses from First VF Offset and VF Stride across slot and bus
 * boundaries, the reverse lookup of a PF from a VF address, the limits
 * (TotalVFs, the end of the bus range, another PCI domain), and the sriov
 * records of the journal (lib/journal.h).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/journal.h"
#include "../../lib/sriov.h"
#include "../fakesys.h"

static struct vh_pci_dev pf_of(const char *addr, unsigned total, unsigned offset, unsigned stride)
{
	struct vh_pci_dev d = {0};
	assert_int_equal(vh_pci_addr_parse(addr, &d.addr), 0);
	d.caps.sriov = true;
	d.caps.sriov_total = total;
	d.caps.sriov_offset = offset;
	d.caps.sriov_stride = stride;
	return d;
}

static void expect_vf(const struct vh_pci_dev *pf, unsigned n, const char *want)
{
	struct vh_pci_addr a;
	char got[VH_PCI_ADDR_LEN];

	assert_int_equal(vh_sriov_vf_addr(pf, n, &a), 0);
	vh_pci_addr_format(&a, got);
	assert_string_equal(got, want);
}

static void vf_addresses(void **state)
{
	struct vh_pci_addr a;
	(void)state;

	/* Intel Flex: offset 1, stride 1: 4d:00.1 ... 4d:00.7, 4d:01.0. */
	struct vh_pci_dev flex = pf_of("0000:4d:00.0", 16, 1, 1);
	expect_vf(&flex, 1, "0000:4d:00.1");
	expect_vf(&flex, 7, "0000:4d:00.7");
	expect_vf(&flex, 8, "0000:4d:01.0");
	expect_vf(&flex, 16, "0000:4d:02.0");
	assert_int_equal(vh_sriov_vf_addr(&flex, 17, &a), -ERANGE);
	assert_int_equal(vh_sriov_vf_addr(&flex, 0, &a), -ERANGE);
	/* A NIC: offset 0xff, stride 2, VFs on the next bus. */
	struct vh_pci_dev nic = pf_of("0001:3b:00.1", 64, 0xff, 2);
	expect_vf(&nic, 1, "0001:3c:00.0");
	expect_vf(&nic, 2, "0001:3c:00.2");
	expect_vf(&nic, 5, "0001:3c:01.0");
	/* Past bus 0xff. */
	struct vh_pci_dev top = pf_of("0000:ff:00.0", 8, 0x100, 1);
	assert_int_equal(vh_sriov_vf_addr(&top, 1, &a), -ERANGE);
	struct vh_pci_dev none = {0};
	assert_int_equal(vh_sriov_vf_addr(&none, 1, &a), -EINVAL);
}

static void find_pf(void **state)
{
	char *root = fakesys_mkroot(), err[256];
	struct vh_sys *sys = NULL;
	struct vh_pci_addr vf;
	struct vh_pci_dev pf;
	unsigned n = 0;
	(void)state;

	assert_non_null(root);
	assert_int_equal(fakesys_build(root,
				       "0000:00:02.0 id=8086:10d3 class=0x020000\n"
				       "0000:4d:00.0 id=8086:56c0 class=0x038000 pcie "
				       "sriov=total:16,offset:1,stride:1,vfdev:56c0\n"
				       "0000:3b:00.0 id=8086:1572 class=0x020000 pcie "
				       "sriov=total:64,offset:256,stride:2,vfdev:154c\n",
				       err, sizeof(err)),
			 0);
	assert_int_equal(vh_sys_new(root, &sys), 0);
	assert_int_equal(vh_pci_addr_parse("0000:4d:01.2", &vf), 0);
	assert_int_equal(vh_sriov_find_pf(sys, &vf, &pf, &n), 1);
	assert_int_equal(pf.addr.bus, 0x4d);
	assert_int_equal(n, 10);
	assert_int_equal(vh_pci_addr_parse("0000:3c:00.4", &vf), 0);
	assert_int_equal(vh_sriov_find_pf(sys, &vf, &pf, &n), 1);
	assert_int_equal(pf.addr.bus, 0x3b);
	assert_int_equal(n, 3);
	/* Between two VFs of the stride-2 PF, past TotalVFs, other domain. */
	assert_int_equal(vh_pci_addr_parse("0000:3c:00.1", &vf), 0);
	assert_int_equal(vh_sriov_find_pf(sys, &vf, &pf, &n), 0);
	assert_int_equal(vh_pci_addr_parse("0000:4d:02.1", &vf), 0);
	assert_int_equal(vh_sriov_find_pf(sys, &vf, &pf, &n), 0);
	assert_int_equal(vh_pci_addr_parse("0001:4d:00.1", &vf), 0);
	assert_int_equal(vh_sriov_find_pf(sys, &vf, &pf, &n), 0);
	vh_sys_free(sys);
	fakesys_rmrf(root);
	free(root);
}

static void journal_records(void **state)
{
	static const char *const bad[] = {
	    "sriov 0000:4d:00.0 numvfs=0\n",
	    "sriov 0000:4d:00.0 numvfs=0 autoprobe=2\n",
	    "sriov ../../x numvfs=0 autoprobe=1\n",
	    "sriov 0000:4d:00.0 numvfs=99999999 autoprobe=1\n",
	    "sriov 0000:4d:00.0 numvfs=0 autoprobe=1 extra\n",
	};
	const char *uuid = "6f1c3a52-8d0e-4b7e-9a55-000000000001";
	char *dir = fakesys_mkroot(), path[4200];
	struct vh_journal j = {.fd = -1};
	struct vh_jsriov rec = {.numvfs = 0, .autoprobe = 1};
	struct vh_err e = {0};
	int dfd;
	(void)state;

	assert_non_null(dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(vh_journal_create(dfd, uuid, "vm", &j, &e), 0);
	assert_int_equal(vh_pci_addr_parse("0000:4d:00.0", &rec.pf), 0);
	assert_int_equal(vh_journal_add_sriov(&j, &rec, &e), 0);
	rec.autoprobe = -1;
	assert_int_equal(vh_pci_addr_parse("0000:5e:00.0", &rec.pf), 0);
	assert_int_equal(vh_journal_add_sriov(&j, &rec, &e), 0);
	vh_journal_done(&j);
	assert_int_equal(vh_journal_load(dfd, uuid, &j, &e), 0);
	assert_int_equal(j.n_sriov, 2);
	assert_int_equal(j.sriov[0].pf.bus, 0x4d);
	assert_int_equal(j.sriov[0].autoprobe, 1);
	assert_int_equal(j.sriov[1].autoprobe, -1);
	vh_journal_done(&j);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];
		FILE *f;
		snprintf(path, sizeof(path), "%s/%s.journal", dir, uuid);
		snprintf(text, sizeof(text), "vfio-hooks-journal 1\ndomain vm\nuuid %s\n%s", uuid,
			 bad[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		e = (struct vh_err){0};
		assert_int_equal(vh_journal_load(dfd, uuid, &j, &e), -EBADMSG);
		assert_non_null(strstr(e.msg, uuid));
	}
	close(dfd);
	fakesys_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vf_addresses),
	    cmocka_unit_test(find_pf),
	    cmocka_unit_test(journal_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
