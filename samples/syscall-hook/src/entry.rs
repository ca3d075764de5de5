// SPDX-License-Identifier: GPL-2.0

//! The library's assembly: every `syscall` instruction the library itself
//! executes lives between `shl_text_start` and `shl_text_end`, the range
//! Syscall User Dispatch lets through. Nothing here is ever rewritten.

std::arch::global_asm!(
    r#"
    .text
    .globl shl_text_start
shl_text_start:

    /* long shl_raw_syscall6(nr, a1, a2, a3, a4, a5, a6) */
    .globl shl_raw_syscall6
shl_raw_syscall6:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    mov 8(%rsp), %r9
    syscall
    ret

    /* Restorer of the library's SIGSYS handler. */
    .globl shl_restorer
shl_restorer:
    mov $15, %eax
    syscall
    ud2

    /*
     * Entered from the zpoline stub: syscall number in rax, arguments in
     * rdi rsi rdx r10 r8 r9, return address at (rsp) and in rcx.
     * Behaves like the syscall instruction: preserves everything but rax,
     * rcx, r11 (and flags).
     */
    .globl shl_hook_entry
shl_hook_entry:
    cmp $15, %rax           /* rt_sigreturn: from the site's own rsp */
    je 1f
    cmp $56, %rax           /* clone: the child may get a new stack */
    je 2f
    cmp $435, %rax          /* clone3: let libc fall back to clone */
    je 3f
    lea -128(%rsp), %rsp    /* keep off what is left of the red zone */
    push %rbp
    mov %rsp, %rbp
    push %r9
    push %r8
    push %r10
    push %rdx
    push %rsi
    push %rdi
    push %rax               /* frame: rax rdi rsi rdx r10 r8 r9 */
    and $-16, %rsp
    sub $256, %rsp
    movdqu %xmm0, 0(%rsp)
    movdqu %xmm1, 16(%rsp)
    movdqu %xmm2, 32(%rsp)
    movdqu %xmm3, 48(%rsp)
    movdqu %xmm4, 64(%rsp)
    movdqu %xmm5, 80(%rsp)
    movdqu %xmm6, 96(%rsp)
    movdqu %xmm7, 112(%rsp)
    movdqu %xmm8, 128(%rsp)
    movdqu %xmm9, 144(%rsp)
    movdqu %xmm10, 160(%rsp)
    movdqu %xmm11, 176(%rsp)
    movdqu %xmm12, 192(%rsp)
    movdqu %xmm13, 208(%rsp)
    movdqu %xmm14, 224(%rsp)
    movdqu %xmm15, 240(%rsp)
    lea -56(%rbp), %rdi     /* &frame */
    mov 136(%rbp), %rsi     /* return address */
    call shl_dispatch@PLT
    movdqu 0(%rsp), %xmm0
    movdqu 16(%rsp), %xmm1
    movdqu 32(%rsp), %xmm2
    movdqu 48(%rsp), %xmm3
    movdqu 64(%rsp), %xmm4
    movdqu 80(%rsp), %xmm5
    movdqu 96(%rsp), %xmm6
    movdqu 112(%rsp), %xmm7
    movdqu 128(%rsp), %xmm8
    movdqu 144(%rsp), %xmm9
    movdqu 160(%rsp), %xmm10
    movdqu 176(%rsp), %xmm11
    movdqu 192(%rsp), %xmm12
    movdqu 208(%rsp), %xmm13
    movdqu 224(%rsp), %xmm14
    movdqu 240(%rsp), %xmm15
    lea -56(%rbp), %rsp
    pop %rcx                /* the saved number; rax holds the result */
    pop %rdi
    pop %rsi
    pop %rdx
    pop %r10
    pop %r8
    pop %r9
    pop %rbp
    lea 128(%rsp), %rsp
    ret

1:  lea 8(%rsp), %rsp       /* drop the return address: rsp = the site's */
    syscall                 /* rt_sigreturn does not return */
    ud2

2:  mov shl_counts@GOTPCREL(%rip), %r11
    lock incq 56*8(%r11)
    test %rsi, %rsi         /* no new stack: fork-like, plain path */
    jz 5f
    mov (%rsp), %r11        /* copy the return address to the new stack */
    lea -8(%rsi), %rsi
    mov %r11, (%rsi)
5:  syscall                 /* parent and child both continue here */
    test %rsi, %rsi
    jz 6f
    lea 8(%rsi), %rsi       /* rsi back to the caller's value */
6:  ret                     /* the child pops the copy on its new stack */

3:  mov shl_counts@GOTPCREL(%rip), %r11
    lock incq 435*8(%r11)
    mov $-38, %rax          /* -ENOSYS */
    ret

    .globl shl_text_end
shl_text_end:
    "#,
    options(att_syntax)
);

extern "C" {
    /// Start of the range SUD lets through.
    pub fn shl_text_start();
    /// End of the range SUD lets through.
    pub fn shl_text_end();
    /// Raw syscall from inside the allowed range.
    pub fn shl_raw_syscall6(nr: i64, a1: i64, a2: i64, a3: i64, a4: i64, a5: i64, a6: i64) -> i64;
    /// Restorer for the SIGSYS handler.
    pub fn shl_restorer();
    /// The hook the zpoline stub jumps to.
    pub fn shl_hook_entry();
}

/// Raw syscall with up to six arguments.
#[inline]
pub fn sys(nr: i64, a: [i64; 6]) -> i64 {
    // SAFETY: a raw syscall; the caller passes arguments valid for `nr`.
    unsafe { shl_raw_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]) }
}
