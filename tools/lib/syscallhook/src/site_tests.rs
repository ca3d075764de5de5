// SPDX-License-Identifier: GPL-2.0

//! Host tests of the site verdict: hand-assembled functions, and the real
//! libc of the test process (bounds from its `.eh_frame_hdr`).

use super::*;
use crate::bounds;

/// Verdict on the first `syscall` in `code`, a function placed at `BASE`.
const BASE: u64 = 0x40_1000;

fn verdict(code: &[u8]) -> Result<u64, Refusal> {
    let at = code
        .windows(2)
        .position(|w| w == [0x0f, 0x05])
        .expect("a syscall in the test code");
    analyse(code, BASE, BASE + at as u64, &mut [0; FLOW_WORDS])
}

#[test]
fn constant_rax_is_rewritten() {
    // mov $39,%eax; syscall; ret
    assert_eq!(verdict(&[0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3]), Ok(39));
    // xor %eax,%eax; mov %rdi,%rsi (no rax write); syscall; ret
    assert_eq!(
        verdict(&[0x31, 0xc0, 0x48, 0x89, 0xfe, 0x0f, 0x05, 0xc3]),
        Ok(0)
    );
    // mov $231,%rax (REX.W c7 /0); syscall
    assert_eq!(
        verdict(&[0x48, 0xc7, 0xc0, 231, 0, 0, 0, 0x0f, 0x05, 0xc3]),
        Ok(231)
    );
    // endbr64; mov $1,%eax; mov %ecx,%r10d; cmp $0,%eax? no: test %edi,%edi;
    // jne out (forward, past the site); syscall; out: ret
    assert_eq!(
        verdict(&[
            0xf3, 0x0f, 0x1e, 0xfa, 0xb8, 1, 0, 0, 0, 0x41, 0x89, 0xca, 0x85, 0xff, 0x75, 0x02,
            0x0f, 0x05, 0xc3
        ]),
        Ok(1)
    );
}

#[test]
fn rax_from_a_register_or_memory_is_refused() {
    // glibc's syscall(): mov %rdi,%rax; mov %rsi,%rdi; ... mov 8(%rsp),%r9; syscall
    let wrapper = [
        0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x48, 0x89, 0xd6, 0x48, 0x89, 0xca, 0x4d, 0x89, 0xc2,
        0x4d, 0x89, 0xc8, 0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&wrapper), Err(Refusal::RaxUnknown));
    // Go style: mov 0x8(%rsp),%rax; syscall
    assert_eq!(
        verdict(&[0x48, 0x8b, 0x44, 0x24, 0x08, 0x0f, 0x05, 0xc3]),
        Err(Refusal::RaxUnknown)
    );
    // mov $39,%eax; cpuid (writes eax); syscall
    assert_eq!(
        verdict(&[0xb8, 39, 0, 0, 0, 0x0f, 0xa2, 0x0f, 0x05, 0xc3]),
        Err(Refusal::RaxUnknown)
    );
    // mov $39,%eax; mov $1,%al; syscall
    assert_eq!(
        verdict(&[0xb8, 39, 0, 0, 0, 0xb0, 1, 0x0f, 0x05, 0xc3]),
        Err(Refusal::RaxUnknown)
    );
    // mov $39,%eax; call next; syscall (the callee returns in rax)
    assert_eq!(
        verdict(&[0xb8, 39, 0, 0, 0, 0xe8, 0, 0, 0, 0, 0x0f, 0x05, 0xc3]),
        Err(Refusal::RaxUnknown)
    );
}

#[test]
fn rax_out_of_range_is_refused() {
    // mov $600,%eax; syscall
    assert_eq!(
        verdict(&[0xb8, 0x58, 0x02, 0, 0, 0x0f, 0x05, 0xc3]),
        Err(Refusal::RaxRange)
    );
    // mov $-1,%rax; syscall
    assert_eq!(
        verdict(&[0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x05, 0xc3]),
        Err(Refusal::RaxRange)
    );
    // mov $511,%eax is the last one allowed
    assert_eq!(
        verdict(&[0xb8, 0xff, 0x01, 0, 0, 0x0f, 0x05, 0xc3]),
        Ok(511)
    );
}

#[test]
fn branch_into_the_window_is_refused() {
    // test %edi,%edi; jne site; mov $39,%eax; xchg %ax,%ax; site: syscall; ret
    let code = [
        0x85, 0xff, 0x75, 0x07, 0xb8, 39, 0, 0, 0, 0x66, 0x90, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::BranchTarget));
    // the same jumping to the nop between the mov and the site
    let code = [
        0x85, 0xff, 0x75, 0x05, 0xb8, 39, 0, 0, 0, 0x66, 0x90, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::BranchTarget));
    // jumping to the mov itself is fine: it runs
    let code = [
        0x85, 0xff, 0x75, 0x00, 0xb8, 39, 0, 0, 0, 0x66, 0x90, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&code), Ok(39));
    // a backward jump from after the site into the window
    let code = [
        0xb8, 39, 0, 0, 0, 0x90, 0x0f, 0x05, 0x85, 0xc0, 0x75, 0xf9, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::BranchTarget));
}

#[test]
fn jump_table_is_refused() {
    // mov $39,%eax; syscall; jmp *%rcx
    assert_eq!(
        verdict(&[0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xff, 0xe1]),
        Err(Refusal::IndirectJump)
    );
    // a tail call through a GOT slot is not a jump table: jmp *0x10(%rip)
    assert_eq!(
        verdict(&[0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xff, 0x25, 0x10, 0, 0, 0]),
        Ok(39)
    );
}

#[test]
fn red_zone_leaf_is_refused() {
    // The tcgetattr of zpoline's issue 1: a leaf keeping its buffer below
    // rsp across the syscall.
    // mov %rsi,%r8; mov $0x5401,%esi; lea -0x38(%rsp),%rdx; mov $16,%eax;
    // syscall; mov -0x38(%rsp),%eax; ret
    let code = [
        0x49, 0x89, 0xf0, 0xbe, 0x01, 0x54, 0, 0, 0x48, 0x8d, 0x54, 0x24, 0xc8, 0xb8, 16, 0, 0, 0,
        0x0f, 0x05, 0x8b, 0x44, 0x24, 0xc8, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
    // mov %rdi,-0x38(%rsp); mov $16,%eax; syscall; ret
    let code = [
        0x48, 0x89, 0x7c, 0x24, 0xc8, 0xb8, 16, 0, 0, 0, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
    // a copy of rsp moved down: mov %rsp,%rsi; sub $0x10,%rsi; mov $0,%eax; syscall
    let code = [
        0x48, 0x89, 0xe6, 0x48, 0x83, 0xee, 0x10, 0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
    // the same copy used with a negative displacement: mov %rsp,%rsi; mov %eax,-8(%rsi)
    let code = [
        0x48, 0x89, 0xe6, 0x89, 0x46, 0xf8, 0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
    // a buffer above rsp passed to the kernel is fine:
    // sub $0x40,%rsp; lea 0x10(%rsp),%rsi; mov $4,%eax; syscall; add $0x40,%rsp; ret
    let code = [
        0x48, 0x83, 0xec, 0x40, 0x48, 0x8d, 0x74, 0x24, 0x10, 0xb8, 4, 0, 0, 0, 0x0f, 0x05, 0x48,
        0x83, 0xc4, 0x40, 0xc3,
    ];
    assert_eq!(verdict(&code), Ok(4));
}

#[test]
fn frame_pointer_equal_to_rsp_is_refused() {
    // push %rbp; mov %rsp,%rbp; mov %rdi,-0x8(%rbp); mov $39,%eax; syscall;
    // pop %rbp; ret
    let code = [
        0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0x7d, 0xf8, 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x5d, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
}

#[test]
fn normal_frame_is_rewritten() {
    // push %rbp; mov %rsp,%rbp; sub $0x10,%rsp; mov %rdi,-0x8(%rbp);
    // mov $39,%eax; syscall; leave; ret
    let code = [
        0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10, 0x48, 0x89, 0x7d, 0xf8, 0xb8, 39, 0, 0, 0,
        0x0f, 0x05, 0xc9, 0xc3,
    ];
    assert_eq!(verdict(&code), Ok(39));
    // ... but a local below what the prologue allocated: mov %rdi,-0x18(%rbp)
    let code = [
        0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10, 0x48, 0x89, 0x7d, 0xe8, 0xb8, 39, 0, 0, 0,
        0x0f, 0x05, 0xc9, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
}

#[test]
fn copy_of_the_frame_pointer_is_a_copy_of_rsp() {
    // Issue 21 item 4: push %rbp; mov %rsp,%rbp; mov %rbp,%rdx;
    // mov %rdi,-0x10(%rdx); mov $39,%eax; syscall; mov -0x10(%rdx),%rax;
    // pop %rbp; ret (the value at rsp-8 after the push is the red zone).
    let code = [
        0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xea, 0x48, 0x89, 0x7a, 0xf0, 0xb8, 39, 0, 0, 0, 0x0f,
        0x05, 0x48, 0x8b, 0x42, 0xf0, 0x5d, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
    // The same through lea -0x8(%rbp),%rdx; mov %rdi,-0x8(%rdx).
    let code = [
        0x55, 0x48, 0x89, 0xe5, 0x48, 0x8d, 0x55, 0xf8, 0x48, 0x89, 0x7a, 0xf8, 0xb8, 39, 0, 0, 0,
        0x0f, 0x05, 0x5d, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
    // And moving the frame pointer itself down: sub $0x20,%rbp;
    // mov %rdi,(%rbp).
    let code = [
        0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xed, 0x20, 0x48, 0x89, 0x7d, 0x00, 0xb8, 39, 0, 0, 0,
        0x0f, 0x05, 0x5d, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RedZone));
    // A copy used at non-negative displacements only is fine: push %rbp;
    // mov %rsp,%rbp; sub $0x10,%rsp; mov %rbp,%rdx; mov %rdi,0x10(%rdx);
    // mov $39,%eax; syscall; leave; ret
    let code = [
        0x55, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xec, 0x10, 0x48, 0x89, 0xea, 0x48, 0x89, 0x7a, 0x10,
        0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc9, 0xc3,
    ];
    assert_eq!(verdict(&code), Ok(39));
}

#[test]
fn decode_must_land_on_the_site() {
    // mov $0x050f,%eax: the "syscall" is inside the immediate
    let code = [0xb8, 0x0f, 0x05, 0, 0, 0xc3];
    assert_eq!(
        analyse(&code, BASE, BASE + 1, &mut [0; FLOW_WORDS]),
        Err(Refusal::Desync)
    );
    // undecodable bytes in the function (data in .text)
    let code = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3, 0x0f, 0x0b, 0x06];
    assert_eq!(
        analyse(&code, BASE, BASE + 5, &mut [0; FLOW_WORDS]),
        Err(Refusal::Desync)
    );
}

#[test]
fn jit_end_runs_past_the_first_ret() {
    // As far as the bytes decode, not the first ret (issue 21 item 5).
    let code = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3, 0xcc];
    assert_eq!(jit_end(&code[5..], BASE + 5), Some(BASE + 9));
    assert_eq!(jit_end(&code[5..7], BASE + 5), None);
    // ... up to the first bytes that are no instruction (06: invalid in
    // 64-bit mode).
    let code = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3, 0x90, 0x06, 0xc3];
    assert_eq!(jit_end(&code[5..], BASE + 5), Some(BASE + 9));
}

/// A JIT function with a slow path after its `ret` that jumps back to the
/// `syscall` with another `%rax`:
///   test %edi,%edi; jnz slow; mov $39,%eax; site: syscall; ret;
///   slow: mov $0x40000000,%eax; jmp site
const JIT_SLOW: [u8; 20] = [
    0x85, 0xff, 0x75, 0x08, 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3, 0xb8, 0, 0, 0, 0x40, 0xeb, 0xf6,
    0xcc,
];

fn jit_verdict(code: &[u8], site: usize, tail: &[u8]) -> Result<u64, Refusal> {
    let end = jit_end(&code[site..], BASE + site as u64).expect("a ret") - BASE;
    let mut all = code[..end as usize].to_vec();
    let mut rest = code[end as usize..].to_vec();
    rest.extend_from_slice(tail);
    all.truncate(end as usize);
    analyse_jit(&all, BASE, BASE + site as u64, &mut [0; FLOW_WORDS], &rest)
}

#[test]
fn jit_slow_path_after_the_ret_is_seen() {
    // Decoded through: the jmp back is a branch into the window.
    assert_eq!(jit_verdict(&JIT_SLOW, 9, &[]), Err(Refusal::BranchTarget));
    // The same slow path behind bytes that do not decode (06), so that
    // the decode stops before it: found by the byte search.
    let mut code = JIT_SLOW[..12].to_vec();
    code.push(0x06);
    code.extend_from_slice(&[0xb8, 0, 0, 0, 0x40, 0xeb, 0xf5]);
    assert_eq!(code[9..11], [0x0f, 0x05]);
    // Target of the jmp: 13 + 5 + 2 - 11 = 9, the site.
    assert_eq!(jit_verdict(&code, 9, &[]), Err(Refusal::BranchTarget));
    // Without the slow path the site is rewritten.
    let mut plain = JIT_SLOW[4..12].to_vec();
    plain.push(0x06);
    assert_eq!(jit_verdict(&plain, 5, &[0; 16]), Ok(39));
    // A jcc rel32 back, far after: 0f 84 rel32.
    let mut code = JIT_SLOW[4..12].to_vec();
    code.push(0x06);
    code.resize(200, 0x06);
    let at = code.len() as i64;
    let rel = (5 - (at + 6)) as i32;
    code.extend_from_slice(&[0x0f, 0x84]);
    code.extend_from_slice(&rel.to_le_bytes());
    assert_eq!(jit_verdict(&code, 5, &[]), Err(Refusal::BranchTarget));
}

extern "C" {
    fn dlsym(
        handle: *mut core::ffi::c_void,
        name: *const core::ffi::c_char,
    ) -> *mut core::ffi::c_void;
    fn dlopen(file: *const core::ffi::c_char, mode: i32) -> *mut core::ffi::c_void;
}

/// `dlopen` modes.
const RTLD_LAZY: i32 = 1;
const RTLD_NOLOAD: i32 = 4;

/// The bounds and the code of the libc function `name` of this process.
fn libc_function(name: &core::ffi::CStr) -> (u64, &'static [u8]) {
    // libc's own definition: this crate exports `syscall` too (entry.rs),
    // which RTLD_DEFAULT would find first in the test binary.
    // SAFETY: C strings; RTLD_NOLOAD only returns the already loaded libc.
    let libc = unsafe { dlopen(c"libc.so.6".as_ptr(), RTLD_LAZY | RTLD_NOLOAD) };
    assert!(!libc.is_null(), "libc.so.6 is loaded");
    // SAFETY: a handle from dlopen and a C string.
    let f = unsafe { dlsym(libc, name.as_ptr()) } as u64;
    assert_ne!(f, 0, "{name:?} not found");
    let obj = bounds::find_object(f).expect("libc is a loaded object");
    assert_ne!(obj.eh_frame_hdr, 0, "libc has a .eh_frame_hdr");
    let (b, e) = bounds::function_bounds(&obj, f).expect("an FDE covers the function");
    assert!(
        b <= f && f < e && e - b < 1 << 16,
        "{name:?}: {b:#x}..{e:#x}, {f:#x}"
    );
    // SAFETY: [b, e) is libc code, mapped readable.
    (b, unsafe {
        core::slice::from_raw_parts(b as *const u8, (e - b) as usize)
    })
}

/// Verdicts on every syscall of one libc function.
fn libc_verdicts(name: &core::ffi::CStr) -> Vec<Result<u64, Refusal>> {
    let (b, code) = libc_function(name);
    let mut v = Vec::new();
    for_each_syscall(code, b, |s| {
        v.push(analyse(code, b, s, &mut vec![0; FLOW_WORDS]))
    });
    assert!(!v.is_empty(), "{name:?} has a syscall");
    v
}

#[test]
fn real_libc_getpid_is_rewritten() {
    assert_eq!(libc_verdicts(c"getpid"), vec![Ok(39)]);
    assert_eq!(libc_verdicts(c"__getpid"), vec![Ok(39)]);
    assert!(libc_verdicts(c"read").iter().all(|v| *v == Ok(0)));
}

#[test]
fn real_libc_syscall_wrapper_is_refused() {
    assert_eq!(libc_verdicts(c"syscall"), vec![Err(Refusal::RaxUnknown)]);
}

/// Whether the function `code` at `b` touches memory below rsp directly.
fn uses_red_zone(code: &[u8], b: u64) -> bool {
    let mut d = Decoder::try_with_ip(64, code, b, DecoderOptions::NONE).expect("decoder");
    let mut ins = Instruction::default();
    while d.can_decode() {
        d.decode_out(&mut ins);
        if has_memory_operand(&ins)
            && ins.memory_base() == Register::RSP
            && (ins.memory_displacement64() as i64) < 0
        {
            return true;
        }
    }
    false
}

#[test]
fn real_libc_tcgetattr_verdict_follows_its_frame() {
    // glibc builds differ: zpoline's issue 1 met a tcgetattr that keeps its
    // termios buffer at -0x38(%rsp) (red zone); Debian 12's 2.36 allocates
    // it with sub $0x38,%rsp.  The verdict must follow the code.
    let (b, code) = libc_function(c"tcgetattr");
    let v = libc_verdicts(c"tcgetattr");
    if uses_red_zone(code, b) {
        assert_eq!(v, vec![Err(Refusal::RedZone)]);
    } else {
        assert_eq!(v, vec![Ok(16)]);
    }
}

#[test]
fn real_libc_every_site_gets_a_verdict() {
    // All of libc, function by function, from its .eh_frame_hdr: prints
    // the tally (cargo test -- --nocapture) and checks that most of the
    // wrappers are rewritten.
    let (b, _) = libc_function(c"getpid");
    let obj = bounds::find_object(b).expect("libc");
    let mut tally = [0usize; REFUSALS + 1];
    let mut functions = 0;
    bounds::for_each_function(obj.eh_frame_hdr, obj.map_start, obj.map_end, |b, e| {
        functions += 1;
        // SAFETY: an FDE range of libc's code.
        let code = unsafe { core::slice::from_raw_parts(b as *const u8, (e - b) as usize) };
        for_each_syscall(code, b, |s| {
            // As the library does: the bounds of the site itself (adjacent
            // FDEs merged).
            let (fb, fe) = bounds::function_bounds(&obj, s).expect("bounds");
            // SAFETY: libc code.
            let f = unsafe { core::slice::from_raw_parts(fb as *const u8, (fe - fb) as usize) };
            let v = analyse(f, fb, s, &mut vec![0; FLOW_WORDS]);
            if v != analyse(code, b, s, &mut vec![0; FLOW_WORDS]) {
                println!("  merged FDEs change {:#x}: {v:?}", s - obj.map_start);
            }
            match v {
                Ok(_) => tally[0] += 1,
                Err(r) => tally[1 + r as usize] += 1,
            }
        });
    });
    let total: usize = tally.iter().sum();
    println!(
        "libc: {functions} functions, {total} syscall sites, rewritten {}",
        tally[0]
    );
    for (i, n) in tally[1..].iter().enumerate() {
        if *n != 0 {
            println!("  {}: {n}", REFUSAL_NAMES[i]);
        }
    }
    assert!(functions > 1000 && total > 300);
    assert!(
        tally[0] * 10 >= total * 7,
        "fewer than 70% rewritable: {tally:?}"
    );
}

#[test]
fn real_libc_exit_is_rewritten() {
    // _exit: mov $0xe7,%esi; mov $0x3c,%edx; jmp 1f; 2: mov %edx,%eax;
    // syscall; ...; 1: mov %esi,%eax; syscall (rax copied from registers
    // that hold constants on every path).
    assert_eq!(libc_verdicts(c"_exit"), vec![Ok(60), Ok(231)]);
}

#[test]
fn rax_copied_from_a_register_follows_the_branches() {
    // mov $39,%esi; test %edi,%edi; je 1f; mov $N,%esi; 1: mov %esi,%eax;
    // syscall; ret
    let code = |n: u8| {
        [
            0xbe, 39, 0, 0, 0, 0x85, 0xff, 0x74, 0x05, 0xbe, n, 0, 0, 0, 0x89, 0xf0, 0x0f, 0x05,
            0xc3,
        ]
    };
    assert_eq!(
        verdict(&code(39)),
        Ok(39),
        "the same constant on both paths"
    );
    assert_eq!(
        verdict(&code(40)),
        Err(Refusal::RaxUnknown),
        "two constants"
    );
    // mov %edi,%esi; mov %esi,%eax; syscall: the caller's value
    assert_eq!(
        verdict(&[0x89, 0xfe, 0x89, 0xf0, 0x0f, 0x05, 0xc3]),
        Err(Refusal::RaxUnknown)
    );
}

#[test]
fn real_libc_clone_is_rewritten() {
    // glibc's clone.S ends its first CFI region right before the syscall:
    // the adjacent FDEs make one function.
    // SAFETY: RTLD_DEFAULT and a C string.
    let f = unsafe { dlsym(core::ptr::null_mut(), c"clone".as_ptr()) } as u64;
    let obj = bounds::find_object(f).expect("libc");
    let (_, first_end) = bounds::function_bounds(&obj, f).expect("an FDE");
    // The first syscall right at or after the end of clone's first FDE.
    // SAFETY: libc code.
    let bytes = unsafe { core::slice::from_raw_parts(f as *const u8, 0x50) };
    let mut v = Vec::new();
    for_each_syscall(bytes, f, |s| {
        let (b, e) = bounds::function_bounds(&obj, s).expect("an FDE covers the site");
        // SAFETY: libc code.
        let code = unsafe { core::slice::from_raw_parts(b as *const u8, (e - b) as usize) };
        v.push(analyse(code, b, s, &mut vec![0; FLOW_WORDS]));
    });
    assert!(first_end <= f + 0x40);
    assert_eq!(v, vec![Ok(56), Ok(60)]);
}

#[test]
fn no_straight_line_after_a_jump() {
    // mov $39,%eax; ret; syscall (reached only from elsewhere)
    assert_eq!(
        verdict(&[0xb8, 39, 0, 0, 0, 0xc3, 0x0f, 0x05, 0xc3]),
        Err(Refusal::RaxUnknown)
    );
}

extern "C" {
    fn sigaction(sig: i32, act: *const u8, old: *mut u8) -> i32;
}

#[test]
fn real_libc_restore_rt_is_rewritten() {
    // glibc's __restore_rt (the sa_restorer it installs): mov $15,%rax;
    // syscall, under an FDE of a signal frame ('S') that starts one byte
    // before the code.
    let mut act = [0u8; 152]; // struct sigaction: handler, mask, flags, restorer
    let mut old = [0u8; 152];
    act[..8].copy_from_slice(&1usize.to_ne_bytes()); // SIG_IGN
                                                     // SAFETY: two struct sigaction buffers (152 bytes on x86-64).
    unsafe {
        assert_eq!(sigaction(10, act.as_ptr(), old.as_mut_ptr()), 0);
        assert_eq!(sigaction(10, old.as_ptr(), act.as_mut_ptr()), 0);
    }
    let restorer = u64::from_ne_bytes(act[144..152].try_into().expect("8 bytes"));
    assert_ne!(restorer, 0);
    let obj = bounds::find_object(restorer).expect("libc");
    let (b, e) = bounds::function_bounds(&obj, restorer + 7).expect("an FDE");
    assert_eq!(
        b, restorer,
        "the FDE's extra byte before the code is skipped"
    );
    // SAFETY: libc code.
    let code = unsafe { core::slice::from_raw_parts(b as *const u8, (e - b) as usize) };
    assert_eq!(
        analyse(code, b, restorer + 7, &mut vec![0; FLOW_WORDS]),
        Ok(15)
    );
}

#[test]
fn real_libc_red_zone_leaf_is_refused() {
    // __longjmp_chk passes sigaltstack() a buffer at -0x18(%rsp), in the red
    // zone, and reads it back after the syscall: a call there would
    // overwrite it.  (Debian 12's tcgetattr, the function of zpoline's
    // issue 1, allocates its frame: see the test above.)
    // The syscalls are in the internal ____longjmp_chk right after it.
    // SAFETY: RTLD_DEFAULT and a C string.
    let f = unsafe { dlsym(core::ptr::null_mut(), c"__longjmp_chk".as_ptr()) } as u64;
    assert_ne!(f, 0);
    let obj = bounds::find_object(f).expect("libc");
    let mut v = Vec::new();
    // SAFETY: libc code.
    let bytes = unsafe { core::slice::from_raw_parts(f as *const u8, 0x100) };
    for (i, w) in bytes.windows(2).enumerate() {
        let s = f + i as u64;
        if w != [0x0f, 0x05] {
            continue;
        }
        if let Some((b, e)) = bounds::function_bounds(&obj, s) {
            // SAFETY: libc code.
            let code = unsafe { core::slice::from_raw_parts(b as *const u8, (e - b) as usize) };
            v.push(analyse(code, b, s, &mut vec![0; FLOW_WORDS]));
        }
    }
    assert!(v.contains(&Err(Refusal::RedZone)), "{v:?}");
}

#[test]
fn int_falls_through() {
    // mov $60,%esi; jmp 1f; 2: mov $39,%esi; int $0x80; 1: mov %esi,%eax;
    // syscall; ret; jmp 2b (a path through the int)
    // Layout: 0 mov(5) 5 jmp 1f(2) 7 mov(5) 12 int(2) 14 mov(2) 16 syscall
    let code = [
        0xbe, 60, 0, 0, 0, 0xeb, 0x07, 0xbe, 39, 0, 0, 0, 0xcd, 0x80, 0x89, 0xf0, 0x0f, 0x05, 0xc3,
        0xeb, 0xec,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RaxUnknown), "39 or 60");
}

#[test]
fn code_after_a_jump_may_be_entered_from_outside() {
    // mov $60,%esi; jmp 1f; mov %edi,%esi (no branch here reaches it: a
    // cold part of the function might); 1: mov %esi,%eax; syscall; ret
    let code = [
        0xbe, 60, 0, 0, 0, 0xeb, 0x02, 0x89, 0xfe, 0x89, 0xf0, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&code), Err(Refusal::RaxUnknown));
    // ... but nops there are padding: mov $60,%esi; jmp 1f; nop; nop;
    // 1: mov %esi,%eax; syscall; ret
    let code = [
        0xbe, 60, 0, 0, 0, 0xeb, 0x02, 0x90, 0x90, 0x89, 0xf0, 0x0f, 0x05, 0xc3,
    ];
    assert_eq!(verdict(&code), Ok(60));
}
