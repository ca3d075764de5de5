// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-tree build's rust/helpers/helpers.c: the C helpers of the
 * abstractions in rust/kernel_ext/, for static inline functions and macros
 * that Rust cannot call.  Each included file is the rust/helpers/ file of
 * the same name in the series (scripts/mkseries adds its functions there);
 * bindings.rs declares them.
 */

#include <linux/compiler_types.h>

/*
 * Plain functions: the kernel inlines them into Rust only in its own build
 * (its rust/helpers/helpers.c defines __rust_helper, no header does in 7.3).
 */
#ifndef __rust_helper
#define __rust_helper
#endif

#include "helpers/cacheflush.c"
#include "helpers/compat.c"
#include "helpers/mm.c"
#include "helpers/page.c"
