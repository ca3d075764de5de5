// SPDX-License-Identifier: GPL-2.0
/*
 * Compat tasks (ia32 on x86-64, AArch32 on arm64) get EOPNOTSUPP from
 * /dev/trampfd and /dev/zpoline: open, mmap, ioctl and pwrite.  The 32-bit
 * side is selftests/compat32.c, a freestanding program in the same
 * directory as this one; on x86-64 a 64-bit task's own int $0x80 calls
 * are compat calls too.  Runs as root in the test guest (x86-64, arm64).
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "trampfd_util.h"
#include "compat32.h"
#ifdef __x86_64__
#include <linux/zpoline.h>
#endif

_Static_assert(C32_TRAMPFD_IOC_CREATE == TRAMPFD_IOC_CREATE, "compat32.h");
_Static_assert(C32_TRAMPFD_IOC_GET_INFO == TRAMPFD_IOC_GET_INFO, "compat32.h");
#ifdef __x86_64__
_Static_assert(C32_ZPOLINE_IOC_INSTALL == ZPOLINE_IOC_INSTALL, "compat32.h");
#endif

static __u64 code_table[1], data_table[1];

/* Runs "compat32 ARGS..." from this program's directory; its exit status. */
static int run_compat32(const char *const args[])
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	char *argv[8];
	ssize_t n;
	int i, st;
	pid_t pid;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -1;
	self[n] = 0;
	snprintf(path, sizeof(path), "%s/compat32", dirname(self));
	argv[0] = path;
	for (i = 0; args[i] && i < 6; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execv(path, argv);
		/* ENOEXEC: the kernel or CPU cannot run 32-bit programs. */
		printf("# exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

TEST(a_32bit_program_gets_eopnotsupp_from_open)
{
	static const char *const args[] = { "open", NULL };

	/* compat32 prints one line per check; 0 is "all as expected". */
	EXPECT_EQ(0, run_compat32(args));
	/* The same opens work for this 64-bit task. */
	int fd = tfd_open();

	ASSERT_LE(0, fd);
	close(fd);
}

TEST(fds_inherited_by_a_32bit_program_get_eopnotsupp_and_stay_intact)
{
	char tfd_s[16], zfd_s[16], st[32];
	const char *args[4];
	int tfd, zfd = -1;
	void *p;

	/* Opened by this 64-bit task, inherited across exec (no O_CLOEXEC). */
	tfd = open(TRAMPFD_DEV, O_RDWR);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, tfd_write_code(tfd, 1, TFD_CODE_REG, code_table));
	ASSERT_EQ(0, tfd_write_data(tfd, TFD_DATA_REG, data_table));
#ifdef __x86_64__
	zfd = open("/dev/zpoline", O_RDONLY);
	ASSERT_LE(0, zfd);
#endif
	snprintf(tfd_s, sizeof(tfd_s), "%d", tfd);
	snprintf(zfd_s, sizeof(zfd_s), "%d", zfd);
	args[0] = "inherited";
	args[1] = tfd_s;
	args[2] = zfd_s;
	args[3] = NULL;
	EXPECT_EQ(0, run_compat32(args));
	/* Nothing changed: the fd is still configured and maps here. */
	EXPECT_STREQ("configured", tfd_state(tfd, st, sizeof(st)));
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, tfd, 0);
	EXPECT_NE(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(tfd);
	if (zfd >= 0)
		close(zfd);
}

#ifdef __x86_64__
/* A compat system call from this 64-bit task (its arguments are 32-bit). */
static int int80(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	return (int)ret;
}

#define NR32_OPEN	5
#define NR32_CLOSE	6
#define NR32_IOCTL	54
#define NR32_OLD_MMAP	90

/* The argument block of the ia32 old_mmap system call. */
struct mmap_arg32 {
	__u32 addr, len, prot, flags, fd, offset;
};

TEST(int80_calls_of_a_64bit_task_get_eopnotsupp)
{
	/* Compat calls take 32-bit pointers: use memory below 4 GiB. */
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	struct mmap_arg32 *ma;
	struct zpoline_cfg *cfg;
	int tfd, zfd, fd;
	char s[32];
	void *p;

	ASSERT_NE(MAP_FAILED, low);
	ASSERT_GT(1ul << 32, (unsigned long)low);
	memcpy(low, "/dev/null", sizeof("/dev/null"));
	memcpy(low + 64, TRAMPFD_DEV, sizeof(TRAMPFD_DEV));
	memcpy(low + 128, "/dev/zpoline", sizeof("/dev/zpoline"));
	/* Control: int $0x80 works in this task. */
	fd = int80(NR32_OPEN, (long)low, O_RDONLY, 0);
	ASSERT_LE(0, fd);
	int80(NR32_CLOSE, fd, 0, 0);
	EXPECT_EQ(-EOPNOTSUPP, int80(NR32_OPEN, (long)(low + 64), O_RDWR, 0));
	EXPECT_EQ(-EOPNOTSUPP, int80(NR32_OPEN, (long)(low + 128), O_RDONLY, 0));

	/* A configured trampfd of this very address space. */
	tfd = tfd_open();
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, tfd_write_code(tfd, 1, TFD_CODE_REG, code_table));
	ASSERT_EQ(0, tfd_write_data(tfd, TFD_DATA_REG, data_table));
	EXPECT_EQ(-EOPNOTSUPP, int80(NR32_IOCTL, tfd, TRAMPFD_IOC_GET_INFO,
				     (long)(low + 256)));
	EXPECT_EQ(-EOPNOTSUPP, int80(NR32_IOCTL, tfd, TRAMPFD_IOC_CREATE, 0));
	ma = (struct mmap_arg32 *)(low + 512);
	*ma = (struct mmap_arg32){ 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, tfd, 0 };
	EXPECT_EQ(-EOPNOTSUPP, int80(NR32_OLD_MMAP, (long)ma, 0, 0));
	EXPECT_STREQ("configured", tfd_state(tfd, s, sizeof(s)));
	/* The same mmap as a 64-bit call works: nothing was used up. */
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, tfd, 0);
	EXPECT_NE(MAP_FAILED, p);

	/* Root could install a zpoline page: not with a compat call. */
	zfd = open("/dev/zpoline", O_RDONLY);
	ASSERT_LE(0, zfd);
	cfg = (struct zpoline_cfg *)(low + 1024);
	memset(cfg, 0, sizeof(*cfg));
	cfg->hook = 0x401000;
	EXPECT_EQ(-EOPNOTSUPP, int80(NR32_IOCTL, zfd, ZPOLINE_IOC_INSTALL, (long)cfg));
	close(zfd);
	close(tfd);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	munmap(low, 4096);
}
#endif

TEST_HARNESS_MAIN
