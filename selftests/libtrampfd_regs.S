/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Targets for libtrampfd_test.c's custom register pairs: each returns the
 * data register of one non-default pair (see LT_PAIRS there).
 *
 *	x86-64	pair_ret_a: code rax, data r11	pair_ret_b: code r10, data rax
 *	arm64	pair_ret_a: code x17, data x16	pair_ret_b: code x16, data x9
 *	riscv64	pair_ret_a: code t3, data t1	pair_ret_b: code t1, data t0
 *
 * riscv64's pair_ret_a is libffi's pair (static chain in t1, code in t3).
 */
	.text

.macro FUNC name
	.globl \name
	.type \name, %function
\name:
.endm

#if defined(__x86_64__)
FUNC pair_ret_a
	movq	%r11, %rax
	ret
	.size pair_ret_a, . - pair_ret_a
FUNC pair_ret_b
	ret				/* the data is already in rax */
	.size pair_ret_b, . - pair_ret_b
#elif defined(__aarch64__)
FUNC pair_ret_a
	mov	x0, x16
	ret
	.size pair_ret_a, . - pair_ret_a
FUNC pair_ret_b
	mov	x0, x9
	ret
	.size pair_ret_b, . - pair_ret_b
#elif defined(__riscv)
FUNC pair_ret_a
	mv	a0, t1
	ret
	.size pair_ret_a, . - pair_ret_a
FUNC pair_ret_b
	mv	a0, t0
	ret
	.size pair_ret_b, . - pair_ret_b
#else
#error "unsupported architecture"
#endif

	.section .note.GNU-stack, "", %progbits
