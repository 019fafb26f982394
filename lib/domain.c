/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "domain.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "xml.h"

enum vh_machine vh_machine_classify(const char *m)
{
	if (!m || !*m)
		return VH_MACHINE_NONE;
	if (streq(m, "q35") || strncmp(m, "pc-q35-", 7) == 0)
		return VH_MACHINE_Q35;
	/* "pc", "pc-i440fx-*" and the pre-1.x "pc-0.x"/"pc-1.x" names. */
	if (streq(m, "pc") || strncmp(m, "pc-i440fx-", 10) == 0 || strncmp(m, "pc-0.", 5) == 0 ||
	    strncmp(m, "pc-1.", 5) == 0)
		return VH_MACHINE_I440FX;
	return VH_MACHINE_OTHER;
}

bool vh_domain_is_x86(const struct vh_domain *d)
{
	return !d->arch || streq(d->arch, "x86_64") || streq(d->arch, "i686") ||
	       streq(d->arch, "i386");
}

bool vh_domain_is_qemu_hvm(const struct vh_domain *d)
{
	return (!d->virt_type || streq(d->virt_type, "kvm") || streq(d->virt_type, "qemu")) &&
	       (!d->os_type || streq(d->os_type, "hvm"));
}

bool vh_domain_is_xen(const struct vh_domain *d)
{
	return streq(d->virt_type, "xen");
}

bool vh_domain_is_xen_pv(const struct vh_domain *d)
{
	return vh_domain_is_xen(d) && !streq(d->os_type, "hvm");
}

static enum vh_switch parse_switch(const char *s)
{
	if (!s)
		return VH_ABSENT;
	if (streq(s, "on"))
		return VH_ON;
	if (streq(s, "off"))
		return VH_OFF;
	return VH_BAD;
}

static const struct {
	const char *unit;
	unsigned long long bytes;
} units[] = {
    {"b", 1},
    {"byte", 1},
    {"bytes", 1},
    {"KB", 1000ULL},
    {"k", 1024ULL},
    {"KiB", 1024ULL},
    {"MB", 1000ULL * 1000},
    {"M", 1024ULL * 1024},
    {"MiB", 1024ULL * 1024},
    {"GB", 1000ULL * 1000 * 1000},
    {"G", 1024ULL * 1024 * 1024},
    {"GiB", 1024ULL * 1024 * 1024},
    {"TB", 1000ULL * 1000 * 1000 * 1000},
    {"T", 1024ULL * 1024 * 1024 * 1024},
    {"TiB", 1024ULL * 1024 * 1024 * 1024},
    {"PB", 1000ULL * 1000 * 1000 * 1000 * 1000},
    {"P", 1024ULL * 1024 * 1024 * 1024 * 1024},
    {"PiB", 1024ULL * 1024 * 1024 * 1024 * 1024},
    {"EB", 1000ULL * 1000 * 1000 * 1000 * 1000 * 1000},
    {"E", 1024ULL * 1024 * 1024 * 1024 * 1024 * 1024},
    {"EiB", 1024ULL * 1024 * 1024 * 1024 * 1024 * 1024},
};

int vh_parse_memory_kib(const char *value, const char *unit, unsigned long long *ret)
{
	unsigned long long v, mul = 1024;
	int r;

	if (unit) {
		size_t i;
		for (i = 0; i < ELEMENTSOF(units); i++)
			/* libvirt matches the suffix case-insensitively. */
			if (strcasecmp(unit, units[i].unit) == 0)
				break;
		if (i == ELEMENTSOF(units))
			return -EINVAL;
		mul = units[i].bytes;
		/* "KB" and "k" are different units but compare equal without
		 * case: libvirt takes the first exact spelling, as we do. */
		for (size_t j = 0; j < ELEMENTSOF(units); j++)
			if (streq(unit, units[j].unit))
				mul = units[j].bytes;
	}
	r = vh_parse_uint(value, 10, ULLONG_MAX, &v);
	if (r < 0)
		return r;
	if (v > ULLONG_MAX / mul)
		return -ERANGE;
	v *= mul;
	*ret = v / 1024 + (v % 1024 != 0);
	return 0;
}

int vh_parse_qemu_size_kib(const char *s, unsigned long long *ret)
{
	static const char suffixes[] = "BKMGTPE";
	unsigned long long whole = 0, frac = 0, frac_den = 1, mul, bytes, part;
	const char *p = s, *sfx;
	bool digits = false;

	if (!s)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		if (whole > (ULLONG_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (unsigned long long)(*p - '0');
	}
	if (*p == '.') {
		/* Up to 18 fraction digits are exact; more are dropped. */
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true)
			if (frac_den < 1000000000000000000ULL) {
				frac = frac * 10 + (unsigned long long)(*p - '0');
				frac_den *= 10;
			}
	}
	if (!digits)
		return -EINVAL;
	mul = 1024ULL * 1024; /* MiB without a suffix */
	if (*p) {
		sfx = strchr(suffixes, toupper((unsigned char)*p));
		if (!sfx || p[1])
			return -EINVAL;
		mul = 1ULL << (10 * (sfx - suffixes)); /* B=1 ... E=2^60 */
	}
	if (__builtin_mul_overflow(whole, mul, &bytes))
		return -ERANGE;
	/* frac/frac_den of @mul, rounded up; mul <= 2^60 and frac_den <=
	 * 10^18 keep the product in 128 bits. */
	part = (unsigned long long)(((unsigned __int128)frac * mul + frac_den - 1) / frac_den);
	if (__builtin_add_overflow(bytes, part, &bytes))
		return -ERANGE;
	*ret = bytes / 1024 + (bytes % 1024 != 0);
	return 0;
}

/* Append at most @max bytes of @s to @t (@n bytes, @k used), cut to fit;
 * returns the new length. */
static size_t cat(char *t, size_t n, size_t k, const char *s, size_t max)
{
	size_t l = strnlen(s, max);

	if (l > n - 1 - k)
		l = n - 1 - k;
	memcpy(t + k, s, l);
	t[k + l] = '\0';
	return k + l;
}

void vh_hostdev_set_address(struct vh_hostdev *h, const char *domain, const char *bus,
			    const char *slot, const char *function)
{
	const char *names[] = {"domain", "bus", "slot", "function"};
	const char *vals[] = {domain, bus, slot, function};
	const unsigned long long max[] = {0xffff, 0xff, 0x1f, 7};
	unsigned long long v[4] = {0};
	const char *why;

	{
		/* domain='0x0000' bus='0x01' ...: each value cut at 16. */
		char *t = h->addr_text;
		size_t k = 0, n = sizeof(h->addr_text);
		for (int i = 0; i < 4; i++) {
			if (!vals[i])
				continue;
			if (k)
				k = cat(t, n, k, " ", 1);
			k = cat(t, n, k, names[i], 16);
			k = cat(t, n, k, "='", 2);
			k = cat(t, n, k, vals[i], 16);
			k = cat(t, n, k, "'", 1);
		}
		if (!k)
			vh_strlcpy(t, "(empty)", n);
	}
	h->addr_ok = false;
	for (int i = 0; i < 4; i++) {
		int r;
		if (!vals[i])
			continue; /* libvirt defaults a missing part to 0 */
		/* Base 0 as libvirt: 0x1b is hex, 27 decimal, 033 octal. */
		r = vh_parse_uint(vals[i], 0, 0xffffffffULL, &v[i]);
		if (r == -EINVAL) {
			snprintf(h->addr_error, sizeof(h->addr_error),
				 "%s='%.32s' is not a number (write it as hex with 0x, or decimal)",
				 names[i], vals[i]);
			return;
		}
		if (r < 0 || v[i] > max[i]) {
			snprintf(h->addr_error, sizeof(h->addr_error),
				 "%s='%.32s' is out of range (at most 0x%llx)", names[i], vals[i],
				 max[i]);
			return;
		}
	}
	h->addr =
	    (struct vh_pci_addr){(uint32_t)v[0], (uint32_t)v[1], (uint32_t)v[2], (uint32_t)v[3]};
	why = vh_pci_addr_invalid(&h->addr);
	if (why) {
		snprintf(h->addr_error, sizeof(h->addr_error), "%s", why);
		return;
	}
	h->addr_ok = true;
}

static int add_hostdev(struct vh_domain *d, xmlNode *n, bool is_iface)
{
	xmlNode *src = vh_xml_child(n, "source");
	xmlNode *a = vh_xml_child(src, "address");
	_cleanup_free_ char *managed = vh_xml_prop(n, "managed");
	struct vh_hostdev *nh, *h;

	nh = realloc(d->hostdevs, (d->n_hostdevs + 1) * sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	d->hostdevs = nh;
	h = &d->hostdevs[d->n_hostdevs++];
	*h = (struct vh_hostdev){0};
	h->is_interface = is_iface;
	h->line = vh_xml_line(n);
	snprintf(h->origin, sizeof(h->origin), "the %s at line %d",
		 is_iface ? "<interface type='hostdev'>" : "<hostdev>", h->line);
	h->managed = streq(managed, "yes");
	if (!is_iface) {
		_cleanup_free_ char *t = vh_xml_prop(vh_xml_child(n, "address"), "type");
		h->unassigned = streq(t, "unassigned");
	}
	{
		_cleanup_free_ char *drv = vh_xml_prop(vh_xml_child(n, "driver"), "name");
		if (drv)
			vh_strlcpy(h->driver, drv, sizeof(h->driver));
	}
	if (!a) {
		snprintf(h->addr_text, sizeof(h->addr_text), "(none)");
		snprintf(h->addr_error, sizeof(h->addr_error),
			 "it has no <source><address .../></source>");
		return 0;
	}
	{
		_cleanup_free_ char *dom = vh_xml_prop(a, "domain");
		_cleanup_free_ char *bus = vh_xml_prop(a, "bus");
		_cleanup_free_ char *slot = vh_xml_prop(a, "slot");
		_cleanup_free_ char *fn = vh_xml_prop(a, "function");
		_cleanup_free_ char *type = vh_xml_prop(a, "type");
		if (is_iface && type && !streq(type, "pci")) {
			d->n_hostdevs--; /* a USB or other non-PCI source */
			return 0;
		}
		vh_hostdev_set_address(h, dom, bus, slot, fn);
	}
	return 0;
}

static int add_netif(struct vh_domain *d, xmlNode *n)
{
	char *net = vh_xml_prop(vh_xml_child(n, "source"), "network");
	struct vh_netif *nv;

	if (!net)
		return 0;
	nv = realloc(d->netifs, (d->n_netifs + 1) * sizeof(*nv));
	if (!nv) {
		free(net);
		return -ENOMEM;
	}
	d->netifs = nv;
	d->netifs[d->n_netifs++] = (struct vh_netif){.network = net, .line = vh_xml_line(n)};
	return 0;
}

static void parse_meta(struct vh_domain *d, xmlNode *meta)
{
	struct vh_domain_meta *m = &d->meta;

	for (xmlNode *top = meta ? meta->children : NULL; top; top = top->next) {
		if (top->type != XML_ELEMENT_NODE || !top->ns ||
		    !streq((const char *)top->ns->href, VH_METADATA_NS))
			continue;
		for (xmlNode *c = top->children; c; c = c->next) {
			if (vh_xml_is(c, "mode")) {
				_cleanup_free_ char *t = vh_xml_text(c);
				if (!t || vh_mode_parse(t, &m->mode) < 0)
					snprintf(
					    m->error, sizeof(m->error),
					    "<mode>%.32s</mode> is not one of enforce, warn, off",
					    t ? t : "");
			} else if (vh_xml_is(c, "mmio-window")) {
				_cleanup_free_ char *size = vh_xml_prop(c, "size");
				unsigned long long kib;
				if (size && vh_parse_qemu_size_kib(size, &kib) == 0 && kib &&
				    kib <= ULLONG_MAX / 1024) {
					m->mmio_window = kib * 1024;
					m->has_mmio_window = true;
				} else {
					snprintf(
					    m->error, sizeof(m->error),
					    "<mmio-window size='%.32s'> is not a size such as 512G or 1T",
					    size ? size : "");
				}
			} else if (vh_xml_is(c, "device")) {
				_cleanup_free_ char *addr = vh_xml_prop(c, "address");
				char *rm = vh_xml_prop(c, "reset-method");
				struct vh_pci_addr pa;
				void *nd;
				/* What the kernel's reset_method takes: names
				 * of a-z and _, separated by spaces; ""
				 * disables. */
				char bad[48] = "";
				if (rm &&
				    (strlen(rm) > 120 ||
				     strspn(rm, "abcdefghijklmnopqrstuvwxyz_ ") != strlen(rm))) {
					snprintf(bad, sizeof(bad), "%.40s", rm);
					for (char *ch = bad; *ch; ch++)
						if ((unsigned char)*ch < 0x20 || *ch == 0x7f)
							*ch = '?';
					snprintf(
					    m->error, sizeof(m->error),
					    "<device reset-method='%s'> is not a list of reset methods (flr, bus, pm, ...)",
					    bad);
					free(rm);
					rm = NULL;
				}
				if (!addr || vh_pci_addr_parse(addr, &pa) < 0) {
					snprintf(
					    m->error, sizeof(m->error),
					    "<device address='%.32s'> is not a PCI address like 0000:01:00.0",
					    addr ? addr : "");
					free(rm);
					continue;
				}
				nd = realloc(m->devices, (m->n_devices + 1) * sizeof(*m->devices));
				if (!nd) {
					free(rm);
					continue;
				}
				m->devices = nd;
				m->devices[m->n_devices] =
				    (typeof(m->devices[0])){.addr = pa, .reset_method = rm};
				snprintf(m->devices[m->n_devices].bad_reset, sizeof(bad), "%s",
					 bad);
				for (xmlNode *k = c->children; k; k = k->next) {
					_cleanup_free_ char *kn = NULL, *kv = NULL;
					if (!vh_xml_is(k, "vf-setting"))
						continue;
					kn = vh_xml_prop(k, "name");
					kv = vh_xml_prop(k, "value");
					if (!vh_setting_ok(kn, kv)) {
						snprintf(
						    m->error, sizeof(m->error),
						    "<vf-setting name='%.32s' value='%.32s'>: a name of a-z, 0-9 and _, a value of letters, digits and ._:-",
						    kn ? kn : "", kv ? kv : "");
						continue;
					}
					(void)vh_settings_set(&m->devices[m->n_devices].vf, kn, kv);
				}
				m->n_devices++;
			}
		}
	}
	/* It goes into logs and messages: no control characters. */
	for (char *ch = m->error; *ch; ch++)
		if ((unsigned char)*ch < 0x20 || *ch == 0x7f)
			*ch = '?';
}

bool vh_nova_ns(const char *href)
{
	size_t l = strlen(VH_NOVA_NS_PREFIX);
	const char *v;
	bool digit = false;

	if (!href || strncmp(href, VH_NOVA_NS_PREFIX, l) != 0)
		return false;
	v = href + l;
	if (!*v || strlen(v) > 15)
		return false;
	/* Digits in groups separated by single dots: "1.1", "2". */
	for (; *v; v++) {
		if (*v >= '0' && *v <= '9')
			digit = true;
		else if (*v == '.' && digit && v[1])
			digit = false;
		else
			return false;
	}
	return digit;
}

/* The first element child of @n named @name in @n's own namespace. */
static xmlNode *same_ns_child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns && n->ns &&
		    streq((const char *)c->ns->href, (const char *)n->ns->href) &&
		    streq((const char *)c->name, name))
			return c;
	return NULL;
}

/* @s into @t (@n bytes), cut to fit (at a whole UTF-8 character: the
 * text goes into JSON), control characters replaced. */
static void copy_shown(char *t, size_t n, const char *s)
{
	if (vh_strlcpy(t, s ? s : "", n) < 0) {
		size_t l = strlen(t), lead = l, want;
		while (lead > 0 && ((unsigned char)t[lead - 1] & 0xc0) == 0x80)
			lead--;
		if (lead > 0 && (unsigned char)t[lead - 1] >= 0xc0) {
			unsigned char c = (unsigned char)t[lead - 1];
			want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (l - (lead - 1) != want)
				t[lead - 1] = '\0';
		}
	}
	for (char *ch = t; *ch; ch++)
		if ((unsigned char)*ch < 0x20 || *ch == 0x7f)
			*ch = '?';
}

/* The first <nova:instance> in Nova's namespace, of any version. */
static void parse_nova(struct vh_domain *d, xmlNode *meta)
{
	struct vh_nova *nv = &d->nova;

	for (xmlNode *top = meta ? meta->children : NULL; top && !nv->present; top = top->next) {
		xmlNode *root, *image;
		_cleanup_free_ char *flavor = NULL, *root_type = NULL, *uuid = NULL;

		if (top->type != XML_ELEMENT_NODE || !top->ns ||
		    !vh_nova_ns((const char *)top->ns->href) ||
		    !streq((const char *)top->name, "instance"))
			continue;
		nv->present = true;
		copy_shown(nv->ns, sizeof(nv->ns), (const char *)top->ns->href);
		flavor = vh_xml_prop(same_ns_child(top, "flavor"), "name");
		copy_shown(nv->flavor, sizeof(nv->flavor), flavor);
		/* The image booted: the root disk's, else (volume-backed, or
		 * Nova 32.0.0's <nova:image>) the image element's. */
		root = same_ns_child(top, "root");
		root_type = vh_xml_prop(root, "type");
		if (streq(root_type, "image"))
			uuid = vh_xml_prop(root, "uuid");
		image = same_ns_child(top, "image");
		if ((!uuid || !uuid[0]) && image) {
			free(uuid);
			uuid = vh_xml_prop(image, "uuid");
		}
		copy_shown(nv->image, sizeof(nv->image), uuid);
	}
}

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
#define MMIO64_MB "opt/ovmf/X-PciMmio64Mb"

/* OVMF's fw_cfg number (QemuFwCfgParseUint32): decimal, or hex with 0x. */
static void set_mmio64_mb(struct vh_domain_fw *fw, const char *v, const char *from, int line)
{
	unsigned long long mb;

	/* OVMF reads it as decimal only (QemuFwCfgParseUint32, not as hex),
	 * and ignores anything else. */
	if (!v || !v[0] || strspn(v, "0123456789") != strlen(v) ||
	    vh_parse_uint(v, 10, 0xffffffffULL, &mb) < 0)
		return;
	fw->has_mmio64_mb = true;
	fw->mmio64_mb = mb;
	snprintf(fw->mmio64_from, sizeof(fw->mmio64_from), "%s at line %d", from, line);
}

/* One -fw_cfg argument, as QEMU reads it: comma-separated key=value
 * items in any order, a first item without '=' being the name. */
static void parse_fw_cfg_arg(struct vh_domain_fw *fw, const char *arg, int line)
{
	_cleanup_free_ char *copy = strdup(arg);
	char *save = NULL, *name = NULL, *string = NULL;
	bool file = false, first = true;

	for (char *it = copy ? strtok_r(copy, ",", &save) : NULL; it;
	     it = strtok_r(NULL, ",", &save), first = false) {
		if (!strncmp(it, "name=", 5))
			name = it + 5;
		else if (!strncmp(it, "string=", 7))
			string = it + 7;
		else if (!strncmp(it, "file=", 5))
			file = true;
		else if (first && !strchr(it, '='))
			name = it;
	}
	if (!streq(name, MMIO64_MB))
		return;
	if (file)
		fw->mmio64_unknown = true;
	else
		set_mmio64_mb(fw, string, "<qemu:commandline>", line);
}

/* <sysinfo type='fwcfg'><entry name='opt/ovmf/X-PciMmio64Mb'>N</entry>, and
 * <qemu:commandline> -fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=N. */
static void parse_fw_cfg(struct vh_domain_fw *fw, xmlNode *root)
{
	for (xmlNode *n = root->children; n; n = n->next) {
		if (vh_xml_is(n, "sysinfo")) {
			_cleanup_free_ char *type = vh_xml_prop(n, "type");
			for (xmlNode *e = n->children; streq(type, "fwcfg") && e; e = e->next) {
				_cleanup_free_ char *name = vh_xml_prop(e, "name");
				_cleanup_free_ char *text = NULL;
				if (!vh_xml_is(e, "entry") || !streq(name, MMIO64_MB))
					continue;
				text = vh_xml_text(e);
				set_mmio64_mb(fw, text, "<sysinfo type='fwcfg'>", vh_xml_line(e));
			}
		} else if (vh_xml_is(n, "commandline") && n->ns &&
			   streq((const char *)n->ns->href, QEMU_NS)) {
			bool after_fw_cfg = false;
			for (xmlNode *a = n->children; a; a = a->next) {
				_cleanup_free_ char *v = NULL;
				if (!vh_xml_is(a, "arg"))
					continue;
				v = vh_xml_prop(a, "value");
				if (v && after_fw_cfg)
					parse_fw_cfg_arg(fw, v, vh_xml_line(a));
				after_fw_cfg = streq(v, "-fw_cfg") || streq(v, "--fw_cfg");
			}
		}
	}
}

static void parse_fw(struct vh_domain *d, xmlNode *root, xmlNode *os, xmlNode *devices)
{
	struct vh_domain_fw *fw = &d->fw;
	xmlNode *cpu = vh_xml_child(root, "cpu"), *pa = vh_xml_child(cpu, "maxphysaddr");

	fw->firmware = vh_xml_prop(os, "firmware");
	fw->loader = vh_xml_text(vh_xml_child(os, "loader"));
	if (cpu) {
		fw->cpu_mode = vh_xml_prop(cpu, "mode");
		if (!fw->cpu_mode)
			fw->cpu_mode = strdup("custom");
		fw->cpu_model = vh_xml_child(cpu, "model") != NULL;
	}
	for (xmlNode *f = cpu ? cpu->children : NULL; f; f = f->next) {
		_cleanup_free_ char *name = vh_xml_prop(f, "name");
		_cleanup_free_ char *policy = vh_xml_prop(f, "policy");
		if (vh_xml_is(f, "feature") && streq(name, "pdpe1gb") &&
		    (!policy || streq(policy, "require") || streq(policy, "force")))
			fw->pdpe1gb = true;
	}
	if (pa) {
		_cleanup_free_ char *mode = vh_xml_prop(pa, "mode");
		_cleanup_free_ char *bits = vh_xml_prop(pa, "bits");
		_cleanup_free_ char *limit = vh_xml_prop(pa, "limit");
		unsigned long long v = 0;
		if (streq(mode, "passthrough") && (!limit || vh_parse_uint(limit, 10, 64, &v) == 0))
			fw->physaddr = VH_PHYSADDR_PASSTHROUGH;
		else if (streq(mode, "emulate") && bits && vh_parse_uint(bits, 10, 64, &v) == 0)
			fw->physaddr = VH_PHYSADDR_EMULATE;
		else
			fw->physaddr = VH_PHYSADDR_BAD;
		fw->physaddr_bits = (unsigned)v;
	}
	for (xmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
		xmlNode *h = vh_xml_child(n, "pcihole64");
		_cleanup_free_ char *text = h ? vh_xml_text(h) : NULL;
		_cleanup_free_ char *unit = h ? vh_xml_prop(h, "unit") : NULL;
		if (vh_xml_is(n, "controller") && text &&
		    vh_parse_memory_kib(text, unit, &fw->pcihole64_kib) == 0)
			fw->has_pcihole64 = true;
	}
	parse_fw_cfg(fw, root);
}

static char *child_prop(xmlNode *n, const char *child, const char *prop)
{
	return vh_xml_prop(vh_xml_child(n, child), prop);
}

/* Read a libvirt memory size (@n's text, or its @attr) with its unit
 * attribute (@unit_attr) into KiB.  A size libvirt would refuse records why
 * in d->mem_error (the first one only) and gives false. */
static bool read_size(struct vh_domain *d, xmlNode *n, const char *attr, const char *unit_attr,
		      unsigned long long max_kib, unsigned long long *ret)
{
	_cleanup_free_ char *val = attr ? vh_xml_prop(n, attr) : vh_xml_text(n);
	_cleanup_free_ char *unit = vh_xml_prop(n, unit_attr);
	unsigned long long v;
	const char *why = NULL;
	int r;

	if (!val)
		return false;
	r = vh_parse_memory_kib(val, unit, &v);
	if (r == -EINVAL && unit && vh_parse_memory_kib(val, NULL, &v) == 0)
		why =
		    "an unknown unit (libvirt takes b, bytes, KB, k, KiB, MB, M, MiB, GB, G, GiB, TB, T, TiB, PB, P, PiB, EB, E, EiB)";
	else if (r == -EINVAL)
		why = "not a whole, non-negative decimal number";
	else if (r < 0 || v > max_kib)
		why = "too large: libvirt refuses it";
	if (why) {
		const char *name = (const char *)n->name;
		char u[40] = "";
		if (unit)
			snprintf(u, sizeof(u), " unit='%.16s'", unit);
		if (d->mem_error[0])
			return false;
		if (attr)
			snprintf(d->mem_error, sizeof(d->mem_error),
				 "<%s %s='%.32s'%s> at line %d is %s", name, attr, val, u,
				 vh_xml_line(n), why);
		else
			snprintf(d->mem_error, sizeof(d->mem_error),
				 "<%s%s>%.32s</%s> at line %d is %s", name, u, val, name,
				 vh_xml_line(n), why);
		return false;
	}
	*ret = v;
	return true;
}

static int parse_memory(struct vh_domain *d, xmlNode *root, xmlNode *devices)
{
	xmlNode *m, *numa;
	unsigned long long v, cells = 0, dimms = 0;
	size_t n_cells = 0, n_devices = 0;

	(void)read_size(d, vh_xml_child(root, "memory"), NULL, "unit", VH_MEMORY_MAX_KIB,
			&d->memory_kib);
	(void)read_size(d, vh_xml_child(root, "maxMemory"), NULL, "unit", VH_MEMORY_MAX_KIB,
			&d->max_memory_kib);
	m = vh_xml_child(vh_xml_child(root, "memtune"), "hard_limit");
	if (read_size(d, m, NULL, "unit", VH_MEMORY_UNLIMITED_KIB, &d->hard_limit_kib))
		d->has_hard_limit = d->hard_limit_kib < VH_MEMORY_UNLIMITED_KIB;
	d->mem_locked = vh_xml_child(vh_xml_child(root, "memoryBacking"), "locked") != NULL;

	numa = vh_xml_child(vh_xml_child(root, "cpu"), "numa");
	for (xmlNode *c = numa ? numa->children : NULL; c; c = c->next)
		n_cells += vh_xml_is(c, "cell");
	for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next)
		n_devices += vh_xml_is(c, "memory");
	if (n_cells) {
		d->numa_cells_kib = calloc(n_cells, sizeof(*d->numa_cells_kib));
		if (!d->numa_cells_kib)
			return -ENOMEM;
	}
	if (n_devices) {
		d->memory_devices = calloc(n_devices, sizeof(*d->memory_devices));
		if (!d->memory_devices)
			return -ENOMEM;
	}

	for (xmlNode *c = numa ? numa->children : NULL; c; c = c->next)
		if (vh_xml_is(c, "cell") &&
		    read_size(d, c, "memory", "unit", VH_MEMORY_MAX_KIB, &v)) {
			d->numa_cells_kib[d->n_numa_cells++] = v;
			if (__builtin_add_overflow(cells, v, &cells))
				cells = ULLONG_MAX;
		}
	for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next) {
		_cleanup_free_ char *model = NULL;
		if (!vh_xml_is(c, "memory") ||
		    !read_size(d, vh_xml_child(vh_xml_child(c, "target"), "size"), NULL, "unit",
			       VH_MEMORY_MAX_KIB, &v))
			continue;
		model = vh_xml_prop(c, "model");
		d->memory_devices[d->n_memory_devices++] =
		    (struct vh_memory_device){.size_kib = v, .nvdimm = streq(model, "nvdimm")};
		if (__builtin_add_overflow(dimms, v, &dimms))
			dimms = ULLONG_MAX;
	}

	/* With NUMA cells libvirt replaces <memory> by the cells' sum plus
	 * the memory devices; without, <memory> includes the devices. */
	if (d->n_numa_cells &&
	    (__builtin_add_overflow(cells, dimms, &v) || v > VH_MEMORY_MAX_KIB)) {
		if (!d->mem_error[0])
			snprintf(
			    d->mem_error, sizeof(d->mem_error),
			    "the NUMA cells and memory devices add up to more memory than libvirt accepts");
	} else if (d->n_numa_cells) {
		d->memory_kib = v;
	}
	return 0;
}

/* Every element the code below reads, and nothing else: libvirt's domain
 * XML is mostly other devices (disks, controllers, consoles, channels),
 * and building them would be most of a hook run.  An element whose text
 * is read takes its whole subtree ("/..."), as its text content would. */
const char *const vh_domain_elements[] = {
    "domain/name/...",
    "domain/uuid/...",
    "domain/vcpu/...",
    "domain/memory/...",
    "domain/maxMemory/...",
    "domain/memtune/hard_limit/...",
    "domain/memoryBacking/locked",
    "domain/os/type/...",
    "domain/features/ioapic",
    "domain/features/iommu",
    "domain/cpu/numa/cell",
    "domain/cpu/model",
    "domain/cpu/feature",
    "domain/cpu/maxphysaddr",
    "domain/os/loader/...",
    "domain/sysinfo/entry/...",
    "domain/commandline/arg",
    "domain/devices/controller/pcihole64/...",
    "domain/devices/iommu/driver",
    "domain/devices/hostdev/source/address",
    "domain/devices/hostdev/driver",
    "domain/devices/hostdev/address",
    "domain/devices/emulator/...",
    "domain/devices/interface/source/address",
    "domain/devices/interface/driver",
    "domain/devices/disk",
    "domain/devices/controller",
    "domain/devices/memory/target/size/...",
    "domain/metadata/...",
    NULL,
};

int vh_domain_parse(const char *buf, size_t len, const char *what, struct vh_domain **ret,
		    struct vh_err *e)
{
	return vh_domain_parse_keep(buf, len, what, vh_domain_elements, ret, e);
}

int vh_domain_parse_keep(const char *buf, size_t len, const char *what, const char *const *keep,
			 struct vh_domain **ret, struct vh_err *e)
{
	_cleanup_doc_ xmlDoc *doc = NULL;
	_cleanup_domain_ struct vh_domain *d = NULL;
	xmlNode *root, *os, *features, *devices, *n;
	int r;

	r = vh_xml_parse_keep(buf, len, what, VH_XML_LEAN, keep, &doc, e);
	if (r < 0)
		return r;
	root = sym_xmlDocGetRootElement(doc);
	if (!vh_xml_is(root, "domain"))
		return vh_err_set(
		    e, -EBADMSG,
		    "%s: the root element is <%s>, not <domain>: this is not a libvirt domain XML.",
		    what, (const char *)root->name);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->virt_type = vh_xml_prop(root, "type");
	d->name = vh_xml_text(vh_xml_child(root, "name"));
	d->uuid = vh_xml_text(vh_xml_child(root, "uuid"));
	os = vh_xml_child(root, "os");
	if (os) {
		xmlNode *t = vh_xml_child(os, "type");
		d->os_type = vh_xml_text(t);
		d->arch = vh_xml_prop(t, "arch");
		d->machine = vh_xml_prop(t, "machine");
	}
	d->machine_kind = vh_machine_classify(d->machine);

	features = vh_xml_child(root, "features");
	d->ioapic_driver = child_prop(features, "ioapic", "driver");
	d->iommu_in_features = vh_xml_child(features, "iommu") != NULL;

	devices = vh_xml_child(root, "devices");
	n = vh_xml_child(devices, "iommu");
	if (n) {
		xmlNode *drv = vh_xml_child(n, "driver");
		_cleanup_free_ char *ir = vh_xml_prop(drv, "intremap");
		_cleanup_free_ char *cm = vh_xml_prop(drv, "caching_mode");
		_cleanup_free_ char *eim = vh_xml_prop(drv, "eim");
		_cleanup_free_ char *iotlb = vh_xml_prop(drv, "iotlb");
		_cleanup_free_ char *aw = vh_xml_prop(drv, "aw_bits");
		unsigned long long v;
		d->has_iommu = true;
		d->iommu_model = vh_xml_prop(n, "model");
		d->intremap = parse_switch(ir);
		d->caching_mode = parse_switch(cm);
		d->eim = parse_switch(eim);
		d->iotlb = parse_switch(iotlb);
		if (aw && vh_parse_uint(aw, 10, 64, &v) == 0)
			d->aw_bits = (unsigned)v;
	}

	{
		_cleanup_free_ char *vcpu = vh_xml_text(vh_xml_child(root, "vcpu"));
		unsigned long long v;
		if (vcpu && vh_parse_uint(vcpu, 10, 1u << 20, &v) == 0)
			d->vcpus = (unsigned)v;
	}
	r = parse_memory(d, root, devices);
	if (r < 0)
		return vh_err_set(e, r, "Out of memory parsing %s.", what);
	d->emulator = vh_xml_text(vh_xml_child(devices, "emulator"));

	for (n = devices ? devices->children : NULL; n; n = n->next) {
		if (vh_xml_is(n, "hostdev")) {
			_cleanup_free_ char *mode = vh_xml_prop(n, "mode");
			_cleanup_free_ char *type = vh_xml_prop(n, "type");
			/* libvirt's default mode is subsystem. */
			if ((!mode || streq(mode, "subsystem")) && streq(type, "pci"))
				r = add_hostdev(d, n, false);
		} else if (vh_xml_is(n, "interface")) {
			_cleanup_free_ char *type = vh_xml_prop(n, "type");
			if (streq(type, "hostdev"))
				r = add_hostdev(d, n, true);
			else if (streq(type, "network"))
				r = add_netif(d, n);
			else if (streq(type, "vdpa"))
				d->n_vdpa++;
		} else if (vh_xml_is(n, "disk")) {
			_cleanup_free_ char *type = vh_xml_prop(n, "type");
			if (streq(type, "nvme"))
				d->n_nvme_disks++;
			else if (streq(type, "vhostvdpa"))
				d->n_vdpa++;
		} else if (vh_xml_is(n, "controller")) {
			_cleanup_free_ char *type = vh_xml_prop(n, "type");
			_cleanup_free_ char *model = vh_xml_prop(n, "model");
			if (streq(type, "pci") && streq(model, "pci-root"))
				d->n_phbs++;
		}
		if (r < 0)
			return vh_err_set(e, r, "Out of memory parsing %s.", what);
	}
	parse_fw(d, root, os, devices);
	parse_meta(d, vh_xml_child(root, "metadata"));
	parse_nova(d, vh_xml_child(root, "metadata"));
	*ret = TAKE_PTR(d);
	return 0;
}

struct vh_domain *vh_domain_free(struct vh_domain *d)
{
	if (!d)
		return NULL;
	free(d->name);
	free(d->uuid);
	free(d->virt_type);
	free(d->os_type);
	free(d->arch);
	free(d->machine);
	free(d->ioapic_driver);
	free(d->iommu_model);
	free(d->numa_cells_kib);
	free(d->memory_devices);
	free(d->hostdevs);
	for (size_t i = 0; i < d->n_netifs; i++)
		free(d->netifs[i].network);
	free(d->netifs);
	free(d->emulator);
	free(d->fw.firmware);
	free(d->fw.loader);
	free(d->fw.cpu_mode);
	for (size_t i = 0; i < d->meta.n_devices; i++) {
		free(d->meta.devices[i].reset_method);
		vh_settings_done(&d->meta.devices[i].vf);
	}
	free(d->meta.devices);
	free(d);
	return NULL;
}
