# The ring engine, built for userspace (tests, fuzzing, benchmarks, VMM).
ENGINE_OBJS := $(ENGINE_SRCS:%.c=$(B)/%.o)
ENGINE_HDRS := $(wildcard core/*.h include/vnetloop/*.h) include/uapi/vnetloop.h

$(B)/core/%.o: core/%.c $(ENGINE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c -o $@ $<

$(B)/libvnlengine.a: $(ENGINE_OBJS)
	$(AR) rcs $@ $^

all: $(B)/libvnlengine.a
