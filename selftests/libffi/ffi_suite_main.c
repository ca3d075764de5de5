// SPDX-License-Identifier: GPL-2.0
/*
 * The dispatcher of a multi-call binary of libffi's testsuite (built by
 * selftests/libffi/Makefile): every test program is linked in with its
 * main() renamed to a unique symbol and all its other symbols made local.
 *
 *	ffi_suite --list		print the test names, one a line
 *	ffi_suite NAME [args]		run that test's main() (exit status,
 *					output and signals as the test's own)
 *
 * The table of tests comes from list.c, which the Makefile generates.
 */
#include <stdio.h>
#include <string.h>

#include "ffi_suite.h"

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s --list | NAME [args]\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "--list")) {
		for (i = 0; i < ffi_n_tests; i++)
			printf("%s\n", ffi_tests[i].name);
		return 0;
	}
	for (i = 0; i < ffi_n_tests; i++) {
		if (strcmp(argv[1], ffi_tests[i].name))
			continue;
		/*
		 * Line-buffered, as under dejagnu's pty: a test that aborts
		 * still shows what it printed before.
		 */
		setvbuf(stdout, NULL, _IOLBF, 0);
		return ffi_tests[i].main(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: no test %s\n", argv[0], argv[1]);
	return 2;
}
