/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * trampfd: kernel-generated executable trampolines for unprivileged programs.
 *
 * A trampfd is a file descriptor (open("/dev/trampfd") or
 * ioctl(fd, TRAMPFD_IOC_CREATE, flags)) that is configured with two
 * descriptors written by pwrite() at fixed offsets and then mapped with
 * mmap(PROT_READ | PROT_EXEC, MAP_PRIVATE) at info.code_offset.  The kernel
 * fills the mapped page with trampolines; trampoline X is
 *
 *	load &code_table[X] -> code_reg; load (code_reg) -> code_reg
 *	load &data_table[X] -> data_reg; load (data_reg) -> data_reg
 *	jump code_reg
 *
 * and lives at base + X * info.code_size.  The page is never writable.
 * On x86-64, when data.table - code.table fits in a signed 32-bit
 * displacement, each trampoline starts with endbr64 (a landing pad under
 * user IBT) and computes &data_table[X] from &code_table[X]; tables farther
 * apart get the same five steps without endbr64.
 * mmap(PROT_EXEC) fails with EPERM if the device node is on a noexec mount
 * (a noexec /dev).  Compat tasks (ia32/x32, AArch32) get EOPNOTSUPP from
 * every operation: the trampolines are 64-bit code.
 * See Documentation/trampfd.rst.
 */
#ifndef _UAPI_LINUX_TRAMPFD_H
#define _UAPI_LINUX_TRAMPFD_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* pwrite() offsets of the two descriptors. */
#define TRAMPFD_CODE_OFFSET	0x00
#define TRAMPFD_DATA_OFFSET	0x40

/**
 * struct trampfd_code - code descriptor, written at TRAMPFD_CODE_OFFSET
 * @ntrampolines: number of trampolines, 1 .. trampfd_info.ntrampolines
 * @reg: register that receives code_table[X] (TRAMPFD_<ARCH>_* below)
 * @table: user address of an array of @ntrampolines __u64 code pointers,
 *	   8-byte aligned; the process may change its entries at any time
 */
struct trampfd_code {
	__u32 ntrampolines;
	__u32 reg;
	__u64 table;
};

/**
 * struct trampfd_data - data descriptor, written at TRAMPFD_DATA_OFFSET
 * @reg: register that receives data_table[X], different from the code reg
 * @reserved: must be zero
 * @table: user address of an array of ntrampolines __u64 data values,
 *	   8-byte aligned; the process may change its entries at any time
 */
struct trampfd_data {
	__u32 reg;
	__u32 reserved;
	__u64 table;
};

/* trampfd_info.arch */
#define TRAMPFD_ARCH_X86_64	1
#define TRAMPFD_ARCH_ARM64	2
#define TRAMPFD_ARCH_RISCV64	3

/**
 * struct trampfd_info - filled by TRAMPFD_IOC_GET_INFO
 * @size: sizeof(struct trampfd_info) as known to the kernel
 * @arch: TRAMPFD_ARCH_*
 * @ntrampolines: maximum number of trampolines of one trampfd
 * @code_size: bytes per trampoline; trampoline X is at base + X * code_size
 * @code_offset: the offset to pass to mmap()
 * @code_regs: bit mask of the register numbers accepted as trampfd_code.reg
 * @data_regs: bit mask of the register numbers accepted as trampfd_data.reg
 * @reserved: zero
 */
struct trampfd_info {
	__u32 size;
	__u32 arch;
	__u32 ntrampolines;
	__u32 code_size;
	__u64 code_offset;
	__u32 code_regs;
	__u32 data_regs;
	__u64 reserved[4];
};

/*
 * Flags of TRAMPFD_IOC_CREATE.  TRAMPFD_CREATE_CLOEXEC is O_CLOEXEC, as for
 * eventfd(), timerfd_create() and the other fd factories, whose value
 * differs between architectures: it comes from <fcntl.h> (or <linux/fcntl.h>
 * without a C library), which this header does not include because the two
 * clash.  The kernel also accepts 1, the value of TRAMPFD_CREATE_CLOEXEC
 * before, with the same meaning.
 */
#define TRAMPFD_CREATE_CLOEXEC	O_CLOEXEC

#define TRAMPFD_IOC_MAGIC	0xB7
/*
 * Returns a new, unconfigured trampfd: a fresh open of the same device node
 * (no path lookup; the access mode of this fd); arg is TRAMPFD_CREATE_*
 * flags.  The new fd is on the same mount, so a noexec mount of the node
 * applies to it too.
 */
#define TRAMPFD_IOC_CREATE	_IO(TRAMPFD_IOC_MAGIC, 0x01)
#define TRAMPFD_IOC_GET_INFO	_IOR(TRAMPFD_IOC_MAGIC, 0x02, struct trampfd_info)

/*
 * x86-64 register numbers (hardware encoding order).  Accepted: RAX, R10,
 * R11 for both descriptors (caller-saved, not argument registers).  R11 is
 * the recommended code register and R10 (the SysV static chain register) the
 * recommended data register: RAX carries the vector-register count of
 * variadic calls, so a variadic target must not get it clobbered.
 */
#define TRAMPFD_X86_64_RAX	0
#define TRAMPFD_X86_64_RCX	1
#define TRAMPFD_X86_64_RDX	2
#define TRAMPFD_X86_64_RBX	3
#define TRAMPFD_X86_64_RSP	4
#define TRAMPFD_X86_64_RBP	5
#define TRAMPFD_X86_64_RSI	6
#define TRAMPFD_X86_64_RDI	7
#define TRAMPFD_X86_64_R8	8
#define TRAMPFD_X86_64_R9	9
#define TRAMPFD_X86_64_R10	10
#define TRAMPFD_X86_64_R11	11
#define TRAMPFD_X86_64_R12	12
#define TRAMPFD_X86_64_R13	13
#define TRAMPFD_X86_64_R14	14
#define TRAMPFD_X86_64_R15	15
#define TRAMPFD_X86_64_RIP	16

/*
 * arm64 register numbers: TRAMPFD_ARM64_X(n) is xn, n = 0 .. 30.  Accepted
 * code registers: X16 (recommended) and X17, the only ones whose "br" is
 * accepted by the "bti c" landing pad of BTI-guarded functions.  Accepted
 * data registers: X9 .. X17 (caller-saved, not argument registers); X17 is
 * recommended.
 */
#define TRAMPFD_ARM64_X(n)	(n)
#define TRAMPFD_ARM64_X9	9
#define TRAMPFD_ARM64_X16	16
#define TRAMPFD_ARM64_X17	17

/*
 * riscv64 register numbers: TRAMPFD_RISCV64_X(n) is xn, n = 0 .. 31.
 * Accepted code registers: T1 (recommended), T2 and T3 .. T6.  T0 is
 * refused as code register (EOPNOTSUPP): "jr t0" is a return (predicted as
 * one, and exempt from Zicfilp's landing-pad check).  "jr t2" is a
 * software-guarded jump, also exempt: T2 is for targets without a landing
 * pad (libffi's closure entry).  Accepted data registers:
 * T0 .. T6.  T2 (the psABI static chain register) is the recommended data
 * register; it is also the Zicfilp landing-pad label register, so a target
 * whose "lpad" has a non-zero label needs another data register (see
 * Documentation/trampfd.rst).  Every slot starts with "lpad 0".
 */
#define TRAMPFD_RISCV64_X(n)	(n)
#define TRAMPFD_RISCV64_T0	5
#define TRAMPFD_RISCV64_T1	6
#define TRAMPFD_RISCV64_T2	7
#define TRAMPFD_RISCV64_T3	28
#define TRAMPFD_RISCV64_T4	29
#define TRAMPFD_RISCV64_T5	30
#define TRAMPFD_RISCV64_T6	31

/*
 * The recommended registers of the architecture this header is compiled
 * for, so that portable programs need no #ifdef of their own.
 */
#if defined(__x86_64__)
#define TRAMPFD_NATIVE_ARCH		TRAMPFD_ARCH_X86_64
#define TRAMPFD_NATIVE_CODE_REG	TRAMPFD_X86_64_R11
#define TRAMPFD_NATIVE_DATA_REG	TRAMPFD_X86_64_R10
#elif defined(__aarch64__)
#define TRAMPFD_NATIVE_ARCH		TRAMPFD_ARCH_ARM64
#define TRAMPFD_NATIVE_CODE_REG	TRAMPFD_ARM64_X16
#define TRAMPFD_NATIVE_DATA_REG	TRAMPFD_ARM64_X17
#elif defined(__riscv) && __riscv_xlen == 64
#define TRAMPFD_NATIVE_ARCH		TRAMPFD_ARCH_RISCV64
#define TRAMPFD_NATIVE_CODE_REG	TRAMPFD_RISCV64_T1
#define TRAMPFD_NATIVE_DATA_REG	TRAMPFD_RISCV64_T2
#endif

#endif /* _UAPI_LINUX_TRAMPFD_H */
