// SPDX-License-Identifier: GPL-2.0
/*
 * A program built against the installed hook library the way its header
 * says a program that calls the API directly is built:
 *
 *	cc hook_pc.c $(pkg-config --cflags --libs libsyscallhook)
 *
 * (scripts/check-install, on the host, against the staged
 * libsyscallhook.pc), then run in the guest booted with the staged root.
 *
 * "hook_pc active": a member of the zpoline group. The library must be
 * active, and a registered callback must see every getppid(2) and answer
 * it: the libc wrapper returns the callback's 4242. "hook_pc inactive": a
 * user outside the group. The library must say it is inactive and the
 * program must still run: getppid() reaches the kernel, never the callback.
 * Exit 0 and one line on success.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <syscallhook.h>

#define CALLS 200
#define FAKE_PPID 4242

static int seen_by_callback;

static int answer_getppid(long nr, long args[6], long *result)
{
	(void)args;	/* getppid has none */
	if (nr != SYS_getppid)
		return 0;
	seen_by_callback++;
	*result = FAKE_PPID;
	return 1;
}

int main(int argc, char **argv)
{
	int want_active = argc > 1 && !strcmp(argv[1], "active");
	pid_t real = getppid(), seen = 0;
	int i;

	if (syscallhook_active() != want_active) {
		fprintf(stderr, "syscallhook_active() = %d, expected %d\n",
			syscallhook_active(), want_active);
		return 1;
	}
	syscallhook_register(answer_getppid);
	for (i = 0; i < CALLS; i++)
		seen = getppid();
	syscallhook_register(NULL);
	if (want_active && (seen != FAKE_PPID || seen_by_callback != CALLS)) {
		fprintf(stderr, "hooked: getppid() = %d (callback says %d), callback saw %d of %d\n",
			seen, FAKE_PPID, seen_by_callback, CALLS);
		return 1;
	}
	if (!want_active && (seen != real || seen_by_callback)) {
		fprintf(stderr, "not hooked: getppid() = %d (kernel says %d), callback saw %d\n",
			seen, real, seen_by_callback);
		return 1;
	}
	if (want_active && getppid() != real) {
		fprintf(stderr, "callback unregistered, yet getppid() is not the kernel's %d\n",
			real);
		return 1;
	}
	printf("libsyscallhook %s: getppid() = %d after %d calls, %d seen by the callback\n",
	       want_active ? "active" : "inactive", seen, CALLS, seen_by_callback);
	return 0;
}
