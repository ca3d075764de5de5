// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: many threads run create / configure / map / call / munmap / close
 * cycles with random interleavings of close, fork and munmap; zpoline
 * installs in many short processes (x86-64).  Afterwards the module's counters and
 * MemFree must be back where they started.
 *
 * STRESS_THREADS (default 4), STRESS_ITERS (cycles per thread, default
 * 2000) and STRESS_PROCS (zpoline processes, default 200) scale it; the
 * hardening issue's full run is STRESS_ITERS=100000.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#ifdef __x86_64__
#include <linux/zpoline.h>
#endif

#include "kselftest_harness.h"
#include "trampfd_util.h"
#ifdef __x86_64__
#include "zpoline_hook.h"
#endif
#include "ret_r10.h"

#define PAGE 4096

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v ? strtol(v, NULL, 0) : def;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			kb = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	return kb;
}

static long counter(const char *name)
{
	return tfd_counter(name);
}

struct worker {
	long iters;
	unsigned int seed;
	long failures;
	long forks;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	__u64 code[4], data[4];
	long i;

	for (i = 0; i < w->iters; i++) {
		int how = rand_r(&w->seed) % 6;
		int fd = tfd_open();
		long (*f)(void);
		void *p;

		if (fd < 0) {
			w->failures++;
			continue;
		}
		if (how == 0) {		/* unconfigured close */
			close(fd);
			continue;
		}
		code[i % 4] = (uintptr_t)ret_r10;
		data[i % 4] = i;
		p = tfd_map(fd, 4, code, data);
		if (p == MAP_FAILED) {
			w->failures++;
			close(fd);
			continue;
		}
		f = (long (*)(void))((char *)p + (i % 4) * TFD_SLOT);
		if (how == 1) {		/* mapped, never faulted */
			munmap(p, PAGE);
			close(fd);
			continue;
		}
		if (f() != i)
			w->failures++;
		if (how == 2) {		/* close first */
			close(fd);
			if (f() != i)
				w->failures++;
			munmap(p, PAGE);
		} else if (how == 3) {	/* munmap first */
			munmap(p, PAGE);
			close(fd);
		} else if (how == 4 && i % 16 == 0) {	/* fork, child calls */
			pid_t pid = fork();
			int st;

			if (pid == 0)
				_exit(f() == i ? 0 : 1);
			waitpid(pid, &st, 0);
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				w->failures++;
			w->forks++;
			close(fd);
			munmap(p, PAGE);
		} else {		/* close and munmap from the child side */
			close(fd);
			munmap(p, PAGE);
		}
	}
	return NULL;
}

/* Long-running: a debug kernel under TCG is slow. */
FIXTURE(long) {
};

FIXTURE_SETUP(long)
{
}

FIXTURE_TEARDOWN(long)
{
}

TEST_F_TIMEOUT(long, cycles_return_every_fd_and_page, 1800)
{
	long threads = env_long("STRESS_THREADS", 4);
	long iters = env_long("STRESS_ITERS", 2000);
	long free0, free1, forks = 0;
	struct worker *w = calloc(threads, sizeof(*w));
	pthread_t *t = calloc(threads, sizeof(*t));
	long i;

	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, counter("live_fds"));
	ASSERT_EQ(0, counter("live_pages"));
	free0 = meminfo_kb("MemFree");
	for (i = 0; i < threads; i++) {
		w[i].iters = iters;
		w[i].seed = 1234 + i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, worker, &w[i]));
	}
	for (i = 0; i < threads; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, w[i].failures) TH_LOG("thread %ld", i);
		forks += w[i].forks;
	}
	free1 = meminfo_kb("MemFree");
	TH_LOG("%ld threads x %ld cycles, %ld forks; MemFree %ld -> %ld kB",
	       threads, iters, forks, free0, free1);
	EXPECT_EQ(0, counter("live_fds"));
	EXPECT_EQ(0, counter("live_pages"));
	/* Allow for slab and page-table caches that stay warm. */
	EXPECT_LT(free0 - free1, 8192);
	free(w);
	free(t);
}

#ifdef __x86_64__
/* /dev/zpoline is x86-64 only. */
static long zcall(long nr, long a1)
{
	long ret;

	asm volatile("sub $128, %%rsp\n\tcall *%%rax\n\tadd $128, %%rsp"
		     : "=a"(ret) : "a"(nr), "D"(a1) : "rcx", "r11", "memory");
	return ret;
}

/* The module's count of live zpoline pages, once it is @want (or 2 s passed). */
static long zpoline_pages_settle(long want)
{
	long v = counter("live_zpoline_pages");
	int i;

	/* A file's release may be deferred (delayed fput): give it time. */
	for (i = 0; i < 200 && v != want; i++) {
		usleep(10000);
		v = counter("live_zpoline_pages");
	}
	return v;
}

/*
 * Every process installs a page and exits; every page goes with its
 * process: the module's own count (live_zpoline_pages) is back to 0 after
 * each round of processes.  MemFree is logged, not asserted: it moves by
 * several MB either way between two rounds of the same processes (slab
 * caches, per-CPU page lists; -4.5 MB and +5.4 MB in two rounds here, and
 * a 9 MB drop with no leak made the old 8 MB bound fail once), while a page
 * leaked by each of 200 processes is 0.8 MB: it could not see that leak.
 */
TEST(zpoline_installs_in_many_short_processes)
{
	long procs = env_long("STRESS_PROCS", 200);
	long free0, free1, i, bad = 0;
	int round;

	ASSERT_EQ(0, counter("live_zpoline_pages"));
	for (round = 0; round < 2; round++) {
		free0 = meminfo_kb("MemFree");
		for (i = 0; i < procs; i++) {
			pid_t pid = fork();
			int st;

			if (pid == 0) {
				struct zpoline_cfg cfg = { .hook = (uintptr_t)zp_hook };
				int fd = open("/dev/zpoline", O_RDONLY);

				if (fd < 0 || ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg))
					_exit(2);
				close(fd);
				_exit(zcall(500, i) == 0x5eed + i ? 0 : 1);
			}
			waitpid(pid, &st, 0);
			bad += !WIFEXITED(st) || WEXITSTATUS(st);
		}
		free1 = meminfo_kb("MemFree");
		TH_LOG("round %d: %ld processes; MemFree %ld -> %ld kB", round, procs, free0,
		       free1);
		EXPECT_EQ(0, zpoline_pages_settle(0)) TH_LOG("round %d", round);
	}
	EXPECT_EQ(0, bad);
}

#endif

TEST_HARNESS_MAIN
