/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the trampfd selftests.
 */
#ifndef TRAMPFD_UTIL_H
#define TRAMPFD_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/trampfd.h>

#define TRAMPFD_DEV "/dev/trampfd"

/* Return -errno on failure, 0 on success, for terse assertions. */
static inline int tfd_err(long ret)
{
	return ret < 0 ? -errno : 0;
}

static inline int tfd_open(void)
{
	return open(TRAMPFD_DEV, O_RDWR | O_CLOEXEC);
}

static inline int tfd_write_code(int fd, __u32 n, __u32 reg, const void *table)
{
	struct trampfd_code c = {
		.ntrampolines = n, .reg = reg, .table = (uintptr_t)table,
	};

	return tfd_err(pwrite(fd, &c, sizeof(c), TRAMPFD_CODE_OFFSET));
}

static inline int tfd_write_data(int fd, __u32 reg, const void *table)
{
	struct trampfd_data d = { .reg = reg, .table = (uintptr_t)table };

	return tfd_err(pwrite(fd, &d, sizeof(d), TRAMPFD_DATA_OFFSET));
}

/* Configure @fd for @n trampolines (r11 code, r10 data) and map it. */
static inline void *tfd_map(int fd, __u32 n, const __u64 *code, const __u64 *data)
{
	void *p;

	if (tfd_write_code(fd, n, TRAMPFD_X86_64_R11, code) ||
	    tfd_write_data(fd, TRAMPFD_X86_64_R10, data))
		return MAP_FAILED;
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	return p;
}

/* Read one "key:\tvalue" number from /proc/self/fdinfo/@fd; -1 if absent. */
static inline long tfd_fdinfo(int fd, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			val = strtol(line + klen + 1, NULL, 0);
			break;
		}
	}
	fclose(f);
	return val;
}

/* The "trampfd-state:" string of @fd's fdinfo, into @buf. */
static inline const char *tfd_state(int fd, char *buf, size_t len)
{
	char path[64], line[256];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "trampfd-state:\t%63s", buf) == 1)
			break;
	fclose(f);
	(void)len;
	return buf;
}

#endif /* TRAMPFD_UTIL_H */
