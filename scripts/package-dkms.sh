#!/bin/bash
# The DKMS targets of scripts/package.mk.
#
#   package-dkms.sh source DESTDIR VERSION FILE...
#       copy the module's source (FILE..., tree paths) to
#       DESTDIR/usr/src/vnetloop-VERSION (debian/rules uses it)
#   package-dkms.sh install "" VERSION FILE...
#       the same into /usr/src, then dkms add and dkms install for every
#       kernel with headers (/lib/modules/*/build); a kernel that dkms.conf
#       excludes (BUILD_EXCLUSIVE_KERNEL) is skipped. Root.
#   package-dkms.sh uninstall "" VERSION
#       dkms remove --all, then the source directory. Root.
#
# The vnetloop-dkms package owns the same directory: with it installed,
# install and uninstall refuse (remove the package, or use the package).
set -uo pipefail
name=vnetloop

die() {
	echo "dkms: $*" >&2
	exit 1
}

op=${1:-}
[ $# -ge 3 ] || die "usage: $0 source|install|uninstall DESTDIR VERSION [FILE...]"
destdir=${2%/}
version=$3
shift 3
[ -n "$version" ] || die "no PACKAGE_VERSION in dkms.conf"
src=/usr/src/$name-$version

copy_source() { # DIR FILE...
	local dir=$1 f
	shift
	rm -rf "$dir"
	for f in "$@"; do
		install -D -m 0644 "$f" "$dir/$f" || die "cannot install $f into $dir"
	done
	echo "  DKMS-SRC $dir"
}

system_checks() {
	[ -z "$destdir" ] || die "DESTDIR does not apply: DKMS registers the module on this system (make dkms-source stages the source)"
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	command -v dkms >/dev/null || die "dkms is not installed (apt-get install dkms)"
	local st
	st=$(dpkg-query -W -f='${Status}' "$name-dkms" 2>/dev/null) || st=
	case $st in
	"" | *" not-installed" | *" config-files") ;;
	*) die "the $name-dkms package is installed and owns $src: remove it first (apt-get remove $name-dkms)" ;;
	esac
}

# Whether DKMS knows this version.
registered() {
	[ -n "$(dkms status -m "$name" -v "$version" 2>/dev/null)" ]
}

do_install() {
	local k kver built=0 skipped=0 failed=0 rc
	system_checks
	if registered; then
		dkms remove -m "$name" -v "$version" --all >/dev/null ||
			die "dkms remove of the earlier $name/$version failed"
	fi
	copy_source "$src" "$@"
	dkms add -m "$name" -v "$version" || die "dkms add failed"
	for k in /lib/modules/*/build; do
		[ -e "$k/include" ] || continue
		kver=${k#/lib/modules/}
		kver=${kver%/build}
		dkms install -m "$name" -v "$version" -k "$kver"
		rc=$?
		case $rc in
		0) built=$((built + 1)) ;;
		77) skipped=$((skipped + 1)); echo "dkms: $kver skipped (BUILD_EXCLUSIVE_KERNEL in dkms.conf)" ;;
		*) failed=$((failed + 1)); echo "dkms: the build for $kver failed (status $rc)" >&2 ;;
		esac
	done
	echo "dkms: $name $version installed for $built kernel(s), $skipped skipped, $failed failed"
	[ "$built" -gt 0 ] || [ "$failed" -gt 0 ] ||
		echo "dkms: no kernel headers found: install linux-headers-$(uname -r) (or your distribution's headers), then dkms autoinstall" >&2
	[ "$failed" -eq 0 ]
}

do_uninstall() {
	system_checks
	if registered; then
		dkms remove -m "$name" -v "$version" --all || die "dkms remove failed"
	fi
	if [ -d "$src" ]; then
		rm -rf "$src"
		echo "  RMDIR   $src"
	fi
}

case $op in
source) copy_source "$destdir$src" "$@" ;;
install) do_install "$@" ;;
uninstall) do_uninstall ;;
*) die "unknown operation '$op' (source, install or uninstall)" ;;
esac
