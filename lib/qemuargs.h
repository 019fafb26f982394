/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QEMU command line, read for what matters to passed-through PCI devices
 * and turned into the same domain model the XML reader makes, so the same
 * rules and profiles apply.  Options it does not know are left alone: QEMU
 * decides about them.
 */
#pragma once

#include "domain.h"
#include "util.h"

/* Parse @argv (argv[0] is the QEMU binary, used for the architecture).
 * Reads -readconfig files.  Returns 0; -EINVAL/-ENOENT/... with a message
 * naming the argument (or file and line) in @e. */
int vh_qemu_parse(int argc, char *const *argv, struct vh_domain **ret, struct vh_err *e);

/* Cheap test: does any argument mention a vfio device?  Command lines
 * without one are passed through untouched. */
bool vh_qemu_mentions_vfio(int argc, char *const *argv);

/* A flat JSON object's members, as QEMU's JSON -device form has them:
 * string, number and boolean values.  Calls @fn for each; -EINVAL on
 * anything else (with the offset in @ret_off). */
int vh_json_object_each(const char *s, int (*fn)(void *ud, const char *key, const char *val),
			void *ud, size_t *ret_off);
