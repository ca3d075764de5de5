// SPDX-License-Identifier: GPL-2.0

//! The out-of-tree build's additions to `kernel::mm` (in the series, the
//! `pub mod` lines that `scripts/mkseries` adds to `rust/kernel/mm.rs`).

pub mod fault;
pub mod layout;
pub mod locked_vm;
