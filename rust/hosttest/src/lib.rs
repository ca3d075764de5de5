// SPDX-License-Identifier: GPL-2.0

//! The module's pure code, compiled for the host so that `cargo test` can
//! check it. The files are the module's own, included by path: what is
//! tested here is what the kernel runs. (They use only `core`; the kernel
//! build enforces that.) `exec` is a host-only helper for running emitted
//! code.

#[path = "../../arch/mod.rs"]
pub mod arch;
#[path = "../../desc.rs"]
pub mod desc;
pub mod exec;
#[path = "../../uapi.rs"]
pub mod uapi;
