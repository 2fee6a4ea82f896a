# Installing: `make install`/`make uninstall`, DKMS and the Debian packages
# (Documentation/packaging.rst).
#
#   make install [PREFIX=/usr/local] [DESTDIR=]   the program and its man page
#   make uninstall [PREFIX=...] [DESTDIR=...]     removes them, and the
#                      directories install created (see INSTALL_MANIFEST)
#   make dkms-install      module source into /usr/src/vnetloop-VERSION, then
#                          dkms add and dkms install for every kernel with
#                          headers (root)
#   make dkms-uninstall    dkms remove --all and the source directory
#   make dkms-source [DESTDIR=...]   only the source directory (debian/rules)
#   make deb               vnetloop and vnetloop-dkms .debs into $(B)/deb/
#
# Other fragments add what `make install` installs:
#   INSTALL_FILES += MODE:SOURCE:DESTINATION   (an absolute path, without DESTDIR)
# and make `install` depend on the sources they build.

PKG_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRCDIR  = /usr/src/vnetloop-$(PKG_VERSION)
# What DKMS builds vnetloop.ko from (Kbuild lists the objects).
DKMS_SRCS    = dkms.conf Kbuild $(sort $(wildcard kmod/*.c kmod/*.h)) \
	       $(ENGINE_SRCS) $(sort $(wildcard core/*.h)) include/uapi/vnetloop.h \
	       $(sort $(wildcard include/vnetloop/*.h))
# Lists what install installed and the directories it had to create, so
# that uninstall removes exactly those (scripts/package-install.sh).
INSTALL_MANIFEST ?= $(PREFIX)/share/vnetloop/installed

.PHONY: install uninstall dkms-source dkms-install dkms-uninstall deb

install:
	@scripts/package-install.sh install "$(DESTDIR)" "$(INSTALL_MANIFEST)" \
		$(INSTALL_FILES)

uninstall:
	@scripts/package-install.sh uninstall "$(DESTDIR)" "$(INSTALL_MANIFEST)" \
		$(INSTALL_FILES)

dkms-source:
	@scripts/package-dkms.sh source "$(DESTDIR)" $(PKG_VERSION) $(DKMS_SRCS)

dkms-install:
	@scripts/package-dkms.sh install "$(DESTDIR)" $(PKG_VERSION) $(DKMS_SRCS)

dkms-uninstall:
	@scripts/package-dkms.sh uninstall "$(DESTDIR)" $(PKG_VERSION)

deb:
	@scripts/package-deb.sh $(B)/deb

# The rig with another build of the module (70-packages: the one DKMS built
# in a fresh chroot): the autoload cases (scripts/package-autoload.sh),
# then the module selftests. KVER must be the module's release (the rig
# boots that kernel).
#   make pkg-rig-initramfs PKG_RIG_MODULE=/path/vnetloop.ko KVER=...
PKG_RIG_MODULE    ?=
PKG_RIG_INITRAMFS ?= $(B)/pkg/rig/initramfs.cpio.gz

.PHONY: pkg-rig-initramfs
.SECONDEXPANSION:
pkg-rig-initramfs: $$(KST_BINS) $(B)/vnetloop scripts/package-autoload.sh \
		selftests/tap.sh
	@test -f "$(PKG_RIG_MODULE)" || { echo "PKG_RIG_MODULE: no module '$(PKG_RIG_MODULE)'" >&2; exit 1; }
	@mkdir -p $(dir $(PKG_RIG_INITRAMFS))
	@echo "  INITRAMFS $(PKG_RIG_INITRAMFS) ($(PKG_RIG_MODULE))"
	@scripts/rig/mkinitramfs.sh -o $(PKG_RIG_INITRAMFS) -m $(PKG_RIG_MODULE) \
		-t "scripts/package-autoload.sh $(KST_BINS)" -f "$(B)/vnetloop selftests/tap.sh"
