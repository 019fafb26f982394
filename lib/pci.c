/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "pci.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* The value of exactly @n (at most 8) hex digits at @s, or -1. */
static long long hexrun(const char *s, size_t n)
{
	long long v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int x = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (x < 0)
			return -1;
		v = v * 16 + x;
	}
	return v;
}

int vh_pci_addr_parse(const char *s, struct vh_pci_addr *ret)
{
	long long d = 0, b, sl;
	size_t len;

	if (!s)
		return -EINVAL;
	/* DDDD:BB:SS.F or BB:SS.F, nothing else (no sign, 0x or blank) */
	len = strlen(s);
	if (len == 12 && s[4] == ':') {
		d = hexrun(s, 4);
		s += 5;
		len -= 5;
	}
	if (len != 7 || d < 0 || s[2] != ':' || s[5] != '.' || (b = hexrun(s, 2)) < 0 ||
	    (sl = hexrun(s + 3, 2)) < 0 || !isdigit((unsigned char)s[6]))
		return -EINVAL;
	if (sl > 0x1f || s[6] > '7')
		return -ERANGE;
	*ret = (struct vh_pci_addr){(unsigned)d, (unsigned)b, (unsigned)sl, (unsigned)(s[6] - '0')};
	return 0;
}

int vh_pci_addr_parse_qemu(const char *s, struct vh_pci_addr *ret)
{
	unsigned long v[3], fn;
	const char *p = s;
	char *e;
	int n = 0;

	if (!s)
		return -EINVAL;
	/* QEMU reads each field with strtoul and checks only that it took
	 * something: the same calls take the same text (blanks, a sign, a 0x
	 * prefix) and wrap it the same way ("-ffffffffffffffff" is 1).
	 * Fields before the '.': two (bus:slot) or three (domain:bus:slot). */
	for (;;) {
		v[n++] = strtoul(p, &e, 16);
		if (e == p)
			return -EINVAL;
		if (*e != ':' || n == 3)
			break;
		p = e + 1;
	}
	if (n < 2 || *e != '.')
		return -EINVAL;
	p = e + 1;
	fn = strtoul(p, &e, 10); /* base 10: "0x7" and "a" are refused */
	if (e == p || *e)
		return -EINVAL;
	if ((n == 3 && v[0] > 0xffff) || v[n - 2] > 0xff || v[n - 1] > 0x1f || fn > 7)
		return -ERANGE;
	*ret = (struct vh_pci_addr){n == 3 ? (uint32_t)v[0] : 0, (uint32_t)v[n - 2],
				    (uint32_t)v[n - 1], (uint32_t)fn};
	return 0;
}

const char *vh_pci_addr_invalid(const struct vh_pci_addr *a)
{
	if (a->domain > 0xffff)
		return "domain must be <= 0xffff";
	if (a->bus > 0xff)
		return "bus must be <= 0xff";
	if (a->slot > 0x1f)
		return "slot must be <= 0x1f";
	if (a->function > 7)
		return "function must be <= 7";
	/* No refusal of 0000:00:00.x: libvirt takes it as a hostdev source
	 * (the first zPCI function on s390x); what is there is the host-side
	 * rules' business. */
	return NULL;
}

void vh_pci_json_group(struct vh_buf *o, int iommu_group, const struct vh_pci_addr *members, int n)
{
	char a[VH_PCI_ADDR_LEN];

	if (iommu_group >= 0)
		vh_buf_printf(o, "\"iommu_group\":%d,", iommu_group);
	else
		vh_buf_puts(o, "\"iommu_group\":null,");
	vh_buf_puts(o, "\"group_members\":[");
	for (int g = 0; g < n; g++) {
		vh_pci_addr_format(&members[g], a);
		vh_buf_printf(o, "%s\"%s\"", g ? "," : "", a);
	}
	vh_buf_puts(o, "]");
}

void vh_pci_addr_format(const struct vh_pci_addr *a, char buf[VH_PCI_ADDR_LEN])
{
	/* "%04x:%02x:%02x.%x", by hand: formatted for every sysfs path. */
	static const char hx[] = "0123456789abcdef";
	unsigned v[] = {a->domain & 0xffff, a->bus & 0xff, a->slot & 0x1f};
	char *p = buf;

	for (int i = 3; i >= 0; i--)
		*p++ = hx[(v[0] >> (4 * i)) & 0xf];
	for (int f = 1; f < 3; f++) {
		*p++ = ':';
		*p++ = hx[v[f] >> 4];
		*p++ = hx[v[f] & 0xf];
	}
	*p++ = '.';
	*p++ = hx[a->function & 7];
	*p = '\0';
}

bool vh_pci_addr_eq(const struct vh_pci_addr *a, const struct vh_pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot &&
	       a->function == b->function;
}

/* Config space offsets and capability ids (PCI Local Bus 3.0, PCIe 4.0). */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_HEADER_TYPE 0x0e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CB_CAPABILITY_LIST 0x14
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11
#define PCI_EXT_CAP_ID_SRIOV 0x10

static unsigned rd8(const uint8_t *c, size_t len, size_t off)
{
	return off < len ? c[off] : 0;
}
static unsigned rd16(const uint8_t *c, size_t len, size_t off)
{
	return rd8(c, len, off) | rd8(c, len, off + 1) << 8;
}
static uint32_t rd32(const uint8_t *c, size_t len, size_t off)
{
	return (uint32_t)rd16(c, len, off) | (uint32_t)rd16(c, len, off + 2) << 16;
}

int vh_pci_caps_parse(const uint8_t *cfg, size_t len, struct vh_pci_caps *ret)
{
	struct vh_pci_caps c = {0};
	unsigned pos;
	int guard;

	if (len < 64)
		return -EBADMSG;
	c.readable = true;
	c.header_type = (uint8_t)(rd8(cfg, len, PCI_HEADER_TYPE) & 0x7f);
	c.has_list = rd16(cfg, len, PCI_STATUS) & PCI_STATUS_CAP_LIST;
	if (c.has_list) {
		pos = rd8(cfg, len,
			  c.header_type == 2 ? PCI_CB_CAPABILITY_LIST : PCI_CAPABILITY_LIST);
		/* 48 is the most capabilities that fit in 192 bytes. */
		for (guard = 0; guard < 48 && pos >= 0x40; guard++) {
			unsigned id, ctrl;
			pos &= ~3u;
			if (pos + 4 > len)
				break;
			id = rd8(cfg, len, pos);
			ctrl = rd16(cfg, len, pos + 2);
			switch (id) {
			case PCI_CAP_ID_MSI:
				c.msi_vectors = 1u << ((ctrl >> 1) & 7);
				/* 110b and 111b are reserved encodings. */
				if (c.msi_vectors > 32)
					c.msi_vectors = 32;
				c.msi_64bit = ctrl & 0x80;
				c.msi_maskable = ctrl & 0x100;
				break;
			case PCI_CAP_ID_MSIX:
				c.msix_vectors = (ctrl & 0x7ff) + 1;
				break;
			case PCI_CAP_ID_EXP:
				c.pcie = true;
				c.pcie_type = (ctrl >> 4) & 0xf;
				break;
			default:
				break;
			}
			pos = rd8(cfg, len, pos + 1);
		}
	}
	if (len >= 0x100 + 4 && c.pcie) {
		c.ext_read = true;
		pos = 0x100;
		/* (4096 - 256) / 4 headers at most. */
		for (guard = 0; guard < 960 && pos >= 0x100; guard++) {
			uint32_t h;
			pos &= ~3u;
			if (pos + 4 > len)
				break;
			h = rd32(cfg, len, pos);
			if (h == 0 || h == 0xffffffff)
				break;
			if ((h & 0xffff) == PCI_EXT_CAP_ID_SRIOV && pos + 0x1c <= len) {
				c.sriov = true;
				c.sriov_initial = rd16(cfg, len, pos + 0x0c);
				c.sriov_total = rd16(cfg, len, pos + 0x0e);
				c.sriov_num = rd16(cfg, len, pos + 0x10);
				c.sriov_offset = rd16(cfg, len, pos + 0x14);
				c.sriov_stride = rd16(cfg, len, pos + 0x16);
				c.sriov_vf_device = rd16(cfg, len, pos + 0x1a);
			}
			pos = h >> 20;
		}
	}
	*ret = c;
	return 0;
}

bool vh_pcie_type_is_bridge(unsigned type)
{
	/* Root port 4, upstream 5, downstream 6, PCIe-to-PCI 7, PCI-to-PCIe
	 * 8, event collector 10 is not a bridge but not assignable either. */
	return type >= 4 && type <= 8;
}

bool vh_pci_dev_is_bridge(const struct vh_pci_dev *d)
{
	/* VFIO treats every function whose header is not type 0 as an
	 * interconnect device that may share a group with assigned ones. */
	if (d->caps.readable)
		return d->caps.header_type != 0;
	return (d->class >> 8) == 0x0604 || (d->class >> 8) == 0x0609;
}

bool vh_pci_dev_is_chipset_bridge(const struct vh_pci_dev *d)
{
	return (d->class >> 8) == 0x0600 || (d->class >> 8) == 0x0601;
}

bool vh_pci_dev_is_chipset(const struct vh_sys *sys, const struct vh_pci_dev *d)
{
	char t[PATH_MAX];
	const char *parent;
	char *slash;

	if (d->caps.pcie)
		return d->caps.pcie_type == 9 || d->caps.pcie_type == 10;
	/* ../../../devices/pci0000:00/0000:00:1f.3: the parent directory
	 * is the root bus itself. */
	if (vh_sys_readlink(sys, t, sizeof(t), "/sys/bus/pci/devices/%s", d->name) < 0)
		return false;
	slash = strrchr(t, '/');
	if (!slash)
		return false;
	*slash = '\0';
	parent = strrchr(t, '/');
	parent = parent ? parent + 1 : t;
	return strncmp(parent, "pci", 3) == 0;
}

static void note_err(struct vh_pci_dev *d, int r, const char *fmt, ...) _printf_(3, 4);
static void note_err(struct vh_pci_dev *d, int r, const char *fmt, ...)
{
	va_list ap;

	if (d->err)
		return;
	d->err = r;
	va_start(ap, fmt);
	vsnprintf(d->err_file, sizeof(d->err_file), fmt, ap);
	va_end(ap);
}

#define DEV "/sys/bus/pci/devices/%s/"

static unsigned long long read_id(const struct vh_sys *sys, struct vh_pci_dev *d, const char *attr,
				  unsigned long long max)
{
	unsigned long long v = 0;
	int r;

	r = vh_sys_read_uint(sys, &v, DEV "%s", d->name, attr);
	if (r < 0 || v > max) {
		note_err(d, r < 0 ? r : -EBADMSG, DEV "%s", d->name, attr);
		return 0;
	}
	return v;
}

static int read_optional_int(const struct vh_sys *sys, struct vh_pci_dev *d, const char *attr)
{
	unsigned long long v;
	int r;

	r = vh_sys_read_uint(sys, &v, DEV "%s", d->name, attr);
	if (r == -ENOENT)
		return -1;
	if (r < 0 || v > 0xffff) {
		note_err(d, r < 0 ? r : -EBADMSG, DEV "%s", d->name, attr);
		return -1;
	}
	return (int)v;
}

/* "pci:vVVVVVVVVdDDDDDDDDsvSSSSSSSSsdTTTTTTTTbcBBscSSiII" (hex digits of
 * either case: older kernels print the interface byte in lower case). */
static int modalias_parse(const char *s, struct vh_pci_dev *d)
{
	static const struct {
		const char *tag;
		unsigned digits;
	} f[] = {{"pci:v", 8}, {"d", 8}, {"sv", 8}, {"sd", 8}, {"bc", 2}, {"sc", 2}, {"i", 2}};
	long long v[ELEMENTSOF(f)];

	for (size_t i = 0; i < ELEMENTSOF(f); i++) {
		size_t l = strlen(f[i].tag);
		if (strncmp(s, f[i].tag, l) != 0)
			return -EBADMSG;
		s += l;
		v[i] = hexrun(s, f[i].digits);
		if (v[i] < 0 || (i < 4 && v[i] > 0xffff))
			return -EBADMSG;
		s += f[i].digits;
	}
	if (*s)
		return -EBADMSG;
	d->vendor = (uint16_t)v[0];
	d->device = (uint16_t)v[1];
	d->subsys_vendor = (uint16_t)v[2];
	d->subsys_device = (uint16_t)v[3];
	d->class = (uint32_t)(v[4] << 16 | v[5] << 8 | v[6]);
	return 0;
}

int vh_pci_dev_read(const struct vh_sys *sys, const struct vh_pci_addr *addr,
		    struct vh_pci_dev *ret)
{
	struct vh_pci_dev d = {
	    .addr = *addr, .iommu_group = -1, .read_by = sys, .sys_writes = vh_sys_writes(sys)};
	uint8_t cfg[4096];
	unsigned long long v = 0;
	char grp[32], alias[80];
	size_t len;
	int r;

	vh_pci_addr_format(addr, d.name);
	/* The IDs and the class in one read: modalias prints the same fields
	 * of the kernel's pci_dev as vendor, device, subsystem_vendor,
	 * subsystem_device and class (drivers/pci/pci-sysfs.c, since 2.6.12):
	 * 3 system calls instead of 15.  A device that has one exists. */
	if (vh_sys_read_str(sys, alias, sizeof(alias), DEV "modalias", d.name) == 0 &&
	    modalias_parse(alias, &d) == 0) {
		d.present = true;
		goto ids_read;
	}
	/* Else the five files; its vendor first: a device that has one
	 * exists (one stat saved). */
	r = vh_sys_read_uint(sys, &v, DEV "vendor", d.name);
	if (r < 0) {
		int x = vh_sys_exists(sys, DEV, d.name);
		if (x <= 0) {
			*ret = d;
			if (x < 0)
				note_err(ret, x, DEV, d.name);
			return x < 0 ? x : -ENODEV;
		}
	}
	d.present = true;
	if (r < 0 || v > 0xffff)
		note_err(&d, r < 0 ? r : -EBADMSG, DEV "vendor", d.name);
	else
		d.vendor = (uint16_t)v;
	d.device = (uint16_t)read_id(sys, &d, "device", 0xffff);
	d.class = (uint32_t)read_id(sys, &d, "class", 0xffffff);
	/* Optional on old kernels and some virtual devices. */
	r = read_optional_int(sys, &d, "subsystem_vendor");
	d.subsys_vendor = r > 0 ? (uint16_t)r : 0;
	r = read_optional_int(sys, &d, "subsystem_device");
	d.subsys_device = r > 0 ? (uint16_t)r : 0;
ids_read:

	r = vh_sys_link_name(sys, d.driver, sizeof(d.driver), DEV "driver", d.name);
	if (r < 0 && r != -ENOENT)
		note_err(&d, r, DEV "driver", d.name);

	r = vh_sys_read_str(sys, d.driver_override, sizeof(d.driver_override),
			    DEV "driver_override", d.name);
	if (r < 0 && r != -ENOENT)
		note_err(&d, r, DEV "driver_override", d.name);
	if (streq(d.driver_override, "(null)"))
		d.driver_override[0] = '\0';

	r = vh_sys_link_name(sys, grp, sizeof(grp), DEV "iommu_group", d.name);
	if (r == 0) {
		unsigned long long g;
		if (vh_parse_uint(grp, 10, 0x7fffffff, &g) == 0)
			d.iommu_group = (int)g;
		else
			note_err(&d, -EBADMSG, DEV "iommu_group", d.name);
	} else if (r != -ENOENT) {
		note_err(&d, r, DEV "iommu_group", d.name);
	}

	r = vh_sys_read_str(sys, d.reset_method, sizeof(d.reset_method), DEV "reset_method",
			    d.name);
	if (r == 0)
		d.has_reset_method = true;
	else if (r != -ENOENT)
		note_err(&d, r, DEV "reset_method", d.name);
	/* The kernel shows reset_method and reset together, for a device
	 * with a reset method (sysfs-bus-pci): a method listed is a reset
	 * file there, one stat saved.  Older kernels have reset alone. */
	d.has_reset = d.reset_method[0] || vh_sys_exists(sys, DEV "reset", d.name) > 0;

	{
		char pf[VH_PCI_ADDR_LEN + 8];
		r = vh_sys_link_name(sys, pf, sizeof(pf), DEV "physfn", d.name);
		if (r == 0 && vh_pci_addr_parse(pf, &d.physfn) == 0)
			d.is_vf = true;
	}
	d.sriov_totalvfs = read_optional_int(sys, &d, "sriov_totalvfs");
	/* Both or neither (the SR-IOV capability's attributes). */
	d.sriov_numvfs = d.sriov_totalvfs < 0 ? -1 : read_optional_int(sys, &d, "sriov_numvfs");

	/* The standard 256 bytes of config space hold every capability read
	 * here but SR-IOV's, which is extended: all 4096 for a PF only.  On
	 * a real host every 4 bytes is a read of the device: 64 instead of
	 * 1,024 for each device that is not a PF. */
	r = vh_sys_read_raw(sys, cfg, d.sriov_totalvfs >= 0 ? sizeof(cfg) : 256, &len, DEV "config",
			    d.name);
	if (r == 0)
		r = vh_pci_caps_parse(cfg, len, &d.caps);
	if (r < 0)
		note_err(&d, r, DEV "config", d.name);
	else /* what sysfs's revision shows, read from here at enumeration */
		d.revision = cfg[8];

	*ret = d;
	return 0;
}

int vh_pci_addr_cmp(const void *a, const void *b)
{
	const struct vh_pci_addr *x = a, *y = b;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	if (x->function != y->function)
		return x->function < y->function ? -1 : 1;
	return 0;
}

int vh_pci_addrs_in(const struct vh_sys *sys, struct vh_pci_addr **ret, const char *dir)
{
	char **names = NULL;
	struct vh_pci_addr *v;
	int n, k = 0;

	n = vh_sys_list(sys, &names, "%s", dir);
	if (n < 0)
		return n;
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v) {
		vh_strv_free(names);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		if (vh_pci_addr_parse(names[i], &v[k]) == 0)
			k++;
	vh_strv_free(names);
	qsort(v, (size_t)k, sizeof(*v), vh_pci_addr_cmp);
	*ret = v;
	return k;
}

int vh_iommu_group_members(const struct vh_sys *sys, int group, struct vh_pci_addr **ret)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/sys/kernel/iommu_groups/%d/devices", group);
	return vh_pci_addrs_in(sys, ret, dir);
}

void vh_pci_names(const struct vh_sys *sys, uint16_t vendor, uint16_t device, char *vendor_name,
		  size_t vn, char *model_name, size_t mn)
{
	vh_pci_namer namer = sys ? vh_sys_namer(sys) : NULL;

	vendor_name[0] = model_name[0] = '\0';
	if (namer)
		namer(vendor, device, vendor_name, vn, model_name, mn);
}

/* One "0x..." field of a resource line: hex digits only, at most 16. */
static int bar_field(char **p, unsigned long long *ret)
{
	char tok[24];
	size_t n = 0;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	while (**p && **p != ' ' && **p != '\t') {
		if (n + 1 >= sizeof(tok))
			return -EBADMSG;
		tok[n++] = *(*p)++;
	}
	tok[n] = '\0';
	if (n < 3 || tok[0] != '0' || (tok[1] != 'x' && tok[1] != 'X') ||
	    strspn(tok + 2, "0123456789abcdefABCDEF") != n - 2)
		return -EBADMSG;
	return vh_parse_uint(tok + 2, 16, ULLONG_MAX, ret) < 0 ? -EBADMSG : 0;
}

int vh_pci_bars_read(const struct vh_sys *sys, const struct vh_pci_addr *addr,
		     struct vh_pci_bar ret[VH_PCI_N_BARS], unsigned *ret_line)
{
	struct vh_pci_bar bars[VH_PCI_N_BARS];
	char name[VH_PCI_ADDR_LEN], buf[4096], *line = buf;
	size_t len = 0;
	int n = 0, r;

	vh_pci_addr_format(addr, name);
	r = vh_sys_read_raw(sys, buf, sizeof(buf) - 1, &len, "/sys/bus/pci/devices/%s/resource",
			    name);
	if (r < 0)
		return r;
	buf[len] = '\0';
	for (unsigned i = 0; i < VH_PCI_N_BARS; i++) {
		unsigned long long start, end, flags;
		char *nl = strchr(line, '\n');
		if (!nl && !*line)
			break; /* fewer lines: no more BARs */
		if (nl)
			*nl = '\0';
		if (bar_field(&line, &start) < 0 || bar_field(&line, &end) < 0 ||
		    bar_field(&line, &flags) < 0 || line[strspn(line, " \t")] ||
		    (end < start && (start || end))) {
			if (ret_line)
				*ret_line = i + 1;
			return -EBADMSG;
		}
		line = nl ? nl + 1 : line + strlen(line);
		if (!(flags & VH_IORESOURCE_MEM) || end <= start)
			continue;
		bars[n++] = (struct vh_pci_bar){
		    .index = i,
		    /* end - start + 1 of a whole 64-bit range is 2^64: the
		     * largest size there is. */
		    .size = end - start == ULLONG_MAX ? ULLONG_MAX : end - start + 1,
		    .mem64 = flags & VH_IORESOURCE_MEM_64,
		    .prefetch = flags & VH_IORESOURCE_PREFETCH,
		};
	}
	memcpy(ret, bars, (size_t)n * sizeof(*bars));
	return n;
}
