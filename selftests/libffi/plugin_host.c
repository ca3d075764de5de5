// SPDX-License-Identifier: GPL-2.0
/*
 * dlopen a plugin that carries libtrampfd-ffi.a and its own libffi (see
 * plugin.c) and call a closure in it; TAP on stdout.
 *
 *	plugin_host PLUGIN.so [--no-device]
 *
 * --no-device (the host): the closure comes from the plugin's libffi; else
 * (the guest) it must be on a /dev/trampfd page.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "trampfd_maps.h"

int main(int argc, char **argv)
{
	int (*add)(int x, void **code);
	int device = !(argc > 2 && !strcmp(argv[2], "--no-device"));
	void *h, *code = NULL;
	int r;

	printf("1..3\n");
	h = argc > 1 ? dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) : NULL;
	if (!h) {
		printf("not ok 1 plugin dlopens: %s\nnot ok 2 closure in the plugin\n"
		       "not ok 3 its code on trampfd\n", argc > 1 ? dlerror() : "no argument");
		return 1;
	}
	printf("ok 1 plugin dlopens\n");
	add = (int (*)(int, void **))dlsym(h, "plugin_add");
	r = add ? add(37, &code) : -2;
	printf("%s 2 closure in the plugin returns 42 (%d)\n", r == 42 ? "ok" : "not ok", r);
	if (device)
		printf("%s 3 its code on a trampfd page\n", on_trampfd_page(code) ? "ok" : "not ok");
	else
		printf("%s 3 its code not on a trampfd page without the device\n",
		       !on_trampfd_page(code) ? "ok" : "not ok");
	return r == 42 && on_trampfd_page(code) == device ? 0 : 1;
}
