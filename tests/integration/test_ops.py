"""test_ops.py — what operators rely on: structured logs, bounded memory,
and the queue benchmark's report (its shape, on a small run)."""
import json
import os
import subprocess
import time

from harness import TICKQ, TickqTestCase, wait_for


class TestLogs(TickqTestCase):
    def test_json_logs_per_job_and_stats_line(self):
        ok = self.enqueue("echo", {})
        bad = self.enqueue("fail", {"permanent": True, "message": "bad input"})
        w = self.worker("--workers", "1", "--stats-interval", "200ms")
        self.wait_state(bad, "failed")
        self.wait_state(ok, "completed")
        wait_for(lambda: any(isinstance(x, dict) and x.get("msg") == "worker stats" for x in w.log_lines()), 5,
                 what="stats line")
        w.stop()
        lines = w.log_lines()
        self.assertTrue(all(isinstance(x, dict) for x in lines), [x for x in lines if not isinstance(x, dict)])
        for x in lines:
            self.assertIn("ts", x)
            self.assertIn("level", x)
        started = [x for x in lines if x["msg"] == "job started"]
        finished = [x for x in lines if x["msg"] == "job finished"]
        failed = [x for x in lines if x["msg"] == "job failed"]
        self.assertEqual({x["job_id"] for x in started}, {ok, bad})
        f = finished[0]
        for key in ["job_id", "type", "queue", "attempt", "duration_ms"]:
            self.assertIn(key, f)
        self.assertEqual((f["job_id"], f["type"], f["queue"], f["attempt"]), (ok, "echo", "backtest", 1))
        self.assertEqual(failed[0]["error"], "bad input")
        self.assertTrue(failed[0]["permanent"])
        stats = [x for x in lines if x["msg"] == "worker stats"][-1]
        self.assertEqual(stats["j_complete"], 1)
        self.assertEqual(stats["j_failed"], 1)
        for key in ["j_retried", "j_ongoing"]:
            self.assertIn(key, stats)
        self.assertRegex(stats["delayed"], r"^\d+\.\d{3}s$")

    def test_logfmt(self):
        jid = self.enqueue("echo", {})
        status, w = self.burst("--workers", "1", "--log-format", "logfmt")
        self.assertEqual(status, 0)
        line = [x for x in w.log().splitlines() if 'msg="job finished"' in x][0]
        self.assertRegex(line, r"^ts=\S+Z level=info msg=\"job finished\" pid=\d+ job_id=" + jid)
        self.assertIn(" type=echo ", line)


class TestBoundedMemory(TickqTestCase):
    def round_of_jobs(self, n):
        self.load_library()
        self.enqueue("noop")  # one through the CLI too
        ids = []
        for i in range(n):
            ids.append(f"r{time.time_ns()}-{i}")
        pipe = self.r.pipeline(transaction=False)
        now_ms = int(time.time() * 1000)
        for jid in ids:
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + ".000Z"
            pipe.fcall("tickq_p1_enqueue", 0, "tickq", str(now_ms), iso, "workers", "86400", "100000", "2000",
                       "3600000", "1", jid, "noop", "{}", "backtest", "normal", "3", "60000", "0", "1048576",
                       str(now_ms * 1000))
        pipe.execute()
        status, _ = self.burst("--workers", "2", "--result-ttl", "1", "--log-level", "warning")
        self.assertEqual(status, 0)
        time.sleep(1.5)  # the 1 s result TTL passes (expired keys go only when touched, below)
        for key in self.r.scan_iter(count=1000):  # touching expired keys reclaims them
            self.r.type(key)
        return self.r.info("memory")["used_memory"]

    def test_memory_is_flat_after_many_jobs(self):
        baseline = self.round_of_jobs(2000)
        for _ in range(3):
            last = self.round_of_jobs(2000)
        self.assertLess(last - baseline, 256 * 1024, f"grew from {baseline} to {last} bytes")
        self.assertEqual(self.stream_len(), 0)
        self.assertEqual(self.r.keys("task_result:*"), [])
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        self.assertEqual(self.r.xlen("tickq:dead"), 0)
        self.assertEqual(self.counters()["completed"], 4 * 2001)

    def test_long_job_does_not_let_the_stream_grow(self):
        self.load_library()
        long_job = self.enqueue("sleep", {"ms": 30000})
        w = self.worker("--workers", "2", "--log-level", "warning")
        self.wait_running(long_job)
        # 3000 fast jobs flow past the long one, which pins the trim point.
        pipe = self.r.pipeline(transaction=False)
        now_ms = int(time.time() * 1000)
        for i in range(3000):
            pipe.fcall("tickq_p1_enqueue", 0, "tickq", str(now_ms), "2026-01-01T00:00:00.000Z", "workers", "86400",
                       "100000", "2000", "3600000", "1", f"fast-{i}", "noop", "{}", "backtest", "normal", "3",
                       "60000", "0", "1048576", str(now_ms * 1000))
        pipe.execute()
        wait_for(lambda: self.counters().get("completed", 0) == 3000, 30, what="fast jobs done")
        self.assertLess(self.stream_len(), 1300)
        self.assertEqual(self.tickq("cancel", long_job).returncode, 0)
        self.assertEqual(self.stream_len(), 0)
        w.stop()


class TestQueueBenchmark(TickqTestCase):
    def test_bench_queue_prints_one_json_line_with_every_figure(self):
        bench = os.path.join(os.path.dirname(TICKQ), "bench_queue")
        p = subprocess.run([bench, "--tickq", TICKQ, "--jobs", "300", "--latency-jobs", "40"],
                           env=dict(os.environ, REDIS_URL=self.url), capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stdout)
        r = json.loads(lines[0])
        self.assertEqual(set(r), {"bench", "jobs", "workers", "enqueue_per_s", "enqueue_bulk_per_s", "process_per_s",
                                  "e2e_per_s", "latency_p50_ms", "latency_p99_ms", "latency_1k_p50_ms",
                                  "latency_1k_p99_ms", "latency_list_p50_ms", "latency_list_p99_ms",
                                  "process_no_history_per_s", "history_cost_pct", "redis_us_per_job",
                                  "redis_us_per_job_no_history", "log_level", "type", "done_latency_p50_ms",
                                  "done_latency_p99_ms"})
        self.assertEqual((r["bench"], r["jobs"], r["workers"], r["type"]), ("queue", 300, 2, "noop"))
        for k in ["enqueue_per_s", "enqueue_bulk_per_s", "process_per_s", "e2e_per_s", "process_no_history_per_s"]:
            self.assertGreater(r[k], 0, k)
        for load in ["", "1k_", "list_"]:
            for q in ["p50", "p99"]:
                self.assertGreater(r[f"latency_{load}{q}_ms"], 0, f"latency_{load}{q}_ms")
        # history_cost_pct is what history costs the processing rate (the
        # rates are printed rounded to 1/s, the percentage to 0.1).
        on, off = r["process_per_s"], r["process_no_history_per_s"]
        self.assertAlmostEqual(r["history_cost_pct"], 100 * (1 - on / off),
                               delta=0.05 + 100 * (0.5 / off + 0.5 * on / off ** 2) + 1e-9)
        self.assertEqual(r["log_level"], "info")
        # Redis's CPU per job, measured around each run (not compared with
        # each other: that would be a timing claim).
        self.assertGreater(r["redis_us_per_job"], 0)
        self.assertGreater(r["redis_us_per_job_no_history"], 0)
