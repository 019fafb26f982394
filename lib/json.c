/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A JSON string at @p (after the quote) into @out; returns the end. */
static const char *json_string(const char *p, char *out, size_t n)
{
	size_t k = 0;

	for (; *p && *p != '"'; p++) {
		char c = *p;
		if (c == '\\') {
			p++;
			switch (*p) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case '"':
			case '\\':
			case '/':
				c = *p;
				break;
			case 'u':
				/* Only ASCII escapes matter to us. */
				if (!isxdigit((unsigned char)p[1]) ||
				    !isxdigit((unsigned char)p[2]) ||
				    !isxdigit((unsigned char)p[3]) ||
				    !isxdigit((unsigned char)p[4]))
					return NULL;
				{
					unsigned v;
					sscanf(p + 1, "%4x", &v);
					c = v < 0x80 && v ? (char)v : '?';
				}
				p += 4;
				break;
			default: /* an invalid escape, or the end */
				return NULL;
			}
		} else if ((unsigned char)c < 0x20) {
			return NULL;
		}
		if (k + 1 < n)
			out[k++] = c;
	}
	if (*p != '"')
		return NULL;
	out[k] = '\0';
	return p + 1;
}

/* Skip a nested value (object or array); returns its end. */
static const char *json_skip(const char *p)
{
	int depth = 0;
	bool in_str = false;

	for (; *p; p++) {
		if (in_str) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_str = false;
			continue;
		}
		if (*p == '"')
			in_str = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
	}
	return NULL;
}

bool vh_json_starts_object(const char *s)
{
	return *ws(s) == '{';
}

int vh_json_object_members(const char *s, int (*fn)(void *ud, struct vh_json_member *m), void *ud,
			   size_t *ret_off)
{
	const char *p = ws(s);
	size_t n = strlen(s) + 1;
	_cleanup_free_ char *key = malloc(n), *val = malloc(n);
	int r;

	if (!key || !val)
		return -ENOMEM;
#define BAD()                                                                                      \
	do {                                                                                       \
		if (ret_off)                                                                       \
			*ret_off = (size_t)(p ? p - s : 0);                                        \
		return -EINVAL;                                                                    \
	} while (0)
	if (*p != '{')
		BAD();
	p++;
	p = ws(p);
	if (*p == '}') {
		if (*ws(p + 1))
			BAD();
		return 0;
	}
	for (;;) {
		struct vh_json_member m;
		enum vh_json_type type;
		const char *q;
		p = ws(p);
		if (*p != '"')
			BAD();
		q = json_string(p + 1, key, n);
		if (!q)
			BAD();
		p = ws(q);
		if (*p != ':')
			BAD();
		p++;
		p = ws(p);
		if (*p == '"') {
			q = json_string(p + 1, val, n);
			if (!q)
				BAD();
			p = q;
			type = VH_JSON_STRING;
		} else if (*p == '{' || *p == '[') {
			q = json_skip(p);
			if (!q)
				BAD();
			p = q;
			val[0] = '\0';
			type = VH_JSON_NESTED;
		} else {
			size_t k = 0;
			while (*p &&
			       (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
				val[k++] = *p++;
			val[k] = '\0';
			if (!k ||
			    (!isdigit((unsigned char)val[0]) && val[0] != '-' &&
			     !streq(val, "true") && !streq(val, "false") && !streq(val, "null")))
				BAD();
			type = streq(val, "true")    ? VH_JSON_TRUE
			       : streq(val, "false") ? VH_JSON_FALSE
			       : streq(val, "null")  ? VH_JSON_NULL
						     : VH_JSON_NUMBER;
		}
		m = (struct vh_json_member){.key = key, .value = val, .type = type};
		r = fn(ud, &m);
		if (r < 0)
			return r;
		p = ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '}' && !*ws(p + 1))
			return 0;
		BAD();
	}
#undef BAD
}
