"""test_warm_state.py — the bound on a worker child's warm state (the
columns it keeps ready between strategy jobs; docs/strategies.md, "Memory"):
a strategy that reads every parametric column (sma_2 ... hv_1000, 9,990 of
them) twice on one window, and a sweep whose columns pass the bound, leave
the worker child's RSS within the documented bound over its baseline; and a
job after them sees exactly what the same job sees on a fresh worker (a
column evicted or never warmed is computed on use, to the same values)."""
import json
import os
import re
import shutil
import tempfile

from harness import ROOT, TickqTestCase, comm, tickq, wait_for

FAMILIES = ("sma", "ema", "rsi", "atr", "bb_upper", "bb_mid", "bb_lower", "high", "low", "hv")

# Reads every parametric column once and drops it from df, so that its own
# memory stays small: what it leaves behind is the worker's warm state.
EVERY_COLUMN = """
function every_column(df)
  local families = {%s}
  local defined = 0
  for n = 2, 1000 do
    for _, f in ipairs(families) do
      local name = f .. "_" .. n
      local c = df[name]
      if c[#c] == c[#c] then defined = defined + 1 end
      df[name] = nil
    end
  end
  return {{ticker = df.ticker[1], date = df.date[1], defined = defined}}
end
""" % ", ".join(f'"{f}"' for f in FAMILIES)

# One job of a parameter sweep: the columns named, each summed over df.
SWEEP = """
function sweep(df)
  local out = {}
  for _, name in ipairs({%s}) do
    local c, s = df[name], 0
    for i = 1, df.n do if c[i] == c[i] then s = s + c[i] end end
    out[#out + 1] = {ticker = df.ticker[df.n], date = df.date[df.n], column = name, sum = s}
  end
  return out
end
"""

# A normal job: values of base and parametric columns at rows spread over df.
PROBE = """
function probe(df)
  local cols = {"close", "volume", "sma_20", "ema_50", "rsi_14", "atr_14", "bb_upper_20", "bb_lower_20",
                "high_55", "low_55", "hv_20", "sma_1000", "ema_999", "sma_3", "sma_26"}
  local out, step = {}, math.max(1, df.n // 60)
  for i = 1, df.n, step do
    local inst = {ticker = df.ticker[i], date = df.date[i]}
    for _, c in ipairs(cols) do inst[c] = df[c][i] end
    out[#out + 1] = inst
  end
  return out
end
"""


def documented_bound_mib():
    """The warm state's bound per worker child, from docs/strategies.md."""
    with open(os.path.join(ROOT, "docs", "strategies.md")) as f:
        text = f.read()
    parts = [int(re.search(r"^\| %s[^|]*\| (\d+) MiB \|$" % re.escape(what), text, re.M).group(1))
             for what in ("computed feature columns", "the warm Lua state")]
    return sum(parts)


def sanitized(pid):
    """Whether the process runs with AddressSanitizer (make sanitize): its
    RSS then holds the sanitizer's quarantine of freed memory and shadow
    memory, which says nothing of the program's own."""
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def vm_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError(f"no VmRSS for {pid}")


class TestWarmStateBound(TickqTestCase):
    SYMBOLS, DAYS = 120, 2520

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tickq-warm-")
        cls.env = {"TICKQ_DB": os.path.join(cls.tmp, "bars.db"), "DATABASE_URL": None}
        p = tickq("data", "synth", "--symbols", cls.SYMBOLS, "--days", cls.DAYS, "--seed", "11",
                  "--start", "2010-01-04", env=cls.env, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        cls.symbols = [f"SYN{k:04d}" for k in range(1, cls.SYMBOLS + 1)]
        cls.bound = documented_bound_mib()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def run_job(self, code, symbols, start, end="2030-01-01"):
        """Runs a backtest on the long-running worker; its data."""
        jid = self.enqueue("backtest", {"strategy_code": code, "symbols": symbols, "start_date": start,
                                        "end_date": end, "strategy_timeout_seconds": 300})
        res = wait_for(lambda: self.result(jid) if self.state(jid) in ("completed", "failed", "dead") else None,
                       timeout=300, interval=0.05, what=f"job {jid}")
        self.assertEqual(res["status"], "completed", json.dumps(res)[:600])
        return res["data"]

    def fresh(self, code, symbols, start):
        """The same job on a fresh worker (burst, one child): its data."""
        jid = self.enqueue("backtest", {"strategy_code": code, "symbols": symbols, "start_date": start,
                                        "end_date": "2030-01-01"})
        status, w = self.burst("--workers", "1", env=self.env, timeout=300)
        self.assertEqual(status, 0, w.log())
        res = self.result(jid)
        self.assertEqual(res["status"], "completed", json.dumps(res)[:600])
        return res["data"]

    def child(self):
        """A long-running worker of one child; the child's pid (once the
        history process, started first, has its name)."""
        w = self.worker("--workers", "1", env=self.env)
        (pid,) = wait_for(lambda: w.history_process() and w.children(), timeout=10, what="the worker child")
        return w, pid

    def assertWithinBound(self, pid, baseline, what):
        if sanitized(pid):
            return None   # the values are still compared
        grown = vm_rss_mib(pid) - baseline
        self.assertLessEqual(grown, self.bound, f"{what}: the worker child grew {grown:.0f} MiB over its "
                                                f"baseline, past the warm state's bound of {self.bound} MiB")
        return grown

    def test_a_strategy_reading_every_column_leaves_the_worker_within_the_bound(self):
        """The 9,990-column strategy, twice on one window (two symbols' whole
        history behind a window of 2,000 rows: unbounded, about 700 MB of
        columns), then a normal job that reads columns it read too."""
        symbols, start = self.symbols[:2], "2015-01-01"
        w, pid = self.child()
        self.run_job(PROBE, symbols, start)        # bars loaded, the probe's columns warm
        baseline = vm_rss_mib(pid)
        for run in (1, 2):
            data = self.run_job(EVERY_COLUMN, symbols, start)
            self.assertEqual(data["summary"]["data_shape"][1], 14 + 9990)  # every column offered
            self.assertGreater(data["instances"][0]["defined"], 9000)
            self.assertWithinBound(pid, baseline, f"after run {run} of the 9,990-column strategy")
        after = self.run_job(PROBE, symbols, start)["instances"]
        self.assertWithinBound(pid, baseline, "after the normal job")
        w.close()
        self.workers.remove(w)
        self.assertEqual(after, self.fresh(PROBE, symbols, start)["instances"])

    def test_a_sweep_past_the_bound_evicts_and_computes_the_same_values(self):
        """A sweep over 120 symbols x 2,520 bars (2.4 MB a feature column,
        4.8 MB a Lua one), 24 new columns a job: by the third job the
        columns it used pass the bound, so the least recently used go; a
        job that reads the first job's columns again gets the same sums as
        on a fresh worker."""
        symbols, start = self.symbols, "2000-01-01"
        w, pid = self.child()
        self.run_job(SWEEP % '"close"', symbols, start)
        baseline = vm_rss_mib(pid)
        jobs = [[f"{fam}_{n}" for fam in ("sma", "ema", "high") for n in range(10 + 8 * j, 18 + 8 * j)]
                for j in range(4)]
        sums = {}
        for j, cols in enumerate(jobs):
            data = self.run_job(SWEEP % ", ".join(f'"{c}"' for c in cols), symbols, start)
            sums.update((i["column"], i["sum"]) for i in data["instances"])
            self.assertWithinBound(pid, baseline, f"after sweep job {j + 1}")
        again = SWEEP % ", ".join(f'"{c}"' for c in jobs[0] + jobs[-1])
        got = self.run_job(again, symbols, start)["instances"]
        self.assertWithinBound(pid, baseline, "after the job reading evicted columns again")
        self.assertEqual({i["column"]: i["sum"] for i in got}, {c: sums[c] for c in jobs[0] + jobs[-1]})
        w.close()
        self.workers.remove(w)
        self.assertEqual(got, self.fresh(again, symbols, start)["instances"])


def anon_huge_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("AnonHugePages:"):
                return int(line.split()[1])
    return 0


class TestWorkerHugePages(TickqTestCase):
    """A worker runs with malloc's memory in transparent huge pages
    (glibc.malloc.hugetlb=1, src/cmd/main.c), so that the sandbox child
    forked for each strategy job copies and frees its page tables 512
    times faster: the bars a backtest loaded sit in huge pages. Tunables
    of the user's are kept, and a hugetlb of the user's is the user's
    choice. (What /proc/PID/environ shows of GLIBC_TUNABLES is cut at the
    first ':' by glibc's parsing, so the effect is what is checked.)"""
    SYMBOLS = 100

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Where huge pages come only to memory asked for them: with
        # "always", every process gets them, whatever its tunables.
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            cls.thp = "[madvise]" in f.read()
        cls.tmp = tempfile.mkdtemp(prefix="tickq-huge-")
        cls.env = {"TICKQ_DB": os.path.join(cls.tmp, "bars.db"), "DATABASE_URL": None}
        p = tickq("data", "synth", "--symbols", cls.SYMBOLS, "--days", 2520, "--seed", "11", "--start",
                  "2010-01-04", env=cls.env, timeout=120)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)
        cls.symbols = [f"SYN{k:04d}" for k in range(1, cls.SYMBOLS + 1)]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def huge_kib_after_a_backtest(self, tunables):
        """A worker of one child with GLIBC_TUNABLES=tunables (None: unset)
        runs a backtest of every symbol; the child's huge pages, in KiB."""
        if not self.thp:
            self.skipTest("transparent huge pages are not in madvise mode on this machine")
        env = dict(self.env, GLIBC_TUNABLES=tunables)
        w = self.worker("--workers", "1", env=env)
        (pid,) = wait_for(lambda: w.history_process() and w.children(), timeout=10, what="the worker child")
        if sanitized(pid):
            self.skipTest("AddressSanitizer's allocator ignores glibc's tunables")
        self.assertEqual(comm(pid), "tickq")   # executed again by its path, its name kept
        jid = self.enqueue("backtest", {"strategy_code": "function f(df) return {} end", "symbols": self.symbols,
                                        "start_date": "2010-01-04", "end_date": "2030-01-01"})
        res = wait_for(lambda: self.result(jid) if self.state(jid) in ("completed", "failed", "dead") else None,
                       timeout=120, interval=0.05, what=f"job {jid}")
        self.assertEqual(res["status"], "completed", json.dumps(res)[:600])
        huge = anon_huge_kib(pid)
        w.stop()
        return huge

    def test_the_worker_runs_with_huge_pages(self):
        self.assertGreater(self.huge_kib_after_a_backtest(None), 0)

    def test_the_users_tunables_are_kept(self):
        self.assertGreater(self.huge_kib_after_a_backtest("glibc.malloc.arena_max=2"), 0)

    def test_the_users_hugetlb_is_the_users_choice(self):
        self.assertEqual(self.huge_kib_after_a_backtest("glibc.malloc.hugetlb=0"), 0)
