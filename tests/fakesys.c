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
#include <arpa/inet.h>

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

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
	bool pcie, bridge, short_cfg, nvlink2, boot_vga;
	unsigned pcie_type;
	bool sriov;
	unsigned total, offset, stride, vfdev, numvfs;
	char physfn[16], parent[16];
	/* barN=: the BARs of the resource file (none: no file). */
	struct {
		unsigned long long size;
		bool mem64, pref;
	} bars[6];
	bool has_bars;
};

/* "256M", "32G", "1T", "4K", "4096": a size, powers of 1024. */
static int parse_size(const char *v, unsigned long long *ret)
{
	char *end = NULL;
	unsigned long long n = strtoull(v, &end, 10);
	const char *units = "KMGTP", *u;

	if (end == v || !n)
		return -EINVAL;
	if (*end) {
		u = strchr(units, *end);
		if (!u || end[1])
			return -EINVAL;
		n <<= 10 * (unsigned)(u - units + 1);
	}
	*ret = n;
	return 0;
}

/* barN=[32|64][:pref]:SIZE */
static int parse_bar(struct dev *d, unsigned i, const char *v)
{
	char copy[64], *save = NULL, *p;
	unsigned long long size = 0;
	bool mem64 = false, pref = false;

	if (i >= 6 || strlen(v) >= sizeof(copy))
		return -EINVAL;
	snprintf(copy, sizeof(copy), "%s", v);
	for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
		if (!strcmp(p, "64"))
			mem64 = true;
		else if (!strcmp(p, "32"))
			mem64 = false;
		else if (!strcmp(p, "pref"))
			pref = true;
		else if (parse_size(p, &size) < 0)
			return -EINVAL;
	}
	if (!size || (size & (size - 1)))
		return -EINVAL; /* BARs are powers of two */
	d->bars[i].size = size;
	d->bars[i].mem64 = mem64;
	d->bars[i].pref = pref;
	d->has_bars = true;
	return 0;
}

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
#define LINK(pos)                                                                                  \
	do {                                                                                       \
		if (last)                                                                          \
			*last = (pos);                                                             \
		else                                                                               \
			c[0x34] = (pos);                                                           \
		last = &c[(pos) + 1];                                                              \
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
				for (size_t i = 0; v[i] && i + 1 < sizeof(d->reset); i++)
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
			/* rciep: a root-complex integrated endpoint (type 9) */
			d->pcie_type = !eq ? 0 : !strcmp(v, "rciep") ? 9 : (unsigned)atoi(v);
		} else if (!strcmp(k, "boot_vga")) {
			d->boot_vga = true;
		} else if (!strcmp(k, "bridge")) {
			d->bridge = true;
		} else if (!strcmp(k, "nvlink2")) {
			d->nvlink2 = true;
		} else if (!strcmp(k, "cfg")) {
			d->short_cfg = !strcmp(v, "64");
		} else if (!strcmp(k, "sriov")) {
			d->sriov = true;
			d->offset = d->stride = 1;
			for (char *s2 = NULL, *p = strtok_r((char *)v, ",", &s2); p;
			     p = strtok_r(NULL, ",", &s2)) {
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
		} else if (!strncmp(k, "bar", 3) && k[3] >= '0' && k[3] <= '5' && !k[4]) {
			if (parse_bar(d, (unsigned)(k[3] - '0'), v) < 0)
				goto bad;
		} else if (!strcmp(k, "physfn")) {
			snprintf(d->physfn, sizeof(d->physfn), "%s", v);
		} else if (!strcmp(k, "parent")) {
			snprintf(d->parent, sizeof(d->parent), "%s", v);
		} else {
			goto bad;
		}
		continue;
	bad:
		snprintf(err, n, "spec line %d: bad token '%s%s%s'", ln, k, eq ? "=" : "", v);
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
		snprintf(link, sizeof(link), "%s/sys/bus/pci/devices/%s", root, d->parent);
		k = readlink(link, p, sizeof(p) - 1);
		if (k > 0) {
			p[k] = '\0';
			/* "../../../devices/..." -> "devices/..." */
			snprintf(out, n, "sys/%s/%s", strstr(p, "devices/"), d->addr);
			return;
		}
	}
	snprintf(out, n, "sys/devices/pci%.4s:%.2s/%s", d->addr, d->addr + 5, d->addr);
}

static int build_dev(const char *root, struct dev *d)
{
	char dp[PATH_MAX], rel[PATH_MAX + 64];
	uint8_t cfg[4096];
	size_t len;
	int r = 0;

	dev_path(root, d, dp, sizeof(dp));
#define A(name, ...)                                                                               \
	do {                                                                                       \
		snprintf(rel, sizeof(rel), "%s/%s", dp, name);                                     \
		r = putf(root, rel, __VA_ARGS__);                                                  \
		if (r < 0)                                                                         \
			return r;                                                                  \
	} while (0)
	A("vendor", "0x%04x\n", d->vendor);
	A("device", "0x%04x\n", d->device);
	A("subsystem_vendor", "0x%04x\n", d->sv);
	A("subsystem_device", "0x%04x\n", d->sd);
	A("class", "0x%06x\n", d->cls);
	A("modalias", "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n", d->vendor, d->device, d->sv,
	  d->sd, (d->cls >> 16) & 0xff, (d->cls >> 8) & 0xff, d->cls & 0xff);
	A("revision", "0x%02x\n", d->rev);
	A("driver_override", "%s\n", d->override[0] ? d->override : "(null)");
	if (!d->reset_none) {
		A("reset_method", "%s\n", d->reset);
		A("reset", "%s", "");
	}
	if (d->boot_vga)
		A("boot_vga", "%s", "1\n");
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
	if (d->has_bars) {
		/* Six BARs, the ROM and the bridge windows, as the kernel
		 * writes them (resource_show): naturally aligned addresses,
		 * 64-bit ones high, IORESOURCE_SIZEALIGN with the type. */
		char res[2048];
		size_t k = 0;
		unsigned long long lo = 0xf0000000ULL, hi = 0x38000000000ULL;
		for (unsigned i = 0; i < 13; i++) {
			unsigned long long sz = i < 6 ? d->bars[i].size : 0, start = 0, flags = 0;
			if (sz && d->bars[i].mem64) {
				hi = (hi + sz - 1) & ~(sz - 1);
				start = hi;
				hi += sz;
				flags = 0x140200ULL | (d->bars[i].pref ? 0x200cULL : 0x4ULL);
			} else if (sz) {
				lo = (lo + sz - 1) & ~(sz - 1);
				start = lo;
				lo += sz;
				flags = 0x40200ULL | (d->bars[i].pref ? 0x2008ULL : 0);
			}
			k += (size_t)snprintf(res + k, sizeof(res) - k,
					      "0x%016llx 0x%016llx 0x%016llx\n", start,
					      sz ? start + sz - 1 : 0, flags);
		}
		snprintf(rel, sizeof(rel), "%s/resource", dp);
		r = fakesys_put(root, rel, res);
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
			fprintf(f, "%s %s\n", d->addr, d->driver[0] ? d->driver : "-");
			fclose(f);
		}
	}
	if (d->physfn[0]) {
		char pf[PATH_MAX], link[PATH_MAX], t[PATH_MAX];
		ssize_t k;
		int i;
		snprintf(link, sizeof(link), "%s/sys/bus/pci/devices/%s", root, d->physfn);
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
			snprintf(rel, sizeof(rel), "%s/%s/virtfn%d", root, pf, i);
			if (lstat(rel, &st) < 0)
				break;
		}
		snprintf(rel, sizeof(rel), "%s/virtfn%d", pf, i);
		r = fakesys_link(root, rel, dp);
	}
	return r;
}

/* --- What the host uses below its devices: block devices, mounts, swap,
 * network interfaces and routes, framebuffers (see fakesys.h). --- */

/* The sys/devices/... directory a sys/class (or sys/bus) link points to. */
static int link_dir(const char *root, const char *rel, char *out, size_t n)
{
	char link[PATH_MAX], t[PATH_MAX];
	const char *d;
	ssize_t k;

	snprintf(link, sizeof(link), "%s/%s", root, rel);
	k = readlink(link, t, sizeof(t) - 1);
	if (k <= 0)
		return -ENOENT;
	t[k] = '\0';
	d = strstr(t, "devices/");
	if (!d)
		return -EINVAL;
	snprintf(out, n, "sys/%s", d);
	return 0;
}

static int append(const char *root, const char *rel, const char *header, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int append(const char *root, const char *rel, const char *header, const char *fmt, ...)
{
	char p[PATH_MAX];
	struct stat st;
	va_list ap;
	FILE *f;
	int r;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (stat(p, &st) < 0) {
		r = fakesys_put(root, rel, header ? header : "");
		if (r < 0)
			return r;
	}
	f = fopen(p, "ae");
	if (!f)
		return -errno;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* "key=value" among the tokens after the first two words, or NULL. */
static const char *opt(char **tok, int n, const char *key)
{
	size_t l = strlen(key);

	for (int i = 0; i < n; i++)
		if (!strncmp(tok[i], key, l) && tok[i][l] == '=')
			return tok[i] + l + 1;
	return NULL;
}

static bool flag(char **tok, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(tok[i], key))
			return true;
	return false;
}

static int build_block(const char *root, char **tok, int n)
{
	char dir[PATH_MAX], rel[PATH_MAX + 64];
	const char *name = tok[1], *pci = opt(tok, n, "pci"), *part = opt(tok, n, "part"),
		   *dev = opt(tok, n, "dev"), *dm = opt(tok, n, "dm"),
		   *slaves = opt(tok, n, "slaves");
	int r;

	if (pci) {
		char pd[PATH_MAX];
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", pci);
		r = link_dir(root, rel, pd, sizeof(pd));
		if (r < 0)
			return r;
		snprintf(dir, sizeof(dir), "%s/ata1/host0/target0:0:0/0:0:0:0/block/%s", pd, name);
	} else if (part) {
		char dd[PATH_MAX];
		snprintf(rel, sizeof(rel), "sys/class/block/%s", part);
		r = link_dir(root, rel, dd, sizeof(dd));
		if (r < 0)
			return r;
		snprintf(dir, sizeof(dir), "%s/%s", dd, name);
	} else {
		snprintf(dir, sizeof(dir), "sys/devices/virtual/block/%s", name);
	}
	snprintf(rel, sizeof(rel), "%s/dev", dir);
	r = putf(root, rel, "%s\n", dev ? dev : "0:0");
	if (r == 0 && dm) {
		snprintf(rel, sizeof(rel), "%s/dm/name", dir);
		r = putf(root, rel, "%s\n", dm);
	}
	for (const char *sub = "holders"; r == 0 && sub;
	     sub = streq(sub, "holders") ? "slaves" : NULL) {
		snprintf(rel, sizeof(rel), "%s/%s/%s", root, dir, sub);
		r = mkdir_p(rel);
	}
	snprintf(rel, sizeof(rel), "sys/class/block/%s", name);
	if (r == 0)
		r = fakesys_link(root, rel, dir);
	if (r == 0 && !part) {
		snprintf(rel, sizeof(rel), "sys/block/%s", name);
		r = fakesys_link(root, rel, dir);
	}
	if (slaves) {
		char *copy = strdup(slaves), *save = NULL;
		for (char *sl = strtok_r(copy, ",", &save); sl && r == 0;
		     sl = strtok_r(NULL, ",", &save)) {
			char sd[PATH_MAX];
			snprintf(rel, sizeof(rel), "sys/class/block/%s", sl);
			r = link_dir(root, rel, sd, sizeof(sd));
			if (r < 0)
				break;
			snprintf(rel, sizeof(rel), "%s/holders/%s", sd, name);
			r = fakesys_link(root, rel, dir);
			snprintf(rel, sizeof(rel), "%s/slaves/%s", dir, sl);
			if (r == 0)
				r = fakesys_link(root, rel, sd);
		}
		free(copy);
	}
	return r;
}

static int build_mount(const char *root, char **tok, int n)
{
	char rel[PATH_MAX], dev[32], p[PATH_MAX];
	int r, id = 20;
	FILE *f;

	if (n < 3)
		return -EINVAL;
	snprintf(rel, sizeof(rel), "sys/class/block/%s/dev", tok[1]);
	r = fakesys_get(root, rel, dev, sizeof(dev));
	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "%s/proc/self/mountinfo", root);
	f = fopen(p, "re");
	if (f) {
		int ch;
		while ((ch = fgetc(f)) != EOF)
			id += ch == '\n';
		fclose(f);
	}
	return append(root, "proc/self/mountinfo", NULL,
		      "%d 1 %s / %s rw,relatime shared:%d - %s /dev/%s rw\n", id, dev, tok[2], id,
		      n > 3 ? tok[3] : "ext4", tok[1]);
}

static int build_net(const char *root, char **tok, int n)
{
	char dir[PATH_MAX], rel[PATH_MAX + 64];
	const char *name = tok[1], *pci = opt(tok, n, "pci"), *master = opt(tok, n, "master");
	bool up = flag(tok, n, "up");
	static int ifindex = 2;
	int r;

	if (pci) {
		char pd[PATH_MAX];
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", pci);
		r = link_dir(root, rel, pd, sizeof(pd));
		if (r < 0)
			return r;
		snprintf(dir, sizeof(dir), "%s/net/%s", pd, name);
		snprintf(rel, sizeof(rel), "%s/device", dir);
		r = fakesys_link(root, rel, pd);
		if (r < 0)
			return r;
	} else {
		snprintf(dir, sizeof(dir), "sys/devices/virtual/net/%s", name);
	}
	snprintf(rel, sizeof(rel), "%s/operstate", dir);
	r = putf(root, rel, "%s\n", up ? "up" : "down");
	snprintf(rel, sizeof(rel), "%s/flags", dir);
	if (r == 0)
		r = putf(root, rel, "%s\n", up ? "0x1003" : "0x1002");
	snprintf(rel, sizeof(rel), "%s/ifindex", dir);
	if (r == 0)
		r = putf(root, rel, "%d\n", ifindex++);
	snprintf(rel, sizeof(rel), "sys/class/net/%s", name);
	if (r == 0)
		r = fakesys_link(root, rel, dir);
	if (r == 0 && master) {
		char md[PATH_MAX];
		snprintf(rel, sizeof(rel), "sys/class/net/%s", master);
		r = link_dir(root, rel, md, sizeof(md));
		snprintf(rel, sizeof(rel), "%s/master", dir);
		if (r == 0)
			r = fakesys_link(root, rel, md);
		snprintf(rel, sizeof(rel), "%s/upper_%s", dir, master);
		if (r == 0)
			r = fakesys_link(root, rel, md);
		snprintf(rel, sizeof(rel), "%s/lower_%s", md, name);
		if (r == 0)
			r = fakesys_link(root, rel, dir);
	}
	return r;
}

static int add_route6(const char *root, const char *ifname, const struct in6_addr *dest,
		      unsigned plen, const struct in6_addr *gw)
{
	char d[33], g[33];

	for (int i = 0; i < 16; i++) {
		snprintf(d + 2 * i, 3, "%02x", dest->s6_addr[i]);
		snprintf(g + 2 * i, 3, "%02x", gw ? gw->s6_addr[i] : 0);
	}
	return append(root, "proc/net/ipv6_route", NULL,
		      "%s %02x 00000000000000000000000000000000 00 %s "
		      "00000100 00000001 00000000 %08x %8s\n",
		      d, plen, g, gw ? 0x3u : 0x1u, ifname);
}

static int add_route4(const char *root, const char *ifname, uint32_t dest, uint32_t gw,
		      unsigned plen)
{
	uint32_t mask = plen ? htonl(~0u << (32 - plen)) : 0;

	return append(root, "proc/net/route",
		      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\t"
		      "Metric\tMask\t\tMTU\tWindow\tIRTT\n",
		      "%s\t%08X\t%08X\t%04X\t0\t0\t%d\t%08X\t0\t0\t0\n", ifname, dest & mask, gw,
		      gw ? 0x3 : 0x1, gw ? 100 : 0, mask);
}

/* route IF DEST/PLEN|default [via GW]; addr IF ADDR/PLEN: an IPv6 address
 * in if_inet6, and for either family the link route the kernel adds. */
static int build_route(const char *root, char **tok, int n, bool addr)
{
	char dst[64];
	const char *via = n >= 5 && streq(tok[3], "via") ? tok[4] : NULL;
	unsigned plen = 0;
	char *slash;

	if (n < 3)
		return -EINVAL;
	snprintf(dst, sizeof(dst), "%s", tok[2]);
	slash = strchr(dst, '/');
	if (slash) {
		*slash = '\0';
		plen = (unsigned)atoi(slash + 1);
	}
	if (streq(dst, "default"))
		snprintf(dst, sizeof(dst), "%s", via && strchr(via, ':') ? "::" : "0.0.0.0");
	if (strchr(dst, ':')) {
		struct in6_addr d, g, net;
		int r;
		if (inet_pton(AF_INET6, dst, &d) != 1 || (via && inet_pton(AF_INET6, via, &g) != 1))
			return -EINVAL;
		net = d;
		for (unsigned i = plen; i < 128; i++)
			net.s6_addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
		r = add_route6(root, tok[1], &net, plen, via ? &g : NULL);
		if (r == 0 && addr) {
			char h[33];
			for (int i = 0; i < 16; i++)
				snprintf(h + 2 * i, 3, "%02x", d.s6_addr[i]);
			r = append(root, "proc/net/if_inet6", NULL, "%s %08x %02x %02x %02x %8s\n",
				   h, 2, plen, d.s6_addr[0] == 0xfe ? 0x20 : 0, 0x80, tok[1]);
		}
		return r;
	} else {
		struct in_addr d, g = {0};
		if (inet_pton(AF_INET, dst, &d) != 1 || (via && inet_pton(AF_INET, via, &g) != 1))
			return -EINVAL;
		return add_route4(root, tok[1], d.s_addr, g.s_addr, plen);
	}
}

static int build_fb(const char *root, char **tok, int n)
{
	char pd[PATH_MAX], rel[PATH_MAX + 64], dir[PATH_MAX + 32];
	const char *pci = opt(tok, n, "pci");
	int r;

	if (!pci)
		return -EINVAL;
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", pci);
	r = link_dir(root, rel, pd, sizeof(pd));
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/graphics/%s", pd, tok[1]);
	snprintf(rel, sizeof(rel), "%s/dev", dir);
	r = putf(root, rel, "29:%s\n", tok[1] + 2);
	snprintf(rel, sizeof(rel), "sys/class/graphics/%s", tok[1]);
	return r < 0 ? r : fakesys_link(root, rel, dir);
}

/* The console on the framebuffer: vtcon1 is fbcon, bound. */
static int build_fbcon(const char *root)
{
	int r =
	    fakesys_put(root, "sys/devices/virtual/vtconsole/vtcon0/name", "(S) dummy device\n");
	if (r == 0)
		r = fakesys_put(root, "sys/devices/virtual/vtconsole/vtcon0/bind", "0\n");
	if (r == 0)
		r = fakesys_put(root, "sys/devices/virtual/vtconsole/vtcon1/name",
				"(M) frame buffer device\n");
	if (r == 0)
		r = fakesys_put(root, "sys/devices/virtual/vtconsole/vtcon1/bind", "1\n");
	if (r == 0)
		r = fakesys_link(root, "sys/class/vtconsole/vtcon0",
				 "sys/devices/virtual/vtconsole/vtcon0");
	if (r == 0)
		r = fakesys_link(root, "sys/class/vtconsole/vtcon1",
				 "sys/devices/virtual/vtconsole/vtcon1");
	return r;
}

/* One of the lines above: split into words, dispatched by the first. */
static int build_use(const char *root, char *line, char *err, size_t en, int ln)
{
	char *tok[16] = {0}, *save = NULL;
	int n = 0, r;

	for (char *t = strtok_r(line, " \t", &save); t && n < 16; t = strtok_r(NULL, " \t", &save))
		tok[n++] = t;
	if (!n)
		r = -EINVAL;
	else if (streq(tok[0], "fbcon"))
		r = build_fbcon(root);
	else if (n < 2)
		r = -EINVAL;
	else if (streq(tok[0], "block"))
		r = build_block(root, tok, n);
	else if (streq(tok[0], "mount"))
		r = build_mount(root, tok, n);
	else if (streq(tok[0], "swap"))
		r = append(root, "proc/swaps",
			   "Filename\t\t\t\tType\t\tSize\t\tUsed\t\t"
			   "Priority\n",
			   "/dev/%s                               partition\t"
			   "8388604\t\t0\t\t-2\n",
			   tok[1]);
	else if (streq(tok[0], "net"))
		r = build_net(root, tok, n);
	else if (streq(tok[0], "route") || streq(tok[0], "addr"))
		r = build_route(root, tok, n, streq(tok[0], "addr"));
	else
		r = build_fb(root, tok, n);
	if (r < 0)
		snprintf(err, en, "spec line %d: %s: %s", ln, tok[0], strerror(-r));
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
		for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs) && !r; i++) {
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
			snprintf(d, sizeof(d), "%s/sys/bus/pci/drivers/%s", root, p + 7);
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
			if (text) {
				/* "\n" in TEXT is a line break (dpkg's status). */
				char *o = ++text;
				text[-1] = '\0';
				for (char *i = text; *i; i++, o++) {
					bool nl = i[0] == '\\' && i[1] == 'n';
					*o = nl ? '\n' : *i;
					i += nl;
				}
				*o = '\0';
			}
			r = putf(root, path, "%s\n", text ? text : "");
		} else if (!strncmp(p, "link ", 5)) {
			/* link PATH TARGET: a symlink with the target as given,
			 * such as /proc/PID/fd/N -> /dev/nvidia0 */
			char *path = p + 5, *target = strchr(path, ' '), l[PATH_MAX];
			if (!target) {
				snprintf(err, n, "spec line %d: link PATH TARGET", ln);
				r = -EINVAL;
				continue;
			}
			*target++ = '\0';
			r = fakesys_put(root, path, "");
			snprintf(l, sizeof(l), "%s/%s", root, path);
			if (r == 0 && (unlink(l) < 0 || symlink(target, l) < 0))
				r = -errno;
		} else if (!strncmp(p, "block ", 6) || !strncmp(p, "mount ", 6) ||
			   !strncmp(p, "swap ", 5) || !strncmp(p, "net ", 4) ||
			   !strncmp(p, "route ", 6) || !strncmp(p, "addr ", 5) ||
			   !strncmp(p, "fb ", 3) || !strcmp(p, "fbcon")) {
			r = build_use(root, p, err, n, ln);
		} else if (!strncmp(p, "iommu ", 6)) {
			char d[PATH_MAX];
			snprintf(d, sizeof(d), "%s/sys/class/iommu/%s", root, p + 6);
			r = mkdir_p(d);
		} else {
			struct dev d;
			r = parse_dev(p, &d, err, n, ln);
			if (r == 0 && (!d.vendor && !d.device)) {
				snprintf(err, n, "spec line %d: id= missing", ln);
				r = -EINVAL;
			}
			if (r == 0) {
				r = build_dev(root, &d);
				if (r < 0)
					snprintf(err, n, "spec line %d: %s", ln, strerror(-r));
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

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
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
