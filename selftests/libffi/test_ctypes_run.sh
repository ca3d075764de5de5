#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# CPython's own test.test_ctypes (test_ctypes_driver.py) in four settings,
# two at a time (busybox sh; run as root in the x86-64 guest):
#
#   stock-normal     the system libffi                        the baseline
#   stock-locked     the same under lockdown                  expected failures
#   trampfd-normal   LD_PRELOAD=libtrampfd-ffi.so             every baseline pass passes
#   trampfd-locked   the drop-in under lockdown               every baseline pass passes
#
# Each run's lines follow "@@ct setting NAME" and end with "@@ct exit NAME
# STATUS"; scripts/ctypes-tally judges them.
#
#   test_ctypes_run.sh DIR   DIR: lockdown, libtrampfd-ffi.so, test_ctypes_driver.py;
#                            PYTHON (default /usr/bin/python3.11)
dir=${1:?usage: test_ctypes_run.sh DIR}
py=${PYTHON:-/usr/bin/python3.11}
lib=$dir/libtrampfd-ffi.so
drv=$dir/test_ctypes_driver.py
tmp=/tmp/test_ctypes.$$
mkdir -p "$tmp"

# run NAME COMMAND...: in the background, output to $tmp/NAME.
run() {
	name=$1
	shift
	# Its own working directory: some tests leave files behind.
	mkdir -p "$tmp/$name.cwd"
	(cd "$tmp/$name.cwd" && "$@" "$py" "$drv" >"$tmp/$name" 2>&1
	 echo "@@ct exit $name $?" >>"$tmp/$name") </dev/null &
}
show() {
	for name in "$@"; do
		echo "@@ct setting $name"
		cat "$tmp/$name"
	done
}

t0=$(date +%s)
run stock-normal env
run trampfd-normal env LD_PRELOAD="$lib"
wait
run stock-locked "$dir/lockdown"
run trampfd-locked env LD_PRELOAD="$lib" "$dir/lockdown"
wait
show stock-normal trampfd-normal stock-locked trampfd-locked
echo "@@ct time $(($(date +%s) - t0)) s"
rm -rf "$tmp"
