// SPDX-License-Identifier: GPL-2.0

//! `render_page` runs the encoder once and derives every other slot by
//! rewriting the literals whose offsets `emit` returns. This checks, for the
//! three encoders, every register pair they accept and (x86-64's two
//! layouts) near and far tables, that a rendered page holds exactly what
//! `emit` writes for each slot, and that no other byte of a slot depends on
//! the slot values.

use trampfd_hosttest::arch::arm64::Arm64;
use trampfd_hosttest::arch::riscv64::Riscv64;
use trampfd_hosttest::arch::x86_64::X86_64;
use trampfd_hosttest::arch::Encoder;
use trampfd_hosttest::desc::{render_page, Code, Data};

/// Every (code, data) register pair `E` accepts.
fn pairs<E: Encoder>() -> Vec<(u32, u32)> {
    let regs = |mask: u32| (0..32).filter(move |r| mask & (1 << r) != 0);
    regs(E::CODE_REGS)
        .flat_map(|c| {
            regs(E::DATA_REGS)
                .filter(move |&d| d != c)
                .map(move |d| (c, d))
        })
        .collect()
}

fn check<E: Encoder>(ct: u64, dt: u64) {
    let pairs = pairs::<E>();
    assert!(!pairs.is_empty());
    let n = 4096 / E::CODE_SIZE;
    for (c, d) in pairs {
        let mut page = vec![0x5au8; 4096];
        let code = Code {
            ntrampolines: n as u32,
            reg: c,
            table: ct,
        };
        let data = Data { reg: d, table: dt };
        render_page::<E>(&mut page, code, data);
        for (x, slot) in page.chunks(E::CODE_SIZE).enumerate() {
            let off = 8 * x as u64;
            let mut want = vec![0u8; E::CODE_SIZE];
            E::emit(&mut want, c, ct.wrapping_add(off), d, dt.wrapping_add(off));
            assert_eq!(slot, &want[..], "regs {c}/{d}, slot {x}");
        }
        // The literals are where `emit` says, and nothing else moves when
        // both slot values move by the same amount (as from slot to slot):
        // adding 0x01 to every byte, with or without a carry in, changes
        // every byte of a literal.
        let s = 0x0101_0101_0101_0101u64;
        let mut a = vec![0u8; E::CODE_SIZE];
        let mut b = vec![0u8; E::CODE_SIZE];
        let la = E::emit(&mut a, c, ct, d, dt);
        let lb = E::emit(&mut b, c, ct.wrapping_add(s), d, dt.wrapping_add(s));
        assert_eq!(la, lb, "regs {c}/{d}: the layout depends on the slot");
        assert!(la.code + 8 <= E::CODE_SIZE);
        assert_eq!(a[la.code..la.code + 8], ct.to_le_bytes());
        let dl = la.data.map_or(usize::MAX - 8, |dl| {
            assert!(dl + 8 <= E::CODE_SIZE);
            assert_eq!(a[dl..dl + 8], dt.to_le_bytes());
            dl
        });
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let in_lit = (la.code..la.code + 8).contains(&i) || (dl..dl + 8).contains(&i);
            assert_eq!(x != y, in_lit, "regs {c}/{d}: byte {i}");
        }
    }
}

// Tables whose addresses differ in every byte, so that a byte of a literal
// outside the returned offsets cannot go unnoticed: far apart (x86-64's RFC
// layout), and adjacent (its endbr64 layout: the data table 4 KiB after the
// code table).
const FAR: (u64, u64) = (0x0123_4567_89ab_cde8, 0x7edc_ba98_7654_3210);
const NEAR: (u64, u64) = (0x0123_4567_89ab_cde8, 0x0123_4567_89ab_dde8);

#[test]
fn literals_are_the_only_bytes_that_depend_on_the_slot() {
    for (ct, dt) in [FAR, NEAR] {
        check::<X86_64>(ct, dt);
        check::<Arm64>(ct, dt);
        check::<Riscv64>(ct, dt);
    }
}

#[test]
fn x86_64_layout_is_chosen_by_the_distance_of_the_tables() {
    let mut slot = [0u8; 32];
    let cases = [
        (0x10_0000u64, 0x10_0000u64 + 0x7fff_fff8, true),
        (0x10_0000 + 0x8000_0000, 0x10_0000, true),
        (0x10_0000, 0x10_0000 + 0x8000_0000, false),
        (0x10_0000 + 0x8000_0008, 0x10_0000, false),
        (0x7fff_ffff_f000, 0x1000, false),
        (0x1000, 0x1000, true),
    ];
    for (ct, dt, near) in cases {
        let lits = X86_64::emit(&mut slot, 11, ct, 10, dt);
        assert_eq!(lits.data.is_none(), near, "{ct:#x} {dt:#x}");
        assert_eq!(
            slot[..4] == [0xf3, 0x0f, 0x1e, 0xfa],
            near,
            "{ct:#x} {dt:#x}"
        );
    }
}

/// A page with fewer trampolines than slots: over a page of stale bytes,
/// slots below the count hold trampolines and every other byte is the trap
/// filler (the fault handler does not zero the page first).
fn check_partial<E: Encoder>() {
    let (c, d) = pairs::<E>()[0];
    let (ct, dt) = NEAR;
    let slots = 4096 / E::CODE_SIZE;
    for n in [1, 2, slots / 2 + 1, slots - 1] {
        let mut page = vec![0x5au8; 4096];
        let code = Code {
            ntrampolines: n as u32,
            reg: c,
            table: ct,
        };
        render_page::<E>(&mut page, code, Data { reg: d, table: dt });
        for (x, slot) in page.chunks(E::CODE_SIZE).enumerate() {
            if x < n {
                let off = 8 * x as u64;
                let mut want = vec![0u8; E::CODE_SIZE];
                E::emit(&mut want, c, ct + off, d, dt + off);
                assert_eq!(slot, &want[..], "n {n}, slot {x}");
            } else {
                assert!(slot.iter().all(|&b| b == E::TRAP_FILL), "n {n}, slot {x}");
            }
        }
    }
}

#[test]
fn slots_past_the_count_are_trap_filler_over_stale_bytes() {
    check_partial::<X86_64>();
    check_partial::<Arm64>();
    check_partial::<Riscv64>();
}
