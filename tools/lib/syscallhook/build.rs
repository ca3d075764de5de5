// SPDX-License-Identifier: GPL-2.0

//! Gives the shared library the soname `libsyscallhook.so.1`, so that a
//! program linked with `-lsyscallhook` (pkg-config libsyscallhook) records
//! the versioned name that `make install` puts beside the `.so` link.

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsyscallhook.so.1");
    println!("cargo:rerun-if-changed=build.rs");
}
