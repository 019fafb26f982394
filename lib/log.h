/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The system log, and the only place that talks to it: one entry a
 * decision or change, with the journal's own fields (MESSAGE_ID per rule
 * and per kind of action, the domain, its UUID, the PCI address, the rule
 * id, the operation) sent through libsystemd's sd_journal_sendv, loaded at
 * run time; syslog(3) where libsystemd is absent or the send fails.  The
 * MESSAGE_IDs are those of the message catalog (vh_log_catalog), which
 * `journalctl -x` shows beside each entry.  (lib/journal.h is something
 * else: the journal of device state that makes a crash undoable.)
 */
#pragma once

#include <stdbool.h>

#include "check.h"
#include "util.h"

struct iovec;

/* The kinds of action and decision logged, each with its MESSAGE_ID and
 * catalog entry (a finding has its rule's instead). */
enum vh_msg {
	VH_MSG_NOTE,	       /* anything not below */
	VH_MSG_FAILED,	       /* an operation failed (the message says why) */
	VH_MSG_REFUSED,	       /* the refusal to start a domain */
	VH_MSG_WARN_START,     /* errors found, started anyway (mode warn) */
	VH_MSG_MODE_OFF,       /* mode off: nothing done */
	VH_MSG_UUID_RESERVED,  /* a domain with a UUID of `vfio-hooks bind`'s */
	VH_MSG_DRIVER,	       /* a device moved to (or off) a driver */
	VH_MSG_RESET_METHOD,   /* a device's reset_method set */
	VH_MSG_RESET,	       /* a device reset on release */
	VH_MSG_RESTORED,       /* a device given its driver or reset_method back */
	VH_MSG_RELEASED,       /* every device of a journal restored */
	VH_MSG_RELEASE_FAILED, /* something could not be restored */
	VH_MSG_HELD,	       /* left as it is: another journal holds it */
	VH_MSG_GONE,	       /* the device is gone: nothing to restore */
	VH_MSG_ROLLBACK,       /* prepare failed and undid what it did */
	VH_MSG_JOURNAL,	       /* an earlier start's journal, an unreadable one */
	VH_MSG_DRIFT,	       /* a running domain's device changed under it */
	VH_MSG_SRIOV,	       /* VFs created, removed, VF settings written */
	VH_MSG_UNBOUND,	       /* `vfio-hooks unbind` gave a device back */
	VH_MSG_BOOT_BIND,      /* `vfio-hooks bind --boot` bound a device */
	VH_MSG_RECOVER_KEPT,   /* `vfio-hooks recover` kept a journal */
	VH_MSG_HOTPLUG,	       /* a device attached to or detached from a running domain */
	_VH_MSG_MAX,
};
/* "driver" for VH_MSG_DRIVER ("?" when out of range). */
const char *vh_log_kind_name(enum vh_msg k);

/* One entry.  The strings are the caller's; NULL: no such field. */
struct vh_log_entry {
	int level; /* a syslog level */
	const char *message;
	enum vh_msg kind;
	bool finding; /* a finding of @rule: its MESSAGE_ID, not @kind's */
	enum vh_rule_id rule;
	const char *device; /* the PCI address */
	const char *fix;    /* the finding's fix */
};

/* Where entries go, and what each carries besides its own fields.  Owned
 * by the caller; the strings too. */
struct vh_logger {
	const char *domain, *uuid; /* the domain's name and UUID */
	const char *operation;	   /* prepare, release, start, bind, recover... */
	bool no_syslog;		   /* no syslog socket: the fallback sends nothing */
	/* The library loaded for sd_journal_sendv; NULL: libsystemd.so.0,
	 * loaded once a process (another name is loaded at each entry). */
	const char *libsystemd;
	/* Tests capture here what would go to sd_journal_sendv (returns 0
	 * or -errno) and syslog(3); NULL: the real ones. */
	int (*sendv)(void *ud, const struct iovec *iov, int n);
	void (*syslog)(void *ud, int level, const char *msg);
	void *ud;
};

/* Send @e: to the journal with its fields, else (no libsystemd, the send
 * failed) as plain text to syslog.  Returns 1 sent to the journal, 0 to
 * syslog (or nowhere: no_syslog). */
int vh_log_send(const struct vh_logger *lg, const struct vh_log_entry *e);

/* The MESSAGE_ID (32 hex digits) of a rule's findings, of a kind. */
const char *vh_log_rule_id(enum vh_rule_id r);
const char *vh_log_kind_id(enum vh_msg k);

/* The systemd message catalog of every MESSAGE_ID above (the file
 * vfio-hooks.catalog), appended to @b. */
void vh_log_catalog(struct vh_buf *b);
