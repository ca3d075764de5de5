// SPDX-License-Identifier: GPL-2.0
/*
 * JIT code with a slow path placed after the function's ret that jumps
 * back to the syscall with another number (issue 21 item 5):
 *
 *	f:	test %edi,%edi; jnz slow
 *		mov $39,%eax
 *	site:	syscall
 *		ret
 *	slow:	mov $0x40000000,%eax; jmp site
 *
 * f(0) is getpid; f(1) is syscall 1 << 30, -ENOSYS natively.  A site
 * rewritten to call *%rax would call address 1 << 30 on the slow path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	static const unsigned char code[] = {
		0x85, 0xff, 0x75, 0x08,		/* test %edi,%edi; jnz slow */
		0xb8, 0x27, 0x00, 0x00, 0x00,	/* mov $39,%eax */
		0x0f, 0x05,			/* site: syscall */
		0xc3,				/* ret */
		0xb8, 0x00, 0x00, 0x00, 0x40,	/* slow: mov $0x40000000,%eax */
		0xeb, 0xf6,			/* jmp site */
	};
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long (*f)(long nr);
	long i, fast_bad = 0, slow_bad = 0, r;

	if (p == MAP_FAILED)
		return 2;
	memcpy(p, code, sizeof(code));
	f = (long (*)(long))p;
	for (i = 0; i < 1000; i++)
		fast_bad += f(0) != getpid();
	for (i = 0; i < 100; i++) {
		r = f(1);
		slow_bad += r != -ENOSYS;
	}
	for (i = 0; i < 100; i++)
		fast_bad += f(0) != getpid();
	printf("jitslow: site bytes %02x %02x, %ld wrong getpid, %ld wrong slow-path results (last %ld): %s\n",
	       p[9], p[10], fast_bad, slow_bad, r,
	       fast_bad || slow_bad ? "WRONG" : "ok");
	return fast_bad || slow_bad;
}
