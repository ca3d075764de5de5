#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Consumers of libffi closures beyond ctypes, as one TAP stream (busybox sh;
# run as root in the x86-64 guest by scripts/check-ffi-dropin):
#
# exec_alloc_test (exec_alloc_test.c): programs that use ffi_closure_alloc
# as executable memory, modelled on GHC's RTS before 9.0.2 and
# gobject-introspection before 1.70, built with their functions as dynamic
# symbols (exec_alloc_test: the drop-in recognises them and passes their
# closures through to libffi) and without (exec_alloc_test-anon: it cannot,
# and they must fail cleanly, with the drop-in's message), with stock libffi
# and through LD_PRELOAD=libtrampfd-ffi.so, normal and locked-down.
#
# gi_test.py: PyGObject callbacks into C (GI closures), stock and through
# the drop-in, normal and locked-down (stock locked-down must fail).
#
#   exec_alloc_run.sh [DIR]   DIR holds exec_alloc_test, exec_alloc_test-anon,
#                             lockdown, libtrampfd-ffi.so, gi_test.py
dir=${1:-$(dirname "$0")}
dir=$(cd "$dir" && pwd)
py=${PYTHON:-/usr/bin/python3.11}
lib=$dir/libtrampfd-ffi.so
out=/tmp/exec_alloc_run.$$
n=0
nfail=0

ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n $1"; }

# expect LABEL RC PATTERN CMD...: CMD exits with RC (128+N: killed by signal
# N; "sig": by any signal) and its output (stdout and stderr) has a line
# matching PATTERN ("" for any); "!PATTERN": has none.
expect() {
	label=$1 want=$2 pat=$3
	shift 3
	"$@" >"$out" 2>&1
	rc=$?
	sed 's/^/# /' "$out"
	good=1
	if [ "$want" = sig ]; then
		[ "$rc" -gt 128 ] || good=0
	else
		[ "$rc" -eq "$want" ] || good=0
	fi
	case "$pat" in
	"") ;;
	!*) ! grep -q -- "${pat#!}" "$out" || good=0 ;;
	*) grep -q -- "$pat" "$out" || good=0 ;;
	esac
	if [ $good -eq 1 ]; then
		ok "$label"
	else
		notok "$label (exit $rc, want $want${pat:+, output ${pat}})"
	fi
}

pre() { env LD_PRELOAD="$lib" "$@"; }
locked() { "$dir/lockdown" "$@"; }
t=$dir/exec_alloc_test
anon=$dir/exec_alloc_test-anon
msg_inside="inside a closure object but not a live closure"
msg_noexec="libffi has no closure for an executable-memory allocator"

for m in ghc-native ghc-libffi gi free-code; do
	expect "exec alloc: $m, stock libffi: works" 0 "" "$t" $m
done
expect "exec alloc: ghc-native, stock libffi, locked-down: no executable memory (expected failure)" \
	3 "" locked "$t" ghc-native
for m in ghc-native ghc-libffi gi; do
	expect "exec alloc: $m through the drop-in: recognised, libffi's closure, works" \
		0 "code not on /dev/trampfd" pre "$t" $m
	expect "exec alloc: $m through the drop-in, locked-down: no closure, with the message" \
		3 "$msg_noexec" locked env LD_PRELOAD="$lib" "$t" $m
done
expect "exec alloc: a closure freed by its code address, through the drop-in" \
	0 "works on the same code address" pre "$t" free-code
expect "exec alloc: a closure freed by its code address, through the drop-in, locked-down" \
	0 "works on the same code address" locked env LD_PRELOAD="$lib" "$t" free-code
# GHC's native adjustor is called at code + 8, inside the slot (as inside
# a static trampoline of libffi's): it never runs, the program dies.  Not
# something the drop-in can catch: see Documentation/libffi.rst, Limits.
expect "exec alloc: anonymous ghc-native through the drop-in: its adjustor never runs, killed by a signal" \
	sig "!adjustor called" pre "$anon" ghc-native
expect "exec alloc: anonymous ghc-libffi through the drop-in: prep inside an object refused with the message" \
	4 "$msg_inside" pre "$anon" ghc-libffi
# Its callback works (prepared normally); free_closure's read of the cif
# through the code address faults (the slot's bytes are no pointer): a
# crash, never a free of the wrong memory.
expect "exec alloc: anonymous gi through the drop-in: callback works, the free through the code address faults" \
	139 "sorted through the callback" pre "$anon" gi
expect "exec alloc: a word read through code - 8 (GHC's freeExec) freed through the drop-in: aborts with the message" \
	134 "not a closure; if the program uses" pre "$anon" free-readback
expect "exec alloc: anonymous ghc-native with TRAMPFD_FFI=off: libffi's closure, works" \
	0 "code not on /dev/trampfd" env TRAMPFD_FFI=off LD_PRELOAD="$lib" "$anon" ghc-native

# PyGObject: re-number gi_test.py's TAP under "$1: ".
gi() {
	label=$1 want=$2
	shift 2
	"$@" >"$out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*) ok "$label: $(echo "$line" | sed 's/^ok [0-9]* //')" ;;
		"not ok "*)
			if [ "$want" = fail ]; then
				echo "# $line"
			else
				notok "$label: $(echo "$line" | sed 's/^not ok [0-9]* //')"
			fi ;;
		*) echo "# $line" ;;
		esac
	done <"$out"
	if [ "$want" = fail ]; then
		if [ $rc -eq 3 ]; then
			ok "$label: the first callback fails (expected failure)"
		elif [ $rc -ne 0 ]; then
			notok "$label: exit status $rc, not the first callback's failure (3)"
		else
			notok "$label: works, so the lockdown leaks executable memory"
		fi
	elif [ $rc -eq 0 ]; then
		ok "$label: exit status 0"
	else
		notok "$label: exit status $rc"
	fi
}

if [ -x "$py" ] && "$py" -c 'import gi' 2>/dev/null; then
	gi "pygobject, normal + preload" pass pre "$py" "$dir/gi_test.py" --mode=trampfd
	gi "pygobject, locked-down + preload" pass locked env LD_PRELOAD="$lib" \
		"$py" "$dir/gi_test.py" --mode=trampfd
	gi "pygobject, normal, stock libffi" pass "$py" "$dir/gi_test.py" --mode=stock
	gi "pygobject, locked-down, stock libffi" fail locked "$py" "$dir/gi_test.py" --mode=stock
else
	notok "pygobject: $py with gi (python3-gi) in the guest"
fi
rm -f "$out"
echo "1..$n"
[ $nfail -eq 0 ]
