/* SPDX-License-Identifier: GPL-2.0 */
/*
 * void regs_probe(const struct regstate *in, struct regstate *out, long wide)
 * (and regs_probe2, the same code at a second syscall site): load every
 * register a `syscall` preserves from *in (all GPRs but rax, rcx and r11;
 * the flags, DF included; ymm0-15, or zmm0-31 and k0-7 when wide != 0; the
 * x87 control word and one value on the x87 stack; MXCSR), execute
 * `mov $39, %eax; syscall` (getpid: a constant number in a function with a
 * normal frame and no red-zone use, the kind of site the library rewrites),
 * and store all of it to *out right after. Offsets: see struct regstate in
 * regs.c. The caller compares.
 */
#define GPR(i)	(8 * (i))	/* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 */
#define FLAGS	128
#define RSP0	136
#define MXCSR	144
#define FCW	148
#define X87	152
#define KREG	168
#define YMM	256
#define ZMM	768

.macro PROBE name
	.text
	.globl \name
	.type \name, @function
\name:
	.cfi_startproc
	push %rbp		/* the callee-saved registers this clobbers */
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	push %rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	push %r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	push %r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	push %r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	push %r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	push %rsi		/* out, found again after the syscall */
	.cfi_adjust_cfa_offset 8
	push %rdx		/* wide */
	.cfi_adjust_cfa_offset 8
	mov %rsp, RSP0(%rsi)	/* %rsp the syscall must leave as it is */
	vmovdqu YMM+0*32(%rdi), %ymm0	/* ymm0-15: full 256 bits each */
	vmovdqu YMM+1*32(%rdi), %ymm1
	vmovdqu YMM+2*32(%rdi), %ymm2
	vmovdqu YMM+3*32(%rdi), %ymm3
	vmovdqu YMM+4*32(%rdi), %ymm4
	vmovdqu YMM+5*32(%rdi), %ymm5
	vmovdqu YMM+6*32(%rdi), %ymm6
	vmovdqu YMM+7*32(%rdi), %ymm7
	vmovdqu YMM+8*32(%rdi), %ymm8
	vmovdqu YMM+9*32(%rdi), %ymm9
	vmovdqu YMM+10*32(%rdi), %ymm10
	vmovdqu YMM+11*32(%rdi), %ymm11
	vmovdqu YMM+12*32(%rdi), %ymm12
	vmovdqu YMM+13*32(%rdi), %ymm13
	vmovdqu YMM+14*32(%rdi), %ymm14
	vmovdqu YMM+15*32(%rdi), %ymm15
	test %rdx, %rdx		/* AVX-512 present: zmm0-31 and k0-7 instead */
	jz 1f
	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 ZMM+\i*64(%rdi), %zmm\i
	.endr
	.irp i,0,1,2,3,4,5,6,7
	kmovq KREG+\i*8(%rdi), %k\i
	.endr
1:	fldcw FCW(%rdi)		/* x87 control word, then one value pushed */
	fldt X87(%rdi)
	ldmxcsr MXCSR(%rdi)
	pushq FLAGS(%rdi)	/* the flags, popped last */
	.cfi_adjust_cfa_offset 8
	mov GPR(1)(%rdi), %rbx	/* the GPRs, %rdi last */
	mov GPR(3)(%rdi), %rdx
	mov GPR(4)(%rdi), %rsi
	mov GPR(6)(%rdi), %rbp
	mov GPR(8)(%rdi), %r8
	mov GPR(9)(%rdi), %r9
	mov GPR(10)(%rdi), %r10
	mov GPR(12)(%rdi), %r12
	mov GPR(13)(%rdi), %r13
	mov GPR(14)(%rdi), %r14
	mov GPR(15)(%rdi), %r15
	mov GPR(5)(%rdi), %rdi
	popfq			/* CF ZF SF OF DF ... as the caller chose */
	.cfi_adjust_cfa_offset -8
	mov $39, %eax		/* getpid */
	syscall
	pushfq			/* the flags after it */
	.cfi_adjust_cfa_offset 8
	mov 16(%rsp), %r11	/* out (r11 is the syscall's to clobber) */
	pop FLAGS(%r11)
	.cfi_adjust_cfa_offset -8
	cld			/* DF back to the ABI's 0 for what follows */
	mov %rax, GPR(0)(%r11)
	mov %rbx, GPR(1)(%r11)
	mov %rdx, GPR(3)(%r11)
	mov %rsi, GPR(4)(%r11)
	mov %rdi, GPR(5)(%r11)
	mov %rbp, GPR(6)(%r11)
	mov %rsp, GPR(7)(%r11)
	mov %r8, GPR(8)(%r11)
	mov %r9, GPR(9)(%r11)
	mov %r10, GPR(10)(%r11)
	mov %r12, GPR(12)(%r11)
	mov %r13, GPR(13)(%r11)
	mov %r14, GPR(14)(%r11)
	mov %r15, GPR(15)(%r11)
	fnstcw FCW(%r11)
	fstpt X87(%r11)		/* pops the x87 stack empty again */
	stmxcsr MXCSR(%r11)
	vmovdqu %ymm0, YMM+0*32(%r11)
	vmovdqu %ymm1, YMM+1*32(%r11)
	vmovdqu %ymm2, YMM+2*32(%r11)
	vmovdqu %ymm3, YMM+3*32(%r11)
	vmovdqu %ymm4, YMM+4*32(%r11)
	vmovdqu %ymm5, YMM+5*32(%r11)
	vmovdqu %ymm6, YMM+6*32(%r11)
	vmovdqu %ymm7, YMM+7*32(%r11)
	vmovdqu %ymm8, YMM+8*32(%r11)
	vmovdqu %ymm9, YMM+9*32(%r11)
	vmovdqu %ymm10, YMM+10*32(%r11)
	vmovdqu %ymm11, YMM+11*32(%r11)
	vmovdqu %ymm12, YMM+12*32(%r11)
	vmovdqu %ymm13, YMM+13*32(%r11)
	vmovdqu %ymm14, YMM+14*32(%r11)
	vmovdqu %ymm15, YMM+15*32(%r11)
	cmpq $0, (%rsp)		/* wide */
	je 2f
	.irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqu64 %zmm\i, ZMM+\i*64(%r11)
	.endr
	.irp i,0,1,2,3,4,5,6,7
	kmovq %k\i, KREG+\i*8(%r11)
	.endr
2:	vzeroupper		/* leave no dirty upper state to C */
	push $0x037f		/* the ABI's x87 control word and MXCSR */
	.cfi_adjust_cfa_offset 8
	fldcw (%rsp)
	movl $0x1f80, (%rsp)
	ldmxcsr (%rsp)
	pop %rdx
	.cfi_adjust_cfa_offset -8
	pop %rdx		/* wide */
	.cfi_adjust_cfa_offset -8
	pop %rsi		/* out */
	.cfi_adjust_cfa_offset -8
	pop %r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	pop %r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	pop %r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	pop %r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	pop %rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	pop %rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	ret
	.cfi_endproc
	.size \name, .-\name
.endm

	PROBE regs_probe
	PROBE regs_probe2
	.section .note.GNU-stack,"",@progbits
