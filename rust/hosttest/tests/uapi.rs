// SPDX-License-Identifier: GPL-2.0

//! The Rust UAPI mirror agrees with `include/uapi/linux/trampfd.h`: compile a
//! C program against the header and compare every value.

use std::path::PathBuf;
use std::process::Command;
use trampfd_hosttest::arch::arm64::{self, Arm64};
use trampfd_hosttest::arch::riscv64::{self, Riscv64};
use trampfd_hosttest::arch::x86_64::{R10, R11, X86_64};
use trampfd_hosttest::arch::Encoder;
use trampfd_hosttest::desc::{CODE_OFFSET, DATA_OFFSET, DESC_SIZE};
use trampfd_hosttest::uapi;

const PROG: &str = r#"
#include <stdio.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/trampfd.h>
int main(void)
{
	printf("%lu %lu %lu %lu\n", (unsigned long)TRAMPFD_CODE_OFFSET,
	       (unsigned long)TRAMPFD_DATA_OFFSET, sizeof(struct trampfd_code),
	       sizeof(struct trampfd_data));
	printf("%lu %lu %lu\n", sizeof(struct trampfd_info),
	       (unsigned long)TRAMPFD_IOC_CREATE, (unsigned long)TRAMPFD_IOC_GET_INFO);
	printf("%d %d %d %d\n", TRAMPFD_CREATE_CLOEXEC, TRAMPFD_ARCH_X86_64,
	       TRAMPFD_X86_64_R10, TRAMPFD_X86_64_R11);
	printf("%lu %lu %lu %lu\n", offsetof(struct trampfd_info, code_offset),
	       offsetof(struct trampfd_info, code_regs),
	       offsetof(struct trampfd_code, table), offsetof(struct trampfd_data, table));
	printf("%d %d %d %d %d\n", TRAMPFD_ARCH_ARM64, TRAMPFD_ARM64_X9,
	       TRAMPFD_ARM64_X16, TRAMPFD_ARM64_X17, TRAMPFD_ARM64_X(18));
	printf("%d %d %d %d %d %d\n", TRAMPFD_ARCH_RISCV64, TRAMPFD_RISCV64_T0,
	       TRAMPFD_RISCV64_T1, TRAMPFD_RISCV64_T2, TRAMPFD_RISCV64_T3,
	       TRAMPFD_RISCV64_T6);
	printf("%d %d %d\n", TRAMPFD_NATIVE_ARCH, TRAMPFD_NATIVE_CODE_REG,
	       TRAMPFD_NATIVE_DATA_REG);
	return 0;
}
"#;

#[test]
fn c_header_matches_rust_mirror() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let src = dir.join("uapi_probe.c");
    let exe = dir.join("uapi_probe");
    std::fs::write(&src, PROG).unwrap();
    let inc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/uapi");
    let st = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .arg("-I")
        .arg(&inc)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("run the C compiler");
    assert!(st.success());
    let out = Command::new(&exe).output().unwrap();
    let got: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    let want: Vec<u64> = vec![
        CODE_OFFSET,
        DATA_OFFSET,
        DESC_SIZE as u64,
        DESC_SIZE as u64,
        uapi::INFO_SIZE as u64,
        uapi::IOC_CREATE as u64,
        uapi::IOC_GET_INFO as u64,
        uapi::CREATE_CLOEXEC as u64,
        X86_64::ARCH as u64,
        10,
        11,
        16,
        24,
        8,
        8,
        Arm64::ARCH as u64,
        arm64::X9 as u64,
        arm64::X16 as u64,
        arm64::X17 as u64,
        arm64::X18 as u64,
        Riscv64::ARCH as u64,
        riscv64::T0 as u64,
        riscv64::T1 as u64,
        riscv64::T2 as u64,
        riscv64::T3 as u64,
        riscv64::T6 as u64,
        // The host is x86-64: the native recommendation is r11 / r10.
        X86_64::ARCH as u64,
        R11 as u64,
        R10 as u64,
    ];
    assert_eq!(got, want);
}

#[test]
fn info_bytes_layout() {
    let b = uapi::info_bytes::<X86_64>(128);
    let u32_at = |o: usize| u32::from_ne_bytes(b[o..o + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 64);
    assert_eq!(u32_at(4), 1);
    assert_eq!(u32_at(8), 128);
    assert_eq!(u32_at(12), 32);
    assert_eq!(u32_at(24), X86_64::CODE_REGS);
    assert!(b[32..].iter().all(|&x| x == 0));
}

#[test]
fn info_bytes_of_the_64_byte_slot_arches() {
    for (arch, regs, info) in [
        (2, Arm64::CODE_REGS, uapi::info_bytes::<Arm64>(64)),
        (3, Riscv64::CODE_REGS, uapi::info_bytes::<Riscv64>(64)),
    ] {
        let u32_at = |o: usize| u32::from_ne_bytes(info[o..o + 4].try_into().unwrap());
        assert_eq!(u32_at(4), arch);
        assert_eq!(u32_at(8), 64);
        assert_eq!(u32_at(12), 64, "code_size");
        assert_eq!(u32_at(24), regs);
    }
}
