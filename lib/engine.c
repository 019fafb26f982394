/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "engine.h"
#include "sriov.h"
#include "pciback.h"
#include "units.h"

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

/* Work on independent units of devices at once (lib/units.h): a worker
 * thread a unit, each with a copy of the engine and its own gateway; what
 * they share, the journal and the log, is used under this mutex. */
struct vh_par {
	pthread_mutex_t mu;
};

static void par_lock(const struct vh_engine *en)
{
	if (en->par)
		pthread_mutex_lock(&en->par->mu);
}

static void par_unlock(const struct vh_engine *en)
{
	if (en->par)
		pthread_mutex_unlock(&en->par->mu);
}

/* One entry of @kind about @device (NULL: none) at syslog @level. */
static void logf_(struct vh_engine *en, enum vh_msg kind, const char *device, int level,
		  const char *fmt, ...) _printf_(5, 6);
static void logf_(struct vh_engine *en, enum vh_msg kind, const char *device, int level,
		  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!en->log || level > (int)en->cfg->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	par_lock(en);
	en->log(en->log_ud, &(struct vh_log_entry){
				.level = level, .message = msg, .kind = kind, .device = device});
	par_unlock(en);
}

/* What to do to one device. */
struct action {
	struct vh_jdev orig;	       /* also: addr, role, managed, reset_on_release */
	const struct vh_pci_dev *seen; /* the check's reading, if any */
	bool have_orig;		       /* orig's driver and reset_method taken from it */
	char name[VH_PCI_ADDR_LEN];
	bool bind;
	char target[64];
	bool set_reset;
	char reset_value[128];
	bool permissive; /* pciback only */
};

/* Virtual functions to create: PF @pf gets at least @count VFs. */
struct vfs {
	struct vh_pci_addr pf;
	unsigned count;
};

struct plan {
	struct action *v;
	size_t n;
	struct vfs *vfs;
	size_t n_vfs;
};

static void plan_done(struct plan *p)
{
	free(p->v);
	free(p->vfs);
	*p = (struct plan){0};
}

static int plan_vfs(struct plan *p, const struct vh_pci_addr *pf, unsigned n)
{
	for (size_t i = 0; i < p->n_vfs; i++)
		if (vh_pci_addr_eq(&p->vfs[i].pf, pf)) {
			if (p->vfs[i].count < n)
				p->vfs[i].count = n;
			return 0;
		}
	return VH_APPEND(p->vfs, p->n_vfs, (struct vfs){.pf = *pf, .count = n});
}

static int plan_add(struct plan *p, const struct action *a)
{
	for (size_t i = 0; i < p->n; i++)
		if (vh_pci_addr_eq(&p->v[i].orig.addr, &a->orig.addr))
			return 0;
	return VH_APPEND(p->v, p->n, *a);
}

static const char *meta_reset(const struct vh_domain *dom, const struct vh_pci_addr *a)
{
	for (size_t i = 0; i < dom->meta.n_devices; i++)
		if (vh_pci_addr_eq(&dom->meta.devices[i].addr, a))
			return dom->meta.devices[i].reset_method;
	return NULL;
}

static int make_plan(struct vh_engine *en, const struct vh_domain *dom, const struct vh_report *rep,
		     struct plan *p)
{
	int r;

	for (size_t i = 0; i < rep->n_devs; i++) {
		const struct vh_resolved *rd = &rep->devs[i];
		const struct vh_profile *pr = rd->profile;
		const char *mr;
		struct action a = {0};

		if (!rd->hd->addr_ok || rd->duplicate || !(rd->dev.present || rd->vf_create))
			continue;
		if (!rd->dev.present) {
			r = plan_vfs(p, &rd->vf_pf, rd->vf_n);
			if (r < 0)
				return r;
		}
		a.orig.addr = rd->hd->addr;
		a.orig.role = VH_ROLE_HOSTDEV;
		a.orig.managed = rd->hd->managed;
		a.orig.reset_on_release = pr ? pr->reset_on_release : true;
		a.seen = rd->dev.present ? &rd->dev : NULL;
		vh_pci_addr_format(&a.orig.addr, a.name);
		snprintf(a.target, sizeof(a.target), "%s",
			 en->pciback		 ? VH_PCIBACK
			 : pr && pr->vfio_driver ? pr->vfio_driver
						 : "vfio-pci");
		a.permissive = en->pciback && pr && pr->pciback_permissive;
		/* managed='yes': libvirt binds it after the prepare, one
		 * device after the other, and leaves alone one it finds on
		 * vfio-pci already (it then neither resets it nor gives it
		 * back: the release does); prebind_managed binds it here,
		 * with the others at once.  Only to vfio-pci: libvirt takes
		 * a device on another (a profile's variant driver) as not
		 * bound, and binds it to vfio-pci itself. */
		a.bind = rd->hd->managed ? en->cfg->prebind_managed && streq(a.target, "vfio-pci")
					 : en->cfg->bind_unmanaged;
		mr = meta_reset(dom, &a.orig.addr);
		/* A VF to create has no reset_method to read yet: its
		 * profile's is applied when the file exists. */
		if ((rd->dev.has_reset_method || rd->vf_create) &&
		    (mr || (pr && pr->set_reset_method))) {
			a.set_reset = true;
			snprintf(a.reset_value, sizeof(a.reset_value), "%s",
				 mr ? mr : pr->reset_method);
		}
		r = plan_add(p, &a);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < rep->n_devs; i++) {
		const struct vh_resolved *rd = &rep->devs[i];
		if (!rd->companions_ok)
			continue;
		for (int k = 0; k < rd->n_companions; k++) {
			struct action a = {0};
			a.orig.addr = rd->companions[k];
			a.orig.role = VH_ROLE_COMPANION;
			vh_pci_addr_format(&a.orig.addr, a.name);
			snprintf(a.target, sizeof(a.target), "vfio-pci");
			a.bind = true;
			r = plan_add(p, &a);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* At most this many threads at work (this one and the workers): a VM has
 * rarely more independent devices, and each is a stack and a gateway. */
#define MAX_WORKERS 8
/* A worker's stack: the engine's deepest path holds a few paths and
 * messages (about 20 KiB); sanitizers want more. */
#define WORKER_STACK (1024 * 1024)

typedef void (*unit_fn)(struct vh_engine *en, size_t unit, void *ctx);

struct worker {
	struct vh_engine en;
	struct vh_sys *sys;
	pthread_t th;
	size_t n_units;
	atomic_size_t *next;
	unit_fn fn;
	void *ctx;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t u;

	while ((u = atomic_fetch_add(w->next, 1)) < w->n_units)
		w->fn(&w->en, u, w->ctx);
	return NULL;
}

/* The workers allocate little: one heap for all, not an arena (and its
 * pages) a thread; 256 hostdevs' prepare peaked 0.9 MiB higher with one
 * a thread.  Set once, for the programs of this project, which all run
 * the engine's workers the same way. */
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;
static void one_arena(void)
{
	mallopt(M_ARENA_MAX, 1);
}

/* @fn for every unit 0..@n_units-1: this thread and, when there are
 * several units and the configuration allows (`parallel`), worker
 * threads beside it, each taking the next unit left; else one after the
 * other in this thread.  A worker that cannot be started leaves its share
 * to the others. */
static void run_units(struct vh_engine *en, size_t n_units, unit_fn fn, void *ctx)
{
	struct vh_par par = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct vh_engine self = *en;
	struct worker *w = NULL;
	atomic_size_t next = 0;
	pthread_attr_t attr;
	size_t nw = n_units > 1 ? (n_units < MAX_WORKERS ? n_units : MAX_WORKERS) - 1 : 0;
	size_t started = 0;

	if (n_units > 1 && en->cfg->parallel && !en->par && !en->pciback) {
		w = calloc(nw, sizeof(*w));
		pthread_once(&arena_once, one_arena);
	}
	if (w && pthread_attr_init(&attr) == 0) {
		pthread_attr_setstacksize(&attr, WORKER_STACK);
		for (size_t i = 0; i < nw; i++) {
			struct worker *k = &w[started];
			*k = (struct worker){
			    .en = *en, .n_units = n_units, .next = &next, .fn = fn, .ctx = ctx};
			if (vh_sys_clone(en->sys, &k->sys) < 0)
				break;
			k->en.sys = k->sys;
			k->en.par = &par;
			if (pthread_create(&k->th, &attr, worker_main, k) != 0) {
				vh_sys_free(k->sys);
				break;
			}
			started++;
		}
		pthread_attr_destroy(&attr);
	}
	if (started) {
		self.par = &par;
		logf_(&self, VH_MSG_NOTE, NULL, LOG_DEBUG,
		      "%zu independent units of devices, worked on at once by %zu threads", n_units,
		      started + 1);
	}
	for (size_t u; (u = atomic_fetch_add(&next, 1)) < n_units;)
		fn(&self, u, ctx);
	for (size_t i = 0; i < started; i++) {
		pthread_join(w[i].th, NULL);
		vh_sys_free(w[i].sys);
	}
	if (started)
		vh_sys_invalidate(en->sys);
	free(w);
}

/* The units of the @n devices at @addrs (lib/units.h), into @unit; the
 * count, or -ENOMEM.  One unit, without reading sysfs, when the work is
 * not parallel anyway. */
static int units_of(struct vh_engine *en, const struct vh_pci_addr *addrs, size_t n, size_t *unit)
{
	_cleanup_free_ struct vh_unit_key *keys = NULL;

	if (n <= 1 || !en->cfg->parallel || en->pciback) {
		for (size_t i = 0; i < n; i++)
			unit[i] = 0;
		return n ? 1 : 0;
	}
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		vh_unit_key_read(en->sys, &addrs[i], &keys[i]);
	return vh_units_split(keys, n, unit);
}

#define DEV "/sys/bus/pci/devices/%s/"

static int read_state(struct vh_engine *en, struct vh_jdev *st, const char *name)
{
	int r;

	st->driver[0] = st->override[0] = st->reset_method[0] = '\0';
	r = vh_sys_link_name(en->sys, st->driver, sizeof(st->driver), DEV "driver", name);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT)
		st->driver[0] = '\0';
	r = vh_sys_read_str(en->sys, st->override, sizeof(st->override), DEV "driver_override",
			    name);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT || streq(st->override, "(null)"))
		st->override[0] = '\0';
	r = vh_sys_read_str(en->sys, st->reset_method, sizeof(st->reset_method), DEV "reset_method",
			    name);
	st->has_reset_method = r == 0;
	if (r < 0 && r != -ENOENT)
		return r;
	if (r < 0)
		st->reset_method[0] = '\0';
	return 0;
}

/* The check's reading of the device, when nothing was written through
 * the gateway since: what read_state would read again (driver,
 * driver_override, reset_method), three reads a device saved. */
static bool state_seen(struct vh_engine *en, struct vh_jdev *st, const struct vh_pci_dev *d)
{
	if (!d || !d->present || d->err ||
	    !vh_sys_unwritten_since(en->sys, d->read_by, d->sys_writes))
		return false;
	vh_strlcpy(st->driver, d->driver, sizeof(st->driver));
	vh_strlcpy(st->override, d->driver_override, sizeof(st->override));
	st->has_reset_method = d->has_reset_method;
	vh_strlcpy(st->reset_method, d->has_reset_method ? d->reset_method : "",
		   sizeof(st->reset_method));
	return true;
}

static const char *errname(int r)
{
	return r == -ETIMEDOUT ? "no answer within the timeout" : strerror(-r);
}

/* Moving a device between drivers, the way libvirt does: the target
 * driver must be loaded, driver_override names it, the current driver
 * lets go, drivers_probe, then the driver link is checked, since
 * drivers_probe succeeds even when nothing binds. */

/* The target driver is loaded ("" = no driver: nothing to load). */
static int driver_require_loaded(struct vh_engine *en, const char *name, const char *target,
				 struct vh_err *e)
{
	if (target[0] && vh_sys_exists(en->sys, "/sys/bus/pci/drivers/%s", target) <= 0)
		return vh_err_set(
		    e, -ENOENT,
		    "%s: driver %s is not loaded (no /sys/bus/pci/drivers/%s): load it with 'modprobe %s' or list it in /etc/modules-load.d/.",
		    name, target, target, target);
	return 0;
}

/* driver_override set to @override ("" clears it). */
static int driver_set_override(struct vh_engine *en, const char *name, const char *override,
			       struct vh_err *e)
{
	int r =
	    vh_sys_write(en->sys, override[0] ? override : "\n", 0, DEV "driver_override", name);

	if (r < 0)
		return vh_err_set(e, r,
				  "%s: cannot write /sys/bus/pci/devices/%s/driver_override: %s.",
				  name, name, errname(r));
	return 0;
}

/* The driver @name is on, into @cur (@n bytes; "" for none). */
static int driver_current(struct vh_engine *en, const char *name, char *cur, size_t n,
			  struct vh_err *e)
{
	int r = vh_sys_link_name(en->sys, cur, n, DEV "driver", name);

	if (r == -ENOENT) {
		cur[0] = '\0';
		return 0;
	}
	if (r < 0)
		return vh_err_set(e, r, "%s: cannot read its driver link: %s.", name, strerror(-r));
	return 0;
}

/* Off its current driver unless that is @target: 1 when it is on
 * @target already, 0 when it is on no driver now, -errno (with @e). */
static int driver_unbind(struct vh_engine *en, const char *name, const char *target,
			 struct vh_err *e)
{
	char cur[64];
	int r = driver_current(en, name, cur, sizeof(cur), e);

	if (r < 0)
		return r;
	if (streq(cur, target))
		return 1;
	if (!cur[0])
		return 0;
	logf_(en, VH_MSG_DRIVER, name, LOG_INFO, "%s: unbinding from %s", name, cur);
	return vh_driver_unbind(
	    en->sys, name, cur,
	    "; the driver is holding the device (in use on the host?): stop what uses it, or raise 'timeout' in vfio-hooks.conf",
	    e);
}

/* drivers_probe for @name; "no driver matched" is not an error here. */
static int driver_probe(struct vh_engine *en, const char *name, struct vh_err *e)
{
	int r = vh_sys_write(en->sys, name, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers_probe");

	if (r < 0 && r != -ENODEV && r != -EINVAL)
		return vh_err_set(e, r, "%s: /sys/bus/pci/drivers_probe failed: %s.", name,
				  errname(r));
	return 0;
}

/* After the probe: on @target, else (no probe match: a driver without
 * this ID, or one whose probe refused) bound explicitly when on no
 * driver, else -ENODEV. */
static int driver_verify_or_bind(struct vh_engine *en, const char *name, const char *target,
				 struct vh_err *e)
{
	char cur[64];
	int r = driver_current(en, name, cur, sizeof(cur), e);

	if (r < 0 || streq(cur, target))
		return r;
	if (!cur[0]) {
		int b = vh_sys_write(en->sys, name, VH_WRITE_BOUNDED,
				     "/sys/bus/pci/drivers/%s/bind", target);
		if (b == 0 &&
		    vh_sys_link_name(en->sys, cur, sizeof(cur), DEV "driver", name) == 0 &&
		    streq(cur, target))
			return 0;
	}
	return vh_err_set(
	    e, -ENODEV,
	    "%s: after drivers_probe the device is on %s, not %s: the driver did not take it (see the kernel log).",
	    name, cur[0] ? cur : "no driver", target);
}

/* Move @name from its current driver to @target ("" = no driver), with
 * driver_override @override. */
static int move_driver(struct vh_engine *en, const char *name, const char *target,
		       const char *override, struct vh_err *e)
{
	int r;

	r = driver_require_loaded(en, name, target, e);
	if (r < 0)
		return r;
	r = driver_set_override(en, name, override, e);
	if (r < 0)
		return r;
	r = driver_unbind(en, name, target, e);
	if (r != 0)
		return r < 0 ? r : 0;
	if (!target[0])
		return 0;
	r = driver_probe(en, name, e);
	if (r < 0)
		return r;
	return driver_verify_or_bind(en, name, target, e);
}

static int write_reset_method(struct vh_engine *en, const char *name, const char *value,
			      struct vh_err *e)
{
	int r;

	/* An empty line disables resets; the kernel wants the newline. */
	r = vh_sys_write(en->sys, value[0] ? value : "\n", 0, DEV "reset_method", name);
	if (r < 0)
		return vh_err_set(
		    e, r, "%s: cannot write '%s' to /sys/bus/pci/devices/%s/reset_method: %s%s.",
		    name, value, name, strerror(-r),
		    r != -EINVAL ? ""
		    : strstr(value, "device_specific")
			? " (the kernel takes device_specific only when a quirk or a module such as vendor-reset implements this device's reset: is the module loaded, and does it support the device? 'vfio-hooks doctor DEVICE' tells)"
			: " (a method this device does not support)");
	return 0;
}

/* Put one device back as recorded.  Returns 0 or -errno (with @e). */
static int restore_one(struct vh_engine *en, const struct vh_jdev *o, struct vh_err *e)
{
	char name[VH_PCI_ADDR_LEN];
	struct vh_jdev cur = {0};
	int r, first = 0;

	vh_pci_addr_format(&o->addr, name);
	if (vh_sys_exists(en->sys, DEV, name) <= 0) {
		logf_(en, VH_MSG_GONE, name, LOG_WARNING,
		      "%s: the device is gone (hot-unplugged?); nothing to restore", name);
		return 0;
	}
	r = read_state(en, &cur, name);
	if (r < 0)
		return vh_err_set(e, r, "%s: cannot read its state: %s.", name, strerror(-r));
	if (o->reset_on_release && cur.has_reset_method && cur.reset_method[0] &&
	    strncmp(cur.driver, "vfio", 4) == 0 && vh_sys_exists(en->sys, DEV "reset", name) > 0) {
		r = vh_sys_write(en->sys, "1", VH_WRITE_BOUNDED, DEV "reset", name);
		if (r < 0)
			logf_(en, VH_MSG_RESET, name, LOG_WARNING,
			      "%s: reset on release failed: %s", name, errname(r));
		else
			logf_(en, VH_MSG_RESET, name, LOG_INFO, "%s: reset", name);
	}
	if (o->has_reset_method && cur.has_reset_method &&
	    !streq(cur.reset_method, o->reset_method)) {
		struct vh_err re = {0};
		r = write_reset_method(en, name, o->reset_method, &re);
		if (r == -EINVAL &&
		    vh_sys_write(en->sys, "default", 0, DEV "reset_method", name) == 0) {
			/* The kernel re-probes the methods on every write: one
			 * that worked at boot (a bus reset before a sibling
			 * function appeared) can be refused now.  Its default
			 * is the closest state there is. */
			char now[128] = "";
			vh_sys_read_str(en->sys, now, sizeof(now), DEV "reset_method", name);
			logf_(
			    en, VH_MSG_RESTORED, name, LOG_WARNING,
			    "%s: the kernel no longer accepts reset_method '%s'; restored its default '%s' instead",
			    name, o->reset_method, now);
		} else if (r < 0) {
			vh_err_set(e, r, "%s", re.msg);
			first = first ? first : r;
		} else {
			logf_(en, VH_MSG_RESTORED, name, LOG_INFO,
			      "%s: reset_method restored to '%s'", name, o->reset_method);
		}
	}
	if (o->pciback && !streq(o->driver, VH_PCIBACK)) {
		/* Off pciback and out of its slot list before the original
		 * driver probes, or pciback would seize it again. */
		r = vh_pciback_unassign(en->sys, o, e);
		if (r < 0)
			return r;
		r = read_state(en, &cur, name);
		if (r < 0)
			return vh_err_set(e, r, "%s: cannot read its state: %s.", name,
					  strerror(-r));
	}
	if (!streq(cur.driver, o->driver) || !streq(cur.override, o->override)) {
		r = move_driver(en, name, o->driver, o->override, e);
		if (r < 0)
			first = first ? first : r;
		else
			logf_(en, VH_MSG_RESTORED, name, LOG_INFO, "%s: back on %s", name,
			      o->driver[0] ? o->driver : "no driver");
	}
	return first;
}

static int find_holder(struct vh_engine *en, int dirfd, const char *self, bool manual,
		       const struct vh_pci_addr *a, size_t n, struct vh_journal *ret);

/* Device @a of @j was given back (while its domain runs, or by a release
 * that may leave others): so recorded (a record that cannot be written
 * leaves it to the next release, which finds it as it is). */
static void mark_gone(struct vh_engine *en, struct vh_journal *j, const struct vh_pci_addr *a)
{
	char name[VH_PCI_ADDR_LEN];
	struct vh_err e = {0};
	int r = -EBADF;

	vh_pci_addr_format(a, name);
	par_lock(en);
	if (j->fd >= 0)
		r = vh_journal_gone(j, a, &e);
	par_unlock(en);
	if (r == 0)
		return;
	logf_(
	    en, VH_MSG_JOURNAL, name, LOG_WARNING,
	    "%s: given back, but not recorded as such: %s; the domain's release finds it as it is",
	    name, e.msg[0] ? e.msg : "the journal is not open");
}

/* The VFs @j created on @s->pf go away unless another journal holds one of
 * them: then that journal takes over the record (its release removes
 * them).  Returns 0 or -errno (with @e). */
static int undo_vfs(struct vh_engine *en, int dirfd, struct vh_journal *j,
		    const struct vh_jsriov *s, struct vh_err *e)
{
	char pf[VH_PCI_ADDR_LEN], **links = NULL, num[16];
	unsigned long long cur = 0;
	struct vh_pci_addr *vfs = NULL;
	size_t k = 0;
	int n, r;

	vh_pci_addr_format(&s->pf, pf);
	if (vh_sys_exists(en->sys, DEV, pf) <= 0)
		return 0;
	n = vh_sys_list(en->sys, &links, DEV, pf);
	if (n > 0 && !(vfs = calloc((size_t)n, sizeof(*vfs)))) {
		vh_strv_free(links);
		return vh_err_set(e, -ENOMEM, "%s: out of memory.", pf);
	}
	for (int i = 0; i < n; i++) {
		char vf[VH_PCI_ADDR_LEN] = "";
		if (strncmp(links[i], "virtfn", 6) == 0 &&
		    vh_sys_link_name(en->sys, vf, sizeof(vf), DEV "%s", pf, links[i]) == 0 &&
		    vh_pci_addr_parse(vf, &vfs[k]) == 0)
			k++;
	}
	vh_strv_free(links);
	/* One look at the other journals for all the VFs. */
	if (k) {
		char vf[VH_PCI_ADDR_LEN];
		struct vh_journal other;
		int i = find_holder(en, dirfd, j->uuid, true, vfs, k, &other);
		if (i == -ENOENT)
			goto remove;
		if (i < 0) { /* keep them: another domain may use one */
			free(vfs);
			return vh_err_set(
			    e, i,
			    "%s: cannot tell whether another domain uses its VFs (the journals in /run/vfio-hooks: %s); they stay.",
			    pf, strerror(-i));
		}
		vh_pci_addr_format(&vfs[i], vf);
		free(vfs);
		/* Hand the record over: appended under the state lock. */
		if (other.fd < 0)
			other.fd =
			    openat(dirfd, other.file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		r = other.fd < 0 ? -errno : vh_journal_add_sriov(&other, s, e);
		logf_(en, VH_MSG_SRIOV, pf, r < 0 ? LOG_ERR : LOG_INFO,
		      "%s: its VFs stay: %s (domain '%s') uses one; %s", pf, vf,
		      other.domain ? other.domain : "?",
		      r < 0 ? "cannot record that in its journal" : "its release removes them");
		vh_journal_done(&other);
		return r < 0
			   ? vh_err_set(
				 e, r,
				 "%s: cannot hand its VFs over to the journal of the domain using %s.",
				 pf, vf)
			   : 0;
	}
remove:
	free(vfs);
	r = vh_sys_read_uint(en->sys, &cur, DEV "sriov_numvfs", pf);
	if (r == 0 && cur != s->numvfs) {
		snprintf(num, sizeof(num), "%u", s->numvfs);
		r = vh_sys_write(en->sys, num, VH_WRITE_BOUNDED, DEV "sriov_numvfs", pf);
		if (r < 0)
			return vh_err_set(
			    e, r,
			    "%s: cannot remove the VFs the hook created (sriov_numvfs %s: %s).", pf,
			    num, errname(r));
		logf_(en, VH_MSG_SRIOV, pf, LOG_INFO, "%s: VFs removed (sriov_numvfs %s)", pf, num);
	}
	if (s->autoprobe >= 0) {
		r = vh_sys_write(en->sys, s->autoprobe ? "1" : "0", 0,
				 DEV "sriov_drivers_autoprobe", pf);
		if (r < 0)
			return vh_err_set(e, r, "%s: cannot restore sriov_drivers_autoprobe: %s.",
					  pf, errname(r));
	}
	return 0;
}

/* The journals other than @self's (bindings by `vfio-hooks bind` only
 * with @manual), each read once: which of them holds a device. */
enum { OTHER_SKIP, OTHER_LOADED, OTHER_UNREADABLE };
struct others {
	char **uuids;
	struct vh_journal *js;
	unsigned char *st;
	int n;
};
static int others_load(struct vh_engine *en, int dirfd, const char *self, bool manual,
		       struct others *ret);
static int others_find(const struct others *o, int dirfd, const struct vh_pci_addr *a);
static void others_done(struct others *o);

/* Every attribute path of @j is a file beneath its device, reached without
 * a link (the journal's text was checked as text only): else the whole
 * journal is refused before anything is written.  A path that is gone (a
 * VF removed with its PF's VFs) is nothing to restore. */
static int paths_ok(struct vh_engine *en, const struct vh_journal *j, struct vh_err *e)
{
	static const char prefix[] = "/sys/bus/pci/devices/";

	for (size_t i = 0; i < j->n_attrs; i++) {
		const char *p = j->attrs[i].path + sizeof(prefix) - 1;
		char addr[VH_PCI_ADDR_LEN];
		int r;
		vh_strlcpy(addr, p, sizeof(addr));
		r = vh_sys_beneath(en->sys, addr, p + VH_PCI_ADDR_LEN);
		if (r == 0 || r == -ENOENT)
			continue;
		return vh_err_set(
		    e, -EPERM,
		    "The journal /run/vfio-hooks/%s names %s, which is not a file of device %s (%s): refusing to act on it. Inspect it, restore its devices by hand, then remove it.",
		    j->file, j->attrs[i].path, addr,
		    r == -ELOOP ? "a link on the way leads out of the device" : strerror(-r));
	}
	return 0;
}

/* The devices of a journal given back, unit by unit (lib/units.h): in
 * each unit in the reverse of the journal's order, units at once.  The
 * workers read a copy of the journal's devices (a `gone` record takes
 * one out of @j). */
struct undo_run {
	struct vh_journal *j;
	const struct vh_jdev *devs;
	size_t n;
	size_t *unit;
	const struct others *o;
	int dirfd;
	bool gone;
	bool *failed;
	struct vh_err *errs;
};

static void undo_dev(struct vh_engine *en, struct undo_run *c, size_t i)
{
	const struct vh_jdev *d = &c->devs[i];
	const struct others *o = c->o;
	char name[VH_PCI_ADDR_LEN];
	int k = others_find(o, c->dirfd, &d->addr);

	vh_pci_addr_format(&d->addr, name);
	if (k >= 0) {
		const char *who = o->st[k] == OTHER_LOADED && o->js[k].domain && o->js[k].domain[0]
				      ? o->js[k].domain
				      : o->uuids[k];
		logf_(
		    en, VH_MSG_HELD, name, LOG_NOTICE,
		    "%s: left as it is: %s '%s' holds it too (journal /run/vfio-hooks/%s.journal) and gives it back",
		    name, vh_uuid_is_manual(o->uuids[k]) ? "the binding" : "domain", who,
		    o->uuids[k]);
		if (c->gone)
			mark_gone(en, c->j, &d->addr);
		return;
	}
	if (restore_one(en, d, &c->errs[i]) == 0) {
		if (c->gone)
			mark_gone(en, c->j, &d->addr);
		return;
	}
	c->failed[i] = true;
	logf_(en, VH_MSG_RELEASE_FAILED, name, LOG_ERR, "%s", c->errs[i].msg);
	par_lock(en);
	if (c->j->fd >= 0) {
		char line[256];
		snprintf(line, sizeof(line), "failed %s", name);
		(void)vh_journal_mark(c->j, line, NULL);
	}
	par_unlock(en);
}

static void undo_unit(struct vh_engine *en, size_t u, void *ctx)
{
	struct undo_run *c = ctx;

	for (size_t i = c->n; i-- > 0;)
		if (c->unit[i] == u)
			undo_dev(en, c, i);
}

/* The count of devices left, with @e set from the last of them in the
 * journal's reverse order (the first in its order). */
static int undo_devices(struct vh_engine *en, int dirfd, struct vh_journal *j,
			const struct others *o, bool gone, struct vh_err *e)
{
	size_t n = j->n_devs;
	_cleanup_free_ struct vh_jdev *devs = calloc(n ?: 1, sizeof(*devs));
	_cleanup_free_ struct vh_pci_addr *addrs = calloc(n ?: 1, sizeof(*addrs));
	_cleanup_free_ size_t *unit = calloc(n ?: 1, sizeof(*unit));
	_cleanup_free_ bool *failed = calloc(n ?: 1, sizeof(*failed));
	_cleanup_free_ struct vh_err *errs = calloc(n ?: 1, sizeof(*errs));
	struct undo_run c = {.j = j,
			     .devs = devs,
			     .n = n,
			     .unit = unit,
			     .o = o,
			     .dirfd = dirfd,
			     .gone = gone,
			     .failed = failed,
			     .errs = errs};
	int n_units, left = 0;

	if (!devs || !addrs || !unit || !failed || !errs) {
		vh_err_set(e, -ENOMEM, "Out of memory: the devices of /run/vfio-hooks/%s stay.",
			   j->file);
		return (int)n ?: 1;
	}
	if (n) /* a journal of VFs alone has no devices: j->devs NULL */
		memcpy(devs, j->devs, n * sizeof(*devs));
	for (size_t i = 0; i < n; i++)
		addrs[i] = devs[i].addr;
	n_units = units_of(en, addrs, n, unit);
	if (n_units < 0) {
		vh_err_set(e, n_units, "Out of memory: the devices of /run/vfio-hooks/%s stay.",
			   j->file);
		return (int)n ?: 1;
	}
	run_units(en, (size_t)n_units, undo_unit, &c);
	for (size_t i = n; i-- > 0;)
		if (failed[i]) {
			left++;
			vh_err_set(e, errs[i].code, "%s", errs[i].msg);
		}
	return left;
}

/* Undo every device of @j in reverse order, then the VFs it created;
 * failed ones are marked in the journal.  A device another journal holds
 * (another domain's, or a binding of `vfio-hooks bind`) is left as it is:
 * that journal gives it back.  With @gone (some devices of a running
 * domain, j->fd open), each device given back is marked gone in the
 * journal.  Returns the count left. */
static int undo(struct vh_engine *en, int dirfd, struct vh_journal *j, bool gone, struct vh_err *e)
{
	struct others o;
	int left = 0, r;

	r = paths_ok(en, j, e);
	if (r < 0) {
		logf_(en, VH_MSG_RELEASE_FAILED, NULL, LOG_ERR, "%s", e->msg);
		return (int)(j->n_devs + j->n_attrs + j->n_sriov) ?: 1;
	}
	r = others_load(en, dirfd, j->uuid, true, &o);
	if (r < 0) {
		vh_err_set(
		    e, r,
		    "Cannot tell whether another domain holds the devices of /run/vfio-hooks/%s (the journals in /run/vfio-hooks: %s); they stay as they are.",
		    j->file, strerror(-r));
		logf_(en, VH_MSG_RELEASE_FAILED, NULL, LOG_ERR, "%s", e->msg);
		return (int)j->n_devs ?: 1;
	}
	left = undo_devices(en, dirfd, j, &o, gone, e);
	for (size_t i = j->n_attrs; i-- > 0;) {
		const struct vh_jattr *at = &j->attrs[i];
		char now[128] = "";
		if (vh_sys_read_str(en->sys, now, sizeof(now), "%s", at->path) < 0 ||
		    streq(now, at->value))
			continue; /* gone with its VF, or unchanged */
		r = vh_sys_write(en->sys, at->value, VH_WRITE_BOUNDED, "%s", at->path);
		if (r < 0) {
			left++;
			vh_err_set(e, r, "Cannot restore %s to '%s': %s.", at->path, at->value,
				   errname(r));
			logf_(en, VH_MSG_RELEASE_FAILED, NULL, LOG_ERR,
			      "Cannot restore %s to '%s': %s", at->path, at->value, errname(r));
		}
	}
	for (size_t i = j->n_sriov; i-- > 0;) {
		struct vh_err de = {0};
		if (undo_vfs(en, dirfd, j, &j->sriov[i], &de) == 0)
			continue;
		left++;
		logf_(en, VH_MSG_RELEASE_FAILED, NULL, LOG_ERR, "%s", de.msg);
		vh_err_set(e, de.code, "%s", de.msg);
	}
	others_done(&o);
	return left;
}

struct state {
	int dirfd, lockfd;
};

static int open_state(struct vh_engine *en, struct state *s, struct vh_err *e)
{
	char why[512];
	int r;

	s->dirfd = s->lockfd = -1;
	r = vh_sys_state_dir(en->sys, &s->dirfd, why, sizeof(why));
	if (r < 0)
		return vh_err_set(e, r, "Cannot use the state directory: %s.", why);
	r = vh_journal_lock(s->dirfd, en->cfg->lock_timeout_ms, &s->lockfd);
	if (r < 0) {
		close(s->dirfd);
		s->dirfd = -1;
		return vh_err_set(
		    e, r,
		    "Cannot take /run/vfio-hooks/lock: %s (another vfio-hooks is stuck? see its log).",
		    r == -ETIMEDOUT ? "still held after the lock timeout" : strerror(-r));
	}
	return 0;
}

static void close_state(struct state *s)
{
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = s->lockfd = -1;
}

void vh_manual_uuid(const struct vh_pci_addr *a, char out[37])
{
	snprintf(out, 37, "00000000-0000-0000-0000-00%04x%02x%02x%02x", a->domain & 0xffff,
		 a->bus & 0xff, a->slot & 0xff, a->function & 0xff);
}

bool vh_uuid_is_manual(const char *uuid)
{
	return uuid && vh_uuid_valid(uuid) && strncmp(uuid, "00000000-0000-0000-0000-00", 26) == 0;
}

static void others_done(struct others *o)
{
	for (int k = 0; k < o->n; k++)
		if (o->st[k] == OTHER_LOADED)
			vh_journal_done(&o->js[k]);
	free(o->js);
	free(o->st);
	vh_strv_free(o->uuids);
	*o = (struct others){0};
}

/* -errno when the journals cannot be listed: unknown is never "not
 * held". */
static int others_load(struct vh_engine *en, int dirfd, const char *self, bool manual,
		       struct others *ret)
{
	struct others o = {0};
	int nj = vh_journal_list(dirfd, &o.uuids);

	if (nj < 0)
		return nj;
	o.n = nj;
	if (nj > 0) {
		o.js = calloc((size_t)nj, sizeof(*o.js));
		o.st = calloc((size_t)nj, sizeof(*o.st));
		if (!o.js || !o.st) {
			o.n = 0;
			others_done(&o);
			return -ENOMEM;
		}
	}
	for (int k = 0; k < nj; k++) {
		struct vh_err e = {0};
		if ((self && streq(o.uuids[k], self)) || (!manual && vh_uuid_is_manual(o.uuids[k])))
			continue;
		if (vh_journal_load(dirfd, o.uuids[k], &o.js[k], &e) == 0) {
			o.st[k] = OTHER_LOADED;
			continue;
		}
		if (e.code)
			logf_(en, VH_MSG_JOURNAL, NULL, LOG_WARNING, "%s", e.msg);
		/* Unreadable: a device it names is still taken. */
		o.st[k] = OTHER_UNREADABLE;
	}
	*ret = o;
	return 0;
}

/* The index in @o of the first journal that holds @a, or -1. */
static int others_find(const struct others *o, int dirfd, const struct vh_pci_addr *a)
{
	char name[VH_PCI_ADDR_LEN];

	vh_pci_addr_format(a, name);
	for (int k = 0; k < o->n; k++) {
		bool held = false;
		if (o->st[k] == OTHER_LOADED)
			for (size_t d = 0; !held && d < o->js[k].n_devs; d++)
				held = vh_pci_addr_eq(&o->js[k].devs[d].addr, a);
		else if (o->st[k] == OTHER_UNREADABLE)
			held = vh_journal_mentions(dirfd, o->uuids[k], name);
		if (held)
			return k;
	}
	return -1;
}

/* The holder @k of @o, moved (or described, for an unreadable journal)
 * into @ret. */
static void others_take(struct others *o, int k, struct vh_journal *ret)
{
	if (o->st[k] == OTHER_LOADED) {
		*ret = o->js[k];
		o->st[k] = OTHER_SKIP;
		return;
	}
	*ret = (struct vh_journal){.fd = -1};
	ret->domain = strdup("(unknown: its journal is corrupt)");
	snprintf(ret->uuid, sizeof(ret->uuid), "%s", o->uuids[k]);
	snprintf(ret->file, sizeof(ret->file), "%s.journal", o->uuids[k]);
}

/* Which of the @n addresses @a a journal other than @self's holds
 * (bindings by `vfio-hooks bind` count only with @manual): the index of
 * the first, with its holder in @ret (the first journal by name that holds
 * it); -ENOENT for none, another -errno when it could not tell.  The state
 * directory is listed and each journal read once, whatever the number of
 * devices. */
static int find_holder(struct vh_engine *en, int dirfd, const char *self, bool manual,
		       const struct vh_pci_addr *a, size_t n, struct vh_journal *ret)
{
	struct others o;
	int r = others_load(en, dirfd, self, manual, &o);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		int k = others_find(&o, dirfd, &a[i]);
		if (k >= 0) {
			others_take(&o, k, ret);
			r = (int)i;
			break;
		}
	}
	others_done(&o);
	return r;
}

int vh_engine_holder(struct vh_engine *en, const struct vh_pci_addr *addr, char *name, size_t n,
		     char *uuid, size_t un)
{
	char why[256];
	struct vh_journal j;
	int dirfd, r;

	r = vh_sys_state_dir(en->sys, &dirfd, why, sizeof(why));
	if (r < 0)
		return r;
	r = find_holder(en, dirfd, NULL, true, addr, 1, &j);
	close(dirfd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	snprintf(name, n, "%s", j.domain ? j.domain : "");
	snprintf(uuid, un, "%s", j.uuid);
	vh_journal_done(&j);
	return 1;
}

static int prepare_one(struct vh_engine *en, struct vh_journal *j, struct action *a,
		       const char *dname, struct vh_err *e)
{
	int r;

	/* A VF goes with its PF's driver: one unbound before it in this
	 * plan leaves nothing to restore, which only a new reading says. */
	if (a->have_orig && vh_sys_exists(en->sys, DEV, a->name) <= 0)
		a->have_orig = false;
	r = a->have_orig ? 0 : read_state(en, &a->orig, a->name);
	if (r < 0)
		return vh_err_set(
		    e, r, "%s: cannot read its driver, driver_override or reset_method: %s.",
		    a->name, strerror(-r));
	if (en->pciback && a->bind && !streq(a->orig.driver, a->target)) {
		r = vh_pciback_has_slot(en->sys, a->name);
		if (r < 0 && r != -ENOENT)
			return vh_err_set(e, r,
					  "%s: cannot read /sys/bus/pci/drivers/pciback/slots: %s.",
					  a->name, strerror(-r));
		a->orig.pciback = r > 0 ? VH_PCIBACK_KEPT : VH_PCIBACK_ADDED;
	}
	/* Recorded and synced before anything is touched. */
	par_lock(en);
	r = vh_journal_add(j, &a->orig, e);
	par_unlock(en);
	if (r < 0)
		return r;
	if (a->set_reset && a->orig.has_reset_method &&
	    !streq(a->orig.reset_method, a->reset_value)) {
		r = write_reset_method(en, a->name, a->reset_value, e);
		if (r < 0)
			return r;
		logf_(en, VH_MSG_RESET_METHOD, a->name, LOG_INFO,
		      "%s: %s: reset_method '%s' -> '%s'", dname, a->name, a->orig.reset_method,
		      a->reset_value);
	}
	if (a->bind && !streq(a->orig.driver, a->target)) {
		r = en->pciback ? vh_pciback_assign(en->sys, &a->orig, a->permissive, e)
				: move_driver(en, a->name, a->target, a->target, e);
		if (r < 0)
			return r;
		logf_(en, VH_MSG_DRIVER, a->name, LOG_INFO, "%s: %s: %s %s -> %s", dname, a->name,
		      a->orig.role == VH_ROLE_COMPANION ? "companion" : "bound",
		      a->orig.driver[0] ? a->orig.driver : "(none)", a->target);
	}
	return 0;
}

/* Create the VFs of @v: journaled first, then sriov_drivers_autoprobe 0
 * (no host driver grabs them) and sriov_numvfs, from 0 only. */
static int create_vfs(struct vh_engine *en, struct vh_journal *j, const struct vfs *v,
		      const char *dname, struct vh_err *e)
{
	char pf[VH_PCI_ADDR_LEN], num[16];
	unsigned long long cur = 0, ap = 0;
	struct vh_jsriov rec = {.pf = v->pf};
	int r;

	vh_pci_addr_format(&v->pf, pf);
	r = vh_sys_read_uint(en->sys, &cur, DEV "sriov_numvfs", pf);
	if (r < 0)
		return vh_err_set(e, r, "%s: cannot read sriov_numvfs: %s.", pf, strerror(-r));
	if (cur >= v->count)
		return 0; /* created meanwhile (another domain): use them */
	if (cur != 0)
		return vh_err_set(
		    e, -EBUSY,
		    "[sriov-numvfs-busy] %s has %llu VFs and this domain needs VF %u: the hook changes sriov_numvfs only from 0.",
		    pf, cur, v->count);
	rec.numvfs = 0;
	rec.autoprobe = vh_sys_read_uint(en->sys, &ap, DEV "sriov_drivers_autoprobe", pf) == 0
			    ? (int)(ap != 0)
			    : -1;
	r = vh_journal_add_sriov(j, &rec, e);
	if (r < 0)
		return r;
	if (rec.autoprobe == 1) {
		r = vh_sys_write(en->sys, "0", 0, DEV "sriov_drivers_autoprobe", pf);
		if (r < 0)
			return vh_err_set(e, r,
					  "%s: cannot write 0 to sriov_drivers_autoprobe: %s.", pf,
					  errname(r));
	}
	snprintf(num, sizeof(num), "%u", v->count);
	r = vh_sys_write(en->sys, num, VH_WRITE_BOUNDED, DEV "sriov_numvfs", pf);
	if (r < 0)
		return vh_err_set(
		    e, r,
		    "%s: cannot create %u VFs (sriov_numvfs: %s); see the kernel log (the PF driver decides).",
		    pf, v->count, errname(r));
	logf_(en, VH_MSG_SRIOV, pf, LOG_INFO, "%s: %s: created %u VFs", dname, pf, v->count);
	return 0;
}

/* The directory of @tpl ({card}, {n} replaced) under @pf's device
 * directory, as a kernel path; -ENOENT when the PF has no DRM card but the
 * template wants one. */
static int vf_dir(struct vh_engine *en, const char *pf, const char *tpl, unsigned n, char *out,
		  size_t len)
{
	char card[64] = "", **ents = NULL;
	struct vh_buf b = {0};
	int k;

	if (strstr(tpl, "{card}")) {
		k = vh_sys_list(en->sys, &ents, DEV "drm", pf);
		for (int i = 0; i < k && !card[0]; i++)
			if (strncmp(ents[i], "card", 4) == 0 && ents[i][4] >= '0' &&
			    ents[i][4] <= '9' &&
			    strspn(ents[i] + 4, "0123456789") == strlen(ents[i] + 4))
				snprintf(card, sizeof(card), "%s", ents[i]);
		vh_strv_free(ents);
		if (!card[0])
			return -ENOENT;
	}
	vh_buf_printf(&b, "/sys/bus/pci/devices/%s/", pf);
	for (const char *p = tpl; *p;) {
		if (strncmp(p, "{card}", 6) == 0) {
			vh_buf_puts(&b, card);
			p += 6;
		} else if (strncmp(p, "{n}", 3) == 0) {
			vh_buf_printf(&b, "%u", n);
			p += 3;
		} else {
			vh_buf_putc(&b, *p++);
		}
	}
	k = vh_buf_failed(&b)					   ? -ENOMEM
	    : snprintf(out, len, "%s", vh_buf_str(&b)) >= (int)len ? -ERANGE
								   : 0;
	vh_buf_done(&b);
	return k;
}

/* Per-VF resource settings (the profile's, then the domain metadata's for
 * that address) of each VF hostdev, where the files exist: journaled, then
 * written. */
static bool plan_has(const struct plan *p, const struct vh_pci_addr *a)
{
	for (size_t i = 0; i < p->n; i++)
		if (vh_pci_addr_eq(&p->v[i].orig.addr, a))
			return true;
	return false;
}

/* The VF settings of the VFs in @p (a hot-plug's plan leaves out those
 * the domain has had since its start). */
static int apply_vf_settings(struct vh_engine *en, struct vh_journal *j,
			     const struct vh_domain *dom, const struct vh_report *rep,
			     const struct plan *p, const char *dname, struct vh_err *e)
{
	for (size_t i = 0; i < rep->n_devs; i++) {
		const struct vh_resolved *rd = &rep->devs[i];
		const struct vh_profile *pr = rd->profile;
		struct vh_settings set = {0};
		char pf[VH_PCI_ADDR_LEN], vf[VH_PCI_ADDR_LEN], dir[256];
		struct vh_pci_dev pfd, vfd;
		unsigned n = 0;
		int r = 0;

		if (!rd->hd->addr_ok || rd->duplicate || !(rd->vf_create || rd->dev.is_vf) ||
		    !plan_has(p, &rd->hd->addr))
			continue;
		for (size_t k = 0; pr && k < pr->vf_settings.n && r == 0; k++)
			r = vh_settings_set(&set, pr->vf_settings.v[k].name,
					    pr->vf_settings.v[k].value);
		for (size_t m = 0; m < dom->meta.n_devices && r == 0; m++)
			if (vh_pci_addr_eq(&dom->meta.devices[m].addr, &rd->hd->addr))
				for (size_t k = 0; k < dom->meta.devices[m].vf.n && r == 0; k++)
					r = vh_settings_set(&set, dom->meta.devices[m].vf.v[k].name,
							    dom->meta.devices[m].vf.v[k].value);
		if (r < 0 || !set.n) {
			vh_settings_done(&set);
			if (r < 0)
				return r;
			continue;
		}
		vh_pci_addr_format(&rd->hd->addr, vf);
		if (vh_pci_dev_read(en->sys, &rd->hd->addr, &vfd) < 0 || !vfd.is_vf ||
		    vh_pci_dev_read(en->sys, &vfd.physfn, &pfd) < 0 ||
		    vh_sriov_vf_number(&pfd, &vfd.addr, &n) < 0 || !pr || !pr->vf_dir ||
		    vf_dir(en, pfd.name, pr->vf_dir, n, dir, sizeof(dir)) < 0) {
			logf_(
			    en, VH_MSG_SRIOV, vf, LOG_NOTICE, "%s: %s: %zu VF settings skipped: %s",
			    dname, vf, set.n,
			    !pr || !pr->vf_dir
				? "its profile names no vf-settings directory"
				: "no such directory under its PF (another driver or driver version)");
			vh_settings_done(&set);
			continue;
		}
		snprintf(pf, sizeof(pf), "%s", pfd.name);
		for (size_t k = 0; k < set.n && r == 0; k++) {
			struct vh_jattr at = {0};
			char path[300];
			snprintf(path, sizeof(path), "%s/%s", dir, set.v[k].name);
			if (vh_sys_exists(en->sys, "%s", path) <= 0) {
				logf_(en, VH_MSG_SRIOV, vf, LOG_NOTICE,
				      "%s: %s: VF setting %s skipped: no %s", dname, vf,
				      set.v[k].name, path);
				continue;
			}
			snprintf(at.path, sizeof(at.path), "%s", path);
			r = vh_sys_read_str(en->sys, at.value, sizeof(at.value), "%s", path);
			if (r < 0) {
				vh_err_set(e, r, "%s: cannot read %s: %s.", vf, path, strerror(-r));
				break;
			}
			r = vh_journal_add_attr(j, &at, e);
			if (r < 0)
				break;
			r = vh_sys_write(en->sys, set.v[k].value, VH_WRITE_BOUNDED, "%s", path);
			if (r < 0) {
				vh_err_set(
				    e, r,
				    "%s: the PF driver refused %s = %s (%s): a value out of its range?",
				    vf, path, set.v[k].value, errname(r));
				break;
			}
			logf_(en, VH_MSG_SRIOV, vf, LOG_INFO, "%s: %s: %s = %s (was %s)", dname, vf,
			      set.v[k].name, set.v[k].value, at.value);
		}
		vh_settings_done(&set);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Step 1 of a prepare: refuse a domain whose metadata or UUID no journal
 * can go with. */
static int prepare_validate(const struct vh_domain *dom, bool manual, const char *dname,
			    struct vh_err *e)
{
	/* The domain asks for a reset_method no kernel takes: applying the
	 * profile's instead could be the reset that freezes the host. */
	for (size_t i = 0; i < dom->meta.n_devices; i++) {
		char a[VH_PCI_ADDR_LEN];
		if (!dom->meta.devices[i].bad_reset[0])
			continue;
		vh_pci_addr_format(&dom->meta.devices[i].addr, a);
		return vh_err_set(
		    e, -EINVAL,
		    "%s: the domain's metadata asks for reset-method '%s', which is not a list of reset methods (flr, bus, pm, ...): fix <vh:device reset-method> in its <metadata>, or remove it to use the profile's.",
		    a, dom->meta.devices[i].bad_reset);
	}
	if (!vh_uuid_valid(dom->uuid))
		return vh_err_set(
		    e, -EINVAL,
		    "The domain '%s' has no valid <uuid>; cannot keep a journal for it.", dname);
	if (vh_uuid_is_manual(dom->uuid) != manual)
		return vh_err_set(
		    e, -EINVAL,
		    "[uuid-reserved] The domain '%s' has the UUID %s, which vfio-hooks reserves for 'vfio-hooks bind': give the domain another <uuid>.",
		    dname, dom->uuid);
	return 0;
}

/* Step 2: a journal of this domain left by a crash: put those devices
 * back before starting over.  A corrupt one is the only record of the
 * original drivers: never overwrite it. */
static int prepare_undo_leftover(struct vh_engine *en, int dirfd, const struct vh_domain *dom,
				 const char *dname, struct vh_err *e)
{
	struct vh_journal j = {.fd = -1};
	int r;

	r = vh_journal_load(dirfd, dom->uuid, &j, e);
	if (r < 0 && r != -ENOENT)
		return r;
	*e = (struct vh_err){0};
	r = 0;
	if (j.domain || j.n_devs || j.uuid[0]) {
		logf_(en, VH_MSG_JOURNAL, NULL, LOG_WARNING,
		      "%s: a journal from an earlier start was left; undoing it first", dname);
		if (undo(en, dirfd, &j, false, e) == 0)
			vh_journal_remove(dirfd, &j);
		r = e->code;
	}
	vh_journal_done(&j);
	return r;
}

/* Step 3: what the host is now, under the lock: the plan from it, in
 * @p (replaced), the check's report in @fresh. */
static int prepare_recheck(struct vh_engine *en, const struct vh_domain *dom,
			   struct vh_report *fresh, struct plan *p, struct vh_err *e)
{
	int r = en->recheck(en->recheck_ud, fresh, e);

	if (r != 0)
		return r;
	plan_done(p);
	return make_plan(en, dom, fresh, p);
}

/* Step 4: refuse devices held by another domain: the other journals
 * read once for all the devices. */
static int prepare_refuse_held(struct vh_engine *en, int dirfd, const struct vh_domain *dom,
			       const struct plan *p, struct vh_err *e)
{
	struct vh_pci_addr *addrs = calloc(p->n, sizeof(*addrs));
	struct vh_journal other;
	int i, r;

	if (!addrs)
		return vh_err_set(e, -ENOMEM, "Out of memory.");
	for (size_t k = 0; k < p->n; k++)
		addrs[k] = p->v[k].orig.addr;
	i = find_holder(en, dirfd, dom->uuid, false, addrs, p->n, &other);
	free(addrs);
	if (i < 0 && i != -ENOENT)
		return vh_err_set(
		    e, i,
		    "Cannot tell whether another domain holds the devices (the journals in /run/vfio-hooks: %s).",
		    strerror(-i));
	if (i < 0)
		return 0;
	r = vh_err_set(
	    e, -EBUSY,
	    "[device-busy] %s%s is held by domain '%s' (journal /run/vfio-hooks/%s). If that domain is not running, run 'vfio-hooks recover'.",
	    p->v[i].name,
	    p->v[i].orig.role == VH_ROLE_COMPANION ? " (an IOMMU group companion)" : "",
	    other.domain ? other.domain : "?", other.file);
	vh_journal_done(&other);
	return r;
}

/* The devices of a plan, unit by unit (lib/units.h): the actions of a
 * unit in the plan's order, units at once.  After a failure no unit
 * starts another device; the error is the first in the plan's order. */
struct prep_run {
	struct vh_journal *j;
	struct plan *p;
	const char *dname;
	size_t *unit;
	int *res;
	struct vh_err *errs;
	atomic_bool failed;
};

static void prep_unit(struct vh_engine *en, size_t u, void *ctx)
{
	struct prep_run *c = ctx;

	for (size_t i = 0; i < c->p->n; i++) {
		if (c->unit[i] != u)
			continue;
		if (atomic_load(&c->failed))
			return;
		c->res[i] = prepare_one(en, c->j, &c->p->v[i], c->dname, &c->errs[i]);
		if (c->res[i] < 0) {
			atomic_store(&c->failed, true);
			return;
		}
	}
}

static int prepare_devices(struct vh_engine *en, struct vh_journal *j, struct plan *p,
			   const char *dname, struct vh_err *e)
{
	_cleanup_free_ struct vh_pci_addr *addrs = calloc(p->n ?: 1, sizeof(*addrs));
	_cleanup_free_ size_t *unit = calloc(p->n ?: 1, sizeof(*unit));
	_cleanup_free_ int *res = calloc(p->n ?: 1, sizeof(*res));
	_cleanup_free_ struct vh_err *errs = calloc(p->n ?: 1, sizeof(*errs));
	struct prep_run c = {
	    .j = j, .p = p, .dname = dname, .unit = unit, .res = res, .errs = errs};
	int n_units;

	if (!addrs || !unit || !res || !errs)
		return vh_err_set(e, -ENOMEM, "Out of memory.");
	for (size_t i = 0; i < p->n; i++)
		addrs[i] = p->v[i].orig.addr;
	n_units = units_of(en, addrs, p->n, unit);
	if (n_units < 0)
		return vh_err_set(e, n_units, "Out of memory.");
	run_units(en, (size_t)n_units, prep_unit, &c);
	for (size_t i = 0; i < p->n; i++)
		if (res[i] < 0) {
			*e = errs[i];
			return res[i];
		}
	return 0;
}

/* Step 6: the writes, each journaled first: VFs created, devices moved,
 * VF settings written. */
static int prepare_apply(struct vh_engine *en, struct vh_journal *j, const struct vh_domain *dom,
			 const struct vh_report *rep, struct plan *p, const char *dname,
			 struct vh_err *e)
{
	int r = 0;

	for (size_t i = 0; i < p->n_vfs && r == 0; i++)
		r = create_vfs(en, j, &p->vfs[i], dname, e);
	if (r == 0)
		r = prepare_devices(en, j, p, dname, e);
	if (r == 0)
		r = apply_vf_settings(en, j, dom, rep, p, dname, e);
	return r;
}

/* Step 7, on failure: undo what the journal holds; a roll-back that
 * cannot finish leaves the journal for recover. */
static void prepare_roll_back(struct vh_engine *en, int dirfd, struct vh_journal *j,
			      const char *dname, const struct vh_err *e)
{
	struct vh_err ue = {0};

	logf_(en, VH_MSG_ROLLBACK, NULL, LOG_ERR, "%s: %s; rolling back", dname, e->msg);
	if (undo(en, dirfd, j, false, &ue) == 0)
		vh_journal_remove(dirfd, j);
	else
		logf_(
		    en, VH_MSG_ROLLBACK, NULL, LOG_ERR,
		    "%s: roll-back incomplete: %s; the journal /run/vfio-hooks/%s keeps what is left",
		    dname, ue.msg, j->file);
}

int vh_engine_prepare(struct vh_engine *en, const struct vh_domain *dom,
		      const struct vh_report *rep, struct vh_err *e)
{
	struct plan p = {0};
	struct state s;
	struct vh_journal j = {.fd = -1};
	struct vh_report fresh = {0};
	const char *dname = dom->name ? dom->name : "?";
	int r;

	/* Without a report of the caller's, the check runs once, under the
	 * lock (en->recheck).  With one: nothing to do as of that check, no
	 * lock taken. */
	if (!rep && !en->recheck)
		return vh_err_set(e, -EINVAL, "No check of the domain.");
	if (rep) {
		r = make_plan(en, dom, rep, &p);
		if (r < 0 || p.n == 0) {
			plan_done(&p);
			return r;
		}
	}
	/* Step 1: a domain a journal can go with. */
	r = prepare_validate(dom, en->manual, dname, e);
	if (r < 0) {
		plan_done(&p);
		return r;
	}
	r = open_state(en, &s, e);
	if (r < 0) {
		plan_done(&p);
		return r;
	}
	/* Step 2: under the lock, a leftover journal undone first. */
	r = prepare_undo_leftover(en, s.dirfd, dom, dname, e);
	if (r != 0)
		goto out;
	/* Step 3: the plan from the host as it is now. */
	if (en->recheck) {
		r = prepare_recheck(en, dom, &fresh, &p, e);
		if (r != 0 || p.n == 0)
			goto out;
		rep = &fresh;
	}
	/* Step 4: no device held by another domain. */
	r = prepare_refuse_held(en, s.dirfd, dom, &p, e);
	if (r < 0)
		goto out;
	/* Step 5: the journal, before the first write. */
	r = vh_journal_create(s.dirfd, dom->uuid, dname, &j, e);
	if (r < 0)
		goto out;
	/* Every device's state as the check under the lock read it, before
	 * the first write: no write of ours to one device changes another's
	 * driver, driver_override or reset_method (VFs to be created have
	 * none; a device that vanishes meanwhile is read again).  Not a
	 * caller's report: it was read before the lock, and another process
	 * may have moved a device since. */
	for (size_t i = 0; rep == &fresh && i < p.n; i++)
		p.v[i].have_orig = state_seen(en, &p.v[i].orig, p.v[i].seen);
	/* Step 6: apply; step 7: roll back what was done on failure. */
	r = prepare_apply(en, &j, dom, rep, &p, dname, e);
	if (r < 0) {
		prepare_roll_back(en, s.dirfd, &j, dname, e);
		goto out;
	}
	r = vh_journal_mark(&j, "prepared", e);
out:
	if (fresh.dom)
		vh_report_done(&fresh);
	vh_journal_done(&j);
	close_state(&s);
	plan_done(&p);
	return r;
}

int vh_engine_verify(struct vh_engine *en, const struct vh_domain *dom, const struct vh_report *rep,
		     struct vh_err *e)
{
	struct plan p = {0};
	struct state s = {.dirfd = -1, .lockfd = -1};
	bool writes = false;
	int r = make_plan(en, dom, rep, &p);

	/* A reset_method to put back is written under the state lock, read
	 * again there: a release or an unbind of another process must not
	 * interleave with it. */
	for (size_t i = 0; r == 0 && i < p.n; i++)
		writes |= p.v[i].set_reset;
	if (r == 0 && writes)
		r = open_state(en, &s, e);
	for (size_t i = 0; r == 0 && i < p.n; i++) {
		struct action *a = &p.v[i];
		struct vh_jdev cur = {0};
		r = !writes && state_seen(en, &cur, a->seen) ? 0 : read_state(en, &cur, a->name);
		if (r < 0) {
			vh_err_set(e, r, "%s: cannot read its state: %s.", a->name, strerror(-r));
			break;
		}
		if (en->pciback ? !streq(cur.driver, VH_PCIBACK) : !strstr(cur.driver, "vfio")) {
			r = vh_err_set(
			    e, -EBUSY,
			    "%s is on driver %s, not on %s, as %s is about to open it%s%s%s.",
			    a->name, cur.driver[0] ? cur.driver : "(none)",
			    en->pciback ? "pciback" : "a vfio driver", en->pciback ? "Xen" : "QEMU",
			    a->orig.managed ? "" : " (managed='no': bind it to ",
			    a->orig.managed ? ""
			    : en->pciback   ? "pciback first ('xl pci-assignable-add')"
					    : "vfio-pci first",
			    a->orig.managed
				? ""
				: ", or let vfio-hooks do it with bind_unmanaged = yes)");
			break;
		}
		if (a->set_reset && cur.has_reset_method &&
		    !streq(cur.reset_method, a->reset_value)) {
			r = write_reset_method(en, a->name, a->reset_value, e);
			if (r == 0)
				logf_(en, VH_MSG_DRIFT, a->name, LOG_WARNING,
				      "%s: reset_method was '%s' again; set to '%s'", a->name,
				      cur.reset_method, a->reset_value);
		}
	}
	close_state(&s);
	plan_done(&p);
	return r;
}

/* Release with the state lock held (@s open). */
static int release_locked(struct vh_engine *en, struct state *s, const char *uuid, struct vh_err *e)
{
	struct vh_journal j = {.fd = -1};
	int r, left;

	r = vh_journal_load(s->dirfd, uuid, &j, e);
	if (r < 0)
		return r;
	/* Reopen for marking failures, and the devices given back as gone:
	 * when one cannot be, the journal that stays holds it alone, and
	 * the others are free for other domains at once. */
	j.fd = openat(s->dirfd, j.file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	left = undo(en, s->dirfd, &j, j.fd >= 0, e);
	if (left == 0) {
		vh_journal_remove(s->dirfd, &j);
		logf_(en, VH_MSG_RELEASED, NULL, LOG_INFO, "%s: every device restored",
		      j.domain ? j.domain : uuid);
	}
	vh_journal_done(&j);
	return left;
}

int vh_engine_release(struct vh_engine *en, const char *uuid, struct vh_err *e)
{
	struct state s;
	char why[256];
	int r;

	/* No state directory means nothing was ever prepared. */
	r = vh_sys_state_dir(en->sys, &s.dirfd, why, sizeof(why));
	if (r < 0)
		return vh_err_set(e, r, "Cannot use the state directory: %s.", why);
	close(s.dirfd);
	r = open_state(en, &s, e);
	if (r < 0)
		return r;
	r = release_locked(en, &s, uuid, e);
	close_state(&s);
	return r;
}

int vh_engine_reconnect(struct vh_engine *en, const char *uuid, struct vh_err *e)
{
	struct vh_journal j;
	char why[256];
	int dirfd, r;

	r = vh_sys_state_dir(en->sys, &dirfd, why, sizeof(why));
	if (r < 0)
		return vh_err_set(e, r, "Cannot use the state directory: %s.", why);
	r = vh_journal_load(dirfd, uuid, &j, e);
	close(dirfd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < j.n_devs; i++) {
		char name[VH_PCI_ADDR_LEN], drv[64] = "";
		vh_pci_addr_format(&j.devs[i].addr, name);
		if (vh_sys_link_name(en->sys, drv, sizeof(drv), DEV "driver", name) < 0 ||
		    (j.devs[i].pciback ? !streq(drv, VH_PCIBACK) : !strstr(drv, "vfio")))
			logf_(en, VH_MSG_DRIFT, name, LOG_WARNING,
			      "%s: %s is on %s, not on %s, while the domain runs",
			      j.domain ? j.domain : uuid, name, drv[0] ? drv : "no driver",
			      j.devs[i].pciback ? "pciback" : "a vfio driver");
	}
	vh_journal_done(&j);
	return 0;
}

/* A complete journal of `vfio-hooks bind`: a binding, not a leftover. */
static bool manual_complete(struct vh_engine *en, const char *uuid)
{
	struct vh_journal j = {.fd = -1};
	char why[256];
	bool ok = false;
	int dirfd;

	if (vh_sys_state_dir(en->sys, &dirfd, why, sizeof(why)) < 0)
		return false;
	if (vh_journal_load(dirfd, uuid, &j, NULL) == 0 && j.prepared)
		ok = true;
	vh_journal_done(&j);
	close(dirfd);
	return ok;
}

int vh_engine_manual_bound(struct vh_engine *en, const struct vh_pci_addr *a)
{
	char uuid[37];

	vh_manual_uuid(a, uuid);
	return manual_complete(en, uuid) ? 1 : 0;
}

/* unbind, the state lock held from the holder check to the last write. */
static int unbind_locked(struct vh_engine *en, struct state *s, const struct vh_pci_addr *a,
			 bool reset_default, struct vh_err *e)
{
	char name[VH_PCI_ADDR_LEN], uuid[37];
	struct vh_journal other;
	struct vh_jdev cur = {0};
	int r;

	vh_pci_addr_format(a, name);
	vh_manual_uuid(a, uuid);
	r = find_holder(en, s->dirfd, uuid, false, a, 1, &other);
	if (r < 0 && r != -ENOENT)
		return vh_err_set(
		    e, r,
		    "%s: cannot tell whether a domain holds it (the journals in /run/vfio-hooks: %s).",
		    name, strerror(-r));
	if (r >= 0) {
		r = vh_err_set(
		    e, -EBUSY,
		    "[device-busy] %s is held by domain '%s' (journal /run/vfio-hooks/%s): it goes back when that domain stops.",
		    name, other.domain ? other.domain : "?", other.file);
		vh_journal_done(&other);
		return r;
	}
	r = vh_journal_load(s->dirfd, uuid, &other, NULL);
	if (r == 0) {
		vh_journal_done(&other);
		return release_locked(en, s, uuid, e);
	}
	/* Nothing recorded (bound at boot by the udev rule, or by hand). */
	if (vh_sys_exists(en->sys, DEV, name) <= 0)
		return vh_err_set(e, -ENODEV, "%s: no such PCI device (/sys/bus/pci/devices/%s).",
				  name, name);
	r = read_state(en, &cur, name);
	if (r < 0)
		return vh_err_set(e, r, "%s: cannot read its state: %s.", name, strerror(-r));
	if (reset_default && cur.has_reset_method) {
		r = write_reset_method(en, name, "default", e);
		if (r < 0)
			return 1;
	}
	if (!strstr(cur.driver, "vfio") && !strstr(cur.override, "vfio"))
		return 0;
	r = move_driver(en, name, "", "", e);
	if (r < 0)
		return 1;
	r = vh_sys_write(en->sys, name, VH_WRITE_BOUNDED, "/sys/bus/pci/drivers_probe");
	cur.driver[0] = '\0';
	vh_sys_link_name(en->sys, cur.driver, sizeof(cur.driver), DEV "driver", name);
	logf_(en, VH_MSG_UNBOUND, name, LOG_INFO, "%s: given back to the host: %s", name,
	      cur.driver[0] ? cur.driver : "no driver took it");
	return 0;
}

int vh_engine_unbind(struct vh_engine *en, const struct vh_pci_addr *a, bool reset_default,
		     struct vh_err *e)
{
	struct state s;
	int r;

	r = open_state(en, &s, e);
	if (r < 0)
		return r;
	r = unbind_locked(en, &s, a, reset_default, e);
	close_state(&s);
	return r;
}

int vh_engine_boot_bind(struct vh_engine *en, const struct vh_pci_addr *a, const char *target,
			const char *reset_method, struct vh_err *e)
{
	char name[VH_PCI_ADDR_LEN], cur[64] = "";
	struct state s;
	int r;

	vh_pci_addr_format(a, name);
	if (vh_sys_exists(en->sys, DEV, name) <= 0)
		return vh_err_set(e, -ENODEV, "%s: no such PCI device (/sys/bus/pci/devices/%s).",
				  name, name);
	/* Under the state lock: the udev rule's run and the boot unit's
	 * (vfio-hooks-bind.service) may come at once for the same device,
	 * and a hook may be preparing. */
	r = open_state(en, &s, e);
	if (r < 0)
		return r;
	vh_sys_link_name(en->sys, cur, sizeof(cur), DEV "driver", name);
	r = move_driver(en, name, target, target, e);
	if (r < 0)
		goto out;
	/* Said either way: which run of the boot (the unit's, the rule's)
	 * found what is in the journal. */
	if (!streq(cur, target))
		logf_(en, VH_MSG_BOOT_BIND, name, LOG_INFO, "%s: on %s at boot%s%s", name, target,
		      cur[0] ? ", taken from " : "", cur[0] ? cur : "");
	else
		logf_(en, VH_MSG_BOOT_BIND, name, LOG_INFO, "%s: already on %s at boot", name,
		      target);
	if (reset_method && vh_sys_exists(en->sys, DEV "reset_method", name) > 0) {
		char now[128] = "";
		vh_sys_read_str(en->sys, now, sizeof(now), DEV "reset_method", name);
		if (streq(now, reset_method))
			goto out;
		r = write_reset_method(en, name, reset_method, e);
		if (r < 0)
			goto out;
		logf_(en, VH_MSG_BOOT_BIND, name, LOG_INFO, "%s: reset_method '%s'", name,
		      reset_method);
	}
out:
	close_state(&s);
	return r;
}

/* A /dev/vfio node some process has open: a /proc/PID/fd link's target
 * (the real path, whatever the root). */
struct vfio_open {
	char node[64];
	char pid[16];
};

/* Every /dev/vfio/N and /dev/vfio/devices/vfioN open on the host, from
 * /proc/PID/fd through the gateway.  A process whose fds cannot be read
 * (gone meanwhile) is skipped; no /proc (a sysroot without one) is
 * nothing open. */
static int vfio_opens(struct vh_engine *en, struct vfio_open **ret, size_t *ret_n)
{
	char **pids = NULL;
	struct vfio_open *v = NULL;
	size_t n = 0;
	int np = vh_sys_list(en->sys, &pids, "/proc");

	for (int i = 0; i < np; i++) {
		char **fds = NULL, target[64];
		int nf;
		if (strspn(pids[i], "0123456789") != strlen(pids[i]) ||
		    strlen(pids[i]) >= sizeof(v->pid))
			continue;
		nf = vh_sys_list(en->sys, &fds, "/proc/%s/fd", pids[i]);
		for (int k = 0; k < nf; k++) {
			struct vfio_open *nv;
			if (vh_sys_readlink(en->sys, target, sizeof(target), "/proc/%s/fd/%s",
					    pids[i], fds[k]) < 0 ||
			    strncmp(target, "/dev/vfio/", 10) != 0)
				continue;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				vh_strv_free(fds);
				vh_strv_free(pids);
				free(v);
				return -ENOMEM;
			}
			v = nv;
			vh_strlcpy(v[n].node, target, sizeof(v[n].node));
			vh_strlcpy(v[n].pid, pids[i], sizeof(v[n].pid));
			n++;
		}
		vh_strv_free(fds);
	}
	vh_strv_free(pids);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Whether a process has the VFIO group (or device) node of a device of @j
 * open: its domain runs.  The reason goes to @why. */
static bool journal_in_use(struct vh_engine *en, const struct vh_journal *j,
			   const struct vfio_open *v, size_t n, char *why, size_t wn)
{
	for (size_t d = 0; d < j->n_devs; d++) {
		char name[VH_PCI_ADDR_LEN], grp[32] = "", node[64], **ents = NULL;
		int ne;
		vh_pci_addr_format(&j->devs[d].addr, name);
		if (vh_sys_link_name(en->sys, grp, sizeof(grp), DEV "iommu_group", name) < 0)
			grp[0] = '\0';
		ne = vh_sys_list(en->sys, &ents, DEV "vfio-dev", name);
		for (size_t i = 0; i < n; i++) {
			bool hit = false;
			snprintf(node, sizeof(node), "/dev/vfio/%s", grp);
			hit = grp[0] && streq(v[i].node, node);
			for (int k = 0; !hit && k < ne; k++) {
				snprintf(node, sizeof(node), "/dev/vfio/devices/%s", ents[k]);
				hit = streq(v[i].node, node);
			}
			if (hit) {
				char comm[32] = "";
				vh_sys_read_str(en->sys, comm, sizeof(comm), "/proc/%s/comm",
						v[i].pid);
				snprintf(why, wn, "process %s%s%s%s holds %s of %s", v[i].pid,
					 comm[0] ? " (" : "", comm, comm[0] ? ")" : "", v[i].node,
					 name);
				vh_strv_free(ents);
				return true;
			}
		}
		vh_strv_free(ents);
	}
	return false;
}

int vh_engine_recover(struct vh_engine *en, bool force, unsigned *ret_kept, struct vh_err *e)
{
	char **uuids = NULL, why[256];
	struct vfio_open *opens = NULL;
	size_t n_opens = 0;
	unsigned kept = 0;
	int dirfd, n, left = 0;

	n = vh_sys_state_dir(en->sys, &dirfd, why, sizeof(why));
	if (n < 0)
		return vh_err_set(e, n, "Cannot use the state directory: %s.", why);
	n = vh_journal_list(dirfd, &uuids);
	if (n > 0 && !force && vfio_opens(en, &opens, &n_opens) < 0) {
		close(dirfd);
		vh_strv_free(uuids);
		return vh_err_set(e, -ENOMEM, "Out of memory.");
	}
	for (int i = 0; i < n; i++) {
		struct vh_journal j = {.fd = -1};
		char use[192];
		bool running;
		int r;
		if (vh_uuid_is_manual(uuids[i]) && manual_complete(en, uuids[i])) {
			logf_(
			    en, VH_MSG_RECOVER_KEPT, NULL, LOG_INFO,
			    "%s: kept: a binding made by 'vfio-hooks bind' ('vfio-hooks unbind' gives it back)",
			    uuids[i]);
			continue;
		}
		/* A domain still running keeps its devices: its QEMU has
		 * their VFIO group open. */
		running = !force && vh_journal_load(dirfd, uuids[i], &j, NULL) == 0 &&
			  journal_in_use(en, &j, opens, n_opens, use, sizeof(use));
		if (running) {
			kept++;
			logf_(
			    en, VH_MSG_RECOVER_KEPT, NULL, LOG_WARNING,
			    "%s (journal /run/vfio-hooks/%s): kept: the domain is running (%s); it gives its devices back when it stops ('vfio-hooks recover --force' undoes it anyway)",
			    j.domain && j.domain[0] ? j.domain : uuids[i], j.file, use);
		}
		vh_journal_done(&j);
		if (running)
			continue;
		r = vh_engine_release(en, uuids[i], e);
		if (r > 0)
			left += r;
		else if (r < 0 && r != -ENOENT)
			left++;
	}
	close(dirfd);
	free(opens);
	vh_strv_free(uuids);
	if (n >= 0 && ret_kept)
		*ret_kept = kept;
	return n < 0 ? n : left;
}

/* --- hot-plug --- */

static bool addr_in(const struct vh_pci_addr *v, size_t n, const struct vh_pci_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (vh_pci_addr_eq(&v[i], a))
			return true;
	return false;
}

/* The record of @a in @j, or NULL. */
static const struct vh_jdev *journal_dev(const struct vh_journal *j, const struct vh_pci_addr *a)
{
	for (size_t i = 0; i < j->n_devs; i++)
		if (vh_pci_addr_eq(&j->devs[i].addr, a))
			return &j->devs[i];
	return NULL;
}

/* Whether @a is in the IOMMU group of one of the devices @addrs. */
static bool in_groups_of(const struct vh_report *rep, const struct vh_pci_addr *addrs, size_t n,
			 const struct vh_pci_addr *a)
{
	for (size_t i = 0; i < rep->n_devs; i++) {
		const struct vh_resolved *rd = &rep->devs[i];
		if (rd->hd->addr_ok && addr_in(addrs, n, &rd->hd->addr) &&
		    addr_in(rd->group, (size_t)(rd->n_group > 0 ? rd->n_group : 0), a))
			return true;
	}
	return false;
}

/* What a hot-plug of @addrs adds to a running domain's journal @j: those
 * devices, and the companions of their groups, that @j does not hold. */
static void plan_keep_new(struct plan *p, const struct vh_report *rep, const struct vh_journal *j,
			  const struct vh_pci_addr *addrs, size_t n)
{
	size_t k = 0, kv = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct vh_pci_addr *a = &p->v[i].orig.addr;
		bool ours = p->v[i].orig.role == VH_ROLE_HOSTDEV ? addr_in(addrs, n, a)
								 : in_groups_of(rep, addrs, n, a);
		if (ours && !journal_dev(j, a))
			p->v[k++] = p->v[i];
	}
	p->n = k;
	for (size_t i = 0; i < p->n_vfs; i++)
		for (size_t d = 0; d < rep->n_devs; d++)
			if (rep->devs[d].vf_create && addr_in(addrs, n, &rep->devs[d].hd->addr) &&
			    vh_pci_addr_eq(&rep->devs[d].vf_pf, &p->vfs[i].pf)) {
				p->vfs[kv++] = p->vfs[i];
				break;
			}
	p->n_vfs = kv;
}

/* The records of @j from @n_devs, @n_attrs, @n_sriov on, as a journal of
 * their own writing to @j's file: what a roll-back or a detach undoes. */
static int journal_part(const struct vh_journal *j, size_t n_devs, size_t n_attrs, size_t n_sriov,
			struct vh_journal *ret)
{
	*ret = (struct vh_journal){.fd = j->fd};
	snprintf(ret->uuid, sizeof(ret->uuid), "%s", j->uuid);
	snprintf(ret->file, sizeof(ret->file), "%s", j->file);
	ret->n_devs = j->n_devs - n_devs;
	ret->n_attrs = j->n_attrs - n_attrs;
	ret->n_sriov = j->n_sriov - n_sriov;
	ret->devs = calloc(ret->n_devs + 1, sizeof(*ret->devs));
	ret->attrs = calloc(ret->n_attrs + 1, sizeof(*ret->attrs));
	ret->sriov = calloc(ret->n_sriov + 1, sizeof(*ret->sriov));
	if (!ret->devs || !ret->attrs || !ret->sriov) {
		ret->fd = -1;
		vh_journal_done(ret);
		return -ENOMEM;
	}
	if (ret->n_devs)
		memcpy(ret->devs, j->devs + n_devs, ret->n_devs * sizeof(*ret->devs));
	if (ret->n_attrs)
		memcpy(ret->attrs, j->attrs + n_attrs, ret->n_attrs * sizeof(*ret->attrs));
	if (ret->n_sriov)
		memcpy(ret->sriov, j->sriov + n_sriov, ret->n_sriov * sizeof(*ret->sriov));
	return 0;
}

/* Undo a part of a running domain's journal, each device given back
 * marked gone; the file stays @j's.  Returns the count left. */
static int undo_part(struct vh_engine *en, int dirfd, struct vh_journal *part, struct vh_err *e)
{
	int left = undo(en, dirfd, part, true, e);

	part->fd = -1; /* @j's */
	vh_journal_done(part);
	return left;
}

/* Whether @p would create VFs or write VF settings: not while the domain
 * runs (their records are the PF's, not the device's: a detach could not
 * give back only this device's share). */
static bool plan_touches_vfs(const struct vh_domain *dom, const struct vh_report *rep,
			     const struct plan *p)
{
	if (p->n_vfs)
		return true;
	for (size_t i = 0; i < rep->n_devs; i++) {
		const struct vh_resolved *rd = &rep->devs[i];
		bool settings = rd->profile && rd->profile->vf_settings.n;
		if (!rd->hd->addr_ok || !rd->dev.is_vf || !plan_has(p, &rd->hd->addr))
			continue;
		for (size_t m = 0; m < dom->meta.n_devices; m++)
			settings |= vh_pci_addr_eq(&dom->meta.devices[m].addr, &rd->hd->addr) &&
				    dom->meta.devices[m].vf.n;
		if (settings)
			return true;
	}
	return false;
}

/* Devices @addrs the journal holds already: one a give-back left half
 * done refuses the attach (it is not as prepared any more); one held as
 * an IOMMU group companion becomes a hostdev (@promote, @n_promote). */
static int attach_held(const struct vh_journal *j, const struct vh_pci_addr *addrs, size_t n,
		       struct vh_pci_addr *promote, size_t *n_promote, struct vh_err *e)
{
	*n_promote = 0;
	for (size_t i = 0; i < n; i++) {
		const struct vh_jdev *d = journal_dev(j, &addrs[i]);
		char name[VH_PCI_ADDR_LEN];
		if (!d)
			continue;
		vh_pci_addr_format(&addrs[i], name);
		if (d->failed)
			return vh_err_set(
			    e, -EBUSY,
			    "%s: an earlier give-back of it did not complete (the journal /run/vfio-hooks/%s marks it failed): run 'vfio-hooks detach-device' for it again, or stop the domain, before attaching it.",
			    name, j->file);
		if (d->role == VH_ROLE_COMPANION)
			promote[(*n_promote)++] = addrs[i];
	}
	return 0;
}

int vh_engine_attach(struct vh_engine *en, const struct vh_domain *dom, const struct vh_report *rep,
		     const struct vh_pci_addr *addrs, size_t n, size_t *ret_prepared,
		     struct vh_err *e)
{
	struct plan p = {0};
	struct state s;
	struct vh_journal j = {.fd = -1};
	struct vh_report fresh = {0};
	struct vh_pci_addr *promote = NULL;
	const char *dname = dom->name ? dom->name : "?";
	size_t n0, a0, s0, n_promote = 0;
	int r;

	*ret_prepared = 0;
	if (!rep && !en->recheck)
		return vh_err_set(e, -EINVAL, "No check of the domain.");
	r = prepare_validate(dom, false, dname, e);
	if (r < 0)
		return r;
	promote = calloc(n + 1, sizeof(*promote));
	if (!promote)
		return vh_err_set(e, -ENOMEM, "Out of memory.");
	r = open_state(en, &s, e);
	if (r < 0) {
		free(promote);
		return r;
	}
	/* The check and the plan under the lock; the journal of the
	 * domain's start (if any) is kept, never undone: it runs. */
	if (en->recheck) {
		r = en->recheck(en->recheck_ud, &fresh, e);
		if (r != 0)
			goto out;
		rep = &fresh;
	}
	r = make_plan(en, dom, rep, &p);
	if (r < 0)
		goto out;
	r = vh_journal_load(s.dirfd, dom->uuid, &j, e);
	if (r < 0 && r != -ENOENT)
		goto out;
	r = attach_held(&j, addrs, n, promote, &n_promote, e);
	if (r < 0)
		goto out;
	plan_keep_new(&p, rep, &j, addrs, n);
	vh_journal_done(&j);
	/* A managed device hot-plugged is libvirt's to bind: detach-device
	 * waits for libvirt to give it back. */
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].orig.managed)
			p.v[i].bind = false;
	if (p.n == 0 && p.n_vfs == 0 && n_promote == 0)
		goto out; /* held already: an attach that did not finish */
	if (plan_touches_vfs(dom, rep, &p)) {
		r = vh_err_set(
		    e, -EOPNOTSUPP,
		    "%s: a VF to create, or with per-VF settings, cannot be hot-plugged by vfio-hooks (its PF's records would outlive a detach): add it with --config and start the domain again.",
		    dname);
		goto out;
	}
	r = prepare_refuse_held(en, s.dirfd, dom, &p, e);
	if (r < 0)
		goto out;
	r = vh_journal_open_append(s.dirfd, dom->uuid, dname, &j, e);
	if (r < 0)
		goto out;
	for (size_t i = 0; r == 0 && i < n_promote; i++)
		r = vh_journal_set_role(&j, &promote[i], VH_ROLE_HOSTDEV, e);
	if (r < 0)
		goto out;
	for (size_t i = 0; rep == &fresh && i < p.n; i++)
		p.v[i].have_orig = state_seen(en, &p.v[i].orig, p.v[i].seen);
	n0 = j.n_devs, a0 = j.n_attrs, s0 = j.n_sriov;
	r = prepare_apply(en, &j, dom, rep, &p, dname, e);
	if (r < 0) {
		struct vh_journal part;
		struct vh_err ue = {0};
		logf_(en, VH_MSG_ROLLBACK, NULL, LOG_ERR, "%s: %s; rolling back the hot-plug",
		      dname, e->msg);
		if (journal_part(&j, n0, a0, s0, &part) < 0 ||
		    undo_part(en, s.dirfd, &part, &ue) != 0)
			logf_(
			    en, VH_MSG_ROLLBACK, NULL, LOG_ERR,
			    "%s: roll-back incomplete: %s; the journal /run/vfio-hooks/%s keeps what is left for the domain's release",
			    dname, ue.msg[0] ? ue.msg : "out of memory", j.file);
		goto out;
	}
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].orig.role == VH_ROLE_HOSTDEV) {
			(*ret_prepared)++;
			logf_(en, VH_MSG_HOTPLUG, p.v[i].name, LOG_INFO,
			      "%s: %s prepared for hot-plug (journal /run/vfio-hooks/%s)", dname,
			      p.v[i].name, j.file);
		}
out:
	if (fresh.dom)
		vh_report_done(&fresh);
	free(promote);
	vh_journal_done(&j);
	close_state(&s);
	plan_done(&p);
	return r;
}

/* The IOMMU group of @a as its number's text, "" when it has none. */
static void group_of(struct vh_engine *en, const struct vh_pci_addr *a, char *out, size_t n)
{
	char name[VH_PCI_ADDR_LEN];

	vh_pci_addr_format(a, name);
	if (vh_sys_link_name(en->sys, out, n, DEV "iommu_group", name) < 0)
		out[0] = '\0';
}

/* Whether companion @c goes with the devices @addrs: it is in one's
 * group, and no other hostdev of @j is. */
static bool companion_goes(struct vh_engine *en, const struct vh_journal *j,
			   const struct vh_jdev *c, const struct vh_pci_addr *addrs, size_t n)
{
	char g[32], o[32];
	bool goes = false;

	group_of(en, &c->addr, g, sizeof(g));
	if (!g[0])
		return false;
	for (size_t i = 0; i < j->n_devs; i++) {
		if (j->devs[i].role != VH_ROLE_HOSTDEV)
			continue;
		group_of(en, &j->devs[i].addr, o, sizeof(o));
		if (!streq(o, g))
			continue;
		if (!addr_in(addrs, n, &j->devs[i].addr))
			return false;
		goes = true;
	}
	return goes;
}

/* Whether a hostdev of @j not in @addrs shares @d's IOMMU group: then @d
 * cannot leave vfio (the group stays the domain's), and it stays as a
 * companion. */
static bool group_kept(struct vh_engine *en, const struct vh_journal *j, const struct vh_jdev *d,
		       const struct vh_pci_addr *addrs, size_t n)
{
	char g[32], o[32];

	group_of(en, &d->addr, g, sizeof(g));
	if (!g[0])
		return false;
	for (size_t i = 0; i < j->n_devs; i++) {
		if (j->devs[i].role != VH_ROLE_HOSTDEV || addr_in(addrs, n, &j->devs[i].addr))
			continue;
		group_of(en, &j->devs[i].addr, o, sizeof(o));
		if (streq(o, g))
			return true;
	}
	return false;
}

int vh_engine_detach(struct vh_engine *en, const char *uuid, const struct vh_pci_addr *addrs,
		     size_t n, struct vh_err *e)
{
	struct state s;
	struct vh_journal j = {.fd = -1}, part = {.fd = -1};
	struct vfio_open *opens = NULL;
	size_t n_opens = 0, k = 0, kept = 0;
	char use[192];
	int r;

	r = open_state(en, &s, e);
	if (r < 0)
		return r;
	/* No journal, nothing held: never one made here. */
	r = vh_journal_load(s.dirfd, uuid, &j, e);
	if (r == 0) {
		vh_journal_done(&j);
		r = vh_journal_open_append(s.dirfd, uuid, "", &j, e);
	}
	if (r < 0)
		goto out;
	/* A device whose group another hostdev of the domain keeps stays
	 * on vfio, as a companion now. */
	for (size_t i = 0; i < j.n_devs; i++) {
		char name[VH_PCI_ADDR_LEN];
		if (j.devs[i].role != VH_ROLE_HOSTDEV || !addr_in(addrs, n, &j.devs[i].addr) ||
		    !group_kept(en, &j, &j.devs[i], addrs, n))
			continue;
		r = vh_journal_set_role(&j, &j.devs[i].addr, VH_ROLE_COMPANION, e);
		if (r < 0)
			goto out;
		vh_pci_addr_format(&j.devs[i].addr, name);
		logf_(
		    en, VH_MSG_HOTPLUG, name, LOG_NOTICE,
		    "%s: stays on %s as an IOMMU group companion: another device of its group is still the domain's; it is given back with that one",
		    name, j.devs[i].driver[0] ? "its vfio driver" : "vfio");
		kept++;
	}
	/* The devices to give back, in the journal's order. */
	r = journal_part(&j, 0, j.n_attrs, j.n_sriov, &part);
	if (r < 0) {
		r = vh_err_set(e, r, "Out of memory.");
		goto out;
	}
	for (size_t i = 0; i < part.n_devs; i++)
		if (part.devs[i].role == VH_ROLE_HOSTDEV
			? addr_in(addrs, n, &part.devs[i].addr)
			: companion_goes(en, &j, &part.devs[i], addrs, n))
			part.devs[k++] = part.devs[i];
	part.n_devs = k;
	if (k == 0) {
		r = kept ? 0 : -ENOENT;
		goto out;
	}
	/* Its QEMU may still have it: the guest has not let it go yet. */
	r = vfio_opens(en, &opens, &n_opens);
	if (r < 0) {
		r = vh_err_set(e, r, "Out of memory.");
		goto out;
	}
	if (journal_in_use(en, &part, opens, n_opens, use, sizeof(use))) {
		r = vh_err_set(
		    e, -EBUSY,
		    "Still in use: %s. The guest has not released the device yet; it is given back when it does (run the detach again) or when the domain stops.",
		    use);
		goto out;
	}
	r = undo_part(en, s.dirfd, &part, e);
	/* Nothing left to give back at the domain's stop: no journal. */
	if (r == 0) {
		struct vh_journal now = {.fd = -1};
		if (vh_journal_load(s.dirfd, uuid, &now, NULL) == 0 && !now.n_devs &&
		    !now.n_attrs && !now.n_sriov)
			vh_journal_remove(s.dirfd, &now);
		vh_journal_done(&now);
	}
out:
	if (part.devs || part.attrs || part.sriov) {
		part.fd = -1;
		vh_journal_done(&part);
	}
	free(opens);
	vh_journal_done(&j);
	close_state(&s);
	return r;
}

int vh_engine_vfio_user(struct vh_engine *en, const struct vh_pci_addr *a, char *why, size_t n)
{
	struct vh_jdev d = {.addr = *a};
	struct vh_journal one = {.devs = &d, .n_devs = 1, .fd = -1};
	struct vfio_open *opens = NULL;
	size_t n_opens = 0;
	bool used;

	if (vfio_opens(en, &opens, &n_opens) < 0)
		return -ENOMEM;
	used = journal_in_use(en, &one, opens, n_opens, why, n);
	free(opens);
	return used;
}
