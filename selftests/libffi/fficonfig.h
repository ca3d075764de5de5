/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the configuration header of a libffi build tree, for compiling
 * libffi's testsuite (testsuite/libffi.call/ffitest.h includes it) against
 * an installed libffi.  Only what the tests look at: the headers they may
 * include and the mmap flavour.  FFI_EXEC_STATIC_TRAMP stays undefined, as
 * in Debian's build (--disable-exec-static-tramp) and in the cross-built
 * libffi of scripts/build-libffi.
 */
#ifndef _TRAMPFD_FFICONFIG_H
#define _TRAMPFD_FFICONFIG_H

#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_MMAP_ANON 1

#endif /* _TRAMPFD_FFICONFIG_H */
