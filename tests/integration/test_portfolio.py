"""test_portfolio.py — the portfolio_backtest and screening tasks, checked
against independent computations in Python: a position simulator with costs
over the union of the symbols' dates, the empyrical metric definitions, and
the screening's ranking rule."""
import json
import math
import os
import random
import shutil
import statistics
import tempfile

from harness import ISO_RE, TickqTestCase, sample_cuts, tickq, write_bars_csv


def make_bars(seed, symbols, days, start_ordinal, skip=()):
    """Deterministic daily bars; `skip` holds (symbol, day index) pairs left
    out, so the symbols' dates differ."""
    import datetime
    rng = random.Random(seed)
    rows = []
    for sym in symbols:
        price = rng.uniform(20, 200)
        d = datetime.date.fromordinal(start_ordinal)
        k = 0
        while k < days:
            if d.weekday() < 5:
                o = price * math.exp(rng.gauss(0, 0.01))
                c = o * math.exp(rng.gauss(0, 0.02))
                h, l = max(o, c) * 1.01, min(o, c) * 0.99
                if (sym, k) not in skip:
                    rows.append((sym, d.isoformat(), round(o, 4), round(h, 4), round(l, 4), round(c, 4),
                                 rng.randint(1000, 100000)))
                price = c
                k += 1
            d += datetime.timedelta(days=1)
    return rows


def lua_positions(values):
    """Lua code returning the given positions (None = nil) for the df rows."""
    items = ", ".join("0/0" if v is None else repr(v) for v in values)
    return "local P = {" + items + "}\nfunction positions(df)\n  local out = {}\n" \
           "  for i = 1, df.n do out[i] = P[i] end\n  return out\nend\n"


def simulate(rows_by_symbol, window, positions, capital, rate, nsymbols):
    """Reference model of docs/strategies.md: sleeves of capital/nsymbols;
    a position taken at close t earns close t -> t+1; changing it costs
    |delta| x sleeve equity x rate at that close."""
    sleeves = {}
    k = 0
    for sym in sorted(rows_by_symbol):
        bars = [r for r in rows_by_symbol[sym] if window[0] <= r[1] <= window[1]]
        sleeves[sym] = {"bars": bars, "pos": positions[k:k + len(bars)], "eq": capital / nsymbols,
                        "p": 0.0, "i": 0, "trade": None}
        k += len(bars)
    dates = sorted({b[1] for s in sleeves.values() for b in s["bars"]})
    values, trades, gross_frac = [], [], []
    for d in dates:
        total = gross = 0.0
        for sym, s in sleeves.items():
            i = s["i"]
            if i < len(s["bars"]) and s["bars"][i][1] == d:
                if i > 0:
                    s["eq"] *= 1 + s["p"] * (s["bars"][i][5] / s["bars"][i - 1][5] - 1)
                target = s["pos"][i]
                target = 0.0 if target is None else float(target)
                before = s["eq"]
                exits = s["p"] != 0 and (target == 0 or (target > 0) != (s["p"] > 0))
                enters = target != 0 and (s["p"] == 0 or (target > 0) != (s["p"] > 0))
                after_exit = before - abs(s["p"]) * before * rate
                if exits:
                    t = s["trade"]
                    trades.append({"ticker": sym, "entry_date": t[1], "exit_date": d, "return": after_exit / t[0] - 1})
                if enters:
                    s["trade"] = (after_exit if exits else before, d)
                s["eq"] = before - abs(target - s["p"]) * before * rate
                s["p"] = target
                s["i"] = i + 1
                if s["i"] == len(s["bars"]) and s["p"] != 0:
                    t = s["trade"]
                    trades.append({"ticker": sym, "entry_date": t[1], "exit_date": None, "return": s["eq"] / t[0] - 1})
            total += s["eq"]
            gross += abs(s["p"]) * s["eq"]
        values.append(total)
        gross_frac.append(gross / total)
    return dates, values, trades, sum(gross_frac) / len(gross_frac)


def empyrical(values, capital):
    rets = [v / p - 1 for v, p in zip(values, [capital] + values[:-1])]
    n = len(rets)
    total = values[-1] / capital - 1
    cagr = (1 + total) ** (252 / n) - 1
    mean = sum(rets) / n
    sd = statistics.stdev(rets)
    downside = math.sqrt(sum(min(r, 0) ** 2 for r in rets) / n) * math.sqrt(252)
    peak, mdd = capital, 0.0
    for v in values:
        peak = max(peak, v)
        mdd = min(mdd, v / peak - 1)
    return {"total_return": total, "cagr": cagr, "annual_volatility": sd * math.sqrt(252),
            "sharpe": mean / sd * math.sqrt(252), "sortino": mean * 252 / downside,
            "max_drawdown": mdd, "calmar": cagr / abs(mdd) if mdd < 0 else None}


class StrategyDataCase(TickqTestCase):
    """Imports bars into a class-private SQLite file; runs jobs in burst."""
    rows = []

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tickq-pf-")
        cls.env = {"TICKQ_DB": os.path.join(cls.tmp, "bars.db")}
        path = os.path.join(cls.tmp, "bars.csv")
        write_bars_csv(path, cls.rows)
        p = tickq("data", "import", path, env=cls.env)
        assert p.returncode == 0, p.stderr + p.stdout

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def run_job(self, jtype, args, unchecked=False):
        """Runs one job; unchecked: enqueued through the Redis function, past
        the CLI's argument check (for what the worker itself refuses)."""
        jid = self.submit(jtype, args) if unchecked else self.enqueue(jtype, args)
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        res = self.result(jid)
        self.assertIsNotNone(res)
        return res

    def by_symbol(self):
        out = {}
        for r in self.rows:
            out.setdefault(r[0], []).append(r)
        return out


class TestPortfolioBacktest(StrategyDataCase):
    # AAA and BBB trade on different days: BBB misses two of AAA's dates,
    # so the portfolio's timeline is the union of both. CCC has 1,300 bars.
    rows = (make_bars(1, ["AAA", "BBB"], 160, 738886, skip={("BBB", 70), ("BBB", 71)})
            + make_bars(2, ["CCC"], 1300, 737000))

    def window_rows(self, symbols, start, end):
        return [r for r in self.rows if r[0] in symbols and start <= r[1] <= end]

    def test_score_from_trades_from_its_bar_the_bars_before_are_warm_up(self):
        """Positions from warmed columns do not depend on where df starts:
        a run from S0 scored from S1 is, bar for bar, the run from S1."""
        code = ("function s(df)\n  local c, m = df.close, df.sma_5\n  local pos = {}\n"
                "  for i = 1, df.n do pos[i] = (c[i] > m[i]) and 1 or 0 end\n  return pos\nend\n")
        syms = ["AAA", "BBB"]
        s0, s1, end = self.rows[20][1], self.rows[60][1], self.rows[150][1]
        base = {"strategy_code": code, "symbols": syms, "end_date": end, "commission_bps": 5}
        warm = self.run_job("portfolio_backtest", dict(base, start_date=s0, score_from=s1))
        plain = self.run_job("portfolio_backtest", dict(base, start_date=s1))
        self.assertEqual(warm["status"], "completed", warm)
        w, p = warm["data"], plain["data"]
        for key in ("performance_metrics", "equity_curve", "trades"):
            self.assertEqual(w[key], p[key], key)
        self.assertEqual(w["equity_curve"][0]["date"], s1)
        self.assertEqual(w["summary"]["periods"], p["summary"]["periods"])
        self.assertGreater(w["summary"]["data_shape"][0], p["summary"]["data_shape"][0])   # df held the warm-up
        self.assertGreater(p["performance_metrics"]["trades"], 0)
        for bad in (self.rows[10][1], "2099-01-01"):
            q = self.tickq("enqueue", "portfolio_backtest", json.dumps(dict(base, start_date=s0, score_from=bad)))
            self.assertEqual(q.returncode, 65, q.stderr)
            self.assertIn(f"score_from {bad} is outside the window {s0} .. {end}", q.stderr)

    def test_positions_costs_and_metrics_match_an_independent_computation(self):
        syms = ["AAA", "BBB"]
        start, end = self.rows[40][1], self.rows[150][1]
        n = len(self.window_rows(syms, start, end))
        rng = random.Random(3)
        pos = [rng.choice([1, 1, 1, 0.5, 0, 0, -1, -0.25, None]) for _ in range(n)]
        # hold runs so trades span several bars
        for i in range(1, n):
            if rng.random() < 0.7:
                pos[i] = pos[i - 1]
        capital, comm, slip = 250000.0, 4.0, 6.0
        res = self.run_job("portfolio_backtest", {
            "strategy_code": lua_positions(pos), "symbols": syms, "start_date": start, "end_date": end,
            "initial_capital": capital, "commission_bps": comm, "slippage_bps": slip})
        self.assertEqual(res["status"], "completed", res)
        d = res["data"]
        self.assertEqual(d["execution_mode"], "portfolio_backtest")
        dates, values, trades, exposure = simulate({s: self.by_symbol()[s] for s in syms},
                                                   (start, end), pos, capital, (comm + slip) / 1e4, len(syms))
        self.assertEqual(len(d["equity_curve"]), len(dates))
        self.assertEqual([p["date"] for p in d["equity_curve"]], dates)
        for got, want in zip(d["equity_curve"], values):
            self.assertAlmostEqual(got["equity"], want, delta=1e-6 * capital)
        want = empyrical(values, capital)
        m = d["performance_metrics"]
        for k, v in want.items():
            self.assertAlmostEqual(m[k], v, places=9, msg=k)
        self.assertAlmostEqual(m["exposure"], exposure, places=9)
        self.assertEqual(m["trades"], len(trades))
        self.assertAlmostEqual(m["win_rate"], sum(t["return"] > 0 for t in trades) / len(trades), places=12)
        self.assertGreater(len(trades), 5)
        got_trades = sorted((t["ticker"], t["entry_date"], t["exit_date"] or "", t["return"]) for t in d["trades"])
        want_trades = sorted((t["ticker"], t["entry_date"], t["exit_date"] or "", t["return"]) for t in trades)
        self.assertEqual([t[:3] for t in got_trades], [t[:3] for t in want_trades])
        for g, w in zip(got_trades, want_trades):
            self.assertAlmostEqual(g[3], w[3], places=9)
        self.assertTrue(any(t["side"] == "short" for t in d["trades"]))
        s = d["summary"]
        self.assertEqual(s["symbols_processed"], 2)
        self.assertEqual(s["data_shape"][0], n)
        self.assertAlmostEqual(s["final_equity"], values[-1], delta=1e-6 * capital)
        self.assertEqual(s["date_range"], [start, end])

    def test_all_flat_has_no_trades_and_null_ratios(self):
        res = self.run_job("portfolio_backtest", {
            "strategy_code": "function f(df) return {} end", "symbols": ["AAA"],
            "start_date": self.rows[10][1], "end_date": self.rows[60][1], "commission_bps": 5})
        self.assertEqual(res["status"], "completed", res)
        m = res["data"]["performance_metrics"]
        self.assertEqual(m["total_return"], 0)
        self.assertEqual(m["max_drawdown"], 0)
        self.assertEqual(m["trades"], 0)
        self.assertEqual(m["exposure"], 0)
        for k in ("sharpe", "sortino", "calmar", "win_rate"):
            self.assertIsNone(m[k], k)  # undefined: never NaN in JSON
        self.assertEqual(res["data"]["trades"], [])

    def test_always_long_one_symbol_is_buy_and_hold(self):
        ccc = [r for r in self.rows if r[0] == "CCC"]
        start, end = ccc[100][1], ccc[1250][1]
        res = self.run_job("portfolio_backtest", {
            "strategy_code": "function f(df) local p = {} for i = 1, df.n do p[i] = 1 end return p end",
            "symbols": ["CCC"], "start_date": start, "end_date": end, "initial_capital": 1000})
        self.assertEqual(res["status"], "completed", res)
        d = res["data"]
        self.assertAlmostEqual(d["performance_metrics"]["total_return"], ccc[1250][5] / ccc[100][5] - 1, places=9)
        self.assertAlmostEqual(d["performance_metrics"]["exposure"], 1.0)
        curve = d["equity_curve"]
        self.assertEqual(len(curve), 1000)  # 1,151 bars downsampled
        self.assertEqual(curve[0]["date"], start)
        self.assertEqual(curve[-1]["date"], end)
        self.assertAlmostEqual(curve[-1]["equity"], 1000 * ccc[1250][5] / ccc[100][5], places=6)
        self.assertEqual(len(d["trades"]), 1)
        self.assertTrue(d["trades"][0]["open"])
        self.assertIsNone(d["trades"][0]["exit_date"])

    def test_sma_crossover_example_runs(self):
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "strategies",
                               "sma_crossover.lua")) as f:
            code = f.read()
        ccc = [r for r in self.rows if r[0] == "CCC"]
        res = self.run_job("portfolio_backtest", {"strategy_code": code, "symbols": ["CCC"],
                                                  "start_date": ccc[300][1], "end_date": ccc[800][1]})
        self.assertEqual(res["status"], "completed", res)
        # Warmed up: SMA(50) exists from the window's first day, so the
        # strategy can be long on day one when the fast SMA is above.
        closes = [r[5] for r in ccc]
        fast, slow = sum(closes[281:301]) / 20, sum(closes[251:301]) / 50
        first_trade = min((t["entry_date"] for t in res["data"]["trades"]), default=None)
        self.assertEqual(first_trade == ccc[300][1], fast > slow)
        self.assertGreater(res["data"]["performance_metrics"]["trades"], 0)

    def test_positions_shorter_than_df_are_flat_for_the_missing_rows(self):
        """An array that stops early: the rows after its end are flat, so
        the position taken is closed on the first missing row, in each
        symbol (a second ticker's rows are all missing)."""
        syms = ["AAA", "BBB"]
        start, end = self.rows[20][1], self.rows[90][1]
        n_aaa = len(self.window_rows(["AAA"], start, end))
        n = len(self.window_rows(syms, start, end))
        k = n_aaa // 2
        given = [1] * (k - 10) + [-0.5] * 10    # long, then short, then (missing) flat
        code = "local P = {" + ", ".join(repr(v) for v in given) + "}\n" \
               "function short_array(df) local out = {} for i = 1, #P do out[i] = P[i] end return out end\n"
        res = self.run_job("portfolio_backtest", {"strategy_code": code, "symbols": syms, "start_date": start,
                                                  "end_date": end, "commission_bps": 3})
        self.assertEqual(res["status"], "completed", res)
        d = res["data"]
        pos = given + [None] * (n - len(given))
        dates, values, trades, exposure = simulate({s: self.by_symbol()[s] for s in syms}, (start, end), pos,
                                                   100000.0, 3 / 1e4, len(syms))
        self.assertEqual([p["date"] for p in d["equity_curve"]], dates)
        for got, want in zip(d["equity_curve"], values):
            self.assertAlmostEqual(got["equity"], want, delta=1e-6)
        self.assertAlmostEqual(d["performance_metrics"]["exposure"], exposure, places=9)
        aaa = [r[1] for r in self.window_rows(["AAA"], start, end)]
        got = sorted((t["ticker"], t["side"], t["entry_date"], t["exit_date"]) for t in d["trades"])
        self.assertEqual(got, [("AAA", "long", aaa[0], aaa[k - 10]), ("AAA", "short", aaa[k - 10], aaa[k])])
        self.assertFalse(any(t["open"] for t in d["trades"]))
        for t, w in zip(sorted(d["trades"], key=lambda t: t["entry_date"]), trades):
            self.assertAlmostEqual(t["return"], w["return"], places=9)

    def test_bad_positions_and_args(self):
        a, b = self.rows[10][1], self.rows[40][1]
        cases = [
            ({"strategy_code": "function f(df) return {2} end"}, "positions go from -1"),
            ({"strategy_code": "function f(df) return 5 end"}, "one target position per df row"),
            ({"strategy_code": "function f(df) local p = {} for i = 1, df.n + 1 do p[i] = 0 end return p end"},
             "positions for"),
            ({"strategy_code": "function f(df) return {} end", "initial_capital": -5}, "initial_capital"),
            ({"strategy_code": "function f(df) return {} end", "slippage_bps": "x"}, "slippage_bps"),
            ({"strategy_code": "function f(df) return {} end", "symbols": ["ZZZ"]}, "unknown symbols: ZZZ"),
            # not numbers: refused, not taken as flat (only nil and NaN are flat)
            ({"strategy_code": "function f(df) local out = {} for i = 1, df.n do "
              "out[i] = {ticker = df.ticker[i], date = df.date[i]} end return out end"},
             "Strategy error: position 1 is a table (an instance?): portfolio_backtest needs one number per df "
             "row; did you mean task backtest?"),
            ({"strategy_code": "function f(df) return {1, 0, '1'} end"},
             "Strategy error: position 3 is a string (\"1\"), not a number: positions are numbers from -1 to 1 "
             "(nil or NaN: flat)"),
            ({"strategy_code": "function f(df) return {0, true} end"},
             "Strategy error: position 2 is a boolean, not a number"),
            ({"strategy_code": "function f(df) return {1/0} end"}, "position 1 is inf; positions go from -1"),
            # several bad rows: the first is named, whatever order the table gives them in
            ({"strategy_code": "function f(df) local p = {} for i = 1, df.n do p[i] = 0 end "
              "p[9] = 'x' p[7] = true p[4] = 3 p[12] = {} return p end"},
             "Strategy error: position 4 is 3; positions go from -1"),
            ({"strategy_code": "function f(df) local p = {} for i = 1, df.n do p[i] = 0 end "
              "p[9] = 3 p[5] = 'x' return p end"}, "Strategy error: position 5 is a string (\"x\")"),
            ({"strategy_code": "function f(df) return {[9] = 3, [5] = 'x'} end"},
             "Strategy error: position 5 is a string (\"x\")"),
            # a key that is not a row outranks a bad value; of bad keys the smallest number, else the first type
            ({"strategy_code": "function f(df) return {'x', [-2] = 1} end"}, "the positions have a key -2,"),
            ({"strategy_code": "function f(df) return {[{}] = 1, [0] = 1, [true] = 1, [-0.5] = 1} end"},
             "the positions have a key -0.5,"),
            ({"strategy_code": "function f(df) return {[{}] = 1, [print] = 1, [true] = 1} end"},
             "the positions have a boolean key,"),
            ({"strategy_code": "function f(df) return {ticker = 'AAA', date = df.date[1], signal = true} end"},
             "Strategy error: the positions have a field 'date': a position strategy returns an array with one "
             "number per df row (a signal strategy's instance? did you mean task backtest?)"),
            ({"strategy_code": "function f(df) return {[0] = 1} end"}, "the positions have a key 0, which is not "
             "a df row (1 to "),
            ({"strategy_code": "function f(df) return {[1.5] = 1} end"}, "the positions have a key 1.5"),
            ({"strategy_code": "function f(df) return nil end"},
             "Strategy error: the strategy returned nothing (nil): did it forget 'return positions'? "
             "(one number per df row)"),
            ({"strategy_code": "function f(df) local p = {} for i = 1, df.n do p[i] = 0 end end"},
             "returned nothing (nil)"),
            ({"strategy_code": "function f(df) return {} end", "check_lookahead": "true"},
             "check_lookahead must be true or false"),
        ]
        for extra, words in cases:
            args = {"symbols": ["AAA"], "start_date": a, "end_date": b}
            args.update(extra)
            if "initial_capital" in extra or "slippage_bps" in extra:   # refused by the table at once
                p = self.tickq("enqueue", "portfolio_backtest", json.dumps(args))
                self.assertEqual(p.returncode, 65, extra)
                self.assertIn(words, p.stderr)
            jid = self.submit("portfolio_backtest", args)
            status, _ = self.burst("--workers", "1", env=self.env)
            res = self.result(jid)
            self.assertEqual(res["status"], "error", (extra, res))
            self.assertIn(words, res["data"]["error"], extra)
            self.assertEqual(self.job(jid)["attempts"], "1")  # permanent: no retry


    def test_print_output_comes_back_when_the_strategy_fails(self):
        a, b = self.rows[10][1], self.rows[40][1]
        res = self.run_job("portfolio_backtest", {"strategy_code": "function f(df) print('sized', df.n) "
                                                  "return {{}} end", "symbols": ["AAA"], "start_date": a,
                                                  "end_date": b})
        self.assertEqual(res["status"], "error", res)
        self.assertIn("position 1 is a table", res["data"]["error"])
        self.assertEqual(res["data"]["strategy_output"], "sized\t%d\n" % len(self.window_rows(["AAA"], a, b)))

    PEEK = """
function peek(df)
  local pos, t, c = {}, df.ticker, df.close
  for i = 1, df.n do
    if i < df.n and t[i + 1] == t[i] and c[i + 1] > c[i] then pos[i] = 1 else pos[i] = 0 end
  end
  return pos
end
"""

    def test_lookahead_check_compares_positions(self):
        """Positions up to each cut must be those of the full run: a
        strategy that looks at the next close is flagged at the cut date of
        each symbol it was long on; the sma_crossover example is clean.
        Cuts are a sample of the dates where a position changes."""
        syms = ["AAA", "BBB"]
        start, end = self.rows[20][1], self.rows[110][1]
        args = {"symbols": syms, "start_date": start, "end_date": end, "check_lookahead": True}
        peek = self.run_job("portfolio_backtest", dict(args, strategy_code=self.PEEK))
        again = self.run_job("portfolio_backtest", dict(args, strategy_code=self.PEEK))
        plain = self.run_job("portfolio_backtest", {k: v for k, v in dict(args, strategy_code=self.PEEK).items()
                                                    if k != "check_lookahead"})
        self.assertEqual(peek["status"], "completed", peek)
        la = peek["data"]["lookahead"]
        # the full run's positions, worked out here
        pos, changes = {}, set()
        for sym in syms:
            bars = self.window_rows([sym], start, end)
            previous = 0
            for k, r in enumerate(bars):
                p = 1 if k + 1 < len(bars) and bars[k + 1][5] > r[5] else 0
                pos[(sym, r[1])] = p
                if p != previous:
                    changes.add(r[1])
                previous = p
        last = max(r[1] for r in self.window_rows(syms, start, end))
        cuts = sample_cuts({x for x in changes if x < last},
                           {r[1] for r in self.window_rows(syms, start, end) if r[1] < last})
        self.assertEqual(la["cut_dates"], cuts)
        self.assertEqual(la["checked"], len(cuts))
        self.assertEqual(again["data"]["lookahead"]["cut_dates"], cuts)
        # cut at D, a symbol's last bar up to D has no next bar any more: if
        # it was long there (its next close is higher), it is flat now (BBB
        # misses two of AAA's dates, so its last bar may be before D)
        want = []
        for c in cuts:
            for sym in syms:
                bars = self.window_rows([sym], start, end)
                upto = [r[1] for r in bars if r[1] <= c]
                if upto and len(upto) < len(bars) and pos[(sym, upto[-1])] == 1:
                    want.append((c, sym, upto[-1], "changed", "position", 1.0, 0.0))
        want.sort()
        got = sorted((v["cut_date"], v["ticker"], v["date"], v["what"], v["field"], v["full"], v["cut"])
                     for v in la["violations"])
        self.assertEqual(got, want)
        self.assertEqual(la["violations_total"], len(want))
        self.assertGreater(len(want), 0)
        for k in ("summary", "performance_metrics", "trades", "equity_curve"):
            self.assertEqual(peek["data"][k], plain["data"][k], k)
        self.assertNotIn("lookahead", plain["data"])
        code = open(os.path.join(os.path.dirname(__file__), "..", "..", "examples", "strategies",
                                 "sma_crossover.lua")).read()
        clean = self.run_job("portfolio_backtest", {"strategy_code": code, "symbols": ["CCC"],
                                                    "start_date": self.rows[700][1], "end_date": self.rows[1000][1],
                                                    "check_lookahead": True})
        self.assertEqual(clean["status"], "completed", clean)
        la = clean["data"]["lookahead"]
        self.assertGreater(la["checked"], 0)
        self.assertEqual((la["violations"], la["violations_total"]), ([], 0))


class TestPortfolioBust(StrategyDataCase):
    """A sleeve whose equity falls to 0 or below (a short through a rise of
    100% or more in one bar) is bust: its trade ends at that close at that
    value and it trades no more. Taken on, a fraction of a negative equity
    would be a position of the other sign: the short sleeve below "gained"
    as the price went on rising (-50,000 to -27,077), and the reported
    total return (-1.27) was neither the loss at the jump (-1.5) nor
    anything else. Costs that could do the same are refused."""
    # JUMP: 10, 10, then 25 (+150% in one bar), then on up to 40; FLAT never moves.
    closes = [10, 10, 25, 26, 30, 40]
    dates = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09"]
    rows = ([("JUMP", d, c, c, c, c, 1000) for d, c in zip(dates, closes)]
            + [("FLAT", d, 50, 50, 50, 50, 1000) for d in dates])
    SHORT = "function f(df) local p = {} for i = 1, df.n do p[i] = -1 end return p end"

    def run_short(self, symbols):
        res = self.run_job("portfolio_backtest", {"strategy_code": self.SHORT, "symbols": symbols,
                                                  "start_date": self.dates[0], "end_date": self.dates[-1]})
        self.assertEqual(res["status"], "completed", res)
        return res["data"]

    def test_a_short_through_a_doubling_is_bust_at_that_close(self):
        d = self.run_short(["JUMP"])
        # 100,000 short at 10, marked at 25: 100,000 x (1 - 1.5) = -50,000, and so it stays
        self.assertEqual([p["equity"] for p in d["equity_curve"]], [100000, 100000, -50000, -50000, -50000, -50000])
        self.assertEqual(d["summary"]["final_equity"], -50000)
        m = d["performance_metrics"]
        self.assertEqual((m["total_return"], m["max_drawdown"], m["cagr"], m["trades"], m["win_rate"]),
                         (-1.5, -1.5, -1.0, 1, 0.0))
        [t] = d["trades"]
        self.assertEqual((t["ticker"], t["side"], t["entry_date"], t["exit_date"], t["open"], t["return"], t["pnl"]),
                         ("JUMP", "short", self.dates[0], self.dates[2], False, -1.5, -150000))
        # the metrics are the documented ones of this curve: returns 0, 0, -1.5, 0, 0, 0
        rets = [0, 0, -1.5, 0, 0, 0]
        self.assertAlmostEqual(m["sharpe"], statistics.mean(rets) / statistics.stdev(rets) * math.sqrt(252),
                               places=12)

    def test_a_bust_sleeve_freezes_while_the_others_trade_on(self):
        d = self.run_short(["FLAT", "JUMP"])
        # FLAT's sleeve (short, price unchanged) keeps its 50,000; JUMP's ends at -25,000
        self.assertEqual([p["equity"] for p in d["equity_curve"]], [100000, 100000, 25000, 25000, 25000, 25000])
        self.assertEqual(d["performance_metrics"]["total_return"], -0.75)
        self.assertEqual([(t["ticker"], t["exit_date"], t["return"]) for t in d["trades"]],
                         [("JUMP", self.dates[2], -1.5), ("FLAT", None, 0.0)])
        # gross exposure after each close over the account's equity: FLAT's 50,000 short
        # over 100,000 (JUMP's too before the jump), then over 25,000
        self.assertAlmostEqual(d["performance_metrics"]["exposure"], (1 + 1 + 2 + 2 + 2 + 2) / 6, places=12)

    def test_costs_of_half_the_sleeve_a_side_are_refused(self):
        base = {"strategy_code": self.SHORT, "symbols": ["JUMP"], "start_date": self.dates[0],
                "end_date": self.dates[-1]}
        for costs in ({"commission_bps": 5000}, {"commission_bps": 10000, "slippage_bps": 5000},
                      {"commission_bps": 2500, "slippage_bps": 2500}):
            p = self.tickq("enqueue", "portfolio_backtest", json.dumps(dict(base, **costs)))
            self.assertEqual(p.returncode, 65, (costs, p.stderr))
            self.assertIn("commission_bps + slippage_bps must be below 5000", p.stderr)
            # and by the worker, for a job that did not come through the CLI
            jid = self.submit("portfolio_backtest", dict(base, **costs))
            self.burst("--workers", "1", env=self.env)
            res = self.result(jid)
            self.assertEqual(res["status"], "error", res)
            self.assertIn("commission_bps + slippage_bps must be below 5000", res["data"]["error"])
        res = self.run_job("portfolio_backtest", dict(base, commission_bps=2500, slippage_bps=2499))
        self.assertEqual(res["status"], "completed", res)


class TestPortfolioIntervals(StrategyDataCase):
    """The annual figures count the bars a year of the task's interval:
    252 daily, 52 weekly (empyrical's WEEKLY), 252 sessions of 6.5 hours
    intraday. Weekly bars annualised as days made a year that returned
    8.7% a CAGR of 48% and its volatility and Sharpe ratio 2.2 times too
    high."""
    rows = [("DAY", "2023-01-02", 1, 1, 1, 1, 1)]   # the daily import of the base class; the others below

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import datetime
        rng = random.Random(4)
        cls.weekly, cls.hourly = [], []
        price, d = 100.0, datetime.date(2023, 1, 2)
        for _ in range(53):
            c = round(price * math.exp(rng.gauss(0.002, 0.03)), 2)
            cls.weekly.append(("WK", d.isoformat(), price, max(price, c), min(price, c), c, 10000))
            price, d = c, d + datetime.timedelta(days=7)
        price = 50.0
        for day in range(3):
            for h in range(14, 21):   # 14:00 .. 20:00 UTC, seven bars a day
                c = round(price * math.exp(rng.gauss(0, 0.004)), 2)
                cls.hourly.append(("HR", f"2024-03-{4 + day:02d}T{h:02d}:00:00", price, max(price, c),
                                   min(price, c), c, 500))
                price = c
        for interval, rows in (("1wk", cls.weekly), ("1h", cls.hourly)):
            path = os.path.join(cls.tmp, f"{interval}.csv")
            write_bars_csv(path, rows)
            p = tickq("data", "import", path, "--interval", interval, env=cls.env)
            assert p.returncode == 0, p.stderr + p.stdout

    def check_annualised(self, rows, interval, per_year):
        long_ = "function f(df) local p = {} for i = 1, df.n do p[i] = 1 end return p end"
        res = self.run_job("portfolio_backtest", {"strategy_code": long_, "symbols": [rows[0][0]],
                                                  "start_date": rows[0][1], "end_date": rows[-1][1],
                                                  "interval": interval})
        self.assertEqual(res["status"], "completed", res)
        closes = [r[5] for r in rows]
        rets = [0.0] + [b / a - 1 for a, b in zip(closes, closes[1:])]
        total = closes[-1] / closes[0] - 1
        m = res["data"]["performance_metrics"]
        self.assertEqual(res["data"]["summary"]["periods"], len(rows))
        self.assertAlmostEqual(m["total_return"], total, places=12)
        self.assertAlmostEqual(m["cagr"], (1 + total) ** (per_year / len(rets)) - 1, places=12)
        sd = statistics.stdev(rets)
        self.assertAlmostEqual(m["annual_volatility"], sd * math.sqrt(per_year), places=12)
        self.assertAlmostEqual(m["sharpe"], statistics.mean(rets) / sd * math.sqrt(per_year), places=12)
        down = math.sqrt(sum(min(r, 0) ** 2 for r in rets) / len(rets)) * math.sqrt(per_year)
        self.assertAlmostEqual(m["sortino"], statistics.mean(rets) * per_year / down, places=12)

    def test_weekly_bars_are_annualised_with_52_a_year(self):
        self.check_annualised(self.weekly, "1wk", 52)

    def test_hourly_bars_are_annualised_with_252_sessions_of_6_5_hours(self):
        self.check_annualised(self.hourly, "1h", 252 * 6.5)


class TestScreening(StrategyDataCase):
    # Four tickers; DDD stops trading early (its last bar is older).
    rows = make_bars(5, ["AAA", "BBB", "CCC"], 300, 738886) + make_bars(6, ["DDD"], 200, 738886)

    def screen(self, code, unchecked=False, **args):
        a = {"strategy_code": code, "universe": ["AAA", "BBB", "CCC", "DDD"], "limit": 10}
        a.update(args)
        return self.run_job("screening", a, unchecked=unchecked)

    SCORE_BY_TICKER = """
function s(df)
  local out = {}
  local S = { AAA = 2.5, BBB = 7, DDD = 2.5 }
  for i = 1, df.n do
    out[#out + 1] = { ticker = df.ticker[i], date = df.date[i], score = S[df.ticker[i]],
                      message = df.ticker[i] .. " row", rows_seen = df.n, sma50 = df.sma_50[i] }
  end
  return out
end
"""

    def test_ranking_limit_lookback_and_last_bar_only(self):
        res = self.screen(self.SCORE_BY_TICKER, lookback_bars=20, universe=["CCC", "DDD", "BBB", "AAA", "NOPE"])
        self.assertEqual(res["status"], "completed", res)
        d = res["data"]
        self.assertEqual(d["execution_mode"], "screening")
        self.assertEqual(d["universe_size"], 5)
        self.assertEqual(d["missing_symbols"], ["NOPE"])
        # One current opportunity per ticker (its last bar); scored ones by
        # score descending, ties and unscored by ticker; unscored last.
        self.assertEqual([r["ticker"] for r in d["ranked_results"]], ["BBB", "AAA", "DDD", "CCC"])
        self.assertEqual([r["rank"] for r in d["ranked_results"]], [1, 2, 3, 4])
        self.assertIsNone(d["ranked_results"][3]["score"])
        self.assertEqual(d["results_returned"], 4)
        last = {}
        for r in self.rows:
            last[r[0]] = r[1]
        for r in d["ranked_results"]:
            self.assertEqual(r["date"], last[r["ticker"]])
            self.assertEqual(r["signal"], True)
            self.assertEqual(r["message"], r["ticker"] + " row")
            self.assertEqual(r["rows_seen"], 80)  # 4 tickers x lookback 20
            self.assertIsNotNone(r["sma50"])       # features use all history, not just 20 bars
        self.assertEqual(d["data_shape"][0], 80)
        res = self.screen(self.SCORE_BY_TICKER, limit=2)
        self.assertEqual([r["ticker"] for r in res["data"]["ranked_results"]], ["BBB", "AAA"])
        self.assertEqual(res["data"]["results_returned"], 2)

    def test_as_of_moves_the_last_bar(self):
        as_of = self.rows[150][1]  # AAA's 151st date: all four tickers trade then
        res = self.screen(self.SCORE_BY_TICKER, as_of=as_of, lookback_bars=252)
        self.assertEqual(res["status"], "completed", res)
        d = res["data"]
        for r in d["ranked_results"]:
            self.assertEqual(r["date"], as_of)
            self.assertEqual(r["rows_seen"], 151 * 4)
        self.assertEqual(d["as_of"], as_of)
        sma = statistics.fmean(r[5] for r in self.rows if r[0] == "AAA" and r[1] <= as_of and r[1] >=
                               [x for x in self.rows if x[0] == "AAA"][101][1])
        got = [r for r in d["ranked_results"] if r["ticker"] == "AAA"][0]["sma50"]
        self.assertAlmostEqual(got, sma, places=9)

    def test_past_signals_are_not_opportunities(self):
        code = """function s(df)
  local out = {}
  for i = 1, df.n - 1 do  -- every row except the very last one (CCC's latest)
    out[#out + 1] = { ticker = df.ticker[i], date = df.date[i], score = 1 }
  end
  return out
end"""
        res = self.screen(code, universe=["CCC"])
        self.assertEqual(res["status"], "completed", res)
        self.assertEqual(res["data"]["ranked_results"], [])
        self.assertEqual(res["data"]["results_returned"], 0)

    def test_defaults_and_result_fields(self):
        """Without limit and lookback_bars: the top 50 and the last 252 bars
        of each ticker (DDD has only 200); the result carries its timing,
        worker and completion time. A score that is not finite is null and
        ranks as no score (after the scored ones)."""
        code = """
function s(df)
  local out = {}
  for i = 1, df.n do
    if i == df.n or df.ticker[i + 1] ~= df.ticker[i] then   -- each ticker's last bar
      for j = 1, 20 do
        out[#out + 1] = { ticker = df.ticker[i], date = df.date[i], score = j, rows_seen = df.n, j = j }
      end
      if df.ticker[i] == "AAA" then
        out[#out + 1] = { ticker = "AAA", date = df.date[i], score = 1/0, tag = "inf" }
      end
    end
  end
  return out
end
"""
        res = self.run_job("screening", {"strategy_code": code, "universe": ["AAA", "BBB", "CCC", "DDD"]})
        self.assertEqual(res["status"], "completed", res)
        d = res["data"]
        self.assertEqual(d["opportunities"], 81)
        self.assertEqual(d["results_returned"], 50)
        ranked = d["ranked_results"]
        self.assertEqual(len(ranked), 50)
        self.assertNotIn("inf", [r.get("tag") for r in ranked])  # no score: after the 80 scored ones
        scores = [r["score"] for r in ranked]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertEqual(scores[:4], [20, 20, 20, 20])
        self.assertEqual([r["ticker"] for r in ranked[:4]], ["AAA", "BBB", "CCC", "DDD"])
        self.assertEqual({r["rows_seen"] for r in ranked}, {252 * 3 + 200})
        self.assertEqual(d["data_shape"][0], 252 * 3 + 200)
        self.assertIsInstance(d["execution_time_seconds"], (int, float))
        self.assertGreaterEqual(d["execution_time_seconds"], 0)
        self.assertLess(d["execution_time_seconds"], 60)
        self.assertIsInstance(d["worker_id"], str)
        self.assertTrue(d["worker_id"])
        self.assertRegex(d["completed_at"], ISO_RE)
        res = self.run_job("screening", {"strategy_code": code, "universe": ["AAA", "BBB", "CCC", "DDD"],
                                         "limit": 100})
        last = res["data"]["ranked_results"][-1]
        self.assertEqual((last["tag"], last["score"], last["rank"]), ("inf", None, 81))

    def test_malformed_instances_and_nil_are_errors(self):
        """As in a backtest: a signal without a well-formed ticker or date
        is an error naming it (not an empty screen), and so is nil; what
        the strategy printed comes back with the error."""
        cases = [
            ("function s(df) local out = {} for i = 1, df.n do out[i] = {symbol = df.ticker[i], date = df.date[i], "
             "score = 1} end return out end", "Strategy error: instance 1 has no 'ticker' (it has: date, score, "
             "symbol)"),
            ("function s(df) return {{ticker = df.ticker[df.n], day = df.date[df.n]}} end",
             "Strategy error: instance 1 has no 'date' (it has: day, ticker)"),
            ("function s(df) return {{ticker = df.ticker[df.n], date = 20240105}} end",
             "Strategy error: instance 1: 'date' is a number, not a string (an ISO 8601 date such as df.date[i])"),
            ("function s(df) return {{ticker = df.ticker[df.n], date = df.date[df.n], score = '7'}} end",
             "Strategy error: instance 1 (DDD): 'score' is a string, not a number (leave it out, or nil/None, for "
             "no score)"),
            ("function s(df) return {{ticker = df.ticker[df.n], date = df.date[df.n], score = true}} end",
             "Strategy error: instance 1 (DDD): 'score' is a boolean, not a number (leave it out, or nil/None, for "
             "no score)"),
            ("def s(df):\n  return [{'ticker': df.ticker.iloc[-1], 'date': df.date.iloc[-1], 'score': '7'}]\n",
             "Strategy error: instance 1 (DDD): 'score' is a string, not a number (leave it out, or nil/None, for "
             "no score)"),
            ("function s(df) print('screened', df.n) end",
             "Strategy error: the strategy returned nothing (nil): did it forget 'return instances'? "
             "(return {} for no signals)"),
        ]
        for code, want in cases:
            with self.subTest(code=code):
                res = self.screen(code, lookback_bars=5)
                self.assertEqual(res["status"], "error", res)
                self.assertEqual(res["data"]["error"], want)
        self.assertEqual(res["data"]["strategy_output"], "screened\t20\n")

    def test_errors(self):
        res = self.screen("function s(df) return {} end", universe=["NOPE", "ZZZ"])
        self.assertEqual(res["status"], "error")
        self.assertIn("unknown symbols: NOPE, ZZZ", res["data"]["error"])
        res = self.screen("function s(df) return {} end", limit=0, unchecked=True)
        self.assertEqual(res["status"], "error")
        self.assertIn("limit must be an integer from 1 to 100000, got 0", res["data"]["error"])
        res = self.screen("function s(df) return {} end", as_of="2001-01-01")
        self.assertEqual(res["status"], "error")
        self.assertIn("no 1d bars on or before as_of 2001-01-01", res["data"]["error"])
        res = self.screen("function s(df) return {} end", universe=[], unchecked=True)
        self.assertEqual(res["status"], "error")
        self.assertIn("universe must be a non-empty list", res["data"]["error"])
        res = self.screen("def s(df):\n  return []\n")   # Python, detected: no signals
        self.assertEqual(res["status"], "completed", res["data"].get("error"))
        self.assertEqual(res["data"]["ranked_results"], [])
        res = self.screen("def s(df):\n  return [{'ticker': df.ticker.iloc[-1], 'date': df.date.iloc[-1], "
                          "'score': None}]\n")   # None: no score, not an error
        self.assertEqual(res["status"], "completed", res["data"].get("error"))
        self.assertEqual([(r["ticker"], r["score"]) for r in res["data"]["ranked_results"]], [("DDD", None)])
