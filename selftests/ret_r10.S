/* SPDX-License-Identifier: GPL-2.0 */
/* long ret_r10(void): returns the trampoline's (recommended) data register. */
	.text
	.globl ret_r10
	.type ret_r10, %function
ret_r10:
#if defined(__x86_64__)
	movq	%r10, %rax
	ret
#elif defined(__aarch64__)
	mov	x0, x17
	ret
#elif defined(__riscv)
	mv	a0, t2
	ret
#else
#error "unsupported architecture"
#endif
	.size ret_r10, . - ret_r10

	.section .note.GNU-stack, "", %progbits
