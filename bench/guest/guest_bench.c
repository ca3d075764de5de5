// SPDX-License-Identifier: GPL-2.0
/*
 * Guest benchmarks of the paths through the module: closure creation
 * (open / info / two pwrites / mmap / first-call fault), the fault alone,
 * and scale (1, 100, 10,000 live trampfds), against libffi's closure
 * allocator and a baseline syscall measured in the same run; then the
 * making of one page phase by phase (each system call alone, and the
 * anonymous-memory operations a library around it needs: the table that
 * says what a process's first closure and a closure at scale cost).  Prints a
 * Markdown table; absolute times under TCG mean little, ratios more.  Under
 * -icount shift=0 (BENCH_ICOUNT=1) the figures are guest instructions.
 *
 *   guest_bench [repeats [max_live]]
 */
#define _GNU_SOURCE
#include <ffi.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include "../../selftests/trampfd_util.h"
#include "../../selftests/ret_r10.h"
#include "bench_util.h"

#define PAGE 4096

struct stat3 {
	double med, lo, hi;
};

static struct stat3 summarize(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return (struct stat3){ v[n / 2], v[0], v[n - 1] };
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			kb = strtol(line + klen + 1, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* ns per getppid(), the baseline. */
static double baseline(void)
{
	double t = now_ns();
	int i;

	for (i = 0; i < 20000; i++)
		syscall(SYS_getppid);
	return (now_ns() - t) / 20000;
}

static __u64 code[128], data[128];

/* One full page of trampfd closures: ns per closure, ns of the fault. */
static double trampfd_page(double *fault_ns)
{
	struct trampfd_info info;
	long (*f)(void);
	double t0, t1, t2;
	void *p;
	int fd, i;

	for (i = 0; i < 128; i++) {
		code[i] = (uintptr_t)ret_r10;
		data[i] = i;
	}
	t0 = now_ns();
	fd = tfd_open();
	if (fd < 0 || ioctl(fd, TRAMPFD_IOC_GET_INFO, &info))
		exit(2);
	p = tfd_map(fd, info.ntrampolines, code, data);
	if (p == MAP_FAILED)
		exit(3);
	f = (long (*)(void))((char *)p + 127 * info.code_size);
	t1 = now_ns();
	if (f() != 127)	/* first call: faults the page in */
		exit(4);
	t2 = now_ns();
	*fault_ns = t2 - t1;
	munmap(p, PAGE);
	close(fd);
	return (t2 - t0) / 128;
}

static void ffi_handler(ffi_cif *cif, void *ret, void **args, void *ud)
{
	*(ffi_arg *)ret = (ffi_arg)(uintptr_t)ud;
}

/* 128 libffi closures: ns per closure. */
static double libffi_page(void)
{
	static ffi_cif cif;
	static void *closures[128];
	void *codeloc;
	double t0, t1;
	int i;

	if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 0, &ffi_type_slong, NULL) != FFI_OK)
		exit(5);
	t0 = now_ns();
	for (i = 0; i < 128; i++) {
		closures[i] = ffi_closure_alloc(sizeof(ffi_closure), &codeloc);
		if (!closures[i] ||
		    ffi_prep_closure_loc(closures[i], &cif, ffi_handler,
					 (void *)(uintptr_t)i, codeloc) != FFI_OK)
			exit(6);
		if (i == 127 && ((long (*)(void))codeloc)() != 127)
			exit(7);
	}
	t1 = now_ns();
	for (i = 0; i < 128; i++)
		ffi_closure_free(closures[i]);
	return (t1 - t0) / 128;
}

static unsigned int page_slots;	/* trampolines of one page (phases) */

enum phase {
	PH_OPEN, PH_INFO, PH_CREATE, PH_PWRITE_CODE, PH_PWRITE_DATA, PH_MMAP, PH_POPULATE,
	PH_CLOSE, PH_ANON_MMAP, PH_ANON_TOUCH, PH_GUARD, PH_N
};

static const char *const phase_name[PH_N] = {
	"open(\"/dev/trampfd\")",
	"ioctl TRAMPFD_IOC_GET_INFO",
	"ioctl TRAMPFD_IOC_CREATE",
	"pwrite of the code descriptor",
	"pwrite of the data descriptor",
	"mmap of the trampfd page (R-X)",
	"madvise MADV_POPULATE_READ (the fault: every slot generated)",
	"close of the trampfd (the mapping stays)",
	"mmap of 4 KiB anonymous read-write memory",
	"first write to it (page fault + 4096 bytes zeroed)",
	"mprotect of one page inside a mapping to PROT_NONE (a guard)",
};

/*
 * One sample of every phase of making a page, each timed alone (minus the
 * cost of an empty interval, @empty): out[phase].
 */
static void phases(double empty, double out[PH_N])
{
	struct trampfd_info info;
	struct trampfd_code c = { 0 };
	struct trampfd_data d = { 0 };
	double t;
	char *anon, *big;
	long r;
	void *p;
	int fd, tfd;

#define PHASE(ph, expr) do { t = now_ns(); expr; out[ph] = now_ns() - t - empty; } while (0)
	PHASE(PH_OPEN, fd = tfd_open());
	if (fd < 0)
		exit(10);
	PHASE(PH_INFO, tfd = ioctl(fd, TRAMPFD_IOC_GET_INFO, &info));
	if (tfd)
		exit(11);
	PHASE(PH_CREATE, tfd = ioctl(fd, TRAMPFD_IOC_CREATE, TRAMPFD_CREATE_CLOEXEC));
	if (tfd < 0)
		exit(12);
	c.ntrampolines = info.ntrampolines;
	c.reg = TFD_CODE_REG;
	c.table = (uintptr_t)code;
	d.reg = TFD_DATA_REG;
	d.table = (uintptr_t)data;
	PHASE(PH_PWRITE_CODE, r = pwrite(tfd, &c, sizeof(c), TRAMPFD_CODE_OFFSET));
	if (r != sizeof(c))
		exit(17);
	PHASE(PH_PWRITE_DATA, r = pwrite(tfd, &d, sizeof(d), TRAMPFD_DATA_OFFSET));
	if (r != sizeof(d))
		exit(18);
	PHASE(PH_MMAP, p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, tfd,
				 (off_t)info.code_offset));
	if (p == MAP_FAILED)
		exit(13);
	page_slots = info.ntrampolines;
	PHASE(PH_POPULATE, r = madvise(p, PAGE, MADV_POPULATE_READ));
	if (r ||
	    ((long (*)(void))((char *)p + 127 * info.code_size))() != 127)
		exit(14);
	PHASE(PH_CLOSE, close(tfd));
	close(fd);
	munmap(p, PAGE);
	PHASE(PH_ANON_MMAP, anon = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (anon == MAP_FAILED)
		exit(15);
	PHASE(PH_ANON_TOUCH, __atomic_store_n(anon, 1, __ATOMIC_RELAXED));
	munmap(anon, PAGE);
	big = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED)
		exit(16);
	PHASE(PH_GUARD, r = mprotect(big + 2 * PAGE, PAGE, PROT_NONE));
	if (r)
		exit(19);
	munmap(big, 4 * PAGE);
#undef PHASE
}

/* @n live, mapped, faulted trampfds: ns per trampfd, kB of memory each. */
static void scale(int n, double *ns, double *kb)
{
	int *fds = calloc(n, sizeof(int));
	void **maps = calloc(n, sizeof(void *));
	long free0 = meminfo_kb("MemFree"), free1;
	double t0 = now_ns();
	int i;

	for (i = 0; i < n; i++) {
		long (*f)(void);

		fds[i] = tfd_open();
		maps[i] = tfd_map(fds[i], 1, code, data);
		if (fds[i] < 0 || maps[i] == MAP_FAILED)
			exit(8);
		f = (long (*)(void))maps[i];
		if (f() != 0)
			exit(9);
	}
	*ns = (now_ns() - t0) / n;
	free1 = meminfo_kb("MemFree");
	*kb = (double)(free0 - free1) / n;
	for (i = 0; i < n; i++) {
		munmap(maps[i], PAGE);
		close(fds[i]);
	}
	free(fds);
	free(maps);
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 15, i, k;
	int max_live = argc > 2 ? atoi(argv[2]) : 10000;
	struct rlimit rl = { 30000, 30000 };
	double base[64], tp[64], fault[64], ff[64], ph[PH_N][64], empty[64];
	struct stat3 b, t, fl, l;
	const int sizes[] = { 1, 100, 10000 };
	const char *unit = bench_unit();

	if (reps > 64)
		reps = 64;
	if (reps < 1)
		reps = 1;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (i = 0; i < reps; i++) {
		base[i] = baseline();
		tp[i] = trampfd_page(&fault[i]);
		ff[i] = libffi_page();
	}
	for (i = 0; i < reps; i++) {
		double t = now_ns();

		empty[i] = now_ns() - t;
	}
	for (i = 0; i < reps; i++) {
		double one[PH_N];

		phases(summarize(empty, reps).med, one);
		for (k = 0; k < PH_N; k++)
			ph[k][i] = one[k];
	}
	b = summarize(base, reps);
	t = summarize(tp, reps);
	fl = summarize(fault, reps);
	l = summarize(ff, reps);
	printf("| measurement | median %s | spread (min..max) | ratio to getppid() |\n", unit);
	printf("| --- | --- | --- | --- |\n");
	printf("| getppid() syscall (baseline) | %.0f | %.0f..%.0f | 1.00 |\n",
	       b.med, b.lo, b.hi);
	printf("| trampfd closure creation, per closure (page of 128: open, info, 2 pwrite, mmap, fault) | %.0f | %.0f..%.0f | %.2f |\n",
	       t.med, t.lo, t.hi, t.med / b.med);
	printf("| libffi closure creation, per closure (ffi_closure_alloc + ffi_prep_closure_loc) | %.0f | %.0f..%.0f | %.2f |\n",
	       l.med, l.lo, l.hi, l.med / b.med);
	printf("| trampfd first call (page fault + generation) | %.0f | %.0f..%.0f | %.2f |\n",
	       fl.med, fl.lo, fl.hi, fl.med / b.med);
	printf("\nMemory per closure: trampfd %d B of code page + 16 B of tables (two __u64) = %d B;"
	       " libffi sizeof(ffi_closure) = %zu B (plus its trampoline page share).\n\n",
	       PAGE / 128, PAGE / 128 + 16, sizeof(ffi_closure));
	printf("| live trampfds | %s per trampfd (open+configure+map+fault) | ratio to getppid() | MemFree drop per trampfd (kB) |\n",
	       unit);
	printf("| --- | --- | --- | --- |\n");
	for (k = 0; k < 3 && sizes[k] <= max_live; k++) {
		double ns, kb;

		scale(sizes[k], &ns, &kb);
		printf("| %d | %.0f | %.2f | %.2f |\n", sizes[k], ns, ns / b.med, kb);
	}
	{
		double page = 0, med[PH_N];

		printf("\nMaking one page, phase by phase (each call timed alone, minus an empty ");
		printf("interval of %.0f), and the anonymous memory a library around it needs:\n\n",
		       summarize(empty, reps).med);
		printf("| phase | median %s | spread (min..max) | ratio to getppid() |\n", unit);
		printf("| --- | --- | --- | --- |\n");
		for (k = 0; k < PH_N; k++) {
			struct stat3 s = summarize(ph[k], reps);

			med[k] = s.med;
			printf("| %s | %.0f | %.0f..%.0f | %.2f |\n", phase_name[k], s.med, s.lo,
			       s.hi, s.med / b.med);
		}
		for (k = PH_CREATE; k <= PH_CLOSE; k++)
			page += med[k];
		printf("\nA new page of %u closures (CREATE to close): %.0f, %.1f per closure;"
		       " fresh anonymous memory (fault + zeroing): %.2f per byte.\n",
		       page_slots, page, page / page_slots, med[PH_ANON_TOUCH] / PAGE);
	}
	return 0;
}
