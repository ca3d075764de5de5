// SPDX-License-Identifier: GPL-2.0
/*
 * A hook callback (syscallhook_register, found with dlsym) that calls
 * write(2) itself: for every getppid and every write it sees, it writes a
 * line to stderr.  The callback's own write must go straight to the kernel
 * (a per-thread reentrancy guard); without one it re-enters the callback
 * forever.  The program calls getppid() 10 times and writes one line to
 * stdout, so the callback must report exactly 10 getppid and 1 write.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "syscallhook.h"

static int callback(long nr, long args[6], long *result)
{
	(void)args;
	(void)result;
	if (nr == 110)
		(void)!write(2, "cb: getppid\n", 12);
	else if (nr == 1)
		(void)!write(2, "cb: write\n", 10);
	return 0;
}

int main(void)
{
	/* The library's API, from its header (tools/lib/syscallhook). */
	void (*reg)(syscallhook_fn) = (void (*)(syscallhook_fn))dlsym(RTLD_DEFAULT,
								       "syscallhook_register");
	syscallhook_fn check = callback;
	int i;

	if (!reg) {
		printf("cbwrite: syscallhook_register not found (not preloaded?)\n");
		return 1;
	}
	reg(check);
	for (i = 0; i < 10; i++)
		getppid();
	(void)!write(1, "cbwrite: done\n", 14);
	reg(NULL);
	return 0;
}
