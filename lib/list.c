/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "list.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "host.h"
#include "journal.h"
#include "persist.h"

/* The domain holding a device per the journals, without creating the state
 * directory when there is none: 1 held (@name), 0 not, or -errno when the
 * journals cannot be read (the state directory not private, a journal
 * list cut short): then nobody can say, and the listing says so. */
static int holder(const struct vh_sys *sys, const struct vh_config *cfg,
		  const struct vh_pci_addr *a, char *name, size_t n)
{
	struct vh_engine en = {.sys = sys, .cfg = cfg};
	char uuid[64];
	int r;

	name[0] = '\0';
	if (vh_journal_dir_exists(sys) <= 0)
		return 0;
	r = vh_engine_holder(&en, a, name, n, uuid, sizeof(uuid));
	if (r <= 0)
		name[0] = '\0';
	else if (!name[0]) /* a journal without a domain name */
		snprintf(name, n, "domain %s", uuid[0] ? uuid : "(unnamed)");
	return r;
}

/* Whether the ids= value @ids (vendor:device[:subvendor:subdevice[:...]],
 * comma-separated, up to the first blank) names @d. */
static bool ids_name(const char *ids, const struct vh_pci_dev *d)
{
	size_t len = strcspn(ids, " \t\n");

	for (const char *p = ids; p < ids + len;) {
		size_t l = strcspn(p, ", \t\n");
		char one[64];
		unsigned v = 0, dv = 0, sv = 0xffffffff, sd = 0xffffffff;
		int k;
		snprintf(one, sizeof(one), "%.*s", (int)(l < sizeof(one) ? l : sizeof(one) - 1), p);
		k = sscanf(one, "%x:%x:%x:%x", &v, &dv, &sv, &sd);
		if (k >= 2 && v == d->vendor && dv == d->device &&
		    (k < 3 || sv == 0xffffffff || sv == d->subsys_vendor) &&
		    (k < 4 || sd == 0xffffffff || sd == d->subsys_device))
			return true;
		p += l + (p[l] == ',');
	}
	return false;
}

/* The ids= value after "vfio-pci.ids=" (or vfio_pci) in the kernel
 * command line @cmd, or after "options vfio-pci ... ids=" in a
 * modprobe.d file: 1 when it names @d. */
static bool cmdline_binds(const char *cmd, const struct vh_pci_dev *d)
{
	for (const char *p = cmd; p && (p = strstr(p, ".ids=")); p += 5)
		if (p - cmd >= 8 &&
		    (!strncmp(p - 8, "vfio-pci", 8) || !strncmp(p - 8, "vfio_pci", 8)) &&
		    ids_name(p + 5, d))
			return true;
	return false;
}

static bool modprobe_binds(const char *text, const struct vh_pci_dev *d)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		char buf[1024], mod[64] = "";
		int used = 0;
		snprintf(buf, sizeof(buf), "%.*s", (int)(end ? end - line : (long)strlen(line)),
			 line);
		if (sscanf(buf, " options %63s %n", mod, &used) == 1 &&
		    (streq(mod, "vfio-pci") || streq(mod, "vfio_pci")))
			for (char *p = strstr(buf + used, "ids="); p; p = strstr(p + 4, "ids="))
				if ((p == buf + used || p[-1] == ' ' || p[-1] == '\t') &&
				    ids_name(p + 4, d))
					return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

/* Where modprobe reads its options (modprobe.d(5)). */
static const char *const modprobe_dirs[] = {"/etc/modprobe.d", "/run/modprobe.d",
					    "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d",
					    "/lib/modprobe.d"};

int vh_vfio_explain(const struct vh_sys *sys, const struct vh_config *cfg,
		    const struct vh_pci_dev *d, char *why, size_t n)
{
	struct vh_engine en = {.sys = sys, .cfg = cfg};
	char held[200], rule[256], use[192];
	_cleanup_free_ char *cmd = NULL;
	char **files = NULL;
	int r, nf;

	r = holder(sys, cfg, &d->addr, held, sizeof(held));
	if (r < 0)
		return r;
	if (r > 0) {
		snprintf(why, n, "held by %s%s (its journal in /run/vfio-hooks)",
			 strchr(held, ' ') || streq(held, VH_MANUAL_DOMAIN) ? "" : "domain ", held);
		return 1;
	}
	r = vh_engine_vfio_user(&en, &d->addr, use, sizeof(use));
	if (r < 0)
		return r;
	if (r > 0) {
		snprintf(why, n, "in use: %s", use);
		return 1;
	}
	snprintf(rule, sizeof(rule), VH_PERSIST_DIR "/90-vfio-hooks-%s.rules", d->name);
	if (vh_sys_exists(sys, "%s", rule) > 0) {
		snprintf(why, n, "bound at boot by 'vfio-hooks bind --persist' (%s)", rule);
		return 1;
	}
	cmd = vh_host_slurp(sys, "/proc/cmdline");
	if (cmdline_binds(cmd, d)) {
		snprintf(why, n, "bound at boot by vfio-pci.ids= on the kernel command line");
		return 1;
	}
	if (vh_sys_exists(sys, "/etc/driverctl.d/pci-%s", d->name) > 0) {
		snprintf(why, n, "a driverctl override (/etc/driverctl.d/pci-%s)", d->name);
		return 1;
	}
	for (size_t k = 0; k < ELEMENTSOF(modprobe_dirs); k++) {
		nf = vh_sys_list(sys, &files, "%s", modprobe_dirs[k]);
		for (int i = 0; i < nf; i++) {
			_cleanup_free_ char *text = NULL;
			char path[300];
			size_t l = strlen(files[i]);
			if (l < 5 || !streq(files[i] + l - 5, ".conf"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", modprobe_dirs[k], files[i]);
			text = vh_host_slurp(sys, path);
			if (text && modprobe_binds(text, d)) {
				snprintf(why, n, "bound at boot by 'options vfio-pci ids=' in %s",
					 path);
				vh_strv_free(files);
				return 1;
			}
		}
		vh_strv_free(files);
		files = NULL;
	}
	return 0;
}

/* One function read into @x; 0 when it is not listed. */
static int gather_one(struct vh_sys *sys, const struct vh_profiles *ps, const struct vh_config *cfg,
		      bool all, const struct vh_pci_addr *a, struct vh_listed *x)
{
	struct vh_pci_dev *d = &x->dev;
	int hr;

	*x = (struct vh_listed){0};
	if (vh_pci_dev_read(sys, a, d) < 0)
		return 0;
	x->profile = vh_profiles_match(ps, d);
	/* A device on a vfio driver matters whatever its class: something
	 * put it there, or nothing explains it. */
	if (!all && !vh_pci_interesting(d, x->profile) && !strstr(d->driver, "vfio"))
		return 0;
	if (strstr(d->driver, "vfio"))
		x->stray = vh_vfio_explain(sys, cfg, d, x->vfio_why, sizeof(x->vfio_why)) == 0;
	vh_pci_names(sys, d->vendor, d->device, x->vendor_name, sizeof(x->vendor_name),
		     x->model_name, sizeof(x->model_name));
	hr = holder(sys, cfg, &d->addr, x->held, sizeof(x->held));
	if (hr == -EACCES && geteuid() != 0)
		snprintf(x->unknown, sizeof(x->unknown),
			 "only root can read the journals in /run/vfio-hooks");
	else if (hr < 0)
		snprintf(x->unknown, sizeof(x->unknown),
			 "cannot read the journals in /run/vfio-hooks: %s", strerror(-hr));
	if (d->iommu_group >= 0)
		x->n_group = vh_iommu_group_members(sys, d->iommu_group, &x->group);
	if (vh_pci_in_use(sys, d, &x->uses) < 0)
		x->uses = (struct vh_uses){0};
	return 1;
}

int vh_listing_gather(struct vh_sys *sys, const struct vh_profiles *ps, const struct vh_config *cfg,
		      bool all, struct vh_listing *ret)
{
	struct vh_listing l = {.all = all};
	struct vh_pci_addr *addrs = NULL;
	int n = vh_pci_list(sys, &addrs);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct vh_listed x, *nv;
		if (!gather_one(sys, ps, cfg, all, &addrs[i], &x))
			continue;
		nv = realloc(l.v, (l.n + 1) * sizeof(*nv));
		if (!nv) {
			vh_uses_done(&x.uses);
			free(x.group);
			vh_listing_done(&l);
			free(addrs);
			return -ENOMEM;
		}
		l.v = nv;
		l.v[l.n++] = x;
	}
	free(addrs);
	*ret = l;
	return 0;
}

void vh_listing_done(struct vh_listing *l)
{
	for (size_t i = 0; i < l->n; i++) {
		vh_uses_done(&l->v[i].uses);
		free(l->v[i].group);
	}
	free(l->v);
	*l = (struct vh_listing){0};
}

static void json_s(struct vh_buf *o, const char *k, const char *v)
{
	vh_buf_printf(o, ",\"%s\":", k);
	if (!v) {
		vh_buf_puts(o, "null");
		return;
	}
	vh_buf_puts(o, "\"");
	vh_buf_json_str(o, v);
	vh_buf_puts(o, "\"");
}

static void listed_json(const struct vh_listed *x, bool first, struct vh_buf *o)
{
	const struct vh_pci_dev *d = &x->dev;
	const struct vh_profile *p = x->profile;
	const char *mn = x->model_name;
	char a[VH_PCI_ADDR_LEN];

	vh_buf_printf(o, "%s{\"address\":\"%s\"", first ? "" : ",", d->name);
	vh_buf_printf(o, ",\"vendor\":\"%04x\",\"device\":\"%04x\",\"class\":\"%06x\"", d->vendor,
		      d->device, d->class);
	json_s(o, "name", mn[0] ? mn : p ? p->description : NULL);
	json_s(o, "driver", d->driver[0] ? d->driver : NULL);
	vh_buf_puts(o, ",");
	vh_pci_json_group(o, d->iommu_group, x->group, x->n_group);
	json_s(o, "reset_method", d->has_reset_method ? d->reset_method : NULL);
	vh_buf_printf(o, ",\"msi_vectors\":%u,\"msix_vectors\":%u", d->caps.msi_vectors,
		      d->caps.msix_vectors);
	if (d->sriov_totalvfs >= 0)
		vh_buf_printf(o, ",\"sriov\":{\"total\":%d,\"num\":%d}", d->sriov_totalvfs,
			      d->sriov_numvfs);
	else
		vh_buf_puts(o, ",\"sriov\":null");
	if (d->is_vf) {
		vh_pci_addr_format(&d->physfn, a);
		json_s(o, "physfn", a);
	}
	json_s(o, "profile", p ? p->id : NULL);
	json_s(o, "held_by", x->held[0] ? x->held : NULL);
	vh_buf_puts(o, ",\"in_use\":[");
	for (size_t k = 0; k < x->uses.n; k++) {
		vh_buf_printf(o, "%s{", k ? "," : "");
		vh_buf_json_kv(o, "severity", x->uses.v[k].error ? "error" : "warning", true);
		vh_buf_json_kv(o, "reason", x->uses.v[k].reason, true);
		vh_buf_json_kv(o, "fix", x->uses.v[k].fix, false);
		vh_buf_puts(o, "}");
	}
	vh_buf_puts(o, "]");
	if (x->unknown[0])
		json_s(o, "held_by_error", x->unknown);
	if (strstr(d->driver, "vfio")) {
		json_s(o, "vfio_reason", x->vfio_why[0] ? x->vfio_why : NULL);
		vh_buf_printf(o, ",\"vfio_stray\":%s", x->stray ? "true" : "false");
	}
	vh_buf_puts(o, "}");
}

void vh_listing_json(const struct vh_listing *l, struct vh_buf *out)
{
	vh_buf_puts(out, "[");
	for (size_t i = 0; i < l->n; i++)
		listed_json(&l->v[i], i == 0, out);
	vh_buf_puts(out, "]\n");
}

static void listed_text(const struct vh_listed *x, struct vh_buf *o)
{
	const struct vh_pci_dev *d = &x->dev;
	const struct vh_profile *p = x->profile;
	const char *vn = x->vendor_name, *mn = x->model_name, *unknown = x->unknown;
	char a[VH_PCI_ADDR_LEN];

	vh_buf_printf(o, "%s %s [%04x]: %s%s%s [%04x:%04x]\n", d->name, vh_pci_class_name(d->class),
		      d->class >> 8, vn[0] ? vn : "", vn[0] ? " " : "",
		      mn[0] ? mn
		      : p   ? p->description
			    : "Device",
		      d->vendor, d->device);
	vh_buf_printf(o, "\tDriver: %s\n", d->driver[0] ? d->driver : "(none)");
	if (d->iommu_group >= 0) {
		vh_buf_printf(o, "\tIOMMU group %d:", d->iommu_group);
		for (int k = 0; k < x->n_group; k++) {
			vh_pci_addr_format(&x->group[k], a);
			vh_buf_printf(o, " %s", a);
		}
		vh_buf_puts(o, "\n");
	} else {
		vh_buf_puts(o, "\tIOMMU group: none (IOMMU off?)\n");
	}
	vh_buf_printf(o, "\tReset method: %s   MSI: %u   MSI-X: %u",
		      d->has_reset_method ? (d->reset_method[0] ? d->reset_method : "(disabled)")
					  : "(none)",
		      d->caps.msi_vectors, d->caps.msix_vectors);
	if (d->sriov_totalvfs >= 0)
		vh_buf_printf(o, "   SR-IOV: %d of %d VFs", d->sriov_numvfs, d->sriov_totalvfs);
	if (d->is_vf) {
		vh_pci_addr_format(&d->physfn, a);
		vh_buf_printf(o, "   VF of %s", a);
	}
	vh_buf_printf(o, "\n\tProfile: %s   Held by: %s%s%s\n", p ? p->id : "(none)",
		      x->held[0]   ? x->held
		      : unknown[0] ? "unknown ("
				   : "-",
		      unknown, unknown[0] ? ")" : "");
	for (size_t k = 0; k < x->uses.n; k++)
		vh_buf_printf(o, "\tIn use by the host: %s\n", x->uses.v[k].reason);
	if (x->stray)
		vh_buf_printf(
		    o,
		    "\tOn %s, and nothing holds it: no VM, no journal, no boot binding (a device hot-plugged with plain virsh, or left by a crash or a hand bind). 'vfio-hooks unbind %s' gives it back to the host.\n",
		    d->driver, d->name);
	else if (x->vfio_why[0] && !x->held[0])
		vh_buf_printf(o, "\tOn %s: %s\n", d->driver, x->vfio_why);
}

void vh_listing_text(const struct vh_listing *l, struct vh_buf *out)
{
	for (size_t i = 0; i < l->n; i++)
		listed_text(&l->v[i], out);
	if (!l->n)
		vh_buf_puts(
		    out,
		    l->all
			? "No PCI functions.\n"
			: "No accelerator, display or co-processor function and no profiled device (see --all).\n");
}
