// SPDX-License-Identifier: GPL-2.0
/*
 * C helpers of the trampfd module, for what only this driver does: install
 * the x86-64 zpoline page at address 0.
 * Kernel functions that are static inline (so kernel::bindings cannot call
 * them) or whose use is simpler in C.  The general ones (get_page, the
 * vm_fault fields, the icache flush, in_compat_syscall, TASK_SIZE_MAX,
 * memlock accounting) are kernel-crate abstractions (rust/kernel/; out of
 * tree, the module carries them in rust/kernel_ext/), and reopening the
 * device node is Rust over the kernel crate's fd reservation.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/capability.h>
#include <linux/uidgid.h>
#include <linux/mman.h>
#include <linux/pkeys.h>
#include <linux/user_namespace.h>
#include <linux/cpufeature.h>

#include "helpers.h"

#ifdef CONFIG_TRAMPFD_ZPOLINE
/*
 * Is the current task allowed to install a zpoline page?  Everything is
 * decided in the initial user namespace, never in the caller's:
 *
 * - a task in any other user namespace is refused, whatever it holds there:
 *   the mapping must pass cap_mmap_addr(), which asks for CAP_SYS_RAWIO in
 *   the initial namespace, and the module does not vouch for credentials
 *   that only mean something inside a namespace;
 * - capable(CAP_SYS_RAWIO) is the initial-namespace capability (not
 *   ns_capable()), the one that lets a task map address 0 by itself;
 * - @gid is resolved in init_user_ns, so it names a real (kernel) group and
 *   a namespace that maps some local gid onto the caller's own real gid
 *   gains nothing; in_group_p() then compares real kgids.
 *
 * (u32)-1 names no group.
 */
bool trampfd_zpoline_allowed(u32 gid)
{
	kgid_t kgid;

	if (current_user_ns() != &init_user_ns)
		return false;
	if (capable(CAP_SYS_RAWIO))
		return true;
	if (gid == (u32)-1)
		return false;
	kgid = make_kgid(&init_user_ns, gid);
	return gid_valid(kgid) && in_group_p(kgid);
}

/*
 * Are SMEP and SMAP both in force?  Without SMEP a kernel NULL function
 * pointer call in a process with a page at 0 would run user code in ring 0;
 * without SMAP a kernel NULL read would read user memory.  That is what
 * mmap_min_addr exists to prevent, so no page at 0 without them (a CPU
 * without them, or a kernel booted with clearcpuid=smep or clearcpuid=smap).
 */
bool trampfd_zpoline_cpu_protects_null(void)
{
	return cpu_feature_enabled(X86_FEATURE_SMEP) &&
	       cpu_feature_enabled(X86_FEATURE_SMAP);
}

/*
 * Can a PROT_EXEC-only mapping be execute-only at all: protection keys
 * present and enabled by the kernel (not booted with nopku)?
 */
bool trampfd_zpoline_pkeys_enabled(void)
{
	return arch_pkeys_enabled();
}

/*
 * Does @vma, being set up by mmap, carry a protection key, i.e. the
 * execute-only key do_mmap() gives a PROT_EXEC-only mapping?  Key 0 means
 * readable: no PKU, or no free key left in the process.
 */
bool trampfd_vma_xom(struct vm_area_struct *vma)
{
	return vma_pkey(vma) != 0;
}

/*
 * Map @file's page at virtual address 0 of the current process, execute
 * only, without replacing anything already there.  The mapping is made with
 * a copy of the caller's credentials that has CAP_SYS_RAWIO raised, so that
 * the capability check of mmap_min_addr (cap_mmap_addr) lets this one
 * mapping through; the caller has already passed trampfd_zpoline_allowed().
 * Every other hook still runs: security_mmap_addr() calls each LSM's
 * mmap_addr hook (SELinux checks memprotect:mmap_zero against the caller's
 * own label, which the copy keeps), and security_mmap_file() runs too.
 * Sets *@xom when protection keys made the page execute-only.  Returns 0 or
 * a negative errno.
 */
int trampfd_zpoline_map(struct file *file, bool *xom)
{
	const struct cred *old;
	struct vm_area_struct *vma;
	struct cred *cred;
	unsigned long addr;

	cred = prepare_creds();
	if (!cred)
		return -ENOMEM;
	cap_raise(cred->cap_effective, CAP_SYS_RAWIO);
	old = override_creds(cred);
	addr = vm_mmap(file, 0, PAGE_SIZE, PROT_EXEC,
		       MAP_PRIVATE | MAP_FIXED_NOREPLACE, 0);
	revert_creds(old);
	put_cred(cred);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	if (addr != 0) {
		vm_munmap(addr, PAGE_SIZE);
		return -EINVAL;
	}
	*xom = false;
	mmap_read_lock(current->mm);
	vma = vma_lookup(current->mm, 0);
	if (vma)
		*xom = vma_pkey(vma) != 0;
	mmap_read_unlock(current->mm);
	return 0;
}

/* Seal @vma (mseal semantics): no mprotect, munmap, mremap or MAP_FIXED. */
void trampfd_vma_seal(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_SEALED);
}

#endif /* CONFIG_TRAMPFD_ZPOLINE: the zpoline helpers */
