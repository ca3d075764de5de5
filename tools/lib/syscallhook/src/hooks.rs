// SPDX-License-Identifier: GPL-2.0

//! The hook API and the two sample hooks.
//!
//! C callers register one callback:
//!
//! ```c
//! /* Return 0 to pass the syscall through (args may be changed in place),
//!  * 1 to skip it and return *result instead. */
//! typedef int (*syscallhook_fn)(long nr, long args[6], long *result);
//! void syscallhook_register(syscallhook_fn fn);
//! ```
//!
//! Built in, chosen by `SYSCALLHOOK=count|trace`: a counter that prints a
//! per-syscall table at exit, and a tracer that prints every call.
//! Callbacks run on the hooked thread, on its hook stack, with the
//! reentrancy guard set: the syscalls a callback makes (a `write()` of its
//! own, say) go straight to the kernel, without hooks, so they cannot
//! recurse. They may run inside a signal handler (a signal that arrived in
//! the middle of a syscall: the program's handler's own syscalls), so they
//! must be async-signal-safe and must not allocate. (A site that is not
//! rewritten makes its call after the SIGSYS handler returned.)
//! Process-creating calls (clone, clone3, fork, vfork), rt_sigreturn and
//! exit are handled in asm and are counted but not passed to callbacks.

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use crate::{say, shl_counts, Buf};

/// A hook: sees every syscall after it ran (the C callback sees it before).
pub trait Hook: Sync {
    /// After the real syscall returned `ret`.
    fn after(&self, nr: i64, args: &[u64; 6], ret: i64);
}

/// Prints every syscall to stderr.
struct Tracer;

impl Hook for Tracer {
    fn after(&self, nr: i64, a: &[u64; 6], ret: i64) {
        let mut b = Buf::new();
        let _ = writeln!(
            b,
            "[syscallhook] {}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = {}",
            nr, a[0], a[1], a[2], a[3], a[4], a[5], ret
        );
        say(b.bytes());
    }
}

/// Which built-in hook runs: 0 none, 1 count (table at exit), 2 trace.
static BUILTIN: AtomicU8 = AtomicU8::new(0);
/// The registered C callback (0: none).
static CALLBACK: AtomicUsize = AtomicUsize::new(0);
static PRINTED: AtomicBool = AtomicBool::new(false);

/// The C callback type.
pub type SyscallhookFn = extern "C" fn(nr: i64, args: *mut i64, result: *mut i64) -> i32;

/// Registers a C callback that sees every hooked syscall.
#[no_mangle]
pub extern "C" fn syscallhook_register(f: Option<SyscallhookFn>) {
    CALLBACK.store(f.map_or(0, |f| f as usize), Ordering::Release);
    crate::dispatch::refresh_classes();
}

/// Whether the counter (`SYSCALLHOOK=count`) is on.
pub fn counting() -> bool {
    BUILTIN.load(Ordering::Relaxed) == 1
}

/// Whether the tracer (`SYSCALLHOOK=trace`) is on.
pub fn tracing() -> bool {
    BUILTIN.load(Ordering::Relaxed) == 2
}

/// Whether a C callback is registered.
pub fn has_callback() -> bool {
    CALLBACK.load(Ordering::Relaxed) != 0
}

/// Reads `SYSCALLHOOK` at load.
pub fn configure() {
    match std::env::var("SYSCALLHOOK").as_deref() {
        Ok("count") => BUILTIN.store(1, Ordering::Relaxed),
        Ok("trace") => BUILTIN.store(2, Ordering::Relaxed),
        _ => {}
    }
}

/// Runs the hooks before a syscall.
pub fn before(nr: i64, args: &mut [u64; 6]) -> Option<i64> {
    let cb = CALLBACK.load(Ordering::Acquire);
    if cb != 0 {
        // SAFETY: only `syscallhook_register` stores into CALLBACK, and it
        // stores a valid `SyscallhookFn`.
        let f: SyscallhookFn = unsafe { core::mem::transmute::<usize, SyscallhookFn>(cb) };
        let mut a = args.map(|x| x as i64);
        let mut result = 0i64;
        let emulate = f(nr, a.as_mut_ptr(), &mut result);
        *args = a.map(|x| x as u64);
        if emulate != 0 {
            return Some(result);
        }
    }
    None
}

/// Runs the hooks after a syscall.
pub fn after(nr: i64, args: &[u64; 6], ret: i64) {
    if tracing() {
        Tracer.after(nr, args, ret);
    }
}

/// Called on exit_group: the counter prints its table (once).
pub fn at_exit() {
    if !counting() {
        return;
    }
    // A vfork child (or a CLONE_VM process) shares the parent's table.
    let pid = crate::entry::sys(39, [0; 6]) as u64;
    if pid != crate::shl_table_pid.load(Ordering::Relaxed) || PRINTED.swap(true, Ordering::Relaxed)
    {
        return;
    }
    say(b"syscallhook: syscall counts\n");
    for (nr, c) in shl_counts.iter().enumerate() {
        let n = c.load(Ordering::Relaxed);
        if n != 0 {
            let mut b = Buf::new();
            let _ = writeln!(b, "syscallhook: {nr:>4} {n:>10}");
            say(b.bytes());
        }
    }
}
