// SPDX-License-Identifier: GPL-2.0

//! `kernel::bindings` plus the C helpers of `rust/kernel_ext/helpers/`.
//!
//! In the kernel, bindgen generates the declaration of every
//! `rust_helper_*` function of `rust/helpers/*.c` into `bindings`, without
//! the prefix. The out-of-tree build declares its own helpers here, the
//! same way (`#[link_name]`), so that the abstractions call
//! `bindings::get_page` in both builds.

pub use kernel::bindings::*;

// The `bindings` structs contain zero-sized members (bindgen's stand-ins for
// flexible arrays and opaque parts), which rustc's `improper_ctypes` flags;
// they are only ever passed by pointer, as in `kernel::bindings`' own
// declarations (that crate allows the lint for the same reason).
#[allow(improper_ctypes)]
extern "C" {
    /// `get_page()` (`helpers/page.c`).
    #[link_name = "rust_helper_get_page"]
    pub fn get_page(page: *mut page);
    /// `flush_icache_range()` (`helpers/cacheflush.c`).
    #[link_name = "rust_helper_flush_icache_range"]
    pub fn flush_icache_range(start: usize, end: usize);
    /// `in_compat_syscall()` (`helpers/compat.c`).
    #[link_name = "rust_helper_in_compat_syscall"]
    pub fn in_compat_syscall() -> bool;
    /// `TASK_SIZE_MAX` (`helpers/mm.c`).
    #[link_name = "rust_helper_task_size_max"]
    pub fn task_size_max() -> usize;
}
