/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks: the command-line front end.  Parses global options, then
 * dispatches to one sub-command from a table. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/paths.h"
#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	const char *help;
} commands[] = {
    {"check", cmd_check, "check [FILE|-] | --domain NAME | --all   judge a domain XML"},
    {"list", cmd_list,
     "list [--all]                             the devices that matter for passthrough"},
    {"doctor", cmd_doctor,
     "doctor [--guest] [DEVICE...]             is the host (or this VM) ready? PASS, WARN, FAIL"},
    {"snapshot", cmd_snapshot,
     "snapshot -o FILE.tar                     capture what vfio-hooks reads, for --root"},
    {"bind", cmd_bind, "bind [--persist] DEVICE...               to vfio now (and at every boot)"},
    {"unbind", cmd_unbind,
     "unbind [--persist] DEVICE...             give devices back to the host"},
    {"attach-device", cmd_attach,
     "attach-device DOMAIN FILE                check, prepare and hot-plug a PCI device"},
    {"detach-device", cmd_detach,
     "detach-device DOMAIN FILE|DEVICE         hot-unplug it and give it back"},
    {"recover", cmd_recover,
     "recover                                  finish every undo left in the journals"},
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS] COMMAND [ARGS]\n\n"
		"Check and prepare PCI devices for passthrough to VMs.\n\n"
		"Commands:\n",
		prog);
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fprintf(f,
		"\nOptions:\n"
		"  --root DIR          read /sys, /proc and /dev under DIR (also VFIO_HOOKS_ROOT)\n"
		"  --profiles DIR      load device profiles from DIR instead of the\n"
		"                      default search path (repeatable)\n"
		"  --companions POLICY IOMMU group companions the hook may bind:\n"
		"                      refuse, same-device (default), any\n"
		"  --json              machine-readable output\n"
		"  -n, --numeric       show PCI IDs, not names\n"
		"  -h, --help          this help\n"
		"  --version           the version\n\n"
		"Exit status: 0 no error findings, 1 error findings, 2 usage or input error.\n");
}

int cli_sys(struct cli *cli, struct vh_sys **ret)
{
	struct vh_sys *sys;
	int r;

	r = vh_sys_new(vh_config_sysroot(&cli->cfg, cli->root), &sys);
	if (r < 0)
		return r;
	vh_sys_set_timeout_ms(sys, cli->cfg.timeout_ms);
	if (!cli->numeric)
		vh_sys_set_namer(sys, vh_pci_names_udev);
	*ret = sys;
	return 0;
}

int cli_profiles(struct cli *cli, const struct vh_pci_id *ids, size_t n, struct vh_profiles *ret)
{
	struct vh_err e = {0};
	const char *const *dirs = NULL;
	struct vh_sys *sys = NULL;
	int r, dfd = -1;

	if (cli->n_profile_dirs)
		dirs = cli->profile_dirs;
	else if (cli->cfg.profiles[0])
		dirs = (const char *const *)cli->cfg.profiles;
	/* Validation stamps spare RelaxNG for unchanged profiles, as in the
	 * hook: as root the hook's state directory (never created by the
	 * CLI), else the user's cache directory. */
	if (cli_sys(cli, &sys) == 0)
		dfd = vh_stamp_dir_open(sys, false);
	r = vh_profiles_load_stamped(dirs, dfd, ids, n, ret, &e);
	vh_sys_free(sys);
	if (r < 0)
		fprintf(stderr, "%s: %s\n", cli->prog, e.msg);
	return r;
}

/* The global options, up to the command's name: 1 to go on (argv[optind]
 * the command), else 0 with the exit status in *@status. */
static int parse_argv(int argc, char **argv, struct cli *cli, int *status)
{
	enum { OPT_ROOT = 256, OPT_PROFILES, OPT_JSON, OPT_VERSION, OPT_COMP };
	static const struct option opts[] = {
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"profiles", required_argument, NULL, OPT_PROFILES},
	    {"companions", required_argument, NULL, OPT_COMP},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"numeric", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {0},
	};
	int c;

	*status = EXIT_USAGE;
	/* Stop at the first non-option: the sub-command parses the rest. */
	while ((c = getopt_long(argc, argv, "+nh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			cli->root = optarg;
			break;
		case OPT_PROFILES:
			if (cli->n_profile_dirs + 1 >= (int)ELEMENTSOF(cli->profile_dirs)) {
				fprintf(stderr, "%s: too many --profiles\n", cli->prog);
				return 0;
			}
			cli->profile_dirs[cli->n_profile_dirs++] = optarg;
			break;
		case OPT_COMP:
			cli->companions_set = true;
			if (vh_companions_parse(optarg, &cli->check.companions) < 0) {
				fprintf(
				    stderr,
				    "%s: --companions takes refuse, same-device or any, not '%s'\n",
				    cli->prog, optarg);
				return 0;
			}
			break;
		case OPT_JSON:
			cli->json = true;
			break;
		case 'n':
			cli->numeric = true;
			break;
		case 'h':
			usage(stdout, cli->prog);
			*status = EXIT_OK;
			return 0;
		case OPT_VERSION:
			printf("vfio-hooks %s\n", VH_VERSION);
			*status = EXIT_OK;
			return 0;
		default:
			usage(stderr, cli->prog);
			return 0;
		}
	}
	if (optind >= argc) {
		usage(stderr, cli->prog);
		return 0;
	}
	return 1;
}

/* The configuration, then the command named by argv[optind]. */
static int run(int argc, char **argv, struct cli *cli)
{
	struct vh_err e = {0};
	int r = EXIT_USAGE;

	vh_config_init(&cli->cfg);
	if (vh_config_load(&cli->cfg, vh_config_path(), &e) < 0) {
		fprintf(stderr, "%s: %s\n", cli->prog, e.msg);
		vh_config_done(&cli->cfg);
		return EXIT_USAGE;
	}
	if (!cli->companions_set)
		cli->check.companions = cli->cfg.companions;
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(argv[optind], commands[i].name)) {
			/* The sub-command sees its own argv[0]. */
			optind++;
			r = commands[i].fn(cli, argc - optind + 1, argv + optind - 1);
			vh_config_done(&cli->cfg);
			return r;
		}
	fprintf(stderr, "%s: unknown command '%s' (see --help)\n", cli->prog, argv[optind]);
	vh_config_done(&cli->cfg);
	return r;
}

int main(int argc, char **argv)
{
	struct cli cli = {
	    .prog = "vfio-hooks",
	    .check.companions = VH_COMPANIONS_SAME_DEVICE,
	};
	int status;

	if (parse_argv(argc, argv, &cli, &status) <= 0)
		return status;
	return run(argc, argv, &cli);
}
