"""test_recovery.py — nothing is lost: a child killed mid-job, a whole worker
host gone, long jobs on a live worker, graceful shutdown (with and without
the grace period running out), Redis restarting under a worker, and a
protocol version mismatch."""
import json
import os
import signal
import time

from harness import TickqTestCase, wait_for

STREAMS = ["tickq:queue:backtest_high", "tickq:queue:backtest_normal", "tickq:queue:backtest_low"]


class TestCrashRecovery(TickqTestCase):
    def test_kill9_child_mid_job_then_job_completes(self):
        jid = self.enqueue("sleep", {"ms": 1500})
        w = self.worker("--workers", "1", "--retry-base", "50ms")
        # Started, not only claimed: a child killed between its claim and the
        # job's start gives the job back uncharged (attempts would stay 1).
        # Its "job started" line is written once the job is in its slot.
        wait_for(lambda: [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "job started"
                          and x.get("job_id") == jid], 15, what=f"job {jid} to start")
        (child,) = w.children()
        os.kill(child, signal.SIGKILL)
        self.wait_state(jid, "completed", timeout=15)
        self.assertEqual(self.job(jid)["attempts"], "2")
        (rec,) = self.retries(jid)
        self.assertEqual(rec["kind"], "crash")
        self.assertIn("killed by signal 9", rec["error"])
        self.assertEqual(self.pending(), 0)
        self.assertNotEqual(w.children(), [child])
        w.stop()

    def test_dead_worker_host_jobs_are_reclaimed(self):
        ids = [self.enqueue("echo", {"i": i}) for i in range(3)]
        # A worker on another host claims the jobs, then its host dies.
        claimed = self.fcall("claim", STREAMS, "deadhost:999:0", "10")
        self.assertEqual(len(claimed), 1 + 8 * 3)
        self.assertEqual(self.pending(), 3)
        w = self.worker("--workers", "1", "--claim-timeout", "1s", "--heartbeat", "200ms", "--retry-base", "50ms")
        for jid in ids:
            self.wait_state(jid, "completed", timeout=15)
            self.assertEqual(self.job(jid)["attempts"], "2")
            (rec,) = self.retries(jid)
            self.assertEqual(rec["kind"], "crash")
            self.assertIn("Worker lost", rec["error"])
        self.assertEqual(self.pending(), 0)
        # The dead consumer is forgotten once it holds nothing.
        wait_for(lambda: all(c["name"] != "deadhost:999:0" for c in self.r.xinfo_consumers(STREAMS[1], "workers")),
                 5, what="dead consumer removed")
        w.stop()

    def test_live_worker_keeps_its_long_job(self):
        jid = self.enqueue("sleep", {"ms": 3000})
        a = self.worker("--workers", "1", "--claim-timeout", "1s", "--heartbeat", "200ms")
        self.wait_running(jid)
        b = self.worker("--workers", "1", "--claim-timeout", "1s", "--heartbeat", "200ms")
        self.wait_state(jid, "completed", timeout=15)
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(self.retries(jid), [])
        a.stop()
        b.stop()


class TestShutdown(TickqTestCase):
    def test_sigterm_with_jobs_in_flight_loses_nothing(self):
        ids = [self.enqueue("sleep", {"ms": 300}) for _ in range(12)]
        w = self.worker("--workers", "2", "--grace", "10")
        wait_for(lambda: self.pending() == 2, 10, what="two jobs running")
        t0 = time.time()
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(15), 0)
        self.assertLess(time.time() - t0, 5)
        states = [self.state(i) for i in ids]
        self.assertTrue(all(s in ("completed", "queued") for s in states), states)
        self.assertGreaterEqual(states.count("completed"), 2)
        self.assertEqual(self.pending(), 0)
        self.assertEqual(self.ready(), states.count("queued"))
        status, _ = self.burst("--workers", "2")
        self.assertEqual(status, 0)
        self.assertEqual([self.state(i) for i in ids], ["completed"] * 12)
        self.assertEqual(self.counters()["completed"], 12)

    def test_grace_over_returns_running_job_to_queue(self):
        jid = self.enqueue("sleep", {"ms": 20000})
        w = self.worker("--workers", "1", "--grace", "0.5", "--heartbeat", "200ms")
        self.wait_running(jid)
        # The claim writes "running" before the child starts the job; only
        # once the supervisor counts it busy (its heartbeat says so) does a
        # stop have a running job to wait for (else the claim just goes back).
        def busy():
            beats = [self.r.get(k) for k in self.r.keys("tickq:worker:*")]
            return any(b and json.loads(b).get("busy") == 1 for b in beats)
        wait_for(busy, 15, what="the supervisor to count the job's child busy")
        t0 = time.time()
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(10), 0)
        self.assertLess(time.time() - t0, 3)
        self.assertEqual(self.state(jid), "queued")
        self.assertEqual(self.job(jid)["attempts"], "0")
        self.assertEqual(self.pending(), 0)
        self.assertEqual(self.ready(), 1)
        self.assertIsNone(self.result(jid))
        self.assertIn("grace period over", w.log())

    def test_second_signal_shortens_the_wait(self):
        jid = self.enqueue("sleep", {"ms": 20000})
        w = self.worker("--workers", "1", "--grace", "60")
        self.wait_running(jid)
        t0 = time.time()
        w.signal(signal.SIGTERM)
        wait_for(lambda: "shutting down" in w.log(), 5, what="the worker to begin its graceful stop")
        w.signal(signal.SIGINT)
        self.assertEqual(w.wait(10), 0)
        self.assertLess(time.time() - t0, 3)
        self.assertEqual(self.state(jid), "queued")
        self.assertEqual(self.ready(), 1)

    def test_idle_worker_stops_at_once_on_ctrl_c(self):
        w = self.worker("--workers", "2")
        wait_for(lambda: len(w.children()) == 2, 5, what="children")
        time.sleep(0.3)  # the children settle into their idle wait, which leaves no trace in Redis to wait on
        t0 = time.time()
        w.signal(signal.SIGINT)
        self.assertEqual(w.wait(10), 0)
        self.assertLess(time.time() - t0, 1.5)
        # Its consumers and heartbeat are gone: nothing accumulates per restart.
        self.assertEqual(self.r.xinfo_consumers(STREAMS[1], "workers"), [])
        self.assertEqual(self.r.keys("tickq:worker:*"), [])

    def test_burst_on_empty_queues_exits_zero(self):
        t0 = time.time()
        status, _ = self.burst("--workers", "2")
        self.assertEqual(status, 0)
        self.assertLess(time.time() - t0, 3)

    def test_burst_waits_for_pending_retries(self):
        jid = self.enqueue("fail", {"times": 1}, "--max-retries", "2")
        status, _ = self.burst("--workers", "1", "--retry-base", "500ms")
        self.assertEqual(status, 0)
        self.assertEqual(self.state(jid), "completed")

    def test_workers_n_children(self):
        w = self.worker("--workers", "3")
        wait_for(lambda: len(w.children()) == 3, 5, what="three children")
        w.stop()


class TestRedisTrouble(TickqTestCase):
    def test_lost_connection_mid_job_keeps_the_outcome(self):
        jid = self.enqueue("sleep", {"ms": 1500})
        w = self.worker("--workers", "1")
        self.wait_running(jid)
        names = [c["name"] for c in self.r.client_list() if c["name"].startswith("tickq-worker:")]
        self.assertEqual(len(names), 1, self.r.client_list())
        self.assertIn("tickq-supervisor:", " ".join(c["name"] for c in self.r.client_list()))
        self.r.execute_command("CLIENT", "KILL", "SKIPME", "yes", "ID",
                               [c["id"] for c in self.r.client_list() if c["name"] == names[0]][0])
        self.wait_state(jid, "completed", timeout=15)
        w.stop()
        # Recorded after reconnecting, not run a second time.
        runs = [x for x in w.log_lines() if isinstance(x, dict) and x["msg"] == "job started"]
        self.assertEqual(len(runs), 1, runs)
        self.assertIn("reconnected to Redis", w.log())
        self.assertNotIn("outcomes skipped", w.log())
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(self.retries(jid), [])
        self.assertEqual(self.pending(), 0)

    def test_release_refused_on_reconnect_backs_off_and_logs(self):
        """A reconnect whose release of the lost connection's jobs Redis
        refuses (OOM here: maxmemory 1, noeviction) backs off and logs a
        warning naming the error, instead of reconnecting in a silent loop;
        once Redis accepts writes again the worker carries on."""
        w = self.worker("--workers", "1")
        first = self.enqueue("echo", {"n": 1})
        self.wait_state(first, "completed")
        self.addCleanup(lambda: self.server.client().config_set("maxmemory", "0"))
        self.r.config_set("maxmemory-policy", "noeviction")
        self.r.config_set("maxmemory", "1")
        ids = [c["id"] for c in self.r.client_list() if c["name"].startswith("tickq-worker:")]
        self.assertEqual(len(ids), 1, self.r.client_list())
        self.r.execute_command("CLIENT", "KILL", "SKIPME", "yes", "ID", ids[0])

        def warnings():
            return [x for x in w.log_lines() if isinstance(x, dict) and x.get("level") == "warning"
                    and "cannot return the lost connection's jobs" in x["msg"]]
        first_warning = wait_for(warnings, timeout=10, what="the release warning")[0]
        self.assertIn("OOM", first_warning["error"])
        # Over the next two seconds: a handful of reconnects (backoff from
        # 100 ms doubling), not thousands.
        before = self.r.info("stats")["total_connections_received"]
        time.sleep(2.0)  # the time over which reconnects are counted
        reconnects = self.r.info("stats")["total_connections_received"] - before
        self.assertLessEqual(reconnects, 30)
        self.assertLessEqual(len(warnings()), 3)   # one per 20 attempts
        def reconnected():
            return [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "reconnected to Redis"]
        self.assertEqual(reconnected(), [])
        self.r.config_set("maxmemory", "0")
        wait_for(reconnected, timeout=15, what="the reconnect")
        second = self.enqueue("echo", {"n": 2})
        self.wait_state(second, "completed", timeout=15)
        self.assertEqual(w.proc.poll(), None)

    def test_worker_survives_redis_restart(self):
        w = self.worker("--workers", "1", "--heartbeat", "200ms")
        first = self.enqueue("echo", {"n": 1})
        self.wait_state(first, "completed")
        self.server.stop()
        time.sleep(1.0)  # Redis stays down a while: the worker must ride it out
        self.server.start()
        self.r = self.server.client()
        second = self.enqueue("echo", {"n": 2})
        self.wait_state(second, "completed", timeout=20)
        self.assertEqual(w.proc.poll(), None)
        w.stop()

    def test_protocol_mismatch_is_detected(self):
        self.r.set("tickq:protocol", "99")
        p = self.tickq("worker", "--burst")
        self.assertEqual(p.returncode, 78)
        self.assertIn("protocol 99", p.stderr)
        p = self.tickq("enqueue", "noop")
        self.assertEqual(p.returncode, 78)
        p = self.tickq("worker", "--check")
        self.assertEqual(p.returncode, 78)
        self.assertIn("FAIL protocol", p.stdout)

    def test_running_worker_stops_on_protocol_change(self):
        w = self.worker("--workers", "1")
        self.wait_state(self.enqueue("echo", {}), "completed")
        self.r.set("tickq:protocol", "2")
        self.assertEqual(w.wait(15), 78)
