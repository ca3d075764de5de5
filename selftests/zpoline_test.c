// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/zpoline: policy, page contents, the rewritten-call path, sealing,
 * execute-only, fork and exec, and one test per refused input.  Each test
 * runs in its own process (the harness forks), so each installs afresh.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/zpoline.h>

#include "kselftest_harness.h"
#include "trampfd_util.h"
#include "zpoline_hook.h"

#define ZP_DEV "/dev/zpoline"
#define EMULATED_NR 500


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

static int cpu_has_pku(void)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5) && strstr(line, " pku"))
			found = 1;
	fclose(f);
	return found;
}

static void drop_to_user(int with_group)
{
	gid_t g = 4242;

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
	/* Highest sled entry still lands in the sled. */
	EXPECT_EQ(-ENOSYS, zcall(ZPOLINE_SLED_LEN - 1, 0, 0, 0));
}

/* Copy @n bytes from address 0 (in asm: C may not read a NULL pointer). */
static void copy_from_zero(unsigned char *dst, size_t n)
{
	unsigned long src = 0;

	asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

TEST_F(zp, page_bytes_are_sled_stub_and_traps)
{
	unsigned char page[4096];
	struct zpoline_cfg cfg;
	__u64 hook = 0;
	int i;

	ASSERT_EQ(0, install(self->fd, (uintptr_t)zp_hook, &cfg));
	if (cfg.result & ZPOLINE_RESULT_XOM)
		SKIP(return, "execute-only page: its bytes cannot be read");
	copy_from_zero(page, sizeof(page));
	for (i = 0; i < ZPOLINE_SLED_LEN; i++)
		ASSERT_EQ(0x90, page[i]) TH_LOG("offset %d", i);
	EXPECT_EQ(0x48, page[512]);	/* mov rcx, [rsp] */
	EXPECT_EQ(0x8b, page[513]);
	EXPECT_EQ(0x0c, page[514]);
	EXPECT_EQ(0x24, page[515]);
	EXPECT_EQ(0x49, page[516]);	/* movabs r11, hook */
	EXPECT_EQ(0xbb, page[517]);
	for (i = 0; i < 8; i++)
		hook |= (__u64)page[518 + i] << (8 * i);
	EXPECT_EQ((uintptr_t)zp_hook, hook);
	EXPECT_EQ(0x41, page[526]);	/* jmp r11 */
	EXPECT_EQ(0xff, page[527]);
	EXPECT_EQ(0xe3, page[528]);
	for (i = 529; i < 4096; i++)
		ASSERT_EQ(0xcc, page[i]) TH_LOG("offset %d", i);
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
		_exit(b == 0x90 ? 0 : 1);
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
	struct zpoline_cfg cfg = { .hook = (uintptr_t)zp_hook, .flags = 1 };

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

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--page-zero-mapped"))
		return page_zero_mapped() != 0;
	return test_harness_run(argc, argv);
}
