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

	.section .note.GNU-stack, "", @progbits
