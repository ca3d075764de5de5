// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

//! Compiles ../trampfd.c (libtrampfd) into a static library linked into the
//! crate, with the uapi header of this tree.

fn main() {
    println!("cargo:rerun-if-changed=../trampfd.c");
    println!("cargo:rerun-if-changed=../trampfd.h");
    println!("cargo:rerun-if-changed=../trampfd_int.h");
    println!("cargo:rerun-if-changed=../../../../include/uapi/linux/trampfd.h");
    cc::Build::new()
        .file("../trampfd.c")
        .include("..")
        .include("../../../../include/uapi")
        .flag_if_supported("-pthread")
        .warnings(true)
        .flag_if_supported("-Wno-unused-parameter")
        .compile("trampfd");
}
