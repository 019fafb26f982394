/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The crash-safe journal: one file per domain UUID in /run/vfio-hooks,
 * holding each device's original driver, driver_override and reset_method.
 * A record is written and synced before the device is touched, so a hook
 * killed at any point leaves enough for the next release, reconnect or
 * `vfio-hooks recover` to put every device back.
 *
 * Format (text, one record a line; values %XX-escaped):
 *   vfio-hooks-journal 1
 *   domain NAME
 *   uuid UUID
 *   dev ADDR role=hostdev|companion managed=0|1 driver=D|- override=O|-
 *       reset_method=M|- reset=0|1 [pciback=added|kept]
 *   sriov PF numvfs=N autoprobe=0|1|-   (VFs the hook created on PF;
 *       the values it had before)
 *   attr PATH VALUE   (a per-VF resource file under /sys/bus/pci/devices
 *       and the value it had)
 *   prepared
 *   failed ADDR REASON          (an undo that could not complete)
 *   role ADDR hostdev|companion (a device hot-plugged or hot-unplugged
 *       while the domain runs changed role; its original state stays)
 *   gone ADDR                   (given back while the domain runs: a
 *       hot-unplugged device, or a hot-plug rolled back; a later dev
 *       record of ADDR is a new original state)
 */
#pragma once

#include <stdbool.h>

#include "pci.h"
#include "sysfs.h"
#include "util.h"

/* Where the journals are, under a gateway's root (the hook's state
 * directory, vh_sys_state_dir): for messages; their paths are this file's
 * (vh_journal_exists). */
#define VH_JOURNAL_DIR "/run/vfio-hooks"

enum vh_role { VH_ROLE_HOSTDEV, VH_ROLE_COMPANION };

/* Xen: the device goes to pciback, through its slot list. */
enum vh_pciback_slot {
	VH_PCIBACK_NONE = 0, /* not for pciback (vfio) */
	VH_PCIBACK_ADDED,    /* the hook adds the slot; release removes it */
	VH_PCIBACK_KEPT,     /* the slot was listed before; it stays */
};

struct vh_jdev {
	struct vh_pci_addr addr;
	enum vh_role role;
	bool managed;
	char driver[64];	/* original driver, "" none */
	char override[64];	/* original driver_override, "" none */
	bool has_reset_method;	/* the file existed */
	char reset_method[128]; /* original value */
	bool reset_on_release;	/* the profile allows a reset on release */
	enum vh_pciback_slot pciback;
	bool failed; /* a previous undo could not restore it */
};

/* Virtual functions created on a PF: undone by setting sriov_numvfs back
 * to @numvfs (0) and sriov_drivers_autoprobe to @autoprobe. */
struct vh_jsriov {
	struct vh_pci_addr pf;
	unsigned numvfs;
	int autoprobe; /* -1: the file did not exist */
};

/* A sysfs attribute the hook changed (per-VF settings), with its value. */
struct vh_jattr {
	char path[256];
	char value[128];
};

struct vh_journal {
	char *domain;
	struct vh_jattr *attrs;
	size_t n_attrs;
	struct vh_jsriov *sriov;
	size_t n_sriov;
	char uuid[64];
	struct vh_jdev *devs;
	size_t n_devs;
	bool prepared;
	int fd;		/* open for appending while preparing, else -1 */
	char file[128]; /* name within the state directory */
};

/* Create (truncating) the journal of @uuid in @dirfd and write its header,
 * synced. */
int vh_journal_create(int dirfd, const char *uuid, const char *domain, struct vh_journal *ret,
		      struct vh_err *e);
/* Append a device record and sync it. */
int vh_journal_add(struct vh_journal *j, const struct vh_jdev *d, struct vh_err *e);
/* Append an sriov record and sync it. */
int vh_journal_add_sriov(struct vh_journal *j, const struct vh_jsriov *s, struct vh_err *e);
/* Append an attr record and sync it: @path under /sys/bus/pci/devices/. */
int vh_journal_add_attr(struct vh_journal *j, const struct vh_jattr *a, struct vh_err *e);
int vh_journal_mark(struct vh_journal *j, const char *line, struct vh_err *e);
/* Open the journal of @uuid for appending, as vh_journal_load reads it
 * (its records in @ret, the checks on the file included); a new one as
 * vh_journal_create makes it when there is none.  For a device added to a
 * running domain: its records go after those of the start. */
int vh_journal_open_append(int dirfd, const char *uuid, const char *domain, struct vh_journal *ret,
			   struct vh_err *e);
/* Append "gone ADDR", synced: @a was given back; forgotten in @j. */
int vh_journal_gone(struct vh_journal *j, const struct vh_pci_addr *a, struct vh_err *e);
/* Append "role ADDR ROLE", synced: @a (held) now has @role. */
int vh_journal_set_role(struct vh_journal *j, const struct vh_pci_addr *a, enum vh_role role,
			struct vh_err *e);
/* Load the journal of @uuid.  -ENOENT when there is none; -EBADMSG with the
 * file and line in @e when it is corrupt. */
int vh_journal_load(int dirfd, const char *uuid, struct vh_journal *ret, struct vh_err *e);
/* Whether the raw text of a journal (even a corrupt one) contains @text:
 * a device named in a journal that cannot be parsed is still taken. */
int vh_journal_mentions(int dirfd, const char *uuid, const char *text);
/* Remove the journal file (after a complete undo). */
int vh_journal_remove(int dirfd, struct vh_journal *j);
void vh_journal_done(struct vh_journal *j);
/* 1 when the journal directory exists under @sys's root, 0 when not,
 * -errno else (read without creating it, unlike vh_sys_state_dir). */
int vh_journal_dir_exists(const struct vh_sys *sys);
/* 1 when @sys's root has a journal of @uuid, 0 when not (or @uuid is NULL
 * or empty), -errno else. */
int vh_journal_exists(const struct vh_sys *sys, const char *uuid);
/* UUIDs of every journal in @dirfd (sorted); returns the count. */
int vh_journal_list(int dirfd, char ***ret);
/* The state directory's lock, waited for at most @timeout_ms. */
int vh_journal_lock(int dirfd, int timeout_ms, int *ret_fd);
