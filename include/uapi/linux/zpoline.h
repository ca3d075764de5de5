/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/zpoline: a kernel-generated syscall trampoline page at virtual
 * address 0 (x86-64), for processes allowed to have one.
 *
 * After ZPOLINE_IOC_INSTALL, a `syscall` instruction rewritten to
 * `call *%rax` (ff d0) lands in a nop sled at address %rax (the syscall
 * number), slides into a stub that sets %rcx to the return address (as
 * `syscall` does) and jumps to cfg.hook.  The hook sees the syscall number
 * in %rax and the arguments in %rdi, %rsi, %rdx, %r10, %r8, %r9, returns
 * with `ret`, result in %rax, and may clobber %rcx and %r11.
 *
 * The page is not writable, is sealed (no mprotect, munmap, mremap or
 * MAP_FIXED over it: EPERM), is kept across fork and dropped by exec, and
 * is execute-only where the CPU has protection keys.
 * See Documentation/zpoline.rst.
 */
#ifndef _UAPI_LINUX_ZPOLINE_H
#define _UAPI_LINUX_ZPOLINE_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Syscall numbers 0 .. ZPOLINE_SLED_LEN - 1 reach the hook. */
#define ZPOLINE_SLED_LEN	512

/* zpoline_cfg.result bits */
#define ZPOLINE_RESULT_XOM	0x1	/* the page is execute-only (pkeys) */

/**
 * struct zpoline_cfg - argument of ZPOLINE_IOC_INSTALL
 * @hook: in: user address of the hook; not 0, below the user address limit
 * @flags: in: must be 0
 * @result: out: ZPOLINE_RESULT_* bits
 * @sled_len: out: number of syscall numbers the sled covers
 * @reserved: in: must be 0
 */
struct zpoline_cfg {
	__u64 hook;
	__u32 flags;
	__u32 result;
	__u32 sled_len;
	__u32 reserved;
};

#define ZPOLINE_IOC_MAGIC	0xB8
#define ZPOLINE_IOC_INSTALL	_IOWR(ZPOLINE_IOC_MAGIC, 0x01, struct zpoline_cfg)

#endif /* _UAPI_LINUX_ZPOLINE_H */
