// SPDX-License-Identifier: GPL-2.0
/*
 * vfork and posix_spawn children, for countcmp.py: a vfork child calls
 * getppid() 50 times and then execs /t/worker (a new image with threads);
 * posix_spawn starts /t/worker twice more.  The hook must count the vfork
 * child's calls (into the parent's table: a vfork child shares its memory)
 * and every spawned image, and agree with strace.
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
	static char *const argv[] = { "worker", NULL };
	int i, st, bad = 0;
	pid_t pid = vfork();

	if (pid == 0) {
		for (i = 0; i < 50; i++)
			syscall(SYS_getppid);
		execve("/t/worker", argv, environ);
		_exit(127);
	}
	bad += pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st);
	for (i = 0; i < 2; i++) {
		if (posix_spawn(&pid, "/t/worker", NULL, NULL, argv, environ)) {
			bad++;
			continue;
		}
		bad += waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st);
	}
	printf("spawn: %s\n", bad ? "WRONG" : "ok");
	return bad;
}
