# The Linux-guest scenario: the guest-side traffic tool, its initramfs
# (static busybox, /init, the tool) and the guest kernel. The kernel build
# takes minutes, so it is a separate target (`make guest-kernel`), cached
# outside the tree by scripts/guest-kernel.sh and linked as
# $(B)/guest-linux/bzImage (and System.map, to look up a hung guest's RIP).
GUEST_LINUX_B       := $(B)/guest-linux
GUEST_LINUX_CFLAGS  := -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
		       -Wshadow -Wstrict-prototypes -Wmissing-prototypes -static -pthread
GUEST_LINUX_BUSYBOX ?= /bin/busybox

$(GUEST_LINUX_B)/vnetloop-traffic: user/guest-linux/vnetloop-traffic.c
	@mkdir -p $(@D)
	$(CC) $(GUEST_LINUX_CFLAGS) -o $@ $<

$(GUEST_LINUX_B)/initramfs.cpio.gz: user/guest-linux/mkinitramfs.sh \
		user/guest-linux/init $(GUEST_LINUX_B)/vnetloop-traffic \
		$(wildcard $(GUEST_LINUX_BUSYBOX))
	@echo "  INITRAMFS $@"
	@user/guest-linux/mkinitramfs.sh $@ user/guest-linux/init \
		$(GUEST_LINUX_B)/vnetloop-traffic $(GUEST_LINUX_BUSYBOX)

.PHONY: guest-kernel
guest-kernel:
	@mkdir -p $(GUEST_LINUX_B)
	@k=$$(scripts/guest-kernel.sh) && ln -sfn "$$k" $(GUEST_LINUX_B)/bzImage && \
		ln -sfn "$${k%/*}/System.map" $(GUEST_LINUX_B)/System.map && \
		echo "  GUEST-KERNEL $(GUEST_LINUX_B)/bzImage -> $$k"

all: $(GUEST_LINUX_B)/initramfs.cpio.gz

# The distribution guest: Debian's own kernel of the rig's release (the
# one scripts/rig/fetch-kernel.sh caches; virtio_pci and virtio_net are
# modules there) with the same /init and tool, and those modules in its
# initramfs. Its NIC must be virtio-pci: the stock kernel has no
# virtio-mmio command-line devices.
GUEST_DISTRO_B := $(B)/guest-distro

# Made every time (the rig's release may have changed), but replaced only
# when different, so what depends on it is not remade for nothing.
.PHONY: guest-distro FORCE
guest-distro: $(GUEST_DISTRO_B)/initramfs.cpio.gz
$(GUEST_DISTRO_B)/vmlinuz: $(GUEST_DISTRO_B)/initramfs.cpio.gz ;
$(GUEST_DISTRO_B)/initramfs.cpio.gz: $(GUEST_LINUX_B)/vnetloop-traffic \
		user/guest-linux/mkinitramfs.sh user/guest-linux/init FORCE
	@mkdir -p $(@D)
	@root=$$(scripts/rig/fetch-kernel.sh) && kver=$$(scripts/kver.sh) && \
		user/guest-linux/mkinitramfs.sh -k "$$root/lib/modules/$$kver" \
			$@.new user/guest-linux/init \
			$(GUEST_LINUX_B)/vnetloop-traffic $(GUEST_LINUX_BUSYBOX) && \
		if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@ && \
			echo "  GUEST-DISTRO $(@D): $$kver"; fi && \
		ln -sfn "$$root/boot/vmlinuz-$$kver" $(@D)/vmlinuz
