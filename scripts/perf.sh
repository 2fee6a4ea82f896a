#!/bin/bash
# The performance suite behind `make perf` (Documentation/performance.rst):
# cost per frame of every data plane, in one rig boot, alternating.
#
# In the rig (qemu TCG, Debian's kernel with vnetloop.ko, nested KVM):
#   guest-less  bench/devbench.c plays the guest against kmod, vhost-net
#               and thread (no VM: the device's CPU per frame alone)
#   guest       `vnetloop run --json --check sample` with the built-in
#               guest on pci with MSI-X, on kmod, vhost-net, thread, inline
# On the host (real KVM): the same for thread and inline, vhost-net when
# the host has /dev/vhost-net and tc, and kmod when it has /dev/vnetloop
# (a real test host with the module loaded: --no-rig runs only there).
#
# The sweep: frame sizes 64, 1500 and 65536 bytes at batch 32; batches 1,
# 4, 16, 64 and 256 at 64 bytes; EVENT_IDX off at 64 bytes, batch 32; and
# 4 queue pairs there too (not vhost-net, whose peer has one pair). Every
# configuration runs every backend once a round, the order rotated every
# round. Results: OUT/results.csv (one row per run, columns in
# Documentation/performance.rst), OUT/engine.csv (the engine against
# memcpy, bench/vnl_bench.c), the plots and summary.txt
# (scripts/perf/plot.sh), and the logs.
#
# usage: perf.sh [--rounds N] [--out DIR] [--erms] [--no-host] [--no-rig]
#                [--smoke]
#
#   --rounds N  repetitions of the whole sweep (default 5)
#   --out DIR   where everything goes (default build/perf)
#   --erms      boot the rig with the CPU's rep movsb left on; by default
#               it boots with clearcpuid=erms, since TCG emulates rep
#               movsb a byte at a time (the erms column records which)
#   --no-host   leave out the host's runs
#   --no-rig    leave out the rig (a real test host with vnetloop.ko)
#   --smoke     a tiny sweep, one round, for `make check`
#
# Environment: PERF_SCALE (frames per run are multiplied by it, default
# 1), RIG_* of scripts/rig/rig.sh. Needs build/vnetloop,
# build/bench/vnl_devbench, build/bench/vnl_bench and vnetloop.ko (`make
# perf` builds them). A benchmark: it fails when a run, the rig or the
# plots fail, never because of the numbers.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1

rounds=5 out=build/perf erms=off host=1 rig=1 smoke=0
scale=${PERF_SCALE:-1}

usage() {
	sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}
die() {
	echo "perf: $*" >&2
	exit 1
}
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2-}; shift ;;
	--out) out=${2-}; shift ;;
	--erms) erms=on ;;
	--no-host) host=0 ;;
	--no-rig) rig=0 ;;
	--smoke) smoke=1 rounds=1 ;;
	-h | --help) usage 0 ;;
	*) echo "perf: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
	shift
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "perf: --rounds: '$rounds' is not a number >= 1" >&2; exit 2; }
[[ $scale =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "perf: PERF_SCALE: '$scale' is not a number" >&2; exit 2; }
[ -n "$out" ] || { echo "perf: --out: empty" >&2; exit 2; }
command -v jq >/dev/null || die "jq not found (scripts/deps.sh installs it)"
for f in build/vnetloop build/bench/vnl_devbench build/bench/vnl_bench; do
	[ -x "$f" ] || die "$f missing: run 'make perf'"
done
[ "$rig" = 0 ] || [ -f vnetloop.ko ] || die "vnetloop.ko missing: run 'make perf'"
[ "$rig" = 1 ] || [ "$host" = 1 ] || die "--no-rig and --no-host: nothing to run"
mkdir -p "$out" || die "cannot make $out"
(cd "$out" && rm -rf results.csv results-passed.csv engine.csv rig.txt host.txt summary.txt ./*.png ./*.dat host)

# The configurations: "SIZE BATCH EVENT_IDX PAIRS".
if [ "$smoke" = 1 ]; then
	configs="64 32 1 1
1500 32 1 1
64 1 1 1
64 32 0 1
64 32 1 4"
else
	configs="64 32 1 1
1500 32 1 1
65536 32 1 1
64 1 1 1
64 4 1 1
64 16 1 1
64 64 1 1
64 256 1 1
64 32 0 1
64 32 1 4"
fi
# Frames a run: enough for a few hundred ms in the rig's emulated guest.
frames_for() { # SIZE BATCH
	local n
	case $1 in
	64) n=60000 ;;
	1500) n=30000 ;;
	*) n=3000 ;;
	esac
	case $2 in
	1) n=$((n / 4)) ;;
	4) n=$((n / 2)) ;;
	esac
	[ "$smoke" = 1 ] && n=$((n / 30))
	awk -v n="$n" -v s="$scale" 'BEGIN { n = int(n * s); print n < 64 ? 64 : n }'
}
plan=$(while read -r size batch ev pairs; do
	echo "$size $batch $ev $pairs $(frames_for "$size" "$batch")"
done <<<"$configs")

# The runner, in the rig (busybox sh) and on the host (bash): one @P line a
# run, "@P KIND ROUND BACKEND SIZE BATCH EV PAIRS STATUS OUTPUT"; a failed
# run's stderr follows as @P err lines. $1: where, $2: guest backends,
# $3: guest-less backends.
cat >"$out/runner.sh" <<RUNNER
where=\$1 gb=\$2 db=\$3
vnl=\${VNETLOOP:-vnetloop} devbench=\${DEVBENCH:-build/bench/vnl_devbench}
param=/sys/module/vnetloop/parameters/max_queue_pairs
echo "@P info \$where cmdline \$(cat /proc/cmdline)"
echo "@P info \$where kernel \$(uname -r)"
echo "@P info \$where cpus \$(grep -c '^processor' /proc/cpuinfo)"
echo "@P info \$where flags \$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'erms|fsrm|svm|vmx' | tr '\n' ' ')"
guest() { # ROUND BACKEND SIZE BATCH EV PAIRS FRAMES
	noev=
	[ "\$5" = 0 ] && noev=--no-event-idx
	[ "\$2" = kmod ] && echo "\$6" >\$param
	\$vnl run --backend "\$2" --transport pci --frames "\$7" \\
		--frame-size "\$3" --batch "\$4" --queue-pairs "\$6" \$noev \\
		--check sample --json >/tmp/perf.out 2>/tmp/perf.err
	rc=\$?
	echo "@P guest \$1 \$2 \$3 \$4 \$5 \$6 \$rc \$(tr -d '\n' </tmp/perf.out)"
	[ "\$rc" -eq 0 ] || sed 's/^/@P err /' /tmp/perf.err
}
devb() { # ROUND BACKEND SIZE BATCH EV PAIRS FRAMES
	noev=
	[ "\$5" = 0 ] && noev=--no-event-idx
	[ "\$2" = kmod ] && echo 1 >\$param
	\$devbench --backend "\$2" --frames "\$7" --size "\$3" \\
		--batch "\$4" \$noev >/tmp/perf.out 2>/tmp/perf.err
	rc=\$?
	echo "@P dev \$1 \$2 \$3 \$4 \$5 \$6 \$rc \$(tr -d '\n' </tmp/perf.out)"
	[ "\$rc" -eq 0 ] || sed 's/^/@P err /' /tmp/perf.err
}
# Each backend once per configuration and round; who goes first rotates.
rotate() { # N WORDS...: the words rotated left N times
	k=\$1
	shift
	while [ "\$k" -gt 0 ]; do
		first=\$1
		shift
		set -- "\$@" "\$first"
		k=\$((k - 1))
	done
	echo "\$*"
}
r=1
while [ "\$r" -le $rounds ]; do
	while read -r size batch ev pairs frames; do
		for b in \$(rotate \$r \$db); do
			[ "\$pairs" = 1 ] || continue
			devb "\$r" "\$b" "\$size" "\$batch" "\$ev" 1 "\$frames"
		done
		for b in \$(rotate \$r \$gb); do
			[ "\$pairs" != 1 ] && [ "\$b" = vhost-net ] && continue
			guest "\$r" "\$b" "\$size" "\$batch" "\$ev" "\$pairs" "\$frames"
		done
	done <<PLAN
$plan
PLAN
	r=\$((r + 1))
done
[ -w \$param ] && echo 1 >\$param
echo "@P end \$where"
RUNNER

start=$(date +%s)
echo "perf: $rounds round(s) of $(wc -l <<<"$configs") configurations; logs in $out" >&2

rig_rc=0
if [ "$rig" = 1 ]; then
	scripts/rig/mkinitramfs.sh -o "$out/initramfs.cpio.gz" -m "$PWD/vnetloop.ko" \
		-f "build/vnetloop build/bench/vnl_devbench" >"$out/initramfs.log" 2>&1 ||
		die "cannot build $out/initramfs.cpio.gz (see $out/initramfs.log)"
	{
		echo 'set -- rig "kmod vhost-net thread inline" "kmod vhost-net thread"'
		cat "$out/runner.sh"
	} >"$out/inside.sh"
	echo "perf: the rig (clearcpuid=erms: $([ "$erms" = off ] && echo yes || echo no))" >&2
	RIG_ERMS=$erms RIG_OUT=$out/rig RIG_TEST_TIMEOUT=1500 scripts/rig/rig.sh \
		--timeout 1560 --initrd "$out/initramfs.cpio.gz" \
		--run-file "$out/inside.sh" >"$out/rig.txt" 2>"$out/rig.log"
	rig_rc=$?
	[ "$rig_rc" -eq 0 ] || echo "perf: the rig failed with status $rig_rc (see $out/rig.log)" >&2
	grep -q '^@P end rig' "$out/rig.txt" || { echo "perf: the rig's runs did not finish" >&2; rig_rc=1; }
fi

if [ "$host" = 1 ]; then
	hb="thread inline" hd="thread"
	if [ -c /dev/vnetloop ]; then
		hb="kmod $hb" hd="kmod $hd"
	fi
	if [ -c /dev/vhost-net ] && command -v tc >/dev/null; then
		hb="$hb vhost-net" hd="$hd vhost-net"
	else
		echo "perf: host: no /dev/vhost-net or tc, vhost-net left out there" >&2
	fi
	echo "perf: the host ($hb)" >&2
	VNETLOOP=build/vnetloop bash "$out/runner.sh" host "$hb" "$hd" \
		>"$out/host.txt" 2>"$out/host.log"
fi

engine_rc=0
# The engine against memcpy, on the host (no KVM needed).
build/bench/vnl_bench --csv >"$out/engine.csv" 2>"$out/engine.log" ||
	{ echo "perf: build/bench/vnl_bench --csv failed (see $out/engine.log)" >&2; engine_rc=1; }

# One CSV row a run.
cols=mode,where,backend,transport,frame_size,batch,event_idx,queue_pairs,round,frames,status,elapsed_s,frames_per_s,device_us_per_frame,guest_us_per_frame,drain_us_per_frame,frames_per_drain,kicks_per_frame,irqs_per_frame,exits_per_frame,userspace_exits_per_frame,erms,kernel
csv_rows() { # FILE WHERE
	local file=$1 where=$2 cmdline kernel e=on
	cmdline=$(sed -n "s/^@P info $where cmdline //p" "$file")
	kernel=$(sed -n "s/^@P info $where kernel //p" "$file")
	[[ " $cmdline " =~ [[:space:]]clearcpuid=([^[:space:]]*,)?erms[,[:space:]] ]] && e=off
	grep -q "^@P info $where flags .*erms" "$file" || e=off
	sed -n 's/^@P guest //p' "$file" | while read -r r b size batch ev pairs rc json; do
		jq -r --arg w "$where" --arg r "$r" --arg b "$b" --arg rc "$rc" \
		   --arg e "$e" --arg k "$kernel" --arg ev "$ev" --arg p "$pairs" '
			def n: if . == null then "" else . end;
			def per(x): if x == null or .frames == 0 then "" else x / .frames end;
			(.phase // {}) as $ph |
			(.cpu.vcpu.us_per_frame) as $v |
			($ph.drain_us_per_frame) as $d |
			["guest", $w, $b, .transport, .frame_size, .batch, $ev, $p,
			 $r, .frames, $rc, .elapsed_s, .frames_per_s,
			 (if $b == "inline" then ($d | n) else (.cpu.device.us_per_frame | n) end),
			 (if $b == "inline" then (if $d == null or $v == null then "" else $v - $d end)
			  else ($v | n) end),
			 ($d | n), ($ph.frames_per_drain | n),
			 ($ph.guest_kicks_per_frame | n), ($ph.guest_irqs_per_frame | n),
			 ($ph.exits_per_frame | n),
			 (if $ph.vmm_exits_total == null then "" else $ph.vmm_exits_total / .frames end),
			 $e, $k] | map(tostring) | join(",")' <<<"$json" 2>/dev/null ||
			echo "guest,$where,$b,,$size,$batch,$ev,$pairs,$r,,$rc,,,,,,,,,,,$e,$kernel"
	done
	sed -n 's/^@P dev //p' "$file" | while read -r r b size batch ev pairs rc kv; do
		awk -v w="$where" -v r="$r" -v b="$b" -v rc="$rc" -v e="$e" \
		    -v k="$kernel" -v size="$size" -v batch="$batch" -v ev="$ev" '{
			for (i = 1; i <= NF; i++) {
				split($i, a, "=")
				f[a[1]] = a[2]
			}
			printf "guest-less,%s,%s,,%s,%s,%s,1,%s,%s,%s,,%s,%s,%s,%s,%s,%s,%s,,,%s,%s\n",
				w, b, size, batch, ev, r, f["frames"], rc,
				f["frames_per_s"], f["device_us_per_frame"],
				f["driver_us_per_frame"], f["drain_us_per_frame"],
				f["frames_per_drain"], f["kicks_per_frame"],
				f["irqs_per_frame"], e, k
		}' <<<"$kv"
	done
}
{
	echo "$cols"
	[ "$rig" = 1 ] && csv_rows "$out/rig.txt" rig
	[ "$host" = 1 ] && csv_rows "$out/host.txt" host
} >"$out/results.csv"

failed=$(cat "$out/rig.txt" "$out/host.txt" 2>/dev/null |
	 awk '$1 == "@P" && ($2 == "guest" || $2 == "dev") && $9 != 0' | wc -l)
runs=$(($(wc -l <"$out/results.csv") - 1))
grep -h '^@P err ' "$out/rig.txt" "$out/host.txt" 2>/dev/null | sed 's/^@P err /perf:   /' | head -40 >&2

# The plots and the summary, of the runs that passed: the rig's in OUT,
# the host's in OUT/host.
plot_rc=0
awk -F, 'NR == 1 || $11 == "0"' "$out/results.csv" >"$out/results-passed.csv"
for w in rig host; do
	case $w in
	rig) [ "$rig" = 1 ] || continue; dir=$out ;;
	host) [ "$host" = 1 ] || continue; dir=$out/host ;;
	esac
	PLOT_WHERE=$w scripts/perf/plot.sh "$out/results-passed.csv" "$out/engine.csv" \
		"$dir" >"$out/plot-$w.log" 2>&1 || {
		plot_rc=$?
		echo "perf: scripts/perf/plot.sh failed for $w with status $plot_rc (see $out/plot-$w.log)" >&2
	}
done
for f in "$out/summary.txt" "$out/host/summary.txt"; do
	[ -f "$f" ] && { echo "== $f"; cat "$f"; echo; }
done
echo "perf: $runs runs, $failed failed, in $(($(date +%s) - start)) s; $out/results.csv"
[ "$rig_rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$plot_rc" -eq 0 ] &&
	[ "$engine_rc" -eq 0 ]
