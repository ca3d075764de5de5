// SPDX-License-Identifier: GPL-2.0

//! Per-architecture trampoline encoders.
//!
//! Everything under `arch/` is plain `core` Rust with no kernel dependency, so
//! that the host crate in `rust/hosttest` can unit-test exactly the bytes the
//! module installs: decoded for every architecture, executed natively for
//! x86-64 and under QEMU user mode for arm64 and riscv64. Every encoder is
//! compiled on every architecture; [`Native`] picks the one the kernel uses.

pub mod arm64;
pub mod riscv64;
pub mod x86_64;
#[cfg(target_arch = "x86_64")]
pub mod zpoline;

/// A register choice was refused; mapped to an errno by [`crate::desc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegError {
    /// The number names no register of this architecture.
    Unknown,
    /// The register exists but may not carry a trampoline value (stack
    /// pointer, program counter, argument or callee-saved register).
    Forbidden,
}

/// What an architecture's trampoline encoder provides.
///
/// Invariant for implementers: [`Encoder::emit`] writes exactly
/// [`Encoder::CODE_SIZE`] bytes, and [`Encoder::TRAP_FILL`] repeated over any
/// byte offset traps when executed.
pub trait Encoder {
    /// `TRAMPFD_ARCH_*` value reported in `trampfd_info.arch`.
    const ARCH: u32;
    /// Bytes per trampoline slot (a divisor of the page size).
    const CODE_SIZE: usize;
    /// Byte pattern that fills every byte of the page not covered by a
    /// trampoline; executing it at any offset raises a trap.
    const TRAP_FILL: u8;
    /// Bit mask of register numbers accepted as the code register.
    const CODE_REGS: u32;
    /// Bit mask of register numbers accepted as the data register.
    const DATA_REGS: u32;

    /// Classifies a register number from a descriptor.
    fn check_reg(reg: u32) -> Result<(), RegError> {
        let bit = 1u32.checked_shl(reg).unwrap_or(0);
        if Self::KNOWN_REGS & bit == 0 {
            Err(RegError::Unknown)
        } else if (Self::CODE_REGS | Self::DATA_REGS) & bit == 0 {
            Err(RegError::Forbidden)
        } else {
            Ok(())
        }
    }

    /// Bit mask of every register number this architecture defines.
    const KNOWN_REGS: u32;

    /// Emits one trampoline into `out` (`out.len() == CODE_SIZE`): load
    /// `code_slot` into `code_reg`, load through it, load `data_slot` (or
    /// compute it from `code_slot`: x86-64 with near tables) into
    /// `data_reg`, load through it, jump to `code_reg`. Registers must have
    /// passed [`Encoder::check_reg`] and differ.
    ///
    /// Returns where the slot's literals are. Invariant for implementers:
    /// for any two calls with the same registers and the same
    /// `data_slot - code_slot`, the literals are at the same offsets and are
    /// the only bytes that differ, so [`crate::desc::render_page`] emits one
    /// slot and derives every other one by rewriting them (host test:
    /// `literals_are_the_only_bytes_that_depend_on_the_slot`).
    fn emit(
        out: &mut [u8],
        code_reg: u32,
        code_slot: u64,
        data_reg: u32,
        data_slot: u64,
    ) -> Literals;
}

/// Byte offsets in an emitted slot of its 64-bit little-endian literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literals {
    /// Offset of `&code_table[X]`.
    pub code: usize,
    /// Offset of `&data_table[X]`, or `None` when the slot computes the
    /// data address from the code address (a displacement that is the same
    /// in every slot of a page).
    pub data: Option<usize>,
}

/// Writes the layout shared by the arm64 and riscv64 slots: `words`
/// (32-bit instructions, little-endian) from offset 0, then the two 64-bit
/// literals `&code_table[X]` at `code_lit` and `&data_table[X]` at
/// `data_lit`. The rest of `out` is left as it is (the filler).
fn put_literal_slot(
    out: &mut [u8],
    words: &[u32],
    (code_lit, code_slot): (usize, u64),
    (data_lit, data_slot): (usize, u64),
) -> Literals {
    for (i, w) in words.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    out[code_lit..code_lit + 8].copy_from_slice(&code_slot.to_le_bytes());
    out[data_lit..data_lit + 8].copy_from_slice(&data_slot.to_le_bytes());
    Literals {
        code: code_lit,
        data: Some(data_lit),
    }
}

/// The encoder of the architecture the module is built for.
#[cfg(target_arch = "x86_64")]
pub type Native = x86_64::X86_64;
/// The encoder of the architecture the module is built for.
#[cfg(target_arch = "aarch64")]
pub type Native = arm64::Arm64;
/// The encoder of the architecture the module is built for.
#[cfg(target_arch = "riscv64")]
pub type Native = riscv64::Riscv64;
