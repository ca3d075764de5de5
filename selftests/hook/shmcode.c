// SPDX-License-Identifier: GPL-2.0
/*
 * A syscall site in a writable shared mapping (a memfd mapped MAP_SHARED
 * with PROT_READ|PROT_WRITE|PROT_EXEC, "rwxs"; issue 21 item 7): the hook
 * must not rewrite it (the ff d0 would reach the memfd and every process
 * mapping it), yet still hook the call (SUD) and count it.  Checks the
 * results, the mapping's and the file's bytes, and the library's counter.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* syscallhook_count(nr), looked up at run time. */
typedef unsigned long (*count_fn)(unsigned int nr);

int main(void)
{
	static const unsigned char code[] = {
		0xb8, 0x27, 0x00, 0x00, 0x00,	/* mov $39,%eax */
		0x0f, 0x05,			/* syscall */
		0xc3,				/* ret */
	};
	count_fn count = (count_fn)dlsym(RTLD_DEFAULT, "syscallhook_count");
	unsigned char file[8];
	unsigned long before = 0, after = 0;
	long (*f)(void);
	unsigned char *p;
	int fd, i, bad = 0;

	fd = syscall(SYS_memfd_create, "shmcode", 0);
	if (fd < 0 || ftruncate(fd, 4096) || pwrite(fd, code, sizeof(code), 0) != sizeof(code)) {
		perror("memfd");
		return 2;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap rwx shared");
		return 2;
	}
	if (count)
		before = count(39);
	f = (long (*)(void))p;
	for (i = 0; i < 1000; i++)
		bad += f() != getpid();
	if (count)
		after = count(39);
	if (pread(fd, file, sizeof(file), 0) != sizeof(file))
		return 2;
	printf("shmcode: %d wrong results; mapping %02x %02x, file %02x %02x; hooked getpid calls %lu%s\n",
	       bad, p[5], p[6], file[5], file[6], after - before,
	       count ? "" : " (not preloaded)");
	if (bad || memcmp(file, code, sizeof(code)) || memcmp(p, code, sizeof(code)) ||
	    (count && after - before < 1000)) {
		printf("shmcode: WRONG\n");
		return 1;
	}
	printf("shmcode: ok\n");
	return 0;
}
