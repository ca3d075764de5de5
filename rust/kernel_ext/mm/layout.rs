// SPDX-License-Identifier: GPL-2.0

//! The layout of user address spaces.
//!
//! C header: [`include/linux/uaccess.h`](srctree/include/linux/uaccess.h)

use crate::kernel_ext::bindings;

/// The first address above the user address space of a 64-bit task
/// (`TASK_SIZE_MAX`): no user mapping, and no user pointer that
/// `access_ok()` accepts, reaches it.
///
/// On x86-64 it depends on whether the CPU runs with 5-level paging, so it
/// is read at run time; it is the same for every 64-bit task of a boot
/// (where it is `TASK_SIZE`, as on riscv64, a compat task gets the 32-bit
/// limit).
///
/// # Examples
///
/// ```
/// use kernel::{mm::layout::task_size_max, page::PAGE_SIZE};
///
/// assert!(task_size_max() > PAGE_SIZE);
/// assert_eq!(task_size_max() % PAGE_SIZE, 0);
/// ```
#[inline]
pub fn task_size_max() -> usize {
    // SAFETY: `TASK_SIZE_MAX` is a constant or a per-boot value, readable in
    // any context.
    unsafe { bindings::task_size_max() }
}
