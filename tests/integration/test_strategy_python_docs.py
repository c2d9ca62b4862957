"""test_strategy_python_docs.py — the Python strategies we document (issue
13): every ```python block of docs/strategies.md that defines a strategy
function and every examples/strategies/*.py runs to completion as a job on
synthetic data (backtest and screening for signal strategies,
portfolio_backtest for position ones, the look-ahead check on) and finds
signals; each gives the same results as its Lua twin (the Lua block or .lua
file defining the function of the same name): the same instances, summary
and metrics of a backtest, the same ranked results of a screening, the same
portfolio; and the users' own example, byte for byte as they send it, pushed
with LPUSH onto strategy_queue and through clients/python, gives the
instances of its Lua twin in docs/strategies.md. The docs state issue 13's
two Python speed targets as bench/bench_strategy.py checks them, with dated
figures, and whether each is met by those figures."""
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

from harness import ROOT, TickqTestCase, tickq
from test_strategy import documented_strategies

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import bench_strategy  # noqa: E402
import tickq_client  # noqa: E402

# The users' example, byte for byte as issue 13 quotes it.
USERS_EXAMPLE = """def gap_up_strategy(df):
    instances = []
    df_filtered = df[(df['gap_pct'] > 3.0) & (df['volume_ratio'] > 1.5)]

    for _, row in df_filtered.iterrows():
        instances.append({
            'ticker': row['ticker'],
            'date': str(row['date']),
            'signal': True,
            'gap_percent': row['gap_pct'],
            'message': f"{row['ticker']} gapped up {row['gap_pct']:.1f}%"
        })

    return instances
"""

# A Python strategy whose Lua twin has another name: the users' example
# vectorised, twin of the docs' Lua gap_up_strategy.
TWIN_NAMES = {"gap_up_vectorised": "gap_up_strategy"}

SYMBOLS = [f"SYN{k:04d}" for k in range(1, 9)]
WINDOW = {"symbols": SYMBOLS, "start_date": "2023-01-03", "end_date": "2023-06-30"}
LUA_FUNCTION = re.compile(r"^\s*function\s+(\w+)\s*\(\s*df\s*\)", re.M)
PY_FUNCTION = re.compile(r"^def\s+(\w+)\s*\(\s*df\s*\)", re.M)


def fenced_blocks(path):
    """(first line number, language, nearest heading, text) of each fenced
    block of a markdown file; headings are read outside blocks only (a
    Python comment is no heading)."""
    found, heading, block = [], "", None
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if block is not None:
                if line.startswith("```"):
                    found.append((block[0], block[1], block[2], "".join(block[3])))
                    block = None
                else:
                    block[3].append(line)
            elif line.startswith("```"):
                block = (n, line[3:].strip(), heading, [])
            elif line.startswith("#"):
                heading = line
    return found


def python_strategies():
    """(where, kind, name, code) for each ```python block of
    docs/strategies.md that defines a strategy function (a top-level
    `def NAME(df)`) and each examples/strategies/*.py; kind is "positions"
    for portfolio_backtest strategies (by their section's heading, or the
    file's header comment), else "instances"."""
    found = []
    for n, lang, heading, code in fenced_blocks(os.path.join(ROOT, "docs", "strategies.md")):
        m = PY_FUNCTION.search(code)
        if lang == "python" and m:
            kind = "positions" if "portfolio_backtest" in heading else "instances"
            found.append((f"docs/strategies.md:{n}", kind, m.group(1), code))
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "strategies", "*.py"))):
        with open(path) as f:
            code = f.read()
        header = "".join(line for line in code.splitlines(True) if line.startswith("#"))
        found.append((os.path.relpath(path, ROOT), "positions" if "portfolio_backtest" in header else "instances",
                      PY_FUNCTION.search(code).group(1), code))
    return found


def lua_strategies():
    """(where, kind, name, code) of documented_strategies() (test_strategy:
    the ```lua blocks of docs/strategies.md and examples/strategies/*.lua)."""
    return [(where, kind, LUA_FUNCTION.search(code).group(1), code) for where, kind, code in documented_strategies()]


def twins():
    """(python, lua) pairs of (where, kind, name, code): the Lua strategy
    defining the same function (TWIN_NAMES: another one) in the same place,
    docs/strategies.md or examples/strategies/."""
    lua = lua_strategies()
    pairs = []
    for py in python_strategies():
        place = py[0].split("/")[0]
        want = TWIN_NAMES.get(py[2], py[2])
        match = [s for s in lua if s[2] == want and s[0].split("/")[0] == place]
        pairs.append((py, match[0] if len(match) == 1 else None))
    return pairs


class PythonDocsTestCase(TickqTestCase):
    """A class-wide SQLite file of synthetic bars (as TestDocumentedStrategies
    in test_strategy.py), and a helper that runs jobs with a burst worker."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tickq-pydocs-")
        cls.env = {"TICKQ_DB": os.path.join(cls.tmp, "bars.db"), "DATABASE_URL": None}
        p = tickq("data", "synth", "--symbols", "8", "--days", "400", "--seed", "5", "--start", "2022-01-03",
                  env=cls.env)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def run_jobs(self, jobs):
        """Enqueues (task type, args) pairs, drains them with a burst worker
        of two children; returns their task_result JSONs, in order."""
        ids = [self.enqueue(task, args) for task, args in jobs]
        status, w = self.burst("--workers", "2", timeout=300, env=self.env)
        self.assertEqual(status, 0, w.log()[-3000:])
        return [self.result(i) for i in ids]

    def data(self, res, what):
        self.assertIsNotNone(res, what)
        self.assertEqual(res["status"], "completed", f"{what}: {json.dumps(res)[:600]}")
        self.assertTrue(res["data"]["success"])
        return res["data"]


class TestPythonDocumentedStrategies(PythonDocsTestCase):
    def test_every_lua_example_has_a_python_twin(self):
        """docs/strategies.md shows every Lua example in Python too, and
        examples/strategies/ has a .py twin of each .lua file: the same
        function, the same kind of result."""
        found = python_strategies()
        names = {(where.split("/")[0], name) for where, _, name, _ in found}
        self.assertTrue({("docs", "gap_up_strategy"), ("docs", "rsi_dip"), ("docs", "sma_crossover"),
                         ("docs", "gap_up_vectorised"), ("examples", "gap_up_strategy"),
                         ("examples", "momentum"), ("examples", "sma_crossover")} <= names, names)
        self.assertEqual(sum(where.startswith("examples/") for where, _, _, _ in found), 3)
        for py, lua in twins():
            with self.subTest(python=py[0]):
                self.assertIsNotNone(lua, f"{py[0]} ({py[2]}) has no Lua twin")
                self.assertEqual(py[1], lua[1], f"{py[0]} and {lua[0]} are not the same kind of strategy")
        twinned = {lua[0] for _, lua in twins() if lua is not None}
        for where, _, name, _ in lua_strategies():
            with self.subTest(lua=where):
                self.assertIn(where, twinned, f"the Lua strategy {name} of {where} has no Python twin")

    def test_python_strategies_run_and_find_signals(self):
        """Each runs to completion without "language" (detected from the
        code), with the look-ahead check (what we document does not peek),
        and finds signals: instances in its backtest, trades in its
        portfolio backtest."""
        jobs, labels = [], []
        for where, kind, _, code in python_strategies():
            if kind == "positions":
                jobs.append(("portfolio_backtest", dict(WINDOW, strategy_code=code, check_lookahead=True)))
                labels.append((where, "portfolio_backtest"))
            else:
                jobs.append(("backtest", dict(WINDOW, strategy_code=code, check_lookahead=True)))
                labels.append((where, "backtest"))
                jobs.append(("screening", {"strategy_code": code, "universe": SYMBOLS, "limit": 5}))
                labels.append((where, "screening"))
        results = self.run_jobs(jobs)
        checks = 0
        for (where, task), res in zip(labels, results):
            with self.subTest(strategy=where, task=task):
                data = self.data(res, f"{where} {task}")
                self.assertEqual(data["execution_mode"], task)
                self.assertNotIn("strategy_output", data)   # none of them prints
                if task == "backtest":
                    self.assertGreater(len(data["instances"]), 0, "no signal")
                    self.assertEqual(data["summary"]["symbols_processed"], len(SYMBOLS))
                if task == "portfolio_backtest":
                    self.assertGreater(data["performance_metrics"]["trades"], 0, "no trade")
                if task != "screening":
                    la = data["lookahead"]
                    self.assertEqual((la["violations"], la["violations_total"]), ([], 0))
                    checks += la["checked"]
        self.assertGreater(checks, 0)

    def test_each_python_twin_gives_its_lua_twins_results(self):
        """The same instances, summary (data_shape included: the same
        parametric columns) and metrics in a backtest; the same ranked
        results in a screening as of the last date the Lua backtest
        signalled (so that there is something to rank); the same portfolio.
        Languages are given, not detected."""
        pairs = [(py, lua) for py, lua in twins() if lua is not None]
        self.assertGreaterEqual(len(pairs), 7)
        jobs = []
        for py, lua in pairs:
            task = "portfolio_backtest" if py[1] == "positions" else "backtest"
            for language, code in (("python", py[3]), ("lua", lua[3])):
                jobs.append((task, dict(WINDOW, strategy_code=code, language=language)))
        first = self.run_jobs(jobs)
        screenings = []
        for k, (py, lua) in enumerate(pairs):
            got = self.data(first[2 * k], py[0])
            want = self.data(first[2 * k + 1], lua[0])
            with self.subTest(python=py[0], lua=lua[0]):
                if py[1] == "positions":
                    for key in ("summary", "equity_curve", "trades", "performance_metrics"):
                        self.assertEqual(got[key], want[key], key)
                    self.assertGreater(want["performance_metrics"]["trades"], 0)
                else:
                    for key in ("instances", "summary", "performance_metrics"):
                        self.assertEqual(got[key], want[key], key)
                    self.assertGreater(len(want["instances"]), 0)
                    as_of = max(i["date"] for i in want["instances"])
                    for language, code in (("python", py[3]), ("lua", lua[3])):
                        screenings.append((k, ("screening", {"strategy_code": code, "universe": SYMBOLS,
                                                             "limit": 50, "as_of": as_of, "language": language})))
        second = self.run_jobs([job for _, job in screenings])
        for j in range(0, len(screenings), 2):
            py, lua = pairs[screenings[j][0]]
            got, want = self.data(second[j], py[0]), self.data(second[j + 1], lua[0])
            with self.subTest(python=py[0], lua=lua[0], task="screening"):
                for key in ("ranked_results", "opportunities", "results_returned", "data_shape",
                            "symbols_screened", "missing_symbols"):
                    self.assertEqual(got.get(key), want.get(key), key)
                self.assertGreater(len(want["ranked_results"]), 0)


class TestUsersExample(PythonDocsTestCase):
    def lua_twin(self):
        """The Lua gap_up_strategy of docs/strategies.md (its first block)."""
        found = [s for s in lua_strategies() if s[0].startswith("docs/") and s[2] == "gap_up_strategy"]
        self.assertEqual(len(found), 1, [s[0] for s in found])
        return found[0][3]

    def test_the_docs_show_the_users_example_byte_for_byte(self):
        blocks = [code for _, lang, _, code in fenced_blocks(os.path.join(ROOT, "docs", "strategies.md"))
                  if lang == "python"]
        self.assertIn(USERS_EXAMPLE, blocks)

    def test_lpush_and_the_client_give_the_lua_twins_instances(self):
        """As the users send it: a raw LPUSH of {"task_id", "task_type",
        "args"} onto strategy_queue, and tickq_client's add_backtest_task /
        add_screening_task; no "language" (detected). The backtests give the
        Lua twin's instances, summary and metrics; the screenings, as of the
        last date the Lua twin signalled, its ranked results."""
        lua = self.lua_twin()

        def push(task_id, task_type, args):
            self.r.lpush("strategy_queue", json.dumps({"task_id": task_id, "task_type": task_type, "args": args}))

        push("users-bt", "backtest", dict(WINDOW, strategy_code=USERS_EXAMPLE))
        tickq_client.add_backtest_task(self.r, "client-bt", USERS_EXAMPLE, SYMBOLS, WINDOW["start_date"],
                                       WINDOW["end_date"])
        tickq_client.add_backtest_task(self.r, "lua-bt", lua, SYMBOLS, WINDOW["start_date"], WINDOW["end_date"])
        status, w = self.burst("--workers", "2", timeout=300, env=self.env)
        self.assertEqual(status, 0, w.log()[-3000:])
        self.assertEqual(self.r.llen("strategy_queue"), 0)
        want = self.data(tickq_client.wait_for_result(self.r, "lua-bt", timeout=10), "lua-bt")
        self.assertGreater(len(want["instances"]), 0)
        for task_id in ("users-bt", "client-bt"):
            got = self.data(tickq_client.wait_for_result(self.r, task_id, timeout=10), task_id)
            with self.subTest(task=task_id):
                self.assertEqual(got["execution_mode"], "backtest")
                self.assertEqual(got["instances"], want["instances"])
                self.assertEqual(got["summary"], want["summary"])
                self.assertEqual(got["performance_metrics"], want["performance_metrics"])
                self.assertNotIn("strategy_output", got)
        for inst in want["instances"]:   # what the users read
            self.assertEqual(set(inst), {"ticker", "date", "signal", "gap_percent", "message", "return"})
            self.assertRegex(inst["message"], r"^%s gapped up -?\d+\.\d%%$" % inst["ticker"])
            self.assertRegex(inst["date"], r"^\d{4}-\d\d-\d\d$")

        as_of = max(i["date"] for i in want["instances"])
        push("users-scr", "screening", {"strategy_code": USERS_EXAMPLE, "universe": SYMBOLS, "limit": 10,
                                        "as_of": as_of})
        tickq_client.add_screening_task(self.r, "client-scr", USERS_EXAMPLE, SYMBOLS, 10, as_of=as_of)
        tickq_client.add_screening_task(self.r, "lua-scr", lua, SYMBOLS, 10, as_of=as_of)
        status, w = self.burst("--workers", "2", timeout=300, env=self.env)
        self.assertEqual(status, 0, w.log()[-3000:])
        want = self.data(tickq_client.wait_for_result(self.r, "lua-scr", timeout=10), "lua-scr")
        self.assertGreater(len(want["ranked_results"]), 0)
        for task_id in ("users-scr", "client-scr"):
            got = self.data(tickq_client.wait_for_result(self.r, task_id, timeout=10), task_id)
            with self.subTest(task=task_id):
                self.assertEqual(got["execution_mode"], "screening")
                for key in ("ranked_results", "opportunities", "results_returned", "data_shape"):
                    self.assertEqual(got[key], want[key], key)


class TestPythonSpeedTargets(unittest.TestCase):
    def test_the_docs_state_the_targets_their_figures_and_whether_they_are_met(self):
        """docs/strategies.md ("Lua or Python?"): the figures' table has a
        target column naming the benchmark's two Python targets
        (TARGETS_MS["py_empty"], TARGET_PLAIN_X), each verdict is the one
        its own figures give, and the figures are dated."""
        with open(os.path.join(ROOT, "docs", "strategies.md")) as f:
            text = f.read().split("\n## Lua or Python?\n", 1)[1].split("\n## ", 1)[0]
        self.assertTrue(re.search(r"`make\s+bench-strategy` on \d{4}-\d\d-\d\d", text),
                        "the figures do not say when they were measured (`make bench-strategy` on YYYY-MM-DD)")
        rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in text.splitlines()
                if line.startswith("| ")]
        self.assertEqual(rows[0], ["Case", "Lua", "Python", "Target (Python, warm)"])
        by_case = {row[0]: row for row in rows}
        empty = by_case["empty strategy, 100 × 504 (the fixed cost)"]
        back_to_back = float(re.match(r"([\d.]+) ms back to back", empty[2]).group(1))
        target = bench_strategy.TARGETS_MS["py_empty"]
        verdict = "met" if back_to_back <= target else "missed back to back"
        self.assertRegex(empty[3], rf"^at most {target:g} ms: {verdict}\b")
        large = by_case["gap-up backtest, 100 symbols × 504 days"]
        ms = [float(x) for x in re.findall(r"([\d.]+) ms", large[2])]
        self.assertEqual(len(ms), 2, large[2])   # tickq's, then plain python3's
        ratio = ms[0] / ms[1]
        verdict = "met" if ratio <= bench_strategy.TARGET_PLAIN_X else "missed"
        self.assertEqual(large[3], f"at most {bench_strategy.TARGET_PLAIN_X:g}× plain `python3`: {verdict} "
                                   f"({ratio:.1f}×)")
        missed = sum("missed" in row[3] for row in rows)
        self.assertIn({0: "Both are met.", 1: "One of them is missed.", 2: "Both are missed."}[missed],
                      " ".join(text.split()))
