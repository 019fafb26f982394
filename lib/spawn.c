/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

#include "util.h"

int vh_write_file_at(int dirfd, const char *path, const char *value, size_t len)
{
	_cleanup_close_ int fd = -1;
	ssize_t k;

	fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	k = write(fd, value, len);
	if (k < 0)
		return -errno;
	if ((size_t)k != len)
		return -EIO;
	return 0;
}

int vh_spawn_wait(pid_t pid, int timeout_ms)
{
	int pidfd, status, r;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		struct timespec t0, t1;
		int left = timeout_ms;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			r = poll(&p, 1, left);
			if (r > 0 || (r < 0 && errno != EINTR))
				break;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = timeout_ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 +
						  (t1.tv_nsec - t0.tv_nsec) / 1000000);
			if (r == 0 || left <= 0) {
				r = 0;
				break;
			}
		}
		close(pidfd);
		if (r == 0) {
			/* Stuck in the kernel: it cannot be killed while in
			 * uninterruptible sleep, but it holds none of our
			 * pipes, so nobody waits for it. */
			kill(pid, SIGKILL);
			/* Reaped if the kill took; one stuck in the kernel
			 * stays until it wakes, then init's. */
			waitpid(pid, &status, WNOHANG);
			return -ETIMEDOUT;
		}
	} else {
		/* No pidfd (kernel < 5.3): poll waitpid with a growing sleep.
		 */
		long waited_us = 0, step = 50;
		for (;;) {
			r = waitpid(pid, &status, WNOHANG);
			if (r == pid)
				goto reaped;
			if (waited_us >= (long)timeout_ms * 1000) {
				kill(pid, SIGKILL);
				return -ETIMEDOUT;
			}
			usleep((useconds_t)step);
			waited_us += step;
			step = step < 20000 ? step * 2 : step;
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
reaped:
	if (!WIFEXITED(status))
		return -EIO;
	return -WEXITSTATUS(status);
}

/* The bounded write runs in a child process, so that one stuck in the
 * kernel (a driver's remove that never returns) costs us a timeout, not
 * libvirt a hang: we stop waiting and go on, and the child is init's when
 * it wakes.  Where we can, the child shares our memory (clone with
 * CLONE_VM, no copy of the page tables and no copy-on-write faults after
 * it, as posix_spawn does) and makes raw system calls only: it must not
 * touch errno or anything else of ours in thread-local storage, which it
 * shares.  Elsewhere, fork. */
#if defined(__x86_64__) || defined(__aarch64__)
static inline long raw_syscall3(long n, long a, long b, long c)
{
#if defined(__x86_64__)
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
#else
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
#endif
}

struct bounded {
	const char *full;
	const char *value;
	size_t len;
	volatile int result; /* -errno, or 0 */
};

/* The child: hold none of our descriptors (libvirt reads the hook's stdout
 * and stderr until EOF, and a child stuck in the kernel must not keep them
 * open), then open, write, close. */
__attribute__((no_sanitize("address", "undefined"))) static int bounded_child(void *arg)
{
	struct bounded *b = arg;
	long fd, k;

	if (raw_syscall3(SYS_close_range, 0, ~0L, 0) < 0)
		for (long i = 0; i < 1024; i++)
			raw_syscall3(SYS_close, i, 0, 0);
	fd = raw_syscall3(SYS_openat, AT_FDCWD, (long)b->full,
			  O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		b->result = (int)fd;
		return 0;
	}
	k = raw_syscall3(SYS_write, fd, (long)b->value, (long)b->len);
	raw_syscall3(SYS_close, fd, 0, 0);
	b->result = k < 0 ? (int)k : (size_t)k != b->len ? -EIO : 0;
	return 0;
}

#define BOUNDED_STACK (64 * 1024)

static int write_bounded_vm(const char *full, const char *value, size_t len, int timeout_ms,
			    bool *ran)
{
	struct bounded *b;
	void *stack;
	pid_t pid;
	int r;

	/* The child's stack, and what it writes back, in one mapping: when
	 * it is left stuck, the mapping is left to it. */
#ifdef RUNNING_ON_VALGRIND
	/* valgrind runs only threads and fork-like children. */
	if (RUNNING_ON_VALGRIND)
		return -ENOSYS;
#endif
	stack = mmap(NULL, BOUNDED_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -errno; /* the caller forks instead */
	b = stack;
	*b = (struct bounded){.full = full, .value = value, .len = len, .result = -EIO};
	pid = clone(bounded_child, (char *)stack + BOUNDED_STACK, CLONE_VM | SIGCHLD, b);
	if (pid < 0) {
		r = -errno;
		munmap(stack, BOUNDED_STACK);
		return r;
	}
	*ran = true;
	r = vh_spawn_wait(pid, timeout_ms);
	if (r == -ETIMEDOUT)
		return r; /* the stack stays the stuck child's */
	if (r == 0)
		r = b->result;
	munmap(stack, BOUNDED_STACK);
	return r;
}
#else
static int write_bounded_vm(const char *full, const char *value, size_t len, int timeout_ms,
			    bool *ran)
{
	(void)full, (void)value, (void)len, (void)timeout_ms, (void)ran;
	return -ENOSYS;
}
#endif

int vh_spawn_write_bounded(const char *full, const char *value, size_t len, int timeout_ms)
{
	bool ran = false;
	pid_t pid;
	int r;

	r = write_bounded_vm(full, value, len, timeout_ms, &ran);
	if (ran)
		return r;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Hold none of the caller's descriptors: libvirt reads the
		 * hook's stdout and stderr until EOF, and a child stuck in the
		 * kernel must not keep them open. */
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		} else {
			close(0);
			close(1);
			close(2);
		}
		closefrom(3);
		r = vh_write_file_at(AT_FDCWD, full, value, len);
		_exit(r < 0 ? (-r & 0xff) : 0);
	}
	return vh_spawn_wait(pid, timeout_ms);
}
