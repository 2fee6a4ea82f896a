#!/bin/bash
# The device's CPU time per frame, kmod against thread, in one rig boot.
#
# Boots the rig once (scripts/rig/rig.sh, an initramfs with vnetloop.ko and
# the VMM only) and runs the built-in guest there with `vnetloop run --json`
# on the kmod and thread backends, alternating, for several rounds (the
# order flips every round: kmod,thread then thread,kmod). Each run reports
# the CPU time of the device's thread over the measured phase, from
# /proc/.../schedstat: the module's kthread "vnetloop-<id>" for kmod, the
# VMM's "vnl-worker" thread for thread; and of the vCPU thread. Prints a
# table: per round the device and vCPU CPU in us/frame, the ratio
# kmod/thread of the device CPU, frames/s; then the median, min and max of
# every column (the ratio's median is the median of the per-round ratios),
# and whether the rig ran with clearcpuid=erms.
#
# usage: bench-rig.sh [--rounds N] [--frames N] [--frame-size S] [--batch B]
#                     [--warmup N] [--no-erms]
#
#   --rounds N       kmod and thread runs, N of each (default 5)
#   --frames N       frames per run, all measured (default 200000)
#   --frame-size S   bytes per frame after the virtio-net header (default 64)
#   --batch B        frames per notify (default 32)
#   --warmup N       one unmeasured run of N frames per backend first
#                    (default 5000; 0: none)
#   --no-erms        boot the rig with clearcpuid=erms (as RIG_ERMS=off)
#
# Environment: BENCH_ROUNDS, BENCH_FRAMES, BENCH_FRAME_SIZE, BENCH_BATCH,
# BENCH_WARMUP (the same settings), BENCH_OUT (where the logs and the raw
# results go, build/bench-rig), RIG_ERMS and the other RIG_* of
# scripts/rig/rig.sh (RIG_SMP, RIG_APPEND). Needs build/vnetloop and
# vnetloop.ko (`make bench-rig` builds both, then runs this).
#
# A benchmark, not a test: it exits 1 only when the rig or a run fails (or
# a run reports no CPU time), never because of the numbers.
set -uo pipefail
set -f
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1

rounds=${BENCH_ROUNDS:-5}
frames=${BENCH_FRAMES:-200000}
size=${BENCH_FRAME_SIZE:-64}
batch=${BENCH_BATCH:-32}
warmup=${BENCH_WARMUP:-5000}
out=${BENCH_OUT:-build/bench-rig}

usage() {
	sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}
die() {
	echo "bench-rig: $*" >&2
	exit 1
}
number() { # NAME VALUE MIN
	[[ $2 =~ ^[0-9]+$ ]] && [ "$2" -ge "$3" ] ||
		{ echo "bench-rig: $1: '$2' is not a number >= $3" >&2; exit 2; }
}

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2-}; shift ;;
	--frames) frames=${2-}; shift ;;
	--frame-size) size=${2-}; shift ;;
	--batch) batch=${2-}; shift ;;
	--warmup) warmup=${2-}; shift ;;
	--no-erms) export RIG_ERMS=off ;;
	-h | --help) usage 0 ;;
	*) echo "bench-rig: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
	shift
done
number --rounds "$rounds" 1
number --frames "$frames" 1
number --frame-size "$size" 1
number --batch "$batch" 1
number --warmup "$warmup" 0

command -v jq >/dev/null || die "jq not found (scripts/deps.sh)"
[ -x build/vnetloop ] || die "build/vnetloop missing: run 'make bench-rig' (or make build/vnetloop modules)"
[ -f vnetloop.ko ] || die "vnetloop.ko missing: run 'make bench-rig' (or make modules)"
mkdir -p "$out" || exit 1

# A small initramfs of its own: the module, the VMM, busybox, kvm.
scripts/rig/mkinitramfs.sh -o "$out/initramfs.cpio.gz" -m "$PWD/vnetloop.ko" \
	-f build/vnetloop || die "cannot build $out/initramfs.cpio.gz"

# What runs inside (busybox sh, cwd /rig, vnetloop.ko loaded). One line per
# fact and per run, prefixed with @B; a failed run's stderr follows it.
cat >"$out/inside.sh" <<INSIDE
echo "@B kernel \$(uname -r)"
echo "@B cpus \$(grep -c '^processor' /proc/cpuinfo)"
echo "@B cmdline \$(cat /proc/cmdline)"
echo "@B flags \$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'erms|fsrm|rep_good' | tr '\n' ' ')"
run() { # ROUND BACKEND FRAMES
	vnetloop run --backend "\$2" --frames "\$3" --frame-size $size \\
		--batch $batch --json >/tmp/run.json 2>/tmp/run.err
	rc=\$?
	echo "@B run \$1 \$2 \$rc \$(tr -d '\n' </tmp/run.json)"
	[ "\$rc" -eq 0 ] || sed 's/^/@B err /' /tmp/run.err
}
if [ $warmup -gt 0 ]; then
	run 0 kmod $warmup
	run 0 thread $warmup
fi
r=1
while [ "\$r" -le $rounds ]; do
	if [ \$((r % 2)) -eq 1 ]; then
		run "\$r" kmod $frames
		run "\$r" thread $frames
	else
		run "\$r" thread $frames
		run "\$r" kmod $frames
	fi
	r=\$((r + 1))
done
INSIDE

echo "bench-rig: booting the rig: $rounds rounds of kmod and thread, $frames frames of $size bytes, batch $batch" >&2
RIG_OUT=$out scripts/rig/rig.sh --initrd "$out/initramfs.cpio.gz" \
	--run-file "$out/inside.sh" >"$out/results.txt" 2>"$out/rig.log"
rig_rc=$?
grep -E '^# rig: booting with' "$out/rig.log" >&2

# One tab-separated line per measured run:
#   round backend rc device_us vcpu_us frames_per_s device_task error
failed=0
: >"$out/runs.tsv"
while read -r tag kind round backend rc json; do
	[ "$tag" = @B ] && [ "$kind" = run ] || continue
	fields=$(printf '%s' "$json" | jq -r '[
		.cpu.device.us_per_frame, .cpu.vcpu.us_per_frame,
		.frames_per_s,
		"\(.cpu.device.task) \(.cpu.device.name) \(.cpu.device.tids // [] | map(tostring) | join(","))",
		(.cpu.device.error // .cpu.vcpu.error // "")] | @tsv' 2>/dev/null) ||
		fields=$'\t\t\t\tno JSON report'
	IFS=$'\t' read -r dev vcpu fps task err <<<"$fields"
	if [ "$rc" -ne 0 ]; then
		echo "bench-rig: round $round, $backend: vnetloop run exited $rc" >&2
		failed=1
	elif [ -z "$dev" ] || [ -z "$vcpu" ]; then
		echo "bench-rig: round $round, $backend: no CPU time: ${err:-missing}" >&2
		failed=1
	fi
	[ "$round" -eq 0 ] && continue
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$backend" "$rc" \
		"${dev:-nan}" "${vcpu:-nan}" "${fps:-nan}" "$task" >>"$out/runs.tsv"
done <"$out/results.txt"
grep '^@B err ' "$out/results.txt" | sed 's/^@B err /bench-rig:   /' >&2
measured=$(wc -l <"$out/runs.tsv")
if [ "$measured" -ne $((2 * rounds)) ]; then
	echo "bench-rig: $measured of $((2 * rounds)) measured runs reported" >&2
	failed=1
fi

kernel=$(sed -n 's/^@B kernel //p' "$out/results.txt")
cmdline=$(sed -n 's/^@B cmdline //p' "$out/results.txt")
flags=$(sed -n 's/^@B flags //p' "$out/results.txt")
cpus=$(sed -n 's/^@B cpus //p' "$out/results.txt")
if [[ " $cmdline " =~ [[:space:]]clearcpuid=([^[:space:]]*,)?erms[,[:space:]] ]]; then
	erms="yes"
else
	erms="no"
fi

if [ -s "$out/runs.tsv" ]; then
	echo
	echo "bench-rig: vnetloop run, built-in guest, $frames frames x $size bytes, batch $batch, $rounds rounds$([ "$warmup" -gt 0 ] && echo " (after a $warmup-frame warm-up run per backend)")"
	echo "rig: kernel ${kernel:-?}, ${cpus:-?} CPUs, clearcpuid=erms: $erms; CPU flags: ${flags:-none of erms fsrm rep_good}"
	extra=$(tr ' ' '\n' <<<"$cmdline" | grep -vxE 'console=ttyS0|loglevel=5|panic=-1|panic_on_warn=0|printk.devkmsg=on|cryptomgr.notests=1|clearcpuid=erms|' | tr '\n' ' ')
	[ -z "$extra" ] || echo "rig: other kernel parameters: $extra"
	echo "device CPU: the kmod kthread vnetloop-<id> or the thread backend's vnl-worker; vCPU: vcpu0;"
	echo "CPU time from /proc/.../schedstat over the measured phase, divided by the frames."
	echo
	awk -F'\t' -v rounds="$rounds" '
	function sort(a, n,    i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
	}
	function median(a, n) {
		sort(a, n)
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	# column c over the rounds that have both numbers: median, min, max
	function stat(c, what,    a, n, r) {
		n = 0
		for (r = 1; r <= rounds; r++)
			if ((r, c) in v)
				a[++n] = v[r, c] + 0
		if (!n)
			return "-"
		if (what == "median")
			return median(a, n)
		sort(a, n)
		return what == "min" ? a[1] : a[n]
	}
	{
		r = $1
		if ($3 != 0 || $4 == "nan")
			next
		dev[r, $2] = $4; vc[r, $2] = $5; fps[r, $2] = $6
		seen[r, $2] = 1
		if (!(r in order))
			order[r] = $2
		else
			order[r] = order[r] "," $2
	}
	END {
		for (r = 1; r <= rounds; r++) {
			v[r, 1] = dev[r, "kmod"]; v[r, 2] = dev[r, "thread"]
			if (seen[r, "kmod"] && seen[r, "thread"] && dev[r, "thread"] > 0)
				v[r, 3] = dev[r, "kmod"] / dev[r, "thread"]
			v[r, 4] = vc[r, "kmod"]; v[r, 5] = vc[r, "thread"]
			v[r, 6] = fps[r, "kmod"]; v[r, 7] = fps[r, "thread"]
			for (c = 1; c <= 7; c++)
				if (v[r, c] == "")
					delete v[r, c]
		}
		printf "%-9s %-13s | %-28s | %-17s | %s\n", "", "",
		       "device CPU, us/frame", "vCPU CPU, us/frame", "frames/s"
		printf "%-9s %-13s | %8s %8s %10s | %8s %8s | %9s %9s\n",
		       "round", "order", "kmod", "thread", "kmod/thr",
		       "kmod", "thread", "kmod", "thread"
		for (r = 1; r <= rounds; r++) {
			printf "%-9s %-13s |", r, (r in order) ? order[r] : "(failed)"
			for (c = 1; c <= 7; c++) {
				w = c == 3 ? 10 : c >= 6 ? 9 : 8
				f = c >= 6 ? "%.0f" : c == 3 ? "%.3f" : "%.3f"
				s = ((r, c) in v) ? sprintf(f, v[r, c]) : "-"
				printf " %*s%s", w, s, (c == 3 || c == 5) ? " |" : ""
			}
			printf "\n"
		}
		split("median min max", rows, " ")
		for (i = 1; i <= 3; i++) {
			printf "%-9s %-13s |", rows[i], ""
			for (c = 1; c <= 7; c++) {
				w = c == 3 ? 10 : c >= 6 ? 9 : 8
				x = stat(c, rows[i])
				s = x == "-" ? x : sprintf(c >= 6 ? "%.0f" : "%.3f", x)
				printf " %*s%s", w, s, (c == 3 || c == 5) ? " |" : ""
			}
			printf "\n"
		}
		x = stat(3, "median")
		printf "\nkmod/thread device CPU per frame (median of the per-round ratios): %s",
		       x == "-" ? "-" : sprintf("%.3f", x)
		if (x != "-")
			printf " (%s..%s): the kmod worker costs %s CPU per frame than the thread backend'"'"'s worker",
			       sprintf("%.3f", stat(3, "min")), sprintf("%.3f", stat(3, "max")),
			       x <= 1 ? "no more" : "more"
		printf "\n"
	}' "$out/runs.tsv"
	echo
	echo "raw results: $out/results.txt, per run: $out/runs.tsv, rig log: $out/rig.log"
fi

if [ "$rig_rc" -ne 0 ]; then
	echo "bench-rig: the rig run failed (status $rig_rc); its lines ($out/rig.log):" >&2
	sed 's/^/  /' "$out/rig.log" >&2
	failed=1
fi
exit "$failed"
