/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The wrapper's fast test, apart from the parser so that the wrapper's
 * front end links nothing but libc. */
#include <string.h>

#include "qemuargs.h"

bool vh_qemu_mentions_vfio(int argc, char *const *argv)
{
	for (int i = 1; i < argc; i++)
		/* A JSON \u escape can spell "vfio" too. */
		if (strstr(argv[i], "vfio") || streq(argv[i], "-readconfig") ||
		    streq(argv[i], "--readconfig") || (argv[i][0] == '{' && strstr(argv[i], "\\u")))
			return true;
	return false;
}
