// SPDX-License-Identifier: GPL-2.0

//! Per-syscall cost of a pass-through hook, natively on the host, for:
//! no hook; the zpoline page (the module's own page bytes, mapped at 0 by
//! this root process) reached from a `call *%rax` site, with a hook that
//! returns at once (sled + stub alone), with a two-instruction pass-through
//! hook, and with the real `libsyscallhook.so` entry (loaded with dlopen
//! under SYSCALLHOOK_DISABLE=1, so that it installs nothing, though its
//! constructor still picks the real `xsavec`/`xsave` save of the slow path,
//! so the callback rows time the path a preloaded library takes; this process
//! maps the page with the library's `shl_hook_entry` as the hook and
//! registers its own site with `syscallhook_bench_mark_site`), with and
//! without a C callback; Syscall User Dispatch (SIGSYS handler); seccomp
//! user notification (supervisor thread); ptrace (PTRACE_SYSCALL tracer).
//! For `getpid` and for `read` of one byte from /dev/zero. Every mechanism
//! runs in its own child process, because SUD, seccomp, ptrace and the page
//! at 0 cannot be undone. Every variant goes through the same small asm
//! wrapper (`hb_native`, `hb_page`, `hb_empty`), so that the call around the
//! site costs the same in every row.
//!
//! Usage: `hooks [iterations] [repeats] [output.md]` (root: address 0).
//! `HOOKLIB` overrides the library's path (default: samples/out/ of this tree).

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::time::Instant;

use trampfd_hosttest::arch::zpoline::render_page;

const PAGE: usize = 4096;
const NR_GETPID: u64 = 39;
const NR_READ: u64 = 0;

/// The workload: one syscall, issued by the `syscall` instruction in
/// `hb_native` (the site SUD, seccomp and ptrace intercept) or by the
/// `call *%rax` in `hb_page` (the rewritten form).
#[derive(Clone, Copy, PartialEq)]
enum Op {
    Getpid,
    Read1(i32),
}

impl Op {
    fn args(self, buf: &mut u8) -> (u64, u64, u64, u64) {
        match self {
            Op::Getpid => (NR_GETPID, 0, 0, 0),
            Op::Read1(fd) => (NR_READ, fd as u64, buf as *mut u8 as u64, 1),
        }
    }
}

// The call sites, as functions of (nr, a1, a2, a3) so that every row pays
// for the same call around the site:
//   hb_native: `syscall`; hb_page: `call *%rax` (the site the library
//   rewrites to, at `hb_page_site`); hb_empty: no site at all (the cost of
//   the wrapper call itself, subtracted for the rows that make no syscall).
// The hooks for the page: hb_ret_hook returns at once (measures the sled and
// stub alone); zp_bench_hook passes the call through (`syscall; ret`);
// zp_bench_hook_jmp too, but returns as the library's fast path does
// (`syscall; pop rcx; jmp rcx`: no `ret` right after the kernel's exit
// path, and rcx = site + 2 as the `syscall` instruction leaves it).
std::arch::global_asm!(
    ".globl hb_native",
    "hb_native:",
    "mov rax, rdi", // number
    "mov rdi, rsi", // arguments 1..3 in the syscall registers
    "mov rsi, rdx",
    "mov rdx, rcx",
    "syscall",
    "ret",
    ".globl hb_page",
    "hb_page:",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "mov rdx, rcx",
    ".globl hb_page_site",
    "hb_page_site:",
    "call rax", // into the page at address `nr`; returns here
    "ret",
    ".globl hb_empty",
    "hb_empty:",
    "ret",
    ".globl hb_ret_hook",
    "hb_ret_hook:",
    "ret", // the hook that does nothing: rax (the number) comes back
    ".globl zp_bench_hook",
    "zp_bench_hook:",
    "syscall", // the pass-through hook's own syscall
    "ret",
    ".globl zp_bench_hook_jmp",
    "zp_bench_hook_jmp:",
    "syscall", // the pass-through hook's own syscall
    "pop rcx", // the return address (site + 2)
    "jmp rcx", // back to the site without a `ret`
);
extern "C" {
    fn hb_native(nr: u64, a: u64, b: u64, c: u64) -> i64;
    fn hb_page(nr: u64, a: u64, b: u64, c: u64) -> i64;
    fn hb_page_site();
    fn hb_empty(nr: u64, a: u64, b: u64, c: u64) -> i64;
    fn hb_ret_hook();
    fn zp_bench_hook();
    fn zp_bench_hook_jmp();
}

/// The unmodified `syscall` site.
fn raw_syscall(op: Op, buf: &mut u8) -> i64 {
    let (nr, a, b, c) = op.args(buf);
    // SAFETY: getpid or read(fd, buf, 1) into a valid byte.
    unsafe { hb_native(nr, a, b, c) }
}

/// The same site rewritten to `call *%rax` (needs a page at 0).
fn zpoline_call(op: Op, buf: &mut u8) -> i64 {
    let (nr, a, b, c) = op.args(buf);
    // SAFETY: address `nr` is in the sled of the page this child mapped at
    // 0, which ends in a jump to a hook that follows the syscall register
    // convention and returns.
    unsafe { hb_page(nr, a, b, c) }
}

/// The wrapper call alone.
fn empty_call(op: Op, buf: &mut u8) -> i64 {
    let (nr, a, b, c) = op.args(buf);
    // SAFETY: a function that returns at once.
    unsafe { hb_empty(nr, a, b, c) }
}

/// Median, min, max ns per op of `iters` ops, over `repeats` runs.
fn time_it(iters: u64, repeats: usize, mut f: impl FnMut() -> i64) -> [f64; 3] {
    let v: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    spread(v)
}

/// Median, min, max of `v` (at least one value).
fn spread(mut v: Vec<f64>) -> [f64; 3] {
    v.sort_by(|a, b| a.total_cmp(b));
    [v[v.len() / 2], v[0], v[v.len() - 1]]
}

/// Runs `f` in a child process and returns the three numbers it reports,
/// or the reason it could not measure (the child's message, or its death).
fn in_child(f: impl FnOnce() -> Result<[f64; 3], String>) -> Result<[f64; 3], String> {
    let mut fds = [0i32; 2];
    // SAFETY: plain pipe/fork/waitpid; the child only runs `f` and exits.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            libc::close(fds[0]);
            let bytes: Vec<u8> = match f() {
                Ok(r) => r.iter().flat_map(|x| x.to_ne_bytes()).collect(),
                Err(e) => format!("! {e}").into_bytes(),
            };
            let mut w = std::fs::File::from_raw_fd(fds[1]);
            let _ = w.write_all(&bytes);
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut r = std::fs::File::from_raw_fd(fds[0]);
        let mut bytes = Vec::new();
        let _ = r.read_to_end(&mut bytes);
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
        if bytes.starts_with(b"! ") {
            return Err(String::from_utf8_lossy(&bytes[2..]).into_owned());
        }
        if bytes.len() != 24 {
            return Err(format!("the measuring child died (wait status {st:#x})"));
        }
        let g = |i: usize| f64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
        Ok([g(0), g(1), g(2)])
    }
}

fn open_zero() -> i32 {
    // SAFETY: open of a constant path.
    unsafe { libc::open(c"/dev/zero".as_ptr(), libc::O_RDONLY) }
}

/// Maps the zpoline page (the module's bytes) at address 0. The bytes go
/// through a memfd, so no Rust pointer to address 0 is ever formed.
fn map_zpoline(hook: u64) -> Result<(), String> {
    let mut page = vec![0u8; PAGE];
    render_page(PAGE, hook, |at, b| {
        page[at..at + b.len()].copy_from_slice(b)
    });
    // SAFETY: memfd, write and a fixed mapping at 0, which this process does
    // not otherwise use; every result is checked.
    unsafe {
        let fd = libc::memfd_create(c"zpoline".as_ptr(), 0);
        if fd < 0 || libc::write(fd, page.as_ptr().cast(), PAGE) != PAGE as isize {
            return Err(format!("memfd: {}", std::io::Error::last_os_error()));
        }
        let p = libc::mmap(
            std::ptr::null_mut(),
            PAGE,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_FIXED,
            fd,
            0,
        );
        libc::close(fd);
        if p == libc::MAP_FAILED {
            return Err(format!("mmap at 0: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// SIGSYS handler of Syscall User Dispatch: pass the syscall through (from
/// libc's `syscall()`, inside the allowed range) and set the result.
extern "C" fn on_sigsys(_sig: i32, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext for this signal.
    unsafe {
        let uc = &mut *(ctx as *mut libc::ucontext_t);
        let g = &mut uc.uc_mcontext.gregs;
        let r = libc::syscall(
            g[libc::REG_RAX as usize],
            g[libc::REG_RDI as usize],
            g[libc::REG_RSI as usize],
            g[libc::REG_RDX as usize],
        );
        g[libc::REG_RAX as usize] = if r < 0 {
            -(*libc::__errno_location()) as i64
        } else {
            r
        };
    }
}

/// The executable mapping of libc: the range SUD lets through.
fn libc_text() -> Option<(u64, u64)> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter(|l| l.contains("r-xp") && l.contains("/libc.so"))
        .map(|l| {
            let range = l.split_whitespace().next().unwrap_or("0-0");
            let (a, b) = range.split_once('-').unwrap_or(("0", "0"));
            (
                u64::from_str_radix(a, 16).unwrap_or(0),
                u64::from_str_radix(b, 16).unwrap_or(0),
            )
        })
        .next()
}

static mut SUD_SELECTOR: u8 = 0;

fn setup_sud() -> bool {
    const PR_SET_SYSCALL_USER_DISPATCH: i32 = 59;
    const PR_SYS_DISPATCH_ON: u64 = 1;
    const SYSCALL_DISPATCH_FILTER_BLOCK: u8 = 1;
    let Some((start, end)) = libc_text() else {
        return false;
    };
    // SAFETY: installs a handler, then enables SUD for this (child) process.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigsys as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
        SUD_SELECTOR = SYSCALL_DISPATCH_FILTER_BLOCK;
        libc::prctl(
            PR_SET_SYSCALL_USER_DISPATCH,
            PR_SYS_DISPATCH_ON,
            start,
            end - start,
            &raw mut SUD_SELECTOR,
        ) == 0
    }
}

/// seccomp user notification: a supervisor thread answers "continue".
fn setup_seccomp_notif() -> bool {
    const SECCOMP_SET_MODE_FILTER: u64 = 1;
    const SECCOMP_FILTER_FLAG_NEW_LISTENER: u64 = 1 << 3;
    const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
    const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
    const NOTIF_RECV: u64 = 0xc050_2100;
    const NOTIF_SEND: u64 = 0xc018_2101;
    const FLAG_CONTINUE: u32 = 1;
    // load nr; if nr == getpid || nr == read: notify; else allow.
    let filter = [
        libc::sock_filter {
            code: 0x20,
            jt: 0,
            jf: 0,
            k: 0,
        },
        libc::sock_filter {
            code: 0x15,
            jt: 1,
            jf: 0,
            k: NR_GETPID as u32,
        },
        libc::sock_filter {
            code: 0x15,
            jt: 0,
            jf: 1,
            k: NR_READ as u32,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_USER_NOTIF,
        },
        libc::sock_filter {
            code: 0x06,
            jt: 0,
            jf: 0,
            k: SECCOMP_RET_ALLOW,
        },
    ];
    let (tx, rx) = std::sync::mpsc::channel::<i32>();
    // The supervisor thread starts before the filter: it is not filtered.
    std::thread::spawn(move || {
        let fd = rx.recv().unwrap_or(-1);
        let mut req = [0u8; 80];
        let mut resp = [0u8; 24];
        loop {
            req.fill(0);
            // SAFETY: ioctls on the listener with buffers of the UAPI sizes.
            unsafe {
                if libc::ioctl(fd, NOTIF_RECV, req.as_mut_ptr()) != 0 {
                    continue;
                }
                resp.fill(0);
                resp[0..8].copy_from_slice(&req[0..8]);
                resp[20..24].copy_from_slice(&FLAG_CONTINUE.to_ne_bytes());
                libc::ioctl(fd, NOTIF_SEND, resp.as_mut_ptr());
            }
        }
    });
    // SAFETY: standard seccomp filter installation in this thread only.
    unsafe {
        let prog = libc::sock_fprog {
            len: filter.len() as u16,
            filter: filter.as_ptr().cast_mut(),
        };
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return false;
        }
        let fd = libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &prog,
        );
        if fd < 0 {
            return false;
        }
        tx.send(fd as i32).is_ok()
    }
}

/// ptrace: the parent traces the child with PTRACE_SYSCALL (two stops per
/// syscall, pass-through); the child measures itself.
fn traced(op_zero: bool, iters: u64, repeats: usize) -> [f64; 3] {
    let mut fds = [0i32; 2];
    // SAFETY: fork + ptrace; the child measures and exits, the parent only
    // resumes it until it exits.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        if pid == 0 {
            libc::close(fds[0]);
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            libc::raise(libc::SIGSTOP);
            let op = if op_zero {
                Op::Read1(open_zero())
            } else {
                Op::Getpid
            };
            let mut b = 0u8;
            let r = time_it(iters, repeats, || raw_syscall(op, &mut b));
            let bytes: Vec<u8> = r.iter().flat_map(|x| x.to_ne_bytes()).collect();
            libc::write(fds[1], bytes.as_ptr().cast(), bytes.len());
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
        loop {
            if libc::ptrace(libc::PTRACE_SYSCALL, pid, 0, 0) != 0 {
                break;
            }
            if libc::waitpid(pid, &mut st, 0) < 0 || libc::WIFEXITED(st) {
                break;
            }
        }
        let mut r = std::fs::File::from_raw_fd(fds[0]);
        let mut bytes = Vec::new();
        let _ = r.read_to_end(&mut bytes);
        if bytes.len() != 24 {
            return [f64::NAN; 3];
        }
        let g = |i: usize| f64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
        [g(0), g(1), g(2)]
    }
}

/// How the library rows use `syscallhook_register`.
#[derive(Clone, Copy, PartialEq)]
enum Callback {
    /// No callback: the library's own pass-through (its counters are always on).
    None,
    /// A C callback that returns 0: pass the call through.
    PassThrough,
    /// A C callback that answers at once (no syscall at all).
    Answer,
}

extern "C" fn cb_pass(_nr: i64, _args: *mut i64, _result: *mut i64) -> i32 {
    0
}

extern "C" fn cb_answer(_nr: i64, _args: *mut i64, result: *mut i64) -> i32 {
    // SAFETY: the library passes a valid result pointer.
    unsafe { *result = 0 };
    1
}

/// The library under test: $HOOKLIB, or samples/out/ of this tree.
fn library_path() -> String {
    std::env::var("HOOKLIB").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../samples/out/libsyscallhook.so"
        )
        .to_string()
    })
}

/// Loads libsyscallhook.so without letting it install anything, maps the
/// page with its `shl_hook_entry` as the hook, and registers `hb_page_site`
/// as a rewritten site (test/bench-only `syscallhook_bench_mark_site`).
fn setup_library(cb: Callback) -> Result<(), String> {
    let path = library_path();
    let cpath = std::ffi::CString::new(path.clone()).map_err(|e| e.to_string())?;
    // SAFETY: set before the library's constructor reads it; this child is
    // single-threaded. dlopen/dlsym with valid C strings; every symbol is
    // checked before it is called, with the signature the library exports.
    unsafe {
        std::env::set_var("SYSCALLHOOK_DISABLE", "1");
        let h = libc::dlopen(cpath.as_ptr(), libc::RTLD_NOW);
        if h.is_null() {
            return Err(format!("dlopen {path} failed"));
        }
        let entry = libc::dlsym(h, c"shl_hook_entry".as_ptr());
        let mark = libc::dlsym(h, c"syscallhook_bench_mark_site".as_ptr());
        let reg = libc::dlsym(h, c"syscallhook_register".as_ptr());
        if entry.is_null() || reg.is_null() {
            return Err("libsyscallhook.so exports no shl_hook_entry/syscallhook_register".into());
        }
        if mark.is_null() {
            return Err(
                "libsyscallhook.so has no syscallhook_bench_mark_site (a library \
                        older than issue 13): library rows skipped"
                    .into(),
            );
        }
        let mark: extern "C" fn(u64) -> bool = std::mem::transmute(mark);
        type Cb = extern "C" fn(i64, *mut i64, *mut i64) -> i32;
        let reg: extern "C" fn(Option<Cb>) = std::mem::transmute(reg);
        map_zpoline(entry as u64)?;
        if !mark(hb_page_site as *const () as u64) {
            return Err("syscallhook_bench_mark_site refused the site".into());
        }
        match cb {
            Callback::None => {}
            Callback::PassThrough => reg(Some(cb_pass)),
            Callback::Answer => reg(Some(cb_answer)),
        }
    }
    Ok(())
}

/// A results cell: median, spread, overhead over `base`, and the ratio of
/// that overhead to `ours`.
struct Row {
    name: &'static str,
    r: Result<[f64; 3], String>,
    /// What the overhead is measured against: native, or the empty call for
    /// the rows that make no syscall.
    base: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(9);
    let out = args.get(3);
    // Slow mechanisms get fewer iterations (the ratio is per op).
    let slow = (iters / 20).max(1);

    let mut table = String::from(
        "| syscall | mechanism | median ns/op | spread (min..max) | overhead ns | overhead / library's |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let mut verdicts = Vec::new();
    let mut notes = Vec::new();
    for (label, zero) in [("getpid", false), ("read 1 B /dev/zero", true)] {
        let op = move || {
            if zero {
                Op::Read1(open_zero())
            } else {
                Op::Getpid
            }
        };
        // Measure `call` (through `hb_page`) after `setup` in a child, one
        // run of `iters` ops.
        let paged = |setup: &dyn Fn() -> Result<(), String>, check: bool| {
            in_child(|| {
                setup()?;
                let o = op();
                let mut b = 0u8;
                let want = raw_syscall(o, &mut b);
                if check && zpoline_call(o, &mut b) != want {
                    return Err("the hook did not pass the call through".into());
                }
                Ok(time_it(iters, 1, || zpoline_call(o, &mut b)))
            })
        };
        // Measure `call` (the raw syscall or the empty call) in a child.
        let plain = |call: fn(Op, &mut u8) -> i64| {
            in_child(|| {
                let o = op();
                let mut b = 0u8;
                Ok(time_it(iters, 1, || call(o, &mut b)))
            })
        };
        // The fast mechanisms in interleaved rounds: each round runs every
        // one once, each in a fresh child, so a drift of the machine's
        // speed (other guests on the host) hits them all alike instead of
        // whichever ran last.
        let fast: [&dyn Fn() -> Result<[f64; 3], String>; 8] = [
            &|| plain(raw_syscall),
            &|| plain(empty_call),
            &|| paged(&|| map_zpoline(hb_ret_hook as *const () as u64), false),
            &|| paged(&|| map_zpoline(zp_bench_hook as *const () as u64), true),
            &|| paged(&|| map_zpoline(zp_bench_hook_jmp as *const () as u64), true),
            &|| paged(&|| setup_library(Callback::None), true),
            &|| paged(&|| setup_library(Callback::PassThrough), true),
            &|| paged(&|| setup_library(Callback::Answer), false),
        ];
        let mut runs: [Result<Vec<f64>, String>; 8] = core::array::from_fn(|_| Ok(Vec::new()));
        for _ in 0..repeats {
            for (m, run) in fast.iter().zip(runs.iter_mut()) {
                if let Ok(v) = run {
                    match m() {
                        Ok(r) => v.push(r[0]),
                        Err(e) => *run = Err(e),
                    }
                }
            }
        }
        let [native, empty, sled, zp, zp_jmp, lib, lib_cb, lib_answer] =
            runs.map(|r| r.map(spread));
        // A mechanism that intercepts the unmodified `syscall` site.
        let intercepted = |setup: fn() -> bool| {
            in_child(move || {
                let o = op();
                if !setup() {
                    return Err("setup failed".into());
                }
                let mut b = 0u8;
                Ok(time_it(slow, repeats, || raw_syscall(o, &mut b)))
            })
        };
        let sud = intercepted(setup_sud);
        let sec = intercepted(setup_seccomp_notif);
        let pt = traced(zero, slow, repeats);
        let pt = if pt[0].is_nan() {
            Err("ptrace child failed".to_string())
        } else {
            Ok(pt)
        };
        let n = native.as_ref().map_or(f64::NAN, |r| r[0]);
        let e = empty.as_ref().map_or(f64::NAN, |r| r[0]);
        let med = |r: &Result<[f64; 3], String>| r.as_ref().map_or(f64::NAN, |r| r[0]);
        // "Ours": the library's pass-through overhead, or the bare page's
        // when the library cannot be measured.
        let (ours, ours_name) = if lib.is_ok() {
            (med(&lib) - n, "libsyscallhook.so pass-through")
        } else {
            (med(&zp) - n, "bare zpoline page (library not measurable)")
        };
        let rows = [
            Row {
                name: "native (no hook)",
                r: native.clone(),
                base: n,
            },
            Row {
                name: "empty call (the wrapper alone, no syscall)",
                r: empty.clone(),
                base: e,
            },
            Row {
                name: "zpoline page, hook returns at once (sled + stub, no syscall)",
                r: sled.clone(),
                base: e,
            },
            Row {
                name: "zpoline page + rewritten call (pass-through hook: syscall; ret)",
                r: zp.clone(),
                base: n,
            },
            Row {
                name:
                    "zpoline page + rewritten call (pass-through hook: syscall; pop rcx; jmp rcx)",
                r: zp_jmp.clone(),
                base: n,
            },
            Row {
                name: "libsyscallhook.so entry, C callback answers (no syscall)",
                r: lib_answer.clone(),
                base: e,
            },
            Row {
                name: "libsyscallhook.so pass-through",
                r: lib.clone(),
                base: n,
            },
            Row {
                name: "libsyscallhook.so pass-through + C callback",
                r: lib_cb.clone(),
                base: n,
            },
            Row {
                name: "Syscall User Dispatch (SIGSYS)",
                r: sud.clone(),
                base: n,
            },
            Row {
                name: "seccomp user notification",
                r: sec,
                base: n,
            },
            Row {
                name: "ptrace (PTRACE_SYSCALL)",
                r: pt.clone(),
                base: n,
            },
        ];
        for row in &rows {
            match &row.r {
                Ok(r) => {
                    let over = r[0] - row.base;
                    let rel = if row.name.starts_with("native") || row.name.starts_with("empty") {
                        String::from("-")
                    } else {
                        format!("{:.2}x", over / ours)
                    };
                    table += &format!(
                        "| {label} | {} | {:.1} | {:.1}..{:.1} | {:.1} | {rel} |\n",
                        row.name, r[0], r[1], r[2], over
                    );
                }
                Err(why) => {
                    table += &format!("| {label} | {} | n/a | n/a | n/a | n/a |\n", row.name);
                    let note = format!("{}: {why}", row.name);
                    if !notes.contains(&note) {
                        notes.push(note);
                    }
                }
            }
        }
        // The targets and the breakdown of the library's overhead.
        let lib_over = med(&lib) - n;
        let sled_cost = med(&sled) - e;
        // The two-instruction hook reached through the page, no library.
        let bare_ret = med(&zp) - n;
        // The same returning as the library does (pop rcx; jmp rcx): its floor.
        let bare = med(&zp_jmp) - n;
        let mut v = format!("**{label}**: native {n:.1} ns. ");
        if lib.is_ok() {
            let ratio = lib_over / n;
            v += &format!(
                "Library pass-through overhead {lib_over:.1} ns = {ratio:.3}x native (target <= 0.10x: {}). \
                 Breakdown: sled + stub {sled_cost:.1} ns; the syscall made from a called hook \
                 instead of the site, {:.1} ns (the three-instruction hook's overhead minus sled + \
                 stub); the library's entry save/restore and dispatch {:.1} ns (its pass-through \
                 minus the three-instruction hook's). The library's own path without the kernel \
                 (callback answers) {:.1} ns; a C callback that passes through adds {:.1} ns. \
                 A hook that returns with `ret` right after its `syscall` costs {bare_ret:.1} ns \
                 over native, with `pop rcx; jmp rcx` {bare:.1} ns. ",
                if ratio <= 0.10 { "met" } else { "missed" },
                bare - sled_cost,
                lib_over - bare,
                med(&lib_answer) - e,
                med(&lib_cb) - med(&lib),
            );
        } else {
            v += &format!(
                "Library rows not measured; bare page pass-through overhead {bare:.1} ns = {:.3}x native \
                 ({bare_ret:.1} ns with `ret`); sled + stub {sled_cost:.1} ns. ",
                bare / n
            );
        }
        let sud_ratio = (med(&sud) - n) / ours;
        if lib.is_ok() {
            v += &format!(
                "SUD overhead / {ours_name} overhead = {sud_ratio:.0}x (target >= 100x: {}); ptrace / ours = {:.0}x.",
                if sud_ratio >= 100.0 { "met" } else { "missed" },
                (med(&pt) - n) / ours
            );
            // Why a target is missed: what no library can undercut.
            if (lib_over / n > 0.10 || sud_ratio < 100.0) && bare > 0.0 {
                v += &format!(
                    " Where a target is missed, the floor: the page with a three-instruction hook \
                     and no library already costs {bare:.1} ns = {:.3}x native, and SUD's \
                     overhead is {:.0}x that; the library adds {:.1} ns on top.",
                    bare / n,
                    (med(&sud) - n) / bare,
                    lib_over - bare
                );
            }
        } else {
            v += &format!(
                "SUD overhead / {ours_name} overhead = {sud_ratio:.0}x; the targets are judged on the \
                 library's rows only."
            );
        }
        verdicts.push(v);
    }
    let header = format!(
        "Pass-through syscall hook cost, native host, {iters} ops (slow mechanisms {slow}) x {repeats} runs; \
         the fast mechanisms in {repeats} interleaved rounds, one fresh process each per round. \
         Overhead is against native, or against the empty call for the rows that make no syscall; \
         the last column divides it by the library's pass-through overhead.\n\n"
    );
    let mut text = format!("{header}{table}\n{}\n", verdicts.join("\n\n"));
    if !notes.is_empty() {
        text += &format!("\nNot measured: {}\n", notes.join("; "));
    }
    print!("{text}");
    if let Some(path) = out {
        std::fs::write(path, text).expect("write results");
    }
}
