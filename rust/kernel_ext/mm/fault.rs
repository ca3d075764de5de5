// SPDX-License-Identifier: GPL-2.0

//! Page faults handled by a driver (`struct vm_fault`).
//!
//! A driver that serves the pages of its mappings lazily installs a
//! `vm_operations_struct` with a `.fault` callback; the mm calls it with a
//! [`VmFault`] when a task touches a page of the mapping that has no page
//! table entry. The callback finds the page and hands it to the mm with
//! [`VmFault::set_page`].
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use kernel::{mm::virt::VmaRef, page::Page, types::Opaque};

use crate::kernel_ext::bindings;

/// A page fault being handled by a `.fault` callback.
///
/// # Invariants
///
/// The `struct vm_fault` is valid and describes a fault in progress: its
/// `vma` is valid, and the mmap read lock or the vma's read lock is held,
/// for as long as the `VmFault` may be used.
#[repr(transparent)]
pub struct VmFault {
    vmf: Opaque<bindings::vm_fault>,
}

impl VmFault {
    /// Access a fault given the raw pointer the mm passes to `.fault`.
    ///
    /// # Safety
    ///
    /// `vmf` is the argument of a `.fault` callback that has not returned
    /// yet, and `'a` does not outlast that callback.
    #[inline]
    pub unsafe fn from_raw<'a>(vmf: *mut bindings::vm_fault) -> &'a Self {
        // SAFETY: `VmFault` is a transparent wrapper of `vm_fault`; during the
        // callback the mm keeps the fault valid and holds the mmap or vma
        // read lock (the type invariant), as the caller promises.
        unsafe { &*vmf.cast() }
    }

    /// Returns a raw pointer to the `struct vm_fault`.
    #[inline]
    pub fn as_ptr(&self) -> *mut bindings::vm_fault {
        self.vmf.get()
    }

    /// The vma of the faulting address (`vmf->vma`).
    #[inline]
    pub fn vma(&self) -> &VmaRef {
        // SAFETY: the fault is valid (type invariant); `vma` is set by the mm
        // before the callback and not changed during it.
        let vma = unsafe { (*self.as_ptr()).__bindgen_anon_1.vma };
        // SAFETY: the vma is valid, and the mmap or vma read lock is held,
        // for as long as the fault is handled, which outlasts `&self`
        // (type invariant).
        unsafe { VmaRef::from_raw(vma) }
    }

    /// The faulting page's offset into the mapped object, in pages
    /// (`vmf->pgoff`: the vma's `vm_pgoff` plus the page's index in it).
    #[inline]
    pub fn pgoff(&self) -> usize {
        // SAFETY: the fault is valid (type invariant); `pgoff` is set by the
        // mm before the callback and read only.
        unsafe { (*self.as_ptr()).__bindgen_anon_1.pgoff }
    }

    /// The faulting user address, rounded down to its page (`vmf->address`).
    #[inline]
    pub fn address(&self) -> usize {
        // SAFETY: as in `pgoff`.
        unsafe { (*self.as_ptr()).__bindgen_anon_1.address }
    }

    /// Serves the fault with `page`: the mm maps it at the faulting address
    /// once the callback returns `0`.
    ///
    /// Takes a new reference on `page` (`get_page()`), the one the page
    /// table entry will own, so `page` itself stays the caller's. Call it at
    /// most once per fault, and only when the callback then returns `0`:
    /// the mm consumes the reference only then (a second call, or an error
    /// return after it, leaks one reference: the page is never freed).
    #[inline]
    pub fn set_page(&self, page: &Page) {
        // SAFETY: `page` is a valid page (type invariant of `Page`) on which
        // the caller holds a reference for the borrow, so it cannot be freed
        // while the count is raised.
        unsafe { bindings::get_page(page.as_ptr()) };
        // SAFETY: the fault is valid (type invariant) and being handled by
        // this callback, which is what may set `page`; the reference taken
        // above is the one the mm takes over.
        unsafe { (*self.as_ptr()).page = page.as_ptr() };
    }
}
