/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include "mmio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host.h"

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)

/* OVMF's releases that changed the window (edk2 tags). */
#define EDK2_DYNAMIC 202211  /* ecb778d0ac: PlatformDynamicMmioWindow */
#define EDK2_OVERRIDE 202505 /* 9ac1704af6: X-PciMmio64Mb taken as is */
#define EDK2_READ 202605     /* the newest release read */

enum era { ERA_OLD, ERA_DYNAMIC, ERA_OVERRIDE, ERA_NEWER };

/* One reading of what is unknown. */
struct scen {
	enum vh_mmio_fw fw;
	enum era era;
	unsigned bits; /* the guest CPU's physical address bits */
	int intel;     /* guest CPU vendor */
	int page1g;    /* guest CPU has pdpe1gb */
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	if (!a || v > UINT64_MAX - (a - 1))
		return a ? UINT64_MAX & ~(a - 1) : v;
	return (v + a - 1) & ~(a - 1);
}

static uint64_t pow2_floor(uint64_t v)
{
	return v ? 1ULL << (63 - __builtin_clzll(v)) : 0;
}

static uint64_t pow2_ceil(uint64_t v)
{
	uint64_t p = pow2_floor(v);

	return p == v || p >= (1ULL << 63) ? p : p << 1;
}

static uint64_t top_of(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : 1ULL << bits;
}

static unsigned bits_for(uint64_t end)
{
	unsigned b = 0;

	while (b < 64 && top_of(b) < end)
		b++;
	return b;
}

void vh_mmio_size_str(uint64_t v, char *buf, size_t n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;

	while (u + 1 < ELEMENTSOF(units) && v && (v & 1023) == 0) {
		v >>= 10;
		u++;
	}
	snprintf(buf, n, "%llu %s", (unsigned long long)v, units[u]);
}

/* The end of guest RAM above 4 GiB, 1 GiB aligned: QEMU puts RAM beyond 2
 * GiB (q35) or 3 GiB (i440fx) above 4 GiB, and memory hot-plug space
 * (<maxMemory>) after it. */
static uint64_t ram_top(const struct vh_domain *d)
{
	uint64_t mem = d->memory_kib * 1024, max = d->max_memory_kib * 1024;
	uint64_t low = d->machine_kind == VH_MACHINE_Q35 ? 0x80000000ULL : 0xc0000000ULL;
	uint64_t top = 4 * GIB + (mem > low ? mem - low : 0);

	if (max > mem)
		top = align_up(top, GIB) + (max - mem) + GIB;
	return align_up(top, GIB);
}

static bool mb_given(const struct vh_domain *d)
{
	return d->fw.has_mmio64_mb && d->fw.mmio64_mb <= 0x1000000;
}

static uint64_t ovmf_window(const struct vh_domain *d, const struct scen *s)
{
	uint64_t top = ram_top(d), classic = 32 * GIB, base;
	unsigned p = s->bits;
	bool valid =
	    p >= 41 || (s->intel == 1 && (p == 36 || p == 39)) || (s->intel == 0 && p == 40);

	if (mb_given(d))
		classic = align_up(d->fw.mmio64_mb * MIB, GIB);
	if (s->era != ERA_OLD && valid) {
		uint64_t mmio;
		bool override = mb_given(d) && s->era >= ERA_OVERRIDE;
		p = p > 46 ? 46 : p;
		p = !s->page1g && p > 40 ? 40 : p;
		/* A release after the newest read may take a quarter
		 * (edk2 pull request 12997). */
		mmio = 1ULL << (p - (s->era == ERA_NEWER ? 2 : 3));
		if (!override && classic < mmio && top + mmio < top_of(p))
			return mmio;
	}
	if (!classic)
		return 0;
	base = align_up(top, pow2_floor(classic));
	return base >= top_of(s->bits)		  ? 0
	       : classic < top_of(s->bits) - base ? classic
						  : top_of(s->bits) - base;
}

static uint64_t window_of(const struct vh_domain *d, const struct scen *s)
{
	if (s->fw == VH_MMIO_FW_OVMF)
		return ovmf_window(d, s);
	return top_of(s->bits) > ram_top(d) ? top_of(s->bits) - ram_top(d) : 0;
}

enum vh_mmio_fw vh_mmio_firmware(const struct vh_domain *d)
{
	const char *l = d->fw.loader;

	if (streq(d->fw.firmware, "efi") || (l && (strcasestr(l, "ovmf") || strcasestr(l, "edk2"))))
		return VH_MMIO_FW_OVMF;
	if (!l || strcasestr(l, "bios"))
		return VH_MMIO_FW_SEABIOS;
	return VH_MMIO_FW_UNKNOWN;
}

static bool host_cpu(const struct vh_domain *d)
{
	return streq(d->fw.cpu_mode, "host-passthrough") || streq(d->fw.cpu_mode, "maximum");
}

/* The candidates of each unknown, in @v (at most 4), their count. */
static unsigned cand_bits(const struct vh_domain *d, const struct vh_mmio_host *h, unsigned *v)
{
	unsigned host = h->phys_bits;

	switch (d->fw.physaddr) {
	case VH_PHYSADDR_EMULATE:
		v[0] = d->fw.physaddr_bits;
		return 1;
	case VH_PHYSADDR_PASSTHROUGH:
		if (!host) {
			unsigned lim = d->fw.physaddr_bits;
			v[0] = 36, v[1] = 40, v[2] = 46;
			for (int k = 0; lim && k < 3; k++)
				v[k] = v[k] > lim ? lim : v[k];
			return 3;
		}
		v[0] =
		    d->fw.physaddr_bits && d->fw.physaddr_bits < host ? d->fw.physaddr_bits : host;
		return 1;
	default:
		v[0] = 40; /* QEMU's phys-bits default */
		if (!host_cpu(d) && !streq(d->fw.cpu_mode, "host-model"))
			return 1;
		/* host-passthrough: QEMU's "host" CPU turns host-phys-bits on
		 * (target/i386/host-cpu.c), older QEMU did not; host-model:
		 * newer libvirt may give it the host's bits too (not
		 * confirmed), so both are tried. */
		if (!host) {
			v[1] = 36, v[2] = 46;
			return 3;
		}
		v[1] = host;
		return v[1] == 40 ? 1 : 2;
	}
}

static unsigned cand_tri(int known, int *v)
{
	if (known < 0) {
		v[0] = 0, v[1] = 1;
		return 2;
	}
	v[0] = known;
	return 1;
}

static unsigned cand_intel(const struct vh_domain *d, const struct vh_mmio_host *h, int *v)
{
	/* Under KVM every model takes the host's vendor
	 * (host_cpu_instance_init, target/i386/host-cpu.c). */
	if (host_cpu(d) || streq(d->fw.cpu_mode, "host-model") || streq(d->virt_type, "kvm"))
		return cand_tri(h->intel, v);
	/* No CPU model: QEMU's qemu64, whose vendor is AuthenticAMD. */
	return cand_tri(d->fw.cpu_model ? -1 : 0, v);
}

static unsigned cand_page1g(const struct vh_domain *d, const struct vh_mmio_host *h, int *v)
{
	if (host_cpu(d) || streq(d->fw.cpu_mode, "host-model"))
		return cand_tri(h->pdpe1gb, v);
	/* qemu64 has no pdpe1gb; a named model may. */
	return cand_tri(d->fw.pdpe1gb ? 1 : d->fw.cpu_model ? -1 : 0, v);
}

static unsigned cand_era(const struct vh_mmio_host *h, enum era *v)
{
	unsigned y = h->ovmf_yyyymm;

	if (!y) {
		v[0] = ERA_OLD, v[1] = ERA_DYNAMIC, v[2] = ERA_OVERRIDE, v[3] = ERA_NEWER;
		return 4;
	}
	v[0] = y < EDK2_DYNAMIC ? ERA_OLD : y < EDK2_OVERRIDE ? ERA_DYNAMIC : ERA_OVERRIDE;
	if (y <= EDK2_READ)
		return 1;
	v[1] = ERA_NEWER;
	return 2;
}

/* The least and the most window over every reading of the unknowns. */
static void window_range(const struct vh_domain *d, const struct vh_mmio_host *h, uint64_t *lo,
			 uint64_t *hi)
{
	enum vh_mmio_fw fws[2];
	unsigned bits[4], nf = 0, nb = cand_bits(d, h, bits), ni, np, ne;
	int intel[2], page1g[2];
	enum era eras[4];

	switch (vh_mmio_firmware(d)) {
	case VH_MMIO_FW_UNKNOWN:
		fws[nf++] = VH_MMIO_FW_SEABIOS;
		/* fall through */
	case VH_MMIO_FW_OVMF:
		fws[nf++] = VH_MMIO_FW_OVMF;
		break;
	default:
		fws[nf++] = VH_MMIO_FW_SEABIOS;
	}
	ni = cand_intel(d, h, intel);
	np = cand_page1g(d, h, page1g);
	ne = cand_era(h, eras);
	*lo = UINT64_MAX, *hi = 0;
	for (unsigned f = 0; f < nf; f++)
		for (unsigned b = 0; b < nb; b++)
			for (unsigned i = 0; i < ni; i++)
				for (unsigned p = 0; p < np; p++)
					for (unsigned e = 0; e < ne; e++) {
						struct scen s = {fws[f], eras[e], bits[b], intel[i],
								 page1g[p]};
						uint64_t w = window_of(d, &s);
						*lo = w < *lo ? w : *lo;
						*hi = w > *hi ? w : *hi;
					}
	if (d->fw.mmio64_unknown)
		*hi = UINT64_MAX;
}

/* --- What the host says. --- */

static void read_cpuinfo(const struct vh_sys *sys, struct vh_mmio_host *h)
{
	_cleanup_free_ char *cpu = vh_host_slurp(sys, "/proc/cpuinfo");
	const char *p = cpu ? strstr(cpu, "address sizes") : NULL;
	const char *v = cpu ? strstr(cpu, "vendor_id") : NULL;
	unsigned bits;

	if (p && sscanf(p, "address sizes : %u bits physical", &bits) == 1 && bits >= 32 &&
	    bits <= 64)
		h->phys_bits = bits;
	if (v) {
		v += strcspn(v, ":\n");
		h->intel = !strncmp(v, ": GenuineIntel", 14)   ? 1
			   : !strncmp(v, ": AuthenticAMD", 14) ? 0
							       : -1;
	}
	h->pdpe1gb = cpu && strstr(cpu, "flags") ? vh_has_word(cpu, "pdpe1gb") : -1;
}

/* A Debian version of the ovmf package as an edk2 release: "2022.11-6",
 * "1:2024.02-2ubuntu0.1", or a snapshot "0~20191122.bd85bf54-2ubuntu3". */
static unsigned edk2_release(const char *v)
{
	unsigned y, m, date;
	const char *c = strchr(v, ':');

	if (c && (size_t)(c - v) < strspn(v, "0123456789") + 1)
		v = c + 1;
	if (sscanf(v, "0~%8u", &date) == 1 && date >= 20000101)
		return date / 100;
	if (sscanf(v, "%4u.%2u", &y, &m) == 2 && y >= 2000 && m >= 1 && m <= 12)
		return y * 100 + m;
	return 0;
}

/* A whole file of dpkg's database, as libvirt's own state is read: a
 * regular file only root (or the caller) can change; NULL when not. */
static char *dpkg_file(const struct vh_sys *sys, const char *path)
{
	struct vh_err e = {0};
	char *buf = NULL;

	return vh_sys_read_trusted(sys, 64u << 20, &buf, NULL, &e, "%s", path) < 0 ? NULL : buf;
}

/* The ovmf stanza of /var/lib/dpkg/status, when installed: its Version. */
static void read_dpkg_ovmf(const struct vh_sys *sys, const struct vh_domain *d,
			   struct vh_mmio_host *h)
{
	_cleanup_free_ char *status = NULL;
	const char *s, *end, *ver, *inst;

	if (d->fw.loader && d->fw.loader[0]) {
		/* Only the package's own files tell its version. */
		_cleanup_free_ char *list = dpkg_file(sys, "/var/lib/dpkg/info/ovmf.list");
		size_t n = strlen(d->fw.loader);
		const char *p = list;
		while (p && (p = strstr(p, d->fw.loader)) &&
		       !((p == list || p[-1] == '\n') && (p[n] == '\n' || !p[n])))
			p += n;
		if (!p)
			return;
	}
	status = dpkg_file(sys, "/var/lib/dpkg/status");
	s = status && !strncmp(status, "Package: ovmf\n", 14) ? status
	    : status					      ? strstr(status, "\nPackage: ovmf\n")
							      : NULL;
	if (!s)
		return;
	end = strstr(s + 1, "\n\n");
	end = end ? end : s + strlen(s);
	ver = strstr(s, "\nVersion: ");
	inst = strstr(s, "\nStatus: install ok installed\n");
	if (!ver || ver > end || !inst || inst > end)
		return;
	ver += strlen("\nVersion: ");
	snprintf(h->ovmf_pkg, sizeof(h->ovmf_pkg), "ovmf %.*s", (int)strcspn(ver, "\n"), ver);
	h->ovmf_yyyymm = edk2_release(ver);
}

void vh_mmio_host_read(const struct vh_sys *sys, const struct vh_domain *d, struct vh_mmio_host *h)
{
	*h = (struct vh_mmio_host){.intel = -1, .pdpe1gb = -1};
	read_cpuinfo(sys, h);
	if (vh_mmio_firmware(d) != VH_MMIO_FW_SEABIOS)
		read_dpkg_ovmf(sys, d, h);
}

/* --- The facts and the fix. --- */

static void facts(const struct vh_domain *d, const struct vh_mmio_host *h, struct vh_buf *b)
{
	enum vh_mmio_fw fw = vh_mmio_firmware(d);
	unsigned bits[4], nb = cand_bits(d, h, bits);
	char s[32], loader[65] = "";

	/* It goes into messages and logs: no control characters. */
	snprintf(loader, sizeof(loader), "%s", d->fw.loader ? d->fw.loader : "");
	for (char *c = loader; *c; c++)
		*c = (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c;

	if (fw == VH_MMIO_FW_SEABIOS)
		vh_buf_printf(b, "firmware: SeaBIOS (%s)\n",
			      d->fw.loader ? "its <loader>" : "no <loader>, QEMU's default on x86");
	else if (fw == VH_MMIO_FW_OVMF)
		vh_buf_printf(b, "firmware: OVMF (%s)\n",
			      d->fw.loader ? "its <loader>" : "<os firmware='efi'>");
	else
		vh_buf_printf(
		    b, "firmware: unknown (<loader>%s</loader>): SeaBIOS and OVMF tried\n", loader);
	if (fw != VH_MMIO_FW_SEABIOS && h->ovmf_yyyymm)
		vh_buf_printf(
		    b, "OVMF: %s (dpkg), edk2 %u.%02u: %s\n", h->ovmf_pkg, h->ovmf_yyyymm / 100,
		    h->ovmf_yyyymm % 100,
		    h->ovmf_yyyymm < EDK2_DYNAMIC
			? "older than edk2-stable202211, a fixed window (32 GiB, or opt/ovmf/X-PciMmio64Mb)"
			: "edk2-stable202211 or later, a window of 1/8 of the guest's address space when OVMF trusts the CPU's address width");
	else if (fw != VH_MMIO_FW_SEABIOS)
		vh_buf_printf(
		    b,
		    "OVMF: version unknown (%s): taken as older than edk2-stable202211 (a fixed 32 GiB window), unless newer\n",
		    d->fw.loader ? "the Debian package ovmf does not hold the <loader>"
				 : "no Debian package ovmf installed");
	if (d->fw.physaddr == VH_PHYSADDR_EMULATE)
		vh_buf_printf(b, "guest physical address bits: %u (<maxphysaddr mode='emulate'>)\n",
			      bits[0]);
	else if (d->fw.physaddr == VH_PHYSADDR_PASSTHROUGH && nb == 1)
		vh_buf_printf(
		    b,
		    "guest physical address bits: %u, the host's (<maxphysaddr mode='passthrough'>)\n",
		    bits[0]);
	else if (d->fw.physaddr == VH_PHYSADDR_PASSTHROUGH)
		vh_buf_printf(
		    b,
		    "guest physical address bits: the host's (<maxphysaddr mode='passthrough'>), which /proc/cpuinfo does not say\n");
	else if (nb == 3)
		vh_buf_printf(
		    b,
		    "guest physical address bits: 40 or the host's, which /proc/cpuinfo does not say (%s without <maxphysaddr>)\n",
		    d->fw.cpu_mode);
	else if (nb == 2)
		vh_buf_printf(
		    b,
		    "guest physical address bits: 40 or the host's %u (%s without <maxphysaddr>: QEMU's \"host\" CPU takes the host's in current versions, and libvirt may give host-model the host's; 40 otherwise)\n",
		    bits[1], d->fw.cpu_mode);
	else
		vh_buf_printf(
		    b,
		    "guest physical address bits: 40, QEMU's phys-bits default (no <maxphysaddr>)\n");
	if (host_cpu(d) || streq(d->fw.cpu_mode, "host-model"))
		vh_buf_printf(b, "guest CPU: %s, the host's: %s, %s\n", d->fw.cpu_mode,
			      h->intel < 0 ? "vendor unknown"
			      : h->intel   ? "GenuineIntel"
					   : "AuthenticAMD",
			      h->pdpe1gb < 0 ? "1 GiB pages unknown"
			      : h->pdpe1gb   ? "1 GiB pages (pdpe1gb)"
					     : "no 1 GiB pages");
	else if (!d->fw.cpu_model)
		vh_buf_printf(b, "guest CPU: QEMU's qemu64 (%s, %s)\n",
			      !streq(d->virt_type, "kvm") ? "AuthenticAMD"
			      : h->intel < 0		  ? "the host's vendor under KVM, unknown"
			      : h->intel		  ? "GenuineIntel, the host's under KVM"
							  : "AuthenticAMD, the host's under KVM",
			      d->fw.pdpe1gb ? "pdpe1gb required" : "no 1 GiB pages");
	else
		vh_buf_printf(b, "guest CPU: a named model (%s)\n",
			      streq(d->virt_type, "kvm")
				  ? "the host's vendor under KVM; 1 GiB pages tried both ways"
				  : "vendor and 1 GiB pages tried both ways");
	if (h->phys_bits)
		vh_buf_printf(b, "host: %u physical address bits (/proc/cpuinfo)\n", h->phys_bits);
	if (d->fw.has_mmio64_mb) {
		vh_mmio_size_str(d->fw.mmio64_mb * MIB, s, sizeof(s));
		vh_buf_printf(b, "opt/ovmf/X-PciMmio64Mb: %llu (%s), in %s%s\n", d->fw.mmio64_mb, s,
			      d->fw.mmio64_from,
			      mb_given(d) ? "" : ": over 16 TiB, which OVMF ignores");
	}
	if (d->fw.has_pcihole64)
		vh_buf_printf(
		    b,
		    "<pcihole64>: only the least 64-bit window QEMU describes in ACPI; where the firmware puts the BARs decides\n");
	vh_mmio_size_str(ram_top(d), s, sizeof(s));
	vh_buf_printf(b, "guest RAM ends at %s\n", s);
}

/* libvirt refuses opt/ovmf/ names in <sysinfo type='fwcfg'> ("That
 * firmware name is reserved", qemuValidateDomainDefSysinfo): QEMU's own
 * argument it is. */
#define FIX_FWCFG                                                                                  \
	"<qemu:commandline>\n"                                                                     \
	"  <qemu:arg value='-fw_cfg'/>\n"                                                          \
	"  <qemu:arg value='name=opt/ovmf/X-PciMmio64Mb,string=%llu'/>\n"                          \
	"</qemu:commandline>\n"                                                                    \
	"(with xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0' on <domain>)"
static const char fix_fwcfg[] = FIX_FWCFG;
static const char fix_emulate[] =
    "<maxphysaddr mode='emulate' bits='%u'/>\n"
    "(in <cpu>; libvirt 8.7.0 or later: QEMU's phys-bits=%u, at most the host's %u)";
static const char fix_physaddr[] =
    "<cpu mode='host-passthrough'>\n"
    "  <maxphysaddr mode='passthrough'/>\n"
    "</cpu>\n"
    "(libvirt 8.7.0 or later: QEMU's host-phys-bits=on, the host's %u address bits)";

void vh_mmio_window(const struct vh_domain *d, const struct vh_mmio_host *h, uint64_t need,
		    struct vh_mmio_window *ret)
{
	struct vh_domain t = *d;
	struct vh_buf b = {0};
	uint64_t lo, hi, want = pow2_ceil(need);
	unsigned long long mb = want / MIB;
	bool ovmf = vh_mmio_firmware(d) != VH_MMIO_FW_SEABIOS;
	bool can_mb = ovmf && mb <= 0x1000000 && mb * MIB == want;
	char s[32], s2[32];

	*ret = (struct vh_mmio_window){0};
	window_range(d, h, &ret->lo, &ret->hi);
	facts(d, h, &b);
	vh_mmio_size_str(ret->lo, s, sizeof(s));
	vh_mmio_size_str(ret->hi, s2, sizeof(s2));
	if (ret->lo == ret->hi)
		vh_buf_printf(&b, "64-bit window: %s", s);
	else
		vh_buf_printf(&b, "64-bit window: between %s and %s, by what is unknown above", s,
			      s2);
	snprintf(ret->why, sizeof(ret->why), "%s", vh_buf_str(&b));
	vh_buf_done(&b);

	/* The least change that holds @need whatever is unknown: the
	 * window asked of OVMF, then more address bits, then both. */
	for (int with_mb = 0; with_mb < 2; with_mb++) {
		t = *d;
		if (with_mb) {
			if (!can_mb)
				break;
			t.fw.has_mmio64_mb = true;
			t.fw.mmio64_mb = mb;
			window_range(&t, h, &lo, &hi);
			if (lo >= need) {
				snprintf(ret->fix, sizeof(ret->fix), fix_fwcfg, mb);
				ret->fixable = true;
				return;
			}
		}
		for (unsigned bits = 36; h->phys_bits && bits <= h->phys_bits; bits++) {
			int k;
			if (host_cpu(d)) {
				t.fw.physaddr = VH_PHYSADDR_PASSTHROUGH;
				t.fw.physaddr_bits = 0;
				bits = h->phys_bits;
			} else {
				t.fw.physaddr = VH_PHYSADDR_EMULATE;
				t.fw.physaddr_bits = bits;
			}
			window_range(&t, h, &lo, &hi);
			if (lo < need)
				continue;
			k = host_cpu(d)
				? snprintf(ret->fix, sizeof(ret->fix), fix_physaddr, h->phys_bits)
				: snprintf(ret->fix, sizeof(ret->fix), fix_emulate, bits, bits,
					   h->phys_bits);
			if (with_mb && k > 0 && (size_t)k < sizeof(ret->fix))
				snprintf(ret->fix + k, sizeof(ret->fix) - (size_t)k,
					 "\nand\n" FIX_FWCFG, mb);
			ret->fixable = true;
			return;
		}
	}
	vh_mmio_size_str(need, s, sizeof(s));
	if (h->phys_bits)
		snprintf(
		    ret->fix, sizeof(ret->fix),
		    "none in the domain: the host's %u physical address bits (/proc/cpuinfo) cannot hold guest RAM and %s of BARs (%u bits needed); give the devices to a VM on a host with more",
		    h->phys_bits, s, bits_for(ram_top(d) + want));
	else
		snprintf(
		    ret->fix, sizeof(ret->fix),
		    "<cpu mode='host-passthrough'>\n  <maxphysaddr mode='passthrough'/>\n</cpu>\n(libvirt 8.7.0 or later), if the host has %u or more physical address bits (/proc/cpuinfo could not be read)",
		    bits_for(ram_top(d) + want));
	/* That one goes in the domain, if the host can. */
	ret->fixable = !h->phys_bits;
}
