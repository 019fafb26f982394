/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_domain_parse: OpenStack Nova's <metadata><nova:instance>, in each of
 * its namespace's versions, and what only looks like it.
 */
#include "fixture-domain.h"

/* A domain with @metadata inside <metadata>. */
static struct vh_domain *with_metadata(const char *metadata)
{
	char *extra = NULL;
	struct vh_domain *d;

	assert_true(asprintf(&extra, "  <metadata>%s</metadata>\n", metadata) > 0);
	d = parse_parts(NULL, NULL, NULL, extra);
	free(extra);
	return d;
}

/* Nova's <nova:instance> in namespace @ns with @body. */
static struct vh_domain *instance(const char *ns, const char *body)
{
	char *meta = NULL;
	struct vh_domain *d;

	assert_true(asprintf(&meta, "<nova:instance xmlns:nova='%s'>%s</nova:instance>", ns, body) >
		    0);
	d = with_metadata(meta);
	free(meta);
	return d;
}

static void namespace_versions(void **state UNUSED)
{
	/* 1.0 until Nova 22 (Victoria), 1.1 since 23.0.0 (Wallaby); any
	 * later one is Nova's too. */
	static const char *const nova[] = {
	    "http://openstack.org/xmlns/libvirt/nova/1.0",
	    "http://openstack.org/xmlns/libvirt/nova/1.1",
	    "http://openstack.org/xmlns/libvirt/nova/1.2",
	    "http://openstack.org/xmlns/libvirt/nova/2",
	    "http://openstack.org/xmlns/libvirt/nova/10.25.3",
	};
	static const char *const not_nova[] = {
	    "http://openstack.org/xmlns/libvirt/nova/",
	    "http://openstack.org/xmlns/libvirt/nova",
	    "https://openstack.org/xmlns/libvirt/nova/1.1",
	    "HTTP://OPENSTACK.ORG/xmlns/libvirt/nova/1.1",
	    "http://openstack.org/xmlns/libvirt/Nova/1.1",
	    "http://openstack.org/xmlns/libvirt/nova-ext/1.1",
	    "http://openstack.org/xmlns/libvirt/novax/1.1",
	    "http://openstack.org/xmlns/libvirt/nova/1.1/",
	    "http://openstack.org/xmlns/libvirt/nova/1.1/x",
	    "http://openstack.org/xmlns/libvirt/nova/1.1 ",
	    "http://openstack.org/xmlns/libvirt/nova/v1.1",
	    "http://openstack.org/xmlns/libvirt/nova/1..1",
	    "http://openstack.org/xmlns/libvirt/nova/.1",
	    "http://openstack.org/xmlns/libvirt/nova/1.",
	    "http://openstack.org/xmlns/libvirt/nova/-1",
	    "http://openstack.org/xmlns/libvirt/nova/1234567890123456",
	    "urn:x:http://openstack.org/xmlns/libvirt/nova/1.1",
	    "http://example.org/http://openstack.org/xmlns/libvirt/nova/1.1",
	    "",
	};

	for (size_t i = 0; i < ELEMENTSOF(nova); i++) {
		struct vh_domain *d = instance(nova[i], "<nova:flavor name='m1'/>");
		if (!vh_nova_ns(nova[i]) || !d->nova.present)
			fail_msg("'%s' is Nova's namespace", nova[i]);
		assert_string_equal(d->nova.ns, nova[i]);
		assert_string_equal(d->nova.flavor, "m1");
		vh_domain_free(d);
	}
	for (size_t i = 0; i < ELEMENTSOF(not_nova); i++) {
		struct vh_domain *d = instance(not_nova[i], "<nova:flavor name='m1'/>");
		if (vh_nova_ns(not_nova[i]) || d->nova.present)
			fail_msg("'%s' is not Nova's namespace", not_nova[i]);
		assert_string_equal(d->nova.flavor, "");
		vh_domain_free(d);
	}
	assert_false(vh_nova_ns(NULL));
}

/* What Nova writes (nova/tests/unit/virt/libvirt/test_config.py,
 * LibvirtConfigGuestMetadataNovaTest). */
static void instance_fields(void **state UNUSED)
{
	struct vh_domain *d = instance(
	    "http://openstack.org/xmlns/libvirt/nova/1.1",
	    "<nova:package version='2014.2.3'/><nova:name>moonbuggy</nova:name>"
	    "<nova:creationTime>2009-02-13 23:31:30</nova:creationTime>"
	    "<nova:flavor name='m1.lowgravity' id='f719a0dd-4b43-4efe-8336-48ef74099ad4'>"
	    "<nova:memory>2048</nova:memory><nova:vcpus>8</nova:vcpus>"
	    "<nova:extraSpecs><nova:extraSpec name='hw_rng:allowed'>true</nova:extraSpec>"
	    "</nova:extraSpecs></nova:flavor>"
	    "<nova:owner><nova:user uuid='3472c2a6-de91-4fb5-b618-42bc781ef670'>buzz</nova:user>"
	    "</nova:owner>"
	    "<nova:root type='image' uuid='fe55c69a-8b2e-4bbc-811a-9ad2023a0426'/>"
	    "<nova:ports><nova:port uuid='567a4527-b0e4-4d0a-bcc2-71fda37897f7'>"
	    "<nova:ip type='fixed' address='192.168.1.1' ipVersion='4'/></nova:port></nova:ports>");

	assert_true(d->nova.present);
	assert_string_equal(d->nova.flavor, "m1.lowgravity");
	assert_string_equal(d->nova.image, "fe55c69a-8b2e-4bbc-811a-9ad2023a0426");
	/* Nova's metadata is not ours. */
	assert_int_equal(d->meta.mode, VH_MODE_UNSET);
	assert_string_equal(d->meta.error, "");
	vh_domain_free(d);

	/* Booted from a volume: the root is no image; Nova 32.0.0 names the
	 * image in <nova:image> (uuid "" when there was none). */
	d = instance("http://openstack.org/xmlns/libvirt/nova/1.1",
		     "<nova:flavor name='bfv'/>"
		     "<nova:image uuid='3c2b1a09-8f7e-4d6c-b5a4-39281706f5e4'><nova:properties>"
		     "<nova:property name='hw_machine_type'>q35</nova:property>"
		     "</nova:properties></nova:image>"
		     "<nova:root type='volume' uuid='d4c3b2a1-0f9e-4d8c-b7a6-5f4e3d2c1b0a'/>");
	assert_string_equal(d->nova.image, "3c2b1a09-8f7e-4d6c-b5a4-39281706f5e4");
	vh_domain_free(d);
	d = instance("http://openstack.org/xmlns/libvirt/nova/1.1",
		     "<nova:image uuid=''/><nova:root type='volume' uuid='d4c3'/>");
	assert_true(d->nova.present);
	assert_string_equal(d->nova.image, "");
	assert_string_equal(d->nova.flavor, "");
	vh_domain_free(d);

	/* A default namespace is the same namespace. */
	d = with_metadata("<instance xmlns='http://openstack.org/xmlns/libvirt/nova/1.0'>"
			  "<flavor name='m1.small'/></instance>");
	assert_true(d->nova.present);
	assert_string_equal(d->nova.flavor, "m1.small");
	vh_domain_free(d);
}

/* Only Nova's <instance> counts, and of it only children in its own
 * namespace; the first instance wins. */
static void only_nova_elements(void **state UNUSED)
{
	struct vh_domain *d = with_metadata(
	    "<nova:flavor xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1' name='alone'/>"
	    "<instance><flavor name='no-namespace'/></instance>");

	assert_false(d->nova.present);
	vh_domain_free(d);

	d = instance("http://openstack.org/xmlns/libvirt/nova/1.1",
		     "<x:flavor xmlns:x='urn:other' name='other'/>"
		     "<flavor name='unqualified'/>"
		     "<nova:root type='volume' uuid='not-an-image'/>");
	assert_true(d->nova.present);
	assert_string_equal(d->nova.flavor, "");
	assert_string_equal(d->nova.image, "");
	vh_domain_free(d);

	d = with_metadata("<a:instance xmlns:a='http://openstack.org/xmlns/libvirt/nova/1.1'>"
			  "<a:flavor name='first'/></a:instance>"
			  "<b:instance xmlns:b='http://openstack.org/xmlns/libvirt/nova/1.2'>"
			  "<b:flavor name='second'/></b:instance>");
	assert_string_equal(d->nova.flavor, "first");
	assert_string_equal(d->nova.ns, "http://openstack.org/xmlns/libvirt/nova/1.1");
	vh_domain_free(d);

	/* Beside ours, both are read. */
	d = with_metadata("<vh:settings xmlns:vh='urn:vfio-hooks:domain:1'><vh:mode>warn</vh:mode>"
			  "</vh:settings>"
			  "<nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"
			  "<nova:flavor name='m1'/></nova:instance>");
	assert_int_equal(d->meta.mode, VH_MODE_WARN);
	assert_string_equal(d->nova.flavor, "m1");
	vh_domain_free(d);
}

/* What goes into messages is bounded and printable, and stays UTF-8. */
static void odd_values(void **state UNUSED)
{
	char *body = NULL, *big = malloc(100001);
	struct vh_domain *d;

	d = instance("http://openstack.org/xmlns/libvirt/nova/1.1",
		     "<nova:flavor name='a&#9;b&#10;c&#127;d'/>"
		     "<nova:root type='image' uuid='x&#13;y'/>");
	assert_string_equal(d->nova.flavor, "a?b?c?d");
	assert_string_equal(d->nova.image, "x?y");
	vh_domain_free(d);

	/* 100000 bytes of name: cut to the field. */
	assert_non_null(big);
	memset(big, 'f', 100000);
	big[100000] = '\0';
	assert_true(asprintf(&body, "<nova:flavor name='%s'/>", big) > 0);
	d = instance("http://openstack.org/xmlns/libvirt/nova/1.1", body);
	assert_int_equal(strlen(d->nova.flavor), sizeof(d->nova.flavor) - 1);
	vh_domain_free(d);
	free(body);

	/* Two-byte characters (é) across the cut: no half character. */
	for (size_t i = 0; i + 1 < 100000; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	for (size_t shift = 0; shift < 2; shift++) {
		assert_true(asprintf(&body, "<nova:flavor name='%s%s'/>", shift ? "x" : "", big) >
			    0);
		d = instance("http://openstack.org/xmlns/libvirt/nova/1.1", body);
		size_t l = strlen(d->nova.flavor);
		assert_true(l > 0 && l < sizeof(d->nova.flavor));
		/* Ends on a whole character: é is c3 a9. */
		assert_int_equal((unsigned char)d->nova.flavor[l - 1], 0xa9);
		vh_domain_free(d);
		free(body);
	}
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(namespace_versions),
	    cmocka_unit_test(instance_fields),
	    cmocka_unit_test(only_nova_elements),
	    cmocka_unit_test(odd_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
