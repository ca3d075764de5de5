// SPDX-License-Identifier: GPL-2.0

//! The x86-64 zpoline page, installed at virtual address 0.
//!
//! A `syscall` (0f 05) rewritten to `call *%rax` (ff d0) calls address
//! `%rax`, the syscall number. The page makes every such address land in a
//! nop sled that slides into a stub, which jumps to the process's hook:
//!
//! ```text
//! offset       bytes                 instruction
//! 0 .. 511     90 ... 90             nop (one per syscall number 0..511)
//! 512          48 8b 0c 24           mov    rcx, [rsp]   ; rcx = return address,
//!                                                         ;  as syscall sets it
//! 516          49 bb <imm64>         movabs r11, hook     ; written by the kernel
//! 526          41 ff e3              jmp    r11
//! 529 .. 4095  cc ... cc             int3: everything else traps
//! ```
//!
//! The hook runs with the syscall number in `rax`, the arguments in `rdi`,
//! `rsi`, `rdx`, `r10`, `r8`, `r9` exactly as the `syscall` instruction
//! would have seen them, the return address at `[rsp]` and in `rcx`; it
//! clobbers only `rcx` and `r11`, which `syscall` clobbers too. The hook
//! returns with `ret`, the result in `rax`. The hook address is an
//! instruction immediate, so the stub needs no data read from the page and
//! works when the page is execute-only.

/// Number of sled entries: syscall numbers `0..SLED_LEN` reach the stub.
/// x86-64 has fewer than 512 syscalls; larger `%rax` values (x32's bit 30,
/// unknown numbers) call outside the page and fault, which the hook library
/// must avoid by not rewriting such sites.
pub const SLED_LEN: usize = 512;
/// Offset of the stub.
pub const STUB_OFFSET: usize = SLED_LEN;
/// Offset of the 8-byte hook address inside the stub's `movabs`.
pub const HOOK_IMM_OFFSET: usize = STUB_OFFSET + 6;
/// First byte after the stub.
pub const STUB_END: usize = STUB_OFFSET + 17;

/// `nop`.
const NOP: u8 = 0x90;
/// `int3`.
const INT3: u8 = 0xcc;

/// Writes the page for `hook` through `put(offset, bytes)`; `page_size`
/// must be at least [`STUB_END`].
pub fn render_page(page_size: usize, hook: u64, mut put: impl FnMut(usize, &[u8])) {
    let sled = [NOP; 64];
    let mut at = 0;
    while at < SLED_LEN {
        put(at, &sled);
        at += sled.len();
    }
    let mut stub = [0u8; STUB_END - STUB_OFFSET];
    // mov rcx, [rsp]: REX.W 8B /r, ModRM 00 001 100 (rcx, SIB), SIB 00 100 100 (rsp).
    stub[0..4].copy_from_slice(&[0x48, 0x8b, 0x0c, 0x24]);
    // movabs r11, imm64: REX.W+B, B8+3.
    stub[4] = 0x49;
    stub[5] = 0xbb;
    stub[6..14].copy_from_slice(&hook.to_le_bytes());
    // jmp r11: REX.B, FF /4, ModRM 11 100 011.
    stub[14..17].copy_from_slice(&[0x41, 0xff, 0xe3]);
    put(STUB_OFFSET, &stub);
    let traps = [INT3; 64];
    let mut at = STUB_END;
    while at < page_size {
        let n = core::cmp::min(traps.len(), page_size - at);
        put(at, &traps[..n]);
        at += n;
    }
}
