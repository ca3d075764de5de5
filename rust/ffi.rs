// SPDX-License-Identifier: GPL-2.0

//! The module's one FFI surface: the C helpers of `helpers.c`.
//!
//! They wrap kernel functions that are static inlines or macros in C (so
//! `bindings` cannot reach them: `get_page`, `override_creds`, `vma_pkey`,
//! ...) and fields of anonymous C structs. Each helper is declared once,
//! here, with `bindings::` types, and wrapped in a function that takes the
//! `kernel` crate's types and states what its caller must guarantee. No
//! other file of the module declares an `extern "C"` item.

#[cfg(target_arch = "x86_64")]
use kernel::mm::virt::VmaNew;
use kernel::{
    bindings,
    error::{to_result, Error, Result},
    fs::File,
    mm::Mm,
    page::{Page, PAGE_SIZE},
};

/// The declarations, matching `helpers.h`.
mod raw {
    use core::ffi::{c_int, c_ulong};
    use kernel::bindings;

    // The `bindings` structs contain zero-sized members (bindgen's stand-ins
    // for flexible arrays and opaque parts), which rustc's `improper_ctypes`
    // flags; they are only ever passed by pointer here, exactly as
    // `kernel::bindings`' own function declarations pass them (that crate
    // allows the lint for the same reason).
    #[allow(improper_ctypes)]
    extern "C" {
        pub(super) fn trampfd_get_page(page: *mut bindings::page);
        pub(super) fn trampfd_flush_icache_page(page: *mut bindings::page);
        pub(super) fn trampfd_task_size_max() -> c_ulong;
        pub(super) fn trampfd_reopen(file: *mut bindings::file, cloexec: bool) -> c_int;
        pub(super) fn trampfd_memlock_charge(mm: *mut bindings::mm_struct) -> c_int;
        pub(super) fn trampfd_memlock_uncharge(mm: *mut bindings::mm_struct);
        pub(super) fn trampfd_vmf_vma(
            vmf: *mut bindings::vm_fault,
        ) -> *mut bindings::vm_area_struct;
        pub(super) fn trampfd_vmf_pgoff(vmf: *mut bindings::vm_fault) -> c_ulong;
        pub(super) fn trampfd_in_compat_syscall() -> bool;
        pub(super) fn trampfd_current_uid() -> u32;
    }

    #[cfg(target_arch = "x86_64")]
    #[allow(improper_ctypes)] // as above
    extern "C" {
        pub(super) fn trampfd_zpoline_allowed(gid: u32) -> bool;
        pub(super) fn trampfd_zpoline_cpu_protects_null() -> bool;
        pub(super) fn trampfd_zpoline_pkeys_enabled() -> bool;
        pub(super) fn trampfd_vma_xom(vma: *mut bindings::vm_area_struct) -> bool;
        pub(super) fn trampfd_zpoline_map(file: *mut bindings::file, xom: *mut bool) -> c_int;
        pub(super) fn trampfd_vma_seal(vma: *mut bindings::vm_area_struct);
    }
}

/// `TASK_SIZE_MAX`: the end of the user address range of a 64-bit task.
pub(crate) fn task_size_max() -> u64 {
    // SAFETY: the helper reads a constant (or per-boot) value.
    unsafe { raw::trampfd_task_size_max() }
}

/// `get_page()`: takes one more reference on `page` (the one a page table
/// entry installed by the fault handler will own).
pub(crate) fn get_page(page: &Page) {
    // SAFETY: `page` is a valid page for the duration of the borrow.
    unsafe { raw::trampfd_get_page(page.as_ptr()) }
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

/// Makes the instruction cache see what the kernel wrote into `page`.
pub(crate) fn flush_icache_page(page: &Page) {
    // SAFETY: `page` is valid; the helper only performs cache maintenance on
    // its kernel address range.
    unsafe { raw::trampfd_flush_icache_page(page.as_ptr()) }
}

/// Opens `file`'s device node again into a new fd of the current task.
///
/// Returns the new fd.
pub(crate) fn reopen(file: &File, cloexec: bool) -> Result<i32> {
    // SAFETY: `file` is a valid open file for the duration of the borrow.
    let fd = unsafe { raw::trampfd_reopen(file.as_ptr(), cloexec) };
    if fd < 0 {
        return Err(Error::from_errno(fd));
    }
    Ok(fd)
}

/// Charges one page to `mm`'s `RLIMIT_MEMLOCK` (`-ENOMEM` beyond it).
///
/// # Safety
///
/// The caller holds `mm`'s mmap lock for writing (as in `mmap`).
pub(crate) unsafe fn memlock_charge(mm: &Mm) -> Result {
    // SAFETY: `mm` is valid for the borrow; the lock is the caller's promise.
    to_result(unsafe { raw::trampfd_memlock_charge(mm.as_raw()) })
}

/// Undoes one [`memlock_charge`] on `mm`; takes `mm`'s mmap lock.
///
/// # Safety
///
/// `mm` was charged by [`memlock_charge`] and not uncharged since, and the
/// caller holds no lock that the mmap lock nests inside.
pub(crate) unsafe fn memlock_uncharge(mm: &Mm) {
    // SAFETY: `mm` is valid for the borrow (a grabbed mm may have no users
    // left; the helper handles that); the rest is the caller's promise.
    unsafe { raw::trampfd_memlock_uncharge(mm.as_raw()) }
}

/// `in_compat_syscall()`: is the current system call a compat one (an ia32
/// or x32 call on x86-64, an AArch32 task on arm64)?
pub(crate) fn in_compat_syscall() -> bool {
    // SAFETY: the helper only reads the current task's syscall state.
    unsafe { raw::trampfd_in_compat_syscall() }
}

/// The current task's real uid, as seen from the initial user namespace.
pub(crate) fn current_uid() -> u32 {
    // SAFETY: the helper only reads the current task's credentials.
    unsafe { raw::trampfd_current_uid() }
}

/// The vma and page offset of a fault (`vmf->vma`, `vmf->pgoff`: fields of
/// an anonymous struct in C).
///
/// # Safety
///
/// `vmf` is the valid `struct vm_fault` of a fault being handled.
pub(crate) unsafe fn vmf_vma_pgoff(
    vmf: *mut bindings::vm_fault,
) -> (*mut bindings::vm_area_struct, usize) {
    // SAFETY: `vmf` is valid (the caller's promise); both helpers only read it.
    unsafe {
        (
            raw::trampfd_vmf_vma(vmf),
            raw::trampfd_vmf_pgoff(vmf) as usize,
        )
    }
}

/// Is the current task allowed to install a zpoline page (the policy of
/// `helpers.c`, decided in the initial user namespace)?
#[cfg(target_arch = "x86_64")]
pub(crate) fn zpoline_allowed(gid: u32) -> bool {
    // SAFETY: the helper only inspects the current task's credentials.
    unsafe { raw::trampfd_zpoline_allowed(gid) }
}

/// Are SMEP and SMAP both in force?
#[cfg(target_arch = "x86_64")]
pub(crate) fn zpoline_cpu_protects_null() -> bool {
    // SAFETY: the helper reads boot CPU feature flags.
    unsafe { raw::trampfd_zpoline_cpu_protects_null() }
}

/// Can a `PROT_EXEC`-only mapping be execute-only (protection keys present
/// and enabled)?
#[cfg(target_arch = "x86_64")]
pub(crate) fn zpoline_pkeys_enabled() -> bool {
    // SAFETY: the helper reads boot CPU state.
    unsafe { raw::trampfd_zpoline_pkeys_enabled() }
}

/// Does `vma`, being set up by mmap, carry a protection key (execute-only)?
#[cfg(target_arch = "x86_64")]
pub(crate) fn vma_xom(vma: &VmaNew) -> bool {
    // SAFETY: `vma` is valid for the borrow; the helper only reads its flags.
    unsafe { raw::trampfd_vma_xom(vma.as_ptr()) }
}

/// Seals `vma` (`VM_SEALED`: no mprotect, munmap, mremap or `MAP_FIXED`).
#[cfg(target_arch = "x86_64")]
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
#[cfg(target_arch = "x86_64")]
pub(crate) unsafe fn zpoline_map(file: &File) -> Result<bool> {
    let mut xom = false;
    // SAFETY: `file` is valid for the borrow and `xom` for the call; the
    // locking is the caller's promise.
    let ret = unsafe { raw::trampfd_zpoline_map(file.as_ptr(), &mut xom) };
    to_result(ret)?;
    Ok(xom)
}
