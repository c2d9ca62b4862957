"""test_task_args.py — every task's arguments are checked against its
declared table: `tickq enqueue` refuses unknown keys, wrong types and values
out of range (exit 65); a worker fails such a job permanently whichever way
it came in (the users' list protocol, the Redis function); `tickq tasks TYPE`
prints the table; the docs' tables are the code's; a schedule's args are
checked when the file loads, and `worker --check --scheduler` checks them as
the worker will run them."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from harness import ROOT, TICKQ, SynthBarsTestCase, TickqTestCase, tickq

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq_client  # noqa: E402

STRATEGY = """
function s(df)
  local out = {}
  for i = 1, df.n do
    if df.gap_pct[i] > 1.0 then out[#out + 1] = { ticker = df.ticker[i], date = df.date[i] } end
  end
  return out
end
"""


def backtest_args(**extra):
    args = {"strategy_code": STRATEGY, "symbols": ["SYN0001"], "start_date": "2020-03-01",
            "end_date": "2020-12-31"}
    args.update(extra)
    return args


class TestTaskArgs(SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", "2", "--days", "300", "--seed", "3")
    TMP_PREFIX = "tickq-args-"

    def refused(self, jtype, args):
        p = self.tickq("enqueue", jtype, json.dumps(args))
        self.assertEqual(p.returncode, 65, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        return p.stderr

    def test_enqueue_refuses_a_misspelt_argument_naming_the_close_match(self):
        err = self.refused("backtest", backtest_args(hold_bar=5))
        self.assertIn("job refused: unknown argument 'hold_bar' (did you mean 'hold_bars'?)", err)
        self.assertIn("(backtest takes: strategy_code, symbols, start_date, end_date, hold_bars, commission_bps,",
                      err)
        err = self.refused("backtest", backtest_args(comission_bps=5))
        self.assertIn("unknown argument 'comission_bps' (did you mean 'commission_bps'?)", err)
        err = self.refused("portfolio_backtest", backtest_args(hold_bars=5))
        self.assertIn("unknown argument 'hold_bars'", err)
        self.assertIn("(portfolio_backtest takes:", err)
        self.assertEqual(self.r.keys("tickq:job:*"), [])

    def test_enqueue_refuses_wrong_types_and_values_out_of_range(self):
        self.assertIn("hold_bars must be an integer from 1 to 10000, got \"5\"",
                      self.refused("backtest", backtest_args(hold_bars="5")))
        self.assertIn("commission_bps must be a number from 0 to 10000, got 20000",
                      self.refused("backtest", backtest_args(commission_bps=20000)))
        self.assertIn("limit must be an integer from 1 to 100000, got 0",
                      self.refused("screening", {"strategy_code": STRATEGY, "universe": ["SYN0001"], "limit": 0}))
        self.assertIn("start_date 2021-01-01 is after end_date 2020-12-31",
                      self.refused("backtest", backtest_args(start_date="2021-01-01")))
        self.assertIn("ms must be an integer from 0 to 86400000, got -1", self.refused("sleep", {"ms": -1}))
        self.assertIn("unknown argument 'x' (noop takes no arguments)", self.refused("noop", {"x": 1}))
        # Several at once, each named.
        err = self.refused("scan_opportunities", {"limit": 2.5, "min_iv_rank_sell": 101})
        self.assertIn("min_iv_rank_sell must be a number from 0 to 100, got 101", err)
        self.assertIn("limit must be an integer from 1 to 100000, got 2.5", err)

    def test_a_misspelt_argument_never_completes_whichever_way_the_job_came(self):
        """Before: the job ran with the default (hold_bars 1) and reported
        completed. Now the worker refuses it, permanently, whether it came
        through the users' list or straight through the Redis function."""
        tickq_client.add_task(self.r, "typo-list", "backtest", backtest_args(hold_bar=5))
        self.fcall("enqueue", [], "typo-fcall", "backtest", json.dumps(backtest_args(comission_bps=5)),
                   "backtest", "normal", "3", "60000", "0", "1048576", "1")
        tickq_client.add_task(self.r, "good", "backtest", backtest_args(hold_bars=2))
        status, w = self.burst(env=self.env)
        self.assertEqual(status, 0, w.log())
        for jid, word in (("typo-list", "'hold_bar' (did you mean 'hold_bars'?)"),
                          ("typo-fcall", "'comission_bps' (did you mean 'commission_bps'?)")):
            res = self.result(jid)
            self.assertEqual(res["status"], "error", res)
            self.assertIn("unknown argument " + word, res["data"]["error"])
            self.assertEqual(self.state(jid), "failed")       # permanent: not retried
            self.assertEqual(self.retries(jid), [])
        self.assertEqual(self.result("good")["status"], "completed")

    def test_tasks_type_prints_the_table(self):
        p = tickq("tasks", "backtest")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("hold_bars", p.stdout)
        self.assertIn("integer from 1 to 10000; default: 1", p.stdout)
        self.assertIn("strategy_code", p.stdout)
        p = tickq("tasks", "backtest", "--json")
        spec = json.loads(p.stdout)
        args = {a["name"]: a for a in spec["args"]}
        self.assertEqual(args["hold_bars"]["type"], "integer")
        self.assertEqual(args["hold_bars"]["default"], "1")
        self.assertEqual((args["hold_bars"]["min"], args["hold_bars"]["max"]), (1, 10000))
        self.assertTrue(args["strategy_code"]["required"])
        every = json.loads(tickq("tasks", "--json").stdout)
        self.assertIn("calculate_iv_analysis", [t["name"] for t in every])
        self.assertTrue([t for t in every if t["name"] == "echo"][0]["any_args"])
        p = tickq("tasks", "nope")
        self.assertEqual(p.returncode, 64)
        self.assertIn("unknown task type 'nope'", p.stderr)
        p = tickq("tasks", "backtest", "--bogus")
        self.assertEqual(p.returncode, 64)

    def test_the_docs_tables_are_the_code_tables(self):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "docs-args"), "--check", TICKQ],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_the_docs_check_fails_on_a_stale_table(self):
        """The check itself can fail: a copy of the docs with one default
        changed is reported."""
        tmp = tempfile.mkdtemp(prefix="tickq-docs-")
        try:
            shutil.copytree(os.path.join(ROOT, "docs"), os.path.join(tmp, "docs"))
            os.makedirs(os.path.join(tmp, "scripts"))
            shutil.copy(os.path.join(ROOT, "scripts", "docs-args"), os.path.join(tmp, "scripts"))
            path = os.path.join(tmp, "docs", "strategies.md")
            text = open(path).read()
            self.assertIn("| `hold_bars` | integer from 1 to 10000 | 1 |", text)
            open(path, "w").write(text.replace("| `hold_bars` | integer from 1 to 10000 | 1 |",
                                               "| `hold_bars` | integer from 1 to 10000 | 2 |"))
            # optimize's table is checked as every other (issue 10: it was
            # written by hand and nothing checked it).
            path = os.path.join(tmp, "docs", "optimize.md")
            text = open(path).read()
            self.assertIn("| `top` | integer from 1 to 10000 | 20 |", text)
            open(path, "w").write(text.replace("| `top` | integer from 1 to 10000 | 20 |",
                                               "| `top` | integer from 1 to 10000 | 10 |"))
            p = subprocess.run([sys.executable, os.path.join(tmp, "scripts", "docs-args"), "--check", TICKQ],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("docs/strategies.md: the table of backtest differs", p.stdout)
            self.assertIn("docs/optimize.md: the table of optimize differs", p.stdout)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class TestScheduleArgs(TickqTestCase):
    def write(self, text):
        fd, path = tempfile.mkstemp(suffix=".ini")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_a_schedule_with_bad_args_does_not_load(self):
        path = self.write("[schedule nightly]\ncron = 0 1 * * *\ntask = scan_opportunities\n"
                          "args = {\"limt\": 5}\n")
        p = self.tickq("schedule", "list", "--config", path)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("[schedule nightly]: unknown argument 'limt' (did you mean 'limit'?)", p.stderr)

    def test_worker_check_scheduler_checks_args_with_the_workers_environment(self):
        """A `symbols: all` market-data schedule with no provider passes a
        client's check (a worker elsewhere may have one) but fails the
        check of a worker that has none: it would fail at every run."""
        path = self.write("[schedule eod]\ncron = 0 22 * * MON-FRI\ntask = update_stock_data\n"
                          "args = {\"symbols\": \"all\"}\n")
        env = {"TICKQ_MARKET_DATA_PROVIDER": None, "TICKQ_MARKET_DATA_PATH": None, "TICKQ_MARKET_DATA_URL": None,
               "TICKQ_DB": os.path.join(tempfile.gettempdir(), f"tickq-args-{os.getpid()}.db")}
        self.addCleanup(lambda: os.path.exists(env["TICKQ_DB"]) and os.unlink(env["TICKQ_DB"]))
        p = self.tickq("schedule", "list", "--config", path, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.tickq("worker", "--check", "--scheduler", "--schedules", path, env=env)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("FAIL schedule eod: its task update_stock_data would fail at every run: "
                      "no market-data provider", p.stdout)
        folder = tempfile.mkdtemp(prefix="tickq-bars-")
        self.addCleanup(shutil.rmtree, folder, True)
        # A provider whose folder is not there (a typo) fails every run too.
        env.update({"TICKQ_MARKET_DATA_PROVIDER": "csv_dir", "TICKQ_MARKET_DATA_PATH": folder + "/typo"})
        p = self.tickq("worker", "--check", "--scheduler", "--schedules", path, env=env)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn(f"FAIL schedule eod: its task update_stock_data would fail at every run: "
                      f"the csv_dir folder {folder}/typo does not exist", p.stdout)
        env["TICKQ_MARKET_DATA_PATH"] = folder
        p = self.tickq("worker", "--check", "--scheduler", "--schedules", path, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   schedules: 1 in", p.stdout)
