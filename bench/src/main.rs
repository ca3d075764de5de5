// SPDX-License-Identifier: GPL-2.0

//! Call cost of one closure call, measured natively on the host:
//!
//! * `direct`: an indirect call through a function pointer to the target;
//! * `trampfd`: a call through a trampoline made of the exact bytes the
//!   module's encoder emits (rendered by the module's own `render_page`),
//!   to a target that reads the closure from r10 itself (the hop alone), and
//!   to the closure entry stub of `samples/closure` that moves r10 to the
//!   second argument and jumps to the C handler (what a C library pays);
//! * `libffi`: a libffi closure of the same signature (`ffi_closure_alloc` +
//!   `ffi_prep_closure_loc`, Debian's libffi);
//! * `libffi on trampfd`: the same libffi closure reached the way
//!   `libtrampfd-ffi` reaches it: a trampoline of the module's bytes whose
//!   code entry is libffi's own closure entry (read from the closure's
//!   trampoline bytes, as the drop-in does) and whose data entry, delivered
//!   in r10, is the closure object.
//!
//! Usage: `trampfd-bench [iterations] [repeats] [output.md]`. Prints a table
//! of median ns/call, spread (min..max) and the ratio to `direct`, measured
//! in the same run, and writes it to the output file if given.

use std::ffi::c_void;
use std::hint::black_box;
use std::time::Instant;

use trampfd_hosttest::arch::x86_64::{R10, R11, X86_64};
use trampfd_hosttest::arch::Encoder;
use trampfd_hosttest::desc::{render_page, Code, Data};
use trampfd_hosttest::exec::ExecPage;

/// The closure: `handler(arg, self)` returns `arg + self.bound`.
#[repr(C)]
struct Closure {
    handler: extern "C" fn(i32, *const Closure) -> i32,
    bound: i32,
}

extern "C" fn add(arg: i32, me: *const Closure) -> i32 {
    // SAFETY: the stub passes the closure registered in the data table.
    arg.wrapping_add(unsafe { (*me).bound })
}

// The closure entry stub of samples/closure: rsi = r10; jmp *handler.
std::arch::global_asm!(
    ".globl trampfd_bench_entry",
    "trampfd_bench_entry:",
    "mov rsi, r10",
    "jmp qword ptr [rsi]",
);
// A target that takes its closure from the trampoline's data register:
// eax = edi + closure.bound (the `bound` field is at offset 8).
std::arch::global_asm!(
    ".globl trampfd_bench_add_r10",
    "trampfd_bench_add_r10:",
    "mov eax, edi",
    "add eax, dword ptr [r10 + 8]",
    "ret",
);
extern "C" {
    fn trampfd_bench_entry();
    fn trampfd_bench_add_r10();
}

// libffi, the parts used here (x86-64 SysV layout).
#[repr(C)]
struct FfiType {
    size: usize,
    alignment: u16,
    type_: u16,
    elements: *mut *mut FfiType,
}
#[repr(C)]
struct FfiCif {
    abi: u32,
    nargs: u32,
    arg_types: *mut *mut FfiType,
    rtype: *mut FfiType,
    bytes: u32,
    flags: u32,
}
const FFI_DEFAULT_ABI: u32 = 2; // FFI_UNIX64
type FfiHandler = extern "C" fn(*mut FfiCif, *mut c_void, *mut *mut c_void, *mut c_void);
#[link(name = "ffi")]
extern "C" {
    static mut ffi_type_sint32: FfiType;
    fn ffi_prep_cif(
        cif: *mut FfiCif,
        abi: u32,
        nargs: u32,
        rtype: *mut FfiType,
        atypes: *mut *mut FfiType,
    ) -> u32;
    fn ffi_closure_alloc(size: usize, code: *mut *mut c_void) -> *mut c_void;
    fn ffi_prep_closure_loc(
        closure: *mut c_void,
        cif: *mut FfiCif,
        fun: FfiHandler,
        user_data: *mut c_void,
        codeloc: *mut c_void,
    ) -> u32;
}

extern "C" fn ffi_add(
    _cif: *mut FfiCif,
    ret: *mut c_void,
    args: *mut *mut c_void,
    ud: *mut c_void,
) {
    // SAFETY: libffi passes one i32 argument, an ffi_arg-sized return slot
    // and our user data (a `Closure`).
    unsafe {
        let arg = *(*args as *const i32);
        *(ret as *mut i64) = i64::from(arg.wrapping_add((*(ud as *const Closure)).bound));
    }
}

/// How a benchmark row calls its closure.
#[derive(Clone, Copy)]
enum Call {
    /// `handler(arg, &closure)` through a function pointer: the same target,
    /// context passed by hand.
    Direct(extern "C" fn(i32, *const Closure) -> i32, *const Closure),
    /// A closure function pointer (`int (*)(int)`).
    Closure(extern "C" fn(i32) -> i32),
}

impl Call {
    #[inline(always)]
    fn call(self, arg: i32) -> i32 {
        match self {
            Call::Direct(f, c) => black_box(f)(arg, black_box(c)),
            Call::Closure(f) => black_box(f)(arg),
        }
    }
}

/// Median, min and max ns per call over `repeats` runs of `iters` calls.
fn measure(iters: u64, repeats: usize, f: Call) -> (f64, f64, f64) {
    let mut v: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            let mut acc = 0i32;
            for i in 0..iters {
                acc = acc.wrapping_add(f.call(black_box(i as i32)));
            }
            black_box(acc);
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(15);
    let out = args.get(3);

    let closure = Closure {
        handler: add,
        bound: 5,
    };

    // libffi closure.
    let mut cif: FfiCif = unsafe { std::mem::zeroed() };
    // SAFETY: libffi API used as documented; pointers outlive the closure.
    let (ffi_fn, ffi_closure): (extern "C" fn(i32) -> i32, *mut c_void) = unsafe {
        let mut argt = [&raw mut ffi_type_sint32];
        let argt = Box::leak(Box::new(argt.as_mut_slice().to_vec()));
        assert_eq!(
            ffi_prep_cif(
                &mut cif,
                FFI_DEFAULT_ABI,
                1,
                &raw mut ffi_type_sint32,
                argt.as_mut_ptr()
            ),
            0
        );
        let mut codeloc: *mut c_void = std::ptr::null_mut();
        let cl = ffi_closure_alloc(64, &mut codeloc);
        assert!(!cl.is_null());
        assert_eq!(
            ffi_prep_closure_loc(
                cl,
                &mut cif,
                ffi_add,
                &closure as *const _ as *mut c_void,
                codeloc
            ),
            0
        );
        (
            std::mem::transmute::<*mut c_void, extern "C" fn(i32) -> i32>(codeloc),
            cl,
        )
    };
    // libffi's closure entry, as the drop-in finds it: the 8 bytes at +24 of
    // the trampoline libffi wrote into the closure.
    // SAFETY: a prepared closure starts with its 32 trampoline bytes.
    let ffi_entry = unsafe {
        (ffi_closure as *const u8)
            .add(24)
            .cast::<u64>()
            .read_unaligned()
    };

    // trampfd bytes, on an RW page then switched to R-X (the host has no
    // /dev/trampfd; the guest benchmark uses the device).
    let code_table = [
        trampfd_bench_entry as *const () as u64,
        trampfd_bench_add_r10 as *const () as u64,
        ffi_entry,
    ];
    let data_table = [
        &closure as *const Closure as u64,
        &closure as *const Closure as u64,
        ffi_closure as u64,
    ];
    let code = Code {
        ntrampolines: 3,
        reg: R11,
        table: code_table.as_ptr() as u64,
    };
    let data = Data {
        reg: R10,
        table: data_table.as_ptr() as u64,
    };
    let page = ExecPage::new(|m| render_page::<X86_64>(m, code, data));
    // SAFETY: slot 0 is a trampoline to the entry stub, slot 1 to
    // trampfd_bench_add_r10; both have this ABI.
    let tramp: extern "C" fn(i32) -> i32 = unsafe { std::mem::transmute(page.addr(0)) };
    // SAFETY: as above.
    let hop: extern "C" fn(i32) -> i32 =
        unsafe { std::mem::transmute(page.addr(X86_64::CODE_SIZE)) };
    // SAFETY: slot 2 enters libffi's closure entry with the closure in r10,
    // exactly what libffi's own trampoline does.
    let ffi_tramp: extern "C" fn(i32) -> i32 =
        unsafe { std::mem::transmute(page.addr(2 * X86_64::CODE_SIZE)) };

    let calls = [
        (
            "direct indirect call of the handler",
            Call::Direct(add, &closure),
        ),
        ("trampfd trampoline, target reads r10", Call::Closure(hop)),
        ("trampfd trampoline + entry stub", Call::Closure(tramp)),
        ("libffi closure", Call::Closure(ffi_fn)),
        (
            "libffi closure on trampfd (libtrampfd-ffi layout)",
            Call::Closure(ffi_tramp),
        ),
    ];
    for (name, f) in calls {
        assert_eq!(f.call(37), 42, "{name} computes the wrong result");
    }
    let rows: Vec<(&str, (f64, f64, f64))> = calls
        .into_iter()
        .map(|(n, f)| (n, measure(iters, repeats, f)))
        .collect();
    let base = rows[0].1 .0;
    let mut table = String::from(
        "| call | median ns/call | spread (min..max) | ratio to direct |\n| --- | --- | --- | --- |\n",
    );
    for (n, (med, lo, hi)) in &rows {
        table += &format!(
            "| {n} | {med:.2} | {lo:.2}..{hi:.2} | {:.2}x |\n",
            med / base
        );
    }
    let (stock, on_trampfd) = (rows[3].1 .0, rows[4].1 .0);
    table += &format!(
        "\nlibffi closure call on trampfd vs stock libffi: {:.2}x (target <= 1.05x)\n",
        on_trampfd / stock
    );
    let header = format!(
        "Closure call cost, `int (*)(int)`, {iters} calls x {repeats} runs, native x86-64 host\n\n"
    );
    print!("{header}{table}");
    if let Some(path) = out {
        std::fs::write(path, format!("{header}{table}")).expect("write results");
    }
}
