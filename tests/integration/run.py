#!/usr/bin/env python3
"""run.py — runs every tests/integration/test_*.py module (or those named on
the command line, as module or module.Class.test) and prints one line per
test and a final "integration: N passed, N failed". A test counts once: as
failed when it or any of its steps (subTest) failed, even though each
failing step has its own FAIL line."""
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def whole_test(test):
    """The test a step (subTest) belongs to; a test is its own."""
    return getattr(test, "test_case", test)


class LineResult(unittest.TextTestResult):
    """One line per test or failing step; counts tests by id (summary())."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self._t0 = time.time()      # a class set-up can fail before any test starts
        self.started_ids = set()
        self.failed_ids = set()     # tests with a failure, an error or a failing step; class set-ups
        self.skipped_ids = set()

    def startTest(self, test):
        self._t0 = time.time()
        self.started_ids.add(test.id())
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
        self.failed_ids.add(test.id())
        self._line("FAIL", test)
        self.stream.write(self._exc_info_to_string(err, test) + "\n")

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self.failed_ids.add(test.id())
        self._line("FAIL", test)
        self.stream.write(self._exc_info_to_string(err, test) + "\n")

    def addSubTest(self, test, subtest, err):
        """A failing step (subTest) is named on its own FAIL line."""
        unittest.TestResult.addSubTest(self, test, subtest, err)
        if err is not None:
            self.failed_ids.add(test.id())
            self._line("FAIL", subtest)
            self.stream.write(self._exc_info_to_string(err, subtest) + "\n")

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        if whole_test(test) is test:    # a skipped step leaves its test's outcome to the test
            self.skipped_ids.add(test.id())
        self._line("skip", test)
        self.stream.write(f"  skipped: {reason}\n")

    def summary(self):
        """(passed, failed): failed counts each failed test once, and a
        failed class or module set-up (whose tests never started) as one;
        passed is every other started test that was not skipped."""
        failed_started = self.failed_ids & self.started_ids
        skipped = (self.skipped_ids & self.started_ids) - self.failed_ids
        return self.testsRun - len(failed_started) - len(skipped), len(self.failed_ids)


def summary_line(result):
    """The last line, which tests/run sums: "integration: N passed, N failed"."""
    passed, failed = result.summary()
    return f"integration: {passed} passed, {failed} failed"


def main():
    loader = unittest.TestLoader()
    names = sys.argv[1:]
    if names:
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(stream=sys.stdout, resultclass=LineResult, verbosity=0)
    result = runner.run(suite)
    print(summary_line(result))
    return 0 if not result.failed_ids else 1


if __name__ == "__main__":
    sys.exit(main())
