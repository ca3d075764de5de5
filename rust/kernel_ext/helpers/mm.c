// SPDX-License-Identifier: GPL-2.0

#include <linux/mm.h>
#include <linux/uaccess.h>

__rust_helper unsigned long rust_helper_task_size_max(void)
{
	return TASK_SIZE_MAX;
}
