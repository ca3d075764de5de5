/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hook for zpoline_test.c.  Entered from the zpoline stub with the syscall
 * number in rax, arguments in rdi, rsi, rdx, r10, r8, r9, the return address
 * at [rsp] and in rcx.  Records rcx and [rsp]; syscall number 500 (unused)
 * is emulated as rdi + 0x5eed, every other number is passed to the kernel.
 */
	.text
	.globl zp_hook
	.type zp_hook, @function
zp_hook:
	incq zp_calls(%rip)
	movq %rcx, zp_last_rcx(%rip)
	movq (%rsp), %r11
	movq %r11, zp_last_ret(%rip)
	cmpq $500, %rax
	je 1f
	syscall			/* the real one: this code is not rewritten */
	ret
1:	leaq 0x5eed(%rdi), %rax
	ret
	.size zp_hook, . - zp_hook

	.bss
	.globl zp_calls, zp_last_rcx, zp_last_ret
	.balign 8
zp_calls:	.quad 0
zp_last_rcx:	.quad 0
zp_last_ret:	.quad 0

/*
 * Register fingerprint harness for the every-offset test.  zp_fp_call(block):
 * loads rax (the entry offset), every other GPR but rsp, and rflags from
 * block[0..15] (order: rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14
 * r15 rflags), calls *%rax and returns.  zp_fp_land (the hook) stores every
 * GPR, rflags, rsp and [rsp] into zp_fp_seen[0..17] and returns.  A fault
 * handler resumes at zp_fp_back with rsp = zp_fp_rsp, as if the call had
 * returned.
 */
	.text
	.globl zp_fp_call, zp_fp_back, zp_fp_land
	.type zp_fp_call, @function
zp_fp_call:
	push %rbx		/* callee-saved: restored after the call */
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	pushq 120(%rdi)		/* rflags from the block */
	popfq
	mov 0(%rdi), %rax
	mov 8(%rdi), %rbx
	mov 16(%rdi), %rcx
	mov 24(%rdi), %rdx
	mov 32(%rdi), %rsi
	mov 48(%rdi), %rbp
	mov 56(%rdi), %r8
	mov 64(%rdi), %r9
	mov 72(%rdi), %r10
	mov 80(%rdi), %r11
	mov 88(%rdi), %r12
	mov 96(%rdi), %r13
	mov 104(%rdi), %r14
	mov 112(%rdi), %r15
	mov %rsp, zp_fp_rsp(%rip)	/* for the fault handler */
	mov 40(%rdi), %rdi	/* rdi last: it held the block */
	call *%rax		/* the rewritten syscall */
zp_fp_back:
	cld			/* the block may have set DF */
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size zp_fp_call, . - zp_fp_call

	.type zp_fp_land, @function
zp_fp_land:
	pushfq			/* flags first: nothing before changed them */
	popq zp_fp_seen+120(%rip)
	mov %rax, zp_fp_seen+0(%rip)
	mov %rbx, zp_fp_seen+8(%rip)
	mov %rcx, zp_fp_seen+16(%rip)
	mov %rdx, zp_fp_seen+24(%rip)
	mov %rsi, zp_fp_seen+32(%rip)
	mov %rdi, zp_fp_seen+40(%rip)
	mov %rbp, zp_fp_seen+48(%rip)
	mov %r8, zp_fp_seen+56(%rip)
	mov %r9, zp_fp_seen+64(%rip)
	mov %r10, zp_fp_seen+72(%rip)
	mov %r11, zp_fp_seen+80(%rip)
	mov %r12, zp_fp_seen+88(%rip)
	mov %r13, zp_fp_seen+96(%rip)
	mov %r14, zp_fp_seen+104(%rip)
	mov %r15, zp_fp_seen+112(%rip)
	mov %rsp, zp_fp_seen+128(%rip)
	mov (%rsp), %rax	/* the return address */
	mov %rax, zp_fp_seen+136(%rip)
	ret
	.size zp_fp_land, . - zp_fp_land

	.bss
	.globl zp_fp_seen, zp_fp_rsp
	.balign 8
zp_fp_seen:	.zero 18 * 8
zp_fp_rsp:	.quad 0

	.section .note.GNU-stack, "", @progbits
