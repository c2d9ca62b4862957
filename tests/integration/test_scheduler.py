"""test_scheduler.py — the scheduler: `tickq schedule next` across DST
changes and the XNYS calendar, the config file and its errors, and
`tickq scheduler` firing against a real Redis: missed runs (run_once, skip,
grace), exactly once with several schedulers and a leader killed, graceful
shutdown, and `tickq worker --scheduler`."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import ROOT, TICKQ, TickqTestCase, tickq, wait_for


def next_times(expr, *args):
    p = tickq("schedule", "next", expr, *args)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


class TestScheduleNext(TickqTestCase):
    def test_new_york_spring_forward(self):
        # 2026-03-08: 02:00 EST -> 03:00 EDT.
        self.assertEqual(next_times("30 2 * * *", "--tz", "America/New_York", "--from", "2026-03-07T12:00:00Z",
                                    "-n", "3"),
                         ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"])
        got = next_times("*/30 * * * *", "--tz", "America/New_York", "--from", "2026-03-08T06:00:00Z", "-n", "4")
        self.assertEqual(got, ["2026-03-08T01:00:00-05:00", "2026-03-08T01:30:00-05:00",
                               "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"])

    def test_new_york_fall_back(self):
        # 2026-11-01: 02:00 EDT -> 01:00 EST; 01:xx happens twice.
        self.assertEqual(next_times("30 1 * * *", "--tz", "America/New_York", "--from", "2026-11-01T04:00:00Z",
                                    "-n", "2"),
                         ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"])
        got = next_times("*/30 * * * *", "--tz", "America/New_York", "--from", "2026-11-01T04:59:00Z", "-n", "5")
        self.assertEqual(got, ["2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00",
                               "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00",
                               "2026-11-01T02:00:00-05:00"])

    def test_london_both_transitions(self):
        # 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
        self.assertEqual(next_times("30 1 * * *", "--tz", "Europe/London", "--from", "2026-03-28T12:00:00Z",
                                    "-n", "2"),
                         ["2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"])
        self.assertEqual(next_times("0 * * * *", "--tz", "Europe/London", "--from", "2026-03-29T00:30:00Z",
                                    "-n", "2"),
                         ["2026-03-29T02:00:00+01:00", "2026-03-29T03:00:00+01:00"])
        self.assertEqual(next_times("30 1 * * *", "--tz", "Europe/London", "--from", "2026-10-24T12:00:00Z",
                                    "-n", "2"),
                         ["2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"])
        self.assertEqual(next_times("0 * * * *", "--tz", "Europe/London", "--from", "2026-10-24T23:30:00Z",
                                    "-n", "3"),
                         ["2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00+00:00", "2026-10-25T02:00:00+00:00"])

    def test_market_hours_holidays_and_early_close(self):
        # Wednesday before Thanksgiving 2026, Thanksgiving (closed), the
        # early close on Friday the 27th (13:00).
        got = next_times("*/15 9-16 * * MON-FRI", "--tz", "America/New_York", "--calendar", "XNYS",
                         "--market-hours", "--from", "2026-11-25T20:40:00Z", "-n", "4")
        self.assertEqual(got, ["2026-11-25T15:45:00-05:00", "2026-11-25T16:00:00-05:00",
                               "2026-11-27T09:30:00-05:00", "2026-11-27T09:45:00-05:00"])
        got = next_times("*/15 9-16 * * MON-FRI", "--calendar", "XNYS", "--market-hours",
                         "--from", "2026-11-27T17:50:00Z", "-n", "2")
        self.assertEqual(got, ["2026-11-27T13:00:00-05:00", "2026-11-30T09:30:00-05:00"])
        got = next_times("30 16 * * MON-FRI", "--calendar", "XNYS", "--offset-from-close", "30m",
                         "--from", "2026-11-25T00:00:00Z", "-n", "3")
        self.assertEqual(got, ["2026-11-25T16:30:00-05:00", "2026-11-27T13:30:00-05:00",
                               "2026-11-30T16:30:00-05:00"])
        # Good Friday 2026-04-03 and the weekend are skipped.
        got = next_times("0 12 * * *", "--calendar", "XNYS", "--from", "2026-04-02T18:00:00Z", "-n", "1")
        self.assertEqual(got, ["2026-04-06T12:00:00-04:00"])

    def test_bad_input(self):
        cases = [(["bad"], "expected 5"), (["61 * * * *"], "minute"), (["* * * * *", "--tz", "Mars/Base"], "Mars/Base"),
                 (["* * * * *", "--market-hours"], "--calendar"), (["* * * * *", "--calendar", "LSE"], "LSE"),
                 (["* * * * *", "--from", "yesterday"], "--from"), (["0 0 30 2 *"], "never fires")]
        for args, needle in cases:
            p = tickq("schedule", "next", *args)
            self.assertEqual(p.returncode, 64, (args, p.stderr))
            self.assertIn(needle, p.stderr, args)


CONFIG = """
[scheduler]
lease_ttl = {ttl}
misfire_grace = {grace}

[schedule {name}]
cron = {cron}
task = echo
args = {{"from": "scheduler"}}
queue = sched
misfire = {misfire}
"""


class SchedulerCase(TickqTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-sched-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    def config(self, name="minutely", cron="* * * * *", misfire="run_once", grace="1h", ttl="1s", text=None):
        path = os.path.join(self.tmp, f"{name}.ini")
        with open(path, "w") as f:
            f.write(text if text is not None else CONFIG.format(name=name, cron=cron, misfire=misfire, grace=grace,
                                                                ttl=ttl))
        return path

    def scheduler(self, path):
        log = open(os.path.join(self.tmp, f"scheduler-{len(self.procs)}.log"), "w+")
        e = dict(os.environ, REDIS_URL=self.url)
        p = subprocess.Popen([TICKQ, "scheduler", "--config", path], env=e, stdout=log, stderr=log)
        p.log = log
        self.procs.append(p)
        return p

    def log_of(self, p):
        p.log.flush()
        with open(p.log.name) as f:
            return [json.loads(x) for x in f.read().splitlines() if x.startswith("{")]

    def set_last(self, name, epoch):
        self.r.hset("tickq:scheduler:last", name, str(int(epoch)))

    def jobs(self):
        return sorted(k[len("tickq:job:"):] for k in self.r.keys("tickq:job:*"))


class TestSchedulerFiring(SchedulerCase):
    def test_missed_run_once_enqueues_the_latest_missed_time(self):
        now = time.time()
        self.set_last("minutely", now - 600)   # ten minutes of missed runs
        p = self.scheduler(self.config())
        wait_for(lambda: self.jobs(), timeout=10, what="a job")
        time.sleep(0.5)
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1, jobs)
        self.assertTrue(jobs[0].startswith("minutely:"))
        fired_at = time.mktime(time.strptime(jobs[0][len("minutely:"):], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertEqual(fired_at % 60, 0)
        self.assertTrue(now - 60 < fired_at <= time.time(), (now, fired_at))   # the latest minute, not an old one
        job = self.job(jobs[0])
        self.assertEqual(job["type"], "echo")
        self.assertEqual(job["queue"], "sched")
        self.assertEqual(json.loads(job["args"]), {"from": "scheduler"})
        fired = [x for x in self.log_of(p) if x.get("msg") == "schedule fired"]
        self.assertEqual(len(fired), 1)
        self.assertGreaterEqual(fired[0]["missed_before"], 8)
        stored = int(self.r.hget("tickq:scheduler:last", "minutely"))
        self.assertEqual(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stored)), jobs[0][len("minutely:"):])

    def test_long_downtime_runs_the_latest_minute_once(self):
        now = time.time()
        self.set_last("minutely", now - 400 * 86400)   # 576,000 minutes ago
        self.scheduler(self.config())
        wait_for(lambda: self.jobs(), timeout=5, what="a job")
        time.sleep(0.3)
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1, jobs)
        fired_at = time.mktime(time.strptime(jobs[0][len("minutely:"):], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertTrue(now - 60 < fired_at <= time.time(), (now, fired_at))

    def test_skip_and_past_the_grace_period(self):
        now = time.time()
        # A yearly schedule last fired two years ago: its latest missed time
        # (this Jan 1st) is months old.
        yearly = self.config(name="yearly", cron="0 0 1 1 *", grace="1h")
        self.set_last("yearly", now - 2 * 366 * 86400)
        p = self.scheduler(yearly)
        wait_for(lambda: any(x.get("msg") == "skipped missed runs" for x in self.log_of(p)), timeout=10,
                 what="the skip")
        self.assertEqual(self.jobs(), [])
        jan1 = time.strftime("%Y-01-01T00:00:00Z", time.gmtime(now))
        self.assertEqual(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(self.r.hget("tickq:scheduler:last",
                                                                                         "yearly")))), jan1)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)
        # The same with a grace period of 400 days runs it once.
        self.set_last("yearly", now - 2 * 366 * 86400)
        self.scheduler(self.config(name="yearly", cron="0 0 1 1 *", grace="9600h"))
        wait_for(lambda: self.jobs(), timeout=10, what="the missed yearly job")
        self.assertEqual(self.jobs(), [f"yearly:{jan1}"])
        # misfire = skip never runs a missed time, whatever the grace.
        self.r.flushall()
        self.set_last("yearly", now - 2 * 366 * 86400)
        p = self.scheduler(self.config(name="yearly", cron="0 0 1 1 *", grace="9600h", misfire="skip"))
        wait_for(lambda: any(x.get("msg") == "skipped missed runs" for x in self.log_of(p)), timeout=10,
                 what="the skip")
        self.assertEqual(self.jobs(), [])

    def test_first_start_fires_nothing_from_the_past(self):
        p = self.scheduler(self.config(cron="0 0 1 1 *"))
        wait_for(lambda: any(x.get("msg") == "scheduler holds the lease: firing" for x in self.log_of(p)),
                 timeout=10, what="the lease")
        time.sleep(0.3)
        self.assertEqual(self.jobs(), [])
        self.assertIsNotNone(self.r.hget("tickq:scheduler:last", "minutely"))
        banner = [x for x in self.log_of(p) if x.get("msg") == "schedule"]
        self.assertEqual(len(banner), 1)
        self.assertTrue(banner[0]["next_1_utc"].endswith("-01-01T00:00:00Z"))
        self.assertTrue(banner[0]["next_1"].endswith("+00:00"))

    def test_exactly_once_with_three_schedulers_and_a_killed_leader(self):
        """Three schedulers, one leader. A yearly schedule missed two years
        ago runs once for this Jan 1st. The leader is killed, its state is
        rewound, and the new leader fires the same time again: the job id is
        the fire time, so it is still one job."""
        now = time.time()
        jan1 = time.strftime("%Y-01-01T00:00:00Z", time.gmtime(now))
        self.set_last("yearly", now - 2 * 366 * 86400)
        path = self.config(name="yearly", cron="0 0 1 1 *", grace="9600h")
        procs = [self.scheduler(path) for _ in range(3)]
        wait_for(lambda: self.jobs(), timeout=10, what="a job")
        time.sleep(1.0)
        self.assertEqual(self.jobs(), [f"yearly:{jan1}"])

        def leaders():
            return [p for p in procs if p.poll() is None and any(
                x.get("msg") == "scheduler holds the lease: firing" for x in self.log_of(p))]
        self.assertEqual(len(leaders()), 1)
        old = leaders()[0]
        holder = self.r.get("tickq:scheduler:lease")
        self.assertIn(f":{old.pid}.", holder)
        # The leader dies without giving the lease up; another takes over
        # within the lease's TTL (1 s) plus a renewal interval.
        self.set_last("yearly", now - 2 * 366 * 86400)
        old.kill()
        old.wait()
        t0 = time.time()
        wait_for(lambda: (self.r.get("tickq:scheduler:lease") or holder) != holder, timeout=5,
                 what="a new leader")
        self.assertLess(time.time() - t0, 3.0)
        wait_for(lambda: len(leaders()) == 1, timeout=5, what="the new leader's log")
        new = leaders()[0]
        wait_for(lambda: any(x.get("msg") == "schedule fired (job already enqueued)" for x in self.log_of(new)),
                 timeout=5, what="the double fire")
        self.assertEqual(self.jobs(), [f"yearly:{jan1}"])
        self.assertEqual(self.counters("sched").get("submitted"), 1)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(10), 0)

    def test_redis_restart_the_scheduler_reconnects_and_leads_again(self):
        p = self.scheduler(self.config())
        wait_for(lambda: self.r.get("tickq:scheduler:lease"), timeout=10, what="the lease")
        self.server.stop()
        time.sleep(1.5)
        self.assertIsNone(p.poll())           # still running, waiting for Redis
        self.server.start()
        self.r = self.server.client()
        wait_for(lambda: any(x.get("msg") == "scheduler reconnected to Redis" for x in self.log_of(p)),
                 timeout=10, what="the reconnection")
        holder = wait_for(lambda: self.r.get("tickq:scheduler:lease"), timeout=10, what="the lease again")
        self.assertIn(f":{p.pid}.", holder)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(10), 0)

    def test_graceful_shutdown_gives_the_lease_up(self):
        p = self.scheduler(self.config())
        wait_for(lambda: self.r.get("tickq:scheduler:lease"), timeout=10, what="the lease")
        p.send_signal(signal.SIGINT)
        self.assertEqual(p.wait(10), 0)
        self.assertIsNone(self.r.get("tickq:scheduler:lease"))
        self.assertTrue(any(x.get("msg") == "scheduler stopped" for x in self.log_of(p)))

    def test_worker_with_scheduler_fires_and_runs_the_job(self):
        now = time.time()
        self.set_last("minutely", now - 600)
        w = self.worker("--queues", "sched", "--scheduler", "--schedules", self.config(), "--workers", "1")
        wait_for(lambda: self.jobs(), timeout=10, what="a job")
        jid = self.jobs()[0]
        self.wait_state(jid, "completed")
        self.assertEqual(self.result(jid)["data"]["from"], "scheduler")
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(15), 0)
        self.assertIsNone(self.r.get("tickq:scheduler:lease"))


class TestScheduleConfig(SchedulerCase):
    def test_example_file_lists_four_schedules(self):
        p = tickq("schedule", "list", "--config", os.path.join(ROOT, "examples", "schedules.ini"))
        self.assertEqual(p.returncode, 0, p.stderr)
        names = [line.split(":")[0] for line in p.stdout.splitlines() if not line.startswith(" ")]
        self.assertEqual(names, ["intraday_refresh", "end_of_day", "weekend_analysis", "continuous_refresh"])
        self.assertEqual(sum(1 for line in p.stdout.splitlines() if line.startswith("    ")), 12)

    def test_errors_name_the_line(self):
        cases = [
            ("[schedule a]\ncron = * * * * *\ntask = echo\nbogus = 1\n", ":4: unknown key 'bogus'"),
            ("[schedule a]\ncron = 99 * * * *\ntask = echo\n", "minute"),
            ("[schedule a]\ntask = echo\n", "has no cron expression"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\nargs = [1]\n", ":4: args must be a JSON object"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\ntimezone = Nowhere/Land\n", "Nowhere/Land"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\nmarket_hours = true\n", "need calendar = XNYS"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\n[schedule b]\ncron = * * * * *\ntask = echo\n"
             "[schedule a]\ncron = * * * * *\n", ":8: schedule 'a' is defined twice"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\ncron = 1 * * * *\n", ":4: 'cron' is set twice"),
            ("[scheduler]\nlease_ttl = soon\n[schedule a]\ncron = * * * * *\ntask = echo\n", ":2: lease_ttl"),
            ("[weird]\nx = 1\n", "unknown section [weird]"),
            ("[schedule a]\ncron = * * * * *\ntask = update_stok_data\n", "unknown task type 'update_stok_data'"),
            ("[scheduler]\n", "no schedules"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\ncalendar = XNYS\ntimezone = Europe/London\n",
             "New York time"),
        ]
        for text, needle in cases:
            path = self.config(text=text)
            p = tickq("schedule", "list", "--config", path)
            self.assertEqual(p.returncode, 78, (text, p.stderr))
            self.assertIn(needle, p.stderr, text)
        p = tickq("scheduler", "--config", os.path.join(self.tmp, "missing.ini"), url=self.url)
        self.assertEqual(p.returncode, 78)
        self.assertIn("cannot read", p.stderr)
        # worker --check checks the schedules file too.
        good = os.path.join(ROOT, "examples", "schedules.ini")
        p = tickq("worker", "--check", "--scheduler", "--schedules", good, url=self.url)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   schedules: 4 in", p.stdout)
        p = tickq("worker", "--check", "--scheduler", "--schedules", self.config(text="[scheduler]\n"), url=self.url)
        self.assertEqual(p.returncode, 78)
        self.assertIn("FAIL schedules:", p.stdout)


class TestExampleSchedules(SchedulerCase):
    def test_every_example_schedule_runs_its_task(self):
        """The jobs examples/schedules.ini fires are valid: each task runs to
        completion with its args (update_stock_data with a csv_dir provider
        set in the worker's environment, as a deployment would)."""
        import configparser
        cp = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
        cp.read(os.path.join(ROOT, "examples", "schedules.ini"))
        db = os.path.join(self.tmp, "bars.db")
        env = {"TICKQ_DB": db}
        p = tickq("data", "synth", "--symbols", "3", "--days", "300", "--out", os.path.join(self.tmp, "all.csv"))
        self.assertEqual(p.returncode, 0, p.stderr)
        folder = os.path.join(self.tmp, "feed")
        os.mkdir(folder)
        rows = {}
        with open(os.path.join(self.tmp, "all.csv")) as f:
            next(f)
            for line in f:
                sym, rest = line.split(",", 1)
                rows.setdefault(sym, []).append(rest)
        for sym, lines in rows.items():
            with open(os.path.join(folder, f"{sym}.csv"), "w") as f:
                f.write("date,open,high,low,close,volume\n" + "".join(lines))
        env.update({"TICKQ_MARKET_DATA_PROVIDER": "csv_dir", "TICKQ_MARKET_DATA_PATH": folder})
        order = ["intraday_refresh", "continuous_refresh", "end_of_day", "weekend_analysis"]
        self.assertEqual(sorted(order), sorted(s[len("schedule "):] for s in cp.sections() if s.startswith("schedule ")))
        for name in order:
            sec = cp[f"schedule {name}"]
            jid = self.enqueue(sec["task"], sec.get("args", "{}"), "--queue", "examples", "--id", name)
            status, w = self.burst("--queues", "examples", "--workers", "1", env=env)
            self.assertEqual(status, 0, w.log())
            res = self.result(jid)
            self.assertEqual(res["status"], "completed", (name, res))
