// SPDX-License-Identifier: GPL-2.0
/*
 * ENTRY probe: every new task is hooked. Modes:
 *   thread   a worker thread (pthread_create: clone3) calls getppid 1000x
 *   clone    a clone() child with its own stack (CLONE_VM|CLONE_THREAD...)
 *            calls getppid 1000x
 *   fork     a fork child calls getppid 100x, then _exit
 *   vfork    a vfork child calls getppid 100x, then _exit; the parent
 *            returns to the right place with its registers intact
 *   spawn    posix_spawn of argv[2]
 * Compare SYSCALLHOOK=count's table (nr 110) with strace -f -c.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/*
 * fork, vfork and clone at sites the patcher leaves on the SIGSYS path (the
 * number comes from writable data, not a constant, and the syscall
 * straddles a cache line): the handler must not create the child inside
 * itself but from library asm after it returned.
 */
long nr_fork = 57, nr_vfork = 58, nr_clone = 56, nr_exit = 60;
void sud_exit(void);
long sud_fork(void);
long sud_vfork(void);
long sud_clone(long flags, void *stack);
void clone_child(void);
asm(".text\n"
	".p2align 6\n sud_fork:\n .skip 56, 0x90\n"
	" mov nr_fork(%rip), %rax\n syscall\n ret\n"		/* syscall at 63 mod 64 */
	".p2align 6\n sud_vfork:\n .skip 55, 0x90\n"
	" pop %rdi\n mov nr_vfork(%rip), %rax\n syscall\n"	/* glibc's way: the return */
	" push %rdi\n ret\n"					/* address off the stack */
	".p2align 6\n sud_clone:\n .skip 56, 0x90\n"
	" mov nr_clone(%rip), %rax\n syscall\n test %rax, %rax\n jnz 1f\n"
	" call clone_child\n mov $60, %eax\n xor %edi, %edi\n syscall\n"
	"1: ret\n"
	".p2align 6\n sud_exit:\n .skip 54, 0x90\n"		/* exit(0) of this thread */
	" xor %edi, %edi\n mov nr_exit(%rip), %rax\n syscall\n ud2\n"
	".p2align 4\n raw_clone3:\n"				/* an ordinary, rewritten site */
	" mov $435, %eax\n syscall\n test %rax, %rax\n jnz 2f\n"
	" call clone_child\n mov $60, %eax\n xor %edi, %edi\n syscall\n"
	"2: ret\n");
long raw_clone3(void *args, unsigned long size);

static void *worker(void *arg)
{
	long i, n = (long)arg;

	for (i = 0; i < n; i++)
		getppid();
	return NULL;
}

static void *masker(void *arg)
{
	sigset_t set;

	sigemptyset(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return arg;
}

static void *sud_exiter(void *arg)
{
	masker(arg);	/* through the slow path: the thread gets a hook stack */
	sud_exit();	/* and leaves through an exit on the SIGSYS path */
	return arg;
}

static long vm_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmSize:", 7))
			kb = atol(line + 7);
	if (f)
		fclose(f);
	return kb;
}

void clone_child(void)
{
	worker((void *)1000L);
}

static int clone_fn(void *arg)
{
	worker(arg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "thread";
	pid_t pid;
	int st = 0;

	if (!strcmp(mode, "thread")) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, (void *)1000L))
			return 2;
		pthread_join(t, NULL);
	} else if (!strcmp(mode, "clone")) {
		size_t sz = 1 << 16;
		char *stk = malloc(sz);

		pid = clone(clone_fn, stk + sz, CLONE_VM | SIGCHLD, (void *)1000L);
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
			return 3;
	} else if (!strcmp(mode, "fork")) {
		pid = fork();
		if (pid == 0) {
			worker((void *)100L);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
			return 4;
	} else if (!strcmp(mode, "vfork")) {
		volatile long canary = 0x1234567890abcdefL;

		pid = vfork();
		if (pid == 0) {
			long i;

			for (i = 0; i < 100; i++)
				getppid();
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
			return 5;
		if (canary != 0x1234567890abcdefL)
			return 6;
	} else if (!strcmp(mode, "sudfork")) {
		pid = sud_fork();
		if (pid == 0) {
			worker((void *)100L);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
			return 9;
	} else if (!strcmp(mode, "sudvfork")) {
		volatile long canary = 0x1234567890abcdefL;

		pid = sud_vfork();
		if (pid == 0) {
			long i;

			for (i = 0; i < 100; i++)
				getppid();
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
			return 10;
		if (canary != 0x1234567890abcdefL)
			return 11;
	} else if (!strcmp(mode, "sudclone")) {
		size_t sz = 1 << 16;
		char *stk = malloc(sz);

		pid = sud_clone(CLONE_VM | SIGCHLD, stk + sz);
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
			return 12;
	} else if (!strcmp(mode, "sudexit")) {
		long before = vm_kb(), after, i;
		pthread_t t;

		for (i = 0; i < 300; i++) {
			if (pthread_create(&t, NULL, sud_exiter, NULL))
				return 17;
			pthread_join(t, NULL);
		}
		after = vm_kb();
		printf("sudexit: VmSize %ld -> %ld kB\n", before, after);
		if (after - before > 16384)
			return 18;
	} else if (!strcmp(mode, "churn")) {
		/*
		 * 500 threads one after the other, each through the slow path
		 * (rt_sigprocmask): their hook stacks must not pile up.
		 */
		long before = vm_kb(), after, i;
		pthread_t t;

		for (i = 0; i < 500; i++) {
			if (pthread_create(&t, NULL, masker, NULL))
				return 13;
			pthread_join(t, NULL);
		}
		after = vm_kb();
		printf("churn: VmSize %ld -> %ld kB\n", before, after);
		if (after - before > 16384)
			return 14;
	} else if (!strcmp(mode, "clone3") || !strcmp(mode, "clone3big")) {
		/*
		 * struct clone_args, 88 bytes, or 256 with a zero tail (the
		 * kernel accepts it: fields it does not know must be 0).
		 */
		unsigned long long args[32] = { 0 };
		size_t sz = 1 << 16;
		char *stk = malloc(sz);

		args[0] = CLONE_VM;		/* flags */
		args[4] = SIGCHLD;		/* exit_signal */
		args[5] = (unsigned long)stk;	/* stack */
		args[6] = sz;			/* stack_size */
		pid = raw_clone3(args, mode[6] ? sizeof(args) : 88);
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
			return 15;
		if (args[6] != sz)		/* the caller's struct untouched */
			return 16;
	} else if (!strcmp(mode, "spawn")) {
		if (posix_spawn(&pid, argv[2], NULL, NULL, argv + 2, environ))
			return 7;
		if (waitpid(pid, &st, 0) != pid || st)
			return 8;
	}
	printf("spawn %s: ok\n", mode);
	return 0;
}
