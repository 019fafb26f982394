/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-hooks list and doctor: the host as passthrough sees it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/engine.h"
#include "../lib/journal.h"
#include "../lib/guest.h"
#include "../lib/host.h"
#include "../lib/inuse.h"
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

static void close_host(struct hostrun *h)
{
	vh_profiles_done(&h->ps);
	vh_sys_free(h->sys);
}

/* The domain holding a device per the journals, without creating the state
 * directory when there is none: 1 held (@name), 0 not, or -errno when the
 * journals cannot be read (the state directory not private, a journal
 * list cut short): then nobody can say, and the listing says so. */
static int holder(struct cli *cli, struct hostrun *h, const struct vh_pci_addr *a, char *name,
		  size_t n)
{
	struct vh_engine en = {.sys = h->sys, .cfg = &cli->cfg};
	char uuid[64];
	int r;

	name[0] = '\0';
	if (vh_journal_dir_exists(h->sys) <= 0)
		return 0;
	r = vh_engine_holder(&en, a, name, n, uuid, sizeof(uuid));
	if (r <= 0)
		name[0] = '\0';
	else if (!name[0]) /* a journal without a domain name */
		snprintf(name, n, "domain %s", uuid[0] ? uuid : "(unnamed)");
	return r;
}

static void json_s(struct vh_buf *o, const char *k, const char *v)
{
	vh_buf_printf(o, ",\"%s\":", k);
	if (!v) {
		vh_buf_puts(o, "null");
		return;
	}
	vh_buf_puts(o, "\"");
	vh_buf_json_str(o, v);
	vh_buf_puts(o, "\"");
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct hostrun h = {0};
	struct vh_pci_addr *all = NULL;
	struct vh_buf o = {0};
	bool show_all = false;
	int c, n, shown = 0;

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
	n = vh_pci_list(h.sys, &all);
	if (n < 0) {
		fprintf(stderr, "vfio-hooks: cannot list /sys/bus/pci/devices: %s\n", strerror(-n));
		close_host(&h);
		return EXIT_USAGE;
	}
	if (cli->json)
		vh_buf_puts(&o, "[");
	for (int i = 0; i < n; i++) {
		struct vh_pci_dev d;
		const struct vh_profile *p;
		struct vh_pci_addr *m = NULL;
		char vn[96], mn[128], held[256], a[VH_PCI_ADDR_LEN];
		char unknown[160] = "";
		struct vh_uses uses;
		int nm = 0, hr;

		if (vh_pci_dev_read(h.sys, &all[i], &d) < 0)
			continue;
		p = vh_profiles_match(&h.ps, &d);
		if (!show_all && !vh_pci_interesting(&d, p))
			continue;
		vh_pci_names(h.sys, d.vendor, d.device, vn, sizeof(vn), mn, sizeof(mn));
		hr = holder(cli, &h, &d.addr, held, sizeof(held));
		if (hr == -EACCES && geteuid() != 0)
			snprintf(unknown, sizeof(unknown), "only root can read the journals in %s",
				 VH_JOURNAL_DIR);
		else if (hr < 0)
			snprintf(unknown, sizeof(unknown), "cannot read the journals in %s: %s",
				 VH_JOURNAL_DIR, strerror(-hr));
		if (d.iommu_group >= 0)
			nm = vh_iommu_group_members(h.sys, d.iommu_group, &m);
		/* What the check's device-in-use rule would say of it. */
		if (vh_pci_in_use(h.sys, &d, &uses) < 0)
			uses = (struct vh_uses){0};
		if (cli->json) {
			vh_buf_printf(&o, "%s{\"address\":\"%s\"", shown ? "," : "", d.name);
			vh_buf_printf(&o,
				      ",\"vendor\":\"%04x\",\"device\":\"%04x\",\"class\":\"%06x\"",
				      d.vendor, d.device, d.class);
			json_s(&o, "name", mn[0] ? mn : p ? p->description : NULL);
			json_s(&o, "driver", d.driver[0] ? d.driver : NULL);
			if (d.iommu_group >= 0)
				vh_buf_printf(&o, ",\"iommu_group\":%d", d.iommu_group);
			else
				vh_buf_puts(&o, ",\"iommu_group\":null");
			vh_buf_puts(&o, ",\"group_members\":[");
			for (int k = 0; k < nm; k++) {
				vh_pci_addr_format(&m[k], a);
				vh_buf_printf(&o, "%s\"%s\"", k ? "," : "", a);
			}
			vh_buf_puts(&o, "]");
			json_s(&o, "reset_method", d.has_reset_method ? d.reset_method : NULL);
			vh_buf_printf(&o, ",\"msi_vectors\":%u,\"msix_vectors\":%u",
				      d.caps.msi_vectors, d.caps.msix_vectors);
			if (d.sriov_totalvfs >= 0)
				vh_buf_printf(&o, ",\"sriov\":{\"total\":%d,\"num\":%d}",
					      d.sriov_totalvfs, d.sriov_numvfs);
			else
				vh_buf_puts(&o, ",\"sriov\":null");
			if (d.is_vf) {
				vh_pci_addr_format(&d.physfn, a);
				json_s(&o, "physfn", a);
			}
			json_s(&o, "profile", p ? p->id : NULL);
			json_s(&o, "held_by", held[0] ? held : NULL);
			vh_buf_puts(&o, ",\"in_use\":[");
			for (size_t k = 0; k < uses.n; k++) {
				vh_buf_printf(&o, "%s{", k ? "," : "");
				vh_buf_json_kv(&o, "severity",
					       uses.v[k].error ? "error" : "warning", true);
				vh_buf_json_kv(&o, "reason", uses.v[k].reason, true);
				vh_buf_json_kv(&o, "fix", uses.v[k].fix, false);
				vh_buf_puts(&o, "}");
			}
			vh_buf_puts(&o, "]");
			if (unknown[0])
				json_s(&o, "held_by_error", unknown);
			vh_buf_puts(&o, "}");
		} else {
			vh_buf_printf(&o, "%s %s [%04x]: %s%s%s [%04x:%04x]\n", d.name,
				      vh_pci_class_name(d.class), d.class >> 8, vn[0] ? vn : "",
				      vn[0] ? " " : "",
				      mn[0] ? mn
				      : p   ? p->description
					    : "Device",
				      d.vendor, d.device);
			vh_buf_printf(&o, "\tDriver: %s\n", d.driver[0] ? d.driver : "(none)");
			if (d.iommu_group >= 0) {
				vh_buf_printf(&o, "\tIOMMU group %d:", d.iommu_group);
				for (int k = 0; k < nm; k++) {
					vh_pci_addr_format(&m[k], a);
					vh_buf_printf(&o, " %s", a);
				}
				vh_buf_puts(&o, "\n");
			} else {
				vh_buf_puts(&o, "\tIOMMU group: none (IOMMU off?)\n");
			}
			vh_buf_printf(&o, "\tReset method: %s   MSI: %u   MSI-X: %u",
				      d.has_reset_method
					  ? (d.reset_method[0] ? d.reset_method : "(disabled)")
					  : "(none)",
				      d.caps.msi_vectors, d.caps.msix_vectors);
			if (d.sriov_totalvfs >= 0)
				vh_buf_printf(&o, "   SR-IOV: %d of %d VFs", d.sriov_numvfs,
					      d.sriov_totalvfs);
			if (d.is_vf) {
				vh_pci_addr_format(&d.physfn, a);
				vh_buf_printf(&o, "   VF of %s", a);
			}
			vh_buf_printf(&o, "\n\tProfile: %s   Held by: %s%s%s\n",
				      p ? p->id : "(none)",
				      held[0]	   ? held
				      : unknown[0] ? "unknown ("
						   : "-",
				      unknown, unknown[0] ? ")" : "");
			for (size_t k = 0; k < uses.n; k++)
				vh_buf_printf(&o, "\tIn use by the host: %s\n", uses.v[k].reason);
		}
		vh_uses_done(&uses);
		free(m);
		shown++;
	}
	if (cli->json)
		vh_buf_puts(&o, "]\n");
	else if (!shown)
		vh_buf_puts(
		    &o,
		    show_all
			? "No PCI functions.\n"
			: "No accelerator, display or co-processor function and no profiled device (see --all).\n");
	fputs(vh_buf_str(&o), stdout);
	vh_buf_done(&o);
	free(all);
	close_host(&h);
	return EXIT_OK;
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
	if (r < 0) {
		close_host(&h);
		return EXIT_USAGE;
	}
	if (cli->json)
		vh_hostreport_json(&rep, &o);
	else
		vh_hostreport_text(&rep, &o);
	fputs(vh_buf_str(&o), stdout);
	vh_buf_done(&o);
	r = rep.n_fail ? EXIT_FINDINGS : EXIT_OK;
	vh_hostreport_done(&rep);
	close_host(&h);
	return r;
}
