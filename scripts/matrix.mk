# The kernel matrix (scripts/matrix.sh, check step 60-matrix): the module
# and the userspace built with the toolchains of Debian bookworm, trixie and
# sid, and the module's selftests on each release's own kernel in the rig.
# See Documentation/kernels.rst.
#
#   make matrix                    every release (MATRIX_RELEASES to choose)
#
# The lists below are read at recipe time, so the fragments included after
# this one have defined them.

MATRIX_RELEASES ?=

# What each release's gcc and clang must build warning-free: the program,
# every test program, the benchmark and the Linux guest's traffic tool. Not
# the fuzzer (it needs that release's libclang-rt) nor the guest kernel.
MATRIX_USER = $(B)/vnetloop engine-tests selftests-kmod stats-tests \
	      vmm-tests $(BENCH_BIN) $(GUEST_LINUX_B)/vnetloop-traffic

.PHONY: matrix matrix-userspace matrix-kmod-tests

matrix: selftests-kmod
	@scripts/matrix.sh $(MATRIX_RELEASES)

matrix-userspace:
	@$(MAKE) --no-print-directory $(MATRIX_USER)

# The module's selftests, which the matrix boots each kernel with.
matrix-kmod-tests:
	@echo $(KST_BINS)
