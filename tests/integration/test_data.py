"""test_data.py — the data layer on both drivers (SQLite and PostgreSQL):
migrations, CSV import and its validation, synthetic data, listing, loading
with features, and the worker's job history."""
import concurrent.futures
import csv
import datetime
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import (TICKQ, TickqTestCase, free_port, gone, postgres, sqlite_exec, sqlite_rows, temp_sqlite, tickq,
                     wait_for)

GOOD = """symbol,date,open,high,low,close,volume
AAA,2024-01-02,10,11,9.5,10.5,1000
BBB,2024-01-02,50,51,49,50.5,2000
AAA,2024-01-03,10.6,11.2,10.4,11,1500
BBB,2024-01-03,50.4,50.9,49.7,50,2500
AAA,2024-01-04,11.5,11.9,11.1,11.8,900
AAA,2024-01-05,11.7,12.2,11.6,12.1,1100
"""
HEADER = "symbol,date,open,high,low,close,volume\n"

# One bad row per validation rule: (row, what the report must say). Each
# becomes its own test (test_rejects_<rule>), the row on line 4 of a file
# whose other rows are good (see DataTests.assert_rejects_one_row).
BAD_ROWS = {
    "too_few_columns": ("AAA,2024-01-03,10,11,9,10.5",
                        "expected 7 columns (symbol,date,open,high,low,close,volume), found 6"),
    "too_many_columns": ("AAA,2024-01-03,10,11,9,10.5,100,7", "found 8"),
    "unparsable_open": ("AAA,2024-01-03,ten,11,9,10.5,100", "open is not a number: 'ten'"),
    "unparsable_high": ("AAA,2024-01-03,10,11x,9,10.5,100", "high is not a number: '11x'"),
    "unparsable_low": ("AAA,2024-01-03,10,11,9..5,10.5,100", "low is not a number: '9..5'"),
    "unparsable_close": ("AAA,2024-01-03,10,11,9,10.5.1,100", "close is not a number: '10.5.1'"),
    "unparsable_volume": ("AAA,2024-01-03,10,11,9,10.5,lots", "volume is not a number: 'lots'"),
    "empty_close": ("AAA,2024-01-03,10,11,9,,100", "close is not a number: ''"),
    "nan_high": ("AAA,2024-01-03,10,nan,9,10.5,100", "high is NaN or infinite"),
    "inf_close": ("AAA,2024-01-03,10,11,9,inf,100", "close is NaN or infinite"),
    "minus_inf_open": ("AAA,2024-01-03,-inf,11,9,10.5,100", "open is NaN or infinite"),
    "overflow_low": ("AAA,2024-01-03,10,11,1e999,10.5,100", "low is NaN or infinite"),
    "nan_volume": ("AAA,2024-01-03,10,11,9,10.5,NaN", "volume is NaN or infinite"),
    "inf_volume": ("AAA,2024-01-03,10,11,9,10.5,Infinity", "volume is NaN or infinite"),
    "negative_open": ("AAA,2024-01-03,-10,11,9,10.5,100", "open must be positive, got -10"),
    "negative_high": ("AAA,2024-01-03,10,-11,9,10.5,100", "high must be positive, got -11"),
    "negative_low": ("AAA,2024-01-03,10,11,-9,10.5,100", "low must be positive, got -9"),
    "negative_close": ("AAA,2024-01-03,10,11,9,-10.5,100", "close must be positive, got -10.5"),
    "zero_close": ("AAA,2024-01-03,10,11,9,0,100", "close must be positive, got 0"),
    "negative_volume": ("AAA,2024-01-03,10,11,9,10.5,-5", "volume must not be negative, got -5"),
    "high_below_open": ("AAA,2024-01-03,10.8,10.6,9,10.5,100", "high 10.6 is below max(open, close) = 10.8"),
    "high_below_close": ("AAA,2024-01-03,10,10.2,9,10.5,100", "high 10.2 is below max(open, close) = 10.5"),
    "low_above_open": ("AAA,2024-01-03,10,11,10.2,10.5,100", "low 10.2 is above min(open, close) = 10"),
    "low_above_close": ("AAA,2024-01-03,10.6,11,10.3,10.1,100", "low 10.3 is above min(open, close) = 10.1"),
    # every digit, not ten: "high 100 is below max(open, close) = 100" would say nothing
    "high_below_close_by_5e_10": ("AAA,2024-01-03,100,100.0000000005,99,100.000000001,100",
                                  "high 100.0000000005 is below max(open, close) = 100.000000001"),
}

# Migration 1 as it shipped (src/db.c), to build a database at schema 1.
V1_SQLITE = (
    "CREATE TABLE bars (symbol TEXT NOT NULL, interval TEXT NOT NULL, ts INTEGER NOT NULL,"
    " open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,"
    " volume REAL NOT NULL, PRIMARY KEY (symbol, interval, ts)) WITHOUT ROWID;"
    "CREATE TABLE job_history (seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, type TEXT NOT NULL,"
    " queue TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, worker TEXT, started_at TEXT,"
    " finished_at TEXT NOT NULL, duration_ms REAL, error TEXT);"
    "CREATE INDEX job_history_job ON job_history (job_id);"
    "CREATE INDEX job_history_finished ON job_history (finished_at);"
    "CREATE TABLE job_retries (seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL,"
    " kind TEXT NOT NULL, error TEXT, worker TEXT, at TEXT NOT NULL);"
    "CREATE INDEX job_retries_job ON job_retries (job_id);"
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));")
V1_POSTGRES = (
    "CREATE TABLE bars (symbol TEXT NOT NULL, interval TEXT NOT NULL, ts BIGINT NOT NULL,"
    " open DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL, low DOUBLE PRECISION NOT NULL,"
    " close DOUBLE PRECISION NOT NULL, volume DOUBLE PRECISION NOT NULL, PRIMARY KEY (symbol, interval, ts));"
    "CREATE TABLE job_history (seq BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL, type TEXT NOT NULL,"
    " queue TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, worker TEXT, started_at TIMESTAMPTZ,"
    " finished_at TIMESTAMPTZ NOT NULL, duration_ms DOUBLE PRECISION, error TEXT);"
    "CREATE INDEX job_history_job ON job_history (job_id);"
    "CREATE INDEX job_history_finished ON job_history (finished_at);"
    "CREATE TABLE job_retries (seq BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL,"
    " kind TEXT NOT NULL, error TEXT, worker TEXT, at TIMESTAMPTZ NOT NULL);"
    "CREATE INDEX job_retries_job ON job_retries (job_id);"
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now());")
V1_DATA = (
    "INSERT INTO schema_migrations (version, description) VALUES (1, 'bars, job history, job retries');"
    "INSERT INTO bars VALUES ('OLD', '1d', 1704153600, 10, 11, 9.5, 10.5, 1000);"  # 2024-01-02
    "INSERT INTO job_history (job_id, type, queue, state, attempts, worker, started_at, finished_at,"
    " duration_ms, error) VALUES ('j1', 'echo', 'backtest', 'completed', 1, 'w:1', '2024-01-02T10:00:00.000Z',"
    " '2024-01-02T10:00:01.000Z', 1000, NULL);"
    "INSERT INTO job_retries (job_id, attempt, kind, error, worker, at) VALUES"
    " ('j1', 1, 'transient', 'feed down', 'w:1', '2024-01-02T09:59:00.000Z');")


class DataTests:
    """Run against both drivers by the two classes at the bottom."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickq-data-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def data(self, *args, input=None):
        return tickq("data", *args, env=self.env, input=input)

    def bars(self):
        return self.query("SELECT symbol, interval, ts, open, high, low, close, volume FROM bars"
                          " ORDER BY symbol, interval, ts")

    def test_import_list_and_reimport(self):
        path = self.write("good.csv", GOOD)
        p = self.data("import", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("imported 6 rows (2 symbols, interval 1d)", p.stdout)
        self.assertIn("database: " + self.kind, p.stderr)
        listed = [json.loads(x) for x in self.data("list", "--json").stdout.splitlines()]
        self.assertEqual(listed, [
            {"symbol": "AAA", "interval": "1d", "first": "2024-01-02", "last": "2024-01-05", "bars": 4},
            {"symbol": "BBB", "interval": "1d", "first": "2024-01-02", "last": "2024-01-03", "bars": 2}])
        before = self.bars()
        self.assertEqual(self.data("import", path).returncode, 0)
        self.assertEqual(self.bars(), before)  # idempotent
        changed = GOOD.replace("AAA,2024-01-05,11.7,12.2,11.6,12.1,1100", "AAA,2024-01-05,11.7,12.5,11.6,12.4,1300")
        self.assertEqual(self.data("import", self.write("changed.csv", changed)).returncode, 0)
        after = self.bars()
        self.assertEqual(len(after), 6)
        last = [r for r in after if r[0] == "AAA"][-1]
        self.assertEqual((float(last[6]), float(last[7])), (12.4, 1300.0))  # upserted

    def test_bad_rows_reject_the_whole_file(self):
        rows = [
            ("AAA,2024-01-02,10,11,9,10.5", "expected 7 columns"),
            ("AAA,2024-01-03,10,11,9,10.5,100,7", "expected 7 columns"),
            ("AAA,2024-13-01,10,11,9,10.5,100", "invalid date '2024-13-01'"),
            ("AAA,2024-02-30,10,11,9,10.5,100", "invalid date"),
            ("AAA,2024-01-04,ten,11,9,10.5,100", "open is not a number: 'ten'"),
            ("AAA,2024-01-05,10,nan,9,10.5,100", "high is NaN or infinite"),
            ("AAA,2024-01-06,10,11,9,inf,100", "close is NaN or infinite"),
            ("AAA,2024-01-07,-10,11,9,10.5,100", "open must be positive"),
            ("AAA,2024-01-08,10,11,9,10.5,-5", "volume must not be negative"),
            ("AAA,2024-01-09,10,10.2,9,10.5,100", "high 10.2 is below max(open, close) = 10.5"),
            ("AAA,2024-01-10,10,11,10.2,10.5,100", "low 10.2 is above min(open, close) = 10"),
            ("bad sym,2024-01-11,10,11,9,10.5,100", "invalid symbol"),
        ]
        text = "symbol,date,open,high,low,close,volume\n"
        text += "AAA,2024-02-01,10,11,9,10.5,100\n"   # line 2: good
        text += "".join(r + "\n" for r, _ in rows)   # lines 3..14
        text += "AAA,2024-01-15,10,11,9,10.5,100\n"   # line 15: before line 2's date
        text += "AAA,2024-02-01,10,11,9,10.5,100\n"   # line 16: same date as line 2
        path = self.write("bad.csv", text)
        p = self.data("import", path)
        self.assertEqual(p.returncode, 65, p.stderr)
        for i, (_, needle) in enumerate(rows):
            self.assertIn(f"bad.csv:{i + 3}: ", p.stderr)
            line = [l for l in p.stderr.splitlines() if l.startswith(f"{path}:{i + 3}: ")][0]
            self.assertIn(needle, line)
        self.assertRegex(p.stderr, r"bad.csv:15: 2024-01-15 of AAA is before the row on line 2")
        self.assertRegex(p.stderr, r"bad.csv:16: 2024-02-01 of AAA is the same date as the row on line 2")
        self.assertIn("rejected: 14 bad of 15 rows; nothing imported", p.stderr)
        self.assertIn(f"tickq: {path}: bad lines: 3-16\n", p.stderr)
        self.assertEqual(self.bars(), [])
        p = self.data("import", path, "--skip-bad")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("imported 1 rows", p.stdout)
        self.assertIn("bad.csv:3: ", p.stderr)
        self.assertIn(f"tickq: {path}: skipped lines: 3-16\n", p.stderr)
        self.assertEqual(len(self.bars()), 1)

    def test_header_empty_file_and_missing_file(self):
        p = self.data("import", self.write("h.csv", "ticker,date,o,h,l,c,v\nAAA,2024-01-02,1,1,1,1,1\n"))
        self.assertEqual(p.returncode, 65)
        self.assertIn("h.csv:1: expected the header line symbol,date,open,high,low,close,volume", p.stderr)
        p = self.data("import", self.write("e.csv", ""))
        self.assertEqual(p.returncode, 65)
        self.assertIn("the file is empty", p.stderr)
        p = self.data("import", os.path.join(self.tmp, "nope.csv"))
        self.assertEqual(p.returncode, 66)
        self.assertIn("cannot open", p.stderr)
        crlf = GOOD.replace("\n", "\r\n")
        self.assertEqual(self.data("import", self.write("crlf.csv", crlf)).returncode, 0)
        self.assertEqual(len(self.bars()), 6)
        # CR alone (old Mac files): said so, not the whole file shown as a header with raw CRs.
        p = self.data("import", self.write("cr.csv", GOOD.replace("\n", "\r")))
        self.assertEqual(p.returncode, 65)
        self.assertIn("cr.csv:1: the lines end in a carriage return alone (CR, as old Mac files do)", p.stderr)
        self.assertNotIn("\r", p.stderr)
        # Hex is not a price (strtod would read 0x10 as 16).
        p = self.data("import", self.write("hex.csv", GOOD.replace(",10.5,1000", ",0x10,1000", 1)))
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("hex.csv:2:", p.stderr)
        # A quoted header (pandas QUOTE_ALL, some broker exports) reads as its rows do.
        quoted = ('"symbol","date","open","high","low","close","volume"\n'
                  '"QQQ","2024-01-02","10","11","9","10.5","100"\n')
        p = self.data("import", self.write("q.csv", quoted))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([b[0] for b in self.bars()].count("QQQ"), 1)

    def test_intraday_interval(self):
        text = ("symbol,date,open,high,low,close,volume\n"
                "ES,2024-03-01T14:30:00,5000,5002,4999,5001,10\n"
                "ES,2024-03-01T14:35:00,5001,5004,5000,5003,12\n")
        p = self.data("import", self.write("i.csv", text), "--interval", "5m")
        self.assertEqual(p.returncode, 0, p.stderr)
        listed = json.loads(self.data("list", "--json").stdout)
        self.assertEqual((listed["interval"], listed["first"], listed["last"]),
                         ("5m", "2024-03-01T14:30:00Z", "2024-03-01T14:35:00Z"))
        p = self.data("import", self.write("d.csv", GOOD), "--interval", "5m")
        self.assertEqual(p.returncode, 65)  # dates without times for an intraday interval
        self.assertIn("expected YYYY-MM-DDTHH:MM:SS", p.stderr)
        self.assertEqual(self.data("import", self.write("x.csv", GOOD), "--interval", "7y").returncode, 64)

    def test_synth_is_deterministic_and_valid(self):
        a, b, c = (os.path.join(self.tmp, n) for n in ("a.csv", "b.csv", "c.csv"))
        for path, seed in ((a, "7"), (b, "7"), (c, "8")):
            p = self.data("synth", "--symbols", "3", "--days", "300", "--seed", seed, "--out", path)
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(open(a).read(), open(b).read())
        self.assertNotEqual(open(a).read(), open(c).read())
        rows = list(csv.DictReader(open(a)))
        self.assertEqual(len(rows), 900)
        days = [r["date"] for r in rows if r["symbol"] == "SYN0001"]
        self.assertEqual(days[0], "2020-01-02")
        for d in days[:10]:
            self.assertLess(time.strptime(d, "%Y-%m-%d").tm_wday, 5)  # weekdays only
        gaps = [abs(float(rows[i]["open"]) / float(rows[i - 1]["close"]) - 1)
                for i in range(1, len(rows)) if rows[i]["symbol"] == rows[i - 1]["symbol"]]
        self.assertTrue(any(g > 0.03 for g in gaps), "some overnight gaps above 3 %")
        p = self.data("import", a)  # every synthetic row passes validation
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.data("synth", "--symbols", "2", "--days", "50", "--seed", "7", "--start", "2021-06-01")
        self.assertEqual(p.returncode, 0, p.stderr)
        listed = [json.loads(x) for x in self.data("list", "--json").stdout.splitlines()]
        self.assertEqual([x["bars"] for x in listed], [350, 350, 300])
        self.assertEqual(self.data("synth", "--days", "5").returncode, 64)

    def test_show_features_with_warm_up(self):
        self.assertEqual(self.data("import", self.write("g.csv", GOOD)).returncode, 0)
        p = self.data("show", "BBB,AAA", "--columns", "close,prev_close,gap_pct,sma_2,return_pct")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        self.assertEqual([(r["symbol"], r["date"]) for r in rows][:2], [("AAA", "2024-01-02"), ("AAA", "2024-01-03")])
        aaa = [r for r in rows if r["symbol"] == "AAA"]
        bbb = [r for r in rows if r["symbol"] == "BBB"]
        self.assertEqual(aaa[0]["gap_pct"], "")  # undefined on the first bar
        self.assertAlmostEqual(float(aaa[1]["gap_pct"]), 100 * (10.6 / 10.5 - 1), places=9)
        self.assertAlmostEqual(float(aaa[1]["sma_2"]), (10.5 + 11) / 2, places=9)
        self.assertEqual(bbb[0]["sma_2"], "")  # never mixes AAA's last close into BBB
        self.assertAlmostEqual(float(bbb[1]["return_pct"]), 100 * (50 / 50.5 - 1), places=9)
        later = self.data("show", "AAA", "--from", "2024-01-04", "--columns", "sma_2,gap_pct")
        lrows = list(csv.DictReader(io.StringIO(later.stdout)))
        self.assertEqual([r["date"] for r in lrows], ["2024-01-04", "2024-01-05"])
        self.assertAlmostEqual(float(lrows[0]["sma_2"]), (11 + 11.8) / 2, places=9)  # uses 01-03
        self.assertAlmostEqual(float(lrows[0]["gap_pct"]), 100 * (11.5 / 11 - 1), places=9)
        p = self.data("show", "AAA", "--columns", "sma_1")
        self.assertEqual(p.returncode, 64)
        self.assertIn("unknown column 'sma_1'", p.stderr)
        p = self.data("show", "ZZZ")  # unknown: an error (exit 3, "not found"), not an empty table
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("tickq: unknown symbol 'ZZZ'", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_migrations_run_once_even_when_started_together(self):
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda _: self.data("list"), range(6)))
        for p in results:
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.query("SELECT version FROM schema_migrations ORDER BY version"), [(1,), (2,), (3,), (4,), (5,), (6,), (7,)])
        for table in ("bars", "job_history", "job_retries"):
            self.assertEqual(self.query(f"SELECT COUNT(*) FROM {table}"), [(0,)])
        self.assert_history_indexes()


    # --- one test per validation rule (generated from BAD_ROWS below) ---
    def assert_rejected(self, rows, line, needle):
        """Imports HEADER + rows, where only file line `line` is bad: exit 65,
        that line (and no other) reported with `needle`, nothing written."""
        path = self.write("bad.csv", HEADER + "".join(r + "\n" for r in rows))
        p = self.data("import", path)
        self.assertEqual(p.returncode, 65, p.stderr)
        reported = [l for l in p.stderr.splitlines() if l.startswith(path + ":")]
        self.assertEqual(len(reported), 1, p.stderr)
        self.assertTrue(reported[0].startswith(f"{path}:{line}: "), reported[0])
        self.assertIn(needle, reported[0])
        self.assertIn(f"rejected: 1 bad of {len(rows)} rows; nothing imported", p.stderr)
        self.assertEqual(self.bars(), [])
        self.assertEqual(self.query("SELECT version FROM bars_version"), [(0,)])

    def assert_rejects_one_row(self, row, needle):
        self.assert_rejected(["AAA,2024-01-02,10,11,9.5,10.5,1000",
                              "BBB,2024-01-02,50,51,49,50.5,2000",
                              row,                                   # line 4
                              "AAA,2024-01-04,11.5,11.9,11.1,11.8,900"], 4, needle)

    def test_rejects_date_before_the_symbols_previous_row(self):
        self.assert_rejected(["AAA,2024-01-02,10,11,9.5,10.5,1000",
                              "AAA,2024-01-04,10,11,9.5,10.5,1000",  # line 3
                              "BBB,2024-01-01,50,51,49,50.5,2000",   # another symbol may go back
                              "AAA,2024-01-03,10,11,9.5,10.5,1000"], 5,
                             "2024-01-03 of AAA is before the row on line 3; dates must increase within a symbol")

    def test_rejects_the_same_date_twice_within_a_symbol(self):
        self.assert_rejected(["AAA,2024-01-02,10,11,9.5,10.5,1000",
                              "BBB,2024-01-04,50,51,49,50.5,2000",
                              "AAA,2024-01-04,10,11,9.5,10.5,1000",  # line 4
                              "BBB,2024-01-05,50,51,49,50.5,2000",
                              "AAA,2024-01-04,10.1,11,9.5,10.5,1000"], 6,
                             "2024-01-04 of AAA is the same date as the row on line 4")

    def test_skip_bad_reports_every_skipped_line(self):
        picked = ["too_few_columns", "unparsable_volume", "inf_close", "nan_volume", "negative_high",
                  "negative_volume", "high_below_close", "low_above_open", "zero_close"]
        lines, good, want = [], [], {}
        day = 2
        for name in picked:  # a good row, then a bad one, per rule
            g = f"AAA,2024-01-{day:02d},10,11,9,10.5,{day}"
            lines.append(g)
            good.append(day)
            lines.append(BAD_ROWS[name][0].replace("2024-01-03", f"2024-01-{day + 1:02d}"))
            want[len(lines) + 1] = BAD_ROWS[name][1]
            day += 2
        lines.append("AAA,2024-01-25,10,11,9,10.5,25")
        good.append(25)
        lines.append("AAA,2024-01-24,10,11,9,10.5,24")  # before line 20's date
        want[len(lines) + 1] = f"2024-01-24 of AAA is before the row on line {len(lines)}"
        path = self.write("mixed.csv", HEADER + "".join(l + "\n" for l in lines))
        p = self.data("import", path, "--skip-bad")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"imported {len(good)} rows", p.stdout)
        self.assertIn("bad rows skipped", p.stdout)
        reported = {}
        for l in p.stderr.splitlines():
            if l.startswith(path + ":"):
                num, msg = l[len(path) + 1:].split(": ", 1)
                reported[int(num)] = msg
        self.assertEqual(sorted(reported), sorted(want), p.stderr)
        for num, needle in want.items():
            self.assertIn(needle, reported[num])
        self.assertIn(f"tickq: {path}: skipped lines: {', '.join(str(n) for n in sorted(want))}\n", p.stderr)
        self.assertEqual([float(r[7]) for r in self.bars()], [float(d) for d in good])

    def test_every_bad_line_is_listed_past_the_first_20(self):
        """30 bad lines, some consecutive: the first 20 get a message each,
        and one summary lists all 30 as ranges, with --skip-bad and when
        the file is rejected."""
        bad = [3, 5, 6, 7, 10, 14, 15, 16, 17, 18, 22, 25, 30, 31, 33, 40, 41, 42, 43, 44, 47, 50, 52, 53,
               55, 58, 60, 61, 62, 64]
        summary = "3, 5-7, 10, 14-18, 22, 25, 30-31, 33, 40-44, 47, 50, 52-53, 55, 58, 60-62, 64"
        rules = list(BAD_ROWS.values())
        day0 = datetime.date(2024, 1, 1)
        lines = []
        for line in range(2, 66):  # lines 2..65; 65 is good, the file ends with a good row
            day = (day0 + datetime.timedelta(days=line)).isoformat()
            if line in bad:
                lines.append(rules[len(lines) % len(rules)][0].replace("2024-01-03", day))
            else:
                lines.append(f"AAA,{day},10,11,9,10.5,{line}")
        path = self.write("many.csv", HEADER + "".join(l + "\n" for l in lines))
        good = 64 - len(bad)

        def check(p, word):
            err = p.stderr.splitlines()
            detailed = [int(l[len(path) + 1:].split(":", 1)[0]) for l in err
                        if l.startswith(path + ":") and not l.startswith(path + ": ")]
            self.assertEqual(detailed, bad[:20], p.stderr)
            self.assertIn(f"{path}: ... and 10 more bad rows", err)
            listed = [l for l in err if l.startswith(f"tickq: {path}: ")]
            self.assertEqual(listed, [f"tickq: {path}: {word} lines: {summary}"], p.stderr)

        p = self.data("import", path)
        self.assertEqual(p.returncode, 65, p.stderr)
        check(p, "bad")
        self.assertIn(f"rejected: {len(bad)} bad of 64 rows; nothing imported", p.stderr)
        self.assertEqual(self.bars(), [])
        p = self.data("import", path, "--skip-bad")
        self.assertEqual(p.returncode, 0, p.stderr)
        check(p, "skipped")
        self.assertIn(f"imported {good} rows", p.stdout)
        self.assertEqual(sorted(int(float(r[7])) for r in self.bars()),
                         [n for n in range(2, 66) if n not in bad])

    # --- header variants, nothing imported, show and list ---------------
    def test_header_variants_are_accepted(self):
        rows = "{s}2024-01-02,10,11,9.5,10.5,1000\n{s}2024-01-03,10.6,11.2,10.4,11,1500\n"
        variants = {
            "CASE1": "Symbol,Date,Open,High,Low,Close,Volume",
            "CASE2": "SYMBOL,DATE,OPEN,HIGH,LOW,CLOSE,VOLUME",
            "TICK1": "ticker,date,open,high,low,close,volume",
            "TICK2": "Ticker,Date,Open,High,Low,Close,Volume",
        }
        for sym, header in variants.items():
            p = self.data("import", self.write(f"{sym}.csv", header + "\n" + rows.format(s=sym + ",")))
            self.assertEqual(p.returncode, 0, (header, p.stderr))
            self.assertIn("imported 2 rows (1 symbols", p.stdout)
            self.assertNotIn("note:", p.stdout)
        # adj close beside a symbol column: skipped, close is Close
        p = self.data("import", self.write("adj.csv", "Symbol,Date,Open,High,Low,Close,Adj Close,Volume\n"
                                           "ADJ,2024-01-02,10,11,9.5,10.5,9.1,1000\n"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"note: {self.tmp}/adj.csv: its adj close column was not imported; close is the file's "
                      "close column", p.stdout)
        got = {r[0]: r for r in self.bars()}
        self.assertEqual(sorted(got), ["ADJ", "CASE1", "CASE2", "TICK1", "TICK2"])
        self.assertEqual([float(x) for x in got["ADJ"][3:]], [10, 11, 9.5, 10.5, 1000])

    def test_yahoo_files_need_symbol(self):
        yahoo = ("Date,Open,High,Low,Close,Adj Close,Volume\n"
                 "2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n"
                 "2024-01-03,184.22,185.88,183.43,184.25,183.56,58414500\n")
        path = self.write("AAPL.csv", yahoo)
        p = self.data("import", path)
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn(f"{path}:1: expected the header line symbol,date,open,high,low,close,volume, found "
                      "'Date,Open,High,Low,Close,Adj Close,Volume': the file has no symbol column", p.stderr)
        self.assertIn("--symbol SYM", p.stderr)
        self.assertIn(f"tickq: {path} rejected: no usable header line; nothing imported", p.stderr)
        self.assertEqual(self.bars(), [])
        p = self.data("import", path, "--symbol", "AAPL")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("imported 2 rows (1 symbols, interval 1d)", p.stdout)
        self.assertIn(f"note: {path}: its adj close column was not imported; close is the file's close column "
                      "(not adjusted for splits or dividends)", p.stdout)
        self.assertEqual([(r[0], float(r[6]), float(r[7])) for r in self.bars()],
                         [("AAPL", 185.64, 82488700.0), ("AAPL", 184.25, 58414500.0)])
        # without adj close
        p = self.data("import", self.write("m.csv", "date,open,high,low,close,volume\n"
                                           "2024-01-02,10,11,9,10.5,100\n"), "--symbol", "MSFT")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("note:", p.stdout)
        # --symbol with a symbol column: every row must hold that symbol
        p = self.data("import", self.write("g.csv", GOOD), "--symbol", "AAA")
        self.assertEqual(p.returncode, 65)
        self.assertIn("g.csv:3: symbol 'BBB' in a file of AAA's bars", p.stderr)
        p = self.data("import", self.write("g.csv", GOOD), "--symbol", "bad sym")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--symbol 'bad sym' is not a symbol", p.stderr)
        p = self.data("list", "--symbol", "AAA")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--symbol is for import, not list", p.stderr)

    def test_wrong_header_names_the_expected_and_the_found_header(self):
        path = self.write("w.csv", "Symbol,Date,Open,High,Low,Last,Volume\nAAA,2024-01-02,1,1,1,1,1\n")
        for extra in ((), ("--skip-bad",)):
            p = self.data("import", path, *extra)
            self.assertEqual(p.returncode, 65, p.stderr)
            self.assertIn(f"{path}:1: expected the header line symbol,date,open,high,low,close,volume, found "
                          "'Symbol,Date,Open,High,Low,Last,Volume': column 6 is 'Last' where 'close' was expected\n",
                          p.stderr)
            self.assertIn("rejected: no usable header line; nothing imported", p.stderr)
        self.assertEqual(self.bars(), [])

    def test_nothing_imported_is_an_error(self):
        bad = self.write("bad.csv", HEADER + "AAA,2024-01-02,10,9,9.5,10.5,1000\nAAA,2024-01-03,x,11,9,10,5\n")
        p = self.data("import", bad, "--skip-bad")
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn(f"{bad}:2: high 9 is below max(open, close) = 10.5", p.stderr)
        self.assertIn(f"tickq: {bad}: skipped lines: 2-3", p.stderr)
        self.assertIn(f"tickq: {bad}: nothing imported: every row is bad (2 of 2, listed above), so --skip-bad "
                      "skipped them all", p.stderr)
        self.assertNotIn("imported", p.stdout)
        empty = self.write("h.csv", HEADER)
        for extra in ((), ("--skip-bad",)):
            p = self.data("import", empty, *extra)
            self.assertEqual(p.returncode, 65, p.stderr)
            self.assertIn(f"tickq: {empty}: nothing imported: the file has a header line but no rows", p.stderr)
        # one file with nothing among good ones: the good ones are imported, the exit says not all was
        p = self.data("import", self.write("g.csv", GOOD), bad, "--skip-bad")
        self.assertEqual(p.returncode, 65)
        self.assertIn("imported 6 rows", p.stdout)
        self.assertEqual(len(self.bars()), 6)
        self.assertEqual(self.query("SELECT version FROM bars_version"), [(1,)])

    def test_show_unknown_symbols_give_hints(self):
        self.assertEqual(self.data("import", self.write("g.csv", GOOD.replace("AAA", "AAPL"))).returncode, 0)
        text = HEADER + "ES,2024-03-01T14:30:00,5000,5002,4999,5001,10\n"
        self.assertEqual(self.data("import", self.write("i.csv", text), "--interval", "5m").returncode, 0)
        p = self.data("show", "aapl")
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertRegex(p.stderr, r"tickq: unknown symbol 'aapl': the database \(" + self.kind +
                         r" [^)]+\) has no bars of it; symbols are case-sensitive: did you mean AAPL\?\n")
        p = self.data("show", "APPL,BBB,BB")  # one good, two misspelt: nothing is printed
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertIn("unknown symbol 'APPL'", p.stderr)
        self.assertIn("did you mean AAPL?", p.stderr)
        self.assertIn("unknown symbol 'BB'", p.stderr)
        self.assertIn("did you mean BBB?", p.stderr)
        p = self.data("show", "NOTHINGLIKEIT")
        self.assertEqual(p.returncode, 3)
        self.assertIn("no symbol is close to it (tickq data list shows them all)", p.stderr)
        p = self.data("show", "ES")
        self.assertEqual(p.returncode, 3)
        self.assertIn("tickq: no 1d bars of ES in the database; it has bars at 5m (pass --interval 5m)\n", p.stderr)
        self.assertEqual(self.data("show", "ES", "--interval", "5m").returncode, 0)

    def test_show_prints_full_precision_in_every_format(self):
        text = (HEADER + "PREC,2024-01-02,100,100.000000002,99.9999999,100.0000000005,1000\n"
                "PREC,2024-01-03,100.0000000005,100.1,100,100.00000000000003,0.1\n"
                "PREC,2024-01-04,0.30000000000000004,0.31,0.2999,0.3,12345678901234567\n")
        self.assertEqual(self.data("import", self.write("p.csv", text)).returncode, 0)
        stored = [tuple(float(x) for x in r[3:]) for r in self.bars()]
        self.assertEqual(stored[0][3], 100.0000000005)
        cols = ["open", "high", "low", "close", "volume"]
        p = self.data("show", "PREC")  # csv, the default
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = list(csv.DictReader(io.StringIO(p.stdout)))
        self.assertEqual([tuple(float(r[c]) for c in cols) for r in rows], stored)  # exact, not approximately
        self.assertEqual(rows[0]["close"], "100.0000000005")   # %.10g printed 100
        self.assertEqual(rows[1]["close"], "100.00000000000003")
        self.assertEqual(rows[2]["open"], "0.30000000000000004")
        self.assertEqual(rows[0]["open"], "100")
        self.assertEqual(rows[2]["volume"], "12345678901234568")
        self.assertEqual(p.stdout, self.data("show", "PREC", "--format", "csv").stdout)
        p = self.data("show", "PREC", "--format", "json", "--columns", "close,prev_close,volume")
        self.assertEqual(p.returncode, 0, p.stderr)
        objs = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual(objs[0], {"symbol": "PREC", "date": "2024-01-02", "close": 100.0000000005,
                                   "prev_close": None, "volume": 1000})
        self.assertEqual([o["close"] for o in objs], [s[3] for s in stored])
        self.assertEqual(objs[2]["prev_close"], stored[1][3])
        self.assertIn('"close":100.0000000005,', p.stdout)
        p = self.data("show", "PREC", "--format", "table", "--columns", "close,prev_close")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["symbol", "date", "close", "prev_close"])
        self.assertEqual(len({len(l) for l in lines}), 1, lines)   # every line as wide: columns align
        self.assertEqual(lines[1].split(), ["PREC", "2024-01-02", "100.0000000005"])
        self.assertEqual(lines[3].split(), ["PREC", "2024-01-04", "0.3", "100.00000000000003"])
        self.assertEqual(lines[0].index("close") + len("close"), lines[1].index("100.0000000005") + 14)
        p = self.data("show", "PREC", "--format", "xml")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--format 'xml' is unknown: use csv, json or table", p.stderr)

    def test_list_prints_the_database_and_aligns_long_names(self):
        p = self.data("list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0], f"database: {self.kind} {self.where_listed()}")
        self.assertIn("no bars yet", p.stdout)
        text = (HEADER + "A,2024-03-01T14:30:00,5000,5002,4999,5001,10\n"
                "A_VERY_LONG_SYMBOL_NAME.XX,2024-03-01T14:30:00,5000,5002,4999,5001,10\n")
        self.assertEqual(self.data("import", self.write("i.csv", text), "--interval", "15m").returncode, 0)
        self.assertEqual(self.data("import", self.write("g.csv", GOOD), "--interval", "1wk").returncode, 0)
        p = self.data("list")
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], f"database: {self.kind} {self.where_listed()}")
        table = lines[1:]
        self.assertEqual(len(table), 5)
        self.assertEqual(table[0].split(), ["SYMBOL", "INTERVAL", "FIRST", "LAST", "BARS"])
        for name in ("INTERVAL", "FIRST", "LAST"):  # each column starts where its title does
            at = table[0].index(name)
            for row in table[1:]:
                self.assertNotEqual(row[at], " ", (name, row))
                self.assertEqual(row[at - 2:at], "  ", (name, row))
        self.assertEqual({len(l) for l in table}, {len(table[0])})  # BARS right-aligned to the same edge
        self.assertIn("A_VERY_LONG_SYMBOL_NAME.XX  15m", p.stdout)
        self.assertIn("2024-03-01T14:30:00Z", p.stdout)

    # --- the schema and the loader -------------------------------------
    def test_migrations_upgrade_a_schema_1_database(self):
        self.exec_sql(self.v1_sql + V1_DATA)
        p = self.data("list", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout),
                         {"symbol": "OLD", "interval": "1d", "first": "2024-01-02", "last": "2024-01-02", "bars": 1})
        self.assertEqual(self.query("SELECT version FROM schema_migrations ORDER BY version"), [(1,), (2,), (3,), (4,), (5,), (6,), (7,)])
        self.assertEqual([float(x) for x in self.bars()[0][3:]], [10, 11, 9.5, 10.5, 1000])
        self.assertEqual(self.query("SELECT job_id, state, worker, error FROM job_history")[0][:3],
                         ("j1", "completed", "w:1"))
        self.assertEqual(self.query("SELECT job_id, attempt, error FROM job_retries"), [("j1", 1, "feed down")])
        self.assertEqual(self.query("SELECT id, version FROM bars_version"), [(1, 0)])  # migration 2
        self.assertEqual(self.query("SELECT COUNT(*) FROM option_quotes"), [(0,)])     # migration 3
        self.assertEqual(self.data("import", self.write("g.csv", GOOD)).returncode, 0)  # bumps bars_version
        self.assertEqual(self.query("SELECT version FROM bars_version"), [(1,)])
        self.assertEqual(len(self.bars()), 7)
        self.assertEqual(self.data("list").returncode, 0)  # and again: nothing left to apply
        self.assertEqual(self.query("SELECT COUNT(*) FROM schema_migrations"), [(7,)])
        self.assert_history_indexes()

    def assert_history_indexes(self):
        """Migration 7: the job history tables keep no job_id index beside
        their unique ones, whose first column serves a lookup by job_id."""
        self.assertEqual(self.index_names("job_history"), ["job_history_finished", "job_history_once"])
        self.assertEqual(self.index_names("job_retries"), ["job_retries_once"])

    def test_bars_version_moves_once_per_write(self):
        """Workers' bar caches key on bars_version: one import or synth (one
        transaction, many batches of rows) moves it by exactly one."""
        p = self.data("synth", "--symbols", "12", "--days", "1000", "--seed", "3")  # 12,000 rows
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.query("SELECT version FROM bars_version"), [(1,)])
        self.assertEqual(len(self.bars()), 12000)
        out = self.write("s.csv", "")
        self.assertEqual(self.data("synth", "--symbols", "12", "--days", "1000", "--seed", "4", "--out", out)
                         .returncode, 0)
        self.assertEqual(self.data("import", out).returncode, 0)
        self.assertEqual(self.query("SELECT version FROM bars_version"), [(2,)])

    def test_show_to_is_an_inclusive_upper_bound(self):
        self.assertEqual(self.data("import", self.write("g.csv", GOOD)).returncode, 0)

        def show(*args):
            p = self.data("show", *args)
            self.assertEqual(p.returncode, 0, p.stderr)
            return [(r["symbol"], r["date"], r.get("sma_2")) for r in csv.DictReader(io.StringIO(p.stdout))]

        rows = show("AAA,BBB", "--to", "2024-01-04", "--columns", "close,sma_2")
        self.assertEqual([r[:2] for r in rows], [("AAA", "2024-01-02"), ("AAA", "2024-01-03"),
                                                 ("AAA", "2024-01-04"), ("BBB", "2024-01-02"),
                                                 ("BBB", "2024-01-03")])
        rows = show("AAA", "--from", "2024-01-03", "--to", "2024-01-03", "--columns", "sma_2")
        self.assertEqual(len(rows), 1)
        self.assertAlmostEqual(float(rows[0][2]), (10.5 + 11) / 2, places=9)  # warm-up before --from
        self.assertEqual(show("AAA", "--to", "2024-01-01"), [])
        text = (HEADER + "ES,2024-03-01T14:30:00,5000,5002,4999,5001,10\n"
                "ES,2024-03-01T14:35:00,5001,5004,5000,5003,12\n"
                "ES,2024-03-01T14:40:00,5003,5005,5002,5004,9\n")
        self.assertEqual(self.data("import", self.write("i.csv", text), "--interval", "5m").returncode, 0)
        rows = show("ES", "--interval", "5m", "--to", "2024-03-01T14:35:00")
        self.assertEqual([r[1] for r in rows], ["2024-03-01T14:30:00Z", "2024-03-01T14:35:00Z"])
        rows = show("ES", "--interval", "5m", "--to", "2024-03-01T14:34:59")
        self.assertEqual([r[1] for r in rows], ["2024-03-01T14:30:00Z"])


def _rejects(row, needle):
    def test(self):
        self.assert_rejects_one_row(row, needle)
    return test


for _name, (_row, _needle) in BAD_ROWS.items():
    setattr(DataTests, f"test_rejects_{_name}", _rejects(_row, _needle))


class TestDataSqlite(DataTests, unittest.TestCase):
    kind = "sqlite"
    v1_sql = V1_SQLITE

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.tmp, "t.db")
        self.env = {"TICKQ_DB": self.path, "DATABASE_URL": None}

    def query(self, sql):
        return sqlite_rows(self.path, sql)

    def exec_sql(self, sql):
        sqlite_exec(self.path, sql)

    def index_names(self, table):
        return [r[0] for r in self.query(f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                                         f"'{table}' AND name NOT LIKE 'sqlite_%' ORDER BY name")]

    def test_a_lookup_by_job_id_uses_the_unique_index(self):
        self.assertEqual(self.data("list").returncode, 0)
        for table, index in (("job_history", "job_history_once"), ("job_retries", "job_retries_once")):
            plan = " ".join(str(r[-1]) for r in self.query(f"EXPLAIN QUERY PLAN SELECT * FROM {table} "
                                                          f"WHERE job_id = 'j1'"))
            self.assertIn(f"USING INDEX {index} (job_id=?)", plan)

    def journal_mode(self, path):
        con = sqlite3.connect(path)
        try:
            return con.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            con.close()

    def where_listed(self):
        return os.path.realpath(self.path)

    def test_database_file_is_in_wal_mode(self):
        self.assertEqual(self.data("list").returncode, 0)  # a new file
        self.assertEqual(self.journal_mode(self.path), "wal")
        old = os.path.join(self.tmp, "old.db")  # an existing file in rollback-journal mode
        con = sqlite3.connect(old)
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute("CREATE TABLE unrelated (x)")
        con.commit()
        con.close()
        self.assertEqual(self.journal_mode(old), "delete")
        p = tickq("data", "import", self.write("g.csv", GOOD), env={"TICKQ_DB": old, "DATABASE_URL": None})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.journal_mode(old), "wal")

    def home_env(self, **extra):
        """The environment of a user with no database settings, whose HOME
        is a fresh temp folder (never the real one)."""
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("TICKQ_DB", "DATABASE_URL", "XDG_DATA_HOME")}
        env["HOME"] = home
        env.update(extra)
        return home, env

    def run_in(self, cwd, env, *args):
        return subprocess.run([TICKQ, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)

    def test_default_path_does_not_depend_on_the_current_folder(self):
        """With no TICKQ_DB the database is ~/.local/share/tickq/tickq.db
        (XDG), whatever the current folder: an import from one folder is
        listed from another, and no folder gets a var/tickq.db."""
        home, env = self.home_env()
        want = os.path.join(os.path.realpath(home), ".local", "share", "tickq", "tickq.db")
        a, b = os.path.join(self.tmp, "a"), os.path.join(self.tmp, "b")
        os.makedirs(a)
        os.makedirs(b)
        with open(os.path.join(a, "g.csv"), "w") as f:
            f.write(GOOD)
        p = self.run_in(a, env, "data", "import", "g.csv")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"tickq: database: sqlite {want}\n", p.stderr)
        p = self.run_in(b, env, "data", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], f"database: sqlite {want}")
        self.assertEqual([l.split()[0] for l in lines[2:]], ["AAA", "BBB"])
        self.assertEqual(sorted(os.listdir(a)), ["g.csv"])
        self.assertEqual(os.listdir(b), [])
        self.assertTrue(os.path.exists(want))
        # the folders tickq created are private (XDG: 0700)
        for d in (os.path.join(home, ".local"), os.path.join(home, ".local", "share"), os.path.dirname(want)):
            self.assertEqual(os.stat(d).st_mode & 0o777, 0o700, d)
        # --json keeps stdout for the rows; the database goes to stderr
        p = self.run_in(b, env, "data", "list", "--json")
        self.assertEqual(json.loads(p.stdout.splitlines()[0])["symbol"], "AAA")
        self.assertIn(f"tickq: database: sqlite {want}\n", p.stderr)
        self.assertNotIn("warning", p.stderr)
        # a folder with the old default (var/tickq.db) gets a warning, and the new default
        c = os.path.join(self.tmp, "c")
        os.makedirs(os.path.join(c, "var"))
        open(os.path.join(c, "var", "tickq.db"), "w").close()
        old = os.path.join(os.path.realpath(c), "var", "tickq.db")
        p = self.run_in(c, env, "data", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0], f"database: sqlite {want}")
        self.assertIn(f"tickq: warning: {old} is not the default database any more (it is {want}): to use "
                      f"that file, set TICKQ_DB={old}, or move it\n", p.stderr)
        self.assertNotIn("warning", self.run_in(c, {**env, "TICKQ_DB": old}, "data", "list").stderr)

    def test_default_path_under_xdg_data_home(self):
        xdg = os.path.join(self.tmp, "xdg", "data")  # missing: created
        home, env = self.home_env(XDG_DATA_HOME=xdg)
        p = self.run_in(self.tmp, env, "data", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        want = os.path.join(os.path.realpath(self.tmp), "xdg", "data", "tickq", "tickq.db")
        self.assertEqual(p.stdout.splitlines()[0], f"database: sqlite {want}")
        self.assertTrue(os.path.exists(want))
        self.assertFalse(os.path.exists(os.path.join(home, ".local")))
        self.assertEqual(os.stat(os.path.dirname(want)).st_mode & 0o777, 0o700)

    def test_default_path_needs_an_absolute_home(self):
        cases = [({"HOME": None}, "HOME is not set"),
                 ({"HOME": ""}, "HOME is not set"),
                 ({"HOME": "relative/home"}, "HOME='relative/home' is not an absolute path"),
                 ({"XDG_DATA_HOME": "rel"}, "XDG_DATA_HOME='rel' is not an absolute path"),
                 # a base that does not exist grows no tree of folders
                 ({"HOME": os.path.join(self.tmp, "nohome")}, f"HOME={self.tmp}/nohome is not an existing folder")]
        for extra, needle in cases:
            _, env = self.home_env()
            for k, v in extra.items():
                if v is None:
                    env.pop(k)
                else:
                    env[k] = v
            for args in (("data", "list"), ("data", "import", "x.csv")):
                p = self.run_in(self.tmp, env, *args)
                self.assertEqual(p.returncode, 78, (extra, p.stderr))
                self.assertIn(needle, p.stderr)
                self.assertIn("set TICKQ_DB=/path/to/tickq.db", p.stderr)
            self.assertEqual(sorted(os.listdir(self.tmp)), ["home"])  # nothing created anywhere
        _, env = self.home_env(HOME="relative/home")  # an explicit path needs no HOME
        env["TICKQ_DB"] = os.path.join(self.tmp, "explicit.db")
        self.assertEqual(self.run_in(self.tmp, env, "data", "list").returncode, 0)

    def test_explicit_path_in_a_missing_folder_exits_73_and_creates_nothing(self):
        missing = os.path.join(self.tmp, "missing", "sub")
        path = os.path.join(missing, "t.db")
        for args, env in ((("data", "list"), {"TICKQ_DB": path}),
                          (("data", "import", self.write("g.csv", GOOD)), {"TICKQ_DB": path}),
                          (("data", "list", "--db", path), {}),
                          (("data", "synth", "--symbols", "1", "--days", "5", "--db", path), {})):
            p = tickq(*args, env={**self.env, **env})
            self.assertEqual(p.returncode, 73, p.stderr)
            self.assertIn(f"the folder {missing} of the database {path} does not exist", p.stderr)
            self.assertIn(f"mkdir -p {missing}", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(self.tmp, "missing")))
        # a relative path is relative to the current folder, and named absolute
        p = subprocess.run([TICKQ, "data", "list"], cwd=self.tmp, capture_output=True, text=True,
                           env={**os.environ, "TICKQ_DB": "nope/t.db"})
        self.assertEqual(p.returncode, 73)
        self.assertIn(f"the folder {os.path.realpath(self.tmp)}/nope of the database", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "nope")))
        # a file where the folder should be
        afile = self.write("afile", "x")
        p = tickq("data", "list", env={"TICKQ_DB": os.path.join(afile, "t.db"), "DATABASE_URL": None})
        self.assertEqual(p.returncode, 73)
        self.assertIn(f"the folder {afile} of the database {afile}/t.db is not a folder", p.stderr)

    def test_db_flag_and_a_relative_path_are_named_absolute(self):
        other = os.path.join(self.tmp, "other.db")
        p = tickq("data", "list", "--db", other, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0], f"database: sqlite {os.path.realpath(other)}")
        self.assertTrue(os.path.exists(other))
        sub = os.path.join(self.tmp, "sub")
        os.makedirs(sub)
        p = subprocess.run([TICKQ, "data", "list"], cwd=sub, capture_output=True, text=True,
                           env={**os.environ, "TICKQ_DB": "../rel.db"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0], f"database: sqlite {os.path.realpath(self.tmp)}/rel.db")
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "rel.db")))

    def test_unusable_database_file(self):
        path = self.write("notadb", "this is not a database" * 100)
        p = tickq("data", "list", env={"TICKQ_DB": path, "DATABASE_URL": None})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(path, p.stderr)


class TestDataPostgres(DataTests, unittest.TestCase):
    kind = "postgresql"
    v1_sql = V1_POSTGRES

    def exec_sql(self, sql):
        postgres().psql(self.dbname, sql)

    def setUp(self):
        super().setUp()
        self.url, self.dbname = postgres().new_database()
        self.env = {"DATABASE_URL": self.url}

    def query(self, sql):
        return postgres().rows(self.dbname, sql)

    def index_names(self, table):
        return [r[0] for r in self.query(f"SELECT indexname FROM pg_indexes WHERE tablename = '{table}' "
                                         f"AND indexname NOT LIKE '%_pkey' ORDER BY indexname")]

    def where_listed(self):
        return self.url

    def test_list_masks_the_password(self):
        url = self.url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")  # trust: ignored
        p = tickq("data", "list", env={"DATABASE_URL": url})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0],
                         "database: postgresql " + self.url.replace("postgres@", "postgres:***@"))
        self.assertNotIn("s3cret", p.stdout + p.stderr)

    def test_unreachable_or_wrong_database_url(self):
        p = tickq("data", "list", env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"})
        self.assertEqual(p.returncode, 69)
        self.assertIn("cannot connect to PostgreSQL", p.stderr)
        p = tickq("data", "list", env={"DATABASE_URL": "mysql://u@h/db"})
        self.assertEqual(p.returncode, 78)
        self.assertIn("DATABASE_URL must be a PostgreSQL URL", p.stderr)
        masked = tickq("data", "list", env={"DATABASE_URL": f"postgresql://postgres:secret@127.0.0.1:{free_port()}/x"})
        self.assertNotIn("secret", masked.stderr)


def ts(text):
    """Seconds since the epoch of a stored time: SQLite's ISO 8601 text
    (2024-01-02T10:00:00.000Z) or PostgreSQL's (2024-01-02 10:00:00.123+00)."""
    return datetime.datetime.fromisoformat(text).timestamp()


class HistoryTests:
    """The worker's job history, on both drivers."""

    def test_history_and_retry_records(self):
        self.t0 = time.time()
        ok = self.enqueue("echo", {"a": 1})
        perm = self.enqueue("fail", {"permanent": True, "message": "bad input"})
        flaky = self.enqueue("fail", {"times": 1, "message": "feed down"}, "--max-retries", "2")
        slow = self.enqueue("sleep", {"ms": 5000}, "--timeout", "0.3", "--max-retries", "0")
        status, w = self.burst("--workers", "2", "--retry-base", "20ms", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.assertIn(self.where, w.log())
        jobs = {r[0]: r[1:] for r in self.query(
            "SELECT job_id, type, queue, state, attempts, error FROM job_history")}
        self.assertEqual(jobs[ok][:4], ("echo", "backtest", "completed", 1))
        self.assertEqual(jobs[perm][2:], ("failed", 1, "bad input"))
        self.assertEqual(jobs[flaky][2:4], ("completed", 2))
        self.assertEqual(jobs[slow][2], "dead")
        self.assertIn("timeout of 0.3 s", jobs[slow][4])
        retries = self.query("SELECT job_id, attempt, kind FROM job_retries ORDER BY job_id, attempt")
        self.assertIn((flaky, 1, "transient"), retries)
        self.assertIn((slow, 1, "timeout"), retries)
        self.assertEqual(len(retries), 2)
        dur = self.query(f"SELECT duration_ms FROM job_history WHERE job_id = '{ok}'")[0][0]
        self.assertGreaterEqual(float(dur), 0)
        # who ran each job and when: worker ids are the supervisor's id and a slot
        supervisor = [x["worker"] for x in w.log_lines()
                      if isinstance(x, dict) and x.get("msg") == "worker started"][0]
        lo, hi = self.t0 - 1, time.time() + 1
        times = {r[0]: r[1:] for r in self.query(
            "SELECT job_id, worker, started_at, finished_at, duration_ms FROM job_history")}
        for jid in (ok, perm, flaky, slow):
            worker, started, finished, duration = times[jid]
            self.assertRegex(worker, "^" + re.escape(supervisor) + r":\d+$")
            self.assertTrue(lo <= ts(finished) <= hi, finished)
            self.assertTrue(lo <= ts(started) <= ts(finished), (started, finished))
            self.assertAlmostEqual(float(duration), (ts(finished) - ts(started)) * 1000, delta=2)
        # the supervisor settles a timeout with the start its child published
        self.assertGreaterEqual(float(times[slow][3]), 300)
        slow_times = times[slow]
        recs = {r[0]: r[1:] for r in self.query("SELECT job_id, error, worker, at FROM job_retries")}
        self.assertEqual(recs[flaky][0], "feed down")
        self.assertIn("timeout of 0.3 s", recs[slow][0])
        for jid in (flaky, slow):
            self.assertRegex(recs[jid][1], "^" + re.escape(supervisor) + r":\d+$")
        # the failed first attempt ends before the second starts; the timeout when the job dies
        self.assertTrue(lo <= ts(recs[flaky][2]) <= ts(times[flaky][1]), (recs[flaky][2], times[flaky][1]))
        self.assertAlmostEqual(ts(recs[slow][2]), ts(slow_times[2]), delta=0.5)

    def test_start_lines_name_the_database(self):
        """The worker's and the scheduler's start lines say which database
        they use: the absolute SQLite path or the masked DATABASE_URL."""
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        started = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "worker started"]
        self.assertEqual(started[0]["database"], self.where)
        tmp = tempfile.mkdtemp(prefix="tickq-sched-")
        self.addCleanup(shutil.rmtree, tmp, True)
        ini = os.path.join(tmp, "s.ini")
        with open(ini, "w") as f:
            f.write("[schedule yearly]\ncron = 0 0 1 1 *\ntask = echo\nargs = {}\n")
        log = open(os.path.join(tmp, "scheduler.log"), "w+")
        self.addCleanup(log.close)
        env = {k: v for k, v in os.environ.items() if k not in ("TICKQ_DB", "DATABASE_URL")}
        env.update(self.env, REDIS_URL=self.url)
        p = subprocess.Popen([TICKQ, "scheduler", "--config", ini], env=env, stdout=log, stderr=log)
        try:
            def started_line():
                with open(log.name) as f:
                    return [json.loads(l) for l in f.read().splitlines()
                            if l.startswith("{") and json.loads(l).get("msg") == "scheduler started"]
            line = wait_for(started_line, 10, what="the scheduler's start line")[0]
            self.assertEqual(line["database"], self.where)
        finally:
            p.terminate()
            p.wait(20)

    def test_no_history_records_nothing_and_runs_the_same(self):
        ok = self.enqueue("echo", {"a": 1})
        flaky = self.enqueue("fail", {"times": 1, "message": "feed down"}, "--max-retries", "2")
        slow = self.enqueue("sleep", {"ms": 5000}, "--timeout", "0.3", "--max-retries", "0")
        status, w = self.burst("--workers", "2", "--retry-base", "20ms", "--no-history", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual([self.state(j) for j in (ok, flaky, slow)], ["completed", "completed", "dead"])
        self.assertIn(self.query("SELECT count(*) FROM job_history")[0][0], (0, "0"))
        self.assertIn(self.query("SELECT count(*) FROM job_retries")[0][0], (0, "0"))
        started = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "worker started"][0]
        self.assertIs(started["history"], False)

    def count_history(self):
        return int(self.query("SELECT count(*) FROM job_history")[0][0])

    def test_history_process_survives_a_kill_9_of_the_supervisor(self):
        """History is written by a process of its own (tickq-history, at a
        lower CPU priority): when the supervisor is killed with -9 right
        after its jobs finished, that process still writes every row of the
        history stream, then exits."""
        ids = [self.enqueue("echo", {"i": i}) for i in range(60)]
        w = self.worker("--workers", "2", env=self.env)
        recorder = wait_for(lambda: w.history_process(), 10, what="the history process")[0]
        self.assertEqual(os.getpriority(os.PRIO_PROCESS, recorder), 10)
        wait_for(lambda: len(w.children()) == 2, 10, what="the two worker children")  # besides it
        for jid in ids:
            self.wait_state(jid, "completed")
        w.proc.kill()
        w.proc.wait()
        wait_for(lambda: gone(recorder), 15, what="the history process to end")
        got = {r[0] for r in self.query("SELECT job_id FROM job_history")}
        self.assertEqual(got, set(ids))

    def test_a_killed_history_process_is_replaced_and_nothing_after_is_lost(self):
        first = [self.enqueue("echo", {"i": i}) for i in range(5)]
        w = self.worker("--workers", "1", env=self.env)
        for jid in first:
            self.wait_state(jid, "completed")
        old = wait_for(lambda: w.history_process(), 10, what="the history process")[0]
        wait_for(lambda: self.count_history() == 5, 10, what="the first records written")
        os.kill(old, signal.SIGKILL)
        new = wait_for(lambda: [p for p in w.history_process() if p != old], 10, what="a new history process")
        self.assertEqual(len(new), 1)
        later = [self.enqueue("echo", {"i": i}) for i in range(5)]
        for jid in later:
            self.wait_state(jid, "completed")
        w.stop()
        self.assertEqual(w.proc.returncode, 0)
        self.assertEqual({r[0] for r in self.query("SELECT job_id FROM job_history")}, set(first + later))
        self.assertIn("the job history process stopped; starting another", w.log())

    def test_a_history_process_killed_while_draining_is_replaced(self):
        """At shutdown the supervisor waits for the history process to drain
        the history stream; killed on the way, it is replaced by one that
        drains the rest. (Frozen with SIGSTOP while the jobs run, so their
        rows wait in the stream.)"""
        w = self.worker("--workers", "1", env=self.env)
        recorder = wait_for(lambda: w.history_process(), 10, what="the history process")[0]
        os.kill(recorder, signal.SIGSTOP)
        ids = [self.enqueue("echo", {"i": i}) for i in range(20)]
        for jid in ids:
            self.wait_state(jid, "completed")
        w.signal(signal.SIGTERM)
        wait_for(lambda: w.children() == [], 10, what="the worker children to stop")
        time.sleep(0.3)  # time passes: the supervisor waits for the frozen history process, it does not exit
        self.assertIsNone(w.proc.poll())
        os.kill(recorder, signal.SIGKILL)
        self.assertEqual(w.wait(30), 0)
        self.assertIn("starting another to drain the stream", w.log())
        self.assertEqual({r[0] for r in self.query("SELECT job_id FROM job_history")}, set(ids))

    def test_ctrl_c_to_the_process_group_loses_no_history(self):
        """Ctrl-C reaches every process of the group; the history process
        ignores it and writes what the workers sent before they stopped."""
        ids = [self.enqueue("sleep", {"ms": 50}) for _ in range(8)]
        w = self.worker("--workers", "2", env=self.env, new_group=True)
        for jid in ids:
            self.wait_state(jid, "completed")
        os.killpg(w.pid, signal.SIGINT)
        self.assertEqual(w.wait(30), 0)
        self.assertEqual({r[0] for r in self.query("SELECT job_id FROM job_history")}, set(ids))

    def test_history_older_than_history_days_is_deleted(self):
        """Retention: at start (then hourly) the history process deletes
        history and retry records older than --history-days (default 90);
        0 keeps everything."""
        self.burst("--workers", "1", env=self.env)  # creates the schema
        old = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 100 * 86400))
        recent = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 80 * 86400))
        for jid, at in (("old", old), ("recent", recent)):
            self.exec_sql(f"INSERT INTO job_history (job_id, type, queue, state, attempts, finished_at) "
                          f"VALUES ('{jid}', 'echo', 'backtest', 'completed', 1, '{at}');"
                          f"INSERT INTO job_retries (job_id, attempt, kind, at) VALUES ('{jid}', 1, 'transient', '{at}');")
        status, _ = self.burst("--workers", "1", "--history-days", "0", env=self.env)
        self.assertEqual(status, 0)
        self.assertEqual(sorted(r[0] for r in self.query("SELECT job_id FROM job_history")), ["old", "recent"])
        status, _ = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0)
        self.assertEqual([r[0] for r in self.query("SELECT job_id FROM job_history")], ["recent"])
        self.assertEqual([r[0] for r in self.query("SELECT job_id FROM job_retries")], ["recent"])
        status, _ = self.burst("--workers", "1", "--history-days", "30", env=self.env)
        self.assertEqual(self.query("SELECT job_id FROM job_history"), [])
        self.assertEqual(self.tickq("worker", "--check", "--history-days", "-1").returncode, 64)

    def test_no_history_process_without_history(self):
        w = self.worker("--workers", "1", "--no-history", env=self.env)
        started = wait_for(lambda: [x for x in w.log_lines()
                                    if isinstance(x, dict) and x.get("msg") == "worker started"],
                           10, what="the worker started line")
        self.assertIs(started[0]["history"], False)
        # The history process would be started before the worker children.
        wait_for(lambda: len(w.children()) == 1, 10, what="the worker child")
        self.assertEqual(w.history_process(), [])
        self.assertEqual(w.all_children(), w.children())   # nor any other child, named or not yet
        w.stop()

    def test_history_flushed_on_sigterm(self):
        ids = [self.enqueue("sleep", {"ms": 100}) for _ in range(4)]
        w = self.worker("--workers", "2", env=self.env)
        for jid in ids:
            self.wait_state(jid, "completed")
        w.stop()
        self.assertEqual(w.proc.returncode, 0)
        got = {r[0] for r in self.query("SELECT job_id FROM job_history")}
        self.assertEqual(got, set(ids))


class TestHistorySqlite(HistoryTests, TickqTestCase):
    def setUp(self):
        super().setUp()
        self.path, _ = temp_sqlite(self, "tickq-hist-")
        self.env = {"TICKQ_DB": self.path}   # whole: some tests hand it to subprocess.run as it is
        self.tmp = os.path.dirname(self.path)
        self.where = os.path.realpath(self.path)

    def query(self, sql):
        return sqlite_rows(self.path, sql)

    def exec_sql(self, sql):
        sqlite_exec(self.path, sql)

    def test_worker_without_database_settings_logs_the_default_sqlite_path(self):
        cwd = tempfile.mkdtemp(prefix="tickq-cwd-", dir=self.tmp)
        home = tempfile.mkdtemp(prefix="tickq-home-", dir=self.tmp)
        env = {k: v for k, v in os.environ.items()
               if k not in ("TICKQ_DB", "DATABASE_URL", "RQ_QUEUES", "XDG_DATA_HOME")}
        env["REDIS_URL"] = self.url
        env["HOME"] = home
        want = os.path.join(os.path.realpath(home), ".local", "share", "tickq", "tickq.db")
        p = subprocess.run([TICKQ, "worker", "--burst"], cwd=cwd, env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
        db = [x for x in lines if x["msg"].startswith("no DATABASE_URL: using the SQLite database")]
        self.assertEqual(len(db), 1, p.stderr)
        self.assertEqual(db[0]["database"], want)
        started = [x for x in lines if x["msg"] == "worker started"]
        self.assertEqual(started[0]["database"], want)
        self.assertTrue(os.path.exists(want))
        self.assertEqual(os.listdir(cwd), [])  # no var/tickq.db where it ran
        self.assertEqual([x for x in lines if x.get("level") == "warning"], [])
        os.makedirs(os.path.join(cwd, "var"))
        open(os.path.join(cwd, "var", "tickq.db"), "w").close()  # the old default
        p = subprocess.run([TICKQ, "worker", "--burst"], cwd=cwd, env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        warned = [json.loads(l) for l in p.stderr.splitlines()
                  if l.startswith("{") and "not the default database any more" in l]
        self.assertEqual(len(warned), 1, p.stderr)
        self.assertEqual((warned[0]["file"], warned[0]["database"]),
                         (os.path.join(os.path.realpath(cwd), "var", "tickq.db"), want))
        p = subprocess.run([TICKQ, "worker", "--check"], cwd=cwd, env=env, capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"ok   database: sqlite {want} (schema version 7)", p.stdout)


    def test_worker_refuses_a_database_in_a_missing_folder(self):
        missing = os.path.join(os.path.realpath(self.tmp), "missing")
        path = os.path.join(missing, "h.db")
        jid = self.enqueue("echo", {"a": 1})
        p = self.tickq("worker", "--burst", env={"TICKQ_DB": path})
        self.assertEqual(p.returncode, 73, p.stderr)
        self.assertIn(f"the folder {missing} of the database {path} does not exist", p.stderr)
        self.assertEqual(self.job(jid)["state"], "queued")  # nothing ran
        p = self.tickq("worker", "--check", env={"TICKQ_DB": path})
        self.assertEqual(p.returncode, 73)
        self.assertIn(f"FAIL database: the folder {missing} of the database {path} does not exist", p.stdout)
        self.assertFalse(os.path.exists(missing))


class TestHistoryPostgres(HistoryTests, TickqTestCase):
    def setUp(self):
        super().setUp()
        url, self.dbname = postgres().new_database()
        self.env = {"DATABASE_URL": url}
        self.where = url

    def query(self, sql):
        return postgres().rows(self.dbname, sql)

    def exec_sql(self, sql):
        postgres().psql(self.dbname, sql)

    def test_worker_start_line_masks_the_password(self):
        url = self.where.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")  # trust: ignored
        status, w = self.burst("--workers", "1", env={"DATABASE_URL": url})
        self.assertEqual(status, 0, w.log())
        started = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "worker started"]
        self.assertEqual(started[0]["database"], url.replace(":s3cret@", ":***@"))
        self.assertNotIn("s3cret", w.log())

    def test_worker_exits_69_when_database_url_is_unreachable(self):
        p = self.tickq("worker", "--burst", env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"})
        self.assertEqual(p.returncode, 69)
        self.assertIn("cannot connect to PostgreSQL", p.stderr)
        p = self.tickq("worker", "--check", env=self.env)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("ok   database: postgresql", p.stdout)
