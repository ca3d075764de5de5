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
//! * **eager** (`SYSCALLHOOK_MODE=eager`): at load, decode every function
//!   that the loaded objects' unwind tables (`.eh_frame_hdr`) list, from its
//!   first byte, and rewrite each `syscall` the same analysis accepts (never
//!   a sweep through data in `.text`); SUD stays on for everything else.
//!
//! Whether a site may be rewritten (a constant number below 512, no red
//! zone, known function bounds, one cache line) is `site.rs`'s verdict;
//! sites it refuses stay on the SUD path, which is correct for any number.
//!
//! `SYSCALLHOOK=count` prints a per-syscall table at exit,
//! `SYSCALLHOOK=trace` prints every call, on stderr or on the fd that
//! `SYSCALLHOOK_OUT_FD` names. Programs and libraries can register
//! their own hook with `syscallhook_register` (see `hooks.rs`).
//!
//! The runtime, one concern per file:
//!
//! * `entry.rs`: the asm hook entry. It keeps the `syscall` ABI exactly
//!   (every register but rax, rcx, r11; rflags with DF; the whole extended
//!   state; the stack below the red zone), checks every return address
//!   against the rewritten-site table on every path, and has a fast path
//!   (pass-through, 34 instructions besides the syscall, no xsave, provably
//!   touching none) and a slow path (own stack, `xsavec`, Rust dispatch).
//!   It also creates children: clone, clone3, fork and vfork re-arm SUD in
//!   the child (the kernel clears it in every new task), and exports
//!   `syscall(3)`, which enters the hook directly.
//! * `thread.rs`: the per-thread TLS block (initial-exec, valid because the
//!   library is preloaded), hook stacks, xsave configuration, the
//!   reentrancy guard.
//! * `dispatch.rs`: per-number classes (on the kernel's 32-bit number), the
//!   Rust dispatch of the slow path, and SIGSYS protection (the program cannot block it
//!   or replace the library's handler; its own action is kept and chained).
//! * `signals.rs`: the SIGSYS handler (rewrite, or send the call through
//!   the hook after the handler returned; `int $0x80`, `sysenter`,
//!   chaining of seccomp and other SIGSYS to the program).
//! * `hooks.rs`: the C API and the built-in counter and tracer.
//! * `patch.rs`: which sites are rewritten, and how.
//!
//! See `Documentation/zpoline.rst` ("The hook library").

mod bounds;
mod dispatch;
mod entry;
mod hooks;
mod maps;
mod patch;
mod signals;
mod site;
mod thread;
mod xmc;

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use entry::sys;

/// Per-syscall counters (incremented by `entry.rs` with `lock incq`, and by
/// the SIGSYS handler for the calls it sends to the asm paths).
#[no_mangle]
pub static shl_counts: [AtomicU64; 512] = [const { AtomicU64::new(0) }; 512];

/// The process that owns this memory: its counter table and its SIGSYS
/// action (set at load and by the fork path in the child). A vfork child
/// shares the parent's memory: it neither prints the parent's table at its
/// exit nor changes the parent's SIGSYS action.
#[no_mangle]
pub static shl_table_pid: AtomicU64 = AtomicU64::new(0);

/// The SUD selector byte: always "block"; the allowed range does the rest
/// (also passed by `entry.rs` when it re-arms SUD in a child).
#[no_mangle]
pub static shl_selector: AtomicU8 = AtomicU8::new(1);
/// Whether the hook is live (page installed and SUD on); read by the
/// exported `syscall()` (`entry.rs`), which goes straight to the kernel
/// without it.
#[no_mangle]
pub static shl_active: AtomicBool = AtomicBool::new(false);

const NR_WRITE: i64 = 1;
const NR_OPEN: i64 = 2;
const NR_CLOSE: i64 = 3;
const NR_IOCTL: i64 = 16;
const NR_GETPID: i64 = 39;
const NR_EXIT_GROUP: i64 = 231;
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
#[no_mangle]
extern "C" fn shl_die_bad_site(ret: u64, nr: u64) -> ! {
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

/// Kills the process: no memory for a thread's hook stack.
#[no_mangle]
extern "C" fn shl_die_no_stack() -> ! {
    say(b"syscallhook: cannot map a hook stack for this thread; aborting\n");
    sys(NR_EXIT_GROUP, [127, 0, 0, 0, 0, 0]);
    loop {
        core::hint::spin_loop();
    }
}

/// Test and benchmark use only: adds `addr` to the rewritten-site table
/// without patching anything, so that a program that maps its own page
/// (a benchmark of the entry) may `call *%rax` into `shl_hook_entry` from
/// a `ff d0` at `addr`. Never call it in a real program: it makes a call
/// from `addr` look like a rewritten syscall. Returns whether `addr` is in
/// the table.
#[no_mangle]
pub extern "C" fn syscallhook_bench_mark_site(addr: u64) -> bool {
    patch::mark_site(addr)
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
    shl_active.load(Ordering::Relaxed)
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
        hook: entry::shl_hook_entry_asm as *const () as u64,
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

/// Signal number of SIGSYS.
const SIGSYS: i64 = 31;

/// Installs the SIGSYS handler and switches SUD on for this thread; on
/// failure, puts SIGSYS's default action back.
fn enable_sud() -> Result<(), &'static str> {
    // The int3 protocol's SIGTRAP handler first: the SIGSYS action's mask
    // depends on it (xmc.rs).
    let force = match std::env::var("SYSCALLHOOK_XMC").as_deref() {
        Ok("plain") => Some(xmc::Method::Plain),
        Ok("mprotect") => Some(xmc::Method::Mprotect),
        _ => None,
    };
    if xmc::choose(force) != xmc::Method::Plain && !xmc::install() {
        xmc::choose(Some(xmc::Method::Plain));
    }
    if let Err(e) = signals::install() {
        xmc::uninstall();
        return Err(e);
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
            shl_selector.as_ptr() as i64,
            0,
        ],
    );
    if r != 0 {
        signals::uninstall();
        xmc::uninstall();
        return Err("prctl(PR_SET_SYSCALL_USER_DISPATCH)");
    }
    Ok(())
}

/// Runs at load (from `.init_array`).
extern "C" fn init() {
    // First, even when disabled: a program that enters shl_hook_entry from
    // its own page (the host benchmark) gets the real extended-state save.
    thread::init_xstate();
    if std::env::var_os("SYSCALLHOOK_DISABLE").is_some() {
        return;
    }
    // The fast path keeps the caller's status flags with lahf/sahf, which
    // 64-bit mode has on every x86-64 CPU since 2006 (CPUID LAHF-SAHF).
    if core::arch::x86_64::__cpuid(0x8000_0001).ecx & 1 == 0 {
        say(b"syscallhook: the CPU lacks LAHF/SAHF in 64-bit mode; syscalls are not hooked\n");
        return;
    }
    hooks::configure();
    shl_table_pid.store(sys(NR_GETPID, [0; 6]) as u64, Ordering::Relaxed);
    dispatch::refresh_classes();
    // SYSCALLHOOK_OUT_FD=N: the library's messages and tables go to fd N
    // (a test harness keeps them apart from the program's own output),
    // else to stderr; either way through a close-on-exec copy.
    let out = std::env::var("SYSCALLHOOK_OUT_FD")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|&n| n >= 0)
        .map(|n| sys(NR_FCNTL, [n, F_DUPFD_CLOEXEC, 900, 0, 0, 0]))
        .filter(|&fd| fd >= 0);
    let fd = out.unwrap_or_else(|| sys(NR_FCNTL, [2, F_DUPFD_CLOEXEC, 900, 0, 0, 0]));
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
    let verbose = std::env::var_os("SYSCALLHOOK_VERBOSE").is_some();
    if verbose {
        let x = &thread::shl_xstate;
        let mode = ["fxsave", "xsave", "xsavec"][x.mode.load(Ordering::Relaxed) as usize % 3];
        let xcr0 = u64::from(x.xcr0[0].load(Ordering::Relaxed))
            | u64::from(x.xcr0[1].load(Ordering::Relaxed)) << 32;
        let size = x.size.load(Ordering::Relaxed);
        say(format!(
            "syscallhook: slow path saves with {mode}, mask {xcr0:#x}, area {size} bytes\n"
        )
        .as_bytes());
    }
    // SUD first: a site is rewritten only once the hook is known to be
    // live, so that a refused SUD (a seccomp filter, say) leaves the
    // program untouched, as "not hooked" says.
    if let Err(e) = enable_sud() {
        say(format!("syscallhook: {e} failed; syscalls are not hooked\n").as_bytes());
        return;
    }
    shl_active.store(true, Ordering::Relaxed);
    let eager = std::env::var("SYSCALLHOOK_MODE").is_ok_and(|m| m == "eager");
    if eager {
        let n = patch::rewrite_all_executable();
        if verbose {
            say(format!("syscallhook: eager mode rewrote {n} sites\n").as_bytes());
        }
    }
}

#[used]
#[link_section = ".init_array"]
static INIT: extern "C" fn() = init;
