// SPDX-License-Identifier: GPL-2.0
/*
 * Executes a trampoline page rendered on the host by the module's encoder,
 * under qemu-user (arm64, riscv64).  Usage:
 *
 *	run_page CODE_REG DATA_REG N [bti] < page.bin
 *
 * The page was rendered for the tables at TABLES (code_table[i] at
 * TABLES + 8 i, data_table[i] at TABLES + 0x800 + 8 i).  The runner maps
 * the tables there, maps the page read+exec, calls every trampoline with
 * eight arguments and checks that the target saw the right data register
 * and the arguments, then checks that the tables are live (a changed entry
 * is seen by the next call) and that the never-executed words of slot 0
 * (SLOT_TRAPS) and the first unused slot trap.  Prints one line per check;
 * exits non-zero on the first failure.
 *
 * "bti" (arm64): also call, through slot 0, a target that starts with
 * "bti c" in a PROT_BTI page (must work: the trampoline's "br x16/x17" is
 * accepted by "bti c"), then call it through a "br x9" stub (must raise
 * SIGILL: the reason the code register is limited to x16/x17).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TABLES 0x10000000UL
#define PAGE 4096
#define SLOT 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Offsets in slot 0 that must trap: the first zero word after the
 * instructions and the literals (arm64: the word after "br" is a udf too,
 * but it is the sixth word, checked by the decode tests; riscv64: "jr" is
 * the last word before the literals).
 */
#if defined(__aarch64__)
static const long slot_traps[] = { 40 };
#elif defined(__riscv)
static const long slot_traps[] = { 48 };
#endif

#include "target.h"

long seen_regs[32];

long weighted(long a, long b, long c, long d, long e, long f, long g, long h)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

static sigjmp_buf trap_env;

static void on_sigill(int sig)
{
	siglongjmp(trap_env, sig);
}

static int fail(const char *what, long x)
{
	printf("FAIL %s %ld\n", what, x);
	return 1;
}

static int call_slot(char *page, int x, int dreg, long want_data)
{
	tramp_fn fn = (tramp_fn)(page + x * SLOT);
	long base = 100 * x;
	long got = fn(base + 1, base + 2, base + 3, base + 4, base + 5,
		      base + 6, base + 7, base + 8);

	if (got != weighted(base + 1, base + 2, base + 3, base + 4, base + 5,
			    base + 6, base + 7, base + 8))
		return fail("arguments", x);
	if (seen_regs[dreg] != want_data)
		return fail("data register", x);
	return 0;
}

static int expect_trap(char *page, long off)
{
	tramp_fn fn = (tramp_fn)(page + off);
	int sig = sigsetjmp(trap_env, 1);

	if (sig == 0) {
		fn(0, 0, 0, 0, 0, 0, 0, 0);
		return fail("no trap at", off);
	}
	if (sig != SIGILL)
		return fail("wrong signal at", off);
	printf("trap %ld\n", off);
	return 0;
}

#ifdef __aarch64__
#define PROT_BTI 0x10

/* A guarded page with "bti c; mov x0, <data reg>; ret" and a "br x9" stub. */
static int check_bti(char *page, int dreg, uint64_t *data)
{
	uint32_t target[3] = { 0xd503245f, 0xaa0003e0 | (dreg << 16), 0xd65f03c0 };
	uint32_t stub[2] = { 0xaa0003e9, 0xd61f0120 };	/* mov x9, x0; br x9 */
	uint32_t *g = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *code = (uint64_t *)TABLES;
	long (*via_x9)(long target);
	int sig;

	if (g == MAP_FAILED)
		return fail("map bti page", 0);
	memcpy(g, target, sizeof(target));
	memcpy(g + 64, stub, sizeof(stub));
	if (mprotect(g, PAGE, PROT_READ | PROT_EXEC | PROT_BTI))
		return fail("mprotect PROT_BTI", 0);
	__builtin___clear_cache((char *)g, (char *)g + PAGE);
	code[0] = (uintptr_t)g;
	data[0] = 0xb71;
	if (((tramp_fn)page)(0, 0, 0, 0, 0, 0, 0, 0) != 0xb71)
		return fail("bti target via trampoline", 0);
	printf("bti c accepts the trampoline\n");
	via_x9 = (long (*)(long))(void *)(g + 64);
	sig = sigsetjmp(trap_env, 1);
	if (sig == 0) {
		via_x9((long)g);
		return fail("br x9 into bti c did not trap", 0);
	}
	if (sig != SIGILL)
		return fail("br x9 into bti c: wrong signal", sig);
	printf("bti c rejects br x9\n");
	return 0;
}
#endif

int main(int argc, char **argv)
{
	uint64_t *code, *data;
	int creg, dreg, n, x;
	char *page;
	size_t got = 0;

	if (argc != 4 && argc != 5)
		return 2;
	creg = atoi(argv[1]);
	dreg = atoi(argv[2]);
	n = atoi(argv[3]);
	(void)creg;
	code = mmap((void *)TABLES, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (code != (void *)TABLES)
		return fail("map tables", 0);
	data = code + 0x800 / 8;
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return fail("map page", 0);
	while (got < PAGE) {
		ssize_t r = read(0, page + got, PAGE - got);

		if (r <= 0)
			return fail("read page", got);
		got += r;
	}
	if (mprotect(page, PAGE, PROT_READ | PROT_EXEC))
		return fail("mprotect", 0);
	__builtin___clear_cache(page, page + PAGE);
	signal(SIGILL, on_sigill);

	for (x = 0; x < n; x++) {
		code[x] = (uintptr_t)tfd_target;
		data[x] = 0x5a5a0000 + x;
	}
	for (x = 0; x < n; x++) {
		if (call_slot(page, x, dreg, 0x5a5a0000 + x))
			return 1;
		printf("slot %d\n", x);
	}
	/* The tables are live: a new data value is seen by the next call. */
	data[n - 1] = -42;
	if (call_slot(page, n - 1, dreg, -42))
		return 1;
	printf("live\n");
	/* The zero words of slot 0, and the first unused slot. */
	for (x = 0; x < (int)ARRAY_SIZE(slot_traps); x++)
		if (expect_trap(page, slot_traps[x]))
			return 1;
	if (n < PAGE / SLOT && expect_trap(page, (long)n * SLOT))
		return 1;
#ifdef __aarch64__
	if (argc == 5 && !strcmp(argv[4], "bti") && check_bti(page, dreg, data))
		return 1;
#endif
	return 0;
}
