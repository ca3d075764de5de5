// SPDX-License-Identifier: GPL-2.0

//! arm64 (AArch64) trampolines.
//!
//! One slot is 64 bytes (64 per 4 KiB page, one per cache line): five
//! instructions and two PC-relative literals. With code register x16 and
//! data register x17:
//!
//! ```text
//! off  word        instruction
//!  0   58 00 00 d0 ldr  x16, #24      x16 = literal at off 24 (&code_table[X])
//!  4   c8 df fe 10 ldar x16, [x16]    x16 = code_table[X] (load-acquire)
//!  8   58 00 00 d1 ldr  x17, #24      x17 = literal at off 32 (&data_table[X])
//! 12   f9 40 02 31 ldr  x17, [x17]    x17 = data_table[X]
//! 16   d6 1f 02 00 br   x16           jump (not a call: lr is untouched)
//! 20   00 00 00 00 udf  #0            never reached
//! 24   <u64>       .quad &code_table[X]
//! 32   <u64>       .quad &data_table[X]
//! 40   00 ...      udf  #0 filler (all-zero words are permanently undefined)
//! ```
//!
//! (Words are shown as the big-endian value; memory holds them
//! little-endian.)
//!
//! Memory ordering. The code entry is loaded with `ldar` (load-acquire), so
//! the data entry, loaded after it, is never older than the code entry: a
//! writer that stores the data entry and then the code entry with release
//! semantics (libtrampfd's `trampfd_closure_set`) is never seen as new code
//! with old data. Plain `ldr` for both would let the second load be
//! satisfied first.
//!
//! Register choice. The data register may be any of x9..x17: caller-saved
//! temporaries (AAPCS64) that carry no argument, so every argument register,
//! the stack, lr and the platform register x18 reach the target unchanged.
//! The code register is restricted to x16 (IP0) or x17 (IP1) because of BTI:
//! `br x16`/`br x17` sets PSTATE.BTYPE to 01, which the `bti c` landing pad
//! that `-mbranch-protection=bti` puts at every function entry accepts,
//! whereas `br` through any other register sets BTYPE 11, which `bti c`
//! rejects (SIGILL in a BTI-guarded target). The trampoline page itself is
//! mapped without PROT_BTI, so the caller's `blr` into it needs no landing
//! pad. x17 as data register mirrors libffi's and the linker's veneers
//! (IP0 for the target, IP1 for the context).

use super::{put_literal_slot, Encoder, Literals};

/// x9: first caller-saved temporary; allowed as data register.
pub const X9: u32 = 9;
/// x15: last plain temporary; allowed as data register.
pub const X15: u32 = 15;
/// x16 (IP0): the recommended code register.
pub const X16: u32 = 16;
/// x17 (IP1): the recommended data register.
pub const X17: u32 = 17;
/// x18: platform register (shadow call stack); forbidden.
pub const X18: u32 = 18;
/// x30: link register; forbidden.
pub const LR: u32 = 30;
/// Register number 31 (sp or xzr depending on the instruction); forbidden.
pub const SP: u32 = 31;

/// `udf #0`: permanently undefined; raises SIGILL when executed.
const UDF: u32 = 0x0000_0000;
/// Offsets of the two literals inside a slot.
const CODE_LIT: u32 = 24;
const DATA_LIT: u32 = 32;

/// The arm64 encoder.
pub struct Arm64;

/// `ldr xt, <pc + off>` (LDR literal, 64-bit): 0x58000000 | imm19 << 5 | Rt,
/// with imm19 the word offset from this instruction.
fn ldr_literal(rt: u32, off: u32) -> u32 {
    0x5800_0000 | ((off / 4) << 5) | rt
}

/// `ldr xt, [xn]` (LDR immediate, unsigned offset 0, 64-bit):
/// 0xf9400000 | imm12 << 10 | Rn << 5 | Rt.
fn ldr_indirect(rt: u32, rn: u32) -> u32 {
    0xf940_0000 | (rn << 5) | rt
}

/// `ldar xt, [xn]` (load-acquire register, 64-bit):
/// 0xc8dffc00 | Rn << 5 | Rt.
fn ldar(rt: u32, rn: u32) -> u32 {
    0xc8df_fc00 | (rn << 5) | rt
}

/// `br xn`: 0xd61f0000 | Rn << 5.
fn br(rn: u32) -> u32 {
    0xd61f_0000 | (rn << 5)
}

impl Encoder for Arm64 {
    const ARCH: u32 = 2;
    const CODE_SIZE: usize = 64;
    const TRAP_FILL: u8 = 0x00;
    const CODE_REGS: u32 = (1 << X16) | (1 << X17);
    const DATA_REGS: u32 = ((1 << (X17 + 1)) - 1) & !((1 << X9) - 1);
    const KNOWN_REGS: u32 = u32::MAX;

    fn emit(
        out: &mut [u8],
        code_reg: u32,
        code_slot: u64,
        data_reg: u32,
        data_slot: u64,
    ) -> Literals {
        out.fill(Self::TRAP_FILL);
        let words = [
            // Each literal offset is relative to the instruction's own
            // address (offsets 0 and 8).
            ldr_literal(code_reg, CODE_LIT),
            // Acquire: the data load below is ordered after this one.
            ldar(code_reg, code_reg),
            ldr_literal(data_reg, DATA_LIT - 8),
            ldr_indirect(data_reg, data_reg),
            br(code_reg),
            UDF,
        ];
        put_literal_slot(
            out,
            &words,
            (CODE_LIT as usize, code_slot),
            (DATA_LIT as usize, data_slot),
        )
    }
}
