/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "fakesys.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t l = strlen(path);

	if (l >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* Mostly there already: one system call then. */
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	memcpy(tmp, path, l + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int put_raw(const char *path, const void *data, size_t len)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, r = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		r = mkdir_p(dir);
		if (r < 0)
			return r;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		r = -EIO;
	close(fd);
	return r;
}

int fakesys_put(const char *root, const char *rel, const char *content)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return put_raw(p, content, strlen(content));
}

int fakesys_get(const char *root, const char *rel, char *buf, size_t n)
{
	char p[PATH_MAX];
	ssize_t k;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	k = read(fd, buf, n - 1);
	close(fd);
	if (k < 0)
		return -errno;
	buf[k] = '\0';
	while (k > 0 && buf[k - 1] == '\n')
		buf[--k] = '\0';
	return 0;
}

static int putf(const char *root, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int putf(const char *root, const char *rel, const char *fmt, ...)
{
	char v[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	return fakesys_put(root, rel, v);
}

int fakesys_link(const char *root, const char *from, const char *to)
{
	char target[PATH_MAX] = "", link[PATH_MAX], dir[PATH_MAX];
	int depth = 0;
	char *slash;
	int r;

	for (const char *p = from; *p; p++)
		depth += *p == '/';
	for (int i = 0; i < depth; i++)
		strcat(target, "../");
	strncat(target, to, sizeof(target) - strlen(target) - 1);
	snprintf(link, sizeof(link), "%s/%s", root, from);
	snprintf(dir, sizeof(dir), "%s", link);
	slash = strrchr(dir, '/');
	*slash = '\0';
	r = mkdir_p(dir);
	if (r < 0)
		return r;
	unlink(link);
	return symlink(target, link) < 0 ? -errno : 0;
}

struct dev {
	char addr[16];
	unsigned vendor, device, sv, sd, cls, rev;
	char driver[64], override[64], reset[128];
	bool reset_none, reset_set;
	int group;
	unsigned msi, msix;
	unsigned msi_irqs, msix_irqs; /* vectors a driver has enabled */
	bool pcie, bridge, short_cfg, nvlink2;
	unsigned pcie_type;
	bool sriov;
	unsigned total, offset, stride, vfdev, numvfs;
	char physfn[16], parent[16];
};

static unsigned log2u(unsigned v)
{
	unsigned l = 0;

	while ((1u << l) < v)
		l++;
	return l;
}

static void put16(uint8_t *c, size_t o, unsigned v)
{
	c[o] = (uint8_t)v;
	c[o + 1] = (uint8_t)(v >> 8);
}

static size_t make_config(const struct dev *d, uint8_t *c)
{
	size_t len = d->short_cfg ? 64 : (d->sriov ? 4096 : 256);
	uint8_t *last = NULL;

	memset(c, 0, 4096);
	put16(c, 0, d->vendor);
	put16(c, 2, d->device);
	c[8] = (uint8_t)d->rev;
	c[9] = (uint8_t)d->cls;
	c[10] = (uint8_t)(d->cls >> 8);
	c[11] = (uint8_t)(d->cls >> 16);
	c[14] = d->bridge ? 1 : 0;
	if (!d->bridge) {
		put16(c, 0x2c, d->sv);
		put16(c, 0x2e, d->sd);
	}
#define LINK(pos)                                                              \
	do {                                                                   \
		if (last)                                                      \
			*last = (pos);                                         \
		else                                                           \
			c[0x34] = (pos);                                       \
		last = &c[(pos) + 1];                                          \
	} while (0)
	if (d->msi) {
		LINK(0x50);
		c[0x50] = 0x05;
		/* 64-bit, per-vector masking, Multiple Message Capable. */
		put16(c, 0x52, 0x0180 | (log2u(d->msi) << 1));
	}
	if (d->msix) {
		LINK(0x70);
		c[0x70] = 0x11;
		put16(c, 0x72, (d->msix - 1) & 0x7ff);
	}
	if (d->pcie || d->sriov) {
		LINK(0x80);
		c[0x80] = 0x10;
		put16(c, 0x82, (d->pcie_type << 4) | 2);
	}
	if (last)
		c[6] |= 0x10; /* status: capability list */
	if (d->sriov) {
		/* SR-IOV extended capability at 0x100. */
		uint32_t h = 0x0010 | (1u << 16);
		memcpy(&c[0x100], &h, 4);
		put16(c, 0x10c, d->total);
		put16(c, 0x10e, d->total);
		put16(c, 0x110, d->numvfs);
		put16(c, 0x114, d->offset);
		put16(c, 0x116, d->stride);
		put16(c, 0x11a, d->vfdev);
	}
	return len;
}

static int parse_hexpair(const char *v, unsigned *a, unsigned *b)
{
	return sscanf(v, "%x:%x", a, b) == 2 ? 0 : -EINVAL;
}

static int parse_dev(char *line, struct dev *d, char *err, size_t n, int ln)
{
	char *save = NULL, *tok;

	memset(d, 0, sizeof(*d));
	d->group = -1;
	tok = strtok_r(line, " \t", &save);
	if (strlen(tok) == 7)
		snprintf(d->addr, sizeof(d->addr), "0000:%s", tok);
	else
		snprintf(d->addr, sizeof(d->addr), "%s", tok);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '=');
		const char *k = tok, *v = eq ? eq + 1 : "";
		if (eq)
			*eq = '\0';
		if (!strcmp(k, "id")) {
			if (parse_hexpair(v, &d->vendor, &d->device))
				goto bad;
		} else if (!strcmp(k, "subsys")) {
			if (parse_hexpair(v, &d->sv, &d->sd))
				goto bad;
		} else if (!strcmp(k, "class")) {
			d->cls = (unsigned)strtoul(v, NULL, 16);
		} else if (!strcmp(k, "rev")) {
			d->rev = (unsigned)strtoul(v, NULL, 0);
		} else if (!strcmp(k, "driver")) {
			snprintf(d->driver, sizeof(d->driver), "%s", v);
		} else if (!strcmp(k, "override")) {
			snprintf(d->override, sizeof(d->override), "%s", v);
		} else if (!strcmp(k, "group")) {
			d->group = atoi(v);
		} else if (!strcmp(k, "reset")) {
			d->reset_set = true;
			if (!strcmp(v, "none"))
				d->reset_none = true;
			else
				for (size_t i = 0;
				     v[i] && i + 1 < sizeof(d->reset); i++)
					d->reset[i] = v[i] == ',' ? ' ' : v[i];
		} else if (!strcmp(k, "msi")) {
			d->msi = (unsigned)atoi(v);
		} else if (!strcmp(k, "msix")) {
			d->msix = (unsigned)atoi(v);
		} else if (!strcmp(k, "msi_irqs")) {
			d->msi_irqs = (unsigned)atoi(v);
		} else if (!strcmp(k, "msix_irqs")) {
			d->msix_irqs = (unsigned)atoi(v);
		} else if (!strcmp(k, "pcie")) {
			d->pcie = true;
			d->pcie_type = eq ? (unsigned)atoi(v) : 0;
		} else if (!strcmp(k, "bridge")) {
			d->bridge = true;
		} else if (!strcmp(k, "nvlink2")) {
			d->nvlink2 = true;
		} else if (!strcmp(k, "cfg")) {
			d->short_cfg = !strcmp(v, "64");
		} else if (!strcmp(k, "sriov")) {
			d->sriov = true;
			d->offset = d->stride = 1;
			for (char *s2 = NULL,
				  *p = strtok_r((char *)v, ",", &s2);
			     p; p = strtok_r(NULL, ",", &s2)) {
				unsigned x;
				if (sscanf(p, "total:%u", &x) == 1)
					d->total = x;
				else if (sscanf(p, "offset:%u", &x) == 1)
					d->offset = x;
				else if (sscanf(p, "stride:%u", &x) == 1)
					d->stride = x;
				else if (sscanf(p, "vfdev:%x", &x) == 1)
					d->vfdev = x;
				else
					goto bad;
			}
		} else if (!strcmp(k, "numvfs")) {
			d->numvfs = (unsigned)atoi(v);
		} else if (!strcmp(k, "physfn")) {
			snprintf(d->physfn, sizeof(d->physfn), "%s", v);
		} else if (!strcmp(k, "parent")) {
			snprintf(d->parent, sizeof(d->parent), "%s", v);
		} else {
			goto bad;
		}
		continue;
	bad:
		snprintf(err, n, "spec line %d: bad token '%s%s%s'", ln, k,
			 eq ? "=" : "", v);
		return -EINVAL;
	}
	if (!d->reset_set)
		snprintf(d->reset, sizeof(d->reset), "flr bus");
	return 0;
}

/* sys/devices/... path of a device, below its parent when one is given. */
static void dev_path(const char *root, const struct dev *d, char *out, size_t n)
{
	char p[PATH_MAX];
	ssize_t k;

	if (d->parent[0]) {
		char link[PATH_MAX];
		snprintf(link, sizeof(link), "%s/sys/bus/pci/devices/%s", root,
			 d->parent);
		k = readlink(link, p, sizeof(p) - 1);
		if (k > 0) {
			p[k] = '\0';
			/* "../../../devices/..." -> "devices/..." */
			snprintf(out, n, "sys/%s/%s", strstr(p, "devices/"),
				 d->addr);
			return;
		}
	}
	snprintf(out, n, "sys/devices/pci%.4s:%.2s/%s", d->addr, d->addr + 5,
		 d->addr);
}

static int build_dev(const char *root, struct dev *d)
{
	char dp[PATH_MAX], rel[PATH_MAX + 64];
	uint8_t cfg[4096];
	size_t len;
	int r = 0;

	dev_path(root, d, dp, sizeof(dp));
#define A(name, ...)                                                           \
	do {                                                                   \
		snprintf(rel, sizeof(rel), "%s/%s", dp, name);                 \
		r = putf(root, rel, __VA_ARGS__);                              \
		if (r < 0)                                                     \
			return r;                                              \
	} while (0)
	A("vendor", "0x%04x\n", d->vendor);
	A("device", "0x%04x\n", d->device);
	A("subsystem_vendor", "0x%04x\n", d->sv);
	A("subsystem_device", "0x%04x\n", d->sd);
	A("class", "0x%06x\n", d->cls);
	A("modalias", "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n",
	  d->vendor, d->device, d->sv, d->sd, (d->cls >> 16) & 0xff,
	  (d->cls >> 8) & 0xff, d->cls & 0xff);
	A("revision", "0x%02x\n", d->rev);
	A("driver_override", "%s\n", d->override[0] ? d->override : "(null)");
	if (!d->reset_none) {
		A("reset_method", "%s\n", d->reset);
		A("reset", "%s", "");
	}
	if (d->nvlink2) {
		/* The device-tree properties of a POWER9 GPU with NVLink2
		 * bridges, which libvirt looks for. */
		A("of_node/ibm,gpu", "%s", "");
		A("of_node/ibm,nvlink", "%s", "");
		A("of_node/ibm,nvlink-speed", "%s", "");
		A("of_node/memory-region", "%s", "");
	}
	if (d->sriov) {
		A("sriov_totalvfs", "%u\n", d->total);
		A("sriov_numvfs", "%u\n", d->numvfs);
		A("sriov_drivers_autoprobe", "%s", "1\n");
	}
	/* msi_irqs/IRQ holds "msi" or "msix", as the kernel writes it. */
	for (unsigned i = 0; i < d->msi_irqs + d->msix_irqs; i++) {
		snprintf(rel, sizeof(rel), "%s/msi_irqs/%u", dp, 24 + i);
		r = putf(root, rel, "%s\n", i < d->msi_irqs ? "msi" : "msix");
		if (r < 0)
			return r;
	}
	len = make_config(d, cfg);
	snprintf(rel, sizeof(rel), "%s/%s/config", root, dp);
	r = put_raw(rel, cfg, len);
	if (r < 0)
		return r;

	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", d->addr);
	r = fakesys_link(root, rel, dp);
	if (r < 0)
		return r;
	if (d->driver[0]) {
		char drv[PATH_MAX];
		snprintf(drv, sizeof(drv), "sys/bus/pci/drivers/%s", d->driver);
		snprintf(rel, sizeof(rel), "%s/driver", dp);
		r = fakesys_link(root, rel, drv);
		if (r < 0)
			return r;
		snprintf(rel, sizeof(rel), "%s/%s", drv, d->addr);
		r = fakesys_link(root, rel, dp);
		if (r < 0)
			return r;
	}
	if (d->group >= 0) {
		char g[PATH_MAX];
		snprintf(g, sizeof(g), "sys/kernel/iommu_groups/%d", d->group);
		snprintf(rel, sizeof(rel), "%s/iommu_group", dp);
		r = fakesys_link(root, rel, g);
		if (r < 0)
			return r;
		snprintf(rel, sizeof(rel), "%s/devices/%s", g, d->addr);
		r = fakesys_link(root, rel, dp);
		if (r < 0)
			return r;
	}
	{
		/* What drivers_probe would bind: for the fake kernel. */
		char p[PATH_MAX];
		FILE *f;
		snprintf(p, sizeof(p), "%s/.fakekernel", root);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/.fakekernel/native", root);
		f = fopen(p, "ae");
		if (f) {
			fprintf(f, "%s %s\n", d->addr,
				d->driver[0] ? d->driver : "-");
			fclose(f);
		}
	}
	if (d->physfn[0]) {
		char pf[PATH_MAX], link[PATH_MAX], t[PATH_MAX];
		ssize_t k;
		int i;
		snprintf(link, sizeof(link), "%s/sys/bus/pci/devices/%s", root,
			 d->physfn);
		k = readlink(link, t, sizeof(t) - 1);
		if (k <= 0)
			return -ENOENT;
		t[k] = '\0';
		snprintf(pf, sizeof(pf), "sys/%s", strstr(t, "devices/"));
		snprintf(rel, sizeof(rel), "%s/physfn", dp);
		r = fakesys_link(root, rel, pf);
		if (r < 0)
			return r;
		for (i = 0; i < 256; i++) {
			struct stat st;
			snprintf(rel, sizeof(rel), "%s/%s/virtfn%d", root, pf,
				 i);
			if (lstat(rel, &st) < 0)
				break;
		}
		snprintf(rel, sizeof(rel), "%s/virtfn%d", pf, i);
		r = fakesys_link(root, rel, dp);
	}
	return r;
}

int fakesys_build(const char *root, const char *spec, char *err, size_t n)
{
	char *copy = strdup(spec), *save = NULL, *line;
	int ln = 0, r = 0;

	if (!copy)
		return -ENOMEM;
	r = mkdir_p(root);
	if (r == 0) {
		char p[PATH_MAX];
		/* What an empty machine has: the directories every kernel
		 * makes, even without devices. */
		const char *dirs[] = {"sys/bus/pci/devices",
				      "sys/bus/pci/drivers",
				      "sys/kernel/iommu_groups",
				      "sys/class/iommu",
				      "proc",
				      "dev/vfio",
				      "run"};
		for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs) && !r;
		     i++) {
			snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
			r = mkdir_p(p);
		}
		if (r == 0)
			r = fakesys_put(root, "sys/bus/pci/drivers_probe", "");
	}
	for (line = strtok_r(copy, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = line;
		ln++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (!strncmp(p, "driver ", 7)) {
			char d[PATH_MAX];
			snprintf(d, sizeof(d), "%s/sys/bus/pci/drivers/%s",
				 root, p + 7);
			r = mkdir_p(d);
			/* xen-pciback's lists (tests/fakekernel.c). */
			if (r == 0 && !strcmp(p + 7, "pciback"))
				r = fakesys_put(root,
						"sys/bus/pci/drivers/pciback/"
						"slots",
						"");
			if (r == 0 && !strcmp(p + 7, "pciback"))
				r = fakesys_put(root,
						"sys/bus/pci/drivers/pciback/"
						"permissive",
						"");
		} else if (!strncmp(p, "cmdline ", 8)) {
			r = putf(root, "proc/cmdline", "%s\n", p + 8);
		} else if (!strncmp(p, "file ", 5)) {
			/* file PATH TEXT: any file, such as DMI or osrelease */
			char *path = p + 5, *text = strchr(path, ' ');
			if (text)
				*text++ = '\0';
			r = putf(root, path, "%s\n", text ? text : "");
		} else if (!strncmp(p, "link ", 5)) {
			/* link PATH TARGET: a symlink with the target as given,
			 * such as /proc/PID/fd/N -> /dev/nvidia0 */
			char *path = p + 5, *target = strchr(path, ' '),
			     l[PATH_MAX];
			if (!target) {
				snprintf(err, n,
					 "spec line %d: link PATH TARGET", ln);
				r = -EINVAL;
				continue;
			}
			*target++ = '\0';
			r = fakesys_put(root, path, "");
			snprintf(l, sizeof(l), "%s/%s", root, path);
			if (r == 0 && (unlink(l) < 0 || symlink(target, l) < 0))
				r = -errno;
		} else if (!strncmp(p, "iommu ", 6)) {
			char d[PATH_MAX];
			snprintf(d, sizeof(d), "%s/sys/class/iommu/%s", root,
				 p + 6);
			r = mkdir_p(d);
		} else {
			struct dev d;
			r = parse_dev(p, &d, err, n, ln);
			if (r == 0 && (!d.vendor && !d.device)) {
				snprintf(err, n, "spec line %d: id= missing",
					 ln);
				r = -EINVAL;
			}
			if (r == 0) {
				r = build_dev(root, &d);
				if (r < 0)
					snprintf(err, n, "spec line %d: %s", ln,
						 strerror(-r));
			}
		}
	}
	free(copy);
	return r;
}

char *fakesys_mkroot(void)
{
	const char *t = getenv("TMPDIR");
	char *p = NULL;

	if (asprintf(&p, "%s/vfio-hooks-test.XXXXXX", t && *t ? t : "/tmp") < 0)
		return NULL;
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) < 0 ? -1 : 0;
}

int fakesys_rmrf(const char *root)
{
	return nftw(root, rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}
