// SPDX-License-Identifier: GPL-2.0

//! The module's private FFI surface: the C helpers of `helpers.c`.
//!
//! What the driver needs of the kernel that kernel 7.3's `kernel` crate has
//! no safe API for is of two kinds. General abstractions (a `vm_fault`, the
//! icache flush, the compat check, `TASK_SIZE_MAX`, `RLIMIT_MEMLOCK`
//! accounting) are written as the `kernel` crate's own in
//! `rust/kernel_ext/`, which the series adds to the crate. What stays here
//! is driver-local, for the x86-64 zpoline page at address 0: its
//! permission policy, the SMEP/SMAP and protection-key checks, the mapping
//! with `CAP_SYS_RAWIO` raised, and the seal, which no other driver does.
//! Each helper is declared once, here, with `bindings::` types, and wrapped
//! in a function that takes the `kernel` crate's types and states what its
//! caller must guarantee. No other driver file declares an `extern "C"`
//! item.

use kernel::{
    bindings,
    page::{Page, PAGE_SIZE},
};
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
use kernel::{
    error::{to_result, Result},
    fs::File,
    mm::virt::VmaNew,
};

/// The declarations, matching `helpers.h` (all x86-64: zpoline).
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
mod raw {
    use core::ffi::c_int;
    use kernel::bindings;

    // The `bindings` structs contain zero-sized members (bindgen's stand-ins
    // for flexible arrays and opaque parts), which rustc's `improper_ctypes`
    // flags; they are only ever passed by pointer here, exactly as
    // `kernel::bindings`' own function declarations pass them (that crate
    // allows the lint for the same reason).
    #[allow(improper_ctypes)]
    extern "C" {
        pub(super) fn trampfd_zpoline_allowed(gid: u32) -> bool;
        pub(super) fn trampfd_zpoline_cpu_protects_null() -> bool;
        pub(super) fn trampfd_zpoline_pkeys_enabled() -> bool;
        pub(super) fn trampfd_vma_xom(vma: *mut bindings::vm_area_struct) -> bool;
        pub(super) fn trampfd_zpoline_map(file: *mut bindings::file, xom: *mut bool) -> c_int;
        pub(super) fn trampfd_vma_seal(vma: *mut bindings::vm_area_struct);
    }
}

/// Runs `f` on the `PAGE_SIZE` bytes of `page`, mapped into the kernel for
/// the call (`kmap_local_page`: on 64-bit, the direct-map address). The
/// exclusive borrow stands for what the slice needs: nothing else reads or
/// writes the page meanwhile, as for a page the caller allocated and has
/// not mapped anywhere yet.
pub(crate) fn with_page_bytes<T>(page: &mut Page, f: impl FnOnce(&mut [u8]) -> T) -> T {
    // SAFETY: `page` is a valid page (type invariant of `Page`); the
    // mapping lasts until the `kunmap_local` below, on this thread.
    let addr = unsafe { bindings::kmap_local_page(page.as_ptr()) };
    // SAFETY: `addr` maps the page's `PAGE_SIZE` bytes, readable and
    // writable by the kernel, until `kunmap_local`, and the slice does not
    // outlive this call. The `&mut` borrow of `page` makes the slice the
    // only access to those bytes while it lives (the caller owns the page
    // and no page table maps it). A page's bytes are always initialised
    // memory for `u8`, which has no invalid values.
    let bytes = unsafe { core::slice::from_raw_parts_mut(addr.cast::<u8>(), PAGE_SIZE) };
    let r = f(bytes);
    // SAFETY: undoes the `kmap_local_page` above. Local mappings nest:
    // one that `f` made was unmapped before `f` returned, so this one is
    // the innermost, as `kunmap_local` requires.
    unsafe { bindings::kunmap_local(addr) };
    r
}

/// Is the current task allowed to install a zpoline page (the policy of
/// `helpers.c`, decided in the initial user namespace)?
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
pub(crate) fn zpoline_allowed(gid: u32) -> bool {
    // SAFETY: the helper only inspects the current task's credentials.
    unsafe { raw::trampfd_zpoline_allowed(gid) }
}

/// Are SMEP and SMAP both in force?
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
pub(crate) fn zpoline_cpu_protects_null() -> bool {
    // SAFETY: the helper reads boot CPU feature flags.
    unsafe { raw::trampfd_zpoline_cpu_protects_null() }
}

/// Can a `PROT_EXEC`-only mapping be execute-only (protection keys present
/// and enabled)?
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
pub(crate) fn zpoline_pkeys_enabled() -> bool {
    // SAFETY: the helper reads boot CPU state.
    unsafe { raw::trampfd_zpoline_pkeys_enabled() }
}

/// Does `vma`, being set up by mmap, carry a protection key (execute-only)?
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
pub(crate) fn vma_xom(vma: &VmaNew) -> bool {
    // SAFETY: `vma` is valid for the borrow; the helper only reads its flags.
    unsafe { raw::trampfd_vma_xom(vma.as_ptr()) }
}

/// Seals `vma` (`VM_SEALED`: no mprotect, munmap, mremap or `MAP_FIXED`).
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
pub(crate) fn vma_seal(vma: &VmaNew) {
    // SAFETY: `VmaNew` is a vma being set up by the current mmap call (mmap
    // lock held for writing), which is when its flags may change.
    unsafe { raw::trampfd_vma_seal(vma.as_ptr()) }
}

/// Maps `file` at virtual address 0 of the current process (the zpoline
/// install; the policy check has passed).
///
/// Returns whether protection keys made the page execute-only.
///
/// # Safety
///
/// The caller holds no lock that the mmap lock nests inside (the helper
/// calls `vm_mmap`, which calls back into the device's `mmap`).
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
pub(crate) unsafe fn zpoline_map(file: &File) -> Result<bool> {
    let mut xom = false;
    // SAFETY: `file` is valid for the borrow and `xom` for the call; the
    // locking is the caller's promise.
    let ret = unsafe { raw::trampfd_zpoline_map(file.as_ptr(), &mut xom) };
    to_result(ret)?;
    Ok(xom)
}
