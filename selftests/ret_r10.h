/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RET_R10_H
#define RET_R10_H

/* ret_r10.S: returns the trampoline's data register. */
long ret_r10(void);

#endif /* RET_R10_H */
