"""test_client.py — the users' existing protocol, end to end: tasks LPUSHed
onto strategy_queue (through the Python client in clients/python) are run by
a real worker and answered at task_result:<task_id>; duplicates run once,
malformed entries are rejected without harming the rest, and no task is lost
when workers are killed while taking tasks from the list. The native client
(tickq.Client) refuses an id that exists with JobExists, as `tickq enqueue
--id` does, and replace=True runs a finished job again; it refuses the args
the CLI refuses, naming where they are wrong, and its wait raises
JobNotFound for an id with no job after a short grace."""
import json
import os
import random
import signal
import sys
import threading
import time

from harness import ROOT, SynthBarsTestCase, TickqTestCase, wait_for

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq_client  # noqa: E402
from tickq import Client, JobExists, JobNotFound  # noqa: E402

GAP_UP = """
function gap_up(df)
  local out = {}
  for i = 1, df.n do
    if df.gap_pct[i] > 1.0 then
      out[#out + 1] = { ticker = df.ticker[i], date = df.date[i], signal = true,
                        score = df.gap_pct[i], message = string.format("%s gapped %.2f%%", df.ticker[i], df.gap_pct[i]) }
    end
  end
  return out
end
"""


class TestPythonClient(SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", "6", "--days", "300", "--seed", "11")
    TMP_PREFIX = "tickq-client-"

    def start_worker(self, *args):
        return self.worker("--workers", "2", "--heartbeat", "200ms", "--claim-timeout", "1s", *args, env=self.env)

    def test_backtest_and_screening_through_the_client(self):
        self.start_worker()
        tickq_client.add_backtest_task(self.r, "bt-1", GAP_UP, ["SYN0001", "SYN0002"], "2020-03-01", "2020-12-31",
                                       hold_bars=2)
        tickq_client.add_screening_task(self.r, "sc-1", GAP_UP, ["SYN0001", "SYN0002", "SYN0003", "NOPE"], 2,
                                        lookback_bars=50)
        bt = tickq_client.wait_for_result(self.r, "bt-1", timeout=30)
        sc = tickq_client.wait_for_result(self.r, "sc-1", timeout=30)
        self.assertEqual(bt["status"], "completed", bt)
        d = bt["data"]
        self.assertEqual(d["execution_mode"], "backtest")
        self.assertEqual(d["summary"]["date_range"], ["2020-03-01", "2020-12-31"])
        self.assertEqual(d["summary"]["symbols_processed"], 2)
        self.assertGreater(d["summary"]["total_instances"], 0)
        for inst in d["instances"]:
            self.assertIn(inst["ticker"], ("SYN0001", "SYN0002"))
            self.assertTrue("2020-03-01" <= inst["date"] <= "2020-12-31")
            self.assertIn("return", inst)
        # The same task as a native job gives the same instances and returns.
        native = self.enqueue("backtest", {"strategy_code": GAP_UP, "symbols": ["SYN0002", "SYN0001"],
                                           "start_date": "2020-03-01", "end_date": "2020-12-31", "hold_bars": 2})
        nat = tickq_client.wait_for_result(self.r, native, timeout=30)
        self.assertEqual(nat["data"]["instances"], d["instances"])
        self.assertEqual(nat["data"]["performance_metrics"], d["performance_metrics"])

        self.assertEqual(sc["status"], "completed", sc)
        s = sc["data"]
        self.assertEqual(s["execution_mode"], "screening")
        self.assertEqual(s["universe_size"], 4)
        self.assertEqual(s["missing_symbols"], ["NOPE"])
        self.assertEqual(s["results_returned"], len(s["ranked_results"]))
        self.assertLessEqual(len(s["ranked_results"]), 2)
        scores = [x["score"] for x in s["ranked_results"]]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertEqual(self.job("bt-1")["type"], "backtest")
        self.assertEqual(self.job("bt-1")["queue"], "backtest")
        self.assertEqual(self.job("bt-1")["priority"], "normal")

    def test_client_validates_and_reads(self):
        self.assertIsNone(tickq_client.get_task_result(self.r, "nothing-here"))
        with self.assertRaises(ValueError):
            tickq_client.add_backtest_task(self.r, "has space", GAP_UP, ["A"], "2020-01-01", "2020-02-01")
        with self.assertRaises(tickq_client.TaskTimeout):
            tickq_client.wait_for_result(self.r, "never", timeout=0.2)
        self.assertEqual(self.r.llen("strategy_queue"), 0)

    def test_add_task_refuses_the_ids_the_worker_refuses(self):
        """The worker takes 1-128 bytes without control characters; an id it
        refuses gets no task_result, so a push of one would leave
        wait_for_result waiting out its timeout. 65 x 'é' is 65 characters
        but 130 bytes; DEL is a control character. 64 x 'é' (128 bytes) runs."""
        for bad in ("\u00e9" * 65, "bt\x7f1", "\ud800"):
            with self.subTest(task_id=bad):
                with self.assertRaises(ValueError):
                    tickq_client.add_task(self.r, bad, "echo", {"n": 1})
        self.assertEqual(self.r.llen("strategy_queue"), 0)
        self.start_worker()
        edge = "\u00e9" * 64
        tickq_client.add_task(self.r, edge, "echo", {"n": 2})
        res = tickq_client.wait_for_result(self.r, edge, timeout=20)
        self.assertEqual((res["status"], res["data"]["n"]), ("completed", 2))

    def test_a_finished_task_id_pushed_again_waits_for_its_new_result(self):
        """add_task of a finished id, then wait_for_result, returns the new
        run's result, never the previous one (which stays until the worker
        imports the push, unless the client removes it with the push)."""
        self.start_worker()
        for n in range(5):
            tickq_client.add_task(self.r, "again", "echo", {"n": n})
            res = tickq_client.wait_for_result(self.r, "again", timeout=20)
            self.assertEqual((res["status"], res["data"]["n"]), ("completed", n))
        self.assertEqual(self.job("again")["run"], "5")

    def test_duplicate_task_id_runs_once(self):
        for _ in range(3):
            tickq_client.add_task(self.r, "dup-1", "echo", {"n": 1})
        w = self.start_worker()
        res = tickq_client.wait_for_result(self.r, "dup-1", timeout=20)
        self.assertEqual(res["status"], "completed")
        wait_for(lambda: self.r.llen("strategy_queue") == 0, what="list drained")
        wait_for(lambda: self.counters().get("completed") == 1, what="one completion")
        # The three entries were imported in one atomic step (the list is
        # empty), so the counters are final; no second run waits either.
        self.assertEqual((self.ready(), self.pending()), (0, 0))
        c = self.counters()
        self.assertEqual(c.get("submitted"), 1)
        self.assertEqual(c.get("list_imported"), 1)
        self.assertEqual(c.get("completed"), 1)
        self.assertEqual(c.get("list_duplicates"), 2)   # counted, not silent
        self.assertEqual(self.job("dup-1")["attempts"], "1")
        self.assertEqual(w.proc.poll(), None)

    def test_malformed_entries_are_rejected_and_the_rest_runs(self):
        self.r.lpush("strategy_queue", "not json at all")
        self.r.lpush("strategy_queue", json.dumps(["a", "list"]))
        self.r.lpush("strategy_queue", json.dumps({"task_type": "echo", "args": {}}))          # no task_id
        self.r.lpush("strategy_queue", json.dumps({"task_id": "bad-args", "task_type": "echo", "args": [1]}))
        self.r.lpush("strategy_queue", json.dumps({"task_id": "bad-type", "task_type": 7, "args": {}}))
        self.r.lpush("strategy_queue", json.dumps({"task_id": "no-code", "task_type": "backtest",
                                                   "args": {"symbols": ["SYN0001"], "start_date": "2020-03-01",
                                                            "end_date": "2020-04-01"}}))
        tickq_client.add_task(self.r, "good-1", "echo", {"x": 1.0000000000000002, "big": 12345678901234567})
        w = self.start_worker()
        good = tickq_client.wait_for_result(self.r, "good-1", timeout=20)
        self.assertEqual(good["status"], "completed")
        # args reach the task byte for byte (no re-encoding, no rounding).
        self.assertEqual(self.job("good-1")["args"], '{"x": 1.0000000000000002, "big": 12345678901234567}')
        for tid, words in (("bad-args", "args must be a JSON object"), ("bad-type", "task_type must be a string")):
            res = tickq_client.wait_for_result(self.r, tid, timeout=10)
            self.assertEqual(res["status"], "error")
            self.assertIn(words, res["data"]["error"])
        res = tickq_client.wait_for_result(self.r, "no-code", timeout=20)
        self.assertEqual(res["status"], "error")
        self.assertIn("missing strategy_code", res["data"]["error"])
        wait_for(lambda: self.counters().get("list_rejected") == 5, what="five rejections counted")
        stats = self.tickq("stats")
        self.assertIn("list protocol: 2 tasks taken from the list, 5 malformed ones rejected", stats.stdout)
        self.assertEqual(json.loads(self.tickq("stats", "--json").stdout)["counters"]["total"]["list_rejected"], 5)
        logs = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith("malformed task")]
        self.assertEqual(len(logs), 5, logs)
        dropped = [x for x in logs if "without a task_id" in x["msg"]]
        self.assertEqual(len(dropped), 3)
        self.assertTrue(any(x["entry"] == "not json at all" for x in dropped))
        self.assertEqual(self.r.xlen("tickq:rejected"), 5)   # every one kept for `tickq rejected`
        self.assertIsNone(w.proc.poll())

    def test_list_is_taken_oldest_first(self):
        for i in range(5):
            tickq_client.add_task(self.r, f"ord-{i}", "noop", {})
        status, _ = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0)
        # Stream entry ids grow with each XADD: the first pushed came first.
        entries = [tuple(int(x) for x in self.job(f"ord-{i}")["entry"].split("-")) for i in range(5)]
        self.assertEqual(entries, sorted(entries))
        for i in range(5):
            self.assertEqual(self.result(f"ord-{i}")["status"], "completed")

    def test_list_queue_flag_renames_and_disables(self):
        tickq_client.add_task(self.r, "on-other", "noop", {}, list_name="legacy_q")
        tickq_client.add_task(self.r, "on-default", "noop", {})
        status, _ = self.burst("--list-queue", "", env=self.env)
        self.assertEqual(status, 0)
        self.assertEqual(self.r.llen("strategy_queue"), 1)
        self.assertEqual(self.r.llen("legacy_q"), 1)
        self.assertIsNone(self.result("on-default"))
        status, _ = self.burst("--list-queue", "legacy_q", env=self.env)
        self.assertEqual(status, 0)
        self.assertEqual(self.result("on-other")["status"], "completed")
        self.assertEqual(self.r.llen("strategy_queue"), 1)
        p = self.tickq("worker", "--list-queue", "has space", "--check")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--list-queue", p.stderr)

    def watches(self):
        return [c for c in self.r.client_list() if c["name"] == "tickq-list-watch"]

    def test_a_task_wakes_the_worker_through_a_blocking_watch(self):
        """Between imports the supervisor waits on the list itself (BLMOVE of
        the list onto itself), so a task is taken when it arrives rather
        than at the next tick; the wait leaves the list as it was."""
        w = self.worker("--workers", "1", "--list-queue", "legacy_q", env=self.env)
        # The watch names its connection first (CLIENT SETNAME), then waits.
        watch = wait_for(lambda: [c for c in self.watches() if c["cmd"] == "blmove"], 10,
                         what="the list watch blocked in BLMOVE")
        self.assertIn("b", watch[0]["flags"])  # blocked, on the list
        for i in range(3):
            tickq_client.add_task(self.r, f"woken-{i}", "noop", {}, list_name="legacy_q")
            wait_for(lambda: (self.result(f"woken-{i}") or {}).get("status") == "completed", 10,
                     what=f"woken-{i} to complete")
        wait_for(lambda: self.watches() and self.watches()[0]["cmd"] == "blmove", 10, what="the watch re-armed")
        self.assertEqual(self.r.llen("legacy_q"), 0)
        w.stop()
        self.assertEqual(self.watches(), [])
        w = self.worker("--workers", "1", "--queues", "other", env=self.env)
        wait_for(lambda: "not taking tasks from the list" in w.log(), 10, what="the worker to start")
        self.assertEqual(self.watches(), [])
        w.stop()

    def test_worker_not_serving_backtest_leaves_the_list_alone(self):
        tickq_client.add_task(self.r, "for-backtest", "noop", {})
        status, w = self.burst("--queues", "other", env=self.env)
        self.assertEqual(status, 0)
        self.assertEqual(self.r.llen("strategy_queue"), 1)
        self.assertIn("not taking tasks from the list", w.log())
        status, _ = self.burst(env=self.env)
        self.assertEqual(status, 0)
        self.assertEqual(self.result("for-backtest")["status"], "completed")

    def test_no_task_lost_when_workers_are_killed(self):
        """Workers killed with SIGKILL at random moments while taking tasks
        from the list: every task still ends completed, exactly once."""
        n = 300
        rng = random.Random(5)
        pushed = 0
        for round_ in range(6):
            for _ in range(n // 6):
                tickq_client.add_task(self.r, f"k-{pushed}", "sleep", {"ms": rng.choice((0, 5, 10))})
                pushed += 1
            w = self.start_worker("--log-level", "warning", "--retry-base", "20ms")
            time.sleep(rng.uniform(0.05, 0.3))  # a random moment into the work to kill the worker at
            kids = w.children()
            w.proc.send_signal(signal.SIGKILL)
            w.proc.wait(10)
            for child in kids:
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        unfinished = [i for i in range(n) if (self.result(f"k-{i}") or {}).get("status") != "completed"]
        self.assertGreater(len(unfinished), 0, "the kills came too late to test anything")
        # A healthy worker finishes what is left, reclaiming the dead
        # workers' claims once they expire.
        self.start_worker("--retry-base", "20ms")
        wait_for(lambda: all((self.result(f"k-{i}") or {}).get("status") == "completed" for i in range(n)),
                 timeout=60, interval=0.2, what="every task completed")
        self.assertEqual(self.r.llen("strategy_queue"), 0)
        c = self.counters()
        self.assertEqual(c.get("submitted"), n)
        self.assertEqual(c.get("list_imported"), n)
        self.assertEqual(c.get("completed"), n)


class TestClientJobExists(TickqTestCase):
    """Client.enqueue(id=...) of an id that exists (issue 10): nothing is
    enqueued and JobExists carries the job's id, state and run; replace=True
    runs a finished job again as its next run, and is refused while the job
    still waits."""

    def exists(self, client, *args, **options):
        with self.assertRaises(JobExists) as caught:
            client.enqueue(*args, **options)
        return caught.exception

    def test_an_existing_id_raises_job_exists_and_replace_runs_a_finished_job_again(self):
        self.load_library()   # a tickq process would have: the client only calls it
        client = Client(self.url)
        self.assertEqual(client.enqueue("echo", {"n": 1}, id="c-1"), "c-1")
        e = self.exists(client, "echo", {"n": 2}, id="c-1")
        self.assertEqual((e.task_id, e.state, e.run), ("c-1", "queued", 1))
        self.assertEqual(str(e), "job c-1 already exists (state queued, run 1); nothing enqueued")
        # replace=True while it waits: refused, the job untouched.
        e = self.exists(client, "echo", {"n": 2}, id="c-1", replace=True)
        self.assertEqual((e.task_id, e.state, e.run), ("c-1", "queued", 1))
        self.assertIn("job c-1 is still queued (run 1); not replaced", str(e))
        self.assertEqual(json.loads(self.job("c-1")["args"]), {"n": 1})
        self.assertEqual(self.counters()["submitted"], 1)
        # A delayed job waits too.
        client.enqueue("echo", {}, id="c-2", delay=600)
        e = self.exists(client, "echo", {}, id="c-2", replace=True)
        self.assertEqual((e.task_id, e.run), ("c-2", 1))
        self.assertEqual(e.state, self.state("c-2"))
        self.assertIn("not replaced", str(e))

        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        self.assertEqual(self.result("c-1")["data"]["n"], 1)
        # Finished: without replace still JobExists, with its final state.
        e = self.exists(client, "echo", {"n": 2}, id="c-1")
        self.assertEqual((e.task_id, e.state, e.run), ("c-1", "completed", 1))
        self.assertIn("replace=True runs it again", str(e))
        # replace=True: the same id, its next run, the old result gone at once.
        self.assertEqual(client.enqueue("echo", {"n": 2}, id="c-1", replace=True), "c-1")
        self.assertEqual((self.state("c-1"), self.job("c-1")["run"], self.job("c-1")["attempts"]),
                         ("queued", "2", "0"))
        self.assertIsNone(self.result("c-1"))
        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        self.assertEqual(self.result("c-1")["data"]["n"], 2)
        self.assertEqual((self.job("c-1")["run"], self.job("c-1")["attempts"]), ("2", "1"))
        c = self.counters()
        self.assertEqual((c["submitted"], c["reruns"]), (3, 1))
        # Its run counts on: a finished run 2 is refused as run 2.
        e = self.exists(client, "echo", {}, id="c-1")
        self.assertEqual((e.state, e.run), ("completed", 2))


class TestClientLoadsTheLibrary(TickqTestCase):
    """On a Redis no tickq process has used (no function library), the
    client loads the library itself, the same text the binary loads, and
    its jobs run; without its library.lua it says what to do."""

    def setUp(self):
        super().setUp()
        self.r.function_flush()

    def library_code(self):
        libs = self.r.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "tickq_p1", "WITHCODE")
        self.assertEqual(len(libs), 1, libs)
        entry = dict(zip(libs[0][0::2], libs[0][1::2]))
        return entry[b"library_code"].decode() if b"library_code" in entry else entry["library_code"]

    def test_a_fresh_redis_gets_the_library_from_the_client(self):
        client = Client(self.url)
        jid = client.enqueue("echo", {"n": 7})
        by_client = self.library_code()
        self.assertTrue(by_client.startswith("#!lua name=tickq_p1\n"))
        self.assertEqual(client.cancel("no-such-job"), "missing")
        ids = [x["id"] for x in client.enqueue_many([{"type": "echo", "args": {"n": k}} for k in range(3)])]
        # The binary loads (REPLACE) the very same text.
        self.assertEqual(self.tickq("enqueue", "noop").returncode, 0)
        self.assertEqual(self.library_code(), by_client)
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual([self.result(i)["data"]["n"] for i in [jid] + ids], [7, 0, 1, 2])

    def test_without_its_library_file_it_says_what_to_do(self):
        import tickq.client as client_module
        saved = client_module.LIBRARY_FILE
        client_module.LIBRARY_FILE = os.path.join(ROOT, "no-such-library.lua")
        self.addCleanup(setattr, client_module, "LIBRARY_FILE", saved)
        with self.assertRaises(RuntimeError) as caught:
            Client(self.url).enqueue("echo", {})
        self.assertIn("Redis has no tickq function library tickq_p1", str(caught.exception))
        self.assertIn("start a worker, or run `tickq enqueue` once", str(caught.exception))
        self.assertEqual(self.r.execute_command("FUNCTION", "LIST"), [])


class TestClientRefusesWhatTheCliRefuses(TickqTestCase):
    """Client.enqueue and enqueue_many refuse args that `tickq enqueue`
    refuses but Python's json writes (an integer beyond 64 bits, a NUL in a
    string or a key, a key given twice once json has made it a string, more
    than 1,000 levels of nesting), naming where in the args: nothing is
    enqueued, where before the job went in and failed at the worker."""

    def test_args_tickq_cannot_read_are_refused_naming_the_place(self):
        self.load_library()
        client = Client(self.url)
        deep = {}
        for _ in range(1001):
            deep = {"a": deep}
        int64 = "tickq takes integers from -2**63 to 2**63-1"
        no_nul = "tickq takes text without NUL"
        cases = [
            ({"x": 2**70}, f"args key 'x': an integer beyond 64 bits (1180591620717411303424): {int64}",
             "too big integer"),
            ({"rows": [1, -(2**63) - 1]}, f"args key 'rows' item 1: an integer beyond 64 bits "
                                          f"(-9223372036854775809): {int64}", "too big negative integer"),
            ({"x": "a\x00b"}, f"args key 'x': a string with a NUL character (\\u0000): {no_nul}",
             "args hold a NUL character"),
            ({"o": {"k\x00": 1}}, f"args key 'o' key 'k\\x00': a key with a NUL character (\\u0000): {no_nul}",
             "NUL byte in object key"),
            ({1: "a", "1": "b"}, "args: the keys 1 and '1' both become the key '1' in JSON: tickq refuses a key "
                                 "given twice", "duplicate object key"),
            (deep, "args are nested 1002 levels deep, more than the 1000 Redis reads",
             "args are nested 1002 levels deep, more than the 1000 Redis reads"),
        ]
        for args, said, cli_said in cases:
            with self.subTest(said=said):
                with self.assertRaises(ValueError) as caught:
                    client.enqueue("echo", args)
                self.assertEqual(str(caught.exception), said)
                with self.assertRaises(ValueError) as caught:
                    client.enqueue_many([{"type": "echo", "args": {}}, {"type": "echo", "args": args}])
                self.assertEqual(str(caught.exception), f"job 1: {said}")
                # The CLI refuses the same args (as JSON text, as json writes them;
                # json.dumps itself does not go 1,000 levels deep).
                text = '{"a":' * 1001 + "{}" + "}" * 1001 if args is deep else json.dumps(args)
                p = self.tickq("enqueue", "echo", text)
                self.assertEqual(p.returncode, 65, p.stderr)
                self.assertIn(cli_said, p.stderr)
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        # The edges of 64 bits are taken.
        edge = client.enqueue("echo", {"min": -(2**63), "max": 2**63 - 1})
        self.assertEqual(json.loads(self.job(edge)["args"]), {"min": -(2**63), "max": 2**63 - 1})
        # args that hold themselves: refused (the depth check must not follow the cycle for ever)
        looped = {}
        looped["a"] = looped
        with self.assertRaisesRegex(ValueError, "^args are not JSON: ValueError: Circular reference detected"):
            client.enqueue("echo", looped)


class TestClientWaitForNoJob(TickqTestCase):
    """Client.wait with missing_grace on an id Redis holds no job for (no
    record, no result) raises JobNotFound after that grace instead of
    polling for the whole timeout; a job enqueued during the grace is
    waited for as usual. Without it (the default: a list-protocol job has
    no record until a worker takes it), wait waits its timeout."""

    def test_wait_rides_out_a_redis_restart(self):
        """A wait of 20 s does not end with a ConnectionError because Redis
        restarted for half a second (the job runs on meanwhile: workers
        ride restarts out); it reads the result once Redis is back. Past
        its timeout, a Redis still down is raised as what it is."""
        import redis as redis_py
        client = Client(self.url)
        got = {}

        def waiter():
            try:
                got["data"] = client.wait("across-restart", timeout=20)
            except Exception as e:   # noqa: BLE001 - the test reports it
                got["error"] = e
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.2)
        self.addCleanup(lambda: self.server.proc is None and self.server.start())
        self.server.stop()
        time.sleep(0.5)
        self.server.start()
        self.r.set("task_result:across-restart", json.dumps({"status": "completed", "data": {"n": 7}}))
        t.join(20)
        self.assertEqual(got, {"data": {"n": 7}})
        self.server.stop()
        with self.assertRaises(redis_py.ConnectionError):
            client.wait("across-restart", timeout=0.3)
        self.server.start()

    def test_wait_says_refused_credentials_at_once(self):
        """Credentials Redis refuses are not a Redis restart: wait raises
        them at once (redis-py derives AuthenticationError, Redis's
        NOAUTH, from ConnectionError, which a wait rides out until its
        timeout)."""
        import redis as redis_py
        self.r.execute_command("ACL", "SETUSER", "admin", "on", ">admin", "~*", "&*", "+@all")
        admin = redis_py.Redis(unix_socket_path=self.server.sock, username="admin", password="admin")
        self.r.execute_command("ACL", "SETUSER", "default", "resetpass", ">secret")   # NOAUTH without it

        def restore():
            admin.execute_command("ACL", "SETUSER", "default", "nopass")
            admin.execute_command("ACL", "DELUSER", "admin")
        self.addCleanup(restore)
        client = Client(redis_py.Redis(unix_socket_path=self.server.sock))
        got = {}

        def waiter():
            try:
                client.wait("never", timeout=600)
            except Exception as e:   # noqa: BLE001 - the test reports it
                got["error"] = e
        t = threading.Thread(target=waiter, daemon=True)
        t.start()
        t.join(20)   # not the wait's 600 s
        self.assertFalse(t.is_alive(), "wait rode out a refused login")
        self.assertIsInstance(got.get("error"), redis_py.AuthenticationError)

    def test_an_id_with_no_job_raises_job_not_found_promptly(self):
        client = Client(self.url)
        start = time.monotonic()
        with self.assertRaises(JobNotFound) as caught:
            client.wait("no-such-id", timeout=300, missing_grace=2)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 2.0)
        self.assertLess(elapsed, 10.0)
        self.assertEqual(caught.exception.task_id, "no-such-id")
        self.assertIsInstance(caught.exception, LookupError)
        self.assertTrue(str(caught.exception).startswith(
            "no job no-such-id: Redis holds neither its record tickq:job:no-such-id nor its "
            "task_result:no-such-id (checked for 2."), str(caught.exception))
        with self.assertRaises(JobNotFound):
            client.wait("no-such-id", timeout=300, missing_grace=0)
        # A timeout shorter than the grace ends first, and says so; so does
        # a wait without a grace.
        with self.assertRaises(tickq_client.TaskTimeout) as caught:
            client.wait("no-such-id", timeout=0.2, missing_grace=2)
        self.assertEqual(str(caught.exception),
                         "task no-such-id not finished after 0.2 s (no job tickq:job:no-such-id yet)")
        with self.assertRaises(tickq_client.TaskTimeout) as caught:
            client.wait("no-such-id", timeout=0.2)
        self.assertEqual(str(caught.exception),
                         "task no-such-id not finished after 0.2 s (no job tickq:job:no-such-id yet)")
        with self.assertRaises(ValueError):
            client.wait("no-such-id", missing_grace=-1)

    def test_a_job_enqueued_during_the_grace_is_waited_for(self):
        self.worker("--workers", "1")
        client = Client(self.url)
        later = threading.Timer(0.5, lambda: client.enqueue("echo", {"n": 7}, id="late-1"))
        later.start()
        self.addCleanup(later.cancel)
        self.assertEqual(client.wait("late-1", timeout=30, missing_grace=5)["n"], 7)
        # A job queued with no worker to take it: waited for, not "not found".
        queued = client.enqueue("echo", {"n": 8}, queue="nobody-serves", delay=0)
        with self.assertRaises(tickq_client.TaskTimeout) as caught:
            client.wait(queued, timeout=3, missing_grace=0)
        self.assertIn("(last status: None)", str(caught.exception))
