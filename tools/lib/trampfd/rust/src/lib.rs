// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

//! Closures on `/dev/trampfd`: callable addresses that jump to a target with a
//! value in a register, without ever mapping memory that is writable and
//! executable.
//!
//! A safe wrapper of libtrampfd (`tools/lib/trampfd/trampfd.h`, compiled into
//! this crate by `build.rs`), with the same semantics:
//!
//! ```no_run
//! // An assembly function: return %rdi + %r10 (see examples/closures.rs).
//! extern "C" {
//!     fn add_r10();
//! }
//! let c = trampfd::Closure::new(add_r10 as *const (), 35 as *const ())?;
//! // SAFETY: the address enters `add_r10` with r10 = 35, and `add_r10` is an
//! // `extern "C" fn(i64) -> i64` that reads r10; `c` is alive.
//! let f: extern "C" fn(i64) -> i64 = unsafe { std::mem::transmute(c.addr()) };
//! assert_eq!(f(7), 42);
//! drop(c); // the slot is free again; its code entry is NULL
//!
//! // Another register pair (x86-64: code in r10, data in r11); the pool
//! // outlives its closures (they borrow it).
//! let pool = trampfd::Pool::new(10, 11)?;
//! let c2 = pool.alloc(std::ptr::null(), std::ptr::null())?;
//! # drop(c2);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Calling [`Closure::addr`] jumps to the closure's code with its data value
//! in the data register of its pool (for [`Closure::new`], the default pool:
//! the architecture's static chain register, r10 on x86-64, x17 on arm64, t2
//! on riscv64); argument registers and the stack are untouched, so the target
//! returns straight to the caller.  Pages of 64 or 128 slots are mapped as
//! needed and freed slots are reused, last freed first.
//!
//! What is safe and what is not: allocating, retargeting and freeing
//! closures is safe (the library only stores two words per slot in ordinary
//! data tables).  *Calling* the address is the caller's business and needs
//! `unsafe`: the code must be a function that expects to be entered that way,
//! with that data, and the closure must still be alive (after its `Drop`,
//! the slot's code entry is NULL, so a stale call faults at address 0, until
//! the slot is handed out again).
//!
//! Errors are [`std::io::Error`]s made from libtrampfd's `errno`: `ENOENT` or
//! `ENODEV` without the device, `EMFILE`/`ENFILE` at an fd limit, `EAGAIN` or
//! `ENOMEM` when the `RLIMIT_MEMLOCK` charge or the page allocation fails,
//! `EINVAL` for a bad argument, `EBADF` for a `TRAMPFD_FD` that is not a
//! trampfd, `EOPNOTSUPP` for a register the kernel does not accept.  A failed
//! call leaves the library as it was; nothing falls back to writable and
//! executable memory and nothing panics.
//!
//! All types are `Send` and `Sync`: libtrampfd is thread-safe.

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::ffi::{c_int, c_uint, c_void};
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd, IntoRawFd, OwnedFd};
use std::ptr::{self, NonNull};

/// The raw C API of libtrampfd (see `tools/lib/trampfd/trampfd.h`).
mod sys {
    use std::ffi::{c_int, c_uint, c_void};

    /// `struct trampfd_closure` (opaque).
    #[repr(C)]
    pub struct TrampfdClosure {
        _opaque: [u8; 0],
    }

    /// `struct trampfd_pool` (opaque).
    #[repr(C)]
    pub struct TrampfdPool {
        _opaque: [u8; 0],
    }

    extern "C" {
        pub fn trampfd_closure_alloc(
            code: *const c_void,
            data: *const c_void,
            handle: *mut *mut TrampfdClosure,
        ) -> *mut c_void;
        pub fn trampfd_closure_set(
            handle: *mut TrampfdClosure,
            code: *const c_void,
            data: *const c_void,
        ) -> c_int;
        pub fn trampfd_closure_free(handle: *mut TrampfdClosure);
        pub fn trampfd_closure_data(handle: *const TrampfdClosure) -> *mut c_void;
        pub fn trampfd_pool_new(code_reg: c_uint, data_reg: c_uint) -> *mut TrampfdPool;
        pub fn trampfd_pool_alloc(
            pool: *mut TrampfdPool,
            code: *const c_void,
            data: *const c_void,
            handle: *mut *mut TrampfdClosure,
        ) -> *mut c_void;
        pub fn trampfd_pool_destroy(pool: *mut TrampfdPool) -> c_int;
        pub fn trampfd_use_fd(fd: c_int) -> c_int;
        pub fn trampfd_available() -> c_int;
    }
}

/// Register numbers for [`Pool::new`] (`TRAMPFD_<ARCH>_*` of
/// `include/uapi/linux/trampfd.h`).
pub mod reg {
    /// x86-64 (hardware encoding order).  The kernel accepts `RAX`, `R10` and
    /// `R11` for both roles; `R11` code and `R10` data are recommended.
    pub mod x86_64 {
        /// `rax`.
        pub const RAX: u32 = 0;
        /// `rdi` (an argument register: refused by the kernel).
        pub const RDI: u32 = 7;
        /// `r10`, the `SysV` static chain register.
        pub const R10: u32 = 10;
        /// `r11`.
        pub const R11: u32 = 11;
    }

    /// arm64: `X(n)` is `xn`.  Code: `X16` (recommended) or `X17`; data:
    /// `X9` ..= `X17` (`X17` recommended).
    pub mod arm64 {
        /// The number of register `xn`.
        #[must_use]
        pub const fn x(n: u32) -> u32 {
            n
        }
        /// `x9`.
        pub const X9: u32 = 9;
        /// `x16`.
        pub const X16: u32 = 16;
        /// `x17`.
        pub const X17: u32 = 17;
    }

    /// riscv64: the temporaries `T0` ..= `T6` (not `T0` as code register);
    /// `T1` code and `T2` (the psABI static chain register) data recommended.
    pub mod riscv64 {
        /// `t0` (x5).
        pub const T0: u32 = 5;
        /// `t1` (x6).
        pub const T1: u32 = 6;
        /// `t2` (x7).
        pub const T2: u32 = 7;
        /// `t3` (x28).
        pub const T3: u32 = 28;
        /// `t4` (x29).
        pub const T4: u32 = 29;
        /// `t5` (x30).
        pub const T5: u32 = 30;
        /// `t6` (x31).
        pub const T6: u32 = 31;
    }

    /// The default pool's code register on this architecture.
    #[cfg(target_arch = "x86_64")]
    pub const NATIVE_CODE: u32 = x86_64::R11;
    /// The default pool's data register on this architecture.
    #[cfg(target_arch = "x86_64")]
    pub const NATIVE_DATA: u32 = x86_64::R10;
    /// The default pool's code register on this architecture.
    #[cfg(target_arch = "aarch64")]
    pub const NATIVE_CODE: u32 = arm64::X16;
    /// The default pool's data register on this architecture.
    #[cfg(target_arch = "aarch64")]
    pub const NATIVE_DATA: u32 = arm64::X17;
    /// The default pool's code register on this architecture.
    #[cfg(target_arch = "riscv64")]
    pub const NATIVE_CODE: u32 = riscv64::T1;
    /// The default pool's data register on this architecture.
    #[cfg(target_arch = "riscv64")]
    pub const NATIVE_DATA: u32 = riscv64::T2;
}

/// A live closure: one trampoline slot, freed (and its code entry cleared)
/// on `Drop`.
///
/// The lifetime is that of the [`Pool`] it came from (`'static` for the
/// default pool of [`Closure::new`], which is never destroyed): the borrow
/// checker makes every closure of a pool go before the pool does.
#[derive(Debug)]
pub struct Closure<'pool> {
    /// Non-null, from a successful alloc, not yet freed (freed only in Drop).
    handle: NonNull<sys::TrampfdClosure>,
    /// The callable address the alloc returned.
    addr: NonNull<c_void>,
    _pool: PhantomData<&'pool Pool>,
}

// SAFETY: the handle is only used through libtrampfd, which is thread-safe:
// alloc and free take the pool's mutex, set and data are atomic loads and
// stores of single words.  A closure may be freed on another thread than the
// one that allocated it.
unsafe impl Send for Closure<'_> {}
// SAFETY: the only `&self` operations are `addr` (a copy of a field) and
// `data` (an atomic load in libtrampfd); `set`, which changes the slot,
// takes `&mut self`, and free happens only in `Drop`, so no shared
// reference can race with the free of the same closure.
unsafe impl Sync for Closure<'_> {}

/// The `io::Error` of a failed libtrampfd call, from `errno`.
fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// Wraps the result of an alloc function: a NULL address means failure with
/// `errno` set; otherwise `handle` was written.
fn wrap<'pool>(addr: *mut c_void, handle: *mut sys::TrampfdClosure) -> io::Result<Closure<'pool>> {
    match (NonNull::new(addr), NonNull::new(handle)) {
        (Some(addr), Some(handle)) => Ok(Closure {
            handle,
            addr,
            _pool: PhantomData,
        }),
        _ => Err(last_error()),
    }
}

impl Closure<'static> {
    /// Allocates a closure from the default pool: calling [`Closure::addr`]
    /// jumps to `code` with `data` in the architecture's static chain
    /// register (r10 on x86-64, x17 on arm64, t2 on riscv64).
    ///
    /// `code` may be null: a call then faults at address 0 until
    /// [`Closure::set`] gives it a target.  `data` is any value, never
    /// dereferenced by the library.
    ///
    /// # Errors
    ///
    /// The `errno` of libtrampfd, see the [crate] documentation
    /// (`EAFNOSUPPORT` on an architecture without default registers).
    pub fn new(code: *const (), data: *const ()) -> io::Result<Closure<'static>> {
        let mut handle = ptr::null_mut();
        // SAFETY: `code` and `data` are only stored in the slot's tables, never
        // dereferenced or called by the library; `handle` is a valid place for
        // the out pointer.
        let addr = unsafe {
            sys::trampfd_closure_alloc(code.cast(), data.cast(), ptr::addr_of_mut!(handle))
        };
        wrap(addr, handle)
    }
}

impl Closure<'_> {
    /// The callable address: cast it to the function pointer type that
    /// `code` expects (calling it is `unsafe`, see the [crate] docs).  Valid
    /// until the closure is dropped.
    #[must_use]
    pub fn addr(&self) -> *const () {
        self.addr.as_ptr().cast_const().cast()
    }

    /// Retargets the closure: later calls jump to `code` with `data`.
    ///
    /// The data entry is stored before the code entry; a call that runs
    /// concurrently (on another thread, through the address) may see the
    /// old code with the new data.  Lock-free.
    ///
    /// # Errors
    ///
    /// None in practice: libtrampfd's `EINVAL` for a freed handle cannot
    /// happen to a live `Closure`.
    pub fn set(&mut self, code: *const (), data: *const ()) -> io::Result<()> {
        // SAFETY: `self.handle` is live (freed only in Drop, and `&mut self`
        // excludes a concurrent free); the pointers are only stored.
        let ret =
            unsafe { sys::trampfd_closure_set(self.handle.as_ptr(), code.cast(), data.cast()) };
        if ret == 0 {
            Ok(())
        } else {
            Err(last_error())
        }
    }

    /// The current data value (the last one given to the alloc or to
    /// [`Closure::set`]).
    #[must_use]
    pub fn data(&self) -> *const () {
        // SAFETY: `self.handle` is live; libtrampfd reads the entry with an
        // atomic load.
        unsafe { sys::trampfd_closure_data(self.handle.as_ptr()) }
            .cast_const()
            .cast()
    }
}

impl Drop for Closure<'_> {
    /// Gives the slot back for reuse; its code entry becomes NULL first, so a
    /// stale call faults at address 0 instead of reaching the old target.
    fn drop(&mut self) {
        // SAFETY: `self.handle` came from a successful alloc and is freed
        // exactly once, here; its pool is still alive (the `'pool` borrow,
        // or the default pool that is never destroyed).
        unsafe { sys::trampfd_closure_free(self.handle.as_ptr()) }
    }
}

/// A set of closures with their own register pair, for targets that expect
/// the data in another register than the default pool's (libffi's closure
/// entry on riscv64 wants it in `t1`).
///
/// Closures of a pool borrow it ([`Closure<'pool>`]), so the pool outlives
/// all of them; `Drop` unmaps its pages.  A closure that was leaked
/// ([`std::mem::forget`]) keeps the pool busy: `Drop` then leaks the pool too
/// instead of unmapping memory still in use.
#[derive(Debug)]
pub struct Pool {
    /// Non-null, from `trampfd_pool_new`, destroyed only by `destroy`/Drop.
    pool: NonNull<sys::TrampfdPool>,
}

// SAFETY: every libtrampfd pool operation takes the pool's own mutex (and the
// global lock where needed), so a pool may be used from, and destroyed on,
// any thread.
unsafe impl Send for Pool {}
// SAFETY: `alloc` (the only `&self` operation that touches the pool) is
// serialised by the pool's mutex inside libtrampfd; destroy needs the pool
// by value, which no borrow (and so no live closure) can coexist with.
unsafe impl Sync for Pool {}

impl Pool {
    /// A pool whose trampolines load the code pointer into `code_reg` and
    /// the data value into `data_reg` (numbers of the [`reg`] module).
    ///
    /// # Errors
    ///
    /// `EINVAL` for equal or out-of-range registers, `EOPNOTSUPP`
    /// for a register the kernel does not accept, or the device errors of
    /// the [crate] documentation.
    pub fn new(code_reg: u32, data_reg: u32) -> io::Result<Pool> {
        // SAFETY: plain values; the library checks them.
        let pool = unsafe { sys::trampfd_pool_new(code_reg as c_uint, data_reg as c_uint) };
        NonNull::new(pool)
            .map(|pool| Pool { pool })
            .ok_or_else(last_error)
    }

    /// Allocates a closure from this pool: calling its address jumps to
    /// `code` (through the code register) with `data` in the data register.
    /// `code` may be null, as for [`Closure::new`].
    ///
    /// # Errors
    ///
    /// The `errno` of libtrampfd, see the [crate] documentation.
    pub fn alloc(&self, code: *const (), data: *const ()) -> io::Result<Closure<'_>> {
        let mut handle = ptr::null_mut();
        // SAFETY: `self.pool` is a live pool (destroyed only with `self` by
        // value); the pointers are only stored; `handle` is a valid out
        // pointer.
        let addr = unsafe {
            sys::trampfd_pool_alloc(
                self.pool.as_ptr(),
                code.cast(),
                data.cast(),
                ptr::addr_of_mut!(handle),
            )
        };
        wrap(addr, handle)
    }

    /// Unmaps the pool now and reports the outcome (`Drop` does the same and
    /// ignores it).
    ///
    /// # Errors
    ///
    /// `EBUSY` if a closure of the pool was leaked ([`std::mem::forget`]);
    /// the pool is then leaked as well.
    pub fn destroy(self) -> io::Result<()> {
        let pool = self.pool;
        std::mem::forget(self);
        // SAFETY: `pool` is live and, with `self` consumed, no closure
        // borrows it; a leaked (forgotten) closure makes libtrampfd refuse
        // with EBUSY and keep everything mapped.  It is never used again.
        if unsafe { sys::trampfd_pool_destroy(pool.as_ptr()) } == 0 {
            Ok(())
        } else {
            Err(last_error())
        }
    }
}

impl Drop for Pool {
    /// Destroys the pool (see [`Pool::destroy`]).
    fn drop(&mut self) {
        // SAFETY: as in `destroy`: `&mut self` in Drop means no closure
        // borrows the pool any more, and the pointer is not used after.
        unsafe { sys::trampfd_pool_destroy(self.pool.as_ptr()) };
    }
}

/// Makes trampfds from `fd` instead of opening `/dev/trampfd`: a trampfd or
/// an fd of `/dev/trampfd`, typically inherited from a parent that opened it
/// before entering a sandbox.
///
/// The library keeps using the fd for the rest of the process and never
/// closes it, so it takes the fd over: on success `fd` is never closed (it
/// belongs to the library from then on); on failure it is closed as it is
/// dropped.  For an fd that something else owns for the whole process, see
/// [`use_borrowed_fd`].  Must be called before the first allocation.
///
/// # Errors
///
/// `EBADF` if `fd` is not a trampfd, `EBUSY` if the library already
/// has one (after an allocation, [`available`] or an earlier `use_fd`).
pub fn use_fd(fd: OwnedFd) -> io::Result<()> {
    // SAFETY: the library issues TRAMPFD_IOC_GET_INFO on `fd` (into a struct
    // of its own) and, if that succeeds, keeps the number for later
    // TRAMPFD_IOC_CREATE calls (no memory argument); it never closes the fd.
    // On success the OwnedFd is given up below, so the number stays open
    // and ours to use for the rest of the process; on failure the library
    // kept nothing and the fd is closed as `fd` drops (after errno is read).
    if unsafe { sys::trampfd_use_fd(fd.as_raw_fd() as c_int) } == 0 {
        let _ = fd.into_raw_fd();
        Ok(())
    } else {
        Err(last_error())
    }
}

/// [`use_fd`] for an fd that stays open for the rest of the process
/// (`BorrowedFd<'static>`, e.g. an inherited fd nothing else closes): the
/// library uses it and never closes it.
///
/// # Errors
///
/// As [`use_fd`].
pub fn use_borrowed_fd(fd: BorrowedFd<'static>) -> io::Result<()> {
    // SAFETY: as in `use_fd`; the 'static borrow guarantees the fd stays
    // open (and is not reused for another file) for the rest of the
    // process, as long as the library keeps its number.
    if unsafe { sys::trampfd_use_fd(fd.as_raw_fd() as c_int) } == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

/// Whether closures can be allocated at all: opens (or validates) the
/// factory fd if that was not done yet.
///
/// # Errors
///
/// Why not (`ENOENT` without the device, ...; see the [crate] docs).
pub fn available() -> io::Result<()> {
    // SAFETY: no arguments; thread-safe in libtrampfd.
    if unsafe { sys::trampfd_available() } == 1 {
        Ok(())
    } else {
        Err(last_error())
    }
}
