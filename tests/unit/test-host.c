/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The doctor's confinement checks (daemon-confinement, hook-executable,
 * hook-current, wrapper-confinement) over temp roots: AppArmor present,
 * absent, disabled, enforce and complain, from the daemon's label or the
 * loaded profiles; SELinux; the hook as a link or a file, its mode and
 * owner; the wrapper's links and AppArmor block.  What a golden case cannot
 * build (modes, owners) is here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "../../lib/host.h"
#include "../fakesys.h"

#define HOOK "etc/libvirt/hooks/qemu.d/vfio-hooks"
#define PROG VH_LIBEXECDIR "/qemu-hook"
#define AA_LIBVIRTD "etc/apparmor.d/local/usr.sbin.libvirtd"
#define AA_QEMU "etc/apparmor.d/local/abstractions/libvirt-qemu"
#define BLOCK                                                                                      \
	"# BEGIN vfio-hooks (install.sh --wrap-qemu; removed by install.sh "                       \
	"--uninstall)\n  /usr/local/bin/vfio-qemu-wrapper PUx,\n# END "                            \
	"vfio-hooks\n"

static struct {
	char *root;
	struct vh_sys *sys;
	struct vh_profiles ps;
	struct vh_hostreport rep;
} T;

static int setup(void **state UNUSED)
{
	memset(&T, 0, sizeof(T));
	T.root = fakesys_mkroot();
	if (!T.root || vh_sys_new(T.root, &T.sys) < 0 || vh_sys_is_real(T.sys))
		return -1;
	return 0;
}

static int teardown(void **state UNUSED)
{
	vh_hostreport_done(&T.rep);
	T.sys = vh_sys_free(T.sys);
	hx_rmroot(&T.root);
	T.root = NULL;
	return 0;
}

/* An empty root again, for a second tree in the same test. */
static void reset(void)
{
	assert_int_equal(fakesys_rmrf(T.root), 0);
	assert_int_equal(mkdir(T.root, 0700), 0);
	/* A gateway holds its root's directory: a new one for the new root. */
	T.sys = vh_sys_free(T.sys);
	assert_int_equal(vh_sys_new(T.root, &T.sys), 0);
}

/* Never written through a link: its target may be absolute, outside the
 * root. */
static void put(const char *rel, const char *content)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	if (lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
		assert_int_equal(unlink(p), 0);
	assert_int_equal(fakesys_put(T.root, rel, content), 0);
}

static void put_mode(const char *rel, const char *content, mode_t mode)
{
	char p[4200];

	put(rel, content);
	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	assert_int_equal(chmod(p, mode), 0);
}

static void link_at(const char *rel, const char *target)
{
	char p[4200];

	put(rel, ""); /* the parents; a link there goes */
	snprintf(p, sizeof(p), "%s/%s", T.root, rel);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(target, p), 0);
}

/* AppArmor on, and how libvirtd is confined: a running daemon with that
 * label, or (pid 0) none running. */
static void apparmor(const char *enabled)
{
	put("sys/module/apparmor/parameters/enabled", enabled);
}

static void daemon_label(const char *comm, const char *label)
{
	put("proc/812/comm", comm);
	if (label)
		put("proc/812/attr/apparmor/current", label);
}

/* The program install.sh installs, and the hook as a copy of it. */
static void hook_file(mode_t mode)
{
	put_mode(PROG + 1, "qemu-hook v2\n", 0755);
	put_mode(HOOK, "qemu-hook v2\n", mode);
}

/* The hook as an older install.sh left it: a link to the program. */
static void hook_link(void)
{
	put_mode(PROG + 1, "qemu-hook v2\n", 0755);
	link_at(HOOK, PROG);
}

static void doctor(void)
{
	vh_hostreport_done(&T.rep);
	assert_int_equal(vh_host_doctor(T.sys, &T.ps, NULL, 0, &T.rep), 0);
}

static const struct vh_hostcheck *find(const char *id)
{
	for (size_t i = 0; i < T.rep.n; i++)
		if (strcmp(T.rep.v[i].id, id) == 0)
			return &T.rep.v[i];
	return NULL;
}

/* The check @id is there with @verdict, and its detail (and fix) hold
 * @detail (and @fix) when given. */
static void expect(const char *id, enum vh_verdict verdict, const char *detail, const char *fix)
{
	const struct vh_hostcheck *h = find(id);

	if (!h)
		fail_msg("no check %s", id);
	if (h->verdict != verdict)
		fail_msg("%s: %s, not %s (%s)", id, vh_verdict_name(h->verdict),
			 vh_verdict_name(verdict), h->detail);
	if (detail && (!h->detail || !strstr(h->detail, detail)))
		fail_msg("%s: detail '%s' lacks '%s'", id, h->detail, detail);
	if (fix && (!h->fix || !strstr(h->fix, fix)))
		fail_msg("%s: fix '%s' lacks '%s'", id, h->fix, fix);
}

static void expect_none(const char *id)
{
	if (find(id))
		fail_msg("%s reported: %s", id, find(id)->detail);
}

/* None of the confinement checks fails. */
static void expect_no_fail(void)
{
	const char *ids[] = {"daemon-confinement", "hook-executable", "hook-current",
			     "wrapper-confinement"};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (find(ids[i]) && find(ids[i])->verdict >= VH_WARN)
			fail_msg("%s: %s", ids[i], find(ids[i])->detail);
}

/* --- (a), (b): AppArmor enforcing, libvirtd running --- */

static void enforce_link_fails(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS,
	       "libvirtd (pid 812) runs under AppArmor profile 'libvirtd' in "
	       "enforce mode",
	       NULL);
	expect("hook-executable", VH_FAIL,
	       "libvirtd's AppArmor profile executes hooks only under "
	       "/etc/libvirt/hooks/; /etc/libvirt/hooks/qemu.d/vfio-hooks "
	       "resolves to " PROG ", so every VM start fails with "
	       "'Permission denied'",
	       "sudo ./install.sh (it places the hook as a file), or: sudo cp "
	       "--remove-destination " PROG " /etc/libvirt/hooks/qemu.d/vfio-hooks");
	expect_none("hook-current"); /* a link is the program itself */
	expect_none("wrapper-confinement");
}

static void enforce_file_passes(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	hook_file(0755);
	doctor();
	expect("hook-executable", VH_PASS, "under /etc/libvirt/hooks/", NULL);
	expect("hook-current", VH_PASS, "is a copy of " PROG, NULL);
	expect_no_fail();
}

/* The label from /proc/PID/attr/current where the kernel (before 5.8) has
 * no attr/apparmor/. */
static void label_from_attr_current(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", NULL);
	put("proc/812/attr/current", "libvirtd (enforce)\n");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS, "in enforce mode", NULL);
	expect("hook-executable", VH_FAIL, "resolves to " PROG, NULL);
}

/* Links inside the root: relative, chained, through "..", and an
 * absolute one that stays under /etc/libvirt/hooks/. */
static void links_resolved_inside_root(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	put_mode("etc/libvirt/hooks/bin/real-hook", "x", 0755);
	link_at("etc/libvirt/hooks/hop", "/etc/libvirt/hooks/bin/../bin/.");
	link_at(HOOK, "../hop/real-hook");
	doctor();
	expect("hook-executable", VH_PASS, "(-> /etc/libvirt/hooks/bin/real-hook)", NULL);

	/* ".." stops at the root: /../../usr is /usr */
	reset();
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	put_mode(PROG + 1, "x", 0755);
	link_at(HOOK, "../../../../../../../usr/local/libexec/vfio-hooks/"
		      "qemu-hook");
	doctor();
	expect("hook-executable", VH_FAIL, "resolves to " PROG ",", NULL);
}

static void link_loop_and_dangling(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	link_at(HOOK, "/etc/libvirt/hooks/a");
	link_at("etc/libvirt/hooks/a", "/etc/libvirt/hooks/b");
	link_at("etc/libvirt/hooks/b", "a");
	doctor();
	expect("hook-installed", VH_PASS, NULL, NULL);
	expect("hook-executable", VH_FAIL,
	       "/etc/libvirt/hooks/qemu.d/vfio-hooks cannot be resolved to a "
	       "file (Too many levels of symbolic links)",
	       "sudo ./install.sh");

	link_at("etc/libvirt/hooks/b", "/nowhere/hook");
	doctor();
	expect("hook-executable", VH_FAIL,
	       "cannot be resolved to a file (No such file or directory)", NULL);

	put_mode("etc/libvirt/hooks/dir/x", "", 0755);
	link_at("etc/libvirt/hooks/b", "dir");
	doctor();
	expect("hook-executable", VH_FAIL,
	       "resolves to /etc/libvirt/hooks/dir, which is not a regular "
	       "file",
	       NULL);
}

/* A link absolute to the real system is resolved under the root: the
 * real /usr/local/libexec is never looked at. */
static void link_target_stays_in_root(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	link_at(HOOK, "/bin/sh"); /* exists on this machine, not in the root */
	doctor();
	expect("hook-executable", VH_FAIL, "cannot be resolved", NULL);
}

/* The legacy single hook file libvirt before 6.5 runs. */
static void legacy_hook(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	put_mode(PROG + 1, "x", 0755);
	link_at("etc/libvirt/hooks/qemu", PROG);
	doctor();
	expect("hook-executable", VH_FAIL, "/etc/libvirt/hooks/qemu resolves to " PROG,
	       "cp --remove-destination " PROG " /etc/libvirt/hooks/qemu");
}

/* /etc/apparmor.d/local/usr.sbin.libvirtd naming the program allows it;
 * a comment naming it does not. */
static void local_rule_allows(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	hook_link();
	put(AA_LIBVIRTD, "# " PROG " rmix,\n");
	doctor();
	expect("hook-executable", VH_FAIL, NULL, NULL);
	put(AA_LIBVIRTD, "# local\n  " PROG " rmix,\n");
	doctor();
	expect("hook-executable", VH_PASS, "names for libvirtd's", NULL);
	/* a longer path that starts with it does not */
	put(AA_LIBVIRTD, "  " PROG "-old rmix,\n");
	doctor();
	expect("hook-executable", VH_FAIL, NULL, NULL);
}

/* --- (c), (d): nothing confines libvirtd --- */

static void apparmor_absent(void **state UNUSED)
{
	daemon_label("libvirtd", NULL);
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS,
	       "nothing confines libvirtd: AppArmor is not in this kernel", NULL);
	expect("hook-executable", VH_PASS, "(-> " PROG ")", NULL);
	expect_no_fail();
}

static void apparmor_disabled(void **state UNUSED)
{
	apparmor("N");
	put("sys/kernel/security/apparmor/profiles", "libvirtd (enforce)\n");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS, "nothing confines libvirtd: AppArmor is disabled",
	       NULL);
	expect("hook-executable", VH_PASS, NULL, NULL);
	expect_no_fail();
}

static void daemon_unconfined(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "unconfined");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS, "libvirtd (pid 812) runs unconfined by AppArmor",
	       NULL);
	expect("hook-executable", VH_PASS, NULL, NULL);
}

/* --- (e): no daemon running, the loaded profiles decide --- */

static void no_daemon_profile_enforce(void **state UNUSED)
{
	apparmor("Y");
	put("sys/kernel/security/apparmor/profiles", "snap.lxd.lxc (enforce)\n"
						     "virt-aa-helper (enforce)\n"
						     "libvirtd//qemu_bridge_helper (enforce)\n"
						     "libvirtd (enforce)\n"
						     "/usr/sbin/cupsd (enforce)\n");
	hook_link();
	doctor();
	expect("hook-picked-up", VH_INFO_V, NULL, NULL);
	expect("daemon-confinement", VH_PASS,
	       "AppArmor profile 'libvirtd' is loaded in enforce mode (no "
	       "daemon running)",
	       NULL);
	expect("hook-executable", VH_FAIL, "libvirtd's AppArmor profile",
	       "cp --remove-destination");
}

static void no_daemon_profile_by_path(void **state UNUSED)
{
	apparmor("Y");
	put("sys/kernel/security/apparmor/profiles", "/usr/sbin/virtqemud (enforce)\n");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS,
	       "AppArmor profile '/usr/sbin/virtqemud' is loaded in enforce "
	       "mode",
	       NULL);
	expect("hook-executable", VH_FAIL, "virtqemud's AppArmor profile", NULL);
}

static void no_daemon_no_profile(void **state UNUSED)
{
	apparmor("Y");
	put("sys/kernel/security/apparmor/profiles",
	    "virt-aa-helper (enforce)\n/usr/sbin/libvirtd-old (enforce)\n");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS,
	       "AppArmor is enabled and has no libvirtd or virtqemud profile", NULL);
	expect("hook-executable", VH_PASS, NULL, NULL);
}

/* Not root: the profiles cannot be read; no guessing. */
static void profiles_unreadable(void **state UNUSED)
{
	apparmor("Y");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_INFO_V,
	       "/sys/kernel/security/apparmor/profiles cannot be read",
	       "run vfio-hooks doctor as root");
	expect("hook-executable", VH_WARN, "(run as root to tell)", "cp --remove-destination");
	/* a file under hooks/ is fine whatever the profile */
	hook_file(0755);
	doctor();
	expect("hook-executable", VH_PASS, NULL, NULL);
}

/* --- (f): complain mode --- */

static void complain_warns(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (complain)");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS, "in complain mode", NULL);
	expect("hook-executable", VH_WARN,
	       "is in complain mode and executes hooks only under "
	       "/etc/libvirt/hooks/",
	       "cp --remove-destination " PROG);
}

static void complain_from_profiles(void **state UNUSED)
{
	apparmor("Y");
	put("sys/kernel/security/apparmor/profiles", "libvirtd (complain)\n");
	hook_link();
	doctor();
	expect("hook-executable", VH_WARN, NULL, NULL);
}

/* virtqemud running (modular daemons) under its own profile. */
static void virtqemud_running(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("virtqemud", "virtqemud (enforce)");
	hook_link();
	doctor();
	expect("daemon-confinement", VH_PASS,
	       "virtqemud (pid 812) runs under AppArmor profile 'virtqemud'", NULL);
	expect("hook-executable", VH_FAIL, "virtqemud's AppArmor profile", NULL);
}

/* --- (h): mode and owner --- */

static void not_executable(void **state UNUSED)
{
	daemon_label("libvirtd", NULL);
	hook_file(0644);
	doctor();
	expect("hook-executable", VH_FAIL,
	       "/etc/libvirt/hooks/qemu.d/vfio-hooks is not executable (mode "
	       "0644)",
	       "sudo chown root:root /etc/libvirt/hooks/qemu.d/vfio-hooks && "
	       "sudo chmod 0755 /etc/libvirt/hooks/qemu.d/vfio-hooks");
}

static void group_writable(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	hook_file(0775);
	doctor();
	expect("hook-executable", VH_FAIL, "is writable by group or others (mode 0775)",
	       "chmod 0755");
	hook_file(0757);
	doctor();
	expect("hook-executable", VH_FAIL, "(mode 0757)", NULL);
	/* the resolved file is judged, not the link */
	put_mode(PROG + 1, "x", 0777);
	link_at(HOOK, PROG);
	apparmor("N");
	doctor();
	expect("hook-executable", VH_FAIL,
	       "/etc/libvirt/hooks/qemu.d/vfio-hooks (-> " PROG
	       ") is writable by group or others (mode 0777)",
	       "chmod 0755 " PROG);
}

/* Owned by another user than the root directory's (root on a host). */
static void not_owned_by_root(void **state UNUSED)
{
	char p[4200];
	struct stat st;

	hook_file(0755);
	snprintf(p, sizeof(p), "%s/%s", T.root, HOOK);
	assert_int_equal(stat(T.root, &st), 0);
	if (lchown(p, st.st_uid + 1000, st.st_gid) < 0)
		skip(); /* not root */
	doctor();
	expect("hook-executable", VH_FAIL, "not root: the hook runs as root", "chown root:root");
}

/* --- (i): an older copy --- */

static void stale_copy(void **state UNUSED)
{
	hook_file(0755);
	put(PROG + 1, "qemu-hook v3\n");
	doctor();
	expect("hook-current", VH_WARN,
	       "the hook in qemu.d is not the installed program (an older "
	       "copy?)",
	       "sudo ./install.sh");
	/* same size, other bytes */
	put(PROG + 1, "qemu-hook v1\n");
	doctor();
	expect("hook-current", VH_WARN, NULL, NULL);
	/* no installed program to compare with: nothing said */
	reset();
	put_mode(HOOK, "qemu-hook v2\n", 0755);
	doctor();
	expect_none("hook-current");
	expect("hook-executable", VH_PASS, NULL, NULL);
}

/* --- (g): the wrapper's links and AppArmor block --- */

static void wrapper_links(void)
{
	link_at(VH_BINDIR "/qemu-system-x86_64" + 1, VH_BINDIR "/vfio-qemu-wrapper");
	link_at(VH_BINDIR "/qemu-system-aarch64" + 1, "vfio-qemu-wrapper");
	put(VH_BINDIR "/qemu-system-riscv64" + 1, "not a link");
}

static void wrapper_without_block_fails(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	wrapper_links();
	put(AA_LIBVIRTD, "# Site-specific additions\n");
	put(AA_QEMU, "# Site-specific additions\n" BLOCK);
	doctor();
	expect("hook-installed", VH_WARN, NULL, NULL);
	expect("daemon-confinement", VH_PASS, NULL, NULL);
	expect("wrapper-confinement", VH_FAIL,
	       "libvirtd cannot execute " VH_BINDIR "/qemu-system-aarch64 (-> "
	       "vfio-qemu-wrapper) under AppArmor: `virsh capabilities` offers "
	       "no aarch64 guest and domains using it fail at define "
	       "(/etc/apparmor.d/local/usr.sbin.libvirtd has no vfio-hooks "
	       "block)",
	       "sudo ./install.sh --wrap-qemu (adds the wrapper's AppArmor "
	       "rules), or remove the links: sudo ./install.sh without "
	       "--wrap-qemu does not remove them; sudo rm " VH_BINDIR
	       "/qemu-system-aarch64 " VH_BINDIR "/qemu-system-x86_64");
	expect_none("hook-executable");

	/* the block in libvirtd's file, not in the abstraction */
	put(AA_LIBVIRTD, BLOCK);
	put(AA_QEMU, "");
	doctor();
	expect("wrapper-confinement", VH_FAIL,
	       "(/etc/apparmor.d/local/abstractions/libvirt-qemu has no "
	       "vfio-hooks block)",
	       NULL);

	/* a BEGIN without its END, or markers inside other lines */
	put(AA_QEMU, "# BEGIN vfio-hooks (install.sh --wrap-qemu; removed by "
		     "install.sh --uninstall)\n  /x rmix,\n");
	doctor();
	expect("wrapper-confinement", VH_FAIL, NULL, NULL);
	put(AA_QEMU, "  # BEGIN vfio-hooks (install.sh --wrap-qemu; removed "
		     "by install.sh --uninstall)\n# END vfio-hooks\n");
	doctor();
	expect("wrapper-confinement", VH_FAIL, NULL, NULL);
}

static void wrapper_with_block_passes(void **state UNUSED)
{
	apparmor("Y");
	put("sys/kernel/security/apparmor/profiles", "libvirtd (enforce)\n");
	wrapper_links();
	put(AA_LIBVIRTD, "# Site-specific additions\n" BLOCK);
	put(AA_QEMU, BLOCK "# more\n");
	doctor();
	expect("wrapper-confinement", VH_PASS,
	       "the vfio-hooks block is in /etc/apparmor.d/local/"
	       "usr.sbin.libvirtd and /etc/apparmor.d/local/abstractions/"
	       "libvirt-qemu",
	       NULL);
	expect_no_fail();
}

/* libvirt 10.x and later (Debian 13): the abstraction includes
 * abstractions/libvirt-qemu.d/, where install.sh writes the domains' rules;
 * a block left in the deprecated local file does not count there. */
static void wrapper_rules_in_abstraction_dir(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	wrapper_links();
	put("etc/apparmor.d/abstractions/libvirt-qemu",
	    "  include if exists <abstractions/libvirt-qemu.d>\n"
	    "  include if exists <local/abstractions/libvirt-qemu>\n");
	put(AA_LIBVIRTD, BLOCK);
	put(AA_QEMU, BLOCK);
	doctor();
	expect("wrapper-confinement", VH_FAIL,
	       "a domain whose <emulator> is " VH_BINDIR "/qemu-system-aarch64 cannot start",
	       "sudo ./install.sh --wrap-qemu");
	expect("wrapper-confinement", VH_FAIL,
	       "(/etc/apparmor.d/abstractions/libvirt-qemu.d/vfio-hooks has no "
	       "vfio-hooks block)",
	       NULL);
	put("etc/apparmor.d/abstractions/libvirt-qemu.d/vfio-hooks", BLOCK);
	doctor();
	expect("wrapper-confinement", VH_PASS,
	       "/etc/apparmor.d/abstractions/libvirt-qemu.d/vfio-hooks", NULL);
}

static void wrapper_complain_warns(void **state UNUSED)
{
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (complain)");
	wrapper_links();
	doctor();
	expect("wrapper-confinement", VH_WARN,
	       "is in complain mode; in enforce mode it cannot execute", NULL);
}

/* No AppArmor, or links that are not the wrapper's: nothing to say. */
static void wrapper_not_judged(void **state UNUSED)
{
	wrapper_links();
	doctor();
	expect("daemon-confinement", VH_PASS, "nothing confines libvirtd", NULL);
	expect_none("wrapper-confinement");

	reset();
	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	link_at(VH_BINDIR "/qemu-system-x86_64" + 1, "/usr/bin/qemu-x");
	doctor();
	expect_none("wrapper-confinement");
	/* nothing placed: the confinement is not even looked at */
	expect_none("daemon-confinement");
}

/* --- SELinux --- */

static void selinux_virtd_t(void **state UNUSED)
{
	put("sys/fs/selinux/enforce", "1");
	daemon_label("libvirtd", NULL);
	put("proc/812/attr/current", "system_u:system_r:virtd_t:s0-s0:c0.c1023");
	hook_file(0755);
	doctor();
	expect("daemon-confinement", VH_INFO_V,
	       "libvirtd (pid 812) runs in the SELinux domain virtd_t "
	       "(enforcing)",
	       NULL);
	expect("hook-executable", VH_INFO_V, "setsebool -P virt_hooks_unconfined on",
	       "setsebool -P virt_hooks_unconfined on");
	expect_no_fail();

	/* permissive: nothing to say */
	put("sys/fs/selinux/enforce", "0");
	doctor();
	expect("hook-executable", VH_PASS, NULL, NULL);
	/* the mode and owner are judged under SELinux too */
	put("sys/fs/selinux/enforce", "1");
	hook_file(0644);
	doctor();
	expect("hook-executable", VH_FAIL, "is not executable", NULL);
}

/* --- (j): --json carries the ids --- */

static void json_ids(void **state UNUSED)
{
	struct vh_buf o = {0};

	apparmor("Y");
	daemon_label("libvirtd", "libvirtd (enforce)");
	hook_link();
	wrapper_links();
	doctor();
	vh_hostreport_json(&T.rep, &o);
	assert_non_null(strstr(vh_buf_str(&o), "{\"id\":\"daemon-confinement\",\"verdict\":"
					       "\"PASS\""));
	assert_non_null(strstr(vh_buf_str(&o), "{\"id\":\"hook-executable\",\"verdict\":"
					       "\"FAIL\""));
	assert_non_null(strstr(vh_buf_str(&o), "{\"id\":\"wrapper-confinement\",\"verdict\":"
					       "\"FAIL\""));
	vh_buf_done(&o);
}

/* --- hook-picked-up after install.sh's reload --- */

/* libvirtd (pid 812) started at 1001 (btime 1000 + 100 ticks / 100 Hz at
 * most), long before the hook (placed now): only a reload noted by
 * install.sh after the hook's mtime says it picked the hook up. */
static void reload_noted(void **state UNUSED)
{
	char stamp[128];
	struct stat st;
	char p[4200];

	daemon_label("libvirtd", "unconfined");
	put("proc/stat", "cpu 0 0 0 0\nbtime 1000\n");
	put("proc/812/stat", "812 (libvirtd) S 1 812 812 0 -1 4194560 0 0 0 0 "
			     "0 0 0 0 20 0 1 0 100 0 0\n");
	hook_file(0755);
	snprintf(p, sizeof(p), "%s/%s", T.root, HOOK);
	assert_int_equal(stat(p, &st), 0);

	doctor();
	expect("hook-picked-up", VH_WARN, "started before the hook", NULL);

	snprintf(stamp, sizeof(stamp), "virtqemud 9 %lld\nlibvirtd 812 %lld\n",
		 (long long)st.st_mtime + 5, (long long)st.st_mtime + 5);
	put("var/lib/vfio-hooks/reloaded", stamp);
	doctor();
	expect("hook-picked-up", VH_PASS, "reloaded by install.sh", NULL);

	/* Another daemon's reload, or one before the hook was placed. */
	snprintf(stamp, sizeof(stamp), "libvirtd 813 %lld\n", (long long)st.st_mtime + 5);
	put("var/lib/vfio-hooks/reloaded", stamp);
	doctor();
	expect("hook-picked-up", VH_WARN, "started before the hook", NULL);
	snprintf(stamp, sizeof(stamp), "libvirtd 812 %lld\n", (long long)st.st_mtime - 5);
	put("var/lib/vfio-hooks/reloaded", stamp);
	doctor();
	expect("hook-picked-up", VH_WARN, "started before the hook", NULL);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(enforce_link_fails),
	    T_(enforce_file_passes),
	    T_(label_from_attr_current),
	    T_(links_resolved_inside_root),
	    T_(link_loop_and_dangling),
	    T_(link_target_stays_in_root),
	    T_(legacy_hook),
	    T_(local_rule_allows),
	    T_(apparmor_absent),
	    T_(apparmor_disabled),
	    T_(daemon_unconfined),
	    T_(no_daemon_profile_enforce),
	    T_(no_daemon_profile_by_path),
	    T_(no_daemon_no_profile),
	    T_(profiles_unreadable),
	    T_(complain_warns),
	    T_(complain_from_profiles),
	    T_(virtqemud_running),
	    T_(not_executable),
	    T_(group_writable),
	    T_(not_owned_by_root),
	    T_(stale_copy),
	    T_(wrapper_without_block_fails),
	    T_(wrapper_with_block_passes),
	    T_(wrapper_complain_warns),
	    T_(wrapper_not_judged),
	    T_(selinux_virtd_t),
	    T_(json_ids),
	    T_(reload_noted),
	    T_(wrapper_rules_in_abstraction_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
