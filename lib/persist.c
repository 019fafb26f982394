/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARK "# vfio-hooks persistent binding"
#define MAX_RULE (64 * 1024)

void vh_persist_path(const struct vh_sys *sys, const struct vh_pci_addr *a, char *buf, size_t n)
{
	char name[VH_PCI_ADDR_LEN];

	vh_pci_addr_format(a, name);
	snprintf(buf, n, "%s" VH_PERSIST_DIR "/90-vfio-hooks-%s.rules", vh_sys_root(sys), name);
}

const char *vh_persist_reset_arg(const char *reset_method)
{
	return reset_method[0] ? reset_method : "none";
}

/* Names that go into the rule unquoted: a driver, a reset method list
 * ("flr,bus": udev splits RUN at spaces). */
static bool word_ok(const char *s, const char *extra)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		      (extra && strchr(extra, *s))))
			return false;
	return true;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The rule text of @devs, or NULL with @e set. */
static char *compose(const struct vh_persist_dev *devs, size_t n, const char *prog,
		     struct vh_err *e)
{
	struct vh_buf b = {0};
	char name[VH_PCI_ADDR_LEN];

	vh_pci_addr_format(&devs[0].addr, name);
	vh_buf_printf(&b,
		      MARK
		      " of %s, written by 'vfio-hooks bind --persist'.\n"
		      "# 'vfio-hooks unbind --persist %s' removes this file. Do not edit:\n"
		      "# at every boot, before a host driver can claim them, these devices go to\n"
		      "# their vfio driver with the reset_method shown.\n",
		      name, name);
	for (size_t i = 0; i < n; i++) {
		const struct vh_persist_dev *d = &devs[i];
		char dn[VH_PCI_ADDR_LEN], rm[128];
		if (!word_ok(d->driver, NULL)) {
			vh_err_set(e, -EINVAL, "Driver name '%s' cannot go into a udev rule.",
				   d->driver);
			goto fail;
		}
		snprintf(rm, sizeof(rm), "%s", vh_persist_reset_arg(d->reset_method));
		for (char *c = rm; *c; c++)
			if (*c == ' ')
				*c = ',';
		if (d->set_reset && !word_ok(rm, ",")) {
			vh_err_set(e, -EINVAL, "reset_method '%s' cannot go into a udev rule.",
				   d->reset_method);
			goto fail;
		}
		vh_pci_addr_format(&d->addr, dn);
		vh_buf_printf(
		    &b,
		    "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"%s\", ATTR{vendor}==\"0x%04x\", ATTR{device}==\"0x%04x\", ATTR{driver_override}=\"%s\", RUN{builtin}+=\"kmod load %s\", RUN+=\"%s bind --boot --driver %s%s%s %s\"\n",
		    dn, d->vendor, d->device, d->driver, d->driver, prog, d->driver,
		    d->set_reset ? " --reset-method " : "", d->set_reset ? rm : "", dn);
	}
	if (vh_buf_failed(&b)) {
		vh_err_set(e, -ENOMEM, "Out of memory.");
		goto fail;
	}
	return vh_buf_steal(&b);
fail:
	vh_buf_done(&b);
	return NULL;
}

/* Write @text to @path through a synced temporary file and a rename. */
static int write_atomic(const char *path, const char *text, struct vh_err *e)
{
	char tmp[4200];
	size_t len = strlen(text), off = 0;
	int fd, r = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return vh_err_set(e, -errno, "Cannot write %s: %s.", tmp, strerror(errno));
	while (off < len && r == 0) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			r = w < 0 ? -errno : -EIO;
		else
			off += (size_t)w;
	}
	if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return vh_err_set(e, r, "Cannot write %s: %s.", path, strerror(-r));
	}
	return 0;
}

int vh_persist_write(const struct vh_sys *sys, const struct vh_persist_dev *devs, size_t n,
		     const char *prog, struct vh_err *e)
{
	_cleanup_free_ char *text = NULL;
	char path[4096], dir[4096];
	int r;

	if (n == 0)
		return -EINVAL;
	if (prog[0] != '/' || strpbrk(prog, " \t\n\"'\\"))
		return vh_err_set(
		    e, -EINVAL,
		    "Cannot write a udev rule that runs '%s': the path must be absolute, without spaces or quotes.",
		    prog);
	text = compose(devs, n, prog, e);
	if (!text)
		return e && e->code ? e->code : -ENOMEM;
	snprintf(dir, sizeof(dir), "%s" VH_PERSIST_DIR, vh_sys_root(sys));
	r = mkdir_p(dir);
	if (r < 0)
		return vh_err_set(e, r, "Cannot create %s: %s.", dir, strerror(-r));
	vh_persist_path(sys, &devs[0].addr, path, sizeof(path));
	return write_atomic(path, text, e);
}

/* The value of KEY=="VALUE" or KEY="VALUE" in @line, into @out. */
static bool field(const char *line, const char *key, char *out, size_t n)
{
	const char *p = strstr(line, key), *q;

	if (!p)
		return false;
	p += strlen(key);
	q = strchr(p, '"');
	if (!q || (size_t)(q - p) >= n)
		return false;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return true;
}

static int parse_line(const char *line, struct vh_persist_dev *d)
{
	char kernel[32], ven[16], dev[16], run[512];
	unsigned long long v;
	char *save = NULL, *tok;
	bool boot = false;

	*d = (struct vh_persist_dev){0};
	if (!field(line, "KERNEL==\"", kernel, sizeof(kernel)) ||
	    vh_pci_addr_parse(kernel, &d->addr) < 0 ||
	    !field(line, "ATTR{vendor}==\"", ven, sizeof(ven)) ||
	    vh_parse_uint(ven, 16, 0xffff, &v) < 0)
		return -EBADMSG;
	d->vendor = (uint16_t)v;
	if (!field(line, "ATTR{device}==\"", dev, sizeof(dev)) ||
	    vh_parse_uint(dev, 16, 0xffff, &v) < 0)
		return -EBADMSG;
	d->device = (uint16_t)v;
	if (!field(line, "RUN+=\"", run, sizeof(run)))
		return -EBADMSG;
	for (tok = strtok_r(run, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (streq(tok, "--boot"))
			boot = true;
		else if (streq(tok, "--driver")) {
			tok = strtok_r(NULL, " ", &save);
			if (!tok || !word_ok(tok, NULL))
				return -EBADMSG;
			snprintf(d->driver, sizeof(d->driver), "%s", tok);
		} else if (streq(tok, "--reset-method")) {
			tok = strtok_r(NULL, " ", &save);
			if (!tok || !word_ok(tok, ","))
				return -EBADMSG;
			d->set_reset = true;
			snprintf(d->reset_method, sizeof(d->reset_method), "%s",
				 streq(tok, "none") ? "" : tok);
			for (char *c = d->reset_method; *c; c++)
				if (*c == ',')
					*c = ' ';
		}
	}
	return boot && d->driver[0] ? 0 : -EBADMSG;
}

int vh_persist_list(const struct vh_sys *sys, struct vh_pci_addr **ret)
{
	static const char prefix[] = "90-vfio-hooks-", suffix[] = ".rules";
	char **names = NULL;
	struct vh_pci_addr *v = NULL;
	size_t count = 0;
	int n = vh_sys_list(sys, &names, VH_PERSIST_DIR);

	*ret = NULL;
	if (n == -ENOENT)
		return 0;
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		char addr[32];
		struct vh_pci_addr a;

		if (len <= strlen(prefix) + strlen(suffix) ||
		    strncmp(names[i], prefix, strlen(prefix)) != 0 ||
		    !streq(names[i] + len - strlen(suffix), suffix) ||
		    len - strlen(prefix) - strlen(suffix) >= sizeof(addr))
			continue;
		memcpy(addr, names[i] + strlen(prefix), len - strlen(prefix) - strlen(suffix));
		addr[len - strlen(prefix) - strlen(suffix)] = '\0';
		if (vh_pci_addr_parse(addr, &a) < 0)
			continue;
		if (VH_APPEND(v, count, a) < 0) {
			free(v);
			vh_strv_free(names);
			return -ENOMEM;
		}
	}
	vh_strv_free(names);
	if (count)
		qsort(v, count, sizeof(*v), vh_pci_addr_cmp);
	*ret = v;
	return (int)count;
}

int vh_persist_read(const struct vh_sys *sys, const struct vh_pci_addr *a,
		    struct vh_persist_dev **ret, size_t *n, struct vh_err *e)
{
	char path[4096];
	_cleanup_free_ char *text = NULL;
	struct vh_persist_dev *v = NULL;
	size_t count = 0, len = 0;
	int r, lineno = 0;
	bool ours = false;

	*ret = NULL;
	*n = 0;
	vh_persist_path(sys, a, path, sizeof(path));
	r = vh_read_file_capped(path, MAX_RULE, &text, &len, NULL);
	if (r < 0)
		return r == -ENOENT ? r
				    : vh_err_set(e, r, "Cannot read %s: %s.", path, strerror(-r));
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct vh_persist_dev d;
		lineno++;
		if (strncmp(line, MARK, strlen(MARK)) == 0)
			ours = true;
		if (line[0] == '#' || !line[0])
			continue;
		if (!ours || parse_line(line, &d) < 0) {
			free(v);
			return vh_err_set(
			    e, -EBADMSG,
			    "%s:%d: not a rule written by vfio-hooks bind --persist; remove it by hand if it is yours.",
			    path, lineno);
		}
		if (VH_APPEND(v, count, d) < 0) {
			free(v);
			return -ENOMEM;
		}
	}
	if (!count) {
		free(v);
		return vh_err_set(e, -EBADMSG, "%s: no rule in it; remove it by hand.", path);
	}
	*ret = v;
	*n = count;
	return 0;
}

int vh_persist_remove(const struct vh_sys *sys, const struct vh_pci_addr *a, struct vh_err *e)
{
	char path[4096];

	vh_persist_path(sys, a, path, sizeof(path));
	if (unlink(path) < 0)
		return errno == ENOENT
			   ? -ENOENT
			   : vh_err_set(e, -errno, "Cannot remove %s: %s.", path, strerror(errno));
	return 0;
}
