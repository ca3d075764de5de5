// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe: signal handlers that interrupt the hook's slow path (a
 * registered callback sends every syscall there) and make hooked syscalls
 * themselves: SIGALRM on a small sigaltstack (enters the hook from another
 * stack while a frame is live), SIGPROF on the interrupted stack (the
 * hook stack: nests below it). Every getppid must return the parent's pid;
 * every one of the main loop must reach the callback, and a handler's may
 * miss it only when the handler interrupted the callback itself (the
 * reentrancy guard sends the thread's syscalls straight to the kernel
 * while a callback runs). Prints "nest: ok".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile long seen, calls, main_calls, alt_ticks, prof_ticks, bad;
static pid_t parent;

static int cb(long nr, long args[6], long *result)
{
	(void)args;
	(void)result;
	if (nr == 110)
		__atomic_add_fetch(&seen, 1, __ATOMIC_RELAXED);
	return 0;
}

static void ppid_check(void)
{
	__atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	if (getppid() != parent)
		bad = 1;
}

static void on_alrm(int sig)
{
	int i;

	(void)sig;
	alt_ticks++;
	for (i = 0; i < 5; i++)
		ppid_check();
}

static void on_prof(int sig)
{
	int i;

	(void)sig;
	prof_ticks++;
	for (i = 0; i < 5; i++)
		ppid_check();
}

int main(void)
{
	void (*reg)(int (*)(long, long *, long *)) =
		(void (*)(int (*)(long, long *, long *)))dlsym(RTLD_DEFAULT, "syscallhook_register");
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct sigaction sa;
	stack_t ss;
	long i;

	parent = getppid();
	ss.ss_sp = malloc(16384);
	ss.ss_size = 16384;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL))
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alrm;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_prof;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGPROF, &sa, NULL);
	if (reg)
		reg(cb);
	setitimer(ITIMER_REAL, &it, NULL);
	setitimer(ITIMER_PROF, &it, NULL);
	for (i = 0; i < 400000 && (alt_ticks < 30 || prof_ticks < 5); i++) {
		main_calls++;
		ppid_check();
	}
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	setitimer(ITIMER_PROF, &it, NULL);
	if (reg)
		reg(NULL);
	if (reg && (seen < main_calls || seen > calls))
		bad = 1;
	printf("nest: %s (calls %ld seen %ld alt %ld prof %ld)\n", bad ? "WRONG" : "ok",
	       calls, seen, alt_ticks, prof_ticks);
	return bad;
}
