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
 * The closure object lives in ordinary malloc'd memory and is never
 * executed; the code address handed to the program is a trampfd slot whose
 * data entry is the closure pointer, delivered in the register libffi's
 * closure entry reads it from (x86-64 r10, arm64 x17 with the branch through
 * x16, riscv64 t1), and whose code entry is libffi's own entry for the cif.
 *
 * libffi keeps that entry private (a hidden symbol), but a normal
 * ffi_prep_closure_loc() writes it as data into the closure's trampoline
 * bytes, next to a fixed instruction template.  So ffi_prep_closure_loc()
 * here lets the real one fill the closure, then checks the template byte
 * for byte, checks that cif, fun and user_data are where ffi.h says, and
 * checks that the entry lies inside libffi's own text (dladdr, or the
 * executable's text in a static link) before it points the slot at it.  A
 * libffi whose layout differs gets one message on stderr and FFI_BAD_ABI
 * from every later closure preparation: no byte that was not verified is
 * ever called.
 *
 * Without a usable /dev/trampfd (or with TRAMPFD_FFI=off) every call goes
 * to the real libffi unchanged; so do closures that the program prepares
 * on memory it did not get from ffi_closure_alloc().
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <ffi.h>
#include <linux/trampfd.h>

#include "trampfd.h"
#include "ffi_wrap.h"

#define EXPORT __attribute__((visibility("default")))

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
/* LD_PRELOAD: the real functions are the next definitions in load order. */
#define FN(name) name
static alloc_fn_t *real_alloc;
static prep_fn_t *real_prep;
static free_fn_t *real_free;
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
/* t3, not t2: t2 is the landing-pad label register of Zicfilp. */
#define CODE_REG TRAMPFD_RISCV64_T3
#define DATA_REG TRAMPFD_RISCV64_T1		/* closure in t1 */
#else
#error "libtrampfd-ffi: unsupported architecture"
#endif

_Static_assert(ENTRY_OFFSET + 8 <= FFI_TRAMPOLINE_SIZE, "entry inside tramp[]");
_Static_assert(sizeof(tramp_template) <= ENTRY_OFFSET, "template before entry");

enum mode { MODE_TRAMPFD, MODE_PASS };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static enum mode mode = MODE_PASS;
static struct trampfd_pool *pool;
static int broken;			/* layout mismatch seen: refuse */

/* Closure pointer -> handle for objects too large for the arena (below). */
#define TOMB ((void *)1)
struct entry {
	void *closure;
	struct trampfd_closure *handle;
};
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
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
	struct entry *n = calloc(cap, sizeof(*n));
	size_t i, j;

	if (!n)
		return -1;
	map_used = 0;
	for (i = 0; i < map_cap; i++) {
		if (!map[i].closure || map[i].closure == TOMB)
			continue;
		for (j = slot_of(map[i].closure, cap); n[j].closure; j = (j + 1) & (cap - 1))
			;
		n[j] = map[i];
		map_used++;
	}
	free(map);
	map = n;
	map_cap = cap;
	return 0;
}

static int map_insert(void *closure, struct trampfd_closure *h)
{
	size_t j;
	int ret = 0;

	pthread_mutex_lock(&map_lock);
	if ((map_used + 1) * 2 > map_cap) {
		/* Grow only if live entries need it; else just drop tombstones. */
		size_t cap = map_cap ? map_cap : 64;

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
	map_live++;
out:
	pthread_mutex_unlock(&map_lock);
	return ret;
}

/* The handle of @closure, removed from the table if @take; or NULL. */
static struct trampfd_closure *map_find(void *closure, int take)
{
	struct trampfd_closure *h = NULL;
	size_t j;

	pthread_mutex_lock(&map_lock);
	if (!map_cap)
		goto out;
	for (j = slot_of(closure, map_cap); map[j].closure; j = (j + 1) & (map_cap - 1)) {
		if (map[j].closure != closure)
			continue;
		h = map[j].handle;
		if (take) {
			map[j].closure = TOMB;
			map_live--;
		}
		break;
	}
out:
	pthread_mutex_unlock(&map_lock);
	return h;
}

/*
 * Closure objects of the usual size come from an arena instead: one
 * read-write anonymous mapping with MAP_NORESERVE (pages are allocated only
 * as objects are first used), OBJ_STRIDE bytes per object, the handle
 * stored in the last word of the object's stride.  Whether a pointer is one
 * of ours is then a range check, and its handle a load: no malloc, no
 * table.  When the arena is full (or could not be mapped), objects come
 * from malloc.
 *
 * An arena object keeps its trampfd slot for life: the slot's data entry
 * is the object, so a freed object goes on the free list (chained through
 * its first word) with its slot, the slot's code entry set to NULL (a call
 * through a freed closure faults at address 0), and the handle word tagged
 * FREE_TAG.  Reusing it is then a pop and a memset under one lock, with no
 * trip through libtrampfd's pool.
 */
#define OBJ_STRIDE 64
#define OBJ_MAX (OBJ_STRIDE - sizeof(void *))	/* usable closure bytes */
#define ARENA_OBJS (1u << 18)			/* 16 MiB of address space */
#define FREE_TAG ((uintptr_t)1)			/* handle word of a free object */
_Static_assert(sizeof(ffi_closure) <= OBJ_MAX, "an ffi_closure fits an arena object");

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static char *arena;			/* NULL: no arena, malloc for all */
static size_t arena_top;		/* bytes handed out at least once */
static void *arena_free;		/* free objects, chained */

/* The handle word: the slot's handle, | FREE_TAG while the object is free. */
static uintptr_t *obj_word(void *obj)
{
	return (uintptr_t *)((char *)obj + OBJ_MAX);
}

/* The handle of a live arena object @p, or NULL if @p is not one. */
static struct trampfd_closure *arena_handle(const void *p)
{
	size_t off = (size_t)((const char *)p - arena);
	uintptr_t w;

	if (!arena || (const char *)p < arena ||
	    off >= __atomic_load_n(&arena_top, __ATOMIC_ACQUIRE) || off % OBJ_STRIDE)
		return NULL;
	w = __atomic_load_n(obj_word((void *)p), __ATOMIC_ACQUIRE);
	return w & FREE_TAG ? NULL : (struct trampfd_closure *)w;
}

/*
 * An object with its closure bytes zeroed, or NULL if the arena is full.
 * *@h is the slot it kept from an earlier life, or NULL if it has none.
 */
static void *arena_get(struct trampfd_closure **h)
{
	void *obj = NULL;

	*h = NULL;
	pthread_mutex_lock(&arena_lock);
	if (arena_free) {
		obj = arena_free;
		arena_free = *(void **)obj;
		*h = (struct trampfd_closure *)(*obj_word(obj) & ~FREE_TAG);
	} else if (arena_top < (size_t)ARENA_OBJS * OBJ_STRIDE) {
		obj = arena + arena_top;
		*obj_word(obj) = FREE_TAG;
		__atomic_store_n(&arena_top, arena_top + OBJ_STRIDE, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&arena_lock);
	if (obj)
		memset(obj, 0, OBJ_MAX);
	return obj;
}

/* Back on the free list, with the slot @h (or none: NULL). */
static void arena_put(void *obj, struct trampfd_closure *h)
{
	__atomic_store_n(obj_word(obj), (uintptr_t)h | FREE_TAG, __ATOMIC_RELEASE);
	pthread_mutex_lock(&arena_lock);
	*(void **)obj = arena_free;
	arena_free = obj;
	pthread_mutex_unlock(&arena_lock);
}

/* fork: the child must not inherit a lock held by another thread. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&map_lock);
	pthread_mutex_lock(&arena_lock);
}

static void atfork_release(void)
{
	pthread_mutex_unlock(&arena_lock);
	pthread_mutex_unlock(&map_lock);
}

static void say(const char *msg)
{
	fprintf(stderr, "libtrampfd-ffi: %s\n", msg);
}

static void init(void)
{
	const char *off = getenv("TRAMPFD_FFI");

#ifndef TRAMPFD_FFI_WRAP
	/*
	 * RTLD_NEXT finds libffi when the program links it; a plugin loaded
	 * with RTLD_LOCAL (Python's _ctypes) keeps it out of the global scope,
	 * so then ask for the copy that plugin loaded, by soname.
	 */
	void *lib = RTLD_NEXT;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		real_alloc = (alloc_fn_t *)dlvsym(lib, "ffi_closure_alloc", "LIBFFI_CLOSURE_8.0");
		real_prep = (prep_fn_t *)dlvsym(lib, "ffi_prep_closure_loc", "LIBFFI_CLOSURE_8.0");
		real_free = (free_fn_t *)dlvsym(lib, "ffi_closure_free", "LIBFFI_CLOSURE_8.0");
		if (real_alloc && real_prep && real_free)
			break;
		lib = dlopen("libffi.so.8", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
		if (!lib)
			lib = dlopen("libffi.so.8", RTLD_NOW | RTLD_LOCAL);
		if (!lib)
			break;
	}
	if (!real_alloc || !real_prep || !real_free) {
		say("libffi's closure functions not found; closures fail");
		broken = 1;
		return;
	}
#endif
	if (off && !strcmp(off, "off"))
		return;
	pool = trampfd_pool_new(CODE_REG, DATA_REG);
	if (!pool) {
		if (getenv("TRAMPFD_FFI_DEBUG"))
			fprintf(stderr, "libtrampfd-ffi: no trampfd (%s); %s\n", strerror(errno),
				"using libffi's own closures");
		return;
	}
	mode = MODE_TRAMPFD;
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
	arena = mmap(NULL, (size_t)ARENA_OBJS * OBJ_STRIDE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED)
		arena = NULL;
}

static int init_done;			/* init() has run: the fast path */

static void init_once(void)
{
	init();
	__atomic_store_n(&init_done, 1, __ATOMIC_RELEASE);
}

/* pthread_once without its call on every closure operation. */
static void ensure_init(void)
{
	if (!__atomic_load_n(&init_done, __ATOMIC_ACQUIRE))
		pthread_once(&once, init_once);
}

/*
 * The entry libffi wrote into @c, if everything around it is as expected;
 * else NULL (and the one message).
 */
static void *verified_entry(ffi_closure *c, ffi_cif *cif, closure_fun_t *fun, void *ud)
{
	const unsigned char *t = (const unsigned char *)c->tramp;
	void *entry;

	memcpy(&entry, t + ENTRY_OFFSET, sizeof(entry));
	if (memcmp(t, tramp_template, sizeof(tramp_template)) ||
	    c->cif != cif || c->fun != fun || c->user_data != ud)
		goto mismatch;
#ifdef TRAMPFD_FFI_WRAP
	{
		/* Static link: libffi is part of the executable's text. */
		if ((const char *)entry < __executable_start || (const char *)entry >= etext)
			goto mismatch;
	}
#else
	{
		Dl_info a, b;

		if (!dladdr(entry, &a) || !dladdr((void *)real_prep, &b) ||
		    a.dli_fbase != b.dli_fbase)
			goto mismatch;
	}
#endif
	return entry;
mismatch:
	if (!__atomic_exchange_n(&broken, 1, __ATOMIC_SEQ_CST))
		say("this libffi's closure layout is not the one libtrampfd-ffi was built for (trampoline template, entry or field offsets differ); closures fail");
	return NULL;
}

EXPORT void *FN(ffi_closure_alloc)(size_t size, void **code)
{
	struct trampfd_closure *h;
	void *mem, *addr;

	ensure_init();
	if (mode != MODE_TRAMPFD)
		return broken ? NULL : real_alloc(size, code);
	if (broken) {
		errno = ENOEXEC;
		return NULL;
	}
	if (size < sizeof(ffi_closure))
		size = sizeof(ffi_closure);
	mem = arena && size <= OBJ_MAX ? arena_get(&h) : NULL;
	if (mem) {
		/*
		 * Code NULL until prepared: an early call faults at address 0.
		 * A reused object's slot has that already (set at free).
		 */
		addr = h ? trampfd_closure_addr(h) : trampfd_pool_alloc(pool, NULL, mem, &h);
		if (!addr) {
			int e = errno;

			arena_put(mem, NULL);
			errno = e;
			return NULL;
		}
		__atomic_store_n(obj_word(mem), (uintptr_t)h, __ATOMIC_RELEASE);
		*code = addr;
		return mem;
	}
	/* Larger than an arena object, or the arena is full: malloc + table. */
	mem = malloc(size);
	if (!mem)
		return NULL;
	memset(mem, 0, size);
	addr = trampfd_pool_alloc(pool, NULL, mem, &h);
	if (!addr) {
		int e = errno;

		free(mem);
		errno = e;
		return NULL;
	}
	if (map_insert(mem, h) < 0) {
		trampfd_closure_free(h);
		free(mem);
		errno = ENOMEM;
		return NULL;
	}
	*code = addr;
	return mem;
}

EXPORT ffi_status FN(ffi_prep_closure_loc)(ffi_closure *c, ffi_cif *cif, closure_fun_t *fun,
					    void *ud, void *codeloc)
{
	struct trampfd_closure *h;
	ffi_status st;
	void *entry;

	ensure_init();
	if (broken && mode != MODE_TRAMPFD)
		return FFI_BAD_ABI;
	h = NULL;
	if (mode == MODE_TRAMPFD) {
		h = arena_handle(c);
		if (!h)
			h = map_find(c, 0);
	}
	/* Not ours (the program's own memory) or a foreign codeloc: libffi's. */
	if (!h || codeloc != trampfd_closure_addr(h))
		return real_prep(c, cif, fun, ud, codeloc);
	if (broken)
		return FFI_BAD_ABI;
	memset(c->tramp, 0, sizeof(c->tramp));
	st = real_prep(c, cif, fun, ud, codeloc);
	if (st != FFI_OK)
		return st;
	entry = verified_entry(c, cif, fun, ud);
	if (!entry)
		return FFI_BAD_ABI;
	trampfd_closure_set(h, entry, c);
	return FFI_OK;
}

EXPORT void FN(ffi_closure_free)(void *ptr)
{
	struct trampfd_closure *h;

	ensure_init();
	if (mode == MODE_TRAMPFD && ptr) {
		h = arena_handle(ptr);
		if (h) {
			/* The object keeps its slot; a call through it faults at 0. */
			trampfd_closure_set(h, NULL, ptr);
			arena_put(ptr, h);
			return;
		}
	}
	h = mode == MODE_TRAMPFD && ptr ? map_find(ptr, 1) : NULL;
	if (!h) {
#ifndef TRAMPFD_FFI_WRAP
		if (!real_free)
			return;
#endif
		real_free(ptr);
		return;
	}
	trampfd_closure_free(h);
	free(ptr);
}
