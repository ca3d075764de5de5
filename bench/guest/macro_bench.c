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
 * A real server over loopback: Debian's redis-server (scripts/fetch-redis,
 * in /t/redis when present) native and hooked (lazy, eager), driven by
 * redis-benchmark, which is never hooked (SET and GET, 8 connections).
 * Throughput is requests per second of the guest clock (under -icount: per
 * 10^9 guest instructions); the server's load cost is the time from its
 * exec to the first answered PING (eager mode rewrites every library at
 * load).  The modes are interleaved per round as above.
 *
 *   macro_bench [rounds]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/socket.h>
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

/* ---- redis ---- */
#define REDIS "/t/redis/bin/redis-server"
#define REDIS_BENCH "/t/redis/bin/redis-benchmark"
#define REDIS_PORT 6399

/* The test guest's init leaves the loopback interface down: bring it up. */
static void loopback_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memcpy(ifr.ifr_name, "lo", 3);
	if (fd >= 0 && !ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd >= 0)
		close(fd);
}

/* Whether a server on the port answers PING with +PONG. */
static int redis_pong(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(REDIS_PORT) };
	char b[16] = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    write(fd, "PING\r\n", 6) == 6 && read(fd, b, sizeof(b) - 1) > 0)
		ok = !strncmp(b, "+PONG", 5);
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Starts redis-server in @m; its pid, and in *load_ms exec-to-PONG time. */
static pid_t redis_start(struct mode *m, double *load_ms)
{
	static char *const argv[] = { "redis-server", "--port", "6399", "--bind", "127.0.0.1",
				      "--save", "", "--appendonly", "no", "--protected-mode", "no",
				      "--daemonize", "no", NULL };
	char *env[8];
	int i, n = 0;
	double t0 = now_ms();
	pid_t pid;

	for (i = 0; m->env[i] && n < 6; i++)
		env[n++] = m->env[i];
	env[n++] = "LD_LIBRARY_PATH=/t/redis/lib";
	env[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execve(REDIS, argv, env);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	for (i = 0; i < 60000; i++) {	/* up to a minute of 1 ms steps */
		if (redis_pong()) {
			*load_ms = now_ms() - t0;
			return pid;
		}
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* redis-benchmark (native) against the server: SET and GET requests/s. */
static int redis_bench(long requests, double *set, double *get)
{
	static char n[32];
	static char *const argv[] = { "redis-benchmark", "-p", "6399", "-n", n, "-c", "8",
				      "-t", "set,get", "--csv", NULL };
	static char *const env[] = { "LD_LIBRARY_PATH=/t/redis/lib", NULL };
	char line[256];
	int p[2], st;
	FILE *f;
	pid_t pid;

	snprintf(n, sizeof(n), "%ld", requests);
	*set = *get = -1;
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execve(REDIS_BENCH, argv, env);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		double v;

		if (sscanf(line, "\"SET\",\"%lf\"", &v) == 1)
			*set = v;
		else if (sscanf(line, "\"GET\",\"%lf\"", &v) == 1)
			*get = v;
	}
	if (f)
		fclose(f);
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return *set > 0 && *get > 0 ? 0 : -1;
}

/* One round of one mode: start, load time, benchmark, stop. */
static int redis_round(struct mode *m, long requests, double out[3])
{
	pid_t pid = redis_start(m, &out[2]);
	int st, rc;

	if (pid < 0)
		return -1;
	rc = redis_bench(requests, &out[0], &out[1]);
	kill(pid, SIGTERM);
	if (waitpid(pid, &st, 0) < 0)
		rc = -1;
	return rc;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return v[n / 2];
}

/* The redis table; skipped (said so) when redis is not in the guest. */
static int redis_table(int rounds)
{
	static double t[NMODES][3][MAX_ROUNDS];
	long requests = rounds > 1 ? 5000 : 1000;
	double med[NMODES][3], r[3];
	const char *per = bench_icount() ? "per 10^9 guest instructions" : "per second";
	size_t m;
	int k, i;

	if (access(REDIS, X_OK) || access(REDIS_BENCH, X_OK)) {
		printf("\nredis: not in the guest (scripts/fetch-redis puts it in bench/out/redis): skipped\n");
		return 0;
	}
	loopback_up();
	for (k = -1; k < rounds; k++)
		for (m = 0; m < NMODES; m++) {
			if (redis_round(&modes[m], requests, r)) {
				fprintf(stderr, "redis (%s) failed\n", modes[m].name);
				return 1;
			}
			if (k < 0)
				continue;	/* warm-up round */
			for (i = 0; i < 3; i++)
				t[m][i][k] = r[i];
		}
	printf("\nredis-server 7.0 (Debian 12) over loopback, redis-benchmark -n %ld -c 8 -t set,get\n"
	       "(the client never hooked); requests %s, median of %d rounds [min-max]; load: exec to the\n"
	       "first answered PING, %s. Ratio: hooked / native throughput (higher is better).\n\n",
	       requests, per, rounds, bench_icount() ? "millions of guest instructions" : "ms");
	printf("| server | SET req/s | GET req/s | throughput ratio (mean of SET, GET) | load |\n");
	printf("| --- | ---: | ---: | ---: | ---: |\n");
	for (m = 0; m < NMODES; m++)
		for (i = 0; i < 3; i++)
			med[m][i] = median(t[m][i], rounds);
	for (m = 0; m < NMODES; m++) {
		printf("| redis-server, %s ", modes[m].name);
		for (i = 0; i < 2; i++)
			printf("| %.0f [%.0f-%.0f] ", med[m][i], t[m][i][0], t[m][i][rounds - 1]);
		if (m == 0)
			printf("| - ");
		else
			printf("| %.3fx ", (med[m][0] / med[0][0] + med[m][1] / med[0][1]) / 2);
		printf("| %.1f [%.1f-%.1f] |\n", med[m][2], t[m][2][0], t[m][2][rounds - 1]);
	}
	printf("\nTarget (issue 13): lazy hooked throughput >= 0.95x native: %s (%.3fx).\n",
	       (med[1][0] / med[0][0] + med[1][1] / med[0][1]) / 2 >= 0.95 ? "met" : "missed",
	       (med[1][0] / med[0][0] + med[1][1] / med[0][1]) / 2);
	return 0;
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
	fflush(stdout);
	return redis_table(rounds);
}
