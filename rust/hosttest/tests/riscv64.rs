// SPDX-License-Identifier: GPL-2.0

//! The riscv64 encoder: decode what it emits (capstone), then run it under
//! `qemu-riscv64`.

use capstone::prelude::*;
use trampfd_hosttest::arch::riscv64::{Riscv64, A0, RA, SP, T0, T1, T2, T3, T6};
use trampfd_hosttest::arch::{Encoder, RegError};
use trampfd_hosttest::cross::{self, render, Target, TABLES};
use trampfd_hosttest::desc::errno::EOPNOTSUPP;
use trampfd_hosttest::desc::{Config, DescError, Target as DescTarget, UserSpace, DESC_SIZE};

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

/// Code registers: t1, t2 and t3..t6 (t0 is data only).
fn code_registers() -> impl Iterator<Item = u32> {
    temporaries().filter(|&r| r != T0)
}

/// Capstone has no Zicfilp mnemonic: `lpad 0` decodes as what it is
/// encoded as, `auipc zero, 0` (accept `lpad 0` from a newer capstone).
fn is_lpad0(insn: &str) -> bool {
    insn == "auipc zero, 0" || insn == "lpad 0"
}

#[test]
fn slot_decodes_to_lpad_auipc_load_load_load_fence_load_jr_for_every_register_pair() {
    for c in code_registers() {
        for d in temporaries().filter(|&r| r != c) {
            let mut slot = [0u8; Riscv64::CODE_SIZE];
            Riscv64::emit(&mut slot, c, 0x1122_3344_5566_7788, d, 0x7fff_0000_1000);
            assert_eq!(slot[0..4], [0x17, 0, 0, 0], "lpad 0 is 0x00000017");
            let got = disasm(&slot[..32], 0x1000);
            let (cn, dn) = (name(c), name(d));
            assert!(is_lpad0(&got[0]), "slot starts with {:?}", got[0]);
            let want = vec![
                format!("auipc {cn}, 0"),
                format!("ld {dn}, 0x24({cn})"),
                format!("ld {cn}, 0x1c({cn})"),
                format!("ld {cn}, 0({cn})"),
                "fence r, r".to_string(),
                format!("ld {dn}, 0({dn})"),
                format!("jr {cn}"),
            ];
            assert_eq!(got[1..], want, "code {cn} data {dn}");
            // auipc is at offset 4: 4 + 0x1c = 32 and 4 + 0x24 = 40.
            assert_eq!(&slot[32..40], &0x1122_3344_5566_7788u64.to_le_bytes());
            assert_eq!(&slot[40..48], &0x7fff_0000_1000u64.to_le_bytes());
            assert!(slot[48..].iter().all(|&b| b == 0), "filler must be illegal");
        }
    }
}

#[test]
fn lpad_is_auipc_x0_with_label_zero() {
    let mut slot = [0u8; Riscv64::CODE_SIZE];
    Riscv64::emit(&mut slot, T1, 0x1000, T2, 0x2000);
    let w = u32::from_le_bytes(slot[0..4].try_into().unwrap());
    assert_eq!(w & 0x7f, 0x17, "AUIPC major opcode");
    assert_eq!((w >> 7) & 0x1f, 0, "rd = x0");
    assert_eq!(w >> 12, 0, "label 0: no check of t2");
    // The word after the landing pad is the auipc the literal offsets are
    // relative to.
    let a = u32::from_le_bytes(slot[4..8].try_into().unwrap());
    assert_eq!(a, (T1 << 7) | 0x17);
}

#[test]
fn page_has_every_slot_in_place_and_zero_elsewhere() {
    let n = 9;
    let p = page(n, T1, T2);
    for x in 0..n as usize {
        let s = &p[x * 64..x * 64 + 64];
        assert_eq!(s[0..4], [0x17, 0, 0, 0], "slot {x} starts with lpad 0");
        assert_eq!(s[32..40], (TABLES + 8 * x as u64).to_le_bytes());
        assert_eq!(s[40..48], (TABLES + 0x800 + 8 * x as u64).to_le_bytes());
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
fn t2_is_a_code_register_for_targets_without_a_landing_pad() {
    // "jr t2" is exempt from the Zicfilp landing-pad check: libffi's own
    // trampoline jumps so into ffi_closure_asm, which has no lpad.
    assert_ne!(Riscv64::CODE_REGS & (1 << T2), 0, "t2 as code register");
    assert_ne!(Riscv64::DATA_REGS & (1 << T2), 0, "t2 as data register");
    assert_eq!(Riscv64::CODE_REGS, (1 << T1) | (1 << T2) | (0xf << T3));
    let mut slot = [0u8; Riscv64::CODE_SIZE];
    Riscv64::emit(&mut slot, T2, 0x1000, T1, 0x2000);
    let got = disasm(&slot[..32], 0x1000);
    assert_eq!(got[7], "jr t2", "libffi's jump: {got:?}");
}

#[test]
fn data_load_is_ordered_after_the_code_load() {
    // RVWMO may satisfy two loads to different addresses in either order;
    // the fence sits between the code entry's load and the data entry's
    // (and the code entry's is the one before it), for every pair.
    for c in code_registers() {
        for d in temporaries().filter(|&r| r != c) {
            let mut slot = [0u8; Riscv64::CODE_SIZE];
            Riscv64::emit(&mut slot, c, 0x1000, d, 0x2000);
            let w = |i: usize| u32::from_le_bytes(slot[i * 4..i * 4 + 4].try_into().unwrap());
            let fence = (1..8).find(|&i| w(i) == 0x0220_000f).expect("fence r, r");
            let (code_ld, data_ld) = (w(fence - 1), w(fence + 1));
            assert_eq!(
                code_ld,
                (c << 15) | (3 << 12) | (c << 7) | 0x03,
                "ld code before"
            );
            assert_eq!(
                data_ld,
                (d << 15) | (3 << 12) | (d << 7) | 0x03,
                "ld data after"
            );
        }
    }
}

#[test]
fn t0_as_code_register_is_eopnotsupp_and_t2_accepted_in_the_descriptor() {
    let space = UserSpace {
        user_end: 0x0000_7fff_ffff_f000,
    };
    let code = |reg: u32| {
        let mut b = [0u8; DESC_SIZE];
        b[0..4].copy_from_slice(&1u32.to_ne_bytes());
        b[4..8].copy_from_slice(&reg.to_ne_bytes());
        b[8..16].copy_from_slice(&0x1000u64.to_ne_bytes());
        b
    };
    let data = |reg: u32| {
        let mut b = [0u8; DESC_SIZE];
        b[0..4].copy_from_slice(&reg.to_ne_bytes());
        b[8..16].copy_from_slice(&0x2000u64.to_ne_bytes());
        b
    };
    let mut c = Config::default();
    c.write::<Riscv64>(DescTarget::Code, &code(T2), space, 64)
        .unwrap_or_else(|e| panic!("t2 as code: {e:?}"));
    for r in [T0] {
        let mut c = Config::default();
        let e = c.write::<Riscv64>(DescTarget::Code, &code(r), space, 64);
        assert_eq!(e.map_err(DescError::errno), Err(EOPNOTSUPP), "x{r} as code");
        assert_eq!(c, Config::default(), "a refused write changed the state");
        c.write::<Riscv64>(DescTarget::Data, &data(r), space, 64)
            .unwrap_or_else(|e| panic!("x{r} as data: {e:?}"));
    }
    // The pair of the default pool still configures and maps.
    let mut c = Config::default();
    c.write::<Riscv64>(DescTarget::Code, &code(T1), space, 64)
        .unwrap();
    c.write::<Riscv64>(DescTarget::Data, &data(T2), space, 64)
        .unwrap();
    assert!(c.map().is_ok());
}

#[test]
fn full_page_runs_under_qemu_with_data_in_t2() {
    cross::check_full_page::<Riscv64>(Target::Riscv64, T1, T2);
}

#[test]
fn every_register_pair_runs_under_qemu() {
    let mut pairs = Vec::new();
    for c in code_registers() {
        for d in temporaries().filter(|&r| r != c) {
            pairs.push((c, d));
        }
    }
    // 6 code x 6 data registers: t0 and t2 as data, libffi's t2/t1 too.
    assert_eq!(pairs.len(), 36);
    assert!(pairs.contains(&(T2, T1)) && pairs.contains(&(T1, T2)));
    cross::check_pairs::<Riscv64>(Target::Riscv64, &pairs);
}
