/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks list and doctor: the host as passthrough sees it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/engine.h"
#include "../lib/guest.h"
#include "../lib/host.h"
#include "../lib/inuse.h"
#include "../lib/list.h"
#include "cli.h"

struct hostrun {
	struct vh_sys *sys;
	struct vh_profiles ps;
	struct vh_config cfg;
};

static int open_host(struct cli *cli, struct hostrun *h)
{
	if (cli_sys(cli, &h->sys) < 0)
		return EXIT_USAGE;
	if (cli_profiles(cli, NULL, 0, &h->ps) < 0) {
		vh_sys_free(h->sys);
		return EXIT_USAGE;
	}
	return 0;
}

/* Prints what o holds (when given) to stdout, frees it and the host;
 * returns status. */
static int close_host(struct hostrun *h, struct vh_buf *o, int status)
{
	if (o) {
		fputs(vh_buf_str(o), stdout);
		vh_buf_done(o);
	}
	vh_profiles_done(&h->ps);
	vh_sys_free(h->sys);
	return status;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct hostrun h = {0};
	struct vh_listing l = {0};
	struct vh_buf o = {0};
	bool show_all = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		if (c == 'a') {
			show_all = true;
		} else {
			fputs(
			    "Usage: vfio-hooks list [--all]\nThe PCI functions that matter for passthrough (--all: every one).\n",
			    c == 'h' ? stdout : stderr);
			return c == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (open_host(cli, &h))
		return EXIT_USAGE;
	r = vh_listing_gather(h.sys, &h.ps, &cli->cfg, show_all, &l);
	if (r < 0) {
		fprintf(stderr, "vfio-hooks: cannot list /sys/bus/pci/devices: %s\n", strerror(-r));
		return close_host(&h, NULL, EXIT_USAGE);
	}
	if (cli->json)
		vh_listing_json(&l, &o);
	else
		vh_listing_text(&l, &o);
	vh_listing_done(&l);
	return close_host(&h, &o, EXIT_OK);
}

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
	struct hostrun h = {0};
	struct vh_hostreport rep;
	struct vh_pci_addr *devs = NULL;
	struct vh_buf o = {0};
	size_t n = 0;
	bool guest = false;
	int r;

	for (int i = 1; i < argc; i++) {
		struct vh_pci_addr a;
		if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
			fputs(
			    "Usage: vfio-hooks doctor [--guest] [DEVICE...]\n"
			    "PASS, WARN or FAIL per check of the host (--guest: of the VM it runs in), with the fix; exit 1 when any check fails.\n",
			    stdout);
			free(devs);
			return EXIT_OK;
		}
		if (streq(argv[i], "--guest")) {
			guest = true;
			continue;
		}
		if (vh_pci_addr_parse(argv[i], &a) < 0) {
			fprintf(stderr,
				"vfio-hooks doctor: '%s' is not a PCI address like 0000:01:00.0\n",
				argv[i]);
			free(devs);
			return EXIT_USAGE;
		}
		{
			struct vh_pci_addr *more = realloc(devs, (n + 1) * sizeof(*devs));
			if (!more) {
				free(devs);
				return EXIT_USAGE;
			}
			devs = more;
		}
		devs[n++] = a;
	}
	if (open_host(cli, &h)) {
		free(devs);
		return EXIT_USAGE;
	}
	r = guest ? vh_guest_doctor(h.sys, &h.ps, devs, n, &rep)
		  : vh_host_doctor(h.sys, &h.ps, devs, n, &rep);
	free(devs);
	if (r < 0)
		return close_host(&h, NULL, EXIT_USAGE);
	if (cli->json)
		vh_hostreport_json(&rep, &o);
	else
		vh_hostreport_text(&rep, &o);
	r = rep.n_fail ? EXIT_FINDINGS : EXIT_OK;
	vh_hostreport_done(&rep);
	return close_host(&h, &o, r);
}
