// SPDX-License-Identifier: GPL-2.0
/*
 * A frame-pointer function (rbpcopy.S) that keeps data below %rsp through
 * a copy of %rbp, called 10,000 times: the data must survive the hooked
 * getpid and the result must be getpid() (issue 21 item 4).
 */
#include <stdio.h>
#include <unistd.h>

long rbp_leaf(long seed, long *pid);

int main(void)
{
	long i, bad = 0, wrongpid = 0, pid;

	for (i = 0; i < 10000; i++) {
		bad += rbp_leaf(i * 1000003, &pid);
		wrongpid += pid != getpid();
	}
	printf("rbpcopy: %ld clobbered quadwords, %ld wrong results: %s\n", bad,
	       wrongpid, bad || wrongpid ? "WRONG" : "ok");
	return bad || wrongpid;
}
