/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "inuse.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* The kernel's limits of what is worth following: a bridge over a bond
 * over a VLAN, LVM over md over a partition. */
#define MAX_DEPTH 4
#define MAX_FILE (8u << 20)

struct proc_file {
	const char *path;
	char *text; /* NULL: not read (yet), or unreadable */
	int err;    /* 0, or why it could not be read */
	bool read;
	bool warned;
};

enum { MOUNTINFO, SWAPS, ROUTE4, ROUTE6, INET6, N_PROC };

struct ictx {
	const struct vh_sys *sys;
	const char *addr; /* "0000:00:1f.2" */
	struct vh_uses *u;
	int err; /* -ENOMEM, sticky */
	struct proc_file f[N_PROC];
};

/* Add a use; takes @reason and @fix (NULL: none). */
static void add_use(struct ictx *c, bool error, char *reason, char *fix)
{
	struct vh_use *nv;

	if (!reason || c->err) {
		free(reason);
		free(fix);
		c->err = -ENOMEM;
		return;
	}
	nv = realloc(c->u->v, (c->u->n + 1) * sizeof(*nv));
	if (!nv) {
		free(reason);
		free(fix);
		c->err = -ENOMEM;
		return;
	}
	c->u->v = nv;
	nv[c->u->n++] = (struct vh_use){.error = error, .reason = reason, .fix = fix};
	c->u->n_error += error;
}

/* A /proc file, whole (they are generated: a read that fills the buffer
 * is read again into a larger one). */
static const char *proc(struct ictx *c, int which)
{
	struct proc_file *p = &c->f[which];
	size_t cap = 16384, len = 0;

	if (p->read)
		return p->text;
	p->read = true;
	for (;;) {
		char *buf = malloc(cap + 1);
		int r;
		if (!buf) {
			c->err = -ENOMEM;
			return NULL;
		}
		r = vh_sys_read_raw(c->sys, buf, cap, &len, "%s", p->path);
		if (r < 0) {
			free(buf);
			p->err = r;
			return NULL;
		}
		if (len < cap || cap >= MAX_FILE) {
			buf[len] = '\0';
			p->text = buf;
			return buf;
		}
		free(buf);
		cap *= 4;
	}
}

/* An unreadable file is a use that could not be checked, said once.  A
 * sysroot without /proc (a test's, a snapshot's) has nothing to check. */
static void proc_needed(struct ictx *c, int which, const char *what)
{
	struct proc_file *p = &c->f[which];

	if (proc(c, which) || c->err)
		return;
	if (p->err == -ENOENT && !vh_sys_is_real(c->sys))
		return;
	if (!p->warned)
		add_use(c, false,
			vh_fmt("%s cannot be read (%s), so whether %s is in use is not known.",
			       p->path, strerror(-p->err), what),
			vh_fmt("run as root, or check %s by hand", what));
	p->warned = true;
}

/* Whether a sysfs link's target runs through the function's directory:
 * the device is below it (its disk, its interface, its framebuffer). */
static bool below(struct ictx *c, const char *class, const char *name)
{
	char t[PATH_MAX], pat[VH_PCI_ADDR_LEN + 2];

	if (vh_sys_readlink(c->sys, t, sizeof(t), "/sys/class/%s/%s", class, name) < 0)
		return false;
	snprintf(pat, sizeof(pat), "/%s", c->addr);
	for (const char *p = t; (p = strstr(p, pat)); p++)
		if (p[strlen(pat)] == '/' || !p[strlen(pat)])
			return true;
	return false;
}

/* --- Block devices. --- */

/* Field @n (from 0) of a blank-separated line, into @buf. */
static bool field(const char *line, int n, char *buf, size_t sz)
{
	const char *p = line;

	for (int i = 0;; i++) {
		size_t l;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			return false;
		l = strcspn(p, " \t\n");
		if (i == n) {
			if (l >= sz)
				return false;
			memcpy(buf, p, l);
			buf[l] = '\0';
			return true;
		}
		p += l;
	}
}

/* mountinfo escapes blanks in paths as \040 (and \011, \012, \134). */
static void unescape(char *s)
{
	char *w = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
}

/* Where block device @name (major:minor @dev, dm name @dm or "") is
 * mounted: the first mount point in @ret, and how many there are.  A
 * filesystem on an anonymous device (btrfs: 0:NN) is matched by its
 * source, /dev/NAME or /dev/mapper/DM. */
static int mounts_of(struct ictx *c, const char *name, const char *dev, const char *dm, char *ret,
		     size_t n)
{
	const char *t = proc(c, MOUNTINFO);
	char src[PATH_MAX], dn[64], dmn[128];
	int count = 0;

	snprintf(dn, sizeof(dn), "/dev/%s", name);
	snprintf(dmn, sizeof(dmn), "/dev/mapper/%s", dm);
	for (const char *l = t; l && *l;) {
		const char *nl = strchr(l, '\n'), *sep = strstr(l, " - ");
		char mm[32], mp[PATH_MAX];
		bool hit = false;
		if (sep && nl && sep > nl)
			sep = NULL;
		if (field(l, 2, mm, sizeof(mm)) && dev[0] && streq(mm, dev))
			hit = true;
		if (!hit && sep && field(sep + 3, 1, src, sizeof(src)))
			hit = streq(src, dn) || (dm[0] && streq(src, dmn));
		if (hit && field(l, 4, mp, sizeof(mp))) {
			if (!count++) {
				unescape(mp);
				snprintf(ret, n, "%s", mp);
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return count;
}

static bool is_swap(struct ictx *c, const char *name, const char *dm)
{
	const char *t = proc(c, SWAPS);
	char dn[64], dmn[128], f0[PATH_MAX];

	snprintf(dn, sizeof(dn), "/dev/%s", name);
	snprintf(dmn, sizeof(dmn), "/dev/mapper/%s", dm);
	for (const char *l = t; l && *l;) {
		const char *nl = strchr(l, '\n');
		if (field(l, 0, f0, sizeof(f0)) && (streq(f0, dn) || (dm[0] && streq(f0, dmn))))
			return true;
		l = nl ? nl + 1 : NULL;
	}
	return false;
}

/* What the host does with block device @name, as a clause ("is mounted on
 * /data", "is active swap", "is a member of dm-0 (vg-root), which is
 * mounted on /"), or NULL when nothing. */
static char *block_use(struct ictx *c, const char *name, int depth)
{
	char dev[32] = "", dm[128] = "", mp[PATH_MAX], **holders = NULL;
	char *r = NULL;
	int n;

	if (depth > MAX_DEPTH)
		return NULL;
	(void)vh_sys_read_str(c->sys, dev, sizeof(dev), "/sys/class/block/%s/dev", name);
	(void)vh_sys_read_str(c->sys, dm, sizeof(dm), "/sys/class/block/%s/dm/name", name);
	n = mounts_of(c, name, dev, dm, mp, sizeof(mp));
	if (n > 0)
		return n > 1 ? vh_fmt("is mounted on %s (and %d more places)", mp, n - 1)
			     : vh_fmt("is mounted on %s", mp);
	if (is_swap(c, name, dm))
		return strdup("is active swap");
	n = vh_sys_list(c->sys, &holders, "/sys/class/block/%s/holders", name);
	for (int i = 0; i < n && !r; i++) {
		char hdm[128] = "";
		_cleanup_free_ char *sub = block_use(c, holders[i], depth + 1);
		(void)vh_sys_read_str(c->sys, hdm, sizeof(hdm), "/sys/class/block/%s/dm/name",
				      holders[i]);
		/* An active md or dm device over the disk: taking the disk
		 * breaks it, whatever is on it. */
		r = vh_fmt("is a member of %s%s%s%s, which %s", holders[i], hdm[0] ? " (" : "", hdm,
			   hdm[0] ? ")" : "", sub ? sub : "is active");
	}
	vh_strv_free(holders);
	return r;
}

/* Devices the kernel makes up: never below a PCI function. */
static bool virtual_block(const char *name)
{
	static const char *const pfx[] = {"loop", "ram", "zram", "dm-", "md", "nbd", "zd"};

	for (size_t i = 0; i < ELEMENTSOF(pfx); i++)
		if (!strncmp(name, pfx[i], strlen(pfx[i])))
			return true;
	return false;
}

/* Calls one() for each device of /sys/class/<class> that is not skipped
 * and sits below the device checked, until an error. */
static void for_each_below(struct ictx *c, const char *class, bool (*skip)(const char *name),
			   void (*one)(struct ictx *c, const char *name))
{
	char **names = NULL;
	int n = vh_sys_list(c->sys, &names, "/sys/class/%s", class);

	for (int i = 0; i < n && !c->err; i++)
		if (!skip(names[i]) && below(c, class, names[i]))
			one(c, names[i]);
	vh_strv_free(names);
}

static void check_block_one(struct ictx *c, const char *name)
{
	_cleanup_free_ char *use = NULL;
	char what[80];

	snprintf(what, sizeof(what), "/dev/%s", name);
	proc_needed(c, MOUNTINFO, what);
	proc_needed(c, SWAPS, what);
	use = block_use(c, name, 0);
	if (!use)
		return;
	if (!strncmp(use, "is a member of ", 15)) {
		add_use(
		    c, true, vh_fmt("/dev/%s %s.", name, use),
		    vh_fmt(
			"stop what is over /dev/%s (unmount it; mdadm --stop, vgchange -an, dmsetup remove), or pass another disk's controller",
			name));
	} else if (strstr(use, "mounted on ")) {
		const char *mp = strstr(use, "mounted on ") + 11;
		size_t l = strcspn(mp, " ");
		add_use(c, true, vh_fmt("/dev/%s %s.", name, use),
			vh_fmt("unmount %.*s, or pass another disk's controller", (int)l, mp));
	} else {
		add_use(
		    c, true, vh_fmt("/dev/%s %s.", name, use),
		    vh_fmt("swapoff the swap on /dev/%s, or pass another disk's controller", name));
	}
}

static void check_block(struct ictx *c)
{
	for_each_below(c, "block", virtual_block, check_block_one);
}

/* --- Network interfaces. --- */

static unsigned prefix_len(uint32_t mask)
{
	return (unsigned)__builtin_popcount(mask);
}

/* /proc/net/route holds the main table's IPv4 routes, in the kernel's
 * byte order.  There is no /proc file of IPv4 addresses (only netlink has
 * them), but the kernel adds a link route for every address it is given
 * with a prefix: a route on the interface is the practical test. */
static char *route4_use(struct ictx *c, const char *ifname)
{
	const char *t = proc(c, ROUTE4);
	char *first = NULL;

	for (const char *l = t; l && *l;) {
		const char *nl = strchr(l, '\n');
		char ifn[64], d[16], g[16], m[16];
		unsigned dest, gw, mask;
		if (field(l, 0, ifn, sizeof(ifn)) && streq(ifn, ifname) &&
		    field(l, 1, d, sizeof(d)) && field(l, 2, g, sizeof(g)) &&
		    field(l, 7, m, sizeof(m)) && sscanf(d, "%x", &dest) == 1 &&
		    sscanf(g, "%x", &gw) == 1 && sscanf(m, "%x", &mask) == 1) {
			char a[INET_ADDRSTRLEN];
			struct in_addr in = {.s_addr = dest};
			if (dest == 0 && mask == 0) {
				in.s_addr = gw;
				inet_ntop(AF_INET, &in, a, sizeof(a));
				free(first);
				return vh_fmt("carries the default route (via %s)", a);
			}
			if (!first) {
				inet_ntop(AF_INET, &in, a, sizeof(a));
				first = vh_fmt("is up with a route to %s/%u", a, prefix_len(mask));
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return first;
}

static bool hex_addr6(const char *hex, struct in6_addr *ret)
{
	if (strlen(hex) != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		unsigned b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return false;
		ret->s6_addr[i] = (uint8_t)b;
	}
	return true;
}

/* IPv6 routes and global addresses.  Every interface that is up has
 * fe80::/64 and ff00::/8 routes of its own: those say nothing. */
static char *route6_use(struct ictx *c, const char *ifname)
{
	const char *t = proc(c, ROUTE6);
	char *first = NULL;

	for (const char *l = t; l && *l;) {
		const char *nl = strchr(l, '\n');
		char ifn[64], d[40], pl[8], fl[16], a[INET6_ADDRSTRLEN];
		struct in6_addr dest;
		unsigned plen, flags;
		if (field(l, 9, ifn, sizeof(ifn)) && streq(ifn, ifname) &&
		    field(l, 0, d, sizeof(d)) && field(l, 1, pl, sizeof(pl)) &&
		    field(l, 8, fl, sizeof(fl)) && hex_addr6(d, &dest) &&
		    sscanf(pl, "%x", &plen) == 1 && sscanf(fl, "%x", &flags) == 1 &&
		    !(dest.s6_addr[0] == 0xfe && (dest.s6_addr[1] & 0xc0) == 0x80) &&
		    dest.s6_addr[0] != 0xff && !(flags & 0x80000000u)) {
			if (plen == 0) {
				free(first);
				return strdup("carries the IPv6 default route");
			}
			if (!first) {
				inet_ntop(AF_INET6, &dest, a, sizeof(a));
				first = vh_fmt("is up with a route to %s/%u", a, plen);
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return first;
}

static char *addr6_use(struct ictx *c, const char *ifname)
{
	const char *t = proc(c, INET6);

	for (const char *l = t; l && *l;) {
		const char *nl = strchr(l, '\n');
		char ifn[64], h[40], pl[8], sc[8], a[INET6_ADDRSTRLEN];
		struct in6_addr in;
		unsigned plen, scope;
		/* scope 0: global, 0x40: site; link-local and host say
		 * nothing */
		if (field(l, 5, ifn, sizeof(ifn)) && streq(ifn, ifname) &&
		    field(l, 0, h, sizeof(h)) && field(l, 2, pl, sizeof(pl)) &&
		    field(l, 3, sc, sizeof(sc)) && hex_addr6(h, &in) &&
		    sscanf(pl, "%x", &plen) == 1 && sscanf(sc, "%x", &scope) == 1 &&
		    (scope == 0 || scope == 0x40)) {
			inet_ntop(AF_INET6, &in, a, sizeof(a));
			return vh_fmt("is up with address %s/%u", a, plen);
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static bool net_up(struct ictx *c, const char *ifname)
{
	unsigned long long flags;
	char op[32];

	if (vh_sys_read_uint(c->sys, &flags, "/sys/class/net/%s/flags", ifname) == 0)
		return flags & 0x1; /* IFF_UP */
	return vh_sys_read_str(c->sys, op, sizeof(op), "/sys/class/net/%s/operstate", ifname) ==
		   0 &&
	       streq(op, "up");
}

/* What the host does with interface @ifname, as a clause, or NULL.  An
 * interface that is down carries nothing (the kernel drops its routes);
 * one that is a port of a bridge or bond, or under a VLAN, carries what
 * its upper device does. */
static char *net_use(struct ictx *c, const char *ifname, int depth)
{
	char **ent = NULL, *r = NULL;
	int n;

	if (depth > MAX_DEPTH || !net_up(c, ifname))
		return NULL;
	{
		/* The default route first, then any route, then an
		 * address. */
		_cleanup_free_ char *r4 = route4_use(c, ifname);
		_cleanup_free_ char *r6 = route6_use(c, ifname);
		if (r4 && strstr(r4, "default"))
			return TAKE_PTR(r4);
		if (r6 && strstr(r6, "default"))
			return TAKE_PTR(r6);
		if (r4 || r6)
			return r4 ? TAKE_PTR(r4) : TAKE_PTR(r6);
		r = addr6_use(c, ifname);
		if (r)
			return r;
	}
	n = vh_sys_list(c->sys, &ent, "/sys/class/net/%s", ifname);
	for (int i = 0; i < n && !r; i++) {
		_cleanup_free_ char *sub = NULL;
		if (strncmp(ent[i], "upper_", 6) != 0)
			continue;
		sub = net_use(c, ent[i] + 6, depth + 1);
		if (sub)
			r = vh_fmt("is a port of %s, which %s", ent[i] + 6, sub);
	}
	vh_strv_free(ent);
	return r;
}

static bool loopback(const char *name)
{
	return streq(name, "lo");
}

static void check_net_one(struct ictx *c, const char *name)
{
	_cleanup_free_ char *use = NULL;

	if (!net_up(c, name))
		return;
	/* IPv4 is judged by its routes alone: without them, nothing
	 * can be said of it. */
	proc_needed(c, ROUTE4, name);
	use = net_use(c, name, 0);
	if (use)
		add_use(c, true, vh_fmt("%s %s.", name, use),
			vh_fmt("take %s down: ip link set %s down, or give the VM another NIC",
			       name, name));
}

static void check_net(struct ictx *c)
{
	for_each_below(c, "net", loopback, check_net_one);
}

/* --- The console. --- */

static bool fbcon_bound(struct ictx *c)
{
	char **v = NULL, name[128], bind[8];
	bool on = false;
	int n = vh_sys_list(c->sys, &v, "/sys/class/vtconsole");

	for (int i = 0; i < n && !on; i++)
		on = vh_sys_read_str(c->sys, name, sizeof(name), "/sys/class/vtconsole/%s/name",
				     v[i]) == 0 &&
		     strstr(name, "frame buffer") &&
		     vh_sys_read_str(c->sys, bind, sizeof(bind), "/sys/class/vtconsole/%s/bind",
				     v[i]) == 0 &&
		     streq(bind, "1");
	vh_strv_free(v);
	return on;
}

static void check_console(struct ictx *c, const struct vh_pci_dev *d)
{
	unsigned long long boot = 0;
	char **fbs = NULL, fb[64] = "";
	int n;

	if ((d->class >> 16) != 0x03 ||
	    vh_sys_read_uint(c->sys, &boot, "/sys/bus/pci/devices/%s/boot_vga", d->name) < 0 ||
	    boot != 1)
		return;
	n = vh_sys_list(c->sys, &fbs, "/sys/class/graphics");
	for (int i = 0; i < n && !fb[0]; i++)
		if (!strncmp(fbs[i], "fb", 2) && below(c, "graphics", fbs[i]))
			snprintf(fb, sizeof(fb), "%s", fbs[i]);
	vh_strv_free(fbs);
	/* The firmware's framebuffer (efifb, simpledrm) is not below the
	 * function, but it is the boot GPU's memory all the same. */
	if (!fbcon_bound(c) && !fb[0])
		return;
	add_use(
	    c, false,
	    vh_fmt("The host's console is on it (boot_vga 1, %s%s).",
		   fb[0] ? "framebuffer " : "fbcon bound", fb[0] ? fb : ""),
	    strdup(
		"nothing, for single-GPU passthrough on purpose (the host's console goes dark while the VM runs); else give the VM another GPU"));
}

/* --- The whole. --- */

static bool no_host_driver(const char *drv)
{
	return !drv[0] || strstr(drv, "vfio") || streq(drv, "pci-stub") || streq(drv, "pciback");
}

int vh_pci_in_use(const struct vh_sys *sys, const struct vh_pci_dev *dev, struct vh_uses *ret)
{
	struct vh_uses u = {0};
	struct ictx c = {.sys = sys, .addr = dev->name, .u = &u};

	c.f[MOUNTINFO].path = "/proc/self/mountinfo";
	c.f[SWAPS].path = "/proc/swaps";
	c.f[ROUTE4].path = "/proc/net/route";
	c.f[ROUTE6].path = "/proc/net/ipv6_route";
	c.f[INET6].path = "/proc/net/if_inet6";
	if (dev->present && !no_host_driver(dev->driver)) {
		check_block(&c);
		if (!c.err)
			check_net(&c);
	}
	if (dev->present && !c.err)
		check_console(&c, dev);
	for (int i = 0; i < N_PROC; i++)
		free(c.f[i].text);
	if (c.err) {
		vh_uses_done(&u);
		return c.err;
	}
	*ret = u;
	return (int)u.n;
}

void vh_uses_done(struct vh_uses *u)
{
	for (size_t i = 0; u && i < u->n; i++) {
		free(u->v[i].reason);
		free(u->v[i].fix);
	}
	if (u) {
		free(u->v);
		*u = (struct vh_uses){0};
	}
}

static char *join(const struct vh_uses *u, const char *sep, bool fixes)
{
	struct vh_buf b = {0};

	for (size_t i = 0; i < u->n; i++) {
		const char *s = fixes ? u->v[i].fix : u->v[i].reason;
		if (s)
			vh_buf_printf(&b, "%s%s", b.len ? sep : "", s);
	}
	if (!b.len)
		vh_buf_puts(&b, "");
	return vh_buf_failed(&b) ? (vh_buf_done(&b), NULL) : vh_buf_steal(&b);
}

char *vh_uses_reasons(const struct vh_uses *u, const char *sep)
{
	return join(u, sep, false);
}

char *vh_uses_fixes(const struct vh_uses *u, const char *sep)
{
	return join(u, sep, true);
}
