/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CLOSURE_ENTRY_H
#define CLOSURE_ENTRY_H

/* closure_entry.S: 2nd argument = data register, then jump to handler. */
void closure_entry(void);

#endif /* CLOSURE_ENTRY_H */
