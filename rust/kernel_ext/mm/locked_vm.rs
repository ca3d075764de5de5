// SPDX-License-Identifier: GPL-2.0

//! Accounting of pinned memory against `RLIMIT_MEMLOCK` (`mm->locked_vm`).
//!
//! Drivers that give a process pages that cannot be reclaimed or swapped
//! (pinned user pages, kernel pages mapped into user space) charge them to
//! the process's locked memory, as `mlock()` does, so that the memlock limit
//! bounds them too.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use kernel::{
    bindings,
    error::{to_result, Result},
    mm::{virt::VmaNew, Mm},
    sync::aref::ARef,
    task::Task,
};

/// Pages charged to an mm's `locked_vm`; dropping it uncharges them.
///
/// The charge is made while a mapping is being created (the mmap lock is
/// held for writing then, as `__account_locked_vm()` requires). The
/// uncharge takes the mmap lock itself, so a `LockedVm` must not be dropped
/// with a lock held that the mmap lock nests inside (one taken in a fault
/// handler or in `mmap`).
///
/// # Invariants
///
/// `pages` pages are charged to `mm`'s `locked_vm` and not uncharged yet.
pub struct LockedVm {
    mm: ARef<Mm>,
    pages: usize,
}

impl LockedVm {
    /// Charges `pages` pages to the `locked_vm` of the mm that `vma` is
    /// being added to, on behalf of the current task.
    ///
    /// Fails with `ENOMEM`, charging nothing, when that would exceed the
    /// current task's `RLIMIT_MEMLOCK`, unless the task has `CAP_IPC_LOCK`
    /// (in its user namespace's terms, as for `mlock()`: `capable()`).
    pub fn charge(vma: &VmaNew, pages: usize) -> Result<Self> {
        let mm: &Mm = vma.mm();
        // SAFETY: `capable()` may be called from any process context.
        let bypass = unsafe { bindings::capable(bindings::CAP_IPC_LOCK as i32) };
        // SAFETY: `mm` is valid for the borrow; a `VmaNew` exists only inside
        // an `mmap` callback, which holds `mm`'s mmap lock for writing, as
        // `__account_locked_vm()` requires; the task is the current one.
        to_result(unsafe {
            bindings::__account_locked_vm(mm.as_raw(), pages, true, Task::current_raw(), bypass)
        })?;
        // INVARIANT: the pages were charged to `mm` just above.
        Ok(Self {
            mm: mm.into(),
            pages,
        })
    }

    /// The number of pages charged.
    #[inline]
    pub fn pages(&self) -> usize {
        self.pages
    }
}

impl Drop for LockedVm {
    fn drop(&mut self) {
        // SAFETY: `mm` is kept valid by our `mmgrab()` reference (it may have
        // no users left, which `account_locked_vm()` handles by doing
        // nothing), and the type invariant says the pages are charged to it.
        // `account_locked_vm()` takes the mmap lock itself, which the type's
        // documentation leaves to the caller to allow.
        unsafe { bindings::account_locked_vm(self.mm.as_raw(), self.pages, false) };
    }
}
