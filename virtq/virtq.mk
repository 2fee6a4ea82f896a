# The driver side of a split virtqueue (virtq/), hosted, for the programs
# that play the guest: the module selftests, the stats traffic tool, the
# engine unit tests and the benchmark link $(VIRTQ_OBJ). The built-in guest
# builds its own, freestanding (user/guest/guest.mk).

$(VIRTQ_OBJ): virtq/virtq.c $(VIRTQ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -c -o $@ $<
