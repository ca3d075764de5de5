// SPDX-License-Identifier: GPL-2.0

//! The module's pure code, compiled for the host so that `cargo test` can
//! check it. The files are the module's own, included by path: what is
//! tested here is what the kernel runs.

#![no_std]

#[path = "../../arch/mod.rs"]
pub mod arch;
#[path = "../../desc.rs"]
pub mod desc;
#[path = "../../uapi.rs"]
pub mod uapi;
