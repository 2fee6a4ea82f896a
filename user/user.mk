# The vnetloop program, plus the engine and the built-in guest image
# (user/guest/guest.mk provides GUEST_OBJS, may be empty):
#   user/main.c  the entry       user/cmd/  the subcommands and their output
#   user/nl/     netlink client  user/vmm/  the VM, vCPUs, x86 and boot setup
#   user/dev/    virtio-mmio and its backends (module, thread, inline)
#   user/abi/    what the VMM and the built-in guest share
# user/cmd/print.c is the one output path (text or JSON, json.c writes the
# JSON); user/nl/ (NL_CLIENT_OBJS) is linked by the selftests too.
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS   := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
USER_SRCS := user/main.c $(sort $(wildcard user/cmd/*.c user/nl/*.c \
		user/vmm/*.c user/dev/*.c))
USER_HDRS := $(wildcard user/*.h user/cmd/*.h user/nl/*.h user/vmm/*.h \
		user/dev/*.h user/abi/*.h)
USER_OBJS := $(USER_SRCS:%.c=$(B)/%.o)
GUEST_OBJS ?=

# CPPFLAGS, CFLAGS and LDFLAGS, empty unless set, come last: a packager's
# flags (debian/rules: dpkg-buildflags' hardening) add to ours.
$(USER_OBJS): $(B)/user/%.o: user/%.c $(USER_HDRS) $(ENGINE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(NL_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/vnetloop: $(USER_OBJS) $(GUEST_OBJS) $(B)/libvnlengine.a
	$(CC) $(LDFLAGS) -o $@ $(USER_OBJS) $(GUEST_OBJS) $(B)/libvnlengine.a $(NL_LIBS) -lpthread

all: $(B)/vnetloop

# `make install`/`make uninstall` (scripts/package.mk) install the list.
INSTALL_FILES += 0755:$(B)/vnetloop:$(PREFIX)/bin/vnetloop
install: $(B)/vnetloop
