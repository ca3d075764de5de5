// SPDX-License-Identifier: GPL-2.0
/*
 * A module that makes libffi closures with the libffi it is linked
 * against; copies_test.c loads two builds of it, each with its own copy of
 * libffi (scripts/check-ffi-dropin):
 *
 *	copies_a.so: against the system's libffi.so.8 (3.4.4 on Debian 12);
 *	copies_b.so: against libffi-bundled.so.8, libffi 3.4.8 built as a
 *	  wheel bundles it (its own soname, beside the module: rpath $ORIGIN).
 *
 *	copies_bad_data.so, copies_bad_text.so (-DBAD_COPY): against badffi.c's
 *	  two builds, which are not libffi.
 *
 * It reports which copy its ffi_prep_cif binds to, and the entry each of
 * its closures jumps into (the word libffi's trampoline jumps through, in
 * the closure's tramp[]: x86-64 only).
 */
#include <ffi.h>
#include <stdint.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
#define ENTRY_OFFSET 24

#ifdef BAD_COPY
/* badffi.c has no ffi_type_sint32 either. */
static ffi_type sint32 = { 4, 4, FFI_TYPE_SINT32, NULL };
#define T_SINT32 (&sint32)
#else
#define T_SINT32 (&ffi_type_sint32)
#endif

static ffi_type *argt[1] = { T_SINT32 };
static ffi_cif cif;

static void add_handler(ffi_cif *c, void *ret, void **args, void *ud)
{
	*(ffi_arg *)ret = (ffi_arg)(*(int *)args[0] + (int)(intptr_t)ud);
}

#ifdef BAD_COPY
/* Linked against badffi.c, which has no ffi_prep_cif: a cif by hand. */
void badffi_text_entry(void);

static ffi_status prep_cif(void)
{
	cif.abi = FFI_DEFAULT_ABI;
	cif.nargs = 1;
	cif.arg_types = argt;
	cif.rtype = T_SINT32;
	return FFI_OK;
}

EXPORT void *copies_prep_cif(void)
{
	return (void *)badffi_text_entry;
}
#else
static ffi_status prep_cif(void)
{
	return ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 1, T_SINT32, argt);
}

/* ffi_prep_cif as this module binds it: the copy of libffi it uses. */
EXPORT void *copies_prep_cif(void)
{
	return (void *)ffi_prep_cif;
}
#endif

/*
 * A closure returning x + @k: prepared with ffi_prep_closure_loc, or with
 * the deprecated ffi_prep_closure (which calls it from inside libffi) if
 * @deprecated.  Its code address in *@code, its entry in *@entry; NULL if
 * any step failed (*@status: ffi_prep_closure_loc's result).
 */
EXPORT void *copies_make(int k, int deprecated, void **code, void **entry, int *status)
{
	ffi_closure *c;

	*status = -1;
	if (!cif.arg_types && prep_cif() != FFI_OK)
		return NULL;
	c = ffi_closure_alloc(sizeof(*c), code);
	if (!c)
		return NULL;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#ifndef BAD_COPY
	if (deprecated)
		*status = ffi_prep_closure(c, &cif, add_handler, (void *)(intptr_t)k);
	else
#endif
		*status = ffi_prep_closure_loc(c, &cif, add_handler, (void *)(intptr_t)k, *code);
#pragma GCC diagnostic pop
	if (*status != FFI_OK) {
		ffi_closure_free(c);
		return NULL;
	}
	memcpy(entry, c->tramp + ENTRY_OFFSET, sizeof(*entry));
	return c;
}

EXPORT void copies_free(void *c)
{
	ffi_closure_free(c);
}
