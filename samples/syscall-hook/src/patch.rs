// SPDX-License-Identifier: GPL-2.0

//! Rewriting `syscall` (0f 05) into `call *%rax` (ff d0), and the set of
//! rewritten sites that the hook checks every return address against.
//!
//! A rewrite is one 2-byte store that does not cross a cache line, so a
//! thread running the site sees either the old or the new instruction,
//! never a torn one, and both are correct: the old one traps into SUD and
//! the handler finds the site already rewritten. Sites whose two bytes
//! straddle a cache line stay on the SUD path.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::entry::{self, sys};

/// Open-addressing set of rewritten site addresses (0 = empty).
const SITES: usize = 1 << 16;
#[no_mangle]
pub static shl_site_set: [AtomicU64; SITES] = [const { AtomicU64::new(0) }; SITES];
/// Serialises rewrites (the mprotect dance of two rewrites must not mix).
static PATCH_LOCK: AtomicBool = AtomicBool::new(false);

fn slot(addr: u64) -> usize {
    (addr.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 48) as usize % SITES
}

/// Whether `addr` is a site this library rewrote.
pub fn is_site(addr: u64) -> bool {
    let mut i = slot(addr);
    for _ in 0..SITES {
        match shl_site_set[i].load(Ordering::Acquire) {
            0 => return false,
            a if a == addr => return true,
            _ => i = (i + 1) % SITES,
        }
    }
    false
}

fn insert_site(addr: u64) -> bool {
    let mut i = slot(addr);
    for _ in 0..SITES {
        match shl_site_set[i].compare_exchange(0, addr, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return true,
            Err(a) if a == addr => return true,
            Err(_) => i = (i + 1) % SITES,
        }
    }
    false
}

const NR_MPROTECT: i64 = 10;
const PROT_RX: i64 = 5;
const PROT_RWX: i64 = 7;

fn in_library(addr: u64) -> bool {
    let start = entry::shl_text_start as *const () as u64;
    let end = entry::shl_text_end as *const () as u64;
    (start..end).contains(&addr)
}

/// Rewrites the `syscall` at `site` (its bytes must be `0f 05`). Returns
/// whether the site now is (or already was) `call *%rax`.
pub fn rewrite(site: u64) -> bool {
    if in_library(site) || site % 64 == 63 {
        return false;
    }
    while PATCH_LOCK
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    let page = site & !4095;
    let len = if (site + 1) & !4095 != page {
        8192
    } else {
        4096
    };
    let mut ok = false;
    // SAFETY: `site` holds two bytes of mapped code (it just trapped or was
    // decoded); they are read, and written only while the pages are
    // writable, with one 2-byte store.
    unsafe {
        let p = site as *const u8;
        let cur = [p.read_volatile(), p.add(1).read_volatile()];
        if cur == [0xff, 0xd0] {
            ok = true;
        } else if cur == [0x0f, 0x05]
            // Known before it exists: another thread may run the new call
            // right after the store, and the hook checks the set.
            && insert_site(site)
            && sys(NR_MPROTECT, [page as i64, len, PROT_RWX, 0, 0, 0]) == 0
        {
            core::arch::asm!("movw $0xd0ff, ({0})", in(reg) site, options(att_syntax, nostack));
            sys(NR_MPROTECT, [page as i64, len, PROT_RX, 0, 0, 0]);
            ok = true;
        }
    }
    if ok {
        ok = insert_site(site);
    }
    PATCH_LOCK.store(false, Ordering::Release);
    ok
}

/// Eager mode: rewrites every `syscall` a linear decode of the executable
/// mappings finds (except this library, the vDSO and vsyscall).
pub fn rewrite_all_executable() -> usize {
    use iced_x86::{Decoder, DecoderOptions, Mnemonic};
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let mut n = 0;
    for line in maps.lines() {
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms)) = (f.next(), f.next()) else {
            continue;
        };
        if !perms.starts_with("r-x") || line.contains("[vdso]") || line.contains("[vsyscall]") {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
            continue;
        };
        if start == 0 || in_range(start, end) {
            continue;
        }
        // SAFETY: the range is a readable, executable mapping of this process.
        let code =
            unsafe { core::slice::from_raw_parts(start as *const u8, (end - start) as usize) };
        let mut d = Decoder::with_ip(64, code, start, DecoderOptions::NONE);
        let mut sites = Vec::new();
        for ins in &mut d {
            if ins.mnemonic() == Mnemonic::Syscall {
                sites.push(ins.ip());
            }
        }
        for s in sites {
            n += usize::from(rewrite(s));
        }
    }
    n
}

fn in_range(start: u64, end: u64) -> bool {
    let lib = entry::shl_text_start as *const () as u64;
    (start..end).contains(&lib)
}
