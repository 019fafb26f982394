/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "snapshot.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host.h"

/* --- a minimal POSIX ustar writer ------------------------------------- */

struct tar {
	int fd;
	int entries;
	int err;
	time_t mtime;
	/* Directories already written, so each appears once. */
	char **dirs;
	size_t n_dirs;
};

static void write_all(struct tar *t, const void *p, size_t n)
{
	const char *c = p;

	while (n && !t->err) {
		ssize_t k = write(t->fd, c, n);
		if (k < 0) {
			if (errno != EINTR)
				t->err = -errno;
			continue;
		}
		c += k;
		n -= (size_t)k;
	}
}

static void octal(char *dst, size_t n, unsigned long long v)
{
	snprintf(dst, n, "%0*llo", (int)n - 1, v);
}

/* @path is relative ("sys/bus/..."); type '0' file, '2' symlink, '5' dir. */
static void header(struct tar *t, const char *path, char type, size_t size, const char *link)
{
	unsigned char h[512] = {0};
	size_t l = strlen(path);
	unsigned sum = 0;

	if (l > 100) {
		/* Split into prefix (155) and name (100) at a '/'. */
		const char *cut = path + l - 100;
		cut = strchr(cut, '/');
		if (!cut || cut - path > 155) {
			t->err = t->err ? t->err : -ENAMETOOLONG;
			return;
		}
		memcpy(h + 345, path, (size_t)(cut - path));
		memcpy(h, cut + 1, strlen(cut + 1));
	} else {
		memcpy(h, path, l);
	}
	octal((char *)h + 100, 8, type == '5' ? 0755 : type == '2' ? 0777 : 0644);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, size);
	octal((char *)h + 136, 12, (unsigned long long)t->mtime);
	h[156] = (unsigned char)type;
	if (link) {
		if (strlen(link) > 100) {
			t->err = t->err ? t->err : -ENAMETOOLONG;
			return;
		}
		memcpy(h + 157, link, strlen(link));
	}
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	write_all(t, h, 512);
	t->entries++;
}

static void add_dirs(struct tar *t, const char *path)
{
	char d[PATH_MAX];

	/* Every parent directory, outermost first. */
	for (const char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
		bool seen = false;
		snprintf(d, sizeof(d), "%.*s/", (int)(p - path), path);
		for (size_t i = 0; i < t->n_dirs && !seen; i++)
			seen = streq(t->dirs[i], d);
		if (seen)
			continue;
		{
			char **nd = realloc(t->dirs, (t->n_dirs + 1) * sizeof(*nd));
			if (!nd || !(nd[t->n_dirs] = strdup(d))) {
				t->dirs = nd ? nd : t->dirs;
				t->err = -ENOMEM;
				return;
			}
			t->dirs = nd;
			t->n_dirs++;
		}
		header(t, d, '5', 0, NULL);
	}
}

static void add_file(struct tar *t, const char *path, const void *data, size_t len)
{
	static const char zero[512];

	add_dirs(t, path);
	header(t, path, '0', len, NULL);
	write_all(t, data, len);
	if (len % 512)
		write_all(t, zero, 512 - len % 512);
}

static void add_link(struct tar *t, const char *path, const char *target)
{
	add_dirs(t, path);
	header(t, path, '2', 0, target);
}

/* --- what vfio-hooks reads ---------------------------------------------- */

/* A kernel file into the archive, if it exists and can be read. */
static void copy_file(struct tar *t, const struct vh_sys *sys, const char *kpath, size_t max)
{
	_cleanup_free_ char *buf = malloc(max);
	size_t len = 0;

	if (!buf) {
		t->err = -ENOMEM;
		return;
	}
	if (vh_sys_read_raw(sys, buf, max, &len, "%s", kpath) == 0)
		add_file(t, kpath + 1, buf, len);
}

static void copy_link(struct tar *t, const struct vh_sys *sys, const char *kpath)
{
	char target[PATH_MAX];

	if (vh_sys_readlink(sys, target, sizeof(target), "%s", kpath) == 0)
		add_link(t, kpath + 1, target);
}

static const char *const dev_files[] = {
    "vendor",	    "device",	       "subsystem_vendor", "subsystem_device",
    "class",	    "modalias",	       "revision",	   "config",
    "reset_method", "driver_override", "sriov_totalvfs",   "sriov_numvfs",
    "sriov_offset", "sriov_stride",    "sriov_vf_device",  "sriov_drivers_autoprobe",
    "numa_node",
};

static void copy_device(struct tar *t, const struct vh_sys *sys, const char *name)
{
	char link[PATH_MAX], dir[PATH_MAX], p[PATH_MAX + 64];
	char **entries = NULL;
	const char *devs;
	int n;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s", name);
	copy_link(t, sys, link);
	if (vh_sys_readlink(sys, dir, sizeof(dir), "%s", link) < 0)
		return;
	/* "../../../devices/pci0000:00/..." -> "/sys/devices/pci0000:00/..." */
	devs = strstr(dir, "devices/");
	if (!devs)
		return;
	for (size_t i = 0; i < ELEMENTSOF(dev_files); i++) {
		snprintf(p, sizeof(p), "/sys/%s/%s", devs, dev_files[i]);
		copy_file(t, sys, p, 4096);
	}
	/* "reset" is write-only: its presence is what counts. */
	snprintf(p, sizeof(p), "/sys/%s/reset", devs);
	if (vh_sys_exists(sys, "%s", p) > 0)
		add_file(t, p + 1, "", 0);
	n = vh_sys_list(sys, &entries, "/sys/%s", devs);
	for (int i = 0; i < n; i++) {
		if (streq(entries[i], "driver") || streq(entries[i], "iommu_group") ||
		    streq(entries[i], "physfn") || strncmp(entries[i], "virtfn", 6) == 0) {
			snprintf(p, sizeof(p), "/sys/%s/%s", devs, entries[i]);
			copy_link(t, sys, p);
		}
	}
	vh_strv_free(entries);
	/* The vectors its driver enabled (doctor --guest counts them). */
	entries = NULL;
	n = vh_sys_list(sys, &entries, "/sys/%s/msi_irqs", devs);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "/sys/%s/msi_irqs/%s", devs, entries[i]);
		copy_file(t, sys, p, 64);
	}
	vh_strv_free(entries);
}

static void copy_dir_links(struct tar *t, const struct vh_sys *sys, const char *dir)
{
	char **entries = NULL, p[PATH_MAX];
	int n = vh_sys_list(sys, &entries, "%s", dir);

	for (int i = 0; i < n; i++) {
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", dir, entries[i]);
		if (vh_sys_lstat(sys, &st, "%s", p) == 0 && S_ISLNK(st.st_mode))
			copy_link(t, sys, p);
		else if (S_ISDIR(st.st_mode))
			add_dirs(t, strcat(p, "/") + 1);
	}
	vh_strv_free(entries);
}

/* The links in <list>/<name>/<sub> for every name listed in list, with
 * their parent directories (sub "" names each listed directory itself). */
static void copy_links_of_each(struct tar *t, const struct vh_sys *sys, const char *list,
			       const char *sub)
{
	char **names = NULL, p[PATH_MAX];
	int n = vh_sys_list(sys, &names, "%s", list);

	for (int i = 0; i < n && !t->err; i++) {
		size_t l;

		snprintf(p, sizeof(p), "%s/%s/%s", list, names[i], sub);
		add_dirs(t, p + 1);
		l = strlen(p);
		if (l && p[l - 1] == '/')
			p[l - 1] = '\0';
		copy_dir_links(t, sys, p);
	}
	vh_strv_free(names);
}

int vh_snapshot_write(const struct vh_sys *sys, int fd, struct vh_err *e)
{
	struct tar t = {.fd = fd, .mtime = time(NULL)};
	static const char zero[1024];
	char **names = NULL, p[PATH_MAX];
	int n;

	n = vh_sys_list(sys, &names, "/sys/bus/pci/devices");
	if (n < 0)
		return vh_err_set(e, n, "Cannot list /sys/bus/pci/devices: %s.", strerror(-n));
	for (int i = 0; i < n && !t.err; i++)
		copy_device(&t, sys, names[i]);
	vh_strv_free(names);

	copy_links_of_each(&t, sys, "/sys/kernel/iommu_groups", "devices");
	copy_links_of_each(&t, sys, "/sys/bus/pci/drivers", "");

	add_dirs(&t, "sys/class/iommu/");
	copy_dir_links(&t, sys, "/sys/class/iommu");
	add_dirs(&t, "sys/kernel/iommu_groups/");
	copy_file(&t, sys, "/proc/cmdline", 4096);
	copy_file(&t, sys, "/proc/cpuinfo", 1 << 20);
	copy_file(&t, sys, "/proc/interrupts", 1 << 20);
	copy_file(&t, sys, "/proc/sys/kernel/osrelease", 256);
	/* What tells a guest its hypervisor. */
	copy_file(&t, sys, "/sys/hypervisor/type", 64);
	copy_file(&t, sys, "/sys/hypervisor/guest_type", 64);
	copy_file(&t, sys, "/sys/class/dmi/id/sys_vendor", 256);
	copy_file(&t, sys, "/sys/class/dmi/id/product_name", 256);
	/* ACPI tables by name only (DMAR, IVRS): their presence counts. */
	names = NULL;
	n = vh_sys_list(sys, &names, "/sys/firmware/acpi/tables");
	for (int i = 0; i < n && !t.err; i++) {
		struct stat st;
		snprintf(p, sizeof(p), "/sys/firmware/acpi/tables/%s", names[i]);
		if (vh_sys_lstat(sys, &st, "%s", p) == 0 && S_ISREG(st.st_mode))
			add_file(&t, p + 1, "", 0);
	}
	vh_strv_free(names);
	/* Presence of the device nodes (empty files in the archive). */
	if (vh_sys_exists(sys, "/dev/kvm") > 0)
		add_file(&t, "dev/kvm", "", 0);
	names = NULL;
	n = vh_sys_list(sys, &names, "/dev/vfio");
	add_dirs(&t, "dev/vfio/");
	for (int i = 0; i < n && !t.err; i++) {
		snprintf(p, sizeof(p), "dev/vfio/%s", names[i]);
		add_file(&t, p, "", 0);
	}
	vh_strv_free(names);
	write_all(&t, zero, sizeof(zero));

	for (size_t i = 0; i < t.n_dirs; i++)
		free(t.dirs[i]);
	free(t.dirs);
	if (t.err)
		return vh_err_set(e, t.err, "Cannot write the snapshot: %s.", strerror(-t.err));
	return t.entries;
}
