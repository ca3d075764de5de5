// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe: a syscallhook_register callback that calls write() itself.
 * Its own write must go straight to the kernel (no recursion); every
 * getppid of the program is seen exactly once. Prints "callback: ok N".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile long seen, depth, max_depth;

static int cb(long nr, long args[6], long *result)
{
	(void)args;
	(void)result;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (nr == 110) {
		seen++;
		write(2, "cb\n", 3);	/* syscalls of the callback's own */
		getppid();
	}
	depth--;
	return 0;
}

int main(void)
{
	void (*reg)(int (*)(long, long *, long *)) =
		(void (*)(int (*)(long, long *, long *)))dlsym(RTLD_DEFAULT, "syscallhook_register");
	int i;

	if (!reg) {
		printf("callback: no library\n");
		return 2;
	}
	reg(cb);
	for (i = 0; i < 100; i++)
		getppid();
	reg(NULL);
	printf("callback: %s %ld\n", seen == 100 && max_depth == 1 ? "ok" : "WRONG", seen);
	return !(seen == 100 && max_depth == 1);
}
