// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux guest of `vnetloop run --kernel`: its command line, the MP
 * table and CPUID it needs besides the bzImage loader, and its verdict, read
 * from the console.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "user/abi/layout.h"
#include "user/vmm/bzimage.h"
#include "user/vmm/linux_guest.h"
#include "user/vmm/mptable.h"

/*
 * console=ttyS0: COM1 is the only console. reboot=k: reboot through the
 * keyboard controller, which ends the VM; panic=-1: a panic reboots at
 * once. no_timer_check: do not insist on seeing the timer interrupt
 * through the I/O APIC (kvmclock makes it moot). With virtio-mmio, pci=off
 * (there is no PCI) and the device's place; with virtio-pci the kernel
 * finds the NIC on bus 0 through configuration mechanism #1 and its INTx
 * in the MP table; pci=nomsi keeps it on INTx (--no-msix).
 */
#define LINUX_GUEST_DEFAULT_CMDLINE \
	"console=ttyS0 reboot=k panic=-1 no_timer_check"

#define CPUID_1_ECX_HYPERVISOR	(1U << 31)
#define PANIC_PREFIX		"Kernel panic - not syncing: "

/*
 * KVM_GET_SUPPORTED_CPUID leaves the "running on a hypervisor" bit clear;
 * without it Linux never looks at the KVM leaves (0x40000000), so it would
 * have no kvmclock and would calibrate its clocks against the emulated PIT.
 */
static int linux_guest_cpuid(struct vcpu *v)
{
	struct kvm_cpuid2 *c = NULL;
	int ret = 0;

	for (unsigned int n = 64;; n *= 2) {
		free(c);
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (!ioctl(v->fd, KVM_GET_CPUID2, c))
			break;
		if (errno != E2BIG || n >= 4096) {
			ret = -errno;
			fprintf(stderr, "vnetloop: KVM_GET_CPUID2: %s\n",
				strerror(-ret));
			free(c);
			return ret;
		}
	}
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			c->entries[i].ecx |= CPUID_1_ECX_HYPERVISOR;
	if (ioctl(v->fd, KVM_SET_CPUID2, c)) {
		ret = -errno;
		fprintf(stderr, "vnetloop: KVM_SET_CPUID2: %s\n",
			strerror(-ret));
	}
	free(c);
	return ret;
}

int linux_guest_setup(struct linux_guest *g, struct vm *vm,
		      const char *kernel, const char *initrd,
		      const char *extra, enum vnl_transport transport,
		      bool msix)
{
	bool pci = transport == VNL_TRANSPORT_PCI;
	struct bzimage_info info;
	char dev[96] = "";
	int n, ret;

	memset(g, 0, sizeof(*g));
	g->vm = vm;
	g->kernel = kernel;
	g->initrd = initrd;
	if (!pci)
		snprintf(dev, sizeof(dev),
			 " pci=off virtio_mmio.device=%u@0x%llx:%u",
			 VNL_MMIO_SIZE, (unsigned long long)VNL_GPA_MMIO,
			 VNL_MMIO_GSI);
	else if (!msix)
		snprintf(dev, sizeof(dev), " pci=nomsi");
	n = snprintf(g->cmdline, sizeof(g->cmdline), "%s%s%s%s",
		     LINUX_GUEST_DEFAULT_CMDLINE, dev,
		     extra && *extra ? " " : "", extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(g->cmdline)) {
		fprintf(stderr, "vnetloop: --cmdline: the kernel command line would exceed %zu bytes\n",
			sizeof(g->cmdline) - 1);
		return -E2BIG;
	}
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		ret = linux_guest_cpuid(&vm->vcpus[i]);
		if (ret)
			return ret;
	}
	ret = mptable_write(vm, pci);
	if (ret < 0)
		return ret;
	return bzimage_boot(vm, kernel, initrd, g->cmdline, &info);
}

/* One console line, without its line end. */
static void linux_guest_line(struct linux_guest *g, const char *l)
{
	const char *p = strstr(l, LINUX_GUEST_MARKER);
	int rc;

	if (p) {
		p += strlen(LINUX_GUEST_MARKER);
		if (sscanf(p, "PASS rc=%d", &rc) == 1) {
			g->have_result = true;
			g->passed = rc == 0;
			g->rc = rc;
		} else if (sscanf(p, "FAIL rc=%d", &rc) == 1) {
			g->have_result = true;
			g->passed = false;
			g->rc = rc;
		}
		/*
		 * The guest resets next; should its reset path hang (seen
		 * under nested KVM on an emulated CPU), the result stands.
		 */
		if (g->have_result)
			vm_stop_after(g->vm, LINUX_GUEST_RESET_GRACE,
				      VM_EXIT_REBOOT,
				      "the guest printed its result but did not reset in time");
		return;
	}
	p = strstr(l, PANIC_PREFIX);
	if (p && !g->panicked) {
		g->panicked = true;
		snprintf(g->panic, sizeof(g->panic), "%s",
			 p + strlen(PANIC_PREFIX));
	}
}

void linux_guest_console(void *opaque, const char *buf, unsigned int len)
{
	struct linux_guest *g = opaque;

	for (unsigned int i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\n') {
			g->line[g->line_len] = '\0';
			linux_guest_line(g, g->line);
			g->line_len = 0;
		} else if (c != '\r' && g->line_len + 1 < sizeof(g->line)) {
			/* A longer line is cut; the markers come early. */
			g->line[g->line_len++] = c;
		}
	}
}

int linux_guest_verdict(const struct linux_guest *g, int code, char *why,
			unsigned int why_len)
{
	bool ended = code == VM_EXIT_REBOOT || code == VM_EXIT_TRIPLE_FAULT;

	if (g->panicked && (ended || code == VM_EXIT_OK)) {
		snprintf(why, why_len, "the guest kernel panicked: %s",
			 g->panic);
		return VM_EXIT_GUEST_FAIL;
	}
	if (!ended)
		return code;	/* a KVM error, a signal: as it is */
	if (!g->have_result) {
		/* The message names the reset path (keyboard controller or
		 * triple fault); keep the code. */
		char how[200];

		snprintf(how, sizeof(how), "%s", why);
		snprintf(why, why_len,
			 "the guest stopped before printing a result line (%s)",
			 how);
		return code;
	}
	if (g->passed) {
		snprintf(why, why_len,
			 "the guest's traffic tool passed, then the guest %s",
			 strstr(why, "did not reset") ?
			 "did not reset within the grace time" : "rebooted");
		return VM_EXIT_OK;
	}
	snprintf(why, why_len,
		 "the guest's traffic tool failed with exit status %d", g->rc);
	return VM_EXIT_GUEST_FAIL;
}
