#!/usr/bin/env python3
"""run.py — runs every tests/integration/test_*.py module (or those named on
the command line, as module or module.Class.test) and prints one line per
test and a final "integration: N passed, N failed"."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class LineResult(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.time()
        unittest.TestResult.startTest(self, test)

    def _line(self, word, test):
        name = test.id().replace("test_", "", 1)
        self.stream.write(f"{word:4} integration/{name} ({time.time() - self._t0:.1f}s)\n")
        self.stream.flush()

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
        self._line("ok", test)

    def addFailure(self, test, err):
        unittest.TestResult.addFailure(self, test, err)
        self._line("FAIL", test)
        self.stream.write(self._exc_info_to_string(err, test) + "\n")

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self._line("FAIL", test)
        self.stream.write(self._exc_info_to_string(err, test) + "\n")

    def addSubTest(self, test, subtest, err):
        """A failing step (subTest) is named on its own FAIL line."""
        unittest.TestResult.addSubTest(self, test, subtest, err)
        if err is not None:
            self._line("FAIL", subtest)
            self.stream.write(self._exc_info_to_string(err, subtest) + "\n")

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        self._line("skip", test)


def main():
    loader = unittest.TestLoader()
    names = sys.argv[1:]
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, resultclass=LineResult, verbosity=0)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"integration: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
