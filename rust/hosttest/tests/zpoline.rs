// SPDX-License-Identifier: GPL-2.0

//! The zpoline page: decode it from every offset, then run it from every
//! offset (at a non-zero base: the code is position independent, only the
//! offset changes meaning), checking that each offset either reaches the
//! hook with every register but rcx/r11 and every flag unchanged, or is one
//! of the documented holes and faults before changing anything.

use std::sync::atomic::{AtomicU64, Ordering};

use iced_x86::{
    Code, Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, Mnemonic, OpKind,
    Register,
};
use trampfd_hosttest::arch::zpoline::{
    render_page, CELL, ENTRY_STATION, FAST_LEN, FAST_MAX_INSNS, FUNNEL, HOLES, HOOK_IMM_OFFSET,
    MID_STATION, SLED_LEN, STUB_END, STUB_OFFSET, TAIL,
};
use trampfd_hosttest::exec::ExecPage;

const PAGE: usize = 4096;

/// The most instructions from any offset below the stub (holes aside) to
/// the stub: measured by `every_offset_decodes_to_the_stub`, documented in
/// Documentation/zpoline.rst.
const ALL_MAX_INSNS: usize = 27;

fn page(hook: u64) -> Vec<u8> {
    let mut p = vec![0u8; PAGE];
    let mut seen = vec![0u8; PAGE];
    render_page(PAGE, hook, |at, b| {
        p[at..at + b.len()].copy_from_slice(b);
        seen[at..at + b.len()].iter_mut().for_each(|s| *s += 1);
    });
    assert!(seen.iter().all(|&s| s == 1), "every byte written once");
    p
}

fn decode_at(p: &[u8], ip: usize) -> Instruction {
    let mut d = Decoder::with_ip(64, &p[ip..], ip as u64, DecoderOptions::NONE);
    d.decode()
}

fn text(ins: &Instruction) -> String {
    let mut f = IntelFormatter::new();
    f.options_mut().set_hex_prefix("0x");
    f.options_mut().set_hex_suffix("");
    f.options_mut().set_uppercase_hex(false);
    let mut s = String::new();
    f.format(ins, &mut s);
    s
}

/// Follows the code from `start` to the stub; returns the number of
/// instructions run, or what stopped it.
fn walk(p: &[u8], start: usize) -> Result<usize, String> {
    let mut ip = start;
    let mut n = 0;
    while ip != STUB_OFFSET {
        if ip > STUB_OFFSET || n > 100 {
            return Err(format!("from {start}: reached {ip} after {n}"));
        }
        let ins = decode_at(p, ip);
        n += 1;
        let jump = ins.mnemonic() == Mnemonic::Jmp
            && ins.op_count() == 1
            && ins.op0_kind() == OpKind::NearBranch64;
        let nop = ins.mnemonic() == Mnemonic::Nop && ins.op_count() == 0;
        if jump {
            ip = ins.near_branch_target() as usize;
        } else if nop {
            ip = ins.next_ip() as usize;
        } else {
            return Err(format!("from {start}: at {ip}: {}", text(&ins)));
        }
    }
    Ok(n)
}

/// A hole's first instruction: `#UD`, or a write to `[rax]` / `[rax-21]`
/// (the page is never writable). Returns the fault address relative to
/// rax (0 or -21), or None for `#UD`.
fn hole_fault(p: &[u8], at: usize) -> Result<Option<i64>, String> {
    let ins = decode_at(p, at);
    if ins.code() == Code::INVALID {
        return Ok(None);
    }
    let disp = ins.memory_displacement64() as i64;
    if ins.mnemonic() == Mnemonic::Add
        && ins.op0_kind() == OpKind::Memory
        && ins.memory_base() == Register::RAX
        && ins.memory_index() == Register::None
        && ins.segment_prefix() == Register::None
        && (disp == 0 || disp == -21)
    {
        return Ok(Some(disp));
    }
    Err(format!("hole {at}: {}", text(&ins)))
}

#[test]
fn layout_is_cells_tail_stub() {
    let p = page(0x1122_3344_5566_7788);
    assert_eq!(SLED_LEN, STUB_OFFSET);
    assert_eq!(STUB_END, PAGE);
    assert_eq!(
        &p[HOOK_IMM_OFFSET..HOOK_IMM_OFFSET + 8],
        &0x1122_3344_5566_7788u64.to_le_bytes()
    );
    let mut d = Decoder::with_ip(64, &p[STUB_OFFSET..STUB_END], 0, DecoderOptions::NONE);
    let mut got = Vec::new();
    while d.can_decode() {
        got.push(text(&d.decode()));
    }
    assert_eq!(
        got,
        ["mov rcx,[rsp]", "mov r11,0x1122334455667788", "jmp r11"]
    );
    // Cells: a jump and a nop, or a station.
    for at in (0..TAIL).step_by(CELL) {
        let c = &p[at..at + CELL];
        if at == ENTRY_STATION {
            assert_eq!(c, [0xe9, 0x4b, 0x07, 0x00, 0x00, 0x48, 0xeb, 0x48]);
        } else if at == MID_STATION {
            assert_eq!(c, [0xe9, 0x4a, 0x06, 0x00, 0x00, 0x48, 0xeb, 0x48]);
        } else {
            assert_eq!(c[0], 0xeb, "cell {at}");
            assert_eq!(c[2..], [0x66, 0x66, 0x66, 0x66, 0x66, 0x90], "cell {at}");
        }
    }
    assert_eq!(p[0..2], [0xeb, 0x66]);
    assert_eq!(p[ENTRY_STATION - 40..ENTRY_STATION - 38], [0xeb, 0x26]);
    assert_eq!(p[MID_STATION - 136..MID_STATION - 134], [0xeb, 0x4e]);
    assert_eq!(p[TAIL - 8..TAIL - 6], [0xeb, 0x65]);
    assert_eq!(FUNNEL.len(), 17);
    assert!(p[TAIL..STUB_OFFSET].iter().enumerate().all(|(i, &b)| b
        == if (i + 1) % CELL == 0 || i == STUB_OFFSET - TAIL - 1 {
            0x90
        } else {
            0x66
        }));
}

#[test]
fn every_offset_decodes_to_the_stub() {
    let p = page(0x7fff_dead_beef);
    let (mut fast_max, mut all_max, mut holes) = (0, 0, Vec::new());
    let mut hist = [0usize; 64];
    for at in 0..STUB_OFFSET {
        match walk(&p, at) {
            Ok(n) => {
                assert!(at < FAST_LEN || n <= ALL_MAX_INSNS, "offset {at}: {n}");
                if at < FAST_LEN {
                    fast_max = fast_max.max(n);
                    hist[n] += 1;
                }
                all_max = all_max.max(n);
            }
            Err(e) => {
                assert!(HOLES.contains(&at), "{e}");
                let fault = hole_fault(&p, at).unwrap_or_else(|e| panic!("{e}"));
                // Bytes 1 and 2 of a station are #UD, 3 and 4 writes.
                let station = if at > MID_STATION {
                    MID_STATION
                } else {
                    ENTRY_STATION
                };
                let expect = match at - station {
                    1 | 2 => None,
                    3 => Some(0),
                    _ => Some(-21),
                };
                assert_eq!(fault, expect, "hole {at}");
                holes.push(at);
            }
        }
    }
    assert_eq!(holes, HOLES);
    assert!(HOLES.iter().all(|&h| h >= FAST_LEN));
    assert_eq!(fast_max, FAST_MAX_INSNS);
    assert_eq!(all_max, ALL_MAX_INSNS);
    eprintln!(
        "instructions to the stub, offsets below {FAST_LEN}: {:?}",
        &hist[..=fast_max]
    );
    eprintln!("most instructions: below {FAST_LEN} {fast_max}, any offset {all_max}");
    for nr in [0, 1, 39, 231, 450, 511] {
        eprintln!("syscall {nr}: {:?} instructions", walk(&p, nr));
    }
}

// The hook of the old test: returns rax (what the sled was entered with) +
// 1000 * (rcx == return address), and stores rdi/r10 for the test.
std::arch::global_asm!(
    ".globl zp_hook",
    "zp_hook:",
    "mov [rip + zp_seen_rdi], rdi",
    "mov [rip + zp_seen_r10], r10",
    "cmp rcx, [rsp]",
    "jne 1f",
    "add rax, 1000",
    "1: ret",
    ".data",
    ".globl zp_seen_rdi",
    "zp_seen_rdi: .quad 0",
    ".globl zp_seen_r10",
    "zp_seen_r10: .quad 0",
    ".text",
);

extern "C" {
    fn zp_hook();
    static zp_seen_rdi: u64;
    static zp_seen_r10: u64;
}

#[test]
fn call_into_the_sled_reaches_the_hook_like_a_syscall() {
    let p = page(zp_hook as *const () as u64);
    let exec = ExecPage::new(|m| m.copy_from_slice(&p));
    let base = exec.addr(0) as *mut libc::c_void;
    for nr in [0u64, 1, 39, 231, 511, 4078] {
        let entry = base as u64 + nr;
        let ret: u64;
        // SAFETY: `entry` is a sled offset, not a hole; the hook follows the
        // C ABI for the registers it touches (rax, rcx, r11) and returns.
        unsafe {
            std::arch::asm!(
                "call rax",
                inout("rax") entry => ret,
                in("rdi") 0xaa,
                in("r10") 0xbb,
                out("rcx") _,
                out("r11") _,
            );
        }
        assert_eq!(ret, entry + 1000, "nr {nr}");
        // SAFETY: plain reads of statics written by the hook.
        unsafe {
            assert_eq!(std::ptr::read_volatile(&raw const zp_seen_rdi), 0xaa);
            assert_eq!(std::ptr::read_volatile(&raw const zp_seen_r10), 0xbb);
        }
    }
}

// Register fingerprint harness. `zp_fp_call(block)`: loads rax (the entry
// address), every other GPR but rsp and rflags from `block[0..16]` (order
// below), calls rax, and returns. The hook `zp_fp_land` stores every GPR,
// rflags, rsp and [rsp] into `zp_fp_seen[0..18]`, then returns. A fault
// handler resumes at `zp_fp_back` with rsp = `zp_fp_rsp`.
// Block order: rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15
// rflags, then (seen only) rsp, [rsp].
std::arch::global_asm!(
    ".globl zp_fp_call",
    "zp_fp_call:",
    "push rbx",
    "push rbp",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "push qword ptr [rdi + 120]",
    "popfq",
    "mov rax, [rdi + 0]",
    "mov rbx, [rdi + 8]",
    "mov rcx, [rdi + 16]",
    "mov rdx, [rdi + 24]",
    "mov rsi, [rdi + 32]",
    "mov rbp, [rdi + 48]",
    "mov r8, [rdi + 56]",
    "mov r9, [rdi + 64]",
    "mov r10, [rdi + 72]",
    "mov r11, [rdi + 80]",
    "mov r12, [rdi + 88]",
    "mov r13, [rdi + 96]",
    "mov r14, [rdi + 104]",
    "mov r15, [rdi + 112]",
    "mov [rip + zp_fp_rsp], rsp",
    "mov rdi, [rdi + 40]",
    "call rax",
    ".globl zp_fp_back",
    "zp_fp_back:",
    "cld",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbp",
    "pop rbx",
    "ret",
    ".globl zp_fp_land",
    "zp_fp_land:",
    "pushfq",
    "pop qword ptr [rip + zp_fp_seen + 120]",
    "mov [rip + zp_fp_seen + 0], rax",
    "mov [rip + zp_fp_seen + 8], rbx",
    "mov [rip + zp_fp_seen + 16], rcx",
    "mov [rip + zp_fp_seen + 24], rdx",
    "mov [rip + zp_fp_seen + 32], rsi",
    "mov [rip + zp_fp_seen + 40], rdi",
    "mov [rip + zp_fp_seen + 48], rbp",
    "mov [rip + zp_fp_seen + 56], r8",
    "mov [rip + zp_fp_seen + 64], r9",
    "mov [rip + zp_fp_seen + 72], r10",
    "mov [rip + zp_fp_seen + 80], r11",
    "mov [rip + zp_fp_seen + 88], r12",
    "mov [rip + zp_fp_seen + 96], r13",
    "mov [rip + zp_fp_seen + 104], r14",
    "mov [rip + zp_fp_seen + 112], r15",
    "mov [rip + zp_fp_seen + 128], rsp",
    "mov rax, [rsp]",
    "mov [rip + zp_fp_seen + 136], rax",
    "ret",
    ".data",
    ".balign 8",
    ".globl zp_fp_seen",
    "zp_fp_seen: .fill 18, 8, 0",
    ".globl zp_fp_rsp",
    "zp_fp_rsp: .quad 0",
    ".text",
);

extern "C" {
    fn zp_fp_call(block: *const u64);
    fn zp_fp_land();
    fn zp_fp_back();
    static mut zp_fp_seen: [u64; 18];
    static zp_fp_rsp: u64;
}

/// What the fault handler saw: signal, si_addr, the interrupted GPRs and
/// rflags in block order (rsp, rip last).
static FAULT: [AtomicU64; 20] = [const { AtomicU64::new(0) }; 20];

extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    use libc::*;
    // SAFETY: the kernel passes a valid siginfo and ucontext to an
    // SA_SIGINFO handler; we only read them and rewrite rip/rsp.
    unsafe {
        let uc = &mut *(ctx as *mut ucontext_t);
        let g = &mut uc.uc_mcontext.gregs;
        let order = [
            REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_R8, REG_R9, REG_R10,
            REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_EFL, REG_RSP, REG_RIP,
        ];
        FAULT[0].store(sig as u64, Ordering::Relaxed);
        FAULT[1].store((*info).si_addr() as u64, Ordering::Relaxed);
        for (i, r) in order.iter().enumerate() {
            FAULT[2 + i].store(g[*r as usize] as u64, Ordering::Relaxed);
        }
        // Resume after the `call rax`, as if the hook had returned.
        g[REG_RIP as usize] = zp_fp_back as *const () as i64;
        g[REG_RSP as usize] = std::ptr::read_volatile(&raw const zp_fp_rsp) as i64;
    }
}

/// Arithmetic flags and DF: what the test sets and compares.
const FLAGS: u64 = 0xcd5;

#[test]
fn every_offset_runs_to_the_hook_or_faults_cleanly() {
    let p = page(zp_fp_land as *const () as u64);
    let exec = ExecPage::new(|m| m.copy_from_slice(&p));
    let base = exec.addr(0) as u64;
    // SAFETY: installing SA_SIGINFO handlers for SIGSEGV and SIGILL; the
    // handler only stores into atomics and redirects the faulting context.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_fault as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut()), 0);
        assert_eq!(libc::sigaction(libc::SIGILL, &sa, std::ptr::null_mut()), 0);
    }
    let mut faults = Vec::new();
    for at in 0..STUB_OFFSET {
        let entry = base + at as u64;
        let mut block = [0u64; 16];
        for (i, v) in block.iter_mut().enumerate() {
            *v = 0x5a5a_0000_0000_0000 ^ ((i as u64) << 40) ^ (at as u64 * 0x1_0001);
        }
        block[0] = entry;
        // Alternate arithmetic flags and DF with the offset; bit 1 is always 1.
        block[15] = 0x2 | (FLAGS & (at as u64).wrapping_mul(0x9e37_79b9));
        // SAFETY: zeroing the hook's record before the call; only this test
        // uses it.
        unsafe { std::ptr::write_volatile(&raw mut zp_fp_seen, [0; 18]) };
        FAULT[0].store(0, Ordering::Relaxed);
        // SAFETY: `entry` is inside the R-X page; the code there either
        // reaches `zp_fp_land` (which returns to `zp_fp_call`) or faults,
        // and `on_fault` resumes at `zp_fp_back` with the saved rsp.
        unsafe { zp_fp_call(block.as_ptr()) };
        // SAFETY: read of the static written by the hook.
        let seen = unsafe { std::ptr::read_volatile(&raw const zp_fp_seen) };
        let sig = FAULT[0].load(Ordering::Relaxed);
        if sig != 0 {
            let f: Vec<u64> = FAULT.iter().map(|a| a.load(Ordering::Relaxed)).collect();
            // No state change: every GPR as loaded, the flags too.
            for i in 0..15 {
                assert_eq!(f[2 + i], block[i], "offset {at}: register {i} at the fault");
            }
            assert_eq!(f[17] & FLAGS, block[15] & FLAGS, "offset {at}: flags");
            faults.push((
                at,
                sig as i32,
                f[1].wrapping_sub(base),
                f[19].wrapping_sub(base),
            ));
            continue;
        }
        assert_ne!(seen[17], 0, "offset {at}: the hook did not run");
        // rax as entered, rcx = return address = [rsp], r11 = the hook.
        for i in [0, 1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14] {
            assert_eq!(seen[i], block[i], "offset {at}: register {i}");
        }
        assert_eq!(seen[2], seen[17], "offset {at}: rcx != return address");
        assert_eq!(seen[17], zp_fp_back as *const () as u64);
        assert_eq!(seen[10], zp_fp_land as *const () as u64, "offset {at}: r11");
        assert_eq!(seen[15] & FLAGS, block[15] & FLAGS, "offset {at}: flags");
        // SAFETY: read of the static written by `zp_fp_call`.
        let rsp = unsafe { std::ptr::read_volatile(&raw const zp_fp_rsp) };
        assert_eq!(seen[16], rsp - 8, "offset {at}: rsp");
    }
    // The holes, and how each faults: SIGILL at the hole (#UD), SIGSEGV at
    // rax (`add [rax], al`) or rax-21 (`add [rax-0x15], cl`).
    let (ill, segv) = (libc::SIGILL, libc::SIGSEGV);
    let mut expect = Vec::new();
    for s in [ENTRY_STATION, MID_STATION] {
        let s = s as u64;
        expect.push((s as usize + 1, ill, s + 1, s + 1));
        expect.push((s as usize + 2, ill, s + 2, s + 2));
        expect.push((s as usize + 3, segv, s + 3, s + 3));
        expect.push((s as usize + 4, segv, s + 4 - 21, s + 4));
    }
    assert_eq!(faults, expect);
    // SAFETY: restoring the default dispositions.
    unsafe {
        libc::signal(libc::SIGSEGV, libc::SIG_DFL);
        libc::signal(libc::SIGILL, libc::SIG_DFL);
    }
}

#[test]
fn c_header_matches_the_page() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = dir.join("zpoline_probe.c");
    let exe = dir.join("zpoline_probe");
    std::fs::write(
        &src,
        r#"#include <stdio.h>
#include <stddef.h>
#include <linux/zpoline.h>
int main(void)
{
	printf("%d %d %d %lu %lu %lu\n", ZPOLINE_FAST_LEN, ZPOLINE_STUB_OFFSET,
	       ZPOLINE_SLED_LEN, sizeof(struct zpoline_cfg),
	       offsetof(struct zpoline_cfg, sled_len),
	       (unsigned long)ZPOLINE_IOC_INSTALL);
	return 0;
}
"#,
    )
    .unwrap();
    let inc = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/uapi");
    let st = std::process::Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg("-I")
        .arg(&inc)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("run the C compiler");
    assert!(st.success());
    let out = std::process::Command::new(&exe).output().unwrap();
    let got: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    use trampfd_hosttest::uapi;
    assert_eq!(
        got,
        [
            FAST_LEN as u64,
            STUB_OFFSET as u64,
            SLED_LEN as u64,
            uapi::ZPOLINE_CFG_SIZE as u64,
            16,
            uapi::ZPOLINE_IOC_INSTALL as u64
        ]
    );
    assert_eq!(uapi::ZPOLINE_FAST_LEN, FAST_LEN);
    assert_eq!(uapi::ZPOLINE_STUB_OFFSET, STUB_OFFSET);
}
