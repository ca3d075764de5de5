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
//!   `mov $imm,%eax`, `mov $imm,%rax`, `xor`/`sub %eax,%eax`, or a copy
//!   `mov %reg,%eax` whose source holds one constant on every path into
//!   the copy (a demand-driven constant propagation over the function's
//!   direct branches, [`Values`]); every instruction between the writer and
//!   the site must be one of a short list whose only register write is its
//!   explicit destination (`mov`, `lea`, ALU ops, `push`/`pop`, `jcc`,
//!   nops...) with a destination that is not `al`/`ah`/`ax`/`eax`/`rax`; no
//!   direct branch in the function may target the window after the writer
//!   up to and including the site; an instruction that does not fall
//!   through ends the straight line; and an indirect `jmp` other than a
//!   tail call through a RIP-relative slot makes the whole function unknown
//!   (a jump table could enter the window).
//! * the function keeps nothing live below `%rsp` (the red zone, which the
//!   pushed return address would overwrite): no memory operand or `lea`
//!   with base `%rsp` and a negative displacement or an index; no such
//!   operand through a register holding a copy of `%rsp`; through `%rbp`
//!   set by `mov %rsp,%rbp`, negative displacements only within what the
//!   prologue after it allocates (`push`es and `sub $n,%rsp`), while a copy
//!   of that `%rbp` in another register (`mov %rbp,%rdx`, `lea d(%rbp)`) is
//!   a copy of `%rsp`; and no arithmetic that could move a copy of `%rsp`
//!   or the frame pointer down (`sub`, `and`, ...).
//!   Which registers hold copies is a dataflow over the direct branches to
//!   a fixed point.
//!
//! The whole function is decoded from its first byte; the decode must land
//! exactly on the site and meet no undecodable bytes.  Not seen: jumps into
//! the function from elsewhere (GCC's `.cold` parts have their own FDE),
//! except that code after a `jmp`/`ret` that no branch of the function
//! reaches is taken as reachable from anywhere; a stack address that
//! travels through memory; `%rsp` moved up across the site and back down
//! with live data in between.  Compiled code relies on none of these: a
//! label a cold part jumps back to still satisfies the `"a"(nr)` operand
//! of the inline `syscall` after it.

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
    // `then`, not `then_some`: `1 << i` must not be evaluated for a
    // register outside the 16 GPRs (Register::None: a shift overflow,
    // which panics in a debug build).
    (i < 16).then(|| 1 << i)
}

/// Whether `ins` has a memory operand (explicit, including `lea`'s; not
/// the operand of a multi-byte `nop`, which touches nothing).
fn has_memory_operand(ins: &Instruction) -> bool {
    ins.mnemonic() != Mnemonic::Nop && (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory)
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

/// Whether execution may continue with the next instruction: not after a
/// jmp or ret, nor after ud2 or hlt (which fault in user mode; compilers
/// emit them for unreachable code).  `int n` and `int3` return to the next
/// instruction: they fall through.
fn falls_through(ins: &Instruction) -> bool {
    !matches!(
        ins.flow_control(),
        FlowControl::UnconditionalBranch
            | FlowControl::IndirectBranch
            | FlowControl::Return
            | FlowControl::Exception
    ) && ins.mnemonic() != Mnemonic::Hlt
}

/// How the last writer of `%rax` before the site sets it.
#[derive(Clone, Copy)]
enum Writer {
    /// `mov $imm`, `xor`/`sub` with itself.
    Const(u64),
    /// `mov %src,%eax` (false: 32-bit, zero-extends) or `mov %src,%rax`.
    Copy(Register, bool),
}

/// If `ins` is `mov %r32,%e?x`/`mov %r64,%r?x` into the 64-bit register
/// `dst`: the source (64-bit name) and whether the copy is 64-bit wide.
fn copy_into(ins: &Instruction, dst: Register) -> Option<(Register, bool)> {
    if ins.mnemonic() != Mnemonic::Mov
        || ins.op0_kind() != OpKind::Register
        || ins.op1_kind() != OpKind::Register
        || ins.op0_register().full_register() != dst
    {
        return None;
    }
    let (d, s) = (ins.op0_register(), ins.op1_register());
    if d.is_gpr64() && s.is_gpr64() {
        Some((s, true))
    } else if d.is_gpr32() && s.is_gpr32() {
        Some((s.full_register(), false))
    } else {
        None
    }
}

/// A register's value at a point: no path reaches it, a constant, or
/// anything.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Val {
    Bottom,
    Const(u64),
    Unknown,
}

impl Val {
    fn join(self, o: Val) -> Val {
        match (self, o) {
            (Val::Bottom, x) | (x, Val::Bottom) => x,
            (Val::Const(a), Val::Const(b)) if a == b => Val::Const(a),
            _ => Val::Unknown,
        }
    }
}

/// How deep [`Values::value`] follows copies and joins.
const VALUE_DEPTH: u32 = 6;
/// How many linear decodes of the function [`Values::value`] may spend.
const VALUE_BUDGET: u32 = 48;

/// The state of one register on a straight line.
#[derive(Clone, Copy)]
enum Line {
    Unknown,
    Const(u64),
    /// A copy of that register (wide: 64-bit) made at that address.
    Copy(Register, bool, u64),
    /// Whatever reaches that address (a branch target); true if the
    /// instruction before it falls through into it.
    Join(u64, bool),
    /// Padding after an instruction that does not fall through, reached by
    /// nothing (only nops so far).
    Unreached,
}

/// Demand-driven constant propagation for one register, over the direct
/// branches of a function (`flow` holds the branch-target marks of pass 2).
struct Values<'a> {
    code: &'a [u8],
    start: u64,
    flow: &'a [u32],
}

impl Values<'_> {
    /// What `ins` does to the 64-bit register `reg` (None: leaves it).
    fn write(ins: &Instruction, reg: Register) -> Option<Line> {
        let reg0 = ins.op_count() > 0
            && ins.op0_kind() == OpKind::Register
            && ins.op0_register().full_register() == reg;
        if reg0 {
            if let Some((src, wide)) = copy_into(ins, reg) {
                return Some(Line::Copy(src, wide, ins.ip()));
            }
            let imm = match ins.code() {
                Code::Mov_r32_imm32 | Code::Mov_rm32_imm32 if ins.op0_register().is_gpr32() => {
                    Some(u64::from(ins.immediate32()))
                }
                Code::Mov_rm64_imm32 => Some(ins.immediate32to64() as u64),
                Code::Mov_r64_imm64 => Some(ins.immediate64()),
                _ => None,
            };
            let zero = matches!(ins.mnemonic(), Mnemonic::Xor | Mnemonic::Sub)
                && ins.op1_kind() == OpKind::Register
                && ins.op1_register() == ins.op0_register()
                && (ins.op0_register().is_gpr32() || ins.op0_register().is_gpr64());
            return match (imm, zero) {
                (Some(v), _) => Some(Line::Const(v)),
                (None, true) => Some(Line::Const(0)),
                _ if matches!(
                    ins.mnemonic(),
                    Mnemonic::Cmp | Mnemonic::Test | Mnemonic::Push | Mnemonic::Bt
                ) =>
                {
                    None
                }
                _ => Some(Line::Unknown),
            };
        }
        if ins.code() == Code::Syscall {
            // The kernel returns in rax and clobbers rcx and r11.
            let clobbered = matches!(reg, Register::RAX | Register::RCX | Register::R11);
            return clobbered.then_some(Line::Unknown);
        }
        if ins.flow_control() == FlowControl::Call {
            // The callee keeps only the callee-saved registers.
            let saved = matches!(
                reg,
                Register::RBX
                    | Register::RBP
                    | Register::R12
                    | Register::R13
                    | Register::R14
                    | Register::R15
                    | Register::RSP
            );
            return (!saved).then_some(Line::Unknown);
        }
        if known_writes(ins) || !falls_through(ins) {
            // Only the explicit first operand (checked above), and rcx for
            // loop.
            return (ins.is_loop() && reg == Register::RCX).then_some(Line::Unknown);
        }
        Some(Line::Unknown) // anything else may write any register
    }

    /// The value of the 64-bit register `reg` just before the instruction
    /// at `point`; `join_here`: count the branches into `point` (false: the
    /// straight line into it only).
    fn value(
        &self,
        reg: Register,
        point: u64,
        join_here: bool,
        depth: u32,
        budget: &mut u32,
    ) -> Val {
        if depth == 0 || *budget == 0 {
            return Val::Unknown;
        }
        *budget -= 1;
        let Ok(mut d) = Decoder::try_with_ip(64, self.code, self.start, DecoderOptions::NONE)
        else {
            return Val::Unknown;
        };
        let mut ins = Instruction::default();
        let mut st = Line::Unknown; // the caller's value at the entry
        let mut falls = true;
        let mut reached = false;
        while d.can_decode() {
            d.decode_out(&mut ins);
            let ip = ins.ip();
            if ip > point || ins.is_invalid() {
                break;
            }
            let target = self.flow[(ip - self.start) as usize] & TARGET != 0;
            if ip == point {
                if join_here && target {
                    st = Line::Join(ip, falls);
                } else if join_here && !falls {
                    st = Line::Unknown; // reached only from outside
                }
                reached = true;
                break;
            }
            if target {
                st = Line::Join(ip, falls);
            } else if !falls {
                st = Line::Unreached;
            }
            if matches!(st, Line::Unreached) && ins.mnemonic() != Mnemonic::Nop {
                // Real code no direct branch of the function reaches: only a
                // jump from outside (a cold part) could; its value is unknown.
                st = Line::Unknown;
            }
            if let Some(w) = Self::write(&ins, reg) {
                st = w;
            }
            falls = falls_through(&ins);
        }
        if !reached {
            return Val::Unknown;
        }
        match st {
            Line::Unknown => Val::Unknown,
            Line::Unreached => Val::Bottom,
            Line::Const(v) => Val::Const(v),
            Line::Copy(src, wide, at) => match self.value(src, at, true, depth - 1, budget) {
                Val::Const(v) if !wide => Val::Const(v & 0xffff_ffff),
                v => v,
            },
            Line::Join(t, fell) => {
                let mut v = if fell {
                    self.value(reg, t, false, depth - 1, budget)
                } else {
                    Val::Bottom
                };
                let Ok(mut d) =
                    Decoder::try_with_ip(64, self.code, self.start, DecoderOptions::NONE)
                else {
                    return Val::Unknown;
                };
                while d.can_decode() && v != Val::Unknown {
                    d.decode_out(&mut ins);
                    if ins.flow_control() != FlowControl::Call && direct_target(&ins) == Some(t) {
                        v = v.join(self.value(reg, ins.ip(), true, depth - 1, budget));
                        if ins.is_loop() && reg == Register::RCX {
                            v = Val::Unknown;
                        }
                    }
                }
                v
            }
        }
    }
}

/// Scratch words for [`analyse`] that cover a 64 KiB function.
pub const FLOW_WORDS: usize = 1 << 16;

/// In a `flow` word: this address is a direct branch target (the low 16
/// bits are the copies of `%rsp` that branches bring in).
const TARGET: u32 = 1 << 31;

/// The target of a direct jump, jcc, loop, call or xbegin.
fn direct_target(ins: &Instruction) -> Option<u64> {
    matches!(
        ins.flow_control(),
        FlowControl::UnconditionalBranch
            | FlowControl::ConditionalBranch
            | FlowControl::Call
            | FlowControl::XbeginXabortXend
    )
    .then_some(())
    .filter(|_| {
        matches!(
            ins.op0_kind(),
            OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64
        )
    })
    .map(|_| ins.near_branch_target())
}

/// Registers an instruction overwrites implicitly with a value that is not
/// a stack address: one-operand `mul`/`imul`/`div`/`idiv` (rdx:rax),
/// `cqo`/`cdq` (rdx), `cpuid`, `rdtsc`, `rdtscp`.
fn implicit_kills(ins: &Instruction) -> u32 {
    let bit = |r| gpr_bit(r).unwrap_or(0);
    let (rax, rbx, rcx, rdx) = (
        bit(Register::RAX),
        bit(Register::RBX),
        bit(Register::RCX),
        bit(Register::RDX),
    );
    match ins.mnemonic() {
        Mnemonic::Mul | Mnemonic::Div | Mnemonic::Idiv => rax | rdx,
        Mnemonic::Imul if ins.op_count() == 1 => rax | rdx,
        Mnemonic::Cqo | Mnemonic::Cdq | Mnemonic::Cwd => rdx,
        Mnemonic::Cpuid => rax | rbx | rcx | rdx,
        Mnemonic::Rdtsc => rax | rdx,
        Mnemonic::Rdtscp => rax | rcx | rdx,
        _ => 0,
    }
}

/// What an instruction does to the copies of `%rsp` (a bit mask of GPRs).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// Writes no general register that matters.
    None,
    /// 64-bit `mov`/`lea` of a copy of `%rsp` (or of `%rsp`) into `dst`.
    Copy(u32),
    /// Overwrites `dst` whole with something unrelated to the stack (a
    /// 32-bit write, a load, an immediate, `xor %r,%r`, `pop`...).
    Kill(u32),
    /// Keeps `dst` (reads it, or adds a non-negative immediate).
    Keep(u32),
    /// Anything else that writes `dst` (arithmetic that may move a copy of
    /// `%rsp` down, partial writes).
    Unknown(u32),
    /// Mixes a copy of `%rsp` into `dst` other than by a plain copy
    /// (`add %rsp,%rax`, `xchg`, `cmov`...).
    Mix(u32),
}

/// Whether `ins` is `mov %rsp,%rbp` (a frame pointer set-up).
fn is_frame_setup(ins: &Instruction) -> bool {
    ins.mnemonic() == Mnemonic::Mov
        && ins.op0_kind() == OpKind::Register
        && ins.op0_register() == Register::RBP
        && ins.op1_kind() == OpKind::Register
        && ins.op1_register() == Register::RSP
}

/// The [`Effect`] of `ins` given `t`, the registers that hold copies of
/// `%rsp`, and `fp`, the frame pointer (`%rbp` set by `mov %rsp,%rbp`) if
/// any: a copy of the frame pointer (`mov %rbp,%rdx`, `lea -16(%rbp),%rdx`)
/// is a copy of `%rsp` like any other (issue 21 item 4), while `%rbp`
/// itself keeps its own rule (negative displacements within the prologue's
/// allocation).  `%rsp` itself and the frame pointer set-up are `None`.
fn effect(ins: &Instruction, t: u32, fp: u32) -> Effect {
    if ins.op_count() == 0 || ins.op0_kind() != OpKind::Register || is_frame_setup(ins) {
        return Effect::None;
    }
    let r0 = ins.op0_register();
    let Some(dst) = gpr_bit(r0) else {
        return Effect::None;
    };
    let rsp = gpr_bit(Register::RSP).unwrap_or(0);
    if dst == rsp {
        return Effect::None;
    }
    let m = ins.mnemonic();
    if matches!(
        m,
        Mnemonic::Cmp | Mnemonic::Test | Mnemonic::Bt | Mnemonic::Push
    ) {
        return Effect::Keep(dst); // reads only
    }
    // A 32-bit source cannot hold a stack address (the stack lies above
    // 4 GiB): only 64-bit sources count.
    let src = if ins.op_count() >= 2
        && ins.op1_kind() == OpKind::Register
        && ins.op1_register().is_gpr64()
    {
        gpr_bit(ins.op1_register()).unwrap_or(0)
    } else {
        0
    };
    let mem_base = if has_memory_operand(ins) {
        gpr_bit(ins.memory_base()).unwrap_or(0) | gpr_bit(ins.memory_index()).unwrap_or(0)
    } else {
        0
    };
    let stack = t | rsp | fp;
    let from_stack = src & stack != 0 || (m == Mnemonic::Lea && mem_base & stack != 0);
    if r0.is_gpr64() {
        let cmov = ins.condition_code() != ConditionCode::None && !ins.is_jcc_short_or_near();
        if (matches!(m, Mnemonic::Mov | Mnemonic::Lea) || cmov) && from_stack {
            return Effect::Copy(dst);
        }
        if cmov {
            // Either unchanged or a value that is not a stack address.
            return Effect::Keep(dst);
        }
        if from_stack {
            return Effect::Mix(dst);
        }
        let zeroing = matches!(m, Mnemonic::Xor | Mnemonic::Sub) && src == dst;
        if matches!(
            m,
            Mnemonic::Mov
                | Mnemonic::Movzx
                | Mnemonic::Movsx
                | Mnemonic::Movsxd
                | Mnemonic::Lea
                | Mnemonic::Pop
        ) || zeroing
        {
            return Effect::Kill(dst);
        }
        if matches!(
            m,
            Mnemonic::Shl
                | Mnemonic::Shr
                | Mnemonic::Sar
                | Mnemonic::Rol
                | Mnemonic::Ror
                | Mnemonic::Imul
                | Mnemonic::Bswap
                | Mnemonic::Popcnt
                | Mnemonic::Lzcnt
                | Mnemonic::Tzcnt
                | Mnemonic::Not
                | Mnemonic::Neg
        ) {
            // A shifted or multiplied stack address is no address.
            return Effect::Kill(dst);
        }
        // Moves that can only go up: add of a non-negative immediate, inc,
        // or (sets bits).
        let add_imm = m == Mnemonic::Add
            && !matches!(ins.op1_kind(), OpKind::Register | OpKind::Memory)
            && (ins.immediate(1) as i64) >= 0;
        if add_imm || matches!(m, Mnemonic::Inc | Mnemonic::Or) {
            return Effect::Keep(dst);
        }
        return Effect::Unknown(dst);
    }
    if r0.is_gpr32() {
        // A 32-bit write zero-extends: the register no longer points into
        // the stack, which lies above 4 GiB.
        return Effect::Kill(dst);
    }
    // 8- and 16-bit writes keep the upper bits.
    Effect::Unknown(dst)
}

/// Decides whether the `syscall` at `site` may be rewritten.  `code` holds
/// the bytes of the whole function, which starts at `start`.  `flow` is
/// scratch space, one word per byte of the function ([`FLOW_WORDS`] cover
/// 64 KiB); a bigger function is analysed flow-insensitively (every
/// instruction a join point).  Returns the constant syscall number.
pub fn analyse(code: &[u8], start: u64, site: u64, flow: &mut [u32]) -> Result<u64, Refusal> {
    analyse_window(code, start, site, flow).map(|(nr, _)| nr)
}

/// [`analyse`] for JIT code, whose end is a guess ([`jit_end`]): `tail`,
/// the bytes from the end of `code` on (the rest of the mapping, or as far
/// as the caller looked), is not decoded as instructions but searched at
/// every byte offset for a direct branch (`jmp`, `jcc`, `call`, `loop`,
/// `jrcxz`, rel8 or rel32) into the window between the `%rax` writer and
/// the site: a slow path placed after the function's `ret` that jumps back
/// to its `syscall` with another `%rax` (issue 21 item 5).  Any byte
/// pattern that would be such a branch refuses the site (data may look
/// like one: a refusal only costs speed).
pub fn analyse_jit(
    code: &[u8],
    start: u64,
    site: u64,
    flow: &mut [u32],
    tail: &[u8],
) -> Result<u64, Refusal> {
    let (nr, w) = analyse_window(code, start, site, flow)?;
    let tail_start = start.wrapping_add(code.len() as u64);
    if branch_into(tail, tail_start, w + 1, site) {
        return Err(Refusal::BranchTarget);
    }
    Ok(nr)
}

/// Whether some byte offset of `bytes` (at address `at`) starts a direct
/// relative branch whose target lies in `lo..=hi`.
fn branch_into(bytes: &[u8], at: u64, lo: u64, hi: u64) -> bool {
    let rel8 = |i: usize| -> Option<u64> {
        let d = *bytes.get(i + 1)? as i8 as i64;
        Some(at.wrapping_add(i as u64 + 2).wrapping_add(d as u64))
    };
    let rel32 = |i: usize, len: usize| -> Option<u64> {
        let b = bytes.get(i + len - 4..i + len)?;
        let d = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64;
        Some(at.wrapping_add((i + len) as u64).wrapping_add(d as u64))
    };
    (0..bytes.len()).any(|i| {
        let t = match bytes[i] {
            // jcc rel8, loopne/loope/loop/jrcxz rel8, jmp rel8
            0x70..=0x7f | 0xe0..=0xe3 | 0xeb => rel8(i),
            // call rel32, jmp rel32
            0xe8 | 0xe9 => rel32(i, 5),
            // jcc rel32
            0x0f if bytes.get(i + 1).is_some_and(|b| b & 0xf0 == 0x80) => rel32(i, 6),
            _ => None,
        };
        t.is_some_and(|t| (lo..=hi).contains(&t))
    })
}

/// [`analyse`], also returning the address of the `%rax` writer.
fn analyse_window(
    code: &[u8],
    start: u64,
    site: u64,
    flow: &mut [u32],
) -> Result<(u64, u64), Refusal> {
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
    let mut writer: Option<(u64, Writer)> = None;
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
        if !falls_through(&ins) {
            // What follows is reached only by a jump: no straight line.
            writer = None;
        } else if let Some(v) = const_rax(&ins) {
            writer = Some((ins.ip(), Writer::Const(v)));
        } else if let Some((src, wide)) = copy_into(&ins, Register::RAX) {
            writer = Some((ins.ip(), Writer::Copy(src, wide)));
        } else if may_write_rax(&ins) {
            writer = None;
        }
    }
    let Some((w, how)) = writer else {
        return Err(Refusal::RaxUnknown);
    };
    if let Writer::Const(nr) = how {
        if nr >= RAX_LIMIT {
            return Err(Refusal::RaxRange);
        }
    }

    // Pass 2 (two rounds): jump tables, branches into the window, branch
    // targets (marked in `flow`), the frame pointer, and G: every register
    // that is a 64-bit copy of %rsp (or of such a copy) anywhere in the
    // function, whatever the order (flow-insensitive).
    let mut flow = if code.len() <= flow.len() {
        flow[..code.len()].fill(0);
        Some(&mut flow[..code.len()])
    } else {
        None // too big: every instruction is a join point taking G
    };
    let mut g = 0u32;
    let mut frame_rbp = false; // %rbp set by `mov %rsp,%rbp`
    let mut fp = 0u32; // its bit once seen
    let mut frame_alloc = u64::MAX; // smallest prologue allocation after it
    let mut jump_table = false;
    for round in 0..2 {
        let mut d = new_decoder()?;
        while d.can_decode() {
            d.decode_out(&mut ins);
            if ins.is_invalid() {
                return Err(Refusal::Desync);
            }
            if round == 0 {
                if let Some(t) = direct_target(&ins) {
                    if t > w && t <= site {
                        return Err(Refusal::BranchTarget);
                    }
                    if let (Some(f), true) = (flow.as_deref_mut(), t >= start && t < end) {
                        f[(t - start) as usize] |= TARGET;
                    }
                }
                if ins.flow_control() == FlowControl::IndirectBranch {
                    // A tail call through a GOT slot is fine; anything else
                    // may be a jump table into the window.
                    jump_table |=
                        !(ins.is_ip_rel_memory_operand() && ins.memory_index() == Register::None);
                }
                if is_frame_setup(&ins) {
                    frame_rbp = true;
                    fp = gpr_bit(Register::RBP).unwrap_or(0);
                    frame_alloc = frame_alloc.min(prologue_alloc(code, ins.ip(), start));
                }
            }
            if let Effect::Copy(dst) | Effect::Mix(dst) = effect(&ins, g, fp) {
                g |= dst;
            }
        }
    }

    // A copy from another register: that register's value at the copy,
    // through the branches that reach it.
    let nr = match how {
        Writer::Const(v) => v,
        Writer::Copy(src, wide) => {
            let Some(f) = flow.as_deref() else {
                return Err(Refusal::RaxUnknown);
            };
            let ctx = Values {
                code,
                start,
                flow: f,
            };
            let mut budget = VALUE_BUDGET;
            match ctx.value(src, w, true, VALUE_DEPTH, &mut budget) {
                Val::Const(v) if wide => v,
                Val::Const(v) => v & 0xffff_ffff,
                _ => return Err(Refusal::RaxUnknown),
            }
        }
    };
    if nr >= RAX_LIMIT {
        return Err(Refusal::RaxRange);
    }

    // Pass 3: dataflow of T, the registers holding copies of %rsp, to a
    // fixed point: T starts empty; a branch adds its T to its target's
    // entry in `flow`; at a target T takes that entry; after an
    // unconditional transfer T is the entry alone (or G at an address no
    // direct branch targets: reached from outside the function or not at
    // all).  Every memory operand is checked against T, and arithmetic that
    // could move a copy of %rsp down is refused.
    let rsp_bit = gpr_bit(Register::RSP).unwrap_or(0);
    let rbp_bit = gpr_bit(Register::RBP).unwrap_or(0);
    let bits = |rs: &[Register]| rs.iter().fold(0, |m, &r| m | gpr_bit(r).unwrap_or(0));
    let args = bits(&[
        Register::RDI,
        Register::RSI,
        Register::RDX,
        Register::RCX,
        Register::R8,
        Register::R9,
    ]);
    let volatile = args | bits(&[Register::RAX, Register::R10, Register::R11]);
    let mut rounds = 0;
    loop {
        rounds += 1;
        if rounds > 64 {
            return Err(Refusal::RedZone); // no fixed point: be conservative
        }
        let mut changed = false;
        let mut t = 0u32;
        let mut fallthrough = true;
        let mut d = new_decoder()?;
        while d.can_decode() {
            d.decode_out(&mut ins);
            let o = (ins.ip() - start) as usize;
            match flow.as_deref() {
                Some(f) if f[o] & TARGET != 0 => {
                    let incoming = f[o] & !TARGET;
                    t = if fallthrough { t | incoming } else { incoming };
                }
                Some(_) if !fallthrough => t = g,
                Some(_) => {}
                None => t |= g,
            }
            // (A lea into a 32-bit register computes no stack address.)
            if (ins.mnemonic() != Mnemonic::Lea || ins.op0_register().is_gpr64())
                && has_memory_operand(&ins)
            {
                let base = ins.memory_base();
                let index = ins.memory_index();
                let disp = ins.memory_displacement64() as i64;
                let b = gpr_bit(base).unwrap_or(0);
                let x = gpr_bit(index).unwrap_or(0);
                if x & (t | rsp_bit) != 0 {
                    return Err(Refusal::RedZone);
                }
                if base == Register::RBP && frame_rbp && t & rbp_bit == 0 {
                    if disp < 0 && disp.unsigned_abs() > frame_alloc {
                        return Err(Refusal::RedZone);
                    }
                } else if b & (t | rsp_bit) != 0 && (disp < 0 || index != Register::None) {
                    return Err(Refusal::RedZone);
                }
            }
            match effect(&ins, t, fp) {
                Effect::None | Effect::Keep(_) => {}
                Effect::Copy(dst) => t |= dst,
                Effect::Kill(dst) => t &= !dst,
                // Arithmetic that may move a copy of %rsp, or the frame
                // pointer itself, down.
                Effect::Unknown(dst) if dst & (t | fp) != 0 => return Err(Refusal::RedZone),
                Effect::Unknown(_) => {}
                Effect::Mix(_) => return Err(Refusal::RedZone),
            }
            t &= !implicit_kills(&ins);
            if ins.flow_control() == FlowControl::Call {
                // The callee clobbers the caller-saved registers; it may
                // leave in them (and return) a stack address only if it was
                // given one in an argument register.
                t = if t & args != 0 {
                    t | volatile
                } else {
                    t & !volatile
                };
            }
            if let (Some(tg), Some(f)) = (direct_target(&ins), flow.as_deref_mut()) {
                if tg >= start && tg < end && ins.flow_control() != FlowControl::Call {
                    let e = &mut f[(tg - start) as usize];
                    if (*e | t) != *e {
                        *e |= t;
                        changed = true;
                    }
                }
            }
            fallthrough = falls_through(&ins);
        }
        if !changed || flow.is_none() {
            break;
        }
    }
    if jump_table {
        return Err(Refusal::IndirectJump);
    }
    Ok((nr, w))
}

/// The end of a function with no unwind information (JIT code), decoding
/// from the site; `code` starts at `site`.  Not the first `ret` after the
/// site: a JIT may place a slow path after it that jumps back (issue 21
/// item 5).  The function is taken to run on as far as its bytes decode
/// (to the end of `code` or the first bytes that are no instruction), so
/// that such a slow path is analysed like the rest; it must contain a
/// `ret` (else `None`: no function end in sight).  [`analyse_jit`]
/// searches what lies beyond for branches back into the site.
pub fn jit_end(code: &[u8], site: u64) -> Option<u64> {
    let mut d = Decoder::try_with_ip(64, code, site, DecoderOptions::NONE).ok()?;
    let mut ins = Instruction::default();
    let mut ret = false;
    let mut end = site;
    while d.can_decode() {
        d.decode_out(&mut ins);
        if ins.is_invalid() {
            break;
        }
        ret |= ins.flow_control() == FlowControl::Return;
        end = ins.next_ip();
    }
    ret.then_some(end)
}

/// Builds iced-x86's decoder tables, which it allocates lazily on the
/// first decode: that must happen at load, not in the SIGSYS handler (no
/// allocation there, and the allocator's own system calls would trap).
pub fn warm_up() {
    for_each_syscall(&[0x0f, 0x05], 0, |_| {});
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

#[cfg(test)]
#[path = "site_tests.rs"]
mod tests;
