#!/bin/bash
# Cached Debian chroots for the checks that need another release or a fresh
# machine (mmdebstrap, as root).
#
#   chroot.sh make SUITE [PKG...]   build (or reuse) a chroot of SUITE with
#                                   the packages; prints its directory
#   chroot.sh remove DIR            delete a chroot, never through a mount
#                                   a killed run left behind
#   chroot.sh run DIR [--bind SRC:DST]... -- CMD...
#                                   run CMD in the chroot with /proc, /sys
#                                   and /dev mounted (objtool on 7.x needs
#                                   /proc) and the binds; unmounts after
#
# Chroots live under $CACHE/chroot/, keyed by the suite, the packages, this
# script and, for sid (a moving target), the day. A key that is complete
# has a .done stamp; an interrupted build is redone. When a key changes, the
# old chroot of the same suite and packages is removed.
#
# Exit status of make: 0, 1 on a local failure, 3 when the archive is the
# problem (unreachable, no such package, expired or broken Release): the
# cause is the last line on stderr, for a SKIP that names it.
set -uo pipefail
CACHE=${CACHE:-$HOME/.cache/vnetloop}
MIRROR=${VNL_MIRROR:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "chroot: $*" >&2
	exit 1
}

# rm -rf a chroot, but never through a mount a crashed run left in it (a
# bind of /dev or of the tree would be emptied too).
safe_rm() {
	local d=$1 t
	[ -e "$d" ] || return 0
	findmnt -rn -o TARGET | grep -F "$d/" | sort -r | while read -r t; do
		umount -l "$t"
	done
	if findmnt -rn -o TARGET | grep -qF "$d/"; then
		die "$d still has mounts; not removing it"
	fi
	rm -rf "$d"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap and chroot)"
}

cmd_make() {
	local suite=${1:?chroot.sh make SUITE [PKG...]} name key dir log pkgs
	shift
	need_root
	command -v mmdebstrap >/dev/null ||
		die "mmdebstrap is not installed (apt-get install mmdebstrap)"
	pkgs=$(printf '%s\n' "$@" | sort -u | tr '\n' ',')
	pkgs=${pkgs%,}
	# NAME-KEY: one chroot per suite and package set (NAME), remade when
	# the key changes; chroots of other package sets are left alone.
	name=$suite-$(echo "$pkgs" | sha256sum | cut -c1-8)
	key=$( { echo "$suite $pkgs $MIRROR"; cat "$here/chroot.sh"
		[ "$suite" = sid ] && date -u +%F; } | sha256sum | cut -c1-12)
	dir=$CACHE/chroot/$name-$key
	if [ -f "$dir/.done" ]; then
		echo "$dir"
		return 0
	fi
	mkdir -p "$CACHE/chroot"
	exec 9>"$CACHE/chroot/.lock-$suite"
	flock 9
	if [ -f "$dir/.done" ]; then
		echo "$dir"
		return 0
	fi
	safe_rm "$dir"
	log=$CACHE/chroot/$suite-$key.log
	echo "chroot: making $suite${pkgs:+ with $pkgs}" >&2
	# sid's Release may be past its Valid-Until: take it anyway.
	if ! mmdebstrap --variant=apt --components=main \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='APT::Install-Recommends "false"' \
		${pkgs:+--include="$pkgs"} "$suite" "$dir" "$MIRROR" \
		>"$log" 2>&1; then
		safe_rm "$dir"
		if grep -qE 'Failed to fetch|Could not resolve|Unable to locate|unable to connect|Temporary failure|no longer valid|NO_PUBKEY|is not signed|Release file|Unable to fetch|E: The repository' "$log"; then
			# The first error names the cause; the last is
			# mmdebstrap's own "failed to run".
			echo "chroot: the $suite archive failed: $(grep -E '^E:' "$log" | head -1)" >&2
			exit 3
		fi
		die "mmdebstrap $suite failed, see $log: $(tail -1 "$log")"
	fi
	for old in "$CACHE/chroot/$name"-*; do
		[ "$old" = "$dir" ] || [ ! -d "$old" ] || {
			safe_rm "$old"
			rm -f "$old.log"
		}
	done
	touch "$dir/.done"
	echo "$dir"
}

cmd_run() {
	local dir=${1:?chroot.sh run DIR [--bind SRC:DST]... -- CMD...} m
	local -a binds=()
	shift
	need_root
	[ -f "$dir/.done" ] || die "$dir is not a finished chroot"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in
		--bind) binds+=("${2:?--bind needs SRC:DST}"); shift ;;
		*) die "run: unknown argument '$1'" ;;
		esac
		shift
	done
	[ "${1:-}" = -- ] || die "run: '--' before the command is missing"
	shift
	cleanup() {
		local i
		for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
			umount -l "${mounted[i]}" 2>/dev/null
		done
	}
	trap cleanup EXIT
	mnt() {	# mnt TARGET MOUNT-ARGS...
		local t=$1
		shift
		mkdir -p "$t"
		mount "$@" "$t" || die "mount $* $t failed"
		mounted+=("$t")
	}
	mnt "$dir/proc" -t proc proc
	mnt "$dir/sys" --rbind /sys
	mnt "$dir/dev" --rbind /dev
	for m in "${binds[@]}"; do
		mnt "$dir/${m#*:}" --bind "${m%%:*}"
	done
	cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null
	chroot "$dir" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LC_ALL=C.UTF-8 "$@"
}

mounted=()	# what cmd_run mounted, for the exit trap

case ${1:-} in
make) shift; cmd_make "$@" ;;
remove) need_root; safe_rm "${2:?chroot.sh remove DIR}" ;;
run) shift; cmd_run "$@" ;;
*) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 2 ;;
esac
