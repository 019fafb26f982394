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
#include "sysfs.h"

struct vh_engine {
	const struct vh_sys *sys;
	const struct vh_config *cfg;
	/* Where decisions and changes are reported (the front end sends them
	 * to syslog).  @level is a syslog level. */
	void (*log)(void *ud, int level, const char *msg);
	void *log_ud;
};

/* Prepare every device of a checked domain: record, apply reset_method,
 * bind unmanaged devices and group companions.  On failure everything done
 * is rolled back and @e says what failed ("[device-busy] ..." when another
 * domain holds a device). */
int vh_engine_prepare(struct vh_engine *en, const struct vh_domain *dom,
		      const struct vh_report *rep, struct vh_err *e);
/* Before QEMU opens the devices: every hostdev on a vfio driver, reset
 * quirks still in place. */
int vh_engine_verify(struct vh_engine *en, const struct vh_domain *dom,
		     const struct vh_report *rep, struct vh_err *e);
/* Undo what the journal of @uuid records.  Returns the number of devices
 * that could not be restored (left recorded in the journal), or -errno
 * when the journal cannot be read. -ENOENT: nothing to do. */
int vh_engine_release(struct vh_engine *en, const char *uuid, struct vh_err *e);
/* Daemon restarted while the domain runs: the journal must load. */
int vh_engine_reconnect(struct vh_engine *en, const char *uuid,
			struct vh_err *e);
/* Release every journal; returns the number of devices left. */
int vh_engine_recover(struct vh_engine *en, struct vh_err *e);
/* The domain (name) whose journal holds @addr, if any. */
int vh_engine_holder(struct vh_engine *en, const struct vh_pci_addr *addr,
		     char *name, size_t n, char *uuid, size_t un);
