// SPDX-License-Identifier: GPL-2.0

//! Host-only helper: a page of executable memory for running emitted code
//! natively in tests and benchmarks (written while RW, then switched to R-X,
//! as a test may; trampfd users need not).

/// Size of the page.
pub const PAGE: usize = 4096;

/// An R-X page filled by a closure; unmapped on drop.
pub struct ExecPage(*mut libc::c_void);

impl ExecPage {
    /// Maps a page RW, lets `fill` write it, then makes it R-X.
    pub fn new(fill: impl FnOnce(&mut [u8])) -> Self {
        // SAFETY: anonymous private mapping, checked for failure below.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                PAGE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        // SAFETY: `p` is a fresh, writable mapping of PAGE bytes.
        fill(unsafe { core::slice::from_raw_parts_mut(p.cast::<u8>(), PAGE) });
        // SAFETY: `p` is our mapping.
        let rc = unsafe { libc::mprotect(p, PAGE, libc::PROT_READ | libc::PROT_EXEC) };
        assert_eq!(rc, 0);
        ExecPage(p)
    }

    /// The address of byte `off` of the page.
    pub fn addr(&self, off: usize) -> usize {
        self.0 as usize + off
    }
}

impl Drop for ExecPage {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(self.0, PAGE) };
    }
}
