// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe: syscalls at sites left on the SIGSYS (Syscall User
 * Dispatch) path, the kernel's 32-bit syscall numbers, children that lose
 * the library's SIGSYS handler, and a library that could not hook. Run
 * under LD_PRELOAD=libsyscallhook.so (but "nopage" and "nosud", which
 * re-execute themselves with it). Each mode prints "MODE: ok" (or
 * "MODE: skip REASON") and exits 0, else says what failed and exits 1.
 *
 *   sigmask:  a thread created with pthread_attr_setsigmask_np({SIGUSR1})
 *             has SIGUSR1 blocked (glibc's rt_sigprocmask in start_thread
 *             is left on SUD), and an rt_sigprocmask at a SUD site sticks:
 *             the call must not run inside the SIGSYS handler, whose
 *             rt_sigreturn restores the mask.
 *   altstack: a sigaltstack() at a SUD site sticks (same reason).
 *   pkey:     pkey_alloc(PKEY_DISABLE_WRITE) at a SUD site: PKRU keeps
 *             the key's bit (the handler's sigreturn restores PKRU).
 *             "skip" without protection keys.
 *   highbits: the kernel runs (int)rax: getppid | 1 << 32 is counted
 *             (SYSCALLHOOK=count) through syscall(3) and at a SUD site;
 *             rt_sigprocmask | 1 << 32 blocking everything cannot block
 *             SIGSYS (the next trap would kill the process).
 *   clearsighand: a clone3 child with CLONE_CLEAR_SIGHAND (SIGSYS back
 *             to SIG_DFL in it) survives its first SUD trap.
 *   nopage:   the zpoline page cannot be installed (/dev/zpoline is
 *             /dev/null in a private mount namespace): not hooked,
 *             syscall(3) goes to the kernel (-1/errno), and
 *             syscall(SYS_fork)'s child lives (no SUD armed in it without
 *             a SIGSYS handler). argv[2] = the library.
 *   execmask: an execve at a SUD site (the new image without the
 *             library) starts with the caller's blocked mask: the call
 *             must not run inside the SIGSYS handler, whose blocked mask
 *             (SIGSYS, sa_mask) execve would pass on.
 *   nosud:    prctl(PR_SET_SYSCALL_USER_DISPATCH) fails (a seccomp filter
 *             answers EPERM), eager mode: not hooked, and no site was
 *             rewritten. argv[2] = the library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * A syscall site the patcher refuses (no unwind info, the number from a
 * register, the instruction straddling a cache line): every call traps
 * with SIGSYS. sud_syscall(nr, a1, a2, a3, a4, a5).
 */
long sud_syscall(long nr, long a1, long a2, long a3, long a4, long a5);
asm(".text\n"
	".p2align 6\n sud_syscall:\n .skip 45, 0x90\n"
	" mov %rdi, %rax\n mov %rsi, %rdi\n mov %rdx, %rsi\n"
	" mov %rcx, %rdx\n mov %r8, %r10\n mov %r9, %r8\n"
	" syscall\n ret\n");	/* syscall at 63 mod 64 */

/* The library's API, resolved at run time from the preloaded library. */
typedef uint64_t (*stat_fn)(uint32_t n);
typedef bool (*active_fn)(void);

static void *api(const char *name)
{
	void *f = dlsym(RTLD_DEFAULT, name);

	if (!f) {
		printf("not preloaded (no %s)\n", name);
		exit(1);
	}
	return f;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int failed;

#define CHECK(cond, ...) do {						\
		if (!(cond)) {						\
			printf("FAIL %s:%d: ", __func__, __LINE__);	\
			printf(__VA_ARGS__);				\
			printf("\n");					\
			failed = 1;					\
		}							\
	} while (0)

static uint64_t cur_mask(void)
{
	uint64_t m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
	return m;
}

#define BIT(sig) (1ULL << ((sig) - 1))

static void *mask_thread(void *arg)
{
	*(uint64_t *)arg = cur_mask();
	return NULL;
}

static void t_sigmask(void)
{
	pthread_attr_t a;
	pthread_t t;
	sigset_t s;
	uint64_t m = 0, set = BIT(SIGUSR2), all = ~0ULL;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_attr_init(&a);
	pthread_attr_setsigmask_np(&a, &s);
	if (pthread_create(&t, &a, mask_thread, &m) || pthread_join(t, NULL)) {
		printf("pthread_create failed\n");
		exit(1);
	}
	CHECK(m & BIT(SIGUSR1), "new thread's mask %#llx lacks SIGUSR1",
	      (unsigned long long)m);

	CHECK(sud_syscall(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, 8, 0) == 0,
	      "rt_sigprocmask at the SUD site failed");
	m = cur_mask();
	CHECK(m & BIT(SIGUSR2), "mask %#llx lacks SIGUSR2 after a SUD rt_sigprocmask",
	      (unsigned long long)m);
	/* Blocking everything at the SUD site still leaves SIGSYS. */
	sud_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0);
	m = cur_mask();
	CHECK(!(m & BIT(SIGSYS)) && (m & BIT(SIGUSR1)), "mask %#llx after blocking all",
	      (unsigned long long)m);
	sud_syscall(SYS_getppid, 0, 0, 0, 0, 0);	/* one more trap */
	set = 0;
	sud_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&set, 0, 8, 0);
	CHECK(cur_mask() == 0, "mask %#llx after SIG_SETMASK 0",
	      (unsigned long long)cur_mask());
}

static void t_altstack(void)
{
	static char mem[65536];
	stack_t ss = { .ss_sp = mem, .ss_size = sizeof(mem) }, old;

	CHECK(sud_syscall(SYS_sigaltstack, (long)&ss, 0, 0, 0, 0) == 0,
	      "sigaltstack at the SUD site failed");
	memset(&old, 0, sizeof(old));
	sigaltstack(NULL, &old);
	CHECK(old.ss_sp == mem && old.ss_size == sizeof(mem) && !(old.ss_flags & SS_DISABLE),
	      "sigaltstack is %p+%zu flags %d, not %p", old.ss_sp, old.ss_size,
	      old.ss_flags, (void *)mem);
	ss.ss_flags = SS_DISABLE;
	CHECK(sud_syscall(SYS_sigaltstack, (long)&ss, 0, 0, 0, 0) == 0,
	      "sigaltstack(SS_DISABLE) at the SUD site failed");
	sigaltstack(NULL, &old);
	CHECK(old.ss_flags & SS_DISABLE, "sigaltstack still enabled (flags %d)", old.ss_flags);
}

static uint32_t rdpkru(void)
{
	uint32_t eax, edx, ecx = 0;

	asm volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(ecx));
	return eax;
}

static void t_pkey(void)
{
	long k = sud_syscall(SYS_pkey_alloc, 0, 2 /* PKEY_DISABLE_WRITE */, 0, 0, 0);

	if (k < 0) {
		printf("pkey: skip (pkey_alloc: %s)\n", strerror((int)-k));
		exit(0);
	}
	CHECK(rdpkru() & (2u << (2 * k)), "PKRU %#x lacks write-disable of key %ld",
	      rdpkru(), k);
	sud_syscall(SYS_pkey_free, k, 0, 0, 0, 0);
}

static void t_highbits(void)
{
	stat_fn syscallhook_count = (stat_fn)api("syscallhook_count");
	uint64_t c0, c1, c2, m, all = ~0ULL, zero = 0;
	long hi = 1L << 32;

	c0 = syscallhook_count(SYS_getppid);
	CHECK(syscall(SYS_getppid | hi) == getppid(), "syscall(getppid | 1 << 32)");
	c1 = syscallhook_count(SYS_getppid);
	CHECK(sud_syscall(SYS_getppid | hi, 0, 0, 0, 0, 0) == getppid(),
	      "getppid | 1 << 32 at the SUD site");
	c2 = syscallhook_count(SYS_getppid);
	/* Each step also has one plain getppid(), counted. */
	CHECK(c1 - c0 == 2 && c2 - c1 == 2,
	      "getppid | 1 << 32 not counted: counts %llu %llu %llu",
	      (unsigned long long)c0, (unsigned long long)c1, (unsigned long long)c2);

	syscall(SYS_rt_sigprocmask | hi, SIG_SETMASK, &all, NULL, 8);
	m = cur_mask();
	CHECK(!(m & BIT(SIGSYS)), "syscall(rt_sigprocmask | 1 << 32) blocked SIGSYS: %#llx",
	      (unsigned long long)m);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &zero, NULL, 8);
	sud_syscall(SYS_rt_sigprocmask | hi, SIG_SETMASK, (long)&all, 0, 8, 0);
	m = cur_mask();
	CHECK(!(m & BIT(SIGSYS)) && (m & BIT(SIGUSR1)),
	      "rt_sigprocmask | 1 << 32 at the SUD site: mask %#llx",
	      (unsigned long long)m);
	/* A trap now (a site never executed before) must not kill us. */
	sud_syscall(SYS_getpid, 0, 0, 0, 0, 0);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &zero, NULL, 8);
}

static void t_clearsighand(void)
{
	struct clone_args ca;
	int st;
	long pid;

	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_CLEAR_SIGHAND;
	ca.exit_signal = SIGCHLD;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		/* A trap in the child: SIGSYS must still be the library's. */
		sud_syscall(SYS_getppid, 0, 0, 0, 0, 0);
		sud_syscall(SYS_exit_group, 7, 0, 0, 0, 0);
	}
	CHECK(pid > 0, "clone3: %s", strerror(errno));
	if (pid > 0) {
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7,
		      "CLONE_CLEAR_SIGHAND child: status %#x (signal %d)", st,
		      WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	}
}

/* Re-executes this program as MODE-child with LD_PRELOAD=lib. */
static void reexec(const char *self, const char *mode, const char *lib, const char *more)
{
	char m[64];

	snprintf(m, sizeof(m), "%s-child", mode);
	setenv("LD_PRELOAD", lib, 1);
	if (more)
		putenv((char *)more);
	execl("/proc/self/exe", self, m, (char *)NULL);
	perror("execve");
	exit(1);
}

static int active(void)
{
	return ((active_fn)api("syscallhook_active"))();
}

static void t_nopage_child(void)
{
	int st;
	long pid;

	CHECK(!active(), "hooked though /dev/zpoline is /dev/null");
	errno = 0;
	CHECK(syscall(-1L) == -1 && errno == ENOSYS, "syscall(-1): errno %d", errno);
	CHECK(syscall(SYS_getppid) == getppid(), "syscall(SYS_getppid)");
	pid = syscall(SYS_fork);
	if (pid == 0) {
		getppid();
		sud_syscall(SYS_getppid, 0, 0, 0, 0, 0);
		_exit(7);
	}
	CHECK(pid > 0, "syscall(SYS_fork): %s", strerror(errno));
	if (pid > 0) {
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7,
		      "syscall(SYS_fork) child: status %#x (signal %d)", st,
		      WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	}
}

/*
 * execve at a SUD site, from a forked child, of this program without the
 * library: the new image's blocked mask must be the one the caller had,
 * not the SIGSYS handler's (SIGSYS and its sa_mask blocked).
 */
static void t_execmask(const char *self)
{
	static const char *const envp[] = { NULL };
	const char *argv[3];
	uint64_t before = cur_mask(), after = ~0ULL;
	int p[2], st;
	long pid;

	argv[0] = self;
	argv[1] = "execmask-child";
	argv[2] = NULL;
	if (pipe(p)) {
		perror("pipe");
		exit(1);
	}
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		sud_syscall(SYS_execve, (long)"/proc/self/exe", (long)argv, (long)envp, 0, 0);
		_exit(127);
	}
	close(p[1]);
	CHECK(read(p[0], &after, sizeof(after)) == sizeof(after), "no mask from the new image");
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec'd child: status %#x", st);
	CHECK(after == before, "the new image's blocked mask %#llx, the caller's %#llx",
	      (unsigned long long)after, (unsigned long long)before);
}

/* The new image of t_execmask: its blocked mask, 8 bytes on stdout. */
static void t_execmask_child(void)
{
	uint64_t m = cur_mask();

	if (write(1, &m, sizeof(m)) != sizeof(m))
		exit(1);
	exit(0);
}

static void t_nosud_child(void)
{
	stat_fn syscallhook_patch_stat = (stat_fn)api("syscallhook_patch_stat");

	CHECK(!active(), "hooked though SUD was refused");
	CHECK(syscallhook_patch_stat(0) == 0, "%llu sites rewritten though SUD was refused",
	      (unsigned long long)syscallhook_patch_stat(0));
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "sigmask")) {
		t_sigmask();
	} else if (!strcmp(mode, "altstack")) {
		t_altstack();
	} else if (!strcmp(mode, "pkey")) {
		t_pkey();
	} else if (!strcmp(mode, "highbits")) {
		t_highbits();
	} else if (!strcmp(mode, "clearsighand")) {
		t_clearsighand();
	} else if (!strcmp(mode, "nopage") && argc > 2) {
		if (unshare(CLONE_NEWNS) ||
		    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("/dev/null", "/dev/zpoline", NULL, MS_BIND, NULL)) {
			perror("nopage: mount namespace");
			return 1;
		}
		reexec(argv[0], mode, argv[2], NULL);
	} else if (!strcmp(mode, "nopage-child")) {
		t_nopage_child();
	} else if (!strcmp(mode, "nosud") && argc > 2) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_SYSCALL_USER_DISPATCH, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog p = { .len = ARRAY_SIZE(f), .filter = f };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p)) {
			perror("nosud: seccomp");
			return 1;
		}
		reexec(argv[0], mode, argv[2], "SYSCALLHOOK_MODE=eager");
	} else if (!strcmp(mode, "nosud-child")) {
		t_nosud_child();
	} else if (!strcmp(mode, "execmask")) {
		t_execmask(argv[0]);
	} else if (!strcmp(mode, "execmask-child")) {
		t_execmask_child();
	} else {
		fprintf(stderr, "usage: entry_sud MODE (see the source)\n");
		return 2;
	}
	if (failed)
		return 1;
	printf("%s: ok\n", mode);
	return 0;
}
