/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Linked into the *-fk test binaries: the front end runs unchanged, with the
 * fake kernel as its sysfs write backend. */
#include "fakekernel.h"

__attribute__((constructor)) static void fk_auto(void)
{
	fakekernel_install();
}
