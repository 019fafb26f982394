/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks check: judge domain XMLs against their devices' needs. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/paths.h"
#include "../lib/xml.h"
#include "cli.h"

struct run {
	struct cli *cli;
	struct vh_sys *sys;
	struct vh_profiles profiles;
	bool loaded;	   /* the profiles */
	bool failed;	   /* loading them (said) */
	struct vh_buf out; /* --all --json: the array being built */
	size_t n_json;
	bool array;
};

/* opts->load_profiles of a check of one document. */
static int load_profiles(void *ud, const struct vh_pci_id *ids, size_t n)
{
	struct run *run = ud;
	int r;

	r = cli_profiles(run->cli, ids, n, &run->profiles);
	run->failed = r < 0;
	run->loaded = r == 0;
	return r;
}

/* Check one document; returns the exit status it deserves. */
static int check_one(void *ud, const char *what, const char *xml)
{
	struct run *run = ud;
	_cleanup_domain_ struct vh_domain *dom = NULL;
	struct vh_check_opts opts;
	struct vh_report rep;
	struct vh_err e = {0};
	struct vh_buf out = {0};
	int r;

	r = vh_domain_parse(xml, strlen(xml), what, &dom, &e);
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: %s\n", e.msg);
		return EXIT_USAGE;
	}
	opts = run->cli->check;
	if (!run->loaded) {
		/* One document: the check matches its devices only, so the
		 * other devices' profiles need no parsing (as in the hook). */
		opts.load_profiles = load_profiles;
		opts.load_ud = run;
	}
	r = vh_check_domain(run->sys, &run->profiles, dom, &opts, &rep);
	if (r < 0 && run->failed)
		return EXIT_USAGE; /* said */
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: checking %s: %s\n", what, strerror(-r));
		return EXIT_USAGE;
	}
	if (run->cli->json)
		vh_report_json(&rep, &out);
	else
		vh_report_text(&rep, &out);
	if (run->cli->json) {
		if (run->array) {
			vh_buf_printf(&run->out, "%s%s", run->n_json++ ? "," : "",
				      vh_buf_str(&out));
		} else {
			fputs(vh_buf_str(&out), stdout);
		}
	} else {
		fputs(vh_buf_str(&out), stdout);
	}
	r = rep.n_error ? EXIT_FINDINGS : EXIT_OK;
	vh_buf_done(&out);
	vh_report_done(&rep);
	return r;
}

static void usage(FILE *f)
{
	fputs(
	    "Usage: vfio-hooks [OPTIONS] check [FILE|-]\n"
	    "       vfio-hooks [OPTIONS] check --domain NAME [--connect URI]\n"
	    "       vfio-hooks [OPTIONS] check --all [--connect URI]\n\n"
	    "Judge a libvirt domain XML against what each passed-through PCI\ndevice needs, and say what to add where.  FILE '-' or none: standard input.\n"
	    "--domain and --all read the persistent definition through libvirt\n(default connection qemu:///system, read-only).\n",
	    f);
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	enum { OPT_DOMAIN = 256, OPT_ALL, OPT_CONNECT };
	static const struct option opts[] = {
	    {"domain", required_argument, NULL, OPT_DOMAIN},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"connect", required_argument, NULL, OPT_CONNECT},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *domain = NULL, *uri = NULL, *file = NULL;
	bool all = false;
	struct run run = {.cli = cli};
	struct vh_err e = {0};
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DOMAIN:
			domain = optarg;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_CONNECT:
			uri = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc || (!!file + !!domain + all) > 1) {
		fprintf(stderr, "vfio-hooks check: give one of FILE, --domain NAME or --all\n");
		return EXIT_USAGE;
	}

	r = cli_sys(cli, &run.sys);
	if (r < 0)
		return EXIT_USAGE;
	if (domain || all) {
		r = cli_profiles(cli, NULL, 0, &run.profiles);
		if (r < 0) {
			vh_sys_free(run.sys);
			return EXIT_USAGE;
		}
		run.loaded = true;
	} /* else loaded by the check, its devices known */

	if (domain || all) {
		run.array = all && cli->json;
		r = virt_for_each_domain(uri, domain, check_one, &run);
		if (run.array)
			printf("[%s]\n", vh_buf_str(&run.out));
	} else {
		_cleanup_free_ char *buf = NULL;
		size_t len;
		const char *what = file && !streq(file, "-") ? file : "standard input";
		if (what == file) /* and its error, if any */
			r = vh_read_file_capped(file, VH_XML_MAX_BYTES, &buf, &len, &e);
		else
			r = vh_read_fd_capped(STDIN_FILENO, what, VH_XML_MAX_BYTES, &buf, &len, &e);
		if (r < 0) {
			fprintf(stderr, "vfio-hooks: %s\n", e.msg);
			r = EXIT_USAGE;
		} else if (strlen(buf) != len) {
			fprintf(stderr,
				"vfio-hooks: %s:%d: malformed XML: a NUL byte at offset %zu.\n",
				what, 1, strlen(buf));
			r = EXIT_USAGE;
		} else {
			r = check_one(&run, what, buf);
		}
	}
	vh_buf_done(&run.out);
	vh_profiles_done(&run.profiles);
	vh_sys_free(run.sys);
	return r;
}
