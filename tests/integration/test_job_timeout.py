"""test_job_timeout.py — jobs enqueued without a timeout (timeout_ms 0 in
their record and stream entry) run with their worker's default: its pool's
job_timeout with --pool, else `tickq worker --job-timeout` (1 h when
neither is given). Such jobs come from `tickq enqueue` without --timeout,
the users' list protocol and the Python client without a timeout; a job's
own timeout always wins. The worker resolves the 0 when it claims the job,
so the supervisor's kill, the handler's request (timeout_ms, deadline_ms)
and the error all carry the resolved value; `tickq job` shows "worker
default". Every check is on states, records and messages, none on time:
a job that sleeps far longer than the default is killed as a timeout
naming the default."""
import json
import os
import shutil
import sys
import tempfile
import time

from harness import ROOT, TickqTestCase, wait_for

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq  # noqa: E402

HANDLERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handlers")
WIRE = f"/usr/bin/python3 {os.path.join(HANDLERS, 'wire_handler.py')}"
ENV = {"TICKQ_CONFIG": None}
FINAL = ("completed", "failed", "dead", "cancelled")
# Far past every default used here: a job still running at its end was not
# stopped at the default.
LONG_MS = 60000


def pool_config(job_timeout="1"):
    return (f"[handler wire]\ncommand = {WIRE} wire\ntypes = wire\ncancel_grace = 500ms\nstart_timeout = 10s\n\n"
            f"[pool main]\nqueues = main\nworkers = 1\nhandlers = wire\njob_timeout = {job_timeout}\n")


class JobTimeoutCase(TickqTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-job-timeout-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, text, name="tickq.ini"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def final(self, jid, timeout=20):
        return self.wait_state(jid, FINAL, timeout)

    def pool_worker(self, job_timeout="1", *args):
        """A worker running [pool main] (the wire handler and every built-in
        task on queue main), once it has announced the handler's type."""
        w = self.worker("--config", self.write(pool_config(job_timeout)), "--pool", "main", "--retry-base", "50ms",
                        *args, env=ENV)
        wait_for(lambda: self.r.sismember("tickq:types", "wire") or w.proc.poll() is not None, 15,
                 what="the pool's handler type announced")
        self.assertIsNone(w.proc.poll(), w.log())
        return w

    def assert_timed_out_at(self, jid, seconds, killed=True):
        """The job ended dead after one attempt stopped at a timeout of
        `seconds` (killed by the supervisor, or stopped by its handler)."""
        self.assertEqual(self.final(jid), "dead", self.job(jid))
        rec = self.retries(jid)
        self.assertEqual([(r["attempt"], r["kind"]) for r in rec], [(1, "timeout")], rec)
        said = f"Job exceeded its timeout of {seconds:g} s"
        self.assertIn(said + (" and was killed" if killed else ""), rec[0]["error"])
        return rec[0]["error"]

    def stream_entry(self, jid, physical):
        """The fields of the job's current entry in its queue stream."""
        entry = self.job(jid)["entry"]
        got = self.r.xrange(f"tickq:queue:{physical}", entry, entry)
        self.assertEqual(len(got), 1, (jid, entry))
        return got[0][1]


class TestPoolJobTimeout(JobTimeoutCase):
    def test_a_job_without_a_timeout_is_stopped_at_its_pools_job_timeout(self):
        self.pool_worker("1")
        # A built-in task: the supervisor kills it at the pool's 1 s.
        sleeper = self.enqueue("sleep", {"ms": LONG_MS}, "--queue", "main", "--max-retries", "0")
        self.assertEqual(self.job(sleeper)["timeout_ms"], "0")
        self.assert_timed_out_at(sleeper, 1)
        self.assertEqual(self.job(sleeper)["timeout_ms"], "0")  # the record keeps "not set"
        # A job's own timeout wins over the pool's.
        own = self.enqueue("sleep", {"ms": 2000}, "--queue", "main", "--max-retries", "0", "--timeout", "30")
        self.assertEqual(self.final(own), "completed", self.job(own))
        self.assertEqual(self.job(own)["timeout_ms"], "30000")

    def test_the_handler_sees_the_pools_job_timeout_and_is_cancelled_at_it(self):
        self.pool_worker("1")
        before_ms = int(time.time() * 1000)
        jid = self.enqueue("wire", {"do": "ok"}, "--queue", "main", "--max-retries", "0")
        self.assertEqual(self.final(jid), "completed", self.job(jid))
        after_ms = int(time.time() * 1000)
        req = self.completed_data(self.result(jid))["request"]
        self.assertEqual(req["timeout_ms"], 1000)
        self.assertGreaterEqual(req["deadline_ms"] - req["timeout_ms"], before_ms - 5)
        self.assertLessEqual(req["deadline_ms"] - req["timeout_ms"], after_ms + 5)
        # Its own timeout reaches the handler as given.
        jid = self.enqueue("wire", {"do": "ok"}, "--queue", "main", "--max-retries", "0", "--timeout", "30")
        self.assertEqual(self.final(jid), "completed", self.job(jid))
        self.assertEqual(self.completed_data(self.result(jid))["request"]["timeout_ms"], 30000)
        # A hang: the handler gets the cancel at the pool's 1 s and stops it.
        hang = self.enqueue("wire", {"do": "hang"}, "--queue", "main", "--max-retries", "0")
        error = self.assert_timed_out_at(hang, 1, killed=False)
        self.assertIn("stopped on timeout", error)

    def test_the_flag_wins_over_the_pool_and_check_says_which_applies(self):
        path = self.write(pool_config("90s"))
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", env=ENV)
        self.assertIn("; job timeout 90s for jobs without one;", p.stdout)
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", "--job-timeout", "5m", env=ENV)
        self.assertIn("; job timeout 300s for jobs without one;", p.stdout)
        # A pool without job_timeout: the flag's, else 1 h.
        path = self.write(pool_config("1").replace("job_timeout = 1\n", ""), name="plain.ini")
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", env=ENV)
        self.assertIn("; job timeout 3600s for jobs without one;", p.stdout)
        # The flag on a worker that runs the pool: its value is what kills.
        self.pool_worker("90s", "--job-timeout", "1")
        jid = self.enqueue("sleep", {"ms": LONG_MS}, "--queue", "main", "--max-retries", "0")
        self.assert_timed_out_at(jid, 1)


class TestWorkerJobTimeout(JobTimeoutCase):
    def test_job_timeout_flag_without_a_pool(self):
        w = self.worker("--workers", "1", "--job-timeout", "1", "--retry-base", "50ms")
        jid = self.enqueue("sleep", {"ms": LONG_MS}, "--max-retries", "1")
        self.assert_final_timeouts(jid, 1, 2)
        own = self.enqueue("sleep", {"ms": 2000}, "--timeout", "30", "--max-retries", "0")
        self.assertEqual(self.final(own), "completed", self.job(own))
        started = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "worker started"]
        self.assertEqual(started[0]["job_timeout_s"], 1)

    def assert_final_timeouts(self, jid, seconds, attempts):
        self.assertEqual(self.final(jid), "dead", self.job(jid))
        rec = self.retries(jid)
        self.assertEqual([r["kind"] for r in rec], ["timeout"] * attempts, rec)
        for r in rec:
            self.assertIn(f"Job exceeded its timeout of {seconds:g} s and was killed", r["error"])

    def test_the_python_client_without_a_timeout_leaves_it_to_the_worker(self):
        self.worker("--workers", "1", "--job-timeout", "1")
        client = tickq.Client(self.url)
        jid = client.enqueue("sleep", {"ms": LONG_MS}, max_retries=0)
        self.assertEqual(self.job(jid)["timeout_ms"], "0")
        self.assert_timed_out_at(jid, 1)
        own = client.enqueue("sleep", {"ms": 2000}, max_retries=0, timeout=30)
        self.assertEqual(self.final(own), "completed", self.job(own))
        self.assertEqual(self.job(own)["timeout_ms"], "30000")

    def test_a_list_protocol_task_gets_the_worker_default(self):
        self.worker("--workers", "1", "--job-timeout", "1", "--retry-base", "50ms")
        self.r.lpush("strategy_queue", json.dumps({"task_id": "list-slow", "task_type": "sleep",
                                                   "args": {"ms": LONG_MS}}))
        wait_for(lambda: self.retries("list-slow"), 20, what="the list task's first failed attempt")
        rec = self.retries("list-slow")[0]
        self.assertEqual((rec["attempt"], rec["kind"]), (1, "timeout"))
        self.assertIn("Job exceeded its timeout of 1 s and was killed", rec["error"])
        self.assertEqual(self.job("list-slow")["timeout_ms"], "0")

    def test_without_flag_or_pool_the_default_is_an_hour(self):
        p = self.tickq("worker", "--check")
        self.assertIn("; job timeout 3600s for jobs without one;", p.stdout)
        w = self.worker("--workers", "1")
        jid = self.enqueue("sleep", {"ms": 1})
        self.assertEqual(self.final(jid), "completed")
        started = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "worker started"]
        self.assertEqual(started[0]["job_timeout_s"], 3600)

    def test_bad_job_timeout_flags_are_refused_naming_the_flag(self):
        for bad, why in (("0", "too short"), ("0.0001", "less than a millisecond"), ("-1", "negative"),
                         ("8d", "not a decimal number, with a unit ms, s, m or h or without"), ("169h", "too long"),
                         ("604801", "too long"), ("0x10", "not a decimal number"), ("soon", "not a decimal number"),
                         ("", "empty")):
            with self.subTest(bad=bad):
                p = self.tickq("worker", "--check", "--job-timeout", bad)
                self.assertEqual(p.returncode, 64, p.stdout + p.stderr)
                self.assertIn(f"--job-timeout '{bad}' is {why}", p.stderr)
                self.assertIn("give a duration from 1 ms to 7 days", p.stderr)
        # The bounds: 7 days, and a millisecond.
        for good, shown in (("168h", "604800s"), ("604800", "604800s"), ("1ms", "0.001s")):
            p = self.tickq("worker", "--check", "--job-timeout", good)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn(f"; job timeout {shown} for jobs without one;", p.stdout)


class TestUnsetTimeoutShown(JobTimeoutCase):
    def test_enqueue_without_timeout_stores_0_and_tickq_job_says_worker_default(self):
        jid = self.enqueue("echo", {"x": 1})
        self.assertEqual(self.job(jid)["timeout_ms"], "0")
        self.assertEqual(self.stream_entry(jid, "backtest_normal")["timeout_ms"], "0")
        shown = json.loads(self.tickq("job", jid).stdout)
        self.assertEqual((shown["timeout_seconds"], shown["timeout_ms"]), ("worker default", 0))
        own = self.enqueue("echo", {"x": 2}, "--timeout", "90")
        self.assertEqual(self.stream_entry(own, "backtest_normal")["timeout_ms"], "90000")
        shown = json.loads(self.tickq("job", own).stdout)
        self.assertEqual((shown["timeout_seconds"], shown["timeout_ms"]), (90, 90000))

    def test_tickq_job_prints_a_timeout_and_args_in_their_fewest_exact_digits(self):
        """timeout_seconds is timeout_ms / 1000 and args are the decimals the
        user wrote: `tickq job` prints them as 0.1, not as jansson's 17
        digits (0.10000000000000001), and each reads back as the same
        double; a whole number of seconds stays a real (60.0)."""
        for given, ms, text in (("0.1", 100, "0.1"), ("1.5", 1500, "1.5"), ("0.123", 123, "0.123"),
                                ("60", 60000, "60.0")):
            with self.subTest(timeout=given):
                jid = self.enqueue("echo", '{"qty": 0.1, "px": 101.7, "n": 3}', "--timeout", given)
                p = self.tickq("job", jid)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(f'\n  "timeout_seconds": {text},\n', p.stdout)
                self.assertIn(f'\n  "timeout_ms": {ms},\n', p.stdout)
                self.assertIn('\n  "args": {\n    "qty": 0.1,\n    "px": 101.7,\n    "n": 3\n  },\n', p.stdout)
                shown = json.loads(p.stdout)
                self.assertEqual(shown["timeout_seconds"], ms / 1000)
                self.assertIsInstance(shown["timeout_seconds"], float)
                self.assertEqual(shown["args"], {"qty": 0.1, "px": 101.7, "n": 3})

    def test_a_given_timeout_must_be_more_than_0(self):
        for bad, words in (("0", "invalid timeout: --timeout 0 must be more than 0 and at most 7 days"),
                           ("0.0001", "invalid --timeout '0.0001': it is less than a millisecond"),
                           ("0x10", "invalid --timeout '0x10': it is not a decimal number"),
                           ("604801", "invalid timeout: --timeout 604801 must be more than 0 and at most 7 days"),
                           ("-1", "invalid --timeout '-1': it is negative")):
            with self.subTest(bad=bad):
                p = self.tickq("enqueue", "echo", "{}", "--timeout", bad)
                self.assertEqual(p.returncode, 65, p.stderr)
                self.assertIn(words, p.stderr)
        self.assertEqual(self.r.keys("tickq:job:*"), [])
