// SPDX-License-Identifier: GPL-2.0
/*
 * A program that generates a syscall instruction at run time (JIT-style)
 * and calls it: mov $39, %eax; syscall; ret.  Prints whether the result is
 * getpid().  The hook library must catch this site lazily, like any other.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	static const unsigned char code[] = {
		0xb8, 0x27, 0x00, 0x00, 0x00,	/* mov $39, %eax */
		0x0f, 0x05,			/* syscall */
		0xc3,				/* ret */
	};
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long (*f)(void);
	int i, ok = 1;

	if (p == MAP_FAILED)
		return 2;
	memcpy(p, code, sizeof(code));
	f = (long (*)(void))p;
	for (i = 0; i < 1000; i++)
		ok &= f() == getpid();
	printf("jit getpid: %s\n", ok ? "ok" : "WRONG");
	return !ok;
}
