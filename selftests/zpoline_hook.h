/* SPDX-License-Identifier: GPL-2.0 */
/* The hook in zpoline_hook.S and what it records. */
#ifndef ZPOLINE_HOOK_H
#define ZPOLINE_HOOK_H

void zp_hook(void);
extern long zp_calls, zp_last_rcx, zp_last_ret;

#endif /* ZPOLINE_HOOK_H */
