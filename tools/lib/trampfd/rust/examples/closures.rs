// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

//! The `trampfd` crate against the real device (run it in the guest, where
//! trampfd.ko is loaded): allocation, calls with the data in the register,
//! retargeting, growth past one page, reuse, pools with other registers,
//! threads, a stale call, and no writable+executable mapping.  Prints TAP.
//!
//! Usage: `closures` (x86-64; on other architectures it prints `1..0 # SKIP`).

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::collections::HashSet;
    use std::io;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;

    use trampfd::reg::x86_64::{R10, R11, RAX, RDI};
    use trampfd::{Closure, Pool};

    // Targets that take their data from one register: the trampoline puts it
    // there and jumps, all argument registers untouched.
    std::arch::global_asm!(
        ".globl trampfd_rust_add_r10",
        "trampfd_rust_add_r10:",
        "lea rax, [rdi + r10]",
        "ret",
        ".globl trampfd_rust_mul_r10",
        "trampfd_rust_mul_r10:",
        "mov rax, rdi",
        "imul rax, r10",
        "ret",
        ".globl trampfd_rust_add_r11",
        "trampfd_rust_add_r11:",
        "lea rax, [rdi + r11]",
        "ret",
        ".globl trampfd_rust_add_rax",
        "trampfd_rust_add_rax:",
        "add rax, rdi",
        "ret",
        // The entry of a Rust closure: r10 points to an `Entry`, whose first
        // field is the handler; pass the `Entry` as the second argument.
        ".globl trampfd_rust_entry",
        "trampfd_rust_entry:",
        "mov rsi, r10",
        "jmp qword ptr [rsi]",
    );
    extern "C" {
        fn trampfd_rust_add_r10();
        fn trampfd_rust_mul_r10();
        fn trampfd_rust_add_r11();
        fn trampfd_rust_add_rax();
        fn trampfd_rust_entry();
    }

    type Fn1 = extern "C" fn(i64) -> i64;

    fn code(f: unsafe extern "C" fn()) -> *const () {
        f as *const ()
    }

    fn val(v: i64) -> *const () {
        v as usize as *const ()
    }

    /// Calls `c` as `extern "C" fn(i64) -> i64`.
    fn call(c: &Closure<'_>, arg: i64) -> i64 {
        // SAFETY: every closure of this program has one of the targets above
        // as code, each an `extern "C" fn(i64) -> i64` that takes its data
        // from the register its pool loads, and `c` is live while borrowed.
        let f: Fn1 = unsafe { std::mem::transmute::<*const (), Fn1>(c.addr()) };
        f(arg)
    }

    fn check(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
        if cond {
            Ok(())
        } else {
            Err(what())
        }
    }

    fn eq<T: PartialEq + std::fmt::Debug>(got: T, want: T, what: &str) -> Result<(), String> {
        check(got == want, || {
            format!("{what}: got {got:?}, want {want:?}")
        })
    }

    fn io<T>(r: io::Result<T>, what: &str) -> Result<T, String> {
        r.map_err(|e| format!("{what}: {e}"))
    }

    fn errno<T>(r: io::Result<T>) -> Option<i32> {
        r.err().and_then(|e| e.raw_os_error())
    }

    fn available() -> Result<(), String> {
        io(trampfd::available(), "available")
    }

    fn call_with_data() -> Result<(), String> {
        let c = io(
            Closure::new(code(trampfd_rust_add_r10), val(35)),
            "Closure::new",
        )?;
        eq(call(&c, 7), 42, "add_r10(7) with r10 = 35")?;
        eq(c.data(), val(35), "data()")
    }

    fn set_retargets() -> Result<(), String> {
        let mut c = io(
            Closure::new(code(trampfd_rust_add_r10), val(1)),
            "Closure::new",
        )?;
        eq(call(&c, 5), 6, "before set")?;
        io(c.set(code(trampfd_rust_mul_r10), val(9)), "set")?;
        eq(call(&c, 5), 45, "mul_r10(5) with r10 = 9")?;
        eq(c.data(), val(9), "data() after set")
    }

    fn null_code_then_set() -> Result<(), String> {
        let mut c = io(Closure::new(std::ptr::null(), val(0)), "Closure::new(NULL)")?;
        io(c.set(code(trampfd_rust_add_r10), val(-3)), "set")?;
        eq(call(&c, 3), 0, "after set")
    }

    fn page_of(c: &Closure<'_>) -> usize {
        c.addr() as usize & !4095
    }

    fn grow_200() -> Result<(), String> {
        let cs = (0..200)
            .map(|i| Closure::new(code(trampfd_rust_add_r10), val(i)))
            .collect::<io::Result<Vec<_>>>();
        let cs = io(cs, "200 x Closure::new")?;
        for (i, c) in cs.iter().enumerate() {
            eq(call(c, 1000), 1000 + i as i64, "closure i")?;
        }
        let addrs: HashSet<usize> = cs.iter().map(|c| c.addr() as usize).collect();
        eq(addrs.len(), 200, "distinct addresses")?;
        let pages: HashSet<usize> = cs.iter().map(page_of).collect();
        check(pages.len() >= 2, || {
            format!("200 closures on {} page(s)", pages.len())
        })
    }

    fn free_and_reuse() -> Result<(), String> {
        let cs = (0..150)
            .map(|i| Closure::new(code(trampfd_rust_add_r10), val(i)))
            .collect::<io::Result<Vec<_>>>();
        let mut cs = io(cs, "150 x Closure::new")?;
        // Free every other one, last one first in the list of freed.
        let mut freed = Vec::new();
        let mut kept = Vec::new();
        for (i, c) in cs.drain(..).enumerate() {
            if i % 2 == 0 {
                freed.push(c.addr() as usize);
                drop(c);
            } else {
                kept.push(c);
            }
        }
        for (j, c) in kept.iter().enumerate() {
            eq(call(c, 0), 2 * j as i64 + 1, "kept closure after frees")?;
        }
        // Last freed, first reused.
        let again = (0..freed.len())
            .map(|i| Closure::new(code(trampfd_rust_mul_r10), val(i as i64)))
            .collect::<io::Result<Vec<_>>>();
        let again = io(again, "realloc")?;
        let want: Vec<usize> = freed.iter().rev().copied().collect();
        let got: Vec<usize> = again.iter().map(|c| c.addr() as usize).collect();
        eq(got, want, "reused addresses, last freed first")?;
        for (i, c) in again.iter().enumerate() {
            eq(call(c, 3), 3 * i as i64, "reused slot runs its new target")?;
        }
        Ok(())
    }

    /// A Rust closure behind a trampoline: the data register points to this.
    #[repr(C)]
    struct Entry<F: FnMut(i64) -> i64> {
        handler: extern "C" fn(i64, *mut Entry<F>) -> i64,
        f: F,
    }

    extern "C" fn handler<F: FnMut(i64) -> i64>(arg: i64, me: *mut Entry<F>) -> i64 {
        // SAFETY: `trampfd_rust_entry` passes the data value of the closure,
        // which is a live, uniquely used `Entry<F>` (see rust_closure).
        unsafe { ((*me).f)(arg) }
    }

    fn rust_closure() -> Result<(), String> {
        let mut total = 0i64;
        let mut entry = Box::new(Entry {
            handler: handler::<_>,
            f: |x: i64| {
                total += x;
                total
            },
        });
        let me: *mut Entry<_> = &mut *entry;
        let c = io(
            Closure::new(code(trampfd_rust_entry), me as *const ()),
            "Closure::new",
        )?;
        // SAFETY: the entry stub forwards (arg, Entry) to `handler`, an
        // `extern "C" fn(i64, *mut Entry) -> i64`, so the address is an
        // `extern "C" fn(i64) -> i64`; `entry` outlives `c` and is not
        // otherwise touched while calls run.
        let f: Fn1 = unsafe { std::mem::transmute::<*const (), Fn1>(c.addr()) };
        let r = (f(1), f(2), f(39));
        drop(c);
        drop(entry);
        eq(r, (1, 3, 42), "running total")
    }

    fn pool_r10_code_r11_data() -> Result<(), String> {
        let pool = io(Pool::new(R10, R11), "Pool::new(R10, R11)")?;
        {
            let cs = (0..200)
                .map(|i| pool.alloc(code(trampfd_rust_add_r11), val(i)))
                .collect::<io::Result<Vec<_>>>();
            let cs = io(cs, "200 x pool.alloc")?;
            for (i, c) in cs.iter().enumerate() {
                eq(call(c, -7), i as i64 - 7, "pool closure i")?;
            }
        }
        io(pool.destroy(), "destroy after the closures are gone")
    }

    fn pool_rax_data() -> Result<(), String> {
        let pool = io(Pool::new(R11, RAX), "Pool::new(R11, RAX)")?;
        let c = io(pool.alloc(code(trampfd_rust_add_rax), val(100)), "alloc")?;
        eq(call(&c, 23), 123, "add_rax(23) with rax = 100")?;
        drop(c);
        drop(pool);
        Ok(())
    }

    fn pool_bad_registers() -> Result<(), String> {
        const EINVAL: i32 = 22;
        const EOPNOTSUPP: i32 = 95;
        eq(errno(Pool::new(R10, R10)), Some(EINVAL), "same register")?;
        eq(errno(Pool::new(R11, 40)), Some(EINVAL), "register 40")?;
        eq(
            errno(Pool::new(R11, RDI)),
            Some(EOPNOTSUPP),
            "rdi as data register",
        )
    }

    fn threads() -> Result<(), String> {
        let shared = io(Pool::new(R10, R11), "Pool::new")?;
        let r = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4i64)
                .map(|t| {
                    let shared = &shared;
                    s.spawn(move || -> Result<(), String> {
                        for i in 0..300i64 {
                            let a = io(Closure::new(code(trampfd_rust_add_r10), val(t)), "new")?;
                            let b = io(shared.alloc(code(trampfd_rust_add_r11), val(i)), "alloc")?;
                            eq(call(&a, i) + call(&b, t), 2 * (i + t), "thread call")?;
                        }
                        Ok(())
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
                .collect::<Result<Vec<()>, String>>()
        });
        r?;
        // A closure made here, called and freed on another thread.
        let c = io(Closure::new(code(trampfd_rust_add_r10), val(2)), "new")?;
        let got = std::thread::spawn(move || call(&c, 40)).join();
        eq(got.ok(), Some(42), "closure moved to a thread")?;
        io(shared.destroy(), "destroy")
    }

    fn use_fd_busy() -> Result<(), String> {
        const EBUSY: i32 = 16;
        eq(
            errno(trampfd::use_fd(
                io(std::fs::File::open("/dev/trampfd"), "open /dev/trampfd")?.into(),
            )),
            Some(EBUSY),
            "use_fd with a factory in place",
        )
    }

    fn stale_call_faults() -> Result<(), String> {
        let me = io(std::env::current_exe(), "current_exe")?;
        let st = io(Command::new(me).arg("--stale-call").status(), "run child")?;
        eq(
            st.signal(),
            Some(11),
            "child's signal (SIGSEGV at address 0)",
        )
    }

    /// The child of stale_call_faults: call a freed closure.
    pub fn stale_call() {
        let c = Closure::new(code(trampfd_rust_add_r10), val(1)).expect("Closure::new");
        let a = c.addr();
        drop(c);
        // SAFETY: not sound on purpose, in a child process whose death is the
        // test: the freed slot's code entry is NULL, so this jumps to 0.
        let f: Fn1 = unsafe { std::mem::transmute::<*const (), Fn1>(a) };
        println!("stale call returned {}", f(1));
        std::process::exit(0);
    }

    fn no_wx_mapping() -> Result<(), String> {
        let _keep = io(Closure::new(code(trampfd_rust_add_r10), val(0)), "new")?;
        let maps = io(
            std::fs::read_to_string("/proc/self/maps"),
            "/proc/self/maps",
        )?;
        let mut tramp = 0;
        for l in maps.lines() {
            let perms = l.split_whitespace().nth(1).unwrap_or("");
            check(!(perms.contains('w') && perms.contains('x')), || {
                format!("W+X: {l}")
            })?;
            if l.ends_with("/dev/trampfd") {
                tramp += 1;
                check(perms.starts_with("r-x"), || format!("trampoline page: {l}"))?;
            }
        }
        check(tramp > 0, || {
            "no /dev/trampfd mapping in /proc/self/maps".into()
        })
    }

    type Test = (&'static str, fn() -> Result<(), String>);

    pub const TESTS: &[Test] = &[
        ("available", available),
        (
            "closure calls its target with the data in r10",
            call_with_data,
        ),
        ("set retargets code and data", set_retargets),
        ("closure with NULL code, then set", null_code_then_set),
        ("200 closures on more than one page", grow_200),
        ("dropped slots are reused, last freed first", free_and_reuse),
        ("Rust FnMut behind a closure", rust_closure),
        (
            "pool code r10 data r11: 200 closures, destroy",
            pool_r10_code_r11_data,
        ),
        ("pool code r11 data rax", pool_rax_data),
        ("pool refuses bad registers", pool_bad_registers),
        ("threads: default pool and a shared pool", threads),
        ("use_fd after the first allocation is EBUSY", use_fd_busy),
        ("a call through a freed closure faults", stale_call_faults),
        ("no writable+executable mapping", no_wx_mapping),
    ];
}

#[cfg(target_arch = "x86_64")]
fn main() {
    if std::env::args().nth(1).as_deref() == Some("--stale-call") {
        x86::stale_call();
    }
    let tests = x86::TESTS;
    println!("1..{}", tests.len());
    let mut failed = 0;
    for (n, (name, f)) in tests.iter().enumerate() {
        let r = std::panic::catch_unwind(f).unwrap_or_else(|_| Err("panicked".into()));
        match r {
            Ok(()) => println!("ok {} {}", n + 1, name),
            Err(e) => {
                failed += 1;
                println!("# {e}");
                println!("not ok {} {}", n + 1, name);
            }
        }
    }
    std::process::exit(i32::from(failed > 0));
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    println!("1..0 # SKIP the example's targets are x86-64 assembly");
}
