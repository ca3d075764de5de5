// SPDX-License-Identifier: GPL-2.0

//! trampfd: kernel-generated executable trampolines for unprivileged
//! programs, without any writable+executable memory.
//!
//! Userspace side (see `include/uapi/linux/trampfd.h` and
//! `Documentation/trampfd.rst`):
//!
//! ```c
//! int fd = open("/dev/trampfd", O_RDWR | O_CLOEXEC);
//! struct trampfd_info info;
//! ioctl(fd, TRAMPFD_IOC_GET_INFO, &info);
//! static __u64 code_table[4], data_table[4];   /* yours to change */
//! struct trampfd_code code = { 4, TRAMPFD_NATIVE_CODE_REG, (__u64)code_table };
//! struct trampfd_data data = { TRAMPFD_NATIVE_DATA_REG, 0, (__u64)data_table };
//! pwrite(fd, &code, sizeof(code), TRAMPFD_CODE_OFFSET);
//! pwrite(fd, &data, sizeof(data), TRAMPFD_DATA_OFFSET);
//! char *page = mmap(NULL, 4 * info.code_size, PROT_READ | PROT_EXEC,
//!                   MAP_PRIVATE, fd, info.code_offset);
//! /* page + X * info.code_size jumps to code_table[X] with data_table[X]
//!  * in the data register (r10 on x86-64, x17 on arm64, t2 on riscv64) */
//! ```
//!
//! `/dev/zpoline` (the `zpoline` module) exists on x86-64 only, with
//! `CONFIG_TRAMPFD_ZPOLINE` (in tree: the Kconfig option; out of tree: set
//! by `Kbuild` on x86-64 unless `make TRAMPFD_ZPOLINE=n`).

use kernel::prelude::*;

pub mod arch;
pub mod desc;
pub mod device;
pub mod ffi;
// The kernel-crate abstractions the driver uses that kernel 7.3 lacks
// (`rust/kernel_ext/`), always reached as `crate::kernel_ext::…`.
pub mod kernel_ext;
// The KUnit suites, in the test build only (`make modules KUNIT=1`).
#[cfg(trampfd_kunit)]
mod kunit;
pub mod miscdev;
pub mod stats;
pub mod uapi;
pub mod users;
pub mod vma;
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
pub mod zpoline;

module! {
    type: TrampfdModule,
    name: "trampfd",
    authors: ["The trampfd developers"],
    description: "Kernel-generated executable trampolines (/dev/trampfd)",
    license: "GPL",
    params: {
        max_user_trampfds: u32 {
            default: 65536,
            description: "Maximum number of live trampfds of one user (EMFILE beyond)",
        },
        zpoline_gid: u32 {
            default: 4294967295,
            description: "Group whose members may install /dev/zpoline pages (default: none)",
        },
        zpoline_require_xom: u32 {
            default: 0,
            description: "1: /dev/zpoline installs only execute-only pages (EOPNOTSUPP without pkeys)",
        },
    },
}

/// The module: owns the device registrations and the debugfs counters.
#[pin_data]
pub struct TrampfdModule {
    /// `/sys/kernel/debug/trampfd/`; removed before the counters go away.
    #[pin]
    debugfs: kernel::debugfs::Scope<()>,
    #[pin]
    trampfd: miscdev::ModeMiscDevice<device::Trampfd>,
    #[cfg(CONFIG_TRAMPFD_ZPOLINE)]
    #[pin]
    zpoline: miscdev::ModeMiscDevice<zpoline::Zpoline>,
}

impl kernel::InPlaceModule for TrampfdModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let max = module_parameters::max_user_trampfds.value();
        users::MAX_USER_TRAMPFDS.store(max, core::sync::atomic::Ordering::Relaxed);
        // SAFETY: called once per load, before the devices (the only users
        // of the per-user counts) are registered below.
        unsafe { users::init() };
        #[cfg(CONFIG_TRAMPFD_ZPOLINE)]
        zpoline::ZPOLINE_GID.store(
            module_parameters::zpoline_gid.value(),
            core::sync::atomic::Ordering::Relaxed,
        );
        #[cfg(CONFIG_TRAMPFD_ZPOLINE)]
        zpoline::ZPOLINE_REQUIRE_XOM.store(
            module_parameters::zpoline_require_xom.value() != 0,
            core::sync::atomic::Ordering::Relaxed,
        );
        pr_info!("loaded, max_user_trampfds={}\n", max);
        try_pin_init!(Self {
            debugfs <- stats::debugfs(),
            // World read/writable like /dev/null: the API is for
            // unprivileged programs and enforces its own rules.
            trampfd <- miscdev::ModeMiscDevice::register(c"trampfd", 0o666),
            // The policy is in ZPOLINE_IOC_INSTALL; opening is harmless.
            #[cfg(CONFIG_TRAMPFD_ZPOLINE)]
            zpoline <- miscdev::ModeMiscDevice::register(c"zpoline", 0o666),
        })
    }
}
