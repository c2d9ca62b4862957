"""test_handler_python.py — Python task code run by tickq for real, through
the shipped runtime (`python3 -m tickq.handler MODULE`, modules in
tests/integration/handler_apps): a plain and an async def task, Retry then
success, Fail, an uncaught exception (its name and line in the error),
progress seen by Client.wait(on_progress=...); the Python client's
enqueue and wait (TaskFailed, TaskTimeout); `tickq tasks --config`; the
users' Streams QueueManager as a handler command, its submit_task and
get_metrics; and a handler's announced max_jobs in `worker --check`."""
import asyncio
import json
import os
import shutil
import sys
import tempfile

from harness import ROOT, TickqTestCase, wait_for

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq  # noqa: E402
from tickq.streams import QueueManager  # noqa: E402

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handler_apps")
PY = sys.executable
# No bytecode written into the source tree by the handlers.
ENV = {"PYTHONPATH": APPS, "PYTHONDONTWRITEBYTECODE": "1", "TICKQ_CONFIG": None}
APP_TYPES = "greet, async_sum, flaky, refuse, boom, progress_wait, hold"


def source_line(module, text):
    """The number of the line of handler_apps/MODULE.py that holds `text`."""
    with open(os.path.join(APPS, module + ".py")) as f:
        lines = [i for i, line in enumerate(f, 1) if text in line]
    assert len(lines) == 1, (module, text, lines)
    return lines[0]


class HandlerCase(TickqTestCase):
    """Each test gets a temp folder and a config with [handler apps]."""

    COMMAND = f"{PY} -m tickq.handler app_tasks"

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-pyhandler-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.config = self.write(f"[handler apps]\ncommand = {self.COMMAND}\ntypes = {APP_TYPES}\n")

    def write(self, text, name="tickq.ini"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def serve(self, *args):
        """A worker of one child serving the config's handlers; returns once
        its handler has announced its types (so producers accept them)."""
        w = self.worker("--config", self.config, "--workers", "1", "--retry-base", "100ms", *args, env=ENV)
        wait_for(lambda: "handler started" in w.log(), 20, what="the handler's announcement")
        return w

    def final(self, jid, timeout=20):
        return self.wait_state(jid, ("completed", "failed", "dead"), timeout)


class TestPythonTasks(HandlerCase):
    def test_plain_and_async_tasks_return_their_results(self):
        self.serve()
        greet = self.enqueue("greet", {"name": "ada"})
        total = self.enqueue("async_sum", {"numbers": [1, 2, 3.5]})
        self.final(greet)
        self.final(total)
        data = self.completed_data(self.result(greet))
        self.assertEqual((data["hello"], data["attempt"], data["queue"], data["id"]), ("ada", 1, "backtest", greet))
        data = self.completed_data(self.result(total))
        self.assertEqual((data["sum"], data["id"]), (6.5, total))
        for jid in (greet, total):
            self.assertEqual(self.job(jid)["attempts"], "1")

    def test_retry_then_success_on_attempt_two(self):
        self.serve()
        jid = self.enqueue("flaky", {}, "--max-retries", "3")
        self.final(jid)
        self.assertEqual(self.completed_data(self.result(jid))["attempt"], 2)
        self.assertEqual(self.job(jid)["attempts"], "2")
        rec = self.retries(jid)
        self.assertEqual([(r["attempt"], r["kind"], r["error"]) for r in rec],
                         [(1, "transient", "not yet: the feed is warming up")])

    def test_fail_fails_at_once(self):
        self.serve()
        jid = self.enqueue("refuse", {}, "--max-retries", "5")
        self.final(jid)
        self.assertEqual(self.permanent_error(self.result(jid), jid), "bad input: no symbol")

    def test_an_uncaught_exception_is_transient_with_its_name_and_line(self):
        w = self.serve()
        jid = self.enqueue("boom", {"key": "zz"}, "--max-retries", "1")
        self.final(jid)
        self.assertEqual(self.state(jid), "dead")
        self.assertEqual(self.job(jid)["attempts"], "2")
        line = source_line("app_tasks", 'return table[args["key"]]')
        where = f"{os.path.join(APPS, 'app_tasks.py')}:{line} in boom"
        rec = self.retries(jid)
        self.assertEqual([(r["attempt"], r["kind"]) for r in rec], [(1, "transient"), (2, "transient")])
        for r in rec:
            self.assertEqual(r["error"], f"KeyError: 'zz' (at {where})")
        res = self.result(jid)
        self.assertEqual(res["status"], "error")
        self.assertEqual(res["data"]["error"], f"KeyError: 'zz' (at {where})")
        # The traceback went to the log, tagged with the job.
        lines = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "handler output"
                 and x.get("job_id") == jid]
        self.assertTrue(any(x["line"].startswith("KeyError") for x in lines), lines)

    def test_progress_reaches_client_wait(self):
        self.serve()
        client = tickq.Client(self.url)
        marker = os.path.join(self.tmp, "seen-progress")
        jid = client.enqueue("progress_wait", {"marker": marker})
        seen = []

        def on_progress(fraction, message):
            seen.append((fraction, message))
            # The task holds until this file exists: it is still running
            # when the client sees its progress, whatever the timing.
            open(marker, "w").close()

        try:
            data = client.wait(jid, timeout=30, on_progress=on_progress)
        finally:
            open(marker, "w").close()   # a failed test does not leave the job holding its worker
        self.assertEqual(data["saw_marker"], True)
        self.assertEqual(seen, [(0.5, "half way")])
        self.assertEqual(self.job(jid)["attempts"], "1")

    def test_tasks_config_lists_the_handler_types(self):
        p = tickq_cli(self, "tasks", "--config", self.config)
        self.assertEqual(p.returncode, 0, p.stderr)
        listed = {line.split()[0]: line.split(None, 1)[1] for line in p.stdout.splitlines()
                  if line and not line.startswith("`")}
        for t in APP_TYPES.split(", "):
            self.assertEqual(listed.get(t), "served by [handler apps] (its own code)", t)
        self.assertIn("echo", listed)      # the built-in ones beside them
        p = tickq_cli(self, "tasks", "--config", self.config, "greet")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "greet: served by [handler apps] (its own code)\n\n"
                                   "Its handler announces no argument schema: its args are passed to it unchecked\n"
                                   "(any JSON object).\n")
        p = tickq_cli(self, "tasks", "--json", "--config", self.config, "greet")
        self.assertEqual(json.loads(p.stdout)["any_args"], True)
        # Without the file, greet is no task tickq knows.
        p = tickq_cli(self, "tasks", "greet")
        self.assertEqual(p.returncode, 64, p.stdout)
        self.assertIn("unknown task type 'greet'", p.stderr)


def tickq_cli(test, *args):
    return test.tickq(*args, env=ENV)


class TestClient(HandlerCase):
    def test_enqueue_and_wait_round_trip(self):
        self.serve("--queues", "backtest,pyq")
        client = tickq.Client(self.url)
        jid = client.enqueue("greet", {"name": "client"}, queue="pyq", priority="high", max_retries=0, timeout=30)
        data = client.wait(jid, timeout=30)
        self.assertEqual((data["hello"], data["queue"], data["id"]), ("client", "pyq", jid))
        job = self.job(jid)
        self.assertEqual((job["queue"], job["priority"], job["max_retries"], job["timeout_ms"]),
                         ("pyq", "high", "0", "30000"))
        self.assertEqual(job["stream"], "tickq:queue:pyq_high")

    def test_wait_raises_task_failed_for_a_fail(self):
        self.serve()
        client = tickq.Client(self.url)
        jid = client.enqueue("refuse", {}, max_retries=3)
        with self.assertRaises(tickq.TaskFailed) as caught:
            client.wait(jid, timeout=30)
        e = caught.exception
        self.assertEqual((e.task_id, e.status, e.error), (jid, "failed", "bad input: no symbol"))
        self.assertEqual(self.job(jid)["attempts"], "1")

    def test_wait_raises_task_timeout_when_it_ends_before_the_job(self):
        self.serve()
        client = tickq.Client(self.url)
        marker = os.path.join(self.tmp, "let-go")
        jid = client.enqueue("hold", {"marker": marker})
        try:
            self.wait_running(jid)
            with self.assertRaises(tickq.TaskTimeout) as caught:
                client.wait(jid, timeout=0.2)
            self.assertEqual(caught.exception.task_id, jid)
            self.assertEqual(caught.exception.status, "running")
            # The job itself goes on, and a later wait gets its result.
            self.assertEqual(self.result(jid)["status"], "running")
        finally:
            open(marker, "w").close()   # a failed test does not leave the job holding its worker
        self.assertEqual(client.wait(jid, timeout=30)["held"], True)
        self.assertEqual(self.job(jid)["attempts"], "1")


    def test_cancel_a_waiting_and_a_running_job(self):
        """Client.cancel, RQ's job.cancel() / arq's job.abort(): a delayed
        job is cancelled at once and never runs; a running one is stopped
        by its worker and wait() says cancelled; a finished or unknown id
        changes nothing and says so."""
        self.serve()
        client = tickq.Client(self.url)
        later = client.enqueue("greet", {"name": "later"}, delay=60)
        self.assertEqual(client.cancel(later), "cancelled")
        with self.assertRaises(tickq.TaskFailed) as caught:
            client.wait(later, timeout=5)
        self.assertEqual(caught.exception.status, "cancelled")
        marker = os.path.join(self.tmp, "never")
        jid = client.enqueue("hold", {"marker": marker}, max_retries=3)
        self.wait_running(jid)
        self.assertEqual(client.cancel(jid), "requested")
        with self.assertRaises(tickq.TaskFailed) as caught:
            client.wait(jid, timeout=20)
        self.assertEqual((caught.exception.status, caught.exception.error), ("cancelled", "Job cancelled"))
        self.assertEqual((self.state(jid), self.state(later)), ("cancelled", "cancelled"))
        self.assertEqual(self.job(later)["attempts"], "0")
        self.assertEqual(client.cancel(jid), "finished")
        self.assertEqual(client.cancel("no-such-job"), "missing")


class TestStreamsFacade(HandlerCase):
    COMMAND = f"{PY} -m streams_worker"

    def setUp(self):
        super().setUp()
        self.config = self.write(f"[handler streams]\ncommand = {self.COMMAND}\ntypes = my_task_type\n")

    def test_register_handler_and_submit_task(self):
        self.serve("--queues", "streams")
        qm = QueueManager(redis_url=self.url, queue="streams")

        async def submit_all():
            ids = []
            for n in range(5):
                ids.append(await qm.submit_task(task_type="my_task_type", payload={"n": n}, priority=8,
                                                max_retries=3, timeout_seconds=60))
            ids.append(await qm.submit_task(task_type="my_task_type", payload={"n": 99, "fail": True}, priority=2,
                                            max_retries=3, timeout_seconds=60))
            return ids

        ids = asyncio.run(submit_all())
        self.assertEqual(len(set(ids)), 6)
        for jid in ids:
            self.final(jid)
        for n, jid in enumerate(ids[:5]):
            self.assertEqual(self.completed_data(self.result(jid))["doubled"], 2 * n)
            job = self.job(jid)
            self.assertEqual((job["type"], job["queue"], job["priority"], job["max_retries"], job["timeout_ms"],
                              job["attempts"]), ("my_task_type", "streams", "high", "3", "60000", "1"))
        self.assertEqual(self.permanent_error(self.result(ids[5]), ids[5]), "refused 99")
        self.assertEqual(self.job(ids[5])["priority"], "low")
        metrics = qm.get_metrics()
        self.assertEqual(metrics, {"tasks_submitted": 6, "tasks_completed": 5, "tasks_failed": 1,
                                   "tasks_timeout": 0, "active_tasks": 0})


class TestIdleOutput(HandlerCase):
    """What a handler's own thread prints between jobs is read and logged
    while the worker waits for jobs, not only while a job runs: before,
    the pipe filled after 64 KiB and the printing thread stalled (and any
    lock it held with it, the logging module's say, stalled the next job)."""
    COMMAND = f"{PY} -m tickq.handler chatty_tasks"

    def test_a_thread_that_prints_between_jobs_is_not_stalled(self):
        self.config = self.write(f"[handler chatty]\ncommand = {self.COMMAND}\ntypes = chatty_start\n")
        done = os.path.join(self.tmp, "chatty.done")
        w = self.worker("--config", self.config, "--workers", "1", env=dict(ENV, CHATTY_DONE=done))
        wait_for(lambda: "handler started" in w.log(), 20, what="the handler's announcement")
        self.wait_state(self.enqueue("chatty_start", {}), "completed")
        wait_for(lambda: os.path.exists(done), 30, what="the handler's thread to write its 300 lines")
        wait_for(lambda: "chatty 299 " in w.log(), 10, what="its last line in the worker's log")
        lines = [json.loads(x) for x in w.log().splitlines() if '"handler output"' in x]
        self.assertEqual([x["line"][:10] for x in lines if x["line"].startswith("chatty")],
                         [f"chatty {i:03d}" for i in range(300)])

    def test_and_while_another_handler_runs_a_long_job(self):
        """The same while the worker child is busy with another handler's
        job (held until the lines are all written): its waits read the
        idle handlers' output too."""
        self.config = self.write(f"[handler chatty]\ncommand = {self.COMMAND}\ntypes = chatty_start\n"
                                 f"[handler apps]\ncommand = {HandlerCase.COMMAND}\ntypes = hold\n")
        done = os.path.join(self.tmp, "chatty.done")
        marker = os.path.join(self.tmp, "release")
        self.addCleanup(lambda: open(marker, "w").close())
        w = self.worker("--config", self.config, "--workers", "1", env=dict(ENV, CHATTY_DONE=done))
        wait_for(lambda: w.log().count("handler started") >= 2, 20, what="both handlers' announcements")
        self.wait_state(self.enqueue("chatty_start", {}), "completed")
        held = self.enqueue("hold", {"marker": marker})
        self.wait_running(held)
        wait_for(lambda: os.path.exists(done), 30, what="the thread's 300 lines while 'hold' runs")
        self.assertEqual(self.result(held)["status"], "running")   # still held: it was read meanwhile
        open(marker, "w").close()
        self.wait_state(held, "completed")


class TestQuantResults(HandlerCase):
    """The numbers a pandas job returns reach the client as those numbers:
    numpy's int64, float32 and bool_ scalars (what df.volume.sum(),
    closes[-1] and a comparison give) are no longer "not JSON" failures
    that throw the finished work away."""
    COMMAND = f"{PY} -m tickq.handler quant_tasks"

    def setUp(self):
        super().setUp()
        self.config = self.write(f"[handler quant]\ncommand = {self.COMMAND}\n"
                                 "types = np_metrics, np_overflow, rq_helper, flat_sharpe\n"
                                 f"[handler quant_async]\ncommand = {PY} -m tickq.handler --max-jobs 4 quant_async\n"
                                 "types = arq_helper\n")

    def test_numpy_scalars_come_back_as_the_same_numbers(self):
        import numpy as np
        self.serve()
        client = tickq.Client(self.url)
        # The producer's args may hold them too (a volume read with numpy).
        jid = client.enqueue("np_metrics", {"volumes": [np.int64(100), 250, 7], "closes": [10.25, np.float32(0.1)]},
                             max_retries=0)
        data = client.wait(jid, timeout=30)
        got = {k: data[k] for k in ("volume", "last", "up", "mean", "small", "big")}
        want = {"volume": 357, "last": float(np.float32(0.1)), "up": False,
                "mean": float(np.float32([10.25, np.float32(0.1)]).mean()), "small": -5, "big": 2**63 - 1}
        self.assertEqual(got, want)
        self.assertEqual({k: type(v) for k, v in got.items()},
                         {"volume": int, "last": float, "up": bool, "mean": float, "small": int, "big": int})
        self.assertEqual(json.loads(self.job(jid)["args"]),
                         {"volumes": [100, 250, 7], "closes": [10.25, float(np.float32(0.1))]})
        # One beyond 64 bits is still refused, by name.
        jid = client.enqueue("np_overflow", {}, max_retries=3)
        with self.assertRaises(tickq.TaskFailed) as caught:
            client.wait(jid, timeout=30)
        self.assertEqual(caught.exception.status, "failed")
        self.assertEqual(caught.exception.error, "the task returned a dict, which is not JSON: result key 'n': a "
                         "uint64 (ValueError: a numpy.uint64 beyond 64 bits (18446744073709551615): tickq takes "
                         "integers from -2**63 to 2**63-1)")

    def test_a_result_that_is_not_json_names_where(self):
        """A NaN deep in a big result (the Sharpe ratio of a flat curve) is
        named by its place, not only as 'Out of range float values'."""
        self.serve()
        client = tickq.Client(self.url)
        jid = client.enqueue("flat_sharpe", {"symbol": "AAPL", "closes": [10, 10, 10]}, max_retries=3)
        with self.assertRaises(tickq.TaskFailed) as caught:
            client.wait(jid, timeout=30)
        self.assertEqual(caught.exception.status, "failed")
        self.assertEqual(caught.exception.error, "the task returned a dict, which is not JSON: result key 'metrics' "
                         "key 'sharpe': a float nan, which JSON does not have")


    def test_get_current_job_is_the_running_job(self):
        """RQ's get_current_job() for helpers that were never handed the
        job: each running task sees its own, in a plain task run inline and
        in async tasks running at once on one event loop; outside a task,
        None."""
        self.assertIsNone(tickq.get_current_job())
        w = self.serve()
        wait_for(lambda: w.log().count("handler started") >= 2, 20, what="both handlers")
        client = tickq.Client(self.url)
        jid = client.enqueue("rq_helper", {"note": "rq"})
        self.assertEqual(client.wait(jid, timeout=30)["deep"],
                         {"note": "rq", "id": jid, "attempt": 1, "type": "rq_helper"})
        self.assertIs(client.wait(jid, timeout=30)["same"], True)
        ids = [client.enqueue("arq_helper", {"note": n}) for n in range(4)]
        for n, jid in enumerate(ids):
            data = client.wait(jid, timeout=30)
            self.assertEqual((data["deep"], data["id"]), ({"note": n, "id": jid}, jid))


UNREADABLE_TYPES = ("big_int, big_negative, int64_edges, nul_text, nul_key, key_twice, nul_fail, nul_progress, slow, "
                    "exit_after_stderr")
INT64 = "tickq takes integers from -2**63 to 2**63-1"
NO_NUL = "tickq takes text without NUL"


class TestResultsTickqCannotRead(HandlerCase):
    """What Python's json writes and tickq's reader refuses (an integer
    beyond 64 bits, a NUL, a key given twice): the runtime replies with a
    permanent error naming where it is, instead of a line that would get
    its handler killed and every job it runs retried as crashed."""
    COMMAND = f"{PY} -m tickq.handler --max-jobs 4 unreadable_tasks"

    def setUp(self):
        super().setUp()
        self.config = self.write(f"[handler unread]\ncommand = {self.COMMAND}\ntypes = {UNREADABLE_TYPES}\n")

    def starts(self, w):
        return [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "handler started"]

    def test_a_result_tickq_cannot_read_fails_its_job_alone(self):
        """Two jobs run in the --max-jobs handler while a task returns 2**64
        and another "a\\x00b": those fail at once, naming the place; the two
        complete on their first attempt, in the same process."""
        w = self.serve()
        running = [self.enqueue("slow", {"s": 3}, "--max-retries", "1") for _ in range(2)]
        for jid in running:
            self.wait_running(jid)
        big = self.enqueue("big_int", {}, "--max-retries", "3")
        nul = self.enqueue("nul_text", {}, "--max-retries", "3")
        self.assertEqual(self.final(big), "failed", self.job(big))
        self.assertEqual(self.permanent_error(self.result(big), big),
                         "the task returned a dict that tickq cannot read as JSON: result key 'n': an integer beyond "
                         f"64 bits (18446744073709551616): {INT64}")
        self.assertEqual(self.final(nul), "failed", self.job(nul))
        self.assertEqual(self.permanent_error(self.result(nul), nul),
                         "the task returned a dict that tickq cannot read as JSON: result key 's': a string with a NUL "
                         f"character (\\u0000): {NO_NUL}")
        for jid in running:
            self.assertEqual(self.final(jid), "completed", self.job(jid))
            self.assertEqual((self.job(jid)["attempts"], self.retries(jid)), ("1", []))
        pids = {self.completed_data(self.result(jid))["pid"] for jid in running}
        self.assertEqual(len(pids), 1)
        self.assertEqual([x["handler_pid"] for x in self.starts(w)], list(pids))   # never started again

    def test_each_thing_tickq_refuses_is_named_where_it_is(self):
        self.serve()
        cases = [
            ("big_negative", "a list", f"result item 1: an integer beyond 64 bits (-9223372036854775809): {INT64}"),
            ("nul_key", "dict",
             f"result key 'rows' item 0 key 'k\\x00': a key with a NUL character (\\u0000): {NO_NUL}"),
            ("key_twice", "dict", "result: the keys 1 and '1' both become the key '1' in JSON: tickq refuses a key "
                                  "given twice"),
        ]
        ids = [(self.enqueue(t, {}, "--max-retries", "2"), t, kind, why) for t, kind, why in cases]
        for jid, t, kind, why in ids:
            with self.subTest(task=t):
                self.assertEqual(self.final(jid), "failed", self.job(jid))
                kind = "list" if kind == "a list" else kind
                self.assertEqual(self.permanent_error(self.result(jid), jid),
                                 f"the task returned a {kind} that tickq cannot read as JSON: {why}")
        # The edges of 64 bits are integers tickq reads, exactly.
        jid = self.enqueue("int64_edges", {})
        self.assertEqual(self.final(jid), "completed", self.job(jid))
        data = self.completed_data(self.result(jid))
        self.assertEqual((data["min"], data["max"]), (-2**63, 2**63 - 1))

    def test_a_nul_in_an_error_or_a_progress_message_becomes_u_fffd(self):
        self.serve()
        jid = self.enqueue("nul_fail", {}, "--max-retries", "2")
        self.assertEqual(self.final(jid), "failed", self.job(jid))
        self.assertEqual(self.permanent_error(self.result(jid), jid), "bad\ufffdinput")
        client = tickq.Client(self.url)
        marker = os.path.join(self.tmp, "seen-progress")
        jid = client.enqueue("nul_progress", {"marker": marker})
        seen = []

        def on_progress(fraction, message):
            seen.append((fraction, message))
            open(marker, "w").close()
        try:
            self.assertEqual(client.wait(jid, timeout=30, on_progress=on_progress), self.result(jid)["data"])
        finally:
            open(marker, "w").close()
        self.assertEqual(seen, [(0.5, "half\ufffdway")])

    def test_a_crash_quotes_the_end_of_its_stderr(self):
        """sys.exit(0) in a task ends the handler: the crash's error quotes
        the END of stderr (the traceback's last line, SystemExit: 0), not
        its first kilobyte cut short."""
        self.serve()
        jid = self.enqueue("exit_after_stderr", {"lines": 100}, "--max-retries", "0")
        self.assertEqual(self.final(jid), "dead", self.job(jid))
        error = self.result(jid)["data"]["error"]
        self.assertIn("handler unread died while running the job", error)
        self.assertLessEqual(len(error.encode("utf-8")), 1023)
        quoted = error.split("; the end of its stderr: ", 1)[1]
        self.assertNotIn("stderr line 0000", quoted)
        # From the start of a line: one of ours whole, or one of the traceback's.
        self.assertRegex(quoted, r"^(stderr line \d{4} \u20ac x{41}\n|Traceback |  File |    )")
        self.assertTrue(quoted.endswith("SystemExit: 0"), error)


class TestMaxJobs(HandlerCase):
    COMMAND = f"{PY} -m tickq.handler --max-jobs 4 app_tasks"

    def test_check_shows_the_announced_max_jobs(self):
        p = self.tickq("worker", "--check", "--config", self.config, env=ENV)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"ok   handler apps: started and announced {APP_TYPES} (max_jobs 4)\n", p.stdout)
        # And the handler serves jobs so.
        self.serve()
        ids = [self.enqueue("greet", {"name": str(n)}) for n in range(4)] + [self.enqueue("async_sum",
                                                                                          {"numbers": [2, 2]})]
        for jid in ids:
            self.final(jid)
        self.assertEqual([self.completed_data(self.result(j)).get("hello") for j in ids[:4]], ["0", "1", "2", "3"])
        self.assertEqual(self.completed_data(self.result(ids[4]))["sum"], 4)
