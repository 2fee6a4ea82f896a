# The vnetloop(8) man page, installed with the program (`make install` and
# `make uninstall`, scripts/package.mk).
MAN8DIR ?= $(PREFIX)/share/man/man8

INSTALL_FILES += 0644:Documentation/vnetloop.8:$(MAN8DIR)/vnetloop.8
