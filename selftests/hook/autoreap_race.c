// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel race, reproduced without the hook library: a CLONE_AUTOREAP
 * child's pidfd is reported readable by poll() before PIDFD_GET_INFO
 * has its exit information.
 *
 * exit_notify() sets exit_state = EXIT_ZOMBIE and wakes the pidfd's
 * waiters (do_notify_parent -> do_notify_pidfd) under tasklist_lock;
 * pidfd_poll() reports EPOLLIN as soon as exit_state is set.  The exit
 * information (PIDFS_ATTR_BIT_EXIT) is only recorded by pidfs_exit(),
 * called from release_task() after the lock is dropped.  A parent that
 * asks PIDFD_GET_INFO between the two gets no PIDFD_INFO_EXIT: the
 * failure the kernel's pidfd_autoreap_test reports intermittently
 * ("Expected 0 (0) != info.mask & PIDFD_INFO_EXIT"), natively and hooked.
 *
 *   autoreap_race N
 *
 * Runs N children (each exits at once) and polls each pidfd with a zero
 * timeout in a loop, asking PIDFD_GET_INFO the moment it is readable.
 * Each pidfd that lacked it is asked again 10 ms later and must then
 * report the exit (status 42): the information comes late, it is not
 * lost.  Prints "autoreap_race: K of N readable without PIDFD_INFO_EXIT"
 * and exits 0 if the run was complete (K may be 0), 1 on any other error,
 * 4 (KSFT_SKIP) if CLONE_AUTOREAP is unknown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/pidfd.h>
#include <linux/sched.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_AUTOREAP
#define CLONE_AUTOREAP (1ULL << 34)
#endif

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	int i, racy = 0;

	for (i = 0; i < n; i++) {
		struct pidfd_info info = { .mask = PIDFD_INFO_EXIT };
		struct clone_args args = { 0 };
		struct pollfd pfd;
		int pidfd = -1;
		long pid;

		args.flags = CLONE_PIDFD | CLONE_AUTOREAP;
		args.pidfd = (uintptr_t)&pidfd;
		pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid < 0 && errno == EINVAL) {
			printf("autoreap_race: CLONE_AUTOREAP not supported\n");
			return 4;
		}
		if (pid < 0) {
			perror("clone3");
			return 1;
		}
		if (pid == 0)
			syscall(SYS_exit_group, 42);
		pfd.fd = pidfd;
		pfd.events = POLLIN;
		do {
			pfd.revents = 0;
		} while (poll(&pfd, 1, 0) == 0);
		if (!(pfd.revents & POLLIN)) {
			fprintf(stderr, "poll: revents %#x\n", pfd.revents);
			return 1;
		}
		if (ioctl(pidfd, PIDFD_GET_INFO, &info)) {
			perror("PIDFD_GET_INFO");
			return 1;
		}
		if (!(info.mask & PIDFD_INFO_EXIT)) {
			/* A race, not a lost record: it is there soon after. */
			racy++;
			usleep(10000);
			info.mask = PIDFD_INFO_EXIT;
			if (ioctl(pidfd, PIDFD_GET_INFO, &info) ||
			    !(info.mask & PIDFD_INFO_EXIT) ||
			    info.exit_code != 42 << 8) {
				fprintf(stderr, "no exit information 10 ms later\n");
				return 1;
			}
		}
		close(pidfd);
	}
	printf("autoreap_race: %d of %d readable without PIDFD_INFO_EXIT\n",
	       racy, n);
	return 0;
}
