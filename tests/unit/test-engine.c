/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine against the fake kernel: binding and restoring unmanaged
 * devices, reset_method quirks of managed ones, IOMMU group companions,
 * devices without a driver or with a driver_override, per-domain metadata,
 * device-busy between domains, reconnect and the log callback.
 */
#include "fixture-engine.h"

/* --- unmanaged devices --- */

static void unmanaged_bound_and_restored(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(attr_of(NIC, "driver_override"), "vfio-pci");
	assert_true(rooted_exists("dev/vfio/10"));
	/* no profile, no metadata: reset_method untouched */
	assert_string_equal(attr_of(NIC, "reset_method"), "pm bus");
	/* nothing else moved */
	assert_string_equal(driver_of(GPU), "nouveau");
	assert_string_equal(driver_of(NIC_A), "e1000e");

	/* the journal: the original state, prepared */
	assert_true(journal_exists(U1));
	load_journal(U1);
	assert_true(T.j.prepared);
	assert_string_equal(T.j.domain, "nic-vm");
	assert_int_equal(T.j.n_devs, 1);
	assert_string_equal(T.j.devs[0].driver, "e1000e");
	assert_string_equal(T.j.devs[0].override, "");
	assert_true(T.j.devs[0].has_reset_method);
	assert_string_equal(T.j.devs[0].reset_method, "pm bus");
	assert_int_equal(T.j.devs[0].role, VH_ROLE_HOSTDEV);
	assert_false(T.j.devs[0].managed);
	/* no profile: a reset on release */
	assert_true(T.j.devs[0].reset_on_release);
	{
		struct stat st;
		char p[4200];
		snprintf(p, sizeof(p), "%s/run/vfio-hooks", T.root);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0700);
		snprintf(p, sizeof(p), "%s/run/vfio-hooks/" U1 ".journal", T.root);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
	}

	recheck(0);
	assert_int_equal(verify(0), 0);

	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_string_equal(attr_of(NIC, "driver_override"), "(null)");
	assert_false(rooted_exists("dev/vfio/10"));
	after = snapshot();
	assert_same_tree(before, after);
	/* reset on release, while still on vfio-pci */
	assert_int_equal(kernel_ops("reset", NIC), 1);

	/* a second release: nothing to do */
	assert_int_equal(release(U1), -ENOENT);
}

static void move_with(struct vh_sys *s, const char *dev, const char *from, const char *override)
{
	assert_int_equal(vh_sys_write(s, override, VH_WRITE_BOUNDED,
				      "/sys/bus/pci/devices/%s/driver_override", dev),
			 0);
	assert_int_equal(
	    vh_sys_write(s, dev, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/%s/unbind", from), 0);
	assert_int_equal(vh_sys_write(s, dev, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers_probe"), 0);
}

/* A report the caller took before the lock ('vfio-hooks bind'): another
 * process may have moved a device since, so prepare reads each device
 * again instead of taking the report's reading as its original state. */
static void caller_report_read_again(void **state UNUSED)
{
	struct vh_sys *other;

	assert_int_equal(vh_sys_new(T.root, &other), 0);
	fakekernel_install(other);
	/* Another domain's hook holds the NIC on vfio-pci... */
	move_with(other, NIC, "e1000e", "vfio-pci");
	assert_string_equal(driver_of(NIC), "vfio-pci");
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	assert_string_equal(T.rep[0].devs[0].dev.driver, "vfio-pci");
	/* ...and gives it back before this prepare runs. */
	move_with(other, NIC, "vfio-pci", "");
	assert_string_equal(driver_of(NIC), "e1000e");
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	load_journal(U1);
	assert_string_equal(T.j.devs[0].driver, "e1000e");
	release_ok(U1);
	assert_string_equal(driver_of(NIC), "e1000e");
	vh_sys_free(other);
}

static void bind_unmanaged_off(void **state UNUSED)
{
	char *before = snapshot(), *after;

	T.cfg.bind_unmanaged = false;
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	/* recorded, not bound */
	assert_string_equal(driver_of(NIC), "e1000e");
	assert_true(journal_exists(U1));
	/* QEMU would fail: verify says so, and how to fix it */
	assert_int_equal(verify(0), -EBUSY);
	assert_contains(T.e.msg, NIC " is on driver e1000e");
	assert_contains(T.e.msg, "bind_unmanaged");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- managed devices: reset_method quirks --- */

static void managed_hailo_reset_method(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "hailo-vm", U1, "m:02:00.0", NULL);
	prepare_ok(0);
	/* libvirt binds managed devices: the hook does not */
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_string_equal(attr_of(HAILO, "driver_override"), "(null)");
	/* the profile empties reset_method while assigned */
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	assert_true(T.j.devs[0].managed);
	assert_string_equal(T.j.devs[0].reset_method, "flr bus");
	assert_false(T.j.devs[0].reset_on_release);

	/* still on its host driver: verify refuses, without the unmanaged
	 * advice */
	assert_int_equal(verify(0), -EBUSY);
	assert_contains(T.e.msg, HAILO " is on driver hailo");
	assert_not_contains(T.e.msg, "managed='no'");

	/* libvirt detaches it to vfio-pci */
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/hailo/unbind"), 0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/bind"), 0);
	assert_string_equal(driver_of(HAILO), "vfio-pci");
	recheck(0);
	assert_int_equal(verify(0), 0);

	/* something put reset_method back: verify applies it again */
	log_reset();
	assert_int_equal(
	    vh_sys_write(T.sys, "flr", 0, "/sys/bus/pci/devices/%s/reset_method", HAILO), 0);
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr");
	assert_int_equal(verify(0), 0);
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	assert_int_equal(T.n_log_level[LOG_WARNING], 1);
	assert_contains(vh_buf_str(&T.log), "reset_method was 'flr' again");

	/* libvirt reattaches it to its driver, then release */
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/unbind"),
	    0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/hailo/bind"), 0);
	release_ok(U1);
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");
	after = snapshot();
	assert_same_tree(before, after);
	/* reset-on-release "no": never reset */
	assert_int_equal(kernel_ops("reset", HAILO), 0);
	assert_true(kernel_ops("reset_method", HAILO) >= 2);
}

static void managed_release_while_on_vfio(void **state UNUSED)
{
	char *before = snapshot(), *after;

	/* libvirt did not reattach (a managed='yes' device whose domain
	 * crashed): release puts reset_method and the driver back */
	domain(0, "hailo-vm", U1, "m:02:00.0", NULL);
	prepare_ok(0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/hailo/unbind"), 0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/bind"), 0);
	release_ok(U1);
	assert_string_equal(driver_of(HAILO), "hailo");
	assert_string_equal(attr_of(HAILO, "reset_method"), "flr bus");
	after = snapshot();
	assert_same_tree(before, after);
}

static void unmanaged_hailo(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "hailo-vm", U1, "02:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(HAILO), "vfio-pci");
	assert_string_equal(attr_of(HAILO, "reset_method"), "");
	assert_true(rooted_exists("dev/vfio/16"));
	recheck(0);
	assert_int_equal(verify(0), 0);
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- companions --- */

static void gpu_with_audio_companion(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "gpu-vm", U1, "41:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(GPU), "vfio-pci");
	assert_string_equal(driver_of(GPU_AUDIO), "vfio-pci");
	assert_string_equal(attr_of(GPU_AUDIO, "driver_override"), "vfio-pci");
	assert_true(rooted_exists("dev/vfio/41"));
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 2);
	assert_int_equal(jdev_of(GPU)->role, VH_ROLE_HOSTDEV);
	assert_string_equal(jdev_of(GPU)->driver, "nouveau");
	assert_int_equal(jdev_of(GPU_AUDIO)->role, VH_ROLE_COMPANION);
	assert_string_equal(jdev_of(GPU_AUDIO)->driver, "snd_hda_intel");
	assert_contains(vh_buf_str(&T.log), "companion snd_hda_intel -> vfio-pci");

	recheck(0);
	assert_int_equal(verify(0), 0);
	release_ok(U1);
	assert_string_equal(driver_of(GPU), "nouveau");
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
	assert_false(rooted_exists("dev/vfio/41"));
	after = snapshot();
	assert_same_tree(before, after);
}

static void companions_by_config(void **state UNUSED)
{
	char *before = snapshot(), *after;

	/* same-device (the default): the other function goes along */
	domain(0, "nic-vm", U1, "05:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC_A), "vfio-pci");
	assert_string_equal(driver_of(NIC_B), "vfio-pci");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);

	/* refuse: never bound (the check reports the group as not viable) */
	T.cfg.companions = VH_COMPANIONS_REFUSE;
	domain(0, "nic-vm", U1, "05:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC_A), "vfio-pci");
	assert_string_equal(driver_of(NIC_B), "e1000e");
	load_journal(U1);
	assert_int_equal(T.j.n_devs, 1);
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- original states --- */

static void no_driver_stays_without(void **state UNUSED)
{
	char *before, *after;

	/* if drivers_probe ran, this device would land on e1000e */
	assert_int_equal(fakesys_put(T.root, ".fakekernel/native", BARE " e1000e\n"), 0);
	before = snapshot();
	domain(0, "bare-vm", U1, "07:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(BARE), "vfio-pci");
	load_journal(U1);
	assert_string_equal(T.j.devs[0].driver, "");
	assert_contains(vh_buf_str(&T.log), "(none) -> vfio-pci");

	assert_int_equal(fakesys_put(T.root, ".fakekernel/log", ""), 0);
	release_ok(U1);
	assert_string_equal(driver_of(BARE), "");
	assert_string_equal(attr_of(BARE, "driver_override"), "(null)");
	assert_int_equal(kernel_ops("unbind", BARE), 1);
	assert_int_equal(kernel_ops("probe", BARE), 0);
	assert_int_equal(kernel_ops("bind", BARE), 0);
	after = snapshot();
	assert_same_tree(before, after);
}

static void override_restored(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "ovr-vm", U1, "08:00.0 09:00.0", NULL);
	prepare_ok(0);
	assert_string_equal(driver_of(OVR), "vfio-pci");
	assert_string_equal(driver_of(STUB), "vfio-pci");
	assert_string_equal(attr_of(OVR, "driver_override"), "vfio-pci");
	assert_string_equal(attr_of(STUB, "driver_override"), "vfio-pci");
	load_journal(U1);
	assert_string_equal(jdev_of(OVR)->override, "e1000e");
	assert_string_equal(jdev_of(OVR)->driver, "e1000e");
	assert_string_equal(jdev_of(STUB)->override, "pci-stub");
	assert_string_equal(jdev_of(STUB)->driver, "");
	release_ok(U1);
	assert_string_equal(driver_of(OVR), "e1000e");
	assert_string_equal(attr_of(OVR, "driver_override"), "e1000e");
	assert_string_equal(driver_of(STUB), "");
	assert_string_equal(attr_of(STUB, "driver_override"), "pci-stub");
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- metadata --- */

static void metadata_reset_method(void **state UNUSED)
{
	char *before = snapshot(), *after;

	domain(0, "nic-vm", U1, "01:00.0", "<vh:device address='0000:01:00.0' reset-method=''/>");
	assert_int_equal(T.dom[0]->meta.n_devices, 1);
	prepare_ok(0);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(attr_of(NIC, "reset_method"), "");
	load_journal(U1);
	assert_string_equal(T.j.devs[0].reset_method, "pm bus");
	release_ok(U1);
	assert_string_equal(attr_of(NIC, "reset_method"), "pm bus");
	after = snapshot();
	assert_same_tree(before, after);

	/* a supported subset */
	domain(0, "nic-vm", U1, "01:00.0",
	       "<vh:device address='0000:01:00.0' reset-method='bus'/>");
	prepare_ok(0);
	assert_string_equal(attr_of(NIC, "reset_method"), "bus");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);

	/* metadata wins over the profile: the Hailo-8 keeps 'bus' */
	domain(0, "hailo-vm", U1, "m:02:00.0", "<vh:device address='02:00.0' reset-method='bus'/>");
	prepare_ok(0);
	assert_string_equal(attr_of(HAILO, "reset_method"), "bus");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);

	/* metadata for a device not in the domain changes nothing */
	domain(0, "nic-vm", U1, "01:00.0", "<vh:device address='0000:07:00.0' reset-method=''/>");
	prepare_ok(0);
	assert_string_equal(attr_of(NIC, "reset_method"), "pm bus");
	assert_string_equal(attr_of(BARE, "reset_method"), "pm bus");
	release_ok(U1);
	after = snapshot();
	assert_same_tree(before, after);
}

static void metadata_unsupported_method(void **state UNUSED)
{
	char *before = snapshot(), *after;
	int r;

	domain(0, "nic-vm", U1, "01:00.0",
	       "<vh:device address='0000:01:00.0' reset-method='flr'/>");
	r = prepare(0);
	assert_int_equal(r, -EINVAL);
	assert_contains(T.e.msg, NIC);
	assert_contains(T.e.msg, "'flr'");
	assert_contains(T.e.msg, "does not support");
	assert_false(journal_exists(U1));
	after = snapshot();
	assert_same_tree(before, after);
}

/* --- two domains --- */

static void device_busy(void **state UNUSED)
{
	char name[256] = "", uuid[64] = "";
	struct vh_pci_addr a;
	char *j_before, *j_after;
	int r;

	domain(0, "first", U1, "01:00.0", NULL);
	domain(1, "second", U2, "07:00.0 01:00.0", NULL);
	prepare_ok(0);
	j_before = journal_text(U1);

	r = prepare(1);
	assert_int_equal(r, -EBUSY);
	assert_int_equal(T.e.code, -EBUSY);
	if (strncmp(T.e.msg, "[device-busy]", 13) != 0)
		fail_msg("message does not start with [device-busy]: %s", T.e.msg);
	assert_contains(T.e.msg, NIC);
	assert_contains(T.e.msg, "'first'");
	assert_contains(T.e.msg, U1 ".journal");
	assert_contains(T.e.msg, "vfio-hooks recover");
	/* the first keeps it, the second touched nothing */
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(driver_of(BARE), "");
	assert_string_equal(attr_of(BARE, "driver_override"), "(null)");
	assert_false(journal_exists(U2));
	j_after = journal_text(U1);
	assert_string_equal(j_before, j_after);

	/* who holds what */
	assert_int_equal(vh_pci_addr_parse(NIC, &a), 0);
	assert_int_equal(vh_engine_holder(&T.en, &a, name, sizeof(name), uuid, sizeof(uuid)), 1);
	assert_string_equal(name, "first");
	assert_string_equal(uuid, U1);
	assert_int_equal(vh_pci_addr_parse(BARE, &a), 0);
	assert_int_equal(vh_engine_holder(&T.en, &a, name, sizeof(name), uuid, sizeof(uuid)), 0);

	/* once released, the second may have it */
	release_ok(U1);
	recheck(1);
	prepare_ok(1);
	assert_string_equal(driver_of(NIC), "vfio-pci");
	assert_string_equal(driver_of(BARE), "vfio-pci");
	assert_int_equal(vh_pci_addr_parse(NIC, &a), 0);
	assert_int_equal(vh_engine_holder(&T.en, &a, name, sizeof(name), uuid, sizeof(uuid)), 1);
	assert_string_equal(name, "second");
	assert_string_equal(uuid, U2);
	release_ok(U2);
}

static void device_busy_companion(void **state UNUSED)
{
	int r;

	/* the GPU's domain holds the audio function as a companion; another
	 * domain asks for the audio function itself */
	domain(0, "gpu-vm", U1, "41:00.0", NULL);
	prepare_ok(0);
	domain(1, "audio-vm", U2, "41:00.1", NULL);
	r = prepare(1);
	assert_int_equal(r, -EBUSY);
	assert_contains(T.e.msg, "[device-busy] " GPU_AUDIO);
	assert_contains(T.e.msg, "'gpu-vm'");
	assert_string_equal(driver_of(GPU_AUDIO), "vfio-pci");
	assert_false(journal_exists(U2));
	release_ok(U1);
	assert_string_equal(driver_of(GPU_AUDIO), "snd_hda_intel");
}

/* Domain "third" (U3) with @devs is refused: @dev is held by @holder
 * (journal @uuid), and nothing of U3's was written. */
static void third_busy(const char *devs, const char *dev, const char *holder, const char *uuid)
{
	char want[256];

	domain(2, "third", U3, devs, NULL);
	assert_int_equal(prepare(2), -EBUSY);
	snprintf(want, sizeof(want), "[device-busy] %s is held", dev);
	assert_contains(T.e.msg, want);
	assert_contains(T.e.msg, holder);
	snprintf(want, sizeof(want), "%s.journal", uuid);
	assert_contains(T.e.msg, want);
	assert_false(journal_exists(U3));
}

/* Several other journals, one of them corrupt: the first device of the
 * plan that one of them holds is named, whichever journal holds it (the
 * state directory is read once for all the devices, not per device). */
static void device_busy_many_journals(void **state UNUSED)
{
#define U9 "6f1c3a52-8d0e-4b7e-9a55-000000000009"
	static const char corrupt[] = "vfio-hooks-journal 1\ndomain lost-vm\nuuid " U9 "\n"
				      "dev " GPU " role=hostdev managed=0 driver=nou/veau "
				      "override=- reset_method=- reset=1\n";
	const char *warn = "corrupt";
	const char *log, *p;
	int warnings = 0;

	domain(0, "first", U1, "01:00.0", NULL);
	prepare_ok(0);
	domain(1, "second", U2, "07:00.0", NULL);
	prepare_ok(1);

	/* U1 comes first by name, but the plan's first held device is
	 * BARE, held by U2 */
	third_busy("05:00.0 07:00.0 01:00.0", BARE, "'second'", U2);
	assert_string_equal(driver_of(NIC_A), "e1000e");

	/* a corrupt journal naming the GPU still holds it; one warning for
	 * it, not one per device */
	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U9 ".journal", corrupt), 0);
	log_reset();
	third_busy("05:00.0 41:00.0", GPU, "'(unknown: its journal is corrupt)'", U9);
	log = vh_buf_str(&T.log);
	for (p = log; (p = strstr(p, warn)); p += strlen(warn))
		warnings++;
	assert_int_equal(warnings, 1);
	assert_string_equal(driver_of(GPU), "nouveau");

	{
		char path[4096];
		snprintf(path, sizeof(path), "%s/run/vfio-hooks/" U9 ".journal", T.root);
		assert_int_equal(unlink(path), 0);
	}
	release_ok(U1);
	release_ok(U2);
#undef U9
}

/* --- reconnect --- */

static void reconnect(void **state UNUSED)
{
	struct vh_err e = {0};

	assert_int_equal(vh_engine_reconnect(&T.en, U1, &e), -ENOENT);
	domain(0, "nic-vm", U1, "01:00.0 m:02:00.0", NULL);
	prepare_ok(0);
	/* libvirt did its part for the managed one */
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/hailo/unbind"), 0);
	assert_int_equal(
	    vh_sys_write(T.sys, HAILO, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/bind"), 0);
	log_reset();
	memset(&e, 0, sizeof(e));
	assert_int_equal(vh_engine_reconnect(&T.en, U1, &e), 0);
	assert_int_equal(e.code, 0);
	assert_int_equal(T.n_log_level[LOG_WARNING], 0);
	/* reconnect changes nothing */
	assert_true(journal_exists(U1));
	assert_string_equal(driver_of(NIC), "vfio-pci");

	/* something took a device off vfio while the domain ran: warned,
	 * not failed (the domain keeps running) */
	assert_int_equal(
	    vh_sys_write(T.sys, NIC, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers/vfio-pci/unbind"), 0);
	log_reset();
	assert_int_equal(vh_engine_reconnect(&T.en, U1, &e), 0);
	assert_int_equal(T.n_log_level[LOG_WARNING], 1);
	assert_contains(vh_buf_str(&T.log), NIC " is on no driver");
	assert_true(journal_exists(U1));

	/* a corrupt journal: an error for the caller to report */
	assert_int_equal(fakesys_put(T.root, "run/vfio-hooks/" U2 ".journal", "junk\n"), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(vh_engine_reconnect(&T.en, U2, &e), -EBADMSG);
	assert_contains(e.msg, "corrupt at line 1");
	{
		char p[4200];
		snprintf(p, sizeof(p), "%s/run/vfio-hooks/" U2 ".journal", T.root);
		assert_int_equal(unlink(p), 0);
	}
	release_ok(U1);
}

/* --- the log callback --- */

static void log_messages(void **state UNUSED)
{
	int all;

	domain(0, "gpu-vm", U1, "41:00.0", NULL);
	log_reset();
	prepare_ok(0);
	/* unbind and bind of the GPU and of its companion */
	assert_true(T.n_log >= 4);
	assert_int_equal(T.n_log, T.n_log_level[LOG_INFO]);
	assert_contains(vh_buf_str(&T.log), GPU ": unbinding from nouveau");
	assert_contains(vh_buf_str(&T.log), "gpu-vm: " GPU ": bound nouveau -> vfio-pci");
	assert_contains(vh_buf_str(&T.log), GPU_AUDIO ": unbinding from snd_hda_intel");
	all = T.n_log;
	log_reset();
	release_ok(U1);
	assert_true(T.n_log >= 3);
	assert_contains(vh_buf_str(&T.log), "every device restored");
	assert_contains(vh_buf_str(&T.log), GPU ": back on nouveau");

	/* the level filters: at 'warning' a clean run says nothing */
	T.cfg.log_level = VH_LOG_WARNING;
	recheck(0);
	log_reset();
	prepare_ok(0);
	assert_int_equal(T.n_log, 0);
	release_ok(U1);
	assert_int_equal(T.n_log, 0);
	/* but warnings still come */
	recheck(0);
	prepare_ok(0);
	recheck(0);
	prepare_ok(0); /* a leftover: a warning */
	assert_int_equal(T.n_log, 1);
	assert_int_equal(T.n_log_level[LOG_WARNING], 1);
	release_ok(U1);

	/* no callback at all is fine */
	T.en.log = NULL;
	T.cfg.log_level = VH_LOG_DEBUG;
	log_reset();
	recheck(0);
	prepare_ok(0);
	release_ok(U1);
	assert_int_equal(T.n_log, 0);
	assert_true(all > 0);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T_(unmanaged_bound_and_restored),
	    T_(bind_unmanaged_off),
	    T_(caller_report_read_again),
	    T_(managed_hailo_reset_method),
	    T_(managed_release_while_on_vfio),
	    T_(unmanaged_hailo),
	    T_(gpu_with_audio_companion),
	    T_(companions_by_config),
	    T_(no_driver_stays_without),
	    T_(override_restored),
	    T_(metadata_reset_method),
	    T_(metadata_unsupported_method),
	    T_(device_busy),
	    T_(device_busy_companion),
	    T_(device_busy_many_journals),
	    T_(reconnect),
	    T_(log_messages),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
