# The vnetloop(8) man page, installed with the program.
MAN8DIR ?= $(PREFIX)/share/man/man8

.PHONY: install-man
install-man:
	install -D -m 0644 Documentation/vnetloop.8 $(DESTDIR)$(MAN8DIR)/vnetloop.8

install: install-man
