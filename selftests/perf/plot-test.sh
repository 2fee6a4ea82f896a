#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The performance suite's plotting half on the host: scripts/perf/plot.sh
# on a small RESULTS.csv and ENGINE.csv written here (two rounds, the four
# backends, two frame sizes, two batches, both modes, some fields empty),
# the medians and ratios of its summary.txt against values worked out by
# hand, its refusal of a CSV without a column, and vnl_bench --csv (a
# quick run: -r 1 -t 1). Runs in a few seconds; the plot checks skip when
# gnuplot is missing.
#
# usage: plot-test.sh [VNL_BENCH] (default build/bench/vnl_bench)
# shellcheck source=selftests/tap.sh
. "${0%/*}/../tap.sh"
root=${0%/*}/../..
plot=$root/scripts/perf/plot.sh
bench=${1:-$root/build/bench/vnl_bench}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"

# RESULTS.csv, columns in an order of their own and one extra. The device
# us/frame is BACKEND x SIZE x BATCH x ROUND: kmod 1, vhost-net 2,
# thread 1.5, inline 3; 64 B 1, 1500 B 4; batch 32 1, batch 1 3; round 1
# 1.0, round 2 1.2. So at 64 B, batch 32, in either mode, the medians are
# kmod 1.1 (1..1.2), vhost-net 2.2, thread 1.65: kmod/vhost-net 0.500,
# kmod/thread 0.667. Guest-less rows have no guest, exit or irq figures;
# inline has no irq count; inline's guest 1500 B batch 32 round 2 has no
# device figure, so its median is round 1's alone: 12 (12..12).
awk 'BEGIN {
	OFS = ","
	print "round,backend,mode,where,frame_size,batch,event_idx,queue_pairs,frames,frames_per_s,device_us_per_frame,guest_us_per_frame,exits_per_frame,irqs_per_frame,erms,note"
	split("kmod vhost-net thread inline", be, " ")
	split("1 2 1.5 3", bf, " ")
	split("guest-less guest", modes, " ")
	for (r = 1; r <= 2; r++)
	for (m = 1; m <= 2; m++)
	for (b = 1; b <= 4; b++)
	for (s = 64; s; s = s == 64 ? 1500 : 0)
	for (k = 1; k; k = k == 1 ? 32 : 0) {
		dev = bf[b] * (s == 64 ? 1 : 4) * (k == 32 ? 1 : 3) * (r == 1 ? 1.0 : 1.2)
		guest = exits = irqs = ""
		if (modes[m] == "guest") {
			guest = sprintf("%.3f", 2 * dev)
			exits = sprintf("%.4f", 1 / k + r / 100)
			if (be[b] != "inline")
				irqs = sprintf("%.4f", 0.5 / k)
		}
		devs = sprintf("%.3f", dev)
		if (be[b] == "inline" && modes[m] == "guest" && s == 1500 &&
		    k == 32 && r == 2)
			devs = ""
		print r, be[b], modes[m], "rig", s, k, 1, 1, 100000,
		      sprintf("%.1f", 1e6 / (dev + (guest == "" ? 0 : guest))),
		      devs, guest, exits, irqs, "on", "synthetic"
	}
}' >"$tmp/results.csv"
cat >"$tmp/engine.csv" <<EOF
frame_size,batch,engine_ns_per_frame,engine_mframes_per_s,memcpy_ns_per_frame,pct_of_memcpy
64,1,40.00,25.000,2.00,5.00
64,32,8.00,125.000,2.00,25.00
1500,1,60.00,16.667,24.00,40.00
1500,32,27.00,37.037,24.00,88.89
EOF

if ! command -v gnuplot >/dev/null; then
	ok "plot.sh draws the five plots # SKIP no gnuplot (Debian package gnuplot-nox)"
else
	"$plot" "$tmp/results.csv" "$tmp/engine.csv" "$tmp/out" \
		>"$tmp/plot.out" 2>&1
	rc=$?
	result "$rc" "plot.sh on two rounds of four backends, two sizes, two batches, both modes: exit 0" \
		"exit $rc: $(tr '\n' '|' <"$tmp/plot.out")"
	for p in us-per-frame device-us-per-frame fps-vs-batch \
		 exits-irqs-vs-batch engine; do
		f=$tmp/out/$p.png
		magic=$(od -An -tx1 -N8 "$f" 2>/dev/null | tr -d ' \n')
		size=$(wc -c <"$f" 2>/dev/null || echo 0)
		[ "$magic" = 89504e470d0a1a0a ] && [ "$size" -gt 1024 ]
		result $? "$p.png is a PNG of more than 1 KiB" \
			"magic '$magic', $size bytes"
	done

	s=$tmp/out/summary.txt
	v=$(awk '$1 == "kmod" && $2 == "guest-less" && $3 == 64 && $4 == 32 { print $6, $7 }' "$s" 2>/dev/null)
	[ "$v" = "1.1 1..1.2" ]
	result $? "summary.txt: kmod guest-less 64 B batch 32: median device us/frame 1.1, 1..1.2 ($v)"
	v=$(awk '$1 == "inline" && $2 == "guest" && $3 == 1500 && $4 == 32 { print $6, $7 }' "$s" 2>/dev/null)
	[ "$v" = "12 12..12" ]
	result $? "summary.txt: an empty device field is left out of its group's median ($v)"
	v=$(awk '$1 == "guest-less" && NF == 3 { print $2, $3 }' "$s" 2>/dev/null)
	[ "$v" = "0.500 0.667" ]
	result $? "summary.txt: guest-less kmod/vhost-net 0.500 and kmod/thread 0.667 ($v)"

	# The same rows without irqs_per_frame (the 14th column).
	cut -d, -f1-13,15- "$tmp/results.csv" >"$tmp/nocol.csv"
	"$plot" "$tmp/nocol.csv" "$tmp/engine.csv" "$tmp/out2" \
		>"$tmp/plot.out" 2>&1
	rc=$?
	[ "$rc" -eq 2 ] && grep -q 'nocol.csv.*irqs_per_frame' "$tmp/plot.out"
	result $? "plot.sh: a CSV without irqs_per_frame is exit 2, naming the file and the column" \
		"exit $rc: $(tr '\n' '|' <"$tmp/plot.out")"
fi

if [ ! -x "$bench" ]; then
	ok "vnl_bench --csv # SKIP $bench not built (make build/bench/vnl_bench)"
else
	"$bench" --csv -r 1 -t 1 >"$tmp/bench.csv" 2>"$tmp/bench.err"
	rc=$?
	[ "$rc" -eq 0 ] &&
	[ "$(sed -n 1p "$tmp/bench.csv")" = "frame_size,batch,engine_ns_per_frame,engine_mframes_per_s,memcpy_ns_per_frame,pct_of_memcpy" ] &&
	grep -Eq '^[0-9]+,[0-9]+(,[0-9]+\.[0-9]+){4}$' "$tmp/bench.csv"
	result $? "vnl_bench --csv -r 1 -t 1: the header and numeric rows" \
		"exit $rc: $(head -3 "$tmp/bench.csv" "$tmp/bench.err" | tr '\n' '|')"
	"$bench" --no-such-option >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ]
	result $? "vnl_bench: an unknown option is exit 2 ($rc)"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
