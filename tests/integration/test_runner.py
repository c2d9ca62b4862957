"""test_runner.py — run.py's counting, on toy suites built here (no Redis):
a test with several failing steps (subTest) counts as one failed test
while each failing step gets its own FAIL line, so "passed" never goes
below zero and tests/run's sum still reads the line."""
import importlib.util
import io
import os
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


if __name__ == "__main__":
    unittest.main()
