// SPDX-License-Identifier: GPL-2.0
/*
 * The drop-in refuses a libffi whose closure layout it does not know
 * (x86-64 guest): run against fake_ffi.c as libffi.so.8, with
 * LD_PRELOAD=libtrampfd-ffi.so.
 *
 *   layout_test ok|template|fields|entry	(FAKE_FFI must match)
 *
 * ok: the closure is a trampfd slot that enters the fake entry with the
 * closure object in r10.  Otherwise: ffi_prep_closure_loc returns
 * FFI_BAD_ABI, the code address was never pointed anywhere (calling it
 * aborts in the drop-in's unprepared-closure trap, checked in a child whose
 * stderr goes to /dev/null), the drop-in printed exactly
 * one message, and the next ffi_closure_alloc fails.  Exit status 0 when all
 * of that holds.
 */
#include <ffi.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void handler(ffi_cif *cif, void *ret, void **args, void *ud)
{
}

static int never_entered(void *(*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(1);
		fn();
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
}

/* Lines the drop-in wrote to @err ("libtrampfd-ffi: ..."). */
static int messages(FILE *err)
{
	char line[512];
	int n = 0;

	fflush(stderr);
	rewind(err);
	while (fgets(line, sizeof(line), err))
		n += !strncmp(line, "libtrampfd-ffi:", 15);
	return n;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "ok";
	ffi_cif cif;
	ffi_closure *c;
	ffi_status st;
	void *code, *code2;
	int ud = 7;
	FILE *err = tmpfile();

	/* Collect the drop-in's messages (stderr) to count them. */
	if (!err || dup2(fileno(err), 2) < 0)
		return 2;

	/* The fake libffi never reads the cif; no ffi_prep_cif in it. */
	memset(&cif, 0, sizeof(cif));
	cif.abi = FFI_DEFAULT_ABI;
	c = ffi_closure_alloc(sizeof(*c), &code);
	if (!c) {
		perror("ffi_closure_alloc");
		return 1;
	}
	if (code == (void *)c) {
		printf("not ok: the closure is not on a trampfd (drop-in not active)\n");
		return 1;
	}
	st = ffi_prep_closure_loc(c, &cif, handler, &ud, code);
	if (!strcmp(mode, "ok")) {
		void *got;

		if (st != FFI_OK) {
			printf("not ok: prep of a matching layout returned %d\n", st);
			return 1;
		}
		got = ((void *(*)(void))code)();
		if (messages(err)) {
			printf("not ok: a matching layout printed a message\n");
			return 1;
		}
		printf("%s: the slot enters the verified entry with the closure in r10\n",
		       got == c ? "ok" : "not ok");
		return got == c ? 0 : 1;
	}
	if (st != FFI_BAD_ABI) {
		printf("not ok: %s mismatch: prep returned %d, not FFI_BAD_ABI\n", mode, st);
		return 1;
	}
	if (!never_entered((void *(*)(void))code)) {
		printf("not ok: %s mismatch: the slot points somewhere\n", mode);
		return 1;
	}
	if (ffi_closure_alloc(sizeof(*c), &code2)) {
		printf("not ok: %s mismatch: closures still allocated after it\n", mode);
		return 1;
	}
	if (messages(err) != 1) {
		printf("not ok: %s mismatch: %d messages, not one\n", mode, messages(err));
		return 1;
	}
	printf("ok: %s mismatch refused with one message, slot never pointed anywhere, closures fail\n",
	       mode);
	return 0;
}
