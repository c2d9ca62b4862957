"""test_handler_examples.py — the migration examples of docs/handlers.md
("Migration"), run as shipped and as the doc runs them: from the top of the
source tree with examples/handlers on PYTHONPATH. `worker --check --pool`
passes for each pool of examples/handlers/tickq.ini; one job each of the
RQ job moved to a handler (backtest_worker: a result, a failure retried
with each attempt in job_retries as record_retry wrote it, a Fail final at
once), the arq function on its pool (run_optimization, 15 jobs at once) and
the Streams handler (data_fetch, submitted and counted through the
facade). They all run offline: their work is stand-ins, with no network
and nothing from PyPI."""
import asyncio
import os
import sys

from harness import ROOT, TickqTestCase, sqlite_rows, temp_sqlite, wait_for

EXAMPLES = os.path.join(ROOT, "examples", "handlers")
CONFIG = os.path.join(EXAMPLES, "tickq.ini")
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
sys.path.insert(0, EXAMPLES)
sys.dont_write_bytecode = True  # the examples' own import here writes no __pycache__ into the tree
import rq_backtest  # noqa: E402
import tickq  # noqa: E402
from tickq.streams import QueueManager  # noqa: E402

# No bytecode written into the source tree by the handlers.
ENV = {"PYTHONPATH": EXAMPLES, "PYTHONDONTWRITEBYTECODE": "1", "TICKQ_CONFIG": None}
# The handlers of each pool of tickq.ini, with the types they announce.
POOLS = {
    "backtest": {"backtest": "backtest_worker (max_jobs 1)"},
    "optimization": {"optimization": "run_optimization (max_jobs 15)"},
    "data": {"data": "data_fetch (max_jobs 1)", "reports": "generate_report (max_jobs 1)",
             "node": "word_count (max_jobs 1)"},
}


def source_line(path, text):
    """The number of the line of `path` that holds `text`."""
    with open(path) as f:
        lines = [i for i, line in enumerate(f, 1) if text in line]
    assert len(lines) == 1, (path, text, lines)
    return lines[0]


class TestHandlerExamples(TickqTestCase):
    def setUp(self):
        super().setUp()
        self.db, db_env = temp_sqlite(self, "tickq-examples-")
        self.env = dict(ENV, **db_env)

    def pool_worker(self, pool):
        """A worker of one pool of tickq.ini (one child), once it announced
        its handlers' types."""
        w = self.worker("--config", CONFIG, "--pool", pool, "--workers", "1", "--retry-base", "100ms",
                        env=self.env, cwd=ROOT)
        types = [t.split(" ")[0] for t in POOLS[pool].values()]
        wait_for(lambda: all(self.r.sismember("tickq:types", t) for t in types) or w.proc.poll() is not None, 20,
                 what=f"pool {pool}'s handler types announced")
        self.assertIsNone(w.proc.poll(), w.log())
        return w

    def rows(self, sql):
        return sqlite_rows(self.db, sql)

    def test_check_passes_for_each_pool(self):
        for pool, handlers in POOLS.items():
            with self.subTest(pool=pool):
                p = self.tickq("worker", "--check", "--config", CONFIG, "--pool", pool, env=self.env, cwd=ROOT)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertIn(f"ok   pool {pool}: runs ", p.stdout)
                for name, announced in handlers.items():
                    self.assertIn(f"ok   handler {name}: started and announced {announced}\n", p.stdout)
                self.assertTrue(p.stdout.endswith("check passed\n"), p.stdout)

    def test_backtest_worker_results_retry_records_and_fail(self):
        """Case a, the RQ job: a result; a payload its code trips on
        (a price that is text) is retried, and each failed attempt is in
        the database with its error, as record_retry wrote it; a Fail is
        final at once, with no retry record."""
        self.pool_worker("backtest")
        good = {"symbol": "AAPL", "closes": [10, 11, 12, 11, 13, 14, 13]}
        ok = self.enqueue("backtest_worker", good, "--queue", "backtest", "--id", "bt-ok", "--max-retries", "3",
                          "--timeout", "3600")
        flaky = self.enqueue("backtest_worker", {"symbol": "MSFT", "closes": [10, 11, "12.5", 13]}, "--queue",
                             "backtest", "--id", "bt-retried", "--max-retries", "1")
        bad = self.enqueue("backtest_worker", {"closes": [1]}, "--queue", "backtest", "--id", "bt-bad")
        self.assertEqual((ok, flaky, bad), ("bt-ok", "bt-retried", "bt-bad"))
        for jid, state in ((ok, "completed"), (flaky, "dead"), (bad, "failed")):
            self.assertEqual(self.wait_state(jid, ("completed", "failed", "dead"), 30), state, self.job(jid))
        data = self.completed_data(self.result(ok))
        self.assertEqual({k: data[k] for k in ("symbol", "return")}, rq_backtest.run_backtest(good))

        path = os.path.join(EXAMPLES, "rq_backtest.py")
        error = ("TypeError: unsupported operand type(s) for +: 'int' and 'str' "
                 f"(at {path}:{source_line(path, 'return sum(closes[i - n + 1:i + 1]) / n')} in mean)")
        self.assertEqual([(r["attempt"], r["kind"], r["error"]) for r in self.retries(flaky)],
                         [(1, "transient", error), (2, "transient", error)])
        self.assertEqual(self.permanent_error(self.result(bad), bad),
                         'payload needs "closes", a list of at least 3 prices')

        def history():
            jobs = self.rows("SELECT job_id, state, attempts FROM job_history ORDER BY job_id")
            return jobs if len(jobs) == 3 else None
        self.assertEqual(wait_for(history, 10, what="the three jobs' history"),
                         [("bt-bad", "failed", 1), ("bt-ok", "completed", 1), ("bt-retried", "dead", 2)])
        self.assertEqual(self.rows("SELECT job_id, run, attempt, kind, error FROM job_retries ORDER BY attempt"),
                         [("bt-retried", 1, 1, "transient", error), ("bt-retried", 1, 2, "transient", error)])

    def test_run_optimization_on_its_pool(self):
        """Case b, the arq function: its handler takes 15 jobs at once
        (arq's max_jobs), and a job runs to its result with progress."""
        w = self.pool_worker("optimization")

        def started():   # a child's log lines come a batch at a time (src/core/log.c)
            return [(x["handler"], x["max_jobs"]) for x in w.log_lines()
                    if isinstance(x, dict) and x.get("msg") == "handler started"]
        self.assertEqual(wait_for(started, 10, what="the 'handler started' line"), [("optimization", 15)])
        client = tickq.Client(self.url)
        closes = [10, 11, 12, 11, 13, 14, 13, 15, 16, 15]
        jid = client.enqueue("run_optimization", {"closes": closes, "windows": [2, 3, 4]}, queue="optimization")
        data = client.wait(jid, timeout=30)
        self.assertEqual(data["tried"], 3)
        self.assertIn(data["best"]["window"], (2, 3, 4))
        self.assertEqual(self.job(jid)["attempts"], "1")

    def test_data_fetch_through_the_streams_facade(self):
        """Case c, the Streams handler: a program of its own that tickq
        starts; producers keep the facade's submit_task and get_metrics."""
        self.pool_worker("data")
        qm = QueueManager(self.url, queue="data")
        task_id = asyncio.run(qm.submit_task(task_type="data_fetch", payload={"symbol": "AAPL", "days": 3},
                                             priority=8, max_retries=3, timeout_seconds=3600))
        data = tickq.Client(self.url).wait(task_id, timeout=30)
        self.assertEqual((data["symbol"], data["bars"], data["last_close"]), ("AAPL", 3, 102.0))
        self.assertEqual(self.job(task_id)["priority"], "high")
        metrics = qm.get_metrics()
        self.assertEqual((metrics["tasks_submitted"], metrics["tasks_completed"], metrics["tasks_failed"]),
                         (1, 1, 0))
