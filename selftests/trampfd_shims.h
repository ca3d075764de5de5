/* SPDX-License-Identifier: GPL-2.0 */
/* Targets in trampfd_shims.S and what they record. */
#ifndef TRAMPFD_SHIMS_H
#define TRAMPFD_SHIMS_H

extern __thread long seen_data;
extern __thread long seen_target;

long target(long a, long b, long c, long d, long e, long f, long g, long h);

void shim0(void);
void shim1(void);
void shim2(void);
void shim3(void);
void shim_alt(void);

#endif /* TRAMPFD_SHIMS_H */
