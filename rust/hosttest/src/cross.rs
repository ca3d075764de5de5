// SPDX-License-Identifier: GPL-2.0

//! Host-only helper: run a rendered trampoline page of another architecture
//! under QEMU user mode, with `runner/run_page.c` cross-compiled static.
//! The cross compilers and `qemu-user` come from `scripts/bootstrap`.

use crate::arch::Encoder;
use crate::desc::{render_page, Code, Data};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Where `run_page` maps the code table; the data table is 0x800 above.
pub const TABLES: u64 = 0x1000_0000;

/// A foreign architecture the page can be executed for.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// arm64, via `aarch64-linux-gnu-gcc` and `qemu-aarch64`.
    Arm64,
    /// riscv64, via `riscv64-linux-gnu-gcc` and `qemu-riscv64`.
    Riscv64,
}

impl Target {
    fn gcc(self) -> &'static str {
        match self {
            Target::Arm64 => "aarch64-linux-gnu-gcc",
            Target::Riscv64 => "riscv64-linux-gnu-gcc",
        }
    }

    fn qemu(self) -> &'static str {
        match self {
            Target::Arm64 => "qemu-aarch64",
            Target::Riscv64 => "qemu-riscv64",
        }
    }

    /// The offsets in slot 0 that `run_page` executes expecting a trap, in
    /// the order it prints them (its `slot_traps[]`): the zero words that no
    /// path through the slot reaches.
    pub fn slot_traps(self) -> &'static [usize] {
        match self {
            Target::Arm64 => &[40],
            Target::Riscv64 => &[48],
        }
    }

    /// `run_page`'s lines for [`Target::slot_traps`].
    fn trap_lines(self) -> String {
        self.slot_traps()
            .iter()
            .map(|t| format!("trap {t}\n"))
            .collect()
    }

    /// The static runner, built once per test process and target.
    fn runner(self) -> PathBuf {
        static BUILT: [OnceLock<PathBuf>; 2] = [OnceLock::new(), OnceLock::new()];
        BUILT[self as usize]
            .get_or_init(|| self.build_runner())
            .clone()
    }

    fn build_runner(self) -> PathBuf {
        let dir = std::env::temp_dir().join("trampfd-hosttest");
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join(format!("run_page-{}", self.gcc()));
        let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runner");
        // Build to a per-process name and rename: test binaries run in
        // parallel.
        let tmp = dir.join(format!("run_page-{}.{}", self.gcc(), std::process::id()));
        let st = Command::new(self.gcc())
            .args(["-static", "-O2", "-Wall", "-Werror", "-o"])
            .arg(&tmp)
            .arg(src.join("run_page.c"))
            .arg(src.join("target.S"))
            .status()
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/bootstrap)", self.gcc()));
        assert!(st.success(), "cross-compiling run_page for {self:?}");
        std::fs::rename(&tmp, &exe).unwrap();
        exe
    }

    /// Runs `page` with `n` live trampolines for the given registers; returns
    /// the runner's stdout, panicking with its output if it failed.
    pub fn run(self, page: &[u8], code_reg: u32, data_reg: u32, n: u32) -> String {
        self.run_with(page, code_reg, data_reg, n, &[])
    }

    /// [`Target::run`] with extra runner arguments (`bti` on arm64).
    pub fn run_with(
        self,
        page: &[u8],
        code_reg: u32,
        data_reg: u32,
        n: u32,
        extra: &[&str],
    ) -> String {
        let mut child = Command::new(self.qemu())
            .arg(self.runner())
            .args([code_reg.to_string(), data_reg.to_string(), n.to_string()])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (run scripts/bootstrap)", self.qemu()));
        child.stdin.take().unwrap().write_all(page).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{self:?} run_page failed ({}): {text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }
}

/// Renders a 4 KiB page with `n` trampolines of encoder `E` whose tables are
/// the ones `run_page` maps at [`TABLES`].
pub fn render<E: Encoder>(n: u32, code_reg: u32, data_reg: u32) -> Vec<u8> {
    let mut page = vec![0u8; 4096];
    let code = Code {
        ntrampolines: n,
        reg: code_reg,
        table: TABLES,
    };
    let data = Data {
        reg: data_reg,
        table: TABLES + 0x800,
    };
    render_page::<E>(&mut page, code, data);
    page
}

/// Disassembles `bytes` at address `ip`, one "mnemonic operands" string per
/// instruction; stops at the first word capstone cannot decode.
pub fn disasm(cs: &capstone::Capstone, bytes: &[u8], ip: u64) -> Vec<String> {
    let insns = cs.disasm_all(bytes, ip).expect("capstone");
    insns
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i.mnemonic().unwrap_or("?"),
                i.op_str().unwrap_or("")
            )
        })
        .collect()
}

/// Runs a page of encoder `E` with every slot live for one register pair
/// and checks that the runner reached every slot, saw the live-table update
/// and trapped at every [`Target::slot_traps`] offset of slot 0.
pub fn check_full_page<E: Encoder>(target: Target, code_reg: u32, data_reg: u32) {
    let n = (4096 / E::CODE_SIZE) as u32;
    let out = target.run(&render::<E>(n, code_reg, data_reg), code_reg, data_reg, n);
    let slots = out.lines().filter(|l| l.starts_with("slot ")).count();
    assert_eq!(slots, n as usize, "{out}");
    assert!(out.contains("live\n"), "{out}");
    assert!(
        out.contains(&format!("live\n{}", target.trap_lines())),
        "{out}"
    );
}

/// Runs three live slots of encoder `E` for each (code, data) pair and
/// checks the calls, the live tables and that both the zero words of slot 0
/// and the first unused slot trap.
pub fn check_pairs<E: Encoder>(target: Target, pairs: &[(u32, u32)]) {
    for &(c, d) in pairs {
        let out = target.run(&render::<E>(3, c, d), c, d, 3);
        let want = format!(
            "slot 2\nlive\n{}trap {}\n",
            target.trap_lines(),
            3 * E::CODE_SIZE
        );
        assert!(out.contains(&want), "registers {c}/{d}: {out}");
    }
}
