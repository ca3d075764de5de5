// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe (issue 21, item 10): a hooked syscall that changes PKRU
 * keeps the change. pkey_alloc(0, PKEY_DISABLE_WRITE) sets the new key's
 * write-disable bit in PKRU in the kernel; with a C callback registered
 * (the slow path, which saves and restores the extended state) the
 * restore must not put the old PKRU back. Through glibc's pkey_alloc
 * (a rewritten site) and through syscall(3). Needs PKU (the guest runs
 * -cpu max). Prints "pkru: ok".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned int rdpkru(void)
{
	unsigned int eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static volatile long seen;

static int cb(long nr, long args[6], long *result)
{
	(void)args;
	(void)result;
	if (nr == SYS_pkey_alloc)
		seen++;
	return 0;
}

/* One allocation with PKEY_DISABLE_WRITE; 0 when PKRU shows it. */
static int check(const char *how, int key)
{
	unsigned int pkru = rdpkru();
	int wd = key >= 0 && (pkru >> (2 * key + 1)) & 1;

	printf("pkru: %s: key %d, PKRU %#x, write-disable bit %s\n", how, key, pkru,
	       wd ? "set" : "CLEAR");
	return !wd;
}

int main(void)
{
	void (*reg)(int (*)(long, long *, long *)) =
		(void (*)(int (*)(long, long *, long *)))dlsym(RTLD_DEFAULT, "syscallhook_register");
	int k, bad = 0;

	if (!reg) {
		printf("pkru: no library\n");
		return 2;
	}
	k = pkey_alloc(0, 0);
	if (k < 0) {
		printf("pkru: no PKU (pkey_alloc: %m)\n");
		return 2;
	}
	pkey_free(k);
	for (k = 0; k < 3; k++)	/* glibc's pkey_alloc site: rewritten (lazy) */
		pkey_free(pkey_alloc(0, 0));
	reg(cb);
	bad |= check("pkey_alloc", pkey_alloc(0, PKEY_DISABLE_WRITE));
	bad |= check("syscall(3)", syscall(SYS_pkey_alloc, 0, PKEY_DISABLE_WRITE));
	reg(NULL);
	bad |= seen != 2;
	printf("pkru: %s (callbacks %ld)\n", bad ? "WRONG" : "ok", seen);
	return bad;
}
