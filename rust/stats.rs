// SPDX-License-Identifier: GPL-2.0

//! Module-wide counters, for tests and debugging: files in
//! `/sys/kernel/debug/trampfd/` (root only). They are not in fdinfo, which
//! every user can read: there they would tell one user about the others.

use core::sync::atomic::{AtomicUsize, Ordering};

use kernel::{debugfs::Scope, prelude::*};

/// Open trampfd file descriptions (device opens and `TRAMPFD_IOC_CREATE`).
pub static LIVE_FDS: AtomicUsize = AtomicUsize::new(0);
/// Trampoline pages allocated and not yet freed by their trampfd.
pub static LIVE_PAGES: AtomicUsize = AtomicUsize::new(0);
/// Faults served since the module was loaded.
pub static FAULTS: AtomicUsize = AtomicUsize::new(0);
/// `/dev/zpoline` pages generated and not yet freed with their file (x86-64;
/// always 0 elsewhere and without `CONFIG_TRAMPFD_ZPOLINE`).
pub static LIVE_ZPOLINE_PAGES: AtomicUsize = AtomicUsize::new(0);

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

/// The debugfs directory `trampfd/` with one read-only (mode 0400) file per
/// counter: `live_fds`, `live_pages`, `faults`, `live_zpoline_pages`. It is
/// removed when the returned scope is dropped (module unload). Without
/// debugfs, or if it cannot be created, the module works without it.
pub fn debugfs() -> impl PinInit<Scope<()>, Error> {
    // The scope holds no data of its own (the counters are statics); the
    // `Result` only gives the initializer the module's error type.
    Scope::dir(Ok::<(), Error>(()), c"trampfd", |&(), dir| {
        dir.read_only_file(c"live_fds", &LIVE_FDS);
        dir.read_only_file(c"live_pages", &LIVE_PAGES);
        dir.read_only_file(c"faults", &FAULTS);
        dir.read_only_file(c"live_zpoline_pages", &LIVE_ZPOLINE_PAGES);
    })
}
