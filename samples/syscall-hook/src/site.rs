// SPDX-License-Identifier: GPL-2.0

//! The verdict on one `syscall` site: may its `0f 05` become `call *%rax`
//! (`ff d0`)?  Pure analysis of code bytes with known function bounds; no
//! system call, no allocation, usable from the SIGSYS handler.
//!
//! A rewritten site calls `%rax` (the page at address 0) and pushes its
//! return address at `rsp - 8`.  That is correct only when
//!
//! * `%rax` at the site is a constant in `0..512` ([`RAX_LIMIT`]): every
//!   such number reaches the stub through the sled.  The instruction that
//!   last wrote `%rax` on the straight line before the site must be
//!   `mov $imm,%eax`, `mov $imm,%rax` or `xor`/`sub %eax,%eax`; every
//!   instruction between it and the site must be one of a short list whose
//!   only register write is its explicit destination (`mov`, `lea`, ALU
//!   ops, `push`/`pop`, `jcc`, nops...) with a destination that is not
//!   `al`/`ah`/`ax`/`eax`/`rax`; no direct branch in the function may
//!   target the window after the writer up to and including the site; and
//!   an indirect `jmp` other than a tail call through a RIP-relative slot
//!   makes the whole function unknown (a jump table could enter the window).
//! * the function keeps nothing live below `%rsp` (the red zone, which the
//!   pushed return address would overwrite): no memory operand or `lea`
//!   with base `%rsp` and a negative displacement or an index; no such
//!   operand through a register copied from `%rsp`; through `%rbp` set by
//!   `mov %rsp,%rbp`, negative displacements only within what the prologue
//!   after it allocates (`push`es and `sub $n,%rsp`); and no arithmetic on a
//!   copy of `%rsp` that could move it down (`sub`, `and`, ...).
//!
//! The whole function is decoded from its first byte; the decode must land
//! exactly on the site and meet no undecodable bytes.  The analysis is
//! flow-insensitive where that is conservative (a register copied from
//! `%rsp` anywhere counts everywhere).  Not detected: a pointer below `%rsp`
//! that travels through memory, and `%rsp` moved up across the site and back
//! down again with live data in between (neither appears in compiled code).

use iced_x86::{
    Code, ConditionCode, Decoder, DecoderOptions, FlowControl, Instruction, Mnemonic, OpKind,
    Register,
};

/// Syscall numbers a rewritten site may call: every valid x86-64 number.
pub const RAX_LIMIT: u64 = 512;

/// Why a site stays on the SUD path (correct for every `%rax`, only slower).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Refusal {
    /// No function bounds: no FDE covers the site, or JIT code too far
    /// from its mapping's start or with no `ret` after the site.
    NoBounds = 0,
    /// Decoding from the function start does not land on the site, or meets
    /// bytes that are not an instruction.
    Desync,
    /// `%rax` at the site is not a provable constant.
    RaxUnknown,
    /// `%rax` is a constant outside `0..512`.
    RaxRange,
    /// A direct branch targets the window between the `%rax` writer and the
    /// site.
    BranchTarget,
    /// An indirect `jmp` (jump table) in the function.
    IndirectJump,
    /// The function may keep live data below `%rsp`.
    RedZone,
    /// The two bytes straddle a cache line (no single atomic store).
    CacheLine,
    /// The library's own code, the vDSO or vsyscall.
    OwnCode,
    /// The page is not readable (execute-only) or not a private mapping
    /// the library may write.
    Protection,
    /// `/proc/self/maps` cannot be read (no /proc): the protection is
    /// unknown, so nothing is written.
    NoMaps,
    /// `mprotect` refused to add `PROT_WRITE` (MDWE, SELinux, ...).
    Mprotect,
    /// The site table is full.
    TableFull,
}

/// Number of [`Refusal`] kinds.
pub const REFUSALS: usize = 13;

/// Short names of the refusals, indexed by `Refusal as usize`.
pub const REFUSAL_NAMES: [&str; REFUSALS] = [
    "no-bounds",
    "desync",
    "rax-unknown",
    "rax-range",
    "branch-target",
    "indirect-jump",
    "red-zone",
    "cache-line",
    "own-code",
    "protection",
    "no-maps",
    "mprotect",
    "table-full",
];

/// Whether `r` is one of `al`, `ah`, `ax`, `eax`, `rax`.
fn is_rax(r: Register) -> bool {
    matches!(
        r,
        Register::AL | Register::AH | Register::AX | Register::EAX | Register::RAX
    )
}

/// The value a constant `%rax` writer leaves in `%rax`, if `ins` is one.
fn const_rax(ins: &Instruction) -> Option<u64> {
    let reg0 = ins.op0_kind() == OpKind::Register;
    match ins.code() {
        // b8+r id: mov $imm32,%eax (zero-extends into rax).
        Code::Mov_r32_imm32 if ins.op0_register() == Register::EAX => {
            Some(u64::from(ins.immediate32()))
        }
        // c7 /0 id: mov $imm32,%eax (same, other encoding).
        Code::Mov_rm32_imm32 if reg0 && ins.op0_register() == Register::EAX => {
            Some(u64::from(ins.immediate32()))
        }
        // REX.W c7 /0 id: mov $simm32,%rax (sign-extends).
        Code::Mov_rm64_imm32 if reg0 && ins.op0_register() == Register::RAX => {
            Some(ins.immediate32to64() as u64)
        }
        // REX.W b8 io: movabs $imm64,%rax.
        Code::Mov_r64_imm64 if ins.op0_register() == Register::RAX => Some(ins.immediate64()),
        // xor/sub %eax,%eax or %rax,%rax: zero.
        Code::Xor_r32_rm32
        | Code::Xor_rm32_r32
        | Code::Xor_r64_rm64
        | Code::Xor_rm64_r64
        | Code::Sub_r32_rm32
        | Code::Sub_rm32_r32
        | Code::Sub_r64_rm64
        | Code::Sub_rm64_r64
            if reg0
                && ins.op1_kind() == OpKind::Register
                && matches!(ins.op0_register(), Register::EAX | Register::RAX)
                && ins.op0_register() == ins.op1_register() =>
        {
            Some(0)
        }
        _ => None,
    }
}

/// Whether `ins` is one of the instructions whose only register write is
/// its explicit first operand (plus flags and, for push/pop, `%rsp`).
fn known_writes(ins: &Instruction) -> bool {
    use Mnemonic::*;
    matches!(
        ins.mnemonic(),
        Mov | Movzx
            | Movsx
            | Movsxd
            | Lea
            | Add
            | Sub
            | And
            | Or
            | Xor
            | Adc
            | Sbb
            | Cmp
            | Test
            | Push
            | Pop
            | Nop
            | Endbr64
            | Shl
            | Shr
            | Sar
            | Rol
            | Ror
            | Neg
            | Not
            | Inc
            | Dec
            | Bt
    ) || (ins.condition_code() != ConditionCode::None && ins.op_count() <= 2)
    // jcc, loopcc, setcc and cmovcc; cmpccxadd (three operands, writes its
    // second) is not in the list.
}

/// Whether `ins` may write any part of `%rax` (conservative: anything not in
/// the [`known_writes`] list may).
fn may_write_rax(ins: &Instruction) -> bool {
    if !known_writes(ins) {
        return true;
    }
    let reads_only = matches!(
        ins.mnemonic(),
        Mnemonic::Cmp | Mnemonic::Test | Mnemonic::Push | Mnemonic::Bt
    );
    ins.op_count() > 0
        && ins.op0_kind() == OpKind::Register
        && is_rax(ins.op0_register())
        && !reads_only
}

/// Index of a 64-bit general register in a bit mask (None for others).
fn gpr_bit(r: Register) -> Option<u32> {
    let f = r.full_register();
    let i = (f as u32).wrapping_sub(Register::RAX as u32);
    (i < 16).then_some(1 << i)
}

/// Whether `ins` has a memory operand (explicit, including `lea`'s).
fn has_memory_operand(ins: &Instruction) -> bool {
    (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory)
}

/// Stack allocated by the prologue that follows `mov %rsp,%rbp` at the
/// decoder's position: `push`es and `sub $imm,%rsp` until the first
/// instruction that transfers control.
fn prologue_alloc(code: &[u8], ip: u64, start: u64) -> u64 {
    let off = (ip - start) as usize;
    let Ok(mut d) = Decoder::try_with_ip(64, &code[off..], ip, DecoderOptions::NONE) else {
        return 0;
    };
    let mut ins = Instruction::default();
    let mut alloc = 0u64;
    for _ in 0..32 {
        if !d.can_decode() {
            break;
        }
        d.decode_out(&mut ins);
        if ins.is_invalid() || ins.flow_control() != FlowControl::Next {
            break;
        }
        match ins.mnemonic() {
            Mnemonic::Push => alloc += 8,
            Mnemonic::Sub
                if ins.op0_kind() == OpKind::Register
                    && ins.op0_register() == Register::RSP
                    && ins.op1_kind() != OpKind::Register
                    && ins.op1_kind() != OpKind::Memory =>
            {
                // A negative immediate would free stack: count nothing.
                alloc += (ins.immediate(1) as i64).max(0) as u64;
            }
            _ => {}
        }
    }
    alloc
}

/// Decides whether the `syscall` at `site` may be rewritten.  `code` holds
/// the bytes of the whole function, which starts at `start`.  Returns the
/// constant syscall number on success.
pub fn analyse(code: &[u8], start: u64, site: u64) -> Result<u64, Refusal> {
    let end = start.wrapping_add(code.len() as u64);
    if site < start || site.wrapping_add(2) > end {
        return Err(Refusal::NoBounds);
    }
    let new_decoder =
        || Decoder::try_with_ip(64, code, start, DecoderOptions::NONE).map_err(|_| Refusal::Desync);
    let mut ins = Instruction::default();

    // Pass 1: the straight line from the function start to the site, and
    // the last writer of %rax on it.
    let mut d = new_decoder()?;
    let mut writer: Option<(u64, u64)> = None;
    loop {
        if !d.can_decode() {
            return Err(Refusal::Desync);
        }
        d.decode_out(&mut ins);
        if ins.is_invalid() {
            return Err(Refusal::Desync);
        }
        if ins.ip() == site {
            if ins.code() != Code::Syscall {
                return Err(Refusal::Desync);
            }
            break;
        }
        if ins.next_ip() > site {
            return Err(Refusal::Desync);
        }
        if let Some(v) = const_rax(&ins) {
            writer = Some((ins.ip(), v));
        } else if may_write_rax(&ins) {
            writer = None;
        }
    }
    let Some((w, nr)) = writer else {
        return Err(Refusal::RaxUnknown);
    };
    if nr >= RAX_LIMIT {
        return Err(Refusal::RaxRange);
    }

    // Pass 2: the whole function, twice (copies of %rsp found on the first
    // round count on the second, whatever the code order).
    let mut tainted = 0u32; // registers copied from %rsp (not the frame %rbp)
    let mut frame_rbp = false; // %rbp set by `mov %rsp,%rbp`
    let mut frame_alloc = u64::MAX; // smallest prologue allocation after it
    let rsp_bit = gpr_bit(Register::RSP).unwrap_or(0);
    let rbp_bit = gpr_bit(Register::RBP).unwrap_or(0);
    for round in 0..2 {
        let mut d = new_decoder()?;
        while d.can_decode() {
            d.decode_out(&mut ins);
            if ins.is_invalid() {
                return Err(Refusal::Desync);
            }
            // Branches into the window.
            match ins.flow_control() {
                FlowControl::UnconditionalBranch
                | FlowControl::ConditionalBranch
                | FlowControl::Call
                | FlowControl::XbeginXabortXend => {
                    if matches!(
                        ins.op0_kind(),
                        OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
                    ) {
                        let t = ins.near_branch_target();
                        if t > w && t <= site {
                            return Err(Refusal::BranchTarget);
                        }
                    }
                }
                FlowControl::IndirectBranch => {
                    let got_slot =
                        ins.is_ip_rel_memory_operand() && ins.memory_index() == Register::None;
                    if !got_slot {
                        return Err(Refusal::IndirectJump);
                    }
                }
                _ => {}
            }
            // Memory operands below %rsp.
            if has_memory_operand(&ins) {
                let base = ins.memory_base();
                let index = ins.memory_index();
                let disp = ins.memory_displacement64() as i64;
                let b = gpr_bit(base).unwrap_or(0);
                let x = gpr_bit(index).unwrap_or(0);
                if x & (tainted | rsp_bit) != 0 {
                    return Err(Refusal::RedZone);
                }
                if base == Register::RBP && frame_rbp && tainted & rbp_bit == 0 {
                    if disp < 0 && disp.unsigned_abs() > frame_alloc {
                        return Err(Refusal::RedZone);
                    }
                } else if b & (tainted | rsp_bit) != 0 && (disp < 0 || index != Register::None) {
                    return Err(Refusal::RedZone);
                }
            }
            // Copies of %rsp.
            if ins.op_count() >= 1 && ins.op0_kind() == OpKind::Register {
                let dst = gpr_bit(ins.op0_register()).unwrap_or(0);
                let src_reg = if ins.op_count() >= 2 && ins.op1_kind() == OpKind::Register {
                    gpr_bit(ins.op1_register()).unwrap_or(0)
                } else {
                    0
                };
                let from_stack = src_reg & (tainted | rsp_bit) != 0
                    || (ins.mnemonic() == Mnemonic::Lea
                        && gpr_bit(ins.memory_base()).unwrap_or(0) & (tainted | rsp_bit) != 0);
                let is_copy = matches!(ins.mnemonic(), Mnemonic::Mov | Mnemonic::Lea);
                let writes_op0 = !matches!(
                    ins.mnemonic(),
                    Mnemonic::Cmp | Mnemonic::Test | Mnemonic::Bt | Mnemonic::Push
                );
                if !writes_op0 {
                    // Reads only.
                } else if dst == rbp_bit
                    && ins.mnemonic() == Mnemonic::Mov
                    && src_reg == rsp_bit
                    && ins.op0_register() == Register::RBP
                {
                    // `mov %rsp,%rbp`: a frame pointer.
                    frame_rbp = true;
                    if round == 0 {
                        frame_alloc = frame_alloc.min(prologue_alloc(code, ins.ip(), start));
                    }
                } else if dst != 0 && dst != rsp_bit && from_stack {
                    if !is_copy {
                        // xchg, add %rsp,%r...: unknown value near the stack.
                        return Err(Refusal::RedZone);
                    }
                    tainted |= dst;
                } else if dst & tainted != 0 && dst != rsp_bit {
                    // Arithmetic on a copy of %rsp that could move it down.
                    let harmless = matches!(
                        ins.mnemonic(),
                        Mnemonic::Mov
                            | Mnemonic::Movzx
                            | Mnemonic::Movsx
                            | Mnemonic::Movsxd
                            | Mnemonic::Lea
                            | Mnemonic::Cmp
                            | Mnemonic::Test
                            | Mnemonic::Push
                            | Mnemonic::Pop
                    ) || (ins.mnemonic() == Mnemonic::Add
                        && ins.op1_kind() != OpKind::Register
                        && ins.op1_kind() != OpKind::Memory
                        && (ins.immediate(1) as i64) >= 0)
                        || const_rax(&ins) == Some(0);
                    if !harmless {
                        return Err(Refusal::RedZone);
                    }
                }
            }
        }
    }
    Ok(nr)
}

/// The end of a function with no unwind information (JIT code): just past
/// the first `ret` after the site, decoding from the site; `code` starts at
/// `site`.  `None` when there is no `ret` in `code`.
pub fn jit_end(code: &[u8], site: u64) -> Option<u64> {
    let mut d = Decoder::try_with_ip(64, code, site, DecoderOptions::NONE).ok()?;
    let mut ins = Instruction::default();
    while d.can_decode() {
        d.decode_out(&mut ins);
        if ins.is_invalid() {
            return None;
        }
        if ins.flow_control() == FlowControl::Return {
            return Some(ins.next_ip());
        }
    }
    None
}

/// Calls `f` with the address of each `syscall` in the function `code`
/// (starting at `start`), decoding from its first byte; stops at bytes that
/// do not decode.
pub fn for_each_syscall(code: &[u8], start: u64, mut f: impl FnMut(u64)) {
    let Ok(mut d) = Decoder::try_with_ip(64, code, start, DecoderOptions::NONE) else {
        return;
    };
    let mut ins = Instruction::default();
    while d.can_decode() {
        d.decode_out(&mut ins);
        if ins.is_invalid() {
            return;
        }
        if ins.code() == Code::Syscall {
            f(ins.ip());
        }
    }
}
