/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "xml.h"

#include <ctype.h>
#include <fcntl.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <string.h>

struct guard {
	bool doctype;
	int line, col;
	char msg[256];
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
	vh_strlcpy(g->msg, x->message ? x->message : "not well-formed",
		   sizeof(g->msg));
	vh_strip_trailing(g->msg);
}

static void reject_subset(void *ctx, const xmlChar *name _unused_,
			  const xmlChar *ext _unused_,
			  const xmlChar *sys _unused_)
{
	xmlParserCtxt *c = ctx;
	struct guard *g = c->_private;

	g->doctype = true;
	xmlStopParser(c);
}

static void silent(void *ctx _unused_, const char *msg _unused_, ...) {}

/* libxml2 keeps an element's line in 16 bits; keep the whole number in the
 * node's application pointer. */
static void start_element(void *ctx, const xmlChar *localname,
			  const xmlChar *prefix, const xmlChar *uri, int nns,
			  const xmlChar **nss, int nattrs, int ndefaulted,
			  const xmlChar **attrs)
{
	xmlParserCtxt *c = ctx;

	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nns, nss, nattrs,
			      ndefaulted, attrs);
	if (c->node && c->input && c->input->line > 0)
		c->node->_private = (void *)(intptr_t)c->input->line;
}

int vh_xml_line(const xmlNode *n)
{
	if (n && n->_private)
		return (int)(intptr_t)n->_private;
	return n ? (int)xmlGetLineNo(n) : 0;
}

int vh_xml_parse(const char *buf, size_t len, const char *what, unsigned flags,
		 xmlDoc **ret, struct vh_err *e)
{
	struct guard g = {0};
	xmlParserCtxt *c;
	xmlDoc *doc;
	int r = 0;

	if (len > VH_XML_MAX_BYTES)
		return vh_err_set(e, -EFBIG, "%s is larger than 16 MiB.", what);
	if (len > INT32_MAX)
		return -EFBIG;
	c = xmlNewParserCtxt();
	if (!c)
		return vh_err_set(e, -ENOMEM, "Out of memory parsing %s.",
				  what);
	c->_private = &g;
	/* The internal subset is where entities and external references are
	 * declared: stop there, before any of it is acted upon. */
	c->sax->internalSubset = reject_subset;
	c->sax->externalSubset = reject_subset;
	c->sax->warning = silent;
	c->sax->error = silent;
	c->sax->serror = first_error;
	c->sax->startElementNs = start_element;
	c->vctxt.error = silent;
	c->vctxt.warning = silent;

	doc = xmlCtxtReadMemory(
	    c, buf, (int)len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
		XML_PARSE_NOCDATA |
		(flags & VH_XML_LEAN ? XML_PARSE_NOBLANKS | XML_PARSE_COMPACT
				     : 0));
	if (g.doctype) {
		r = vh_err_set(
		    e, -EBADMSG,
		    "%s: a document type declaration (<!DOCTYPE>) is "
		    "not accepted: domain XML never has one, and it "
		    "is how entity attacks start.",
		    what);
	} else if (!doc || !c->wellFormed) {
		const xmlError *x = xmlCtxtGetLastError(c);
		if (!g.msg[0] && x) {
			g.line = x->line;
			g.col = x->int2;
			vh_strlcpy(g.msg, x->message ? x->message : "",
				   sizeof(g.msg));
			vh_strip_trailing(g.msg);
		}
		r = vh_err_set(e, -EBADMSG, "%s:%d:%d: malformed XML: %s.",
			       what, g.line, g.col,
			       g.msg[0] ? g.msg : "not well-formed");
	} else if (!xmlDocGetRootElement(doc)) {
		r = vh_err_set(e, -EBADMSG, "%s: the document is empty.", what);
	}
	if (r < 0) {
		if (doc)
			xmlFreeDoc(doc);
		xmlFreeParserCtxt(c);
		return r;
	}
	xmlFreeParserCtxt(c);
	*ret = doc;
	return 0;
}

bool vh_xml_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	       streq((const char *)n->name, name);
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
	v = xmlGetNoNsProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

char *vh_xml_text(const xmlNode *n)
{
	xmlChar *v;
	char *s, *p;

	if (!n)
		return NULL;
	v = xmlNodeGetContent(n);
	if (!v)
		return strdup("");
	p = (char *)v;
	while (isspace((unsigned char)*p))
		p++;
	s = strdup(p);
	xmlFree(v);
	if (s)
		vh_strip_trailing(s);
	return s;
}
