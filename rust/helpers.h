/* SPDX-License-Identifier: GPL-2.0 */
/* Prototypes of the C helpers in helpers.c, called from the Rust side. */
#ifndef TRAMPFD_HELPERS_H
#define TRAMPFD_HELPERS_H

#include <linux/types.h>

struct file;
struct page;

void trampfd_get_page(struct page *page);
unsigned long trampfd_task_size_max(void);
int trampfd_reopen(struct file *file, bool cloexec);

#endif /* TRAMPFD_HELPERS_H */
