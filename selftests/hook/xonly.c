// SPDX-License-Identifier: GPL-2.0
/*
 * An execute-only code page: written RW, then mprotect(PROT_EXEC) alone
 * (on x86-64 with protection keys the kernel makes that execute-only: a
 * read faults).  `mov $39,%eax; syscall; ret` on it is called 1,000 times
 * hooked; results must be right, and afterwards the page must still be
 * execute-only: /proc/self/maps says --xp and a read (in a child) still
 * faults.  A library that restores PROT_READ|PROT_EXEC after patching makes
 * it readable; one that reads the site's bytes faults itself.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether reading *p kills a child with SIGSEGV. */
static int read_faults(volatile unsigned char *p)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		(void)*p;
		_exit(0);
	}
	return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

static void perms(void *p, char out[8])
{
	char line[256];
	unsigned long a, b, addr = (unsigned long)p;
	FILE *f = fopen("/proc/self/maps", "r");

	memcpy(out, "none", sizeof("none"));
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &a, &b, out) == 3 && addr >= a && addr < b)
			break;
		memcpy(out, "none", sizeof("none"));
	}
	if (f)
		fclose(f);
}

int main(void)
{
	static const unsigned char code[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long (*f)(void) = (long (*)(void))p;
	char before[8], after[8];
	int i, bad = 0, xo_before, xo_after;

	if (p == MAP_FAILED)
		return 2;
	memcpy(p, code, sizeof(code));
	if (mprotect(p, 4096, PROT_EXEC))
		return 2;
	perms(p, before);
	xo_before = read_faults(p);
	if (!xo_before) {
		printf("xonly: PROT_EXEC pages are readable here (no protection keys): skipped\n");
		return 0;
	}
	for (i = 0; i < 1000; i++)
		bad += f() != getpid();
	perms(p, after);
	xo_after = read_faults(p);
	printf("xonly: maps %s before, %s after; a read faults: %s; %d wrong results: %s\n",
	       before, after, xo_after ? "yes" : "NO", bad,
	       !bad && xo_after && !strcmp(after, "--xp") ? "ok" : "WRONG");
	return bad || !xo_after || strcmp(after, "--xp");
}
