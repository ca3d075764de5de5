// SPDX-License-Identifier: GPL-2.0

//! Per-thread state of the hook: the layout of the initial-exec TLS block
//! that `entry.rs` defines in `.tbss`, the per-thread hook stack, and the
//! extended-state (xsave) configuration the slow path uses.
//!
//! The block is initial-exec TLS (`sym@gottpoff` + `%fs:`): valid because
//! the library is loaded with the program (`LD_PRELOAD`), so its TLS block
//! is part of the static TLS set that glibc places at a fixed offset from
//! the thread pointer of every thread, zero-initialised (`.tbss`) before
//! the thread runs. No `__tls_get_addr` call (which may allocate) is ever
//! needed, so the asm entry can reach it with two instructions and no
//! stack.
//!
//! Every thread gets its own hook stack lazily, on its first slow-path
//! entry: a raw anonymous mapping (`MAP_NORESERVE`, so only touched pages
//! cost memory) with a `PROT_NONE` guard page at the bottom. A thread that
//! exits with `exit` (60) unmaps its own stack (only the thread that
//! allocated it, checked by thread id: a `vfork` child or a `CLONE_VM`
//! child without `CLONE_SETTLS` shares the parent's block).

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Offsets in the TLS block (bytes), shared with the asm in `entry.rs`.
pub mod off {
    /// Top (highest address, exclusive) of this thread's hook stack; 0 until
    /// allocated.
    pub const TOP: usize = 0;
    /// Lowest usable address of the hook stack (just above the guard page).
    pub const LOW: usize = 8;
    /// Lowest frame of the hook stack that a slow-path entry is using (0:
    /// none). A nested entry from another stack (a handler on a
    /// `sigaltstack` that interrupted the hook) starts `NEST_GAP` below it.
    pub const INUSE: usize = 16;
    /// Reentrancy guard: non-zero while a callback (C callback, tracer,
    /// counter table) runs on this thread.
    pub const GUARD: usize = 24;
    /// vfork: the return address, kept off the stack the child shares.
    pub const VF_RET: usize = 32;
    /// vfork: the caller's rflags.
    pub const VF_FLAGS: usize = 40;
    /// vfork: the caller's rsp (the rsp of the site).
    pub const VF_RSP: usize = 48;
    /// vfork: INUSE before the call (the child may exec from a slow frame).
    pub const VF_INUSE: usize = 56;
    /// vfork: GUARD before the call.
    pub const VF_GUARD: usize = 64;
    /// clone3: non-zero while `C3_BUF` holds a copy being passed to clone3.
    pub const C3_BUSY: usize = 72;
    /// Thread id of the thread that allocated the hook stack.
    pub const OWNER: usize = 80;
    /// clone3: copy of `struct clone_args` (at most `C3_MAX` bytes).
    pub const C3_BUF: usize = 128;
    /// Size of the block.
    pub const SIZE: usize = 256;
}

/// Largest part of `struct clone_args` the clone3 path copies (the
/// kernel's is 88 bytes today); a larger struct must have a zero tail,
/// which is dropped (else -E2BIG, as the kernel answers).
pub const C3_MAX: usize = 128;
/// Usable size of a hook stack.
pub const STACK_SIZE: usize = 256 * 1024;
/// Size of the guard page below it.
pub const GUARD_SIZE: usize = 4096;
/// How far below an interrupted slow frame a nested entry from another
/// stack (a `sigaltstack` handler) starts: the most the interrupted Rust
/// dispatch and its callback may use.
pub const NEST_GAP: usize = 64 * 1024;

/// How the slow path saves the extended state, read by `entry.rs`.
#[repr(C)]
pub struct XState {
    /// Bytes to reserve for the save area (64-byte aligned by the asm).
    pub size: AtomicU64,
    /// 0: `fxsave64` (no XSAVE), 1: `xsave64`, 2: `xsavec64`.
    pub mode: AtomicU64,
    /// XCR0 (the mask passed in edx:eax), low half then high half.
    pub xcr0: [AtomicU32; 2],
}

/// XCR0 bits of the AMX components (17: XTILECFG, 18: XTILEDATA).
const AMX_COMPONENTS: u64 = 3 << 17;

/// XCR0 bit of PKRU (9): the protection-key rights, which the hooked
/// syscall itself may change (`pkey_alloc` with an initial value, a
/// callback's `pkey_set`): left out of the save mask, so that the slow
/// path's `xrstor` keeps the post-syscall PKRU instead of reverting it.
pub const PKRU_COMPONENT: u64 = 1 << 9;

/// The extended-state configuration, filled in by [`init_xstate`].
#[no_mangle]
pub static shl_xstate: XState = XState {
    size: AtomicU64::new(1024),
    mode: AtomicU64::new(0),
    xcr0: [AtomicU32::new(3), AtomicU32::new(0)],
};

/// Reads CPUID and XCR0 and chooses `xsavec`, `xsave` or `fxsave`:
/// (area size, mode: 0 fxsave, 1 xsave, 2 xsavec, save mask).
///
/// Every component enabled in XCR0 is saved (x87, SSE, AVX, AVX-512
/// opmask/zmm... whatever the kernel enabled) but AMX's and PKRU, into an
/// area of the size the CPU reports for XCR0.
pub fn choose_xstate() -> (u64, u64, u64) {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    let leaf1 = __cpuid(1);
    let osxsave = leaf1.ecx & (1 << 27) != 0;
    let max_leaf = __cpuid(0).eax;
    if !osxsave || max_leaf < 0xd {
        // fxsave64: 512 bytes; 576 so that the asm may clear a "header".
        return (576, 0, 3);
    }
    // SAFETY: OSXSAVE is set, so XGETBV with ecx = 0 is allowed.
    let xcr0: u64 = unsafe { core::arch::x86_64::_xgetbv(0) };
    // AMX tile state (XTILECFG, XTILEDATA) is left out: nothing the library
    // runs touches it, and restoring it would fault (#NM) in a process
    // without AMX permission (the kernel arms XFD for it).
    // PKRU is left out too: it is state the syscall may change, not state
    // the library's own code uses (see PKRU_COMPONENT).
    let xcr0 = xcr0 & !(AMX_COMPONENTS | PKRU_COMPONENT);
    let d0 = __cpuid_count(0xd, 0);
    let d1 = __cpuid_count(0xd, 1);
    let xsavec = d1.eax & (1 << 1) != 0;
    // d0.ebx: standard-format size for the components enabled in XCR0;
    // d1.ebx: compacted size for XCR0 | IA32_XSS (an upper bound of the
    // compacted size for XCR0 alone).
    let size = u64::from(d0.ebx.max(d1.ebx).max(576));
    (size, if xsavec { 2 } else { 1 }, xcr0)
}

/// Fills in [`shl_xstate`] from [`choose_xstate`]. Runs at load even under
/// SYSCALLHOOK_DISABLE: a benchmark or test that calls `shl_hook_entry`
/// from its own page then times and checks the save the real library
/// uses, not the `fxsave` default (which also misses ymm/zmm upper halves).
pub fn init_xstate() {
    let (size, mode, mask) = choose_xstate();
    shl_xstate.size.store(size, Ordering::Relaxed);
    shl_xstate.xcr0[0].store(mask as u32, Ordering::Relaxed);
    shl_xstate.xcr0[1].store((mask >> 32) as u32, Ordering::Relaxed);
    shl_xstate.mode.store(mode, Ordering::Relaxed);
}

/// A pointer to this thread's TLS block (see [`off`]).
pub fn tls() -> *mut u64 {
    // SAFETY: `shl_tls_ptr` only computes %fs:0 + the block's offset.
    unsafe { crate::entry::shl_tls_ptr() }
}

/// Reads one slot of this thread's TLS block.
pub fn get(offset: usize) -> u64 {
    // SAFETY: `offset` is one of `off::*`, inside the block.
    unsafe { tls().byte_add(offset).read_volatile() }
}

/// Writes one slot of this thread's TLS block.
pub fn set(offset: usize, v: u64) {
    // SAFETY: `offset` is one of `off::*`, inside the block; only this
    // thread (or a vfork child of it, while it is suspended) touches it.
    unsafe { tls().byte_add(offset).write_volatile(v) }
}

/// Runs `f` with the reentrancy guard set: syscalls `f` makes (rewritten or
/// trapped) go straight to the kernel without hooks.
pub fn guarded<R>(f: impl FnOnce() -> R) -> R {
    let old = get(off::GUARD);
    set(off::GUARD, old + 1);
    let r = f();
    set(off::GUARD, old);
    r
}

/// Whether a callback is running on this thread.
pub fn in_callback() -> bool {
    get(off::GUARD) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The save mask never has PKRU (the syscall may change it, item 10 of
    /// issue 21) nor AMX's tiles, whatever XCR0 this CPU has.
    #[test]
    fn xstate_mask_leaves_pkru_and_amx_out() {
        let (_, _, mask) = choose_xstate();
        assert_eq!(
            mask & (PKRU_COMPONENT | AMX_COMPONENTS),
            0,
            "mask {mask:#x}"
        );
    }

    /// The load-time constructor chose the real save even under
    /// SYSCALLHOOK_DISABLE=1 (how `cargo test` and the host benchmark's
    /// library rows run): the bench's "+ C callback" rows time the
    /// `xsavec` path the preloaded library takes (issue 21).
    #[test]
    fn xstate_chosen_at_load_even_when_disabled() {
        let got = (
            shl_xstate.size.load(Ordering::Relaxed),
            shl_xstate.mode.load(Ordering::Relaxed),
            u64::from(shl_xstate.xcr0[0].load(Ordering::Relaxed))
                | u64::from(shl_xstate.xcr0[1].load(Ordering::Relaxed)) << 32,
        );
        assert_eq!(got, choose_xstate());
    }

    /// capstone (trampfd-hosttest) is a test-only dependency: the library
    /// itself links only what src/ uses (issue 21, item 14).
    #[test]
    fn hosttest_is_a_dev_dependency() {
        let manifest = include_str!("../Cargo.toml");
        let deps = manifest
            .split("\n[dependencies]\n")
            .nth(1)
            .expect("a [dependencies] table")
            .split("\n[")
            .next()
            .unwrap_or("");
        assert!(
            !deps.contains("trampfd-hosttest"),
            "[dependencies] has trampfd-hosttest:\n{deps}"
        );
    }
}
