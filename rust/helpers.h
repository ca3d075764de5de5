/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prototypes of the C helpers in helpers.c, called from the Rust side;
 * rust/ffi.rs declares each one once, with the same types.
 */
#ifndef TRAMPFD_HELPERS_H
#define TRAMPFD_HELPERS_H

#include <linux/types.h>

struct file;
struct mm_struct;
struct page;
struct vm_area_struct;
struct vm_fault;

void trampfd_get_page(struct page *page);
struct vm_area_struct *trampfd_vmf_vma(struct vm_fault *vmf);
unsigned long trampfd_vmf_pgoff(struct vm_fault *vmf);
void trampfd_flush_icache_page(struct page *page);
unsigned long trampfd_task_size_max(void);
bool trampfd_in_compat_syscall(void);
u32 trampfd_current_uid(void);
int trampfd_reopen(struct file *file, bool cloexec);
bool trampfd_zpoline_allowed(u32 gid);
bool trampfd_zpoline_cpu_protects_null(void);
bool trampfd_zpoline_pkeys_enabled(void);
bool trampfd_vma_xom(struct vm_area_struct *vma);
int trampfd_zpoline_map(struct file *file, bool *xom);
void trampfd_vma_seal(struct vm_area_struct *vma);
int trampfd_memlock_charge(struct mm_struct *mm);
void trampfd_memlock_uncharge(struct mm_struct *mm);

#endif /* TRAMPFD_HELPERS_H */
