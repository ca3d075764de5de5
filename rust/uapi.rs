// SPDX-License-Identifier: GPL-2.0

//! Rust mirror of `include/uapi/linux/trampfd.h` (pure `core` code).
//!
//! The host test `rust/hosttest/tests/uapi.rs` compiles the C header and
//! checks every value here against it.

use crate::arch::Encoder;

/// `_IOC` direction bits (asm-generic layout: x86-64, arm64, riscv64).
const IOC_NONE: u32 = 0;
const IOC_READ: u32 = 2;
const IOC_WRITE: u32 = 1;

/// `_IOC(dir, type, nr, size)`.
const fn ioc(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | (ty << 8) | nr
}

/// `TRAMPFD_IOC_MAGIC`.
pub const IOC_MAGIC: u32 = 0xb7;
/// `sizeof(struct trampfd_info)`.
pub const INFO_SIZE: usize = 64;
/// `TRAMPFD_IOC_CREATE`: returns a new trampfd; arg is `TRAMPFD_CREATE_*`.
pub const IOC_CREATE: u32 = ioc(IOC_NONE, IOC_MAGIC, 0x01, 0);
/// `TRAMPFD_IOC_GET_INFO`: fills a `struct trampfd_info`.
pub const IOC_GET_INFO: u32 = ioc(IOC_READ, IOC_MAGIC, 0x02, INFO_SIZE);
/// `TRAMPFD_CREATE_CLOEXEC`: `O_CLOEXEC`, as for `eventfd()` and the other
/// fd factories. This is its asm-generic value (x86-64, arm64, riscv64);
/// the module asserts at build time that it equals the kernel's.
pub const CREATE_CLOEXEC: usize = 0o2000000;
/// The value of `TRAMPFD_CREATE_CLOEXEC` before it became `O_CLOEXEC`,
/// still accepted with the same meaning for binaries built against the
/// old header.
pub const CREATE_CLOEXEC_V1: usize = 0x1;
/// The mmap offset of the trampoline page (`trampfd_info.code_offset`).
pub const CODE_MMAP_OFFSET: u64 = 0;

/// Encodes `struct trampfd_info` for encoder `E`, `max` trampolines per fd.
pub fn info_bytes<E: Encoder>(max: u32) -> [u8; INFO_SIZE] {
    let mut b = [0u8; INFO_SIZE];
    b[0..4].copy_from_slice(&(INFO_SIZE as u32).to_ne_bytes());
    b[4..8].copy_from_slice(&E::ARCH.to_ne_bytes());
    b[8..12].copy_from_slice(&max.to_ne_bytes());
    b[12..16].copy_from_slice(&(E::CODE_SIZE as u32).to_ne_bytes());
    b[16..24].copy_from_slice(&CODE_MMAP_OFFSET.to_ne_bytes());
    b[24..28].copy_from_slice(&E::CODE_REGS.to_ne_bytes());
    b[28..32].copy_from_slice(&E::DATA_REGS.to_ne_bytes());
    b
}

/// `ZPOLINE_IOC_MAGIC`.
pub const ZPOLINE_IOC_MAGIC: u32 = 0xb8;
/// `sizeof(struct zpoline_cfg)`.
pub const ZPOLINE_CFG_SIZE: usize = 24;
/// `ZPOLINE_IOC_INSTALL`: installs the page at address 0.
pub const ZPOLINE_IOC_INSTALL: u32 = ioc(
    IOC_READ | IOC_WRITE,
    ZPOLINE_IOC_MAGIC,
    0x01,
    ZPOLINE_CFG_SIZE,
);
/// `ZPOLINE_FAST_LEN`: `%rax` below it always reaches the hook.
pub const ZPOLINE_FAST_LEN: usize = 512;
/// `ZPOLINE_STUB_OFFSET` (and `ZPOLINE_SLED_LEN`): the stub's offset, what
/// `zpoline_cfg.sled_len` reports.
pub const ZPOLINE_STUB_OFFSET: usize = 4079;
/// `ZPOLINE_RESULT_XOM`: the page is execute-only.
pub const ZPOLINE_RESULT_XOM: u32 = 0x1;
/// `ZPOLINE_INSTALL_REQUIRE_XOM` (`zpoline_cfg.flags`): install only an
/// execute-only page.
pub const ZPOLINE_INSTALL_REQUIRE_XOM: u32 = 0x1;
/// Every `zpoline_cfg.flags` bit the kernel knows.
pub const ZPOLINE_INSTALL_FLAGS: u32 = ZPOLINE_INSTALL_REQUIRE_XOM;

/// `struct zpoline_cfg` as read from userspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZpolineCfg {
    /// Hook address.
    pub hook: u64,
    /// `ZPOLINE_INSTALL_*` flags.
    pub flags: u32,
    /// Reserved, must be 0.
    pub reserved: u32,
}

impl ZpolineCfg {
    /// Decodes the bytes userspace passed.
    pub fn from_bytes(b: &[u8; ZPOLINE_CFG_SIZE]) -> Self {
        let u32_at = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let mut hook = [0u8; 8];
        hook.copy_from_slice(&b[0..8]);
        ZpolineCfg {
            hook: u64::from_ne_bytes(hook),
            flags: u32_at(8),
            reserved: u32_at(20),
        }
    }

    /// Encodes the reply: the request with `result` and `sled_len` filled.
    pub fn reply(&self, result: u32, sled_len: u32) -> [u8; ZPOLINE_CFG_SIZE] {
        let mut b = [0u8; ZPOLINE_CFG_SIZE];
        b[0..8].copy_from_slice(&self.hook.to_ne_bytes());
        b[8..12].copy_from_slice(&self.flags.to_ne_bytes());
        b[12..16].copy_from_slice(&result.to_ne_bytes());
        b[16..20].copy_from_slice(&sled_len.to_ne_bytes());
        b[20..24].copy_from_slice(&self.reserved.to_ne_bytes());
        b
    }
}
