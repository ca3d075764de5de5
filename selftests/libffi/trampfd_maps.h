/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a closure's code lives, for the libffi tests (dropin_test,
 * plugin_host, copies_test): one reading of /proc/self/maps.
 */
#ifndef TRAMPFD_MAPS_H
#define TRAMPFD_MAPS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Is @addr inside a mapping of /dev/trampfd (from /proc/self/maps)? */
static inline int on_trampfd_page(const void *addr)
{
	uintptr_t a = (uintptr_t)addr, lo, hi;
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi)
			found = strstr(line, "/dev/trampfd") != NULL;
	if (f)
		fclose(f);
	return found;
}

#endif /* TRAMPFD_MAPS_H */
