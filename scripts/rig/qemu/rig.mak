# The devices of the rig's QEMU (scripts/rig/qemu-build.sh): the pc machine
# (i440FX, with what it selects: PIC, PIT, RTC, ISA serial ports, ACPI) and
# the HPET the stock build adds to it. The rig boots with -nodefaults and
# only serial ports.
CONFIG_I440FX=y
CONFIG_HPET=y
