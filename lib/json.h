/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small JSON reader: the members of one flat object, as QEMU's JSON
 * -device form has them.  Strings are decoded (only ASCII \u escapes kept,
 * others read as '?'), numbers and true/false/null are given as written,
 * nested objects and arrays are skipped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum vh_json_type {
	VH_JSON_STRING,
	VH_JSON_NUMBER,
	VH_JSON_TRUE,
	VH_JSON_FALSE,
	VH_JSON_NULL,
	VH_JSON_NESTED, /* an object or array, skipped: value "" */
};

/* One member.  @key is the reader's buffer, valid during the call: the
 * callback may rewrite it in place (not lengthen it). */
struct vh_json_member {
	char *key;
	const char *value;
	enum vh_json_type type;
};

/* Call @fn for each member of the object @s, in order; a negative return
 * of @fn stops the walk and is returned.  -EINVAL when @s is not one
 * object (nothing but whitespace around it), with the offset of the
 * error in @ret_off (may be NULL); -ENOMEM. */
int vh_json_object_members(const char *s, int (*fn)(void *ud, struct vh_json_member *m), void *ud,
			   size_t *ret_off);
/* Whether @s is meant as an object: its first character past whitespace
 * is '{'. */
bool vh_json_starts_object(const char *s);
