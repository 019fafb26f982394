/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/exec: the least a wrapper can be, "exec $@" and nothing else,
 * linked statically.  The wrapper's added start-up is measured against
 * what this adds to exec'ing the target directly.
 */
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 2)
		return 127;
	execve(argv[1], argv + 1, environ);
	return 127;
}
