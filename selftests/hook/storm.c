// SPDX-License-Identifier: GPL-2.0
/*
 * A signal storm during the first SIGSYS traps: the main thread calls 2,000
 * fresh syscall sites (generated code, `mov $39,%eax; syscall; ret` each, so
 * every first call is a Syscall User Dispatch trap), while a second thread
 * sends it SIGUSR1 as fast as it can and a 1 ms timer adds SIGALRM.  Both
 * handlers make syscalls: getppid() through glibc and, for SIGUSR1, a fresh
 * generated site of their own (a trap inside a handler that may have
 * interrupted the library's SIGSYS handler).  Every result must be right and
 * the process must finish (run under `timeout`: a library whose SIGSYS
 * handler can be interrupted may deadlock on its own lock).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define NSITES 2000
#define NHSITES 500
#define STRIDE 16	/* one site per 16 bytes: never across a cache line */

static unsigned char *code;
static pid_t mypid, parent;
static pid_t main_tid;
static volatile int done;
static volatile long wrong, usr1, alrm, hsite;

static long call_site(unsigned char *p)
{
	return ((long (*)(void))p)();
}

static void on_usr1(int sig)
{
	long k = __atomic_fetch_add(&hsite, 1, __ATOMIC_RELAXED);

	(void)sig;
	usr1++;
	if (getppid() != parent)
		wrong++;
	if (k < NHSITES && call_site(code + (NSITES + k) * STRIDE) != mypid)
		wrong++;
}

static void on_alarm(int sig)
{
	(void)sig;
	alrm++;
	if (getppid() != parent)
		wrong++;
}

static void *stormer(void *arg)
{
	(void)arg;
	while (!done)
		syscall(SYS_tgkill, mypid, main_tid, SIGUSR1);
	return NULL;
}

int main(void)
{
	static const unsigned char site[] = {
		0xb8, 0x27, 0x00, 0x00, 0x00,	/* mov $39, %eax */
		0x0f, 0x05,			/* syscall */
		0xc3,				/* ret */
	};
	size_t len = (NSITES + NHSITES) * STRIDE;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct sigaction sa = { 0 };
	pthread_t t;
	long i;

	mypid = getpid();
	parent = getppid();
	main_tid = gettid();
	code = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 2;
	for (i = 0; i < NSITES + NHSITES; i++)
		memcpy(code + i * STRIDE, site, sizeof(site));
	if (mprotect(code, len, PROT_READ | PROT_EXEC))
		return 2;
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	if (pthread_create(&t, NULL, stormer, NULL))
		return 2;
	while (!usr1)		/* the storm is on before the first trap */
		sched_yield();
	for (i = 0; i < NSITES; i++)
		if (call_site(code + i * STRIDE) != mypid)
			wrong++;
	done = 1;
	pthread_join(t, NULL);
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	printf("storm: %d fresh sites, %ld SIGUSR1 (%ld fresh sites in handlers), %ld SIGALRM: %s\n",
	       NSITES, usr1, hsite < NHSITES ? hsite : NHSITES, alrm,
	       wrong || !usr1 ? "WRONG" : "ok");
	return wrong || !usr1;
}
