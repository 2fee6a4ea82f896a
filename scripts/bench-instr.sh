#!/bin/bash
# Instructions per frame of the ring engine, counted by callgrind (exact and
# repeatable, unlike time on a shared machine). Runs `vnl_bench -c` for each
# frame size at batch 32 and collects inside engine_round() only, so the
# count is the engine's drain plus the guest's two index stores per batch.
#
#   scripts/bench-instr.sh [BENCH_BINARY]      (make bench-instr)
set -u
bin=${1:-build/bench/vnl_bench}
kicks=${BENCH_INSTR_KICKS:-500}

if ! command -v valgrind >/dev/null 2>&1; then
	echo "bench-instr: valgrind is not installed (apt-get install valgrind)" >&2
	exit 1
fi
if [ ! -x "$bin" ]; then
	echo "bench-instr: $bin is missing (make $bin)" >&2
	exit 1
fi
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT

printf '%7s %6s %10s %14s\n' "frame" "batch" "frames" "instr/frame"
for size in 64 1500 65535; do
	batch=32
	if ! valgrind --tool=callgrind --toggle-collect=engine_round \
		--callgrind-out-file="$out/cg" "$bin" -c "$size,$batch,$kicks" \
		>"$out/stdout" 2>"$out/stderr"; then
		echo "bench-instr: $bin -c $size,$batch,$kicks failed:" >&2
		cat "$out/stderr" >&2
		exit 1
	fi
	frames=$(sed -n 's/^frames \([0-9]*\) .*/\1/p' "$out/stdout")
	instr=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out/cg")
	if [ -z "$frames" ] || [ -z "$instr" ] || [ "$frames" -eq 0 ]; then
		echo "bench-instr: no count for $size-byte frames" >&2
		exit 1
	fi
	printf '%7s %6s %10s %14.1f\n' "$size" "$batch" "$frames" \
		"$(awk -v i="$instr" -v f="$frames" 'BEGIN { print i / f }')"
done
