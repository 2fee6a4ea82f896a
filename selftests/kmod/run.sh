#!/bin/sh
# Run the vnetloop.ko selftest programs given as arguments, one after the
# other, the way the kselftest runner does: one TAP line per program, its own
# TAP indented as comments; exit 4 counts as a skip. Exits 1 if any failed.
#
#   VNL_TEST_TIMEOUT  seconds per program (default 300)
timeout=${VNL_TEST_TIMEOUT:-300}
n=0 failed=0
echo "TAP version 13"
echo "1..$#"
for t in "$@"; do
	n=$((n + 1))
	name=${t##*/}
	echo "# selftests: vnetloop: $name"
	if [ ! -x "$t" ]; then
		echo "not ok $n selftests: vnetloop: $name # missing $t"
		failed=1
		continue
	fi
	# Stream the output as it comes; the status goes through a file.
	rcfile=$(mktemp)
	log=$(mktemp)
	{
		timeout -k 10 "$timeout" "$t" 2>&1
		echo $? >"$rcfile"
	} | while IFS= read -r line; do echo "# $line"; done | tee "$log"
	rc=$(cat "$rcfile")
	why=$(sed -n 's/^# 1\.\.0 # SKIP //p' "$log" | head -n 1)
	rm -f "$rcfile" "$log"
	case $rc in
	0) echo "ok $n selftests: vnetloop: $name" ;;
	4) echo "ok $n selftests: vnetloop: $name # SKIP $why" ;;
	124) echo "not ok $n selftests: vnetloop: $name # TIMEOUT ${timeout}s"
	     failed=1 ;;
	*) echo "not ok $n selftests: vnetloop: $name # exit=$rc"
	   failed=1 ;;
	esac
done
exit $failed
