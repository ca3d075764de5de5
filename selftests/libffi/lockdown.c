// SPDX-License-Identifier: GPL-2.0
/*
 * The locked-down process of the libffi tests (see lockdown.h).
 *
 * Stock libffi 3.4 gets executable memory for a closure in one of these
 * ways, in this order: static trampolines (a second mapping of libffi's
 * own text, found through /proc/self/maps), an anonymous RWX mapping, or a
 * file mapped twice (RX view + RW view): memfd_create("libffi"), else a
 * temporary file in $LIBFFI_TMPDIR, $TMPDIR, /tmp, /var/tmp, /dev/shm,
 * $HOME, then every mount point listed in /etc/mtab and /proc/mounts.
 * lockdown_enter() closes each of them:
 *
 *   /proc/self/maps, /proc/mounts	every proc mount is detached
 *   /etc/mtab				empty (bind mount) or a dangling link
 *   RWX, RW->RX			PR_SET_MDWE(PR_MDWE_REFUSE_EXEC_GAIN)
 *   memfd_create, memfd_secret		seccomp: EPERM
 *   temporary files			noexec tmpfs on each directory
 *
 * $TMPDIR and $LIBFFI_TMPDIR are removed from the environment, and $HOME
 * is set to /tmp if it is unset or "/".  Everything is inherited by
 * children and kept across execve (MDWE without PR_MDWE_NO_INHERIT, the
 * seccomp filter, the mount namespace).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "lockdown.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#define PR_MDWE_REFUSE_EXEC_GAIN (1UL << 0)
#define PR_MDWE_NO_INHERIT (1UL << 1)
#endif
#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif

#if defined(__x86_64__)
#define LD_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define LD_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define LD_AUDIT_ARCH AUDIT_ARCH_RISCV64
#else
#error "lockdown: x86-64, aarch64 or riscv64 only"
#endif

#define PAGE 4096
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int fail(const char *step)
{
	fprintf(stderr, "lockdown: %s: %s\n", step, errno ? strerror(errno) : "check failed");
	return -1;
}

/* mkdir -p @path (mode 1777 for the leaf: it becomes a tmpfs anyway). */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 01777) && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * Return 0 if @dir can hold no executable file mapping: statvfs reports
 * ST_NOEXEC and a PROT_EXEC mapping of a fresh file in it fails.
 */
static int check_noexec_dir(const char *dir)
{
	struct statvfs sv;
	void *p;
	int fd;

	if (statvfs(dir, &sv) || !(sv.f_flag & ST_NOEXEC))
		return -1;
	fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, PAGE)) {
		close(fd);
		return -1;
	}
	p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED) {
		munmap(p, PAGE);
		errno = 0;
		return -1;
	}
	return 0;
}

static int noexec_tmpfs(const char *dir)
{
	char step[PATH_MAX + 32];

	snprintf(step, sizeof(step), "noexec tmpfs on %s", dir);
	errno = 0;
	if (mkdir_p(dir))
		return fail(step);
	if (mount("lockdown", dir, "tmpfs", MS_NOEXEC | MS_NOSUID | MS_NODEV,
		  "mode=1777,size=16m"))
		return fail(step);
	if (check_noexec_dir(dir))
		return fail(step);
	return 0;
}

/* Undo the "\040"-style escapes of /proc/self/mountinfo in place. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

#define MAX_PROC_MOUNTS 16

/* Detach every proc mount (innermost first), then check that none is left. */
static int detach_proc(void)
{
	char *points[MAX_PROC_MOUNTS];
	char line[4096], mnt[PATH_MAX], fstype[64];
	int n = 0, i;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (f) {
		while (fgets(line, sizeof(line), f) && n < MAX_PROC_MOUNTS) {
			char *sep = strstr(line, " - ");

			if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
			    sscanf(sep + 3, "%63s", fstype) != 1)
				continue;
			if (strcmp(fstype, "proc"))
				continue;
			unescape(mnt);
			points[n] = strdup(mnt);
			if (points[n])
				n++;
		}
		fclose(f);
	}
	for (i = n - 1; i >= 0; i--) {
		if (umount2(points[i], MNT_DETACH) && errno != EINVAL && errno != ENOENT) {
			errno = errno ? errno : EIO;
			snprintf(line, sizeof(line), "umount %s", points[i]);
			while (i >= 0)
				free(points[i--]);
			return fail(line);
		}
		free(points[i]);
	}
	errno = 0;
	if (access("/proc/self/maps", F_OK) == 0 || access("/proc/mounts", F_OK) == 0)
		return fail("/proc is still mounted");
	return 0;
}

/* /etc/mtab must list nothing: missing, a dangling link, or empty. */
static int hide_mtab(void)
{
	struct stat st;
	int fd;

	if (lstat("/etc/mtab", &st) || S_ISLNK(st.st_mode))
		return 0;	/* checked after /proc is gone */
	fd = open("/run/.lockdown-empty", O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
	if (fd < 0)
		return fail("empty file for /etc/mtab");
	close(fd);
	if (mount("/run/.lockdown-empty", "/etc/mtab", NULL, MS_BIND, NULL))
		return fail("bind mount over /etc/mtab");
	return 0;
}

static int check_mtab(void)
{
	struct stat st;

	errno = 0;
	if (stat("/etc/mtab", &st) == 0 && st.st_size != 0)
		return fail("/etc/mtab still lists mounts");
	return 0;
}

static int set_mdwe(void)
{
	void *p;
	int r;

	if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0))
		return fail("PR_SET_MDWE");
	r = prctl(PR_GET_MDWE, 0, 0, 0, 0);
	errno = 0;
	if (r < 0 || !(r & PR_MDWE_REFUSE_EXEC_GAIN) || (r & PR_MDWE_NO_INHERIT))
		return fail("PR_GET_MDWE");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		return fail("MDWE: an RWX mapping succeeded");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap RW");
	r = mprotect(p, PAGE, PROT_READ | PROT_EXEC);
	munmap(p, PAGE);
	errno = 0;
	if (r == 0)
		return fail("MDWE: mprotect RW -> RX succeeded");
	return 0;
}

#define NR_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define NR_EPERM BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

static int set_seccomp(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, LD_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
		/* x32 system calls: none of them. */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
		NR_EPERM,
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_memfd_create, 0, 1),
		NR_EPERM,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_memfd_secret, 0, 1),
		NR_EPERM,
		NR_ALLOW,
	};
	struct sock_fprog prog = {
		.len = ARRAY_SIZE(insns),
		.filter = insns,
	};
	long r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return fail("PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return fail("PR_GET_NO_NEW_PRIVS");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0))
		return fail("seccomp filter");
	r = syscall(__NR_memfd_create, "libffi", MFD_CLOEXEC);
	if (r >= 0 || errno != EPERM) {
		errno = 0;
		return fail("seccomp: memfd_create did not fail with EPERM");
	}
	r = syscall(__NR_memfd_secret, 0);
	if (r >= 0 || errno != EPERM) {
		errno = 0;
		return fail("seccomp: memfd_secret did not fail with EPERM");
	}
	return 0;
}

int lockdown_enter(void)
{
	static const char *const dirs[] = { "/tmp", "/var/tmp", "/dev/shm", "/run" };
	const char *home;
	unsigned int i;

	errno = 0;
	if (unsetenv("TMPDIR") || unsetenv("LIBFFI_TMPDIR"))
		return fail("unsetenv");
	home = getenv("HOME");
	if (!home || !*home || !strcmp(home, "/") || !strcmp(home, "//")) {
		if (setenv("HOME", "/tmp", 1))
			return fail("setenv HOME");
		home = getenv("HOME");
	}
	if (unshare(CLONE_NEWNS))
		return fail("unshare(CLONE_NEWNS)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return fail("make / private");
	for (i = 0; i < ARRAY_SIZE(dirs); i++)
		if (noexec_tmpfs(dirs[i]))
			return -1;
	if (home[0] != '/')
		return fail("HOME is not an absolute path");
	if (noexec_tmpfs(home))
		return -1;
	if (hide_mtab() || detach_proc() || check_mtab())
		return -1;
	if (set_mdwe() || set_seccomp())
		return -1;
	return 0;
}
