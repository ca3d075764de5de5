#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own selftests (built unchanged by scripts/check-hook-kselftests)
# natively, then under LD_PRELOAD=libsyscallhook.so lazy, then eager, in the
# test guest as root (a zpoline member) with the module loaded.
#
#   sh kselftests.sh LIST
#
# LIST has one program a line: "NAME DIR/PROGRAM [ARG...]" (DIR relative to
# this script's directory; the program runs in its own directory, as
# run_kselftest.sh runs it), or "=strace NAME DIR/PROGRAM [COUNTCMP-OPTION...]"
# for a comparison of the hook's counter with strace -f (countcmp.py).
# For each program and setting the output goes to stdout between
# "--- begin NAME SETTING" and "--- end NAME SETTING rc=RC ms=MS", RC being
# the exit status (KSFT_SKIP is 4; 137 a timeout) and MS the wall time in
# milliseconds. The hooked runs use SYSCALLHOOK=count, whose tables
# ("syscallhook:  NR  N" lines, one table per process image that exits,
# written to their own file and shown after the program's output) show
# which calls went through the hook. KSFT_TIMEOUT (default 60)
# seconds per run, or the list line's "@timeout=SECONDS".
LIB=${HOOKLIB:-/t/libsyscallhook.so}
T=${KSFT_TIMEOUT:-60}
top=$(cd "$(dirname "$0")" && pwd)
list=$1
ms() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}0"
}
# t1 - t0, or -1 (with both values shown on stderr) if either is not a
# number: one run's timing must not end the whole list.
elapsed() {
	case "$1,$2" in
	,* | *, | *[!0-9,]*)
		echo "kselftests.sh: odd uptime readings '$1' '$2'" >&2
		echo -1
		;;
	*) echo $(($2 - $1)) ;;
	esac
}
while read -r name path args; do
	case "$name" in '' | \#*) continue ;; esac
	modes="native lazy eager"
	if [ "$name" = =strace ]; then
		name=$path
		set -- $args
		path=$1
		shift
		args=$*
		modes=strace
	fi
	# "@timeout=SECONDS" among the arguments: this program's own limit.
	t=$T
	case " $args " in
	*" @timeout="*)
		t=${args##*@timeout=}
		t=${t%% *}
		args=$(echo "$args" | sed 's/ *@timeout=[0-9]*//')
		;;
	esac
	dir=$top/${path%/*}
	prog=./${path##*/}
	for mode in $modes; do
		echo "--- begin $name $mode"
		set --
		# The counter's tables go to their own file (fd 9, appended):
		# a process the harness kills while it writes its table cannot
		# cut into the harness's own lines.
		case $mode in
		lazy) set -- env LD_PRELOAD=$LIB SYSCALLHOOK=count SYSCALLHOOK_OUT_FD=9 ;;
		eager) set -- env LD_PRELOAD=$LIB SYSCALLHOOK=count SYSCALLHOOK_MODE=eager SYSCALLHOOK_OUT_FD=9 ;;
		strace) set -- /usr/bin/python3.11 /t/countcmp.py $args -- ;;
		esac
		[ $mode = strace ] && args=
		t0=$(ms)
		# A session of its own, killed as a whole at the timeout and after
		# the run, and its own output file: a child left behind by a
		# program cannot write into the next program's output.
		rm -f /tmp/ksft.counts
		(cd "$dir" && exec setsid "$@" "$prog" $args) >/tmp/ksft.out 2>&1 9>>/tmp/ksft.counts &
		pid=$!
		(sleep "$t"; kill -9 -- -$pid) >/dev/null 2>&1 &
		killer=$!
		wait $pid
		rc=$?
		t1=$(ms)
		kill $killer 2>/dev/null
		kill -9 -- -$pid 2>/dev/null
		cat /tmp/ksft.out
		echo
		cat /tmp/ksft.counts 2>/dev/null
		echo "--- end $name $mode rc=$rc ms=$(elapsed "$t0" "$t1")"
	done
done <"$list"
