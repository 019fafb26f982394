/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "guest.h"

#include <stdio.h>
#include <string.h>

#define KVM_IOMMU_FIX                                                                              \
	"give the VM an emulated IOMMU with interrupt remapping: in its "                          \
	"domain XML on the host, <iommu model='intel'><driver "                                    \
	"intremap='on' caching_mode='on'/></iommu> in <devices> and "                              \
	"<ioapic driver='qemu'/> in <features>, on a q35 machine "                                 \
	"('vfio-hooks check --domain NAME' on the host says what is "                              \
	"missing); then restart the VM"

/* What each hypervisor calls itself in DMI, and how a guest under it gets
 * multi-vector MSI.  The first match wins. */
static const struct hypervisor {
	const char *id, *name;
	const char *sys_vendor; /* DMI sys_vendor, exactly */
	const char *product;	/* DMI product_name prefix; NULL: any */
	/* How to give the guest an emulated IOMMU with interrupt remapping;
	 * NULL when the hypervisor has none, and no_iommu says how the guest
	 * gets its vectors instead. */
	const char *iommu_fix;
	const char *no_iommu;
	/* What to do when a device got fewer vectors than it needs. */
	const char *vectors_fix;
} hypervisors[] = {
    {"kvm", "QEMU/KVM", "QEMU", NULL, KVM_IOMMU_FIX, NULL, KVM_IOMMU_FIX},
    {"kvm", "KVM (Red Hat)", "Red Hat", NULL, KVM_IOMMU_FIX, NULL, KVM_IOMMU_FIX},
    {"hyper-v", "Microsoft Hyper-V", "Microsoft Corporation", "Virtual Machine", NULL,
     "Hyper-V emulates no IOMMU: the guest's Hyper-V PCI driver (pci-hyperv) has the host's interrupt remapper supply the vectors",
     "Hyper-V emulates no IOMMU: the guest kernel's Hyper-V PCI driver (pci-hyperv) supplies the vectors, and only with its multi-MSI fixes; boot a guest kernel that has them (see guest-kernel)"},
    {"xen", "Xen", "Xen", NULL, NULL,
     "Xen gives an HVM guest no emulated IOMMU: Xen maps the device's interrupts itself",
     "run the VM as an HVM guest (not PV) and assign the device with pci = [ 'BDF,permissive=1' ] in its xl configuration in dom0"},
    {"vmware", "VMware ESXi", "VMware, Inc.", NULL,
     "in the VM's settings, CPU: enable 'Expose IOMMU to the guest OS' (EFI firmware, virtual hardware version 14 or later), then restart the VM",
     NULL,
     "in the VM's settings, CPU: enable 'Expose IOMMU to the guest OS' (EFI firmware, virtual hardware version 14 or later), then restart the VM"},
};

#define ANY_IOMMU_FIX                                                                              \
	"give the VM an emulated IOMMU with interrupt remapping (QEMU/KVM: "                       \
	"<iommu model='intel'><driver intremap='on' caching_mode='on'/>"                           \
	"</iommu> and <ioapic driver='qemu'/> in its domain XML)"
/* A hypervisor the guest cannot name (only the CPU flag says there is
 * one), and no hypervisor at all. */
static const struct hypervisor unknown = {
    "unknown", "an unidentified hypervisor", NULL, NULL, ANY_IOMMU_FIX, NULL, ANY_IOMMU_FIX,
};
static const struct hypervisor none = {
    "none", "no hypervisor", NULL, NULL, ANY_IOMMU_FIX, NULL, ANY_IOMMU_FIX,
};

static const struct hypervisor *xen_entry(void)
{
	for (size_t i = 0; i < ELEMENTSOF(hypervisors); i++)
		if (streq(hypervisors[i].id, "xen"))
			return &hypervisors[i];
	return &unknown;
}

static const struct hypervisor *detect(const struct vh_sys *sys, char *ev, size_t n)
{
	char type[32], vendor[128] = "", product[128] = "";
	bool have_v, have_p;
	_cleanup_free_ char *cpu = NULL;

	/* Xen PV guests have no DMI; every Xen guest has this. */
	if (vh_sys_read_str(sys, type, sizeof(type), "/sys/hypervisor/type") == 0 &&
	    streq(type, "xen")) {
		snprintf(ev, n, "/sys/hypervisor/type: xen");
		return xen_entry();
	}
	have_v = vh_sys_read_str(sys, vendor, sizeof(vendor), "/sys/class/dmi/id/sys_vendor") == 0;
	have_p =
	    vh_sys_read_str(sys, product, sizeof(product), "/sys/class/dmi/id/product_name") == 0;
	for (size_t i = 0; have_v && i < ELEMENTSOF(hypervisors); i++) {
		const struct hypervisor *h = &hypervisors[i];
		if (!streq(vendor, h->sys_vendor) ||
		    (h->product &&
		     (!have_p || strncmp(product, h->product, strlen(h->product)) != 0)))
			continue;
		snprintf(ev, n, "DMI: %s, %s", vendor, have_p ? product : "no product name");
		return h;
	}
	cpu = vh_host_slurp(sys, "/proc/cpuinfo");
	if (cpu && vh_has_word(cpu, "hypervisor")) {
		if (have_v)
			snprintf(ev, n, "the hypervisor flag in /proc/cpuinfo; DMI: %s, %s", vendor,
				 have_p ? product : "no product name");
		else
			snprintf(ev, n, "the hypervisor flag in /proc/cpuinfo; no DMI vendor");
		return &unknown;
	}
	snprintf(ev, n, "no hypervisor flag in /proc/cpuinfo%s%s%s", have_v ? "; DMI: " : "",
		 have_v ? vendor : "", have_v ? "" : ", no DMI vendor");
	return &none;
}

void vh_guest_hypervisor(const struct vh_sys *sys, struct vh_hypervisor_info *ret)
{
	struct vh_hypervisor_info h = {0};
	const struct hypervisor *e = detect(sys, h.evidence, sizeof(h.evidence));

	h.id = e->id;
	h.name = e->name;
	*ret = h;
}

struct gctx {
	const struct vh_sys *sys;
	const struct vh_profiles *ps;
	const struct hypervisor *hv;
	struct vh_hostreport *rep;
	int err;
};

static void emit(struct gctx *c, const char *id, enum vh_verdict v, const char *what, char *detail,
		 char *fix)
{
	if (vh_hostreport_add(c->rep, id, v, what, detail, fix) < 0)
		c->err = -ENOMEM;
}

/* A device passed through, as the guest sees it. */
struct gdev {
	struct vh_pci_addr addr;
	bool present;
	struct vh_pci_dev d;
	const struct vh_profile *p;
};

/* The vectors a device must get: its profile's, else none required. */
static unsigned needed_vectors(const struct gdev *g)
{
	return g->p ? g->p->needs.min_msi : 0;
}

static bool needs_remapping(const struct gdev *g)
{
	const struct vh_pci_caps *k = &g->d.caps;

	return (g->p && (g->p->needs.intremap || g->p->needs.min_msi > 1)) ||
	       (k->msi_vectors > 1 && !k->msix_vectors);
}

static void check_hypervisor(struct gctx *c, const char *ev)
{
	const struct hypervisor *h = c->hv;
	char type[32];

	emit(
	    c, "guest-hypervisor",
	    h == &none	    ? VH_WARN
	    : h == &unknown ? VH_INFO_V
			    : VH_PASS,
	    "Running under a hypervisor", vh_fmt("%s (%s)", h->name, ev),
	    strdup(
		"this looks like bare metal: run 'vfio-hooks doctor' without --guest for the host's checks"));
	/* Passthrough needs a hardware-virtualized Xen guest. */
	if (streq(h->id, "xen") &&
	    vh_sys_read_str(c->sys, type, sizeof(type), "/sys/hypervisor/guest_type") == 0)
		emit(c, "guest-xen-type", streq(type, "PV") ? VH_WARN : VH_PASS,
		     "Xen guest type is HVM (PCI passthrough of accelerators needs it)",
		     vh_fmt("%s", type),
		     strdup("set type = \"hvm\" in the VM's xl configuration in dom0"));
}

static void check_iommu(struct gctx *c, bool need)
{
	const struct hypervisor *h = c->hv;
	char **units = NULL;
	int n;
	bool dmar, ivrs;
	_cleanup_free_ char *irq = NULL;

	if (!h->iommu_fix) {
		emit(c, "guest-iommu", VH_INFO_V, "IOMMU with interrupt remapping in the guest",
		     strdup(h->no_iommu), NULL);
		return;
	}
	n = vh_sys_list(c->sys, &units, "/sys/class/iommu");
	dmar = vh_sys_exists(c->sys, "/sys/firmware/acpi/tables/DMAR") > 0;
	ivrs = vh_sys_exists(c->sys, "/sys/firmware/acpi/tables/IVRS") > 0;
	emit(
	    c, "guest-iommu",
	    n > 0  ? VH_PASS
	    : need ? VH_FAIL
		   : VH_INFO_V,
	    "Emulated IOMMU in the guest",
	    n > 0 ? vh_fmt("%s%s%s", units[0], n > 1 ? " and more" : "",
			   dmar	  ? " (ACPI DMAR)"
			   : ivrs ? " (ACPI IVRS)"
				  : "")
	    : dmar || ivrs
		? vh_fmt(
		      "an ACPI %s table but no IOMMU unit in /sys/class/iommu: the guest kernel did not enable it",
		      dmar ? "DMAR" : "IVRS")
		: strdup("no IOMMU unit in /sys/class/iommu, no ACPI DMAR or IVRS table"),
	    need ? strdup(h->iommu_fix)
		 : strdup("nothing to do unless a device needs more than one MSI vector"));
	vh_strv_free(units);
	irq = vh_host_slurp(c->sys, "/proc/interrupts");
	emit(c, "guest-interrupt-remapping",
	     !irq		  ? VH_WARN
	     : strstr(irq, "IR-") ? VH_PASS
	     : need		  ? VH_FAIL
				  : VH_INFO_V,
	     "Interrupt remapping in the guest (multi-vector MSI such as the AIC100's 32 needs it)",
	     !irq		  ? strdup("/proc/interrupts cannot be read")
	     : strstr(irq, "IR-") ? strdup("IR- interrupt domains in /proc/interrupts")
				  : strdup("no IR- interrupt domain in /proc/interrupts"),
	     !irq   ? strdup("run as root")
	     : need ? vh_fmt("%s; do not boot the guest with intremap=off", h->iommu_fix)
		    : strdup("nothing to do unless a device needs more than one MSI vector"));
}

static char *join_commits(const struct vh_guest_kernel *k)
{
	struct vh_buf b = {0};
	char *s;

	for (size_t i = 0; i < k->n_commits; i++)
		vh_buf_printf(&b, "%s%s", i ? ", " : "", k->commits[i]);
	s = strdup(vh_buf_str(&b));
	vh_buf_done(&b);
	return s;
}

/* The guest kernels the profile names for this hypervisor.  When the
 * release is older than the one the fixes landed in, the device's vector
 * count says whether they were backported. */
static void check_kernel(struct gctx *c, const struct gdev *g, const char *label, int got,
			 bool bound)
{
	char rel[128], id[64], what[128];
	unsigned v[3];

	for (size_t i = 0; g->p && i < g->p->n_guest_kernels; i++) {
		const struct vh_guest_kernel *k = &g->p->guest_kernels[i];
		_cleanup_free_ char *commits = NULL;
		bool known, old, enough;
		enum vh_verdict verdict;
		if (!streq(k->hypervisor, c->hv->id))
			continue;
		known =
		    vh_sys_read_str(c->sys, rel, sizeof(rel), "/proc/sys/kernel/osrelease") == 0 &&
		    vh_kernel_version_parse(rel, v) == 0;
		old = known && vh_kernel_version_cmp(v, k->min_v) < 0;
		enough = bound && got >= (int)needed_vectors(g);
		verdict = !known   ? VH_WARN
			  : !old   ? VH_PASS
			  : enough ? VH_PASS
			  : bound  ? VH_FAIL
				   : VH_WARN;
		commits = join_commits(k);
		snprintf(id, sizeof(id), "guest-kernel:%s", g->d.name);
		snprintf(what, sizeof(what), "Guest kernel has the fixes %s needs for the device",
			 c->hv->name);
		emit(
		    c, id, verdict, what,
		    !known ? vh_fmt("%s: /proc/sys/kernel/osrelease cannot be read", label)
		    : !old
			? vh_fmt("%s: %s, %s or later (profile %s)", label, rel, k->min, g->p->id)
		    : enough
			? vh_fmt(
			      "%s: %s is older than %s, but the device got its vectors: the fixes are backported",
			      label, rel, k->min)
			: vh_fmt(
			      "%s: %s is older than %s, the first release with the fixes (profile %s: %s)",
			      label, rel, k->min, g->p->id,
			      k->why ? k->why : "the vendor lists them"),
		    vh_fmt(
			"boot a guest kernel %s or later, or one whose distribution backports %s (git.kernel.org, torvalds/linux)",
			k->min, commits ? commits : "the fixes"));
	}
}

static int count_vectors(const struct vh_sys *sys, const char *name, char *mode, size_t n)
{
	char **v = NULL;
	int k = vh_sys_list(sys, &v, "/sys/bus/pci/devices/%s/msi_irqs", name);

	mode[0] = '\0';
	if (k > 0 &&
	    vh_sys_read_str(sys, mode, n, "/sys/bus/pci/devices/%s/msi_irqs/%s", name, v[0]) < 0)
		mode[0] = '\0';
	vh_strv_free(v);
	return k > 0 ? k : 0;
}

static void check_device(struct gctx *c, const struct gdev *g)
{
	const struct vh_pci_dev *d = &g->d;
	const struct vh_profile *p = g->p;
	const char *want = p ? p->guest_driver : NULL;
	char id[64], label[160], name[VH_PCI_ADDR_LEN], mode[16];
	unsigned need = needed_vectors(g);
	bool bound;
	int got;

	vh_pci_addr_format(&g->addr, name);
	snprintf(id, sizeof(id), "guest-device-visible:%s", name);
	if (!g->present) {
		emit(
		    c, id, VH_FAIL, "Device visible in the guest",
		    vh_fmt("no %s in this guest", name),
		    strdup(
			"the guest's address differs from the host's: lspci -D here; if it is missing, check the VM's configuration on the host"));
		return;
	}
	snprintf(label, sizeof(label), "%s [%04x:%04x]%s%s", d->name, d->vendor, d->device,
		 p ? " " : "", p ? p->description : "");
	emit(c, id, VH_PASS, "Device visible in the guest", strdup(label), NULL);

	bound = d->driver[0] != '\0';
	snprintf(id, sizeof(id), "guest-device-driver:%s", name);
	emit(
	    c, id, bound && (!want || streq(d->driver, want)) ? VH_PASS : VH_WARN,
	    "Driver bound in the guest",
	    !bound ? vh_fmt("%s: no driver", label)
	    : want && !streq(d->driver, want)
		? vh_fmt("%s: %s, but profile %s expects %s", label, d->driver, p->id, want)
	    : want ? vh_fmt("%s: %s, as profile %s expects", label, d->driver, p->id)
		   : vh_fmt("%s: %s", label, d->driver),
	    want && bound
		? vh_fmt(
		      "echo %s > /sys/bus/pci/drivers/%s/unbind; modprobe %s (install the vendor's driver package if there is no such module)",
		      name, d->driver, want)
	    : want
		? vh_fmt(
		      "modprobe %s (install the vendor's driver package if there is no such module)",
		      want)
		: strdup("install and load the device's driver"));

	got = count_vectors(c->sys, name, mode, sizeof(mode));
	snprintf(id, sizeof(id), "guest-device-vectors:%s", name);
	if (!bound)
		emit(c, id, VH_INFO_V, "Interrupt vectors the guest driver got",
		     vh_fmt("%s: no driver bound, so none allocated yet", label),
		     strdup("load the driver, then run this again"));
	else if (need)
		emit(c, id, (unsigned)got >= need ? VH_PASS : VH_FAIL,
		     "Interrupt vectors the guest driver got",
		     vh_fmt("%s: %d %s vector%s in msi_irqs, profile %s needs %u", label, got,
			    mode[0] ? mode : "MSI", got == 1 ? "" : "s", p->id, need),
		     strdup(c->hv->vectors_fix));
	else if (got <= 1 && d->caps.msi_vectors > 1 && !d->caps.msix_vectors)
		emit(
		    c, id, VH_WARN, "Interrupt vectors the guest driver got",
		    vh_fmt(
			"%s: %d in msi_irqs, though the device offers %u MSI vectors and no MSI-X: without interrupt remapping an x86 guest enables only one",
			label, got, d->caps.msi_vectors),
		    strdup(c->hv->vectors_fix));
	else
		emit(c, id, VH_PASS, "Interrupt vectors the guest driver got",
		     got ? vh_fmt("%s: %d%s%s in msi_irqs", label, got, mode[0] ? " " : "", mode)
			 : vh_fmt("%s: no msi_irqs (legacy INTx)", label),
		     NULL);
	check_kernel(c, g, label, got, bound);
}

static int add_dev(struct gctx *c, struct gdev **v, size_t *n, const struct vh_pci_addr *a)
{
	struct gdev *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	struct gdev *g;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	g = &nv[(*n)++];
	*g = (struct gdev){.addr = *a};
	g->present = vh_pci_dev_read(c->sys, a, &g->d) == 0;
	g->p = g->present ? vh_profiles_match(c->ps, &g->d) : NULL;
	return 0;
}

int vh_guest_doctor(const struct vh_sys *sys, const struct vh_profiles *ps,
		    const struct vh_pci_addr *devices, size_t n_devices, struct vh_hostreport *ret)
{
	struct vh_hostreport rep = {0};
	struct gctx c = {.sys = sys, .ps = ps, .rep = &rep};
	struct gdev *devs = NULL;
	size_t n = 0;
	char ev[160];
	bool need = false;
	int r = 0;

	c.hv = detect(sys, ev, sizeof(ev));
	if (devices) {
		for (size_t i = 0; i < n_devices && r == 0; i++)
			r = add_dev(&c, &devs, &n, &devices[i]);
	} else {
		struct vh_pci_addr *all = NULL;
		int k = vh_pci_list(sys, &all);
		for (int i = 0; i < k && r == 0; i++) {
			r = add_dev(&c, &devs, &n, &all[i]);
			if (r == 0 && (!devs[n - 1].present ||
				       !vh_pci_interesting(&devs[n - 1].d, devs[n - 1].p)))
				n--;
		}
		free(all);
	}
	if (r < 0) {
		free(devs);
		return r;
	}
	for (size_t i = 0; i < n; i++)
		need = need || (devs[i].present && needs_remapping(&devs[i]));

	check_hypervisor(&c, ev);
	check_iommu(&c, need);
	if (!n)
		emit(
		    &c, "guest-devices", VH_INFO_V, "Passed-through devices",
		    strdup(
			"no accelerator, display or co-processor function and no profiled device in this guest"),
		    strdup("name the device: vfio-hooks doctor --guest ADDRESS (lspci -D)"));
	for (size_t i = 0; i < n; i++)
		check_device(&c, &devs[i]);
	free(devs);
	if (c.err) {
		vh_hostreport_done(&rep);
		return c.err;
	}
	*ret = rep;
	return 0;
}
