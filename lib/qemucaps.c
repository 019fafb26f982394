/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "qemucaps.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "xml.h"

#define CAPS_DIR "/var/cache/libvirt/qemu/capabilities"
/* A probe is about 200-400 KiB. */
#define CAPS_MAX_BYTES (8u << 20)

/* The version in one probe file when it is @emulator's, else 0. */
static unsigned probe_version(const struct vh_sys *sys, const char *name, const char *emulator)
{
	static const char *const keep[] = {"qemuCaps/emulator/...", "qemuCaps/version/...", NULL};
	_cleanup_free_ char *buf = NULL, *emu = NULL, *ver = NULL;
	_cleanup_doc_ xmlDoc *doc = NULL;
	unsigned long long v;
	struct vh_err e = {0};
	size_t len;
	char want[PATH_MAX + 32];
	xmlNode *root;

	if (vh_sys_read_trusted(sys, CAPS_MAX_BYTES, &buf, &len, &e, CAPS_DIR "/%s", name) < 0)
		return 0;
	/* libvirt writes the emulator first: most files are another's. */
	snprintf(want, sizeof(want), "<emulator>%s</emulator>", emulator);
	if (!memmem(buf, len < 4096 ? len : 4096, want, strlen(want)))
		return 0;
	if (vh_xml_parse_keep(buf, len, name, VH_XML_LEAN, keep, &doc, &e) < 0)
		return 0;
	root = sym_xmlDocGetRootElement(doc);
	if (!vh_xml_is(root, "qemuCaps"))
		return 0;
	emu = vh_xml_text(vh_xml_child(root, "emulator"));
	ver = vh_xml_text(vh_xml_child(root, "version"));
	if (!streq(emu, emulator) || !ver || vh_parse_uint(ver, 10, 999999999ULL, &v) < 0)
		return 0;
	return (unsigned)v;
}

unsigned vh_qemu_version(const struct vh_sys *sys, const char *emulator)
{
	char **names = NULL;
	unsigned v = 0;
	int n;

	if (!emulator || emulator[0] != '/' || strlen(emulator) > PATH_MAX ||
	    strpbrk(emulator, "<>&"))
		return 0;
	n = vh_sys_list(sys, &names, CAPS_DIR);
	for (int i = 0; i < n && !v; i++) {
		size_t l = strlen(names[i]);
		if (l > 4 && streq(names[i] + l - 4, ".xml"))
			v = probe_version(sys, names[i], emulator);
	}
	vh_strv_free(names);
	return v;
}

void vh_viommu_effective(const struct vh_domain *d, unsigned qemu_version,
			 struct vh_viommu_eff *ret)
{
	bool kvm = streq(d->virt_type, "kvm");

	*ret = (struct vh_viommu_eff){
	    .intremap = d->intremap,
	    .eim = d->eim,
	    .irq_all_kernel = kvm && !streq(d->ioapic_driver, "qemu"),
	};
	if (ret->intremap != VH_ON && ret->intremap != VH_OFF) {
		ret->intremap = VH_ABSENT;
		if (qemu_version >= VH_QEMU_VERSION(4, 1, 0))
			ret->intremap = ret->irq_all_kernel ? VH_OFF : VH_ON;
		else if (qemu_version)
			ret->intremap = VH_OFF;
		ret->defaulted = ret->intremap != VH_ABSENT;
	}
	if (ret->eim != VH_ON && ret->eim != VH_OFF) {
		ret->eim = VH_ABSENT;
		if (qemu_version && ret->intremap != VH_ABSENT)
			ret->eim = kvm && ret->intremap == VH_ON ? VH_ON : VH_OFF;
	}
}
