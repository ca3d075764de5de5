/* SPDX-License-Identifier: GPL-2.0 */
/* The hook in zpoline_hook.S and what it records. */
#ifndef ZPOLINE_HOOK_H
#define ZPOLINE_HOOK_H

void zp_hook(void);
extern long zp_calls, zp_last_rcx, zp_last_ret;

/* The register fingerprint harness (zpoline_hook.S). */
void zp_fp_call(const unsigned long *block);
void zp_fp_back(void);
void zp_fp_land(void);
extern unsigned long zp_fp_seen[18], zp_fp_rsp;

#endif /* ZPOLINE_HOOK_H */
