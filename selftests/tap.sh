# SPDX-License-Identifier: GPL-2.0
# The project's one TAP reader and writer (sourced; POSIX sh, so it serves
# busybox in the rig as well as bash on the host). Every test step, runner
# and merger goes through it, so "passed", "failed" and "skipped" mean the
# same everywhere:
#  - a result is a line "ok N ..." or "not ok N ..." (an optional "- "
#    after the number);
#  - "# SKIP" after a result makes it a skip, "# TODO" on a "not ok" makes
#    it no failure;
#  - a program's own TAP is one sub-test: its results are renumbered into
#    the outer stream with its name in front; it fails if it reports a
#    failure, exits non-zero (exit 4 with no results is a skip, as in
#    kselftest), says "Bail out!" or reports fewer results than it planned.
#
# Output goes to file descriptor $TAP_FD (default 1).
n=0
fails=0
TAP_FD=${TAP_FD:-1}

tap_out() {
	echo "$*" >&"$TAP_FD"
}

# A numbered result line; "not ok" counts as a failure unless it is a skip.
tap_emit() { # ok|"not ok" DESCRIPTION
	n=$((n + 1))
	tap_out "$1 $n $2"
	if [ "$1" != ok ]; then
		case $2 in
		*"# SKIP"*|*"#SKIP"*|*"# TODO"*|*"#TODO"*) ;;
		*) fails=$((fails + 1)) ;;
		esac
	fi
}

ok() {
	tap_emit ok "$*"
}

not_ok() {
	tap_emit "not ok" "$*"
}

skip_all() {
	tap_out "1..0 # SKIP $*"
	exit 4
}

# result STATUS DESCRIPTION [DETAIL]: ok when STATUS is 0, else not ok with
# the detail after the description. Returns whether it was ok.
result() {
	if [ "$1" -eq 0 ]; then
		ok "$2"
	else
		not_ok "$2${3:+: $3}"
		return 1
	fi
}

# Every line of standard input as a TAP comment.
tap_comment() {
	while IFS= read -r tap_l; do
		tap_out "# $tap_l"
	done
}

# tap_count FILE...: "PASSED FAILED SKIPPED" over the result lines of a TAP
# stream (indented ones too: nested kselftest output counts as it is).
tap_count() {
	awk '
	/^[[:space:]]*(not )?ok [0-9]+/ {
		if ($0 ~ /#[[:space:]]*SKIP/)
			s++
		else if ($0 ~ /^[[:space:]]*not ok/ && $0 !~ /#[[:space:]]*TODO/)
			f++
		else
			p++
	}
	END { printf "%d %d %d\n", p, f, s }' "$@"
}

# ---- one program's TAP merged into this stream ----------------------------
# tap_sub_begin NAME; tap_sub_line LINE (each line, as it comes);
# tap_sub_end STATUS [WHY]: WHY replaces "exited with status N" when the
# caller knows better (a timeout, a signal).

tap_sub_begin() {
	tap_sub=$1 tap_sub_plan=0 tap_sub_res=0 tap_sub_fail=0 tap_sub_skip=
}

tap_sub_line() {
	tap_l=$1
	case $tap_l in
	"not ok "[0-9]*) tap_st="not ok" tap_d=${tap_l#not ok } ;;
	"ok "[0-9]*) tap_st=ok tap_d=${tap_l#ok } ;;
	"1.."[0-9]*)
		tap_sub_plan=${tap_l#1..}
		tap_sub_plan=${tap_sub_plan%%[!0-9]*}
		case $tap_l in
		*"# SKIP"*) tap_sub_skip=${tap_l#*# SKIP}
			    tap_sub_skip=${tap_sub_skip# } ;;
		esac
		tap_out "# $tap_sub: $tap_l"
		return ;;
	"Bail out!"*)
		tap_sub_fail=$((tap_sub_fail + 1))
		not_ok "$tap_sub: $tap_l"
		return ;;
	"TAP version"*) return ;;
	"#"*) tap_out "$tap_l"; return ;;
	*) tap_out "# $tap_l"; return ;;
	esac
	# Drop the number and an optional "- ".
	tap_d=${tap_d#"${tap_d%%[!0-9]*}"}
	tap_d=${tap_d# }
	tap_d=${tap_d#- }
	tap_sub_res=$((tap_sub_res + 1))
	tap_f=$fails
	tap_emit "$tap_st" "$tap_sub: $tap_d"
	[ "$fails" -eq "$tap_f" ] || tap_sub_fail=$((tap_sub_fail + 1))
}

# Returns 0 if the sub-test passed or was skipped as a whole.
tap_sub_end() { # STATUS [WHY]
	tap_rc=$1
	if [ "$tap_sub_res" -eq 0 ] && [ "$tap_sub_plan" -eq 0 ] &&
	   [ "$tap_rc" -eq 0 ]; then
		ok "$tap_sub"
	elif [ "$tap_sub_res" -eq 0 ] && [ "$tap_rc" -eq 4 ]; then
		ok "$tap_sub # SKIP ${tap_sub_skip:-exit status 4 with no results}"
	elif [ "$tap_rc" -ne 0 ] && [ "$tap_rc" -ne 4 ] &&
	     [ "$tap_sub_fail" -eq 0 ]; then
		not_ok "$tap_sub: ${2:-exited with status $tap_rc}"
		return 1
	elif [ "$tap_sub_plan" -gt 0 ] &&
	     [ "$tap_sub_res" -ne "$tap_sub_plan" ]; then
		not_ok "$tap_sub: planned $tap_sub_plan results, reported $tap_sub_res"
		return 1
	fi
	[ "$tap_sub_fail" -eq 0 ]
}

# tap_sub NAME STATUS [WHY] < TAP: a finished program's whole output.
tap_sub() {
	tap_sub_begin "$1"
	while IFS= read -r tap_line; do
		tap_sub_line "$tap_line"
	done
	tap_sub_end "$2" ${3:+"$3"}
}
