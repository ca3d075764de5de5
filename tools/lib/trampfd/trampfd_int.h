/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtrampfd internals shared with libtrampfd-ffi (both are built from the
 * same tree into the same library): the handle and page structures and the
 * two accessors its hot paths use, inline, so that a closure's slot address
 * and its table entries cost a few loads and no call.  Not installed.
 */
#ifndef _TRAMPFD_INT_H
#define _TRAMPFD_INT_H

#include <stddef.h>
#include <stdint.h>

struct trampfd_pool;

/*
 * One slot.  Invariant: page->slots[index] == *this once the slot has been
 * handed out (index < page->fresh); a handle never handed out is all zero.
 */
struct trampfd_closure {
	struct tf_page *page;
	struct trampfd_closure *next_free;	/* valid while !live */
	unsigned int index;
	int live;
};

/*
 * One mapped trampfd: its tables and handles are a block of a guarded
 * metadata chunk (trampfd.c, meta_get), away from the malloc heap, in that
 * order: the header, the code and data tables, then the handles.
 */
struct tf_page {
	struct tf_page *next;
	struct trampfd_pool *pool;
	char *base;			/* the R-X page */
	uint64_t *code_table;		/* nslots entries, then data_table */
	uint64_t *data_table;
	size_t code_size;		/* bytes per slot (trampfd_info) */
	unsigned int nslots;
	unsigned int fresh;		/* slots handed out at least once (pool lock) */
	struct trampfd_closure *slots;	/* nslots handles, after the tables */
};

/* The slot address of @c (a valid handle). */
static inline void *tf_slot_addr(const struct trampfd_closure *c)
{
	return c->page->base + (size_t)c->index * c->page->code_size;
}

/*
 * trampfd_closure_set() for a handle the caller knows is live: the data
 * entry first, then the code entry, both release stores (trampfd.h).
 */
static inline void tf_set_live(struct trampfd_closure *c, const void *code, const void *data)
{
	struct tf_page *pg = c->page;

	__atomic_store_n(&pg->data_table[c->index], (uint64_t)(uintptr_t)data, __ATOMIC_RELEASE);
	__atomic_store_n(&pg->code_table[c->index], (uint64_t)(uintptr_t)code, __ATOMIC_RELEASE);
}

#endif /* _TRAMPFD_INT_H */
