/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

/* Directories of PCI devices, opened once (O_PATH) for the reads under
 * them: a read is then openat() of one name instead of a walk of the
 * whole path (the root, /sys/bus/pci/devices, the device's link into
 * /sys/devices): measured 1.7 against 2.9-3.9 us for an attribute.  Every
 * write through the gateway empties it (a write to sriov_numvfs, remove or
 * a fake kernel's can take a directory away or make a new one at the same
 * path). */
#define DEV_PREFIX "/sys/bus/pci/devices/"
#define DEV_CACHE 64 /* the devices of a domain, for its check and verify */
/* A power of two: the ring's index wraps with the unsigned counter. */
_Static_assert((DEV_CACHE & (DEV_CACHE - 1)) == 0, "DEV_CACHE: power of 2");

struct dev_dir {
	char addr[16];
	size_t len;
	int fd; /* -1: empty */
};

struct dev_cache {
	struct dev_dir v[DEV_CACHE];
	unsigned next;
	unsigned long writes; /* every write through the gateway */
};

struct vh_sys {
	char *root; /* "" for the real system */
	int timeout_ms;
	const struct vh_sys_backend *backend;
	struct dev_cache *dirs;
};

static void dev_cache_clear(struct dev_cache *c)
{
	for (size_t i = 0; c && i < DEV_CACHE; i++) {
		if (c->v[i].fd >= 0)
			close(c->v[i].fd);
		c->v[i].fd = -1;
		c->v[i].addr[0] = '\0';
	}
}

/* For a kernel path below a PCI device's directory: that directory's fd
 * and, in @rest, the path under it.  -1 when the path is not one, or the
 * directory cannot be opened (the caller then uses the whole path, which
 * fails the same way). */
static int dev_at(const struct vh_sys *sys, const char *kpath, const char **rest)
{
	struct dev_cache *c = sys->dirs;
	const char *a = kpath + strlen(DEV_PREFIX), *slash;
	char dir[PATH_MAX];
	size_t n, dl;
	int fd;

	if (!c || strncmp(kpath, DEV_PREFIX, strlen(DEV_PREFIX)))
		return -1;
	slash = strchr(a, '/');
	n = slash ? (size_t)(slash - a) : 0;
	if (!n || n >= sizeof(c->v[0].addr) || !slash[1] || (n <= 2 && a[0] == '.'))
		return -1;
	*rest = slash + 1;
	/* Newest first: a device's reads come together. */
	for (unsigned k = 1; k <= DEV_CACHE; k++) {
		const struct dev_dir *d = &c->v[(c->next - k) % DEV_CACHE];
		if (d->fd < 0)
			break; /* filled in order: the rest are empty */
		if (d->len == n && !memcmp(d->addr, a, n))
			return d->fd;
	}
	/* @kpath is the tail of the whole path, after the root. */
	dl = strlen(sys->root) + (size_t)(slash - kpath);
	if (dl >= sizeof(dir))
		return -1;
	memcpy(dir, kpath - strlen(sys->root), dl);
	dir[dl] = '\0';
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	{
		struct dev_dir *d = &c->v[c->next++ % DEV_CACHE];
		if (d->fd >= 0)
			close(d->fd);
		d->fd = fd;
		memcpy(d->addr, a, n);
		d->addr[n] = '\0';
		d->len = n;
	}
	return fd;
}

static const struct vh_sys_backend *default_backend;

void vh_sys_set_default_backend(const struct vh_sys_backend *b)
{
	default_backend = b;
}

int vh_sys_new(const char *root, struct vh_sys **ret)
{
	struct vh_sys *sys;
	size_t l;

	sys = calloc(1, sizeof(*sys));
	if (!sys)
		return -ENOMEM;
	if (!root || streq(root, "/"))
		root = "";
	sys->root = strdup(root);
	if (!sys->root) {
		free(sys);
		return -ENOMEM;
	}
	l = strlen(sys->root);
	while (l > 0 && sys->root[l - 1] == '/')
		sys->root[--l] = '\0';
	sys->timeout_ms = 20000;
	sys->backend = default_backend;
	/* Without it, every access walks its whole path. */
	sys->dirs = malloc(sizeof(*sys->dirs));
	if (sys->dirs) {
		sys->dirs->next = 0;
		sys->dirs->writes = 0;
		for (size_t i = 0; i < DEV_CACHE; i++)
			sys->dirs->v[i].fd = -1;
	}
	*ret = sys;
	return 0;
}

unsigned long vh_sys_writes(const struct vh_sys *sys)
{
	return sys->dirs ? sys->dirs->writes : ULONG_MAX;
}

bool vh_sys_unwritten_since(const struct vh_sys *sys, const struct vh_sys *reader,
			    unsigned long writes)
{
	return sys == reader && sys->dirs && writes != ULONG_MAX && sys->dirs->writes == writes;
}

struct vh_sys *vh_sys_free(struct vh_sys *sys)
{
	if (sys) {
		dev_cache_clear(sys->dirs);
		free(sys->dirs);
		free(sys->root);
		free(sys);
	}
	return NULL;
}

const char *vh_sys_root(const struct vh_sys *sys)
{
	return sys->root;
}
bool vh_sys_is_real(const struct vh_sys *sys)
{
	return !sys->root[0];
}
void vh_sys_set_timeout_ms(struct vh_sys *sys, int ms)
{
	sys->timeout_ms = ms > 0 ? ms : 1;
}
int vh_sys_timeout_ms(const struct vh_sys *sys)
{
	return sys->timeout_ms;
}

/* Format the rooted path into @full (the root, then the kernel path) and
 * point @kpath at its kernel part: one formatting per access. */
/* vsnprintf for formats whose only conversions are %s, as the gateway's
 * paths are: a join, at a tenth of the cost (a hook formats hundreds). */
static int join_fmt(char *out, size_t n, const char *fmt, va_list ap)
{
	size_t k = 0;

	for (const char *f = fmt; *f;) {
		const char *s = f;
		size_t l;
		if (*f == '%') {
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)"; /* as vsnprintf shows it */
			l = strlen(s);
			f += 2;
		} else { /* the literal run up to the next conversion */
			l = (size_t)(strchrnul(f, '%') - f);
			f += l;
		}
		if (k + 1 < n) /* cut to fit, as vsnprintf does */
			memcpy(out + k, s, l < n - 1 - k ? l : n - 1 - k);
		k += l;
	}
	if (n)
		out[k < n ? k : n - 1] = '\0';
	return k > INT_MAX ? -1 : (int)k;
}

static bool only_s(const char *fmt)
{
	for (const char *f = strchr(fmt, '%'); f; f = strchr(f + 2, '%'))
		if (f[1] != 's')
			return false;
	return true;
}

static int vpaths(const struct vh_sys *sys, const char **kpath, char *full, const char *fmt,
		  va_list ap)
{
	size_t rl = strlen(sys->root);
	char *k = full + rl;
	int n;

	if (rl >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(full, sys->root, rl);
	n = only_s(fmt) ? join_fmt(k, PATH_MAX - rl, fmt, ap)
			: vsnprintf(k, PATH_MAX - rl, fmt, ap);
	*kpath = k;
	if (n < 0 || k[0] != '/')
		return -EINVAL;
	if ((size_t)n >= PATH_MAX - rl)
		return -ENAMETOOLONG;
	/* ".." never comes from our own formatting: refuse it outright so no
	 * caller mistake can walk out of the root. */
	if (strstr(k, "/../") || strcmp(k + n - (n >= 3 ? 3 : n), "/..") == 0)
		return -EINVAL;
	return 0;
}

#define WITH_PATHS(sys, fmt, r)                                                                    \
	const char *kpath;                                                                         \
	char full[PATH_MAX];                                                                       \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		r = vpaths(sys, &kpath, full, fmt, ap);                                            \
		va_end(ap);                                                                        \
	} while (0)

int vh_sys_path(const struct vh_sys *sys, char *buf, size_t n, const char *fmt, ...)
{
	int r;

	WITH_PATHS(sys, fmt, r);
	(void)kpath;
	if (r < 0)
		return r;
	return vh_strlcpy(buf, full, n);
}

/* Read up to @n bytes.  @once: a short read is the end, as it is for a
 * sysfs attribute (its whole value is rendered at the first read) and for
 * a regular file, which saves the read(2) that would return 0. */
static int read_fd_all(int fd, char *buf, size_t n, size_t *ret_len, bool once)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t)k;
		if (once)
			break;
	}
	*ret_len = got;
	return 0;
}

/* Under /sys only: /proc's files may read short before their end, and so
 * may securityfs's (AppArmor's profiles list is a seq_file: a page a read). */
static bool single_read(const char *kpath)
{
	return strncmp(kpath, "/sys/", 5) == 0 && strncmp(kpath, "/sys/kernel/security/", 21) != 0;
}

static int read_full(const struct vh_sys *sys, const char *kpath, const char *full, void *buf,
		     size_t n, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	const char *rest;
	int dfd = dev_at(sys, kpath, &rest);
	bool once = single_read(kpath);

	fd = dfd >= 0 ? openat(dfd, rest, O_RDONLY | O_CLOEXEC | O_NOCTTY)
		      : open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_fd_all(fd, buf, n, ret_len, once);
}

int vh_sys_read_raw(const struct vh_sys *sys, void *buf, size_t n, size_t *ret_len, const char *fmt,
		    ...)
{
	size_t len;
	int r;

	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	r = read_full(sys, kpath, full, buf, n, &len);
	if (r < 0)
		return r;
	*ret_len = len;
	return 0;
}

static int read_str_full(const struct vh_sys *sys, const char *kpath, const char *full, char *buf,
			 size_t n)
{
	char tmp[4098];
	size_t len;
	int r;

	r = read_full(sys, kpath, full, tmp, sizeof(tmp) - 1, &len);
	if (r < 0)
		return r;
	if (len > 4096) /* sysfs values are at most a page */
		return -EFBIG;
	tmp[len] = '\0';
	if (memchr(tmp, '\0', len))
		return -EBADMSG;
	vh_strip_trailing(tmp);
	if (strlen(tmp) >= n)
		return -EFBIG;
	memcpy(buf, tmp, strlen(tmp) + 1);
	return 0;
}

int vh_sys_read_str(const struct vh_sys *sys, char *buf, size_t n, const char *fmt, ...)
{
	int r;

	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	return read_str_full(sys, kpath, full, buf, n);
}

int vh_sys_read_uint(const struct vh_sys *sys, unsigned long long *ret, const char *fmt, ...)
{
	char v[64];
	unsigned long long x;
	int r;

	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	r = read_str_full(sys, kpath, full, v, sizeof(v));
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	r = vh_parse_uint(v, 0, ULLONG_MAX, &x);
	if (r < 0)
		return -EBADMSG;
	*ret = x;
	return 0;
}

/* readlink(2) of a rooted path into @target (PATH_MAX), NUL-terminated. */
static int read_link(const struct vh_sys *sys, const char *kpath, const char *full,
		     char target[PATH_MAX])
{
	const char *rest;
	int dfd = dev_at(sys, kpath, &rest);
	ssize_t k = dfd >= 0 ? readlinkat(dfd, rest, target, PATH_MAX - 1)
			     : readlink(full, target, PATH_MAX - 1);

	if (k < 0)
		return -errno;
	target[k] = '\0';
	return (int)k;
}

int vh_sys_link_name(const struct vh_sys *sys, char *buf, size_t n, const char *fmt, ...)
{
	char target[PATH_MAX];
	const char *base;
	int r, k;

	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	k = read_link(sys, kpath, full, target);
	if (k < 0)
		return k;
	while (k > 1 && target[k - 1] == '/')
		target[--k] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base)
		return -EBADMSG;
	return vh_strlcpy(buf, base, n) < 0 ? -EFBIG : 0;
}

int vh_sys_read_trusted(const struct vh_sys *sys, size_t max, char **ret, size_t *ret_len,
			struct vh_err *e, const char *fmt, ...)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	WITH_PATHS(sys, fmt, r);
	(void)kpath;
	if (r < 0)
		return vh_err_set(e, r, "Cannot read %s: %s.", fmt, strerror(-r));
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0)
		return vh_err_set(e, -errno, "Cannot open %s: %s.", full, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vh_err_set(e, -EINVAL, "%s is not a regular file.", full);
	r = vh_check_trusted(full, &st, "libvirt's state", e);
	if (r < 0)
		return r;
	return vh_read_fd_capped(fd, full, max, ret, ret_len, e);
}

int vh_sys_exists(const struct vh_sys *sys, const char *fmt, ...)
{
	struct stat st;
	int r;

	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	{
		const char *rest;
		int dfd = dev_at(sys, kpath, &rest);
		if ((dfd >= 0 ? fstatat(dfd, rest, &st, 0) : stat(full, &st)) == 0)
			return 1;
	}
	return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
}

void vh_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vh_sys_list(const struct vh_sys *sys, char ***ret, const char *fmt, ...)
{
	/* getdents64 straight into one buffer: opendir would add an fstat
	 * and a 32 KiB buffer for the few entries of a group or a device. */
	_Alignas(struct dirent64) char buf[8192];
	_cleanup_close_ int fd = -1;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int r;

	WITH_PATHS(sys, fmt, r);
	(void)kpath;
	if (r < 0)
		return r;
	fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		/* the system call: glibc has a wrapper only since 2.30 */
		ssize_t k = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		if (k < 0) {
			vh_strv_free(v);
			return -errno;
		}
		if (k == 0)
			break;
		for (ssize_t off = 0; off < k;) {
			const struct dirent64 *de = (const void *)(buf + off);
			off += de->d_reclen;
			if (streq(de->d_name, ".") || streq(de->d_name, ".."))
				continue;
			if (n + 2 > cap) {
				char **nv;
				cap = cap ? cap * 2 : 16;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					goto oom;
				v = nv;
			}
			v[n] = strdup(de->d_name);
			if (!v[n])
				goto oom;
			v[++n] = NULL;
		}
	}
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*ret = v;
	return (int)n;
oom:
	vh_strv_free(v);
	return -ENOMEM;
}

static int write_now(const char *full, const char *value, size_t len)
{
	_cleanup_close_ int fd = -1;
	ssize_t k;

	fd = open(full, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	k = write(fd, value, len);
	if (k < 0)
		return -errno;
	if ((size_t)k != len)
		return -EIO;
	return 0;
}

static int wait_child(pid_t pid, int timeout_ms)
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
	r = wait_child(pid, timeout_ms);
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

static int write_bounded(const char *full, const char *value, size_t len, int timeout_ms)
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
		r = write_now(full, value, len);
		_exit(r < 0 ? (-r & 0xff) : 0);
	}
	return wait_child(pid, timeout_ms);
}

int vh_sys_write(const struct vh_sys *sys, const char *value, unsigned flags, const char *fmt, ...)
{
	size_t len = strlen(value);
	int r;

	dev_cache_clear(sys->dirs);
	if (sys->dirs)
		sys->dirs->writes++;
	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	if (sys->backend && sys->backend->write)
		return sys->backend->write(sys, kpath, full, value, len, flags & VH_WRITE_BOUNDED);
	if (flags & VH_WRITE_BOUNDED)
		return write_bounded(full, value, len, sys->timeout_ms);
	return write_now(full, value, len);
}

int vh_sys_state_dir(const struct vh_sys *sys, int *ret_fd, char *why, size_t n)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s/run/vfio-hooks", sys->root);
	fd = vh_private_dir_open(dir, "keep device state", why, n);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

/* The fallback of vh_sys_beneath without openat2 (Linux < 5.6, or a
 * seccomp filter that refuses it): one O_NOFOLLOW open a component. */
static int beneath_walk(int dfd, const char *rest)
{
	char name[NAME_MAX + 1];
	int fd = dup(dfd);

	if (fd < 0)
		return -errno;
	for (const char *c = rest; *c;) {
		size_t l = strcspn(c, "/");
		bool last = !c[l];
		int nfd;
		if (l == 0 || l > NAME_MAX || (l == 1 && c[0] == '.') ||
		    (l == 2 && c[0] == '.' && c[1] == '.')) {
			close(fd);
			return -EXDEV;
		}
		memcpy(name, c, l);
		name[l] = '\0';
		nfd = openat(fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
		if (nfd < 0) {
			int r = -errno;
			struct stat st;
			/* A link where a directory should be: O_NOFOLLOW |
			 * O_DIRECTORY says ENOTDIR. */
			if (r == -ENOTDIR && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				r = -ELOOP;
			close(fd);
			return r;
		}
		close(fd);
		fd = nfd;
		c += l + !last;
	}
	{
		struct stat st;
		int r = fstat(fd, &st) < 0     ? -errno
			: S_ISLNK(st.st_mode)  ? -ELOOP
			: S_ISDIR(st.st_mode)  ? -EISDIR
			: !S_ISREG(st.st_mode) ? -EINVAL
					       : 0;
		close(fd);
		return r;
	}
}

int vh_sys_beneath(const struct vh_sys *sys, const char *addr, const char *rest)
{
	struct open_how how = {
	    .flags = O_PATH | O_CLOEXEC,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int dfd = -1;
	struct stat st;
	int fd, r;

	if (!addr[0] || strchr(addr, '/') || streq(addr, ".") || streq(addr, "..") || !rest[0] ||
	    rest[0] == '/')
		return -EINVAL;
	{
		char full[PATH_MAX];
		if (snprintf(full, sizeof(full), "%s" DEV_PREFIX "%s", sys->root, addr) >=
		    (int)sizeof(full))
			return -ENAMETOOLONG;
		dfd = open(full, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, dfd, rest, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		return beneath_walk(dfd, rest);
	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0	   ? -errno
	    : S_ISDIR(st.st_mode)  ? -EISDIR
	    : !S_ISREG(st.st_mode) ? -EINVAL
				   : 0;
	close(fd);
	return r;
}

int vh_sys_lstat(const struct vh_sys *sys, struct stat *ret, const char *fmt, ...)
{
	struct stat st;
	int r;

	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	{
		const char *rest;
		int dfd = dev_at(sys, kpath, &rest);
		if ((dfd >= 0 ? fstatat(dfd, rest, &st, AT_SYMLINK_NOFOLLOW) : lstat(full, &st)) <
		    0)
			return -errno;
	}
	*ret = st;
	return 0;
}

int vh_sys_readlink(const struct vh_sys *sys, char *buf, size_t n, const char *fmt, ...)
{
	char target[PATH_MAX];
	int r;

	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	r = read_link(sys, kpath, full, target);
	if (r < 0)
		return r;
	return vh_strlcpy(buf, target, n) < 0 ? -EFBIG : 0;
}
