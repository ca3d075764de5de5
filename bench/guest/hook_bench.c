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
 * A second table shows that reaching the hook does not depend on the
 * syscall number: for numbers 0, 39, 231 (exit_group) and 450, the cost of
 * a rewritten call whose hook returns at once, without any syscall: through
 * the bare page with a `ret` hook, and through the library's full entry and
 * dispatch with a C callback that answers the call itself (so exit_group is
 * never executed).  The cost of calling a function that returns at once is
 * subtracted.  With the old one-byte-nop sled, number 0 walks all 512 nops.
 *
 * Every syscall site is `mov $NR, %eax; syscall` in a small asm function
 * (site_NR), so the number is a constant at the site, as the library
 * requires before it rewrites one; page_NR is the same with `call *%rax`.
 * Every mechanism runs in its own process (SUD and the page at 0 cannot be
 * undone).  Dynamically linked (LD_PRELOAD).  Under `-icount shift=0`
 * (BENCH_ICOUNT=1) the clock counts guest instructions.
 *
 *   hook_bench [iterations [repeats]]	prints two Markdown tables
 *   hook_bench --child OP ITERS REPEATS	(internal: measure OP preloaded)
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
#include <dlfcn.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench_util.h"
#include "hook_sites.h"

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

/*
 * The sites: site_N is `mov $N, %eax; syscall; ret` (arguments stay in
 * rdi, rsi, rdx as the C caller put them), the kind of site the library
 * rewrites: a constant number, unwind info (CFI) that gives the library
 * the function's bounds, and two bytes inside one cache line; page_N is the same site already rewritten (`call *%rax`, into
 * the page at address N).  empty_fn returns at once (the call's own cost).
 * hb_hook passes a call through (`syscall; ret`); hb_ret returns at once.
 */
#define SITES(n)						\
	".p2align 4\n"			/* syscall at +5: one cache line */ \
	".globl site_" #n "\n"					\
	".type site_" #n ", @function\n"			\
	"site_" #n ":\n\t"					\
	".cfi_startproc\n\t"		/* an FDE: the library's bounds */ \
	"mov $" #n ", %eax\n\t"		/* the number: constant */ \
	"syscall\n\t"						\
	"ret\n\t"						\
	".cfi_endproc\n"					\
	".globl page_" #n "\n"					\
	"page_" #n ":\n\t"					\
	"mov $" #n ", %eax\n\t"					\
	"call *%rax\n\t"		/* into the sled at N */	\
	"ret\n"
asm(".text\n"
	SITES(0) SITES(39) SITES(231) SITES(450)
	".globl empty_fn\n"
	".globl empty_fn3\n"
	"empty_fn:\n"
	"empty_fn3:\n\t"
	"ret\n"
	".globl hb_hook\n"
	"hb_hook:\n\t"
	"syscall\n\t"			/* pass-through: the real syscall */
	"ret\n"
	".globl hb_ret\n"
	"hb_ret:\n\t"
	"ret\n");			/* returns at once: rax = the number */

static long native_getpid(const struct op *o) { (void)o; return site_39(); }
static long native_read(const struct op *o) { return site_0(o->fd, &buf, 1); }
static long page_getpid(const struct op *o) { (void)o; return page_39(); }
static long page_read(const struct op *o) { return page_0(o->fd, &buf, 1); }

/* The by-number rows call sites without arguments that matter. */
static const long numbers[] = { 0, 39, 231, 450 };
#define NNUM 4
static long num_site(const struct op *o)
{
	switch (o->nr) {
	case 0: return site_0(-1, NULL, 0);
	case 39: return site_39();
	case 231: return site_231();
	default: return site_450();
	}
}

/* The baseline of the by-number rows: the same switch, an empty function. */
static long num_empty(const struct op *o)
{
	switch (o->nr) {
	case 0: return empty_fn3(-1, NULL, 0);
	case 39: return empty_fn();
	case 231: return empty_fn();
	default: return empty_fn();
	}
}

static long num_page(const struct op *o)
{
	switch (o->nr) {
	case 0: return page_0(-1, NULL, 0);
	case 39: return page_39();
	case 231: return page_231();
	default: return page_450();
	}
}

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

/* Map the module's page with @hook; 0 on success. */
static int setup_page(void (*hook)(void))
{
	struct zpoline_cfg cfg = { .hook = (unsigned long)hook };
	int fd = open("/dev/zpoline", O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg);
	close(fd);
	return ret;
}

enum mech { NATIVE, ZPOLINE, SUD, LIB_LAZY, LIB_EAGER, NMECH,
	    EMPTY = NMECH, PAGE_RET, LIB_ANSWER };
static const char *const mech_name[NMECH] = {
	"native (no hook)", "zpoline page + rewritten call",
	"Syscall User Dispatch (SIGSYS)", "libsyscallhook.so, lazy",
	"libsyscallhook.so, eager",
};

/*
 * The C callback of the by-number rows: answers the measured number itself
 * (while @answering), passes everything else through (the child still has
 * to write its results and exit).
 */
static long answering = -1;

static int answer(long nr, long *args, long *result)
{
	(void)args;
	if (nr != answering)
		return 0;
	*result = 0;
	return 1;
}

/* Measure @m in this process (which is about to exit); -1 if unavailable. */
static void measure(enum mech m, struct op *o, long iters, int reps, double r[3])
{
	int read_op = o->nr == SYS_read;
	long (*fn)(const struct op *) = read_op ? native_read : native_getpid;

	r[0] = r[1] = r[2] = -1;
	if (m == ZPOLINE) {
		if (setup_page(hb_hook))
			return;
		fn = read_op ? page_read : page_getpid;
	} else if (m == SUD) {
		if (setup_sud())
			return;
		iters = iters / 20 > 0 ? iters / 20 : 1;	/* slow: fewer ops */
	} else if (m == EMPTY) {
		time_it(num_empty, o, iters, reps, r);
		return;
	} else if (m == PAGE_RET) {
		if (setup_page(hb_ret))
			return;
		fn = num_page;
		time_it(fn, o, iters, reps, r);
		return;
	} else if (m == LIB_ANSWER) {
		void (*reg)(int (*)(long, long *, long *)) =
			(void (*)(int (*)(long, long *, long *)))dlsym(RTLD_DEFAULT,
								      "syscallhook_register");

		if (!reg)
			return;
		answering = o->nr;
		reg(answer);
		fn = num_site;
		fn(o);		/* the first call traps and rewrites the site */
		time_it(fn, o, iters, reps, r);
		reg(NULL);
		answering = -1;
		return;
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
	fflush(stdout);		/* the child must not print our buffered table */
	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		struct op o = { .nr = SYS_getpid };

		dup2(p[1], 1);
		close(p[0]);
		if (m == LIB_LAZY || m == LIB_EAGER || m == LIB_ANSWER) {
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
		} else if (opname[0] == 'n') {
			o.nr = atol(opname + 1);	/* a by-number row */
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

		enum mech cm = NATIVE;

		if (!strcmp(argv[2], "read")) {
			o.nr = SYS_read;
			o.fd = open("/dev/zero", O_RDONLY);
		} else if (argv[2][0] == 'n') {
			o.nr = atol(argv[2] + 1);	/* by number, callback answers */
			cm = LIB_ANSWER;
		}
		measure(cm, &o, atol(argv[3]), atoi(argv[4]), r[0]);
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
	/* Reaching the hook, by syscall number: no syscall is executed. */
	{
		double e[3], pg[NNUM][3], lb[NNUM][3];
		char name[16];

		in_child(EMPTY, "n39", iters, reps, e);
		for (k = 0; k < NNUM; k++) {
			snprintf(name, sizeof(name), "n%ld", numbers[k]);
			in_child(PAGE_RET, name, iters, reps, pg[k]);
			in_child(LIB_ANSWER, name, iters, reps, lb[k]);
		}
		printf("\nReaching the hook by syscall number, %s/op above an empty function call (%.1f): the rewritten\n"
		       "`call *%%rax` of `mov $N,%%eax` into the page, no syscall executed. Page: the bare page with a hook\n"
		       "that returns at once (sled + stub). Library: libsyscallhook.so's entry and dispatch with a C\n"
		       "callback that answers the call itself. Median [min..max].\n\n", unit, e[0]);
		printf("| syscall number | page, hook returns at once | libsyscallhook.so, callback answers |\n");
		printf("| ---: | ---: | ---: |\n");
		for (k = 0; k < NNUM; k++) {
			printf("| %ld ", numbers[k]);
			if (pg[k][0] < 0 || e[0] < 0)
				printf("| n/a ");
			else
				printf("| %.1f [%.1f..%.1f] ", pg[k][0] - e[0], pg[k][1] - e[0],
				       pg[k][2] - e[0]);
			if (lb[k][0] < 0 || e[0] < 0)
				printf("| n/a |\n");
			else
				printf("| %.1f [%.1f..%.1f] |\n", lb[k][0] - e[0], lb[k][1] - e[0],
				       lb[k][2] - e[0]);
		}
	}
	return 0;
}
