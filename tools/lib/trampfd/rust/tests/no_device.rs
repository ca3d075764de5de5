// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

//! Host tests: without /dev/trampfd every entry point fails with an errno
//! (ENOENT), leaves the library usable and never panics.  With the device
//! (or TRAMPFD_FD set) these tests check only that nothing panics.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

const ENOENT: i32 = 2;
const EBADF: i32 = 9;

/// Whether the no-device expectations apply to this process.
fn no_device() -> bool {
    !Path::new("/dev/trampfd").exists() && std::env::var_os("TRAMPFD_FD").is_none()
}

fn errno(r: io::Result<impl Sized>) -> Option<i32> {
    r.err().and_then(|e| e.raw_os_error())
}

extern "C" fn never_called() {}

#[test]
fn available_is_enoent() {
    let r = trampfd::available();
    if no_device() {
        assert_eq!(errno(r), Some(ENOENT));
    }
}

#[test]
fn closure_new_is_enoent() {
    // Twice: a failure leaves nothing half made.
    for _ in 0..2 {
        let r = trampfd::Closure::new(never_called as *const (), 42usize as *const ());
        if no_device() {
            assert_eq!(errno(r), Some(ENOENT));
        }
    }
}

#[test]
fn closure_new_null_code_is_enoent() {
    let r = trampfd::Closure::new(std::ptr::null(), std::ptr::null());
    if no_device() {
        assert_eq!(errno(r), Some(ENOENT));
    }
}

#[test]
fn pool_new_is_enoent() {
    let r = trampfd::Pool::new(trampfd::reg::NATIVE_CODE, trampfd::reg::NATIVE_DATA);
    if no_device() {
        assert_eq!(errno(r), Some(ENOENT));
    }
}

#[test]
fn use_fd_rejects_bad_fds() {
    if !no_device() {
        return;
    }
    // Not a trampfd: the GET_INFO ioctl fails, reported as EBADF.  The
    // library takes the fd over (OwnedFd) and closes it on failure.
    let f = File::open("/dev/null").expect("open /dev/null");
    assert_eq!(errno(trampfd::use_fd(OwnedFd::from(f))), Some(EBADF));
    // A borrow for the rest of the process: a leaked File.
    let f: &'static File = Box::leak(Box::new(File::open("/dev/null").expect("open /dev/null")));
    assert_eq!(errno(trampfd::use_borrowed_fd(f.as_fd())), Some(EBADF));
    // The library did not keep it: still no factory.
    assert_eq!(errno(trampfd::available()), Some(ENOENT));
}

#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<trampfd::Closure<'static>>();
    check::<trampfd::Pool>();
}
