/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the domain XML reader and every rule, over a fake host. */
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "../lib/domain.h"
#include "../tests/fakesys.h"

static struct vh_sys *sys;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct vh_domain *d = NULL;
	struct vh_report rep;
	struct vh_err e = {0};

	if (!sys) {
		char err[256], *root = fakesys_mkroot();
		if (!root ||
		    fakesys_build(root,
				  "iommu dmar0\n"
				  "0000:01:00.0 id=17cb:a100 class=0x120000 "
				  "driver=qaic group=1 msi=32 pcie\n"
				  "0000:02:00.0 id=10de:2204 class=0x030000 "
				  "driver=nouveau group=2 pcie\n"
				  "0000:02:00.1 id=10de:1aef class=0x040300 "
				  "driver=snd_hda_intel group=2 pcie\n",
				  err, sizeof(err)) < 0 ||
		    vh_sys_new(root, &sys) < 0)
			abort();
		free(root);
	}
	if (vh_domain_parse((const char *)data, size, "fuzz", &d, &e) < 0)
		return 0;
	if (vh_check_domain(sys, NULL, d, NULL, &rep) == 0) {
		struct vh_buf b = {0};
		vh_report_text(&rep, &b);
		vh_report_json(&rep, &b);
		vh_report_oneline(&rep, VH_INFO, &b);
		vh_buf_done(&b);
		vh_report_done(&rep);
	}
	vh_domain_free(d);
	return 0;
}
