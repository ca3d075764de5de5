// SPDX-License-Identifier: GPL-2.0
/*
 * A plugin (shared object) with its own static libffi, linked with
 * libtrampfd-ffi.a the static way (scripts/check-ffi-dropin):
 *
 *	cc -shared -fPIC plugin.c -Wl,--wrap=ffi_closure_alloc \
 *	   -Wl,--wrap=ffi_prep_closure_loc -Wl,--wrap=ffi_closure_free \
 *	   libtrampfd-ffi.a libffi_pic.a
 *
 * It must dlopen (no reference to the executable's __executable_start),
 * export only plugin_add, and make its closures on trampfd.
 */
#include <ffi.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

static ffi_type *argt[1] = { &ffi_type_sint32 };

static void add_handler(ffi_cif *c, void *ret, void **args, void *ud)
{
	*(ffi_arg *)ret = (ffi_arg)(*(int *)args[0] + (int)(intptr_t)ud);
}

/* x + 5 through a fresh closure; its code address in *@code. -1: failed. */
EXPORT int plugin_add(int x, void **code)
{
	ffi_closure *c;
	ffi_cif cif;
	int r;

	if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 1, &ffi_type_sint32, argt) != FFI_OK)
		return -1;
	c = ffi_closure_alloc(sizeof(*c), code);
	if (!c)
		return -1;
	if (ffi_prep_closure_loc(c, &cif, add_handler, (void *)5, *code) != FFI_OK) {
		ffi_closure_free(c);
		return -1;
	}
	r = ((int (*)(int))*code)(x);
	ffi_closure_free(c);
	return r;
}
