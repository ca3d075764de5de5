// SPDX-License-Identifier: GPL-2.0
/*
 * A program built the way a user of the installed library builds one:
 *
 *	cc pc_closure.c ret_r10.S $(pkg-config --cflags --libs libtrampfd)
 *
 * (scripts/check-install, on the host, against the staged libtrampfd.pc),
 * then run in the guest booted with the staged root: it allocates a closure
 * from /dev/trampfd, calls it and checks that the target saw the closure's
 * data. Exit 0 and one line on success.
 */
#include <stdio.h>
#include <trampfd.h>

#include "../ret_r10.h"

int main(void)
{
	static int ctx;
	struct trampfd_closure *h;
	long (*fn)(void);
	long got;

	fn = (long (*)(void))trampfd_closure_alloc(ret_r10, &ctx, &h);
	if (!fn) {
		perror("trampfd_closure_alloc");
		return 1;
	}
	got = fn();
	if (got != (long)&ctx) {
		fprintf(stderr, "closure returned %#lx, not its data %p\n", got, (void *)&ctx);
		return 1;
	}
	trampfd_closure_free(h);
	printf("closure at %p called ret_r10 with its data %p\n", (void *)fn, (void *)&ctx);
	return 0;
}
