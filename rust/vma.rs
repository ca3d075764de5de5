// SPDX-License-Identifier: GPL-2.0

//! A small, sound wrapper for a `vm_operations_struct` whose `.fault`
//! callback hands out pages owned by a Rust object.
//!
//! The `kernel` crate has no abstraction for `vm_operations_struct` yet. This
//! one covers exactly what trampfd needs: a mapping backed by pages that a
//! [`FaultProvider`] owns and that the page tables reference, one reference
//! per fault. The fault itself is a `VmFault` (`kernel::mm::fault`, which
//! the series adds to the crate; `rust/kernel_ext/` out of tree).
//!
//! Why a fault handler and not `VmaNew::set_mixedmap()` +
//! `vm_insert_page()` at mmap time (which the `kernel` crate does offer):
//! `madvise(MADV_DONTNEED)` (or a memory-trimming allocator walking the
//! address space) zaps the page table entry, and a mixed map without
//! `.fault` then gets `SIGBUS` at the next call, while this handler serves
//! the same page again (test: `madv_dontneed_then_call_refaults_the_same_code`).
//! It also keeps the page lazy: a trampfd that is mapped but never called
//! costs no page, and fork children fault the page in when they use it.

use core::marker::PhantomData;
use kernel::{bindings, mm::virt::VmaNew, page::Page, prelude::*};

use crate::kernel_ext::mm::fault::VmFault;

/// What the module reads of a vma being set up that [`VmaNew`] has no
/// accessor for.
pub trait VmaNewExt {
    /// The mapping's offset into its file, in pages (`vm_pgoff`).
    fn pgoff(&self) -> usize;
}

impl VmaNewExt for VmaNew {
    fn pgoff(&self) -> usize {
        // SAFETY: `self` is a valid vma for the borrow; `vm_pgoff` is plain
        // data that only the mmap caller (us, during this call) changes.
        unsafe { (*self.as_ptr()).vm_pgoff }
    }
}

/// Why a fault could not be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    /// The address has no page (outside the object): `SIGBUS` for the task.
    NoPage,
    /// The page could not be allocated: the mm's out-of-memory handling.
    /// The only failure of a provider that generates pages: generating them
    /// has none (see `Trampfd::fault_page`).
    Oom,
}

/// An object that provides the pages of the mappings it is installed on.
pub trait FaultProvider: Sync + Sized {
    /// Finds (or creates) the page at page offset `pgoff` of the mapping and
    /// calls `map` with it, once, then returns `Ok(())`; on an error `map`
    /// is not called (`VmFault::set_page`'s contract). `map` takes its own
    /// reference on the page, so the page only needs to be valid for the
    /// duration of the call.
    fn fault_page(&self, pgoff: usize, map: &mut dyn FnMut(&Page)) -> Result<(), FaultError>;
}

/// The `vm_operations_struct` of mappings served by `T`.
pub struct VmOps<T: FaultProvider>(PhantomData<T>);

impl<T: FaultProvider> VmOps<T> {
    const OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        fault: Some(Self::fault),
        // SAFETY: all other fields are optional callbacks or plain data for
        // which all-zeroes (NULL / absent) is valid.
        ..unsafe { core::mem::zeroed() }
    };

    /// Makes `provider` serve the faults of the mapping `vma` is creating.
    ///
    /// # Safety
    ///
    /// `provider` must stay valid for as long as `vma`, or any copy of it
    /// made by fork or mremap, exists. This holds when `provider` is owned by
    /// `vma->vm_file` (for example its `private_data`) and freed only in the
    /// file's release: every vma holds a reference on its file.
    pub unsafe fn install(vma: &VmaNew, provider: &T) {
        let raw = vma.as_ptr();
        // SAFETY: `raw` is the vma being set up by this mmap call, which we
        // may modify until the call returns; `OPS` is a promoted `'static`.
        unsafe {
            (*raw).vm_ops = &Self::OPS;
            (*raw).vm_private_data = core::ptr::from_ref(provider).cast_mut().cast();
        }
    }

    /// The `.fault` callback.
    ///
    /// # Safety
    ///
    /// Called by the mm with a valid `vmf` for a vma on which
    /// [`VmOps::install`] installed these operations.
    unsafe extern "C" fn fault(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
        // SAFETY: `vmf` is the argument of this `.fault` callback, and the
        // `VmFault` does not outlive it.
        let vmf = unsafe { VmFault::from_raw(vmf) };
        // SAFETY: `install` stored a `&T` in `vm_private_data` of this vma
        // (fork and mremap copy it with the vma), and its contract keeps
        // the `T` alive while the vma exists.
        let provider = unsafe {
            &*(*vmf.vma().as_ptr())
                .vm_private_data
                .cast::<T>()
                .cast_const()
        };
        // `fault_page` calls `map` at most once, and returns `Ok` after it
        // (the contract of `VmFault::set_page`, which takes the reference
        // the page table entry will own and `finish_fault` consumes).
        let result = provider.fault_page(vmf.pgoff(), &mut |page| vmf.set_page(page));
        match result {
            Ok(()) => 0,
            Err(FaultError::NoPage) => {
                bindings::vm_fault_reason_VM_FAULT_SIGBUS as bindings::vm_fault_t
            }
            Err(FaultError::Oom) => bindings::vm_fault_reason_VM_FAULT_OOM as bindings::vm_fault_t,
        }
    }
}
