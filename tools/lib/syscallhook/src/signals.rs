// SPDX-License-Identifier: GPL-2.0

//! The SIGSYS handler: Syscall User Dispatch reports a `syscall` that is
//! not rewritten yet; the handler rewrites it, or has the call made after
//! it returned. Other SIGSYS
//! (seccomp `SECCOMP_RET_TRAP`, `kill -SYS`) go to the program's own
//! SIGSYS action, which the library keeps (see `dispatch::protect_sigsys`).
//!
//! The handler runs with every signal blocked (`sa_mask` full; all but
//! SIGTRAP while the int3 protocol is on, see `xmc.rs`), so a
//! nested signal cannot reach a not-yet-rewritten site while the patcher
//! holds its lock. It allocates nothing and takes no lock but the
//! patcher's. Its Rust part runs on the thread's hook stack
//! (`shl_sigsys_entry`): the kernel's frame may be on a small
//! `sigaltstack` (Rust's own is 8 KiB) or a small program stack.
//!
//! * `0f 05` (`syscall`): `patch::rewrite(site)`, then re-execute the site
//!   (now `call *%rax`, through the hook); never for the calls an image
//!   makes once at its end (`execve`, `execveat`, `exit_group`: see
//!   `once_per_image`). If the patcher refuses the site,
//!   a call that changes what the handler's `rt_sigreturn` restores
//!   (`rt_sigprocmask`: the signal mask; `sigaltstack`; `pkey_alloc`:
//!   PKRU), or that would pass the handler's blocked mask on to a new
//!   image (`execve`, `execveat`), never runs inside this handler; nor
//!   does `exit_group`, an ordinary counted call. The
//!   interrupted context is pointed at library asm that makes the call
//!   after the handler returned, with the site's registers, as lazypoline
//!   does: `shl_sud_call` (through the hook entry: counter, callbacks,
//!   SIGSYS protection), `shl_sud_spawn` for the process-creating calls,
//!   `shl_sud_sigreturn` for rt_sigreturn, `shl_sud_exit` for exit (which
//!   frees the hook stack). Every other call runs here, on the hook stack,
//!   and its result goes into the context: `shl_sud_call` needs the
//!   interrupted stack below the red zone, which a `syscall` does not (the
//!   kernel's `syscall_arg_fault` selftest calls with `rsp = 0xffffffff`
//!   and must get `-ENOSYS`, not a SIGSEGV).
//!   The number is classified as the kernel does: its low 32 bits, as an
//!   int (`movslq %eax` in `entry_SYSCALL_64`).
//! * i386 syscalls (`si_arch` = `AUDIT_ARCH_I386`): `int $0x80` runs with
//!   the i386 ABI (number in eax, arguments in ebx ecx edx esi edi ebp),
//!   executed with `int $0x80` from library text, and returns to the next
//!   instruction. Neither counted nor passed to callbacks: the numbers are
//!   i386's. `sysenter` is left to the kernel's semantics: the kernel has
//!   already replaced rip with its 32-bit vDSO landing pad (which a 64-bit
//!   process does not have; on AMD, sysenter in long mode raises #UD and
//!   never gets here), so the i386 syscall is made (sixth argument read
//!   at esp, as the kernel does) and the context resumes where the kernel
//!   would have resumed it. Such sites are never rewritten.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::dispatch::{self, PROGRAM_SIGSYS, SIGSYS_BIT};
use crate::entry::{self, sys};
use crate::{patch, NR_EXIT_GROUP, SIGSYS};

/// `si_code` of a SIGSYS from Syscall User Dispatch.
const SYS_USER_DISPATCH: i32 = 2;
/// `si_arch` of an i386 syscall (`int $0x80`, `sysenter`).
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `si_code` of a SIGSYS from seccomp `SECCOMP_RET_TRAP`.
const SYS_SECCOMP: i32 = 1;

/// `ucontext_t` register indices (x86-64 `REG_*`).
mod reg {
    pub const R8: usize = 0;
    pub const R9: usize = 1;
    pub const R10: usize = 2;
    pub const R11: usize = 3;
    pub const RDI: usize = 8;
    pub const RSI: usize = 9;
    pub const RBP: usize = 10;
    pub const RBX: usize = 11;
    pub const RDX: usize = 12;
    pub const RAX: usize = 13;
    pub const RCX: usize = 14;
    pub const RSP: usize = 15;
    pub const RIP: usize = 16;
    pub const EFL: usize = 17;
}
/// Offset of `uc_mcontext.gregs` in `ucontext_t`.
const GREGS_OFFSET: usize = 40;
/// Offset of `uc_sigmask` in `ucontext_t`.
const SIGMASK_OFFSET: usize = 296;

const NR_RT_SIGACTION: i64 = 13;
const NR_RT_SIGPROCMASK: i64 = 14;
const NR_GETPID: i64 = 39;
const NR_GETTID: i64 = 186;
const NR_TGKILL: i64 = 234;
const SIG_UNBLOCK: i64 = 1;
const SIG_SETMASK: i64 = 2;
const SA_SIGINFO: u64 = 4;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_NODEFER: u64 = 0x4000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;

/// `struct kernel_sigaction` for rt_sigaction.
#[repr(C)]
struct KSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The library's SIGSYS action as a `struct kernel_sigaction` (handler,
/// flags, restorer, mask), filled by [`install`]. `shl_rearm` (`entry.rs`)
/// installs it again in every child it arms SUD in: a clone3 child with
/// `CLONE_CLEAR_SIGHAND` starts with SIGSYS at SIG_DFL, and its first trap
/// would kill it. A zero handler: not installed.
#[no_mangle]
pub static shl_sigsys_action: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Installs the library's SIGSYS handler (every signal blocked while it
/// runs) and makes sure SIGSYS is not blocked in this thread.
///
/// With `SA_ONSTACK` while no thread has set an alternate stack too small
/// for a signal frame (see [`altstack_set`]): a `syscall` made with a
/// stack pointer that cannot take a frame (the kernel's `syscall_arg_fault`
/// selftest calls with `rsp` = 0xffffffff and must get `-ENOSYS`) is then
/// still reported on the program's alternate stack.
pub fn install() -> Result<(), &'static str> {
    let onstack = if ONSTACK.load(Ordering::Relaxed) {
        SA_ONSTACK
    } else {
        0
    };
    let sa = [
        entry::shl_sigsys_entry as *const () as u64,
        SA_SIGINFO | SA_RESTORER | onstack,
        entry::shl_restorer as *const () as u64,
        // Every signal but SIGTRAP when the int3 protocol is on: the
        // callbacks run here may reach a site another thread is patching.
        !(crate::xmc::protected_bits() & crate::xmc::SIGTRAP_BIT),
    ];
    for (slot, v) in shl_sigsys_action.iter().zip(sa) {
        slot.store(v, Ordering::Relaxed);
    }
    let sa_ptr = shl_sigsys_action.as_ptr() as i64;
    if sys(NR_RT_SIGACTION, [SIGSYS, sa_ptr, 0, 8, 0, 0]) != 0 {
        shl_sigsys_action[0].store(0, Ordering::Relaxed);
        return Err("rt_sigaction(SIGSYS)");
    }
    unblock_sigsys();
    Ok(())
}

/// Whether the SIGSYS action has `SA_ONSTACK` (cleared for good by
/// [`altstack_set`]).
static ONSTACK: AtomicBool = AtomicBool::new(true);

/// `AT_MINSIGSTKSZ`: the kernel's size of a signal frame on this machine.
const AT_MINSIGSTKSZ: u64 = 51;
/// `SS_DISABLE` in `stack_t.ss_flags`.
const SS_DISABLE: i32 = 2;

extern "C" {
    fn getauxval(kind: u64) -> u64;
}

/// Called after a `sigaltstack(ss, ...)` that succeeded. An alternate stack
/// smaller than a signal frame (`AT_MINSIGSTKSZ`; the kernel accepts any
/// size from `MINSIGSTKSZ`, 2048) cannot hold the SIGSYS frame either:
/// with `SA_ONSTACK`, a SUD trap in that thread outside a handler on the
/// alternate stack would become a forced SIGSEGV and, inside a SIGSEGV
/// handler, kill the process (the kernel's `sigaltstack` selftest installs
/// 2049 bytes on purpose so that its SIGALRM becomes a SIGSEGV). So from
/// then on the SIGSYS action goes without `SA_ONSTACK`, for the whole
/// process (an action is per process; the trap is synchronous, raised by a
/// `syscall` on a stack that just worked, so the frame goes there, or
/// stays on the alternate stack if the thread already runs on it).
pub fn altstack_set(ss: u64) {
    if ss == 0 || !ONSTACK.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: the kernel just read this `stack_t` (ss_sp at 0, ss_flags,
    // an int, at 8, ss_size at 16) for a sigaltstack that succeeded.
    let (flags, size) = unsafe {
        (
            ((ss + 8) as *const i32).read_unaligned(),
            ((ss + 16) as *const u64).read_unaligned(),
        )
    };
    // SAFETY: getauxval reads the auxiliary vector.
    let min = unsafe { getauxval(AT_MINSIGSTKSZ) };
    if flags & SS_DISABLE == 0 && size < min && ONSTACK.swap(false, Ordering::Relaxed) {
        let _ = install();
    }
}

/// Puts SIGSYS's default action back (SUD could not be switched on).
pub fn uninstall() {
    shl_sigsys_action[0].store(0, Ordering::Relaxed);
    let dfl = KSigaction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    sys(
        NR_RT_SIGACTION,
        [SIGSYS, &dfl as *const KSigaction as i64, 0, 8, 0, 0],
    );
}

/// Unblocks SIGSYS in this thread.
pub fn unblock_sigsys() {
    let set = SIGSYS_BIT;
    let p = &set as *const u64 as i64;
    sys(NR_RT_SIGPROCMASK, [SIG_UNBLOCK, p, 0, 8, 0, 0]);
}

/// The handler (`SA_SIGINFO`), called by `shl_sigsys_entry` on the
/// thread's hook stack: the program's sigaltstack or interrupted stack may
/// be too small for the patcher's analysis.
#[no_mangle]
extern "C" fn shl_on_sigsys(sig: i32, info: *mut u8, ctx: *mut u8) {
    // SAFETY: the kernel passes a valid siginfo; si_code is the int at 8.
    let code = unsafe { (info.add(8) as *const i32).read() };
    if code != SYS_USER_DISPATCH {
        chain(sig, info, ctx, code);
        return;
    }
    // SAFETY: the kernel passes a valid ucontext; gregs are 23 u64s at a
    // fixed offset on x86-64, and nothing else refers to them now.
    let g = unsafe { &mut *(ctx.add(GREGS_OFFSET) as *mut [u64; 23]) };
    // SAFETY: si_arch (u32) is at offset 28 of a SIGSYS siginfo.
    let arch = unsafe { (info.add(28) as *const u32).read() };
    if arch == AUDIT_ARCH_I386 {
        // int $0x80 (rip = the next instruction) or sysenter (the kernel
        // already set rip to its 32-bit vDSO landing pad): emulate the
        // i386 syscall and leave rip where the kernel put it.
        let site = g[reg::RIP].wrapping_sub(2);
        // SAFETY: rip - 2 of an int $0x80 is the executed instruction; for
        // sysenter the landing pad lies in the vDSO. Both are mapped
        // readable, unless execute-only (then this faults, loudly).
        let int80 = unsafe { (site as *const [u8; 2]).read_unaligned() } == [0xcd, 0x80];
        emulate_i386(g, !int80);
        return;
    }
    let site = g[reg::RIP].wrapping_sub(2);
    if !once_per_image(dispatch::kernel_nr(g[reg::RAX])) && patch::rewrite(site) {
        g[reg::RIP] = site; // execute it again, as call *%rax
        return;
    }
    redirect(g);
}

/// Calls a process image makes once, at its end: `execve`, `execveat`
/// (a failed one returns, and execvp's PATH walk makes a few) and
/// `exit_group`. Their sites stay on SUD: a rewrite (a read of
/// `/proc/self/maps`, two `mprotect`s and the int3 protocol's syncs)
/// would serve no later call of the image that makes it, and a `fork`
/// child that execs or exits at a site its parent never reached (every
/// child of a forking server, each of pidfd_test's 33,000 children) would
/// pay it every time, in its own copy of the text.
fn once_per_image(nr: i64) -> bool {
    matches!(nr, NR_EXECVE | NR_EXIT_GROUP | NR_EXECVEAT)
}

/// The slow path for a `syscall` site the patcher did not rewrite: the
/// call is made after this handler returned (see the file header).
fn redirect(g: &mut [u64; 23]) {
    let nr = dispatch::kernel_nr(g[reg::RAX]);
    if matches!(nr, 15 | 60 | 56 | 57 | 58 | 435) {
        dispatch::count(nr); // the asm paths below do not count (shl_sud_call does)
    }
    match nr {
        15 => {
            // rt_sigreturn with the site's rsp, after this handler returns.
            g[reg::RIP] = entry::shl_sud_sigreturn as *const () as u64;
        }
        60 => {
            // exit: frees the thread's hook stack, which this handler may
            // be running on, so after the handler returned.
            g[reg::RIP] = entry::shl_sud_exit as *const () as u64;
        }
        56 | 57 | 58 | 435 => {
            // Create the child from library asm, after this handler
            // returns, so that it does not start inside the handler.
            g[reg::RCX] = g[reg::RIP];
            g[reg::RIP] = entry::shl_sud_spawn as *const () as u64;
        }
        NR_RT_SIGPROCMASK | NR_SIGALTSTACK | NR_PKEY_ALLOC | NR_EXECVE | NR_EXECVEAT
        | NR_EXIT_GROUP => {
            // What sigreturn restores: through the hook entry, after it.
            // execve keeps the signal mask: made inside this handler, the
            // new image would start with SIGSYS (and sa_mask) blocked.
            // exit_group (never rewritten, `once_per_image`) as the
            // ordinary counted call it is, in the program's context.
            g[reg::RCX] = g[reg::RIP];
            g[reg::RIP] = entry::shl_sud_call as *const () as u64;
        }
        _ => {
            // Any other call: here, on the hook stack (the interrupted
            // stack need not be usable, see the file header).
            dispatch::count(nr);
            let args = [
                g[reg::RDI],
                g[reg::RSI],
                g[reg::RDX],
                g[reg::R10],
                g[reg::R8],
                g[reg::R9],
            ];
            g[reg::RAX] = dispatch::run(g[reg::RAX], &args) as u64;
            // As the syscall instruction leaves them.
            g[reg::RCX] = g[reg::RIP];
            g[reg::R11] = g[reg::EFL];
        }
    }
}

/// `execve`: the new image inherits the blocked mask.
const NR_EXECVE: i64 = 59;
/// `execveat`: as `execve`.
const NR_EXECVEAT: i64 = 322;
/// `sigaltstack`: its setting is in the frame rt_sigreturn restores.
const NR_SIGALTSTACK: i64 = 131;
/// `pkey_alloc`: sets the new key's rights in PKRU, which rt_sigreturn
/// restores from the saved extended state.
const NR_PKEY_ALLOC: i64 = 330;

/// `int $0x80` / `sysenter` with the i386 ABI.
fn emulate_i386(g: &mut [u64; 23], sysenter: bool) {
    let low = |r: usize| g[r] & 0xffff_ffff;
    let mut ebp = low(reg::RBP);
    if sysenter {
        // The sixth argument is on the user stack at esp.
        // SAFETY: the kernel would read it there too; a bad esp faults
        // (the kernel would return -EFAULT).
        ebp = u64::from(unsafe { (low(reg::RSP) as *const u32).read_unaligned() });
    }
    let mut r = [
        low(reg::RAX),
        low(reg::RBX),
        low(reg::RCX),
        low(reg::RDX),
        low(reg::RSI),
        low(reg::RDI),
        ebp,
    ];
    // SAFETY: `r` is a valid array; the syscall's arguments are the site's.
    unsafe { entry::shl_int80(&mut r) };
    g[reg::RAX] = r[0];
}

/// What the kernel would do with a signal the library took in the
/// program's place: the program's saved action says.
pub enum Disposition {
    /// `SIG_DFL`, or `SIG_IGN` for a forced signal.
    Default,
    /// `SIG_IGN`.
    Ignore,
    /// The program's handler, with its `sa_flags` and `sa_mask`.
    Handler {
        /// The handler's address.
        handler: u64,
        /// Its `sa_flags`.
        flags: u64,
        /// Its `sa_mask`.
        mask: u64,
    },
}

/// Reads the program's saved action `act` (`struct kernel_sigaction`:
/// handler, flags, restorer, mask) and decides as the kernel would: a
/// `forced` signal (kernel-generated: a seccomp trap, an int3) that is
/// ignored takes the default action (`force_sig_info` resets it to
/// SIG_DFL); a handler with `SA_RESETHAND` is reset to SIG_DFL before it
/// runs.
pub fn disposition(act: &[AtomicU64; 4], forced: bool) -> Disposition {
    let handler = act[0].load(Ordering::Acquire);
    let flags = act[1].load(Ordering::Acquire);
    let mask = act[3].load(Ordering::Acquire);
    match handler {
        0 => Disposition::Default,
        1 if forced => Disposition::Default,
        1 => Disposition::Ignore,
        _ => {
            if flags & SA_RESETHAND != 0 {
                act[0].store(0, Ordering::Release);
            }
            Disposition::Handler {
                handler,
                flags,
                mask,
            }
        }
    }
}

/// A SIGSYS that is not from SUD: run the program's own action, with its
/// flags and mask, as the kernel would have.
fn chain(sig: i32, info: *mut u8, ctx: *mut u8, code: i32) {
    let (handler, flags, mask) = match disposition(&PROGRAM_SIGSYS, code == SYS_SECCOMP) {
        Disposition::Default => return default_action(),
        Disposition::Ignore => return,
        Disposition::Handler {
            handler,
            flags,
            mask,
        } => (handler, flags, mask),
    };
    // The program's handler runs with the interrupted mask | sa_mask | the
    // signal, as the kernel would run it, but never with SIGSYS blocked:
    // its own syscalls may reach sites that are not rewritten yet.
    // SAFETY: uc_sigmask is at a fixed offset of the kernel's ucontext.
    let old = unsafe { (ctx.add(SIGMASK_OFFSET) as *const u64).read() };
    let mut m = old | mask;
    if flags & SA_NODEFER == 0 {
        m |= 1 << (sig - 1);
    }
    m &= !crate::xmc::protected_bits(); // SIGSYS, and SIGTRAP (xmc.rs)
    sys(
        NR_RT_SIGPROCMASK,
        [SIG_SETMASK, &m as *const u64 as i64, 0, 8, 0, 0],
    );
    call_program_handler(sig, info, ctx, handler, flags);
    // Returning restores the interrupted mask (rt_sigreturn).
}

/// Calls the program's own handler `handler` (not SIG_DFL or SIG_IGN) for
/// `sig`, with `SA_SIGINFO`'s three arguments if `flags` has it.
pub fn call_program_handler(sig: i32, info: *mut u8, ctx: *mut u8, handler: u64, flags: u64) {
    if flags & SA_SIGINFO != 0 {
        // SAFETY: the program registered this as a SA_SIGINFO handler.
        let f: extern "C" fn(i32, *mut u8, *mut u8) = unsafe { core::mem::transmute(handler) };
        f(sig, info, ctx);
    } else {
        // SAFETY: the program registered this as a plain handler.
        let f: extern "C" fn(i32) = unsafe { core::mem::transmute(handler) };
        f(sig);
    }
}

/// Sets `sig` to its default action and sends it to this thread; the
/// caller unblocks it (or runs with it unblocked) so that the default
/// action happens, and puts its own action back should the process
/// survive.
pub fn send_default(sig: i64) {
    let dfl = KSigaction {
        handler: 0,
        flags: SA_RESTORER,
        restorer: entry::shl_restorer as *const () as usize,
        mask: 0,
    };
    sys(
        NR_RT_SIGACTION,
        [sig, &dfl as *const KSigaction as i64, 0, 8, 0, 0],
    );
    let pid = sys(NR_GETPID, [0; 6]);
    let tid = sys(NR_GETTID, [0; 6]);
    sys(NR_TGKILL, [pid, tid, sig, 0, 0, 0]);
}

/// SIGSYS's default action: terminate with a core dump. Re-raised with the
/// default disposition, then our handler back for the (unlikely) case the
/// process survives.
fn default_action() {
    send_default(SIGSYS);
    unblock_sigsys(); // delivered now: the process dies here
    let _ = install();
}
