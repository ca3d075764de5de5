/* SPDX-License-Identifier: GPL-2.0 */
/* long ret_r10(void): returns the trampoline's data register. */
	.text
	.globl ret_r10
	.type ret_r10, @function
ret_r10:
	movq %r10, %rax
	ret
	.size ret_r10, . - ret_r10

	.section .note.GNU-stack, "", @progbits
