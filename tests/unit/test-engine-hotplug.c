/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hot-plug against the fake kernel: vh_engine_attach prepares a device
 * for a running domain under its journal (the start's records kept),
 * vh_engine_detach gives it back (companions of its group with it), the
 * journal's "gone" records, roll-back of a failed attach, a device QEMU
 * still holds, a device another domain holds.
 */
#include "fixture-engine.h"

static size_t T_prepared; /* the last attach's */

static int attach(int i, const char *devs)
{
	struct vh_pci_addr a[4];
	size_t n = 0;
	char *copy = strdup(devs), *save = NULL, *tok;

	assert_non_null(copy);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		assert_true(n < ELEMENTSOF(a));
		assert_int_equal(vh_pci_addr_parse(tok, &a[n++]), 0);
	}
	free(copy);
	memset(&T.e, 0, sizeof(T.e));
	T_prepared = 0;
	return vh_engine_attach(&T.en, T.dom[i], &T.rep[i], a, n, &T_prepared, &T.e);
}

static void attach_ok(int i, const char *devs)
{
	int r = attach(i, devs);

	if (r != 0)
		fail_msg("attach of %s to '%s' failed (%d): %s", devs, T.dom[i]->name, r, T.e.msg);
}

static int detach(const char *uuid, const char *dev)
{
	struct vh_pci_addr a;

	assert_int_equal(vh_pci_addr_parse(dev, &a), 0);
	memset(&T.e, 0, sizeof(T.e));
	return vh_engine_detach(&T.en, uuid, &a, 1, &T.e);
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p && *p;) {
		if (!strncmp(p, prefix, strlen(prefix)))
			n++;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return n;
}

/* A domain started with the NIC gets the Hailo-8 hot-plugged: prepared
 * as at a start (its profile's empty reset_method), recorded after the
 * NIC; detached, it is back and marked gone; the NIC stays until the
 * release, which leaves the host as it was. */
static void attach_to_running_domain(void **state UNUSED)
{
	char *before = snapshot();
	const char *text;

	domain(0, "vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(0, "vm", U1, "01:00.0 02:00.0", NULL);
	attach_ok(0, HAILO);
	assert_string_equal(driver_of(HAILO), "vfio-pci");
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	assert_string_equal(driver_of(NIC), "vfio-pci");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 2);
	assert_string_equal(jdev_of(HAILO)->driver, "hailo");
	assert_string_equal(jdev_of(HAILO)->reset_method, "flr bus");
	/* the start's records untouched, the new one after them */
	text = journal_text(U1);
	assert_int_equal(count_lines(text, "dev " NIC), 1);
	assert_true(strstr(text, "prepared\ndev " HAILO) != NULL);

	assert_int_equal(T_prepared, 1);
	/* the NIC is not prepared twice: a second attach of the Hailo is
	 * nothing to do (an attach whose libvirt call did not happen), and
	 * nothing of this call's to give back */
	attach_ok(0, HAILO);
	assert_int_equal(count_lines(journal_text(U1), "dev "), 2);
	assert_int_equal(T_prepared, 0);

	assert_int_equal(detach(U1, HAILO), 0);
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_true(strstr(journal_text(U1), "gone " HAILO "\n") != NULL);
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_string_equal(T.j.devs[0].driver, "e1000e");

	/* a detach of what the journal no longer holds */
	assert_int_equal(detach(U1, HAILO), -ENOENT);

	release_ok(U1);
	assert_same_tree(before, snapshot());
}

/* A domain started without any device: the attach makes its journal, the
 * detach of its only device removes it. */
static void attach_without_journal(void **state UNUSED)
{
	char *before = snapshot();

	domain(0, "vm", U1, "02:00.0", NULL);
	assert_false(journal_exists(U1));
	attach_ok(0, HAILO);
	assert_true(journal_exists(U1));
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_false(T.j.prepared);
	assert_int_equal(detach(U1, HAILO), 0);
	assert_false(journal_exists(U1));
	assert_same_tree(before, snapshot());
	/* no journal: nothing to detach, and none made */
	assert_int_equal(detach(U1, HAILO), -ENOENT);
	assert_false(journal_exists(U1));
}

/* Attach, detach, attach again: the second record is the state of the
 * second attach. */
static void attach_again_after_detach(void **state UNUSED)
{
	char *before = snapshot();

	domain(0, "vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(0, "vm", U1, "01:00.0 02:00.0", NULL);
	attach_ok(0, HAILO);
	assert_int_equal(detach(U1, HAILO), 0);
	attach_ok(0, HAILO);
	assert_string_equal(driver_of(HAILO), "vfio-pci");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 2);
	assert_string_equal(jdev_of(HAILO)->driver, "hailo");
	release_ok(U1);
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_same_tree(before, snapshot());
}

/* The GPU's audio function goes with it to vfio-pci, and back with it. */
static void attach_gpu_with_companion(void **state UNUSED)
{
	char *before = snapshot();

	domain(0, "vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(0, "vm", U1, "01:00.0 41:00.0", NULL);
	attach_ok(0, GPU);
	assert_string_equal(driver_of(GPU), "vfio-pci");
	assert_string_equal(driver_of(GPU_AUDIO), "vfio-pci");
	load_journal(U1);
	assert_int_equal(jdev_of(GPU_AUDIO)->role, VH_ROLE_COMPANION);
	assert_int_equal(detach(U1, GPU), 0);
	assert_string_equal(driver_of(GPU), "nouveau");
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
	assert_string_equal(driver_of(NIC), "vfio-pci");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	release_ok(U1);
	assert_same_tree(before, snapshot());
}

/* Two functions of one IOMMU group: the start bound the second as a
 * companion; hot-plugged, it becomes a hostdev.  Detaching one leaves it
 * on vfio-pci as a companion while the other is the domain's (the group
 * cannot be split); detaching the other gives both back. */
static void detach_keeps_shared_group(void **state UNUSED)
{
	char *before = snapshot();

	domain(0, "vm", U1, "05:00.0", NULL);
	T.cfg.companions = VH_COMPANIONS_ANY;
	recheck(0);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC_B), "vfio-pci");
	domain(0, "vm", U1, "05:00.0 05:00.1", NULL);
	attach_ok(0, NIC_B);
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 2);
	assert_int_equal(jdev_of(NIC_B)->role, VH_ROLE_HOSTDEV);
	assert_true(strstr(journal_text(U1), "role " NIC_B " hostdev\n") != NULL);
	assert_int_equal(detach(U1, NIC_A), 0);
	assert_string_equal(driver_of(NIC_A), "vfio-pci");
	assert_string_equal(driver_of(NIC_B), "vfio-pci");
	load_journal(U1);
	assert_int_equal(jdev_of(NIC_A)->role, VH_ROLE_COMPANION);
	assert_int_equal(jdev_of(NIC_B)->role, VH_ROLE_HOSTDEV);
	assert_int_equal(detach(U1, NIC_B), 0);
	assert_string_equal(driver_of(NIC_A), "e1000e");
	assert_string_equal(driver_of(NIC_B), "e1000e");
	assert_false(journal_exists(U1));
	assert_same_tree(before, snapshot());
}

/* A give-back that failed half-way leaves the device recorded as failed:
 * attaching it again is refused, not taken as prepared. */
static void attach_after_failed_detach(void **state UNUSED)
{
	domain(0, "vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(0, "vm", U1, "01:00.0 02:00.0", NULL);
	attach_ok(0, HAILO);
	inject("unbind EIO " HAILO "\n");
	assert_true(detach(U1, HAILO) > 0);
	inject("");
	assert_int_equal(attach(0, HAILO), -EBUSY);
	assert_non_null(strstr(T.e.msg, "did not complete"));
	release_ok(U1);
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");
}

/* A failed attach undoes itself and nothing of the start. */
static void attach_failure_rolls_back(void **state UNUSED)
{
	domain(0, "vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(0, "vm", U1, "01:00.0 41:00.0", NULL);
	inject("unbind EIO " GPU_AUDIO "\n");
	assert_true(attach(0, GPU) < 0);
	inject("");
	assert_non_null(strstr(T.e.msg, GPU_AUDIO));
	assert_string_equal(driver_of(GPU), "nouveau");
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
	assert_string_equal(driver_of(NIC), "vfio-pci");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_string_equal(T.j.devs[0].driver, "e1000e");
	assert_true(T.j.prepared);
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
}

/* QEMU still has the device's group open (the guest has not let it go):
 * nothing is given back. */
static void detach_while_open(void **state UNUSED)
{
	char p[4200];

	domain(0, "vm", U1, "02:00.0", NULL);
	attach_ok(0, HAILO);
	assert_int_equal(fakesys_put(T.root, "proc/4242/comm", "qemu-system-x86"), 0);
	assert_int_equal(fakesys_put(T.root, "proc/4242/fd/0", ""), 0);
	snprintf(p, sizeof(p), "%s/proc/4242/fd/7", T.root);
	assert_int_equal(symlink("/dev/vfio/16", p), 0);
	assert_int_equal(detach(U1, HAILO), -EBUSY);
	assert_non_null(strstr(T.e.msg, "4242 (qemu-system-x86)"));
	assert_string_equal(driver_of(HAILO), "vfio-pci");
	assert_true(journal_exists(U1));
	assert_int_equal(unlink(p), 0);
	assert_int_equal(detach(U1, HAILO), 0);
	assert_string_equal(driver_of(HAILO), "hailo");
}

/* A device another domain holds is refused, untouched. */
static void attach_held_by_other(void **state UNUSED)
{
	domain(1, "other", U2, "02:00.0", NULL);
	prepare_ok(1);
	domain(0, "vm", U1, "02:00.0", NULL);
	assert_int_equal(attach(0, HAILO), -EBUSY);
	assert_non_null(strstr(T.e.msg, "device-busy"));
	assert_false(journal_exists(U1));
	release_ok(U2);
}

/* The journal's "gone" record: strict, and forgetting only its device. */
static void journal_gone_records(void **state UNUSED)
{
	char p[4200];
	struct vh_journal j;
	struct vh_err e = {0};
	int dfd;

	domain(0, "vm", U1, "01:00.0 02:00.0", NULL);
	prepare_ok(0);
	snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
	dfd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	snprintf(p, sizeof(p), "%s/run/vfio-hooks/" U1 ".journal", T.root);
	{
		FILE *f = fopen(p, "a");
		assert_non_null(f);
		fputs("gone " HAILO "\ngone 0000:77:00.0\n", f);
		fclose(f);
	}
	assert_int_equal(vh_journal_load(dfd, U1, &j, &e), 0);
	assert_int_equal(j.n_devs, 1);
	vh_journal_done(&j);
	{
		FILE *f = fopen(p, "a");
		assert_non_null(f);
		fputs("gone 2:00.0\n", f);
		fclose(f);
	}
	assert_int_equal(vh_journal_load(dfd, U1, &j, &e), -EBADMSG);
	close(dfd);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T_(attach_to_running_domain),  T_(attach_without_journal),
	    T_(attach_again_after_detach), T_(attach_gpu_with_companion),
	    T_(detach_keeps_shared_group), T_(attach_after_failed_detach),
	    T_(attach_failure_rolls_back), T_(detach_while_open),
	    T_(attach_held_by_other),	   T_(journal_gone_records),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
