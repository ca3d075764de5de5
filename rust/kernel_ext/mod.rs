// SPDX-License-Identifier: GPL-2.0

//! Kernel-crate abstractions that this driver needs and that kernel 7.3's
//! `kernel` crate does not have yet, carried by the out-of-tree build.
//!
//! Each file under `rust/kernel_ext/` is written as the `kernel` crate's
//! file of the same path (`mm/fault.rs` is `rust/kernel/mm/fault.rs`), and
//! each C file under `rust/kernel_ext/helpers/` as the `rust/helpers/` file
//! of the same name: `scripts/mkseries` emits them as the series' `rust:`
//! patch, rewriting only the paths (`kernel::` and `crate::kernel_ext::`
//! become `crate::`). The driver reaches them through one path,
//! `crate::kernel_ext::…`: out of tree this module, in the series the crate
//! root's `use kernel as kernel_ext;` (the one line `mkseries` changes in
//! the driver), so that the driver's files are the same in both builds.
//!
//! Not part of the series: this file, `bindings.rs` (the C helpers'
//! declarations, which the kernel generates from `rust/helpers/*.c`) and
//! `helpers.c` (the out-of-tree build's `rust/helpers/helpers.c`).

pub mod bindings;
pub mod cacheflush;
pub mod compat;
pub mod mm;
