// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall numbers the kernel does not have, through syscall(3): -1, 600,
 * 4095, 1 << 30 and 513, 520, 528, 100 times each; each must return -1 with
 * errno ENOSYS, as without the hook (glibc's wrapper, or the library's own
 * syscall(3) where it exports one).  "badnr" calls the bad
 * numbers before anything else reaches the wrapper; "badnr 39" first calls
 * syscall(39), so that a library that rewrites the wrapper's `syscall` into
 * `call *%rax` has done so before the bad numbers come: rax then is the
 * address called, and an address outside the page (or a hole in it) kills
 * the process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int main(int argc, char **argv)
{
	static const long bad[] = { -1, 600, 4095, 1L << 30, 513, 520, 528 };
	unsigned int i, k;
	int wrong = 0;

	if (argc > 1 && !strcmp(argv[1], "39") && syscall(39) != getpid())
		wrong++;
	for (k = 0; k < ARRAY_SIZE(bad); k++)
		for (i = 0; i < 100; i++) {
			long r;

			errno = 0;
			r = syscall(bad[k], 1, 2, 3, 4, 5, 6);
			if (r != -1 || errno != ENOSYS) {
				if (wrong++ < 5)
					printf("syscall(%ld) = %ld errno %d\n", bad[k], r, errno);
			}
		}
	/* The wrapper still works for a real number afterwards. */
	if (syscall(SYS_getppid) != getppid())
		wrong++;
	printf("badnr: %s\n", wrong ? "WRONG" : "ok");
	return wrong != 0;
}
