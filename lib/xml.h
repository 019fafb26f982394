/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing XML that less-privileged users write, safely: no network, no DTD
 * loading, no entity substitution, and any document type declaration is
 * refused before the parser acts on it.  Input is capped at 16 MiB.
 * libxml2 is loaded at the first parse (lib/xmlapi.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"
#include "xmlapi.h"

#define VH_XML_MAX_BYTES (16u << 20)

/* vh_xml_parse's @flags. */
enum {
	/* A tree only read: no whitespace-only text between elements, short
	 * texts kept inside their nodes (fewer allocations; a domain with
	 * many hostdevs parses in about 15% fewer instructions).  Not for a
	 * document validated by RELAX NG, whose error lines then move. */
	VH_XML_LEAN = 1 << 0,
};

/* Parse @len bytes.  On a syntax error the message has @what, the line and
 * the column. */
int vh_xml_parse(const char *buf, size_t len, const char *what, unsigned flags, xmlDoc **ret,
		 struct vh_err *e);
/* The same, building only some elements: @keep lists paths of element
 * names from the root ("domain/devices/hostdev/source/address": that
 * element and its ancestors, with all their attributes), an entry ending
 * in "/..." a whole subtree with its text ("domain/metadata/...");
 * NULL-terminated, at most 64 entries of at most 32 names.  The root is
 * always built.  Everything else is parsed, and must be as well-formed,
 * but not built.  A reader that looks only at the listed elements, their
 * attributes and the text of "/..." subtrees sees what the whole tree
 * shows (other text differs: an element whose children were not built
 * may keep blank text), for a fraction of the work when the document has
 * much else (a libvirt domain's disks, controllers, consoles).  A
 * malformed document fails as with the whole tree, though the message
 * can differ where only building finds the problem (a duplicate xml:id
 * in a part not built).  NULL: the whole tree. */
int vh_xml_parse_keep(const char *buf, size_t len, const char *what, unsigned flags,
		      const char *const *keep, xmlDoc **ret, struct vh_err *e);

static inline void vh_xml_doc_freep(xmlDoc **d)
{
	if (*d)
		sym_xmlFreeDoc(*d);
}
#define _cleanup_doc_ _cleanup_(vh_xml_doc_freep)

/* First element child named @name (any namespace when @ns is NULL). */
xmlNode *vh_xml_child(const xmlNode *n, const char *name);
xmlNode *vh_xml_next(const xmlNode *n, const char *name);
/* The attribute's value as a new string (free()), NULL when absent. */
char *vh_xml_prop(const xmlNode *n, const char *name);
/* The element's text content, whitespace-trimmed, as a new string. */
char *vh_xml_text(const xmlNode *n);
bool vh_xml_is(const xmlNode *n, const char *name);
/* The element's line in its document (not capped at 65535). */
int vh_xml_line(const xmlNode *n);
