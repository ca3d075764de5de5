// SPDX-License-Identifier: GPL-2.0
/*
 * A JIT that keeps its code page RWX: it writes `mov $39,%eax; syscall;
 * ret`, calls it 100 times (the hook rewrites the site on the way), then
 * writes new code into the same page (`mov $110,%eax; syscall; ret` at the
 * same address, and a second function further on) and calls both 100 times.
 * The page must still be writable after the rewrite (a library that
 * restores RX after patching makes the second write fault), /proc/self/maps
 * must show it rwx before and after, and every result must be right.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *perms(void *p)
{
	static char line[256], out[8];
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
	return out;
}

int main(void)
{
	static const unsigned char getpid_code[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	static const unsigned char getppid_code[] = { 0xb8, 110, 0, 0, 0, 0x0f, 0x05, 0xc3 };
	unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long (*f)(void) = (long (*)(void))p;
	long (*g)(void) = (long (*)(void))&p[256];
	int i, bad = 0;
	char before[8];

	if (p == MAP_FAILED)
		return 2;
	memcpy(p, getpid_code, sizeof(getpid_code));
	snprintf(before, sizeof(before), "%s", perms(p));
	for (i = 0; i < 100; i++)
		bad += f() != getpid();
	/* The JIT writes again: new code over the old site, and more. */
	memcpy(p, getppid_code, sizeof(getppid_code));
	memcpy(p + 256, getpid_code, sizeof(getpid_code));
	for (i = 0; i < 100; i++) {
		bad += f() != getppid();
		bad += g() != getpid();
	}
	printf("jitrw: maps %s before, %s after, %d wrong results: %s\n", before, perms(p), bad,
	       !bad && !strcmp(before, "rwxp") && !strcmp(perms(p), "rwxp") ? "ok" : "WRONG");
	return bad || strcmp(before, "rwxp") || strcmp(perms(p), "rwxp");
}
