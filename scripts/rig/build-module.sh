#!/bin/bash
# Build vnetloop.ko against another kernel's build tree in a copy of the
# module's sources, so that the tree's own build (`make modules`, whose
# vnetloop.ko and objects live in the tree top, kmod/ and core/) is left
# alone.
#
#   build-module.sh KDIR DIR    DIR/vnetloop.ko, built with make -C KDIR M=DIR
#
# DIR receives Kbuild, kmod/, core/ and include/ (sources and headers only).
# Files are copied only when their content changed, and sources gone from
# the tree are removed from DIR (with their objects), so a rebuild is
# incremental and never picks up a stale file. Make's output goes to stdout.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd -P)

die() {
	echo "build-module: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: build-module.sh KDIR DIR"
kdir=$1 dir=$2
[ -f "$kdir/Makefile" ] || die "$kdir is not a kernel build tree (no Makefile)"
dir=$(realpath -m "$dir")
case $dir/ in
"$top"/kmod/* | "$top"/core/* | "$top"/include/* | "$top/")
	die "$dir is the tree's own module build (make modules); give a directory of its own" ;;
esac
mkdir -p "$dir"

# The module's sources, relative to the tree top.
cd "$top"
mapfile -t srcs < <(find Kbuild kmod core include -type f \
	\( -name Kbuild -o -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)
[ ${#srcs[@]} -gt 1 ] || die "no module sources found in $top"

declare -A want=()
for f in "${srcs[@]}"; do
	want[$f]=1
	if ! cmp -s "$f" "$dir/$f"; then
		mkdir -p "$dir/$(dirname "$f")"
		cp "$f" "$dir/$f.tmp"
		mv "$dir/$f.tmp" "$dir/$f"
	fi
done
# Sources that left the tree leave the copy, objects and all.
while IFS= read -r -d '' f; do
	rel=${f#"$dir"/}
	[ -n "${want[$rel]:-}" ] && continue
	rm -f "$f"
	case $rel in
	*.c) rm -f "$dir/${rel%.c}.o" "$dir/$(dirname "$rel")/.$(basename "${rel%.c}").o.cmd" ;;
	esac
done < <(find "$dir/Kbuild" "$dir/kmod" "$dir/core" "$dir/include" -type f \
	\( -name Kbuild -o -name '*.c' -o -name '*.h' \) -print0)

make -C "$kdir" M="$dir" modules
[ -f "$dir/vnetloop.ko" ] || die "make -C $kdir M=$dir modules left no vnetloop.ko"
