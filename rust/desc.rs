// SPDX-License-Identifier: GPL-2.0

//! Descriptors and the configuration state machine of one trampfd.
//!
//! Pure `core` code (no kernel dependency): the device layer hands it the
//! bytes userspace wrote and the bounds of the user address space, and gets
//! back either a new state or a [`DescError`] whose errno goes back to
//! userspace. A refused request never changes the state.

use crate::arch::{Encoder, RegError};

/// `TRAMPFD_CODE_OFFSET`: pwrite offset of the code descriptor.
pub const CODE_OFFSET: u64 = 0x00;
/// `TRAMPFD_DATA_OFFSET`: pwrite offset of the data descriptor.
pub const DATA_OFFSET: u64 = 0x40;
/// Size of `struct trampfd_code` and of `struct trampfd_data`.
pub const DESC_SIZE: usize = 16;
/// Size of one table entry (a `__u64`).
const ENTRY: u64 = 8;

/// Why a request was refused; each maps to one errno (see
/// `Documentation/trampfd.rst`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DescError {
    /// pwrite at an offset that holds no descriptor (`ENXIO`).
    BadOffset,
    /// pwrite of a length other than the descriptor size (`EMSGSIZE`).
    BadSize,
    /// `ntrampolines` is 0 or above the per-page maximum (`ERANGE`).
    BadCount,
    /// Register number unknown to the architecture (`EINVAL`).
    UnknownReg,
    /// Register exists but is not allowed (`EOPNOTSUPP`).
    ForbiddenReg,
    /// Code and data register are the same (`EBUSY`).
    SameReg,
    /// Non-zero reserved field (`EINVAL`).
    Reserved,
    /// Table address not 8-byte aligned (`EINVAL`).
    Misaligned,
    /// Table is NULL, in kernel space, or its range wraps or leaves the user
    /// address space (`EFAULT`).
    BadTable,
    /// The fd is mapped; its descriptors are frozen (`EROFS`).
    Frozen,
    /// mmap before both descriptors were written (`ENODATA`).
    NotConfigured,
    /// The fd was mapped already (`EBUSY`).
    AlreadyMapped,
}

/// Linux errno values used by [`DescError::errno`] (asm-generic numbers,
/// identical on x86-64, arm64 and riscv64).
pub mod errno {
    /// No such device or address.
    pub const ENXIO: i32 = 6;
    /// Bad address.
    pub const EFAULT: i32 = 14;
    /// Device or resource busy.
    pub const EBUSY: i32 = 16;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Read-only file system.
    pub const EROFS: i32 = 30;
    /// Result out of range.
    pub const ERANGE: i32 = 34;
    /// No data available.
    pub const ENODATA: i32 = 61;
    /// Message too long.
    pub const EMSGSIZE: i32 = 90;
    /// Operation not supported.
    pub const EOPNOTSUPP: i32 = 95;
}

impl DescError {
    /// The positive errno value returned to userspace.
    pub fn errno(self) -> i32 {
        use errno::*;
        match self {
            DescError::BadOffset => ENXIO,
            DescError::BadSize => EMSGSIZE,
            DescError::BadCount => ERANGE,
            DescError::UnknownReg | DescError::Reserved | DescError::Misaligned => EINVAL,
            DescError::ForbiddenReg => EOPNOTSUPP,
            DescError::SameReg | DescError::AlreadyMapped => EBUSY,
            DescError::BadTable => EFAULT,
            DescError::Frozen => EROFS,
            DescError::NotConfigured => ENODATA,
        }
    }
}

impl From<RegError> for DescError {
    fn from(e: RegError) -> Self {
        match e {
            RegError::Unknown => DescError::UnknownReg,
            RegError::Forbidden => DescError::ForbiddenReg,
        }
    }
}

/// A validated code descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// Number of trampolines, `1..=max`.
    pub ntrampolines: u32,
    /// Code register number.
    pub reg: u32,
    /// User address of the code table, 8-byte aligned, non-NULL.
    pub table: u64,
}

/// A validated data descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data {
    /// Data register number.
    pub reg: u32,
    /// User address of the data table, 8-byte aligned, non-NULL.
    pub table: u64,
}

/// Which descriptor a pwrite targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `TRAMPFD_CODE_OFFSET`.
    Code,
    /// `TRAMPFD_DATA_OFFSET`.
    Data,
}

impl Target {
    /// Maps a pwrite offset and length to a descriptor.
    pub fn from_write(offset: u64, len: usize) -> Result<Target, DescError> {
        let t = match offset {
            CODE_OFFSET => Target::Code,
            DATA_OFFSET => Target::Data,
            _ => return Err(DescError::BadOffset),
        };
        if len != DESC_SIZE {
            return Err(DescError::BadSize);
        }
        Ok(t)
    }
}

fn u32_at(b: &[u8; DESC_SIZE], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8; DESC_SIZE], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(v)
}

/// The configuration of one trampfd.
///
/// Invariants: `code` and `data` each passed validation; when both are
/// present their registers differ and both tables hold `code.ntrampolines`
/// entries inside the user address space; once `mapped` is set, `code` and
/// `data` are present and never change again.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    code: Option<Code>,
    data: Option<Data>,
    mapped: bool,
}

/// The bounds a table must lie in: `[1, user_end)`.
#[derive(Debug, Clone, Copy)]
pub struct UserSpace {
    /// First address past the user address space (`TASK_SIZE_MAX`).
    pub user_end: u64,
}

impl UserSpace {
    fn check_table(&self, table: u64, n: u32) -> Result<(), DescError> {
        if table == 0 {
            return Err(DescError::BadTable);
        }
        if table % ENTRY != 0 {
            return Err(DescError::Misaligned);
        }
        let end = table
            .checked_add(u64::from(n).wrapping_mul(ENTRY))
            .ok_or(DescError::BadTable)?;
        if end > self.user_end {
            return Err(DescError::BadTable);
        }
        Ok(())
    }
}

impl Config {
    /// The code descriptor, if written.
    pub fn code(&self) -> Option<Code> {
        self.code
    }

    /// The data descriptor, if written.
    pub fn data(&self) -> Option<Data> {
        self.data
    }

    /// Whether the fd has been mapped.
    pub fn is_mapped(&self) -> bool {
        self.mapped
    }

    /// Applies a descriptor written by userspace. `E` is the architecture's
    /// encoder, `max` the per-fd trampoline limit. On error `self` is
    /// unchanged.
    pub fn write<E: Encoder>(
        &mut self,
        target: Target,
        bytes: &[u8; DESC_SIZE],
        space: UserSpace,
        max: u32,
    ) -> Result<(), DescError> {
        if self.mapped {
            return Err(DescError::Frozen);
        }
        match target {
            Target::Code => {
                let code = Code {
                    ntrampolines: u32_at(bytes, 0),
                    reg: u32_at(bytes, 4),
                    table: u64_at(bytes, 8),
                };
                if code.ntrampolines == 0 || code.ntrampolines > max {
                    return Err(DescError::BadCount);
                }
                E::check_reg(code.reg)?;
                if E::CODE_REGS & 1u32.checked_shl(code.reg).unwrap_or(0) == 0 {
                    return Err(DescError::ForbiddenReg);
                }
                space.check_table(code.table, code.ntrampolines)?;
                if let Some(data) = self.data {
                    if data.reg == code.reg {
                        return Err(DescError::SameReg);
                    }
                    space.check_table(data.table, code.ntrampolines)?;
                }
                self.code = Some(code);
            }
            Target::Data => {
                let data = Data {
                    reg: u32_at(bytes, 0),
                    table: u64_at(bytes, 8),
                };
                if u32_at(bytes, 4) != 0 {
                    return Err(DescError::Reserved);
                }
                E::check_reg(data.reg)?;
                if E::DATA_REGS & 1u32.checked_shl(data.reg).unwrap_or(0) == 0 {
                    return Err(DescError::ForbiddenReg);
                }
                let n = self.code.map_or(1, |c| c.ntrampolines);
                space.check_table(data.table, n)?;
                if let Some(code) = self.code {
                    if code.reg == data.reg {
                        return Err(DescError::SameReg);
                    }
                }
                self.data = Some(data);
            }
        }
        Ok(())
    }

    /// Marks the fd mapped and returns the frozen descriptors; refused if a
    /// descriptor is missing or the fd was mapped before.
    pub fn map(&mut self) -> Result<(Code, Data), DescError> {
        if self.mapped {
            return Err(DescError::AlreadyMapped);
        }
        match (self.code, self.data) {
            (Some(c), Some(d)) => {
                self.mapped = true;
                Ok((c, d))
            }
            _ => Err(DescError::NotConfigured),
        }
    }
}

/// Writes every byte of the trampoline page `page`, in place: trampoline `X`
/// for every `X < code.ntrampolines` at `X * E::CODE_SIZE`, trap filler in
/// every other slot (and in a tail shorter than a slot, which a page never
/// has: `CODE_SIZE` divides the page size). No byte keeps what the page held
/// before, so the page need not be zeroed first.
///
/// The encoder runs once: trampoline `X` is trampoline 0 with its literals
/// (at the [`Literals`](crate::arch::Literals) offsets that [`Encoder::emit`]
/// returns) set to `&code_table[X]` and `&data_table[X]`, which is what
/// [`Encoder::emit`] would write for `X` (host tests compare the two for
/// every register pair). Per slot that is `CODE_SIZE / 8` word stores of
/// the template, kept in registers, then one or two stores of literals
/// into the page: no call, no byte loop. In the
/// guest, the fault that generates a full x86-64 page went from about
/// 50,000 instructions (an encoding per slot) to 21,000 (a `memcpy` call
/// per slot and per literal, into a zeroed page) to 5,400 (this, into a
/// page that is not zeroed first).
pub fn render_page<E: Encoder>(page: &mut [u8], code: Code, data: Data) {
    const {
        assert!(E::CODE_SIZE == 32 || E::CODE_SIZE == 64);
    }
    let mut first = [0u8; MAX_CODE_SIZE];
    let lits = E::emit(
        &mut first[..E::CODE_SIZE],
        code.reg,
        code.table,
        data.reg,
        data.table,
    );
    let n = code.ntrampolines as usize;
    let trap = [E::TRAP_FILL; 8];
    // The template's two 32-byte halves (the second one unused when
    // CODE_SIZE is 32).
    let (mut lo, mut hi) = ([0u8; 32], [0u8; 32]);
    if let Some((a, b)) = first.split_first_chunk::<32>() {
        lo = *a;
        if let Some(b) = b.first_chunk::<32>() {
            hi = *b;
        }
    }
    // Whole slots first, then the bytes after the last one (none on a real
    // page). `chunks_exact` rather than `as_chunks` (Rust 1.88): the
    // module builds with the kernel's minimum rustc, 1.85.
    let mut slots = page.chunks_exact_mut(E::CODE_SIZE);
    for (x, slot) in slots.by_ref().enumerate() {
        if x < n {
            let off = x as u64 * ENTRY;
            // Whole 32-byte halves: four word stores each (of registers,
            // or loads of the template kept on the stack), no loop. Not
            // `zip` over `chunks_exact`: that calls out of line into a
            // length computation that can panic on a division by zero, a
            // panic objtool does not know (it warns that the function falls
            // through).
            if let Some(dst) = slot.first_chunk_mut::<32>() {
                *dst = lo;
            }
            if E::CODE_SIZE == 64 {
                if let Some(dst) = slot.get_mut(32..).and_then(<[u8]>::first_chunk_mut::<32>) {
                    *dst = hi;
                }
            }
            // Then the literals, straight into the page: the template is
            // never modified, so it stays in registers, and the offsets'
            // bounds checks do not depend on the slot.
            put_u64(slot, lits.code, code.table.wrapping_add(off));
            if let Some(at) = lits.data {
                put_u64(slot, at, data.table.wrapping_add(off));
            }
        } else {
            let mut at = 0;
            while let Some(dst) = slot.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<8>) {
                *dst = trap;
                at += 8;
            }
        }
    }
    slots.into_remainder().fill(E::TRAP_FILL);
}

/// Stores `v` little-endian at byte `at` of a slot. Every encoder returns
/// literal offsets with `at + 8 <= CODE_SIZE` (host-tested for every
/// register pair and both x86-64 layouts), so the store always happens; the
/// bounds check keeps a wrong offset from panicking in the fault handler.
fn put_u64(slot: &mut [u8], at: usize, v: u64) {
    if let Some(d) = slot.get_mut(at..).and_then(|s| s.first_chunk_mut::<8>()) {
        *d = v.to_le_bytes();
    }
}

/// The largest slot of any architecture (arm64 and riscv64: 64 bytes).
const MAX_CODE_SIZE: usize = 64;
