/* SPDX-License-Identifier: GPL-2.0 */
/* Targets of libtrampfd_test.c. */
#ifndef LIBTRAMPFD_REGS_H
#define LIBTRAMPFD_REGS_H

/* libtrampfd_regs.S: return the data register of a custom register pair. */
long pair_ret_a(void);
long pair_ret_b(void);

/*
 * trampfd_shims.S: shimK records the data register and K in seen_data /
 * seen_target, then tail-calls target(), which takes ten arguments here
 * (so that some are on the stack on every architecture).
 */
void shim0(void);
void shim1(void);
void shim2(void);
void shim3(void);
long target(long a, long b, long c, long d, long e, long f, long g, long h, long i, long j);

#endif /* LIBTRAMPFD_REGS_H */
