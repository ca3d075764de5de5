#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Python ctypes callbacks (libffi closures) in four settings, as one TAP
# stream (busybox sh; run as root in the x86-64 guest):
#
#   normal      + LD_PRELOAD=libtrampfd-ffi.so	pass, closures on /dev/trampfd
#   normal      + preload, as uid 1000		pass
#   locked-down + preload			pass
#   locked-down, stock libffi			must fail (MemoryError): "ok ... expected failure"
#   normal, stock libffi				pass (closures on stock libffi's RWX memory)
#
# plus "lockdown --check" run through lockdown (the lockdown survives execve)
# and dropin_test (the drop-in's own promises, from C, with the preload).
#
#   ctypes_run.sh [DIR]   DIR holds lockdown, libtrampfd-ffi.so, ctypes_test.py
#                         (default: this script's directory); PYTHON=python3.11
dir=${1:-$(dirname "$0")}
dir=$(cd "$dir" && pwd)
py=${PYTHON:-/usr/bin/python3.11}
lib=$dir/libtrampfd-ffi.so
test=$dir/ctypes_test.py
n=0
nfail=0

ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n $1"; }

# Run "$@" (a TAP producer); re-number its ok / not ok lines under "$1: ",
# keep everything else as comments; then one line for its exit status.
tap() {
	label=$1
	shift
	out=/tmp/ctypes_run.$$
	"$@" >"$out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*) ok "$label: $(echo "$line" | sed 's/^ok [0-9]* //')" ;;
		"not ok "*) notok "$label: $(echo "$line" | sed 's/^not ok [0-9]* //')" ;;
		*) echo "# $line" ;;
		esac
	done <"$out"
	rm -f "$out"
	if [ $rc -eq 0 ]; then
		ok "$label: exit status 0"
	else
		notok "$label: exit status $rc"
	fi
}

[ -x "$py" ] || { echo "1..1"; echo "not ok 1 no $py"; exit 1; }
[ -f "$lib" ] || echo "# no $lib: the LD_PRELOAD settings fail"

tap "lockdown --check after execve" "$dir/lockdown" "$dir/lockdown" --check

tap "normal + preload" env LD_PRELOAD="$lib" "$py" "$test" --mode=trampfd

# The drop-in on libffi.so.8 from C: slot reuse, a freed closure faults at
# 0, fork while threads allocate and free.
tap "drop-in on libffi.so.8" env LD_PRELOAD="$lib" "$dir/dropin_test"

cp "$test" /tmp/ctypes_test_user.py 2>/dev/null && chmod 644 /tmp/ctypes_test_user.py
tap "normal + preload, uid 1000" su user -c \
	"LD_PRELOAD=$lib $py /tmp/ctypes_test_user.py --mode=trampfd"
rm -f /tmp/ctypes_test_user.py

tap "locked-down + preload" env LD_PRELOAD="$lib" "$dir/lockdown" "$py" "$test" \
	--mode=trampfd

# Stock libffi has no way left to get executable memory: the first callback
# must raise MemoryError (ctypes_test.py exits 3 then).
out=/tmp/ctypes_run.$$
"$dir/lockdown" "$py" "$test" --mode=stock >"$out" 2>&1
rc=$?
sed 's/^/# /' "$out"
rm -f "$out"
if [ $rc -eq 3 ]; then
	ok "locked-down, stock libffi: the first callback raises MemoryError (expected failure)"
elif [ $rc -eq 0 ]; then
	notok "locked-down, stock libffi: callbacks work, so the lockdown leaks executable memory"
else
	notok "locked-down, stock libffi: exit status $rc, not the MemoryError (3)"
fi

tap "normal, stock libffi" "$py" "$test" --mode=stock

echo "1..$n"
[ $nfail -eq 0 ]
