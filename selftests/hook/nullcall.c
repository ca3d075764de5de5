// SPDX-License-Identifier: GPL-2.0
/* Calls through a NULL function pointer (a bug, not a syscall). */
#include <stdio.h>

int main(int argc, char **argv)
{
	long (*volatile f)(void) = NULL;

	(void)argv;
	fflush(stdout);
	return (int)f() + argc;
}
