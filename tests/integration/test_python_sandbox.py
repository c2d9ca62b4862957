"""test_python_sandbox.py — what the Python strategies' sandbox must keep from
a strategy (issue 13, "Sandbox"), checked from outside the sandbox:

- memory secrecy: the worker's Redis URL carries a password; after job A (a
  Python strategy whose code and arguments hold unique markers), job B
  busy-waits while this test reads the whole memory of every `tickq
  python-host` process (the host and B's evaluation child) through
  /proc/PID/mem: neither the password nor A's markers may be anywhere, and B
  itself, walking every object it can reach from gc.get_objects(), finds
  none of them either. The host's and the evaluation child's environments
  hold no Redis, database or tickq variable.
- no state leaks: job A changes df in place, module globals (a DataFrame
  attribute, np.pi, builtins) and sys.modules; job B on the same worker
  child sees none of it and gets the same df as before A.
- a worker child keeps serving: after a time-limit kill and a memory-limit
  failure, a normal Python job and a normal Lua job complete on the same
  child with the same results as before, and the warm Python host is the
  same process.

The hostile catalogue (tests/hostile/, test_hostile.py) runs every other
hostile Python case, each followed by a reference job."""
import os
import re
import secrets
import subprocess
import time

from harness import TICKQ, SynthBarsTestCase, tickq, wait_for

FINAL = ("completed", "failed", "dead")
WINDOW = {"symbols": ["SYN0001", "SYN0002"], "start_date": "2000-01-01", "end_date": "2100-01-01"}
# Plain letters and digits: the same bytes in a URL, in JSON and in memory.
PASSWORD = "pw" + secrets.token_hex(16)


def sanitized():
    """True for an AddressSanitizer build: no address-space limit there, so
    no Python memory limit to test."""
    return "libasan" in subprocess.run(["ldd", TICKQ], capture_output=True, text=True).stdout


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def python_hosts(worker_pid):
    """The `tickq python-host` processes under a worker (the hosts, each a
    child of a worker child), with all their descendants (the frame's
    process, its evaluation children): {host pid: [descendant pids]}."""
    def descendants(pid):
        out = []
        for c in children(pid):
            if cmdline(c)[:2] == [b"tickq", b"python-host"]:
                out += [c] + descendants(c)
        return out
    hosts = {}
    for kid in children(worker_pid):
        for pid in children(kid):
            if cmdline(pid)[:2] == [b"tickq", b"python-host"]:
                hosts[pid] = descendants(pid)
    return hosts


def environment(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return [v.split(b"=", 1)[0].decode() for v in f.read().split(b"\0") if v]


# Regions larger than this are skipped: none of the host's own is near it,
# and an AddressSanitizer build reserves terabytes (its shadow memory).
REGION_MAX = 1 << 30


def memory_holds(pid, needles):
    """Which of needles (bytes) are anywhere in the readable memory of pid,
    read through /proc/PID/mem, and how many bytes were read."""
    found, total = set(), 0
    overlap = max(len(n) for n in needles) - 1
    with open(f"/proc/{pid}/maps") as f:
        regions = [line.split() for line in f]
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for r in regions:
            if r[1][0] != "r" or (len(r) > 5 and r[5] in ("[vvar]", "[vsyscall]")):
                continue
            lo, hi = (int(x, 16) for x in r[0].split("-"))
            if hi - lo > REGION_MAX:
                continue
            pos, tail = lo, b""
            while pos < hi:
                n = min(hi - pos, 8 << 20)
                try:
                    mem.seek(pos)
                    chunk = mem.read(n)
                except OSError:
                    break    # an unreadable region (a guard page): the rest of it too
                total += len(chunk)
                data = tail + chunk
                found.update(nd for nd in needles if nd in data)
                tail = data[-overlap:] if overlap else b""
                pos += n
    return found, total


# Job A: its code and its entry (an argument) carry markers; it returns
# and prints neither (see RESULT_CODE for those).
A_CODE = """import pandas as pd

NOTE = "{code_marker}"


def {entry}(df):
    up = df[df["close"] > df["open"]]
    return [{{"ticker": up["ticker"].iloc[0], "date": up["date"].iloc[0], "note": len(NOTE)}}]
"""

# Job A of the second test: prints a marker and returns another.
RESULT_CODE = """def answer(df):
    print("{output_marker}")
    return [{{"ticker": "SYN0001", "date": df["date"].iloc[0], "note": "{result_marker}"}}]
"""

# Job B: spins (printing nothing) while the test reads its memory, then
# walks every object reachable from gc.get_objects() for A's markers and the
# password, which it builds only then, from reversed text (so they are not in
# its code). The positive control is in its code: the test must find it.
B_CODE = """import gc
import time

CONTROL = "{control}"


def probe(df):
    t0 = time.monotonic()
    while time.monotonic() - t0 < {spin}:
        pass
    built_at = time.monotonic()   # (the machine's clock: the test compares it with its own)
    targets = ["".join(reversed(t)) for t in {reversed_targets!r}]
    seen, found, stack = set(), set(), list(gc.get_objects())
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (str, bytes, bytearray)):
            text = obj if isinstance(obj, str) else bytes(obj).decode("latin-1")
            if not any(obj is t for t in targets):
                found.update(t for t in targets if t in text)
            continue
        if obj is targets:
            continue
        stack.extend(gc.get_referents(obj))
    return [{{"ticker": "SYN0001", "date": df["date"].iloc[0], "found": " ".join(sorted(found)), "objects": len(seen),
             "control": len(CONTROL), "built_at": built_at}}]
"""


class PythonSandboxCase(SynthBarsTestCase):
    """A private Redis that asks for a password (TCP), the synthetic bars."""

    tcp = True
    redis_args = ("--requirepass", PASSWORD)

    def setUp(self):
        self.r = self.server.client(password=PASSWORD)
        self.r.flushall()
        self.workers = []

    @property
    def url(self):
        return f"redis://:{PASSWORD}@127.0.0.1:{self.server.port}/0"

    def python_job(self, code, task="backtest", **args):
        a = dict(WINDOW, strategy_code=code, language="python", memory_mb=128, strategy_timeout_seconds=30)
        a.update(args)
        return self.enqueue(task, a)

    def lua_job(self, code, task="backtest", **args):
        a = dict(WINDOW, strategy_code=code, language="lua")
        a.update(args)
        return self.enqueue(task, a)

    def final(self, job_id, timeout=60):
        self.wait_state(job_id, FINAL, timeout=timeout)
        return self.result(job_id)

    def completed(self, job_id, timeout=60):
        return self.completed_data(self.final(job_id, timeout))

    def one_child_worker(self):
        """A long-running worker with one child; (worker, its child's pid)."""
        w = self.worker("--workers", "1", "--no-history", env=self.env)
        (kid,) = wait_for(w.children, timeout=15, what="the worker child")
        return w, kid


class TestMemorySecrecy(PythonSandboxCase):
    SPIN = 10  # seconds job B spins while the test reads its memory

    def probe_after(self, w, targets):
        """Runs job B on worker w's child; while it spins, reads the memory of
        every python-host process (the host, B's evaluation child, any other
        child such as one forked ahead for the next evaluation) for targets,
        and checks their environments; then B walks its objects for them.
        Fails naming where a target was found."""
        control = "control" + secrets.token_hex(12)
        needles = [t.encode() for t in targets]
        b_id = self.python_job(B_CODE.format(control=control, spin=self.SPIN,
                                             reversed_targets=[t[::-1] for t in targets]))

        def b_child():
            """B's evaluation child, once it holds B's code (the positive
            control: the scanner sees what is there), and the host."""
            for host, kids in python_hosts(w.pid).items():
                for kid in kids:
                    try:
                        if control.encode() in memory_holds(kid, [control.encode()])[0]:
                            return host, kid
                    except (ProcessLookupError, FileNotFoundError):
                        pass   # ended since it was listed (the previous frame's process, a used child)
            return None
        host, b_pid = wait_for(b_child, timeout=30, interval=0.2, what="job B's evaluation child")
        # Every python-host process: the host, the frame's process, B's
        # child, a spare forked ahead.
        for pid in [host] + python_hosts(w.pid).get(host, []):
            role = {host: "the Python host", b_pid: "B's evaluation child"}.get(pid, "another python-host process")
            with self.subTest(pid=pid, role=role):
                try:
                    names = environment(pid)
                    found, read = memory_holds(pid, needles)
                except (ProcessLookupError, FileNotFoundError):
                    # A process that ended holds nothing; the host and B's
                    # child must not have.
                    self.assertNotIn(pid, (host, b_pid), f"{role} ended while B was running")
                    continue
                self.assertEqual([n for n in names if re.search(r"REDIS|DATABASE|TICKQ|PG", n)], [], names)
                self.assertGreater(read, 50 << 20, "too little memory read: not the warm interpreter?")
                self.assertEqual(sorted(t for t in targets if t.encode() in found), [],
                                 f"found in the memory of {role}")
        scanned = time.monotonic()
        b = self.completed(b_id)
        # An order, not a speed: the scan ended before B built its targets
        # (else finding them would say nothing about what was left behind).
        self.assertLess(scanned, b["instances"][0]["built_at"], "the scan outlasted B's spin: raise SPIN")
        self.assertEqual(b["instances"][0]["found"], "", "job B found them walking its objects")
        self.assertGreater(b["instances"][0]["objects"], 100000)   # the warm pandas interpreter, walked
        self.assertNotIn("strategy_output", b)

    def test_the_evaluation_holds_no_password_and_nothing_of_the_previous_job(self):
        code_marker = "codemark" + secrets.token_hex(12)
        entry = "argmark" + secrets.token_hex(12)
        w, _ = self.one_child_worker()
        a = self.completed(self.python_job(A_CODE.format(code_marker=code_marker, entry=entry), entry=entry))
        self.assertEqual(a["instances"][0]["note"], len(code_marker))
        self.probe_after(w, [PASSWORD, code_marker, entry])

    def test_the_previous_jobs_symbols_are_not_left_behind(self):
        """Job A's symbols (arguments) reach the Python host as its frame's
        bars and tickers; once job B's frame replaced them, nothing of them
        may stay for B's evaluation child to read."""
        symbol = "ZQ" + secrets.token_hex(5).upper()
        csv = os.path.join(self.tmp, "unique.csv")
        p = tickq("data", "synth", "--symbols", "1", "--days", "300", "--seed", "5", "--out", csv, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(csv) as f:
            text = f.read().replace("SYN0001", symbol)
        with open(csv, "w") as f:
            f.write(text)
        p = tickq("data", "import", csv, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        w, _ = self.one_child_worker()
        a = self.completed(self.python_job("def mine(df):\n    return []\n", symbols=[symbol]))
        self.assertEqual(a["summary"]["symbols_processed"], 1)
        self.probe_after(w, [symbol])

    def test_the_previous_jobs_result_and_output_are_not_left_behind(self):
        """What job A printed and returned crossed the Python host (the
        evaluation child's pipes are read there): nothing of it may stay in
        the host's memory for the next evaluation child to read."""
        result_marker = "resultmark" + secrets.token_hex(12)
        output_marker = "outputmark" + secrets.token_hex(12)
        w, _ = self.one_child_worker()
        a = self.completed(self.python_job(RESULT_CODE.format(result_marker=result_marker,
                                                              output_marker=output_marker)))
        self.assertEqual(a["instances"][0]["note"], result_marker)
        self.assertEqual(a["strategy_output"], output_marker + "\n")
        self.probe_after(w, [result_marker, output_marker])


# Job A of the leak test: changes everything it can reach, then completes.
TAMPER = """import builtins
import sys

import numpy as np
import pandas as pd


def tamper(df):
    df.loc[:, "close"] = -1.0
    df.loc[0, "ticker"] = "LEAKED"
    df.drop(columns=["volume"], inplace=True)
    df.insert(0, "leaked", 1)
    df.sort_values("open", inplace=True)
    pd.DataFrame.foo = 1
    pd.Series.sum = lambda self, *a, **k: 42
    np.pi = 3
    builtins.leaked = True
    builtins.abs = lambda x: 0
    sys.modules["leaked_module"] = sys
    sys.modules["xml"] = None
    return []
"""

# Job B: what it sees of all that, and df as it is.
CHECK = """import builtins
import sys

import numpy as np
import pandas as pd


def check(df):
    seen = []
    if hasattr(pd.DataFrame, "foo"):
        seen.append("DataFrame.foo")
    if pd.Series([1.0, 2.0]).sum() != 3.0:
        seen.append("Series.sum")
    if np.pi != 3.141592653589793:
        seen.append("np.pi")
    if hasattr(builtins, "leaked"):
        seen.append("builtins.leaked")
    if abs(-2) != 2:
        seen.append("builtins.abs")
    if "leaked_module" in sys.modules or sys.modules.get("xml", 1) is None:
        seen.append("sys.modules")
    return [{"ticker": "SYN0001", "date": df["date"].iloc[0], "seen": " ".join(seen), "columns": list(df.columns),
             "index": [int(df.index[0]), int(df.index[-1]), df.index.is_monotonic_increasing],
             "tickers": sorted(set(df["ticker"])), "close": float(df["close"].to_numpy().sum()),
             "volume": float(df["volume"].to_numpy().sum())}]
"""


class TestNoStateLeaks(PythonSandboxCase):
    def test_changes_to_df_and_modules_do_not_reach_the_next_job(self):
        w, kid = self.one_child_worker()
        before = self.completed(self.python_job(CHECK))
        tampered = self.completed(self.python_job(TAMPER))
        self.assertEqual(tampered["summary"]["total_instances"], 0)
        after = self.completed(self.python_job(CHECK))
        self.assertEqual(after["instances"][0]["seen"], "")
        for key in ("columns", "index", "tickers", "close", "volume"):
            self.assertEqual(after["instances"][0][key], before["instances"][0][key], key)
        self.assertEqual(after["instances"][0]["columns"][:3], ["ticker", "date", "open"])
        self.assertGreater(after["instances"][0]["close"], 0)
        self.assertEqual(after["summary"], before["summary"])


PY_NORMAL = """def crossing(df):
    fast, slow = df["sma_5"], df["sma_20"]
    up = (fast > slow) & (fast.shift(1) <= slow.shift(1)) & (df["ticker"] == df["ticker"].shift(1))
    return [{"ticker": r["ticker"], "date": r["date"], "fast": r["sma_5"]} for _, r in df[up].iterrows()]
"""
LUA_NORMAL = """function crossing(df)
  local fast, slow, out = df.sma_5, df.sma_20, {}
  for i = 2, df.n do
    if df.ticker[i] == df.ticker[i - 1] and fast[i] > slow[i] and fast[i - 1] <= slow[i - 1] then
      out[#out + 1] = {ticker = df.ticker[i], date = df.date[i], fast = fast[i]}
    end
  end
  return out
end
"""
PY_LOOP = "def spin(df):\n    while True:\n        pass\n"
PY_MEMORY = "def hog(df):\n    grow = []\n    while True:\n        grow.append([0] * 1000)\n"


class TestChildKeepsServing(PythonSandboxCase):
    def test_normal_jobs_after_a_time_limit_kill_and_a_memory_limit_failure(self):
        w, kid = self.one_child_worker()
        py_before = self.completed(self.python_job(PY_NORMAL))
        lua_before = self.completed(self.lua_job(LUA_NORMAL))
        self.assertGreater(py_before["summary"]["total_instances"], 0)
        self.assertEqual(py_before["instances"], lua_before["instances"])
        (host,) = python_hosts(w.pid)

        loop = self.python_job(PY_LOOP, strategy_timeout_seconds=0.5)
        self.assertEqual(self.permanent_error(self.final(loop), loop), "Strategy exceeded time limit (0.5 s)")
        if not sanitized():   # no address-space limit under AddressSanitizer
            hog = self.python_job(PY_MEMORY, memory_mb=64)
            self.assertEqual(self.permanent_error(self.final(hog), hog), "Strategy exceeded memory limit (64 MiB)")

        py_after = self.completed(self.python_job(PY_NORMAL))
        lua_after = self.completed(self.lua_job(LUA_NORMAL))
        for before, after in ((py_before, py_after), (lua_before, lua_after)):
            self.assertEqual(after["instances"], before["instances"])
            self.assertEqual(after["summary"], before["summary"])
            self.assertEqual(after["performance_metrics"], before["performance_metrics"])
        self.assertEqual(list(python_hosts(w.pid)), [host], "the warm Python host was replaced")
        self.assertEqual(w.children(), [kid], "the worker child was replaced")
        self.assertNotIn("worker child stopped", w.log())
