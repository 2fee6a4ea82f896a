#!/bin/bash
# The smoke run of the performance suite (make check's step 57): a tiny
# sweep of scripts/perf.sh, one round, in one rig boot and on the host, and
# checks that what `make perf` reports is there and sane: every data plane
# ran in every mode, each row has the device's CPU per frame, the guest
# runs have KVM's exits and the guest's interrupts over the measured phase,
# the engine table and the plots exist. The numbers themselves are not
# judged (a benchmark's business, Documentation/performance.rst).
# PERF_SMOKE_OUT: where (default build/perf-smoke).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=selftests/tap.sh
. selftests/tap.sh
out=${PERF_SMOKE_OUT:-build/perf-smoke}
csv=$out/results.csv

echo "TAP version 13"
mkdir -p "$out" || exit 1
scripts/perf.sh --smoke --out "$out" >"$out.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || sed 's/^/# /' "$out.log" | tail -n 30
result $rc "perf.sh --smoke: every run, the rig and the plots finished (status $rc; $out.log)"

# col NAME: the column's number in the CSV's header, 0 when absent.
col() {
	head -n 1 "$csv" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1 | head -n 1
}
# rows MODE WHERE BACKEND COLUMN: that column of the runs that succeeded.
rows() {
	local c
	c=$(col "$4")
	[ -n "$c" ] || return 0
	awk -F, -v m="$1" -v w="$2" -v b="$3" -v c="$c" \
	    -v s="$(col status)" '
		NR > 1 && $1 == m && $2 == w && $3 == b && $s == "0" {
			v = $c
			gsub(/"/, "", v)
			print v
		}' "$csv"
}
# positive MODE WHERE BACKEND COLUMN: every such row has a number > 0.
positive() {
	local vals bad
	vals=$(rows "$@")
	bad=$(awk '!($1 + 0 > 0) { n++ } END { print n + 0 }' <<<"$vals")
	[ -n "$vals" ] && [ "$bad" -eq 0 ]
	result $? "$1 $2 $3: $4 > 0 in all $(grep -c . <<<"$vals") runs ($(tr '\n' ' ' <<<"$vals" | cut -c1-80))"
}

for c in mode where backend frame_size batch event_idx queue_pairs round \
	 frames_per_s device_us_per_frame guest_us_per_frame exits_per_frame \
	 irqs_per_frame erms; do
	[ -n "$(col "$c")" ] || missing="${missing-} $c"
done
[ -z "${missing-}" ]
result $? "results.csv has the named columns${missing:+ (missing:$missing)}"

for b in kmod vhost-net thread; do
	positive guest-less rig "$b" device_us_per_frame
done
for b in kmod vhost-net thread inline; do
	positive guest rig "$b" device_us_per_frame
	positive guest rig "$b" exits_per_frame
	positive guest rig "$b" irqs_per_frame
done
for b in thread inline; do
	positive guest host "$b" device_us_per_frame
done
positive guest-less host thread device_us_per_frame

rows_n=$(awk 'NR > 1' "$out/engine.csv" 2>/dev/null | grep -c .)
[ "$rows_n" -gt 0 ]
result $? "engine.csv: $rows_n rows of the engine against memcpy"
for p in us-per-frame device-us-per-frame fps-vs-batch exits-irqs-vs-batch engine; do
	[ "$(head -c 4 "$out/$p.png" 2>/dev/null | od -An -c | tr -d ' ')" = "211PNG" ]
	result $? "$p.png is a PNG"
done
echo "1..$n"
[ "$fails" -eq 0 ]
