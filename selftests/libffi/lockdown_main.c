// SPDX-License-Identifier: GPL-2.0
/*
 * lockdown PROG ARGS...	run PROG locked down (see lockdown.h)
 * lockdown --check		print TAP lines: is this process locked down?
 *
 * "lockdown lockdown --check" shows that the lockdown survives execve.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>

#include "lockdown.h"

#ifndef PR_GET_MDWE
#define PR_GET_MDWE 66
#define PR_MDWE_REFUSE_EXEC_GAIN (1UL << 0)
#endif
#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif

static int nr, failed;

static void tap(int ok, const char *what)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++nr, what);
	failed |= !ok;
}

static int noexec(const char *dir)
{
	struct statvfs sv;

	return !statvfs(dir, &sv) && (sv.f_flag & ST_NOEXEC);
}

static int check(void)
{
	const char *home = getenv("HOME");
	int r;
	void *p;

	printf("1..9\n");
	r = prctl(PR_GET_MDWE, 0, 0, 0, 0);
	tap(r > 0 && (r & PR_MDWE_REFUSE_EXEC_GAIN), "lockdown: MDWE refuse-exec-gain is set");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	tap(p == MAP_FAILED, "lockdown: an RWX mapping fails");
	errno = 0;
	r = syscall(__NR_memfd_create, "libffi", 0);
	tap(r < 0 && errno == EPERM, "lockdown: memfd_create fails with EPERM");
	errno = 0;
	r = syscall(__NR_memfd_secret, 0);
	tap(r < 0 && errno == EPERM, "lockdown: memfd_secret fails with EPERM");
	tap(noexec("/tmp") && noexec("/var/tmp") && noexec("/dev/shm") && noexec("/run"),
	    "lockdown: /tmp /var/tmp /dev/shm /run are noexec");
	tap(home && noexec(home), "lockdown: $HOME is noexec");
	tap(!getenv("TMPDIR") && !getenv("LIBFFI_TMPDIR"), "lockdown: no TMPDIR, LIBFFI_TMPDIR");
	tap(access("/proc/self/maps", F_OK) && access("/proc/mounts", F_OK),
	    "lockdown: /proc is not mounted");
	r = open("/etc/mtab", O_RDONLY | O_CLOEXEC);
	if (r >= 0) {
		char c;

		tap(read(r, &c, 1) == 0, "lockdown: /etc/mtab lists nothing");
		close(r);
	} else {
		tap(1, "lockdown: /etc/mtab lists nothing");
	}
	return failed;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--check"))
		return check();
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: lockdown PROG [ARGS...] | lockdown --check\n");
		return 2;
	}
	if (lockdown_enter())
		return 125;
	execvp(argv[1], argv + 1);
	fprintf(stderr, "lockdown: exec %s: %s\n", argv[1], strerror(errno));
	return 127;
}
