/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "qemuargs.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "xml.h"

/* One -device (or [device] section), its properties as QEMU got them. */
struct kv {
	char *k, *v;
};
struct qdev {
	char *driver, *id;
	struct kv *props;
	size_t n_props;
	int argi; /* position on the command line, for messages */
	/* The order QEMU creates devices in: every legacy and -readconfig
	 * device first, then the JSON ones, each in command-line order. */
	long order;
};

struct qstate {
	struct qdev *devs;
	size_t n_devs, cap_devs;
	struct kv *machine, *globals, *sets;
	size_t n_machine, n_globals, n_sets;
	char accel[32];
	bool enable_kvm;
	unsigned vcpus, topo;
	unsigned long long mem_kib, maxmem_kib;
	char mem_error[128];
	char *name;
	char *uuid;
	long seq;
	struct vh_err *e;
};

static int kv_add(struct kv **v, size_t *n, const char *k, const char *val)
{
	/* Capacity doubles at powers of two: linear over huge command lines
	 * even where realloc copies every time. */
	if (*n == 0 || (*n >= 4 && !(*n & (*n - 1)))) {
		struct kv *nv = realloc(*v, (*n ? *n * 2 : 4) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	struct kv *nv = *v;
	nv[*n].k = strdup(k);
	nv[*n].v = strdup(val);
	if (!nv[*n].k || !nv[*n].v) {
		free(nv[*n].k);
		free(nv[*n].v);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

static void kv_free(struct kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].k);
		free(v[i].v);
	}
	free(v);
}

/* The last value of @k (later options override earlier ones). */
static const char *kv_get(const struct kv *v, size_t n, const char *k)
{
	for (size_t i = n; i-- > 0;)
		if (streq(v[i].k, k))
			return v[i].v;
	return NULL;
}

/* QEMU spells some properties with '-' and accepts '_' too. */
static void norm_key(char *k)
{
	for (char *p = k; *p; p++)
		if (*p == '_')
			*p = '-';
}

/* "a,b=c,d=e,,f" -> calls @fn(ud, key, value); the first item without '='
 * gets @implied as its key.  ",," is a literal comma. */
static int keyval_each(const char *s, const char *implied,
		       int (*fn)(void *, const char *, const char *), void *ud)
{
	size_t len = strlen(s);
	_cleanup_free_ char *item = malloc(len + 1);
	bool first = true;
	const char *p = s;
	int r;

	if (!item)
		return -ENOMEM;
	while (*p) {
		size_t k = 0;
		char *eq;
		while (*p) {
			if (*p == ',') {
				if (p[1] == ',') {
					item[k++] = ',';
					p += 2;
					continue;
				}
				p++;
				break;
			}
			item[k++] = *p++;
		}
		item[k] = '\0';
		eq = strchr(item, '=');
		if (eq) {
			*eq = '\0';
			norm_key(item);
			r = fn(ud, item, eq + 1);
		} else if (first && implied) {
			r = fn(ud, implied, item);
		} else {
			/* "flag" alone means flag=on */
			norm_key(item);
			r = fn(ud, item, "on");
		}
		if (r < 0)
			return r;
		first = false;
	}
	return 0;
}

/* --- a flat JSON object, as QEMU's JSON -device form ---------------------- */

struct json_each {
	int (*fn)(void *ud, const char *key, const char *val);
	void *ud;
};

/* A member as QEMU reads a property: '_' in keys as '-', true/false as
 * on/off. */
static int json_member(void *ud, struct vh_json_member *m)
{
	const struct json_each *je = ud;

	norm_key(m->key);
	return je->fn(je->ud, m->key,
		      m->type == VH_JSON_TRUE	  ? "on"
		      : m->type == VH_JSON_FALSE  ? "off"
		      : m->type == VH_JSON_NESTED ? "(nested)"
						  : m->value);
}

int vh_json_object_each(const char *s, int (*fn)(void *ud, const char *key, const char *val),
			void *ud, size_t *ret_off)
{
	struct json_each je = {.fn = fn, .ud = ud};

	return vh_json_object_members(s, json_member, &je, ret_off);
}

/* --- collecting options ------------------------------------------------- */

struct devctx {
	struct qdev *d;
};

static int dev_prop(void *ud, const char *k, const char *v)
{
	struct qdev *d = ud;
	int r;

	if (streq(k, "driver")) {
		free(d->driver);
		d->driver = strdup(v);
		return d->driver ? 0 : -ENOMEM;
	}
	if (streq(k, "id")) {
		free(d->id);
		d->id = strdup(v);
		return d->id ? 0 : -ENOMEM;
	}
	r = kv_add(&d->props, &d->n_props, k, v);
	return r;
}

static struct qdev *new_dev(struct qstate *q, int argi)
{
	if (q->n_devs == q->cap_devs) {
		size_t cap = q->cap_devs ? q->cap_devs * 2 : 16;
		struct qdev *nv = realloc(q->devs, cap * sizeof(*nv));
		if (!nv)
			return NULL;
		q->devs = nv;
		q->cap_devs = cap;
	}
	q->devs[q->n_devs] = (struct qdev){.argi = argi, .order = q->seq++};
	return &q->devs[q->n_devs++];
}

static int add_device(struct qstate *q, const char *arg, int argi)
{
	struct qdev *d = new_dev(q, argi);
	size_t off = 0;
	int r;

	if (!d)
		return -ENOMEM;
	if (vh_json_starts_object(arg)) {
		d->order += 1L << 40;
		r = vh_json_object_each(arg, dev_prop, d, &off);
		if (r == -EINVAL)
			return vh_err_set(
			    q->e, r,
			    "Argument %d: the JSON -device is not a valid JSON object (at character %zu): %.80s",
			    argi, off + 1, arg);
		return r;
	}
	return keyval_each(arg, "driver", dev_prop, d);
}

static int machine_prop(void *ud, const char *k, const char *v)
{
	struct qstate *q = ud;

	return kv_add(&q->machine, &q->n_machine, k, v);
}

static int accel_prop(void *ud, const char *k, const char *v)
{
	struct qstate *q = ud;

	if (streq(k, "accel")) {
		/* QEMU tries repeated -accel in order: the first counts. */
		if (!q->accel[0])
			snprintf(q->accel, sizeof(q->accel), "%s", v);
		return 0;
	}
	/* -accel kvm,kernel-irqchip=split sets the machine's irqchip. */
	if (streq(k, "kernel-irqchip"))
		return kv_add(&q->machine, &q->n_machine, k, v);
	return 0;
}

struct global_ctx {
	char driver[64], property[64], value[256];
};

static int global_prop(void *ud, const char *k, const char *v)
{
	struct global_ctx *g = ud;

	if (streq(k, "driver"))
		snprintf(g->driver, sizeof(g->driver), "%s", v);
	else if (streq(k, "property"))
		snprintf(g->property, sizeof(g->property), "%s", v);
	else if (streq(k, "value"))
		snprintf(g->value, sizeof(g->value), "%s", v);
	return 0;
}

static int add_global(struct qstate *q, const char *arg, int argi)
{
	struct global_ctx g;

	memset(&g, 0, sizeof(g));
	char key[160];
	const char *eq, *dot;

	if (strncmp(arg, "driver=", 7) == 0) {
		int r = keyval_each(arg, NULL, global_prop, &g);
		if (r < 0)
			return r;
	} else {
		/* DRIVER.PROP=VALUE */
		dot = strchr(arg, '.');
		eq = strchr(arg, '=');
		if (!dot || !eq || eq < dot)
			return vh_err_set(
			    q->e, -EINVAL,
			    "Argument %d: -global '%.80s' is not DRIVER.PROPERTY=VALUE.", argi,
			    arg);
		snprintf(g.driver, sizeof(g.driver), "%.*s", (int)(dot - arg), arg);
		snprintf(g.property, sizeof(g.property), "%.*s", (int)(eq - dot - 1), dot + 1);
		snprintf(g.value, sizeof(g.value), "%s", eq + 1);
	}
	norm_key(g.property);
	snprintf(key, sizeof(key), "%s.%s", g.driver, g.property);
	return kv_add(&q->globals, &q->n_globals, key, g.value);
}

static int add_set(struct qstate *q, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[256];

	/* Only "-set device.ID.PROP=VALUE" concerns us. */
	if (!eq || strncmp(arg, "device.", 7) != 0)
		return 0;
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg - 7), arg + 7);
	norm_key(strrchr(key, '.') ? strrchr(key, '.') : key);
	return kv_add(&q->sets, &q->n_sets, key, eq + 1);
}

static int smp_prop(void *ud, const char *k, const char *v)
{
	struct qstate *q = ud;
	unsigned long long n;
	static const char *const topo[] = {"sockets", "dies", "clusters", "cores", "threads"};

	if (vh_parse_uint(v, 10, 1u << 20, &n) < 0)
		return 0;
	if (streq(k, "cpus") || streq(k, "smp")) {
		q->vcpus = (unsigned)n;
		return 0;
	}
	/* Without a count, QEMU multiplies the topology out. */
	for (size_t i = 0; i < ELEMENTSOF(topo); i++)
		if (streq(k, topo[i]))
			q->topo = (q->topo ? q->topo : 1) * (unsigned)n;
	return 0;
}

static int mem_prop(void *ud, const char *k, const char *v)
{
	struct qstate *q = ud;

	unsigned long long *dst = streq(k, "size")     ? &q->mem_kib
				  : streq(k, "maxmem") ? &q->maxmem_kib
						       : NULL;
	int r;

	if (!dst)
		return 0;
	r = vh_parse_qemu_size_kib(v, dst);
	if (r < 0 && !q->mem_error[0])
		snprintf(
		    q->mem_error, sizeof(q->mem_error), "-m %s=%.32s is %s", k, v,
		    r == -ERANGE
			? "too large"
			: "not a size (a number of MiB, or with a suffix B, K, M, G, T, P or E)");
	return 0;
}

static int name_prop(void *ud, const char *k, const char *v)
{
	struct qstate *q = ud;

	if (streq(k, "guest")) {
		free(q->name);
		q->name = strdup(v);
	}
	return 0;
}

/* -readconfig: "[device "id"]" or "[machine]" sections of key = "value". */
static int read_config(struct qstate *q, const char *path, int argi)
{
	_cleanup_free_ char *buf = NULL;
	struct vh_err fe = {0};
	struct qdev *cur = NULL;
	bool machine = false;
	char *line, *next;
	size_t len;
	int ln = 0, r;

	r = vh_read_file_capped(path, 1u << 20, &buf, &len, &fe);
	if (r < 0)
		return vh_err_set(q->e, r, "Argument %d: -readconfig %s: %s", argi, path, fe.msg);
	for (line = buf; line; line = next) {
		char *p, *eq, *k, *v;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		ln++;
		p = line;
		while (isspace((unsigned char)*p))
			p++;
		vh_strip_trailing(p);
		if (!*p || *p == '#')
			continue;
		if (*p == '[') {
			cur = NULL;
			machine = strncmp(p, "[machine", 8) == 0;
			if (strncmp(p, "[device", 7) == 0) {
				char id[128] = "";
				sscanf(p, "[device \"%127[^\"]\"]", id);
				cur = new_dev(q, argi);
				if (!cur)
					return -ENOMEM;
				if (id[0] && !(cur->id = strdup(id)))
					return -ENOMEM;
			}
			continue;
		}
		eq = strchr(p, '=');
		if (!eq)
			return vh_err_set(
			    q->e, -EINVAL,
			    "%s:%d: not a 'key = \"value\"' line (not shown here: -readconfig echoes nothing of a file).",
			    path, ln);
		*eq = '\0';
		k = p;
		vh_strip_trailing(k);
		v = eq + 1;
		while (isspace((unsigned char)*v))
			v++;
		if (*v == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
			v[strlen(v) - 1] = '\0';
			v++;
		}
		norm_key(k);
		if (cur)
			r = dev_prop(cur, k, v);
		else if (machine)
			r = machine_prop(q, k, v);
		else
			r = 0;
		if (r < 0)
			return r;
	}
	return 0;
}

/* Options that take a value: we must skip their value, or a value that
 * looks like an option would be misread. */
static const char *const with_value[] = {
    "M",
    "machine",
    "accel",
    "device",
    "global",
    "set",
    "readconfig",
    "smp",
    "m",
    "name",
    "cpu",
    "drive",
    "netdev",
    "chardev",
    "object",
    "serial",
    "monitor",
    "mon",
    "kernel",
    "initrd",
    "append",
    "bios",
    "boot",
    "display",
    "vga",
    "qmp",
    "pidfile",
    "runas",
    "chroot",
    "L",
    "blockdev",
    "nic",
    "net",
    "cdrom",
    "hda",
    "hdb",
    "hdc",
    "hdd",
    "fda",
    "fdb",
    "rtc",
    "vnc",
    "spice",
    "audiodev",
    "usbdevice",
    "mem-path",
    "numa",
    "incoming",
    "loadvm",
    "trace",
    "D",
    "d",
    "sandbox",
    "msg",
    "add-fd",
    "fsdev",
    "virtfs",
    "iscsi",
    "k",
    "smbios",
    "fw_cfg",
    "tpmdev",
    "icount",
    "overcommit",
    "action",
    "parallel",
    "debugcon",
    "watchdog-action",
    "plugin",
    "compat",
    "semihosting-config",
    "uuid",
    "dtb",
    "option-rom",
    "mtdblock",
    "sd",
    "pflash",
};

static bool takes_value(const char *opt)
{
	for (size_t i = 0; i < ELEMENTSOF(with_value); i++)
		if (streq(opt, with_value[i]))
			return true;
	return false;
}

static const char *arch_of(const char *argv0)
{
	const char *b = strrchr(argv0, '/');

	b = b ? b + 1 : argv0;
	if (strncmp(b, "qemu-system-", 12) == 0)
		return b + 12;
	return NULL;
}

static bool is_vfio_driver(const char *d)
{
	return streq(d, "vfio-pci") || streq(d, "vfio-pci-nohotplug");
}

static enum vh_switch switch_of(const char *v)
{
	if (!v)
		return VH_ABSENT;
	if (streq(v, "on") || streq(v, "true") || streq(v, "yes"))
		return VH_ON;
	if (streq(v, "off") || streq(v, "false") || streq(v, "no"))
		return VH_OFF;
	if (streq(v, "auto"))
		return VH_ABSENT;
	return VH_BAD;
}

/* A device property after -global defaults and -set overrides. */
static const char *prop(const struct qstate *q, const struct qdev *d, const char *k)
{
	char key[256];
	const char *v;

	if (d->id) {
		snprintf(key, sizeof(key), "%s.%s", d->id, k);
		v = kv_get(q->sets, q->n_sets, key);
		if (v)
			return v;
	}
	v = kv_get(d->props, d->n_props, k);
	if (v)
		return v;
	snprintf(key, sizeof(key), "%s.%s", d->driver ? d->driver : "", k);
	return kv_get(q->globals, q->n_globals, key);
}

static int build_model(struct qstate *q, const char *argv0, struct vh_domain *d)
{
	const char *mt = kv_get(q->machine, q->n_machine, "type");
	const char *irq = kv_get(q->machine, q->n_machine, "kernel-irqchip");
	const char *macc = kv_get(q->machine, q->n_machine, "accel");
	const char *arch = arch_of(argv0);
	char accel[32];
	bool kvm, irq_all_kernel;
	long first_vfio = -1, iommu_at = -1;

	/* -accel wins over -machine accel= (a ':'-list: the first counts). */
	if (q->accel[0])
		snprintf(accel, sizeof(accel), "%s", q->accel);
	else if (macc)
		snprintf(accel, sizeof(accel), "%.*s", (int)strcspn(macc, ":"), macc);
	else
		snprintf(accel, sizeof(accel), "%s", q->enable_kvm ? "kvm" : "tcg");
	kvm = streq(accel, "kvm");
	irq_all_kernel = kvm && (!irq || streq(irq, "on"));

	d->name = strdup(q->name ? q->name : "(unnamed)");
	if (argv0 && argv0[0] == '/' && !(d->emulator = strdup(argv0)))
		return -ENOMEM;
	if (q->uuid && !(d->uuid = strdup(q->uuid)))
		return -ENOMEM;
	d->virt_type = strdup(kvm ? "kvm" : "qemu");
	d->os_type = strdup("hvm");
	d->arch = arch && !streq(arch, "x86_64") ? strdup(arch) : strdup("x86_64");
	/* QEMU's default x86 machine is pc (i440fx). */
	d->machine = strdup(mt ? mt : "pc");
	if (!d->name || !d->virt_type || !d->os_type || !d->arch || !d->machine)
		return -ENOMEM;
	d->machine_kind = vh_machine_classify(d->machine);
	d->dialect = VH_DIALECT_QEMU;
	/* Interrupt remapping needs QEMU's I/O APIC: split or userspace
	 * irqchip with KVM; TCG always emulates it. */
	d->ioapic_driver = strdup(irq_all_kernel ? "kvm" : "qemu");
	if (!d->ioapic_driver)
		return -ENOMEM;
	snprintf(d->irqchip, sizeof(d->irqchip), "%s", irq ? irq : "");
	d->vcpus = q->vcpus ? q->vcpus : q->topo ? q->topo : 1;
	d->memory_kib = q->mem_kib ? q->mem_kib : 128 * 1024;
	d->max_memory_kib = q->maxmem_kib;
	snprintf(d->mem_error, sizeof(d->mem_error), "%s", q->mem_error);

	{
		size_t nv = 0;
		for (size_t i = 0; i < q->n_devs; i++)
			nv += q->devs[i].driver && is_vfio_driver(q->devs[i].driver);
		d->hostdevs = calloc(nv ? nv : 1, sizeof(*d->hostdevs));
		if (!d->hostdevs)
			return -ENOMEM;
	}
	for (size_t i = 0; i < q->n_devs; i++) {
		const struct qdev *x = &q->devs[i];
		if (!x->driver)
			continue;
		if (streq(x->driver, "intel-iommu") || streq(x->driver, "amd-iommu") ||
		    streq(x->driver, "virtio-iommu-pci") || streq(x->driver, "virtio-iommu")) {
			const char *aw = prop(q, x, "aw-bits");
			unsigned long long v;
			d->has_iommu = true;
			free(d->iommu_model);
			d->iommu_model = strdup(streq(x->driver, "intel-iommu") ? "intel"
						: streq(x->driver, "amd-iommu") ? "amd"
										: "virtio");
			/* Left out: QEMU's default, which depends on its
			 * version (vh_viommu_effective). */
			d->intremap = switch_of(prop(q, x, "intremap"));
			d->caching_mode = switch_of(prop(q, x, "caching-mode"));
			d->eim = switch_of(prop(q, x, "eim"));
			d->iotlb = switch_of(prop(q, x, "device-iotlb"));
			if (aw && vh_parse_uint(aw, 10, 64, &v) == 0)
				d->aw_bits = (unsigned)v;
			if (iommu_at < 0 || x->order < iommu_at)
				iommu_at = x->order;
		} else if (is_vfio_driver(x->driver)) {
			const char *host = prop(q, x, "host");
			const char *sysfs = prop(q, x, "sysfsdev");
			char sysbase[128] = "";
			struct vh_hostdev *h;
			int r;

			if (sysfs) {
				/* QEMU ignores a trailing '/'. */
				size_t l = strlen(sysfs);
				while (l > 1 && sysfs[l - 1] == '/')
					l--;
				const char *b = memrchr(sysfs, '/', l);
				b = b ? b + 1 : sysfs;
				snprintf(sysbase, sizeof(sysbase), "%.*s",
					 (int)(l - (size_t)(b - sysfs)), b);
				/* A mediated device (a vGPU) is not a PCI
				 * function of the host: not ours to judge. */
				if (strstr(sysfs, "/bus/mdev/") || vh_uuid_valid(sysbase))
					continue;
				host = sysbase;
			}
			h = &d->hostdevs[d->n_hostdevs++];
			*h = (struct vh_hostdev){.line = x->argi};
			snprintf(h->origin, sizeof(h->origin), "-device %s at argument %d",
				 x->driver, x->argi);
			snprintf(h->addr_text, sizeof(h->addr_text), "%s=%.64s",
				 sysfs ? "sysfsdev" : "host",
				 sysfs	? sysfs
				 : host ? host
					: "");
			/* sysfsdev= names a sysfs directory; host= is what
			 * QEMU's parser takes, 6:12.5 too. */
			r = !host   ? -EINVAL
			    : sysfs ? vh_pci_addr_parse(host, &h->addr)
				    : vh_pci_addr_parse_qemu(host, &h->addr);
			if (!host) {
				snprintf(h->addr_error, sizeof(h->addr_error),
					 "it has neither host= nor sysfsdev=");
			} else if (r == -ERANGE) {
				snprintf(
				    h->addr_error, sizeof(h->addr_error),
				    "'%.64s' is out of range (domain <= ffff, bus <= ff, slot <= 1f, function <= 7)",
				    host);
			} else if (r < 0) {
				snprintf(h->addr_error, sizeof(h->addr_error),
					 "'%.64s' is not a PCI address like 0000:01:00.0 or 1:0.0",
					 host);
			} else {
				const char *why = vh_pci_addr_invalid(&h->addr);
				if (why)
					snprintf(h->addr_error, sizeof(h->addr_error), "%s", why);
				else
					h->addr_ok = true;
			}
			if (first_vfio < 0 || x->order < first_vfio)
				first_vfio = x->order;
		}
	}
	d->iommu_after_vfio = iommu_at >= 0 && first_vfio >= 0 && iommu_at > first_vfio;
	return 0;
}

static void state_free(struct qstate *q)
{
	for (size_t i = 0; i < q->n_devs; i++) {
		free(q->devs[i].driver);
		free(q->devs[i].id);
		kv_free(q->devs[i].props, q->devs[i].n_props);
	}
	free(q->devs);
	kv_free(q->machine, q->n_machine);
	kv_free(q->globals, q->n_globals);
	kv_free(q->sets, q->n_sets);
	free(q->name);
	free(q->uuid);
}

int vh_qemu_parse(int argc, char *const *argv, struct vh_domain **ret, struct vh_err *e)
{
	struct qstate q = {.e = e};
	struct vh_domain *d;
	int r = 0;

	for (int i = 1; i < argc && r == 0; i++) {
		const char *a = argv[i], *opt, *val;
		if (a[0] != '-') /* a disk image given bare */
			continue;
		opt = a + 1 + (a[1] == '-');
		if (streq(opt, "enable-kvm")) {
			/* The same as -machine accel=kvm, in argument order. */
			q.enable_kvm = true;
			r = kv_add(&q.machine, &q.n_machine, "accel", "kvm");
			continue;
		}
		if (!takes_value(opt))
			continue;
		if (i + 1 >= argc) {
			r = vh_err_set(e, -EINVAL, "Argument %d: %s needs a value.", i, a);
			break;
		}
		val = argv[++i];
		if (streq(opt, "M") || streq(opt, "machine"))
			r = keyval_each(val, "type", machine_prop, &q);
		else if (streq(opt, "accel"))
			r = keyval_each(val, "accel", accel_prop, &q);
		else if (streq(opt, "device"))
			r = add_device(&q, val, i);
		else if (streq(opt, "global"))
			r = add_global(&q, val, i);
		else if (streq(opt, "set"))
			r = add_set(&q, val);
		else if (streq(opt, "readconfig"))
			r = read_config(&q, val, i);
		else if (streq(opt, "smp"))
			r = keyval_each(val, "smp", smp_prop, &q);
		else if (streq(opt, "m"))
			r = keyval_each(val, "size", mem_prop, &q);
		else if (streq(opt, "name"))
			r = keyval_each(val, "guest", name_prop, &q);
		else if (streq(opt, "uuid")) {
			free(q.uuid);
			q.uuid = strdup(val);
			r = q.uuid ? 0 : -ENOMEM;
		}
	}
	if (r < 0) {
		if (!e || !e->code)
			vh_err_set(e, r, "Cannot read the QEMU command line: %s.", strerror(-r));
		state_free(&q);
		return r;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		state_free(&q);
		return -ENOMEM;
	}
	r = build_model(&q, argc > 0 ? argv[0] : "", d);
	state_free(&q);
	if (r < 0) {
		vh_domain_free(d);
		return vh_err_set(e, r, "Out of memory.");
	}
	*ret = d;
	return 0;
}
