// SPDX-License-Identifier: GPL-2.0

//! In-kernel KUnit tests of the encoders and the descriptor state machine.
//!
//! Compiled only into the test build of the module (`make modules KUNIT=1`:
//! Kbuild passes `--cfg trampfd_kunit` to rustc, and `#[kunit_tests]` needs
//! `CONFIG_KUNIT=y`). The suites run when the module is loaded; KUnit prints
//! KTAP to the kernel log and to `/sys/kernel/debug/kunit/<suite>/results`.
//!
//! They port the assertions of `rust/hosttest` that need no decoder and no
//! execution: every register pair is compared byte for byte against words
//! produced by an assembler (`llvm-mc-19`), not by the encoder, and every
//! refusal of the descriptor state machine has its errno and leaves the state
//! as it was. The host tests keep decoding and running the emitted code; these
//! prove that the kernel's build of the same source emits the same bytes.
//!
//! The `assert!`/`assert_eq!` of a `#[kunit_tests]` module report to KUnit and
//! take no message, so loops print the failing case with `pr_err!` first.

use kernel::prelude::*;

/// The `&code_table[X]` and `&data_table[X]` values of the one-slot tests.
const CODE_SLOT: u64 = 0x1122_3344_5566_7788;
const DATA_SLOT: u64 = 0x7fff_0000_1000;
const PAGE: usize = 4096;

/// Whether `bytes` (at byte `at` of a page) are all `fill`; for `put`
/// closures of the page renderers.
fn all(bytes: &[u8], fill: u8) -> bool {
    bytes.iter().all(|&b| b == fill)
}

/// The little-endian 32-bit words of `bytes` (`N * 4` bytes).
fn words<const N: usize>(bytes: &[u8]) -> [u32; N] {
    let mut w = [0u32; N];
    for (i, out) in w.iter_mut().enumerate() {
        let b = &bytes[i * 4..i * 4 + 4];
        *out = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    w
}

#[kunit_tests(trampfd_x86_64)]
mod x86_64 {
    use super::*;
    use crate::arch::x86_64::{R10, R11, RAX, RIP, RSP, X86_64};
    use crate::arch::{Encoder, RegError};
    use crate::desc::{render_page, Code, Data};
    use kernel::page::Page;

    /// `llvm-mc-19 -triple=x86_64 -show-encoding` of `movabs $CODE_SLOT,
    /// %c; mov (%c), %c; movabs $DATA_SLOT, %d; mov (%d), %d; jmp *%c`,
    /// padded with int3.
    #[rustfmt::skip]
    const PAIRS: [(u32, u32, [u8; 32]); 6] = [
        (RAX, R10, [0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x48, 0x8b, 0x00,
                    0x49, 0xba, 0x00, 0x10, 0x00, 0x00, 0xff, 0x7f, 0x00, 0x00, 0x4d, 0x8b, 0x12,
                    0xff, 0xe0, 0xcc, 0xcc, 0xcc, 0xcc]),
        (RAX, R11, [0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x48, 0x8b, 0x00,
                    0x49, 0xbb, 0x00, 0x10, 0x00, 0x00, 0xff, 0x7f, 0x00, 0x00, 0x4d, 0x8b, 0x1b,
                    0xff, 0xe0, 0xcc, 0xcc, 0xcc, 0xcc]),
        (R10, RAX, [0x49, 0xba, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x4d, 0x8b, 0x12,
                    0x48, 0xb8, 0x00, 0x10, 0x00, 0x00, 0xff, 0x7f, 0x00, 0x00, 0x48, 0x8b, 0x00,
                    0x41, 0xff, 0xe2, 0xcc, 0xcc, 0xcc]),
        (R10, R11, [0x49, 0xba, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x4d, 0x8b, 0x12,
                    0x49, 0xbb, 0x00, 0x10, 0x00, 0x00, 0xff, 0x7f, 0x00, 0x00, 0x4d, 0x8b, 0x1b,
                    0x41, 0xff, 0xe2, 0xcc, 0xcc, 0xcc]),
        (R11, RAX, [0x49, 0xbb, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x4d, 0x8b, 0x1b,
                    0x48, 0xb8, 0x00, 0x10, 0x00, 0x00, 0xff, 0x7f, 0x00, 0x00, 0x48, 0x8b, 0x00,
                    0x41, 0xff, 0xe3, 0xcc, 0xcc, 0xcc]),
        (R11, R10, [0x49, 0xbb, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x4d, 0x8b, 0x1b,
                    0x49, 0xba, 0x00, 0x10, 0x00, 0x00, 0xff, 0x7f, 0x00, 0x00, 0x4d, 0x8b, 0x12,
                    0x41, 0xff, 0xe3, 0xcc, 0xcc, 0xcc]),
    ];

    /// The same with the data table 4 KiB after the code table (near
    /// tables): `endbr64; movabs $CODE_SLOT, %c; lea 0x1000(%c), %d;
    /// mov (%c), %c; mov (%d), %d; jmp *%c`, by `llvm-mc-19` too.
    #[rustfmt::skip]
    const NEAR_PAIRS: [(u32, u32, [u8; 32]); 6] = [
        (RAX, R10, [0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
                    0x11, 0x4c, 0x8d, 0x90, 0x00, 0x10, 0x00, 0x00, 0x48, 0x8b, 0x00, 0x4d, 0x8b,
                    0x12, 0xff, 0xe0, 0xcc, 0xcc, 0xcc]),
        (RAX, R11, [0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
                    0x11, 0x4c, 0x8d, 0x98, 0x00, 0x10, 0x00, 0x00, 0x48, 0x8b, 0x00, 0x4d, 0x8b,
                    0x1b, 0xff, 0xe0, 0xcc, 0xcc, 0xcc]),
        (R10, RAX, [0xf3, 0x0f, 0x1e, 0xfa, 0x49, 0xba, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
                    0x11, 0x49, 0x8d, 0x82, 0x00, 0x10, 0x00, 0x00, 0x4d, 0x8b, 0x12, 0x48, 0x8b,
                    0x00, 0x41, 0xff, 0xe2, 0xcc, 0xcc]),
        (R10, R11, [0xf3, 0x0f, 0x1e, 0xfa, 0x49, 0xba, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
                    0x11, 0x4d, 0x8d, 0x9a, 0x00, 0x10, 0x00, 0x00, 0x4d, 0x8b, 0x12, 0x4d, 0x8b,
                    0x1b, 0x41, 0xff, 0xe2, 0xcc, 0xcc]),
        (R11, RAX, [0xf3, 0x0f, 0x1e, 0xfa, 0x49, 0xbb, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
                    0x11, 0x49, 0x8d, 0x83, 0x00, 0x10, 0x00, 0x00, 0x4d, 0x8b, 0x1b, 0x48, 0x8b,
                    0x00, 0x41, 0xff, 0xe3, 0xcc, 0xcc]),
        (R11, R10, [0xf3, 0x0f, 0x1e, 0xfa, 0x49, 0xbb, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22,
                    0x11, 0x4d, 0x8d, 0x93, 0x00, 0x10, 0x00, 0x00, 0x4d, 0x8b, 0x1b, 0x4d, 0x8b,
                    0x12, 0x41, 0xff, 0xe3, 0xcc, 0xcc]),
    ];

    #[test]
    fn slot_bytes_of_every_register_pair() {
        for (c, d, want) in PAIRS {
            let mut slot = [0u8; X86_64::CODE_SIZE];
            X86_64::emit(&mut slot, c, CODE_SLOT, d, DATA_SLOT);
            if slot != want {
                pr_err!("x86-64 code r{} data r{}: {:02x?}\n", c, d, slot);
            }
            assert_eq!(slot, want);
        }
    }

    #[test]
    fn near_tables_get_endbr64_and_one_literal() {
        for (c, d, want) in NEAR_PAIRS {
            let mut slot = [0u8; X86_64::CODE_SIZE];
            X86_64::emit(&mut slot, c, CODE_SLOT, d, CODE_SLOT + 0x1000);
            if slot != want {
                pr_err!("x86-64 near, code r{} data r{}: {:02x?}\n", c, d, slot);
            }
            assert_eq!(slot, want);
        }
    }

    #[test]
    fn page_has_every_slot_in_place_and_int3_elsewhere() {
        let n = 5u32;
        let code = Code {
            ntrampolines: n,
            reg: R11,
            table: 0x10_0000,
        };
        let data = Data {
            reg: R10,
            table: 0x20_0000,
        };
        // Rendered as the fault handler renders it: in place, into a page
        // mapped with `ffi::with_page_bytes`, over a pattern of 0x5a (no
        // byte of a slot or of the filler), so a byte left unwritten shows.
        let page = Page::alloc_page(GFP_KERNEL);
        assert!(page.is_ok());
        let Ok(mut page) = page else { return };
        let (mut slots, mut bad) = (0, 0);
        crate::ffi::with_page_bytes(&mut page, |bytes| {
            bytes.fill(0x5a);
            render_page::<X86_64>(bytes, code, data);
            for (x, b) in bytes.chunks(X86_64::CODE_SIZE).enumerate() {
                let x = x as u64;
                if x < u64::from(n) {
                    slots += 1;
                    let mut want = [0u8; X86_64::CODE_SIZE];
                    X86_64::emit(&mut want, R11, 0x10_0000 + 8 * x, R10, 0x20_0000 + 8 * x);
                    // Near tables: endbr64, then the code literal as
                    // little-endian bytes.
                    let imm_ok = b[..4] == [0xf3, 0x0f, 0x1e, 0xfa]
                        && b[6..14] == (0x10_0000 + 8 * x).to_le_bytes();
                    if b != want || !imm_ok {
                        bad += 1;
                    }
                } else if !all(b, 0xcc) {
                    bad += 1;
                }
            }
        });
        assert_eq!(slots, n);
        assert_eq!(bad, 0);
        assert_eq!(PAGE % X86_64::CODE_SIZE, 0);
    }

    #[test]
    fn only_rax_r10_r11_are_accepted() {
        for r in [RAX, R10, R11] {
            assert_eq!(X86_64::check_reg(r), Ok(()));
        }
        for r in [1, 2, 3, RSP, 5, 6, 7, 8, 9, 12, 15, RIP] {
            if X86_64::check_reg(r) != Err(RegError::Forbidden) {
                pr_err!("x86-64 register {} not forbidden\n", r);
            }
            assert_eq!(X86_64::check_reg(r), Err(RegError::Forbidden));
        }
        for r in [17, 31, 32, 99, u32::MAX] {
            assert_eq!(X86_64::check_reg(r), Err(RegError::Unknown));
        }
    }
}

#[kunit_tests(trampfd_arm64)]
mod arm64 {
    use super::*;
    use crate::arch::arm64::{Arm64, LR, SP, X15, X16, X17, X18, X9};
    use crate::arch::{Encoder, RegError};

    /// `llvm-mc-19 -triple=aarch64 -show-encoding` of `ldr xC, #24;
    /// ldar xC, [xC]; ldr xD, #24; ldr xD, [xD]; br xC; udf #0` (the first
    /// six words; the code entry's load is a load-acquire).
    #[rustfmt::skip]
    const PAIRS: [(u32, u32, [u32; 6]); 16] = [
        (16, 9, [0x5800_00d0, 0xc8df_fe10, 0x5800_00c9, 0xf940_0129, 0xd61f_0200, 0x0000_0000]),
        (16, 10, [0x5800_00d0, 0xc8df_fe10, 0x5800_00ca, 0xf940_014a, 0xd61f_0200, 0x0000_0000]),
        (16, 11, [0x5800_00d0, 0xc8df_fe10, 0x5800_00cb, 0xf940_016b, 0xd61f_0200, 0x0000_0000]),
        (16, 12, [0x5800_00d0, 0xc8df_fe10, 0x5800_00cc, 0xf940_018c, 0xd61f_0200, 0x0000_0000]),
        (16, 13, [0x5800_00d0, 0xc8df_fe10, 0x5800_00cd, 0xf940_01ad, 0xd61f_0200, 0x0000_0000]),
        (16, 14, [0x5800_00d0, 0xc8df_fe10, 0x5800_00ce, 0xf940_01ce, 0xd61f_0200, 0x0000_0000]),
        (16, 15, [0x5800_00d0, 0xc8df_fe10, 0x5800_00cf, 0xf940_01ef, 0xd61f_0200, 0x0000_0000]),
        (16, 17, [0x5800_00d0, 0xc8df_fe10, 0x5800_00d1, 0xf940_0231, 0xd61f_0200, 0x0000_0000]),
        (17, 9, [0x5800_00d1, 0xc8df_fe31, 0x5800_00c9, 0xf940_0129, 0xd61f_0220, 0x0000_0000]),
        (17, 10, [0x5800_00d1, 0xc8df_fe31, 0x5800_00ca, 0xf940_014a, 0xd61f_0220, 0x0000_0000]),
        (17, 11, [0x5800_00d1, 0xc8df_fe31, 0x5800_00cb, 0xf940_016b, 0xd61f_0220, 0x0000_0000]),
        (17, 12, [0x5800_00d1, 0xc8df_fe31, 0x5800_00cc, 0xf940_018c, 0xd61f_0220, 0x0000_0000]),
        (17, 13, [0x5800_00d1, 0xc8df_fe31, 0x5800_00cd, 0xf940_01ad, 0xd61f_0220, 0x0000_0000]),
        (17, 14, [0x5800_00d1, 0xc8df_fe31, 0x5800_00ce, 0xf940_01ce, 0xd61f_0220, 0x0000_0000]),
        (17, 15, [0x5800_00d1, 0xc8df_fe31, 0x5800_00cf, 0xf940_01ef, 0xd61f_0220, 0x0000_0000]),
        (17, 16, [0x5800_00d1, 0xc8df_fe31, 0x5800_00d0, 0xf940_0210, 0xd61f_0220, 0x0000_0000]),
    ];

    #[test]
    fn slot_words_of_every_register_pair() {
        for (c, d, want) in PAIRS {
            let mut slot = [0xa5u8; Arm64::CODE_SIZE];
            Arm64::emit(&mut slot, c, CODE_SLOT, d, DATA_SLOT);
            let got = words::<6>(&slot);
            let lits =
                slot[24..32] == CODE_SLOT.to_le_bytes() && slot[32..40] == DATA_SLOT.to_le_bytes();
            if got != want || !lits || !all(&slot[40..], 0) {
                pr_err!("arm64 code x{} data x{}: {:08x?}\n", c, d, got);
            }
            assert_eq!(got, want);
            assert!(lits);
            // udf #0 filler after the literals.
            assert!(all(&slot[40..], 0));
        }
    }

    #[test]
    fn registers_outside_the_abi_temporaries_are_refused() {
        for r in [0, 7, 8, X18, 19, 29, LR, SP] {
            assert_eq!(Arm64::check_reg(r), Err(RegError::Forbidden));
        }
        assert_eq!(Arm64::check_reg(32), Err(RegError::Unknown));
        assert_eq!(Arm64::check_reg(u32::MAX), Err(RegError::Unknown));
        // BTI: only x16/x17 may be the register of the `br`.
        for r in X9..=X15 {
            assert_eq!(Arm64::CODE_REGS & (1 << r), 0);
            assert!(Arm64::DATA_REGS & (1 << r) != 0);
        }
        assert_eq!(Arm64::CODE_REGS, (1 << X16) | (1 << X17));
        assert_eq!(Arm64::DATA_REGS, 0x0003_fe00);
    }
}

#[kunit_tests(trampfd_riscv64)]
mod riscv64 {
    use super::*;
    use crate::arch::riscv64::{Riscv64, A0, RA, SP, T0, T1, T2};
    use crate::arch::{Encoder, RegError};
    use crate::desc::{errno::EOPNOTSUPP, Config, DescError, Target, UserSpace, DESC_SIZE};

    /// `llvm-mc-19 -triple=riscv64 -mattr=-c -show-encoding` of `auipc zero,
    /// 0 (lpad 0); auipc C, 0; ld D, 36(C); ld C, 28(C); ld C, 0(C);
    /// fence r, r; ld D, 0(D); jr C`. Registers are x numbers: t0 5, t1 6,
    /// t2 7, t3..t6 28..31.
    #[rustfmt::skip]
    const PAIRS: [(u32, u32, [u32; 8]); 36] = [
        (6, 5, [0x17, 0x0317, 0x0243_3283, 0x01c3_3303, 0x0003_3303, 0x0220_000f, 0x0002_b283, 0x0003_0067]),
        (6, 7, [0x17, 0x0317, 0x0243_3383, 0x01c3_3303, 0x0003_3303, 0x0220_000f, 0x0003_b383, 0x0003_0067]),
        (6, 28, [0x17, 0x0317, 0x0243_3e03, 0x01c3_3303, 0x0003_3303, 0x0220_000f, 0x000e_3e03, 0x0003_0067]),
        (6, 29, [0x17, 0x0317, 0x0243_3e83, 0x01c3_3303, 0x0003_3303, 0x0220_000f, 0x000e_be83, 0x0003_0067]),
        (6, 30, [0x17, 0x0317, 0x0243_3f03, 0x01c3_3303, 0x0003_3303, 0x0220_000f, 0x000f_3f03, 0x0003_0067]),
        (6, 31, [0x17, 0x0317, 0x0243_3f83, 0x01c3_3303, 0x0003_3303, 0x0220_000f, 0x000f_bf83, 0x0003_0067]),
        (7, 5, [0x17, 0x0397, 0x0243_b283, 0x01c3_b383, 0x0003_b383, 0x0220_000f, 0x0002_b283, 0x0003_8067]),
        (7, 6, [0x17, 0x0397, 0x0243_b303, 0x01c3_b383, 0x0003_b383, 0x0220_000f, 0x0003_3303, 0x0003_8067]),
        (7, 28, [0x17, 0x0397, 0x0243_be03, 0x01c3_b383, 0x0003_b383, 0x0220_000f, 0x000e_3e03, 0x0003_8067]),
        (7, 29, [0x17, 0x0397, 0x0243_be83, 0x01c3_b383, 0x0003_b383, 0x0220_000f, 0x000e_be83, 0x0003_8067]),
        (7, 30, [0x17, 0x0397, 0x0243_bf03, 0x01c3_b383, 0x0003_b383, 0x0220_000f, 0x000f_3f03, 0x0003_8067]),
        (7, 31, [0x17, 0x0397, 0x0243_bf83, 0x01c3_b383, 0x0003_b383, 0x0220_000f, 0x000f_bf83, 0x0003_8067]),
        (28, 5, [0x17, 0x0e17, 0x024e_3283, 0x01ce_3e03, 0x000e_3e03, 0x0220_000f, 0x0002_b283, 0x000e_0067]),
        (28, 6, [0x17, 0x0e17, 0x024e_3303, 0x01ce_3e03, 0x000e_3e03, 0x0220_000f, 0x0003_3303, 0x000e_0067]),
        (28, 7, [0x17, 0x0e17, 0x024e_3383, 0x01ce_3e03, 0x000e_3e03, 0x0220_000f, 0x0003_b383, 0x000e_0067]),
        (28, 29, [0x17, 0x0e17, 0x024e_3e83, 0x01ce_3e03, 0x000e_3e03, 0x0220_000f, 0x000e_be83, 0x000e_0067]),
        (28, 30, [0x17, 0x0e17, 0x024e_3f03, 0x01ce_3e03, 0x000e_3e03, 0x0220_000f, 0x000f_3f03, 0x000e_0067]),
        (28, 31, [0x17, 0x0e17, 0x024e_3f83, 0x01ce_3e03, 0x000e_3e03, 0x0220_000f, 0x000f_bf83, 0x000e_0067]),
        (29, 5, [0x17, 0x0e97, 0x024e_b283, 0x01ce_be83, 0x000e_be83, 0x0220_000f, 0x0002_b283, 0x000e_8067]),
        (29, 6, [0x17, 0x0e97, 0x024e_b303, 0x01ce_be83, 0x000e_be83, 0x0220_000f, 0x0003_3303, 0x000e_8067]),
        (29, 7, [0x17, 0x0e97, 0x024e_b383, 0x01ce_be83, 0x000e_be83, 0x0220_000f, 0x0003_b383, 0x000e_8067]),
        (29, 28, [0x17, 0x0e97, 0x024e_be03, 0x01ce_be83, 0x000e_be83, 0x0220_000f, 0x000e_3e03, 0x000e_8067]),
        (29, 30, [0x17, 0x0e97, 0x024e_bf03, 0x01ce_be83, 0x000e_be83, 0x0220_000f, 0x000f_3f03, 0x000e_8067]),
        (29, 31, [0x17, 0x0e97, 0x024e_bf83, 0x01ce_be83, 0x000e_be83, 0x0220_000f, 0x000f_bf83, 0x000e_8067]),
        (30, 5, [0x17, 0x0f17, 0x024f_3283, 0x01cf_3f03, 0x000f_3f03, 0x0220_000f, 0x0002_b283, 0x000f_0067]),
        (30, 6, [0x17, 0x0f17, 0x024f_3303, 0x01cf_3f03, 0x000f_3f03, 0x0220_000f, 0x0003_3303, 0x000f_0067]),
        (30, 7, [0x17, 0x0f17, 0x024f_3383, 0x01cf_3f03, 0x000f_3f03, 0x0220_000f, 0x0003_b383, 0x000f_0067]),
        (30, 28, [0x17, 0x0f17, 0x024f_3e03, 0x01cf_3f03, 0x000f_3f03, 0x0220_000f, 0x000e_3e03, 0x000f_0067]),
        (30, 29, [0x17, 0x0f17, 0x024f_3e83, 0x01cf_3f03, 0x000f_3f03, 0x0220_000f, 0x000e_be83, 0x000f_0067]),
        (30, 31, [0x17, 0x0f17, 0x024f_3f83, 0x01cf_3f03, 0x000f_3f03, 0x0220_000f, 0x000f_bf83, 0x000f_0067]),
        (31, 5, [0x17, 0x0f97, 0x024f_b283, 0x01cf_bf83, 0x000f_bf83, 0x0220_000f, 0x0002_b283, 0x000f_8067]),
        (31, 6, [0x17, 0x0f97, 0x024f_b303, 0x01cf_bf83, 0x000f_bf83, 0x0220_000f, 0x0003_3303, 0x000f_8067]),
        (31, 7, [0x17, 0x0f97, 0x024f_b383, 0x01cf_bf83, 0x000f_bf83, 0x0220_000f, 0x0003_b383, 0x000f_8067]),
        (31, 28, [0x17, 0x0f97, 0x024f_be03, 0x01cf_bf83, 0x000f_bf83, 0x0220_000f, 0x000e_3e03, 0x000f_8067]),
        (31, 29, [0x17, 0x0f97, 0x024f_be83, 0x01cf_bf83, 0x000f_bf83, 0x0220_000f, 0x000e_be83, 0x000f_8067]),
        (31, 30, [0x17, 0x0f97, 0x024f_bf03, 0x01cf_bf83, 0x000f_bf83, 0x0220_000f, 0x000f_3f03, 0x000f_8067]),
    ];

    #[test]
    fn slot_words_of_every_register_pair() {
        for (c, d, want) in PAIRS {
            let mut slot = [0xa5u8; Riscv64::CODE_SIZE];
            Riscv64::emit(&mut slot, c, CODE_SLOT, d, DATA_SLOT);
            let got = words::<8>(&slot);
            let lits =
                slot[32..40] == CODE_SLOT.to_le_bytes() && slot[40..48] == DATA_SLOT.to_le_bytes();
            if got != want || !lits || !all(&slot[48..], 0) {
                pr_err!("riscv64 code x{} data x{}: {:08x?}\n", c, d, got);
            }
            assert_eq!(got, want);
            assert!(lits);
            assert!(all(&slot[48..], 0));
        }
    }

    #[test]
    fn registers_outside_the_temporaries_are_refused() {
        for r in [0, RA, SP, 3, 4, 8, 9, A0, 17, 18, 27] {
            assert_eq!(Riscv64::check_reg(r), Err(RegError::Forbidden));
        }
        assert_eq!(Riscv64::check_reg(32), Err(RegError::Unknown));
        // t0 carries data only (`jr t0` is a return); t2 may be the code
        // register (`jr t2`: a software-guarded jump, no landing pad).
        assert_eq!(Riscv64::CODE_REGS, 0xf000_00c0);
        assert_eq!(Riscv64::DATA_REGS, 0xf000_00e0);
    }

    #[test]
    fn t0_as_code_register_is_eopnotsupp_and_t2_accepted_in_the_descriptor() {
        let space = UserSpace {
            user_end: 0x0000_7fff_ffff_f000,
        };
        let desc = |a: u32, b: u32, table: u64| {
            let mut d = [0u8; DESC_SIZE];
            d[0..4].copy_from_slice(&a.to_ne_bytes());
            d[4..8].copy_from_slice(&b.to_ne_bytes());
            d[8..16].copy_from_slice(&table.to_ne_bytes());
            d
        };
        let mut t2 = Config::default();
        let ok = t2.write::<Riscv64>(Target::Code, &desc(1, T2, 0x1000), space, 64);
        assert_eq!(ok, Ok(()));
        for r in [T0] {
            let mut c = Config::default();
            let e = c.write::<Riscv64>(Target::Code, &desc(1, r, 0x1000), space, 64);
            assert_eq!(e.map_err(DescError::errno), Err(EOPNOTSUPP));
            assert!(c == Config::default());
            let ok = c.write::<Riscv64>(Target::Data, &desc(r, 0, 0x2000), space, 64);
            assert_eq!(ok, Ok(()));
        }
        let mut c = Config::default();
        let code = c.write::<Riscv64>(Target::Code, &desc(1, T1, 0x1000), space, 64);
        assert_eq!(code, Ok(()));
        let data = c.write::<Riscv64>(Target::Data, &desc(T2, 0, 0x2000), space, 64);
        assert_eq!(data, Ok(()));
        assert!(c.map().is_ok());
    }
}

#[kunit_tests(trampfd_zpoline)]
mod zpoline {
    use super::*;
    use crate::arch::zpoline::{
        render_page, ENTRY_STATION, FAST_LEN, HOLES, HOOK_IMM_OFFSET, MID_STATION, SLED_LEN,
        STUB_END, STUB_OFFSET, TAIL,
    };

    #[test]
    fn page_is_cells_stations_tail_stub() {
        // `mov (%rsp), %rcx; movabs $hook, %r11; jmp *%r11` (llvm-mc-19).
        #[rustfmt::skip]
        const STUB: [u8; 17] = [0x48, 0x8b, 0x0c, 0x24, 0x49, 0xbb,
                                0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                                0x41, 0xff, 0xe3];
        // `jmp .+0x68` (rel8 0x66, 104 bytes) and a nop `data16 x5; nop`.
        const HOP104: [u8; 8] = [0xeb, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90];
        // The same cell with rel8 0x26 (40 bytes: onto station E), 0x4e (80),
        // 0x65 (103: the last cell, onto the stub).
        const HOP40: [u8; 8] = [0xeb, 0x26, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90];
        const HOP80: [u8; 8] = [0xeb, 0x4e, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90];
        const HOP103: [u8; 8] = [0xeb, 0x65, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90];
        // At 592: `jmp 2464`, `rex.W jmp 672` (llvm-mc-19 at `.org 592`,
        // objdump -d).
        const STATION_E: [u8; 8] = [0xe9, 0x4b, 0x07, 0x00, 0x00, 0x48, 0xeb, 0x48];
        // At 2464: `jmp 4079`, `rex.W jmp 2544`.
        const STATION_Q: [u8; 8] = [0xe9, 0x4a, 0x06, 0x00, 0x00, 0x48, 0xeb, 0x48];
        const TAIL_NOP: [u8; 8] = [0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90];
        let checks: [(usize, &[u8]); 12] = [
            (0, &HOP104),
            (8, &HOP104),
            (552, &HOP40),
            (584, &HOP104),
            (592, &STATION_E),
            (600, &HOP104),
            (2328, &HOP80),
            (2464, &STATION_Q),
            (3976, &HOP103),
            (3984, &TAIL_NOP),
            (4072, &TAIL_NOP[1..]),
            (4079, &STUB),
        ];
        let (mut bad, mut next, mut matched) = (0, 0, 0);
        render_page(PAGE, CODE_SLOT, |at, b| {
            // Written in order, each byte once.
            if at != next {
                bad += 1;
            }
            next = at + b.len();
            for (off, want) in checks {
                if off >= at && off + want.len() <= at + b.len() {
                    matched += 1;
                    if &b[off - at..off - at + want.len()] != want {
                        pr_err!("zpoline page: bytes at {} differ\n", off);
                        bad += 1;
                    }
                }
            }
        });
        assert_eq!(bad, 0);
        assert_eq!(matched, checks.len());
        assert_eq!(next, PAGE);
        assert_eq!(
            (ENTRY_STATION, MID_STATION, TAIL, STUB_OFFSET, SLED_LEN),
            (592, 2464, 3984, 4079, 4079)
        );
        assert_eq!(HOOK_IMM_OFFSET, STUB_OFFSET + 6);
        assert_eq!(STUB_END, PAGE);
        assert_eq!(HOLES, [593, 594, 595, 596, 2465, 2466, 2467, 2468]);
        assert!(HOLES[0] >= FAST_LEN);
    }
}

#[kunit_tests(trampfd_desc)]
mod desc {
    use crate::arch::x86_64::{R10, R11, RAX, RIP, RSP, X86_64};
    use crate::desc::{errno::*, Config, DescError, Target, UserSpace, DESC_SIZE};

    const SPACE: UserSpace = UserSpace {
        user_end: 0x0000_7fff_ffff_f000,
    };
    const MAX: u32 = 128;

    fn code(n: u32, reg: u32, table: u64) -> [u8; DESC_SIZE] {
        let mut b = [0u8; DESC_SIZE];
        b[0..4].copy_from_slice(&n.to_ne_bytes());
        b[4..8].copy_from_slice(&reg.to_ne_bytes());
        b[8..16].copy_from_slice(&table.to_ne_bytes());
        b
    }

    fn data(reg: u32, reserved: u32, table: u64) -> [u8; DESC_SIZE] {
        code(reg, reserved, table)
    }

    /// Applies a write; `Err(errno)` if refused, and then `Err(-1)` instead
    /// if the refusal changed the state.
    fn write(c: &mut Config, t: Target, b: [u8; DESC_SIZE]) -> Result<(), i32> {
        let before = *c;
        let r = c
            .write::<X86_64>(t, &b, SPACE, MAX)
            .map_err(DescError::errno);
        if r.is_err() && *c != before {
            return Err(-1);
        }
        r
    }

    #[test]
    fn offsets_and_sizes() {
        assert_eq!(Target::from_write(0, 16), Ok(Target::Code));
        assert_eq!(Target::from_write(0x40, 16), Ok(Target::Data));
        assert_eq!(Target::from_write(8, 16), Err(DescError::BadOffset));
        assert_eq!(Target::from_write(0x80, 16), Err(DescError::BadOffset));
        assert_eq!(Target::from_write(0, 15), Err(DescError::BadSize));
        assert_eq!(Target::from_write(0x40, 17), Err(DescError::BadSize));
    }

    #[test]
    fn every_refusal_has_its_errno() {
        let cases = [
            (DescError::BadOffset, ENXIO),
            (DescError::BadSize, EMSGSIZE),
            (DescError::BadCount, ERANGE),
            (DescError::UnknownReg, EINVAL),
            (DescError::ForbiddenReg, EOPNOTSUPP),
            (DescError::SameReg, EBUSY),
            (DescError::Reserved, EINVAL),
            (DescError::Misaligned, EINVAL),
            (DescError::BadTable, EFAULT),
            (DescError::Frozen, EROFS),
            (DescError::NotConfigured, ENODATA),
            (DescError::AlreadyMapped, EBUSY),
        ];
        for (e, errno) in cases {
            assert_eq!(e.errno(), errno);
        }
        // The numbers are the kernel's own.
        use kernel::error::code;
        assert_eq!(-ENXIO, code::ENXIO.to_errno());
        assert_eq!(-EFAULT, code::EFAULT.to_errno());
        assert_eq!(-EBUSY, code::EBUSY.to_errno());
        assert_eq!(-EINVAL, code::EINVAL.to_errno());
        assert_eq!(-EROFS, code::EROFS.to_errno());
        assert_eq!(-ERANGE, code::ERANGE.to_errno());
        assert_eq!(-ENODATA, code::ENODATA.to_errno());
        assert_eq!(-EMSGSIZE, code::EMSGSIZE.to_errno());
        assert_eq!(-EOPNOTSUPP, code::EOPNOTSUPP.to_errno());
    }

    #[test]
    fn code_descriptor_refusals() {
        let mut c = Config::default();
        let t = Target::Code;
        assert_eq!(write(&mut c, t, code(0, R11, 0x1000)), Err(ERANGE));
        assert_eq!(write(&mut c, t, code(129, R11, 0x1000)), Err(ERANGE));
        assert_eq!(write(&mut c, t, code(1, 17, 0x1000)), Err(EINVAL));
        assert_eq!(write(&mut c, t, code(1, 99, 0x1000)), Err(EINVAL));
        assert_eq!(write(&mut c, t, code(1, RSP, 0x1000)), Err(EOPNOTSUPP));
        assert_eq!(write(&mut c, t, code(1, RIP, 0x1000)), Err(EOPNOTSUPP));
        assert_eq!(write(&mut c, t, code(1, 7, 0x1000)), Err(EOPNOTSUPP));
        assert_eq!(write(&mut c, t, code(1, R11, 0)), Err(EFAULT));
        assert_eq!(write(&mut c, t, code(1, R11, 0x1004)), Err(EINVAL));
        let kernel_half = 0xffff_8000_0000_0000;
        assert_eq!(write(&mut c, t, code(1, R11, kernel_half)), Err(EFAULT));
        assert_eq!(write(&mut c, t, code(2, R11, u64::MAX - 7)), Err(EFAULT));
        let last = SPACE.user_end - 8;
        assert_eq!(write(&mut c, t, code(2, R11, last)), Err(EFAULT));
        assert!(c == Config::default());
        assert_eq!(write(&mut c, t, code(1, R11, last)), Ok(()));
        assert_eq!(c.code().map(|k| k.ntrampolines), Some(1));
    }

    #[test]
    fn data_descriptor_refusals_and_register_clash() {
        let mut c = Config::default();
        let t = Target::Data;
        assert_eq!(write(&mut c, t, data(R10, 1, 0x2000)), Err(EINVAL));
        assert_eq!(write(&mut c, t, data(RSP, 0, 0x2000)), Err(EOPNOTSUPP));
        assert_eq!(write(&mut c, t, data(R10, 0, 3)), Err(EINVAL));
        assert_eq!(write(&mut c, Target::Code, code(128, R11, 0x1000)), Ok(()));
        assert_eq!(write(&mut c, t, data(R11, 0, 0x2000)), Err(EBUSY));
        // 128 entries from here would leave the user address space.
        let near_end = SPACE.user_end - 64;
        assert_eq!(write(&mut c, t, data(R10, 0, near_end)), Err(EFAULT));
        assert_eq!(write(&mut c, t, data(RAX, 0, 0x2000)), Ok(()));
        // A new code descriptor must agree with the data descriptor too.
        assert_eq!(
            write(&mut c, Target::Code, code(1, RAX, 0x1000)),
            Err(EBUSY)
        );
    }

    #[test]
    fn map_needs_both_descriptors_and_freezes_them() {
        let mut c = Config::default();
        assert_eq!(c.map().map_err(DescError::errno), Err(ENODATA));
        assert_eq!(write(&mut c, Target::Code, code(4, R11, 0x1000)), Ok(()));
        assert_eq!(c.map().map_err(DescError::errno), Err(ENODATA));
        assert_eq!(write(&mut c, Target::Data, data(R10, 0, 0x2000)), Ok(()));
        // Rewriting before mmap is allowed.
        assert_eq!(write(&mut c, Target::Code, code(8, R11, 0x3000)), Ok(()));
        let frozen = c.map().map(|(k, d)| (k.ntrampolines, k.table, d.table));
        assert_eq!(frozen, Ok((8, 0x3000, 0x2000)));
        assert_eq!(
            write(&mut c, Target::Code, code(8, R11, 0x1000)),
            Err(EROFS)
        );
        assert_eq!(
            write(&mut c, Target::Data, data(R10, 0, 0x1000)),
            Err(EROFS)
        );
        assert_eq!(c.map().map_err(DescError::errno), Err(EBUSY));
        assert!(c.is_mapped());
    }
}

/// The kernel-crate abstractions the module carries (`rust/kernel_ext/`,
/// the series' `rust:` patch) that can run outside a fault or an `mmap`:
/// `VmFault` and `LockedVm` are covered by the guest selftests instead
/// (every trampoline call faults; `RLIMIT_MEMLOCK` refusals).
#[kunit_tests(trampfd_kernel_ext)]
mod kernel_ext {
    use crate::kernel_ext::{cacheflush, compat, mm::layout};
    use kernel::page::{Page, PAGE_SIZE};

    #[test]
    fn a_kunit_thread_makes_no_compat_syscall() {
        assert!(!compat::in_compat_syscall());
    }

    #[test]
    fn task_size_max_is_the_architectures_value() {
        let max = layout::task_size_max();
        // x86-64: 47 or 56 address bits (4- or 5-level paging), the top
        // page excluded; arm64: 1 << VA_BITS (48 or 52); riscv64: Sv39,
        // Sv48 or Sv57, whichever the CPU gave the boot.
        #[cfg(target_arch = "x86_64")]
        assert!(max == (1 << 47) - PAGE_SIZE || max == (1 << 56) - PAGE_SIZE);
        #[cfg(target_arch = "aarch64")]
        assert!(max == 1 << 48 || max == 1 << 52);
        #[cfg(target_arch = "riscv64")]
        assert!(max == 1 << 38 || max == 1 << 47 || max == 1 << 56);
        assert_eq!(max % PAGE_SIZE, 0);
    }

    #[test]
    fn flush_icache_page_changes_no_byte() {
        let page = Page::alloc_page(kernel::alloc::flags::GFP_KERNEL);
        assert!(page.is_ok());
        let Ok(mut page) = page else { return };
        crate::ffi::with_page_bytes(&mut page, |bytes| {
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = i as u8;
            }
        });
        cacheflush::flush_icache_page(&page);
        let same = crate::ffi::with_page_bytes(&mut page, |bytes| {
            bytes.iter().enumerate().all(|(i, b)| *b == i as u8)
        });
        assert!(same);
    }
}
