/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What selftests/compat32.c (a freestanding 32-bit program: no C library,
 * no kernel headers) needs from the UAPI headers.  compat_test.c checks
 * every value against <linux/trampfd.h> and <linux/zpoline.h>.
 */
#ifndef TRAMPFD_COMPAT32_H
#define TRAMPFD_COMPAT32_H

/* _IOC() of the asm-generic layout (x86, arm). */
#define C32_IOC(dir, type, nr, size) \
	(((dir) << 30) | ((size) << 16) | ((type) << 8) | (nr))
#define C32_TRAMPFD_IOC_CREATE		C32_IOC(0u, 0xb7u, 1u, 0u)
#define C32_TRAMPFD_IOC_GET_INFO	C32_IOC(2u, 0xb7u, 2u, 64u)
#define C32_ZPOLINE_IOC_INSTALL		C32_IOC(3u, 0xb8u, 1u, 24u)

/* Exit status of compat32 when the checks could not even start. */
#define C32_USAGE	100

#endif /* TRAMPFD_COMPAT32_H */
