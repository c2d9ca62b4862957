"""test_optimize.py — the optimize task (docs/optimize.md): a grid or a random
sample of params, with constraints, fanned out as chunk jobs over real
workers, ranked by the objective; its best combination's metrics equal a
single portfolio_backtest of those params; the top N, the heat map, a
minimized objective, failing combinations, Python strategies, cancel, and
refusals at enqueue; the whole ranked table in the database, read by `tickq
job ID --table` and GET /api/tables/{id}. Orders are read from the job
records, never timed."""
import json
import os
import sqlite3

from harness import SynthBarsTestCase, TickqTestCase, postgres, tickq
from http_harness import HttpCase

SYMBOLS = ["SYN0001", "SYN0002", "SYN0003"]
WINDOW = {"symbols": SYMBOLS, "start_date": "2020-06-01", "end_date": "2021-06-30"}
LUA = """
function sma_cross(df, params)
  local f, s = df["sma_" .. params.fast], df["sma_" .. params.slow]
  local pos = {}
  for i = 1, df.n do pos[i] = (f[i] > s[i]) and 1 or 0 end
  return pos
end
"""
PY = """
def sma_cross(df, params=None):
    f, s = df[f"sma_{params['fast']}"], df[f"sma_{params['slow']}"]
    return [1 if a > b else 0 for a, b in zip(f, s)]
"""
GRID = {"fast": [5, 10, 20], "slow": {"from": 10, "to": 40, "step": 10}}


class TestOptimize(HttpCase, SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", "3", "--days", "400", "--start", "2020-01-01")

    def optimize(self, **extra):
        return {**WINDOW, "strategy_code": LUA, "params": GRID, **extra}

    def run_all(self):
        status, w = self.burst("--workers", "2", env=self.env)
        self.assertEqual(status, 0, w.log())

    def data_of(self, job_id):
        return self.completed_data(self.result(job_id))

    def table(self, job_id, *flags):
        """`tickq job ID --table --json FLAGS`: the rows."""
        p = self.tickq("job", job_id, "--table", "--json", *flags, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [json.loads(line) for line in p.stdout.splitlines()]

    def test_a_backtest_sweep_ranks_signal_strategies_and_has_no_curve(self):
        code = ("function ups(df, p)\n  local out = {}\n  for i = 2, df.n do\n"
                "    if df.ticker[i] == df.ticker[i - 1] and df.close[i] > df.close[i - 1] * (1 + p.k / 100) then\n"
                "      out[#out + 1] = {ticker = df.ticker[i], date = df.date[i]}\n    end\n  end\n"
                "  return out\nend\n")
        jid = self.enqueue("optimize", {**WINDOW, "task": "backtest", "strategy_code": code,
                                        "params": {"k": [0.1, 1, 2]}, "objective": "win_rate"})
        self.run_all()
        d = self.data_of(jid)
        self.assertEqual((d["task"], d["combinations"]), ("backtest", 3))
        # The table prints each parameter as it was sent: k=0.1, never 0.10000000000000001.
        text = self.tickq("job", jid, "--table", env=self.env).stdout
        self.assertIn("k=0.1\n", text.replace(" ", "\n"))
        lines = self.tickq("job", jid, "--table", "--json", env=self.env).stdout
        self.assertIn('"params":{"k":0.1}', lines)
        self.assertNotIn("0.10000000000000001", text + lines)
        # So does the row stored in the database, read as text by other programs.
        with sqlite3.connect(self.env.get("TICKQ_DB") or os.environ["TICKQ_DB"]) as db:
            stored = [r[0] for r in db.execute("SELECT params FROM optimize_results WHERE job_id = ?", (jid,))]
        self.assertIn('{"k":0.1}', stored)
        ids, res = self.drain([("backtest", dict(WINDOW, strategy_code=code, params=d["best"]["params"]))],
                              env=self.env)
        self.assertEqual(d["best"]["metrics"]["win_rate"],
                         self.completed_data(res[0])["performance_metrics"]["win_rate"])
        self.assertNotIn("equity_curve", d["best"])       # a signal backtest has none
        self.assertNotIn("best_curve_ms", d["timings"])

    def test_the_best_equals_a_single_backtest_and_the_table_is_ranked(self):
        jid = self.enqueue("optimize", self.optimize(constraints="fast < slow", top=4, chunk_size=2))
        self.run_all()
        d = self.data_of(jid)
        combos = [(f, s) for f in (5, 10, 20) for s in (10, 20, 30, 40) if f < s]
        self.assertEqual(d["combinations"], len(combos))
        self.assertEqual(d["chunks"], (len(combos) + 1) // 2)
        self.assertEqual((d["objective"], d["direction"], d["task"]), ("sharpe", "maximize", "portfolio_backtest"))
        self.assertEqual(len(d["results"]), 4)
        sharpes = [r["metrics"]["sharpe"] for r in d["results"]]
        self.assertEqual(sharpes, sorted(sharpes, reverse=True))
        self.assertEqual([r["rank"] for r in d["results"]], [1, 2, 3, 4])
        self.assertEqual(d["best"]["params"], d["results"][0]["params"])
        self.assertTrue(all(r["params"]["fast"] < r["params"]["slow"] for r in d["results"]))
        # The heat map: fast across, slow down, the objective where the constraint held.
        hm = d["heat_map"]
        self.assertEqual((hm["x"]["name"], hm["x"]["values"]), ("fast", [5, 10, 20]))
        self.assertEqual((hm["y"]["name"], hm["y"]["values"]), ("slow", [10, 20, 30, 40]))
        self.assertIsNone(hm["z"][0][1])   # fast 10, slow 10: refused by the constraint
        self.assertEqual(hm["z"][hm["y"]["values"].index(d["best"]["params"]["slow"])]
                         [hm["x"]["values"].index(d["best"]["params"]["fast"])], d["best"]["metrics"]["sharpe"])
        # The single run of the best params gives the same metrics, exactly.
        ids, res = self.drain([("portfolio_backtest", dict(WINDOW, strategy_code=LUA,
                                                           params=d["best"]["params"]))], env=self.env)
        single = self.completed_data(res[0])["performance_metrics"]
        for k, v in single.items():
            self.assertEqual(d["best"]["metrics"][k], v, k)
        # ...and the best's equity curve (run once more for it) is that run's
        self.assertEqual(d["best"]["equity_curve"], self.completed_data(res[0])["equity_curve"])
        self.assertNotIn("equity_curve", d["results"][0])
        self.assertGreaterEqual(d["timings"]["best_curve_ms"], 0)
        # Where a combination's time went: every run measured, each part there.
        sp = d["timings"]["per_combination_split_ms"]
        self.assertEqual(sp["runs"], len(combos))
        self.assertTrue(all(sp[k] >= 0 for k in ("sandbox", "task_setup")), sp)
        self.assertGreater(sp["strategy"], 0)
        self.assertGreater(sp["simulation_and_metrics"], 0)
        # The whole table, in the database: every combination, ranked, the top rows those of the result.
        rows = self.table(jid)
        self.assertEqual([r["rank"] for r in rows], list(range(1, len(combos) + 1)))
        self.assertEqual(sorted((r["params"]["fast"], r["params"]["slow"]) for r in rows), sorted(combos))
        self.assertEqual([r["objective"] for r in rows], [r["metrics"]["sharpe"] for r in rows])
        self.assertEqual([r["objective"] for r in rows], sorted((r["objective"] for r in rows), reverse=True))
        self.assertEqual([{"params": r["params"], "metrics": r["metrics"], "rank": r["rank"]} for r in rows[:4]],
                         d["results"])
        self.assertEqual([r["rank"] for r in self.table(jid, "--offset", "2", "--limit", "3")], [3, 4, 5])
        text = self.tickq("job", jid, "--table", env=self.env).stdout.splitlines()
        self.assertEqual(text[0].split(), ["RANK", "OBJECTIVE", "PARAMS", "ERROR"])
        self.assertEqual(len(text), len(combos) + 1)
        best = d["best"]["params"]
        self.assertTrue(text[1].split()[0] == "1" and f"fast={best['fast']} slow={best['slow']}" in text[1], text[1])
        # The same rows from the API; refusals and a job without a table.
        s = self.serve(env=self.env)
        api = self.expect(self.get(s, f"/api/tables/{jid}?offset=1&limit=2"), 200)
        self.assertEqual((api["id"], api["total"], api["offset"]), (jid, len(combos), 1))
        self.assertEqual(api["rows"], rows[1:3])
        self.assertEqual(self.expect(self.get(s, f"/api/tables/{jid}"), 200)["rows"], rows)
        self.expect(self.get(s, f"/api/tables/{jid}?limit=0"), 400, "limit must be an integer from 1 to 100000")
        self.expect(self.get(s, f"/api/tables/{jid}?page=2"), 400, "page")
        self.expect(self.get(s, "/api/tables/no-such-job"), 404, "no optimize table for job no-such-job")
        p = self.tickq("job", "no-such-job", "--table", env=self.env)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("no optimize table for job no-such-job", p.stderr)
        p = self.tickq("job", jid, "--limit", "3")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("--limit goes with --table", p.stderr)
        # The job ran twice (the fan-out, then the ranking); its chunks are its children.
        job = self.job(jid)
        self.assertEqual((job["state"], job["attempts"]), ("completed", "2"))
        tree = json.loads(self.tickq("flow", jid, "--json").stdout)
        self.assertEqual(len(tree["children"]), d["chunks"])
        self.assertTrue(all(c["type"] == "optimize_chunk" and c["state"] == "completed" for c in tree["children"]))

    def test_minimize_random_sample_and_python(self):
        space = {"random": 6, "seed": 3, "space": {"fast": [5, 10], "slow": {"from": 20, "to": 40, "step": 10}}}
        a = self.enqueue("optimize", dict(WINDOW, strategy_code=PY, params=space, objective="max_drawdown",
                                          direction="minimize", top=50))
        b = self.enqueue("optimize", dict(WINDOW, strategy_code=PY, params=space, objective="max_drawdown",
                                          direction="minimize", top=50))
        self.run_all()
        da, db = self.data_of(a), self.data_of(b)
        self.assertEqual(da["combinations"], 6)
        self.assertEqual([r["params"] for r in da["results"]], [r["params"] for r in db["results"]])  # seeded
        dd = [r["metrics"]["max_drawdown"] for r in da["results"]]
        self.assertEqual(dd, sorted(dd))
        self.assertEqual(da["direction"], "minimize")
        sp = da["timings"]["per_combination_split_ms"]   # Python: the evaluation in its host, the finish here
        self.assertEqual(sp["runs"], 6)
        self.assertGreater(sp["strategy"], 0)

    def test_failing_combinations_are_counted_and_a_bad_objective_fails(self):
        bad = LUA.replace("local pos = {}", "if params.fast == 20 then error('boom at 20') end\n  local pos = {}")
        jid = self.enqueue("optimize", self.optimize(strategy_code=bad))
        wrong = self.enqueue("optimize", self.optimize(objective="sharp"))
        self.run_all()
        d = self.data_of(jid)
        self.assertEqual(d["failed_combinations"], 4)
        self.assertIn("boom at 20", d["first_error"])
        # 8 ran; fast 10 = slow 10 never holds a position: no sharpe (null), ranked last, not counted.
        self.assertEqual(d["ranked"], 7)
        self.assertEqual(d["combinations"], 12)
        same = next(r for r in d["results"] if r["params"] == {"fast": 10, "slow": 10})
        self.assertIsNone(same["metrics"]["sharpe"])
        self.assertEqual(d["results"][-1]["params"]["fast"], 20)   # the failed ones come last
        rows = self.table(jid)
        self.assertEqual(len(rows), 12)
        failed = [r for r in rows if "error" in r]
        self.assertEqual([r["rank"] for r in failed], [9, 10, 11, 12])
        self.assertTrue(all("boom at 20" in r["error"] and "metrics" not in r and r["objective"] is None
                            for r in failed), failed)
        self.assertEqual(rows[7]["params"], {"fast": 10, "slow": 10})   # no sharpe: after the ranked, before the failed
        self.assertIsNone(rows[7]["objective"])
        res = self.result(wrong)
        self.assertEqual(res["status"], "error")
        self.assertIn("dependency", res["data"]["error"])   # its chunks failed: "objective 'sharp' is not a metric"
        chunk = json.loads(self.tickq("flow", wrong, "--json").stdout)["children"][0]
        self.assertIn("objective 'sharp' is not a metric of portfolio_backtest's result (it has: ", chunk["error"])
        self.assertRegex(chunk["error"], r"\(it has: [a-z_]+(, [a-z_]+)+\)$")     # names, not 17-digit values
        self.assertIn("sharpe", chunk["error"])
        # ... and the parent says why without a look at the chunk
        self.assertEqual(res["data"]["dependency_error"], chunk["error"])

    def test_one_sandbox_per_chunk_keeps_each_combination_apart(self):
        """A chunk runs its combinations in one sandbox, each in a fresh Lua
        state: a global one run sets is not there in the next. A run that
        breaks a limit there (here, its time) is run alone again and gets
        the error a single run gives; the others keep their metrics."""
        leaky = LUA.replace("local pos = {}", "assert(seen == nil, 'state leaked from another combination')\n"
                                              "  seen = true\n  local pos = {}")
        slow = LUA.replace("local pos = {}", "if params.fast == 10 then while true do end end\n  local pos = {}")
        a = self.enqueue("optimize", self.optimize(strategy_code=leaky, chunk_size=12))
        b = self.enqueue("optimize", self.optimize(strategy_code=slow, chunk_size=12, strategy_timeout_seconds=0.5))
        self.run_all()
        da, db = self.data_of(a), self.data_of(b)
        self.assertEqual((da["combinations"], da["failed_combinations"], da["chunks"]), (12, 0, 1))
        self.assertEqual((db["failed_combinations"], db["chunks"]), (4, 1))
        rows = self.table(b)
        stuck = [r for r in rows if r["params"]["fast"] == 10]
        self.assertEqual(len(stuck), 4)
        self.assertTrue(all(r["error"] == "Strategy exceeded time limit (0.5 s)" for r in stuck), stuck)
        self.assertTrue(all("metrics" in r for r in rows if r["params"]["fast"] != 10))
        # The same numbers as the plain strategy's sweep, for the combinations both ran.
        plain = self.enqueue("optimize", self.optimize(chunk_size=1))
        self.run_all()
        by_params = {json.dumps(r["params"], sort_keys=True): r["metrics"] for r in self.table(plain)}
        for r in self.table(a) + [r for r in rows if "metrics" in r]:
            self.assertEqual(r["metrics"], by_params[json.dumps(r["params"], sort_keys=True)])

    def test_cancelling_a_waiting_optimize_cancels_its_chunks(self):
        # A limit of 0 holds every chunk: the job fans out and waits, deterministically.
        self.assertEqual(self.tickq("limit", "optimize_chunk", "0").returncode, 0)
        jid = self.enqueue("optimize", self.optimize(chunk_size=5))
        w = self.worker("--workers", "1", env=self.env)
        self.wait_state(jid, "deferred", timeout=30)
        w.stop()
        chunks = [c["id"] for c in json.loads(self.tickq("flow", jid, "--json").stdout)["children"]]
        self.assertEqual(len(chunks), 3)   # 12 combinations in chunks of 5
        p = self.tickq("cancel", jid)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([self.job(c)["state"] for c in chunks], ["cancelled"] * 3)
        self.assertEqual(self.job(jid)["state"], "cancelled")

    def test_a_rerun_fans_out_again_and_enqueue_dependencies_are_not_chunks(self):
        first = self.enqueue("optimize", self.optimize(), "--id", "opt1")
        dep = self.enqueue("echo", {})
        after = self.enqueue("optimize", self.optimize(params={"fast": [5], "slow": [20, 30]}), "--after", dep,
                             "--expires", "600")
        self.run_all()
        self.assertEqual(self.data_of(first)["combinations"], 12)
        d = self.data_of(after)
        self.assertEqual((d["combinations"], d["chunks"]), (2, 2))   # its dependency was no chunk
        self.assertEqual(self.job(after)["state"], "completed")
        self.enqueue("optimize", self.optimize(params={"fast": [5], "slow": [40]}), "--id", "opt1", "--replace")
        self.run_all()
        d = self.data_of("opt1")
        self.assertEqual((d["combinations"], d["best"]["params"]), (1, {"fast": 5, "slow": 40}))
        self.assertEqual((self.job("opt1")["run"], self.job("opt1")["attempts"]), ("2", "2"))
        # The run replaced the table of the first.
        self.assertEqual([(r["rank"], r["params"]) for r in self.table("opt1")], [(1, {"fast": 5, "slow": 40})])

    def test_refusals_at_enqueue(self):
        cases = [
            ({"params": None}, "missing params"),
            ({"params": {"fast": []}}, "params.fast: a list of 1 to"),
            ({"constraints": "fast < slwo"}, "unknown parameter 'slwo' (did you mean 'slow'?)"),
            ({"hold_bar": 5}, "unknown argument 'hold_bar'"),
            ({"task": "echo"}, "task must be one of portfolio_backtest, backtest, screening, got \"echo\""),
            ({"direction": "up"}, "direction must be one of maximize, minimize, got \"up\""),
            # optimize's own keys misspelt: the close match among them, and
            # both tables' names (issue 10).
            ({"objectiv": "sharpe"}, "unknown argument 'objectiv' (did you mean 'objective'?) (optimize takes: task, "
             "params, constraints, objective, direction, top, chunk_size, walk_forward; the others go to "
             "portfolio_backtest, which takes: strategy_code, symbols, start_date, end_date, score_from,"),
            ({"chunksize": 4}, "unknown argument 'chunksize' (did you mean 'chunk_size'?) (optimize takes:"),
            ({"task": "backtest", "hold_bar": 5}, "unknown argument 'hold_bar' (did you mean 'hold_bars'?) "
             "(optimize takes: task, params, constraints, objective, direction, top, chunk_size, walk_forward; the "
             "others go to backtest, which takes: strategy_code, symbols, start_date, end_date, hold_bars,"),
            ({"top": 0}, "top must be an integer"),
            ({"params": {"fast": {"from": 1, "to": 1000, "step": 1}, "slow": {"from": 1, "to": 1000, "step": 1}}},
             "the grid has 1000000 combinations"),
            ({"walk_forward": {"train_bars": 100, "test_bars": 50}, "task": "backtest"},
             "walk_forward works with task portfolio_backtest"),
            ({"walk_forward": {"train_bars": 100, "test": 50}}, "unknown key walk_forward.test"),
            ({"walk_forward": {"train_bars": 0, "test_bars": 50}}, "walk_forward.train_bars must be a whole number"),
            ({"walk_forward": {"train_bars": 100}}, "walk_forward.test_bars must be a whole number of bars from 1 to "
             "1000000 (it is required)"),
            ({"walk_forward": {"train_bars": 100, "test_bars": 50, "anchored": "yes"}},
             "walk_forward.anchored must be true or false"),
            ({"walk_forward": [100, 50]}, "walk_forward must be an object"),
        ]
        for extra, needle in cases:
            with self.subTest(needle=needle):
                args = self.optimize(**{k: v for k, v in extra.items() if v is not None})
                if extra.get("params", 1) is None:
                    del args["params"]
                p = self.tickq("enqueue", "optimize", json.dumps(args))
                self.assertEqual(p.returncode, 65, p.stderr)
                self.assertIn(needle, p.stderr)
        self.assertEqual(self.r.keys("tickq:job:*"), [])

    def test_tasks_optimize_prints_its_own_table(self):
        p = tickq("tasks", "optimize")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        for line in ("  objective     the metric to rank by: a number in the task's performance_metrics, else its "
                     "summary, else its result (total_return, max_drawdown, win_rate, ...)",
                     "                string of at most 64 bytes; default: \"sharpe\"",
                     "                one of maximize, minimize; default: \"maximize\"",
                     "                integer from 1 to 10000; default: 20",
                     "                object; required"):
            self.assertIn(line, lines)
        self.assertIn("Any other key is an argument of the strategy task named by task", p.stdout)
        self.assertNotIn("no fixed table", p.stdout.lower())
        spec = json.loads(tickq("tasks", "optimize", "--json").stdout)
        self.assertEqual([a["name"] for a in spec["args"]],
                         ["task", "params", "constraints", "objective", "direction", "top", "chunk_size",
                          "walk_forward"])
        self.assertIn("strategy task", spec["other_args"])
        self.assertNotIn("any_args", spec)
        # Its chunks: a table too, and what makes them.
        p = tickq("tasks", "optimize_chunk")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("an optimize job enqueues its chunks", p.stdout)
        self.assertIn("list of params objects; required", p.stdout)


class TestWalkForward(SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", "3", "--days", "400", "--start", "2020-01-01")

    def dates(self):
        """The window's bar dates, any symbol."""
        out = self.tickq("data", "show", ",".join(SYMBOLS), "--columns", "close", "--from", WINDOW["start_date"],
                         "--to", WINDOW["end_date"], "--format", "json", env=self.env).stdout
        return sorted({json.loads(line)["date"] for line in out.splitlines() if line.strip()})

    def walk(self, anchored, code=LUA, params=None):
        args = {**WINDOW, "strategy_code": code, "params": params or {"fast": [5, 10], "slow": [20, 40]},
                "walk_forward": {"train_bars": 100, "test_bars": 50, "anchored": anchored}}
        jid = self.enqueue("optimize", args)
        status, w = self.burst("--workers", "2", env=self.env)
        self.assertEqual(status, 0, w.log())
        return jid, self.completed_data(self.result(jid))

    def test_rolling_folds_test_the_params_chosen_on_each_train_window(self):
        jid, d = self.walk(False)
        dates = self.dates()
        folds = d["folds"]
        self.assertEqual(len(folds), (len(dates) - 100) // 50)
        self.assertGreaterEqual(len(folds), 2)
        for k, f in enumerate(folds):
            self.assertEqual(f["fold"], k + 1)
            self.assertEqual((f["train"]["start"], f["train"]["end"], f["train"]["bars"]),
                             (dates[k * 50], dates[k * 50 + 99], 100))
            self.assertEqual((f["test"]["start"], f["test"]["end"], f["test"]["bars"]),
                             (dates[k * 50 + 100], dates[k * 50 + 149], 50))
            self.assertEqual((f["combinations"], f["ranked"]), (4, 4))
        self.assertEqual(d["combinations"], 4 * len(folds))
        self.assertEqual(d["best"]["params"], folds[-1]["params"])
        self.assertEqual(d["walk_forward"], {"train_bars": 100, "test_bars": 50, "anchored": False})
        # Each fold's choice is the best of a single optimize over its train window ...
        rows = [json.loads(line) for line in self.tickq("job", jid, "--table", "--json", env=self.env)
                .stdout.splitlines()]
        self.assertEqual([r["fold"] for r in rows], [k + 1 for k in range(len(folds)) for _ in range(4)])
        for f in folds:
            mine = [r for r in rows if r["fold"] == f["fold"]]
            self.assertEqual([r["rank"] for r in mine], [1, 2, 3, 4])
            self.assertEqual((mine[0]["params"], mine[0]["metrics"]), (f["params"], f["in_sample"]))
        # ... and its out-of-sample metrics are a single portfolio_backtest of those params on the test window.
        singles = self.drain([("portfolio_backtest", dict(WINDOW, strategy_code=LUA, params=f["params"],
                                                          start_date=f["train"]["start"],
                                                          score_from=f["test"]["start"], end_date=f["test"]["end"]))
                              for f in folds], env=self.env)[1]
        curves = []
        for f, res in zip(folds, singles):
            single = self.completed_data(res)
            for k, v in single["performance_metrics"].items():
                self.assertEqual(f["out_of_sample"][k], v, k)
            curves.append(single["equity_curve"])
        # The stitched curve: each test run scaled to start where the one before ended.
        oos = d["out_of_sample"]
        self.assertEqual([p["date"] for p in oos["equity_curve"]], [p["date"] for c in curves for p in c])
        running, at = 100000.0, 0
        for c in curves:
            for p in c:
                self.assertAlmostEqual(oos["equity_curve"][at]["equity"], p["equity"] * running / 100000.0, places=6)
                at += 1
            running = oos["equity_curve"][at - 1]["equity"]
        self.assertEqual(oos["final_equity"], oos["equity_curve"][-1]["equity"])
        self.assertAlmostEqual(oos["total_return"], oos["final_equity"] / 100000.0 - 1, places=12)

    def test_kernels_are_warm_when_a_test_window_begins(self):
        """A kernel over 60 bars on 50-bar test windows: the train window
        before each is its warm-up, so the test runs trade (they did not
        when a test window ran on its own), and a run from the test window's
        start alone shows what the warm-up changes."""
        kern = ("function s(df, p)\n  return where(gt(sma(df.close, p.fast), sma(df.close, p.slow)), 1, 0)\nend\n")
        _, d = self.walk(False, code=kern, params={"fast": [5, 10], "slow": [60]})
        self.assertTrue(all(f["out_of_sample"]["exposure"] > 0 for f in d["folds"]), d["folds"])
        f = d["folds"][0]
        cold = self.drain([("portfolio_backtest", dict(WINDOW, strategy_code=kern, params=f["params"],
                                                       start_date=f["test"]["start"], end_date=f["test"]["end"]))],
                          env=self.env)[1][0]
        self.assertEqual(self.completed_data(cold)["performance_metrics"]["exposure"], 0)

    def test_a_rerun_has_no_table_until_it_ranks(self):
        args = {**WINDOW, "strategy_code": LUA, "params": {"fast": [5], "slow": [20, 40]}}
        self.enqueue("optimize", args, "--id", "wf-stale")
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.tickq("job", "wf-stale", "--table", env=self.env).returncode, 0)
        self.enqueue("optimize", dict(args, walk_forward={"train_bars": 1000, "test_bars": 50}), "--id", "wf-stale",
                     "--replace")
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.result("wf-stale")["status"], "error")
        p = self.tickq("job", "wf-stale", "--table", env=self.env)
        self.assertEqual(p.returncode, 3, p.stdout)

    def test_anchored_folds_train_from_the_start_and_too_short_a_window_fails(self):
        _, d = self.walk(True)
        dates = self.dates()
        for k, f in enumerate(d["folds"]):
            self.assertEqual((f["train"]["start"], f["train"]["bars"]), (dates[0], 100 + 50 * k))
            self.assertEqual(f["test"]["start"], dates[100 + 50 * k])
        args = {**WINDOW, "strategy_code": LUA, "params": {"fast": [5], "slow": [20]},
                "walk_forward": {"train_bars": 1000, "test_bars": 50}}
        jid = self.enqueue("optimize", args)
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        err = self.permanent_error(self.result(jid), jid)
        self.assertIn(f"walk_forward: the window has {len(dates)} bars, fewer than train_bars + test_bars = 1050",
                      err)


class TestOptimizeTablePostgres(TickqTestCase):
    """The table in PostgreSQL (DATABASE_URL): the same rows, params and
    metrics stored as the JSON text the job wrote; a second aggregation of
    the same id replaces them."""

    def test_the_table_in_postgresql(self):
        url, dbname = postgres().new_database()
        env = {"DATABASE_URL": url}
        p = tickq("data", "synth", "--symbols", "3", "--days", "400", "--start", "2020-01-01", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        args = {**WINDOW, "strategy_code": LUA, "params": {"fast": [5, 10], "slow": [20, 30]}, "top": 1}
        jid = self.enqueue("optimize", args, "--id", "pg-opt")
        status, w = self.burst("--workers", "2", env=env)
        self.assertEqual(status, 0, w.log())
        d = self.completed_data(self.result(jid))
        p = tickq("job", jid, "--table", "--json", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual([r["rank"] for r in rows], [1, 2, 3, 4])
        self.assertEqual(rows[0]["params"], d["best"]["params"])
        self.assertEqual(rows[0]["metrics"], d["best"]["metrics"])
        stored = postgres().rows(dbname, "SELECT params FROM optimize_results WHERE job_id = 'pg-opt' AND rank = 1")
        self.assertEqual(json.loads(stored[0][0]), d["best"]["params"])
        self.enqueue("optimize", dict(args, params={"fast": [5], "slow": [20]}), "--id", "pg-opt", "--replace")
        status, w = self.burst("--workers", "2", env=env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual(postgres().rows(dbname, "SELECT rank FROM optimize_results WHERE job_id = 'pg-opt'"), [(1,)])
