// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci NIC's eventfds in KVM. KVM_SET_GSI_ROUTING replaces the
 * whole routing table, so each update writes KVM's default one first (the
 * IOAPIC's 24 pins, the PICs' 16 lines on the same GSIs) and then one MSI
 * route per vector in use. Order matters on a change: irqfds leave a GSI
 * before its route does, and join one after it exists.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "user/vmm/pci_wire.h"
#include "user/vmm/wire.h"

#define PW_IOAPIC_PINS		24
#define PW_PIC_LINES		16
#define PW_ROUTES		(PW_IOAPIC_PINS + PW_PIC_LINES + \
				 VNL_PCI_MAX_VECTORS)

/* "queue 3", "config": for messages. */
static const char *pw_src_name(unsigned int s, char *buf, size_t size)
{
	if (s == VNL_PCI_SRC_CONFIG)
		return "config";
	snprintf(buf, size, "queue %u", s);
	return buf;
}

static void pw_error(struct pci_wire *w, int err)
{
	if (!w->err)
		w->err = err;
}

static int pw_set_routing(struct pci_wire *w)
{
	struct kvm_irq_routing *r;
	struct kvm_irq_routing_entry *e;
	int ret = 0;

	r = calloc(1, sizeof(*r) + PW_ROUTES * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	e = r->entries;
	for (uint32_t gsi = 0; gsi < PW_IOAPIC_PINS; gsi++) {
		*e++ = (struct kvm_irq_routing_entry) {
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC,
				       .pin = gsi },
		};
		if (gsi >= PW_PIC_LINES)
			continue;
		*e++ = (struct kvm_irq_routing_entry) {
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = gsi < 8 ?
				       KVM_IRQCHIP_PIC_MASTER :
				       KVM_IRQCHIP_PIC_SLAVE, .pin = gsi % 8 },
		};
	}
	for (unsigned int v = 0; v < VNL_PCI_MAX_VECTORS; v++) {
		if (!w->msi_set[v])
			continue;
		*e++ = (struct kvm_irq_routing_entry) {
			.gsi = VNL_PCI_MSI_GSI + v, .type = KVM_IRQ_ROUTING_MSI,
			.u.msi = { .address_lo = (uint32_t)w->msi_addr[v],
				   .address_hi = w->msi_addr[v] >> 32,
				   .data = w->msi_data[v] },
		};
	}
	r->nr = e - r->entries;
	if (ioctl(w->vm->vm_fd, KVM_SET_GSI_ROUTING, r))
		ret = vm_ioctl_err("KVM_SET_GSI_ROUTING");
	free(r);
	return ret;
}

static void pw_irqfd(struct pci_wire *w, unsigned int s, int gsi)
{
	char name[16];

	if (w->gsi[s] >= 0 && vm_irqfd(w->vm, w->fd[s], w->gsi[s], false))
		fprintf(stderr, "vnetloop: cannot take the %s interrupt off GSI %d\n",
			pw_src_name(s, name, sizeof(name)), w->gsi[s]);
	w->gsi[s] = -1;
	if (gsi < 0)
		return;
	if (vm_irqfd(w->vm, w->fd[s], gsi, true)) {
		fprintf(stderr, "vnetloop: cannot route the %s interrupt to GSI %d\n",
			pw_src_name(s, name, sizeof(name)), gsi);
		pw_error(w, -EIO);
		return;
	}
	w->gsi[s] = gsi;
}

/* The function's routes into KVM: MSI routes, then irqfds. */
static void pw_irqs(void *ctx)
{
	struct pci_wire *w = ctx;
	int gsi[VNL_PCI_NR_SRCS];
	bool set[VNL_PCI_MAX_VECTORS] = { false }, change = !w->routing_set;
	uint64_t addr[VNL_PCI_MAX_VECTORS] = { 0 };
	uint32_t data[VNL_PCI_MAX_VECTORS] = { 0 };
	uint64_t unrouted = 0, one = 1;
	unsigned int s, v;

	for (s = 0; s < VNL_PCI_NR_SRCS; s++) {
		struct vnl_pci_route r;

		gsi[s] = -1;
		if (w->fd[s] < 0)	/* no such queue */
			continue;
		vnl_pci_route(w->pci, s, &r);
		if (r.kind == VNL_PCI_ROUTE_INTX) {
			gsi[s] = w->intx_gsi;
		} else if (r.kind == VNL_PCI_ROUTE_MSI) {
			v = r.vector;
			gsi[s] = VNL_PCI_MSI_GSI + v;
			set[v] = true;
			addr[v] = r.addr;
			data[v] = r.data;
		}
	}
	for (v = 0; v < VNL_PCI_MAX_VECTORS; v++)
		change |= set[v] != w->msi_set[v] ||
			  addr[v] != w->msi_addr[v] ||
			  data[v] != w->msi_data[v];
	for (s = 0; s < VNL_PCI_NR_SRCS; s++)
		if (w->gsi[s] != gsi[s])
			pw_irqfd(w, s, -1);
	if (change) {
		memcpy(w->msi_set, set, sizeof(set));
		memcpy(w->msi_addr, addr, sizeof(addr));
		memcpy(w->msi_data, data, sizeof(data));
		if (pw_set_routing(w))
			pw_error(w, -EIO);
		w->routing_set = true;
	}
	for (s = 0; s < VNL_PCI_NR_SRCS; s++) {
		if (w->gsi[s] != gsi[s])
			pw_irqfd(w, s, gsi[s]);
		if (w->gsi[s] < 0 && w->fd[s] >= 0)
			unrouted |= 1ULL << s;
	}
	pthread_mutex_lock(&w->lock);
	w->unrouted = unrouted;
	pthread_mutex_unlock(&w->lock);
	if (w->polling && write(w->wake_fd, &one, sizeof(one)) != sizeof(one))
		perror("vnetloop: PCI interrupt poller wake-up");
}

/* The kicks follow BAR0: 2-byte ioeventfds, datamatch the queue. */
static void pw_bars(void *ctx)
{
	struct pci_wire *w = ctx;
	uint64_t addr, size, base = 0;

	if (vnl_pci_bar(w->pci, VNL_PCI_BAR_VIRTIO, &addr, &size))
		base = addr + VNL_PCI_NOTIFY_OFF;
	if (base == w->notify_base || !w->be)
		return;
	if (w->notify_base)
		wire_kicks(w->vm, w->be, w->notify_base, VNL_PCI_NOTIFY_MULT,
			   2, false);
	w->notify_base = 0;
	if (!base)
		return;
	if (wire_kicks(w->vm, w->be, base, VNL_PCI_NOTIFY_MULT, 2, true)) {
		pw_error(w, -EIO);
		return;
	}
	w->notify_base = base;
}

static void pw_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct pci_wire *w = ctx;

	if (vm_signal_msi(w->vm, addr, data))
		pw_error(w, -EIO);
}

/* A pulse, as the irqfd's: the pin is edge-triggered. */
static void pw_intx(void *ctx)
{
	struct pci_wire *w = ctx;

	if (vm_irq_line(w->vm, w->intx_gsi, 1) ||
	    vm_irq_line(w->vm, w->intx_gsi, 0))
		pw_error(w, -EIO);
}

const struct vnl_pci_ops pci_wire_ops = {
	.bars = pw_bars,
	.irqs = pw_irqs,
	.msi = pw_msi,
	.intx = pw_intx,
};

/* Interrupts with no irqfd: pending bits for masked vectors, or nothing. */
static void *pw_poll(void *arg)
{
	struct pci_wire *w = arg;
	struct pollfd p[1 + VNL_PCI_NR_SRCS];
	unsigned int src[VNL_PCI_NR_SRCS], n;
	uint64_t mask;

	pthread_setname_np(pthread_self(), "vnl-msix");
	for (;;) {
		pthread_mutex_lock(&w->lock);
		mask = w->unrouted;
		if (w->stop)
			mask = ~0ULL;
		pthread_mutex_unlock(&w->lock);
		if (mask == ~0ULL)
			break;
		p[0] = (struct pollfd) { .fd = w->wake_fd, .events = POLLIN };
		n = 1;
		for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++) {
			if (!(mask & (1ULL << s)))
				continue;
			src[n - 1] = s;
			p[n++] = (struct pollfd) { .fd = w->fd[s],
						   .events = POLLIN };
		}
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("vnetloop: PCI interrupt poller: poll");
			break;
		}
		if (p[0].revents)
			vnl_eventfd_take(w->wake_fd);
		for (unsigned int i = 1; i < n; i++)
			if (p[i].revents && vnl_eventfd_take(w->fd[src[i - 1]]))
				vnl_pci_signal(w->pci, src[i - 1]);
	}
	return NULL;
}

int pci_wire_init(struct pci_wire *w, struct vm *vm, uint32_t intx_gsi,
		  unsigned int nqueues)
{
	memset(w, 0, sizeof(*w));
	w->vm = vm;
	w->intx_gsi = intx_gsi;
	w->nqueues = nqueues;
	w->wake_fd = -1;
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++)
		w->fd[s] = w->gsi[s] = -1;
	pthread_mutex_init(&w->lock, NULL);
	if (!vm_has_cap(vm, KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING",
			"MSI-X routes") ||
	    !vm_has_cap(vm, KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI",
			"pending MSI-X vectors"))
		return -ENOTSUP;
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0)
		return vm_ioctl_err("eventfd for the PCI interrupt poller");
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++) {
		if (s != VNL_PCI_SRC_CONFIG && s >= nqueues)
			continue;
		w->fd[s] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->fd[s] < 0)
			return vm_ioctl_err("eventfd for a PCI interrupt");
	}
	return 0;
}

int pci_wire_start(struct pci_wire *w, struct vnl_pci *pci,
		   const struct vnl_backend *be)
{
	int ret;

	w->pci = pci;
	w->be = be;
	pthread_mutex_lock(&pci->lock);
	pw_irqs(w);
	pw_bars(w);
	pthread_mutex_unlock(&pci->lock);
	if (w->err)
		return w->err;
	ret = -pthread_create(&w->poller, NULL, pw_poll, w);
	if (ret) {
		fprintf(stderr, "vnetloop: cannot start the PCI interrupt poller: %s\n",
			strerror(-ret));
		return ret;
	}
	w->polling = true;
	return 0;
}

void pci_wire_stop(struct pci_wire *w)
{
	uint64_t one = 1;

	if (w->polling) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_mutex_unlock(&w->lock);
		if (write(w->wake_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(w->poller, NULL);
		else
			perror("vnetloop: PCI interrupt poller: stop");
		w->polling = false;
	}
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++)
		if (w->fd[s] >= 0)
			pw_irqfd(w, s, -1);
	if (w->notify_base && w->be) {
		wire_kicks(w->vm, w->be, w->notify_base, VNL_PCI_NOTIFY_MULT,
			   2, false);
		w->notify_base = 0;
	}
}

void pci_wire_fini(struct pci_wire *w)
{
	for (unsigned int s = 0; s < VNL_PCI_NR_SRCS; s++)
		if (w->fd[s] >= 0)
			close(w->fd[s]);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	pthread_mutex_destroy(&w->lock);
}
