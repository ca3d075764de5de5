// SPDX-License-Identifier: GPL-2.0

//! riscv64 trampolines.
//!
//! One slot is 64 bytes (64 per 4 KiB page): a landing pad, seven 32-bit
//! instructions (no compressed encodings, so no dependency on the C
//! extension) and two PC-relative literals. With code register t1 (x6) and
//! data register t2 (x7):
//!
//! ```text
//! off  word        instruction
//!  0   00 00 00 17 lpad  0             Zicfilp landing pad, label 0 (= auipc zero, 0)
//!  4   00 00 03 17 auipc t1, 0         t1 = slot + 4
//!  8   02 43 33 83 ld    t2, 36(t1)    t2 = literal at off 40 (&data_table[X])
//! 12   01 c3 33 03 ld    t1, 28(t1)    t1 = literal at off 32 (&code_table[X])
//! 16   00 03 33 03 ld    t1, 0(t1)     t1 = code_table[X]
//! 20   02 20 00 0f fence r, r          the data load after the code load
//! 24   00 03 b3 83 ld    t2, 0(t2)     t2 = data_table[X]
//! 28   00 03 00 67 jr    t1            jalr zero, 0(t1): a jump, ra untouched
//! 32   <u64>       .dword &code_table[X]
//! 40   <u64>       .dword &data_table[X]
//! 48   00 ...      filler: an all-zero parcel is an illegal instruction
//! ```
//!
//! (Words are shown as the big-endian value; memory holds them
//! little-endian.) Memory ordering: RVWMO lets two loads to different
//! addresses complete in either order, so `fence r, r` keeps the data load
//! after the code load: a writer that stores the data entry and then the
//! code entry with release semantics (libtrampfd's `trampfd_closure_set`)
//! is never seen as new code with old data. The data literal is loaded
//! first, while the code register still holds the address `auipc`
//! computed; `auipc` sits at offset 4, after the landing pad, so each
//! load's offset is the literal's slot offset minus 4.
//!
//! Landing pad (Zicfilp): a caller that calls the slot indirectly (through
//! any register but ra, t0 or t2) with landing pads enforced must land on an
//! `lpad`, so the slot starts with `lpad 0`. Label 0 means no label check:
//! t2 (x7), the label register, is neither read nor changed by it. Without
//! Zicfilp, or with landing pads off, `lpad` is `auipc zero, 0`, a HINT that
//! does nothing. Through t1 or t3..t6 the slot's own `jr` is a tracked jump:
//! with landing pads enforced the target must start with an `lpad` as well
//! (every address-taken function compiled for Zicfilp does). Through t2 it
//! is a software-guarded jump, exempt from the check: the target needs no
//! `lpad`. That is the jump libffi's own trampoline makes (`jr t2`) into
//! `ffi_closure_asm`, which has no landing pad (libffi 3.4.4 to 3.8.0), so
//! a slot standing in for it must make the same jump.
//!
//! Register choice: the temporaries t0..t6 (x5..x7, x28..x31) are
//! caller-saved and carry no argument, so the argument registers, sp, ra, gp
//! and tp reach the target unchanged. t0 is refused as code register: `jr
//! t0` is the alternate-link-register form that return-address-stack
//! predictors treat as a function return (and Zicfilp leaves it to the
//! shadow stack). t2 is accepted as code register for targets without a
//! landing pad (above): the caller chooses it knowing that the jump then
//! reaches any instruction its code entry names, as libffi's own does.
//! Both stay accepted as data register. A data value in
//! t2 arrives as the target's landing-pad label: harmless for an `lpad 0`
//! target, a landing-pad fault for a target whose `lpad` has a non-zero label
//! that the value's bits 31..12 do not match. With any other data register
//! the caller's t2 reaches the target unchanged, so a label set by the caller
//! is checked by the target as if it had been called directly.

use super::{put_literal_slot, Encoder, Literals};

/// t0 (x5): data register only.
pub const T0: u32 = 5;
/// t1 (x6): the recommended code register.
pub const T1: u32 = 6;
/// t2 (x7): the psABI static chain register and the Zicfilp landing-pad
/// label register; as code register, a software-guarded jump.
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

/// Offset of `auipc` inside a slot, after the landing pad: the address the
/// code register holds for the two literal loads.
const AUIPC_AT: u32 = 4;
/// Offsets of the two literals inside a slot.
const CODE_LIT: u32 = 32;
const DATA_LIT: u32 = 40;
/// Bit mask of t3..t6.
const T3_T6: u32 = 0xf << T3;

/// The riscv64 encoder.
pub struct Riscv64;

/// `auipc rd, 0`: U-type, opcode 0x17.
fn auipc0(rd: u32) -> u32 {
    (rd << 7) | 0x17
}

/// `lpad 0`: the Zicfilp landing pad `auipc zero, imm20` with label
/// (imm20) 0, which skips the check of t2 against the label.
const LPAD0: u32 = 0x0000_0017;
/// `fence r, r`: FENCE with predecessor and successor set R (0b0010).
const FENCE_R_R: u32 = (0b0010 << 24) | (0b0010 << 20) | 0x0f;

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

    fn emit(
        out: &mut [u8],
        code_reg: u32,
        code_slot: u64,
        data_reg: u32,
        data_slot: u64,
    ) -> Literals {
        out.fill(Self::TRAP_FILL);
        let words = [
            // Off 0: the landing pad of an indirect call into the slot.
            LPAD0,
            // Off 4: code_reg = slot + 4.
            auipc0(code_reg),
            // Off 8, 12: the literals, relative to slot + 4; data first,
            // while code_reg still holds the address.
            ld(data_reg, DATA_LIT - AUIPC_AT, code_reg),
            ld(code_reg, CODE_LIT - AUIPC_AT, code_reg),
            // Off 16, 20, 24: through the literals into the tables, the
            // code entry first, the fence ordering the data load after it.
            ld(code_reg, 0, code_reg),
            FENCE_R_R,
            ld(data_reg, 0, data_reg),
            // Off 28: jump (not a call) to code_table[X].
            jr(code_reg),
        ];
        put_literal_slot(
            out,
            &words,
            (CODE_LIT as usize, code_slot),
            (DATA_LIT as usize, data_slot),
        )
    }
}
