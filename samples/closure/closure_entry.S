/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry stub shared by every closure: the trampoline left the closure in r10
 * (the data register); pass it as the second argument and jump through its
 * first field, the handler.  The first argument (edi) and the stack are
 * untouched, so the handler returns straight to the closure's caller.
 */
	.text
	.globl closure_entry
	.type closure_entry, @function
closure_entry:
	movq %r10, %rsi		/* rsi = struct closure * */
	jmp *(%rsi)		/* closure->handler(arg, closure) */
	.size closure_entry, . - closure_entry

	.section .note.GNU-stack, "", @progbits
