/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device profiles: loading the shipped set against the schema, matching
 * devices, specificity and overrides across directories, schema errors
 * with file and line, and the ownership/permission checks.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/paths.h"
#include "../../lib/profile.h"
#include "../fakesys.h"

static char datadir[4096], shipped[4096], schema[4096];

static int setup_paths(void **state UNUSED)
{
	const char *d = getenv("VFIO_HOOKS_DATADIR");
	const char *src = getenv("SRCDIR");

	if (d && *d)
		snprintf(datadir, sizeof(datadir), "%s", d);
	else if (src && *src)
		snprintf(datadir, sizeof(datadir), "%s/xml", src);
	else
		snprintf(datadir, sizeof(datadir), "xml");
	snprintf(shipped, sizeof(shipped), "%s/profiles", datadir);
	snprintf(schema, sizeof(schema), "%s/profile.rng", datadir);
	if (access(schema, R_OK) < 0) {
		fprintf(stderr, "cannot find %s (set VFIO_HOOKS_DATADIR)\n", schema);
		return -1;
	}
	return 0;
}

/* A load with the context @c (NULL: one of its own) that must succeed. */
static void load_ok_ctx(struct vh_profile_ctx *c, const char *const *dirs, struct vh_profiles *ps)
{
	struct vh_err e = {0};
	int r = c ? vh_profiles_load_ctx(c, dirs, schema, ps, &e)
		  : vh_profiles_load(dirs, schema, ps, &e);

	if (r != 0)
		fail_msg("vh_profiles_load: %d: %s", r, e.msg);
	assert_int_equal(e.code, 0);
}

static void load_ok(const char *const *dirs, struct vh_profiles *ps)
{
	load_ok_ctx(NULL, dirs, ps);
}

static void load_shipped(struct vh_profiles *ps)
{
	const char *dirs[] = {shipped, NULL};

	load_ok(dirs, ps);
}

static const struct vh_profile *by_id(const struct vh_profiles *ps, const char *id)
{
	for (size_t i = 0; i < ps->n; i++)
		if (streq(ps->v[i].id, id))
			return &ps->v[i];
	return NULL;
}

static struct vh_pci_dev dev(uint16_t vendor, uint16_t device, uint32_t cls)
{
	struct vh_pci_dev d = {
	    .vendor = vendor, .device = device, .class = cls, .present = true, .iommu_group = -1};
	return d;
}

static const char *match_id(const struct vh_profiles *ps, uint16_t vendor, uint16_t device,
			    uint32_t cls)
{
	struct vh_pci_dev d = dev(vendor, device, cls);
	const struct vh_profile *p = vh_profiles_match(ps, &d);

	return p ? p->id : NULL;
}

/* A temp directory for profiles, mode 0755. */
static char *mkdir_tmp(void)
{
	char *d = fakesys_mkroot();

	assert_non_null(d);
	assert_int_equal(chmod(d, 0755), 0);
	return d;
}

static void put(const char *dir, const char *name, const char *content)
{
	assert_int_equal(fakesys_put(dir, name, content), 0);
}

#define PROFILE(id, match, rest)                                                                   \
	"<?xml version='1.0'?>\n"                                                                  \
	"<profile xmlns='urn:vfio-hooks:profile:1' id='" id "'>\n"                                 \
	"  <description>" id " test profile</description>\n"                                       \
	"  " match "\n" rest "</profile>\n"

/* --- the shipped profiles --- */

static void shipped_profiles_load(void **state UNUSED)
{
	static const char *const ids[] = {"amd-vendor-reset", "hailo-8",     "intel-flex",
					  "nvidia-gpu",	      "qcom-aic100", "rebellions-npu"};
	struct vh_profiles ps;

	load_shipped(&ps);
	assert_int_equal(ps.n, 6);
	for (size_t i = 0; i < 6; i++) {
		const struct vh_profile *p = by_id(&ps, ids[i]);
		if (!p)
			fail_msg("profile %s not loaded", ids[i]);
		assert_non_null(strstr(p->file, ids[i]));
		assert_non_null(strstr(p->file, ".xml"));
		assert_true(p->description && p->description[0]);
		assert_string_equal(p->vfio_driver, "vfio-pci");
		assert_true(p->n_kernel_params >= 1);
	}
	vh_profiles_done(&ps);
	assert_int_equal(ps.n, 0);
	assert_null(ps.v);
}

static void shipped_aic100(void **state UNUSED)
{
	struct vh_profiles ps;
	const struct vh_profile *p;

	load_shipped(&ps);
	p = by_id(&ps, "qcom-aic100");
	assert_non_null(p);
	assert_int_equal(p->vendor, 0x17cb);
	assert_int_equal(p->n_devices, 3);
	assert_int_equal(p->devices[0], 0xa100);
	assert_int_equal(p->devices[1], 0xa080);
	assert_int_equal(p->devices[2], 0xa110);
	assert_false(p->has_class);
	assert_true(p->needs.q35);
	assert_true(p->needs.viommu);
	assert_true(p->needs.intremap);
	assert_true(p->needs.caching_mode);
	assert_true(p->needs.ioapic_split);
	assert_int_equal(p->needs.min_msi, 32);
	assert_non_null(p->why);
	assert_non_null(strstr(p->why, "MSI"));
	assert_int_equal(p->companions, VH_COMPANIONS_REFUSE);
	assert_true(p->reset_on_release);
	assert_false(p->set_reset_method);
	assert_false(p->sriov_pf_host);
	assert_string_equal(p->kernel_params[0], "intel_iommu=on");
	assert_string_equal(p->kernel_params[1], "iommu=pt");
	/* Inside the guest: qaic, and under Hyper-V 5.19 or the four
	 * pci-hyperv fixes the vendor page lists. */
	assert_string_equal(p->guest_driver, "qaic");
	assert_int_equal(p->n_guest_kernels, 1);
	assert_string_equal(p->guest_kernels[0].hypervisor, "hyper-v");
	assert_string_equal(p->guest_kernels[0].min, "5.19");
	assert_int_equal(p->guest_kernels[0].min_v[0], 5);
	assert_int_equal(p->guest_kernels[0].min_v[1], 19);
	assert_int_equal(p->guest_kernels[0].n_commits, 4);
	assert_non_null(strstr(p->guest_kernels[0].commits[0], "08e61e861a0e"));
	assert_non_null(strstr(p->guest_kernels[0].commits[3], "a2bad844a67b"));
	vh_profiles_done(&ps);
}

static void kernel_versions(void **state UNUSED)
{
	unsigned a[3], b[3];

	assert_int_equal(vh_kernel_version_parse("5.15.0-1019-azure", a), 0);
	assert_int_equal(a[0], 5);
	assert_int_equal(a[1], 15);
	assert_int_equal(a[2], 0);
	assert_int_equal(vh_kernel_version_parse("5.19", b), 0);
	assert_int_equal(b[2], 0);
	assert_true(vh_kernel_version_cmp(a, b) < 0);
	assert_int_equal(vh_kernel_version_parse("5.19.0-rc7", a), 0);
	assert_int_equal(vh_kernel_version_cmp(a, b), 0);
	assert_int_equal(vh_kernel_version_parse("6.1.0-27-amd64", a), 0);
	assert_true(vh_kernel_version_cmp(a, b) > 0);
	assert_int_equal(vh_kernel_version_parse("5.4.208", a), 0);
	assert_int_equal(a[2], 208);
	assert_true(vh_kernel_version_cmp(a, b) < 0);
	/* "10.0" is newer than "9.9": numbers, not text. */
	assert_int_equal(vh_kernel_version_parse("10.0", a), 0);
	assert_int_equal(vh_kernel_version_parse("9.9", b), 0);
	assert_true(vh_kernel_version_cmp(a, b) > 0);
	assert_int_equal(vh_kernel_version_parse("linux-5.19", a), -EINVAL);
	assert_int_equal(vh_kernel_version_parse("", a), -EINVAL);
	assert_int_equal(vh_kernel_version_parse(NULL, a), -EINVAL);
}

static void shipped_hailo(void **state UNUSED)
{
	struct vh_profiles ps;
	const struct vh_profile *p;

	load_shipped(&ps);
	p = by_id(&ps, "hailo-8");
	assert_non_null(p);
	assert_int_equal(p->vendor, 0x1e60);
	assert_int_equal(p->n_devices, 1);
	assert_int_equal(p->devices[0], 0x2864);
	assert_true(p->set_reset_method);
	assert_non_null(p->reset_method);
	assert_string_equal(p->reset_method, "");
	assert_false(p->reset_on_release);
	assert_false(p->needs.q35);
	assert_false(p->needs.viommu);
	assert_null(p->why);
	vh_profiles_done(&ps);
}

static void shipped_flex_rebellions_nvidia(void **state UNUSED)
{
	struct vh_profiles ps;
	const struct vh_profile *p;

	load_shipped(&ps);
	p = by_id(&ps, "intel-flex");
	assert_non_null(p);
	assert_true(p->sriov_pf_host);
	assert_int_equal(p->vendor, 0x8086);
	assert_int_equal(p->n_devices, 2);

	p = by_id(&ps, "rebellions-npu");
	assert_non_null(p);
	assert_int_equal(p->vendor, 0x1eff);
	assert_true(p->has_class);
	assert_int_equal(p->class_value, 0x120000);
	assert_int_equal(p->class_mask, 0xff0000);
	assert_true(p->needs.q35);
	assert_false(p->needs.viommu);
	assert_int_equal(p->n_kernel_params, 8);
	assert_string_equal(p->kernel_params[7], "iommu.strict=1");

	p = by_id(&ps, "nvidia-gpu");
	assert_non_null(p);
	assert_int_equal(p->companions, VH_COMPANIONS_SAME_DEVICE);
	assert_true(p->has_class);
	assert_int_equal(p->class_value, 0x030000);
	assert_int_equal(p->n_devices, 0);
	vh_profiles_done(&ps);
}

/* vendor-reset's device table (src/device-db.h of gnif/vendor-reset at
 * 084881c6e9e1): 67 IDs; the audio functions are not in it. */
static void shipped_amd_vendor_reset(void **state UNUSED)
{
	static const uint16_t some[] = {0x67c0, 0x67df, 0x6fdf, 0x67e0, 0x699f, 0x6860,
					0x687f, 0x66a0, 0x66af, 0x7310, 0x731f, 0x7340,
					0x734f, 0x7360, 0x7362, 0x738c};
	struct vh_profiles ps;
	const struct vh_profile *p;

	load_shipped(&ps);
	p = by_id(&ps, "amd-vendor-reset");
	assert_non_null(p);
	assert_int_equal(p->vendor, 0x1002);
	assert_int_equal(p->n_devices, 67);
	assert_false(p->has_class);
	for (size_t i = 0; i < ELEMENTSOF(some); i++)
		if (!streq(match_id(&ps, 0x1002, some[i], 0x030000), "amd-vendor-reset"))
			fail_msg("1002:%04x does not match amd-vendor-reset", some[i]);
	/* Navi 21 (no reset bug), the HDMI audio functions: no profile. */
	assert_null(match_id(&ps, 0x1002, 0x73bf, 0x030000));
	assert_null(match_id(&ps, 0x1002, 0xaaf8, 0x040300));
	assert_null(match_id(&ps, 0x1002, 0xab38, 0x040300));
	assert_true(p->set_reset_method);
	assert_string_equal(p->reset_method, "device_specific");
	assert_true(p->reset_on_release);
	assert_int_equal(p->companions, VH_COMPANIONS_SAME_DEVICE);
	assert_int_equal(p->n_modules, 1);
	assert_string_equal(p->modules[0].name, "vendor-reset");
	assert_non_null(strstr(p->modules[0].why, "device_specific"));
	assert_non_null(strstr(p->modules[0].install, "dkms install ."));
	vh_profiles_done(&ps);
}

/* <kernel-module>: parsed, its fix, and whether /sys/module has it. */
static void kernel_module_element(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {dir, NULL};
	struct vh_profiles ps;
	const struct vh_profile *p;
	_cleanup_sys_ struct vh_sys *sys = NULL;
	_cleanup_free_ char *fix0 = NULL, *fix1 = NULL;

	put(dir, "m.xml",
	    PROFILE("m", "<match vendor='0x1234'/>",
		    "  <host>\n"
		    "    <kernel-module name='vendor-reset' why='it resets the card'\n"
		    "                   install='dkms install .'/>\n"
		    "    <kernel-module name='foo_bar'/>\n"
		    "  </host>\n"));
	load_ok(dirs, &ps);
	p = by_id(&ps, "m");
	assert_non_null(p);
	assert_int_equal(p->n_modules, 2);
	assert_string_equal(p->modules[0].name, "vendor-reset");
	assert_string_equal(p->modules[0].why, "it resets the card");
	assert_string_equal(p->modules[0].install, "dkms install .");
	assert_string_equal(p->modules[1].name, "foo_bar");
	assert_null(p->modules[1].why);
	assert_null(p->modules[1].install);
	fix0 = vh_kernel_module_fix(&p->modules[0]);
	fix1 = vh_kernel_module_fix(&p->modules[1]);
	assert_non_null(strstr(
	    fix0,
	    "dkms install .; then load it now and at every boot: modprobe vendor-reset; echo vendor-reset > /etc/modules-load.d/vendor-reset.conf"));
	assert_true(strncmp(fix1, "load it now and at every boot: modprobe foo_bar;", 48) == 0);

	/* The kernel shows vendor-reset as /sys/module/vendor_reset; '-'
	 * and '_' are one to modprobe. */
	assert_int_equal(vh_sys_new(dir, &sys), 0);
	assert_false(vh_kernel_module_loaded(sys, "vendor-reset"));
	assert_int_equal(fakesys_put(dir, "sys/module/vendor_reset/refcnt", "0\n"), 0);
	assert_true(vh_kernel_module_loaded(sys, "vendor-reset"));
	assert_true(vh_kernel_module_loaded(sys, "vendor_reset"));
	assert_false(vh_kernel_module_loaded(sys, "foo_bar"));
	assert_int_equal(fakesys_put(dir, "sys/module/foo_bar/refcnt", "0\n"), 0);
	assert_true(vh_kernel_module_loaded(sys, "foo-bar"));
	assert_false(vh_kernel_module_loaded(sys, "../module/foo_bar"));
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

static void match_shipped(void **state UNUSED)
{
	struct vh_profiles ps;
	const char *id;

	load_shipped(&ps);
	assert_string_equal(match_id(&ps, 0x17cb, 0xa100, 0x120000), "qcom-aic100");
	assert_string_equal(match_id(&ps, 0x17cb, 0xa080, 0x120000), "qcom-aic100");
	assert_string_equal(match_id(&ps, 0x17cb, 0xa110, 0x120000), "qcom-aic100");
	assert_null(match_id(&ps, 0x17cb, 0xa101, 0x120000));
	assert_null(match_id(&ps, 0x17cc, 0xa100, 0x120000));

	assert_string_equal(match_id(&ps, 0x1e60, 0x2864, 0x120000), "hailo-8");
	assert_null(match_id(&ps, 0x1e60, 0x2865, 0x120000));

	assert_string_equal(match_id(&ps, 0x1eff, 0x0010, 0x120000), "rebellions-npu");
	assert_string_equal(match_id(&ps, 0x1eff, 0x1234, 0x1200ff), "rebellions-npu");
	assert_null(match_id(&ps, 0x1eff, 0x0010, 0x030000));

	assert_string_equal(match_id(&ps, 0x8086, 0x56c0, 0x038000), "intel-flex");
	assert_string_equal(match_id(&ps, 0x8086, 0x56c1, 0x038000), "intel-flex");
	assert_null(match_id(&ps, 0x8086, 0x56c2, 0x038000));
	assert_null(match_id(&ps, 0x8086, 0x1533, 0x020000));

	assert_string_equal(match_id(&ps, 0x10de, 0x2204, 0x030000), "nvidia-gpu");
	assert_string_equal(match_id(&ps, 0x10de, 0x20b0, 0x030200), "nvidia-gpu");
	id = match_id(&ps, 0x10de, 0x1aef, 0x040300);
	if (id)
		fail_msg("NVIDIA audio function matched %s", id);
	assert_null(match_id(&ps, 0x1002, 0x73bf, 0x030000));
	vh_profiles_done(&ps);
}

static void match_subsystem(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {shipped, dir, NULL};
	struct vh_profiles ps;
	struct vh_pci_dev d = dev(0x10de, 0x2204, 0x030000);

	put(dir, "sub.xml",
	    PROFILE("nv-sub",
		    "<match vendor='10de'><subsystem vendor='0x1043' "
		    "device='0x87b3'/></match>",
		    ""));
	load_ok(dirs, &ps);
	assert_int_equal(ps.n, 7);
	d.subsys_vendor = 0x1043;
	d.subsys_device = 0x87b3;
	assert_string_equal(vh_profiles_match(&ps, &d)->id, "nv-sub");
	d.subsys_device = 0x87b4;
	assert_string_equal(vh_profiles_match(&ps, &d)->id, "nvidia-gpu");
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

static void specificity_values(void **state UNUSED)
{
	struct vh_profile p = {0};
	uint16_t devs[] = {1};

	assert_int_equal(vh_profile_specificity(&p), 1);
	p.has_class = true;
	assert_int_equal(vh_profile_specificity(&p), 3);
	p.devices = devs;
	p.n_devices = 1;
	assert_int_equal(vh_profile_specificity(&p), 7);
	p.has_subsys = true;
	assert_int_equal(vh_profile_specificity(&p), 15);
	p.has_class = false;
	p.n_devices = 0;
	/* A subsystem match beats a device list plus a class. */
	assert_true(vh_profile_specificity(&p) > 7);
}

static void later_more_specific_wins(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {shipped, dir, NULL};
	struct vh_profiles ps;

	put(dir, "rtx.xml",
	    PROFILE("aa-rtx-4090",
		    "<match vendor='0x10de'><device id='2684'/>"
		    "</match>",
		    "  <host><companions policy='any'/></host>\n"));
	put(dir, "nv-any.xml", PROFILE("aa-nvidia-any", "<match vendor='0x10de'/>", ""));
	load_ok(dirs, &ps);
	assert_int_equal(ps.n, 8);
	/* device list (5) beats class (3) beats vendor only (1), even though
	 * "aa-..." sorts before "nvidia-gpu". */
	assert_string_equal(match_id(&ps, 0x10de, 0x2684, 0x030000), "aa-rtx-4090");
	assert_string_equal(match_id(&ps, 0x10de, 0x2204, 0x030000), "nvidia-gpu");
	/* Only the vendor-wide profile takes the audio function. */
	assert_string_equal(match_id(&ps, 0x10de, 0x22ba, 0x040300), "aa-nvidia-any");
	assert_int_equal(by_id(&ps, "aa-rtx-4090")->companions, VH_COMPANIONS_ANY);
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

static void ties_go_to_earlier_id(void **state UNUSED)
{
	char *d1 = mkdir_tmp(), *d2 = mkdir_tmp();
	const char *dirs[] = {d1, d2, NULL};
	const char *rev[] = {d2, d1, NULL};
	struct vh_profiles ps;

	put(d1, "z.xml", PROFILE("zeta", "<match vendor='0x1234'/>", ""));
	put(d2, "a.xml", PROFILE("alpha", "<match vendor='0x1234'/>", ""));
	load_ok(dirs, &ps);
	assert_string_equal(match_id(&ps, 0x1234, 1, 0), "alpha");
	vh_profiles_done(&ps);
	load_ok(rev, &ps);
	assert_string_equal(match_id(&ps, 0x1234, 1, 0), "alpha");
	vh_profiles_done(&ps);
	fakesys_rmrf(d1);
	fakesys_rmrf(d2);
	free(d1);
	free(d2);
}

static void same_id_later_overrides(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {shipped, dir, NULL};
	struct vh_profiles ps;
	const struct vh_profile *p;
	char path[4200];

	/* A site override of the shipped Hailo profile: keep resets. */
	put(dir, "local-hailo.xml",
	    PROFILE("hailo-8",
		    "<match vendor='0x1e60'><device id='0x2864'/>"
		    "</match>",
		    "  <host><reset-method value='bus'/></host>\n"));
	load_ok(dirs, &ps);
	assert_int_equal(ps.n, 6);
	p = by_id(&ps, "hailo-8");
	assert_non_null(p);
	snprintf(path, sizeof(path), "%s/local-hailo.xml", dir);
	assert_string_equal(p->file, path);
	assert_string_equal(p->description, "hailo-8 test profile");
	assert_string_equal(p->reset_method, "bus");
	assert_true(p->reset_on_release);
	assert_int_equal(p->n_kernel_params, 0);
	assert_string_equal(match_id(&ps, 0x1e60, 0x2864, 0), "hailo-8");
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

static void defaults_and_hex_forms(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {dir, NULL};
	struct vh_profiles ps;
	const struct vh_profile *p;

	put(dir, "x.xml",
	    PROFILE("hexes",
		    "<match vendor='ABCD'><device id='0x00fF'/>"
		    "<class value='120000'/></match>",
		    "  <vm><msi vectors='16'/></vm>\n"
		    "  <host><vfio-driver name='mlx5_vfio_pci'/>"
		    "<sriov pf='assignable'/><companions policy='any'/>"
		    "</host>\n"));
	load_ok(dirs, &ps);
	p = by_id(&ps, "hexes");
	assert_non_null(p);
	assert_int_equal(p->vendor, 0xabcd);
	assert_int_equal(p->devices[0], 0xff);
	assert_int_equal(p->class_value, 0x120000);
	assert_int_equal(p->class_mask, 0xffffff);
	assert_int_equal(p->needs.min_msi, 16);
	assert_false(p->needs.q35);
	assert_string_equal(p->vfio_driver, "mlx5_vfio_pci");
	assert_false(p->sriov_pf_host);
	assert_int_equal(p->companions, VH_COMPANIONS_ANY);
	assert_true(p->reset_on_release);
	assert_false(p->set_reset_method);
	assert_null(p->reset_method);
	/* exact class: 0x120001 does not match */
	assert_string_equal(match_id(&ps, 0xabcd, 0xff, 0x120000), "hexes");
	assert_null(match_id(&ps, 0xabcd, 0xff, 0x120001));
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

/* --- errors --- */

/* Load @content as the only profile of a fresh directory and expect a
 * failure whose message names the file and a line in [@lo, @hi] (libxml2's
 * RELAX NG validator reports an error inside an <interleave> at the
 * enclosing element, so the parent's line is acceptable there). */
static void expect_broken_lines(const char *content, int lo, int hi, const char *what)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {dir, NULL};
	struct vh_profiles ps = {0};
	struct vh_err e = {0};
	char path[4200], want[4300];
	const char *p;
	int r, line = -1;

	put(dir, "broken.xml", content);
	snprintf(path, sizeof(path), "%s/broken.xml", dir);
	r = vh_profiles_load(dirs, schema, &ps, &e);
	fakesys_rmrf(dir);
	free(dir);
	if (r >= 0)
		fail_msg("%s: a broken profile was loaded", what);
	assert_int_equal(e.code, r);
	assert_int_equal(ps.n, 0);
	snprintf(want, sizeof(want), "%s:", path);
	p = strstr(e.msg, want);
	if (!p)
		fail_msg("%s: message \"%s\" does not name %s", what, e.msg, path);
	if (sscanf(p + strlen(want), "%d", &line) != 1 || line < lo || line > hi)
		fail_msg("%s: message \"%s\" does not give line %d..%d", what, e.msg, lo, hi);
}

static void expect_broken(const char *content, int line, const char *what)
{
	expect_broken_lines(content, line, line, what);
}

/* Regression (fixed): validation errors inside an <interleave> (every child of
 *<profile>, <vm> and <host> is in one) are reported at line 0: "broken.xml:0:
 * invalid profile: Extra element vm in interleave".  libxml2 first raises
 * that error without a node (line 0), then "Element profile failed to
 * validate content" at the <vm> element (line 5); rng_error keeps only the
 * first error, line included.  Fix (lib/profile.c:77, rng_error): keep
 * the first message, but take the line from the first error that has one:
 *	if (!r->line && x->line > 0) r->line = x->line;
 *	if (r->msg[0]) return;
 * (verified: gives line 5 for both cases below). */
static void schema_unknown_element(void **state UNUSED)
{
	expect_broken_lines(
	    PROFILE("u", "<match vendor='0x1234'/>", "  <vm>\n    <frobnicate/>\n  </vm>\n"), 5, 6,
	    "unknown element");
}

static void schema_bad_hex(void **state UNUSED)
{
	expect_broken(PROFILE("h", "<match vendor='0xZZZZ'/>", ""), 4, "bad vendor hex");
	expect_broken(PROFILE("h",
			      "<match vendor='0x1234'>\n"
			      "  <device id='0x12345'/></match>",
			      ""),
		      5, "device id too long");
	expect_broken(PROFILE("h",
			      "<match vendor='0x1234'>\n"
			      "  <class value='-1'/></match>",
			      ""),
		      5, "negative class");
}

static void schema_missing_match(void **state UNUSED)
{
	expect_broken("<?xml version='1.0'?>\n"
		      "<profile xmlns='urn:vfio-hooks:profile:1' id='m'>\n"
		      "  <description>no match</description>\n"
		      "</profile>\n",
		      2, "missing <match>");
}

static void schema_other_errors(void **state UNUSED)
{
	expect_broken("<?xml version='1.0'?>\n"
		      "<profile id='nons'>\n"
		      "  <description>no namespace</description>\n"
		      "  <match vendor='0x1234'/>\n"
		      "</profile>\n",
		      2, "no namespace");
	expect_broken(PROFILE("BAD ID", "<match vendor='0x1234'/>", ""), 2, "bad id");
}

/* Regression (fixed): line 0, as in schema_unknown_element. */
static void schema_errors_inside_interleave(void **state UNUSED)
{
	expect_broken(PROFILE("v", "<match vendor='0x1234'/>", "  <vm><msi vectors='64'/></vm>\n"),
		      5, "too many vectors");
}

/* Regression (fixed): line 0, as in schema_unknown_element. */
static void schema_errors_inside_host(void **state UNUSED)
{
	expect_broken(PROFILE("k", "<match vendor='0x1234'/>",
			      "  <host><kernel-parameter value='a b'/>"
			      "</host>\n"),
		      5, "kernel parameter with a space");
}

static void schema_kernel_module(void **state UNUSED)
{
	static const char *const bad[] = {
	    "<kernel-module/>",					    /* no name */
	    "<kernel-module name=''/>",				    /* empty */
	    "<kernel-module name='Vendor-Reset'/>",		    /* upper case */
	    "<kernel-module name='../vendor_reset'/>",		    /* a path */
	    "<kernel-module name='-x'/>",			    /* an option */
	    "<kernel-module name='vendor reset'/>",		    /* a space */
	    "<kernel-module name='x' package='y'/>",		    /* unknown attribute */
	    "<kernel-module name='x'><why>y</why></kernel-module>", /* no children */
	};
	char content[1024];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		snprintf(content, sizeof(content),
			 PROFILE("k", "<match vendor='0x1234'/>", "  <host>%s</host>\n"), bad[i]);
		expect_broken(content, 5, bad[i]);
	}
}

static void malformed_profile(void **state UNUSED)
{
	expect_broken("<?xml version='1.0'?>\n"
		      "<profile xmlns='urn:vfio-hooks:profile:1' id='x'>\n"
		      "  <description>x</description>\n"
		      "  <match vendor='0x1234'>\n"
		      "</profile>\n",
		      5, "malformed");
}

static void doctype_profile_refused(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {dir, NULL};
	struct vh_profiles ps = {0};
	struct vh_err e = {0};

	put(dir, "secret", "CANARY-profile-5b1e");
	put(dir, "evil.xml",
	    "<!DOCTYPE profile [<!ENTITY x SYSTEM 'secret'>]>\n"
	    "<profile xmlns='urn:vfio-hooks:profile:1' id='e'>"
	    "<description>&x;</description><match vendor='0x1'/></profile>");
	assert_int_equal(vh_profiles_load(dirs, schema, &ps, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "evil.xml"));
	assert_null(strstr(e.msg, "CANARY"));
	fakesys_rmrf(dir);
	free(dir);
}

static void broken_file_fails_whole_load(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {shipped, dir, NULL};
	struct vh_profiles ps = {.n = 42};
	struct vh_err e = {0};

	put(dir, "a-good.xml", PROFILE("good", "<match vendor='0x1'/>", ""));
	put(dir, "b-bad.xml", "<profile");
	assert_int_equal(vh_profiles_load(dirs, schema, &ps, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "b-bad.xml"));
	assert_int_equal(ps.n, 42); /* untouched on failure */
	fakesys_rmrf(dir);
	free(dir);
}

static void non_xml_and_hidden_ignored(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {dir, NULL};
	struct vh_profiles ps;

	put(dir, "README", "not a profile");
	put(dir, "x.xml.orig", "<garbage");
	put(dir, ".hidden.xml", "<garbage");
	put(dir, ".xml", "<garbage");
	put(dir, "ok.xml", PROFILE("ok", "<match vendor='0x1'/>", ""));
	load_ok(dirs, &ps);
	assert_int_equal(ps.n, 1);
	assert_string_equal(ps.v[0].id, "ok");
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

static void missing_dir_skipped(void **state UNUSED)
{
	const char *dirs[] = {"/nonexistent/vfio-hooks/profiles.d", shipped, NULL};
	struct vh_profiles ps;

	load_ok(dirs, &ps);
	assert_int_equal(ps.n, 6);
	vh_profiles_done(&ps);
}

static void bad_schema_path(void **state UNUSED)
{
	const char *dirs[] = {shipped, NULL};
	struct vh_profiles ps = {0};
	struct vh_err e = {0};
	int r;

	r = vh_profiles_load(dirs, "/nonexistent/profile.rng", &ps, &e);
	assert_true(r < 0);
	assert_non_null(strstr(e.msg, "/nonexistent/profile.rng"));
}

static void world_writable_dir_refused(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {dir, NULL};
	struct vh_profiles ps = {0};
	struct vh_err e = {0};

	put(dir, "ok.xml", PROFILE("ok", "<match vendor='0x1'/>", ""));
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(vh_profiles_load(dirs, schema, &ps, &e), -EPERM);
	assert_non_null(strstr(e.msg, dir));
	assert_non_null(strstr(e.msg, "writable"));
	assert_non_null(strstr(e.msg, "chmod o-w"));

	/* The sticky bit (as /tmp: --profiles /tmp) changes nothing: anyone
	 * may add a profile there. */
	e = (struct vh_err){0};
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(vh_profiles_load(dirs, schema, &ps, &e), -EPERM);
	assert_non_null(strstr(e.msg, "writable by every user"));

	/* Group-writable: the group may change what root's hook does. */
	e = (struct vh_err){0};
	assert_int_equal(chmod(dir, 0775), 0);
	assert_int_equal(vh_profiles_load(dirs, schema, &ps, &e), -EPERM);
	assert_non_null(strstr(e.msg, "writable by its group"));
	assert_non_null(strstr(e.msg, "chmod g-w"));

	assert_int_equal(chmod(dir, 0755), 0);
	load_ok(dirs, &ps);
	assert_int_equal(ps.n, 1);
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

static void world_writable_file_refused(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	const char *dirs[] = {dir, NULL};
	struct vh_profiles ps = {0};
	struct vh_err e = {0};
	char path[4200];

	put(dir, "ok.xml", PROFILE("ok", "<match vendor='0x1'/>", ""));
	snprintf(path, sizeof(path), "%s/ok.xml", dir);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(vh_profiles_load(dirs, schema, &ps, &e), -EPERM);
	assert_non_null(strstr(e.msg, path));
	fakesys_rmrf(dir);
	free(dir);
}

static void not_root_owned_refused_as_root(void **state UNUSED)
{
	char *dir;
	const char *dirs[2];
	struct vh_profiles ps = {0};
	struct vh_err e = {0};
	char path[4200];

	if (geteuid() != 0)
		skip();
	dir = mkdir_tmp();
	dirs[0] = dir;
	dirs[1] = NULL;
	put(dir, "ok.xml", PROFILE("ok", "<match vendor='0x1'/>", ""));
	snprintf(path, sizeof(path), "%s/ok.xml", dir);

	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(vh_profiles_load(dirs, schema, &ps, &e), -EPERM);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "root"));

	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	e = (struct vh_err){0};
	assert_int_equal(vh_profiles_load(dirs, schema, &ps, &e), -EPERM);
	assert_non_null(strstr(e.msg, dir));

	assert_int_equal(chown(dir, 0, 0), 0);
	load_ok(dirs, &ps);
	assert_int_equal(ps.n, 1);
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

static void load_file_direct(void **state UNUSED)
{
	char *dir = mkdir_tmp();
	struct vh_profiles ps = {0};
	struct vh_err e = {0};
	char path[4200];

	put(dir, "one.xml", PROFILE("one", "<match vendor='0x1'/>", ""));
	snprintf(path, sizeof(path), "%s/one.xml", dir);
	assert_int_equal(vh_profiles_load_file(&ps, path, schema, &e), 0);
	assert_int_equal(vh_profiles_load_file(&ps, path, schema, &e), 0);
	assert_int_equal(ps.n, 1); /* same id replaced, not appended */
	snprintf(path, sizeof(path), "%s/missing.xml", dir);
	assert_int_equal(vh_profiles_load_file(&ps, path, schema, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "missing.xml"));
	vh_profiles_done(&ps);
	fakesys_rmrf(dir);
	free(dir);
}

static void load_default_with_env(void **state UNUSED)
{
	const char *dirs[] = {shipped, NULL};
	struct vh_profiles ps;
	struct vh_err e = {0};
	char want[4200];

	assert_int_equal(setenv("VFIO_HOOKS_DATADIR", datadir, 1), 0);
	assert_string_equal(vh_datadir(), datadir);
	snprintf(want, sizeof(want), "%s/profile.rng", datadir);
	assert_string_equal(vh_schema_path(), want);
	assert_int_equal(vh_profiles_load_default(dirs, &ps, &e), 0);
	assert_int_equal(ps.n, 6);
	vh_profiles_done(&ps);
}

static void companions_names(void **state UNUSED)
{
	enum vh_companions c = VH_COMPANIONS_DEFAULT;

	assert_int_equal(vh_companions_parse("refuse", &c), 0);
	assert_int_equal(c, VH_COMPANIONS_REFUSE);
	assert_int_equal(vh_companions_parse("same-device", &c), 0);
	assert_int_equal(c, VH_COMPANIONS_SAME_DEVICE);
	assert_int_equal(vh_companions_parse("any", &c), 0);
	assert_int_equal(c, VH_COMPANIONS_ANY);
	assert_int_equal(vh_companions_parse("default", &c), -EINVAL);
	assert_int_equal(vh_companions_parse("ANY", &c), -EINVAL);
	assert_int_equal(vh_companions_parse(NULL, &c), -EINVAL);
	assert_int_equal(c, VH_COMPANIONS_ANY);
	assert_string_equal(vh_companions_name(VH_COMPANIONS_SAME_DEVICE), "same-device");
	assert_string_equal(vh_companions_name((enum vh_companions)9), "?");
}

/* Validation stamps: a stamped load skips RelaxNG for unchanged files;
 * a changed file (its ctime moves) is validated again and refused; a
 * stamp file anyone could have written is ignored. */
static void validation_stamps(void **state UNUSED)
{
	_cleanup_free_ char *pdir = mkdir_tmp(), *sdir = mkdir_tmp();
	const char *dirs[] = {pdir, NULL};
	char path[4200], buf[8192];
	struct vh_profiles ps;
	struct vh_err e = {0};
	struct vh_profile_ctx ctx;
	unsigned before;
	int sfd;

	vh_profile_ctx_init(&ctx);

	put(pdir, "a.xml", PROFILE("a", "<match vendor='0x1234'/>", ""));
	sfd = open(sdir, O_RDONLY | O_DIRECTORY);
	assert_true(sfd >= 0);
	assert_int_equal(chmod(sdir, 0700), 0);
	vh_profiles_use_stamps(&ctx, sfd);
	before = vh_profiles_validations(&ctx);
	load_ok_ctx(&ctx, dirs, &ps);
	vh_profiles_done(&ps);
	assert_int_equal(vh_profiles_validations(&ctx), before + 1);
	snprintf(path, sizeof(path), "%s/profiles.validated", sdir);
	assert_int_equal(fakesys_get(sdir, "profiles.validated", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "/a.xml"));
	/* Unchanged: no validation. */
	load_ok_ctx(&ctx, dirs, &ps);
	vh_profiles_done(&ps);
	assert_int_equal(vh_profiles_validations(&ctx), before + 1);
	/* Changed to an invalid profile: validated again, refused. */
	put(pdir, "a.xml", PROFILE("a", "<match vendor='0x1234'/>", "<bogus/>"));
	assert_int_equal(vh_profiles_load_ctx(&ctx, dirs, schema, &ps, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "invalid profile"));
	assert_int_equal(vh_profiles_validations(&ctx), before + 2);
	/* A stamp file others can write is not believed. */
	put(pdir, "a.xml", PROFILE("a", "<match vendor='0x1234'/>", ""));
	load_ok_ctx(&ctx, dirs, &ps);
	vh_profiles_done(&ps);
	assert_int_equal(chmod(path, 0666), 0);
	load_ok_ctx(&ctx, dirs, &ps);
	vh_profiles_done(&ps);
	assert_int_equal(vh_profiles_validations(&ctx), before + 4);
	vh_profile_ctx_done(&ctx);
	close(sfd);
	fakesys_rmrf(pdir);
	fakesys_rmrf(sdir);
}

/* A load wanting only the device @id. */
static void load_wanting(struct vh_profile_ctx *ctx, const char *const *dirs,
			 const struct vh_pci_id *id, struct vh_profiles *ps)
{
	vh_profiles_want(ctx, id, 1);
	load_ok_ctx(ctx, dirs, ps);
	vh_profiles_want(ctx, NULL, 0);
}

/* Loads wanting some devices: a stamped file that cannot match them
 * (another vendor, or a device list without theirs) is not parsed (its id
 * still replaces an earlier one), an unstamped one is (validated, then
 * stamped with its vendor and devices), and a stamp line of the older form
 * (the key alone) gets them on the next load. */
static void wanted_devices(void **state UNUSED)
{
	_cleanup_free_ char *pdir = mkdir_tmp(), *odir = mkdir_tmp(), *sdir = mkdir_tmp();
	const char *dirs[] = {pdir, odir, NULL};
	const struct vh_pci_id want[] = {{0x1234, 0x0001}}, want_ff[] = {{0x1234, 0x00ff}};
	char buf[16384], *old, *p;
	struct vh_profiles ps;
	struct vh_profile_ctx ctx;
	unsigned before;
	int sfd;

	vh_profile_ctx_init(&ctx);

	put(pdir, "a.xml", PROFILE("a", "<match vendor='0x1234'/>", ""));
	put(pdir, "b.xml", PROFILE("b", "<match vendor='0x5678'/>", ""));
	put(pdir, "c.xml", PROFILE("c", "<match vendor='0x1234'/>", ""));
	/* Later directory: replaces c with a profile of another vendor. */
	put(odir, "c.xml", PROFILE("c", "<match vendor='0x9abc'/>", ""));
	/* The wanted vendor, other devices only. */
	put(pdir, "d.xml",
	    PROFILE("d",
		    "<match vendor='0x1234'><device id='0x00ff'/>"
		    "<device id='0x0100'/></match>",
		    ""));
	sfd = open(sdir, O_RDONLY | O_DIRECTORY);
	assert_true(sfd >= 0);
	assert_int_equal(chmod(sdir, 0700), 0);
	vh_profiles_use_stamps(&ctx, sfd);

	/* Nothing stamped yet: every file parsed and validated, even with a
	 * filter. */
	before = vh_profiles_validations(&ctx);
	load_wanting(&ctx, dirs, want, &ps);
	assert_int_equal(vh_profiles_validations(&ctx), before + 5);
	assert_int_equal(ps.n, 4);
	assert_non_null(by_id(&ps, "b"));
	assert_int_equal(by_id(&ps, "c")->vendor, 0x9abc);
	vh_profiles_done(&ps);
	assert_int_equal(fakesys_get(sdir, "profiles.validated", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "/b.xml\t5678\tb\t*\n"));
	assert_non_null(strstr(buf, "/d.xml\t1234\td\t00ff,0100\n"));
	assert_non_null(strstr(buf, "/c.xml\t9abc\tc\t*")); /* the last */

	/* Stamped: only what can match 1234:0001; c is the later file's, of
	 * another vendor, so no c at all (not the earlier file's); d lists
	 * other devices. */
	load_wanting(&ctx, dirs, want, &ps);
	assert_int_equal(vh_profiles_validations(&ctx), before + 5);
	assert_int_equal(ps.n, 1);
	assert_non_null(by_id(&ps, "a"));
	assert_null(by_id(&ps, "b"));
	assert_null(by_id(&ps, "c"));
	assert_null(by_id(&ps, "d"));
	vh_profiles_done(&ps);
	/* A device d lists: d too. */
	load_wanting(&ctx, dirs, want_ff, &ps);
	assert_int_equal(ps.n, 2);
	assert_non_null(by_id(&ps, "d"));
	vh_profiles_done(&ps);
	/* The skipped files keep their stamps. */
	assert_int_equal(fakesys_get(sdir, "profiles.validated", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "/b.xml\t5678\tb\t*\n"));

	/* Without a filter: everything, as ever. */
	load_ok_ctx(&ctx, dirs, &ps);
	assert_int_equal(ps.n, 4);
	vh_profiles_done(&ps);

	/* A changed file is read again whatever its stamp said: b now
	 * matches the wanted vendor. */
	put(pdir, "b.xml", PROFILE("b", "<match vendor='0x1234'/>", ""));
	load_wanting(&ctx, dirs, want, &ps);
	assert_int_equal(vh_profiles_validations(&ctx), before + 6);
	assert_non_null(by_id(&ps, "b"));
	vh_profiles_done(&ps);

	/* Older stamps (the key alone): validation is still skipped, and
	 * the file is parsed (its vendor unknown) and stamped anew. */
	assert_int_equal(fakesys_get(sdir, "profiles.validated", buf, sizeof(buf)), 0);
	old = strdup(buf);
	assert_non_null(old);
	for (p = old; (p = strchr(p, '\t'));) {
		char *nl = strchr(p, '\n');
		if (!nl)
			*p = '\0'; /* the last line */
		else
			memmove(p, nl, strlen(nl) + 1);
	}
	assert_null(strchr(old, '\t'));
	put(sdir, "profiles.validated", old);
	assert_int_equal(chmod(sdir, 0700), 0);
	free(old);
	{
		char path[4200];
		snprintf(path, sizeof(path), "%s/profiles.validated", sdir);
		assert_int_equal(chmod(path, 0600), 0);
	}
	load_wanting(&ctx, dirs, want, &ps);
	assert_int_equal(vh_profiles_validations(&ctx), before + 6);
	assert_int_equal(ps.n, 4); /* none skipped: no vendor known */
	vh_profiles_done(&ps);
	assert_int_equal(fakesys_get(sdir, "profiles.validated", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "/b.xml\t1234\tb\t*\n"));

	vh_profile_ctx_done(&ctx);
	close(sfd);
	fakesys_rmrf(pdir);
	fakesys_rmrf(odir);
	fakesys_rmrf(sdir);
}

/* The user's side of stamp_dir_places, as a non-root user: 0 when every
 * case holds, else the number of the first that does not (it may run in a
 * child, where cmocka cannot assert). */
static int stamp_dir_user_cases(const struct vh_sys *sys, const char *home)
{
	char p[4200], q[4200];
	struct stat st;
	int fd;

	setenv("HOME", home, 1);
	unsetenv("XDG_CACHE_HOME");
	/* ~/.cache made, then ~/.cache/vfio-hooks, private. */
	fd = vh_stamp_dir_open(sys, false);
	snprintf(p, sizeof(p), "%s/.cache/vfio-hooks", home);
	if (fd < 0 || stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0700 ||
	    st.st_uid != geteuid())
		return 1;
	close(fd);
	/* A relative XDG_CACHE_HOME is ignored (the XDG rule). */
	setenv("XDG_CACHE_HOME", "cache", 1);
	fd = vh_stamp_dir_open(sys, true);
	if (fd < 0 || access("cache", F_OK) == 0)
		return 2;
	close(fd);
	/* An absolute one is used. */
	snprintf(q, sizeof(q), "%s/xdg", home);
	setenv("XDG_CACHE_HOME", q, 1);
	fd = vh_stamp_dir_open(sys, false);
	snprintf(q, sizeof(q), "%s/xdg/vfio-hooks", home);
	if (fd < 0 || stat(q, &st) < 0 || (st.st_mode & 07777) != 0700)
		return 3;
	close(fd);
	/* One anybody can write is not used; nor is a symlink. */
	if (chmod(q, 0777) < 0 || vh_stamp_dir_open(sys, false) != -1)
		return 4;
	if (rmdir(q) < 0 || symlink(p, q) < 0 || vh_stamp_dir_open(sys, false) != -1)
		return 5;
	/* No HOME and no XDG_CACHE_HOME: none. */
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	if (vh_stamp_dir_open(sys, false) != -1)
		return 6;
	return 0;
}

/* Where front ends keep validation stamps (vh_stamp_dir_open): as root
 * the sysroot's state directory, made only when asked; as another user
 * that user's own cache directory, private, never one others can write. */
static void stamp_dir_places(void **state UNUSED)
{
	_cleanup_free_ char *root = mkdir_tmp(), *home = mkdir_tmp();
	const char *old_home = getenv("HOME");
	_cleanup_free_ char *saved = old_home ? strdup(old_home) : NULL;
	_cleanup_sys_ struct vh_sys *sys = NULL;
	char p[4200];
	struct stat st;
	int fd, status;
	pid_t pid;

	snprintf(p, sizeof(p), "%s/run", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(vh_sys_new(root, &sys), 0);
	if (geteuid() != 0) {
		assert_int_equal(stamp_dir_user_cases(sys, home), 0);
		goto out;
	}
	snprintf(p, sizeof(p), "%s/run/vfio-hooks", root);
	assert_int_equal(vh_stamp_dir_open(sys, false), -1);
	assert_int_equal(stat(p, &st), -1); /* not made when not asked */
	fd = vh_stamp_dir_open(sys, true);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	fd = vh_stamp_dir_open(sys, false);
	assert_true(fd >= 0);
	close(fd);
	/* Others write it: not used. */
	assert_int_equal(chmod(p, 0733), 0);
	assert_int_equal(vh_stamp_dir_open(sys, true), -1);
	/* Any other user: in a child, as nobody. */
	assert_int_equal(chown(home, 65534, 65534), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc =
		    setgid(65534) < 0 || setuid(65534) < 0 ? 90 : stamp_dir_user_cases(sys, home);
		/* _exit runs no cleanup: what the child holds goes here
		 * (valgrind checks the child for leaks too). */
		vh_sys_free(sys);
		free(root);
		free(home);
		free(saved);
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
out:
	if (saved)
		setenv("HOME", saved, 1);
	else
		unsetenv("HOME");
	fakesys_rmrf(root);
	fakesys_rmrf(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(shipped_profiles_load),
	    cmocka_unit_test(shipped_aic100),
	    cmocka_unit_test(kernel_versions),
	    cmocka_unit_test(shipped_hailo),
	    cmocka_unit_test(shipped_flex_rebellions_nvidia),
	    cmocka_unit_test(shipped_amd_vendor_reset),
	    cmocka_unit_test(kernel_module_element),
	    cmocka_unit_test(schema_kernel_module),
	    cmocka_unit_test(match_shipped),
	    cmocka_unit_test(match_subsystem),
	    cmocka_unit_test(specificity_values),
	    cmocka_unit_test(later_more_specific_wins),
	    cmocka_unit_test(ties_go_to_earlier_id),
	    cmocka_unit_test(same_id_later_overrides),
	    cmocka_unit_test(defaults_and_hex_forms),
	    cmocka_unit_test(schema_unknown_element),
	    cmocka_unit_test(schema_bad_hex),
	    cmocka_unit_test(schema_missing_match),
	    cmocka_unit_test(schema_other_errors),
	    cmocka_unit_test(schema_errors_inside_interleave),
	    cmocka_unit_test(schema_errors_inside_host),
	    cmocka_unit_test(malformed_profile),
	    cmocka_unit_test(doctype_profile_refused),
	    cmocka_unit_test(broken_file_fails_whole_load),
	    cmocka_unit_test(non_xml_and_hidden_ignored),
	    cmocka_unit_test(missing_dir_skipped),
	    cmocka_unit_test(validation_stamps),
	    cmocka_unit_test(stamp_dir_places),
	    cmocka_unit_test(wanted_devices),
	    cmocka_unit_test(bad_schema_path),
	    cmocka_unit_test(world_writable_dir_refused),
	    cmocka_unit_test(world_writable_file_refused),
	    cmocka_unit_test(not_root_owned_refused_as_root),
	    cmocka_unit_test(load_file_direct),
	    cmocka_unit_test(load_default_with_env),
	    cmocka_unit_test(companions_names),
	};
	return cmocka_run_group_tests(tests, setup_paths, NULL);
}
