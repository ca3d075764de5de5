// SPDX-License-Identifier: GPL-2.0
/*
 * The rewritten-site table filled beyond its capacity (issue 21 item 12),
 * through the library's syscallhook_bench_mark_site (it enters an address
 * as a rewritten site without rewriting anything): 70,000 addresses in a
 * reserved region for a table of 65,536 slots.  Then
 *
 *   full     the table refuses some, never all slots used;
 *   jit      a new JIT getpid site still works (left on SUD, table-full);
 *   null     a call through a NULL pointer from code that is no site must
 *            die of SIGSEGV: the entry's probe loop must end (with a full
 *            table it never did);
 *   freed    the region unmapped, the table has room again: a new JIT
 *            site is rewritten.
 *
 * Needs LD_PRELOAD=libsyscallhook.so (with the hook active).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The library's test entry points, looked up at run time. */
typedef int (*mark_fn)(unsigned long site);
typedef unsigned long (*stat_fn)(unsigned int which);

#define MARKS 70000

static unsigned char *jit(const unsigned char *code, size_t len)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(2);
	memcpy(p, code, len);
	return p;
}

static const unsigned char getpid_code[] = {
	0xb8, 0x27, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3,
};

static int calls_ok(unsigned char *p)
{
	long (*f)(void) = (long (*)(void))p;
	int i, ok = 1;

	for (i = 0; i < 100; i++)
		ok &= f() == getpid();
	return ok;
}

int main(void)
{
	mark_fn mark = (mark_fn)dlsym(RTLD_DEFAULT, "syscallhook_bench_mark_site");
	stat_fn stat = (stat_fn)dlsym(RTLD_DEFAULT, "syscallhook_patch_stat");
	static const unsigned char null_call[] = {
		0x31, 0xc0, 0xff, 0xd0, 0xc3,	/* xor %eax,%eax; call *%rax; ret */
	};
	unsigned long full0, rewritten0;
	unsigned char *region, *p;
	long i, marked = 0;
	pid_t pid;
	int st, ok;

	if (!mark || !stat) {
		printf("sitefill: not preloaded\n");
		return 1;
	}
	region = mmap(NULL, MARKS * 16UL, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return 2;
	for (i = 0; i < MARKS; i++)
		marked += mark((unsigned long)region + 16 * i) != 0;
	/*
	 * Slots must be left: entered marks plus the real rewritten sites
	 * fill fewer than the 65,536 slots.
	 */
	ok = marked > 50000 && marked + stat(0) < 65536;
	printf("sitefill full: %s (%ld of %d entered, %lu rewritten sites)\n", ok ? "ok" : "WRONG",
	       marked, MARKS, stat(0));

	full0 = stat(1 + 12);	/* table-full */
	p = jit(getpid_code, sizeof(getpid_code));
	ok = calls_ok(p) && p[5] == 0x0f && stat(1 + 12) > full0;
	printf("sitefill jit: %s (site %02x %02x, table-full %lu -> %lu)\n", ok ? "ok" : "WRONG",
	       p[5], p[6], full0, stat(1 + 12));

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(30);	/* a probe loop that never ends: SIGALRM */
		((void (*)(void))jit(null_call, sizeof(null_call)))();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ok = WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
	printf("sitefill null: %s (%s %d)\n", ok ? "ok" : "WRONG",
	       WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));

	munmap(region, MARKS * 16UL);
	rewritten0 = stat(0);
	p = jit(getpid_code, sizeof(getpid_code));
	ok = calls_ok(p) && p[5] == 0xff && stat(0) == rewritten0 + 1;
	printf("sitefill freed: %s (site %02x %02x)\n", ok ? "ok" : "WRONG", p[5], p[6]);
	return 0;
}
