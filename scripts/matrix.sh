#!/bin/bash
# The kernel matrix: for each Debian release, the module built with W=1
# against that release's kernel headers by its own gcc, the userspace built
# with its gcc and its clang, and the module's selftests run in the rig on
# that release's own stock kernel. Prints TAP (kselftest style): four
# results per release and a summary comment line each. See
# Documentation/kernels.rst.
#
#   matrix.sh [RELEASE...]     default: bookworm trixie sid
#
# bookworm is this host's release: its toolchain and headers are the host's
# (the module's own check steps use them too). Every other release builds
# in a cached chroot (scripts/chroot.sh) of build-essential,
# linux-headers-amd64, clang, pkg-config and libnl, on a copy of the tree
# (build/matrix/RELEASE/src), so nothing collides with the host's build.
# The kernel comes from the release's archive (scripts/rig/fetch-kernel.sh
# --chroot), cached by its release under $CACHE/kernel/.
#
# An archive problem (unreachable, a broken or unsigned Release, a package
# gone) is a SKIP that names the cause; an expired Release is accepted
# (sid's often is). A compile error, a warning or a failed test is a
# failure. Releases run in parallel, MATRIX_JOBS at a time (default: all;
# most of a cold run is making chroots, which waits on the archive).
# Logs: build/matrix/RELEASE/ (module.log, gcc.log, clang.log, fetch.log,
# initramfs.log, rig.tap and the rig's console.log and dmesg.log in rig/).
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=selftests/tap.sh
. selftests/tap.sh
top=$(pwd)
CACHE=${CACHE:-$HOME/.cache/vnetloop}
export CACHE
out=$top/build/matrix
jobs=${MATRIX_JOBS:-0}
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(bookworm trixie sid)
[ "$jobs" -gt 0 ] 2>/dev/null || jobs=${#releases[@]}
host_release=bookworm
# The chroot of a release other than the host's.
chroot_pkgs=(build-essential linux-headers-amd64 clang pkg-config
	libnl-3-dev libnl-genl-3-dev)

# ---- one release -----------------------------------------------------------
# Writes $dir/results: "ok|not-ok|skip DESCRIPTION" lines, "#" comments and
# one "summary ..." line; the parent numbers and prints them.

# The tree as git sees it (tracked and new files, not ignored ones), or
# without build products when this is no git checkout.
copy_tree() {
	local dst=$1
	rm -rf "$dst"
	mkdir -p "$dst"
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z -co --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -e "$f" ] && printf '%s\0' "$f"
			done | cpio -0 -pdm --quiet "$dst"
	else
		tar -c --exclude=./build --exclude=./.git --exclude='*.o' \
			--exclude='*.ko' --exclude='*.cmd' --exclude='*.mod' \
			--exclude='*.mod.c' . | tar -x -C "$dst"
	fi
}

# archive_cause REL STDERR: why chroot.sh said the archive failed. Its last
# line names the first error, unless that is mmdebstrap's own epilogue
# ("E: mmdebstrap failed to run"); then the telling line is in its log.
archive_cause() {
	local rel=$1 c log first
	c=$(tail -n1 "$2")
	case $c in
	*"mmdebstrap failed"*)
		# shellcheck disable=SC2012 # the newest log of that suite
		log=$(ls -t "$CACHE/chroot/$rel"-*.log 2>/dev/null | head -n1)
		if [ -n "$log" ] && first=$(grep -m1 -E '^E: ' "$log"); then
			c="chroot: the $rel archive failed: $first"
		fi ;;
	esac
	echo "$c"
}

release() {
	local rel=$1 dir=$out/$1 res root='' kver kcc gccv clangv rc
	local src mod_w=- user_w=() rig_line='' sel='' mod_ok='' times=''
	local t=$SECONDS
	res=$dir/results
	src=$dir/src
	rm -rf "$dir"
	mkdir -p "$dir"
	: >"$res"
	put() { printf '%s\n' "$*" >>"$res"; }
	lap() { # NAME: the seconds since the last lap, for the summary
		times="$times${times:+, }$1 $((SECONDS - t))s"
		t=$SECONDS
	}
	skip_rest() { # CAUSE: every result of this release skipped
		put "skip $rel: module builds with W=1 # SKIP $1"
		put "skip $rel: userspace builds with gcc # SKIP $1"
		put "skip $rel: userspace builds with clang # SKIP $1"
		put "skip $rel: module selftests on its kernel # SKIP $1"
		put "summary $rel: skipped: $1"
	}
	give_up() { # FAILURE WHY: no environment to build in; one failure
		put "not-ok $rel: $1"
		put "skip $rel: userspace builds with gcc # SKIP $2"
		put "skip $rel: userspace builds with clang # SKIP $2"
		put "skip $rel: module selftests on its kernel # SKIP $2"
		put "summary $rel: $2"
	}

	# make_root WHAT: the release's chroot into $root, or report why not
	# (an archive problem is a SKIP, anything else a failure) and fail.
	make_root() {
		root=$(scripts/chroot.sh make "$rel" "${chroot_pkgs[@]}" \
			2>"$dir/chroot.log")
		rc=$?
		if [ $rc -eq 3 ]; then
			skip_rest "$(archive_cause "$rel" "$dir/chroot.log")"
			return 1
		elif [ $rc -ne 0 ]; then
			give_up "$1 the chroot failed: $(tail -n1 "$dir/chroot.log")" \
				"no chroot"
			return 1
		fi
	}

	# The environment: the host, or the release's chroot.
	if [ "$rel" != "$host_release" ] && [ "$(id -u)" -ne 0 ]; then
		skip_rest "a chroot of $rel needs root"
		return
	elif [ "$rel" != "$host_release" ]; then
		make_root making || return
		kver=$(scripts/kver.sh --root "$root" 2>>"$dir/chroot.log")
		lap chroot
	else
		kver=$(scripts/kver.sh 2>>"$dir/chroot.log")
	fi
	if [ -z "$kver" ]; then
		give_up "no linux-headers-amd64: $(tail -n1 "$dir/chroot.log")" \
			"no kernel headers"
		return
	fi

	# inside CMD...: run CMD in the release's environment, the tree copy
	# at $S and the kselftest headers under $CACHE there.
	local S
	if [ -n "$root" ]; then
		S=/src
		inside() {
			scripts/chroot.sh run "$root" --bind "$src:/src" \
				--bind "$CACHE/linux-6.1-tools:/cache/linux-6.1-tools" \
				-- env CACHE=/cache "$@"
		}
	else
		S=$src
		inside() { "$@"; }
	fi

	# The kernel first: a chroot made long ago may name a kernel the
	# archive has dropped since; a fresh chroot then has the current one.
	local krc=0 kcause=''
	KVER=$kver scripts/rig/fetch-kernel.sh ${root:+--chroot "$root"} \
		>/dev/null 2>"$dir/fetch.log" || krc=$?
	if [ $krc -eq 3 ] && [ -n "$root" ] &&
		[ -z "$(find "$root/.done" -mmin -60 2>/dev/null)" ]; then
		echo "matrix: remaking the $rel chroot, its kernel is gone" >>"$dir/fetch.log"
		scripts/chroot.sh remove "$root" >>"$dir/fetch.log" 2>&1
		make_root remaking || return
		kver=$(scripts/kver.sh --root "$root")
		krc=0
		KVER=$kver scripts/rig/fetch-kernel.sh --chroot "$root" \
			>/dev/null 2>>"$dir/fetch.log" || krc=$?
	fi
	[ $krc -eq 0 ] || kcause=$(tail -n1 "$dir/fetch.log")
	lap kernel

	copy_tree "$src"
	kcc=$(inside sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' \
		"/lib/modules/$kver/build/.config" 2>/dev/null)
	kcc=${kcc##* }
	gccv=$(inside gcc -dumpfullversion 2>/dev/null)
	clangv=$(inside clang -dumpversion 2>/dev/null)

	# The module, W=1, by the compiler the kernel was built with.
	if inside make -C "/lib/modules/$kver/build" M="$S" W=1 -j"$(nproc)" \
		modules >"$dir/module.log" 2>&1; then
		mod_w=$(grep -c 'warning:' "$dir/module.log")
		if [ "$mod_w" -eq 0 ]; then
			put "ok $rel: module builds with W=1 against $kver (gcc ${kcc:-?}), no warning"
			mod_ok=1
		else
			put "not-ok $rel: module builds with W=1 against $kver (gcc ${kcc:-?}): warnings: $mod_w"
		fi
	else
		mod_w=$(grep -c 'warning:' "$dir/module.log")
		put "not-ok $rel: module builds with W=1 against $kver (gcc ${kcc:-?}): build failed (build/matrix/$rel/module.log)"
	fi
	[ -n "$mod_ok" ] ||
		grep -E 'warning:|error:' "$dir/module.log" | head -n 20 | sed 's/^/# /' >>"$res"
	lap module

	# The userspace, with gcc and with clang; -Werror makes any warning
	# an error, so the counts are of diagnostics either way.
	local cc v n
	for cc in gcc clang; do
		v=$gccv
		[ $cc = clang ] && v=$clangv
		if [ -z "$v" ]; then
			put "not-ok $rel: userspace builds with $cc: no $cc there"
			user_w+=(-)
			continue
		fi
		inside make -C "$S" --no-print-directory -k -j"$(nproc)" CC=$cc \
			CLANG=clang B=build-$cc matrix-userspace >"$dir/$cc.log" 2>&1
		rc=$?
		n=$(grep -cE 'warning:|error:' "$dir/$cc.log")
		user_w+=("$n")
		if [ $rc -eq 0 ] && [ "$n" -eq 0 ]; then
			put "ok $rel: userspace builds with $cc $v, no warning"
		else
			put "not-ok $rel: userspace builds with $cc $v: $n diagnostics, make status $rc (build/matrix/$rel/$cc.log)"
			grep -E 'warning:|error:' "$dir/$cc.log" | head -n 20 | sed 's/^/# /' >>"$res"
		fi
		lap $cc
	done

	# The module's selftests on the release's own kernel.
	if [ -n "$kcause" ]; then
		if [ $krc -eq 3 ]; then
			put "skip $rel: module selftests on $kver # SKIP $kcause"
			sel="skipped (archive)"
		else
			put "not-ok $rel: module selftests on $kver: fetching the kernel failed: $kcause"
			sel="no kernel"
		fi
	elif [ -z "$mod_ok" ] && [ ! -f "$src/vnetloop.ko" ]; then
		put "skip $rel: module selftests on $kver # SKIP the module did not build"
		sel="no module"
	elif ! scripts/rig/mkinitramfs.sh -k "$kver" -o "$dir/initramfs.cpio.gz" \
		-m "$src/vnetloop.ko" -t "$kst" >"$dir/initramfs.log" 2>&1; then
		put "not-ok $rel: module selftests on $kver: building the initramfs failed: $(tail -n1 "$dir/initramfs.log")"
		sel="no initramfs"
	else
		RIG_OUT=$dir/rig scripts/rig/rig.sh --kver "$kver" \
			--initrd "$dir/initramfs.cpio.gz" >"$dir/rig.tap" 2>&1
		rc=$?
		# Results of the programs, and the rig's own checks.
		local tp tf ts tn rp rf rs
		read -r tp tf ts <<<"$(grep -vE '^(not )?ok [0-9]+ rig: ' "$dir/rig.tap" | tap_count)"
		read -r rp rf rs <<<"$(grep -E '^(not )?ok [0-9]+ rig: ' "$dir/rig.tap" | tap_count)"
		tn=$((tp + tf + ts))
		rig_line="$((tp + ts))/$tn"
		[ "$ts" -eq 0 ] || rig_line="$rig_line ($ts skipped)"
		rig_line="$rig_line, rig checks $((rp + rs))/$((rp + rf + rs))"
		sel=$rig_line
		if [ $rc -eq 0 ] && [ "$tn" -gt 0 ] && [ "$tf" -eq 0 ]; then
			put "ok $rel: module selftests on $kver in the rig: $rig_line"
		else
			put "not-ok $rel: module selftests on $kver in the rig: $rig_line, rig.sh status $rc (build/matrix/$rel/rig.tap)"
			grep -E '^not ok' "$dir/rig.tap" | head -n 20 | sed 's/^/# /' >>"$res"
			tail -n 5 "$dir/rig.tap" | sed 's/^/# /' >>"$res"
		fi
		lap rig
	fi
	put "# $rel: $times"
	put "summary $rel $kver gcc ${gccv:-?} clang ${clangv:-?}: module W=1 warnings $mod_w, userspace gcc/clang warnings ${user_w[0]:-?}/${user_w[1]:-?}, selftests $sel"
}

# ---- all of them -----------------------------------------------------------
echo "TAP version 13"
mkdir -p "$out"
start=$(date +%s)
# The host's part first: the kselftest headers every release's userspace
# build reads, and the selftest programs every rig runs (userspace: the
# host's build serves every kernel).
if ! { scripts/kernel-src.sh tools >/dev/null &&
	make --no-print-directory -s selftests-kmod; } >"$out/host.log" 2>&1; then
	sed 's/^/# /' "$out/host.log" | tail -n 20
	echo "not ok 1 matrix: building the module selftests on the host failed"
	echo "1..1"
	exit 1
fi
kst=$(make --no-print-directory -s matrix-kmod-tests)

for rel in "${releases[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	release "$rel" >"$out/$rel.log" 2>&1 &
done
wait

summaries=()
for rel in "${releases[@]}"; do
	res=$out/$rel/results
	echo "# ---- $rel"
	if [ ! -s "$res" ]; then
		not_ok "$rel: the matrix run stopped ($out/$rel.log)"
		tail -n 10 "$out/$rel.log" | sed 's/^/# /'
		continue
	fi
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok }" ;;
		"not-ok "*) not_ok "${line#not-ok }" ;;
		"skip "*) ok "${line#skip }" ;;
		"summary "*) summaries+=("# matrix: ${line#summary }") ;;
		*) echo "$line" ;;
		esac
	done <"$res"
done
printf '%s\n' "${summaries[@]}"
echo "# matrix: $(($(date +%s) - start))s, logs in build/matrix/"
echo "1..$n"
[ "$fails" -eq 0 ]
