// SPDX-License-Identifier: GPL-2.0

//! The descriptor state machine: every refusal has its errno and leaves the
//! state as it was.

use trampfd_hosttest::arch::x86_64::{R10, R11, RAX, RIP, RSP, X86_64};
use trampfd_hosttest::desc::{errno::*, Config, DescError, Target, UserSpace, DESC_SIZE};

const SPACE: UserSpace = UserSpace {
    user_end: 0x0000_7fff_ffff_f000,
};
const MAX: u32 = 128;

fn code(n: u32, reg: u32, table: u64) -> [u8; DESC_SIZE] {
    let mut b = [0u8; DESC_SIZE];
    b[0..4].copy_from_slice(&n.to_ne_bytes());
    b[4..8].copy_from_slice(&reg.to_ne_bytes());
    b[8..16].copy_from_slice(&table.to_ne_bytes());
    b
}

fn data(reg: u32, reserved: u32, table: u64) -> [u8; DESC_SIZE] {
    code(reg, reserved, table)
}

fn write(c: &mut Config, t: Target, b: [u8; DESC_SIZE]) -> Result<(), i32> {
    let before = *c;
    let r = c
        .write::<X86_64>(t, &b, SPACE, MAX)
        .map_err(DescError::errno);
    if r.is_err() {
        assert_eq!(*c, before, "a refused write changed the state");
    }
    r
}

#[test]
fn offsets_and_sizes() {
    assert_eq!(Target::from_write(0, 16), Ok(Target::Code));
    assert_eq!(Target::from_write(0x40, 16), Ok(Target::Data));
    assert_eq!(
        Target::from_write(8, 16).map_err(DescError::errno),
        Err(ENXIO)
    );
    assert_eq!(
        Target::from_write(0, 15).map_err(DescError::errno),
        Err(EMSGSIZE)
    );
    assert_eq!(
        Target::from_write(0x40, 17).map_err(DescError::errno),
        Err(EMSGSIZE)
    );
}

#[test]
fn code_descriptor_refusals() {
    let mut c = Config::default();
    assert_eq!(
        write(&mut c, Target::Code, code(0, R11, 0x1000)),
        Err(ERANGE)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(129, R11, 0x1000)),
        Err(ERANGE)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(1, 17, 0x1000)),
        Err(EINVAL)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(1, 99, 0x1000)),
        Err(EINVAL)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(1, RSP, 0x1000)),
        Err(EOPNOTSUPP)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(1, RIP, 0x1000)),
        Err(EOPNOTSUPP)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(1, 7, 0x1000)),
        Err(EOPNOTSUPP)
    );
    assert_eq!(write(&mut c, Target::Code, code(1, R11, 0)), Err(EFAULT));
    assert_eq!(
        write(&mut c, Target::Code, code(1, R11, 0x1004)),
        Err(EINVAL)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(1, R11, 0xffff_8000_0000_0000)),
        Err(EFAULT)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(2, R11, u64::MAX - 7)),
        Err(EFAULT)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(2, R11, SPACE.user_end - 8)),
        Err(EFAULT)
    );
    assert_eq!(
        write(&mut c, Target::Code, code(1, R11, SPACE.user_end - 8)),
        Ok(())
    );
    assert_eq!(c.code().map(|k| k.ntrampolines), Some(1));
}

#[test]
fn data_descriptor_refusals_and_register_clash() {
    let mut c = Config::default();
    assert_eq!(
        write(&mut c, Target::Data, data(R10, 1, 0x2000)),
        Err(EINVAL)
    );
    assert_eq!(
        write(&mut c, Target::Data, data(RSP, 0, 0x2000)),
        Err(EOPNOTSUPP)
    );
    assert_eq!(write(&mut c, Target::Data, data(R10, 0, 3)), Err(EINVAL));
    write(&mut c, Target::Code, code(128, R11, 0x1000)).unwrap();
    assert_eq!(
        write(&mut c, Target::Data, data(R11, 0, 0x2000)),
        Err(EBUSY)
    );
    // 128 entries from here would leave the user address space.
    assert_eq!(
        write(&mut c, Target::Data, data(R10, 0, SPACE.user_end - 64)),
        Err(EFAULT)
    );
    assert_eq!(write(&mut c, Target::Data, data(RAX, 0, 0x2000)), Ok(()));
    // A new code descriptor must agree with the data descriptor too.
    assert_eq!(
        write(&mut c, Target::Code, code(1, RAX, 0x1000)),
        Err(EBUSY)
    );
}

#[test]
fn map_needs_both_descriptors_and_freezes_them() {
    let mut c = Config::default();
    assert_eq!(c.map().map_err(DescError::errno), Err(ENODATA));
    write(&mut c, Target::Code, code(4, R11, 0x1000)).unwrap();
    assert_eq!(c.map().map_err(DescError::errno), Err(ENODATA));
    write(&mut c, Target::Data, data(R10, 0, 0x2000)).unwrap();
    // Rewriting before mmap is allowed.
    write(&mut c, Target::Code, code(8, R11, 0x3000)).unwrap();
    let (k, d) = c.map().unwrap();
    assert_eq!((k.ntrampolines, k.table, d.table), (8, 0x3000, 0x2000));
    assert_eq!(
        write(&mut c, Target::Code, code(8, R11, 0x1000)),
        Err(EROFS)
    );
    assert_eq!(
        write(&mut c, Target::Data, data(R10, 0, 0x1000)),
        Err(EROFS)
    );
    assert_eq!(c.map().map_err(DescError::errno), Err(EBUSY));
    assert!(c.is_mapped());
}
