#!/bin/sh
# Run the vnetloop.ko selftest programs given as arguments, one after the
# other, and merge their TAP into one stream (selftests/tap.sh: each
# program's results under its name; exit 4 with no results is a skip).
# Exits 1 if any failed.
#
#   VNL_TEST_TIMEOUT  seconds per program (default 300)
timeout=${VNL_TEST_TIMEOUT:-300}
. "${0%/*}/../tap.sh"
echo "TAP version 13"
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	name=${t##*/}
	if [ ! -x "$t" ]; then
		not_ok "$name: missing $t"
		continue
	fi
	timeout -k 10 "$timeout" "$t" >"$log" 2>&1
	rc=$?
	why=
	[ "$rc" -eq 124 ] && why="timed out after ${timeout}s"
	tap_sub "$name" "$rc" "$why" <"$log"
done
echo "1..$n"
[ "$fails" -eq 0 ]
