// SPDX-License-Identifier: GPL-2.0

//! The mapping (VMA) that holds an address, with the protection the kernel
//! keeps for it, read from `/proc/self/maps` with raw system calls into a
//! caller-provided buffer: no allocation, no stdio, async-signal-safe.

use crate::entry::sys;

/// One line of `/proc/self/maps`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Vma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// `PROT_READ`.
    pub read: bool,
    /// `PROT_WRITE`.
    pub write: bool,
    /// `PROT_EXEC`.
    pub exec: bool,
    /// `MAP_SHARED` (`s`) rather than private (`p`).
    pub shared: bool,
    /// `[vdso]`, `[vvar]`, `[vsyscall]` or another `[...]` special mapping
    /// other than `[heap]`/`[stack]`/`[anon:...]`.
    pub special: bool,
}

impl Vma {
    /// The `PROT_*` bits of this mapping.
    pub fn prot(&self) -> i64 {
        i64::from(self.read) | i64::from(self.write) << 1 | i64::from(self.exec) << 2
    }
}

/// Incremental parser of maps lines, fed byte by byte.
#[derive(Default)]
struct Line {
    field: u8,
    vma: Vma,
    perm: u8,
    name: [u8; 8],
    name_len: u8,
    in_gap: bool,
}

impl Line {
    fn hex(v: &mut u64, c: u8) {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return,
        };
        *v = *v << 4 | u64::from(d);
    }
    /// Feeds one byte; returns the finished VMA at the end of a line.
    fn feed(&mut self, c: u8) -> Option<Vma> {
        if c == b'\n' {
            let mut v = self.vma;
            let n = &self.name[..usize::from(self.name_len)];
            v.special = n.first() == Some(&b'[')
                && !n.starts_with(b"[heap]")
                && !n.starts_with(b"[stack")
                && !n.starts_with(b"[anon");
            *self = Line::default();
            return Some(v);
        }
        match self.field {
            0 if c == b'-' => self.field = 1,
            0 => Self::hex(&mut self.vma.start, c),
            1 if c == b' ' => self.field = 2,
            1 => Self::hex(&mut self.vma.end, c),
            2 if c == b' ' => self.field = 3,
            2 => {
                match (self.perm, c) {
                    (0, b'r') => self.vma.read = true,
                    (1, b'w') => self.vma.write = true,
                    (2, b'x') => self.vma.exec = true,
                    (3, b's') => self.vma.shared = true,
                    _ => {}
                }
                self.perm += 1;
            }
            // offset, device, inode, then the name after any spaces.
            3..=5 if c == b' ' => {
                self.field += 1;
                self.in_gap = true;
            }
            3..=5 => {}
            _ => {
                if self.in_gap && c == b' ' {
                    return None;
                }
                self.in_gap = false;
                if usize::from(self.name_len) < self.name.len() {
                    self.name[usize::from(self.name_len)] = c;
                    self.name_len += 1;
                }
            }
        }
        None
    }
}

const NR_READ: i64 = 0;
const NR_OPEN: i64 = 2;
const NR_CLOSE: i64 = 3;
const O_RDONLY_CLOEXEC: i64 = 0o2000000;

/// The mapping that contains `addr`: `Err(())` when `/proc/self/maps` cannot
/// be read, `Ok(None)` when nothing is mapped there.  `buf` is scratch
/// space (any size; larger means fewer reads).
#[allow(clippy::result_unit_err)]
pub fn find(addr: u64, buf: &mut [u8]) -> Result<Option<Vma>, ()> {
    let fd = sys(
        NR_OPEN,
        [
            c"/proc/self/maps".as_ptr() as i64,
            O_RDONLY_CLOEXEC,
            0,
            0,
            0,
            0,
        ],
    );
    if fd < 0 {
        return Err(());
    }
    let mut line = Line::default();
    let mut result = Ok(None);
    'read: loop {
        let n = sys(
            NR_READ,
            [fd, buf.as_mut_ptr() as i64, buf.len() as i64, 0, 0, 0],
        );
        if n < 0 {
            result = Err(());
            break;
        }
        if n == 0 {
            break;
        }
        for &c in &buf[..n as usize] {
            if let Some(v) = line.feed(c) {
                if v.start <= addr && addr < v.end {
                    result = Ok(Some(v));
                    break 'read;
                }
                if v.start > addr {
                    break 'read; // lines are sorted by address
                }
            }
        }
    }
    sys(NR_CLOSE, [fd, 0, 0, 0, 0, 0]);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Vma {
        let mut l = Line::default();
        s.bytes().find_map(|c| l.feed(c)).expect("a line")
    }

    #[test]
    fn parses_lines() {
        let v = parse("7f4577181000-7f45772d7000 r-xp 00026000 fe:01 1234   /usr/lib/libc.so.6\n");
        assert_eq!((v.start, v.end), (0x7f45_7718_1000, 0x7f45_772d_7000));
        assert!(v.read && !v.write && v.exec && !v.shared && !v.special);
        assert_eq!(v.prot(), 5);
        let v = parse("7ffd1000-7ffd3000 r-xp 00000000 00:00 0                  [vdso]\n");
        assert!(v.special);
        let v = parse("1000-2000 rwxs 00000000 00:01 7 /memfd:jit (deleted)\n");
        assert!(v.write && v.shared && !v.special && v.prot() == 7);
        let v = parse("1000-2000 --xp 00000000 00:00 0\n");
        assert!(!v.read && v.exec && v.prot() == 4 && !v.special);
        let v = parse("1000-2000 rw-p 00000000 00:00 0    [heap]\n");
        assert!(!v.special);
    }

    #[test]
    fn finds_own_text() {
        let here = finds_own_text as *const () as u64;
        let mut buf = [0u8; 512];
        let v = find(here, &mut buf).expect("maps").expect("mapped");
        assert!(v.start <= here && here < v.end && v.exec && v.read && !v.write);
        assert_eq!(find(8, &mut buf), Ok(None));
    }
}
