// SPDX-License-Identifier: GPL-2.0

#include <linux/cacheflush.h>

__rust_helper void rust_helper_flush_icache_range(unsigned long start,
						  unsigned long end)
{
	flush_icache_range(start, end);
}
