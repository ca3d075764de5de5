/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry stub shared by every closure: the trampoline left the closure in
 * the data register (TRAMPFD_NATIVE_DATA_REG); pass it as the second
 * argument and jump through its first field, the handler.  The first
 * argument, the stack and the return address are untouched, so the handler
 * returns straight to the closure's caller.
 */
	.text
	.globl closure_entry
	.type closure_entry, %function
closure_entry:
#if defined(__x86_64__)
	movq	%r10, %rsi		/* rsi = struct closure * */
	jmp	*(%rsi)			/* closure->handler(arg, closure) */
#elif defined(__aarch64__)
	mov	x1, x17			/* x1 = struct closure * */
	ldr	x16, [x17]		/* closure->handler ... */
	br	x16			/* ... (arg, closure); x16: BTI-safe */
#elif defined(__riscv)
	mv	a1, t2			/* a1 = struct closure * */
	ld	t1, 0(t2)		/* closure->handler ... */
	jr	t1			/* ... (arg, closure) */
#else
#error "unsupported architecture"
#endif
	.size closure_entry, . - closure_entry

	.section .note.GNU-stack, "", %progbits
