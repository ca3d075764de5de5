/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The locked-down process of the libffi tests: the setting in which stock
 * libffi has no way left to get executable memory for its closures.
 */
#ifndef _TRAMPFD_LOCKDOWN_H
#define _TRAMPFD_LOCKDOWN_H

/**
 * lockdown_enter() - lock the calling process down, for itself and every
 * process it forks or execs afterwards
 *
 * In a new mount namespace: /tmp, /var/tmp, /dev/shm, /run and $HOME are
 * (re)mounted as empty noexec tmpfs, /proc is unmounted and /etc/mtab is
 * not readable; then PR_SET_MDWE(PR_MDWE_REFUSE_EXEC_GAIN) and a seccomp
 * filter that fails memfd_create (and memfd_secret) with EPERM.  Needs
 * CAP_SYS_ADMIN (the tests run as root in the guest).  It checks each
 * property after setting it up.
 *
 * Return: 0, or -1 with a message on stderr naming the step that failed.
 */
int lockdown_enter(void);

#endif /* _TRAMPFD_LOCKDOWN_H */
