# SPDX-License-Identifier: GPL-2.0
# TAP helpers for the shell selftests (sourced): numbered results, a failure
# count for the exit status, and a whole-program skip (kselftest exit 4).
n=0
fails=0

ok() {
	n=$((n + 1))
	echo "ok $n $*"
}

not_ok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n $*"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 4
}

# result STATUS DESCRIPTION [DETAIL]: ok when STATUS is 0, else not ok with
# the detail after the description.
result() {
	if [ "$1" -eq 0 ]; then
		ok "$2"
	else
		not_ok "$2${3:+: $3}"
	fi
}
