"""test_runner.py — run.py's counting, on toy suites built here (no Redis):
a test with several failing steps (subTest) counts as one failed test
while each failing step gets its own FAIL line, so "passed" never goes
below zero and tests/run's sum still reads the line; modules run side by
side are summed into one line, and a module whose process dies counts as
failed."""
import importlib.util
import io
import os
import shutil
import tempfile
import time
import unittest

# By path: the bare name `run` may already be tests/hostile/run.py
# (test_hostile imports it so), depending on which modules ran first.
_spec = importlib.util.spec_from_file_location(
    "integration_run", os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py"))
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def run_toy(*cases):
    """Runs the toy TestCase classes through run.py's result class; returns
    (the summary line main() prints, everything written)."""
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in cases)
    out = io.StringIO()
    result = unittest.TextTestRunner(stream=out, resultclass=run.LineResult, verbosity=0).run(suite)
    return run.summary_line(result), out.getvalue()


# The toy classes live inside the tests: a module-level TestCase subclass
# would be discovered and run (and fail) as one of the real tests.
def toy_steps(failing_steps):
    class Toy(unittest.TestCase):
        def test_passes(self):
            pass

        def test_steps(self):
            for step in range(failing_steps):
                with self.subTest(step=step):
                    self.fail(f"step {step} fails")
    return Toy


class TestRunnerCounts(unittest.TestCase):
    def test_a_test_with_three_failing_steps_is_one_failed_test(self):
        line, out = run_toy(toy_steps(3))
        self.assertEqual(line, "integration: 1 passed, 1 failed", out)
        for step in range(3):
            self.assertIn(f"step {step} fails", out)
        self.assertEqual(out.count("FAIL integration/"), 3, out)

    def test_many_failing_steps_never_make_passed_negative(self):
        line, out = run_toy(toy_steps(5), toy_steps(0))
        self.assertEqual(line, "integration: 3 passed, 1 failed", out)

    def test_skips_failures_and_errors_count_once_each(self):
        class Toy(unittest.TestCase):
            def test_skipped(self):
                self.skipTest("not here")

            def test_fails(self):
                self.fail("no")

            def test_errors(self):
                raise RuntimeError("boom")

            def test_fails_in_a_step_and_after_it(self):
                with self.subTest("first"):
                    self.fail("step")
                self.fail("after")

            def test_passes(self):
                pass
        line, out = run_toy(Toy)
        self.assertEqual(line, "integration: 1 passed, 3 failed", out)

    def test_a_failed_class_set_up_counts_as_failed(self):
        class Toy(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise RuntimeError("no server")

            def test_never_runs(self):
                pass
        line, out = run_toy(Toy)
        self.assertEqual(line, "integration: 0 passed, 1 failed", out)




TOY_MODULES = {
    "test_toy_a": '''
import unittest
class A(unittest.TestCase):
    def test_passes(self):
        pass
    def test_fails(self):
        self.fail("a fails")
''',
    "test_toy_b": '''
import os, sys, unittest
class B(unittest.TestCase):
    def test_dies(self):
        sys.stdout.flush()
        os._exit(3)
''',
    "test_toy_c": '''
import unittest
class C(unittest.TestCase):
    def test_one(self):
        pass
    def test_two(self):
        pass
''',
}

HANGS = '''
import time, unittest
class H(unittest.TestCase):
    def test_hangs(self):
        print("started", flush=True)
        time.sleep(60)
'''


class TestSideBySide(unittest.TestCase):
    """The whole suite's mode: modules in processes of their own, summed."""

    def test_modules_are_summed_and_a_dead_module_counts_as_failed(self):
        folder = tempfile.mkdtemp(prefix="tickq-runner-")
        self.addCleanup(shutil.rmtree, folder)
        for name, text in TOY_MODULES.items():
            with open(os.path.join(folder, name + ".py"), "w") as f:
                f.write(text)
        out = io.StringIO()
        status = run.run_side_by_side(2, folder, out)
        text = out.getvalue()
        self.assertEqual(status, 1, text)
        self.assertEqual(text.splitlines()[-1], "integration: 3 passed, 2 failed", text)
        self.assertIn("a fails", text)
        self.assertIn("FAIL integration/toy_b: the module's process ended (status 3) without its summary line", text)
        self.assertEqual(text.count("integration: "), 1, text)   # the modules' own summaries are left out

    def test_all_passing_modules_give_status_0(self):
        folder = tempfile.mkdtemp(prefix="tickq-runner-")
        self.addCleanup(shutil.rmtree, folder)
        with open(os.path.join(folder, "test_toy_c.py"), "w") as f:
            f.write(TOY_MODULES["test_toy_c"])
        out = io.StringIO()
        self.assertEqual(run.run_side_by_side(3, folder, out), 0, out.getvalue())
        self.assertEqual(out.getvalue().splitlines()[-1], "integration: 2 passed, 0 failed")

    def test_a_module_over_its_time_is_stopped_and_counted_failed_with_its_output(self):
        folder = tempfile.mkdtemp(prefix="tickq-runner-")
        self.addCleanup(shutil.rmtree, folder)
        with open(os.path.join(folder, "test_toy_hangs.py"), "w") as f:
            f.write(HANGS)
        t0 = time.monotonic()
        out, passed, failed = run.run_module("test_toy_hangs", folder, timeout=1.5)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual((passed, failed), (0, 1), out)
        self.assertIn("FAIL integration/toy_hangs: the module ran over 1.5 s and was stopped", out)


if __name__ == "__main__":
    unittest.main()
