# `make demo`: install, build, boot the rig and run the built-in guest on the
# kmod backend (scripts/demo.sh). GUEST=linux boots the Linux guest instead.
GUEST ?= builtin
demo:
	@GUEST=$(GUEST) scripts/demo.sh
