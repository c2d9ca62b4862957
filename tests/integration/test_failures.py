"""test_failures.py — transient and permanent failures: retries with
exponential backoff, the dead-letter stream and its CLI, timeouts, jobs
that keep killing their worker, a Redis out of memory while a worker holds
outcomes, and a Redis pause that makes a finish call land late."""
import json
import threading
import time

from harness import ISO_RE, TickqTestCase, fill_until_oom, wait_for


def iso_seconds(s):
    t = time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")
    return time.mktime(t) - time.timezone + int(s[20:23]) / 1000.0


class TestRetries(TickqTestCase):
    def test_backoff_timing_then_dead(self):
        base = 0.3
        jid = self.enqueue("fail", {"message": "feed unavailable"}, "--max-retries", "3")
        w = self.worker("--workers", "1", "--retry-base", f"{int(base * 1000)}ms")
        # Between attempts the result stays "running" with the retry details.
        wait_for(lambda: self.state(jid) == "retrying", 5, what="first retry")
        res = self.result(jid)
        self.assertEqual(res["status"], "running")
        self.assertEqual(res["data"]["last_error"], "feed unavailable")
        self.assertEqual(res["data"]["attempt"], 1)
        self.assertRegex(res["data"]["next_retry_at"], ISO_RE)
        self.wait_state(jid, "dead", timeout=15)
        w.stop()
        rec = self.retries(jid)
        self.assertEqual([r["attempt"] for r in rec], [1, 2, 3, 4])
        self.assertTrue(all(r["kind"] == "transient" for r in rec))
        times = [iso_seconds(r["at"]) for r in rec]
        for k in range(3):
            gap, nominal = times[k + 1] - times[k], base * 2 ** k
            self.assertGreaterEqual(gap, nominal * 0.8 - 0.01, f"gap {k}: {gap:.3f}s for {nominal}s")
            self.assertLessEqual(gap, nominal * 1.2 + 0.4, f"gap {k}: {gap:.3f}s for {nominal}s")
        job = self.job(jid)
        self.assertEqual(job["attempts"], "4")
        self.assertNotIn("next_retry_at", job)  # it belonged to the waits, which are over
        res = self.result(jid)
        self.assertEqual(res["status"], "error")
        self.assertEqual(res["data"]["error"], "feed unavailable")
        self.assertRegex(res["data"]["completed_at"], ISO_RE)
        self.assertEqual(self.tickq("result", jid).returncode, 1)
        c = self.counters()
        self.assertEqual((c["retried"], c["dead"], c.get("completed", 0)), (3, 1, 0))
        dead = self.r.xrange("tickq:dead")
        self.assertEqual(len(dead), 1)
        self.assertEqual(dead[0][1]["job"], jid)
        self.assertEqual(dead[0][1]["attempts"], "4")

    def test_backoff_has_jitter(self):
        """Jobs failing together do not all come back at the same instant:
        each delay lies within +-20 % of the base, and they differ."""
        ids = [self.enqueue("fail", {"message": f"m{i}"}, "--max-retries", "1") for i in range(10)]
        w = self.worker("--workers", "1", "--retry-base", "2s")
        for jid in ids:
            self.wait_state(jid, "retrying")
        w.stop()
        delays = []
        for jid in ids:
            failed_at = iso_seconds(self.retries(jid)[0]["at"])
            delays.append(iso_seconds(self.result(jid)["data"]["next_retry_at"]) - failed_at)
        for d in delays:
            self.assertGreaterEqual(d, 1.6 - 0.01, delays)
            self.assertLessEqual(d, 2.4 + 0.01, delays)
        self.assertGreater(max(delays) - min(delays), 0.05, f"no jitter: {delays}")

    def test_permanent_failure_is_not_retried(self):
        jid = self.enqueue("fail", {"permanent": True, "message": "unknown symbol ZZZZ"})
        status, _ = self.burst("--workers", "1", "--retry-base", "10ms")
        self.assertEqual(status, 0)
        self.assertEqual(self.state(jid), "failed")
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(self.retries(jid), [])
        self.assertEqual(self.result(jid)["data"]["error"], "unknown symbol ZZZZ")
        self.assertRegex(self.result(jid)["data"]["completed_at"], ISO_RE)
        self.assertEqual(self.r.xlen("tickq:dead"), 0)

    def test_retry_then_success(self):
        jid = self.enqueue("fail", {"times": 2, "message": "flaky"}, "--max-retries", "3")
        status, _ = self.burst("--workers", "1", "--retry-base", "20ms")
        self.assertEqual(status, 0)
        self.assertEqual(self.state(jid), "completed")
        self.assertEqual(self.job(jid)["attempts"], "3")
        self.assertEqual(self.result(jid)["data"]["succeeded_on_attempt"], 3)
        self.assertEqual([r["attempt"] for r in self.retries(jid)], [1, 2])
        # The retry history expires with the result.
        self.assertGreater(self.r.ttl(f"tickq:retries:{jid}"), 0)


class TestDeadLetterCli(TickqTestCase):
    def kill_jobs(self, n):
        ids = [self.enqueue("fail", {"message": f"boom {i}"}, "--max-retries", "0", "--id", f"d{i}")
               for i in range(n)]
        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        return ids

    def test_list_retry_retry_all_purge(self):
        ids = self.kill_jobs(3)
        p = self.tickq("dlq", "list")
        self.assertEqual(p.returncode, 0)
        for i in ids:
            self.assertIn(i, p.stdout)
        lines = [json.loads(x) for x in self.tickq("dlq", "list", "--json", "--limit", "2").stdout.splitlines()]
        self.assertEqual(len(lines), 2)
        self.assertEqual(lines[0]["job"], "d2")  # newest first
        p = self.tickq("dlq", "retry", "d1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.state("d1"), "queued")
        self.assertEqual(self.job("d1")["attempts"], "0")
        self.assertIsNone(self.result("d1"))
        self.assertEqual(self.r.xlen("tickq:dead"), 2)
        self.assertEqual(self.ready(), 1)
        self.assertEqual(self.tickq("dlq", "retry", "d1").returncode, 3)
        p = self.tickq("dlq", "retry-all")
        self.assertEqual(p.returncode, 0)
        self.assertIn("requeued 2", p.stdout)
        self.assertEqual(self.ready(), 3)
        self.burst("--workers", "1")
        self.assertEqual(self.r.xlen("tickq:dead"), 3)
        p = self.tickq("dlq", "purge")
        self.assertIn("purged 3", p.stdout)
        self.assertEqual(self.r.xlen("tickq:dead"), 0)

    def test_retry_after_job_record_expired(self):
        self.kill_jobs(1)
        self.r.delete("tickq:job:d0")
        self.assertEqual(self.tickq("dlq", "retry", "d0").returncode, 0)
        job = self.job("d0")
        self.assertEqual(job["type"], "fail")
        self.assertEqual(json.loads(job["args"]), {"message": "boom 0"})

    def test_dead_letter_cap(self):
        ids = [self.enqueue("fail", {}, "--max-retries", "0") for _ in range(250)]
        status, _ = self.burst("--workers", "2", "--dlq-cap", "20", "--log-level", "error")
        self.assertEqual(status, 0)
        self.assertEqual(self.counters()["dead"], len(ids))
        # MAXLEN ~ trims whole stream nodes (100 entries), so the cap is approximate.
        self.assertLessEqual(self.r.xlen("tickq:dead"), 20 + 100)


class TestTimeouts(TickqTestCase):
    def test_timeout_kills_child_retries_then_dead_and_worker_goes_on(self):
        jid = self.enqueue("sleep", {"ms": 10000}, "--timeout", "0.5", "--max-retries", "1")
        after = self.enqueue("echo", {"after": True}, "--priority", "low")
        t0 = time.time()
        status, w = self.burst("--workers", "1", "--retry-base", "50ms")
        self.assertEqual(status, 0)
        self.assertLess(time.time() - t0, 6)
        self.assertEqual(self.state(jid), "dead")
        rec = self.retries(jid)
        self.assertEqual([r["kind"] for r in rec], ["timeout", "timeout"])
        self.assertIn("timeout of 0.5 s", rec[0]["error"])
        self.assertEqual(self.counters()["timeout"], 2)
        self.assertEqual(self.state(after), "completed")
        kills = [x for x in w.log_lines() if isinstance(x, dict) and x["msg"] == "job timed out; killing its worker child"]
        self.assertEqual(len(kills), 2)
        # Each kill replaced the child: the two attempts ran in two processes.
        pids = {x["pid"] for x in w.log_lines()
                if isinstance(x, dict) and x["msg"] == "job started" and x["job_id"] == jid}
        self.assertEqual(len(pids), 2)


class TestCrashingJob(TickqTestCase):
    def test_job_that_kills_its_worker_ends_dead(self):
        jid = self.enqueue("fail", {"crash": True}, "--max-retries", "2")
        ok = self.enqueue("echo", {}, "--priority", "low")
        status, w = self.burst("--workers", "1", "--retry-base", "20ms")
        self.assertEqual(status, 0)
        self.assertEqual(self.state(jid), "dead")
        rec = self.retries(jid)
        self.assertEqual([r["kind"] for r in rec], ["crash"] * 3)
        self.assertIn("killed by signal 9", rec[0]["error"])
        dead = self.r.xrange("tickq:dead")
        self.assertEqual([(d[1]["job"], d[1]["attempts"]) for d in dead], [(jid, "3")])
        self.assertEqual(self.state(ok), "completed")


def log_records(worker, msg):
    return [x for x in worker.log_lines() if isinstance(x, dict) and x["msg"] == msg]


class TestOutOfMemory(TickqTestCase):
    def tearDown(self):
        self.r.config_set("maxmemory", 0)
        super().tearDown()

    def fcalls(self):
        """FCALLs Redis ran or refused (rejected_calls: the OOM refusals)."""
        stat = self.r.info("commandstats").get("cmdstat_fcall", {})
        return int(stat.get("calls", 0)) + int(stat.get("rejected_calls", 0))

    def test_a_worker_holds_its_outcomes_until_redis_accepts_them(self):
        """A worker whose finish call Redis refuses for lack of memory says
        so once (naming OOM and the memory figures), backs off rather than
        spinning, keeps the outcome, and records it once memory is freed:
        the job completes exactly once."""
        jid = self.enqueue("sleep", {"ms": 1500})
        w = self.worker("--workers", "1")
        self.wait_running(jid)
        fill_until_oom(self.r)
        warned = "Redis is out of memory: cannot record job outcomes; holding them and retrying"
        wait_for(lambda: log_records(w, warned), timeout=15, what="the out-of-memory warning")
        calls = self.fcalls()
        time.sleep(4)  # the outcome is held: not recorded, not dropped, not retried in a loop
        # the child backs off (0.1 s doubling to 5 s), the supervisor tries the list once a second and
        # renews claims at its heartbeat: a few calls, not a loop
        self.assertLessEqual(self.fcalls() - calls, 16)
        self.assertEqual(self.state(jid), "queued")  # a running job's record: its outcome is not in
        self.assertEqual(self.result(jid)["status"], "running")
        self.assertEqual(self.pending(), 1)
        (warning,) = log_records(w, warned)  # one warning for the spell (repeated every 30 s at most)
        self.assertEqual(warning["level"], "warning")
        self.assertEqual(warning["outcomes"], 1)
        self.assertRegex(warning["error"], r"^Redis is out of memory and refuses writes \(used memory [0-9.]+[BKMG], "
                         r"maxmemory [0-9.]+[BKMG], maxmemory-policy noeviction\): tickq_p1_finish was not done")
        self.r.config_set("maxmemory", 0)
        self.wait_state(jid, "completed", timeout=15)
        wait_for(lambda: log_records(w, "job outcomes recorded: Redis accepts writes again"), timeout=10)
        self.assertEqual(self.result(jid)["status"], "completed")
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(self.counters().get("completed"), 1)
        self.assertEqual(len([x for x in log_records(w, "job started") if x["job_id"] == jid]), 1)
        self.assertEqual(self.pending(), 0)

    def test_an_idle_worker_backs_off_while_redis_refuses_claims(self):
        """Claims refused for lack of memory: one warning for the spell (it
        used to log an error every second per child, each with an INFO
        call), a growing wait, and jobs claimed again once memory is freed."""
        w = self.worker("--workers", "2")
        wait_for(lambda: len(w.children()) == 2, what="the children")
        fill_until_oom(self.r)
        warned = "Redis is out of memory: cannot claim jobs; retrying"
        wait_for(lambda: len(log_records(w, warned)) == 2, timeout=15, what="a warning per child")
        time.sleep(4)  # time passes: no further warning may come in the same spell
        self.assertEqual(len(log_records(w, warned)), 2)  # once a spell per child
        self.assertEqual(log_records(w, "claim failed"), [])
        self.r.config_set("maxmemory", 0)
        jid = self.enqueue("noop")
        self.wait_state(jid, "completed", timeout=15)


class TestRedisPause(TickqTestCase):
    redis_args = ("--enable-debug-command", "yes")

    def test_a_finish_applied_late_is_not_called_reclaimed(self):
        """Redis paused (DEBUG SLEEP) past the worker's 5 s command timeout
        while a finish call waited in its socket: the call was applied when
        Redis woke, and the retry over a new connection found the entry
        acked. The worker says the earlier call recorded it (info), not that
        the entry was reclaimed (warning); the job completed once."""
        jid = self.enqueue("sleep", {"ms": 1500})
        w = self.worker("--workers", "1")
        self.wait_running(jid)
        sleeper = self.server.client(socket_timeout=None)
        pause = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", "7"))
        pause.start()
        try:
            # the job finishes during the pause; its finish call times out at 5 s
            self.wait_state(jid, "completed", timeout=30)
            earlier = "outcomes already recorded by the earlier call (its reply was lost)"
            wait_for(lambda: log_records(w, earlier), timeout=20, what="the worker's note on the lost reply")
        finally:
            pause.join(30)
            sleeper.close()
        (note,) = log_records(w, earlier)
        self.assertEqual((note["level"], note["outcomes"]), ("info", 1))
        self.assertEqual(log_records(w, "outcomes skipped: their entries were reclaimed meanwhile"), [])
        self.assertTrue(log_records(w, "cannot record job outcomes, retrying"), w.log())  # the first call timed out
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(self.counters().get("completed"), 1)
        self.assertEqual(self.result(jid)["status"], "completed")
