/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libvirt QEMU hook, and the libxl (Xen) hook when run from libxl.d
 * (see vh_hook_kind): libvirt runs it as
 *     HOOK DOMAIN OPERATION SUB-OPERATION EXTRA
 * with the domain XML on standard input, on every VM start and stop.
 *
 * It never prints to standard output (libvirt takes a hook's stdout as
 * replacement XML for some operations), never calls back into libvirt,
 * never runs another program, and bounds every kernel write that can block.
 *
 * One program linking the C library alone: a VM without a PCI hostdev, or a
 * release without a journal, is answered by fast.c before anything is
 * read; libxml2 is loaded from the system only when the domain is parsed
 * (lib/xmlapi.c).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/config.h"
#include "../lib/engine.h"
#include "../lib/journal.h"
#include "../lib/paths.h"
#include "../lib/xml.h"
#include "fast.h"

struct hook {
	const struct vh_hook_kind *kind;
	const char *domain_arg;
	const char *op, *subop;
	char *xml;
	size_t len;
	struct vh_config cfg;
	struct vh_sys *sys;
	struct vh_domain *dom;
	struct vh_profiles profiles;
	bool profiles_loaded, profiles_failed;
	bool log_stderr;
	struct vh_logger lg; /* the domain, its UUID, the operation */
	char uuid[64];	     /* at least 37 */
	enum vh_hook_need need;
	int (*fn)(struct hook *); /* the operation's, from ops[] */
};

static void hook_log(void *ud, const struct vh_log_entry *en)
{
	struct hook *h = ud;

	h->lg.uuid = h->uuid;
	vh_log_send(&h->lg, en);
	if (h->log_stderr)
		fprintf(stderr, "vfio-hooks[%s]: %s\n", h->op ? h->op : "", en->message);
}

/* One entry of @kind (no device) at syslog @level. */
static void logmsg(struct hook *h, enum vh_msg kind, int level, const char *fmt, ...)
    _printf_(4, 5);
static void logmsg(struct hook *h, enum vh_msg kind, int level, const char *fmt, ...)
{
	char m[2048];
	va_list ap;

	if (level > (int)h->cfg.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	hook_log(h, &(struct vh_log_entry){.level = level, .message = m, .kind = kind});
}

static bool mentions_hostdev(const struct hook *h)
{
	return vh_hook_mentions_hostdev(h->xml, h->len);
}

static void scan_uuid(struct hook *h)
{
	vh_hook_scan_uuid(h->xml, h->len, h->uuid);
}

static bool journal_exists(struct hook *h)
{
	return vh_journal_exists(h->sys, h->uuid) > 0;
}

/* The domain.  Returns 0 or 1 (exit code). */
static int load(struct hook *h)
{
	struct vh_err e = {0};
	int r;

	r = vh_domain_parse(h->xml, h->len, "the domain XML from libvirt", &h->dom, &e);
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		logmsg(h, VH_MSG_FAILED, LOG_ERR, "%s: %s", h->domain_arg, e.msg);
		return 1;
	}
	if (h->dom->uuid && vh_uuid_valid(h->dom->uuid))
		snprintf(h->uuid, sizeof(h->uuid), "%s", h->dom->uuid);
	return 0;
}

/* The check's opts->load_profiles: only the profiles that can match the
 * devices (the others are skipped by their validation stamps, unparsed),
 * once a process.  A broken profile is said here; the check then fails. */
static int load_profiles(void *ud, const struct vh_pci_id *ids, size_t n)
{
	struct hook *h = ud;
	struct vh_err e = {0};
	char why[128];
	int r, dfd;

	if (h->profiles_loaded)
		return 0;
	/* Validated profiles are remembered in the root-only state
	 * directory: the next run skips RelaxNG for unchanged files. */
	if (vh_sys_state_dir(h->sys, &dfd, why, sizeof(why)) < 0)
		dfd = -1;
	r = vh_profiles_load_stamped(h->cfg.profiles[0] ? (const char *const *)h->cfg.profiles
							: NULL,
				     dfd, ids, n, &h->profiles, &e);
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		logmsg(h, VH_MSG_FAILED, LOG_ERR, "%s: %s", h->domain_arg, e.msg);
		h->profiles_failed = true;
		return r;
	}
	h->profiles_loaded = true;
	return 0;
}

static enum vh_mode mode(const struct hook *h)
{
	return h->dom->meta.mode != VH_MODE_UNSET ? h->dom->meta.mode : h->cfg.mode;
}

static struct vh_engine engine(struct hook *h)
{
	return (struct vh_engine){
	    .sys = h->sys,
	    .cfg = &h->cfg,
	    .log = hook_log,
	    .log_ud = h,
	    .pciback = h->kind->xen,
	};
}

static enum vh_hypervisor hv(const struct hook *h)
{
	return h->kind->xen ? VH_HV_XEN : VH_HV_QEMU;
}

/* Each finding is logged at its own severity: an info finding (libvirt
 * sets the locked-memory limit itself) is no warning, whatever else the
 * domain has. */
static const int syslog_level[] = {
    [VH_INFO] = LOG_INFO,
    [VH_WARNING] = LOG_WARNING,
    [VH_ERROR] = LOG_ERR,
};

/* The check's options for the domain: the hook's settings, its
 * hypervisor, and the profiles loaded once as the devices need them. */
static struct vh_check_opts check_opts(struct hook *h)
{
	return (struct vh_check_opts){.companions = h->cfg.companions,
				      .hypervisor = hv(h),
				      .load_profiles = load_profiles,
				      .load_ud = h};
}

/* Evaluate the domain; refuse (1) in enforce mode when there are errors. */
static int evaluate(struct hook *h, struct vh_report *rep)
{
	struct vh_check_opts o = check_opts(h);
	struct vh_buf b = {0};
	int r;

	r = vh_check_domain(h->sys, &h->profiles, h->dom, &o, rep);
	if (r < 0 && h->profiles_failed)
		return 1; /* said */
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: checking domain '%s': %s\n", h->domain_arg,
			strerror(-r));
		return 1;
	}
	if (h->dom->meta.error[0])
		logmsg(h, VH_MSG_NOTE, LOG_WARNING, "%s: vfio-hooks metadata: %s", h->domain_arg,
		       h->dom->meta.error);
	for (size_t i = 0; i < rep->n_findings; i++) {
		const struct vh_finding *f = &rep->findings[i];
		struct vh_buf m = {0};
		char dev[VH_PCI_ADDR_LEN];

		if (syslog_level[f->severity] > (int)h->cfg.log_level)
			continue;
		vh_finding_oneline(f, &b);
		vh_buf_printf(&m, "%s: %s", h->domain_arg, vh_buf_str(&b));
		if (f->has_addr)
			vh_pci_addr_format(&f->addr, dev);
		hook_log(h, &(struct vh_log_entry){.level = syslog_level[f->severity],
						   .message = vh_buf_str(&m),
						   .finding = true,
						   .rule = f->id,
						   .device = f->has_addr ? dev : NULL,
						   .fix = f->fix});
		vh_buf_done(&m);
		vh_buf_done(&b);
	}
	if (!rep->n_error)
		return 0;
	if (mode(h) == VH_MODE_WARN && !vh_report_n_refusing_in_warn(rep)) {
		logmsg(h, VH_MSG_WARN_START, LOG_WARNING,
		       "%s: %u error finding%s, starting anyway (mode warn)", h->domain_arg,
		       rep->n_error, rep->n_error > 1 ? "s" : "");
		return 0;
	}
	b = (struct vh_buf){0};
	vh_buf_printf(
	    &b,
	    "vfio-hooks refuses to start domain '%s': %u problem%s with its PCI passthrough (mode %s; check it with 'vfio-hooks check --domain %s'):\n",
	    h->domain_arg, rep->n_error, rep->n_error > 1 ? "s" : "", vh_mode_name(mode(h)),
	    h->domain_arg);
	vh_report_oneline(rep, VH_ERROR, &b);
	fputs(vh_buf_str(&b), stderr);
	/* To the log too, but not echoed: stderr has it. */
	vh_log_send(&h->lg, &(struct vh_log_entry){.level = LOG_ERR,
						   .message = vh_buf_str(&b),
						   .kind = VH_MSG_REFUSED});
	vh_buf_done(&b);
	return 1;
}

/* The check of prepare, run by the engine under the state lock (after it
 * undid any journal an earlier start left): one look at the host from the
 * check to the last write, so that a group member another domain gives
 * back meanwhile cannot be missed.  1: refused, and said so. */
static int check_locked(void *ud, struct vh_report *ret, struct vh_err *e)
{
	(void)e;
	return evaluate(ud, ret);
}

/* Whether an operation on the domain's devices stops before it starts,
 * with *status its exit status: 1 when the domain XML cannot be read, 0 in
 * mode off (logged when say_off). */
static bool stop_early(struct hook *h, bool say_off, int *status)
{
	*status = 1;
	if (load(h))
		return true;
	*status = 0;
	if (mode(h) != VH_MODE_OFF)
		return false;
	if (say_off)
		logmsg(h, VH_MSG_MODE_OFF, LOG_INFO, "%s: mode off, nothing done", h->domain_arg);
	return true;
}

static int op_prepare(struct hook *h)
{
	struct vh_engine en = engine(h);
	struct vh_err e = {0};
	int r;

	if (stop_early(h, true, &r))
		return r;
	en.recheck = check_locked;
	en.recheck_ud = h;
	r = vh_engine_prepare(&en, h->dom, NULL, &e);
	if (r > 0)
		return 1;
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: cannot prepare domain '%s': %s\n", h->domain_arg,
			e.msg);
		logmsg(h, VH_MSG_FAILED, LOG_ERR, "%s: prepare failed: %s", h->domain_arg, e.msg);
		return 1;
	}
	return 0;
}

static int op_start(struct hook *h)
{
	struct vh_report rep = {0};
	struct vh_engine en = engine(h);
	struct vh_check_opts o = check_opts(h);
	struct vh_err e = {0};
	int r;

	if (stop_early(h, false, &r))
		return r;
	if (vh_check_domain(h->sys, &h->profiles, h->dom, &o, &rep) < 0)
		return 1;
	r = vh_engine_verify(&en, h->dom, &rep, &e);
	vh_report_done(&rep);
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: domain '%s': %s\n", h->domain_arg, e.msg);
		logmsg(h, VH_MSG_FAILED, LOG_ERR, "%s: %s", h->domain_arg, e.msg);
		/* In warn mode nothing of ours may fail the VM. */
		return mode(h) == VH_MODE_WARN ? 0 : 1;
	}
	return 0;
}

/* A domain with a UUID of `vfio-hooks bind`'s (vh_manual_uuid): its
 * journal would be the binding's, which only `vfio-hooks unbind` gives
 * back.  Logged; true when the operation must do nothing. */
static bool reserved(struct hook *h)
{
	if (!vh_uuid_is_manual(h->uuid))
		return false;
	logmsg(
	    h, VH_MSG_UUID_RESERVED, LOG_WARNING,
	    "%s: [uuid-reserved] %s: nothing done: the domain's UUID %s is reserved for 'vfio-hooks bind', whose binding it names ('vfio-hooks unbind' gives that device back)",
	    h->domain_arg, h->op, h->uuid);
	return true;
}

/* A stop's or reconnect's step on a running domain's devices: it never
 * fails the operation, only logs (0 when there is nothing to do: the
 * domain's XML cannot be read while its UUID is not known yet, or its UUID
 * is reserved). */
static int on_running(struct hook *h, const char *what,
		      int (*step)(struct vh_engine *en, const char *uuid, struct vh_err *e),
		      struct vh_err *e)
{
	struct vh_engine en = engine(h);
	int r;

	if (!h->uuid[0] && load(h))
		return 0;
	if (reserved(h))
		return 0;
	r = step(&en, h->uuid, e);
	if (r < 0 && r != -ENOENT)
		logmsg(h, VH_MSG_FAILED, LOG_ERR, "%s: %s: %s", h->domain_arg, what, e->msg);
	return r;
}

static int op_release(struct hook *h)
{
	struct vh_err e = {0};
	/* Release never fails the stop: what cannot be restored is logged
	 * and stays in the journal for 'vfio-hooks recover'. */
	int r = on_running(h, "release", vh_engine_release, &e);

	if (r > 0)
		logmsg(
		    h, VH_MSG_RELEASE_FAILED, LOG_ERR,
		    "%s: release: %d device%s not restored (%s); run 'vfio-hooks recover' once fixed",
		    h->domain_arg, r, r > 1 ? "s" : "", e.msg);
	return 0;
}

static int op_reconnect(struct hook *h)
{
	struct vh_err e = {0};

	/* Failing here kills a running VM: only log. */
	on_running(h, "reconnect", vh_engine_reconnect, &e);
	return 0;
}

static int op_validate(struct hook *h)
{
	struct vh_report rep = {0};
	int r;

	if (stop_early(h, false, &r))
		return r;
	r = evaluate(h, &rep);
	if (rep.dom)
		vh_report_done(&rep);
	return r;
}

static int op_nothing(struct hook *h)
{
	(void)h;
	return 0;
}

/* Which operations have work is fast.c's table (shared with the front
 * end); this one says what each does. */
static const struct {
	const char *op;
	int (*fn)(struct hook *);
} ops[] = {
    {"prepare", op_prepare},  {"start", op_start},	{"started", op_nothing},
    {"stopped", op_nothing},  {"release", op_release},	{"reconnect", op_reconnect},
    {"migrate", op_validate}, {"restore", op_validate},
};

/* What libvirt asked (the object, the operation): 1 when the operation has
 * work for this hook, else 0 with the exit status in *@status. */
static int parse_argv(int argc, char **argv, struct hook *h, int *status)
{
	*status = vh_hook_enter(argc, argv);
	if (*status)
		return 0;
	h->kind = vh_hook_kind(argv[0]);
	h->domain_arg = argv[1];
	h->op = argv[2];
	h->subop = argc > 3 ? argv[3] : "-";
	for (size_t i = 0; i < ELEMENTSOF(ops); i++)
		if (streq(ops[i].op, h->op))
			h->fn = ops[i].fn;
	h->need = vh_hook_need(h->kind, h->op);
	return h->fn && h->need != VH_NEED_NOTHING;
}

/* The domain from standard input, the answers that need nothing read, then
 * the configuration, the gateway and the operation. */
static int run(struct hook *h)
{
	struct vh_err e = {0};
	bool maybe_pool = false;
	const char *conf;
	int r = 0;

	h->log_stderr = streq(secure_getenv("VFIO_HOOKS_LOG"), "stderr");
	if (vh_read_fd_capped(STDIN_FILENO, "the domain XML on standard input", VH_XML_MAX_BYTES,
			      &h->xml, &h->len, &e) < 0) {
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		return h->need == VH_NEED_HOSTDEV ? 1 : 0;
	}
	/* The UUIDs of `vfio-hooks bind` are no domain's, with a hostdev or
	 * without: its release would undo the binding (read from the XML
	 * as release reads it). */
	if (streq(h->op, "prepare")) {
		scan_uuid(h);
		if (vh_uuid_is_manual(h->uuid)) {
			fprintf(
			    stderr,
			    "vfio-hooks: [uuid-reserved] The domain '%s' has the UUID %s, which vfio-hooks reserves for 'vfio-hooks bind' (00000000-0000-0000-0000-00DDDDBBSSFF, one per bound device): give the domain another <uuid> ('virsh edit', a new one from 'uuidgen').\n",
			    h->domain_arg, h->uuid);
			free(h->xml);
			return 1;
		}
	}
	/* Most VMs have no PCI hostdev: done before anything is read.  One
	 * with an <interface type='network'> may get one from a <forward
	 * mode='hostdev'> pool: only when libvirt has such a network. */
	if (h->need == VH_NEED_HOSTDEV && !mentions_hostdev(h)) {
		if (!memmem(h->xml, h->len, "network", 7)) {
			free(h->xml);
			return 0;
		}
		maybe_pool = true;
	}

	vh_config_init(&h->cfg);
	conf = vh_config_path();
	if (vh_config_load(&h->cfg, conf, &e) < 0) {
		/* A broken configuration must not stop VMs that have nothing
		 * to do with us (answered above), nor a stop. */
		if (h->need == VH_NEED_HOSTDEV && !maybe_pool) {
			fprintf(stderr, "vfio-hooks: %s\n", e.msg);
			r = 1;
			goto out;
		}
		vh_config_done(&h->cfg);
		vh_config_init(&h->cfg);
	}
	if (vh_sys_new(vh_config_sysroot(&h->cfg, NULL), &h->sys) < 0) {
		r = h->need == VH_NEED_HOSTDEV ? 1 : 0;
		goto out;
	}
	vh_sys_set_timeout_ms(h->sys, h->cfg.timeout_ms);
	if (maybe_pool && !vh_hostdev_networks(h->sys))
		goto out;

	if (h->need == VH_NEED_JOURNAL) {
		scan_uuid(h);
		if (!journal_exists(h))
			goto out;
	}
	/* Without a syslog socket (no journald or syslogd) every message
	 * would try to connect again: skip them (stderr still has
	 * VFIO_HOOKS_LOG=stderr). */
	h->lg.no_syslog = access(_PATH_LOG, W_OK) != 0;
	h->lg.domain = h->domain_arg;
	h->lg.operation = h->op;
	r = h->fn(h);
out:
	vh_profiles_done(&h->profiles);
	vh_domain_free(h->dom);
	vh_sys_free(h->sys);
	vh_config_done(&h->cfg);
	free(h->xml);
	return r;
}

int main(int argc, char **argv)
{
	struct hook h = {0};
	int status;

	if (parse_argv(argc, argv, &h, &status) <= 0)
		return status;
	return run(&h);
}
