// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/zpoline: policy, page contents, the rewritten-call path, sealing,
 * execute-only, fork and exec, and one test per refused input.  Each test
 * runs in its own process (the harness forks), so each installs afresh.
 *
 * Some tests read the kernel command line: make check boots extra guests
 * with clearcpuid=smep, clearcpuid=smap and nopku, and the tests assert that
 * the CPU flags match it before they assert the outcome.  Tests that reload
 * the module (module parameters) leave it loaded with defaults.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/zpoline.h>

#include "kselftest_harness.h"
#include "trampfd_util.h"
#include "zpoline_hook.h"

#define ZP_DEV "/dev/zpoline"
#define EMULATED_NR 500
/* The group the userns test loads the module with (zpoline_gid). */
#define ZP_GID 4242

/*
 * What a rewritten `syscall` does: call *%rax.  The 128-byte step over the
 * red zone keeps the compiler's red-zone data intact (a rewritten site in
 * leaf code cannot do that: see Documentation/zpoline.rst).
 */
static long zcall(long nr, long a1, long a2, long a3)
{
	register long r10 asm("r10") = 0;
	long ret;

	asm volatile("sub $128, %%rsp\n\t"
		     "call *%%rax\n\t"
		     "add $128, %%rsp"
		     : "=a"(ret)
		     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10)
		     : "rcx", "r11", "memory");
	return ret;
}

static int install(int fd, __u64 hook, struct zpoline_cfg *out)
{
	struct zpoline_cfg cfg = { .hook = hook };
	int ret = tfd_err(ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg));

	if (out)
		*out = cfg;
	return ret;
}

static int zp_open(void)
{
	return open(ZP_DEV, O_RDONLY | O_CLOEXEC);
}

/* Is anything mapped at address 0, according to /proc/self/maps? */
static int page_zero_mapped(void)
{
	char line[256];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "00000000-", 9))
			found = 1;
	fclose(f);
	return found;
}

/* Is @flag one of the CPU flags in /proc/cpuinfo (as the kernel uses them)? */
static int cpu_flag(const char *flag)
{
	char line[4096], word[64];
	int found = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return 0;
	snprintf(word, sizeof(word), " %s", flag);
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line;

		if (strncmp(line, "flags", 5))
			continue;
		while ((p = strstr(p, word))) {
			p += strlen(word);
			if (*p == ' ' || *p == '\n' || *p == 0) {
				found = 1;
				break;
			}
		}
	}
	fclose(f);
	return found;
}

/*
 * Protection keys usable by the kernel: "ospke", not "pku", which nopku
 * leaves in /proc/cpuinfo (the CPU has it, the kernel does not use it).
 */
static int cpu_has_pku(void)
{
	return cpu_flag("ospke");
}

/* Does the kernel command line contain @s? */
static int cmdline_has(const char *s)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	return !!strstr(line, s);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = 0;
	return 0;
}

/*
 * Reload the module with @params (as module_test does); against a
 * built-in driver (tfd_builtin()) the tests that do run only in a guest
 * booted with those parameters (tfd_booted_with()).
 */
static int reload(const char *params)
{
	const char *ko = getenv("TRAMPFD_KO");
	int fd, ret;

	ret = tfd_err(syscall(SYS_delete_module, "trampfd", O_NONBLOCK));
	if (ret && ret != -ENOENT)
		return ret;
	fd = open(ko ? ko : "/mod/trampfd.ko", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = tfd_err(syscall(SYS_finit_module, fd, params, 0));
	close(fd);
	return ret;
}

static void drop_to_user(int with_group)
{
	gid_t g = ZP_GID;

	if (setgroups(with_group ? 1 : 0, &g) || setresgid(1000, 1000, 1000) ||
	    setresuid(1000, 1000, 1000))
		_exit(99);
}

static int wait_child(pid_t pid)
{
	int st;

	waitpid(pid, &st, 0);
	return st;
}

FIXTURE(zp) {
	int fd;
};

FIXTURE_SETUP(zp)
{
	self->fd = zp_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", ZP_DEV, strerror(errno));
}

FIXTURE_TEARDOWN(zp)
{
	close(self->fd);
}

TEST_F(zp, install_reports_sled_and_xom)
{
	struct zpoline_cfg cfg;

	ASSERT_EQ(0, page_zero_mapped());
	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, &cfg));
	/* The stub's offset, at the end of the page (Documentation/zpoline.rst). */
	EXPECT_EQ(4079, cfg.sled_len);
	EXPECT_EQ(ZPOLINE_STUB_OFFSET, cfg.sled_len);
	EXPECT_EQ(ZPOLINE_SLED_LEN, cfg.sled_len);
	EXPECT_EQ((uintptr_t)zp_hook, cfg.hook);
	EXPECT_EQ(cpu_has_pku() ? ZPOLINE_RESULT_XOM : 0, cfg.result);
	EXPECT_EQ(1, page_zero_mapped());
}

TEST_F(zp, rewritten_call_reaches_the_hook_like_syscall)
{
	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, NULL));
	zp_calls = 0;
	EXPECT_EQ(0x5eed + 7, zcall(EMULATED_NR, 7, 0, 0));
	EXPECT_EQ(1, zp_calls);
	/* rcx holds the return address, as after a real syscall. */
	EXPECT_EQ(zp_last_ret, zp_last_rcx);
	EXPECT_NE(0, zp_last_rcx);
	/* Pass-through: the hook issues the real syscall. */
	EXPECT_EQ(getpid(), zcall(__NR_getpid, 0, 0, 0));
	EXPECT_EQ(getppid(), zcall(__NR_getppid, 0, 0, 0));
	EXPECT_EQ(3, zp_calls);
	/* The last fast entry, and the last one before the stub. */
	EXPECT_EQ(-ENOSYS, zcall(ZPOLINE_FAST_LEN - 1, 0, 0, 0));
	EXPECT_EQ(-ENOSYS, zcall(ZPOLINE_STUB_OFFSET - 1, 0, 0, 0));
	EXPECT_EQ(5, zp_calls);
}

/* Copy @n bytes from address 0 (in asm: C may not read a NULL pointer). */
static void copy_from_zero(unsigned char *dst, size_t n)
{
	unsigned long src = 0;

	asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* Does the 8-byte cell at @p start with @b0 @b1? (the rest: checked by caller) */
static int cell_is(const unsigned char *p, int b0, int b1)
{
	return p[0] == b0 && p[1] == b1;
}

/*
 * The layout of Documentation/zpoline.rst: 8-byte cells `eb rel8 66 66 66
 * 66 66 90` (jmp, then a prefixed nop), stations E at 592 and Q at 2464
 * (`e9 rel32 48 eb 48`), nops from 3984, the stub at 4079.
 */
TEST_F(zp, page_bytes_are_cells_stations_tail_and_stub)
{
	static const unsigned char nop_tail[6] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x90 };
	static const unsigned char station_e[8] = {
		0xe9, 0x4b, 0x07, 0x00, 0x00, 0x48, 0xeb, 0x48
	};
	static const unsigned char station_q[8] = {
		0xe9, 0x4a, 0x06, 0x00, 0x00, 0x48, 0xeb, 0x48
	};
	static const unsigned char stub_head[6] = { 0x48, 0x8b, 0x0c, 0x24, 0x49, 0xbb };
	unsigned char page[4096];
	struct zpoline_cfg cfg;
	__u64 hook = 0;
	int i;

	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, &cfg));
	if (cfg.result & ZPOLINE_RESULT_XOM)
		SKIP(return, "execute-only page: its bytes cannot be read");
	copy_from_zero(page, sizeof(page));
	for (i = 0; i < 3984; i += 8) {
		if (i == 592 || i == 2464)
			continue;
		ASSERT_EQ(0xeb, page[i]) TH_LOG("cell %d", i);	/* jmp rel8 */
		ASSERT_EQ(0, memcmp(page + i + 2, nop_tail, 6)) TH_LOG("cell %d", i);
	}
	EXPECT_TRUE(cell_is(page, 0xeb, 0x66));		/* jmp +104 */
	EXPECT_TRUE(cell_is(page + 552, 0xeb, 0x26));	/* jmp +40: station E */
	EXPECT_TRUE(cell_is(page + 2328, 0xeb, 0x4e));	/* jmp +80 */
	EXPECT_TRUE(cell_is(page + 3976, 0xeb, 0x65));	/* jmp +103: the stub */
	EXPECT_EQ(0, memcmp(page + 592, station_e, 8));	/* jmp 2464; rex.W jmp 672 */
	EXPECT_EQ(0, memcmp(page + 2464, station_q, 8));	/* jmp 4079; rex.W jmp 2544 */
	for (i = 3984; i < 4079; i++)
		ASSERT_EQ((i % 8 == 7 || i == 4078) ? 0x90 : 0x66, page[i]) TH_LOG("offset %d", i);
	EXPECT_EQ(0, memcmp(page + 4079, stub_head, 6));	/* mov rcx, [rsp]; movabs r11, */
	for (i = 0; i < 8; i++)
		hook |= (__u64)page[4085 + i] << (8 * i);
	EXPECT_EQ((uintptr_t)zp_hook, hook);
	EXPECT_EQ(0x41, page[4093]);	/* jmp r11 */
	EXPECT_EQ(0xff, page[4094]);
	EXPECT_EQ(0xe3, page[4095]);
}

/*
 * What on_fault saw: signal, si_addr, GPRs and rflags in block order, rsp,
 * rip.  Read only after zp_fp_call returns (an external call: the compiler
 * reloads it).
 */
static unsigned long fault_seen[20];

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	static const int order[18] = {
		REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP,
		REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14,
		REG_R15, REG_EFL, REG_RSP, REG_RIP,
	};
	greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	int i;

	fault_seen[0] = sig;
	fault_seen[1] = (unsigned long)si->si_addr;
	for (i = 0; i < 18; i++)
		fault_seen[2 + i] = g[order[i]];
	/* Resume after the call, as if the hook had returned. */
	g[REG_RIP] = (greg_t)(uintptr_t)zp_fp_back;
	g[REG_RSP] = (greg_t)zp_fp_rsp;
}

/* Arithmetic flags and DF: what the every-offset test sets and compares. */
#define ZP_FLAGS 0xcd5UL

/*
 * Every %rax below sled_len, through `call *%rax` as a rewritten site does:
 * the hook is reached with every register but rcx (the return address) and
 * r11 (the hook) and every flag as they were, or the offset is one of the
 * 8 documented holes (all above ZPOLINE_FAST_LEN) and the call faults
 * before anything changed: SIGILL at bytes 1 and 2 of a station, SIGSEGV
 * at rax (byte 3) or rax - 21 (byte 4).
 */
TEST_F(zp, every_offset_reaches_the_hook_or_is_a_documented_hole)
{
	static const struct { unsigned long off; int sig; unsigned long addr; } holes[8] = {
		{ 593, SIGILL, 593 }, { 594, SIGILL, 594 },
		{ 595, SIGSEGV, 595 }, { 596, SIGSEGV, 596 - 21 },
		{ 2465, SIGILL, 2465 }, { 2466, SIGILL, 2466 },
		{ 2467, SIGSEGV, 2467 }, { 2468, SIGSEGV, 2468 - 21 },
	};
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	struct zpoline_cfg cfg;
	unsigned long off;
	int i, nholes = 0;

	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_fp_land, &cfg));
	ASSERT_EQ(4079, cfg.sled_len);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGILL, &sa, NULL));
	for (off = 0; off < cfg.sled_len; off++) {
		unsigned long block[16];

		for (i = 0; i < 16; i++)
			block[i] = 0x5a5a000000000000UL ^ ((unsigned long)i << 40) ^
				   (off * 0x10001);
		block[0] = off;
		block[15] = 0x2 | (ZP_FLAGS & (off * 0x9e3779b9UL));
		memset(zp_fp_seen, 0, sizeof(zp_fp_seen));
		fault_seen[0] = 0;
		zp_fp_call(block);
		if (fault_seen[0]) {
			ASSERT_LT(nholes, 8) TH_LOG("offset %lu faults", off);
			ASSERT_EQ(holes[nholes].off, off) TH_LOG("offset %lu faults", off);
			EXPECT_EQ(holes[nholes].sig, (int)fault_seen[0]) TH_LOG("offset %lu", off);
			EXPECT_EQ(holes[nholes].addr, fault_seen[1]) TH_LOG("offset %lu", off);
			EXPECT_EQ(off, fault_seen[19]) TH_LOG("offset %lu: rip", off);
			for (i = 0; i < 15; i++)
				EXPECT_EQ(block[i], fault_seen[2 + i])
					TH_LOG("offset %lu: register %d at the fault", off, i);
			EXPECT_EQ(block[15] & ZP_FLAGS, fault_seen[17] & ZP_FLAGS)
				TH_LOG("offset %lu: flags at the fault", off);
			nholes++;
			continue;
		}
		ASSERT_EQ((uintptr_t)zp_fp_back, zp_fp_seen[17]) TH_LOG("offset %lu: no hook", off);
		for (i = 0; i < 15; i++) {
			if (i == 2 || i == 10)	/* rcx, r11 */
				continue;
			ASSERT_EQ(block[i], zp_fp_seen[i])
				TH_LOG("offset %lu: register %d", off, i);
		}
		ASSERT_EQ(zp_fp_seen[17], zp_fp_seen[2]) TH_LOG("offset %lu: rcx", off);
		ASSERT_EQ((uintptr_t)zp_fp_land, zp_fp_seen[10]) TH_LOG("offset %lu: r11", off);
		ASSERT_EQ(block[15] & ZP_FLAGS, zp_fp_seen[15] & ZP_FLAGS)
			TH_LOG("offset %lu: flags", off);
		ASSERT_EQ(zp_fp_rsp - 8, zp_fp_seen[16]) TH_LOG("offset %lu: rsp", off);
	}
	EXPECT_EQ(8, nholes);
	for (i = 0; i < 8; i++)
		EXPECT_LE(ZPOLINE_FAST_LEN, holes[i].off);
}

TEST_F(zp, execute_only_where_pkeys_exist)
{
	pid_t pid;
	int st;

	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, NULL));
	pid = fork();
	if (pid == 0) {
		unsigned char b;

		asm volatile("movb 0, %0" : "=r"(b) : : "memory");
		_exit(b == 0xeb ? 0 : 1);	/* the first jmp of the sled */
	}
	st = wait_child(pid);
	if (cpu_has_pku()) {
		ASSERT_TRUE(WIFSIGNALED(st));
		EXPECT_EQ(SIGSEGV, WTERMSIG(st));
	} else {
		ASSERT_TRUE(WIFEXITED(st));
		EXPECT_EQ(0, WEXITSTATUS(st));
	}
}

TEST_F(zp, sealed_no_mprotect_munmap_mremap_or_map_fixed)
{
	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, NULL));
	/* Never writable (no VM_MAYWRITE) ... */
	EXPECT_EQ(-EACCES, tfd_err(mprotect(NULL, 4096, PROT_READ | PROT_WRITE)));
	/* ... and sealed: no other change either. */
	EXPECT_EQ(-EPERM, tfd_err(mprotect(NULL, 4096, PROT_READ | PROT_EXEC)));
	EXPECT_EQ(-EPERM, tfd_err(mprotect(NULL, 4096, PROT_NONE)));
	EXPECT_EQ(-EPERM, tfd_err(munmap(NULL, 4096)));
	EXPECT_EQ(MAP_FAILED, mremap(NULL, 4096, 8192, MREMAP_MAYMOVE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(0x5eed, zcall(EMULATED_NR, 0, 0, 0));
}

TEST_F(zp, proc_self_mem_cannot_write_it)
{
	int mem;

	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, NULL));
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	EXPECT_EQ(-EIO, tfd_err(pwrite(mem, "\xcc", 1, 0)));
	close(mem);
	EXPECT_EQ(0x5eed + 1, zcall(EMULATED_NR, 1, 0, 0));
}

TEST_F(zp, fork_child_keeps_the_page)
{
	pid_t pid;
	int st;

	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, NULL));
	pid = fork();
	if (pid == 0)
		_exit(zcall(EMULATED_NR, 3, 0, 0) == 0x5eed + 3 ? 0 : 1);
	st = wait_child(pid);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(zp, exec_drops_the_page)
{
	pid_t pid;
	int st;

	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, NULL));
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "zpoline_test", "--page-zero-mapped", NULL);
		_exit(98);
	}
	st = wait_child(pid);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("0: unmapped after exec, 1: mapped");
}

TEST_F(zp, unprivileged_user_gets_eperm_and_address_zero_stays_protected)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		drop_to_user(0);
		if (install(self->fd, (uintptr_t)zp_hook, NULL) != -EPERM)
			_exit(1);
		if (page_zero_mapped() != 0)
			_exit(2);
		/* The ordinary mmap_min_addr rule is unchanged. */
		if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0) != MAP_FAILED || errno != EPERM)
			_exit(3);
		_exit(0);
	}
	st = wait_child(pid);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(zp, hook_zero_is_einval)
{
	EXPECT_EQ(-EINVAL, install(self->fd, 0, NULL));
	EXPECT_EQ(0, page_zero_mapped());
}

TEST_F(zp, hook_in_kernel_space_is_efault)
{
	EXPECT_EQ(-EFAULT, install(self->fd, 0xffffffff81000000ull, NULL));
}

TEST_F(zp, unknown_flags_and_reserved_are_einval)
{
	struct zpoline_cfg cfg = { .hook = (uintptr_t)zp_hook, .flags = 2 };

	EXPECT_EQ(-EINVAL, tfd_err(ioctl(self->fd, ZPOLINE_IOC_INSTALL, &cfg)));
	cfg.flags = ZPOLINE_INSTALL_REQUIRE_XOM | 0x80000000u;
	EXPECT_EQ(-EINVAL, tfd_err(ioctl(self->fd, ZPOLINE_IOC_INSTALL, &cfg)));
	cfg.flags = 0;
	cfg.reserved = 1;
	EXPECT_EQ(-EINVAL, tfd_err(ioctl(self->fd, ZPOLINE_IOC_INSTALL, &cfg)));
	EXPECT_EQ(0, page_zero_mapped());
}

TEST_F(zp, bad_cfg_pointer_is_efault)
{
	EXPECT_EQ(-EFAULT, tfd_err(ioctl(self->fd, ZPOLINE_IOC_INSTALL, (void *)8)));
}

/*
 * The reply goes to the request's own bytes: a request the caller cannot
 * have answered is refused before anything is mapped, and the fd stays
 * usable.
 */
TEST_F(zp, read_only_cfg_is_efault_before_anything_is_mapped)
{
	struct zpoline_cfg *cfg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct zpoline_cfg out;

	ASSERT_NE(MAP_FAILED, cfg);
	cfg->hook = (uintptr_t)zp_hook;
	ASSERT_EQ(0, mprotect(cfg, 4096, PROT_READ));
	EXPECT_EQ(-EFAULT, tfd_err(ioctl(self->fd, ZPOLINE_IOC_INSTALL, cfg)));
	EXPECT_EQ(0, page_zero_mapped());
	EXPECT_EQ((uintptr_t)zp_hook, cfg->hook);
	EXPECT_EQ(0, cfg->sled_len);
	/* Nothing spent: the same fd installs with a writable request. */
	EXPECT_EQ(0, install(self->fd, (uintptr_t)zp_hook, &out));
	EXPECT_EQ(ZPOLINE_SLED_LEN, out.sled_len);
	EXPECT_EQ(1, page_zero_mapped());
	munmap(cfg, 4096);
}

/*
 * ZPOLINE_INSTALL_REQUIRE_XOM with protection keys, but none left for the
 * execute-only key: ENOSPC, nothing mapped, and the fd installs once a key
 * is free again.
 */
TEST_F(zp, require_xom_without_a_free_protection_key_is_enospc)
{
	struct zpoline_cfg cfg = { .hook = (uintptr_t)zp_hook,
				   .flags = ZPOLINE_INSTALL_REQUIRE_XOM };
	int keys[16], n = 0, k;

	if (!cpu_has_pku())
		SKIP(return, "no protection keys (nopku or no PKU)");
	while (n < 16 && (k = syscall(SYS_pkey_alloc, 0, 0)) >= 0)
		keys[n++] = k;
	ASSERT_EQ(-1, k);
	ASSERT_EQ(ENOSPC, errno);
	EXPECT_EQ(-ENOSPC, tfd_err(ioctl(self->fd, ZPOLINE_IOC_INSTALL, &cfg)));
	EXPECT_EQ(0, page_zero_mapped());
	ASSERT_EQ(0, syscall(SYS_pkey_free, keys[--n]));
	EXPECT_EQ(0, tfd_err(ioctl(self->fd, ZPOLINE_IOC_INSTALL, &cfg)));
	EXPECT_EQ(ZPOLINE_RESULT_XOM, cfg.result);
	EXPECT_EQ(1, page_zero_mapped());
}

TEST_F(zp, install_twice_is_ebusy)
{
	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, NULL));
	EXPECT_EQ(-EBUSY, install(self->fd, (uintptr_t)zp_hook, NULL));
}

TEST_F(zp, address_zero_already_mapped_is_eexist)
{
	int other = zp_open();

	ASSERT_LE(0, other);
	ASSERT_EQ(0, install(other, (uintptr_t)zp_hook, NULL));
	EXPECT_EQ(-EEXIST, install(self->fd, (uintptr_t)zp_hook, NULL));
	/* The failed fd is still usable (in a process without a page). */
	close(other);
}

TEST_F(zp, direct_mmap_is_eperm)
{
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(EPERM, errno);
}

TEST_F(zp, unknown_ioctl_is_enotty)
{
	EXPECT_EQ(-ENOTTY, tfd_err(ioctl(self->fd, _IO(ZPOLINE_IOC_MAGIC, 0x7f), 0)));
}

/*
 * No page at 0 unless SMEP and SMAP are in force: the normal guest (-cpu
 * max) has both; make check also boots with clearcpuid=smep and with
 * clearcpuid=smap, where the install is ENXIO and nothing is mapped.
 */
TEST(install_needs_smep_and_smap)
{
	int want = !cmdline_has("smep") && !cmdline_has("smap");
	int fd = zp_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(want, cpu_flag("smep") && cpu_flag("smap"))
		TH_LOG("smep %d, smap %d: the CPU does not match the kernel command line",
		       cpu_flag("smep"), cpu_flag("smap"));
	if (want) {
		EXPECT_EQ(0, install(fd, (uintptr_t)zp_hook, NULL));
		EXPECT_EQ(1, page_zero_mapped());
	} else {
		EXPECT_EQ(-ENXIO, install(fd, (uintptr_t)zp_hook, NULL));
		EXPECT_EQ(0, page_zero_mapped());
	}
	close(fd);
}

/*
 * ZPOLINE_INSTALL_REQUIRE_XOM: an execute-only page or none.  With
 * protection keys (the normal guest) the page is execute-only; booted with
 * nopku the flag is EOPNOTSUPP and nothing is mapped, while the same fd
 * without the flag installs a readable page (NULL reads see the sled: the
 * trade-off the flag exists for).
 */
TEST(require_xom_flag_needs_protection_keys)
{
	struct zpoline_cfg cfg = { .hook = (uintptr_t)zp_hook,
				   .flags = ZPOLINE_INSTALL_REQUIRE_XOM };
	int pkeys = !cmdline_has("nopku");
	int fd = zp_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(pkeys, cpu_has_pku()) TH_LOG("ospke does not match the command line");
	if (pkeys) {
		EXPECT_EQ(0, tfd_err(ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg)));
		EXPECT_EQ(ZPOLINE_RESULT_XOM, cfg.result);
		EXPECT_EQ(ZPOLINE_INSTALL_REQUIRE_XOM, cfg.flags);
	} else {
		unsigned char b = 0;

		EXPECT_EQ(-EOPNOTSUPP, tfd_err(ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg)));
		EXPECT_EQ(0, page_zero_mapped());
		EXPECT_EQ(0, cfg.sled_len);
		cfg.flags = 0;
		ASSERT_EQ(0, tfd_err(ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg)));
		EXPECT_EQ(0, cfg.result);
		asm volatile("movb 0, %0" : "=r"(b) : : "memory");
		EXPECT_EQ(0xeb, b);	/* the first jmp of the sled */
	}
	EXPECT_EQ(1, page_zero_mapped());
	close(fd);
}

/* Child: install without flags; 0 or the errno (90+: the child failed). */
static int install_in_child(int expect_xom)
{
	struct zpoline_cfg cfg;
	pid_t pid = fork();
	int st, fd, ret;

	if (pid == 0) {
		fd = zp_open();
		if (fd < 0)
			_exit(90);
		ret = install(fd, (uintptr_t)zp_hook, &cfg);
		if (ret)
			_exit(page_zero_mapped() == 0 ? -ret : 91);
		_exit(cfg.result == (expect_xom ? ZPOLINE_RESULT_XOM : 0) ? 0 : 92);
	}
	st = wait_child(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

/* zpoline_require_xom=1: the policy of ZPOLINE_INSTALL_REQUIRE_XOM for all. */
TEST(require_xom_parameter_needs_protection_keys)
{
	int pkeys = cpu_has_pku(), with, without;

	if (tfd_builtin()) {
		/* Only the half of the boot's parameter. */
		if (!tfd_booted_with("zpoline_require_xom=1"))
			SKIP(return, TFD_BUILTIN_PARAM_SKIP);
		EXPECT_EQ(pkeys ? 0 : EOPNOTSUPP, install_in_child(1));
		return;
	}
	ASSERT_EQ(0, reload("zpoline_require_xom=1"));
	with = install_in_child(1);
	ASSERT_EQ(0, reload(""));
	without = install_in_child(pkeys);
	EXPECT_EQ(pkeys ? 0 : EOPNOTSUPP, with);
	EXPECT_EQ(0, without);
}

/*
 * Child: uid/gid 1000, in the real group ZP_GID iff @member; with @userns,
 * then in a new user namespace where it is root and where the gid ZP_GID
 * maps to its own real gid 1000 -- the namespace "gid ZP_GID" it could ask
 * the module to honour.  Returns 0 (installed) or the install errno.
 */
static int install_as_user(int member, int userns)
{
	pid_t pid = fork();
	int st, fd, ret;

	if (pid == 0) {
		char map[32];

		drop_to_user(member);
		if (userns) {
			snprintf(map, sizeof(map), "%d 1000 1", ZP_GID);
			/* The uid change made /proc/self root's; take it back. */
			if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) || unshare(CLONE_NEWUSER))
				_exit(90);
			if (write_file("/proc/self/setgroups", "deny") ||
			    write_file("/proc/self/uid_map", "0 1000 1") ||
			    write_file("/proc/self/gid_map", map))
				_exit(91);
			/* The attack is in place: "gid ZP_GID", and root, here. */
			if (getgid() != ZP_GID || getuid() != 0)
				_exit(92);
		}
		fd = zp_open();
		if (fd < 0)
			_exit(93);
		ret = install(fd, (uintptr_t)zp_hook, NULL);
		if (page_zero_mapped() != !ret)
			_exit(94);
		_exit(-ret);
	}
	st = wait_child(pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

/*
 * zpoline_gid names a real group: a user namespace whose gid ZP_GID maps
 * onto the caller's own gid gets EPERM from the module itself.  With
 * mmap_min_addr 0 the module's policy is the only check (as under an LSM
 * that allows mmap_zero), so a module that honoured the namespace's gid
 * would install the page.  Any caller inside a user namespace, even a real
 * member, is refused; a real member outside one installs.
 */
TEST(user_namespace_cannot_map_its_way_into_zpoline_gid)
{
	char old[32], params[32];
	int attacker, member_in_ns, member, outsider;

	snprintf(params, sizeof(params), "zpoline_gid=%d", ZP_GID);
	if (tfd_builtin() && !tfd_booted_with(params))
		SKIP(return, TFD_BUILTIN_PARAM_SKIP);
	ASSERT_EQ(0, read_file("/proc/sys/vm/mmap_min_addr", old, sizeof(old)));
	if (!tfd_builtin())
		ASSERT_EQ(0, reload(params));
	ASSERT_EQ(0, write_file("/proc/sys/vm/mmap_min_addr", "0"));
	attacker = install_as_user(0, 1);
	member_in_ns = install_as_user(1, 1);
	ASSERT_EQ(0, write_file("/proc/sys/vm/mmap_min_addr", old));
	member = install_as_user(1, 0);
	outsider = install_as_user(0, 0);
	if (!tfd_builtin())
		ASSERT_EQ(0, reload(""));
	EXPECT_EQ(EPERM, attacker);
	EXPECT_EQ(EPERM, member_in_ns);
	EXPECT_EQ(0, member);
	EXPECT_EQ(EPERM, outsider);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--page-zero-mapped"))
		return page_zero_mapped() != 0;
	/* A driver built without CONFIG_TRAMPFD_ZPOLINE has /dev/trampfd only. */
	if (access(ZP_DEV, F_OK) && !access("/dev/trampfd", F_OK))
		ksft_exit_skip("%s is absent next to /dev/trampfd: CONFIG_TRAMPFD_ZPOLINE=n\n",
			       ZP_DEV);
	return test_harness_run(argc, argv);
}
