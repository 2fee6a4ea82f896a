#!/bin/bash
# Build the rig's initramfs: busybox, /init, the kvm modules and their
# dependencies from the rig kernel, vnetloop.ko, the test programs and extra
# files, each binary with its shared-library closure and the dynamic loader.
#
# usage: mkinitramfs.sh -o OUT.cpio.gz [-m vnetloop.ko] [-t "TESTS"] [-f "FILES"]
#                       [-k KVER] [-K KROOT]
#
# -k (or $KVER) picks the rig kernel's release (default: scripts/kver.sh's);
# one of another Debian release must have been fetched into the cache first
# (scripts/rig/fetch-kernel.sh --chroot).
# -K takes the kernel from KROOT instead, a directory laid out like
# fetch-kernel.sh's (lib/modules/KVER/; KVER defaults to its only release),
# e.g. the debug kernel of scripts/debug-kernel.sh. A module that the
# kernel has built in (modules.builtin) is not copied: /init reports it.
#
# Paths in TESTS and FILES inside the tree land at /rig/<path relative to the
# tree top> (so build/vnetloop is /rig/build/vnetloop); absolute paths outside
# the tree land at the same absolute path. /rig/tests lists the tests in order.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out='' module='' tests='' files='' kroot=''
while getopts "o:m:t:f:k:K:" opt; do
	case $opt in
	k) KVER=$OPTARG; export KVER ;;
	K) kroot=$OPTARG ;;
	o) out=$OPTARG ;;
	m) module=$OPTARG ;;
	t) tests=$OPTARG ;;
	f) files=$OPTARG ;;
	*) echo "usage: $0 -o OUT [-m MODULE.ko] [-t TESTS] [-f FILES] [-k KVER] [-K KROOT]" >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "mkinitramfs: -o OUT is required" >&2; exit 2; }

die() { echo "mkinitramfs: $*" >&2; exit 1; }

if [ -n "$kroot" ]; then
	[ -d "$kroot/lib/modules" ] || die "-K $kroot: no lib/modules/ there"
	if [ -z "${KVER:-}" ]; then
		rels=$(ls "$kroot/lib/modules")
		[ "$(wc -w <<<"$rels")" -eq 1 ] ||
			die "-K $kroot: lib/modules/ holds '$(tr '\n' ' ' <<<"$rels")', not one release: say which with -k"
		KVER=$rels
	fi
else
	kroot=$("$top/scripts/rig/fetch-kernel.sh")
	KVER=${KVER:-$("$top/scripts/kver.sh")}
fi
kmods=$kroot/lib/modules/$KVER
[ -d "$kmods/kernel" ] || [ -f "$kmods/modules.builtin" ] ||
	die "no modules and no modules.builtin in $kmods"

# A private staging directory, so that builds may overlap; the last one
# built is kept as OUT's name with .root for inspection.
mkdir -p "$(dirname "$out")"
root=$(mktemp -d "${out%.cpio.gz}.XXXXXX")
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
# Merged /usr like the host, so the paths ldd prints resolve the same way.
mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{proc,sys,dev,tmp,run,root,etc,rig}
for d in bin sbin lib lib64; do
	ln -s "usr/$d" "$root/$d"
done
chmod 1777 "$root/tmp"

# Where a tree or host path lands inside the initramfs.
inside() {
	local p=$1
	case $p in
	"$top"/*) echo "/rig/${p#"$top"/}" ;;
	/*) echo "$p" ;;
	*) p=${p#./}; echo "/rig/$p" ;;
	esac
}

# Copy the shared libraries (and loader) a dynamic ELF file needs.
add_libs() {
	local f=$1 deps lib
	# ldd fails on static binaries and on non-ELF files: nothing to add.
	deps=$(ldd "$f" 2>/dev/null) || return 0
	if grep -q 'not found' <<<"$deps"; then
		die "$f: missing libraries: $(grep 'not found' <<<"$deps" | tr -s ' \t\n' ' ')"
	fi
	while read -r lib; do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next }
		      $1 ~ /^\// { print $1 }' <<<"$deps")
}

# Copy one host file (or directory) to a path inside, with the libraries of
# every ELF in it and the interpreter of every script.
add_file() {
	local src=$1 dst=$2 f
	[ -e "$src" ] || die "$src does not exist"
	mkdir -p "$root$(dirname "$dst")"
	# The target may be a busybox applet link: replace the link, not busybox.
	rm -rf "${root:?}$dst"
	cp -aL "$src" "$root$dst"
	while IFS= read -r -d '' f; do
		add_libs "$f"
		add_interp "$f"
	done < <(find "$src" -type f -perm -u+x -print0)
}

# A script's interpreter, unless busybox provides it.
add_interp() {
	local f=$1 line interp
	IFS= read -r line <"$f" 2>/dev/null || return 0
	case $line in
	'#!'*) ;;
	*) return 0 ;;
	esac
	# shellcheck disable=SC2086 # split the interpreter from its argument
	set -- ${line#'#!'}
	interp=${1:-}
	if [ "$interp" = /usr/bin/env ]; then
		[ $# -ge 2 ] || return 0
		[ -e "$root/usr/bin/$2" ] || [ -e "$root/usr/sbin/$2" ] && return 0
		interp=$(command -v "$2") || die "$f: interpreter $2 not found on the host"
	fi
	[ -e "$root$interp" ] && return 0
	add_file "$interp" "$interp"
}

# busybox and its applets.
bb=/bin/busybox
[ -x "$bb" ] || die "$bb missing (install busybox-static)"
cp "$bb" "$root/usr/bin/busybox"
"$bb" --list-full | while read -r applet; do
	case $applet in
	usr/bin/busybox | bin/busybox) continue ;;
	esac
	[ -e "$root/$applet" ] || ln -s /usr/bin/busybox "$root/$applet"
done

install -m 0755 "$top/scripts/rig/init" "$root/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'rig\n' >"$root/etc/hostname"

# Kernel modules: NAME -> file in the rig kernel's tree (- and _ are equal);
# the ones built into the kernel.
declare -A modfile=() seen=() builtin=()
if [ -d "$kmods/kernel" ]; then
	while IFS= read -r -d '' f; do
		n=${f##*/}
		n=${n%%.ko*}
		modfile[${n//-/_}]=$f
	done < <(find "$kmods/kernel" -name '*.ko*' -print0)
fi
if [ -f "$kmods/modules.builtin" ]; then
	while IFS= read -r f; do
		n=${f##*/}
		n=${n%%.ko*}
		builtin[${n//-/_}]=1
	done <"$kmods/modules.builtin"
fi

# Copy a module, decompressed so that busybox insmod can load it.
put_module() {
	local src=$1 dst=$2
	mkdir -p "$(dirname "$dst")"
	case $src in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) die "unknown module format: $src" ;;
	esac
}

# Depth-first over `modinfo -F depends`: dependencies before dependents.
# Appends "TAG /path/inside" lines to the load list.
load_list=$root/rig/kmods
: >"$load_list"
add_module() {
	local tag=$1 name=${2//-/_} src rel dep
	[ -n "${seen[$name]:-}" ] && return 0
	seen[$name]=1
	if [ -n "${builtin[$name]:-}" ] && [ -z "${modfile[$name]:-}" ]; then
		echo "$tag builtin $name" >>"$load_list"
		return 0
	fi
	src=${modfile[$name]:-}
	[ -n "$src" ] || die "module $name not found under $kmods"
	for dep in $(modinfo -F depends "$src" | tr ',' ' '); do
		add_module "$tag" "$dep"
	done
	rel=${src#"$kmods"/}
	rel=${rel%%.ko*}.ko
	put_module "$src" "$root/lib/modules/$KVER/$rel"
	echo "$tag /lib/modules/$KVER/$rel" >>"$load_list"
}

# vnetloop.ko first in the list's eyes: its dependencies are required.
if [ -n "$module" ]; then
	[ -f "$module" ] || die "$module does not exist (run make modules)"
	mv=$(modinfo -F vermagic "$module")
	case $mv in
	"$KVER "*) ;;
	*) die "$module is built for '${mv%% *}', the rig kernel is $KVER" ;;
	esac
	for dep in $(modinfo -F depends "$module" | tr ',' ' '); do
		add_module req "$dep"
	done
fi
# kvm and kvm-amd: optional (kvm-amd needs SVM, which a host may not offer).
add_module opt kvm
add_module opt kvm_amd
# The vhost-net peer (vnetloop run --backend vhost-net): a tap looped back
# by tc. Where the kernel has them (the debug rig's has not).
for m in tun vhost_net sch_ingress cls_matchall act_mirred; do
	[ -n "${modfile[$m]:-}${builtin[$m]:-}" ] && add_module opt "$m"
done
if [ -n "$module" ]; then
	mkdir -p "$root/lib/modules/$KVER/extra"
	cp "$module" "$root/lib/modules/$KVER/extra/vnetloop.ko"
	echo "req /lib/modules/$KVER/extra/vnetloop.ko" >>"$load_list"
fi
cp "$kmods/modules.builtin" "$kmods/modules.order" "$root/lib/modules/$KVER/" 2>/dev/null || true
# modules.dep for `modprobe` in interactive and --run use.
depmod -b "$root" "$KVER" 2>/dev/null || die "depmod failed on $root"

# tc, which loops the vhost-net peer's tap back.
if p=$(command -v tc); then
	add_file "$p" "$p"
fi
# jq, which shell tests use to read JSON.
if p=$(command -v jq); then
	add_file "$p" "$p"
fi
# glibc loads libgcc_s at run time for pthread_exit and pthread_cancel.
l=/lib/x86_64-linux-gnu/libgcc_s.so.1
if [ -e "$l" ] && [ ! -e "$root$l" ]; then
	cp -L "$l" "$root$l"
fi

: >"$root/rig/tests"
for t in $tests; do
	d=$(inside "$t")
	[ -x "$t" ] || die "test $t is missing or not executable"
	add_file "$t" "$d"
	echo "$d" >>"$root/rig/tests"
done
for f in $files; do
	add_file "$f" "$(inside "$f")"
done

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$root.cpio.gz"
mv "$root.cpio.gz" "$out"
rm -rf "${out%.cpio.gz}.root"
mv "$root" "${out%.cpio.gz}.root"
