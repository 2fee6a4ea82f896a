#!/bin/bash
# Host side of the rig: boot the rig kernel with the initramfs built by
# `make rig-initramfs` under qemu (TCG), stream what runs inside, and judge
# the run. See Documentation/testing.rst ("The rig").
#
#   rig.sh                  run the tests listed in the initramfs; print TAP
#   rig.sh --run 'CMDS'     run shell commands inside instead (cwd /rig) and
#                           print their output as is; status lines on stderr
#   rig.sh --run-file FILE  the same with a script file
#   rig.sh --shell          an interactive shell on the console (Ctrl-A x quits)
#
# Options: --initrd FILE (default build/rig/initramfs.cpio.gz), --timeout S,
# --no-erms (boot with clearcpuid=erms, as RIG_ERMS=off does), --kver KVER
# (boot that release's kernel, already fetched into $CACHE/kernel/KVER by
# scripts/rig/fetch-kernel.sh; the default is scripts/kver.sh's, or $KVER),
# --kernel-root DIR (boot the kernel in DIR instead, laid out like
# fetch-kernel.sh's: vmlinux or boot/vmlinuz-KVER, lib/modules/KVER; e.g.
# scripts/debug-kernel.sh's; as RIG_KERNEL_ROOT),
# --require-debug "OPTS" (as RIG_REQUIRE_DEBUG: these CONFIG_ options, without
# the prefix, must be =y in the kernel, a result of their own; with
# DEBUG_KMEMLEAK the kmemleak result must be there too).
# Logs go to RIG_OUT (default build/rig): console.log (the kernel console),
# dmesg.log (the whole kernel log, dumped at the end), serial.log (all that
# came over the second serial port), kmemleak.log (kmemleak's report, on a
# kernel that has kmemleak).
# Environment: RIG_TIMEOUT (wall clock, default 900 s), RIG_TEST_TIMEOUT (per
# test, default 300 s), RIG_MEM (MiB, 2048), RIG_SMP (2), RIG_VERBOSE=1 (show
# the kernel console on stderr), RIG_APPEND (more kernel parameters),
# RIG_ERMS=off (boot with clearcpuid=erms: the kernel's memcpy and
# copy_*_user then avoid rep movsb, which TCG emulates one byte at a time),
# RIG_NO_MODULE=1 (accept an initramfs without vnetloop.ko; only for
# debugging the rig itself), QEMU (the emulator; the default is the rig's
# own build, scripts/rig/qemu-build.sh, built here once when missing).
#
# Exits non-zero on any failure: a failed or unfinished test, a timeout, a
# failed rmmod, debugfs entries left behind, a kernel log line that shows a
# warning, bug, oops or leak, a leak kmemleak found, or a required debugging
# option the kernel lacks.
set -uo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

initrd=build/rig/initramfs.cpio.gz
out=${RIG_OUT:-build/rig}
mode=tests
cmds=
timeout_s=${RIG_TIMEOUT:-900}
test_timeout=${RIG_TEST_TIMEOUT:-300}
qemu_bin=${QEMU:-}
erms=${RIG_ERMS:-on}
kernel_root=${RIG_KERNEL_ROOT:-}
require_debug=${RIG_REQUIRE_DEBUG:-}
# The kernel log lines that fail a run. A debug kernel's reports mostly
# start with "BUG:" (KASAN, sleeping in atomic context, smp_processor_id()
# in preemptible code) or "WARNING:" (lockdep, RCU, debugobjects); the
# others are matched by their own words too, in case a kernel prints them
# without the prefix. lockdep turns itself off after its first report or
# when its tables overflow: that is a failure as well, or the checks stop
# silently.
bad_log='WARNING:|BUG:|UBSAN:|Oops|general protection|sleeping function called from invalid context|unreferenced object|Kernel panic|kernel BUG at|INFO: task .* blocked'
bad_log="$bad_log|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|ODEBUG:|list_(add|del) corruption|turning off the locking correctness validator"
# The debugging options the rig reports (its comment line "rig: debug
# options: ..."); the required ones are added.
debug_opts="KASAN KCSAN KMSAN UBSAN PROVE_LOCKING PROVE_RCU DEBUG_ATOMIC_SLEEP DEBUG_KMEMLEAK DEBUG_OBJECTS DEBUG_PREEMPT DEBUG_LIST DEBUG_PAGEALLOC SLUB_DEBUG_ON"
M='@@VNLRIG@@'

usage() {
	sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--initrd) initrd=${2:?--initrd needs a file}; shift ;;
	--timeout) timeout_s=${2:?--timeout needs seconds}; shift ;;
	--run) mode=run; cmds=${2?--run needs commands}; shift ;;
	--run-file)
		mode=run
		cmds=$(cat "${2:?--run-file needs a file}") || exit 1
		shift ;;
	--shell) mode=shell ;;
	--no-erms) erms=off ;;
	--kver) KVER=${2:?--kver needs a kernel release}; export KVER; shift ;;
	--kernel-root) kernel_root=${2:?--kernel-root needs a directory}; shift ;;
	--require-debug) require_debug=${2?--require-debug needs options}; shift ;;
	-h | --help) usage 0 ;;
	*) echo "rig: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
	shift
done

die() {
	echo "rig: $*" >&2
	exit 1
}

case $erms in
on | off) ;;
*) die "RIG_ERMS=$erms: on (the default) or off (boot with clearcpuid=erms)" ;;
esac
[ -f "$initrd" ] || die "$initrd missing: run 'make rig-initramfs' first"
if [ -z "$qemu_bin" ]; then
	# The stock build breaks the nested KVM the tests run in; the rig's
	# own carries the fix (scripts/rig/qemu/).
	qemu_bin=$(scripts/rig/qemu-build.sh) || die "cannot build the rig's QEMU (scripts/rig/qemu-build.sh)"
fi
command -v "$qemu_bin" >/dev/null || die "$qemu_bin not found: install qemu-system-x86 (scripts/deps.sh)"
command -v cpio >/dev/null || die "cpio not found (scripts/deps.sh)"
if [ -n "$kernel_root" ]; then
	kroot=$kernel_root
	if [ -z "${KVER:-}" ]; then
		[ -d "$kroot/lib/modules" ] || die "no lib/modules/ in $kroot (--kernel-root or RIG_KERNEL_ROOT)"
		KVER=$(ls "$kroot/lib/modules")
		[ "$(wc -w <<<"$KVER")" -eq 1 ] ||
			die "$kroot/lib/modules holds '$(tr '\n' ' ' <<<"$KVER")', not one release: say which with --kver"
	fi
	[ -f "$kroot/vmlinux" ] || [ -f "$kroot/boot/vmlinuz-$KVER" ] ||
		die "no kernel in $kroot (vmlinux or boot/vmlinuz-$KVER; --kernel-root or RIG_KERNEL_ROOT)"
else
	kroot=$(scripts/rig/fetch-kernel.sh) || die "cannot get the rig kernel"
	KVER=${KVER:-$(scripts/kver.sh)} || exit 1
fi
# The uncompressed kernel when there is one (booted through PVH, faster).
kernel=$kroot/vmlinux
[ -f "$kernel" ] || kernel=$kroot/boot/vmlinuz-$KVER
for o in $require_debug; do
	case " $debug_opts " in
	*" $o "*) ;;
	*) debug_opts="$debug_opts $o" ;;
	esac
done

# Each run works in its own directory, so runs may overlap; the logs are
# moved to $out (console.log, dmesg.log, serial.log, kmemleak.log) when it
# ends.
mkdir -p "$out" || exit 1
work=$(mktemp -d "$out/run.XXXXXX") || die "cannot create a directory in $out"
console=$work/console.log
serial=$work/serial.log
dmesg_log=$work/dmesg.log
kmemleak_log=$work/kmemleak.log
: >"$console"

# The run's settings (and the commands) travel in a small second cpio archive
# appended to the initramfs: the kernel unpacks both.
extra=$work/extra
mkdir -p "$extra/rig"
{
	echo "RIG_MODE=$mode"
	echo "RIG_TEST_TIMEOUT=$test_timeout"
	echo "RIG_DEBUG_OPTS='$debug_opts'"
} >"$extra/rig/config"
[ "$mode" = run ] && printf '%s\n' "$cmds" >"$extra/rig/run.sh"
(cd "$extra" && find rig -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) >"$work/extra.cpio" ||
	die "cannot pack $work/extra.cpio"
# The kernel looks for an uncompressed archive at a 4-byte boundary only.
size=$(stat -c %s "$initrd")
{
	cat "$initrd"
	head -c $(((4 - size % 4) % 4)) /dev/zero
	cat "$work/extra.cpio"
} >"$work/boot.cpio"

# Kernel messages go to ttyS0 (the console); warnings and worse while booting,
# /init raises the level once it runs. ttyS1 carries the tests' output.
# cryptomgr.notests: the crypto self-tests cost a second of emulated boot.
# panic=-1 with -no-reboot ends qemu if the kernel panics; nothing panics on
# purpose: a warning must be seen, not turned into a crash.
append="console=ttyS0 loglevel=5 panic=-1 panic_on_warn=0 printk.devkmsg=on"
append="$append cryptomgr.notests=1"
[ "$erms" = off ] && append="$append clearcpuid=erms"
append="$append ${RIG_APPEND:-}"
# Whether ERMS is cleared, also when RIG_APPEND says so itself.
if [[ " $append " =~ [[:space:]]clearcpuid=([^[:space:]]*,)?erms[,[:space:]] ]]; then
	erms_note="rig: booting with clearcpuid=erms (the kernel's memcpy and copy_*_user avoid rep movsb)"
else
	erms_note="rig: booting without clearcpuid=erms (RIG_ERMS=off or --no-erms adds it)"
fi
qemu=("$qemu_bin" -nodefaults -no-user-config -display none -no-reboot
	-accel tcg,thread=single -cpu max -m "${RIG_MEM:-2048}" -smp "${RIG_SMP:-2}"
	-kernel "$kernel" -initrd "$work/boot.cpio" -append "$append")

if [ "$mode" = shell ]; then
	echo "$erms_note" >&2
	"${qemu[@]}" -chardev stdio,id=con,mux=on,signal=off,logfile="$console" \
		-serial chardev:con -mon chardev=con,mode=readline \
		-chardev file,id=rig,path="$serial" -serial chardev:rig
	rc=$?
	mv -f "$console" "$out/console.log"
	rm -rf "$work"
	exit $rc
fi

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}
secs() {
	printf '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

fifo=$work/serial.fifo
mkfifo "$fifo" || die "cannot create $fifo"
t0=$(now_ms)
timeout -k 10 "$timeout_s" "${qemu[@]}" \
	-chardev file,id=con,path="$console" -serial chardev:con \
	-chardev stdio,id=rig,signal=off -serial chardev:rig \
	</dev/null >"$fifo" 2>"$work/qemu.err" &
qpid=$!
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	kill "$qpid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "${RIG_VERBOSE:-0}" = 1 ]; then
	tail --pid="$qpid" -n +1 -F "$console" 2>/dev/null | sed 's/^/console: /' >&2 &
fi

# TAP goes to stdout in test mode; in run mode stdout is the commands'
# output and the rig's own lines go to stderr.
if [ "$mode" = run ]; then exec 5>&2; else exec 5>&1; fi
TAP_FD=5
# shellcheck source=selftests/tap.sh
. selftests/tap.sh
comment() {
	tap_comment <<<"$*"
}

[ "$mode" = tests ] && echo "TAP version 13"
comment "$erms_note"
comment "rig: $qemu_bin ($(cat "${qemu_bin%/*}/VERSION" 2>/dev/null || echo "as installed"))"

booted='' boot_ms='' loaded='' nomodule='' req_fail='' tests_done='' run_rc=''
rmmod_res='' debugfs_res='' ended='' in_dmesg=''
in_kmemleak='' kmemleak_res='' has_opts='' debug_res='' lockdep_res=''
cur=''

test_end() { # rc seconds
	local rc=$1 s=$2 why=
	comment "$tap_sub: exit status $rc after ${s}s"
	if [ "$rc" -gt 128 ]; then
		why="killed by signal $((rc - 128))"
		[ "$s" -ge "$test_timeout" ] && why="timed out after ${test_timeout}s"
	fi
	tap_sub_end "$rc" "$why"
	cur=
}

# debug_options proc|none [OPTS...]: the options /init found in
# /proc/config.gz, or, when the kernel has none, the ones its config file
# next to it says (a stock kernel's boot/config-KVER).
debug_options() {
	local from=$1 cfg o have=''
	shift
	if [ "$from" = proc ]; then
		has_opts=" $* "
		from=/proc/config.gz
	else
		for cfg in "$kroot/boot/config-$KVER" "$kroot/config" ''; do
			[ -f "$cfg" ] && break
		done
		if [ -z "$cfg" ]; then
			comment "rig: debug options: unknown (no /proc/config.gz, no config file in $kroot)"
			has_opts=unknown
			required_debug
			return
		fi
		has_opts=' '
		for o in $debug_opts; do
			grep -qx "CONFIG_$o=y" "$cfg" && has_opts="$has_opts$o "
		done
		from=$cfg
	fi
	for o in $debug_opts; do
		case $has_opts in *" $o "*) have="$have $o" ;; esac
	done
	comment "rig: debug options:${have:- none} (from $from)"
	required_debug
}

# The result "rig: debug options" when options are required.
required_debug() {
	local o missing=''
	[ -n "$require_debug" ] || return 0
	debug_res=1
	if [ "$has_opts" = unknown ]; then
		not_ok "rig: debug options $require_debug: the kernel's configuration is unknown"
		return
	fi
	for o in $require_debug; do
		case $has_opts in *" $o "*) ;; *) missing="$missing $o" ;; esac
	done
	if [ -z "$missing" ]; then
		ok "rig: debug options $require_debug"
	else
		not_ok "rig: debug options $require_debug: missing$missing"
	fi
}

marker() {
	local w=$1 a b c
	shift
	case $w in
	boot)
		booted=1
		boot_ms=$(($(now_ms) - t0))
		comment "rig: kernel $1 reached /init in $(secs "$boot_ms")s"
		ok "rig: booted" ;;
	kmod) # TAG NAME ok|fail [message]
		a=$1 b=$2 c=$3
		shift 3
		[ "$c" = ok ] && comment "rig: loaded $b in $*"
		[ "$c" = builtin ] && comment "rig: $b is built into the kernel"
		if [ "$c" = fail ]; then
			if [ "$a" = req ]; then
				req_fail="$req_fail $b: $*;"
			else
				comment "rig: $b did not load: $* (tests that need /dev/kvm will skip)"
			fi
		fi ;;
	nomodule) nomodule=1 ;;
	debug-options) debug_options "$@" ;;
	kvm) comment "rig: $*" ;;
	modules-loaded)
		loaded=1
		if [ -n "$nomodule" ]; then
			if [ "${RIG_NO_MODULE:-0}" = 1 ]; then
				ok "rig: insmod vnetloop # SKIP RIG_NO_MODULE=1"
			else
				not_ok "rig: insmod vnetloop: vnetloop.ko is not in the initramfs"
			fi
		elif [ -n "$req_fail" ]; then
			not_ok "rig: insmod vnetloop:$req_fail"
		else
			ok "rig: insmod vnetloop"
		fi ;;
	test-begin) cur=$1; tap_sub_begin "${1##*/}" ;;
	test-end) [ -n "$cur" ] && test_end "$1" "$2" ;;
	run-end) run_rc=$1 ;;
	tests-done) tests_done=1 ;;
	rmmod) rmmod_res=$* ;;
	debugfs) debugfs_res=$* ;;
	lockdep) lockdep_res=${1:-?} ;;
	kmemleak-begin) in_kmemleak=1; : >"$kmemleak_log" ;;
	kmemleak-end) in_kmemleak='' kmemleak_res=${1:-?} ;;
	dmesg-begin) in_dmesg=1 ;;
	dmesg-end) in_dmesg= ;;
	end) ended=1 ;;
	esac
}

shopt -s extglob
set -f
while IFS= read -r line || [ -n "$line" ]; do
	line=${line%%+($'\r')}
	printf '%s\n' "$line" >>"$serial"
	if [[ $line == "$M "* ]]; then
		# shellcheck disable=SC2086
		marker ${line#"$M "}
	elif [ -n "$in_kmemleak" ]; then
		printf '%s\n' "$line" >>"$kmemleak_log"
	elif [ -n "$in_dmesg" ]; then
		printf '%s\n' "$line" >>"$dmesg_log"
	elif [ "$mode" = run ]; then
		printf '%s\n' "$line"
	elif [ -n "$cur" ]; then
		tap_sub_line "$line"
	else
		comment "$line"
	fi
done <"$fifo"
wait "$qpid"
qrc=$?
total_ms=$(($(now_ms) - t0))
timed_out=
[ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ] && timed_out=1

if [ -n "$cur" ]; then
	not_ok "$tap_sub: did not finish (the rig stopped while it ran)"
fi
[ -n "$booted" ] || not_ok "rig: booted"
if [ -n "$require_debug" ] && [ -z "$debug_res" ]; then
	not_ok "rig: debug options $require_debug: the rig did not report them"
fi
[ -n "$booted" ] && [ -z "$loaded" ] && not_ok "rig: insmod vnetloop: modules did not finish loading"

what=tests
[ "$mode" = run ] && what=commands
if [ -n "$tests_done" ]; then
	ok "rig: $what finished before timeout"
elif [ -n "$timed_out" ]; then
	not_ok "rig: $what finished before timeout: killed after ${timeout_s}s"
else
	not_ok "rig: $what finished before timeout: the guest stopped first (qemu status $qrc)"
fi

skip_nomod=
[ -n "$nomodule" ] && [ "${RIG_NO_MODULE:-0}" = 1 ] && skip_nomod=" # SKIP RIG_NO_MODULE=1"
if [ -n "$skip_nomod" ]; then
	ok "rig: rmmod vnetloop$skip_nomod"
	ok "rig: debugfs entries removed$skip_nomod"
else
	case $rmmod_res in
	"ok 1") ok "rig: rmmod vnetloop" ;;
	ok*)
		comment "rig: rmmod vnetloop succeeded at try ${rmmod_res#ok } (the module was busy)"
		ok "rig: rmmod vnetloop" ;;
	"") not_ok "rig: rmmod vnetloop: no result" ;;
	*) not_ok "rig: rmmod vnetloop: ${rmmod_res#fail }" ;;
	esac
	case $debugfs_res in
	gone) ok "rig: debugfs entries removed" ;;
	"") not_ok "rig: debugfs entries removed: no result" ;;
	*) not_ok "rig: debugfs entries removed: left ${debugfs_res#present }" ;;
	esac
fi

# kmemleak: whenever the kernel has it; required when the options are.
case $kmemleak_res in
"")
	case " $require_debug " in
	*" DEBUG_KMEMLEAK "*)
		not_ok "rig: kmemleak scan clean: no result (the rig stopped before the scan, or the kernel has no /sys/kernel/debug/kmemleak)" ;;
	esac ;;
0) ok "rig: kmemleak scan clean" ;;
disabled)
	not_ok "rig: kmemleak scan clean: kmemleak is disabled (it turns itself off on an internal error; see the kernel log)" ;;
*)
	not_ok "rig: kmemleak scan clean: $kmemleak_res unreferenced objects ($out/kmemleak.log)"
	comment "$(head -n 30 "$kmemleak_log")" ;;
esac

# lockdep: whenever the kernel has it; required when PROVE_LOCKING is.
case $lockdep_res in
"")
	case " $require_debug " in
	*" PROVE_LOCKING "*)
		not_ok "rig: lockdep on to the end: no result (the rig stopped first, or the kernel has no /proc/lockdep_stats)" ;;
	esac ;;
1) ok "rig: lockdep on to the end" ;;
*)
	not_ok "rig: lockdep on to the end: it turned itself off (debug_locks $lockdep_res), after a report of its own or another that makes it unreliable; see the kernel log" ;;
esac

# Both the console (which survives a crash) and the full dump from inside.
bad=$(cat "$dmesg_log" "$console" 2>/dev/null | tr -d '\r' |
	grep -aE "$bad_log" | awk '!seen[$0]++' | head -n 60)
if [ -z "$booted" ] && [ ! -s "$console" ]; then
	not_ok "rig: kernel log clean: no kernel log"
elif [ -n "$bad" ]; then
	not_ok "rig: kernel log clean"
	comment "$bad"
else
	ok "rig: kernel log clean"
fi

if [ -n "$ended" ] && [ "$qrc" -eq 0 ]; then
	ok "rig: powered off"
else
	not_ok "rig: powered off (qemu status $qrc${timed_out:+, timed out})"
	[ -s "$work/qemu.err" ] && comment "qemu: $(cat "$work/qemu.err")"
fi

if [ -z "$ended" ] || [ -n "$bad" ]; then
	comment "rig: last lines of the console ($out/console.log):"
	comment "$(tr -d '\r' <"$console" 2>/dev/null | tail -n 40)"
fi
for f in console.log dmesg.log serial.log kmemleak.log; do
	if [ -f "$work/$f" ]; then
		mv -f "$work/$f" "$out/$f"
	else
		rm -f "$out/$f"
	fi
done
comment "rig: ${boot_ms:+boot $(secs "$boot_ms")s, }total $(secs "$total_ms")s; logs: $out/console.log, $out/dmesg.log"
[ "$mode" = tests ] && echo "1..$n"

if [ "$mode" = run ] && [ -n "$run_rc" ] && [ "$run_rc" -ne 0 ]; then
	echo "rig: the commands exited with status $run_rc" >&2
	exit "$run_rc"
fi
[ "$mode" = run ] && [ -z "$run_rc" ] && exit 1
[ "$fails" -eq 0 ]
