// SPDX-License-Identifier: GPL-2.0
/*
 * Run libffi's closure tests (the ffi_suite multi-call binaries of
 * selftests/libffi/Makefile) in the guest, in four settings each:
 *
 *	stock-normal	the suite as built, against stock libffi
 *	stock-locked	the same in a locked-down process (lockdown.h): stock
 *			libffi has no way to get executable memory there, so
 *			these runs are expected to fail
 *	trampfd-normal	closures on /dev/trampfd through the drop-in: the
 *			SUITE-trampfd binary if it exists (static builds,
 *			linked with --wrap), else SUITE with LD_PRELOAD=LIB
 *	trampfd-locked	the same, locked down
 *
 *	ffi_run [-j JOBS] [-t SECONDS] [-p LIB] [-s SETTING[,SETTING...]] SUITE...
 *
 * Every run is a fresh fork+exec of "SUITE TEST" with stdin from /dev/null,
 * stdout and stderr captured together, in its own process group, killed
 * after SECONDS (default 60).  Up to JOBS (default 2) run at once.  The
 * locked runs happen in a child process that calls lockdown_enter() once
 * and forks every test from there (each inherits the lockdown).  Records go
 * to stdout, one per run, whole:
 *
 *	@@ffi-run start SUITE TEST SETTING
 *	| each line of the output
 *	@@ffi-run no-newline-at-end		(if the output did not end in one)
 *	@@ffi-run end SUITE TEST SETTING exit N | signal N | timeout | error
 *
 * SUITE is printed without its directory.  scripts/ffi-tally judges them.
 * The exit status is 0 when every run could be started (whatever the
 * tests did), 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FFI_RUN_NO_LOCKDOWN
#include "lockdown.h"
#endif

#define MAX_JOBS 16
#define MAX_OUTPUT (256 * 1024)

enum setting { STOCK_NORMAL, STOCK_LOCKED, TRAMPFD_NORMAL, TRAMPFD_LOCKED, N_SETTINGS };

static const char * const setting_names[N_SETTINGS] = {
	"stock-normal", "stock-locked", "trampfd-normal", "trampfd-locked",
};

struct suite {
	const char *path;	/* the stock binary */
	const char *name;	/* its basename */
	char *trampfd_path;	/* SUITE-trampfd, or NULL: LD_PRELOAD */
	char **tests;
	int n_tests;
};

struct job {
	pid_t pid;
	int fd;			/* read end of the output pipe, -1 at EOF */
	const struct suite *suite;
	const char *test;
	enum setting setting;
	char *out;
	size_t len, cap;
	int truncated;
	double deadline;
	int timed_out;
};

static int jobs_max = 2;
static int timeout_s = 60;
static const char *preload;
static int want[N_SETTINGS] = { 1, 1, 1, 1 };
static int errors;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		perror("ffi_run: realloc");
		exit(1);
	}
	return p;
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = 0;
}

/* Fork and exec argv with its output on a pipe; stdin is /dev/null. */
static pid_t spawn(char *const argv[], int use_preload, int *fd)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (use_preload)
			setenv("LD_PRELOAD", preload, 1);
		else
			unsetenv("LD_PRELOAD");
		execv(argv[0], argv);
		fprintf(stderr, "ffi_run: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(p[1]);
	*fd = p[0];
	return pid;
}

/* The test names of a suite, from "SUITE --list". */
static int list_tests(struct suite *s)
{
	char *argv[3];
	char *buf = NULL, *line, *save;
	size_t len = 0, cap = 0;
	char chunk[4096];
	ssize_t n;
	int fd, st;
	pid_t pid;

	argv[0] = (char *)s->path;
	argv[1] = "--list";
	argv[2] = NULL;
	pid = spawn(argv, 0, &fd);
	if (pid < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		append(&buf, &len, &cap, chunk, n);
	close(fd);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) || !buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		s->tests = xrealloc(s->tests, (s->n_tests + 1) * sizeof(*s->tests));
		s->tests[s->n_tests++] = line;
	}
	return 0;
}

static void start(struct job *j, const struct suite *s, const char *test,
		  enum setting setting)
{
	int trampfd = setting == TRAMPFD_NORMAL || setting == TRAMPFD_LOCKED;
	char *argv[3];

	argv[0] = (char *)s->path;
	argv[1] = (char *)test;
	argv[2] = NULL;
	memset(j, 0, sizeof(*j));
	j->suite = s;
	j->test = test;
	j->setting = setting;
	j->fd = -1;
	if (trampfd && s->trampfd_path)
		argv[0] = s->trampfd_path;
	if (trampfd && !s->trampfd_path && !preload) {
		j->pid = -1;
		return;
	}
	j->pid = spawn(argv, trampfd && !s->trampfd_path, &j->fd);
	j->deadline = now() + timeout_s;
}

/* Print the record of a finished job (status as from waitpid). */
static void finish(struct job *j, int st)
{
	char *rec = NULL, *p, *nl;
	size_t len = 0, cap = 0;
	char line[512], status[128];
	int n;

	n = snprintf(line, sizeof(line), "@@ffi-run start %s %s %s\n",
		     j->suite->name, j->test, setting_names[j->setting]);
	append(&rec, &len, &cap, line, n);
	for (p = j->out; p && *p; p = nl + 1) {
		nl = strchr(p, '\n');
		append(&rec, &len, &cap, "| ", 2);
		if (!nl) {
			append(&rec, &len, &cap, p, strlen(p));
			append(&rec, &len, &cap, "\n@@ffi-run no-newline-at-end\n", 29);
			break;
		}
		append(&rec, &len, &cap, p, nl - p + 1);
	}
	if (j->truncated)
		append(&rec, &len, &cap, "@@ffi-run output-truncated\n", 27);
	if (j->pid < 0 && j->setting >= TRAMPFD_NORMAL && !j->suite->trampfd_path && !preload)
		snprintf(status, sizeof(status), "error (no -trampfd binary and no -p library)");
	else if (j->pid < 0)
		snprintf(status, sizeof(status), "error (fork: %s)", strerror(errno));
	else if (j->timed_out)
		snprintf(status, sizeof(status), "timeout");
	else if (WIFEXITED(st))
		snprintf(status, sizeof(status), "exit %d", WEXITSTATUS(st));
	else
		snprintf(status, sizeof(status), "signal %d", WTERMSIG(st));
	n = snprintf(line, sizeof(line), "@@ffi-run end %s %s %s %s\n", j->suite->name,
		     j->test, setting_names[j->setting], status);
	append(&rec, &len, &cap, line, n);
	fwrite(rec, 1, len, stdout);
	fflush(stdout);
	free(rec);
	free(j->out);
}

static void drain(struct job *j)
{
	char chunk[4096];
	ssize_t n;

	n = read(j->fd, chunk, sizeof(chunk));
	if (n > 0) {
		if (j->len + n > MAX_OUTPUT) {
			j->truncated = 1;
			return;
		}
		append(&j->out, &j->len, &j->cap, chunk, n);
		return;
	}
	if (n < 0 && errno == EINTR)
		return;
	close(j->fd);
	j->fd = -1;
}

/* The rest of the output of an exited job (a straggler gets 2 s). */
static void drain_rest(struct job *j)
{
	struct pollfd one = { .fd = j->fd, .events = POLLIN };

	while (j->fd >= 0) {
		one.fd = j->fd;
		if (poll(&one, 1, 2000) <= 0) {
			close(j->fd);
			j->fd = -1;
			break;
		}
		drain(j);
	}
}

/* Run every test of every suite in the given settings, JOBS at a time. */
static void run_settings(struct suite *suites, int n_suites, const enum setting *settings,
			 int n_settings)
{
	struct job jobs[MAX_JOBS];
	struct pollfd pfd[MAX_JOBS];
	int active = 0, si = 0, ti = 0, gi = 0, i, n, st, wait_ms;
	double t;

	for (;;) {
		/* Fill free slots with the next runs. */
		while (active < jobs_max && gi < n_settings) {
			if (si >= n_suites) {
				si = 0;
				gi++;
				continue;
			}
			if (ti >= suites[si].n_tests) {
				ti = 0;
				si++;
				continue;
			}
			start(&jobs[active], &suites[si], suites[si].tests[ti], settings[gi]);
			ti++;
			if (jobs[active].pid < 0) {
				errors++;
				finish(&jobs[active], 0);
				continue;
			}
			active++;
		}
		if (!active)
			break;
		t = now();
		wait_ms = 1000;
		for (i = n = 0; i < active; i++) {
			int left = (int)((jobs[i].deadline - t) * 1000) + 1;

			if (left < wait_ms)
				wait_ms = left < 0 ? 0 : left;
			if (jobs[i].fd < 0) {
				wait_ms = 1;
				continue;
			}
			pfd[n].fd = jobs[i].fd;
			pfd[n].events = POLLIN;
			n++;
		}
		if (poll(pfd, n, wait_ms) < 0 && errno != EINTR) {
			perror("ffi_run: poll");
			exit(1);
		}
		for (i = 0; i < active; i++) {
			if (jobs[i].fd >= 0) {
				struct pollfd one = { .fd = jobs[i].fd, .events = POLLIN };

				if (poll(&one, 1, 0) > 0)
					drain(&jobs[i]);
			}
		}
		t = now();
		for (i = 0; i < active; i++) {
			struct job *j = &jobs[i];

			if (t > j->deadline && !j->timed_out) {
				j->timed_out = 1;
				kill(-j->pid, SIGKILL);
				kill(j->pid, SIGKILL);
			}
			if (waitpid(j->pid, &st, j->timed_out ? 0 : WNOHANG) <= 0)
				continue;
			/* Whatever it left behind in its group goes too. */
			kill(-j->pid, SIGKILL);
			drain_rest(j);
			finish(j, st);
			jobs[i] = jobs[--active];
			i--;
		}
	}
}

static int bad_usage(void)
{
	fprintf(stderr, "usage: ffi_run [-j JOBS] [-t SECONDS] [-p LIB] [-s SETTINGS] SUITE...\n");
	return 2;
}

static int parse_settings(char *list)
{
	char *w, *save;
	int i;

	memset(want, 0, sizeof(want));
	for (w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < N_SETTINGS; i++)
			if (!strcmp(w, setting_names[i]))
				break;
		if (i == N_SETTINGS)
			return -1;
		want[i] = 1;
	}
	return 0;
}

static int enter_lockdown(void)
{
#ifdef FFI_RUN_NO_LOCKDOWN
	fprintf(stderr, "ffi_run: built without lockdown.c\n");
	return -1;
#else
	return lockdown_enter();
#endif
}

/* The locked runs, in a child that locks itself down first. */
static void run_locked(struct suite *suites, int n_suites)
{
	enum setting locked[2];
	int n = 0, st;
	pid_t pid;

	if (want[STOCK_LOCKED])
		locked[n++] = STOCK_LOCKED;
	if (want[TRAMPFD_LOCKED])
		locked[n++] = TRAMPFD_LOCKED;
	if (!n)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (enter_lockdown()) {
			printf("@@ffi-run lockdown-failed\n");
			fflush(stdout);
			_exit(1);
		}
		run_settings(suites, n_suites, locked, n);
		fflush(stdout);
		_exit(errors ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		errors++;
}

int main(int argc, char **argv)
{
	enum setting normal[2];
	struct suite *suites;
	int opt, i, n = 0;
	double t0, t1;
	char *slash;

	while ((opt = getopt(argc, argv, "j:t:p:s:")) != -1) {
		switch (opt) {
		case 'j':
			jobs_max = atoi(optarg);
			if (jobs_max < 1 || jobs_max > MAX_JOBS)
				return bad_usage();
			break;
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'p':
			preload = optarg;
			break;
		case 's':
			if (parse_settings(optarg))
				return bad_usage();
			break;
		default:
			return bad_usage();
		}
	}
	if (optind >= argc)
		return bad_usage();
	if (preload && access(preload, R_OK)) {
		fprintf(stderr, "ffi_run: %s: %s\n", preload, strerror(errno));
		preload = NULL;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	signal(SIGPIPE, SIG_IGN);
	t0 = now();
	suites = calloc(argc - optind, sizeof(*suites));
	for (i = optind; i < argc; i++) {
		struct suite *s = &suites[n];

		s->path = argv[i];
		slash = strrchr(argv[i], '/');
		s->name = slash ? slash + 1 : argv[i];
		if (asprintf(&s->trampfd_path, "%s-trampfd", argv[i]) < 0)
			return 1;
		if (access(s->trampfd_path, X_OK)) {
			free(s->trampfd_path);
			s->trampfd_path = NULL;
		}
		if (list_tests(s)) {
			printf("@@ffi-run list-failed %s\n", s->name);
			errors++;
			continue;
		}
		printf("@@ffi-run list %s %d\n", s->name, s->n_tests);
		n++;
	}
	fflush(stdout);
	i = 0;
	if (want[STOCK_NORMAL])
		normal[i++] = STOCK_NORMAL;
	if (want[TRAMPFD_NORMAL])
		normal[i++] = TRAMPFD_NORMAL;
	run_settings(suites, n, normal, i);
	t1 = now();
	printf("@@ffi-run time normal %.1f s\n", t1 - t0);
	run_locked(suites, n);
	printf("@@ffi-run time locked %.1f s\n", now() - t1);
	printf("@@ffi-run done %.1f s, %d errors\n", now() - t0, errors);
	fflush(stdout);
	return errors ? 1 : 0;
}
