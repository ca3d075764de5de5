// SPDX-License-Identifier: GPL-2.0
/*
 * Rewritten sites must leave the library's table with their code (issue
 * 21 item 12).  A page of JIT code with a getpid site is called until the
 * site is rewritten (ff d0), then:
 *
 *   munmap   the page is unmapped and new code mapped at the same address
 *            with a `call *%rax` (ff d0) at the old site and %rax = 0: a
 *            call through a NULL pointer, which must die of SIGSEGV as it
 *            does natively, not run as a syscall;
 *   fixed    the same, the new code mapped with MAP_FIXED over the old;
 *   mremap   the page is moved (MREMAP_MAYMOVE|MREMAP_FIXED): the code at
 *            the new address must still work (the site moved with it).
 *
 * Each case runs in a child; prints "remap CASE: ok" per case.  Natively
 * the site is never rewritten; the cases must behave the same.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The code at the site, called as a function. */
typedef long (*call_fn)(void);

#define SITE 0x105

static const unsigned char getpid_code[] = {
	0xb8, 0x27, 0x00, 0x00, 0x00,	/* mov $39,%eax */
	0x0f, 0x05,			/* syscall (at SITE) */
	0xc3,				/* ret */
};
static const unsigned char null_call[] = {
	0x31, 0xc0,			/* xor %eax,%eax */
	0xff, 0xd0,			/* call *%rax (at SITE) */
	0xc3,				/* ret */
};

static unsigned char *jit_getpid(void)
{
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	call_fn f = (call_fn)(p + SITE - 5);
	int i;

	if (p == MAP_FAILED)
		exit(2);
	memcpy(p + SITE - 5, getpid_code, sizeof(getpid_code));
	for (i = 0; i < 100; i++)
		if (f() != getpid())
			exit(3);
	return p;
}

static void put_null_call(unsigned char *p)
{
	memcpy(p + SITE - 2, null_call, sizeof(null_call));
	((void (*)(void))(p + SITE - 2))();
	exit(0);	/* the NULL call returned: it ran as something else */
}

/* Runs one case in a child; returns its wait status. */
static int run(const char *name)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		unsigned char *p, *q;

		alarm(60);
		p = jit_getpid();
		if (!strcmp(name, "munmap")) {
			if (munmap(p, 4096))
				exit(4);
			q = mmap(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (q != p)
				exit(5);
			put_null_call(q);
		} else if (!strcmp(name, "fixed")) {
			q = mmap(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			if (q != p)
				exit(5);
			put_null_call(q);
		} else {
			unsigned char *dest = mmap(NULL, 4096, PROT_READ,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			long (*f)(void);
			int i;

			q = mremap(p, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
			if (q != dest)
				exit(5);
			f = (long (*)(void))(q + SITE - 5);
			for (i = 0; i < 100; i++)
				if (f() != getpid())
					exit(6);
			exit(0);
		}
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

int main(void)
{
	static const char *const cases[] = { "munmap", "fixed", "mremap" };
	unsigned char *p = jit_getpid();
	unsigned int i;
	int fails = 0;

	/*
	 * Under the hook the site must have been rewritten for the cases to
	 * mean anything; natively it never is.
	 */
	printf("remap: site %s\n", p[SITE] == 0xff ? "rewritten" : "not rewritten");
	for (i = 0; i < 3; i++) {
		int st = run(cases[i]);
		int segv = WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
		int clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
		/* munmap and MAP_FIXED: SIGSEGV as natively; mremap: works. */
		int ok = i < 2 ? segv : clean;
		const char *verdict = "WRONG", *how = "exit";
		int code = WEXITSTATUS(st);

		if (ok)
			verdict = "ok";
		if (WIFSIGNALED(st)) {
			how = "signal";
			code = WTERMSIG(st);
		}
		printf("remap %s: %s (%s %d)\n", cases[i], verdict, how, code);
		fails += !ok;
	}
	return fails != 0;
}
