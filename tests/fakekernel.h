/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A model of what the kernel does when PCI sysfs attributes are written,
 * applied to a fake sysroot (tests/fakesys.h), as the sysfs gateway's write
 * backend:
 *   driver_override   honoured by bind and drivers_probe; "\n" clears it
 *   drivers/D/unbind  removes the driver links; -ENODEV if not bound to D
 *   drivers/D/bind    binds unless already bound or override says otherwise
 *   drivers_probe     binds the override, else the device's native driver
 *   vfio-pci          creates /dev/vfio/<group> while a member is bound
 *   reset_method      "" disables, "default" restores, unknown -EINVAL;
 *                     device_specific also while sys/module/vendor_reset
 *                     exists (vendor-reset's hook of the kernel's reset)
 *   reset             -ENOTTY while reset_method is empty
 *   pciback           (xen-pciback, drivers/xen/xen-pciback/pci_stub.c)
 *                     new_slot appends the address to pciback/slots (the
 *                     seize list; -EINVAL for a bad address);
 *                     remove_slot drops it (-ENOENT when not listed);
 *                     bind to pciback only for a listed device (-ENODEV);
 *                     drivers_probe gives a listed device without an
 *                     override to pciback; permissive records a device
 *                     pciback holds (-ENODEV otherwise) in
 *                     pciback/permissive until it leaves pciback
 *
 * State kept beside the tree, in ROOT/.fakekernel/:
 *   native   "ADDR DRIVER" lines: what drivers_probe binds (from the spec)
 *   inject   failure injection, one rule a line:
 *              OP ERR [ADDR] [skip=N] [once]
 *            OP: override, unbind, bind, probe, reset_method, reset,
 *            numvfs, new_slot, remove_slot, permissive or any; ERR: an errno
 * name (EBUSY, ENODEV, EINVAL, EIO, ETIMEDOUT, ...), NOBIND (probe succeeds,
 * nothing binds) or KILL (SIGKILL before the write); skip=N lets N matching
 *            writes through first; once: the rule fires one time only,
 *            else it fails every matching write from then on.
 *   log      one line per write: "OP ADDR VALUE"; with
 *            FAKEKERNEL_ASSERT_LOCKED in the environment, "unlocked ADDR OP"
 *            before a write made without vfio-hooks' state lock
 *
 * Threads: the writes of a process's threads are applied one at a time.
 * The environment can give bounded writes (unbind, bind, drivers_probe,
 * reset, sriov_numvfs) the kernel's slowness, outside that lock:
 *   FAKEKERNEL_DELAY_MS=N     each sleeps N ms; while it does, a bounded
 *                             write of another device logs "overlap ADDR
 *                             OTHER" (the two are in the kernel at once)
 *   FAKEKERNEL_RENDEZVOUS=K   the first bounded write of each device waits
 *                             (at most 5 s, then "rendezvous-timeout ADDR")
 *                             until K devices have come: K devices worked
 *                             on at once meet; one after the other do not
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "../lib/sysfs.h"

/* Forget the devices that came to the rendezvous (FAKEKERNEL_RENDEZVOUS):
 * for a process that prepares and releases more than once. */
void fakekernel_rendezvous_reset(void);
/* Make the fake kernel @sys's write backend. */
void fakekernel_install(struct vh_sys *sys);
/* The backend's write (struct vh_sys_backend): for tests/fk-auto.c, which
 * makes it the backend of every gateway of the program it is linked in. */
int fakekernel_write(const struct vh_sys *sys, const char *path, const char *full,
		     const char *value, size_t len, bool bounded);
