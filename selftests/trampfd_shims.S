/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trampoline targets for trampfd_test.c.  shimK stores the data register
 * and K in the thread-local seen_data / seen_target, then tail-calls
 * target(), so the caller sees both what the trampoline loaded and that its
 * arguments arrived intact.  shim_alt does the same for the second data
 * register (TFD_ALT_DATA_REG) and records 9.  Scratch registers are neither
 * argument nor trampoline registers.
 */
	.text

#if defined(__x86_64__)
/* Data register r10; alternative rax. */
.macro SHIM name, k, reg
	.globl \name
	.type \name, @function
\name:
	movq \reg, %fs:seen_data@tpoff
	movq $\k, %fs:seen_target@tpoff
	jmp target
	.size \name, . - \name
.endm
	SHIM shim0, 0, %r10
	SHIM shim1, 1, %r10
	SHIM shim2, 2, %r10
	SHIM shim3, 3, %r10
	SHIM shim_alt, 9, %rax

#elif defined(__aarch64__)
/* Data register x17; alternative x9.  Scratch: x10, x11 (local-exec TLS). */
.macro SHIM name, k, reg
	.globl \name
	.type \name, %function
\name:
	mrs	x10, tpidr_el0
	add	x10, x10, #:tprel_hi12:seen_data
	add	x10, x10, #:tprel_lo12_nc:seen_data
	str	\reg, [x10]
	mrs	x10, tpidr_el0
	add	x10, x10, #:tprel_hi12:seen_target
	add	x10, x10, #:tprel_lo12_nc:seen_target
	mov	x11, #\k
	str	x11, [x10]
	b	target
	.size \name, . - \name
.endm
	SHIM shim0, 0, x17
	SHIM shim1, 1, x17
	SHIM shim2, 2, x17
	SHIM shim3, 3, x17
	SHIM shim_alt, 9, x9

#elif defined(__riscv)
/* Data register t2; alternative t0.  Scratch: t3, t4 (local-exec TLS). */
.macro SHIM name, k, reg
	.globl \name
	.type \name, %function
\name:
	lui	t3, %tprel_hi(seen_data)
	add	t3, t3, tp, %tprel_add(seen_data)
	sd	\reg, %tprel_lo(seen_data)(t3)
	lui	t3, %tprel_hi(seen_target)
	add	t3, t3, tp, %tprel_add(seen_target)
	li	t4, \k
	sd	t4, %tprel_lo(seen_target)(t3)
	tail	target
	.size \name, . - \name
.endm
	SHIM shim0, 0, t2
	SHIM shim1, 1, t2
	SHIM shim2, 2, t2
	SHIM shim3, 3, t2
	SHIM shim_alt, 9, t0

#else
#error "unsupported architecture"
#endif

	.section .note.GNU-stack, "", %progbits
