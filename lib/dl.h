/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Libraries loaded only when a command needs them (libvirt, libudev): a
 * table of their functions filled from dlopen()/dlsym().  libxml2 too
 * (lib/xmlapi.c), into one pointer a function.
 */
#pragma once

#include <stddef.h>

struct vh_dl_sym {
	const char *name; /* the library's symbol */
	size_t off;	  /* where its address goes in the caller's table */
	void **at;	  /* else here (the table then unused) */
};

/* Load @lib and store each symbol's address at @table + off (or at).  0, or -1
 * with the reason in @why (the library or the symbol missing). */
int vh_dl_load(const char *lib, const struct vh_dl_sym *syms, size_t n, void *table, char *why,
	       size_t why_len);
