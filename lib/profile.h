/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device profiles: what a device needs from its VM and from the host, as
 * data in XML files validated against profile.rng.  A new accelerator needs
 * a new file, not a new build.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "util.h"

#define VH_PROFILE_NS "urn:vfio-hooks:profile:1"

enum vh_companions {
	VH_COMPANIONS_DEFAULT = 0, /* the configuration decides */
	VH_COMPANIONS_REFUSE,	   /* never bind group companions */
	VH_COMPANIONS_SAME_DEVICE, /* other functions of the same slot */
	VH_COMPANIONS_ANY,	   /* every endpoint of the group */
};
const char *vh_companions_name(enum vh_companions c);
int vh_companions_parse(const char *s, enum vh_companions *ret);

/* VM requirements; a profile and a capability can each add to them. */
struct vh_needs {
	bool q35;
	bool viommu; /* emulated Intel IOMMU */
	bool intremap;
	bool caching_mode;
	bool ioapic_split;
	unsigned min_msi;
	bool xen_hvm; /* on Xen, an HVM guest only (no PV, no PVH) */
};

/* A guest kernel a hypervisor needs for the device (doctor --guest). */
struct vh_guest_kernel {
	char *hypervisor; /* "kvm", "hyper-v", "xen", "vmware" */
	char *min;	  /* "5.19": the release the fixes landed in */
	unsigned min_v[3];
	char **commits; /* "08e61e861a0e... PCI: hv: Fix ..." */
	size_t n_commits;
	char *why;
};

/* A kernel module the host must have loaded while the device is
 * assigned (vendor-reset for AMD GPUs that cannot reset otherwise). */
struct vh_kernel_module {
	char *name;    /* as modprobe takes it: "vendor-reset" */
	char *why;     /* what goes wrong without it, or NULL */
	char *install; /* how to get it, or NULL */
};
/* Whether /sys/module shows the module @name loaded ('-' and '_' alike,
 * as modprobe takes them; the kernel shows '_'). */
bool vh_kernel_module_loaded(const struct vh_sys *sys, const char *name);
/* How to get @m and load it now and at boot, for a fix (free()); NULL on
 * ENOMEM. */
char *vh_kernel_module_fix(const struct vh_kernel_module *m);

struct vh_profile {
	char *id;
	char *file; /* where it was loaded from */
	char *description;
	char *why; /* the reason the requirements exist, for messages */
	/* match */
	uint16_t vendor;
	uint16_t *devices; /* NULL: any device of the vendor */
	size_t n_devices;
	bool has_class;
	uint32_t class_value, class_mask;
	bool has_subsys;
	uint16_t subsys_vendor, subsys_device;
	/* VM */
	struct vh_needs needs;
	/* host */
	bool set_reset_method;
	char *reset_method; /* value while assigned; "" disables resets */
	bool reset_on_release;
	char *vfio_driver;
	enum vh_companions companions;
	bool sriov_pf_host; /* the SR-IOV PF stays on its host driver */
	/* Per-VF resource files, under the PF's device directory:
	 * @vf_dir with {card} (the PF's DRM card) and {n} (the VF number)
	 * replaced, e.g. "drm/{card}/prelim_iov/vf{n}/gt". */
	char *vf_dir;
	struct vh_settings vf_settings;
	char **kernel_params;
	size_t n_kernel_params;
	struct vh_kernel_module *modules;
	size_t n_modules;
	/* Xen: pciback lets the guest write the device's whole config space
	 * (xl.cfg pci=[...,permissive=1]); set by prepare. */
	bool pciback_permissive;
	/* guest */
	char *guest_driver; /* the driver the guest should bind, or NULL */
	struct vh_guest_kernel *guest_kernels;
	size_t n_guest_kernels;
};

struct vh_profiles {
	struct vh_profile *v;
	size_t n;
};

/* A device by its IDs. */
struct vh_pci_id {
	uint16_t vendor, device;
};

/* What profile loads share, owned by the caller (as kmod's context owns
 * its indexes): the validation stamps, the devices wanted, the schema
 * parsed once for every load with the context, the count of validations.
 * vh_profile_ctx_init before use, vh_profile_ctx_done after. */
struct vh_profile_ctx {
	int stamp_dirfd;	  /* -1: no stamps */
	char *stamps;		  /* the stamp file as read: one key a line */
	struct vh_buf new_stamps; /* keys of this load */
	bool stamps_read, stamps_dirty;
	const struct vh_pci_id *want_ids; /* NULL: every device */
	size_t want_n;
	void *rng;		   /* the parsed schema (xmlRelaxNG) */
	char rng_schema[PATH_MAX]; /* its path */
	unsigned n_validations;
};
void vh_profile_ctx_init(struct vh_profile_ctx *c);
void vh_profile_ctx_done(struct vh_profile_ctx *c);

/* Remember, in the file "profiles.validated" of @dirfd (the hook's
 * root-only state directory), which profile files (by device, inode,
 * size, mtime and ctime, with the schema's) passed validation, so that the
 * next process skips validating them: RelaxNG costs more than everything
 * else a hook run does.  -1: off (the default).  The directory must be
 * writable only by the caller's user. */
void vh_profiles_use_stamps(struct vh_profile_ctx *c, int dirfd);
/* Loads with stamps may leave out profiles no wanted device can match: a
 * file whose stamp says it is valid, unchanged, and for another vendor or
 * a device list without the device (@ids, @n entries) is not read at all
 * (its id still replaces an earlier profile of the same id).  For a
 * caller that matches only known devices, as the hook does.  NULL: every
 * device (the default).  @ids must live until the load returns. */
void vh_profiles_want(struct vh_profile_ctx *c, const struct vh_pci_id *ids, size_t n);
/* How many RelaxNG validations loads with @c ran (for tests). */
unsigned vh_profiles_validations(const struct vh_profile_ctx *c);
/* Load every *.xml of each directory in @dirs (NULL-terminated, later ones
 * override earlier ones by id), validating each against @schema.  A missing
 * directory is skipped; a broken file fails the load with its file and
 * line in @e.  With the stamps and wanted devices of @c. */
int vh_profiles_load_ctx(struct vh_profile_ctx *c, const char *const *dirs, const char *schema,
			 struct vh_profiles *ret, struct vh_err *e);
/* The same with a context of its own: no stamps, every device. */
int vh_profiles_load(const char *const *dirs, const char *schema, struct vh_profiles *ret,
		     struct vh_err *e);
/* Load one file (validated) and append or replace by id. */
int vh_profiles_load_file(struct vh_profiles *p, const char *path, const char *schema,
			  struct vh_err *e);
void vh_profiles_done(struct vh_profiles *p);

/* The most specific profile matching the device, or NULL. */
const struct vh_profile *vh_profiles_match(const struct vh_profiles *p, const struct vh_pci_dev *d);
/* "5.15.0-1019-azure" or "5.19" as major, minor, patch.  -EINVAL when it
 * does not start with a number. */
int vh_kernel_version_parse(const char *s, unsigned ret[3]);
/* <0, 0, >0 as a is older than, the same as, newer than b. */
int vh_kernel_version_cmp(const unsigned a[3], const unsigned b[3]);

/* How specific a profile's match is (subsystem > device list > class >
 * vendor); ties go to the earlier id in sort order. */
int vh_profile_specificity(const struct vh_profile *p);
