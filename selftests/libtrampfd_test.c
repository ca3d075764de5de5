// SPDX-License-Identifier: GPL-2.0
/*
 * libtrampfd tests (tools/lib/trampfd, x86-64, arm64, riscv64): closures
 * reach their target with their data, pages grow and slots are reused,
 * threads and fork, the factory fd without open() (trampfd_use_fd,
 * TRAMPFD_FD across exec under seccomp; a TRAMPFD_FD that names no trampfd
 * falls back to the device, a set-user-ID program ignores it), failures that leave nothing
 * behind (no device, RLIMIT_NOFILE, RLIMIT_MEMLOCK), custom register pairs,
 * and W^X under PR_SET_MDWE.
 *
 * The harness runs every TEST in a fresh child of a process that never
 * touches the library, so each test starts without a factory fd or pages.
 * "libtrampfd_test --env-child MODE" is the exec'd child of the TRAMPFD_FD
 * tests.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "trampfd_util.h"
#include "seccomp_util.h"
#include "ret_r10.h"
#include "libtrampfd_regs.h"
#include "trampfd.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

#define PAGE		4096
#define NSLOT		TFD_NMAX	/* closures per library page */
#define ENV_CHILD	"--env-child"

/* Written by the shims of trampfd_shims.S (see libtrampfd_regs.h). */
__thread long seen_data;
__thread long seen_target;

long target(long a, long b, long c, long d, long e, long f, long g, long h, long i, long j)
{
	return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j;
}

#define CHECKSUM 385	/* target(1, 2, ..., 10) */

typedef long (*fn10)(long, long, long, long, long, long, long, long, long, long);
typedef long (*fn0)(void);

static void (*const shims[4])(void) = { shim0, shim1, shim2, shim3 };

/* Call closure @f with 1..10; true if it ran shim @k with @data. */
static int reached(void *f, long k, long data)
{
	seen_data = -1;
	seen_target = -1;
	if (((fn10)f)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) != CHECKSUM)
		return 0;
	return seen_target == k && seen_data == data;
}

/* What a closure on ret_r10 (or a pair_ret_*) returns: its data. */
static long ret(void *f)
{
	return ((fn0)f)();
}

static void *alloc_ret(long data, struct trampfd_closure **h)
{
	return trampfd_closure_alloc(ret_r10, (void *)data, h);
}

/* Open fds of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* /proc/self/maps, opened before a seccomp filter refused open(). */
static int maps_fd = -1;

static FILE *open_maps(void)
{
	int fd;

	if (maps_fd < 0)
		return fopen("/proc/self/maps", "r");
	fd = dup(maps_fd);
	if (fd < 0)
		return NULL;
	if (lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return NULL;
	}
	return fdopen(fd, "r");
}

/* /proc/self/maps lines that contain @what, or (!@what) are writable+exec. */
static int count_maps(const char *what)
{
	char line[512], perms[8];
	FILE *f = open_maps();
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (what && strstr(line, what))
			n++;
		if (!what && sscanf(line, "%*s %7s", perms) == 1 &&
		    perms[1] == 'w' && perms[2] == 'x')
			n++;
	}
	fclose(f);
	return n;
}

/* The library's pages: one mapping of /dev/trampfd each. */
static int tfd_maps(void)
{
	return count_maps(TRAMPFD_DEV);
}

static int wx_maps(void)
{
	return count_maps(NULL);
}

/* The lowest free fd number: as RLIMIT_NOFILE, it makes every open fail. */
static int lowest_free_fd(void)
{
	int fd = dup(STDERR_FILENO);

	if (fd >= 0)
		close(fd);
	return fd;
}

static int set_nofile(rlim_t cur)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	rl.rlim_cur = cur;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static long vmlck_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Wait up to @secs for @pid; its wait status, or -1 (killed) on timeout. */
static int wait_for(pid_t pid, int secs)
{
	int st, i;

	for (i = 0; i < secs * 100; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Become uid/gid 1000 without capabilities; /proc/self stays readable. */
static int drop_to_user(void)
{
	if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) ||
	    setresuid(1000, 1000, 1000) || geteuid() != 1000)
		return -1;
	return prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/*
 * Allocate @n closures on ret_r10 with data @base + i into @h/@f and check
 * that each returns its data; the index of the first failure, or @n.
 */
static int alloc_n(int n, long base, struct trampfd_closure **h, void **f)
{
	int i;

	for (i = 0; i < n; i++) {
		f[i] = alloc_ret(base + i, &h[i]);
		if (!f[i] || ret(f[i]) != base + i)
			return i;
	}
	return n;
}

/* How many distinct pages the closures @f[0..n) are on. */
static int distinct_pages(int n, void **f)
{
	int i, j, pages = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if ((uintptr_t)f[j] / PAGE == (uintptr_t)f[i] / PAGE)
				break;
		pages += j == i;
	}
	return pages;
}

/* Every closure of @f[0..n) still returns @base + i. */
static int all_return(int n, long base, void **f)
{
	int i;

	for (i = 0; i < n; i++)
		if (ret(f[i]) != base + i)
			return 0;
	return 1;
}

/* ---- basics ---- */

TEST(alloc_call_free_reaches_the_target_with_data_and_arguments)
{
	const long data = ~0x0badf00ddeadbeefL;	/* all 64 bits */
	struct trampfd_closure *h = NULL;
	void *f = trampfd_closure_alloc(shim1, (void *)data, &h);

	ASSERT_NE(NULL, f) TH_LOG("trampfd_closure_alloc: %s", strerror(errno));
	ASSERT_NE(NULL, h);
	EXPECT_EQ(f, trampfd_closure_addr(h));
	EXPECT_EQ(0, (uintptr_t)f % TFD_SLOT);
	EXPECT_TRUE(reached(f, 1, data));
	/* Twice: nothing about the call depends on state left by the first. */
	EXPECT_TRUE(reached(f, 1, data));
	trampfd_closure_free(h);
	EXPECT_EQ(NULL, trampfd_closure_lookup(f));
}

/* Resident kB of the trampfd mapping that contains @addr, or -1. */
static long trampfd_rss_kb(const void *addr)
{
	char line[512];
	int in = 0;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '/')) {
			in = strstr(line, "/dev/trampfd") && (uintptr_t)addr >= lo &&
			     (uintptr_t)addr < hi;
			continue;
		}
		if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

/*
 * Offset in a slot of its &code_table[X] literal (the kernel's encoding;
 * x86-64: the endbr64 layout, which libtrampfd's adjacent tables get).
 */
#if defined(__x86_64__)
#define CODE_LITERAL 6
#elif defined(__aarch64__)
#define CODE_LITERAL 24
#else
#define CODE_LITERAL 32
#endif

/* The /proc/self/maps line of the mapping that holds @addr, in @line. */
static int mapping_of(uintptr_t addr, char *line, size_t len)
{
	uintptr_t lo, hi;
	FILE *f = open_maps();
	int found = 0;

	while (f && !found && fgets(line, len, f))
		found = sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi;
	if (f)
		fclose(f);
	return found;
}

TEST(code_table_is_on_pages_of_its_own_not_the_malloc_heap)
{
	struct trampfd_closure *h;
	char table_map[512], heap_map[512];
	uint64_t table;
	void *small = malloc(64);
	void *f = alloc_ret(3, &h);

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, small);
	/* The slot's literal is the address of its code table entry. */
	memcpy(&table, (char *)f + CODE_LITERAL, sizeof(table));
	ASSERT_TRUE(mapping_of((uintptr_t)table, table_map, sizeof(table_map)));
	ASSERT_TRUE(mapping_of((uintptr_t)small, heap_map, sizeof(heap_map)));
	TH_LOG("code table %#lx in %s", (unsigned long)table, table_map);
	EXPECT_EQ(NULL, strstr(table_map, "[heap]"));
	/* Not in the mapping malloc serves small blocks from either. */
	EXPECT_NE(0, strcmp(table_map, heap_map));
	free(small);
	trampfd_closure_free(h);
}

/*
 * A page's metadata block is its header, its code table, its data table,
 * then its handles, each handle set up when first handed out: a pool's
 * first closure touches its two table entries and one handle, all in the
 * block's first 4 KiB (one page fault of metadata, not two).  Slots are
 * handed out in order, and one never handed out is not found.
 */
TEST(a_pools_first_closure_has_its_entries_and_handle_in_4k_slots_in_order)
{
	struct trampfd_pool *p = trampfd_pool_new(TFD_CODE_REG, TFD_DATA_REG);
	struct trampfd_closure *h[3];
	uint64_t table;
	char *f[3], *third;
	int i;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 2; i++) {
		f[i] = trampfd_pool_alloc(p, ret_r10, (void *)(long)(10 + i), &h[i]);
		ASSERT_NE(NULL, f[i]);
	}
	memcpy(&table, f[0] + CODE_LITERAL, sizeof(table));
	/* The handle after both tables (the data table follows the code table). */
	EXPECT_LT(table, (uintptr_t)h[0]);
	EXPECT_LT((uintptr_t)h[0] - table, 4096);
	/* Slot 1 after slot 0; slot 2 not handed out yet: not a closure. */
	ASSERT_LT(f[0], f[1]);
	third = f[1] + (f[1] - f[0]);
	errno = 0;
	EXPECT_EQ(NULL, trampfd_closure_lookup(third));
	EXPECT_EQ(ENOENT, errno);
	f[2] = trampfd_pool_alloc(p, ret_r10, (void *)12L, &h[2]);
	ASSERT_EQ(third, f[2]);
	EXPECT_EQ(h[2], trampfd_closure_lookup(third));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(10 + i, ret(f[i]));
		trampfd_closure_free(h[i]);
	}
	EXPECT_EQ(0, trampfd_pool_destroy(p));
}

#if defined(__x86_64__)
/* Every slot starts with endbr64: indirect calls into it survive user IBT. */
TEST(x86_64_every_slot_starts_with_endbr64)
{
	struct trampfd_closure *h[200];
	void *f;
	int i;

	for (i = 0; i < 200; i++) {
		f = alloc_ret(i, &h[i]);
		ASSERT_NE(NULL, f);
		ASSERT_EQ(0, memcmp(f, "\xf3\x0f\x1e\xfa", 4)) TH_LOG("closure %d", i);
	}
	for (i = 0; i < 200; i++)
		trampfd_closure_free(h[i]);
}
#endif

TEST(the_page_is_filled_at_allocation_not_at_the_first_call)
{
	struct trampfd_closure *h;
	void *f = alloc_ret(42, &h);

	ASSERT_NE(NULL, f);
	/*
	 * MADV_POPULATE_READ ran the fault handler: a failure to fill the page
	 * is an errno of the allocation, not a SIGBUS at the first call.
	 */
	EXPECT_EQ(4, trampfd_rss_kb(f));
	EXPECT_EQ(42, ret(f));
	trampfd_closure_free(h);
}

TEST(available_opens_the_factory_once_and_maps_nothing)
{
	int fds = count_fds();

	ASSERT_EQ(1, trampfd_available());
	EXPECT_EQ(fds + 1, count_fds());
	ASSERT_EQ(1, trampfd_available());
	EXPECT_EQ(fds + 1, count_fds());
	EXPECT_EQ(0, tfd_maps());
}

TEST(thousand_closures_grow_past_one_page_each_with_its_own_data)
{
	enum { N = 1000 };
	static struct trampfd_closure *h[N];
	static void *f[N], *sorted[N];
	int i, j, dup = 0;

	ASSERT_EQ(N, alloc_n(N, 0x10000, h, f)) TH_LOG("%s", strerror(errno));
	/* Each keeps its own data once all exist. */
	EXPECT_TRUE(all_return(N, 0x10000, f));
	EXPECT_EQ((N + NSLOT - 1) / NSLOT, tfd_maps());
	/* Distinct addresses (insertion sort, then neighbours). */
	for (i = 0; i < N; i++) {
		for (j = i; j > 0 && (uintptr_t)sorted[j - 1] > (uintptr_t)f[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = f[i];
	}
	for (i = 1; i < N; i++)
		dup += sorted[i] == sorted[i - 1];
	EXPECT_EQ(0, dup);
	for (i = 0; i < N; i++)
		trampfd_closure_free(h[i]);
	/* Pages stay mapped for reuse. */
	EXPECT_EQ((N + NSLOT - 1) / NSLOT, tfd_maps());
}

TEST(a_freed_slot_is_the_next_one_allocated)
{
	struct trampfd_closure *h[3], *h2;
	void *f[3], *f2;

	ASSERT_EQ(3, alloc_n(3, 100, h, f));
	trampfd_closure_free(h[1]);
	f2 = alloc_ret(555, &h2);
	ASSERT_NE(NULL, f2);
	EXPECT_EQ(f[1], f2);
	EXPECT_EQ(555, ret(f2));
	/* The neighbours are untouched and no page was added. */
	EXPECT_EQ(100, ret(f[0]));
	EXPECT_EQ(102, ret(f[2]));
	EXPECT_EQ(1, tfd_maps());
}

TEST(closure_set_retargets_code_and_data)
{
	struct trampfd_closure *h;
	void *f = trampfd_closure_alloc(shim0, (void *)11, &h);

	ASSERT_NE(NULL, f);
	ASSERT_TRUE(reached(f, 0, 11));
	ASSERT_EQ(0, trampfd_closure_set(h, shim3, (void *)-22));
	EXPECT_TRUE(reached(f, 3, -22));
	EXPECT_EQ(f, trampfd_closure_addr(h));
	ASSERT_EQ(0, trampfd_closure_set(h, ret_r10, (void *)33));
	EXPECT_EQ(33, ret(f));
}

TEST(closure_set_of_a_freed_closure_is_einval_and_changes_nothing)
{
	struct trampfd_closure *h, *h2;
	void *f = alloc_ret(1, &h), *f2;

	ASSERT_NE(NULL, f);
	trampfd_closure_free(h);
	errno = 0;
	EXPECT_EQ(-1, trampfd_closure_set(h, ret_r10, (void *)2));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(NULL, trampfd_closure_data(h));
	EXPECT_EQ(NULL, trampfd_closure_lookup(f));
	/* Reallocated, the slot carries the new owner's data only. */
	f2 = alloc_ret(3, &h2);
	ASSERT_EQ(f, f2);
	EXPECT_EQ(3, ret(f2));
}

TEST(closure_data_returns_the_current_data)
{
	struct trampfd_closure *h;
	void *f = alloc_ret(0x1234, &h);

	ASSERT_NE(NULL, f);
	EXPECT_EQ((void *)0x1234, trampfd_closure_data(h));
	ASSERT_EQ(0, trampfd_closure_set(h, ret_r10, (void *)-5));
	EXPECT_EQ((void *)-5, trampfd_closure_data(h));
	EXPECT_EQ(-5, ret(f));
	EXPECT_EQ(NULL, trampfd_closure_data(NULL));
}

TEST(lookup_finds_live_closures_and_enoent_for_other_addresses)
{
	enum { N = NSLOT + 3 };	/* two pages */
	static struct trampfd_closure *h[N];
	static void *f[N];
	int i, local;

	ASSERT_EQ(N, alloc_n(N, 0, h, f));
	for (i = 0; i < N; i++)
		ASSERT_EQ(h[i], trampfd_closure_lookup(f[i])) TH_LOG("closure %d", i);
	errno = 0;
	EXPECT_EQ(NULL, trampfd_closure_lookup((char *)f[5] + 1));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(NULL, trampfd_closure_lookup(&local));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(NULL, trampfd_closure_lookup(NULL));
	EXPECT_EQ(ENOENT, errno);
	/* A slot of a mapped page that was never handed out. */
	errno = 0;
	EXPECT_EQ(NULL, trampfd_closure_lookup((char *)f[N - 1] + TFD_SLOT));
	EXPECT_EQ(ENOENT, errno);
}

TEST(lookup_of_a_freed_closure_is_enoent)
{
	struct trampfd_closure *h[2];
	void *f[2];

	ASSERT_EQ(2, alloc_n(2, 0, h, f));
	trampfd_closure_free(h[0]);
	errno = 0;
	EXPECT_EQ(NULL, trampfd_closure_lookup(f[0]));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(h[1], trampfd_closure_lookup(f[1]));
}

static void segv_at(int sig, siginfo_t *si, void *uc)
{
	_exit(sig == SIGSEGV && !si->si_addr ? 77 : 78);
}

/*
 * Call @f in a child: 77 if it got SIGSEGV at address 0, 78 for a fault
 * elsewhere, 0 if the call returned; -1 on a hang.
 */
static int call_in_child(void *f)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct sigaction sa = { .sa_sigaction = segv_at, .sa_flags = SA_SIGINFO };

		sigaction(SIGSEGV, &sa, NULL);
		((fn10)f)(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
		_exit(0);
	}
	st = wait_for(pid, 30);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(calling_a_freed_closure_faults_at_address_0)
{
	struct trampfd_closure *h[2];
	void *f[2];

	ASSERT_EQ(2, alloc_n(2, 40, h, f));
	trampfd_closure_free(h[0]);
	EXPECT_EQ(77, call_in_child(f[0]));
	/* Only the caller died: the neighbour and this process are fine. */
	EXPECT_EQ(41, ret(f[1]));
}

TEST(null_code_faults_until_closure_set_gives_a_target)
{
	struct trampfd_closure *h;
	void *f = trampfd_closure_alloc(NULL, (void *)9, &h);

	ASSERT_NE(NULL, f);
	EXPECT_EQ(77, call_in_child(f));
	ASSERT_EQ(0, trampfd_closure_set(h, shim2, (void *)10));
	EXPECT_EQ(0, call_in_child(f));
	EXPECT_TRUE(reached(f, 2, 10));
}

TEST(null_arguments_are_einval)
{
	struct trampfd_closure *h;

	errno = 0;
	EXPECT_EQ(NULL, trampfd_closure_alloc(ret_r10, NULL, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(NULL, trampfd_pool_alloc(NULL, ret_r10, NULL, &h));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, trampfd_closure_set(NULL, ret_r10, NULL));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, trampfd_pool_destroy(NULL));
	EXPECT_EQ(EINVAL, errno);
	trampfd_closure_free(NULL);
	EXPECT_EQ(0, tfd_maps());
}

/* ---- threads ---- */

#define CHURN_THREADS	8
#define CHURN_ITERS	3000
#define CHURN_WINDOW	24	/* live closures per thread */

struct churn {
	pthread_t t;
	long id;
	long errors;
	long done;
};

/*
 * Alloc, call, check, free, keeping CHURN_WINDOW closures live: the oldest
 * live one must still carry this thread's data when it is freed, so a slot
 * handed to two threads at once shows up as an error.
 */
static void *churn_thread(void *arg)
{
	struct trampfd_closure *h[CHURN_WINDOW] = { NULL };
	void *f[CHURN_WINDOW];
	struct churn *c = arg;
	long tag[CHURN_WINDOW];
	int i, w, k;

	for (i = 0; i < CHURN_ITERS; i++) {
		w = i % CHURN_WINDOW;
		k = (c->id + i) % 4;
		if (h[w]) {
			if (!reached(f[w], tag[w] & 3, tag[w]))
				c->errors++;
			trampfd_closure_free(h[w]);
		}
		tag[w] = (c->id << 40) | ((long)i << 2) | k;
		f[w] = trampfd_closure_alloc(shims[k], (void *)tag[w], &h[w]);
		if (!f[w]) {
			c->errors++;
			h[w] = NULL;
			continue;
		}
		if (!reached(f[w], k, tag[w]) || trampfd_closure_lookup(f[w]) != h[w] ||
		    trampfd_closure_data(h[w]) != (void *)tag[w])
			c->errors++;
		c->done++;
	}
	for (w = 0; w < CHURN_WINDOW; w++)
		trampfd_closure_free(h[w]);
	return NULL;
}

TEST(threads_alloc_call_free_concurrently)
{
	struct churn c[CHURN_THREADS];
	int i;

	for (i = 0; i < CHURN_THREADS; i++) {
		c[i] = (struct churn){ .id = i };
		ASSERT_EQ(0, pthread_create(&c[i].t, NULL, churn_thread, &c[i]));
	}
	for (i = 0; i < CHURN_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(c[i].t, NULL));
		EXPECT_EQ(0, c[i].errors) TH_LOG("thread %d", i);
		EXPECT_EQ(CHURN_ITERS, c[i].done) TH_LOG("thread %d", i);
	}
	/* Freed slots were reused: no more pages than live closures need. */
	EXPECT_LE(1, tfd_maps());
	EXPECT_GE((CHURN_THREADS * CHURN_WINDOW + NSLOT - 1) / NSLOT, tfd_maps());
}

#define RACE_FIXED	64
#define RACE_CALLERS	4
#define RACE_ALLOCATORS	4
#define RACE_ROUNDS	6

struct race {
	void *fixed[RACE_FIXED];
	int stop;
	long errors;
	long calls;
	long allocators;
};

/* Call the fixed closures until told to stop; they must keep their data. */
static void *race_caller(void *arg)
{
	struct race *r = arg;
	long errors = 0, calls = 0;
	int i;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < RACE_FIXED; i++)
			errors += ret(r->fixed[i]) != 0x7000 + i;
		calls += RACE_FIXED;
	}
	__atomic_add_fetch(&r->errors, errors, __ATOMIC_RELAXED);
	__atomic_add_fetch(&r->calls, calls, __ATOMIC_RELAXED);
	return NULL;
}

/* Add pages (2 pages' worth of closures), retarget, free, again. */
static void *race_allocator(void *arg)
{
	struct trampfd_closure *h[2 * NSLOT];
	struct race *r = arg;
	void *f[2 * NSLOT];
	long base = 0x100000 * __atomic_add_fetch(&r->allocators, 1, __ATOMIC_RELAXED);
	int round, i, n;

	for (round = 0; round < RACE_ROUNDS; round++) {
		n = alloc_n(2 * NSLOT, base, h, f);
		if (n != 2 * NSLOT)
			__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
		for (i = 0; i < n; i++)
			if (trampfd_closure_set(h[i], ret_r10, (void *)(base - i)) ||
			    ret(f[i]) != base - i)
				__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
		for (i = 0; i < n; i++)
			trampfd_closure_free(h[i]);
	}
	return NULL;
}

TEST(calls_race_with_other_threads_allocations)
{
	static struct trampfd_closure *h[RACE_FIXED];
	pthread_t c[RACE_CALLERS], a[RACE_ALLOCATORS];
	static struct race r;
	int i;

	ASSERT_EQ(RACE_FIXED, alloc_n(RACE_FIXED, 0x7000, h, r.fixed));
	for (i = 0; i < RACE_CALLERS; i++)
		ASSERT_EQ(0, pthread_create(&c[i], NULL, race_caller, &r));
	for (i = 0; i < RACE_ALLOCATORS; i++)
		ASSERT_EQ(0, pthread_create(&a[i], NULL, race_allocator, &r));
	for (i = 0; i < RACE_ALLOCATORS; i++)
		ASSERT_EQ(0, pthread_join(a[i], NULL));
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < RACE_CALLERS; i++)
		ASSERT_EQ(0, pthread_join(c[i], NULL));
	EXPECT_EQ(0, r.errors);
	EXPECT_LT(0, r.calls);
	/* The allocators needed pages of their own while the callers ran. */
	EXPECT_LE(1 + (2 * NSLOT + NSLOT - 1) / NSLOT, tfd_maps());
}

/* ---- fork ---- */

TEST(fork_child_uses_old_closures_and_new_pages_parent_unaffected)
{
	static struct trampfd_closure *h[NSLOT];
	static void *f[NSLOT];
	struct trampfd_closure *hn;
	pid_t pid;
	void *fn;
	int st;

	/* Exactly one full page: the next allocation needs a new one. */
	ASSERT_EQ(NSLOT, alloc_n(NSLOT, 0x500, h, f));
	ASSERT_EQ(1, tfd_maps());
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (!all_return(NSLOT, 0x500, f))
			_exit(1);
		fn = alloc_ret(0xc41d, &hn);
		if (!fn || ret(fn) != 0xc41d)
			_exit(2);
		if (tfd_maps() != 2)
			_exit(3);
		/* The child's tables are its own: retarget a parent closure. */
		if (trampfd_closure_set(h[0], ret_r10, (void *)0xbad) || ret(f[0]) != 0xbad)
			_exit(4);
		trampfd_closure_free(h[1]);
		_exit(0);
	}
	st = wait_for(pid, 60);
	ASSERT_NE(-1, st);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	/* The child's set and free did not reach the parent. */
	EXPECT_TRUE(all_return(NSLOT, 0x500, f));
	EXPECT_EQ(h[1], trampfd_closure_lookup(f[1]));
	EXPECT_EQ(1, tfd_maps());
	fn = alloc_ret(0x9a7e, &hn);
	ASSERT_NE(NULL, fn);
	EXPECT_EQ(0x9a7e, ret(fn));
	EXPECT_EQ(2, tfd_maps());
}

#define FORKS 40

struct forker {
	int stop;
	long ops;
};

static int stopping(struct forker *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

/* Default pool: alloc, call, free (its lock, and g_lock on page creation). */
static void *lock_alloc(void *arg)
{
	struct trampfd_closure *h[NSLOT + 1];
	void *f[NSLOT + 1];
	struct forker *s = arg;
	int n;

	while (!stopping(s)) {
		n = alloc_n(NSLOT + 1, 0, h, f);
		while (n-- > 0)
			trampfd_closure_free(h[n]);
		__atomic_add_fetch(&s->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* lookup: g_lock and then every pool's lock. */
static void *lock_lookup(void *arg)
{
	struct forker *s = arg;
	int local;

	while (!stopping(s)) {
		trampfd_closure_lookup(&local);
		__atomic_add_fetch(&s->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* pool_new / alloc / destroy: the pool list under g_lock. */
static void *lock_pools(void *arg)
{
	struct forker *s = arg;
	struct trampfd_closure *h;
	struct trampfd_pool *p;

	while (!stopping(s)) {
		p = trampfd_pool_new(TFD_CODE_REG, TFD_DATA_REG);
		if (p && trampfd_pool_alloc(p, ret_r10, NULL, &h))
			trampfd_closure_free(h);
		if (p)
			trampfd_pool_destroy(p);
		__atomic_add_fetch(&s->ops, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* What each forked child does: every entry point once. */
static int forked_child_works(void)
{
	struct trampfd_closure *h;
	struct trampfd_pool *p;
	void *f = trampfd_closure_alloc(shim2, (void *)0xf0, &h);

	if (!f || !reached(f, 2, 0xf0) || trampfd_closure_lookup(f) != h)
		return 1;
	trampfd_closure_free(h);
	p = trampfd_pool_new(TFD_CODE_REG, TFD_DATA_REG);
	if (!p)
		return 2;
	f = trampfd_pool_alloc(p, ret_r10, (void *)0xf1, &h);
	if (!f || ret(f) != 0xf1)
		return 3;
	trampfd_closure_free(h);
	return trampfd_pool_destroy(p) ? 4 : 0;
}

TEST(fork_while_other_threads_take_the_locks_does_not_deadlock)
{
	void *(*fns[3])(void *) = { lock_alloc, lock_lookup, lock_pools };
	static struct forker s;
	pthread_t t[3];
	int i, st, ok = 0;
	pid_t pid;

	ASSERT_EQ(1, trampfd_available());
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, fns[i], &s));
	for (i = 0; i < FORKS; i++) {
		pid = fork();
		if (pid == 0)
			_exit(forked_child_works());
		if (pid < 0)
			break;
		st = wait_for(pid, 20);
		if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else
			TH_LOG("fork %d: status %#x", i, st);
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	EXPECT_EQ(FORKS, ok);
	EXPECT_LT(0, s.ops);
}

/* ---- the factory fd without open() ---- */

TEST(use_fd_allocates_many_pages_where_open_is_refused)
{
	enum { N = 4 * NSLOT };
	static struct trampfd_closure *h[N];
	static void *f[N];
	int fd = tfd_open();

	ASSERT_LE(0, fd);
	maps_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, maps_fd);
	ASSERT_EQ(0, tfd_deny_open());
	ASSERT_EQ(-1, tfd_open());
	ASSERT_EQ(EPERM, errno);
	/* Without the fd the library fails with open()'s errno ... */
	errno = 0;
	EXPECT_EQ(NULL, alloc_ret(1, &h[0]));
	EXPECT_EQ(EPERM, errno);
	/* ... and with it, it makes every page from the fd. */
	ASSERT_EQ(0, trampfd_use_fd(fd));
	ASSERT_EQ(N, alloc_n(N, 0x3000, h, f)) TH_LOG("%s", strerror(errno));
	EXPECT_TRUE(all_return(N, 0x3000, f));
	EXPECT_EQ(4, distinct_pages(N, f));
	EXPECT_EQ(4, tfd_maps());
}

TEST(use_fd_when_a_factory_exists_is_ebusy)
{
	int fd = tfd_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, trampfd_available());
	errno = 0;
	EXPECT_EQ(-1, trampfd_use_fd(fd));
	EXPECT_EQ(EBUSY, errno);
}

TEST(use_fd_of_something_else_is_ebadf_and_keeps_nothing)
{
	struct trampfd_closure *h;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), pfd[2], fds;
	void *f;

	ASSERT_LE(0, null);
	ASSERT_EQ(0, pipe(pfd));
	errno = 0;
	EXPECT_EQ(-1, trampfd_use_fd(-1));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, trampfd_use_fd(null));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, trampfd_use_fd(pfd[0]));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, trampfd_use_fd(lowest_free_fd()));
	EXPECT_EQ(EBADF, errno);
	/* Nothing was kept: the library still opens the device itself. */
	fds = count_fds();
	f = alloc_ret(7, &h);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(7, ret(f));
	EXPECT_EQ(fds + 1, count_fds());
}

/* Run this binary again as "--env-child @mode" with TRAMPFD_FD=@val. */
static int run_env_child(const char *val, const char *mode)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char *const argv[] = { "libtrampfd_test", ENV_CHILD, (char *)mode, NULL };

		if (val)
			setenv("TRAMPFD_FD", val, 1);
		execv("/proc/self/exe", argv);
		_exit(99);
	}
	st = wait_for(pid, 60);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * The exec'd child.  "sandboxed-alloc": open() is refused, yet 3 pages of
 * closures come from TRAMPFD_FD.  "fallback": TRAMPFD_FD names no trampfd,
 * so the library opens the device instead (one more fd, the factory) and
 * closures work.  "secure": a set-user-ID run (AT_SECURE) whose TRAMPFD_FD
 * names a good trampfd: it is ignored (secure_getenv), the device opened.
 * Returns the exit status.
 */
static int env_child(const char *mode)
{
	enum { N = 3 * NSLOT };
	static struct trampfd_closure *h[N];
	static void *f[N];
	int fds;

	if (!strcmp(mode, "sandboxed-alloc")) {
		if (tfd_open() != -1 || errno != EPERM)
			return 2;
		if (alloc_n(N, 0x4000, h, f) != N)
			return 3;
		if (!all_return(N, 0x4000, f))
			return 4;
		/* (/proc/self/maps cannot be opened here.) */
		return distinct_pages(N, f) == 3 ? 0 : 5;
	}
	if (!strcmp(mode, "fallback") || !strcmp(mode, "secure")) {
		void *fn;

		if (!strcmp(mode, "secure") && getauxval(AT_SECURE) != 1)
			return 20;
		fds = count_fds();
		fn = alloc_ret(1, &h[0]);
		if (!fn || ret(fn) != 1)
			return 10;
		if (!trampfd_available())
			return 11;
		if (count_fds() != fds + 1)
			return 12;
		return 0;
	}
	return 98;
}

TEST(env_fd_inherited_across_exec_under_seccomp_allocates)
{
	int fd = open(TRAMPFD_DEV, O_RDWR);	/* no O_CLOEXEC: inherited */
	char val[16];

	ASSERT_LE(0, fd);
	snprintf(val, sizeof(val), "%d", fd);
	ASSERT_EQ(0, tfd_deny_open());
	/* The filter survives exec: the child cannot open the device. */
	EXPECT_EQ(0, run_env_child(val, "sandboxed-alloc"));
}

TEST(env_fd_junk_falls_back_to_the_device)
{
	EXPECT_EQ(0, run_env_child("junk", "fallback"));
	EXPECT_EQ(0, run_env_child("3x", "fallback"));
	EXPECT_EQ(0, run_env_child("-1", "fallback"));
	EXPECT_EQ(0, run_env_child("99999999999", "fallback"));
}

TEST(env_fd_that_is_not_a_trampfd_falls_back_to_the_device)
{
	int null = open("/dev/null", O_RDONLY);

	ASSERT_LE(0, null);
	ASSERT_EQ(0, dup2(null, 0));
	/*
	 * fd 0 is /dev/null; fd 1000 is not open at all (an environment
	 * inherited without its fd).
	 */
	EXPECT_EQ(0, run_env_child("0", "fallback"));
	EXPECT_EQ(0, run_env_child("1000", "fallback"));
}

TEST(env_fd_is_ignored_by_a_set_user_id_program)
{
	static const char copy[] = "/tmp/libtrampfd_test-setuid";
	int fd = open(TRAMPFD_DEV, O_RDWR);	/* no O_CLOEXEC: inherited */
	struct statvfs vfs;
	int in, out, st;
	char val[16], buf[65536];
	ssize_t n;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to make a set-user-ID copy");
	ASSERT_LE(0, fd);
	snprintf(val, sizeof(val), "%d", fd);
	/* A set-user-ID root copy of this binary, run by uid 1000. */
	in = open("/proc/self/exe", O_RDONLY);
	ASSERT_LE(0, in);
	unlink(copy);
	out = open(copy, O_WRONLY | O_CREAT | O_EXCL, 0755);
	ASSERT_LE(0, out);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ASSERT_EQ(n, write(out, buf, n));
	close(in);
	close(out);
	ASSERT_EQ(0, chmod(copy, 04755));
	ASSERT_EQ(0, statvfs(copy, &vfs));
	if (vfs.f_flag & ST_NOSUID) {
		unlink(copy);
		SKIP(return, "/tmp is mounted nosuid: no set-user-ID run possible");
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *const argv[] = { "libtrampfd_test", ENV_CHILD, "secure", NULL };

		setenv("TRAMPFD_FD", val, 1);
		if (setgroups(0, NULL) || setgid(1000) || setuid(1000))
			_exit(97);
		execv(copy, argv);
		_exit(99);
	}
	st = wait_for(pid, 60);
	unlink(copy);
	ASSERT_TRUE(st != -1 && WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
}

/* ---- failures leave nothing behind ---- */

TEST(no_device_is_enoent_and_leaves_nothing)
{
	struct trampfd_closure *h;
	int fds;
	void *f;

	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	ASSERT_EQ(0, mount("tmpfs", "/dev", "tmpfs", 0, NULL));
	fds = count_fds();
	errno = 0;
	EXPECT_EQ(NULL, alloc_ret(1, &h));
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(0, trampfd_available());
	EXPECT_EQ(ENOENT, errno);
	errno = 0;
	EXPECT_EQ(NULL, trampfd_pool_new(TFD_CODE_REG, TFD_DATA_REG));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(0, tfd_maps());
	/* The device back: the failure was not remembered. */
	ASSERT_EQ(0, umount("/dev"));
	f = alloc_ret(2, &h);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(2, ret(f));
}

TEST(nofile_limit_at_the_first_open_is_emfile_and_leaves_nothing)
{
	struct trampfd_closure *h;
	struct rlimit saved;
	int fds, err;
	void *f;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
	fds = count_fds();
	ASSERT_EQ(0, set_nofile(lowest_free_fd()));
	f = alloc_ret(1, &h);
	err = errno;
	ASSERT_EQ(0, set_nofile(saved.rlim_cur));
	EXPECT_EQ(NULL, f);
	EXPECT_EQ(EMFILE, err);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(0, tfd_maps());
	/* With room for the factory fd it works, and keeps exactly that fd. */
	f = alloc_ret(2, &h);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(2, ret(f));
	EXPECT_EQ(fds + 1, count_fds());
	EXPECT_EQ(1, tfd_maps());
}

TEST(nofile_limit_at_page_creation_is_emfile_and_leaves_nothing)
{
	static struct trampfd_closure *h[NSLOT];
	static void *f[NSLOT];
	struct trampfd_closure *hn;
	struct rlimit saved;
	int fds, err;
	void *fn;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
	ASSERT_EQ(NSLOT, alloc_n(NSLOT, 0x600, h, f));	/* one full page */
	fds = count_fds();
	ASSERT_EQ(0, set_nofile(lowest_free_fd()));
	fn = alloc_ret(1, &hn);
	err = errno;
	ASSERT_EQ(0, set_nofile(saved.rlim_cur));
	EXPECT_EQ(NULL, fn);
	EXPECT_EQ(EMFILE, err);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(1, tfd_maps());
	EXPECT_TRUE(all_return(NSLOT, 0x600, f));
	/* Raised again: the next page comes, and its fd is not kept. */
	fn = alloc_ret(2, &hn);
	ASSERT_NE(NULL, fn);
	EXPECT_EQ(2, ret(fn));
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(2, tfd_maps());
}

TEST(memlock_limit_too_small_for_a_page_is_enomem_and_leaves_nothing)
{
	static struct trampfd_closure *h[2 * NSLOT];
	static void *f[2 * NSLOT];
	struct trampfd_closure *hn;
	struct rlimit rl;
	long locked;
	int fds, err;
	void *fn;

	/* As root, CAP_IPC_LOCK would bypass the limit. */
	ASSERT_EQ(0, drop_to_user());
	ASSERT_EQ(1, trampfd_available());
	locked = vmlck_kb();
	ASSERT_LE(0, locked);
	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &rl));
	rl.rlim_cur = locked * 1024 + 2 * PAGE;
	ASSERT_LE(rl.rlim_cur + PAGE, rl.rlim_max);
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	ASSERT_EQ(2 * NSLOT, alloc_n(2 * NSLOT, 0x800, h, f));
	EXPECT_EQ(locked + 2 * PAGE / 1024, vmlck_kb());
	fds = count_fds();
	fn = alloc_ret(1, &hn);
	err = errno;
	EXPECT_EQ(NULL, fn);
	EXPECT_EQ(ENOMEM, err);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(2, tfd_maps());
	EXPECT_EQ(locked + 2 * PAGE / 1024, vmlck_kb());
	EXPECT_TRUE(all_return(2 * NSLOT, 0x800, f));
	/* One more page allowed: it comes. */
	rl.rlim_cur += PAGE;
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));
	fn = alloc_ret(2, &hn);
	ASSERT_NE(NULL, fn) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(2, ret(fn));
	EXPECT_EQ(3, tfd_maps());
	EXPECT_EQ(fds, count_fds());
}

/* ---- pools ---- */

TEST(pool_new_with_invalid_registers_is_einval)
{
	struct {
		unsigned int code, data;
	} bad[] = {
		{ TFD_CODE_REG, TFD_CODE_REG },
		{ TFD_DATA_REG, TFD_DATA_REG },
		{ 32, TFD_DATA_REG },
		{ TFD_CODE_REG, 32 },
		{ ~0u, TFD_DATA_REG },
		{ TFD_CODE_REG, 1u << 31 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(NULL, trampfd_pool_new(bad[i].code, bad[i].data)) TH_LOG("%u", i);
		EXPECT_EQ(EINVAL, errno) TH_LOG("pair %u: %u, %u", i, bad[i].code, bad[i].data);
	}
}

TEST(pool_new_with_refused_registers_is_eopnotsupp)
{
	struct {
		unsigned int code, data;
	} bad[] = {
		{ TFD_REG_SP, TFD_DATA_REG },
		{ TFD_CODE_REG, TFD_REG_SP },
		{ TFD_REG_PC_OR_LINK, TFD_DATA_REG },
		{ TFD_REG_ARG0, TFD_DATA_REG },
		{ TFD_CODE_REG, TFD_REG_ARG0 },
		{ TFD_CODE_REG, TFD_REG_CALLEE_SAVED },
#ifdef TFD_REG_DATA_ONLY
		{ TFD_REG_DATA_ONLY, TFD_DATA_REG },
#endif
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(NULL, trampfd_pool_new(bad[i].code, bad[i].data)) TH_LOG("%u", i);
		EXPECT_EQ(EOPNOTSUPP, errno)
			TH_LOG("pair %u: %u, %u", i, bad[i].code, bad[i].data);
	}
}

/* Non-default pairs and a target that returns the pair's data register. */
static const struct {
	unsigned int code, data;
	long (*fn)(void);
} pairs[] = {
#if defined(__x86_64__)
	{ TRAMPFD_X86_64_RAX, TRAMPFD_X86_64_R10, ret_r10 },
	{ TRAMPFD_X86_64_RAX, TRAMPFD_X86_64_R11, pair_ret_a },
	{ TRAMPFD_X86_64_R10, TRAMPFD_X86_64_RAX, pair_ret_b },
#elif defined(__aarch64__)
	{ TRAMPFD_ARM64_X17, TRAMPFD_ARM64_X(16), pair_ret_a },
	{ TRAMPFD_ARM64_X16, TRAMPFD_ARM64_X9, pair_ret_b },
#elif defined(__riscv)
	{ TRAMPFD_RISCV64_T3, TRAMPFD_RISCV64_T1, pair_ret_a },	/* libffi's */
	{ TRAMPFD_RISCV64_T1, TRAMPFD_RISCV64_T0, pair_ret_b },
#endif
};

TEST(pool_with_a_custom_register_pair_delivers_data_in_that_register)
{
	struct trampfd_closure *hd, *h[ARRAY_SIZE(pairs)][3];
	struct trampfd_pool *p[ARRAY_SIZE(pairs)];
	void *fdflt, *f[ARRAY_SIZE(pairs)][3];
	unsigned int i, j;
	long v;

	fdflt = alloc_ret(0xdef, &hd);
	ASSERT_NE(NULL, fdflt);
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		p[i] = trampfd_pool_new(pairs[i].code, pairs[i].data);
		ASSERT_NE(NULL, p[i]) TH_LOG("pair %u: %s", i, strerror(errno));
		for (j = 0; j < 3; j++) {
			v = 0x1000 * (i + 1) + j;
			f[i][j] = trampfd_pool_alloc(p[i], pairs[i].fn, (void *)v, &h[i][j]);
			ASSERT_NE(NULL, f[i][j]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		for (j = 0; j < 3; j++) {
			EXPECT_EQ(0x1000 * (i + 1) + j, ret(f[i][j])) TH_LOG("pair %u", i);
			EXPECT_EQ(h[i][j], trampfd_closure_lookup(f[i][j]));
		}
	}
	/* One page per pool, and the default pool is unaffected. */
	EXPECT_EQ(1 + ARRAY_SIZE(pairs), tfd_maps());
	EXPECT_EQ(0xdef, ret(fdflt));
}

TEST(pool_destroy_is_ebusy_with_a_live_closure_and_unmaps_after_free)
{
	struct trampfd_closure *h;
	struct trampfd_pool *p;
	void *f;

	p = trampfd_pool_new(TFD_CODE_REG, TFD_DATA_REG);
	ASSERT_NE(NULL, p);
	f = trampfd_pool_alloc(p, ret_r10, (void *)0x77, &h);
	ASSERT_NE(NULL, f);
	EXPECT_EQ(1, tfd_maps());
	errno = 0;
	EXPECT_EQ(-1, trampfd_pool_destroy(p));
	EXPECT_EQ(EBUSY, errno);
	/* Refused: the closure still works. */
	EXPECT_EQ(0x77, ret(f));
	EXPECT_EQ(h, trampfd_closure_lookup(f));
	trampfd_closure_free(h);
	EXPECT_EQ(0, trampfd_pool_destroy(p));
	EXPECT_EQ(0, tfd_maps());
	EXPECT_EQ(NULL, trampfd_closure_lookup(f));
}

/* ---- W^X ---- */

TEST(everything_works_under_mdwe_and_no_mapping_is_ever_wx)
{
	enum { N = 2 * NSLOT + 1 };
	static struct trampfd_closure *h[N];
	static void *f[N];
	struct trampfd_closure *hp;
	struct trampfd_pool *p;
	void *fp;
	pid_t pid;
	int st;

	ASSERT_EQ(0, prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	ASSERT_EQ(0, wx_maps());
	ASSERT_EQ(N, alloc_n(N, 0x900, h, f));
	EXPECT_EQ(0, wx_maps());
	ASSERT_EQ(0, trampfd_closure_set(h[0], shim3, (void *)0x901));
	EXPECT_TRUE(reached(f[0], 3, 0x901));
	trampfd_closure_free(h[1]);
	p = trampfd_pool_new(pairs[0].code, pairs[0].data);
	ASSERT_NE(NULL, p);
	fp = trampfd_pool_alloc(p, pairs[0].fn, (void *)0x902, &hp);
	ASSERT_NE(NULL, fp);
	EXPECT_EQ(0x902, ret(fp));
	EXPECT_EQ(0, wx_maps());
	/* The child inherits MDWE and still gets new pages. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (alloc_n(N, 0xa00, h, f) != N)
			_exit(1);
		_exit(wx_maps() == 0 ? 0 : 2);
	}
	st = wait_for(pid, 60);
	ASSERT_NE(-1, st);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	EXPECT_EQ(0, trampfd_closure_set(hp, NULL, NULL));
	trampfd_closure_free(hp);
	EXPECT_EQ(0, trampfd_pool_destroy(p));
	EXPECT_EQ(0, wx_maps());
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], ENV_CHILD))
		return env_child(argv[2]);
	return test_harness_run(argc, argv);
}
