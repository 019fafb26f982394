/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "xml.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

/* Pruning (vh_xml_parse_keep) follows at most this many keep entries, and
 * paths of at most this many elements outside a "/..." subtree. */
#define KEEP_MAX 64
#define KEEP_DEPTH 32

struct guard {
	bool doctype;
	int line, col;
	char msg[256];
	/* Pruning: the entries, each with its length without "/..." and
	 * whether it had it; per depth of the element being built, the
	 * entries its path is a prefix of (bit i: keep[i]) and the path's
	 * length; the depth of the "/..." subtree being built whole (0:
	 * none) and how deep inside it the parser is, and how deep inside a
	 * subtree not built it is (0: building). */
	const char *const *keep;
	size_t n_keep, klen[KEEP_MAX];
	uint64_t whole;
	uint64_t mask[KEEP_DEPTH];
	size_t plen[KEEP_DEPTH];
	unsigned depth, all, inside, skip;
};

/* Keep the first error: later ones are usually consequences of it. */
static void first_error(void *ctx, xmlErrorPtr x)
{
	xmlParserCtxt *c = ctx;
	struct guard *g = c ? c->_private : NULL;

	if (!g || g->msg[0] || !x || x->level < XML_ERR_ERROR)
		return;
	g->line = x->line;
	g->col = x->int2;
	vh_strlcpy(g->msg, x->message ? x->message : "not well-formed", sizeof(g->msg));
	vh_strip_trailing(g->msg);
}

static void reject_subset(void *ctx, const xmlChar *name _unused_, const xmlChar *ext _unused_,
			  const xmlChar *sys _unused_)
{
	xmlParserCtxt *c = ctx;
	struct guard *g = c->_private;

	g->doctype = true;
	sym_xmlStopParser(c);
}

static void silent(void *ctx _unused_, const char *msg _unused_, ...) {}

/* Whether the element @name, child of the one being built, is built too:
 * the root always; else when its path is a keep entry, an ancestor of
 * one (outside a "/..." subtree: start_element builds those whole).
 * Called with g->depth already counting it.  Only the entries the parent's path
 * matched are looked at: each is compared on the one name that follows. */
static bool keep_child(struct guard *g, const char *name)
{
	unsigned d = g->depth - 1; /* this element's index in the stacks */
	size_t l = strlen(name), at = d ? g->plen[d - 1] + 1 : 0;
	uint64_t parent = d ? g->mask[d - 1] : ~0ULL, m = 0;

	if (d >= KEEP_DEPTH)
		return d == 0;
	for (size_t i = 0; i < g->n_keep; i++) {
		const char *k = g->keep[i];
		if (!(parent >> i & 1) || g->klen[i] < at + l || memcmp(k + at, name, l) != 0)
			continue;
		if (g->klen[i] == at + l) {
			if (g->whole >> i & 1)
				g->all = g->depth;
			m |= 1ULL << i;
		} else if (k[at + l] == '/') {
			m |= 1ULL << i; /* an ancestor of the entry */
		}
	}
	g->mask[d] = m;
	g->plen[d] = at + l;
	return m || d == 0;
}

/* libxml2 keeps an element's line in 16 bits; keep the whole number in the
 * node's application pointer. */
static void start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
			  const xmlChar *uri, int nns, const xmlChar **nss, int nattrs,
			  int ndefaulted, const xmlChar **attrs)
{
	xmlParserCtxt *c = ctx;
	struct guard *g = c->_private;

	if (g->keep) {
		if (g->skip) {
			g->skip++;
			return;
		}
		if (g->all) {
			g->inside++; /* within a "/..." subtree: built */
		} else {
			g->depth++;
			if (!keep_child(g, (const char *)localname)) {
				g->depth--;
				g->skip = 1;
				return;
			}
		}
	}
	sym_xmlSAX2StartElementNs(ctx, localname, prefix, uri, nns, nss, nattrs, ndefaulted, attrs);
	if (c->node && c->input && c->input->line > 0)
		c->node->_private = (void *)(intptr_t)c->input->line;
}

static void end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
			const xmlChar *uri)
{
	xmlParserCtxt *c = ctx;
	struct guard *g = c->_private;

	if (g->skip) {
		g->skip--;
		return;
	}
	if (g->inside) {
		g->inside--;
	} else {
		if (g->all == g->depth)
			g->all = 0;
		if (g->depth)
			g->depth--;
	}
	sym_xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Inside a subtree not built, nothing reaches the tree (it would land on
 * the nearest element built). */
static bool skipping(void *ctx)
{
	return ((struct guard *)((xmlParserCtxt *)ctx)->_private)->skip;
}

static void characters(void *ctx, const xmlChar *ch, int len)
{
	if (!skipping(ctx))
		sym_xmlSAX2Characters(ctx, ch, len);
}

static void comment(void *ctx, const xmlChar *value)
{
	if (!skipping(ctx))
		sym_xmlSAX2Comment(ctx, value);
}

static void pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	if (!skipping(ctx))
		sym_xmlSAX2ProcessingInstruction(ctx, target, data);
}

static void reference(void *ctx, const xmlChar *name)
{
	if (!skipping(ctx))
		sym_xmlSAX2Reference(ctx, name);
}

int vh_xml_line(const xmlNode *n)
{
	if (n && n->_private)
		return (int)(intptr_t)n->_private;
	return n ? (int)sym_xmlGetLineNo(n) : 0;
}

int vh_xml_parse(const char *buf, size_t len, const char *what, unsigned flags, xmlDoc **ret,
		 struct vh_err *e)
{
	return vh_xml_parse_keep(buf, len, what, flags, NULL, ret, e);
}

int vh_xml_parse_keep(const char *buf, size_t len, const char *what, unsigned flags,
		      const char *const *keep, xmlDoc **ret, struct vh_err *e)
{
	struct guard g = {.keep = keep};
	xmlParserCtxt *c;
	xmlDoc *doc;
	int r = 0;

	if (len > VH_XML_MAX_BYTES)
		return vh_err_set(e, -EFBIG, "%s is larger than 16 MiB.", what);
	if (len > INT32_MAX)
		return -EFBIG;
	for (; keep && keep[g.n_keep]; g.n_keep++) {
		size_t kl = strlen(keep[g.n_keep]);
		if (g.n_keep == KEEP_MAX)
			return vh_err_set(e, -E2BIG, "%s: too many paths to keep.", what);
		unsigned names = 1;
		if (kl >= 4 && streq(keep[g.n_keep] + kl - 4, "/...")) {
			g.whole |= 1ULL << g.n_keep;
			kl -= 4;
		}
		for (size_t i = 0; i < kl; i++)
			names += keep[g.n_keep][i] == '/';
		if (names > KEEP_DEPTH)
			return vh_err_set(e, -E2BIG,
					  "%s: a path to keep is deeper than %d elements.", what,
					  KEEP_DEPTH);
		g.klen[g.n_keep] = kl;
	}
	r = vh_xml_load(e);
	if (r < 0)
		return r;
	c = sym_xmlNewParserCtxt();
	if (!c)
		return vh_err_set(e, -ENOMEM, "Out of memory parsing %s.", what);
	c->_private = &g;
	/* The internal subset is where entities and external references are
	 * declared: stop there, before any of it is acted upon. */
	c->sax->internalSubset = reject_subset;
	c->sax->externalSubset = reject_subset;
	c->sax->warning = silent;
	c->sax->error = silent;
	c->sax->serror = first_error;
	c->sax->startElementNs = start_element;
	if (keep) {
		c->sax->endElementNs = end_element;
		c->sax->characters = characters;
		/* Blanks go unless the flags keep them (VH_XML_LEAN drops
		 * them: the parser then replaces this). */
		c->sax->ignorableWhitespace = characters;
		c->sax->comment = comment;
		c->sax->processingInstruction = pi;
		c->sax->reference = reference;
	}
	c->vctxt.error = silent;
	c->vctxt.warning = silent;

	doc = sym_xmlCtxtReadMemory(
	    c, buf, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
		(flags & VH_XML_LEAN ? XML_PARSE_NOBLANKS | XML_PARSE_COMPACT : 0));
	if (g.doctype) {
		r = vh_err_set(
		    e, -EBADMSG,
		    "%s: a document type declaration (<!DOCTYPE>) is not accepted: domain XML never has one, and it is how entity attacks start.",
		    what);
	} else if (!doc || !c->wellFormed) {
		const xmlError *x = sym_xmlCtxtGetLastError(c);
		if (!g.msg[0] && x) {
			g.line = x->line;
			g.col = x->int2;
			vh_strlcpy(g.msg, x->message ? x->message : "", sizeof(g.msg));
			vh_strip_trailing(g.msg);
		}
		r = vh_err_set(e, -EBADMSG, "%s:%d:%d: malformed XML: %s.", what, g.line, g.col,
			       g.msg[0] ? g.msg : "not well-formed");
	} else if (!sym_xmlDocGetRootElement(doc)) {
		r = vh_err_set(e, -EBADMSG, "%s: the document is empty.", what);
	}
	if (r < 0) {
		if (doc)
			sym_xmlFreeDoc(doc);
		sym_xmlFreeParserCtxt(c);
		return r;
	}
	sym_xmlFreeParserCtxt(c);
	*ret = doc;
	return 0;
}

bool vh_xml_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && streq((const char *)n->name, name);
}

xmlNode *vh_xml_next(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->next : NULL; c; c = c->next)
		if (vh_xml_is(c, name))
			return c;
	return NULL;
}

xmlNode *vh_xml_child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (vh_xml_is(c, name))
			return c;
	return NULL;
}

char *vh_xml_prop(const xmlNode *n, const char *name)
{
	xmlChar *v;
	char *s;

	if (!n)
		return NULL;
	v = sym_xmlGetNoNsProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	s = strdup((const char *)v);
	(*sym_xmlFree)(v);
	return s;
}

char *vh_xml_text(const xmlNode *n)
{
	xmlChar *v;
	char *s, *p;

	if (!n)
		return NULL;
	v = sym_xmlNodeGetContent(n);
	if (!v)
		return strdup("");
	p = (char *)v;
	while (isspace((unsigned char)*p))
		p++;
	s = strdup(p);
	(*sym_xmlFree)(v);
	if (s)
		vh_strip_trailing(s);
	return s;
}
