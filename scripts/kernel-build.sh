# What scripts/guest-kernel.sh and scripts/debug-kernel.sh share (sourced,
# bash): the cache key, the lock, the source tree, make with reproducible
# build stamps, and the configuration from tinyconfig plus a fragment.
#
# The caller sets KB_NAME (its name in messages and its folder in the cache)
# and KB_FRAGMENT, then calls kb_key. The key hashes the source package's
# version, the fragment, the calling script and this file: a change to any
# of them builds a new kernel, and old ones stay valid.

CACHE=${CACHE:-$HOME/.cache/vnetloop}
KB_TARBALL=/usr/src/linux-source-6.1.tar.xz
kb_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
	echo "$KB_NAME: $*" >&2
	exit 1
}

# Sets version, key, top ($CACHE/KB_NAME) and out ($top/key).
kb_key() {
	[ -f "$KB_FRAGMENT" ] || die "$KB_FRAGMENT missing"
	# The package version names the exact source (upstream + Debian
	# patches); the tarball's size and mtime stand in when dpkg did not
	# install it.
	if version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) &&
		[ -n "$version" ]; then
		:
	elif [ -f "$KB_TARBALL" ]; then
		version=$(stat -c 'size %s mtime %Y' "$KB_TARBALL")
	else
		die "$KB_TARBALL missing (apt-get install linux-source-6.1)"
	fi
	key=$({
		echo "linux-source-6.1 $version"
		cat "$KB_FRAGMENT" "$0" "${BASH_SOURCE[0]}"
	} | sha256sum | cut -c1-16)
	top=$CACHE/$KB_NAME
	out=$top/$key
}

# One build at a time per cache: a second caller waits here, then should
# look for the result again.
kb_lock() {
	mkdir -p "$top"
	exec 9>"$top/.lock"
	flock 9
}

kb_fail() {
	echo "$KB_NAME: $* (last lines of $log follow${KB_KEEP_NOTE:-})" >&2
	tail -n 30 "$log" >&2
	exit 1
}

# make in the shared, read-only source tree with objects in $build (O=).
kmake() {
	make -C "$src" O="$build" ARCH=x86_64 KBUILD_BUILD_USER=vnetloop \
		KBUILD_BUILD_HOST=vnetloop \
		KBUILD_BUILD_TIMESTAMP="linux-source-6.1 $version" "$@" \
		>>"$log" 2>&1
}

# kb_configure BUILD LOG: the source tree (scripts/kernel-src.sh), then
# tinyconfig plus the fragment in BUILD, insisting that every line of the
# fragment survived: Kconfig silently drops a symbol whose dependencies are
# unmet. Sets src, build, log, start and configured.
kb_configure() {
	build=$1 log=$2
	mkdir -p "$build"
	: >"$log"
	start=$(date +%s)
	src=$("$kb_here/kernel-src.sh" full) || die "cannot extract $KB_TARBALL"
	local tree
	tree=$(sed -n 's/^VERSION = //p;s/^PATCHLEVEL = //p;s/^SUBLEVEL = //p' \
		"$src/Makefile" | paste -sd.)
	case "$version" in
	"$tree"-* | "$tree" | size*) ;;
	*) die "$src holds $tree but linux-source-6.1 is $version: remove $src" ;;
	esac

	echo "$KB_NAME: configuring (tinyconfig + ${KB_FRAGMENT##*/})" >&2
	kmake tinyconfig || kb_fail "make tinyconfig failed (is $src clean?)"
	"$src/scripts/kconfig/merge_config.sh" -m -O "$build" \
		"$build/.config" "$KB_FRAGMENT" >>"$log" 2>&1 ||
		kb_fail "merge_config.sh failed"
	kmake olddefconfig || kb_fail "make olddefconfig failed"
	kb_check_fragment
	configured=$(date +%s)
}

kb_check_fragment() {
	local line want sym got bad=
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=* | "# CONFIG_"*" is not set") want=$line ;;
		*) continue ;;
		esac
		sym=$(echo "$want" | sed -n 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p;s/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1/p')
		grep -qxF "$want" "$build/.config" && continue
		# "not set" is also satisfied by a symbol that is absent.
		case "$want" in
		"# "*) grep -q "^$sym=" "$build/.config" || continue ;;
		esac
		got=$(grep -E "^($sym=|# $sym is not set)" "$build/.config" ||
			echo "absent")
		bad="$bad
  want '$want', got '$got'"
	done <"$KB_FRAGMENT"
	[ -z "$bad" ] || kb_fail "$KB_FRAGMENT did not apply (unmet dependencies?):$bad"
}
