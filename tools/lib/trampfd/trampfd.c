// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtrampfd: closures on /dev/trampfd pages (see trampfd.h for the API).
 *
 * Structure: a pool owns a list of pages; a page is one mapped trampfd
 * (nslots trampolines) with its code and data tables and one handle per
 * slot.  Free handles of a pool form a LIFO list, so a freed slot is the
 * next one handed out.  Handles and pages live until the pool is destroyed
 * (the default pool never is), so a stale handle is never a dangling
 * pointer.
 *
 * Lock order: g_lock (factory fd, pool list) before any pool's lock.  The
 * allocation path takes g_lock only before it takes the pool lock (to make
 * sure a factory exists), never while holding it.
 *
 * fork: pthread_atfork takes every lock before fork and releases it in both
 * processes, so the child never inherits a lock held by a thread that does
 * not exist there.  The child keeps the mapped pages (the kernel copies the
 * mapping, and the tables are at the same addresses in its copy of the
 * memory); it makes new pages with TRAMPFD_IOC_CREATE on the inherited
 * factory fd, which the kernel gives to the calling address space.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/trampfd.h>

#include "trampfd.h"
#include "trampfd_int.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#ifdef TRAMPFD_HIDDEN
/* The copy inside libtrampfd-ffi.a: linked into its user, never exported. */
#define TRAMPFD_EXPORT
#else
#define TRAMPFD_EXPORT __attribute__((visibility("default")))
#endif

struct trampfd_pool {
	pthread_mutex_t lock;
	unsigned int code_reg;
	unsigned int data_reg;
	struct tf_page *pages;		/* under lock */
	struct trampfd_closure *free_list;	/* under lock */
	unsigned long live;		/* under lock */
	struct trampfd_pool *next;	/* under g_lock */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_factory = -1;		/* set once, under g_lock */
static struct trampfd_info g_info;	/* valid once g_factory >= 0 */
static size_t g_page_size;
static struct trampfd_pool *g_pools;	/* every pool, under g_lock */
static struct trampfd_pool g_default = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
#ifdef TRAMPFD_NATIVE_ARCH
	.code_reg = TRAMPFD_NATIVE_CODE_REG,
	.data_reg = TRAMPFD_NATIVE_DATA_REG,
#endif
};
static int g_default_listed;		/* written under g_lock, once */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
/* The metadata allocator (meta_get); a leaf lock, taken last. */
static pthread_mutex_t g_meta_lock = PTHREAD_MUTEX_INITIALIZER;

static void atfork_prepare(void)
{
	struct trampfd_pool *p;

	pthread_mutex_lock(&g_lock);
	for (p = g_pools; p; p = p->next)
		pthread_mutex_lock(&p->lock);
	pthread_mutex_lock(&g_meta_lock);
}

static void atfork_release(void)
{
	struct trampfd_pool *p;

	pthread_mutex_unlock(&g_meta_lock);
	for (p = g_pools; p; p = p->next)
		pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&g_lock);
}

static void lib_init(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	g_page_size = ps > 0 ? (size_t)ps : 4096;
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

/* Fill g_info from @fd; 0 or -1 with errno (EBADF: not a trampfd). */
static int read_info(int fd)
{
	struct trampfd_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, TRAMPFD_IOC_GET_INFO, &info) < 0) {
		if (errno == ENOTTY || errno == EINVAL)
			errno = EBADF;
		return -1;
	}
	if (info.size < offsetof(struct trampfd_info, reserved) || !info.code_size ||
	    !info.ntrampolines) {
		errno = EPROTO;
		return -1;
	}
	g_info = info;
	return 0;
}

/*
 * The factory fd from TRAMPFD_FD, or -1 (not set, not a number).  Read with
 * secure_getenv: a set-user-ID or file-capability program ignores it.
 */
static int env_fd(void)
{
	const char *s = secure_getenv("TRAMPFD_FD");
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

/*
 * Make sure g_factory is valid; caller holds g_lock.  0 or -1 + errno.  A
 * TRAMPFD_FD that does not name a trampfd (junk, an fd that is not open or
 * is something else, typically an environment inherited without its fd)
 * is ignored: the device is opened instead.
 */
static int factory_locked(void)
{
	int fd, saved = errno;

	if (g_factory >= 0)
		return 0;
	fd = env_fd();
	if (fd >= 0 && read_info(fd) == 0) {
		g_factory = fd;
		errno = saved;
		return 0;
	}
	fd = open("/dev/trampfd", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (read_info(fd) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	g_factory = fd;
	errno = saved;
	return 0;
}

static int ensure_factory(void)
{
	int ret;

	/* Fast path: set once, never changed, and the default pool listed. */
	if (__atomic_load_n(&g_default_listed, __ATOMIC_ACQUIRE))
		return 0;
	pthread_once(&g_once, lib_init);
	pthread_mutex_lock(&g_lock);
	ret = factory_locked();
	if (!ret && !g_default_listed) {
		g_default.next = g_pools;
		g_pools = &g_default;
		__atomic_store_n(&g_default_listed, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&g_lock);
	return ret;
}

TRAMPFD_EXPORT int trampfd_use_fd(int fd)
{
	int ret = -1;

	pthread_once(&g_once, lib_init);
	pthread_mutex_lock(&g_lock);
	if (g_factory >= 0)
		errno = EBUSY;
	else if (fd < 0)
		errno = EBADF;
	else if (read_info(fd) == 0) {
		g_factory = fd;
		ret = 0;
	}
	pthread_mutex_unlock(&g_lock);
	return ret;
}

TRAMPFD_EXPORT int trampfd_available(void)
{
	return ensure_factory() == 0;
}

/*
 * A page's metadata block: the header, the code and data tables (2 * @n
 * words), then the @n handles.  Tables before handles, and handles set up
 * only when first handed out (trampfd_pool_alloc): a pool's first closure
 * touches the header, its two table entries and one handle, which share
 * the block's first 4 KiB on every architecture (x86-64: 64 + 2 * 1024 +
 * 32 bytes), so it costs one page fault of the metadata, not two.
 */
static size_t tables_at(void)
{
	return (sizeof(struct tf_page) + 63) & ~(size_t)63;
}

/* Offset of the handles in a page's metadata block (after the tables). */
static size_t handles_at(unsigned int n)
{
	return tables_at() + 2 * (size_t)n * sizeof(uint64_t);
}

/* Bytes of a page's metadata block: header, code and data tables, handles. */
static size_t meta_len(unsigned int n)
{
	return handles_at(n) + (size_t)n * sizeof(struct trampfd_closure);
}

/*
 * Metadata (pools, page headers, handles, code and data tables) comes from
 * chunks: one mapping of META_CHUNK bytes between two PROT_NONE guard
 * pages, away from the malloc heap, handed out in 64-byte-aligned blocks.
 * An overflow of a heap block or of anything mapped next to a chunk stops
 * at a guard before it reaches a code entry or a handle that set/free
 * write through.  One chunk holds the blocks of 15 pages of 128 slots
 * (x86-64), so the mmap, the guards and the page faults of the metadata
 * are shared by many pages instead of paid per page.  A block is never
 * unmapped: a destroyed pool's blocks go on a free list per size (the only
 * sizes are a pool and a page's block) and are zeroed when reused.
 */
#define META_CHUNK	(80 * 1024)

struct meta_free {
	struct meta_free *next;
};

static char *g_chunk_next, *g_chunk_end;	/* under g_meta_lock */
static struct meta_free *g_free_pools, *g_free_pages;	/* under g_meta_lock */

/* A zeroed block of @len bytes (a pool or a page's metadata), or NULL. */
static void *meta_get(size_t len, struct meta_free **free_list)
{
	size_t ps = g_page_size, clen;
	void *ret = NULL;
	char *p;

	len = (len + 63) & ~(size_t)63;
	pthread_mutex_lock(&g_meta_lock);
	if (*free_list) {
		ret = *free_list;
		*free_list = (*free_list)->next;
		pthread_mutex_unlock(&g_meta_lock);
		memset(ret, 0, len);
		return ret;
	}
	if ((size_t)(g_chunk_end - g_chunk_next) < len) {
		clen = (len > META_CHUNK ? len : META_CHUNK);
		clen = (clen + ps - 1) & ~(ps - 1);
		p = mmap(NULL, clen + 2 * ps, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			goto out;
		if (mprotect(p + ps, clen, PROT_READ | PROT_WRITE)) {
			int e = errno;

			munmap(p, clen + 2 * ps);
			errno = e;
			goto out;
		}
		/* The rest of the old chunk is given up (at most one block). */
		g_chunk_next = p + ps;
		g_chunk_end = p + ps + clen;
	}
	ret = g_chunk_next;
	g_chunk_next += len;
out:
	pthread_mutex_unlock(&g_meta_lock);
	return ret;
}

/* Block @p back on @free_list (its first word becomes the link). */
static void meta_put(void *p, struct meta_free **free_list)
{
	struct meta_free *f = p;

	pthread_mutex_lock(&g_meta_lock);
	f->next = *free_list;
	*free_list = f;
	pthread_mutex_unlock(&g_meta_lock);
}

/* Slots of one page: what the kernel allows per fd, at most one page. */
static unsigned int slots_per_page(void)
{
	size_t n = g_page_size / g_info.code_size;

	return n < g_info.ntrampolines ? (unsigned int)n : g_info.ntrampolines;
}

/*
 * Map one more page for @pool (pool lock held, factory valid).  On failure
 * nothing is left behind: the fd is closed, the mapping and the tables are
 * gone, and errno says why.
 */
static struct tf_page *new_page(struct trampfd_pool *pool)
{
	unsigned int n = slots_per_page();
	struct trampfd_code code;
	struct trampfd_data data;
	struct tf_page *pg;
	void *base = MAP_FAILED;
	int fd, e;

	/*
	 * The page's code and data tables and its handles: a block of a
	 * guarded metadata chunk (meta_get), away from the malloc heap.
	 */
	pg = meta_get(meta_len(n), &g_free_pages);
	if (!pg)
		return NULL;
	pg->code_size = g_info.code_size;
	pg->code_table = (uint64_t *)((char *)pg + tables_at());
	pg->data_table = pg->code_table + n;
	pg->slots = (struct trampfd_closure *)((char *)pg + handles_at(n));
	fd = ioctl(g_factory, TRAMPFD_IOC_CREATE, TRAMPFD_CREATE_CLOEXEC);
	if (fd < 0)
		goto fail;
	memset(&code, 0, sizeof(code));
	code.ntrampolines = n;
	code.reg = pool->code_reg;
	code.table = (uintptr_t)pg->code_table;
	memset(&data, 0, sizeof(data));
	data.reg = pool->data_reg;
	data.table = (uintptr_t)pg->data_table;
	if (pwrite(fd, &code, sizeof(code), TRAMPFD_CODE_OFFSET) != sizeof(code) ||
	    pwrite(fd, &data, sizeof(data), TRAMPFD_DATA_OFFSET) != sizeof(data))
		goto fail;
	base = mmap(NULL, g_page_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd,
		    (off_t)g_info.code_offset);
	if (base == MAP_FAILED)
		goto fail;
	/*
	 * Fault the page in now, so that a failure to allocate or fill it is
	 * an errno here and not a SIGBUS at the first call.  Kernels before
	 * 5.14 lack MADV_POPULATE_READ (EINVAL), kernels without
	 * CONFIG_ADVISE_SYSCALLS lack madvise (ENOSYS): there the page is
	 * filled at the first call instead.
	 */
	if (madvise(base, g_page_size, MADV_POPULATE_READ) < 0 && errno != EINVAL &&
	    errno != ENOSYS)
		goto fail;
	close(fd);
	pg->base = base;
	pg->pool = pool;
	pg->nslots = n;
	return pg;
fail:
	e = errno;
	if (base != MAP_FAILED)
		munmap(base, g_page_size);
	if (fd >= 0)
		close(fd);
	meta_put(pg, &g_free_pages);
	errno = e;
	return NULL;
}

static void store(uint64_t *slot, const void *v)
{
	__atomic_store_n(slot, (uint64_t)(uintptr_t)v, __ATOMIC_RELEASE);
}

static void *slot_addr(const struct trampfd_closure *c)
{
	return tf_slot_addr(c);
}

TRAMPFD_EXPORT void *trampfd_pool_alloc(struct trampfd_pool *pool, const void *code,
					const void *data, struct trampfd_closure **handle)
{
	struct trampfd_closure *c;
	struct tf_page *pg;

	if (!pool || !handle) {
		errno = EINVAL;
		return NULL;
	}
	if (ensure_factory() < 0)
		return NULL;
	pthread_mutex_lock(&pool->lock);
	c = pool->free_list;
	if (c) {
		pool->free_list = c->next_free;
	} else {
		/*
		 * No freed slot: the next never used one of the newest page
		 * (slot 0 first), or of a new page.  Only the newest page can
		 * have any: a page is added when the free list is empty and
		 * every older page is used up.
		 */
		pg = pool->pages;
		if (!pg || pg->fresh == pg->nslots) {
			pg = new_page(pool);
			if (!pg) {
				int e = errno;

				pthread_mutex_unlock(&pool->lock);
				errno = e;
				return NULL;
			}
			pg->next = pool->pages;
			pool->pages = pg;
		}
		c = &pg->slots[pg->fresh];
		c->page = pg;
		c->index = pg->fresh++;
	}
	c->next_free = NULL;
	__atomic_store_n(&c->live, 1, __ATOMIC_RELEASE);
	pool->live++;
	store(&c->page->data_table[c->index], data);
	store(&c->page->code_table[c->index], code);
	pthread_mutex_unlock(&pool->lock);
	*handle = c;
	return slot_addr(c);
}

TRAMPFD_EXPORT void *trampfd_closure_alloc(const void *code, const void *data,
					   struct trampfd_closure **handle)
{
#ifndef TRAMPFD_NATIVE_ARCH
	errno = EAFNOSUPPORT;
	return NULL;
#endif
	return trampfd_pool_alloc(&g_default, code, data, handle);
}

TRAMPFD_EXPORT int trampfd_closure_set(struct trampfd_closure *c, const void *code,
				       const void *data)
{
	/*
	 * No lock: the entries are single words stored atomically, and a set
	 * racing with the free of the same closure is the caller's bug (the
	 * slot may then keep the new entries until it is handed out again).
	 */
	if (!c || !__atomic_load_n(&c->live, __ATOMIC_ACQUIRE)) {
		errno = EINVAL;
		return -1;
	}
	store(&c->page->data_table[c->index], data);
	store(&c->page->code_table[c->index], code);
	return 0;
}

TRAMPFD_EXPORT void trampfd_closure_free(struct trampfd_closure *c)
{
	struct trampfd_pool *pool;

	if (!c)
		return;
	pool = c->page->pool;
	pthread_mutex_lock(&pool->lock);
	if (c->live) {
		store(&c->page->code_table[c->index], NULL);
		store(&c->page->data_table[c->index], NULL);
		__atomic_store_n(&c->live, 0, __ATOMIC_RELEASE);
		c->next_free = pool->free_list;
		pool->free_list = c;
		pool->live--;
	}
	pthread_mutex_unlock(&pool->lock);
}

TRAMPFD_EXPORT void *trampfd_closure_addr(const struct trampfd_closure *c)
{
	return c ? slot_addr(c) : NULL;
}

TRAMPFD_EXPORT void *trampfd_closure_data(const struct trampfd_closure *c)
{
	if (!c)
		return NULL;
	return (void *)(uintptr_t)__atomic_load_n(&c->page->data_table[c->index],
						  __ATOMIC_ACQUIRE);
}

TRAMPFD_EXPORT struct trampfd_closure *trampfd_closure_lookup(const void *addr)
{
	const char *a = addr;
	struct trampfd_closure *found = NULL;
	struct trampfd_pool *p;
	struct tf_page *pg;

	pthread_once(&g_once, lib_init);
	pthread_mutex_lock(&g_lock);
	for (p = g_pools; p && !found; p = p->next) {
		pthread_mutex_lock(&p->lock);
		for (pg = p->pages; pg; pg = pg->next) {
			size_t off;

			if (a < pg->base || a >= pg->base + g_page_size)
				continue;
			off = (size_t)(a - pg->base);
			if (off % g_info.code_size == 0 && off / g_info.code_size < pg->fresh &&
			    pg->slots[off / g_info.code_size].live)
				found = &pg->slots[off / g_info.code_size];
			break;
		}
		pthread_mutex_unlock(&p->lock);
	}
	pthread_mutex_unlock(&g_lock);
	if (!found)
		errno = ENOENT;
	return found;
}

TRAMPFD_EXPORT struct trampfd_pool *trampfd_pool_new(unsigned int code_reg,
						     unsigned int data_reg)
{
	struct trampfd_pool *pool;

	if (ensure_factory() < 0)
		return NULL;
	if (code_reg >= 32 || data_reg >= 32 || code_reg == data_reg) {
		errno = EINVAL;
		return NULL;
	}
	if (!(g_info.code_regs & (1u << code_reg)) || !(g_info.data_regs & (1u << data_reg))) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	/* Off the heap too: the pool's free list is a chain of handles. */
	pool = meta_get(sizeof(*pool), &g_free_pools);
	if (!pool)
		return NULL;
	pthread_mutex_init(&pool->lock, NULL);
	pool->code_reg = code_reg;
	pool->data_reg = data_reg;
	pthread_mutex_lock(&g_lock);
	pool->next = g_pools;
	g_pools = pool;
	pthread_mutex_unlock(&g_lock);
	return pool;
}

TRAMPFD_EXPORT int trampfd_pool_destroy(struct trampfd_pool *pool)
{
	struct trampfd_pool **pp;
	struct tf_page *pg, *next;

	if (!pool || pool == &g_default) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&g_lock);
	pthread_mutex_lock(&pool->lock);
	if (pool->live) {
		pthread_mutex_unlock(&pool->lock);
		pthread_mutex_unlock(&g_lock);
		errno = EBUSY;
		return -1;
	}
	for (pp = &g_pools; *pp; pp = &(*pp)->next) {
		if (*pp == pool) {
			*pp = pool->next;
			break;
		}
	}
	pthread_mutex_unlock(&pool->lock);
	pthread_mutex_unlock(&g_lock);
	for (pg = pool->pages; pg; pg = next) {
		next = pg->next;
		munmap(pg->base, g_page_size);
		meta_put(pg, &g_free_pages);
	}
	pthread_mutex_destroy(&pool->lock);
	meta_put(pool, &g_free_pools);
	return 0;
}
