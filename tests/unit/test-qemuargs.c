/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_qemu_parse, vh_qemu_mentions_vfio and vh_json_object_each: a QEMU
 * command line read into the domain model (machine, accelerator, I/O APIC,
 * vIOMMU with -global/-set/-readconfig, vCPUs, memory, name, vfio-pci
 * devices in legacy and JSON form), hostile and malformed input, a million
 * arguments, and the rules of vh_check_domain giving command-line fixes
 * over a fake sysroot.
 *
 * Tests marked BUG expose a defect of lib/qemuargs.c; they fail until it is
 * fixed.
 */
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

/* --- vh_json_object_each, directly --- */

static int collect_kv(void *ud, const char *k, const char *v)
{
	vh_buf_printf(ud, "%s=%s;", k, v);
	return 0;
}

/* Members of @json as "k=v;" text; asserts it parses. */
static char *json_members(const char *json)
{
	struct vh_buf b = {0};
	size_t off = 12345;
	int r = vh_json_object_each(json, collect_kv, &b, &off);

	if (r != 0)
		fail_msg("vh_json_object_each(%s) = %d at %zu", json, r, off);
	vh_buf_puts(&b, "");
	return vh_buf_steal(&b);
}

static void json_expect(const char *json, const char *members)
{
	char *s = json_members(json);

	if (!streq(s, members)) {
		fprintf(stderr, "json: %s\n got: %s\nwant: %s\n", json, s, members);
		free(s);
		fail_msg("unexpected members");
	}
	free(s);
}

/* Expect -EINVAL; returns the offset. */
static size_t json_bad(const char *json)
{
	struct vh_buf b = {0};
	size_t off = (size_t)-1;
	int r = vh_json_object_each(json, collect_kv, &b, &off);

	vh_buf_done(&b);
	if (r != -EINVAL)
		fail_msg("vh_json_object_each(%s) = %d, expected -EINVAL", json, r);
	if (off == (size_t)-1)
		fail_msg("no offset for \"%s\"", json);
	return off;
}

static void json_flat_values(void **state UNUSED)
{
	json_expect("{}", "");
	json_expect("  { }  ", "");
	json_expect("{\"driver\":\"vfio-pci\",\"host\":\"0000:01:00.0\"}",
		    "driver=vfio-pci;host=0000:01:00.0;");
	/* numbers as written; true/false as QEMU's on/off; null kept */
	json_expect("{\"a\":0,\"b\":48,\"c\":-1,\"d\":1.5,\"e\":true,"
		    "\"f\":false,\"g\":null}",
		    "a=0;b=48;c=-1;d=1.5;e=on;f=off;g=null;");
	/* whitespace of every kind between tokens */
	json_expect(" \t\r\n{ \"k\" \n:\t\"v\" ,\r\n \"n\" : 7 \n} \n", "k=v;n=7;");
	/* '_' in keys reads as '-', as QEMU's properties */
	json_expect("{\"caching_mode\":true}", "caching-mode=on;");
	/* escapes */
	json_expect("{\"s\":\"a\\\"b\\\\c\\/d\\te\\nf\"}", "s=a\"b\\c/d\te\nf;");
	json_expect("{\"s\":\"\\u0030\\u0031:\\u0041\"}", "s=01:A;");
	/* non-ASCII escapes become '?', never bytes above 0x7f or NUL */
	json_expect("{\"s\":\"x\\u00e9\\u0000y\"}", "s=x??y;");
	/* UTF-8 text passes through */
	json_expect("{\"s\":\"caf\xc3\xa9\"}", "s=caf\xc3\xa9;");
}

static void json_nested_skipped(void **state UNUSED)
{
	json_expect("{\"a\":{\"x\":[1,2,{\"y\":\"}]\\\"{\"}]},\"b\":\"c\"}", "a=(nested);b=c;");
	json_expect("{\"a\":[],\"b\":[[[]]],\"c\":1}", "a=(nested);b=(nested);c=1;");
	/* an unterminated nested value */
	json_bad("{\"a\":{\"x\":1}");
	json_bad("{\"a\":[1,2");
	json_bad("{\"a\":{\"x\":\"}\"");
}

static int stop_at_b(void *ud UNUSED, const char *k, const char *v UNUSED)
{
	return streq(k, "b") ? -ENOSPC : 0;
}

static void json_malformed(void **state UNUSED)
{
	static const char *const bad[] = {
	    "[1]",
	    "\"a\"",
	    "{",
	    "{\"a\"",
	    "{\"a\":",
	    "{\"a\":\"b\"",	     /* no closing brace */
	    "{\"a\":\"b",	     /* unterminated string */
	    "{\"a\":\"b\\",	     /* escape at the end */
	    "{\"a\":\"b\"} x",	     /* trailing garbage */
	    "{\"a\":\"b\"}}",	     /* trailing garbage */
	    "{} x",		     /* trailing garbage */
	    "{\"a\" \"b\"}",	     /* missing colon */
	    "{\"a\"=\"b\"}",	     /* not a colon */
	    "{\"a\":\"b\",}",	     /* trailing comma */
	    "{\"a\":\"b\" \"c\":1}", /* missing comma */
	    "{a:\"b\"}",	     /* unquoted key */
	    "{\"a\":b}",	     /* bare word */
	    "{\"a\":tru}",	     /* not true */
	    "{\"a\":}",		     /* no value */
	    "{\"a\":\"x\x01y\"}",    /* control character */
	    "{\"a\":\"x\ny\"}",	     /* raw newline in a string */
	    "{\"a\x1f\":1}",	     /* control character in a key */
	    "{\"a\":\"\\u12\"}",     /* short unicode escape */
	    "{\"a\":\"\\u00g0\"}",   /* not hex */
	    "{\"a\":'b'}",	     /* single quotes */
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		json_bad(bad[i]);
	/* A NULL offset pointer is allowed. */
	assert_int_equal(vh_json_object_each("{", collect_kv, NULL, NULL), -EINVAL);
	/* The callback's error stops the walk and is returned. */
	assert_int_equal(vh_json_object_each("{\"a\":1,\"b\":2,\"c\":3}", stop_at_b, NULL, NULL),
			 -ENOSPC);
}

/* Regression (fixed): lib/qemuargs.c:147-171 (json_string) decodes the JSON
 * escapes \r, \b and \f as the letters 'r', 'b' and 'f' (the default case
 * copies the escaped character), and accepts escapes JSON does not have (\x,
 * \a). Fix: add case 'r': c = '\r'; case 'b': c = '\b'; case 'f': c = '\f'; and
 * let the default case accept only '"', '\\' and '/' (else NULL). */
static void json_control_escapes(void **state UNUSED)
{
	json_expect("{\"s\":\"a\\rb\"}", "s=a\rb;");
	json_expect("{\"s\":\"a\\bb\\fc\"}", "s=a\bb\fc;");
	json_bad("{\"s\":\"a\\xb\"}");
}

/* Regression (fixed): lib/qemuargs.c:225 and :242 test "*p++ != ..." and report
 * the offset after the post-increment, one past the offending character: "[1]"
 * is reported at offset 1 (the '1'), a missing colon one character late,
 * and "" or "   " one past the end of the text, so the -device message's
 * "at character N" points at the wrong place.
 * Fix: test *p first and increment only after the check succeeds. */
static void json_error_offset(void **state UNUSED)
{
	/* offset 0: the '[' is not an object */
	assert_int_equal(json_bad("[1]"), 0);
	/* the end of the text, not one past its NUL */
	assert_int_equal(json_bad(""), 0);
	assert_int_equal(json_bad("   "), 3);
	assert_int_equal(json_bad("{\"a\""), 4);
	/* offset 5: the '"' where the ':' should be */
	assert_int_equal(json_bad("{\"a\" \"b\"}"), 5);
}

/* --- machine, accelerator, I/O APIC, architecture --- */

static void machine_forms(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-M", "q35");
	assert_string_equal(d->machine, "q35");
	assert_int_equal(d->machine_kind, VH_MACHINE_Q35);
	d = OK(QEMU, "-machine", "q35");
	assert_string_equal(d->machine, "q35");
	d = OK(QEMU, "--machine", "pc-q35-8.2");
	assert_string_equal(d->machine, "pc-q35-8.2");
	assert_int_equal(d->machine_kind, VH_MACHINE_Q35);
	d = OK(QEMU, "-machine", "type=q35,accel=kvm");
	assert_string_equal(d->machine, "q35");
	assert_string_equal(d->virt_type, "kvm");
	d = OK(QEMU, "-machine", "pc-i440fx-7.2");
	assert_int_equal(d->machine_kind, VH_MACHINE_I440FX);
	d = OK(QEMU, "-machine", "pc");
	assert_int_equal(d->machine_kind, VH_MACHINE_I440FX);
	d = OK(QEMU, "-machine", "microvm");
	assert_string_equal(d->machine, "microvm");
	assert_int_equal(d->machine_kind, VH_MACHINE_OTHER);
	/* the other fields of the model */
	assert_string_equal(d->os_type, "hvm");
	assert_false(d->has_iommu);
	assert_int_equal(d->n_hostdevs, 0);
	assert_false(d->iommu_after_vfio);
}

static void machine_default_pc(void **state UNUSED)
{
	struct vh_domain *d = OK(QEMU, "-enable-kvm", "-m", "4G");

	assert_string_equal(d->machine, "pc");
	assert_int_equal(d->machine_kind, VH_MACHINE_I440FX);
	/* only argv[0] */
	d = OK(QEMU);
	assert_string_equal(d->machine, "pc");
	assert_string_equal(d->arch, "x86_64");
	assert_string_equal(d->virt_type, "qemu");
	assert_string_equal(d->name, "(unnamed)");
	assert_int_equal(d->vcpus, 1);
	assert_int_equal(d->memory_kib, 128 * 1024);
	assert_string_equal(d->irqchip, "");
}

static void machine_options_merge(void **state UNUSED)
{
	struct vh_domain *d;

	/* later options win key by key, the others stay */
	d = OK(QEMU, "-machine", "q35,kernel-irqchip=on", "-machine", "kernel-irqchip=split",
	       "-enable-kvm");
	assert_string_equal(d->machine, "q35");
	assert_string_equal(d->irqchip, "split");
	assert_string_equal(d->ioapic_driver, "qemu");
	d = OK(QEMU, "-M", "q35", "-machine", "pc", "-enable-kvm");
	assert_string_equal(d->machine, "pc");
	assert_int_equal(d->machine_kind, VH_MACHINE_I440FX);
	d = OK(QEMU, "-M", "pc", "-machine", "accel=kvm", "--machine", "type=q35");
	assert_string_equal(d->machine, "q35");
	assert_string_equal(d->virt_type, "kvm");
	/* a later kernel-irqchip=on takes the split back */
	d = OK(QEMU, "-machine", "q35,kernel-irqchip=split", "-machine", "kernel-irqchip=on",
	       "-enable-kvm");
	assert_string_equal(d->irqchip, "on");
	assert_string_equal(d->ioapic_driver, "kvm");
}

static void kernel_irqchip_spellings(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35,kernel_irqchip=split", "-enable-kvm");
	assert_string_equal(d->irqchip, "split");
	assert_string_equal(d->ioapic_driver, "qemu");
	d = OK(QEMU, "-machine", "q35,kernel-irqchip=split", "-enable-kvm");
	assert_string_equal(d->irqchip, "split");
	assert_string_equal(d->ioapic_driver, "qemu");
	d = OK(QEMU, "-machine", "q35", "-accel", "kvm,kernel_irqchip=split");
	assert_string_equal(d->irqchip, "split");
	assert_string_equal(d->ioapic_driver, "qemu");
}

static void accel_forms(void **state UNUSED)
{
	struct vh_domain *d;

	/* -machine accel= is a ':' list: the first one counts */
	d = OK(QEMU, "-machine", "q35,accel=kvm:tcg");
	assert_string_equal(d->virt_type, "kvm");
	assert_string_equal(d->ioapic_driver, "kvm");
	d = OK(QEMU, "-machine", "q35,accel=tcg:kvm");
	assert_string_equal(d->virt_type, "qemu");
	assert_string_equal(d->ioapic_driver, "qemu");
	d = OK(QEMU, "-machine", "accel=kvm");
	assert_string_equal(d->virt_type, "kvm");
	/* -accel, with the irqchip as an accelerator property */
	d = OK(QEMU, "-machine", "q35", "-accel", "kvm,kernel-irqchip=split");
	assert_string_equal(d->virt_type, "kvm");
	assert_string_equal(d->irqchip, "split");
	assert_string_equal(d->ioapic_driver, "qemu");
	d = OK(QEMU, "-accel", "kvm");
	assert_string_equal(d->virt_type, "kvm");
	assert_string_equal(d->ioapic_driver, "kvm");
	assert_string_equal(d->irqchip, "");
	d = OK(QEMU, "--accel", "accel=tcg");
	assert_string_equal(d->virt_type, "qemu");
	d = OK(QEMU, "-accel", "tcg");
	assert_string_equal(d->virt_type, "qemu");
	/* -enable-kvm, --enable-kvm */
	d = OK(QEMU, "-enable-kvm");
	assert_string_equal(d->virt_type, "kvm");
	d = OK(QEMU, "--enable-kvm");
	assert_string_equal(d->virt_type, "kvm");
	/* nothing: TCG */
	d = OK(QEMU, "-machine", "q35");
	assert_string_equal(d->virt_type, "qemu");
}

/* Regression (fixed): lib/qemuargs.c:360 (accel_prop) lets a later -accel
 * overwrite an earlier one, but QEMU tries -accel options in order and uses the
 * first that initializes ("-accel kvm -accel tcg" is the usual
 * KVM-with-fallback line): the line is then judged as TCG, so a KVM in-kernel
 * I/O APIC is taken for QEMU's and ioapic-split is missed. Fix: in accel_prop,
 * set q->accel only while it is still empty. */
static void accel_repeated_first_counts(void **state UNUSED)
{
	struct vh_domain *d = OK(QEMU, "-machine", "q35", "-accel", "kvm", "-accel", "tcg");

	assert_string_equal(d->virt_type, "kvm");
	assert_string_equal(d->ioapic_driver, "kvm");
}

/* Regression (fixed): lib/qemuargs.c:703-710 always lets -machine accel= beat
 * -enable-kvm, but QEMU's -enable-kvm is sugar for "-machine accel=kvm"
 * into the same dictionary, so the later of the two wins.
 * Fix: have -enable-kvm add accel=kvm to q->machine (kv_add) in argument
 * order instead of a separate flag. */
static void enable_kvm_after_machine_accel(void **state UNUSED)
{
	struct vh_domain *d = OK(QEMU, "-machine", "q35,accel=tcg", "-enable-kvm");

	assert_string_equal(d->virt_type, "kvm");
	d = OK(QEMU, "-enable-kvm", "-machine", "q35,accel=tcg");
	assert_string_equal(d->virt_type, "qemu");
}

static void ioapic_driver_matrix(void **state UNUSED)
{
	static const struct {
		const char *accel, *machine, *ioapic;
	} cases[] = {
	    /* TCG always emulates the I/O APIC, whatever the irqchip */
	    {"tcg", "q35", "qemu"},
	    {"tcg", "q35,kernel-irqchip=on", "qemu"},
	    {"tcg", "q35,kernel-irqchip=split", "qemu"},
	    /* KVM: in-kernel unless split or off */
	    {"kvm", "q35", "kvm"},
	    {"kvm", "q35,kernel-irqchip=on", "kvm"},
	    {"kvm", "q35,kernel-irqchip=split", "qemu"},
	    {"kvm", "q35,kernel-irqchip=off", "qemu"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char acc[16], mach[64];
		struct vh_domain *d;
		snprintf(acc, sizeof(acc), "%s", cases[i].accel);
		snprintf(mach, sizeof(mach), "%s", cases[i].machine);
		d = OK(QEMU, "-accel", acc, "-machine", mach);
		if (!streq(d->ioapic_driver, cases[i].ioapic))
			fail_msg("-accel %s -machine %s: ioapic %s, expected %s", acc, mach,
				 d->ioapic_driver, cases[i].ioapic);
		assert_string_equal(d->virt_type, streq(acc, "kvm") ? "kvm" : "qemu");
	}
}

static void arch_from_argv0(void **state UNUSED)
{
	static const struct {
		const char *argv0, *arch;
	} cases[] = {
	    {"qemu-system-x86_64", "x86_64"},	  {"/usr/bin/qemu-system-x86_64", "x86_64"},
	    {"qemu-system-aarch64", "aarch64"},	  {"/opt/qemu/bin/qemu-system-aarch64", "aarch64"},
	    {"qemu-system-ppc64", "ppc64"},	  {"qemu-kvm", "x86_64"},
	    {"/usr/libexec/qemu-kvm", "x86_64"},  {"kvm", "x86_64"},
	    {"/usr/local/bin/my-qemu", "x86_64"}, {"", "x86_64"},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char a0[64];
		struct vh_domain *d;
		snprintf(a0, sizeof(a0), "%s", cases[i].argv0);
		d = OK(a0, "-machine", "q35");
		if (!streq(d->arch, cases[i].arch))
			fail_msg("argv[0] %s: arch %s, expected %s", a0, d->arch, cases[i].arch);
	}
	/* aarch64 is not an x86 guest; the default x86_64 is */
	assert_false(vh_domain_is_x86(OK("qemu-system-aarch64")));
	assert_true(vh_domain_is_x86(OK("qemu-kvm")));
}

/* Regression (fixed): lib/qemuargs.c:719 copies "i386" from qemu-system-i386 as
 * the arch, but the model (vh_domain_is_x86, lib/domain.c:49) knows 32-bit x86
 * only by libvirt's name "i686": a qemu-system-i386 line with an AIC100 gets no
 * q35/vIOMMU/I/O APIC checks at all.
 * Fix: map "i386" to "i686" in build_model (as libvirt does). */
static void arch_i386_is_x86(void **state UNUSED)
{
	struct vh_domain *d = OK("qemu-system-i386", "-machine", "q35");

	assert_true(vh_domain_is_x86(d));
}

/* --- -device: legacy and JSON forms, vfio-pci --- */

static void vfio_host_forms(void **state UNUSED)
{
	struct vh_domain *d;
	const struct vh_hostdev *h;

	d = OK(QEMU, "-device", "vfio-pci,host=0000:01:00.0,id=hostdev0");
	assert_int_equal(d->n_hostdevs, 1);
	h = &d->hostdevs[0];
	expect_addr(h, "0000:01:00.0");
	assert_string_equal(h->addr_text, "host=0000:01:00.0");
	assert_string_equal(h->origin, "-device vfio-pci at argument 2");
	assert_int_equal(h->line, 2);

	/* BB:DD.F: domain 0 */
	d = OK(QEMU, "-m", "1G", "-device", "vfio-pci,host=02:1f.7");
	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], "0000:02:1f.7");
	assert_string_equal(d->hostdevs[0].origin, "-device vfio-pci at argument 4");

	/* a non-zero domain */
	d = OK(QEMU, "-device", "vfio-pci,host=0001:81:00.1");
	expect_addr(&d->hostdevs[0], "0001:81:00.1");

	/* vfio-pci-nohotplug, and driver= spelled out */
	d = OK(QEMU, "-device", "vfio-pci-nohotplug,host=03:00.0", "-device",
	       "driver=vfio-pci,host=04:00.0");
	assert_int_equal(d->n_hostdevs, 2);
	expect_addr(&d->hostdevs[0], "0000:03:00.0");
	assert_string_equal(d->hostdevs[0].origin, "-device vfio-pci-nohotplug at argument 2");
	expect_addr(&d->hostdevs[1], "0000:04:00.0");
	assert_string_equal(d->hostdevs[1].origin, "-device vfio-pci at argument 4");

	/* host= after other properties, a later host= wins */
	d = OK(QEMU, "-device", "vfio-pci,bus=pcie.0,addr=0x3,host=05:00.0,host=06:00.0");
	expect_addr(&d->hostdevs[0], "0000:06:00.0");
}

/* host= as written by hand: QEMU's parser takes any hex width and an
 * optional domain (set_pci_host_devaddr), so the wrapper does too. */
static void vfio_host_qemu_widths(void **state UNUSED)
{
	static const struct {
		const char *host, *addr;
	} v[] = {
	    {"6:12.5", "0000:06:12.5"},		{"0:6:12.5", "0000:06:12.5"},
	    {"0000:6:12.5", "0000:06:12.5"},	{"06:12.5", "0000:06:12.5"},
	    {"e1:0.0", "0000:e1:00.0"},		{"1:e1:0.7", "0001:e1:00.7"},
	    {"0x0:0xe1:0x0.0", "0000:e1:00.0"}, {"0:0:0.0", "0000:00:00.0"},
	};

	for (size_t i = 0; i < ELEMENTSOF(v); i++) {
		char arg[64];
		struct vh_domain *d;
		snprintf(arg, sizeof(arg), "vfio-pci,host=%s", v[i].host);
		d = OK(QEMU, "-device", arg);
		assert_int_equal(d->n_hostdevs, 1);
		expect_addr(&d->hostdevs[0], v[i].addr);
	}
	/* the JSON form goes through the same parser in QEMU */
	struct vh_domain *d = OK(QEMU, "-device", "{\"driver\":\"vfio-pci\",\"host\":\"6:12.5\"}");
	expect_addr(&d->hostdevs[0], "0000:06:12.5");
	/* sysfsdev= stays a sysfs name: QEMU opens that directory */
	d = OK(QEMU, "-device", "vfio-pci,sysfsdev=/sys/bus/pci/devices/6:12.5");
	assert_false(d->hostdevs[0].addr_ok);
}

static void vfio_sysfsdev(void **state UNUSED)
{
	struct vh_domain *d =
	    OK(QEMU, "-device", "vfio-pci,sysfsdev=/sys/bus/pci/devices/0000:03:00.0");
	const struct vh_hostdev *h;

	assert_int_equal(d->n_hostdevs, 1);
	h = &d->hostdevs[0];
	expect_addr(h, "0000:03:00.0");
	assert_string_equal(h->addr_text, "sysfsdev=/sys/bus/pci/devices/0000:03:00.0");
	/* the real device path works as well */
	d = OK(QEMU, "-device",
	       "vfio-pci,sysfsdev=/sys/devices/pci0000:00/0000:00:1c.0/"
	       "0000:04:00.0");
	expect_addr(&d->hostdevs[0], "0000:04:00.0");
	/* sysfsdev= wins over host= (QEMU uses it when both are given) */
	d = OK(QEMU, "-device",
	       "vfio-pci,host=01:00.0,sysfsdev=/sys/bus/pci/devices/"
	       "0000:07:00.0");
	expect_addr(&d->hostdevs[0], "0000:07:00.0");
}

/* Regression (fixed): lib/qemuargs.c:776-779 takes the text after the last '/'
 * of sysfsdev= as the address, so a path with a trailing slash (what shell
 * completion of the symlink gives) has an empty address and the device is
 * a bad-address error, while QEMU takes the basename after stripping the
 * slash (g_path_get_basename).  Fix: ignore trailing '/' before strrchr. */
static void vfio_sysfsdev_trailing_slash(void **state UNUSED)
{
	struct vh_domain *d =
	    OK(QEMU, "-device", "vfio-pci,sysfsdev=/sys/bus/pci/devices/0000:03:00.0/");

	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], "0000:03:00.0");
}

/* Regression (fixed): lib/qemuargs.c:762-801 treats every vfio-pci as a PCI
 * function, but
 * "-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/UUID" is QEMU's way to
 * give a VM a mediated device (vGPU, GVT-g): its basename is a UUID, so it
 * is listed with an address error and the rules refuse a valid VM with
 * bad-address (the XML reader has <hostdev type='mdev'> out of the PCI
 * model).  Fix: skip (or mark as mdev) a vfio-pci whose sysfsdev is under
 * /sys/bus/mdev/ or whose basename is not a PCI address but a UUID. */
static void vfio_mdev_not_bad_address(void **state UNUSED)
{
	struct vh_domain *d = OK(QEMU, "-machine", "q35", "-device",
				 "vfio-pci,sysfsdev=/sys/bus/mdev/devices/"
				 "c2e088c0-7e4b-4c2f-a5a6-2f1bb5f3a1d3");

	for (size_t i = 0; i < d->n_hostdevs; i++)
		if (!d->hostdevs[i].addr_ok)
			fail_msg("mdev listed as a bad PCI address: %s (%s)",
				 d->hostdevs[i].addr_error, d->hostdevs[i].addr_text);
}

static void vfio_without_address(void **state UNUSED)
{
	struct vh_domain *d = OK(QEMU, "-device", "vfio-pci,id=x");
	const struct vh_hostdev *h;

	assert_int_equal(d->n_hostdevs, 1);
	h = &d->hostdevs[0];
	assert_false(h->addr_ok);
	assert_non_null(strstr(h->addr_error, "neither host= nor sysfsdev="));
	assert_string_equal(h->origin, "-device vfio-pci at argument 2");
	d = OK(QEMU, "-device", "vfio-pci");
	assert_false(d->hostdevs[0].addr_ok);
	assert_true(d->hostdevs[0].addr_error[0] != '\0');
}

static void vfio_bad_host(void **state UNUSED)
{
	/* what QEMU refuses ("Property 'vfio-pci.host' doesn't take
	 * value"); "1:0.0", " 01:00.0", "0x01:00.0" and "0000:001:00.0" it
	 * takes (strtoul), see test-pciaddr.c */
	static const char *const bad[] = {
	    "zz:00.0",	     "01:00",	  "0000:01:00", "01:00.8", "01:20.0",	  "0000:01:00.0 ",
	    "10000:01:00.0", "",	  "01:00.0.0",	"-1:00.0", "0:0:01:00.0", "01::00.0",
	    "01:00.a",	     "01:00.0x0", "100:00.0",	"01:00.",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char arg[128];
		const struct vh_hostdev *h;
		struct vh_domain *d;
		snprintf(arg, sizeof(arg), "vfio-pci,host=%s", bad[i]);
		d = OK(QEMU, "-device", arg);
		assert_int_equal(d->n_hostdevs, 1);
		h = &d->hostdevs[0];
		if (h->addr_ok)
			fail_msg("host=%s accepted as an address", bad[i]);
		assert_true(h->addr_error[0] != '\0');
		if (bad[i][0] && !strstr(h->addr_error, bad[i]))
			fail_msg("addr_error does not name '%s': %s", bad[i], h->addr_error);
		assert_int_equal(strncmp(h->addr_text, "host=", 5), 0);
	}
}

static void device_comma_escape(void **state UNUSED)
{
	struct vh_domain *d;

	/* ",," is a comma inside a value: the host text is "01:00.0,x" */
	d = OK(QEMU, "-device", "vfio-pci,host=01:00.0,,x");
	assert_int_equal(d->n_hostdevs, 1);
	assert_false(d->hostdevs[0].addr_ok);
	assert_string_equal(d->hostdevs[0].addr_text, "host=01:00.0,x");
	/* a value with a comma does not end the property list */
	d = OK(QEMU, "-device", "vfio-pci,romfile=/a,,b.rom,host=01:00.0");
	expect_addr(&d->hostdevs[0], "0000:01:00.0");
	d = OK(QEMU, "-name", "guest=a,,b,debug-threads=on");
	assert_string_equal(d->name, "a,b");
	d = OK(QEMU, "-name", "x,,y");
	assert_string_equal(d->name, "x,y");
	/* a trailing comma is harmless */
	d = OK(QEMU, "-device", "vfio-pci,host=01:00.0,");
	expect_addr(&d->hostdevs[0], "0000:01:00.0");
}

static void device_flags(void **state UNUSED)
{
	struct vh_domain *d;

	/* "prop" alone means prop=on */
	d = OK(QEMU, "-machine", "q35,kernel-irqchip=split", "-enable-kvm", "-device",
	       "intel-iommu,caching-mode,intremap,eim");
	assert_true(d->has_iommu);
	assert_int_equal(d->caching_mode, VH_ON);
	assert_int_equal(d->intremap, VH_ON);
	assert_int_equal(d->eim, VH_ON);
	d = OK(QEMU, "-device", "vfio-pci,x-no-mmap,host=01:00.0,multifunction");
	expect_addr(&d->hostdevs[0], "0000:01:00.0");
	/* "caching_mode" alone is normalized as well */
	d = OK(QEMU, "-device", "intel-iommu,caching_mode");
	assert_int_equal(d->caching_mode, VH_ON);
}

static void other_devices_ignored(void **state UNUSED)
{
	struct vh_domain *d =
	    OK(QEMU, "-device", "virtio-net-pci,netdev=n0", "-device", "e1000", "-device",
	       "pcie-root-port,id=rp1,chassis=1", "-device", "vfio-pcie,host=01:00.0", "-device",
	       "", "-device", ",", "-device", "id=only");

	assert_int_equal(d->n_hostdevs, 0);
	assert_false(d->has_iommu);
}

static void several_vfio_in_order(void **state UNUSED)
{
	struct vh_domain *d =
	    OK(QEMU, "-machine", "q35", "-device", "vfio-pci,host=0000:03:00.0", "-device",
	       "virtio-net-pci", "-device", "{\"driver\":\"vfio-pci\",\"host\":\"0000:01:00.0\"}",
	       "-device", "vfio-pci-nohotplug,sysfsdev=/sys/bus/pci/devices/0000:02:00.0",
	       "-device", "vfio-pci,host=01:00.0");

	assert_int_equal(d->n_hostdevs, 4);
	expect_addr(&d->hostdevs[0], "0000:03:00.0");
	assert_int_equal(d->hostdevs[0].line, 4);
	expect_addr(&d->hostdevs[1], "0000:01:00.0");
	assert_int_equal(d->hostdevs[1].line, 8);
	assert_string_equal(d->hostdevs[1].origin, "-device vfio-pci at argument 8");
	expect_addr(&d->hostdevs[2], "0000:02:00.0");
	assert_int_equal(d->hostdevs[2].line, 10);
	assert_string_equal(d->hostdevs[2].origin, "-device vfio-pci-nohotplug at argument 10");
	/* a duplicate is listed again: the rules report it */
	expect_addr(&d->hostdevs[3], "0000:01:00.0");
	assert_int_equal(d->hostdevs[3].line, 12);
}

static void json_device(void **state UNUSED)
{
	struct vh_domain *d;
	const struct vh_hostdev *h;

	d = OK(QEMU, "-machine", "q35,kernel-irqchip=split", "-accel", "kvm", "-device",
	       "{\"driver\":\"intel-iommu\",\"id\":\"iommu0\",\"intremap\":"
	       "\"on\",\"caching-mode\":true,\"aw-bits\":48,\"device-iotlb\":"
	       "false,\"eim\":\"on\"}",
	       "-device",
	       " {\n  \"driver\" : \"vfio-pci\",\n  \"host\" : \"0000:01:00.0\","
	       "\n  \"id\":\"hostdev0\",\"bus\":\"pci.1\",\"addr\":\"0x0\","
	       "\"x-igd\":{\"a\":[1,{\"b\":\"}\"}]},\"multifunction\":true\n} ");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "intel");
	assert_int_equal(d->intremap, VH_ON);
	assert_int_equal(d->caching_mode, VH_ON);
	assert_int_equal(d->iotlb, VH_OFF);
	assert_int_equal(d->eim, VH_ON);
	assert_int_equal(d->aw_bits, 48);
	assert_int_equal(d->n_hostdevs, 1);
	h = &d->hostdevs[0];
	expect_addr(h, "0000:01:00.0");
	assert_string_equal(h->origin, "-device vfio-pci at argument 8");
	assert_false(d->iommu_after_vfio);

	/* caching_mode:false, and unicode escapes in the driver and host */
	d = OK(QEMU, "-device", "{\"driver\":\"intel\\u002diommu\",\"caching_mode\":false}",
	       "-device",
	       "{\"driver\":\"vfio\\u002dpci\",\"host\":"
	       "\"\\u0030\\u0030\\u0030\\u0030:01:00.0\"}");
	assert_true(d->has_iommu);
	assert_int_equal(d->caching_mode, VH_OFF);
	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], "0000:01:00.0");

	/* a JSON device without host */
	d = OK(QEMU, "-device", "{\"driver\":\"vfio-pci\"}");
	assert_int_equal(d->n_hostdevs, 1);
	assert_false(d->hostdevs[0].addr_ok);
}

static void json_device_malformed(void **state UNUSED)
{
	static const char *const bad[] = {
	    "{\"driver\":\"vfio-pci\",\"host\":\"01:00.0\"",  /* unterminated */
	    "{\"driver\":\"vfio-pci\",\"host\":\"01:00.0}",   /* open string */
	    "{\"driver\":\"vfio-pci\"} x",		      /* garbage */
	    "{\"driver\" \"vfio-pci\"}",		      /* no colon */
	    "{\"driver\":\"vfio\x01-pci\"}",		      /* control */
	    "{\"driver\":\"vfio-pci\",}",		      /* comma */
	    "{\"driver\":vfio}",			      /* bare word */
	    "{driver:\"vfio-pci\"}",			      /* key */
	    "{\"driver\":\"vfio-pci\",\"host\":\"\\u00zz\"}", /* escape */
	    "{",
	};

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char arg[256];
		snprintf(arg, sizeof(arg), "%s", bad[i]);
		assert_int_equal(FAILS(QEMU, "-m", "1G", "-device", arg), -EINVAL);
		expect_msg("Argument 4");
		expect_msg("JSON");
	}
	/* leading blanks still mean JSON */
	assert_int_equal(FAILS(QEMU, "-device", "  {\"driver\":"), -EINVAL);
	expect_msg("Argument 2");
}

/* --- the vIOMMU --- */

/* What the line writes, and what QEMU 8.2 makes of it (vh_viommu_effective:
 * the parser leaves "auto" and a missing intremap to the model, which the
 * check shares with the XML). */
static void intremap_as_qemu_decides(void **state UNUSED)
{
	static const struct {
		const char *accel, *machine, *iommu;
		enum vh_switch intremap;
	} cases[] = {
	    /* KVM with the in-kernel irqchip: auto means off */
	    {"kvm", "q35", "intel-iommu", VH_OFF},
	    {"kvm", "q35", "intel-iommu,intremap=auto", VH_OFF},
	    {"kvm", "q35,kernel-irqchip=on", "intel-iommu", VH_OFF},
	    {"kvm", "q35", "intel-iommu,intremap=on", VH_ON},
	    {"kvm", "q35", "intel-iommu,intremap=off", VH_OFF},
	    /* split or off irqchip, or TCG: auto means on */
	    {"kvm", "q35,kernel-irqchip=split", "intel-iommu", VH_ON},
	    {"kvm", "q35,kernel-irqchip=split", "intel-iommu,intremap=auto", VH_ON},
	    {"kvm", "q35,kernel-irqchip=off", "intel-iommu", VH_ON},
	    {"kvm", "q35,kernel-irqchip=split", "intel-iommu,intremap=off", VH_OFF},
	    {"tcg", "q35", "intel-iommu", VH_ON},
	    {"tcg", "q35", "intel-iommu,intremap=off", VH_OFF},
	    /* not a switch */
	    {"kvm", "q35", "intel-iommu,intremap=maybe", VH_BAD},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char acc[16], mach[64], dev[64];
		struct vh_domain *d;
		snprintf(acc, sizeof(acc), "%s", cases[i].accel);
		snprintf(mach, sizeof(mach), "%s", cases[i].machine);
		snprintf(dev, sizeof(dev), "%s", cases[i].iommu);
		d = OK(QEMU, "-accel", acc, "-machine", mach, "-device", dev);
		struct vh_viommu_eff x, old;
		assert_true(d->has_iommu);
		vh_viommu_effective(d, VH_QEMU_VERSION(8, 2, 0), &x);
		if (d->intremap == VH_BAD)
			x.intremap = VH_BAD;
		if (x.intremap != cases[i].intremap)
			fail_msg("-accel %s -machine %s -device %s: intremap "
				 "%d, expected %d",
				 acc, mach, dev, x.intremap, cases[i].intremap);
		/* Before 4.1 left out meant off; unknown, not assumed on. */
		vh_viommu_effective(d, VH_QEMU_VERSION(4, 0, 0), &old);
		if (d->intremap != VH_ON && d->intremap != VH_BAD)
			assert_int_equal(old.intremap, VH_OFF);
		vh_viommu_effective(d, 0, &old);
		if (d->intremap != VH_ON && d->intremap != VH_OFF)
			assert_int_equal(old.intremap, VH_ABSENT);
	}
}

static void caching_mode_spellings(void **state UNUSED)
{
	static const struct {
		const char *dev;
		enum vh_switch cm;
	} cases[] = {
	    {"intel-iommu,caching-mode=on", VH_ON},
	    {"intel-iommu,caching_mode=on", VH_ON},
	    {"intel-iommu,caching-mode=true", VH_ON},
	    {"intel-iommu,caching_mode=true", VH_ON},
	    {"intel-iommu,caching-mode=yes", VH_ON},
	    {"intel-iommu,caching-mode=off", VH_OFF},
	    {"intel-iommu,caching_mode=false", VH_OFF},
	    {"intel-iommu,caching-mode=false", VH_OFF},
	    {"intel-iommu", VH_ABSENT},
	    {"intel-iommu,caching-mode=junk", VH_BAD},
	    {"intel-iommu,caching-mode=on,caching-mode=off", VH_OFF},
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char dev[64];
		struct vh_domain *d;
		snprintf(dev, sizeof(dev), "%s", cases[i].dev);
		d = OK(QEMU, "-machine", "q35", "-device", dev);
		if (d->caching_mode != cases[i].cm)
			fail_msg("-device %s: caching_mode %d, expected %d", dev, d->caching_mode,
				 cases[i].cm);
	}
}

static void iommu_other_properties(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35", "-device", "intel-iommu,eim=on,device-iotlb=on,aw-bits=39");
	assert_int_equal(d->eim, VH_ON);
	assert_int_equal(d->iotlb, VH_ON);
	assert_int_equal(d->aw_bits, 39);
	d = OK(QEMU, "-machine", "q35", "-device",
	       "intel-iommu,eim=off,device_iotlb=off,aw_bits=48");
	assert_int_equal(d->eim, VH_OFF);
	assert_int_equal(d->iotlb, VH_OFF);
	assert_int_equal(d->aw_bits, 48);
	d = OK(QEMU, "-machine", "q35", "-device", "intel-iommu");
	assert_int_equal(d->eim, VH_ABSENT);
	assert_int_equal(d->iotlb, VH_ABSENT);
	assert_int_equal(d->aw_bits, 0);
	/* a bad aw-bits is not a number of bits */
	d = OK(QEMU, "-device", "intel-iommu,aw-bits=wide");
	assert_int_equal(d->aw_bits, 0);
	d = OK(QEMU, "-device", "intel-iommu,aw-bits=65");
	assert_int_equal(d->aw_bits, 0);
}

static void iommu_models(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35", "-device", "intel-iommu");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "intel");
	d = OK(QEMU, "-machine", "q35", "-device", "amd-iommu");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "amd");
	d = OK(QEMU, "-machine", "q35", "-device", "virtio-iommu-pci");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "virtio");
	d = OK(QEMU, "-machine", "q35", "-device", "virtio-iommu");
	assert_string_equal(d->iommu_model, "virtio");
	d = OK(QEMU, "-machine", "q35", "-device", "virtio-net-pci");
	assert_false(d->has_iommu);
	assert_null(d->iommu_model);
	assert_int_equal(d->intremap, VH_ABSENT);
	assert_int_equal(d->caching_mode, VH_ABSENT);
}

static void iommu_order(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35", GOOD_IOMMU, GOOD_VFIO);
	assert_false(d->iommu_after_vfio);
	d = OK(QEMU, "-machine", "q35", GOOD_VFIO, GOOD_IOMMU);
	assert_true(d->iommu_after_vfio);
	/* after the first of two vfio devices */
	d = OK(QEMU, "-device", "vfio-pci,host=02:00.0", GOOD_IOMMU, GOOD_VFIO);
	assert_true(d->iommu_after_vfio);
	/* other models too */
	d = OK(QEMU, GOOD_VFIO, "-device", "virtio-iommu-pci");
	assert_true(d->iommu_after_vfio);
	/* other devices before the vIOMMU do not matter */
	d = OK(QEMU, "-device", "virtio-net-pci", GOOD_IOMMU, GOOD_VFIO);
	assert_false(d->iommu_after_vfio);
	/* no vfio device, or no vIOMMU */
	d = OK(QEMU, GOOD_IOMMU);
	assert_false(d->iommu_after_vfio);
	d = OK(QEMU, GOOD_VFIO);
	assert_false(d->iommu_after_vfio);
	/* JSON on both sides keeps the command-line order */
	d = OK(QEMU, "-device", "{\"driver\":\"vfio-pci\",\"host\":\"01:00.0\"}", "-device",
	       "{\"driver\":\"intel-iommu\"}");
	assert_true(d->iommu_after_vfio);
}

/* Regression (fixed): lib/qemuargs.c:761, 803, 806 compare argv positions, but
 * QEMU creates the legacy -device options (and -readconfig [device] sections)
 * first and the JSON -device options after them (qemu_create_cli_devices in
 * system/vl.c: qemu_opts_foreach("device") then QTAILQ_FOREACH
 * device_opts).  A JSON intel-iommu before a legacy vfio-pci is created
 * after it (missed viommu-order); a legacy intel-iommu after a JSON
 * vfio-pci is created before it (a false viommu-order refuses a line QEMU
 * starts).  Fix: order devices by (is_json, sequence) instead of argi. */
static void iommu_order_json_after_legacy(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35", "-device",
	       "{\"driver\":\"intel-iommu\",\"intremap\":\"on\","
	       "\"caching-mode\":true}",
	       GOOD_VFIO);
	assert_true(d->iommu_after_vfio);
	d = OK(QEMU, "-machine", "q35", "-device",
	       "{\"driver\":\"vfio-pci\",\"host\":\"0000:01:00.0\"}", GOOD_IOMMU);
	assert_false(d->iommu_after_vfio);
}

/* Regression (fixed): lib/qemuargs.c:517 gives every [device] section of a
 * -readconfig file the same argi, and :806 needs iommu_at > first_vfio, so a
 * file that lists the vfio-pci before the intel-iommu is not reported though
 * QEMU creates its devices in file order.  Fix: a per-device sequence number
 * (as for the previous BUG) instead of the argument index. */
static void iommu_order_within_readconfig(void **state UNUSED)
{
	char *cfg = config_file("order.cfg", "[device \"hostdev0\"]\n"
					     "  driver = \"vfio-pci\"\n"
					     "  host = \"0000:01:00.0\"\n"
					     "[device \"iommu0\"]\n"
					     "  driver = \"intel-iommu\"\n"
					     "  intremap = \"on\"\n"
					     "  caching-mode = \"on\"\n");
	struct vh_domain *d = OK(QEMU, "-machine", "q35", "-readconfig", cfg);

	assert_int_equal(d->n_hostdevs, 1);
	assert_true(d->has_iommu);
	assert_true(d->iommu_after_vfio);
}

/* --- -global and -set --- */

static void global_defaults(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-global", "intel-iommu.caching-mode=on", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ON);
	/* a -global after the device is still a default for it */
	d = OK(QEMU, "-device", "intel-iommu", "-global", "intel-iommu.caching-mode=on");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-global",
	       "driver=intel-iommu,property=caching-mode,"
	       "value=on",
	       "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-global", "intel-iommu.caching_mode=on", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-global", "driver=intel-iommu,property=caching_mode,value=on", "-device",
	       "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-machine", "q35,kernel-irqchip=split", "-enable-kvm", "-global",
	       "intel-iommu.intremap=off", "-device", "intel-iommu");
	assert_int_equal(d->intremap, VH_OFF);
	/* a -global for another driver does not apply */
	d = OK(QEMU, "-global", "amd-iommu.caching-mode=on", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ABSENT);
	/* a -global that does not concern us */
	d = OK(QEMU, "-global", "ICH9-LPC.disable_s3=1", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_ABSENT);
	/* the later of two -global wins */
	d = OK(QEMU, "-global", "intel-iommu.caching-mode=on", "-global",
	       "intel-iommu.caching-mode=off", "-device", "intel-iommu");
	assert_int_equal(d->caching_mode, VH_OFF);
}

static void device_overrides_global(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-global", "intel-iommu.caching-mode=off", "-device",
	       "intel-iommu,caching-mode=on");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-device", "intel-iommu,caching-mode=on", "-global",
	       "driver=intel-iommu,property=caching-mode,value=off");
	assert_int_equal(d->caching_mode, VH_ON);
	d = OK(QEMU, "-global", "intel-iommu.caching-mode=on", "-device",
	       "{\"driver\":\"intel-iommu\",\"caching-mode\":false}");
	assert_int_equal(d->caching_mode, VH_OFF);
}

static void set_overrides_device(void **state UNUSED)
{
	struct vh_domain *d;

	d = OK(QEMU, "-machine", "q35,kernel-irqchip=split", "-enable-kvm", "-device",
	       "intel-iommu,id=vi,intremap=on,caching-mode=on", "-set", "device.vi.intremap=off");
	assert_int_equal(d->intremap, VH_OFF);
	assert_int_equal(d->caching_mode, VH_ON);
	/* -set beats -global and the device; '_' spelling */
	d = OK(QEMU, "-global", "intel-iommu.caching-mode=off", "-device",
	       "intel-iommu,id=vi,caching-mode=off", "-set", "device.vi.caching_mode=on");
	assert_int_equal(d->caching_mode, VH_ON);
	/* -set on a vfio device's host */
	d = OK(QEMU, "-device", "vfio-pci,id=hd0,host=01:00.0", "-set",
	       "device.hd0.host=0000:02:00.0");
	expect_addr(&d->hostdevs[0], "0000:02:00.0");
	/* -set for an unknown id, or another group, is harmless */
	d = OK(QEMU, "-device", "intel-iommu,id=vi,caching-mode=on", "-set",
	       "device.nope.caching-mode=off", "-set", "drive.d0.cache=none", "-set", "nonsense",
	       "-set", "device.vi");
	assert_int_equal(d->caching_mode, VH_ON);
	/* a device without an id is not touched by any -set */
	d = OK(QEMU, "-device", "intel-iommu,caching-mode=on", "-set", "device..caching-mode=off");
	assert_int_equal(d->caching_mode, VH_ON);
}

static void global_malformed(void **state UNUSED)
{
	assert_int_equal(FAILS(QEMU, "-machine", "q35", "-global", "foo"), -EINVAL);
	expect_msg("Argument 4");
	expect_msg("foo");
	assert_int_equal(FAILS(QEMU, "-global", "intel-iommu"), -EINVAL);
	expect_msg("Argument 2");
	assert_int_equal(FAILS(QEMU, "-global", "a=b.c"), -EINVAL);
	expect_msg("Argument 2");
	assert_int_equal(FAILS(QEMU, "-global", "intel-iommu.caching-mode"), -EINVAL);
}

/* --- -readconfig --- */

static void readconfig_sections(void **state UNUSED)
{
	char *cfg = config_file("vm.cfg", "# QEMU configuration\n"
					  "\n"
					  "[machine]\n"
					  "  type = \"q35\"\n"
					  "  kernel_irqchip = \"split\"\n"
					  "  accel = \"kvm\"\n"
					  "\n"
					  "   # an indented comment\n"
					  "[drive \"d0\"]\n"
					  "  file = \"disk.img\"\n"
					  "[device \"vi\"]\n"
					  "  driver = \"intel-iommu\"\n"
					  "  intremap = \"on\"\n"
					  "  caching-mode = on\n"
					  "  \n"
					  "[device \"hostdev0\"]\n"
					  "  driver = \"vfio-pci\"\n"
					  "  host = \"0000:01:00.0\"   \n"
					  "[device]\n"
					  "  driver = \"virtio-net-pci\"\n");
	struct vh_domain *d = OK(QEMU, "-readconfig", cfg);

	assert_string_equal(d->machine, "q35");
	assert_int_equal(d->machine_kind, VH_MACHINE_Q35);
	assert_string_equal(d->virt_type, "kvm");
	assert_string_equal(d->irqchip, "split");
	assert_string_equal(d->ioapic_driver, "qemu");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "intel");
	assert_int_equal(d->intremap, VH_ON);
	assert_int_equal(d->caching_mode, VH_ON);
	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], "0000:01:00.0");
	assert_false(d->iommu_after_vfio);

	/* the command line after it: -set on a section's id, -machine */
	d = OK(QEMU, "--readconfig", cfg, "-set", "device.vi.intremap=off", "-machine", "pc");
	assert_int_equal(d->intremap, VH_OFF);
	assert_string_equal(d->machine, "pc");

	/* a vfio-pci on the command line after the file's vIOMMU */
	d = OK(QEMU, "-readconfig", cfg, "-device", "vfio-pci,host=02:00.0");
	assert_int_equal(d->n_hostdevs, 2);
	assert_false(d->iommu_after_vfio);
	/* ... and before it */
	d = OK(QEMU, "-device", "vfio-pci,host=02:00.0", "-readconfig", cfg);
	assert_true(d->iommu_after_vfio);

	/* an empty file */
	cfg = config_file("empty.cfg", "");
	d = OK(QEMU, "-readconfig", cfg);
	assert_int_equal(d->n_hostdevs, 0);
}

static void readconfig_missing_file(void **state UNUSED)
{
	char path[4200];
	int r;

	tmpdir();
	snprintf(path, sizeof(path), "%s/nope.cfg", T.root);
	r = FAILS(QEMU, "-machine", "q35", "-readconfig", path);
	assert_int_equal(r, -ENOENT);
	expect_msg("Argument 4");
	expect_msg(path);
}

static void readconfig_line_without_equals(void **state UNUSED)
{
	char *cfg = config_file("broken.cfg", "# ok\n"
					      "[device \"x\"]\n"
					      "  driver = \"vfio-pci\"\n"
					      "  host 0000:01:00.0\n");
	char want[4300];

	assert_int_equal(FAILS(QEMU, "-readconfig", cfg), -EINVAL);
	snprintf(want, sizeof(want), "%s:4:", cfg);
	expect_msg(want);
	/* The file's text is never echoed (a setuid wrapper would show
	 * any file's lines). */
	assert_null(strstr(T.e.msg, "0000:01:00.0"));
}

/* --- -smp, -m, -name --- */

static void smp_forms(void **state UNUSED)
{
	assert_int_equal(OK(QEMU, "-smp", "8")->vcpus, 8);
	assert_int_equal(OK(QEMU, "-smp", "cpus=8,sockets=1")->vcpus, 8);
	assert_int_equal(OK(QEMU, "-smp", "16,sockets=2,cores=8")->vcpus, 16);
	assert_int_equal(OK(QEMU, "--smp", "300")->vcpus, 300);
	assert_int_equal(OK(QEMU, "-smp", "4", "-smp", "6")->vcpus, 6);
	assert_int_equal(OK(QEMU)->vcpus, 1);
	/* junk is not a count */
	assert_int_equal(OK(QEMU, "-smp", "many")->vcpus, 1);
}

/* Regression (fixed): lib/qemuargs.c:453 (smp_prop) reads only cpus=, but QEMU
 * computes the count from the topology when cpus= is left out ("-smp
 * sockets=2,cores=160" is 320 vCPUs), so the eim rule (vCPUs > 255) is
 * missed.  Fix: keep sockets/dies/clusters/cores/threads and use their
 * product when no count was given. */
static void smp_topology_without_cpus(void **state UNUSED)
{
	assert_int_equal(OK(QEMU, "-smp", "sockets=2,cores=160")->vcpus, 320);
}

/* libvirt writes -m with the sizes it aligned: the limit it computed
 * comes out unchanged (219100 KiB in its XML is size=219136k). */
static void memory_memlock_as_libvirt(void **state UNUSED)
{
	struct vh_memlock m;

	assert_int_equal(
	    vh_memlock_need(OK(QEMU, "-machine", "q35,accel=kvm", "-m", "size=219136k", GOOD_VFIO),
			    NULL, &m),
	    0);
	assert_int_equal(m.kib, 219136 + 1048576);
	assert_null(strstr(m.formula, "written"));
	/* A size libvirt would not write: rounded up as libvirt would. */
	assert_int_equal(vh_memlock_need(OK(QEMU, "-m", "219100k", GOOD_VFIO), NULL, &m), 0);
	assert_int_equal(m.kib, 219136 + 1048576);
	/* pSeries: 256 MiB blocks. */
	assert_int_equal(vh_memlock_need(OK("qemu-system-ppc64", "-machine", "pseries,accel=kvm",
					    "-m", "size=1048576k", GOOD_VFIO),
					 NULL, &m),
			 0);
	assert_int_equal(m.memory_kib, 1048576);
	assert_null(strstr(m.formula, "written"));
}

static void memory_forms(void **state UNUSED)
{
	assert_int_equal(OK(QEMU, "-m", "64G")->memory_kib, 64ULL * 1024 * 1024);
	assert_int_equal(OK(QEMU, "-m", "512")->memory_kib, 512 * 1024);
	assert_int_equal(OK(QEMU, "-m", "2048M")->memory_kib, 2048 * 1024);
	assert_int_equal(OK(QEMU, "-m", "size=4G")->memory_kib, 4ULL * 1024 * 1024);
	assert_int_equal(OK(QEMU, "-m", "4g,slots=2,maxmem=8G")->memory_kib, 4ULL * 1024 * 1024);
	assert_int_equal(OK(QEMU, "-m", "1T")->memory_kib, 1024ULL * 1024 * 1024);
	assert_int_equal(OK(QEMU, "-m", "65536k")->memory_kib, 65536);
	assert_int_equal(OK(QEMU)->memory_kib, 128 * 1024);
}

static void name_forms(void **state UNUSED)
{
	assert_string_equal(OK(QEMU, "-name", "vm")->name, "vm");
	assert_string_equal(OK(QEMU, "-name", "guest=vm,debug-threads=on")->name, "vm");
	assert_string_equal(OK(QEMU, "-name", "vm,process=qemu:vm")->name, "vm");
	assert_string_equal(OK(QEMU, "-name", "a", "-name", "b")->name, "b");
	assert_string_equal(OK(QEMU, "-m", "1G")->name, "(unnamed)");
	assert_null(OK(QEMU, "-m", "1G")->uuid);
	assert_string_equal(OK(QEMU, "-uuid", "c2e088c0-7e4b-4c2f-a5a6-2f1bb5f3a1d3")->uuid,
			    "c2e088c0-7e4b-4c2f-a5a6-2f1bb5f3a1d3");
}

/* --- hostile and odd command lines --- */

static void option_without_value(void **state UNUSED)
{
	static const char *const opts[] = {
	    "-device", "-machine", "-M",     "--readconfig", "-global", "-set", "-smp",
	    "-m",      "-name",	   "-accel", "-append",	     "-drive",	"-cpu",
	};

	for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
		char o[32];
		snprintf(o, sizeof(o), "%s", opts[i]);
		assert_int_equal(FAILS(QEMU, "-S", "disk.img", o), -EINVAL);
		expect_msg("Argument 3");
		expect_msg(o);
	}
}

static void values_not_misread(void **state UNUSED)
{
	struct vh_domain *d;

	/* a kernel command line that looks like options */
	d = OK(QEMU, "-kernel", "vmlinuz", "-append", "-device vfio-pci,host=01:00.0", "-machine",
	       "q35");
	assert_int_equal(d->n_hostdevs, 0);
	assert_string_equal(d->machine, "q35");
	/* -name -device: the name is "-device", the next word is bare */
	d = OK(QEMU, "-name", "-device", "vfio-pci,host=01:00.0");
	assert_string_equal(d->name, "-device");
	assert_int_equal(d->n_hostdevs, 0);
	/* values of other options that take one */
	d = OK(QEMU, "-drive", "-device", "-cpu", "-machine", "-append", "-enable-kvm", "-serial",
	       "-readconfig", "-object", "-global", "-monitor", "-set");
	assert_int_equal(d->n_hostdevs, 0);
	assert_string_equal(d->machine, "pc");
	assert_string_equal(d->virt_type, "qemu");
	/* -machine's value itself is not an option */
	d = OK(QEMU, "-M", "-accel", "-device", "vfio-pci,host=01:00.0");
	assert_string_equal(d->machine, "-accel");
	assert_int_equal(d->n_hostdevs, 1);
}

static void bare_and_unknown_ignored(void **state UNUSED)
{
	struct vh_domain *d = OK(QEMU, "disk.img", "-nographic", "-S", "-no-reboot", "-foo", "-",
				 "--", "-nodefaults", GOOD_VFIO, "other.qcow2", "-snapshot");

	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], AIC);
	assert_int_equal(d->hostdevs[0].line, 10);
}

/* --- vh_qemu_mentions_vfio --- */

static bool mentions(int argc, char **argv)
{
	return vh_qemu_mentions_vfio(argc, argv);
}
#define MENTIONS(...) mentions(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

static void mentions_vfio(void **state UNUSED)
{
	assert_true(MENTIONS(QEMU, "-machine", "q35", GOOD_VFIO));
	assert_true(MENTIONS(QEMU, "-device", "vfio-pci-nohotplug,host=1:0.0"));
	assert_true(MENTIONS(QEMU, "-device", "{\"driver\":\"vfio-pci\",\"host\":\"01:00.0\"}"));
	assert_true(MENTIONS(QEMU, "-readconfig", "/etc/vm.cfg"));
	assert_true(MENTIONS(QEMU, "--readconfig", "/etc/vm.cfg"));
	assert_true(MENTIONS(QEMU, "-set", "device.x.driver=vfio-pci"));

	assert_false(MENTIONS(QEMU));
	assert_false(
	    MENTIONS(QEMU, "-machine", "q35", "-m", "4G", "-device", "virtio-net-pci", "disk.img"));
	assert_false(MENTIONS(QEMU, "-device", "intel-iommu"));
	/* argv[0] is the binary, not an argument */
	assert_false(MENTIONS("/usr/bin/vfio-qemu-wrapper", "-m", "1G"));
	assert_false(mentions(0, NULL));
	/* the arguments given count, not the array */
	assert_false(mentions(1, ARGS(QEMU, "-device", "vfio-pci")));
}

/* Regression (fixed): lib/qemuargs.c:900 looks for the text "vfio" only, but
 * the parser decodes \u escapes in JSON -device (json_string), so
 * {"driver":"\u0076fio-pci"} is a vfio-pci device for vh_qemu_parse and
 * for QEMU while vh_qemu_mentions_vfio says no: the wrapper passes the line
 * through unchecked.  Fix: also answer true for an argument starting with
 * '{' that contains "\u" (or "fio"), so such lines are parsed. */
static void mentions_vfio_json_escape(void **state UNUSED)
{
	struct vh_domain *d =
	    OK(QEMU, "-device", "{\"driver\":\"\\u0076fio-pci\",\"host\":\"01:00.0\"}");

	assert_int_equal(d->n_hostdevs, 1);
	assert_true(MENTIONS(QEMU, "-device",
			     "{\"driver\":\"\\u0076fio-pci\",\"host\":"
			     "\"01:00.0\"}"));
}

/* --- a million arguments --- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void million_arguments(void **state UNUSED)
{
	const int n_s = 999990;
	int argc = 0;
	double t0, t;
	struct vh_domain *d;

	T.big = calloc((size_t)n_s + 16, sizeof(char *));
	assert_non_null(T.big);
	T.big[argc++] = QEMU;
	T.big[argc++] = "-machine";
	T.big[argc++] = "q35,kernel-irqchip=split";
	T.big[argc++] = "-enable-kvm";
	for (int i = 0; i < n_s / 2; i++)
		T.big[argc++] = "-S";
	T.big[argc++] = "-device";
	T.big[argc++] = "vfio-pci,host=0000:01:00.0";
	for (int i = n_s / 2; i < n_s; i++)
		T.big[argc++] = "-S";
	T.big[argc++] = "-m";
	T.big[argc++] = "4G";
	assert_true(argc >= 1000000 - 10);

	t0 = now();
	assert_true(vh_qemu_mentions_vfio(argc, T.big));
	d = parse_ok(argc, T.big);
	t = now() - t0;
	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], AIC);
	assert_int_equal(d->hostdevs[0].line, 4 + n_s / 2 + 1);
	assert_string_equal(d->machine, "q35");
	assert_int_equal(d->memory_kib, 4ULL * 1024 * 1024);
	fprintf(stderr, "million_arguments: %d arguments in %.2f s\n", argc, t);
	/* valgrind (make valgrind) runs it many times slower */
	if (t >= 10.0 && !getenv("VH_TEST_NO_TIMING"))
		fail_msg("%d arguments took %.1f s", argc, t);
	/* a million without any vfio: the cheap test says no */
	T.big[4 + n_s / 2] = "-S";
	T.big[4 + n_s / 2 + 1] = "-S";
	t0 = now();
	assert_false(vh_qemu_mentions_vfio(argc, T.big));
	if (now() - t0 >= 10.0)
		fail_msg("vh_qemu_mentions_vfio took %.1f s", now() - t0);
}

/* Regression (fixed): lib/qemuargs.c:766 grows d->hostdevs by one element per
 * vfio device (and kv_add, :38, every property list by one), so parsing copies
 * the whole array for each device: quadratic wherever realloc cannot grow
 * in place.  glibc hides it for big blocks (mremap), but under ASan (how
 * the tests run) or allocators without mremap, 5,000 devices take ~6 s and
 * 20,000 two minutes.  Fix: keep a capacity and double it, as new_dev
 * does. */
static void many_vfio_devices(void **state UNUSED)
{
	const int n = 5000;
	char(*hosts)[32];
	int argc = 0;
	double t0, t;
	struct vh_domain *d;

	T.big = calloc((size_t)(2 * n + 2), sizeof(char *));
	hosts = calloc((size_t)n, sizeof(*hosts));
	assert_non_null(T.big);
	assert_non_null(hosts);
	T.big[argc++] = QEMU;
	for (int i = 0; i < n; i++) {
		snprintf(hosts[i], sizeof(hosts[i]), "vfio-pci,host=%02x:%02x.%d", (i >> 8) & 0xff,
			 (i >> 3) & 0x1f, i & 7);
		T.big[argc++] = "-device";
		T.big[argc++] = hosts[i];
	}
	t0 = now();
	d = parse_ok(argc, T.big);
	t = now() - t0;
	free(hosts);
	assert_int_equal(d->n_hostdevs, n);
	expect_addr(&d->hostdevs[n - 1], "0000:13:10.7");
	fprintf(stderr, "many_vfio_devices: %d devices in %.2f s\n", n, t);
	if (t >= 2.0)
		fail_msg("%d vfio devices took %.1f s to parse", n, t);
}

/* --- the rules, over a fake sysroot, in the QEMU dialect --- */

static const char *const aic_host =
    "0000:00:1c.0 id=8086:a338 class=0x060400 bridge pcie=4 "
    "driver=pcieport group=2\n"
    "0000:01:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=vfio-pci group=1\n"
    "0000:02:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=qaic group=3\n"
    "0000:03:00.0 id=17cb:a100 class=0x120000 msi=32 pcie "
    "driver=vfio-pci group=4\n"
    "0000:03:00.1 id=8086:1533 class=0x020000 msix=5 pcie driver=igb "
    "group=4\n"
    "0000:04:00.0 id=17cb:a100 class=0x120000 msi=32 pcie group=5\n";

static void host(const char *spec)
{
	tmpdir();
	hx_build(T.root, &T.sys, spec);
}

static void dump(void)
{
	struct vh_buf b = {0};

	vh_report_text(&T.rep, &b);
	fprintf(stderr, "---- report ----\n%s----------------\n", vh_buf_str(&b));
	vh_buf_done(&b);
}

static void check_with(bool require_bound, int argc, char **argv)
{
	struct vh_check_opts o = {.companions = VH_COMPANIONS_SAME_DEVICE,
				  .require_bound = require_bound};

	if (!T.sys)
		host(aic_host);
	parse_ok(argc, argv);
	assert_int_equal(vh_check_domain(T.sys, &profiles, T.dom, &o, &T.rep), 0);
	T.have_rep = true;
}
#define CHECK(...) check_with(false, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))
#define CHECK_BOUND(...) check_with(true, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

static const struct vh_finding *find(const char *rule)
{
	for (size_t i = 0; i < T.rep.n_findings; i++)
		if (streq(T.rep.findings[i].rule, rule))
			return &T.rep.findings[i];
	return NULL;
}

static const struct vh_finding *expect_rule(const char *rule, const char *fix)
{
	const struct vh_finding *f = find(rule);

	if (!f) {
		dump();
		fail_msg("no %s finding", rule);
	}
	if (fix && (!f->fix || !strstr(f->fix, fix))) {
		dump();
		fail_msg("%s: fix does not contain \"%s\": %s", rule, fix,
			 f->fix ? f->fix : "(none)");
	}
	return f;
}

static void expect_no_rule(const char *rule)
{
	if (find(rule)) {
		dump();
		fail_msg("unexpected %s finding", rule);
	}
}

/* Findings other than the locked-memory info every VFIO line gets. */
static size_t n_real(void)
{
	size_t n = 0;

	for (size_t i = 0; i < T.rep.n_findings; i++)
		n += !(streq(T.rep.findings[i].rule, "memlock-too-low") &&
		       T.rep.findings[i].severity == VH_INFO);
	return n;
}

static void expect_clean(void)
{
	if (n_real()) {
		dump();
		fail_msg("expected no findings, got %zu (first: %s)", T.rep.n_findings,
			 T.rep.findings[0].rule);
	}
	assert_int_equal(T.rep.n_error + T.rep.n_warning, 0);
}

/* No fix of the QEMU dialect is written in XML. */
static void expect_no_xml(void)
{
	for (size_t i = 0; i < T.rep.n_findings; i++) {
		const struct vh_finding *f = &T.rep.findings[i];
		if ((f->fix && strchr(f->fix, '<')) ||
		    (f->fix_where && strchr(f->fix_where, '<'))) {
			dump();
			fail_msg("%s: XML in a command-line fix: %s / %s", f->rule,
				 f->fix_where ? f->fix_where : "", f->fix ? f->fix : "");
		}
	}
}

static void check_good_line_is_clean(void **state UNUSED)
{
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_clean();
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-accel", "kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_clean();
	/* the same from a -readconfig file */
	CHECK_BOUND(QEMU, "-readconfig",
		    config_file("good.cfg", "[machine]\n"
					    "  type = \"q35\"\n"
					    "  kernel-irqchip = \"split\"\n"
					    "  accel = \"kvm\"\n"
					    "[device \"vi\"]\n"
					    "  driver = \"intel-iommu\"\n"
					    "  intremap = \"on\"\n"
					    "  caching-mode = \"on\"\n"
					    "[device \"hostdev0\"]\n"
					    "  driver = \"vfio-pci\"\n"
					    "  host = \"" AIC "\"\n"));
	expect_clean();
	/* the same with -global defaults */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", "-global", "intel-iommu.caching-mode=on",
	      "-global", "driver=intel-iommu,property=intremap,value=on", "-device", "intel-iommu",
	      GOOD_VFIO);
	expect_clean();
}

static void check_machine_q35(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	f = expect_rule("machine-q35", "-machine q35");
	assert_non_null(f->fix_where);
	assert_non_null(strstr(f->fix_where, "-machine"));
	assert_non_null(strstr(f->message, "pc"));
	expect_no_xml();
	/* an explicit i440fx machine keeps its irqchip in the fix */
	CHECK(QEMU, "-machine", "pc-i440fx-8.2,kernel-irqchip=split", "-enable-kvm", GOOD_IOMMU,
	      GOOD_VFIO);
	f = expect_rule("machine-q35", "-machine q35,kernel-irqchip=split");
	expect_no_rule("ioapic-split");
	expect_no_xml();
}

static void check_viommu_missing(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_VFIO);
	f = expect_rule("viommu-missing", "-device intel-iommu,intremap=on,caching-mode=on");
	assert_non_null(f->fix_where);
	if (!strstr(f->fix_where, "before the first -device vfio-pci"))
		fail_msg("fix_where: %s", f->fix_where);
	expect_no_rule("viommu-order");
	expect_no_xml();
	/* another model: replace it */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", "-device", "virtio-iommu-pci", GOOD_VFIO);
	f = expect_rule("viommu-missing", "-device intel-iommu,intremap=on,caching-mode=on");
	assert_non_null(strstr(f->fix_where, "before the first -device vfio"));
	expect_no_xml();
}

static void check_viommu_properties(void **state UNUSED)
{
	/* intremap left to QEMU with KVM's in-kernel irqchip: off */
	CHECK(QEMU, "-machine", "q35", "-enable-kvm", "-device", "intel-iommu,caching-mode=on",
	      GOOD_VFIO);
	expect_rule("viommu-intremap", "intremap=on");
	expect_rule("ioapic-split", "kernel-irqchip=split");
	expect_no_xml();
	/* caching-mode missing, the -set turned it off */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", "-device",
	      "intel-iommu,id=vi,intremap=on,caching-mode=on", "-set", "device.vi.caching-mode=off",
	      GOOD_VFIO);
	expect_rule("viommu-caching-mode", "caching-mode=on");
	expect_no_rule("viommu-intremap");
	expect_no_xml();
	/* eim with more than 255 vCPUs; aw-bits kept in the fix */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", "-smp", "300", "-device",
	      "intel-iommu,intremap=on,caching-mode=on,aw-bits=48", GOOD_VFIO);
	expect_rule("viommu-eim", "eim=on");
	expect_rule("viommu-eim", "aw-bits=48");
	expect_no_xml();
}

static void check_ioapic_split(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, "-machine", "q35", "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	f = expect_rule("ioapic-split", "kernel-irqchip=split");
	assert_non_null(strstr(f->fix, "-machine q35"));
	assert_non_null(strstr(f->fix_where, "-machine"));
	expect_no_rule("machine-q35");
	expect_no_xml();
	/* the fix keeps a versioned q35 */
	CHECK(QEMU, "-machine", "pc-q35-9.0", "-accel", "kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_rule("ioapic-split", "-machine pc-q35-9.0,kernel-irqchip=split");
	/* TCG emulates the I/O APIC */
	CHECK(QEMU, "-machine", "q35", GOOD_IOMMU, GOOD_VFIO);
	expect_no_rule("ioapic-split");
	expect_clean();
}

static void check_viommu_order(void **state UNUSED)
{
	const struct vh_finding *f;
	struct vh_domain *xd = NULL;
	struct vh_err e = {0};
	struct vh_report xr = {0};
	static const char xml[] = "<domain type='kvm'><name>g</name><memory>1048576</memory>"
				  "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
				  "<features><acpi/><apic/><ioapic driver='qemu'/></features>"
				  "<devices>"
				  "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
				  "<address domain='0x0000' bus='0x01' slot='0x00' "
				  "function='0x0'/></source></hostdev>"
				  "<iommu model='intel'><driver intremap='on' caching_mode='on'/>"
				  "</iommu></devices></domain>";

	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_VFIO, GOOD_IOMMU);
	f = expect_rule("viommu-order", "-device intel-iommu");
	assert_int_equal(f->severity, VH_ERROR);
	assert_non_null(strstr(f->message, "-device vfio-pci at argument 5"));
	assert_non_null(strstr(f->fix_where, "before"));
	assert_int_equal(n_real(), 1);
	expect_no_xml();
	/* the same devices in the right order */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_no_rule("viommu-order");
	/* libvirt XML has no order: the hostdev before <iommu> is fine */
	assert_int_equal(vh_domain_parse(xml, strlen(xml), "g.xml", &xd, &e), 0);
	assert_int_equal(xd->dialect, VH_DIALECT_XML);
	assert_false(xd->iommu_after_vfio);
	assert_int_equal(vh_check_domain(T.sys, &profiles, xd, NULL, &xr), 0);
	for (size_t i = 0; i < xr.n_findings; i++)
		if (streq(xr.findings[i].rule, "viommu-order")) {
			vh_report_done(&xr);
			vh_domain_free(xd);
			fail_msg("viommu-order for a libvirt domain");
		}
	vh_report_done(&xr);
	vh_domain_free(xd);
}

static void check_group_not_viable(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
	      "vfio-pci,host=0000:03:00.0");
	f = expect_rule("group-not-viable", "-device vfio-pci,host=");
	assert_non_null(strstr(f->fix, "-device vfio-pci,host=0000:03:00.1"));
	assert_non_null(strstr(f->fix_where, "-device vfio-pci"));
	expect_no_xml();
	/* with the companion on the line as well, the group is viable */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
	      "vfio-pci,host=0000:03:00.0", "-device", "vfio-pci,host=0000:03:00.1");
	expect_no_rule("group-not-viable");
}

/* A hand-written host= is checked as the device QEMU opens. */
static void check_host_qemu_forms(void **state UNUSED)
{
	const struct vh_finding *f;

	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device", "vfio-pci,host=1:0.0");
	expect_no_rule("bad-address");
	expect_clean();
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
		    "vfio-pci,host=0:2:0.0");
	f = expect_rule("device-not-bound", NULL);
	assert_non_null(strstr(f->message, "0000:02:00.0"));
	expect_no_rule("bad-address");
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device", "vfio-pci,host=9:0.0");
	f = expect_rule("device-missing", NULL);
	assert_non_null(strstr(f->message, "0000:09:00.0"));
	/* a value QEMU refuses stays bad-address, naming the limits */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device", "vfio-pci,host=1:0.8");
	f = expect_rule("bad-address", NULL);
	assert_non_null(strstr(f->message, "function <= 7"));
}

static void check_device_not_bound(void **state UNUSED)
{
	const struct vh_finding *f;

	/* on qaic: only when nobody binds it for QEMU */
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
	      "vfio-pci,host=0000:02:00.0");
	expect_no_rule("device-not-bound");
	expect_clean();
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
		    "vfio-pci,host=0000:02:00.0");
	f = expect_rule("device-not-bound", "driver_override");
	assert_non_null(strstr(f->message, "0000:02:00.0"));
	assert_non_null(strstr(f->message, "qaic"));
	assert_true(f->has_addr);
	expect_no_xml();
	/* on no driver at all */
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
		    "vfio-pci,host=0000:04:00.0");
	expect_rule("device-not-bound", "driver_override");
	/* on vfio-pci: fine */
	CHECK_BOUND(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	expect_no_rule("device-not-bound");
}

static void check_no_xml_anywhere(void **state UNUSED)
{
	/* every rule a command line can raise, in one go and one by one */
	CHECK_BOUND(QEMU, "-enable-kvm", "-smp", "300", "-device", "vfio-pci,host=0000:02:00.0",
		    "-device", "intel-iommu,intremap=off", "-device", "vfio-pci,host=0000:03:00.0",
		    "-device", "vfio-pci,host=zz", "-device", "vfio-pci,host=0000:09:00.0",
		    "-device", "vfio-pci,host=02:00.0", "-device", "vfio-pci,host=0000:00:1c.0");
	expect_rule("machine-q35", "-machine q35");
	expect_rule("viommu-intremap", "-device intel-iommu");
	expect_rule("viommu-caching-mode", "caching-mode=on");
	expect_rule("ioapic-split", "kernel-irqchip=split");
	expect_rule("viommu-order", NULL);
	expect_rule("device-not-bound", NULL);
	expect_rule("group-not-viable", "-device vfio-pci,host=0000:03:00.1");
	expect_rule("bad-address", "host=");
	expect_rule("device-missing", NULL);
	expect_rule("device-duplicate", NULL);
	expect_rule("device-bridge", NULL);
	expect_no_xml();
	for (size_t i = 0; i < T.rep.n_findings; i++) {
		const struct vh_finding *f = &T.rep.findings[i];
		if (strchr(f->message, '<')) {
			dump();
			fail_msg("%s: XML in the message: %s", f->rule, f->message);
		}
	}
	/* a QEMU line's subject is the command line, with its name */
	CHECK(QEMU, "-name", "guest=aic,debug-threads=on", "-enable-kvm", GOOD_IOMMU, GOOD_VFIO);
	assert_non_null(strstr(expect_rule("machine-q35", NULL)->message, "'aic'"));
	expect_no_xml();
}

/* BUG (consequence of arch_i386_is_x86): a qemu-system-i386 line with the
 * AIC100 on machine pc and no vIOMMU passes every rule. */
static void check_i386_line(void **state UNUSED)
{
	CHECK("qemu-system-i386", "-enable-kvm", GOOD_VFIO);
	expect_rule("machine-q35", "-machine q35");
	expect_rule("viommu-missing", "-device intel-iommu");
}

/* BUG (consequence of vfio_mdev_not_bad_address): a vGPU given as an mdev
 * is refused with bad-address. */
static void check_mdev_line(void **state UNUSED)
{
	CHECK(QEMU, GOOD_MACHINE, "-enable-kvm", GOOD_IOMMU, "-device",
	      "vfio-pci,sysfsdev=/sys/bus/mdev/devices/"
	      "c2e088c0-7e4b-4c2f-a5a6-2f1bb5f3a1d3");
	expect_no_rule("bad-address");
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(json_flat_values),
	    T_(json_nested_skipped),
	    T_(json_malformed),
	    T_(json_control_escapes),
	    T_(json_error_offset),
	    T_(machine_forms),
	    T_(machine_default_pc),
	    T_(machine_options_merge),
	    T_(kernel_irqchip_spellings),
	    T_(accel_forms),
	    T_(accel_repeated_first_counts),
	    T_(enable_kvm_after_machine_accel),
	    T_(ioapic_driver_matrix),
	    T_(arch_from_argv0),
	    T_(arch_i386_is_x86),
	    T_(vfio_host_forms),
	    T_(vfio_host_qemu_widths),
	    T_(vfio_sysfsdev),
	    T_(vfio_sysfsdev_trailing_slash),
	    T_(vfio_mdev_not_bad_address),
	    T_(vfio_without_address),
	    T_(vfio_bad_host),
	    T_(device_comma_escape),
	    T_(device_flags),
	    T_(other_devices_ignored),
	    T_(several_vfio_in_order),
	    T_(json_device),
	    T_(json_device_malformed),
	    T_(intremap_as_qemu_decides),
	    T_(caching_mode_spellings),
	    T_(iommu_other_properties),
	    T_(iommu_models),
	    T_(iommu_order),
	    T_(iommu_order_json_after_legacy),
	    T_(iommu_order_within_readconfig),
	    T_(global_defaults),
	    T_(device_overrides_global),
	    T_(set_overrides_device),
	    T_(global_malformed),
	    T_(readconfig_sections),
	    T_(readconfig_missing_file),
	    T_(readconfig_line_without_equals),
	    T_(smp_forms),
	    T_(smp_topology_without_cpus),
	    T_(memory_forms),
	    T_(memory_memlock_as_libvirt),
	    T_(name_forms),
	    T_(option_without_value),
	    T_(values_not_misread),
	    T_(bare_and_unknown_ignored),
	    T_(mentions_vfio),
	    T_(mentions_vfio_json_escape),
	    T_(million_arguments),
	    T_(many_vfio_devices),
	    T_(check_good_line_is_clean),
	    T_(check_machine_q35),
	    T_(check_viommu_missing),
	    T_(check_viommu_properties),
	    T_(check_ioapic_split),
	    T_(check_viommu_order),
	    T_(check_group_not_viable),
	    T_(check_host_qemu_forms),
	    T_(check_device_not_bound),
	    T_(check_no_xml_anywhere),
	    T_(check_i386_line),
	    T_(check_mdev_line),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
