// SPDX-License-Identifier: GPL-2.0
/*
 * A red-zone leaf (redzone.S) called 10,000 times: its data below %rsp must
 * survive the hooked getpid, and the result must be getpid().  A hook that
 * turns the leaf's `syscall` into `call *%rax` overwrites -8(%rsp) with the
 * return address.
 */
#include <stdio.h>
#include <unistd.h>

long rz_leaf(long seed, long *pid);

int main(void)
{
	long i, bad = 0, wrongpid = 0, pid;

	for (i = 0; i < 10000; i++) {
		bad += rz_leaf(i * 1000003, &pid);
		wrongpid += pid != getpid();
	}
	printf("redzone: %ld clobbered quadwords, %ld wrong results: %s\n", bad,
	       wrongpid, bad || wrongpid ? "WRONG" : "ok");
	return bad || wrongpid;
}
