// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe: a program with a sigaltstack just big enough for the
 * kernel's signal frame (AT_MINSIGSTKSZ + 128 bytes) reaches new syscall
 * sites. The library's SIGSYS handler (SA_ONSTACK) gets its kernel frame
 * there, but must run its own code (the patcher's analysis) on the hook
 * stack. Prints "altstack: ok".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

int main(int argc, char **argv)
{
	size_t min = getauxval(AT_MINSIGSTKSZ);
	stack_t ss;
	DIR *d;
	int n = 0;

	if (!min)
		min = 2048;
	ss.ss_size = min + (argc > 1 ? atol(argv[1]) : 128);
	ss.ss_sp = malloc(ss.ss_size);
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		return 2;
	d = opendir("/");	/* new sites: openat, getdents64, close */
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	printf("altstack: %s (%zu bytes)\n", n > 2 ? "ok" : "WRONG", ss.ss_size);
	return n <= 2;
}
