/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libsyscallhook.so: hook every system call of an unmodified x86-64 program
 * on the /dev/zpoline page (LD_PRELOAD=libsyscallhook.so prog). This header
 * declares the library's C API for programs and libraries that run under
 * it. The library is preloaded, not linked: look the functions up with
 * dlsym(RTLD_DEFAULT, ...) so that the program also runs without it, or
 * link with -lsyscallhook when it is always present. See
 * Documentation/zpoline.rst ("The hook library").
 */
#ifndef SYSCALLHOOK_H
#define SYSCALLHOOK_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A callback sees every hooked syscall before it runs: nr and the six
 * arguments (rdi, rsi, rdx, r10, r8, r9), which it may change in place.
 * Return 0 to let the (possibly changed) syscall run, or 1 to skip it and
 * make *result its return value (a negative errno for a failure). It runs
 * on the library's per-thread stack with the program's extended state
 * saved; its own syscalls (write(2), ...) go straight to the kernel.
 * Process-creating calls, rt_sigreturn and exit are not passed to it.
 */
typedef int (*syscallhook_fn)(long nr, long args[6], long *result);

/* Registers the callback (NULL: none). One callback per process. */
void syscallhook_register(syscallhook_fn fn);

/* How many syscalls numbered nr (0..511) were hooked so far. */
uint64_t syscallhook_count(uint32_t nr);

/* Whether the hook is active (page installed and SUD on) in this process. */
bool syscallhook_active(void);

/*
 * Patching statistics: i = 0: sites rewritten; i = 1 + r: sites left on
 * the SUD path for reason r, in the order of SYSCALLHOOK_VERBOSE=1's
 * report (no-bounds, desync, rax-unknown, rax-range, branch-target,
 * indirect-jump, red-zone, cache-line, own-code, protection, no-maps,
 * mprotect, table-full); 0 beyond the last reason.
 */
uint64_t syscallhook_patch_stat(uint32_t i);

#ifdef __cplusplus
}
#endif

#endif /* SYSCALLHOOK_H */
