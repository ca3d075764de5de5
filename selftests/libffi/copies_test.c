// SPDX-License-Identifier: GPL-2.0
/*
 * Two copies of libffi in one process, through the drop-in (see
 * copies_plugin.c): each closure must be prepared by, and jump into, the
 * copy its module binds to, never the other; an entry outside a copy's
 * executable segments (badffi.c) must be refused for that copy alone.
 * TAP on stdout, the plan at the end.
 *
 *	copies_test DIR [--no-device]
 *
 * DIR holds copies_a.so, copies_b.so, copies_bad_data.so and
 * copies_bad_text.so.  Built without libffi (both copies are loaded
 * RTLD_LOCAL, as Python's _ctypes and a wheel's module with its bundled
 * copy are) and, as copies_test-global, linked with the system's libffi,
 * which the dynamic linker then binds both modules to (the global scope
 * comes first): both must use that one.  --no-device (the host): every
 * closure is libffi's own (passed through), still each from its copy;
 * else (the guest) they are on /dev/trampfd pages, and the bad copies'
 * preparations are checked.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "trampfd_maps.h"

#define FFI_OK 0
#define FFI_BAD_ABI 2

struct plugin {
	const char *name;
	void *h;
	void *(*prep_cif)(void);
	void *(*make)(int k, int deprecated, void **code, void **entry, int *status);
	void (*free)(void *c);
	const char *copy;		/* file of the copy its ffi_prep_cif is in */
	void *copy_base;
};

static int n, failed;

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", ok ? "ok" : "not ok", ++n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed += !ok;
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path ? path : "?";
}

/* The object @addr is in: its base, and its file in *@file. */
static void *object(const void *addr, const char **file)
{
	Dl_info info;

	if (!addr || !dladdr(addr, &info)) {
		*file = "(none)";
		return NULL;
	}
	*file = base_name(info.dli_fname);
	return info.dli_fbase;
}

static int load(struct plugin *p, const char *dir, const char *name)
{
	char path[4096];

	p->name = name;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	p->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!p->h) {
		printf("# %s\n", dlerror());
		return 0;
	}
	p->prep_cif = (void *(*)(void))dlsym(p->h, "copies_prep_cif");
	p->make = (void *(*)(int, int, void **, void **, int *))dlsym(p->h, "copies_make");
	p->free = (void (*)(void *))dlsym(p->h, "copies_free");
	if (!p->prep_cif || !p->make || !p->free)
		return 0;
	p->copy_base = object(p->prep_cif(), &p->copy);
	return 1;
}

#define ROUNDS 4

int main(int argc, char **argv)
{
	int device = !(argc > 2 && !strcmp(argv[2], "--no-device"));
	int global = dlsym(RTLD_DEFAULT, "ffi_prep_cif") != NULL;
	struct plugin pl[2], bad[2];
	void *c[2][ROUNDS], *code[2][ROUNDS];
	int i, j, r, st, ok;

	if (argc < 2) {
		fprintf(stderr, "usage: copies_test DIR [--no-device]\n");
		return 2;
	}
	ok = load(&pl[0], argv[1], "copies_a.so") && load(&pl[1], argv[1], "copies_b.so");
	tap(ok, "modules with two copies of libffi load (RTLD_LOCAL)");
	if (!ok)
		goto out;
	if (global)
		tap(!strcmp(pl[0].copy, "libffi.so.8") && pl[0].copy_base == pl[1].copy_base,
		    "with libffi.so.8 global, both modules bind it (%s, %s)", pl[0].copy, pl[1].copy);
	else
		tap(!strcmp(pl[0].copy, "libffi.so.8") && !strcmp(pl[1].copy, "libffi-bundled.so.8"),
		    "module A binds libffi.so.8 (%s), module B libffi-bundled.so.8 (%s)",
		    pl[0].copy, pl[1].copy);

	/* Closures of both copies, all alive together: even ones deprecated. */
	for (j = 0; j < ROUNDS; j++)
		for (i = 0; i < 2; i++) {
			struct plugin *p = &pl[i];
			const char *ef;
			void *entry = NULL, *eb;

			c[i][j] = p->make(10 * i + j, j & 1, &code[i][j], &entry, &st);
			eb = object(entry, &ef);
			tap(c[i][j] && eb == p->copy_base,
			    "%s, closure %d (%s): prepared by and entering the copy it binds, %s (entry in %s)",
			    p->name, j, j & 1 ? "ffi_prep_closure" : "ffi_prep_closure_loc",
			    p->copy, ef);
			if (!c[i][j])
				goto out;
		}
	for (j = 0; j < ROUNDS; j++)
		for (i = 0; i < 2; i++) {
			r = ((int (*)(int))code[i][j])(100);
			tap(r == 100 + 10 * i + j, "%s, closure %d returns %d (%d)", pl[i].name, j,
			    100 + 10 * i + j, r);
		}
	for (i = 0; i < 2; i++) {
		for (j = 0, ok = 1; j < ROUNDS; j++)
			ok &= on_trampfd_page(code[i][j]) == device;
		tap(ok, "%s: its closures are %son trampfd pages", pl[i].name, device ? "" : "not ");
	}

	if (device && !global) {
		ok = load(&bad[0], argv[1], "copies_bad_text.so") &&
		     load(&bad[1], argv[1], "copies_bad_data.so");
		tap(ok, "modules with two libraries that are not libffi load");
		if (!ok)
			goto out;
		for (i = 0; i < 2; i++) {
			void *cc, *e, *k;

			cc = bad[i].make(1, 0, &k, &e, &st);
			tap(i ? !cc && st == FFI_BAD_ABI : cc && st == FFI_OK,
			    "%s: an entry in its %s is %s (status %d)", bad[i].name,
			    i ? ".data (a PT_LOAD segment without PF_X)" : ".text",
			    i ? "refused with FFI_BAD_ABI" : "accepted", st);
			if (cc)
				bad[i].free(cc);
		}
		/* The refusal is that copy's: the real ones keep working. */
		for (i = 0; i < 2; i++) {
			void *cc, *e, *k;

			cc = pl[i].make(50, 0, &k, &e, &st);
			r = cc ? ((int (*)(int))k)(1) : -1;
			tap(r == 51, "%s: closures still work after another copy was refused (%d)",
			    pl[i].name, r);
			if (cc)
				pl[i].free(cc);
		}
	}
	for (j = 0; j < ROUNDS; j++)
		for (i = 0; i < 2; i++)
			pl[i].free(c[i][j]);
out:
	printf("1..%d\n", n);
	return failed || n < 3 ? 1 : 0;
}
