/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libffi's own closure functions in a program linked with
 * -Wl,--wrap=ffi_closure_alloc,... (the linker maps __real_NAME to NAME).
 */
#ifndef _TRAMPFD_FFI_REAL_H
#define _TRAMPFD_FFI_REAL_H

#include <ffi.h>

void *__real_ffi_closure_alloc(size_t size, void **code);
ffi_status __real_ffi_prep_closure_loc(ffi_closure *c, ffi_cif *cif,
				       void (*fun)(ffi_cif *, void *, void **, void *),
				       void *ud, void *codeloc);
void __real_ffi_closure_free(void *ptr);

#endif /* _TRAMPFD_FFI_REAL_H */
