// SPDX-License-Identifier: GPL-2.0
/*
 * Executes a trampoline page rendered on the host by the module's encoder,
 * under qemu-user (arm64, riscv64).  Usage:
 *
 *	run_page CODE_REG DATA_REG N < page.bin
 *
 * The page was rendered for the tables at TABLES (code_table[i] at
 * TABLES + 8 i, data_table[i] at TABLES + 0x800 + 8 i).  The runner maps
 * the tables there, maps the page read+exec, calls every trampoline with
 * eight arguments and checks that the target saw the right data register
 * and the arguments, then checks that the tables are live (a changed entry
 * is seen by the next call) and that the filler traps.  Prints one line per
 * check; exits non-zero on the first failure.
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

long seen_regs[32];
long tfd_target(long, long, long, long, long, long, long, long);
typedef long (*tramp_fn)(long, long, long, long, long, long, long, long);

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

int main(int argc, char **argv)
{
	uint64_t *code, *data;
	int creg, dreg, n, x;
	char *page;
	size_t got = 0;

	if (argc != 4)
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
	/* Past the last instruction of slot 0, and the first unused slot. */
	if (expect_trap(page, 40))
		return 1;
	if (n < PAGE / SLOT && expect_trap(page, (long)n * SLOT))
		return 1;
	return 0;
}
