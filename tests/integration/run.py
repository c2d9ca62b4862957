#!/usr/bin/env python3
"""run.py — runs every tests/integration/test_*.py module (or those named on
the command line, as module or module.Class.test) and prints one line per
test and a final "integration: N passed, N failed". A test counts once: as
failed when it or any of its steps (subTest) failed, even though each
failing step has its own FAIL line.

The whole suite runs its modules side by side, each in a process of its
own, TICKQ_TEST_JOBS at a time (default: the number of CPUs plus one, at
most 8; 1 runs them one after another in this process). Every module starts
its own servers on ports the kernel picks, so modules share nothing. A
module's lines are printed together when it ends; the longest modules start
first (SLOW_FIRST), so that the last to start are short."""
import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import threading
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


# The modules that take longest (about a minute or more each on a 2-core
# machine), longest first: they start first. A hint for the order only.
SLOW_FIRST = ["test_data", "test_dashboard", "test_chaos", "test_hostile", "test_queue_controls",
              "test_strategy", "test_python_sandbox", "test_failures", "test_history", "test_options_tasks"]

SUMMARY = re.compile(r"^integration: (\d+) passed, (\d+) failed$")


def jobs_wanted():
    """TICKQ_TEST_JOBS, or the number of CPUs plus one (at most 8)."""
    text = os.environ.get("TICKQ_TEST_JOBS", "")
    if text == "":
        return min(8, (os.cpu_count() or 1) + 1)
    if not text.isdigit() or not 1 <= int(text) <= 64:
        sys.exit(f"run.py: TICKQ_TEST_JOBS must be a whole number from 1 to 64, not {text!r}")
    return int(text)


# A module that runs longer than this (seconds; TICKQ_TEST_MODULE_TIMEOUT)
# is stopped and counted as failed, with what it printed: a hung module
# must not hang the suite with its output unseen.
MODULE_TIMEOUT = float(os.environ.get("TICKQ_TEST_MODULE_TIMEOUT", "1800"))

_live = set()                  # the module processes running
_live_lock = threading.Lock()
_stopping = threading.Event()  # the suite was interrupted: start no more modules


def stop_module(p):
    """Stops a module's process group (the module, its servers and workers)
    as Ctrl-C would, then for good after 10 s."""
    for sig, grace in ((signal.SIGINT, 10), (signal.SIGKILL, None)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_module(name, folder=HERE, timeout=None):
    """Runs one module of `folder` in a process group of its own: (its
    output without its summary line, passed, failed). A module that ends
    without a summary line (crashed, killed) or runs over `timeout` seconds
    (default MODULE_TIMEOUT) counts as one failed test; one not started
    because the suite was interrupted counts as nothing."""
    if _stopping.is_set():
        return "", 0, 0
    env = dict(os.environ)
    if folder != HERE:
        env["PYTHONPATH"] = folder + os.pathsep + env.get("PYTHONPATH", "")
    short = name[len("test_"):]
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), name], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace", env=env, start_new_session=True)
    with _live_lock:
        _live.add(p)
    try:
        out, _ = p.communicate(timeout=MODULE_TIMEOUT if timeout is None else timeout)
        why = f"the module's process ended (status {p.returncode}) without its summary line"
    except subprocess.TimeoutExpired:
        stop_module(p)
        out, _ = p.communicate()
        why = f"the module ran over {MODULE_TIMEOUT if timeout is None else timeout:g} s and was stopped"
    finally:
        with _live_lock:
            _live.discard(p)
    lines = out.splitlines()
    if lines and p.returncode in (0, 1):
        m = SUMMARY.match(lines[-1])
        if m:
            return "\n".join(lines[:-1]), int(m.group(1)), int(m.group(2))
    return out + f"\nFAIL integration/{short}: {why}", 0, 1


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def run_side_by_side(jobs, folder=HERE, stream=sys.stdout):
    """Every module of `folder`, `jobs` at a time; writes each module's
    lines as it ends, then the summary of all. 0 when every test passed,
    else 1; on Ctrl-C or SIGTERM the running modules are stopped, no more
    start, and it returns 130."""
    names = sorted(f[:-3] for f in os.listdir(folder) if f.startswith("test_") and f.endswith(".py"))
    names.sort(key=lambda n: SLOW_FIRST.index(n) if n in SLOW_FIRST else len(SLOW_FIRST))
    passed = failed = 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
    futures = [pool.submit(run_module, n, folder) for n in names]
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupted)
    try:
        for done in concurrent.futures.as_completed(futures):
            out, p, f = done.result()
            if out:
                stream.write(out + "\n")
                stream.flush()
            passed, failed = passed + p, failed + f
    except KeyboardInterrupt:
        _stopping.set()
        for f in futures:
            f.cancel()
        with _live_lock:
            running = list(_live)
        for p in running:
            stop_module(p)
        pool.shutdown(wait=True)
        stream.write(f"integration: interrupted ({passed} passed, {failed} failed so far)\n")
        return 130
    pool.shutdown(wait=True)
    stream.write(f"integration: {passed} passed, {failed} failed\n")
    return 0 if failed == 0 else 1


def main():
    loader = unittest.TestLoader()
    names = sys.argv[1:]
    if not names:
        jobs = jobs_wanted()
        if jobs > 1:
            return run_side_by_side(jobs)
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
