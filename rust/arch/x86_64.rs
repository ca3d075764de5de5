// SPDX-License-Identifier: GPL-2.0

//! x86-64 trampolines.
//!
//! One slot is 32 bytes (128 per 4 KiB page, two per cache line, none
//! crossing a line). There are two layouts; [`X86_64::emit`] picks one from
//! the distance between the two tables, which is the same for every slot of
//! a page.
//!
//! **Near tables** (`data_table - code_table` fits in a signed 32-bit
//! displacement; libtrampfd always puts the data table right after the code
//! table). With code register r11 and data register r10:
//!
//! ```text
//! off  bytes                      instruction
//!  0   f3 0f 1e fa                endbr64   (IBT landing pad; a nop without)
//!  4   49 bb <imm64>              movabs r11, &code_table[X]
//! 14   4d 8d 93 <disp32>          lea    r10, [r11 + data_table - code_table]
//! 21   4d 8b 1b                   mov    r11, [r11]
//! 24   4d 8b 12                   mov    r10, [r10]
//! 27   41 ff e3                   jmp    r11
//! 30   cc cc                      int3 padding
//! ```
//!
//! **Far tables** (the RFC layout; the two 10-byte literals leave no room
//! for `endbr64`, which would make 33 bytes):
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
//! In both, the code entry is loaded before the data entry (TSO keeps two
//! loads in order: a call racing an update that stores data then code sees
//! old code with new data at worst).
//!
//! Only rax, r10 and r11 are accepted: they are caller-saved and carry no
//! argument, so a trampoline preserves every argument register and the stack
//! (it is a jump, not a call: the callee returns straight to the caller).
//! None of them needs a SIB byte for `[reg]` or `[reg + disp32]` (rm = 0, 2,
//! 3), and none is rbp/r13, whose `[reg]` form needs a displacement.

use super::{Encoder, Literals};

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

/// `endbr64`: F3 0F 1E FA, the landing pad of an indirect branch under
/// IBT (CET); on a CPU without CET, or with IBT off, a 4-byte nop.
const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];

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

/// `lea dst, [base + disp32]`: REX.W(+R+B) 8D /r with ModRM mod=10 reg=dst
/// rm=base, then disp32 little-endian (7 bytes; `base` is rax, r10 or r11,
/// none of which needs a SIB byte).
fn lea_disp32(out: &mut [u8], dst: u32, base: u32, disp: i32) -> usize {
    let (d, d_ext) = split(dst);
    let (b, b_ext) = split(base);
    out[0] = REX_W | if d_ext { REX_R } else { 0 } | if b_ext { REX_B } else { 0 };
    out[1] = 0x8d;
    out[2] = 0x80 | (d << 3) | b;
    out[3..7].copy_from_slice(&disp.to_le_bytes());
    7
}

/// `mov dst, [src]`: REX.W(+R+B) 8B /r with ModRM mod=00 reg=dst rm=src
/// (3 bytes; `src` is rax, r10 or r11).
fn load(out: &mut [u8], dst: u32, src: u32) -> usize {
    let (d, d_ext) = split(dst);
    let (s, s_ext) = split(src);
    out[0] = REX_W | if d_ext { REX_R } else { 0 } | if s_ext { REX_B } else { 0 };
    out[1] = 0x8b;
    out[2] = (d << 3) | s;
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

    /// Near tables: `endbr64`, then the code literal; the data address is
    /// the code address plus a displacement that is the same in every slot.
    /// Far tables: the RFC layout, one literal for each table.
    fn emit(
        out: &mut [u8],
        code_reg: u32,
        code_slot: u64,
        data_reg: u32,
        data_slot: u64,
    ) -> Literals {
        out.fill(INT3);
        // The distance between the tables as a signed 64-bit value: the
        // slots are 8-byte entries of both, so it is the same for every X.
        let near = i32::try_from(data_slot.wrapping_sub(code_slot) as i64);
        let mut at = 0;
        let lits = if let Ok(disp) = near {
            out[..4].copy_from_slice(&ENDBR64);
            at += 4;
            let code = at + 2;
            at += mov_imm64(&mut out[at..], code_reg, code_slot);
            at += lea_disp32(&mut out[at..], data_reg, code_reg, disp);
            at += load(&mut out[at..], code_reg, code_reg);
            at += load(&mut out[at..], data_reg, data_reg);
            Literals { code, data: None }
        } else {
            at += mov_imm64(&mut out[at..], code_reg, code_slot);
            at += load(&mut out[at..], code_reg, code_reg);
            let data = at + 2;
            at += mov_imm64(&mut out[at..], data_reg, data_slot);
            at += load(&mut out[at..], data_reg, data_reg);
            Literals {
                code: 2,
                data: Some(data),
            }
        };
        jmp_reg(&mut out[at..], code_reg);
        lits
    }
}
