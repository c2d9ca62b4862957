"""test_autoscale.py — `tickq worker --autoscale`: a burst of sleep jobs
scales the children up to --max-workers and, once the queue is quiet for a
cooldown, down to --min-workers one child per interval, within the bounds,
without losing, failing or re-running a job (no busy child is stopped to
scale down); each decision is a structured log line and shows in /metrics;
the flags' usage errors and --check. Asserts the order and bounds of the
decisions, never their timing; every wait is bounded."""
import os
import shutil
import sys
import tempfile
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from harness import ROOT, TickqTestCase, wait_for

SCALE = ["--autoscale", "--min-workers", "1", "--max-workers", "4", "--interval", "200ms", "--cooldown", "1s",
         "--target-wait", "200ms"]
UP_REASONS = {"backlog", "backlog_rate_unknown", "oldest_ready_age"}
HANDLER_ENV = {"PYTHONPATH": os.path.join(os.path.dirname(os.path.abspath(__file__)), "handler_apps"),
               "PYTHONDONTWRITEBYTECODE": "1", "TICKQ_CONFIG": None}


def decisions(w):
    """The worker's "autoscale" log lines, in order."""
    return [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "autoscale"]


def metric_samples(port):
    """{(sample name, labels as sorted tuple): value} of the worker's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def documented_fields():
    """The field table of docs/operations.md's "Autoscaling" section:
    {field: its meaning}."""
    with open(os.path.join(ROOT, "docs", "operations.md")) as f:
        text = f.read()
    section = text[text.index("## Autoscaling\n"):]
    section = section[:section.index("\n## ", 1)]
    fields = {}
    for line in section[section.index("| Field | Meaning |"):].splitlines()[2:]:
        if not line.startswith("|"):
            break
        names, meaning = line.strip("|").split("|", 1)
        for name in names.split(","):
            fields[name.strip().strip("`")] = meaning
    return fields


class TestAutoscale(TickqTestCase):
    def http_line(self, w):
        return wait_for(lambda: next((x for x in w.log_lines() if isinstance(x, dict)
                                      and x.get("msg") == "http server listening"), None),
                        15, what="the http server listening line")

    def worker_children(self, w, http_pid):
        return [p for p in w.children() if p != http_pid]

    def check_chain(self, ds):
        """Each decision starts where the one before ended, from the
        minimum; every count within 1..4."""
        self.assertTrue(ds)
        self.assertEqual(ds[0]["from"], 1)
        for before, d in zip(ds, ds[1:]):
            self.assertEqual(d["from"], before["to"], ds)
        for d in ds:
            self.assertGreaterEqual(d["to"], 1, d)
            self.assertLessEqual(d["to"], 4, d)
            for key in ("backlog", "oldest_ready_age_s", "busy", "rate", "reason", "direction"):
                self.assertIn(key, d)

    def test_a_burst_scales_up_to_max_then_down_to_min_one_step_at_a_time(self):
        w = self.worker(*SCALE, "--http", "127.0.0.1:0")
        started = wait_for(lambda: next((x for x in w.log_lines() if isinstance(x, dict)
                                         and x.get("msg") == "autoscaler started"), None),
                           15, what="the autoscaler started line")
        self.assertEqual((started["min_workers"], started["max_workers"]), (1, 4))
        self.assertEqual((started["interval_s"], started["cooldown_s"], started["target_wait_s"]), (0.2, 1, 0.2))
        http = self.http_line(w)
        wait_for(lambda: len(self.worker_children(w, http["pid"])) == 1, 15, what="the first worker child")
        before = metric_samples(http["port"])
        self.assertEqual(before[("tickq_autoscaler_desired_children", ())], 1)
        self.assertEqual(before[("tickq_autoscaler_decisions_total", (("direction", "up"),))], 0)

        ids = [self.submit("sleep", {"ms": 300}, job_id=f"burst-{i}") for i in range(40)]
        seen = set()

        def all_done():
            seen.add(len(self.worker_children(w, http["pid"])))
            return all(self.state(j) == "completed" for j in ids)
        wait_for(all_done, 90, interval=0.05, what="the burst to complete")
        wait_for(lambda: any(d["to"] == 1 and d["direction"] == "down" for d in decisions(w)), 30,
                 what="the scale-down to --min-workers")
        ds = decisions(w)
        self.check_chain(ds)
        # Up first, to the maximum; then down, one child a step, to the minimum.
        directions = [d["direction"] for d in ds]
        first_down = directions.index("down")
        self.assertEqual(set(directions[:first_down]), {"up"}, ds)
        self.assertEqual(set(directions[first_down:]), {"down"}, ds)
        ups, downs = ds[:first_down], ds[first_down:]
        self.assertEqual(ups[-1]["to"], 4, ds)
        for d in ups:
            self.assertGreater(d["to"], d["from"], d)
            self.assertIn(d["reason"], UP_REASONS, d)
            self.assertGreater(d["backlog"], 0, d)
        self.assertEqual([(d["from"], d["to"]) for d in downs], [(4, 3), (3, 2), (2, 1)], ds)
        for d in downs:
            self.assertEqual(d["reason"], "quiet", d)
            self.assertEqual(d["backlog"], 0, d)
        # The processes followed: never more than 4 worker children, at
        # least one, and one again at the end.
        self.assertLessEqual(max(seen), 4, seen)
        self.assertGreaterEqual(min(seen), 1, seen)
        wait_for(lambda: len(self.worker_children(w, http["pid"])) == 1, 15, what="the retired children to exit")
        # No job lost, failed or run twice: no busy child was stopped.
        for j in ids:
            self.assertEqual(self.job(j)["attempts"], "1", j)
            self.assertEqual(self.retries(j), [], j)
        self.assertEqual(self.counters()["completed"], 40)
        self.assertEqual(self.counters().get("failed_attempts", 0), 0)
        self.assertFalse([x for x in w.log_lines() if isinstance(x, dict) and x.get("level") in ("warning", "error")],
                         w.log())
        # /metrics counts the same decisions.
        m = wait_for(lambda: (lambda s: s if s[("tickq_autoscaler_desired_children", ())] == 1 else None)(
            metric_samples(http["port"])), 10, what="/metrics to show one desired child")
        self.assertEqual(m[("tickq_autoscaler_decisions_total", (("direction", "up"),))], len(ups))
        self.assertEqual(m[("tickq_autoscaler_decisions_total", (("direction", "down"),))], len(downs))
        self.assertEqual(m[("tickq_autoscaler_backlog", ())], 0)
        self.assertEqual(m[("tickq_autoscaler_oldest_ready_age_seconds", ())], 0)
        self.assertEqual(m[("tickq_worker_desired_children", ())], 1)
        self.assertEqual(w.stop(), 0)
        # docs/operations.md's table names exactly the fields of a line, and
        # every reason seen.
        table = documented_fields()
        for d in ds:
            self.assertEqual(set(d) - {"ts", "level", "msg", "pid"}, set(table), d)
            self.assertIn(f"`{d['reason']}`", table["reason"], d)

    def test_scaling_down_leaves_a_busy_child_its_job(self):
        """A job that holds until the test makes a marker file runs while a
        burst comes and goes: the autoscaler retires the idle children
        around it, down to one, while it still runs; then it finishes on
        its first attempt."""
        tmp = tempfile.mkdtemp(prefix="tickq-autoscale-")
        self.addCleanup(shutil.rmtree, tmp, True)
        config = os.path.join(tmp, "tickq.ini")
        with open(config, "w") as f:
            f.write(f"[handler apps]\ncommand = {sys.executable} -m tickq.handler app_tasks\ntypes = hold\n")
        marker = os.path.join(tmp, "go")
        w = self.worker(*SCALE, "--config", config, env=HANDLER_ENV)
        wait_for(lambda: "handler started" in w.log(), 20, what="the handler's announcement")
        long_job = self.submit("hold", {"marker": marker}, job_id="long")
        self.wait_running(long_job)
        ids = [self.submit("sleep", {"ms": 300}, job_id=f"short-{i}") for i in range(16)]
        wait_for(lambda: all(self.state(j) == "completed" for j in ids), 60, what="the short jobs")
        wait_for(lambda: any(d["to"] == 1 for d in decisions(w)), 20, what="the scale-down to one child")
        self.assertEqual(self.result(long_job)["status"], "running")   # still holding
        ds = decisions(w)
        self.check_chain(ds)
        self.assertEqual(max(d["to"] for d in ds), 4, ds)
        downs = [d for d in ds if d["direction"] == "down"]
        self.assertEqual([(d["from"], d["to"]) for d in downs], [(4, 3), (3, 2), (2, 1)], ds)
        for d in downs:
            self.assertGreaterEqual(d["busy"], 1, d)   # the long job's child, left alone
        # The child left is the one running the long job.
        holder = next(x["pid"] for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "job started"
                      and x.get("job_id") == "long")
        wait_for(lambda: w.children() == [holder], 15, what="the idle children to exit, the busy one to stay")
        with open(marker, "w"):
            pass
        self.wait_state(long_job, "completed", timeout=30)
        self.assertEqual(self.result(long_job)["data"]["held"], True)
        self.assertEqual(self.job(long_job)["attempts"], "1")
        self.assertEqual(self.retries(long_job), [])
        for j in ids:
            self.assertEqual(self.job(j)["attempts"], "1", j)
        self.assertEqual(self.counters()["completed"], 17)
        self.assertEqual(w.stop(), 0)

    def test_without_autoscale_the_count_stays_fixed_and_no_autoscaler_series(self):
        w = self.worker("--workers", "2", "--http", "127.0.0.1:0")
        http = self.http_line(w)
        ids = [self.submit("sleep", {"ms": 100}, job_id=f"fixed-{i}") for i in range(10)]
        wait_for(lambda: all(self.state(j) == "completed" for j in ids), 30, what="the jobs")
        m = metric_samples(http["port"])
        self.assertEqual(m[("tickq_worker_desired_children", ())], 2)
        self.assertFalse([k for k in m if k[0].startswith("tickq_autoscaler_")], m)
        self.assertEqual(decisions(w), [])
        self.assertFalse([x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "autoscaler started"])
        self.assertEqual(len(self.worker_children(w, http["pid"])), 2)


class TestAutoscaleFlags(TickqTestCase):
    def usage_error(self, *args):
        p = self.tickq("worker", *args)
        self.assertEqual(p.returncode, 64, (args, p.stderr))
        self.assertIn("usage: tickq worker", p.stderr)
        return p.stderr.splitlines()[0]

    def test_usage_errors_name_the_flag(self):
        first = self.usage_error("--autoscale", "--workers", "2")
        self.assertIn("--autoscale", first)
        self.assertIn("--workers", first)
        first = self.usage_error("--autoscale", "--min-workers", "5", "--max-workers", "4")
        self.assertIn("--min-workers 5 is above --max-workers 4", first)
        cpus = os.cpu_count()
        first = self.usage_error("--autoscale", "--min-workers", str(2 * cpus + 1))
        self.assertIn(f"--min-workers {2 * cpus + 1} is above --max-workers {2 * cpus}", first)
        self.assertIn("give --max-workers", first)
        for flag, value in [("--min-workers", "0"), ("--max-workers", "0"), ("--max-workers", "257"),
                            ("--min-workers", "two"), ("--max-workers", "-1")]:
            with self.subTest(flag=flag, value=value):
                first = self.usage_error("--autoscale", flag, value)
                self.assertIn(f"{flag} '{value}' is not a number from 1 to 256", first)
        for flag, value, why, span in [
                ("--interval", "50ms", "too short", "from 100 ms to 1 day"),
                ("--interval", "soon", "not a decimal number", "from 100 ms to 1 day"),
                ("--cooldown", "-1s", "negative", "from 0 ms to 1 day"),
                ("--target-wait", "0", "too short", "from 1 ms to 1 day"),
                ("--target-wait", "5x", "not a decimal number", "from 1 ms to 1 day"),
                ("--target-wait", "25h", "too long", "from 1 ms to 1 day")]:
            with self.subTest(flag=flag, value=value):
                first = self.usage_error("--autoscale", flag, value)
                self.assertIn(f"{flag} '{value}' is {why}", first)
                self.assertIn(f": give a duration {span}", first)
        for flag, value in [("--min-workers", "2"), ("--max-workers", "3"), ("--interval", "1s"),
                            ("--cooldown", "1s"), ("--target-wait", "1s")]:
            with self.subTest(flag=flag, without="--autoscale"):
                first = self.usage_error(flag, value)
                self.assertIn(f"{flag} needs --autoscale", first)

    def test_flags_are_documented(self):
        help_text = self.tickq("worker", "--help").stdout
        with open(os.path.join(ROOT, "docs", "cli.md")) as f:
            cli = f.read()
        with open(os.path.join(ROOT, "docs", "operations.md")) as f:
            ops = f.read()
        for flag in ["--autoscale", "--min-workers", "--max-workers", "--interval", "--cooldown", "--target-wait"]:
            with self.subTest(flag=flag):
                self.assertIn(flag, help_text)
                self.assertIn(f"`{flag}", cli)
                self.assertIn(f"`{flag}", ops)

    def test_check_prints_the_settings(self):
        p = self.tickq("worker", "--check", "--autoscale")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        cpus = os.cpu_count()
        self.assertIn(f"; 1 to {2 * cpus} workers (autoscaled); group workers;", p.stdout)
        self.assertIn(f"ok   autoscale: 1 to {2 * cpus} workers; every 30s; cooldown 60s; target wait 5s\n", p.stdout)
        p = self.tickq("worker", "--check", *SCALE)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   autoscale: 1 to 4 workers; every 0.2s; cooldown 1s; target wait 0.2s\n", p.stdout)
        p = self.tickq("worker", "--check", "--workers", "3")
        self.assertIn("; 3 workers; group", p.stdout)
        self.assertNotIn("autoscale", p.stdout)
