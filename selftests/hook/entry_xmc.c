// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe (issue 21, item 9): sites rewritten while other threads
 * execute them. A JIT page holds 128 functions "mov $39,%eax; syscall;
 * ret" (getpid, 16 bytes apart); THREADS threads call all of them, each
 * in its own order, for ROUNDS rounds, while the library rewrites them
 * lazily (the first thread to reach a site takes the SIGSYS and patches
 * it with the int3 protocol; the others may run into its int3). Every call
 * must return getpid(). One more thread watches the first bytes of the
 * sites and calls a site the moment it reads the int3 there (threads that
 * run into a site before that are held in SIGSYS handlers waiting for the
 * patcher, so a natural arrival inside the short window is rare under
 * TCG); it must get getpid() too. Mode "blocked": the threads block every signal
 * (pthread_sigmask), SIGTRAP included, as a program may: the library must
 * keep SIGTRAP deliverable or an int3 trap kills the process.
 * Hooked, it prints the library's counters: sites rewritten, int3 traps
 * taken, rewrites synced by membarrier / by mprotect, plain stores
 * (syscallhook_patch_stat 0, 14..17) and "xmc: ok" if every call was
 * right, int3 traps were taken and no rewrite was a plain store.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SITES 128
#define THREADS 4
#define ROUNDS 200

typedef long (*stub_fn)(void);
typedef uint64_t (*stat_fn)(uint32_t);

static unsigned char *page;
static int blocked;
static pid_t pid;
static long wrong[THREADS], calls[THREADS];
static pthread_barrier_t start;

static void *run(void *arg)
{
	long t = (long)arg;
	int r, i;

	if (blocked) {
		sigset_t all;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, NULL);
	}
	pthread_barrier_wait(&start);
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < SITES; i++) {
			stub_fn f = (stub_fn)(page + ((i * (2 * t + 1)) % SITES) * 16);

			calls[t]++;
			if (f() != pid)
				wrong[t]++;
		}
	}
	return NULL;
}

static volatile int done;
static long watched, watch_wrong;

/* Calls a site as soon as its first byte is the int3 (cc). */
static void *watch(void *arg)
{
	int i;

	(void)arg;
	if (blocked) {
		sigset_t all;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, NULL);
	}
	while (!done) {
		for (i = 0; i < SITES; i++) {
			if (*(volatile unsigned char *)(page + i * 16 + 5) == 0xcc) {
				watched++;
				if (((stub_fn)(page + i * 16))() != pid)
					watch_wrong++;
			}
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const unsigned char stub[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	stat_fn stat = (stat_fn)dlsym(RTLD_DEFAULT, "syscallhook_patch_stat");
	pthread_t th[THREADS], w;
	long bad = 0, n = 0;
	int i, ok;

	blocked = argc > 1 && !strcmp(argv[1], "blocked");
	pid = getpid();
	page = mmap(NULL, SITES * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return 1;
	memset(page, 0xcc, SITES * 16);
	for (i = 0; i < SITES; i++)
		memcpy(page + i * 16, stub, sizeof(stub));
	mprotect(page, SITES * 16, PROT_READ | PROT_EXEC);
	pthread_barrier_init(&start, NULL, THREADS);
	pthread_create(&w, NULL, watch, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, run, (void *)(long)i);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		bad += wrong[i];
		n += calls[i];
	}
	done = 1;
	pthread_join(w, NULL);
	bad += watch_wrong;
	printf("xmc: %ld calls, %ld calls at an int3, %ld wrong\n", n, watched, bad);
	if (!stat) {
		printf("xmc: not hooked: %s\n", bad ? "WRONG" : "ok");
		return bad != 0;
	}
	printf("xmc: rewritten %llu, int3-traps %llu, synced-membarrier %llu, synced-mprotect %llu, plain-store %llu\n",
	       (unsigned long long)stat(0), (unsigned long long)stat(14),
	       (unsigned long long)stat(15), (unsigned long long)stat(16),
	       (unsigned long long)stat(17));
	ok = !bad && stat(0) >= SITES && stat(14) > 0 && stat(15) + stat(16) >= SITES &&
	     stat(17) == 0;
	printf("xmc: %s\n", ok ? "ok" : "WRONG");
	return !ok;
}
