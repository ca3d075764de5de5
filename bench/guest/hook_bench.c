// SPDX-License-Identifier: GPL-2.0
/*
 * Guest benchmark of the syscall-hook paths (the guest counterpart of
 * bench/src/bin/hooks.rs): cost per syscall of a pass-through hook on
 * getpid() and on a 1-byte read() of /dev/zero, issued by one `syscall`
 * instruction of this program, for
 *
 *   native             no hook;
 *   zpoline page       the module's /dev/zpoline page at address 0 with a
 *                      two-instruction hook (syscall; ret) of this program,
 *                      the site written as the rewritten `call *%rax`;
 *   SUD                Syscall User Dispatch: a SIGSYS handler per call;
 *   libsyscallhook.so  this program re-executed with LD_PRELOAD (lazy: the
 *                      site is rewritten at its first SIGSYS; eager: at
 *                      load), the library's full hook entry and dispatch.
 *
 * Every mechanism runs in its own process (SUD and the page at 0 cannot be
 * undone).  Dynamically linked (LD_PRELOAD), built with -mno-red-zone: the
 * rewritten site pushes a return address below the stack pointer.  Under
 * `-icount shift=0` (BENCH_ICOUNT=1) the clock counts guest instructions.
 *
 *   hook_bench [iterations [repeats]]	prints a Markdown table
 *   hook_bench --child OP ITERS REPEATS	(internal: measure OP, print 3 numbers)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/zpoline.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench_util.h"

#define LIB "/t/libsyscallhook.so"
#define MAX_REPEATS 64

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#endif

/* The workload: getpid, or read(fd, buf, 1) of /dev/zero. */
struct op {
	long nr, fd;
};

static char buf;

/* One `syscall` instruction: the site SUD and the library intercept. */
static long raw_syscall(const struct op *o)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(o->nr), "D"(o->fd), "S"(&buf), "d"(1L)
		     : "rcx", "r11", "memory");
	return ret;
}

/* The same site as the library rewrites it: call *%rax into the sled. */
static long zpoline_call(const struct op *o)
{
	long ret;

	asm volatile("call *%%rax"
		     : "=a"(ret)
		     : "a"(o->nr), "D"(o->fd), "S"(&buf), "d"(1L)
		     : "rcx", "r11", "memory");
	return ret;
}

/* Pass-through hook for the zpoline page: the real syscall, then return. */
void hb_hook(void);
asm(".text\n"
	".globl hb_hook\n"
	"hb_hook:\n\t"
	"syscall\n\t"
	"ret\n");

/* Median, min, max per op of @iters calls of @fn, over @reps runs. */
static void time_it(long (*fn)(const struct op *), const struct op *o,
		    long iters, int reps, double r[3])
{
	double v[MAX_REPEATS];
	int i;

	for (i = 0; i < reps; i++) {
		double t = now_ns();
		long k;

		for (k = 0; k < iters; k++)
			fn(o);
		v[i] = (now_ns() - t) / iters;
	}
	qsort(v, reps, sizeof(*v), cmp_double);
	r[0] = v[reps / 2];
	r[1] = v[0];
	r[2] = v[reps - 1];
}

/* SIGSYS handler of SUD: pass the call through from libc (allowed range). */
static void on_sigsys(int sig, siginfo_t *info, void *ctx)
{
	greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	long r = syscall(g[REG_RAX], g[REG_RDI], g[REG_RSI], g[REG_RDX]);

	g[REG_RAX] = r < 0 ? -errno : r;
}

static char sud_selector;

/* SUD on for this process, with libc's text as the allowed range. */
static int setup_sud(void)
{
	unsigned long start = 0, end = 0;
	struct sigaction sa = { 0 };
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "r-xp") && strstr(line, "/libc.so")) {
			if (sscanf(line, "%lx-%lx", &start, &end) != 2)
				start = 0;
			break;
		}
	if (f)
		fclose(f);
	if (!start)
		return -1;
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL))
		return -1;
	sud_selector = 1;	/* SYSCALL_DISPATCH_FILTER_BLOCK */
	return prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, start,
		     end - start, &sud_selector);
}

/* Map the module's zpoline page at 0 with hb_hook as the hook. */
static int setup_zpoline(void)
{
	struct zpoline_cfg cfg = { .hook = (unsigned long)hb_hook };
	int fd = open("/dev/zpoline", O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg);
	close(fd);
	return ret;
}

enum mech { NATIVE, ZPOLINE, SUD, LIB_LAZY, LIB_EAGER, NMECH };
static const char *const mech_name[NMECH] = {
	"native (no hook)", "zpoline page + rewritten call",
	"Syscall User Dispatch (SIGSYS)", "libsyscallhook.so, lazy",
	"libsyscallhook.so, eager",
};

/* Measure @m in this process (which is about to exit); NaN if unavailable. */
static void measure(enum mech m, struct op *o, long iters, int reps, double r[3])
{
	long (*fn)(const struct op *) = raw_syscall;

	r[0] = r[1] = r[2] = -1;
	if (m == ZPOLINE) {
		if (setup_zpoline())
			return;
		fn = zpoline_call;
	} else if (m == SUD) {
		if (setup_sud())
			return;
		iters = iters / 20 > 0 ? iters / 20 : 1;	/* slow: fewer ops */
	}
	/* The hook must pass the call through: same result as native. */
	if (fn(o) != (o->nr == SYS_getpid ? getpid() : 1))
		return;
	time_it(fn, o, iters, reps, r);
}

/* Run @m in a child (fork, or exec with the library preloaded). */
static void in_child(enum mech m, const char *opname, long iters, int reps,
		     double r[3])
{
	int p[2], st;
	pid_t pid;
	FILE *f;

	r[0] = r[1] = r[2] = -1;
	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		struct op o = { .nr = SYS_getpid };

		dup2(p[1], 1);
		close(p[0]);
		if (m == LIB_LAZY || m == LIB_EAGER) {
			char it[32], rp[32], *argv[6], *env[3];

			snprintf(it, sizeof(it), "%ld", iters);
			snprintf(rp, sizeof(rp), "%d", reps);
			argv[0] = "hook_bench";
			argv[1] = "--child";
			argv[2] = (char *)opname;
			argv[3] = it;
			argv[4] = rp;
			argv[5] = NULL;
			env[0] = "LD_PRELOAD=" LIB;
			env[1] = m == LIB_EAGER ? "SYSCALLHOOK_MODE=eager" : "SYSCALLHOOK_MODE=lazy";
			env[2] = NULL;
			execve("/proc/self/exe", argv, env);
			_exit(127);
		}
		if (!strcmp(opname, "read")) {
			o.nr = SYS_read;
			o.fd = open("/dev/zero", O_RDONLY);
		}
		measure(m, &o, iters, reps, r);
		printf("%f %f %f\n", r[0], r[1], r[2]);
		fflush(stdout);
		_exit(0);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f || fscanf(f, "%lf %lf %lf", &r[0], &r[1], &r[2]) != 3)
		r[0] = r[1] = r[2] = -1;
	if (f)
		fclose(f);
	waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
	static const char *const ops[] = { "getpid", "read" };
	static const char *const labels[] = { "getpid", "read 1 B /dev/zero" };
	const char *unit = bench_unit();
	double r[NMECH][3];
	long iters;
	int reps, k, m;

	if (argc == 5 && !strcmp(argv[1], "--child")) {
		/* Preloaded: the library hooks this process's syscall site. */
		struct op o = { .nr = SYS_getpid };

		if (!strcmp(argv[2], "read")) {
			o.nr = SYS_read;
			o.fd = open("/dev/zero", O_RDONLY);
		}
		measure(NATIVE, &o, atol(argv[3]), atoi(argv[4]), r[0]);
		printf("%f %f %f\n", r[0][0], r[0][1], r[0][2]);
		return 0;
	}
	iters = argc > 1 ? atol(argv[1]) : 50000;
	reps = argc > 2 ? atoi(argv[2]) : 7;
	if (reps < 1 || reps > MAX_REPEATS || iters < 1)
		return 2;
	printf("Pass-through syscall hook cost in the guest, %ld ops (SUD %ld) x %d runs, median per op\n\n",
	       iters, iters / 20 > 0 ? iters / 20 : 1, reps);
	printf("| syscall | mechanism | median %s/op | spread (min..max) | overhead %s | overhead / zpoline's |\n",
	       unit, unit);
	printf("| --- | --- | --- | --- | --- | --- |\n");
	for (k = 0; k < 2; k++) {
		double zp_over;

		for (m = 0; m < NMECH; m++)
			in_child(m, ops[k], iters, reps, r[m]);
		zp_over = r[ZPOLINE][0] - r[NATIVE][0];
		for (m = 0; m < NMECH; m++) {
			double over = r[m][0] - r[NATIVE][0];

			if (r[m][0] < 0) {
				printf("| %s | %s | n/a | n/a | n/a | n/a |\n", labels[k], mech_name[m]);
				continue;
			}
			printf("| %s | %s | %.1f | %.1f..%.1f | %.1f | ", labels[k], mech_name[m],
			       r[m][0], r[m][1], r[m][2], over);
			if (m == NATIVE)
				printf("- |\n");
			else if (zp_over <= 0)	/* TCG noise: zpoline not above native */
				printf("n/a |\n");
			else
				printf("%.1fx |\n", over / zp_over);
		}
	}
	return 0;
}
