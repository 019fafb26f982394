/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the test-qemuargs*.c files (vh_qemu_parse and the rules
 * over a QEMU command line): the shipped profiles, the per-test state, the
 * command line to parse and what to expect of the domain model.
 *
 * Tests marked BUG expose a defect of lib/qemuargs.c; they fail until it is
 * fixed.
 */
#ifndef VH_TESTS_UNIT_FIXTURE_QEMUARGS_H
#define VH_TESTS_UNIT_FIXTURE_QEMUARGS_H

/* Not every test file of the family uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#include "../../lib/check.h"
#include "../../lib/domain.h"
#include "../../lib/memlock.h"
#include "../../lib/profile.h"
#include "../../lib/qemuargs.h"
#include "../../lib/qemucaps.h"
#include "../fakesys.h"

#define QEMU "qemu-system-x86_64"
#define AIC "0000:01:00.0"
/* The command line of the AIC100 vendor page, which passes every rule. */
#define GOOD_MACHINE "-machine", "q35,kernel-irqchip=split"
#define GOOD_IOMMU "-device", "intel-iommu,intremap=on,caching-mode=on"
#define GOOD_VFIO "-device", "vfio-pci,host=" AIC

#define ARGS(...) ((char *[]){__VA_ARGS__})
#define NARGS(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
/* Parse a command line given as string literals (argv[0] first). */
#define OK(...) parse_ok(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))
#define FAILS(...) parse_fail(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

static struct vh_profiles profiles;

/* Per-test state, freed by the teardown even when a test fails. */
static struct {
	struct vh_domain *dom;
	struct vh_err e;
	char *root; /* temp directory: config files, fake sysroot */
	struct vh_sys *sys;
	struct vh_report rep;
	bool have_rep;
	char **big; /* the million-argument argv */
} T;

static int group_setup(void **state UNUSED)
{
	bool aic = false;

	if (hx_profiles_load(&profiles) < 0)
		return -1;
	for (size_t i = 0; i < profiles.n; i++)
		aic = aic || streq(profiles.v[i].id, "qcom-aic100");
	if (!aic) {
		fprintf(stderr, "no qcom-aic100 profile among the shipped profiles\n");
		return -1;
	}
	return 0;
}

static int group_teardown(void **state UNUSED)
{
	vh_profiles_done(&profiles);
	return 0;
}

static int setup(void **state UNUSED)
{
	memset(&T, 0, sizeof(T));
	return 0;
}

static int teardown(void **state UNUSED)
{
	if (T.have_rep)
		vh_report_done(&T.rep);
	vh_domain_free(T.dom);
	vh_sys_free(T.sys);
	hx_rmroot(&T.root);
	free(T.big);
	memset(&T, 0, sizeof(T));
	return 0;
}

/* --- helpers --- */

static struct vh_domain *parse_ok(int argc, char **argv)
{
	int r;

	if (T.have_rep)
		vh_report_done(&T.rep);
	T.have_rep = false;
	T.dom = vh_domain_free(T.dom);
	T.e = (struct vh_err){0};
	r = vh_qemu_parse(argc, argv, &T.dom, &T.e);
	if (r != 0)
		fail_msg("vh_qemu_parse failed (%d): %s", r, T.e.msg);
	assert_non_null(T.dom);
	assert_int_equal(T.e.code, 0);
	assert_int_equal(T.dom->dialect, VH_DIALECT_QEMU);
	return T.dom;
}

/* Expect a failure; returns the code, the message is in T.e. */
static int parse_fail(int argc, char **argv)
{
	struct vh_domain *d = NULL;
	int r;

	T.e = (struct vh_err){0};
	r = vh_qemu_parse(argc, argv, &d, &T.e);
	if (r >= 0) {
		vh_domain_free(d);
		fail_msg("vh_qemu_parse accepted a bad command line (%s ...)",
			 argc > 1 ? argv[1] : "");
	}
	assert_int_equal(T.e.code, r);
	assert_true(T.e.msg[0] != '\0');
	return r;
}

static void expect_msg(const char *needle)
{
	if (!strstr(T.e.msg, needle))
		fail_msg("message does not contain \"%s\": %s", needle, T.e.msg);
}

static void expect_addr(const struct vh_hostdev *h, const char *addr)
{
	char a[VH_PCI_ADDR_LEN];

	if (!h->addr_ok)
		fail_msg("%s: address not usable: %s (%s)", h->origin, h->addr_error, h->addr_text);
	assert_string_equal(h->addr_error, "");
	vh_pci_addr_format(&h->addr, a);
	assert_string_equal(a, addr);
}

static void tmpdir(void)
{
	if (!T.root) {
		T.root = fakesys_mkroot();
		assert_non_null(T.root);
	}
}

/* Write a -readconfig file into the temp directory; returns its path. */
static char *config_file(const char *name, const char *content)
{
	static char path[4096];

	tmpdir();
	assert_int_equal(fakesys_put(T.root, name, content), 0);
	snprintf(path, sizeof(path), "%s/%s", T.root, name);
	return path;
}

#endif
