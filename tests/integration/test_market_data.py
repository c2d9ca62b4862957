"""test_market_data.py — the `update_stock_data` task against a real worker:
bars fetched from the harness's FakeHttpServer (127.0.0.1, in a thread)
and from a folder of CSV files, written to a temp SQLite file.
Good updates write every bar and are idempotent; any failing symbol (404,
bad row, truncated CSV, empty body, timeout, cut transfer, wrong symbol)
leaves the database unchanged for all symbols; retryable failures go back
to the queue, bad data and bad args fail at once; "all" resolves to the
stored symbols (and a csv_dir folder's files); SIGTERM cuts a fetch stuck on
a stalled server, or in its backoff, short. One test repeats the
all-or-nothing write on PostgreSQL."""
import datetime
import json
import os
import shutil
import signal
import tempfile
import time

from harness import (BAR_HEADER, FakeHttpServer, Reply, TickqTestCase, bars_csv, postgres, sqlite_exec, sqlite_rows,
                     tickq, wait_for)

TYPE = "update_stock_data"


def make_rows(symbol, first="2024-01-02", days=5, bump=0.0):
    """Weekday bars, deterministic per symbol; `bump` moves the last close
    (and high) so that a changed upstream file can be told apart."""
    base = 10.0 + sum(map(ord, symbol)) % 50
    d, rows = datetime.date.fromisoformat(first), []
    while len(rows) < days:
        if d.weekday() < 5:
            i = len(rows)
            opn = round(base + i * 0.5, 2)
            close = round(opn + 0.25 + (bump if i == days - 1 else 0), 2)
            rows.append((d.isoformat(), opn, round(close + 0.5, 2), round(opn - 0.5, 2), close, 1000 + 10 * i))
        d += datetime.timedelta(days=1)
    return rows


def csv_of(rows, symbol=None):
    """A bar file of rows; with a symbol, in the import format (symbol column)."""
    if symbol:
        return bars_csv([(symbol,) + r for r in rows])
    return bars_csv(rows, with_symbol=False)


def bars_reply(path, hits, bump):
    """The fake provider: GET /bars/<SYMBOL>.csv, where the symbol picks the
    behaviour; bump[symbol] moves its last close (see make_rows)."""
    if path.startswith("/moved/"):     # a redirect to the same file under /bars/
        return Reply.redirect("/bars/" + path[len("/moved/"):])
    if path.startswith("/away/"):      # /away/PORT/X: a redirect to /bars/X on another port
        port, rest = path[len("/away/"):].split("/", 1)
        return Reply.redirect(f"http://127.0.0.1:{port}/bars/{rest}")
    sym = path[len("/bars/"):-len(".csv")] if path.startswith("/bars/") and path.endswith(".csv") else ""
    good = csv_of(make_rows(sym, bump=bump.get(sym, 0.0)))
    if sym in ("AAA", "BBB", "CCC", "^IDX"):
        return Reply(200, good)
    if sym == "IMPFMT":                # the import format, symbol column
        return Reply(200, csv_of(make_rows(sym), symbol=sym))
    if sym == "WRONGSYM":
        return Reply(200, csv_of(make_rows(sym), symbol="OTHER"))
    if sym.startswith("FLAKY"):        # 500 on the first request only
        return Reply(500, "oops\n") if hits == 1 else Reply(200, good)
    if sym == "DOWN":
        return Reply(500, "down\n")
    if sym == "SLOW":
        return Reply(200, good, delay=1.5)
    if sym == "STALL":                 # answers once the test releases it, else after 20 s
        return Reply(200, good, hold=20)
    if sym == "TRUNC":                 # the body stops inside the last row
        return Reply(200, good.rstrip("\n").rsplit(",", 3)[0])
    if sym == "BADROW":
        lines = good.splitlines()
        lines[2] = "2024-01-03,10,9,8,10.5,100"   # high below open
        return Reply(200, "\n".join(lines) + "\n")
    if sym == "EMPTY":
        return Reply(200, "")
    if sym == "HEADONLY":
        return Reply(200, BAR_HEADER + "\n")
    if sym == "CUT":                   # Content-Length promises more than comes
        return Reply(200, good[:40], length=len(good))
    return Reply(404, "no such symbol\n")


class TestUpdateStockData(TickqTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="tickq-md-")
        cls.bump = {}
        cls.http = FakeHttpServer(lambda path, hits: bars_reply(path, hits, cls.bump))
        cls.count = 0

    @classmethod
    def tearDownClass(cls):
        cls.http.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        # A fresh database per test; no provider from the environment unless
        # a test sets one.
        type(self).count += 1
        self.db = os.path.join(self.tmp, f"bars{self.count}.db")
        self.env = {"TICKQ_DB": self.db, "DATABASE_URL": None, "TICKQ_MARKET_DATA_PROVIDER": None,
                    "TICKQ_MARKET_DATA_PATH": None, "TICKQ_MARKET_DATA_URL": None}
        self.bump.clear()
        self.http.release.clear()
        self.addCleanup(self.http.release.set)
        self.addCleanup(self.http.check)   # a reply that raised fails this test, not the class

    # --- helpers ---------------------------------------------------------
    def provider(self, **kw):
        p = {"type": "http_csv", "url": f"http://127.0.0.1:{self.http.port}/bars/{{symbol}}.csv",
             "timeout_seconds": 2, "retries": 1}
        p.update(kw)
        return p

    def run_jobs(self, *jobs, env=None, opts=("--max-retries", "0"), unchecked=False):
        """Enqueues the jobs' args (unchecked: through the Redis function,
        past the CLI's argument check), drains them with one burst worker;
        returns their ids."""
        if unchecked:
            ids = [self.submit(TYPE, a, max_retries=0) for a in jobs]
        else:
            ids = [self.enqueue(TYPE, a, *opts) for a in jobs]
        status, w = self.burst("--workers", "1", "--retry-base", "50ms", env=env or self.env)
        self.assertEqual(status, 0, w.log())
        return ids

    def ok(self, job_id):
        res = self.result(job_id)
        self.assertIsNotNone(res)
        self.assertEqual(res["status"], "completed", json.dumps(res)[:800])
        return res["data"]

    def failed(self, job_id, permanent=True):
        """The error of a failed job: permanent ones fail at once, retryable
        ones (with --max-retries 0) go dead after their one attempt."""
        res = self.result(job_id)
        self.assertIsNotNone(res)
        self.assertEqual(res["status"], "error", json.dumps(res)[:800])
        self.assertEqual(self.state(job_id), "failed" if permanent else "dead", res["data"]["error"])
        self.assertEqual(self.job(job_id)["attempts"], "1")
        self.assertEqual([r["kind"] for r in self.retries(job_id)], [] if permanent else ["transient"])
        return res["data"]["error"]

    def bars(self):
        if not os.path.exists(self.db):
            return []
        return sqlite_rows(self.db, "SELECT symbol, interval, ts, open, high, low, close, volume FROM bars"
                                    " ORDER BY symbol, interval, ts")

    def want(self, symbol, bump=0.0, interval="1d"):
        out = []
        for d, o, h, l, c, v in make_rows(symbol, bump=bump):
            ts = int(datetime.datetime.fromisoformat(d).replace(tzinfo=datetime.timezone.utc).timestamp())
            out.append((symbol, interval, ts, o, h, l, c, float(v)))
        return out

    def write_dir(self, name, files):
        path = os.path.join(self.tmp, f"{name}{self.count}")
        os.makedirs(path, exist_ok=True)
        for fname, text in files.items():
            with open(os.path.join(path, fname), "w") as f:
                f.write(text)
        return path

    # --- http_csv --------------------------------------------------------
    def test_http_update_writes_bars_and_is_idempotent(self):
        args = {"symbols": ["BBB", "AAA", "FLAKY1", "^IDX", "AAA"], "provider": self.provider()}
        (jid,) = self.run_jobs(args)
        data = self.ok(jid)
        self.assertEqual(data["symbols_updated"], 4)
        self.assertEqual(data["bars_written"], 20)
        self.assertEqual(data["provider"], "http_csv")
        self.assertEqual(data["interval"], "1d")
        self.assertEqual(data["per_symbol"], {s: {"bars": 5, "first": "2024-01-02", "last": "2024-01-08"}
                                              for s in ("AAA", "BBB", "FLAKY1", "^IDX")})
        self.assertNotIn("per_symbol_omitted", data)
        # FLAKY1's 500 was retried inside the fetch; ^IDX went out escaped.
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(self.http.hits["/bars/FLAKY1.csv"], 2)
        want = sorted(self.want("AAA") + self.want("BBB") + self.want("FLAKY1") + self.want("^IDX"))
        self.assertEqual(self.bars(), want)
        listed = [json.loads(x) for x in tickq("data", "list", "--json", env=self.env).stdout.splitlines()]
        self.assertEqual([(x["symbol"], x["bars"], x["first"], x["last"]) for x in listed],
                         [(s, 5, "2024-01-02", "2024-01-08") for s in ("AAA", "BBB", "FLAKY1", "^IDX")])

        # The same update again changes nothing; a changed upstream bar is upserted.
        (jid,) = self.run_jobs(args)
        self.assertEqual(self.ok(jid)["bars_written"], 20)
        self.assertEqual(self.bars(), want)
        self.bump["AAA"] = 1.0
        (jid,) = self.run_jobs({"symbols": ["AAA"], "provider": self.provider()})
        self.assertEqual(self.ok(jid)["symbols_updated"], 1)
        want = sorted(self.want("AAA", bump=1.0) + self.want("BBB") + self.want("FLAKY1") + self.want("^IDX"))
        self.assertEqual(self.bars(), want)

    def test_any_failing_symbol_writes_nothing(self):
        (jid,) = self.run_jobs({"symbols": ["AAA", "BBB"], "provider": self.provider()})
        self.ok(jid)
        before = self.bars()
        self.assertEqual(len(before), 10)
        # Had they been written, AAA would have changed and CCC appeared.
        self.bump["AAA"] = 2.0
        fast = self.provider(timeout_seconds=0.3, retries=0)
        cases = [
            # (bad symbol, permanent?, what the error says)
            ("MISSING", True, "HTTP status 404"),
            ("TRUNC", True, "1 bad row of 5: line 6: expected 6 columns (date,open,high,low,close,volume), found 3"),
            ("BADROW", True, "line 3: high 9 is below max(open, close) = 10.5"),
            ("EMPTY", True, "empty response"),
            ("HEADONLY", True, "no bars, only the header line"),
            ("WRONGSYM", True, "symbol 'OTHER' in a file of WRONGSYM's bars"),
            ("SLOW", False, "Operation timed out"),
            # curl's own words for a body shorter than its Content-Length (the
            # server sends 40 bytes of the file).
            ("CUT", False, f"/bars/CUT.csv: transfer closed with {len(csv_of(make_rows('CUT')).encode()) - 40} "
                           "bytes remaining to read (after 1 attempt)"),
        ]
        ids = self.run_jobs(*[{"symbols": ["AAA", bad, "CCC"], "provider": fast} for bad, _, _ in cases])
        for jid, (bad, permanent, needle) in zip(ids, cases):
            err = self.failed(jid, permanent)
            self.assertTrue(err.startswith("nothing written: 1 of 3 symbols failed"), err)
            self.assertIn(f"; {bad}: http://127.0.0.1:{self.http.port}/bars/{bad}.csv", err)
            self.assertIn(needle, err)
        self.assertEqual(self.bars(), before)

        # Several bad symbols are all named; what comes after a bad one is
        # still checked.
        (jid,) = self.run_jobs({"symbols": ["AAA", "BADROW", "CCC", "MISSING"], "provider": fast})
        err = self.failed(jid)
        self.assertTrue(err.startswith("nothing written: 2 of 4 symbols failed; BADROW: "), err)
        self.assertIn("; MISSING: ", err)
        self.assertEqual(self.bars(), before)

    def test_retryable_failures_go_back_to_the_queue(self):
        # Failing every time: retried by the queue, then dead; nothing written.
        args = {"symbols": ["AAA", "DOWN"], "provider": self.provider(retries=0)}
        (jid,) = self.run_jobs(args, opts=("--max-retries", "1"))
        res = self.result(jid)
        self.assertEqual(res["status"], "error")
        self.assertEqual(self.state(jid), "dead")
        self.assertEqual(self.job(jid)["attempts"], "2")
        self.assertEqual([r["kind"] for r in self.retries(jid)], ["transient", "transient"])
        self.assertIn("DOWN: ", res["data"]["error"])
        self.assertIn("HTTP status 500", res["data"]["error"])
        self.assertEqual(self.http.hits["/bars/DOWN.csv"], 2)
        self.assertEqual(self.bars(), [])
        # Failing once, with no retry in the fetch: the queue's retry succeeds.
        (jid,) = self.run_jobs({"symbols": ["AAA", "FLAKY2"], "provider": self.provider(retries=0)},
                               opts=("--max-retries", "2"))
        self.assertEqual(self.ok(jid)["symbols_updated"], 2)
        self.assertEqual(self.job(jid)["attempts"], "2")
        self.assertEqual(self.bars(), sorted(self.want("AAA") + self.want("FLAKY2")))

    # --- shutdown ----------------------------------------------------------
    def sigterm_while(self, args, under_way):
        """Runs the job on a worker with a 10 s grace and sends SIGTERM once
        under_way() holds. Returns (job id, seconds the worker took to exit,
        its log)."""
        jid = self.enqueue(TYPE, args, "--max-retries", "3")
        w = self.worker("--workers", "1", "--grace", "10", "--retry-base", "50ms", env=self.env)
        wait_for(under_way, 15, what="the fetch to be under way")
        t0 = time.time()
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(20), 0, w.log())
        took = time.time() - t0
        log = w.log()
        self.assertNotIn("grace period over", log)
        return jid, took, log

    def assert_back_for_another_run(self, jid):
        """Stopped, not failed: nothing written, the job queued again with
        its attempt not charged (no retry record), nothing left pending."""
        self.assertEqual(self.bars(), [])
        self.assertEqual(self.state(jid), "queued")
        self.assertEqual(self.job(jid)["attempts"], "0")
        self.assertEqual(self.retries(jid), [])
        self.assertEqual(self.ready(), 1)
        self.assertEqual(self.pending(), 0)

    def test_sigterm_cuts_a_stalled_fetch_short(self):
        # The server would answer in 20 s, the request may take 30 s and the
        # grace is 10 s: only an aborted transfer lets the worker out early.
        args = {"symbols": ["AAA", "STALL"], "provider": self.provider(timeout_seconds=30, retries=2)}
        jid, took, log = self.sigterm_while(args, lambda: self.http.hits.get("/bars/STALL.csv"))
        self.assertLess(took, 5, log)
        self.assertEqual(self.http.hits["/bars/STALL.csv"], 1)  # not retried after the stop
        self.assert_back_for_another_run(jid)
        # Not lost: once the server answers, the next worker completes it.
        self.http.release.set()
        status, w = self.burst("--workers", "1", "--retry-base", "50ms", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.ok(jid)["bars_written"], 10)
        self.assertEqual(self.bars(), sorted(self.want("AAA") + self.want("STALL")))

    def test_sigterm_cuts_the_backoff_short(self):
        # DOWN answers 500 forever; 10 retries back off 0.2 s, 0.4 s, ... 102 s
        # (over 200 s in all), so the fetch would outlast the 10 s grace.
        args = {"symbols": ["DOWN"], "provider": self.provider(timeout_seconds=5, retries=10)}
        jid, took, log = self.sigterm_while(args, lambda: self.http.hits.get("/bars/DOWN.csv", 0) >= 3)
        hits = self.http.hits["/bars/DOWN.csv"]
        self.assertLess(took, 5, log)
        # The worker has exited and reaped its children: nothing is left to ask again.
        self.assertEqual(self.http.hits["/bars/DOWN.csv"], hits)
        self.assertLessEqual(hits, 4)  # at most the request under way when the signal came
        self.assert_back_for_another_run(jid)

    def test_provider_allow_limits_job_given_providers(self):
        """TICKQ_PROVIDER_ALLOW: a job's provider must name a listed folder
        (or one under it) or a listed URL prefix; the environment's own
        provider is never checked; "none" refuses every job-given one."""
        allowed = self.write_dir("allowed", {})
        inner = os.path.join(allowed, "inner")
        os.makedirs(inner)
        with open(os.path.join(inner, "AAA.csv"), "w") as f:
            f.write(csv_of(make_rows("AAA")))
        elsewhere = self.write_dir("elsewhere", {"AAA.csv": csv_of(make_rows("AAA"))})
        base = f"http://127.0.0.1:{self.http.port}"
        env = dict(self.env, TICKQ_PROVIDER_ALLOW=f" {allowed} , {base}/bars/ ")
        ids = self.run_jobs({"symbols": ["AAA"], "provider": {"type": "csv_dir", "path": inner}},
                            {"symbols": ["AAA"], "provider": {"type": "csv_dir", "path": elsewhere}},
                            {"symbols": ["AAA"], "provider": {"type": "csv_dir", "path": inner + "/../../"
                                                              + os.path.basename(elsewhere)}},
                            {"symbols": ["BBB"], "provider": self.provider()},
                            {"symbols": ["BBB"], "provider": self.provider(url=f"{base}/other/{{symbol}}.csv")},
                            {"symbols": ["BBB"], "provider": self.provider(url=f"{base}/bars/../x/{{symbol}}.csv")},
                            {"symbols": ["BBB"], "provider": self.provider(
                                url=f"http://127.0.0.1:{self.http.port}0/bars/{{symbol}}.csv")},
                            env=env)
        # dot segments hidden by percent-encoding (and backslashes) count too
        hidden = ["%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "..%5c", "%2e%2e%2fx"]
        hid = self.run_jobs(*({"symbols": ["BBB"], "provider": self.provider(
            url=f"{base}/bars/{h}/secret/{{symbol}}.csv")} for h in hidden), env=env)
        for h, jid in zip(hidden, hid):
            self.assertIn(f"provider.url '{base}/bars/{h}/secret/{{symbol}}.csv' is not allowed: "
                          "TICKQ_PROVIDER_ALLOW limits job-given providers, and this URL has dot segments",
                          self.failed(jid), h)
        self.assertFalse([k for k in self.http.hits if "secret" in k], self.http.hits)
        self.assertEqual(self.ok(ids[0])["bars_written"], 5)
        self.assertEqual(self.ok(ids[3])["bars_written"], 5)
        for jid in ids[1:3]:
            self.assertIn("is not allowed: the worker's TICKQ_PROVIDER_ALLOW admits only its listed folders",
                          self.failed(jid))
        for jid in (ids[4], ids[6]):
            self.assertIn("admits only its listed URL prefixes", self.failed(jid))
        self.assertIn("URL has dot segments", self.failed(ids[5]))
        self.assertEqual(self.bars(), sorted(self.want("AAA") + self.want("BBB")))
        # redirects: to the same origin when nothing is limited; under a
        # limit only to a listed URL prefix
        moved = {"symbols": ["CCC"], "provider": self.provider(url=f"{base}/moved/{{symbol}}.csv")}
        fetched = self.http.hits.get("/bars/CCC.csv", 0)
        ids = self.run_jobs(moved, env=dict(self.env, TICKQ_PROVIDER_ALLOW=f"{base}/moved/"))
        self.assertIn(f"{base}/moved/CCC.csv: redirect to {base}/bars/CCC.csv refused: the job's provider is "
                      "limited by the worker's TICKQ_PROVIDER_ALLOW, and the target is not under one of its URL "
                      "prefixes", self.failed(ids[0]))
        self.assertEqual(self.http.hits.get("/bars/CCC.csv", 0), fetched)
        ids = self.run_jobs(moved, env=dict(self.env, TICKQ_PROVIDER_ALLOW=f"{base}/moved/,{base}/bars/"))
        self.assertEqual(self.ok(ids[0])["bars_written"], 5)
        ids = self.run_jobs(moved)
        self.assertEqual(self.ok(ids[0])["bars_written"], 5)
        # "none": job-given providers refused, the worker's own still used
        env = dict(self.env, TICKQ_PROVIDER_ALLOW="none", TICKQ_MARKET_DATA_PROVIDER="csv_dir",
                   TICKQ_MARKET_DATA_PATH=elsewhere)
        ids = self.run_jobs({"symbols": ["AAA"], "provider": {"type": "csv_dir", "path": inner}},
                            {"symbols": ["AAA"]}, env=env)
        self.assertIn("TICKQ_PROVIDER_ALLOW=none admits no csv_dir or http_csv provider", self.failed(ids[0]))
        self.assertEqual(self.ok(ids[1])["bars_written"], 5)

    def test_redirects_to_another_origin_are_refused_unless_listed(self):
        """Without an allow list a redirect is followed to the same scheme,
        host and port only: one to another port is refused, naming its
        target, for a job's provider and the worker's own alike. Listing the
        target in TICKQ_PROVIDER_ALLOW allows it."""
        other = FakeHttpServer(lambda path, hits: bars_reply(path, hits, {}))
        self.addCleanup(other.close)
        base, there = self.http.url(), other.url()
        away = f"{base}/away/{other.port}/{{symbol}}.csv"
        refused = (f"{base}/away/{other.port}/AAA.csv: redirect to {there}/bars/AAA.csv refused: it leaves "
                   f"the origin (scheme, host and port) of {base}/away/{other.port}/AAA.csv; the worker's "
                   "TICKQ_PROVIDER_ALLOW may list it to allow it")
        env_own = dict(self.env, TICKQ_MARKET_DATA_PROVIDER="http_csv", TICKQ_MARKET_DATA_URL=away)
        ids = self.run_jobs({"symbols": ["AAA"], "provider": self.provider(url=away)})
        ids += self.run_jobs({"symbols": ["AAA"]}, env=env_own)
        for jid in ids:
            self.assertIn(refused, self.failed(jid))
        self.assertEqual(other.hits, {})
        self.assertEqual(self.bars(), [])
        # listed: followed (a job's provider must be under the list too)
        listed = f"{base}/away/,{there}/bars/"
        ids = self.run_jobs({"symbols": ["AAA"], "provider": self.provider(url=away)},
                            env=dict(self.env, TICKQ_PROVIDER_ALLOW=listed))
        ids += self.run_jobs({"symbols": ["BBB"]}, env=dict(env_own, TICKQ_PROVIDER_ALLOW=f"{there}/bars/"))
        for jid in ids:
            self.assertEqual(self.ok(jid)["bars_written"], 5)
        self.assertEqual(other.hits, {"/bars/AAA.csv": 1, "/bars/BBB.csv": 1})
        self.assertEqual(self.bars(), sorted(self.want("AAA") + self.want("BBB")))

    def test_symbols_that_climb_out_never_reach_a_provider(self):
        """Every provider checks a symbol with the rule of imports before
        putting it into a path or URL: "../secret/x" was fetched as
        /bars/..%2Fsecret%2Fx.csv and its bars stored under that name."""
        p = self.provider()
        bad = ["../secret/x", "..", "A/./B", "A/.."]
        for sym in bad:
            r = self.tickq("enqueue", TYPE, json.dumps({"symbols": ["AAA", sym], "provider": p}))
            self.assertEqual(r.returncode, 65, sym)
            self.assertIn(f'symbols[1] is not a valid symbol (1-32 characters, no spaces, commas, quotes, '
                          f"backslashes or braces, no . or .. between slashes), got '{sym}'", r.stderr)
        r = self.tickq("enqueue", TYPE, json.dumps({"symbols": ["A" * 47], "provider": p}))
        self.assertIn("symbols[0] is not a valid symbol (1-32 characters, no spaces, commas, quotes, backslashes or "
                      "braces, no . or .. between slashes), got '" + "A" * 40 + "\u2026' (47 characters)", r.stderr)
        folder = self.write_dir("csv", {"AAA.csv": csv_of(make_rows("AAA"))})
        ids = self.run_jobs(*({"symbols": [sym], "provider": p} for sym in bad),
                            {"symbols": ["../secret/x"], "provider": {"type": "csv_dir", "path": folder}},
                            unchecked=True)
        for jid in ids:
            self.assertIn("is not a valid symbol", self.failed(jid))
        # A name stored before the rule (the database is written to here
        # directly) is refused by the provider when "all" brings it back.
        (jid,) = self.run_jobs({"symbols": ["AAA"], "provider": p})
        self.ok(jid)
        sqlite_exec(self.db, "INSERT INTO bars SELECT '../secret/x', interval, ts, open, high, low, close, volume"
                             " FROM bars WHERE symbol = 'AAA'")
        for provider in (p, {"type": "csv_dir", "path": folder}):
            (jid,) = self.run_jobs({"symbols": "all", "provider": provider})
            self.assertIn("../secret/x: '../secret/x' is not a valid symbol (1-32 characters, no spaces, commas, "
                          "quotes, backslashes or braces, no . or .. between slashes): no path or URL is made of it",
                          self.failed(jid))
        self.assertFalse([k for k in self.http.hits if "secret" in k], self.http.hits)

    # --- csv_dir -----------------------------------------------------------
    def test_csv_dir_from_the_environment(self):
        folder = self.write_dir("csv", {"AAA.csv": csv_of(make_rows("AAA")),
                                        "IMPFMT.csv": csv_of(make_rows("IMPFMT"), symbol="IMPFMT")})
        env = dict(self.env, TICKQ_MARKET_DATA_PROVIDER="csv_dir", TICKQ_MARKET_DATA_PATH=folder)
        hourly = self.write_dir("hourly", {"HHH.csv": BAR_HEADER + "\n2024-01-02T14:30:00,10,11,9,10.5,100\n"
                                                     "2024-01-02T15:30:00Z,10.5,11,10,10.8,200\n"})
        ids = self.run_jobs({"symbols": ["AAA", "NOPE"]},
                            {"symbols": ["AAA"], "provider": {"type": "csv_dir", "path": folder + "-gone"}},
                            {"symbols": ["A/B"]},
                            {"symbols": ["AAA", "IMPFMT"]},
                            {"symbols": ["HHH"], "interval": "1h", "provider": {"type": "csv_dir", "path": hourly}},
                            env=env)
        err = self.failed(ids[0])
        self.assertIn(f"NOPE: no file {folder}/NOPE.csv", err)
        self.assertIn(f"the csv_dir folder {folder}-gone does not exist", self.failed(ids[1]))
        self.assertIn("symbol 'A/B' cannot name a file", self.failed(ids[2]))
        data = self.ok(ids[3])
        self.assertEqual((data["provider"], data["symbols_updated"], data["bars_written"]), ("csv_dir", 2, 10))
        data = self.ok(ids[4])
        self.assertEqual(data["per_symbol"], {"HHH": {"bars": 2, "first": "2024-01-02T14:30:00Z",
                                                      "last": "2024-01-02T15:30:00Z"}})
        self.assertEqual([b[:3] for b in self.bars() if b[0] == "HHH"],
                         [("HHH", "1h", 1704205800), ("HHH", "1h", 1704209400)])
        self.assertEqual(sorted(b for b in self.bars() if b[1] == "1d"),
                         sorted(self.want("AAA") + self.want("IMPFMT")))

    # --- "all" -------------------------------------------------------------
    def test_all_resolves_stored_symbols_and_folder_files(self):
        # Nothing stored, nothing in the folder: an error naming both.
        empty = self.write_dir("empty", {})
        ids = self.run_jobs({"symbols": "all", "provider": {"type": "csv_dir", "path": empty}},
                            {"symbols": "all", "provider": self.provider()})
        self.assertIn(f"the database has no 1d bars and {empty} has no <SYMBOL>.csv files", self.failed(ids[0]))
        self.assertIn("nothing to update: the database has no 1d bars", self.failed(ids[1]))

        # Stored: CCC (1d) and ZZZ (1h, another interval: left alone).
        (jid,) = self.run_jobs({"symbols": ["CCC"], "provider": self.provider()})
        self.ok(jid)
        hourly = self.write_dir("zzz", {"ZZZ.csv": BAR_HEADER + "\n2024-01-02T14:30:00,10,11,9,10.5,100\n"})
        (jid,) = self.run_jobs({"symbols": ["ZZZ"], "interval": "1h", "provider": {"type": "csv_dir", "path": hourly}})
        self.ok(jid)
        # The folder has AAA and BBB (and files that are not symbols), not CCC:
        # a stored symbol the provider cannot give fails the whole update.
        files = {"AAA.csv": csv_of(make_rows("AAA")), "BBB.csv": csv_of(make_rows("BBB")),
                 "notes.txt": "x", ".hidden.csv": "x", "bad name.csv": "x"}
        folder = self.write_dir("all", files)
        before = self.bars()
        (jid,) = self.run_jobs({"symbols": "all", "provider": {"type": "csv_dir", "path": folder}})
        self.assertIn(f"nothing written: 1 of 3 symbols failed; CCC: no file {folder}/CCC.csv", self.failed(jid))
        self.assertEqual(self.bars(), before)
        with open(os.path.join(folder, "CCC.csv"), "w") as f:
            f.write(csv_of(make_rows("CCC", bump=0.5)))
        (jid,) = self.run_jobs({"symbols": "all", "provider": {"type": "csv_dir", "path": folder}})
        data = self.ok(jid)
        self.assertEqual(sorted(data["per_symbol"]), ["AAA", "BBB", "CCC"])
        self.assertEqual(sorted(b for b in self.bars() if b[1] == "1d"),
                         sorted(self.want("AAA") + self.want("BBB") + self.want("CCC", bump=0.5)))
        # http_csv: "all" is what is stored at the interval.
        hits = dict(self.http.hits)
        env = dict(self.env, TICKQ_MARKET_DATA_PROVIDER="http_csv", TICKQ_MARKET_DATA_URL=self.provider()["url"])
        (jid,) = self.run_jobs({"symbols": "all"}, env=env)
        data = self.ok(jid)
        self.assertEqual(sorted(data["per_symbol"]), ["AAA", "BBB", "CCC"])
        self.assertNotIn("/bars/ZZZ.csv", self.http.hits)
        self.assertEqual(self.http.hits["/bars/AAA.csv"], hits.get("/bars/AAA.csv", 0) + 1)

    def test_all_caps_per_symbol(self):
        folder = self.write_dir("many", {f"S{i:03d}.csv": csv_of(make_rows(f"S{i:03d}", days=1)) for i in range(101)})
        (jid,) = self.run_jobs({"symbols": "all", "provider": {"type": "csv_dir", "path": folder}})
        data = self.ok(jid)
        self.assertEqual((data["symbols_updated"], data["bars_written"]), (101, 101))
        self.assertEqual(len(data["per_symbol"]), 100)
        self.assertEqual(data["per_symbol_omitted"], 1)
        self.assertEqual(len(self.bars()), 101)

    # --- bad args ------------------------------------------------------------
    def test_bad_args_fail_at_once(self):
        p = self.provider()
        cases = [
            ({"symbols": "AAA", "provider": p}, "symbols is the string 'AAA': give a list like"),
            ({"symbols": 5, "provider": p}, "symbols must be a non-empty list or \"all\""),
            ({"symbols": [], "provider": p}, "symbols must be a non-empty list or \"all\""),
            ({"provider": p}, "missing symbols"),
            ({"symbols": ["AAA", "BAD SYM"], "provider": p}, "symbols[1] is not a valid symbol"),
            ({"symbols": ["AAA", "../secret/x"], "provider": p}, "symbols[1] is not a valid symbol"),
            ({"symbols": ["AAA"], "provider": {"type": "ftp"}}, "unknown provider type 'ftp' (use csv_dir or http_csv)"),
            ({"symbols": ["AAA"], "provider": "csv_dir"}, "provider must be an object"),
            ({"symbols": ["AAA"], "provider": {"type": "csv_dir"}}, "provider.path is missing"),
            ({"symbols": ["AAA"], "provider": {"type": "http_csv", "url": "http://127.0.0.1:1/bars.csv"}},
             "provider.url must contain {symbol}"),
            ({"symbols": ["AAA"], "provider": {"type": "http_csv", "url": "ftp://h/{symbol}"}},
             "provider.url must start with http:// or https://"),
            ({"symbols": ["AAA"], "provider": dict(p, timeout=5)}, "unknown key 'timeout' in a http_csv provider"),
            ({"symbols": ["AAA"], "provider": dict(p, retries=-1)}, "provider.retries must be an integer from 0 to 10"),
            ({"symbols": ["AAA"], "provider": dict(p, timeout_seconds=0)}, "provider.timeout_seconds must be"),
            ({"symbols": ["AAA"], "provider": p, "interval": "daily"}, "interval must be like 1d"),
        ]
        # `tickq enqueue` refuses each, naming the problem...
        for args, needle in cases:
            p = self.tickq("enqueue", TYPE, json.dumps(args))
            self.assertEqual(p.returncode, 65, json.dumps(args))
            self.assertIn(needle, p.stderr, json.dumps(args))
        # ...and so does the worker, whichever way a job came in. A job
        # without a provider is only known to be bad on the worker, whose
        # environment names none.
        cases.append(({"symbols": ["AAA"]}, "no market-data provider: give args.provider"))
        ids = self.run_jobs(*[a for a, _ in cases], unchecked=True)
        for jid, (args, needle) in zip(ids, cases):
            self.assertIn(needle, self.failed(jid), json.dumps(args))
        env = dict(self.env, TICKQ_MARKET_DATA_PROVIDER="s3")
        (jid,) = self.run_jobs({"symbols": ["AAA"]}, env=env)
        self.assertIn("TICKQ_MARKET_DATA_PROVIDER is 's3': set it to csv_dir or http_csv", self.failed(jid))
        env = dict(self.env, TICKQ_MARKET_DATA_PROVIDER="http_csv")
        (jid,) = self.run_jobs({"symbols": ["AAA"]}, env=env)
        self.assertIn("TICKQ_MARKET_DATA_URL: give a URL template", self.failed(jid))
        self.assertEqual(self.bars(), [])

    # --- PostgreSQL ----------------------------------------------------------
    def test_postgres_a_session_the_server_ended_is_opened_again(self):
        """The database server ends the worker child's session between two
        jobs (what a PostgreSQL restart or failover does): the next job opens
        a new one and completes. Before, the child kept the dead handle and
        every data job failed ("server closed the connection unexpectedly",
        then an empty error) until the worker was restarted."""
        url, name = postgres().new_database()
        env = dict(self.env, DATABASE_URL=url)
        w = self.worker("--workers", "1", "--no-history", env=env)
        fast = self.provider(timeout_seconds=0.5, retries=0)
        first = self.enqueue(TYPE, {"symbols": ["AAA"], "provider": fast}, "--max-retries", "0")
        self.wait_state(first, ("completed", "failed", "dead"))
        self.assertEqual(self.ok(first)["bars_written"], 5)

        def sessions():
            return int(postgres().psql(name, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                             f"'{name}' AND application_name = 'tickq'").stdout)
        self.assertEqual(sessions(), 1)   # the child's, kept between jobs
        postgres().psql(name, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                              f"'{name}' AND application_name = 'tickq'")
        wait_for(lambda: sessions() == 0, 10, what="the child's session to end")
        ids = [self.enqueue(TYPE, {"symbols": [s], "provider": fast}, "--max-retries", "0") for s in ("BBB", "CCC")]
        for jid in ids:
            self.wait_state(jid, ("completed", "failed", "dead"))
            self.assertEqual(self.ok(jid)["bars_written"], 5)
        self.assertEqual(postgres().psql(name, "SELECT symbol, count(*) FROM bars GROUP BY symbol ORDER BY symbol")
                         .stdout, "AAA|5\nBBB|5\nCCC|5\n")
        self.assertEqual(w.stop(), 0)

    def test_postgres_all_or_nothing(self):
        url, name = postgres().new_database()
        env = dict(self.env, DATABASE_URL=url)

        def count():
            return postgres().psql(name, "SELECT symbol, count(*) FROM bars GROUP BY symbol ORDER BY symbol").stdout

        fast = self.provider(timeout_seconds=0.5, retries=0)
        ids = self.run_jobs({"symbols": ["AAA", "BBB"], "provider": fast},
                            {"symbols": ["AAA", "CCC", "BADROW"], "provider": fast}, env=env)
        self.assertEqual(self.ok(ids[0])["bars_written"], 10)
        self.assertIn("BADROW: ", self.failed(ids[1]))
        self.assertEqual(count(), "AAA|5\nBBB|5\n")
        (jid,) = self.run_jobs({"symbols": "all", "provider": fast}, env=env)
        self.assertEqual(sorted(self.ok(jid)["per_symbol"]), ["AAA", "BBB"])
        self.assertEqual(count(), "AAA|5\nBBB|5\n")
