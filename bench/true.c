/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The floor of the benchmark (bench/run.sh): a process that does nothing,
 * measured the same way as the hook, in the same run. */
int main(void)
{
	return 0;
}
