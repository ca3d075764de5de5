// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in libffi.so.8 (x86-64) for layout_test: its closure functions
 * behave like libffi 3.4's, except as FAKE_FFI says, so that the drop-in's
 * layout checks can be seen to refuse what they must.
 *
 *   FAKE_FFI=ok	 libffi's template, entry in this library's text
 *   FAKE_FFI=template	 one template byte differs
 *   FAKE_FFI=fields	 cif/fun/user_data stored at other offsets
 *   FAKE_FFI=entry	 the template is right, the entry is not in this library
 *   FAKE_FFI=data	 the entry is in this library, but in its data (a
 *			 writable, non-executable segment)
 *
 * The entry, fake_ffi_entry, returns the closure register r10: calling a
 * closure returns the closure object it was given.
 */
#include <ffi.h>
#include <stdlib.h>
#include <string.h>

void fake_ffi_entry(void);
/* Bytes in this library's .data, where no entry may point. */
unsigned char fake_ffi_data[64] = { 0xc3 };
__asm__(".text\n.globl fake_ffi_entry\n.type fake_ffi_entry,@function\n"
	"fake_ffi_entry:\n\tmov %r10, %rax\n\tret\n");

static const unsigned char template[24] = {
	0xf3, 0x0f, 0x1e, 0xfa,				/* endbr64 */
	0x4c, 0x8d, 0x15, 0xf5, 0xff, 0xff, 0xff,	/* lea -0xb(%rip),%r10 */
	0xff, 0x25, 0x07, 0x00, 0x00, 0x00,		/* jmp *0x7(%rip) */
	0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,	/* nopl 0(%rax) */
};

void *ffi_closure_alloc(size_t size, void **code)
{
	void *p = calloc(1, size);

	*code = p;
	return p;
}

void ffi_closure_free(void *p)
{
	free(p);
}

ffi_status ffi_prep_closure_loc(ffi_closure *c, ffi_cif *cif,
				void (*fun)(ffi_cif *, void *, void **, void *),
				void *ud, void *codeloc)
{
	const char *mode = getenv("FAKE_FFI");
	void *entry = (void *)fake_ffi_entry;

	memcpy(c->tramp, template, sizeof(template));
	c->cif = cif;
	c->fun = fun;
	c->user_data = ud;
	if (mode && !strcmp(mode, "template"))
		c->tramp[6] ^= 1;
	if (mode && !strcmp(mode, "fields")) {
		c->cif = (ffi_cif *)ud;
		c->user_data = cif;
	}
	if (mode && !strcmp(mode, "entry"))
		entry = (void *)&abort;
	if (mode && !strcmp(mode, "data"))
		entry = (void *)fake_ffi_data;
	memcpy(c->tramp + sizeof(template), &entry, sizeof(entry));
	return FFI_OK;
}
