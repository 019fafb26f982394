/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the test-domain*.c files (vh_domain_parse): parsing a
 * document into the domain model, dumping the model, domain XML from parts.
 */
#ifndef VH_TESTS_UNIT_FIXTURE_DOMAIN_H
#define VH_TESTS_UNIT_FIXTURE_DOMAIN_H

/* Not every test file of the family uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"

#include "../../lib/domain.h"
#include "../../lib/xml.h"
#include "../fakesys.h"

static unsigned files_seen;

/* Everything vh_domain_parse gives, as text: two parses agree when their
 * dumps do. */
static void dump(const struct vh_domain *d, struct vh_buf *b)
{
#define S(x) ((x) ? (x) : "(null)")
	vh_buf_printf(b, "name=%s uuid=%s type=%s os=%s arch=%s machine=%s/%d\n", S(d->name),
		      S(d->uuid), S(d->virt_type), S(d->os_type), S(d->arch), S(d->machine),
		      (int)d->machine_kind);
	vh_buf_printf(b,
		      "ioapic=%s iommu_in_features=%d has_iommu=%d model=%s "
		      "ir=%d cm=%d eim=%d iotlb=%d aw=%u\n",
		      S(d->ioapic_driver), d->iommu_in_features, d->has_iommu, S(d->iommu_model),
		      (int)d->intremap, (int)d->caching_mode, (int)d->eim, (int)d->iotlb,
		      d->aw_bits);
	vh_buf_printf(b,
		      "vcpus=%u mem=%llu max=%llu hard=%llu/%d locked=%d "
		      "nvme=%u vdpa=%u phbs=%u mem_error=%s\n",
		      d->vcpus, d->memory_kib, d->max_memory_kib, d->hard_limit_kib,
		      d->has_hard_limit, d->mem_locked, d->n_nvme_disks, d->n_vdpa, d->n_phbs,
		      d->mem_error);
	for (size_t i = 0; i < d->n_numa_cells; i++)
		vh_buf_printf(b, "numa cell %llu\n", d->numa_cells_kib[i]);
	for (size_t i = 0; i < d->n_memory_devices; i++)
		vh_buf_printf(b, "memory device %llu nvdimm=%d\n", d->memory_devices[i].size_kib,
			      d->memory_devices[i].nvdimm);
	for (size_t i = 0; i < d->n_hostdevs; i++) {
		const struct vh_hostdev *h = &d->hostdevs[i];
		vh_buf_printf(b,
			      "hostdev %x:%x:%x.%x ok=%d text=%s error=%s "
			      "managed=%d iface=%d line=%d origin=%s "
			      "driver=%s\n",
			      h->addr.domain, h->addr.bus, h->addr.slot, h->addr.function,
			      h->addr_ok, h->addr_text, h->addr_error, h->managed, h->is_interface,
			      h->line, h->origin, h->driver);
	}
	vh_buf_printf(b,
		      "fw firmware=%s loader=%s cpu=%s model=%d pdpe1gb=%d physaddr=%d/%u "
		      "mmio64=%d/%llu from=%s pcihole64=%d/%llu\n",
		      S(d->fw.firmware), S(d->fw.loader), S(d->fw.cpu_mode), d->fw.cpu_model,
		      d->fw.pdpe1gb, (int)d->fw.physaddr, d->fw.physaddr_bits, d->fw.has_mmio64_mb,
		      d->fw.mmio64_mb, d->fw.mmio64_from, d->fw.has_pcihole64, d->fw.pcihole64_kib);
	vh_buf_printf(b, "meta mode=%d mmio-window=%d/%llu error=%s\n", (int)d->meta.mode,
		      d->meta.has_mmio_window, d->meta.mmio_window, d->meta.error);
	for (size_t i = 0; i < d->meta.n_devices; i++) {
		const typeof(d->meta.devices[0]) *m = &d->meta.devices[i];
		vh_buf_printf(b, "meta device %x:%x:%x.%x reset=%s bad=%s", m->addr.domain,
			      m->addr.bus, m->addr.slot, m->addr.function, S(m->reset_method),
			      m->bad_reset);
		for (size_t k = 0; k < m->vf.n; k++)
			vh_buf_printf(b, " %s=%s", m->vf.v[k].name, m->vf.v[k].value);
		vh_buf_puts(b, "\n");
	}
	vh_buf_printf(b, "nova present=%d ns=%s flavor=%s image=%s\n", d->nova.present, d->nova.ns,
		      d->nova.flavor, d->nova.image);
#undef S
}

/* vh_domain_parse builds only vh_domain_elements of the document: hold it
 * to the parse of the whole tree, result or error, on @len bytes. */
static void assert_same_as_whole_tree(const char *xml, size_t len, const char *what)
{
	struct vh_domain *a = NULL, *b = NULL;
	struct vh_err ea = {0}, eb = {0};
	struct vh_buf da = {0}, db = {0};
	int ra = vh_domain_parse(xml, len, what, &a, &ea);
	int rb = vh_domain_parse_keep(xml, len, what, NULL, &b, &eb);

	if (ra != rb || strcmp(ea.msg, eb.msg) != 0)
		fail_msg("%s: pruned %d '%s', whole tree %d '%s'", what, ra, ea.msg, rb, eb.msg);
	if (a && b) {
		dump(a, &da);
		dump(b, &db);
		if (strcmp(vh_buf_str(&da), vh_buf_str(&db)) != 0)
			fail_msg("%s: pruned parse\n%s\nwhole tree\n%s", what, vh_buf_str(&da),
				 vh_buf_str(&db));
	}
	vh_buf_done(&da);
	vh_buf_done(&db);
	vh_domain_free(a);
	vh_domain_free(b);
}

static struct vh_domain *parse_ok(const char *xml)
{
	struct vh_domain *d = NULL;
	struct vh_err e = {0};
	int r = vh_domain_parse(xml, strlen(xml), "test.xml", &d, &e);

	if (r != 0)
		fail_msg("vh_domain_parse failed (%d): %s", r, e.msg);
	assert_non_null(d);
	assert_int_equal(e.code, 0);
	assert_same_as_whole_tree(xml, strlen(xml), "test.xml");
	return d;
}

/* Parse @len bytes, expect @err, return the message in @e. */
static void parse_fail(const char *xml, size_t len, int err, struct vh_err *e)
{
	struct vh_domain *d = NULL;
	int r;

	*e = (struct vh_err){0};
	r = vh_domain_parse(xml, len, "test.xml", &d, e);
	if (r != err)
		fail_msg("vh_domain_parse returned %d, expected %d (%s)", r, err, e->msg);
	assert_null(d);
	assert_int_equal(e->code, err);
	assert_true(e->msg[0] != '\0');
	assert_same_as_whole_tree(xml, len, "test.xml");
}

/* A domain with @os_type inside <os>, @features, @devices and extra text
 * at the end of <domain>. */
static char *domain_xml(const char *type_elem, const char *features, const char *devices,
			const char *extra)
{
	char *s = NULL;

	if (asprintf(&s,
		     "<domain type='kvm'>\n"
		     "  <name>vm1</name>\n"
		     "  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>\n"
		     "  <memory unit='KiB'>4194304</memory>\n"
		     "  <vcpu placement='static'>4</vcpu>\n"
		     "  <os>\n    %s\n  </os>\n"
		     "  <features>%s</features>\n"
		     "  <devices>%s</devices>\n"
		     "%s"
		     "</domain>\n",
		     type_elem ? type_elem : "<type arch='x86_64' machine='q35'>hvm</type>",
		     features ? features : "", devices ? devices : "", extra ? extra : "") < 0)
		return NULL;
	return s;
}

static struct vh_domain *parse_parts(const char *type_elem, const char *features,
				     const char *devices, const char *extra)
{
	char *xml = domain_xml(type_elem, features, devices, extra);
	struct vh_domain *d;

	assert_non_null(xml);
	d = parse_ok(xml);
	free(xml);
	return d;
}

#endif
