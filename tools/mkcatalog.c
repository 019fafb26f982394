/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writes the systemd message catalog (vfio-hooks.catalog) of lib/log.c's
 * MESSAGE_IDs to standard output: built from the tables, it cannot drift
 * from them. */
#include <stdio.h>

#include "../lib/log.h"

int main(void)
{
	struct vh_buf b = {0};
	int r;

	vh_log_catalog(&b);
	r = vh_buf_failed(&b) || fputs(vh_buf_str(&b), stdout) < 0 || fflush(stdout) != 0;
	vh_buf_done(&b);
	return r;
}
