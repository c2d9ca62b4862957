"""test_data.py — the data layer on both drivers (SQLite and PostgreSQL):
migrations, CSV import and its validation, synthetic data, listing, loading
with features, and the worker's job history."""
import concurrent.futures
import csv
import io
import json
import math
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import TICKQ, TickqTestCase, free_port, postgres, tickq

GOOD = """symbol,date,open,high,low,close,volume
AAA,2024-01-02,10,11,9.5,10.5,1000
BBB,2024-01-02,50,51,49,50.5,2000
AAA,2024-01-03,10.6,11.2,10.4,11,1500
BBB,2024-01-03,50.4,50.9,49.7,50,2500
AAA,2024-01-04,11.5,11.9,11.1,11.8,900
AAA,2024-01-05,11.7,12.2,11.6,12.1,1100
"""


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
        self.assertEqual(self.bars(), [])
        p = self.data("import", path, "--skip-bad")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("imported 1 rows", p.stdout)
        self.assertIn("bad.csv:3: ", p.stderr)
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
        quoted = '"symbol","date","open","high","low","close","volume"\n'
        self.assertEqual(self.data("import", self.write("q.csv", quoted)).returncode, 65)
        crlf = GOOD.replace("\n", "\r\n")
        self.assertEqual(self.data("import", self.write("crlf.csv", crlf)).returncode, 0)
        self.assertEqual(len(self.bars()), 6)

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
        p = self.data("show", "ZZZ")
        self.assertEqual(p.returncode, 0)
        self.assertIn("no 1d bars of ZZZ", p.stderr)

    def test_migrations_run_once_even_when_started_together(self):
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda _: self.data("list"), range(6)))
        for p in results:
            self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.query("SELECT version FROM schema_migrations ORDER BY version"), [(1,), (2,), (3,)])
        for table in ("bars", "job_history", "job_retries"):
            self.assertEqual(self.query(f"SELECT COUNT(*) FROM {table}"), [(0,)])


class TestDataSqlite(DataTests, unittest.TestCase):
    kind = "sqlite"

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.tmp, "t.db")
        self.env = {"TICKQ_DB": self.path, "DATABASE_URL": None}

    def query(self, sql):
        con = sqlite3.connect(self.path)
        try:
            return [tuple(r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()

    def test_default_path_and_db_flag(self):
        cwd = tempfile.mkdtemp(prefix="tickq-cwd-")
        try:
            p = subprocess.run([TICKQ,
                                "data", "list"], cwd=cwd, capture_output=True, text=True,
                               env={k: v for k, v in os.environ.items() if k not in ("TICKQ_DB", "DATABASE_URL")})
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(os.path.join(os.path.realpath(cwd), "var", "tickq.db"), p.stderr)
            self.assertTrue(os.path.exists(os.path.join(cwd, "var", "tickq.db")))
            other = os.path.join(self.tmp, "other.db")
            p = tickq("data", "list", "--db", other, env=self.env)
            self.assertIn(other, p.stderr)
            self.assertTrue(os.path.exists(other))
        finally:
            shutil.rmtree(cwd, ignore_errors=True)

    def test_unusable_database_file(self):
        path = self.write("notadb", "this is not a database" * 100)
        p = tickq("data", "list", env={"TICKQ_DB": path, "DATABASE_URL": None})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(path, p.stderr)


class TestDataPostgres(DataTests, unittest.TestCase):
    kind = "postgresql"

    def setUp(self):
        super().setUp()
        self.url, self.dbname = postgres().new_database()
        self.env = {"DATABASE_URL": self.url}

    def query(self, sql):
        out = postgres().psql(self.dbname, sql).stdout
        rows = []
        for line in out.splitlines():
            rows.append(tuple(int(x) if x.lstrip("-").isdigit() else x for x in line.split("|")))
        return rows

    def test_unreachable_or_wrong_database_url(self):
        p = tickq("data", "list", env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"})
        self.assertEqual(p.returncode, 69)
        self.assertIn("cannot connect to PostgreSQL", p.stderr)
        p = tickq("data", "list", env={"DATABASE_URL": "mysql://u@h/db"})
        self.assertEqual(p.returncode, 78)
        self.assertIn("DATABASE_URL must be a PostgreSQL URL", p.stderr)
        masked = tickq("data", "list", env={"DATABASE_URL": f"postgresql://postgres:secret@127.0.0.1:{free_port()}/x"})
        self.assertNotIn("secret", masked.stderr)


class HistoryTests:
    """The worker's job history, on both drivers."""

    def test_history_and_retry_records(self):
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
        self.tmp = tempfile.mkdtemp(prefix="tickq-hist-")
        self.path = os.path.join(self.tmp, "h.db")
        self.env = {"TICKQ_DB": self.path}
        self.where = self.path

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def query(self, sql):
        con = sqlite3.connect(self.path)
        try:
            return [tuple(r) for r in con.execute(sql).fetchall()]
        finally:
            con.close()


class TestHistoryPostgres(HistoryTests, TickqTestCase):
    def setUp(self):
        super().setUp()
        url, self.dbname = postgres().new_database()
        self.env = {"DATABASE_URL": url}
        self.where = url

    def query(self, sql):
        return TestDataPostgres.query(self, sql)

    def test_worker_exits_69_when_database_url_is_unreachable(self):
        p = self.tickq("worker", "--burst", env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"})
        self.assertEqual(p.returncode, 69)
        self.assertIn("cannot connect to PostgreSQL", p.stderr)
        p = self.tickq("worker", "--check", env=self.env)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("ok   database: postgresql", p.stdout)
