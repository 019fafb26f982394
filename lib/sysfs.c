/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "sysfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "journal.h"
#include "spawn.h"

/* Directories of PCI devices, opened once (O_PATH) for the reads under
 * them: a read is then openat() of one name instead of a walk of the
 * whole path (the root, /sys/bus/pci/devices, the device's link into
 * /sys/devices): measured 1.7 against 2.9-3.9 us for an attribute.  Keyed
 * by the device's address (the path component after DEV_PREFIX), opened
 * relative to the root's directory.  Every write through the gateway
 * empties it (a write to sriov_numvfs, remove or a fake kernel's can take
 * a directory away or make a new one at the same path). */
#define DEV_PREFIX "/sys/bus/pci/devices/"
#define DEV_CACHE 64 /* the devices of a domain, for its check and verify */
/* A power of two: the ring's index wraps with the unsigned counter. */
_Static_assert((DEV_CACHE & (DEV_CACHE - 1)) == 0, "DEV_CACHE: power of 2");

struct dev_dir {
	char addr[16];
	int fd; /* -1: empty */
};

struct dev_cache {
	struct dev_dir v[DEV_CACHE];
	unsigned next;
	unsigned long writes; /* every write through the gateway */
};

/* The path context, as util-linux's struct path_cxt: the root as text (for
 * messages, for the write backend and for the bounded write's child,
 * which holds no descriptor) and its directory, opened once, that every
 * other access starts from.  With it, what the process needs of the
 * kernel is here too: the write backend and the PCI name provider. */
struct vh_sys {
	char *root;  /* "" for the real system */
	int root_fd; /* O_PATH of the root directory; -1: none (it did not
			exist at vh_sys_new), the whole path is used */
	int timeout_ms;
	const struct vh_sys_backend *backend;
	vh_pci_namer namer;
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

/* Where an access to the kernel path @kpath (rooted: @full) starts: a
 * directory fd and the path relative to it.  The root's directory, else
 * (none) the whole path. */
static int at_root(const struct vh_sys *sys, const char *kpath, const char *full, const char **rel)
{
	if (sys->root_fd < 0) {
		*rel = full;
		return AT_FDCWD;
	}
	*rel = kpath[1] ? kpath + 1 : "."; /* the root itself: "" would be ENOENT */
	return sys->root_fd;
}

/* The same for a read: below a PCI device's directory, that directory
 * (cached). */
static int at(const struct vh_sys *sys, const char *kpath, const char *full, const char **rel)
{
	struct dev_cache *c = sys->dirs;
	const char *a = kpath + strlen(DEV_PREFIX), *slash;
	size_t n;
	int fd;

	if (sys->root_fd < 0 || !c || strncmp(kpath, DEV_PREFIX, strlen(DEV_PREFIX)))
		return at_root(sys, kpath, full, rel);
	*rel = kpath + 1;
	slash = strchr(a, '/');
	n = slash ? (size_t)(slash - a) : 0;
	if (!n || n >= sizeof(c->v[0].addr) || !slash[1] || (n <= 2 && a[0] == '.'))
		return sys->root_fd;
	/* Newest first: a device's reads come together. */
	for (unsigned k = 1; k <= DEV_CACHE; k++) {
		const struct dev_dir *d = &c->v[(c->next - k) % DEV_CACHE];
		if (d->fd < 0)
			break; /* filled in order: the rest are empty */
		if (!strncmp(d->addr, a, n) && !d->addr[n]) {
			*rel = slash + 1;
			return d->fd;
		}
	}
	{
		char dir[PATH_MAX];
		memcpy(dir, kpath + 1, (size_t)(slash - kpath - 1));
		dir[slash - kpath - 1] = '\0';
		fd = openat(sys->root_fd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return sys->root_fd; /* the whole path fails the same way */
	{
		struct dev_dir *d = &c->v[c->next++ % DEV_CACHE];
		if (d->fd >= 0)
			close(d->fd);
		d->fd = fd;
		memcpy(d->addr, a, n);
		d->addr[n] = '\0';
	}
	*rel = slash + 1;
	return fd;
}

/* The write backend of every gateway made in this program: none in the
 * library (real writes); a program linked with the test suite's fake
 * kernel (tests/fk-auto.c) defines it.  A constant chosen at link time,
 * not a process-wide setting: vh_sys_set_backend changes one gateway. */
extern const struct vh_sys_backend vh_sys_link_backend __attribute__((weak));

void vh_sys_set_backend(struct vh_sys *sys, const struct vh_sys_backend *b)
{
	sys->backend = b;
}

void vh_sys_set_namer(struct vh_sys *sys, vh_pci_namer fn)
{
	sys->namer = fn;
}

vh_pci_namer vh_sys_namer(const struct vh_sys *sys)
{
	return sys->namer;
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
	sys->root_fd = open(sys->root[0] ? sys->root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	sys->timeout_ms = 20000;
	sys->backend = &vh_sys_link_backend;
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

int vh_sys_clone(const struct vh_sys *sys, struct vh_sys **ret)
{
	struct vh_sys *c;
	int r = vh_sys_new(sys->root, &c);

	if (r < 0)
		return r;
	c->timeout_ms = sys->timeout_ms;
	c->backend = sys->backend;
	c->namer = sys->namer;
	*ret = c;
	return 0;
}

void vh_sys_invalidate(const struct vh_sys *sys)
{
	dev_cache_clear(sys->dirs);
	if (sys->dirs)
		sys->dirs->writes++;
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
		if (sys->root_fd >= 0)
			close(sys->root_fd);
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
	const char *rel;
	int dfd = at(sys, kpath, full, &rel);
	bool once = single_read(kpath);

	fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
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
	const char *rel;
	int dfd = at(sys, kpath, full, &rel);
	ssize_t k = readlinkat(dfd, rel, target, PATH_MAX - 1);

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
	if (r < 0)
		return vh_err_set(e, r, "Cannot read %s: %s.", fmt, strerror(-r));
	{
		const char *rel;
		int dfd = at(sys, kpath, full, &rel);
		fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	}
	if (fd < 0 || fstat(fd, &st) < 0)
		return vh_err_set(e, -errno, "Cannot open %s: %s.", full, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vh_err_set(e, -EINVAL, "%s is not a regular file.", full);
	r = vh_check_trusted(full, &st, "libvirt's state", e);
	if (r < 0)
		return r;
	return vh_read_fd_capped(fd, full, max, ret, ret_len, e);
}

static int stat_at(const struct vh_sys *sys, const char *kpath, const char *full, struct stat *st,
		   int flags)
{
	const char *rel;
	int dfd = at(sys, kpath, full, &rel);

	return fstatat(dfd, rel, st, flags) < 0 ? -errno : 0;
}

int vh_sys_exists(const struct vh_sys *sys, const char *fmt, ...)
{
	struct stat st;
	int r;

	WITH_PATHS(sys, fmt, r);
	if (r < 0)
		return r;
	r = stat_at(sys, kpath, full, &st, 0);
	if (r == 0)
		return 1;
	return r == -ENOENT || r == -ENOTDIR ? 0 : r;
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
	if (r < 0)
		return r;
	{
		const char *rel;
		int dfd = at(sys, kpath, full, &rel);
		fd = openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
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
		return vh_spawn_write_bounded(full, value, len, sys->timeout_ms);
	{
		const char *rel;
		int dfd = at_root(sys, kpath, full, &rel);
		return vh_write_file_at(dfd, rel, value, len);
	}
}

int vh_sys_state_dir(const struct vh_sys *sys, int *ret_fd, char *why, size_t n)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s" VH_JOURNAL_DIR, sys->root);
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
		const char *rel;
		int base;
		if (snprintf(full, sizeof(full), "%s" DEV_PREFIX "%s", sys->root, addr) >=
		    (int)sizeof(full))
			return -ENAMETOOLONG;
		base = at_root(sys, full + strlen(sys->root), full, &rel);
		dfd = openat(base, rel, O_PATH | O_DIRECTORY | O_CLOEXEC);
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
	r = stat_at(sys, kpath, full, &st, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		return r;
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
