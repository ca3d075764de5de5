// SPDX-License-Identifier: GPL-2.0

//! What happens to one hooked syscall once it left the asm fast path: the
//! per-number class table the asm reads (indexed by the kernel's number:
//! the low 32 bits of rax), the Rust dispatch of the slow path
//! (`shl_dispatch`, also for the sites left on SUD, which `shl_sud_call`
//! sends through the hook entry), and the protection of SIGSYS against the program's signal masks and
//! `rt_sigaction(SIGSYS)`.
//!
//! Any number reaches the kernel: the dispatch passes every number through
//! and returns the kernel's result (-ENOSYS for numbers the kernel does
//! not know). Only numbers below 512 have a class and a counter.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::entry::sys;
use crate::{hooks, thread};

/// Class bit: count the call in `shl_counts` (asm `lock incq`).
pub const C_COUNT: u8 = 1;
/// Class bit: run the Rust dispatch (slow path, full state saved).
pub const C_SLOW: u8 = 2;
/// Class bit: an asm path (rt_sigreturn, exit, clone, clone3, fork, vfork).
pub const C_ASM: u8 = 4;

/// One class byte per syscall number, read by `shl_hook_entry`.
#[no_mangle]
pub static shl_nr_class: [AtomicU8; 512] = [const { AtomicU8::new(0) }; 512];

const NR_RT_SIGACTION: i64 = 13;
const NR_RT_SIGPROCMASK: i64 = 14;
const NR_RT_SIGRETURN: i64 = 15;
const NR_FORK: i64 = 57;
const NR_VFORK: i64 = 58;
const NR_CLONE: i64 = 56;
const NR_EXIT: i64 = 60;
const NR_RT_SIGTIMEDWAIT: i64 = 128;
const NR_SIGALTSTACK: i64 = 131;
const NR_RT_SIGSUSPEND: i64 = 130;
const NR_EXIT_GROUP: i64 = 231;
const NR_PSELECT6: i64 = 270;
const NR_PPOLL: i64 = 271;
const NR_EPOLL_PWAIT: i64 = 281;
const NR_IO_PGETEVENTS: i64 = 333;
const NR_CLONE3: i64 = 435;
const NR_EPOLL_PWAIT2: i64 = 441;

/// Syscalls that take a signal mask the program may use to block SIGSYS.
const MASK_CALLS: [i64; 9] = [
    NR_RT_SIGACTION,
    NR_RT_SIGPROCMASK,
    NR_RT_SIGTIMEDWAIT,
    NR_RT_SIGSUSPEND,
    NR_PSELECT6,
    NR_PPOLL,
    NR_EPOLL_PWAIT,
    NR_IO_PGETEVENTS,
    NR_EPOLL_PWAIT2,
];

/// Recomputes the class table from the current hooks (at load, and when a
/// C callback is registered).
pub fn refresh_classes() {
    let count = hooks::counting();
    let all_slow = hooks::has_callback() || hooks::tracing();
    for (nr, c) in shl_nr_class.iter().enumerate() {
        let nr = nr as i64;
        let mut k = if count { C_COUNT } else { 0 };
        if matches!(
            nr,
            NR_RT_SIGRETURN | NR_CLONE | NR_FORK | NR_VFORK | NR_EXIT | NR_CLONE3
        ) {
            k |= C_ASM;
        } else if MASK_CALLS.contains(&nr)
            || nr == NR_SIGALTSTACK // signals::altstack_set
            || all_slow
            || (nr == NR_EXIT_GROUP && count)
            || crate::patch::watches(nr)
        {
            k |= C_SLOW;
        }
        c.store(k, Ordering::Relaxed);
    }
}

/// The number the kernel runs for `rax`: `entry_SYSCALL_64` sign-extends
/// the low 32 bits (`movslq %eax`), so bits 32-63 never count and
/// `0xffff_ffff` is -1. (Numbers with the x32 bit, `0x4000_0000`, are
/// x32 syscalls only on a kernel with `CONFIG_X86_X32_ABI` and x32
/// enabled; the library passes them through without a class, like any
/// number outside 0..512.)
pub fn kernel_nr(rax: u64) -> i64 {
    i64::from(rax as u32 as i32)
}

/// Counts one call of `nr` (a [`kernel_nr`]) if the counter is on (the
/// asm paths count in `entry.rs`).
pub fn count(nr: i64) {
    if hooks::counting() {
        if let Some(c) = crate::shl_counts.get(nr as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The registers of one hooked syscall, as pushed by `shl_hook_entry`.
#[repr(C)]
pub struct Frame {
    /// Syscall number.
    pub nr: u64,
    /// Arguments in syscall order: rdi, rsi, rdx, r10, r8, r9.
    pub args: [u64; 6],
    /// Return address (the rewritten site + 2).
    pub ret: u64,
}

/// Called by the slow path of `shl_hook_entry` (the site is checked and
/// counted already), on the thread's hook stack with the extended state
/// saved.
#[no_mangle]
extern "C" fn shl_dispatch(frame: &Frame) -> i64 {
    run(frame.nr, &frame.args)
}

/// Runs the hooks around one syscall and performs it. `rax` as the site
/// had it: hooks and SIGSYS protection see the kernel's number
/// ([`kernel_nr`]), the kernel gets `rax` unchanged.
pub fn run(rax: u64, frame_args: &[u64; 6]) -> i64 {
    let nr = kernel_nr(rax);
    let mut args = *frame_args;
    // The reentrancy guard: a callback's own syscalls go straight through.
    let hooked = !thread::in_callback();
    if hooked && nr == NR_EXIT_GROUP {
        // Does not return: report now.
        thread::guarded(|| {
            hooks::after(nr, &args, 0);
            hooks::at_exit();
        });
    }
    if hooked && hooks::has_callback() {
        if let Some(r) = thread::guarded(|| hooks::before(nr, &mut args)) {
            return r;
        }
    }
    let mut scratch = [0u64; 4];
    if let Some(r) = protect_sigsys(nr, &mut args, &mut scratch) {
        return r;
    }
    // munmap, mremap, mmap(MAP_FIXED): the rewritten-site table follows
    // (keyed on the kernel's number; the kernel gets rax unchanged).
    let ret = crate::patch::mapping_call(nr, &args, || sys(rax as i64, args.map(|x| x as i64)));
    if nr == NR_SIGALTSTACK && ret == 0 {
        crate::signals::altstack_set(args[0]);
    }
    if hooked && nr != NR_EXIT_GROUP {
        thread::guarded(|| hooks::after(nr, &args, ret));
    }
    ret
}

/// Bit of SIGSYS in a kernel sigset.
pub const SIGSYS_BIT: u64 = 1 << (crate::SIGSYS - 1);

/// The program's own SIGSYS action (`struct kernel_sigaction`: handler,
/// flags, restorer, mask), which the library keeps instead of the kernel.
pub static PROGRAM_SIGSYS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Whether this process owns the library's memory (not a `CLONE_VM` child
/// of the process that does, such as a vfork child).
fn own_memory() -> bool {
    sys(39, [0; 6]) as u64 == crate::shl_table_pid.load(Ordering::Relaxed)
}

/// Copies the sigset at `p` (if any) into `slot` without SIGSYS (and
/// SIGTRAP while the int3 protocol is on) and returns the pointer to pass
/// instead.
fn strip(p: u64, slot: &mut u64) -> u64 {
    if p == 0 {
        return 0;
    }
    // SAFETY: the program passed this sigset pointer to the kernel, which
    // reads 8 bytes there; we read the same (a bad pointer faults here
    // instead of returning -EFAULT).
    *slot = unsafe { (p as *const u64).read_unaligned() } & !crate::xmc::protected_bits();
    slot as *mut u64 as u64
}

/// Keeps SIGSYS deliverable: SUD reports a not-yet-rewritten site with a
/// SIGSYS, which the kernel turns into a kill if the signal is blocked (as
/// in posix_spawn's child, which blocks everything). So masks the program
/// sets never include SIGSYS, and `rt_sigaction(SIGSYS)` is answered from
/// the library's copy. The same for SIGTRAP while the int3 protocol is on
/// (`xmc.rs`): a thread may hit an `int3` at a site being patched at any
/// moment, and a blocked or ignored forced SIGTRAP kills. Returns
/// `Some(result)` when the call is answered here.
fn protect_sigsys(nr: i64, args: &mut [u64; 6], scratch: &mut [u64; 4]) -> Option<i64> {
    match nr {
        NR_RT_SIGACTION if args[0] == crate::xmc::SIGTRAP as u64 && crate::xmc::on() => {
            return Some(crate::xmc::sigaction(
                args[1],
                args[2],
                args[3],
                own_memory(),
            ));
        }
        NR_RT_SIGACTION if args[0] == crate::SIGSYS as u64 => {
            if args[3] != 8 {
                return Some(-22); // -EINVAL, as the kernel answers
            }
            let old: [u64; 4] = core::array::from_fn(|i| PROGRAM_SIGSYS[i].load(Ordering::Acquire));
            // A vfork or posix_spawn child shares the parent's memory until
            // it execs (glibc's posix_spawn child resets every handler): it
            // must not change the parent's copy.
            if args[1] != 0 && own_memory() {
                let mut new = [0u64; 4];
                // SAFETY: the program passed a readable kernel sigaction.
                unsafe {
                    core::ptr::copy_nonoverlapping(args[1] as *const u64, new.as_mut_ptr(), 4)
                };
                for (slot, v) in PROGRAM_SIGSYS.iter().zip(new) {
                    slot.store(v, Ordering::Release);
                }
            }
            if args[2] != 0 {
                // SAFETY: the program passed a writable kernel sigaction.
                unsafe { core::ptr::copy_nonoverlapping(old.as_ptr(), args[2] as *mut u64, 4) };
            }
            return Some(0);
        }
        NR_RT_SIGACTION if args[1] != 0 => {
            // SAFETY: the program passed a readable kernel sigaction.
            unsafe {
                core::ptr::copy_nonoverlapping(args[1] as *const u64, scratch.as_mut_ptr(), 4)
            };
            scratch[3] &= !crate::xmc::protected_bits();
            args[1] = scratch.as_ptr() as u64;
        }
        _ => {}
    }
    let [s0, s1, s2, _] = scratch;
    match nr {
        NR_RT_SIGPROCMASK if args[0] != 1 => args[1] = strip(args[1], s0), // not SIG_UNBLOCK
        NR_RT_SIGSUSPEND | NR_RT_SIGTIMEDWAIT => args[0] = strip(args[0], s0),
        NR_PPOLL => args[3] = strip(args[3], s0),
        NR_EPOLL_PWAIT | NR_EPOLL_PWAIT2 => args[4] = strip(args[4], s0),
        NR_PSELECT6 | NR_IO_PGETEVENTS if args[5] != 0 => {
            // A pointer to { const sigset_t *set; size_t size; }.
            let p = args[5] as *const u64;
            // SAFETY: the program passed this 16-byte struct to the kernel.
            let (set, size) = unsafe { (p.read_unaligned(), p.add(1).read_unaligned()) };
            *s1 = strip(set, s0);
            *s2 = size;
            args[5] = s1 as *mut u64 as u64;
        }
        _ => {}
    }
    None
}
