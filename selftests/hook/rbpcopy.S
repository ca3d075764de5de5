/* SPDX-License-Identifier: GPL-2.0 */
/*
 * long rbp_leaf(long seed, long *pid): a function with a frame pointer
 * (push %rbp; mov %rsp,%rbp) and no stack allocation that keeps four
 * quadwords below %rsp through a copy of %rbp in %rdx (issue 21 item 4),
 * across a getpid syscall. Stores the result at *pid and returns how many
 * of the four are no longer what was stored (0 when the hook kept them).
 */
	.text
	.globl rbp_leaf
	.type rbp_leaf, @function
rbp_leaf:
	.cfi_startproc
	push %rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	mov %rsp, %rbp
	.cfi_def_cfa_register %rbp
	mov %rbp, %rdx		/* a copy of the frame pointer */
	mov %rdi, -8(%rdx)	/* seed .. seed+3 below %rsp, through the copy */
	lea 1(%rdi), %rax
	mov %rax, -16(%rdx)
	lea 2(%rdi), %rax
	mov %rax, -24(%rdx)
	lea 3(%rdi), %rax
	mov %rax, -32(%rdx)
	mov $39, %eax		/* getpid, a constant number */
	syscall
	mov %rax, (%rsi)	/* *pid = result */
	xor %eax, %eax		/* count the quadwords that changed */
	xor %ecx, %ecx
1:	lea (%rdi,%rcx), %r8	/* expected: seed + i */
	mov %rcx, %r9
	neg %r9
	cmp %r8, -8(%rdx,%r9,8)
	setne %r8b
	movzbl %r8b, %r8d
	add %r8, %rax
	inc %rcx
	cmp $4, %rcx
	jne 1b
	pop %rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size rbp_leaf, .-rbp_leaf
	.section .note.GNU-stack,"",@progbits
