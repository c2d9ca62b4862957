"""test_strategy.py — the `backtest` task and the strategy sandbox: trade
returns worked out independently from the bars we import (hold_bars,
commission, short side, null returns at the end of the window, entry at the
next bar's open), the performance metrics and summary, the data frame the
strategy sees (window, order, warm-up of features, kernels restarting per
ticker), the entry option, argument and strategy errors (permanent, no
retry), results that are checked rather than filtered (malformed instances,
nil, print output in error results), the look-ahead check, and hostile
strategies (forbidden names, time and memory limits, stack overflow,
metatable tricks) each followed by a healthy job on the same long-running
worker; intraday bars and times with offsets; every strategy of
docs/strategies.md and examples/strategies/ run as a job; and the shape of
make bench-strategy's report."""
import datetime
import glob
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile

from harness import ISO_RE, TICKQ, TickqTestCase, sample_cuts, tickq, wait_for, write_bars_csv

START, END = "2024-01-02", "2024-03-01"
FINAL = ("completed", "failed", "dead")


def weekdays(first, last):
    d, out = datetime.date.fromisoformat(first), []
    while d <= datetime.date.fromisoformat(last):
        if d.weekday() < 5:
            out.append(d.isoformat())
        d += datetime.timedelta(days=1)
    return out


# Bars per symbol (weekdays): AAA and BBB cover warm-up (from 2023-11-27, 26
# bars before START), the window and a week after END; CCC stops a week
# before END; DDD has only pre-window bars.
RANGES = {"AAA": ("2023-11-27", "2024-03-08"), "BBB": ("2023-11-27", "2024-03-08"),
          "CCC": ("2023-11-27", "2024-02-23"), "DDD": ("2023-11-27", "2023-12-15")}


def make_bars():
    """Deterministic bars with overnight gaps, ups and downs; numbers are
    rounded to 4 decimals so the CSV text and these floats are the same."""
    bars = {}
    for s, (sym, (first, last)) in enumerate(sorted(RANGES.items())):
        base = (20.0, 50.0, 80.0, 30.0)[s]
        rows, prev_close = [], None
        for i, d in enumerate(weekdays(first, last)):
            close = round(base * (1 + 0.1 * math.sin(0.45 * i + s) + 0.002 * i), 4)
            opn = round(base if prev_close is None else prev_close * (1 + 0.01 * math.cos(0.8 * i + 2 * s)), 4)
            high = round(max(opn, close) + 0.25 + 0.01 * (i % 7), 4)
            low = round(min(opn, close) - 0.25 - 0.01 * (i % 5), 4)
            volume = float(1000 + (i * 7919 + s * 104729) % 3000)
            rows.append({"date": d, "open": opn, "high": high, "low": low, "close": close, "volume": volume})
            prev_close = close
        bars[sym] = rows
    return bars


BARS = make_bars()


def bar_rows(bars):
    """The rows of an import file of bars (symbol -> list of bar dicts)."""
    return [(sym, b["date"], b["open"], b["high"], b["low"], b["close"], int(b["volume"]))
            for sym, rows in sorted(bars.items()) for b in rows]


def window(sym, start=START, end=END):
    """The (index, bar) pairs of sym's stored bars inside [start, end]."""
    return [(k, b) for k, b in enumerate(BARS[sym]) if start <= b["date"] <= end]


def index_of(sym, date):
    return [b["date"] for b in BARS[sym]].index(date)


def trade_return(sym, date, hold=1, bps=0, short=False, end=END):
    """The spec: entry open[t+1], exit close[t+hold], null past end or data."""
    rows, k = BARS[sym], index_of(sym, date)
    if k + hold >= len(rows) or rows[k + hold]["date"] > end:
        return None
    entry, exit_ = rows[k + 1]["open"], rows[k + hold]["close"]
    gross = entry / exit_ - 1 if short else exit_ / entry - 1
    return gross - 2 * bps / 10000


def close(got, want, rel=1e-11):
    """got (from JSON: None for NaN) matches want (None or NaN: undefined)."""
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    return got is not None and math.isclose(got, want, rel_tol=rel, abs_tol=1e-12)


def metrics(returns):
    r = [x for x in returns if x is not None]
    if not r:
        return {"trades": 0, "total_return": None, "avg_return": None, "win_rate": None, "median_return": None,
                "best": None, "worst": None, "profit_factor": None}
    gains, losses = sum(x for x in r if x > 0), -sum(x for x in r if x < 0)
    return {"trades": len(r), "total_return": sum(r), "avg_return": sum(r) / len(r),
            "win_rate": sum(1 for x in r if x > 0) / len(r), "median_return": statistics.median(r),
            "best": max(r), "worst": min(r), "profit_factor": gains / losses if losses > 0 else None}


# --- independent kernel implementations (per ticker, over the window) ------
NAN = float("nan")


def k_sma(x, n):
    return [sum(x[t - n + 1:t + 1]) / n if t >= n - 1 else NAN for t in range(len(x))]


def k_ema(x, n):
    out, a = [NAN] * len(x), 2 / (n + 1)
    if len(x) >= n:
        out[n - 1] = sum(x[:n]) / n
        for t in range(n, len(x)):
            out[t] = a * x[t] + (1 - a) * out[t - 1]
    return out


def k_rsi(c, n):
    out = [NAN] * len(c)
    if len(c) <= n:
        return out
    d = [c[t] - c[t - 1] for t in range(1, len(c))]
    gain = sum(max(v, 0) for v in d[:n]) / n
    loss = sum(max(-v, 0) for v in d[:n]) / n

    def value(g, l):
        return (50.0 if g == 0 else 100.0) if l == 0 else 100 - 100 / (1 + g / l)
    out[n] = value(gain, loss)
    for t in range(n + 1, len(c)):
        v = d[t - 1]
        gain = (gain * (n - 1) + max(v, 0)) / n
        loss = (loss * (n - 1) + max(-v, 0)) / n
        out[t] = value(gain, loss)
    return out


def k_atr(h, l, c, n):
    out = [NAN] * len(c)
    if len(c) <= n:
        return out
    tr = [None] + [max(h[t], c[t - 1]) - min(l[t], c[t - 1]) for t in range(1, len(c))]
    atr = sum(tr[1:n + 1]) / n
    out[n] = atr
    for t in range(n + 1, len(c)):
        atr = (atr * (n - 1) + tr[t]) / n
        out[t] = atr
    return out


def k_pstdev(x, n):
    return [statistics.pstdev(x[t - n + 1:t + 1]) if t >= n - 1 else NAN for t in range(len(x))]


def k_highest(x, n):
    return [max(x[t - n + 1:t + 1]) if t >= n - 1 else NAN for t in range(len(x))]


def k_lowest(x, n):
    return [min(x[t - n + 1:t + 1]) if t >= n - 1 else NAN for t in range(len(x))]


def k_shift(x, k):
    return [x[t - k] if t >= k else NAN for t in range(len(x))]


def k_pct_change(x, k):
    return [100 * (x[t] / x[t - k] - 1) if t >= k else NAN for t in range(len(x))]


def k_cross(a, b, above):
    out = [False]
    for t in range(1, len(a)):
        out.append(a[t] > b[t] and a[t - 1] <= b[t - 1] if above else a[t] < b[t] and a[t - 1] >= b[t - 1])
    return out


# --- strategies ------------------------------------------------------------
EVERY_BAR = """
function every_bar(df)
  local out = {}
  for i = 1, df.n do
    out[#out + 1] = {ticker = df.ticker[i], date = df.date[i], row = i, close = df.close[i]}
  end
  return out
end
"""

SIDED = """
function sided(df)
  local out = {}
  for i = 1, df.n do
    local inst = {ticker = df.ticker[i], date = df.date[i]}
    if df.ticker[i] == "BBB" then inst.side = "short" elseif df.ticker[i] == "AAA" then inst.side = "long" end
    out[#out + 1] = inst
  end
  return out
end
"""

HEALTHY = """
function healthy(df)
  local out = {}
  for i, t in ipairs(df.ticker) do
    if i == 1 or t ~= df.ticker[i - 1] then
      table.insert(out, {ticker = t, date = df.date[i], tag = string.format("%s-%d", t:lower(), i)})
    end
  end
  return out
end
"""


def picks_code(pairs):
    """A strategy returning exactly these (ticker, date) instances."""
    items = ", ".join(f'{{"{t}", "{d}"}}' for t, d in pairs)
    return ("local picks = {" + items + "}\n"
            "function pick(df)\n"
            "  local out = {}\n"
            "  for _, p in ipairs(picks) do out[#out + 1] = {ticker = p[1], date = p[2]} end\n"
            "  return out\n"
            "end\n")


class TestBacktest(TickqTestCase):
    """One SQLite file of bars for the class; each test drains its jobs with
    a burst worker of one child (or a long-running worker where it matters)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tickq-strategy-")
        cls.db = os.path.join(cls.tmp, "bars.db")
        cls.env = {"TICKQ_DB": cls.db, "DATABASE_URL": None}
        path = write_bars_csv(os.path.join(cls.tmp, "bars.csv"), bar_rows(BARS))
        p = tickq("data", "import", path, env=cls.env)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    # --- helpers ---------------------------------------------------------
    def args(self, code, symbols=("AAA", "BBB", "CCC"), start=START, end=END, **kw):
        a = {"strategy_code": code, "symbols": list(symbols), "start_date": start, "end_date": end}
        a.update(kw)
        return a

    def run_all(self, *jobs, env=None, unchecked=False):
        """The task_result JSONs of backtests of the jobs' args drained in
        order (harness drain); their ids in self.last_ids."""
        self.last_ids, results = self.drain([("backtest", a) for a in jobs], env=env or self.env,
                                            unchecked=unchecked)
        return results

    def assertClose(self, got, want, what="", rel=1e-11):
        self.assertTrue(close(got, want, rel), f"{what}: got {got!r}, want {want!r}")

    def assertMetrics(self, got, want):
        self.assertEqual(set(got), set(want))
        self.assertEqual(got["trades"], want["trades"])
        for k in want:
            if k != "trades":
                self.assertClose(got[k], want[k], k)

    # --- returns, metrics, summary ---------------------------------------
    def test_every_bar_hold_1_returns_metrics_and_summary(self):
        data = self.completed_data(self.run_all(self.args(EVERY_BAR, symbols=["CCC", "BBB", "AAA", "AAA"]))[0])
        self.assertTrue(data["success"])
        self.assertEqual(data["execution_mode"], "backtest")
        rows = [(sym, k, b) for sym in ("AAA", "BBB", "CCC") for k, b in window(sym)]
        insts = data["instances"]
        # df is sorted by ticker then date, holds the window only, once per symbol
        self.assertEqual([(i["ticker"], i["date"]) for i in insts], [(s, b["date"]) for s, _, b in rows])
        self.assertEqual([i["row"] for i in insts], list(range(1, len(rows) + 1)))
        want = []
        for inst, (sym, k, b) in zip(insts, rows):
            self.assertEqual(set(inst), {"ticker", "date", "row", "close", "return"})
            self.assertEqual(inst["close"], b["close"])
            r = trade_return(sym, b["date"])
            self.assertClose(inst["return"], r, f"{sym} {b['date']}")
            want.append(r)
        by = {(i["ticker"], i["date"]): i["return"] for i in insts}
        self.assertIsNone(by[("AAA", END)])            # exit bar 2024-03-04 is after end_date
        self.assertIsNotNone(by[("AAA", "2024-02-29")])  # exits at the close of end_date itself
        self.assertIsNone(by[("CCC", "2024-02-23")])   # no bar after CCC's last one
        self.assertEqual(sum(r is None for r in want), 3)
        s = data["summary"]
        self.assertEqual(s["total_instances"], len(rows))
        self.assertEqual(s["ignored_instances"], 0)
        # winning_trades: the trades with a return above 0; positive_signals
        # is the same number under the name the users' clients read
        self.assertEqual(s["winning_trades"], sum(1 for r in want if r is not None and r > 0))
        self.assertEqual(s["positive_signals"], s["winning_trades"])
        self.assertEqual(s["date_range"], [START, END])
        self.assertEqual(s["symbols_processed"], 3)
        self.assertEqual(s["data_shape"], [len(rows), 14])   # the named columns, no parametric one used
        m = metrics(want)
        self.assertGreater(m["profit_factor"], 0)   # the data has winners and losers
        self.assertLess(m["win_rate"], 1)
        self.assertMetrics(data["performance_metrics"], m)
        self.assertGreaterEqual(data["execution_time_ms"], 0)
        self.assertGreaterEqual(data["execution_time_seconds"], 0)
        self.assertIsInstance(data["worker_id"], str)
        self.assertRegex(data["completed_at"], ISO_RE)

    def test_hold_3_commission_and_short_side(self):
        res = self.run_all(self.args(SIDED, hold_bars=3, commission_bps=10),
                           self.args(SIDED, hold_bars=3))
        with_fee, no_fee = (self.completed_data(r) for r in res)
        for data, bps in ((with_fee, 10), (no_fee, 0)):
            want = []
            for inst in data["instances"]:
                short = inst["ticker"] == "BBB"
                self.assertEqual(inst.get("side"), {"AAA": "long", "BBB": "short"}.get(inst["ticker"]))
                r = trade_return(inst["ticker"], inst["date"], hold=3, bps=bps, short=short)
                self.assertClose(inst["return"], r, f"{inst['ticker']} {inst['date']} bps={bps}")
                want.append(r)
            nulls = sorted((i["ticker"], i["date"]) for i in data["instances"] if i["return"] is None)
            self.assertEqual(nulls, [("AAA", "2024-02-28"), ("AAA", "2024-02-29"), ("AAA", "2024-03-01"),
                                     ("BBB", "2024-02-28"), ("BBB", "2024-02-29"), ("BBB", "2024-03-01"),
                                     ("CCC", "2024-02-21"), ("CCC", "2024-02-22"), ("CCC", "2024-02-23")])
            self.assertMetrics(data["performance_metrics"], metrics(want))
            self.assertEqual(data["summary"]["positive_signals"], sum(1 for r in want if r is not None and r > 0))
        # worked out by hand for one short trade: enters at the open of the
        # next bar, exits at the close three bars after the signal
        k = index_of("BBB", "2024-01-10")
        entry, exit_ = BARS["BBB"][k + 1]["open"], BARS["BBB"][k + 3]["close"]
        got = {(i["ticker"], i["date"]): i["return"] for i in with_fee["instances"]}
        self.assertClose(got[("BBB", "2024-01-10")], entry / exit_ - 1 - 0.002)
        got0 = {(i["ticker"], i["date"]): i["return"] for i in no_fee["instances"]}
        for key, r in got0.items():
            if r is not None:
                self.assertClose(got[key], r - 0.002, str(key))

    def test_entry_is_the_next_bars_open(self):
        day = "2024-01-10"
        data = self.completed_data(self.run_all(self.args(picks_code([("AAA", day)]), symbols=["AAA"]))[0])
        (inst,) = data["instances"]
        k = index_of("AAA", day)
        t, t1 = BARS["AAA"][k], BARS["AAA"][k + 1]
        self.assertClose(inst["return"], t1["close"] / t1["open"] - 1)
        for look_ahead in (t["close"] / t["open"] - 1, t1["close"] / t["close"] - 1, t1["close"] / t["open"] - 1):
            self.assertFalse(math.isclose(inst["return"], look_ahead, rel_tol=1e-6))

    def test_instances_outside_the_window_are_not_signals(self):
        inside = [("AAA", "2024-01-03"), ("BBB", START), ("BBB", END)]
        outside = [("AAA", "2023-12-29"),   # a stored warm-up bar
                   ("AAA", "2024-03-04"),   # a stored bar after end_date
                   ("AAA", "2024-01-06"),   # a Saturday: no bar
                   ("ZZZ", "2024-01-03"),   # not a requested symbol
                   ("DDD", "2023-12-15"),   # requested, but its bars end before the window
                   ("CCC", "2024-01-03")]   # stored, but not requested
        data = self.completed_data(self.run_all(self.args(picks_code(outside[:3] + inside + outside[3:]),
                                              symbols=["AAA", "BBB", "DDD"]))[0])
        self.assertEqual([(i["ticker"], i["date"]) for i in data["instances"]], inside)
        for i in data["instances"]:
            self.assertClose(i["return"], trade_return(i["ticker"], i["date"]))
        self.assertEqual(data["summary"]["total_instances"], 3)
        self.assertEqual(data["summary"]["ignored_instances"], len(outside))   # well-formed, not a bar of the window
        self.assertEqual(data["summary"]["data_shape"][0], len(window("AAA")) + len(window("BBB")))
        self.assertEqual(data["performance_metrics"]["trades"], 2)   # BBB on END has no exit

    def test_metrics_without_losses_without_gains_and_without_trades(self):
        r1 = {(s, b["date"]): trade_return(s, b["date"]) for s in ("AAA", "BBB") for _, b in window(s)}
        winners = [k for k, r in r1.items() if r is not None and r > 0][:5]
        losers = [k for k, r in r1.items() if r is not None and r < 0][:4]
        self.assertEqual((len(winners), len(losers)), (5, 4))
        empty = "function nothing(df) return {} end"
        one_day = self.args(EVERY_BAR, start="2024-02-01", end="2024-02-01")
        res = self.run_all(self.args(picks_code(winners), symbols=["AAA", "BBB"]),
                           self.args(picks_code(losers), symbols=["AAA", "BBB"]),
                           self.args(empty), one_day)
        win, lose, e1, day = (self.completed_data(r) for r in res)
        m = win["performance_metrics"]
        self.assertIsNone(m["profit_factor"])         # no losses: undefined
        self.assertEqual(m["win_rate"], 1.0)
        self.assertMetrics(m, metrics([r1[k] for k in winners]))
        self.assertEqual(win["summary"]["positive_signals"], 5)
        self.assertEqual(win["summary"]["winning_trades"], 5)
        m = lose["performance_metrics"]
        self.assertEqual(m["profit_factor"], 0.0)      # no gains
        self.assertEqual(m["win_rate"], 0.0)
        self.assertMetrics(m, metrics([r1[k] for k in losers]))
        self.assertEqual(lose["summary"]["positive_signals"], 0)
        self.assertEqual(lose["summary"]["winning_trades"], 0)
        no_trades = {"trades": 0, "total_return": None, "avg_return": None, "win_rate": None,
                     "median_return": None, "best": None, "worst": None, "profit_factor": None}
        for data in (e1,):   # an empty list is no signals (nil is an error: test_returning_nothing_is_an_error)
            self.assertEqual(data["instances"], [])
            self.assertEqual(data["performance_metrics"], no_trades)
            self.assertEqual(data["summary"]["total_instances"], 0)
            self.assertEqual(data["summary"]["positive_signals"], 0)
            self.assertEqual(data["summary"]["winning_trades"], 0)
            self.assertEqual(data["summary"]["data_shape"][0], sum(len(window(s)) for s in ("AAA", "BBB", "CCC")))
        # a one-day window: three instances, none can exit inside it
        self.assertEqual([(i["ticker"], i["date"], i["return"]) for i in day["instances"]],
                         [("AAA", "2024-02-01", None), ("BBB", "2024-02-01", None), ("CCC", "2024-02-01", None)])
        self.assertEqual(day["performance_metrics"], no_trades)
        self.assertEqual(day["summary"]["data_shape"][0], 3)
        self.assertEqual(day["summary"]["date_range"], ["2024-02-01", "2024-02-01"])

    # --- what the strategy sees ------------------------------------------
    def test_features_are_warmed_up_by_history_before_the_window(self):
        code = """
function first_rows(df)
  local out = {}
  for i = 1, df.n do
    if i == 1 or df.ticker[i] ~= df.ticker[i - 1] then
      out[#out + 1] = {ticker = df.ticker[i], date = df.date[i], sma_5 = df.sma_5[i], prev_close = df.prev_close[i],
                       gap_pct = df.gap_pct[i], volume_ratio = df.volume_ratio[i], return_pct = df.return_pct[i],
                       high_5 = df.high_5[i], k_sma_5 = sma(df.close, 5)[i]}
    end
  end
  return out
end
"""
        data = self.completed_data(self.run_all(self.args(code, symbols=["AAA", "BBB", "CCC"]))[0])
        self.assertEqual([(i["ticker"], i["date"]) for i in data["instances"]],
                         [("AAA", START), ("BBB", START), ("CCC", START)])
        # 14 named columns plus the parametric ones it used: sma_5 and high_5
        self.assertEqual(data["summary"]["data_shape"], [sum(len(window(s)) for s in ("AAA", "BBB", "CCC")), 16])
        for inst in data["instances"]:
            rows, k = BARS[inst["ticker"]], index_of(inst["ticker"], START)
            self.assertEqual(k, 26)  # 26 bars of warm-up
            closes = [b["close"] for b in rows]
            what = inst["ticker"]
            self.assertClose(inst["sma_5"], sum(closes[k - 4:k + 1]) / 5, what + " sma_5")
            self.assertEqual(inst["prev_close"], closes[k - 1])
            self.assertClose(inst["gap_pct"], 100 * (rows[k]["open"] / closes[k - 1] - 1), what + " gap_pct")
            self.assertClose(inst["return_pct"], 100 * (closes[k] / closes[k - 1] - 1), what + " return_pct")
            vols = [b["volume"] for b in rows]
            self.assertClose(inst["volume_ratio"], vols[k] / (sum(vols[k - 20:k]) / 20), what + " volume_ratio")
            self.assertEqual(inst["high_5"], max(b["high"] for b in rows[k - 4:k + 1]))
            # kernels see the window only: no 5 closes yet on its first row
            self.assertIsNone(inst["k_sma_5"])

    def test_kernels_restart_per_ticker(self):
        code = """
function kernels(df)
  local c, h, l = df.close, df.high, df.low
  local s1, s2, pc = shift(c, 1), shift(c, 2), pct_change(c, 1)
  local sma3, ema3, rsi3 = sma(c, 3), ema(c, 3), rsi(c, 3)
  local sd4, hi3, lo3, atr3 = stdev(c, 4), highest(h, 3), lowest(l, 3), atr(h, l, c, 3)
  local up, mid, lo = bbands(c, 4, 1.5)
  local up2, _, lo2 = bbands(c, 4)
  local xo, xu = crossover(c, sma3), crossunder(c, sma3)
  local xl = crossover(c, 21.5)
  local out = {}
  for i = 1, df.n do
    out[i] = {ticker = df.ticker[i], date = df.date[i], s1 = s1[i], s2 = s2[i], pc = pc[i], sma3 = sma3[i],
              ema3 = ema3[i], rsi3 = rsi3[i], sd4 = sd4[i], hi3 = hi3[i], lo3 = lo3[i], atr3 = atr3[i],
              up = up[i], mid = mid[i], lo = lo[i], up2 = up2[i], lo2 = lo2[i], xo = xo[i], xu = xu[i], xl = xl[i]}
  end
  return out
end
"""
        data = self.completed_data(self.run_all(self.args(code))[0])
        got = {}
        for inst in data["instances"]:
            got.setdefault(inst["ticker"], []).append(inst)
        self.assertEqual(sorted(got), ["AAA", "BBB", "CCC"])
        for sym, insts in got.items():
            w = [b for _, b in window(sym)]
            self.assertEqual([i["date"] for i in insts], [b["date"] for b in w])
            c, h, l = ([b[f] for b in w] for f in ("close", "high", "low"))
            self.assertIsNone(insts[0]["s1"])   # each ticker's first row: nothing before it
            self.assertIsNone(insts[1]["s2"])
            sma3, sd4 = k_sma(c, 3), k_pstdev(c, 4)
            mid4 = k_sma(c, 4)
            want = {"s1": k_shift(c, 1), "s2": k_shift(c, 2), "pc": k_pct_change(c, 1), "sma3": sma3,
                    "ema3": k_ema(c, 3), "rsi3": k_rsi(c, 3), "sd4": sd4, "hi3": k_highest(h, 3),
                    "lo3": k_lowest(l, 3), "atr3": k_atr(h, l, c, 3), "mid": mid4,
                    "up": [m + 1.5 * s for m, s in zip(mid4, sd4)], "lo": [m - 1.5 * s for m, s in zip(mid4, sd4)],
                    "up2": [m + 2 * s for m, s in zip(mid4, sd4)], "lo2": [m - 2 * s for m, s in zip(mid4, sd4)]}
            for key, values in want.items():
                for t, (inst, v) in enumerate(zip(insts, values)):
                    self.assertClose(inst[key], v, f"{sym} {key}[{t}]", rel=1e-9)
            self.assertEqual([i["xo"] for i in insts], k_cross(c, sma3, True), sym + " crossover")
            self.assertEqual([i["xu"] for i in insts], k_cross(c, sma3, False), sym + " crossunder")
            self.assertEqual([i["xl"] for i in insts], k_cross(c, [21.5] * len(c), True), sym + " crossover level")
        self.assertTrue(any(i["xo"] for i in data["instances"]) and any(i["xu"] for i in data["instances"]))

    def test_element_wise_kernels(self):
        """gt, ge, lt, le compare row by row (NaN: false, as in pandas), a
        number on either side; where picks per row from arrays or numbers."""
        code = """
function f(df)
  local c, m = df.close, sma(df.close, 3)
  local g, ge_, l, le_ = gt(c, m), ge(c, 21.5), lt(m, c), le(21.5, c)
  local w, wn = where(g, c, m), where(crossover(c, m), 1, 0)
  local out = {}
  for i = 1, df.n do
    out[i] = {ticker = df.ticker[i], date = df.date[i], c = c[i], m = m[i], g = g[i], ge = ge_[i], l = l[i],
              le = le_[i], w = w[i], wn = wn[i]}
  end
  return out
end
"""
        data = self.completed_data(self.run_all(self.args(code))[0])
        rows = data["instances"]
        self.assertGreater(len(rows), 20)
        for r in rows:
            c, m = r["c"], r["m"]
            self.assertEqual(r["g"], m is not None and c > m, r)
            self.assertEqual(r["l"], m is not None and m < c, r)
            self.assertEqual(r["ge"], c >= 21.5, r)
            self.assertEqual(r["le"], 21.5 <= c, r)
            self.assertEqual(r["w"], c if r["g"] else m, r)
            self.assertIn(r["wn"], (0, 1))
        self.assertTrue(any(r["g"] for r in rows) and not all(r["g"] for r in rows))
        self.assertTrue(any(r["m"] is None for r in rows), "the NaN case is not exercised")
        self.assertTrue(any(r["wn"] == 1 for r in rows))

    def test_element_wise_kernels_refuse_what_they_cannot_read(self):
        cases = [
            ("where(df.close, 1, 0)", "where: the condition's row 1 is number, not a boolean (make it with gt, ge, "
             "lt, le, crossover or crossunder)"),
            ("where({true}, 1, 0)", "where: the condition has 1 values but df has "),
            ("gt(1, 2)", "gt: one side must be an array of df's rows (both are numbers)"),
            ("lt(df.close, 'x')", "lt: argument 2 must be an array of df's rows or a number, got string"),
            ("where(gt(df.close, 1), {1, 2}, 0)", "where: the array has 2 values but df has "),
        ]
        res = self.run_all(*(self.args(f"function f(df)\n  local x = {call}\n  return {{}}\nend\n",
                                        symbols=["AAA"]) for call, _ in cases))
        for (call, want), r, jid in zip(cases, res, self.last_ids):
            with self.subTest(call=call):
                self.assertIn("Strategy error: strategy:2: " + want, self.permanent_error(r, jid))

    def test_kernels_skip_leading_nans(self):
        """Kernels start where their input does (feature.h: leading NaNs are
        skipped), so stdev of pct_change, or rsi and atr of shifted bars,
        are defined once enough values exist, as sma and ema are."""
        code = """
function derived(df)
  local p = pct_change(df.close, 1)
  local sc, sh, sl = shift(df.close, 1), shift(df.high, 1), shift(df.low, 1)
  local sma4, ema4, sd4 = sma(p, 4), ema(p, 4), stdev(p, 4)
  local up, mid, lo = bbands(p, 4)
  local rsi3, atr3 = rsi(sc, 3), atr(sh, sl, sc, 3)
  local out = {}
  for i = 1, df.n do
    out[i] = {ticker = df.ticker[i], date = df.date[i], sma4 = sma4[i], ema4 = ema4[i], sd4 = sd4[i],
              up = up[i], mid = mid[i], lo = lo[i], rsi3 = rsi3[i], atr3 = atr3[i]}
  end
  return out
end
"""
        data = self.completed_data(self.run_all(self.args(code, symbols=["AAA", "BBB"]))[0])
        wrong = []
        for sym in ("AAA", "BBB"):
            insts = [i for i in data["instances"] if i["ticker"] == sym]
            w = [b for _, b in window(sym)]
            self.assertEqual(len(insts), len(w))
            c, h, l = ([b[f] for b in w] for f in ("close", "high", "low"))
            p = k_pct_change(c, 1)[1:]   # defined from the second row

            def lead(values):
                return [NAN] + values
            sd4, mid4 = lead(k_pstdev(p, 4)), lead(k_sma(p, 4))
            want = {"sma4": mid4, "ema4": lead(k_ema(p, 4)), "sd4": sd4, "mid": mid4,
                    "up": [m + 2 * s for m, s in zip(mid4, sd4)], "lo": [m - 2 * s for m, s in zip(mid4, sd4)],
                    "rsi3": lead(k_rsi(c[:-1], 3)), "atr3": lead(k_atr(h[:-1], l[:-1], c[:-1], 3))}
            for key, values in want.items():
                got = [i[key] for i in insts]
                if not all(close(g, v, 1e-9) for g, v in zip(got, values)):
                    wrong.append(f"{sym} {key}" + (" (never defined)" if got.count(None) == len(got) else ""))
        self.assertFalse(wrong, "kernels that do not start where their input does: " + ", ".join(wrong))

    def test_entry_chooses_among_several_functions(self):
        two = """
local function helper(df, i) return {ticker = df.ticker[i], date = df.date[i]} end
function first_row(df) return {helper(df, 1)} end
function last_row(df) return {helper(df, df.n)} end
"""
        one = """
local function helper(df, i) return {ticker = df.ticker[i], date = df.date[i], via = "helper"} end
local scale = 2
function only(df) return {helper(df, scale)} end
"""
        res = self.run_all(self.args(two, symbols=["AAA"]),
                           self.args(two, symbols=["AAA"], entry="first_row"),
                           self.args(two, symbols=["AAA"], entry="last_row"),
                           self.args(two, symbols=["AAA"], entry="nope"),
                           self.args(one, symbols=["AAA"]))
        ids = self.last_ids
        err = self.permanent_error(res[0], ids[0])
        self.assertTrue(err.startswith("Strategy error: "), err)
        self.assertIn("first_row", err)
        self.assertIn("last_row", err)
        self.assertIn("entry", err)
        first = self.completed_data(res[1])["instances"]
        self.assertEqual([(i["ticker"], i["date"]) for i in first], [("AAA", START)])
        self.assertClose(first[0]["return"], trade_return("AAA", START))
        last = self.completed_data(res[2])["instances"]
        self.assertEqual([(i["ticker"], i["date"], i["return"]) for i in last], [("AAA", END, None)])
        err = self.permanent_error(res[3], ids[3])
        self.assertTrue(err.startswith("Strategy error: "), err)
        self.assertIn("nope", err)
        only = self.completed_data(res[4])["instances"]
        self.assertEqual([(i["ticker"], i["date"], i["via"]) for i in only], [("AAA", "2024-01-03", "helper")])

    def test_print_does_not_corrupt_the_result(self):
        code = """
function noisy(df)
  print('{"status":"completed","data":{"success":false}}')
  print("\\0\\255\\254 not utf-8", 1, nil, true)
  for i = 1, 3000 do print(string.rep("x", 40) .. i) end
  local out = {}
  for i = 1, df.n do out[#out + 1] = {ticker = df.ticker[i], date = df.date[i]} end
  print("done")
  return out
end
"""
        data = self.completed_data(self.run_all(self.args(code, symbols=["AAA", "BBB"]))[0])
        want = [(s, b["date"]) for s in ("AAA", "BBB") for _, b in window(s)]
        self.assertEqual([(i["ticker"], i["date"]) for i in data["instances"]], want)
        for i in data["instances"]:
            self.assertClose(i["return"], trade_return(i["ticker"], i["date"]))
        self.assertTrue(data["success"])
        self.assertEqual(data["summary"]["total_instances"], len(want))
        out = data["strategy_output"]   # what it printed, kept apart from the result, up to 64 KiB
        self.assertTrue(out.startswith('{"status":"completed","data":{"success":false}}\n'), out[:200])
        self.assertIn(" not utf-8\t1\tnil\ttrue\n" + "x" * 40 + "1\n", out)
        self.assertLessEqual(len(out), 64 * 1024)
        self.assertGreater(len(out), 60 * 1024)
        self.assertIs(data["strategy_output_truncated"], True)  # 3,000 lines of 44 bytes did not fit
        quiet = self.completed_data(self.run_all(self.args("function q(df) print('hi') return {} end"))[0])
        self.assertEqual(quiet["strategy_output"], "hi\n")
        self.assertNotIn("strategy_output_truncated", quiet)

    def test_no_heap_address_reaches_a_strategy(self):
        """tostring, print and string.format's %s and %p name tables,
        functions and coroutines as "table: #1" (numbered in order of first
        naming, stable for the evaluation), never by address; __tostring and
        __name still count (docs/strategies.md)."""
        code = """
function names(df)
  local t, u, f = {}, {}, function() end
  local co = coroutine.create(function() end)
  local named = setmetatable({}, {__name = "Basket"})
  local shown = setmetatable({}, {__tostring = function() return "my table" end})
  print(tostring(t), tostring(u), tostring(t), tostring(f), tostring(print), tostring(co))
  print(t, f, co, sma, df, io, os, string, named, shown, coroutine.running())
  print(string.format("%s|%p|%-12s|%12p|%p|%p|%p", t, t, f, u, 42, "text", nil))
  print(("%s %p"):format(named, shown), string.format("%%p %d", 7))
  return {}
end
"""
        data = self.completed_data(self.run_all(self.args(code, symbols=["AAA"]))[0])
        out = data["strategy_output"]
        self.assertNotIn("0x", out)
        self.assertIsNone(re.search(r"[0-9a-fA-F]{8,}", out), out)
        self.assertEqual(out.splitlines(), [
            "table: #1\ttable: #2\ttable: #1\tfunction: #3\tfunction: builtin #4\tthread: #5",
            "table: #1\tfunction: #3\tthread: #5\tfunction: builtin #6\ttable: #7\ttable: #8\ttable: #9"
            "\ttable: #10\tBasket: #11\tmy table\tthread: #12\ttrue",
            "table: #1|table: #1|function: #3|   table: #2|(null)|(null)|(null)",
            "Basket: #11 table: #13\t%p 7",
        ])

    def test_random_reveals_no_address_and_differs_per_run(self):
        """math.randomseed returns nothing (Lua 5.4 returns the seed, which
        without arguments holds the state's address), and math.random is
        seeded afresh in every run: warm runs on one worker child (forks of
        one state) used to draw the same numbers."""
        code = """
function draws(df)
  print(select('#', math.randomseed()), select('#', math.randomseed(7)))
  math.randomseed(42)
  local fixed = math.random(0)
  print(fixed)
  return {}
end
function fresh(df)
  print(math.random(0), math.random(1, 1000000))
  return {}
end
"""
        seeded = self.completed_data(self.run_all(self.args(code, symbols=["AAA"], entry="draws"))[0])["strategy_output"]
        lines = seeded.splitlines()
        self.assertEqual(lines[0], "0\t0")
        again = self.completed_data(self.run_all(self.args(code, symbols=["AAA"], entry="draws"))[0])["strategy_output"]
        self.assertEqual(again.splitlines()[1], lines[1], "math.randomseed(42) is deterministic")
        outs = [self.completed_data(r)["strategy_output"] for r in self.run_all(*[self.args(code, symbols=["AAA"],
                                                                               entry="fresh")
                                                                     for _ in range(4)])]
        self.assertEqual(len(set(outs)), 4, outs)

    def test_a_finalizer_reading_columns_while_one_is_built_changes_nothing(self):
        """A __gc finalizer that runs while df builds a column, and reads
        over a thousand other columns (evicting the one being built from the
        bounded feature frame), must not change the column's values: the
        column used to be read after its memory was freed and reused (a
        reviewer's probe, found ema_56 row 30 = nan). The strategy first
        makes about 140 MB of garbage: the collector is held for a run's
        first 64 MB (strategy_state.c), and the finalizers must run."""
        code = r'''
function probe(df)
  for i = 1, 70000 do local s = string.rep("g", 1000) .. i end
  local idx = getmetatable(df).__index
  local names = {}
  for _, fam in ipairs({"sma_", "ema_", "rsi_", "atr_"}) do
    for i = 2, 1000 do names[#names + 1] = fam .. i end
  end
  local pos, armed, fired = 1, false, 0
  local function sweep()
    for k = 1, 1100 do
      idx({}, names[pos]); pos = pos % #names + 1
    end
  end
  local function arm()
    setmetatable({}, {__gc = function() if armed then armed = false; fired = fired + 1; sweep() end end})
  end
  local bad, tries = 0, 0
  local first
  for j = 1, 3000 do
    for k = 1, 20 do arm() end
    local nm = names[pos]; pos = pos % #names + 1
    local arg = {}
    armed = true
    local col = idx(arg, nm)
    armed = false
    tries = tries + 1
    local again = idx({}, nm)
    for r = 1, df.n do
      local a, b = col[r], again[r]
      if not (a == b or (a ~= a and b ~= b)) then
        bad = bad + 1
        if not first then first = string.format("%s row %d: got %a (%.17g) want %a", nm, r, a, a, b) end
      end
    end
    if bad > 0 then break end
  end
  print("fired", fired, "tries", tries, "bad", bad, first)
  return {}
end
'''
        data = self.completed_data(self.run_all(self.args(code, symbols=["AAA", "BBB", "CCC", "DDD"], memory_mb=512,
                                              strategy_timeout_seconds=120))[0])
        out = data["strategy_output"].split()
        self.assertEqual(out[0:2], ["fired", out[1]])
        self.assertGreater(int(out[1]), 0, "the finalizer never ran: the test proves nothing")
        self.assertEqual(out[4:6], ["bad", "0"], data["strategy_output"])

    def test_kernel_arguments_show_the_number_given(self):
        """A kernel's window or k out of range, a fraction or not a number
        is refused with the value as given (1e12 used to read
        -727379968)."""
        cases = [
            ("sma(df.close, 1e12)", "sma: the window must be a whole number from 2 to 1000, got 1000000000000"),
            ("ema(df.close, 2.5)", "ema: the window must be a whole number from 2 to 1000, got 2.5"),
            ("rsi(df.close, -4294967296)", "rsi: the window must be a whole number from 2 to 1000, "
             "got -4294967296"),
            ("atr(df.high, df.low, df.close, 1001)", "atr: the window must be a whole number from 2 to 1000, "
             "got 1001"),
            ("bbands(df.close, 'x')", "bbands: the window must be a whole number from 2 to 1000, "
             "got the string \"x\""),
            ("highest(df.close)", "highest: the window must be a whole number from 2 to 1000, got nothing"),
            ("shift(df.close, 1e300)", "shift: k must be a whole number from 0 to 100000, got 1e+300"),
            ("pct_change(df.close, 0)", "pct_change: k must be a whole number from 1 to 100000, got 0"),
            ("lowest(df.close, {})", "lowest: the window must be a whole number from 2 to 1000, got table"),
        ]
        res = self.run_all(*(self.args(f"function f(df)\n  local x = {call}\n  return {{}}\nend\n",
                                        symbols=["AAA"]) for call, _ in cases))
        for (call, want), r, jid in zip(cases, res, self.last_ids):
            with self.subTest(call=call):
                self.assertEqual(self.permanent_error(r, jid), "Strategy error: strategy:2: " + want)
        ok = "function f(df)\n  local a, b = sma(df.close, 3.0), shift(df.close)\n  return {}\nend\n"
        self.completed_data(self.run_all(self.args(ok, symbols=["AAA"]))[0])

    def test_bar_cache_sees_reimported_bars(self):
        db = os.path.join(self.tmp, "cache.db")
        env = {"TICKQ_DB": db, "DATABASE_URL": None}
        rows = [("XYZ", "2024-01-02", 10, 11, 9, 10.5, 100),
                ("XYZ", "2024-01-03", 10.5, 12, 10, 11, 100),
                ("XYZ", "2024-01-04", 11, 12, 10, 11.5, 100)]
        path = write_bars_csv(os.path.join(self.tmp, "cache.csv"), rows)
        self.assertEqual(tickq("data", "import", path, env=env).returncode, 0)
        code = ("function f(df) local out = {} for i = 1, df.n do "
                "out[i] = {ticker = df.ticker[i], date = df.date[i], close = df.close[i], sma_2 = df.sma_2[i]} "
                "end return out end")
        args = self.args(code, symbols=["XYZ"], start="2024-01-02", end="2024-01-04")
        w = self.worker("--workers", "1", env=env)
        first = self.enqueue("backtest", args)
        self.wait_state(first, FINAL)
        rows[1] = ("XYZ", "2024-01-03", 10.5, 13, 10, 12.5, 100)
        write_bars_csv(path, rows)
        self.assertEqual(tickq("data", "import", path, env=env).returncode, 0)
        second = self.enqueue("backtest", args)
        self.wait_state(second, FINAL)
        a, b = self.completed_data(self.result(first)), self.completed_data(self.result(second))
        self.assertEqual([i["close"] for i in a["instances"]], [10.5, 11, 11.5])
        self.assertEqual([i["close"] for i in b["instances"]], [10.5, 12.5, 11.5])
        self.assertClose(b["instances"][1]["sma_2"], (10.5 + 12.5) / 2)
        self.assertClose(b["instances"][0]["return"], 12.5 / 10.5 - 1)
        self.assertEqual(a["worker_id"], b["worker_id"])  # the same worker child, its cache refreshed
        self.assertIsNone(w.proc.poll())

    # --- errors ------------------------------------------------------------
    def test_argument_errors_are_permanent(self):
        py_def = "def strategy(df):\n    return df[df.gap_pct > 2]\n"
        py_doc = ('def strategy(df):\n    """Signal function: buy when the trend turns up."""\n'
                  '    return df[df.close > df.sma_20]\n')
        cases = [
            (self.args(EVERY_BAR, symbols=["AAA", "ZZZ"]), lambda e: "unknown symbols" in e and "ZZZ" in e
             and "AAA" not in e),
            (self.args(EVERY_BAR, start="2023-06-01", end="2023-06-30"),
             lambda e: "no 1d bars between 2023-06-01 and 2023-06-30" in e),
            (self.args(EVERY_BAR, start="2024-01-06", end="2024-01-07"),   # a weekend
             lambda e: "no 1d bars between 2024-01-06 and 2024-01-07" in e),
            (self.args(EVERY_BAR, symbols=["DDD"]), lambda e: f"no 1d bars between {START} and {END}" in e),
            (self.args(EVERY_BAR, start=END, end=START), lambda e: "start_date" in e and "after" in e),
            ({"symbols": ["AAA"], "start_date": START, "end_date": END}, lambda e: "strategy_code" in e),
            (self.args(""), lambda e: "strategy_code" in e),
            # Python (detected, or named): a DataFrame is not a list of instances
            (self.args(py_def), lambda e: e.startswith("Strategy error: the strategy returned a DataFrame")),
            (self.args(py_doc), lambda e: e.startswith("Strategy error: the strategy returned a DataFrame")),
            (self.args(EVERY_BAR, language="python"), lambda e: e == "Strategy syntax error: line 2: invalid syntax"),
            (self.args(EVERY_BAR, symbols=[]), lambda e: "symbols" in e),
            (self.args(EVERY_BAR, hold_bars=0), lambda e: "hold_bars" in e),
            (self.args(EVERY_BAR, commission_bps=-1), lambda e: "commission_bps" in e),
        ]
        res = self.run_all(*(a for a, _ in cases), unchecked=True)
        for (a, check), r, jid in zip(cases, res, self.last_ids):
            with self.subTest(args=json.dumps(a)[:160]):
                err = self.permanent_error(r, jid)
                self.assertTrue(check(err), err)
        # What the task's table refuses, `tickq enqueue` refuses too, with the
        # worker's words.
        for (a, check), r in list(zip(cases, res))[4:]:
            p = self.tickq("enqueue", "backtest", json.dumps(a))
            if p.returncode == 0:
                self.assertRegex(r["data"]["error"], "^Strategy (syntax )?error: ")    # a run-time refusal
            else:
                self.assertEqual(p.returncode, 65)
                self.assertIn(r["data"]["error"], p.stderr)

    def test_strategy_errors_are_permanent_and_name_the_line(self):
        syntax = "function f(df)\n  local x = 1\n  local y = = 2\n  return {}\nend\n"
        runtime = "function f(df)\n  local t = nil\n  -- the next line fails\n  return t.field\nend\n"
        raised = "function f(df)\n\n  error('no signals today')\nend\n"
        column = "function f(df)\n  local a = df.close\n  local b = df.sma_1\n  return {}\nend\n"
        kernel = "function f(df)\n  return sma(df.close,\n 1) end\n"
        top_level = "local x = nil\nlocal y = x.boom\nfunction f(df) return {} end\n"
        cases = [
            (syntax, lambda e: ":3:" in e and "syntax" in e.lower()),
            (runtime, lambda e: e.startswith("Strategy error: ") and ":4:" in e and "nil" in e),
            (raised, lambda e: e.startswith("Strategy error: ") and ":3:" in e and "no signals today" in e),
            (column, lambda e: e.startswith("Strategy error: ") and ":3:" in e and "sma_1" in e),
            (kernel, lambda e: e.startswith("Strategy error: ") and "sma" in e and ":2:" in e),
            (top_level, lambda e: e.startswith("Strategy error: ") and ":2:" in e),
            ("local x = 1\n", lambda e: e.startswith("Strategy error: ") and "function" in e),
            ("function f(df) return 42 end", lambda e: e.startswith("Strategy error: ")),
            ("function f(df) return {1, 2} end", lambda e: e.startswith("Strategy error: ")),
            ("function f(df) return {{ticker = 'AAA', date = '2024-01-03', fn = print}} end",
             lambda e: e.startswith("Strategy error: ")),
        ]
        res = self.run_all(*(self.args(code, symbols=["AAA"]) for code, _ in cases))
        for (code, check), r, jid in zip(cases, res, self.last_ids):
            with self.subTest(code=code):
                err = self.permanent_error(r, jid)
                self.assertTrue(check(err), err)

    def test_malformed_instances_are_errors_naming_the_instance_and_key(self):
        """A signal without a well-formed ticker or date is the strategy's
        error, naming the instance and the key; it is never counted among
        the ignored instances (those are well-formed signals that are not a
        bar of the window: test_instances_outside_the_window_are_not_signals)."""
        ok = "{ticker = 'AAA', date = '2024-01-03'}"

        def returning(*insts):
            return "function f(df) return {" + ", ".join(insts) + "} end"
        cases = [
            (returning("{symbol = 'AAA', date = '2024-01-03', signal = true}"),
             "Strategy error: instance 1 has no 'ticker' (it has: date, signal, symbol)"),
            (returning(ok, ok, "{ticker = 'AAA'}"), "Strategy error: instance 3 has no 'date' (it has: ticker)"),
            (returning(ok, "{}"), "Strategy error: instance 2 has no 'ticker' (it has: no fields)"),
            (returning("{ticker = 42, date = '2024-01-03'}"),
             "Strategy error: instance 1: 'ticker' is a number, not a string (a symbol such as df.ticker[i])"),
            (returning("{ticker = '', date = '2024-01-03'}"),
             "Strategy error: instance 1: 'ticker' is an empty string (a symbol such as df.ticker[i])"),
            (returning(ok, "{ticker = 'AAA', date = '2024-13-45'}"),
             "Strategy error: instance 2: 'date' is \"2024-13-45\", not an ISO 8601 date such as df.date[i]"),
            (returning("{ticker = 'AAA', date = '03/01/2024'}"),
             "Strategy error: instance 1: 'date' is \"03/01/2024\", not an ISO 8601 date such as df.date[i]"),
            (returning("{ticker = 'AAA', date = os.time()}"),
             "Strategy error: instance 1: 'date' is a number, not a string (an ISO 8601 date such as df.date[i])"),
            ("function f(df) return {{ticker = df.ticker[1], date = df.date}} end",
             "Strategy error: instance 1: 'date' is a table, not a string (an ISO 8601 date such as df.date[i])"),
            # a value the result cannot hold is named by its place, as Python's are
            (returning("{ticker = 'AAA', date = '2024-01-03', v = {1, 2, x = 3}}"),
             "Strategy error: instance 1 key 'v' has a key 1 that is not a string"),
            (returning(ok, "{ticker = 'AAA', date = '2024-01-04', v = {{w = {f = print}}}}"),
             "Strategy error: instance 2 key 'v'[1]['w']['f'] holds a function; results hold numbers, strings, "
             "booleans and tables"),
            # a side that is neither long nor short is never taken as long
            (returning(ok, "{ticker = 'AAA', date = '2024-01-04', side = 'sideways'}"),
             'Strategy error: instance 2: side must be "long" or "short" (or left out: long), got "sideways"'),
            (returning("{ticker = 'AAA', date = '2024-01-03', side = -1}"),
             'Strategy error: instance 1: side must be "long" or "short" (or left out: long), got number'),
            (returning("{ticker = 'AAA', date = '2024-01-03', side = 'SHORT'}"),
             'Strategy error: instance 1: side must be "long" or "short" (or left out: long), got "SHORT"'),
        ]
        res = self.run_all(*(self.args(code, symbols=["AAA"]) for code, _ in cases))
        for (code, want), r, jid in zip(cases, res, self.last_ids):
            with self.subTest(code=code):
                self.assertEqual(self.permanent_error(r, jid), want)

    def test_returning_nothing_is_an_error(self):
        """nil (a forgotten `return`) is an error saying so; {} is no signals."""
        want = "Strategy error: the strategy returned nothing (nil): did it forget 'return instances'? " \
               "(return {} for no signals)"
        forgot = "function f(df)\n  local out = {}\n  out[1] = {ticker = df.ticker[1], date = df.date[1]}\nend\n"
        res = self.run_all(self.args("function f(df) return nil end"), self.args(forgot),
                           self.args("function f(df) return {} end"))
        for r, jid in zip(res[:2], self.last_ids):
            self.assertEqual(self.permanent_error(r, jid), want)
        self.assertEqual(self.completed_data(res[2])["instances"], [])

    def test_print_output_comes_back_when_the_strategy_fails(self):
        """What the strategy printed is in the error result's data as
        strategy_output (the error text itself stays as it was, in the
        result and the job record), whatever ended it."""
        flood = "function f(df) for i = 1, 3000 do print(string.rep('z', 40)) end error('gave up') end"
        cases = [
            ("runtime", "function f(df)\n  print('rows', df.n)\n  local t = nil\n  return t.x\nend\n", {},
             lambda e: e.startswith("Strategy error: strategy:4:"), "rows\t%d\n" % len(window("AAA"))),
            ("contract", "function f(df) print('one signal') return {{symbol = 'AAA', date = '2024-01-03'}} end", {},
             lambda e: "instance 1 has no 'ticker'" in e, "one signal\n"),
            ("nil", "function f(df) print('forgot to return') end", {},
             lambda e: "returned nothing (nil)" in e, "forgot to return\n"),
            ("time", "function f(df) print('spinning') while true do end end", {"strategy_timeout_seconds": 1},
             lambda e: e == "Strategy exceeded time limit (1 s)", "spinning\n"),
            ("memory", "function f(df) print('growing') local t = {} for i = 1, 1e9 do t[i] = {i} end end",
             {"memory_mb": 64}, lambda e: e == "Strategy exceeded memory limit (64 MiB)", "growing\n"),
            ("flood", flood, {}, lambda e: "gave up" in e, None),
        ]
        res = self.run_all(*(self.args(code, symbols=["AAA"], **extra) for _, code, extra, _, _ in cases))
        for (name, _, _, check, printed), r, jid in zip(cases, res, self.last_ids):
            with self.subTest(case=name):
                err = self.permanent_error(r, jid)
                self.assertTrue(check(err), err)
                self.assertEqual(self.job(jid)["error"], err)   # the record holds the error text alone
                out = r["data"]["strategy_output"]
                if printed is not None:
                    self.assertEqual(out, printed)
                    self.assertNotIn("strategy_output_truncated", r["data"])
                else:   # the first 64 KiB of it
                    self.assertEqual(out, (("z" * 40 + "\n") * 3000)[:len(out)])
                    self.assertGreater(len(out), 60 * 1024)
                    self.assertLessEqual(len(out), 64 * 1024)
                    self.assertIs(r["data"]["strategy_output_truncated"], True)
        # a failure that printed nothing has no strategy_output
        quiet = self.run_all(self.args("function f(df) error('quiet') end", symbols=["AAA"]))[0]
        self.assertNotIn("strategy_output", quiet["data"])

    # --- the look-ahead check ------------------------------------------------
    PEEK = """
function peek(df)
  local out = {}
  local t, c = df.ticker, df.close
  for i = 1, df.n - 1 do
    if t[i + 1] == t[i] and c[i + 1] > c[i] then   -- tomorrow's close: look-ahead
      out[#out + 1] = {ticker = t[i], date = df.date[i], close = c[i]}
    end
  end
  return out
end
"""

    CLEAN = """
function clean(df)
  local out = {}
  local c = df.close
  local s5, r3, prev, hi3 = sma(c, 5), rsi(c, 3), shift(c, 1), highest(df.high, 3)
  local up, mid, lo = bbands(c, 4)
  local cross = crossover(c, s5)
  for i = 1, df.n do
    if c[i] > s5[i] or cross[i] then
      out[#out + 1] = {ticker = df.ticker[i], date = df.date[i], sma_5 = df.sma_5[i], k_sma = s5[i], rsi = r3[i],
                       prev = prev[i], hi3 = hi3[i], up = up[i], gap = df.gap_pct[i], vr = df.volume_ratio[i],
                       macd = df.macd[i], tag = {df.ticker[i], c[i]}}
    end
  end
  return out
end
"""

    @staticmethod
    def expected_cuts(signal_dates, end, symbols=("AAA", "BBB", "CCC")):
        """The documented sample, before the frame's last date: up to 10 of
        the distinct signal dates and up to 10 of the frame's other dates (a
        half with fewer leaves its share to the other), each evenly spaced
        with integer arithmetic, first and last included; sorted."""
        return sample_cuts({x for x in signal_dates if x < end},
                           {b["date"] for s in symbols for _, b in window(s) if b["date"] < end})

    def test_lookahead_check_names_the_signals_that_peek(self):
        syms = ("AAA", "BBB", "CCC")
        res = self.run_all(self.args(self.PEEK, check_lookahead=True), self.args(self.PEEK, check_lookahead=True),
                           self.args(self.PEEK))
        first, second, plain = (self.completed_data(r) for r in res)
        self.assertNotIn("lookahead", plain)
        # the full run: every bar whose next close (in the window) is higher
        signals = {}
        for sym in syms:
            w = window(sym)
            for (k, b), (_, nxt) in zip(w, w[1:]):
                if nxt["close"] > b["close"]:
                    signals[(sym, b["date"])] = nxt
        self.assertEqual({(i["ticker"], i["date"]) for i in first["instances"]}, set(signals))
        cuts = self.expected_cuts([d for _, d in signals], END)
        self.assertEqual(len(cuts), 20)
        la = first["lookahead"]
        self.assertEqual(set(la), {"checked", "cut_dates", "violations", "violations_total", "execution_time_ms"})
        self.assertEqual(la["checked"], 20)
        self.assertEqual(la["cut_dates"], cuts)
        self.assertEqual(second["lookahead"]["cut_dates"], cuts)   # the same sample on every run
        # Cut at D, the signal on D itself disappears (tomorrow is not in
        # the data any more); every earlier signal stays as it was.
        want = sorted((d, sym, d, "missing") for d in cuts for sym in syms if (sym, d) in signals)
        got = sorted((v["cut_date"], v["ticker"], v["date"], v["what"]) for v in la["violations"])
        self.assertEqual(got, want)
        self.assertEqual(la["violations_total"], len(want))
        self.assertEqual(second["lookahead"]["violations"], la["violations"])
        # the backtest itself is the same with or without the check
        self.assertEqual(first["instances"], plain["instances"])
        self.assertEqual(first["summary"], plain["summary"])

    def test_lookahead_check_passes_a_clean_strategy(self):
        """Features, kernels (sma, rsi, shift, highest, bbands, crossover)
        and nested fields: nothing changes when later bars are removed."""
        data = self.completed_data(self.run_all(self.args(self.CLEAN, check_lookahead=True))[0])
        self.assertGreater(len(data["instances"]), 40)
        la = data["lookahead"]
        self.assertEqual(la["checked"], 20)
        self.assertEqual(la["violations"], [])
        self.assertEqual(la["violations_total"], 0)
        dates = [i["date"] for i in data["instances"]]
        self.assertEqual(la["cut_dates"], self.expected_cuts(dates, END))

    SUPPRESS = """
function suppress(df)
  local out = {}
  local t, c = df.ticker, df.close
  for i = 1, df.n do
    -- tomorrow's close drops the losers; the last bar has no tomorrow
    local nxt = (i < df.n and t[i + 1] == t[i]) and c[i + 1] or nil
    if not (nxt and nxt < c[i]) then out[#out + 1] = {ticker = t[i], date = df.date[i]} end
  end
  return out
end
"""

    def test_lookahead_check_finds_signals_that_later_bars_suppressed(self):
        """The opposite cheat: the future filters losing signals out. At a
        signal date nothing changes when the later bars go (the guard lets
        the last bar through); at a date the future suppressed, the cut run
        has a signal the full run does not. One symbol, so no other ticker's
        dates can find it by chance."""
        data = self.completed_data(self.run_all(self.args(self.SUPPRESS, symbols=["AAA"], check_lookahead=True))[0])
        w = [b for _, b in window("AAA")]
        suppressed = {a["date"] for a, b in zip(w, w[1:]) if b["close"] < a["close"]}
        kept = {b["date"] for b in w} - suppressed
        self.assertEqual({i["date"] for i in data["instances"]}, kept)
        self.assertTrue(suppressed)
        la = data["lookahead"]
        cuts = self.expected_cuts(kept, END, symbols=("AAA",))
        self.assertEqual(la["cut_dates"], cuts)
        want = sorted((d, "AAA", d, "extra") for d in cuts if d in suppressed)
        self.assertTrue(want)
        self.assertEqual(sorted((v["cut_date"], v["ticker"], v["date"], v["what"]) for v in la["violations"]), want)
        self.assertEqual(la["violations_total"], len(want))

    def test_a_cut_hides_every_later_bar_from_the_strategy(self):
        """df.n, the length of a column and of a kernel's array are those of
        the cut frame: a strategy that reports them is flagged at every cut,
        with the full and the cut values. Violations are listed up to 100
        and all counted."""
        codes = ["function f(df) local out = {} for i = 1, df.n do out[i] = {ticker = df.ticker[i], "
                 "date = df.date[i], n = %s} end return out end" % n
                 for n in ("df.n", "#df.close", "#sma(df.close, 2)", "#df.sma_20")]
        res = self.run_all(*(self.args(code, check_lookahead=True) for code in codes))
        dates = sorted({b["date"] for s in ("AAA", "BBB", "CCC") for _, b in window(s)})
        cuts = self.expected_cuts(dates, END)
        rows = sum(len(window(s)) for s in ("AAA", "BBB", "CCC"))
        want = []
        for d in cuts:
            cut_rows = sum(1 for s in ("AAA", "BBB", "CCC") for _, b in window(s) if b["date"] <= d)
            want += [(d, s, b["date"], "changed", "n", rows, cut_rows)
                     for s in ("AAA", "BBB", "CCC") for _, b in window(s) if b["date"] <= d]
        for code, r in zip(codes, res):
            with self.subTest(code=code):
                la = self.completed_data(r)["lookahead"]
                self.assertEqual(la["cut_dates"], cuts)
                self.assertEqual(la["violations_total"], len(want))
                self.assertGreater(len(want), 100)
                self.assertEqual(len(la["violations"]), 100)
                got = [(v["cut_date"], v["ticker"], v["date"], v["what"], v["field"], v["full"], v["cut"])
                       for v in la["violations"]]
                self.assertEqual(got, want[:100])   # in cut order, then ticker and date

    def test_lookahead_errors_and_arguments(self):
        """A strategy that fails on the cut data (it indexes past the end of
        the cut window) is a violation naming the error; a check_lookahead
        that is not a boolean is refused."""
        code = """
function f(df)
  local out, last = {}, df.date[df.n]
  for i = 1, df.n do
    if df.date[i] == '2024-02-01' then out[#out + 1] = {ticker = df.ticker[i], date = df.date[i]} end
  end
  if last < '2024-03-01' then error('needs the whole window, has ' .. last) end
  return out
end
"""
        res = self.run_all(self.args(code, symbols=["AAA", "BBB"], check_lookahead=True),
                           self.args(EVERY_BAR, check_lookahead="yes"),
                           self.args(EVERY_BAR, check_lookahead=1), unchecked=True)
        la = self.completed_data(res[0])["lookahead"]
        cuts = self.expected_cuts(["2024-02-01"], END, symbols=("AAA", "BBB"))
        self.assertEqual(la["cut_dates"], cuts)
        self.assertIn("2024-02-01", cuts)
        # Every cut before March fails: the data it needs is gone.
        want = [{"cut_date": d, "what": "error", "error": f"Strategy error: strategy:7: needs the whole window, "
                 f"has {max(b['date'] for s in ('AAA', 'BBB') for _, b in window(s) if b['date'] <= d)}"}
                for d in cuts if d < "2024-03-01"]
        self.assertEqual(la["violations"], want)
        self.assertEqual(la["violations_total"], len(want))
        self.assertEqual(self.permanent_error(res[1], self.last_ids[1]), "check_lookahead must be true or false, got \"yes\"")
        self.assertEqual(self.permanent_error(res[2], self.last_ids[2]), "check_lookahead must be true or false, got 1")
        # The screening has no look-ahead check: the argument is refused there.
        p = self.tickq("enqueue", "screening", json.dumps({"strategy_code": EVERY_BAR, "universe": ["AAA"],
                                                           "check_lookahead": True}))
        self.assertEqual(p.returncode, 65)
        self.assertIn("unknown argument 'check_lookahead' (screening takes:", p.stderr)

    def test_lookahead_memory_failure_names_memory_mb(self):
        """A cut run that runs out of memory says so and names memory_mb
        (not the timeout): each cut run builds its columns afresh."""
        code = """
function f(df)
  if df.date[df.n] < '2024-03-01' then local s = string.rep('x', 100 * 1024 * 1024) end
  local out = {}
  for i = 1, df.n do out[i] = {ticker = df.ticker[i], date = df.date[i]} end
  return out
end
"""
        (res,) = self.run_all(self.args(code, symbols=["AAA"], check_lookahead=True, memory_mb=64))
        err = self.permanent_error(res, self.last_ids[0])
        self.assertTrue(err.startswith("look-ahead check: the re-run on the data cut at "), err)
        self.assertIn("Strategy exceeded memory limit (64 MiB); each re-run builds its columns afresh within "
                      "memory_mb: raise memory_mb, or drop check_lookahead", err)

    def test_lookahead_runs_share_the_jobs_time(self):
        """Each re-run counts against the job's timeout: a check that cannot
        finish in it fails with a clear, permanent error (not a killed job)."""
        slow = """
function f(df)
  local t0 = os.clock()
  while os.clock() - t0 < 0.4 do end
  local out = {}
  for i = 1, df.n do out[i] = {ticker = df.ticker[i], date = df.date[i]} end
  return out
end
"""
        jid = self.enqueue("backtest", self.args(slow, symbols=["AAA"], check_lookahead=True), "--timeout", "3")
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        err = self.permanent_error(self.result(jid), jid)
        self.assertTrue(err.startswith("look-ahead check: the re-run on the data cut at "), err)
        self.assertIn("Strategy exceeded time limit", err)
        self.assertIn("within the job's timeout (3 s)", err)

    # --- the sandbox ---------------------------------------------------------
    def test_hostile_strategies_then_a_healthy_job_on_the_same_worker(self):
        def security(what):
            return lambda e: e.startswith("Security validation failed: ") and what in e

        def timeout(e):
            return e == "Strategy exceeded time limit (1 s)"

        def memory(e):
            return e == "Strategy exceeded memory limit (64 MiB)"

        def stack(e):
            return e.startswith("Strategy error: ") and "stack overflow" in e

        def exact(text):
            return lambda e: e == text

        fast = {"strategy_timeout_seconds": 1}
        pwned = os.path.join(self.tmp, "pwned")
        small = {"memory_mb": 64}
        cases = [
            ("io.open", "function f(df) local h = io.open('/etc/passwd') return {} end", {}, security("io.open")),
            ("io.popen", "function f(df) io.popen('id') return {} end", {}, security("io.popen")),
            ("os.execute", f"function f(df) os.execute('touch {pwned}') return {{}} end", {},
             security("os.execute")),
            ("os.getenv", "function f(df) return {{ticker = 'AAA', date = '2024-01-03', v = os.getenv('HOME')}} end",
             {}, security("os.getenv")),
            ("os.exit", "function f(df) os.exit(0) end", {}, security("os.exit")),
            ("require", "function f(df) local m = require('io') return {} end", {}, security("require")),
            ("require, exactly", "function f(df) require('os') return {} end", {},
             exact("Security validation failed: require is not allowed")),
            ("dofile", "function f(df) dofile('/etc/passwd') return {} end", {},
             exact("Security validation failed: dofile is not allowed")),
            ("loadfile", "function f(df) local g = loadfile('/etc/passwd') return {} end", {},
             exact("Security validation failed: loadfile is not allowed")),
            ("collectgarbage", "function f(df) collectgarbage('stop') return {} end", {},
             exact("Security validation failed: collectgarbage is not allowed")),
            ("collectgarbage count", "function f(df) local kb = collectgarbage('count') return {} end", {},
             exact("Security validation failed: collectgarbage is not allowed")),
            ("package.loaded", "function f(df) local io2 = package.loaded.io return {} end", {},
             exact("Security validation failed: package.loaded is not allowed")),
            ("package.loadlib", "function f(df) package.loadlib('libc.so.6', 'system') return {} end", {},
             exact("Security validation failed: package.loadlib is not allowed")),
            ("load binary", "function f(df) local g = load('\\27LuaT\\0\\25\\147\\r\\n\\26\\n') return {} end", {},
             security("binary")),
            ("string.dump", "function f(df) local s = string.dump(f) return {} end", {}, security("string.dump")),
            ("debug.sethook", "function f(df) debug.sethook() return {} end", {}, security("debug.sethook")),
            ("caught violation", "function f(df) pcall(function() return io.open('/etc/passwd') end) return {} end",
             {}, security("io.open")),
            ("top-level violation", "pcall(function() return os.execute('true') end)\nfunction f(df) return {} end",
             {}, security("os.execute")),
            ("busy loop", "function f(df) while true do end end", fast, timeout),
            ("coroutine loop", "function f(df)\n  local co = coroutine.wrap(function() while true do "
             "coroutine.yield(1) end end)\n  while true do co() end\nend", fast, timeout),
            ("loop in a coroutine", "function f(df) coroutine.wrap(function() while true do end end)() end",
             fast, timeout),
            ("catching loop", "function f(df) while true do pcall(function() while true do end end) end end",
             fast, timeout),
            ("pattern bomb", "function f(df) local s = string.rep('a', 40) "
             "return {s:find(string.rep('a*', 40) .. 'b')} end", fast, timeout),
            ("print flood", "function f(df) while true do print(string.rep('y', 1000)) end end", fast, timeout),
            ("huge string", "function f(df) local s = string.rep('x', 1e10) return {} end", small, memory),
            ("growing table", "function f(df) local t, i = {}, 0 while true do i = i + 1 t[i] = {i, i} end end",
             small, memory),
            ("recursion", "function f(df)\n  local function r(n) return 1 + r(n + 1) end\n  return r(1)\nend", {},
             stack),
            ("C recursion", "function f(df)\n  local function g(s) return (s:gsub('.', g)) end\n  return g('ab')\nend",
             {}, stack),
            # the string metatable is locked: getmetatable gives false
            ("string metatable", "function f(df) getmetatable('').__index = function() return 'pwned' end "
             "return {} end", {}, exact("Strategy error: strategy:1: attempt to index a boolean value")),
            ("setmetatable on a string", "function f(df) setmetatable('', {__index = function() return 1 end}) "
             "return {} end", {},
             exact("Strategy error: strategy:1: bad argument #1 to 'setmetatable' (table expected, got string)")),
            ("rawset on the string metatable", "function f(df) rawset(getmetatable(''), '__index', {}) return {} end",
             {}, exact("Strategy error: strategy:1: bad argument #1 to 'rawset' (table expected, got boolean)")),
            ("tampered libraries", "string.format = nil\nstring.lower = nil\nipairs = nil\ntable.insert = nil\n"
             "function f(df) return {} end", {}, None),   # harmless: completes, but must not leak
            # the entry point is looked up raw: an __index on _G that raises
            # is not called outside a protected call (it aborted the sandbox)
            ("raising _G.__index", "setmetatable(_G, {__index = function(t, k) error('boom ' .. k) end})\n"
             "function f(df) return {} end", {"entry": "g"},
             exact("Strategy error: the strategy defines no function 'g'")),
        ]
        w = self.worker("--workers", "1", env=self.env)
        jobs = []
        for name, code, extra, check in cases:
            bad = self.enqueue("backtest", self.args(code, symbols=["AAA"], **extra))
            good = self.enqueue("backtest", self.args(HEALTHY))
            jobs.append((name, check, bad, good))
        want = [{"ticker": s, "date": START, "tag": f"{s.lower()}-{1 + sum(len(window(p)) for p in prev)}",
                 "return": trade_return(s, START)}
                for s, prev in (("AAA", []), ("BBB", ["AAA"]), ("CCC", ["AAA", "BBB"]))]
        self.wait_state(jobs[-1][3], FINAL, timeout=60)   # one child runs them in order
        workers = set()
        for name, check, bad, good in jobs:
            with self.subTest(case=name):
                self.wait_state(good, FINAL, timeout=30)
                res = self.result(bad)
                if check is None:
                    self.completed_data(res)
                else:
                    err = self.permanent_error(res, bad)
                    self.assertTrue(check(err), err)
                data = self.completed_data(self.result(good))
                self.assertEqual(len(data["instances"]), 3)
                for inst, exp in zip(data["instances"], want):
                    self.assertEqual({k: inst[k] for k in ("ticker", "date", "tag")},
                                     {k: exp[k] for k in ("ticker", "date", "tag")})
                    self.assertClose(inst["return"], exp["return"])
                workers.add(data["worker_id"])
                workers.add(res["data"]["worker_id"])
        self.assertEqual(len(workers), 1, workers)   # one worker child ran them all
        self.assertIsNone(w.proc.poll())
        self.assertFalse(os.path.exists(pwned))

    def test_a_caught_time_limit_is_still_a_time_limit(self):
        """A strategy that catches the time-limit error (pcall, or resume of a
        coroutine) must not complete after its limit. Whether the sandbox
        child's deadline hook or the parent's wall-clock kill comes first
        is a race, so several small jobs run at once, on more worker children
        than CPUs, to give the hook a chance to win."""
        caught = [
            "function f(df) local ok, e = pcall(function() while true do end end) "
            "return {{ticker = 'AAA', date = '2024-01-03', e = e}} end",
            "function f(df) local co = coroutine.create(function() while true do end end) "
            "local ok, e = coroutine.resume(co) return {{ticker = 'AAA', date = '2024-01-03', e = e}} end",
        ]
        jobs = [self.args(caught[i % 2], symbols=["AAA"], strategy_timeout_seconds=0.1) for i in range(32)]
        ids = [self.enqueue("backtest", a) for a in jobs]
        status, w = self.burst("--workers", "8", env=self.env)
        self.assertEqual(status, 0, w.log())
        outcomes = [self.result(i) for i in ids]
        completed = [r["data"]["instances"] for r in outcomes if r["status"] == "completed"]
        self.assertEqual(len(completed), 0, f"{len(completed)} of {len(ids)} jobs completed past their time "
                                            f"limit, e.g. with instances {completed[:1]}")
        for r, jid in zip(outcomes, ids):
            self.assertEqual(self.permanent_error(r, jid), "Strategy exceeded time limit (0.1 s)")

    def test_sandbox_dies_with_its_worker_and_the_job_is_not_lost(self):
        """A worker child killed (SIGKILL) while a strategy runs: its sandbox
        child dies with it (PR_SET_PDEATHSIG) instead of spinning on, and the
        job goes through crash recovery like any other."""
        w = self.worker("--workers", "1", "--heartbeat", "200ms", "--claim-timeout", "1s", "--retry-base", "50ms",
                        "--grace", "1", env=self.env)
        jid = self.enqueue("backtest", self.args("function f(df) while true do end end", symbols=["AAA"],
                                                 strategy_timeout_seconds=60))
        self.wait_running(jid)

        def sandbox():
            kids = w.children()
            if not kids:
                return None
            try:
                with open(f"/proc/{kids[0]}/task/{kids[0]}/children") as f:
                    grandkids = [int(p) for p in f.read().split()]
            except FileNotFoundError:
                return None
            return (kids[0], grandkids[0]) if grandkids else None

        child, box = wait_for(sandbox, timeout=10, what="the sandbox process")
        os.kill(child, 9)

        def gone():
            try:
                with open(f"/proc/{box}/stat") as f:
                    return f.read().split()[2] == "Z"   # a zombie until reaped: dead
            except FileNotFoundError:
                return True
        wait_for(gone, timeout=5, what="the sandbox to die with its worker child")
        # The crashed attempt is retried (transient), and the strategy's own
        # time limit is not what ended it.
        self.wait_state(jid, ("retrying", "queued"), timeout=10)
        self.assertIn("Worker process died", self.job(jid).get("error", ""))
        self.assertIsNone(w.proc.poll())

    def test_the_sandbox_is_the_first_the_oom_killer_takes(self):
        """A strategy that eats memory on a host that runs out is what the
        kernel kills first, not its worker or Redis: the sandbox process
        runs with oom_score_adj 1000, its worker child with the score it
        was started with (this test's)."""
        w = self.worker("--workers", "1", env=self.env)
        jid = self.enqueue("backtest", self.args("function f(df) while true do end end", symbols=["AAA"],
                                                 strategy_timeout_seconds=60))
        self.wait_running(jid)

        def oom_score_adj(pid):
            try:
                with open(f"/proc/{pid}/oom_score_adj") as f:
                    return int(f.read())
            except (FileNotFoundError, ProcessLookupError):
                return None

        own = oom_score_adj(os.getpid())
        self.assertNotEqual(own, 1000, "this test runs at oom_score_adj 1000 itself: it cannot tell")

        def locked_down_sandbox():
            """(worker child, sandbox) once the sandbox has set its score:
            a child just forked still has its parent's until its lockdown."""
            for kid in w.children():
                try:
                    with open(f"/proc/{kid}/task/{kid}/children") as f:
                        boxes = [int(p) for p in f.read().split()]
                except FileNotFoundError:
                    continue
                for box in boxes:
                    if oom_score_adj(box) == 1000:
                        return kid, box
            return None
        kid, box = wait_for(locked_down_sandbox, timeout=10, what="a sandbox process at oom_score_adj 1000")
        self.assertEqual(oom_score_adj(kid), own)
        self.tickq("cancel", jid)

    def test_strategy_limit_stops_before_the_job_timeout(self):
        """A strategy allowed 30 s in a job of 2 s ends with its own clear,
        permanent error, before the worker would kill the job (a transient
        timeout, retried)."""
        jid = self.enqueue("backtest", self.args("function f(df) while true do end end", symbols=["AAA"]),
                           "--timeout", "2")
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        err = self.permanent_error(self.result(jid), jid)
        self.assertTrue(err.startswith("Strategy exceeded time limit ("), err)
        limit = float(err[len("Strategy exceeded time limit ("):].split(" ")[0])
        self.assertLess(limit, 2.0)

    # --- values the strategy sees and returns --------------------------------
    def test_os_time_clock_and_date_run_in_utc(self):
        """os.time, os.clock and os.date work in the sandbox and use UTC: the
        child sets TZ=UTC and calls tzset() before the seccomp filter, else
        glibc would open the zone file on the first os.date and be trapped.
        The worker runs in another zone, so that nothing is inherited from it
        (where its zone file is the UTC one, glibc would not even reopen it)."""
        code = """
function clocks(df)
  local noon = os.time({year = 2024, month = 1, day = 2, hour = 12, min = 0, sec = 0})
  local t = os.date('*t', 0)
  return {{ticker = 'AAA', date = '2024-01-02', epoch = os.date('%H:%M %Z', 0), noon = noon,
           utc = os.date('!%Y-%m-%dT%H:%M:%SZ', 86400), now = os.time(), clock = os.clock(),
           hour0 = t.hour, isdst = t.isdst, diff = os.difftime(noon, 0)}}
end
"""
        before = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        res = self.run_all(self.args(code, symbols=["AAA"]), env=dict(self.env, TZ="EST5EDT"))
        (inst,) = self.completed_data(res[0])["instances"]
        after = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        self.assertEqual(inst["epoch"], "00:00 UTC")
        self.assertEqual(inst["noon"], 1704196800)        # 2024-01-02T12:00:00Z: local time is UTC
        self.assertEqual(inst["utc"], "1970-01-02T00:00:00Z")
        self.assertEqual(inst["hour0"], 0)
        self.assertIs(inst["isdst"], False)
        self.assertEqual(inst["diff"], 1704196800.0)
        self.assertTrue(before - 5 <= inst["now"] <= after + 5, inst["now"])
        self.assertIsInstance(inst["clock"], float)
        self.assertGreaterEqual(inst["clock"], 0)

    def test_symbols_processed_counts_symbols_with_bars_in_the_window(self):
        late = "2024-02-26"   # CCC's bars end on 2024-02-23; DDD's on 2023-12-15
        res = self.run_all(self.args(EVERY_BAR, symbols=["AAA", "CCC", "DDD"]),
                           self.args(EVERY_BAR, symbols=["AAA", "CCC", "DDD"], start=late),
                           self.args(EVERY_BAR, symbols=["CCC", "DDD", "BBB"], start=late))
        full, tail, other = (self.completed_data(r) for r in res)
        self.assertEqual(full["summary"]["symbols_processed"], 2)
        self.assertEqual(full["summary"]["data_shape"][0], len(window("AAA")) + len(window("CCC")))
        self.assertEqual(tail["summary"]["symbols_processed"], 1)
        self.assertEqual({i["ticker"] for i in tail["instances"]}, {"AAA"})
        self.assertEqual(tail["summary"]["data_shape"][0], len(window("AAA", start=late)))
        self.assertEqual(other["summary"]["symbols_processed"], 1)

    def test_start_and_end_with_times_and_offsets_on_daily_bars(self):
        """A time with an offset is converted to UTC; a time without one is
        UTC; a date alone covers its whole day. Daily bars sit at 00:00 UTC."""
        cases = [
            ("2024-01-03T00:00:00+05:00", "2024-01-05T00:00:00Z", ["2024-01-03", "2024-01-04", "2024-01-05"]),
            ("2024-01-02T23:00:00-05:00", "2024-01-05", ["2024-01-04", "2024-01-05"]),   # 2024-01-03T04:00Z
            ("2024-01-03T00:00:00", "2024-01-04T23:59:59+01:00", ["2024-01-03", "2024-01-04"]),
            ("2024-01-03T00:00:01", "2024-01-05T00:00:00-00:30", ["2024-01-04", "2024-01-05"]),
        ]
        res = self.run_all(*(self.args(EVERY_BAR, symbols=["AAA"], start=a, end=b) for a, b, _ in cases))
        for (start, end, dates), r in zip(cases, res):
            with self.subTest(start=start, end=end):
                data = self.completed_data(r)
                self.assertEqual([i["date"] for i in data["instances"]], dates)
                self.assertEqual(data["summary"]["date_range"], [start, end])
                # the last one's exit bar is after end_date; the others exit inside it
                for i in data["instances"][:-1]:
                    self.assertClose(i["return"], trade_return("AAA", i["date"], end="9999"))
                self.assertIsNone(data["instances"][-1]["return"])

    def test_nan_and_infinities_become_null(self):
        code = """
function odd(df)
  return {{ticker = 'AAA', date = '2024-01-03', pinf = 1/0, ninf = -1/0, nan = 0/0, huge = math.huge,
           nested = {1/0, -1/0, 0/0, 2.5}, obj = {x = -math.huge, y = 0/0, z = 1}, fine = 1.5,
           sma = df.sma_200[1]}}
end
"""
        self.run_all(self.args(code, symbols=["AAA"]))
        raw = self.r.get(f"task_result:{self.last_ids[0]}")

        def refuse(token):
            raise AssertionError(f"{token} in the result JSON")
        res = json.loads(raw, parse_constant=refuse)
        (inst,) = self.completed_data(res)["instances"]
        for k in ("pinf", "ninf", "nan", "huge", "sma"):
            self.assertIn(k, inst)
            self.assertIsNone(inst[k], k)
        self.assertEqual(inst["nested"], [None, None, None, 2.5])
        self.assertEqual(inst["obj"], {"x": None, "y": None, "z": 1})
        self.assertEqual(inst["fine"], 1.5)

    def test_undefined_features_are_nan_and_comparisons_are_false(self):
        """AAA has 75 bars in all: sma_200 is undefined on every row, a NaN
        (not nil, not 0), so both s > 0 and s <= 0 are false."""
        code = """
function undefined(df)
  local s, g = df.sma_200, df.gap_pct
  local compared, self_equal, nan, gaps = 0, 0, 0, 0
  for i = 1, df.n do
    if s[i] > 0 or s[i] <= 0 then compared = compared + 1 end
    if s[i] == s[i] then self_equal = self_equal + 1 end
    if s[i] ~= s[i] then nan = nan + 1 end
    if g[i] > -1000 then gaps = gaps + 1 end
  end
  return {{ticker = df.ticker[1], date = df.date[1], compared = compared, self_equal = self_equal,
           nan = nan, n = df.n, kind = math.type(s[1]), gaps = gaps}}
end
"""
        (inst,) = self.completed_data(self.run_all(self.args(code, symbols=["AAA"]))[0])["instances"]
        n = len(window("AAA"))
        self.assertEqual(len(BARS["AAA"]), 75)
        self.assertEqual(inst["n"], n)
        self.assertEqual(inst["compared"], 0)
        self.assertEqual(inst["self_equal"], 0)
        self.assertEqual(inst["nan"], n)
        self.assertEqual(inst["kind"], "float")
        self.assertEqual(inst["gaps"], n)   # a defined feature compares as usual (warmed up)

    def test_language_and_the_default_memory_limit(self):
        """language "lua" is accepted, another is refused by name; without
        memory_mb the limit is 512 MiB (a 600 MiB string is refused, and a
        table of 1 MiB strings stops at the limit)."""
        big = "function f(df) local s = string.rep('x', 600 * 1024 * 1024) return {} end"
        growing = ("function f(df) local t = {} for i = 1, 4096 do t[i] = string.rep('x', 1024 * 1024 - 64) .. i "
                   "end return {} end")
        res = self.run_all(self.args(HEALTHY, language="lua"), self.args(HEALTHY, language="ruby"),
                           self.args(HEALTHY, language=5), self.args(big, symbols=["AAA"]),
                           self.args(growing, symbols=["AAA"]), unchecked=True)
        ids = self.last_ids
        self.assertEqual(len(self.completed_data(res[0])["instances"]), 3)
        self.assertEqual(self.permanent_error(res[1], ids[1]), "language must be one of lua, python, got \"ruby\"")
        self.assertEqual(self.permanent_error(res[2], ids[2]), "language must be one of lua, python, got 5")
        self.assertEqual(self.permanent_error(res[3], ids[3]), "Strategy exceeded memory limit (512 MiB)")
        self.assertEqual(self.permanent_error(res[4], ids[4]), "Strategy exceeded memory limit (512 MiB)")


# --- intraday bars ------------------------------------------------------------
HOURS = ["14:30", "15:30", "16:30", "17:30", "18:30", "19:30", "20:30"]
INTRADAY_DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]


def make_hourly():
    bars, prev = {}, None
    for s, sym in enumerate(("HRA", "HRB")):
        rows, prev = [], None
        for k, (d, h) in enumerate((d, h) for d in INTRADAY_DAYS for h in HOURS):
            close_ = round(100 + 10 * s + 0.3 * k + 2 * math.sin(0.9 * k + s), 4)
            open_ = round(close_ - 0.5 if prev is None else prev * (1 + 0.004 * math.cos(1.3 * k + s)), 4)
            rows.append({"ts": f"{d}T{h}:00", "open": open_, "high": max(open_, close_) + 0.2,
                         "low": min(open_, close_) - 0.2, "close": close_, "volume": 100 + k})
            prev = close_
        bars[sym] = rows
    return bars


HOURLY = make_hourly()


def utc(text):
    """An ISO 8601 time (date alone: its start; no offset: UTC) as an aware datetime."""
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)


class TestIntraday(TickqTestCase):
    """1h bars: df.date is ISO 8601 UTC, the window and the trades' exit
    bars follow start_date/end_date to the second, offsets included."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tickq-intraday-")
        cls.env = {"TICKQ_DB": os.path.join(cls.tmp, "bars.db"), "DATABASE_URL": None}
        path = write_bars_csv(os.path.join(cls.tmp, "hourly.csv"),
                              [(sym, b["ts"], b["open"], b["high"], b["low"], b["close"], b["volume"])
                               for sym, rows in HOURLY.items() for b in rows])
        p = tickq("data", "import", path, "--interval", "1h", env=cls.env)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def run_all(self, *jobs):
        ids = [self.enqueue("backtest", a) for a in jobs]
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.last_ids = ids
        return [self.result(i) for i in ids]

    def expected(self, sym, start, end, date_only_end=False):
        """[(date, return)] of EVERY_BAR's instances for sym over [start, end]."""
        lo = utc(start)
        hi = utc(end) + (datetime.timedelta(seconds=86399) if date_only_end else datetime.timedelta(0))
        rows = HOURLY[sym]
        times = [utc(b["ts"]) for b in rows]
        out = []
        for k, t in enumerate(times):
            if lo <= t <= hi:
                r = None
                if k + 1 < len(rows) and times[k + 1] <= hi:
                    r = rows[k + 1]["close"] / rows[k + 1]["open"] - 1
                out.append((t.strftime("%Y-%m-%dT%H:%M:%SZ"), r))
        return out

    def check(self, data, sym, start, end, date_only_end=False):
        want = self.expected(sym, start, end, date_only_end)
        got = [i for i in data["instances"] if i["ticker"] == sym]
        self.assertEqual([i["date"] for i in got], [d for d, _ in want])
        for i, (d, r) in zip(got, want):
            self.assertTrue(close(i["return"], r), f"{sym} {d}: got {i['return']!r}, want {r!r}")
        return want

    def test_intraday_dates_window_and_null_at_the_end(self):
        res = self.run_all({"strategy_code": EVERY_BAR, "symbols": ["HRB", "HRA"], "start_date": "2024-01-03",
                            "end_date": "2024-01-04", "interval": "1h"},
                           {"strategy_code": EVERY_BAR, "symbols": ["HRA"], "start_date": "2024-01-03",
                            "end_date": "2024-01-04"})
        data = res[0]
        self.assertEqual(data["status"], "completed", data)
        data = data["data"]
        for sym in ("HRA", "HRB"):
            want = self.check(data, sym, "2024-01-03", "2024-01-04", date_only_end=True)
            self.assertEqual(len(want), 14)   # the whole of both days
            self.assertEqual(want[0][0], "2024-01-03T14:30:00Z")
            self.assertEqual(want[7][0], "2024-01-04T14:30:00Z")   # the overnight trade exits next morning
            self.assertIsNotNone(want[6][1])
            self.assertIsNone(want[-1][1])    # 2024-01-04T20:30: the next bar is after end_date
        for i in data["instances"]:
            self.assertRegex(i["date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$")
        self.assertEqual([i["ticker"] for i in data["instances"]], ["HRA"] * 14 + ["HRB"] * 14)
        self.assertEqual(data["summary"]["symbols_processed"], 2)
        self.assertEqual(data["summary"]["data_shape"][0], 28)
        self.assertEqual(data["summary"]["date_range"], ["2024-01-03", "2024-01-04"])
        self.assertEqual(data["performance_metrics"]["trades"], 26)
        # interval defaults to 1d: there are no daily bars of HRA
        self.assertEqual(res[1]["status"], "error")
        self.assertIn("unknown symbols: HRA (no 1d bars stored", res[1]["data"]["error"])

    def test_times_and_offsets_select_the_right_bars(self):
        cases = [
            ("2024-01-03T00:00:00+05:00", "2024-01-03T15:30:00"),        # 2024-01-02T19:00Z .. 15:30Z
            ("2024-01-03T09:30:00-05:00", "2024-01-03T11:30:00-05:00"),  # 14:30Z .. 16:30Z
            ("2024-01-03T14:31:00Z", "2024-01-03T16:29:59Z"),
            ("2024-01-04T20:30:00+00:00", "2024-01-05T16:00:00+01:00"),  # .. 15:00Z
        ]
        res = self.run_all(*({"strategy_code": EVERY_BAR, "symbols": ["HRA"], "start_date": a, "end_date": b,
                              "interval": "1h"} for a, b in cases))
        counts = []
        for (start, end), r in zip(cases, res):
            with self.subTest(start=start, end=end):
                self.assertEqual(r["status"], "completed", r)
                counts.append(len(self.check(r["data"], "HRA", start, end)))
                self.assertIsNone(r["data"]["instances"][-1]["return"])
        self.assertEqual(counts, [4, 3, 1, 2])
        first = [i["date"] for i in res[0]["data"]["instances"]]
        self.assertEqual(first, ["2024-01-02T19:30:00Z", "2024-01-02T20:30:00Z", "2024-01-03T14:30:00Z",
                                 "2024-01-03T15:30:00Z"])


# --- the documented strategies -------------------------------------------------
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def documented_strategies():
    """(where, kind, code) for each Lua block of docs/strategies.md that
    defines a strategy function, and each examples/strategies/*.lua; kind is
    "positions" for portfolio_backtest strategies, else "instances"."""
    found, heading, block = [], "", None
    with open(os.path.join(ROOT, "docs", "strategies.md")) as f:
        for n, line in enumerate(f, 1):
            if block is not None:
                if line.startswith("```"):
                    code = "".join(block[1])
                    if re.search(r"^\s*function\s+\w+\s*\(\s*df\s*\)", code, re.M):
                        kind = "positions" if "portfolio_backtest" in heading else "instances"
                        found.append((f"docs/strategies.md:{block[0]}", kind, code))
                    block = None
                else:
                    block[1].append(line)
            elif line.startswith("```lua"):
                block = (n, [])
            elif line.startswith("#"):
                heading = line
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "strategies", "*.lua"))):
        with open(path) as f:
            code = f.read()
        header = "".join(line for line in code.splitlines(True) if line.startswith("--"))
        found.append((os.path.relpath(path, ROOT), "positions" if "portfolio_backtest" in header else "instances",
                      code))
    return found


class TestDocumentedStrategies(TickqTestCase):
    """Every strategy in docs/strategies.md and examples/strategies/ runs to
    completion on synthetic data: a backtest and a screening for the signal
    strategies, a portfolio_backtest for the position ones."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tickq-docs-")
        cls.env = {"TICKQ_DB": os.path.join(cls.tmp, "bars.db"), "DATABASE_URL": None}
        p = tickq("data", "synth", "--symbols", "8", "--days", "400", "--seed", "5", "--start", "2022-01-03",
                  env=cls.env)
        if p.returncode != 0:
            raise RuntimeError(p.stderr)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def test_documented_strategies_run(self):
        found = documented_strategies()
        names = {m for _, _, code in found for m in re.findall(r"^function\s+(\w+)\s*\(", code, re.M)}
        self.assertTrue({"gap_up_strategy", "rsi_dip", "sma_crossover", "momentum"} <= names, names)
        self.assertEqual(sum(where.startswith("examples/") for where, _, _ in found), 3)
        symbols = [f"SYN{k:04d}" for k in range(1, 9)]
        window = {"symbols": symbols, "start_date": "2023-01-03", "end_date": "2023-06-30"}
        jobs = []
        for where, kind, code in found:
            # what we document has no look-ahead
            if kind == "positions":
                jobs.append((where, "portfolio_backtest", self.enqueue("portfolio_backtest",
                                                                      dict(window, strategy_code=code,
                                                                           check_lookahead=True))))
            else:
                jobs.append((where, "backtest", self.enqueue("backtest", dict(window, strategy_code=code,
                                                                              check_lookahead=True))))
                jobs.append((where, "screening", self.enqueue("screening", {"strategy_code": code,
                                                                            "universe": symbols, "limit": 5})))
        status, w = self.burst("--workers", "2", env=self.env)
        self.assertEqual(status, 0, w.log())
        instances = checks = 0
        for where, task, jid in jobs:
            with self.subTest(strategy=where, task=task):
                res = self.result(jid)
                self.assertIsNotNone(res)
                self.assertEqual(res["status"], "completed", json.dumps(res)[:400])
                self.assertTrue(res["data"]["success"])
                self.assertEqual(res["data"]["execution_mode"], task)
                instances += len(res["data"].get("instances", []))
                if task != "screening":
                    la = res["data"]["lookahead"]
                    self.assertEqual((la["violations"], la["violations_total"]), ([], 0))
                    checks += la["checked"]
        self.assertGreater(instances, 0)   # they find signals, not just run
        self.assertGreater(checks, 0)

    # Keeps state across bars (a streak per ticker and a count carried from
    # ticker to ticker) that decides which rows signal and how they score;
    # returns its instances out of ticker order, some unscored or not
    # signals, one per ticker's last bar with its date as a date-time and a
    # nested field, and one on that bar for a ticker not screened (never an
    # opportunity, though it would rank first).
    STATEFUL = """
local seen = 0
function streaks(df)
  local out, late, streak, close = {}, {}, 0, df.close
  for i = 1, df.n do
    local t = df.ticker[i]
    if i > 1 and t == df.ticker[i - 1] and close[i] > close[i - 1] then streak = streak + 1 else streak = 0 end
    if streak > 0 then seen = seen + 1 end
    if streak > 0 and seen % 3 ~= 0 then
      local inst = {ticker = t, date = df.date[i], score = streak + (seen % 7) / 10, streak = streak, seen = seen}
      if seen % 5 == 0 then inst.score = nil; inst.signal = false end
      if seen % 2 == 0 then late[#late + 1] = inst else out[#out + 1] = inst end
    end
    if i == df.n or df.ticker[i + 1] ~= t then
      out[#out + 1] = {ticker = t, date = df.date[i] .. "T00:00:00Z", score = 1.5, tag = {seen = seen, k = {1, 2}},
                       message = string.format("%s after %d", t, seen)}
      out[#out + 1] = {ticker = t .. "X", date = df.date[i], score = 99}
    end
  end
  for k = #late, 1, -1 do out[#out + 1] = late[k] end
  return out
end
"""

    def test_screening_is_the_backtest_on_each_last_bar(self):
        """A screening's ranked results are exactly what a backtest of the
        same strategy over the same rows returns on each ticker's last bar,
        ranked in Python (score descending, unscored after, then ticker, then
        the strategy's order): momentum.lua and a strategy with state across
        bars, each screened twice on one worker (cold, then warm), with a
        limit that cuts and one that does not."""
        p = tickq("data", "list", "--json", env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
        calendar = weekdays(rows[0]["first"], rows[0]["last"])
        self.assertEqual(len(calendar), rows[0]["bars"])
        symbols = [f"SYN{k:04d}" for k in range(1, 9)]
        with open(os.path.join(ROOT, "examples", "strategies", "momentum.lua")) as f:
            momentum = f.read()
        jobs = []
        for name, code in (("momentum", momentum), ("stateful", self.STATEFUL)):
            bt = self.enqueue("backtest", {"strategy_code": code, "symbols": symbols, "start_date": calendar[-252],
                                           "end_date": calendar[-1]})
            screens = [(limit, self.enqueue("screening", {"strategy_code": code, "universe": symbols,
                                                          "limit": limit}))
                       for limit in (1, 1000, 1, 1000)]
            jobs.append((name, bt, screens))
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        for name, bt, screens in jobs:
            res = self.result(bt)
            self.assertEqual(res["status"], "completed", json.dumps(res)[:400])
            current = []
            for k, inst in enumerate(res["data"]["instances"]):
                inst = dict(inst)
                del inst["return"]
                if inst["date"][:10] != calendar[-1]:
                    continue
                score = inst.get("score")
                if not isinstance(score, (int, float)) or isinstance(score, bool):
                    score = None
                row = {"ticker": inst["ticker"], "score": score, "signal": inst.get("signal", True),
                       "message": inst.get("message")}
                row.update((f, v) for f, v in inst.items() if f not in row)
                current.append((score is None, -(score or 0), inst["ticker"], k, row))
            current.sort(key=lambda c: c[:4])
            self.assertGreater(len(current), 1, name)   # the limit cuts
            if name == "stateful":
                self.assertTrue(any(c[0] for c in current), "some current instances are unscored")
                self.assertTrue(any(c[4]["date"].endswith("Z") for c in current), "a date-time on a last bar")
            for limit, jid in screens:
                with self.subTest(strategy=name, limit=limit, job=jid):
                    res = self.result(jid)
                    self.assertEqual(res["status"], "completed", json.dumps(res)[:400])
                    want = [dict(c[4], rank=r) for r, c in enumerate(current[:limit], 1)]
                    self.assertEqual(res["data"]["ranked_results"], want)
                    self.assertEqual(res["data"]["opportunities"], len(current))
                    self.assertEqual(res["data"]["results_returned"], len(want))
                    if name == "momentum":   # string.format's text (its fast path) is printf's rounding
                        for row in res["data"]["ranked_results"]:
                            self.assertEqual(row["message"], "%s up %.1f%% in 20 bars, RSI %.0f"
                                             % (row["ticker"], row["score"], row["rsi"]))


class TestStrategyBenchmark(TickqTestCase):
    def test_bench_strategy_prints_one_json_line_with_every_figure(self):
        """make bench-strategy's report, on a small universe: every case,
        the look-ahead check's cost among them."""
        bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "bench_strategy.py")
        p = subprocess.run(["/usr/bin/python3", bench, "--tickq", TICKQ, "--symbols", "12", "--days", "300",
                            "--repeats", "1"], env=dict(os.environ, REDIS_URL=self.url), capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        lines = p.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stdout)
        r = json.loads(lines[0])
        cases = ["small", "large", "huge", "large_lookahead", "screen500", "screen500_gapup", "py_small", "py_large",
                 "py_empty", "py_empty_spaced", "py_screen500"]
        self.assertEqual(set(r), {"bench", "lookahead_checked", "lookahead_cost_x", "lua_loop_steps_per_s",
                                  "lua_loop_cold_steps_per_s", "targets", "cases", "loop", "repeats", "data",
                                  "seconds", "plain_python_ms", "plain_python", "py_large_vs_plain_x",
                                  "py_large_exec_vs_plain_x"}
                         | {f"{c}_{k}" for c in cases for k in ("cold_ms", "warm_ms")})
        self.assertEqual(r["bench"], "strategy")
        self.assertEqual(set(r["cases"]), set(cases))
        targeted = {"small", "large", "huge", "screen500", "screen500_gapup", "py_empty", "py_empty_spaced"}
        self.assertEqual(set(r["targets"]), {f"{c}_warm_ms" for c in targeted}
                         | {"lua_loop_steps_per_s", "py_large_vs_plain_x"})
        # the baseline ran the users' example on the same frame py_large's strategy got
        self.assertEqual(r["plain_python"]["instances"], r["cases"]["py_large"]["instances"])
        self.assertEqual(r["py_large_vs_plain_x"], round(r["py_large_warm_ms"] / r["plain_python_ms"], 2))
        self.assertEqual(r["data"], {"symbols": 12, "days": 300, "driver": "sqlite"})
        self.assertEqual(r["lookahead_checked"], r["cases"]["large_lookahead"]["checked"])
        self.assertGreater(r["lookahead_checked"], 0)
        self.assertLessEqual(r["lookahead_checked"], 20)
        self.assertEqual(r["lookahead_cost_x"], round(r["large_lookahead_warm_ms"] / r["large_warm_ms"], 2))
        self.assertGreater(r["cases"]["large_lookahead"]["lookahead_exec_ms"], 0)
        self.assertGreater(r["lua_loop_steps_per_s"], 0)

