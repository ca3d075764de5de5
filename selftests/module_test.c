// SPDX-License-Identifier: GPL-2.0
/*
 * Module life cycle: load, device node, modinfo, parameter, unload refused
 * while in use, reload.  Runs as root in the test guest; the module file is
 * $TRAMPFD_KO (default /mod/trampfd.ko).  Leaves the module loaded.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "trampfd_util.h"
#include <grp.h>
#include <sys/wait.h>
#ifdef __x86_64__
#include <linux/zpoline.h>
#endif

static const char *ko_path(void)
{
	const char *p = getenv("TRAMPFD_KO");

	return p ? p : "/mod/trampfd.ko";
}

static int load(const char *params)
{
	int fd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = tfd_err(syscall(SYS_finit_module, fd, params, 0));
	close(fd);
	return ret;
}

static int unload(void)
{
	return tfd_err(syscall(SYS_delete_module, "trampfd", O_NONBLOCK));
}

static int loaded(void)
{
	return access("/sys/module/trampfd", F_OK) == 0;
}

/* Make sure the module is loaded with default parameters. */
static void ensure_loaded(void)
{
	if (!loaded())
		load("");
}

TEST(unload_and_load_again)
{
	ensure_loaded();
	ASSERT_EQ(0, unload());
	ASSERT_FALSE(loaded());
	ASSERT_EQ(-ENOENT, tfd_err(access(TRAMPFD_DEV, F_OK)));
	ASSERT_EQ(0, load(""));
	ASSERT_TRUE(loaded());
}

TEST(device_node_is_a_misc_char_device)
{
	struct stat st;
	int fd;

	ensure_loaded();
	ASSERT_EQ(0, stat(TRAMPFD_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(10, major(st.st_rdev));
	/* Usable by every user, like /dev/null: the policy is in the API. */
	EXPECT_EQ(0666, st.st_mode & 0777);
	fd = tfd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
}

/* The .modinfo section holds NUL-terminated "key=value" strings. */
static int has_modinfo(const char *buf, size_t len, const char *entry)
{
	/* With its terminating NUL, so a prefix does not match. */
	return memmem(buf, len, entry, strlen(entry) + 1) != NULL;
}

TEST(modinfo_describes_the_module)
{
	static char buf[1 << 20];
	ssize_t len;
	int fd;

	fd = open(ko_path(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	len = read(fd, buf, sizeof(buf));
	close(fd);
	ASSERT_LT(0, len);
	ASSERT_GT(sizeof(buf), len);
	EXPECT_TRUE(has_modinfo(buf, len, "license=GPL"));
	EXPECT_TRUE(has_modinfo(buf, len, "name=trampfd"));
	EXPECT_TRUE(has_modinfo(buf, len,
		"description=Kernel-generated executable trampolines (/dev/trampfd)"));
	EXPECT_TRUE(has_modinfo(buf, len, "parmtype=max_trampfds:u32"));
	EXPECT_TRUE(has_modinfo(buf, len, "parmtype=zpoline_gid:u32"));
	EXPECT_TRUE(has_modinfo(buf, len,
		"parm=max_trampfds:Maximum number of live trampfds in the system (ENFILE beyond)"));
	/* And a negative control: the scanner does not match anything. */
	EXPECT_FALSE(has_modinfo(buf, len, "license=Proprietary"));
}

TEST(max_trampfds_parameter_limits_live_fds)
{
	int a, b;

	ensure_loaded();
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load("max_trampfds=2"));
	a = tfd_open();
	b = tfd_open();
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(-ENFILE, tfd_err(tfd_open()));
	EXPECT_EQ(-ENFILE, tfd_err(ioctl(a, TRAMPFD_IOC_CREATE, 0)));
	close(b);
	b = tfd_open();
	EXPECT_LE(0, b);
	close(a);
	close(b);
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load(""));
}

TEST(unload_refused_while_an_fd_is_open)
{
	int fd;

	ensure_loaded();
	fd = tfd_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EWOULDBLOCK, unload());
	EXPECT_TRUE(loaded());
	close(fd);
	EXPECT_EQ(0, unload());
	ASSERT_EQ(0, load(""));
}

TEST(unload_refused_while_a_mapping_lives)
{
	static __u64 code[1], data[1];
	void *p;
	int fd;

	ensure_loaded();
	fd = tfd_open();
	ASSERT_LE(0, fd);
	p = tfd_map(fd, 1, code, data);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	EXPECT_EQ(-EWOULDBLOCK, unload());
	ASSERT_EQ(0, munmap(p, 4096));
	EXPECT_EQ(0, unload());
	ASSERT_EQ(0, load(""));
}

/* Long-running tests: module loading is slow under TCG emulation. */
FIXTURE(slow) {
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, reload_a_thousand_times, 1200)
{
	int i, fd;

	ensure_loaded();
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, unload()) TH_LOG("round %d", i);
		ASSERT_EQ(0, load("")) TH_LOG("round %d", i);
		if (i % 100 == 0) {
			fd = open(TRAMPFD_DEV, O_RDWR);
			ASSERT_LE(0, fd);
			close(fd);
		}
	}
}

TEST_F_TIMEOUT(slow, unload_refused_a_thousand_times_while_a_user_lives, 600)
{
	static __u64 code[1], data[1];
	int i, fd, up[2], down[2];
	char c;
	pid_t pid;

	ensure_loaded();
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	if (pid == 0) {
		/* The live user: a mapped trampfd and an open zpoline fd. */
		fd = tfd_open();
		if (fd < 0 || tfd_map(fd, 1, code, data) == MAP_FAILED)
			_exit(1);
#ifdef __x86_64__
		if (open("/dev/zpoline", O_RDONLY) < 0)
			_exit(2);
#endif
		close(fd);
		if (write(up[1], "r", 1) != 1)
			_exit(3);
		/* Wait for the parent to finish. */
		_exit(read(down[0], &c, 1) == 1 ? 0 : 4);
	}
	ASSERT_EQ(1, read(up[0], &c, 1));
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(-EWOULDBLOCK, unload()) TH_LOG("round %d", i);
	fd = tfd_open();
	ASSERT_LE(0, fd);	/* still fully working */
	close(fd);
	ASSERT_EQ(1, write(down[1], "d", 1));
	waitpid(pid, NULL, 0);
	EXPECT_EQ(0, unload());
	ASSERT_EQ(0, load(""));
}

#ifdef __x86_64__
static void hook(void)
{
}

/* Child: become uid 1000 with (or without) group 4242, try to install. */
static int zpoline_as_user(int with_group)
{
	struct zpoline_cfg cfg = { .hook = (uintptr_t)hook };
	gid_t g = 4242;
	pid_t pid = fork();
	int st, fd;

	if (pid == 0) {
		if (setgroups(with_group, &g) || setresgid(1000, 1000, 1000) ||
		    setresuid(1000, 1000, 1000))
			_exit(90);
		fd = open("/dev/zpoline", O_RDONLY);
		if (fd < 0)
			_exit(91);
		_exit(ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg) ? errno : 0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

TEST(zpoline_gid_parameter_grants_install_to_that_group_only)
{
	ensure_loaded();
	EXPECT_EQ(EPERM, zpoline_as_user(1));
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load("zpoline_gid=4242"));
	EXPECT_EQ(0, zpoline_as_user(1));
	EXPECT_EQ(EPERM, zpoline_as_user(0));
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load(""));
	EXPECT_EQ(EPERM, zpoline_as_user(1));
}

#else
/* /dev/zpoline is x86-64 only (Documentation/zpoline.rst): absent here. */
TEST(zpoline_device_is_absent_on_this_arch)
{
	ensure_loaded();
	EXPECT_EQ(0, tfd_err(access(TRAMPFD_DEV, F_OK)));
	EXPECT_EQ(-ENOENT, tfd_err(access("/dev/zpoline", F_OK)));
	EXPECT_EQ(-ENOENT, tfd_err(access("/sys/class/misc/zpoline", F_OK)));
}
#endif

TEST_HARNESS_MAIN
