// SPDX-License-Identifier: GPL-2.0
/*
 * KVM setup for `vnetloop run`: the VM, its memory and irqchip, vCPUs with
 * host-supported CPUID, the KVM wiring of devices, and the run/stop
 * machinery. Long-mode entry is x86.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "user/abi/layout.h"
#include "user/vmm/serial.h"
#include "user/vmm/vm.h"

/* Above the 4 GiB - 20 MiB mark, out of the way of RAM and MMIO windows. */
#define VM_TSS_ADDR		0xfffbd000ULL
#define VM_IDENTITY_MAP_ADDR	0xfffbc000ULL

static const struct {
	int cap;
	const char *name;
	const char *why;
} vm_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "in-kernel IOAPIC and LAPIC" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2", "in-kernel PIT" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", "x86 TSS area" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "KVM_GET_SUPPORTED_CPUID" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", "QueueNotify ioeventfd" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD", "irqfd interrupt injection" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", "starting extra vCPUs" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPUs" },
};

int vm_ioctl_err(const char *what)
{
	int err = errno;

	fprintf(stderr, "vnetloop: %s failed: %s\n", what, strerror(err));
	return -err;
}

static int vm_check_caps(struct vm *vm, unsigned int nvcpus)
{
	int max;

	for (size_t i = 0; i < sizeof(vm_caps) / sizeof(vm_caps[0]); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, vm_caps[i].cap) > 0)
			continue;
		fprintf(stderr,
			"vnetloop: KVM lacks %s (needed for %s)\n",
			vm_caps[i].name, vm_caps[i].why);
		return -ENOTSUP;
	}
	max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max > 0 && nvcpus > (unsigned int)max) {
		fprintf(stderr, "vnetloop: KVM allows %d vCPUs, %u asked\n",
			max, nvcpus);
		return -EINVAL;
	}
	return 0;
}

static struct kvm_cpuid2 *vm_supported_cpuid(int kvm_fd)
{
	struct kvm_cpuid2 *c;
	int n = 64;

	for (;;) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return NULL;
		c->nent = n;
		if (!ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		free(c);
		if (errno != E2BIG || n >= 4096) {
			vm_ioctl_err("KVM_GET_SUPPORTED_CPUID");
			return NULL;
		}
		n *= 2;
	}
}

/* Per-vCPU CPUID: the host's supported set with this vCPU's APIC ID. */
static int vm_set_cpuid(struct vcpu *v, const struct kvm_cpuid2 *sup)
{
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, sup, sz);
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (v->id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->id;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c))
		ret = vm_ioctl_err("KVM_SET_CPUID2");
	free(c);
	return ret;
}

static int vm_create_vcpus(struct vm *vm)
{
	struct kvm_cpuid2 *cpuid = vm_supported_cpuid(vm->kvm_fd);
	int ret = 0;

	if (!cpuid)
		return -ENOMEM;
	vm->vcpus = calloc(vm->nvcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		free(cpuid);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < vm->nvcpus; i++)
		vm->vcpus[i].fd = -1;
	for (unsigned int i = 0; i < vm->nvcpus && !ret; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0) {
			ret = vm_ioctl_err("KVM_CREATE_VCPU");
			break;
		}
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			ret = vm_ioctl_err("mmap of the vCPU run area");
			break;
		}
		ret = vm_set_cpuid(v, cpuid);
	}
	free(cpuid);
	return ret;
}

static int vm_create_memory(struct vm *vm)
{
	struct kvm_userspace_memory_region r;

	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return vm_ioctl_err("mmap of guest memory");
	}
	madvise(vm->mem, vm->mem_size, MADV_MERGEABLE);
	r = (struct kvm_userspace_memory_region) {
		.slot		 = 0,
		.guest_phys_addr = 0,
		.memory_size	 = vm->mem_size,
		.userspace_addr	 = (uint64_t)(uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
		return vm_ioctl_err("KVM_SET_USER_MEMORY_REGION");
	return 0;
}

int vm_create(struct vm *vm, uint64_t mem_size, unsigned int nvcpus)
{
	struct kvm_pit_config pit = { .flags = 0 };
	uint64_t ident = VM_IDENTITY_MAP_ADDR;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	vm->stop_efd = -1;
	vm->grace_fd = -1;
	vm->mem_size = mem_size;
	vm->nvcpus = nvcpus;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		fprintf(stderr, "vnetloop: cannot open /dev/kvm: %s\n",
			strerror(-ret));
		return ret;
	}
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		fprintf(stderr, "vnetloop: KVM API version %d, need %d\n",
			ret, KVM_API_VERSION);
		return -ENOTSUP;
	}
	ret = vm_check_caps(vm, nvcpus);
	if (ret)
		return ret;
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size <= 0)
		return vm_ioctl_err("KVM_GET_VCPU_MMAP_SIZE");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return vm_ioctl_err("KVM_CREATE_VM");
	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0)
		return vm_ioctl_err("eventfd");
	vm->grace_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (vm->grace_fd < 0)
		return vm_ioctl_err("timerfd_create");
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR))
		return vm_ioctl_err("KVM_SET_TSS_ADDR");
	/* Only VMX without unrestricted guest needs it; harmless elsewhere. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident))
		return vm_ioctl_err("KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0))
		return vm_ioctl_err("KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit))
		return vm_ioctl_err("KVM_CREATE_PIT2");
	ret = vm_create_memory(vm);
	if (ret)
		return ret;
	return vm_create_vcpus(vm);
}

void vm_destroy(struct vm *vm)
{
	for (unsigned int i = 0; vm->vcpus && i < vm->nvcpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->mem = NULL;
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	if (vm->grace_fd >= 0)
		close(vm->grace_fd);
	vm->grace_fd = -1;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->stop_efd = vm->vm_fd = vm->kvm_fd = -1;
}

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa >= vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return vm->mem + gpa;
}

/* ---- devices ---- */

int vm_ioeventfd(struct vm *vm, uint64_t gpa, uint32_t len,
		 uint64_t datamatch, int fd, bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr	   = gpa,
		.len	   = len,
		.fd	   = fd,
		.flags	   = KVM_IOEVENTFD_FLAG_DATAMATCH |
			     (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io))
		return vm_ioctl_err("KVM_IOEVENTFD");
	return 0;
}

int vm_irqfd(struct vm *vm, int fd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd irq = {
		.fd    = fd,
		.gsi   = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irq))
		return vm_ioctl_err("KVM_IRQFD");
	return 0;
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l))
		return vm_ioctl_err("KVM_IRQ_LINE");
	return 0;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = addr >> 32,
		.data	    = data,
	};

	/* 0: the guest blocked it (its APIC is off); > 0: delivered. */
	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return vm_ioctl_err("KVM_SIGNAL_MSI");
	return 0;
}

bool vm_has_cap(struct vm *vm, int cap, const char *name, const char *why)
{
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) > 0)
		return true;
	fprintf(stderr, "vnetloop: KVM lacks %s (needed for %s)\n", name, why);
	return false;
}

/* ---- run and stop ---- */

static void vm_kick_handler(int sig)
{
	(void)sig;
}

void vm_stop(struct vm *vm, int code, const char *fmt, ...)
{
	uint64_t one = 1;
	va_list ap;
	bool expected = false;

	if (!atomic_compare_exchange_strong(&vm->stopping, &expected, true))
		return;
	vm->exit_code = code;
	va_start(ap, fmt);
	vsnprintf(vm->why, sizeof(vm->why), fmt, ap);
	va_end(ap);
	/* immediate_exit covers a vCPU that is about to enter KVM_RUN. */
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->run->immediate_exit = 1;
		if (atomic_load(&v->started) &&
		    !pthread_equal(v->thread, pthread_self()))
			pthread_kill(v->thread, SIGUSR1);
	}
	if (write(vm->stop_efd, &one, sizeof(one)) < 0)
		perror("vnetloop: eventfd write");
}

void vm_stop_after(struct vm *vm, unsigned int secs, int code,
		   const char *why)
{
	struct itimerspec its = { .it_value.tv_sec = secs };

	if (vm->grace_fd < 0 || timerfd_gettime(vm->grace_fd, &its) ||
	    its.it_value.tv_sec || its.it_value.tv_nsec)
		return;		/* no timer, or already armed */
	vm->grace_code = code;
	snprintf(vm->grace_why, sizeof(vm->grace_why), "%s", why);
	its = (struct itimerspec){ .it_value.tv_sec = secs };
	timerfd_settime(vm->grace_fd, 0, &its, NULL);
}

static int vm_wait(struct vm *vm, int sfd)
{
	struct pollfd p[3] = {
		{ .fd = vm->stop_efd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
		{ .fd = vm->grace_fd, .events = POLLIN },
	};
	struct signalfd_siginfo si;

	while (!atomic_load(&vm->stopping)) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			vm_stop(vm, VM_EXIT_UNEXPECTED, "poll: %s",
				strerror(errno));
			break;
		}
		if (p[2].revents & POLLIN) {
			vm_stop(vm, vm->grace_code, "%s", vm->grace_why);
			break;
		}
		if (!(p[1].revents & POLLIN))
			continue;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGINT)
			vm_stop(vm, VM_EXIT_SIGINT, "interrupted by SIGINT");
		else
			vm_stop(vm, VM_EXIT_SIGTERM, "terminated by SIGTERM");
	}
	return vm->exit_code;
}

int vm_run(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = vm_kick_handler };
	sigset_t block, old;
	int sfd, err;

	/* vCPU threads take SIGUSR1 (kick); the main thread takes the rest. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	sigdelset(&block, SIGUSR1);
	sfd = signalfd(-1, &block, SFD_CLOEXEC);
	if (sfd < 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		vm_ioctl_err("signalfd");
		return VM_EXIT_SETUP;
	}
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		err = pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (err) {
			vm_stop(vm, VM_EXIT_SETUP, "cannot start vCPU %u: %s",
				i, strerror(err));
			break;
		}
		atomic_store(&v->started, true);
	}
	vm_wait(vm, sfd);
	for (unsigned int i = 0; i < vm->nvcpus; i++) {
		if (atomic_load(&vm->vcpus[i].started))
			pthread_join(vm->vcpus[i].thread, NULL);
		atomic_store(&vm->vcpus[i].started, false);
	}
	close(sfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return vm->exit_code;
}
