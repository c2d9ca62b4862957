#!/usr/bin/python3
"""bench_optimize.py — the parameter sweep benchmark (`make bench-optimize`):
an SMA-crossover position strategy (long when SMA(fast) > SMA(slow), decided
on the close, held from the next bar), equal weight over N symbols, over the
grid fast 5..50 step 5 x slow 20..200 step 20 (100 combinations), as an
`optimize` job on 2 worker children, end to end (enqueue to result); beside
it a vectorised pandas/numpy implementation of the same sweep, measured in
the same run. Prints one JSON line on stdout; progress goes to stderr.

Cases (synthetic daily bars, `tickq data synth --symbols 500 --days 2520`, in
a temp SQLite file):

  small   100 symbols x the last 504 days
  large   500 symbols x all 2,520 days

The strategy is written twice: with kernels only (`where(gt(f, s), 1, 0)`)
and as a Lua loop over rows (`pos[i] = (f[i] > s[i]) and 1 or 0`). Nothing
in tickq recognises either. For each case and each writing the report gives the
end-to-end seconds, the seconds per combination (end to end / 100 x 2
workers: the work each combination cost a worker), the optimize result's
timings (strategy runs, chunks, ranking) and how a combination's run
splits (the strategy, the simulation and metrics, the sandbox's start and
reply, the task's own setup), whether the best combination's
metrics equal a single portfolio_backtest of its params (they must), and the
pandas time of the sweep (SMAs, positions, the equal-weight portfolio and
its Sharpe ratio for every combination; the bars already in memory).

--symbols and --days shrink the data for a quick check of the shape.
Needs REDIS_URL (scripts/with-redis) and the tickq binary (--tickq PATH).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import redis

QUEUE = "bench_optimize"
STRATEGIES = {
    "kernels": """
function sma_cross(df, params)
  return where(gt(df["sma_" .. params.fast], df["sma_" .. params.slow]), 1, 0)
end
""",
    "lua_loop": """
function sma_cross(df, params)
  local f, s = df["sma_" .. params.fast], df["sma_" .. params.slow]
  local pos = {}
  for i = 1, df.n do pos[i] = (f[i] > s[i]) and 1 or 0 end
  return pos
end
""",
}
GRID = {"fast": {"from": 5, "to": 50, "step": 5}, "slow": {"from": 20, "to": 200, "step": 20}}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def die(msg):
    log("bench_optimize:", msg)
    sys.exit(1)


class Bench:
    def __init__(self, tickq, tmp):
        self.tickq, self.tmp = tickq, tmp
        self.db = os.path.join(tmp, "bars.db")
        self.env = dict(os.environ, TICKQ_DB=self.db)
        self.r = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
        self.worker = None

    def synth(self, symbols, days):
        t0 = time.monotonic()
        subprocess.run([self.tickq, "data", "synth", "--symbols", str(symbols), "--days", str(days), "--seed", "1"],
                       env=self.env, check=True, stdout=sys.stderr, stderr=sys.stderr)
        log(f"synth {symbols} x {days} in {time.monotonic() - t0:.1f} s")
        out = subprocess.run([self.tickq, "data", "list", "--json"], env=self.env, check=True, capture_output=True,
                             text=True).stdout
        rows = [json.loads(x) for x in out.splitlines() if x.strip()]
        self.symbols = sorted(r["symbol"] for r in rows if r["interval"] == "1d")
        self.last = rows[0]["last"]

    def start_worker(self):
        self.r.flushall()
        self.log_path = os.path.join(self.tmp, "worker.log")
        self.worker = subprocess.Popen([self.tickq, "worker", "--workers", "2", "--queues", QUEUE, "--log-level",
                                        "warning"], env=self.env, stdout=open(self.log_path, "w"),
                                       stderr=subprocess.STDOUT, start_new_session=True)
        jid = self.enqueue("noop", {})
        self.wait(jid, 60)

    def stop_worker(self):
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()
        self.worker = None

    def enqueue(self, jtype, args):
        p = subprocess.run([self.tickq, "enqueue", jtype, "-", "--queue", QUEUE], input=json.dumps(args),
                           env=self.env, capture_output=True, text=True)
        if p.returncode != 0:
            die(f"enqueue {jtype}: {p.stderr}")
        return p.stdout.strip()

    def wait(self, jid, timeout):
        deadline = time.monotonic() + timeout
        while True:
            raw = self.r.get("task_result:" + jid)
            if raw:
                res = json.loads(raw)
                if res["status"] == "completed":
                    return res["data"]
                if res["status"] == "error":
                    die(f"job {jid} failed: {res['data'].get('error')}")
            if time.monotonic() > deadline:
                die(f"job {jid} did not finish in {timeout} s")
            if self.worker.poll() is not None:
                die("the worker exited:\n" + open(self.log_path).read()[-2000:])
            time.sleep(0.002)

    def window(self, symbols, days):
        """The last `days` bar dates of the first `symbols` symbols."""
        out = subprocess.run([self.tickq, "data", "show", self.symbols[0], "--columns", "close", "--format", "json"],
                             env=self.env, check=True, capture_output=True, text=True).stdout
        dates = [json.loads(line)["date"] for line in out.splitlines() if line.strip()]
        return self.symbols[:symbols], dates[-days], dates[-1]

    def case(self, symbols, days, code):
        syms, start, end = self.window(symbols, days)
        args = {"strategy_code": code, "symbols": syms, "start_date": start, "end_date": end, "params": GRID,
                "top": 5}
        self.start_worker()
        t0 = time.perf_counter()
        jid = self.enqueue("optimize", args)
        data = self.wait(jid, 3600)
        total = time.perf_counter() - t0
        single = self.wait(self.enqueue("portfolio_backtest", {"strategy_code": code, "symbols": syms,
                                                               "start_date": start, "end_date": end,
                                                               "params": data["best"]["params"]}), 600)
        self.stop_worker()
        n = data["combinations"]
        return {"symbols": len(syms), "days": days, "combinations": n, "chunks": data["chunks"],
                "end_to_end_s": round(total, 3), "per_combination_worker_ms": round(total * 2 / n * 1000, 2),
                "timings_ms": {k: round(v, 2) for k, v in data["timings"].items() if not isinstance(v, dict)},
                "per_combination_split_ms": {k: round(v, 2) for k, v in
                                             data["timings"].get("per_combination_split_ms", {}).items()},
                "best": data["best"]["params"], "best_sharpe": data["best"]["metrics"]["sharpe"],
                "best_matches_single_run": all(data["best"]["metrics"].get(k) == v
                                               for k, v in single["performance_metrics"].items()),
                "window": [start, end]}

    def pandas(self, syms, start, end):
        """The same sweep, vectorised: closes in memory first (not timed)."""
        out = subprocess.run([self.tickq, "data", "show", ",".join(syms), "--columns", "close", "--from", start,
                              "--to", end, "--format", "csv"], env=self.env, check=True, capture_output=True,
                             text=True).stdout
        frame = pd.read_csv(pd.io.common.StringIO(out))
        close = frame.pivot(index="date", columns=frame.columns[0], values="close").sort_index()
        best = None
        t0 = time.perf_counter()
        rets = close.pct_change().shift(-1)      # a position on close t earns t -> t+1
        smas = {n: close.rolling(n).mean() for n in range(5, 201, 5)}
        for fast in range(5, 51, 5):
            for slow in range(20, 201, 20):
                pos = (smas[fast] > smas[slow]).astype(float)
                port = (pos * rets).mean(axis=1)   # equal weight, rebalanced daily
                sharpe = np.sqrt(252) * port.mean() / port.std()
                if best is None or sharpe > best:
                    best = sharpe
        return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickq", required=True)
    ap.add_argument("--symbols", type=int, default=500)
    ap.add_argument("--days", type=int, default=2520)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tickq-bench-opt-") as tmp:
        b = Bench(opts.tickq, tmp)
        b.synth(opts.symbols, opts.days)
        report = {"bench": "optimize", "workers": 2, "grid": "fast 5..50 step 5 x slow 20..200 step 20"}
        try:
            for name, (symbols, days) in (("small", (100, 504)), ("large", (500, 2520))):
                symbols, days = min(symbols, opts.symbols), min(days, opts.days)
                syms, start, end = b.window(symbols, days)
                report[name] = {"pandas_s": round(b.pandas(syms, start, end), 3)}
                for writing, code in STRATEGIES.items():
                    log(f"{name}, {writing}: {symbols} symbols x {days} days")
                    got = report[name][writing] = b.case(symbols, days, code)
                    log(f"{name}, {writing}: {got['end_to_end_s']} s (pandas {report[name]['pandas_s']} s)")
                    if not got["best_matches_single_run"]:
                        die(f"{name}, {writing}: the best combination's metrics differ from a single "
                            "portfolio_backtest")
                if report[name]["kernels"]["best"] != report[name]["lua_loop"]["best"]:
                    die(f"{name}: the kernels and the loop chose different best combinations")
        finally:
            b.stop_worker()
        report["targets"] = {"kernels_small_s": 0.020, "kernels_large_s": 0.150,
                             "lua_loop": "no slower than pandas"}
        print(json.dumps(report))


if __name__ == "__main__":
    main()
