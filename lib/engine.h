/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine that changes kernel state: binds devices to vfio drivers,
 * applies reset quirks, and gives everything back, journaled so that a
 * crash at any point can be undone.  Used by the hook and the CLI.
 */
#pragma once

#include "check.h"
#include "config.h"
#include "domain.h"
#include "journal.h"
#include "log.h"
#include "sysfs.h"

struct vh_engine {
	const struct vh_sys *sys;
	const struct vh_config *cfg;
	/* Where decisions and changes are reported, one entry each with
	 * its kind and device (the front end adds the domain and the
	 * operation, and sends it: lib/log.h). */
	void (*log)(void *ud, const struct vh_log_entry *e);
	void *log_ud;
	/* `vfio-hooks bind`: the domain is the reserved one of a device (see
	 * vh_manual_uuid); only then may prepare use a reserved UUID. */
	bool manual;
	/* Called by prepare with the state lock held (and after undoing a
	 * journal an earlier start left), before anything is planned: a
	 * fresh check of the domain into @ret, since the host may have
	 * changed since the caller's (another domain gave a group member
	 * back).  Returns 0 to go on with @ret, -errno with @e set to
	 * refuse, or 1 when it refused and said why itself (prepare then
	 * returns 1).  NULL: the caller's report is used.  With no report of
	 * the caller's (vh_engine_prepare's @rep NULL), this is the only
	 * check: one look at the host from the check to the last write. */
	int (*recheck)(void *ud, struct vh_report *ret, struct vh_err *e);
	void *recheck_ud;
	/* Xen (the libxl hook): devices go to pciback as `xl
	 * pci-assignable-add` does (lib/pciback.c), not to a vfio driver. */
	bool pciback;
	/* Set by the engine in the copies it runs in worker threads (the
	 * journal and the log are then used under its mutex); NULL in the
	 * front ends' engines. */
	struct vh_par *par;
};

/* A binding made by `vfio-hooks bind` is journaled like a domain whose
 * UUID is reserved to the device: 00000000-0000-0000-0000-00DDDDBBSSFF
 * (hex: PCI domain, bus, slot, function).  Such a journal holds nothing
 * against VMs (the device was bound for them), and `recover` leaves a
 * complete one alone. */
#define VH_MANUAL_DOMAIN "vfio-hooks bind"
void vh_manual_uuid(const struct vh_pci_addr *a, char out[37]);
bool vh_uuid_is_manual(const char *uuid);

/* Prepare every device of a checked domain: record, apply reset_method,
 * bind unmanaged devices and group companions.  On failure everything done
 * is rolled back and @e says what failed ("[device-busy] ..." when another
 * domain holds a device).  @rep NULL: en->recheck checks the domain under
 * the lock; 1 when it refused. */
int vh_engine_prepare(struct vh_engine *en, const struct vh_domain *dom,
		      const struct vh_report *rep, struct vh_err *e);
/* Before QEMU opens the devices: every hostdev on a vfio driver, reset
 * quirks still in place (put back under the state lock). */
int vh_engine_verify(struct vh_engine *en, const struct vh_domain *dom, const struct vh_report *rep,
		     struct vh_err *e);
/* Undo what the journal of @uuid records, but a device another journal
 * holds too (another domain's, a binding of `vfio-hooks bind`): that one
 * is left as it is and logged.  A journal naming a file that is not its
 * device's (a link on the way) is refused whole.  Returns the number of
 * devices that could not be restored (left recorded in the journal), or
 * -errno when the journal cannot be read. -ENOENT: nothing to do. */
int vh_engine_release(struct vh_engine *en, const char *uuid, struct vh_err *e);
/* Hot-plug: prepare the hostdevs @addrs of the running domain @dom (its
 * live XML with them added) and the companions of their groups, as
 * prepare would at its start, appending to the domain's journal (made
 * when it has none); what the journal holds already is neither prepared
 * again nor undone.  The check as for prepare (@rep, or en->recheck under
 * the lock: 1 when it refused).  On failure what it did is undone and
 * marked gone.  A device held as a group companion becomes a hostdev; one
 * whose earlier give-back failed is refused (-EBUSY); VFs to create or
 * with per-VF settings are refused (-EOPNOTSUPP).  *@ret_prepared: how
 * many of @addrs this call prepared (only those are for a caller to give
 * back when libvirt then fails). */
int vh_engine_attach(struct vh_engine *en, const struct vh_domain *dom, const struct vh_report *rep,
		     const struct vh_pci_addr *addrs, size_t n, size_t *ret_prepared,
		     struct vh_err *e);
/* Hot-unplug: give back the hostdevs @addrs of the journal of @uuid, and
 * the companions of their groups that no other hostdev of it needs, each
 * marked gone; a journal left with nothing is removed.  One whose IOMMU
 * group another hostdev of the journal shares stays, as a companion.
 * -EBUSY while a
 * process (the domain's QEMU) has one's VFIO node open; -ENOENT when the
 * journal holds none of them.  Else the count left, as release. */
int vh_engine_detach(struct vh_engine *en, const char *uuid, const struct vh_pci_addr *addrs,
		     size_t n, struct vh_err *e);
/* Daemon restarted while the domain runs: the journal must load. */
int vh_engine_reconnect(struct vh_engine *en, const char *uuid, struct vh_err *e);
/* Release every journal but a complete binding of `vfio-hooks bind` and,
 * unless @force, the journal of a domain still running: one whose device's
 * VFIO node (/dev/vfio/GROUP, /dev/vfio/devices/vfioN) a process has open,
 * as /proc/PID/fd shows.  Returns the number of devices left, the count
 * of running domains' journals kept in @ret_kept (may be NULL). */
int vh_engine_recover(struct vh_engine *en, bool force, unsigned *ret_kept, struct vh_err *e);
/* 1 when `vfio-hooks bind` bound @a and its journal is complete, else 0. */
int vh_engine_manual_bound(struct vh_engine *en, const struct vh_pci_addr *a);
/* Give @a back, under the state lock from the check to the last write:
 * refused (-EBUSY, "[device-busy] ...") while a domain holds
 * it; what `vfio-hooks bind` recorded is undone exactly (returns the count
 * of devices left, as release does); with no record, a device on a vfio
 * driver goes to whatever host driver probes it, and @reset_default puts
 * its reset_method back to the kernel's default. */
int vh_engine_unbind(struct vh_engine *en, const struct vh_pci_addr *a, bool reset_default,
		     struct vh_err *e);
/* At boot, from the udev rule `bind --persist` wrote: move @a to @target
 * (off any driver that took it first) and set @reset_method (NULL: leave
 * it).  Nothing is journaled: `unbind` gives it to the host driver. */
int vh_engine_boot_bind(struct vh_engine *en, const struct vh_pci_addr *a, const char *target,
			const char *reset_method, struct vh_err *e);
/* 1 when a process has the VFIO group or device node of @a open (a
 * running VM's QEMU), with which in @why; 0 when none, -ENOMEM. */
int vh_engine_vfio_user(struct vh_engine *en, const struct vh_pci_addr *a, char *why, size_t n);
/* The domain (name) whose journal holds @addr, if any (a binding by
 * `vfio-hooks bind` included, named VH_MANUAL_DOMAIN). */
int vh_engine_holder(struct vh_engine *en, const struct vh_pci_addr *addr, char *name, size_t n,
		     char *uuid, size_t un);
