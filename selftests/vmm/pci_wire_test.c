// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the virtio-pci NIC's wiring into KVM (user/vmm/pci_wire.c)
 * on a real VM (/dev/kvm), with no vCPU running: the function (user/dev/
 * pci*.c) over a fake backend is driven as a guest would, and the wiring
 * must follow it: kicks as ioeventfds at BAR0's notify addresses wherever
 * the BAR goes, every interrupt on INTx until MSI-X is on, then each on
 * its vector's GSI, and a masked vector's interrupt read by the poller
 * into the pending bits. KVM itself says whether an ioeventfd is there (a
 * second one at the same place is refused with EEXIST).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "selftests/vmm/fake_be.h"
#include "user/abi/layout.h"
#include "user/vmm/pci_wire.h"

static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 9 };

#define CC(f)		(VNL_PCI_COMMON_OFF + \
			 offsetof(struct virtio_pci_common_cfg, f))
#define MSIX_FLAGS	(VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS)

static void cw(struct vnl_pci *p, uint32_t off, uint32_t len, uint32_t v)
{
	vnl_pci_cfg_write(p, off, &v, len);
}

static void bw(struct vnl_pci *p, unsigned int bar, uint64_t off,
	       uint32_t len, uint64_t v)
{
	vnl_pci_bar_write(p, bar, off, &v, len);
}

static uint64_t br(struct vnl_pci *p, unsigned int bar, uint64_t off,
		   uint32_t len)
{
	uint64_t v = 0;

	vnl_pci_bar_read(p, bar, off, &v, len);
	return v;
}

/* Whether KVM has an ioeventfd for queue q at gpa (it refuses a twin). */
static bool kick_at(struct vm *vm, int fd, uint64_t gpa, unsigned int q)
{
	struct kvm_ioeventfd io = {
		.datamatch = q, .addr = gpa, .len = 2, .fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) == 0) {
		io.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
		ioctl(vm->vm_fd, KVM_IOEVENTFD, &io);
		return false;
	}
	return errno == EEXIST;
}

/* Wait up to a second for vector v's pending bit. */
static bool pending_soon(struct vnl_pci *p, unsigned int v)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };

	for (int i = 0; i < 100; i++) {
		if (br(p, VNL_PCI_BAR_MSIX, VNL_PCI_MSIX_PBA_OFF, 8) &
		    (1ULL << v))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

FIXTURE(wire) {
	struct vm vm;
	bool have_vm;
	struct fake_be f;
	struct pci_wire w;
	struct vnl_pci p;
	int probe_fd;
};

FIXTURE_SETUP(wire)
{
	self->have_vm = false;
	self->probe_fd = -1;
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	ASSERT_EQ(0, vm_create(&self->vm, 16 << 20, 1));
	self->have_vm = true;
	fake_be_init(&self->f, mac);
	ASSERT_EQ(0, pci_wire_init(&self->w, &self->vm, VNL_PCI_INTX_GSI,
				   VNETLOOP_NUM_QUEUES));
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++) {
		bool has = s < VNETLOOP_NUM_QUEUES || s == VNL_PCI_SRC_CONFIG;

		ASSERT_EQ(has, self->w.fd[s] >= 0);
	}
	/* The kick eventfds a backend with ioeventfds would have. */
	for (unsigned int q = 0; q < VNETLOOP_NUM_QUEUES; q++) {
		self->f.be.kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, self->f.be.kick_fd[q]);
	}
	self->probe_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->probe_fd);
	vnl_pci_init(&self->p, &self->f.be, VNETLOOP_FEATURES, &pci_wire_ops,
		     &self->w, VNL_GPA_PCI_MMIO, VNL_PCI_INTX_GSI);
	ASSERT_EQ(0, pci_wire_start(&self->w, &self->p, &self->f.be));
}

FIXTURE_TEARDOWN(wire)
{
	if (!self->have_vm)
		return;
	pci_wire_stop(&self->w);
	vnl_pci_destroy(&self->p);
	pci_wire_fini(&self->w);
	for (unsigned int q = 0; q < VNETLOOP_NUM_QUEUES; q++)
		close(self->f.be.kick_fd[q]);
	close(self->probe_fd);
	vm_destroy(&self->vm);
}

TEST_F(wire, kicks_follow_bar0)
{
	struct vm *vm = &self->vm;
	uint64_t n = VNL_GPA_PCI_MMIO + VNL_PCI_NOTIFY_OFF;

	if (!self->have_vm)
		SKIP(return, "no /dev/kvm");
	/* Decoding off: no kicks anywhere. */
	EXPECT_EQ(0, self->w.notify_base);
	EXPECT_FALSE(kick_at(vm, self->probe_fd, n + 4, 1));
	cw(&self->p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	EXPECT_EQ(n, self->w.notify_base);
	EXPECT_TRUE(kick_at(vm, self->probe_fd, n, 0));
	EXPECT_TRUE(kick_at(vm, self->probe_fd, n + 4, 1));
	/* Sized: gone; placed elsewhere: there, and not at the old place. */
	cw(&self->p, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	EXPECT_EQ(0, self->w.notify_base);
	EXPECT_FALSE(kick_at(vm, self->probe_fd, n + 4, 1));
	cw(&self->p, PCI_BASE_ADDRESS_0, 4, 0xe8000000);
	EXPECT_TRUE(kick_at(vm, self->probe_fd,
			    0xe8000000 + VNL_PCI_NOTIFY_OFF + 4, 1));
	EXPECT_FALSE(kick_at(vm, self->probe_fd, n + 4, 1));
	cw(&self->p, PCI_COMMAND, 2, 0);
	EXPECT_FALSE(kick_at(vm, self->probe_fd,
			     0xe8000000 + VNL_PCI_NOTIFY_OFF + 4, 1));
	EXPECT_EQ(0, self->w.err);
}

TEST_F(wire, interrupts_follow_the_routes)
{
	struct vnl_pci *p = &self->p;
	struct pci_wire *w = &self->w;

	if (!self->have_vm)
		SKIP(return, "no /dev/kvm");
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++)
		EXPECT_EQ(w->fd[s] < 0 ? -1 : (int)VNL_PCI_INTX_GSI,
			  w->gsi[s]);
	/* INTx disabled: nowhere. */
	cw(p, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(-1, w->gsi[VNL_PCI_SRC_TX]);
	cw(p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	/* MSI-X on: vectors 0 (config), 1 (RX), 2 (TX), unmasked. */
	cw(p, MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	EXPECT_EQ(-1, w->gsi[VNL_PCI_SRC_RX]);	/* no vector yet */
	for (unsigned int v = 0; v < p->nvectors; v++) {
		uint64_t e = v * PCI_MSIX_ENTRY_SIZE;

		bw(p, VNL_PCI_BAR_MSIX, e, 4, 0xfee00000);
		bw(p, VNL_PCI_BAR_MSIX, e + PCI_MSIX_ENTRY_DATA, 4, 0x31 + v);
		bw(p, VNL_PCI_BAR_MSIX, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	}
	bw(p, VNL_PCI_BAR_VIRTIO, CC(msix_config), 2, 0);
	for (unsigned int q = 0; q < 2; q++) {
		bw(p, VNL_PCI_BAR_VIRTIO, CC(queue_select), 2, q);
		bw(p, VNL_PCI_BAR_VIRTIO, CC(queue_msix_vector), 2, 1 + q);
	}
	EXPECT_EQ(VNL_PCI_MSI_GSI + 0, w->gsi[VNL_PCI_SRC_CONFIG]);
	EXPECT_EQ(VNL_PCI_MSI_GSI + 1, w->gsi[VNL_PCI_SRC_RX]);
	EXPECT_EQ(VNL_PCI_MSI_GSI + 2, w->gsi[VNL_PCI_SRC_TX]);
	EXPECT_TRUE(w->msi_set[2]);
	EXPECT_EQ(0x33, w->msi_data[2]);
	/* Masked: off its GSI, and the poller makes it pending. */
	bw(p, VNL_PCI_BAR_MSIX, 2 * PCI_MSIX_ENTRY_SIZE +
	   PCI_MSIX_ENTRY_VECTOR_CTRL, 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	EXPECT_EQ(-1, w->gsi[VNL_PCI_SRC_TX]);
	EXPECT_FALSE(w->msi_set[2]);
	vnl_backend_raise(&self->f.be, 0, false);	/* nothing */
	self->f.be.call_fd[VNETLOOP_QUEUE_TX] = w->fd[VNL_PCI_SRC_TX];
	vnl_backend_raise(&self->f.be, 1U << VNETLOOP_QUEUE_TX, false);
	EXPECT_TRUE(pending_soon(p, 2));
	/* Unmasked: sent (KVM_SIGNAL_MSI), back on its GSI. */
	bw(p, VNL_PCI_BAR_MSIX, 2 * PCI_MSIX_ENTRY_SIZE +
	   PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	EXPECT_EQ(0, br(p, VNL_PCI_BAR_MSIX, VNL_PCI_MSIX_PBA_OFF, 8));
	EXPECT_EQ(VNL_PCI_MSI_GSI + 2, w->gsi[VNL_PCI_SRC_TX]);
	/* MSI-X off again: INTx for all. */
	cw(p, MSIX_FLAGS, 2, 0);
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++)
		EXPECT_EQ(w->fd[s] < 0 ? -1 : (int)VNL_PCI_INTX_GSI,
			  w->gsi[s]);
	EXPECT_EQ(0, w->err);
}

/*
 * Four queue pairs: an eventfd per queue and config, every queue's kick
 * at its notify address, every queue on its own vector's GSI.
 */
TEST(four_pairs_wire_every_queue)
{
	const unsigned int nq = 9;
	struct vm vm;
	struct fake_be f;
	struct pci_wire w;
	struct vnl_pci p;
	uint64_t n = VNL_GPA_PCI_MMIO + VNL_PCI_NOTIFY_OFF;
	int probe;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	ASSERT_EQ(0, vm_create(&vm, 16 << 20, 1));
	fake_be_init(&f, mac);
	fake_be_pairs(&f, 4);
	ASSERT_EQ(0, pci_wire_init(&w, &vm, VNL_PCI_INTX_GSI, nq));
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++)
		EXPECT_EQ(s < nq || s == VNL_PCI_SRC_CONFIG, w.fd[s] >= 0);
	for (unsigned int q = 0; q < nq; q++) {
		f.be.kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, f.be.kick_fd[q]);
		f.be.call_fd[q] = w.fd[q];
	}
	probe = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, probe);
	vnl_pci_init(&p, &f.be, VNETLOOP_FEATURES | VNETLOOP_FEATURES_MQ,
		     &pci_wire_ops, &w, VNL_GPA_PCI_MMIO, VNL_PCI_INTX_GSI);
	ASSERT_EQ(0, pci_wire_start(&w, &p, &f.be));
	cw(&p, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	for (unsigned int q = 0; q < nq; q++)
		EXPECT_TRUE(kick_at(&vm, probe, n + 4 * q, q));
	EXPECT_FALSE(kick_at(&vm, probe, n + 4 * nq, nq));
	cw(&p, MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned int v = 0; v <= nq; v++) {
		uint64_t e = v * PCI_MSIX_ENTRY_SIZE;

		bw(&p, VNL_PCI_BAR_MSIX, e, 4, 0xfee00000);
		bw(&p, VNL_PCI_BAR_MSIX, e + PCI_MSIX_ENTRY_DATA, 4, 0x31 + v);
		bw(&p, VNL_PCI_BAR_MSIX, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	}
	bw(&p, VNL_PCI_BAR_VIRTIO, CC(msix_config), 2, 0);
	for (unsigned int q = 0; q < nq; q++) {
		bw(&p, VNL_PCI_BAR_VIRTIO, CC(queue_select), 2, q);
		bw(&p, VNL_PCI_BAR_VIRTIO, CC(queue_msix_vector), 2, 1 + q);
	}
	EXPECT_EQ(VNL_PCI_MSI_GSI + 0, w.gsi[VNL_PCI_SRC_CONFIG]);
	for (unsigned int q = 0; q < nq; q++) {
		EXPECT_EQ(VNL_PCI_MSI_GSI + 1 + (int)q, w.gsi[q]);
		EXPECT_TRUE(w.msi_set[1 + q]);
	}
	/* The control queue's vector masked: the poller makes it pending. */
	bw(&p, VNL_PCI_BAR_MSIX, nq * PCI_MSIX_ENTRY_SIZE +
	   PCI_MSIX_ENTRY_VECTOR_CTRL, 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	EXPECT_EQ(-1, w.gsi[nq - 1]);
	vnl_backend_raise(&f.be, 1ULL << (nq - 1), false);
	EXPECT_TRUE(pending_soon(&p, nq));
	EXPECT_EQ(0, w.err);
	pci_wire_stop(&w);
	EXPECT_FALSE(kick_at(&vm, probe, n + 4 * (nq - 1), nq - 1));
	vnl_pci_destroy(&p);
	pci_wire_fini(&w);
	for (unsigned int q = 0; q < nq; q++)
		close(f.be.kick_fd[q]);
	close(probe);
	vm_destroy(&vm);
}

TEST_HARNESS_MAIN
