/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `vnetloop run --kernel`: a Linux guest instead of the built-in one. Its
 * own virtio_mmio and virtio_net drivers find the NIC through the command
 * line (virtio_mmio.device=<size>@<base>:<irq>), its I/O APIC through an MP
 * table, and KVM through the paravirt CPUID leaves. The guest's verdict
 * comes over the console: the initramfs's /init prints
 * "VNETLOOP-GUEST-RESULT: PASS rc=0" (or FAIL rc=N), then reboots.
 */
#ifndef VNL_LINUX_GUEST_H
#define VNL_LINUX_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "user/abi/params.h"
#include "user/vmm/vm.h"

#define LINUX_GUEST_MARKER	"VNETLOOP-GUEST-RESULT: "
#define LINUX_GUEST_CMDLINE_MAX	4096

/* Seconds a guest that printed its result has to reset. */
#define LINUX_GUEST_RESET_GRACE	10

struct linux_guest {
	struct vm *vm;
	const char *kernel;
	const char *initrd;		/* NULL: none */
	char cmdline[LINUX_GUEST_CMDLINE_MAX];
	/* From the console, under the UART's lock. */
	bool have_result;
	bool passed;
	int rc;				/* the tool's exit status */
	bool panicked;
	char panic[160];		/* the panic message */
	char line[256];			/* the line being assembled */
	unsigned int line_len;
};

/*
 * Build the command line (the defaults, the NIC and, without msix,
 * pci=nomsi, then extra, which may be NULL) and boot kernel and initrd in vm. Returns 0 or a negative errno
 * (printed).
 */
int linux_guest_setup(struct linux_guest *g, struct vm *vm,
		      const char *kernel, const char *initrd,
		      const char *extra, enum vnl_transport transport,
		      bool msix);

/* Feed console output (a UART's output hook). */
void linux_guest_console(void *g, const char *buf, unsigned int len);

/*
 * The run's exit code from how the VM stopped (code, why) and what the
 * console said: 0 when the guest's tool passed and the guest then
 * rebooted; why is rewritten to say what happened.
 */
int linux_guest_verdict(const struct linux_guest *g, int code, char *why,
			unsigned int why_len);

#endif /* VNL_LINUX_GUEST_H */
