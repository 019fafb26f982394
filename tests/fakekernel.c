/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "fakekernel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/sriov.h"
#include "../lib/sysfs.h"
#include "fakesys.h"

static const struct {
	const char *name;
	int err;
} errnames[] = {
    {"EBUSY", EBUSY},	      {"ENODEV", ENODEV}, {"EINVAL", EINVAL}, {"EIO", EIO},
    {"ETIMEDOUT", ETIMEDOUT}, {"ENOENT", ENOENT}, {"EPERM", EPERM},   {"ENOSPC", ENOSPC},
    {"EAGAIN", EAGAIN},	      {"ENOTTY", ENOTTY}, {"ENOMEM", ENOMEM},
};

#define NOBIND 100000
#define KILL 100001

static void fk_path(const char *root, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/.fakekernel/%s", root, rel);
}

/* The log stays open for the process's next writes (a
 * hook writes dozens); a file another process removed meanwhile is opened
 * again. */
struct fk_file {
	char path[PATH_MAX];
	int fd;
};

static int fk_open(struct fk_file *f, const char *root, const char *rel, int flags)
{
	char p[PATH_MAX];
	struct stat st;

	fk_path(root, rel, p, sizeof(p));
	if (f->fd > 0 && !strcmp(f->path, p) && fstat(f->fd, &st) == 0 && st.st_nlink > 0)
		return f->fd;
	if (f->fd > 0)
		close(f->fd);
	f->fd = open(p, flags | O_CREAT | O_CLOEXEC, 0644);
	if (f->fd < 0 && errno == ENOENT) {
		char d[PATH_MAX];
		fk_path(root, "", d, sizeof(d));
		mkdir(d, 0755);
		f->fd = open(p, flags | O_CREAT | O_CLOEXEC, 0644);
	}
	if (f->fd < 0)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s", p);
	return f->fd;
}

static struct fk_file log_file;

/* Nothing left open at exit (the fd-leak checks look at every program). */
__attribute__((destructor)) static void fk_close_files(void)
{
	if (log_file.fd > 0)
		close(log_file.fd);
	log_file.fd = 0;
}

static void fk_log(const char *root, const char *op, const char *addr, const char *value)
{
	char v[256], line[512];
	size_t k = 0;
	int fd, n;

	for (const char *s = value; *s && k + 1 < sizeof(v); s++)
		v[k++] = *s == '\n' ? '|' : *s;
	v[k] = '\0';
	/* One write(2) of the whole line to an O_APPEND file: lines of
	 * concurrent processes never interleave. */
	fd = fk_open(&log_file, root, "log", O_WRONLY | O_APPEND);
	n = snprintf(line, sizeof(line), "%s %s %s\n", op, addr, v);
	if (fd >= 0 && n > 0 && write(fd, line, (size_t)n) < 0) {
		close(fd);
		log_file.fd = 0;
	}
}

/* The injected error for this write, 0 for none.  A rule with skip=N is
 * rewritten with N-1 each time it lets a write through. */
static int fk_inject(const char *root, const char *op, const char *addr)
{
	char p[PATH_MAX], line[256], out[8192] = "";
	int result = 0;
	FILE *f;

	fk_path(root, "inject", p, sizeof(p));
	f = fopen(p, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char o[32] = "", err[32] = "", a[3][64] = {""};
		const char *want_addr = NULL;
		bool once = false;
		long skip = 0;
		int n = sscanf(line, "%31s %31s %63s %63s %63s", o, err, a[0], a[1], a[2]);
		if (n < 2) {
			strncat(out, line, sizeof(out) - strlen(out) - 1);
			continue;
		}
		for (int i = 3; i <= n; i++) {
			const char *t = a[i - 3];
			if (!strncmp(t, "skip=", 5))
				skip = atol(t + 5);
			else if (!strcmp(t, "once"))
				once = true;
			else
				want_addr = t;
		}
		if (result || (strcmp(o, "any") && strcmp(o, op)) ||
		    (want_addr && strcmp(want_addr, addr))) {
			strncat(out, line, sizeof(out) - strlen(out) - 1);
			continue;
		}
		if (skip > 0) {
			char nl[256];
			snprintf(nl, sizeof(nl), "%s %s%s%s skip=%ld%s\n", o, err,
				 want_addr ? " " : "", want_addr ? want_addr : "", skip - 1,
				 once ? " once" : "");
			strncat(out, nl, sizeof(out) - strlen(out) - 1);
			continue;
		}
		if (!once) /* a rule fires every time unless it says once */
			strncat(out, line, sizeof(out) - strlen(out) - 1);
		if (!strcmp(err, "NOBIND"))
			result = NOBIND;
		else if (!strcmp(err, "KILL"))
			result = KILL;
		for (size_t i = 0; !result && i < sizeof(errnames) / sizeof(*errnames); i++)
			if (!strcmp(errnames[i].name, err))
				result = errnames[i].err;
		if (!result)
			result = EIO;
	}
	fclose(f);
	f = fopen(p, "we");
	if (f) {
		fputs(out, f);
		fclose(f);
	}
	return result;
}

/* The "native" file, read once a process while it does not change (it
 * has a line per function: thousands on a big fake host). */
static struct {
	char path[PATH_MAX];
	struct stat st;
	char *text;
} native;

static bool fk_native(const char *root, const char *addr, char *drv, size_t n)
{
	char p[PATH_MAX], a[40];
	struct stat st;
	const char *l;
	int fd;

	fk_path(root, "native", p, sizeof(p));
	if (stat(p, &st) < 0)
		return false;
	if (!native.text || strcmp(native.path, p) || st.st_ino != native.st.st_ino ||
	    st.st_dev != native.st.st_dev || st.st_size != native.st.st_size ||
	    st.st_mtim.tv_sec != native.st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != native.st.st_mtim.tv_nsec) {
		char *t = malloc((size_t)st.st_size + 2);
		ssize_t k = -1;
		if (!t)
			return false;
		t[0] = '\n';
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			k = read(fd, t + 1, (size_t)st.st_size);
			close(fd);
		}
		if (k < 0) {
			free(t);
			return false;
		}
		t[k + 1] = '\0';
		free(native.text);
		native.text = t;
		native.st = st;
		snprintf(native.path, sizeof(native.path), "%s", p);
	}
	/* The first line for the address, as a scan from the top finds. */
	snprintf(a, sizeof(a), "\n%s ", addr);
	l = strstr(native.text, a);
	if (!l)
		return false;
	l += strlen(a);
	snprintf(drv, n, "%.*s", (int)strcspn(l, " \n"), l);
	if (!strcmp(drv, "-"))
		drv[0] = '\0';
	return drv[0] != '\0';
}

/* "sys/devices/..." of a device, from its bus link. */
/* vendor-reset hooks the kernel's device-specific reset (ftrace on
 * pci_dev_specific_reset): while it is loaded, the kernel accepts
 * device_specific in reset_method (for the GPUs of its table; the model
 * does not check the IDs). */
static bool vendor_reset_hooks(const char *root, const char *method)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/sys/module/vendor_reset", root);
	return !strcmp(method, "device_specific") && stat(p, &st) == 0;
}

static int dev_dir(const char *root, const char *addr, char *out, size_t n)
{
	char link[PATH_MAX], t[PATH_MAX];
	ssize_t k;
	char *d;

	snprintf(link, sizeof(link), "%s/sys/bus/pci/devices/%s", root, addr);
	k = readlink(link, t, sizeof(t) - 1);
	if (k < 0)
		return -ENODEV;
	t[k] = '\0';
	d = strstr(t, "devices/");
	if (!d)
		return -ENODEV;
	snprintf(out, n, "sys/%s", d);
	return 0;
}

static void cur_driver(const char *root, const char *dd, char *drv, size_t n)
{
	char link[PATH_MAX], t[PATH_MAX];
	ssize_t k;

	drv[0] = '\0';
	snprintf(link, sizeof(link), "%s/%s/driver", root, dd);
	k = readlink(link, t, sizeof(t) - 1);
	if (k > 0) {
		t[k] = '\0';
		snprintf(drv, n, "%s", strrchr(t, '/') + 1);
	}
}

static void read_attr(const char *root, const char *dd, const char *attr, char *buf, size_t n)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/%s", dd, attr);
	if (fakesys_get(root, rel, buf, n) < 0)
		buf[0] = '\0';
}

static int group_of(const char *root, const char *dd)
{
	char link[PATH_MAX], t[PATH_MAX];
	ssize_t k;

	snprintf(link, sizeof(link), "%s/%s/iommu_group", root, dd);
	k = readlink(link, t, sizeof(t) - 1);
	if (k <= 0)
		return -1;
	t[k] = '\0';
	return atoi(strrchr(t, '/') + 1);
}

/* --- xen-pciback: its seize list and its permissive list, each a file of
 * addresses in the driver's directory, as the kernel shows them. --- */
#define PCIBACK "sys/bus/pci/drivers/pciback"

static bool list_has(const char *root, const char *file, const char *addr)
{
	char rel[PATH_MAX], buf[4096];

	snprintf(rel, sizeof(rel), PCIBACK "/%s", file);
	if (fakesys_get(root, rel, buf, sizeof(buf)) < 0)
		return false;
	for (char *s = NULL, *t = strtok_r(buf, "\n", &s); t; t = strtok_r(NULL, "\n", &s))
		if (!strcmp(t, addr))
			return true;
	return false;
}

/* Add (once unless @dup) or remove @addr; -ENOENT removing a missing one. */
static int list_edit(const char *root, const char *file, const char *addr, bool add, bool dup)
{
	char rel[PATH_MAX], buf[4096], out[4200] = "";
	bool found = false;

	snprintf(rel, sizeof(rel), PCIBACK "/%s", file);
	if (fakesys_get(root, rel, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	for (char *s = NULL, *t = strtok_r(buf, "\n", &s); t; t = strtok_r(NULL, "\n", &s)) {
		if (!strcmp(t, addr)) {
			found = true;
			if (!add)
				continue;
		}
		strncat(out, t, sizeof(out) - strlen(out) - 2);
		strcat(out, "\n");
	}
	if (!add && !found)
		return -ENOENT;
	if (add && (!found || dup)) {
		strncat(out, addr, sizeof(out) - strlen(out) - 2);
		strcat(out, "\n");
	}
	return fakesys_put(root, rel, out);
}

static bool valid_bdf(const char *a)
{
	unsigned d, b, s, f;
	char end;

	return sscanf(a, "%4x:%2x:%2x.%1u%c", &d, &b, &s, &f, &end) == 4 && s < 32 && f < 8;
}

static int do_bind(const char *root, const char *addr, const char *drv)
{
	char dd[PATH_MAX], rel[PATH_MAX + 64], ddrv[PATH_MAX], cur[64], ov[64];
	int r, g;

	r = dev_dir(root, addr, dd, sizeof(dd));
	if (r < 0)
		return r;
	snprintf(ddrv, sizeof(ddrv), "%s/sys/bus/pci/drivers/%s", root, drv);
	if (access(ddrv, F_OK) < 0)
		return -ENOENT;
	cur_driver(root, dd, cur, sizeof(cur));
	if (cur[0])
		return -EBUSY;
	read_attr(root, dd, "driver_override", ov, sizeof(ov));
	if (ov[0] && strcmp(ov, "(null)") && strcmp(ov, drv))
		return -ENODEV;
	/* pcistub_probe: pciback takes only the devices it was told to seize
	 * (or one whose driver_override names it). */
	if (!strcmp(drv, "pciback") && !list_has(root, "slots", addr) && strcmp(ov, "pciback"))
		return -ENODEV;
	snprintf(rel, sizeof(rel), "%s/driver", dd);
	snprintf(ddrv, sizeof(ddrv), "sys/bus/pci/drivers/%s", drv);
	r = fakesys_link(root, rel, ddrv);
	if (r == 0) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/%s", drv, addr);
		r = fakesys_link(root, rel, dd);
	}
	g = group_of(root, dd);
	if (r == 0 && !strncmp(drv, "vfio", 4) && g >= 0) {
		snprintf(rel, sizeof(rel), "dev/vfio/%d", g);
		r = fakesys_put(root, rel, "");
	}
	return r;
}

static int do_unbind(const char *root, const char *addr, const char *drv)
{
	char dd[PATH_MAX], p[PATH_MAX + 64], cur[64];
	int r, g;

	r = dev_dir(root, addr, dd, sizeof(dd));
	if (r < 0)
		return r;
	cur_driver(root, dd, cur, sizeof(cur));
	if (strcmp(cur, drv))
		return -ENODEV;
	snprintf(p, sizeof(p), "%s/%s/driver", root, dd);
	unlink(p);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/%s/%s", root, drv, addr);
	unlink(p);
	/* pciback's per-device data, permissive included, goes with it. */
	if (!strcmp(drv, "pciback") && list_has(root, "permissive", addr))
		list_edit(root, "permissive", addr, false, false);
	g = group_of(root, dd);
	if (!strncmp(drv, "vfio", 4) && g >= 0) {
		/* /dev/vfio/N goes when no member is on vfio any more. */
		char gd[PATH_MAX];
		char **names = NULL;
		bool any = false;
		struct vh_sys *s = NULL;
		snprintf(gd, sizeof(gd), "/sys/kernel/iommu_groups/%d/devices", g);
		if (vh_sys_new(root, &s) == 0) {
			int n = vh_sys_list(s, &names, "%s", gd);
			for (int i = 0; i < n; i++) {
				char d2[PATH_MAX], c2[64];
				if (dev_dir(root, names[i], d2, sizeof(d2)) == 0) {
					cur_driver(root, d2, c2, sizeof(c2));
					any |= !strncmp(c2, "vfio", 4);
				}
			}
			vh_strv_free(names);
			vh_sys_free(s);
		}
		if (!any) {
			snprintf(p, sizeof(p), "%s/dev/vfio/%d", root, g);
			unlink(p);
		}
	}
	return 0;
}

static int plain_write(const char *full, const char *value, size_t len)
{
	int fd = open(full, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	ssize_t k;

	if (fd < 0)
		return -errno;
	k = write(fd, value, len);
	close(fd);
	return k == (ssize_t)len ? 0 : -EIO;
}

static void trim(char *s)
{
	size_t l = strlen(s);

	while (l && (s[l - 1] == '\n' || s[l - 1] == ' '))
		s[--l] = '\0';
}

static int numvfs(const struct vh_sys *sys, const char *root, const char *dd, const char *pfname,
		  const char *v);

/* With FAKEKERNEL_ASSERT_LOCKED set, a write made without vfio-hooks'
 * state lock (ROOT/run/vfio-hooks/lock) is logged "unlocked OP ADDR": a
 * second open file of the lock takes it only when no one holds it (flock
 * locks are per open file, so even the writing process conflicts). */
static void fk_check_locked(const char *root, const char *op, const char *addr)
{
	char p[PATH_MAX];
	int fd;

	if (!getenv("FAKEKERNEL_ASSERT_LOCKED"))
		return;
	snprintf(p, sizeof(p), "%s/run/vfio-hooks/lock", root);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0)
		fk_log(root, "unlocked", addr, op);
	if (fd >= 0)
		close(fd);
}

static int fk_model(const struct vh_sys *sys, const char *path, const char *full, const char *value,
		    size_t len, bool bounded)
{
	const char *root = vh_sys_root(sys);
	char v[256], addr[32] = "", drv[64] = "", attr[64] = "", op[32];
	char dd[PATH_MAX], rel[PATH_MAX + 64], cur_line[300];
	int inj, r;

	(void)bounded;
	snprintf(v, sizeof(v), "%.*s", (int)len, value);
	trim(v);
	if (sscanf(path, "/sys/bus/pci/devices/%31[^/]/%63s", addr, attr) == 2) {
		/* A file deeper down (drm/card1/.../lmem_quota): its name. */
		snprintf(op, sizeof(op), "%s",
			 !strcmp(attr, "driver_override") ? "override"
			 : !strcmp(attr, "sriov_numvfs")  ? "numvfs"
			 : strrchr(attr, '/')		  ? strrchr(attr, '/') + 1
							  : attr);
	} else if (sscanf(path, "/sys/bus/pci/drivers/%63[^/]/%63s", drv, attr) == 2) {
		snprintf(op, sizeof(op), "%s", attr);
		snprintf(addr, sizeof(addr), "%s", v);
	} else if (!strcmp(path, "/sys/bus/pci/drivers_probe")) {
		snprintf(op, sizeof(op), "probe");
		snprintf(addr, sizeof(addr), "%s", v);
	} else {
		return plain_write(full, value, len);
	}
	fk_check_locked(root, op, addr);
	inj = fk_inject(root, op, addr);
	if (inj == KILL) {
		fk_log(root, "killed-before", addr, op);
		raise(SIGKILL);
	}
	fk_log(root, op, addr, v);
	if (inj && inj != NOBIND)
		return -inj;

	if (!strcmp(op, "probe")) {
		char cur[64], ov[64], target[64] = "";
		r = dev_dir(root, addr, dd, sizeof(dd));
		if (r < 0)
			return r;
		cur_driver(root, dd, cur, sizeof(cur));
		if (cur[0] || inj == NOBIND)
			return 0;
		read_attr(root, dd, "driver_override", ov, sizeof(ov));
		if (ov[0] && strcmp(ov, "(null)"))
			snprintf(target, sizeof(target), "%s", ov);
		else if (list_has(root, "slots", addr))
			snprintf(target, sizeof(target), "pciback");
		else if (!fk_native(root, addr, target, sizeof(target)))
			return 0;
		r = do_bind(root, addr, target);
		return r == -ENOENT || r == -ENODEV ? 0 : r;
	}
	if (!strcmp(drv, "pciback") && !strcmp(op, "new_slot"))
		return valid_bdf(addr) ? list_edit(root, "slots", addr, true, true) : -EINVAL;
	if (!strcmp(drv, "pciback") && !strcmp(op, "remove_slot"))
		return valid_bdf(addr) ? list_edit(root, "slots", addr, false, false) : -EINVAL;
	if (!strcmp(drv, "pciback") && !strcmp(op, "permissive")) {
		char cur[64];
		if (dev_dir(root, addr, dd, sizeof(dd)) < 0)
			return -ENODEV;
		cur_driver(root, dd, cur, sizeof(cur));
		if (strcmp(cur, "pciback"))
			return -ENODEV;
		return list_edit(root, "permissive", addr, true, false);
	}
	if (!strcmp(op, "bind"))
		return do_bind(root, addr, drv);
	if (!strcmp(op, "unbind"))
		return do_unbind(root, addr, drv);
	r = dev_dir(root, addr, dd, sizeof(dd));
	if (r < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s/%s", root, dd);
	if (!strcmp(op, "override")) {
		snprintf(rel, sizeof(rel), "%s/driver_override", dd);
		snprintf(cur_line, sizeof(cur_line), "%s\n", v[0] ? v : "(null)");
		return fakesys_put(root, rel, cur_line);
	}
	if (!strcmp(op, "reset_method")) {
		char def[128], saved[PATH_MAX + 64], cur[128];
		/* The methods the device supports: the value it had first. */
		snprintf(saved, sizeof(saved), ".fakekernel/reset_default/%s", addr);
		if (fakesys_get(root, saved, def, sizeof(def)) < 0) {
			read_attr(root, dd, "reset_method", def, sizeof(def));
			fakesys_put(root, saved, def);
		}
		snprintf(rel, sizeof(rel), "%s/reset_method", dd);
		if (!strcmp(v, "default")) {
			snprintf(cur_line, sizeof(cur_line), "%s\n", def);
			return fakesys_put(root, rel, cur_line);
		}
		for (char *s = NULL, *t = strtok_r(strcpy(cur, v), " ", &s); t;
		     t = strtok_r(NULL, " ", &s)) {
			char pad[160];
			snprintf(pad, sizeof(pad), " %s ", def);
			char w[80];
			snprintf(w, sizeof(w), " %s ", t);
			if (!strstr(pad, w) && !vendor_reset_hooks(root, t))
				return -EINVAL;
		}
		snprintf(cur_line, sizeof(cur_line), "%s\n", v);
		return fakesys_put(root, rel, cur_line);
	}
	if (!strcmp(op, "numvfs"))
		return numvfs(sys, root, dd, addr, v);
	if (!strcmp(op, "reset")) {
		char rm[128];
		read_attr(root, dd, "reset_method", rm, sizeof(rm));
		return rm[0] ? 0 : -ENOTTY;
	}
	/* Any other attribute: sysfs shows the value with a newline. */
	snprintf(rel, sizeof(rel), "%s/%s", dd, attr);
	snprintf(cur_line, sizeof(cur_line), "%s\n", v);
	return fakesys_put(root, rel, cur_line);
}

/* Remove the device @addr (a VF) from the tree: its directory, its links
 * from the bus, its driver and its IOMMU group. */
static void remove_vf(const char *root, const char *addr)
{
	char dd[PATH_MAX], p[PATH_MAX + 96], drv[64], t[PATH_MAX];
	ssize_t k;

	if (dev_dir(root, addr, dd, sizeof(dd)) < 0)
		return;
	cur_driver(root, dd, drv, sizeof(drv));
	if (drv[0]) {
		snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers/%s/%s", root, drv, addr);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/%s/iommu_group", root, dd);
	k = readlink(p, t, sizeof(t) - 1);
	if (k > 0) {
		t[k] = '\0';
		const char *g = strrchr(t, '/');
		if (g) {
			snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/%s/devices/%s", root,
				 g + 1, addr);
			unlink(p);
			snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/%s/devices", root,
				 g + 1);
			rmdir(p);
			snprintf(p, sizeof(p), "%s/sys/kernel/iommu_groups/%s", root, g + 1);
			/* The group gone (a VF's own): its /dev/vfio node too,
			 * were the VF still on vfio-pci. */
			if (rmdir(p) == 0) {
				snprintf(p, sizeof(p), "%s/dev/vfio/%s", root, g + 1);
				unlink(p);
			}
		}
	}
	snprintf(p, sizeof(p), "%s/%s", root, dd);
	fakesys_rmrf(p);
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s", root, addr);
	unlink(p);
}

/* sriov_numvfs: 0 removes every VF; N from 0 creates VFs 1..N at the
 * addresses the PF's SR-IOV capability gives, each in its own IOMMU group,
 * probed by the PF's driver only while sriov_drivers_autoprobe is 1.  A
 * change between two non-zero counts is -EBUSY, as in the kernel. */
static int numvfs(const struct vh_sys *sys, const char *root, const char *dd, const char *pfname,
		  const char *v)
{
	struct vh_pci_addr pfa;
	struct vh_pci_dev pf;
	char cur[16], ap[8], drv[64], rel[PATH_MAX + 64], line[300];
	unsigned long n;
	char *end;

	n = strtoul(v, &end, 10);
	if (!v[0] || *end || vh_pci_addr_parse(pfname, &pfa) < 0 ||
	    vh_pci_dev_read(sys, &pfa, &pf) < 0)
		return -EINVAL;
	read_attr(root, dd, "sriov_numvfs", cur, sizeof(cur));
	if (n && atoi(cur))
		return -EBUSY;
	if (n > (unsigned long)pf.sriov_totalvfs)
		return -ERANGE;
	if (n == 0) {
		for (int i = atoi(cur); i-- > 0;) {
			char vf[32] = "", l[PATH_MAX + 64], t[PATH_MAX];
			ssize_t k;
			snprintf(l, sizeof(l), "%s/%s/virtfn%d", root, dd, i);
			k = readlink(l, t, sizeof(t) - 1);
			if (k > 0) {
				t[k] = '\0';
				snprintf(vf, sizeof(vf), "%s", strrchr(t, '/') + 1);
				remove_vf(root, vf);
			}
			unlink(l);
		}
	}
	read_attr(root, dd, "sriov_drivers_autoprobe", ap, sizeof(ap));
	cur_driver(root, dd, drv, sizeof(drv));
	for (unsigned long k = 1; k <= n; k++) {
		struct vh_pci_addr va;
		char vf[VH_PCI_ADDR_LEN], err[256];
		if (vh_sriov_vf_addr(&pf, (unsigned)k, &va) < 0)
			return -ERANGE;
		vh_pci_addr_format(&va, vf);
		snprintf(line, sizeof(line),
			 "%s id=%04x:%04x class=0x%06x group=%u pcie "
			 "physfn=%s%s%s\n",
			 vf, pf.vendor, pf.caps.sriov_vf_device, pf.class,
			 3000 + ((va.bus << 8) | (va.slot << 3) | va.function), pfname,
			 atoi(ap) && drv[0] ? " driver=" : "", atoi(ap) && drv[0] ? drv : "");
		if (fakesys_build(root, line, err, sizeof(err)) < 0)
			return -EIO;
	}
	snprintf(rel, sizeof(rel), "%s/sriov_numvfs", dd);
	snprintf(line, sizeof(line), "%lu\n", n);
	return fakesys_put(root, rel, line);
}

/* The time this process spent in the model, for the benchmarks: they
 * compare the hook with a shell script writing plain files on the same
 * fake root, and take this out (FAKEKERNEL_TIME_LOG=FILE: one line of
 * nanoseconds a process that wrote anything). */
static long long model_ns;

/* Writes of a process's threads (the engine's workers) are applied one
 * at a time, as the kernel's device lock would for one device; the
 * kernel's time for bounded writes (FAKEKERNEL_DELAY_MS) is spent outside
 * that lock, where the writes of several devices overlap. */
static pthread_mutex_t fk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fk_cv = PTHREAD_COND_INITIALIZER;
#define FK_MAX_INFLIGHT 64
static char inflight[FK_MAX_INFLIGHT][32];
static char arrived[FK_MAX_INFLIGHT][32];
static int n_arrived;

/* The device a write is about: the path's, or the value of a driver's
 * bind/unbind or drivers_probe. */
static void fk_addr_of(const char *path, const char *value, size_t len, char *addr, size_t n)
{
	char a[32] = "";

	if (sscanf(path, "/sys/bus/pci/devices/%31[^/]", a) != 1 &&
	    (!strncmp(path, "/sys/bus/pci/drivers", 20)))
		snprintf(a, sizeof(a), "%.*s", (int)(len < 31 ? len : 31), value);
	trim(a);
	snprintf(addr, n, "%s", a);
}

/* A bounded write entering the kernel's slow part: "overlap ADDR OTHER"
 * logged for every other device in flight, the rendezvous waited for, the
 * delay slept.  Returns the in-flight slot to free, or -1. */
static int fk_slow_enter(const char *root, const char *addr)
{
	const char *d = getenv("FAKEKERNEL_DELAY_MS"), *rv = getenv("FAKEKERNEL_RENDEZVOUS");
	long delay = d ? atol(d) : 0, want = rv ? atol(rv) : 0;
	int slot = -1;

	if (delay <= 0 && want <= 0)
		return -1;
	pthread_mutex_lock(&fk_mu);
	for (int i = 0; i < FK_MAX_INFLIGHT; i++) {
		if (inflight[i][0] && strcmp(inflight[i], addr))
			fk_log(root, "overlap", addr, inflight[i]);
		else if (!inflight[i][0] && slot < 0)
			slot = i;
	}
	if (slot >= 0)
		snprintf(inflight[slot], sizeof(inflight[slot]), "%s", addr);
	/* FAKEKERNEL_RENDEZVOUS=K: the first write of each device waits
	 * until K devices have come (at most 5 s: threads start slowly
	 * under ThreadSanitizer on a loaded machine): K devices worked on
	 * at once come together; one after the other, the first times out. */
	if (want > 0) {
		bool seen = false;
		for (int i = 0; i < n_arrived; i++)
			seen = seen || !strcmp(arrived[i], addr);
		if (!seen && n_arrived < FK_MAX_INFLIGHT) {
			struct timespec until;
			snprintf(arrived[n_arrived++], sizeof(arrived[0]), "%s", addr);
			pthread_cond_broadcast(&fk_cv);
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 5;
			while (n_arrived < want)
				if (pthread_cond_timedwait(&fk_cv, &fk_mu, &until) != 0) {
					fk_log(root, "rendezvous-timeout", addr, "");
					break;
				}
		}
	}
	pthread_mutex_unlock(&fk_mu);
	if (delay > 0)
		nanosleep(
		    &(struct timespec){.tv_sec = delay / 1000, .tv_nsec = (delay % 1000) * 1000000},
		    NULL);
	return slot;
}

void fakekernel_rendezvous_reset(void)
{
	pthread_mutex_lock(&fk_mu);
	n_arrived = 0;
	pthread_mutex_unlock(&fk_mu);
}

int fakekernel_write(const struct vh_sys *sys, const char *path, const char *full,
		     const char *value, size_t len, bool bounded)
{
	struct timespec t0, t1;
	char addr[32];
	int r, slot = -1;

	if (bounded) {
		fk_addr_of(path, value, len, addr, sizeof(addr));
		slot = fk_slow_enter(vh_sys_root(sys), addr);
	}
	pthread_mutex_lock(&fk_mu);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = fk_model(sys, path, full, value, len, bounded);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	model_ns += (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	if (slot >= 0)
		inflight[slot][0] = '\0';
	pthread_mutex_unlock(&fk_mu);
	return r;
}

__attribute__((destructor)) static void fk_time_log(void)
{
	const char *p = getenv("FAKEKERNEL_TIME_LOG");
	char line[32];
	int fd, n;

	if (!model_ns || !p || !*p)
		return;
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%lld\n", model_ns);
	if (write(fd, line, (size_t)n) < 0)
		n = 0;
	close(fd);
}

static const struct vh_sys_backend fake = {.write = fakekernel_write};

void fakekernel_install(struct vh_sys *sys)
{
	vh_sys_set_backend(sys, &fake);
}
