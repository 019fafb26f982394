/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "host.h"
#include "list.h"
#include "inuse.h"
#include "xmlapi.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#ifndef VH_LIBEXECDIR
#define VH_LIBEXECDIR "/usr/local/libexec/vfio-hooks"
#endif
#ifndef VH_BINDIR
#define VH_BINDIR "/usr/local/bin"
#endif

int vh_pci_list(const struct vh_sys *sys, struct vh_pci_addr **ret)
{
	return vh_pci_addrs_in(sys, ret, "/sys/bus/pci/devices");
}

/* The classes people pass through, and the ones that show up beside them
 * in IOMMU groups.  Most specific first. */
static const struct {
	uint32_t class, mask;
	const char *name;
} classes[] = {
    {0x030000, 0xffff00, "VGA compatible controller"},
    {0x030200, 0xffff00, "3D controller"},
    {0x030000, 0xff0000, "Display controller"},
    {0x0b4000, 0xffff00, "Co-processor"},
    {0x120000, 0xff0000, "Processing accelerators"},
    {0x040300, 0xffff00, "Audio device"},
    {0x040000, 0xff0000, "Multimedia controller"},
    {0x020000, 0xff0000, "Network controller"},
    {0x010000, 0xff0000, "Mass storage controller"},
    {0x0c0300, 0xffff00, "USB controller"},
    {0x0c0000, 0xff0000, "Serial bus controller"},
    {0x060400, 0xffff00, "PCI bridge"},
    {0x060000, 0xffff00, "Host bridge"},
    {0x060100, 0xffff00, "ISA bridge"},
    {0x060000, 0xff0000, "Bridge"},
    {0x080000, 0xff0000, "System peripheral"},
    {0x000000, 0x000000, "Unclassified device"},
};

const char *vh_pci_class_name(uint32_t class)
{
	for (size_t i = 0; i < ELEMENTSOF(classes); i++)
		if ((class & classes[i].mask) == classes[i].class)
			return classes[i].name;
	return "Device";
}

bool vh_pci_interesting(const struct vh_pci_dev *d, const struct vh_profile *p)
{
	uint32_t base = d->class >> 16, sub = (d->class >> 8) & 0xff;

	return p || base == 0x03 || base == 0x12 || (base == 0x0b && sub == 0x40);
}

static const char *const verdicts[] = {"PASS", "INFO", "WARN", "FAIL"};

const char *vh_verdict_name(enum vh_verdict v)
{
	return (size_t)v < ELEMENTSOF(verdicts) ? verdicts[v] : "?";
}

struct dctx {
	const struct vh_sys *sys;
	const struct vh_profiles *ps;
	struct vh_hostreport *rep;
	int err;
	bool iommu_on;
	bool named; /* the devices were named: they are for passthrough */
};

int vh_hostreport_add(struct vh_hostreport *r, const char *id, enum vh_verdict v, const char *what,
		      char *detail, char *fix)
{
	struct vh_hostcheck *nv = realloc(r->v, (r->n + 1) * sizeof(*nv));
	char *i = strdup(id), *w = strdup(what);

	if (!nv || !i || !w) {
		r->v = nv ? nv : r->v;
		free(i);
		free(w);
		free(detail);
		free(fix);
		return -ENOMEM;
	}
	r->v = nv;
	nv[r->n++] = (struct vh_hostcheck){
	    .id = i,
	    .verdict = v,
	    .what = w,
	    .detail = detail,
	    .fix = v == VH_PASS ? (free(fix), NULL) : fix,
	};
	if (v == VH_FAIL)
		r->n_fail++;
	else if (v == VH_WARN)
		r->n_warn++;
	return 0;
}

static void emit(struct dctx *c, const char *id, enum vh_verdict v, const char *what, char *detail,
		 char *fix)
{
	if (vh_hostreport_add(c->rep, id, v, what, detail, fix) < 0)
		c->err = -ENOMEM;
}

static char *slurp_max(const struct vh_sys *sys, const char *path, size_t cap)
{
	size_t len = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return NULL;
	if (vh_sys_read_raw(sys, buf, cap, &len, "%s", path) < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

char *vh_host_slurp_max(const struct vh_sys *sys, const char *path, size_t cap)
{
	return slurp_max(sys, path, cap);
}

char *vh_host_slurp(const struct vh_sys *sys, const char *path)
{
	return slurp_max(sys, path, 65536);
}

bool vh_has_word(const char *text, const char *word)
{
	size_t l = strlen(word);

	for (const char *p = text; p && (p = strstr(p, word)); p += l) {
		bool start = p == text || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n';
		bool end = !p[l] || p[l] == ' ' || p[l] == '\n' || p[l] == '\t';
		if (start && end)
			return true;
	}
	return false;
}

static int count_entries(const struct vh_sys *sys, const char *dir)
{
	char **v = NULL;
	int n = vh_sys_list(sys, &v, "%s", dir);

	vh_strv_free(v);
	return n;
}

static void check_cpu(struct dctx *c)
{
	_cleanup_free_ char *cpu = vh_host_slurp(c->sys, "/proc/cpuinfo");
	bool vmx = cpu && vh_has_word(cpu, "vmx"), svm = cpu && vh_has_word(cpu, "svm");

	emit(c, "cpu-virtualization",
	     !cpu	  ? VH_WARN
	     : vmx || svm ? VH_PASS
			  : VH_FAIL,
	     "Hardware virtualization (VT-x / AMD-V)",
	     !cpu  ? strdup("/proc/cpuinfo cannot be read")
	     : vmx ? strdup("vmx")
	     : svm ? strdup("svm")
		   : strdup("no vmx or svm flag in /proc/cpuinfo"),
	     strdup("enable Intel VT-x or AMD-V (SVM) in the firmware setup"));
	emit(c, "kvm-device", vh_sys_exists(c->sys, "/dev/kvm") > 0 ? VH_PASS : VH_FAIL,
	     "/dev/kvm exists", NULL,
	     strdup("modprobe kvm_intel (or kvm_amd); check dmesg for why KVM did not load"));
}

static bool iommu_vendor_amd(const struct vh_sys *sys, const char *cpu)
{
	char **units = NULL;
	int n = vh_sys_list(sys, &units, "/sys/class/iommu");
	int amd = -1;

	for (int i = 0; i < n && amd < 0; i++)
		if (strncmp(units[i], "dmar", 4) == 0)
			amd = 0;
		else if (strncmp(units[i], "ivhd", 4) == 0)
			amd = 1;
	vh_strv_free(units);
	if (amd >= 0)
		return amd;
	if (vh_sys_exists(sys, "/sys/firmware/acpi/tables/IVRS") > 0)
		return true;
	if (vh_sys_exists(sys, "/sys/firmware/acpi/tables/DMAR") > 0)
		return false;
	return cpu && strstr(cpu, "AuthenticAMD");
}

static void check_iommu(struct dctx *c)
{
	int units = count_entries(c->sys, "/sys/class/iommu");
	int groups = count_entries(c->sys, "/sys/kernel/iommu_groups");
	_cleanup_free_ char *cmd = vh_host_slurp(c->sys, "/proc/cmdline");
	_cleanup_free_ char *irq = vh_host_slurp(c->sys, "/proc/interrupts");
	_cleanup_free_ char *cpu = vh_host_slurp(c->sys, "/proc/cpuinfo");
	/* The IOMMU's vendor: its units' names (dmarN, ivhdN), its ACPI
	 * table, else the CPU's vendor. */
	bool amd = iommu_vendor_amd(c->sys, cpu);
	const char *param = amd ? "amd_iommu=on" : "intel_iommu=on";

	c->iommu_on = units > 0 && groups > 0;
	emit(
	    c, "iommu-enabled", c->iommu_on ? VH_PASS : VH_FAIL,
	    "IOMMU enabled (DMAR/IVRS found, IOMMU groups exist)",
	    vh_fmt("%d IOMMU unit%s, %d group%s", units > 0 ? units : 0, units == 1 ? "" : "s",
		   groups > 0 ? groups : 0, groups == 1 ? "" : "s"),
	    vh_fmt(
		"enable VT-d (Intel) or AMD-Vi in the firmware setup, add %s iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot",
		param));
	if (irq)
		emit(
		    c, "interrupt-remapping", strstr(irq, "IR-") ? VH_PASS : VH_FAIL,
		    "Interrupt remapping enabled on the host (multi-vector MSI such as the AIC100's 32 needs it)",
		    strstr(irq, "IR-") ? strdup("IR- interrupt domains in /proc/interrupts")
				       : strdup("no IR- interrupt domain in /proc/interrupts"),
		    strdup(
			"enable the IOMMU and x2APIC in the firmware setup; do not boot with intremap=off or intel_iommu=off"));
	else
		emit(c, "interrupt-remapping", VH_WARN, "Interrupt remapping enabled on the host",
		     strdup("/proc/interrupts cannot be read"), strdup("run as root"));
	if (cmd) {
		bool on = vh_has_word(cmd, param) || (amd && !strstr(cmd, "amd_iommu=off"));
		emit(
		    c, "cmdline-iommu",
		    on		  ? VH_PASS
		    : c->iommu_on ? VH_INFO_V
				  : VH_FAIL,
		    amd ? "Kernel parameter for the AMD IOMMU" : "Kernel parameter intel_iommu=on",
		    vh_has_word(cmd, param) ? strdup(param)
		    : on		    ? strdup("the AMD IOMMU is on unless amd_iommu=off")
		    : c->iommu_on
			? vh_fmt(
			      "%s is not on the command line; this kernel enables the IOMMU by default",
			      param)
			: vh_fmt("%s is not on the command line", param),
		    vh_fmt(
			"add %s to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot",
			param));
		emit(
		    c, "cmdline-iommu-pt", vh_has_word(cmd, "iommu=pt") ? VH_PASS : VH_WARN,
		    "Kernel parameter iommu=pt (the vendor pages recommend it)", NULL,
		    strdup(
			"add iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot"));
	}
	emit(
	    c, "vfio-pci-loaded",
	    vh_sys_exists(c->sys, "/sys/bus/pci/drivers/vfio-pci") > 0 ? VH_PASS : VH_WARN,
	    "vfio-pci driver loaded", NULL,
	    strdup(
		"modprobe vfio-pci; echo vfio-pci > /etc/modules-load.d/vfio-pci.conf to load it at boot"));
	emit(c, "dev-vfio", vh_sys_exists(c->sys, "/dev/vfio/vfio") > 0 ? VH_PASS : VH_WARN,
	     "/dev/vfio/vfio exists", NULL, strdup("modprobe vfio"));
}

static void check_params(struct dctx *c, const struct vh_pci_dev *d, const struct vh_profile *p,
			 const char *cmd)
{
	struct vh_buf miss = {0};
	char id[64];

	if (!p || !p->n_kernel_params || !cmd)
		return;
	for (size_t i = 0; i < p->n_kernel_params; i++)
		if (!vh_has_word(cmd, p->kernel_params[i]))
			vh_buf_printf(&miss, "%s%s", miss.len ? " " : "", p->kernel_params[i]);
	snprintf(id, sizeof(id), "device-kernel-params:%s", d->name);
	emit(
	    c, id, miss.len ? VH_WARN : VH_PASS,
	    "Kernel parameters the device's profile recommends",
	    miss.len ? vh_fmt("missing: %s (profile %s)", vh_buf_str(&miss), p->id)
		     : vh_fmt("all present (profile %s)", p->id),
	    miss.len
		? vh_fmt(
		      "add %s to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot",
		      vh_buf_str(&miss))
		: NULL);
	vh_buf_done(&miss);
}

/* The same verdict as the check's kernel-module-missing rule. */
static void check_modules(struct dctx *c, const struct vh_pci_dev *d, const struct vh_profile *p,
			  const char *label)
{
	char id[128];

	for (size_t i = 0; p && i < p->n_modules; i++) {
		const struct vh_kernel_module *m = &p->modules[i];
		bool loaded = vh_kernel_module_loaded(c->sys, m->name);
		/* A FAIL for a device named or on vfio; one the host keeps
		 * (a desktop's own GPU) needs it only if it is passed through. */
		enum vh_verdict miss = c->named || strstr(d->driver, "vfio") ? VH_FAIL : VH_WARN;
		snprintf(id, sizeof(id), "device-kernel-module:%s:%s", m->name, d->name);
		emit(c, id, loaded ? VH_PASS : miss, "Kernel modules the device's profile needs",
		     loaded ? vh_fmt("%s: %s loaded (profile %s)", label, m->name, p->id)
			    : vh_fmt("%s: %s not loaded (profile %s)%s%s", label, m->name, p->id,
				     m->why ? ": " : "", m->why ? m->why : ""),
		     vh_kernel_module_fix(m));
	}
}

/* The same verdict as the check's device-in-use rule. */
static void check_in_use(struct dctx *c, const struct vh_pci_dev *d, const char *label)
{
	struct vh_uses u = {0};
	_cleanup_free_ char *reasons = NULL;
	char id[64];
	int r = vh_pci_in_use(c->sys, d, &u);

	if (r < 0) {
		c->err = r;
		return;
	}
	reasons = vh_uses_reasons(&u, " ");
	snprintf(id, sizeof(id), "device-in-use:%s", d->name);
	emit(c, id,
	     r == 0	 ? VH_PASS
	     : u.n_error ? VH_FAIL
			 : VH_WARN,
	     "Nothing of the host's on it (mounted disk, swap, network, console)",
	     r == 0 ? vh_fmt("%s: free", label) : vh_fmt("%s: %s", label, reasons ? reasons : ""),
	     r == 0 ? NULL : vh_uses_fixes(&u, "; "));
	vh_uses_done(&u);
}

static void check_device(struct dctx *c, const struct vh_pci_addr *a, const char *cmd)
{
	struct vh_pci_dev d;
	const struct vh_profile *p;
	struct vh_pci_addr *members = NULL;
	struct vh_buf block = {0};
	char id[64], label[160];
	int n;

	if (vh_pci_dev_read(c->sys, a, &d) < 0) {
		char name[VH_PCI_ADDR_LEN];
		vh_pci_addr_format(a, name);
		snprintf(id, sizeof(id), "device-present:%s", name);
		emit(c, id, VH_FAIL, "Device present", vh_fmt("no %s on this host", name),
		     strdup("check the address with lspci -D"));
		return;
	}
	p = vh_profiles_match(c->ps, &d);
	snprintf(label, sizeof(label), "%s [%04x:%04x]%s%s", d.name, d.vendor, d.device,
		 p ? " " : "", p ? p->description : "");
	snprintf(id, sizeof(id), "device-iommu-group:%s", d.name);
	emit(c, id, d.iommu_group >= 0 ? VH_PASS : VH_FAIL, "Device in an IOMMU group",
	     d.iommu_group >= 0 ? vh_fmt("%s: group %d", label, d.iommu_group)
				: vh_fmt("%s: no IOMMU group", label),
	     strdup("enable the IOMMU (see iommu-enabled)"));
	if (d.iommu_group >= 0) {
		n = vh_iommu_group_members(c->sys, d.iommu_group, &members);
		for (int i = 0; i < n; i++) {
			struct vh_pci_dev m;
			if (vh_pci_addr_eq(&members[i], a) ||
			    vh_pci_dev_read(c->sys, &members[i], &m) < 0 ||
			    vh_pci_dev_is_bridge(&m) || !m.driver[0] || strstr(m.driver, "vfio") ||
			    streq(m.driver, "pci-stub"))
				continue;
			/* As the check judges companions: a bridge or a
			 * chipset function shares the slot, not the card. */
			bool same_slot = m.addr.bus == a->bus && m.addr.slot == a->slot &&
					 m.addr.domain == a->domain;
			vh_buf_printf(&block, "%s%s (%s%s)", block.len ? ", " : "", m.name,
				      m.driver,
				      (m.class >> 16) == 0x06 ? ", a bridge"
				      : same_slot && vh_pci_dev_is_chipset(c->sys, &m)
					  ? ", part of the chipset"
				      : same_slot ? ", same card"
						  : "");
		}
		free(members);
		snprintf(id, sizeof(id), "device-group-viable:%s", d.name);
		emit(
		    c, id, block.len ? VH_WARN : VH_PASS, "Every other endpoint of its group free",
		    block.len ? vh_fmt("%s: group %d also holds %s", label, d.iommu_group,
				       vh_buf_str(&block))
			      : vh_fmt("%s: nothing else in the way", label),
		    strdup(
			"pass the other endpoints to the same VM (the hook binds functions of the same card itself), or move the card to a slot with its own group"));
		vh_buf_done(&block);
	}
	check_in_use(c, &d, label);
	check_modules(c, &d, p, label);
	if (p && p->set_reset_method && d.has_reset_method) {
		bool ok = streq(d.reset_method, p->reset_method);
		snprintf(id, sizeof(id), "device-reset-method:%s", d.name);
		emit(
		    c, id, ok ? VH_PASS : VH_INFO_V,
		    "reset_method as its profile wants while assigned",
		    vh_fmt("%s: '%s' now, '%s' wanted", label, d.reset_method, p->reset_method),
		    strdup(
			"nothing to do: the hook sets it when a VM starts and restores it after; or set it at boot with 'vfio-hooks bind --persist'"));
	}
	snprintf(id, sizeof(id), "device-driver:%s", d.name);
	emit(
	    c, id, !d.driver[0] || strstr(d.driver, "vfio") ? VH_PASS : VH_INFO_V, "Driver at boot",
	    vh_fmt("%s: %s", label, d.driver[0] ? d.driver : "no driver"),
	    vh_fmt(
		"nothing to do for libvirt (managed='yes', or the hook for managed='no'); for QEMU run by hand: 'vfio-hooks bind %s'",
		d.name));
	check_params(c, &d, p, cmd);
}

/* A process of that name running (from /proc/PID/comm). */
static bool process_running(const struct vh_sys *sys, const char *comm, long *ret_pid)
{
	char **pids = NULL, v[64];
	bool found = false;
	int n = vh_sys_list(sys, &pids, "/proc");

	for (int i = 0; i < n && !found; i++) {
		if (pids[i][0] < '0' || pids[i][0] > '9')
			continue;
		if (vh_sys_read_str(sys, v, sizeof(v), "/proc/%s/comm", pids[i]) == 0 &&
		    streq(v, comm)) {
			found = true;
			if (ret_pid)
				*ret_pid = atol(pids[i]);
		}
	}
	vh_strv_free(pids);
	return found;
}

/* The first /dev/nvidia* node among a process's open files, from its
 * /proc/PID/fd links (which name the real path, whatever the root).  A
 * process whose fds cannot be read (another user's, or gone) is skipped. */
static bool holds_nvidia(const struct vh_sys *sys, const char *pid, char *node, size_t n,
			 unsigned *ret_count)
{
	char **fds = NULL, target[256];
	unsigned count = 0;
	int k = vh_sys_list(sys, &fds, "/proc/%s/fd", pid);

	for (int i = 0; i < k; i++)
		if (vh_sys_readlink(sys, target, sizeof(target), "/proc/%s/fd/%s", pid, fds[i]) ==
			0 &&
		    strncmp(target, "/dev/nvidia", 11) == 0 && count++ == 0)
			vh_strlcpy(node, target, n);
	vh_strv_free(fds);
	*ret_count = count;
	return count > 0;
}

static void check_nvidia(struct dctx *c)
{
	char **pids = NULL, node[256], comm[64], id[64];
	int n;
	long persistenced = 0;

	if (process_running(c->sys, "nvidia-persistenced", &persistenced))
		emit(
		    c, "nvidia-persistenced", VH_WARN, "No process holds an NVIDIA GPU on the host",
		    vh_fmt("nvidia-persistenced is running (pid %ld)", persistenced),
		    strdup(
			"systemctl stop nvidia-persistenced (and disable it) before giving the GPU to a VM"));
	/* Anything else with a /dev/nvidia* node open keeps the GPU's
	 * driver busy: unbinding it for vfio-pci then hangs or fails. */
	n = vh_sys_list(c->sys, &pids, "/proc");
	for (int i = 0; i < n; i++) {
		unsigned count;
		char more[48] = "";
		if (pids[i][0] < '0' || pids[i][0] > '9' ||
		    !holds_nvidia(c->sys, pids[i], node, sizeof(node), &count))
			continue;
		if (vh_sys_read_str(c->sys, comm, sizeof(comm), "/proc/%s/comm", pids[i]) < 0)
			vh_strlcpy(comm, "?", sizeof(comm));
		if (streq(comm, "nvidia-persistenced"))
			continue; /* reported above, with its fix */
		if (count > 1)
			snprintf(more, sizeof(more), " and %u more", count - 1);
		snprintf(id, sizeof(id), "nvidia-device-open:%s", pids[i]);
		emit(
		    c, id, VH_WARN, "No process has an NVIDIA device node open on the host",
		    vh_fmt("pid %s (%s) holds %s%s", pids[i], comm, node, more),
		    vh_fmt(
			"stop it before giving the GPU to a VM: systemctl stop the service that runs it, or kill %s",
			pids[i]));
	}
	vh_strv_free(pids);
}

/* The daemons that run the qemu hook, in the order a running one is
 * looked for. */
static const char *const daemons[] = {"virtqemud", "libvirtd"};

static const char *running_daemon(const struct vh_sys *sys, long *ret_pid)
{
	for (size_t i = 0; i < ELEMENTSOF(daemons); i++)
		if (process_running(sys, daemons[i], ret_pid))
			return daemons[i];
	return NULL;
}

/* install.sh reloads the running daemon after placing the hook and
 * notes it in RELOAD_STAMP, a line "DAEMON PID EPOCH" per daemon: a reload
 * does not change the daemon's start time, which alone would say it never
 * saw the hook.  Whether @daemon with @pid was reloaded at or after
 * @placed. */
#define RELOAD_STAMP "/var/lib/vfio-hooks/reloaded"
static bool reloaded_since(struct dctx *c, const char *daemon, long pid, time_t placed)
{
	_cleanup_free_ char *text = vh_host_slurp(c->sys, RELOAD_STAMP);
	char *save = NULL;

	if (!text)
		return false;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[32];
		long p;
		long long when;
		if (sscanf(l, "%31s %ld %lld", name, &p, &when) == 3 && streq(name, daemon) &&
		    p == pid && when >= placed)
			return true;
	}
	return false;
}

/* The daemon started before the hook was placed has not seen it: libvirt
 * looks for hooks at start-up and on reload only. */
static void check_picked_up(struct dctx *c, const char *daemon, long pid, const struct stat *st)
{
	char stat_line[1024];
	_cleanup_free_ char *pstat = vh_host_slurp(c->sys, "/proc/stat");
	unsigned long long start_ticks = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	char *p, *b;

	if (vh_sys_read_str(c->sys, stat_line, sizeof(stat_line), "/proc/%ld/stat", pid) == 0 &&
	    (p = strrchr(stat_line, ')'))) {
		/* Field 22, counted from after the command name. */
		int field = 2;
		for (p++; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		start_ticks = strtoull(p, NULL, 10);
	}
	if (pstat && (b = strstr(pstat, "btime ")))
		btime = strtoull(b + 6, NULL, 10);
	if (start_ticks && btime && hz > 0) {
		unsigned long long started = btime + start_ticks / (unsigned long long)hz;
		bool later = (unsigned long long)st->st_mtime > started;
		if (later && reloaded_since(c, daemon, pid, st->st_mtime)) {
			emit(
			    c, "hook-picked-up", VH_PASS,
			    "The libvirt daemon has picked the hook up",
			    vh_fmt(
				"%s (pid %ld) was reloaded by install.sh after the hook was placed",
				daemon, pid),
			    NULL);
			return;
		}
		emit(
		    c, "hook-picked-up", later ? VH_WARN : VH_PASS,
		    "The libvirt daemon has picked the hook up",
		    later ? vh_fmt("%s (pid %ld) started before the hook was placed", daemon, pid)
			  : vh_fmt("%s (pid %ld) started after the hook was placed", daemon, pid),
		    vh_fmt(
			"systemctl reload %s (or kill -HUP %ld); ignore this if it was reloaded since",
			daemon, pid));
	}
}

#define HOOKS_DIR "/etc/libvirt/hooks/"

/* hook-installed and hook-picked-up.  *ret_hook: where the hook is, or
 * NULL when it is not installed. */
static void check_hook(struct dctx *c, const char *daemon, long pid, const char **ret_hook)
{
	struct stat st;
	bool in_d = vh_sys_lstat(c->sys, &st, HOOKS_DIR "qemu.d/vfio-hooks") == 0;
	bool legacy = !in_d && vh_sys_lstat(c->sys, &st, HOOKS_DIR "qemu") == 0;

	*ret_hook = in_d ? HOOKS_DIR "qemu.d/vfio-hooks" : legacy ? HOOKS_DIR "qemu" : NULL;
	emit(c, "hook-installed", *ret_hook ? VH_PASS : VH_WARN,
	     "The vfio-hooks libvirt hook is installed",
	     *ret_hook ? strdup(*ret_hook) : strdup("not in /etc/libvirt/hooks/qemu.d"),
	     strdup("sudo ./install.sh"));
	if (!*ret_hook)
		return;
	if (!daemon) {
		emit(c, "hook-picked-up", VH_INFO_V, "The libvirt daemon has picked the hook up",
		     strdup("no libvirtd or virtqemud running: the next one to start picks it up"),
		     strdup("nothing to do"));
		return;
	}
	check_picked_up(c, daemon, pid, &st);
}

/* Bounds on what the confinement checks follow and read. */
enum {
	LINK_HOPS_MAX = 40, /* the kernel's MAXSYMLINKS */
	HOOK_SIZE_MAX = 64 << 20,
	AA_PROFILES_MAX = 1 << 20, /* a profile a line; snaps bring hundreds */
};

#define AA_PROFILES "/sys/kernel/security/apparmor/profiles"
#define AA_LOCAL "/etc/apparmor.d/local/"
#define AA_QEMU "/etc/apparmor.d/abstractions/libvirt-qemu"
#define AA_QEMU_LOCAL AA_LOCAL "abstractions/libvirt-qemu"
#define AA_QEMU_D_FILE AA_QEMU ".d/vfio-hooks"
#define AA_BEGIN                                                                                   \
	"# BEGIN vfio-hooks (install.sh --wrap-qemu; removed by install.sh "                       \
	"--uninstall)"
#define AA_END "# END vfio-hooks"

enum lsm { LSM_NONE, LSM_APPARMOR, LSM_SELINUX, LSM_UNKNOWN };
enum aa_mode { AA_UNCONFINED, AA_ENFORCE, AA_COMPLAIN };

static const char *aa_mode_name(enum aa_mode m)
{
	return m == AA_COMPLAIN ? "complain" : m == AA_UNCONFINED ? "unconfined" : "enforce";
}

/* Who confines the libvirt daemon, and how: the running daemon's own
 * label, else the loaded policy (Debian's libvirtd is socket-activated and
 * exits when idle, so often none runs). */
struct confinement {
	enum lsm lsm;
	enum aa_mode mode; /* LSM_APPARMOR */
	bool aa_present, selinux_enforcing;
	/* The running daemon, else the one whose profile is loaded, else
	 * "libvirtd". */
	const char *daemon;
	long pid;	 /* 0: none running */
	char label[256]; /* the AppArmor profile, or the SELinux type */
};

/* "NAME (MODE)", as AppArmor shows a confined task and a loaded profile,
 * or "unconfined".  False for anything else (an SELinux context). */
static bool aa_label_parse(const char *label, char *name, size_t n, enum aa_mode *ret_mode)
{
	const char *open = NULL, *mode;
	size_t l = strlen(label);

	if (streq(label, "unconfined")) {
		vh_strlcpy(name, label, n);
		*ret_mode = AA_UNCONFINED;
		return true;
	}
	for (const char *p = strstr(label, " ("); p; p = strstr(p + 1, " ("))
		open = p;
	if (!open || l < 2 || label[l - 1] != ')' || open == label)
		return false;
	mode = open + 2;
	snprintf(name, n, "%.*s", (int)(open - label), label);
	/* kill, user and prompt deny as enforce does */
	*ret_mode = !strncmp(mode, "complain)", 9)	? AA_COMPLAIN
		    : !strncmp(mode, "unconfined)", 11) ? AA_UNCONFINED
							: AA_ENFORCE;
	return true;
}

/* The type of an SELinux context "user:role:type:level". */
static bool selinux_type(const char *context, char *type, size_t n)
{
	const char *t = strchr(context, ':');
	const char *e;

	if (!t || !(t = strchr(t + 1, ':')))
		return false;
	t++;
	e = strchrnul(t, ':');
	if (e == t || !*e)
		return false;
	snprintf(type, n, "%.*s", (int)(e - t), t);
	return true;
}

/* @daemon's profile among the loaded ones ("libvirtd (enforce)", or named
 * by its path: "/usr/sbin/libvirtd (enforce)"). */
static bool aa_profile_find(const char *profiles, const char *daemon, struct confinement *cf)
{
	char line[512], name[256], path[64];
	enum aa_mode mode;

	snprintf(path, sizeof(path), "/usr/sbin/%s", daemon);
	for (const char *p = profiles; *p;) {
		const char *e = strchrnul(p, '\n');
		snprintf(line, sizeof(line), "%.*s", (int)(e - p), p);
		p = *e ? e + 1 : e;
		if (!aa_label_parse(line, name, sizeof(name), &mode) ||
		    (!streq(name, daemon) && !streq(name, path)))
			continue;
		vh_strlcpy(cf->label, name, sizeof(cf->label));
		cf->mode = mode;
		cf->daemon = daemon;
		return true;
	}
	return false;
}

static void read_confinement(const struct vh_sys *sys, const char *daemon, long pid,
			     struct confinement *ret)
{
	struct confinement cf = {.daemon = daemon ? daemon : "libvirtd", .pid = daemon ? pid : 0};
	char v[16], label[256];
	bool aa_enabled =
	    vh_sys_read_str(sys, v, sizeof(v), "/sys/module/apparmor/parameters/enabled") == 0 &&
	    v[0] == 'Y';
	bool labelled =
	    daemon &&
	    (vh_sys_read_str(sys, label, sizeof(label), "/proc/%ld/attr/apparmor/current", pid) ==
		 0 ||
	     vh_sys_read_str(sys, label, sizeof(label), "/proc/%ld/attr/current", pid) == 0);

	cf.aa_present = vh_sys_exists(sys, "/sys/module/apparmor") > 0;
	cf.selinux_enforcing =
	    vh_sys_read_str(sys, v, sizeof(v), "/sys/fs/selinux/enforce") == 0 && streq(v, "1");
	if (labelled && aa_enabled && aa_label_parse(label, cf.label, sizeof(cf.label), &cf.mode))
		cf.lsm = LSM_APPARMOR;
	else if (labelled && selinux_type(label, cf.label, sizeof(cf.label)))
		cf.lsm = LSM_SELINUX;
	else if (aa_enabled) {
		_cleanup_free_ char *profiles = slurp_max(sys, AA_PROFILES, AA_PROFILES_MAX);
		cf.lsm = profiles ? LSM_APPARMOR : LSM_UNKNOWN;
		cf.mode = AA_UNCONFINED;
		for (size_t i = ELEMENTSOF(daemons); profiles && i-- > 0;)
			if ((!daemon || streq(daemon, daemons[i])) &&
			    aa_profile_find(profiles, daemons[i], &cf))
				break;
	} else if (cf.selinux_enforcing)
		cf.lsm = LSM_SELINUX;
	*ret = cf;
}

static void report_confinement(struct dctx *c, const struct confinement *cf)
{
	const char *what = "What confines the libvirt daemon (AppArmor, SELinux)";
	const char *mode = aa_mode_name(cf->mode);

	switch (cf->lsm) {
	case LSM_APPARMOR:
		emit(
		    c, "daemon-confinement", VH_PASS, what,
		    cf->pid && cf->mode == AA_UNCONFINED
			? vh_fmt("%s (pid %ld) runs unconfined by AppArmor", cf->daemon, cf->pid)
		    : cf->pid ? vh_fmt("%s (pid %ld) runs under AppArmor profile '%s' in %s mode",
				       cf->daemon, cf->pid, cf->label, mode)
		    : cf->label[0]
			? vh_fmt("AppArmor profile '%s' is loaded in %s mode (no daemon running)",
				 cf->label, mode)
			: strdup(
			      "AppArmor is enabled and has no libvirtd or virtqemud profile loaded (no daemon running)"),
		    NULL);
		break;
	case LSM_SELINUX:
		emit(c, "daemon-confinement", VH_INFO_V, what,
		     cf->pid ? vh_fmt("%s (pid %ld) runs in the SELinux domain %s (%s)", cf->daemon,
				      cf->pid, cf->label,
				      cf->selinux_enforcing ? "enforcing" : "not enforcing")
			     : strdup("SELinux is enforcing (no daemon running)"),
		     NULL);
		break;
	case LSM_UNKNOWN:
		emit(
		    c, "daemon-confinement", VH_INFO_V, what,
		    strdup(
			"AppArmor is enabled, but /sys/kernel/security/apparmor/profiles cannot be read (not root?), so whether a profile confines libvirtd is unknown (no daemon running)"),
		    strdup("run vfio-hooks doctor as root"));
		break;
	case LSM_NONE:
		emit(
		    c, "daemon-confinement", VH_PASS, what,
		    cf->aa_present
			? strdup(
			      "nothing confines libvirtd: AppArmor is disabled (/sys/module/apparmor/parameters/enabled is not Y)")
			: strdup(
			      "nothing confines libvirtd: AppArmor is not in this kernel (no /sys/module/apparmor)"),
		    NULL);
		break;
	}
}

/* @path with every symlink resolved inside the root, as for a process
 * chrooted there: an absolute target starts again at the root, ".." stops
 * at it.  -ELOOP after LINK_HOPS_MAX links; lstat's error when a component
 * is missing. */
static int resolve_in_root(const struct vh_sys *sys, const char *path, char *ret, size_t n)
{
	char done[PATH_MAX] = "", todo[PATH_MAX], target[PATH_MAX], next[PATH_MAX];
	unsigned hops = 0;
	size_t dl = 0;
	const char *p = todo;

	if (vh_strlcpy(todo, path, sizeof(todo)) < 0)
		return -ENAMETOOLONG;
	while (*p) {
		const char *e;
		size_t l;
		struct stat st;
		int r;

		p += strspn(p, "/");
		if (!*p)
			break;
		e = strchrnul(p, '/');
		l = (size_t)(e - p);
		if (l == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (dl > 0 && done[dl - 1] != '/')
				dl--;
			dl -= dl > 0;
			done[dl] = '\0';
			p = e;
			continue;
		}
		if (dl + 1 + l >= sizeof(done))
			return -ENAMETOOLONG;
		done[dl] = '/';
		memcpy(done + dl + 1, p, l);
		done[dl + 1 + l] = '\0';
		r = vh_sys_lstat(sys, &st, "%s", done);
		if (r < 0)
			return r;
		if (!S_ISLNK(st.st_mode)) {
			dl += 1 + l;
			p = e;
			continue;
		}
		if (++hops > LINK_HOPS_MAX)
			return -ELOOP;
		r = vh_sys_readlink(sys, target, sizeof(target), "%s", done);
		if (r < 0)
			return r;
		if (vh_strlcpy(next, target, sizeof(next)) < 0 ||
		    strlen(target) + strlen(e) >= sizeof(next))
			return -ENAMETOOLONG;
		strcat(next, e);
		memcpy(todo, next, strlen(next) + 1);
		p = todo;
		if (target[0] == '/')
			dl = 0;
		done[dl] = '\0';
	}
	return vh_strlcpy(ret, dl ? done : "/", n);
}

/* 1 when two files under the root hold the same bytes, 0 when not,
 * -errno when either cannot be read or is over HOOK_SIZE_MAX. */
static int same_content(const struct vh_sys *sys, const char *a, const char *b)
{
	struct stat sa, sb;
	_cleanup_free_ char *x = NULL, *y = NULL;
	size_t n, lx, ly;
	int r;

	if ((r = vh_sys_lstat(sys, &sa, "%s", a)) < 0 || (r = vh_sys_lstat(sys, &sb, "%s", b)) < 0)
		return r;
	if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode))
		return -EINVAL;
	if (sa.st_size > HOOK_SIZE_MAX || sb.st_size > HOOK_SIZE_MAX)
		return -EFBIG;
	if (sa.st_size != sb.st_size)
		return 0;
	n = (size_t)sa.st_size;
	x = malloc(n + 1);
	y = malloc(n + 1);
	if (!x || !y)
		return -ENOMEM;
	/* one byte more than the size: a file that grew differs */
	if ((r = vh_sys_read_raw(sys, x, n + 1, &lx, "%s", a)) < 0 ||
	    (r = vh_sys_read_raw(sys, y, n + 1, &ly, "%s", b)) < 0)
		return r;
	return lx == ly && memcmp(x, y, lx) == 0;
}

/* The first line of @text that is exactly @line, or NULL. */
static const char *find_line(const char *text, const char *line)
{
	size_t l = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p += l)
		if ((p == text || p[-1] == '\n') && (p[l] == '\n' || !p[l]))
			return p;
	return NULL;
}

/* Whether a rule (not a comment) of an AppArmor file names @path:
 * "  /usr/local/libexec/vfio-hooks/qemu-hook rmix,". */
static bool aa_names_path(const char *text, const char *path)
{
	size_t l = strlen(path);

	for (const char *p = text; text && (p = strstr(p, path)); p += l) {
		const char *s = p;
		if (p[l] != ' ' && p[l] != '\t')
			continue;
		while (s > text && s[-1] != '\n')
			s--;
		if (s[strspn(s, " \t")] != '#')
			return true;
	}
	return false;
}

static bool aa_block_in(const struct vh_sys *sys, const char *file)
{
	_cleanup_free_ char *text = vh_host_slurp(sys, file);
	const char *b = text ? find_line(text, AA_BEGIN) : NULL;

	return b && find_line(b + strlen(AA_BEGIN), AA_END);
}

/* The fixes of hook-executable: the hook made root's alone, or placed as a
 * file under /etc/libvirt/hooks/. */
static char *fix_owner(const char *real)
{
	return vh_fmt("sudo chown root:root %s && sudo chmod 0755 %s", real, real);
}

static char *fix_place(const char *hook, const char *real)
{
	return vh_fmt(
	    "sudo ./install.sh (it places the hook as a file), or: sudo cp --remove-destination %s %s",
	    real, hook);
}

static void check_hook_exec(struct dctx *c, const struct confinement *cf, const char *hook,
			    const char *real, const struct stat *st, uid_t root_uid)
{
	const char *what = "The libvirt daemon can execute the hook";
	char local[128], shown[2 * PATH_MAX + 8];
	_cleanup_free_ char *rules = NULL;
	bool aa = cf->lsm == LSM_APPARMOR && cf->mode != AA_UNCONFINED;
	bool inside = strncmp(real, HOOKS_DIR, strlen(HOOKS_DIR)) == 0;
	bool allowed;
	unsigned mode = st->st_mode & 07777;

	snprintf(local, sizeof(local), AA_LOCAL "usr.sbin.%s", cf->daemon);
	rules = vh_host_slurp(c->sys, local);
	allowed = inside || aa_names_path(rules, real);
	if (streq(hook, real))
		vh_strlcpy(shown, hook, sizeof(shown));
	else
		snprintf(shown, sizeof(shown), "%s (-> %s)", hook, real);

	if (aa && !allowed && cf->mode == AA_ENFORCE)
		emit(
		    c, "hook-executable", VH_FAIL, what,
		    vh_fmt(
			"%s's AppArmor profile executes hooks only under /etc/libvirt/hooks/; %s resolves to %s, so every VM start fails with 'Permission denied'",
			cf->daemon, hook, real),
		    fix_place(hook, real));
	else if (!(st->st_mode & S_IXUSR))
		emit(c, "hook-executable", VH_FAIL, what,
		     vh_fmt("%s is not executable (mode %04o): libvirt cannot run the hook", shown,
			    mode),
		     fix_owner(real));
	else if (st->st_uid != root_uid)
		emit(
		    c, "hook-executable", VH_FAIL, what,
		    vh_fmt(
			"%s is owned by uid %u, not root: the hook runs as root for every VM, so its owner can run anything as root",
			shown, (unsigned)st->st_uid),
		    fix_owner(real));
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		emit(
		    c, "hook-executable", VH_FAIL, what,
		    vh_fmt(
			"%s is writable by group or others (mode %04o): the hook runs as root for every VM, so they can run anything as root",
			shown, mode),
		    fix_owner(real));
	else if (aa && !allowed)
		emit(
		    c, "hook-executable", VH_WARN, what,
		    vh_fmt(
			"%s's AppArmor profile is in complain mode and executes hooks only under /etc/libvirt/hooks/; %s resolves to %s, which enforce mode denies (every VM start would fail with 'Permission denied')",
			cf->daemon, hook, real),
		    fix_place(hook, real));
	else if (cf->lsm == LSM_UNKNOWN && !allowed)
		emit(
		    c, "hook-executable", VH_WARN, what,
		    vh_fmt(
			"AppArmor is enabled and %s resolves to %s, outside /etc/libvirt/hooks/: if libvirtd's profile is loaded, every VM start fails with 'Permission denied' (run as root to tell)",
			hook, real),
		    fix_place(hook, real));
	else if (cf->lsm == LSM_SELINUX && cf->selinux_enforcing && cf->pid &&
		 streq(cf->label, "virtd_t"))
		emit(
		    c, "hook-executable", VH_INFO_V, what,
		    vh_fmt(
			"%s is a root-owned executable; under SELinux hooks run in virtd_t: if AVC denials (ausearch -m avc) name the hook, 'setsebool -P virt_hooks_unconfined on' lets it run unconfined",
			shown),
		    strdup(
			"only if AVC denials name the hook: setsebool -P virt_hooks_unconfined on"));
	else if (aa)
		emit(
		    c, "hook-executable", VH_PASS, what,
		    inside
			? vh_fmt(
			      "%s is a root-owned executable under /etc/libvirt/hooks/, where %s's AppArmor profile executes hooks",
			      shown, cf->daemon)
			: vh_fmt(
			      "%s is a root-owned executable that %s names for %s's AppArmor profile",
			      shown, local, cf->daemon),
		    NULL);
	else
		emit(c, "hook-executable", VH_PASS, what,
		     vh_fmt("%s is a root-owned executable (mode %04o)", shown, mode), NULL);
}

/* A copy left by an older install.sh keeps running the old program. */
static void check_hook_current(struct dctx *c, const char *hook, const char *real)
{
	const char *installed = VH_LIBEXECDIR "/qemu-hook";
	char prog[PATH_MAX];
	struct stat st;
	int same;

	if (vh_sys_lstat(c->sys, &st, "%s", hook) < 0 || !S_ISREG(st.st_mode) ||
	    resolve_in_root(c->sys, installed, prog, sizeof(prog)) < 0 ||
	    (same = same_content(c->sys, real, prog)) < 0)
		return;
	emit(
	    c, "hook-current", same ? VH_PASS : VH_WARN, "The hook is the installed program",
	    same
		? vh_fmt("%s is a copy of %s", hook, installed)
		: vh_fmt(
		      "the hook in qemu.d is not the installed program (an older copy?): %s differs from %s",
		      hook, installed),
	    strdup("sudo ./install.sh"));
}

/* The links PREFIX/bin/qemu-system-* to vfio-qemu-wrapper (install.sh
 * --wrap-qemu), as " PATH PATH..." in @links; the first one's name in
 * @first.  Returns the count. */
static unsigned wrapper_links(const struct vh_sys *sys, struct vh_buf *links, char *first, size_t n)
{
	char **names = NULL, target[PATH_MAX];
	unsigned count = 0;
	int k = vh_sys_list(sys, &names, "%s", VH_BINDIR);

	for (int i = 0; i < k; i++) {
		const char *base;
		if (strncmp(names[i], "qemu-system-", 12) != 0 ||
		    vh_sys_readlink(sys, target, sizeof(target), "%s/%s", VH_BINDIR, names[i]) < 0)
			continue;
		base = strrchr(target, '/');
		if (!streq(base ? base + 1 : target, "vfio-qemu-wrapper"))
			continue;
		if (count++ == 0)
			vh_strlcpy(first, names[i], n);
		vh_buf_printf(links, " %s/%s", VH_BINDIR, names[i]);
	}
	vh_strv_free(names);
	return count;
}

/* The wrapper's links are libvirtd's default emulators (its PATH starts
 * with /usr/local/bin): AppArmor must let it execute them, which the
 * block install.sh --wrap-qemu adds to the local files does. */
static void check_wrapper(struct dctx *c, const struct confinement *cf, const char *first,
			  const char *links)
{
	const char *what = "The libvirt daemon can execute the QEMU wrapper (vfio-qemu-wrapper)";
	const char *arch = first + strlen("qemu-system-"), *missing;
	char local[128];
	bool aa = cf->lsm == LSM_APPARMOR && cf->mode != AA_UNCONFINED;
	_cleanup_free_ char *abstraction = vh_host_slurp(c->sys, AA_QEMU);
	/* libvirt 10.x and later include abstractions/libvirt-qemu.d/ (where
	 * install.sh puts the domains' rules), and the local file only as
	 * deprecated: the file that counts is the one install.sh writes. */
	const char *qemu_rules = abstraction && strstr(abstraction, "<abstractions/libvirt-qemu.d>")
				     ? AA_QEMU_D_FILE
				     : AA_QEMU_LOCAL;

	if (!aa && cf->lsm != LSM_UNKNOWN)
		return;
	snprintf(local, sizeof(local), AA_LOCAL "usr.sbin.%s", cf->daemon);
	missing = !aa_block_in(c->sys, local)	     ? local
		  : !aa_block_in(c->sys, qemu_rules) ? qemu_rules
						     : NULL;
	if (!missing)
		emit(c, "wrapper-confinement", VH_PASS, what,
		     vh_fmt("the vfio-hooks block is in %s and %s", local, qemu_rules), NULL);
	else if (cf->lsm == LSM_APPARMOR && cf->mode == AA_ENFORCE && missing == qemu_rules)
		emit(
		    c, "wrapper-confinement", VH_FAIL, what,
		    vh_fmt(
			"a domain whose <emulator> is %s/%s cannot start: its AppArmor profile (made from %s) does not let QEMU's process execute vfio-qemu-wrapper, and `virsh start` fails with 'cannot execute binary %s/%s: Permission denied' (%s has no vfio-hooks block)",
			VH_BINDIR, first, AA_QEMU, VH_BINDIR, first, missing),
		    vh_fmt(
			"sudo ./install.sh --wrap-qemu (adds the wrapper's AppArmor rules), or remove the links: sudo rm%s",
			links));
	else if (cf->lsm == LSM_UNKNOWN)
		emit(
		    c, "wrapper-confinement", VH_WARN, what,
		    vh_fmt(
			"AppArmor is enabled and %s has no vfio-hooks block: if libvirtd's profile is loaded, it cannot execute %s/%s (-> vfio-qemu-wrapper) and `virsh capabilities` offers no %s guest (run as root to tell)",
			missing, VH_BINDIR, first, arch),
		    vh_fmt(
			"sudo ./install.sh --wrap-qemu (adds the wrapper's AppArmor rules), or remove the links: sudo ./install.sh without --wrap-qemu does not remove them; sudo rm%s",
			links));
	else
		emit(
		    c, "wrapper-confinement", cf->mode == AA_ENFORCE ? VH_FAIL : VH_WARN, what,
		    cf->mode == AA_ENFORCE
			? vh_fmt(
			      "%s cannot execute %s/%s (-> vfio-qemu-wrapper) under AppArmor: `virsh capabilities` offers no %s guest and domains using it fail at define (%s has no vfio-hooks block)",
			      cf->daemon, VH_BINDIR, first, arch, missing)
			: vh_fmt(
			      "%s's AppArmor profile is in complain mode; in enforce mode it cannot execute %s/%s (-> vfio-qemu-wrapper): `virsh capabilities` would offer no %s guest and domains using it would fail at define (%s has no vfio-hooks block)",
			      cf->daemon, VH_BINDIR, first, arch, missing),
		    vh_fmt(
			"sudo ./install.sh --wrap-qemu (adds the wrapper's AppArmor rules), or remove the links: sudo ./install.sh without --wrap-qemu does not remove them; sudo rm%s",
			links));
}

/* daemon-confinement, hook-executable, hook-current, wrapper-confinement:
 * whether the daemon, as its security module confines it, can execute
 * what vfio-hooks placed.  Nothing when nothing was placed. */
static void check_confinement(struct dctx *c, const char *daemon, long pid, const char *hook)
{
	struct confinement cf;
	struct stat st, rootst;
	char real[PATH_MAX], first[NAME_MAX + 1];
	struct vh_buf links = {0};
	unsigned wrapped = wrapper_links(c->sys, &links, first, sizeof(first));
	int r;

	if (!hook && !wrapped) {
		vh_buf_done(&links);
		return;
	}
	read_confinement(c->sys, daemon, pid, &cf);
	report_confinement(c, &cf);
	if (hook) {
		/* root on a real host; in a tree a test built or a snapshot
		 * unpacked, whoever made it */
		uid_t root_uid = vh_sys_lstat(c->sys, &rootst, "/") == 0 ? rootst.st_uid : 0;
		r = resolve_in_root(c->sys, hook, real, sizeof(real));
		if (r >= 0)
			r = vh_sys_lstat(c->sys, &st, "%s", real);
		if (r < 0)
			emit(
			    c, "hook-executable", VH_FAIL,
			    "The libvirt daemon can execute the hook",
			    vh_fmt(
				"%s cannot be resolved to a file (%s): libvirt cannot run the hook",
				hook, strerror(-r)),
			    strdup("sudo ./install.sh"));
		else if (!S_ISREG(st.st_mode))
			emit(
			    c, "hook-executable", VH_FAIL,
			    "The libvirt daemon can execute the hook",
			    vh_fmt(
				"%s resolves to %s, which is not a regular file: libvirt cannot run the hook",
				hook, real),
			    strdup("sudo ./install.sh"));
		else {
			check_hook_exec(c, &cf, hook, real, &st, root_uid);
			check_hook_current(c, hook, real);
		}
	}
	if (wrapped)
		check_wrapper(c, &cf, first, vh_buf_str(&links));
	vh_buf_done(&links);
}

/* The libxml2 the programs load (lib/xmlapi.c): ldd cannot show a library
 * loaded with dlopen().  Only for the real system: a sysroot is another
 * tree, while the library is this machine's. */
static void check_libxml2(struct dctx *c)
{
	char path[PATH_MAX], version[32];
	struct vh_err e = {0};

	if (vh_sys_root(c->sys)[0])
		return;
	if (vh_xml_load(&e) < 0 || vh_xml_loaded(path, sizeof(path), version, sizeof(version)) < 0)
		emit(c, "libxml2", VH_FAIL, "The XML library libxml2 loads",
		     strdup(e.code ? e.msg : "no file found for it"),
		     strdup("apt-get install libxml2"));
	else
		emit(c, "libxml2", VH_PASS, "The XML library libxml2 loads",
		     vh_fmt("%s (libxml2 %s)", path, version), NULL);
}

/* Devices on a vfio driver that nothing explains (lib/list.h,
 * vh_vfio_explain): one WARN each; a PASS when every one is accounted for. */
static void check_vfio_strays(struct dctx *c)
{
	struct vh_pci_addr *all = NULL;
	struct vh_config cfg;
	unsigned on_vfio = 0, strays = 0, unknown = 0;
	int n = vh_pci_list(c->sys, &all);

	vh_config_init(&cfg);
	for (int i = 0; i < n; i++) {
		struct vh_pci_dev d;
		char why[256] = "", id[64];
		int r;
		if (vh_pci_dev_read(c->sys, &all[i], &d) < 0 || !strstr(d.driver, "vfio"))
			continue;
		on_vfio++;
		r = vh_vfio_explain(c->sys, &cfg, &d, why, sizeof(why));
		if (r < 0 && !unknown++)
			emit(
			    c, "vfio-accounted", VH_WARN,
			    "Every device on a vfio driver accounted for",
			    vh_fmt(
				"cannot tell what holds %s: the journals in /run/vfio-hooks cannot be read (%s)",
				d.name, strerror(-r)),
			    strdup("run as root"));
		if (r != 0)
			continue;
		strays++;
		snprintf(id, sizeof(id), "device-vfio-stray:%s", d.name);
		emit(
		    c, id, VH_WARN, "Nothing holds the device on its vfio driver",
		    vh_fmt(
			"%s [%04x:%04x] is on %s, and no VM, no journal and no boot binding explains it (hot-plugged with plain 'virsh attach-device --live'? left by a crash or a hand bind?)",
			d.name, d.vendor, d.device, d.driver),
		    vh_fmt(
			"'vfio-hooks unbind %s' gives it back to the host (if you bound it on purpose for a managed='no' VM, leave it)",
			d.name));
	}
	free(all);
	vh_config_done(&cfg);
	if (on_vfio && !strays && !unknown)
		emit(c, "vfio-accounted", VH_PASS, "Every device on a vfio driver accounted for",
		     vh_fmt("%u device%s: each held by a VM or a journal, or bound at boot",
			    on_vfio, on_vfio > 1 ? "s" : ""),
		     NULL);
}

int vh_host_doctor(const struct vh_sys *sys, const struct vh_profiles *ps,
		   const struct vh_pci_addr *devices, size_t n_devices, struct vh_hostreport *ret)
{
	struct vh_hostreport rep = {0};
	struct dctx c = {.sys = sys, .ps = ps, .rep = &rep};
	_cleanup_free_ char *cmd = NULL;
	struct vh_pci_addr *all = NULL;
	const char *daemon, *hook;
	long pid = 0;

	check_cpu(&c);
	check_iommu(&c);
	cmd = vh_host_slurp(sys, "/proc/cmdline");
	if (devices) {
		c.named = true;
		for (size_t i = 0; i < n_devices; i++)
			check_device(&c, &devices[i], cmd);
	} else {
		int n = vh_pci_list(sys, &all);
		for (int i = 0; i < n; i++) {
			struct vh_pci_dev d;
			if (vh_pci_dev_read(sys, &all[i], &d) == 0 &&
			    vh_pci_interesting(&d, vh_profiles_match(ps, &d)))
				check_device(&c, &all[i], cmd);
		}
		free(all);
	}
	check_nvidia(&c);
	if (!devices)
		check_vfio_strays(&c);
	daemon = running_daemon(sys, &pid);
	check_hook(&c, daemon, pid, &hook);
	check_confinement(&c, daemon, pid, hook);
	check_libxml2(&c);
	if (c.err) {
		vh_hostreport_done(&rep);
		return c.err;
	}
	*ret = rep;
	return 0;
}

void vh_hostreport_done(struct vh_hostreport *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].id);
		free(r->v[i].what);
		free(r->v[i].detail);
		free(r->v[i].fix);
	}
	free(r->v);
	*r = (struct vh_hostreport){0};
}

void vh_hostreport_text(const struct vh_hostreport *r, struct vh_buf *out)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct vh_hostcheck *h = &r->v[i];
		vh_buf_printf(out, "%-4s %s%s%s\n", vh_verdict_name(h->verdict), h->what,
			      h->detail ? ": " : "", h->detail ? h->detail : "");
		if (h->fix && h->verdict >= VH_WARN)
			vh_buf_printf(out, "     fix: %s\n", h->fix);
	}
	vh_buf_printf(out, "%u failed, %u warning%s, %zu checks.\n", r->n_fail, r->n_warn,
		      r->n_warn == 1 ? "" : "s", r->n);
}

void vh_hostreport_json(const struct vh_hostreport *r, struct vh_buf *o)
{
	vh_buf_puts(o, "{\"checks\":[");
	for (size_t i = 0; i < r->n; i++) {
		const struct vh_hostcheck *h = &r->v[i];
		vh_buf_puts(o, i ? ",{" : "{");
		vh_buf_json_kv(o, "id", h->id, true);
		vh_buf_json_kv(o, "verdict", vh_verdict_name(h->verdict), true);
		vh_buf_json_kv(o, "check", h->what, true);
		vh_buf_json_kv(o, "detail", h->detail, true);
		vh_buf_json_kv(o, "fix", h->fix, false);
		vh_buf_puts(o, "}");
	}
	vh_buf_printf(o, "],\"summary\":{\"fail\":%u,\"warn\":%u,\"checks\":%zu}}\n", r->n_fail,
		      r->n_warn, r->n);
}
