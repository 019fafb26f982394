/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "log.h"

#include <sys/uio.h>

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "dl.h"

#define LIBSYSTEMD "libsystemd.so.0"
/* journald's socket for native entries: without it, sd_journal_sendv
 * would fail, and keep the socket it made open until exit. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
#define SUPPORT "man:vfio-hooks(8)"

/* The kinds of action: name, MESSAGE_ID, the catalog's subject and text. */
static const struct {
	const char *name, *id, *subject, *text;
} kinds[_VH_MSG_MAX] =
    {
	[VH_MSG_NOTE] = {"note", "7abb76418d5240399a11ed2df9b64b67", "vfio-hooks: a note",
			 "vfio-hooks logged what it did or found; the message says what."},
	[VH_MSG_FAILED] =
	    {"failed", "2458a77b0dd8430484775c838640d757", "vfio-hooks: an operation failed",
	     "vfio-hooks could not complete the operation @VFIO_HOOKS_OPERATION@; the message names the device, the file and the reason. Whatever the operation changed before it failed was undone, or is recorded in /run/vfio-hooks for 'vfio-hooks recover' to undo."},
	[VH_MSG_REFUSED] =
	    {"refused", "06b0dd3642a14d059330903fc104dedf", "vfio-hooks refused to start a domain",
	     "vfio-hooks refused to start domain @VFIO_HOOKS_DOMAIN@ (UUID @VFIO_HOOKS_DOMAIN_UUID@): its PCI passthrough has problems that would make the VM fail or misbehave. Each problem was logged just before this entry, with its rule (VFIO_HOOKS_RULE), its device (VFIO_HOOKS_DEVICE) and its fix (VFIO_HOOKS_FIX): 'journalctl -x -t vfio-hooks VFIO_HOOKS_DOMAIN=@VFIO_HOOKS_DOMAIN@' explains each. Fix the domain XML with 'virsh edit @VFIO_HOOKS_DOMAIN@' and check it again with 'vfio-hooks check --domain @VFIO_HOOKS_DOMAIN@'. To start it anyway, set <vh:mode>warn</vh:mode> in its vfio-hooks metadata (see vfio-hooks(8)) or mode=warn in /etc/vfio-hooks/vfio-hooks.conf."},
	[VH_MSG_WARN_START] =
	    {"warn-start", "26a630b11451493b8aad9d3ea6aa938b",
	     "vfio-hooks started a domain despite errors (mode warn)",
	     "Domain @VFIO_HOOKS_DOMAIN@ has PCI passthrough problems that refuse it in mode enforce; in mode warn it starts anyway. The problems were logged just before this entry, each with its fix (VFIO_HOOKS_FIX). Check the domain with 'vfio-hooks check --domain @VFIO_HOOKS_DOMAIN@'."},
	[VH_MSG_MODE_OFF] =
	    {"mode-off", "7687d1488a55443c8ecc740b3e856d45", "vfio-hooks did nothing: mode off",
	     "The domain @VFIO_HOOKS_DOMAIN@ or the configuration sets mode off: vfio-hooks neither checks the domain nor binds its devices. Set the mode in the domain's <vh:mode> metadata or in /etc/vfio-hooks/vfio-hooks.conf."},
	[VH_MSG_UUID_RESERVED] =
	    {"uuid-reserved", "0403524dd90e43d29b2ec5cdd24a49bd",
	     "vfio-hooks did nothing: the domain's UUID is reserved",
	     "The UUID @VFIO_HOOKS_DOMAIN_UUID@ of domain @VFIO_HOOKS_DOMAIN@ is of the form vfio-hooks reserves to the bindings of 'vfio-hooks bind', so the hook leaves the domain's devices alone. Give the domain another UUID."},
	[VH_MSG_DRIVER] =
	    {"driver", "4be7d3a141b54c3c9144393f3360ae13",
	     "vfio-hooks moved a device to another driver",
	     "vfio-hooks moved the PCI device @VFIO_HOOKS_DEVICE@ from one driver to another (the message names both) for @VFIO_HOOKS_OPERATION@, and recorded its former driver in /run/vfio-hooks so that it is given back when the domain stops."},
	[VH_MSG_RESET_METHOD] = {"reset-method", "12074346d46e415dbe28af97881f4454", "vfio-hooks set a device's reset_method", "vfio-hooks wrote the PCI device @VFIO_HOOKS_DEVICE@'s reset_method (the device's profile asks for another reset than the kernel's default), and recorded the former value so that it is restored when the domain stops."},
	[VH_MSG_RESET] =
	    {"reset", "e380ff78e0f0429bb9f11c6cede7d76f", "vfio-hooks reset a device on release",
	     "vfio-hooks reset the PCI device @VFIO_HOOKS_DEVICE@ before giving it back to its host driver (or logged why the reset failed). A failed reset leaves the device as the VM left it: its host driver may need to reinitialise it, or the host a reboot."},
	[VH_MSG_RESTORED] =
	    {"restored", "c4e4f579c9a74859ae516e13254b30a9",
	     "vfio-hooks gave a device its former state back",
	     "vfio-hooks restored the driver or reset_method the PCI device @VFIO_HOOKS_DEVICE@ had before the domain started, as its journal in /run/vfio-hooks recorded."},
	[VH_MSG_RELEASED] =
	    {"released", "0d68277139df4cd49ad45496f2047460",
	     "vfio-hooks restored every device of a domain",
	     "Every device the domain @VFIO_HOOKS_DOMAIN@ (UUID @VFIO_HOOKS_DOMAIN_UUID@) had from vfio-hooks has its former driver and reset_method back; its journal in /run/vfio-hooks is removed."},
	[VH_MSG_RELEASE_FAILED] =
	    {"release-failed", "6e55c9a9908a4c91aa8af481b7a61843",
	     "vfio-hooks could not restore a device",
	     "vfio-hooks could not give something back (the message names the device, the file and the reason). What is left stays recorded in the journal in /run/vfio-hooks: fix the cause and run 'vfio-hooks recover', which undoes it."},
	[VH_MSG_HELD] =
	    {"held", "b4ce05ab23b841328bf26620de2c0d65",
	     "vfio-hooks left a device another domain holds",
	     "The PCI device @VFIO_HOOKS_DEVICE@ is recorded in another journal too (another domain's, or a binding of 'vfio-hooks bind'): it stays as it is, and that one gives it back."},
	[VH_MSG_GONE] =
	    {"gone", "2feda1aab20648ada3a06ce8b68738c0", "vfio-hooks found a device gone",
	     "The PCI device @VFIO_HOOKS_DEVICE@ was removed (hot-unplugged?) while vfio-hooks had it: there is nothing to restore."},
	[VH_MSG_ROLLBACK] =
	    {"rollback", "668ea7e94af94f87bc6230add7238a43",
	     "vfio-hooks rolled back a failed prepare",
	     "Preparing domain @VFIO_HOOKS_DOMAIN@ failed (the message says why), and vfio-hooks undid what it had changed. A roll-back that is incomplete leaves its journal in /run/vfio-hooks: fix the cause and run 'vfio-hooks recover'."},
	[VH_MSG_JOURNAL] =
	    {"journal", "0a0d86bb36964e038cbb5a0fa9caa465",
	     "vfio-hooks found a journal left or unreadable",
	     "A journal in /run/vfio-hooks was left by an earlier start that did not finish (it is undone first), or cannot be read (its devices count as taken). The message names it."},
	[VH_MSG_DRIFT] =
	    {"drift", "0c9f6a752eab45c8b62d86c02281989c",
	     "A running domain's device changed under it",
	     "While domain @VFIO_HOOKS_DOMAIN@ runs, its PCI device @VFIO_HOOKS_DEVICE@ was found off its vfio driver, or with another reset_method than its profile needs (set again). Something on the host (a udev rule, a script, a driver) changed it: find what, since the VM may lose the device."},
	[VH_MSG_SRIOV] =
	    {"sriov", "a985a67a9579486e9d03a176f984541f",
	     "vfio-hooks changed SR-IOV virtual functions",
	     "vfio-hooks created or removed SR-IOV virtual functions of a physical function, or wrote a virtual function's settings, for domain @VFIO_HOOKS_DOMAIN@; the message says which. What it created is removed when the domain stops."},
	[VH_MSG_UNBOUND] =
	    {"unbound", "44212e6bda9b4c1aaa7d18dc921e30d6",
	     "vfio-hooks gave a device back to the host",
	     "'vfio-hooks unbind' gave the PCI device @VFIO_HOOKS_DEVICE@ to whatever host driver probes it (the message names it)."},
	[VH_MSG_BOOT_BIND] = {"boot-bind", "f105300894724acd81cf87f5449474f6", "vfio-hooks bound a device at boot", "The udev rule written by 'vfio-hooks bind --persist' bound the PCI device @VFIO_HOOKS_DEVICE@ to its vfio driver at boot (and set its reset_method), before any VM starts. 'vfio-hooks unbind --persist' removes the rule."},
	[VH_MSG_RECOVER_KEPT] =
	    {"recover-kept", "a56494e6fe184bc6a3d17ac2a5b478f9",
	     "vfio-hooks recover kept a journal",
	     "'vfio-hooks recover' left a journal in /run/vfio-hooks alone: a binding made by 'vfio-hooks bind' ('vfio-hooks unbind' gives it back), or a domain still running, which gives its devices back when it stops ('vfio-hooks recover --force' undoes it anyway)."},
	[VH_MSG_HOTPLUG] =
	    {"hotplug", "779b929f228340ad9ea2f8b295ab36ee",
	     "vfio-hooks attached or detached a device of a running domain",
	     "'vfio-hooks attach-device' prepared the PCI device @VFIO_HOOKS_DEVICE@ under the journal of domain @VFIO_HOOKS_DOMAIN@ and attached it through libvirt, or 'vfio-hooks detach-device' detached it and gave it back (the message says which). A device attached with plain 'virsh attach-device --live' runs no hook: nothing checks or prepares it."},
};

const char *vh_log_kind_name(enum vh_msg k)
{
	return (unsigned)k < _VH_MSG_MAX ? kinds[k].name : "?";
}

const char *vh_log_rule_id(enum vh_rule_id r)
{
	return (unsigned)r < _VH_RULE_MAX ? vh_rules[r].message_id : NULL;
}

const char *vh_log_kind_id(enum vh_msg k)
{
	return (unsigned)k < _VH_MSG_MAX ? kinds[k].id : NULL;
}

typedef int sd_journal_sendv_fn(const struct iovec *iov, int n);

/* sd_journal_sendv of @lib, or NULL.  libsystemd.so.0 is loaded once a
 * process: the only state of this module. */
static sd_journal_sendv_fn *journal_sendv(const char *lib)
{
	static sd_journal_sendv_fn *loaded;
	static int state; /* 0: not tried; 1: loaded; -1: failed */
	sd_journal_sendv_fn *fn = NULL;
	const struct vh_dl_sym sym = {.name = "sd_journal_sendv", .at = (void **)&fn};
	char why[256];

	if (lib) /* a test's: not cached */
		return vh_dl_load(lib, &sym, 1, NULL, why, sizeof(why)) == 0 ? fn : NULL;
	if (state == 0) {
		state = vh_dl_load(LIBSYSTEMD, &sym, 1, NULL, why, sizeof(why)) == 0 ? 1 : -1;
		loaded = fn;
	}
	return state > 0 ? loaded : NULL;
}

/* "KEY=value" into @iov[*n] (skipped when @value is NULL or empty). */
static void field(struct iovec *iov, char **bufs, int *n, const char *key, const char *value)
{
	char *s;

	if (!value || !value[0] || asprintf(&s, "%s=%s", key, value) < 0)
		return;
	bufs[*n] = s;
	iov[*n] = (struct iovec){.iov_base = s, .iov_len = strlen(s)};
	(*n)++;
}

static int journal_send(const struct vh_logger *lg, const struct vh_log_entry *e)
{
	sd_journal_sendv_fn *fn = NULL;
	struct iovec iov[16];
	char *bufs[16];
	char prio[4], pid[24];
	int n = 0, r;

	/* No journald (a container, another init): syslog, without loading
	 * libsystemd and what it links for nothing. */
	if (!lg->sendv && access(JOURNAL_SOCKET, W_OK) < 0)
		return -errno;
	if (!lg->sendv && !(fn = journal_sendv(lg->libsystemd)))
		return -EOPNOTSUPP;
	snprintf(prio, sizeof(prio), "%d", e->level & LOG_PRIMASK);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	field(iov, bufs, &n, "MESSAGE", e->message);
	if (n == 0) /* no message (out of memory): syslog says what it can */
		return -ENOMEM;
	field(iov, bufs, &n, "PRIORITY", prio);
	field(iov, bufs, &n, "SYSLOG_IDENTIFIER", "vfio-hooks");
	field(iov, bufs, &n, "SYSLOG_FACILITY", "3"); /* LOG_DAEMON */
	field(iov, bufs, &n, "SYSLOG_PID", pid);
	field(iov, bufs, &n, "MESSAGE_ID",
	      e->finding ? vh_log_rule_id(e->rule) : vh_log_kind_id(e->kind));
	field(iov, bufs, &n, "VFIO_HOOKS_DOMAIN", lg->domain);
	field(iov, bufs, &n, "VFIO_HOOKS_DOMAIN_UUID", lg->uuid);
	field(iov, bufs, &n, "VFIO_HOOKS_OPERATION", lg->operation);
	/* A finding always has both: the catalog's text names them. */
	field(iov, bufs, &n, "VFIO_HOOKS_DEVICE",
	      e->device	   ? e->device
	      : e->finding ? "(the domain as a whole)"
			   : NULL);
	field(iov, bufs, &n, "VFIO_HOOKS_RULE", e->finding ? vh_rule_id_to_string(e->rule) : NULL);
	field(iov, bufs, &n, "VFIO_HOOKS_FIX",
	      e->fix	   ? e->fix
	      : e->finding ? "(no XML to add: the finding's message says what to change)"
			   : NULL);
	r = lg->sendv ? lg->sendv(lg->ud, iov, n) : fn(iov, n);
	while (n-- > 0)
		free(bufs[n]);
	return r;
}

int vh_log_send(const struct vh_logger *lg, const struct vh_log_entry *e)
{
	if (journal_send(lg, e) >= 0)
		return 1;
	if (lg->no_syslog)
		return 0;
	if (lg->syslog) {
		lg->syslog(lg->ud, e->level, e->message);
	} else {
		/* closed again: a program leaves no descriptor open */
		openlog("vfio-hooks", LOG_PID, LOG_DAEMON);
		syslog(e->level, "%s", e->message);
		closelog();
	}
	return 0;
}

/* One catalog entry. */
static void entry(struct vh_buf *b, const char *id, const char *subject, const char *text)
{
	vh_buf_printf(b, "-- %s\nSubject: %s\nDefined-By: vfio-hooks\nSupport: %s\n\n%s\n\n", id,
		      subject, SUPPORT, text);
}

void vh_log_catalog(struct vh_buf *b)
{
	vh_buf_puts(b, "#  SPDX-License-Identifier: LGPL-2.1-or-later\n#\n"
		       "#  The message catalog of vfio-hooks (journalctl -x -t vfio-hooks).\n"
		       "#  Generated from lib/log.c and lib/check.c: do not edit.\n\n");
	for (size_t i = 0; i < _VH_RULE_MAX; i++) {
		const struct vh_rule_info *ri = &vh_rules[i];
		struct vh_buf s = {0}, t = {0};

		vh_buf_printf(&s, "vfio-hooks: [%s] %s", vh_rule_id_to_string(ri->id), ri->summary);
		vh_buf_printf(
		    &t,
		    "vfio-hooks checked domain @VFIO_HOOKS_DOMAIN@ (UUID @VFIO_HOOKS_DOMAIN_UUID@) for @VFIO_HOOKS_OPERATION@ and found, for the PCI device @VFIO_HOOKS_DEVICE@, that %s (rule %s, severity %s).\n\n",
		    ri->summary, vh_rule_id_to_string(ri->id), vh_severity_name(ri->severity));
		if (ri->severity != VH_ERROR && !(ri->other.when && ri->other.severity == VH_ERROR))
			vh_buf_puts(
			    &t,
			    "Findings of this rule are never errors: they do not refuse to start the domain.\n\n");
		else
			vh_buf_puts(
			    &t,
			    ri->refuses_in_warn
				? "An error of this rule refuses to start the domain in mode enforce and in mode warn: what it guards is the host's. Only mode off lets the domain start.\n\n"
				: "An error of this rule refuses to start the domain in mode enforce; in mode warn the domain starts anyway.\n\n");
		vh_buf_puts(
		    &t,
		    "The fix (VFIO_HOOKS_FIX):\n\n@VFIO_HOOKS_FIX@\n\nChange the domain with 'virsh edit @VFIO_HOOKS_DOMAIN@', and check it with 'vfio-hooks check --domain @VFIO_HOOKS_DOMAIN@', which shows every finding with its fix and where it goes. The rules are described in vfio-hooks(8) and the README.");
		entry(b, vh_log_rule_id(ri->id), vh_buf_str(&s), vh_buf_str(&t));
		vh_buf_done(&s);
		vh_buf_done(&t);
	}
	for (size_t k = 0; k < _VH_MSG_MAX; k++)
		entry(b, kinds[k].id, kinds[k].subject, kinds[k].text);
}
