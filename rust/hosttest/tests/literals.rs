// SPDX-License-Identifier: GPL-2.0

//! `render_page` runs the encoder once and derives every other slot by
//! rewriting the two literals ([`Encoder::LITERALS`]). This checks, for the
//! three encoders and every register pair they accept, that a rendered page
//! holds exactly what `emit` writes for each slot, and that no other byte of
//! a slot depends on the slot values.

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

fn check<E: Encoder>() {
    let pairs = pairs::<E>();
    assert!(!pairs.is_empty());
    let n = 4096 / E::CODE_SIZE;
    // Tables whose addresses differ in every byte of the literal, so that a
    // byte of a literal outside `LITERALS` cannot go unnoticed.
    let (ct, dt) = (0x0123_4567_89ab_cde8u64, 0x7edc_ba98_7654_3210u64);
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
        // The literals are where LITERALS says, and nothing else moves
        // when the slot values change.
        let mut a = vec![0u8; E::CODE_SIZE];
        let mut b = vec![0u8; E::CODE_SIZE];
        E::emit(&mut a, c, 0, d, 0);
        E::emit(&mut b, c, u64::MAX, d, u64::MAX);
        let (cl, dl) = E::LITERALS;
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            let in_lit = (cl..cl + 8).contains(&i) || (dl..dl + 8).contains(&i);
            assert_eq!(x != y, in_lit, "regs {c}/{d}: byte {i}");
        }
    }
}

#[test]
fn literals_are_the_only_bytes_that_depend_on_the_slot() {
    check::<X86_64>();
    check::<Arm64>();
    check::<Riscv64>();
}

/// A page with fewer trampolines than slots: over a page of stale bytes,
/// slots below the count hold trampolines and every other byte is the trap
/// filler (the fault handler does not zero the page first).
fn check_partial<E: Encoder>() {
    let (c, d) = pairs::<E>()[0];
    let (ct, dt) = (0x10_0000u64, 0x20_0000u64);
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
