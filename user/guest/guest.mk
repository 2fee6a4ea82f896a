# The built-in test guest: freestanding x86-64 C and asm, linked at 1 MiB
# into a flat binary and embedded into the vnetloop program (GUEST_OBJS,
# linked by user/user.mk). Its rings are the shared driver's, virtq/, built
# here freestanding. The kernel's uapi headers (<linux/virtio_*.h>, from the
# system's include path) are plain types and constants, so the guest
# includes them as they are.
GUEST_B      := $(B)/guest
GUEST_CSRCS  := $(sort $(wildcard user/guest/*.c))
GUEST_IOBJS  := $(GUEST_CSRCS:user/guest/%.c=$(GUEST_B)/%.o) \
		$(GUEST_B)/entry.o $(GUEST_B)/virtq.o
GUEST_HDRS   := $(wildcard user/guest/*.h user/abi/*.h) $(VIRTQ_HDRS) \
		include/vnetloop/frame.h
GUEST_CFLAGS := -std=gnu11 -O2 -I. -Wall -Wextra -Werror -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes \
		-ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
		-mno-red-zone -mgeneral-regs-only -mcmodel=small \
		-fno-stack-protector -fno-asynchronous-unwind-tables \
		-fcf-protection=none
# gcc's loop-to-memset pass; clang has no such option (and -fno-builtin
# keeps its own equivalent off).
GUEST_CFLAGS += $(shell $(CC) -fno-tree-loop-distribute-patterns -E -x c \
		/dev/null >/dev/null 2>&1 && echo -fno-tree-loop-distribute-patterns)
GUEST_OBJS   := $(GUEST_B)/blob.o

$(GUEST_B)/%.o: user/guest/%.c $(GUEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_B)/virtq.o: virtq/virtq.c $(GUEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_B)/entry.o: user/guest/entry.S
	@mkdir -p $(@D)
	$(CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_B)/guest.elf: $(GUEST_IOBJS) user/guest/guest.lds
	$(LD) -m elf_x86_64 -nostdlib -static -z noexecstack --no-warn-rwx-segments \
		-T user/guest/guest.lds -o $@ $(GUEST_IOBJS)

$(GUEST_B)/guest.bin: $(GUEST_B)/guest.elf
	objcopy -O binary $< $@

$(GUEST_B)/blob.o: user/guest/blob.S $(GUEST_B)/guest.bin
	$(CC) -c -DGUEST_BIN='"$(GUEST_B)/guest.bin"' -o $@ $<
