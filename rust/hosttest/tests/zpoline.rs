// SPDX-License-Identifier: GPL-2.0

//! The zpoline page: decode it, then run it (at a non-zero base: the code is
//! position independent, only the sled index changes meaning).

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};
use trampfd_hosttest::arch::zpoline::{render_page, HOOK_IMM_OFFSET, SLED_LEN, STUB_END};
use trampfd_hosttest::exec::ExecPage;

const PAGE: usize = 4096;

fn page(hook: u64) -> Vec<u8> {
    let mut p = vec![0u8; PAGE];
    render_page(PAGE, hook, |at, b| p[at..at + b.len()].copy_from_slice(b));
    p
}

#[test]
fn layout_is_sled_stub_traps() {
    let p = page(0x1122_3344_5566_7788);
    assert!(p[..SLED_LEN].iter().all(|&b| b == 0x90));
    assert!(p[STUB_END..].iter().all(|&b| b == 0xcc));
    assert_eq!(
        &p[HOOK_IMM_OFFSET..HOOK_IMM_OFFSET + 8],
        &0x1122_3344_5566_7788u64.to_le_bytes()
    );
    let mut d = Decoder::with_ip(64, &p[SLED_LEN..STUB_END], 0, DecoderOptions::NONE);
    let mut f = IntelFormatter::new();
    f.options_mut().set_hex_prefix("0x");
    f.options_mut().set_hex_suffix("");
    f.options_mut().set_uppercase_hex(false);
    let mut ins = Instruction::default();
    let mut got = Vec::new();
    while d.can_decode() {
        d.decode_out(&mut ins);
        let mut s = String::new();
        f.format(&ins, &mut s);
        got.push(s);
    }
    assert_eq!(
        got,
        ["mov rcx,[rsp]", "mov r11,0x1122334455667788", "jmp r11"]
    );
}

// The hook: returns rax (what the sled was entered with) + 1000 * (rcx ==
// return address), and stores rdi/r10 for the test to inspect.
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
    for nr in [0u64, 1, 39, 231, 511] {
        let entry = base as u64 + nr;
        let ret: u64;
        // SAFETY: `entry` is inside the sled; the hook follows the C ABI
        // for the registers it touches (rax, rcx, r11) and returns.
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
