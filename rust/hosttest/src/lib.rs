// SPDX-License-Identifier: GPL-2.0

//! The module's pure code, compiled for the host so that `cargo test` can
//! check it. The files are the module's own, included by path: what is
//! tested here is what the kernel runs. (They use only `core`; the kernel
//! build enforces that.) `exec` (native x86-64) and `cross` (arm64 and
//! riscv64 under QEMU user mode) are host-only helpers that run emitted code.

#[path = "../../arch/mod.rs"]
pub mod arch;
pub mod cross;
#[path = "../../desc.rs"]
pub mod desc;
pub mod exec;
#[path = "../../uapi.rs"]
pub mod uapi;
