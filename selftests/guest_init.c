// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the arm64 and riscv64 test guests (scripts/vm), where no
 * busybox of the guest architecture is at hand: mount the pseudo file
 * systems (debugfs too: the tests read the module's counters there), load
 * /mod/trampfd.ko, run every command line of /run.list from
 * /t (words separated by spaces), framing each one's output with
 * "=== NAME" and "=== NAME exit STATUS", print "TRAMPFD-EXIT=STATUS" (the
 * first non-zero status, or 0) and power off.  On a kernel with kmemleak
 * (make check DEBUG=1) it scans for leaks after the programs and prints the
 * report between "=== kmemleak" and "=== kmemleak exit 0".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void use_console(void)
{
	int fd = open("/dev/console", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static int run(char *line)
{
	char *argv[16];
	int argc = 0, st;
	char *save, *w;
	pid_t pid;

	for (w = strtok_r(line, " \t\n", &save); w && argc < 15;
	     w = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	if (!argc)
		return 0;
	printf("=== %s\n", argv[0]);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		st = 127 << 8;
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("=== %s exit %d\n", argv[0], st);
	return st;
}

/* Two kmemleak scans (objects must age before they are reported). */
static void kmemleak_report(void)
{
	const char *path = "/sys/kernel/debug/kmemleak";
	char buf[4096];
	ssize_t n;
	int fd, i;

	if (access(path, W_OK))
		return;
	printf("=== kmemleak\n");
	for (i = 0; i < 2; i++) {
		fd = open(path, O_WRONLY);
		if (fd < 0 || write(fd, "scan", 4) != 4)
			perror("kmemleak scan");
		if (fd >= 0)
			close(fd);
		sleep(6);
	}
	fflush(stdout);
	fd = open(path, O_RDONLY);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		if (write(1, buf, n) != n)
			break;
	if (fd >= 0)
		close(fd);
	printf("=== kmemleak exit 0\n");
}

int main(void)
{
	char line[512];
	int status = 0, st, fd;
	FILE *list;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sys", "/sys", "sysfs", 0, NULL);
	mount("dev", "/dev", "devtmpfs", 0, NULL);
	mount("tmp", "/tmp", "tmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	use_console();
	setenv("PATH", "/t", 1);
	fd = open("/mod/trampfd.ko", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && syscall(SYS_finit_module, fd, "", 0))
		perror("vm: insmod trampfd.ko");
	if (chdir("/t"))
		perror("/t");
	list = fopen("/run.list", "r");
	while (list && fgets(line, sizeof(line), list)) {
		st = run(line);
		if (st && !status)
			status = st;
	}
	kmemleak_report();
	printf("TRAMPFD-EXIT=%d\n", status);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
