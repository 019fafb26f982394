/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI addresses: vh_pci_addr_parse (the sysfs/lspci text form),
 * vh_pci_addr_parse_qemu (a vfio-pci host= as QEMU reads it),
 * vh_pci_addr_invalid/format/eq, and vh_hostdev_set_address (every form a
 * libvirt <address domain= bus= slot= function=/> can take).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

#include "../../lib/domain.h"
#include "../../lib/pci.h"

/* Parse @s and expect success with the given parts. */
static void expect_addr(const char *s, unsigned d, unsigned b, unsigned sl, unsigned f)
{
	struct vh_pci_addr a = {0xdead, 0xdead, 0xdead, 0xdead};
	int r = vh_pci_addr_parse(s, &a);

	if (r != 0)
		fail_msg("vh_pci_addr_parse(\"%s\") = %d, expected 0", s, r);
	assert_int_equal(a.domain, d);
	assert_int_equal(a.bus, b);
	assert_int_equal(a.slot, sl);
	assert_int_equal(a.function, f);
}

/* Parse @s and expect @err, with the output left untouched. */
static void expect_parse_err(const char *s, int err)
{
	struct vh_pci_addr a = {0xdead, 0xbeef, 0xcafe, 0xf00d};
	int r = vh_pci_addr_parse(s, &a);

	if (r != err)
		fail_msg("vh_pci_addr_parse(\"%s\") = %d, expected %d "
			 "(got %x:%x:%x.%x)",
			 s ? s : "(null)", r, err, a.domain, a.bus, a.slot, a.function);
	assert_int_equal(a.domain, 0xdead);
	assert_int_equal(a.bus, 0xbeef);
	assert_int_equal(a.slot, 0xcafe);
	assert_int_equal(a.function, 0xf00d);
}

static void parse_full_form(void **state UNUSED)
{
	expect_addr("0000:01:00.0", 0, 1, 0, 0);
	expect_addr("0000:00:1f.3", 0, 0, 0x1f, 3);
	expect_addr("abcd:ef:1e.7", 0xabcd, 0xef, 0x1e, 7);
	expect_addr("ABCD:EF:1E.7", 0xabcd, 0xef, 0x1e, 7);
	expect_addr("ffff:ff:1f.7", 0xffff, 0xff, 0x1f, 7);
	/* The x86 host bridge, and s390x's first zPCI function. */
	expect_addr("0000:00:00.0", 0, 0, 0, 0);
}

static void parse_short_form(void **state UNUSED)
{
	expect_addr("01:00.0", 0, 1, 0, 0);
	expect_addr("3b:1f.7", 0, 0x3b, 0x1f, 7);
	expect_addr("00:02.0", 0, 0, 2, 0);
}

static void parse_bad_forms(void **state UNUSED)
{
	expect_parse_err(NULL, -EINVAL);
	expect_parse_err("", -EINVAL);
	expect_parse_err("0000:01:00", -EINVAL);
	expect_parse_err("0000:01:00.", -EINVAL);
	expect_parse_err("0000:01:00.0 ", -EINVAL);
	expect_parse_err("0000:01:00.0x", -EINVAL);
	expect_parse_err("00000:01:00.0", -EINVAL);
	expect_parse_err("000:01:00.0", -EINVAL);
	expect_parse_err("0000:1:00.0", -EINVAL);
	expect_parse_err("0000:001:00.0", -EINVAL);
	expect_parse_err("1:00.0", -EINVAL);
	expect_parse_err("01:0.0", -EINVAL);
	expect_parse_err("01-00.0", -EINVAL);
	expect_parse_err("0000.01.00.0", -EINVAL);
	expect_parse_err("gggg:01:00.0", -EINVAL);
	expect_parse_err("0000:zz:00.0", -EINVAL);
	expect_parse_err("0000:01:00.a", -EINVAL);
	expect_parse_err("../../../etc", -EINVAL);
	expect_parse_err("0000:01:00.0/../..", -EINVAL);
	/* what sscanf's %x would take */
	expect_parse_err("0x00:01:00.0", -EINVAL);
	expect_parse_err("0000:+1:00.0", -EINVAL);
	expect_parse_err("0000:01:-1.0", -EINVAL);
	expect_parse_err("0000: 1:00.0", -EINVAL);
	expect_parse_err("+1:00.0", -EINVAL);
	expect_parse_err("01:00.+", -EINVAL);
}

static void parse_out_of_range(void **state UNUSED)
{
	expect_parse_err("0000:01:20.0", -ERANGE);
	expect_parse_err("0000:01:ff.0", -ERANGE);
	expect_parse_err("0000:01:00.8", -ERANGE);
	expect_parse_err("0000:01:00.9", -ERANGE);
	expect_parse_err("01:20.0", -ERANGE);
	expect_parse_err("01:00.8", -ERANGE);
}

/* Regression (fixed): vh_pci_addr_parse uses sscanf %4x/%2x, which accept a
 * sign, a 0x prefix and leading blanks inside the fixed-width fields.
 * "-001:01:00.0" parses to domain 0xffffffff and "0000:-1:00.0" to bus
 * 0xffffffff; the parser does not range-check domain and bus, so an
 * out-of-range address is returned with 0.  This text reaches the parser from
 * user XML
 * (<metadata><vh:device address='...'/>).  Fix (lib/pci.c:13-25): check
 * that every character is a hex digit (isxdigit) at the positions of the
 * fixed layout before sscanf, or parse with strtoul per field and check
 * the separators; and run vh_pci_addr_invalid-style range checks. */
static void parse_rejects_signs_and_prefixes(void **state UNUSED)
{
	static const char *const bad[] = {
	    "-001:01:00.0", "+001:01:00.0", "0000:-1:00.0", "0x00:01:00.0",
	    " 000:01:00.0", "0000: 1:00.0", "-1:00.0",	    "01:-1.0",
	};
	int accepted = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct vh_pci_addr a = {0};
		int r = vh_pci_addr_parse(bad[i], &a);
		if (r == 0) {
			print_error("accepted \"%s\" as domain 0x%x bus 0x%x "
				    "slot 0x%x function %u\n",
				    bad[i], a.domain, a.bus, a.slot, a.function);
			accepted++;
		}
	}
	assert_int_equal(accepted, 0);
}

/* --- vh_pci_addr_parse_qemu: what QEMU's set_pci_host_devaddr takes ---
 * Each accepted form here was run through qemu-system-x86_64 7.2 as
 * -device vfio-pci,host=FORM: it opened /sys/bus/pci/devices/<the address
 * expected>; each refused one gave "Property 'vfio-pci.host' doesn't take
 * value". */

static void expect_qemu(const char *s, unsigned d, unsigned b, unsigned sl, unsigned f)
{
	struct vh_pci_addr a = {0xdead, 0xdead, 0xdead, 0xdead};
	int r = vh_pci_addr_parse_qemu(s, &a);

	if (r != 0)
		fail_msg("vh_pci_addr_parse_qemu(\"%s\") = %d, expected 0", s, r);
	if (a.domain != d || a.bus != b || a.slot != sl || a.function != f)
		fail_msg("vh_pci_addr_parse_qemu(\"%s\") = %x:%x:%x.%x, "
			 "expected %x:%x:%x.%x",
			 s, a.domain, a.bus, a.slot, a.function, d, b, sl, f);
}

static void expect_qemu_err(const char *s, int err)
{
	struct vh_pci_addr a = {0xdead, 0xbeef, 0xcafe, 0xf00d};
	int r = vh_pci_addr_parse_qemu(s, &a);

	if (r != err)
		fail_msg("vh_pci_addr_parse_qemu(\"%s\") = %d, expected %d "
			 "(got %x:%x:%x.%x)",
			 s ? s : "(null)", r, err, a.domain, a.bus, a.slot, a.function);
	assert_int_equal(a.domain, 0xdead);
	assert_int_equal(a.bus, 0xbeef);
	assert_int_equal(a.slot, 0xcafe);
	assert_int_equal(a.function, 0xf00d);
}

static void qemu_host_widths(void **state UNUSED)
{
	/* [domain:]bus:slot.function, hex of any width, function decimal */
	expect_qemu("6:12.5", 0, 6, 0x12, 5);
	expect_qemu("0:6:12.5", 0, 6, 0x12, 5);
	expect_qemu("0000:6:12.5", 0, 6, 0x12, 5);
	expect_qemu("06:12.5", 0, 6, 0x12, 5);
	expect_qemu("e1:0.0", 0, 0xe1, 0, 0);
	expect_qemu("0000:e1:00.0", 0, 0xe1, 0, 0);
	expect_qemu("E1:1F.7", 0, 0xe1, 0x1f, 7);
	expect_qemu("ffff:ff:1f.7", 0xffff, 0xff, 0x1f, 7);
	expect_qemu("1:0:0.0", 1, 0, 0, 0);
	expect_qemu("0:0.0", 0, 0, 0, 0);
	expect_qemu("0000000000000000000001:0.0", 0, 1, 0, 0);
	expect_qemu("e1:0.00000000000000000000007", 0, 0xe1, 0, 7);
	expect_qemu("e1:0.07", 0, 0xe1, 0, 7);
	/* the strict sysfs forms are a subset */
	expect_qemu("0000:01:00.0", 0, 1, 0, 0);
	expect_qemu("01:00.0", 0, 1, 0, 0);
}

/* QEMU reads each field with strtoul, which skips leading blanks and takes a
 * sign and, in base 16, a 0x prefix: QEMU 7.2 opened the device for each of
 * these. */
static void qemu_host_strtoul_forms(void **state UNUSED)
{
	expect_qemu("0x0:0xe1:0x0.0", 0, 0xe1, 0, 0);
	expect_qemu("0Xe1:0X1f.7", 0, 0xe1, 0x1f, 7);
	expect_qemu("+e1:0.0", 0, 0xe1, 0, 0);
	expect_qemu("e1:0.+0", 0, 0xe1, 0, 0);
	expect_qemu("-0:e1:0.0", 0, 0xe1, 0, 0);
	expect_qemu(" e1:0.0", 0, 0xe1, 0, 0);
	expect_qemu("\te1:0.0", 0, 0xe1, 0, 0);
	expect_qemu("e1:0. 0", 0, 0xe1, 0, 0);
	expect_qemu("e1: 0.0", 0, 0xe1, 0, 0);
	/* strtoul negates in unsigned long: QEMU opened 0000:01:00.0 */
	if (sizeof(unsigned long) == 8)
		expect_qemu("-ffffffffffffffff:0.0", 0, 1, 0, 0);
}

static void qemu_host_refused(void **state UNUSED)
{
	expect_qemu_err(NULL, -EINVAL);
	/* empty fields, too few or too many */
	expect_qemu_err("", -EINVAL);
	expect_qemu_err("e1", -EINVAL);
	expect_qemu_err("e1:0", -EINVAL);
	expect_qemu_err("e1:0.", -EINVAL);
	expect_qemu_err("e1.0", -EINVAL);
	expect_qemu_err("e1::0.0", -EINVAL);
	expect_qemu_err(":e1:0.0", -EINVAL);
	expect_qemu_err("0:e1:.0", -EINVAL);
	expect_qemu_err(".0", -EINVAL);
	expect_qemu_err("0:0:e1:0.0", -EINVAL);
	expect_qemu_err("e1:0.0.0", -EINVAL);
	expect_qemu_err("e1:0:0:0.0", -EINVAL);
	/* not hex, or a function not decimal */
	expect_qemu_err("zz:0.0", -EINVAL);
	expect_qemu_err("e1:g.0", -EINVAL);
	expect_qemu_err("e1:0.a", -EINVAL);
	expect_qemu_err("e1:0.0x0", -EINVAL);
	expect_qemu_err("0x:0.0", -EINVAL);
	expect_qemu_err("e1:0x.0", -EINVAL);
	expect_qemu_err("-:0.0", -EINVAL);
	expect_qemu_err("e1:0.-", -EINVAL);
	/* trailing junk, even a blank */
	expect_qemu_err("e1:0.0 ", -EINVAL);
	expect_qemu_err("e1:0.0/../..", -EINVAL);
	expect_qemu_err("e1 :0.0", -EINVAL);
	expect_qemu_err("e1:0 .0", -EINVAL);
	expect_qemu_err("../../../etc", -EINVAL);
}

static void qemu_host_out_of_range(void **state UNUSED)
{
	expect_qemu_err("10000:e1:0.0", -ERANGE);
	expect_qemu_err("100:0.0", -ERANGE);
	expect_qemu_err("0:100:0.0", -ERANGE);
	expect_qemu_err("e1:20.0", -ERANGE);
	expect_qemu_err("e1:0.8", -ERANGE);
	expect_qemu_err("e1:0.08", -ERANGE);
	/* a sign wraps: -1 is ULONG_MAX */
	expect_qemu_err("-1:0.0", -ERANGE);
	expect_qemu_err("e1:-1.0", -ERANGE);
	expect_qemu_err("e1:0.-1", -ERANGE);
	/* past unsigned long: strtoul saturates */
	expect_qemu_err("1ffffffffffffffffffff:0.0", -ERANGE);
	/* no wrap to a valid value at 2^32 */
	expect_qemu_err("100000001:0.0", -ERANGE);
}

static void addr_invalid_and_format(void **state UNUSED)
{
	struct vh_pci_addr a = {0, 1, 0, 0};
	char buf[VH_PCI_ADDR_LEN];

	assert_null(vh_pci_addr_invalid(&a));
	vh_pci_addr_format(&a, buf);
	assert_string_equal(buf, "0000:01:00.0");

	a = (struct vh_pci_addr){0xabcd, 0xef, 0x1f, 7};
	assert_null(vh_pci_addr_invalid(&a));
	vh_pci_addr_format(&a, buf);
	assert_string_equal(buf, "abcd:ef:1f.7");

	a = (struct vh_pci_addr){0x10000, 1, 0, 0};
	assert_non_null(strstr(vh_pci_addr_invalid(&a), "domain"));
	a = (struct vh_pci_addr){0, 0x100, 0, 0};
	assert_non_null(strstr(vh_pci_addr_invalid(&a), "bus"));
	a = (struct vh_pci_addr){0, 1, 0x20, 0};
	assert_non_null(strstr(vh_pci_addr_invalid(&a), "slot"));
	a = (struct vh_pci_addr){0, 1, 0, 8};
	assert_non_null(strstr(vh_pci_addr_invalid(&a), "function"));
	/* 0000:00:00.x is an address like any other (libvirt's
	 * virPCIDeviceAddressParseXML takes it: s390x's first zPCI function
	 * is 0000:00:00.0); only the ranges are checked. */
	for (unsigned f = 0; f <= 7; f++) {
		a = (struct vh_pci_addr){0, 0, 0, f};
		assert_null(vh_pci_addr_invalid(&a));
	}
	a = (struct vh_pci_addr){0, 0, 0, 8};
	assert_non_null(strstr(vh_pci_addr_invalid(&a), "function"));
	a = (struct vh_pci_addr){1, 0, 0, 0};
	assert_null(vh_pci_addr_invalid(&a));
	a = (struct vh_pci_addr){0, 0, 1, 0};
	assert_null(vh_pci_addr_invalid(&a));
}

static void addr_eq(void **state UNUSED)
{
	struct vh_pci_addr a = {0, 1, 2, 3}, b = {0, 1, 2, 3};

	assert_true(vh_pci_addr_eq(&a, &b));
	b.function = 4;
	assert_false(vh_pci_addr_eq(&a, &b));
	b = a;
	b.domain = 1;
	assert_false(vh_pci_addr_eq(&a, &b));
	b = a;
	b.bus = 2;
	assert_false(vh_pci_addr_eq(&a, &b));
	b = a;
	b.slot = 3;
	assert_false(vh_pci_addr_eq(&a, &b));
}

static void parse_format_roundtrip(void **state UNUSED)
{
	static const char *const v[] = {"0000:01:00.0", "0001:3b:1f.7", "ffff:ff:00.1",
					"0000:00:02.0"};
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		struct vh_pci_addr a;
		char buf[VH_PCI_ADDR_LEN];
		assert_int_equal(vh_pci_addr_parse(v[i], &a), 0);
		vh_pci_addr_format(&a, buf);
		assert_string_equal(buf, v[i]);
	}
}

/* --- vh_hostdev_set_address --- */

static void expect_hd(const char *d, const char *b, const char *s, const char *f, unsigned ed,
		      unsigned eb, unsigned es, unsigned ef)
{
	struct vh_hostdev h = {0};

	vh_hostdev_set_address(&h, d, b, s, f);
	if (!h.addr_ok)
		fail_msg("address domain=%s bus=%s slot=%s function=%s "
			 "rejected: %s",
			 d ? d : "-", b ? b : "-", s ? s : "-", f ? f : "-", h.addr_error);
	assert_int_equal(h.addr.domain, ed);
	assert_int_equal(h.addr.bus, eb);
	assert_int_equal(h.addr.slot, es);
	assert_int_equal(h.addr.function, ef);
	assert_string_equal(h.addr_error, "");
}

/* Expect a rejection whose reason contains @why. */
static void expect_hd_bad(const char *d, const char *b, const char *s, const char *f,
			  const char *why)
{
	struct vh_hostdev h = {0};

	h.addr_ok = true; /* must be cleared */
	vh_hostdev_set_address(&h, d, b, s, f);
	if (h.addr_ok)
		fail_msg("address domain=%s bus=%s slot=%s function=%s "
			 "accepted as %x:%x:%x.%x",
			 d ? d : "-", b ? b : "-", s ? s : "-", f ? f : "-", h.addr.domain,
			 h.addr.bus, h.addr.slot, h.addr.function);
	if (!strstr(h.addr_error, why))
		fail_msg("reason \"%s\" does not contain \"%s\"", h.addr_error, why);
	assert_true(h.addr_text[0] != '\0');
}

static void hostdev_hex(void **state UNUSED)
{
	expect_hd("0x0000", "0x01", "0x00", "0x0", 0, 1, 0, 0);
	expect_hd("0xffff", "0xff", "0x1f", "0x7", 0xffff, 0xff, 0x1f, 7);
	expect_hd("0X0000", "0X3B", "0x1F", "0x7", 0, 0x3b, 0x1f, 7);
	expect_hd("0x0001", "0x00", "0x00", "0x0", 1, 0, 0, 0);
}

static void hostdev_decimal(void **state UNUSED)
{
	expect_hd("0", "1", "0", "0", 0, 1, 0, 0);
	expect_hd("65535", "255", "31", "7", 0xffff, 0xff, 0x1f, 7);
	expect_hd("0", "59", "2", "1", 0, 59, 2, 1);
}

static void hostdev_octal(void **state UNUSED)
{
	/* libvirt parses with base 0: a leading 0 means octal. */
	expect_hd("00", "010", "037", "07", 0, 8, 31, 7);
	expect_hd("0", "0377", "01", "0", 0, 0xff, 1, 0);
	/* 08 is not an octal number. */
	expect_hd_bad("0", "08", "0", "0", "bus='08' is not a number");
	expect_hd_bad("0", "1", "09", "0", "slot='09'");
	/* 0400 octal is 256: out of range for a bus. */
	expect_hd_bad("0", "0400", "0", "0", "bus='0400' is out of range");
	/* 040 octal is 32: out of range for a slot. */
	expect_hd_bad("0", "1", "040", "0", "slot='040' is out of range");
	expect_hd_bad("0", "1", "0", "010", "function='010' is out of range");
}

static void hostdev_missing_parts(void **state UNUSED)
{
	/* libvirt defaults each missing part to 0. */
	expect_hd(NULL, "0x01", "0x00", "0x0", 0, 1, 0, 0);
	expect_hd(NULL, "0x02", NULL, NULL, 0, 2, 0, 0);
	expect_hd(NULL, NULL, "0x03", NULL, 0, 0, 3, 0);
	expect_hd("0x0001", NULL, NULL, "0x2", 1, 0, 0, 2);
	expect_hd("0x0000", "0x01", "0x00", NULL, 0, 1, 0, 0);
	/* Everything missing (<address/>) is 0000:00:00.0, as libvirt
	 * reads it. */
	expect_hd(NULL, NULL, NULL, NULL, 0, 0, 0, 0);
	expect_hd(NULL, NULL, NULL, "0x3", 0, 0, 0, 3);
}

/* libvirt takes 0000:00:00.x as a hostdev source (s390x's first zPCI
 * function is 0000:00:00.0): what is there is for the host-side rules to
 * judge (device-bridge for x86's host bridge, device-missing). */
static void hostdev_all_zero(void **state UNUSED)
{
	expect_hd("0x0000", "0x00", "0x00", "0x0", 0, 0, 0, 0);
	expect_hd("0", "0", "0", "7", 0, 0, 0, 7);
	expect_hd("00", "0x0", "0", "0", 0, 0, 0, 0);
	/* Its function is still range-checked. */
	expect_hd_bad("0", "0", "0", "8", "function='8' is out of range");
}

static void hostdev_out_of_range(void **state UNUSED)
{
	expect_hd_bad("0x10000", "0x01", "0x00", "0x0", "domain='0x10000' is out of range");
	expect_hd_bad("65536", "1", "0", "0", "domain='65536' is out of range");
	expect_hd_bad("0", "0x100", "0", "0", "bus='0x100' is out of range");
	expect_hd_bad("0", "256", "0", "0", "bus='256' is out of range");
	expect_hd_bad("0", "1", "0x20", "0", "slot='0x20' is out of range");
	expect_hd_bad("0", "1", "32", "0", "slot='32' is out of range");
	expect_hd_bad("0", "1", "0", "0x8", "function='0x8' is out of range");
	expect_hd_bad("0", "1", "0", "8", "function='8' is out of range");
	/* The reason says what the maximum is. */
	expect_hd_bad("0", "1", "0x20", "0", "0x1f");
	expect_hd_bad("0", "1", "0", "8", "0x7");
}

static void hostdev_huge(void **state UNUSED)
{
	expect_hd_bad("0", "99999999999999999999999999", "0", "0", "out of range");
	expect_hd_bad("0xffffffffffffffffffff", "1", "0", "0", "out of range");
	expect_hd_bad("0", "0x100000001", "0", "0", "out of range");
	expect_hd_bad("0", "1", "4294967296", "0", "out of range");
	/* Truncation modulo 2^32 must not turn these into valid parts. */
	expect_hd_bad("0", "0x100000001", "0", "0", "bus=");
	expect_hd_bad("0", "1", "0", "0x100000000", "function=");
}

static void hostdev_non_numeric(void **state UNUSED)
{
	expect_hd_bad("0", "zz", "0", "0", "bus='zz' is not a number");
	expect_hd_bad("0", "", "0", "0", "bus='' is not a number");
	expect_hd_bad("0", "0x", "0", "0", "is not a number");
	expect_hd_bad("0", "1", "0x1g", "0", "slot='0x1g'");
	expect_hd_bad("0", "0x01 ", "0", "0", "not a number");
	expect_hd_bad("0", " 0x01", "0", "0", "not a number");
	expect_hd_bad("0", "1.0", "0", "0", "not a number");
	expect_hd_bad("pci", "1", "0", "0", "domain='pci'");
	expect_hd_bad("0", "1", "0", "../../../etc/passwd", "function=");
	expect_hd_bad("0", "../", "0", "0", "not a number");
	expect_hd_bad("0", "1", "0", "0\n", "not a number");
}

static void hostdev_negative(void **state UNUSED)
{
	/* strtoull would take "-1" as ULLONG_MAX: must be refused. */
	expect_hd_bad("0", "-1", "0", "0", "bus='-1'");
	expect_hd_bad("-0", "1", "0", "0", "domain='-0'");
	expect_hd_bad("0", "1", "-0x1", "0", "slot=");
	expect_hd_bad("0", "+1", "0", "0", "bus='+1'");
	expect_hd_bad("0", "1", "0", "-7", "function=");
}

static void hostdev_text_is_bounded(void **state UNUSED)
{
	char big[4096];
	struct vh_hostdev h = {0};

	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	vh_hostdev_set_address(&h, big, big, big, big);
	assert_false(h.addr_ok);
	assert_true(strlen(h.addr_text) < sizeof(h.addr_text));
	assert_true(strlen(h.addr_error) < sizeof(h.addr_error));
	assert_non_null(strstr(h.addr_error, "domain="));

	memset(big, 'x', sizeof(big) - 1);
	vh_hostdev_set_address(&h, "0", big, "0", "0");
	assert_false(h.addr_ok);
	assert_non_null(strstr(h.addr_error, "bus="));
	assert_non_null(strstr(h.addr_error, "not a number"));
}

/* The address as written, for messages: the parts given, each value cut
 * at 16 characters. */
static void hostdev_text_exact(void **state UNUSED)
{
	struct vh_hostdev h = {0};

	vh_hostdev_set_address(&h, "0x0000", "0x01", "0x1f", "0x7");
	assert_string_equal(h.addr_text, "domain='0x0000' bus='0x01' "
					 "slot='0x1f' function='0x7'");
	vh_hostdev_set_address(&h, NULL, "0x01", NULL, "0");
	assert_string_equal(h.addr_text, "bus='0x01' function='0'");
	vh_hostdev_set_address(&h, NULL, NULL, NULL, NULL);
	assert_string_equal(h.addr_text, "(empty)");
	vh_hostdev_set_address(&h, NULL, "0x000000000000000001", NULL, NULL);
	assert_string_equal(h.addr_text, "bus='0x00000000000000'");
}

static void hostdev_reuse_clears_ok(void **state UNUSED)
{
	struct vh_hostdev h = {0};

	vh_hostdev_set_address(&h, "0", "1", "0", "0");
	assert_true(h.addr_ok);
	vh_hostdev_set_address(&h, "0", "bad", "0", "0");
	assert_false(h.addr_ok);
	assert_non_null(strstr(h.addr_text, "bus='bad'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_full_form),
	    cmocka_unit_test(parse_short_form),
	    cmocka_unit_test(parse_bad_forms),
	    cmocka_unit_test(parse_out_of_range),
	    cmocka_unit_test(parse_rejects_signs_and_prefixes),
	    cmocka_unit_test(qemu_host_widths),
	    cmocka_unit_test(qemu_host_strtoul_forms),
	    cmocka_unit_test(qemu_host_refused),
	    cmocka_unit_test(qemu_host_out_of_range),
	    cmocka_unit_test(addr_invalid_and_format),
	    cmocka_unit_test(addr_eq),
	    cmocka_unit_test(parse_format_roundtrip),
	    cmocka_unit_test(hostdev_hex),
	    cmocka_unit_test(hostdev_decimal),
	    cmocka_unit_test(hostdev_octal),
	    cmocka_unit_test(hostdev_missing_parts),
	    cmocka_unit_test(hostdev_all_zero),
	    cmocka_unit_test(hostdev_out_of_range),
	    cmocka_unit_test(hostdev_huge),
	    cmocka_unit_test(hostdev_non_numeric),
	    cmocka_unit_test(hostdev_negative),
	    cmocka_unit_test(hostdev_text_is_bounded),
	    cmocka_unit_test(hostdev_text_exact),
	    cmocka_unit_test(hostdev_reuse_clears_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
