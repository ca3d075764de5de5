// SPDX-License-Identifier: GPL-2.0

//! `/dev/trampfd`: one open file description is one trampfd.
//!
//! Lifecycle: open (or `TRAMPFD_IOC_CREATE`) → pwrite the code and data
//! descriptors (in any order, rewritable until mapped) → mmap one page
//! R-X, once → the first access faults and the page is generated → munmap and
//! close in any order (the mapping keeps the file, and so the page, alive).
//!
//! A trampfd belongs to the address space that opened it: pwrite and mmap
//! from another one (after fork, or an fd passed with `SCM_RIGHTS`) fail
//! with `EPERM`. A mapping inherited by fork keeps working in the child.
//!
//! Compat tasks (ia32 on x86-64, AArch32 on arm64) get `EOPNOTSUPP` from
//! every operation: the trampolines are 64-bit code.

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    bindings,
    error::from_err_ptr,
    fs::{file::FileDescriptorReservation, File, Kiocb},
    iov::IovIterSource,
    miscdevice::{MiscDevice, MiscDeviceRegistration},
    mm::{virt::flags as vmf, virt::VmaNew, Mm},
    new_mutex,
    page::{Page, PAGE_SIZE},
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::{aref::ARef, Mutex},
    task::Task,
    uaccess::{UserPtr, UserSlice},
};

use crate::arch::{Encoder, Native};
use crate::desc::{render_page, Config, DescError, Target, UserSpace, DESC_SIZE};
use crate::ffi;
use crate::kernel_ext::{cacheflush, compat, mm::layout, mm::locked_vm::LockedVm};
use crate::stats;
use crate::uapi;
use crate::users::Charge;
use crate::vma::{FaultError, FaultProvider, VmOps, VmaNewExt};

/// Refuses compat callers (an ia32 or x32 system call on x86-64, an AArch32
/// task on arm64) with `EOPNOTSUPP`: both devices produce 64-bit code, and
/// a compat task could not use it. Checked first in every operation of both
/// devices, so a refusal never depends on, or changes, the fd's state.
pub fn refuse_compat() -> Result {
    if compat::in_compat_syscall() {
        Err(EOPNOTSUPP)
    } else {
        Ok(())
    }
}

// The uapi mirror's `TRAMPFD_CREATE_CLOEXEC` is the kernel's `O_CLOEXEC`.
const _: () = assert!(uapi::CREATE_CLOEXEC == bindings::O_CLOEXEC as usize);

/// Opens `file`'s device node again, without a path lookup, into a new fd
/// of the current task (`O_CLOEXEC` if `cloexec`), and returns the fd.
///
/// `dentry_open()` on the file's own path, with its access mode and the
/// current task's credentials, as `open()` of the node by the caller would
/// (`TRAMPFD_IOC_CREATE` also works in a sandbox that cannot open files).
/// Anon-inode files cannot be used for this: they live on an `SB_I_NOEXEC`
/// pseudo filesystem, so `mmap(PROT_EXEC)` of them fails with `EPERM`.
fn reopen(file: &File, cloexec: bool) -> Result<i32> {
    // The fd first: dropped (`put_unused_fd`) if the open fails.
    let fd = FileDescriptorReservation::get_unused_fd_flags(if cloexec {
        bindings::O_CLOEXEC
    } else {
        0
    })?;
    let mode = file.flags() & bindings::O_ACCMODE;
    // SAFETY: `current_cred()`: the current task's subjective credentials,
    // which only the task itself replaces (it is running this code), and
    // which its reference keeps alive for this call.
    let cred = unsafe { (*Task::current_raw()).cred };
    // SAFETY: `file` is valid for the borrow, and its `f_path` (a member of
    // an anonymous union with `__f_path`, the same bytes), set when it was
    // opened, stays valid and unchanged while it lives; `cred` is valid
    // (above). `dentry_open` takes its own references on both.
    let new = from_err_ptr(unsafe {
        bindings::dentry_open(
            core::ptr::addr_of!((*file.as_ptr()).__bindgen_anon_1.f_path),
            mode as i32,
            cred,
        )
    })?;
    let new = core::ptr::NonNull::new(new.cast::<File>()).ok_or(ENOMEM)?;
    // SAFETY: `dentry_open` returned a new file (`File` is a transparent
    // wrapper of `struct file`) with one reference, which the `ARef` takes
    // over; no fd refers to it yet, so it has no `fdget_pos` user.
    let new = unsafe { ARef::from_raw(new) };
    let n = fd.reserved_fd();
    fd.fd_install(new);
    Ok(n as i32)
}

/// Trampolines per trampfd: one page of slots.
const MAX_TRAMPOLINES: u32 = (PAGE_SIZE / <Native as Encoder>::CODE_SIZE) as u32;

/// Mutable state of one trampfd.
///
/// Invariants: `page` is `Some` only if `config.is_mapped()`, and then holds
/// the trampolines rendered from the frozen descriptors; `locked` is the
/// mapping's page charged to the owner's RLIMIT_MEMLOCK (from `mmap` on),
/// which is undone exactly once, when the trampfd is dropped.
struct Inner {
    config: Config,
    page: Option<Page>,
    locked: Option<LockedVm>,
}

/// One trampfd: the private data of its file.
#[pin_data(PinnedDrop)]
pub struct Trampfd {
    #[pin]
    inner: Mutex<Inner>,
    /// The address space the trampfd was opened in (a `mmgrab` reference,
    /// used only for identity).
    owner: ARef<Mm>,
    /// This trampfd's place in its user's `max_user_trampfds`; released
    /// when the trampfd is dropped.
    _charge: Charge,
}

fn desc_err(e: DescError) -> Error {
    Error::from_errno(-e.errno())
}

impl Trampfd {
    /// Refuses a caller whose address space is not the owner's.
    fn check_owner(&self, mm: *mut bindings::mm_struct) -> Result {
        if mm == self.owner.as_raw() {
            Ok(())
        } else {
            Err(EPERM)
        }
    }

    fn current_mm_raw() -> *mut bindings::mm_struct {
        kernel::current!()
            .mm()
            .map_or(core::ptr::null_mut(), |mm| mm.as_raw())
    }

    fn user_space() -> UserSpace {
        UserSpace {
            user_end: layout::task_size_max() as u64,
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Trampfd {
    fn drop(self: Pin<&mut Self>) {
        // Read the state under the lock, act after releasing it: the
        // uncharge takes the mmap lock, which is ordered before ours (mmap
        // and fault take ours under it).
        let (had_page, locked) = {
            let mut inner = self.inner.lock();
            (inner.page.is_some(), inner.locked.take())
        };
        if had_page {
            stats::dec(&stats::LIVE_PAGES);
        }
        // The uncharge, if `mmap` charged: no lock of ours is held.
        drop(locked);
        stats::dec(&stats::LIVE_FDS);
    }
}

impl FaultProvider for Trampfd {
    fn fault_page(&self, pgoff: usize, map: &mut dyn FnMut(&Page)) -> Result<(), FaultError> {
        if pgoff != 0 {
            return Err(FaultError::NoPage);
        }
        let mut inner = self.inner.lock();
        if inner.page.is_none() {
            let (Some(code), Some(data)) = (inner.config.code(), inner.config.data()) else {
                // Unreachable: a vma exists only after `Config::map` succeeded.
                return Err(FaultError::NoPage);
            };
            let mut page = Page::alloc_page(GFP_KERNEL_ACCOUNT).map_err(|_| FaultError::Oom)?;
            // Not zeroed: `render_page` writes every byte of it, in place,
            // by code that cannot fail (whole slots of a slice, then the
            // remainder: no offsets to get wrong), so nothing the page held
            // before reaches user space. The page is ours alone until `map`.
            ffi::with_page_bytes(&mut page, |bytes| render_page::<Native>(bytes, code, data));
            cacheflush::flush_icache_page(&page);
            stats::inc(&stats::LIVE_PAGES);
            inner.page = Some(page);
        }
        stats::inc(&stats::FAULTS);
        if let Some(page) = inner.page.as_ref() {
            map(page);
        }
        Ok(())
    }
}

#[vtable]
impl MiscDevice for Trampfd {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        refuse_compat()?;
        let task = kernel::current!();
        let mm: &Mm = task.mm().ok_or(EINVAL)?;
        let owner = ARef::from(mm);
        // Checked and counted atomically; dropped (uncharged) on failure.
        let charge = Charge::new()?;
        let fd = KBox::try_pin_init(
            try_pin_init!(Trampfd {
                inner <- new_mutex!(Inner {
                    config: Config::default(),
                    page: None,
                    locked: None,
                }),
                owner,
                _charge: charge,
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        stats::inc(&stats::LIVE_FDS);
        Ok(fd)
    }

    fn write_iter(kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        refuse_compat()?;
        let me = kiocb.file();
        me.check_owner(Self::current_mm_raw())?;
        let pos = u64::try_from(kiocb.ki_pos()).map_err(|_| ENXIO)?;
        let target = Target::from_write(pos, iov.len()).map_err(desc_err)?;
        let mut buf = [0u8; DESC_SIZE];
        if iov.copy_from_iter(&mut buf) != DESC_SIZE {
            return Err(EFAULT);
        }
        me.inner
            .lock()
            .config
            .write::<Native>(target, &buf, Self::user_space(), MAX_TRAMPOLINES)
            .map_err(desc_err)?;
        // The file position is not advanced: descriptors live at fixed offsets.
        Ok(DESC_SIZE)
    }

    fn mmap(device: Pin<&Trampfd>, _file: &File, vma: &VmaNew) -> Result {
        refuse_compat()?;
        device.check_owner(vma.mm().as_raw())?;
        let flags = vma.flags();
        if flags & vmf::SHARED != 0 || flags & vmf::MAYSHARE != 0 && flags & vmf::WRITE != 0 {
            return Err(EINVAL);
        }
        if flags & vmf::WRITE != 0 {
            return Err(EACCES);
        }
        let pgoff = vma.pgoff();
        if pgoff as u64 != uapi::CODE_MMAP_OFFSET || vma.end() - vma.start() != PAGE_SIZE {
            return Err(EINVAL);
        }
        // MAP_SHARED of a read-only mapping: VM_MAYSHARE without VM_SHARED.
        if flags & vmf::MAYSHARE != 0 {
            return Err(EINVAL);
        }
        // The vma first: a refusal after the trampfd is marked mapped would
        // burn it. This cannot fail here (it refuses only VM_WRITE, refused
        // above with EACCES), and changes only the vma, which the mm
        // discards if this mmap fails later.
        vma.try_clear_maywrite()?;
        vma.set_dontexpand();
        {
            let mut inner = device.inner.lock();
            // Freeze a copy, charge, then commit: every refusal (EBUSY,
            // ENODATA, ENOMEM from RLIMIT_MEMLOCK) leaves the trampfd as it
            // was, unmapped and usable.
            let mut frozen = inner.config;
            frozen.map().map_err(desc_err)?;
            // `vma.mm()` is the owner (checked above).
            let locked = LockedVm::charge(vma, 1)?;
            inner.config = frozen;
            inner.locked = Some(locked);
        }
        // SAFETY: `device` is the private data of `vma->vm_file`, freed only
        // in the file's release, after every vma referencing the file is gone.
        unsafe { VmOps::<Trampfd>::install(vma, &device) };
        Ok(())
    }

    fn ioctl(_device: Pin<&Trampfd>, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        refuse_compat()?;
        match cmd {
            uapi::IOC_CREATE => {
                let cloexec = uapi::CREATE_CLOEXEC | uapi::CREATE_CLOEXEC_V1;
                if arg & !cloexec != 0 {
                    return Err(EINVAL);
                }
                let fd = reopen(file, arg & cloexec != 0)?;
                Ok(fd as isize)
            }
            uapi::IOC_GET_INFO => {
                let info = uapi::info_bytes::<Native>(MAX_TRAMPOLINES);
                UserSlice::new(UserPtr::from_addr(arg), info.len())
                    .writer()
                    .write_slice(&info)?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }

    fn show_fdinfo(device: Pin<&Trampfd>, m: &SeqFile, _file: &File) {
        let inner = device.inner.lock();
        let c = inner.config;
        let state = match (c.is_mapped(), c.code().is_some() && c.data().is_some()) {
            (true, _) => "mapped",
            (false, true) => "configured",
            (false, false) => "unconfigured",
        };
        seq_print!(m, "trampfd-state:\t{}\n", state);
        if let Some(code) = c.code() {
            seq_print!(m, "trampfd-ntrampolines:\t{}\n", code.ntrampolines);
            seq_print!(m, "trampfd-code-reg:\t{}\n", code.reg);
        }
        if let Some(data) = c.data() {
            seq_print!(m, "trampfd-data-reg:\t{}\n", data.reg);
        }
        // Facts about this fd only: the module-wide counters are in
        // debugfs (see `stats.rs`), not here where every user can read them.
        seq_print!(m, "trampfd-page:\t{}\n", u8::from(inner.page.is_some()));
    }
}
