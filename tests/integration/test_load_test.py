"""test_load_test.py — `tickq load-test` against real workers: the counts
and the JSON report, the jobs it enqueues (type, args, queue, pacing),
failed jobs counted, no worker (the warning and the timeout), Ctrl-C, the
progress line on a terminal only, and bad flags refused before connecting."""
import json
import os
import pty
import select
import signal
import subprocess
import time

from harness import TICKQ, TickqTestCase, free_port, tickq, wait_for

REPORT_KEYS = {"type", "task", "queue", "run_id", "tasks", "rate", "concurrency", "enqueued", "completed", "failed",
               "unfinished", "timed_out", "interrupted", "enqueue_seconds", "enqueue_per_s", "seconds",
               "throughput_per_s", "elapsed_seconds", "latency_ms", "start_latency_ms", "first_error"}


class LoadTestCase(TickqTestCase):
    def load_test(self, *args, timeout=120):
        """Runs tickq load-test --json ARGS; returns (process, report)."""
        p = self.tickq("load-test", "--json", *args, timeout=timeout)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1, p.stdout + p.stderr)
        return p, json.loads(lines[0])

    def jobs_of(self, report):
        """The records of a run's jobs, by index."""
        prefix = f"load-{report['run_id']}-"
        keys = list(self.r.scan_iter(f"tickq:job:{prefix}*", count=1000))
        return {int(k.rsplit("-", 1)[1]): self.r.hgetall(k) for k in keys}

    def check_percentiles(self, p):
        self.assertEqual(set(p), {"p50", "p90", "p99", "max"})
        self.assertTrue(0 <= p["p50"] <= p["p90"] <= p["p99"] <= p["max"], p)


class TestWithWorkers(LoadTestCase):
    def test_noop_all_complete_with_an_exact_report(self):
        self.worker("--queues", "loadtest", "--workers", "2")
        p, rep = self.load_test("--tasks", "200")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")   # no terminal: no progress line
        self.assertEqual(set(rep), REPORT_KEYS)
        self.assertEqual((rep["type"], rep["task"], rep["queue"], rep["tasks"], rep["rate"], rep["concurrency"]),
                         ("noop", "noop", "loadtest", 200, None, 100))
        self.assertEqual((rep["enqueued"], rep["completed"], rep["failed"], rep["unfinished"]), (200, 200, 0, 0))
        self.assertEqual((rep["timed_out"], rep["interrupted"], rep["first_error"]), (False, False, None))
        self.assertGreater(rep["throughput_per_s"], 0)
        self.assertGreater(rep["seconds"], 0)
        self.check_percentiles(rep["latency_ms"])
        self.check_percentiles(rep["start_latency_ms"])
        for k in ("p50", "p90", "p99", "max"):   # each job starts before it finishes
            self.assertLessEqual(rep["start_latency_ms"][k], rep["latency_ms"][k])
        # The jobs: on queue loadtest, one attempt each, all completed.
        jobs = self.jobs_of(rep)
        self.assertEqual(sorted(jobs), list(range(200)))
        self.assertEqual({(j["type"], j["queue"], j["state"], j["max_retries"]) for j in jobs.values()},
                         {("noop", "loadtest", "completed", "0")})
        self.assertEqual(self.counters("loadtest")["completed"], 200)
        self.assertEqual(self.counters("loadtest")["submitted"], 200)
        # The percentiles are those of the records (nearest rank).
        lat = sorted((int(j["finished_us"]) - int(j["enqueued_us"])) / 1000 for j in jobs.values())
        self.assertAlmostEqual(rep["latency_ms"]["p50"], lat[99], places=3)
        self.assertAlmostEqual(rep["latency_ms"]["p99"], lat[197], places=3)
        self.assertAlmostEqual(rep["latency_ms"]["max"], lat[199], places=3)

    def test_text_report(self):
        self.worker("--queues", "lt2", "--workers", "1")
        p = self.tickq("load-test", "--tasks", "30", "--queue", "lt2", "--concurrency", "1", timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(" 30 noop jobs (task noop) on queue lt2\n", p.stdout)
        self.assertIn("\ncompleted   30\n", p.stdout)
        self.assertIn("\nfailed      0\n", p.stdout)
        self.assertIn("\nthroughput  ", p.stdout)
        self.assertRegex(p.stdout, r"\n  enqueue->finish +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+\n")
        self.assertEqual(p.stderr, "")

    def test_io_is_paced_by_rate(self):
        """--rate 100: job i goes out no earlier than i / 100 s after the
        first, so the records' enqueue times span at least (N-1)/R (half of
        it asserted, a bound the pacing guarantees)."""
        self.worker("--queues", "loadtest", "--workers", "2")
        p, rep = self.load_test("--type", "io", "--io-ms", "3", "--tasks", "40", "--rate", "100")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual((rep["type"], rep["task"], rep["rate"], rep["completed"], rep["failed"]),
                         ("io", "sleep", 100.0, 40, 0))
        jobs = self.jobs_of(rep)
        self.assertEqual({(j["type"], j["args"]) for j in jobs.values()}, {("sleep", '{"ms": 3}')})
        enq = [int(jobs[i]["enqueued_us"]) for i in range(40)]
        self.assertEqual(enq, sorted(enq))
        self.assertGreaterEqual((enq[-1] - enq[0]) / 1e6, 0.5 * 39 / 100)
        self.assertGreaterEqual(rep["enqueue_seconds"], 0.5 * 39 / 100)
        self.assertEqual(json.loads(self.r.get(f"task_result:load-{rep['run_id']}-0"))["data"]["slept_ms"], 3)

    def test_cpu_runs_spin(self):
        self.worker("--queues", "loadtest", "--workers", "2")
        p, rep = self.load_test("--type", "cpu", "--cpu-ms", "5", "--tasks", "20", "--concurrency", "7")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual((rep["task"], rep["completed"], rep["concurrency"]), ("spin", 20, 7))
        for i in range(20):
            res = json.loads(self.r.get(f"task_result:load-{rep['run_id']}-{i}"))
            self.assertEqual((res["status"], res["data"]["spun_ms"]), ("completed", 5))

    def test_failed_jobs_are_counted(self):
        """Jobs cancelled while they wait end without completing: counted
        as failed, with the first one's error; exit 1."""
        proc = subprocess.Popen([TICKQ, "load-test", "--json", "--tasks", "20", "--timeout", "120"],
                                env=dict(os.environ, REDIS_URL=self.url), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        keys = wait_for(lambda: len(k := list(self.r.scan_iter("tickq:job:load-*"))) == 20 and k, 30,
                        what="the 20 jobs enqueued")
        cancelled = sorted(keys)[:3]
        for k in cancelled:
            c = self.tickq("cancel", k.split(":", 2)[2])
            self.assertEqual(c.returncode, 0, c.stderr)
        self.worker("--queues", "loadtest", "--workers", "2")
        out, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 1, err)
        rep = json.loads(out)
        self.assertEqual((rep["completed"], rep["failed"], rep["unfinished"]), (17, 3, 0))
        self.assertIn("cancelled: Job cancelled", rep["first_error"])
        self.assertIn("3 of 20 jobs failed", err)


class TestWithoutWorkers(LoadTestCase):
    def test_no_worker_warns_then_times_out(self):
        p, rep = self.load_test("--tasks", "10", "--queue", "idle", "--timeout", "7", timeout=60)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual((rep["enqueued"], rep["completed"], rep["failed"], rep["unfinished"], rep["timed_out"]),
                         (10, 0, 0, 10, True))
        self.assertIsNone(rep["latency_ms"])
        self.assertIsNone(rep["throughput_per_s"])
        self.assertEqual(p.stderr.count("no job has started"), 1, p.stderr)
        self.assertIn("no job has started in 5 s: is a worker serving queue idle? (tickq worker --queues idle)",
                      p.stderr)
        self.assertIn("timed out after 7 s: 0 of 10 jobs finished, 0 never enqueued; 10 stay on queue idle", p.stderr)
        self.assertEqual(self.ready("idle_normal"), 10)

    def test_short_timeout_says_why(self):
        p, rep = self.load_test("--tasks", "3", "--timeout", "0.5", timeout=60)
        self.assertEqual(p.returncode, 3)
        self.assertTrue(rep["timed_out"])
        self.assertIn("timed out after 0.5 s", p.stderr)
        self.assertIn("no job has started: is a worker serving queue loadtest?", p.stderr)

    def test_ctrl_c_stops_enqueueing_and_reports(self):
        proc = subprocess.Popen([TICKQ, "load-test", "--json", "--tasks", "1000", "--rate", "50"],
                                env=dict(os.environ, REDIS_URL=self.url), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        wait_for(lambda: self.ready("loadtest_normal") >= 5, 30, what="some jobs enqueued")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 130, err)
        rep = json.loads(out)
        self.assertTrue(rep["interrupted"])
        self.assertFalse(rep["timed_out"])
        self.assertLess(rep["enqueued"], 1000)
        self.assertEqual(rep["enqueued"], self.ready("loadtest_normal"))   # nothing after the signal
        self.assertEqual(rep["unfinished"], rep["enqueued"])
        self.assertIn(f"interrupted: 0 of 1000 jobs finished, {1000 - rep['enqueued']} never enqueued", err)


class TestTerminal(LoadTestCase):
    def test_progress_line_on_a_terminal_only(self):
        """stderr on a terminal gets a progress line, rewritten in place
        (\\r, erase to the end of the line) and cleared before the report."""
        self.worker("--queues", "loadtest", "--workers", "1")
        master, slave = pty.openpty()
        proc = subprocess.Popen([TICKQ, "load-test", "--tasks", "30", "--rate", "50"],
                                env=dict(os.environ, REDIS_URL=self.url), stdout=subprocess.PIPE,
                                stderr=slave, text=True)
        os.close(slave)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        seen, deadline = b"", time.time() + 60
        while time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:   # the terminal's last writer closed it
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        out, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, seen)
        text = seen.decode()
        self.assertIn("\rtickq load-test: enqueued ", text)
        self.assertIn("/30, finished ", text)
        self.assertIn("\x1b[K", text)
        self.assertTrue(text.endswith("\r\x1b[K"), repr(text[-80:]))
        self.assertIn("completed   30", out)
        self.assertNotIn("\r", out)


class TestFlags(LoadTestCase):
    def refused(self, *args):
        """Bad flags: exit 64 with the usage, before any connection (no Redis here)."""
        p = tickq("load-test", *args, url=f"redis://127.0.0.1:{free_port()}")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("usage: tickq load-test", p.stderr)
        return p.stderr.split("\n", 1)[0]

    def test_bad_flags_name_the_flag(self):
        self.assertIn("missing --tasks N", self.refused("--type", "io"))
        self.assertIn("invalid --tasks '0'", self.refused("--tasks", "0"))
        self.assertIn("invalid --tasks '-5'", self.refused("--tasks", "-5"))
        self.assertIn("invalid --tasks 'lots'", self.refused("--tasks", "lots"))
        self.assertIn("invalid --tasks '1000001'", self.refused("--tasks", "1000001"))
        self.assertIn("unknown --type 'gpu': use noop, io or cpu", self.refused("--tasks", "5", "--type", "gpu"))
        self.assertIn("invalid --rate '0'", self.refused("--tasks", "5", "--rate", "0"))
        self.assertIn("invalid --rate '-1'", self.refused("--tasks", "5", "--rate", "-1"))
        self.assertIn("invalid --rate 'fast'", self.refused("--tasks", "5", "--rate", "fast"))
        self.assertIn("invalid --rate '0x10'", self.refused("--tasks", "5", "--rate", "0x10"))
        self.assertIn("invalid --rate 'nan'", self.refused("--tasks", "5", "--rate", "nan"))
        self.assertIn("invalid --concurrency '0'", self.refused("--tasks", "5", "--concurrency", "0"))
        self.assertIn("invalid --concurrency '1001'", self.refused("--tasks", "5", "--concurrency", "1001"))
        self.assertIn("--queue: invalid queue name 'a b'", self.refused("--tasks", "5", "--queue", "a b"))
        self.assertIn("invalid --timeout '0'", self.refused("--tasks", "5", "--timeout", "0"))
        self.assertIn("--timeout 'soon'", self.refused("--tasks", "5", "--timeout", "soon"))
        self.assertIn("invalid --io-ms '600001'", self.refused("--tasks", "5", "--type", "io", "--io-ms", "600001"))
        self.assertIn("--io-ms is for --type io (this is --type noop)", self.refused("--tasks", "5", "--io-ms", "3"))
        self.assertIn("--cpu-ms is for --type cpu (this is --type io)",
                      self.refused("--tasks", "5", "--type", "io", "--cpu-ms", "3"))
        self.assertIn("unexpected argument 'extra'", self.refused("--tasks", "5", "extra"))
        self.refused("--tasks", "5", "--bogus")

    def test_help_and_command_list(self):
        p = tickq("load-test", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("usage: tickq load-test", p.stdout)
        self.assertIn("load-test", tickq("--help").stdout)

    def test_redis_down_exits_69(self):
        p = tickq("load-test", "--tasks", "5", url=f"redis://127.0.0.1:{free_port()}")
        self.assertEqual(p.returncode, 69, p.stderr)
