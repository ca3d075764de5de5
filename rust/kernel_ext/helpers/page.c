// SPDX-License-Identifier: GPL-2.0

#include <linux/mm.h>

__rust_helper void rust_helper_get_page(struct page *page)
{
	get_page(page);
}
