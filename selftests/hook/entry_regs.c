// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe: a hooked getpid preserves what the syscall instruction
 * preserves: every GPR but rax, rcx, r11; rflags (CF PF AF ZF SF DF OF),
 * and r11 = rflags, rcx = the next instruction; rsp; ymm0-15 (all 256
 * bits); MXCSR; the x87 control word and stack; with AVX-512, zmm0-31 and
 * k0-7. Run from main and from a signal handler, through a site that
 * gets rewritten and through one the patcher refuses (its number comes
 * from writable data and it straddles a cache line: it stays on the
 * SIGSYS emulation path). With the argument "clobber",
 * a registered callback (slow path) first clobbers every ymm register, the
 * x87 state and MXCSR. Prints "regs: ok".
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct st {
	uint64_t gpr[16];	/* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 */
	uint64_t flags;
	uint32_t mxcsr;
	uint16_t fcw;
	uint16_t pad;
	double x87[2];
	uint8_t ymm[16][32];
};

struct st in, out;
void *out_ptr, *after_site, *after_site2;

/*
 * probe(in, out) and probe_straddle(in, out): the same body; the second
 * puts its syscall across a 64-byte boundary.
 */
#define PROBE(name, align, nr)						\
	".globl " #name "\n" #name ":\n"				\
	"push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n" \
	"mov %rsi, out_ptr(%rip)\n"					\
	"vmovdqu 0x0a0(%rdi), %ymm0\n vmovdqu 0x0c0(%rdi), %ymm1\n"	\
	"vmovdqu 0x0e0(%rdi), %ymm2\n vmovdqu 0x100(%rdi), %ymm3\n"	\
	"vmovdqu 0x120(%rdi), %ymm4\n vmovdqu 0x140(%rdi), %ymm5\n"	\
	"vmovdqu 0x160(%rdi), %ymm6\n vmovdqu 0x180(%rdi), %ymm7\n"	\
	"vmovdqu 0x1a0(%rdi), %ymm8\n vmovdqu 0x1c0(%rdi), %ymm9\n"	\
	"vmovdqu 0x1e0(%rdi), %ymm10\n vmovdqu 0x200(%rdi), %ymm11\n"	\
	"vmovdqu 0x220(%rdi), %ymm12\n vmovdqu 0x240(%rdi), %ymm13\n"	\
	"vmovdqu 0x260(%rdi), %ymm14\n vmovdqu 0x280(%rdi), %ymm15\n"	\
	"ldmxcsr 0x88(%rdi)\n fldcw 0x8c(%rdi)\n"			\
	"fldl 0x90(%rdi)\n fldl 0x98(%rdi)\n"				\
	"mov 0x08(%rdi), %rbx\n mov 0x18(%rdi), %rdx\n"		\
	"mov 0x20(%rdi), %rsi\n mov 0x30(%rdi), %rbp\n"		\
	"mov 0x40(%rdi), %r8\n mov 0x48(%rdi), %r9\n"			\
	"mov 0x50(%rdi), %r10\n mov 0x60(%rdi), %r12\n"		\
	"mov 0x68(%rdi), %r13\n mov 0x70(%rdi), %r14\n"		\
	"mov 0x78(%rdi), %r15\n"					\
	"pushq 0x80(%rdi)\n"						\
	"mov 0x28(%rdi), %rdi\n"					\
	nr "\n"								\
	"popfq\n"							\
	align								\
	"syscall\n"							\
	"1: pushfq\n"							\
	"push %rdi\n"							\
	"mov out_ptr(%rip), %rdi\n"					\
	"mov %rax, 0x00(%rdi)\n mov %rbx, 0x08(%rdi)\n"		\
	"mov %rcx, 0x10(%rdi)\n mov %rdx, 0x18(%rdi)\n"		\
	"mov %rsi, 0x20(%rdi)\n pop %rax\n mov %rax, 0x28(%rdi)\n"	\
	"mov %rbp, 0x30(%rdi)\n lea 8(%rsp), %rax\n mov %rax, 0x38(%rdi)\n" \
	"mov %r8, 0x40(%rdi)\n mov %r9, 0x48(%rdi)\n"			\
	"mov %r10, 0x50(%rdi)\n mov %r11, 0x58(%rdi)\n"		\
	"mov %r12, 0x60(%rdi)\n mov %r13, 0x68(%rdi)\n"		\
	"mov %r14, 0x70(%rdi)\n mov %r15, 0x78(%rdi)\n"		\
	"pop %rax\n mov %rax, 0x80(%rdi)\n"				\
	"cld\n"								\
	"lea 1b(%rip), %rax\n mov %rax, " #name "_after(%rip)\n"	\
	"stmxcsr 0x88(%rdi)\n fnstcw 0x8c(%rdi)\n"			\
	"fstpl 0x98(%rdi)\n fstpl 0x90(%rdi)\n"			\
	"vmovdqu %ymm0, 0x0a0(%rdi)\n vmovdqu %ymm1, 0x0c0(%rdi)\n"	\
	"vmovdqu %ymm2, 0x0e0(%rdi)\n vmovdqu %ymm3, 0x100(%rdi)\n"	\
	"vmovdqu %ymm4, 0x120(%rdi)\n vmovdqu %ymm5, 0x140(%rdi)\n"	\
	"vmovdqu %ymm6, 0x160(%rdi)\n vmovdqu %ymm7, 0x180(%rdi)\n"	\
	"vmovdqu %ymm8, 0x1a0(%rdi)\n vmovdqu %ymm9, 0x1c0(%rdi)\n"	\
	"vmovdqu %ymm10, 0x1e0(%rdi)\n vmovdqu %ymm11, 0x200(%rdi)\n"	\
	"vmovdqu %ymm12, 0x220(%rdi)\n vmovdqu %ymm13, 0x240(%rdi)\n"	\
	"vmovdqu %ymm14, 0x260(%rdi)\n vmovdqu %ymm15, 0x280(%rdi)\n"	\
	"vzeroupper\n"							\
	"pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"	\
	"ret\n"

void *probe_after, *probe_straddle_after;
void probe(struct st *i, struct st *o);
void probe_straddle(struct st *i, struct st *o);
long probe_nr = 39;	/* writable data: not a constant the patcher can see */
asm(".text\n" PROBE(probe, "", "mov $39, %eax")
	PROBE(probe_straddle, ".p2align 6\n .skip 63, 0x90\n", "mov probe_nr(%rip), %rax"));

/* AVX-512: zmm0-31 and k1-7 across getpid. */
static uint8_t zin[32][64], zout[32][64];
static uint64_t kin[8], kout[8];
void probe512(void);
asm(".text\n.globl probe512\nprobe512:\n"
#define Z(n) "vmovdqu64 zin+64*" #n "(%rip), %zmm" #n "\n"
	Z(0) Z(1) Z(2) Z(3) Z(4) Z(5) Z(6) Z(7) Z(8) Z(9) Z(10) Z(11) Z(12)
	Z(13) Z(14) Z(15) Z(16) Z(17) Z(18) Z(19) Z(20) Z(21) Z(22) Z(23)
	Z(24) Z(25) Z(26) Z(27) Z(28) Z(29) Z(30) Z(31)
#define K(n) "kmovq kin+8*" #n "(%rip), %k" #n "\n"
	K(1) K(2) K(3) K(4) K(5) K(6) K(7)
	"mov $39, %eax\n syscall\n"
#define ZO(n) "vmovdqu64 %zmm" #n ", zout+64*" #n "(%rip)\n"
	ZO(0) ZO(1) ZO(2) ZO(3) ZO(4) ZO(5) ZO(6) ZO(7) ZO(8) ZO(9) ZO(10)
	ZO(11) ZO(12) ZO(13) ZO(14) ZO(15) ZO(16) ZO(17) ZO(18) ZO(19) ZO(20)
	ZO(21) ZO(22) ZO(23) ZO(24) ZO(25) ZO(26) ZO(27) ZO(28) ZO(29) ZO(30)
	ZO(31)
#define KO(n) "kmovq %k" #n ", kout+8*" #n "(%rip)\n"
	KO(1) KO(2) KO(3) KO(4) KO(5) KO(6) KO(7)
	"vzeroupper\n ret\n");

static int bad;
static const uint64_t FLAGS_SET = 0xcd5;	/* CF PF AF ZF SF DF OF */

static void check(const char *where, void (*p)(struct st *, struct st *),
		  void **after)
{
	int r, j;

	for (r = 0; r < 3; r++) {	/* lazily rewritten: 1st, then hooked */
		memset(&out, 0, sizeof(out));
		p(&in, &out);
		if ((long)out.gpr[0] != getpid()) {
			printf("%s: rax %lx\n", where, (unsigned long)out.gpr[0]);
			bad = 1;
		}
		if (out.gpr[2] != (uint64_t)*after) {
			printf("%s: rcx %lx != %p\n", where,
			       (unsigned long)out.gpr[2], *after);
			bad = 1;
		}
		if ((out.flags & FLAGS_SET) != (in.flags & FLAGS_SET) ||
		    (out.gpr[11] & FLAGS_SET) != (in.flags & FLAGS_SET)) {
			printf("%s: flags %lx r11 %lx\n", where,
			       (unsigned long)out.flags,
			       (unsigned long)out.gpr[11]);
			bad = 1;
		}
		for (j = 0; j < 16; j++) {
			if (j == 0 || j == 2 || j == 7 || j == 11)
				continue;
			if (out.gpr[j] != in.gpr[j]) {
				printf("%s: gpr %d %lx != %lx\n", where, j,
				       (unsigned long)out.gpr[j],
				       (unsigned long)in.gpr[j]);
				bad = 1;
			}
		}
		if (out.mxcsr != in.mxcsr || out.fcw != in.fcw ||
		    out.x87[0] != in.x87[0] || out.x87[1] != in.x87[1]) {
			printf("%s: mxcsr %x fcw %x x87 %g %g\n", where,
			       out.mxcsr, out.fcw, out.x87[0], out.x87[1]);
			bad = 1;
		}
		for (j = 0; j < 16; j++)
			if (memcmp(out.ymm[j], in.ymm[j], 32)) {
				printf("%s: ymm%d differs\n", where, j);
				bad = 1;
			}
	}
	if (__builtin_cpu_supports("avx512f")) {
		memset(zout, 0, sizeof(zout));
		memset(kout, 0, sizeof(kout));
		probe512();
		if (memcmp(zin, zout, sizeof(zin)) ||
		    memcmp(kin + 1, kout + 1, 7 * 8)) {
			printf("%s: zmm/k differ\n", where);
			bad = 1;
		}
	}
}

/* A callback that destroys the extended state the hook must keep. */
static int clobber(long nr, long args[6], long *result)
{
	(void)nr;
	(void)args;
	(void)result;
	asm volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n"
		     "vmovdqa %%ymm0, %%ymm1\n vmovdqa %%ymm0, %%ymm7\n"
		     "vmovdqa %%ymm0, %%ymm8\n vmovdqa %%ymm0, %%ymm15\n"
		     "fninit\n"
		     "push $0x1f80\n ldmxcsr (%%rsp)\n pop %%rax\n"
		     ::: "rax", "xmm0", "xmm1", "xmm7", "xmm8", "xmm15", "memory");
	return 0;
}

static volatile int in_handler_done;

static void on_alarm(int sig)
{
	(void)sig;
	check("handler", probe, &probe_after);
	check("handler straddle", probe_straddle, &probe_straddle_after);
	in_handler_done = 1;
}

int main(int argc, char **argv)
{
	int j, k;

	if (!__builtin_cpu_supports("avx")) {
		printf("regs: skip (no AVX)\n");
		return 0;
	}
	for (j = 0; j < 16; j++)
		in.gpr[j] = 0x1111111111111111ULL * (j + 1) ^ 0x0123456789abcdefULL;
	in.flags = FLAGS_SET | 0x202;
	in.mxcsr = 0x1f80 ^ 0x6000;	/* round toward zero */
	in.fcw = 0x027f;		/* x87: 53-bit precision, masked */
	in.x87[0] = 3.25;
	in.x87[1] = -1e300;
	for (j = 0; j < 16; j++)
		for (k = 0; k < 32; k++)
			in.ymm[j][k] = (uint8_t)(j * 32 + k + 1);
	for (j = 0; j < 32; j++)
		for (k = 0; k < 64; k++)
			zin[j][k] = (uint8_t)(j * 7 + k * 3 + 5);
	for (j = 1; j < 8; j++)
		kin[j] = 0x0101010101010101ULL * j ^ 0xf0f0f0f0f0f0f0f0ULL;
	if (argc > 1 && !strcmp(argv[1], "clobber")) {
		void (*reg)(int (*)(long, long *, long *)) =
			(void (*)(int (*)(long, long *, long *)))dlsym(RTLD_DEFAULT,
								       "syscallhook_register");

		if (!reg) {
			printf("regs: no library\n");
			return 2;
		}
		reg(clobber);
	}
	check("main", probe, &probe_after);
	check("main straddle", probe_straddle, &probe_straddle_after);
	in.flags = 0x202;			/* every status flag clear, DF clear */
	check("main, flags clear", probe, &probe_after);
	in.flags = 0x202 | 0x801;		/* OF and CF only */
	check("main, OF CF", probe, &probe_after);
	in.flags = FLAGS_SET | 0x202;
	signal(SIGALRM, on_alarm);
	alarm(1);
	while (!in_handler_done)
		;
	printf("regs: %s\n", bad ? "WRONG" : "ok");
	return bad;
}
