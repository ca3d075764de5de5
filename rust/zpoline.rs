// SPDX-License-Identifier: GPL-2.0

//! `/dev/zpoline`: installs a kernel-generated syscall trampoline page at
//! virtual address 0 in processes that are allowed to have one.
//!
//! Userspace side (`include/uapi/linux/zpoline.h`,
//! `Documentation/zpoline.rst`):
//!
//! ```c
//! int fd = open("/dev/zpoline", O_RDONLY | O_CLOEXEC);
//! struct zpoline_cfg cfg = { .hook = (__u64)my_hook };
//! ioctl(fd, ZPOLINE_IOC_INSTALL, &cfg);   /* page at 0, cfg.result set,
//!                                         cfg.sled_len = stub offset */
//! close(fd);                              /* the mapping stays */
//! ```
//!
//! Policy, decided in the initial user namespace: `CAP_SYS_RAWIO` there, or
//! membership of the real group `zpoline_gid` (module parameter); a caller
//! inside any other user namespace is refused. Everyone else gets `EPERM`,
//! and the ordinary `mmap_min_addr` rule stays in force for every other
//! mapping. No page at 0 unless SMEP and SMAP are in force (`ENXIO`); with
//! `ZPOLINE_INSTALL_REQUIRE_XOM` or the `zpoline_require_xom` parameter, no
//! page unless it is execute-only (`EOPNOTSUPP` without protection keys,
//! `ENOSPC` when the process has no free key). Compat (ia32, x32) callers
//! get `EOPNOTSUPP` from open, mmap and ioctl: the page is 64-bit code.
//!
//! One open file description installs one page, once. The page is
//! generated before mapping and served by the fault handler (fork children
//! fault it in again), never writable, sealed, and execute-only where
//! protection keys exist.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use kernel::{
    alloc::flags::{__GFP_ZERO, GFP_KERNEL_ACCOUNT},
    fs::File,
    miscdevice::{MiscDevice, MiscDeviceRegistration},
    mm::virt::{flags as vmf, VmaNew},
    new_mutex,
    page::{Page, PAGE_SIZE},
    prelude::*,
    sync::Mutex,
    uaccess::{UserPtr, UserSlice},
};

use crate::arch::zpoline::{render_page, SLED_LEN};
use crate::device::refuse_compat;
use crate::ffi;
use crate::kernel_ext::mm::layout;
use crate::stats;
use crate::uapi::{self, ZpolineCfg};
use crate::vma::{FaultError, FaultProvider, VmOps, VmaNewExt};

/// Group allowed to install (module parameter `zpoline_gid`; `u32::MAX`:
/// none).
pub static ZPOLINE_GID: AtomicU32 = AtomicU32::new(u32::MAX);

/// Every install must be execute-only, as if each request had
/// `ZPOLINE_INSTALL_REQUIRE_XOM` (module parameter `zpoline_require_xom`).
pub static ZPOLINE_REQUIRE_XOM: AtomicBool = AtomicBool::new(false);

/// No install attempted yet (or the last one failed).
const IDLE: u32 = 0;
/// `ZPOLINE_IOC_INSTALL` is mapping the page: the only time mmap is allowed.
const INSTALLING: u32 = 1;
/// The page is installed; the fd is spent.
const INSTALLED: u32 = 2;

/// One open `/dev/zpoline`.
///
/// Invariant: `page` is `Some` whenever `state` is `INSTALLING` or
/// `INSTALLED`, and is not replaced while `state` is `INSTALLED`;
/// `require_xom` is written only by the install that moved `state` from
/// `IDLE` to `INSTALLING`, before it maps. [`stats::LIVE_ZPOLINE_PAGES`]
/// counts the `Zpoline`s whose `page` is `Some`.
#[pin_data(PinnedDrop)]
pub struct Zpoline {
    state: AtomicU32,
    /// The install in progress must be execute-only (checked in `mmap`).
    require_xom: AtomicBool,
    #[pin]
    page: Mutex<Option<Page>>,
}

impl FaultProvider for Zpoline {
    fn fault_page(&self, pgoff: usize, map: &mut dyn FnMut(&Page)) -> Result<(), FaultError> {
        if pgoff != 0 {
            return Err(FaultError::NoPage);
        }
        match self.page.lock().as_ref() {
            Some(page) => {
                map(page);
                Ok(())
            }
            None => Err(FaultError::NoPage),
        }
    }
}

impl Zpoline {
    /// Validates a request, in this order (`Documentation/zpoline.rst`):
    /// `EINVAL` (flags, reserved, hook 0), `EFAULT` (hook address), `EPERM`
    /// (policy), `ENXIO` (no SMEP or SMAP), `EOPNOTSUPP` (execute-only
    /// required, no protection keys). Returns whether the page must be
    /// execute-only.
    fn check(cfg: &ZpolineCfg) -> Result<bool> {
        if cfg.flags & !uapi::ZPOLINE_INSTALL_FLAGS != 0 || cfg.reserved != 0 || cfg.hook == 0 {
            return Err(EINVAL);
        }
        if cfg.hook >= layout::task_size_max() as u64 {
            return Err(EFAULT);
        }
        if !ffi::zpoline_allowed(ZPOLINE_GID.load(Ordering::Relaxed)) {
            return Err(EPERM);
        }
        if !ffi::zpoline_cpu_protects_null() {
            return Err(ENXIO);
        }
        let require_xom = cfg.flags & uapi::ZPOLINE_INSTALL_REQUIRE_XOM != 0
            || ZPOLINE_REQUIRE_XOM.load(Ordering::Relaxed);
        if require_xom && !ffi::zpoline_pkeys_enabled() {
            return Err(EOPNOTSUPP);
        }
        Ok(require_xom)
    }

    /// Generates the page for `hook`.
    fn build(hook: u64) -> Result<Page> {
        let page = Page::alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO)?;
        let mut ok = true;
        render_page(PAGE_SIZE, hook, |at, bytes| {
            // SAFETY: the page is not mapped anywhere yet; `render_page`
            // keeps `at + bytes.len() <= PAGE_SIZE`.
            ok &= unsafe { page.write_raw(bytes.as_ptr(), at, bytes.len()) }.is_ok();
        });
        if ok {
            Ok(page)
        } else {
            Err(EINVAL)
        }
    }

    fn install(&self, file: &File, arg: usize) -> Result<isize> {
        let (mut reader, mut writer) =
            UserSlice::new(UserPtr::from_addr(arg), uapi::ZPOLINE_CFG_SIZE).reader_writer();
        let mut raw = [0u8; uapi::ZPOLINE_CFG_SIZE];
        reader.read_slice(&mut raw)?;
        let cfg = ZpolineCfg::from_bytes(&raw);
        let require_xom = Self::check(&cfg)?;
        // The reply goes to the same bytes: make sure they are writable
        // before anything is mapped, by writing back what was read. (The
        // reply below can then only fail if another thread unmaps or
        // write-protects them meanwhile.)
        UserSlice::new(UserPtr::from_addr(arg), uapi::ZPOLINE_CFG_SIZE)
            .writer()
            .write_slice(&raw)?;
        if self
            .state
            .compare_exchange(IDLE, INSTALLING, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(EBUSY);
        }
        self.require_xom.store(require_xom, Ordering::Release);
        let page = match Self::build(cfg.hook) {
            Ok(page) => page,
            Err(e) => {
                self.state.store(IDLE, Ordering::Release);
                return Err(e);
            }
        };
        // A page left by a failed install is replaced (and freed): counted once.
        if self.page.lock().replace(page).is_none() {
            stats::inc(&stats::LIVE_ZPOLINE_PAGES);
        }
        // SAFETY: the helper maps `file`, which calls our mmap while `state`
        // is INSTALLING. No lock of ours is held (the fault handler takes
        // `page` under the mmap lock).
        let xom = match unsafe { ffi::zpoline_map(file) } {
            Ok(xom) => xom,
            Err(e) => {
                self.state.store(IDLE, Ordering::Release);
                return Err(e);
            }
        };
        self.state.store(INSTALLED, Ordering::Release);
        let result = if xom { uapi::ZPOLINE_RESULT_XOM } else { 0 };
        // `sled_len`: the stub's offset; every `%rax` below it reaches the
        // hook except the holes of `crate::arch::zpoline::HOLES`.
        writer.write_slice(&cfg.reply(result, SLED_LEN as u32))?;
        Ok(0)
    }
}

#[pinned_drop]
impl PinnedDrop for Zpoline {
    /// The file's release, after every vma of the page is gone: the page
    /// is freed with `self` (the process's own reference went with its
    /// mapping).
    fn drop(self: Pin<&mut Self>) {
        if self.page.lock().is_some() {
            stats::dec(&stats::LIVE_ZPOLINE_PAGES);
        }
    }
}

#[vtable]
impl MiscDevice for Zpoline {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        refuse_compat()?;
        KBox::try_pin_init(
            try_pin_init!(Zpoline {
                state: AtomicU32::new(IDLE),
                require_xom: AtomicBool::new(false),
                page <- new_mutex!(None),
            }),
            GFP_KERNEL_ACCOUNT,
        )
    }

    fn mmap(device: Pin<&Zpoline>, _file: &File, vma: &VmaNew) -> Result {
        refuse_compat()?;
        // Only ZPOLINE_IOC_INSTALL maps this file, and only at address 0.
        if device.state.load(Ordering::Acquire) != INSTALLING
            || vma.start() != 0
            || vma.end() != PAGE_SIZE
        {
            return Err(EPERM);
        }
        let flags = vma.flags();
        if flags & (vmf::WRITE | vmf::SHARED | vmf::MAYSHARE) != 0 {
            return Err(EPERM);
        }
        if vma.pgoff() != 0 {
            return Err(EPERM);
        }
        // do_mmap() gave the vma the execute-only key, if it could.
        if device.require_xom.load(Ordering::Acquire) {
            if !ffi::vma_xom(vma) {
                return Err(ENOSPC);
            }
        }
        vma.try_clear_maywrite()?;
        vma.set_dontexpand();
        ffi::vma_seal(vma);
        // SAFETY: `device` is the private data of `vma->vm_file`, freed only
        // in the file's release, after every vma referencing the file is gone.
        unsafe { VmOps::<Zpoline>::install(vma, &device) };
        Ok(())
    }

    fn ioctl(device: Pin<&Zpoline>, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        refuse_compat()?;
        match cmd {
            uapi::ZPOLINE_IOC_INSTALL => device.install(file, arg),
            _ => Err(ENOTTY),
        }
    }
}
