/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Linked into the *-fk test binaries: the front end runs unchanged, with the
 * fake kernel as the write backend of every gateway it makes (the one the
 * library takes when a program defines it, lib/sysfs.c). */
#include "fakekernel.h"

const struct vh_sys_backend vh_sys_link_backend = {.write = fakekernel_write};
