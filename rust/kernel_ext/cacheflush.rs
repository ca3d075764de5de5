// SPDX-License-Identifier: GPL-2.0

//! Cache maintenance for code that the kernel writes for user space.
//!
//! C header: [`include/linux/cacheflush.h`](srctree/include/linux/cacheflush.h)

use kernel::page::{Page, PAGE_SIZE};

use crate::kernel_ext::bindings;

/// Makes instructions written into `page` through the kernel's mapping of
/// it visible to instruction fetch through any other mapping of it, such as
/// a user mapping installed later (`flush_icache_range()` on the page's
/// kernel address).
///
/// On arm64 this cleans the data cache and invalidates the instruction
/// cache to the point of unification, on riscv it executes `fence.i` on
/// every hart; on x86, whose instruction fetch is coherent with stores, it
/// does nothing. Call it after the last write and before the page is mapped
/// executable (or handed to a fault).
#[inline]
pub fn flush_icache_page(page: &Page) {
    // SAFETY: `page` is a valid page (type invariant of `Page`); the local
    // mapping lasts until the `kunmap_local` below, on this thread.
    let addr = unsafe { bindings::kmap_local_page(page.as_ptr()) };
    let start = addr as usize;
    // SAFETY: `[start, start + PAGE_SIZE)` is mapped in the kernel (above)
    // for the duration of the call; the flush only performs cache
    // maintenance on that range and changes no memory.
    unsafe { bindings::flush_icache_range(start, start + PAGE_SIZE) };
    // SAFETY: undoes the `kmap_local_page` above; no local mapping was made
    // in between, so it is the innermost one, as `kunmap_local` requires.
    unsafe { bindings::kunmap_local(addr) };
}
