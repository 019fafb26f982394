/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_qemu_parse and vh_qemu_mentions_vfio: -readconfig, -smp, -m, -name,
 * hostile and odd command lines, and a million arguments.
 */
#include "fixture-qemuargs.h"

/* --- -readconfig --- */

static void readconfig_sections(void **state UNUSED)
{
	char *cfg = config_file("vm.cfg", "# QEMU configuration\n"
					  "\n"
					  "[machine]\n"
					  "  type = \"q35\"\n"
					  "  kernel_irqchip = \"split\"\n"
					  "  accel = \"kvm\"\n"
					  "\n"
					  "   # an indented comment\n"
					  "[drive \"d0\"]\n"
					  "  file = \"disk.img\"\n"
					  "[device \"vi\"]\n"
					  "  driver = \"intel-iommu\"\n"
					  "  intremap = \"on\"\n"
					  "  caching-mode = on\n"
					  "  \n"
					  "[device \"hostdev0\"]\n"
					  "  driver = \"vfio-pci\"\n"
					  "  host = \"0000:01:00.0\"   \n"
					  "[device]\n"
					  "  driver = \"virtio-net-pci\"\n");
	struct vh_domain *d = OK(QEMU, "-readconfig", cfg);

	assert_string_equal(d->machine, "q35");
	assert_int_equal(d->machine_kind, VH_MACHINE_Q35);
	assert_string_equal(d->virt_type, "kvm");
	assert_string_equal(d->irqchip, "split");
	assert_string_equal(d->ioapic_driver, "qemu");
	assert_true(d->has_iommu);
	assert_string_equal(d->iommu_model, "intel");
	assert_int_equal(d->intremap, VH_ON);
	assert_int_equal(d->caching_mode, VH_ON);
	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], "0000:01:00.0");
	assert_false(d->iommu_after_vfio);

	/* the command line after it: -set on a section's id, -machine */
	d = OK(QEMU, "--readconfig", cfg, "-set", "device.vi.intremap=off", "-machine", "pc");
	assert_int_equal(d->intremap, VH_OFF);
	assert_string_equal(d->machine, "pc");

	/* a vfio-pci on the command line after the file's vIOMMU */
	d = OK(QEMU, "-readconfig", cfg, "-device", "vfio-pci,host=02:00.0");
	assert_int_equal(d->n_hostdevs, 2);
	assert_false(d->iommu_after_vfio);
	/* ... and before it */
	d = OK(QEMU, "-device", "vfio-pci,host=02:00.0", "-readconfig", cfg);
	assert_true(d->iommu_after_vfio);

	/* an empty file */
	cfg = config_file("empty.cfg", "");
	d = OK(QEMU, "-readconfig", cfg);
	assert_int_equal(d->n_hostdevs, 0);
}

static void readconfig_missing_file(void **state UNUSED)
{
	char path[4200];
	int r;

	tmpdir();
	snprintf(path, sizeof(path), "%s/nope.cfg", T.root);
	r = FAILS(QEMU, "-machine", "q35", "-readconfig", path);
	assert_int_equal(r, -ENOENT);
	expect_msg("Argument 4");
	expect_msg(path);
}

static void readconfig_line_without_equals(void **state UNUSED)
{
	char *cfg = config_file("broken.cfg", "# ok\n"
					      "[device \"x\"]\n"
					      "  driver = \"vfio-pci\"\n"
					      "  host 0000:01:00.0\n");
	char want[4300];

	assert_int_equal(FAILS(QEMU, "-readconfig", cfg), -EINVAL);
	snprintf(want, sizeof(want), "%s:4:", cfg);
	expect_msg(want);
	/* The file's text is never echoed (a setuid wrapper would show
	 * any file's lines). */
	assert_null(strstr(T.e.msg, "0000:01:00.0"));
}

/* --- -smp, -m, -name --- */

static void smp_forms(void **state UNUSED)
{
	assert_int_equal(OK(QEMU, "-smp", "8")->vcpus, 8);
	assert_int_equal(OK(QEMU, "-smp", "cpus=8,sockets=1")->vcpus, 8);
	assert_int_equal(OK(QEMU, "-smp", "16,sockets=2,cores=8")->vcpus, 16);
	assert_int_equal(OK(QEMU, "--smp", "300")->vcpus, 300);
	assert_int_equal(OK(QEMU, "-smp", "4", "-smp", "6")->vcpus, 6);
	assert_int_equal(OK(QEMU)->vcpus, 1);
	/* junk is not a count */
	assert_int_equal(OK(QEMU, "-smp", "many")->vcpus, 1);
}

/* Regression (fixed): lib/qemuargs.c:453 (smp_prop) reads only cpus=, but QEMU
 * computes the count from the topology when cpus= is left out ("-smp
 * sockets=2,cores=160" is 320 vCPUs), so the eim rule (vCPUs > 255) is
 * missed.  Fix: keep sockets/dies/clusters/cores/threads and use their
 * product when no count was given. */
static void smp_topology_without_cpus(void **state UNUSED)
{
	assert_int_equal(OK(QEMU, "-smp", "sockets=2,cores=160")->vcpus, 320);
}

/* libvirt writes -m with the sizes it aligned: the limit it computed
 * comes out unchanged (219100 KiB in its XML is size=219136k). */
static void memory_memlock_as_libvirt(void **state UNUSED)
{
	struct vh_memlock m;

	assert_int_equal(
	    vh_memlock_need(OK(QEMU, "-machine", "q35,accel=kvm", "-m", "size=219136k", GOOD_VFIO),
			    NULL, &m),
	    0);
	assert_int_equal(m.kib, 219136 + 1048576);
	assert_null(strstr(m.formula, "written"));
	/* A size libvirt would not write: rounded up as libvirt would. */
	assert_int_equal(vh_memlock_need(OK(QEMU, "-m", "219100k", GOOD_VFIO), NULL, &m), 0);
	assert_int_equal(m.kib, 219136 + 1048576);
	/* pSeries: 256 MiB blocks. */
	assert_int_equal(vh_memlock_need(OK("qemu-system-ppc64", "-machine", "pseries,accel=kvm",
					    "-m", "size=1048576k", GOOD_VFIO),
					 NULL, &m),
			 0);
	assert_int_equal(m.memory_kib, 1048576);
	assert_null(strstr(m.formula, "written"));
}

static void memory_forms(void **state UNUSED)
{
	assert_int_equal(OK(QEMU, "-m", "64G")->memory_kib, 64ULL * 1024 * 1024);
	assert_int_equal(OK(QEMU, "-m", "512")->memory_kib, 512 * 1024);
	assert_int_equal(OK(QEMU, "-m", "2048M")->memory_kib, 2048 * 1024);
	assert_int_equal(OK(QEMU, "-m", "size=4G")->memory_kib, 4ULL * 1024 * 1024);
	assert_int_equal(OK(QEMU, "-m", "4g,slots=2,maxmem=8G")->memory_kib, 4ULL * 1024 * 1024);
	assert_int_equal(OK(QEMU, "-m", "1T")->memory_kib, 1024ULL * 1024 * 1024);
	assert_int_equal(OK(QEMU, "-m", "65536k")->memory_kib, 65536);
	assert_int_equal(OK(QEMU)->memory_kib, 128 * 1024);
}

static void name_forms(void **state UNUSED)
{
	assert_string_equal(OK(QEMU, "-name", "vm")->name, "vm");
	assert_string_equal(OK(QEMU, "-name", "guest=vm,debug-threads=on")->name, "vm");
	assert_string_equal(OK(QEMU, "-name", "vm,process=qemu:vm")->name, "vm");
	assert_string_equal(OK(QEMU, "-name", "a", "-name", "b")->name, "b");
	assert_string_equal(OK(QEMU, "-m", "1G")->name, "(unnamed)");
	assert_null(OK(QEMU, "-m", "1G")->uuid);
	assert_string_equal(OK(QEMU, "-uuid", "c2e088c0-7e4b-4c2f-a5a6-2f1bb5f3a1d3")->uuid,
			    "c2e088c0-7e4b-4c2f-a5a6-2f1bb5f3a1d3");
}

/* --- hostile and odd command lines --- */

static void option_without_value(void **state UNUSED)
{
	static const char *const opts[] = {
	    "-device", "-machine", "-M",     "--readconfig", "-global", "-set", "-smp",
	    "-m",      "-name",	   "-accel", "-append",	     "-drive",	"-cpu",
	};

	for (size_t i = 0; i < ELEMENTSOF(opts); i++) {
		char o[32];
		snprintf(o, sizeof(o), "%s", opts[i]);
		assert_int_equal(FAILS(QEMU, "-S", "disk.img", o), -EINVAL);
		expect_msg("Argument 3");
		expect_msg(o);
	}
}

static void values_not_misread(void **state UNUSED)
{
	struct vh_domain *d;

	/* a kernel command line that looks like options */
	d = OK(QEMU, "-kernel", "vmlinuz", "-append", "-device vfio-pci,host=01:00.0", "-machine",
	       "q35");
	assert_int_equal(d->n_hostdevs, 0);
	assert_string_equal(d->machine, "q35");
	/* -name -device: the name is "-device", the next word is bare */
	d = OK(QEMU, "-name", "-device", "vfio-pci,host=01:00.0");
	assert_string_equal(d->name, "-device");
	assert_int_equal(d->n_hostdevs, 0);
	/* values of other options that take one */
	d = OK(QEMU, "-drive", "-device", "-cpu", "-machine", "-append", "-enable-kvm", "-serial",
	       "-readconfig", "-object", "-global", "-monitor", "-set");
	assert_int_equal(d->n_hostdevs, 0);
	assert_string_equal(d->machine, "pc");
	assert_string_equal(d->virt_type, "qemu");
	/* -machine's value itself is not an option */
	d = OK(QEMU, "-M", "-accel", "-device", "vfio-pci,host=01:00.0");
	assert_string_equal(d->machine, "-accel");
	assert_int_equal(d->n_hostdevs, 1);
}

static void bare_and_unknown_ignored(void **state UNUSED)
{
	struct vh_domain *d = OK(QEMU, "disk.img", "-nographic", "-S", "-no-reboot", "-foo", "-",
				 "--", "-nodefaults", GOOD_VFIO, "other.qcow2", "-snapshot");

	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], AIC);
	assert_int_equal(d->hostdevs[0].line, 10);
}

/* --- vh_qemu_mentions_vfio --- */

static bool mentions(int argc, char **argv)
{
	return vh_qemu_mentions_vfio(argc, argv);
}
#define MENTIONS(...) mentions(NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

static void mentions_vfio(void **state UNUSED)
{
	assert_true(MENTIONS(QEMU, "-machine", "q35", GOOD_VFIO));
	assert_true(MENTIONS(QEMU, "-device", "vfio-pci-nohotplug,host=1:0.0"));
	assert_true(MENTIONS(QEMU, "-device", "{\"driver\":\"vfio-pci\",\"host\":\"01:00.0\"}"));
	assert_true(MENTIONS(QEMU, "-readconfig", "/etc/vm.cfg"));
	assert_true(MENTIONS(QEMU, "--readconfig", "/etc/vm.cfg"));
	assert_true(MENTIONS(QEMU, "-set", "device.x.driver=vfio-pci"));

	assert_false(MENTIONS(QEMU));
	assert_false(
	    MENTIONS(QEMU, "-machine", "q35", "-m", "4G", "-device", "virtio-net-pci", "disk.img"));
	assert_false(MENTIONS(QEMU, "-device", "intel-iommu"));
	/* argv[0] is the binary, not an argument */
	assert_false(MENTIONS("/usr/bin/vfio-qemu-wrapper", "-m", "1G"));
	assert_false(mentions(0, NULL));
	/* the arguments given count, not the array */
	assert_false(mentions(1, ARGS(QEMU, "-device", "vfio-pci")));
}

/* Regression (fixed): lib/qemuargs.c:900 looks for the text "vfio" only, but
 * the parser decodes \u escapes in JSON -device (json_string), so
 * {"driver":"\u0076fio-pci"} is a vfio-pci device for vh_qemu_parse and
 * for QEMU while vh_qemu_mentions_vfio says no: the wrapper passes the line
 * through unchecked.  Fix: also answer true for an argument starting with
 * '{' that contains "\u" (or "fio"), so such lines are parsed. */
static void mentions_vfio_json_escape(void **state UNUSED)
{
	struct vh_domain *d =
	    OK(QEMU, "-device", "{\"driver\":\"\\u0076fio-pci\",\"host\":\"01:00.0\"}");

	assert_int_equal(d->n_hostdevs, 1);
	assert_true(MENTIONS(QEMU, "-device",
			     "{\"driver\":\"\\u0076fio-pci\",\"host\":"
			     "\"01:00.0\"}"));
}

/* --- a million arguments --- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void million_arguments(void **state UNUSED)
{
	const int n_s = 999990;
	int argc = 0;
	double t0, t;
	struct vh_domain *d;

	T.big = calloc((size_t)n_s + 16, sizeof(char *));
	assert_non_null(T.big);
	T.big[argc++] = QEMU;
	T.big[argc++] = "-machine";
	T.big[argc++] = "q35,kernel-irqchip=split";
	T.big[argc++] = "-enable-kvm";
	for (int i = 0; i < n_s / 2; i++)
		T.big[argc++] = "-S";
	T.big[argc++] = "-device";
	T.big[argc++] = "vfio-pci,host=0000:01:00.0";
	for (int i = n_s / 2; i < n_s; i++)
		T.big[argc++] = "-S";
	T.big[argc++] = "-m";
	T.big[argc++] = "4G";
	assert_true(argc >= 1000000 - 10);

	t0 = now();
	assert_true(vh_qemu_mentions_vfio(argc, T.big));
	d = parse_ok(argc, T.big);
	t = now() - t0;
	assert_int_equal(d->n_hostdevs, 1);
	expect_addr(&d->hostdevs[0], AIC);
	assert_int_equal(d->hostdevs[0].line, 4 + n_s / 2 + 1);
	assert_string_equal(d->machine, "q35");
	assert_int_equal(d->memory_kib, 4ULL * 1024 * 1024);
	fprintf(stderr, "million_arguments: %d arguments in %.2f s\n", argc, t);
	/* valgrind (make valgrind) runs it many times slower */
	if (t >= 10.0 && !getenv("VH_TEST_NO_TIMING"))
		fail_msg("%d arguments took %.1f s", argc, t);
	/* a million without any vfio: the cheap test says no */
	T.big[4 + n_s / 2] = "-S";
	T.big[4 + n_s / 2 + 1] = "-S";
	t0 = now();
	assert_false(vh_qemu_mentions_vfio(argc, T.big));
	if (now() - t0 >= 10.0)
		fail_msg("vh_qemu_mentions_vfio took %.1f s", now() - t0);
}

/* Regression (fixed): lib/qemuargs.c:766 grows d->hostdevs by one element per
 * vfio device (and kv_add, :38, every property list by one), so parsing copies
 * the whole array for each device: quadratic wherever realloc cannot grow
 * in place.  glibc hides it for big blocks (mremap), but under ASan (how
 * the tests run) or allocators without mremap, 5,000 devices take ~6 s and
 * 20,000 two minutes.  Fix: keep a capacity and double it, as new_dev
 * does. */
static void many_vfio_devices(void **state UNUSED)
{
	const int n = 5000;
	char(*hosts)[32];
	int argc = 0;
	double t0, t;
	struct vh_domain *d;

	T.big = calloc((size_t)(2 * n + 2), sizeof(char *));
	hosts = calloc((size_t)n, sizeof(*hosts));
	assert_non_null(T.big);
	assert_non_null(hosts);
	T.big[argc++] = QEMU;
	for (int i = 0; i < n; i++) {
		snprintf(hosts[i], sizeof(hosts[i]), "vfio-pci,host=%02x:%02x.%d", (i >> 8) & 0xff,
			 (i >> 3) & 0x1f, i & 7);
		T.big[argc++] = "-device";
		T.big[argc++] = hosts[i];
	}
	t0 = now();
	d = parse_ok(argc, T.big);
	t = now() - t0;
	free(hosts);
	assert_int_equal(d->n_hostdevs, n);
	expect_addr(&d->hostdevs[n - 1], "0000:13:10.7");
	fprintf(stderr, "many_vfio_devices: %d devices in %.2f s\n", n, t);
	if (t >= 2.0)
		fail_msg("%d vfio devices took %.1f s to parse", n, t);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T_(readconfig_sections),
	    T_(readconfig_missing_file),
	    T_(readconfig_line_without_equals),
	    T_(smp_forms),
	    T_(smp_topology_without_cpus),
	    T_(memory_forms),
	    T_(memory_memlock_as_libvirt),
	    T_(name_forms),
	    T_(option_without_value),
	    T_(values_not_misread),
	    T_(bare_and_unknown_ignored),
	    T_(mentions_vfio),
	    T_(mentions_vfio_json_escape),
	    T_(million_arguments),
	    T_(many_vfio_devices),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
