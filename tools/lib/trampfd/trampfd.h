/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libtrampfd: closures for FFI and JIT code on /dev/trampfd, without ever
 * mapping memory that is writable and executable.
 *
 *	#include <trampfd.h>
 *
 *	struct trampfd_closure *h;
 *	int (*fn)(int) = trampfd_closure_alloc(target, ctx, &h);
 *
 *	if (!fn)
 *		err(1, "trampfd_closure_alloc");
 *	fn(7);		// runs target(7) with ctx in the data register
 *	trampfd_closure_free(h);
 *
 * Calling the returned address jumps to @code with @data in the data
 * register of the pool (the architecture's static chain register for the
 * default pool: r10 on x86-64, x17 on arm64, t2 on riscv64); every argument
 * register and the stack are untouched, so @code returns straight to the
 * caller.  The library maps kernel-filled trampoline pages (64 or 128 slots
 * each) as they are needed and reuses freed slots.  All functions are
 * thread-safe; closures keep working in a child after fork(), and the child
 * can allocate more.
 *
 * Where trampfds come from, in this order: the fd given to
 * trampfd_use_fd(), the fd number in the environment variable TRAMPFD_FD
 * (read with secure_getenv() at each allocation until a factory exists, so
 * a set-user-ID program ignores it; a value that names no trampfd, such as
 * an environment inherited without its fd, is ignored too), or
 * open("/dev/trampfd").  That first trampfd is kept as a factory (one the
 * library opened itself is close-on-exec; a given one is used as it is):
 * further pages are made with ioctl(TRAMPFD_IOC_CREATE) on it, so a process
 * that can no longer open files (seccomp, Landlock, chroot) keeps
 * allocating.
 *
 * Every function that can fail returns NULL (or -1) with errno set and
 * leaves the library as it was: ENOENT/ENODEV without the device, EMFILE
 * or ENFILE at an fd limit (EMFILE also at the module's per-user limit,
 * max_user_trampfds), EPERM if /dev is mounted noexec, EAGAIN or ENOMEM
 * when the RLIMIT_MEMLOCK charge or the page allocation fails, EINVAL for a
 * bad argument.  Nothing ever falls back to writable+executable memory, and
 * nothing aborts.  The library's own bookkeeping (handles, code and data
 * tables) lives on pages of its own, not on the malloc heap.
 */
#ifndef _TRAMPFD_LIB_H
#define _TRAMPFD_LIB_H

/*
 * The register numbers (TRAMPFD_<ARCH>_*) for trampfd_pool_new().  make
 * install puts the UAPI header next to this one as trampfd/linux/trampfd.h
 * (INCLUDEDIR/linux belongs to the kernel's headers package); in the source
 * tree it is include/uapi/linux/trampfd.h.
 */
#if defined(__has_include)
#if __has_include("trampfd/linux/trampfd.h")
#include "trampfd/linux/trampfd.h"
#else
#include <linux/trampfd.h>
#endif
#else
#include <linux/trampfd.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** An allocated closure (opaque); valid until trampfd_closure_free(). */
struct trampfd_closure;

/** A set of closures sharing one register pair (opaque). */
struct trampfd_pool;

/**
 * trampfd_closure_alloc() - allocate a closure from the default pool
 * @code: address to jump to; NULL makes a call fault at address 0 until
 *	  trampfd_closure_set() gives it a target
 * @data: value the code finds in the data register (any value)
 * @handle: receives the handle for trampfd_closure_set()/_free()
 *
 * Return: the callable address, or NULL with errno set.
 */
void *trampfd_closure_alloc(const void *code, const void *data,
			    struct trampfd_closure **handle);

/**
 * trampfd_closure_set() - retarget a live closure
 * @handle: from trampfd_closure_alloc() or trampfd_pool_alloc()
 * @code: new target (NULL: a call faults at address 0)
 * @data: new data value
 *
 * The data entry is stored before the code entry (release stores), and
 * every slot loads the code entry first and its data entry after it, in
 * that order on every architecture (x86-64: loads are not reordered;
 * arm64: the code load is a load-acquire; riscv64: a fence r,r between
 * them).  So a call that runs concurrently with the update may see the old
 * code with the new data, never the new code with the old data.
 * Lock-free; calling it concurrently with trampfd_closure_free() of the
 * same closure is a bug of the caller.
 *
 * Return: 0, or -1 with errno EINVAL for a NULL or freed handle.
 */
int trampfd_closure_set(struct trampfd_closure *handle, const void *code,
			const void *data);

/**
 * trampfd_closure_free() - give a closure back for reuse
 * @handle: from an alloc function, or NULL (no-op)
 *
 * The slot's code entry becomes NULL first, so a stale call faults at
 * address 0 instead of reaching the old target.
 */
void trampfd_closure_free(struct trampfd_closure *handle);

/**
 * trampfd_closure_addr() - the callable address of a closure
 * @handle: a live closure
 *
 * Return: the address trampfd_closure_alloc() returned for it.
 */
void *trampfd_closure_addr(const struct trampfd_closure *handle);

/**
 * trampfd_closure_data() - the current data value of a closure
 * @handle: a live closure
 *
 * Return: the data value last given to alloc or set.
 */
void *trampfd_closure_data(const struct trampfd_closure *handle);

/**
 * trampfd_closure_lookup() - find the closure that owns an address
 * @addr: an address returned by an alloc function of this library
 *
 * Return: the live closure whose callable address is @addr, or NULL
 * (errno ENOENT) if @addr is not one.
 */
struct trampfd_closure *trampfd_closure_lookup(const void *addr);

/**
 * trampfd_pool_new() - a pool with its own register pair
 * @code_reg: TRAMPFD_<ARCH>_* register that receives the code pointer
 * @data_reg: TRAMPFD_<ARCH>_* register that receives the data value
 *
 * For callers whose targets expect the context in another register than
 * the default pool's (libffi's closure entry on riscv64 wants it in t1).
 * The registers are checked against the masks the kernel reports in
 * TRAMPFD_IOC_GET_INFO: EINVAL for a number >= 32 or code == data,
 * EOPNOTSUPP for a register the kernel does not accept in that role.
 *
 * Return: the pool, or NULL with errno set.
 */
struct trampfd_pool *trampfd_pool_new(unsigned int code_reg,
				      unsigned int data_reg);

/**
 * trampfd_pool_alloc() - allocate a closure from @pool
 * @pool: from trampfd_pool_new()
 * @code: address to jump to (NULL: a call faults at address 0)
 * @data: value placed in the pool's data register
 * @handle: receives the handle
 *
 * Return: the callable address, or NULL with errno set.
 */
void *trampfd_pool_alloc(struct trampfd_pool *pool, const void *code,
			 const void *data, struct trampfd_closure **handle);

/**
 * trampfd_pool_destroy() - unmap a pool that has no live closures
 * @pool: from trampfd_pool_new()
 *
 * Return: 0, or -1 with errno EBUSY while any of its closures is live.
 */
int trampfd_pool_destroy(struct trampfd_pool *pool);

/**
 * trampfd_use_fd() - make trampfds from this fd instead of open()
 * @fd: a trampfd or an fd of /dev/trampfd, typically inherited from a
 *	parent that opened it before entering a sandbox; the library keeps
 *	using it and never closes it
 *
 * Return: 0, or -1 with errno EBADF if @fd is not a trampfd, EBUSY if the
 * library already has a factory fd.
 */
int trampfd_use_fd(int fd);

/**
 * trampfd_available() - whether closures can be allocated at all
 *
 * Opens (or validates) the factory fd if that was not done yet.
 *
 * Return: 1 if yes, 0 with errno set if not.
 */
int trampfd_available(void);

#ifdef __cplusplus
}
#endif

#endif /* _TRAMPFD_LIB_H */
