// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe (issue 21, item 9): a program's own SIGTRAP action works as
 * the kernel delivers it, natively and hooked (where the library takes
 * SIGTRAP over for its int3 protocol). One line per case, "sigtrap: ok"
 * at the end:
 *  - rt_sigaction round trip: the handler, flags and mask read back;
 *  - raise(SIGTRAP): the SA_SIGINFO handler runs (si_code SI_TKILL) with
 *    its sa_mask (SIGUSR1) blocked;
 *  - int3 in the program's code: si_code SI_KERNEL, rip after the int3;
 *    the handler's change of rax in the ucontext takes effect;
 *  - TF single-step: ten TRAP_TRACE traps, then the handler clears TF in
 *    the ucontext;
 *  - a plain (not SA_SIGINFO) handler, SA_RESETHAND (SIG_DFL after one),
 *    SA_ONSTACK (the handler runs on the sigaltstack);
 *  - a JIT page whose getpid site (rewritten when hooked) is overwritten
 *    with the program's own int3: the program's handler gets that trap;
 *  - SIG_IGN: raise(SIGTRAP) is ignored, an int3 (forced) kills a child;
 *    SIG_DFL: an int3 kills a child with SIGTRAP.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef TRAP_TRACE
#define TRAP_TRACE 2
#endif

static int failed;
static volatile long hits, code, usr1_blocked, on_alt, steps;
static volatile unsigned long rip;
static char altstack[65536];

#define CHECK(c, ...) do { \
	if (!(c)) { \
		failed = 1; \
		printf("sigtrap: FAIL " __VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

static void on_info(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	sigset_t cur;
	char local;

	(void)sig;
	hits++;
	code = si->si_code;
	rip = uc->uc_mcontext.gregs[REG_RIP];
	sigprocmask(SIG_BLOCK, NULL, &cur);
	usr1_blocked = sigismember(&cur, SIGUSR1);
	on_alt = &local >= altstack && &local < altstack + sizeof(altstack);
	if (si->si_code == SI_KERNEL)
		uc->uc_mcontext.gregs[REG_RAX] = 0x1234;
	if (si->si_code == TRAP_TRACE && ++steps >= 10)
		uc->uc_mcontext.gregs[REG_EFL] &= ~0x100L;
}

static void on_plain(int sig)
{
	(void)sig;
	hits++;
}

static void set(void *h, int flags, int mask_usr1)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (mask_usr1)
		sigaddset(&sa.sa_mask, SIGUSR1);
	sigaction(SIGTRAP, &sa, NULL);
}

/*
 * tf_nops: sets the trap flag and runs 20 nops (its own function: no red
 * zone of a C function is under the pushfq); the handler clears TF.
 */
__asm__(".text\n.globl tf_nops\ntf_nops:\n pushfq\n orq $0x100, (%rsp)\n popfq\n"
	" nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n"
	" nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n nop\n ret\n");
void tf_nops(void);

/*
 * do_int3: returns rax after an int3 (0 unless the handler changed it);
 * after_int3 is the address the trap reports.
 */
__asm__(".text\n.globl do_int3\ndo_int3:\n xor %eax, %eax\n int3\n"
	".globl after_int3\nafter_int3:\n ret\n");
long do_int3(void);
extern char after_int3[];

/* Child: int3 with the current action; returns its status. */
static int int3_child(void)
{
	struct rlimit no_core = { 0, 0 };
	int st = 0;
	pid_t p = fork();

	if (p == 0) {
		setrlimit(RLIMIT_CORE, &no_core);
		do_int3();
		_exit(0);
	}
	waitpid(p, &st, 0);
	return st;
}

int main(void)
{
	struct sigaction old;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	long r;
	int st;

	setvbuf(stdout, NULL, _IONBF, 0);
	/* rt_sigaction round trip */
	set(on_info, SA_SIGINFO, 1);
	memset(&old, 0, sizeof(old));
	sigaction(SIGTRAP, NULL, &old);
	CHECK(old.sa_sigaction == on_info && (old.sa_flags & SA_SIGINFO) &&
	      sigismember(&old.sa_mask, SIGUSR1) && !sigismember(&old.sa_mask, SIGUSR2),
	      "round trip: handler %p flags %#x", (void *)old.sa_sigaction, old.sa_flags);
	/* raise */
	hits = 0;
	raise(SIGTRAP);
	CHECK(hits == 1 && code == SI_TKILL && usr1_blocked,
	      "raise: hits %ld code %ld usr1 blocked %ld", hits, code, usr1_blocked);
	/* int3 */
	hits = 0;
	r = do_int3();
	CHECK(hits == 1 && code == SI_KERNEL && rip == (unsigned long)after_int3 && r == 0x1234,
	      "int3: hits %ld code %ld rip %#lx (want %p) rax %#lx", hits, code, rip,
	      (void *)after_int3, r);
	/* TF single-step */
	hits = 0;
	steps = 0;
	tf_nops();
	CHECK(steps == 10 && hits == 10 && code == TRAP_TRACE,
	      "single step: %ld steps, %ld hits, code %ld", steps, hits, code);
	/* plain handler */
	set(on_plain, 0, 0);
	hits = 0;
	raise(SIGTRAP);
	r = do_int3();
	CHECK(hits == 2 && r == 0, "plain handler: hits %ld rax %#lx", hits, r);
	/* SA_RESETHAND */
	set(on_plain, SA_RESETHAND, 0);
	hits = 0;
	raise(SIGTRAP);
	sigaction(SIGTRAP, NULL, &old);
	CHECK(hits == 1 && old.sa_handler == SIG_DFL, "resethand: hits %ld handler %p", hits,
	      (void *)old.sa_handler);
	/* SA_ONSTACK */
	sigaltstack(&ss, NULL);
	set(on_info, SA_SIGINFO | SA_ONSTACK, 0);
	hits = 0;
	raise(SIGTRAP);
	CHECK(hits == 1 && on_alt, "onstack: hits %ld on the altstack %ld", hits, on_alt);
	set(on_info, SA_SIGINFO, 0);
	hits = 0;
	raise(SIGTRAP);
	CHECK(hits == 1 && !on_alt, "not onstack: hits %ld on the altstack %ld", hits, on_alt);
	/* the program's int3 over an old (rewritten) JIT site */
	{
		static const unsigned char stub[] = { 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3 };
		unsigned char *jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		long (*f)(void) = (long (*)(void))jit;
		int rewritten;

		memcpy(jit, stub, sizeof(stub));
		r = f();
		rewritten = jit[5] == 0xff && jit[6] == 0xd0;
		CHECK(r == getpid(), "jit getpid: %ld", r);
		jit[5] = 0xcc;	/* int3 */
		jit[6] = 0xc3;	/* ret */
		set(on_info, SA_SIGINFO, 0);
		hits = 0;
		r = f();
		CHECK(hits == 1 && code == SI_KERNEL && rip == (unsigned long)jit + 6 && r == 0x1234,
		      "int3 over a %s site: hits %ld code %ld rip %#lx rax %#lx",
		      rewritten ? "rewritten" : "syscall", hits, code, rip, r);
		printf("sigtrap: jit site %s before the int3\n", rewritten ? "rewritten" : "not rewritten");
	}
	/* SIG_IGN */
	set(SIG_IGN, 0, 0);
	raise(SIGTRAP);
	st = int3_child();
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTRAP, "ignored int3: child status %#x", st);
	/* SIG_DFL */
	set(SIG_DFL, 0, 0);
	st = int3_child();
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTRAP, "default int3: child status %#x", st);
	printf("sigtrap: %s\n", failed ? "WRONG" : "ok");
	return failed;
}
