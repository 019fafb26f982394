/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the unit tests share, said once (as kmod's testsuite/testsuite.c or
 * libvirt's tests/testutils.c): cmocka and its prerequisites, text
 * assertions, fake sysroots and the temporary directories they live in,
 * the shipped profiles, whole files.  Linked into every unit test
 * (harness.c).
 */
#ifndef VH_TESTS_HARNESS_H
#define VH_TESTS_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define UNUSED __attribute__((unused))

struct vh_sys;
struct vh_profiles;

/* Fail unless @hay (NULL fails) contains @needle. */
void assert_contains(const char *hay, const char *needle);
/* Fail when @hay contains @needle (NULL passes). */
void assert_not_contains(const char *hay, const char *needle);

/*
 * Remove the temporary directory *@root and everything below it, free the
 * name and set it to NULL; nothing when *@root is NULL.
 */
void hx_rmroot(char **root);

/*
 * Build the fake host @spec (tests/fakesys.c's syntax) in the directory
 * @root and open it into *@sys.
 */
void hx_build(const char *root, struct vh_sys **sys, const char *spec);

/*
 * A fresh fake host: *@sys and *@root freed (the directory removed), a new
 * temporary directory in *@root with @spec built in it, opened into *@sys.
 */
void hx_host(char **root, struct vh_sys **sys, const char *spec);

/*
 * The profiles shipped in $VFIO_HOOKS_DATADIR (default "xml"), checked
 * against its profile.rng; host names not looked up.  0, or -1 after a
 * message on stderr.
 */
int hx_profiles_load(struct vh_profiles *p);

/* The whole file @path, NUL-terminated; fails the test when unreadable.  Caller frees. */
char *hx_slurp(const char *path);

#endif
