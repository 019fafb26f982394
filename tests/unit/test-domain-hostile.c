/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_domain_parse on hostile documents: malformed, external entities,
 * entity expansion, NUL bytes, invalid UTF-8, deep nesting, size limits,
 * and the pruned parse against the whole tree.
 */
#include "fixture-domain.h"

/* --- hostile input --- */

static void malformed_line_and_column(void **state UNUSED)
{
	const char *xml = "<domain type='kvm'>\n"
			  "  <name>vm</name>\n"
			  "  <devices><hostdev></devices>\n"
			  "</domain>\n";
	struct vh_err e;
	int line = -1, col = -1;
	const char *p;

	parse_fail(xml, strlen(xml), -EBADMSG, &e);
	p = strstr(e.msg, "test.xml:");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "test.xml:%d:%d:", &line, &col), 2);
	assert_int_equal(line, 3);
	assert_true(col > 0);
	assert_non_null(strstr(e.msg, "malformed"));

	xml = "<domain><name>x</name>";
	parse_fail(xml, strlen(xml), -EBADMSG, &e);
	assert_non_null(strstr(e.msg, "test.xml:1:"));

	xml = "<domain a='1' a='2'/>";
	parse_fail(xml, strlen(xml), -EBADMSG, &e);
	assert_non_null(strstr(e.msg, "test.xml:1:"));
}

static void empty_input(void **state UNUSED)
{
	struct vh_err e;

	parse_fail("", 0, -EBADMSG, &e);
	assert_non_null(strstr(e.msg, "test.xml"));
	parse_fail("   \n\n ", 6, -EBADMSG, &e);
	parse_fail("<?xml version='1.0'?>", 21, -EBADMSG, &e);
}

static void root_not_domain(void **state UNUSED)
{
	const char *xml = "<network><name>default</name></network>";
	struct vh_err e;

	parse_fail(xml, strlen(xml), -EBADMSG, &e);
	assert_non_null(strstr(e.msg, "<network>"));
	assert_non_null(strstr(e.msg, "<domain>"));
	assert_non_null(strstr(e.msg, "test.xml"));

	xml = "<domainsnapshot><domain type='kvm'/></domainsnapshot>";
	parse_fail(xml, strlen(xml), -EBADMSG, &e);
	assert_non_null(strstr(e.msg, "<domainsnapshot>"));
}

/* Read a file's first line into @buf ("" when unreadable). */
static void first_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)n, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
}

static void check_no_leak(const char *xml, const char *secret)
{
	struct vh_domain *d = NULL;
	struct vh_err e = {0};
	int r;

	r = vh_domain_parse(xml, strlen(xml), "evil.xml", &d, &e);
	if (r == 0) {
		/* Accepted: the secret must appear nowhere in the model. */
		if ((d->name && strstr(d->name, secret)) || (d->uuid && strstr(d->uuid, secret)))
			fail_msg("external entity expanded into the model");
		vh_domain_free(d);
		fail_msg("a document with <!DOCTYPE> was accepted");
	}
	assert_int_equal(r, -EBADMSG);
	assert_null(d);
	if (secret[0] && strstr(e.msg, secret))
		fail_msg("the file content leaked into the message: %s", e.msg);
	assert_non_null(strstr(e.msg, "DOCTYPE"));
	assert_non_null(strstr(e.msg, "evil.xml"));
}

static void doctype_external_entity(void **state UNUSED)
{
	char *root = fakesys_mkroot(), path[4096], xml[8192], host[256];
	const char *secret = "CANARY-7f3a9c-external-entity";

	assert_non_null(root);
	assert_int_equal(fakesys_put(root, "secret.txt", secret), 0);
	snprintf(path, sizeof(path), "%s/secret.txt", root);

	snprintf(xml, sizeof(xml),
		 "<?xml version='1.0'?>\n"
		 "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file://%s'>]>\n"
		 "<domain type='kvm'><name>&x;</name></domain>\n",
		 path);
	check_no_leak(xml, secret);

	/* Plain path, no file:// */
	snprintf(xml, sizeof(xml),
		 "<!DOCTYPE domain [<!ENTITY x SYSTEM '%s'>]>"
		 "<domain type='kvm'><name>a</name><uuid>&x;</uuid></domain>",
		 path);
	check_no_leak(xml, secret);

	/* An external DTD. */
	snprintf(xml, sizeof(xml), "<!DOCTYPE domain SYSTEM '%s'><domain><name>b</name></domain>",
		 path);
	check_no_leak(xml, secret);

	/* Parameter entities. */
	snprintf(xml, sizeof(xml),
		 "<!DOCTYPE domain [<!ENTITY %% p SYSTEM '%s'> %%p;]>"
		 "<domain><name>c</name></domain>",
		 path);
	check_no_leak(xml, secret);

	/* /etc/hostname, as a real attacker would. */
	first_line("/etc/hostname", host, sizeof(host));
	snprintf(xml, sizeof(xml),
		 "<!DOCTYPE domain [<!ENTITY h SYSTEM 'file:///etc/hostname'>]>"
		 "<domain type='kvm'><name>&h;</name></domain>");
	check_no_leak(xml, strlen(host) >= 4 ? host : secret);

	fakesys_rmrf(root);
	free(root);
}

static void billion_laughs(void **state UNUSED)
{
	const char *xml = "<?xml version='1.0'?>\n"
			  "<!DOCTYPE domain [\n"
			  " <!ENTITY a \"lollollollollollollollollollol\">\n"
			  " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
			  " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
			  " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
			  " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
			  " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
			  " <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
			  " <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
			  " <!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">\n"
			  "]>\n"
			  "<domain type='kvm'><name>&i;</name><uuid>&i;</uuid>"
			  "<description>&i;&i;&i;&i;</description></domain>\n";
	struct timespec t0, t1;
	struct vh_err e;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	parse_fail(xml, strlen(xml), -EBADMSG, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	assert_true(ms < 1000.0);
	assert_non_null(strstr(e.msg, "DOCTYPE"));
	assert_null(strstr(e.msg, "lollol"));
}

static void nul_bytes(void **state UNUSED)
{
	static const char x1[] = "<domain type='kvm'><name>a\0b</name></domain>";
	static const char x2[] = "<domain type='kvm'>\0<name>a</name></domain>";
	static const char x3[] = "<domain type='k\0vm'><name>a</name></domain>";
	static const char x4[] = "<domain type='kvm'><name>a</name></domain>\0<devices><hostdev "
				 "mode='subsystem' type='pci'><source><address bus='1'/>"
				 "</source></hostdev></devices>";
	struct vh_domain *d = NULL;
	struct vh_err e = {0};
	int r;

	parse_fail(x1, sizeof(x1) - 1, -EBADMSG, &e);
	parse_fail(x2, sizeof(x2) - 1, -EBADMSG, &e);
	parse_fail(x3, sizeof(x3) - 1, -EBADMSG, &e);
	assert_non_null(strstr(e.msg, "test.xml:1:"));
	/* Text after a NUL that follows the root element: libxml2 stops at
	 * the NUL, as libvirt (which parses a C string) does.  Either refuse
	 * it, or judge exactly what libvirt sees: the part before the NUL. */
	r = vh_domain_parse(x4, sizeof(x4) - 1, "test.xml", &d, &e);
	if (r == 0) {
		size_t n = d->n_hostdevs;
		bool name_ok = streq(d->name, "a");
		vh_domain_free(d);
		assert_int_equal(n, 0);
		assert_true(name_ok);
	} else {
		assert_int_equal(r, -EBADMSG);
	}
}

static void invalid_utf8(void **state UNUSED)
{
	static const char *const v[] = {
	    "<domain type='kvm'><name>\xff\xfe</name></domain>",
	    "<?xml version='1.0' encoding='UTF-8'?><domain><name>\xc3\x28"
	    "</name></domain>",
	    "<domain type='kvm'><name>a\xed\xa0\x80</name></domain>",
	    "<domain type='\x80'><name>a</name></domain>",
	    "<domain><name>\xc0\xaf</name></domain>",
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		struct vh_err e;
		parse_fail(v[i], strlen(v[i]), -EBADMSG, &e);
		assert_non_null(strstr(e.msg, "test.xml:1:"));
	}
}

static void deep_nesting(void **state UNUSED)
{
	const size_t depth = 100000;
	size_t len = strlen("<domain>") + depth * 3 + depth * 4 + strlen("</domain>");
	char *xml = malloc(len + 1), *p;
	struct vh_err e;

	assert_non_null(xml);
	p = stpcpy(xml, "<domain>");
	for (size_t i = 0; i < depth; i++)
		p = stpcpy(p, "<a>");
	for (size_t i = 0; i < depth; i++)
		p = stpcpy(p, "</a>");
	p = stpcpy(p, "</domain>");
	assert_int_equal((size_t)(p - xml), len);
	/* libxml2 refuses more than 256 levels without XML_PARSE_HUGE. */
	parse_fail(xml, len, -EBADMSG, &e);
	assert_non_null(strstr(e.msg, "test.xml:1:"));
	free(xml);
}

static void deep_nesting_in_devices(void **state UNUSED)
{
	/* 200 levels are within libxml2's limit: parsed, nothing found. */
	const size_t depth = 200;
	char *xml = malloc(64 + depth * 7 + depth * 8), *p;
	struct vh_domain *d;

	assert_non_null(xml);
	p = stpcpy(xml, "<domain><devices>");
	for (size_t i = 0; i < depth; i++)
		p = stpcpy(p, "<iommu>");
	for (size_t i = 0; i < depth; i++)
		p = stpcpy(p, "</iommu>");
	stpcpy(p, "</devices></domain>");
	d = parse_ok(xml);
	assert_true(d->has_iommu);
	assert_null(d->iommu_model);
	vh_domain_free(d);
	free(xml);
}

static void too_large(void **state UNUSED)
{
	size_t len = VH_XML_MAX_BYTES + 1;
	char *xml = malloc(len);
	struct vh_err e;

	assert_non_null(xml);
	memset(xml, ' ', len);
	memcpy(xml, "<domain>", 8);
	parse_fail(xml, len, -EFBIG, &e);
	assert_non_null(strstr(e.msg, "test.xml"));
	free(xml);
}

static void many_hostdevs(void **state UNUSED)
{
	const size_t n = 5000;
	char *xml = malloc(64 + n * 128), *p;
	struct vh_domain *d;

	assert_non_null(xml);
	p = stpcpy(xml, "<domain type='kvm'><devices>\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p,
			     "<hostdev mode='subsystem' type='pci'><source>"
			     "<address bus='%zu' slot='%zu'/></source>"
			     "</hostdev>\n",
			     i % 256, (i / 256) % 32);
	stpcpy(p, "</devices></domain>");
	d = parse_ok(xml);
	assert_int_equal(d->n_hostdevs, n);
	assert_int_equal(d->hostdevs[n - 1].line, (int)n + 1);
	assert_int_equal(d->hostdevs[300].addr.bus, 300 % 256);
	assert_int_equal(d->hostdevs[300].addr.slot, 1);
	vh_domain_free(d);
	free(xml);
}

/* Documents where building part of the tree could go wrong: text with
 * elements inside an element whose text is read, comments, processing
 * instructions, CDATA and character references in kept and skipped
 * elements, a skipped subtree deeper than the pruning's own stacks, our
 * metadata beside another application's, interfaces and disks of every
 * kind, NUMA cells and memory devices. */
static void pruned_same_as_whole_tree(void **state UNUSED)
{
	static const char *const docs[] = {
	    "<domain type='kvm'><name>a<x>b</x>c<!-- n --></name>"
	    "<uuid><![CDATA[6f1c3a52-8d0e-4b7e-9a55-000000000001]]></uuid>"
	    "<vcpu>&#52;</vcpu><memory unit='GiB'>8<?pi x?></memory>"
	    "<os><type arch='x86_64' machine='q35'>h<b/>vm</type>"
	    "<loader>/x</loader></os><devices><!-- c -->"
	    "<hostdev mode='subsystem' type='pci' managed='yes'><?p q?>"
	    "<source><!-- s --><address domain='0' bus='1' slot='2' "
	    "function='3'/><address bus='9'/></source>"
	    "<driver name='vfio'/><alias name='hostdev0'/>"
	    "<address type='pci' bus='7'/>text</hostdev>"
	    "<interface type='hostdev' managed='yes'><mac address='x'/>"
	    "<source><address type='pci' domain='0' bus='4' slot='0' "
	    "function='1'/></source><driver name='vfio'/></interface>"
	    "<interface type='hostdev'><source><address type='usb' bus='1' "
	    "port='2'/></source></interface>"
	    "<interface type='vdpa'><source dev='/dev/vhost-vdpa-0'/>"
	    "</interface><interface type='network'><source "
	    "network='default'/><model type='virtio'/></interface>"
	    "<disk type='nvme' device='disk'><source type='pci' "
	    "managed='yes'><address domain='0' bus='5' slot='0' "
	    "function='0'/></source></disk><disk type='vhostvdpa'/>"
	    "<controller type='pci' model='pci-root'><target/></controller>"
	    "<memory model='dimm'><target><size unit='MiB'>512<x/></size>"
	    "<node>0</node></target></memory>"
	    "<iommu model='intel'><driver intremap='on' caching_mode='on' "
	    "eim='off' iotlb='on' aw_bits='48'/><alias name='i'/></iommu>"
	    "</devices><features><acpi/><ioapic driver='qemu'/><iommu/>"
	    "</features><cpu mode='host-passthrough'><topology sockets='1'/>"
	    "<numa><cell id='0' cpus='0' memory='2' unit='GiB'/>"
	    "<cell id='1' memory='3' unit='GiB'><distances/></cell></numa>"
	    "</cpu><memtune><hard_limit unit='G'>20</hard_limit>"
	    "<soft_limit>1</soft_limit></memtune><memoryBacking><locked/>"
	    "</memoryBacking><maxMemory slots='2' unit='GiB'>64</maxMemory>"
	    "<metadata><app:x xmlns:app='urn:other'><app:mode>off</app:mode>"
	    "</app:x><v:vfio-hooks xmlns:v='urn:vfio-hooks:domain:1'>"
	    "<v:mode>warn</v:mode><v:device address='0000:01:02.3' "
	    "reset-method='bus'><v:vf-setting name='lmem' value='1G'/>"
	    "</v:device></v:vfio-hooks></metadata></domain>",
	    /* The second <os>, <devices>, ... are not read: the first are. */
	    "<domain><os><type>hvm</type></os><os><type>xen</type></os>"
	    "<devices/><devices><hostdev type='pci'><source><address "
	    "bus='1'/></source></hostdev></devices><name/><name>b</name>"
	    "</domain>",
	    /* Not a domain: refused the same way. */
	    "<other><name>x</name><devices><hostdev type='pci'/></devices>"
	    "</other>",
	    /* Malformed inside a skipped subtree: the same error. */
	    "<domain><devices><disk type='file'><driver name='q'>"
	    "</disk></devices></domain>",
	    "<domain><clock><timer name='rtc' name='x'/></clock></domain>",
	};
	char deep[8192];
	size_t k = 0;

	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++)
		assert_same_as_whole_tree(docs[i], strlen(docs[i]), docs[i]);
	/* 40 levels inside a skipped element and inside <metadata>. */
	k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<domain><name>d</name><clock>");
	for (int i = 0; i < 40; i++)
		k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<c%d>", i);
	for (int i = 39; i >= 0; i--)
		k += (size_t)snprintf(deep + k, sizeof(deep) - k, "</c%d>", i);
	k += (size_t)snprintf(deep + k, sizeof(deep) - k,
			      "</clock><metadata><v:x "
			      "xmlns:v='urn:vfio-hooks:domain:1'>");
	for (int i = 0; i < 40; i++)
		k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<v:c>");
	k += (size_t)snprintf(deep + k, sizeof(deep) - k, "<v:mode>off</v:mode>");
	for (int i = 0; i < 40; i++)
		k += (size_t)snprintf(deep + k, sizeof(deep) - k, "</v:c>");
	k += (size_t)snprintf(deep + k, sizeof(deep) - k,
			      "<v:mode>warn</v:mode></v:x></metadata></domain>");
	assert_true(k < sizeof(deep));
	assert_same_as_whole_tree(deep, k, "deep.xml");
}

/* Every domain XML of the test suite (golden cases, end-to-end domains,
 * hostile documents): the pruned parse gives what the whole tree gives. */
static int same_file(const char *path, const struct stat *st UNUSED, int type, struct FTW *f UNUSED)
{
	size_t l = strlen(path), len = 0;
	char *buf = NULL;

	if (type != FTW_F || l < 4 || strcmp(path + l - 4, ".xml") != 0)
		return 0;
	assert_int_equal(vh_read_file_capped(path, 64u << 20, &buf, &len, NULL), 0);
	assert_same_as_whole_tree(buf, len, path);
	free(buf);
	files_seen++;
	return 0;
}

static void pruned_same_on_test_files(void **state UNUSED)
{
	const char *src = getenv("SRCDIR");
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/tests", src && *src ? src : ".");
	files_seen = 0;
	assert_int_equal(nftw(dir, same_file, 16, FTW_PHYS), 0);
	/* The suite has dozens: a wrong directory is not a pass. */
	assert_true(files_seen >= 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(malformed_line_and_column),
	    cmocka_unit_test(empty_input),
	    cmocka_unit_test(root_not_domain),
	    cmocka_unit_test(doctype_external_entity),
	    cmocka_unit_test(billion_laughs),
	    cmocka_unit_test(nul_bytes),
	    cmocka_unit_test(invalid_utf8),
	    cmocka_unit_test(deep_nesting),
	    cmocka_unit_test(deep_nesting_in_devices),
	    cmocka_unit_test(too_large),
	    cmocka_unit_test(many_hostdevs),
	    cmocka_unit_test(pruned_same_as_whole_tree),
	    cmocka_unit_test(pruned_same_on_test_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
