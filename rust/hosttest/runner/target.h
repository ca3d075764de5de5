/* SPDX-License-Identifier: GPL-2.0 */
/* target.S: the trampoline target of run_page.c. */
#ifndef RUN_PAGE_TARGET_H
#define RUN_PAGE_TARGET_H

/* Registers a trampoline may load, by register number (set by tfd_target). */
extern long seen_regs[32];

/* Records the temporaries in seen_regs[], then returns weighted(a .. h). */
long tfd_target(long a, long b, long c, long d, long e, long f, long g, long h);
long weighted(long a, long b, long c, long d, long e, long f, long g, long h);

typedef long (*tramp_fn)(long a, long b, long c, long d, long e, long f,
			 long g, long h);

#endif /* RUN_PAGE_TARGET_H */
