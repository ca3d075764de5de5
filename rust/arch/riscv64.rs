// SPDX-License-Identifier: GPL-2.0

//! riscv64 trampolines.
//!
//! One slot is 64 bytes (64 per 4 KiB page): six 32-bit instructions (no
//! compressed encodings, so no dependency on the C extension) and two
//! PC-relative literals. With code register t1 (x6) and data register t2
//! (x7):
//!
//! ```text
//! off  word        instruction
//!  0   00 00 03 17 auipc t1, 0         t1 = address of this slot
//!  4   02 03 33 83 ld    t2, 32(t1)    t2 = literal at off 32 (&data_table[X])
//!  8   01 83 33 03 ld    t1, 24(t1)    t1 = literal at off 24 (&code_table[X])
//! 12   00 03 33 03 ld    t1, 0(t1)     t1 = code_table[X]
//! 16   00 03 b3 83 ld    t2, 0(t2)     t2 = data_table[X]
//! 20   00 03 00 67 jr    t1            jalr zero, 0(t1): a jump, ra untouched
//! 24   <u64>       .dword &code_table[X]
//! 32   <u64>       .dword &data_table[X]
//! 40   00 ...      filler: an all-zero parcel is an illegal instruction
//! ```
//!
//! (Words are shown as the big-endian value; memory holds them
//! little-endian.) The data literal is loaded first, while the code register
//! still holds the slot address.
//!
//! Register choice: the temporaries t0..t6 (x5..x7, x28..x31) are
//! caller-saved and carry no argument, so the argument registers, sp, ra, gp
//! and tp reach the target unchanged. t2 is the psABI static chain register,
//! hence the recommended data register. t0 is refused as code register:
//! `jr t0` is the alternate-link-register form that return-address-stack
//! predictors treat as a function return.

use super::{put_literal_slot, Encoder};

/// t0 (x5): data register only.
pub const T0: u32 = 5;
/// t1 (x6): the recommended code register.
pub const T1: u32 = 6;
/// t2 (x7): the static chain register; the recommended data register.
pub const T2: u32 = 7;
/// t3 (x28).
pub const T3: u32 = 28;
/// t6 (x31).
pub const T6: u32 = 31;
/// ra (x1): return address; forbidden.
pub const RA: u32 = 1;
/// sp (x2): stack pointer; forbidden.
pub const SP: u32 = 2;
/// a0 (x10): first argument register; forbidden.
pub const A0: u32 = 10;

/// Offsets of the two literals inside a slot.
const CODE_LIT: u32 = 24;
const DATA_LIT: u32 = 32;
/// Bit mask of t3..t6.
const T3_T6: u32 = 0xf << T3;

/// The riscv64 encoder.
pub struct Riscv64;

/// `auipc rd, 0`: U-type, opcode 0x17.
fn auipc0(rd: u32) -> u32 {
    (rd << 7) | 0x17
}

/// `ld rd, imm(rs1)`: I-type, opcode 0x03, funct3 3 (`imm` < 2048).
fn ld(rd: u32, imm: u32, rs1: u32) -> u32 {
    (imm << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x03
}

/// `jalr zero, 0(rs1)` (`jr rs1`): I-type, opcode 0x67, funct3 0.
fn jr(rs1: u32) -> u32 {
    (rs1 << 15) | 0x67
}

impl Encoder for Riscv64 {
    const ARCH: u32 = 3;
    const CODE_SIZE: usize = 64;
    const TRAP_FILL: u8 = 0x00;
    const CODE_REGS: u32 = (1 << T1) | (1 << T2) | T3_T6;
    const DATA_REGS: u32 = (1 << T0) | (1 << T1) | (1 << T2) | T3_T6;
    const KNOWN_REGS: u32 = u32::MAX;

    fn emit(out: &mut [u8], code_reg: u32, code_slot: u64, data_reg: u32, data_slot: u64) {
        out.fill(Self::TRAP_FILL);
        let words = [
            auipc0(code_reg),
            ld(data_reg, DATA_LIT, code_reg),
            ld(code_reg, CODE_LIT, code_reg),
            ld(code_reg, 0, code_reg),
            ld(data_reg, 0, data_reg),
            jr(code_reg),
        ];
        put_literal_slot(
            out,
            &words,
            (CODE_LIT as usize, code_slot),
            (DATA_LIT as usize, data_slot),
        );
    }
}
