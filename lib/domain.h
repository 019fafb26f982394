/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parts of a libvirt domain XML that decide whether passed-through PCI
 * devices can work: machine, I/O APIC, vIOMMU, vCPUs, memory, hostdevs, and
 * this project's own <metadata>.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pci.h"
#include "util.h"

#define VH_METADATA_NS "urn:vfio-hooks:domain:1"
/* OpenStack Nova's namespace, before its version ("1.0", "1.1", ...). */
#define VH_NOVA_NS_PREFIX "http://openstack.org/xmlns/libvirt/nova/"

enum vh_machine {
	VH_MACHINE_NONE, /* no machine attribute */
	VH_MACHINE_Q35,
	VH_MACHINE_I440FX,
	VH_MACHINE_OTHER,
};

/* A tri-state switch as libvirt writes it: absent, 'on' or 'off'. */
enum vh_switch { VH_ABSENT = 0, VH_ON, VH_OFF, VH_BAD };

enum vh_mode { VH_MODE_UNSET = 0, VH_MODE_ENFORCE, VH_MODE_WARN, VH_MODE_OFF };
const char *vh_mode_name(enum vh_mode m);
int vh_mode_parse(const char *s, enum vh_mode *ret);

/* Where a domain came from: libvirt XML or a QEMU command line.  Fixes are
 * written in the same language. */
enum vh_dialect { VH_DIALECT_XML = 0, VH_DIALECT_QEMU };

struct vh_hostdev {
	struct vh_pci_addr addr;
	bool addr_ok;
	char addr_text[96];   /* the address as written, for messages */
	char addr_error[192]; /* why it is not a usable address */
	bool managed;
	bool is_interface; /* <interface type='hostdev'> */
	/* <address type='unassigned'/>: libvirt binds it to vfio and gives it
	 * to no guest, so only what the host must provide applies. */
	bool unassigned;
	int line;	 /* line in the XML (argument index on a command line) */
	char origin[64]; /* "the <hostdev> at line 15", for messages */
	char driver[16]; /* <driver name='vfio'/> when given */
};

/* A <memory> device (DIMM, NVDIMM, virtio-mem, ...): its target size as
 * written, which libvirt aligns when it starts the domain. */
struct vh_memory_device {
	unsigned long long size_kib;
	bool nvdimm; /* model='nvdimm' */
};

struct vh_domain_meta {
	enum vh_mode mode;
	/* Per-device reset_method while assigned, from
	 * <device address='...' reset-method='...'/>. */
	struct {
		struct vh_pci_addr addr;
		char *reset_method;
		/* <vf-setting name='...' value='...'/> children: per-VF
		 * resources, over the profile's. */
		struct vh_settings vf;
		/* A reset-method the kernel would not take, shown with
		 * control characters replaced: prepare refuses the domain. */
		char bad_reset[48];
	} * devices;
	size_t n_devices;
	/* <mmio-window size='1T'/>: the guest firmware maps this much for
	 * 64-bit BARs, whatever vfio-hooks makes of the domain. */
	unsigned long long mmio_window;
	bool has_mmio_window;
	char error[256]; /* first problem found in our metadata */
};

/* What OpenStack Nova's libvirt driver wrote of the instance in
 * <metadata><nova:instance>: Nova rewrites the domain XML from its flavor
 * and image, so fixes name Nova's settings too.  The strings are as
 * written, cut to fit, control characters replaced by '?'; "" when absent. */
struct vh_nova {
	bool present;
	char ns[64];	  /* the namespace, VH_NOVA_NS_PREFIX and a version */
	char flavor[256]; /* <nova:flavor name='...'> */
	char image[64];	  /* <nova:root type='image' uuid='...'/> or <nova:image uuid='...'> */
};

/* Whether @href is Nova's namespace: VH_NOVA_NS_PREFIX and a version of
 * digits and dots ("1.1"), nothing else. */
bool vh_nova_ns(const char *href);

enum vh_physaddr {
	VH_PHYSADDR_DEFAULT = 0, /* no <maxphysaddr> */
	VH_PHYSADDR_PASSTHROUGH, /* mode='passthrough': QEMU host-phys-bits=on */
	VH_PHYSADDR_EMULATE,	 /* mode='emulate' bits='N': phys-bits=N */
	VH_PHYSADDR_BAD,	 /* a mode or bits libvirt refuses */
};

/* What decides the guest firmware's 64-bit PCI MMIO window (lib/mmio.c). */
struct vh_domain_fw {
	char *firmware; /* <os firmware='efi'> */
	char *loader;	/* <os><loader> path */
	char *cpu_mode; /* <cpu mode='...'>; NULL: no <cpu> */
	bool cpu_model; /* <cpu><model> names one */
	bool pdpe1gb;	/* <cpu><feature policy='require' name='pdpe1gb'/> */
	enum vh_physaddr physaddr;
	unsigned physaddr_bits; /* bits= of emulate, limit= of passthrough */
	/* opt/ovmf/X-PciMmio64Mb, from <sysinfo type='fwcfg'> or a
	 * <qemu:commandline> -fw_cfg. */
	bool has_mmio64_mb;
	unsigned long long mmio64_mb;
	/* Given in a way not read here (file=): the window may be anything. */
	bool mmio64_unknown;
	char mmio64_from[64]; /* where it was given */
	/* <controller><pcihole64> */
	bool has_pcihole64;
	unsigned long long pcihole64_kib;
};

struct vh_domain {
	char *name, *uuid, *virt_type;
	char *os_type, *arch, *machine;
	enum vh_machine machine_kind;
	char *ioapic_driver; /* features/ioapic@driver */
	bool iommu_in_features;
	bool has_iommu;
	char *iommu_model;
	enum vh_switch intremap, caching_mode, eim, iotlb;
	unsigned aw_bits;
	bool iommu_after_vfio; /* QEMU: the vIOMMU comes after a vfio device */
	char irqchip[16];      /* QEMU: kernel-irqchip as given */
	enum vh_dialect dialect;
	unsigned vcpus;
	/* Memory as libvirt counts it: <memory>, or with NUMA cells their sum
	 * plus the <memory> devices (DIMMs).  0: not given.  As written:
	 * libvirt rounds its parts up when it starts the domain
	 * (vh_memlock_need). */
	unsigned long long memory_kib, hard_limit_kib; /* 0: not given */
	unsigned long long max_memory_kib;	       /* <maxMemory>, -m maxmem= */
	/* The parts of memory_kib: the NUMA cells' sizes (none: <memory> is
	 * the initial memory plus the devices) and the memory devices. */
	unsigned long long *numa_cells_kib;
	size_t n_numa_cells;
	struct vh_memory_device *memory_devices;
	size_t n_memory_devices;
	/* A <memtune><hard_limit> below libvirt's "unlimited". */
	bool has_hard_limit;
	bool mem_locked;       /* <memoryBacking><locked/> */
	unsigned n_nvme_disks; /* <disk type='nvme'> */
	unsigned n_vdpa;       /* <interface type='vdpa'>, vhostvdpa disks */
	unsigned n_phbs;       /* <controller type='pci' model='pci-root'> */
	char mem_error[256];   /* why a memory size could not be read */
	struct vh_hostdev *hostdevs;
	size_t n_hostdevs;
	/* <interface type='network'>: libvirt may take a device for it from
	 * a <forward mode='hostdev'> pool, after the prepare hook. */
	struct vh_netif {
		char *network;
		int line;
	} * netifs;
	size_t n_netifs;
	/* <devices><emulator>, or the QEMU binary of a command line. */
	char *emulator;
	struct vh_domain_fw fw;
	struct vh_domain_meta meta;
	struct vh_nova nova;
};

/* Parse a domain XML document.  @what names it in messages. */
int vh_domain_parse(const char *buf, size_t len, const char *what, struct vh_domain **ret,
		    struct vh_err *e);
/* The elements vh_domain_parse builds of the document (vh_xml_parse_keep):
 * the paths it reads.  A new one read must be listed here; the tests hold
 * the parse of every test domain to the same result as a whole tree's. */
extern const char *const vh_domain_elements[];
/* vh_domain_parse building only @keep (NULL: the whole tree). */
int vh_domain_parse_keep(const char *buf, size_t len, const char *what, const char *const *keep,
			 struct vh_domain **ret, struct vh_err *e);
struct vh_domain *vh_domain_free(struct vh_domain *d);
static inline void vh_domain_freep(struct vh_domain **d)
{
	vh_domain_free(*d);
}
#define _cleanup_domain_ _cleanup_(vh_domain_freep)

/* x86 guest (arch x86_64 or i686, or no arch given). */
bool vh_domain_is_x86(const struct vh_domain *d);
/* A QEMU/KVM HVM guest, the kind the q35/vIOMMU rules are about. */
bool vh_domain_is_qemu_hvm(const struct vh_domain *d);
/* <domain type='xen'> (libvirt's libxl driver). */
bool vh_domain_is_xen(const struct vh_domain *d);
/* A Xen guest that is not HVM: PV (<type>xen</type> or <type>linux</type>)
 * or PVH (<type>xenpvh</type>). */
bool vh_domain_is_xen_pv(const struct vh_domain *d);
enum vh_machine vh_machine_classify(const char *machine);

/* Parse an address written in any form libvirt accepts into @h. */
void vh_hostdev_set_address(struct vh_hostdev *h, const char *domain, const char *bus,
			    const char *slot, const char *function);
/* Memory with a libvirt unit ("KiB" default) in KiB; -EINVAL/-ERANGE. */
int vh_parse_memory_kib(const char *value, const char *unit, unsigned long long *ret);

/* libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, in KiB: a <hard_limit> of
 * this means no limit, and a larger one is refused. */
#define VH_MEMORY_UNLIMITED_KIB 9007199254740991ULL
/* The largest <memory> libvirt accepts (LLONG_MAX bytes), in KiB. */
#define VH_MEMORY_MAX_KIB (9223372036854775807ULL / 1024 + 1)

/* A QEMU size ("-m 4G", "4096", "1.5G"): MiB without a suffix, B K M G T P E
 * in any case, a decimal fraction allowed; in KiB, rounded up.
 * -EINVAL/-ERANGE. */
int vh_parse_qemu_size_kib(const char *s, unsigned long long *ret);
