// SPDX-License-Identifier: GPL-2.0

//! Cross-modifying code (issue 21 item 9): rewriting `syscall` (0f 05)
//! into `call *%rax` (ff d0) while other threads may be executing it.
//!
//! An atomic 2-byte store is atomic for data accesses, not for instruction
//! fetch: the Intel SDM (vol. 3A, "Handling Self- and Cross-Modifying
//! Code") asks that a processor executing modified code run a serializing
//! instruction after the modification, and several Intel processors have
//! errata for unsynchronized cross-modification.  So a site is patched as
//! the kernel's `text_poke_bp` patches its own text ([`poke`]):
//!
//! 1. `int3` (cc) on the first byte (the one unsynchronized change Intel
//!    confirmed safe), then a core sync of every thread of the process;
//! 2. the second byte (d0), sync;
//! 3. the new first byte (ff), sync.
//!
//! A thread that reaches the site in between executes the `int3` and gets
//! a SIGTRAP (`si_code` `SI_KERNEL`, rip = site + 1).  The library's
//! SIGTRAP handler ([`shl_on_sigtrap`]) recognises a site that is being
//! patched (in the batch being patched) or already rewritten
//! (`patch::is_site`: a site enters the table before its first byte
//! changes), waits until the patch is complete (the patcher holds the
//! patch lock with every signal but SIGTRAP blocked, defers a `kill
//! -TRAP` that lands on its own thread, and never waits for a thread in
//! this handler: it only makes `membarrier`/`mprotect` calls, which
//! interrupt or wait for no user code), points rip back at the site and
//! returns: the site runs again, now as `call *%rax`.  The waiting thread
//! was running while the patcher's last sync ran, so its CPU took it;
//! the return is an `rt_sigreturn` besides (normally an `IRET`).
//!
//! **Sync.**  `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE)`
//! (registered once at load; again if a fork child finds its mm not
//! registered): on return every other thread running this mm has executed
//! a core-serializing instruction.  Without it (a kernel without
//! `CONFIG_MEMBARRIER`, such as the project's test guest), an `mprotect`
//! that takes write permission away from a private page of the library
//! that was just written: the kernel must flush that TLB entry on every
//! CPU that may cache it (`flush_tlb_mm_range` over `mm_cpumask`), by an
//! IPI to each CPU that currently runs a thread of this mm (the interrupt
//! and the flush's `INVLPG` or CR3 write are serializing, and the
//! `mprotect` returns only after every IPI was handled); a CPU that has
//! the mm only lazily loaded is running no user code of it and flushes
//! (again `INVLPG` or a CR3 write) before it returns to a thread of it,
//! because the flush advanced the mm's TLB generation.  That argument
//! fails on CPUs with broadcast TLB invalidation (AMD `INVLPGB`, which the
//! kernel uses instead of IPIs where available): on such a CPU, without
//! membarrier, the plain 2-byte store is kept, and counted.  The
//! statistics (`syscallhook_patch_stat`, `SYSCALLHOOK_VERBOSE=1`) say how
//! each rewrite was made and how many `int3` traps were taken.
//!
//! **Single-threaded processes** get the same protocol.  The library cannot
//! cheaply and reliably know that no other task shares the mm (threads are
//! created by raw `clone` too, a `CLONE_VM` child is no thread, and one may
//! appear between a check and the store), and the cost is small:
//! `membarrier` returns at once when the mm has one user.  (The patching
//! thread itself needs no sync: the SIGSYS handler returns through
//! `rt_sigreturn`, i.e. `IRET`.)
//!
//! **SIGTRAP is protected like SIGSYS** while the protocol is on: the
//! kernel forces a SIGTRAP from `int3`, and a blocked or ignored forced
//! signal kills.  So the program's masks never contain SIGTRAP
//! (`dispatch::protect_sigsys`), the library's SIGSYS handler does not
//! block it (its callbacks run program code), `rt_sigaction(SIGTRAP)` is
//! answered from the library's copy of the program's action
//! ([`PROGRAM_SIGTRAP`]), and `shl_rearm` installs the library's action
//! again in children (`CLONE_CLEAR_SIGHAND`).  Every SIGTRAP that is not
//! a trap at a site being patched (single-step `TF` traps, the program's
//! own `int3`, `kill -TRAP`) goes to the program's action as the kernel
//! would deliver it: the library's kernel action has the program's
//! `SA_ONSTACK` (the frame is where the program's would be) and the
//! program's `sa_mask` (without SIGSYS and SIGTRAP), and is always
//! `SA_NODEFER`; the program's handler gets the kernel's siginfo and
//! ucontext (its changes to the context take effect), `SA_RESETHAND`
//! resets the library's copy, `SIG_DFL` terminates with a core dump, and
//! `SIG_IGN` ignores a SIGTRAP sent by a process but terminates on a
//! forced one (kernel-generated `si_code` > 0), as the kernel does.
//! Differences from the kernel: SIGTRAP is never blocked, so a SIGTRAP a
//! program blocked and sent itself is delivered at once, and a handler
//! without `SA_NODEFER` can be re-entered by another SIGTRAP.
//!
//! **ptrace.**  A tracer sees each such trap as a SIGTRAP
//! signal-delivery-stop (`si_code` `SI_KERNEL`) at site + 1; `strace -f`
//! prints `--- SIGTRAP {si_signo=SIGTRAP, si_code=SI_KERNEL} ---` and
//! re-injects it, and the library's handler then completes it.  A
//! debugger (gdb) stops with "Program received signal SIGTRAP" at a place
//! where it set no breakpoint; continuing with the signal (`signal
//! SIGTRAP`, or `handle SIGTRAP pass`) lets the library handle it, while
//! gdb's default (`nopass`) suppresses it and resumes at site + 1, the
//! second byte of the `call` (d0), which does not execute correctly.  gdb's
//! own breakpoints are its `int3`s: they never reach the handler.  A
//! tracer that reads the code in between sees cc 05 or cc d0.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use crate::entry::{self, sys};
use crate::patch;
use crate::signals::Disposition;

/// Signal number of SIGTRAP.
pub const SIGTRAP: i64 = 5;
/// Bit of SIGTRAP in a kernel sigset.
pub const SIGTRAP_BIT: u64 = 1 << (SIGTRAP - 1);

const NR_RT_SIGACTION: i64 = 13;
const NR_MMAP: i64 = 9;
const NR_MPROTECT: i64 = 10;
const NR_SCHED_YIELD: i64 = 24;
const NR_GETPID: i64 = 39;
const NR_GETTID: i64 = 186;
const NR_MEMBARRIER: i64 = 324;
const MEMBARRIER_CMD_QUERY: i64 = 0;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: i64 = 1 << 5;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: i64 = 1 << 6;
const EPERM: i64 = 1;

const SA_SIGINFO: u64 = 4;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_NODEFER: u64 = 0x4000_0000;
/// `si_code` of a kernel-generated signal without details (int3).
const SI_KERNEL: i32 = 0x80;

/// How rewrites are core-synchronised.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Method {
    /// Not chosen yet.
    Unset = 0,
    /// `membarrier(PRIVATE_EXPEDITED_SYNC_CORE)`.
    Membarrier = 1,
    /// A write-protecting `mprotect` of a private page (TLB shootdown).
    Mprotect = 2,
    /// No int3 protocol: one plain 2-byte store.
    Plain = 3,
}

static METHOD: AtomicU8 = AtomicU8::new(Method::Unset as u8);

/// The page [`Method::Mprotect`] write-protects.
static SYNC_PAGE: AtomicU64 = AtomicU64::new(0);

/// The sites whose bytes are being changed: a batch from `PATCH_LO` to
/// `PATCH_HI` (inclusive) while `PATCH_BUSY`.  Set and cleared by the
/// patcher, under the patch lock; the range does not change while busy.
static PATCH_LO: AtomicU64 = AtomicU64::new(0);
static PATCH_HI: AtomicU64 = AtomicU64::new(0);
static PATCH_BUSY: AtomicBool = AtomicBool::new(false);

/// Whether `site` may be in the batch being patched now.  (A handler that
/// read a later batch's range only waits for that batch too: harmless.)
fn patching(site: u64) -> bool {
    PATCH_BUSY.load(Ordering::SeqCst)
        && (PATCH_LO.load(Ordering::SeqCst)..=PATCH_HI.load(Ordering::SeqCst)).contains(&site)
}

/// Statistics: int3 traps taken at sites being patched, then rewrites
/// synchronised by membarrier, by mprotect, and made as a plain store.
pub static STATS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// Names of [`STATS`] for `SYSCALLHOOK_VERBOSE=1`.
pub const STAT_NAMES: [&str; 4] = [
    "int3-traps",
    "synced-membarrier",
    "synced-mprotect",
    "plain-store",
];

/// The library's SIGTRAP action as a `struct kernel_sigaction` (handler,
/// flags, restorer, mask); a zero handler: not installed (then the int3
/// protocol is off).  `shl_rearm` (`entry.rs`) installs it again in every
/// child it arms SUD in.
#[no_mangle]
pub static shl_sigtrap_action: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// The program's own SIGTRAP action (`struct kernel_sigaction`), which
/// the library keeps instead of the kernel while the protocol is on.
pub static PROGRAM_SIGTRAP: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Whether the CPU has broadcast TLB invalidation (AMD `INVLPGB`: CPUID
/// 0x8000_0008 EBX bit 3), with which the kernel flushes remote TLBs
/// without interrupting their CPUs.
fn has_invlpgb() -> bool {
    let max = core::arch::x86_64::__cpuid(0x8000_0000).eax;
    max >= 0x8000_0008 && core::arch::x86_64::__cpuid(0x8000_0008).ebx & (1 << 3) != 0
}

/// Chooses how to synchronise (`SYSCALLHOOK_XMC` = `membarrier`,
/// `mprotect` or `plain` forces one, for tests and measurements; an
/// unavailable one falls back to the next).  At load, before any rewrite.
pub fn choose(force: Option<Method>) -> Method {
    let want = force.unwrap_or(Method::Membarrier);
    let mut m = Method::Plain;
    if want == Method::Membarrier {
        let q = sys(NR_MEMBARRIER, [MEMBARRIER_CMD_QUERY, 0, 0, 0, 0, 0]);
        let need = MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
            | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
        if q >= 0 && q & need == need && register() {
            m = Method::Membarrier;
        }
    }
    if m == Method::Plain && want != Method::Plain && !has_invlpgb() {
        let p = SYNC_PAGE.load(Ordering::Relaxed);
        let p = if p != 0 {
            p as i64
        } else {
            // PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS.
            sys(NR_MMAP, [0, 4096, 3, 0x22, -1, 0])
        };
        if p > 0 {
            SYNC_PAGE.store(p as u64, Ordering::Relaxed);
            m = Method::Mprotect;
        }
    }
    METHOD.store(m as u8, Ordering::Relaxed);
    m
}

/// The method in use.
pub fn method() -> Method {
    match METHOD.load(Ordering::Relaxed) {
        1 => Method::Membarrier,
        2 => Method::Mprotect,
        3 => Method::Plain,
        _ => Method::Unset,
    }
}

fn register() -> bool {
    sys(
        NR_MEMBARRIER,
        [
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
            0,
            0,
            0,
            0,
            0,
        ],
    ) == 0
}

/// Whether rewrites use the int3 protocol (a method chosen and the
/// SIGTRAP handler installed): then SIGTRAP is protected.
pub fn on() -> bool {
    matches!(method(), Method::Membarrier | Method::Mprotect)
        && shl_sigtrap_action[0].load(Ordering::Relaxed) != 0
}

/// Signals the program can never block or have ignored.
pub fn protected_bits() -> u64 {
    crate::dispatch::SIGSYS_BIT | if on() { SIGTRAP_BIT } else { 0 }
}

/// Core-serialises every thread of the process.  Under the patch lock.
fn sync(m: Method) -> bool {
    match m {
        Method::Membarrier => {
            let cmd = [MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0, 0, 0, 0];
            let mut r = sys(NR_MEMBARRIER, cmd);
            if r == -EPERM && register() {
                // A fork child whose mm is not registered.
                r = sys(NR_MEMBARRIER, cmd);
            }
            r == 0
        }
        Method::Mprotect => {
            let p = SYNC_PAGE.load(Ordering::Relaxed);
            // SAFETY: the library's own private page, mapped read-write
            // (made so again below), touched only under the patch lock:
            // the write makes its PTE present, writable and dirty, so that
            // taking PROT_WRITE away must flush it everywhere.
            unsafe { (p as *mut u8).write_volatile(1) };
            let ro = sys(NR_MPROTECT, [p as i64, 4096, 1, 0, 0, 0]);
            let rw = sys(NR_MPROTECT, [p as i64, 4096, 3, 0, 0, 0]);
            ro == 0 && rw == 0
        }
        Method::Plain | Method::Unset => false,
    }
}

fn store_byte(addr: u64, b: u8) {
    // SAFETY: the caller made the byte writable (`poke`'s contract).
    unsafe { (addr as *mut u8).write_volatile(b) };
}

/// Writes the two bytes `new` at each of `sites` (sorted; each two bytes
/// of one instruction, not crossing a cache line, in a writable mapping),
/// with the int3 protocol when it is on (three syncs for the whole batch,
/// as `text_poke_bp_batch`), else with one 2-byte store each.  Under the
/// patch lock, with every signal blocked but SIGTRAP; the sites must
/// already be in the site table (the SIGTRAP handler checks it).
pub fn poke(sites: &[u64], new: [u8; 2]) {
    let (Some(&lo), Some(&hi)) = (sites.first(), sites.last()) else {
        return;
    };
    let m = method();
    if !on() {
        let v = u16::from_le_bytes(new);
        for &site in sites {
            // SAFETY: the mapping is writable and the two bytes do not
            // cross a cache line: one atomic 2-byte store.
            unsafe {
                core::arch::asm!("movw {1:x}, ({0})", in(reg) site, in(reg) v,
                                 options(att_syntax, nostack));
            }
        }
        STATS[Method::Plain as usize].fetch_add(sites.len() as u64, Ordering::Relaxed);
        return;
    }
    PATCH_LO.store(lo, Ordering::SeqCst);
    PATCH_HI.store(hi, Ordering::SeqCst);
    PATCH_BUSY.store(true, Ordering::SeqCst);
    for &site in sites {
        store_byte(site, 0xcc);
    }
    let mut ok = sync(m);
    #[cfg(test)]
    tests::hold();
    for &site in sites {
        store_byte(site + 1, new[1]);
    }
    ok &= sync(m);
    for &site in sites {
        store_byte(site, new[0]);
    }
    ok &= sync(m);
    PATCH_BUSY.store(false, Ordering::SeqCst);
    let i = if ok {
        m as usize
    } else {
        Method::Plain as usize
    };
    STATS[i].fetch_add(sites.len() as u64, Ordering::Relaxed);
}

/// `struct kernel_sigaction` for rt_sigaction.
#[repr(C)]
struct KSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// Installs the library's SIGTRAP action for the program's action
/// `prog` (handler, flags, restorer, mask): the program's `SA_ONSTACK`
/// and `sa_mask` (without the protected signals), always `SA_NODEFER`.
fn install_for(prog_flags: u64, prog_mask: u64) -> bool {
    let sa = [
        shl_on_sigtrap as *const () as u64,
        SA_SIGINFO | SA_RESTORER | SA_NODEFER | (prog_flags & SA_ONSTACK),
        entry::shl_restorer as *const () as u64,
        prog_mask & !(SIGTRAP_BIT | crate::dispatch::SIGSYS_BIT),
    ];
    let k = KSigaction {
        handler: sa[0] as usize,
        flags: sa[1],
        restorer: sa[2] as usize,
        mask: sa[3],
    };
    let r = sys(
        NR_RT_SIGACTION,
        [SIGTRAP, &k as *const KSigaction as i64, 0, 8, 0, 0],
    );
    if r == 0 {
        // Handler last: shl_rearm reads it first.
        for i in (0..4).rev() {
            shl_sigtrap_action[i].store(sa[i], Ordering::Release);
        }
    }
    r == 0
}

/// Takes SIGTRAP over: the program's current action goes into
/// [`PROGRAM_SIGTRAP`] and the library's handler is installed.  At load
/// (before SUD is on), when a method with the int3 protocol was chosen.
pub fn install() -> bool {
    let mut old = KSigaction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    if sys(
        NR_RT_SIGACTION,
        [SIGTRAP, 0, &mut old as *mut KSigaction as i64, 8, 0, 0],
    ) != 0
    {
        return false;
    }
    let prog = [old.handler as u64, old.flags, old.restorer as u64, old.mask];
    for (slot, v) in PROGRAM_SIGTRAP.iter().zip(prog) {
        slot.store(v, Ordering::Release);
    }
    install_for(old.flags, old.mask)
}

/// Puts the program's SIGTRAP action back (SUD could not be switched on).
pub fn uninstall() {
    if shl_sigtrap_action[0].swap(0, Ordering::Relaxed) == 0 {
        return;
    }
    let k = KSigaction {
        handler: PROGRAM_SIGTRAP[0].load(Ordering::Relaxed) as usize,
        flags: PROGRAM_SIGTRAP[1].load(Ordering::Relaxed),
        restorer: PROGRAM_SIGTRAP[2].load(Ordering::Relaxed) as usize,
        mask: PROGRAM_SIGTRAP[3].load(Ordering::Relaxed),
    };
    sys(
        NR_RT_SIGACTION,
        [SIGTRAP, &k as *const KSigaction as i64, 0, 8, 0, 0],
    );
}

/// `rt_sigaction(SIGTRAP, new, old, size)` while the protocol is on:
/// answered from [`PROGRAM_SIGTRAP`]; a new action is kept there and the
/// library's kernel action follows its `SA_ONSTACK` and mask.  `own`:
/// this process owns the library's memory (a vfork child must not change
/// the parent's copy).
pub fn sigaction(new: u64, old: u64, size: u64, own: bool) -> i64 {
    if size != 8 {
        return -22; // -EINVAL, as the kernel answers
    }
    let prev: [u64; 4] = core::array::from_fn(|i| PROGRAM_SIGTRAP[i].load(Ordering::Acquire));
    if new != 0 && own {
        let mut n = [0u64; 4];
        // SAFETY: the program passed a readable kernel sigaction.
        unsafe { core::ptr::copy_nonoverlapping(new as *const u64, n.as_mut_ptr(), 4) };
        for (slot, v) in PROGRAM_SIGTRAP.iter().zip(n) {
            slot.store(v, Ordering::Release);
        }
        install_for(n[1], n[3]);
    }
    if old != 0 {
        // SAFETY: the program passed a writable kernel sigaction.
        unsafe { core::ptr::copy_nonoverlapping(prev.as_ptr(), old as *mut u64, 4) };
    }
    0
}

/// `ucontext_t`: offset of `uc_mcontext.gregs`, and rip's index there.
const GREGS_OFFSET: usize = 40;
const REG_RIP: usize = 16;

/// The library's SIGTRAP handler (`SA_SIGINFO`, `SA_NODEFER`, on the stack
/// the program's action asks for): completes a trap at a site being
/// patched, passes every other SIGTRAP to the program's action.
#[no_mangle]
pub extern "C" fn shl_on_sigtrap(sig: i32, info: *mut u8, ctx: *mut u8) {
    // SAFETY: the kernel passes a valid siginfo; si_code is the int at 8.
    let code = unsafe { (info.add(8) as *const i32).read() };
    // SAFETY: the kernel passes a valid ucontext; gregs are 23 u64s at a
    // fixed offset on x86-64, and nothing else refers to them now.
    let g = unsafe { &mut *(ctx.add(GREGS_OFFSET) as *mut [u64; 23]) };
    let site = g[REG_RIP].wrapping_sub(1);
    if code == SI_KERNEL && is_ours(site) {
        STATS[0].fetch_add(1, Ordering::SeqCst);
        // The patcher runs with every signal blocked and waits for no
        // thread: it finishes.  Yield, not spin: it may need this CPU.
        while patching(site) {
            sys(NR_SCHED_YIELD, [0; 6]);
        }
        g[REG_RIP] = site; // again, as call *%rax
        return;
    }
    if code <= 0 && PATCH_BUSY.load(Ordering::SeqCst) && patch::held_by_me() {
        // Sent by a process (kill -TRAP) and landed on the patcher's own
        // thread in the middle of a patch: a program handler run here
        // could reach the int3 this thread is about to replace and wait
        // for itself.  Queued again and blocked for the rest of the
        // library's SIGSYS handler (its rt_sigreturn restores the
        // program's mask, and the signal arrives then).
        let pid = sys(NR_GETPID, [0; 6]);
        let tid = sys(NR_GETTID, [0; 6]);
        sys(NR_RT_TGSIGQUEUEINFO, [pid, tid, SIGTRAP, info as i64, 0, 0]);
        // SAFETY: uc_sigmask is at a fixed offset of the kernel's ucontext.
        unsafe { *(ctx.add(SIGMASK_OFFSET) as *mut u64) |= SIGTRAP_BIT };
        return;
    }
    chain(sig, info, ctx, code);
}

const NR_RT_TGSIGQUEUEINFO: i64 = 297;
/// Offset of `uc_sigmask` in `ucontext_t`.
const SIGMASK_OFFSET: usize = 296;

/// Whether an `int3` trap (rip = `site` + 1) is at a site the library
/// is patching or has patched.  A finished patch never leaves `cc`: a
/// site in the table that holds `cc` with no patch in progress is the
/// program's own `int3` (a JIT that wrote new code over an old site).
fn is_ours(site: u64) -> bool {
    if patching(site) {
        return true;
    }
    if !patch::is_site(site) {
        return false;
    }
    let _pkru = patch::PkruOpen::new();
    // SAFETY: the byte was just executed (as an int3) and lies in a
    // readable mapping (the patcher refuses execute-only ones); PKRU is
    // open for a page with a protection key.
    let b = unsafe { (site as *const u8).read_volatile() };
    b != 0xcc || patching(site)
}

/// A SIGTRAP that is not the library's: the program's action, as the
/// kernel would run it (the kernel already applied the program's
/// `SA_ONSTACK` and `sa_mask`: they are in the library's action).
fn chain(sig: i32, info: *mut u8, ctx: *mut u8, code: i32) {
    // Kernel-generated (int3, single step, breakpoints, si_code > 0):
    // forced, so an ignored one terminates, as in the kernel. sa_mask and
    // SA_NODEFER are the kernel's: the library's action carries the
    // program's (`install_for`).
    match crate::signals::disposition(&PROGRAM_SIGTRAP, code > 0) {
        Disposition::Default => default_action(),
        Disposition::Ignore => {}
        Disposition::Handler { handler, flags, .. } => {
            crate::signals::call_program_handler(sig, info, ctx, handler, flags)
        }
    }
}

/// SIGTRAP's default action: terminate with a core dump.  Re-sent with
/// the default disposition (SIGTRAP is not blocked here: `SA_NODEFER`),
/// then the library's action back should the process survive.
fn default_action() {
    crate::signals::send_default(SIGTRAP);
    install_for(
        PROGRAM_SIGTRAP[1].load(Ordering::Relaxed),
        PROGRAM_SIGTRAP[3].load(Ordering::Relaxed),
    );
}

#[cfg(test)]
pub mod tests {
    //! Test-only: hold a poke at its int3 until a thread traps on it.
    use super::*;
    use core::sync::atomic::AtomicBool;

    /// Set: the next `poke` waits (at most 2 s) after its int3 for a trap.
    pub static HOLD: AtomicBool = AtomicBool::new(false);

    pub(super) fn hold() {
        if !HOLD.swap(false, Ordering::SeqCst) {
            return;
        }
        let t = std::time::Instant::now();
        let seen = STATS[0].load(Ordering::SeqCst);
        while STATS[0].load(Ordering::SeqCst) == seen && t.elapsed().as_secs() < 2 {
            sys(NR_SCHED_YIELD, [0; 6]);
        }
    }
}
