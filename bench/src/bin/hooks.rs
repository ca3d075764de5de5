// SPDX-License-Identifier: GPL-2.0

//! Per-syscall cost of a pass-through hook, natively on the host, for:
//! no hook; the zpoline page (the module's own page bytes, mapped at 0 by
//! this root process) reached from a rewritten `call *%rax`; Syscall User
//! Dispatch (SIGSYS handler); seccomp user notification (supervisor thread);
//! ptrace (PTRACE_SYSCALL tracer). For `getpid` and for `read` of one byte
//! from /dev/zero. Every mechanism runs in its own child process, because
//! SUD, seccomp and ptrace cannot be undone.
//!
//! Usage: `hooks [iterations] [repeats] [output.md]` (root: address 0).

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::time::Instant;

use trampfd_hosttest::arch::zpoline::render_page;

const PAGE: usize = 4096;
const NR_GETPID: u64 = 39;
const NR_READ: u64 = 0;

/// The workload: one syscall, issued by a `syscall` instruction here (the
/// site SUD, seccomp and ptrace intercept) or by the rewritten form.
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

/// `syscall` instruction of the measured program.
#[inline(always)]
fn raw_syscall(op: Op, buf: &mut u8) -> i64 {
    let (nr, a, b, c) = op.args(buf);
    let ret: i64;
    // SAFETY: getpid or read(fd, buf, 1) into a valid byte.
    unsafe {
        std::arch::asm!("syscall", inlateout("rax") nr as i64 => ret,
            in("rdi") a, in("rsi") b, in("rdx") c,
            out("rcx") _, out("r11") _, options(nostack));
    }
    ret
}

/// The same site rewritten to `call *%rax` (needs the zpoline page at 0).
#[inline(always)]
fn zpoline_call(op: Op, buf: &mut u8) -> i64 {
    let (nr, a, b, c) = op.args(buf);
    let ret: i64;
    // SAFETY: address `nr` is in the nop sled of the page at 0, which ends
    // in a jump to `zp_bench_hook`; that hook follows the syscall register
    // convention and returns. The asm may use the stack (no `nostack`), so
    // the compiler keeps the red zone free for the call's push.
    unsafe {
        std::arch::asm!("call rax", inlateout("rax") nr as i64 => ret,
            in("rdi") a, in("rsi") b, in("rdx") c,
            out("rcx") _, out("r11") _);
    }
    ret
}

// The pass-through hook: issue the real syscall and return. Syscalls from
// here are the hook's own (this code is never rewritten).
std::arch::global_asm!(".globl zp_bench_hook", "zp_bench_hook:", "syscall", "ret",);
extern "C" {
    fn zp_bench_hook();
}

/// Median, min, max ns per op of `iters` ops, over `repeats` runs.
fn time_it(iters: u64, repeats: usize, mut f: impl FnMut() -> i64) -> [f64; 3] {
    let mut v: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    [v[v.len() / 2], v[0], v[v.len() - 1]]
}

/// Runs `f` in a child process and returns the three numbers it reports.
fn in_child(f: impl FnOnce() -> [f64; 3]) -> [f64; 3] {
    let mut fds = [0i32; 2];
    // SAFETY: plain pipe/fork/waitpid; the child only runs `f` and exits.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            libc::close(fds[0]);
            let r = f();
            let mut w = std::fs::File::from_raw_fd(fds[1]);
            let bytes: Vec<u8> = r.iter().flat_map(|x| x.to_ne_bytes()).collect();
            let _ = w.write_all(&bytes);
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut r = std::fs::File::from_raw_fd(fds[0]);
        let mut bytes = Vec::new();
        let _ = r.read_to_end(&mut bytes);
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
        if bytes.len() != 24 {
            return [f64::NAN; 3];
        }
        let g = |i: usize| f64::from_ne_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
        [g(0), g(1), g(2)]
    }
}

fn open_zero() -> i32 {
    // SAFETY: open of a constant path.
    unsafe { libc::open(c"/dev/zero".as_ptr(), libc::O_RDONLY) }
}

/// Maps the zpoline page (the module's bytes) at address 0. The bytes go
/// through a memfd, so no Rust pointer to address 0 is ever formed.
fn map_zpoline() -> Result<(), String> {
    let mut page = vec![0u8; PAGE];
    let hook = zp_bench_hook as *const () as u64;
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(9);
    let out = args.get(3);
    // Slow mechanisms get fewer iterations (the ratio is per op).
    let slow = (iters / 20).max(1);

    let mut table = String::from(
        "| syscall | mechanism | median ns/op | spread (min..max) | overhead ns | overhead / zpoline's |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let mut verdicts = Vec::new();
    for (label, zero) in [("getpid", false), ("read 1 B /dev/zero", true)] {
        let op = move || {
            if zero {
                Op::Read1(open_zero())
            } else {
                Op::Getpid
            }
        };
        let native = in_child(move || {
            let o = op();
            let mut b = 0u8;
            time_it(iters, repeats, || raw_syscall(o, &mut b))
        });
        let zp = in_child(move || {
            if let Err(e) = map_zpoline() {
                eprintln!("hooks: zpoline: {e}");
                return [f64::NAN; 3];
            }
            let o = op();
            let mut b = 0u8;
            let want = raw_syscall(o, &mut b);
            assert_eq!(zpoline_call(o, &mut b), want, "hook must pass through");
            time_it(iters, repeats, || zpoline_call(o, &mut b))
        });
        // A mechanism that intercepts the unmodified `syscall` site.
        let intercepted = |setup: fn() -> bool| {
            in_child(move || {
                let o = op();
                if !setup() {
                    return [f64::NAN; 3];
                }
                let mut b = 0u8;
                time_it(slow, repeats, || raw_syscall(o, &mut b))
            })
        };
        let sud = intercepted(setup_sud);
        let sec = intercepted(setup_seccomp_notif);
        let pt = traced(zero, slow, repeats);
        let zp_over = zp[0] - native[0];
        for (name, r) in [
            ("native (no hook)", native),
            ("zpoline page + rewritten call", zp),
            ("Syscall User Dispatch (SIGSYS)", sud),
            ("seccomp user notification", sec),
            ("ptrace (PTRACE_SYSCALL)", pt),
        ] {
            let over = r[0] - native[0];
            let rel = if name.starts_with("native") {
                String::from("-")
            } else {
                format!("{:.1}x", over / zp_over)
            };
            table += &format!(
                "| {label} | {name} | {:.1} | {:.1}..{:.1} | {:.1} | {rel} |\n",
                r[0], r[1], r[2], over
            );
        }
        verdicts.push(format!(
            "{label}: SUD overhead / zpoline overhead = {:.0}x (target >= 28x), ptrace / zpoline = {:.0}x (target >= 100x)",
            (sud[0] - native[0]) / zp_over,
            (pt[0] - native[0]) / zp_over
        ));
    }
    let header = format!(
        "Pass-through syscall hook cost, native host, {iters} ops (slow mechanisms {slow}) x {repeats} runs\n\n"
    );
    let text = format!("{header}{table}\n{}\n", verdicts.join("\n\n"));
    print!("{text}");
    if let Some(path) = out {
        std::fs::write(path, text).expect("write results");
    }
}
