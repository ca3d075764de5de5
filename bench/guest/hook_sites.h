/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The syscall sites and hooks of hook_bench.c, written in its top-level asm:
 * site_N is `mov $N, %eax; syscall; ret`, page_N the same with `call *%rax`,
 * empty_fn (alias empty_fn3) only returns, hb_hook is `syscall; ret` and
 * hb_ret is `ret`.
 */
#ifndef TRAMPFD_HOOK_SITES_H
#define TRAMPFD_HOOK_SITES_H

long site_0(long fd, void *p, long n);
long site_39(void);
long site_231(void);
long site_450(void);
long page_0(long fd, void *p, long n);
long page_39(void);
long page_231(void);
long page_450(void);
long empty_fn(void);
long empty_fn3(long fd, void *p, long n);
void hb_hook(void);
void hb_ret(void);

#endif /* TRAMPFD_HOOK_SITES_H */
