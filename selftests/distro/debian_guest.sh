#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of scripts/check-distro: runs as root (PID 1's child) on
# Debian's own kernel with the Debian userland, the module installed by
# DKMS but not loaded yet. One TAP stream: the module's own lines, then
# every line of each selftest program ("PROGRAM: NAME"), then ctypes_run.sh
# (Python ctypes and dropin_test on trixie's python3 and libffi), then the
# plan; after it, libffi's own closure testsuite (ffi_run's records).
#
#   KVER=<release> TESTS='module_test ...' debian_guest.sh DIR
#   DIR: libtrampfd-ffi.so, dropin_test, lockdown, ctypes_*, t/<programs>
dir=${1:?usage: debian_guest.sh DIR}
n=0

ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); echo "not ok $n $1"; }
# One line: NAME passes when the shell words in $2 exit 0; their output
# follows as comments.
check() {
	if out=$(eval "$2" 2>&1); then ok "$1"; else notok "$1"; fi
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
}
# A TAP producer's lines renumbered under "$1: ", its plan and exit status
# checked (a short or failed run is one more failing line).
tap() {
	label=$1
	shift
	f=/tmp/tap.$$
	"$@" >"$f" 2>&1
	rc=$?
	got=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*) got=$((got + 1)); ok "$label: ${line#ok [0-9]* }" ;;
		"not ok "*) got=$((got + 1)); notok "$label: ${line#not ok [0-9]* }" ;;
		*) echo "# $line" ;;
		esac
	done <"$f"
	plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$f" | tail -1)
	if [ -z "$plan" ] || [ "$got" -ne "$plan" ]; then
		notok "$label: ran $got of ${plan:-?} planned tests"
	fi
	[ "$rc" -eq 0 ] || notok "$label: exit status $rc"
	rm -f "$f"
}

check "kernel is Debian's $KVER" '[ "$(uname -r)" = "$KVER" ] && cat /proc/version'
check "modprobe trampfd (the DKMS install)" 'modprobe trampfd'
check "/dev/trampfd and /dev/zpoline exist" '[ -c /dev/trampfd ] && [ -c /dev/zpoline ] && ls -l /dev/trampfd /dev/zpoline'
check "loaded from updates/dkms" 'modinfo -n trampfd | grep /updates/dkms/'
check "trampfd's taint is O and E only (out-of-tree, key not in the kernel's keyring)" \
	'cat /sys/module/trampfd/taint; [ "$(cat /sys/module/trampfd/taint)" = OE ]'
check "vermagic names Debian's kernel" 'modinfo -F vermagic trampfd | grep "^$KVER "'
check "rmmod and modprobe again" 'rmmod trampfd && modprobe trampfd && [ -c /dev/trampfd ]'

cd "$dir/t" || exit 1
for t in $TESTS; do
	TRAMPFD_KO=$dir/trampfd.ko tap "$t" "./$t"
done
modprobe trampfd 2>/dev/null
check "trampfd loaded after the selftests" '[ -c /dev/trampfd ]'
tap ctypes env PYTHON=/usr/bin/python3 sh "$dir/ctypes_run.sh" "$dir"
echo "1..$n"
# libffi's closure testsuite (trixie's version) in four settings: stock and
# through the drop-in, normal and locked down (scripts/ffi-tally reads it).
if [ -x "$dir/ffi/ffi_run" ]; then
	echo "=== ffi"
	"$dir/ffi/ffi_run" -j 2 -t 60 -p "$dir/libtrampfd-ffi.so" "$dir/ffi/ffi_suite-O2"
	echo "=== ffi exit $?"
fi
