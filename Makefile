# vnetloop: top-level build. `make` builds everything that exists here,
# `make check` is the one test command (README), `make modules` the module.
#
# Each area keeps its rules in its own fragment (*/*.mk), included below.

CACHE	?= $(HOME)/.cache/vnetloop
B	:= build
CC	?= gcc
CLANG	?= clang
# KVER/KDIR may be given; otherwise they are found when the module is built,
# not when make starts: on a fresh machine the headers arrive with deps.
KVER	?=
KDIR	?=
PREFIX	?= /usr/local

USER_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	       -Wshadow -Wstrict-prototypes -Wmissing-prototypes -I.
ENGINE_SRCS := core/vnl_engine.c core/vnl_ctrl.c core/vnl_mem.c
# The netlink client (user/nl/, built by user/user.mk), which the module
# selftests and the VMM tests link too: named here, before the fragments.
NL_CLIENT_OBJS := $(B)/user/nl/parse.o $(B)/user/nl/transport.o
# The driver side of a split virtqueue (virtq/, built by virtq/virtq.mk),
# which every program that plays the guest links: named here too.
VIRTQ_OBJ  := $(B)/virtq/virtq.o
VIRTQ_HDRS := virtq/virtq.h include/uapi/vnetloop.h

export CACHE

.PHONY: all modules check fuzz bench demo install clean deps
all:

deps:
	@scripts/deps.sh

include $(sort $(wildcard */*.mk */*/*.mk))

# The kernel build tree, at recipe time: KDIR, or KVER's, or scripts/kver.sh.
kdir = $${KDIR:-/lib/modules/$${KVER:-$$(scripts/kver.sh)}/build}

modules:
	+@kdir=$(kdir); [ -d "$$kdir" ] || { \
		echo "make modules: no kernel build tree at $$kdir (make deps installs linux-headers-amd64)" >&2; \
		exit 1; }; \
	$(MAKE) -C "$$kdir" M=$(CURDIR) modules

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/check.sh

clean:
	rm -rf $(B)
	-+@kdir=$(kdir); [ ! -d "$$kdir" ] || \
		$(MAKE) -C "$$kdir" M=$(CURDIR) clean >/dev/null 2>&1
