// SPDX-License-Identifier: GPL-2.0
/*
 * Module life cycle: load, device node, debugfs counters, modinfo,
 * parameters (the per-user limit), unload refused while in use, reload.
 * Runs as root in the test guest; the module file is
 * $TRAMPFD_KO (default /mod/trampfd.ko).  Leaves the module loaded.
 *
 * Against a kernel with trampfd built in (CONFIG_TRAMPFD=y; make check's
 * scripts/check-builtin), the tests that unload the module skip with
 * TFD_BUILTIN_SKIP, those that reload it with parameters run only in
 * a guest booted with them (trampfd.NAME=VALUE; tfd_booted_with()), the
 * .modinfo entries are read from the kernel's
 * modules.builtin.modinfo ($TRAMPFD_BUILTIN_MODINFO, default
 * /mod/modules.builtin.modinfo), and kernel_knows_how_trampfd_is_built
 * checks that delete_module() does not know the driver.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "trampfd_util.h"
#include <grp.h>
#include <pthread.h>
#include <sched.h>
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
	if (!tfd_builtin() && !loaded())
		load("");
}

/* Reload the module with @params (not for a built-in driver). */
static int reload(const char *params)
{
	int ret = unload();

	return ret ? ret : load(params);
}

/* Whether /proc/modules lists a module "trampfd". */
static int in_proc_modules(void)
{
	char line[256];
	int found = 0;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "trampfd ", 8);
	fclose(f);
	return found;
}

/*
 * Either a loaded module, live and listed, or a built-in driver that
 * delete_module() does not know (ENOENT) and that keeps working.
 */
TEST(kernel_knows_how_trampfd_is_built)
{
	char state[32] = "";
	FILE *f;
	int fd;

	ensure_loaded();
	if (tfd_builtin()) {
		EXPECT_EQ(0, in_proc_modules());
		EXPECT_EQ(-ENOENT, unload());
		EXPECT_EQ(-ENOENT, tfd_err(access("/sys/module/trampfd/refcnt", F_OK)));
	} else {
		EXPECT_EQ(1, in_proc_modules());
		f = fopen("/sys/module/trampfd/initstate", "r");
		ASSERT_NE(NULL, f);
		EXPECT_EQ(1, fscanf(f, "%31s", state));
		fclose(f);
		EXPECT_STREQ("live", state);
	}
	fd = tfd_open();
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, tfd_counter("live_fds"));
	ASSERT_EQ(0, close(fd));
}

TEST(unload_and_load_again)
{
	/* Unloads or reloads: not for a built-in driver. */
	if (tfd_builtin())
		SKIP(return, TFD_BUILTIN_SKIP);
	ensure_loaded();
	ASSERT_EQ(0, unload());
	ASSERT_FALSE(loaded());
	ASSERT_EQ(-ENOENT, tfd_err(access(TRAMPFD_DEV, F_OK)));
	/* The debugfs counters go with the module. */
	ASSERT_EQ(-ENOENT, tfd_err(access("/sys/kernel/debug/trampfd", F_OK)));
	ASSERT_EQ(0, load(""));
	ASSERT_TRUE(loaded());
	EXPECT_EQ(0, tfd_counter("live_fds"));
	EXPECT_EQ(0, tfd_counter("faults"));
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

/* Entries the module's .modinfo must have, as modinfo prints them. */
#define MODINFO_DESCRIPTION \
	"description=Kernel-generated executable trampolines (/dev/trampfd)"
#define MODINFO_PARM \
	"parm=max_user_trampfds:Maximum number of live trampfds of one user (EMFILE beyond)"

/*
 * The .modinfo section holds NUL-terminated "key=value" strings; the
 * kernel's modules.builtin.modinfo the same, each prefixed "trampfd." for
 * a built-in driver (@prefix).
 */
static int has_modinfo(const char *buf, size_t len, const char *prefix, const char *entry)
{
	char want[512];
	int n = snprintf(want, sizeof(want), "%s%s", prefix, entry);

	/* With its terminating NUL, so a prefix does not match. */
	return n > 0 && (size_t)n < sizeof(want) && !!memmem(buf, len, want, n + 1);
}

TEST(modinfo_describes_the_module)
{
	static char buf[1 << 20];
	const char *path = ko_path(), *pfx = "", *who = "name=trampfd";
	ssize_t len;
	int fd;

	ensure_loaded();
	if (tfd_builtin()) {
		path = getenv("TRAMPFD_BUILTIN_MODINFO");
		if (!path)
			path = "/mod/modules.builtin.modinfo";
		pfx = "trampfd.";
		/* A built-in driver's name is the prefix; it has its file. */
		who = "file=drivers/misc/trampfd/trampfd";
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	len = read(fd, buf, sizeof(buf));
	close(fd);
	ASSERT_LT(0, len);
	ASSERT_GT(sizeof(buf), len);
	EXPECT_TRUE(has_modinfo(buf, len, pfx, "license=GPL"));
	EXPECT_TRUE(has_modinfo(buf, len, pfx, who));
	EXPECT_TRUE(has_modinfo(buf, len, pfx, MODINFO_DESCRIPTION));
	EXPECT_TRUE(has_modinfo(buf, len, pfx, "parmtype=max_user_trampfds:u32"));
	EXPECT_TRUE(has_modinfo(buf, len, pfx, "parmtype=zpoline_gid:u32"));
	EXPECT_TRUE(has_modinfo(buf, len, pfx, MODINFO_PARM));
	/* The system-wide pool is gone. */
	EXPECT_FALSE(has_modinfo(buf, len, pfx, "parmtype=max_trampfds:u32"));
	/* And a negative control: the scanner does not match anything. */
	EXPECT_FALSE(has_modinfo(buf, len, pfx, "license=Proprietary"));
}

/*
 * Child: become @uid, open @n trampfds (the last through
 * TRAMPFD_IOC_CREATE), check that one more open and one more create are
 * EMFILE, then optionally (@userns) check that a new user namespace does
 * not make this a fresh user.  Reports 0 (or a step number) on @report and
 * holds the fds until @hold is readable.
 */
static void user_holds(uid_t uid, int n, int userns, int report, int hold)
{
	int fds[8], i;
	char c = 0;

	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		c = 1;
	for (i = 0; !c && i < n; i++) {
		fds[i] = i ? ioctl(fds[0], TRAMPFD_IOC_CREATE, O_CLOEXEC) : tfd_open();
		if (fds[i] < 0)
			c = 10 + i;
	}
	if (!c && tfd_err(tfd_open()) != -EMFILE)
		c = 2;
	if (!c && tfd_err(ioctl(fds[0], TRAMPFD_IOC_CREATE, 0)) != -EMFILE)
		c = 3;
	if (!c && userns) {
		if (unshare(CLONE_NEWUSER))
			c = 4;
		else if (tfd_err(tfd_open()) != -EMFILE)
			c = 5;
	}
	if (write(report, &c, 1) != 1 || read(hold, &c, 1) < 0)
		_exit(1);
	_exit(0);
}

/* Starts user_holds() in a child, waits for its status; @hold: a pipe. */
static pid_t start_user(uid_t uid, int n, int userns, const int hold[2], char *status)
{
	int rep[2];
	pid_t pid;

	if (pipe(rep))
		return -1;
	pid = fork();
	if (pid == 0) {
		/* Only the parent may keep the write end: EOF is the signal. */
		close(hold[1]);
		close(rep[0]);
		user_holds(uid, n, userns, rep[1], hold[0]);
	}
	close(rep[1]);
	if (read(rep[0], status, 1) != 1)
		*status = 99;
	close(rep[0]);
	return pid;
}

TEST(max_user_trampfds_limits_each_user_not_the_system)
{
	int hold[2], a[3], i;
	pid_t u1000, u1001;
	char st;

	if (tfd_builtin() && !tfd_booted_with("max_user_trampfds=3"))
		SKIP(return, TFD_BUILTIN_PARAM_SKIP);
	ensure_loaded();
	if (!tfd_builtin())
		ASSERT_EQ(0, reload("max_user_trampfds=3"));
	ASSERT_EQ(0, pipe(hold));
	/* uid 1000 at its limit: a fourth open or create is EMFILE. */
	u1000 = start_user(1000, 3, 0, hold, &st);
	ASSERT_LT(0, u1000);
	EXPECT_EQ(0, st);
	/* Meanwhile uid 1001 and root still get their own three each. */
	u1001 = start_user(1001, 3, 0, hold, &st);
	ASSERT_LT(0, u1001);
	EXPECT_EQ(0, st);
	for (i = 0; i < 3; i++) {
		a[i] = tfd_open();
		EXPECT_LE(0, a[i]) TH_LOG("root's trampfd %d: %s", i, strerror(errno));
	}
	EXPECT_EQ(-EMFILE, tfd_err(tfd_open()));
	EXPECT_EQ(6 + 3, tfd_counter("live_fds"));
	/* Holding them is what counts: after they go, uid 1000 starts over. */
	close(hold[1]);
	waitpid(u1000, NULL, 0);
	waitpid(u1001, NULL, 0);
	close(hold[0]);
	ASSERT_EQ(0, pipe(hold));
	u1000 = start_user(1000, 3, 0, hold, &st);
	EXPECT_EQ(0, st);
	close(hold[1]);
	waitpid(u1000, NULL, 0);
	close(hold[0]);
	for (i = 0; i < 3; i++)
		close(a[i]);
	EXPECT_EQ(0, tfd_counter("live_fds"));
	if (!tfd_builtin())
		ASSERT_EQ(0, reload(""));
}

#ifdef __x86_64__
/* Only the x86-64 guest kernel has CONFIG_USER_NS (selftests/config.x86_64). */
TEST(a_user_namespace_does_not_make_a_fresh_user)
{
	int hold[2];
	pid_t pid;
	char st;

	if (tfd_builtin() && !tfd_booted_with("max_user_trampfds=3"))
		SKIP(return, TFD_BUILTIN_PARAM_SKIP);
	ensure_loaded();
	if (!tfd_builtin())
		ASSERT_EQ(0, reload("max_user_trampfds=3"));
	ASSERT_EQ(0, pipe(hold));
	/* Status 4: unshare failed; 5: the open inside was not EMFILE. */
	pid = start_user(1000, 3, 1, hold, &st);
	ASSERT_LT(0, pid);
	EXPECT_EQ(0, st);
	close(hold[1]);
	waitpid(pid, NULL, 0);
	close(hold[0]);
	if (!tfd_builtin())
		ASSERT_EQ(0, reload(""));
}
#endif

/* Concurrent opens at the limit: exactly the limit succeeds, never more. */
static void *open_four(void *arg)
{
	int *fds = arg, i, fd;

	/* An fd, or -errno (errno is per thread). */
	for (i = 0; i < 4; i++) {
		fd = tfd_open();
		fds[i] = fd < 0 ? -errno : fd;
	}
	return NULL;
}

TEST(max_user_trampfds_holds_under_concurrent_opens)
{
	enum { T = 8, LIMIT = 3 };
	int fds[T][4], i, j, ok = 0, emfile = 0;
	pthread_t t[T];

	if (tfd_builtin() && !tfd_booted_with("max_user_trampfds=3"))
		SKIP(return, TFD_BUILTIN_PARAM_SKIP);
	ensure_loaded();
	if (!tfd_builtin())
		ASSERT_EQ(0, reload("max_user_trampfds=3"));
	for (i = 0; i < T; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, open_four, fds[i]));
	for (i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < T; i++)
		for (j = 0; j < 4; j++) {
			if (fds[i][j] >= 0) {
				ok++;
				close(fds[i][j]);
			} else if (fds[i][j] == -EMFILE) {
				emfile++;
			}
		}
	EXPECT_EQ(LIMIT, ok);
	EXPECT_EQ(T * 4 - LIMIT, emfile);
	if (!tfd_builtin())
		ASSERT_EQ(0, reload(""));
}

TEST(unload_refused_while_an_fd_is_open)
{
	int fd;

	/* Unloads or reloads: not for a built-in driver. */
	if (tfd_builtin())
		SKIP(return, TFD_BUILTIN_SKIP);
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

	/* Unloads or reloads: not for a built-in driver. */
	if (tfd_builtin())
		SKIP(return, TFD_BUILTIN_SKIP);
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

	/* Unloads or reloads: not for a built-in driver. */
	if (tfd_builtin())
		SKIP(return, TFD_BUILTIN_SKIP);
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

	/* Unloads or reloads: not for a built-in driver. */
	if (tfd_builtin())
		SKIP(return, TFD_BUILTIN_SKIP);
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
	if (tfd_builtin()) {
		/* zpoline_gid_default_grants_no_group: a boot without it. */
		if (!tfd_booted_with("zpoline_gid=4242"))
			SKIP(return, TFD_BUILTIN_PARAM_SKIP);
	} else {
		EXPECT_EQ(EPERM, zpoline_as_user(1));
		ASSERT_EQ(0, reload("zpoline_gid=4242"));
	}
	EXPECT_EQ(0, zpoline_as_user(1));
	EXPECT_EQ(EPERM, zpoline_as_user(0));
	if (tfd_builtin())
		return;
	ASSERT_EQ(0, reload(""));
	EXPECT_EQ(EPERM, zpoline_as_user(1));
}

/* Built in without zpoline_gid on the command line: no group may install. */
TEST(zpoline_gid_default_grants_no_group)
{
	ensure_loaded();
	if (tfd_builtin() && tfd_booted_with("zpoline_gid=4242"))
		SKIP(return, "booted with trampfd.zpoline_gid=4242");
	EXPECT_EQ(EPERM, zpoline_as_user(1));
	EXPECT_EQ(EPERM, zpoline_as_user(0));
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
