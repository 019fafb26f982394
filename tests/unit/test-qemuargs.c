/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_json_object_each, and vh_qemu_parse reading the machine, accelerator,
 * I/O APIC, architecture and -device options (vfio-pci devices in legacy
 * and JSON form) of a QEMU command line.
 */
#include "fixture-qemuargs.h"

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
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
