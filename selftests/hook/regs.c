// SPDX-License-Identifier: GPL-2.0
/*
 * Register preservation across hooked syscalls (regs.S does the syscall):
 * every GPR but rax/rcx/r11, the flags (CF PF AF ZF SF OF and DF, in several
 * patterns), ymm0-15 in full (zmm0-31 and k0-7 when the CPU and kernel have
 * AVX-512), the x87 control word and a value on the x87 stack, and MXCSR
 * must be what they were before, as across a real `syscall`.
 *
 * Checked: the first call of a site (the SUD path: SIGSYS, then whatever the
 * library does), 2,000 later calls (the rewritten path), calls from inside a
 * SIGALRM handler that interrupts the main loop (1 ms timer), and the first
 * call of a second site made from inside the handler.  "regs cb" also
 * registers a C callback (syscallhook_register, found with dlsym) that runs
 * glibc code (memset, strlen: AVX2 versions end in vzeroupper) and checks
 * that it was entered with DF clear, as the C ABI requires.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <cpuid.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct regstate {
	uint64_t gpr[16];	/* rax rbx rcx rdx rsi rdi rbp rsp r8..r15 */
	uint64_t flags;		/* 128 */
	uint64_t rsp0;		/* 136 */
	uint32_t mxcsr;		/* 144 */
	uint16_t fcw;		/* 148 */
	uint16_t pad;
	uint8_t x87[16];	/* 152: an 80-bit value */
	uint64_t kreg[8];	/* 168 */
	uint8_t pad2[24];
	uint8_t ymm[16][32];	/* 256 */
	uint8_t zmm[32][64];	/* 768 */
};
_Static_assert(__builtin_offsetof(struct regstate, kreg) == 168, "layout");
_Static_assert(__builtin_offsetof(struct regstate, ymm) == 256, "layout");
_Static_assert(__builtin_offsetof(struct regstate, zmm) == 768, "layout");

void regs_probe(const struct regstate *in, struct regstate *out, long wide);
void regs_probe2(const struct regstate *in, struct regstate *out, long wide);

/* Arithmetic flags and DF: patterns of set/clear (bit 1 is always 1). */
static const uint64_t flag_patterns[] = {
	0x0002 | 0x0001 | 0x0004 | 0x0010 | 0x0040 | 0x0080 | 0x0400 | 0x0800,
	0x0002 | 0x0400,			/* DF alone */
	0x0002 | 0x0001 | 0x0080 | 0x0400,	/* CF SF DF */
	0x0002 | 0x0040 | 0x0800,		/* ZF OF */
	0x0002,					/* all clear */
};
#define FLAG_MASK 0x0cd5UL	/* CF PF AF ZF SF DF OF */

static long wide;		/* AVX-512 usable */
static pid_t mypid;
static volatile sig_atomic_t failures, sig_probes, cb_df_set, cb_calls;
static char where[64];

static void fill(struct regstate *s, uint64_t seed)
{
	unsigned int i;
	uint8_t *p = (uint8_t *)s;

	for (i = 0; i < sizeof(*s); i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
	for (i = 0; i < 16; i++)
		s->gpr[i] = 0x1111111111111111ULL * (i + 1) ^ seed;
	s->flags = flag_patterns[seed % 5];
	s->mxcsr = 0x1f80 ^ (0x6000 & (seed << 13)) ^ 0x0040;	/* RC, DAZ */
	s->fcw = 0x037f ^ (0x0c00 & (seed << 10)) ^ 0x0100;	/* RC, PC */
	memset(s->x87, 0, sizeof(s->x87));
	s->x87[0] = (uint8_t)seed;	/* 1.something x 2^k, a normal value */
	s->x87[7] = 0x80 | (uint8_t)(seed >> 3);
	s->x87[8] = 0x05;
	s->x87[9] = 0x40;
}

/* Compare; report (async-signal-safe) and count mismatches. */
static int check(const struct regstate *in, const struct regstate *out, const char *what)
{
	static const int gprs[] = { 1, 3, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15 };
	static const char *const names[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
		"rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
	char msg[160];
	const char *bad = NULL;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gprs) && !bad; i++)
		if (in->gpr[gprs[i]] != out->gpr[gprs[i]])
			bad = names[gprs[i]];
	if (!bad && out->gpr[7] != out->rsp0)
		bad = "rsp";
	if (!bad && (long)out->gpr[0] != mypid)
		bad = "rax (not getpid's result)";
	if (!bad && (in->flags & FLAG_MASK) != (out->flags & FLAG_MASK))
		bad = "rflags";
	if (!bad && in->mxcsr != out->mxcsr)
		bad = "mxcsr";
	if (!bad && in->fcw != out->fcw)
		bad = "x87 control word";
	if (!bad && memcmp(in->x87, out->x87, 10))
		bad = "x87 st(0)";
	for (i = 0; i < 16 && !bad && !wide; i++)
		if (memcmp(in->ymm[i], out->ymm[i], 16))
			bad = "xmm (low 128 bits of a ymm)";
		else if (memcmp(in->ymm[i] + 16, out->ymm[i] + 16, 16))
			bad = "ymm upper 128 bits";
	for (i = 0; i < 32 && !bad && wide; i++)
		if (memcmp(in->zmm[i], out->zmm[i], 64))
			bad = "zmm";
	for (i = 0; i < 8 && !bad && wide; i++)
		if (in->kreg[i] != out->kreg[i])
			bad = "k mask register";
	if (!bad)
		return 0;
	failures++;
	if (failures <= 5) {
		int n = snprintf(msg, sizeof(msg), "%s: %s not preserved (flags in %#lx out %#lx)\n",
				 what, bad, (unsigned long)in->flags, (unsigned long)out->flags);

		if (n > 0)
			(void)!write(1, msg, n);
	}
	return 1;
}

static void on_alarm(int sig)
{
	static struct regstate in, out;
	static int first = 1;

	(void)sig;
	fill(&in, 1000 + sig_probes);
	if (first) {	/* a fresh site, first reached inside a handler */
		first = 0;
		regs_probe2(&in, &out, wide);
		check(&in, &out, "signal handler, first call of a site");
	} else {
		regs_probe(&in, &out, wide);
		check(&in, &out, "signal handler");
	}
	sig_probes++;
}

/* The C callback: must be entered with DF clear; uses glibc's AVX code. */
static int callback(long nr, long *args, long *result)
{
	static char buf[4096];
	unsigned long fl;

	(void)args;
	(void)result;
	asm volatile("pushfq; pop %0" : "=r"(fl));
	if (fl & 0x400)
		cb_df_set++;
	memset(buf, (int)nr | 1, sizeof(buf) - 1);
	cb_calls += strlen(buf) == sizeof(buf) - 1;
	return 0;
}

static int avx512_usable(void)
{
	unsigned int a, b, c, d;
	uint32_t lo, hi;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 16)))
		return 0;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)))	/* OSXSAVE */
		return 0;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 0xe6) == 0xe6;	/* SSE AVX opmask ZMM_Hi256 Hi16_ZMM */
}

int main(int argc, char **argv)
{
	static struct regstate in, out;
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	int use_cb = argc > 1 && !strcmp(argv[1], "cb");
	long i;

	mypid = getpid();
	wide = avx512_usable();
	if (use_cb) {
		void (*reg)(int (*)(long, long *, long *)) =
			(void (*)(int (*)(long, long *, long *)))dlsym(RTLD_DEFAULT,
								      "syscallhook_register");

		if (!reg) {
			printf("regs: syscallhook_register not found (not preloaded?)\n");
			return 1;
		}
		reg(callback);
	}
	/* First call of the site: the SUD path. */
	fill(&in, 1);
	regs_probe(&in, &out, wide);
	check(&in, &out, "first call (SUD path)");
	/* The rewritten path. */
	for (i = 0; i < 2000; i++) {
		fill(&in, i + 2);
		regs_probe(&in, &out, wide);
		snprintf(where, sizeof(where), "call %ld", i + 2);
		check(&in, &out, where);
	}
	/* Signals interrupting it, probing from the handler. */
	signal(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < 1000000 && sig_probes < 20; i++) {
		fill(&in, i + 5000);
		regs_probe(&in, &out, wide);
		check(&in, &out, "interrupted main loop");
	}
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	printf("regs: %s%s, %d signal-handler probes, %d callback calls, DF set in callback %d times: %s\n",
	       wide ? "zmm0-31 k0-7" : "ymm0-15", use_cb ? ", callback" : "", sig_probes,
	       cb_calls, cb_df_set, failures || cb_df_set || !sig_probes ||
	       (use_cb && !cb_calls) ? "WRONG" : "ok");
	return failures || cb_df_set || !sig_probes || (use_cb && !cb_calls);
}
