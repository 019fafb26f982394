/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The udev rules of `vfio-hooks bind --persist` (lib/persist.h): the exact
 * rule text, the round trip through vh_persist_read, reset methods with
 * spaces, names that cannot go into a rule, files that are not ours, and
 * the reserved UUIDs of bindings (lib/engine.h).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#include "../../lib/engine.h"
#include "../../lib/persist.h"
#include "../fakesys.h"

struct fx {
	char *root;
	struct vh_sys *sys;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->root = fakesys_mkroot();
	assert_non_null(f->root);
	assert_int_equal(vh_sys_new(f->root, &f->sys), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vh_sys_free(f->sys);
	fakesys_rmrf(f->root);
	free(f->root);
	free(f);
	return 0;
}

static struct vh_persist_dev dev(const char *addr, uint16_t v, uint16_t d, const char *drv,
				 bool set, const char *rm)
{
	struct vh_persist_dev p = {.vendor = v, .device = d, .set_reset = set};
	assert_int_equal(vh_pci_addr_parse(addr, &p.addr), 0);
	snprintf(p.driver, sizeof(p.driver), "%s", drv);
	snprintf(p.reset_method, sizeof(p.reset_method), "%s", rm);
	return p;
}

static void rule_text(void **state)
{
	struct fx *f = *state;
	struct vh_persist_dev d = dev("0000:02:00.0", 0x1e60, 0x2864, "vfio-pci", true, "");
	char buf[4096];
	struct vh_err e = {0};

	assert_int_equal(vh_persist_write(f->sys, &d, 1, "/usr/bin/vfio-hooks", &e), 0);
	assert_int_equal(fakesys_get(f->root,
				     "etc/udev/rules.d/"
				     "90-vfio-hooks-0000:02:00.0.rules",
				     buf, sizeof(buf)),
			 0);
	assert_non_null(strstr(buf,
			       "\nACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"0000:02:00.0\", "
			       "ATTR{vendor}==\"0x1e60\", ATTR{device}==\"0x2864\", "
			       "ATTR{driver_override}=\"vfio-pci\", "
			       "RUN{builtin}+=\"kmod load vfio-pci\", "
			       "RUN+=\"/usr/bin/vfio-hooks bind --boot --driver vfio-pci "
			       "--reset-method none 0000:02:00.0\""));
}

static void round_trip(void **state)
{
	struct fx *f = *state;
	struct vh_persist_dev in[2] = {
	    dev("0000:41:00.0", 0x10de, 0x2204, "vfio-pci", true, "flr bus"),
	    dev("0000:41:00.1", 0x10de, 0x1aef, "vfio-pci", false, ""),
	};
	struct vh_persist_dev *out = NULL;
	struct vh_err e = {0};
	size_t n = 0;

	assert_int_equal(vh_persist_write(f->sys, in, 2, "/bin/vfio-hooks", &e), 0);
	assert_int_equal(vh_persist_read(f->sys, &in[0].addr, &out, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_true(vh_pci_addr_eq(&out[0].addr, &in[0].addr));
	assert_true(vh_pci_addr_eq(&out[1].addr, &in[1].addr));
	assert_int_equal(out[0].vendor, 0x10de);
	assert_int_equal(out[1].device, 0x1aef);
	assert_true(out[0].set_reset);
	assert_string_equal(out[0].reset_method, "flr bus");
	assert_false(out[1].set_reset);
	assert_string_equal(out[1].driver, "vfio-pci");
	free(out);
	assert_int_equal(vh_persist_remove(f->sys, &in[0].addr, &e), 0);
	assert_int_equal(vh_persist_remove(f->sys, &in[0].addr, &e), -ENOENT);
	assert_int_equal(vh_persist_read(f->sys, &in[0].addr, &out, &n, &e), -ENOENT);
}

static void refuses_bad_words(void **state)
{
	struct fx *f = *state;
	struct vh_persist_dev d =
	    dev("0000:02:00.0", 1, 2, "vfio-pci\", RUN+=\"/bin/sh", false, "");
	struct vh_err e = {0};

	assert_int_equal(vh_persist_write(f->sys, &d, 1, "/bin/vfio-hooks", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "cannot go into a udev rule"));
	d = dev("0000:02:00.0", 1, 2, "vfio-pci", true, "flr\"; reboot");
	e = (struct vh_err){0};
	assert_int_equal(vh_persist_write(f->sys, &d, 1, "/bin/vfio-hooks", &e), -EINVAL);
	d = dev("0000:02:00.0", 1, 2, "vfio-pci", false, "");
	e = (struct vh_err){0};
	assert_int_equal(vh_persist_write(f->sys, &d, 1, "relative/vfio-hooks", &e), -EINVAL);
	e = (struct vh_err){0};
	assert_int_equal(vh_persist_write(f->sys, &d, 1, "/a b/vfio-hooks", &e), -EINVAL);
	assert_int_equal(fakesys_get(f->root,
				     "etc/udev/rules.d/"
				     "90-vfio-hooks-0000:02:00.0.rules",
				     (char[8]){0}, 8),
			 -ENOENT);
}

static void foreign_files(void **state)
{
	static const char *const bad[] = {
	    "ACTION==\"add\", RUN+=\"/bin/sh -c reboot\"\n",
	    "# vfio-hooks persistent binding of 0000:02:00.0\n"
	    "ACTION==\"add\", KERNEL==\"0000:02:00.0\"\n",
	    "# vfio-hooks persistent binding of 0000:02:00.0\n"
	    "ACTION==\"add\", KERNEL==\"../../x\", ATTR{vendor}==\"0x1\", "
	    "ATTR{device}==\"0x2\", RUN+=\"/x bind --boot --driver v x\"\n",
	    "# vfio-hooks persistent binding of 0000:02:00.0\n"
	    "ACTION==\"add\", KERNEL==\"0000:02:00.0\", ATTR{vendor}==\"0x1\", "
	    "ATTR{device}==\"0x2\", RUN+=\"/x bind --driver v 0000:02:00.0\"\n",
	    "# vfio-hooks persistent binding of 0000:02:00.0\n",
	    "",
	};
	struct fx *f = *state;
	struct vh_pci_addr a;

	assert_int_equal(vh_pci_addr_parse("0000:02:00.0", &a), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vh_persist_dev *out = NULL;
		struct vh_err e = {0};
		size_t n = 0;
		assert_int_equal(fakesys_put(f->root,
					     "etc/udev/rules.d/"
					     "90-vfio-hooks-0000:02:00.0.rules",
					     bad[i]),
				 0);
		assert_int_equal(vh_persist_read(f->sys, &a, &out, &n, &e), -EBADMSG);
		assert_null(out);
		assert_non_null(strstr(e.msg, "90-vfio-hooks-0000:02:00.0.rules"));
	}
}

static void manual_uuids(void **state)
{
	struct vh_pci_addr a;
	char u[37];

	(void)state;
	assert_int_equal(vh_pci_addr_parse("abcd:7f:1f.7", &a), 0);
	vh_manual_uuid(&a, u);
	assert_string_equal(u, "00000000-0000-0000-0000-00abcd7f1f07");
	assert_true(vh_uuid_valid(u));
	assert_true(vh_uuid_is_manual(u));
	assert_false(vh_uuid_is_manual("6f1c3a52-8d0e-4b7e-9a55-000000000001"));
	assert_false(vh_uuid_is_manual("00000000-0000-0000-0000-00abcd7f1f0"));
	assert_false(vh_uuid_is_manual(NULL));
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T_(rule_text),     T_(round_trip),	 T_(refuses_bad_words),
	    T_(foreign_files), T_(manual_uuids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
