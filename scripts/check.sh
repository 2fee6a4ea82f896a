#!/bin/bash
# The test runner behind `make check`. Runs every step in scripts/check.d/ in
# name order; each step prints TAP (kselftest style) on stdout. A step counts
# results as selftests/tap.sh's tap_count does (a "# SKIP" directive counts
# as skipped, a "not ok" with "# TODO" as no failure); a step
# that exits non-zero without reporting a failure counts as one failure, and
# exit 4 with no results as one skip. Ends with the plain summary line.
# Arguments: the steps to run (default: all of scripts/check.d/).
set -u
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=selftests/tap.sh
. selftests/tap.sh
pass=0 fail=0 skip=0
log=build/check.log
mkdir -p build
: >"$log"

run_step() {
	local step=$1 out rc p=0 f=0 s=0
	echo "# ---- ${step##*/}"
	out=$(mktemp)
	"$step" 2>&1 | tee "$out" | tee -a "$log"
	rc=${PIPESTATUS[0]}
	read -r p f s <<<"$(tap_count "$out")"
	rm -f "$out"
	if [ "$rc" -eq 4 ] && [ $((p + f + s)) -eq 0 ]; then
		s=1
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - ${step##*/} exited with status $rc"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(scripts/check.d/*)
for step in "${steps[@]}"; do
	[ -x "$step" ] || continue
	# VNL_CHECK_EXCLUDE="STEP..." leaves steps out, each one a SKIP that
	# says why (VNL_CHECK_EXCLUDE_WHY): the fresh-machine check runs
	# make check inside a chroot, where the chroot-making steps would nest.
	case " ${VNL_CHECK_EXCLUDE:-} " in
	*" ${step##*/} "*)
		echo "# ---- ${step##*/}"
		echo "ok 1 ${step##*/} # SKIP ${VNL_CHECK_EXCLUDE_WHY:-left out by VNL_CHECK_EXCLUDE}"
		skip=$((skip + 1))
		continue ;;
	esac
	run_step "$step"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
