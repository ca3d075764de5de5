/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/zpoline: a kernel-generated syscall trampoline page at virtual
 * address 0 (x86-64), for processes allowed to have one.
 *
 * After ZPOLINE_IOC_INSTALL, a `syscall` instruction rewritten to
 * `call *%rax` (ff d0) lands in a jump sled at address %rax (the syscall
 * number), which reaches a stub at the end of the page that sets %rcx to
 * the return address (as `syscall` does) and jumps to cfg.hook.  The hook
 * sees the syscall number in %rax and the arguments in %rdi, %rsi, %rdx,
 * %r10, %r8, %r9, returns with `ret`, result in %rax, and may clobber %rcx
 * and %r11.  On the way nothing else changes: no register, flag or memory.
 *
 * Which %rax values reach the hook (Documentation/zpoline.rst, "Page
 * layout"):
 *   0 .. ZPOLINE_FAST_LEN - 1 (every x86-64 syscall number): all, in at
 *     most 9 instructions (nops and jumps).
 *   ZPOLINE_FAST_LEN .. ZPOLINE_STUB_OFFSET - 1: all but a few holes
 *     (8 in this version, listed in the documentation), where the call
 *     faults (SIGILL or SIGSEGV) before anything changes.
 *   ZPOLINE_STUB_OFFSET .. 4095: the stub itself; never call there.
 *   4096 and above: outside the page.
 * A rewriter that cannot prove %rax is below ZPOLINE_FAST_LEN at a site
 * must leave that site alone.  The install reply's sled_len is
 * ZPOLINE_STUB_OFFSET.
 *
 * The page is not writable, is sealed (no mprotect, munmap, mremap or
 * MAP_FIXED over it: EPERM), is kept across fork and dropped by exec, and
 * is execute-only where the CPU has protection keys.
 *
 * Errors of ZPOLINE_IOC_INSTALL, checked in this order:
 *   EFAULT      cfg not readable
 *   EINVAL      unknown flags, reserved != 0, hook 0
 *   EFAULT      hook not a user address
 *   EPERM       not allowed: no CAP_SYS_RAWIO and not in the group
 *               zpoline_gid, both in the initial user namespace; any caller
 *               inside another user namespace
 *   ENXIO       SMEP or SMAP not in force (CPU without them, or booted with
 *               clearcpuid=smep/smap): no page at 0 on such a kernel
 *   EOPNOTSUPP  execute-only required (ZPOLINE_INSTALL_REQUIRE_XOM or the
 *               module parameter zpoline_require_xom=1), and no protection
 *               keys (CPU without PKU, or booted with nopku)
 *   EFAULT      cfg not writable (checked before anything is mapped)
 *   EBUSY       this fd has installed already
 *   EEXIST      something is mapped at address 0 already
 *   ENOSPC      execute-only required, and every protection key of the
 *               process is taken (pkey_alloc), none left for the page
 * A refused install maps nothing and leaves the fd usable.
 * See Documentation/zpoline.rst.
 */
#ifndef _UAPI_LINUX_ZPOLINE_H
#define _UAPI_LINUX_ZPOLINE_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* %rax below this always reaches the hook (every x86-64 syscall number). */
#define ZPOLINE_FAST_LEN	512
/* Offset of the stub, the end of the sled: zpoline_cfg.sled_len. */
#define ZPOLINE_STUB_OFFSET	4079
/* What zpoline_cfg.sled_len reports (the holes above aside, %rax below it reaches the hook). */
#define ZPOLINE_SLED_LEN	ZPOLINE_STUB_OFFSET

/* zpoline_cfg.flags bits */
#define ZPOLINE_INSTALL_REQUIRE_XOM	0x1	/* execute-only page or none */

/* zpoline_cfg.result bits */
#define ZPOLINE_RESULT_XOM	0x1	/* the page is execute-only (pkeys) */

/**
 * struct zpoline_cfg - argument of ZPOLINE_IOC_INSTALL
 * @hook: in: user address of the hook; not 0, below the user address limit
 * @flags: in: ZPOLINE_INSTALL_* bits
 * @result: out: ZPOLINE_RESULT_* bits
 * @sled_len: out: ZPOLINE_STUB_OFFSET: %rax below it reaches the hook,
 *            except the holes above ZPOLINE_FAST_LEN
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
