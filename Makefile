# vnetloop: top-level build. `make` builds everything that exists here,
# `make check` is the one test command (README), `make modules` the module.
#
# Each area keeps its rules in its own fragment (*/*.mk), included below.

CACHE	?= $(HOME)/.cache/vnetloop
B	:= build
CC	?= gcc
CLANG	?= clang
KVER	?= $(shell scripts/kver.sh 2>/dev/null)
KDIR	?= /lib/modules/$(KVER)/build
PREFIX	?= /usr/local

USER_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	       -Wshadow -Wstrict-prototypes -Wmissing-prototypes -I.
ENGINE_SRCS := core/vnl_engine.c core/vnl_mem.c

export CACHE KVER KDIR

.PHONY: all modules check fuzz bench demo install clean deps
all:

deps:
	@scripts/deps.sh

include $(sort $(wildcard */*.mk */*/*.mk))

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/check.sh

clean:
	rm -rf $(B)
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null 2>&1
