// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU loop: KVM_RUN until the VM stops, dispatching each exit to the
 * UART, the ucall port, the keyboard controller (reset line), the PCI
 * configuration ports, the MMIO device or the PCI BARs, and counting exits
 * by reason and by register.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "user/abi/ucall.h"
#include "user/vmm/serial.h"
#include "user/vmm/vm.h"

#define KBD_STATUS_PORT		0x64
#define KBD_CMD_RESET		0xfe
#define POST_PORT		0x80

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN]		= "UNKNOWN",
	[KVM_EXIT_EXCEPTION]		= "EXCEPTION",
	[KVM_EXIT_IO]			= "IO",
	[KVM_EXIT_HYPERCALL]		= "HYPERCALL",
	[KVM_EXIT_DEBUG]		= "DEBUG",
	[KVM_EXIT_HLT]			= "HLT",
	[KVM_EXIT_MMIO]			= "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN]	= "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN]		= "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY]		= "FAIL_ENTRY",
	[KVM_EXIT_INTR]			= "INTR",
	[KVM_EXIT_SET_TPR]		= "SET_TPR",
	[KVM_EXIT_TPR_ACCESS]		= "TPR_ACCESS",
	[KVM_EXIT_NMI]			= "NMI",
	[KVM_EXIT_INTERNAL_ERROR]	= "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT]		= "SYSTEM_EVENT",
	[KVM_EXIT_IOAPIC_EOI]		= "IOAPIC_EOI",
	[KVM_EXIT_X86_RDMSR]		= "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR]		= "X86_WRMSR",
};

const char *vcpu_exit_name(unsigned int reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) &&
	    exit_names[reason])
		return exit_names[reason];
	return "OTHER";
}

void vm_exit_stats_add(struct vm_exit_stats *sum,
		       const struct vm_exit_stats *s)
{
	for (int i = 0; i < VM_NR_EXIT_REASONS; i++)
		sum->reason[i] += s->reason[i];
	for (int i = 0; i < VM_NR_MMIO_SLOTS; i++) {
		sum->mmio_read[i] += s->mmio_read[i];
		sum->mmio_write[i] += s->mmio_write[i];
	}
	for (int i = 0; i < VM_NR_IO_CLASSES; i++)
		sum->io[i] += s->io[i];
}

void vm_exit_stats_sub(struct vm_exit_stats *d, const struct vm_exit_stats *s)
{
	for (int i = 0; i < VM_NR_EXIT_REASONS; i++)
		d->reason[i] -= s->reason[i];
	for (int i = 0; i < VM_NR_MMIO_SLOTS; i++) {
		d->mmio_read[i] -= s->mmio_read[i];
		d->mmio_write[i] -= s->mmio_write[i];
	}
	for (int i = 0; i < VM_NR_IO_CLASSES; i++)
		d->io[i] -= s->io[i];
}

/*
 * Each vCPU thread counts its own exits in its struct vcpu, without a
 * lock. After vm_run() the sum is exact. Taken while the VM runs (the
 * measured phase's marks, on one vCPU's thread), the calling vCPU's
 * counts are exact and another's are read while its thread may be
 * incrementing them: racy by the letter of C11, harmless in fact (an
 * aligned u64 load is not torn on x86-64), and an exit counted in between
 * falls into one side of the mark or the other. The built-in guest's
 * other vCPUs sit halted in their idle loop during the measured phase
 * (HLT is handled in the kernel's irqchip), so they do not move.
 */
void vm_exit_stats_sum(const struct vm *vm, struct vm_exit_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		vm_exit_stats_add(sum, &vm->vcpus[i].stats);
}

static bool vcpu_ucall(struct vcpu *v, const uint8_t *data, uint8_t size)
{
	uint32_t gpa;

	if (size != 4) {
		vm_stop(v->vm, VM_EXIT_UNEXPECTED,
			"vCPU %u: ucall with a %u-byte write", v->id, size);
		return false;
	}
	memcpy(&gpa, data, 4);
	return v->vm->ucall(v->vm, v, gpa);
}

/* One element of a (possibly repeated) port access. */
static bool vcpu_pio(struct vcpu *v, uint16_t port, bool out, uint8_t *data,
		     uint8_t size)
{
	struct vm *vm = v->vm;

	if (port >= SERIAL_COM1_PORT &&
	    port < SERIAL_COM1_PORT + SERIAL_NR_PORTS && size == 1) {
		v->stats.io[VM_IO_SERIAL]++;
		if (out)
			serial_out(vm->serial, port - SERIAL_COM1_PORT, *data);
		else
			*data = serial_in(vm->serial, port - SERIAL_COM1_PORT);
		return true;
	}
	if (vm->pci_pio.io && port >= vm->pci_pio.base &&
	    port - vm->pci_pio.base < vm->pci_pio.size) {
		v->stats.io[VM_IO_PCI]++;
		vm->pci_pio.io(vm->pci_pio.opaque, port, out, data, size);
		return true;
	}
	if (port == VNL_UCALL_PORT && out) {
		v->stats.io[VM_IO_UCALL]++;
		return vcpu_ucall(v, data, size);
	}
	if (port == KBD_STATUS_PORT) {
		v->stats.io[VM_IO_KBD]++;
		if (out && *data == KBD_CMD_RESET) {
			vm_stop(vm, VM_EXIT_REBOOT,
				"the guest asked for a reset (keyboard controller, port 0x64 = 0xfe)");
			return false;
		}
		if (!out)
			*data = 0;	/* no data, input buffer empty */
		return true;
	}
	/* Nothing else is wired: reads float high, writes vanish. */
	if (port != POST_PORT)
		v->stats.io[VM_IO_OTHER]++;
	if (!out)
		memset(data, 0xff, size);
	return true;
}

static bool vcpu_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		if (!vcpu_pio(v, run->io.port, out, data, run->io.size))
			return false;
	return true;
}

static void vcpu_mmio(struct vcpu *v)
{
	struct vm_mmio_dev *d = &v->vm->mmio;
	struct vm_mmio_claim *c = &v->vm->pci_mmio;
	struct kvm_run *run = v->run;
	uint64_t addr = run->mmio.phys_addr, off;
	unsigned int slot;

	if (c->access && c->access(c->opaque, addr, run->mmio.data,
				   run->mmio.len, run->mmio.is_write, &slot)) {
		if (slot >= VM_MMIO_SLOT_CONFIG)
			slot = VM_MMIO_SLOT_OTHER;
		if (run->mmio.is_write)
			v->stats.mmio_write[slot]++;
		else
			v->stats.mmio_read[slot]++;
		return;
	}
	if (d->size && addr >= d->base && addr - d->base < d->size) {
		off = addr - d->base;
		slot = off < 0x100 ? off / 4 : VM_MMIO_SLOT_CONFIG;
		if (run->mmio.is_write) {
			v->stats.mmio_write[slot]++;
			d->write(d->opaque, off, run->mmio.data, run->mmio.len);
		} else {
			v->stats.mmio_read[slot]++;
			d->read(d->opaque, off, run->mmio.data, run->mmio.len);
		}
		return;
	}
	if (run->mmio.is_write) {
		v->stats.mmio_write[VM_MMIO_SLOT_OTHER]++;
	} else {
		v->stats.mmio_read[VM_MMIO_SLOT_OTHER]++;
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
	}
}

/* Returns false when the VM must stop. */
static bool vcpu_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return vcpu_io(v);
	case KVM_EXIT_MMIO:
		vcpu_mmio(v);
		return true;
	case KVM_EXIT_SHUTDOWN:
		vm_stop(vm, VM_EXIT_TRIPLE_FAULT,
			"vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", v->id);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vm_stop(vm, VM_EXIT_REBOOT,
				"vCPU %u: the guest asked for a reset", v->id);
		else
			vm_stop(vm, VM_EXIT_UNEXPECTED,
				"vCPU %u: system event %u", v->id,
				run->system_event.type);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		vm_stop(vm, VM_EXIT_UNEXPECTED,
			"vCPU %u: KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx",
			v->id, (unsigned long long)
			run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		vm_stop(vm, VM_EXIT_UNEXPECTED,
			"vCPU %u: KVM_EXIT_INTERNAL_ERROR, suberror %u, data %llx %llx %llx %llx",
			v->id, run->internal.suberror,
			(unsigned long long)run->internal.data[0],
			(unsigned long long)run->internal.data[1],
			(unsigned long long)run->internal.data[2],
			(unsigned long long)run->internal.data[3]);
		return false;
	}
	vm_stop(vm, VM_EXIT_UNEXPECTED, "vCPU %u: unexpected exit KVM_EXIT_%s (%u)",
		v->id, vcpu_exit_name(run->exit_reason), run->exit_reason);
	return false;
}

static void vcpu_save_stop_state(struct vcpu *v)
{
	struct kvm_mp_state mp;
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return;
	v->stopped.rip = regs.rip;
	v->stopped.rflags = regs.rflags;
	v->stopped.halted = !ioctl(v->fd, KVM_GET_MP_STATE, &mp) &&
			    mp.mp_state == KVM_MP_STATE_HALTED;
	v->stopped.valid = true;
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char name[16];
	sigset_t kick;

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sigemptyset(&kick);
	sigaddset(&kick, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);

	while (!atomic_load(&vm->stopping)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->stats.reason[KVM_EXIT_INTR]++;
				continue;
			}
			vm_stop(vm, VM_EXIT_UNEXPECTED, "vCPU %u: KVM_RUN: %s",
				v->id, strerror(errno));
			break;
		}
		if (v->run->exit_reason < VM_NR_EXIT_REASONS)
			v->stats.reason[v->run->exit_reason]++;
		if (!vcpu_exit(v))
			break;
	}
	vcpu_save_stop_state(v);
	return NULL;
}
