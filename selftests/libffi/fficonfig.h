/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for the configuration header of a libffi build tree, for compiling
 * libffi's testsuite (testsuite/libffi.call/ffitest.h includes it) against
 * an installed libffi.  Only what the tests look at: the headers they may
 * include, the mmap flavour and FFI_HIDDEN (libffi.call/bpo-38748.c includes
 * the source's ffi_common.h, which uses it).  FFI_EXEC_STATIC_TRAMP stays undefined, as
 * in Debian's build (--disable-exec-static-tramp) and in the cross-built
 * libffi of scripts/build-libffi.
 */
#ifndef _TRAMPFD_FFICONFIG_H
#define _TRAMPFD_FFICONFIG_H

#define HAVE_STDINT_H 1
#define HAVE_INTTYPES_H 1
#define HAVE_MMAP_ANON 1
#define HAVE_HIDDEN_VISIBILITY_ATTRIBUTE 1
#define FFI_HIDDEN __attribute__((visibility("hidden")))

#endif /* _TRAMPFD_FFICONFIG_H */
