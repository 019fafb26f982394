/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "profile.h"
#include "host.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "xml.h"

static void profile_clear(struct vh_profile *p)
{
	free(p->id);
	free(p->file);
	free(p->description);
	free(p->why);
	free(p->devices);
	free(p->reset_method);
	free(p->vfio_driver);
	free(p->vf_dir);
	vh_settings_done(&p->vf_settings);
	for (size_t i = 0; i < p->n_kernel_params; i++)
		free(p->kernel_params[i]);
	free(p->kernel_params);
	for (size_t i = 0; i < p->n_modules; i++) {
		free(p->modules[i].name);
		free(p->modules[i].why);
		free(p->modules[i].install);
	}
	free(p->modules);
	free(p->guest_driver);
	for (size_t i = 0; i < p->n_guest_kernels; i++) {
		struct vh_guest_kernel *k = &p->guest_kernels[i];
		free(k->hypervisor);
		free(k->min);
		free(k->why);
		for (size_t j = 0; j < k->n_commits; j++)
			free(k->commits[j]);
		free(k->commits);
	}
	free(p->guest_kernels);
	*p = (struct vh_profile){0};
}

void vh_profiles_done(struct vh_profiles *p)
{
	for (size_t i = 0; i < p->n; i++)
		profile_clear(&p->v[i]);
	free(p->v);
	*p = (struct vh_profiles){0};
}

/* Hex as the schema allows it, with or without 0x. */
static uint32_t hex(const char *s)
{
	unsigned long long v = 0;

	if (s && (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		s += 2;
	(void)vh_parse_uint(s, 16, 0xffffff, &v);
	return (uint32_t)v;
}

struct rng_err {
	char msg[384];
	int line;
};

static void rng_error(void *ctx, xmlErrorPtr x)
{
	struct rng_err *r = ctx;

	if (!x)
		return;
	/* Errors inside <interleave> come first without a line; keep the
	 * first message, and the first line any error has. */
	if (!r->line && x->line > 0)
		r->line = x->line;
	if (r->msg[0])
		return;
	vh_strlcpy(r->msg, x->message ? x->message : "invalid", sizeof(r->msg));
	vh_strip_trailing(r->msg);
}

/* --- Validation stamps (see vh_profiles_use_stamps). --- */

#define STAMPS "profiles.validated"
#define STAMPS_MAX (256 * 1024) /* about 600 profiles */

void vh_profile_ctx_init(struct vh_profile_ctx *c)
{
	*c = (struct vh_profile_ctx){.stamp_dirfd = -1};
}

void vh_profile_ctx_done(struct vh_profile_ctx *c)
{
	if (c->rng)
		sym_xmlRelaxNGFree(c->rng);
	vh_buf_done(&c->new_stamps);
	free(c->stamps);
	vh_profile_ctx_init(c);
}

void vh_profiles_use_stamps(struct vh_profile_ctx *c, int dirfd)
{
	c->stamp_dirfd = dirfd;
}

void vh_profiles_want(struct vh_profile_ctx *c, const struct vh_pci_id *ids, size_t n)
{
	c->want_ids = ids;
	c->want_n = n;
}

unsigned vh_profiles_validations(const struct vh_profile_ctx *c)
{
	return c->n_validations;
}

static void stamp_key(char *out, size_t n, const char *path, const struct stat *st,
		      const char *schema, const struct stat *schema_st)
{
	const struct stat ss = *schema_st;

	snprintf(out, n, "%jx:%jx:%jd:%jd.%09ld:%jd.%09ld %jx:%jx:%jd:%jd.%09ld %s %s",
		 (uintmax_t)st->st_dev, (uintmax_t)st->st_ino, (intmax_t)st->st_size,
		 (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (intmax_t)st->st_ctim.tv_sec,
		 st->st_ctim.tv_nsec, (uintmax_t)ss.st_dev, (uintmax_t)ss.st_ino,
		 (intmax_t)ss.st_size, (intmax_t)ss.st_ctim.tv_sec, ss.st_ctim.tv_nsec, schema,
		 path);
	for (char *c = out; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = '?';
}

/* What a stamp line remembers of a profile besides its key, so that a
 * load wanting other devices can skip the file without parsing it:
 * "KEY\tVENDOR\tID\tDEVICES", DEVICES "*" (any of the vendor's) or the
 * profile's device list, "56c0,56c1".  A line with less (the key alone)
 * only spares validation. */
#define STAMP_DEVICES 32

struct stamp_info {
	bool known;
	uint16_t vendor;
	char id[72];
	bool any_device; /* no list, or one too long to keep */
	uint16_t devices[STAMP_DEVICES];
	size_t n_devices;
};

/* The next TAB-separated field of [*p, end) into @out (@n bytes). */
static bool field(const char **p, const char *end, char *out, size_t n)
{
	const char *t = memchr(*p, '\t', (size_t)(end - *p));
	size_t l = (size_t)((t ? t : end) - *p);

	if (!l || l >= n)
		return false;
	memcpy(out, *p, l);
	out[l] = '\0';
	*p = t ? t + 1 : end;
	return true;
}

static void stamp_info_parse(const char *p, size_t k, struct stamp_info *si)
{
	const char *end = p + k, *t = memchr(p, '\t', k);
	char vb[8], devs[STAMP_DEVICES * 5 + 8];
	unsigned long long v;

	*si = (struct stamp_info){0};
	if (!t)
		return;
	t++;
	if (!field(&t, end, vb, sizeof(vb)) || vh_parse_uint(vb, 16, 0xffff, &v) < 0 ||
	    !field(&t, end, si->id, sizeof(si->id)) || !field(&t, end, devs, sizeof(devs)))
		return;
	si->vendor = (uint16_t)v;
	si->any_device = streq(devs, "*");
	for (char *d = devs, *c; !si->any_device && d; d = c) {
		c = strchr(d, ',');
		if (c)
			*c++ = '\0';
		if (vh_parse_uint(d, 16, 0xffff, &v) < 0)
			return;
		si->devices[si->n_devices++] = (uint16_t)v;
		if (c && si->n_devices == STAMP_DEVICES)
			return;
	}
	si->known = true;
}

/* Whether a load wants the profile a stamp line describes. */
static bool wanted(const struct vh_profile_ctx *c, const struct stamp_info *si)
{
	if (!c->want_ids)
		return true;
	for (size_t i = 0; i < c->want_n; i++) {
		if (c->want_ids[i].vendor != si->vendor)
			continue;
		if (si->any_device)
			return true;
		for (size_t j = 0; j < si->n_devices; j++)
			if (si->devices[j] == c->want_ids[i].device)
				return true;
	}
	return false;
}

/* The stamp line of a profile: its key, vendor, id and devices. */
static void stamp_line(struct vh_buf *b, const char *key, const struct vh_profile *p)
{
	/* The id is the schema's [a-z0-9._-]: no tab, no newline. */
	vh_buf_printf(b, "%s\t%04x\t%s\t", key, p->vendor, p->id);
	if (!p->n_devices || p->n_devices > STAMP_DEVICES)
		vh_buf_puts(b, "*");
	else
		for (size_t i = 0; i < p->n_devices; i++)
			vh_buf_printf(b, "%s%04x", i ? "," : "", p->devices[i]);
	vh_buf_puts(b, "\n");
}

/* The stamp line for @key, or NULL; its length in @ret_len. */
static const char *stamped(struct vh_profile_ctx *c, const char *key, size_t *ret_len)
{
	size_t l = strlen(key);

	if (c->stamp_dirfd < 0)
		return NULL;
	if (!c->stamps_read) {
		int fd =
		    openat(c->stamp_dirfd, STAMPS, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		struct stat st;
		size_t len = 0;
		c->stamps_read = true;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid() && !(st.st_mode & 022))
			(void)vh_read_fd_capped(fd, STAMPS, STAMPS_MAX, &c->stamps, &len, NULL);
		if (fd >= 0)
			close(fd);
	}
	for (const char *p = c->stamps; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t k = nl ? (size_t)(nl - p) : strlen(p);
		if (k >= l && memcmp(p, key, l) == 0 && (k == l || p[l] == '\t')) {
			*ret_len = k;
			return p;
		}
		p = nl ? nl + 1 : p + k;
	}
	return NULL;
}

/* After a load that validated something: the file is rewritten with the
 * keys of this load only (stale ones go), atomically. */
static void stamps_save(struct vh_profile_ctx *c)
{
	char tmp[64];
	int fd;

	if (c->stamp_dirfd < 0 || !c->stamps_dirty || !c->new_stamps.len ||
	    vh_buf_failed(&c->new_stamps) || c->new_stamps.len > STAMPS_MAX)
		goto out;
	snprintf(tmp, sizeof(tmp), STAMPS ".%d", (int)getpid());
	fd =
	    openat(c->stamp_dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (write(fd, c->new_stamps.s, c->new_stamps.len) != (ssize_t)c->new_stamps.len ||
	    renameat(c->stamp_dirfd, tmp, c->stamp_dirfd, STAMPS) < 0)
		unlinkat(c->stamp_dirfd, tmp, 0);
	close(fd);
out:
	vh_buf_done(&c->new_stamps);
	free(c->stamps);
	c->stamps = NULL;
	c->stamps_read = c->stamps_dirty = false;
}

/* The schema is parsed once per context and schema path: every profile
 * is validated against it, and parsing it costs more than a profile does. */
static int validate(struct vh_profile_ctx *c, xmlDoc *doc, const char *path, const char *schema,
		    struct vh_err *e)
{
	xmlRelaxNGParserCtxt *pc;
	xmlRelaxNG *rng;
	xmlRelaxNGValidCtxt *vc;
	struct rng_err re = {0};
	int r;

	if (c->rng && streq(c->rng_schema, schema)) {
		rng = c->rng;
		goto have_schema;
	}
	if (access(schema, R_OK) < 0)
		return vh_err_set(
		    e, -errno,
		    "Cannot read the profile schema %s: %s. Reinstall vfio-hooks, or set VFIO_HOOKS_DATADIR to the directory holding profile.rng.",
		    schema, strerror(errno));
	pc = sym_xmlRelaxNGNewParserCtxt(schema);
	if (!pc)
		return vh_err_set(e, -ENOMEM, "Out of memory loading %s.", schema);
	sym_xmlRelaxNGSetParserStructuredErrors(pc, rng_error, &re);
	rng = sym_xmlRelaxNGParse(pc);
	sym_xmlRelaxNGFreeParserCtxt(pc);
	if (!rng)
		return vh_err_set(e, -EINVAL,
				  "Cannot load the profile schema %s: %s. Reinstall vfio-hooks.",
				  schema, re.msg[0] ? re.msg : "unreadable");
	if (c->rng)
		sym_xmlRelaxNGFree(c->rng);
	c->rng = rng;
	vh_strlcpy(c->rng_schema, schema, sizeof(c->rng_schema));
have_schema:
	vc = sym_xmlRelaxNGNewValidCtxt(rng);
	if (!vc)
		return -ENOMEM;
	sym_xmlRelaxNGSetValidStructuredErrors(vc, rng_error, &re);
	r = sym_xmlRelaxNGValidateDoc(vc, doc);
	sym_xmlRelaxNGFreeValidCtxt(vc);
	if (r != 0)
		return vh_err_set(e, -EINVAL, "%s:%d: invalid profile: %s (schema %s).", path,
				  re.line, re.msg[0] ? re.msg : "invalid", schema);
	return 0;
}

int vh_kernel_version_parse(const char *s, unsigned ret[3])
{
	unsigned v[3] = {0, 0, 0};
	int i = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	while (i < 3 && *s >= '0' && *s <= '9') {
		unsigned long n = strtoul(s, (char **)&s, 10);
		v[i++] = n > 99999 ? 99999 : (unsigned)n;
		if (*s != '.' || s[1] < '0' || s[1] > '9')
			break;
		s++;
	}
	memcpy(ret, v, sizeof(v));
	return 0;
}

int vh_kernel_version_cmp(const unsigned a[3], const unsigned b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int parse_kernel(xmlNode *n, struct vh_guest_kernel *k)
{
	k->hypervisor = vh_xml_prop(n, "hypervisor");
	k->min = vh_xml_prop(n, "min");
	k->why = vh_xml_text(vh_xml_child(n, "why"));
	if (!k->hypervisor || !k->min)
		return -ENOMEM;
	(void)vh_kernel_version_parse(k->min, k->min_v);
	for (xmlNode *c = vh_xml_child(n, "commit"); c; c = vh_xml_next(c, "commit")) {
		_cleanup_free_ char *id = vh_xml_prop(c, "id");
		_cleanup_free_ char *title = vh_xml_text(c);
		char **nc = realloc(k->commits, (k->n_commits + 1) * sizeof(*nc));
		if (!nc || !id)
			return -ENOMEM;
		k->commits = nc;
		if (asprintf(&k->commits[k->n_commits], "%.12s (\"%s\")", id, title ? title : "") <
		    0)
			return -ENOMEM;
		k->n_commits++;
	}
	return 0;
}

static int parse_guest(xmlNode *guest, struct vh_profile *p)
{
	xmlNode *n;

	if ((n = vh_xml_child(guest, "driver")) && !(p->guest_driver = vh_xml_prop(n, "name")))
		return -ENOMEM;
	for (n = vh_xml_child(guest, "kernel"); n; n = vh_xml_next(n, "kernel")) {
		struct vh_guest_kernel *nk =
		    realloc(p->guest_kernels, (p->n_guest_kernels + 1) * sizeof(*nk));
		int r;
		if (!nk)
			return -ENOMEM;
		p->guest_kernels = nk;
		nk[p->n_guest_kernels] = (struct vh_guest_kernel){0};
		r = parse_kernel(n, &nk[p->n_guest_kernels++]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_modules(xmlNode *host, struct vh_profile *p)
{
	for (xmlNode *n = vh_xml_child(host, "kernel-module"); n;
	     n = vh_xml_next(n, "kernel-module")) {
		struct vh_kernel_module *nm = realloc(p->modules, (p->n_modules + 1) * sizeof(*nm));
		if (!nm)
			return -ENOMEM;
		p->modules = nm;
		nm = &p->modules[p->n_modules++];
		*nm = (struct vh_kernel_module){
		    .name = vh_xml_prop(n, "name"),
		    .why = vh_xml_prop(n, "why"),
		    .install = vh_xml_prop(n, "install"),
		};
		if (!nm->name)
			return -ENOMEM;
	}
	return 0;
}

/* Whether @m ('_' for '-') is built into the running kernel: a line
 * ".../NAME.ko" of /lib/modules/RELEASE/modules.builtin (a built-in
 * without parameters has no /sys/module entry). */
static bool module_builtin(const struct vh_sys *sys, const char *m)
{
	_cleanup_free_ char *rel = vh_host_slurp(sys, "/proc/sys/kernel/osrelease"), *list = NULL;
	char path[PATH_MAX];

	if (!rel || !rel[0] || strchr(rel, '/'))
		return false;
	rel[strcspn(rel, "\n")] = '\0';
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.builtin", rel);
	list = vh_host_slurp_max(sys, path, 1 << 20);
	for (char *line = list; line && *line;) {
		char *end = strchr(line, '\n'), *base;
		size_t l;
		if (end)
			*end = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		l = strlen(base);
		if (l > 3 && streq(base + l - 3, ".ko")) {
			base[l - 3] = '\0';
			for (char *ch = base; *ch; ch++)
				*ch = *ch == '-' ? '_' : *ch;
			if (streq(base, m))
				return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

bool vh_kernel_module_loaded(const struct vh_sys *sys, const char *name)
{
	char m[64];

	if (strlen(name) >= sizeof(m) || strchr(name, '/'))
		return false;
	for (size_t i = 0;; i++) {
		m[i] = name[i] == '-' ? '_' : name[i];
		if (!name[i])
			break;
	}
	if (vh_sys_exists(sys, "/sys/module/%s", m) == 1)
		return true;
	return module_builtin(sys, m);
}

char *vh_kernel_module_fix(const struct vh_kernel_module *m)
{
	return vh_fmt(
	    "%s%sload it now and at every boot: modprobe %s; echo %s > /etc/modules-load.d/%s.conf (to load it earlier, from the initramfs: add it to /etc/initramfs-tools/modules and run update-initramfs -u)",
	    m->install ? m->install : "", m->install ? "; then " : "", m->name, m->name, m->name);
}

static int parse_profile(xmlDoc *doc, const char *path, struct vh_profile *p)
{
	xmlNode *root = sym_xmlDocGetRootElement(doc), *m, *vm, *host, *n;
	char *s;

	p->id = vh_xml_prop(root, "id");
	p->file = strdup(path);
	p->description = vh_xml_text(vh_xml_child(root, "description"));
	if (!p->id || !p->file || !p->description)
		return -ENOMEM;

	m = vh_xml_child(root, "match");
	s = vh_xml_prop(m, "vendor");
	p->vendor = (uint16_t)hex(s);
	free(s);
	for (n = vh_xml_child(m, "device"); n; n = vh_xml_next(n, "device")) {
		uint16_t *nd = realloc(p->devices, (p->n_devices + 1) * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		p->devices = nd;
		s = vh_xml_prop(n, "id");
		p->devices[p->n_devices++] = (uint16_t)hex(s);
		free(s);
	}
	if ((n = vh_xml_child(m, "class"))) {
		p->has_class = true;
		s = vh_xml_prop(n, "value");
		p->class_value = hex(s);
		free(s);
		s = vh_xml_prop(n, "mask");
		p->class_mask = s ? hex(s) : 0xffffff;
		free(s);
		p->class_value &= p->class_mask;
	}
	if ((n = vh_xml_child(m, "subsystem"))) {
		p->has_subsys = true;
		s = vh_xml_prop(n, "vendor");
		p->subsys_vendor = (uint16_t)hex(s);
		free(s);
		s = vh_xml_prop(n, "device");
		p->subsys_device = (uint16_t)hex(s);
		free(s);
	}

	vm = vh_xml_child(root, "vm");
	p->needs.q35 = vh_xml_child(vm, "machine") != NULL;
	if ((n = vh_xml_child(vm, "iommu"))) {
		_cleanup_free_ char *ir = vh_xml_prop(n, "intremap");
		_cleanup_free_ char *cm = vh_xml_prop(n, "caching-mode");
		p->needs.viommu = true;
		p->needs.intremap = streq(ir, "on");
		p->needs.caching_mode = streq(cm, "on");
	}
	p->needs.ioapic_split = vh_xml_child(vm, "ioapic") != NULL;
	if ((n = vh_xml_child(vm, "msi"))) {
		unsigned long long v = 0;
		s = vh_xml_prop(n, "vectors");
		(void)vh_parse_uint(s, 10, 32, &v);
		free(s);
		p->needs.min_msi = (unsigned)v;
	}
	if ((n = vh_xml_child(vm, "xen"))) {
		_cleanup_free_ char *g = vh_xml_prop(n, "guest");
		p->needs.xen_hvm = streq(g, "hvm");
	}
	p->why = vh_xml_text(vh_xml_child(vm, "why"));

	host = vh_xml_child(root, "host");
	p->reset_on_release = true;
	p->vfio_driver = strdup("vfio-pci");
	if (!p->vfio_driver)
		return -ENOMEM;
	if ((n = vh_xml_child(host, "vfio-driver"))) {
		free(p->vfio_driver);
		p->vfio_driver = vh_xml_prop(n, "name");
	}
	if ((n = vh_xml_child(host, "reset-method"))) {
		p->set_reset_method = true;
		p->reset_method = vh_xml_prop(n, "value");
	}
	if ((n = vh_xml_child(host, "reset-on-release"))) {
		_cleanup_free_ char *v = vh_xml_prop(n, "value");
		p->reset_on_release = streq(v, "yes");
	}
	if ((n = vh_xml_child(host, "companions"))) {
		_cleanup_free_ char *v = vh_xml_prop(n, "policy");
		(void)vh_companions_parse(v, &p->companions);
	}
	if ((n = vh_xml_child(host, "sriov"))) {
		_cleanup_free_ char *v = vh_xml_prop(n, "pf");
		p->sriov_pf_host = streq(v, "host");
		xmlNode *vs = vh_xml_child(n, "vf-settings");
		if (vs) {
			p->vf_dir = vh_xml_prop(vs, "dir");
			for (xmlNode *k = vh_xml_child(vs, "setting"); k;
			     k = vh_xml_next(k, "setting")) {
				_cleanup_free_ char *kn = vh_xml_prop(k, "name");
				_cleanup_free_ char *kv = vh_xml_prop(k, "value");
				if (!kn || !kv || vh_settings_set(&p->vf_settings, kn, kv) < 0)
					return -ENOMEM;
			}
		}
	}
	if ((n = vh_xml_child(host, "pciback"))) {
		_cleanup_free_ char *v = vh_xml_prop(n, "permissive");
		p->pciback_permissive = streq(v, "yes");
	}
	for (n = vh_xml_child(host, "kernel-parameter"); n;
	     n = vh_xml_next(n, "kernel-parameter")) {
		char **nk = realloc(p->kernel_params, (p->n_kernel_params + 1) * sizeof(*nk));
		if (!nk)
			return -ENOMEM;
		p->kernel_params = nk;
		p->kernel_params[p->n_kernel_params] = vh_xml_prop(n, "value");
		if (!p->kernel_params[p->n_kernel_params])
			return -ENOMEM;
		p->n_kernel_params++;
	}
	if (parse_modules(host, p) < 0)
		return -ENOMEM;
	return parse_guest(vh_xml_child(root, "guest"), p);
}

/* Drop the profile @id, if loaded: a later file of the same id replaces
 * it even when that file is not parsed. */
static void drop_id(struct vh_profiles *ps, const char *id)
{
	for (size_t i = 0; i < ps->n; i++)
		if (streq(ps->v[i].id, id)) {
			profile_clear(&ps->v[i]);
			memmove(&ps->v[i], &ps->v[i + 1], (ps->n - i - 1) * sizeof(*ps->v));
			ps->n--;
			return;
		}
}

static int load_file(struct vh_profile_ctx *c, struct vh_profiles *ps, const char *path,
		     const char *schema, const struct stat *schema_st, struct vh_err *e)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_doc_ xmlDoc *doc = NULL;
	_cleanup_close_ int fd = -1;
	struct vh_profile p = {0};
	char key[PATH_MAX * 2 + 160];
	struct stamp_info si = {0};
	const char *line;
	struct stat st;
	size_t len, ll = 0;
	int r;

	/* One open file for the owner check, the stamp and the content. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0)
		return vh_err_set(e, -errno, "Cannot read profile %s: %s.", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vh_err_set(e, -EINVAL, "Profile %s is not a regular file.", path);
	r = vh_check_trusted(path, &st, "device profiles", e);
	if (r < 0)
		return r;
	stamp_key(key, sizeof(key), path, &st, schema, schema_st);
	line = stamped(c, key, &ll);
	if (line)
		stamp_info_parse(line, ll, &si);
	if (si.known && !wanted(c, &si)) {
		/* Valid and unchanged since it was stamped, and for devices
		 * this load does not want: not parsed. */
		drop_id(ps, si.id);
		vh_buf_printf(&c->new_stamps, "%.*s\n", (int)ll, line);
		return 0;
	}
	r = vh_read_fd_capped(fd, path, 1u << 20, &buf, &len, e);
	if (r < 0)
		return r;
	r = vh_xml_parse(buf, len, path, 0, &doc, e);
	if (r < 0)
		return r;
	if (!line) {
		c->n_validations++;
		r = validate(c, doc, path, schema, e);
		if (r < 0)
			return r;
	}
	r = parse_profile(doc, path, &p);
	if (r < 0) {
		profile_clear(&p);
		return vh_err_set(e, r, "Out of memory loading %s.", path);
	}
	if (c->stamp_dirfd >= 0) {
		stamp_line(&c->new_stamps, key, &p);
		if (!si.known)
			c->stamps_dirty = true;
	}
	drop_id(ps, p.id);
	{
		struct vh_profile *nv = realloc(ps->v, (ps->n + 1) * sizeof(*nv));
		if (!nv) {
			profile_clear(&p);
			return -ENOMEM;
		}
		ps->v = nv;
		ps->v[ps->n++] = p;
	}
	return 0;
}

int vh_profiles_load_file(struct vh_profiles *ps, const char *path, const char *schema,
			  struct vh_err *e)
{
	struct stat ss = {0};

	struct vh_profile_ctx c;
	int r;

	vh_profile_ctx_init(&c);
	(void)stat(schema, &ss);
	r = load_file(&c, ps, path, schema, &ss, e);
	vh_profile_ctx_done(&c);
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct vh_profile_ctx *c, struct vh_profiles *ps, const char *dir,
		    const char *schema, const struct stat *schema_st, struct vh_err *e)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (stat(dir, &st) < 0)
		return errno == ENOENT
			   ? 0
			   : vh_err_set(e, -errno, "Cannot read profile directory %s: %s.", dir,
					strerror(errno));
	r = vh_check_trusted(dir, &st, "device profiles", e);
	if (r < 0)
		return r;
	d = opendir(dir);
	if (!d)
		return vh_err_set(e, -errno, "Cannot read profile directory %s: %s.", dir,
				  strerror(errno));
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0)
			continue;
		if (n + 2 > cap) {
			char **nn;
			cap = cap ? cap * 2 : 16;
			nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
		}
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		names[++n] = NULL;
	}
	closedir(d);
	if (r == 0 && names) {
		/* Sorted, so loading is the same on every file system. */
		qsort(names, n, sizeof(*names), cmp_name);
	}
	for (size_t i = 0; r == 0 && i < n; i++)
		r = load_file(c, ps, names[i], schema, schema_st, e);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int vh_profiles_load_ctx(struct vh_profile_ctx *c, const char *const *dirs, const char *schema,
			 struct vh_profiles *ret, struct vh_err *e)
{
	struct vh_profiles ps = {0};
	struct stat ss = {0};
	int r;

	(void)stat(schema, &ss);
	for (const char *const *d = dirs; d && *d; d++) {
		r = load_dir(c, &ps, *d, schema, &ss, e);
		if (r < 0) {
			c->stamps_dirty = false; /* nothing saved of a failed load */
			stamps_save(c);
			vh_profiles_done(&ps);
			return r;
		}
	}
	stamps_save(c);
	*ret = ps;
	return 0;
}

int vh_profiles_load(const char *const *dirs, const char *schema, struct vh_profiles *ret,
		     struct vh_err *e)
{
	struct vh_profile_ctx c;
	int r;

	vh_profile_ctx_init(&c);
	r = vh_profiles_load_ctx(&c, dirs, schema, ret, e);
	vh_profile_ctx_done(&c);
	return r;
}

static bool matches(const struct vh_profile *p, const struct vh_pci_dev *d)
{
	bool dev_ok = p->n_devices == 0;

	if (p->vendor != d->vendor)
		return false;
	for (size_t i = 0; i < p->n_devices && !dev_ok; i++)
		dev_ok = p->devices[i] == d->device;
	if (!dev_ok)
		return false;
	if (p->has_class && (d->class & p->class_mask) != p->class_value)
		return false;
	if (p->has_subsys &&
	    (p->subsys_vendor != d->subsys_vendor || p->subsys_device != d->subsys_device))
		return false;
	return true;
}

int vh_profile_specificity(const struct vh_profile *p)
{
	return (p->has_subsys ? 8 : 0) + (p->n_devices ? 4 : 0) + (p->has_class ? 2 : 0) + 1;
}

const struct vh_profile *vh_profiles_match(const struct vh_profiles *ps, const struct vh_pci_dev *d)
{
	const struct vh_profile *best = NULL;

	for (size_t i = 0; i < ps->n; i++) {
		const struct vh_profile *p = &ps->v[i];
		int s, bs;
		if (!matches(p, d))
			continue;
		if (!best) {
			best = p;
			continue;
		}
		s = vh_profile_specificity(p);
		bs = vh_profile_specificity(best);
		if (s > bs || (s == bs && strcmp(p->id, best->id) < 0))
			best = p;
	}
	return best;
}
