// SPDX-License-Identifier: GPL-2.0

//! Misc device registration with a device-node mode.
//!
//! `kernel::miscdevice::MiscDeviceRegistration` registers nodes with the
//! default mode 0600, which would make `/dev/trampfd` root-only. trampfd is
//! for unprivileged programs (its policy lives in the file operations, like
//! `/dev/null`), so this wrapper sets `miscdevice.mode` before
//! `misc_register()`. Everything else is the `kernel` crate's: the file
//! operations come from [`MiscDeviceOptions::into_raw`].

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    miscdevice::{MiscDevice, MiscDeviceOptions},
    prelude::*,
    types::Opaque,
};

/// A registered misc device whose node has a chosen mode.
///
/// # Invariants
///
/// `inner` holds a `struct miscdevice` registered with `misc_register()`
/// for the whole life of this object, deregistered exactly once in drop.
/// The layout is that of `kernel::miscdevice::MiscDeviceRegistration<T>`
/// (a transparent `Opaque<bindings::miscdevice>`), which the `kernel`
/// crate's `open` callback assumes when it casts the device pointer.
#[repr(transparent)]
#[pin_data(PinnedDrop)]
pub struct ModeMiscDevice<T> {
    #[pin]
    inner: Opaque<bindings::miscdevice>,
    _t: PhantomData<T>,
}

// The `kernel` crate's `open` callback casts the registered `miscdevice`
// to a `MiscDeviceRegistration<T>`: this wrapper must have its layout. Checked
// for the module's own device types; the need goes away once upstream's
// `MiscDeviceOptions` can carry the node mode (it has only `name` in 7.3),
// when `MiscDeviceRegistration::register` can be used directly.
const _: () = {
    use core::mem::{align_of, size_of};
    use kernel::miscdevice::MiscDeviceRegistration;
    type T = crate::device::Trampfd;
    assert!(size_of::<ModeMiscDevice<T>>() == size_of::<MiscDeviceRegistration<T>>());
    assert!(align_of::<ModeMiscDevice<T>>() == align_of::<MiscDeviceRegistration<T>>());
};
#[cfg(CONFIG_TRAMPFD_ZPOLINE)]
const _: () = {
    use core::mem::{align_of, size_of};
    use kernel::miscdevice::MiscDeviceRegistration;
    type T = crate::zpoline::Zpoline;
    assert!(size_of::<ModeMiscDevice<T>>() == size_of::<MiscDeviceRegistration<T>>());
    assert!(align_of::<ModeMiscDevice<T>>() == align_of::<MiscDeviceRegistration<T>>());
};

// SAFETY: `misc_deregister` may be called from any thread.
unsafe impl<T> Send for ModeMiscDevice<T> {}
// SAFETY: no `&self` method touches `inner`.
unsafe impl<T> Sync for ModeMiscDevice<T> {}

impl<T: MiscDevice> ModeMiscDevice<T> {
    /// Registers `/dev/<name>` with permission bits `mode` (e.g. `0o666`).
    pub fn register(name: &'static CStr, mode: u16) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| {
                let mut raw = MiscDeviceOptions { name }.into_raw::<T>();
                raw.mode = mode;
                // SAFETY: the initializer may write the pinned `slot`; the
                // device is deregistered in drop, before `slot` is freed.
                unsafe { slot.write(raw) };
                // SAFETY: `slot` holds a fully initialised miscdevice.
                to_result(unsafe { bindings::misc_register(slot) })
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T> PinnedDrop for ModeMiscDevice<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: by the type invariant the device is registered.
        unsafe { bindings::misc_deregister(self.inner.get()) };
    }
}
