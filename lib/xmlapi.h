/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxml2, loaded on demand: the functions the library calls are pointers
 * (sym_xmlFoo, as systemd's DLSYM_PROTOTYPE) filled from dlopen() of the
 * system's libxml2.so.2 at the first parse (vh_xml_parse_keep), so that no
 * program links libxml2: a VM without passthrough, a QEMU command line
 * without a vfio device never load it, and the distribution's security
 * updates of libxml2 reach every program.  Types, struct fields and
 * constants come from the headers alone.
 */
#pragma once

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stddef.h>

#include "util.h"

/* The Makefile passes the soname of the libxml2 the build's headers are
 * from (libxml2.so.16 from libxml2 2.14 on). */
#ifndef VH_XML_SONAME
#define VH_XML_SONAME "libxml2.so.2"
#endif

/* Every symbol used.  xmlFree is a variable holding the deallocator:
 * sym_xmlFree is that variable's address, called as (*sym_xmlFree)(p).
 * xmlParserVersion is a macro over __xmlParserVersion. */
#define VH_XML_SYMS(X)                                                                             \
	X(xmlCtxtGetLastError)                                                                     \
	X(xmlCtxtReadMemory)                                                                       \
	X(xmlDocGetRootElement)                                                                    \
	X(xmlFree)                                                                                 \
	X(xmlFreeDoc)                                                                              \
	X(xmlFreeParserCtxt)                                                                       \
	X(xmlGetLineNo)                                                                            \
	X(xmlGetNoNsProp)                                                                          \
	X(xmlNewParserCtxt)                                                                        \
	X(xmlNodeGetContent)                                                                       \
	X(xmlRelaxNGFree)                                                                          \
	X(xmlRelaxNGFreeParserCtxt)                                                                \
	X(xmlRelaxNGFreeValidCtxt)                                                                 \
	X(xmlRelaxNGNewParserCtxt)                                                                 \
	X(xmlRelaxNGNewValidCtxt)                                                                  \
	X(xmlRelaxNGParse)                                                                         \
	X(xmlRelaxNGSetParserStructuredErrors)                                                     \
	X(xmlRelaxNGSetValidStructuredErrors)                                                      \
	X(xmlRelaxNGValidateDoc)                                                                   \
	X(xmlSAX2Characters)                                                                       \
	X(xmlSAX2Comment)                                                                          \
	X(xmlSAX2EndElementNs)                                                                     \
	X(xmlSAX2ProcessingInstruction)                                                            \
	X(xmlSAX2Reference)                                                                        \
	X(xmlSAX2StartElementNs)                                                                   \
	X(xmlStopParser)                                                                           \
	X(__xmlParserVersion)

#define VH_XML_DLSYM_PROTOTYPE(sym) extern typeof(sym) *sym_##sym;
VH_XML_SYMS(VH_XML_DLSYM_PROTOTYPE)

/* Load libxml2, at most once a process (later calls give the first
 * result).  0, or -EOPNOTSUPP with a message naming the library, why it
 * could not be loaded and the fix. */
int vh_xml_load(struct vh_err *e);

/* The file libxml2 was loaded from and its version ("2.9.14"), loading it
 * if need be.  0, or -errno. */
int vh_xml_loaded(char *path, size_t path_len, char *version, size_t version_len);
