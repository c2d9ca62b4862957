"""test_http_triggers.py — the users' update triggers (docs/http.md, "Manual
triggers"): POST /api/update/{SYMBOL} and POST /api/update-all enqueue
update_stock_data, then update_options_data, then calculate_iv_analysis as a
chain of dependent jobs, which real workers run in that order against a real
SQLite database (bars from a csv_dir provider, synthetic option chains).
Bad bodies and symbols (a long one quoted cut, with its length), a missing
options provider, a failing first step and Redis stalled under the chain's
enqueue (its outcome unknown, its last job named) are tested too. Orders are read from the job records, never from timings."""
import datetime
import json
import math
import os
import random

from harness import sqlite_rows, temp_sqlite, write_bars_csv
from http_harness import TOKEN, HttpCase, stalled

TYPES = ["update_stock_data", "update_options_data", "calculate_iv_analysis"]


def bars(seed, n=80):
    """n weekday bars from 2024-01-02 with about 24 % annual volatility."""
    rnd, price, out, d = random.Random(seed), 100.0, [], datetime.date(2024, 1, 2)
    while len(out) < n:
        if d.weekday() < 5:
            price = round(price * math.exp(rnd.gauss(0, 0.015)), 2)
            out.append((d.isoformat(), price, price, price, price, 1000000))
        d += datetime.timedelta(days=1)
    return out


class TriggerCase(HttpCase):
    def setUp(self):
        super().setUp()
        self.folder = self.temp_dir()
        for i, sym in enumerate(("AAPL", "MSFT")):
            write_bars_csv(os.path.join(self.folder, f"{sym}.csv"), bars(i + 1), with_symbol=False)
        self.db, self.env = temp_sqlite(self)
        self.env["TICKQ_MARKET_DATA_PROVIDER"] = None

    def body(self, **extra):
        return dict({"stock_provider": {"type": "csv_dir", "path": self.folder},
                     "options_provider": {"type": "synthetic"}}, **extra)

    def record(self, job_id):
        return self.r.hgetall(f"tickq:job:{job_id}")

    def run_all(self):
        status, w = self.burst("--workers", "2", env=self.env)
        self.assertEqual(status, 0, w.log())

    def chain_in_order(self, made):
        """The three jobs of a trigger's reply completed, each started after
        the one before finished; returns their records."""
        self.assertEqual([j["type"] for j in made["jobs"]], TYPES)
        self.assertEqual(made["id"], made["jobs"][2]["id"])
        recs = [self.record(j["id"]) for j in made["jobs"]]
        self.assertEqual([r["state"] for r in recs], ["completed"] * 3, recs)
        for before, after in zip(recs, recs[1:]):
            self.assertGreaterEqual(int(after["started_us"]), int(before["finished_us"]))
        return recs


class TestUpdateTriggers(TriggerCase):
    def test_update_one_symbol_runs_the_chain_in_order(self):
        s = self.serve(env=self.env)
        made = self.expect(self.post(s, "/api/update/AAPL", self.body()), 201)
        self.assertEqual([j["state"] for j in made["jobs"]], ["queued", "deferred", "deferred"])
        self.assertEqual(made["state"], "deferred")
        self.assertEqual(json.loads(self.r.hget(f"tickq:job:{made['jobs'][1]['id']}", "args")),
                         {"symbols": ["AAPL"], "provider": {"type": "synthetic"}})
        self.run_all()
        self.chain_in_order(made)
        self.assertEqual(sqlite_rows(self.db, "SELECT DISTINCT symbol FROM iv_history"), [("AAPL",)])
        self.assertGreater(sqlite_rows(self.db, "SELECT COUNT(*) FROM bars WHERE symbol = 'AAPL'")[0][0], 0)
        audit = self.audit(s)
        self.assertTrue(any(x.get("path") == "/api/update/AAPL" for x in audit), audit)

    def test_update_all_with_the_hosts_options_provider(self):
        env = dict(self.env, TICKQ_OPTIONS_PROVIDER='{"type": "synthetic"}')
        s = self.serve(env=env)
        body = {"stock_provider": {"type": "csv_dir", "path": self.folder}, "as_of": "2024-04-19"}
        made = self.expect(self.post(s, "/api/update-all?queue=data&priority=high", body), 201)
        rec = self.record(made["jobs"][1]["id"])
        self.assertEqual((rec["queue"], rec["priority"]), ("data", "high"))
        self.assertEqual(json.loads(rec["args"]), {"symbols": "all", "provider": {"type": "synthetic"},
                                                   "as_of": "2024-04-19"})
        status, w = self.burst("--workers", "2", "--queues", "data", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.chain_in_order(made)
        self.assertEqual(sqlite_rows(self.db, "SELECT DISTINCT symbol FROM iv_history ORDER BY symbol"),
                         [("AAPL",), ("MSFT",)])

    def test_a_failed_first_step_fails_the_rest(self):
        s = self.serve(env=self.env)
        made = self.expect(self.post(s, "/api/update/NOPE", self.body()), 201)
        self.run_all()
        ids = [j["id"] for j in made["jobs"]]
        self.assertEqual([self.record(i)["state"] for i in ids], ["failed"] * 3)
        self.assertIn("NOPE", self.record(ids[0])["error"])
        self.assertEqual(self.record(ids[1])["error"], f"dependency {ids[0]} ended failed")
        self.assertEqual(self.record(ids[2])["error"], f"dependency {ids[1]} ended failed")
        self.assertEqual(self.record(ids[2])["attempts"], "0")

    def test_bad_requests(self):
        s = self.serve(env=self.env)
        self.expect(self.post(s, "/api/update/AAPL", {}), 400, "no options provider")
        self.expect(self.post(s, "/api/update/AAPL", self.body(as_off="2024-01-02")), 400,
                    "unknown field 'as_off' (did you mean 'as_of'?)")
        self.expect(self.post(s, "/api/update/AAPL", self.body(as_of="yesterday")), 400,
                    "job refused: update_options_data:")
        self.expect(self.post(s, "/api/update/AAPL", [1]), 400, "a JSON object")
        self.expect(self.post(s, "/api/update/AAPL?queue=bad_high", self.body()), 400, "queue")
        self.expect(self.post(s, "/api/update/AAPL?bogus=1", self.body()), 400, "bogus")
        self.expect(self.post(s, "/api/update/BAD%20SYM", self.body()), 400,
                    "symbol 'BAD SYM' is not a valid symbol (1-32 characters, no spaces")
        # A symbol too long to quote whole is quoted cut, saying so and its length, never looking whole.
        self.expect(self.post(s, "/api/update/" + "A" * 47, self.body()), 400,
                    "symbol '" + "A" * 40 + "\u2026' (47 characters) is not a valid symbol")
        self.expect(self.post(s, "/api/update/" + "A" * 33, self.body()), 400,
                    "symbol '" + "A" * 33 + "' is not a valid symbol")
        self.expect(self.call(s, "GET", "/api/update-all"), 405)
        # Nothing was enqueued by a refused request.
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        bad = self.serve(env=dict(self.env, TICKQ_OPTIONS_PROVIDER="{not json"))
        self.expect(self.post(bad, "/api/update/AAPL", {}), 500, "TICKQ_OPTIONS_PROVIDER on the API host")

    def test_a_chain_redis_stalls_on_may_have_gone_in_and_names_its_last_job(self):
        s = self.serve(env=self.env)
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "warm"}), 201)   # connected, library loaded
        with stalled(self.server):
            body = self.expect(self.post(s, "/api/update/AAPL", self.body(), timeout=30), 503,
                               "the update chain ending with job")
        self.assertEqual(body["outcome"], "unknown")
        self.assertIn(f"{body['id']} may have been enqueued: Redis failed after the call was sent", body["error"])
        self.assertIn(f"look it up by id (GET /api/tasks/{body['id']}) once Redis answers again, and post the "
                      "update again only if it is not there", body["error"])
        # All three or none, as the reply says (here none: the stall caught
        # the transaction's MULTI, whose EXEC was never sent).
        self.expect(self.get(s, "/api/queues"), 200)       # Redis answers again
        types = sorted(self.r.hget(k, "type") for k in self.r.keys("tickq:job:*"))
        self.assertIn(types, (["noop"], sorted(["noop"] + TYPES)))
        self.assertEqual(self.get(s, f"/api/tasks/{body['id']}").status, 200 if len(types) > 1 else 404)

    def test_the_token_is_required(self):
        s = self.serve(env=dict(self.env, TICKQ_API_TOKEN=TOKEN))
        self.assertEqual(self.post(s, "/api/update-all", self.body()).status, 401)
        self.expect(self.post(s, "/api/update-all", self.body(), token=TOKEN), 201)
