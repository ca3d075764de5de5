/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prototypes of the C helpers in helpers.c, called from the Rust side;
 * rust/ffi.rs declares each one once, with the same types.
 */
#ifndef TRAMPFD_HELPERS_H
#define TRAMPFD_HELPERS_H

#include <linux/types.h>

struct file;
struct vm_area_struct;

bool trampfd_zpoline_allowed(u32 gid);
bool trampfd_zpoline_cpu_protects_null(void);
bool trampfd_zpoline_pkeys_enabled(void);
bool trampfd_vma_xom(struct vm_area_struct *vma);
int trampfd_zpoline_map(struct file *file, bool *xom);
void trampfd_vma_seal(struct vm_area_struct *vma);

#endif /* TRAMPFD_HELPERS_H */
