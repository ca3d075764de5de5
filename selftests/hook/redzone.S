/* SPDX-License-Identifier: GPL-2.0 */
/*
 * long rz_leaf(long seed, long *pid): a leaf function that keeps eight
 * quadwords in the red zone (-8..-64 below %rsp) across a getpid syscall,
 * as compilers do for leaf functions (glibc's tcgetattr does). Stores the
 * syscall's result at *pid and returns how many of the eight are no longer
 * what was stored (0 when the hook kept the red zone).
 */
	.text
	.globl rz_leaf
	.type rz_leaf, @function
rz_leaf:
	.cfi_startproc
	mov %rdi, -8(%rsp)	/* seed, seed+1, ... seed+7 into the red zone */
	lea 1(%rdi), %rax
	mov %rax, -16(%rsp)
	lea 2(%rdi), %rax
	mov %rax, -24(%rsp)
	lea 3(%rdi), %rax
	mov %rax, -32(%rsp)
	lea 4(%rdi), %rax
	mov %rax, -40(%rsp)
	lea 5(%rdi), %rax
	mov %rax, -48(%rsp)
	lea 6(%rdi), %rax
	mov %rax, -56(%rsp)
	lea 7(%rdi), %rax
	mov %rax, -64(%rsp)
	mov $39, %eax		/* getpid, a constant number */
	syscall
	mov %rax, (%rsi)	/* *pid = result */
	xor %eax, %eax		/* count the quadwords that changed */
	xor %ecx, %ecx
1:	lea (%rdi,%rcx), %rdx	/* expected: seed + i */
	neg %rcx
	cmp %rdx, -8(%rsp,%rcx,8)
	setne %dl
	neg %rcx
	movzbl %dl, %edx
	add %rdx, %rax
	inc %rcx
	cmp $8, %rcx
	jne 1b
	ret
	.cfi_endproc
	.size rz_leaf, .-rz_leaf
	.section .note.GNU-stack,"",@progbits
