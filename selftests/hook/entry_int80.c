// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe: int $0x80 in a 64-bit program is an i386 syscall (i386
 * numbers, arguments in ebx ecx edx esi edi ebp); hooked, it must stay
 * one: getpid is 20 and write is 4 there (20 and 4 are writev and stat in
 * the 64-bit table). Prints "int80: ok".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static long int80(long nr, long a, long b, long c)
{
	long r;

	asm volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

int main(void)
{
	char *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	static const char msg[] = "int80 write\n";
	int ok = 1;

	if (buf == MAP_FAILED)
		return 2;
	memcpy(buf, msg, sizeof(msg) - 1);
	fflush(stdout);
	ok &= int80(20, 0, 0, 0) == getpid();		/* i386 getpid */
	ok &= int80(4, 1, (long)buf, sizeof(msg) - 1) == sizeof(msg) - 1; /* write */
	ok &= int80(20, 0, 0, 0) == getpid();
	printf("int80: %s\n", ok ? "ok" : "WRONG");
	return !ok;
}
