/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "check.h"
#include "sriov.h"

#include <stdio.h>
#include <string.h>

#include "inuse.h"
#include "memlock.h"
#include "mmio.h"
#include "qemucaps.h"
#include "xml.h"

static const char *const severity_names[] = {
    [VH_INFO] = "info",
    [VH_WARNING] = "warning",
    [VH_ERROR] = "error",
};

const char *vh_severity_name(enum vh_severity s)
{
	return (size_t)s < ELEMENTSOF(severity_names) ? severity_names[s] : "?";
}

unsigned vh_report_n_refusing_in_warn(const struct vh_report *r)
{
	unsigned n = 0;

	for (size_t i = 0; i < r->n_findings; i++) {
		const struct vh_finding *f = &r->findings[i];
		n += f->severity == VH_ERROR && vh_rules[f->id].refuses_in_warn;
	}
	return n;
}

/* An <interface type='network'> taking a device from a hostdev pool. */
struct pool_note {
	const struct vh_netif *ni;
	size_t n;		 /* devices in the pool */
	struct vh_pci_addr addr; /* the one checked */
	char *error;		 /* why none is checked; NULL: one is */
};

/* What the host uses of a device: vh_pci_in_use in two texts. */
struct host_use {
	bool error; /* refuses: the host loses something it runs on */
	char *reasons, *fixes;
};

/* An endpoint of a hostdev's IOMMU group that is on a host driver and not
 * in the domain. */
struct companion {
	struct vh_pci_addr addr;
	char driver[64];
	int iommu_group;
	const char *note;    /* why the hook never binds it; NULL: it may */
	struct host_use use; /* reasons NULL: no use found, or not looked */
};

/* The companions of the first device in the domain of an IOMMU group. */
struct group {
	size_t dev; /* its index in the report's devices */
	enum vh_companions pol;
	bool any_excluded;
	struct companion *v;
	size_t n;
};

/* Evaluation context: the report being built, plus what rules share. */
struct vh_check_ctx {
	const struct vh_sys *sys;
	const struct vh_profiles *ps;
	const struct vh_domain *dom;
	const struct vh_check_opts *opts;
	struct vh_report *rep;
	enum vh_hypervisor hv; /* resolved: QEMU or XEN */
	int err;	       /* -ENOMEM, sticky */
	/* What QEMU makes of the vIOMMU's switches: known once asked. */
	struct vh_viommu_eff eff;
	unsigned qemu_version;
	bool eff_known, version_known;
	/* One device of each <forward mode='hostdev'> pool an <interface
	 * type='network'> takes from: what the guest gets is alike. */
	struct vh_resolved *pool;
	struct vh_hostdev *pool_hd;
	size_t n_pool;
	/* What resolve_pools found of each such interface, for
	 * rule_network_pools. */
	struct pool_note *notes;
	size_t n_notes;
	/* Each IOMMU group's companions (plan_companions), for rule_groups. */
	struct group *groups;
	size_t n_groups;
	char subj[160]; /* "The domain 'vm'" / "The QEMU command line of 'vm'" */
	char obj[160];	/* the same, mid-sentence */
};

static bool qemu(const struct vh_check_ctx *c)
{
	return c->dom->dialect == VH_DIALECT_QEMU;
}

/* Add a finding of @rule at @sev, a severity the catalog gives it (its
 * .severity or .other.severity: anything else fails the check, a bug);
 * takes ownership of the strings and the device list. */
static struct vh_finding *add_as(struct vh_check_ctx *c, enum vh_rule_id rule, enum vh_severity sev,
				 const struct vh_pci_addr *addr, char **devices, char *message,
				 char *why, char *fix_where, char *fix)
{
	const struct vh_rule_info *ri = &vh_rules[rule];
	struct vh_report *r = c->rep;
	struct vh_finding *nv = NULL, *f;
	bool documented = sev == ri->severity || (ri->other.when && sev == ri->other.severity);

	if (documented)
		nv = realloc(r->findings, (r->n_findings + 1) * sizeof(*nv));
	if (!nv || !message) {
		if (nv)
			r->findings = nv;
		vh_strv_free(devices);
		free(message);
		free(why);
		free(fix_where);
		free(fix);
		c->err = documented ? -ENOMEM : -EINVAL;
		return NULL;
	}
	r->findings = nv;
	if (message[0] >= 'a' && message[0] <= 'z')
		message[0] = (char)(message[0] - 'a' + 'A');
	f = &r->findings[r->n_findings++];
	*f = (struct vh_finding){.id = rule, .rule = vh_rule_id_to_string(rule), .severity = sev};
	if (addr) {
		f->has_addr = true;
		f->addr = *addr;
	}
	f->devices = devices;
	f->message = message;
	f->why = why;
	f->fix_where = fix_where;
	f->fix = fix;
	if (fix && c->dom->nova.present)
		f->fix_nova = ri->fix_nova;
	if (sev == VH_ERROR)
		r->n_error++;
	else if (sev == VH_WARNING)
		r->n_warning++;
	else
		r->n_info++;
	return f;
}

/* Add a finding of @rule at the catalog's severity for it. */
static struct vh_finding *add(struct vh_check_ctx *c, enum vh_rule_id rule,
			      const struct vh_pci_addr *addr, char **devices, char *message,
			      char *why, char *fix_where, char *fix)
{
	return add_as(c, rule, vh_rules[rule].severity, addr, devices, message, why, fix_where,
		      fix);
}

static char **one_device(const struct vh_pci_addr *a)
{
	char **v = calloc(2, sizeof(*v));

	if (!v)
		return NULL;
	v[0] = malloc(VH_PCI_ADDR_LEN);
	if (!v[0]) {
		free(v);
		return NULL;
	}
	vh_pci_addr_format(a, v[0]);
	return v;
}

/* --- Resolution: read each hostdev, match its profile, derive needs. --- */

/* The device as messages name it, made on first use: the names may come
 * from a database the front end loads on demand (vh_sys_set_namer), which
 * a check that reports nothing about the device never needs. */
static void make_label(struct vh_resolved *rd)
{
	char vn[96], mn[128];
	const struct vh_pci_dev *d = &rd->dev;

	if (!d->present) {
		snprintf(rd->label, sizeof(rd->label), "%s", d->name);
		return;
	}
	vh_pci_names(d->read_by, d->vendor, d->device, vn, sizeof(vn), mn, sizeof(mn));
	if (vn[0] && mn[0])
		snprintf(rd->label, sizeof(rd->label), "%s %s at %s [%04x:%04x]", vn, mn, d->name,
			 d->vendor, d->device);
	else if (rd->profile)
		snprintf(rd->label, sizeof(rd->label), "%s at %s [%04x:%04x]",
			 rd->profile->description, d->name, d->vendor, d->device);
	else
		snprintf(rd->label, sizeof(rd->label), "the device at %s [%04x:%04x]", d->name,
			 d->vendor, d->device);
}

static const char *label(const struct vh_resolved *rd)
{
	/* A cache of the resolved device, filled in place. */
	struct vh_resolved *m = (struct vh_resolved *)rd;

	if (!m->label[0])
		make_label(m);
	return m->label;
}

static void derive_needs(struct vh_check_ctx *c, struct vh_resolved *rd)
{
	const struct vh_pci_dev *d = &rd->dev;
	const struct vh_profile *p = rd->profile;
	size_t w = 0;

	(void)c;
	if (p) {
		rd->needs = p->needs;
		/* Many MSI vectors: what Xen's PV PCI front end cannot give. */
		if (p->needs.min_msi > 1)
			rd->needs.xen_hvm = true;
		w += (size_t)snprintf(rd->needs_why, sizeof(rd->needs_why), "profile '%s' (%s)%s%s",
				      p->id, p->file, p->why ? ": " : "", p->why ? p->why : "");
	}
	/* Beyond any profile: multi-vector MSI without MSI-X.  An x86 guest
	 * programs more than one MSI vector only through interrupt remapping,
	 * so the device needs what the AIC100 needs. */
	if (d->caps.msi_vectors > 1 && !d->caps.msix_vectors && !(p && p->needs.intremap)) {
		struct vh_needs *n = &rd->needs;
		n->q35 = n->viommu = n->intremap = n->caching_mode = true;
		n->ioapic_split = true;
		if (n->min_msi < d->caps.msi_vectors)
			n->min_msi = d->caps.msi_vectors;
		if (w < sizeof(rd->needs_why))
			snprintf(
			    rd->needs_why + w, sizeof(rd->needs_why) - w,
			    "%sits config space offers MSI with %u vectors and no MSI-X: an x86 guest can use more than one MSI vector only with interrupt remapping from an emulated IOMMU, or the guest driver gets a single vector",
			    w ? "; and " : "", d->caps.msi_vectors);
	}
}

/* The devices whose profiles the check will look up, for
 * opts->load_profiles: 1 and their distinct ids, or 0 when one is unknown
 * (a device whose IDs could not be read). */
static int ids_of(const struct vh_report *rep, const struct vh_pci_dev *vfm, struct vh_pci_id *v,
		  size_t *ret_n)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->n_devs; i++) {
		const struct vh_resolved *rd = &rep->devs[i];
		const struct vh_pci_dev *d = rd->vf_create ? &vfm[i] : &rd->dev;
		size_t j;
		if (!rd->vf_create && !rd->dev.present)
			continue;
		if (d->err)
			return 0;
		for (j = 0; j < n && (v[j].vendor != d->vendor || v[j].device != d->device); j++)
			;
		if (j == n)
			v[n++] = (struct vh_pci_id){d->vendor, d->device};
	}
	*ret_n = n;
	return 1;
}

/* The pool of network @name when it is a <forward mode='hostdev'> network:
 * 1 and its PCI addresses, 0 when it is another kind, -errno (with @e) when
 * its state cannot be read.  libvirt keeps an active network's definition,
 * the VFs of a <pf dev='...'/> listed, in /run/libvirt/network. */
static int network_pool(struct vh_check_ctx *c, const char *name, struct vh_pci_addr **ret,
			size_t *ret_n, struct vh_err *e)
{
	_cleanup_free_ char *buf = NULL, *mode = NULL;
	_cleanup_doc_ xmlDoc *doc = NULL;
	_cleanup_free_ struct vh_pci_addr *v = NULL;
	xmlNode *root, *net, *fwd;
	size_t len, n = 0;
	int r;

	if (!name[0] || name[0] == '.' || strchr(name, '/'))
		return vh_err_set(e, -EINVAL, "'%.64s' is not a network name", name);
	r = vh_sys_read_trusted(c->sys, 1u << 20, &buf, &len, e, "/run/libvirt/network/%s.xml",
				name);
	if (r < 0)
		return r;
	r = vh_xml_parse(buf, len, name, VH_XML_LEAN, &doc, e);
	if (r < 0)
		return r;
	root = sym_xmlDocGetRootElement(doc);
	net = vh_xml_is(root, "network") ? root : vh_xml_child(root, "network");
	fwd = vh_xml_child(net, "forward");
	mode = vh_xml_prop(fwd, "mode");
	if (!streq(mode, "hostdev"))
		return 0;
	for (xmlNode *a = vh_xml_child(fwd, "address"); a; a = vh_xml_next(a, "address")) {
		struct vh_hostdev h = {0};
		_cleanup_free_ char *dm = vh_xml_prop(a, "domain");
		_cleanup_free_ char *bus = vh_xml_prop(a, "bus");
		_cleanup_free_ char *sl = vh_xml_prop(a, "slot");
		_cleanup_free_ char *fn = vh_xml_prop(a, "function");
		vh_hostdev_set_address(&h, dm, bus, sl, fn);
		if (!h.addr_ok)
			continue;
		if (VH_APPEND(v, n, h.addr) < 0)
			return -ENOMEM;
	}
	/* Not started yet, or an older libvirt: the PF's VFs from sysfs. */
	if (!n) {
		_cleanup_free_ char *pf = vh_xml_prop(vh_xml_child(fwd, "pf"), "dev");
		char **names = NULL;
		int k = pf && !strchr(pf, '/') && pf[0] != '.'
			    ? vh_sys_list(c->sys, &names, "/sys/class/net/%s/device", pf)
			    : 0;
		for (int i = 0; i < k; i++) {
			char link[32];
			struct vh_pci_addr a;
			if (strncmp(names[i], "virtfn", 6) ||
			    vh_sys_link_name(c->sys, link, sizeof(link),
					     "/sys/class/net/%s/device/%s", pf, names[i]) < 0 ||
			    vh_pci_addr_parse(link, &a) < 0)
				continue;
			if (VH_APPEND(v, n, a) < 0) {
				vh_strv_free(names);
				return -ENOMEM;
			}
		}
		vh_strv_free(names);
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 1;
}

bool vh_hostdev_networks(const struct vh_sys *sys)
{
	char **names = NULL;
	bool any = false;
	int n = vh_sys_list(sys, &names, "/run/libvirt/network");

	for (int i = 0; i < n && !any; i++) {
		_cleanup_free_ char *buf = NULL;
		struct vh_err e = {0};
		size_t l = strlen(names[i]), len;
		if (l < 5 || !streq(names[i] + l - 4, ".xml"))
			continue;
		/* Unreadable or untrusted: the check says so. */
		if (vh_sys_read_trusted(sys, 1u << 20, &buf, &len, &e, "/run/libvirt/network/%s",
					names[i]) < 0) {
			any = true;
			break;
		}
		any = memmem(buf, len, "'hostdev'", 9) || memmem(buf, len, "\"hostdev\"", 9);
	}
	vh_strv_free(names);
	return any;
}

/* A device of each hostdev pool the domain's interfaces take from, in
 * c->pool; each interface's pool in c->notes (rule_network_pools reports
 * them: a warning when a pool cannot be read). */
static int resolve_pools(struct vh_check_ctx *c)
{
	const struct vh_domain *d = c->dom;

	if (!d->n_netifs)
		return 0;
	c->pool = calloc(d->n_netifs, sizeof(*c->pool));
	c->pool_hd = calloc(d->n_netifs, sizeof(*c->pool_hd));
	c->notes = calloc(d->n_netifs, sizeof(*c->notes));
	if (!c->pool || !c->pool_hd || !c->notes)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_netifs; i++) {
		const struct vh_netif *ni = &d->netifs[i];
		_cleanup_free_ struct vh_pci_addr *v = NULL;
		struct vh_err e = {0};
		size_t n = 0, k;
		int r = network_pool(c, ni->network, &v, &n, &e);
		struct vh_hostdev *h = &c->pool_hd[c->n_pool];
		struct vh_resolved *rd = &c->pool[c->n_pool];

		if (r == -ENOMEM)
			return r;
		if (r == 0 || (r < 0 && (r == -ENOENT || r == -EACCES)))
			continue; /* another kind, or not active: libvirt says
				   */
		if (r < 0 || !n) {
			struct pool_note *pn = &c->notes[c->n_notes++];
			*pn = (struct pool_note){
			    .ni = ni, .error = strdup(r < 0 ? e.msg : "its pool lists none")};
			if (!pn->error)
				return -ENOMEM;
			continue;
		}
		for (k = 0; k < n; k++) {
			(void)vh_pci_dev_read(c->sys, &v[k], &rd->dev);
			if (rd->dev.present)
				break;
		}
		if (k == n)
			continue; /* none present: libvirt says at start */
		*h = (struct vh_hostdev){
		    .addr = v[k], .addr_ok = true, .is_interface = true, .line = ni->line};
		snprintf(h->origin, sizeof(h->origin), "the <interface type='network'> at line %d",
			 ni->line);
		rd->hd = h;
		c->n_pool++;
		c->notes[c->n_notes++] = (struct pool_note){.ni = ni, .n = n, .addr = v[k]};
	}
	return 0;
}

/* The interfaces that take a device from a hostdev pool, as resolve_pools
 * found them. */
static void rule_network_pools(struct vh_check_ctx *c)
{
	for (size_t i = 0; i < c->n_notes; i++) {
		const struct pool_note *pn = &c->notes[i];
		char a[VH_PCI_ADDR_LEN];

		if (pn->error) {
			add_as(
			    c, VH_RULE_NETWORK_HOSTDEV, VH_WARNING, NULL, NULL,
			    vh_fmt(
				"The <interface type='network'> at line %d takes a host device from network '%s', but %s: the device libvirt gives the VM is not checked.",
				pn->ni->line, pn->ni->network, pn->error),
			    NULL, strdup("the host"),
			    vh_fmt(
				"virsh net-dumpxml %s (its <forward mode='hostdev'> must list the VFs, or name a <pf dev='...'/> that has them)",
				pn->ni->network));
			continue;
		}
		vh_pci_addr_format(&pn->addr, a);
		add(c, VH_RULE_NETWORK_HOSTDEV, &pn->addr, one_device(&pn->addr),
		    vh_fmt(
			"The <interface type='network'> at line %d takes one of the %zu device%s of network '%s' (<forward mode='hostdev'>), which libvirt picks after this check: the VM is checked against %s.",
			pn->ni->line, pn->n, pn->n == 1 ? "" : "s", pn->ni->network, a),
		    NULL, NULL, NULL);
	}
}

/* Two passes: every device is read first, so that a caller loading
 * profiles on demand (opts->load_profiles) learns the devices before any
 * is matched. */
static int resolve(struct vh_check_ctx *c)
{
	const struct vh_domain *dom = c->dom;
	struct vh_report *rep = c->rep;
	size_t nd = dom->n_hostdevs ? dom->n_hostdevs : 1;
	_cleanup_free_ struct vh_pci_dev *vfm = calloc(nd, sizeof(*vfm));
	int r = resolve_pools(c);

	if (r < 0)
		return r;
	rep->devs = calloc(nd, sizeof(*rep->devs));
	if (!rep->devs || !vfm)
		return -ENOMEM;
	rep->n_devs = dom->n_hostdevs;
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		struct vh_resolved *rd = &rep->devs[i];
		rd->hd = &dom->hostdevs[i];
		if (!rd->hd->addr_ok)
			continue;
		for (size_t j = 0; j < i; j++)
			if (rep->devs[j].hd->addr_ok &&
			    vh_pci_addr_eq(&rep->devs[j].hd->addr, &rd->hd->addr))
				rd->duplicate = true;
		if (rd->duplicate)
			continue;
		(void)vh_pci_dev_read(c->sys, &rd->hd->addr, &rd->dev);
		if (!rd->dev.present && rd->dev.err == 0) {
			struct vh_pci_dev pf;
			struct vh_pci_dev *vf = &vfm[i];
			r = vh_sriov_find_pf(c->sys, &rd->hd->addr, &pf, &rd->vf_n);
			if (r == -ENOMEM)
				return r;
			if (r > 0) {
				rd->vf_create = true;
				rd->vf_pf = pf.addr;
				rd->pf_numvfs = pf.sriov_numvfs;
				/* What the VF will be, for its profile. */
				vf->vendor = pf.vendor;
				vf->device = (uint16_t)pf.caps.sriov_vf_device;
				vf->class = pf.class;
				vf->subsys_vendor = pf.subsys_vendor;
				vf->is_vf = true;
				vf->err = pf.err;
			}
		}
	}
	if (c->opts->load_profiles) {
		_cleanup_free_ struct vh_pci_id *v = calloc(nd + c->n_pool, sizeof(*v));
		size_t n = 0;
		if (!v)
			return -ENOMEM;
		r = ids_of(rep, vfm, v, &n);
		for (size_t i = 0; r > 0 && i < c->n_pool; i++)
			v[n++] = (struct vh_pci_id){c->pool[i].dev.vendor, c->pool[i].dev.device};
		r = r > 0 ? c->opts->load_profiles(c->opts->load_ud, v, n)
			  : c->opts->load_profiles(c->opts->load_ud, NULL, 0);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c->n_pool; i++) {
		c->pool[i].profile = vh_profiles_match(c->ps, &c->pool[i].dev);
		derive_needs(c, &c->pool[i]);
	}
	for (size_t i = 0; i < dom->n_hostdevs; i++) {
		struct vh_resolved *rd = &rep->devs[i];
		if (rd->vf_create) {
			rd->profile = vh_profiles_match(c->ps, &vfm[i]);
			derive_needs(c, rd);
		}
		if (rd->dev.present) {
			rd->profile = vh_profiles_match(c->ps, &rd->dev);
			derive_needs(c, rd);
			if (rd->dev.iommu_group >= 0) {
				int n =
				    vh_iommu_group_members(c->sys, rd->dev.iommu_group, &rd->group);
				if (n == -ENOMEM)
					return n;
				rd->n_group = n > 0 ? n : 0;
			}
		}
	}
	return 0;
}

/* Devices that can be checked further: valid, unique and present. */
static bool usable(const struct vh_resolved *rd)
{
	return rd->hd->addr_ok && !rd->duplicate && rd->dev.present;
}

/* Devices whose needs of the VM are known: present, or a VF the hook will
 * create; and that the guest gets (libvirt gives an <address
 * type='unassigned'/> hostdev to no guest: only the host-side rules apply). */
static bool needs_known(const struct vh_resolved *rd)
{
	return !rd->hd->unassigned &&
	       (usable(rd) || (rd->hd->addr_ok && !rd->duplicate && rd->vf_create));
}

/* --- Rules about the hostdevs themselves. --- */

static void rule_addresses(struct vh_check_ctx *c)
{
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		const struct vh_resolved *rd = &c->rep->devs[i];
		const struct vh_hostdev *h = rd->hd;
		if (!h->addr_ok) {
			add(c, VH_RULE_BAD_ADDRESS, NULL, NULL,
			    vh_fmt("%c%s has an unusable PCI address (%s): %s.",
				   h->origin[0] == 't' ? 'T' : h->origin[0], h->origin + 1,
				   h->addr_text, h->addr_error),
			    NULL,
			    qemu(c) ? vh_fmt("%s", h->origin) : vh_fmt("<source> of %s", h->origin),
			    strdup(
				qemu(c)
				    ? "host=0000:01:00.0  (the address 'lspci -D' shows, as DDDD:BB:SS.F)"
				    : "<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>  (the address 'lspci -D' shows, as DDDD:BB:SS.F)"));
		} else if (rd->duplicate) {
			char a[VH_PCI_ADDR_LEN];
			vh_pci_addr_format(&h->addr, a);
			add(c, VH_RULE_DEVICE_DUPLICATE, &h->addr, one_device(&h->addr),
			    vh_fmt(
				"%s is listed more than once (again in %s): a device can be given to a VM only once.",
				a, h->origin),
			    NULL, strdup(qemu(c) ? "the command line" : "<devices>"),
			    vh_fmt("remove the second one, %s", h->origin));
		}
	}
}

static void rule_presence(struct vh_check_ctx *c)
{
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		const struct vh_resolved *rd = &c->rep->devs[i];
		const struct vh_pci_dev *d = &rd->dev;
		if (!rd->hd->addr_ok || rd->duplicate)
			continue;
		if (!d->present && rd->vf_create && !c->opts->require_bound) {
			char pf[VH_PCI_ADDR_LEN];
			vh_pci_addr_format(&rd->vf_pf, pf);
			if (rd->pf_numvfs <= 0)
				add(c, VH_RULE_SRIOV_VF_CREATE, &d->addr, one_device(&d->addr),
				    vh_fmt(
					"%s does not exist yet: it is virtual function %u of %s. The hook creates it on prepare (sriov_numvfs 0 -> at least %u, sriov_drivers_autoprobe 0) and removes it on release once no domain uses it.",
					d->name, rd->vf_n, pf, rd->vf_n),
				    NULL, NULL, NULL);
			else
				add(c, VH_RULE_SRIOV_NUMVFS_BUSY, &d->addr, one_device(&d->addr),
				    vh_fmt(
					"%s would be virtual function %u of %s, which has %d VFs now: the hook changes sriov_numvfs only from 0, never a count other domains may depend on.",
					d->name, rd->vf_n, pf, rd->pf_numvfs),
				    NULL,
				    qemu(c) ? vh_fmt("host= of %s", rd->hd->origin)
					    : vh_fmt("<source><address/> of %s", rd->hd->origin),
				    vh_fmt(
					"use one of the VFs that exist (see 'vfio-hooks list'), or, when no VM uses a VF of %s: echo 0 > /sys/bus/pci/devices/%s/sriov_numvfs; echo %u > /sys/bus/pci/devices/%s/sriov_numvfs",
					pf, pf, rd->vf_n, pf));
			continue;
		}
		if (!d->present) {
			add(c, VH_RULE_DEVICE_MISSING, &d->addr, one_device(&d->addr),
			    d->err && d->err != -ENOENT
				? vh_fmt("%s cannot be looked up on this host: %s: %s.", d->name,
					 d->err_file, strerror(-d->err))
				: vh_fmt(
				      "%s does not exist on this host (no /sys/bus/pci/devices/%s).",
				      d->name, d->name),
			    NULL,
			    qemu(c) ? vh_fmt("host= of %s", rd->hd->origin)
				    : vh_fmt("<source><address/> of %s", rd->hd->origin),
			    strdup(
				"the address of the device as 'lspci -D' shows it; if the card was moved or the firmware renumbered the buses, update the address"));
			continue;
		}
		if (d->err)
			add(c, VH_RULE_DEVICE_UNREADABLE, &d->addr, one_device(&d->addr),
			    vh_fmt("%s: cannot read %s: %s; checks that need it were skipped.",
				   label(rd), d->err_file, strerror(-d->err)),
			    NULL, NULL,
			    strdup(
				"run as root, or check the kernel log for errors about this device"));
		if (vh_pci_dev_is_chipset_bridge(d))
			/* Header type 0: VFIO would take it. */
			add(c, VH_RULE_DEVICE_BRIDGE, &d->addr, one_device(&d->addr),
			    vh_fmt(
				"%s is the chipset's %s bridge (class %06x): the host cannot give it away, so it cannot be passed through.",
				label(rd), (d->class >> 8) == 0x0600 ? "host" : "ISA/LPC",
				d->class),
			    NULL, strdup(qemu(c) ? "the command line" : "<devices>"),
			    strdup(
				"check the address against 'lspci -D' and pass through the device meant, not the chipset's bridge"));
		else if (vh_pci_dev_is_bridge(d))
			add(c, VH_RULE_DEVICE_BRIDGE, &d->addr, one_device(&d->addr),
			    vh_fmt(
				"%s is a PCI bridge (class %06x, header type %u): bridges cannot be passed through.",
				label(rd), d->class, d->caps.header_type),
			    NULL, strdup(qemu(c) ? "the command line" : "<devices>"),
			    strdup(
				"pass through the endpoint devices behind the bridge instead of the bridge"));
		else if (d->iommu_group < 0 && c->hv != VH_HV_XEN)
			/* In a Xen dom0 the hypervisor owns the IOMMU: Linux
			 * shows no groups. */
			add(c, VH_RULE_HOST_IOMMU_OFF, &d->addr, one_device(&d->addr),
			    vh_fmt(
				"%s has no IOMMU group (no /sys/bus/pci/devices/%s/iommu_group): the host IOMMU is off, so the device cannot be passed through.",
				label(rd), d->name),
			    NULL, strdup("the host"),
			    strdup(
				"enable VT-d (Intel) or AMD-Vi/IOMMU in the firmware setup, add intel_iommu=on (or amd_iommu=on) iommu=pt to the kernel command line, and reboot"));
	}
}

/* --- What the host is using. --- */

/* What the host uses of @d: 1 and @ret (free with host_use_done), 0:
 * nothing, -errno. */
static int host_use(const struct vh_check_ctx *c, const struct vh_pci_dev *d, struct host_use *ret)
{
	struct vh_uses u;
	int r = vh_pci_in_use(c->sys, d, &u);

	if (r <= 0)
		return r;
	*ret = (struct host_use){.error = u.n_error > 0,
				 .reasons = vh_uses_reasons(&u, " "),
				 .fixes = vh_uses_fixes(&u, "\n")};
	vh_uses_done(&u);
	if (ret->reasons)
		return 1;
	free(ret->fixes);
	return -ENOMEM;
}

static void host_use_done(struct host_use *u)
{
	free(u->reasons);
	free(u->fixes);
}

/* A device-in-use finding at @a: an error when the host would lose
 * something it runs on, else a warning (the catalog's other severity);
 * takes @message and @fixes. */
static void add_in_use(struct vh_check_ctx *c, const struct vh_pci_addr *a, bool error,
		       char *message, char *fixes)
{
	add_as(c, VH_RULE_DEVICE_IN_USE, error ? VH_ERROR : VH_WARNING, a, one_device(a), message,
	       error ? strdup("mode warn does not start a VM over this: only mode off does") : NULL,
	       strdup("the host"), fixes);
}

static void rule_in_use(struct vh_check_ctx *c)
{
	for (size_t i = 0; i < c->rep->n_devs && !c->err; i++) {
		const struct vh_resolved *rd = &c->rep->devs[i];
		struct host_use u;
		int r;

		if (!usable(rd) || vh_pci_dev_is_bridge(&rd->dev))
			continue;
		r = host_use(c, &rd->dev, &u);
		if (r < 0) {
			c->err = r;
			return;
		}
		if (r == 0)
			continue;
		add_in_use(c, &rd->dev.addr, u.error,
			   vh_fmt("%s is %s by the host: %s%s", label(rd),
				  u.error ? "in use" : "used", u.reasons,
				  u.error ? " Giving it to the VM takes it from the host." : ""),
			   TAKE_PTR(u.fixes));
		host_use_done(&u);
	}
}

/* --- Rules about what the VM must provide. --- */

/* Collect the usable devices with a given need into a list and a label
 * text (made when a finding asks for it); the first one's address becomes
 * the finding's address. */
struct needers {
	char **addrs;
	const struct vh_resolved **rds;
	size_t n;
	struct vh_buf labels;
	struct vh_buf whys;
	struct vh_pci_addr first;
};

static const char *labels(struct needers *nd)
{
	if (!nd->labels.len)
		for (size_t i = 0; i < nd->n; i++)
			vh_buf_printf(&nd->labels, "%s%s", i ? ", " : "", label(nd->rds[i]));
	return vh_buf_str(&nd->labels);
}

static void needers_add(struct needers *nd, const struct vh_resolved *rd)
{
	char **nv = realloc(nd->addrs, (nd->n + 2) * sizeof(*nv));
	const struct vh_resolved **nr;

	if (!nv)
		return;
	nd->addrs = nv;
	nr = realloc(nd->rds, (nd->n + 1) * sizeof(*nr));
	if (!nr)
		return;
	nd->rds = nr;
	nd->rds[nd->n] = rd;
	nd->addrs[nd->n] = malloc(VH_PCI_ADDR_LEN);
	if (!nd->addrs[nd->n])
		return;
	vh_pci_addr_format(&rd->dev.addr, nd->addrs[nd->n]);
	if (nd->n == 0)
		nd->first = rd->dev.addr;
	nd->addrs[++nd->n] = NULL;
	vh_buf_printf(&nd->whys, "%s%s: %s", nd->whys.len ? "\n" : "", rd->dev.name, rd->needs_why);
}

static void needers_done(struct needers *nd)
{
	vh_strv_free(nd->addrs);
	free(nd->rds);
	vh_buf_done(&nd->labels);
	vh_buf_done(&nd->whys);
}

static bool need_q35(const struct vh_needs *n)
{
	return n->q35;
}
static bool need_viommu(const struct vh_needs *n)
{
	return n->viommu || n->intremap || n->caching_mode;
}
static bool need_intremap(const struct vh_needs *n)
{
	return n->intremap;
}
static bool need_ioapic(const struct vh_needs *n)
{
	return n->ioapic_split;
}

/* The devices the guest gets: the hostdevs, then one of each hostdev pool
 * an interface takes from. */
static size_t n_guest(const struct vh_check_ctx *c)
{
	return c->rep->n_devs + c->n_pool;
}

static const struct vh_resolved *guest_dev(const struct vh_check_ctx *c, size_t k)
{
	return k < c->rep->n_devs ? &c->rep->devs[k] : &c->pool[k - c->rep->n_devs];
}

static void collect(struct vh_check_ctx *c, bool (*want)(const struct vh_needs *),
		    struct needers *nd)
{
	*nd = (struct needers){0};
	for (size_t i = 0; i < n_guest(c); i++) {
		const struct vh_resolved *rd = guest_dev(c, i);
		if (needs_known(rd) && want(&rd->needs))
			needers_add(nd, rd);
	}
}

/* The first device the guest gets whose needs are known, or NULL. */
static const struct vh_resolved *first_known(const struct vh_check_ctx *c)
{
	for (size_t i = 0; i < n_guest(c); i++)
		if (needs_known(guest_dev(c, i)))
			return guest_dev(c, i);
	return NULL;
}

static bool any_usable(const struct vh_check_ctx *c)
{
	return first_known(c) != NULL;
}

static bool intel_iommu(const struct vh_domain *d)
{
	return d->has_iommu && streq(d->iommu_model, "intel");
}

/* What QEMU makes of the vIOMMU: the domain's switches, and QEMU's
 * defaults for those it leaves out.  The version of its QEMU (libvirt's
 * probe) is read only when @versioned, where a left-out switch decides a
 * finding: the wrapper runs confined under libvirt, where the probe is not
 * its to read. */
static const struct vh_viommu_eff *eff(struct vh_check_ctx *c, bool versioned)
{
	if (versioned && !c->version_known) {
		c->qemu_version = vh_qemu_version(c->sys, c->dom->emulator);
		c->version_known = true;
		c->eff_known = false;
	}
	if (!c->eff_known) {
		vh_viommu_effective(c->dom, c->qemu_version, &c->eff);
		c->eff_known = true;
	}
	return &c->eff;
}

static bool left_out(enum vh_switch s)
{
	return s != VH_ON && s != VH_OFF;
}

/* What the emulated IOMMU does about interrupt remapping when it is not on,
 * after "The emulated IOMMU of domain 'x' ". */
static char *intremap_off_why(struct vh_check_ctx *c)
{
	const struct vh_domain *d = c->dom;
	const struct vh_viommu_eff *x = eff(c, left_out(d->intremap));
	unsigned v = c->qemu_version;

	if (d->intremap == VH_OFF)
		return strdup("has interrupt remapping off");
	if (x->intremap == VH_OFF && v >= VH_QEMU_VERSION(4, 1, 0))
		return vh_fmt(
		    "leaves interrupt remapping to QEMU %u.%u.%u, which turns it off while KVM emulates the whole irqchip in the kernel (no split I/O APIC)",
		    v / 1000000, v / 1000 % 1000, v % 1000);
	if (x->intremap == VH_OFF)
		return vh_fmt(
		    "leaves interrupt remapping to QEMU %u.%u.%u, which keeps it off (only QEMU 4.1 and later turn it on by themselves)",
		    v / 1000000, v / 1000 % 1000, v % 1000);
	return vh_fmt(
	    "leaves interrupt remapping to a QEMU of unknown version (libvirt keeps no probe of %s in /var/cache/libvirt/qemu/capabilities; QEMU turns it on by itself only from 4.1, and only without KVM's in-kernel irqchip), so it cannot be counted on",
	    d->emulator ? d->emulator : "its QEMU binary");
}

/* The <iommu> element the domain should have: what it has, plus what the
 * devices need. */
static char *iommu_xml(const struct vh_check_ctx *c)
{
	const struct vh_domain *d = c->dom;
	bool ir = d->intremap == VH_ON;

	for (size_t i = 0; i < n_guest(c); i++)
		if (needs_known(guest_dev(c, i)) && guest_dev(c, i)->needs.intremap)
			ir = true;
	struct vh_buf b = {0};

	if (qemu(c)) {
		vh_buf_puts(&b, "-device intel-iommu");
		if (ir)
			vh_buf_puts(&b, ",intremap=on");
		vh_buf_puts(&b, ",caching-mode=on");
		if (d->eim == VH_ON || (ir && d->vcpus > 255))
			vh_buf_puts(&b, ",eim=on");
		if (d->iotlb == VH_ON)
			vh_buf_puts(&b, ",device-iotlb=on");
		if (d->aw_bits)
			vh_buf_printf(&b, ",aw-bits=%u", d->aw_bits);
		return vh_buf_steal(&b);
	}
	vh_buf_puts(&b, "<iommu model='intel'>\n  <driver");
	if (ir)
		vh_buf_puts(&b, " intremap='on'");
	vh_buf_puts(&b, " caching_mode='on'");
	if (d->eim == VH_ON || (ir && d->vcpus > 255))
		vh_buf_puts(&b, " eim='on'");
	if (d->iotlb == VH_ON)
		vh_buf_puts(&b, " iotlb='on'");
	if (d->aw_bits)
		vh_buf_printf(&b, " aw_bits='%u'", d->aw_bits);
	vh_buf_puts(&b, "/>\n</iommu>");
	/* Without KVM QEMU needs no split I/O APIC (with KVM, ioapic-split
	 * says so), but libvirt 9 refuses intremap='on' without it. */
	if (ir && d->intremap != VH_ON && !streq(d->virt_type, "kvm") &&
	    !streq(d->ioapic_driver, "qemu"))
		vh_buf_puts(
		    &b,
		    "\n(with intremap='on', libvirt 9 (Debian 12) also wants <ioapic driver='qemu'/> in <features>; newer libvirt adds it itself)");
	return vh_buf_steal(&b);
}

/* Where the vIOMMU fix goes. */
static char *iommu_where(const struct vh_check_ctx *c, bool replacing)
{
	if (qemu(c))
		return strdup(
		    replacing
			? "the command line, replacing the -device intel-iommu (before the first -device vfio-pci)"
			: "the command line, before the first -device vfio-pci");
	return strdup(replacing ? "<devices>, replacing the <iommu> element" : "<devices>");
}

static bool needs_apply(const struct vh_check_ctx *c)
{
	/* q35, the Intel vIOMMU and the split I/O APIC are x86 QEMU/KVM
	 * notions; other guests are judged by other rules. */
	return c->hv == VH_HV_QEMU && vh_domain_is_x86(c->dom) && vh_domain_is_qemu_hvm(c->dom);
}

static void rule_machine(struct vh_check_ctx *c)
{
	struct needers nd;
	const struct vh_domain *d = c->dom;

	if (!needs_apply(c) || d->machine_kind == VH_MACHINE_Q35)
		return;
	collect(c, need_q35, &nd);
	if (nd.n)
		add(c, VH_RULE_MACHINE_Q35, &nd.first, TAKE_PTR(nd.addrs),
		    vh_fmt(
			"%s uses machine '%s'%s, but %s need%s a q35 machine: only q35 has the PCI Express topology and the emulated Intel IOMMU with interrupt remapping.",
			c->subj, d->machine ? d->machine : "(default: pc)",
			d->machine_kind == VH_MACHINE_OTHER ? "" : " (i440fx)", labels(&nd),
			nd.n > 1 ? "" : "s"),
		    vh_buf_steal(&nd.whys), strdup(qemu(c) ? "the -machine option" : "<os>"),
		    qemu(c)
			? vh_fmt(
			      "-machine q35%s%s\n(an existing guest may need its drivers for the new chipset)",
			      d->irqchip[0] ? ",kernel-irqchip=" : "", d->irqchip)
			: vh_fmt(
			      "<type arch='%s' machine='q35'>hvm</type>\n"
			      "(an existing guest may need its drivers for the new chipset; a new VM: virt-install --machine q35)",
			      d->arch ? d->arch : "x86_64"));
	needers_done(&nd);
}

static void rule_viommu_misplaced(struct vh_check_ctx *c)
{
	struct needers nd;

	if (!c->dom->iommu_in_features)
		return;
	if (!needs_apply(c)) {
		add_as(
		    c, VH_RULE_VIOMMU_MISPLACED, VH_WARNING, NULL, NULL,
		    vh_fmt(
			"%s has <iommu> under <features>; libvirt only knows it under <devices>, so the guest gets no emulated IOMMU.",
			c->subj),
		    NULL, strdup("<devices> (and remove it from <features>)"),
		    strdup("the same <iommu> element, moved"));
		return;
	}
	collect(c, need_viommu, &nd);
	add_as(
	    c, VH_RULE_VIOMMU_MISPLACED, nd.n ? VH_ERROR : VH_WARNING, nd.n ? &nd.first : NULL,
	    TAKE_PTR(nd.addrs),
	    vh_fmt(
		"%s has <iommu> under <features>; libvirt only knows it under <devices>, so the guest gets no emulated IOMMU%s%s%s.",
		c->subj, nd.n ? ", which " : "", nd.n ? labels(&nd) : "",
		nd.n ? (nd.n > 1 ? " need" : " needs") : ""),
	    nd.n ? vh_buf_steal(&nd.whys) : NULL,
	    strdup("<devices> (and remove it from <features>)"), iommu_xml(c));
	needers_done(&nd);
}

static void rule_viommu(struct vh_check_ctx *c)
{
	const struct vh_domain *d = c->dom;
	const struct vh_viommu_eff *x;
	struct needers nd;

	if (!needs_apply(c))
		return;
	collect(c, need_viommu, &nd);
	if (nd.n && !intel_iommu(d)) {
		add(c, VH_RULE_VIOMMU_MISSING, &nd.first, TAKE_PTR(nd.addrs),
		    d->has_iommu
			? vh_fmt(
			      "%s has an emulated %s IOMMU, but %s need%s an emulated Intel IOMMU.",
			      c->subj, d->iommu_model ? d->iommu_model : "", labels(&nd),
			      nd.n > 1 ? "" : "s")
			: vh_fmt("%s has no emulated IOMMU, but %s need%s an emulated Intel IOMMU.",
				 c->subj, labels(&nd), nd.n > 1 ? "" : "s"),
		    vh_buf_steal(&nd.whys), iommu_where(c, c->dom->has_iommu), iommu_xml(c));
	}
	needers_done(&nd);
	if (!intel_iommu(d))
		return;

	collect(c, need_intremap, &nd);
	if (nd.n && eff(c, left_out(d->intremap))->intremap != VH_ON) {
		_cleanup_free_ char *off = intremap_off_why(c);
		add(c, VH_RULE_VIOMMU_INTREMAP, &nd.first, TAKE_PTR(nd.addrs),
		    vh_fmt("The emulated IOMMU of %s %s, but %s need%s it.", c->obj,
			   off ? off : "has no interrupt remapping", labels(&nd),
			   nd.n > 1 ? "" : "s"),
		    vh_buf_steal(&nd.whys), iommu_where(c, true), iommu_xml(c));
	}
	needers_done(&nd);

	/* QEMU refuses an intel-iommu without caching-mode as soon as any
	 * VFIO device is present, whatever the device. */
	if (any_usable(c) && d->caching_mode != VH_ON) {
		collect(c, need_viommu, &nd);
		const struct vh_resolved *first = first_known(c);
		add(c, VH_RULE_VIOMMU_CACHING_MODE, &first->dev.addr, one_device(&first->dev.addr),
		    vh_fmt(
			"The emulated Intel IOMMU of %s has caching_mode %s, but it passes through %s: QEMU refuses to start a VFIO device behind an Intel IOMMU without caching mode.",
			c->obj, d->caching_mode == VH_OFF ? "off" : "not set", label(first)),
		    nd.n ? vh_buf_steal(&nd.whys) : NULL, iommu_where(c, true), iommu_xml(c));
		needers_done(&nd);
	}

	x = d->vcpus > 255 && any_usable(c) ? eff(c, left_out(d->intremap) || left_out(d->eim))
					    : NULL;
	if (x && x->intremap == VH_ON && x->eim != VH_ON)
		add(c, VH_RULE_VIOMMU_EIM, NULL, NULL,
		    vh_fmt(
			"%s has %u vCPUs and interrupt remapping but not extended interrupt mode: vCPUs above 255 cannot receive interrupts.",
			c->subj, d->vcpus),
		    NULL, iommu_where(c, true), iommu_xml(c));
}

static char *ioapic_where(const struct vh_check_ctx *c)
{
	return strdup(qemu(c) ? "the -machine option" : "<features>");
}

static char *ioapic_fix(const struct vh_check_ctx *c)
{
	if (qemu(c))
		return vh_fmt("-machine %s,kernel-irqchip=split",
			      c->dom->machine_kind == VH_MACHINE_Q35 && c->dom->machine
				  ? c->dom->machine
				  : "q35");
	return strdup("<ioapic driver='qemu'/>");
}

/* QEMU realizes VFIO devices in command-line order: a vIOMMU given after
 * one cannot translate for it. */
static void rule_viommu_order(struct vh_check_ctx *c)
{
	const struct vh_resolved *first = NULL;

	if (!c->dom->iommu_after_vfio)
		return;
	for (size_t i = 0; i < c->rep->n_devs && !first; i++)
		if (c->rep->devs[i].hd->addr_ok)
			first = &c->rep->devs[i];
	add(c, VH_RULE_VIOMMU_ORDER, first ? &first->hd->addr : NULL,
	    first ? one_device(&first->hd->addr) : NULL,
	    vh_fmt(
		"%s gives -device %s-iommu after %s: QEMU needs the vIOMMU before any VFIO device, or refuses to start.",
		c->subj, c->dom->iommu_model ? c->dom->iommu_model : "intel",
		first ? first->hd->origin : "a -device vfio-pci"),
	    NULL,
	    strdup(
		"the command line: move the -device intel-iommu before the first -device vfio-pci"),
	    iommu_xml(c));
}

static void rule_ioapic(struct vh_check_ctx *c)
{
	const struct vh_domain *d = c->dom;
	struct needers nd;
	bool split = streq(d->ioapic_driver, "qemu");

	if (!needs_apply(c) || split)
		return;
	collect(c, need_ioapic, &nd);
	/* Without KVM (TCG) QEMU emulates the I/O APIC anyway: what the
	 * devices need is there. */
	if (nd.n && eff(c, false)->irq_all_kernel)
		add(c, VH_RULE_IOAPIC_SPLIT, &nd.first, TAKE_PTR(nd.addrs),
		    vh_fmt(
			"%s has %s, but %s need%s a split I/O APIC: interrupt remapping works only when QEMU emulates the I/O APIC (kernel_irqchip=split).",
			c->subj,
			qemu(c)		   ? "KVM's in-kernel I/O APIC (no kernel-irqchip=split)"
			: d->ioapic_driver ? "<ioapic driver='kvm'>"
					   : "no <ioapic driver='qemu'/>",
			labels(&nd), nd.n > 1 ? "" : "s"),
		    vh_buf_steal(&nd.whys), ioapic_where(c), ioapic_fix(c));
	else if (intel_iommu(d) && d->intremap == VH_ON && any_usable(c))
		add(c, VH_RULE_IOAPIC_SPLIT, NULL, NULL,
		    vh_fmt(
			"%s enables interrupt remapping on its emulated IOMMU without a split I/O APIC: libvirt refuses to start it.",
			c->subj),
		    NULL, ioapic_where(c), ioapic_fix(c));
	needers_done(&nd);
}

/* --- IOMMU group viability. --- */

static bool in_domain(const struct vh_check_ctx *c, const struct vh_pci_addr *a)
{
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		const struct vh_resolved *rd = &c->rep->devs[i];
		if (rd->hd->addr_ok && vh_pci_addr_eq(&rd->hd->addr, a))
			return true;
	}
	return false;
}

/* Drivers with which VFIO accepts a group member: a vfio driver (vfio-pci
 * or a variant driver), or pci-stub. */
static bool driver_viable(const char *drv)
{
	return !drv[0] || strncmp(drv, "vfio", 4) == 0 || strstr(drv, "-vfio-pci") ||
	       strstr(drv, "_vfio_pci") || streq(drv, "pci-stub");
}

/* QEMU started by hand opens /dev/vfio/N itself: the device must already
 * be on a vfio driver. */
static void rule_bound(struct vh_check_ctx *c)
{
	if (!c->opts->require_bound)
		return;
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		const struct vh_resolved *rd = &c->rep->devs[i];
		const char *drv = rd->dev.driver;
		if (!usable(rd) || strstr(drv, "vfio"))
			continue;
		add(c, VH_RULE_DEVICE_NOT_BOUND, &rd->dev.addr, one_device(&rd->dev.addr),
		    vh_fmt("%s is on %s%s, not on vfio-pci: QEMU cannot open it.", label(rd),
			   drv[0] ? "driver " : "", drv[0] ? drv : "no driver"),
		    NULL, strdup("the host, before starting QEMU"),
		    drv[0]
			? vh_fmt(
			      "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override\necho %s > /sys/bus/pci/devices/%s/driver/unbind\necho %s > /sys/bus/pci/drivers_probe",
			      rd->dev.name, rd->dev.name, rd->dev.name, rd->dev.name)
			: vh_fmt(
			      "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override\necho %s > /sys/bus/pci/drivers_probe",
			      rd->dev.name, rd->dev.name));
	}
}

/* The companions of each IOMMU group's first device in the domain: in
 * the report (rd->companions, rd->companions_ok: what the engine binds),
 * and with what rule_groups says of them in c->groups.  Part of resolving
 * the devices, before any rule runs. */
static int plan_companions(struct vh_check_ctx *c)
{
	if (c->hv == VH_HV_XEN)
		return 0;
	c->groups = calloc(c->rep->n_devs ? c->rep->n_devs : 1, sizeof(*c->groups));
	if (!c->groups)
		return -ENOMEM;
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		struct vh_resolved *rd = &c->rep->devs[i];
		struct group *g = &c->groups[c->n_groups];
		bool all_same_slot = true, same_slot, chipset, seen = false;

		if (!usable(rd) || rd->dev.iommu_group < 0)
			continue;
		/* A group once, at its first device in the domain. */
		for (size_t j = 0; j < i && !seen; j++)
			seen = usable(&c->rep->devs[j]) &&
			       c->rep->devs[j].dev.iommu_group == rd->dev.iommu_group;
		if (seen)
			continue;
		*g = (struct group){.dev = i,
				    .pol = rd->profile && rd->profile->companions
					       ? rd->profile->companions
					       : c->opts->companions};
		c->n_groups++;
		for (int k = 0; k < rd->n_group; k++) {
			const struct vh_pci_addr *m = &rd->group[k];
			struct vh_pci_dev md;
			struct companion *cp;
			struct vh_pci_addr *nc;

			if (in_domain(c, m) || vh_pci_dev_read(c->sys, m, &md) < 0)
				continue;
			/* The chipset's host or ISA/LPC bridge in the group
			 * (q35's and Intel's slot 00:1f): VFIO would take it
			 * along with the group even without a driver, and the
			 * host with it (measured: a guest lost its root disk
			 * when a nested VM got 00:1f.3).  PCI-to-PCI bridges
			 * and driverless functions (a switch's ports, the
			 * SRAM beside a USB controller) are VFIO's business. */
			chipset = (md.class >> 8) == 0x0600 || (md.class >> 8) == 0x0601;
			if (!chipset && (vh_pci_dev_is_bridge(&md) || driver_viable(md.driver)))
				continue;
			same_slot = m->domain == rd->dev.addr.domain &&
				    m->bus == rd->dev.addr.bus && m->slot == rd->dev.addr.slot;
			cp = realloc(g->v, (g->n + 1) * sizeof(*cp));
			if (!cp)
				return -ENOMEM;
			g->v = cp;
			nc = realloc(rd->companions, (size_t)(rd->n_companions + 1) * sizeof(*nc));
			if (!nc)
				return -ENOMEM;
			rd->companions = nc;
			rd->companions[rd->n_companions++] = *m;
			cp = &g->v[g->n++];
			*cp = (struct companion){.addr = *m, .iommu_group = md.iommu_group};
			snprintf(cp->driver, sizeof(cp->driver), "%s", md.driver);
			/* What the hook never binds, whatever the policy: a
			 * bridge of any class (host, ISA/LPC, ...), a
			 * chipset function for same-device (slot 00:1f is
			 * the chipset, not a card), what the host uses. */
			if (chipset)
				cp->note = ", the chipset's host or ISA/LPC bridge";
			else if (g->pol != VH_COMPANIONS_REFUSE) {
				if ((md.class >> 16) == 0x06)
					cp->note = ", a bridge";
				else if (g->pol == VH_COMPANIONS_SAME_DEVICE && same_slot &&
					 vh_pci_dev_is_chipset(c->sys, &md))
					cp->note = ", part of the chipset";
				else if (g->pol == VH_COMPANIONS_ANY || same_slot) {
					int r = host_use(c, &md, &cp->use);
					if (r < 0)
						return r;
					if (r > 0 && cp->use.error)
						cp->note = ", in use by the host";
				}
			}
			if (cp->note || !same_slot)
				all_same_slot = false;
			if (cp->note)
				g->any_excluded = true;
		}
		rd->companions_ok = g->n && !g->any_excluded &&
				    (g->pol == VH_COMPANIONS_ANY ||
				     (g->pol == VH_COMPANIONS_SAME_DEVICE && all_same_slot));
	}
	return 0;
}

static void groups_done(struct vh_check_ctx *c)
{
	for (size_t i = 0; i < c->n_groups; i++) {
		for (size_t k = 0; k < c->groups[i].n; k++)
			host_use_done(&c->groups[i].v[k].use);
		free(c->groups[i].v);
	}
	free(c->groups);
}

static void rule_groups(struct vh_check_ctx *c)
{
	for (size_t i = 0; i < c->n_groups; i++) {
		const struct group *g = &c->groups[i];
		const struct vh_resolved *rd = &c->rep->devs[g->dev];
		struct vh_buf list = {0}, fix = {0};
		char **addrs;

		if (!g->n)
			continue;
		addrs = calloc(g->n + 1, sizeof(*addrs));
		if (!addrs) {
			c->err = -ENOMEM;
			return;
		}
		for (size_t k = 0; k < g->n; k++) {
			const struct companion *cp = &g->v[k];
			const struct vh_pci_addr *m = &cp->addr;
			char name[VH_PCI_ADDR_LEN];

			vh_pci_addr_format(m, name);
			if (cp->use.reasons)
				add_in_use(
				    c, m, cp->use.error,
				    vh_fmt(
					"%s, in IOMMU group %d with %s, is in use by the host, so the hook cannot bind it to vfio-pci with it: %s",
					name, cp->iommu_group, label(rd), cp->use.reasons),
				    vh_strdup0(cp->use.fixes));
			addrs[k] = strdup(name);
			vh_buf_printf(&list, "%s%s (driver %s%s)", list.len ? ", " : "", name,
				      cp->driver[0] ? cp->driver : "none",
				      cp->note ? cp->note : "");
			if (qemu(c))
				vh_buf_printf(&fix, "%s-device vfio-pci,host=%s",
					      fix.len ? "\n" : "", name);
			else
				vh_buf_printf(
				    &fix,
				    "%s<hostdev mode='subsystem' type='pci' managed='yes'>\n  <source>\n    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n  </source>\n</hostdev>",
				    fix.len ? "\n" : "", m->domain, m->bus, m->slot, m->function);
		}
		if (rd->companions_ok)
			add(c, VH_RULE_GROUP_COMPANIONS_BIND, &rd->dev.addr, addrs,
			    vh_fmt(
				"IOMMU group %d of %s also holds %s; the hook will bind %s to vfio-pci while the VM runs and give %s back afterwards.",
				rd->dev.iommu_group, label(rd), vh_buf_str(&list),
				g->n > 1 ? "them" : "it", g->n > 1 ? "them" : "it"),
			    vh_fmt("companion policy '%s'%s", vh_companions_name(g->pol),
				   rd->profile && rd->profile->companions
				       ? " from the device's profile"
				       : " from the configuration"),
			    NULL, NULL);
		else
			add(c, VH_RULE_GROUP_NOT_VIABLE, &rd->dev.addr, addrs,
			    vh_fmt(
				"IOMMU group %d of %s also holds %s, which the host keeps and this domain is not given: VFIO can only use a group whose every endpoint is free.",
				rd->dev.iommu_group, label(rd), vh_buf_str(&list)),
			    vh_fmt("companion policy '%s'%s", vh_companions_name(g->pol),
				   g->pol == VH_COMPANIONS_SAME_DEVICE
				       ? " (other functions of the same device only)"
				       : ""),
			    strdup(
				qemu(c) || g->any_excluded
				    ? (qemu(c)
					   ? "the command line, one -device vfio-pci per companion (or move the card to a slot with its own group)"
					   : "<devices>, one <hostdev> per companion (or move the card to a slot with its own group)")
				    : "<devices>, one <hostdev> per companion (or move the card to a slot with its own group, or set companions = any in vfio-hooks.conf)"),
			    vh_buf_steal(&fix));
		vh_buf_done(&list);
		vh_buf_done(&fix);
	}
}

/* A PF given to the VM while VFs of it are wanted (by this domain, or
 * existing at all): its driver must stay to run them. */
static void rule_sriov_pf(struct vh_check_ctx *c)
{
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		const struct vh_resolved *pf = &c->rep->devs[i];
		const struct vh_resolved *vf = NULL;
		if (!usable(pf) || pf->dev.sriov_totalvfs <= 0)
			continue;
		for (size_t j = 0; j < c->rep->n_devs && !vf; j++) {
			const struct vh_resolved *o = &c->rep->devs[j];
			if ((o->vf_create && vh_pci_addr_eq(&o->vf_pf, &pf->dev.addr)) ||
			    (usable(o) && o->dev.is_vf &&
			     vh_pci_addr_eq(&o->dev.physfn, &pf->dev.addr)))
				vf = o;
		}
		if (!vf && pf->dev.sriov_numvfs <= 0)
			continue;
		add(c, VH_RULE_SRIOV_PF_ASSIGNED, &pf->dev.addr, one_device(&pf->dev.addr),
		    vf ? vh_fmt(
			     "%s is given to %s together with its own virtual function %s: the VF exists only while the PF stays on its host driver.",
			     label(pf), c->obj, vf->dev.name)
		       : vh_fmt(
			     "%s has %d virtual functions: giving the PF itself to %s takes them from their users.",
			     label(pf), pf->dev.sriov_numvfs, c->obj),
		    pf->profile && pf->profile->sriov_pf_host
			? vh_fmt("profile '%s': the physical function stays on the host",
				 pf->profile->id)
			: NULL,
		    strdup(qemu(c) ? "the command line" : "<devices>"),
		    vh_fmt(
			"remove %s (the physical function) and give the VM only virtual functions%s",
			pf->hd->origin, vf ? "" : ", or set sriov_numvfs to 0 first"));
	}
}

/* --- Kernel modules a profile needs on the host (vendor-reset). --- */

/* Whether the domain's metadata gives @rd a reset_method of its own
 * (<vh:device reset-method>), which the hook writes instead of the
 * profile's: a module the profile needs for its reset is not needed. */
static bool own_reset_method(const struct vh_check_ctx *c, const struct vh_resolved *rd)
{
	const struct vh_domain_meta *m = &c->dom->meta;

	for (size_t i = 0; i < m->n_devices; i++)
		if (vh_pci_addr_eq(&m->devices[i].addr, &rd->hd->addr) &&
		    m->devices[i].reset_method)
			return true;
	return false;
}

static void rule_kernel_modules(struct vh_check_ctx *c)
{
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		const struct vh_resolved *rd = &c->rep->devs[i];
		const struct vh_profile *p = rd->profile;
		if (!usable(rd) || rd->duplicate || !p || own_reset_method(c, rd))
			continue;
		for (size_t k = 0; k < p->n_modules; k++) {
			const struct vh_kernel_module *m = &p->modules[k];
			if (vh_kernel_module_loaded(c->sys, m->name))
				continue;
			add(c, VH_RULE_KERNEL_MODULE_MISSING, &rd->dev.addr,
			    one_device(&rd->dev.addr),
			    vh_fmt(
				"%s needs the kernel module %s, which is not loaded (not in /sys/module)%s%s.",
				label(rd), m->name, m->why ? ": " : "", m->why ? m->why : ""),
			    vh_fmt("profile '%s' (%s): <kernel-module name='%s'/>", p->id, p->file,
				   m->name),
			    strdup("the host"), vh_kernel_module_fix(m));
		}
	}
}

/* --- Locked memory: VFIO pins all guest memory. --- */

/* What libvirt's formula needs from the host: the PCI hostdevs' distinct
 * IOMMU groups (pSeries isolates each on its own PHB) and whether one is
 * an NVLink2 GPU (only looked at for a ppc64 KVM guest). */
static void memlock_host(struct vh_check_ctx *c, struct vh_memlock_host *h)
{
	static const char *const nvlink2_props[] = {"ibm,gpu", "ibm,nvlink", "ibm,nvlink-speed",
						    "memory-region"};
	bool ppc64 = vh_memlock_is_ppc64_kvm(c->dom);

	*h = (struct vh_memlock_host){0};
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		const struct vh_resolved *rd = &c->rep->devs[i];
		bool seen = false;
		if (rd->duplicate)
			continue;
		for (size_t j = 0; j < i && rd->dev.iommu_group >= 0; j++)
			seen |= usable(&c->rep->devs[j]) &&
				c->rep->devs[j].dev.iommu_group == rd->dev.iommu_group;
		h->n_isolation_groups += !seen;
		if (!ppc64 || !usable(rd) || h->nvlink2)
			continue;
		h->nvlink2 = true;
		for (size_t k = 0; k < ELEMENTSOF(nvlink2_props); k++)
			if (vh_sys_exists(c->sys, "/sys/bus/pci/devices/%s/of_node/%s",
					  rd->dev.name, nvlink2_props[k]) != 1)
				h->nvlink2 = false;
	}
}

static void rule_memlock(struct vh_check_ctx *c)
{
	const struct vh_domain *d = c->dom;
	struct vh_memlock_host host;
	struct vh_memlock m;
	int r;

	if (d->mem_error[0]) {
		add(c, VH_RULE_MEMLOCK_TOO_LOW, NULL, NULL,
		    vh_fmt("%s: %s, so the memory VFIO must lock cannot be checked.", c->subj,
			   d->mem_error),
		    NULL, strdup(qemu(c) ? "the command line" : "the element named above"),
		    strdup(
			qemu(c)
			    ? "-m 16G  (a number of MiB, or with a suffix B, K, M, G, T, P or E)"
			    : "a whole number of KiB, or with a libvirt unit (b, KB, KiB, MB, MiB, GB, GiB, TB, TiB, ...): <memory unit='GiB'>16</memory>"));
		return;
	}
	if (!vh_domain_is_qemu_hvm(d))
		return;
	memlock_host(c, &host);
	r = vh_memlock_need(d, &host, &m);
	if (r < 0) {
		add(c, VH_RULE_MEMLOCK_TOO_LOW, NULL, NULL,
		    vh_fmt("%s has so much memory that the memory VFIO must lock exceeds 2^64 KiB.",
			   c->subj),
		    NULL, NULL, NULL);
		return;
	}
	if (m.kib == 0)
		return;
	if (d->has_hard_limit) {
		if (d->hard_limit_kib >= m.kib)
			return;
		add(c, VH_RULE_MEMLOCK_TOO_LOW, NULL, NULL,
		    vh_fmt(
			"%s sets <memtune><hard_limit> to %llu KiB, below the %llu KiB it must be able to lock: libvirt makes the hard limit the QEMU process's locked-memory limit (RLIMIT_MEMLOCK), and VFIO pins all guest memory, so mapping it for the device fails (QEMU: \"VFIO_MAP_DMA failed: Cannot allocate memory\").",
			c->subj, d->hard_limit_kib, m.kib),
		    vh_fmt("%s", m.formula), strdup("<domain>"),
		    vh_fmt(
			"<memtune><hard_limit unit='KiB'>%llu</hard_limit></memtune>\n(or remove <hard_limit>: libvirt then sets this limit itself; the hard limit also caps all of QEMU's memory)",
			m.kib));
		return;
	}
	if (d->mem_locked || !d->n_hostdevs)
		return; /* <locked/>: libvirt lifts the limit altogether */
	if (qemu(c)) {
		add_as(
		    c, VH_RULE_MEMLOCK_TOO_LOW, VH_INFO, NULL, NULL,
		    vh_fmt(
			"%s passes %u device%s through VFIO, which pins all guest memory: QEMU's locked-memory limit (RLIMIT_MEMLOCK, inherited from the shell that starts it) must be at least %llu KiB, what libvirt would set.",
			c->subj, m.n_vfio, m.n_vfio == 1 ? "" : "s", m.kib),
		    vh_fmt("%s", m.formula),
		    strdup(
			"the shell, before starting QEMU (raising the hard limit needs root or limits.conf)"),
		    vh_fmt("ulimit -l %llu", m.kib));
		return;
	}
	add_as(
	    c, VH_RULE_MEMLOCK_TOO_LOW, VH_INFO, NULL, NULL,
	    vh_fmt(
		"%s has no <memtune><hard_limit>: libvirt sets the QEMU process's locked-memory limit (RLIMIT_MEMLOCK) to %llu KiB itself, for the memory VFIO pins.",
		c->subj, m.kib),
	    vh_fmt("%s", m.formula), NULL, NULL);
}

/* --- The 64-bit PCI MMIO window the guest firmware maps (lib/mmio.c). --- */

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The 64-bit prefetchable BARs of @rd into @v (grown, @n used) and @text;
 * a resource file that cannot be parsed is a warning. */
static void mmio_bars(struct vh_check_ctx *c, struct vh_resolved *rd, uint64_t **v, size_t *n,
		      struct vh_buf *text, struct needers *nd)
{
	struct vh_pci_bar bars[VH_PCI_N_BARS];
	unsigned line = 0;
	bool any = false;
	int k = vh_pci_bars_read(c->sys, &rd->dev.addr, bars, &line);

	if (k == -EBADMSG)
		add_as(
		    c, VH_RULE_MMIO_WINDOW, VH_WARNING, &rd->dev.addr, one_device(&rd->dev.addr),
		    vh_fmt(
			"line %u of /sys/bus/pci/devices/%s/resource, of %s, is not three hex numbers (START END FLAGS): its BARs are not checked against the guest firmware's 64-bit window.",
			line, rd->dev.name, label(rd)),
		    NULL, NULL, NULL);
	for (int i = 0; i < k; i++) {
		char sz[32];
		uint64_t *nv;
		if (!bars[i].mem64 || !bars[i].prefetch)
			continue;
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv) {
			c->err = -ENOMEM;
			return;
		}
		*v = nv;
		(*v)[(*n)++] = bars[i].size;
		vh_mmio_size_str(bars[i].size, sz, sizeof(sz));
		if (!any)
			vh_buf_printf(text, "%s%s", text->len ? "; " : "", rd->dev.name);
		vh_buf_printf(text, "%s BAR%u %s", any ? "," : "", bars[i].index, sz);
		any = true;
	}
	if (any)
		needers_add(nd, rd);
}

static void rule_mmio_window(struct vh_check_ctx *c)
{
	const struct vh_domain *d = c->dom;
	_cleanup_free_ uint64_t *sizes = NULL;
	struct vh_buf bars = {0};
	struct needers nd = {0};
	struct vh_mmio_host host;
	struct vh_mmio_window w;
	uint64_t need = 0;
	size_t n = 0;
	char s_need[32], s_lo[32], s_hi[32];

	if (qemu(c) || c->hv != VH_HV_QEMU || !vh_domain_is_qemu_hvm(d) || !vh_domain_is_x86(d))
		return;
	for (size_t i = 0; i < c->rep->n_devs && !c->err; i++)
		if (usable(&c->rep->devs[i]) && !c->rep->devs[i].hd->unassigned)
			mmio_bars(c, &c->rep->devs[i], &sizes, &n, &bars, &nd);
	/* Naturally aligned: placed largest first, each starts aligned. */
	if (n)
		qsort(sizes, n, sizeof(*sizes), cmp_desc);
	for (size_t i = 0; i < n; i++)
		need = need > UINT64_MAX - sizes[i] ? UINT64_MAX : need + sizes[i];
	if (!need || c->err)
		goto done;
	vh_mmio_size_str(need, s_need, sizeof(s_need));
	if (d->meta.has_mmio_window) {
		if (need <= d->meta.mmio_window)
			goto done;
		vh_mmio_size_str(d->meta.mmio_window, s_lo, sizeof(s_lo));
		add(c, VH_RULE_MMIO_WINDOW, &nd.first, TAKE_PTR(nd.addrs),
		    vh_fmt(
			"%s gives the guest %s of 64-bit prefetchable BARs (%s), more than the %s its <vh:mmio-window> says the guest firmware maps: the guest finds BARs unassigned and the driver fails long after the VM started.",
			c->subj, s_need, labels(&nd), s_lo),
		    vh_fmt(
			"64-bit prefetchable BARs: %s\n<vh:mmio-window size='...'/> in the domain's vfio-hooks metadata",
			vh_buf_str(&bars)),
		    strdup("<metadata><vh:mmio-window>"),
		    strdup(
			"a size the guest firmware really maps, at least the BARs' sum; or remove <vh:mmio-window> to have vfio-hooks work it out"));
		goto done;
	}
	/* Whatever the host says, they fit: nothing more to read. */
	host = (struct vh_mmio_host){.intel = -1, .pdpe1gb = -1};
	vh_mmio_window(d, &host, need, &w);
	if (need <= w.lo)
		goto done;
	vh_mmio_host_read(c->sys, d, &host);
	vh_mmio_window(d, &host, need, &w);
	if (need <= w.lo)
		goto done;
	vh_mmio_size_str(w.lo, s_lo, sizeof(s_lo));
	vh_mmio_size_str(w.hi, s_hi, sizeof(s_hi));
	add_as(
	    c, VH_RULE_MMIO_WINDOW, need > w.hi ? VH_ERROR : VH_WARNING, &nd.first,
	    TAKE_PTR(nd.addrs),
	    need > w.hi
		? vh_fmt(
		      "%s gives the guest %s of 64-bit prefetchable BARs (%s), but its firmware maps a 64-bit PCI window of %s: the guest finds BARs unassigned (Linux: \"BAR n: no space for [mem ... 64bit pref]\") and the driver fails long after the VM started.",
		      c->subj, s_need, labels(&nd), s_hi)
		: vh_fmt(
		      "%s gives the guest %s of 64-bit prefetchable BARs (%s), and its firmware maps a 64-bit PCI window of as little as %s (up to %s, by what vfio-hooks cannot know): the guest may find BARs unassigned and the driver fail long after the VM started.",
		      c->subj, s_need, labels(&nd), s_lo, s_hi),
	    vh_fmt("64-bit prefetchable BARs: %s (%s, the least they take)\n%s", vh_buf_str(&bars),
		   s_need, w.why),
	    !w.fixable ? strdup("the host")
	    : d->fw.has_mmio64_mb && strstr(w.fix, "X-PciMmio64Mb")
		? vh_fmt("<domain>, replacing the opt/ovmf/X-PciMmio64Mb in %s", d->fw.mmio64_from)
		: strdup("<domain>"),
	    strdup(w.fix));
done:
	vh_buf_done(&bars);
	needers_done(&nd);
}

static bool need_xen_hvm(const struct vh_needs *n)
{
	return n->xen_hvm;
}

/* The AIC100 page's Xen section: "Only HVM type virtual machines are
 * supported with Qualcomm Cloud AI products. PV type virtual machines are
 * not supported." */
static void rule_xen_pv(struct vh_check_ctx *c)
{
	struct needers nd;
	struct vh_buf why = {0};
	const struct vh_domain *d = c->dom;

	if (c->hv != VH_HV_XEN || !vh_domain_is_xen_pv(d))
		return;
	collect(c, need_xen_hvm, &nd);
	for (size_t i = 0; i < c->rep->n_devs; i++) {
		const struct vh_resolved *rd = &c->rep->devs[i];
		const struct vh_profile *p = rd->profile;
		if (!usable(rd) || !rd->needs.xen_hvm || !p)
			continue;
		vh_buf_printf(
		    &why, "%s%s: profile '%s' (%s): %s", why.len ? "\n" : "", rd->dev.name, p->id,
		    p->file,
		    p->needs.xen_hvm
			? "<xen guest='hvm'/>: its vendor supports the device in Xen HVM guests only"
			: "the device needs several MSI vectors, which vfio-hooks knows to work in HVM guests only");
	}
	if (nd.n)
		add(c, VH_RULE_XEN_PV_UNSUPPORTED, &nd.first, TAKE_PTR(nd.addrs),
		    vh_fmt(
			"%s is a Xen %s guest (<type>%s</type>), but %s work%s only in an HVM guest.",
			c->subj, streq(d->os_type, "xenpvh") ? "PVH" : "PV",
			d->os_type ? d->os_type : "", labels(&nd), nd.n > 1 ? "" : "s"),
		    vh_buf_steal(&why), strdup("<os>"),
		    vh_fmt(
			"<type arch='%s' machine='xenfv'>hvm</type>\n"
			"(a PV guest boots the <kernel> the host gives it; an HVM guest boots the bootloader of its own disk: install one in the guest first)",
			d->arch ? d->arch : "x86_64"));
	vh_buf_done(&why);
	needers_done(&nd);
}

/* --- The rule catalog. --- */

static const char *const rule_id_table[_VH_RULE_MAX] = {
    [VH_RULE_NETWORK_HOSTDEV] = "network-hostdev",
    [VH_RULE_BAD_ADDRESS] = "bad-address",
    [VH_RULE_DEVICE_DUPLICATE] = "device-duplicate",
    [VH_RULE_DEVICE_MISSING] = "device-missing",
    [VH_RULE_SRIOV_VF_CREATE] = "sriov-vf-create",
    [VH_RULE_SRIOV_NUMVFS_BUSY] = "sriov-numvfs-busy",
    [VH_RULE_DEVICE_UNREADABLE] = "device-unreadable",
    [VH_RULE_DEVICE_BRIDGE] = "device-bridge",
    [VH_RULE_HOST_IOMMU_OFF] = "host-iommu-off",
    [VH_RULE_DEVICE_IN_USE] = "device-in-use",
    [VH_RULE_SRIOV_PF_ASSIGNED] = "sriov-pf-assigned",
    [VH_RULE_KERNEL_MODULE_MISSING] = "kernel-module-missing",
    [VH_RULE_MACHINE_Q35] = "machine-q35",
    [VH_RULE_VIOMMU_MISPLACED] = "viommu-misplaced",
    [VH_RULE_VIOMMU_MISSING] = "viommu-missing",
    [VH_RULE_VIOMMU_INTREMAP] = "viommu-intremap",
    [VH_RULE_VIOMMU_CACHING_MODE] = "viommu-caching-mode",
    [VH_RULE_VIOMMU_EIM] = "viommu-eim",
    [VH_RULE_IOAPIC_SPLIT] = "ioapic-split",
    [VH_RULE_VIOMMU_ORDER] = "viommu-order",
    [VH_RULE_DEVICE_NOT_BOUND] = "device-not-bound",
    [VH_RULE_GROUP_NOT_VIABLE] = "group-not-viable",
    [VH_RULE_GROUP_COMPANIONS_BIND] = "group-companions-bind",
    [VH_RULE_MEMLOCK_TOO_LOW] = "memlock-too-low",
    [VH_RULE_MMIO_WINDOW] = "mmio-window",
    [VH_RULE_XEN_PV_UNSUPPORTED] = "xen-pv-unsupported",
};

const char *vh_rule_id_to_string(enum vh_rule_id id)
{
	return (size_t)id < ELEMENTSOF(rule_id_table) ? rule_id_table[id] : "?";
}

/* The fixes in OpenStack Nova's terms (vh_rule_info.fix_nova), read from
 * Nova's libvirt driver: it writes the domain XML from the flavor, the
 * image and nova.conf, and anew on a hard reboot, resize or migration, so
 * an edit of the XML does not last.  Sources and releases: README.md,
 * "OpenStack Nova". */
static const char nova_viommu[] =
    "flavor extra spec hw:viommu_model=intel (or image property hw_viommu_model=intel) on machine type q35 (image property hw_machine_type=q35): Nova (from 26.0.0, Zed) then writes <iommu model='intel'> with intremap, caching_mode, eim and iotlb on and aw_bits 48, and <ioapic driver='qemu'/>. Not 'auto': with libvirt 8.3.0 or later Nova makes that a virtio IOMMU, which has no interrupt remapping.\nAn existing instance takes a flavor's extra specs by a resize to that flavor, an image's properties by a rebuild (which replaces its root disk).";
static const char nova_machine[] =
    "image property hw_machine_type=q35, or for new instances on this compute node nova.conf [libvirt] hw_machine_type = x86_64=q35 (Nova's x86 default is pc).\nSince Nova 23.0.0 (Wallaby) an instance keeps the machine type it first started with: change it, the instance stopped, with 'nova-manage libvirt update_machine_type INSTANCE_UUID q35 --force' (pc to q35 is refused without --force: the guest gets a new chipset).";
static const char nova_hostdev_written[] =
    "Nova cannot set this: it writes each <hostdev> from the PCI devices it gave the instance out of its inventory of this host, so this was written outside Nova; a hard reboot (openstack server reboot --hard) has Nova write the domain XML anew.";
static const char nova_device_missing[] =
    "Nova gave the instance this device from its inventory of the host, and it is gone (a card moved, the buses renumbered): make nova.conf [pci] device_spec match the device where it is now (where it names addresses), restart nova-compute so that it reads the host's devices anew, then cold-migrate or resize the instance, which has Nova allocate its PCI devices anew.";
static const char nova_numvfs[] =
    "Nova hands out only the VFs that exist when nova-compute reads the host: create them at boot, before nova-compute starts (sriov_numvfs, from a udev rule or a systemd unit), list them in nova.conf [pci] device_spec, and leave sriov_numvfs alone while instances use them.";
static const char nova_bridge[] =
    "nova.conf [pci] device_spec on this compute node matches a bridge: narrow it to the endpoint device (its vendor_id and product_id, or its address) and restart nova-compute.";
static const char nova_in_use[] =
    "If nova.conf [pci] device_spec on this compute node matches this device, narrow it so that it does not, and restart nova-compute: Nova must not give instances a device the host uses.";
static const char nova_pf[] =
    "give instances virtual functions instead: a [pci] alias with \"device_type\": \"type-VF\" in the flavor's pci_passthrough:alias, or a Neutron port with vnic_type direct. A PF given whole needs \"device_type\": \"type-PF\" in its alias (Nova then keeps its VFs from other instances); set its sriov_numvfs to 0 first.";
static const char nova_group[] =
    "Nova cannot give an instance a whole IOMMU group: it passes through only the devices the flavor's pci_passthrough:alias or a Neutron port asks for, and knows no IOMMU groups. Let the hook bind the group's other endpoints with it (companions = any in vfio-hooks.conf, where the fix above offers it), free them on this host, or move the card to a slot with its own group; and list in nova.conf [pci] device_spec only devices whose group holds nothing the host keeps.";
static const char nova_memlock[] =
    "Nova cannot set this: it writes <memory> from the flavor's RAM and never writes <memtune><hard_limit> (no flavor extra spec or image property sets one), so this was written outside Nova; a hard reboot (openstack server reboot --hard) has Nova write the domain XML anew, without a hard limit.";
static const char nova_mmio[] =
    "flavor extra specs hw:maxphysaddr_mode=emulate and hw:maxphysaddr_bits=N (or hw:maxphysaddr_mode=passthrough with nova.conf [libvirt] cpu_mode = host-passthrough), or the image properties hw_maxphysaddr_mode and hw_maxphysaddr_bits: Nova (from 29.0.0, 2024.1 Caracal, on libvirt 8.7.0 or later) then writes <maxphysaddr>, from which SeaBIOS and OVMF from edk2-stable202211 on size the 64-bit window.\nNova has no setting for OVMF's opt/ovmf/X-PciMmio64Mb or for <pcihole64>: with an older OVMF, install a newer one on the compute node.";
static const char nova_misplaced[] =
    "Nova never writes <iommu> under <features> (it adds it to <devices> for hw:viommu_model), so this was written outside Nova: a hard reboot (openstack server reboot --hard) has Nova write the domain XML anew without it. If a device needs the vIOMMU, set flavor extra spec hw:viommu_model=intel (26.0.0, Zed) on machine type q35.";
static const char nova_xen[] =
    "Nova's libvirt driver dropped Xen in 23.0.0 (Wallaby); before, image property hw_vm_mode=hvm made an HVM guest.";

/* One entry per rule, in the order of enum vh_rule_id (their evaluation
 * order, which is the order of the findings). */
const struct vh_rule_info vh_rules[_VH_RULE_MAX] = {
    {
	.id = VH_RULE_NETWORK_HOSTDEV,
	.message_id = "6b58453603f144e5b1f56a056a774ead",
	.severity = VH_INFO,
	.other = {VH_WARNING, "the pool could not be read: the device is not checked"},
	.summary =
	    "an <interface type='network'> takes a device from a <forward mode='hostdev'> pool, which libvirt picks after the prepare hook: the VM is checked against the pool's devices",
	.check = rule_network_pools,
    },
    {
	.id = VH_RULE_BAD_ADDRESS,
	.message_id = "e320a56c5e244c8ebeee12e2a88d567c",
	.severity = VH_ERROR,
	.summary = "a hostdev's PCI address is not a number or out of range",
	.blocks_bind = true,
	.fix_nova = nova_hostdev_written,
	.check = rule_addresses,
    },
    {
	.id = VH_RULE_DEVICE_DUPLICATE,
	.message_id = "517aabb9dd7145a7a9aa56c7572f4d72",
	.severity = VH_ERROR,
	.summary = "the same PCI device is listed twice",
	.blocks_bind = true,
	.fix_nova = nova_hostdev_written,
	.check = rule_addresses,
    },
    {
	.id = VH_RULE_DEVICE_MISSING,
	.message_id = "35479b98a3f2419b9f516b6962e323a4",
	.severity = VH_ERROR,
	.summary = "no PCI device at the hostdev's address",
	.blocks_bind = true,
	.fix_nova = nova_device_missing,
	.check = rule_presence,
    },
    {
	.id = VH_RULE_SRIOV_VF_CREATE,
	.message_id = "5074daa6e1274a96bf8c8e33fe88f01e",
	.severity = VH_INFO,
	.summary = "an SR-IOV virtual function the hook creates on prepare",
	.check = rule_presence,
    },
    {
	.id = VH_RULE_SRIOV_NUMVFS_BUSY,
	.message_id = "4310e1de6c0d484ca1ef007594472995",
	.severity = VH_ERROR,
	.summary = "the virtual function needs sriov_numvfs changed while other VFs exist",
	.fix_nova = nova_numvfs,
	.check = rule_presence,
    },
    {
	.id = VH_RULE_DEVICE_UNREADABLE,
	.message_id = "13f8f797464a4595b7f4df66b8f783d9",
	.severity = VH_WARNING,
	.summary = "a sysfs attribute of the device could not be read",
	.check = rule_presence,
    },
    {
	.id = VH_RULE_DEVICE_BRIDGE,
	.message_id = "4859ba72356349fb98392d2a5a8bff88",
	.severity = VH_ERROR,
	.summary =
	    "a bridge (PCI-to-PCI, or the chipset's host or ISA/LPC bridge) cannot be passed through: taking it takes what is behind it from the host",
	.refuses_in_warn = true,
	.blocks_bind = true,
	.fix_nova = nova_bridge,
	.check = rule_presence,
    },
    {
	.id = VH_RULE_HOST_IOMMU_OFF,
	.message_id = "4b039f259cd346209a6ec5c16958c05d",
	.severity = VH_ERROR,
	.summary = "the device has no IOMMU group: the host IOMMU is off",
	.blocks_bind = true,
	.check = rule_presence,
    },
    {
	/* Also reported by rule_groups, for a companion the hook would
	 * bind (plan_companions looks at its use). */
	.id = VH_RULE_DEVICE_IN_USE,
	.message_id = "0dd86a11b8f84e928a48e9d1aa197579",
	.severity = VH_ERROR,
	.other = {VH_WARNING, "only its console uses it"},
	.summary =
	    "the host uses the device (a mounted disk, swap, an md/dm member, its network, its console): taking it takes it from the host",
	.refuses_in_warn = true,
	.blocks_bind = true,
	.fix_nova = nova_in_use,
	.check = rule_in_use,
    },
    {
	.id = VH_RULE_SRIOV_PF_ASSIGNED,
	.message_id = "c45f37105d7b414c98be8992f661c407",
	.severity = VH_ERROR,
	.summary = "a physical function given to a VM while its virtual functions are needed",
	.fix_nova = nova_pf,
	.check = rule_sriov_pf,
    },
    {
	.id = VH_RULE_KERNEL_MODULE_MISSING,
	.message_id = "83825de99fb24a668636f7f950dae538",
	.severity = VH_ERROR,
	.summary =
	    "the device's profile needs a kernel module the host has not loaded (vendor-reset for AMD GPUs that cannot reset without it: the GPU, or the host, hangs at the next reset)",
	.refuses_in_warn = true,
	.blocks_bind = true,
	.check = rule_kernel_modules,
    },
    {
	.id = VH_RULE_MACHINE_Q35,
	.message_id = "99d80b3aa235471b998f501c7b3e8366",
	.severity = VH_ERROR,
	.summary = "the device needs a q35 machine",
	.fix_nova = nova_machine,
	.check = rule_machine,
    },
    {
	.id = VH_RULE_VIOMMU_MISPLACED,
	.message_id = "e29ea07d43cb44f7b633c9b94411f5d3",
	.severity = VH_ERROR,
	.other = {VH_WARNING,
		  "no device needs the vIOMMU, or the guest is not an x86 QEMU/KVM one"},
	.summary = "<iommu> is under <features>, where libvirt ignores it",
	.fix_nova = nova_misplaced,
	.check = rule_viommu_misplaced,
    },
    {
	.id = VH_RULE_VIOMMU_MISSING,
	.message_id = "1810903e83d34c9b8e81676cf2eb9fbb",
	.severity = VH_ERROR,
	.summary = "the device needs an emulated Intel IOMMU (<iommu model='intel'>)",
	.fix_nova = nova_viommu,
	.check = rule_viommu,
    },
    {
	.id = VH_RULE_VIOMMU_INTREMAP,
	.message_id = "c8213e5a56b048ada9eb098c1dd10d7f",
	.severity = VH_ERROR,
	.summary = "the emulated IOMMU needs interrupt remapping (intremap='on')",
	.fix_nova = nova_viommu,
	.check = rule_viommu,
    },
    {
	.id = VH_RULE_VIOMMU_CACHING_MODE,
	.message_id = "8126f5782161449194a912efff4a041d",
	.severity = VH_ERROR,
	.summary = "an emulated Intel IOMMU with VFIO devices needs caching_mode='on'",
	.fix_nova = nova_viommu,
	.check = rule_viommu,
    },
    {
	.id = VH_RULE_VIOMMU_EIM,
	.message_id = "f021af9d163d448784721dbabdec6c79",
	.severity = VH_WARNING,
	.summary = "more than 255 vCPUs with interrupt remapping need eim='on'",
	.fix_nova = nova_viommu,
	.check = rule_viommu,
    },
    {
	.id = VH_RULE_IOAPIC_SPLIT,
	.message_id = "344538ecd8c749c585189b452105e69c",
	.severity = VH_ERROR,
	.summary = "interrupt remapping needs a split I/O APIC (<ioapic driver='qemu'/>)",
	.fix_nova = nova_viommu,
	.check = rule_ioapic,
    },
    {
	.id = VH_RULE_VIOMMU_ORDER,
	.message_id = "6e8413111ace4540b3063b229e40c54f",
	.severity = VH_ERROR,
	.summary = "on a QEMU command line, the vIOMMU comes after a VFIO device",
	.check = rule_viommu_order,
    },
    {
	.id = VH_RULE_DEVICE_NOT_BOUND,
	.message_id = "d7257cb16c0c44a093fc3dfddd6c6542",
	.severity = VH_ERROR,
	.summary = "a device for a QEMU started by hand is not on a vfio driver",
	.check = rule_bound,
    },
    {
	.id = VH_RULE_GROUP_NOT_VIABLE,
	.message_id = "53c617e1d1034aaf97880dab151629bb",
	.severity = VH_ERROR,
	.summary = "another endpoint of the IOMMU group is on a host driver",
	.blocks_bind = true,
	.bind_fix =
	    "free those endpoints first, or bind them with it: 'vfio-hooks --companions any bind DEVICE' (they leave their host drivers).",
	.fix_nova = nova_group,
	.check = rule_groups,
    },
    {
	.id = VH_RULE_GROUP_COMPANIONS_BIND,
	.message_id = "4c4f3cc1b7cc49acaeb1da25d2d5a6af",
	.severity = VH_WARNING,
	.summary = "the hook will bind the IOMMU group's other endpoints to vfio-pci",
	.check = rule_groups,
    },
    {
	.id = VH_RULE_MEMLOCK_TOO_LOW,
	.message_id = "efc6243d37f443378ca586289c1088f2",
	.severity = VH_ERROR,
	.other =
	    {VH_INFO,
	     "no <memtune><hard_limit>: the limit libvirt sets itself, or on a QEMU command line the ulimit -l needed"},
	.summary = "<memtune><hard_limit> is below the memory VFIO must lock",
	.fix_nova = nova_memlock,
	.check = rule_memlock,
    },
    {
	.id = VH_RULE_MMIO_WINDOW,
	.message_id = "87c63dc01ef046e8af3d9a056be72fac",
	.severity = VH_ERROR,
	.other =
	    {VH_WARNING,
	     "the window depends on what vfio-hooks cannot know (the OVMF version, the address bits QEMU gives a host-passthrough CPU), or a resource file cannot be parsed"},
	.summary =
	    "the 64-bit prefetchable BARs of the hostdevs do not fit the 64-bit PCI window the guest firmware (SeaBIOS, OVMF) maps",
	.fix_nova = nova_mmio,
	.check = rule_mmio_window,
    },
    {
	.id = VH_RULE_XEN_PV_UNSUPPORTED,
	.message_id = "a7428a39cd9845dfb369bf1510405e95",
	.severity = VH_ERROR,
	.summary = "on Xen, the device works only in an HVM guest, not PV or PVH",
	.fix_nova = nova_xen,
	.check = rule_xen_pv,
    },
};
const size_t vh_n_rules = ELEMENTSOF(vh_rules);

const struct vh_rule_info *vh_rule_lookup(const char *id)
{
	for (size_t i = 0; i < ELEMENTSOF(rule_id_table); i++)
		if (streq(rule_id_table[i], id))
			return &vh_rules[i];
	return NULL;
}

int vh_check_domain(const struct vh_sys *sys, const struct vh_profiles *ps,
		    const struct vh_domain *dom, const struct vh_check_opts *opts,
		    struct vh_report *ret)
{
	static const struct vh_check_opts defaults = {
	    .companions = VH_COMPANIONS_SAME_DEVICE,
	};
	static const struct vh_profiles none;
	struct vh_report rep = {.dom = dom};
	struct vh_check_ctx c = {
	    .sys = sys,
	    .ps = ps ? ps : &none,
	    .dom = dom,
	    .opts = opts ? opts : &defaults,
	    .rep = &rep,
	};
	int r;

	c.hv = c.opts->hypervisor;
	if (c.hv == VH_HV_AUTO)
		c.hv = vh_domain_is_xen(dom) ? VH_HV_XEN : VH_HV_QEMU;
	if (dom->dialect == VH_DIALECT_QEMU) {
		snprintf(c.obj, sizeof(c.obj), "the QEMU command line%s%s%s",
			 dom->name && !streq(dom->name, "(unnamed)") ? " of '" : "",
			 dom->name && !streq(dom->name, "(unnamed)") ? dom->name : "",
			 dom->name && !streq(dom->name, "(unnamed)") ? "'" : "");
	} else {
		snprintf(c.obj, sizeof(c.obj), "domain '%s'", dom->name ? dom->name : "?");
	}
	if (dom->dialect == VH_DIALECT_QEMU)
		snprintf(c.subj, sizeof(c.subj), "T%s", c.obj + 1);
	else
		snprintf(c.subj, sizeof(c.subj), "The %s", c.obj);

	r = resolve(&c);
	if (r == 0)
		r = plan_companions(&c);
	for (size_t i = 0; r == 0 && i < ELEMENTSOF(vh_rules) && !c.err; i++)
		if (i == 0 || vh_rules[i].check != vh_rules[i - 1].check)
			vh_rules[i].check(&c);
	if (r == 0)
		r = c.err;
	for (size_t i = 0; i < c.n_pool; i++) {
		free(c.pool[i].group);
		free(c.pool[i].companions);
	}
	free(c.pool);
	free(c.pool_hd);
	for (size_t i = 0; i < c.n_notes; i++)
		free(c.notes[i].error);
	free(c.notes);
	groups_done(&c);
	if (r < 0) {
		vh_report_done(&rep);
		return r;
	}
	*ret = rep;
	return 0;
}

static void finding_done(struct vh_finding *f)
{
	vh_strv_free(f->devices);
	free(f->message);
	free(f->why);
	free(f->fix_where);
	free(f->fix);
}

void vh_report_keep(struct vh_report *r, bool (*keep)(const struct vh_finding *f, void *ud),
		    void *ud)
{
	size_t k = 0;

	r->n_error = r->n_warning = r->n_info = 0;
	for (size_t i = 0; i < r->n_findings; i++) {
		struct vh_finding *f = &r->findings[i];
		if (!keep(f, ud)) {
			finding_done(f);
			continue;
		}
		r->n_error += f->severity == VH_ERROR;
		r->n_warning += f->severity == VH_WARNING;
		r->n_info += f->severity == VH_INFO;
		r->findings[k++] = *f;
	}
	r->n_findings = k;
}

void vh_report_done(struct vh_report *r)
{
	for (size_t i = 0; i < r->n_findings; i++)
		finding_done(&r->findings[i]);
	free(r->findings);
	for (size_t i = 0; i < r->n_devs; i++) {
		free(r->devs[i].group);
		free(r->devs[i].companions);
	}
	free(r->devs);
	*r = (struct vh_report){0};
}

/* --- Output. --- */

static void indent(struct vh_buf *out, const char *text, const char *pfx)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		vh_buf_printf(out, "%s%.*s\n", pfx, (int)l, p);
		p = nl ? nl + 1 : NULL;
	}
}

/* "OpenStack Nova (flavor 'x', image y)": where a Nova fix goes. */
static void nova_where(const struct vh_nova *nv, struct vh_buf *out)
{
	const char *sep = " (";

	vh_buf_puts(out, "OpenStack Nova");
	if (nv->flavor[0]) {
		vh_buf_printf(out, "%sflavor '%s'", sep, nv->flavor);
		sep = ", ";
	}
	if (nv->image[0]) {
		vh_buf_printf(out, "%simage %s", sep, nv->image);
		sep = ", ";
	}
	if (sep[0] == ',')
		vh_buf_puts(out, ")");
}

void vh_report_text(const struct vh_report *r, struct vh_buf *out)
{
	const char *name = r->dom->name ? r->dom->name : "(unnamed)";

	if (r->dom->dialect == VH_DIALECT_QEMU)
		name = "QEMU command line";
	size_t checked = 0;

	for (size_t i = 0; i < r->n_devs; i++)
		checked += usable(&r->devs[i]);
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct vh_finding *f = &r->findings[i];
		vh_buf_printf(out, "%s[%s]", vh_severity_name(f->severity), f->rule);
		if (f->has_addr) {
			char a[VH_PCI_ADDR_LEN];
			vh_pci_addr_format(&f->addr, a);
			vh_buf_printf(out, " %s", a);
		}
		vh_buf_puts(out, "\n");
		indent(out, f->message, "  ");
		if (f->why) {
			vh_buf_puts(out, "  Why:\n");
			indent(out, f->why, "    ");
		}
		if (f->fix) {
			vh_buf_printf(out, "  Fix%s%s:\n", f->fix_where ? ", in " : "",
				      f->fix_where ? f->fix_where : "");
			indent(out, f->fix, "    ");
		}
		if (f->fix_nova) {
			vh_buf_puts(out, "  Fix, in ");
			nova_where(&r->dom->nova, out);
			vh_buf_puts(out, ":\n");
			indent(out, f->fix_nova, "    ");
		}
		vh_buf_puts(out, "\n");
	}
	vh_buf_printf(
	    out, "%s: %u error%s, %u warning%s, %u info; %zu of %zu PCI hostdev%s checked.\n", name,
	    r->n_error, r->n_error == 1 ? "" : "s", r->n_warning, r->n_warning == 1 ? "" : "s",
	    r->n_info, checked, r->n_devs, r->n_devs == 1 ? "" : "s");
}

void vh_report_json(const struct vh_report *r, struct vh_buf *o)
{
	const struct vh_domain *d = r->dom;

	vh_buf_puts(o, "{\"domain\":{");
	vh_buf_json_kv(o, "name", d->name, true);
	vh_buf_json_kv(o, "uuid", d->uuid, true);
	vh_buf_json_kv(o, "machine", d->machine, true);
	vh_buf_json_kv(o, "arch", d->arch, false);
	if (d->nova.present) {
		vh_buf_puts(o, ",\"nova\":{");
		vh_buf_json_kv(o, "namespace", d->nova.ns, true);
		vh_buf_json_kv(o, "flavor", d->nova.flavor[0] ? d->nova.flavor : NULL, true);
		vh_buf_json_kv(o, "image", d->nova.image[0] ? d->nova.image : NULL, false);
		vh_buf_puts(o, "}");
	}
	vh_buf_puts(o, "},\"devices\":[");
	for (size_t i = 0; i < r->n_devs; i++) {
		const struct vh_resolved *rd = &r->devs[i];
		const struct vh_pci_dev *dv = &rd->dev;
		char a[VH_PCI_ADDR_LEN], id[8];
		if (i)
			vh_buf_puts(o, ",");
		vh_buf_puts(o, "{");
		if (rd->hd->addr_ok)
			vh_pci_addr_format(&rd->hd->addr, a);
		vh_buf_json_kv(o, "address", rd->hd->addr_ok ? a : NULL, true);
		vh_buf_printf(o, "\"line\":%d,\"managed\":%s,\"interface\":%s,\"present\":%s,",
			      rd->hd->line, rd->hd->managed ? "true" : "false",
			      rd->hd->is_interface ? "true" : "false",
			      dv->present ? "true" : "false");
		if (dv->present) {
			char vn[96], mn[128];
			vh_pci_names(dv->read_by, dv->vendor, dv->device, vn, sizeof(vn), mn,
				     sizeof(mn));
			snprintf(id, sizeof(id), "%04x", dv->vendor);
			vh_buf_json_kv(o, "vendor", id, true);
			snprintf(id, sizeof(id), "%04x", dv->device);
			vh_buf_json_kv(o, "device", id, true);
			vh_buf_printf(o, "\"class\":\"%06x\",", dv->class);
			vh_buf_json_kv(o, "vendor_name", vn[0] ? vn : NULL, true);
			vh_buf_json_kv(o, "model_name", mn[0] ? mn : NULL, true);
			vh_buf_json_kv(o, "driver", dv->driver[0] ? dv->driver : NULL, true);
			vh_pci_json_group(o, dv->iommu_group, rd->group, rd->n_group);
			vh_buf_puts(o, ",");
			vh_buf_json_kv(o, "reset_method",
				       dv->has_reset_method ? dv->reset_method : NULL, true);
			vh_buf_printf(o, "\"msi_vectors\":%u,\"msix_vectors\":%u,",
				      dv->caps.msi_vectors, dv->caps.msix_vectors);
		}
		vh_buf_json_kv(o, "profile", rd->profile ? rd->profile->id : NULL, false);
		vh_buf_puts(o, "}");
	}
	vh_buf_puts(o, "],\"findings\":[");
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct vh_finding *f = &r->findings[i];
		char a[VH_PCI_ADDR_LEN];
		if (i)
			vh_buf_puts(o, ",");
		vh_buf_puts(o, "{");
		vh_buf_json_kv(o, "rule", f->rule, true);
		vh_buf_json_kv(o, "severity", vh_severity_name(f->severity), true);
		if (f->has_addr)
			vh_pci_addr_format(&f->addr, a);
		vh_buf_json_kv(o, "address", f->has_addr ? a : NULL, true);
		vh_buf_puts(o, "\"devices\":[");
		for (char **p = f->devices; p && *p; p++) {
			vh_buf_printf(o, "%s\"", p == f->devices ? "" : ",");
			vh_buf_json_str(o, *p);
			vh_buf_puts(o, "\"");
		}
		vh_buf_puts(o, "],");
		vh_buf_json_kv(o, "message", f->message, true);
		vh_buf_json_kv(o, "why", f->why, true);
		vh_buf_json_kv(o, "fix_where", f->fix_where, true);
		vh_buf_json_kv(o, "fix", f->fix, d->nova.present);
		if (d->nova.present)
			vh_buf_json_kv(o, "fix_nova", f->fix_nova, false);
		vh_buf_puts(o, "}");
	}
	vh_buf_printf(o, "],\"summary\":{\"errors\":%u,\"warnings\":%u,\"info\":%u}}\n", r->n_error,
		      r->n_warning, r->n_info);
}

/* @text on one line: a line break and its indent become one space. */
static void fold(const char *text, struct vh_buf *out)
{
	for (const char *p = text; *p; p++) {
		if (*p != '\n') {
			vh_buf_putc(out, *p);
			continue;
		}
		while (p[1] == ' ')
			p++;
		vh_buf_puts(out, " ");
	}
}

void vh_finding_oneline(const struct vh_finding *f, struct vh_buf *out)
{
	vh_buf_printf(out, "[%s] ", f->rule);
	for (const char *p = f->message; *p; p++)
		vh_buf_putc(out, *p == '\n' ? ' ' : *p);
	if (!f->fix)
		return;
	vh_buf_printf(out, " Fix, in %s: ", f->fix_where ? f->fix_where : "the domain");
	fold(f->fix, out);
	if (f->fix_nova) {
		vh_buf_puts(out, " Fix, in OpenStack Nova: ");
		fold(f->fix_nova, out);
	}
}

void vh_report_oneline(const struct vh_report *r, enum vh_severity min, struct vh_buf *out)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		if (r->findings[i].severity < min)
			continue;
		vh_finding_oneline(&r->findings[i], out);
		vh_buf_puts(out, "\n");
	}
}
