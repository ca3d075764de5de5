// SPDX-License-Identifier: GPL-2.0

//! Function bounds from the unwind information the program already carries:
//! the loaded object that holds an address (glibc's `_dl_find_object`,
//! lock-free and async-signal-safe, glibc >= 2.35), its `.eh_frame_hdr`
//! binary search table, and the FDE that covers the address (`pc_begin`,
//! `pc_range`).  Handles what GCC, Clang and binutils emit on x86-64:
//! version-1 headers with a `datarel|sdata4` table, CIEs of version 1 or 3
//! with the augmentations `z`, `R`, `P`, `L`, `S`, `B`, `G`, and the pointer
//! encodings absptr, udata2/4/8, sdata2/4/8, uleb128/sleb128 with the pcrel
//! or datarel application.  Anything else gives no bounds (the site then
//! stays on the SUD path).
//!
//! Also walks every loaded object (`dl_iterate_phdr`, at init only) for
//! eager mode.  Every read stays inside the object's mapping as reported by
//! `_dl_find_object` or its program headers.

use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicUsize, Ordering};

/// `struct dl_find_object` (x86-64: no `dlfo_eh_dbase`, no count).
#[repr(C)]
struct DlFindObject {
    flags: u64,
    map_start: *mut c_void,
    map_end: *mut c_void,
    link_map: *mut c_void,
    eh_frame: *mut c_void,
    reserved: [u64; 7],
}

/// `_dl_find_object`, looked up at load (glibc >= 2.35; 0: absent, and
/// then no site has known bounds).  A weak lookup keeps the library
/// loadable on an older glibc.
static DL_FIND_OBJECT: AtomicUsize = AtomicUsize::new(0);

type DlFindObjectFn = unsafe extern "C" fn(*mut c_void, *mut DlFindObject) -> c_int;

/// Looks `_dl_find_object` up (at load: dlsym is not async-signal-safe).
pub fn init() {
    // SAFETY: RTLD_DEFAULT (null) and a C string.
    let f = unsafe { dlsym(core::ptr::null_mut(), c"_dl_find_object".as_ptr()) };
    DL_FIND_OBJECT.store(f as usize, Ordering::Release);
}

/// Whether objects can be looked up (`_dl_find_object` exists).
pub fn available() -> bool {
    DL_FIND_OBJECT.load(Ordering::Acquire) != 0
}

extern "C" {
    fn dlsym(handle: *mut c_void, name: *const c_char) -> *mut c_void;
    fn dl_iterate_phdr(
        cb: extern "C" fn(*mut DlPhdrInfo, usize, *mut c_void) -> c_int,
        data: *mut c_void,
    ) -> c_int;
    fn getauxval(kind: u64) -> u64;
}

/// A loaded object as `_dl_find_object` sees it.
#[derive(Clone, Copy, Debug)]
pub struct Object {
    /// Start of the object's mapping.
    pub map_start: u64,
    /// End of the object's mapping.
    pub map_end: u64,
    /// Address of its `PT_GNU_EH_FRAME` segment (`.eh_frame_hdr`), 0 if none.
    pub eh_frame_hdr: u64,
}

/// The loaded object containing `pc` (None: anonymous memory, JIT code, or
/// no `_dl_find_object`: see [`available`]).  Async-signal-safe.
pub fn find_object(pc: u64) -> Option<Object> {
    let f = DL_FIND_OBJECT.load(Ordering::Acquire);
    if f == 0 {
        return None;
    }
    // SAFETY: a non-zero value is the address of glibc's _dl_find_object,
    // stored by `init`.
    let f: DlFindObjectFn = unsafe { core::mem::transmute::<usize, DlFindObjectFn>(f) };
    let mut r = DlFindObject {
        flags: 0,
        map_start: core::ptr::null_mut(),
        map_end: core::ptr::null_mut(),
        link_map: core::ptr::null_mut(),
        eh_frame: core::ptr::null_mut(),
        reserved: [0; 7],
    };
    // SAFETY: `r` is a valid, writable struct dl_find_object; glibc only
    // looks `pc` up in its tables, it does not dereference it.
    if unsafe { f(pc as *mut c_void, &mut r) } != 0 {
        return None;
    }
    Some(Object {
        map_start: r.map_start as u64,
        map_end: r.map_end as u64,
        eh_frame_hdr: r.eh_frame as u64,
    })
}

/// A bounded reader over mapped memory `[pos, end)`.
struct Reader {
    pos: u64,
    lo: u64,
    end: u64,
}

impl Reader {
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        if self.pos < self.lo || self.pos.checked_add(N as u64)? > self.end {
            return None;
        }
        let mut b = [0u8; N];
        // SAFETY: [pos, pos + N) lies inside the object's mapping, which the
        // caller got from the loader (readable unwind data).
        unsafe { core::ptr::copy_nonoverlapping(self.pos as *const u8, b.as_mut_ptr(), N) };
        self.pos += N as u64;
        Some(b)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.bytes::<1>()?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes()?))
    }
    fn uleb(&mut self) -> Option<u64> {
        let (mut v, mut shift) = (0u64, 0u32);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
    }
    fn sleb(&mut self) -> Option<i64> {
        let (mut v, mut shift) = (0i64, 0u32);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= i64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
        }
    }
    /// A `DW_EH_PE_*` encoded pointer; `datarel` is the base for
    /// `DW_EH_PE_datarel` (the `.eh_frame_hdr` start).
    fn encoded(&mut self, enc: u8, datarel: u64) -> Option<u64> {
        const OMIT: u8 = 0xff;
        if enc == OMIT || enc & 0x80 != 0 {
            return None; // omitted, or indirect: not for code addresses
        }
        let field = self.pos;
        let v = match enc & 0x0f {
            0x00 | 0x04 => self.u64()?,
            0x01 => self.uleb()?,
            0x02 => u64::from(u16::from_le_bytes(self.bytes()?)),
            0x03 => u64::from(self.u32()?),
            0x09 => self.sleb()? as u64,
            0x0a => i16::from_le_bytes(self.bytes()?) as i64 as u64,
            0x0b => i32::from_le_bytes(self.bytes()?) as i64 as u64,
            0x0c => self.u64()?,
            _ => return None,
        };
        match enc & 0x70 {
            0x00 => Some(v),
            0x10 => Some(field.wrapping_add(v)),
            0x30 => Some(datarel.wrapping_add(v)),
            _ => None,
        }
    }
}

/// The FDE pointer encoding of the CIE at `cie` (`R` augmentation), and
/// whether it describes a signal trampoline (`S`).
fn cie_fde_encoding(r: &mut Reader) -> Option<(u8, bool)> {
    let len = r.u32()?;
    if len == 0xffff_ffff {
        r.u64()?; // 64-bit DWARF length
        if r.u64()? != 0 {
            return None;
        }
    } else if r.u32()? != 0 {
        return None; // not a CIE
    }
    let version = r.u8()?;
    if version != 1 && version != 3 {
        return None;
    }
    let mut aug = [0u8; 8];
    let mut n = 0;
    loop {
        let c = r.u8()?;
        if c == 0 {
            break;
        }
        if n == aug.len() {
            return None;
        }
        aug[n] = c;
        n += 1;
    }
    let aug = &aug[..n];
    if aug.starts_with(b"eh") {
        r.u64()?; // the old GNU "eh" data pointer
    }
    r.uleb()?; // code alignment
    r.sleb()?; // data alignment
    if version == 1 {
        r.u8()?;
    } else {
        r.uleb()?;
    } // return address register
    let mut enc = 0u8; // DW_EH_PE_absptr unless 'R' says otherwise
    let signal = aug.contains(&b'S');
    if aug.first() == Some(&b'z') {
        r.uleb()?; // augmentation data length
        for &c in &aug[1..] {
            match c {
                b'R' => enc = r.u8()?,
                b'P' => {
                    let penc = r.u8()? & 0x7f; // the personality may be indirect
                    r.encoded(penc, 0)?;
                }
                b'L' => {
                    r.u8()?;
                }
                b'S' | b'B' | b'G' => {}
                _ => return None,
            }
        }
    } else if !aug.is_empty() && aug != b"eh" {
        return None;
    }
    Some((enc, signal))
}

/// `(pc_begin, pc_end)` of the FDE at `fde`, reading inside `[lo, hi)`.
fn parse_fde(fde: u64, lo: u64, hi: u64) -> Option<(u64, u64)> {
    let mut r = Reader {
        pos: fde,
        lo,
        end: hi,
    };
    let len = r.u32()?;
    let cie_field;
    let cie_off;
    if len == 0xffff_ffff {
        r.u64()?;
        cie_field = r.pos;
        cie_off = r.u64()?;
    } else {
        cie_field = r.pos;
        cie_off = u64::from(r.u32()?);
    }
    if cie_off == 0 {
        return None; // a CIE, not an FDE
    }
    let mut c = Reader {
        pos: cie_field.checked_sub(cie_off)?,
        lo,
        end: hi,
    };
    let (enc, signal) = cie_fde_encoding(&mut c)?;
    let begin = r.encoded(enc, 0)?;
    let range = r.encoded(enc & 0x0f, 0)?; // same size, no application
    let end = begin.checked_add(range)?;
    // A signal trampoline's FDE starts one byte before its code (unwinders
    // look up return address - 1; glibc's __restore_rt).
    let begin = if signal && range > 1 {
        begin + 1
    } else {
        begin
    };
    Some((begin, end))
}

/// The `.eh_frame_hdr` binary search table: `(first entry, count)`.
fn table(hdr: u64, lo: u64, hi: u64) -> Option<(u64, u64)> {
    let mut r = Reader {
        pos: hdr,
        lo,
        end: hi,
    };
    let [version, ptr_enc, count_enc, table_enc] = r.bytes::<4>()?;
    // GCC, Clang and lld all emit datarel|sdata4 (0x3b) table entries.
    if version != 1 || table_enc != 0x3b {
        return None;
    }
    r.encoded(ptr_enc, hdr)?; // eh_frame_ptr
    let count = r.encoded(count_enc, hdr)?;
    let first = r.pos;
    if count == 0 || first.checked_add(count.checked_mul(8)?)? > hi {
        return None;
    }
    Some((first, count))
}

/// One table entry: (initial location, FDE address).
fn entry(hdr: u64, first: u64, i: u64, lo: u64, hi: u64) -> Option<(u64, u64)> {
    let mut r = Reader {
        pos: first + 8 * i,
        lo,
        end: hi,
    };
    let loc = hdr.wrapping_add(r.u32()? as i32 as i64 as u64);
    let fde = hdr.wrapping_add(r.u32()? as i32 as i64 as u64);
    Some((loc, fde))
}

/// Longest run of code without CFI inside one function that
/// [`function_bounds`] accepts.
const GAP: u64 = 64;

/// Bounds `[begin, end)` of the function containing `pc` in `obj`, from its
/// `.eh_frame_hdr`.  Async-signal-safe.
pub fn function_bounds(obj: &Object, pc: u64) -> Option<(u64, u64)> {
    let (hdr, lo, hi) = (obj.eh_frame_hdr, obj.map_start, obj.map_end);
    if hdr == 0 {
        return None;
    }
    let (first, count) = table(hdr, lo, hi)?;
    // The last entry whose initial location is <= pc.
    let (mut a, mut b) = (0u64, count);
    while b - a > 1 {
        let m = a + (b - a) / 2;
        if entry(hdr, first, m, lo, hi)?.0 <= pc {
            a = m;
        } else {
            b = m;
        }
    }
    let (loc, fde) = entry(hdr, first, a, lo, hi)?;
    if loc > pc {
        return None;
    }
    let (begin, mut end) = parse_fde(fde, lo, hi)?;
    if pc >= end && pc - end < GAP && a + 1 < count {
        // In a short gap no FDE covers, right after this one: glibc's clone
        // leaves its `syscall` outside CFI (between the parent's region and
        // the child's).  The gap up to the next FDE, and the FDEs adjacent
        // after it, belong to this function.
        let (nb, ne) = parse_fde(entry(hdr, first, a + 1, lo, hi)?.1, lo, hi)?;
        if pc < nb && nb - end <= GAP {
            end = ne;
            let mut i = a + 2;
            while i < count && i - a < 6 {
                match entry(hdr, first, i, lo, hi).and_then(|(_, f)| parse_fde(f, lo, hi)) {
                    Some((b, e)) if b == end => end = e,
                    _ => break,
                }
                i += 1;
            }
        }
    }
    if !(begin <= pc && pc < end) {
        return None;
    }
    Some((begin, end))
}

/// Calls `f(begin, end)` for every FDE of the object whose `.eh_frame_hdr`
/// is at `hdr`, reading inside `[lo, hi)`.
pub fn for_each_function(hdr: u64, lo: u64, hi: u64, mut f: impl FnMut(u64, u64)) {
    let Some((first, count)) = table(hdr, lo, hi) else {
        return;
    };
    for i in 0..count {
        if let Some((_, fde)) = entry(hdr, first, i, lo, hi) {
            if let Some((b, e)) = parse_fde(fde, lo, hi) {
                f(b, e);
            }
        }
    }
}

/// `struct dl_phdr_info` (the fields this file reads).
#[repr(C)]
struct DlPhdrInfo {
    addr: u64,
    name: *const c_char,
    phdr: *const Elf64Phdr,
    phnum: u16,
}

/// `Elf64_Phdr`.
#[repr(C)]
struct Elf64Phdr {
    p_type: u32,
    p_flags: u32,
    p_offset: u64,
    p_vaddr: u64,
    p_paddr: u64,
    p_filesz: u64,
    p_memsz: u64,
    p_align: u64,
}

const PT_LOAD: u32 = 1;
const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
const PF_X: u32 = 1;
const PF_R: u32 = 4;
const AT_SYSINFO_EHDR: u64 = 33;

/// A loaded object for eager mode.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Its `.eh_frame_hdr` (0: none).
    pub eh_frame_hdr: u64,
    /// Lowest and highest address of its `PT_LOAD` segments.
    pub span: (u64, u64),
    /// Its readable and executable `PT_LOAD` segments.
    pub code: Vec<(u64, u64)>,
}

extern "C" fn collect(info: *mut DlPhdrInfo, _size: usize, data: *mut c_void) -> c_int {
    // SAFETY: dl_iterate_phdr passes a valid info and our `data`, a
    // `Vec<Loaded>` that outlives the iteration; phdr has phnum entries.
    let (info, out) = unsafe { (&*info, &mut *(data as *mut Vec<Loaded>)) };
    // SAFETY: see above.
    let phdrs = unsafe { core::slice::from_raw_parts(info.phdr, usize::from(info.phnum)) };
    let mut l = Loaded {
        span: (u64::MAX, 0),
        ..Loaded::default()
    };
    for p in phdrs {
        let a = info.addr.wrapping_add(p.p_vaddr);
        match p.p_type {
            PT_GNU_EH_FRAME => l.eh_frame_hdr = a,
            PT_LOAD => {
                l.span = (l.span.0.min(a), l.span.1.max(a + p.p_memsz));
                if p.p_flags & (PF_X | PF_R) == PF_X | PF_R {
                    l.code.push((a, a + p.p_memsz));
                }
            }
            _ => {}
        }
    }
    out.push(l);
    0
}

/// Every loaded object except the vDSO (at init; allocates).
pub fn loaded_objects() -> Vec<Loaded> {
    let mut v: Vec<Loaded> = Vec::new();
    // SAFETY: `collect` matches the callback type and only uses `v`.
    unsafe { dl_iterate_phdr(collect, &mut v as *mut Vec<Loaded> as *mut c_void) };
    // SAFETY: getauxval reads the auxiliary vector.
    let vdso = unsafe { getauxval(AT_SYSINFO_EHDR) };
    v.retain(|l| !(l.span.0 <= vdso && vdso < l.span.1));
    v
}
