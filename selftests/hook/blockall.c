// SPDX-License-Identifier: GPL-2.0
/*
 * A program that blocks every signal (sigprocmask with a full set) and then
 * makes syscalls at sites it has not used before (getppid, open/read/close
 * of a file), starts a thread that does the same, and spawns a child
 * (fork + exec of /usr/bin/true) that inherits the full mask.  Everything
 * must work hooked, and the mask the program reads back must still block
 * SIGUSR1 and SIGTERM (SIGSYS is only reported: a library that relies on
 * Syscall User Dispatch must keep it deliverable).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t parent;

static int io(void)
{
	char b[16];
	int fd = open("/proc/self/stat", O_RDONLY), ok;

	ok = fd >= 0 && read(fd, b, sizeof(b)) == sizeof(b);
	if (fd >= 0)
		close(fd);
	return ok && getppid() == parent;
}

static void *work(void *arg)
{
	(void)arg;
	return (void *)(long)io();
}

int main(void)
{
	sigset_t all, now;
	pthread_t t;
	void *tok = NULL;
	int st = -1, ok, blocked;
	pid_t pid;

	parent = getppid();
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	ok = io();
	ok &= !pthread_create(&t, NULL, work, NULL) && !pthread_join(t, &tok) && tok;
	pid = fork();
	if (pid == 0) {
		execl("/usr/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	ok &= pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
	sigprocmask(SIG_SETMASK, NULL, &now);
	/* SIGSYS is reported, not required: a hook library may need it. */
	blocked = sigismember(&now, SIGUSR1) && sigismember(&now, SIGTERM);
	printf("blockall: syscalls %s, thread %s, child exit %d, SIGUSR1 SIGTERM blocked: %s (SIGSYS: %s): %s\n",
	       ok ? "ok" : "WRONG", tok ? "ok" : "WRONG", st, blocked ? "yes" : "NO",
	       sigismember(&now, SIGSYS) ? "blocked" : "not blocked", ok && blocked ? "ok" : "WRONG");
	return !(ok && blocked);
}
