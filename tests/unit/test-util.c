/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The small helpers: vh_parse_uint, the string buffer and its escapers,
 * vh_strlcpy, vh_strip_trailing, vh_err_set, and the capped readers.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/util.h"
#include "../../lib/xml.h"
#include "../fakesys.h"

static void parse_uint(void **state UNUSED)
{
	unsigned long long v = 0;

	assert_int_equal(vh_parse_uint("0x1b", 0, 100, &v), 0);
	assert_int_equal(v, 27);
	assert_int_equal(vh_parse_uint("27", 0, 100, &v), 0);
	assert_int_equal(v, 27);
	assert_int_equal(vh_parse_uint("033", 0, 100, &v), 0);
	assert_int_equal(v, 27);
	assert_int_equal(vh_parse_uint("033", 10, 100, &v), 0);
	assert_int_equal(v, 33);
	assert_int_equal(vh_parse_uint("ff", 16, 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(vh_parse_uint("0", 0, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vh_parse_uint("18446744073709551615", 10, 0xffffffffffffffffULL, &v), 0);
	assert_true(v == 0xffffffffffffffffULL);

	v = 5;
	assert_int_equal(vh_parse_uint("101", 0, 100, &v), -ERANGE);
	assert_int_equal(vh_parse_uint("18446744073709551616", 10, 0xffffffffffffffffULL, &v),
			 -ERANGE);
	assert_int_equal(vh_parse_uint(NULL, 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("-1", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("+1", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint(" 1", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("\t1", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("1 ", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("1x", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("0x", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("08", 0, 100, &v), -EINVAL);
	assert_int_equal(vh_parse_uint("1e3", 10, 10000, &v), -EINVAL);
	assert_int_equal(v, 5);
}

static void buf_grows(void **state UNUSED)
{
	struct vh_buf b = {0};
	char *s;

	assert_string_equal(vh_buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		vh_buf_printf(&b, "%03d,", i);
	assert_int_equal(b.len, 4000);
	assert_int_equal(strlen(vh_buf_str(&b)), 4000);
	assert_memory_equal(vh_buf_str(&b), "000,001,", 8);
	assert_memory_equal(vh_buf_str(&b) + 3996, "999,", 4);
	assert_false(vh_buf_failed(&b));
	vh_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(vh_buf_str(&b), "");
	vh_buf_puts(&b, "abc");
	vh_buf_puts(&b, "");
	vh_buf_puts(&b, "def");
	s = vh_buf_steal(&b);
	assert_string_equal(s, "abcdef");
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	free(s);

	s = vh_buf_steal(&b); /* empty: an empty string, not NULL */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	vh_buf_done(&b);

	/* Formatted into the room there is, or again after growing: at
	 * every length around a capacity (256, 512), the text is whole and
	 * terminated. */
	for (int len = 250; len < 520; len++) {
		char want[600];
		memset(want, 'x', (size_t)len);
		want[len] = '\0';
		vh_buf_putc(&b, 'a');
		vh_buf_printf(&b, "%s|%d", want, len);
		vh_buf_putc(&b, 'z');
		assert_int_equal(b.len, strlen(vh_buf_str(&b)));
		assert_int_equal(b.s[0], 'a');
		assert_memory_equal(b.s + 1, want, (size_t)len);
		assert_int_equal(b.len, (size_t)(1 + len + 1 + 3 + 1)); /* |NNN z */
		assert_int_equal(b.s[b.len - 1], 'z');
		vh_buf_done(&b);
		b = (struct vh_buf){0};
	}
}

static void buf_json(void **state UNUSED)
{
	struct vh_buf b = {0};

	vh_buf_json_str(&b, "a\"b\\c\nd\te\r\x01\x1f\x7f/<é>");
	assert_string_equal(vh_buf_str(&b), "a\\\"b\\\\c\\nd\\te\\u000d\\u0001\\u001f\x7f/<é>");
	vh_buf_reset(&b);
	vh_buf_json_str(&b, NULL);
	assert_string_equal(vh_buf_str(&b), "");
	vh_buf_done(&b);
}

static void buf_xml(void **state UNUSED)
{
	struct vh_buf b = {0};

	vh_buf_xml_str(&b, "<a b='c' d=\"e\">&amp;</a>");
	assert_string_equal(vh_buf_str(&b), "&lt;a b=&apos;c&apos; d=&quot;e&quot;&gt;"
					    "&amp;amp;&lt;/a&gt;");
	vh_buf_reset(&b);
	vh_buf_xml_str(&b, NULL);
	assert_string_equal(vh_buf_str(&b), "");
	vh_buf_done(&b);
}

static void strlcpy_and_strip(void **state UNUSED)
{
	char d[8];
	char s[32];

	memset(d, 'x', sizeof(d));
	assert_int_equal(vh_strlcpy(d, "1234567", sizeof(d)), 0);
	assert_string_equal(d, "1234567");
	assert_int_equal(vh_strlcpy(d, "12345678", sizeof(d)), -ENAMETOOLONG);
	assert_string_equal(d, "1234567");
	assert_int_equal(vh_strlcpy(d, "", sizeof(d)), 0);
	assert_string_equal(d, "");
	d[0] = 'q';
	assert_int_equal(vh_strlcpy(d, "a", 0), -ENAMETOOLONG);
	assert_int_equal(d[0], 'q');

	strcpy(s, "  x y \t\r\n\v\f ");
	vh_strip_trailing(s);
	assert_string_equal(s, "  x y");
	strcpy(s, " \n ");
	vh_strip_trailing(s);
	assert_string_equal(s, "");

	assert_null(vh_strdup0(NULL));
	{
		char *c = vh_strdup0("z");
		assert_string_equal(c, "z");
		free(c);
	}
}

static void err_first_wins(void **state UNUSED)
{
	struct vh_err e = {0};
	char big[2000];

	assert_int_equal(vh_err_set(&e, -EINVAL, "first %d", 1), -EINVAL);
	assert_int_equal(vh_err_set(&e, -ENOENT, "second"), -ENOENT);
	assert_int_equal(e.code, -EINVAL);
	assert_string_equal(e.msg, "first 1");
	assert_int_equal(vh_err_set(NULL, -EIO, "nowhere"), -EIO);

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	e = (struct vh_err){0};
	vh_err_set(&e, -E2BIG, "%s", big);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
}

static void read_capped(void **state UNUSED)
{
	char *root = fakesys_mkroot(), path[4200], *buf = NULL, *data;
	struct vh_err e = {0};
	size_t len = 0, max = 200000;
	int fd;

	assert_non_null(root);
	data = malloc(max + 2);
	assert_non_null(data);
	memset(data, 'x', max + 1);
	data[max + 1] = '\0';

	/* exactly the maximum: read */
	data[max] = '\0';
	assert_int_equal(fakesys_put(root, "ok", data), 0);
	snprintf(path, sizeof(path), "%s/ok", root);
	assert_int_equal(vh_read_file_capped(path, max, &buf, &len, &e), 0);
	assert_int_equal(len, max);
	assert_int_equal(strlen(buf), max);
	free(buf);

	/* one byte more: refused */
	data[max] = 'x';
	assert_int_equal(fakesys_put(root, "big", data), 0);
	snprintf(path, sizeof(path), "%s/big", root);
	buf = NULL;
	assert_int_equal(vh_read_file_capped(path, max, &buf, &len, &e), -EFBIG);
	assert_null(buf);
	assert_non_null(strstr(e.msg, path));

	e = (struct vh_err){0};
	snprintf(path, sizeof(path), "%s/none", root);
	assert_int_equal(vh_read_file_capped(path, max, &buf, &len, &e), -ENOENT);
	assert_non_null(strstr(e.msg, path));

	/* an endless input stops at the cap */
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	e = (struct vh_err){0};
	assert_int_equal(vh_read_fd_capped(fd, "zeros", 1u << 20, &buf, &len, &e), -EFBIG);
	close(fd);
	assert_non_null(strstr(e.msg, "zeros"));

	/* empty input */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(vh_read_fd_capped(fd, "null", 100, &buf, &len, &e), 0);
	close(fd);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);

	free(data);
	fakesys_rmrf(root);
	free(root);
}

static void xml_helpers_with(unsigned flags)
{
	const char *x = "<r a='1'><c>  text \n</c><d/><c>two</c>"
			"<n:c xmlns:n='urn:x'>ns</n:c></r>";
	xmlDoc *doc = NULL;
	struct vh_err e = {0};
	xmlNode *root, *c;
	char *s;

	assert_int_equal(vh_xml_parse(x, strlen(x), "h.xml", flags, &doc, &e), 0);
	root = xmlDocGetRootElement(doc);
	assert_true(vh_xml_is(root, "r"));
	assert_false(vh_xml_is(root, "c"));
	assert_false(vh_xml_is(NULL, "r"));
	s = vh_xml_prop(root, "a");
	assert_string_equal(s, "1");
	free(s);
	assert_null(vh_xml_prop(root, "b"));
	assert_null(vh_xml_prop(NULL, "a"));
	c = vh_xml_child(root, "c");
	assert_non_null(c);
	s = vh_xml_text(c);
	assert_string_equal(s, "text");
	free(s);
	c = vh_xml_next(c, "c");
	s = vh_xml_text(c);
	assert_string_equal(s, "two");
	free(s);
	c = vh_xml_next(c, "c"); /* any namespace */
	assert_non_null(c);
	assert_null(vh_xml_next(c, "c"));
	assert_null(vh_xml_child(root, "zz"));
	assert_null(vh_xml_child(NULL, "c"));
	assert_null(vh_xml_text(NULL));
	xmlFreeDoc(doc);
}

static void xml_helpers(void **state UNUSED)
{
	xml_helpers_with(0);
	xml_helpers_with(VH_XML_LEAN);
}

/* A lean parse drops the whitespace-only text between elements, and only
 * that: text in a leaf (blank or not), the line of every element and the
 * text of mixed content stay. */
static void xml_lean(void **state UNUSED)
{
	const char *x = "<r>\n  <a>\n    <b> </b>\n  </a>\n"
			"  <m>x <i>y</i> z</m>\n</r>\n";
	size_t texts[2] = {0, 0};

	for (int lean = 0; lean < 2; lean++) {
		xmlDoc *doc = NULL;
		struct vh_err e = {0};
		xmlNode *r, *a, *b, *m;
		char *s;

		assert_int_equal(
		    vh_xml_parse(x, strlen(x), "l.xml", lean ? VH_XML_LEAN : 0, &doc, &e), 0);
		r = xmlDocGetRootElement(doc);
		for (xmlNode *n = r->children; n; n = n->next)
			texts[lean] += n->type == XML_TEXT_NODE;
		a = vh_xml_child(r, "a");
		b = vh_xml_child(a, "b");
		m = vh_xml_child(r, "m");
		assert_int_equal(vh_xml_line(a), 2);
		assert_int_equal(vh_xml_line(b), 3);
		assert_int_equal(vh_xml_line(m), 5);
		assert_non_null(b->children); /* the blank leaf text */
		s = (char *)xmlNodeGetContent(m);
		assert_string_equal(s, "x y z");
		xmlFree(s);
		xmlFreeDoc(doc);
	}
	assert_int_equal(texts[0], 3);
	assert_int_equal(texts[1], 0);
}

/* vh_xml_parse_keep builds the listed paths, their ancestors and "/..."
 * subtrees, nothing else; lines stay right; too many entries is an error. */
static void xml_keep(void **state UNUSED)
{
	const char *x = "<r>\n <a>\n  <b>t</b>\n  <c><b/></c>\n </a>\n"
			" <d>\n  <e><f>g</f></e>\n </d>\n <a><b/></a>\n</r>\n";
	const char *keep[] = {"r/a/b", "r/d/...", NULL};
	const char *many[66];
	struct vh_err e = {0};
	xmlDoc *doc = NULL;
	xmlNode *r, *a, *d, *f;
	char *s;
	int n = 0;

	assert_int_equal(vh_xml_parse_keep(x, strlen(x), "k.xml", VH_XML_LEAN, keep, &doc, &e), 0);
	r = xmlDocGetRootElement(doc);
	for (xmlNode *c = r->children; c; c = c->next)
		n += c->type == XML_ELEMENT_NODE;
	assert_int_equal(n, 3); /* a, d, a */
	a = vh_xml_child(r, "a");
	assert_non_null(vh_xml_child(a, "b"));
	assert_null(vh_xml_child(a, "c")); /* not listed: not built */
	assert_int_equal(vh_xml_line(vh_xml_child(a, "b")), 3);
	s = vh_xml_text(vh_xml_child(a, "b"));
	assert_string_equal(s, "t");
	free(s);
	d = vh_xml_child(r, "d");
	f = vh_xml_child(vh_xml_child(d, "e"), "f"); /* the whole subtree */
	assert_non_null(f);
	assert_int_equal(vh_xml_line(f), 7);
	s = vh_xml_text(d);
	assert_string_equal(s, "g");
	free(s);
	assert_non_null(vh_xml_child(vh_xml_next(a, "a"), "b"));
	xmlFreeDoc(doc);
	doc = NULL;
	for (int i = 0; i < 65; i++)
		many[i] = "r/a";
	many[65] = NULL;
	assert_int_equal(vh_xml_parse_keep(x, strlen(x), "k.xml", 0, many, &doc, &e), -E2BIG);
	assert_null(doc);
	{
		/* A path deeper than the pruning follows: refused, not
		 * silently never matched. */
		char deep[128] = "r";
		const char *one[] = {deep, NULL};
		for (int i = 0; i < 32; i++)
			strcat(deep, "/a");
		assert_int_equal(vh_xml_parse_keep(x, strlen(x), "k.xml", 0, one, &doc, &e),
				 -E2BIG);
		deep[strlen(deep) - 2] = '\0'; /* 32 names: followed */
		assert_int_equal(vh_xml_parse_keep(x, strlen(x), "k.xml", 0, one, &doc, &e), 0);
		xmlFreeDoc(doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_uint),	 cmocka_unit_test(buf_grows),
	    cmocka_unit_test(buf_json),		 cmocka_unit_test(buf_xml),
	    cmocka_unit_test(strlcpy_and_strip), cmocka_unit_test(err_first_wins),
	    cmocka_unit_test(read_capped),	 cmocka_unit_test(xml_helpers),
	    cmocka_unit_test(xml_lean),		 cmocka_unit_test(xml_keep),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
