// SPDX-License-Identifier: GPL-2.0
/*
 * Not a libffi: a shared object with libffi's three closure functions
 * (symbol version LIBFFI_CLOSURE_8.0, badffi.map, which exports nothing
 * else but badffi_text_entry) whose
 * ffi_prep_closure_loc writes libffi's x86-64 trampoline, fields and all,
 * with an entry that is not code: the address of a word in its .data
 * (built -DENTRY_IN_TEXT: of a function in its .text instead).  The
 * drop-in must refuse the first (FFI_BAD_ABI: an address in the library,
 * but not in an executable segment) and accept the second, and neither
 * may touch the closures of the real copies (copies_test.c).
 */
#include <ffi.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char tramp[24] = {
	0xf3, 0x0f, 0x1e, 0xfa, 0x4c, 0x8d, 0x15, 0xf5, 0xff, 0xff, 0xff,
	0xff, 0x25, 0x07, 0x00, 0x00, 0x00, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,
};

/* In .data: initialised, writable. */
unsigned char badffi_data[64] = { 0xc3 };

/* In .text; never called (copies_test.c does not call these closures). */
void badffi_text_entry(void)
{
	abort();
}

void *ffi_closure_alloc(size_t size, void **code)
{
	void *c = calloc(1, size);

	if (c && code)
		*code = c;
	return c;
}

void ffi_closure_free(void *c)
{
	free(c);
}

ffi_status ffi_prep_closure_loc(ffi_closure *c, ffi_cif *cif,
				       void (*fun)(ffi_cif *, void *, void **, void *),
				       void *ud, void *codeloc)
{
#ifdef ENTRY_IN_TEXT
	void *entry = (void *)badffi_text_entry;
#else
	void *entry = badffi_data;
#endif

	memcpy(c->tramp, tramp, sizeof(tramp));
	memcpy(c->tramp + sizeof(tramp), &entry, sizeof(entry));
	c->cif = cif;
	c->fun = fun;
	c->user_data = ud;
	return FFI_OK;
}
