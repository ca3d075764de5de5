// SPDX-License-Identifier: GPL-2.0
/*
 * Macro benchmark of the syscall-hook sample (issue: "a real program native
 * vs hooked"): wall time of whole program runs, native and under
 * LD_PRELOAD=libsyscallhook.so (lazy and eager rewriting onto the module's
 * /dev/zpoline page, pass-through hook).  Runs in the test guest with the
 * host programs copied in (scripts/vm --host-programs).  The modes are
 * interleaved in every round so that drift hits all of them alike, after a
 * warm-up round that is not counted.  Prints
 * a Markdown table of medians, spreads and ratios to native.  Under
 * -icount shift=0 (BENCH_ICOUNT=1) a guest millisecond is a million guest
 * instructions, and the table says so.
 *
 *   macro_bench [rounds]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define LIB "LD_PRELOAD=/t/libsyscallhook.so"
#define MAX_ROUNDS 64

struct workload {
	const char *name;
	char *argv[6];
};

static struct workload workloads[] = {
	{ "python3 files.py (400 files + os.walk)",
	  { "/usr/bin/python3.11", "/t/files.py", NULL } },
	{ "find /usr/lib/python3.11 -name '*.py'",
	  { "/usr/bin/find", "/usr/lib/python3.11", "-name", "*.py", NULL } },
	{ "ls -lR /usr/lib/python3.11/json",
	  { "/usr/bin/ls", "-lR", "/usr/lib/python3.11/json", NULL } },
	{ "cat, sort, wc -l of 1.2 MB (sh pipeline)",
	  { "/bin/sh", "-c", "/usr/bin/cat /tmp/sort.in | /usr/bin/sort | /usr/bin/wc -l", NULL } },
};

struct mode {
	const char *name;
	char *env[4];
};

static struct mode modes[] = {
	{ "native", { "PATH=/usr/bin:/bin", NULL } },
	{ "zpoline lazy", { "PATH=/usr/bin:/bin", LIB, NULL } },
	{ "zpoline eager", { "PATH=/usr/bin:/bin", LIB, "SYSCALLHOOK_MODE=eager", NULL } },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NMODES ARRAY_SIZE(modes)
#define NWORK ARRAY_SIZE(workloads)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One run; returns its wall time in ms, or -1 if it did not exit 0. */
static double run(struct workload *w, struct mode *m)
{
	double t0 = now_ms();
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execve(w->argv[0], w->argv, m->env);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return now_ms() - t0;
}

/* The sort input: 64,000 pseudo-random decimal lines (about 1.2 MB). */
static int make_sort_input(void)
{
	FILE *f = fopen("/tmp/sort.in", "w");
	unsigned long x = 88172645463325252ul;
	int i;

	if (!f)
		return -1;
	for (i = 0; i < 64000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		fprintf(f, "%lu\n", x % 100000000000000000ul);
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	static double t[NWORK][NMODES][MAX_ROUNDS];
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	size_t w, m;
	int r;

	if (rounds < 1 || rounds > MAX_ROUNDS || make_sort_input())
		return 2;
	/* Round -1 warms the page cache and is not counted. */
	for (r = -1; r < rounds; r++)
		for (w = 0; w < NWORK; w++)
			for (m = 0; m < NMODES; m++) {
				double ms = run(&workloads[w], &modes[m]);

				if (ms < 0) {
					fprintf(stderr, "%s (%s) failed\n",
						workloads[w].name, modes[m].name);
					return 1;
				}
				if (r >= 0)
					t[w][m][r] = ms;
			}
	printf("%s per run, median of %d rounds [min-max]; ratio of medians to native.\n\n",
	       bench_icount() ? "Millions of guest instructions" : "Wall time, ms,", rounds);
	printf("| program | native | zpoline lazy | ratio | zpoline eager | ratio |\n");
	printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
	for (w = 0; w < NWORK; w++) {
		double med[NMODES];

		printf("| %s ", workloads[w].name);
		for (m = 0; m < NMODES; m++) {
			qsort(t[w][m], rounds, sizeof(double), cmp_double);
			med[m] = t[w][m][rounds / 2];
			printf("| %.1f [%.1f-%.1f] ", med[m], t[w][m][0], t[w][m][rounds - 1]);
			if (m > 0)
				printf("| %.2fx ", med[m] / med[0]);
		}
		printf("|\n");
	}
	return 0;
}
