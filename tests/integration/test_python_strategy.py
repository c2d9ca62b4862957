"""test_python_strategy.py — Python strategies as an operator meets them:
`worker --check` says whether they can run; on a kernel without Landlock
they are refused with a clear error while Lua strategies run; memory_mb
below 64 is refused for Python; what a strategy printed comes back also
when it fails, cut at 64 KiB and flagged; the worker child's Python host
runs with an empty environment, and a host that is killed (between jobs
or during one) is started again without losing a job.

The Python df is the Lua df: over symbols given unsorted, every named
column and one column of each parametric family of docs/strategies.md's
column table (the list the code refuses unknown names with), some named
in the code and some built at run time, dumped from both languages, are
the same rows in the same order (ticker then date, a RangeIndex in Python)
with the same values bit for bit and NaN in the same places, and the same
data_shape.

memory_mb counts what the evaluation allocates beyond the frame: with a df
a quarter larger than memory_mb = 64, the users' example completes, and
allocating twice memory_mb fails with the memory error (under
AddressSanitizer, which sets no address-space limit, reported as skipped).

The strategy contract itself (conversions, errors, lazy columns) is
tests/python/; the documented strategies and the users' example are
test_strategy_python_docs.py; hostile strategies tests/hostile/."""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import ROOT, TICKQ, SynthBarsTestCase, comm, tickq, wait_for
from test_python_sandbox import sanitized
from test_strategy_python_docs import USERS_EXAMPLE

WITHOUT_LANDLOCK = os.path.join(os.path.dirname(TICKQ), "without_landlock")
SYMBOLS = ["SYN0001", "SYN0002"]
WINDOW = {"symbols": SYMBOLS, "start_date": "2020-03-02", "end_date": "2020-12-31"}
PY_EMPTY = "def empty(df):\n    return []\n"
LUA_EMPTY = "function empty(df) return {} end\n"
NO_LANDLOCK = ("Python strategies need Landlock (Linux 5.13 or later, with landlock among the active security "
               "modules) to confine their file access, and this kernel has none; tickq never runs them under a "
               "weaker sandbox: run this strategy in Lua, or its worker on a kernel with Landlock")
# The dump: from the data's first day, so that every computed column has
# undefined (NaN) rows, through a window where every one has values.
DUMP_WINDOW = {"symbols": ["SYN0003", "SYN0001", "SYN0002"], "start_date": "2020-01-01",
               "end_date": "2020-08-31"}


def documented_columns():
    """(named, families) of the column table of docs/strategies.md ("Market
    data and features", "Columns"), in its order: the named columns
    (`open` ... `macd_hist`) and the prefixes of the parametric families
    (`sma_N` gives "sma_")."""
    with open(os.path.join(ROOT, "docs", "strategies.md")) as f:
        text = f.read()
    section = text.split("\n# Market data and features\n", 1)[1].split("\n## Columns\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([a-z_]+(?:_N)?)`", line.split("|")[1])
    return [n for n in names if not n.endswith("_N")], [n[:-1] for n in names if n.endswith("_N")]


def code_columns(env):
    """(named, families) as the code lists them when it refuses an unknown
    column (feature_name_check, through `tickq data show`)."""
    p = tickq("data", "show", "SYN0001", "--columns", "no_such_column", env=env)
    m = re.search(r"unknown column 'no_such_column': use (.*) with N from", p.stderr)
    assert m, p.stderr
    names = [n.removeprefix("or ") for n in m.group(1).split(", ")]
    return [n for n in names if not n.endswith("_N")], [n[:-1] for n in names if n.endswith("_N")]


def dump_strategies(named, literal, built):
    """A Python and a Lua strategy returning one instance per df row: its
    row number, ticker, date and each column's value as hex text (bit
    exact), "nan" where undefined. The Python one names `literal` in its
    code and builds the names of `built` ((prefix, N) pairs) at run time,
    and prints the columns and index df came with."""
    python = f'''import json

NAMED = {named!r}
LITERAL = {literal!r}
BUILT = {built!r}


def dump(df):
    index = df.index
    print(json.dumps({{"columns": list(df.columns),
                      "index": [type(index).__name__, index.start, index.stop, index.step]}}))
    names = NAMED + LITERAL + [f"{{prefix}}{{n}}" for prefix, n in BUILT]
    columns = [df[name].tolist() for name in names]
    out = []
    for i, (ticker, date) in enumerate(zip(df["ticker"].tolist(), df["date"].tolist())):
        instance = {{"ticker": ticker, "date": str(date), "row": i + 1}}
        for name, values in zip(names, columns):
            v = values[i]
            instance[name] = "nan" if v != v else float(v).hex()
        out.append(instance)
    return out
'''
    every = named + literal + [f"{prefix}{n}" for prefix, n in built]
    lua = f'''function dump(df)
  local names = {{{", ".join(json.dumps(n) for n in every)}}}
  local columns = {{}}
  for k, name in ipairs(names) do columns[k] = df[name] end
  local out = {{}}
  for i = 1, df.n do
    local instance = {{ticker = df.ticker[i], date = df.date[i], row = i}}
    for k, name in ipairs(names) do
      local v = columns[k][i]
      instance[name] = (v ~= v) and "nan" or string.format("%a", v)
    end
    out[#out + 1] = instance
  end
  return out
end
'''
    return python, lua


def python_hosts(worker):
    """The Python hosts under a worker: (pid, its parent worker child)."""
    out = []
    for child in worker.children():
        try:
            with open(f"/proc/{child}/task/{child}/children") as f:
                grand = [int(p) for p in f.read().split()]
        except FileNotFoundError:
            continue
        out += [(p, child) for p in grand if comm(p) == "tickq-python"]
    return out


class TestPythonStrategy(SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", "3", "--days", "300", "--start", "2020-01-01")

    def backtest(self, code, **extra):
        return dict(WINDOW, strategy_code=code, **extra)

    def test_check_reports_python_and_its_sandbox(self):
        p = self.tickq("worker", "--check", env=self.env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        line = [x for x in p.stdout.splitlines() if "python strategies" in x]
        self.assertEqual(len(line), 1, p.stdout)
        self.assertRegex(line[0], r"^ok   python strategies: Python 3\.\d+\.\d+, numpy \S+, pandas \S+; sandbox: "
                                  r"seccomp, Landlock ABI \d+, memory and time limits$")

    def test_without_landlock_python_is_refused_and_lua_runs(self):
        self.assertTrue(os.access(WITHOUT_LANDLOCK, os.X_OK), "build the test tool: make build/without_landlock")
        env = dict(os.environ, REDIS_URL=self.url, **self.env)
        p = subprocess.run([WITHOUT_LANDLOCK, TICKQ, "worker", "--check"], env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)   # a warning: Lua strategies still run
        self.assertIn(f"warn python strategies: unavailable: {NO_LANDLOCK}\n", p.stdout)
        py = self.enqueue("backtest", self.backtest(PY_EMPTY))
        lua = self.enqueue("backtest", self.backtest(LUA_EMPTY))
        w = subprocess.run([WITHOUT_LANDLOCK, TICKQ, "worker", "--burst", "--workers", "1"], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(w.returncode, 0, w.stderr[-2000:])
        self.assertEqual(self.permanent_error(self.result(py), py), NO_LANDLOCK)
        self.assertEqual(self.completed_data(self.result(lua))["summary"]["total_instances"], 0)

    def run_copy(self, tmp, *args):
        """Runs a copy of tickq in tmp (beside whatever the test put there)."""
        if not os.path.exists(os.path.join(tmp, "tickq")):
            shutil.copy(TICKQ, os.path.join(tmp, "tickq"))
        env = dict(os.environ, REDIS_URL=self.url, **self.env)
        return subprocess.run([os.path.join(tmp, "tickq"), *args], env=env, capture_output=True, text=True,
                              timeout=60)

    def assert_python_unavailable(self, tmp, why):
        """tickq in tmp warns in --check that Python is unavailable for why,
        fails a Python job with it and still runs a Lua one."""
        p = self.run_copy(tmp, "worker", "--check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)   # a warning: Lua strategies still run
        self.assertIn(f"warn python strategies: unavailable: {why}\n", p.stdout)
        py = self.submit("backtest", self.backtest(PY_EMPTY), max_retries=0)
        lua = self.enqueue("backtest", self.backtest(LUA_EMPTY))
        w = self.run_copy(tmp, "worker", "--burst", "--workers", "1")
        self.assertEqual(w.returncode, 0, w.stderr[-2000:])
        res = self.result(py)
        self.assertEqual(res["status"], "error", res)
        self.assertEqual(res["data"]["error"], f"Strategy could not start: {why}")
        self.assertEqual(self.completed_data(self.result(lua))["summary"]["total_instances"], 0)

    def test_without_its_host_program_python_is_refused_and_lua_runs(self):
        """Python strategies run in tickq-python-host, beside tickq: a tickq
        copied alone names the program it misses."""
        with tempfile.TemporaryDirectory() as tmp:
            host = os.path.join(os.path.realpath(tmp), "tickq-python-host")   # as /proc/self/exe names it
            self.assert_python_unavailable(tmp, (
                f"cannot start the Python host {host}: No such file or directory (Python strategies need the "
                "tickq-python-host program beside tickq: make builds both, make install installs both)"))

    def test_a_host_that_cannot_run_or_others_could_have_put_there_is_refused(self):
        """A host that does not execute says why (the worker would otherwise
        wait for a READY that never comes); one that anyone may write to, or
        in a folder anyone may write to (not sticky), is never run; group
        write is allowed (Debian's umask 002 with a group per user)."""
        with tempfile.TemporaryDirectory() as tmp:
            host = os.path.join(os.path.realpath(tmp), "tickq-python-host")
            with open(host, "wb") as f:
                f.write(b"\x7fELF not a program\n")
            os.chmod(host, 0o755)
            self.assert_python_unavailable(tmp, f"Python cannot run here: cannot execute the Python host {host}: "
                                                "Exec format error")
            os.chmod(host, 0o777)
            p = self.run_copy(tmp, "worker", "--check")
            self.assertIn(f"warn python strategies: unavailable: refusing to start the Python host {host}: anyone "
                          f"may write to {host}\n", p.stdout)
            os.chmod(host, 0o775)
            os.chmod(tmp, 0o777)
            p = self.run_copy(tmp, "worker", "--check")
            self.assertIn(f"warn python strategies: unavailable: refusing to start the Python host {host}: anyone "
                          f"may write to {os.path.dirname(host)}\n", p.stdout)
            os.chmod(tmp, 0o1777)   # sticky, as /tmp: no one else may replace our file
            p = self.run_copy(tmp, "worker", "--check")
            self.assertIn(f"warn python strategies: unavailable: Python cannot run here: cannot execute the Python "
                          f"host {host}: Exec format error\n", p.stdout)
            # A link there, even our own, to a program of root's: refused.
            os.rename(host, host + ".file")
            os.symlink("/bin/true", host)
            p = self.run_copy(tmp, "worker", "--check")
            self.assertIn(f"warn python strategies: unavailable: refusing to start the Python host {host}: anyone "
                          f"may write to {os.path.dirname(host)}, where {host} is not a file of this worker's "
                          f"user's own with no other name\n", p.stdout)
            # In a folder only we may write to, a link of another user's: refused.
            os.chmod(tmp, 0o755)
            os.lchown(host, 65534, 65534)
            p = self.run_copy(tmp, "worker", "--check")
            self.assertIn(f"warn python strategies: unavailable: refusing to start the Python host {host}: {host} is "
                          f"a link of user 65534, neither root nor this worker's user\n", p.stdout)

    def test_tickq_does_not_load_python_and_the_host_links_it_in(self):
        """The interpreter is linked into tickq-python-host (Debian's static
        libpython, faster than the shared one) and tickq needs no libpython."""
        def needed(path):
            out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
            return re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", out)
        host = os.path.join(os.path.dirname(TICKQ), "tickq-python-host")
        self.assertIn("libhiredis.so.0.14", needed(TICKQ))
        self.assertFalse([lib for lib in needed(TICKQ) + needed(host) if "python" in lib],
                         (needed(TICKQ), needed(host)))
        symbols = subprocess.run(["nm", "-D", "--defined-only", host], capture_output=True, text=True,
                                 check=True).stdout.split("\n")
        names = [line.split()[-1].split("@")[0] for line in symbols if line.strip()]
        self.assertIn("Py_Initialize", names)
        # Only the interpreter's names, for the extension modules, and the C
        # library's variables copied into the program (and, in `make
        # sanitize`'s build, the sanitizer's): none of tickq's own.
        self.assertEqual([n for n in names if not re.match(r"_?Py|__(asan|ubsan|lsan|sanitizer)_", n)
                          and n not in ("stdin", "stdout", "stderr", "environ", "__environ")], [])

    def test_a_host_from_another_build_is_refused(self):
        """A host whose build stamp is not the worker's (tickq upgraded on
        disk under a running worker) answers with that, not with a protocol
        it may not share: here the real host, told another stamp."""
        with tempfile.TemporaryDirectory() as tmp:
            real = os.path.join(os.path.dirname(TICKQ), "tickq-python-host")
            host = os.path.join(tmp, "tickq-python-host")
            with open(host, "w") as f:
                f.write(f"#!/bin/sh\nexec {shlex.quote(real)} python-host 0123456789abcdef\n")
            os.chmod(host, 0o755)
            self.assertEqual(subprocess.run([real], capture_output=True).returncode, 64)   # by hand: refused
            p = self.run_copy(tmp, "worker", "--check")
            m = re.search(r"from another build of tickq than the worker \(this host's build ([0-9a-f]{16}), ",
                          p.stdout)
            self.assertIsNotNone(m, p.stdout)
            self.assertNotEqual(m.group(1), "0123456789abcdef")
            self.assert_python_unavailable(tmp, (
                "Python cannot run here: the Python host (tickq-python-host) is from another build of tickq than "
                f"the worker (this host's build {m.group(1)}, the worker's 0123456789abcdef): install tickq and "
                "tickq-python-host together, then restart the worker"))

    def test_the_python_df_is_the_lua_df(self):
        """Every documented column, each family's at its own N (sma_5,
        ema_8 ...): half the families named in the Python code, half built
        at run time (df[f"sma_{n}"]), so that both routes to a column are
        compared with Lua."""
        named, families = documented_columns()
        code_named, code_families = code_columns(self.env)
        self.assertEqual(sorted(named), sorted(code_named), "the docs' column table and the code differ")
        self.assertEqual(sorted(families), sorted(code_families), "the docs' column table and the code differ")
        windows = {prefix: 5 + 3 * k for k, prefix in enumerate(families)}
        built = [(prefix, windows[prefix]) for k, prefix in enumerate(families) if k % 2 == 0]
        literal = [f"{prefix}{windows[prefix]}" for k, prefix in enumerate(families) if k % 2 == 1]
        self.assertIn(("sma_", 5), built)
        columns = named + literal + [f"{prefix}{n}" for prefix, n in built]
        python, lua = dump_strategies(named, literal, built)
        for name in columns[len(named):]:
            self.assertEqual(name in python, name in literal, name)
        _, res = self.drain([("backtest", dict(DUMP_WINDOW, strategy_code=python, language="python")),
                             ("backtest", dict(DUMP_WINDOW, strategy_code=lua, language="lua"))], env=self.env)
        got, want = self.completed_data(res[0]), self.completed_data(res[1])

        def rows(data):
            """The instances in df's row order, each value's hex text
            normalised (Lua's %a and Python's float.hex spell a number
            differently)."""
            out = sorted(data["instances"], key=lambda inst: inst["row"])
            self.assertEqual([inst["row"] for inst in out], list(range(1, len(out) + 1)))
            for inst in out:
                for name in columns:
                    if inst[name] != "nan":
                        inst[name] = float.fromhex(inst[name]).hex()
            return out

        py_rows, lua_rows = rows(got), rows(want)
        self.assertEqual(len(py_rows), len(lua_rows))
        diff = [(a["row"], key, a.get(key), b.get(key)) for a, b in zip(py_rows, lua_rows)
                for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]
        self.assertEqual(diff[:10], [], f"{len(diff)} differences (row, column, Python, Lua)")
        order = [(inst["ticker"], inst["date"]) for inst in lua_rows]
        self.assertEqual(order, sorted(order), "rows not sorted by ticker then date")
        self.assertEqual({t for t, _ in order}, set(DUMP_WINDOW["symbols"]))
        for name in columns:   # each column has values, and NaN where undefined (the data's first rows)
            values = [inst[name] for inst in lua_rows]
            self.assertTrue(any(v != "nan" for v in values), name)
            if name not in ("open", "high", "low", "close", "volume"):
                self.assertIn("nan", values, name)
        self.assertEqual(got["summary"]["data_shape"], want["summary"]["data_shape"])
        self.assertEqual(want["summary"]["data_shape"], [len(lua_rows), 2 + len(columns)])
        printed = json.loads(got["strategy_output"])
        self.assertEqual(printed["index"], ["RangeIndex", 0, len(py_rows), 1])
        # The names written in the code were columns before the strategy ran;
        # the ones built at run time were computed when asked for.
        self.assertEqual(printed["columns"], ["ticker", "date"] + named + literal)

    def test_memory_mb_below_64_is_refused_for_python_only(self):
        ids, res = self.drain([("backtest", self.backtest(PY_EMPTY, memory_mb=32)),
                               ("backtest", self.backtest(LUA_EMPTY, memory_mb=32)),
                               ("backtest", self.backtest(PY_EMPTY, memory_mb=64))], env=self.env)
        self.assertEqual(self.permanent_error(res[0], ids[0]),
                         "memory_mb 32 is too small for a Python strategy: at least 64")
        self.completed_data(res[1])
        self.completed_data(res[2])

    def test_time_zones_other_than_utc_can_be_read(self):
        """The time zone database is readable from the sandbox (pandas'
        tz_localize, zoneinfo): a US-market strategy localizes to New York;
        other files stay refused."""
        code = (
            "import datetime, zoneinfo\n"
            "import pandas as pd\n"
            "def s(df):\n"
            "    ny = pd.to_datetime(df['date']).dt.tz_localize('America/New_York')\n"
            "    london = zoneinfo.ZoneInfo('Europe/London').utcoffset(datetime.datetime(2020, 7, 1))\n"
            "    return [{'ticker': df['ticker'].iloc[0], 'date': df['date'].iloc[0],\n"
            "             'ny_offset_h': ny.iloc[0].utcoffset().total_seconds() / 3600,\n"
            "             'london_offset_h': london.total_seconds() / 3600}]\n")
        peek = "def s(df):\n    open('/etc/passwd').read()\n    return []\n"
        ids, res = self.drain([("backtest", self.backtest(code)), ("backtest", self.backtest(peek))], env=self.env)
        instance = self.completed_data(res[0])["instances"][0]
        self.assertEqual((instance["date"], instance["ny_offset_h"], instance["london_offset_h"]),
                         (WINDOW["start_date"], -5.0, 1.0))
        self.assertEqual(self.permanent_error(res[1], ids[1]), "Security validation failed: open('/etc/passwd')")

    def test_printed_output_comes_back_also_on_failure_and_is_cut(self):
        fails = "def s(df):\n    print('rows', len(df))\n    print('about to fail')\n    return df['no_such_column']\n"
        floods = "def s(df):\n    for _ in range(1000):\n        print('x' * 100_000)\n    return []\n"
        quiet = PY_EMPTY
        ids, res = self.drain([("backtest", self.backtest(fails)), ("backtest", self.backtest(floods)),
                               ("backtest", self.backtest(quiet))], env=self.env)
        err = self.permanent_error(res[0], ids[0])
        self.assertEqual(err, "Strategy error: KeyError: 'no_such_column' (line 4)")
        self.assertRegex(res[0]["data"]["strategy_output"], r"^rows \d+\nabout to fail\n$")
        data = self.completed_data(res[1])
        self.assertEqual(len(data["strategy_output"]), 65536)
        self.assertEqual(set(data["strategy_output"]), {"x"})
        self.assertIs(data["strategy_output_truncated"], True)
        self.assertNotIn("strategy_output", self.completed_data(res[2]))

    def test_the_host_has_an_empty_environment_and_comes_back_when_killed(self):
        env = dict(self.env, TICKQ_SECRET_PROBE="do-not-leak")
        w = self.worker("--workers", "1", env=env)
        first = self.enqueue("backtest", self.backtest(PY_EMPTY))
        self.wait_state(first, "completed", timeout=60)
        hosts = wait_for(lambda: python_hosts(w), what="the Python host")
        self.assertEqual(len(hosts), 1, hosts)
        host, child = hosts[0]
        with open(f"/proc/{host}/environ", "rb") as f:
            names = sorted(v.split(b"=", 1)[0].decode() for v in f.read().split(b"\0") if v)
        self.assertEqual(names, sorted(["LANG", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "OMP_NUM_THREADS",
                                        "OPENBLAS_NUM_THREADS", "PATH", "TZ", "VECLIB_MAXIMUM_THREADS"]
                                       + [k for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
                                          if k in os.environ]))
        # Killed between jobs: the next Python job starts a new one.
        os.kill(host, signal.SIGKILL)
        second = self.enqueue("backtest", self.backtest(PY_EMPTY))
        self.wait_state(second, "completed", timeout=60)
        again = wait_for(lambda: [h for h, _ in python_hosts(w) if h != host], what="a new Python host")
        # Killed during a job: the attempt fails as interrupted (transient,
        # not the strategy's fault), and the retry completes on a new host.
        busy = "import time\ndef s(df):\n    t = time.time()\n    while time.time() < t + 1.5:\n        pass\n    return []\n"
        third = self.enqueue("backtest", self.backtest(busy), "--max-retries", "2")
        self.wait_running(third, timeout=30)
        os.kill(again[0], signal.SIGKILL)
        self.wait_state(third, "completed", timeout=90)
        self.assertEqual(self.job(third)["attempts"], "2")
        retry = self.retries(third)
        self.assertEqual(len(retry), 1, retry)
        # (killed once it had the job; or, rarely, before it took it)
        self.assertRegex(retry[0]["error"], r"^(Strategy interrupted: the Python host ended \(killed from outside\?\) "
                                            r"while the strategy ran|Strategy could not start: cannot send the "
                                            r"strategy to the Python host)")
        self.assertEqual([c for c in w.children()], [child])   # the same worker child throughout
        self.assertIsNone(w.proc.poll())


# The least memory_mb a Python strategy may have, and data whose df is a
# quarter larger: 210 symbols x 2,520 days (ten years), 529,200 rows.
FRAME_MEMORY_MB = 64
FRAME_SYMBOLS = [f"SYN{k:04d}" for k in range(1, 211)]
# Prints the frame's size (its float64 columns and its dates, one string
# object each; the tickers are shared, so not counted), then allocates
# twice memory_mb (and touches it).
PY_FRAME_THEN_TWICE = f"""import numpy as np


def frame_then_twice(df):
    numbers = sum(df[c].to_numpy().nbytes for c in df.columns if df[c].dtype == np.float64)
    print(numbers + int(df["date"].memory_usage(index=False, deep=True)))
    more = np.ones(2 * {FRAME_MEMORY_MB} * 2**20 // 8)
    return [{{"ticker": df["ticker"].iloc[0], "date": df["date"].iloc[0], "sum": float(more.sum())}}]
"""


@unittest.skipIf(sanitized(), "AddressSanitizer build: Python's memory limit is an address-space limit, "
                              "which this build does not set")
class TestMemoryLimitExcludesTheFrame(SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", str(len(FRAME_SYMBOLS)), "--days", "2520")

    def test_memory_mb_counts_what_the_evaluation_allocates_beyond_the_frame(self):
        # A time limit well past what the example takes on a loaded machine
        # (8,000 rows of iterrows: 15 s at a load of 14 on 2 cores); this
        # test is about memory.
        window = {"symbols": FRAME_SYMBOLS, "start_date": "2000-01-01", "end_date": "2100-01-01",
                  "memory_mb": FRAME_MEMORY_MB, "strategy_timeout_seconds": 300}
        ids = [self.enqueue("backtest", dict(window, strategy_code=code))
               for code in (USERS_EXAMPLE, PY_FRAME_THEN_TWICE)]
        status, w = self.burst("--workers", "1", timeout=900, env=self.env)
        self.assertEqual(status, 0, w.log()[-3000:])
        example, twice = [self.result(i) for i in ids]
        data = self.completed_data(example)
        self.assertEqual(data["summary"]["data_shape"][0], len(FRAME_SYMBOLS) * 2520)
        self.assertGreater(data["summary"]["total_instances"], 0)
        self.assertEqual(self.permanent_error(twice, ids[1]),
                         f"Strategy exceeded memory limit ({FRAME_MEMORY_MB} MiB)")
        frame = int(twice["data"]["strategy_output"])
        self.assertGreater(frame, 1.25 * FRAME_MEMORY_MB * 2**20,
                           f"the frame ({frame / 2**20:.1f} MiB) is not clearly larger than memory_mb")
