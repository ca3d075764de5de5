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
	return strstr(line, s) != NULL;
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

/* Reload the module with @params (as module_test does). */
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
		EXPECT_EQ(0x90, b);
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
	ASSERT_EQ(0, read_file("/proc/sys/vm/mmap_min_addr", old, sizeof(old)));
	ASSERT_EQ(0, reload(params));
	ASSERT_EQ(0, write_file("/proc/sys/vm/mmap_min_addr", "0"));
	attacker = install_as_user(0, 1);
	member_in_ns = install_as_user(1, 1);
	ASSERT_EQ(0, write_file("/proc/sys/vm/mmap_min_addr", old));
	member = install_as_user(1, 0);
	outsider = install_as_user(0, 0);
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
	return test_harness_run(argc, argv);
}
