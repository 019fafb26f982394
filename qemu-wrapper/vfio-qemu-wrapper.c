/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-qemu-wrapper: the hook's checks for QEMU started by hand.
 *
 *   vfio-qemu-wrapper [--check] [--warn] [--root DIR] [--json]
 *                     [--profiles DIR] QEMU_BINARY ARGS...
 *   qemu-system-x86_64 ARGS...     (a link to this program, earlier in PATH)
 *
 * Reads the command line, finds every vfio-pci device, applies the same
 * rules and profiles as the libvirt hook, and refuses (exit 1, QEMU not
 * started) or warns, with the options to add.  Otherwise it execs the real
 * QEMU with argv and environment exactly as given, never through a shell.
 * A command line without a vfio device is passed through untouched, without
 * loading libxml2 (which the checks load, from the system, to read the
 * profiles: lib/xmlapi.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/config.h"
#include "../lib/paths.h"
#include "../lib/journal.h"
#include "../lib/qemuargs.h"

enum { EXIT_OK = 0, EXIT_FINDINGS = 1, EXIT_USAGE = 2, EXIT_NOEXEC = 126, EXIT_NOTFOUND = 127 };

struct opts {
	bool check, warn, json, numeric;
	const char *root;
	const char *profiles[9];
	int n_profiles;
	bool linked; /* run as a link named qemu-system-* */
	/* QEMU's own argv: argv[0] as the user gave it. */
	char **qargv;
	int qargc;
};

static const char *base(const char *p)
{
	const char *b = strrchr(p, '/');

	return b ? b + 1 : p;
}

/* Where a link named qemu-system-* finds the real QEMU when no qemu_dir is
 * configured: fixed, not the caller's PATH. */
#define QEMU_SEARCH "/usr/local/bin:/usr/bin:/bin:/usr/libexec"

/* Whether @path is a vfio-qemu-wrapper (this program, a link to one, or a
 * copy of this build): executing it would run the checks again, or loop
 * forever between two of them. */
static bool is_wrapper(const char *path, const struct stat *self)
{
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st) < 0)
		return false;
	if (self && st.st_dev == self->st_dev && st.st_ino == self->st_ino)
		return true;
	if (realpath(path, real) && strncmp(base(real), "vfio-qemu-wrapper", 17) == 0)
		return true;
	if (self && st.st_size == self->st_size) {
		_cleanup_close_ int a = open(path, O_RDONLY | O_CLOEXEC);
		_cleanup_close_ int b = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		char x[65536], y[65536];
		ssize_t n;

		if (a < 0 || b < 0)
			return false;
		while ((n = read(a, x, sizeof(x))) > 0)
			if (read(b, y, (size_t)n) != n || memcmp(x, y, (size_t)n))
				return false;
		return n == 0;
	}
	return false;
}

/* @name as given (with a slash), else in @dir, else in QEMU_SEARCH,
 * skipping any vfio-qemu-wrapper: as a link named qemu-system-* the real
 * QEMU is found there, never through the environment. */
static int find_binary(const char *name, const char *dir, char *out, size_t n)
{
	struct stat self;
	_cleanup_free_ char *copy = NULL;
	char *save = NULL, *d;
	bool have_self = stat("/proc/self/exe", &self) == 0;

	if (strchr(name, '/')) {
		if (access(name, F_OK) < 0)
			return -errno;
		snprintf(out, n, "%s", name);
		return is_wrapper(out, have_self ? &self : NULL) ? -ELOOP : 0;
	}
	if (dir) {
		snprintf(out, n, "%s/%s", dir, name);
		if (access(out, X_OK) == 0 && !is_wrapper(out, have_self ? &self : NULL))
			return 0;
	}
	copy = strdup(QEMU_SEARCH);
	if (!copy)
		return -ENOMEM;
	for (d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, n, "%s/%s", d, name);
		if (access(out, X_OK) == 0 && !is_wrapper(out, have_self ? &self : NULL))
			return 0;
	}
	return -ENOENT;
}

static void usage(FILE *f)
{
	fputs(
	    "Usage: vfio-qemu-wrapper [--check] [--warn] [--root DIR] [--json]\n"
	    "                         [--profiles DIR] QEMU_BINARY ARGS...\n"
	    "  or, as a link named qemu-system-ARCH earlier in PATH than QEMU:\n"
	    "       qemu-system-ARCH ARGS...\n\n"
	    "Checks the vfio-pci devices of a QEMU command line as the vfio-hooks\nlibvirt hook does, then runs QEMU.  --check: only check (exit 0, 1\nerror findings, 2 bad input).  --warn: start QEMU despite error findings.\n",
	    f);
}

/* What vh_check_domain needs to load the profiles on demand. */
struct loader {
	const struct vh_sys *sys;
	const char *const *dirs;
	struct vh_profiles *ps;
	struct vh_err *e;
	bool said; /* the failure, on stderr */
};

/* The check's opts->load_profiles: only the profiles that can match the
 * devices, and none validated again while unchanged, with the stamps of
 * vh_stamp_dir_open (as root the hook's state directory, made if missing,
 * as the hook makes it). */
static int load_profiles(void *ud, const struct vh_pci_id *ids, size_t n)
{
	struct loader *l = ud;
	int r =
	    vh_profiles_load_stamped(l->dirs, vh_stamp_dir_open(l->sys, true), ids, n, l->ps, l->e);

	if (r < 0) {
		fprintf(stderr, "vfio-qemu-wrapper: %s\n",
			l->e->code ? l->e->msg : "out of memory");
		l->said = true;
	}
	return r;
}

static int run_exec(const char *bin, char **argv)
{
	execv(bin, argv);
	fprintf(stderr, "vfio-qemu-wrapper: cannot run %s: %s\n", bin, strerror(errno));
	return errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

/* 1: run with @o; 0: done (--help); -EINVAL: bad usage, said. */
static int parse_argv(int argc, char **argv, struct opts *o)
{
	int i = 1;

	/* Setuid or setgid, it would run what an unprivileged caller names
	 * (--root, --profiles, the QEMU binary) with privileges it lacks.
	 * Not AT_SECURE: an AppArmor transition sets it too, as libvirtd's
	 * PUx exec of the emulator does, with no privilege gained. */
	if (getuid() != geteuid() || getgid() != getegid()) {
		fputs(
		    "vfio-qemu-wrapper: refusing to run setuid or setgid (fix: chmod u-s,g-s on this program)\n",
		    stderr);
		return -EINVAL;
	}
	o->linked = strncmp(base(argv[0]), "qemu-system-", 12) == 0;
	if (!o->linked) {
		for (; i < argc && argv[i][0] == '-'; i++) {
			const char *a = argv[i];
			if (streq(a, "--check"))
				o->check = true;
			else if (streq(a, "--warn"))
				o->warn = true;
			else if (streq(a, "--json"))
				o->json = true;
			else if (streq(a, "--numeric") || streq(a, "-n"))
				o->numeric = true;
			else if (streq(a, "--root") && i + 1 < argc)
				o->root = argv[++i];
			else if (streq(a, "--profiles") && i + 1 < argc &&
				 o->n_profiles + 1 < (int)ELEMENTSOF(o->profiles))
				o->profiles[o->n_profiles++] = argv[++i];
			else if (streq(a, "--help") || streq(a, "-h")) {
				usage(stdout);
				return 0;
			} else if (streq(a, "--")) {
				i++;
				break;
			} else {
				fprintf(stderr, "vfio-qemu-wrapper: unknown option '%s'\n", a);
				usage(stderr);
				return -EINVAL;
			}
		}
		if (i >= argc) {
			usage(stderr);
			return -EINVAL;
		}
	} else {
		i = 0;
	}
	o->qargv = argv + i;
	o->qargc = argc - i;
	return 1;
}

/* The checks of a command line with a vfio device, in this process.
 * Returns the exit code, or -1: run QEMU. */
static int check(const struct opts *o, struct vh_config *cfg, const char *bin, struct vh_err *e)
{
	_cleanup_domain_ struct vh_domain *dom = NULL;
	_cleanup_sys_ struct vh_sys *sys = NULL;
	struct vh_profiles ps = {0};
	struct loader ld = {.ps = &ps, .e = e};
	struct vh_check_opts co = {.companions = cfg->companions,
				   .require_bound = true,
				   .load_profiles = load_profiles,
				   .load_ud = &ld};
	struct vh_report rep = {0};
	struct vh_buf out = {0};
	const char *const *dirs = NULL;
	bool warn = o->warn || cfg->mode == VH_MODE_WARN;
	int status, r;

	if (e->code) {
		fprintf(stderr, "vfio-qemu-wrapper: %s\n", e->msg);
		return EXIT_USAGE;
	}
	r = vh_qemu_parse(o->qargc, o->qargv, &dom, e);
	if (r < 0) {
		fprintf(stderr, "vfio-qemu-wrapper: %s\n", e->msg);
		return EXIT_USAGE;
	}
	/* libvirt's probe of the QEMU (its version decides defaults)
	 * is under the path libvirt runs, else the one found. */
	if (!dom->emulator && bin[0] == '/' && !(dom->emulator = strdup(bin)))
		return EXIT_USAGE;
	if (vh_sys_new(vh_config_sysroot(cfg, o->root), &sys) < 0)
		return EXIT_USAGE;
	/* Started by libvirt for a domain the hook has prepared: the
	 * hook has judged it, with the domain's own settings (a
	 * per-domain mode warn, say); do not judge it again. */
	if (!o->check && dom->uuid && vh_uuid_valid(dom->uuid) &&
	    vh_journal_exists(sys, dom->uuid) > 0) {
		fprintf(
		    stderr,
		    "vfio-qemu-wrapper: domain %s was prepared by the vfio-hooks libvirt hook; its checks stand\n",
		    dom->uuid);
		return -1;
	}
	if (o->n_profiles)
		dirs = o->profiles;
	else if (cfg->profiles[0])
		dirs = (const char *const *)cfg->profiles;
	ld.sys = sys;
	ld.dirs = dirs;
	r = vh_check_domain(sys, &ps, dom, &co, &rep);
	if (r < 0) {
		if (!ld.said)
			fprintf(stderr, "vfio-qemu-wrapper: %s\n", strerror(-r));
		vh_profiles_done(&ps);
		return EXIT_USAGE;
	}
	if (o->json)
		vh_report_json(&rep, &out);
	else
		vh_report_text(&rep, &out);
	status = rep.n_error ? EXIT_FINDINGS : EXIT_OK;
	/* With QEMU to follow, its stdout is not ours. */
	if (o->check || rep.n_findings)
		fputs(vh_buf_str(&out), o->check ? stdout : stderr);
	vh_buf_done(&out);
	/* The report points into the profiles: free them after it. */
	vh_report_done(&rep);
	vh_profiles_done(&ps);
	if (o->check)
		return status;
	if (status != EXIT_OK && !warn) {
		fprintf(
		    stderr,
		    "vfio-qemu-wrapper: QEMU not started; fix the above, or run with --warn.\n");
		return status;
	}
	return -1;
}

static int run(const struct opts *o)
{
	struct vh_config cfg;
	struct vh_err e = {0};
	char bin[PATH_MAX] = "";
	const char *name = o->linked ? base(o->qargv[0]) : o->qargv[0];
	int r;

	vh_config_init(&cfg);
	r = vh_config_load(&cfg, vh_config_path(), &e);
	r = find_binary(name, r == 0 ? cfg.qemu_dir : NULL, bin, sizeof(bin));
	if (r == -ELOOP && !o->check) {
		fprintf(
		    stderr,
		    "vfio-qemu-wrapper: %s is a vfio-qemu-wrapper too: refusing to run it (give the real QEMU binary)\n",
		    o->qargv[0]);
		r = EXIT_USAGE;
	} else if (r < 0 && !o->check) {
		fprintf(stderr, "vfio-qemu-wrapper: cannot find %s%s: %s\n", name,
			o->linked ? " (other than a vfio-qemu-wrapper) in qemu_dir or " QEMU_SEARCH
				  : "",
			strerror(-r));
		r = EXIT_NOTFOUND;
	} else if (!o->check &&
		   (cfg.mode == VH_MODE_OFF || !vh_qemu_mentions_vfio(o->qargc, o->qargv))) {
		/* Nothing to check: QEMU, libxml2 never loaded. */
		r = -1;
	} else {
		r = check(o, &cfg, bin, &e);
	}
	vh_config_done(&cfg);
	if (r >= 0)
		return r;
	fflush(NULL);
	return run_exec(bin, o->qargv);
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int r;

	r = parse_argv(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : EXIT_OK;
	return run(&o);
}
