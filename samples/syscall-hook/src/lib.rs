// SPDX-License-Identifier: GPL-2.0

//! `libsyscallhook.so`: hook every system call of an unmodified program by
//! preloading this library (`LD_PRELOAD=libsyscallhook.so prog`).
//!
//! At load it asks `/dev/zpoline` for the trampoline page at address 0 with
//! `shl_hook_entry` as the hook, and switches on Syscall User Dispatch with
//! the library's own assembly as the only allowed range. Then:
//!
//! * **lazy** (default): a `syscall` instruction elsewhere traps with SIGSYS;
//!   the handler has proof that it is a real, executed syscall site, rewrites
//!   its two bytes `0f 05` to `call *%rax` (`ff d0`) with one atomic store,
//!   and re-executes it. From then on the site costs a call, not a signal.
//!   Nothing that merely looks like `0f 05` is ever touched, and JIT code is
//!   covered the same way.
//! * **eager** (`SYSCALLHOOK_MODE=eager`): at load, decode every executable
//!   mapping with iced-x86 and rewrite each `syscall` found; SUD stays on
//!   for anything the decoder missed.
//!
//! `SYSCALLHOOK=count` prints a per-syscall table at exit,
//! `SYSCALLHOOK=trace` prints every call. Programs and libraries can register
//! their own hook with `syscallhook_register` (see `hooks.rs`).
//! See `Documentation/zpoline.rst` and the README of this directory.

mod bounds;
mod entry;
mod hooks;
mod maps;
mod patch;
mod site;

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use entry::sys;

/// Per-syscall counters (also written by `entry.rs` for clone and clone3).
#[no_mangle]
pub static shl_counts: [AtomicU64; 512] = [const { AtomicU64::new(0) }; 512];

/// The SUD selector byte: always "block"; the allowed range does the rest.
static SELECTOR: AtomicU8 = AtomicU8::new(1);
/// Whether the hook is live (page installed and SUD on).
static ACTIVE: AtomicBool = AtomicBool::new(false);

const NR_WRITE: i64 = 1;
const NR_OPEN: i64 = 2;
const NR_CLOSE: i64 = 3;
const NR_RT_SIGACTION: i64 = 13;
const NR_IOCTL: i64 = 16;
const NR_GETPID: i64 = 39;
const NR_FORK: i64 = 57;
const NR_VFORK: i64 = 58;
const NR_EXIT_GROUP: i64 = 231;
const NR_EXIT: i64 = 60;
const NR_TGKILL: i64 = 234;
const NR_GETTID: i64 = 186;
const NR_PRCTL: i64 = 157;

/// The library's own copy of stderr (programs such as coreutils close fd 2
/// before they exit, when the counter prints its table).
static OUT_FD: core::sync::atomic::AtomicI64 = core::sync::atomic::AtomicI64::new(2);

/// Writes `s` to the library's stderr with a raw syscall (usable anywhere).
pub(crate) fn say(s: &[u8]) {
    let fd = OUT_FD.load(Ordering::Relaxed);
    sys(NR_WRITE, [fd, s.as_ptr() as i64, s.len() as i64, 0, 0, 0]);
}

const NR_FCNTL: i64 = 72;
const F_DUPFD_CLOEXEC: i64 = 1030;
const NR_RT_SIGPROCMASK: i64 = 14;
/// Bit of SIGSYS in a kernel sigset.
const SIGSYS_BIT: u64 = 1 << (SIGSYS - 1);

/// Keeps SIGSYS deliverable: SUD reports a not-yet-rewritten site with a
/// SIGSYS, which the kernel turns into a kill if the signal is blocked (as in
/// posix_spawn's child, which blocks everything). So masks set by the
/// program never include SIGSYS, and the program cannot replace our SIGSYS
/// handler. Returns `Some(result)` when the call is answered here.
fn protect_sigsys(nr: i64, args: &mut [u64; 6], scratch: &mut [u64; 4]) -> Option<i64> {
    match nr {
        NR_RT_SIGPROCMASK if args[1] != 0 && args[0] != 1 => {
            // SAFETY: the program passed a readable sigset; we copy it.
            scratch[0] = unsafe { (args[1] as *const u64).read_unaligned() } & !SIGSYS_BIT;
            args[1] = scratch.as_ptr() as u64;
            None
        }
        NR_RT_SIGACTION if args[0] == SIGSYS as u64 => {
            if args[2] != 0 {
                // SAFETY: the program passed a writable struct sigaction.
                unsafe { core::ptr::write_bytes(args[2] as *mut u8, 0, 32) };
            }
            Some(0)
        }
        NR_RT_SIGACTION if args[1] != 0 => {
            // SAFETY: the program passed a readable kernel sigaction.
            unsafe {
                core::ptr::copy_nonoverlapping(args[1] as *const u64, scratch.as_mut_ptr(), 4)
            };
            scratch[3] &= !SIGSYS_BIT;
            args[1] = scratch.as_ptr() as u64;
            None
        }
        _ => None,
    }
}

/// A fixed-size formatting buffer (no allocation on hook paths).
pub(crate) struct Buf {
    b: [u8; 256],
    n: usize,
}

impl Buf {
    pub(crate) fn new() -> Self {
        Buf { b: [0; 256], n: 0 }
    }
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.b[..self.n]
    }
}

impl core::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let k = s.len().min(self.b.len() - self.n);
        self.b[self.n..self.n + k].copy_from_slice(&s.as_bytes()[..k]);
        self.n += k;
        Ok(())
    }
}

/// Kills the process loudly: a call reached the hook from somewhere that is
/// not a rewritten syscall site (e.g. a call through a NULL pointer).
fn die_bad_site(ret: u64, nr: u64) -> ! {
    use core::fmt::Write;
    let mut b = Buf::new();
    let _ = writeln!(
        b,
        "syscallhook: call into the zpoline page from {:#x} (rax={}), which is not a \
         rewritten syscall site: a call through a NULL function pointer? aborting",
        ret, nr as i64
    );
    say(b.bytes());
    let pid = sys(NR_GETPID, [0; 6]);
    let tid = sys(NR_GETTID, [0; 6]);
    sys(NR_TGKILL, [pid, tid, 11, 0, 0, 0]);
    loop {
        core::hint::spin_loop();
    }
}

/// The registers of one hooked syscall, as pushed by `shl_hook_entry`.
#[repr(C)]
pub struct Frame {
    /// Syscall number.
    pub nr: u64,
    /// Arguments in syscall order: rdi, rsi, rdx, r10, r8, r9.
    pub args: [u64; 6],
}

/// Called by `shl_hook_entry` for every hooked syscall.
#[no_mangle]
extern "C" fn shl_dispatch(frame: &Frame, ret_addr: u64) -> i64 {
    if !patch::is_site(ret_addr.wrapping_sub(2)) {
        die_bad_site(ret_addr, frame.nr);
    }
    let nr = frame.nr;
    if let Some(c) = shl_counts.get(nr as usize) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    let mut args = frame.args;
    if nr as i64 == NR_EXIT_GROUP || nr as i64 == NR_EXIT {
        // These do not return: report now.
        hooks::after(nr as i64, &frame.args, 0);
        hooks::at_exit();
    }
    if let Some(result) = hooks::before(nr as i64, &mut args) {
        return result;
    }
    let mut scratch = [0u64; 4];
    if let Some(result) = protect_sigsys(nr as i64, &mut args, &mut scratch) {
        return result;
    }
    // vfork through a hook frame on a shared stack cannot work: fork.
    let real = if nr as i64 == NR_VFORK {
        NR_FORK
    } else {
        nr as i64
    };
    let a = args.map(|x| x as i64);
    let ret = sys(real, a);
    hooks::after(nr as i64, &args, ret);
    ret
}

/// Number of syscalls hooked so far (for tests and the C API).
#[no_mangle]
pub extern "C" fn syscallhook_count(nr: u32) -> u64 {
    shl_counts
        .get(nr as usize)
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

/// Whether the hook is active in this process.
#[no_mangle]
pub extern "C" fn syscallhook_active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// `struct zpoline_cfg`.
#[repr(C)]
struct ZpolineCfg {
    hook: u64,
    flags: u32,
    result: u32,
    sled_len: u32,
    reserved: u32,
}

const ZPOLINE_IOC_INSTALL: i64 = 0xc018_b801;

/// Installs the page (or finds the one inherited across fork).
fn install_page() -> Result<(), &'static str> {
    let fd = sys(
        NR_OPEN,
        [c"/dev/zpoline".as_ptr() as i64, 0o2000000, 0, 0, 0, 0],
    );
    if fd < 0 {
        return Err("cannot open /dev/zpoline");
    }
    let mut cfg = ZpolineCfg {
        hook: entry::shl_hook_entry as *const () as u64,
        flags: 0,
        result: 0,
        sled_len: 0,
        reserved: 0,
    };
    let r = sys(
        NR_IOCTL,
        [fd, ZPOLINE_IOC_INSTALL, &mut cfg as *mut _ as i64, 0, 0, 0],
    );
    sys(NR_CLOSE, [fd, 0, 0, 0, 0, 0]);
    match r {
        0 => Ok(()),
        -1 => Err("not allowed to install the zpoline page (EPERM)"),
        -17 => Err("address 0 is already mapped (EEXIST)"),
        _ => Err("ZPOLINE_IOC_INSTALL failed"),
    }
}

/// `struct kernel_sigaction` for rt_sigaction.
#[repr(C)]
struct KSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

const SA_SIGINFO: u64 = 4;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_ONSTACK: u64 = 0x0800_0000;
const SIGSYS: i64 = 31;

/// Installs the SIGSYS handler and switches SUD on for this thread.
fn enable_sud() -> Result<(), &'static str> {
    let sa = KSigaction {
        handler: patch::on_sigsys as *const () as usize,
        flags: SA_SIGINFO | SA_RESTORER | SA_ONSTACK,
        restorer: entry::shl_restorer as *const () as usize,
        mask: 0,
    };
    if sys(
        NR_RT_SIGACTION,
        [SIGSYS, &sa as *const _ as i64, 0, 8, 0, 0],
    ) != 0
    {
        return Err("rt_sigaction(SIGSYS)");
    }
    let start = entry::shl_text_start as *const () as i64;
    let end = entry::shl_text_end as *const () as i64;
    const PR_SET_SYSCALL_USER_DISPATCH: i64 = 59;
    const PR_SYS_DISPATCH_ON: i64 = 1;
    let r = sys(
        NR_PRCTL,
        [
            PR_SET_SYSCALL_USER_DISPATCH,
            PR_SYS_DISPATCH_ON,
            start,
            end - start,
            SELECTOR.as_ptr() as i64,
            0,
        ],
    );
    if r != 0 {
        return Err("prctl(PR_SET_SYSCALL_USER_DISPATCH)");
    }
    Ok(())
}

/// Runs at load (from `.init_array`).
extern "C" fn init() {
    if std::env::var_os("SYSCALLHOOK_DISABLE").is_some() {
        return;
    }
    hooks::configure();
    let fd = sys(NR_FCNTL, [2, F_DUPFD_CLOEXEC, 900, 0, 0, 0]);
    if fd >= 0 {
        OUT_FD.store(fd, Ordering::Relaxed);
    }
    if let Err(e) = install_page() {
        // An inherited page (fork) is fine: the hook address is the same.
        if !e.contains("EEXIST") {
            say(format!("syscallhook: {e}; syscalls are not hooked\n").as_bytes());
            return;
        }
    }
    let eager = std::env::var("SYSCALLHOOK_MODE").is_ok_and(|m| m == "eager");
    if eager {
        let n = patch::rewrite_all_executable();
        if std::env::var_os("SYSCALLHOOK_VERBOSE").is_some() {
            say(format!("syscallhook: eager mode rewrote {n} sites\n").as_bytes());
        }
    }
    match enable_sud() {
        Ok(()) => ACTIVE.store(true, Ordering::Relaxed),
        Err(e) => say(format!("syscallhook: {e} failed; syscalls are not hooked\n").as_bytes()),
    }
}

#[used]
#[link_section = ".init_array"]
static INIT: extern "C" fn() = init;
