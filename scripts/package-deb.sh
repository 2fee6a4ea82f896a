#!/bin/bash
# `make deb`: build the vnetloop and vnetloop-dkms packages (debian/) into
# OUT (default build/deb): the .debs, the native source package, .changes and
# .buildinfo. dpkg-buildpackage writes next to the source directory, so it
# runs in a copy of the tree (scripts/package-tree.sh: uncommitted changes
# included, ignored files not), OUT/src/vnetloop-VERSION, removed after.
# The build's output goes to OUT/build.log.
#
#   package-deb.sh [OUT]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=${1:-build/deb}

die() {
	echo "deb: $*" >&2
	exit 1
}

for t in dpkg-buildpackage dh dh_dkms; do
	command -v "$t" >/dev/null ||
		die "$t is missing: apt-get install dpkg-dev debhelper dh-dkms (scripts/deps.sh)"
done
version=$(dpkg-parsechangelog -l debian/changelog -S Version) ||
	die "cannot read debian/changelog"

mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
src=$out/src/vnetloop-$version
rm -rf "$out/src"
rm -f "$out"/vnetloop*_*.{deb,changes,buildinfo,dsc,tar.xz}
mkdir -p "$src" || exit 1

scripts/package-tree.sh "$src" || die "cannot copy the tree to $src"

log=$out/build.log
echo "  DEB      $out (log: $log)"
if ! (cd "$src" &&
	DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage -us -uc) >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die "dpkg-buildpackage failed, see $log"
fi
mv -f "$out/src"/vnetloop*_* "$out/" || die "no packages in $out/src"
rm -rf "$out/src"
ls "$out"/*.deb
