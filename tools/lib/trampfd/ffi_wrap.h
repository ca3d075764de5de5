/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Symbols of a static link with -Wl,--wrap=ffi_closure_alloc,... (private
 * to ffi_trampfd.c): the linker sends NAME to __wrap_NAME and __real_NAME
 * to libffi's NAME.
 */
#ifndef _TRAMPFD_FFI_WRAP_H
#define _TRAMPFD_FFI_WRAP_H

#include <ffi.h>

typedef void closure_fun_t(ffi_cif *, void *, void **, void *);

void *__real_ffi_closure_alloc(size_t size, void **code);
ffi_status __real_ffi_prep_closure_loc(ffi_closure *c, ffi_cif *cif, closure_fun_t *fun,
				       void *ud, void *codeloc);
void __real_ffi_closure_free(void *ptr);

void *__wrap_ffi_closure_alloc(size_t size, void **code);
ffi_status __wrap_ffi_prep_closure_loc(ffi_closure *c, ffi_cif *cif, closure_fun_t *fun,
				       void *ud, void *codeloc);
void __wrap_ffi_closure_free(void *ptr);

#endif /* _TRAMPFD_FFI_WRAP_H */
