/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine against the fake kernel when things fail: injected kernel
 * failures during prepare (roll-back to the exact tree) and release (the
 * journal keeps what is left), recover, leftovers of a crash, refusals and
 * the lock, and prepare's one check under the state lock.
 */
#include "fixture-engine.h"

/* --- injected failures during prepare --- */

struct fault {
	const char *name;
	const char *devs; /* the domain's hostdevs */
	const char *rules;
	int err;	 /* expected return, 0: any negative */
	const char *msg; /* in the message */
};

static const struct fault prepare_faults[] = {
    {"unbind busy", "01:00.0", "unbind EBUSY once\n", -EBUSY,
     "unbinding it from driver e1000e failed"},
    {"unbind timeout", "01:00.0", "unbind ETIMEDOUT once\n", -ETIMEDOUT,
     "the driver is holding the device"},
    {"probe binds nothing, bind refused", "01:00.0", "probe NOBIND once\nbind ENODEV once\n",
     -ENODEV, "the driver did not take it"},
    {"probe fails", "01:00.0", "probe EIO once\n", -EIO, "drivers_probe failed"},
    {"override refused", "01:00.0", "override EIO once\n", -EIO, "driver_override"},
    {"reset_method refused", "02:00.0", "reset_method EIO once\n", -EIO, "reset_method"},
    {"second device's unbind", "41:00.0", "unbind EBUSY " GPU_AUDIO " once\n", -EBUSY, GPU_AUDIO},
    {"second device's override", "08:00.0 01:00.0", "override EIO " NIC " once\n", -EIO, NIC},
    {"a driverless device's probe", "07:00.0", "probe NOBIND once\nbind EBUSY once\n", -ENODEV,
     BARE},
    {"managed hailo reset_method", "m:02:00.0", "reset_method EINVAL once\n", -EINVAL,
     "does not support"},
};

static void prepare_failures_roll_back(void **state UNUSED)
{
	for (size_t i = 0; i < ELEMENTSOF(prepare_faults); i++) {
		const struct fault *f = &prepare_faults[i];
		char *before, *after, *left;
		int r;

		before = snapshot();
		log_reset();
		domain(0, "fault-vm", U1, f->devs, NULL);
		inject(f->rules);
		r = prepare(0);
		if (r >= 0 || (f->err && r != f->err))
			fail_msg("%s: prepare returned %d (%s), expected %d", f->name, r, T.e.msg,
				 f->err);
		assert_int_equal(T.e.code, r);
		if (!strstr(T.e.msg, f->msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", f->name, T.e.msg, f->msg);
		/* every injected rule fired */
		left = inject_left();
		if (left[0])
			fail_msg("%s: rules never fired: %s", f->name, left);
		/* rolled back: the same tree, no journal */
		after = snapshot();
		assert_same_tree(before, after);
		if (journal_exists(U1))
			fail_msg("%s: a journal was left", f->name);
		/* the failure and the roll-back were logged */
		assert_true(T.n_log_level[LOG_ERR] >= 1);
		assert_contains(vh_buf_str(&T.log), "rolling back");
		assert_not_contains(vh_buf_str(&T.log), "roll-back incomplete");
		/* and a clean prepare works afterwards */
		inject("");
		recheck(0);
		prepare_ok(0);
		release_ok(U1);
	}
}

static void prepare_rollback_incomplete(void **state UNUSED)
{
	char *before = snapshot(), *after, *text;
	int r;

	domain(0, "gpu-vm", U1, "41:00.0", NULL);
	/* the companion's unbind fails the prepare, and the roll-back of the
	 * GPU fails too (the second rule lets the GPU's first unbind through;
	 * tests/fakekernel.c reads at most 4 words of a rule, so it cannot
	 * also name the address) */
	inject("unbind EBUSY " GPU_AUDIO " once\n"
	       "unbind EBUSY skip=1 once\n");
	r = prepare(0);
	assert_int_equal(r, -EBUSY);
	assert_contains(T.e.msg, GPU_AUDIO);
	assert_contains(vh_buf_str(&T.log), "roll-back incomplete");
	/* the journal keeps what is left, marked */
	assert_true(journal_exists(U1));
	text = journal_text(U1);
	assert_contains(text, "failed " GPU);
	assert_not_contains(text, "failed " GPU_AUDIO);
	assert_not_contains(text, "prepared");
	assert_string_equal(driver_of(GPU), "vfio-pci");
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
	load_journal(U1);
	assert_true(jdev_of(GPU)->failed);
	assert_false(T.j.prepared);

	/* a release finishes the job */
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- failures during release --- */

static void release_failure_then_retry(void **state UNUSED)
{
	char *before = snapshot(), *after, *text;
	int r;

	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	inject("unbind EBUSY once\n");
	log_reset();
	r = release(U1);
	assert_int_equal(r, 1);
	assert_int_equal(T.e.code, -EBUSY);
	assert_contains(T.e.msg, NIC);
	assert_contains(T.e.msg, "unbind");
	assert_true(T.n_log_level[LOG_ERR] >= 1);
	/* left recorded, marked failed */
	assert_true(journal_exists(U1));
	text = journal_text(U1);
	assert_contains(text, "\nfailed " NIC "\n");
	load_journal(U1);
	assert_true(T.j.prepared);
	assert_true(jdev_of(NIC)->failed);
	assert_string_equal(jdev_of(NIC)->driver, "e1000e");
	assert_string_equal(driver_of(NIC), "vfio-pci");

	/* a later release completes */
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
	after = snapshot();
	assert_same_tree(before, after);
}

static void release_persistent_failure(void **state UNUSED)
{
	char *before = snapshot(), *after, *text;

	domain(0, "two-vm", U1, "01:00.0 07:00.0", NULL);
	prepare_ok(0);
	/* one device cannot be restored, the other can */
	inject("unbind EBUSY " NIC "\n");
	assert_int_equal(release(U1), 1);
	assert_int_equal(release(U1), 1);
	assert_string_equal(driver_of(BARE), "");
	assert_string_equal(driver_of(NIC), "vfio-pci");
	text = journal_text(U1);
	/* one mark per attempt, for the device left only */
	{
		int n = 0;
		for (const char *p = text; (p = strstr(p, "failed " NIC)); p++)
			n++;
		assert_int_equal(n, 2);
	}
	assert_not_contains(text, "failed " BARE);
	inject("");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

static void release_reset_method_failure(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "hailo-vm", U1, "02:00.0", NULL);
	prepare_ok(0);
	inject("reset_method EIO once\n");
	assert_int_equal(release(U1), 1);
	assert_contains(T.e.msg, "reset_method");
	/* the driver was still restored; reset_method was not */
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	load_journal(U1);
	assert_true(jdev_of(HAILO)->failed);
	release_ok(U1);
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");
	after = snapshot();
	assert_same_tree(before, after);
}

static void release_device_gone(void **state UNUSED)
{
	char p[4200];

	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	/* hot-unplugged while the domain ran */
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/" NIC, T.root);
	assert_int_equal(unlink(p), 0);
	log_reset();
	release_ok(U1);
	assert_contains(vh_buf_str(&T.log), "gone");
	assert_true(T.n_log_level[LOG_WARNING] >= 1);
}

static void release_without_state(void **state UNUSED)
{
	/* nothing was ever prepared */
	assert_false(rooted_exists("run/vfio-hooks"));
	assert_int_equal(release(U1), -ENOENT);
	/* a corrupt journal is refused, and kept */
	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U1 ".journal",
				     "vfio-hooks-journal 1\ndomain x\nuuid " U1 "\ndev garbage\n"),
			 0);
	assert_int_equal(release(U1), -EBADMSG);
	assert_contains(T.e.msg, "corrupt at line 4");
	assert_true(journal_exists(U1));
}

/* --- recover --- */

static void recover_releases_every_journal(void **state UNUSED)
{
	char *before = snapshot(), *after;
	struct vh_err e = {0};

	domain(0, "a", U1, "01:00.0", NULL);
	domain(1, "b", U2, "41:00.0", NULL);
	domain(2, "c", U3, "m:02:00.0", NULL);
	prepare_ok(0);
	prepare_ok(1);
	prepare_ok(2);
	assert_true(journal_exists(U1));
	assert_true(journal_exists(U2));
	assert_true(journal_exists(U3));
	assert_string_equal(driver_of(GPU_AUDIO), "vfio-pci");

	/* one device resists once: recover counts it and goes on */
	inject("unbind EBUSY " GPU " once\n");
	assert_int_equal(vh_engine_recover(&T.en, false, NULL, &e), 1);
	assert_false(journal_exists(U1));
	assert_true(journal_exists(U2));
	assert_false(journal_exists(U3));
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");

	memset(&e, 0, sizeof(e));
	assert_int_equal(vh_engine_recover(&T.en, false, NULL, &e), 0);
	assert_int_equal(e.code, 0);
	assert_false(journal_exists(U2));
	after = snapshot();
	assert_same_tree(before, after);

	/* nothing left: nothing to do */
	assert_int_equal(vh_engine_recover(&T.en, false, NULL, &e), 0);
}

/* --- leftovers of a crash --- */

static void prepare_undoes_leftover(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	/* the hook died; libvirt starts the domain again: the leftover is
	 * undone first, so the new journal records the real original */
	log_reset();
	recheck(0);
	prepare_ok(0);
	assert_contains(vh_buf_str(&T.log), "journal from an earlier start");
	assert_true(T.n_log_level[LOG_WARNING] >= 1);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_string_equal(T.j.devs[0].driver, "e1000e");
	assert_string_equal(T.j.devs[0].override, "");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);

	/* the leftover names another device than the new start */
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(0, "nic-vm", U1, "07:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(driver_of(BARE), "vfio-pci");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_string_equal(jdev_of(BARE)->driver, "");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

static void prepare_leftover_cut_by_crash(void **state UNUSED)
{
	char *before = snapshot(), *after;
	char line[512];

	/* a crash after the record and the bind, before "prepared", with a
	 * half-written second record */
	assert_int_equal(
	    vh_sys_write(T.sys, NIC, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/e1000e/unbind"), 0);
	assert_int_equal(
	    vh_sys_write(T.sys, NIC, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/bind"), 0);
	snprintf(line, sizeof(line),
		 "vfio-hooks-journal 1\ndomain nic-vm\nuuid " U1 "\n"
		 "dev " NIC " role=hostdev managed=0 driver=e1000e override=- "
		 "reset_method=pm%%20bus reset=1\ndev 0000:07:0");
	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U1 ".journal", line), 0);
	domain(0, "nic-vm", U1, "07:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(driver_of(BARE), "vfio-pci");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

static void prepare_keeps_corrupt_leftover(void **state UNUSED)
{
	static const char corrupt[] = "vfio-hooks-journal 1\ndomain nic-vm\nuuid " U1 "\n"
				      "dev " NIC " role=hostdev managed=0 driver=e1000e override=- "
				      "reset_method=pm%20bus reset=1\n"
				      "dev 0000:41:00.0 role=hostdev managed=0 driver=nou/veau "
				      "override=- reset_method=- reset=1\n";
	char *text;
	int r;

	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U1 ".journal", corrupt), 0);
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	r = prepare(0);
	/* Regression (fixed): lib/engine.c:470 vh_engine_prepare loads a
	 * leftover journal of the same UUID with a NULL error and, when it is
	 * corrupt, goes on: vh_journal_create (O_TRUNC) then overwrites the
	 * only record of the devices' original drivers (the corrupt journal
	 * says "restore them by hand ... then remove it").  A corrupt leftover
	 * must refuse the prepare, as release does, and be kept. */
	text = journal_text(U1);
	assert_string_equal(text, corrupt);
	assert_int_equal(r, -EBADMSG);
	assert_contains(T.e.msg, "corrupt");
	assert_string_equal(driver_of(NIC), "e1000e");
}

static int child_prepare(void)
{
	struct vh_err e = {0};
	int r = vh_engine_prepare(&T.en, T.dom[0], &T.rep[0], &e);

	return r == 0 ? 0 : 1;
}

static void stray_file_in_state_dir(void **state UNUSED)
{
	pid_t pid;
	int status;

	/* a file with a journal's shape of name that is not a UUID */
	assert_int_equal(fakesys_put(T.root,
				     "run/vfio-hooks/zzzzzzzz-zzzz-zzzz-zzzz-"
				     "zzzzzzzzzzzz.journal",
				     "x\n"),
			 0);
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	/* Regression (fixed): lib/journal.c:404-407 vh_journal_list frees the
	 * name that is not a UUID but leaves the freed pointer in v[n] as the
	 * list's terminator; find_holder (lib/engine.c) then frees it again
	 * with vh_strv_free: a double free in every prepare (and in recover).
	 * Run in a child so that the sanitizer's abort fails this test only. */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_prepare());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("prepare with a stray file in /run/vfio-hooks crashed "
			 "or failed (status 0x%x)",
			 status);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	release_ok(U1);
}

/* --- refusals --- */

static void uuid_required(void **state UNUSED)
{
	char *before = snapshot(), *after;
	int r;

	domain(0, "no-uuid", NULL, "01:00.0", NULL);
	r = prepare(0);
	assert_int_equal(r, -EINVAL);
	assert_contains(T.e.msg, "'no-uuid'");
	assert_contains(T.e.msg, "uuid");
	domain(0, "bad-uuid", "../../../etc/passwd", "01:00.0", NULL);
	assert_int_equal(prepare(0), -EINVAL);
	assert_contains(T.e.msg, "'bad-uuid'");
	after = snapshot();
	assert_same_tree(before, after);
	assert_false(rooted_exists("run/vfio-hooks"));

	/* nothing to prepare: no UUID needed, nothing done */
	domain(0, "plain", NULL, "", NULL);
	assert_int_equal(prepare(0), 0);
	assert_int_equal(verify(0), 0);
	/* a device that does not exist is not prepared either */
	domain(0, "ghost", NULL, "33:00.0", NULL);
	assert_int_equal(prepare(0), 0);
	after = snapshot();
	assert_same_tree(before, after);
}

static void lock_timeout(void **state UNUSED)
{
	char *before, *after, why[256];
	int dfd = -1, lfd = -1, r;

	assert_int_equal(vh_sys_state_dir(T.sys, &dfd, why, sizeof(why)), 0);
	assert_int_equal(vh_journal_lock(dfd, 1000, &lfd), 0);
	before = snapshot();
	T.cfg.lock_timeout_ms = 300;
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	r = prepare(0);
	assert_int_equal(r, -ETIMEDOUT);
	assert_contains(T.e.msg, "/run/vfio-hooks/lock");
	assert_contains(T.e.msg, "lock timeout");
	after = snapshot();
	assert_same_tree(before, after);
	assert_false(journal_exists(U1));
	close(lfd);
	close(dfd);
	prepare_ok(0);
	release_ok(U1);
}

static void state_dir_refused(void **state UNUSED)
{
	char p[4200];
	int r;

	/* a state directory others may write to */
	snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
	assert_int_equal(mkdir(p, 0777), 0);
	assert_int_equal(chmod(p, 0777), 0);
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	r = prepare(0);
	assert_int_equal(r, -EPERM);
	assert_contains(T.e.msg, "state directory");
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_int_equal(release(U1), -EPERM);
	assert_int_equal(chmod(p, 0700), 0);
}

/* --- prepare's one check, under the state lock --- */

static struct {
	int calls, locked, refuse;
} lc;

/* The hook's check_locked: is the lock held (another open file cannot
 * take it), then the check, or a refusal the callback reports itself. */
static int check_cb(void *ud, struct vh_report *ret, struct vh_err *e)
{
	struct vh_check_opts o = {.companions = T.cfg.companions};
	char p[4200];
	int fd;

	(void)e;
	lc.calls++;
	snprintf(p, sizeof(p), "%s/run/vfio-hooks/lock", T.root);
	fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		lc.locked++;
	if (fd >= 0)
		close(fd);
	if (lc.refuse)
		return 1;
	return vh_check_domain(T.sys, &profiles, T.dom[(intptr_t)ud], &o, ret);
}

/* The NIC domain in slot 0, prepared with no report of the caller's: the
 * engine's only check is check_cb (@refuse: it refuses). */
static int prepare_checked_locked(int refuse)
{
	memset(&lc, 0, sizeof(lc));
	lc.refuse = refuse;
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	T.en.recheck = check_cb;
	T.en.recheck_ud = (void *)(intptr_t)0;
	memset(&T.e, 0, sizeof(T.e));
	return vh_engine_prepare(&T.en, T.dom[0], NULL, &T.e);
}

static void check_once_under_lock(void **state UNUSED)
{
	assert_int_equal(prepare_checked_locked(0), 0);
	assert_int_equal(lc.calls, 1);
	assert_int_equal(lc.locked, 1);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_true(journal_exists(U1));
	T.en.recheck = NULL;
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
}

static void check_under_lock_refuses(void **state UNUSED)
{
	assert_int_equal(prepare_checked_locked(1), 1);
	assert_int_equal(lc.calls, 1);
	assert_false(journal_exists(U1));
	assert_string_equal(driver_of(NIC), "e1000e");
	/* the lock is given back: a second prepare takes it */
	lc.refuse = 0;
	assert_int_equal(vh_engine_prepare(&T.en, T.dom[0], NULL, &T.e), 0);
	assert_int_equal(lc.calls, 2);
	T.en.recheck = NULL;
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
	/* no check at all: refused before anything */
	assert_int_equal(vh_engine_prepare(&T.en, T.dom[0], NULL, &T.e), -EINVAL);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T_(check_once_under_lock),
	    T_(check_under_lock_refuses),
	    T_(prepare_failures_roll_back),
	    T_(prepare_rollback_incomplete),
	    T_(release_failure_then_retry),
	    T_(release_persistent_failure),
	    T_(release_reset_method_failure),
	    T_(release_device_gone),
	    T_(release_without_state),
	    T_(recover_releases_every_journal),
	    T_(prepare_undoes_leftover),
	    T_(prepare_leftover_cut_by_crash),
	    T_(prepare_keeps_corrupt_leftover),
	    T_(stray_file_in_state_dir),
	    T_(uuid_required),
	    T_(lock_timeout),
	    T_(state_dir_refused),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
