/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI addresses, the config-space capability walk, and one device as sysfs
 * shows it.  Reads go through the sysfs gateway only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sysfs.h"

struct vh_pci_addr {
	uint32_t domain;
	uint32_t bus;
	uint32_t slot;
	uint32_t function;
};

/* "0000:01:00.0" plus NUL. */
#define VH_PCI_ADDR_LEN 13

/* Parse "DDDD:BB:SS.F" or "BB:SS.F" (hex, as lspci and sysfs write it). */
int vh_pci_addr_parse(const char *s, struct vh_pci_addr *ret);
/* Parse a vfio-pci host= as QEMU does (set_pci_host_devaddr in
 * hw/core/qdev-properties-system.c): "[domain:]bus:slot.function", domain,
 * bus and slot hex and the function decimal, each as strtoul reads it, of
 * any width ("6:12.5", "0000:06:12.5"); domain <= 0xffff, bus <= 0xff,
 * slot <= 0x1f, function <= 7.  -EINVAL when QEMU refuses the form, -ERANGE
 * a value; @ret untouched then. */
int vh_pci_addr_parse_qemu(const char *s, struct vh_pci_addr *ret);
/* Range check of a hostdev source address: domain <= 0xffff, bus <= 0xff,
 * slot <= 0x1f, function <= 7.  0000:00:00.x passes, as libvirt's
 * virPCIDeviceAddressParseXML passes it.  Returns a static reason or
 * NULL. */
const char *vh_pci_addr_invalid(const struct vh_pci_addr *a);
void vh_pci_addr_format(const struct vh_pci_addr *a, char buf[VH_PCI_ADDR_LEN]);
bool vh_pci_addr_eq(const struct vh_pci_addr *a, const struct vh_pci_addr *b);
/* qsort's order of two struct vh_pci_addr: domain, bus, slot, function. */
int vh_pci_addr_cmp(const void *a, const void *b);
/* "iommu_group":N (null when < 0),"group_members":["0000:01:00.0",...]:
 * a device's IOMMU group in the JSON reports. */
void vh_pci_json_group(struct vh_buf *o, int iommu_group, const struct vh_pci_addr *members, int n);

/* What the capability lists of a config space say. */
struct vh_pci_caps {
	bool readable;	      /* config space could be read */
	bool has_list;	      /* status register says a capability list exists */
	unsigned msi_vectors; /* Multiple Message Capable, 0: no MSI */
	bool msi_64bit;
	bool msi_maskable;
	unsigned msix_vectors; /* table size, 0: no MSI-X */
	bool pcie;
	unsigned pcie_type; /* device/port type field of the PCIe capability */
	bool ext_read;	    /* config space was long enough for extended caps */
	bool sriov;
	unsigned sriov_initial, sriov_total, sriov_num;
	unsigned sriov_offset, sriov_stride;
	unsigned sriov_vf_device;
	uint8_t header_type;
};

/* Parse a config-space image of @len bytes (64, 256 or 4096).  Never reads
 * outside the image; loops in the lists are cut.  -EBADMSG when shorter than
 * the standard header. */
int vh_pci_caps_parse(const uint8_t *cfg, size_t len, struct vh_pci_caps *ret);

/* PCIe device/port types that are not endpoints. */
bool vh_pcie_type_is_bridge(unsigned type);

enum {
	VH_DEV_OK = 0,
};

/* A device as sysfs shows it.  Fields that could not be read are left at
 * their zero value and the first failure is kept in err/err_file. */
struct vh_pci_dev {
	struct vh_pci_addr addr;
	char name[VH_PCI_ADDR_LEN];
	bool present;
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class;
	uint8_t revision;
	char driver[64];	  /* "" when unbound */
	char driver_override[64]; /* "" when unset ("(null)" in sysfs) */
	int iommu_group;	  /* -1: none (no IOMMU, or no group) */
	bool has_reset_method;	  /* the reset_method file exists */
	char reset_method[128];
	bool has_reset; /* the reset file exists */
	struct vh_pci_caps caps;
	bool is_vf;
	struct vh_pci_addr physfn;
	int sriov_totalvfs, sriov_numvfs; /* -1: no SR-IOV files */
	int err;			  /* first read error (-errno), 0 if none */
	char err_file[96];		  /* the kernel path that failed */
	const struct vh_sys *read_by;	  /* the gateway it was read through */
	unsigned long sys_writes;	  /* vh_sys_writes() then */
};

/* Read everything about @addr.  Returns 0, or -ENODEV when the device does
 * not exist (ret->present false).  Other read errors are recorded in
 * ret->err and do not fail the call. */
int vh_pci_dev_read(const struct vh_sys *sys, const struct vh_pci_addr *addr,
		    struct vh_pci_dev *ret);

/* Whether the function is a PCI-to-PCI (or CardBus) bridge: its header type
 * is not 0, what VFIO takes for a bridge; by the class (0x0604, 0x0609) when
 * the config space could not be read.  Host and ISA bridges are not. */
bool vh_pci_dev_is_bridge(const struct vh_pci_dev *d);

/* Whether the function is the chipset's host bridge (class 0x0600) or
 * ISA/LPC bridge (0x0601).  Their header type is 0, so vfio-pci binds them
 * and vh_pci_dev_is_bridge does not say so; on x86 the host bridge sits at
 * 0000:00:00.0. */
bool vh_pci_dev_is_chipset_bridge(const struct vh_pci_dev *d);

/* Whether the function is part of the chipset rather than of a card: a
 * root-complex integrated endpoint (or event collector), or a conventional
 * PCI function directly on a root bus (not behind a root port).  Such
 * functions share slot 00:1f (LPC, SMBus, SATA, audio, onboard Ethernet)
 * without being one device.  Reads the device's sysfs link when the config
 * space shows no PCIe capability. */
bool vh_pci_dev_is_chipset(const struct vh_sys *sys, const struct vh_pci_dev *d);

/* The PCI addresses named in a directory (as /sys/bus/pci/devices has
 * them), sorted.  Returns the count. */
int vh_pci_addrs_in(const struct vh_sys *sys, struct vh_pci_addr **ret, const char *dir);
/* Members of an IOMMU group, sorted.  Returns the count. */
int vh_iommu_group_members(const struct vh_sys *sys, int group, struct vh_pci_addr **ret);

/* Vendor and model names, from the provider a front end gave @sys
 * (vh_sys_set_namer): empty strings without one, or with @sys NULL.  The
 * hook gives none: its messages name a device by address, IDs and
 * profile, and `vfio-hooks check` adds the database's names. */
void vh_pci_names(const struct vh_sys *sys, uint16_t vendor, uint16_t device, char *vendor_name,
		  size_t vn, char *model_name, size_t mn);
/* The udev hardware database (lib/udev-names.c; links libudev). */
void vh_pci_names_udev(uint16_t vendor, uint16_t device, char *vendor_name, size_t vn,
		       char *model_name, size_t mn);

/* A memory BAR of a device, as its sysfs resource file shows it. */
struct vh_pci_bar {
	unsigned index; /* 0-5 */
	uint64_t size;
	bool mem64;    /* IORESOURCE_MEM_64 */
	bool prefetch; /* IORESOURCE_PREFETCH */
};
#define VH_PCI_N_BARS 6
/* IORESOURCE_* flags of include/linux/ioport.h, as the resource file
 * writes them. */
#define VH_IORESOURCE_MEM 0x200ULL
#define VH_IORESOURCE_PREFETCH 0x2000ULL
#define VH_IORESOURCE_MEM_64 0x100000ULL

/* The memory BARs (0 to 5) of @addr that have a size, from
 * /sys/bus/pci/devices/ADDR/resource: a line "0xSTART 0xEND 0xFLAGS" per
 * resource, BARs first (the ROM, bridge windows and SR-IOV BARs follow and
 * are not read).  Returns their count, in @ret; -ENOENT without the file;
 * -EBADMSG when one of the first six lines is not three hex numbers with
 * END >= START (or both 0), with the line's number in @ret_line. */
int vh_pci_bars_read(const struct vh_sys *sys, const struct vh_pci_addr *addr,
		     struct vh_pci_bar ret[VH_PCI_N_BARS], unsigned *ret_line);
