// SPDX-License-Identifier: GPL-2.0
/*
 * libffi closures, stock vs on trampfd, in one process and one run (guest).
 *
 * Linked statically with -Wl,--wrap=ffi_closure_alloc,... and
 * libtrampfd-ffi.a: ffi_closure_alloc() & co. reach the drop-in (closures on
 * /dev/trampfd) while __real_ffi_closure_alloc() & co. are Debian's libffi
 * unchanged, so both are measured side by side.
 *
 *   ffi_bench [repeats]	prints Markdown tables on stdout
 *
 * Rows: the call of an `int (*)(int)` closure; creation (alloc + prep) per
 * closure, amortised over 1, 128 and 10,000 closures, each sample in a fresh
 * process (fork + exec of this program, so the first closure pays for
 * libffi's first mapping or the first trampfd page); the same for
 * libtrampfd's own trampfd_closure_alloc(); and a second round in the same
 * process after freeing everything (slots reused).  Under
 * `-icount shift=0` the clock counts guest instructions, not nanoseconds.
 */
#define _GNU_SOURCE
#include <ffi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trampfd.h"
#include "ffi_real.h"
#include "bench_util.h"

enum kind { STOCK, TRAMPFD, LIBTRAMPFD };
static const char *const kind_name[] = { "stock libffi", "libffi on trampfd",
					 "libtrampfd alone" };

static void add_handler(ffi_cif *cif, void *ret, void **args, void *ud)
{
	*(ffi_arg *)ret = *(int *)args[0] + *(int *)ud;
}

static int add_direct(int x)
{
	return x + 5;
}

static ffi_cif cif;
static ffi_type *argt[1] = { &ffi_type_sint32 };
static int bound = 5;

static void *make(enum kind k, void **code)
{
	ffi_closure *c;

	if (k == STOCK) {
		c = __real_ffi_closure_alloc(sizeof(*c), code);
		if (!c || __real_ffi_prep_closure_loc(c, &cif, add_handler, &bound, *code))
			return NULL;
	} else {
		c = ffi_closure_alloc(sizeof(*c), code);
		if (!c || ffi_prep_closure_loc(c, &cif, add_handler, &bound, *code))
			return NULL;
	}
	return c;
}

static void unmake(enum kind k, void *c)
{
	if (k == STOCK)
		__real_ffi_closure_free(c);
	else if (k == TRAMPFD)
		ffi_closure_free(c);
	else
		trampfd_closure_free(c);
}

/* Create n closures; returns ns per closure of the first and second round. */
static int create_rounds(enum kind k, int n, double out[2])
{
	void **objs = calloc(n, sizeof(*objs)), *code;
	int r, i;

	if (!objs)
		return -1;
	for (r = 0; r < 2; r++) {
		double t0 = now_ns();

		for (i = 0; i < n; i++) {
			if (k == LIBTRAMPFD) {
				struct trampfd_closure *h;

				if (!trampfd_closure_alloc((void *)add_direct, &bound, &h))
					return -1;
				objs[i] = h;
			} else {
				objs[i] = make(k, &code);
				if (!objs[i])
					return -1;
			}
		}
		out[r] = (now_ns() - t0) / n;
		for (i = 0; i < n; i++)
			unmake(k, objs[i]);
	}
	free(objs);
	return 0;
}

/* One creation sample in a fresh process: "ffi_bench create KIND N". */
static int child_create(enum kind k, int n)
{
	double v[2];

	if (create_rounds(k, n, v) < 0) {
		perror("create");
		return 1;
	}
	printf("%.1f %.1f\n", v[0], v[1]);
	return 0;
}

static int sample_create(enum kind k, int n, double v[2])
{
	char ks[8], ns[16], buf[128];
	int p[2], st;
	ssize_t len;
	pid_t pid;

	snprintf(ks, sizeof(ks), "%d", k);
	snprintf(ns, sizeof(ns), "%d", n);
	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/proc/self/exe", "ffi_bench", "create", ks, ns, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	len = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	waitpid(pid, &st, 0);
	if (len <= 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	buf[len] = 0;
	return sscanf(buf, "%lf %lf", &v[0], &v[1]) == 2 ? 0 : -1;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* ns per call of f(i) + 0 .. iters - 1; *sum gets the sum of the results. */
static double time_calls(int (*f)(int), long iters, long *sum)
{
	double t0 = now_ns();
	long i, s = 0;

	for (i = 0; i < iters; i++)
		s += f((int)i);
	*sum = s;
	return (now_ns() - t0) / iters;
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 1, 128, 10000 };
	int repeats = argc > 1 ? atoi(argv[1]) : 7;
	int (*fn[2])(int);
	void *code, *obj[2];
	double v[2][64], c[3][64][2];
	long iters = 200000;
	double call_ratio = 0, first[3][3] = { { 0 } }, again[3][3] = { { 0 } };
	int k, r, s;

	if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 1, &ffi_type_sint32, argt) != FFI_OK)
		return 1;
	if (argc == 4 && !strcmp(argv[1], "create"))
		return child_create(atoi(argv[2]), atoi(argv[3]));
	if (repeats < 1 || repeats > 64)
		repeats = 7;

	for (k = STOCK; k <= TRAMPFD; k++) {
		obj[k] = make(k, &code);
		if (!obj[k]) {
			fprintf(stderr, "ffi_bench: %s closure failed\n", kind_name[k]);
			return 1;
		}
		fn[k] = (int (*)(int))code;
		/* The drop-in passes through without a trampfd: refuse that. */
		if (k == TRAMPFD && !trampfd_closure_lookup(code)) {
			fprintf(stderr, "ffi_bench: the closure is not on a trampfd page\n");
			return 1;
		}
		if (fn[k](37) != 42) {
			fprintf(stderr, "ffi_bench: %s closure computes %d\n", kind_name[k],
				fn[k](37));
			return 1;
		}
	}
	/* Calls: interleaved rounds, median per kind. */
	for (r = 0; r < repeats; r++)
		for (k = STOCK; k <= TRAMPFD; k++) {
			long sum;

			v[k][r] = time_calls(fn[k], iters, &sum);
			/* sum of i + 5 over i < iters, as every closure adds 5 */
			if (sum != iters * (iters - 1) / 2 + 5 * iters) {
				fprintf(stderr, "ffi_bench: %s closure: wrong sum\n",
					kind_name[k]);
				return 1;
			}
		}
	printf("Closure call, `int (*)(int)` through libffi, %ld calls x %d rounds\n\n",
	       iters, repeats);
	printf("| closure | median %s per call | ratio to stock |\n| --- | --- | --- |\n",
	       bench_icount() ? "instructions" : "ns");
	{
		double base = median(v[STOCK], repeats);

		for (k = STOCK; k <= TRAMPFD; k++) {
			double m = median(v[k], repeats);

			printf("| %s | %.1f | %.2fx |\n", kind_name[k], m, m / base);
			if (k == TRAMPFD)
				call_ratio = m / base;
		}
	}
	printf("\nClosure creation (alloc + prep; libtrampfd alone: alloc), per closure,\n"
	       "fresh process per sample, median of %d\n\n", repeats);
	printf("| closures | round | stock libffi | libffi on trampfd | ratio |");
	printf(" libtrampfd alone | ratio |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- |\n");
	for (s = 0; s < 3; s++) {
		int rd;

		for (r = 0; r < repeats; r++)
			for (k = STOCK; k <= LIBTRAMPFD; k++)
				if (sample_create(k, sizes[s], c[k][r]) < 0) {
					fprintf(stderr, "ffi_bench: %s x%d failed\n", kind_name[k],
						sizes[s]);
					return 1;
				}
		for (rd = 0; rd < 2; rd++) {
			double m[3];

			for (k = STOCK; k <= LIBTRAMPFD; k++) {
				double t[64];

				for (r = 0; r < repeats; r++)
					t[r] = c[k][r][rd];
				m[k] = median(t, repeats);
			}
			printf("| %d | %s | %.0f | %.0f | %.2fx | %.0f | %.2fx |\n", sizes[s],
			       rd ? "again (reuse)" : "first", m[0], m[1], m[1] / m[0], m[2],
			       m[2] / m[0]);
			if (!rd) {
				first[TRAMPFD][s] = m[1] / m[0];
				first[LIBTRAMPFD][s] = m[2] / m[0];
			} else {
				again[TRAMPFD][s] = m[1] / m[0];
			}
		}
	}
	/* The targets of the libffi issue, judged from the tables above. */
	printf("\n**Targets**: closure call on trampfd %.2fx stock (target <= 1.05x: %s).",
	       call_ratio, call_ratio <= 1.05 ? "met" : "missed");
	for (k = TRAMPFD; k <= LIBTRAMPFD; k++) {
		printf(" Creation, first round, %s: ", kind_name[k]);
		for (s = 0; s < 3; s++)
			printf("%s%d: %.2fx (%s)", s ? ", " : "", sizes[s], first[k][s],
			       first[k][s] <= 0.5 ? "met" : "missed");
		printf(" (target <= 0.5x).");
	}
	printf(" Creation, again (reuse), %s: ", kind_name[TRAMPFD]);
	for (s = 0; s < 3; s++)
		printf("%s%d: %.2fx (%s)", s ? ", " : "", sizes[s], again[TRAMPFD][s],
		       again[TRAMPFD][s] <= 1.1 ? "met" : "missed");
	printf(" (target <= 1.1x).\n");
	for (k = STOCK; k <= TRAMPFD; k++)
		unmake(k, obj[k]);
	return 0;
}
