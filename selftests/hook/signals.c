// SPDX-License-Identifier: GPL-2.0
/*
 * Signals arriving while syscalls run through the hook: a 1 ms interval
 * timer whose handler makes syscalls, while the main loop makes syscalls.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks, bad;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
	if (getppid() <= 0)
		bad = 1;
}

int main(void)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	pid_t parent = getppid();
	long i;

	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < 200000 && ticks < 50; i++)
		if (getppid() != parent)
			bad = 1;
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	printf("signals: %s\n", !bad && ticks > 0 ? "ok" : "WRONG");
	return bad || !ticks;
}
