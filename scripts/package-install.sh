#!/bin/bash
# `make install` and `make uninstall` (scripts/package.mk).
#
#   package-install.sh install DESTDIR MANIFEST MODE:SOURCE:DEST...
#   package-install.sh uninstall DESTDIR MANIFEST MODE:SOURCE:DEST...
#
# install copies each SOURCE to DESTDIR/DEST with MODE. It creates the
# missing directories one level at a time and writes the files and the
# directories it created to DESTDIR/MANIFEST ("file PATH", "dir PATH";
# paths without DESTDIR), merged with what an earlier install wrote there.
# uninstall removes the files the manifest names (and each DEST, in case the
# manifest is gone), the manifest, then the directories it names, deepest
# first, when they are empty: what existed before install stays, what it
# created goes.
set -euo pipefail

die() {
	echo "install: $*" >&2
	exit 1
}

op=${1:-}
[ $# -ge 3 ] || die "usage: $0 install|uninstall DESTDIR MANIFEST MODE:SOURCE:DEST..."
destdir=${2%/}
manifest=$3
shift 3
case $manifest in
/*) ;;
*) die "the manifest path '$manifest' must be absolute" ;;
esac

# The manifest's lines, oldest first ("" if there is none).
old_lines() {
	[ -f "$destdir$manifest" ] && cat "$destdir$manifest"
	return 0
}

# Create the directories up to $1 that are missing, top down; print the
# ones created as manifest lines. mkdir without -p: a directory that another
# install made in the meantime is not ours.
make_dirs() {
	local path=$1 p='' part
	local -a parts
	IFS=/ read -ra parts <<<"${path#/}"
	[ -n "$destdir" ] && mkdir -p "$destdir"
	for part in "${parts[@]}"; do
		[ -n "$part" ] || continue
		p=$p/$part
		[ -d "$destdir$p" ] && continue
		if mkdir "$destdir$p" 2>/dev/null; then
			echo "dir $p"
		else
			[ -d "$destdir$p" ] || die "cannot create $destdir$p"
		fi
	done
}

do_install() {
	local entry mode src dst new=''
	for entry in "$@"; do
		IFS=: read -r mode src dst <<<"$entry"
		if [ -z "$mode" ] || [ -z "$src" ] || [ -z "$dst" ]; then
			die "bad entry '$entry' (MODE:SOURCE:DEST)"
		fi
		[ -f "$src" ] || die "$src does not exist (build it first)"
		new+=$(make_dirs "$(dirname "$dst")")$'\n'
		install -m "$mode" "$src" "$destdir$dst"
		echo "  INSTALL $destdir$dst"
		new+="file $dst"$'\n'
	done
	new+=$(make_dirs "$(dirname "$manifest")")$'\n'
	# Earlier lines first, so that directories stay in creation order.
	{ old_lines; printf '%s' "$new"; } | awk 'NF && !seen[$0]++' \
		>"$destdir$manifest.tmp"
	mv -f "$destdir$manifest.tmp" "$destdir$manifest"
}

do_uninstall() {
	local entry mode src dst lines path d
	local -a dirs=()
	lines=$(old_lines)
	[ -n "$lines" ] ||
		echo "uninstall: no $destdir$manifest; removing the files only" >&2
	{
		for entry in "$@"; do
			IFS=: read -r mode src dst <<<"$entry"
			echo "$dst"
		done
		awk '$1 == "file" { sub(/^file /, ""); print }' <<<"$lines"
	} | awk 'NF && !seen[$0]++' | while IFS= read -r path; do
		if [ -e "$destdir$path" ] || [ -L "$destdir$path" ]; then
			rm -f "$destdir$path"
			echo "  REMOVE  $destdir$path"
		fi
	done
	rm -f "$destdir$manifest"
	# Deepest first: a directory's children go before it.
	while IFS= read -r d; do
		dirs+=("$d")
	done < <(awk '$1 == "dir" { sub(/^dir /, ""); print gsub(/\//, "/"), $0 }' <<<"$lines" |
		sort -k1,1nr -s | cut -d' ' -f2-)
	for d in "${dirs[@]}"; do
		d=$destdir$d
		[ -d "$d" ] || continue
		if rmdir "$d" 2>/dev/null; then
			echo "  RMDIR   $d"
		else
			echo "uninstall: $d is not empty; kept" >&2
		fi
	done
}

case $op in
install) do_install "$@" ;;
uninstall) do_uninstall "$@" ;;
*) die "unknown operation '$op' (install or uninstall)" ;;
esac
