/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int vh_parse_uint(const char *s, int base, unsigned long long max, unsigned long long *ret)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s || *end)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

static bool buf_grow(struct vh_buf *b, size_t extra)
{
	size_t need, cap;
	char *n;

	if (b->oom)
		return false;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	n = realloc(b->s, cap);
	if (!n) {
		b->oom = true;
		return false;
	}
	b->s = n;
	b->cap = cap;
	return true;
}

/* Formatted once into the room there is; a second time only when it did
 * not fit. */
void vh_buf_vprintf(struct vh_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	size_t room;
	int n;

	if (!buf_grow(b, 0))
		return;
	room = b->cap - b->len;
	va_copy(aq, ap);
	n = vsnprintf(b->s + b->len, room, fmt, aq);
	va_end(aq);
	if (n >= 0 && (size_t)n < room) {
		b->len += (size_t)n;
		return;
	}
	b->s[b->len] = '\0'; /* what did not fit goes */
	if (n < 0 || !buf_grow(b, (size_t)n))
		return;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void vh_buf_putc(struct vh_buf *b, char c)
{
	if (!buf_grow(b, 1))
		return;
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

void vh_buf_printf(struct vh_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vh_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void vh_buf_puts(struct vh_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (!buf_grow(b, n))
		return;
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

/* Puts s into b with each character that esc() names replaced by what
 * it names. */
static void put_escaped(struct vh_buf *b, const char *s,
			const char *(*esc)(unsigned char c, char tmp[8]))
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		char tmp[8];
		const char *r = esc(*p, tmp);

		if (r)
			vh_buf_puts(b, r);
		else
			vh_buf_putc(b, (char)*p);
	}
}

static const char *json_escape(unsigned char c, char tmp[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\t':
		return "\\t";
	default:
		if (c >= 0x20)
			return NULL;
		snprintf(tmp, 8, "\\u%04x", c);
		return tmp;
	}
}

void vh_buf_json_str(struct vh_buf *b, const char *s)
{
	put_escaped(b, s, json_escape);
}

void vh_buf_json_kv(struct vh_buf *b, const char *k, const char *v, bool comma)
{
	vh_buf_printf(b, "\"%s\":", k);
	if (v) {
		vh_buf_puts(b, "\"");
		vh_buf_json_str(b, v);
		vh_buf_puts(b, "\"");
	} else {
		vh_buf_puts(b, "null");
	}
	if (comma)
		vh_buf_puts(b, ",");
}

static const char *xml_entity(unsigned char c, char tmp[8])
{
	(void)tmp;
	switch (c) {
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '&':
		return "&amp;";
	case '\'':
		return "&apos;";
	case '"':
		return "&quot;";
	default:
		return NULL;
	}
}

void vh_buf_xml_str(struct vh_buf *b, const char *s)
{
	put_escaped(b, s, xml_entity);
}

void vh_buf_reset(struct vh_buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

void vh_buf_done(struct vh_buf *b)
{
	free(b->s);
	*b = (struct vh_buf){0};
}

char *vh_buf_steal(struct vh_buf *b)
{
	char *s;

	if (b->oom) {
		vh_buf_done(b);
		return NULL;
	}
	s = b->s ? b->s : strdup("");
	*b = (struct vh_buf){0};
	return s;
}

char *vh_strdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *vh_vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *vh_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vh_vfmt(fmt, ap);
	va_end(ap);
	return s;
}

int vh_strlcpy(char *dst, const char *src, size_t n)
{
	size_t l = strlen(src);

	if (n == 0)
		return -ENAMETOOLONG;
	if (l >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, l + 1);
	return 0;
}

void vh_strip_trailing(char *s)
{
	size_t l = strlen(s);

	while (l > 0 && isspace((unsigned char)s[l - 1]))
		s[--l] = '\0';
}

int vh_err_set(struct vh_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->code)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* Frees buf; the error of a file above max bytes. */
static int too_large(char *buf, const char *what, size_t max, struct vh_err *e)
{
	free(buf);
	return vh_err_set(
	    e, -EFBIG,
	    "%s is larger than %zu MiB: refusing to parse it (no libvirt domain XML is that large).",
	    what, max >> 20);
}

int vh_read_fd_capped(int fd, const char *what, size_t max, char **ret, size_t *ret_len,
		      struct vh_err *e)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap + 1);

	if (!buf)
		return vh_err_set(e, -ENOMEM, "Out of memory reading %s.", what);
	for (;;) {
		ssize_t k;
		if (len == cap) {
			char *nb;
			if (cap > max)
				return too_large(buf, what, max, e);
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return vh_err_set(e, -ENOMEM, "Out of memory reading %s.", what);
			}
			buf = nb;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			int r = -errno;
			if (errno == EINTR)
				continue;
			free(buf);
			return vh_err_set(e, r, "Cannot read %s: %s.", what, strerror(-r));
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (len > max)
		return too_large(buf, what, max, e);
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int vh_check_trusted(const char *path, const struct stat *st, const char *what, struct vh_err *e)
{
	if (st->st_mode & S_IWOTH)
		return vh_err_set(
		    e, -EPERM,
		    "%s is writable by every user: refusing to read %s from it (fix: chmod o-w %s).",
		    path, what, path);
	if (st->st_mode & S_IWGRP)
		return vh_err_set(
		    e, -EPERM,
		    "%s is writable by its group: refusing to read %s from it (fix: chmod g-w %s).",
		    path, what, path);
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return vh_err_set(
		    e, -EPERM,
		    "%s is owned by uid %u, neither root nor this user: refusing to read %s from it (fix: chown root: %s).",
		    path, (unsigned)st->st_uid, what, path);
	return 0;
}

int vh_read_file_capped(const char *path, size_t max, char **ret, size_t *ret_len, struct vh_err *e)
{
	_cleanup_close_ int fd = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return vh_err_set(e, -errno, "Cannot open %s: %s.", path, strerror(errno));
	return vh_read_fd_capped(fd, path, max, ret, ret_len, e);
}

bool vh_uuid_valid(const char *u)
{
	if (!u || strlen(u) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : !isxdigit((unsigned char)u[i]))
			return false;
	}
	return true;
}

void vh_sibling_path_of(const char *prog, const char *name, const char *fallback_dir, char *out,
			size_t n)
{
	const char *slash = prog ? strrchr(prog, '/') : NULL;

	if (slash) {
		snprintf(out, n, "%.*s/%s", (int)(slash - prog), prog, name);
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, n, "%s/%s", fallback_dir, name);
}

int vh_private_dir_open(const char *path, const char *use, char *why, size_t n)
{
	struct stat st;
	int fd;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(why, n, "cannot create %s: %s", path, strerror(errno));
		return -errno;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int r = errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
		snprintf(why, n, "cannot open %s: %s%s", path, strerror(errno),
			 errno == ELOOP || errno == ENOTDIR
			     ? " (it is a symlink or not a directory: remove it)"
			     : "");
		return r;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(
		    why, n,
		    "%s is not owned by uid %u or is writable by others: refusing to %s there (remove it)",
		    path, (unsigned)geteuid(), use);
		close(fd);
		return -EPERM;
	}
	return fd;
}

void vh_sibling_path(const char *name, const char *fallback_dir, char *out, size_t n)
{
	char self[4096];
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (k > 0)
		self[k] = '\0';
	vh_sibling_path_of(k > 0 ? self : NULL, name, fallback_dir, out, n);
}

int vh_settings_set(struct vh_settings *s, const char *name, const char *value)
{
	struct vh_setting *nv;
	char *n, *v;

	for (size_t i = 0; i < s->n; i++)
		if (streq(s->v[i].name, name)) {
			v = strdup(value);
			if (!v)
				return -ENOMEM;
			free(s->v[i].value);
			s->v[i].value = v;
			return 0;
		}
	n = strdup(name);
	v = strdup(value);
	nv = n && v ? realloc(s->v, (s->n + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(n);
		free(v);
		return -ENOMEM;
	}
	s->v = nv;
	s->v[s->n++] = (struct vh_setting){.name = n, .value = v};
	return 0;
}

const char *vh_settings_get(const struct vh_settings *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (streq(s->v[i].name, name))
			return s->v[i].value;
	return NULL;
}

void vh_settings_done(struct vh_settings *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].value);
	}
	free(s->v);
	*s = (struct vh_settings){0};
}

static bool chars_ok(const char *s, const char *extra, bool upper)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      (upper && *s >= 'A' && *s <= 'Z') || strchr(extra, *s)))
			return false;
	return true;
}

bool vh_setting_ok(const char *name, const char *value)
{
	return chars_ok(name, "_", false) && chars_ok(value, "_.:-", true);
}
