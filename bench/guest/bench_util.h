/* SPDX-License-Identifier: GPL-2.0 */
/* Timing helpers shared by the guest benchmarks. */
#ifndef TRAMPFD_BENCH_UTIL_H
#define TRAMPFD_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns (guest instructions under -icount shift=0). */
static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * BENCH_ICOUNT=1 (set by scripts/bench for its run under -icount shift=0):
 * the guest clock counts instructions, so now_ns() differences are guest
 * instructions, not nanoseconds.  The unit to print in table headers.
 */
static inline int bench_icount(void)
{
	const char *v = getenv("BENCH_ICOUNT");

	return v && *v == '1';
}

static inline const char *bench_unit(void)
{
	return bench_icount() ? "instructions" : "ns";
}

/* qsort comparator of doubles, ascending. */
static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#endif /* TRAMPFD_BENCH_UTIL_H */
