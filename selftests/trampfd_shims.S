/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trampoline targets for trampfd_test.c.  shimK stores the data register
 * (r10) and K in the thread-local seen_data / seen_target, then tail-calls
 * target(), so the caller sees both what the trampoline loaded and that its
 * arguments arrived intact.  shim_rax does the same for data register rax.
 */
	.text

.macro SHIM k
	.globl shim\k
	.type shim\k, @function
shim\k:
	movq %r10, %fs:seen_data@tpoff
	movq $\k, %fs:seen_target@tpoff
	jmp target
	.size shim\k, . - shim\k
.endm

	SHIM 0
	SHIM 1
	SHIM 2
	SHIM 3

	.globl shim_rax
	.type shim_rax, @function
shim_rax:
	movq %rax, %fs:seen_data@tpoff
	movq $9, %fs:seen_target@tpoff
	jmp target
	.size shim_rax, . - shim_rax

	.section .note.GNU-stack, "", @progbits
