// SPDX-License-Identifier: GPL-2.0

//! The x86-64 encoder: decode what it emits, then run it.

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};
use trampfd_hosttest::arch::x86_64::{R10, R11, RAX, X86_64};
use trampfd_hosttest::arch::Encoder;
use trampfd_hosttest::desc::{render_page, Code, Data};
use trampfd_hosttest::exec::ExecPage;

const PAGE: usize = 4096;

fn disasm(bytes: &[u8], ip: u64) -> Vec<String> {
    let mut d = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let mut f = IntelFormatter::new();
    f.options_mut().set_uppercase_hex(false);
    f.options_mut().set_hex_prefix("0x");
    f.options_mut().set_hex_suffix("");
    let mut out = Vec::new();
    let mut ins = Instruction::default();
    while d.can_decode() {
        d.decode_out(&mut ins);
        let mut s = String::new();
        f.format(&ins, &mut s);
        out.push(s);
    }
    out
}

fn name(reg: u32) -> &'static str {
    match reg {
        RAX => "rax",
        R10 => "r10",
        R11 => "r11",
        _ => unreachable!(),
    }
}

/// The instructions of a slot with tables `ct`/`dt` apart by `dt - ct`.
fn want(code: u32, data: u32, ct: u64, dt: u64) -> Vec<String> {
    let (c, d) = (name(code), name(data));
    let jmp = if code == RAX { 2 } else { 3 };
    let (mut want, used) = match i32::try_from(dt.wrapping_sub(ct) as i64) {
        Ok(disp) => (
            vec![
                "endbr64".to_string(),
                format!("mov {c},{ct:#x}"),
                if disp < 0 {
                    format!("lea {d},[{c}-{:#x}]", -i64::from(disp))
                } else {
                    format!("lea {d},[{c}+{disp:#x}]")
                },
                format!("mov {c},[{c}]"),
                format!("mov {d},[{d}]"),
                format!("jmp {c}"),
            ],
            4 + 10 + 7 + 3 + 3 + jmp,
        ),
        Err(_) => (
            vec![
                format!("mov {c},{ct:#x}"),
                format!("mov {c},[{c}]"),
                format!("mov {d},{dt:#x}"),
                format!("mov {d},[{d}]"),
                format!("jmp {c}"),
            ],
            10 + 3 + 10 + 3 + jmp,
        ),
    };
    want.extend(std::iter::repeat_n(
        "int3".to_string(),
        X86_64::CODE_SIZE - used,
    ));
    want
}

#[test]
fn slot_decodes_to_the_documented_instructions_for_every_register_pair() {
    // Far tables: the RFC layout; near ones (either order, the largest
    // distances that fit a disp32): endbr64 and one literal.
    let tables = [
        (0x1122_3344_5566_7788, 0x7fff_0000_1000),
        (0x7fff_0000_1000, 0x7fff_0000_1000 + 0x7fff_fff8),
        (0x7fff_8000_1000, 0x7fff_0000_1000),
    ];
    for (ct, dt) in tables {
        for code in [RAX, R10, R11] {
            for data in [RAX, R10, R11] {
                if code == data {
                    continue;
                }
                let mut slot = [0u8; X86_64::CODE_SIZE];
                X86_64::emit(&mut slot, code, ct, data, dt);
                let got = disasm(&slot, 0);
                assert_eq!(got, want(code, data, ct, dt), "code={code} data={data}");
            }
        }
    }
}

#[test]
fn page_has_every_slot_in_place_and_traps_elsewhere() {
    let n = 5u32;
    for (ct, dt) in [(0x10_0000u64, 0x20_0000u64), (0x10_0000, 0x7f00_0000_0000)] {
        let code = Code {
            ntrampolines: n,
            reg: R11,
            table: ct,
        };
        let data = Data {
            reg: R10,
            table: dt,
        };
        let mut page = vec![0u8; PAGE];
        render_page::<X86_64>(&mut page, code, data);
        for x in 0..n as u64 {
            let at = x as usize * X86_64::CODE_SIZE;
            let got = disasm(&page[at..at + X86_64::CODE_SIZE], 0);
            assert_eq!(got, want(R11, R10, ct + 8 * x, dt + 8 * x), "slot {x}");
        }
        let rest = &page[n as usize * X86_64::CODE_SIZE..];
        assert!(rest.iter().all(|&b| b == 0xcc), "filler must be int3 only");
    }
    assert_eq!(PAGE % X86_64::CODE_SIZE, 0);
}

// Targets reached through the trampolines. Each returns the data register
// it received, so the caller sees what the trampoline loaded.
std::arch::global_asm!(
    ".globl trampfd_ret_r10",
    "trampfd_ret_r10:",
    "mov rax, r10",
    "ret",
    ".globl trampfd_ret_r11",
    "trampfd_ret_r11:",
    "mov rax, r11",
    "ret",
    ".globl trampfd_ret_rax",
    "trampfd_ret_rax:",
    "ret",
);

extern "C" {
    fn trampfd_ret_r10() -> u64;
    fn trampfd_ret_r11() -> u64;
    fn trampfd_ret_rax() -> u64;
}

/// Eight integer arguments: six in registers, two on the stack.
extern "C" fn mix8(a: u64, b: u64, c: u64, d: u64, e: u64, f: u64, g: u64, h: u64) -> u64 {
    a + 10 * b + 100 * c + 1000 * d + 10_000 * e + 100_000 * f + 1_000_000 * g + 10_000_000 * h
}

fn build(n: usize, code_reg: u32, data_reg: u32, codes: &[u64], datas: &[u64]) -> ExecPage {
    let code = Code {
        ntrampolines: n as u32,
        reg: code_reg,
        table: codes.as_ptr() as u64,
    };
    let data = Data {
        reg: data_reg,
        table: datas.as_ptr() as u64,
    };
    ExecPage::new(|page| render_page::<X86_64>(page, code, data))
}

/// `n` u64 table entries in an anonymous mapping at `hint` (placed there or
/// refused: MAP_FIXED_NOREPLACE), for tables a chosen distance apart.
struct Table {
    ptr: *mut u64,
    n: usize,
}

impl Table {
    fn at(hint: usize, n: usize) -> Table {
        // SAFETY: a fresh private anonymous mapping; MAP_FIXED_NOREPLACE
        // never replaces an existing one.
        let p = unsafe {
            libc::mmap(
                hint as *mut libc::c_void,
                n * 8,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        assert_eq!(p as usize, hint, "mmap at {hint:#x}");
        Table { ptr: p.cast(), n }
    }

    fn slice(&mut self) -> &mut [u64] {
        // SAFETY: `n` u64s mapped read-write by `at`, alive until drop.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.n) }
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        // SAFETY: the mapping `at` made, unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), self.n * 8) };
    }
}

#[test]
fn every_trampoline_of_a_full_page_jumps_with_its_data_register() {
    let n = PAGE / X86_64::CODE_SIZE;
    // Near: the data table right after the code table (endbr64 layout);
    // far: 64 GiB apart (RFC layout). Addresses unlikely to be taken in a
    // test process; each test binary uses its own.
    let (base, far) = (0x5a5a_0000_0000usize, 0x5a6a_0000_0000usize);
    for (data_at, endbr) in [(base + PAGE, true), (far, false)] {
        for (data_reg, target) in [
            (R10, trampfd_ret_r10 as *const () as usize),
            (RAX, trampfd_ret_rax as *const () as usize),
        ] {
            let mut ct = Table::at(base, n);
            let mut dt = Table::at(data_at, n);
            let (codes, datas) = (ct.slice(), dt.slice());
            codes.fill(target as u64);
            for (x, d) in datas.iter_mut().enumerate() {
                *d = 0xdada_0000 + x as u64;
            }
            let page = build(n, R11, data_reg, codes, datas);
            for x in 0..n {
                // SAFETY: slot x's first 4 bytes are in the mapped page,
                // which is readable.
                let first =
                    unsafe { std::slice::from_raw_parts(page.addr(x * 32) as *const u8, 4) };
                assert_eq!(first == [0xf3, 0x0f, 0x1e, 0xfa], endbr, "slot {x}");
                // SAFETY: slot x is a trampoline to a function returning u64.
                let f: extern "C" fn() -> u64 = unsafe { std::mem::transmute(page.addr(x * 32)) };
                assert_eq!(f(), 0xdada_0000 + x as u64, "slot {x}");
            }
            // The tables stay the caller's: change them and call again.
            for x in 0..n {
                datas[x] = !(x as u64);
                codes[x] = target as u64;
            }
            for x in 0..n {
                // SAFETY: as above.
                let f: extern "C" fn() -> u64 = unsafe { std::mem::transmute(page.addr(x * 32)) };
                assert_eq!(f(), !(x as u64), "slot {x} after update");
            }
        }
    }
}

#[test]
fn code_register_r10_with_data_in_r11() {
    let codes = [trampfd_ret_r11 as *const () as usize as u64];
    let datas = [0x5151_u64];
    let page = build(1, R10, R11, &codes, &datas);
    // SAFETY: slot 0 is a trampoline to trampfd_ret_r11.
    let f: extern "C" fn() -> u64 = unsafe { std::mem::transmute(page.addr(0)) };
    assert_eq!(f(), 0x5151);
}

#[test]
fn arguments_and_stack_arguments_pass_through_unchanged() {
    let codes = [
        mix8 as *const () as usize as u64,
        mix8 as *const () as usize as u64,
    ];
    let datas = [1u64, 2];
    let page = build(2, R11, R10, &codes, &datas);
    for x in 0..2 {
        type F8 = extern "C" fn(u64, u64, u64, u64, u64, u64, u64, u64) -> u64;
        // SAFETY: slot x is a trampoline to mix8, which has type F8.
        let f: F8 = unsafe { std::mem::transmute(page.addr(x * 32)) };
        assert_eq!(f(1, 2, 3, 4, 5, 6, 7, 8), 87_654_321);
    }
}
