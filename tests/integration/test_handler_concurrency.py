"""test_handler_concurrency.py — a handler that announces max_jobs N gets
up to N jobs at once from one worker child (python3 -m tickq.handler
--max-jobs N, async def tasks in tests/integration/handler_apps/
concurrent_tasks.py): jobs that can only finish together do; no more than
N run at once while more are claimed as they end; a job's timeout cancels
it alone; a crash ends every job on its way as a crashed attempt, and they
run again on a new process."""
import json
import os
import shutil
import sys
import tempfile

from harness import TickqTestCase, wait_for

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handler_apps")
ENV = {"PYTHONPATH": APPS, "PYTHONDONTWRITEBYTECODE": "1", "TICKQ_CONFIG": None}
TYPES = "barrier, overlap, die, wait_cancel, stubborn"


class ConcurrencyCase(TickqTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-conc-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def serve(self, max_jobs, *args):
        config = os.path.join(self.tmp, "tickq.ini")
        with open(config, "w") as f:
            f.write(f"[handler conc]\ncommand = {sys.executable} -m tickq.handler --max-jobs {max_jobs} "
                    f"concurrent_tasks\ntypes = {TYPES}\ncancel_grace = 2s\n")
        w = self.worker("--config", config, "--workers", "1", "--retry-base", "100ms", *args, env=ENV)
        wait_for(lambda: "handler started" in w.log(), 20, what="the handler's announcement")
        return w

    def final(self, jid, timeout=30):
        return self.wait_state(jid, ("completed", "failed", "dead", "cancelled"), timeout)

    def handler_pids(self, w):
        return [json.loads(x)["handler_pid"] for x in w.log().splitlines()
                if x.startswith("{") and json.loads(x).get("msg") == "handler started"]


class TestSeveralAtOnce(ConcurrencyCase):
    def test_jobs_that_finish_only_together_do(self):
        """Four barrier jobs each wait until all four run in the one handler
        process: one at a time, the first would fail after 10 s."""
        w = self.serve(4)
        ids = [self.enqueue("barrier", {"n": 4, "wait": 10}) for _ in range(4)]
        for jid in ids:
            self.assertEqual(self.final(jid), "completed", self.result(jid))
        pids = {self.result(jid)["data"]["pid"] for jid in ids}
        self.assertEqual(len(pids), 1)   # one worker child, one handler process
        self.assertEqual(self.handler_pids(w), list(pids))

    def test_one_at_a_time_without_max_jobs(self):
        """The same jobs with max_jobs 1 cannot meet: the barrier fails."""
        self.serve(1)
        jid = self.enqueue("barrier", {"n": 2, "wait": 1})
        other = self.enqueue("barrier", {"n": 2, "wait": 1})
        self.assertEqual(self.final(jid), "failed")
        self.assertIn("only 1 of 2 jobs arrived together", self.result(jid)["data"]["error"])
        self.assertEqual(self.final(other), "completed")   # it arrives second: 2 have arrived

    def test_never_more_than_max_jobs_and_refilled_as_they_end(self):
        """One long job and many short ones, 3 at a time: short ones start
        while the long one runs (a slot is refilled as soon as it frees, not
        once the whole batch is done), and never more than 3 run at once."""
        log = os.path.join(self.tmp, "overlap.log")
        self.serve(3)
        long = self.enqueue("overlap", {"log": log, "s": 2})
        ids = [self.enqueue("overlap", {"log": log, "s": 0.1}) for _ in range(12)]
        for jid in [long] + ids:
            self.assertEqual(self.final(jid), "completed", self.result(jid))
            self.assertEqual(self.job(jid)["attempts"], "1")
        with open(log) as f:
            events = [json.loads(x) for x in f]
        starts = [e for e in events if e["event"] == "start"]
        self.assertEqual(len(starts), 13)
        self.assertLessEqual(max(e["running"] for e in starts), 3, starts)
        begin = next(i for i, e in enumerate(events) if e["event"] == "start" and e["id"] == long)
        end = next(i for i, e in enumerate(events) if e["event"] == "end" and e["id"] == long)
        during = [e for e in events[begin + 1:end] if e["event"] == "start"]
        self.assertGreaterEqual(len(during), 4, events)   # 2 slots beside it, refilled at least twice


class TestFailuresInFlight(ConcurrencyCase):
    def test_a_timeout_cancels_that_job_alone(self):
        """The others are still running when the timed-out job is cancelled
        (they take 2.5 s, its timeout is 1 s): they finish, uncharged."""
        log = os.path.join(self.tmp, "overlap.log")
        w = self.serve(4)
        slow = self.enqueue("wait_cancel", {}, "--timeout", "1", "--max-retries", "0")
        others = [self.enqueue("overlap", {"log": log, "s": 2.5}) for _ in range(3)]
        for jid in others:
            self.assertEqual(self.final(jid), "completed", self.result(jid))
            self.assertEqual((self.job(jid)["attempts"], self.retries(jid)), ("1", []))
        self.assertEqual(self.final(slow), "dead")
        error = self.result(slow)["data"]["error"]
        self.assertIn("Job exceeded its timeout of 1 s", error)
        self.assertIn("handler conc stopped it", error)         # it honoured the cancel message
        self.assertEqual(self.retries(slow)[0]["kind"], "timeout")
        self.assertEqual(len(self.handler_pids(w)), 1)         # the process lived on

    def test_a_crash_ends_every_job_on_its_way_as_crashed(self):
        log = os.path.join(self.tmp, "overlap.log")
        w = self.serve(4)
        victims = [self.enqueue("overlap", {"log": log, "s": 5}) for _ in range(3)]
        killer = self.enqueue("die", {"n": 3}, "--max-retries", "0")
        self.assertEqual(self.final(killer), "dead")
        self.assertIn("exit status 3", self.result(killer)["data"]["error"])
        for jid in victims:
            # Charged a crashed attempt, then run again on a new process.
            self.assertEqual(self.final(jid), "completed", self.result(jid))
            rec = self.retries(jid)
            self.assertEqual([r["kind"] for r in rec], ["crash"], rec)
            self.assertIn("handler conc died while running its jobs (exit status 3)", rec[0]["error"])
        self.assertEqual(len(self.handler_pids(w)), 2)

    def test_a_job_that_ignores_its_cancel_gets_the_process_killed_and_the_others_crash(self):
        log = os.path.join(self.tmp, "overlap.log")
        w = self.serve(4)
        others = [self.enqueue("overlap", {"log": log, "s": 5}) for _ in range(2)]
        wait_for(lambda: os.path.exists(log) and open(log).read().count('"start"') == 2, 20,
                 what="the two jobs to start")
        stubborn = self.enqueue("stubborn", {}, "--timeout", "1", "--max-retries", "0")
        self.assertEqual(self.final(stubborn), "dead")
        error = self.result(stubborn)["data"]["error"]
        self.assertIn("Job exceeded its timeout of 1 s", error)
        self.assertIn(f"did not stop job {stubborn} within its cancel_grace of 2 s and was killed", error)
        self.assertEqual(self.retries(stubborn)[0]["kind"], "timeout")
        for jid in others:
            self.assertEqual(self.final(jid), "completed", self.result(jid))
            rec = self.retries(jid)
            self.assertEqual([r["kind"] for r in rec], ["crash"], rec)
            self.assertIn(f"did not stop job {stubborn} within its cancel_grace", rec[0]["error"])
        self.assertEqual(len(self.handler_pids(w)), 2)
