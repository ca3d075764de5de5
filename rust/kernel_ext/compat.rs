// SPDX-License-Identifier: GPL-2.0

//! Compat (32-bit) system calls of 64-bit kernels.
//!
//! C header: [`include/linux/compat.h`](srctree/include/linux/compat.h)

use crate::kernel_ext::bindings;

/// Is the current system call a compat one?
///
/// True for an ia32 (`int $0x80`, `sysenter`) or x32 system call on x86-64
/// and for a system call of an AArch32 task on arm64; always false on a
/// kernel without `CONFIG_COMPAT`. A driver that hands out 64-bit code or
/// 64-bit layouts can refuse such callers with it (`in_compat_syscall()`).
///
/// # Examples
///
/// ```
/// // A KUnit test runs in a kernel thread, which makes no compat calls.
/// assert!(!kernel::compat::in_compat_syscall());
/// ```
#[inline]
pub fn in_compat_syscall() -> bool {
    // SAFETY: `in_compat_syscall()` only reads the current task's state and
    // may be called from any context.
    unsafe { bindings::in_compat_syscall() }
}
