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
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from harness import ROOT, TICKQ, TickqTestCase, tickq, wait_for, write_bars_csv


def next_times(expr, *args):
    p = tickq("schedule", "next", expr, *args)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def yearly_after(now, zone, month, day, hour, minute, n=3):
    """The next n times local month-day hour:minute in zone after epoch
    `now`, as (local ISO with offset, UTC ...Z) pairs."""
    out, year = [], datetime.fromtimestamp(now, timezone.utc).year - 1
    while len(out) < n:
        t = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))
        if t.timestamp() > now:
            out.append((t.isoformat(), t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
        year += 1
    return out


def every_minute_but_the_next_few(now, gap=3):
    """A cron (UTC) that fires every minute except the `gap` after the one
    `now` is in: its latest time at or before now is that minute's start,
    and its next one is over `gap` minutes away, so a minute boundary
    passing during a test cannot make it fire again (as `* * * * *`
    rightly would)."""
    cur = time.gmtime(now).tm_min
    skip = {(cur + i) % 60 for i in range(1, gap + 1)}
    ranges, start = [], None
    for m in range(61):
        if m < 60 and m not in skip:
            start = m if start is None else start
        elif start is not None:
            ranges.append(f"{start}-{m - 1}" if m - 1 > start else str(start))
            start = None
    return ",".join(ranges) + " * * * *"


def fire_epoch(job_id):
    """The fire time in a job id "<schedule>:YYYY-MM-DDTHH:MM:SSZ"."""
    stamp = job_id.split(":", 1)[1]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


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

    def test_hour_step_follows_the_clock(self):
        # An hour field starting with `*` follows the clock: no fire for the
        # skipped 02:00; 0-23/2 names the same hours as fixed ones.
        self.assertEqual(next_times("0 */2 * * *", "--tz", "America/New_York", "--from", "2026-03-08T04:00:00Z",
                                    "-n", "3"),
                         ["2026-03-08T00:00:00-05:00", "2026-03-08T04:00:00-04:00", "2026-03-08T06:00:00-04:00"])
        self.assertEqual(next_times("0 0-23/2 * * *", "--tz", "America/New_York", "--from", "2026-03-08T04:00:00Z",
                                    "-n", "3"),
                         ["2026-03-08T00:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"])
        self.assertEqual(next_times("0 */2 * * *", "--tz", "Europe/London", "--from", "2026-10-24T22:00:00Z",
                                    "-n", "3"),
                         ["2026-10-25T00:00:00+01:00", "2026-10-25T02:00:00+00:00", "2026-10-25T04:00:00+00:00"])

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

    def test_config_closures_apply_to_next(self):
        """--config FILE: the closures of its [scheduler] section close XNYS
        on those days for `schedule next` too; without --config they do not,
        a closure needs --calendar XNYS, and a missing or bad file is an
        error (78), not ignored."""
        tmp = tempfile.mkdtemp(prefix="tickq-sched-")
        self.addCleanup(shutil.rmtree, tmp, True)

        def write(name, text):
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            return path
        schedule = "[schedule a]\ncron = 0 10 * * *\ntask = echo\n"
        # Tuesday 2026-03-10, a trading day, closed by the file.
        closed = write("closed.ini", "[scheduler]\nlease_ttl = 5s\nclosures = 2026-03-10\n\n" + schedule)
        args = ("0 10 * * *", "--tz", "America/New_York", "--calendar", "XNYS", "--from", "2026-03-09T00:00:00Z",
                "-n", "3")
        self.assertEqual(next_times(*args),
                         ["2026-03-09T10:00:00-04:00", "2026-03-10T10:00:00-04:00", "2026-03-11T10:00:00-04:00"])
        self.assertEqual(next_times(*args, "--config", closed),
                         ["2026-03-09T10:00:00-04:00", "2026-03-11T10:00:00-04:00", "2026-03-12T10:00:00-04:00"])
        # A file without closures changes nothing (its other settings govern firing only).
        self.assertEqual(next_times(*args, "--config", write("open.ini", "[scheduler]\nmisfire_grace = 2h\n"
                                                                          + schedule)),
                         next_times(*args))
        # The closures cannot apply without the calendar: refused, not ignored.
        p = tickq("schedule", "next", "0 10 * * *", "--from", "2026-03-09T00:00:00Z", "--config", closed)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("add --calendar XNYS", p.stderr)
        self.assertEqual(p.stdout, "")
        missing = os.path.join(tmp, "missing.ini")
        p = tickq("schedule", "next", *args, "--config", missing)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f"cannot read {missing}", p.stderr)
        self.assertEqual(p.stdout, "")
        bad = write("bad.ini", "[scheduler]\nclosures = 2026-13-01\n\n" + schedule)
        p = tickq("schedule", "next", *args, "--config", bad)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f"{bad}:2: closures: '2026-13-01' is not a date", p.stderr)


CONFIG = """
[scheduler]
lease_ttl = {ttl}
misfire_grace = {grace}

[schedule {name}]
cron = {cron}
task = echo
args = {{"from": "scheduler"}}
queue = sched
timeout = 10m
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
        p = self.scheduler(self.config(cron=every_minute_but_the_next_few(now)))
        wait_for(lambda: self.jobs(), timeout=10, what="a job")
        time.sleep(0.5)  # time passes: no second job may follow
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1, jobs)
        self.assertTrue(jobs[0].startswith("minutely:"))
        self.assertEqual(fire_epoch(jobs[0]), now // 60 * 60)   # the latest minute, not an old one
        job = self.job(jobs[0])
        self.assertEqual(job["type"], "echo")
        self.assertEqual(job["queue"], "sched")
        self.assertEqual(job["timeout_ms"], "600000")  # the schedule's own timeout
        self.assertEqual(json.loads(job["args"]), {"from": "scheduler"})
        fired = [x for x in self.log_of(p) if x.get("msg") == "schedule fired"]
        self.assertEqual(len(fired), 1)
        self.assertGreaterEqual(fired[0]["missed_before"], 8)
        stored = int(self.r.hget("tickq:scheduler:last", "minutely"))
        self.assertEqual(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stored)), jobs[0][len("minutely:"):])

    def test_a_long_name_keeps_the_last_fire_its_cut_name_stored(self):
        """Before 2026-12-07 a schedule name past 40 characters was read cut
        to its first 40 (libinih kept 49 bytes of a header), and its last
        fire stored so. Its whole name is read now; the cut name's last
        fire is its own, so the runs missed across the upgrade are caught
        up (run_once) as they were before it, not dropped as a new
        schedule's would be."""
        now = time.time()
        name = "refresh_options_data_every_15_min_in_market_hours"   # 49 characters
        self.set_last(name[:40], now - 600)
        self.scheduler(self.config(name=name, cron=every_minute_but_the_next_few(now)))
        wait_for(lambda: self.jobs(), timeout=10, what="the missed run")
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1, jobs)
        self.assertTrue(jobs[0].startswith(name + ":"), jobs)
        self.assertEqual(fire_epoch(jobs[0]), now // 60 * 60)
        self.assertEqual(int(self.r.hget("tickq:scheduler:last", name)), now // 60 * 60)

    def test_long_downtime_runs_the_latest_minute_once(self):
        now = time.time()
        self.set_last("minutely", now - 400 * 86400)   # some 547,000 fire times ago
        self.scheduler(self.config(cron=every_minute_but_the_next_few(now)))
        wait_for(lambda: self.jobs(), timeout=5, what="a job")
        time.sleep(0.3)  # time passes: no second job may follow
        jobs = self.jobs()
        self.assertEqual(len(jobs), 1, jobs)
        self.assertEqual(fire_epoch(jobs[0]), now // 60 * 60)   # the latest minute

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
        # The same with a grace period of a year (8784h, the longest) runs it once.
        self.set_last("yearly", now - 2 * 366 * 86400)
        self.scheduler(self.config(name="yearly", cron="0 0 1 1 *", grace="8784h"))
        wait_for(lambda: self.jobs(), timeout=10, what="the missed yearly job")
        self.assertEqual(self.jobs(), [f"yearly:{jan1}"])
        # misfire = skip never runs a missed time, whatever the grace.
        self.r.flushall()
        self.set_last("yearly", now - 2 * 366 * 86400)
        p = self.scheduler(self.config(name="yearly", cron="0 0 1 1 *", grace="8784h", misfire="skip"))
        wait_for(lambda: any(x.get("msg") == "skipped missed runs" for x in self.log_of(p)), timeout=10,
                 what="the skip")
        self.assertEqual(self.jobs(), [])

    def test_first_start_fires_nothing_from_the_past(self):
        """A minutely schedule with no stored state would have fired at every
        past minute: on its first start nothing before the start is
        enqueued, not even the minute just gone (which, taken as missed,
        would be on time and within any grace)."""
        t0 = time.time()
        p = self.scheduler(self.config(cron="* * * * *"))
        wait_for(lambda: any(x.get("msg") == "scheduler holds the lease: firing" for x in self.log_of(p)),
                 timeout=10, what="the lease")
        wait_for(lambda: int(self.r.hget("tickq:scheduler:last", "minutely") or 0) >= int(t0), timeout=10,
                 what="the state stored from the start")
        for jid in self.jobs():                  # a minute may have begun meanwhile: only that one
            self.assertGreaterEqual(fire_epoch(jid), t0, jid)
        self.assertLessEqual(len(self.jobs()), 1)
        self.assertGreaterEqual(int(self.r.hget("tickq:scheduler:last", "minutely")), int(t0))
        msgs = [x.get("msg") for x in self.log_of(p)]
        self.assertNotIn("ran a missed schedule once", msgs)
        self.assertNotIn("skipped missed runs", msgs)

    def test_banner_lists_the_next_three_fire_times(self):
        text = ("[schedule newyear]\ncron = 0 0 1 1 *\ntask = echo\n\n"
                "[schedule july]\ncron = 0 12 1 7 *\ntimezone = America/New_York\ntask = echo\n")
        now = time.time()
        p = self.scheduler(self.config(text=text))
        banner = wait_for(lambda: [x for x in self.log_of(p) if x.get("msg") == "schedule"], timeout=10,
                          what="the banner")
        self.assertEqual([(b["name"], b["cron"], b["timezone"], b["task"]) for b in banner],
                         [("newyear", "0 0 1 1 *", "UTC", "echo"), ("july", "0 12 1 7 *", "America/New_York", "echo")])
        for b, zone, month, hour in ((banner[0], "UTC", 1, 0), (banner[1], "America/New_York", 7, 12)):
            want = yearly_after(now, zone, month, 1, hour, 0)
            got = [(b[f"next_{k}"], b[f"next_{k}_utc"]) for k in (1, 2, 3)]
            self.assertEqual(got, want)
        self.assertTrue(banner[0]["next_1"].endswith("-01-01T00:00:00+00:00"))
        self.assertTrue(banner[1]["next_3"].endswith("-07-01T12:00:00-04:00"))
        self.assertTrue(banner[1]["next_3_utc"].endswith("-07-01T16:00:00Z"))

    def test_defaults_run_once_within_an_hour_on_backtest_normal(self):
        """Neither misfire nor misfire_grace, queue nor priority set: a daily
        time missed by 50 minutes runs once (run_once, grace 1 h) on
        backtest/normal; one missed by 70 minutes is past the grace."""
        now = time.time()
        in_grace, past_grace = (time.gmtime(now - 50 * 60), time.gmtime(now - 70 * 60))
        text = (f"[schedule recent]\ncron = {in_grace.tm_min} {in_grace.tm_hour} * * *\ntask = echo\n\n"
                f"[schedule older]\ncron = {past_grace.tm_min} {past_grace.tm_hour} * * *\ntask = echo\n")
        self.set_last("recent", now - 3 * 86400)
        self.set_last("older", now - 3 * 86400)
        p = self.scheduler(self.config(text=text))
        wait_for(lambda: any(x.get("msg") == "skipped missed runs" for x in self.log_of(p)) and self.jobs(),
                 timeout=10, what="the run and the skip")
        # The skipped schedule's state is recorded just after its log line.
        wait_for(lambda: int(self.r.hget("tickq:scheduler:last", "older")) != int(now - 3 * 86400), timeout=5,
                 what="the skipped schedule's state")
        want = time.strftime("%Y-%m-%dT%H:%M:00Z", in_grace)
        self.assertEqual(self.jobs(), [f"recent:{want}"])
        job = self.job(f"recent:{want}")
        self.assertEqual((job["type"], job["queue"], job["priority"]), ("echo", "backtest", "normal"))
        # No timeout set: the job's is the worker's default (0 in the record).
        self.assertEqual((job["max_retries"], job["timeout_ms"]), ("3", "0"))
        self.assertEqual(self.stream_len("backtest_normal"), 1)
        log = self.log_of(p)
        ran = [x for x in log if x.get("msg") == "ran a missed schedule once"]
        self.assertEqual([x["schedule"] for x in ran], ["recent"])
        self.assertTrue(50 * 60 <= ran[0]["late_s"] < 51 * 60, ran)
        fired = [x for x in log if x.get("msg") == "schedule fired"]
        self.assertEqual([(x["schedule"], x["queue"], x["job_id"]) for x in fired],
                         [("recent", "backtest", f"recent:{want}")])
        skipped = [x for x in log if x.get("msg") == "skipped missed runs"]
        self.assertEqual([(x["schedule"], x["misfire"]) for x in skipped],
                         [("older", "run_once (past the grace period)")])
        self.assertEqual(time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(int(self.r.hget("tickq:scheduler:last",
                                                                                         "older")))),
                         time.strftime("%Y-%m-%dT%H:%M:00Z", past_grace))

    def test_exactly_once_with_three_schedulers_and_a_killed_leader(self):
        """Three schedulers, one leader. A yearly schedule missed two years
        ago runs once for this Jan 1st. The leader is killed, its state is
        rewound, and the new leader fires the same time again: the job id is
        the fire time, so it is still one job."""
        now = time.time()
        jan1 = time.strftime("%Y-01-01T00:00:00Z", time.gmtime(now))
        self.set_last("yearly", now - 2 * 366 * 86400)
        path = self.config(name="yearly", cron="0 0 1 1 *", grace="8784h")
        procs = [self.scheduler(path) for _ in range(3)]
        wait_for(lambda: self.jobs(), timeout=10, what="a job")
        wait_for(lambda: sum(any(x.get("msg") == "another scheduler holds the lease: standing by"
                                 for x in self.log_of(p)) for p in procs) == 2, timeout=10, what="the two standbys")
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
        wait_for(lambda: (self.r.get("tickq:scheduler:lease") or holder) != holder, timeout=10,
                 what="a new leader")
        self.assertLess(time.time() - t0, 6.0)   # it did not wait for ever (the TTL is 1 s)
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
        self.addCleanup(lambda: self.server.proc is None and self.server.start())   # for the next test, if this fails
        self.server.stop()
        # It notices at its next lease renewal (or, mid-fire, at the enqueue) and stops firing.
        standby = ("standing by until the lease is renewed", "lost Redis: standing by until it is back")
        wait_for(lambda: any(x.get("msg") in standby for x in self.log_of(p)), timeout=10,
                 what="the scheduler to notice")
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
        for sig in (signal.SIGINT, signal.SIGTERM):
            p = self.scheduler(self.config())
            wait_for(lambda: self.r.get("tickq:scheduler:lease"), timeout=10, what="the lease")
            t0 = time.time()
            p.send_signal(sig)
            self.assertEqual(p.wait(10), 0)
            self.assertLess(time.time() - t0, 2.0)
            self.assertIsNone(self.r.get("tickq:scheduler:lease"))
            self.assertEqual(self.log_of(p)[-1].get("msg"), "scheduler stopped")

    def test_sigterm_stops_firing_at_once(self):
        """A standby scheduler is frozen; meanwhile the lease frees up and a
        missed run waits in its state. SIGTERM then SIGCONT: it must exit
        without another look at the lease, so nothing fires. A fresh
        scheduler in its place fires that run at once (the control)."""
        self.r.set("tickq:scheduler:lease", "elsewhere:1.beef", px=60000)
        now = time.time()
        self.set_last("minutely", now - 600)
        path = self.config(cron=every_minute_but_the_next_few(now))
        p = self.scheduler(path)
        wait_for(lambda: any(x.get("msg") == "another scheduler holds the lease: standing by"
                             for x in self.log_of(p)), timeout=10, what="the standby")
        p.send_signal(signal.SIGSTOP)
        self.r.delete("tickq:scheduler:lease")
        time.sleep(0.6)                           # past its next lease look (every ttl/3)
        p.send_signal(signal.SIGTERM)
        t0 = time.time()
        p.send_signal(signal.SIGCONT)
        self.assertEqual(p.wait(5), 0)
        self.assertLess(time.time() - t0, 2.0)
        self.assertEqual(self.jobs(), [])
        self.assertIsNone(self.r.get("tickq:scheduler:lease"))
        msgs = [x.get("msg") for x in self.log_of(p)]
        self.assertNotIn("scheduler holds the lease: firing", msgs)
        self.assertEqual(msgs[-1], "scheduler stopped")
        q = self.scheduler(path)
        wait_for(lambda: self.jobs(), timeout=10, what="the control's job")
        q.send_signal(signal.SIGTERM)
        self.assertEqual(q.wait(10), 0)
        self.assertEqual(self.jobs(), [f"minutely:{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now // 60 * 60))}"])

    def test_shutdown_wait_bounds_the_work_in_flight(self):
        """shutdown_wait bounds each Redis call of the scheduler: with Redis
        frozen, SIGTERM still ends the scheduler (exit 0) within about that
        time, and a longer setting waits longer."""
        def stop_with_frozen_redis(wait):
            text = (f"[scheduler]\nshutdown_wait = {wait}\nlease_ttl = 1s\n\n"
                    "[schedule minutely]\ncron = * * * * *\ntask = echo\n")
            p = self.scheduler(self.config(text=text))
            wait_for(lambda: self.r.get("tickq:scheduler:lease"), timeout=10, what="the lease")
            time.sleep(0.2)                       # the scheduler goes on from taking the lease into its loop
            os.kill(self.server.proc.pid, signal.SIGSTOP)
            try:
                time.sleep(0.5)                   # a lease renewal is now stuck
                t0 = time.time()
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(20), 0)
                took = time.time() - t0
            finally:
                os.kill(self.server.proc.pid, signal.SIGCONT)
            self.assertIn("cannot release the scheduler lease; it expires by itself",
                          [x.get("msg") for x in self.log_of(p)])
            return took
        short = stop_with_frozen_redis("1s")
        self.assertLess(short, 3.5)
        longer = stop_with_frozen_redis("3s")
        self.assertGreater(longer, 2.5)
        self.assertLess(longer, 9.5)

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


class TestScheduleChains(SchedulerCase):
    CHAIN = """
[scheduler]
lease_ttl = 1s

[schedule data]
cron = * * * * *
task = sleep
args = {"ms": 100}
queue = sched

[schedule options]
after = data
task = echo
args = {"step": "options"}
queue = sched

[schedule iv]
after = options
task = echo
args = {"step": "iv"}
queue = sched
priority = high

[schedule scan]
after = options
task = noop
queue = other
"""

    def test_a_chain_fires_as_dependent_jobs_and_runs_in_order(self):
        now = time.time()
        self.set_last("data", now - 120)   # a minute missed: due at once (run_once)
        p = self.scheduler(self.config(text=self.CHAIN))
        wait_for(lambda: len(self.jobs()) == 4, timeout=15, what="the chain's four jobs")
        jobs = self.jobs()
        when = next(j for j in jobs if j.startswith("data:"))[len("data:"):]
        self.assertEqual(jobs, sorted(f"{n}:{when}" for n in ("data", "options", "iv", "scan")))
        states = {j.split(":")[0]: self.job(j)["state"] for j in jobs}
        self.assertEqual(states, {"data": "queued", "options": "deferred", "iv": "deferred", "scan": "deferred"})
        self.assertEqual(self.r.lrange(f"tickq:deps:iv:{when}", 0, -1), [f"options:{when}"])
        self.assertEqual(self.r.lrange(f"tickq:deps:scan:{when}", 0, -1), [f"options:{when}"])
        self.assertEqual((self.job(f"iv:{when}")["priority"], self.job(f"scan:{when}")["queue"]), ("high", "other"))
        fired = [x for x in self.log_of(p) if x.get("msg") == "schedule fired"]
        self.assertEqual(sorted(x["schedule"] for x in fired), ["data", "iv", "options", "scan"])
        self.assertEqual(next(x for x in fired if x["schedule"] == "iv")["after"], f"options:{when}")
        self.assertEqual(self.r.hgetall("tickq:scheduler:fires"), {"data": "1", "options": "1", "iv": "1", "scan": "1"})
        self.assertIsNone(self.r.hget("tickq:scheduler:last", "options"))   # no times of its own
        status, w = self.burst("--queues", "sched,other", "--workers", "2")
        self.assertEqual(status, 0, w.log())
        recs = {n: self.job(f"{n}:{when}") for n in ("data", "options", "iv", "scan")}
        self.assertEqual({n: r["state"] for n, r in recs.items()}, dict.fromkeys(recs, "completed"))
        self.assertGreaterEqual(int(recs["options"]["started_us"]), int(recs["data"]["finished_us"]))
        for n in ("iv", "scan"):
            self.assertGreaterEqual(int(recs[n]["started_us"]), int(recs["options"]["finished_us"]))

    def test_api_schedules_shows_the_chain(self):
        from http_harness import Serve, request
        path = self.config(text=self.CHAIN)
        s = Serve(self.url, "--http", "127.0.0.1:0", "--config", path)
        try:
            line = wait_for(lambda: next((json.loads(x) for x in s.log().splitlines()
                                          if x.startswith("{") and "http server listening" in x), None),
                            timeout=20, what="the API to listen")
            body = json.loads(request(line["port"], "GET", "/api/schedules").body)
        finally:
            s.close()
        by_name = {x["name"]: x for x in body["schedules"]}
        self.assertEqual((by_name["iv"]["after"], by_name["iv"]["cron"], by_name["iv"]["next"]), ("options", None, []))
        self.assertNotIn("after", by_name["data"])
        self.assertEqual(len(by_name["data"]["next"]), 3)


class TestWorkerSchedulerShutdown(SchedulerCase):
    def test_sigterm_stops_firing_and_lets_the_running_job_finish(self):
        """worker --scheduler, SIGTERM while a 2 s job runs: the scheduler
        gives the lease up at once (before the job ends), the job completes
        within --grace, nothing more is fired, exit 0."""
        text = ('[scheduler]\nlease_ttl = 1s\n\n[schedule sleeper]\ncron = * * * * *\ntask = sleep\n'
                'args = {"ms": 2000}\nqueue = sched\n')
        self.set_last("sleeper", time.time() - 600)
        w = self.worker("--queues", "sched", "--scheduler", "--schedules", self.config(text=text), "--workers", "1",
                        "--grace", "10")
        jid = wait_for(lambda: self.jobs(), timeout=10, what="the fired job")[0]
        self.wait_running(jid)
        # "running" is written at the claim: a stop before the child starts the job hands it back
        # unstarted (uncharged), which is not what this test is about. Its "job started" line
        # (written at once for a job that may be slow) says it runs.
        wait_for(lambda: any(isinstance(x, dict) and x.get("msg") == "job started" and x.get("job_id") == jid
                             for x in w.log_lines()), timeout=10, what="the child to start the job")
        self.assertIsNotNone(self.r.get("tickq:scheduler:lease"))
        t0 = time.time()
        w.signal(signal.SIGTERM)
        wait_for(lambda: self.r.get("tickq:scheduler:lease") is None, timeout=2, what="the lease given up")
        self.assertNotEqual(self.state(jid), "completed")   # still running
        self.assertEqual(w.wait(15), 0)
        self.assertLess(time.time() - t0, 5.0)
        self.assertEqual(self.state(jid), "completed")
        self.assertEqual(self.result(jid)["status"], "completed")
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(self.jobs(), [jid])
        self.assertIsNone(self.r.get("tickq:scheduler:lease"))


class TestScheduleConfig(SchedulerCase):
    def test_example_file_lists_its_schedules_and_the_daily_chain(self):
        p = tickq("schedule", "list", "--config", os.path.join(ROOT, "examples", "schedules.ini"))
        self.assertEqual(p.returncode, 0, p.stderr)
        names = [line.split(":")[0] for line in p.stdout.splitlines() if not line.startswith(" ")]
        self.assertEqual(names, ["intraday_refresh", "end_of_day", "weekend_analysis", "continuous_refresh",
                                 "daily_data", "daily_options", "daily_iv", "daily_scan"])
        self.assertEqual(sum(1 for line in p.stdout.splitlines() if line.startswith("    ")), 15)
        self.assertIn("daily_iv: after daily_options -> calculate_iv_analysis on backtest/normal", p.stdout)

    def test_list_shows_zone_utc_queue_and_priority(self):
        text = ("[schedule newyear]\ncron = 0 0 1 1 *\ntask = echo\n\n"
                "[schedule july]\ncron = 0 12 1 7 *\ntimezone = America/New_York\ntask = echo\nqueue = sched\n"
                "priority = high\n\n"
                "[schedule session]\ncron = */15 9-16 * * MON-FRI\ncalendar = XNYS\nmarket_hours = true\n"
                "task = noop\npriority = low\n\n"
                "[schedule eod]\ncron = 0 0 * * MON-FRI\ncalendar = XNYS\noffset_from_close = 30m\ntask = noop\n")
        now = time.time()
        p = tickq("schedule", "list", "--config", self.config(text=text))
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        heads = [x for x in lines if not x.startswith(" ")]
        self.assertEqual(heads, [
            "newyear: 0 0 1 1 * (UTC) -> echo on backtest/normal",
            "july: 0 12 1 7 * (America/New_York) -> echo on sched/high",
            "session: */15 9-16 * * MON-FRI (America/New_York), XNYS, market hours -> noop on backtest/low",
            "eod: 0 0 * * MON-FRI (America/New_York), XNYS, relative to the close -> noop on backtest/normal"])
        times = {}
        for x in lines:
            if not x.startswith(" "):
                name = x.split(":")[0]
                times[name] = []
            else:
                self.assertRegex(x, r"^    \S+  \(\S+Z\)$")
                local, utc = x.split()
                times[name].append((local, utc[1:-1]))
        self.assertEqual(times["newyear"], yearly_after(now, "UTC", 1, 1, 0, 0))
        self.assertEqual(times["july"], yearly_after(now, "America/New_York", 7, 1, 12, 0))
        for name in ("session", "eod"):
            self.assertEqual(len(times[name]), 3)
            for local, utc in times[name]:   # the UTC column is the local time's instant
                self.assertEqual(datetime.fromisoformat(local).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                 utc)
                hm = local[11:16]
                if name == "eod":
                    self.assertIn(hm, ("16:30", "13:30"))
                else:
                    self.assertTrue("09:30" <= hm <= "16:00" and hm[3:] in ("00", "15", "30", "45"), local)
        # -n changes how many
        p = tickq("schedule", "list", "--config", self.config(text=text), "-n", "5")
        self.assertEqual(sum(1 for x in p.stdout.splitlines() if x.startswith("    ")), 20)

    def test_closures_skip_those_days(self):
        """closures = ... in [scheduler] closes the exchange on those days:
        an XNYS schedule skips them (the same file without them is the
        control)."""
        got = next_times("0 12 * * *", "--calendar", "XNYS", "-n", "6")
        days = [t[:10] for t in got]
        base = "[schedule noon]\ncron = 0 12 * * *\ncalendar = XNYS\ntask = echo\n"

        def listed(text):
            p = tickq("schedule", "list", "--config", self.config(text=text), "-n", "3")
            self.assertEqual(p.returncode, 0, p.stderr)
            return [x.split()[0] for x in p.stdout.splitlines() if x.startswith("    ")]
        self.assertEqual(listed(base), got[:3])
        closed = f"[scheduler]\nclosures = {days[0]}, {days[2]},{days[3]}\n\n" + base
        self.assertEqual(listed(closed), [got[1], got[4], got[5]])
        # The scheduler's banner reads the same calendar.
        p = self.scheduler(self.config(text=closed))
        banner = wait_for(lambda: [x for x in self.log_of(p) if x.get("msg") == "schedule"], timeout=10,
                          what="the banner")
        self.assertEqual([banner[0][f"next_{k}"] for k in (1, 2, 3)], [got[1], got[4], got[5]])

    def test_errors_name_the_line(self):
        cases = [
            ("[schedule a]\ncron = * * * * *\ntask = echo\nbogus = 1\n", ":4: unknown key 'bogus'"),
            ("[schedule a]\ncron = 99 * * * *\ntask = echo\n", "minute"),
            ("[schedule a]\ntask = echo\n", "has no cron expression"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\nargs = [1]\n", ":4: args must be a JSON object"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\ntimezone = Nowhere/Land\n", "Nowhere/Land"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\nmarket_hours = true\n", "need calendar = XNYS"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\n[schedule b]\ncron = * * * * *\ntask = echo\n"
             "[schedule a]\ncron = * * * * *\n", ":7: [schedule a] appears twice (first at line 1)"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\ncron = 1 * * * *\n", ":4: 'cron' is set twice"),
            ("[scheduler]\nlease_ttl = soon\n[schedule a]\ncron = * * * * *\ntask = echo\n", ":2: lease_ttl"),
            ("[scheduler]\nclosures = 2027-01-04, 2027-13-01\n[schedule a]\ncron = * * * * *\ntask = echo\n",
             ":2: closures: '2027-13-01' is not a date (YYYY-MM-DD)"),
            ("[weird]\nx = 1\n", "unknown section [weird]"),
            ("[schedule a]\ncron = * * * * *\ntask = update_stok_data\n", "unknown task type 'update_stok_data'"),
            ("[scheduler]\n", "no schedules"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\ncalendar = XNYS\ntimezone = Europe/London\n",
             "New York time"),
            ("[schedule a]\nafter = b\ntask = echo\n", ":2: [schedule a]: after = b, which is not a schedule"),
            ("[schedule a]\nafter = a\ntask = echo\n", "cannot run after itself"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\n[schedule b]\nafter = c\ntask = echo\n"
             "[schedule c]\nafter = b\ntask = echo\n", ":5: [schedule b]: its after = ... chain loops back"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\n[schedule b]\nafter = a\ncron = * * * * *\ntask = echo\n",
             "[schedule b] runs after a: its times are a's, so it takes no cron"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\n[schedule b]\nafter = a\nmisfire = skip\ntask = echo\n",
             "takes no cron, timezone, calendar, market_hours, offset_from_close or misfire"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\n[schedule b]\nafter = a\n", "[schedule b] has no task"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\n" +
             "".join(f"[schedule s{i}]\nafter = a\ntask = echo\n" for i in range(16)),
             ":2: [schedule a] has 16 schedules running after it, directly or not: at most 15 in one chain"),
        ]
        for text, needle in cases:
            path = self.config(text=text)
            p = tickq("schedule", "list", "--config", path)
            self.assertEqual(p.returncode, 78, (text, p.stderr))
            self.assertIn(needle, p.stderr, text)
        p = tickq("scheduler", "--config", os.path.join(self.tmp, "missing.ini"), url=self.url)
        self.assertEqual(p.returncode, 78)
        self.assertIn("cannot read", p.stderr)
        p = tickq("schedule", "list", "--config", self.tmp)  # a directory is not an empty file
        self.assertEqual(p.returncode, 78)
        self.assertIn(f"cannot read {self.tmp}: Is a directory", p.stderr)
        # worker --check checks the schedules file too, and each schedule's
        # task args as this worker would run them: the example's market-data
        # schedules take their provider from the worker's environment.
        good = os.path.join(ROOT, "examples", "schedules.ini")
        no_provider = {"TICKQ_MARKET_DATA_PROVIDER": None, "TICKQ_MARKET_DATA_PATH": None}
        p = tickq("worker", "--check", "--scheduler", "--schedules", good, url=self.url, env=no_provider)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("FAIL schedule intraday_refresh: its task update_stock_data would fail at every run", p.stdout)
        provider = {"TICKQ_MARKET_DATA_PROVIDER": "csv_dir", "TICKQ_MARKET_DATA_PATH": self.tmp}
        p = tickq("worker", "--check", "--scheduler", "--schedules", good, url=self.url, env=provider)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   schedules: 8 in", p.stdout)
        p = tickq("worker", "--check", "--scheduler", "--schedules", self.config(text="[scheduler]\n"), url=self.url)
        self.assertEqual(p.returncode, 78)
        self.assertIn("FAIL schedules:", p.stdout)


class TestScheduleConfigBounds(SchedulerCase):
    """What the file is read with: a schedule that loads can always be
    enqueued (its job passes the enqueue's checks at every fire), each
    duration has its bounds, a section and a key are given once, and a
    value cut by an inline comment is said to be."""

    def refused(self, path, said):
        """schedule list, worker --check --scheduler and the scheduler all
        refuse the file (exit 78), naming the file, the line and the fault."""
        p = tickq("schedule", "list", "--config", path)
        self.assertEqual(p.returncode, 78, (p.stdout, p.stderr))
        self.assertIn(f"{path}:{said}", p.stderr)
        p = tickq("worker", "--check", "--scheduler", "--config", path, url=self.url)
        self.assertEqual(p.returncode, 78, (p.stdout, p.stderr))
        self.assertIn(f"{path}:{said}", p.stdout + p.stderr)
        s = self.scheduler(path)
        self.assertEqual(s.wait(10), 78)
        s.log.seek(0)
        self.assertIn(f"{path}:{said}", s.log.read())

    def test_a_job_the_enqueue_would_refuse_is_refused_when_the_file_is_read(self):
        base = "[schedule longto]\ncron = * * * * *\ntask = echo\nargs = {\"x\": 1}\nqueue = sched\n"
        cases = [
            ("timeout = 192h", "6: [schedule longto]: timeout = 192h is not a duration of more than 0 and at most "
                               "7 days (e.g. 600, 90s, 10m, 2h): 8 days is too long"),
            ("timeout = 604801", "6: [schedule longto]: timeout = 604801 is not a duration of more than 0 and at most "
                                 "7 days"),
            ("timeout = 0", "6: [schedule longto]: timeout = 0 is not a duration of more than 0 and at most 7 days "
                            "(e.g. 600, 90s, 10m, 2h): 0 ms is too short"),
            ("timeout = 0.0001", "6: [schedule longto]: timeout = 0.0001 is not a duration of more than 0 and at most "
                                 "7 days (e.g. 600, 90s, 10m, 2h): less than a millisecond"),
            ("max_retries = 101", "6: max_retries = 101: use an integer from 0 to 100"),
            ("priority = urgent", "6: priority 'urgent': use high, normal or low"),
        ]
        for i, (line, said) in enumerate(cases):
            with self.subTest(line=line):
                self.refused(self.config(name=f"bad{i}", text=base + line + "\n"), said)
        # A queue the enqueue refuses (its priority levels are not queues).
        path = self.config(name="level", text=base.replace("queue = sched", "queue = sched_high"))
        self.refused(path, "5: [schedule longto]: queue = sched_high names a priority level of queue sched: write "
                           "queue = sched and priority = high")
        # Args the enqueue refuses: a key twice.
        path = self.config(name="dup", text=base.replace('{"x": 1}', '{"x": 1, "x": 2}'))
        self.refused(path, "4: args must be a JSON object on one line, got: {\"x\": 1, \"x\": 2} (args are not "
                           "valid JSON: duplicate object key")
        # The same in a schedule that runs after another.
        path = self.config(name="chained", text=base + "[schedule next]\nafter = longto\ntask = echo\n"
                                                       "timeout = 8d\n")
        self.refused(path, "9: [schedule next]: timeout = 8d is not a duration of more than 0 and at most 7 days")
        self.assertEqual(self.jobs(), [])

    def test_the_longest_timeout_loads_and_fires(self):
        """7 days, the enqueue's bound, loads, and its job is enqueued."""
        now = time.time()
        text = CONFIG.format(name="week", cron=every_minute_but_the_next_few(now), misfire="run_once", grace="1h",
                             ttl="1s").replace("timeout = 10m", "timeout = 168h")
        path = self.config(name="week", text=text)
        p = tickq("schedule", "list", "--config", path, "-n", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.set_last("week", now - 600)
        s = self.scheduler(path)
        wait_for(lambda: self.jobs(), timeout=10, what="the job")
        self.assertEqual(self.job(self.jobs()[0])["timeout_ms"], "604800000")
        self.assertNotIn("schedule's job refused", [x.get("msg") for x in self.log_of(s)])

    def test_scheduler_durations_have_bounds(self):
        tail = "\n[schedule a]\ncron = 0 10 * * MON-FRI\ntask = echo\n"
        refused = [
            ("lease_ttl = 99999999h", "lease_ttl = 99999999h is not a duration from 300 ms to 30 s (e.g. 5s, 15s): "
                                      "99999999 h is too long"),
            ("lease_ttl = 31s", "lease_ttl = 31s is not a duration from 300 ms to 30 s"),
            ("lease_ttl = 299ms", "lease_ttl = 299ms is not a duration from 300 ms to 30 s (e.g. 5s, 15s): 299 ms is "
                                  "too short"),
            ("misfire_grace = 100000h", "misfire_grace = 100000h is not a duration from 0 to 366 days (e.g. 30m, 1h, "
                                        "48h): 100000 h is too long"),
            ("misfire_grace = 8785h", "misfire_grace = 8785h is not a duration from 0 to 366 days"),
            ("shutdown_wait = 100000h", "shutdown_wait = 100000h is not a duration from 1 s to 30 s (e.g. 5s, 10s): "
                                        "100000 h is too long"),
            ("shutdown_wait = 31s", "shutdown_wait = 31s is not a duration from 1 s to 30 s"),
            ("shutdown_wait = 500ms", "shutdown_wait = 500ms is not a duration from 1 s to 30 s (e.g. 5s, 10s): "
                                      "500 ms is too short"),
            ("lease_ttl = 0x10", "lease_ttl = 0x10 is not a duration from 300 ms to 30 s (e.g. 5s, 15s): not a "
                                 "decimal number"),
        ]
        for i, (line, said) in enumerate(refused):
            with self.subTest(line=line):
                path = self.config(name=f"d{i}", text=f"[scheduler]\n{line}\n" + tail)
                p = tickq("schedule", "list", "--config", path)
                self.assertEqual(p.returncode, 78, p.stderr)
                self.assertIn(f"{path}:2: {said}", p.stderr)
        # The bounds themselves are taken.
        for line in ("lease_ttl = 30s", "lease_ttl = 300ms", "misfire_grace = 8784h", "misfire_grace = 0",
                     "shutdown_wait = 30s", "shutdown_wait = 1s"):
            with self.subTest(line=line):
                p = tickq("schedule", "list", "--config", self.config(name="ok", text=f"[scheduler]\n{line}\n" + tail))
                self.assertEqual(p.returncode, 0, p.stderr)

    def test_a_section_or_a_key_given_twice_is_refused_naming_both_lines(self):
        cases = [
            # the same schedule's header twice in a row: a second section, not more of the first
            ("[schedule a]\ncron = * * * * *\ntask = echo\n\n[schedule a]\ncron = 1 * * * *\ntask = echo\n",
             ":5: [schedule a] appears twice (first at line 1): write each section once"),
            ("[scheduler]\nlease_ttl = 5s\n[schedule a]\ncron = * * * * *\ntask = echo\n[scheduler]\n"
             "lease_ttl = 10s\n", ":6: [scheduler] appears twice (first at line 1): write each section once"),
            ("[scheduler]\nlease_ttl = 5s\nlease_ttl = 10s\n[schedule a]\ncron = * * * * *\ntask = echo\n",
             ":3: 'lease_ttl' is set twice in [scheduler] (first at line 2)"),
            ("[schedule a]\ncron = * * * * *\ntask = echo\ncron = 1 * * * *\n",
             ":4: 'cron' is set twice in [schedule a] (first at line 2)"),
        ]
        for i, (text, said) in enumerate(cases):
            with self.subTest(said=said):
                path = self.config(name=f"twice{i}", text=text)
                p = tickq("schedule", "list", "--config", path)
                self.assertEqual(p.returncode, 78, p.stderr)
                self.assertIn(path + said, p.stderr)

    def test_a_value_cut_by_an_inline_comment_says_so(self):
        base = "[schedule a]\ncron = * * * * *\ntask = echo\n"
        path = self.config(name="cut", text=base + 'args = {"x":"a ;b"}\n')
        p = tickq("schedule", "list", "--config", path)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f'{path}:4: args must be a JSON object on one line, got: {{"x":"a (', p.stderr)
        self.assertIn("(the value was cut at ' ;' on line 4: a ';' after a space starts an inline comment; if it "
                      "belongs to the value, write it with no space before it, or in a JSON string as \\u003b)",
                      p.stderr)
        path = self.config(name="cut2", text=base + 'timeout = 10 #m\nargs = {"x": 1}\n')
        p = tickq("schedule", "list", "--config", path)
        self.assertEqual(p.returncode, 0, p.stderr)    # a comment after a good value is a comment
        path = self.config(name="cut3", text=base + 'args = {"x":"a #b", "y": 2}\n')
        p = tickq("schedule", "list", "--config", path)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("(the value was cut at ' #' on line 4", p.stderr)
        self.assertIn("\\u0023)", p.stderr)
        # Written as the note says, the value is whole.
        for args in ('{"x":"a;b"} ; the ";" has no space before it', '{"x":"a \\u003bb"}'):
            path = self.config(name="whole", text=base + f"args = {args}\n")
            p = tickq("schedule", "list", "--config", path)
            self.assertEqual(p.returncode, 0, (args, p.stderr))


ZONE_WARNING = "schedule's time zone has no daylight-saving time"


class TestFixedOffsetZones(SchedulerCase):
    """A fixed-offset zone without DST (EST, MST, HST, Etc/GMT+5) is valid
    but almost always a mistake for a market schedule: wherever a zone is
    given, tickq warns and names the zone to use, and still does what it
    was told (EST stays UTC-05:00 in July)."""

    def test_schedule_next_tz_warns_and_names_the_zone(self):
        cases = {
            "EST": ("2026-07-01T09:00:00-05:00", ["UTC-05:00 all year", "use America/New_York"]),
            "MST": ("2026-07-01T09:00:00-07:00", ["use America/Denver", "America/Phoenix"]),
            "HST": ("2026-07-01T09:00:00-10:00", ["use Pacific/Honolulu"]),
            "Etc/GMT+5": ("2026-07-01T09:00:00-05:00", ["UTC-05:00", "signs are inverted", "use America/New_York"]),
            "Etc/GMT-9": ("2026-07-01T09:00:00+09:00", ["UTC+09:00", "Region/City"]),
        }
        for zone, (first, needles) in cases.items():
            p = tickq("schedule", "next", "0 9 * * *", "--tz", zone, "--from", "2026-07-01T00:00:00Z", "-n", "1")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout, first + "\n")
            lines = p.stderr.splitlines()
            self.assertEqual(len(lines), 1, p.stderr)
            self.assertTrue(lines[0].startswith(f"tickq: warning: --tz: time zone {zone} is a fixed offset"), lines)
            self.assertIn("no daylight-saving time", lines[0])
            for needle in needles:
                self.assertIn(needle, lines[0])
        for zone, first in (("America/New_York", "2026-07-01T09:00:00-04:00"), ("UTC", "2026-07-01T09:00:00+00:00"),
                            ("Etc/GMT", "2026-07-01T09:00:00+00:00"), ("EST5EDT", "2026-07-01T09:00:00-04:00"),
                            ("America/Phoenix", "2026-07-01T09:00:00-07:00")):
            p = tickq("schedule", "next", "0 9 * * *", "--tz", zone, "--from", "2026-07-01T00:00:00Z", "-n", "1")
            self.assertEqual((p.returncode, p.stdout, p.stderr), (0, first + "\n", ""), zone)

    TEXT = ("[scheduler]\nlease_ttl = 1s\n\n"
            "[schedule ny]\ncron = 0 9 * * *\ntimezone = America/New_York\ntask = echo\nqueue = sched\n\n"
            "[schedule est]\ncron = 0 9 * * *\ntask = echo\nqueue = sched\ntimezone = EST\n\n"
            "[schedule gmt5]\ncron = 0 9 * * *\ntimezone = Etc/GMT+5\ntask = echo\nqueue = sched\n")

    def test_schedule_list_and_worker_check_warn_with_file_line_and_schedule(self):
        path = self.config(name="zones", text=self.TEXT)
        want = [f"tickq: warning: {path}:14: [schedule est]: time zone EST is a fixed offset",
                f"tickq: warning: {path}:18: [schedule gmt5]: time zone Etc/GMT+5 is a fixed offset"]
        p = tickq("schedule", "list", "--config", path, "-n", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([x[:len(w)] for x, w in zip(p.stderr.splitlines(), want)], want, p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 2, p.stderr)
        self.assertIn("use America/New_York", p.stderr)
        self.assertIn("est: 0 9 * * * (EST)", p.stdout)   # still listed: a warning, not an error
        # schedule next --config checks the file whole, warnings included.
        p = tickq("schedule", "next", "0 9 * * *", "--calendar", "XNYS", "--config", path, "-n", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(p.stderr.splitlines()), 2, p.stderr)
        p = tickq("worker", "--check", "--scheduler", "--schedules", path, url=self.url)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   schedules: 3 in", p.stdout)
        self.assertEqual([x[:len(w)] for x, w in zip(p.stderr.splitlines(), want)], want, p.stderr)
        # The example file and a region zone warn about nothing.
        for quiet in (os.path.join(ROOT, "examples", "schedules.ini"),
                      self.config(name="quiet", text=self.TEXT.replace("EST", "America/New_York")
                                  .replace("Etc/GMT+5", "UTC"))):
            p = tickq("schedule", "list", "--config", quiet)
            self.assertEqual((p.returncode, p.stderr), (0, ""), quiet)

    def warnings_in(self, lines):
        return [x for x in lines if isinstance(x, dict) and x.get("msg") == ZONE_WARNING]

    def test_scheduler_and_worker_scheduler_log_a_warning(self):
        path = self.config(name="zones", text=self.TEXT)
        p = self.scheduler(path)
        got = wait_for(lambda: len(self.warnings_in(self.log_of(p))) == 2 and self.warnings_in(self.log_of(p)),
                       timeout=10, what="the zone warnings")
        self.assertEqual([(x["level"], x["schedule"], x["timezone"]) for x in got],
                         [("warning", "est", "EST"), ("warning", "gmt5", "Etc/GMT+5")])
        self.assertIn("use America/New_York", got[0]["warning"])
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(15), 0)
        w = self.worker("--queues", "sched", "--scheduler", "--schedules", path, "--workers", "1")
        got = wait_for(lambda: len(self.warnings_in(w.log_lines())) == 2 and self.warnings_in(w.log_lines()),
                       timeout=10, what="the worker's zone warnings")
        self.assertEqual([x["schedule"] for x in got], ["est", "gmt5"])


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
                sym, *rest = line.rstrip("\n").split(",")
                rows.setdefault(sym, []).append(rest)
        for sym, bars in rows.items():
            write_bars_csv(os.path.join(folder, f"{sym}.csv"), bars, with_symbol=False)
        env.update({"TICKQ_MARKET_DATA_PROVIDER": "csv_dir", "TICKQ_MARKET_DATA_PATH": folder})
        order = ["intraday_refresh", "continuous_refresh", "end_of_day", "weekend_analysis",
                 "daily_data", "daily_options", "daily_iv", "daily_scan"]
        self.assertEqual(sorted(order), sorted(s[len("schedule "):] for s in cp.sections() if s.startswith("schedule ")))
        for name in order:
            sec = cp[f"schedule {name}"]
            jid = self.enqueue(sec["task"], sec.get("args", "{}"), "--queue", "examples", "--id", name)
            status, w = self.burst("--queues", "examples", "--workers", "1", env=env)
            self.assertEqual(status, 0, w.log())
            res = self.result(jid)
            self.assertEqual(res["status"], "completed", (name, res))
