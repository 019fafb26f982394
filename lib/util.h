/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small shared helpers: cleanup attributes, checked number parsing and a
 * growable string buffer.  Nothing here touches the kernel or prints.
 */
#pragma once

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Appends the value (after n) to the array arr of n elements (n grows by one): 0, or
 * -ENOMEM with arr and n as they were. */
#define VH_APPEND(arr, n, ...)                                                                     \
	({                                                                                         \
		typeof(arr) _nv = realloc((arr), ((n) + 1) * sizeof(*(arr)));                      \
		int _r = -ENOMEM;                                                                  \
		if (_nv) {                                                                         \
			(arr) = _nv;                                                               \
			(arr)[(n)++] = (__VA_ARGS__);                                              \
			_r = 0;                                                                    \
		}                                                                                  \
		_r;                                                                                \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership of a pointer to the caller and disarm its cleanup. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp = (p);                                                           \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})

static inline bool streq(const char *a, const char *b)
{
	return a && b && __builtin_strcmp(a, b) == 0;
}

/*
 * Parse an unsigned integer the way libvirt parses XML attributes: base 0
 * (so "0x1b", "27" and "033" are the same number), no sign, no trailing
 * text, at most @max.  Returns 0, -EINVAL or -ERANGE; @ret untouched on
 * failure.
 */
int vh_parse_uint(const char *s, int base, unsigned long long max, unsigned long long *ret);

/* Growable, always NUL-terminated string buffer.  An allocation failure is
 * sticky: vh_buf_failed() says so and the content stops growing. */
struct vh_buf {
	char *s;
	size_t len;
	size_t cap;
	bool oom;
};

void vh_buf_printf(struct vh_buf *b, const char *fmt, ...) _printf_(2, 3);
void vh_buf_vprintf(struct vh_buf *b, const char *fmt, va_list ap);
void vh_buf_puts(struct vh_buf *b, const char *s);
void vh_buf_putc(struct vh_buf *b, char c);
/* Append @s as the body of a JSON string (no surrounding quotes). */
void vh_buf_json_str(struct vh_buf *b, const char *s);
/* Append "k":"v" (or "k":null) and a comma when @comma. */
void vh_buf_json_kv(struct vh_buf *b, const char *k, const char *v, bool comma);
/* Append @s with XML special characters escaped. */
void vh_buf_xml_str(struct vh_buf *b, const char *s);
static inline const char *vh_buf_str(const struct vh_buf *b)
{
	return b->s ? b->s : "";
}
static inline bool vh_buf_failed(const struct vh_buf *b)
{
	return b->oom;
}
void vh_buf_reset(struct vh_buf *b);
void vh_buf_done(struct vh_buf *b);
/* Take the string out of the buffer (caller frees); NULL after an OOM. */
char *vh_buf_steal(struct vh_buf *b);

/* A string printed into new memory (free()); NULL on ENOMEM. */
char *vh_fmt(const char *fmt, ...) _printf_(1, 2);
char *vh_vfmt(const char *fmt, va_list ap);
/* strdup that returns NULL for NULL. */
char *vh_strdup0(const char *s);
/* Copy @src into @dst of size @n, always terminating; -ENAMETOOLONG if cut. */
int vh_strlcpy(char *dst, const char *src, size_t n);
/* Trim trailing whitespace in place. */
void vh_strip_trailing(char *s);

/* A library error with its whole sentence, for the front end to report once.
 * The message names the device, the file and the fix where there is one. */
struct vh_err {
	int code; /* -errno */
	char msg[1024];
};
/* Record an error (the first one wins) and return @code. */
int vh_err_set(struct vh_err *e, int code, const char *fmt, ...) _printf_(3, 4);

/* Read all of @fd, at most @max; -EFBIG when larger.  @what
 * names the input in messages ("standard input", a file name). */
int vh_read_fd_capped(int fd, const char *what, size_t max, char **ret, size_t *ret_len,
		      struct vh_err *e);
/* Whether a file or directory that steers what vfio-hooks does (as root:
 * what the hook does on every VM) may be trusted: nobody but its owner can
 * change it (no group or world write, sticky or not), and its owner is
 * root or the caller.  @what says what is read from it ("device
 * profiles"); -EPERM with a message naming the path and the fix. */
int vh_check_trusted(const char *path, const struct stat *st, const char *what, struct vh_err *e);
int vh_read_file_capped(const char *path, size_t max, char **ret, size_t *ret_len,
			struct vh_err *e);

/* A UUID as libvirt writes it: 36 characters of hex and dashes.  Nothing
 * else ever becomes a file name. */
bool vh_uuid_valid(const char *uuid);

/* A NAME=VALUE list (per-VF settings of profiles and domain metadata). */
struct vh_setting {
	char *name, *value;
};
struct vh_settings {
	struct vh_setting *v;
	size_t n;
};
/* Add or replace @name (copies both); -ENOMEM. */
int vh_settings_set(struct vh_settings *s, const char *name, const char *value);
const char *vh_settings_get(const struct vh_settings *s, const char *name);
void vh_settings_done(struct vh_settings *s);
/* A name of [a-z0-9_] and a value of [A-Za-z0-9_.:-], 1 to 64 each: what
 * may become a sysfs file name and what is written to it. */
bool vh_setting_ok(const char *name, const char *value);

/* The program @name beside the running executable when it is there
 * (a build tree, an installation), else in @fallback_dir. */
void vh_sibling_path(const char *name, const char *fallback_dir, char *out, size_t n);
/* @path, a directory made 0700 when missing, opened (O_NOFOLLOW) only
 * when the caller owns it and nobody else can write it: the fd, or -errno
 * with why in @why (@use says what the directory is for: "keep device
 * state"). */
int vh_private_dir_open(const char *path, const char *use, char *why, size_t n);
/* The same beside the program at @prog (an absolute path). */
void vh_sibling_path_of(const char *prog, const char *name, const char *fallback_dir, char *out,
			size_t n);
