#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# libsyscallhook.so on programs nobody here wrote (coreutils, python3,
# strace for reference) and on three small probes (JIT, NULL call, signals).
# TAP output. Runs in the test guest, as root, with the module loaded.
LIB=/t/libsyscallhook.so
PRE="env LD_PRELOAD=$LIB"
n=0
echo "TAP version 13"
echo "1..17"
t() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@" >/tmp/t.out 2>&1; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		sed 's/^/# /' /tmp/t.out | tail -15
	fi
}
same() {	# same output with and without the hook (lazy, then eager)
	"$@" >/tmp/a 2>&1
	$PRE SYSCALLHOOK=count "$@" >/tmp/b 2>/tmp/b.err
	SYSCALLHOOK_MODE=eager $PRE "$@" >/tmp/c 2>&1
	grep -q 'syscall counts' /tmp/b.err || { echo "hook not active"; cat /tmp/b.err; return 1; }
	cmp /tmp/a /tmp/b && cmp /tmp/a /tmp/c
}
printf 'hello\nworld\nzpoline\nabc\n' >/tmp/in.txt
dd if=/dev/zero of=/tmp/big bs=4096 count=300 2>/dev/null

t "hook becomes active (page installed, SUD on)" sh -c \
	"$PRE SYSCALLHOOK=count /usr/bin/true 2>&1 | grep -q 'syscall counts'"
t "ls -la: same output hooked" same /usr/bin/ls -la /t
t "sort: same output hooked" same /usr/bin/sort /tmp/in.txt
t "cat | wc: same output hooked" same sh -c "/usr/bin/cat /tmp/in.txt /tmp/big | /usr/bin/wc -c"
t "find: same output hooked" same /usr/bin/find /t -name '*.so'
t "python3 threads+files+subprocess: same output hooked" same /usr/bin/python3.11 /t/threads.py
t "JIT-generated syscall is hooked and correct" sh -c \
	"$PRE SYSCALLHOOK=count /t/jit 2>/tmp/j.err | grep -q 'jit getpid: ok' &&
	 grep -Eq 'syscallhook: +39 +[0-9]{4}' /tmp/j.err"
t "signals arriving mid-hook" sh -c "$PRE /t/signals | grep -q 'signals: ok'"
t "NULL function pointer call is not a syscall: loud SIGSEGV" sh -c \
	"$PRE /t/nullcall 2>/tmp/n.err; rc=\$?; [ \$rc = 139 ] &&
	 grep -q 'not a rewritten syscall site' /tmp/n.err"
t "NULL call without the hook still just segfaults" sh -c "/t/nullcall; [ \$? = 139 ]"
t "eager mode rewrites sites at load" sh -c \
	"SYSCALLHOOK_MODE=eager SYSCALLHOOK_VERBOSE=1 $PRE /usr/bin/true 2>&1 |
	 grep -Eq 'eager mode rewrote [1-9]'"
# Counter vs strace on the same deterministic run: cat from stdin. The
# counter starts when the library loads, so the comparison is on what the
# program itself does: read(0, ...) and write(1, ...) (the dynamic loader
# never touches fds 0 and 1).
t "counter equals strace -f for cat (read)" sh -c "
	/usr/bin/strace -f -o /tmp/s.txt /usr/bin/cat </tmp/big >/dev/null &&
	$PRE SYSCALLHOOK=count /usr/bin/cat </tmp/big >/dev/null 2>/tmp/c.txt &&
	s=\$(grep -c 'read(0,' /tmp/s.txt); c=\$(sed -n 's/^syscallhook: *0 *\([0-9]*\)$/\1/p' /tmp/c.txt);
	echo strace=\$s hook=\$c; [ \"\$s\" -gt 1 ] && [ \"\$s\" = \"\$c\" ]"
t "counter equals strace -f for cat (write)" sh -c "
	s=\$(grep -c 'write(1,' /tmp/s.txt); c=\$(sed -n 's/^syscallhook: *1 *\([0-9]*\)$/\1/p' /tmp/c.txt);
	echo strace=\$s hook=\$c; [ \"\$s\" -gt 1 ] && [ \"\$s\" = \"\$c\" ]"
t "children of exec and fork stay hooked" sh -c \
	"$PRE SYSCALLHOOK=count /usr/bin/python3.11 -c 'import subprocess; subprocess.run([\"/usr/bin/true\"])' 2>&1 |
	 grep -c 'syscall counts' | grep -qx 2"
t "unprivileged user: refused cleanly, program still runs" sh -c \
	"su user -c '$PRE /usr/bin/ls /t' 2>/tmp/u.err >/dev/null && grep -q 'not allowed' /tmp/u.err"
t "the tracer prints calls" sh -c \
	"$PRE SYSCALLHOOK=trace /usr/bin/ls /t 2>&1 >/dev/null | grep -q '^\[syscallhook\] 231('"
t "hook runtime probes (entry_test.sh: threads, children, ABI, signals)" sh -c \
	"sh /t/entry_test.sh >/tmp/entry.tap 2>&1; cat /tmp/entry.tap; ! grep -q '^not ok' /tmp/entry.tap"
