// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtrampfd-ffi: libffi closures on /dev/trampfd, for the unchanged
 * system libffi.
 *
 *	LD_PRELOAD=libtrampfd-ffi.so python3 app.py		(dynamic)
 *	cc app.o -Wl,--wrap=ffi_closure_alloc -Wl,--wrap=ffi_prep_closure_loc \
 *	   -Wl,--wrap=ffi_closure_free libtrampfd-ffi.a -lffi	(static)
 *
 * It replaces ffi_closure_alloc, ffi_prep_closure_loc and ffi_closure_free.
 * The closure object lives in ordinary read-write memory and is never
 * executed; the code address handed to the program is a trampfd slot whose
 * data entry is the closure pointer, delivered in the register libffi's
 * closure entry reads it from (x86-64 r10, arm64 x17 with the branch through
 * x16, riscv64 t1 with the jump through t2), and whose code entry is
 * libffi's own entry for the cif.
 *
 * libffi keeps that entry private (a hidden symbol), but a normal
 * ffi_prep_closure_loc() writes it as data into the closure's trampoline
 * bytes, next to a fixed instruction template.  So ffi_prep_closure_loc()
 * here lets the real one fill the closure, then checks the template byte
 * for byte, checks that cif, fun and user_data are where ffi.h says, and
 * checks that the entry lies in an executable segment of the libffi whose
 * ffi_prep_closure_loc it called (dl_iterate_phdr) before it points the
 * slot at it.  That happens once per cif shape (shape_entry): a later
 * closure of a byte-identical cif gets the same bytes without the call.
 * A libffi whose layout differs gets one message on stderr and
 * FFI_BAD_ABI from every later closure preparation: no byte that was not
 * verified is ever called.
 *
 * Cost model (guest instructions under -icount, x86-64 guest, measured
 * 2026-12-06 with a probe of each step; bench/results/DAY-ffi-guest.md):
 *	open("/dev/trampfd") 3,800, TRAMPFD_IOC_GET_INFO 700 (once);
 *	per trampfd page of 128 slots: TRAMPFD_IOC_CREATE 1,750, two pwrite
 *	1,260, mmap 4,980, MADV_POPULATE_READ 6,080 (a page allocated, zeroed
 *	and filled), close 290: 14,360, 112 per closure;
 *	anonymous memory: mmap 4,400-4,700, mprotect 4,650, the first touch
 *	of a page 5,800-7,100, of which 4,096 zero the page (rep stosb counts
 *	one per byte; MADV_POPULATE_WRITE is no cheaper: 5,960 a page).
 * Before 2026-12-06 a closure cost 1,008 at 10,000 closures and 382 on a
 * reused slot (stock libffi 384 and 195): 128-byte objects, one metadata
 * mmap and two faulted pages per trampfd page, pthread mutexes (about 55
 * a lock/unlock pair), libffi's own preparation and the whole verification
 * per closure, and calls for every table access.  Now: 64-byte objects,
 * metadata carved from guarded chunks (libtrampfd), a futex word, inline
 * table accesses and a fast path per cif shape: 186 on a reused slot (188
 * since each closure goes to its caller's copy of libffi, below).  The
 * first round at 10,000 (about 690) is the reused path, about 112 for the
 * trampfd pages and the rest memory: 64 bytes of object, 24 of handle, 16
 * of tables and 16 of arena metadata per closure, each fresh page a fault
 * and 4,096 instructions of zeroing.
 *
 * libffi's own wrappers go through ffi_prep_closure_loc too: the raw and
 * Java raw closures (ffi_prep_raw_closure_loc) pass the code address as
 * user_data and read the closure back through it, and the deprecated
 * ffi_prep_closure() passes the closure itself as the code address.  Stock
 * libffi's code address is a view of the closure's own bytes, so both work
 * there; here the first gets the closure object as user_data instead of
 * the slot, and the second prepares the object's slot.
 *
 * Some programs use ffi_closure_alloc() as an executable-memory allocator:
 * they write machine code of their own into the writable object, or read
 * the object back through the code address (stock libffi's dynamic
 * trampolines make both the same memory).  GHC's RTS before 9.0.2
 * (allocateExec/freeExec) and gobject-introspection before 1.70
 * (g_callable_info_prepare_closure/_free_closure) do; that is why libffi
 * has --disable-exec-static-tramp (libffi PR 647).  Here code written into
 * the object never reaches the slot.  So: an allocation made from a
 * function of that name (dladdr of the return address, once per call site)
 * gets libffi's own closure; a call through a slot that was never prepared
 * (or was freed) aborts with a message instead of running anything; a
 * preparation inside an object, not at its start (GHC's libffi adjustors
 * on allocateExec's memory), returns FFI_BAD_ABI with a message; and a
 * free of a pointer that is neither a closure of ours nor can be one of
 * libffi's (a word read through a code address) aborts with a message.
 * TRAMPFD_FFI=off passes a whole program through.
 *
 * A process may hold two copies of libffi (a wheel's bundled copy beside
 * the system's, each loaded RTLD_LOCAL by its own module).  Each closure
 * is prepared by, and jumps into, the copy its caller binds to: resolved
 * once per call site from the caller's return address (copy_of), with
 * executable segments, verified entries, cif shapes and the layout
 * refusal kept per copy; a closure passed through to libffi is freed by
 * the copy that made it.  libtrampfd-ffi.a in a shared object whose
 * __real_ffi_* calls the preload interposes passes them all to the
 * preload (interposer()).
 *
 * Without a usable /dev/trampfd (or with TRAMPFD_FFI=off) every call goes
 * to the caller's libffi unchanged; so do closures that the program prepares
 * on memory it did not get from ffi_closure_alloc().  A transient failure
 * to set up trampfd (EMFILE, ENFILE, ENOMEM, EAGAIN, EINTR) gives that one
 * closure from libffi and is retried at the next allocation.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ffi.h>
#include <linux/trampfd.h>

#include "trampfd.h"
#include "trampfd_int.h"
#include "ffi_wrap.h"

#ifdef TRAMPFD_FFI_WRAP
/*
 * libtrampfd-ffi.a: nothing exported, so that a shared object that links it
 * (a plugin with its own static libffi) exports neither __wrap_* nor
 * trampfd_*; the symbols still link within that object.
 */
#define EXPORT
#else
#define EXPORT __attribute__((visibility("default")))
#endif

typedef void *alloc_fn_t(size_t, void **);
typedef ffi_status prep_fn_t(ffi_closure *, ffi_cif *, closure_fun_t *, void *, void *);
typedef void free_fn_t(void *);

#ifdef TRAMPFD_FFI_WRAP
/* Static links: -Wl,--wrap=NAME sends NAME to __wrap_NAME. */
#define FN(name) __wrap_##name
#define real_alloc __real_ffi_closure_alloc
#define real_prep __real_ffi_prep_closure_loc
#define real_free __real_ffi_closure_free
#else
/* LD_PRELOAD: the real functions are those of the caller's libffi (copy_of). */
#define FN(name) name
#endif

/*
 * The trampoline libffi 3.x writes into closure->tramp (the dynamic
 * trampoline of src/<arch>/ffi*.c), the offset of the entry address in it,
 * and the registers the entry expects.
 */
#if defined(__x86_64__)
static const unsigned char tramp_template[] = {
	0xf3, 0x0f, 0x1e, 0xfa,			/* endbr64 */
	0x4c, 0x8d, 0x15, 0xf5, 0xff, 0xff, 0xff,	/* lea -0xb(%rip),%r10 */
	0xff, 0x25, 0x07, 0x00, 0x00, 0x00,	/* jmp *0x7(%rip) */
	0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,	/* nopl 0(%rax) */
};
#define ENTRY_OFFSET 24
#define CODE_REG TRAMPFD_X86_64_R11
#define DATA_REG TRAMPFD_X86_64_R10		/* closure in r10 */
#elif defined(__aarch64__)
static const unsigned char tramp_template[] = {
	0x90, 0x00, 0x00, 0x58,			/* ldr x16, tramp+16 */
	0xf1, 0xff, 0xff, 0x10,			/* adr x17, tramp+0 */
	0x00, 0x02, 0x1f, 0xd6,			/* br x16 */
	0x00, 0x00, 0x00, 0x00,			/* (zero) */
};
#define ENTRY_OFFSET 16
#define CODE_REG TRAMPFD_ARM64_X16		/* br x16: accepted by bti c */
#define DATA_REG TRAMPFD_ARM64_X17		/* closure in x17 */
#elif defined(__riscv) && __riscv_xlen == 64
static const unsigned char tramp_template[] = {
	0x17, 0x03, 0x00, 0x00,			/* auipc t1, 0 */
	0x83, 0x33, 0x03, 0x01,			/* ld t2, 16(t1) */
	0x67, 0x80, 0x03, 0x00,			/* jr t2 */
	0x13, 0x00, 0x00, 0x00,			/* nop */
};
#define ENTRY_OFFSET 16
/*
 * t2, as libffi's own trampoline: under Zicfilp a jump through t2 is a
 * software-guarded branch that needs no landing pad at the target, and
 * libffi's ffi_closure_asm has none (3.4.4 to 3.8.0).
 */
#define CODE_REG TRAMPFD_RISCV64_T2
#define DATA_REG TRAMPFD_RISCV64_T1		/* closure in t1 */
#else
#error "libtrampfd-ffi: unsupported architecture"
#endif

_Static_assert(ENTRY_OFFSET + 8 <= FFI_TRAMPOLINE_SIZE, "entry inside tramp[]");
_Static_assert(sizeof(tramp_template) <= ENTRY_OFFSET, "template before entry");

static struct trampfd_pool *pool;	/* set once, when trampfd works */
static int off;				/* trampfd unusable for good */
static int any_broken;			/* some copy's layout is not ours: slow paths */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *msg)
{
	fprintf(stderr, "libtrampfd-ffi: %s\n", msg);
}

/* A misuse stock libffi aborts on too (its dlfree's usage error). */
static void die(const char *what, const void *p)
{
	fprintf(stderr, "libtrampfd-ffi: %s %p\n", what, p);
	abort();
}

#define EXEC_ALLOC_HINT \
	"the program uses ffi_closure_alloc() as executable memory (GHC's RTS before 9.0.2, " \
	"gobject-introspection before 1.70), which cannot work on trampfd: run it with TRAMPFD_FFI=off"

/*
 * The code entry of every slot whose closure is not prepared (allocated and
 * not yet prepared, or freed).  The slot jumps here with the caller's
 * registers and stack as at any function entry: a call that would run
 * code the program wrote into the closure object (which never reaches the
 * slot), or a stale call, stops here with a message.  Never NULL: a process
 * with a page at address 0 (zpoline) would run it.
 */
static void unprepared_call(void)
{
	fprintf(stderr,
		"libtrampfd-ffi: a closure that ffi_prep_closure_loc() never prepared, or that was freed, was called (from %p); if %s\n",
		__builtin_return_address(0), EXEC_ALLOC_HINT);
	abort();
}
#define UNPREPARED ((const void *)unprepared_call)

/*
 * Functions known to use ffi_closure_alloc() as an executable-memory
 * allocator; an allocation called from one of them (by its dynamic symbol)
 * gets libffi's own closure, exactly as without the drop-in.
 */
static const char *const exec_allocators[] = {
	"allocateExec",			/* GHC's RTS before 9.0.2 (rts/sm/Storage.c) */
	"g_callable_info_prepare_closure",	/* gobject-introspection < 1.70 */
	NULL
};

/* Call sites of ffi_closure_alloc() already judged (published by ra). */
#define MAX_SITES 16
static struct site {
	const void *ra;			/* return address; NULL: free entry */
	int pass;			/* 1: an exec allocator's, libffi's closure */
} sites[MAX_SITES];
static unsigned int nsites;
static const void *last_site;		/* the last one found not to pass */

/*
 * The verdict for a call site not seen yet: dladdr once per call site,
 * under init_lock (which the fork handler takes: dladdr holds the loader's
 * lock).
 */
static int judge_site(const void *ra)
{
	Dl_info info;
	unsigned int i, n;
	int pass = 0;

	pthread_mutex_lock(&init_lock);
	if (dladdr(ra, &info) && info.dli_sname)
		for (i = 0; exec_allocators[i]; i++)
			pass |= !strcmp(info.dli_sname, exec_allocators[i]);
	if (pass && getenv("TRAMPFD_FFI_DEBUG"))
		fprintf(stderr, "libtrampfd-ffi: closures allocated by %s (%s) are libffi's own: it uses them as executable memory\n",
			info.dli_sname, info.dli_fname ? info.dli_fname : "?");
	n = nsites;
	if (n < MAX_SITES) {
		sites[n].pass = pass;
		__atomic_store_n(&sites[n].ra, ra, __ATOMIC_RELEASE);
		nsites = n + 1;
	}
	pthread_mutex_unlock(&init_lock);
	return pass;
}

/*
 * Whether the ffi_closure_alloc() call returning to @ra comes from an
 * executable-memory allocator: one compare for the last call site that
 * did not, else a lookup in the call sites judged so far.
 */
static inline int exec_allocator_site(const void *ra)
{
	unsigned int i;
	int pass;

	if (__builtin_expect(ra == __atomic_load_n(&last_site, __ATOMIC_RELAXED), 1))
		return 0;
	for (i = 0; i < MAX_SITES; i++) {
		const void *r = __atomic_load_n(&sites[i].ra, __ATOMIC_ACQUIRE);

		if (!r)
			break;
		if (r == ra) {
			pass = sites[i].pass;
			goto out;
		}
	}
	pass = judge_site(ra);
out:
	if (!pass)
		__atomic_store_n(&last_site, ra, __ATOMIC_RELAXED);
	return pass;
}

/* libffi's closures live now (passed through): 0 means none can be freed. */
static long real_live;

/*
 * Metadata lives away from the closures, on pages of its own: an overflow
 * of a closure object (ordinary read-write memory, written by libffi and by
 * the program) reaches neither a handle nor a free-list link, and nothing
 * on the malloc heap is a pointer that free or prep writes through.
 */
static void *pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The arenas' lock: a futex word (0 free, 1 held, 2 held with waiters, as
 * in Drepper's "Futexes Are Tricky"), a compare-and-swap and a swap when
 * uncontended where a pthread mutex pair costs some 55 instructions, a
 * quarter of a closure's whole creation.  A critical section is a few
 * loads and stores, never a call that could block.
 */
static void lk_lock_slow(int *l, int c)
{
	if (c != 2)
		c = __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE);
	while (c) {
		syscall(SYS_futex, l, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
		c = __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE);
	}
}

static inline void lk_lock(int *l)
{
	int c = 0;

	if (!__atomic_compare_exchange_n(l, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		lk_lock_slow(l, c);
}

static inline void lk_unlock(int *l)
{
	if (__atomic_exchange_n(l, 0, __ATOMIC_RELEASE) != 1)
		syscall(SYS_futex, l, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/*
 * Closure objects come from three arenas, one per size class (64, 256 and
 * 4096 bytes, below): a read-write
 * anonymous mapping with MAP_NORESERVE (pages are allocated only as objects
 * are first used), a fixed stride per object, and after a PROT_NONE guard
 * page one struct meta per object.  Whether a pointer is one of ours is then
 * a range check, and its handle a load: no malloc, no table, no lock.
 * Objects larger than the big stride (or any when an arena is full) come
 * from their own mapping and a table (below).
 *
 * An arena object keeps its trampfd slot for life: the slot's data entry
 * is the object, so a freed object goes on the free list with its slot, the
 * slot's code entry set to UNPREPARED (a call through a freed closure
 * aborts with a message), and its handle word tagged FREE_TAG.  Reusing it is then a pop
 * under one lock, with no trip through libtrampfd's pool.  Freeing a free
 * object, or a pointer inside an arena that is not an object, aborts with a
 * message, as stock libffi does.
 */
#define FREE_TAG ((uintptr_t)1)		/* handle word of a free object */

struct meta {
	uintptr_t word;			/* the handle, | FREE_TAG while free */
	uint32_t next_free;		/* index + 1 of the next free object */
};

struct arena {
	int lock;			/* lk_lock() */
	unsigned int shift;		/* the stride is 1 << shift bytes */
	size_t stride, nobjs, bytes;	/* bytes: stride * nobjs */
	char *base;			/* NULL: no arena */
	struct meta *meta;
	size_t top;			/* objects handed out at least once */
	int tried;			/* arena_map() was called (under lock) */
	uint32_t free_head;		/* index + 1, 0: none */
};

/*
 * 64 bytes: an ffi_closure (56 bytes on x86-64, 48 on arm64 and riscv64)
 * and what GObject-Introspection puts after one, as dense as libffi's own
 * allocator (a 56-byte request is a 64-byte dlmalloc chunk there); every
 * fresh page of objects costs a page fault and 4096 bytes of zeroing.
 */
#define ARENA(sh, n) { .shift = (sh), .stride = 1u << (sh), .nobjs = (n), .bytes = (n) << (sh) }
static struct arena small = ARENA(6, 1u << 18);
static struct arena mid = ARENA(8, 1u << 16);
static struct arena big = ARENA(12, 1u << 13);
_Static_assert(sizeof(ffi_closure) <= 64, "an ffi_closure fits a small object");

static void arena_map(struct arena *a)
{
	size_t ps = 4096, objs = a->stride * a->nobjs;
	size_t metas = (a->nobjs * sizeof(struct meta) + ps - 1) & ~(ps - 1);
	char *p = pages(objs + ps + metas);

	if (!p)
		return;
	if (mprotect(p + objs, ps, PROT_NONE)) {
		munmap(p, objs + ps + metas);
		return;
	}
	a->meta = (struct meta *)(p + objs + ps);
	__atomic_store_n(&a->base, p, __ATOMIC_RELEASE);
}

/*
 * The index of @p in @a if it is inside the arena, else -1; *@aligned says
 * whether @p is the start of an object.  Inline, on every path of every
 * closure: a few instructions.
 */
static inline long arena_index(const struct arena *a, const void *p, int *aligned)
{
	const char *base = __atomic_load_n(&a->base, __ATOMIC_ACQUIRE);
	size_t off = (size_t)((const char *)p - base);

	if (!base || off >= a->bytes)
		return -1;
	*aligned = (off & (a->stride - 1)) == 0;
	return (long)(off >> a->shift);
}

/*
 * The handle of a live arena object @p, or NULL if @p is not one.  An
 * object never handed out has a zero meta word (the meta pages are fresh
 * anonymous memory), a free one FREE_TAG in it: neither is a handle.
 */
static inline struct trampfd_closure *arena_handle(const struct arena *a, const void *p)
{
	int aligned;
	long i = arena_index(a, p, &aligned);
	uintptr_t w;

	if (i < 0 || !aligned)
		return NULL;
	w = __atomic_load_n(&a->meta[i].word, __ATOMIC_ACQUIRE);
	return w & FREE_TAG ? NULL : (struct trampfd_closure *)w;
}

/*
 * An object of @a with its first @size bytes zeroed, or NULL if the arena
 * is full.  *@h is the slot it kept from an earlier life, or NULL.
 */
static inline void *arena_get(struct arena *a, size_t size, struct trampfd_closure **h,
			       size_t *idx)
{
	void *obj = NULL;
	size_t i = 0;

	*h = NULL;
	lk_lock(&a->lock);
	if (!a->base && !a->tried) {
		/* Mapped at its first object: a size class never used costs nothing. */
		a->tried = 1;
		arena_map(a);
	}
	if (!a->base) {
		lk_unlock(&a->lock);
		return NULL;
	}
	if (a->free_head) {
		i = a->free_head - 1;
		a->free_head = a->meta[i].next_free;
		*h = (struct trampfd_closure *)(a->meta[i].word & ~FREE_TAG);
		obj = a->base + i * a->stride;
	} else if (a->top < a->nobjs) {
		i = a->top;
		obj = a->base + i * a->stride;
		a->meta[i].word = FREE_TAG;
		__atomic_store_n(&a->top, a->top + 1, __ATOMIC_RELEASE);
	}
	lk_unlock(&a->lock);
	/* A constant length for the usual closure: a few stores, no call. */
	if (obj && size <= 64)
		memset(obj, 0, 64);
	else if (obj)
		memset(obj, 0, size);
	*idx = i;
	return obj;
}

/* Object @i back on the free list with the slot @h (or none: NULL). */
static void arena_put(struct arena *a, size_t i, struct trampfd_closure *h)
{
	lk_lock(&a->lock);
	__atomic_store_n(&a->meta[i].word, (uintptr_t)h | FREE_TAG, __ATOMIC_RELEASE);
	a->meta[i].next_free = a->free_head;
	a->free_head = (uint32_t)(i + 1);
	lk_unlock(&a->lock);
}

/*
 * Objects too large for an arena: each on pages of its own, found through
 * an open-addressing table (on pages of its own too).  Lookups run only
 * while such objects exist (map_live), so a closure on the program's own
 * memory takes no lock as long as there are none.
 */
#define TOMB ((void *)1)
struct entry {
	void *closure;
	struct trampfd_closure *handle;
	size_t len;			/* of the object's mapping */
};
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pt_lock = PTHREAD_MUTEX_INITIALIZER;	/* the pt table, below */
static struct entry *map;
static size_t map_cap, map_used;	/* used counts tombstones too */
static size_t map_live;

static size_t slot_of(const void *p, size_t cap)
{
	uintptr_t h = (uintptr_t)p;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (h >> 20) & (cap - 1);
}

/* Grow (or clean) the table; map_lock held.  0, or -1 with ENOMEM. */
static int map_rehash(size_t cap)
{
	struct entry *n = pages(cap * sizeof(*n));
	size_t i, j;

	if (!n) {
		errno = ENOMEM;
		return -1;
	}
	map_used = 0;
	for (i = 0; i < map_cap; i++) {
		if (!map[i].closure || map[i].closure == TOMB)
			continue;
		for (j = slot_of(map[i].closure, cap); n[j].closure; j = (j + 1) & (cap - 1))
			;
		n[j] = map[i];
		map_used++;
	}
	if (map)
		munmap(map, map_cap * sizeof(*map));
	map = n;
	map_cap = cap;
	return 0;
}

static int map_insert(void *closure, struct trampfd_closure *h, size_t len)
{
	size_t j;
	int ret = 0;

	pthread_mutex_lock(&map_lock);
	if ((map_used + 1) * 2 > map_cap) {
		/* Grow only if live entries need it; else just drop tombstones. */
		size_t cap = map_cap ? map_cap : 256;

		while ((map_live + 1) * 4 > cap)
			cap *= 2;
		if (map_rehash(cap) < 0) {
			ret = -1;
			goto out;
		}
	}
	for (j = slot_of(closure, map_cap); map[j].closure && map[j].closure != TOMB;
	     j = (j + 1) & (map_cap - 1))
		;
	if (!map[j].closure)
		map_used++;
	map[j].closure = closure;
	map[j].handle = h;
	map[j].len = len;
	__atomic_store_n(&map_live, map_live + 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&map_lock);
	return ret;
}

/* The handle of @closure, removed from the table if @take; or NULL. */
static struct trampfd_closure *map_find(void *closure, int take, size_t *len)
{
	struct trampfd_closure *h = NULL;
	size_t j;

	if (!__atomic_load_n(&map_live, __ATOMIC_ACQUIRE))
		return NULL;
	pthread_mutex_lock(&map_lock);
	if (!map_cap)
		goto out;
	for (j = slot_of(closure, map_cap); map[j].closure; j = (j + 1) & (map_cap - 1)) {
		if (map[j].closure != closure)
			continue;
		h = map[j].handle;
		if (len)
			*len = map[j].len;
		if (take) {
			map[j].closure = TOMB;
			__atomic_store_n(&map_live, map_live - 1, __ATOMIC_RELEASE);
		}
		break;
	}
out:
	pthread_mutex_unlock(&map_lock);
	return h;
}

/* The handle of @c if it is a live closure object of ours, else NULL. */
static struct trampfd_closure *handle_of(void *c)
{
	struct trampfd_closure *h = arena_handle(&small, c);

	if (!h)
		h = arena_handle(&mid, c);
	if (!h)
		h = arena_handle(&big, c);
	if (!h)
		h = map_find(c, 0, NULL);
	return h;
}

/* fork: the child must not inherit a lock held by another thread. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&init_lock);
	pthread_mutex_lock(&map_lock);
	pthread_mutex_lock(&pt_lock);
	lk_lock(&small.lock);
	lk_lock(&mid.lock);
	lk_lock(&big.lock);
}

static void atfork_release(void)
{
	lk_unlock(&big.lock);
	lk_unlock(&mid.lock);
	lk_unlock(&small.lock);
	pthread_mutex_unlock(&pt_lock);
	pthread_mutex_unlock(&map_lock);
	pthread_mutex_unlock(&init_lock);
}

/*
 * The fork handlers, registered before init_lock is first taken (a fork
 * while another thread sets trampfd up must not leave it held in the child)
 * and after libtrampfd's own: prepare handlers run in the reverse order of
 * registration, and init_lock is taken before libtrampfd's locks (the pool
 * is created under it), so ours must run first.  The lookup of NULL makes
 * libtrampfd register its handlers (and fails with ENOENT).
 */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void register_atfork(void)
{
	int e = errno;

	trampfd_closure_lookup(NULL);
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
	errno = e;
}

/*
 * And at load, before the program has threads: a handler registered by a
 * thread's first closure while another thread forks is not run by that
 * fork, and the first thread's locks (ours, and the loader's, which
 * dladdr and dlopen take under init_lock) were inherited held (seen:
 * dropin_test's fork_while_threads_allocate_and_free hung at fork 0 in
 * the child's dladdr, 9 of 16 runs).
 */
__attribute__((constructor)) static void atfork_at_load(void)
{
	pthread_once(&atfork_once, register_atfork);
}

/*
 * A copy of libffi: its three closure functions, its executable segments
 * (where an entry its ffi_prep_closure_loc writes must point) and the
 * entries already found there.  A process may hold several: a wheel's
 * bundled copy (its own soname, loaded RTLD_LOCAL by the module that needs
 * it) beside the system's.  Each closure is prepared by, and jumps into,
 * the copy its caller binds to (copy_of), never another: copies of two
 * versions may disagree on a cif's private fields, which the entry reads.
 * Filled under init_lock before it is published and never changed after,
 * but for broken and the entries (ok_entry, below).
 */
#define MAX_X 8
#define MAX_ENTRIES 8

/*
 * A cif shape a copy already prepared, with the entry it chose.  libffi's
 * ffi_prep_closure_loc() is a function of the cif alone (3.x on x86-64,
 * arm64 and riscv64: cif->abi selects the ABI check, cif->flags the entry
 * variant) and writes nothing but the closure's trampoline bytes and its
 * cif, fun and user_data fields.  So once a prep of a cif with these exact
 * bytes was verified (verified_entry: template, fields, entry in that
 * copy's text), a later closure of a byte-identical cif from a caller of
 * the same copy gets the same bytes (write_shape), and the real
 * preparation and its verification run once per cif shape, copy and
 * process instead of once per closure.  A cif that differs in any byte
 * (another signature, ABI or libffi build), or comes from a caller of
 * another copy, is a miss: the real one runs.
 */
#define MAX_SHAPES 8
struct shape {
	ffi_cif cif;
	void *entry;
};

struct copy {
	alloc_fn_t *alloc;
	prep_fn_t *prep;
	free_fn_t *free;
	int broken;			/* its layout is not ours: refuse */
	int interposer;			/* not a libffi: another drop-in in front */
	int nx;				/* executable segments of its object */
	uintptr_t lo[MAX_X], hi[MAX_X];
	/*
	 * Entries already found in its text: a libffi has a handful (x86-64:
	 * ffi_closure_unix64 and its _sse variant; one for arm64's SYSV and
	 * _V, riscv64's one), so the range check runs once per entry, and
	 * every later closure with that entry costs a compare.  Added under
	 * init_lock; read without it (each word is written before the count
	 * that makes it visible, and never changed after).
	 */
	uintptr_t ok_entry[MAX_ENTRIES];
	int n_ok;
	/* Its cif shapes: filled and published as ok_entry. */
	struct shape shapes[MAX_SHAPES];
	int n_shapes;
};

#define MAX_COPIES 8
static struct copy copies[MAX_COPIES];
static int n_copies;

typedef ElfW(Phdr) phdr_t;

/*
 * dl_iterate_phdr's callback: if @cp's ffi_prep_closure_loc is in this
 * object, its executable PT_LOAD segments (only those: an address in the
 * object's data, which dladdr would accept, is no entry) go into @cp.
 */
static int find_x(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct copy *cp = arg;
	uintptr_t fn = (uintptr_t)cp->prep;
	int i, n = 0, mine = 0;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const phdr_t *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (fn >= lo && fn < hi)
			mine = 1;
		if (n < MAX_X) {
			cp->lo[n] = lo;
			cp->hi[n] = hi;
			n++;
		}
	}
	if (!mine)
		return 0;
	cp->nx = n;
	return 1;
}

#ifdef TRAMPFD_FFI_WRAP
/*
 * Whether @p, what __real_ffi_prep_closure_loc binds to, is in another
 * object than the ffi_prep_cif this object binds to: the preload
 * libtrampfd-ffi.so in front of the libffi a shared object links in and
 * exports (its __real_ffi_* calls go through its PLT, which the preload
 * interposes; it has no ffi_prep_cif).  Then this copy passes every call
 * to it, and the preload makes the closures (with that object's libffi:
 * its callers' own copy); two drop-ins, each checking the other's entries
 * as libffi's, would refuse every closure.  dladdr only (no dlopen, which
 * a static executable would be warned about at link time; there dladdr
 * finds nothing, and nothing can interpose).
 */
static int interposer(prep_fn_t *p)
{
	Dl_info pi, ci;

	return dladdr((void *)p, &pi) && dladdr((void *)ffi_prep_cif, &ci) &&
	       pi.dli_fbase != ci.dli_fbase;
}
#endif

/*
 * The copy whose functions these are, registered if new (NULL if there are
 * MAX_COPIES already); init_lock held.  Its executable segments are found
 * here under init_lock, which the fork handler takes: dl_iterate_phdr holds
 * the loader's write lock, which a child does not get back if a fork
 * interrupts it (seen: a child hung in its first preparation).
 */
static struct copy *copy_add_locked(alloc_fn_t *a, prep_fn_t *p, free_fn_t *f)
{
	struct copy *cp = NULL;
	int i, n;

	n = n_copies;
	for (i = 0; i < n; i++)
		if (copies[i].prep == p) {
			cp = &copies[i];
			goto out;
		}
	if (n == MAX_COPIES) {
		say("more than 8 copies of libffi in one process; closures of the others fail");
		goto out;
	}
	cp = &copies[n];
	cp->alloc = a;
	cp->prep = p;
	cp->free = f;
#ifdef TRAMPFD_FFI_WRAP
	cp->interposer = interposer(p);
#endif
	dl_iterate_phdr(find_x, cp);
	__atomic_store_n(&n_copies, n + 1, __ATOMIC_RELEASE);
out:
	return cp;
}

/*
 * libffi's own closures (passed through) with the copy each came from, so
 * that each is freed by that copy's ffi_closure_free whoever frees it (a
 * wrapper that tail-calls ffi_closure_free returns to its own caller, which
 * may bind another copy).  An open-addressing table on pages of its own,
 * touched only on this path.
 */
struct pt_entry {
	void *closure;			/* NULL: free, TOMB: deleted */
	struct copy *cp;
};
static struct pt_entry *pt;
static size_t pt_cap, pt_used;		/* used counts tombstones too */

/* Remember @c as @cp's; pt_lock held.  0, or -1: no memory (untracked). */
static int pt_insert(void *c, struct copy *cp)
{
	struct pt_entry *n;
	size_t i, j, cap;

	if ((pt_used + 1) * 2 > pt_cap) {
		cap = pt_cap ? pt_cap : 256;
		while ((size_t)(__atomic_load_n(&real_live, __ATOMIC_RELAXED) + 1) * 4 > cap)
			cap *= 2;
		n = pages(cap * sizeof(*n));
		if (!n)
			return -1;
		pt_used = 0;
		for (i = 0; i < pt_cap; i++) {
			if (!pt[i].closure || pt[i].closure == TOMB)
				continue;
			for (j = slot_of(pt[i].closure, cap); n[j].closure; j = (j + 1) & (cap - 1))
				;
			n[j] = pt[i];
			pt_used++;
		}
		if (pt)
			munmap(pt, pt_cap * sizeof(*pt));
		pt = n;
		pt_cap = cap;
	}
	for (j = slot_of(c, pt_cap); pt[j].closure && pt[j].closure != TOMB;
	     j = (j + 1) & (pt_cap - 1))
		;
	if (!pt[j].closure)
		pt_used++;
	pt[j].closure = c;
	pt[j].cp = cp;
	return 0;
}

/* The copy that made libffi closure @c, forgotten; NULL if not known. */
static struct copy *pt_take(void *c)
{
	struct copy *cp = NULL;
	size_t j;

	pthread_mutex_lock(&pt_lock);
	for (j = pt_cap ? slot_of(c, pt_cap) : 0; pt_cap && pt[j].closure;
	     j = (j + 1) & (pt_cap - 1))
		if (pt[j].closure == c) {
			cp = pt[j].cp;
			pt[j].closure = TOMB;
			break;
		}
	pthread_mutex_unlock(&pt_lock);
	return cp;
}

/* A closure of @cp's own (passed through). */
static void *real_closure(struct copy *cp, size_t size, void **code)
{
	void *c = cp->alloc(size, code);

	if (c) {
		pthread_mutex_lock(&pt_lock);
		/* Untracked if out of memory: then freed by the freeing caller's copy. */
		pt_insert(c, cp);
		__atomic_fetch_add(&real_live, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&pt_lock);
	}
	return c;
}

#ifndef TRAMPFD_FFI_WRAP
#define FFI_VER "LIBFFI_CLOSURE_8.0"

/*
 * @name in @lib's lookup: libffi's symbol version, else the default one
 * (a libffi linked into a module without libffi's version script, as
 * libffi_pic.a is, has unversioned symbols, which dlvsym does not find).
 */
static void *ffi_sym(void *lib, const char *name)
{
	void *p = dlvsym(lib, name, FFI_VER);

	return p ? p : dlsym(lib, name);
}

/*
 * The copy that @lib's lookup finds (a handle, or RTLD_NEXT: the global
 * scope after this library), or NULL if it finds none of libffi's closure
 * functions but ours.
 */
static struct copy *copy_in(void *lib)
{
	alloc_fn_t *a = (alloc_fn_t *)ffi_sym(lib, "ffi_closure_alloc");
	prep_fn_t *p = (prep_fn_t *)ffi_sym(lib, "ffi_prep_closure_loc");
	free_fn_t *f = (free_fn_t *)ffi_sym(lib, "ffi_closure_free");

	if (!a || !p || !f || a == ffi_closure_alloc || p == ffi_prep_closure_loc ||
	    f == ffi_closure_free)
		return NULL;
	return copy_add_locked(a, p, f);
}

/* The object @addr is in, or NULL. */
static struct link_map *object_of(const void *addr)
{
	struct link_map *lm = NULL;
	Dl_info info;

	if (!dladdr1(addr, &info, (void **)&lm, RTLD_DL_LINKMAP))
		lm = NULL;
	return lm;
}

/*
 * The copy of libffi that the code returning to @ra binds to, as the
 * dynamic linker would have bound its call without this library:
 *  1. the caller's own object, if it defines ffi_prep_closure_loc (a libffi
 *     calling itself: ffi_prep_raw_closure_loc, or a module with a libffi
 *     linked in): its own functions;
 *  2. else a copy in the global scope (after this library), which the
 *     dynamic linker searches before the caller's own dependencies;
 *  3. else the first copy among the caller's dependencies (a module loaded
 *     RTLD_LOCAL with its own libffi: Python's _ctypes, a wheel's module
 *     with its bundled copy);
 *  4. else libffi.so.8, loaded RTLD_LOCAL if need be (a caller outside any
 *     object, or one that found libffi through dlsym).
 * dlopen(RTLD_NOLOAD) of the caller also keeps it loaded for good, so a
 * call site resolved stays the code it was.  init_lock held, which the
 * fork handler takes: no fork copies the loader's locks while a thread is
 * inside the loader here (a child would hang at its first closure).  The
 * price: a module
 * constructor (run under the loader's lock) that makes a closure from a
 * new call site while another thread resolves one waits for that thread,
 * which waits for the loader; CPython holds its GIL across both, so its
 * callbacks never meet this.
 */
static struct copy *resolve_copy(const void *ra)
{
	struct link_map *lm = object_of(ra);
	struct copy *cp;
	void *h = NULL, *p = NULL, *lib;

	if (lm && lm->l_name && lm->l_name[0])
		h = dlopen(lm->l_name, RTLD_LAZY | RTLD_NOLOAD);
	if (h) {
		p = ffi_sym(h, "ffi_prep_closure_loc");
		if (p == (void *)ffi_prep_closure_loc)
			p = NULL;
		if (p && object_of(p) == lm) {
			cp = copy_in(h);
			if (cp)
				return cp;
		}
	}
	cp = copy_in(RTLD_NEXT);
	if (cp)
		return cp;
	if (p) {
		cp = copy_in(h);
		if (cp)
			return cp;
	}
	lib = dlopen("libffi.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	if (!lib)
		lib = dlopen("libffi.so.8", RTLD_NOW | RTLD_LOCAL);
	return lib ? copy_in(lib) : NULL;
}

/*
 * Call sites resolved (return address -> copy): a compare for the last one
 * used, a scan of the others, the loader only for a new one.  Added under
 * init_lock; read without it (the copy is written before the address that
 * publishes it, and neither changes after).
 */
#define MAX_CALLERS 64
static struct caller {
	const void *ra;
	struct copy *cp;
} callers[MAX_CALLERS];
static int n_callers;
static struct caller *last_caller = &callers[0];

static struct copy *copy_of_slow(const void *ra)
{
	int i, n = __atomic_load_n(&n_callers, __ATOMIC_ACQUIRE);
	struct copy *cp;

	for (i = 0; i < n; i++)
		if (__atomic_load_n(&callers[i].ra, __ATOMIC_ACQUIRE) == ra)
			goto found;
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&init_lock);
	cp = resolve_copy(ra);
	if (!cp) {
		static int said;

		pthread_mutex_unlock(&init_lock);
		if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
			say("libffi's closure functions not found; closures fail");
		return NULL;
	}
	n = n_callers;
	for (i = 0; i < n && callers[i].ra != ra; i++)
		;
	if (i == n) {
		if (n == MAX_CALLERS) {
			/* Full: right, but resolved again at every call. */
			pthread_mutex_unlock(&init_lock);
			return cp;
		}
		callers[n].cp = cp;
		__atomic_store_n(&callers[n].ra, ra, __ATOMIC_RELEASE);
		__atomic_store_n(&n_callers, n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&init_lock);
found:
	__atomic_store_n(&last_caller, &callers[i], __ATOMIC_RELAXED);
	return callers[i].cp;
}

/* The copy for a call that returns to @ra if it is the last one used, or NULL. */
static inline struct copy *copy_peek(const void *ra)
{
	struct caller *l = __atomic_load_n(&last_caller, __ATOMIC_RELAXED);

	if (__builtin_expect(__atomic_load_n(&l->ra, __ATOMIC_ACQUIRE) == ra, 1))
		return l->cp;
	return NULL;
}

/* The copy of libffi for a call that returns to @ra, or NULL: none found. */
static inline struct copy *copy_of(const void *ra)
{
	struct copy *cp = copy_peek(ra);

	return cp ? cp : copy_of_slow(ra);
}
#else
/*
 * Static links: the one copy that -Wl,--wrap's __real_ symbols bind to
 * (the libffi linked into this object, or the shared one it was linked
 * against).
 */
static struct copy *copy_of_slow(void)
{
	struct copy *cp;

	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&init_lock);
	cp = copy_add_locked(real_alloc, real_prep, real_free);
	pthread_mutex_unlock(&init_lock);
	return cp;
}

static inline struct copy *copy_peek(const void *ra)
{
	return __builtin_expect(__atomic_load_n(&n_copies, __ATOMIC_ACQUIRE) > 0, 1) ?
	       &copies[0] : NULL;
}

static inline struct copy *copy_of(const void *ra)
{
	struct copy *cp = copy_peek(ra);

	return cp ? cp : copy_of_slow();
}
#endif

/* Whether a failure with @e may go away by itself (a later try may work). */
static int transient(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EAGAIN || e == EINTR;
}


/*
 * The pool, set up at the first allocation that finds trampfd usable; NULL
 * (libffi's own closures) if it is not.  A transient failure is retried at
 * the next call, any other one turns trampfd off for the process.
 */
static struct trampfd_pool *get_pool(void)
{
	struct trampfd_pool *p = __atomic_load_n(&pool, __ATOMIC_ACQUIRE);
	const char *env;

	if (p || __atomic_load_n(&off, __ATOMIC_ACQUIRE))
		return p;
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&init_lock);
	p = pool;
	if (p || off)
		goto out;
	env = getenv("TRAMPFD_FFI");
	if (env && !strcmp(env, "off")) {
		__atomic_store_n(&off, 1, __ATOMIC_RELEASE);
		goto out;
	}
	p = trampfd_pool_new(CODE_REG, DATA_REG);
	if (!p) {
		int e = errno;

		if (getenv("TRAMPFD_FFI_DEBUG"))
			fprintf(stderr, "libtrampfd-ffi: no trampfd (%s); %s\n", strerror(e),
				transient(e) ? "this closure is libffi's, trying again at the next"
					     : "using libffi's own closures");
		if (!transient(e))
			__atomic_store_n(&off, 1, __ATOMIC_RELEASE);
		errno = e;
		goto out;
	}
	__atomic_store_n(&pool, p, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&init_lock);
	return p;
}

/* Whether @t starts with tramp_template: three word compares, no call. */
static inline int is_template(const unsigned char *t)
{
	uint64_t w[3] = { 0 }, v[3] = { 0 };

	_Static_assert(sizeof(tramp_template) <= sizeof(w), "template of at most 3 words");
	memcpy(w, t, sizeof(tramp_template));
	memcpy(v, tramp_template, sizeof(tramp_template));
	return ((w[0] ^ v[0]) | (w[1] ^ v[1]) | (w[2] ^ v[2])) == 0;
}

/* Whether @entry lies in an executable segment of @cp's object. */
static int entry_in_copy(struct copy *cp, const void *entry)
{
	int i, n = __atomic_load_n(&cp->n_ok, __ATOMIC_ACQUIRE);
	uintptr_t a = (uintptr_t)entry;

	for (i = 0; i < n; i++)
		if (__atomic_load_n(&cp->ok_entry[i], __ATOMIC_RELAXED) == a)
			return 1;
	for (i = 0; i < cp->nx; i++)
		if (a >= cp->lo[i] && a < cp->hi[i])
			break;
	if (i == cp->nx)
		return 0;
	pthread_mutex_lock(&init_lock);
	n = cp->n_ok;
	for (i = 0; i < n && cp->ok_entry[i] != a; i++)
		;
	if (i == n && n < MAX_ENTRIES) {
		__atomic_store_n(&cp->ok_entry[n], a, __ATOMIC_RELAXED);
		__atomic_store_n(&cp->n_ok, n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&init_lock);
	return 1;
}

/*
 * The entry @cp's ffi_prep_closure_loc wrote into @c, if everything around
 * it is as expected; else NULL (and one message per copy, which from then
 * on refuses closures).  The template and the three fields are checked for
 * every closure (a few compares); whether the entry is in the executable
 * segments of @cp's object, once per entry (entry_in_copy).
 */
static void *verified_entry(struct copy *cp, ffi_closure *c, ffi_cif *cif, closure_fun_t *fun,
			    void *ud)
{
	Dl_info info;
	const unsigned char *t = (const unsigned char *)c->tramp;
	void *entry;

	memcpy(&entry, t + ENTRY_OFFSET, sizeof(entry));
	if (!is_template(t) ||
	    c->cif != cif || c->fun != fun || c->user_data != ud || !entry_in_copy(cp, entry))
		goto mismatch;
	return entry;
mismatch:
	__atomic_store_n(&any_broken, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_exchange_n(&cp->broken, 1, __ATOMIC_SEQ_CST)) {
		pthread_mutex_lock(&init_lock);
		if (!dladdr((void *)cp->prep, &info) || !info.dli_fname)
			info.dli_fname = "?";
		pthread_mutex_unlock(&init_lock);
		fprintf(stderr, "libtrampfd-ffi: the closure layout of the libffi in %s is not the one libtrampfd-ffi was built for (trampoline template, entry outside its code, or field offsets differ); its closures fail\n",
			info.dli_fname);
	}
	return NULL;
}

/* The entry @cp chose for a cif with @cif's bytes (struct shape), or NULL. */
static inline void *shape_entry(const struct copy *cp, const ffi_cif *cif)
{
	int i, n = __atomic_load_n(&cp->n_shapes, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++)
		if (!memcmp(&cp->shapes[i].cif, cif, sizeof(*cif)))
			return cp->shapes[i].entry;
	return NULL;
}

static void shape_add(struct copy *cp, const ffi_cif *cif, void *entry)
{
	int n;

	pthread_mutex_lock(&init_lock);
	n = cp->n_shapes;
	if (n < MAX_SHAPES && !shape_entry(cp, cif)) {
		memcpy(&cp->shapes[n].cif, cif, sizeof(*cif));
		cp->shapes[n].entry = entry;
		__atomic_store_n(&cp->n_shapes, n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&init_lock);
}

/* ffi_closure_alloc() for a caller that returns to @ra. */
static void *alloc_slow(size_t size, void **code, const void *ra)
{
	struct trampfd_closure *h;
	struct copy *cp;
	struct trampfd_pool *p;
	struct arena *a;
	size_t i, len;
	void *mem, *addr;

	/* Stock libffi returns NULL for a NULL code pointer too. */
	if (!code) {
		errno = EINVAL;
		return NULL;
	}
	cp = copy_of(ra);
	if (!cp)
		return NULL;
	p = cp->interposer ? NULL : get_pool();
	if (!p)
		return __atomic_load_n(&cp->broken, __ATOMIC_ACQUIRE) ? NULL :
			real_closure(cp, size, code);
	if (exec_allocator_site(ra)) {
		mem = real_closure(cp, size, code);
		if (!mem)
			fprintf(stderr, "libtrampfd-ffi: libffi has no closure for an executable-memory allocator (%s) either\n",
				strerror(errno));
		return mem;
	}
	if (__atomic_load_n(&cp->broken, __ATOMIC_ACQUIRE)) {
		errno = ENOEXEC;
		return NULL;
	}
	if (size < sizeof(ffi_closure))
		size = sizeof(ffi_closure);
	/* The smallest arena that fits; a full one: the next larger one. */
	a = size <= small.stride ? &small : size <= mid.stride ? &mid :
	    size <= big.stride ? &big : NULL;
	for (mem = NULL; a; a = a == &small ? &mid : a == &mid ? &big : NULL) {
		mem = arena_get(a, size, &h, &i);
		if (mem)
			break;
	}
	if (mem) {
		/*
		 * Code unprepared_call until prepared: an early call aborts
		 * with a message.  A reused object's slot has that already
		 * (set at free).
		 */
		addr = h ? tf_slot_addr(h) : trampfd_pool_alloc(p, UNPREPARED, mem, &h);
		if (!addr) {
			int e = errno;

			arena_put(a, i, NULL);
			errno = e;
			return NULL;
		}
		__atomic_store_n(&a->meta[i].word, (uintptr_t)h, __ATOMIC_RELEASE);
		*code = addr;
		return mem;
	}
	/* Larger than an arena object, or the arenas are full. */
	len = (size + 4095) & ~(size_t)4095;
	mem = pages(len);
	if (!mem)
		return NULL;
	addr = trampfd_pool_alloc(p, UNPREPARED, mem, &h);
	if (!addr) {
		int e = errno;

		munmap(mem, len);
		errno = e;
		return NULL;
	}
	if (map_insert(mem, h, len) < 0) {
		trampfd_closure_free(h);
		munmap(mem, len);
		errno = ENOMEM;
		return NULL;
	}
	*code = addr;
	return mem;
}

/*
 * What the real ffi_prep_closure_loc wrote for @cif's shape (shape_entry):
 * libffi's trampoline template with @entry, then cif, fun and user_data.
 */
static inline void write_shape(ffi_closure *c, void *entry, ffi_cif *cif,
			       closure_fun_t *fun, void *ud)
{
	memcpy(c->tramp, tramp_template, sizeof(tramp_template));
	memset(c->tramp + sizeof(tramp_template), 0, ENTRY_OFFSET - sizeof(tramp_template));
	memcpy(c->tramp + ENTRY_OFFSET, &entry, sizeof(entry));
	memset(c->tramp + ENTRY_OFFSET + sizeof(entry), 0,
	       sizeof(c->tramp) - ENTRY_OFFSET - sizeof(entry));
	c->cif = cif;
	c->fun = fun;
	c->user_data = ud;
}

/* ffi_prep_closure_loc() for a caller of copy @cp (NULL: none found). */
static ffi_status prep_slow(ffi_closure *c, ffi_cif *cif, closure_fun_t *fun, void *ud,
			    void *codeloc, struct copy *cp)
{
	struct trampfd_closure *h;
	ffi_status st;
	void *entry, *slot;

	if (!cp)
		return FFI_BAD_ABI;
	/* No pool, no object of ours: no lock, no lookup. */
	h = __atomic_load_n(&pool, __ATOMIC_ACQUIRE) ? handle_of(c) : NULL;
	if (!h) {
		int aligned;

		/*
		 * Inside one of our objects but not at a live one's start: the
		 * object is used as memory of the program's own (GHC's libffi
		 * adjustors prepare allocateExec's writable + 8 for its code
		 * + 8).  libffi would write a trampoline nothing executes and
		 * a call would land inside a slot.
		 */
		if (__atomic_load_n(&pool, __ATOMIC_ACQUIRE) &&
		    (arena_index(&small, c, &aligned) >= 0 || arena_index(&mid, c, &aligned) >= 0 ||
		     arena_index(&big, c, &aligned) >= 0)) {
			fprintf(stderr, "libtrampfd-ffi: ffi_prep_closure_loc() on %p, inside a closure object but not a live closure; if %s\n",
				(void *)c, EXEC_ALLOC_HINT);
			return FFI_BAD_ABI;
		}
		return cp->prep(c, cif, fun, ud, codeloc);
	}
	slot = tf_slot_addr(h);
	/*
	 * The code address is the slot, or the closure itself (the deprecated
	 * ffi_prep_closure() passes that): either way the slot is prepared.
	 * Any other code address is the program's business: libffi's.
	 */
	if (codeloc != slot && codeloc != (void *)c)
		return cp->prep(c, cif, fun, ud, codeloc);
	/*
	 * user_data == codeloc: libffi's raw closures (and the program's own
	 * code in their manner) read the closure back through the code
	 * address; the closure's bytes are the object, not the slot.
	 */
	if (ud == codeloc)
		ud = c;
	if (__atomic_load_n(&cp->broken, __ATOMIC_ACQUIRE))
		return FFI_BAD_ABI;
	entry = shape_entry(cp, cif);
	if (entry) {
		write_shape(c, entry, cif, fun, ud);
	} else {
		memset(c->tramp, 0, sizeof(c->tramp));
		st = cp->prep(c, cif, fun, ud, codeloc);
		if (st != FFI_OK)
			return st;
		entry = verified_entry(cp, c, cif, fun, ud);
		if (!entry)
			return FFI_BAD_ABI;
		shape_add(cp, cif, entry);
	}
	tf_set_live(h, entry, c);
	return FFI_OK;
}

/* The same for a caller that returns to @ra (its copy not known yet). */
static ffi_status prep_slow_ra(ffi_closure *c, ffi_cif *cif, closure_fun_t *fun, void *ud,
			       void *codeloc, const void *ra)
{
	return prep_slow(c, cif, fun, ud, codeloc, copy_of(ra));
}

/*
 * The fast paths of the two hot entry points: a reused small object, a cif
 * shape seen before.  Everything else (the first use, a new object's slot,
 * other sizes, other code addresses, raw closures, a new cif) takes the
 * full path above; these only skip work whose result is known.  Small and
 * without calls, so that they save and restore next to no registers.
 */
EXPORT void *FN(ffi_closure_alloc)(size_t size, void **code)
{
	struct arena *a = &small;
	struct trampfd_closure *h;
	uint32_t i;
	char *obj;

	if (!code || size > 64 || !__atomic_load_n(&pool, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&any_broken, __ATOMIC_ACQUIRE))
		return alloc_slow(size, code, __builtin_return_address(0));
	lk_lock(&a->lock);
	i = a->free_head;
	if (!i) {
		lk_unlock(&a->lock);
		return alloc_slow(size, code, __builtin_return_address(0));
	}
	i--;
	h = (struct trampfd_closure *)(a->meta[i].word & ~FREE_TAG);
	if (!h) {
		/* An object without a slot (its allocation failed): the full path. */
		lk_unlock(&a->lock);
		return alloc_slow(size, code, __builtin_return_address(0));
	}
	a->free_head = a->meta[i].next_free;
	lk_unlock(&a->lock);
	obj = a->base + ((size_t)i << 6);
	memset(obj, 0, 64);
	__atomic_store_n(&a->meta[i].word, (uintptr_t)h, __ATOMIC_RELEASE);
	*code = tf_slot_addr(h);
	return obj;
}

EXPORT ffi_status FN(ffi_prep_closure_loc)(ffi_closure *c, ffi_cif *cif, closure_fun_t *fun,
					    void *ud, void *codeloc)
{
	const void *ra = __builtin_return_address(0);
	struct trampfd_closure *h;
	struct copy *cp;
	void *entry;

	h = __atomic_load_n(&pool, __ATOMIC_ACQUIRE) ? arena_handle(&small, c) : NULL;
	if (!h || codeloc != tf_slot_addr(h) || ud == codeloc ||
	    __atomic_load_n(&any_broken, __ATOMIC_ACQUIRE))
		return prep_slow_ra(c, cif, fun, ud, codeloc, ra);
	/* Known copy and shape, or the full path: no call on this one. */
	cp = copy_peek(ra);
	if (!cp)
		return prep_slow_ra(c, cif, fun, ud, codeloc, ra);
	entry = shape_entry(cp, cif);
	if (!entry)
		return prep_slow(c, cif, fun, ud, codeloc, cp);
	write_shape(c, entry, cif, fun, ud);
	tf_set_live(h, entry, c);
	return FFI_OK;
}

/* Free arena object @ptr of @a; aborts if it is not a live object. */
static void arena_free(struct arena *a, void *ptr, long i, int aligned)
{
	struct trampfd_closure *h;
	uintptr_t w;

	lk_lock(&a->lock);
	w = aligned ? a->meta[i].word : FREE_TAG;
	if (!w || (w & FREE_TAG)) {
		lk_unlock(&a->lock);
		die("ffi_closure_free: double free or not a closure:", ptr);
	}
	h = (struct trampfd_closure *)w;
	/* The object keeps its slot; a call through it aborts. */
	tf_set_live(h, UNPREPARED, ptr);
	__atomic_store_n(&a->meta[i].word, w | FREE_TAG, __ATOMIC_RELEASE);
	a->meta[i].next_free = a->free_head;
	a->free_head = (uint32_t)(i + 1);
	lk_unlock(&a->lock);
}

EXPORT void FN(ffi_closure_free)(void *ptr)
{
	struct trampfd_closure *h;
	struct copy *cp;
	size_t len = 0;
	int aligned;
	long i;

	if (!ptr)
		return;
	if (__atomic_load_n(&pool, __ATOMIC_ACQUIRE)) {
		i = arena_index(&small, ptr, &aligned);
		if (i >= 0) {
			arena_free(&small, ptr, i, aligned);
			return;
		}
		i = arena_index(&mid, ptr, &aligned);
		if (i >= 0) {
			arena_free(&mid, ptr, i, aligned);
			return;
		}
		i = arena_index(&big, ptr, &aligned);
		if (i >= 0) {
			arena_free(&big, ptr, i, aligned);
			return;
		}
		h = map_find(ptr, 1, &len);
		if (h) {
			trampfd_closure_free(h);
			munmap(ptr, len);
			return;
		}
		/*
		 * A code address (stock libffi's ffi_closure_free takes those
		 * too): free its object.
		 */
		h = trampfd_closure_lookup(ptr);
		if (h && handle_of(trampfd_closure_data(h)) == h) {
			FN(ffi_closure_free)(trampfd_closure_data(h));
			return;
		}
		/*
		 * Not ours, and libffi has no live closure: whatever this is
		 * (a word read through a code address), libffi's free would
		 * work on memory it does not own.
		 */
		if (__atomic_load_n(&real_live, __ATOMIC_RELAXED) <= 0) {
			fprintf(stderr, "libtrampfd-ffi: ffi_closure_free(%p): not a closure; if %s\n",
				ptr, EXEC_ALLOC_HINT);
			abort();
		}
	}
	cp = pt_take(ptr);
	if (!cp)
		cp = copy_of(__builtin_return_address(0));
	if (!cp)
		return;
	__atomic_fetch_sub(&real_live, 1, __ATOMIC_RELAXED);
	cp->free(ptr);
}
