"""test_flag_ranges.py — flags whose value is out of range, empty or at odds
with another flag are refused naming the flag and what is wrong with it,
never taken with a default in its place: the worker's durations (each with
its range), --queues, enqueue's --after and --arg-file."""
import json
import os
import shutil
import tempfile

from harness import TickqTestCase


class TestWorkerDurations(TickqTestCase):
    def test_each_duration_is_refused_outside_its_range_naming_it(self):
        not_decimal = "not a decimal number, with a unit ms, s, m or h or without"
        cases = [
            ("--grace", "99999999999", "too long", "from 0 ms to 7 days"),
            ("--grace", "1e15", "too long", "from 0 ms to 7 days"),
            ("--result-ttl", "999999999999", "too long", "from 1 s to 365 days"),
            ("--result-ttl", "0.5", "too short", "from 1 s to 365 days"),
            ("--retry-base", "8d", not_decimal, "from 1 ms to 7 days"),
            ("--retry-max", "169h", "too long", "from 1 ms to 7 days"),
            ("--claim-timeout", "99999999999999", "too long", "from 100 ms to 1 day"),
            ("--heartbeat", "25h", "too long", "from 50 ms to 1 day"),
            ("--stats-interval", "0x10", not_decimal, "from 100 ms to 1 day"),
            ("--stats-interval", "0.0001", "less than a millisecond", "from 100 ms to 1 day"),
        ]
        for flag, value, why, span in cases:
            with self.subTest(flag=flag, value=value):
                p = self.tickq("worker", "--check", flag, value)
                self.assertEqual(p.returncode, 64, p.stdout + p.stderr)
                self.assertIn(f"{flag} '{value}' is {why}: give a duration {span}", p.stderr)
        for flag in ("--interval", "--cooldown", "--target-wait"):
            with self.subTest(flag=flag):
                p = self.tickq("worker", "--check", "--autoscale", flag, "99999999999")
                self.assertEqual(p.returncode, 64, p.stdout + p.stderr)
                self.assertIn(f"{flag} '99999999999' is too long: give a duration from", p.stderr)
                self.assertIn("to 1 day", p.stderr)
        # The bounds themselves are taken.
        p = self.tickq("worker", "--check", "--grace", "168h", "--result-ttl", "8760h", "--retry-max", "168h",
                       "--claim-timeout", "24h", "--heartbeat", "12h")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_a_first_retry_delay_longer_than_the_longest_is_refused(self):
        p = self.tickq("worker", "--check", "--retry-base", "10s", "--retry-max", "1s")
        self.assertEqual(p.returncode, 64, p.stdout + p.stderr)
        self.assertIn("--retry-base (10 s) is longer than --retry-max (1 s)", p.stderr)
        p = self.tickq("worker", "--check", "--retry-base", "2h")   # above the default longest, 1 h
        self.assertEqual(p.returncode, 64, p.stdout + p.stderr)
        self.assertIn("--retry-base (2 h) is longer than --retry-max (1 h)", p.stderr)
        p = self.tickq("worker", "--check", "--retry-base", "2h", "--retry-max", "2h")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_result_ttl_from_the_environment_has_the_flags_range(self):
        p = self.tickq("worker", "--check", env={"TICKQ_RESULT_TTL": "999999999999"})
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("TICKQ_RESULT_TTL='999999999999' is not a duration from 1 s to 365 days", p.stdout + p.stderr)


class TestWorkerQueues(TickqTestCase):
    def test_a_bad_or_empty_queues_flag_is_a_usage_error(self):
        cases = [("a b", "invalid queue name 'a b'"), ("", "'' names no queue"), (" ", "' ' names no queue"),
                 (",", "',' names no queue"),
                 ("a,,b", "'a,,b' has an empty name (two commas in a row, or one at its start or end)"),
                 ("a,", "'a,' has an empty name (two commas in a row, or one at its start or end)")]
        for value, words in cases:
            with self.subTest(value=value):
                p = self.tickq("worker", "--check", "--queues", value)
                self.assertEqual(p.returncode, 64, p.stdout + p.stderr)
                self.assertIn(f"--queues: {words}", p.stderr)
        p = self.tickq("worker", "--check", "--queues", "a, b")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("queues a_high,a_normal,a_low,b_high,b_normal,b_low;", p.stdout)

    def test_rq_queues_empty_is_unset_and_bad_is_a_configuration_error(self):
        p = self.tickq("worker", "--check", env={"RQ_QUEUES": ""})
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("queues backtest_high,backtest_normal,backtest_low;", p.stdout)
        p = self.tickq("worker", "--check", env={"RQ_QUEUES": "a,,b"})
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("bad queue list: 'a,,b' has an empty name (two commas in a row, or one at its start or end)",
                      p.stdout)


class TestEnqueueFlags(TickqTestCase):
    def test_an_empty_after_is_refused_not_read_as_no_dependency(self):
        p = self.tickq("enqueue", "noop", "--queue", "eq", "--id", "e8", "--after", "")
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("invalid --after '': give the ids of the jobs it waits for", p.stderr)
        self.assertIsNone(self.state("e8"))

    def test_an_arg_file_may_not_replace_an_argument_given_otherwise(self):
        folder = tempfile.mkdtemp(prefix="tickq-argfile-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "code.py")
        with open(path, "w") as f:
            f.write("def s(df):\n    return []\n")
        p = self.tickq("enqueue", "echo", '{"code": "x"}', "--arg-file", f"code={path}", "--id", "a1")
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn(f"args 'code' is given twice (in ARGS_JSON, and --arg-file code={path}): give it once", p.stderr)
        p = self.tickq("enqueue", "echo", "--arg-file", f"code={path}", "--arg-file", f"code={path}", "--id", "a2")
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("(by an --arg-file before, and --arg-file", p.stderr)
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        p = self.tickq("enqueue", "echo", '{"n": 1}', "--arg-file", f"code={path}", "--id", "a3")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(self.job("a3")["args"]), {"n": 1, "code": "def s(df):\n    return []\n"})

    def test_a_priority_level_given_as_the_queue_names_the_queue_and_level(self):
        p = self.tickq("enqueue", "noop", "--queue", "fq_high")
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("invalid queue name 'fq_high': a queue name may not end in _high, _normal or _low (those are "
                      "its priority levels: queue 'fq' with priority high)", p.stderr)
        self.assertNotIn("--priority", p.stderr)    # the same words serve the HTTP API, which has no flags
