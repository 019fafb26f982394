/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Independent devices prepared and given back at once (lib/units.h,
 * run_units in lib/engine.c) against the fake kernel: the kernel's slow
 * writes of different units overlap (FAKEKERNEL_RENDEZVOUS makes them
 * meet, or time out when they come one after the other), those of one
 * unit never do; the journal keeps each unit's order; a failure in one
 * unit rolls back all of them and reports the first failure in the plan's
 * order; a failed give-back leaves only its own device; SIGKILL before any
 * write of any device leaves what release puts back.
 */
#include "fixture-engine.h"

#include <signal.h>
#include <stdlib.h>

/* The domain of these tests: four units (the NIC; the Hailo-8; the GPU
 * with its audio companion; the NIC pair of group 50, NIC_B a
 * companion). */
#define FOUR "01:00.0 02:00.0 41:00.0 05:00.0"

static int p_setup(void **state)
{
	int r = setup(state);

	unsetenv("FAKEKERNEL_RENDEZVOUS");
	unsetenv("FAKEKERNEL_DELAY_MS");
	fakekernel_rendezvous_reset();
	T.cfg.companions = VH_COMPANIONS_ANY;
	return r;
}

static int p_teardown(void **state)
{
	unsetenv("FAKEKERNEL_RENDEZVOUS");
	unsetenv("FAKEKERNEL_DELAY_MS");
	fakekernel_rendezvous_reset();
	return teardown(state);
}

/* Whether the kernel log has a line "@op @a @b" (@b NULL: any). */
static bool klog_has(const char *op, const char *a, const char *b)
{
	char *klog = kernel_log(), *save = NULL, *line;
	bool found = false;

	for (line = strtok_r(klog, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		char o[64] = "", x[64] = "", y[64] = "";
		sscanf(line, "%63s %63s %63s", o, x, y);
		found = streq(o, op) && (!a || streq(x, a)) && (!b || streq(y, b));
	}
	free(klog);
	return found;
}

static void klog_clear(void)
{
	assert_int_equal(fakesys_put(T.root, ".fakekernel/log", ""), 0);
	fakekernel_rendezvous_reset();
}

/* The position of @addr's record in the journal of @uuid. */
static int record_index(const char *uuid, const char *addr)
{
	struct vh_pci_addr a;

	load_journal(uuid);
	assert_int_equal(vh_pci_addr_parse(addr, &a), 0);
	for (size_t i = 0; i < T.j.n_devs; i++)
		if (vh_pci_addr_eq(&T.j.devs[i].addr, &a))
			return (int)i;
	fail_msg("%s is not in the journal", addr);
	return -1;
}

static void no_overlap_within_units(void)
{
	assert_false(klog_has("overlap", GPU, GPU_AUDIO));
	assert_false(klog_has("overlap", GPU_AUDIO, GPU));
	assert_false(klog_has("overlap", NIC_A, NIC_B));
	assert_false(klog_has("overlap", NIC_B, NIC_A));
}

/* Four units meet in the kernel at prepare and at release; the devices
 * of one unit never; the host is as it was after. */
static void four_units_at_once(void **state UNUSED)
{
	char *before = snapshot();

	setenv("FAKEKERNEL_RENDEZVOUS", "4", 1);
	domain(0, "vm", U1, FOUR, NULL);
	prepare_ok(0);
	assert_false(klog_has("rendezvous-timeout", NULL, NULL));
	assert_true(klog_has("overlap", NULL, NULL));
	no_overlap_within_units();
	for (const char *const *d =
		 (const char *const[]){NIC, HAILO, GPU, GPU_AUDIO, NIC_A, NIC_B, NULL};
	     *d; d++)
		assert_string_equal(driver_of(*d), "vfio-pci");
	/* A unit's records in its order. */
	assert_true(record_index(U1, GPU) < record_index(U1, GPU_AUDIO));
	assert_true(record_index(U1, NIC_A) < record_index(U1, NIC_B));
	assert_int_equal(T.j.n_devs, 6);
	klog_clear();
	release_ok(U1);
	assert_false(klog_has("rendezvous-timeout", NULL, NULL));
	assert_true(klog_has("overlap", NULL, NULL));
	no_overlap_within_units();
	assert_same_tree(before, snapshot());
}

/* `parallel = no`: one device after the other: the first waits for a
 * second that never comes. */
static void serial_when_configured(void **state UNUSED)
{
	T.cfg.parallel = false;
	setenv("FAKEKERNEL_RENDEZVOUS", "2", 1);
	domain(0, "vm", U1, "01:00.0 02:00.0", NULL);
	prepare_ok(0);
	assert_true(klog_has("rendezvous-timeout", NIC, NULL));
	assert_false(klog_has("overlap", NULL, NULL));
	release_ok(U1);
}

/* Devices behind one bridge are one unit (a bus reset resets both):
 * never in the kernel at once, while another unit is. */
static void one_bridge_stays_ordered(void **state UNUSED)
{
	char *before;

	hx_host(&T.root, &T.sys,
		"iommu dmar0\n"
		"driver vfio-pci\n"
		"0000:00:01.0 id=8086:1905 class=0x060400 bridge pcie=4 group=1 "
		"driver=pcieport reset=none\n"
		"0000:01:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=10 "
		"msix=5 pcie reset=pm,bus parent=0000:00:01.0\n"
		"0000:01:01.0 id=8086:10d3 class=0x020000 driver=e1000e group=11 "
		"msix=5 pcie reset=pm,bus parent=0000:00:01.0\n"
		"0000:02:00.0 id=8086:10d3 class=0x020000 driver=e1000e group=20 "
		"msix=5 pcie reset=pm,bus\n");
	fakekernel_install(T.sys);
	T.en.sys = T.sys;
	before = snapshot();
	setenv("FAKEKERNEL_DELAY_MS", "20", 1);
	setenv("FAKEKERNEL_RENDEZVOUS", "2", 1);
	domain(0, "vm", U1, "01:00.0 01:01.0 02:00.0", NULL);
	prepare_ok(0);
	assert_false(klog_has("rendezvous-timeout", NULL, NULL));
	assert_true(klog_has("overlap", NULL, NULL));
	assert_false(klog_has("overlap", "0000:01:00.0", "0000:01:01.0"));
	assert_false(klog_has("overlap", "0000:01:01.0", "0000:01:00.0"));
	klog_clear();
	release_ok(U1);
	assert_false(klog_has("overlap", "0000:01:00.0", "0000:01:01.0"));
	assert_false(klog_has("overlap", "0000:01:01.0", "0000:01:00.0"));
	assert_same_tree(before, snapshot());
}

/* A failure in one unit: every unit rolled back, the error names it. */
static void failure_rolls_back_all(void **state UNUSED)
{
	char *before = snapshot();

	setenv("FAKEKERNEL_DELAY_MS", "10", 1);
	inject("unbind EBUSY " HAILO "\n");
	domain(0, "vm", U1, FOUR, NULL);
	assert_true(prepare(0) < 0);
	assert_contains(T.e.msg, HAILO);
	assert_false(journal_exists(U1));
	assert_same_tree(before, snapshot());
}

/* Two units fail: the error is the first in the plan's order (the
 * domain's), not the first in time: the GPU fails at its unbind, the NIC,
 * first in the domain, later, at its probe. */
static void first_failure_in_plan_order(void **state UNUSED)
{
	char *before = snapshot();

	setenv("FAKEKERNEL_RENDEZVOUS", "4", 1);
	setenv("FAKEKERNEL_DELAY_MS", "50", 1);
	inject("unbind EIO " GPU "\nprobe EBUSY " NIC " once\n");
	domain(0, "vm", U1, FOUR, NULL);
	assert_true(prepare(0) < 0);
	assert_contains(T.e.msg, NIC);
	assert_not_contains(T.e.msg, GPU);
	assert_false(journal_exists(U1));
	assert_same_tree(before, snapshot());
}

/* A give-back that fails in one unit leaves that device alone in the
 * journal; the others are back; a second release finishes. */
static void release_failure_in_one_unit(void **state UNUSED)
{
	char *before = snapshot();

	domain(0, "vm", U1, FOUR, NULL);
	prepare_ok(0);
	inject("probe EIO " HAILO "\nbind EIO " HAILO "\n");
	assert_int_equal(release(U1), 1);
	assert_contains(T.e.msg, HAILO);
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(driver_of(GPU), "nouveau");
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
	assert_string_equal(driver_of(NIC_B), "e1000e");
	assert_true(journal_exists(U1));
	assert_contains(journal_text(U1), "failed " HAILO);
	/* The journal holds the Hailo-8 alone: the others are free for
	 * another domain at once. */
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_non_null(jdev_of(HAILO));
	domain(1, "vm2", U2, "01:00.0", NULL);
	prepare_ok(1);
	release_ok(U2);
	inject("");
	release_ok(U1);
	assert_same_tree(before, snapshot());
}

/* prebind_managed: managed='yes' devices bound at prepare, at once;
 * libvirt finds them on vfio-pci and leaves them there at the stop
 * (virPCIDeviceBindToStub returns early, so it neither unbinds them
 * from the stub nor reprobes): the release gives them back. */
static void managed_prebound(void **state UNUSED)
{
	char *before = snapshot();

	T.cfg.prebind_managed = true;
	setenv("FAKEKERNEL_RENDEZVOUS", "2", 1);
	domain(0, "vm", U1, "m:01:00.0 m:02:00.0", NULL);
	prepare_ok(0);
	assert_false(klog_has("rendezvous-timeout", NULL, NULL));
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(driver_of(HAILO), "vfio-pci");
	load_journal(U1);
	assert_true(jdev_of(NIC)->managed);
	assert_string_equal(jdev_of(NIC)->driver, "e1000e");
	recheck(0);
	assert_int_equal(verify(0), 0);
	release_ok(U1);
	assert_same_tree(before, snapshot());
}

/* Without it (the default), managed devices stay libvirt's to bind. */
static void managed_not_prebound_by_default(void **state UNUSED)
{
	domain(0, "vm", U1, "m:01:00.0 m:02:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(driver_of(HAILO), "hailo");
	release_ok(U1);
}

/* SIGKILL before each write of each device, in a child that prepares
 * (the other units anywhere in their work): the release puts everything
 * back. */
static void crash_matrix(void **state UNUSED)
{
	const char *const devs[] = {NIC, HAILO, GPU, GPU_AUDIO, NIC_A, NIC_B};
	char *before = snapshot();
	int cases = 0;

	setenv("FAKEKERNEL_DELAY_MS", "2", 1);
	domain(0, "vm", U1, FOUR, NULL);
	for (size_t d = 0; d < ELEMENTSOF(devs); d++)
		for (int k = 0;; k++) {
			char rule[128];
			int status = 0;
			pid_t pid;
			snprintf(rule, sizeof(rule), "any KILL %s skip=%d\n", devs[d], k);
			inject(rule);
			pid = fork();
			assert_true(pid >= 0);
			if (pid == 0) {
				struct vh_err e = {0};
				_exit(vh_engine_prepare(&T.en, T.dom[0], &T.rep[0], &e) == 0 ? 0
											     : 1);
			}
			assert_int_equal(waitpid(pid, &status, 0), pid);
			inject("");
			if (WIFEXITED(status)) {
				/* No k-th write of this device: done with it. */
				assert_int_equal(WEXITSTATUS(status), 0);
				release_ok(U1);
				assert_same_tree(before, snapshot());
				break;
			}
			assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
			cases++;
			memset(&T.e, 0, sizeof(T.e));
			if (vh_engine_release(&T.en, U1, &T.e) < 0 && T.e.code != -ENOENT)
				fail_msg("%s step %d: release failed: %s", devs[d], k, T.e.msg);
			assert_false(journal_exists(U1));
			if (strcmp(before, snapshot()))
				fail_msg("killed before write %d of %s: not restored", k, devs[d]);
			recheck(0);
		}
	/* Every device has at least its unbind and probe. */
	assert_true(cases >= 2 * (int)ELEMENTSOF(devs));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(four_units_at_once, p_setup, p_teardown),
	    cmocka_unit_test_setup_teardown(serial_when_configured, p_setup, p_teardown),
	    cmocka_unit_test_setup_teardown(one_bridge_stays_ordered, p_setup, p_teardown),
	    cmocka_unit_test_setup_teardown(failure_rolls_back_all, p_setup, p_teardown),
	    cmocka_unit_test_setup_teardown(first_failure_in_plan_order, p_setup, p_teardown),
	    cmocka_unit_test_setup_teardown(release_failure_in_one_unit, p_setup, p_teardown),
	    cmocka_unit_test_setup_teardown(managed_prebound, p_setup, p_teardown),
	    cmocka_unit_test_setup_teardown(managed_not_prebound_by_default, p_setup, p_teardown),
	    cmocka_unit_test_setup_teardown(crash_matrix, p_setup, p_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
