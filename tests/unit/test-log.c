/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/log.c: the journal's fields of a finding, a refusal and a driver
 * move (captured instead of sent), the syslog fallback, the MESSAGE_IDs
 * and the message catalog made of them. */
#include "fixture-engine.h" /* first: _GNU_SOURCE */

#include <sys/uio.h>

#include "../../lib/log.h"

/* What a vh_logger's sendv and syslog received. */
static struct {
	struct vh_buf fields; /* "KEY=value\n" each, an entry's */
	int n_sent, n_syslog, syslog_level, sendv_rc;
	char syslog_msg[512];
} C;

static int capture_sendv(void *ud, const struct iovec *iov, int n)
{
	assert_ptr_equal(ud, &C);
	vh_buf_done(&C.fields);
	for (int i = 0; i < n; i++)
		vh_buf_printf(&C.fields, "%.*s\n", (int)iov[i].iov_len,
			      (const char *)iov[i].iov_base);
	C.n_sent++;
	return C.sendv_rc;
}

static void capture_syslog(void *ud, int level, const char *msg)
{
	assert_ptr_equal(ud, &C);
	C.n_syslog++;
	C.syslog_level = level;
	snprintf(C.syslog_msg, sizeof(C.syslog_msg), "%s", msg);
}

static void capture_reset(void)
{
	vh_buf_done(&C.fields);
	memset(&C, 0, sizeof(C));
}

static struct vh_logger hook_logger(void)
{
	return (struct vh_logger){.domain = "vm1",
				  .uuid = U1,
				  .operation = "prepare",
				  .sendv = capture_sendv,
				  .syslog = capture_syslog,
				  .ud = &C};
}

/* "KEY=value" is one of the captured entry's fields (whole, newlines
 * included). */
static void assert_field(const char *kv)
{
	char *line;

	assert_non_null(asprintf(&line, "%s\n", kv) > 0 ? line : NULL);
	if (!strstr(vh_buf_str(&C.fields), line))
		fail_msg("no field '%s' in:\n%s", kv, vh_buf_str(&C.fields));
	free(line);
}

static void finding_fields(void **state UNUSED)
{
	struct vh_logger lg = hook_logger();
	char id[64];
	int r;

	capture_reset();
	r = vh_log_send(&lg,
			&(struct vh_log_entry){
			    .level = LOG_ERR,
			    .message = "vm1: [viommu-missing] 0000:00:07.0 needs an IOMMU",
			    .finding = true,
			    .rule = VH_RULE_VIOMMU_MISSING,
			    .device = "0000:00:07.0",
			    .fix = "<iommu model='intel'>\n  <driver intremap='on'/>\n</iommu>"});
	assert_int_equal(r, 1);
	assert_int_equal(C.n_sent, 1);
	assert_int_equal(C.n_syslog, 0);
	snprintf(id, sizeof(id), "MESSAGE_ID=%s", vh_log_rule_id(VH_RULE_VIOMMU_MISSING));
	assert_field(id);
	assert_field("MESSAGE=vm1: [viommu-missing] 0000:00:07.0 needs an IOMMU");
	assert_field("PRIORITY=3");
	assert_field("SYSLOG_IDENTIFIER=vfio-hooks");
	assert_field("VFIO_HOOKS_DOMAIN=vm1");
	assert_field("VFIO_HOOKS_DOMAIN_UUID=" U1);
	assert_field("VFIO_HOOKS_OPERATION=prepare");
	assert_field("VFIO_HOOKS_DEVICE=0000:00:07.0");
	assert_field("VFIO_HOOKS_RULE=viommu-missing");
	assert_field("VFIO_HOOKS_FIX=<iommu model='intel'>\n  <driver intremap='on'/>\n</iommu>");
	assert_contains(vh_buf_str(&C.fields), "SYSLOG_PID=");
	capture_reset();
}

static void refusal_fields(void **state UNUSED)
{
	struct vh_logger lg = hook_logger();
	char id[64];

	capture_reset();
	lg.operation = "prepare";
	assert_int_equal(vh_log_send(&lg, &(struct vh_log_entry){.level = LOG_ERR,
								 .message = "refused",
								 .kind = VH_MSG_REFUSED}),
			 1);
	snprintf(id, sizeof(id), "MESSAGE_ID=%s", vh_log_kind_id(VH_MSG_REFUSED));
	assert_field(id);
	assert_field("VFIO_HOOKS_DOMAIN=vm1");
	/* no rule, no device, no fix: no such fields */
	assert_not_contains(vh_buf_str(&C.fields), "VFIO_HOOKS_RULE=");
	assert_not_contains(vh_buf_str(&C.fields), "VFIO_HOOKS_DEVICE=");
	assert_not_contains(vh_buf_str(&C.fields), "VFIO_HOOKS_FIX=");
	capture_reset();
}

/* The engine's entries carry their kind and device; sent by a logger,
 * the kind's MESSAGE_ID. */
static void on_log_send(void *ud, const struct vh_log_entry *e)
{
	on_log(&T, e);
	vh_log_send(ud, e);
}

static void driver_move_fields(void **state UNUSED)
{
	struct vh_logger lg = hook_logger();
	char id[64];

	capture_reset();
	T.en.log = on_log_send;
	T.en.log_ud = &lg;
	domain(0, "nic-vm", U1, "01:00.0", NULL);
	prepare_ok(0);
	assert_contains(vh_buf_str(&T.log_fields), "driver " NIC "\n");
	assert_contains(vh_buf_str(&T.log), "bound e1000e -> vfio-pci");
	/* the last entry sent was the move */
	snprintf(id, sizeof(id), "MESSAGE_ID=%s", vh_log_kind_id(VH_MSG_DRIVER));
	assert_field(id);
	assert_field("VFIO_HOOKS_DEVICE=" NIC);
	log_reset();
	capture_reset();
	assert_int_equal(vh_engine_release(&T.en, U1, &T.e), 0);
	assert_contains(vh_buf_str(&T.log_fields), "restored " NIC "\n");
	assert_contains(vh_buf_str(&T.log_fields), "released -\n");
	snprintf(id, sizeof(id), "MESSAGE_ID=%s", vh_log_kind_id(VH_MSG_RELEASED));
	assert_field(id);
	capture_reset();
}

/* A send that fails, and a libsystemd that cannot be loaded: the message
 * goes to syslog, as it is; with no syslog socket, nowhere. */
static void syslog_fallback(void **state UNUSED)
{
	struct vh_logger lg = hook_logger();
	struct vh_log_entry e = {.level = LOG_WARNING, .message = "vm1: a warning"};

	capture_reset();
	C.sendv_rc = -ENOENT; /* no journald socket */
	assert_int_equal(vh_log_send(&lg, &e), 0);
	assert_int_equal(C.n_sent, 1);
	assert_int_equal(C.n_syslog, 1);
	assert_int_equal(C.syslog_level, LOG_WARNING);
	assert_string_equal(C.syslog_msg, "vm1: a warning");

	capture_reset();
	lg.sendv = NULL; /* the real sd_journal_sendv, from a library not there */
	lg.libsystemd = "libsystemd-vfio-hooks-test-missing.so.0";
	assert_int_equal(vh_log_send(&lg, &e), 0);
	assert_int_equal(C.n_syslog, 1);
	assert_string_equal(C.syslog_msg, "vm1: a warning");

	capture_reset();
	lg.no_syslog = true;
	assert_int_equal(vh_log_send(&lg, &e), 0);
	assert_int_equal(C.n_syslog, 0);
}

/* 32 lowercase hex digits, as journald's MESSAGE_ID and the catalog's
 * "-- " lines have them. */
static void assert_id128(const char *id)
{
	assert_non_null(id);
	assert_int_equal(strlen(id), 32);
	assert_int_equal(strspn(id, "0123456789abcdef"), 32);
}

static void ids_unique(void **state UNUSED)
{
	const char *all[_VH_RULE_MAX + _VH_MSG_MAX];
	size_t n = 0;

	for (int r = 0; r < _VH_RULE_MAX; r++)
		all[n++] = vh_log_rule_id(r);
	for (int k = 0; k < _VH_MSG_MAX; k++) {
		all[n++] = vh_log_kind_id(k);
		assert_string_not_equal(vh_log_kind_name(k), "?");
		for (int l = 0; l < k; l++)
			assert_string_not_equal(vh_log_kind_name(k), vh_log_kind_name(l));
	}
	for (size_t i = 0; i < n; i++) {
		assert_id128(all[i]);
		for (size_t j = 0; j < i; j++)
			if (streq(all[i], all[j]))
				fail_msg("MESSAGE_ID %s twice (%zu and %zu)", all[i], j, i);
	}
	assert_null(vh_log_rule_id(_VH_RULE_MAX));
	assert_null(vh_log_kind_id(_VH_MSG_MAX));
}

/* Every MESSAGE_ID has one catalog entry, with a subject and a text, and
 * the catalog has no other. */
static void catalog_covers_every_id(void **state UNUSED)
{
	struct vh_buf b = {0};
	const char *s, *p;
	size_t n_entries = 0;
	char head[64];

	vh_log_catalog(&b);
	s = vh_buf_str(&b);
	for (p = s; (p = strstr(p, "\n-- ")); p++) {
		char id[33];
		const char *end = strstr(p + 1, "\n-- ");
		snprintf(id, sizeof(id), "%s", p + 4);
		assert_id128(id);
		assert_int_equal(p[36], '\n');
		bool known = false;
		for (int r = 0; r < _VH_RULE_MAX; r++)
			known |= streq(id, vh_log_rule_id(r));
		for (int k = 0; k < _VH_MSG_MAX; k++)
			known |= streq(id, vh_log_kind_id(k));
		if (!known)
			fail_msg("catalog entry %s is no MESSAGE_ID of lib/log.c", id);
		assert_true(strncmp(p + 37, "Subject: ", 9) == 0);
		assert_non_null(strstr(p + 37, "\nDefined-By: vfio-hooks\n"));
		assert_true(!end || strstr(p + 37, "\nDefined-By: ") < end);
		assert_true(!end || strstr(p + 37, "\n\n") < end); /* a text */
		n_entries++;
	}
	assert_int_equal(n_entries, _VH_RULE_MAX + _VH_MSG_MAX);
	for (int r = 0; r < _VH_RULE_MAX; r++) {
		snprintf(head, sizeof(head), "\n-- %s\n", vh_log_rule_id(r));
		assert_contains(s, head);
	}
	for (int k = 0; k < _VH_MSG_MAX; k++) {
		snprintf(head, sizeof(head), "\n-- %s\n", vh_log_kind_id(k));
		assert_contains(s, head);
	}
	/* the fix of a finding, substituted by journalctl */
	assert_contains(s, "@VFIO_HOOKS_FIX@");
	assert_contains(s, "Subject: vfio-hooks: [viommu-missing] ");
	vh_buf_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(finding_fields),
	    cmocka_unit_test(refusal_fields),
	    cmocka_unit_test_setup_teardown(driver_move_fields, setup, teardown),
	    cmocka_unit_test(syslog_fallback),
	    cmocka_unit_test(ids_unique),
	    cmocka_unit_test(catalog_covers_every_id),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
