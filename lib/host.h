/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host side: which PCI functions matter for passthrough, and whether
 * the host is ready for them (the doctor's checks).  Read-only.
 */
#pragma once

#include "pci.h"
#include "profile.h"
#include "sysfs.h"
#include "util.h"

/* Every PCI function of the host, sorted.  Returns the count. */
int vh_pci_list(const struct vh_sys *sys, struct vh_pci_addr **ret);

/* A PCI class name ("Processing accelerators") for messages. */
const char *vh_pci_class_name(uint32_t class);
/* Whether a function is one passthrough is about: a profile matches it, or
 * it is a display, co-processor or processing-accelerator function. */
bool vh_pci_interesting(const struct vh_pci_dev *d, const struct vh_profile *p);

enum vh_verdict { VH_PASS = 0, VH_INFO_V, VH_WARN, VH_FAIL };
const char *vh_verdict_name(enum vh_verdict v);

struct vh_hostcheck {
	char *id; /* stable: "iommu-enabled", "device-group:0000:01:00.0" */
	enum vh_verdict verdict;
	char *what;   /* the check, as a line of the report */
	char *detail; /* what was found */
	char *fix;    /* the command or setting that fixes it (non-PASS) */
};

struct vh_hostreport {
	struct vh_hostcheck *v;
	size_t n;
	unsigned n_fail, n_warn;
};

/* Append a check; takes @detail and @fix (either may be NULL).  -ENOMEM. */
int vh_hostreport_add(struct vh_hostreport *r, const char *id, enum vh_verdict v, const char *what,
		      char *detail, char *fix);
/* Up to 64 KiB of a /proc or /sys text file, NUL-terminated (free()), or
 * NULL when it cannot be read. */
/* The same, up to @cap bytes. */
char *vh_host_slurp_max(const struct vh_sys *sys, const char *path, size_t cap);
char *vh_host_slurp(const struct vh_sys *sys, const char *path);
/* @word as a whole blank-separated word of @text. */
bool vh_has_word(const char *text, const char *word);

/* Run the doctor's checks.  @devices (NULL-terminated addresses) limits the
 * device checks; NULL: every interesting device.  Fails only on ENOMEM. */
int vh_host_doctor(const struct vh_sys *sys, const struct vh_profiles *ps,
		   const struct vh_pci_addr *devices, size_t n_devices, struct vh_hostreport *ret);
void vh_hostreport_done(struct vh_hostreport *r);
void vh_hostreport_text(const struct vh_hostreport *r, struct vh_buf *out);
void vh_hostreport_json(const struct vh_hostreport *r, struct vh_buf *out);
