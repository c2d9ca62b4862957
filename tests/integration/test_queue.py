"""test_queue.py — the queue itself: strict priority, unique ids, results
in the users' format with their TTL, delays, queue lists, cancel, stats and
bad input that reaches a worker."""
import json
import time

import redis

from harness import ISO_RE, TickqTestCase, wait_for


class TestPriority(TickqTestCase):
    def started(self, ids):
        return [int(self.job(i)["started_us"]) for i in ids]

    def test_strict_priority_high_normal_low(self):
        low = [self.enqueue("echo", {"i": i}, "--priority", "low") for i in range(5)]
        normal = [self.enqueue("echo", {"i": i}) for i in range(5)]
        high = [self.enqueue("echo", {"i": i}, "--priority", "high") for i in range(5)]
        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        h, n, l = self.started(high), self.started(normal), self.started(low)
        self.assertLess(max(h), min(n))
        self.assertLess(max(n), min(l))
        self.assertEqual(h, sorted(h))  # FIFO within a level
        self.assertEqual(l, sorted(l))

    def test_queue_list_order_is_priority_order(self):
        a = self.enqueue("echo", {}, "--queue", "alpha", "--priority", "high")
        b = self.enqueue("echo", {}, "--queue", "beta", "--priority", "low")
        status, _ = self.burst("--workers", "1", "--queues", "beta,alpha")
        self.assertEqual(status, 0)
        self.assertLess(self.started([b])[0], self.started([a])[0])

    def test_high_job_overtakes_waiting_low_jobs(self):
        lows = [self.enqueue("sleep", {"ms": 100}, "--priority", "low") for _ in range(6)]
        w = self.worker("--workers", "1")
        self.wait_running(lows[0])
        high = self.enqueue("echo", {"urgent": True}, "--priority", "high")
        self.wait_state(high, "completed")
        started_high = int(self.job(high)["started_us"])
        self.wait_state(lows[-1], "completed", timeout=20)
        later = [i for i in lows if int(self.job(i)["started_us"]) > started_high]
        self.assertGreaterEqual(len(later), 3, "high job should overtake the waiting low ones")
        w.stop()

    def test_queues_flag_overrides_rq_queues(self):
        mine = self.enqueue("echo", {}, "--queue", "mine")
        other = self.enqueue("echo", {}, "--queue", "other")
        w = self.worker("--burst", "--workers", "1", "--queues", "mine", env={"RQ_QUEUES": "other"})
        self.assertEqual(w.wait(30), 0)
        self.assertEqual(self.state(mine), "completed")
        self.assertEqual(self.state(other), "queued")

    def test_rq_queues_env_and_default(self):
        other = self.enqueue("echo", {}, "--queue", "other")
        default = self.enqueue("echo", {})
        w = self.worker("--burst", "--workers", "1", env={"RQ_QUEUES": "other"})
        self.assertEqual(w.wait(30), 0)
        self.assertEqual(self.state(other), "completed")
        self.assertEqual(self.state(default), "queued")
        w = self.worker("--burst", "--workers", "1", env={"RQ_QUEUES": ""})
        self.assertEqual(w.wait(30), 0)
        self.assertEqual(self.state(default), "completed")


class TestJobsAndResults(TickqTestCase):
    def test_duplicate_id_returns_existing_job(self):
        first = self.tickq("enqueue", "echo", '{"n": 1}', "--id", "job-42", "--json")
        self.assertEqual(json.loads(first.stdout), {"id": "job-42", "created": True, "state": "queued", "run": 1})
        again = self.tickq("enqueue", "echo", '{"n": 2}', "--id", "job-42")
        self.assertEqual(again.returncode, 4)   # the id exists: nothing enqueued
        self.assertEqual(again.stdout.strip(), "job-42")
        self.assertIn("already exists (state queued", again.stderr)
        self.assertEqual(self.ready(), 1)
        self.assertEqual(json.loads(self.job("job-42")["args"]), {"n": 1})
        self.assertEqual(self.counters()["submitted"], 1)
        self.burst("--workers", "1")
        again = self.tickq("enqueue", "echo", "{}", "--id", "job-42", "--json")
        self.assertEqual(again.returncode, 4)
        self.assertEqual(json.loads(again.stdout)["state"], "completed")
        self.assertEqual(self.ready(), 0)

    def test_result_format_and_ttl(self):
        jid = self.enqueue("echo", {"symbol": "AAPL", "n": 3})
        status, _ = self.burst("--workers", "1", "--result-ttl", "120")
        self.assertEqual(status, 0)
        res = self.result(jid)
        self.assertEqual(res["status"], "completed")
        data = res["data"]
        self.assertEqual(data["symbol"], "AAPL")
        self.assertEqual(data["n"], 3)
        self.assertIsInstance(data["execution_time_seconds"], float)
        self.assertGreaterEqual(data["execution_time_seconds"], 0)
        self.assertRegex(data["worker_id"], r"^.+:\d+\.[0-9a-f]{4}:\d+$")
        self.assertRegex(data["completed_at"], ISO_RE)
        self.assertRegex(res["updated_at"], ISO_RE)
        ttl = self.r.ttl(f"task_result:{jid}")
        self.assertTrue(110 < ttl <= 120, ttl)
        self.assertTrue(110 < self.r.ttl(f"tickq:job:{jid}") <= 120)
        job = self.job(jid)
        self.assertEqual(job["state"], "completed")
        self.assertEqual(job["attempts"], "1")
        self.assertRegex(job["created_at"], ISO_RE)
        p = self.tickq("job", jid)
        self.assertEqual(p.returncode, 0)
        shown = json.loads(p.stdout)
        self.assertEqual(shown["state"], "completed")
        self.assertEqual(shown["args"], {"symbol": "AAPL", "n": 3})
        # Enqueued without --timeout: the worker's default, as the record's 0 says.
        self.assertEqual((shown["timeout_seconds"], shown["timeout_ms"]), ("worker default", 0))
        for key in ["created_at", "enqueued_at", "started_at", "finished_at"]:
            self.assertRegex(shown[key], ISO_RE, key)
        self.assertEqual(self.tickq("job", "nope").returncode, 3)

    def test_result_keeps_every_real_exactly(self):
        # A task's numbers reach task_result as the same doubles: 17 digits
        # would have to be written for some, and 15 (as results were once
        # dumped) turn 0.30000000000000004 into 0.3, another number.
        values = {"third": 0.30000000000000004, "tenth": 0.1, "pi": 3.141592653589793, "tiny": 5e-324,
                  "big": 1.7976931348623157e308, "neg": -2.5e-7, "whole": 60.0}
        jid = self.enqueue("echo", values)
        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        raw = self.r.get(f"task_result:{jid}")
        data = json.loads(raw)["data"]
        for key, v in values.items():
            self.assertEqual(data[key].hex(), v.hex(), key)
        # In their fewest digits: 0.1, not 0.10000000000000001.
        self.assertIn('"tenth":0.1,', raw)
        self.assertIn('"third":0.30000000000000004,', raw)

    def test_running_result_while_job_runs(self):
        jid = self.enqueue("sleep", {"ms": 1500})
        w = self.worker("--workers", "1")
        self.wait_running(jid)
        res = self.result(jid)
        self.assertEqual(res["data"]["attempt"], 1)
        self.assertRegex(res["data"]["worker_id"], r":\d+\.[0-9a-f]{4}:0$")
        self.assertRegex(res["updated_at"], ISO_RE)
        shown = json.loads(self.tickq("job", jid).stdout)
        self.assertEqual(shown["state"], "running")
        self.assertEqual(shown["worker"], res["data"]["worker_id"])
        self.wait_state(jid, "completed")
        self.assertEqual(self.result(jid)["data"]["slept_ms"], 1500)
        w.stop()

    def test_generated_ids_are_uuids(self):
        jid = self.enqueue("noop")
        self.assertRegex(jid, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

    def test_delay(self):
        t0 = time.time()
        jid = self.enqueue("echo", {}, "--delay", "1")
        self.assertEqual(self.ready(), 0)
        self.assertEqual(self.r.zcard("tickq:delayed:backtest_normal"), 1)
        w = self.worker("--workers", "1")
        self.wait_state(jid, "completed", timeout=10)
        started = int(self.job(jid)["started_us"]) / 1e6
        self.assertGreaterEqual(started - t0, 0.95)
        w.stop()


class TestDelivery(TickqTestCase):
    def test_each_job_runs_once_across_worker_hosts(self):
        self.load_library()
        pipe = self.r.pipeline(transaction=False)
        now_ms = int(time.time() * 1000)
        ids = [f"once-{i}" for i in range(600)]
        for jid in ids:
            # 3 ms jobs: long enough that both hosts take part, whichever starts first.
            pipe.fcall("tickq_p1_enqueue", 0, "tickq", str(now_ms), "2026-01-01T00:00:00.000Z", "workers", "86400",
                       "100000", "2000", "3600000", "1", jid, "sleep", '{"ms": 3}', "backtest", "normal", "3", "60000",
                       "0", "1048576", str(now_ms * 1000))
        pipe.execute()
        hosts = [self.worker("--burst", "--workers", "3") for _ in range(2)]
        for w in hosts:
            self.assertEqual(w.wait(60), 0)
        started = [x["job_id"] for w in hosts for x in w.log_lines()
                   if isinstance(x, dict) and x["msg"] == "job started"]
        self.assertEqual(sorted(started), sorted(ids))  # every job, each exactly once
        self.assertEqual(self.counters()["completed"], 600)
        self.assertTrue(all(self.job(i)["attempts"] == "1" for i in ids))
        per_host = [sum(1 for x in w.log_lines() if isinstance(x, dict) and x["msg"] == "job started") for w in hosts]
        self.assertTrue(all(n > 0 for n in per_host), per_host)

    def test_key_prefix(self):
        env = {"TICKQ_PREFIX": "desk2"}
        p = self.tickq("enqueue", "echo", '{"p": 1}', env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        jid = p.stdout.strip()
        self.assertEqual(self.r.hget(f"desk2:job:{jid}", "state"), "queued")
        self.assertEqual(self.r.keys("tickq:*"), [])
        status, _ = self.burst("--workers", "1")  # default prefix: sees nothing
        self.assertEqual(self.r.hget(f"desk2:job:{jid}", "state"), "queued")
        w = self.worker("--burst", "--workers", "1", "--prefix", "desk2")
        self.assertEqual(w.wait(30), 0)
        self.assertEqual(self.r.hget(f"desk2:job:{jid}", "state"), "completed")
        self.assertEqual(self.result(jid)["data"]["p"], 1)  # task_result keeps its name


class TestCancel(TickqTestCase):
    def test_cancel_queued_job(self):
        jid = self.enqueue("echo", {})
        p = self.tickq("cancel", jid)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.state(jid), "cancelled")
        self.assertEqual(self.ready(), 0)
        res = self.result(jid)
        self.assertEqual(res["status"], "error")
        self.assertEqual(res["data"]["error"], "Job cancelled")
        self.assertEqual(self.tickq("result", jid).returncode, 1)
        self.assertEqual(self.tickq("cancel", jid).returncode, 1)
        self.assertEqual(self.tickq("cancel", "missing").returncode, 3)
        self.assertEqual(self.counters()["cancelled"], 1)

    def test_cancel_delayed_and_retrying_jobs(self):
        delayed = self.enqueue("echo", {}, "--delay", "60")
        self.assertEqual(self.tickq("cancel", delayed).returncode, 0)
        self.assertEqual(self.r.zcard("tickq:delayed:backtest_normal"), 0)
        retrying = self.enqueue("fail", {}, "--max-retries", "3")
        w = self.worker("--workers", "1", "--retry-base", "30s")
        self.wait_state(retrying, "retrying")
        w.stop()
        self.assertEqual(self.tickq("cancel", retrying).returncode, 0)
        self.assertEqual(self.r.zcard("tickq:retry:backtest_normal"), 0)
        self.assertEqual(self.state(retrying), "cancelled")

    def test_cancel_running_job_kills_it_and_worker_goes_on(self):
        jid = self.enqueue("sleep", {"ms": 20000})
        w = self.worker("--workers", "1")
        self.wait_running(jid)
        child = w.children()
        t0 = time.time()
        p = self.tickq("cancel", jid, "--wait", "10")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertLess(time.time() - t0, 5)
        self.assertEqual(self.state(jid), "cancelled")
        self.assertEqual(self.result(jid)["data"]["error"], "Job cancelled")
        self.assertEqual(self.pending(), 0)
        after = self.enqueue("echo", {"next": 1})
        self.wait_state(after, "completed")
        self.assertNotEqual(w.children(), child)
        w.stop()

    def test_running_job_of_another_consumer_group(self):
        """Workers in group g2: `stats --group g2` sees the job running, and a
        cancel, with or without --group, kills it instead of marking a
        running job cancelled while it goes on to complete."""
        jid = self.enqueue("sleep", {"ms": 20000})
        w = self.worker("--workers", "1", "--group", "g2")
        self.wait_running(jid)
        s = json.loads(self.tickq("stats", "--json", "--group", "g2").stdout)
        normal = [q for q in s["queues"] if q["name"] == "backtest_normal"][0]
        self.assertEqual((normal["ready"], normal["running"]), (0, 1))
        self.assertEqual(self.tickq("stats", "--group", "bad group").returncode, 64)
        p = self.tickq("cancel", jid, "--wait", "10")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.state(jid), "cancelled")
        second = self.enqueue("sleep", {"ms": 20000})
        self.wait_running(second)
        p = self.tickq("cancel", second, "--group", "g2", "--wait", "10")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.state(second), "cancelled")
        after = self.enqueue("echo", {"next": 1})
        self.wait_state(after, "completed")
        w.stop()
        c = self.counters()
        self.assertEqual((c.get("cancelled"), c.get("completed")), (2, 1))


class TestBadInputAtWorker(TickqTestCase):
    """Input that only a worker can judge, or that skips the CLI."""

    def test_library_refuses_malformed_jobs(self):
        deep = '{"x": ' + "[" * 1000 + "]" * 1000 + "}"
        cases = [('{"a": ', "args are not valid JSON here: Expected value but found T_END at character 7"),
                 ("[1]", "JSON object"), ("x" * 5000, "payload limit"),
                 (deep, "args are not valid JSON here: Found too many nested data structures (1001)")]
        for args, needle in cases:
            with self.assertRaises(redis.ResponseError) as e:
                self.fcall("enqueue", [], "j1", "echo", args, "backtest", "normal", "3", "1000", "0", "4096", "1")
            self.assertIn(needle, str(e.exception))
        for bad in [("", "echo"), ("id 1", "echo"), ("j", ""), ("j", "bad type")]:
            with self.assertRaises(redis.ResponseError):
                self.fcall("enqueue", [], bad[0], bad[1], "{}", "backtest", "normal", "3", "1000", "0", "1024", "1")
        with self.assertRaises(redis.ResponseError) as e:
            self.fcall("enqueue", [], "j", "echo", "{}", "backtest", "normal", "3", "-5", "0", "1024", "1")
        self.assertIn("timeout", str(e.exception))
        self.assertEqual(self.r.keys("tickq:job:*"), [])

    def test_args_nested_deeper_than_redis_reads_are_refused_naming_the_depth(self):
        """Valid JSON that Redis's parser cannot read (over 1000 levels) is
        refused before it is sent, saying so, not called invalid JSON."""
        deep = '{"x": ' + "[" * 1000 + "]" * 1000 + "}"
        p = self.tickq("enqueue", "echo", deep)
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("args are nested 1001 levels deep, more than the 1000 Redis reads", p.stderr)
        jid = self.enqueue("echo", '{"x": ' + "[" * 999 + "]" * 999 + "}")
        self.assertEqual(self.state(jid), "queued")

    def test_a_misspelt_task_type_is_refused_with_the_name_meant(self):
        p = self.tickq("enqueue", "slep", '{"ms": 1}')
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("unknown task type 'slep' (did you mean 'sleep'?) (built in: ", p.stderr)
        p = self.tickq("tasks", "ech")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("unknown task type 'ech' (did you mean 'echo'?) (known: ", p.stderr)
        p = self.tickq("enqueue", "zzzzzz")
        self.assertNotIn("did you mean", p.stderr)

    def test_unknown_type_fails_permanently_and_worker_goes_on(self):
        self.fcall("enqueue", [], "weird", "no_such_type", "{}", "backtest", "normal", "3", "1000", "0",
                   "1048576", "1")
        ok = self.enqueue("echo", {"fine": True})
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        self.assertEqual(self.state("weird"), "failed")
        self.assertEqual(self.job("weird")["attempts"], "1")
        self.assertIn("unknown task type 'no_such_type'", self.result("weird")["data"]["error"])
        self.assertEqual(self.state(ok), "completed")

    def test_bad_args_for_a_task_fail_permanently(self):
        jid = self.submit("sleep", {"ms": "soon"})
        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        self.assertEqual(self.state(jid), "failed")
        self.assertIn("ms must be an integer from 0 to 86400000, got \"soon\"", self.result(jid)["data"]["error"])


class TestStats(TickqTestCase):
    def test_stats_counters_and_live_workers(self):
        for _ in range(3):
            self.enqueue("echo", {})
        self.enqueue("fail", {"permanent": True})
        self.enqueue("echo", {}, "--queue", "md")
        status, _ = self.burst("--workers", "2", "--queues", "backtest,md")
        self.assertEqual(status, 0)
        s = json.loads(self.tickq("stats", "--json").stdout)
        self.assertEqual(s["counters"]["backtest"]["submitted"], 4)
        self.assertEqual(s["counters"]["backtest"]["completed"], 3)
        self.assertEqual(s["counters"]["backtest"]["failed"], 1)
        self.assertEqual(s["counters"]["md"]["completed"], 1)
        self.assertEqual(s["counters"]["total"]["completed"], 4)
        self.assertEqual(s["counters"]["total"]["submitted"], 5)
        self.assertEqual(s["counters"]["total"]["active"], 0)
        names = [q["name"] for q in s["queues"]]
        self.assertIn("md_normal", names)
        self.assertEqual(s["workers"], [])
        slow = self.enqueue("sleep", {"ms": 3000})
        w = self.worker("--workers", "2", "--heartbeat", "200ms")
        self.wait_running(slow)
        s = wait_for(lambda: (lambda x: x if x["workers"] else None)(json.loads(self.tickq("stats", "--json").stdout)),
                     5, what="a live worker in stats")
        self.assertEqual(s["workers"][0]["workers"], 2)
        self.assertEqual(s["counters"]["backtest"]["active"], 1)
        normal = [q for q in s["queues"] if q["name"] == "backtest_normal"][0]
        self.assertEqual(normal["running"], 1)
        text = self.tickq("stats")
        self.assertEqual(text.returncode, 0)
        self.assertIn("backtest_normal", text.stdout)
        self.assertIn("live workers: 1", text.stdout)
        w.stop()
        s = json.loads(self.tickq("stats", "--json").stdout)
        self.assertEqual(s["workers"], [])
