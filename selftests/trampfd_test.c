// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/trampfd API tests (x86-64, arm64, riscv64): trampolines reach the
 * right target with the right data, W^X policies, fd factory (TRAMPFD_IOC_CREATE),
 * lifetime, scale, and one test per refused input with its errno
 * (Documentation/trampfd.rst).
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>

#include "kselftest_harness.h"
#include "trampfd_util.h"
#include "seccomp_util.h"
#include "trampfd_shims.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

#define PAGE 4096
#define NMAX TFD_NMAX
#define SLOT TFD_SLOT

/* Targets: see trampfd_shims.S. */
__thread long seen_data;
__thread long seen_target;

long target(long a, long b, long c, long d, long e, long f, long g, long h)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h;
}

static void (*const shims[4])(void) = { shim0, shim1, shim2, shim3 };

typedef long (*fn8)(long, long, long, long, long, long, long, long);

#define CHECKSUM (1 + 2 * 2 + 3 * 3 + 4 * 4 + 5 * 5 + 6 * 6 + 7 * 7 + 8 * 8)

/* Call trampoline @x of @page; return 0 if it reached shim @k with @data. */
static int call_ok(void *page, int x, long k, long data)
{
	fn8 f = (fn8)((char *)page + x * SLOT);

	seen_data = -1;
	seen_target = -1;
	if (f(1, 2, 3, 4, 5, 6, 7, 8) != CHECKSUM)
		return 1;
	return !(seen_target == k && seen_data == data);
}

FIXTURE(tfd) {
	int fd;
	__u64 code[NMAX];
	__u64 data[NMAX];
};

FIXTURE_SETUP(tfd)
{
	int i;

	self->fd = tfd_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", TRAMPFD_DEV, strerror(errno));
	for (i = 0; i < NMAX; i++) {
		self->code[i] = (uintptr_t)shims[i % 4];
		self->data[i] = 0xd000 + i;
	}
}

FIXTURE_TEARDOWN(tfd)
{
	close(self->fd);
}

TEST_F(tfd, info_describes_the_native_layout)
{
	struct trampfd_info info;

	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, ioctl(self->fd, TRAMPFD_IOC_GET_INFO, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(TRAMPFD_NATIVE_ARCH, info.arch);
	EXPECT_EQ(SLOT, info.code_size);
	EXPECT_EQ(PAGE / SLOT, info.ntrampolines);
	EXPECT_EQ(0, info.code_offset);
	EXPECT_EQ(TFD_CODE_REGS, info.code_regs);
	EXPECT_EQ(TFD_DATA_REGS, info.data_regs);
	EXPECT_EQ(0, info.reserved[0] | info.reserved[1] | info.reserved[2] |
		  info.reserved[3]);
}

TEST_F(tfd, full_page_reaches_every_target_with_its_data)
{
	void *p = tfd_map(self->fd, NMAX, self->code, self->data);
	int i;

	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < NMAX; i++)
		ASSERT_EQ(0, call_ok(p, i, i % 4, 0xd000 + i)) TH_LOG("slot %d", i);
	/* The tables are the process's: retarget every slot at run time. */
	for (i = 0; i < NMAX; i++) {
		self->code[i] = (uintptr_t)shims[3 - i % 4];
		self->data[i] = -1000 - i;
	}
	for (i = 0; i < NMAX; i++)
		ASSERT_EQ(0, call_ok(p, i, 3 - i % 4, -1000 - i)) TH_LOG("slot %d", i);
	munmap(p, PAGE);
}

#if defined(__aarch64__)
/* Five instruction words of a slot (x16 code, x17 data) and a udf #0. */
static const __u32 slot_words[6] = { 0x580000d0, 0xc8dffe10, 0x580000d1,
				     0xf9400231, 0xd61f0200, 0 };
#elif defined(__riscv)
/* lpad 0 and the seven instruction words of a slot (t1 code, t2 data). */
static const __u32 slot_words[8] = { 0x00000017, 0x00000317, 0x02433383,
				     0x01c33303, 0x00033303, 0x0220000f,
				     0x0003b383, 0x00030067 };
#endif

TEST_F(tfd, page_bytes_are_the_documented_encoding)
{
	const unsigned char *p = tfd_map(self->fd, 2, self->code, self->data);
	const unsigned char *s1 = p + SLOT;
	__u64 imm;
	int i;
#if defined(__x86_64__)
	__s32 disp;
#endif

	ASSERT_NE(MAP_FAILED, p);
#if defined(__x86_64__)
	/*
	 * Near tables (the fixture's are one struct): endbr64; movabs r11,
	 * &code[1]; lea r10, [r11 + data - code]; mov r11, [r11];
	 * mov r10, [r10]; jmp r11; int3; int3.
	 */
	EXPECT_EQ(0, memcmp(s1, "\xf3\x0f\x1e\xfa\x49\xbb", 6));
	memcpy(&imm, s1 + 6, 8);
	EXPECT_EQ((uintptr_t)&self->code[1], imm);
	EXPECT_EQ(0, memcmp(s1 + 14, "\x4d\x8d\x93", 3));
	memcpy(&disp, s1 + 17, 4);
	EXPECT_EQ((char *)self->data - (char *)self->code, disp);
	EXPECT_EQ(0, memcmp(s1 + 21, "\x4d\x8b\x1b\x4d\x8b\x12\x41\xff\xe3\xcc\xcc", 11));
#else
	/* Instruction words, then the two literals, then filler. */
	EXPECT_EQ(0, memcmp(s1, slot_words, sizeof(slot_words)));
	memcpy(&imm, s1 + sizeof(slot_words), 8);
	EXPECT_EQ((uintptr_t)&self->code[1], imm);
	memcpy(&imm, s1 + sizeof(slot_words) + 8, 8);
	EXPECT_EQ((uintptr_t)&self->data[1], imm);
	for (i = sizeof(slot_words) + 16; i < SLOT; i++)
		ASSERT_EQ(TFD_FILL, s1[i]) TH_LOG("offset %d", i);
#endif
	for (i = 2 * SLOT; i < PAGE; i++)
		ASSERT_EQ(TFD_FILL, p[i]) TH_LOG("offset %d", i);
	munmap((void *)p, PAGE);
}

#if defined(__x86_64__)
/*
 * A data table more than 2 GiB from the code table: the RFC layout (two
 * 10-byte literals, no room for endbr64), and it still runs.
 */
TEST_F(tfd, x86_64_far_tables_get_the_two_literal_layout)
{
	uintptr_t near = (uintptr_t)self->code & ~(uintptr_t)(PAGE - 1);
	const unsigned char *p;
	__u64 *far = MAP_FAILED;
	__u64 imm;
	int i;

	for (i = 3; i < 40 && far == MAP_FAILED; i++) {
		uintptr_t at = near + ((uintptr_t)i << 30);

		far = mmap((void *)at, PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (far != MAP_FAILED && (uintptr_t)far != at) {
			munmap(far, PAGE);
			far = MAP_FAILED;
		}
	}
	ASSERT_NE(MAP_FAILED, far);
	far[0] = 0xfa5;
	p = tfd_map(self->fd, 1, self->code, far);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p, "\x49\xbb", 2));
	memcpy(&imm, p + 2, 8);
	EXPECT_EQ((uintptr_t)&self->code[0], imm);
	EXPECT_EQ(0, memcmp(p + 10, "\x4d\x8b\x1b\x49\xba", 5));
	memcpy(&imm, p + 15, 8);
	EXPECT_EQ((uintptr_t)far, imm);
	EXPECT_EQ(0, memcmp(p + 23, "\x4d\x8b\x12\x41\xff\xe3\xcc\xcc\xcc", 9));
	EXPECT_EQ(0, call_ok((void *)p, 0, 0, 0xfa5));
	munmap((void *)p, PAGE);
	munmap(far, PAGE);
}
#endif

TEST_F(tfd, second_data_register)
{
	void *p;

	self->code[0] = (uintptr_t)shim_alt;
	ASSERT_EQ(0, tfd_write_code(self->fd, 4, TFD_CODE_REG, self->code));
	ASSERT_EQ(0, tfd_write_data(self->fd, TFD_ALT_DATA_REG, self->data));
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, call_ok(p, 0, 9, 0xd000));
	munmap(p, PAGE);
}

/* Runs @fn in a child; returns its wait status. */
static int in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	waitpid(pid, &status, 0);
	return status;
}

static int mdwe_child(void *arg)
{
	/* A trampfd belongs to its creator's address space: make one here. */
	int fd = ioctl(*(int *)arg, TRAMPFD_IOC_CREATE, 0);
	static __u64 code[1], data[1];
	void *anon, *p;

	if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0))
		return 10;
	/* An anonymous W+X closure page is refused ... */
	anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon != MAP_FAILED || errno != EACCES)
		return 11;
	/* ... and so is writing code then flipping RW to RX. */
	anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		return 12;
	if (mprotect(anon, PAGE, PROT_READ | PROT_EXEC) == 0 || errno != EACCES)
		return 13;
	/* trampfd still gives a working closure. */
	code[0] = (uintptr_t)shim2;
	data[0] = 4242;
	p = tfd_map(fd, 1, code, data);
	if (p == MAP_FAILED)
		return 14;
	return call_ok(p, 0, 2, 4242) ? 15 : 0;
}

TEST_F(tfd, works_under_mdwe_where_wx_and_rw_to_rx_are_refused)
{
	int st = in_child(mdwe_child, &self->fd);

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
}

static int unprivileged_child(void *arg)
{
	static __u64 code[2], data[2];
	int fd;
	void *p;

	(void)arg;
	if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
	    setresuid(1000, 1000, 1000))
		return 40;
	if (geteuid() != 1000)
		return 41;
	fd = tfd_open();
	if (fd < 0)
		return 42;
	code[1] = (uintptr_t)shim3;
	data[1] = 31337;
	p = tfd_map(fd, 2, code, data);
	if (p == MAP_FAILED)
		return 43;
	return call_ok(p, 1, 3, 31337) ? 44 : 0;
}

TEST_F(tfd, works_for_an_unprivileged_user)
{
	int st = in_child(unprivileged_child, NULL);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

static long vmlck_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int memlock_child(void *arg)
{
	struct rlimit rl = { 3 * PAGE, 3 * PAGE };
	static __u64 code[1], data[1];
	int fds[4], i;
	void *p[4];

	(void)arg;
	if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
		return 50;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || vmlck_kb() != 0)
		return 51;
	for (i = 0; i < 4; i++) {
		fds[i] = tfd_open();
		if (fds[i] < 0)
			return 52;
		p[i] = tfd_map(fds[i], 1, code, data);
	}
	if (p[0] == MAP_FAILED || p[1] == MAP_FAILED || p[2] == MAP_FAILED)
		return 53;
	if (p[3] != MAP_FAILED || errno != ENOMEM)
		return 54;
	if (vmlck_kb() != 12)
		return 55;
	/* The refused fd is intact: free one page and map it. */
	munmap(p[0], PAGE);
	close(fds[0]);
	if (vmlck_kb() != 8)
		return 56;
	p[3] = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fds[3], 0);
	return p[3] == MAP_FAILED ? 57 : 0;
}

TEST_F(tfd, rlimit_memlock_bounds_mapped_pages_with_enomem)
{
	int st = in_child(memlock_child, NULL);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

/*
 * CAP_IPC_LOCK bypasses RLIMIT_MEMLOCK, as for mlock(): with a limit of 0 a
 * privileged task still maps, and the page is still counted in VmLck.
 */
static int memlock_cap_child(void *arg)
{
	struct rlimit rl = { 0, 0 };
	static __u64 code[1], data[1];
	void *p;
	int fd;

	(void)arg;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || vmlck_kb() != 0)
		return 60;
	fd = tfd_open();
	if (fd < 0)
		return 61;
	p = tfd_map(fd, 1, code, data);
	if (p == MAP_FAILED)
		return 62;
	return vmlck_kb() == PAGE / 1024 ? 0 : 63;
}

TEST_F(tfd, cap_ipc_lock_bypasses_rlimit_memlock)
{
	int st;

	if (geteuid() != 0)
		SKIP(return, "needs root (CAP_IPC_LOCK)");
	st = in_child(memlock_cap_child, NULL);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(tfd, close_while_mapped_keeps_working_until_munmap)
{
	void *p = tfd_map(self->fd, 4, self->code, self->data);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, call_ok(p, 3, 3, 0xd003));
	ASSERT_EQ(0, munmap(p, PAGE));
}

/*
 * The page is served by a fault handler, not inserted with vm_insert_page()
 * at mmap time: MADV_DONTNEED zaps the page table entry and the next call
 * faults the same code back in (a mixed map without .fault would SIGBUS).
 */
TEST_F(tfd, madv_dontneed_then_call_refaults_the_same_code)
{
	static unsigned char before[PAGE];
	void *p = tfd_map(self->fd, 4, self->code, self->data);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, call_ok(p, 2, 2, 0xd002));
	memcpy(before, p, PAGE);
	ASSERT_EQ(0, madvise(p, PAGE, MADV_DONTNEED));
	ASSERT_EQ(0, call_ok(p, 2, 2, 0xd002));
	EXPECT_EQ(0, memcmp(before, p, PAGE));
	ASSERT_EQ(0, munmap(p, PAGE));
}

static int fork_child_call(void *p)
{
	return call_ok(p, 1, 1, 0xd001);
}

TEST_F(tfd, fork_child_keeps_a_working_copy)
{
	void *p = tfd_map(self->fd, 4, self->code, self->data);
	int st;

	ASSERT_NE(MAP_FAILED, p);
	st = in_child(fork_child_call, p);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* Before the parent touched it, too. */
	munmap(p, PAGE);
}

static int foreign_child(void *arg)
{
	int fd = *(int *)arg;
	static __u64 code[1], data[1];

	if (tfd_write_code(fd, 1, TFD_CODE_REG, code) != -EPERM)
		return 1;
	if (mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) !=
	    MAP_FAILED || errno != EPERM)
		return 2;
	(void)data;
	return 0;
}

TEST_F(tfd, other_address_space_gets_eperm)
{
	int st;

	ASSERT_EQ(0, tfd_write_code(self->fd, 1, TFD_CODE_REG, self->code));
	ASSERT_EQ(0, tfd_write_data(self->fd, TFD_DATA_REG, self->data));
	st = in_child(foreign_child, &self->fd);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* The owner is unaffected. */
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, call_ok(p, 0, 0, 0xd000));
	munmap(p, PAGE);
}

TEST_F(tfd, fd_passed_with_scm_rights_cannot_be_mapped_there)
{
	int sv[2], st;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	if (pid == 0) {
		char b, cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &b, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		int fd;

		close(self->fd);
		if (recvmsg(sv[1], &m, 0) != 1)
			_exit(20);
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
		_exit(foreign_child(&fd));
	}
	{
		char b = 'x', cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { &b, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &self->fd, sizeof(int));
		ASSERT_EQ(1, sendmsg(sv[0], &m, 0));
	}
	waitpid(pid, &st, 0);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

TEST_F(tfd, create_ioctl_returns_an_independent_trampfd)
{
	int nfd = ioctl(self->fd, TRAMPFD_IOC_CREATE, 0);
	int cfd = ioctl(self->fd, TRAMPFD_IOC_CREATE, TRAMPFD_CREATE_CLOEXEC);
	void *p, *q;

	ASSERT_LE(0, nfd);
	ASSERT_LE(0, cfd);
	EXPECT_EQ(0, fcntl(nfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(FD_CLOEXEC, fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	p = tfd_map(nfd, 4, self->code, self->data);
	ASSERT_NE(MAP_FAILED, p);
	/* The parent fd is still unconfigured and maps separately. */
	EXPECT_EQ(-1, tfd_fdinfo(self->fd, "trampfd-ntrampolines"));
	q = tfd_map(self->fd, 2, self->code + 2, self->data + 2);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, call_ok(p, 2, 2, 0xd002));
	EXPECT_EQ(0, call_ok(q, 0, 2, 0xd002));
	/* A created fd can create too. */
	int gfd = ioctl(cfd, TRAMPFD_IOC_CREATE, 0);

	EXPECT_LE(0, gfd);
	close(gfd);
	close(nfd);
	close(cfd);
	munmap(p, PAGE);
	munmap(q, PAGE);
}

/* TRAMPFD_CREATE_CLOEXEC is O_CLOEXEC, like EFD_CLOEXEC and friends. */
_Static_assert(TRAMPFD_CREATE_CLOEXEC == O_CLOEXEC, "TRAMPFD_CREATE_CLOEXEC");

TEST_F(tfd, create_takes_o_cloexec_and_still_the_old_flag_1)
{
	int a = ioctl(self->fd, TRAMPFD_IOC_CREATE, O_CLOEXEC);
	int b = ioctl(self->fd, TRAMPFD_IOC_CREATE, 1);
	int c = ioctl(self->fd, TRAMPFD_IOC_CREATE, 0);
	void *p;

	ASSERT_LE(0, a) TH_LOG("O_CLOEXEC: %s", strerror(errno));
	ASSERT_LE(0, b) TH_LOG("1: %s", strerror(errno));
	ASSERT_LE(0, c);
	EXPECT_EQ(FD_CLOEXEC, fcntl(a, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(FD_CLOEXEC, fcntl(b, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, fcntl(c, F_GETFD) & FD_CLOEXEC);
	/* A working trampfd either way. */
	p = tfd_map(a, 1, self->code, self->data);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, call_ok(p, 0, 0, 0xd000));
	munmap(p, PAGE);
	close(a);
	close(b);
	close(c);
}

static int sandboxed_child(void *arg)
{
	int fd = *(int *)arg;
	static __u64 code[1], data[1];
	int nfd;
	void *p;

	if (tfd_deny_open())
		return 30;
	if (tfd_open() != -1 || errno != EPERM)
		return 31;
	nfd = ioctl(fd, TRAMPFD_IOC_CREATE, TRAMPFD_CREATE_CLOEXEC);
	if (nfd < 0)
		return 32;
	code[0] = (uintptr_t)shim1;
	data[0] = 77;
	p = tfd_map(nfd, 1, code, data);
	if (p == MAP_FAILED)
		return 33;
	return call_ok(p, 0, 1, 77) ? 34 : 0;
}

TEST_F(tfd, create_works_in_a_sandbox_that_cannot_open_files)
{
	int st = in_child(sandboxed_child, &self->fd);

	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

/*
 * TRAMPFD_IOC_CREATE opens the device node again with the creator's access
 * mode: a trampfd opened read-only creates read-only ones, which cannot be
 * configured (pwrite: EBADF), and a read-write one read-write ones.
 */
TEST_F(tfd, create_keeps_the_access_mode_of_the_creator)
{
	int ro = open(TRAMPFD_DEV, O_RDONLY | O_CLOEXEC);
	int rfd, wfd;

	ASSERT_LE(0, ro);
	rfd = ioctl(ro, TRAMPFD_IOC_CREATE, TRAMPFD_CREATE_CLOEXEC);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(O_RDONLY, fcntl(rfd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(-EBADF, tfd_write_code(rfd, 1, TFD_CODE_REG, self->code));
	wfd = ioctl(self->fd, TRAMPFD_IOC_CREATE, TRAMPFD_CREATE_CLOEXEC);
	ASSERT_LE(0, wfd);
	EXPECT_EQ(O_RDWR, fcntl(wfd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, tfd_write_code(wfd, 1, TFD_CODE_REG, self->code));
	close(wfd);
	close(rfd);
	close(ro);
}

TEST_F(tfd, fdinfo_follows_the_state)
{
	char s[64];
	void *p;

	EXPECT_STREQ("unconfigured", tfd_state(self->fd, s, sizeof(s)));
	ASSERT_EQ(0, tfd_write_code(self->fd, 7, TFD_CODE_REG, self->code));
	EXPECT_EQ(7, tfd_fdinfo(self->fd, "trampfd-ntrampolines"));
	EXPECT_EQ(TFD_CODE_REG, tfd_fdinfo(self->fd, "trampfd-code-reg"));
	EXPECT_STREQ("unconfigured", tfd_state(self->fd, s, sizeof(s)));
	ASSERT_EQ(0, tfd_write_data(self->fd, TFD_DATA_REG, self->data));
	EXPECT_EQ(TFD_DATA_REG, tfd_fdinfo(self->fd, "trampfd-data-reg"));
	EXPECT_STREQ("configured", tfd_state(self->fd, s, sizeof(s)));
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_STREQ("mapped", tfd_state(self->fd, s, sizeof(s)));
	EXPECT_EQ(0, tfd_fdinfo(self->fd, "trampfd-page"));
	EXPECT_EQ(0, call_ok(p, 0, 0, 0xd000));
	EXPECT_EQ(1, tfd_fdinfo(self->fd, "trampfd-page"));
	munmap(p, PAGE);
}

/* fdinfo is readable by the fd's owner: only facts about that fd. */
TEST_F(tfd, fdinfo_has_no_module_wide_counters)
{
	EXPECT_EQ(0, tfd_fdinfo(self->fd, "trampfd-page"));
	EXPECT_EQ(-1, tfd_fdinfo(self->fd, "trampfd-live-fds"));
	EXPECT_EQ(-1, tfd_fdinfo(self->fd, "trampfd-live-pages"));
	EXPECT_EQ(-1, tfd_fdinfo(self->fd, "trampfd-faults"));
}

static int debugfs_as_user(void *arg)
{
	(void)arg;
	if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
	    setresuid(1000, 1000, 1000))
		return 60;
	if (open("/sys/kernel/debug/trampfd/live_fds", O_RDONLY) != -1)
		return 61;
	return errno == EACCES ? 0 : 62;
}

TEST_F(tfd, module_counters_are_in_debugfs_for_root_only)
{
	struct stat st;
	int s;

	/* This fixture's fd is live. */
	EXPECT_LE(1, tfd_counter("live_fds"));
	EXPECT_LE(0, tfd_counter("live_pages"));
	EXPECT_LE(0, tfd_counter("faults"));
	/* No /dev/zpoline page lives now (0 on every architecture). */
	EXPECT_EQ(0, tfd_counter("live_zpoline_pages"));
	ASSERT_EQ(0, stat("/sys/kernel/debug/trampfd/live_fds", &st));
	EXPECT_EQ(0400, st.st_mode & 0777);
	ASSERT_EQ(0, stat("/sys/kernel/debug/trampfd/live_zpoline_pages", &st));
	EXPECT_EQ(0400, st.st_mode & 0777);
	s = in_child(debugfs_as_user, NULL);
	ASSERT_TRUE(WIFEXITED(s));
	EXPECT_EQ(0, WEXITSTATUS(s));
}

/* ---- refused inputs: one behaviour each ---- */

TEST_F(tfd, ntrampolines_zero_is_erange)
{
	EXPECT_EQ(-ERANGE, tfd_write_code(self->fd, 0, TFD_CODE_REG, self->code));
}

TEST_F(tfd, ntrampolines_above_max_is_erange)
{
	EXPECT_EQ(-ERANGE, tfd_write_code(self->fd, NMAX + 1, TFD_CODE_REG, self->code));
	EXPECT_EQ(0, tfd_write_code(self->fd, NMAX, TFD_CODE_REG, self->code));
}

TEST_F(tfd, unknown_register_is_einval)
{
	EXPECT_EQ(-EINVAL, tfd_write_code(self->fd, 1, TFD_REG_UNKNOWN, self->code));
	EXPECT_EQ(-EINVAL, tfd_write_data(self->fd, 0xffffffff, self->data));
}

TEST_F(tfd, sp_pc_link_and_argument_registers_are_eopnotsupp)
{
	EXPECT_EQ(-EOPNOTSUPP, tfd_write_code(self->fd, 1, TFD_REG_SP, self->code));
	EXPECT_EQ(-EOPNOTSUPP, tfd_write_code(self->fd, 1, TFD_REG_PC_OR_LINK, self->code));
	EXPECT_EQ(-EOPNOTSUPP, tfd_write_code(self->fd, 1, TFD_REG_ARG0, self->code));
	EXPECT_EQ(-EOPNOTSUPP, tfd_write_data(self->fd, TFD_REG_CALLEE_SAVED, self->data));
	EXPECT_EQ(-EOPNOTSUPP, tfd_write_data(self->fd, TFD_REG_SP, self->data));
}

#ifdef TFD_REG_DATA_ONLY
TEST_F(tfd, data_only_register_is_eopnotsupp_as_code_register)
{
	EXPECT_EQ(-EOPNOTSUPP, tfd_write_code(self->fd, 1, TFD_REG_DATA_ONLY, self->code));
	EXPECT_EQ(0, tfd_write_data(self->fd, TFD_REG_DATA_ONLY, self->data));
}
#endif

#ifdef TFD_REG_LPAD_EXEMPT
/*
 * riscv64: "jr t2" is a software-guarded jump that Zicfilp exempts from the
 * landing-pad check, the jump libffi's own trampoline makes into its
 * closure entry (which has no lpad): accepted as code register.
 */
TEST_F(tfd, landing_pad_exempt_register_is_accepted_as_code_register)
{
	void *p;

	self->code[0] = (uintptr_t)shim_alt;
	ASSERT_EQ(0, tfd_write_code(self->fd, 1, TFD_REG_LPAD_EXEMPT, self->code));
	ASSERT_EQ(0, tfd_write_data(self->fd, TFD_ALT_DATA_REG, self->data));
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, call_ok(p, 0, 9, 0xd000));
	munmap(p, PAGE);
}
#endif

TEST_F(tfd, same_code_and_data_register_is_ebusy)
{
	ASSERT_EQ(0, tfd_write_code(self->fd, 1, TFD_CODE_REG, self->code));
	EXPECT_EQ(-EBUSY, tfd_write_data(self->fd, TFD_CODE_REG, self->data));
}

TEST_F(tfd, null_table_is_efault)
{
	EXPECT_EQ(-EFAULT, tfd_write_code(self->fd, 1, TFD_CODE_REG, NULL));
	EXPECT_EQ(-EFAULT, tfd_write_data(self->fd, TFD_DATA_REG, NULL));
}

TEST_F(tfd, misaligned_table_is_einval)
{
	EXPECT_EQ(-EINVAL, tfd_write_code(self->fd, 1, TFD_CODE_REG,
					  (char *)self->code + 4));
}

TEST_F(tfd, kernel_address_table_is_efault)
{
	EXPECT_EQ(-EFAULT, tfd_write_code(self->fd, 1, TFD_CODE_REG,
					  (void *)0xffff888000000000ull));
}

TEST_F(tfd, table_range_that_overflows_is_efault)
{
	EXPECT_EQ(-EFAULT, tfd_write_code(self->fd, 2, TFD_CODE_REG,
					  (void *)0xfffffffffffffff8ull));
	/* Above TASK_SIZE_MAX of every supported arch and paging mode. */
	EXPECT_EQ(-EFAULT, tfd_write_code(self->fd, NMAX, TFD_CODE_REG,
					  (void *)(1ull << 56)));
}

TEST_F(tfd, short_and_long_writes_are_emsgsize)
{
	char buf[64] = { 0 };

	EXPECT_EQ(-EMSGSIZE, tfd_err(pwrite(self->fd, buf, 15, TRAMPFD_CODE_OFFSET)));
	EXPECT_EQ(-EMSGSIZE, tfd_err(pwrite(self->fd, buf, 17, TRAMPFD_DATA_OFFSET)));
	EXPECT_EQ(-EMSGSIZE, tfd_err(pwrite(self->fd, buf, 1, TRAMPFD_CODE_OFFSET)));
}

TEST_F(tfd, writes_at_other_offsets_are_enxio)
{
	struct trampfd_code c = { 1, TFD_CODE_REG, (uintptr_t)self->code };

	EXPECT_EQ(-ENXIO, tfd_err(pwrite(self->fd, &c, sizeof(c), 8)));
	EXPECT_EQ(-ENXIO, tfd_err(pwrite(self->fd, &c, sizeof(c), 0x1000)));
	char st[64];

	EXPECT_STREQ("unconfigured", tfd_state(self->fd, st, sizeof(st)));
}

TEST_F(tfd, write_from_bad_user_buffer_is_efault)
{
	void *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char st[64];

	ASSERT_NE(MAP_FAILED, none);
	EXPECT_EQ(-EFAULT, tfd_err(pwrite(self->fd, none, 16, TRAMPFD_CODE_OFFSET)));
	EXPECT_STREQ("unconfigured", tfd_state(self->fd, st, sizeof(st)));
	munmap(none, PAGE);
}

TEST_F(tfd, nonzero_reserved_is_einval)
{
	struct trampfd_data d = { TFD_DATA_REG, 1, (uintptr_t)self->data };

	EXPECT_EQ(-EINVAL, tfd_err(pwrite(self->fd, &d, sizeof(d), TRAMPFD_DATA_OFFSET)));
}

TEST_F(tfd, rewrite_before_mmap_is_allowed_after_is_erofs)
{
	void *p;

	ASSERT_EQ(0, tfd_write_code(self->fd, 1, TFD_CODE_REG, self->code));
	ASSERT_EQ(0, tfd_write_code(self->fd, 3, TFD_CODE_REG, self->code));
	p = tfd_map(self->fd, 2, self->code, self->data);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EROFS, tfd_write_code(self->fd, 1, TFD_CODE_REG, self->code));
	EXPECT_EQ(-EROFS, tfd_write_data(self->fd, TFD_ALT_DATA_REG, self->data));
	EXPECT_EQ(0, call_ok(p, 1, 1, 0xd001));
	munmap(p, PAGE);
}

TEST_F(tfd, mmap_before_both_descriptors_is_enodata)
{
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(ENODATA, errno);
	ASSERT_EQ(0, tfd_write_code(self->fd, 1, TFD_CODE_REG, self->code));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(ENODATA, errno);
}

static void configure_fd(int fd, const __u64 *code, const __u64 *data)
{
	tfd_write_code(fd, 4, TFD_CODE_REG, code);
	tfd_write_data(fd, TFD_DATA_REG, data);
}

#define configure(self) configure_fd((self)->fd, (self)->code, (self)->data)

/*
 * A refused mmap leaves the trampfd unmapped and usable.  (The vma flag
 * change in mmap, try_clear_maywrite(), comes before the fd is marked
 * mapped; it cannot fail once PROT_WRITE is refused, so the refusals that
 * can be provoked are these and RLIMIT_MEMLOCK's, tested above.)
 */
TEST_F(tfd, refused_mmaps_leave_the_fd_configured_and_mappable)
{
	char s[32];
	void *p;

	configure(self);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, self->fd, 0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, PAGE));
	EXPECT_EQ(MAP_FAILED,
		  mmap(NULL, 2 * PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0));
	EXPECT_STREQ("configured", tfd_state(self->fd, s, sizeof(s)));
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, call_ok(p, 1, 1, 0xd001));
	munmap(p, PAGE);
}

/*
 * mmap(PROT_EXEC) of a device node on a noexec mount is EPERM (the mm's
 * rule for every file), and TRAMPFD_IOC_CREATE reopens the same node, so
 * its fds inherit that.  Here: a copy of the node on a noexec tmpfs.
 */
TEST_F(tfd, noexec_mount_of_the_node_makes_prot_exec_mmap_eperm)
{
	char dir[] = "/tmp/trampfd-noexec-XXXXXX", node[64], s[32];
	struct stat st;
	int fd, cfd;
	void *p;

	ASSERT_EQ(0, stat(TRAMPFD_DEV, &st));
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, mount("none", dir, "tmpfs", MS_NOEXEC, "mode=0755"));
	snprintf(node, sizeof(node), "%s/trampfd", dir);
	ASSERT_EQ(0, mknod(node, S_IFCHR | 0666, st.st_rdev));
	fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	cfd = ioctl(fd, TRAMPFD_IOC_CREATE, O_CLOEXEC);
	ASSERT_LE(0, cfd);
	configure_fd(fd, self->code, self->data);
	configure_fd(cfd, self->code, self->data);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, cfd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_STREQ("configured", tfd_state(fd, s, sizeof(s)));
	close(cfd);
	close(fd);
	EXPECT_EQ(0, umount2(dir, MNT_DETACH));
	EXPECT_EQ(0, rmdir(dir));
	/* The node in /dev (exec allowed) maps as usual. */
	configure(self);
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, PAGE);
}

TEST_F(tfd, mmap_at_wrong_offset_is_einval)
{
	configure(self);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, PAGE));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(tfd, mmap_longer_than_a_page_is_einval)
{
	configure(self);
	EXPECT_EQ(MAP_FAILED,
		  mmap(NULL, 2 * PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(tfd, mmap_writable_is_eacces)
{
	configure(self);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(EACCES, errno);
}

TEST_F(tfd, mmap_shared_is_einval)
{
	configure(self);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(tfd, second_mmap_is_ebusy)
{
	void *p;

	configure(self);
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(EBUSY, errno);
	munmap(p, PAGE);
}

TEST_F(tfd, mprotect_writable_is_eacces)
{
	void *p;

	configure(self);
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-EACCES, tfd_err(mprotect(p, PAGE, PROT_READ | PROT_WRITE)));
	EXPECT_EQ(-EACCES, tfd_err(mprotect(p, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC)));
	EXPECT_EQ(0, call_ok(p, 0, 0, 0xd000));
	munmap(p, PAGE);
}

TEST_F(tfd, proc_self_mem_write_fails_and_page_is_unchanged)
{
	unsigned char before[PAGE], *p;
	int mem;

	configure(self);
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memcpy(before, p, PAGE);
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	/* FOLL_FORCE may not write a mapping without VM_MAYWRITE. */
	EXPECT_EQ(-EIO, tfd_err(pwrite(mem, "\x90\x90", 2, (uintptr_t)p)));
	EXPECT_EQ(0, memcmp(before, p, PAGE));
	close(mem);
	munmap(p, PAGE);
}

TEST_F(tfd, mremap_growth_is_efault_and_move_keeps_working)
{
	void *p, *q;

	configure(self);
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(MAP_FAILED, mremap(p, PAGE, 2 * PAGE, MREMAP_MAYMOVE));
	EXPECT_EQ(EFAULT, errno);
	q = mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	if (q == MAP_FAILED) /* DONTUNMAP needs anonymous memory: plain move */
		q = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		q = mremap(p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, q);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, call_ok(q, 3, 3, 0xd003));
	munmap(q, PAGE);
}

TEST_F(tfd, read_is_einval)
{
	char buf[16];

	EXPECT_EQ(-EINVAL, tfd_err(read(self->fd, buf, sizeof(buf))));
}

TEST_F(tfd, unknown_ioctl_is_enotty)
{
	EXPECT_EQ(-ENOTTY, tfd_err(ioctl(self->fd, _IO(TRAMPFD_IOC_MAGIC, 0x7f), 0)));
	EXPECT_EQ(-ENOTTY, tfd_err(ioctl(self->fd, _IOR(TRAMPFD_IOC_MAGIC, 0x02, int), 0)));
}

TEST_F(tfd, ioctl_with_bad_pointer_is_efault)
{
	EXPECT_EQ(-EFAULT, tfd_err(ioctl(self->fd, TRAMPFD_IOC_GET_INFO, (void *)8)));
	EXPECT_EQ(-EFAULT, tfd_err(ioctl(self->fd, TRAMPFD_IOC_GET_INFO,
					 (void *)0xffff888000000000ull)));
}

TEST_F(tfd, create_with_unknown_flags_is_einval)
{
	EXPECT_EQ(-EINVAL, tfd_err(ioctl(self->fd, TRAMPFD_IOC_CREATE, 2)));
	EXPECT_EQ(-EINVAL, tfd_err(ioctl(self->fd, TRAMPFD_IOC_CREATE, O_NONBLOCK)));
	EXPECT_EQ(-EINVAL, tfd_err(ioctl(self->fd, TRAMPFD_IOC_CREATE, O_CLOEXEC | 2)));
}

static int null_entry_child(void *p)
{
	fn8 f = (fn8)((char *)p + 5 * SLOT);

	f(1, 2, 3, 4, 5, 6, 7, 8);
	return 0;
}

TEST_F(tfd, calling_a_null_entry_kills_only_the_caller_with_sigsegv)
{
	void *p = tfd_map(self->fd, 8, self->code, self->data);
	int st;

	ASSERT_NE(MAP_FAILED, p);
	self->code[5] = 0;
	st = in_child(null_entry_child, p);
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGSEGV, WTERMSIG(st));
	/* The parent and the other slots are fine. */
	EXPECT_EQ(0, call_ok(p, 6, 2, 0xd006));
	munmap(p, PAGE);
}

/* ---- scale ---- */

TEST(thousand_fds_at_once)
{
	enum { N = 1000 };
	static int fds[N];
	static void *maps[N];
	static __u64 code[N], data[N];
	struct rlimit rl = { 4096, 4096 };
	int i;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (i = 0; i < N; i++) {
		code[i] = (uintptr_t)shims[i % 4];
		data[i] = i;
		fds[i] = tfd_open();
		ASSERT_LE(0, fds[i]) TH_LOG("fd %d: %s", i, strerror(errno));
		maps[i] = tfd_map(fds[i], 1, &code[i], &data[i]);
		ASSERT_NE(MAP_FAILED, maps[i]);
	}
	EXPECT_LE(N, tfd_counter("live_fds"));
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, call_ok(maps[i], 0, i % 4, i)) TH_LOG("fd %d", i);
	EXPECT_LE(N, tfd_counter("live_pages"));
	for (i = 0; i < N; i++) {
		close(fds[i]);
		munmap(maps[i], PAGE);
	}
}

static void *thread_worker(void *arg)
{
	long id = (long)arg, i;
	__u64 code[4], data[4];

	for (i = 0; i < 40; i++) {
		int fd = (i & 1) ? tfd_open() : -1;
		void *p;

		if (fd < 0) {
			int base = tfd_open();

			fd = ioctl(base, TRAMPFD_IOC_CREATE, TRAMPFD_CREATE_CLOEXEC);
			close(base);
		}
		if (fd < 0)
			return (void *)1;
		code[i % 4] = (uintptr_t)shims[id % 4];
		data[i % 4] = id * 1000 + i;
		p = tfd_map(fd, 4, code, data);
		if (p == MAP_FAILED)
			return (void *)2;
		if (call_ok(p, i % 4, id % 4, id * 1000 + i))
			return (void *)3;
		close(fd);
		munmap(p, PAGE);
	}
	return NULL;
}

TEST(threads_create_and_call_concurrently)
{
	pthread_t t[8];
	void *ret;
	long i;

	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, thread_worker, (void *)i));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		EXPECT_EQ(NULL, ret) TH_LOG("thread %ld", i);
	}
}

/*
 * Must run last: every earlier test has ended and freed its trampfds.  The
 * harness runs fixtures in the order they are defined, so this one is last.
 */
FIXTURE(zz_final) {
};

FIXTURE_SETUP(zz_final)
{
}

FIXTURE_TEARDOWN(zz_final)
{
}

TEST_F(zz_final, nothing_leaked_after_all_fds_and_mappings_are_gone)
{
	EXPECT_EQ(0, tfd_counter("live_fds"));
	EXPECT_EQ(0, tfd_counter("live_pages"));
	EXPECT_LT(0, tfd_counter("faults"));
}

TEST_HARNESS_MAIN
