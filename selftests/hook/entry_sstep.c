// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe (issue 21, item 1): single-step hooked syscalls with a
 * SIGTRAP handler that has no SA_ONSTACK, a C callback registered (so
 * every call takes the slow path and its stack switch). The trap flag is
 * set with popf; the kernel delivers a SIGTRAP after every instruction,
 * on whatever %rsp is at that moment. If the slow path's stack switch
 * ever leaves %rsp at 0, on a live frame or below the hook stack, the
 * process dies (SIGSEGV) or the results are wrong. Steps getppid() (a
 * rewritten glibc site after the first call) and syscall(SYS_getppid)
 * (the library's own syscall(3)). Prints "sstep: ok N" (N traps).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/*
 * tf_on/tf_off: set and clear the trap flag (own functions: no red zone
 * of a C function is under the pushfq).
 */
__asm__(".text\n"
	".globl tf_on\n tf_on:\n pushfq\n orq $0x100, (%rsp)\n popfq\n ret\n"
	".globl tf_off\n tf_off:\n pushfq\n andq $-0x101, (%rsp)\n popfq\n ret\n");
void tf_on(void);
void tf_off(void);

static volatile long traps, bad_rsp, seen;

static void on_trap(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	unsigned long rsp = uc->uc_mcontext.gregs[REG_RSP];

	(void)sig;
	(void)si;
	traps++;
	/*
	 * We run on the interrupted stack: rsp is valid here, or we would
	 * not be running at all; check it is 8-byte aligned and not tiny.
	 */
	if (rsp < 4096 || (rsp & 7))
		bad_rsp++;
}

static int cb(long nr, long args[6], long *result)
{
	(void)args;
	(void)result;
	if (nr == SYS_getppid)
		seen++;
	return 0;
}

int main(void)
{
	void (*reg)(int (*)(long, long *, long *)) =
		(void (*)(int (*)(long, long *, long *)))dlsym(RTLD_DEFAULT, "syscallhook_register");
	struct sigaction sa;
	long want, a, b, t1;
	int i;

	if (!reg) {
		printf("sstep: no library\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;	/* no SA_ONSTACK: the frame goes below rsp */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL))
		return 2;
	want = getppid();
	for (i = 0; i < 3; i++)	/* the site is rewritten (lazy) by now */
		getppid();
	reg(cb);
	seen = 0;
	tf_on();
	a = getppid();
	tf_off();
	t1 = traps;
	tf_on();
	b = syscall(SYS_getppid);
	tf_off();
	reg(NULL);
	printf("sstep: %s %ld (getppid %ld traps, syscall(3) %ld; results %ld %ld want %ld; callbacks %ld; bad rsp %ld)\n",
	       a == want && b == want && seen == 2 && t1 > 20 && traps - t1 > 20 &&
	       !bad_rsp ? "ok" : "WRONG", traps, t1, traps - t1, a, b, want,
	       seen, bad_rsp);
	return !(a == want && b == want && seen == 2 && !bad_rsp);
}
