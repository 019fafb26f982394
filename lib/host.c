/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "host.h"

#include <stdio.h>
#include <string.h>

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

	return p || base == 0x03 || base == 0x12 ||
	       (base == 0x0b && sub == 0x40);
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
};

int vh_hostreport_add(struct vh_hostreport *r, const char *id,
		      enum vh_verdict v, const char *what, char *detail,
		      char *fix)
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

static void emit(struct dctx *c, const char *id, enum vh_verdict v,
		 const char *what, char *detail, char *fix)
{
	if (vh_hostreport_add(c->rep, id, v, what, detail, fix) < 0)
		c->err = -ENOMEM;
}

static char *fmtd(const char *f, ...) _printf_(1, 2);
static char *fmtd(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *vh_host_slurp(const struct vh_sys *sys, const char *path)
{
	size_t cap = 65536, len = 0;
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

bool vh_has_word(const char *text, const char *word)
{
	size_t l = strlen(word);

	for (const char *p = text; p && (p = strstr(p, word)); p += l) {
		bool start =
		    p == text || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n';
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
	bool vmx = cpu && vh_has_word(cpu, "vmx"),
	     svm = cpu && vh_has_word(cpu, "svm");

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
	emit(c, "kvm-device",
	     vh_sys_exists(c->sys, "/dev/kvm") > 0 ? VH_PASS : VH_FAIL,
	     "/dev/kvm exists", NULL,
	     strdup("modprobe kvm_intel (or kvm_amd); check dmesg for why KVM "
		    "did not load"));
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
	emit(c, "iommu-enabled", c->iommu_on ? VH_PASS : VH_FAIL,
	     "IOMMU enabled (DMAR/IVRS found, IOMMU groups exist)",
	     fmtd("%d IOMMU unit%s, %d group%s", units > 0 ? units : 0,
		  units == 1 ? "" : "s", groups > 0 ? groups : 0,
		  groups == 1 ? "" : "s"),
	     fmtd("enable VT-d (Intel) or AMD-Vi in the firmware setup, add %s "
		  "iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, run "
		  "update-grub and reboot",
		  param));
	if (irq)
		emit(
		    c, "interrupt-remapping",
		    strstr(irq, "IR-") ? VH_PASS : VH_FAIL,
		    "Interrupt remapping enabled on the host (multi-vector MSI "
		    "such as the AIC100's 32 needs it)",
		    strstr(irq, "IR-") ? strdup("IR- interrupt domains in "
						"/proc/interrupts")
				       : strdup("no IR- interrupt domain in "
						"/proc/interrupts"),
		    strdup("enable the IOMMU and x2APIC in the firmware setup; "
			   "do not boot with intremap=off or "
			   "intel_iommu=off"));
	else
		emit(c, "interrupt-remapping", VH_WARN,
		     "Interrupt remapping enabled on the host",
		     strdup("/proc/interrupts cannot be read"),
		     strdup("run as root"));
	if (cmd) {
		bool on = vh_has_word(cmd, param) ||
			  (amd && !strstr(cmd, "amd_iommu=off"));
		emit(c, "cmdline-iommu",
		     on		   ? VH_PASS
		     : c->iommu_on ? VH_INFO_V
				   : VH_FAIL,
		     amd ? "Kernel parameter for the AMD IOMMU"
			 : "Kernel parameter intel_iommu=on",
		     vh_has_word(cmd, param) ? strdup(param)
		     : on ? strdup("the AMD IOMMU is on unless amd_iommu=off")
		     : c->iommu_on
			 ? fmtd("%s is not on the command line; this kernel "
				"enables the IOMMU by default",
				param)
			 : fmtd("%s is not on the command line", param),
		     fmtd("add %s to GRUB_CMDLINE_LINUX in /etc/default/grub, "
			  "run update-grub and reboot",
			  param));
		emit(
		    c, "cmdline-iommu-pt",
		    vh_has_word(cmd, "iommu=pt") ? VH_PASS : VH_WARN,
		    "Kernel parameter iommu=pt (the vendor pages recommend it)",
		    NULL,
		    strdup("add iommu=pt to GRUB_CMDLINE_LINUX in "
			   "/etc/default/grub, run update-grub and reboot"));
	}
	emit(c, "vfio-pci-loaded",
	     vh_sys_exists(c->sys, "/sys/bus/pci/drivers/vfio-pci") > 0
		 ? VH_PASS
		 : VH_WARN,
	     "vfio-pci driver loaded", NULL,
	     strdup("modprobe vfio-pci; echo vfio-pci > "
		    "/etc/modules-load.d/vfio-pci.conf to load it at boot"));
	emit(c, "dev-vfio",
	     vh_sys_exists(c->sys, "/dev/vfio/vfio") > 0 ? VH_PASS : VH_WARN,
	     "/dev/vfio/vfio exists", NULL, strdup("modprobe vfio"));
}

static void check_params(struct dctx *c, const struct vh_pci_dev *d,
			 const struct vh_profile *p, const char *cmd)
{
	struct vh_buf miss = {0};
	char id[64];

	if (!p || !p->n_kernel_params || !cmd)
		return;
	for (size_t i = 0; i < p->n_kernel_params; i++)
		if (!vh_has_word(cmd, p->kernel_params[i]))
			vh_buf_printf(&miss, "%s%s", miss.len ? " " : "",
				      p->kernel_params[i]);
	snprintf(id, sizeof(id), "device-kernel-params:%s", d->name);
	emit(c, id, miss.len ? VH_WARN : VH_PASS,
	     "Kernel parameters the device's profile recommends",
	     miss.len
		 ? fmtd("missing: %s (profile %s)", vh_buf_str(&miss), p->id)
		 : fmtd("all present (profile %s)", p->id),
	     miss.len
		 ? fmtd("add %s to GRUB_CMDLINE_LINUX in /etc/default/grub, "
			"run update-grub and reboot",
			vh_buf_str(&miss))
		 : NULL);
	vh_buf_done(&miss);
}

static void check_device(struct dctx *c, const struct vh_pci_addr *a,
			 const char *cmd)
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
		emit(c, id, VH_FAIL, "Device present",
		     fmtd("no %s on this host", name),
		     strdup("check the address with lspci -D"));
		return;
	}
	p = vh_profiles_match(c->ps, &d);
	snprintf(label, sizeof(label), "%s [%04x:%04x]%s%s", d.name, d.vendor,
		 d.device, p ? " " : "", p ? p->description : "");
	snprintf(id, sizeof(id), "device-iommu-group:%s", d.name);
	emit(c, id, d.iommu_group >= 0 ? VH_PASS : VH_FAIL,
	     "Device in an IOMMU group",
	     d.iommu_group >= 0 ? fmtd("%s: group %d", label, d.iommu_group)
				: fmtd("%s: no IOMMU group", label),
	     strdup("enable the IOMMU (see iommu-enabled)"));
	if (d.iommu_group >= 0) {
		n = vh_iommu_group_members(c->sys, d.iommu_group, &members);
		for (int i = 0; i < n; i++) {
			struct vh_pci_dev m;
			if (vh_pci_addr_eq(&members[i], a) ||
			    vh_pci_dev_read(c->sys, &members[i], &m) < 0 ||
			    vh_pci_dev_is_bridge(&m) || !m.driver[0] ||
			    strstr(m.driver, "vfio") ||
			    streq(m.driver, "pci-stub"))
				continue;
			vh_buf_printf(&block, "%s%s (%s%s)",
				      block.len ? ", " : "", m.name, m.driver,
				      m.addr.bus == a->bus &&
					      m.addr.slot == a->slot &&
					      m.addr.domain == a->domain
					  ? ", same card"
					  : "");
		}
		free(members);
		snprintf(id, sizeof(id), "device-group-viable:%s", d.name);
		emit(c, id, block.len ? VH_WARN : VH_PASS,
		     "Every other endpoint of its group free",
		     block.len ? fmtd("%s: group %d also holds %s", label,
				      d.iommu_group, vh_buf_str(&block))
			       : fmtd("%s: nothing else in the way", label),
		     strdup("pass the other endpoints to the same VM (the hook "
			    "binds functions of the same card itself), or move "
			    "the card to a slot with its own group"));
		vh_buf_done(&block);
	}
	if (p && p->set_reset_method && d.has_reset_method) {
		bool ok = streq(d.reset_method, p->reset_method);
		snprintf(id, sizeof(id), "device-reset-method:%s", d.name);
		emit(c, id, ok ? VH_PASS : VH_INFO_V,
		     "reset_method as its profile wants while assigned",
		     fmtd("%s: '%s' now, '%s' wanted", label, d.reset_method,
			  p->reset_method),
		     strdup(
			 "nothing to do: the hook sets it when a VM starts and "
			 "restores it after; or set it at boot with "
			 "'vfio-hooks bind --persist'"));
	}
	snprintf(id, sizeof(id), "device-driver:%s", d.name);
	emit(c, id,
	     !d.driver[0] || strstr(d.driver, "vfio") ? VH_PASS : VH_INFO_V,
	     "Driver at boot",
	     fmtd("%s: %s", label, d.driver[0] ? d.driver : "no driver"),
	     fmtd("nothing to do for libvirt (managed='yes', or the hook for "
		  "managed='no'); for QEMU run by hand: 'vfio-hooks bind %s'",
		  d.name));
	check_params(c, &d, p, cmd);
}

/* A process of that name running (from /proc/PID/comm). */
static bool process_running(const struct vh_sys *sys, const char *comm,
			    long *ret_pid)
{
	char **pids = NULL, v[64];
	bool found = false;
	int n = vh_sys_list(sys, &pids, "/proc");

	for (int i = 0; i < n && !found; i++) {
		if (pids[i][0] < '0' || pids[i][0] > '9')
			continue;
		if (vh_sys_read_str(sys, v, sizeof(v), "/proc/%s/comm",
				    pids[i]) == 0 &&
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
static bool holds_nvidia(const struct vh_sys *sys, const char *pid, char *node,
			 size_t n, unsigned *ret_count)
{
	char **fds = NULL, target[256];
	unsigned count = 0;
	int k = vh_sys_list(sys, &fds, "/proc/%s/fd", pid);

	for (int i = 0; i < k; i++)
		if (vh_sys_readlink(sys, target, sizeof(target),
				    "/proc/%s/fd/%s", pid, fds[i]) == 0 &&
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
		emit(c, "nvidia-persistenced", VH_WARN,
		     "No process holds an NVIDIA GPU on the host",
		     fmtd("nvidia-persistenced is running (pid %ld)",
			  persistenced),
		     strdup("systemctl stop nvidia-persistenced (and disable "
			    "it) before giving the GPU to a VM"));
	/* Anything else with a /dev/nvidia* node open keeps the GPU's
	 * driver busy: unbinding it for vfio-pci then hangs or fails. */
	n = vh_sys_list(c->sys, &pids, "/proc");
	for (int i = 0; i < n; i++) {
		unsigned count;
		char more[48] = "";
		if (pids[i][0] < '0' || pids[i][0] > '9' ||
		    !holds_nvidia(c->sys, pids[i], node, sizeof(node), &count))
			continue;
		if (vh_sys_read_str(c->sys, comm, sizeof(comm), "/proc/%s/comm",
				    pids[i]) < 0)
			vh_strlcpy(comm, "?", sizeof(comm));
		if (streq(comm, "nvidia-persistenced"))
			continue; /* reported above, with its fix */
		if (count > 1)
			snprintf(more, sizeof(more), " and %u more", count - 1);
		snprintf(id, sizeof(id), "nvidia-device-open:%s", pids[i]);
		emit(c, id, VH_WARN,
		     "No process has an NVIDIA device node open on the host",
		     fmtd("pid %s (%s) holds %s%s", pids[i], comm, node, more),
		     fmtd("stop it before giving the GPU to a VM: systemctl "
			  "stop the service that runs it, or kill %s",
			  pids[i]));
	}
	vh_strv_free(pids);
}

/* The daemon started before the hook was placed has not seen it: libvirt
 * looks for hooks at start-up and on reload only. */
static void check_hook(struct dctx *c)
{
	struct stat st;
	bool in_d = vh_sys_lstat(c->sys, &st,
				 "/etc/libvirt/hooks/qemu.d/vfio-hooks") == 0;
	bool legacy =
	    !in_d && vh_sys_lstat(c->sys, &st, "/etc/libvirt/hooks/qemu") == 0;
	const char *daemons[] = {"virtqemud", "libvirtd"};
	long pid = 0;
	size_t i;

	emit(c, "hook-installed", in_d || legacy ? VH_PASS : VH_WARN,
	     "The vfio-hooks libvirt hook is installed",
	     in_d     ? strdup("/etc/libvirt/hooks/qemu.d/vfio-hooks")
	     : legacy ? strdup("/etc/libvirt/hooks/qemu")
		      : strdup("not in /etc/libvirt/hooks/qemu.d"),
	     strdup("sudo ./install.sh"));
	if (!in_d && !legacy)
		return;
	for (i = 0; i < ELEMENTSOF(daemons); i++)
		if (process_running(c->sys, daemons[i], &pid))
			break;
	if (i == ELEMENTSOF(daemons)) {
		emit(c, "hook-picked-up", VH_INFO_V,
		     "The libvirt daemon has picked the hook up",
		     strdup("no libvirtd or virtqemud running: the next one to "
			    "start picks it up"),
		     strdup("nothing to do"));
		return;
	}
	{
		char stat_line[1024];
		_cleanup_free_ char *pstat =
		    vh_host_slurp(c->sys, "/proc/stat");
		unsigned long long start_ticks = 0, btime = 0;
		long hz = sysconf(_SC_CLK_TCK);
		char *p, *b;
		if (vh_sys_read_str(c->sys, stat_line, sizeof(stat_line),
				    "/proc/%ld/stat", pid) == 0 &&
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
			unsigned long long started =
			    btime + start_ticks / (unsigned long long)hz;
			bool later = (unsigned long long)st.st_mtime > started;
			emit(c, "hook-picked-up", later ? VH_WARN : VH_PASS,
			     "The libvirt daemon has picked the hook up",
			     later
				 ? fmtd("%s (pid %ld) started before the hook "
					"was placed",
					daemons[i], pid)
				 : fmtd("%s (pid %ld) started after the hook "
					"was placed",
					daemons[i], pid),
			     fmtd("systemctl reload %s (or kill -HUP %ld); "
				  "ignore this if it was reloaded since",
				  daemons[i], pid));
		}
	}
}

int vh_host_doctor(const struct vh_sys *sys, const struct vh_profiles *ps,
		   const struct vh_pci_addr *devices, size_t n_devices,
		   struct vh_hostreport *ret)
{
	struct vh_hostreport rep = {0};
	struct dctx c = {.sys = sys, .ps = ps, .rep = &rep};
	_cleanup_free_ char *cmd = NULL;
	struct vh_pci_addr *all = NULL;

	check_cpu(&c);
	check_iommu(&c);
	cmd = vh_host_slurp(sys, "/proc/cmdline");
	if (devices) {
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
	check_hook(&c);
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
		vh_buf_printf(out, "%-4s %s%s%s\n", vh_verdict_name(h->verdict),
			      h->what, h->detail ? ": " : "",
			      h->detail ? h->detail : "");
		if (h->fix && h->verdict >= VH_WARN)
			vh_buf_printf(out, "     fix: %s\n", h->fix);
	}
	vh_buf_printf(out, "%u failed, %u warning%s, %zu checks.\n", r->n_fail,
		      r->n_warn, r->n_warn == 1 ? "" : "s", r->n);
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
	vh_buf_printf(
	    o, "],\"summary\":{\"fail\":%u,\"warn\":%u,\"checks\":%zu}}\n",
	    r->n_fail, r->n_warn, r->n);
}
