// SPDX-License-Identifier: GPL-2.0

//! The x86-64 zpoline page, installed at virtual address 0.
//!
//! A `syscall` (0f 05) rewritten to `call *%rax` (ff d0) calls address
//! `%rax`, the syscall number. Whatever byte of the page that is, the code
//! from there must reach the stub at the end of the page, which jumps to
//! the process's hook, without touching a register, a flag or memory.
//! `Documentation/zpoline.rst` ("Page layout") has the full argument; in
//! short:
//!
//! ```text
//! offset        8-byte cells, then the tail and the stub
//! 0 .. 591      jump cells    eb RR 66 66 66 66 66 90   jmp +RR+2 (104 bytes
//!                                                        mostly); inside: nop
//! 592           station E     e9 4b 07 00 00            jmp 2464  (long jump)
//!                             48 eb 48                  jmp 672   (rex.w)
//! 600 .. 2463   jump cells
//! 2464          station Q     e9 4a 06 00 00            jmp 4079  (long jump)
//!                             48 eb 48                  jmp 2544  (rex.w)
//! 2472 .. 3983  jump cells
//! 3984 .. 4078  tail          66 .. 66 90               nops, into the stub
//! 4079 .. 4095  stub          48 8b 0c 24               mov    rcx, [rsp]
//!                             49 bb <imm64>             movabs r11, hook
//!                             41 ff e3                  jmp    r11
//! ```
//!
//! Every entry inside a jump cell but its first byte decodes as one `nop`
//! with prefixes, ending at the next cell; the first byte jumps ahead by a
//! multiple of 8 (the rel8 byte `RR` is itself such a prefix, `66`, `4e`,
//! `46`, `3e`, `36`, `2e`, `26` or `65`). The jumps before a station
//! ("funnel", [`FUNNEL`]) gather the 13 chains of 104-byte hops into it, so
//! every offset below [`FAST_LEN`] reaches the stub in at most 9
//! instructions: at most one nop, at most six short jumps to station E, two
//! long jumps. A short jump moves at most 105 bytes (a larger rel8 byte is
//! not a harmless instruction), and a long jump's immediate holds bytes
//! that must not run: entering a station at its bytes 1..4 ([`HOLES`])
//! executes `#UD` (`06`, `07`, or a REX prefix before them: SIGILL) or a
//! write to `[rax]` / `[rax-21]` inside this never-writable page (SIGSEGV),
//! which faults before anything changes. Offsets from [`STUB_OFFSET`] on are
//! the stub's own bytes (the hook address among them): never call there.
//!
//! The hook runs with the syscall number in `rax`, the arguments in `rdi`,
//! `rsi`, `rdx`, `r10`, `r8`, `r9` exactly as the `syscall` instruction
//! would have seen them, the return address at `[rsp]` and in `rcx`; it
//! clobbers only `rcx` and `r11`, which `syscall` clobbers too. The hook
//! returns with `ret`, the result in `rax`. The hook address is an
//! instruction immediate, so nothing in the page reads data from it and it
//! works when the page is execute-only. All jumps are relative: the page
//! runs the same at any address (the host tests run it away from 0).

/// Size of a cell: every short jump moves by a multiple of it.
pub const CELL: usize = 8;
/// Offsets `0..FAST_LEN` (every x86-64 syscall number; x32 numbers have bit
/// 30 set) reach the stub in at most [`FAST_MAX_INSNS`] instructions and
/// are never holes.
pub const FAST_LEN: usize = 512;
/// The most instructions (nops and jumps) from an offset below [`FAST_LEN`]
/// to the stub.
pub const FAST_MAX_INSNS: usize = 9;
/// Offset of station E, the long jump every offset below [`FAST_LEN`] goes
/// through.
pub const ENTRY_STATION: usize = 592;
/// Offset of station Q, E's target, which long-jumps to the stub.
pub const MID_STATION: usize = 2464;
/// Start of the tail of plain nops that slides into the stub.
pub const TAIL: usize = 3984;
/// Offset of the stub, at the end of the page; the install reply's
/// `sled_len`: every offset below it reaches the stub except [`HOLES`].
pub const STUB_OFFSET: usize = 4079;
/// What the install reply reports as `sled_len`.
pub const SLED_LEN: usize = STUB_OFFSET;
/// Offset of the 8-byte hook address inside the stub's `movabs`.
pub const HOOK_IMM_OFFSET: usize = STUB_OFFSET + 6;
/// First byte after the stub: the end of the 4 KiB page.
pub const STUB_END: usize = STUB_OFFSET + 17;
/// The offsets below [`STUB_OFFSET`] that do not reach the stub: bytes 1..4
/// of each station. Calling one faults before any state changes (see the
/// module comment).
pub const HOLES: [usize; 8] = [
    ENTRY_STATION + 1,
    ENTRY_STATION + 2,
    ENTRY_STATION + 3,
    ENTRY_STATION + 4,
    MID_STATION + 1,
    MID_STATION + 2,
    MID_STATION + 3,
    MID_STATION + 4,
];

/// `nop` (`xchg eax, eax`): ends every cell and the tail.
const NOP: u8 = 0x90;
/// Operand-size prefix: before `nop` it gives the documented 2-byte nop
/// `66 90`; repeated, a longer nop.
const OSIZE: u8 = 0x66;
/// `jmp rel8`.
const JMP8: u8 = 0xeb;
/// `jmp rel32`.
const JMP32: u8 = 0xe9;
/// REX.W prefix: no effect on a jump; as a ModRM byte (mod 01, rm 000) it
/// makes the `00` before it address `[rax+disp8]`.
const REXW: u8 = 0x48;
/// `int3`: bytes past the stub if the page were larger than 4 KiB.
const INT3: u8 = 0xcc;

/// rel8 of an ordinary jump cell: 0x66 (the `66` prefix when entered),
/// a jump of 104 bytes, 13 cells.
const HOP: u8 = 0x66;
/// rel8 of the last jump cell before the tail (3976): 0x65 (the `gs`
/// prefix when entered), a jump of 103 bytes, exactly onto the stub.
const LAST_HOP: u8 = 0x65;

/// rel8 of the 17 cells before a station, nearest first: entry `j` is for
/// the cell at `station - 8 * (j + 1)`. The cells 40..136 bytes before the
/// station are where the 13 chains of 104-byte hops arrive; each jumps to
/// the station (distance `rel8 + 2`) or to a cell that does. Every rel8
/// byte is a prefix (`26` es, `2e` cs, `36` ss, `3e` ds, `46`/`4e` REX
/// without B, `66`), so the cell's second byte still starts a nop.
pub const FUNNEL: [u8; 17] = [
    HOP,  // -8:   jump past the station (too close for a prefix-sized jump)
    HOP,  // -16:  same
    HOP,  // -24:  same
    HOP,  // -32:  same
    0x26, // -40:  jmp +40  -> station
    0x2e, // -48:  jmp +48  -> station
    0x36, // -56:  jmp +56  -> station
    0x3e, // -64:  jmp +64  -> station
    0x46, // -72:  jmp +72  -> station
    0x4e, // -80:  jmp +80  -> station
    0x2e, // -88:  jmp +48  -> cell -40
    0x36, // -96:  jmp +56  -> cell -40
    HOP,  // -104: jmp +104 -> station
    0x46, // -112: jmp +72  -> cell -40
    0x4e, // -120: jmp +80  -> cell -40
    0x4e, // -128: jmp +80  -> cell -48
    0x4e, // -136: jmp +80  -> cell -56
];

/// rel32 of station E's `jmp`: to station Q. Bytes `4b 07 00 00`: entered,
/// `4b 07` is REX + `pop es` and `07` is `pop es`, both invalid in 64-bit
/// mode (#UD); `00 00` is `add [rax], al`; `00 48 eb` is
/// `add [rax-0x15], cl`.
const ENTRY_REL32: u32 = 0x74b;
/// rel32 of station Q's `jmp`: to the stub. Bytes `4a 06 00 00`: REX +
/// `push es` and `push es` (#UD), then the same two writes as above.
const MID_REL32: u32 = 0x64a;
const _: () = assert!(ENTRY_STATION + 5 + ENTRY_REL32 as usize == MID_STATION);
const _: () = assert!(MID_STATION + 5 + MID_REL32 as usize == STUB_OFFSET);
const _: () = assert!(ENTRY_STATION % CELL == 0 && MID_STATION % CELL == 0 && TAIL % CELL == 0);
const _: () = assert!(TAIL - CELL + 2 + LAST_HOP as usize == STUB_OFFSET);
const _: () = assert!(ENTRY_STATION >= FAST_LEN - 1 && MID_STATION > ENTRY_STATION + 17 * CELL);

/// The rel8 of the jump cell at `at` (a multiple of [`CELL`], not a
/// station, below [`TAIL`]).
fn rel8_at(at: usize) -> u8 {
    for station in [ENTRY_STATION, MID_STATION] {
        if at < station && station - at <= FUNNEL.len() * CELL {
            return FUNNEL[(station - at) / CELL - 1];
        }
    }
    if at == TAIL - CELL {
        LAST_HOP
    } else {
        HOP
    }
}

/// A jump cell: `jmp rel8` (`eb rel8`), then five `66` and a `nop`. Entered
/// at byte 1..7 it is one `nop` (prefixes `rel8 66 .. 66`, then `90`)
/// ending at the next cell.
fn jump_cell(rel8: u8) -> [u8; CELL] {
    [JMP8, rel8, OSIZE, OSIZE, OSIZE, OSIZE, OSIZE, NOP]
}

/// A station: `jmp rel32` (`e9 rel32`), then `rex.w jmp +0x48` (`48 eb
/// 48`, to 80 bytes after the cell). Byte 6 is `jmp +0x48` alone, to the
/// same place; byte 7 is a REX.W prefix on the next cell's first
/// instruction, the same jump as that cell's. Bytes 1..4 are holes.
fn station(rel32: u32) -> [u8; CELL] {
    let r = rel32.to_le_bytes();
    [JMP32, r[0], r[1], r[2], r[3], REXW, JMP8, REXW]
}

/// Writes the page for `hook` through `put(offset, bytes)`; `page_size`
/// must be at least [`STUB_END`] (4096).
pub fn render_page(page_size: usize, hook: u64, mut put: impl FnMut(usize, &[u8])) {
    let mut at = 0;
    while at < TAIL {
        let cell = match at {
            ENTRY_STATION => station(ENTRY_REL32),
            MID_STATION => station(MID_REL32),
            _ => jump_cell(rel8_at(at)),
        };
        put(at, &cell);
        at += CELL;
    }
    // The tail: eleven 8-byte nops (seven `66` prefixes and `90`), then a
    // 7-byte one; entered anywhere, each is one nop to its end.
    let tail = [OSIZE, OSIZE, OSIZE, OSIZE, OSIZE, OSIZE, OSIZE, NOP];
    while at + CELL <= STUB_OFFSET {
        put(at, &tail);
        at += CELL;
    }
    put(at, &tail[CELL - (STUB_OFFSET - at)..]);
    let mut stub = [0u8; STUB_END - STUB_OFFSET];
    // mov rcx, [rsp]: REX.W 8B /r, ModRM 00 001 100 (rcx, SIB), SIB 00 100 100 (rsp).
    stub[0..4].copy_from_slice(&[0x48, 0x8b, 0x0c, 0x24]);
    // movabs r11, imm64: REX.W+B, B8+3.
    stub[4] = 0x49;
    stub[5] = 0xbb;
    stub[6..14].copy_from_slice(&hook.to_le_bytes());
    // jmp r11: REX.B, FF /4, ModRM 11 100 011.
    stub[14..17].copy_from_slice(&[0x41, 0xff, 0xe3]);
    put(STUB_OFFSET, &stub);
    let traps = [INT3; 64];
    let mut at = STUB_END;
    while at < page_size {
        let n = core::cmp::min(traps.len(), page_size - at);
        put(at, &traps[..n]);
        at += n;
    }
}
