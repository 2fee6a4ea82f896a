/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small KVM virtual machine for x86-64: one memory slot at guest-physical
 * 0, the in-kernel irqchip (PIC, IOAPIC, LAPICs) and PIT, vCPU threads that
 * start directly in 64-bit long mode, port I/O for a COM1 UART, the ucall
 * port and the keyboard controller's reset line, one MMIO device window, and
 * hooks for a PCI bus: its configuration ports and its movable BARs.
 */
#ifndef VNL_VM_H
#define VNL_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct kvm_run;
struct serial;
struct vm;
struct vcpu;

/* `vnetloop run` exit codes (also in --help and Documentation/vmm.rst). */
enum vm_exit_code {
	VM_EXIT_OK = 0,			/* the guest finished, all checks passed */
	VM_EXIT_GUEST_FAIL = 1,		/* the guest or the counter check failed */
	VM_EXIT_USAGE = 2,		/* bad command line */
	VM_EXIT_SETUP = 3,		/* KVM missing or incomplete, setup failed */
	VM_EXIT_NO_BACKEND = 4,		/* the requested backend is unavailable */
	VM_EXIT_TRIPLE_FAULT = 5,	/* KVM_EXIT_SHUTDOWN */
	VM_EXIT_UNEXPECTED = 6,		/* unexpected vCPU exit or KVM error */
	VM_EXIT_REBOOT = 7,		/* guest reset via the keyboard controller */
	VM_EXIT_SIGINT = 130,
	VM_EXIT_SIGTERM = 143,
};

/* Exit accounting, per vCPU, summed at the end. */
#define VM_NR_EXIT_REASONS	64
#define VM_MMIO_SLOT_CONFIG	64	/* device config space, any offset */
#define VM_MMIO_SLOT_OTHER	65	/* outside every device window */
#define VM_NR_MMIO_SLOTS	66
enum vm_io_class { VM_IO_SERIAL, VM_IO_UCALL, VM_IO_KBD, VM_IO_OTHER,
		   VM_IO_PCI, VM_NR_IO_CLASSES };

struct vm_exit_stats {
	uint64_t reason[VM_NR_EXIT_REASONS];	/* KVM_EXIT_*, incl. INTR */
	uint64_t mmio_read[VM_NR_MMIO_SLOTS];	/* register offset / 4 */
	uint64_t mmio_write[VM_NR_MMIO_SLOTS];
	uint64_t io[VM_NR_IO_CLASSES];
};

/*
 * Where a vCPU was when its thread ended: for a VM stopped from outside
 * (a timeout's SIGTERM), the guest's RIP and whether it was halted waiting
 * for an interrupt say where it hung.
 */
struct vcpu_stop_state {
	bool valid;
	bool halted;			/* KVM_MP_STATE_HALTED */
	uint64_t rip, rflags;
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	atomic_bool started;
	struct vm_exit_stats stats;
	struct vcpu_stop_state stopped;
};

/* A device window: read/write get the offset inside it. */
struct vm_mmio_dev {
	uint64_t base;
	uint64_t size;
	void (*read)(void *opaque, uint64_t off, void *data, uint32_t len);
	void (*write)(void *opaque, uint64_t off, const void *data,
		      uint32_t len);
	void *opaque;
};

/* A range of ports. */
struct vm_pio_dev {
	uint16_t base;
	uint16_t size;
	void (*io)(void *opaque, uint16_t port, bool out, void *data,
		   uint32_t size);
	void *opaque;
};

/*
 * Devices whose windows move (PCI BARs): claim an access by address, or
 * return false; *slot files the exit (below VM_MMIO_SLOT_CONFIG).
 */
struct vm_mmio_claim {
	bool (*access)(void *opaque, uint64_t addr, void *data, uint32_t len,
		       bool write, unsigned int *slot);
	void *opaque;
};

struct vm {
	int kvm_fd;
	int vm_fd;
	uint8_t *mem;
	uint64_t mem_size;
	unsigned int nvcpus;
	struct vcpu *vcpus;
	int run_size;
	struct serial *serial;
	struct vm_mmio_dev mmio;
	struct vm_pio_dev pci_pio;	/* configuration mechanism #1 */
	struct vm_mmio_claim pci_mmio;	/* the BARs */
	/* A ucall from the guest; returns false to stop the VM. */
	bool (*ucall)(struct vm *vm, struct vcpu *v, uint64_t gpa);
	void *opaque;
	/* Stopping: the first vm_stop() wins and sets exit_code and why. */
	atomic_bool stopping;
	int exit_code;
	char why[256];
	int stop_efd;
	int grace_fd;		/* timerfd armed by vm_stop_after() */
	int grace_code;
	char grace_why[128];
};

/*
 * Open /dev/kvm, check every capability we rely on (naming the missing one),
 * create the VM with irqchip and PIT, mem_size bytes of RAM and nvcpus vCPUs
 * with the host-supported CPUID. Returns 0 or a negative errno (printed).
 */
int vm_create(struct vm *vm, uint64_t mem_size, unsigned int nvcpus);
void vm_destroy(struct vm *vm);

/* Guest-physical range -> host pointer, or NULL if not all of it is RAM. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);

/*
 * Build identity page tables (4 GiB, 2 MiB pages), a GDT with a 64-bit code
 * segment and a TSS, an empty IDT the guest fills, and put every vCPU in
 * long mode: vCPU 0 at entry, the others at ap_entry, each on its own stack,
 * rdi = arg, rsi = vCPU index. With ap_entry 0 the other vCPUs stay in
 * their reset state, waiting for INIT/SIPI from vCPU 0.
 */
int vm_setup_long_mode(struct vm *vm, uint64_t entry, uint64_t ap_entry,
		       uint64_t arg);

/* KVM wiring for devices. */
int vm_ioeventfd(struct vm *vm, uint64_t gpa, uint32_t len,
		 uint64_t datamatch, int fd, bool assign);
int vm_irqfd(struct vm *vm, int fd, uint32_t gsi, bool assign);
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);
/* An MSI now (KVM_SIGNAL_MSI). */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);
/* Whether KVM has capability cap; if not, say what it was needed for. */
bool vm_has_cap(struct vm *vm, int cap, const char *name, const char *why);

/*
 * Run every vCPU on its own thread until the guest, a fault or a signal
 * (SIGINT, SIGTERM) stops the VM. Returns the exit code.
 */
int vm_run(struct vm *vm);
/* Ask the VM to stop with code and a message; the first call wins. */
/*
 * End the VM with code and why in secs seconds unless it ends first: for a
 * guest that has said all it will say. Safe from any thread.
 */
void vm_stop_after(struct vm *vm, unsigned int secs, int code,
		   const char *why);
void vm_stop(struct vm *vm, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A failed KVM ioctl: print what failed and why; -errno. */
int vm_ioctl_err(const char *what);

/* vcpu.c */
void *vcpu_thread(void *arg);
const char *vcpu_exit_name(unsigned int reason);
void vm_exit_stats_add(struct vm_exit_stats *sum,
		       const struct vm_exit_stats *s);
/* d -= s, field by field. */
void vm_exit_stats_sub(struct vm_exit_stats *d, const struct vm_exit_stats *s);
/*
 * Every vCPU's counts now, summed into *sum. Safe from any thread (see
 * vcpu.c for what a vCPU still running makes of it).
 */
void vm_exit_stats_sum(const struct vm *vm, struct vm_exit_stats *sum);

#endif /* VNL_VM_H */
