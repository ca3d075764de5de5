// SPDX-License-Identifier: GPL-2.0
/*
 * libffi-style closures on /dev/trampfd: plain `int (*)(int)` function
 * pointers, each bound to its own user data, created while the process runs
 * under PR_SET_MDWE (no W+X memory, no RW->RX flips) -- which is exactly
 * where a classic closure allocator fails.
 *
 * Each closure is a trampoline slot.  code_table[X] is a shared entry stub;
 * data_table[X] points at the closure object.  The stub moves the data
 * register (r10 on x86-64, x17 on arm64, t2 on riscv64) into the second
 * argument register and jumps to the closure's handler:
 * handler(int arg, struct closure *self).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/trampfd.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

struct closure;
typedef int (*handler_fn)(int arg, struct closure *self);

struct closure {
	handler_fn handler;	/* first: the entry stub jumps through it */
	int bound;		/* the user data of this closure */
	const char *name;
};

#include "closure_entry.h"

/* A page of closures: one trampfd. */
struct closure_pool {
	int fd;
	unsigned char *page;
	unsigned int size, used, code_size;
	__u64 *code, *data;
};

static int pool_init(struct closure_pool *p, int devfd)
{
	struct trampfd_info info;
	struct trampfd_code code;
	struct trampfd_data data;

	p->fd = ioctl(devfd, TRAMPFD_IOC_CREATE, TRAMPFD_CREATE_CLOEXEC);
	if (p->fd < 0 || ioctl(p->fd, TRAMPFD_IOC_GET_INFO, &info))
		return -errno;
	p->size = info.ntrampolines;
	p->code_size = info.code_size;
	p->used = 0;
	p->code = calloc(p->size, sizeof(__u64));
	p->data = calloc(p->size, sizeof(__u64));
	if (!p->code || !p->data)
		return -ENOMEM;
	code = (struct trampfd_code){ p->size, TRAMPFD_NATIVE_CODE_REG, (uintptr_t)p->code };
	data = (struct trampfd_data){ TRAMPFD_NATIVE_DATA_REG, 0, (uintptr_t)p->data };
	if (pwrite(p->fd, &code, sizeof(code), TRAMPFD_CODE_OFFSET) != sizeof(code) ||
	    pwrite(p->fd, &data, sizeof(data), TRAMPFD_DATA_OFFSET) != sizeof(data))
		return -errno;
	p->page = mmap(NULL, p->size * p->code_size, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE, p->fd, info.code_offset);
	return p->page == MAP_FAILED ? -errno : 0;
}

/* Bind @c to a free slot; returns the callable function pointer. */
static int (*closure_bind(struct closure_pool *p, struct closure *c))(int)
{
	unsigned int x;

	if (p->used == p->size)
		return NULL;
	x = p->used++;
	p->code[x] = (uintptr_t)closure_entry;
	p->data[x] = (uintptr_t)c;
	return (int (*)(int))(void *)(p->page + x * p->code_size);
}

static int add(int arg, struct closure *self)
{
	return arg + self->bound;
}

static int mul(int arg, struct closure *self)
{
	return arg * self->bound;
}

int main(void)
{
	struct closure cl[] = {
		{ add, 1, "add 1" }, { add, 100, "add 100" },
		{ mul, 3, "times 3" }, { mul, -2, "times -2" },
	};
	int (*fn[4])(int);
	struct closure_pool pool = { .fd = -1 };
	int devfd, i, ret, bad = 0;
	void *wx;

	printf("running as uid %d\n", (int)getuid());
	if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0)) {
		perror("prctl(PR_SET_MDWE)");
		return 1;
	}
	wx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("MDWE on: anonymous W+X mmap for a classic closure: %s\n",
	       wx == MAP_FAILED ? strerror(errno) : "allowed (unexpected)");

	devfd = open("/dev/trampfd", O_RDWR | O_CLOEXEC);
	if (devfd < 0) {
		perror("/dev/trampfd");
		return 1;
	}
	ret = pool_init(&pool, devfd);
	if (ret) {
		fprintf(stderr, "trampfd pool: %s\n", strerror(-ret));
		return 1;
	}
	printf("trampfd pool: %u closures of %u bytes at %p (r-x, never writable)\n",
	       pool.size, pool.code_size, (void *)pool.page);
	for (i = 0; i < 4; i++)
		fn[i] = closure_bind(&pool, &cl[i]);
	for (i = 0; i < 4; i++) {
		int got = fn[i](7), want = cl[i].handler(7, &cl[i]);

		printf("closure %d (%-8s) at %p: f(7) = %d%s\n", i, cl[i].name,
		       (void *)fn[i], got, got == want ? "" : "  <-- WRONG");
		bad |= got != want;
	}
	/* Rebinding is a table write: no code is ever modified. */
	cl[0].bound = 1000;
	printf("after rebinding closure 0 to add 1000: f(7) = %d\n", fn[0](7));
	bad |= fn[0](7) != 1007;
	printf("%s\n", bad ? "closure demo: FAILED" : "closure demo: OK");
	return bad;
}
