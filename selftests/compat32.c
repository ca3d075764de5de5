// SPDX-License-Identifier: GPL-2.0
/*
 * A 32-bit program (i386 under x86-64's ia32 emulation, AArch32 on arm64)
 * for compat_test: both devices refuse compat tasks with EOPNOTSUPP.
 *
 * Freestanding: no C library and no kernel headers (the toolchain has no
 * 32-bit ones; gcc-multilib conflicts with the cross compilers), built by
 * scripts/build-userspace with clang --target=i386-linux-gnu or
 * armv7a-linux-gnueabihf, -nostdlib -ffreestanding -static.  It makes its
 * system calls itself (int $0x80, svc 0) and prints one "# compat32: ..."
 * line per check; the exit status is the number of failed checks.
 *
 *   compat32 open                  open /dev/trampfd (and /dev/zpoline)
 *   compat32 inherited TFD ZFD     use fds inherited from a 64-bit parent
 *                                  (ZFD -1: no zpoline fd)
 */
#include "compat32.h"

#define EOPNOTSUPP	95
#define O_RDONLY	0
#define O_RDWR		2
#define PROT_READ	1
#define PROT_EXEC	4
#define MAP_PRIVATE	2

#if defined(__i386__)
#define NR_EXIT_GROUP	252
#define NR_MMAP2	192
#define HAVE_ZPOLINE	1
__asm__(".text\n.globl _start\n_start:\n"
	"\txor %ebp, %ebp\n"
	"\tmov %esp, %eax\n"
	"\tand $-16, %esp\n"
	"\tsub $12, %esp\n"
	"\tpush %eax\n"
	"\tcall cmain\n"
	"\thlt\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	long args[2] = { f, n };
	long ret;

	/* %ebp carries the sixth argument: save it around the call. */
	__asm__ volatile("push %%ebp\n\t"
			 "mov 0(%%eax), %%ebp\n\t"
			 "mov 4(%%eax), %%eax\n\t"
			 "int $0x80\n\t"
			 "pop %%ebp"
			 : "=a"(ret)
			 : "a"(args), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory");
	return ret;
}
#elif defined(__arm__)
#define NR_EXIT_GROUP	248
#define NR_MMAP2	192
#define HAVE_ZPOLINE	0
__asm__(".text\n.globl _start\n_start:\n"
	"\tmov r0, sp\n"
	"\tbic sp, sp, #15\n"
	"\tbl cmain\n"
	"1:\tb 1b\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r0 __asm__("r0") = a;
	register long r1 __asm__("r1") = b;
	register long r2 __asm__("r2") = c;
	register long r3 __asm__("r3") = d;
	register long r4 __asm__("r4") = e;
	register long r5 __asm__("r5") = f;
	register long r7 __asm__("r7") = n;

	__asm__ volatile("svc 0"
			 : "+r"(r0)
			 : "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r7)
			 : "memory");
	return r0;
}
#else
#error "compat32 is for i386 and arm (AArch32)"
#endif

/* Numbers shared by i386 and arm EABI. */
#define NR_WRITE	4
#define NR_OPEN		5
#define NR_CLOSE	6
#define NR_IOCTL	54
#define NR_PWRITE64	181

static long sys(long n, long a, long b, long c)
{
	return sys6(n, a, b, c, 0, 0, 0);
}

static unsigned long slen(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static void put(const char *s)
{
	sys(NR_WRITE, 1, (long)s, (long)slen(s));
}

/* Signed hexadecimal (no division: 32-bit arm has no divide instruction). */
static void put_hex(long v)
{
	char buf[16];
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	int i = sizeof(buf);

	buf[--i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[u & 15];
		u >>= 4;
	} while (u);
	buf[--i] = 'x';
	buf[--i] = '0';
	if (v < 0)
		buf[--i] = '-';
	put(buf + i);
}

static int failures;

static void check(const char *what, long got, long want)
{
	put(got == want ? "# compat32: ok   " : "# compat32: FAIL ");
	put(what);
	put(": got ");
	put_hex(got);
	put(", want ");
	put_hex(want);
	put("\n");
	if (got != want)
		failures++;
}

static long parse_int(const char *s)
{
	long v = 0, sign = 1;

	if (*s == '-') {
		sign = -1;
		s++;
	}
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return sign * v;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void open_checks(void)
{
	long fd = sys(NR_OPEN, (long)"/dev/null", O_RDONLY, 0);

	/* Control: this task can open files at all. */
	check("open /dev/null", fd >= 0 ? 0 : fd, 0);
	sys(NR_CLOSE, fd, 0, 0);
	check("open /dev/trampfd", sys(NR_OPEN, (long)"/dev/trampfd", O_RDWR, 0),
	      -EOPNOTSUPP);
	if (HAVE_ZPOLINE)
		check("open /dev/zpoline",
		      sys(NR_OPEN, (long)"/dev/zpoline", O_RDONLY, 0), -EOPNOTSUPP);
}

static void inherited_checks(long tfd, long zfd)
{
	unsigned long long desc[2] = { 0, 0 };
	unsigned char info[64];
	unsigned long long cfg[3] = { 0x401000, 0, 0 };

	check("trampfd mmap2 PROT_READ|PROT_EXEC",
	      sys6(NR_MMAP2, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, tfd, 0),
	      -EOPNOTSUPP);
	check("trampfd ioctl TRAMPFD_IOC_GET_INFO",
	      sys(NR_IOCTL, tfd, C32_TRAMPFD_IOC_GET_INFO, (long)info), -EOPNOTSUPP);
	check("trampfd ioctl TRAMPFD_IOC_CREATE",
	      sys(NR_IOCTL, tfd, C32_TRAMPFD_IOC_CREATE, 0), -EOPNOTSUPP);
	check("trampfd pwrite64", sys6(NR_PWRITE64, tfd, (long)desc, 16, 0, 0, 0),
	      -EOPNOTSUPP);
	if (zfd < 0)
		return;
	check("zpoline ioctl ZPOLINE_IOC_INSTALL",
	      sys(NR_IOCTL, zfd, C32_ZPOLINE_IOC_INSTALL, (long)cfg), -EOPNOTSUPP);
	check("zpoline mmap2 at 0",
	      sys6(NR_MMAP2, 0, 4096, PROT_EXEC, MAP_PRIVATE, zfd, 0), -EOPNOTSUPP);
}

/* Called from _start (so not static); never returns. */
void cmain(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);

	if (argc == 2 && streq(argv[1], "open"))
		open_checks();
	else if (argc == 4 && streq(argv[1], "inherited"))
		inherited_checks(parse_int(argv[2]), parse_int(argv[3]));
	else
		failures = C32_USAGE;
	for (;;)
		sys(NR_EXIT_GROUP, failures, 0, 0);
}
