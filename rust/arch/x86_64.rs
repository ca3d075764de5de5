// SPDX-License-Identifier: GPL-2.0

//! x86-64 trampolines.
//!
//! One slot is 32 bytes (128 per 4 KiB page, two per cache line, none
//! crossing a line). With code register r11 and data register r10:
//!
//! ```text
//! off  bytes                      instruction
//!  0   49 bb <imm64>              movabs r11, &code_table[X]
//! 10   4d 8b 1b                   mov    r11, [r11]
//! 13   49 ba <imm64>              movabs r10, &data_table[X]
//! 23   4d 8b 12                   mov    r10, [r10]
//! 26   41 ff e3                   jmp    r11
//! 29   cc cc cc                   int3 padding
//! ```
//!
//! Only rax, r10 and r11 are accepted: they are caller-saved and carry no
//! argument, so a trampoline preserves every argument register and the stack
//! (it is a jump, not a call: the callee returns straight to the caller).
//! None of them needs a SIB byte or a displacement for `[reg]` (rm = 0, 2, 3).

use super::Encoder;

/// rax: accumulator; allowed, but clobbers `%al` of variadic calls.
pub const RAX: u32 = 0;
/// rsp: stack pointer; forbidden.
pub const RSP: u32 = 4;
/// r10: static chain register of the SysV ABI; the natural data register.
pub const R10: u32 = 10;
/// r11: scratch register; the natural code register.
pub const R11: u32 = 11;
/// rip: program counter; forbidden.
pub const RIP: u32 = 16;

/// `int3`: a one-byte trap, so a jump to any offset of the filler traps.
const INT3: u8 = 0xcc;
/// REX prefix with W=1 (64-bit operand); +1 = B (extends ModRM.rm / opcode
/// register), +4 = R (extends ModRM.reg).
const REX_W: u8 = 0x48;
const REX_B: u8 = 0x01;
const REX_R: u8 = 0x04;

/// The x86-64 encoder.
pub struct X86_64;

/// Low three bits of a register number and whether it needs REX.B/REX.R.
fn split(reg: u32) -> (u8, bool) {
    ((reg & 7) as u8, reg >= 8)
}

/// `movabs reg, imm64`: REX.W(+B) B8+r imm64 (10 bytes).
fn mov_imm64(out: &mut [u8], reg: u32, imm: u64) -> usize {
    let (low, ext) = split(reg);
    out[0] = REX_W | if ext { REX_B } else { 0 };
    out[1] = 0xb8 + low;
    out[2..10].copy_from_slice(&imm.to_le_bytes());
    10
}

/// `mov reg, [reg]`: REX.W(+R+B) 8B /r with ModRM mod=00 reg=reg rm=reg
/// (3 bytes).
fn load_self(out: &mut [u8], reg: u32) -> usize {
    let (low, ext) = split(reg);
    out[0] = REX_W | if ext { REX_B | REX_R } else { 0 };
    out[1] = 0x8b;
    out[2] = (low << 3) | low;
    3
}

/// `jmp reg`: (REX.B) FF /4 with ModRM mod=11 reg=4 rm=reg (2 or 3 bytes).
fn jmp_reg(out: &mut [u8], reg: u32) -> usize {
    let (low, ext) = split(reg);
    let mut n = 0;
    if ext {
        out[0] = 0x40 | REX_B;
        n = 1;
    }
    out[n] = 0xff;
    out[n + 1] = 0xc0 | (4 << 3) | low;
    n + 2
}

impl Encoder for X86_64 {
    const ARCH: u32 = 1;
    const CODE_SIZE: usize = 32;
    const TRAP_FILL: u8 = INT3;
    const CODE_REGS: u32 = (1 << RAX) | (1 << R10) | (1 << R11);
    const DATA_REGS: u32 = (1 << RAX) | (1 << R10) | (1 << R11);
    const KNOWN_REGS: u32 = (1 << (RIP + 1)) - 1;
    // The imm64 of each `movabs` (after REX.W and B8+r): offsets 2 and
    // 10 + 3 + 2, whatever the registers (every instruction before them
    // has a fixed length).
    const LITERALS: (usize, usize) = (2, 15);

    fn emit(out: &mut [u8], code_reg: u32, code_slot: u64, data_reg: u32, data_slot: u64) {
        out.fill(INT3);
        let mut at = 0;
        at += mov_imm64(&mut out[at..], code_reg, code_slot);
        at += load_self(&mut out[at..], code_reg);
        at += mov_imm64(&mut out[at..], data_reg, data_slot);
        at += load_self(&mut out[at..], data_reg);
        jmp_reg(&mut out[at..], code_reg);
    }
}
