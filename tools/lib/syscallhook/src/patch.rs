// SPDX-License-Identifier: GPL-2.0

//! Rewriting `syscall` (0f 05) into `call *%rax` (ff d0), and the set of
//! rewritten sites that the hook checks every return address against.
//!
//! **Which sites.**  Only those `site::analyse` accepts inside function
//! bounds from the unwind information (`bounds.rs`), or, for JIT code in a
//! mapping no loaded object covers, from the start of the mapping (at most
//! [`JIT_SPAN`] before the site) on past the site as far as the bytes
//! decode (up to [`JIT_TAIL`] after it; a `ret` must be among them), with
//! the rest of the mapping (up to [`JIT_SPAN`] after the site) searched
//! byte by byte for branches back into the site (a slow path after the
//! `ret`): `%rax` is a
//! constant in `0..512`, the function keeps nothing below `%rsp`.  Also
//! refused: the library's own code, the vDSO, vsyscall, and a site whose two
//! bytes straddle a cache line.  Every other site stays on the SUD path,
//! correct for any `%rax`.  Each refused site is remembered (analysed once)
//! and counted per reason (`SYSCALLHOOK_VERBOSE=1` prints the counts at
//! exit; `syscallhook_patch_stat` returns them).
//!
//! **How.**  The protection comes from `/proc/self/maps` (read with raw
//! syscalls; without /proc nothing is written).  A writable mapping (an RWX
//! JIT page) is written as it is.  Otherwise the whole VMA, exactly as the
//! kernel reports it, is made `prot | PROT_WRITE` (never dropping
//! `PROT_EXEC`: other threads keep running it), the two bytes are stored,
//! and the VMA gets back exactly its `prot`.  mprotect of one page in the
//! middle of a private file mapping would split the VMA in three, and the
//! kernel could not merge them back (the written part becomes
//! `VM_ACCOUNT`); on the whole VMA nothing splits.  The pkey of the VMA is
//! kept by mprotect.  Execute-only pages (`--x`) are refused: their bytes
//! cannot be read to analyse them.  Readable pages with a protection key
//! are read with PKRU opened for the duration (a signal handler runs with
//! the default PKRU), and PKRU is restored after.  Shared mappings (`s` in
//! maps), writable or not, are refused: the store would reach the file or
//! memfd and every other process that maps it.
//!
//! **Cross-modifying code** (issue 21 item 9, `xmc.rs`).  Other threads
//! may be executing the site while it changes, and an atomic store is
//! atomic for data accesses, not for instruction fetch (Intel SDM vol. 3A,
//! "Handling Self- and Cross-Modifying Code").  So the bytes change as
//! the kernel's `text_poke_bp` changes its text: `int3` on the first
//! byte, a core sync of every thread (`membarrier(SYNC_CORE)`, or a
//! TLB-shootdown `mprotect` without it), the second byte, a sync, the new
//! first byte, a sync; a thread that runs into the `int3` takes a SIGTRAP
//! whose handler waits for the patch and runs the site again.  SIGTRAP
//! gets the protection SIGSYS has (masks, `rt_sigaction`, the SIGSYS
//! handler's mask, `shl_rearm`).  Where no sync is known to work (no
//! membarrier and a CPU with broadcast TLB invalidation) the site is
//! written with one 2-byte store that does not cross a cache line, as
//! before, and counted (`plain-store`).  Writing through `/proc/self/mem`
//! instead would avoid mprotect but goes through the kernel's `memcpy`,
//! which promises no order of the bytes: a thread could execute a torn
//! `ff 05` (an `incl` of a RIP-relative address).
//!
//! **Locking.**  One lock serialises rewrites (a maps read, the mprotect
//! window and the store must not interleave with another thread's): a
//! waiter spins a little, then sleeps on a futex word that every release
//! bumps (real-time spinners would never let a preempted holder run).
//! `rewrite` runs in the SIGSYS handler with every signal blocked but
//! SIGTRAP (the int3 protocol needs it there: `xmc.rs`, whose handler
//! defers a `kill -TRAP` that lands on the patcher's thread in the middle
//! of a patch, so that no program handler runs there and into its own
//! `int3`), and eager mode blocks them all, so nothing can interrupt the
//! holder on its own thread and re-enter; should it happen anyway (a
//! handler that does not block signals), the lock knows its holder's
//! thread (its TLS block, found without a syscall) and the re-entered call
//! leaves the site on SUD instead of waiting.  No allocation or libc lock
//! is taken while it is held.  fork
//! handlers take the lock around `fork()`, so that a child never inherits
//! it held by a thread it does not have (nor an open mprotect window).

use core::cell::UnsafeCell;
use core::fmt::Write;
use core::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};

use crate::entry::{self, sys};
use crate::maps::{self, Vma};
use crate::site::{self, Refusal, REFUSALS, REFUSAL_NAMES};
use crate::{bounds, thread, Buf};

/// Size of the rewritten-site table.
const SITES: usize = 1 << 16;

/// Open-addressing set of rewritten site addresses (0 = empty): slot =
/// `(addr * 0x9e3779b97f4a7c15) >> 48`, linear probing.  Exported for the
/// entry assembly's fast path, which probes until it finds the address or
/// an empty slot.
///
/// Entries go when their code does (issue 21 item 12): `munmap`, `mremap`
/// and `mmap(MAP_FIXED)` over a site remove it ([`mapping_call`]), so that
/// a call through a NULL pointer from new code at an old site address is
/// not taken for a syscall.  A removed entry becomes a tombstone
/// ([`TOMB`]: non-zero, so probes for other addresses walk past it, and
/// never equal to an address), reused by later inserts; a tombstone
/// followed by an empty slot becomes empty itself (no probe chain runs
/// through it), so only tombstones inside clusters stay.  Every change is
/// one atomic store made under the lock, and none ever makes a live
/// entry unreachable from its first slot, so the lock-free readers (the
/// asm, [`is_site`]) never miss one.  At most 7/8 of the slots are in use
/// (live or tombstone): empty ones remain, so every probe loop ends,
/// the asm's too (beyond that a site is refused as `table-full` and stays
/// on SUD).
#[no_mangle]
pub static shl_site_set: [AtomicU64; SITES] = [const { AtomicU64::new(0) }; SITES];
/// Slots of `shl_site_set` in use (live entries and tombstones).
static SITES_USED: AtomicUsize = AtomicUsize::new(0);

/// Sites analysed and refused (same hashing, same removal), so that a
/// refused site costs one lookup per trap, not one analysis.
const REFUSED_SITES: usize = 1 << 14;
static REFUSED_SET: [AtomicU64; REFUSED_SITES] = [const { AtomicU64::new(0) }; REFUSED_SITES];
static REFUSED_USED: AtomicUsize = AtomicUsize::new(0);

/// A removed entry.
const TOMB: u64 = u64::MAX;

/// Number of sites rewritten.
static REWRITTEN: AtomicU64 = AtomicU64::new(0);
/// Number of sites refused, per [`Refusal`].
static REFUSED: [AtomicU64; REFUSALS] = [const { AtomicU64::new(0) }; REFUSALS];

/// Serialises rewrites; see the file header.  Holds the holder thread's
/// TLS block address (0: free); its process is in [`LOCK_PID`].
static PATCH_LOCK: AtomicI64 = AtomicI64::new(0);
/// The holder's process: `shl_table_pid` when it took [`PATCH_LOCK`].
static LOCK_PID: AtomicU64 = AtomicU64::new(0);
/// Bumped at every release of [`PATCH_LOCK`]: the futex word waiters
/// sleep on.
static PATCH_SEQ: AtomicU32 = AtomicU32::new(0);
/// Threads asleep (or about to sleep) on [`PATCH_SEQ`].
static PATCH_WAITERS: AtomicU32 = AtomicU32::new(0);

/// JIT code (no loaded object): the analysis starts at the start of the
/// mapping, if that is at most this far before the site.
pub const JIT_SPAN: u64 = 256 << 10;
/// JIT code: the `ret` that ends the function must be this close after it.
const JIT_TAIL: u64 = 4096;

fn slot(addr: u64, len: usize) -> usize {
    (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 48) as usize % len
}

/// Address bits of a set entry (user addresses are below 2^56; the
/// refused set keeps the reason in the top byte).
const ADDR: u64 = (1 << 56) - 1;

fn contains(set: &[AtomicU64], addr: u64) -> bool {
    let mut i = slot(addr, set.len());
    for _ in 0..set.len() {
        match set[i].load(Ordering::Acquire) {
            0 => return false,
            a if a != TOMB && a & ADDR == addr => return true,
            _ => i = (i + 1) % set.len(),
        }
    }
    false
}

/// Inserts `addr` with `tag` in the top byte (0 for the site table) into
/// the first tombstone or empty slot of its probe chain, keeping at least
/// `len / 8` slots empty (`used` counts those in use).  Under the lock
/// (or in a test's private table).  False if the table is full.
fn insert_tagged(set: &[AtomicU64], used: &AtomicUsize, addr: u64, tag: u64) -> bool {
    let n = set.len();
    // Retried if the slot changed under us: only a call that could not
    // take the lock (see `mapping_call`) races with the holder.
    for _ in 0..4 {
        let mut i = slot(addr, n);
        let mut tomb = None;
        for _ in 0..n {
            match set[i].load(Ordering::Acquire) {
                0 => break,
                TOMB => {
                    tomb.get_or_insert(i);
                }
                a if a & ADDR == addr => return true,
                _ => {}
            }
            i = (i + 1) % n;
        }
        let (at, old) = match tomb {
            Some(t) => (t, TOMB),
            None if set[i].load(Ordering::Relaxed) == 0
                && used.load(Ordering::Relaxed) < n - n / 8 =>
            {
                (i, 0)
            }
            None => return false,
        };
        let new = addr | tag << 56;
        if set[at]
            .compare_exchange(old, new, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            if old == 0 {
                used.fetch_add(1, Ordering::Relaxed);
            }
            return true;
        }
    }
    false
}

fn insert(set: &[AtomicU64], used: &AtomicUsize, addr: u64) -> bool {
    insert_tagged(set, used, addr, 0)
}

/// Removes every entry with an address in `lo..hi` (tombstones), then
/// empties the tombstones that end a cluster.  Calls `moved` with each
/// removed address.  Under the lock (or in a test's private table).
fn remove_range(
    set: &[AtomicU64],
    used: &AtomicUsize,
    lo: u64,
    hi: u64,
    mut moved: impl FnMut(u64, u64),
) {
    let n = set.len();
    for e in set {
        let a = e.load(Ordering::Acquire);
        if a != 0
            && a != TOMB
            && (lo..hi).contains(&(a & ADDR))
            && e.compare_exchange(a, TOMB, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            moved(a & ADDR, a >> 56);
        }
    }
    // A tombstone followed by an empty slot: no live entry lies beyond it
    // in its cluster, so no probe needs to walk through it.
    for j in 0..n {
        if set[j].load(Ordering::Relaxed) != 0 {
            continue;
        }
        let mut k = (j + n - 1) % n;
        while k != j
            && set[k]
                .compare_exchange(TOMB, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            used.fetch_sub(1, Ordering::Relaxed);
            k = (k + n - 1) % n;
        }
    }
}

/// Code ranges (whole VMAs) in which a site was ever rewritten or refused:
/// a `munmap`/`mremap`/`mmap(MAP_FIXED)` that touches none of them needs
/// no table update (the common case: heap memory).  Grown under the
/// lock; [`RANGES_OVERFLOW`] when there are more than fit (then every
/// such call updates the tables).
const RANGES: usize = 64;
static CODE_LO: [AtomicU64; RANGES] = [const { AtomicU64::new(0) }; RANGES];
static CODE_HI: [AtomicU64; RANGES] = [const { AtomicU64::new(0) }; RANGES];
static RANGES_OVERFLOW: AtomicBool = AtomicBool::new(false);

/// Records that `lo..hi` holds sites.  Under the lock.
fn record_range(lo: u64, hi: u64) {
    for i in 0..RANGES {
        let (l, h) = (
            CODE_LO[i].load(Ordering::Relaxed),
            CODE_HI[i].load(Ordering::Relaxed),
        );
        if h == 0 {
            CODE_LO[i].store(lo, Ordering::Relaxed);
            CODE_HI[i].store(hi, Ordering::Release);
            return;
        }
        if lo <= h && l <= hi {
            // Overlapping or adjacent: grow it.
            CODE_LO[i].store(l.min(lo), Ordering::Relaxed);
            CODE_HI[i].store(h.max(hi), Ordering::Release);
            return;
        }
    }
    RANGES_OVERFLOW.store(true, Ordering::Relaxed);
}

/// Whether `lo..hi` may hold a rewritten or refused site.
fn may_hold_sites(lo: u64, hi: u64) -> bool {
    RANGES_OVERFLOW.load(Ordering::Relaxed)
        || (0..RANGES).any(|i| {
            let h = CODE_HI[i].load(Ordering::Acquire);
            h != 0 && lo < h && CODE_LO[i].load(Ordering::Relaxed) < hi
        })
}

const NR_MMAP: i64 = 9;
const NR_MUNMAP: i64 = 11;
const NR_MREMAP: i64 = 25;
const MAP_FIXED: u64 = 0x10;

/// Whether `nr` is one of the calls [`mapping_call`] watches (the
/// dispatcher sends them through it; their class must send them to the
/// Rust dispatch).
pub fn watches(nr: i64) -> bool {
    matches!(nr, NR_MMAP | NR_MUNMAP | NR_MREMAP)
}

/// Runs `call` (the syscall `nr` with `args`, as the dispatcher makes it)
/// and removes the sites whose code it unmapped or replaced: `munmap`,
/// `mmap` with `MAP_FIXED`, and `mremap` (whose sites move with the
/// mapping: re-entered at their new addresses).  Called by the dispatcher
/// for the numbers [`watches`] accepts, on the rewritten path and from the
/// SIGSYS handler.  The lock is held around the call when the range may
/// hold sites, so that no rewrite has an mprotect window open on memory
/// that changes under it.
pub fn mapping_call(nr: i64, args: &[u64; 6], call: impl FnOnce() -> i64) -> i64 {
    let page = |x: u64| x.wrapping_add(4095) & !4095;
    let (lo, hi) = match nr {
        NR_MUNMAP | NR_MREMAP => (args[0], args[0].wrapping_add(page(args[1]))),
        NR_MMAP if args[3] & MAP_FIXED != 0 => (args[0], args[0].wrapping_add(page(args[1]))),
        _ => return call(),
    };
    let failed = |r: i64| (-4095..0).contains(&r);
    if hi <= lo || !may_hold_sites(lo, hi) {
        let r = call();
        if nr == NR_MREMAP && !failed(r) && r as u64 != lo {
            // Moved to a place where code may have been (MREMAP_FIXED).
            let dest = (r as u64, (r as u64).wrapping_add(page(args[2])));
            if may_hold_sites(dest.0, dest.1) {
                let _lock = Locked::new();
                remove_both(dest.0, dest.1);
            }
        }
        return r;
    }
    // Held for the call when free; None (this thread holds it, or another
    // process does: a vfork child) still updates the tables: removal is
    // safe against the lock-free readers, only a racing rewrite is not.
    let _lock = Locked::new();
    let r = call();
    if failed(r) {
        return r;
    }
    let (new, old_len, new_len) = (r as u64, page(args[1]), page(args[2]));
    if nr != NR_MREMAP {
        remove_both(lo, hi);
    } else if new == lo {
        // Resized in place: only a shrink loses code.
        if new_len < old_len {
            remove_both(lo + new_len, hi);
        }
    } else {
        // Moved: the destination's old entries go, and the rewritten sites
        // move with their code (the old range is unmapped, or left empty
        // by MREMAP_DONTUNMAP).  The ranges do not overlap, so an entry
        // added here is never in lo..hi.
        remove_both(new, new.wrapping_add(new_len));
        record_range(new, new.wrapping_add(new_len));
        remove_range(&shl_site_set, &SITES_USED, lo, hi, |a, _| {
            if a - lo + 2 <= new_len {
                // A full table loses the site: its ff d0 then dies loudly
                // as a call that is not a syscall, never runs as a wrong one.
                insert(&shl_site_set, &SITES_USED, a - lo + new);
            }
        });
        remove_range(&REFUSED_SET, &REFUSED_USED, lo, hi, |_, _| {});
    }
    r
}

/// Removes the entries of both tables in `lo..hi`.
fn remove_both(lo: u64, hi: u64) {
    remove_range(&shl_site_set, &SITES_USED, lo, hi, |_, _| {});
    remove_range(&REFUSED_SET, &REFUSED_USED, lo, hi, |_, _| {});
}

/// Whether `addr` is a site this library rewrote.
pub fn is_site(addr: u64) -> bool {
    contains(&shl_site_set, addr)
}

/// `syscallhook_bench_mark_site`: enters `addr` as a rewritten site
/// without rewriting anything (tests and benchmarks only).
pub fn mark_site(addr: u64) -> bool {
    let _lock = Locked::new();
    // Its page counts as code: a munmap there removes the entry.
    record_range(addr & !4095, (addr & !4095) + 4096);
    insert(&shl_site_set, &SITES_USED, addr) && is_site(addr)
}

/// Records that `site` stays on the SUD path, and why (counted once).
fn refuse(site: u64, why: Refusal) {
    if !contains(&REFUSED_SET, site) {
        REFUSED[why as usize].fetch_add(1, Ordering::Relaxed);
        insert_tagged(&REFUSED_SET, &REFUSED_USED, site, why as u64);
    }
}

fn in_library(addr: u64) -> bool {
    let start = entry::shl_text_start as *const () as u64;
    let end = entry::shl_text_end as *const () as u64;
    (start..end).contains(&addr)
}

const NR_GETPID: i64 = 39;

/// Sleeps on a lock held by another thread before its process is checked
/// with a real `getpid` (see `Locked::new`).
const SLEEPS_BEFORE_GETPID: u32 = 64;

/// The lock, held for the life of the guard.
struct Locked;

impl Locked {
    /// Takes the lock; None if this very thread already holds it (a signal
    /// that interrupted a rewrite, or a fork handler of another library
    /// between our prepare and child/parent handlers), or if a thread of
    /// another process holds it: a fork child inherits the lock taken by
    /// the parent's `before_fork` until its own `after_fork` runs, and its
    /// first syscalls (glibc's `_Fork` sets the robust list in the child)
    /// trap before that; a `vfork` child shares the parent's memory and
    /// lock. The caller then leaves the site on SUD this time rather than
    /// wait for a holder that cannot release it.
    ///
    /// No syscall on the way in: the patcher runs in the SIGSYS handler
    /// with every signal blocked, where a seccomp filter that traps or
    /// kills `getpid` (the kernel's seccomp selftests use it as their
    /// victim) would kill the process or the thread for a call the program
    /// never made. The thread is its TLS block (one per live thread; a
    /// `vfork` child that shares its parent's is the parent here, which is
    /// blocked in vfork and holds no lock), the process `shl_table_pid`,
    /// which the library's fork path sets in the child before it returns.
    /// Only a lock still held after `SLEEPS_BEFORE_GETPID` sleeps asks the
    /// kernel for the pid (a holder in a process that `clone` without
    /// `CLONE_VM` copied the lock into).
    ///
    /// A waiter spins a little, then sleeps on a futex: the holder reads
    /// /proc/self/maps and calls mprotect, which may sleep, and threads that
    /// spin meanwhile (64 threads trapping on the same new sites at once,
    /// as in the kernel's `futex_numa_mpol` selftest) would keep it off the
    /// CPUs for seconds, or for ever when they are real-time threads
    /// (`futex_requeue_pi`'s `SCHED_FIFO` ones hung lazy mode).
    fn new() -> Option<Self> {
        let me = thread::tls() as i64;
        let pid = crate::shl_table_pid.load(Ordering::Relaxed);
        let mut spins = 0u32;
        let mut sleeps = 0u32;
        loop {
            match PATCH_LOCK.compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => {
                    LOCK_PID.store(pid, Ordering::Relaxed);
                    return Some(Locked);
                }
                Err(holder) if holder == me => return None,
                Err(0) => {} // a spurious failure of the weak exchange
                Err(_) if LOCK_PID.load(Ordering::Relaxed) != pid => return None,
                Err(_) if spins < LOCK_SPINS => {
                    spins += 1;
                    core::hint::spin_loop();
                }
                Err(_) => {
                    spins = 0;
                    sleeps += 1;
                    // (LOCK_PID 0: the library never initialised, as in
                    // its host tests; no fork child can hold the lock.)
                    let holder = LOCK_PID.load(Ordering::Relaxed);
                    if sleeps == SLEEPS_BEFORE_GETPID
                        && holder != 0
                        && sys(NR_GETPID, [0; 6]) as u64 != holder
                    {
                        return None;
                    }
                    // Announce the waiter, then read the sequence, then
                    // look at the lock again (all SeqCst, against the
                    // release's store, bump and waiter count): either the
                    // release sees this waiter and wakes it, or this
                    // thread sees the release (the lock free, or a newer
                    // sequence, on which FUTEX_WAIT returns at once).
                    PATCH_WAITERS.fetch_add(1, Ordering::SeqCst);
                    let seq = PATCH_SEQ.load(Ordering::SeqCst);
                    if PATCH_LOCK.load(Ordering::SeqCst) != 0 {
                        // 10 ms at most: a bound, not a mechanism.
                        let ts = [0i64, 10_000_000];
                        sys(
                            NR_FUTEX,
                            [
                                PATCH_SEQ.as_ptr() as i64,
                                FUTEX_WAIT_PRIVATE,
                                i64::from(seq),
                                ts.as_ptr() as i64,
                                0,
                                0,
                            ],
                        );
                    }
                    PATCH_WAITERS.fetch_sub(1, Ordering::SeqCst);
                }
            }
        }
    }
}

/// Attempts a waiter spins before it sleeps on [`PATCH_SEQ`].
const LOCK_SPINS: u32 = 200;
const NR_FUTEX: i64 = 202;
const FUTEX_WAIT_PRIVATE: i64 = 128;
const FUTEX_WAKE_PRIVATE: i64 = 129;

/// Releases [`PATCH_LOCK`] and wakes one sleeping waiter.
fn unlock() {
    PATCH_LOCK.store(0, Ordering::SeqCst);
    PATCH_SEQ.fetch_add(1, Ordering::SeqCst);
    if PATCH_WAITERS.load(Ordering::SeqCst) != 0 {
        sys(
            NR_FUTEX,
            [PATCH_SEQ.as_ptr() as i64, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0],
        );
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        unlock();
    }
}

/// fork(): no other thread may be inside a rewrite (its mprotect window
/// open, the lock held) when the address space is copied, or the child
/// would wait for a holder that does not exist in it.  The forking thread
/// takes the lock before the fork and both sides release it after.
extern "C" fn before_fork() {
    core::mem::forget(Locked::new());
}

extern "C" fn after_fork() {
    unlock();
}

extern "C" {
    fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> i32;
}

/// Scratch space for reading `/proc/self/maps`, used only under the lock
/// (not on the stack: the SIGSYS handler may run on a small one).
struct Scratch(UnsafeCell<[u8; 8192]>);
// SAFETY: only used while PATCH_LOCK is held (see `Patcher`).
unsafe impl Sync for Scratch {}
static SCRATCH: Scratch = Scratch(UnsafeCell::new([0; 8192]));

/// Branch-target bitmap for `site::analyse`, used only under the lock.
struct Targets(UnsafeCell<[u32; site::FLOW_WORDS]>);
// SAFETY: only used while PATCH_LOCK is held (in `attempt`).
unsafe impl Sync for Targets {}
static TARGETS: Targets = Targets(UnsafeCell::new([0; site::FLOW_WORDS]));

/// 0: not probed, 1: no PKU, 2: PKU enabled by the OS.
static PKU: AtomicU8 = AtomicU8::new(0);

fn pku_enabled() -> bool {
    if PKU.load(Ordering::Relaxed) == 0 {
        // Leaf 7 subleaf 0 ECX bit 4 is OSPKE (CR4.PKE set: rdpkru and
        // wrpkru usable).
        let r = core::arch::x86_64::__cpuid_count(7, 0);
        let max = core::arch::x86_64::__cpuid(0).eax;
        let on = max >= 7 && r.ecx & (1 << 4) != 0;
        PKU.store(if on { 2 } else { 1 }, Ordering::Relaxed);
    }
    PKU.load(Ordering::Relaxed) == 2
}

/// PKRU opened (all keys readable and writable) for the guard's life, so
/// that code pages with a protection key can be read and written from the
/// signal handler, which runs with the default PKRU.
pub(crate) struct PkruOpen(Option<u32>);

impl PkruOpen {
    /// Opens PKRU (if the OS enabled protection keys) until dropped.
    pub(crate) fn new() -> Self {
        if !pku_enabled() {
            return PkruOpen(None);
        }
        let old: u32;
        // SAFETY: OSPKE is set. rdpkru (0f 01 ee) needs ecx = 0, returns
        // PKRU in eax and zeroes edx.
        unsafe {
            core::arch::asm!(".byte 0x0f, 0x01, 0xee", in("ecx") 0, out("eax") old,
                             out("edx") _, options(nomem, nostack, preserves_flags));
        }
        if old != 0 {
            write_pkru(0);
        }
        PkruOpen(Some(old))
    }
}

fn write_pkru(v: u32) {
    // SAFETY: only called when OSPKE is set. wrpkru (0f 01 ef) needs
    // ecx = edx = 0 and writes eax into PKRU.
    unsafe {
        core::arch::asm!(".byte 0x0f, 0x01, 0xef", in("eax") v, in("ecx") 0, in("edx") 0,
                         options(nostack, preserves_flags));
    }
}

impl Drop for PkruOpen {
    fn drop(&mut self) {
        if let Some(old) = self.0 {
            if old != 0 {
                write_pkru(old);
            }
        }
    }
}

const NR_MPROTECT: i64 = 10;
const NR_RT_SIGPROCMASK: i64 = 14;
const PROT_WRITE: i64 = 2;
const VSYSCALL: u64 = 0xffff_ffff_ff60_0000;

/// Sites analysed and entered in the table, whose bytes are written when
/// the mprotect window closes (one int3-protocol batch).  Used only under
/// the lock.
const BATCH: usize = 256;
struct Pending(UnsafeCell<[u64; BATCH]>);
// SAFETY: only used while PATCH_LOCK is held (see `Patcher`).
unsafe impl Sync for Pending {}
static PENDING: Pending = Pending(UnsafeCell::new([0; BATCH]));

/// The VMA being patched, whether it is currently made writable, and how
/// many sites wait in [`PENDING`].  Lives only under the lock.
struct Patcher {
    vma: Option<Vma>,
    open: bool,
    pending: usize,
}

impl Patcher {
    /// Queues `site` (analysed, in the table, its window open) for the
    /// batch write.
    fn defer(&mut self, site: u64) {
        if self.pending == BATCH {
            self.flush();
        }
        // SAFETY: the lock is held (Patcher only exists under it).
        let all: &mut [u64; BATCH] = unsafe { &mut *PENDING.0.get() };
        all[self.pending] = site;
        self.pending += 1;
    }
    /// Writes the queued sites (the window is still open).
    fn flush(&mut self) {
        // SAFETY: the lock is held (Patcher only exists under it).
        let all: &[u64; BATCH] = unsafe { &*PENDING.0.get() };
        let sites = &all[..self.pending];
        crate::xmc::poke(sites, [0xff, 0xd0]);
        self.pending = 0;
    }
    /// The VMA holding `site` (the cached one if it still covers it).
    fn vma_for(&mut self, site: u64) -> Result<Vma, Refusal> {
        if let Some(v) = self.vma.filter(|v| v.start <= site && site + 2 <= v.end) {
            return Ok(v);
        }
        self.close();
        // SAFETY: the lock is held (Patcher only exists under it), so no one
        // else uses SCRATCH.
        let buf = unsafe { &mut *SCRATCH.0.get() };
        let v = maps::find(site, buf)
            .map_err(|_| Refusal::NoMaps)?
            .filter(|v| site + 2 <= v.end)
            .ok_or(Refusal::Protection)?;
        self.vma = Some(v);
        Ok(v)
    }
    /// Makes the current VMA writable (if it is not already).
    fn open(&mut self) -> Result<(), Refusal> {
        let Some(v) = self.vma else {
            return Err(Refusal::Protection);
        };
        if self.open || v.write {
            return Ok(());
        }
        let r = sys(
            NR_MPROTECT,
            [
                v.start as i64,
                (v.end - v.start) as i64,
                v.prot() | PROT_WRITE,
                0,
                0,
                0,
            ],
        );
        if r != 0 {
            return Err(Refusal::Mprotect);
        }
        self.open = true;
        Ok(())
    }
    /// Writes the queued sites, then gives the current VMA back exactly
    /// its protection.
    fn close(&mut self) {
        self.flush();
        if let (true, Some(v)) = (self.open, self.vma) {
            sys(
                NR_MPROTECT,
                [v.start as i64, (v.end - v.start) as i64, v.prot(), 0, 0, 0],
            );
        }
        self.open = false;
        self.vma = None;
    }
}

/// Function bounds of `site` in `vma`: the FDE, or the JIT fallback; and
/// for JIT code, the end of what the caller should search for branches
/// back into the site beyond the function (see `site::analyse_jit`).
fn function_of(site: u64, vma: &Vma) -> Result<(u64, u64, Option<u64>), Refusal> {
    if !bounds::available() {
        return Err(Refusal::NoBounds); // cannot tell JIT code from a library
    }
    match bounds::find_object(site) {
        Some(obj) => {
            let lib = entry::shl_text_start as *const () as u64;
            if (obj.map_start..obj.map_end).contains(&lib) {
                return Err(Refusal::OwnCode);
            }
            let (b, e) = bounds::function_bounds(&obj, site).ok_or(Refusal::NoBounds)?;
            Ok((b, e, None))
        }
        None => {
            if site - vma.start > JIT_SPAN {
                return Err(Refusal::NoBounds);
            }
            let tail = vma.end.min(site + JIT_TAIL) - site;
            // SAFETY: [site, site + tail) lies in a readable mapping.
            let code = unsafe { core::slice::from_raw_parts(site as *const u8, tail as usize) };
            let end = site::jit_end(code, site).ok_or(Refusal::NoBounds)?;
            // Branches back are searched for as far as the analysis may
            // start before the site: the rest of the mapping, up to
            // JIT_SPAN after the site.
            Ok((vma.start, end, Some(vma.end.min(site + JIT_SPAN))))
        }
    }
}

/// Analyses `site` and rewrites it.  Ok(true): rewritten now, Ok(false):
/// it already was.  Must run under the lock with PKRU opened.
fn attempt(site: u64, p: &mut Patcher) -> Result<bool, Refusal> {
    if site % 64 == 63 {
        return Err(Refusal::CacheLine);
    }
    if in_library(site) || site >= VSYSCALL {
        return Err(Refusal::OwnCode);
    }
    let vma = p.vma_for(site)?;
    if vma.special {
        return Err(Refusal::OwnCode);
    }
    // Never a shared mapping, writable or not: the store would reach the
    // file (or memfd, or shm segment) and every other process mapping it,
    // which may not be hooked at all (issue 21 item 7).
    if !vma.read || !vma.exec || vma.shared {
        return Err(Refusal::Protection);
    }
    // SAFETY: the two bytes lie in a readable mapping (checked above; PKRU
    // is open).
    let cur = unsafe {
        [
            (site as *const u8).read_volatile(),
            ((site + 1) as *const u8).read_volatile(),
        ]
    };
    if cur == [0xff, 0xd0] && is_site(site) {
        return Ok(false);
    }
    if cur != [0x0f, 0x05] {
        return Err(Refusal::Desync);
    }
    let (b, e, jit_limit) = function_of(site, &vma)?;
    if b < vma.start || e > vma.end || e <= b {
        return Err(Refusal::NoBounds);
    }
    // SAFETY: [b, e) lies inside one readable mapping.
    let code = unsafe { core::slice::from_raw_parts(b as *const u8, (e - b) as usize) };
    // SAFETY: the lock is held, so no one else uses TARGETS.
    let targets = unsafe { &mut *TARGETS.0.get() };
    match jit_limit {
        Some(limit) => {
            // SAFETY: [e, limit) lies in the same readable mapping.
            let tail = unsafe {
                core::slice::from_raw_parts(e as *const u8, limit.saturating_sub(e) as usize)
            };
            site::analyse_jit(code, b, site, targets, tail)?;
        }
        None => {
            site::analyse(code, b, site, targets)?;
        }
    }
    p.open()?;
    // Known before it exists: another thread may run the new call right
    // after the store, and the hook checks the set.
    record_range(vma.start, vma.end);
    if !insert(&shl_site_set, &SITES_USED, site) {
        return Err(Refusal::TableFull);
    }
    // The mapping is writable now (or was already) and the two bytes do
    // not cross a cache line: ff d0 = call *%rax, with the int3 protocol
    // (xmc.rs) or one atomic 2-byte store, for the batch of sites of this
    // window when it closes.
    p.defer(site);
    Ok(true)
}

/// Rewrites the sites in `sites` (sorted, so that consecutive sites in one
/// VMA share one mprotect window).  Callers block every signal.  Returns
/// how many sites are rewritten (now or before).
fn rewrite_sorted(sites: &[u64]) -> usize {
    let Some(_lock) = Locked::new() else {
        return 0;
    };
    let _pkru = PkruOpen::new();
    let mut p = Patcher {
        vma: None,
        open: false,
        pending: 0,
    };
    let mut n = 0;
    for &site in sites {
        if contains(&REFUSED_SET, site) {
            continue;
        }
        match attempt(site, &mut p) {
            Ok(new) => {
                n += 1;
                if new {
                    REWRITTEN.fetch_add(1, Ordering::Relaxed);
                }
            }
            Err(why) => refuse(site, why),
        }
    }
    p.close();
    n
}

/// Rewrites the `syscall` at `site` (its bytes must be `0f 05`) if the
/// analysis allows it.  Returns whether the site now is (or already was)
/// `call *%rax`.  Async-signal-safe; called from the SIGSYS handler
/// (every signal blocked but SIGTRAP, see the file header).
pub fn rewrite(site: u64) -> bool {
    if contains(&REFUSED_SET, site) {
        return false;
    }
    rewrite_sorted(&[site]) == 1
}

/// Whether this thread holds the patch lock (no syscall: see
/// `Locked::new`).
pub fn held_by_me() -> bool {
    PATCH_LOCK.load(Ordering::Acquire) == thread::tls() as i64
        && LOCK_PID.load(Ordering::Relaxed) == crate::shl_table_pid.load(Ordering::Relaxed)
}

/// Runs `f` with every signal blocked in this thread, as [`rewrite`]
/// requires, and restores the thread's mask after.
fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    let all = u64::MAX;
    let mut old = 0u64;
    sys(
        NR_RT_SIGPROCMASK,
        [
            0,
            &all as *const u64 as i64,
            &mut old as *mut u64 as i64,
            8,
            0,
            0,
        ],
    );
    let r = f();
    sys(
        NR_RT_SIGPROCMASK,
        [2, &old as *const u64 as i64, 0, 8, 0, 0],
    );
    r
}

/// Eager mode: at load, rewrites the `syscall`s of every loaded object
/// (except this library and the vDSO) that the same analysis accepts,
/// finding them by decoding each function the object's `.eh_frame_hdr`
/// lists from its first byte (never a sweep through data in `.text`).
/// SUD stays on for anything not rewritten.  Returns the number of sites
/// rewritten.
pub fn rewrite_all_executable() -> usize {
    let lib = entry::shl_text_start as *const () as u64;
    let mut sites = Vec::new();
    for l in bounds::loaded_objects() {
        if l.eh_frame_hdr == 0 || (l.span.0..l.span.1).contains(&lib) {
            continue;
        }
        bounds::for_each_function(l.eh_frame_hdr, l.span.0, l.span.1, |b, e| {
            if e <= b || e - b > 1 << 24 || !l.code.iter().any(|&(lo, hi)| lo <= b && e <= hi) {
                return;
            }
            // SAFETY: [b, e) lies in a readable, executable PT_LOAD segment.
            let code = unsafe { core::slice::from_raw_parts(b as *const u8, (e - b) as usize) };
            site::for_each_syscall(code, b, |s| sites.push(s));
        });
    }
    sites.sort_unstable();
    sites.dedup();
    // Every signal blocked while the lock is held (see the file header).
    with_signals_blocked(|| rewrite_sorted(&sites))
}

/// Patching statistics for tests and tools: `i = 0` is the number of sites
/// rewritten, `i = 1 + r` the number of sites refused for reason `r`, in
/// the order of `SYSCALLHOOK_VERBOSE=1`'s report (`no-bounds`, `desync`,
/// `rax-unknown`, `rax-range`, `branch-target`, `indirect-jump`,
/// `red-zone`, `cache-line`, `own-code`, `protection`, `no-maps`,
/// `mprotect`, `table-full`); then (`i = 14..=17`) the int3 protocol's
/// counters (`xmc.rs`): int3 traps taken at sites being patched, rewrites
/// core-synced by membarrier, by mprotect, and made as one plain store;
/// 0 beyond.
#[no_mangle]
pub extern "C" fn syscallhook_patch_stat(i: u32) -> u64 {
    match i as usize {
        0 => REWRITTEN.load(Ordering::Relaxed),
        r if r <= REFUSALS => REFUSED[r - 1].load(Ordering::Relaxed),
        r if r <= REFUSALS + crate::xmc::STATS.len() => {
            crate::xmc::STATS[r - 1 - REFUSALS].load(Ordering::Relaxed)
        }
        _ => 0,
    }
}

/// Prints the patching statistics (`SYSCALLHOOK_VERBOSE=1`, at exit; with
/// `=2` also every refused site).
extern "C" fn report_at_exit() {
    if std::env::var_os("SYSCALLHOOK_VERBOSE").is_none()
        || std::env::var_os("SYSCALLHOOK_DISABLE").is_some()
    {
        return;
    }
    let mut b = Buf::new();
    let _ = write!(
        b,
        "syscallhook: sites rewritten {}",
        REWRITTEN.load(Ordering::Relaxed)
    );
    for (name, c) in REFUSAL_NAMES.iter().zip(REFUSED.iter()) {
        let c = c.load(Ordering::Relaxed);
        if c != 0 {
            let _ = write!(b, ", {name} {c}");
        }
    }
    let _ = write!(b, "; sync {:?}", crate::xmc::method());
    for (name, c) in crate::xmc::STAT_NAMES.iter().zip(crate::xmc::STATS.iter()) {
        let _ = write!(b, ", {name} {}", c.load(Ordering::Relaxed));
    }
    let _ = writeln!(b);
    crate::say(b.bytes());
    if std::env::var_os("SYSCALLHOOK_VERBOSE").is_some_and(|v| v == "2") {
        report_refused();
    }
}

#[repr(C)]
struct DlInfo {
    fname: *const core::ffi::c_char,
    fbase: *mut core::ffi::c_void,
    sname: *const core::ffi::c_char,
    saddr: *mut core::ffi::c_void,
}

extern "C" {
    fn dladdr(addr: *const core::ffi::c_void, info: *mut DlInfo) -> i32;
}

/// `SYSCALLHOOK_VERBOSE=2`: one line per refused site, with its reason and
/// the nearest symbol (at exit, not in a signal handler).
fn report_refused() {
    for e in REFUSED_SET
        .iter()
        .map(|e| e.load(Ordering::Relaxed))
        .filter(|&e| e != 0)
    {
        let (site, why) = (e & ADDR, (e >> 56) as usize);
        let mut info = DlInfo {
            fname: core::ptr::null(),
            fbase: core::ptr::null_mut(),
            sname: core::ptr::null(),
            saddr: core::ptr::null_mut(),
        };
        // SAFETY: dladdr only looks the address up and fills `info`.
        let found = unsafe { dladdr(site as *const core::ffi::c_void, &mut info) } != 0;
        let name = |p: *const core::ffi::c_char| {
            // SAFETY: dladdr's strings are NUL-terminated and live as long
            // as the object.
            (!p.is_null()).then(|| unsafe { core::ffi::CStr::from_ptr(p) }.to_string_lossy())
        };
        let mut b = Buf::new();
        let _ = write!(
            b,
            "syscallhook: refused {site:#x} {}",
            REFUSAL_NAMES.get(why).unwrap_or(&"?")
        );
        if found {
            let obj = name(info.fname).unwrap_or_default();
            match name(info.sname) {
                Some(sym) => {
                    let _ = write!(b, " {sym}+{:#x}", site - info.saddr as u64);
                }
                None => {
                    let _ = write!(b, " +{:#x}", site - info.fbase as u64);
                }
            }
            let _ = write!(b, " ({obj})");
        }
        let _ = writeln!(b);
        crate::say(b.bytes());
    }
}

#[used]
#[link_section = ".fini_array"]
static FINI: extern "C" fn() = report_at_exit;

/// Builds the decoder's tables at load (see `site::warm_up`), makes the
/// first `_dl_find_object` call here rather than in the handler, and
/// registers the fork handlers of the lock.
extern "C" fn warm_up_at_load() {
    bounds::init();
    site::warm_up();
    let _ = bounds::find_object(warm_up_at_load as *const () as u64);
    // SAFETY: three functions that only take or release the patch lock.
    unsafe { pthread_atfork(Some(before_fork), Some(after_fork), Some(after_fork)) };
}

// A prioritised .init_array entry runs before the plain ones (lib.rs's
// `init`, which switches SUD on).
#[used]
#[link_section = ".init_array.00200"]
static WARM_UP: extern "C" fn() = warm_up_at_load;

#[cfg(test)]
mod tests {
    //! Real rewrites in the test process (no zpoline page: the rewritten
    //! sites are never executed).
    use super::*;

    const NR_MMAP: i64 = 9;

    fn vma(addr: u64) -> Vma {
        let mut buf = [0u8; 4096];
        maps::find(addr, &mut buf).expect("maps").expect("mapped")
    }

    fn bytes(addr: u64) -> [u8; 2] {
        // SAFETY: the callers pass an address in a readable mapping.
        unsafe { [*(addr as *const u8), *((addr + 1) as *const u8)] }
    }

    /// A fresh anonymous mapping of one page with `code` at `off`, left
    /// with protection `prot`.
    /// A page of `code` at `off`, protected `prot`, between two
    /// PROT_NONE guard pages: its VMA can never merge with a neighbour
    /// (the tests run in parallel threads, and another test's page of the
    /// same protection next to it would make `vma()` comparisons fail).
    fn jit(code: &[u8], off: usize, prot: i64) -> u64 {
        let g = sys(NR_MMAP, [0, 3 * 4096, 3, 0x22, -1, 0]);
        assert!(g > 0, "mmap: {g}");
        assert_eq!(sys(NR_MPROTECT, [g, 4096, 0, 0, 0, 0]), 0);
        assert_eq!(sys(NR_MPROTECT, [g + 2 * 4096, 4096, 0, 0, 0, 0]), 0);
        let p = g + 4096;
        // SAFETY: a fresh private RW page of ours.
        unsafe {
            core::ptr::copy_nonoverlapping(code.as_ptr(), (p as usize + off) as *mut u8, code.len())
        };
        assert_eq!(sys(NR_MPROTECT, [p, 4096, prot, 0, 0, 0]), 0);
        p as u64
    }

    /// mov $39,%eax; syscall; ret
    const GETPID: [u8; 8] = [0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3];

    extern "C" {
        fn dlsym(
            h: *mut core::ffi::c_void,
            name: *const core::ffi::c_char,
        ) -> *mut core::ffi::c_void;
    }

    #[test]
    fn libc_text_keeps_its_vma_and_protection() {
        // vhangup: mov $0x99,%eax; syscall; ... (nobody calls it here).
        // SAFETY: RTLD_DEFAULT and a C string.
        let f = unsafe { dlsym(core::ptr::null_mut(), c"vhangup".as_ptr()) } as u64;
        assert_ne!(f, 0);
        // SAFETY: libc code, readable.
        let code = unsafe { core::slice::from_raw_parts(f as *const u8, 64) };
        let at = code
            .windows(2)
            .position(|w| w == [0x0f, 0x05])
            .expect("a syscall") as u64;
        let site = f + at;
        let before = vma(site);
        assert!(before.exec && before.read && !before.write && before.end - before.start > 1 << 20);
        assert!(
            site - before.start > 4096 && before.end - site > 4096,
            "not in the middle"
        );
        assert!(
            with_signals_blocked(|| rewrite(site)),
            "vhangup's site is rewritten"
        );
        assert_eq!(bytes(site), [0xff, 0xd0]);
        assert!(is_site(site));
        // Not split, same protection: one VMA, the same line.
        assert_eq!(vma(site), before);
        assert_eq!(vma(before.start), before);
        assert_eq!(vma(before.end - 1), before);
        // A second call finds it done.
        assert!(with_signals_blocked(|| rewrite(site)));
    }

    #[test]
    fn rwx_jit_page_stays_writable() {
        let p = jit(&GETPID, 0, 7);
        let before = vma(p);
        assert!(before.write && before.exec);
        assert!(with_signals_blocked(|| rewrite(p + 5)));
        assert_eq!(bytes(p + 5), [0xff, 0xd0]);
        assert_eq!(vma(p), before, "an RWX page keeps PROT_WRITE");
    }

    #[test]
    fn rx_jit_page_gets_back_rx() {
        let p = jit(&GETPID, 16, 5);
        let before = vma(p);
        assert!(!before.write && before.exec && before.read);
        assert!(with_signals_blocked(|| rewrite(p + 21)));
        assert_eq!(bytes(p + 21), [0xff, 0xd0]);
        assert_eq!(vma(p), before, "an RX page is RX again");
    }

    #[test]
    fn jit_refusals_leave_the_bytes() {
        // mov %rdi,%rax; syscall; ret
        let p = jit(&[0x48, 0x89, 0xf8, 0x0f, 0x05, 0xc3], 0, 7);
        assert!(!with_signals_blocked(|| rewrite(p + 3)));
        assert_eq!(bytes(p + 3), [0x0f, 0x05]);
        assert!(!is_site(p + 3));
        // mov %rdi,-8(%rsp); mov $39,%eax; syscall; ret
        let code = [
            0x48, 0x89, 0x7c, 0x24, 0xf8, 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3,
        ];
        let p = jit(&code, 0, 7);
        assert!(!with_signals_blocked(|| rewrite(p + 10)));
        assert_eq!(bytes(p + 10), [0x0f, 0x05]);
        // The two bytes straddle a cache line: mov at 58, syscall at 63.
        let p = jit(&GETPID, 58, 7);
        assert!(!with_signals_blocked(|| rewrite(p + 63)));
        assert_eq!(bytes(p + 63), [0x0f, 0x05]);
        // Refusals are counted and remembered.
        assert!(syscallhook_patch_stat(1 + Refusal::RaxUnknown as u32) >= 1);
        assert!(syscallhook_patch_stat(1 + Refusal::RedZone as u32) >= 1);
        assert!(syscallhook_patch_stat(1 + Refusal::CacheLine as u32) >= 1);
        assert!(contains(&REFUSED_SET, p + 63));
    }

    #[test]
    fn concurrent_rewrites_in_one_page() {
        // 32 functions `mov $39,%eax; syscall; ret` in one RX page, rewritten
        // by 4 threads at once, each in a different order.
        let mut code = [0xccu8; 32 * 16];
        for f in 0..32 {
            code[f * 16..f * 16 + 8].copy_from_slice(&GETPID);
        }
        let p = jit(&code, 0, 5);
        let before = vma(p);
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                std::thread::spawn(move || {
                    (0..32u64)
                        .map(|i| p + ((i * (2 * t + 1)) % 32) * 16 + 5)
                        .all(|s| with_signals_blocked(|| rewrite(s)))
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().expect("thread"), "every site rewritten");
        }
        for f in 0..32 {
            assert_eq!(bytes(p + f * 16 + 5), [0xff, 0xd0]);
        }
        assert_eq!(vma(p), before, "RX again, not split");
    }

    #[test]
    fn reentered_lock_leaves_the_site_on_sud() {
        let p = jit(&GETPID, 0, 7);
        let held = Locked::new().expect("the lock is free for this thread");
        assert!(
            !with_signals_blocked(|| rewrite(p + 5)),
            "no spinning on our own lock"
        );
        assert_eq!(bytes(p + 5), [0x0f, 0x05]);
        assert!(
            !contains(&REFUSED_SET, p + 5),
            "not a verdict: retried later"
        );
        drop(held);
        assert!(with_signals_blocked(|| rewrite(p + 5)));
        assert_eq!(bytes(p + 5), [0xff, 0xd0]);
    }

    #[test]
    fn jit_slow_path_after_the_ret_keeps_the_site_on_sud() {
        // Issue 21 item 5: test %edi,%edi; jnz slow; mov $39,%eax;
        // site: syscall; ret; slow: mov $0x40000000,%eax; jmp site
        let code = [
            0x85, 0xff, 0x75, 0x08, 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3, 0xb8, 0, 0, 0, 0x40, 0xeb,
            0xf6,
        ];
        let p = jit(&code, 0, 7);
        assert!(!with_signals_blocked(|| rewrite(p + 9)), "not rewritten");
        assert_eq!(bytes(p + 9), [0x0f, 0x05]);
        // The same slow path behind a byte that does not decode.
        let code = [
            0x85, 0xff, 0x75, 0x09, 0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xc3, 0x06, 0xb8, 0, 0, 0, 0x40,
            0xeb, 0xf5,
        ];
        let p = jit(&code, 0, 5);
        assert!(!with_signals_blocked(|| rewrite(p + 9)), "not rewritten");
        assert_eq!(bytes(p + 9), [0x0f, 0x05]);
    }

    /// Probes like the entry assembly: no bound, until the address or an
    /// empty slot (here: panics after one lap, where the asm would spin).
    fn asm_probe(set: &[AtomicU64], addr: u64) -> bool {
        let mut i = slot(addr, set.len());
        for _ in 0..set.len() {
            match set[i].load(Ordering::Acquire) {
                0 => return false,
                a if a == addr => return true,
                _ => i = (i + 1) % set.len(),
            }
        }
        panic!("no empty slot: the asm's probe loop would never end");
    }

    #[test]
    fn site_table_keeps_empty_slots_and_finds_every_live_entry() {
        // Issue 21 item 12, on a private 64-slot table: more inserts than
        // slots, removals in between; every live entry stays reachable,
        // a missing one is answered (an empty slot is always left).
        let set: Vec<AtomicU64> = (0..64).map(|_| AtomicU64::new(0)).collect();
        let used = AtomicUsize::new(0);
        let mut live = std::collections::BTreeSet::new();
        let mut x = 12345u64;
        for round in 0..2000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let addr = 0x10_0000 + (x >> 40) % 512 * 2;
            if round % 3 == 2 {
                remove_range(&set, &used, addr, addr + 64, |_, _| {});
                live.retain(|&a| !(addr..addr + 64).contains(&a));
            } else if insert(&set, &used, addr) {
                live.insert(addr);
            } else {
                assert!(used.load(Ordering::Relaxed) >= 56, "refused only when full");
            }
            assert!(used.load(Ordering::Relaxed) <= 56);
            assert!(set.iter().any(|e| e.load(Ordering::Relaxed) == 0));
            for &a in &live {
                assert!(asm_probe(&set, a) && contains(&set, a), "{a:#x} lost");
            }
            assert!(!asm_probe(&set, 0x20_0001));
        }
        // Everything removed: no tombstone is left, the table is empty.
        remove_range(&set, &used, 0, u64::MAX >> 8, |_, _| {});
        assert_eq!(used.load(Ordering::Relaxed), 0);
        assert!(set.iter().all(|e| e.load(Ordering::Relaxed) == 0));
    }

    #[test]
    fn munmap_and_map_fixed_remove_sites_and_mremap_moves_them() {
        const NR_MUNMAP: i64 = 11;
        const NR_MREMAP: i64 = 25;
        let sysv = |nr: i64, a: [u64; 6]| {
            let args = a;
            mapping_call(nr, &args, || sys(nr, args.map(|x| x as i64)))
        };
        // munmap
        let p = jit(&GETPID, 0, 7);
        assert!(with_signals_blocked(|| rewrite(p + 5)));
        assert!(is_site(p + 5));
        assert_eq!(sysv(NR_MUNMAP, [p, 4096, 0, 0, 0, 0]), 0);
        assert!(!is_site(p + 5), "munmap removes the site");
        // mmap(MAP_FIXED) over it
        let p = jit(&GETPID, 0, 7);
        assert!(with_signals_blocked(|| rewrite(p + 5)));
        let r = sysv(NR_MMAP, [p, 4096, 7, 0x32, u64::MAX, 0]);
        assert_eq!(r as u64, p);
        assert!(!is_site(p + 5), "MAP_FIXED over it removes the site");
        // mremap to another place: the site moves with its code.
        let p = jit(&GETPID, 0, 7);
        assert!(with_signals_blocked(|| rewrite(p + 5)));
        let dest = jit(&[0x90], 0, 3);
        // MREMAP_MAYMOVE | MREMAP_FIXED
        let r = sysv(NR_MREMAP, [p, 4096, 4096, 3, dest, 0]);
        assert_eq!(r as u64, dest);
        assert!(!is_site(p + 5), "the old address is no site");
        assert!(is_site(dest + 5), "the new one is");
        assert_eq!(bytes(dest + 5), [0xff, 0xd0]);
        // mremap shrinking in place drops the tail's sites.
        let p = sys(NR_MMAP, [0, 8192, 7, 0x22, -1, 0]) as u64;
        // SAFETY: a fresh RWX mapping of ours.
        unsafe { core::ptr::copy_nonoverlapping(GETPID.as_ptr(), (p + 4096) as *mut u8, 8) };
        assert!(with_signals_blocked(|| rewrite(p + 4096 + 5)));
        assert_eq!(sysv(NR_MREMAP, [p, 8192, 4096, 0, 0, 0]) as u64, p);
        assert!(!is_site(p + 4096 + 5));
        sysv(NR_MUNMAP, [p, 4096, 0, 0, 0, 0]);
        sysv(NR_MUNMAP, [dest, 4096, 0, 0, 0, 0]);
    }

    #[test]
    fn shared_rwx_mapping_is_left_alone() {
        // A memfd mapped MAP_SHARED rwx (`rwxs`) holding a getpid site: the
        // site stays on SUD, the file keeps its bytes (issue 21 item 7).
        const NR_MEMFD_CREATE: i64 = 319;
        const NR_PWRITE64: i64 = 18;
        const NR_PREAD64: i64 = 17;
        const NR_FTRUNCATE: i64 = 77;
        const NR_CLOSE: i64 = 3;
        let fd = sys(NR_MEMFD_CREATE, [c"site".as_ptr() as i64, 0, 0, 0, 0, 0]);
        assert!(fd >= 0, "memfd_create: {fd}");
        assert_eq!(sys(NR_FTRUNCATE, [fd, 4096, 0, 0, 0, 0]), 0);
        let n = sys(NR_PWRITE64, [fd, GETPID.as_ptr() as i64, 8, 0, 0, 0]);
        assert_eq!(n, 8);
        // PROT_READ|WRITE|EXEC, MAP_SHARED.
        let p = sys(NR_MMAP, [0, 4096, 7, 0x01, fd, 0]);
        assert!(p > 0, "mmap: {p}");
        let p = p as u64;
        let before = vma(p);
        assert!(before.shared && before.write && before.exec);
        assert!(!with_signals_blocked(|| rewrite(p + 5)), "not rewritten");
        assert_eq!(bytes(p + 5), [0x0f, 0x05]);
        assert!(!is_site(p + 5));
        let mut file = [0u8; 8];
        let n = sys(NR_PREAD64, [fd, file.as_mut_ptr() as i64, 8, 0, 0, 0]);
        assert_eq!(n, 8);
        assert_eq!(file, GETPID, "the file keeps syscall");
        assert!(syscallhook_patch_stat(1 + Refusal::Protection as u32) >= 1);
        sys(NR_CLOSE, [fd, 0, 0, 0, 0, 0]);
    }

    /// Issue 21 item 9: `threads` threads run the 128 stubs of `p` (each
    /// `mov $39,%eax; <site>; ret`, 16 bytes apart) round and round while
    /// this thread pokes every site from `syscall` to `nop; nop` with
    /// `method`'s protocol, `batch` sites at a time (as eager mode).  Every call must return getpid() before and 39
    /// after; returns the int3 traps taken.
    fn poke_under_execution(method: crate::xmc::Method, threads: usize, batch: usize) -> u64 {
        use crate::xmc;
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        const N: u64 = 128;
        let mut code = [0xccu8; N as usize * 16];
        for f in 0..N as usize {
            code[f * 16..f * 16 + 8].copy_from_slice(&GETPID);
        }
        // RWX: no mprotect window, so that the page's VMA does not change
        // while the threads run it.
        let p = jit(&code, 0, 7);
        assert_eq!(xmc::choose(Some(method)), method, "method unavailable");
        assert!(xmc::install(), "SIGTRAP handler");
        let pid = sys(NR_GETPID, [0; 6]) as u64;
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let runners: Vec<_> = (0..threads)
            .map(|t| {
                let (stop, started) = (stop.clone(), started.clone());
                std::thread::spawn(move || {
                    let (mut calls, mut wrong) = (0u64, 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        if calls == N {
                            started.fetch_add(1, Ordering::SeqCst);
                        }
                        for i in 0..N {
                            let f = p + ((i + t as u64 * 37) % N) * 16;
                            let r: u64;
                            // SAFETY: the stub clobbers rax, rcx, r11 (the
                            // syscall) and returns.
                            unsafe {
                                core::arch::asm!("call {f}", f = in(reg) f, out("rax") r,
                                                 out("rcx") _, out("r11") _);
                            }
                            calls += 1;
                            wrong += u64::from(r != pid && r != 39);
                        }
                    }
                    (calls, wrong)
                })
            })
            .collect();
        // Every runner has made one round before the pokes start.
        while started.load(Ordering::SeqCst) < threads {
            std::thread::yield_now();
        }
        let traps = xmc::STATS[0].load(Ordering::Relaxed);
        for i in 0..N {
            assert!(mark_site(p + i * 16 + 5));
        }
        with_signals_blocked(|| {
            let _lock = Locked::new().expect("lock");
            for i in (0..N).step_by(batch) {
                // Every 8th site's poke waits at its int3 until a runner
                // traps on it (the others race naturally): the trap path
                // runs however the scheduler places the threads.
                xmc::tests::HOLD.store(i % 8 == 0, Ordering::SeqCst);
                let sites: Vec<u64> = (i..i + batch as u64).map(|j| p + j * 16 + 5).collect();
                xmc::poke(&sites, [0x90, 0x90]);
                // Give the runners time to reach the next site.
                sys(NR_SCHED_YIELD, [0; 6]);
            }
        });
        stop.store(true, Ordering::Relaxed);
        for t in runners {
            let (calls, wrong) = t.join().expect("runner");
            assert!(calls > 0);
            assert_eq!(
                wrong, 0,
                "{wrong} of {calls} calls returned neither pid nor 39"
            );
        }
        for i in 0..N {
            assert_eq!(bytes(p + i * 16 + 5), [0x90, 0x90]);
            let r: u64;
            // SAFETY: as above.
            unsafe {
                core::arch::asm!("call {f}", f = in(reg) p + i * 16, out("rax") r,
                                 out("rcx") _, out("r11") _);
            }
            assert_eq!(r, 39);
        }
        // Through mapping_call: the sites leave the table with the page
        // (another test's page may come at the same address).
        let args = [p, 4096, 0, 0, 0, 0];
        mapping_call(11, &args, || sys(11, args.map(|x| x as i64)));
        assert!(!is_site(p + 5));
        xmc::STATS[0].load(Ordering::Relaxed) - traps
    }

    const NR_SCHED_YIELD: i64 = 24;

    #[test]
    fn int3_protocol_while_threads_execute_the_sites() {
        use crate::xmc::{self, Method};
        // Membarrier where the kernel has it, then the mprotect fallback
        // (the guest kernel's only one); both must take int3 traps.
        let have_mb = xmc::choose(None) == Method::Membarrier;
        let mut methods = vec![Method::Mprotect];
        if have_mb {
            methods.insert(0, Method::Membarrier);
        } else {
            eprintln!("membarrier(SYNC_CORE) unavailable here: mprotect only");
        }
        for &m in &methods {
            for (batch, held) in [(1, 16), (16, 8)] {
                let before = xmc::STATS[m as usize].load(Ordering::Relaxed);
                let traps = poke_under_execution(m, 3, batch);
                eprintln!("xmc {m:?}: {traps} int3 traps while poking 128 sites {batch} at a time");
                assert!(
                    traps >= held,
                    "{m:?}: only {traps} int3 traps ({held} held)"
                );
                assert!(xmc::STATS[m as usize].load(Ordering::Relaxed) >= before + 128);
            }
        }
        // The cost of one rewrite (analysis, mprotect window, store) with
        // each method, on fresh RX pages of 64 sites: the best of three
        // interleaved rounds (printed: the report quotes it).
        let mut best = [u128::MAX; 4];
        for _ in 0..3 {
            for m in [Method::Plain, Method::Mprotect, Method::Membarrier] {
                if xmc::choose(Some(m)) != m {
                    continue;
                }
                let mut code = [0xccu8; 64 * 16];
                for f in 0..64 {
                    code[f * 16..f * 16 + 8].copy_from_slice(&GETPID);
                }
                let p = jit(&code, 0, 5);
                let t = std::time::Instant::now();
                for f in 0..64 {
                    assert!(with_signals_blocked(|| rewrite(p + f * 16 + 5)));
                }
                best[m as usize] = best[m as usize].min(t.elapsed().as_nanos() / 64);
                let args = [p, 4096, 0, 0, 0, 0];
                mapping_call(11, &args, || sys(11, args.map(|x| x as i64)));
            }
        }
        for m in [Method::Plain, Method::Mprotect, Method::Membarrier] {
            if best[m as usize] != u128::MAX {
                eprintln!(
                    "xmc cost: one lazy rewrite with {m:?}: {} ns",
                    best[m as usize]
                );
            }
        }
        xmc::choose(None);
    }

    #[test]
    fn execute_only_page_is_left_alone() {
        let p = jit(&GETPID, 0, 4);
        let before = vma(p);
        assert!(before.exec && !before.read && !before.write);
        assert!(!with_signals_blocked(|| rewrite(p + 5)));
        assert_eq!(vma(p), before, "still execute-only");
        assert_eq!(sys(NR_MPROTECT, [p as i64, 4096, 1, 0, 0, 0]), 0);
        assert_eq!(bytes(p + 5), [0x0f, 0x05]);
    }
}
