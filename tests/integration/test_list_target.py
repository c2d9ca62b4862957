"""test_list_target.py — the queue the users' list feeds is configuration:
`tickq worker --list-target QUEUE` (env TICKQ_LIST_TARGET, default
backtest) imports the list's tasks into QUEUE_normal, and only a worker
that serves QUEUE_normal takes them."""
import os
import sys

from harness import ROOT, TickqTestCase

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq_client  # noqa: E402


class TestListTarget(TickqTestCase):
    def test_list_target_flag_feeds_that_queue(self):
        tickq_client.add_task(self.r, "to-screening", "noop", {})
        status, w = self.burst("--workers", "1", "--queues", "screening", "--list-target", "screening")
        self.assertEqual(status, 0)
        self.assertNotIn("not taking tasks from the list", w.log())
        self.assertEqual(self.r.llen("strategy_queue"), 0)
        self.assertEqual(self.job("to-screening")["queue"], "screening")
        self.assertEqual(self.result("to-screening")["status"], "completed")
        self.assertEqual(self.counters("screening").get("list_imported"), 1)
        self.assertIsNone(self.counters("backtest").get("list_imported"))

    def test_list_target_from_the_environment(self):
        """TICKQ_LIST_TARGET moves the list away from backtest: a worker of
        backtest leaves it alone, one of the target takes it."""
        tickq_client.add_task(self.r, "to-reports", "noop", {})
        env = {"TICKQ_LIST_TARGET": "reports"}
        status, w = self.burst("--workers", "1", env=env)
        self.assertEqual(status, 0)
        self.assertIn("not taking tasks from the list: this worker does not serve its target queue", w.log())
        self.assertIn('"target":"reports_normal"', w.log())
        self.assertEqual(self.r.llen("strategy_queue"), 1)
        status, _ = self.burst("--workers", "1", "--queues", "reports", env=env)
        self.assertEqual(status, 0)
        self.assertEqual(self.job("to-reports")["queue"], "reports")
        self.assertEqual(self.result("to-reports")["status"], "completed")

    def test_a_bad_list_target_is_refused(self):
        p = self.tickq("worker", "--list-target", "screening_normal", "--check")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--list-target", p.stderr)
        p = self.tickq("worker", "--check", env={"TICKQ_LIST_TARGET": "has space"})
        self.assertEqual(p.returncode, 78)
        self.assertIn("TICKQ_LIST_TARGET", p.stdout + p.stderr)

    def test_a_bad_list_target_stops_only_the_worker(self):
        """Only the worker reads TICKQ_LIST_TARGET: the other commands run
        as they did before it existed."""
        env = {"TICKQ_LIST_TARGET": "has space"}
        p = self.tickq("enqueue", "noop", "{}", "--id", "despite-bad-target", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.tickq("stats", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("TICKQ_LIST_TARGET", p.stderr)
        p = self.tickq("job", "despite-bad-target", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        status, w = self.burst("--workers", "1", env=env)
        self.assertEqual(status, 78)
        self.assertIn("TICKQ_LIST_TARGET", w.log())
