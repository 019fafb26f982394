/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks bind / unbind: put devices on their vfio driver now, through
 * the hook's engine (journal, IOMMU group companions, timeouts), and with
 * --persist at every boot through a udev rule (lib/persist.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "../lib/engine.h"
#include "../lib/persist.h"
#include "cli.h"

/* The fix to show when @f stops a bind (vh_rule_info.blocks_bind); NULL
 * when it does not. */
static const char *blocking(const struct vh_finding *f)
{
	const struct vh_rule_info *ri = &vh_rules[f->id];

	if (f->severity != VH_ERROR || !ri->blocks_bind)
		return NULL;
	return ri->bind_fix ? ri->bind_fix : f->fix ? f->fix : "";
}

/* The engine's log: to the system log (@ud, a struct vh_logger), a
 * warning to stderr too. */
static void say(void *ud, const struct vh_log_entry *e)
{
	vh_log_send(ud, e);
	if (e->level <= LOG_WARNING)
		fprintf(stderr, "warning: %s\n", e->message);
}

struct result {
	char dev[VH_PCI_ADDR_LEN];
	char before[64], after[64], reset_method[128];
	bool has_reset_method;
	char rule[4200];
	const char *persist; /* "written", "removed", "kept", NULL */
	char error[1024];
};

static void result_json(struct vh_buf *b, const struct result *r, bool comma)
{
	vh_buf_puts(b, comma ? ",{" : "{");
	vh_buf_json_kv(b, "device", r->dev, true);
	vh_buf_json_kv(b, "driver_before", r->before[0] ? r->before : NULL, true);
	vh_buf_json_kv(b, "driver", r->after[0] ? r->after : NULL, true);
	vh_buf_json_kv(b, "reset_method", r->has_reset_method ? r->reset_method : NULL, true);
	vh_buf_json_kv(b, "persistent", r->persist, true);
	vh_buf_json_kv(b, "rule", r->rule[0] ? r->rule : NULL, true);
	vh_buf_json_kv(b, "error", r->error[0] ? r->error : NULL, false);
	vh_buf_puts(b, "}");
}

/* "0000:01:00.0", or "01:00.0" in PCI domain 0 as lspci prints it. */
static int parse_device(const char *s, struct vh_pci_addr *a)
{
	char full[32];

	if (vh_pci_addr_parse(s, a) == 0)
		return 0;
	if (strlen(s) == 7 && s[2] == ':' && s[5] == '.') {
		snprintf(full, sizeof(full), "0000:%s", s);
		return vh_pci_addr_parse(full, a);
	}
	return -EINVAL;
}

static void read_after(const struct vh_sys *sys, const struct vh_pci_addr *a, struct result *res)
{
	struct vh_pci_dev d;

	vh_pci_dev_read(sys, a, &d);
	snprintf(res->after, sizeof(res->after), "%s", d.driver);
	res->has_reset_method = d.has_reset_method;
	snprintf(res->reset_method, sizeof(res->reset_method), "%s", d.reset_method);
}

/* The persistent form of what the bind did: the device with its
 * profile's driver and reset_method, and each companion bound with it. */
static int persist_devs(const struct vh_sys *sys, const struct vh_report *rep,
			struct vh_persist_dev **ret, size_t *n)
{
	const struct vh_resolved *rd = &rep->devs[0];
	const struct vh_profile *pr = rd->profile;
	struct vh_persist_dev *v;
	size_t k = 0;
	int nc = rd->companions_ok ? rd->n_companions : 0;

	v = calloc((size_t)nc + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[k].addr = rd->dev.addr;
	v[k].vendor = rd->dev.vendor;
	v[k].device = rd->dev.device;
	snprintf(v[k].driver, sizeof(v[k].driver), "%s",
		 pr && pr->vfio_driver ? pr->vfio_driver : "vfio-pci");
	if (pr && pr->set_reset_method && rd->dev.has_reset_method) {
		v[k].set_reset = true;
		snprintf(v[k].reset_method, sizeof(v[k].reset_method), "%s", pr->reset_method);
	}
	k++;
	for (int i = 0; i < nc; i++) {
		struct vh_pci_dev d;
		if (vh_pci_dev_read(sys, &rd->companions[i], &d) < 0)
			continue;
		v[k].addr = d.addr;
		v[k].vendor = d.vendor;
		v[k].device = d.device;
		snprintf(v[k].driver, sizeof(v[k].driver), "vfio-pci");
		k++;
	}
	*ret = v;
	*n = k;
	return 0;
}

/* @arg as an address into @a, and the device's name and driver before
 * into @res; -EINVAL (with @res->error) when @arg is no address. */
static int begin_result(const struct vh_sys *sys, const char *arg, struct vh_pci_addr *a,
			struct result *res)
{
	struct vh_pci_dev before;

	if (parse_device(arg, a) < 0) {
		snprintf(res->dev, sizeof(res->dev), "%.12s", arg);
		snprintf(
		    res->error, sizeof(res->error),
		    "'%s' is not a PCI address (DDDD:BB:SS.F, or BB:SS.F; see 'vfio-hooks list').",
		    arg);
		return -EINVAL;
	}
	vh_pci_addr_format(a, res->dev);
	vh_pci_dev_read(sys, a, &before);
	snprintf(res->before, sizeof(res->before), "%s", before.driver);
	return 0;
}

/* The program the udev rule runs: this one. */
static int self_path(char *buf, size_t n)
{
	ssize_t l = readlink("/proc/self/exe", buf, n - 1);

	if (l <= 0)
		return -errno;
	buf[l] = '\0';
	return 0;
}

static int bind_one(struct cli *cli, struct vh_sys *sys, const struct vh_profiles *ps,
		    const char *arg, bool persist, struct result *res)
{
	struct vh_config cfg = cli->cfg;
	struct vh_logger lg = {.operation = "bind"};
	struct vh_engine en = {.sys = sys, .cfg = &cfg, .log = say, .log_ud = &lg, .manual = true};
	struct vh_hostdev hd = {.managed = false};
	struct vh_domain dom = {0};
	struct vh_report rep = {0};
	struct vh_err e = {0};
	char uuid[37], name[] = VH_MANUAL_DOMAIN, kvm[] = "kvm";
	struct vh_pci_addr a;
	int r, rc = EXIT_OK;

	if (begin_result(sys, arg, &a, res) < 0)
		return EXIT_USAGE;
	hd.addr = a;
	hd.addr_ok = true;
	snprintf(hd.addr_text, sizeof(hd.addr_text), "%s", res->dev);
	snprintf(hd.origin, sizeof(hd.origin), "the command line");
	vh_manual_uuid(&a, uuid);
	dom.name = name;
	dom.uuid = uuid;
	dom.virt_type = kvm;
	dom.hostdevs = &hd;
	dom.n_hostdevs = 1;
	r = vh_check_domain(sys, ps, &dom, &cli->check, &rep);
	if (r < 0) {
		snprintf(res->error, sizeof(res->error), "%s: %s.", res->dev, strerror(-r));
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < rep.n_findings; i++) {
		const struct vh_finding *f = &rep.findings[i];
		const char *fix = blocking(f);
		if (!fix)
			continue;
		snprintf(res->error, sizeof(res->error), "[%s] %s%s%s", f->rule, f->message,
			 fix[0] ? " Fix: " : "", fix);
		rc = EXIT_FINDINGS;
		goto out;
	}
	if (vh_engine_manual_bound(&en, &a) <= 0) {
		cfg.bind_unmanaged = true;
		r = vh_engine_prepare(&en, &dom, &rep, &e);
		if (r < 0) {
			snprintf(res->error, sizeof(res->error), "%s", e.msg);
			rc = EXIT_FINDINGS;
			goto out;
		}
	}
	if (persist) {
		_cleanup_free_ struct vh_persist_dev *pd = NULL;
		char prog[4096];
		size_t n = 0;
		if (persist_devs(sys, &rep, &pd, &n) < 0 || self_path(prog, sizeof(prog)) < 0) {
			snprintf(res->error, sizeof(res->error),
				 "%s: cannot work out the udev rule: %s.", res->dev,
				 strerror(errno));
			rc = EXIT_FINDINGS;
			goto out;
		}
		r = vh_persist_write(sys, pd, n, prog, &e);
		if (r < 0) {
			snprintf(res->error, sizeof(res->error), "%s: %s", res->dev, e.msg);
			rc = EXIT_FINDINGS;
			goto out;
		}
		vh_persist_path(sys, &a, res->rule, sizeof(res->rule));
		res->persist = "written";
	}
out:
	read_after(sys, &a, res);
	vh_report_done(&rep);
	return rc;
}

static int unbind_one(struct cli *cli, struct vh_sys *sys, const char *arg, bool persist,
		      struct result *res)
{
	struct vh_logger lg = {.operation = "unbind"};
	struct vh_engine en = {.sys = sys, .cfg = &cli->cfg, .log = say, .log_ud = &lg};
	_cleanup_free_ struct vh_persist_dev *pd = NULL;
	struct vh_err e = {0}, pe = {0};
	struct vh_pci_addr a;
	size_t n = 0;
	int r, pr;

	if (begin_result(sys, arg, &a, res) < 0)
		return EXIT_USAGE;
	/* The rule, when there is one, says what the boot did. */
	pr = vh_persist_read(sys, &a, &pd, &n, &pe);
	if (pr < 0 && pr != -ENOENT) {
		snprintf(res->error, sizeof(res->error), "%s", pe.msg);
		return EXIT_FINDINGS;
	}
	r = vh_engine_unbind(&en, &a, pr == 0 && pd[0].set_reset, &e);
	/* Companions the boot bound (with no journal to say so). */
	for (size_t i = 1; r == 0 && pr == 0 && i < n; i++)
		r = vh_engine_unbind(&en, &pd[i].addr, false, &e);
	if (r != 0) {
		snprintf(res->error, sizeof(res->error), "%s", e.msg);
		read_after(sys, &a, res);
		return EXIT_FINDINGS;
	}
	if (persist) {
		res->persist = pr == 0 ? "removed" : "none";
		vh_persist_path(sys, &a, res->rule, sizeof(res->rule));
		if (pr == 0 && vh_persist_remove(sys, &a, &e) < 0) {
			snprintf(res->error, sizeof(res->error), "%s", e.msg);
			read_after(sys, &a, res);
			return EXIT_FINDINGS;
		}
	} else if (pr == 0) {
		res->persist = "kept";
		vh_persist_path(sys, &a, res->rule, sizeof(res->rule));
	}
	read_after(sys, &a, res);
	return EXIT_OK;
}

/* An entry of `bind --boot`'s own about @dev (the engine's come through
 * say()). */
static void boot_say(const struct vh_logger *lg, int level, enum vh_msg kind, const char *dev,
		     const char *fmt, ...) _printf_(5, 6);
static void boot_say(const struct vh_logger *lg, int level, enum vh_msg kind, const char *dev,
		     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vh_log_send(lg, &(struct vh_log_entry){
			    .level = level, .message = msg, .kind = kind, .device = dev});
}

/* From the udev rule: no profile, no journal, no checks (the rule matched
 * the IDs); as fast and as quiet as possible. */
static int boot_bind(struct cli *cli, struct vh_sys *sys, const char *arg, const char *driver,
		     const char *reset)
{
	struct vh_logger lg = {.operation = "boot"};
	struct vh_engine en = {.sys = sys, .cfg = &cli->cfg, .log = say, .log_ud = &lg};
	struct vh_err e = {0};
	struct vh_pci_addr a;
	char rm[128];

	if (parse_device(arg, &a) < 0 || !driver) {
		fprintf(
		    stderr,
		    "vfio-hooks: bind --boot: bad arguments (this is for the udev rule 'bind --persist' writes).\n");
		return EXIT_USAGE;
	}
	if (reset) {
		snprintf(rm, sizeof(rm), "%s", streq(reset, "none") ? "" : reset);
		for (char *c = rm; *c; c++)
			if (*c == ',')
				*c = ' ';
	}
	if (vh_engine_boot_bind(&en, &a, driver, reset ? rm : NULL, &e) < 0) {
		char dev[VH_PCI_ADDR_LEN];
		vh_pci_addr_format(&a, dev);
		boot_say(&lg, LOG_ERR, VH_MSG_FAILED, dev, "%s", e.msg);
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		return EXIT_FINDINGS;
	}
	return EXIT_OK;
}

/* At boot, before the libvirt daemon starts (vfio-hooks-bind.service):
 * every device with a rule of 'bind --persist', as its rule would (the
 * same IDs in the slot, else left alone), so that a domain marked
 * autostart finds it on its vfio driver whether or not udev has run the
 * rule yet.  A device whose driver is not loaded yet is left to its rule,
 * which loads it. */
static int boot_all(struct cli *cli, struct vh_sys *sys)
{
	struct vh_logger lg = {.operation = "boot-unit"};
	struct vh_engine en = {.sys = sys, .cfg = &cli->cfg, .log = say, .log_ud = &lg};
	_cleanup_free_ struct vh_pci_addr *addrs = NULL;
	int n = vh_persist_list(sys, &addrs), worst = EXIT_OK;

	if (n < 0) {
		fprintf(stderr, "vfio-hooks: bind --boot: cannot list %s%s: %s.\n",
			vh_sys_root(sys), VH_PERSIST_DIR, strerror(-n));
		return EXIT_FINDINGS;
	}
	for (int i = 0; i < n; i++) {
		_cleanup_free_ struct vh_persist_dev *devs = NULL;
		struct vh_err e = {0};
		size_t nd = 0;

		if (vh_persist_read(sys, &addrs[i], &devs, &nd, &e) < 0) {
			char name[VH_PCI_ADDR_LEN];
			vh_pci_addr_format(&addrs[i], name);
			boot_say(&lg, LOG_ERR, VH_MSG_FAILED, name, "%s", e.msg);
			fprintf(stderr, "vfio-hooks: %s\n", e.msg);
			worst = EXIT_FINDINGS;
			continue;
		}
		for (size_t k = 0; k < nd; k++) {
			const struct vh_persist_dev *d = &devs[k];
			char name[VH_PCI_ADDR_LEN];
			unsigned long long ven = 0, dev = 0;

			vh_pci_addr_format(&d->addr, name);
			e = (struct vh_err){0};
			if (vh_sys_read_uint(sys, &ven, "/sys/bus/pci/devices/%s/vendor", name) <
				0 ||
			    vh_sys_read_uint(sys, &dev, "/sys/bus/pci/devices/%s/device", name) < 0)
				continue; /* not in this boot: the rule runs if it comes */
			if (ven != d->vendor || dev != d->device) {
				boot_say(
				    &lg, LOG_NOTICE, VH_MSG_NOTE, name,
				    "%s: left alone at boot: its rule is for %04x:%04x, the slot has %04llx:%04llx.",
				    name, d->vendor, d->device, ven, dev);
				continue;
			}
			if (vh_sys_exists(sys, "/sys/bus/pci/drivers/%s", d->driver) <= 0) {
				boot_say(
				    &lg, LOG_NOTICE, VH_MSG_NOTE, name,
				    "%s: left to its udev rule at boot: driver %s is not loaded yet (the rule loads it).",
				    name, d->driver);
				continue;
			}
			if (vh_engine_boot_bind(&en, &d->addr, d->driver,
						d->set_reset ? d->reset_method : NULL, &e) < 0) {
				boot_say(&lg, LOG_ERR, VH_MSG_FAILED, name, "%s", e.msg);
				fprintf(stderr, "vfio-hooks: %s\n", e.msg);
				worst = EXIT_FINDINGS;
			}
		}
	}
	return worst;
}

/* The usage on @f: stdout for --help (exit 0), stderr for a mistake. */
static int usage(bool bind, FILE *f)
{
	fprintf(
	    f,
	    "Usage: vfio-hooks %s [--persist] DEVICE...\n"
	    "%s\n"
	    "  --persist   %s\n"
	    "DEVICE is a PCI address: 0000:01:00.0, or 01:00.0.\n",
	    bind ? "bind" : "unbind",
	    bind
		? "Bind each device (and the IOMMU group companions the policy allows)\nto its vfio driver now, recorded in /run/vfio-hooks, with its profile's reset_method."
		: "Give each device back exactly as 'vfio-hooks bind' found it (or, bound at\nboot, to the host driver that probes it).",
	    bind ? "also at every boot, before a host driver can claim it (a udev rule)"
		 : "also remove the udev rule 'bind --persist' wrote");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

static int run(struct cli *cli, int argc, char **argv, bool bind)
{
	static const struct option opts[] = {
	    {"persist", no_argument, NULL, 'p'},
	    {"boot", no_argument, NULL, 'b'},
	    {"driver", required_argument, NULL, 'd'},
	    {"reset-method", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	_cleanup_sys_ struct vh_sys *sys = NULL;
	struct vh_profiles ps = {0};
	const char *driver = NULL, *reset = NULL;
	bool persist = false, boot = false;
	struct vh_buf out = {0};
	int c, worst = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			persist = true;
			break;
		case 'b':
			boot = bind;
			break;
		case 'd':
			driver = optarg;
			break;
		case 'r':
			reset = optarg;
			break;
		case 'h':
			return usage(bind, stdout);
		default:
			return usage(bind, stderr);
		}
	}
	/* --boot: one device from its udev rule (with --driver), or, with no
	 * device, every device that has a rule (vfio-hooks-bind.service). */
	if ((!boot && optind >= argc) || (!boot && (driver || reset)) ||
	    (boot && (persist || argc - optind > 1 || (optind == argc && (driver || reset)))))
		return usage(bind, stderr);
	if (cli_sys(cli, &sys) < 0)
		return EXIT_USAGE;
	if (boot)
		return optind == argc ? boot_all(cli, sys)
				      : boot_bind(cli, sys, argv[optind], driver, reset);
	if (bind && cli_profiles(cli, NULL, 0, &ps) < 0)
		return EXIT_USAGE;
	vh_buf_puts(&out, "[");
	for (int i = optind; i < argc; i++) {
		struct result res = {0};
		int r = bind ? bind_one(cli, sys, &ps, argv[i], persist, &res)
			     : unbind_one(cli, sys, argv[i], persist, &res);
		if (r > worst)
			worst = r;
		if (cli->json) {
			result_json(&out, &res, i > optind);
			continue;
		}
		if (res.error[0]) {
			fprintf(stderr, "vfio-hooks: %s\n", res.error);
			continue;
		}
		printf("%s: %s -> %s", res.dev, res.before[0] ? res.before : "(none)",
		       res.after[0] ? res.after : "(none)");
		if (res.has_reset_method)
			printf(", reset_method '%s'", res.reset_method);
		printf("\n");
		if (res.persist && streq(res.persist, "written"))
			printf("  at every boot too: %s\n", res.rule);
		else if (res.persist && streq(res.persist, "removed"))
			printf("  persistent binding removed: %s\n", res.rule);
		else if (res.persist && streq(res.persist, "kept"))
			printf(
			    "  still bound at the next boot by %s ('unbind --persist' removes it)\n",
			    res.rule);
	}
	vh_buf_puts(&out, "]\n");
	if (cli->json)
		fputs(vh_buf_str(&out), stdout);
	vh_buf_done(&out);
	if (bind)
		vh_profiles_done(&ps);
	return worst;
}

int cmd_bind(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, true);
}

int cmd_unbind(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, false);
}
