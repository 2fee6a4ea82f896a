# The vnetloop program: every user/*.c, plus the engine and the built-in
# guest image (user/guest/guest.mk provides GUEST_OBJS, may be empty).
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS   := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
USER_SRCS := $(sort $(wildcard user/*.c))
USER_OBJS := $(USER_SRCS:%.c=$(B)/%.o)
GUEST_OBJS ?=

$(B)/user/%.o: user/%.c $(wildcard user/*.h) $(ENGINE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) $(NL_CFLAGS) -c -o $@ $<

$(B)/vnetloop: $(USER_OBJS) $(GUEST_OBJS) $(B)/libvnlengine.a
	$(CC) -o $@ $(USER_OBJS) $(GUEST_OBJS) $(B)/libvnlengine.a $(NL_LIBS) -lpthread

all: $(B)/vnetloop

install: $(B)/vnetloop
	install -D -m 0755 $(B)/vnetloop $(DESTDIR)$(PREFIX)/bin/vnetloop
