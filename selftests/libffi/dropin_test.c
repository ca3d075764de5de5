// SPDX-License-Identifier: GPL-2.0
/*
 * The libffi drop-in's own promises, on Debian's unchanged libffi.so.8
 * (x86-64 guest, LD_PRELOAD=libtrampfd-ffi.so; selftests/libffi/ctypes_run.sh
 * runs it):
 *
 * - a closure's code address is on a /dev/trampfd page;
 * - a freed closure's slot is the next one handed out, and works with the
 *   new closure's handler and data;
 * - a call through a freed closure, or through one never prepared (code
 *   the program wrote into the object, as GHC's RTS did), aborts with the
 *   drop-in's message; it never runs the old handler or anything else;
 * - fork while other threads allocate and free closures: the child can
 *   allocate and call a closure (no lock inherited held);
 * - raw and Java raw closures (ffi_prep_raw_closure_loc,
 *   ffi_prep_java_raw_closure_loc) and the deprecated ffi_prep_closure()
 *   on an ffi_closure_alloc() object work, from a trampfd slot;
 * - ffi_closure_alloc(size, NULL) is NULL, as in stock libffi;
 * - a second ffi_closure_free() of a closure aborts with a message;
 * - an fd limit at the first allocation gives that closure from libffi,
 *   and the next allocation after the limit is lifted is on trampfd;
 * - preparing a closure on the program's own memory sets nothing up (no
 *   /dev/trampfd opened: it is libffi's business alone);
 * - an overflow of one closure object into the next reaches no handle:
 *   both still free, and the next closure works;
 * - every cif shape gets its own entry: closures of more shapes than the
 *   drop-in remembers, of integer and of SSE (double) arguments, on one
 *   cif re-prepared in place between them, all compute their results.
 *
 * Built twice (scripts/check-ffi-dropin): against libffi.so.8 with the
 * preload, and statically wrapped (-Wl,--wrap, libtrampfd-ffi.a, libffi.a).
 */
#define _GNU_SOURCE
#include <ffi.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "trampfd_maps.h"

static ffi_cif cif;
static ffi_type *argt[1] = { &ffi_type_sint32 };

/* int f(int x): x + the closure's user data. */
static void add_handler(ffi_cif *c, void *ret, void **args, void *ud)
{
	*(ffi_arg *)ret = (ffi_arg)(*(int *)args[0] + (int)(intptr_t)ud);
}

/* int f(int x): x * the closure's user data. */
static void mul_handler(ffi_cif *c, void *ret, void **args, void *ud)
{
	*(ffi_arg *)ret = (ffi_arg)(*(int *)args[0] * (int)(intptr_t)ud);
}

typedef int (*fn_t)(int);

static pthread_once_t cif_once = PTHREAD_ONCE_INIT;
static ffi_status cif_status = FFI_BAD_TYPEDEF;

/* The one cif, int (int), prepared once whichever thread asks first. */
static void prep_cif(void)
{
	cif_status = ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 1, &ffi_type_sint32, argt);
}

/* A prepared closure computing @h with @ud, its code in *@fn; or NULL. */
static ffi_closure *make(void (*h)(ffi_cif *, void *, void **, void *), int ud, fn_t *fn)
{
	void *code = NULL;
	ffi_closure *c;

	pthread_once(&cif_once, prep_cif);
	if (cif_status != FFI_OK)
		return NULL;
	c = ffi_closure_alloc(sizeof(*c), &code);
	if (!c)
		return NULL;
	if (ffi_prep_closure_loc(c, &cif, h, (void *)(intptr_t)ud, code) != FFI_OK) {
		ffi_closure_free(c);
		return NULL;
	}
	*fn = (fn_t)code;
	return c;
}

TEST(closure_code_is_on_a_trampfd_page)
{
	fn_t fn;
	ffi_closure *c = make(add_handler, 5, &fn);

	ASSERT_NE(NULL, c);
	EXPECT_EQ(42, fn(37));
	EXPECT_TRUE(on_trampfd_page((void *)fn));
	/* The closure object itself is ordinary data, never executed. */
	EXPECT_FALSE(on_trampfd_page(c));
	ffi_closure_free(c);
}

#if defined(__x86_64__)
/*
 * Under user IBT an indirect call must land on endbr64: libffi's own
 * trampoline starts with one, and so does every slot the drop-in hands out
 * (libtrampfd keeps a page's data table next to its code table, which gets
 * the kernel's endbr64 layout).
 */
TEST(x86_64_closure_code_starts_with_endbr64_as_libffis_trampoline_does)
{
	fn_t fn[3];
	ffi_closure *c[3];
	int i;

	for (i = 0; i < 3; i++) {
		c[i] = make(add_handler, i, &fn[i]);
		ASSERT_NE(NULL, c[i]);
		EXPECT_EQ(0, memcmp((void *)fn[i], "\xf3\x0f\x1e\xfa", 4));
		EXPECT_EQ(37 + i, fn[i](37));
	}
	for (i = 0; i < 3; i++)
		ffi_closure_free(c[i]);
}
#endif

TEST(freed_slot_is_reused_with_the_new_handler_and_data)
{
	fn_t f1, f2;
	ffi_closure *c1 = make(add_handler, 5, &f1), *c2;

	ASSERT_NE(NULL, c1);
	ASSERT_EQ(42, f1(37));
	ffi_closure_free(c1);
	c2 = make(mul_handler, 3, &f2);
	ASSERT_NE(NULL, c2);
	EXPECT_EQ((void *)f1, (void *)f2);
	EXPECT_EQ(111, f2(37));
	ffi_closure_free(c2);
}

static int stop;

static void *churn(void *arg)
{
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		fn_t fn;
		ffi_closure *c = make(add_handler, 1, &fn);

		if (!c || fn(1) != 2)
			return (void *)1;
		ffi_closure_free(c);
	}
	return NULL;
}

#define FORKS 200

TEST(fork_while_threads_allocate_and_free)
{
	pthread_t t[2];
	void *ret;
	int i, st, bad = 0;

	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, churn, NULL));
	for (i = 0; i < FORKS && !bad; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			fn_t fn;
			ffi_closure *c;

			/* A lock inherited held hangs here: the alarm ends it. */
			alarm(10);
			c = make(add_handler, 2, &fn);
			_exit(c && fn(40) == 42 ? 0 : 1);
		}
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			TH_LOG("fork %d: child status %#x", i, st);
			bad = 1;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(t[i], &ret));
		EXPECT_EQ(NULL, ret);
	}
	EXPECT_EQ(0, bad);
}

/* int f(int x) as a raw closure: x + user data, the argument in raw[0]. */
static void raw_add(ffi_cif *c, void *ret, ffi_raw *raw, void *ud)
{
	*(ffi_arg *)ret = (ffi_arg)(raw[0].sint + (int)(intptr_t)ud);
}

TEST(raw_closure_runs_from_a_trampfd_slot)
{
	ffi_raw_closure *rc;
	void *code = NULL;

	pthread_once(&cif_once, prep_cif);
	ASSERT_EQ(0, (int)cif_status);
	rc = ffi_closure_alloc(sizeof(*rc), &code);
	ASSERT_NE(NULL, rc);
	ASSERT_EQ(0, (int)ffi_prep_raw_closure_loc(rc, &cif, raw_add, (void *)5, code));
	EXPECT_TRUE(on_trampfd_page(code));
	EXPECT_EQ(42, ((fn_t)code)(37));
	ffi_closure_free(rc);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* The Java raw API's int argument: one ffi_java_raw word. */
static void java_add(ffi_cif *c, void *ret, ffi_java_raw raw[], void *ud)
{
	*(ffi_arg *)ret = (ffi_arg)(raw[0].sint + (int)(intptr_t)ud);
}

TEST(java_raw_closure_runs_from_a_trampfd_slot)
{
	ffi_java_raw_closure *jc;
	void *code = NULL;

	pthread_once(&cif_once, prep_cif);
	ASSERT_EQ(0, (int)cif_status);
	jc = ffi_closure_alloc(sizeof(*jc), &code);
	ASSERT_NE(NULL, jc);
	ASSERT_EQ(0, (int)ffi_prep_java_raw_closure_loc(jc, &cif, java_add, (void *)5, code));
	EXPECT_TRUE(on_trampfd_page(code));
	EXPECT_EQ(42, ((fn_t)code)(37));
	ffi_closure_free(jc);
}

TEST(deprecated_prep_closure_on_an_allocated_closure)
{
	void *code = NULL;
	ffi_closure *c;

	pthread_once(&cif_once, prep_cif);
	ASSERT_EQ(0, (int)cif_status);
	c = ffi_closure_alloc(sizeof(*c), &code);
	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, (int)ffi_prep_closure(c, &cif, add_handler, (void *)5));
	EXPECT_TRUE(on_trampfd_page(code));
	EXPECT_EQ(42, ((fn_t)code)(37));
	ffi_closure_free(c);
}
#pragma GCC diagnostic pop

TEST(alloc_with_a_null_code_pointer_is_null)
{
	ffi_closure *c;
	fn_t fn;

	EXPECT_EQ(NULL, ffi_closure_alloc(sizeof(ffi_closure), NULL));
	/* And the library still works afterwards. */
	c = make(add_handler, 5, &fn);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(42, fn(37));
	ffi_closure_free(c);
}

/* Run @what in a child with stderr into a pipe; its status, stderr in @buf. */
static int child_stderr(void (*what)(void), char *buf, size_t len)
{
	int p[2], st = -1;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		what();
		_exit(0);
	}
	close(p[1]);
	while (got + 1 < (ssize_t)len && (n = read(p[0], buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	return st;
}

static void free_twice(void)
{
	fn_t fn;
	ffi_closure *c = make(add_handler, 5, &fn);

	if (!c || fn(37) != 42)
		_exit(3);
	ffi_closure_free(c);
	ffi_closure_free(c);
}

TEST(double_free_aborts_with_a_message)
{
	char err[512];
	int st = child_stderr(free_twice, err, sizeof(err));

	TH_LOG("child status %#x, stderr: %s", st, err);
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGABRT, WTERMSIG(st));
	EXPECT_NE(NULL, strstr(err, "double free"));
}

static void call_freed(void)
{
	fn_t fn;
	ffi_closure *c = make(add_handler, 5, &fn);

	if (!c || fn(37) != 42)
		_exit(3);
	ffi_closure_free(c);
	_exit(fn(37) == 42 ? 1 : 2);	/* the old handler ran: 1 */
}

TEST(call_through_a_freed_closure_aborts_with_a_message)
{
	char err[512];
	int st = child_stderr(call_freed, err, sizeof(err));

	TH_LOG("child status %#x, stderr: %s", st, err);
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGABRT, WTERMSIG(st));
	EXPECT_NE(NULL, strstr(err, "never prepared, or that was freed, was called"));
}

static void call_unprepared(void)
{
	void *code;
	ffi_closure *c = ffi_closure_alloc(sizeof(*c), &code);

	if (!c)
		_exit(3);
	/* ret, written where a dynamic trampoline would be: never runs here. */
	memset(c->tramp, 0xc3, sizeof(c->tramp));
	((void (*)(void))code)();
	_exit(1);
}

TEST(call_through_an_unprepared_closure_aborts_with_a_message)
{
	char err[512];
	int st = child_stderr(call_unprepared, err, sizeof(err));

	TH_LOG("child status %#x, stderr: %s", st, err);
	ASSERT_TRUE(WIFSIGNALED(st));
	EXPECT_EQ(SIGABRT, WTERMSIG(st));
	EXPECT_NE(NULL, strstr(err, "TRAMPFD_FFI=off"));
}

TEST(fd_limit_at_the_first_alloc_is_not_remembered)
{
	struct rlimit saved, low;
	fn_t f1, f2;
	ffi_closure *c1, *c2;
	int fd;

	/* No fd left: opening /dev/trampfd fails with EMFILE. */
	fd = dup(0);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &saved));
	low = saved;
	low.rlim_cur = fd;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	c1 = make(add_handler, 5, &f1);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &saved));
	/* libffi's own closure: it works, and it is not on a trampfd page. */
	ASSERT_NE(NULL, c1);
	EXPECT_EQ(42, f1(37));
	EXPECT_FALSE(on_trampfd_page((void *)f1));
	/* The limit lifted: the next closure is on trampfd. */
	c2 = make(add_handler, 6, &f2);
	ASSERT_NE(NULL, c2);
	EXPECT_EQ(43, f2(37));
	EXPECT_TRUE(on_trampfd_page((void *)f2));
	ffi_closure_free(c2);
	ffi_closure_free(c1);
}

/* Open fds of this process (/proc/self/fd, less the directory's own). */
static int count_fds(void)
{
	int n = 0;
	char path[64];
	int fd;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += access(path, F_OK) == 0;
	}
	return n;
}

TEST(prep_on_the_programs_own_memory_sets_nothing_up)
{
	ffi_closure *own = calloc(1, sizeof(*own));
	int fds;

	ASSERT_NE(NULL, own);
	pthread_once(&cif_once, prep_cif);
	ASSERT_EQ(0, (int)cif_status);
	fds = count_fds();
	/* Never called: the memory is not executable. */
	EXPECT_EQ(0, (int)ffi_prep_closure_loc(own, &cif, add_handler, NULL, own));
	EXPECT_EQ(fds, count_fds());
	free(own);
}

TEST(overflow_of_a_closure_object_reaches_no_handle)
{
	fn_t f1, f2, f3;
	ffi_closure *a = make(add_handler, 1, &f1), *b = make(add_handler, 2, &f2), *c;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(38, f1(37));
	/*
	 * A heap-style overflow: from the end of a's closure up to b (the next
	 * object, or 64 bytes if b is not right after a).  The drop-in keeps
	 * no handle or free-list link there.
	 */
	if ((char *)b > (char *)(a + 1) && (char *)b - (char *)(a + 1) <= 4096)
		memset(a + 1, 0x41, (char *)b - (char *)(a + 1));
	else
		memset(a + 1, 0x41, 64);
	ffi_closure_free(a);
	ffi_closure_free(b);
	c = make(add_handler, 5, &f3);
	ASSERT_NE(NULL, c);
	EXPECT_EQ(42, f3(37));
	EXPECT_TRUE(on_trampfd_page((void *)f3));
	ffi_closure_free(c);
}

/* long f(long a1, ..., long an): the sum plus the closure's user data. */
static void sum_handler(ffi_cif *c, void *ret, void **args, void *ud)
{
	long s = (long)(intptr_t)ud;
	unsigned int i;

	for (i = 0; i < c->nargs; i++)
		s += *(long *)args[i];
	*(ffi_arg *)ret = (ffi_arg)s;
}

/* double f(double x, double y): x * y plus the closure's user data. */
static void dmul_handler(ffi_cif *c, void *ret, void **args, void *ud)
{
	*(double *)ret = *(double *)args[0] * *(double *)args[1] + (double)(intptr_t)ud;
}

/*
 * The drop-in remembers the entry libffi chose per cif shape (its bytes),
 * for a few shapes: 12 integer shapes and a double one, three rounds, all
 * on one ffi_cif re-prepared in place (same address, other bytes), with
 * objects freed and reused in between.  A shape mistaken for another, or a
 * cif recognised by its address, calls the wrong entry (x86-64: the SSE
 * one saves the vector argument registers, the other does not) and the
 * double result is wrong.
 */
TEST(each_cif_shape_gets_its_own_entry_also_when_a_cif_is_reprepared)
{
	static ffi_type *largs[12], *dargs[2] = { &ffi_type_double, &ffi_type_double };
	long lv[12], *lp[12];
	double x = 2.5, y = 4.0, dret, *dp[2] = { &x, &y };
	ffi_arg ret;
	ffi_cif c;
	void *code;
	ffi_closure *cl;
	int round, n, i;

	for (i = 0; i < 12; i++) {
		largs[i] = &ffi_type_slong;
		lv[i] = i + 1;
		lp[i] = &lv[i];
	}
	for (round = 0; round < 3; round++) {
		for (n = 0; n <= 12; n++) {
			ASSERT_EQ(FFI_OK, ffi_prep_cif(&c, FFI_DEFAULT_ABI, n, &ffi_type_slong,
						       largs));
			cl = ffi_closure_alloc(sizeof(*cl), &code);
			ASSERT_NE(NULL, cl);
			ASSERT_EQ(FFI_OK, ffi_prep_closure_loc(cl, &c, sum_handler,
							       (void *)(intptr_t)7, code));
			ffi_call(&c, FFI_FN(code), &ret, (void **)lp);
			EXPECT_EQ(n * (n + 1) / 2 + 7, (long)ret);
			ffi_closure_free(cl);

			ASSERT_EQ(FFI_OK, ffi_prep_cif(&c, FFI_DEFAULT_ABI, 2, &ffi_type_double,
						       dargs));
			cl = ffi_closure_alloc(sizeof(*cl), &code);
			ASSERT_NE(NULL, cl);
			ASSERT_EQ(FFI_OK, ffi_prep_closure_loc(cl, &c, dmul_handler,
							       (void *)(intptr_t)3, code));
			dret = 0;
			ffi_call(&c, FFI_FN(code), &dret, (void **)dp);
			EXPECT_EQ(13.0, dret);
			EXPECT_TRUE(on_trampfd_page(code));
			ffi_closure_free(cl);
		}
	}
}

TEST_HARNESS_MAIN
