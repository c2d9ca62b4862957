"""test_options_tasks.py — the options tasks with a real worker, on both
drivers (SQLite and PostgreSQL): synthetic chains -> update_options_data ->
calculate_iv_analysis (implied volatilities give the generating smile back,
Greeks, hv_20/hv_60, the 30-day ATM IV interpolated in total variance) over
25 days so that IV rank and percentile become defined, then
scan_opportunities ranking a high-IV-rank symbol to sell premium and a
low one to buy it; IV percentile and hv over a sparse (weekly, 45-day)
history, by count of observations, not by calendar window; csv_dir and
http_csv chains, where one bad row, a timeout or a cut body writes nothing
and transient failures go back to the queue; argument errors."""
import datetime
import json
import math
import os
import random
import shutil
import statistics
import tempfile

from harness import (FakeHttpServer, Reply, bars_csv, postgres, serve_folder, sqlite_exec, sqlite_rows,
                     temp_sqlite, tickq, write_bars_csv)
from http_harness import HttpCase

RATE = 0.04
FIRST_DAY = datetime.date(2024, 1, 2)
NBARS = 100
NDAYS = 25            # as_of dates analysed, the last NDAYS bars


def weekdays(first, n):
    out, d = [], first
    while len(out) < n:
        if d.weekday() < 5:
            out.append(d)
        d += datetime.timedelta(days=1)
    return out


def make_bars(seed):
    """NBARS daily bars with about 24% annual volatility."""
    rnd = random.Random(seed)
    price, out = 100.0, []
    for d in weekdays(FIRST_DAY, NBARS):
        price = round(price * math.exp(rnd.gauss(0, 0.015)), 2)
        out.append((d.isoformat(), price))
    return out


BARS = {"HI": make_bars(1), "LO": make_bars(2), "AAA": make_bars(3)}
DATES = [d for d, _ in BARS["HI"][-NDAYS:]]
# Base volatilities: HI's climbs 5% a day, LO's falls 5% a day.
BASE = {"HI": [0.25 * 1.05 ** k for k in range(NDAYS)], "LO": [0.40 * 0.95 ** k for k in range(NDAYS)]}


def all_bars_rows():
    return [(sym, d, c, c, c, c, 1000000) for sym, rows in BARS.items() for d, c in rows]


def hv(closes, n):
    r = [math.log(closes[i + 1] / closes[i]) for i in range(len(closes) - 1)][-n:]
    return math.sqrt(252) * statistics.stdev(r)


def smile(base, years, strike, forward):
    """option_synth_vol, as docs/options.md defines it."""
    z = max(-4.0, min(4.0, math.log(strike / forward) / (base * math.sqrt(years))))
    return base * (1 - 0.05 * math.log(365 * years / 30)) * (1 - 0.06 * z + 0.02 * z * z)


def third_friday(y, m):
    d = datetime.date(y, m, 1)
    return d + datetime.timedelta(days=(4 - d.weekday()) % 7 + 14)


def expiries(day, n=4):
    out, y, m = [], day.year, day.month
    while len(out) < n:
        e = third_friday(y, m)
        if e > day:
            out.append(e)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def rank_percentile(ivs):
    """IV rank and percentile of the last of a daily series (all within 52 weeks)."""
    today, past = ivs[-1], ivs[:-1]
    if len(ivs) < 20:
        return None, None
    lo, hi = min(ivs), max(ivs)
    rank = None if hi == lo else 100 * (today - lo) / (hi - lo)
    return rank, 100 * sum(1 for x in past if x < today) / len(past)


def chain_csv(rows, header="symbol,quote_date,expiry,strike,type,bid,ask,last,volume,open_interest,underlying_price"):
    return header + "\n" + "\n".join(",".join(str(x) for x in r) for r in rows) + "\n"


GOOD_AAA = [
    ("AAA", "2024-03-01", "2024-03-15", 100, "call", 2.50, 2.60, 2.55, 10, 500, 101),
    ("AAA", "2024-03-01", "2024-03-15", 100, "put", 1.40, 1.50, 1.45, 12, 400, 101),
    ("AAA", "2024-03-01", "2024-04-19", 100, "call", 4.10, 4.30, 4.20, 5, 300, 101),
    ("AAA", "2024-03-01", "2024-04-19", 100, "put", 2.80, 3.00, 2.90, 6, 200, 101),
    ("AAA", "2024-03-01", "2024-04-19", 150, "call", 0.00, 0.05, "", 0, 0, 101),
]
GOOD_BBB = [
    ("BBB", "2024-03-01", "2024-03-15", 50, "call", 1.00, 1.10, 1.05, 1, 10, 50),
    ("BBB", "2024-03-01", "2024-03-15", 50, "put", 0.90, 1.00, 0.95, 1, 10, 50),
]


class OptionsTasks:
    """Run against both drivers by the two classes at the bottom."""

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-opt-")
        path = write_bars_csv(os.path.join(self.tmp, "bars.csv"), all_bars_rows())
        p = tickq("data", "import", path, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers -------------------------------------------------------
    def run_jobs(self, *jobs, unchecked=False):
        """The results of (type, args) pairs drained in order (harness drain);
        their ids in self.ids."""
        self.ids, results = self.drain(jobs, env=self.env, unchecked=unchecked)
        return results

    def count(self, table):
        return int(self.query(f"SELECT COUNT(*) FROM {table}")[0][0])

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    # --- synthetic -> IV analysis -> scan --------------------------------
    def test_synthetic_iv_history_and_scan(self):
        jobs = []
        for k, day in enumerate(DATES):
            for sym in ("HI", "LO"):
                jobs.append(("update_options_data", {
                    "symbols": [sym], "as_of": day,
                    "provider": {"type": "synthetic", "vol": BASE[sym][k], "noise": 0, "round_cents": False}}))
            jobs.append(("calculate_iv_analysis", {"symbols": ["HI", "LO", "HI"], "as_of": day}))
        jobs.append(("scan_opportunities", {}))
        results = [self.completed_data(r) for r in self.run_jobs(*jobs)]
        updates = [r for r in results if "rows_written" in r]
        analyses = [r for r in results if "results" in r]
        scan = results[-1]

        with self.subTest("update_options_data"):
            # update_options_data: 4 expiries x 21 strikes x call/put, at the bar's date
            self.assertEqual(len(updates), 2 * NDAYS)
            for u in updates:
                self.assertEqual(u["provider"], "synthetic")
                self.assertEqual(u["rows_written"], 168)
                s = u["symbols"][0]
                self.assertEqual((s["rows"], s["expiries"], s["quote_days"], s["quote_date"]), (168, 4, 1, u["as_of"]))
            last = updates[-1]["symbols"][0]
            self.assertEqual(last["symbol"], "LO")
            self.assertAlmostEqual(last["base_vol"], BASE["LO"][-1], places=12)
            self.assertAlmostEqual(last["spot"], BARS["LO"][-1][1], places=12)
            self.assertEqual(self.count("option_quotes"), 2 * NDAYS * 168)

        with self.subTest("calculate_iv_analysis"):
            # calculate_iv_analysis: every contract solved (no rounding), hv as the features engine
            series = {"HI": [], "LO": []}
            for k, a in enumerate(analyses):
                self.assertEqual([r["symbol"] for r in a["results"]], ["HI", "LO"])
                self.assertEqual((a["rate"], a["dividend_yield"], a["skipped_symbols"]), (RATE, 0, []))
                for r in a["results"]:
                    sym = r["symbol"]
                    closes = [c for d, c in BARS[sym] if d <= DATES[k]]
                    self.assertEqual(r["date"], DATES[k])
                    # deep in the money a few days out, the time value is under
                    # the price's last bit: such a mid is at the bound, skipped
                    self.assertEqual((r["contracts"], r["solved"] + r["skipped"], r["expiries"]), (168, 168, 4))
                    self.assertEqual(r["skipped"], r["skipped_reasons"]["no_arbitrage"])
                    self.assertLess(r["skipped"], 20)
                    self.assertAlmostEqual(r["hv_20"], hv(closes, 20), places=10)
                    self.assertAlmostEqual(r["hv_60"], hv(closes, 60), places=10)
                    self.assertEqual(r["underlying_price"], closes[-1])
                    self.assertEqual(r["history_days"], k + 1)
                    self.check_atm(r, BASE[sym][k])
                    series[sym].append(r["atm_iv_30d"])
                    rank, pct = rank_percentile(series[sym])
                    if k < 19:
                        self.assertIsNone(r["iv_rank"], k)
                        self.assertIsNone(r["iv_percentile"], k)
                    else:
                        self.assertAlmostEqual(r["iv_rank"], rank, places=9)
                        self.assertAlmostEqual(r["iv_percentile"], pct, places=9)
            final = {r["symbol"]: r for r in analyses[-1]["results"]}
            self.assertEqual((final["HI"]["iv_rank"], final["HI"]["iv_percentile"]), (100, 100))
            self.assertEqual((final["LO"]["iv_rank"], final["LO"]["iv_percentile"]), (0, 0))
            self.assertGreater(final["HI"]["atm_iv_30d"], final["HI"]["hv_20"])
            self.assertLess(final["LO"]["atm_iv_30d"], final["LO"]["hv_20"])

        with self.subTest("stored contracts"):
            # the stored contracts: IV = the smile the prices came from; Greeks per day and per point
            for k in (0, NDAYS - 1):
                self.check_contracts("HI", DATES[k], BASE["HI"][k])
                self.check_contracts("LO", DATES[k], BASE["LO"][k])
            solved = sum(r["solved"] for a in analyses for r in a["results"])
            self.assertEqual(self.count("option_iv"), solved)
            hist = self.query("SELECT symbol, COUNT(*), COUNT(iv_rank) FROM iv_history GROUP BY symbol ORDER BY symbol")
            self.assertEqual([tuple(int(x) if i else x for i, x in enumerate(h)) for h in hist],
                             [("HI", NDAYS, NDAYS - 19), ("LO", NDAYS, NDAYS - 19)])

        with self.subTest("scan_opportunities"):
            # scan_opportunities: HI sells premium, LO buys it
            self.assertEqual([(x["rank"], x["symbol"]) for x in scan["sell_premium"]], [(1, "HI")])
            self.assertEqual([(x["rank"], x["symbol"]) for x in scan["buy_premium"]], [(1, "LO")])
            hi, lo = scan["sell_premium"][0], scan["buy_premium"][0]
            self.assertAlmostEqual(hi["score"], 100 + 100 * (hi["atm_iv_30d"] / hi["hv_20"] - 1), places=9)
            self.assertAlmostEqual(lo["score"], 100 + 100 * (1 - lo["atm_iv_30d"] / lo["hv_20"]), places=9)
            self.assertEqual((hi["date"], hi["iv_rank"]), (DATES[-1], 100))
            self.assertGreaterEqual(hi["atm_open_interest"], 100)
            self.assertEqual(scan["rules"]["min_iv_rank_sell"], 50)
            self.assertEqual(scan["rules"]["max_iv_rank_buy"], 20)
            self.assertIn("iv_rank >= 50", scan["rules"]["sell_premium"])
            self.assertEqual(scan["symbols_scanned"], 2)
            stored = self.query("SELECT side, rank, symbol, score FROM opportunities ORDER BY side")
            self.assertEqual([(s, int(r), sym) for s, r, sym, _ in stored], [("buy_premium", 1, "LO"),
                                                                             ("sell_premium", 1, "HI")])
            self.assertAlmostEqual(float(stored[1][3]), hi["score"], places=9)
            self.assertRegex(scan["generated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

        with self.subTest("read back over HTTP"):
            # the dashboard's endpoints: the newest scan, each symbol's latest row, one symbol's history
            srv = self.serve(env=self.env)
            got = self.expect(self.get(srv, "/api/opportunities"), 200)
            self.assertEqual(got["generated_at"], scan["generated_at"])
            for side in ("sell_premium", "buy_premium"):
                self.assertEqual(len(got[side]), len(scan[side]))
                for a, b in zip(got[side], scan[side]):
                    for k in ("rank", "symbol", "date", "atm_open_interest", "atm_volume"):
                        self.assertEqual(a[k], b[k], k)
                    for k in ("score", "atm_iv_30d", "iv_rank", "iv_percentile", "hv_20", "hv_60"):
                        # the task's result has 15 significant digits, the database all of them
                        if b[k] is None:
                            self.assertIsNone(a[k], k)
                        else:
                            self.assertAlmostEqual(a[k], b[k], delta=abs(b[k]) * 1e-13, msg=k)
            latest = self.expect(self.get(srv, "/api/options"), 200)["symbols"]
            self.assertEqual([(r["symbol"], r["date"]) for r in latest], [("HI", DATES[-1]), ("LO", DATES[-1])])
            hist = self.expect(self.get(srv, f"/api/iv/HI?from={DATES[0]}&to={DATES[-1]}"), 200)
            self.assertEqual([r["date"] for r in hist["rows"]], DATES)
            self.assertEqual(hist["rows"][-1]["iv_rank"], 100)
            self.assertAlmostEqual(hist["rows"][-1]["atm_iv_30d"], hi["atm_iv_30d"], delta=1e-13)
            self.assertEqual(self.expect(self.get(srv, "/api/iv/NONE?from=2024-01-01&to=2024-12-31"), 200)["rows"],
                             [])
            whole = self.expect(self.get(srv, "/api/iv/HI"), 200)   # the year up to its latest row
            self.assertEqual(([r["date"] for r in whole["rows"]], whole["to"]), (DATES, DATES[-1]))
            self.assertEqual(self.expect(self.get(srv, "/api/iv/NONE"), 200),
                             {"symbol": "NONE", "from": None, "to": None, "rows": []})
            self.expect(self.get(srv, "/api/iv/HI?from=2024-13-01"), 400, "from '2024-13-01' is not a date")
            self.expect(self.get(srv, "/api/iv/HI?from=2024-05-01&to=2024-01-01"), 400, "on or before")
            self.expect(self.get(srv, "/api/iv/a%20b"), 400, "is not a symbol")

        with self.subTest("strict scan, early scan, recalculation"):
            # a stricter liquidity rule, a scan as of a day before rank existed,
            # and a recalculation that replaces rather than adds rows
            res = self.run_jobs(("scan_opportunities", {"min_open_interest": 10 ** 9}),
                                ("scan_opportunities", {"as_of": DATES[10]}),
                                ("calculate_iv_analysis", {"symbols": "all", "as_of": DATES[-1]}))
            strict, early, again = (self.completed_data(r) for r in res)
            self.assertEqual((strict["sell_premium"], strict["buy_premium"], strict["excluded"]["illiquid"]),
                             ([], [], 2))
            self.assertEqual((early["sell_premium"], early["excluded"]["no_data"], early["as_of"]), ([], 2, DATES[10]))
            self.assertEqual([r["iv_rank"] for r in again["results"]], [100, 0])
            self.assertEqual(self.count("option_iv"), solved)
            self.assertEqual(self.count("iv_history"), 2 * NDAYS)
            self.assertEqual(self.count("opportunities"), 2)

    # --- sparse histories: definitions by count, not by calendar ----------
    def test_percentile_and_hv_over_a_sparse_history(self):
        """IV percentile compares today's IV with the previous 252 stored
        observations however sparse, and hv_N uses the last N returns of the
        stored bars however far apart (docs/options.md). A weekly IV history
        of 300 rows (almost six years: 114 rows in the last 800 days), bars
        45 days apart (18 in the last 800 days), analysed on the last bar.
        Of the last 252 rows 77 are below today's IV (0.10 against 0.90; the
        synthetic chain's IV is near 0.35): 77/252 = 30.56, where an 800-day
        window gave 27/114 = 23.68. Rank is over the 52 weeks: 52 rows and
        today."""
        day = datetime.date(2024, 5, 20)
        rnd = random.Random(7)
        price, bars = 80.0, []
        for j in range(99, -1, -1):
            price = round(price * math.exp(rnd.gauss(0, 0.02)), 2)
            bars.append(((day - datetime.timedelta(days=45 * j)).isoformat(), price))
        path = self.write("sparse.csv", bars_csv([("SPARSE", d, c, c, c, c, 1000000) for d, c in bars]))
        p = tickq("data", "import", path, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = []
        for k in range(1, 301):  # k weeks before the day
            below = k > 252 or (k <= 27 if k <= 114 else k <= 114 + 50)
            d = (day - datetime.timedelta(days=7 * k)).isoformat()
            rows.append(f"('SPARSE', '{d}', {0.10 if below else 0.90}, 'interpolated', 0, 0, 0, 0, 0)")
        self.execute("INSERT INTO iv_history (symbol, date, atm_iv_30d, atm_method, contracts, solved, skipped,"
                     " atm_open_interest, atm_volume) VALUES " + ", ".join(rows))

        provider = {"type": "synthetic", "noise": 0, "round_cents": False}
        up, calc = (self.completed_data(r) for r in self.run_jobs(
            ("update_options_data", {"symbols": ["SPARSE"], "as_of": day.isoformat(), "provider": provider}),
            ("calculate_iv_analysis", {"symbols": ["SPARSE"], "as_of": day.isoformat()})))
        closes = [c for _, c in bars]
        s = up["symbols"][0]
        self.assertAlmostEqual(s["hv_20"], hv(closes, 20), places=10)   # the last 21 bars span 900 days
        self.assertAlmostEqual(s["base_vol"], 1.1 * s["hv_20"], places=12)
        r = calc["results"][0]
        self.assertEqual((r["symbol"], r["date"], r["history_days"]), ("SPARSE", day.isoformat(), 53))
        self.assertAlmostEqual(r["hv_20"], hv(closes, 20), places=10)
        self.assertAlmostEqual(r["hv_60"], hv(closes, 60), places=10)
        self.assertTrue(0.10 < r["atm_iv_30d"] < 0.90, r["atm_iv_30d"])
        self.assertEqual(r["iv_percentile"], 100 * 77 / 252)               # the result holds the same bits
        self.assertAlmostEqual(r["iv_rank"], 100 * (r["atm_iv_30d"] - 0.10) / (0.90 - 0.10), places=10)
        [(iv, rank, pct)] = self.query("SELECT atm_iv_30d, iv_rank, iv_percentile FROM iv_history"
                                       f" WHERE symbol = 'SPARSE' AND date = '{day.isoformat()}'")
        iv, rank, pct = float(iv), float(rank), float(pct)
        self.assertEqual(pct, 100 * 77 / 252)                          # stored to the last bit
        self.assertEqual(rank, 100 * (iv - 0.10) / (0.90 - 0.10))

    def check_atm(self, r, base):
        """The 30-day ATM IV from the two expiries bracketing 30 days (total
        variance), or the nearest one when all are on one side."""
        day = datetime.date.fromisoformat(r["date"])
        days = [(e - day).days for e in expiries(day)]
        near = [d for d in days if d <= 30]
        far = [d for d in days if d > 30]
        self.assertLessEqual(abs(r["near_iv"] / base - 1), 0.25)
        if near and near[-1] == 30:
            self.assertEqual((r["atm_method"], r["atm_iv_30d"], r["far_expiry"]), ("exact", r["near_iv"], None))
            self.assertEqual(r["near_expiry"], (day + datetime.timedelta(days=30)).isoformat())
        elif near and far:
            self.assertEqual(r["atm_method"], "interpolated")
            t1, t2 = near[-1] / 365, far[0] / 365
            self.assertEqual(r["near_expiry"], (day + datetime.timedelta(days=near[-1])).isoformat())
            self.assertEqual(r["far_expiry"], (day + datetime.timedelta(days=far[0])).isoformat())
            w1, w2 = r["near_iv"] ** 2 * t1, r["far_iv"] ** 2 * t2
            w = w1 + (w2 - w1) * (30 / 365 - t1) / (t2 - t1)
            self.assertAlmostEqual(r["atm_iv_30d"], math.sqrt(w / (30 / 365)), places=12)
        else:
            self.assertEqual(r["atm_method"], "nearest_long" if far else "nearest_short")
            self.assertEqual(r["atm_iv_30d"], r["near_iv"])
            self.assertIsNone(r["far_expiry"])

    def check_contracts(self, sym, day, base):
        """Every contract near the money is solved, to the smile's vol."""
        rows = self.query("SELECT expiry, strike, type, underlying_price, mid, iv, delta, gamma, theta, vega, rho"
                          f" FROM option_iv WHERE symbol = '{sym}' AND quote_date = '{day}' ORDER BY expiry, strike, type")
        d0 = datetime.date.fromisoformat(day)
        spot = float(self.query(f"SELECT MAX(underlying_price) FROM option_quotes WHERE symbol = '{sym}'"
                                f" AND quote_date = '{day}'")[0][0])
        near = 0
        for exp, k in self.query(f"SELECT expiry, strike FROM option_quotes WHERE symbol = '{sym}'"
                                 f" AND quote_date = '{day}'"):
            t = (datetime.date.fromisoformat(exp) - d0).days / 365
            near += abs(math.log(float(k) / (spot * math.exp(RATE * t)))) < 0.15
        checked = 0
        for exp, k, typ, s, mid, iv, delta, gamma, theta, vega, rho in rows:
            k, s, iv, delta, gamma, vega = (float(x) for x in (k, s, iv, delta, gamma, vega))
            t = (datetime.date.fromisoformat(exp) - d0).days / 365
            fwd = s * math.exp(RATE * t)
            self.assertGreater(gamma, 0)
            self.assertGreater(vega, 0)
            self.assertTrue(0 < delta < 1 if typ == "call" else -1 < delta < 0)
            if abs(math.log(k / fwd)) < 0.15:
                self.assertAlmostEqual(iv, smile(base, t, k, fwd), delta=1e-6, msg=f"{sym} {exp} {k} {typ}")
                # vega per vol point: a point of vol moves the price by about vega
                self.assertAlmostEqual(vega, s * math.sqrt(t) * math.exp(-0.5 * ((math.log(s / k) + (RATE + iv * iv / 2) * t) / (iv * math.sqrt(t))) ** 2) / math.sqrt(2 * math.pi) / 100, places=9)
                checked += 1
        self.assertEqual(checked, near)
        self.assertGreater(checked, 20)

    def test_rounded_chain_counts_skipped_contracts(self):
        """Prices in cents: far out-of-the-money contracts bid 0 and are
        skipped, not errors; the ATM IV is still about the base."""
        res = self.run_jobs(("update_options_data", {"symbols": "all", "provider": {"type": "synthetic", "vol": 0.3,
                                                                                  "noise": 0, "strikes": 30}}),
                            ("calculate_iv_analysis", {"symbols": ["AAA", "ZZZ"]}))
        up, calc = (self.completed_data(r) for r in res)
        self.assertEqual([s["symbol"] for s in up["symbols"]], ["AAA", "HI", "LO"])
        self.assertEqual(up["symbols"][0]["quote_date"], BARS["AAA"][-1][0])
        r = calc["results"][0]
        self.assertEqual((r["symbol"], r["date"]), ("AAA", BARS["AAA"][-1][0]))
        self.assertGreater(r["skipped_reasons"]["zero_bid"], 0)
        self.assertEqual(r["skipped"], sum(r["skipped_reasons"].values()))
        self.assertEqual(r["solved"] + r["skipped"], r["contracts"])
        self.assertAlmostEqual(r["atm_iv_30d"], 0.3, delta=0.02)
        self.assertEqual(calc["skipped_symbols"], [{"symbol": "ZZZ", "reason":
                                                    "no option quotes stored: run update_options_data first"}])
        self.assertEqual(self.count("option_iv"), r["solved"])

    def test_deep_itm_iv_hidden_under_the_mids_last_bit_is_skipped(self):
        """A deep in-the-money mid a few ulps above its intrinsic value has a
        time value that is only the rounding of the price: any volatility
        from a wide range prices it to the last bit, so the IV it solves to
        is noise (a model-priced chain's K=8 call, 11 days out, came back
        0.4940 for a smile of 0.4915). Such contracts are counted in
        no_arbitrage and not stored (docs/options.md); a deep in-the-money
        mid with a real time value (a cent) and the contracts at the money
        are solved, and every stored IV is one the mid determines: its last
        bit moves it by at most 1e-5 (a thousandth of a vol point)."""
        s, r, q, quote, expiry = 15.46, 0.03, 0.01, "2024-03-01", "2024-03-12"
        t = 11 / 365

        def intrinsic(kind, k):
            a, b = s * math.exp(-q * t), k * math.exp(-r * t)
            return a - b if kind == "call" else b - a

        def ulps_above(x, n):
            for _ in range(n):
                x = math.nextafter(x, math.inf)
            return x

        rows = []
        for kind, k, n in (("call", 8, 1), ("call", 7, 3), ("call", 6, 12), ("put", 24, 4), ("put", 25, 2)):
            mid = ulps_above(intrinsic(kind, k), n)
            rows.append(("AAA", quote, expiry, k, kind, repr(mid), repr(mid), "", 10, 100, s))
        cent = round(intrinsic("call", 9) + 0.01, 2)   # a real time value: a cent
        rows.append(("AAA", quote, expiry, 9, "call", cent, cent, "", 10, 100, s))
        rows += [("AAA", quote, expiry, 15.5, "call", 0.52, 0.54, "", 10, 100, s),
                 ("AAA", quote, expiry, 15.5, "put", 0.55, 0.57, "", 10, 100, s)]
        self.write("itm/AAA_options.csv", chain_csv(rows))
        provider = {"type": "csv_dir", "path": os.path.join(self.tmp, "itm")}
        up, calc = (self.completed_data(x) for x in self.run_jobs(
            ("update_options_data", {"symbols": ["AAA"], "provider": provider}),
            ("calculate_iv_analysis", {"symbols": ["AAA"], "rate": r, "dividend_yield": q})))
        res = calc["results"][0]
        self.assertEqual((res["contracts"], res["solved"]), (8, 3), res)
        self.assertEqual(res["skipped_reasons"], {"zero_bid": 0, "no_arbitrage": 5, "unsolved": 0})
        stored = self.query("SELECT strike, type, mid, iv, vega FROM option_iv WHERE symbol = 'AAA' ORDER BY strike,"
                            " type")
        self.assertEqual([(float(k), kind) for k, kind, *_ in stored], [(9, "call"), (15.5, "call"), (15.5, "put")])
        for k, kind, mid, iv, vega in stored:
            k, mid, iv, vega = float(k), float(mid), float(iv), float(vega)
            # vega is per vol point: the mid's last bit, 2.2e-16 x mid, moves the IV by this much
            self.assertLessEqual(2.220446049250313e-16 * mid / (100 * vega), 1e-5, (k, kind, iv))
            # and the IV prices the mid back (Black-Scholes-Merton, written out here)
            d1 = (math.log(s / k) + (r - q + iv * iv / 2) * t) / (iv * math.sqrt(t))
            d2 = d1 - iv * math.sqrt(t)
            n = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))
            price = (s * math.exp(-q * t) * n(d1) - k * math.exp(-r * t) * n(d2) if kind == "call"
                     else k * math.exp(-r * t) * n(-d2) - s * math.exp(-q * t) * n(-d1))
            self.assertAlmostEqual(price, mid, delta=1e-12 * s, msg=(k, kind, iv))

    def test_hv_needs_a_recent_bar(self):
        """A chain with underlying_price on every row needs no bar for its
        spot, but hv_20/hv_60 come from the bars: when the last one is more
        than 7 days before the quote date they are null (no volatility of
        bars that stopped months ago, which the scan would set against the
        day's IV); within 7 days they are the bars' own."""
        last = datetime.date.fromisoformat(BARS["AAA"][-1][0])
        closes = [c for _, c in BARS["AAA"]]
        for gap, want in ((60, None), (3, hv(closes, 20))):
            with self.subTest(gap=gap):
                quote = (last + datetime.timedelta(days=gap)).isoformat()
                expiry = (last + datetime.timedelta(days=gap + 30)).isoformat()
                rows = [("AAA", quote, expiry, 100, kind, 2.5, 2.7, 2.6, 10, 100, 101) for kind in ("call", "put")]
                self.write(f"chains{gap}/AAA_options.csv", chain_csv(rows))
                provider = {"type": "csv_dir", "path": os.path.join(self.tmp, f"chains{gap}")}
                up, calc = (self.completed_data(r) for r in self.run_jobs(
                    ("update_options_data", {"symbols": ["AAA"], "provider": provider, "as_of": quote}),
                    ("calculate_iv_analysis", {"symbols": ["AAA"], "as_of": quote})))
                r = calc["results"][0]
                self.assertEqual((r["date"], r["underlying_price"]), (quote, 101))
                if want is None:
                    self.assertIsNone(r["hv_20"], r)
                    self.assertIsNone(r["hv_60"], r)
                else:
                    self.assertAlmostEqual(r["hv_20"], want, places=10)
                    self.assertAlmostEqual(r["hv_60"], hv(closes, 60), places=10)

    # --- csv_dir and http_csv ------------------------------------------
    def test_csv_dir_bad_row_writes_nothing(self):
        folder = os.path.join(self.tmp, "chains")
        self.write("chains/AAA_options.csv", chain_csv(GOOD_AAA))
        bad = list(GOOD_BBB)
        bad[1] = ("BBB", "2024-03-01", "2024-03-15", 50, "put", 1.20, 1.00, 0.95, 1, 10, 50)  # bid > ask: line 3
        self.write("chains/BBB_options.csv", chain_csv(bad))
        args = {"symbols": ["AAA", "BBB"], "provider": {"type": "csv_dir", "path": folder}}
        [res] = self.run_jobs(("update_options_data", args))
        err = self.permanent_error(res, self.ids[0])
        self.assertIn("1 symbol failed, nothing written", err)
        self.assertIn("BBB_options.csv:3: bid 1.2 is above ask 1", err)
        self.assertEqual(self.count("option_quotes"), 0)

        self.write("chains/BBB_options.csv", chain_csv(GOOD_BBB))
        fixed = list(GOOD_AAA)
        fixed[0] = ("AAA", "2024-03-01", "2024-03-15", 100, "call", 2.40, 2.60, 2.55, 10, 500, 101)
        res = self.run_jobs(("update_options_data", args),
                            ("update_options_data", {"symbols": "all", "provider": {"type": "csv_dir", "path": folder},
                                                     "as_of": "2024-03-01"}),
                            ("calculate_iv_analysis", {"symbols": ["AAA"], "as_of": "2024-03-01", "rate": 0.05}))
        first, second, calc = (self.completed_data(r) for r in res)
        self.assertEqual(first["rows_written"], 7)
        self.assertEqual([(s["symbol"], s["rows"], s["quote_date"]) for s in first["symbols"]],
                         [("AAA", 5, "2024-03-01"), ("BBB", 2, "2024-03-01")])
        self.assertEqual(second["rows_written"], 7)
        self.assertEqual(self.count("option_quotes"), 7)  # upserted, not added
        last = self.query("SELECT last FROM option_quotes WHERE symbol = 'AAA' AND strike = 150")
        self.assertEqual(last, [(None,)] if self.kind == "sqlite" else [("",)])
        r = calc["results"][0]
        self.assertEqual((r["contracts"], r["solved"], r["skipped_reasons"]["zero_bid"]), (5, 4, 1))
        self.assertEqual(r["underlying_price"], 101)  # the chain's, not the bar close
        self.assertEqual((r["near_expiry"], r["far_expiry"], r["atm_method"]), ("2024-03-15", "2024-04-19",
                                                                               "interpolated"))
        self.assertEqual((r["atm_open_interest"], r["atm_volume"]), (1400, 33))
        self.assertEqual(calc["rate"], 0.05)

        # an updated quote replaces the stored one
        self.write("chains/AAA_options.csv", chain_csv(fixed))
        self.completed_data(self.run_jobs(("update_options_data", args))[0])
        bid = self.query("SELECT bid FROM option_quotes WHERE symbol = 'AAA' AND strike = 100 AND type = 'call'"
                         " AND expiry = '2024-03-15'")
        self.assertEqual(float(bid[0][0]), 2.40)
        self.assertEqual(self.count("option_quotes"), 7)

    def test_http_csv_provider(self):
        root = os.path.join(self.tmp, "www")
        # no quote_date column: the rows are dated as_of ({date} in the URL)
        self.write("www/AAA/2024-03-01.csv", chain_csv(
            [r[2:] for r in GOOD_AAA], header="expiry,strike,type,bid,ask,last,volume,open_interest,underlying_price"))

        server = FakeHttpServer(serve_folder(root))
        self.addCleanup(server.close)
        url = server.url("/{symbol}/{date}.csv")
        provider = {"type": "http_csv", "url": url, "retries": 0}
        res = self.run_jobs(("update_options_data", {"symbols": ["AAA"], "provider": provider,
                                                     "as_of": "2024-03-01"}),
                            ("update_options_data", {"symbols": ["AAA", "NOPE"], "provider": provider,
                                                     "as_of": "2024-03-01"}))
        good = self.completed_data(res[0])
        self.assertEqual((good["provider"], good["rows_written"], good["symbols"][0]["quote_date"]),
                         ("http_csv", 5, "2024-03-01"))
        err = self.permanent_error(res[1], self.ids[1])
        self.assertIn("NOPE: ", err)
        self.assertIn("/NOPE/2024-03-01.csv: HTTP status 404", err)
        self.assertEqual(self.count("option_quotes"), 5)

    def test_http_csv_failures_write_nothing_and_transient_ones_retry(self):
        """A slow server (timeout), a 500 then OK (retried, in the fetch or
        by the queue), a body cut inside its last row and a transfer shorter
        than its Content-Length. Each failing job also fetched a good chain
        for a symbol stored nowhere else: none of its rows may be written.
        Timeouts and cut transfers are transient (back to the queue), bad
        data is permanent."""
        body = chain_csv([r[2:] for r in GOOD_AAA],
                         header="expiry,strike,type,bid,ask,last,volume,open_interest,underlying_price")

        def respond(path, n):
            sym = path.strip("/").split("/")[0]
            if sym.startswith("FRESH") or sym.startswith("GOOD"):
                return Reply(200, body)
            if sym == "ZSLOW":
                return Reply(200, body, delay=1.5)
            if sym.startswith("ZFLAKY"):     # 500 on the first request only
                return Reply(500, "oops\n") if n == 1 else Reply(200, body)
            if sym == "ZTRUNC":              # the body stops inside its last row
                return Reply(200, body.rstrip("\n").rsplit(",", 3)[0])
            if sym == "ZCUT":                # Content-Length promises more than comes
                return Reply(200, body[:60], length=len(body))
            return Reply(404, "no such symbol\n")

        server = FakeHttpServer(respond)
        self.addCleanup(server.close)
        url = server.url("/{symbol}/{date}.csv")

        def hits(sym):
            return server.hits.get(f"/{sym}/2024-03-01.csv", 0)

        def job(symbols, retries=0, timeout=0.5):
            return {"symbols": symbols, "as_of": "2024-03-01",
                    "provider": {"type": "http_csv", "url": url, "retries": retries, "timeout_seconds": timeout}}

        def run(args, max_retries):
            jid = self.enqueue("update_options_data", args, "--max-retries", str(max_retries))
            status, w = self.burst("--workers", "1", "--retry-base", "50ms", env=self.env)
            self.assertEqual(status, 0, w.log())
            return jid, self.result(jid)

        def fresh_rows():
            return self.count("option_quotes WHERE symbol LIKE 'FRESH%'")

        with self.subTest("timeout: transient"):
            # Transient: each attempt times out; the queue retries once, then the job is dead.
            jid, res = run(job(["FRESH1", "ZSLOW"], timeout=0.3), max_retries=1)
            self.assertEqual((res["status"], self.state(jid), self.job(jid)["attempts"]), ("error", "dead", "2"))
            self.assertEqual([r["kind"] for r in self.retries(jid)], ["transient", "transient"])
            self.assertIn("ZSLOW: ", res["data"]["error"])
            self.assertIn("timed out", res["data"]["error"])
            self.assertIn("nothing written", res["data"]["error"])
            self.assertEqual(hits("ZSLOW"), 2)
            self.assertEqual(hits("FRESH1"), 2)       # fetched (and thrown away) on each attempt
            self.assertEqual((fresh_rows(), self.count("option_quotes")), (0, 0))

        with self.subTest("cut transfer: transient"):
            # Transient, cut transfer: the same.
            jid, res = run(job(["FRESH2", "ZCUT"]), max_retries=0)
            self.assertEqual((res["status"], self.state(jid), self.job(jid)["attempts"]), ("error", "dead", "1"))
            self.assertEqual([r["kind"] for r in self.retries(jid)], ["transient"])
            cut = len(body.encode()) - len(body[:60].encode())   # what the Content-Length promised beyond
            self.assertEqual(res["data"]["error"],
                             f"1 symbol failed, nothing written: ZCUT: {url.format(symbol='ZCUT', date='2024-03-01')}: "
                             f"transfer closed with {cut} bytes remaining to read (after 1 attempt)")
            self.assertEqual(hits("FRESH2"), 1)
            self.assertEqual((fresh_rows(), self.count("option_quotes")), (0, 0))

        with self.subTest("body cut in a row: permanent"):
            # Permanent, a body cut inside its last row: fails at once, no retry.
            jid, res = run(job(["FRESH3", "ZTRUNC"]), max_retries=3)
            err = self.permanent_error(res, jid)
            self.assertEqual(self.retries(jid), [])
            self.assertIn("1 symbol failed, nothing written: ZTRUNC: 1 bad of 5 rows:", err)
            self.assertEqual((hits("ZTRUNC"), hits("FRESH3")), (1, 1))
            self.assertEqual((fresh_rows(), self.count("option_quotes")), (0, 0))

        with self.subTest("500 then OK: retried"):
            # 500 then OK: retried inside the fetch (one attempt, two requests) ...
            jid, res = run(job(["ZFLAKY1"], retries=1), max_retries=0)
            self.assertEqual(self.completed_data(res)["rows_written"], 5)
            self.assertEqual((self.job(jid)["attempts"], hits("ZFLAKY1")), ("1", 2))
            # ... or, with no retry in the fetch, by the queue: the first
            # attempt writes nothing, the second writes every row once.
            jid, res = run(job(["GOOD", "ZFLAKY2"]), max_retries=2)
            self.assertEqual(self.completed_data(res)["rows_written"], 10)
            self.assertEqual((self.job(jid)["attempts"], hits("ZFLAKY2"), hits("GOOD")), ("2", 2, 2))
            self.assertEqual([r["kind"] for r in self.retries(jid)], ["transient"])
            counts = self.query("SELECT symbol, COUNT(*) FROM option_quotes GROUP BY symbol ORDER BY symbol")
            self.assertEqual([(sym, int(n)) for sym, n in counts], [("GOOD", 5), ("ZFLAKY1", 5), ("ZFLAKY2", 5)])

    # --- argument and data errors ----------------------------------------
    def test_errors(self):
        jobs = (
            ("update_options_data", {"symbols": ["AAA"]}),
            ("update_options_data", {"symbols": ["AAA"], "provider": {"type": "ftp"}}),
            ("update_options_data", {"symbols": ["AAA"], "provider": {"type": "synthetic", "vol": -1}}),
            ("update_options_data", {"symbols": "AAPL", "provider": {"type": "synthetic"}}),
            ("update_options_data", {"symbols": ["AAA", "NOBARS"], "provider": {"type": "synthetic"}}),
            ("update_options_data", {"symbols": ["AAA"], "provider": {"type": "synthetic"}, "as_of": "2024-13-01"}),
            ("update_options_data", {"symbols": ["AAA"], "provider": {"type": "csv_dir", "path": self.tmp}}),
            ("calculate_iv_analysis", {"symbols": ["AAA"]}),
            ("calculate_iv_analysis", {"symbols": "all"}),
            ("calculate_iv_analysis", {"symbols": ["AAA"], "rate": "4%"}),
            ("scan_opportunities", {"limit": 0}),
        )
        bad_args = (0, 1, 2, 3, 5, 9, 10)     # refused by their tables; the rest fail on the data
        for k in bad_args:
            p = self.tickq("enqueue", jobs[k][0], json.dumps(jobs[k][1]))
            self.assertEqual(p.returncode, 65, json.dumps(jobs[k]))
        res = self.run_jobs(*jobs, unchecked=True)
        errors = [self.permanent_error(r, i) for r, i in zip(res, self.ids)]
        for k in bad_args:
            p = self.tickq("enqueue", jobs[k][0], json.dumps(jobs[k][1]))
            self.assertIn(errors[k], p.stderr)     # the same message either way
        self.assertIn("missing provider", errors[0])
        self.assertIn("provider.type 'ftp' is unknown", errors[1])
        self.assertIn("provider.vol must be a number from 0.01 to 5", errors[2])
        self.assertIn("symbols is the string 'AAPL'", errors[3])
        self.assertIn("NOBARS has no daily bars", errors[4])
        self.assertIn("nothing written", errors[4])
        self.assertIn("as_of must be a date like 2024-03-15", errors[5])
        self.assertIn("AAA_options.csv: No such file", errors[6])
        self.assertIn("AAA: no option quotes stored", errors[7])
        self.assertIn("no option quotes are stored", errors[8])
        self.assertIn("rate must be a number", errors[9])
        self.assertIn("limit must be an integer from 1 to 100000, got 0", errors[10])
        self.assertEqual(self.count("option_quotes"), 0)
        self.assertEqual(self.count("iv_history"), 0)

    def test_provider_allow_limits_job_given_providers(self):
        """TICKQ_PROVIDER_ALLOW checks option providers given in job args too;
        the synthetic one reads nothing and is always allowed."""
        allowed = tempfile.mkdtemp(prefix="allowed-", dir=self.tmp)
        self.env = dict(self.env, TICKQ_PROVIDER_ALLOW=f"{allowed},https://data.example/options/")
        res = self.run_jobs(
            ("update_options_data", {"symbols": ["AAA"], "provider": {"type": "csv_dir", "path": self.tmp}}),
            ("update_options_data", {"symbols": ["AAA"], "provider": {
                "type": "http_csv", "url": "https://data.example.evil/options/{symbol}.csv"}}),
            ("update_options_data", {"symbols": ["AAA"], "provider": {"type": "csv_dir", "path": allowed}}),
            ("update_options_data", {"symbols": ["AAA"], "provider": {"type": "synthetic"}}),
        )
        errors = [self.permanent_error(r, i) for r, i in zip(res[:3], self.ids)]
        self.assertIn("provider.path", errors[0])
        self.assertIn("admits only its listed folders", errors[0])
        self.assertIn("admits only its listed URL prefixes", errors[1])
        self.assertIn("AAA_options.csv: No such file", errors[2])  # allowed: read, and missing
        self.completed_data(res[3])


class TestOptionsTasksSqlite(OptionsTasks, HttpCase):
    kind = "sqlite"

    def setUp(self):
        self.path, self.env = temp_sqlite(self, "tickq-optdb-", "o.db")
        super().setUp()

    def query(self, sql):
        return sqlite_rows(self.path, sql)

    def execute(self, sql):
        sqlite_exec(self.path, sql)


class TestOptionsTasksPostgres(OptionsTasks, HttpCase):
    kind = "postgresql"

    def setUp(self):
        url, self.dbname = postgres().new_database()
        self.env = {"DATABASE_URL": url}
        super().setUp()

    def query(self, sql):
        return postgres().rows(self.dbname, sql, numbers=False)

    def execute(self, sql):
        postgres().psql(self.dbname, sql)
