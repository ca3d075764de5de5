/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The table of a multi-call binary of libffi's testsuite: ffi_suite_main.c
 * dispatches on it, the Makefile generates it (list.c of each binary).
 */
#ifndef _TRAMPFD_FFI_SUITE_H
#define _TRAMPFD_FFI_SUITE_H

struct ffi_test {
	const char *name;
	int (*main)(int argc, char **argv);
};

extern const struct ffi_test ffi_tests[];
extern const unsigned int ffi_n_tests;

#endif /* _TRAMPFD_FFI_SUITE_H */
