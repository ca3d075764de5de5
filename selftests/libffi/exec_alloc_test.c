// SPDX-License-Identifier: GPL-2.0
/*
 * Consumers that use ffi_closure_alloc() as an executable-memory allocator
 * (x86-64), modelled on the upstream code that does it:
 *
 *   exec_alloc_test ghc-native	GHC's RTS before 9.0.2 with native adjustors
 *	(x86-64): rts/sm/Storage.c's Linux allocateExec() takes
 *	ffi_closure_alloc(8 + n), stores the writable address in the first
 *	word and returns writable + 8 / code + 8; rts/Adjustor.c's
 *	createAdjustor() writes machine code through the writable pointer and
 *	hands out the code pointer without ever calling ffi_prep_closure_loc;
 *	freeHaskellFunctionPtr() checks the code's first bytes and reads the
 *	stable pointer through the code pointer, and freeExec() reads the
 *	writable address back from code - 8.
 *   exec_alloc_test ghc-libffi	the same RTS with libffi adjustors (every
 *	architecture but i386/x86-64): createAdjustor() prepares the closure
 *	on allocateExec()'s writable + 8 with its code + 8 as code address;
 *	freeHaskellFunctionPtr() reads cl->user_data and cl->cif through the
 *	code pointer and calls freeExec() on it.
 *   exec_alloc_test gi		gobject-introspection before 1.70
 *	(girepository/girffi.c): g_callable_info_prepare_closure() allocates a
 *	GIClosureWrapper (an ffi_closure and writable_self), prepares it and
 *	returns the code address as the closure; g_callable_info_free_closure()
 *	gets that code address back (PyGObject 3.40's pygi-closure.c) and
 *	reads cif->arg_types and writable_self through it (meld's crash in
 *	libffi PR 647).
 *   exec_alloc_test free-code	a closure freed by its code address (stock
 *	libffi's ffi_closure_free accepts either address).
 *   exec_alloc_test free-readback	freeExec()'s read of code - 8 on a
 *	closure whose code address is not a view of the object: the word is
 *	no closure (on the drop-in: the end of the previous slot), and it is
 *	handed to ffi_closure_free().
 *
 * The functions keep their upstream names (allocateExec,
 * g_callable_info_prepare_closure): built with -rdynamic they are dynamic
 * symbols, as in GHC's shared RTS and in libgirepository, and the drop-in
 * recognises them; built without, they are anonymous (a static RTS).
 * Built with -fno-inline, so that ffi_closure_alloc() returns into them.
 *
 * Exit status: 0 all worked (results checked), 3 ffi_closure_alloc
 * failed, 4 ffi_prep_closure_loc failed, 5 a result was wrong, 6
 * freeHaskellFunctionPtr refused the pointer ("not for me, guv!").  Prints
 * where the closure's code lives ("code on /dev/trampfd" or not) when
 * /proc is mounted.
 */
#define _GNU_SOURCE
#include <ffi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Is @addr inside a mapping of /dev/trampfd?  -1 without /proc. */
static int on_trampfd(const void *addr)
{
	uintptr_t a = (uintptr_t)addr, lo, hi;
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi)
			found = strstr(line, "/dev/trampfd") != NULL;
	fclose(f);
	return found;
}

static void where(const void *code)
{
	int t = on_trampfd(code);

	if (t >= 0)
		printf("code %s/dev/trampfd\n", t ? "on " : "not on ");
	fflush(stdout);
}

/* rts/sm/Storage.c (GHC 8.10, Linux): allocateExec / freeExec. */
void *allocateExec(size_t bytes, void **exec_ret)
{
	void **ret, **exec;

	ret = ffi_closure_alloc(sizeof(void *) + bytes, (void **)&exec);
	if (!ret)
		return NULL;
	*ret = ret;		/* the writable address, for freeExec() */
	*exec_ret = exec + 1;
	return ret + 1;
}

void freeExec(void *addr)
{
	ffi_closure_free(*((void **)addr - 1));
}

typedef long (*adjustor_fn)(long x);

/* The Haskell side: the "wrapper" the adjustor enters with its stable pointer. */
static long wrapper(long x, long hptr)
{
	return x * 10 + hptr;
}

/*
 * rts/Adjustor.c (x86-64, native): the adjustor's code, written through the
 * writable pointer: movabs $hptr, %rsi; movabs $wptr, %r11; jmp *%r11.
 */
static void *create_native_adjustor(long hptr)
{
	void *code;
	unsigned char *w = allocateExec(32, &code);
	uint64_t v;

	if (!w)
		return NULL;
	w[0] = 0x48; w[1] = 0xbe;			/* movabs $hptr, %rsi */
	v = (uint64_t)hptr;
	memcpy(w + 2, &v, 8);
	w[10] = 0x49; w[11] = 0xbb;			/* movabs $wptr, %r11 */
	v = (uint64_t)(uintptr_t)wrapper;
	memcpy(w + 12, &v, 8);
	w[20] = 0x41; w[21] = 0xff; w[22] = 0xe3;	/* jmp *%r11 */
	return code;
}

/* freeHaskellFunctionPtr (native): 0, or 6 for "not for me, guv!". */
static int free_native_adjustor(void *ptr)
{
	long hptr;

	if (*(uint16_t *)ptr != 0xbe48) {
		fprintf(stderr, "freeHaskellFunctionPtr: not for me, guv! %p\n", ptr);
		return 6;
	}
	memcpy(&hptr, (char *)ptr + 2, sizeof(hptr));
	if (hptr != 7)
		return 5;
	freeExec(ptr);
	return 0;
}

static int ghc_native(void)
{
	adjustor_fn fn = (adjustor_fn)create_native_adjustor(7);

	if (!fn)
		return 3;
	where((void *)fn);
	if (fn(4) != 47)
		return 5;
	printf("adjustor called: 47\n");
	return free_native_adjustor((void *)fn);
}

/* rts/Adjustor.c (USE_LIBFFI_FOR_ADJUSTORS): the closure's handler. */
static void adjustor_handler(ffi_cif *cif, void *ret, void **args, void *hptr)
{
	*(ffi_arg *)ret = wrapper(*(long *)args[0], (long)(intptr_t)hptr);
}

static ffi_type *long_arg[1] = { &ffi_type_slong };

static int ghc_libffi(void)
{
	ffi_cif *cif = calloc(1, sizeof(*cif));
	ffi_closure *cl, *rd;
	void *code;
	adjustor_fn fn;

	if (!cif || ffi_prep_cif(cif, FFI_DEFAULT_ABI, 1, &ffi_type_slong, long_arg) != FFI_OK)
		return 5;
	cl = allocateExec(sizeof(ffi_closure), &code);
	if (!cl)
		return 3;
	if (ffi_prep_closure_loc(cl, cif, adjustor_handler, (void *)7, code) != FFI_OK) {
		fprintf(stderr, "ffi_prep_closure_loc failed\n");
		return 4;
	}
	where(code);
	fn = (adjustor_fn)code;
	if (fn(4) != 47)
		return 5;
	printf("adjustor called: 47\n");
	/* freeHaskellFunctionPtr: the closure read through the code pointer. */
	rd = code;
	if (rd->user_data != (void *)7 || rd->cif != cif)
		return 5;
	freeExec(code);
	free(cif);
	return 0;
}

/* girepository/girffi.c (gobject-introspection 1.68). */
struct gi_closure_wrapper {
	ffi_closure ffi_closure;
	void *writable_self;
};

ffi_closure *g_callable_info_prepare_closure(ffi_cif *cif,
		void (*callback)(ffi_cif *, void *, void **, void *), void *user_data)
{
	struct gi_closure_wrapper *closure;
	void *exec_ptr;
	ffi_type **atypes = malloc(2 * sizeof(*atypes));

	if (!atypes)
		return NULL;
	atypes[0] = &ffi_type_sint;
	atypes[1] = &ffi_type_sint;
	closure = ffi_closure_alloc(sizeof(*closure), &exec_ptr);
	if (!closure) {
		fprintf(stderr, "could not allocate closure\n");
		free(atypes);
		return NULL;
	}
	closure->writable_self = closure;
	if (ffi_prep_cif(cif, FFI_DEFAULT_ABI, 2, &ffi_type_sint, atypes) != FFI_OK ||
	    ffi_prep_closure_loc(&closure->ffi_closure, cif, callback, user_data,
				 exec_ptr) != FFI_OK) {
		ffi_closure_free(closure);
		free(atypes);
		return NULL;
	}
	return exec_ptr;
}

void g_callable_info_free_closure(ffi_closure *closure)
{
	struct gi_closure_wrapper *wrapper = (struct gi_closure_wrapper *)closure;

	free(wrapper->ffi_closure.cif->arg_types);
	ffi_closure_free(wrapper->writable_self);
}

/* The binding's callback (PyGObject: _pygi_closure_handle): a comparator. */
static void compare_handler(ffi_cif *cif, void *ret, void **args, void *ud)
{
	int a = **(int **)args[0], b = **(int **)args[1];

	++*(int *)ud;
	*(ffi_arg *)ret = (ffi_arg)(a > b) - (a < b);
}

static int gi(void)
{
	static ffi_cif cif;
	int v[] = { 5, 3, 9, 1, 7, 2 }, calls = 0, i;
	ffi_closure *cl = g_callable_info_prepare_closure(&cif, compare_handler, &calls);

	if (!cl)
		return 3;
	where(cl);
	qsort(v, 6, sizeof(int), (int (*)(const void *, const void *))cl);
	for (i = 1; i < 6; i++)
		if (v[i - 1] > v[i])
			return 5;
	printf("sorted through the callback (%d calls)\n", calls);
	fflush(stdout);
	g_callable_info_free_closure(cl);
	printf("freed\n");
	return calls > 0 ? 0 : 5;
}

static void add_handler(ffi_cif *cif, void *ret, void **args, void *ud)
{
	*(ffi_arg *)ret = (ffi_arg)(*(int *)args[0] + (int)(intptr_t)ud);
}

static ffi_type *int_arg[1] = { &ffi_type_sint };

/* A closure freed by its code address; the next one gets its slot back. */
static int free_code(void)
{
	ffi_cif cif;
	void *code, *code2;
	ffi_closure *c = ffi_closure_alloc(sizeof(*c), &code);

	if (!c)
		return 3;
	if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 1, &ffi_type_sint, int_arg) != FFI_OK ||
	    ffi_prep_closure_loc(c, &cif, add_handler, (void *)5, code) != FFI_OK)
		return 4;
	where(code);
	if (((int (*)(int))code)(37) != 42)
		return 5;
	ffi_closure_free(code);
	c = ffi_closure_alloc(sizeof(*c), &code2);
	if (!c)
		return 3;
	if (ffi_prep_closure_loc(c, &cif, add_handler, (void *)6, code2) != FFI_OK)
		return 4;
	if (((int (*)(int))code2)(37) != 43)
		return 5;
	printf("freed by its code address; the next closure works%s\n",
	       code2 == code ? " on the same code address" : "");
	ffi_closure_free(c);
	return 0;
}

/* Two prepared closures, then freeExec() on the second one's code. */
static int free_readback(void)
{
	ffi_cif cif;
	void *code[2];
	ffi_closure *c;
	int i;

	if (ffi_prep_cif(&cif, FFI_DEFAULT_ABI, 1, &ffi_type_sint, int_arg) != FFI_OK)
		return 5;
	for (i = 0; i < 2; i++) {
		c = ffi_closure_alloc(sizeof(*c), &code[i]);
		if (!c)
			return 3;
		if (ffi_prep_closure_loc(c, &cif, add_handler, (void *)5, code[i]) != FFI_OK)
			return 4;
		if (((int (*)(int))code[i])(37) != 42)
			return 5;
	}
	where(code[1]);
	fflush(stdout);
	freeExec(code[1]);
	printf("freed\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (!strcmp(m, "ghc-native"))
		return ghc_native();
	if (!strcmp(m, "ghc-libffi"))
		return ghc_libffi();
	if (!strcmp(m, "gi"))
		return gi();
	if (!strcmp(m, "free-code"))
		return free_code();
	if (!strcmp(m, "free-readback"))
		return free_readback();
	fprintf(stderr, "usage: exec_alloc_test ghc-native|ghc-libffi|gi|free-code|free-readback\n");
	return 2;
}
