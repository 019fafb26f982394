/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks attach-device / detach-device: hot-plug with what the hook
 * does at a start.  libvirt runs no hook for `virsh attach-device --live`:
 * here the new device is checked against the running domain (the same
 * rules, the host's protection included), prepared under the domain's
 * journal, then attached through libvirt; detach-device detaches it
 * through libvirt, waits for the guest to let it go, and gives it back. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../lib/engine.h"
#include "../lib/xml.h"
#include "cli.h"

struct hp {
	struct cli *cli;
	bool attach;
	const char *name, *arg, *uri;
	bool live, config;
	unsigned timeout_s;
	/* the device: its XML as given to libvirt, what it is */
	char *devxml;
	struct vh_domain *devs;
	struct vh_pci_addr addrs[32];
	size_t n;
	/* the domain, with the device for an attach, and as it was */
	struct virt_dom *vd;
	char uuid[37];
	struct vh_domain *dom, *before;
	struct vh_sys *sys;
	struct vh_profiles ps;
	bool ps_loaded;
	struct vh_logger lg;
};

/* The engine's log: to the system log, a warning to stderr too. */
static void say(void *ud, const struct vh_log_entry *e)
{
	struct hp *h = ud;

	vh_log_send(&h->lg, e);
	if (e->level <= LOG_WARNING)
		fprintf(stderr, "warning: %s\n", e->message);
}

static void note(struct hp *h, int level, const char *dev, const char *fmt, ...) _printf_(4, 5);
static void note(struct hp *h, int level, const char *dev, const char *fmt, ...)
{
	char m[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	vh_log_send(&h->lg,
		    &(struct vh_log_entry){
			.level = level, .message = m, .kind = VH_MSG_HOTPLUG, .device = dev});
	fprintf(level <= LOG_WARNING ? stderr : stdout, "%s\n", m);
}

/* --- the device --- */

/* The text of @xml after an XML declaration, if any. */
static const char *after_declaration(const char *xml)
{
	const char *p = xml + strspn(xml, " \t\r\n");

	if (strncmp(p, "<?xml", 5) == 0) {
		const char *end = strstr(p, "?>");
		return end ? end + 2 : p;
	}
	return p;
}

/* The device XML (a file, standard input, or an address, which becomes a
 * <hostdev>) into h->devxml, its PCI devices into h->addrs. */
static int read_device(struct hp *h)
{
	_cleanup_free_ char *buf = NULL, *wrapped = NULL;
	struct vh_pci_addr a;
	struct vh_err e = {0};
	const char *what = streq(h->arg, "-") ? "standard input" : h->arg;
	size_t len = 0;
	int r;

	if (!h->attach && access(h->arg, F_OK) < 0 && vh_pci_addr_parse(h->arg, &a) == 0) {
		r = asprintf(
		    &h->devxml,
		    "<hostdev mode='subsystem' type='pci'><source><address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/></source></hostdev>",
		    a.domain, a.bus, a.slot, a.function);
		if (r < 0)
			return -ENOMEM;
	} else {
		r = streq(h->arg, "-")
			? vh_read_fd_capped(STDIN_FILENO, what, VH_XML_MAX_BYTES, &buf, &len, &e)
			: vh_read_file_capped(h->arg, VH_XML_MAX_BYTES, &buf, &len, &e);
		if (r < 0) {
			fprintf(stderr, "vfio-hooks: %s\n", e.msg);
			return r;
		}
		if (strlen(buf) != len) {
			fprintf(stderr,
				"vfio-hooks: %s: malformed XML: a NUL byte at offset %zu.\n", what,
				strlen(buf));
			return -EINVAL;
		}
		h->devxml = strdup(after_declaration(buf));
		if (!h->devxml)
			return -ENOMEM;
	}
	/* Read as the devices of a domain: the parser the hook uses, with
	 * its limits (no entities, no network). */
	if (asprintf(&wrapped, "<domain><devices>%s</devices></domain>", h->devxml) < 0)
		return -ENOMEM;
	r = vh_domain_parse(wrapped, strlen(wrapped), what, &h->devs, &e);
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: %s: not one device element libvirt can take: %s\n",
			what, e.msg);
		return r;
	}
	for (size_t i = 0; i < h->devs->n_hostdevs; i++) {
		const struct vh_hostdev *hd = &h->devs->hostdevs[i];
		if (!hd->addr_ok) {
			fprintf(stderr, "vfio-hooks: %s: %s\n", what, hd->addr_error);
			return -EINVAL;
		}
		if (h->n < ELEMENTSOF(h->addrs))
			h->addrs[h->n++] = hd->addr;
	}
	if (!h->n) {
		fprintf(
		    stderr,
		    "vfio-hooks: %s: no PCI <hostdev> or <interface type='hostdev'>: nothing for vfio-hooks to check or prepare; use 'virsh %s-device'.\n",
		    what, h->attach ? "attach" : "detach");
		return -EINVAL;
	}
	return 0;
}

/* Whether the hostdev at @a is among h->addrs. */
static bool ours(const struct hp *h, const struct vh_pci_addr *a)
{
	for (size_t i = 0; i < h->n; i++)
		if (vh_pci_addr_eq(&h->addrs[i], a))
			return true;
	return false;
}

static int lines_before(const char *s, const char *end)
{
	int n = 1;

	for (; s < end; s++)
		n += *s == '\n';
	return n;
}

/* The domain's XML with the device added before its </devices>. */
static int domain_with_device(struct hp *h, const char *xml)
{
	_cleanup_free_ char *both = NULL;
	const char *end = NULL;
	struct vh_err e = {0};
	char what[300];
	int r;

	for (const char *p = strstr(xml, "</devices>"); p; p = strstr(p + 1, "</devices>"))
		end = p;
	if (!end) {
		fprintf(stderr, "vfio-hooks: the XML of domain '%s' has no </devices>.\n", h->name);
		return -EINVAL;
	}
	if (asprintf(&both, "%.*s%s\n%s", (int)(end - xml), xml, h->devxml, end) < 0)
		return -ENOMEM;
	snprintf(what, sizeof(what), "domain '%s' with %s", h->name, h->arg);
	r = vh_domain_parse(both, strlen(both), what, &h->dom, &e);
	if (r == 0)
		r = vh_domain_parse(xml, strlen(xml), h->name, &h->before, &e);
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		return r;
	}
	/* Findings about the new device name the file, not a line of a
	 * document nobody sees. */
	for (size_t i = 0; i < h->dom->n_hostdevs; i++)
		if (h->dom->hostdevs[i].line > 0 && ours(h, &h->dom->hostdevs[i].addr) &&
		    h->dom->hostdevs[i].line > lines_before(xml, end))
			snprintf(h->dom->hostdevs[i].origin, sizeof(h->dom->hostdevs[i].origin),
				 "the device in %.40s",
				 streq(h->arg, "-") ? "standard input" : h->arg);
	return 0;
}

/* --- the check --- */

/* What an attach is judged on: what the device brings, the findings of
 * the domain with it that the domain without it does not have (the same
 * rule and message), and any about the new device itself. */
struct judged {
	const struct hp *h;
	const struct vh_report *before;
};

static bool about_new(const struct hp *h, const struct vh_finding *f)
{
	struct vh_pci_addr a;

	if (f->has_addr && ours(h, &f->addr))
		return true;
	for (char **d = f->devices; d && *d; d++)
		if (vh_pci_addr_parse(*d, &a) == 0 && ours(h, &a))
			return true;
	return false;
}

static bool relevant(const struct vh_finding *f, void *ud)
{
	const struct judged *jd = ud;

	if (about_new(jd->h, f))
		return true;
	for (size_t i = 0; i < jd->before->n_findings; i++) {
		const struct vh_finding *o = &jd->before->findings[i];
		if (o->id == f->id && streq(o->message, f->message))
			return false;
	}
	return true;
}

static enum vh_mode mode(const struct hp *h)
{
	return h->dom->meta.mode != VH_MODE_UNSET ? h->dom->meta.mode : h->cli->cfg.mode;
}

static int load_profiles(void *ud, const struct vh_pci_id *ids, size_t n)
{
	struct hp *h = ud;

	if (h->ps_loaded)
		return 0;
	if (cli_profiles(h->cli, ids, n, &h->ps) < 0)
		return -EINVAL;
	h->ps_loaded = true;
	return 0;
}

/* Check the domain with the device; 1 when refused (said), 0 to go on,
 * -errno on failure.  The engine's recheck, under the state lock. */
static int judge(void *ud, struct vh_report *rep, struct vh_err *e)
{
	struct hp *h = ud;
	struct vh_check_opts o = h->cli->check;
	struct vh_buf b = {0};
	int r;

	o.load_profiles = load_profiles;
	o.load_ud = h;
	/* With the device first: its IDs load the profiles both need. */
	r = vh_check_domain(h->sys, &h->ps, h->dom, &o, rep);
	if (r == 0) {
		struct vh_report before = {0};
		r = vh_check_domain(h->sys, &h->ps, h->before, &o, &before);
		if (r == 0)
			vh_report_keep(rep, relevant, &(struct judged){.h = h, .before = &before});
		vh_report_done(&before);
	}
	if (r < 0)
		return vh_err_set(e, r, "Cannot check domain '%s': %s.", h->name, strerror(-r));
	if (!rep->n_findings)
		return 0;
	vh_report_text(rep, &b);
	fputs(vh_buf_str(&b), stderr);
	vh_buf_done(&b);
	if (!rep->n_error)
		return 0;
	if (mode(h) == VH_MODE_WARN && !vh_report_n_refusing_in_warn(rep)) {
		fprintf(stderr, "vfio-hooks: %u error finding%s, attaching anyway (mode warn)\n",
			rep->n_error, rep->n_error > 1 ? "s" : "");
		return 0;
	}
	note(
	    h, LOG_ERR, NULL,
	    "vfio-hooks refuses to attach %s to domain '%s': %u problem%s (mode %s); nothing was changed",
	    h->arg, h->name, rep->n_error, rep->n_error > 1 ? "s" : "", vh_mode_name(mode(h)));
	return 1;
}

/* --- attach --- */

static struct vh_engine engine(struct hp *h)
{
	return (struct vh_engine){.sys = h->sys, .cfg = &h->cli->cfg, .log = say, .log_ud = h};
}

static void report_devices(struct hp *h, const char *verb)
{
	for (size_t i = 0; i < h->n; i++) {
		char a[VH_PCI_ADDR_LEN];
		struct vh_pci_dev d;
		vh_pci_addr_format(&h->addrs[i], a);
		vh_pci_dev_read(h->sys, &h->addrs[i], &d);
		note(h, LOG_INFO, a, "%s: %s domain '%s': on %s, reset_method '%s'", a, verb,
		     h->name, d.driver[0] ? d.driver : "no driver",
		     d.has_reset_method ? d.reset_method : "(none)");
	}
}

/* Whether the command is for the running domain (--live, or by default
 * when it runs, as virsh does) into *@live: EXIT_OK, or the exit status
 * when it cannot be (said). */
static int choose_live(struct hp *h, bool *live)
{
	int active = virt_dom_active(h->vd);

	if (active < 0) {
		fprintf(stderr, "vfio-hooks: cannot tell whether domain '%s' runs: %s\n", h->name,
			virt_error());
		return EXIT_FINDINGS;
	}
	*live = h->live || (!h->config && active == 1);
	if (*live && active != 1) {
		fprintf(stderr, "vfio-hooks: domain '%s' is not running: use --config.\n", h->name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int do_attach(struct hp *h)
{
	struct vh_engine en = engine(h);
	struct vh_err e = {0};
	_cleanup_free_ char *xml = NULL;
	bool live;
	size_t prepared = 0;
	int r;

	r = choose_live(h, &live);
	if (r != EXIT_OK)
		return r;
	xml = virt_dom_xml(h->vd, !live);
	if (!xml) {
		fprintf(stderr, "vfio-hooks: cannot get the XML of domain '%s': %s\n", h->name,
			virt_error());
		return EXIT_USAGE;
	}
	r = domain_with_device(h, xml);
	if (r < 0)
		return EXIT_USAGE;
	if (mode(h) == VH_MODE_OFF) {
		note(h, LOG_INFO, NULL, "%s: mode off: attached without a check", h->name);
	} else if (!live) {
		/* The next start runs the hook; what it would say now. */
		struct vh_report rep = {0};
		r = judge(h, &rep, &e);
		vh_report_done(&rep);
		if (r != 0) {
			if (r < 0)
				fprintf(stderr, "vfio-hooks: %s\n", e.msg);
			return EXIT_FINDINGS;
		}
	} else {
		en.recheck = judge;
		en.recheck_ud = h;
		r = vh_engine_attach(&en, h->dom, NULL, h->addrs, h->n, &prepared, &e);
		if (r > 0)
			return EXIT_FINDINGS;
		if (r < 0) {
			fprintf(stderr, "vfio-hooks: cannot prepare %s for domain '%s': %s\n",
				h->arg, h->name, e.msg);
			return EXIT_FINDINGS;
		}
	}
	if (virt_dom_attach(h->vd, h->devxml, live, h->config || !live) < 0) {
		const char *why = virt_error();
		fprintf(stderr, "vfio-hooks: libvirt could not attach %s to domain '%s': %s\n",
			h->arg, h->name, why);
		/* Only what this run prepared: a device the domain had, or
		 * one an earlier run prepared, is not this run's to give. */
		if (prepared) {
			e = (struct vh_err){0};
			r = vh_engine_detach(&en, h->uuid, h->addrs, h->n, &e);
			if (r != 0 && r != -ENOENT)
				fprintf(
				    stderr,
				    "vfio-hooks: and could not give it back: %s; 'vfio-hooks detach-device %s %s' tries again.\n",
				    e.msg, h->name, h->arg);
		}
		return EXIT_FINDINGS;
	}
	if (live)
		report_devices(h, "attached to");
	else
		note(h, LOG_INFO, NULL, "%s: added to the persistent definition of domain '%s'",
		     h->arg, h->name);
	return EXIT_OK;
}

/* --- detach --- */

/* 1 when the running domain has a hostdev at @a (its managed= in
 * *@managed), 0 when not, -1 when its XML cannot be read (said). */
static int in_live_xml(struct hp *h, const struct vh_pci_addr *a, bool *managed)
{
	_cleanup_free_ char *xml = virt_dom_xml(h->vd, false);
	_cleanup_domain_ struct vh_domain *d = NULL;
	struct vh_err e = {0};

	if (!xml || vh_domain_parse(xml, strlen(xml), h->name, &d, &e) < 0) {
		fprintf(stderr, "vfio-hooks: cannot read the live XML of domain '%s': %s\n",
			h->name, xml ? e.msg : virt_error());
		return -1;
	}
	for (size_t i = 0; i < d->n_hostdevs; i++)
		if (d->hostdevs[i].addr_ok && vh_pci_addr_eq(&d->hostdevs[i].addr, a)) {
			if (managed)
				*managed = d->hostdevs[i].managed;
			return 1;
		}
	return 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Wait, until @deadline, for every device to be gone from the live XML
 * and, when libvirt manages it, off the vfio driver (libvirt gives it to
 * its host driver, with a reset: its reset_method must stay ours till
 * then).  Returns the first device still attached, -1 when none is, -2
 * when the live XML cannot be read. */
static int wait_released(struct hp *h, const bool *managed, double deadline)
{
	for (;;) {
		int left = -1;
		for (size_t i = 0; i < h->n && left < 0; i++) {
			struct vh_pci_dev d;
			int in = in_live_xml(h, &h->addrs[i], NULL);
			if (in < 0)
				return -2;
			if (in)
				left = (int)i;
			else if (managed[i] && vh_pci_dev_read(h->sys, &h->addrs[i], &d) == 0 &&
				 strncmp(d.driver, "vfio", 4) == 0 && now_s() < deadline - 0.1)
				left = (int)i;
		}
		if (left < 0 || now_s() >= deadline)
			return left;
		usleep(200 * 1000);
	}
}

static int do_detach(struct hp *h)
{
	struct vh_engine en = engine(h);
	struct vh_err e = {0};
	bool managed[ELEMENTSOF(h->addrs)] = {0}, attached = false;
	bool live;
	int r, left;
	double deadline = now_s() + h->timeout_s;
	char a[VH_PCI_ADDR_LEN];

	r = choose_live(h, &live);
	if (r != EXIT_OK)
		return r;
	for (size_t i = 0; live && i < h->n; i++) {
		int in = in_live_xml(h, &h->addrs[i], &managed[i]);
		if (in < 0)
			return EXIT_FINDINGS;
		attached |= in > 0;
	}
	/* Not attached any more (an earlier detach timed out): only the
	 * giving back is left. */
	if ((attached || !live) &&
	    virt_dom_detach(h->vd, h->devxml, live, h->config || !live) < 0) {
		fprintf(stderr, "vfio-hooks: libvirt could not detach %s from domain '%s': %s\n",
			h->arg, h->name, virt_error());
		return EXIT_FINDINGS;
	}
	if (!live) {
		note(h, LOG_INFO, NULL, "%s: removed from the persistent definition of domain '%s'",
		     h->arg, h->name);
		return EXIT_OK;
	}
	left = wait_released(h, managed, deadline);
	if (left == -2)
		return EXIT_FINDINGS;
	if (left >= 0 && in_live_xml(h, &h->addrs[left], NULL) != 0) {
		vh_pci_addr_format(&h->addrs[left], a);
		note(
		    h, LOG_WARNING, a,
		    "%s: domain '%s' still has it after %u s: the guest has not released it (does its OS handle PCI hot-unplug?). libvirt's request stands; vfio-hooks gives the device back when the domain stops, or run this command again.",
		    a, h->name, h->timeout_s);
		return EXIT_FINDINGS;
	}
	/* QEMU closes the device's VFIO node as it goes: a moment more. */
	do {
		e = (struct vh_err){0};
		r = vh_engine_detach(&en, h->uuid, h->addrs, h->n, &e);
		if (r != -EBUSY || now_s() >= deadline)
			break;
		usleep(200 * 1000);
	} while (true);
	if (r == -ENOENT && !attached) {
		fprintf(
		    stderr,
		    "vfio-hooks: %s is not attached to domain '%s', and vfio-hooks holds nothing of it for that domain.\n",
		    h->arg, h->name);
		return EXIT_FINDINGS;
	}
	if (r == -ENOENT) {
		note(
		    h, LOG_INFO, NULL,
		    "%s: detached from domain '%s'; vfio-hooks had not prepared it (attached with plain virsh, or before vfio-hooks was installed): nothing to give back",
		    h->arg, h->name);
		return EXIT_OK;
	}
	if (r != 0) {
		fprintf(stderr,
			"vfio-hooks: %s detached from domain '%s', but not all given back: %s\n",
			h->arg, h->name, e.msg);
		return EXIT_FINDINGS;
	}
	report_devices(h, "detached from");
	return EXIT_OK;
}

/* --- the command --- */

static void usage(FILE *f, bool attach)
{
	fprintf(
	    f,
	    "Usage: vfio-hooks %s-device [--live] [--config] [--connect URI]%s DOMAIN %s\n\n"
	    "%s\n\n"
	    "  --live         the running domain (default when it runs)\n"
	    "  --config       its persistent definition (both: --live --config)\n"
	    "  --connect URI  libvirt connection (default qemu:///system)\n"
	    "%s",
	    attach ? "attach" : "detach", attach ? "" : " [--timeout SECS]",
	    attach ? "FILE" : "FILE|ADDRESS",
	    attach ? "Check the PCI device in FILE (a <hostdev> as for virsh attach-device; '-'\n"
		     "standard input) against the domain and the host, prepare it as the hook\n"
		     "does at a start, then attach it through libvirt."
		   : "Detach the PCI device (FILE as for virsh detach-device, or its address)\n"
		     "through libvirt, wait for the guest to release it, and give it back as\n"
		     "the hook does when the domain stops.",
	    attach ? "" : "  --timeout SECS how long the guest has to release it (default 30)\n");
}

static int run(struct cli *cli, int argc, char **argv, bool attach)
{
	enum { OPT_LIVE = 256, OPT_CONFIG, OPT_CONNECT, OPT_TIMEOUT };
	static const struct option opts[] = {
	    {"live", no_argument, NULL, OPT_LIVE},
	    {"config", no_argument, NULL, OPT_CONFIG},
	    {"connect", required_argument, NULL, OPT_CONNECT},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct hp h = {.cli = cli, .attach = attach, .timeout_s = 30};
	char *end;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LIVE:
			h.live = true;
			break;
		case OPT_CONFIG:
			h.config = true;
			break;
		case OPT_CONNECT:
			h.uri = optarg;
			break;
		case OPT_TIMEOUT:
			errno = 0;
			h.timeout_s = (unsigned)strtoul(optarg, &end, 10);
			if (attach || errno || *end || !optarg[0] || h.timeout_s > 3600) {
				usage(stderr, attach);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout, attach);
			return EXIT_OK;
		default:
			usage(stderr, attach);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr, attach);
		return EXIT_USAGE;
	}
	h.name = argv[optind];
	h.arg = argv[optind + 1];
	h.lg = (struct vh_logger){.domain = h.name,
				  .uuid = h.uuid,
				  .operation = attach ? "attach-device" : "detach-device"};
	r = read_device(&h) < 0 ? EXIT_USAGE : virt_dom_open(h.uri, h.name, &h.vd);
	if (r == 0 && virt_dom_uuid(h.vd, h.uuid) < 0) {
		fprintf(stderr, "vfio-hooks: cannot get the UUID of domain '%s': %s\n", h.name,
			virt_error());
		r = EXIT_USAGE;
	}
	if (r == 0 && cli_sys(cli, &h.sys) < 0)
		r = EXIT_USAGE;
	if (r == 0)
		r = attach ? do_attach(&h) : do_detach(&h);
	virt_dom_close(h.vd);
	vh_domain_free(h.devs);
	vh_domain_free(h.dom);
	vh_domain_free(h.before);
	vh_profiles_done(&h.ps);
	vh_sys_free(h.sys);
	free(h.devxml);
	return r;
}

int cmd_attach(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, true);
}

int cmd_detach(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, false);
}
