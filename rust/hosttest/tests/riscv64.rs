// SPDX-License-Identifier: GPL-2.0

//! The riscv64 encoder: decode what it emits (capstone), then run it under
//! `qemu-riscv64`.

use capstone::prelude::*;
use trampfd_hosttest::arch::riscv64::{Riscv64, A0, RA, SP, T0, T1, T2, T3, T6};
use trampfd_hosttest::arch::{Encoder, RegError};
use trampfd_hosttest::cross::{self, render, Target, TABLES};

/// ABI names of the registers a trampoline may use.
fn name(reg: u32) -> &'static str {
    match reg {
        5 => "t0",
        6 => "t1",
        7 => "t2",
        28 => "t3",
        29 => "t4",
        30 => "t5",
        31 => "t6",
        _ => unreachable!(),
    }
}

fn temporaries() -> impl Iterator<Item = u32> {
    [T0, T1, T2].into_iter().chain(T3..=T6)
}

fn page(n: u32, code_reg: u32, data_reg: u32) -> Vec<u8> {
    render::<Riscv64>(n, code_reg, data_reg)
}

fn disasm(bytes: &[u8], ip: u64) -> Vec<String> {
    let cs = Capstone::new()
        .riscv()
        .mode(arch::riscv::ArchMode::RiscV64)
        .build()
        .unwrap();
    cross::disasm(&cs, bytes, ip)
}

#[test]
fn slot_decodes_to_auipc_load_load_load_load_jr_for_every_register_pair() {
    for c in temporaries().filter(|&r| r != T0) {
        for d in temporaries().filter(|&r| r != c) {
            let mut slot = [0u8; Riscv64::CODE_SIZE];
            Riscv64::emit(&mut slot, c, 0x1122_3344_5566_7788, d, 0x7fff_0000_1000);
            let got = disasm(&slot[..24], 0x1000);
            let (cn, dn) = (name(c), name(d));
            let want = vec![
                format!("auipc {cn}, 0"),
                format!("ld {dn}, 0x20({cn})"),
                format!("ld {cn}, 0x18({cn})"),
                format!("ld {cn}, 0({cn})"),
                format!("ld {dn}, 0({dn})"),
                format!("jr {cn}"),
            ];
            assert_eq!(got, want, "code {cn} data {dn}");
            assert_eq!(&slot[24..32], &0x1122_3344_5566_7788u64.to_le_bytes());
            assert_eq!(&slot[32..40], &0x7fff_0000_1000u64.to_le_bytes());
            assert!(slot[40..].iter().all(|&b| b == 0), "filler must be illegal");
        }
    }
}

#[test]
fn page_has_every_slot_in_place_and_zero_elsewhere() {
    let n = 9;
    let p = page(n, T1, T2);
    for x in 0..n as usize {
        let s = &p[x * 64..x * 64 + 64];
        assert_eq!(s[24..32], (TABLES + 8 * x as u64).to_le_bytes());
        assert_eq!(s[32..40], (TABLES + 0x800 + 8 * x as u64).to_le_bytes());
    }
    assert!(p[n as usize * 64..].iter().all(|&b| b == 0));
}

#[test]
fn registers_outside_the_temporaries_are_refused() {
    for r in [0, RA, SP, 3, 4, 8, 9, A0, 17, 18, 27] {
        assert_eq!(Riscv64::check_reg(r), Err(RegError::Forbidden), "x{r}");
    }
    assert_eq!(Riscv64::check_reg(32), Err(RegError::Unknown));
    assert_eq!(Riscv64::CODE_REGS & (1 << T0), 0, "t0 as code register");
    assert_ne!(Riscv64::DATA_REGS & (1 << T0), 0, "t0 as data register");
}

#[test]
fn full_page_runs_under_qemu_with_data_in_t2() {
    cross::check_full_page::<Riscv64>(Target::Riscv64, T1, T2);
}

#[test]
fn every_temporary_runs_under_qemu() {
    let pairs = [(T2, T1), (T1, T0), (T3, T6), (T6, T3)];
    cross::check_pairs::<Riscv64>(Target::Riscv64, &pairs);
}
