// SPDX-License-Identifier: GPL-2.0
/*
 * Only a worker thread reaches a syscall site: the main thread starts one
 * thread that calls getppid() 1,000 times (glibc's getppid wrapper, a
 * `syscall` site nothing else in the process executes) and joins it.
 * countcmp.py compares the hook's count with strace's: both must be 1,000.
 * A library that arms Syscall User Dispatch only in the thread that loaded
 * it (the kernel clears SUD in a new thread) counts 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static long sum;

static void *work(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 1000; i++)
		sum += getppid();
	return NULL;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, work, NULL) || pthread_join(t, NULL))
		return 2;
	printf("worker: %s\n", sum > 0 ? "done" : "WRONG");
	return sum <= 0;
}
