#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `vnetloop stats` and `vnetloop monitor` against the real module (TAP).
#
# Needs root, vnetloop.ko (loaded, plus its file to reload it: $VNETLOOP_KO,
# ./vnetloop.ko or /lib/modules/$(uname -r)/extra/vnetloop.ko), debugfs and
# jq. Traffic comes from vnl_traffic, which plays the guest driver. The test
# unloads the module for the "not loaded" cases and always loads it again.
# Runs in the rig (busybox sh) and on a test host.

top=$(cd "$(dirname "$0")/../.." && pwd)
VNETLOOP=${VNETLOOP:-$top/build/vnetloop}
T=$top/build/selftests/stats
DBG=/sys/kernel/debug/vnetloop
pids=

echo "TAP version 13"

. "${0%/*}/../tap.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root"
command -v jq >/dev/null || skip_all "needs jq"
# The rig's test output is a tty: keep jq's output free of colour codes.
jq() { command jq -M "$@"; }
[ -x "$VNETLOOP" ] || skip_all "$VNETLOOP not built"
[ -x "$T/vnl_traffic" ] && [ -x "$T/runwith" ] || skip_all "test helpers not built in $T"
[ -d /sys/module/vnetloop ] || skip_all "vnetloop.ko is not loaded"
[ -d "$DBG" ] || skip_all "no $DBG (debugfs not mounted?)"

ko=
for c in "${VNETLOOP_KO:-}" "$top/vnetloop.ko" "/lib/modules/$(uname -r)/extra/vnetloop.ko"; do
	if [ -n "$c" ] && [ -f "$c" ]; then
		ko=$c
		break
	fi
done

# Looking up the netlink family loads the module (its genl family alias):
# the "not loaded" cases switch the kernel's module loader off meanwhile.
modprobe_path=$(cat /proc/sys/kernel/modprobe 2>/dev/null)
autoload() { # on|off
	[ -n "$modprobe_path" ] || return 0
	if [ "$1" = on ]; then
		echo "$modprobe_path" >/proc/sys/kernel/modprobe
	else
		echo >/proc/sys/kernel/modprobe
	fi
}

tmp=$(mktemp -d)
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	autoload on
	[ -d /sys/module/vnetloop ] || { [ -n "$ko" ] && insmod "$ko"; }
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

skip() {
	ok "$1 # SKIP $2"
}

# check NAME COMMAND...: one result from a command's status (its stdout
# is dropped; diagnostics go to stderr).
check() {
	name=$1
	shift
	if "$@" >/dev/null; then
		ok "$name"
	else
		not_ok "$name"
		return 1
	fi
}

# Show a file in the TAP stream as diagnostics.
diag() {
	sed 's/^/# /' "$@"
}

# expect NAME RC PATTERN CMD...: CMD exits RC and says PATTERN on stderr.
expect() {
	name=$1 want=$2 pat=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -q -- "$pat" "$tmp/err"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, want $want and '$pat')"
		diag "$tmp/err"
	fi
}

# wait_until COMMAND...: until COMMAND succeeds (30 s).
wait_until() {
	i=0
	while ! "$@"; do
		i=$((i + 1))
		[ $i -gt 300 ] && return 1
		sleep 0.1
	done
	return 0
}

# has_lines FILE N [PATTERN]: FILE has N complete lines (matching PATTERN).
has_lines() {
	if [ $# -gt 2 ]; then
		c=$(grep -c -- "$3" "$1" 2>/dev/null)
	else
		c=$( { wc -l <"$1"; } 2>/dev/null)
	fi
	[ "${c:-0}" -ge "$2" ]
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN.
wait_for() {
	wait_until has_lines "$1" 1 "$2"
}

# wait_lines FILE N: until FILE has N lines.
wait_lines() {
	wait_until has_lines "$1" "$2"
}

# "name value" for each counter of debugfs's total line.
dbg_total() {
	awk 'NR == 1 { for (i = 2; i <= NF; i++) name[i] = $i; next }
	     $1 == "total" { for (i = 2; i <= NF; i++) print name[i], $i }' \
		"$DBG/$1/counters"
}

# "row name value" for every cpuN line and the total line of debugfs.
dbg_all() {
	awk 'NR == 1 { for (i = 2; i <= NF; i++) name[i] = $i; next }
	     { for (i = 2; i <= NF; i++) print $1, name[i], $i }' \
		"$DBG/$1/counters" | sort
}

# same FILE1 FILE2: equal content, else show the difference.
same() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	diff "$1" "$2" | sed 's/^/# /' >&2
	return 1
}

# stopped PID SIG WHAT: send SIG to the watcher PID, which must exit 0.
stopped() {
	kill -"$2" "$1"
	wait "$1"
	rc=$?
	check "$3: SIG$2 ends it with exit 0 ($rc)" [ $rc -eq 0 ]
}

# start_gen NAME ARGS...: a held device; sets gen_pid and gen_dev.
start_gen() {
	out=$tmp/$1.out
	shift
	"$T/vnl_traffic" "$@" >"$out" &
	gen_pid=$!
	pids="$pids $gen_pid"
	wait_for "$out" '^dev ' || return 1
	gen_dev=$(awk '$1 == "dev" { print $2 }' "$out")
}

vnl() {
	"$VNETLOOP" "$@"
}

# ---- the module not loaded, and unloaded under monitor ----

if [ -n "$ko" ]; then
	"$T/runwith" -s "$VNETLOOP" monitor >"$tmp/mon0.out" 2>"$tmp/mon0.err" &
	mon=$!
	wait_for "$tmp/mon0.err" listening
	autoload off
	if rmmod vnetloop 2>"$tmp/rmmod.err"; then
		wait "$mon"
		rc=$?
		if [ $rc -eq 3 ] && grep -q "module was unloaded" "$tmp/mon0.err"; then
			ok "monitor: exits 3 when the module is unloaded"
		else
			not_ok "monitor: exits 3 when the module is unloaded (exit $rc)"
			diag "$tmp/mon0.err"
		fi
		expect "stats: module not loaded exits 3" 3 "module is not loaded" vnl stats
		expect "stats DEV --json: module not loaded exits 3" 3 "module is not loaded" vnl stats 0 --json
		expect "monitor: module not loaded exits 3" 3 "module is not loaded" vnl monitor
		autoload on
		insmod "$ko" || { echo "Bail out! insmod $ko failed"; exit 1; }
	else
		autoload on
		kill "$mon"
		diag "$tmp/rmmod.err"
		for t in "monitor: exits 3 when the module is unloaded" \
			 "stats: module not loaded exits 3" \
			 "stats DEV --json: module not loaded exits 3" \
			 "monitor: module not loaded exits 3"; do
			not_ok "$t (rmmod failed: a device still open?)"
		done
	fi
else
	for t in "monitor: exits 3 when the module is unloaded" \
		 "stats: module not loaded exits 3" \
		 "stats DEV --json: module not loaded exits 3" \
		 "monitor: module not loaded exits 3"; do
		skip "$t" "no vnetloop.ko file to load it again"
	done
fi

# ---- loaded, but no devices; usage and access errors ----

if [ -z "$(ls "$DBG")" ]; then
	expect "stats: no devices exits 5" 5 "no vnetloop devices" vnl stats
	expect "stats --json: no devices exits 5" 5 "no vnetloop devices" vnl stats --json
	expect "stats --interval: no devices exits 5" 5 "no vnetloop devices" vnl stats --interval 0.1 --count 1
else
	for t in "stats: no devices exits 5" "stats --json: no devices exits 5" \
		 "stats --interval: no devices exits 5"; do
		not_ok "$t (devices left by an earlier test: $(ls "$DBG" | tr '\n' ' '))"
	done
fi
expect "stats: no such device exits 4" 4 "no such device: 123456" vnl stats 123456
expect "stats --per-cpu --json: no such device exits 4" 4 "no such device: 2000000000" vnl stats 2000000000 --per-cpu --json
expect "stats: unknown option exits 2" 2 "unknown option '--bogus'" vnl stats --bogus
expect "stats: a bad device number exits 2" 2 "bad device 'eth0'" vnl stats eth0
expect "stats: --count without --interval exits 2" 2 "needs --interval" vnl stats --count 2
expect "stats: a bad interval exits 2" 2 "bad interval" vnl stats --interval -1
expect "stats: --per-cpu with --interval exits 2" 2 "cannot be combined" vnl stats --per-cpu --interval 1
expect "stats: -p (pretty) without --json exits 2" 2 "needs --json" vnl stats -p
expect "monitor: --pretty without --json exits 2" 2 "needs --json" vnl monitor --pretty
expect "monitor: an extra argument exits 2" 2 "unexpected argument" vnl monitor now
expect "stats: netlink denied exits 6" 6 "Permission denied" "$T/runwith" -d "$VNETLOOP" stats
expect "monitor: netlink denied exits 6" 6 "Permission denied" "$T/runwith" -d "$VNETLOOP" monitor
# The family is not netns-aware: another network namespace does not see it.
expect "stats: other network namespace exits 3" 3 "network namespace" unshare -n "$VNETLOOP" stats

# ---- counters after traffic equal debugfs ----

# Valid frames, frames with no RX buffer, invalid and oversize TX chains,
# read-only RX chains, then an RX poisoning: many counters move.
if ! start_gen gen1 -H -n 300 -b 16 -D 20 -I 3 -O 2 -R 4 -P rx ||
   ! wait_for "$tmp/gen1.out" '^done'; then
	echo "Bail out! vnl_traffic did not run"
	cat "$tmp/gen1.out"
	exit 1
fi
d1=$gen_dev p1=$gen_pid
dbg_total "$d1" >"$tmp/dbg1"
moved=$(awk '$2 > 0' "$tmp/dbg1" | wc -l)
check "traffic: at least 9 counters moved ($moved)" [ "$moved" -ge 9 ]

vnl stats "$d1" >"$tmp/table1"
check "stats DEV: exit 0" [ $? -eq 0 ]
awk 'NR > 1 { print $1, $2 }' "$tmp/table1" >"$tmp/t1"
check "stats DEV: every counter, in order, equals debugfs" same "$tmp/dbg1" "$tmp/t1"
check "stats DEV: header names the device and its owner" \
	grep -q "^device $d1  owner pid $p1\$" "$tmp/table1"

vnl stats | awk -v d="$d1" '$1 == "device" { on = $2 == d; next }
			    on && NF == 2 { print $1, $2 }' >"$tmp/t1all"
check "stats: the device's block in the all-devices table equals debugfs" \
	same "$tmp/dbg1" "$tmp/t1all"

vnl stats "$d1" --json >"$tmp/json1"
jq -r '.[0] | to_entries[] | select(.key != "dev_id" and .key != "owner_pid") |
       "\(.key) \(.value)"' "$tmp/json1" >"$tmp/j1"
check "stats --json: every counter key equals debugfs" same "$tmp/dbg1" "$tmp/j1"
check "stats --json: an array of one object with dev_id and owner_pid" \
	jq -e "length == 1 and .[0].dev_id == $d1 and .[0].owner_pid == $p1" "$tmp/json1"
vnl stats --json >"$tmp/json1all"
check "stats --json: all devices include this one, equal" \
	jq -e --slurpfile one "$tmp/json1" \
	'map(select(.dev_id == $one[0][0].dev_id)) == $one[0]' "$tmp/json1all"
check "stats --json: one line" [ "$(wc -l <"$tmp/json1")" -eq 1 ]
vnl stats "$d1" -j -p >"$tmp/pretty1"
check "stats -j -p: pretty, over several lines" [ "$(wc -l <"$tmp/pretty1")" -gt 3 ]
check "stats -j -p: the same document as --json" \
	jq -e --slurpfile one "$tmp/json1" '. == $one[0]' "$tmp/pretty1"

dbg_all "$d1" >"$tmp/dbgall1"
vnl stats "$d1" --per-cpu >"$tmp/pcpu1"
awk 'NR == 2 { for (i = 2; i <= NF; i++) col[i] = $i; next }
     NR > 2 { for (i = 2; i <= NF; i++) print col[i], $1, $i }' \
	"$tmp/pcpu1" | sort >"$tmp/p1"
check "stats --per-cpu: every CPU column and the total equal debugfs" \
	same "$tmp/dbgall1" "$tmp/p1"
check "stats --per-cpu: CPU columns sum to the total" \
	awk 'NR > 2 { s = 0; for (i = 2; i < NF; i++) s += $i; if (s != $NF) bad = 1 }
	     END { exit bad }' "$tmp/pcpu1"

vnl stats "$d1" --per-cpu --json >"$tmp/pjson1"
vnl stats "$d1" --per-cpu --json --pretty >"$tmp/pjson1p"
check "stats --per-cpu --json --pretty: the same document as without --pretty" \
	jq -e --slurpfile c "$tmp/pjson1" '. == $c[0]' "$tmp/pjson1p"
jq -r '.[0] | (.per_cpu[] as $c | $c | to_entries[] | select(.key != "cpu") |
		"cpu\($c.cpu) \(.key) \(.value)"),
	      (.total | to_entries[] | "total \(.key) \(.value)")' \
	"$tmp/pjson1" | sort >"$tmp/pj1"
check "stats --per-cpu --json: per_cpu entries and total equal debugfs" \
	same "$tmp/dbgall1" "$tmp/pj1"
check "stats --per-cpu --json: per_cpu sums equal total and the top-level keys" \
	jq -e '.[0] as $d | $d.total | to_entries |
	       all(.key as $k | .value == ([$d.per_cpu[][$k]] | add) and
		   .value == $d[$k])' "$tmp/pjson1"

# Reads need no privilege, but another user's device does not exist for a
# plain user (Documentation/netlink.rst, "Who sees what"): root opened it.
expect "stats DEV: another user's device is no such device (exit 4)" 4 \
	"no such device: $d1" "$T/runwith" -u 65534 "$VNETLOOP" stats "$d1" --json
expect "stats: a plain user sees none of root's devices (exit 5)" 5 \
	"no vnetloop devices" "$T/runwith" -u 65534 "$VNETLOOP" stats --json

# ---- watch mode under live traffic ----

if ! start_gen gen2 -g -H -n 480 -b 8 -p 20; then
	echo "Bail out! vnl_traffic did not start"
	exit 1
fi
d2=$gen_dev p2=$gen_pid
dbg_total "$d2" >"$tmp/dbgA"
"$T/runwith" -s "$VNETLOOP" stats "$d2" --interval 0.25 --json >"$tmp/wj" 2>"$tmp/wj.err" &
wj=$!
"$VNETLOOP" stats "$d2" --interval 0.3 >"$tmp/wt" 2>"$tmp/wt.err" &
wt=$!
pids="$pids $wj $wt"
# Both have their baseline once they printed an interval: start the traffic.
wait_lines "$tmp/wj" 1 && wait_for "$tmp/wt" "device $d2"
kill -USR1 "$p2"
wait_for "$tmp/gen2.out" '^done'
nj=$(wc -l <"$tmp/wj")
nt=$(grep -c "device $d2" "$tmp/wt")
# Two more intervals each, so the last reads come after the traffic.
wait_lines "$tmp/wj" $((nj + 2))
wait_until has_lines "$tmp/wt" $((nt + 2)) "device $d2"
stopped "$wj" INT "stats --interval --json"
stopped "$wt" TERM "stats --interval"
dbg_total "$d2" >"$tmp/dbgB"
awk 'NR == FNR { a[$1] = $2; next } { print $1, $2 - a[$1] }' \
	"$tmp/dbgA" "$tmp/dbgB" | sort >"$tmp/moved"
check "watch: the traffic moved tx_packets by 480" grep -q '^tx_packets 480$' "$tmp/moved"

jq -r -s '[.[].delta] as $d | $d[0] | keys_unsorted[] as $k |
	  "\($k) \([$d[][$k]] | add)"' "$tmp/wj" | sort >"$tmp/wjsum"
check "watch --json: the deltas add up to the debugfs change, every counter" \
	same "$tmp/moved" "$tmp/wjsum" || diag "$tmp/wj"
a_json=$(awk 'BEGIN { printf "{" } { printf "%s\"%s\":%s", (NR > 1 ? "," : ""), $1, $2 }
	      END { print "}" }' "$tmp/dbgA")
check "watch --json: each delta is the change between two reads" \
	jq -e -s --argjson a "$a_json" '. as $s |
	  [range(0; length) as $i | $s[$i].delta | to_entries[] |
	   .value == ($s[$i].counters[.key] -
		      (if $i == 0 then $a[.key] else $s[$i - 1].counters[.key] end))] |
	  all' "$tmp/wj"
live=$(jq -s '[.[] | select(.delta.tx_packets > 0)] | length' "$tmp/wj")
check "watch --json: traffic was live over several intervals ($live)" [ "$live" -ge 2 ]
check "watch --json: rates are the deltas over the interval" \
	jq -e -s 'all(.[]; (.rate.tx_frames_per_s * .interval_s - .delta.tx_packets | fabs) <= 0.01 + .delta.tx_packets * 0.0001 and
		     (.rate.tx_bytes_per_s * .interval_s - .delta.tx_bytes | fabs) <= 0.01 + .delta.tx_bytes * 0.0001 and
		     (.rate.rx_frames_per_s * .interval_s - .delta.rx_packets | fabs) <= 0.01 + .delta.rx_packets * 0.0001 and
		     (.rate.rx_bytes_per_s * .interval_s - .delta.rx_bytes | fabs) <= 0.01 + .delta.rx_bytes * 0.0001)' "$tmp/wj" ||
	diag "$tmp/wj"
check "watch --json: UTC timestamps in order" \
	jq -e -s 'map(.time) | (. == sort) and all(.[]; test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$"))' "$tmp/wj"
awk '$1 ~ /^[a-z_]+$/ && $2 ~ /^[+]/ { s[$1] += substr($2, 2) }
     END { for (k in s) print k, s[k] }' "$tmp/wt" | sort >"$tmp/wtsum"
check "watch: the table's deltas add up to the debugfs change, every counter" \
	same "$tmp/moved" "$tmp/wtsum" || diag "$tmp/wt"
check "watch: the table shows tx and rx rates" \
	grep -q '^    tx .* frames/s .* bytes/s$' "$tmp/wt"

vnl stats "$d2" --interval 0.1 --count 3 --json >"$tmp/wc" 2>"$tmp/err"
rc=$?
check "watch --count 3: three idle intervals, zero deltas, exit 0" \
	jq -e -s "length == 3 and all(.[]; .dev_id == $d2 and all(.delta[]; . == 0))" "$tmp/wc"
vnl stats --interval 0.1 --count 2 --json >"$tmp/wall" 2>"$tmp/err"
check "watch: without DEV every device, each interval" \
	jq -e -s "[.[] | .dev_id] | sort == ([$d1, $d1, $d2, $d2] | sort)" "$tmp/wall"

# ---- monitor: created, poisoned and destroyed events ----

"$T/runwith" -s "$VNETLOOP" monitor --json >"$tmp/mj" 2>"$tmp/mj.err" &
mj=$!
"$VNETLOOP" monitor >"$tmp/mt" 2>"$tmp/mt.err" &
mt=$!
pids="$pids $mj $mt"
wait_for "$tmp/mj.err" listening && wait_for "$tmp/mt.err" listening
# Ids are reused: the two devices may share one, so events go by order.
"$T/vnl_traffic" -n 4 -P tx >"$tmp/gen3.out" &
p3=$!
wait $p3
wait_lines "$tmp/mj" 3
"$T/vnl_traffic" -n 4 -P rx >"$tmp/gen4.out" &
p4=$!
wait $p4
d3=$(awk '$1 == "dev" { print $2 }' "$tmp/gen3.out")
d4=$(awk '$1 == "dev" { print $2 }' "$tmp/gen4.out")
wait_lines "$tmp/mj" 6
wait_lines "$tmp/mt" 6
stopped "$mj" INT "monitor --json"
stopped "$mt" TERM "monitor"
check "monitor --json: created, tx poisoned, destroyed, with the owner pid" \
	jq -e -s "length == 6 and (.[0:3] | map([.event, .dev_id, .owner_pid // .queue_name])) ==
		  [[\"dev_created\", $d3, $p3], [\"queue_poisoned\", $d3, \"tx\"], [\"dev_destroyed\", $d3, $p3]]" "$tmp/mj" ||
	diag "$tmp/mj"
check "monitor --json: created, rx poisoned, destroyed" \
	jq -e -s "(.[3:6] | map([.event, .dev_id, .owner_pid // .queue])) ==
		  [[\"dev_created\", $d4, $p4], [\"queue_poisoned\", $d4, 0], [\"dev_destroyed\", $d4, $p4]]" "$tmp/mj"
check "monitor --json: UTC timestamps in order" \
	jq -e -s 'map(.time) | (. == sort) and all(.[]; test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{6}Z$"))' "$tmp/mj"
awk '{ printf "%s %s|", $2, $4 }' "$tmp/mt" >"$tmp/mtev"
check "monitor: the text lines, in order" \
	grep -qx "dev_created $d3|queue_poisoned $d3|dev_destroyed $d3|dev_created $d4|queue_poisoned $d4|dev_destroyed $d4|" "$tmp/mtev" ||
	diag "$tmp/mt"
check "monitor: the text line of the poisoned queue" \
	grep -q "queue_poisoned  device $d3  queue 1 (tx)\$" "$tmp/mt"

kill -TERM "$p1" "$p2"
wait "$p1" "$p2"
pids=

echo "1..$n"
[ $fails -eq 0 ]
