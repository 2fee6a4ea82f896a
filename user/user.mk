# The vnetloop program: every user/*.c, plus the engine and the built-in
# guest image (user/guest/guest.mk provides GUEST_OBJS, may be empty).
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS   := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
USER_SRCS := $(sort $(wildcard user/*.c))
USER_OBJS := $(USER_SRCS:%.c=$(B)/%.o)
GUEST_OBJS ?=

# CPPFLAGS, CFLAGS and LDFLAGS, empty unless set, come last: a packager's
# flags (debian/rules: dpkg-buildflags' hardening) add to ours.
$(B)/user/%.o: user/%.c $(wildcard user/*.h) $(ENGINE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(NL_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/vnetloop: $(USER_OBJS) $(GUEST_OBJS) $(B)/libvnlengine.a
	$(CC) $(LDFLAGS) -o $@ $(USER_OBJS) $(GUEST_OBJS) $(B)/libvnlengine.a $(NL_LIBS) -lpthread

all: $(B)/vnetloop

# `make install`/`make uninstall` (scripts/package.mk) install the list.
INSTALL_FILES += 0755:$(B)/vnetloop:$(PREFIX)/bin/vnetloop
install: $(B)/vnetloop
