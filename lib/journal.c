/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "journal.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#define MAGIC "vfio-hooks-journal 1"
#define SUFFIX ".journal"

static void esc(struct vh_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (isalnum(*p) || strchr("_.:-", *p))
			vh_buf_putc(b, (char)*p);
		else
			vh_buf_printf(b, "%%%02X", *p);
}

static int unesc(const char *s, char *out, size_t n)
{
	size_t k = 0;

	for (const char *p = s; *p; p++) {
		unsigned v;
		if (k + 1 >= n)
			return -EBADMSG;
		if (*p == '%') {
			if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2]) ||
			    sscanf(p + 1, "%2x", &v) != 1 || v == 0)
				return -EBADMSG;
			out[k++] = (char)v;
			p += 2;
		} else {
			out[k++] = *p;
		}
	}
	out[k] = '\0';
	return 0;
}

/* What the journal's writers produce, and nothing else is acted on: a
 * planted or damaged journal must not name a driver outside
 * /sys/bus/pci/drivers, bytes for the kernel to parse, or an address that
 * is not one. */

/* DDDD:BB:SS.F exactly as vh_pci_addr_format writes it. */
static int addr_strict(const char *s, struct vh_pci_addr *ret)
{
	char back[VH_PCI_ADDR_LEN];
	struct vh_pci_addr a;

	if (!s || strlen(s) != 12 || vh_pci_addr_parse(s, &a) < 0)
		return -EBADMSG;
	vh_pci_addr_format(&a, back);
	if (!streq(back, s))
		return -EBADMSG;
	*ret = a;
	return 0;
}

/* A driver name (the driver and driver_override values): "" or
 * [A-Za-z0-9_-], as every PCI driver is named. */
static bool driver_name_ok(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
	       strlen(s);
}

/* reset_method: "" or methods the kernel knows, separated by one space. */
static bool reset_method_ok(const char *s)
{
	static const char *const known[] = {
	    "device_specific", "acpi", "flr", "af_flr", "pm", "bus", "cxl_bus",
	};

	for (const char *p = s; *p;) {
		size_t l = strcspn(p, " ");
		bool hit = false;
		for (size_t i = 0; !hit && i < ELEMENTSOF(known); i++)
			hit = strlen(known[i]) == l && !strncmp(known[i], p, l);
		if (!hit)
			return false;
		p += l;
		if (*p == ' ' && *++p == '\0')
			return false;
	}
	return true;
}

/* A per-VF attribute's value as sysfs shows it: numbers, names. */
static bool attr_value_ok(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:,- ") ==
	       strlen(s);
}

static bool jdev_ok(const struct vh_jdev *d)
{
	return driver_name_ok(d->driver) && driver_name_ok(d->override) &&
	       (!d->has_reset_method || reset_method_ok(d->reset_method));
}

static int append(struct vh_journal *j, const char *line, struct vh_err *e)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t k = write(j->fd, line + off, len - off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return vh_err_set(e, -errno,
					  "Cannot write the journal /run/vfio-hooks/%s: %s.",
					  j->file, strerror(errno));
		}
		off += (size_t)k;
	}
	if (fdatasync(j->fd) < 0)
		return vh_err_set(e, -errno, "Cannot sync the journal /run/vfio-hooks/%s: %s.",
				  j->file, strerror(errno));
	return 0;
}

/* Appends the lines built in b (then freed) to the journal. */
static int append_buf(struct vh_journal *j, struct vh_buf *b, struct vh_err *e)
{
	int r = vh_buf_failed(b) ? -ENOMEM : append(j, vh_buf_str(b), e);

	vh_buf_done(b);
	return r;
}

int vh_journal_create(int dirfd, const char *uuid, const char *domain, struct vh_journal *ret,
		      struct vh_err *e)
{
	struct vh_journal j = {.fd = -1};
	struct vh_buf b = {0};
	int r;

	if (!vh_uuid_valid(uuid))
		return vh_err_set(
		    e, -EINVAL,
		    "The domain's UUID '%.40s' is not a UUID; cannot keep a journal for it.",
		    uuid ? uuid : "");
	snprintf(j.uuid, sizeof(j.uuid), "%s", uuid);
	snprintf(j.file, sizeof(j.file), "%s" SUFFIX, uuid);
	/* Names are for messages only; a long one is cut. */
	j.domain = strndup(domain ? domain : "", 200);
	if (!j.domain)
		return -ENOMEM;
	/* O_NOFOLLOW: a symlink planted where the journal goes is refused,
	 * never followed. */
	/* O_NONBLOCK: a FIFO planted here fails (ENXIO) instead of
	 * blocking; regular files ignore it. */
	j.fd = openat(dirfd, j.file,
		      O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (j.fd < 0) {
		r = vh_err_set(e, -errno, "Cannot create the journal /run/vfio-hooks/%s: %s%s.",
			       j.file, strerror(errno),
			       errno == ELOOP ? " (a symlink is in its place: remove it)" : "");
		vh_journal_done(&j);
		return r;
	}
	vh_buf_puts(&b, MAGIC "\ndomain ");
	esc(&b, j.domain);
	vh_buf_printf(&b, "\nuuid %s\n", uuid);
	r = append_buf(&j, &b, e);
	if (r == 0 && fsync(dirfd) < 0)
		r = vh_err_set(e, -errno, "Cannot sync /run/vfio-hooks: %s.", strerror(errno));
	if (r < 0) {
		unlinkat(dirfd, j.file, 0);
		vh_journal_done(&j);
		return r;
	}
	*ret = j;
	return 0;
}

/* Forget the device at @a (a "gone" record). */
static void forget(struct vh_journal *j, const struct vh_pci_addr *a)
{
	for (size_t i = 0; i < j->n_devs; i++)
		if (vh_pci_addr_eq(&j->devs[i].addr, a)) {
			memmove(&j->devs[i], &j->devs[i + 1],
				(j->n_devs - i - 1) * sizeof(*j->devs));
			j->n_devs--;
			return;
		}
}

static int remember(struct vh_journal *j, const struct vh_jdev *d)
{
	for (size_t i = 0; i < j->n_devs; i++)
		if (vh_pci_addr_eq(&j->devs[i].addr, &d->addr))
			return 0; /* the first record is the original state */
	return VH_APPEND(j->devs, j->n_devs, *d);
}

int vh_journal_add(struct vh_journal *j, const struct vh_jdev *d, struct vh_err *e)
{
	struct vh_buf b = {0};
	char a[VH_PCI_ADDR_LEN];
	int r;

	vh_pci_addr_format(&d->addr, a);
	if (!jdev_ok(d))
		return vh_err_set(
		    e, -EINVAL,
		    "%s: its driver '%s', driver_override '%s' or reset_method '%s' is not what the journal can record (driver names of A-Z, a-z, 0-9, _ and -; reset methods the kernel knows): not touching it.",
		    a, d->driver, d->override, d->reset_method);
	vh_buf_printf(&b, "dev %s role=%s managed=%d driver=", a,
		      d->role == VH_ROLE_HOSTDEV ? "hostdev" : "companion", d->managed);
	if (d->driver[0])
		esc(&b, d->driver);
	else
		vh_buf_puts(&b, "-");
	vh_buf_puts(&b, " override=");
	if (d->override[0])
		esc(&b, d->override);
	else
		vh_buf_puts(&b, "-");
	vh_buf_puts(&b, " reset_method=");
	if (d->has_reset_method)
		esc(&b, d->reset_method);
	else
		vh_buf_puts(&b, "-");
	vh_buf_printf(&b, " reset=%d", d->reset_on_release);
	if (d->pciback)
		vh_buf_printf(&b, " pciback=%s", d->pciback == VH_PCIBACK_ADDED ? "added" : "kept");
	vh_buf_puts(&b, "\n");
	r = append_buf(j, &b, e);
	if (r == 0)
		r = remember(j, d);
	return r;
}

static int remember_sriov(struct vh_journal *j, const struct vh_jsriov *s)
{
	for (size_t i = 0; i < j->n_sriov; i++)
		if (vh_pci_addr_eq(&j->sriov[i].pf, &s->pf))
			return 0;
	return VH_APPEND(j->sriov, j->n_sriov, *s);
}

int vh_journal_add_sriov(struct vh_journal *j, const struct vh_jsriov *s, struct vh_err *e)
{
	char a[VH_PCI_ADDR_LEN], line[96];
	int r;

	vh_pci_addr_format(&s->pf, a);
	if (s->autoprobe < 0)
		snprintf(line, sizeof(line), "sriov %s numvfs=%u autoprobe=-\n", a, s->numvfs);
	else
		snprintf(line, sizeof(line), "sriov %s numvfs=%u autoprobe=%d\n", a, s->numvfs,
			 s->autoprobe ? 1 : 0);
	r = append(j, line, e);
	if (r == 0)
		r = remember_sriov(j, s);
	return r;
}

static int parse_sriov(const char *rest, struct vh_jsriov *s)
{
	char a[16], ap[4];
	int used = 0;

	*s = (struct vh_jsriov){0};
	if (sscanf(rest, "%15s numvfs=%u autoprobe=%3s%n", a, &s->numvfs, ap, &used) != 3 ||
	    rest[used] || addr_strict(a, &s->pf) < 0 || s->numvfs > 65535)
		return -EBADMSG;
	if (streq(ap, "-"))
		s->autoprobe = -1;
	else if (streq(ap, "0") || streq(ap, "1"))
		s->autoprobe = ap[0] - '0';
	else
		return -EBADMSG;
	return 0;
}

/* Attribute paths the journal may name: a file below a PCI device's
 * directory (/sys/bus/pci/devices/DDDD:BB:SS.F/...), names of
 * [A-Za-z0-9_.:-], no "." or ".." component.  As text only: the engine
 * also resolves it beneath the device without following links
 * (vh_sys_beneath), since a link below a device (driver, physfn) leads
 * out of it. */
static bool attr_path_ok(const char *p)
{
	static const char prefix[] = "/sys/bus/pci/devices/";
	char a[VH_PCI_ADDR_LEN + 1];
	struct vh_pci_addr pa;
	const char *c;

	if (strncmp(p, prefix, sizeof(prefix) - 1) != 0)
		return false;
	c = p + sizeof(prefix) - 1;
	if (strlen(c) < 14 || c[12] != '/')
		return false;
	memcpy(a, c, 12);
	a[12] = '\0';
	if (addr_strict(a, &pa) < 0)
		return false;
	for (c += 13; *c;) {
		size_t l = strcspn(c, "/");
		if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.') ||
		    strspn(c,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") <
			l)
			return false;
		c += l;
		if (*c == '/' && !*++c)
			return false;
	}
	return true;
}

static int remember_attr(struct vh_journal *j, const struct vh_jattr *a)
{
	for (size_t i = 0; i < j->n_attrs; i++)
		if (streq(j->attrs[i].path, a->path))
			return 0;
	return VH_APPEND(j->attrs, j->n_attrs, *a);
}

int vh_journal_add_attr(struct vh_journal *j, const struct vh_jattr *a, struct vh_err *e)
{
	struct vh_buf b = {0};
	int r;

	if (!attr_path_ok(a->path))
		return vh_err_set(e, -EINVAL, "Not a PCI device file: %s.", a->path);
	if (!attr_value_ok(a->value))
		return vh_err_set(
		    e, -EINVAL,
		    "%s holds '%s', which the journal cannot record (only letters, digits, spaces and _.:,-): not changing it.",
		    a->path, a->value);
	vh_buf_puts(&b, "attr ");
	esc(&b, a->path);
	vh_buf_puts(&b, " ");
	esc(&b, a->value);
	vh_buf_puts(&b, "\n");
	r = append_buf(j, &b, e);
	if (r == 0)
		r = remember_attr(j, a);
	return r;
}

static int parse_attr(char *rest, struct vh_jattr *a)
{
	char *v = strchr(rest, ' ');

	*a = (struct vh_jattr){0};
	if (!v)
		return -EBADMSG;
	*v++ = '\0';
	if (unesc(rest, a->path, sizeof(a->path)) < 0 || unesc(v, a->value, sizeof(a->value)) < 0 ||
	    !attr_path_ok(a->path) || !attr_value_ok(a->value))
		return -EBADMSG;
	return 0;
}

int vh_journal_gone(struct vh_journal *j, const struct vh_pci_addr *a, struct vh_err *e)
{
	struct vh_buf b = {0};
	char name[VH_PCI_ADDR_LEN];
	int r;

	vh_pci_addr_format(a, name);
	vh_buf_printf(&b, "gone %s\n", name);
	r = append_buf(j, &b, e);
	if (r == 0)
		forget(j, a);
	return r;
}

static void set_role(struct vh_journal *j, const struct vh_pci_addr *a, enum vh_role role)
{
	for (size_t i = 0; i < j->n_devs; i++)
		if (vh_pci_addr_eq(&j->devs[i].addr, a))
			j->devs[i].role = role;
}

int vh_journal_set_role(struct vh_journal *j, const struct vh_pci_addr *a, enum vh_role role,
			struct vh_err *e)
{
	struct vh_buf b = {0};
	char name[VH_PCI_ADDR_LEN];
	int r;

	vh_pci_addr_format(a, name);
	vh_buf_printf(&b, "role %s %s\n", name, role == VH_ROLE_HOSTDEV ? "hostdev" : "companion");
	r = append_buf(j, &b, e);
	if (r == 0)
		set_role(j, a, role);
	return r;
}

int vh_journal_mark(struct vh_journal *j, const char *line, struct vh_err *e)
{
	struct vh_buf b = {0};
	int r;

	vh_buf_printf(&b, "%s\n", line);
	r = append_buf(j, &b, e);
	return r;
}

/* A journal flag: "0" or "1". */
static int flag(const char *v, bool *ret)
{
	if (!streq(v, "0") && !streq(v, "1"))
		return -EBADMSG;
	*ret = v[0] == '1';
	return 0;
}

/* A driver's name, or "-" for none (buf stays ""). */
static int opt_name(const char *v, char *buf, size_t n)
{
	return streq(v, "-") || unesc(v, buf, n) >= 0 ? 0 : -EBADMSG;
}

static int parse_dev(char *rest, struct vh_jdev *d)
{
	char *save = NULL, *tok;
	unsigned seen = 0;

	*d = (struct vh_jdev){0};
	tok = strtok_r(rest, " ", &save);
	if (!tok || addr_strict(tok, &d->addr) < 0)
		return -EBADMSG;
	while ((tok = strtok_r(NULL, " ", &save))) {
		char *v = strchr(tok, '=');
		if (!v)
			return -EBADMSG;
		*v++ = '\0';
		if (streq(tok, "role")) {
			if (streq(v, "hostdev"))
				d->role = VH_ROLE_HOSTDEV;
			else if (streq(v, "companion"))
				d->role = VH_ROLE_COMPANION;
			else
				return -EBADMSG;
			seen |= 1;
		} else if (streq(tok, "managed") || streq(tok, "reset")) {
			bool m = streq(tok, "managed");

			if (flag(v, m ? &d->managed : &d->reset_on_release) < 0)
				return -EBADMSG;
			seen |= m ? 2 : 32;
		} else if (streq(tok, "driver") || streq(tok, "override")) {
			bool drv = streq(tok, "driver");
			_Static_assert(sizeof(d->driver) == sizeof(d->override), "one size");

			if (opt_name(v, drv ? d->driver : d->override, sizeof(d->driver)) < 0)
				return -EBADMSG;
			seen |= drv ? 4 : 8;
		} else if (streq(tok, "reset_method")) {
			d->has_reset_method = !streq(v, "-");
			if (d->has_reset_method &&
			    unesc(v, d->reset_method, sizeof(d->reset_method)) < 0)
				return -EBADMSG;
			seen |= 16;
		} else if (streq(tok, "pciback")) {
			if (streq(v, "added"))
				d->pciback = VH_PCIBACK_ADDED;
			else if (streq(v, "kept"))
				d->pciback = VH_PCIBACK_KEPT;
			else
				return -EBADMSG;
		} else {
			return -EBADMSG;
		}
	}
	/* Driver names become path components and kernel input. */
	if (!jdev_ok(d))
		return -EBADMSG;
	return seen == 63 ? 0 : -EBADMSG;
}

int vh_journal_load(int dirfd, const char *uuid, struct vh_journal *ret, struct vh_err *e)
{
	struct vh_journal j = {.fd = -1};
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	char *line, *next;
	int ln = 0, r;

	if (!vh_uuid_valid(uuid))
		return -EINVAL;
	snprintf(j.uuid, sizeof(j.uuid), "%s", uuid);
	snprintf(j.file, sizeof(j.file), "%s" SUFFIX, uuid);
	fd = openat(dirfd, j.file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return vh_err_set(e, -errno, "Cannot open the journal /run/vfio-hooks/%s: %s%s.",
				  j.file, strerror(errno),
				  errno == ELOOP ? " (it is a symlink: remove it)" : "");
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_size > (1 << 20))
		return vh_err_set(
		    e, -EPERM,
		    "The journal /run/vfio-hooks/%s is not a regular file of uid %u under 1 MiB: refusing to act on it (inspect and remove it).",
		    j.file, (unsigned)geteuid());
	/* Written only by root's vfio-hooks, 0600, one name: a journal
	 * others could write, or one with a second name elsewhere, may say
	 * anything. */
	if (st.st_mode & 022)
		return vh_err_set(
		    e, -EPERM,
		    "The journal /run/vfio-hooks/%s is writable by group or others (mode %04o): refusing to act on it. Inspect it; if it is vfio-hooks' own, 'chmod 600 /run/vfio-hooks/%s', else remove it.",
		    j.file, (unsigned)(st.st_mode & 07777), j.file);
	if (st.st_nlink != 1)
		return vh_err_set(
		    e, -EPERM,
		    "The journal /run/vfio-hooks/%s has %lu hard links (another name could change it): refusing to act on it. Inspect it, remove its other names (find / -samefile /run/vfio-hooks/%s) or remove it.",
		    j.file, (unsigned long)st.st_nlink, j.file);
	buf = calloc(1, (size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	if (read(fd, buf, (size_t)st.st_size) != st.st_size)
		return vh_err_set(e, -EIO, "Cannot read /run/vfio-hooks/%s.", j.file);
	if (strlen(buf) != (size_t)st.st_size)
		return vh_err_set(
		    e, -EBADMSG, "The journal /run/vfio-hooks/%s is corrupt (a NUL byte).", j.file);
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (!next) /* a record cut by a crash: ignore it */
			break;
		*next++ = '\0';
		ln++;
		if (ln == 1) {
			r = streq(line, MAGIC) ? 0 : -EBADMSG;
		} else if (strncmp(line, "domain ", 7) == 0) {
			char name[256];
			r = unesc(line + 7, name, sizeof(name));
			if (r == 0) {
				free(j.domain);
				j.domain = strdup(name);
			}
		} else if (strncmp(line, "uuid ", 5) == 0) {
			r = streq(line + 5, uuid) ? 0 : -EBADMSG;
		} else if (strncmp(line, "dev ", 4) == 0) {
			struct vh_jdev d;
			r = parse_dev(line + 4, &d);
			if (r == 0)
				r = remember(&j, &d);
		} else if (strncmp(line, "attr ", 5) == 0) {
			struct vh_jattr at;
			r = parse_attr(line + 5, &at);
			if (r == 0)
				r = remember_attr(&j, &at);
		} else if (strncmp(line, "sriov ", 6) == 0) {
			struct vh_jsriov sr;
			r = parse_sriov(line + 6, &sr);
			if (r == 0)
				r = remember_sriov(&j, &sr);
		} else if (streq(line, "prepared")) {
			j.prepared = true;
			r = 0;
		} else if (strncmp(line, "failed ", 7) == 0) {
			struct vh_pci_addr a;
			char tok[VH_PCI_ADDR_LEN + 1] = "";
			sscanf(line + 7, "%12s", tok);
			r = addr_strict(tok, &a);
			for (size_t i = 0; r == 0 && i < j.n_devs; i++)
				if (vh_pci_addr_eq(&j.devs[i].addr, &a))
					j.devs[i].failed = true;
		} else if (strncmp(line, "role ", 5) == 0) {
			struct vh_pci_addr a;
			char tok[VH_PCI_ADDR_LEN + 1] = "", role[16] = "", back[48];
			r = sscanf(line + 5, "%12s %15s", tok, role) == 2 ? addr_strict(tok, &a)
									  : -EBADMSG;
			snprintf(back, sizeof(back), "%s %s", tok, role);
			if (r == 0 && streq(back, line + 5) &&
			    (streq(role, "hostdev") || streq(role, "companion")))
				set_role(&j, &a,
					 streq(role, "hostdev") ? VH_ROLE_HOSTDEV
								: VH_ROLE_COMPANION);
			else
				r = -EBADMSG;
		} else if (strncmp(line, "gone ", 5) == 0) {
			struct vh_pci_addr a;
			r = addr_strict(line + 5, &a);
			if (r == 0)
				forget(&j, &a);
		} else if (strncmp(line, "note ", 5) == 0) {
			r = 0;
		} else {
			r = -EBADMSG;
		}
		if (r < 0) {
			r = vh_err_set(
			    e, r == -ENOMEM ? r : -EBADMSG,
			    "The journal /run/vfio-hooks/%s is corrupt at line %d; devices it lists may not be on their original drivers. Inspect it, restore them by hand (driver_override, unbind, drivers_probe), then remove it.",
			    j.file, ln);
			vh_journal_done(&j);
			return r;
		}
	}
	if (ln == 0) {
		/* Created but the header never reached the disk: nothing was
		 * touched yet. */
		j.domain = j.domain ? j.domain : strdup("");
	}
	*ret = j;
	return 0;
}

int vh_journal_open_append(int dirfd, const char *uuid, const char *domain, struct vh_journal *ret,
			   struct vh_err *e)
{
	struct vh_journal j = {.fd = -1};
	struct stat st;
	int r = vh_journal_load(dirfd, uuid, &j, e);

	if (r == -ENOENT)
		return vh_journal_create(dirfd, uuid, domain, ret, e);
	if (r < 0)
		return r;
	/* Under the state lock nothing else writes here; still, the file
	 * opened must be what load accepted: regular, root's, one name,
	 * not followed if a link. */
	j.fd = openat(dirfd, j.file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (j.fd < 0 || fstat(j.fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		r = vh_err_set(e, j.fd < 0 ? -errno : -EPERM,
			       "Cannot append to the journal /run/vfio-hooks/%s: %s.", j.file,
			       j.fd < 0 ? strerror(errno) : "it changed while being opened");
		vh_journal_done(&j);
		return r;
	}
	*ret = j;
	return 0;
}

int vh_journal_mentions(int dirfd, const char *uuid, const char *text)
{
	char name[64], buf[65536];
	ssize_t k;
	int fd;

	if (!vh_uuid_valid(uuid))
		return 0;
	snprintf(name, sizeof(name), "%s" SUFFIX, uuid);
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return 0;
	buf[k] = '\0';
	return memmem(buf, (size_t)k, text, strlen(text)) != NULL;
}

int vh_journal_remove(int dirfd, struct vh_journal *j)
{
	if (unlinkat(dirfd, j->file, 0) < 0 && errno != ENOENT)
		return -errno;
	fsync(dirfd);
	return 0;
}

void vh_journal_done(struct vh_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->domain);
	free(j->devs);
	free(j->sriov);
	free(j->attrs);
	*j = (struct vh_journal){.fd = -1};
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vh_journal_dir_exists(const struct vh_sys *sys)
{
	return vh_sys_exists(sys, VH_JOURNAL_DIR);
}

int vh_journal_exists(const struct vh_sys *sys, const char *uuid)
{
	if (!uuid || !uuid[0])
		return 0;
	return vh_sys_exists(sys, VH_JOURNAL_DIR "/%s" SUFFIX, uuid);
}

int vh_journal_list(int dirfd, char ***ret)
{
	int fd = dup(dirfd);
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nv;
		if (l != 36 + strlen(SUFFIX) || strcmp(de->d_name + 36, SUFFIX))
			continue;
		nv = realloc(v, (n + 2) * sizeof(*nv));
		if (!nv)
			goto oom;
		v = nv;
		v[n] = strndup(de->d_name, 36);
		if (!v[n])
			goto oom;
		if (!vh_uuid_valid(v[n])) {
			free(v[n]);
			v[n] = NULL;
			continue;
		}
		v[++n] = NULL;
	}
	closedir(d);
	if (!v)
		v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	qsort(v, n, sizeof(*v), cmp_str);
	*ret = v;
	return (int)n;
oom: /* a list with a journal left out would say its devices are free */
	closedir(d);
	if (v)
		v[n] = NULL;
	vh_strv_free(v);
	return -ENOMEM;
}

static void on_alarm(int sig)
{
	(void)sig;
}

int vh_journal_lock(int dirfd, int timeout_ms, int *ret_fd)
{
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	struct itimerval it = {0}, oldit;
	int fd, r;

	fd = openat(dirfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		*ret_fd = fd;
		return 0;
	}
	if (timeout_ms <= 0) {
		close(fd);
		return -ETIMEDOUT;
	}
	/* Wait, but boundedly: an interval timer interrupts the flock. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	it.it_value.tv_sec = timeout_ms / 1000;
	it.it_value.tv_usec = (timeout_ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &it, &oldit);
	r = flock(fd, LOCK_EX) < 0 ? -errno : 0;
	it = (struct itimerval){0};
	setitimer(ITIMER_REAL, &it, NULL);
	sigaction(SIGALRM, &old, NULL);
	if (r < 0) {
		close(fd);
		return r == -EINTR ? -ETIMEDOUT : r;
	}
	*ret_fd = fd;
	return 0;
}
