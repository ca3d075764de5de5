/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tfd_target: the trampoline target of run_page.c.  It records every
 * register a trampoline may load (the temporaries) in seen_regs[], indexed
 * by register number, then tail-calls weighted() with the argument
 * registers untouched, so the caller sees both the data register and that
 * its arguments arrived intact.
 */
	.text
	.globl tfd_target
	.type tfd_target, %function
#if defined(__aarch64__)
tfd_target:
	/* x8 is neither an argument nor a trampoline register here. */
	adrp	x8, seen_regs
	add	x8, x8, :lo12:seen_regs
	str	x9, [x8, #9 * 8]
	stp	x10, x11, [x8, #10 * 8]
	stp	x12, x13, [x8, #12 * 8]
	stp	x14, x15, [x8, #14 * 8]
	stp	x16, x17, [x8, #16 * 8]
	b	weighted
#elif defined(__riscv)
tfd_target:
	/* Free t0 through the stack, then use it as the base address. */
	addi	sp, sp, -16
	sd	t0, 0(sp)
	lla	t0, seen_regs
	sd	t1, 6 * 8(t0)
	sd	t2, 7 * 8(t0)
	sd	t3, 28 * 8(t0)
	sd	t4, 29 * 8(t0)
	sd	t5, 30 * 8(t0)
	sd	t6, 31 * 8(t0)
	ld	t1, 0(sp)
	sd	t1, 5 * 8(t0)
	addi	sp, sp, 16
	tail	weighted
#else
#error "run_page targets arm64 and riscv64"
#endif
	.size tfd_target, . - tfd_target

	.section .note.GNU-stack, "", %progbits
