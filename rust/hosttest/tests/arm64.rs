// SPDX-License-Identifier: GPL-2.0

//! The arm64 encoder: decode what it emits (capstone), then run it under
//! `qemu-aarch64`.

use capstone::prelude::*;
use trampfd_hosttest::arch::arm64::{Arm64, LR, SP, X15, X16, X17, X18, X9};
use trampfd_hosttest::arch::{Encoder, RegError};
use trampfd_hosttest::cross::{self, render, Target, TABLES};

const PAGE: usize = 4096;

fn page(n: u32, code_reg: u32, data_reg: u32) -> Vec<u8> {
    render::<Arm64>(n, code_reg, data_reg)
}

fn disasm(bytes: &[u8], ip: u64) -> Vec<String> {
    let cs = Capstone::new()
        .arm64()
        .mode(arch::arm64::ArchMode::Arm)
        .build()
        .unwrap();
    cross::disasm(&cs, bytes, ip)
}

#[test]
fn slot_decodes_to_load_load_acquire_load_load_br_for_every_register_pair() {
    for c in [X16, X17] {
        for d in X9..=X17 {
            if c == d {
                continue;
            }
            let mut slot = [0u8; Arm64::CODE_SIZE];
            Arm64::emit(&mut slot, c, 0x1122_3344_5566_7788, d, 0x7fff_0000_1000);
            let got = disasm(&slot[..20], 0x1000);
            let want = vec![
                format!("ldr x{c}, #0x1018"),
                format!("ldar x{c}, [x{c}]"),
                format!("ldr x{d}, #0x1020"),
                format!("ldr x{d}, [x{d}]"),
                format!("br x{c}"),
            ];
            assert_eq!(got, want, "code x{c} data x{d}");
            // Capstone does not print the all-zero word: `udf #0`.
            assert_eq!(&slot[20..24], &[0; 4]);
            assert_eq!(&slot[24..32], &0x1122_3344_5566_7788u64.to_le_bytes());
            assert_eq!(&slot[32..40], &0x7fff_0000_1000u64.to_le_bytes());
            assert!(slot[40..].iter().all(|&b| b == 0), "filler must be udf");
        }
    }
}

#[test]
fn data_load_is_ordered_after_the_code_load() {
    // The code entry's load is a load-acquire (LDAR: size 11, L=1, o0=1),
    // and the data entry's load through its literal comes after it.
    for c in [X16, X17] {
        for d in (X9..=X17).filter(|&d| d != c) {
            let mut slot = [0u8; Arm64::CODE_SIZE];
            Arm64::emit(&mut slot, c, 0x1000, d, 0x2000);
            let w = |i: usize| u32::from_le_bytes(slot[i * 4..i * 4 + 4].try_into().unwrap());
            assert_eq!(w(1), 0xc8df_fc00 | (c << 5) | c, "ldar x{c}, [x{c}]");
            assert_eq!(
                w(3),
                0xf940_0000 | (d << 5) | d,
                "ldr x{d}, [x{d}] after it"
            );
        }
    }
}

#[test]
fn page_has_every_slot_in_place_and_udf_elsewhere() {
    let n = 7;
    let p = page(n, X16, X17);
    for x in 0..n as usize {
        let s = &p[x * 64..x * 64 + 64];
        assert_eq!(s[24..32], (TABLES + 8 * x as u64).to_le_bytes());
        assert_eq!(s[32..40], (TABLES + 0x800 + 8 * x as u64).to_le_bytes());
    }
    assert!(p[n as usize * 64..].iter().all(|&b| b == 0));
    assert_eq!(PAGE % Arm64::CODE_SIZE, 0);
}

#[test]
fn registers_outside_the_abi_temporaries_are_refused() {
    for r in [0, 7, 8, X18, 19, 29, LR, SP] {
        assert_eq!(Arm64::check_reg(r), Err(RegError::Forbidden), "x{r}");
    }
    assert_eq!(Arm64::check_reg(32), Err(RegError::Unknown));
    assert_eq!(Arm64::check_reg(u32::MAX), Err(RegError::Unknown));
    // BTI: only x16/x17 may be the register of the `br`.
    for r in X9..=X15 {
        assert_eq!(Arm64::CODE_REGS & (1 << r), 0, "x{r} as code register");
        assert_ne!(Arm64::DATA_REGS & (1 << r), 0, "x{r} as data register");
    }
}

#[test]
fn full_page_runs_under_qemu_with_data_in_x17() {
    cross::check_full_page::<Arm64>(Target::Arm64, X16, X17);
}

#[test]
fn every_data_register_runs_under_qemu() {
    cross::check_pairs::<Arm64>(Target::Arm64, &[(X17, X16), (X16, X9), (X17, X15)]);
}

#[test]
fn bti_guarded_target_accepts_the_trampoline_and_rejects_br_x9() {
    for (c, d) in [(X16, X17), (X17, X9)] {
        let out = Target::Arm64.run_with(&page(2, c, d), c, d, 2, &["bti"]);
        assert!(
            out.contains("bti c accepts the trampoline\nbti c rejects br x9\n"),
            "x{c}/x{d}: {out}"
        );
    }
}
