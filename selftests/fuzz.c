// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzer for /dev/trampfd and /dev/zpoline: random sequences of open,
 * TRAMPFD_IOC_CREATE, ioctl (valid and invalid numbers and pointers), pwrite
 * (random sizes, offsets, contents), read, mmap / mprotect / mremap / munmap
 * with random arguments, trampoline calls, fork and close, from two threads
 * at once, for a bounded time.
 *
 *   fuzz SECONDS [SEED]
 *
 * Each episode is a child process running a sequence derived from one seed.
 * A child that dies from a signal it did not ask for is a crash: its seed
 * and the operations it ran are kept in $FUZZ_CRASH_DIR (default
 * /tmp/fuzz-crashes) and the run fails.  Kernel splats are caught by the VM
 * harness, leaks by the counters checked at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/trampfd.h>
#include <linux/zpoline.h>

#include "trampfd_util.h"
#ifdef __x86_64__
#include "zpoline_hook.h"
#else
/* No /dev/zpoline here: its opens fail with ENOENT; any hook address will do. */
static void zp_hook(void)
{
}
#endif
#include "ret_r10.h"

#define PAGE_SZ 4096
#define NFD 8
#define NMAP 8
#define OPS_PER_EPISODE 300
#define LOG_OPS 4096

struct state {
	int fds[NFD];
	void *maps[NMAP];
	size_t map_len[NMAP];
	__u64 code[128], data[128];
	unsigned int seed;
	long ops;
	char log[LOG_OPS][48];
	int nlog;
	pthread_mutex_t lock;
};

static struct state st;

static unsigned int rnd(unsigned int *seed)
{
	return rand_r(seed);
}

static void note(const char *fmt, long a, long b, long c)
{
	pthread_mutex_lock(&st.lock);
	snprintf(st.log[st.nlog % LOG_OPS], sizeof(st.log[0]), fmt, a, b, c);
	st.nlog++;
	st.ops++;
	pthread_mutex_unlock(&st.lock);
}

/* A pointer argument: valid, NULL, unmapped, kernel, misaligned. */
static void *rnd_ptr(unsigned int *seed, void *valid)
{
	switch (rnd(seed) % 6) {
	case 0:
		return NULL;
	case 1:
		return (void *)0xffff888000000000ull;
	case 2:
		return (void *)0x10000;		/* usually unmapped */
	case 3:
		return (char *)valid + 3;
	default:
		return valid;
	}
}

static __u64 rnd_table(unsigned int *seed, __u64 *valid)
{
	switch (rnd(seed) % 8) {
	case 0:
		return 0;
	case 1:
		return 0xfffffffffffffff8ull;
	case 2:
		return (uintptr_t)valid + 4;
	case 3:
		return 0x00007ffffffff000ull;
	default:
		return (uintptr_t)valid;
	}
}

static void op(unsigned int *seed)
{
	int i = rnd(seed) % NFD, m = rnd(seed) % NMAP;
	int fd = st.fds[i];
	char buf[64];
	long r;

	switch (rnd(seed) % 14) {
	case 0:
		r = open(rnd(seed) % 4 ? "/dev/trampfd" : "/dev/zpoline", O_RDWR);
		note("open -> %ld (slot %ld)%.0ld", r, i, 0);
		if (r >= 0) {
			r = __atomic_exchange_n(&st.fds[i], (int)r, __ATOMIC_SEQ_CST);
			if (r >= 0)
				close(r);
		}
		break;
	case 1:
		r = ioctl(fd, TRAMPFD_IOC_CREATE, rnd(seed) % 3);
		note("create fd %ld -> %ld%.0ld", fd, r, 0);
		if (r >= 0)
			close(r);
		break;
	case 2: {
		struct trampfd_code c = {
			rnd(seed) % 140, rnd(seed) % 20, rnd_table(seed, st.code)
		};
		r = pwrite(fd, &c, sizeof(c), TRAMPFD_CODE_OFFSET);
		note("code fd %ld n %ld -> %ld", fd, c.ntrampolines, r);
		break;
	}
	case 3: {
		struct trampfd_data d = {
			rnd(seed) % 20, rnd(seed) % 8 ? 0 : 1, rnd_table(seed, st.data)
		};
		r = pwrite(fd, &d, sizeof(d), TRAMPFD_DATA_OFFSET);
		note("data fd %ld reg %ld -> %ld", fd, d.reg, r);
		break;
	}
	case 4: {
		size_t len = rnd(seed) % 65;
		off_t off = rnd(seed) % 3 ? (rnd(seed) % 2) * 0x40 : rnd(seed) % 256;

		for (size_t k = 0; k < len; k++)
			buf[k] = rnd(seed);
		r = pwrite(fd, rnd(seed) % 8 ? buf : rnd_ptr(seed, buf), len, off);
		note("pwrite len %ld off %ld -> %ld", (long)len, (long)off, r);
		break;
	}
	case 5: {
		unsigned long cmds[] = {
			TRAMPFD_IOC_GET_INFO, TRAMPFD_IOC_CREATE, ZPOLINE_IOC_INSTALL,
			_IO(TRAMPFD_IOC_MAGIC, rnd(seed) % 256), rnd(seed),
		};
		struct zpoline_cfg z = {
			.hook = rnd(seed) % 2 ? (uintptr_t)zp_hook : rnd(seed),
			.flags = rnd(seed) % 4 == 0,
		};
		unsigned long c = cmds[rnd(seed) % 5];

		r = ioctl(fd, c, rnd_ptr(seed, c == ZPOLINE_IOC_INSTALL ? (void *)&z : buf));
		note("ioctl %lx -> %ld%.0ld", (long)c, r, 0);
		break;
	}
	case 6: {
		size_t len = (rnd(seed) % 3) * PAGE_SZ + (rnd(seed) % 2 ? 0 : 100);
		int prot = rnd(seed) % 8, flags = rnd(seed) % 2 ? MAP_PRIVATE : MAP_SHARED;
		off_t off = rnd(seed) % 4 ? 0 : (rnd(seed) % 3) * PAGE_SZ;
		void *p = mmap(NULL, len ? len : PAGE_SZ, prot, flags, fd, off);

		note("mmap prot %ld flags %ld -> %ld", prot, flags, p == MAP_FAILED ? -errno : 0);
		if (p != MAP_FAILED) {
			p = __atomic_exchange_n(&st.maps[m], p, __ATOMIC_SEQ_CST);
			if (p)
				munmap(p, PAGE_SZ);
		}
		break;
	}
	case 7: {
		void *p = __atomic_load_n(&st.maps[m], __ATOMIC_SEQ_CST);

		r = p ? mprotect(p, PAGE_SZ, rnd(seed) % 8) : 0;
		note("mprotect %ld -> %ld%.0ld", m, r, 0);
		break;
	}
	case 8: {
		void *p = __atomic_exchange_n(&st.maps[m], NULL, __ATOMIC_SEQ_CST);
		void *q = p ? mremap(p, PAGE_SZ, (rnd(seed) % 2 + 1) * PAGE_SZ,
				     MREMAP_MAYMOVE) : MAP_FAILED;

		note("mremap %ld -> %ld%.0ld", m, q == MAP_FAILED ? -errno : 0, 0);
		if (q != MAP_FAILED)
			munmap(q, 2 * PAGE_SZ);
		else if (p)
			munmap(p, PAGE_SZ);
		break;
	}
	case 9: {
		void *p = __atomic_exchange_n(&st.maps[m], NULL, __ATOMIC_SEQ_CST);

		note("munmap %ld%.0ld%.0ld", m, 0, 0);
		if (p)
			munmap(p, PAGE_SZ);
		break;
	}
	case 10: {
		int old = __atomic_exchange_n(&st.fds[i], -1, __ATOMIC_SEQ_CST);

		note("close %ld%.0ld%.0ld", old, 0, 0);
		if (old >= 0)
			close(old);
		break;
	}
	case 11: {
		/* Configure a slot properly and call it. */
		int nfd = tfd_open();
		long (*f)(void);
		void *p;

		if (nfd < 0)
			break;
		st.code[0] = (uintptr_t)ret_r10;
		st.data[0] = 77;
		p = tfd_map(nfd, 1, st.code, st.data);
		r = p == MAP_FAILED ? -errno : 0;
		if (p != MAP_FAILED) {
			f = (long (*)(void))p;
			r = f();
			munmap(p, PAGE_SZ);
		}
		close(nfd);
		note("call -> %ld%.0ld%.0ld", r, 0, 0);
		if (p != MAP_FAILED && r != 77)
			abort();
		break;
	}
	case 12: {
		pid_t pid = fork();

		if (pid == 0) {
			unsigned int s2 = *seed;

			/* The other thread may have held the log lock. */
			pthread_mutex_init(&st.lock, NULL);
			for (int k = 0; k < 5; k++)
				op(&s2);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		note("fork %ld%.0ld%.0ld", pid, 0, 0);
		break;
	}
	default:
		r = read(fd, buf, sizeof(buf));
		note("read fd %ld -> %ld%.0ld", fd, r, 0);
		tfd_fdinfo(fd, "trampfd-state");
		break;
	}
}

static void *thread_ops(void *arg)
{
	unsigned int seed = *(unsigned int *)arg;

	for (int k = 0; k < OPS_PER_EPISODE / 2; k++)
		op(&seed);
	return NULL;
}

static void dump_log(unsigned int seed, int sig)
{
	const char *dir = getenv("FUZZ_CRASH_DIR") ? : "/tmp/fuzz-crashes";
	char path[256];
	FILE *f;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/seed-%u.log", dir, seed);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "seed %u died with signal %d; last operations:\n", seed, sig);
	for (int k = st.nlog > LOG_OPS ? st.nlog - LOG_OPS : 0; k < st.nlog; k++)
		fprintf(f, "%s\n", st.log[k % LOG_OPS]);
	fclose(f);
	fprintf(stderr, "fuzz: crash kept in %s\n", path);
}

/* An episode runs in a child; its crash signal handler writes the log. */
static unsigned int episode_seed;

static void on_crash(int sig)
{
	dump_log(episode_seed, sig);
	_exit(128 + sig);
}

static int episode(unsigned int seed)
{
	unsigned int s1 = seed, s2 = seed * 2654435761u;
	pthread_t t1, t2;

	episode_seed = seed;
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGILL, on_crash);
	signal(SIGABRT, on_crash);
	signal(SIGTRAP, on_crash);
	for (int k = 0; k < NFD; k++)
		st.fds[k] = -1;
	pthread_mutex_init(&st.lock, NULL);
	pthread_create(&t1, NULL, thread_ops, &s1);
	pthread_create(&t2, NULL, thread_ops, &s2);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	long seconds = argc > 1 ? strtol(argv[1], NULL, 0) : 10;
	unsigned int seed = argc > 2 ? strtoul(argv[2], NULL, 0) : (unsigned int)time(NULL);
	time_t end = time(NULL) + seconds;
	long episodes = 0, crashes = 0, ops = 0;
	int pfd[2];

	if (pipe2(pfd, O_NONBLOCK))
		return 2;
	printf("fuzz: %ld s from seed %u\n", seconds, seed);
	while (time(NULL) < end) {
		unsigned int s = seed + episodes;
		pid_t pid = fork();
		int status;
		long n = 0;

		if (pid == 0) {
			close(pfd[0]);
			episode(s);
			n = st.ops;
			if (write(pfd[1], &n, sizeof(n)) != sizeof(n))
				_exit(3);
			_exit(0);
		}
		waitpid(pid, &status, 0);
		if (read(pfd[0], &n, sizeof(n)) == sizeof(n))
			ops += n;
		episodes++;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			crashes++;
			fprintf(stderr, "fuzz: seed %u: status %#x\n", s, status);
		}
	}
	printf("fuzz: %ld operations in %ld episodes, %ld crashes\n", ops, episodes, crashes);
	{
		long fds = tfd_counter("live_fds");
		long pages = tfd_counter("live_pages");

		printf("fuzz: afterwards %ld live trampfds, %ld live pages\n", fds, pages);
		if (fds != 0 || pages != 0)
			return 1;
	}
	return crashes ? 1 : 0;
}
