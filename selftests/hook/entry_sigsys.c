// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe: a program with its own SIGSYS handler and a seccomp filter
 * that traps getppid (SECCOMP_RET_TRAP), which then blocks every signal
 * and keeps making syscalls at sites never executed before.
 *   chain: the program's handler sees the seccomp SIGSYS (and a raised
 *          one) and emulates getppid = 4242; sigaction(SIGSYS) reports
 *          the program's handler, also after a posix_spawn whose child
 *          (sharing the parent's memory) resets SIGSYS before its exec.
 *          Prints "sigsys: ok".
 *   dfl:   no handler: the trapped getppid kills the process with SIGSYS.
 *   getpidkill: a filter that kills the process on getpid, then a
 *          syscall at a site never executed before: the library's SIGSYS
 *          handler rewrites it without a getpid of its own (as the
 *          kernel's seccomp_bpf precedence/KILL_thread/TRAP tests need).
 *          Prints "getpidkill: ok".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static volatile int seccomp_traps, raised;

static void on_sys(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;

	(void)sig;
	if (si->si_code == 1 /* SYS_SECCOMP */ && si->si_syscall == SYS_getppid) {
		seccomp_traps++;
		u->uc_mcontext.gregs[REG_RAX] = 4242;
	} else if (si->si_code == SI_TKILL) {
		raised++;
	}
}

static int trap_getppid(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { ARRAY_SIZE(f), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static long fresh_getpid(void)
{
	long r;

	asm volatile("syscall" : "=a"(r) : "a"(39L) : "rcx", "r11", "memory");
	return r;
}

static long fresh_getppid(void)
{
	long r;

	asm volatile("syscall" : "=a"(r) : "a"(110L) : "rcx", "r11", "memory");
	return r;
}

static int kill_on_getpid(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { ARRAY_SIZE(f), f };
	pid_t parent = getppid();

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 2;
	if (fresh_getppid() != parent) {
		printf("getpidkill: WRONG\n");
		return 1;
	}
	printf("getpidkill: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa, old;
	sigset_t all, cur;
	int ok = 1, n = 0;
	DIR *d;

	if (argc > 1 && !strcmp(argv[1], "getpidkill"))
		return kill_on_getpid();
	if (argc > 1 && !strcmp(argv[1], "dfl")) {
		if (trap_getppid())
			return 2;
		getppid();
		printf("sigsys: survived\n");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) || sigaction(SIGSYS, NULL, &old))
		return 3;
	if (old.sa_sigaction != on_sys) {
		printf("sigaction(SIGSYS) reports %p\n", (void *)old.sa_sigaction);
		ok = 0;
	}
	{
		static char *const args[] = { "/bin/true", NULL };
		posix_spawnattr_t at;
		sigset_t def;
		pid_t pid;
		int st;

		/* The child sets SIGSYS to SIG_DFL before its exec. */
		sigemptyset(&def);
		sigaddset(&def, SIGSYS);
		posix_spawnattr_init(&at);
		posix_spawnattr_setsigdefault(&at, &def);
		posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
		if (posix_spawn(&pid, "/bin/true", NULL, &at, args, NULL) == 0)
			waitpid(pid, &st, 0);
		sigaction(SIGSYS, NULL, &old);
		if (old.sa_sigaction != on_sys) {
			printf("after posix_spawn, sigaction(SIGSYS) reports %p\n",
			       (void *)old.sa_sigaction);
			ok = 0;
		}
	}
	if (trap_getppid())
		return 4;
	if (getppid() != 4242 || getppid() != 4242 || seccomp_traps != 2) {
		printf("seccomp trap not chained (%d)\n", seccomp_traps);
		ok = 0;
	}
	raise(SIGSYS);
	if (raised != 1) {
		printf("raised SIGSYS not chained\n");
		ok = 0;
	}
	/* Block everything, then reach new sites. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (fresh_getpid() != getpid())
		ok = 0;
	d = opendir("/");
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR1) || n < 3)
		ok = 0;
	printf("sigsys: %s\n", ok ? "ok" : "WRONG");
	return !ok;
}
