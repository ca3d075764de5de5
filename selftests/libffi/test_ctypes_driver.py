# SPDX-License-Identifier: GPL-2.0
"""CPython's own ctypes tests (test.test_ctypes, i.e. the ctypes.test package
of Python 3.11) with one machine-readable line per result, flushed at once,
so that a run that dies half-way (a crash in a callback) still shows every
result before the crash.  scripts/ctypes-tally judges the lines:

    @@ct start
    @@ct ok|fail|error|skip|xfail|xpass TEST-ID
    | traceback lines of a failure or an error, the reason of a skip
    @@ct done N

    python3 test_ctypes_driver.py [TEST-NAME]   (default test.test_ctypes)
"""
import sys
import unittest


class Result(unittest.TestResult):
    """Prints each result as it happens."""

    def _out(self, what, test, text=""):
        lines = ["@@ct %s %s" % (what, test.id())]
        lines += ["| " + l for l in text.splitlines()]
        print("\n".join(lines), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._out("ok", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._out("fail", test, self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._out("error", test, self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._out("skip", test, reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._out("xfail", test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._out("xpass", test)

    def addSubTest(self, test, subtest, err):
        # A failed subtest fails its test (which then reports no success).
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "fail" if issubclass(err[0], test.failureException) else "error"
            self._out(kind, test, self._exc_info_to_string(err, test))


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "test.test_ctypes"
    print("@@ct start", flush=True)
    suite = unittest.defaultTestLoader.loadTestsFromName(name)
    result = Result()
    suite.run(result)
    print("@@ct done %d" % result.testsRun, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
