/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one gateway to the kernel.  Every read and write of /sys, /proc, /dev
 * and /run goes through a struct vh_sys whose root directory is a parameter:
 * with root "DIR", "/sys/bus/pci/..." means "DIR/sys/bus/pci/...".  A tree
 * built by a test, a tree captured from a real machine and the real /sys are
 * therefore interchangeable.  Nothing else in the project builds such paths.
 *
 * Paths are given printf-style as kernel paths ("/sys/bus/pci/devices/%s");
 * callers only ever pass text that was produced by this project (formatted
 * PCI addresses, driver names read back from sysfs), never XML text.
 *
 * All functions return 0 (or a count) on success and -errno on failure, and
 * write their ret_ outputs only on success.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "util.h"

struct vh_sys;

/* A replaceable write path: the fake kernel in the test suite installs one
 * that applies kernel semantics to a fake sysroot.  @path is the kernel path,
 * @full the rooted one. */
struct vh_sys_backend {
	int (*write)(const struct vh_sys *sys, const char *path, const char *full,
		     const char *value, size_t len, bool bounded);
};

/* The backend of @sys (NULL: real writes).  A new gateway has the one its
 * program was linked with: none, or the test suite's fake kernel
 * (tests/fk-auto.c defines vh_sys_link_backend). */
void vh_sys_set_backend(struct vh_sys *sys, const struct vh_sys_backend *b);
/* Defined only by a program that brings its own (weak in the library). */
extern const struct vh_sys_backend vh_sys_link_backend;

/* Vendor and model names of PCI devices, from the provider a front end
 * gives its gateway (vh_pci_names; NULL, the default: none).  The CLI
 * gives udev's hardware database (vh_pci_names_udev); the hook gives
 * none, so that it links neither libudev nor the dynamic loader. */
typedef void (*vh_pci_namer)(uint16_t vendor, uint16_t device, char *vendor_name, size_t vn,
			     char *model_name, size_t mn);
void vh_sys_set_namer(struct vh_sys *sys, vh_pci_namer fn);
vh_pci_namer vh_sys_namer(const struct vh_sys *sys);

/* @root NULL, "" or "/" is the real system.  Caller frees with vh_sys_free. */
int vh_sys_new(const char *root, struct vh_sys **ret);
struct vh_sys *vh_sys_free(struct vh_sys *sys);
static inline void vh_sys_freep(struct vh_sys **p)
{
	vh_sys_free(*p);
}
#define _cleanup_sys_ _cleanup_(vh_sys_freep)

/* A second gateway to the same root, with the same backend, namer and
 * timeout, and its own cache: for another thread (a gateway is used by
 * one thread at a time). */
int vh_sys_clone(const struct vh_sys *sys, struct vh_sys **ret);
/* Writes went to the kernel by other gateways (clones): @sys's cached
 * directories and readings taken through it are stale. */
void vh_sys_invalidate(const struct vh_sys *sys);

/* "" for the real system, else the root directory without trailing '/'. */
const char *vh_sys_root(const struct vh_sys *sys);
/* How many writes went through @sys so far; and whether a reading taken
 * through @reader at that count is still what this process left: the
 * same gateway, no write since (other processes aside, as for any
 * reading). */
unsigned long vh_sys_writes(const struct vh_sys *sys);
bool vh_sys_unwritten_since(const struct vh_sys *sys, const struct vh_sys *reader,
			    unsigned long writes);
bool vh_sys_is_real(const struct vh_sys *sys);
/* Bound for writes that can block in the kernel (unbind, bind, probe,
 * reset).  Default 20000 ms. */
void vh_sys_set_timeout_ms(struct vh_sys *sys, int ms);
int vh_sys_timeout_ms(const struct vh_sys *sys);

/* The rooted path of a kernel path (for messages and for tools that must
 * hand a path to another library).  -ENAMETOOLONG when it does not fit. */
int vh_sys_path(const struct vh_sys *sys, char *buf, size_t n, const char *fmt, ...) _printf_(4, 5);

/* Raw read of up to @n bytes.  *ret_len is the count read. */
int vh_sys_read_raw(const struct vh_sys *sys, void *buf, size_t n, size_t *ret_len, const char *fmt,
		    ...) _printf_(5, 6);
/* Read a one-value attribute, trailing whitespace stripped.  -EFBIG when the
 * value does not fit in @n. */
int vh_sys_read_str(const struct vh_sys *sys, char *buf, size_t n, const char *fmt, ...)
    _printf_(4, 5);
/* Read a number in any base strtoull accepts ("0x17cb", "16"). */
int vh_sys_read_uint(const struct vh_sys *sys, unsigned long long *ret, const char *fmt, ...)
    _printf_(3, 4);
/* Name of the last component of a symlink's target ("vfio-pci" for a
 * driver link, "12" for an iommu_group link). */
int vh_sys_link_name(const struct vh_sys *sys, char *buf, size_t n, const char *fmt, ...)
    _printf_(4, 5);
/* 1 when the path exists (following links), 0 when not, -errno else. */
int vh_sys_exists(const struct vh_sys *sys, const char *fmt, ...) _printf_(2, 3);
/* A whole file that steers a decision, as libvirt's own state (a network's
 * status, a QEMU probe): a regular file, not a link, that nobody but root
 * or the caller can change (vh_check_trusted), at most @max bytes.  The
 * error in @e names the rooted path. */
int vh_sys_read_trusted(const struct vh_sys *sys, size_t max, char **ret, size_t *ret_len,
			struct vh_err *e, const char *fmt, ...) _printf_(6, 7);
/* Sorted names in a directory (without "." and "..").  Returns the count;
 * free with vh_strv_free. */
int vh_sys_list(const struct vh_sys *sys, char ***ret, const char *fmt, ...) _printf_(3, 4);
void vh_strv_free(char **v);

enum {
	/* The write can block in the kernel: run it in a child bounded by the
	 * timeout, so a stuck driver never hangs the caller. */
	VH_WRITE_BOUNDED = 1 << 0,
};
/* Write @value to a kernel attribute.  -ETIMEDOUT when a bounded write did
 * not finish in time (it may still complete later). */
int vh_sys_write(const struct vh_sys *sys, const char *value, unsigned flags, const char *fmt, ...)
    _printf_(4, 5);

/* The hook's state directory, /run/vfio-hooks under the root: created
 * 0700 when missing; refused (-EPERM, with the reason in @why) when it is a
 * symlink, not a directory, not owned by the caller or writable by others.
 * Returns an O_PATH-free directory fd (caller closes). */
int vh_sys_state_dir(const struct vh_sys *sys, int *ret_fd, char *why, size_t n);

/* Whether @rest (a relative path: "drm/card1/prelim_iov/vf1/lmem_quota")
 * names a regular file beneath the directory of PCI device @addr
 * (/sys/bus/pci/devices/@addr, whose own link is the kernel's), reached
 * without following any link below it (a device's driver, physfn or
 * subsystem links lead out of it) and without "..".  openat2(2) with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, else a walk of O_NOFOLLOW opens:
 * the same on sysfs and on a fake sysroot's plain tree.  0 when it does,
 * -ELOOP (a link on the way), -EXDEV (out of the device), -EISDIR /
 * -EINVAL (not a regular file), -ENOENT, another -errno. */
int vh_sys_beneath(const struct vh_sys *sys, const char *addr, const char *rest);

/* lstat(2) of a path under the root. */
int vh_sys_lstat(const struct vh_sys *sys, struct stat *ret, const char *fmt, ...) _printf_(3, 4);

/* The target of a symlink, as stored (relative targets stay relative). */
int vh_sys_readlink(const struct vh_sys *sys, char *buf, size_t n, const char *fmt, ...)
    _printf_(4, 5);
