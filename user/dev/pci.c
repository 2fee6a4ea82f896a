// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci function: configuration space and BAR decoding.
 * Decisions (also in Documentation/vmm.rst):
 * - configuration space is an image with a mask of the bits the driver may
 *   write: command (memory, bus master, INTx disable), the two BARs, the
 *   interrupt line, MSI-X enable and function mask, and the fields of the
 *   VIRTIO_PCI_CAP_PCI_CFG window; everything else is read-only;
 * - the BARs are 32-bit, non-prefetchable memory BARs; writing all ones
 *   reads back the size mask, as the sizing protocol expects, and a BAR
 *   that reads as 0 or as its mask is unplaced;
 * - a BAR decodes only while PCI_COMMAND_MEMORY is set; the VMM is told
 *   (ops->bars) whenever either changes, to move its ioeventfds;
 * - the VIRTIO_PCI_CAP_PCI_CFG window reaches BAR0 and BAR1 with 1, 2 or
 *   4-byte accesses; anything else reads 0.
 */
#include <string.h>

#include "user/dev/pci_priv.h"

static const uint32_t vnl_bar_size[VNL_PCI_NR_BARS] = {
	[VNL_PCI_BAR_VIRTIO] = VNL_PCI_VIRTIO_SIZE,
	[VNL_PCI_BAR_MSIX] = VNL_PCI_MSIX_SIZE,
};

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v;
	b[1] = v >> 8;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v);
	put16(b + 2, v >> 16);
}

/* A virtio capability at off: type, where in BAR0, how long. */
static void vnl_pci_vcap(struct vnl_pci *p, uint8_t off, uint8_t next,
			 uint8_t len, uint8_t type, uint8_t bar,
			 uint32_t where, uint32_t size)
{
	struct virtio_pci_cap c = {
		.cap_vndr = PCI_CAP_ID_VNDR, .cap_next = next, .cap_len = len,
		.cfg_type = type, .bar = bar,
	};

	memcpy(p->cfg + off, &c, sizeof(c));
	put32(p->cfg + off + VIRTIO_PCI_CAP_OFFSET, where);
	put32(p->cfg + off + VIRTIO_PCI_CAP_LENGTH, size);
}

static void vnl_pci_header(struct vnl_pci *p, uint32_t bar_base,
			   uint8_t intx_line)
{
	uint8_t *c = p->cfg;
	uint32_t base = bar_base;

	put16(c + PCI_VENDOR_ID, VNL_PCI_VENDOR);
	put16(c + PCI_DEVICE_ID, VNL_PCI_DEVICE);
	put16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
	put32(c + PCI_CLASS_REVISION, VNL_PCI_CLASS << 8 | VNL_PCI_REVISION);
	c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	put16(c + PCI_SUBSYSTEM_VENDOR_ID, VNL_PCI_VENDOR);
	put16(c + PCI_SUBSYSTEM_ID, VIRTIO_ID_NET);
	c[PCI_CAPABILITY_LIST] = VNL_PCI_CAP_MSIX;
	c[PCI_INTERRUPT_LINE] = intx_line;
	c[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
	for (unsigned int i = 0; i < VNL_PCI_NR_BARS; i++) {
		put32(c + PCI_BASE_ADDRESS_0 + 4 * i, base);
		memset(p->wmask + PCI_BASE_ADDRESS_0 + 4 * i, 0xff, 4);
		base += vnl_bar_size[i];
	}
	put16(p->wmask + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	      PCI_COMMAND_INTX_DISABLE);
	p->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static void vnl_pci_caps(struct vnl_pci *p)
{
	uint8_t *c = p->cfg + VNL_PCI_CAP_MSIX;

	c[PCI_CAP_LIST_ID] = PCI_CAP_ID_MSIX;
	c[PCI_CAP_LIST_NEXT] = VNL_PCI_CAP_COMMON;
	put16(c + PCI_MSIX_FLAGS, p->nvectors - 1);
	put32(c + PCI_MSIX_TABLE, VNL_PCI_MSIX_TABLE_OFF | VNL_PCI_BAR_MSIX);
	put32(c + PCI_MSIX_PBA, VNL_PCI_MSIX_PBA_OFF | VNL_PCI_BAR_MSIX);
	put16(p->wmask + VNL_PCI_CAP_MSIX + PCI_MSIX_FLAGS,
	      PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);

	vnl_pci_vcap(p, VNL_PCI_CAP_COMMON, VNL_PCI_CAP_NOTIFY,
		     sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_COMMON_CFG,
		     VNL_PCI_BAR_VIRTIO, VNL_PCI_COMMON_OFF,
		     sizeof(struct virtio_pci_common_cfg));
	vnl_pci_vcap(p, VNL_PCI_CAP_NOTIFY, VNL_PCI_CAP_ISR,
		     sizeof(struct virtio_pci_notify_cap),
		     VIRTIO_PCI_CAP_NOTIFY_CFG, VNL_PCI_BAR_VIRTIO,
		     VNL_PCI_NOTIFY_OFF,
		     p->dev.nqueues * VNL_PCI_NOTIFY_MULT);
	put32(p->cfg + VNL_PCI_CAP_NOTIFY + sizeof(struct virtio_pci_cap),
	      VNL_PCI_NOTIFY_MULT);
	vnl_pci_vcap(p, VNL_PCI_CAP_ISR, VNL_PCI_CAP_DEVCFG,
		     sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_ISR_CFG,
		     VNL_PCI_BAR_VIRTIO, VNL_PCI_ISR_OFF, 1);
	vnl_pci_vcap(p, VNL_PCI_CAP_DEVCFG, VNL_PCI_CAP_PCICFG,
		     sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_DEVICE_CFG,
		     VNL_PCI_BAR_VIRTIO, VNL_PCI_DEVCFG_OFF,
		     p->dev.be->config_size);
	/* The window the spec requires: bar, offset, length and data. */
	vnl_pci_vcap(p, VNL_PCI_CAP_PCICFG, 0,
		     sizeof(struct virtio_pci_cfg_cap), VIRTIO_PCI_CAP_PCI_CFG,
		     0, 0, 0);
	p->wmask[VNL_PCI_CAP_PCICFG + VIRTIO_PCI_CAP_BAR] = 0xff;
	memset(p->wmask + VNL_PCI_CAP_PCICFG + VIRTIO_PCI_CAP_OFFSET, 0xff, 12);
}

void vnl_pci_init(struct vnl_pci *p, struct vnl_backend *be,
		  uint64_t features, const struct vnl_pci_ops *ops, void *ctx,
		  uint32_t bar_base, uint8_t intx_line)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	vnl_vdev_init(&p->dev, be, features);
	p->nvectors = VNL_PCI_VECTORS_OF(p->dev.nqueues);
	p->ops = ops;
	p->ctx = ctx;
	vnl_pci_header(p, bar_base, intx_line);
	vnl_pci_caps(p);
	vnl_pci_virtio_clear(p);
	vnl_pci_msix_init(p);
}

void vnl_pci_destroy(struct vnl_pci *p)
{
	pthread_mutex_destroy(&p->lock);
}

bool vnl_pci_bar(const struct vnl_pci *p, unsigned int bar, uint64_t *addr,
		 uint64_t *size)
{
	uint32_t mask, v;

	if (bar >= VNL_PCI_NR_BARS ||
	    !(cfg16(p, PCI_COMMAND) & PCI_COMMAND_MEMORY))
		return false;
	mask = ~(vnl_bar_size[bar] - 1);
	v = cfg32(p, PCI_BASE_ADDRESS_0 + 4 * bar) & PCI_BASE_ADDRESS_MEM_MASK;
	if (!v || v == mask)
		return false;
	*addr = v;
	*size = vnl_bar_size[bar];
	return true;
}

static void vnl_pci_bar_io(struct vnl_pci *p, unsigned int bar, uint64_t off,
			   uint8_t *d, uint32_t len, bool write,
			   unsigned int *slot)
{
	if (bar == VNL_PCI_BAR_VIRTIO && off < VNL_PCI_VIRTIO_SIZE) {
		if (write)
			vnl_pci_virtio_write(p, off, d, len, slot);
		else
			vnl_pci_virtio_read(p, off, d, len, slot);
		return;
	}
	if (bar == VNL_PCI_BAR_MSIX && off < VNL_PCI_MSIX_SIZE) {
		if (write)
			vnl_pci_msix_write(p, off, d, len, slot);
		else
			vnl_pci_msix_read(p, off, d, len, slot);
		return;
	}
	*slot = VNL_PCI_SLOT_OTHER;
	if (!write)
		memset(d, 0xff, len);
}

void vnl_pci_bar_read(struct vnl_pci *p, unsigned int bar, uint64_t off,
		      void *data, uint32_t len)
{
	unsigned int slot;

	pthread_mutex_lock(&p->lock);
	vnl_pci_bar_io(p, bar, off, data, len, false, &slot);
	pthread_mutex_unlock(&p->lock);
}

void vnl_pci_bar_write(struct vnl_pci *p, unsigned int bar, uint64_t off,
		       const void *data, uint32_t len)
{
	uint8_t d[8];
	unsigned int slot;

	if (len > sizeof(d))
		return;
	memcpy(d, data, len);
	pthread_mutex_lock(&p->lock);
	vnl_pci_bar_io(p, bar, off, d, len, true, &slot);
	pthread_mutex_unlock(&p->lock);
}

bool vnl_pci_mmio(struct vnl_pci *p, uint64_t addr, void *data, uint32_t len,
		  bool write, unsigned int *slot)
{
	uint64_t base, size;
	uint8_t d[8];
	bool hit = false;

	if (len > sizeof(d))
		return false;
	if (write)
		memcpy(d, data, len);
	pthread_mutex_lock(&p->lock);
	for (unsigned int i = 0; i < VNL_PCI_NR_BARS && !hit; i++) {
		if (!vnl_pci_bar(p, i, &base, &size) || addr < base ||
		    addr - base >= size)
			continue;
		vnl_pci_bar_io(p, i, addr - base, d, len, write, slot);
		hit = true;
	}
	pthread_mutex_unlock(&p->lock);
	if (hit && !write)
		memcpy(data, d, len);
	return hit;
}

/* The VIRTIO_PCI_CAP_PCI_CFG window: a BAR access through config space. */
static void vnl_pci_cfg_window(struct vnl_pci *p, bool write)
{
	uint32_t at = VNL_PCI_CAP_PCICFG;
	uint8_t bar = p->cfg[at + VIRTIO_PCI_CAP_BAR];
	uint32_t off = cfg32(p, at + VIRTIO_PCI_CAP_OFFSET);
	uint32_t len = cfg32(p, at + VIRTIO_PCI_CAP_LENGTH);
	uint8_t *data = p->cfg + at + sizeof(struct virtio_pci_cap);
	unsigned int slot;

	if ((len != 1 && len != 2 && len != 4) || bar >= VNL_PCI_NR_BARS) {
		if (!write)
			memset(data, 0, 4);
		return;
	}
	vnl_pci_bar_io(p, bar, off, data, len, write, &slot);
}

static bool vnl_pci_cfg_ok(uint32_t off, uint32_t len)
{
	return (len == 1 || len == 2 || len == 4) && off < VNL_PCI_CFG_SIZE &&
	       (off & 3) + len <= 4;
}

static bool vnl_pci_in_window(uint32_t off, uint32_t len)
{
	uint32_t data = VNL_PCI_CAP_PCICFG + sizeof(struct virtio_pci_cap);

	return off < data + 4 && off + len > data;
}

void vnl_pci_cfg_read(struct vnl_pci *p, uint32_t off, void *data,
		      uint32_t len)
{
	if (!vnl_pci_cfg_ok(off, len)) {
		memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (vnl_pci_in_window(off, len))
		vnl_pci_cfg_window(p, false);
	memcpy(data, p->cfg + off, len);
	pthread_mutex_unlock(&p->lock);
}

/* After a write to the BAR registers: keep their size and type bits. */
static void vnl_pci_fix_bars(struct vnl_pci *p)
{
	for (unsigned int i = 0; i < VNL_PCI_NR_BARS; i++) {
		uint32_t at = PCI_BASE_ADDRESS_0 + 4 * i;

		/* 32-bit, non-prefetchable memory: the type bits are 0. */
		put32(p->cfg + at, cfg32(p, at) & ~(vnl_bar_size[i] - 1));
	}
}

void vnl_pci_cfg_write(struct vnl_pci *p, uint32_t off, const void *data,
		       uint32_t len)
{
	uint32_t bars = PCI_BASE_ADDRESS_0, msix = VNL_PCI_CAP_MSIX;
	const uint8_t *d = data;
	uint16_t cmd;

	if (!vnl_pci_cfg_ok(off, len))
		return;
	pthread_mutex_lock(&p->lock);
	cmd = cfg16(p, PCI_COMMAND);
	for (uint32_t i = 0; i < len; i++)
		p->cfg[off + i] = (p->cfg[off + i] & ~p->wmask[off + i]) |
				  (d[i] & p->wmask[off + i]);
	if (off < bars + 4 * VNL_PCI_NR_BARS && off + len > bars)
		vnl_pci_fix_bars(p);
	if (vnl_pci_in_window(off, len))
		vnl_pci_cfg_window(p, true);
	if ((off < bars + 4 * VNL_PCI_NR_BARS && off + len > bars) ||
	    ((cmd ^ cfg16(p, PCI_COMMAND)) & PCI_COMMAND_MEMORY))
		p->ops->bars(p->ctx);
	msix += PCI_MSIX_FLAGS;
	if (((cmd ^ cfg16(p, PCI_COMMAND)) & PCI_COMMAND_INTX_DISABLE) ||
	    (off < msix + 2 && off + len > msix))
		vnl_pci_irqs_changed(p);
	pthread_mutex_unlock(&p->lock);
}

static const char *const vnl_slot_names[VNL_PCI_NR_SLOTS] = {
	"device_feature_select", "device_feature", "guest_feature_select",
	"guest_feature", "msix_config", "num_queues", "device_status",
	"config_generation", "queue_select", "queue_size",
	"queue_msix_vector", "queue_enable", "queue_notify_off",
	"queue_desc", "queue_driver", "queue_device",
	[VNL_PCI_SLOT_ISR]		= "InterruptStatus",
	[VNL_PCI_SLOT_NOTIFY]		= "QueueNotify",
	[VNL_PCI_SLOT_DEVCFG]		= "config",
	[VNL_PCI_SLOT_MSIX_TABLE]	= "msix_table",
	[VNL_PCI_SLOT_MSIX_PBA]		= "msix_pba",
	[VNL_PCI_SLOT_OTHER]		= "bar_other",
};

const char *vnl_pci_slot_name(unsigned int slot)
{
	return slot < VNL_PCI_NR_SLOTS ? vnl_slot_names[slot] : NULL;
}
