/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CLOSURE_ENTRY_H
#define CLOSURE_ENTRY_H

/* closure_entry.S: rsi = r10, then jmp *closure->handler. */
void closure_entry(void);

#endif /* CLOSURE_ENTRY_H */
