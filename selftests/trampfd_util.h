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

/*
 * The architecture under test: slot size, the registers the tests use
 * (code, data, a second accepted data register seen by shim_alt), refused
 * registers, registers accepted only as data register (arches that have
 * them), the accepted masks and the filler byte of unused slots.
 */
#define TFD_CODE_REG	TRAMPFD_NATIVE_CODE_REG
#define TFD_DATA_REG	TRAMPFD_NATIVE_DATA_REG
#if defined(__x86_64__)
#define TFD_SLOT		32
#define TFD_ALT_DATA_REG	TRAMPFD_X86_64_RAX
#define TFD_REG_SP		TRAMPFD_X86_64_RSP
#define TFD_REG_PC_OR_LINK	TRAMPFD_X86_64_RIP
#define TFD_REG_ARG0		TRAMPFD_X86_64_RDI
#define TFD_REG_CALLEE_SAVED	TRAMPFD_X86_64_RBX
#define TFD_REG_UNKNOWN		17
#define TFD_CODE_REGS	((1u << TRAMPFD_X86_64_RAX) | (1u << TRAMPFD_X86_64_R10) | \
			 (1u << TRAMPFD_X86_64_R11))
#define TFD_DATA_REGS	TFD_CODE_REGS
#define TFD_FILL	0xcc	/* int3 */
#elif defined(__aarch64__)
#define TFD_SLOT		64
#define TFD_ALT_DATA_REG	TRAMPFD_ARM64_X9
#define TFD_REG_SP		31
#define TFD_REG_PC_OR_LINK	30	/* lr */
#define TFD_REG_ARG0		0
#define TFD_REG_CALLEE_SAVED	19
#define TFD_REG_UNKNOWN		32
#define TFD_REG_DATA_ONLY	TRAMPFD_ARM64_X9	/* "br x9" fails "bti c" */
#define TFD_CODE_REGS	((1u << 16) | (1u << 17))
#define TFD_DATA_REGS	0x3fe00u	/* x9 .. x17 */
#define TFD_FILL	0x00	/* udf #0 */
#elif defined(__riscv) && __riscv_xlen == 64
#define TFD_SLOT		64
#define TFD_ALT_DATA_REG	TRAMPFD_RISCV64_T0
#define TFD_REG_SP		2
#define TFD_REG_PC_OR_LINK	1	/* ra */
#define TFD_REG_ARG0		10	/* a0 */
#define TFD_REG_CALLEE_SAVED	8	/* s0 */
#define TFD_REG_UNKNOWN		32
#define TFD_REG_DATA_ONLY	TRAMPFD_RISCV64_T0	/* "jr t0" is a return */
#define TFD_REG_LPAD_EXEMPT	TRAMPFD_RISCV64_T2	/* "jr t2" needs no lpad */
#define TFD_CODE_REGS	(0xf00000c0u)	/* t1, t2, t3 .. t6 */
#define TFD_DATA_REGS	(0xf00000e0u)	/* t0 .. t6 */
#define TFD_FILL	0x00	/* illegal instruction */
#else
#error "trampfd selftests support x86-64, arm64 and riscv64"
#endif
#define TFD_NMAX	(4096 / TFD_SLOT)

/*
 * 1 if trampfd is built into the kernel (CONFIG_TRAMPFD=y): the device is
 * there, but no module "trampfd" is loaded (a loaded module always has
 * /sys/module/trampfd/initstate; a built-in driver has none, and with only
 * parameters of permission 0 no /sys/module/trampfd at all).  A test that
 * unloads the module, or reloads it with other parameters, is not
 * applicable then: it skips with TFD_BUILTIN_SKIP.
 */
static inline int tfd_builtin(void)
{
	return access(TRAMPFD_DEV, F_OK) == 0 &&
	       access("/sys/module/trampfd/initstate", F_OK) != 0;
}

#define TFD_BUILTIN_SKIP \
	"not applicable: trampfd is built in (CONFIG_TRAMPFD=y), no unload or reload"

/*
 * A built-in driver takes its parameters from the kernel command line
 * only, as trampfd.NAME=VALUE (they have no sysfs entry).  1 if every
 * "NAME=VALUE" of the blank-separated @params is there, 0 if not.  A test
 * that reloads the module with parameters runs against a built-in driver
 * in a guest booted with them, and skips with TFD_BUILTIN_PARAM_SKIP in
 * the others.
 */
static inline int tfd_booted_with(const char *params)
{
	char cmdline[4096], want[256], tok[128];
	const char *p = params;
	ssize_t n;
	int fd, len;

	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, cmdline + 1, sizeof(cmdline) - 3);
	close(fd);
	if (n <= 0)
		return 0;
	/* " words ": every word, the first and last too, between blanks. */
	cmdline[0] = ' ';
	cmdline[n + 1] = 0;
	if (cmdline[n] == '\n')
		cmdline[n] = 0;
	strcat(cmdline, " ");
	while (sscanf(p, "%127s%n", tok, &len) == 1) {
		p += len;
		snprintf(want, sizeof(want), " trampfd.%s ", tok);
		if (!strstr(cmdline, want))
			return 0;
	}
	return 1;
}

#define TFD_BUILTIN_PARAM_SKIP \
	"built in: runs in a guest booted with its parameters (trampfd.NAME=VALUE)"

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

/* Configure @fd for @n trampolines (the recommended registers) and map it. */
static inline void *tfd_map(int fd, __u32 n, const __u64 *code, const __u64 *data)
{
	void *p;

	if (tfd_write_code(fd, n, TFD_CODE_REG, code) ||
	    tfd_write_data(fd, TFD_DATA_REG, data))
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

/*
 * A module-wide counter (live_fds, live_pages, faults) from
 * /sys/kernel/debug/trampfd/ (root only); -1 if it cannot be read.
 */
static inline long tfd_counter(const char *name)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/trampfd/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
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
