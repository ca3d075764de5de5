// SPDX-License-Identifier: GPL-2.0

//! The per-user limit of live trampfds (module parameter
//! `max_user_trampfds`).
//!
//! Every trampfd is charged, for its whole life, to the real uid of the
//! task that opened or created it, as seen from the initial user namespace
//! (so a user namespace cannot make a process look like a fresh user).
//! Beyond the limit `open` and `TRAMPFD_IOC_CREATE` fail with `EMFILE`, as
//! `inotify_init` does beyond `max_user_instances`; other users are not
//! affected. The check and the increment happen under one lock, so
//! concurrent opens cannot overshoot the limit.

use core::sync::atomic::{AtomicU32, Ordering};

use kernel::{
    alloc::flags::GFP_KERNEL_ACCOUNT,
    prelude::*,
    rbtree::{RBTree, RBTreeNode},
};

/// Live trampfds a single user may hold (module parameter
/// `max_user_trampfds`).
pub static MAX_USER_TRAMPFDS: AtomicU32 = AtomicU32::new(0);

kernel::sync::global_lock! {
    // SAFETY: `init()` is called in the module initializer, before the
    // devices are registered, and the devices are the only users.
    unsafe(uninit) static USERS: Mutex<Option<RBTree<u32, u32>>> = None;
}

/// Initialises the lock of the per-user counts.
///
/// # Safety
///
/// Must be called exactly once per module load, before any [`Charge`] is
/// created.
pub unsafe fn init() {
    // SAFETY: called once, before use (the caller's contract).
    unsafe { USERS.init() };
}

/// One live trampfd charged to a user; dropping it uncharges.
///
/// Invariant: the count of `uid` in `USERS` includes this charge.
pub struct Charge {
    uid: u32,
}

impl Charge {
    /// Charges one trampfd to the current task's user: `EMFILE` if that
    /// user holds `max_user_trampfds` already, `ENOMEM` if the count cannot
    /// be allocated. A refusal changes nothing.
    pub fn new() -> Result<Charge> {
        // The real uid (`task_uid()`, of the task's objective credentials)
        // as a global kuid value: the uid seen from the initial user
        // namespace, so that a user namespace cannot make a process look
        // like another user.
        let uid = kernel::current!().uid().into_raw().val;
        let max = MAX_USER_TRAMPFDS.load(Ordering::Relaxed);
        let mut users = USERS.lock();
        let tree = users.get_or_insert_with(RBTree::new);
        match tree.get_mut(&uid) {
            Some(n) if *n >= max => return Err(EMFILE),
            Some(n) => *n += 1,
            None if max == 0 => return Err(EMFILE),
            None => {
                tree.insert(RBTreeNode::new(uid, 1, GFP_KERNEL_ACCOUNT)?);
            }
        }
        // INVARIANT: the count of `uid` was incremented (or created as 1)
        // above, under the lock.
        Ok(Charge { uid })
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        let mut users = USERS.lock();
        let Some(tree) = users.as_mut() else {
            return;
        };
        let last = match tree.get_mut(&self.uid) {
            Some(n) => {
                // By the type invariant `*n >= 1`.
                *n = n.saturating_sub(1);
                *n == 0
            }
            None => false,
        };
        if last {
            // Free the node: the table holds only users with live trampfds.
            tree.remove(&self.uid);
        }
    }
}
