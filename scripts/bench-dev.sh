#!/bin/bash
# The guest-less device benchmark in one rig boot: bench/devbench.c plays
# the guest (no VM) against vnetloop.ko (kmod), the kernel's vhost-net on a
# tap that tc loops back (vhost-net), and the userspace engine (thread),
# alternating, the order rotated every round. Prints per backend the
# device thread's CPU per frame (median, min..max), the driver's (this
# process: it also pays the softirq of the tap's loop when that runs on
# its CPU), frames/s, and the per-round ratios kmod/vhost-net and
# kmod/thread of the device CPU (their median, min..max).
#
# usage: bench-dev.sh [--rounds N] [--frames N] [--sizes "64 1500"]
#                     [--batch B] [--no-erms]
#
# Environment: BENCH_ROUNDS (5), BENCH_FRAMES (200000), BENCH_SIZES ("64"),
# BENCH_BATCH (32), BENCH_OUT (build/bench-dev), and scripts/rig/rig.sh's
# RIG_*. `make bench-dev` builds what it needs and runs this. A benchmark:
# it fails only when a run fails, never because of the numbers.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1

rounds=${BENCH_ROUNDS:-5}
frames=${BENCH_FRAMES:-200000}
sizes=${BENCH_SIZES:-64}
batch=${BENCH_BATCH:-32}
out=${BENCH_OUT:-build/bench-dev}
backends="kmod vhost-net thread"

die() {
	echo "bench-dev: $*" >&2
	exit 1
}
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2:?}; shift ;;
	--frames) frames=${2:?}; shift ;;
	--sizes) sizes=${2:?}; shift ;;
	--batch) batch=${2:?}; shift ;;
	--no-erms) export RIG_ERMS=off ;;
	-h | --help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "bench-dev: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
for v in "$rounds" "$frames" "$batch" $sizes; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench-dev: '$v' is not a number >= 1" >&2; exit 2; }
done
[ -x build/bench/vnl_devbench ] || die "build/bench/vnl_devbench missing: run 'make bench-dev'"
[ -f vnetloop.ko ] || die "vnetloop.ko missing: run 'make bench-dev'"
mkdir -p "$out" || exit 1

scripts/rig/mkinitramfs.sh -o "$out/initramfs.cpio.gz" -m "$PWD/vnetloop.ko" \
	-f build/bench/vnl_devbench >"$out/initramfs.log" 2>&1 ||
	die "cannot build $out/initramfs.cpio.gz (see $out/initramfs.log)"

# Inside (busybox sh): one @B line per run; a failed run's stderr follows.
cat >"$out/inside.sh" <<INSIDE
echo "@B cmdline \$(cat /proc/cmdline)"
set -- $backends
r=1
while [ "\$r" -le $rounds ]; do
	for size in $sizes; do
		for b in "\$@"; do
			if build/bench/vnl_devbench --backend "\$b" --frames $frames \\
			   --size "\$size" --batch $batch >/tmp/o 2>/tmp/e; then
				echo "@B run \$r \$(cat /tmp/o)"
			else
				echo "@B fail \$r \$b \$size"
				sed 's/^/@B err /' /tmp/e
			fi
		done
	done
	# Rotate: who runs first changes every round.
	first=\$1
	shift
	set -- "\$@" "\$first"
	r=\$((r + 1))
done
INSIDE

echo "bench-dev: one rig boot: $rounds rounds of $backends, sizes $sizes, $frames frames, batch $batch" >&2
RIG_OUT=$out RIG_TEST_TIMEOUT=1700 scripts/rig/rig.sh --timeout 1800 \
	--initrd "$out/initramfs.cpio.gz" --run-file "$out/inside.sh" \
	>"$out/results.txt" 2>"$out/rig.log"
rig_rc=$?
grep '^@B err ' "$out/results.txt" | sed 's/^@B err /bench-dev:   /' >&2
failed=$(grep -c '^@B fail ' "$out/results.txt")

cmdline=$(sed -n 's/^@B cmdline //p' "$out/results.txt")
erms=no
[[ " $cmdline " =~ [[:space:]]clearcpuid=([^[:space:]]*,)?erms[,[:space:]] ]] && erms=yes
echo "bench-dev: guest-less, $frames frames a run, batch $batch, $rounds rounds, order rotated; clearcpuid=erms: $erms"
echo "device: vnetloop-<id> (kmod), vhost-<pid> (vhost-net), vnl-worker (thread); CPU from schedstat over the measured phase"
sed -n 's/^@B run //p' "$out/results.txt" | awk '
function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
function med(a, n) {
	sort(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# "median (min..max)" of the n values in a
function summary(a, n,    m) {
	if (!n)
		return "-"
	m = med(a, n)
	return sprintf("%.3f (%.3f..%.3f)", m, a[1], a[n])
}
{
	r = $1
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		f[kv[1]] = kv[2]
	}
	k = f["backend"] SUBSEP f["size"]
	dev[k, ++n[k]] = f["device_us_per_frame"]
	drv[k, n[k]] = f["driver_us_per_frame"]
	fps[k, n[k]] = f["frames_per_s"]
	byround[f["backend"], f["size"], r] = f["device_us_per_frame"]
	sizes[f["size"]] = 1
	last = r
}
END {
	printf "%-10s %6s %28s %28s %14s\n", "backend", "size", "device us/frame", "driver us/frame", "frames/s"
	split("kmod vhost-net thread", bs, " ")
	for (s in sizes)
		for (i = 1; i <= 3; i++) {
			k = bs[i] SUBSEP s
			delete a; delete b; delete c
			for (j = 1; j <= n[k]; j++) {
				a[j] = dev[k, j]; b[j] = drv[k, j]; c[j] = fps[k, j]
			}
			sort(c, n[k])
			printf "%-10s %6s %28s %28s %14s\n", bs[i], s,
				summary(a, n[k]), summary(b, n[k]),
				n[k] ? sprintf("%.0f", med(c, n[k])) : "-"
		}
	for (s in sizes)
		for (i = 2; i <= 3; i++) {
			delete a
			m = 0
			for (r = 1; r <= last; r++)
				if (("kmod", s, r) in byround && (bs[i], s, r) in byround &&
				    byround[bs[i], s, r] > 0)
					a[++m] = byround["kmod", s, r] / byround[bs[i], s, r]
			printf "ratio kmod/%s, %s B, device CPU per frame: %s over %d rounds\n",
				bs[i], s, summary(a, m), m
		}
}'
[ "$rig_rc" -eq 0 ] && [ "$failed" -eq 0 ] || {
	echo "bench-dev: $failed failed runs; rig status $rig_rc (logs in $out)" >&2
	exit 1
}
