// SPDX-License-Identifier: GPL-2.0

//! Module-wide counters, shown in every trampfd's fdinfo so that tests can
//! check that nothing is leaked.

use core::sync::atomic::{AtomicUsize, Ordering};

/// Open trampfd file descriptions (device opens and `TRAMPFD_IOC_CREATE`).
pub static LIVE_FDS: AtomicUsize = AtomicUsize::new(0);
/// Trampoline pages allocated and not yet freed by their trampfd.
pub static LIVE_PAGES: AtomicUsize = AtomicUsize::new(0);
/// Faults served since the module was loaded.
pub static FAULTS: AtomicUsize = AtomicUsize::new(0);

/// Reads a counter.
pub fn get(c: &AtomicUsize) -> usize {
    c.load(Ordering::Relaxed)
}

/// Increments a counter.
pub fn inc(c: &AtomicUsize) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Decrements a counter.
pub fn dec(c: &AtomicUsize) {
    c.fetch_sub(1, Ordering::Relaxed);
}
