// SPDX-License-Identifier: GPL-2.0
/*
 * A program with its own SIGSEGV, SIGTRAP and SIGSYS handlers, hooked:
 *  - SIGSEGV: reads address 8 (a NULL-pointer read) 100 times; its handler
 *    makes a syscall and siglongjmps back;
 *  - SIGTRAP: executes int3 100 times; the handler counts and makes a
 *    syscall;
 *  - SIGSYS: installs a seccomp filter that traps getpriority
 *    (SECCOMP_RET_TRAP) and answers 42 from its own SIGSYS handler (si_code
 *    SYS_SECCOMP); 100 calls must all see 42.  A hook library that keeps
 *    SIGSYS for itself must pass these on to the program's handler.
 * Every handler's syscall result is checked.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static sigjmp_buf env;
static volatile int segv, trap, sys_ok, sys_other, wrong;
static pid_t parent;

static void on_segv(int sig)
{
	(void)sig;
	segv++;
	if (getppid() != parent)
		wrong++;
	siglongjmp(env, 1);
}

static void on_trap(int sig)
{
	(void)sig;
	trap++;
	if (getppid() != parent)
		wrong++;
}

static void on_sys(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig;
	if (si->si_code == 1 /* SYS_SECCOMP */ && si->si_syscall == SYS_getpriority) {
		sys_ok++;
		uc->uc_mcontext.gregs[REG_RAX] = 42;
	} else {
		sys_other++;
	}
	if (getppid() != parent)
		wrong++;
}

int main(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpriority, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { ARRAY_SIZE(filter), filter };
	struct sigaction sa = { 0 };
	static volatile int answers;
	volatile int *volatile null_ish = (volatile int *)8;
	int i;

	parent = getppid();
	sa.sa_handler = on_segv;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_handler = on_trap;
	sa.sa_flags = 0;
	sigaction(SIGTRAP, &sa, NULL);
	sa.sa_sigaction = on_sys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL))
		printf("sigaction(SIGSYS) failed\n");
	for (i = 0; i < 100; i++)
		if (!sigsetjmp(env, 1))
			(void)*null_ish;
	for (i = 0; i < 100; i++)
		asm volatile("int3");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		printf("ownsig: seccomp unavailable\n");
		return 1;
	}
	for (i = 0; i < 100; i++)
		answers += syscall(SYS_getpriority, 0, 0) == 42;
	printf("ownsig: SIGSEGV %d/100, SIGTRAP %d/100, seccomp SIGSYS %d/100 (answers %d, other SIGSYS %d), %d wrong: %s\n",
	       segv, trap, sys_ok, answers, sys_other, wrong,
	       segv == 100 && trap == 100 && sys_ok == 100 && answers == 100 && !wrong ?
	       "ok" : "WRONG");
	return !(segv == 100 && trap == 100 && sys_ok == 100 && answers == 100 && !wrong);
}
