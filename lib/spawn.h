/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Child processes of the gateway: a write that can block in the kernel
 * (unbind, bind, probe, reset) runs in a child bounded by a timeout, so a
 * stuck driver costs the caller a timeout, never a hang.  As systemd keeps
 * its process handling in src/basic/process-util.c, this is the one place
 * that spawns, waits for and kills processes for the library.
 *
 * All functions return 0 on success and -errno on failure.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Open @path (relative to @dirfd, as openat(2); never following a final
 * symlink) and write the @len bytes of @value in one write(2): -EIO when
 * the kernel took fewer. */
int vh_write_file_at(int dirfd, const char *path, const char *value, size_t len);

/* The same in a child process that holds none of the caller's
 * descriptors, waited for at most @timeout_ms: -ETIMEDOUT when it did not
 * finish (it is killed, and left to init if it is stuck in the kernel; the
 * write may still complete later).  @path is absolute or relative to the
 * working directory: the child has no other descriptor to start from. */
int vh_spawn_write_bounded(const char *path, const char *value, size_t len, int timeout_ms);

/* Wait for the child @pid at most @timeout_ms (a pidfd where the kernel
 * has them, else polling waitpid): its exit status as -errno (0 for
 * success), -EIO when it did not exit, -ETIMEDOUT when it was still
 * running (then killed with SIGKILL). */
int vh_spawn_wait(pid_t pid, int timeout_ms);
