"""test_flows.py — a parent job with children (docs/cli.md, tickq flow): added
in one transaction, the parent run after its children with the policy fail
or continue, cancelling the parent cancels its children (waiting and
running), `tickq flow ID` prints the tree, a flow of 10,000 children, two
children completing back to back on two worker hosts (Redis paused for
writes while both finish), and kill -9 while the flow is being added, while a child runs and while the
parent runs. Against a real redis-server and real workers; orders are read
from the job records, never from timings."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from harness import TICKQ, TickqTestCase, wait_for

PREFIX = "tickq"
# Python tasks run by the shipped runtime (python3 -m tickq.handler).
APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handler_apps")
APPS_ENV = {"PYTHONPATH": APPS, "PYTHONDONTWRITEBYTECODE": "1", "TICKQ_CONFIG": None}


class FlowCase(TickqTestCase):
    def ok(self, *args, **kw):
        p = self.tickq(*args, **kw)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def add_flow(self, flow):
        out = json.loads(self.ok("flow", "add", "-", "--json", input=json.dumps(flow)).stdout)
        return out["id"], out["children"], out["state"]

    def record(self, job_id):
        return self.r.hgetall(f"{PREFIX}:job:{job_id}")

    def state(self, job_id):
        return self.r.hget(f"{PREFIX}:job:{job_id}", "state")

    def result(self, job_id):
        raw = self.r.get(f"task_result:{job_id}")
        return json.loads(raw) if raw else None

    def run_all(self, *args):
        status, w = self.burst("--workers", "2", *args)
        self.assertEqual(status, 0, w.log())


class TestFlows(FlowCase):
    def test_the_parent_runs_after_its_children_and_finds_their_results(self):
        flow = {"type": "echo", "args": {"step": "parent"},
                "children": [{"type": "sleep", "args": {"ms": 100}},
                             {"type": "echo", "args": {"c": 2}, "queue": "other", "priority": "high"},
                             {"type": "echo", "args": {"c": 3}, "id": "kid3"}]}
        parent, kids, state = self.add_flow(flow)
        self.assertEqual(state, "deferred")
        self.assertEqual(kids[2], "kid3")
        self.assertEqual(self.record(kids[1])["queue"], "other")
        self.assertEqual(self.record(parent)["flow"], "1")
        view = json.loads(self.ok("job", parent).stdout)
        self.assertEqual([d["id"] for d in view["depends_on"]], kids)
        self.run_all("--queues", "backtest,other")
        recs = [self.record(k) for k in kids]
        p = self.record(parent)
        self.assertEqual(p["state"], "completed")
        self.assertGreaterEqual(int(p["started_us"]), max(int(r["finished_us"]) for r in recs))
        # The children's results are there for the parent (kept until it ran).
        self.assertEqual(self.result("kid3")["data"]["c"], 3)
        tree = self.ok("flow", parent).stdout.splitlines()
        self.assertTrue(tree[0].startswith(f"{parent}  echo  completed  waited "), tree)
        self.assertEqual(len(tree), 4)
        self.assertTrue(all(line.startswith("  ") and "  completed  " in line for line in tree[1:]), tree)
        self.assertTrue(tree[3].startswith("  kid3  echo  completed"), tree)
        js = json.loads(self.ok("flow", parent, "--json").stdout)
        self.assertEqual([c["id"] for c in js["children"]], kids)
        self.assertGreater(js["children"][0]["ran_s"], 0.09)

    def test_policy_fail_and_continue(self):
        kids = [{"type": "echo", "args": {}}, {"type": "fail", "args": {"permanent": True}, "id": "bad"}]
        strict, _, _ = self.add_flow({"type": "echo", "children": kids})
        kids[1]["id"] = "bad2"
        lenient, _, _ = self.add_flow({"type": "echo", "args": {"ran": True}, "policy": "continue",
                                       "children": kids})
        self.run_all()
        self.assertEqual(self.state(strict), "failed")
        self.assertEqual(self.result(strict)["data"]["error"], "dependency bad ended failed")
        self.assertEqual(self.state(lenient), "completed")
        self.assertIn("error: dependency bad ended failed", self.ok("flow", strict).stdout)

    def test_cancelling_the_parent_cancels_its_children(self):
        parent, kids, _ = self.add_flow({"type": "echo", "children": [
            {"type": "sleep", "args": {"ms": 30000}}, {"type": "echo", "args": {}, "queue": "idle"},
            {"type": "echo", "args": {}, "delay": 600}]})
        w = self.worker("--workers", "1")
        wait_for(lambda: (self.result(kids[0]) or {}).get("status") == "running", 15, what="the long child")
        p = self.ok("cancel", parent)
        self.assertIn("cancelled", p.stdout + p.stderr)
        self.assertEqual(self.state(parent), "cancelled")
        self.assertEqual([self.state(k) for k in kids[1:]], ["cancelled", "cancelled"])
        wait_for(lambda: self.state(kids[0]) == "cancelled", 15, what="the running child to be cancelled")
        w.stop()
        self.assertEqual(self.r.zcard(f"{PREFIX}:deferred:backtest_normal"), 0)
        self.assertEqual(self.r.keys(f"{PREFIX}:dependents:*"), [])

    def test_bad_flows_are_refused_naming_the_job(self):
        cases = [
            ({"type": "echo", "chidren": [{"type": "echo"}]}, "the parent: unknown field 'chidren' (did you mean "
             "'children'?)"),
            ({"type": "echo", "children": []}, '"children" must be a list of 1 to 10000 jobs'),
            ({"type": "echo", "children": [{"type": "echo"}, {"type": "echo", "tmeout": 1}]},
             "children[1]: unknown field 'tmeout' (did you mean 'timeout'?)"),
            ({"type": "echo", "policy": "maybe", "children": [{"type": "echo"}]}, "policy must be"),
            ({"type": "echo", "depends_on": ["x"], "children": [{"type": "echo"}]}, "takes no depends_on"),
            ({"type": "echo", "children": [{"type": "nope"}]}, "children[0]: unknown task type 'nope'"),
            ({"type": "backtest", "args": {"hold_bar": 1}, "children": [{"type": "echo"}]},
             "the parent: unknown argument 'hold_bar'"),
            ({"type": "echo", "children": [{"type": "echo", "depends_on": ["missing"]}]},
             "dependency missing is not a job"),
        ]
        for flow, needle in cases:
            with self.subTest(needle=needle):
                p = self.tickq("flow", "add", "-", input=json.dumps(flow))
                self.assertEqual(p.returncode, 65, p.stderr)
                self.assertIn(needle, p.stderr)
        p = self.tickq("flow", "add", "-", input="{not json")
        self.assertEqual(p.returncode, 65)
        self.assertIn("is not JSON", p.stderr)
        self.assertEqual(self.tickq("flow", "add", "/no/such/file").returncode, 66)
        self.assertEqual(self.tickq("flow", "no-such-job").returncode, 3)
        self.assertEqual(self.tickq("flow").returncode, 64)
        self.assertEqual(self.r.keys(f"{PREFIX}:job:*"), [])


class TestFlowIds(FlowCase):
    def test_jobs_sharing_an_id_are_refused_before_anything_is_enqueued(self):
        """Two children with one id: the second (other args, another queue)
        would be no job at all. A child with the parent's id: the child
        would be enqueued and the parent not. Both are refused whole."""
        cases = [
            ({"type": "echo", "args": {}, "queue": "qa", "children": [
                {"type": "echo", "args": {"v": 1}, "id": "dd1", "queue": "qa"},
                {"type": "echo", "args": {"v": 2}, "id": "dd1", "queue": "data"}]},
             "flow refused: children[1]: id dd1 repeats children[0]"),
            ({"type": "echo", "args": {}, "children": [
                {"type": "echo", "id": "a"}, {"type": "echo", "id": "b"}, {"type": "echo"},
                {"type": "echo", "id": "b"}, {"type": "echo", "id": "a"}]},
             "flow refused: children[3]: id b repeats children[1]"),
            ({"type": "echo", "args": {}, "id": "pp1", "children": [{"type": "echo", "args": {}, "id": "pp1"}]},
             "flow refused: children[0]: id pp1 is the parent's id: a child cannot have its parent's id"),
            ({"type": "echo", "args": {}, "id": "pp2", "children": [
                {"type": "echo", "id": "c1"}, {"type": "echo", "id": "pp2"}]},
             "flow refused: children[1]: id pp2 is the parent's id"),
        ]
        for flow, needle in cases:
            with self.subTest(needle=needle):
                p = self.tickq("flow", "add", "-", "--json", input=json.dumps(flow))
                self.assertEqual(p.returncode, 65, p.stdout + p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertIn(needle, p.stderr)
                self.assertTrue(p.stderr.rstrip().endswith("nothing enqueued)"), p.stderr)
                self.assertEqual(self.r.keys(f"{PREFIX}:job:*"), [])

    def test_an_existing_parent_says_what_was_enqueued(self):
        self.ok("enqueue", "echo", "{}", "--id", "p1", "--queue", "idle")
        p = self.tickq("flow", "add", "-", input=json.dumps({"type": "echo", "id": "p1", "children": [
            {"type": "echo", "queue": "idle"}, {"type": "echo", "id": "p1-kid", "queue": "idle"}]}))
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertEqual(p.stdout, "p1\n")
        self.assertEqual(p.stderr, "tickq: the parent p1 already exists (state queued), so it was not enqueued "
                         "again; 2 of its 2 children did not exist and were enqueued all the same, with no parent "
                         "of this flow waiting for them\n")
        self.assertEqual(self.state("p1-kid"), "queued")
        self.assertNotIn("deps", self.record("p1"))


def iso_us(text):
    """Epoch µs of a stored time, 2026-01-15T10:30:00.123Z."""
    import datetime
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000000 + t.microsecond


class TestFlowTimes(FlowCase):
    def jobs_row(self, job_id, *args):
        rows = [json.loads(line) for line in self.ok("jobs", "--json", *args).stdout.splitlines()]
        return next(r for r in rows if r["id"] == job_id)

    def test_a_running_job_shows_running_with_its_attempt_and_start(self):
        """The record of a running job says queued with attempts 0 and no
        start (a claim writes none); `job` and `flow` show it running, its
        attempt 1 as `jobs` does, and when it started, past the claim
        renewals (every 100 ms here) that set its entry's idle time back."""
        w = self.worker("--workers", "1", "--heartbeat", "100ms", "--claim-timeout", "1s")
        parent, kids, _ = self.add_flow({"type": "echo", "children": [{"type": "sleep", "args": {"ms": 2500}}]})
        kid = kids[0]
        wait_for(lambda: (self.result(kid) or {}).get("status") == "running", 15, what="the child to start")
        time.sleep(1.0)   # on purpose: a second of running, ten claim renewals
        rec = self.record(kid)
        self.assertEqual((rec["state"], rec["attempts"]), ("queued", "0"))
        view = json.loads(self.ok("job", kid).stdout)
        self.assertEqual((view["state"], view["attempts"]), ("running", 1))
        self.assertGreaterEqual(view["running_for_ms"], 900)
        self.assertNotIn("finished_at", view)
        self.assertEqual(self.jobs_row(kid)["attempts"], view["attempts"])
        tree = self.ok("flow", parent).stdout.splitlines()
        self.assertRegex(tree[1], rf"^  {kid}  sleep  running  waited \d+\.\d{{3}}s  ran \d+\.\d{{3}}s$")
        js = json.loads(self.ok("flow", parent, "--json").stdout)["children"][0]
        self.assertEqual(js["state"], "running")
        self.assertGreaterEqual(js["ran_s"], 0.9)
        self.assertLess(js["waited_s"], js["ran_s"])
        self.wait_state(kid, "completed")
        w.stop()
        # ...and it started when the worker says it did.
        self.assertLess(abs(view["started_us"] - int(self.record(kid)["started_us"])), 1000)
        self.assertEqual(view["started_at"], json.loads(self.ok("job", kid).stdout)["started_at"])

    def test_a_retry_running_shows_its_second_attempt(self):
        """A worker killed (-9, with its children) mid-job: another one's
        reclaim charges the attempt, and the retry that runs is attempt 2,
        in `job` as in `jobs`, without the lost attempt's times."""
        first = self.worker("--workers", "1", new_group=True)
        jid = self.enqueue("sleep", {"ms": 60000})
        self.wait_running(jid)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        second = self.worker("--workers", "1", "--heartbeat", "100ms", "--claim-timeout", "1s",
                             "--retry-base", "50ms")
        wait_for(lambda: (self.result(jid) or {}).get("data", {}).get("attempt") == 2, 30,
                 what="the retry to start")
        time.sleep(0.5)   # on purpose: a few claim renewals of the second attempt
        view = json.loads(self.ok("job", jid).stdout)
        self.assertEqual((view["state"], view["attempts"], self.record(jid)["attempts"]), ("running", 2, "1"))
        self.assertEqual(self.jobs_row(jid)["attempts"], 2)
        self.assertGreaterEqual(view["running_for_ms"], 400)
        self.assertIn("started_at", view)
        self.assertNotIn("finished_at", view)
        self.assertEqual(len(view["retries"]), 1)
        self.ok("cancel", jid)
        self.wait_state(jid, "cancelled")
        second.stop()

    def beat_start(self, job_id):
        """The start of job_id in its worker's last heartbeat (the
        supervisor's "children": [{"id", "job": {"id", "started_at"}}]),
        as epoch µs; None when no heartbeat lists it."""
        for key in self.r.keys(f"{PREFIX}:worker:*"):
            doc = json.loads(self.r.get(key) or "{}")
            for child in doc.get("children", []):
                job = child.get("job") or {}
                if job.get("id") == job_id:
                    return iso_us(job["started_at"])
        return None

    def test_a_retry_on_the_same_worker_slot_shows_its_own_start(self):
        """One worker child: the first attempt fails and its retry runs on
        the same slot. Until the next heartbeat (every 10 s here) the last
        one still lists that slot running this job, with the first
        attempt's start; the view takes the heartbeat's start only when it
        is after the record's last end, so the retry shows attempt 2 and
        its own start, the claim's, after the first attempt ended."""
        tmp = tempfile.mkdtemp(prefix="tickq-flow-retry-")
        self.addCleanup(shutil.rmtree, tmp, True)
        config = os.path.join(tmp, "tickq.ini")
        with open(config, "w") as f:
            f.write(f"[handler retry]\ncommand = {sys.executable} -m tickq.handler app_tasks\n"
                    "types = fail_then_hold\n")
        w = self.worker("--config", config, "--workers", "1", "--heartbeat", "10s", "--claim-timeout", "60s",
                        "--retry-base", "50ms", env=APPS_ENV)
        wait_for(lambda: "handler started" in w.log(), 20, what="the handler's announcement")
        jid = self.enqueue("fail_then_hold", {"dir": tmp})
        first_start = wait_for(lambda: self.beat_start(jid), 25, what="a heartbeat listing the first attempt")
        open(os.path.join(tmp, "fail"), "w").close()
        wait_for(lambda: (self.result(jid) or {}).get("data", {}).get("attempt") == 2, 10,
                 what="the retry to start")
        view = json.loads(self.ok("job", jid).stdout)
        # Read after the view: no heartbeat came between, the view had the
        # first attempt's start on this slot to refuse.
        self.assertEqual(self.beat_start(jid), first_start,
                         "a heartbeat listed the retry before the view was read: the test saw nothing")
        rec = self.record(jid)
        self.assertEqual((view["state"], view["attempts"], rec["attempts"]), ("running", 2, "1"))
        self.assertEqual(len(view["retries"]), 1)
        self.assertLess(first_start, int(rec["finished_us"]))
        self.assertGreater(view["started_us"], int(rec["finished_us"]))
        self.assertEqual(view["started_at"], self.result(jid)["updated_at"])   # the claim's, of attempt 2
        self.assertNotIn("finished_at", view)
        open(os.path.join(tmp, "release"), "w").close()
        self.wait_state(jid, "completed")
        w.stop()
        self.assertEqual(self.completed_data(self.result(jid))["attempt"], 2)

    def test_the_start_is_read_from_the_claim_before_a_heartbeat_lists_it(self):
        """Heartbeats 30 s apart: the worker's heartbeat does not list the
        job yet, and its start is the claim's, from its running result."""
        w = self.worker("--workers", "1", "--heartbeat", "30s", "--claim-timeout", "60s")
        wait_for(lambda: self.r.keys(f"{PREFIX}:worker:*"), 20, what="the worker's first heartbeat")
        jid = self.enqueue("sleep", {"ms": 1500})
        self.wait_running(jid)
        view = json.loads(self.ok("job", jid).stdout)
        self.assertEqual(view["state"], "running")
        self.assertEqual(view["started_at"], self.result(jid)["updated_at"])
        line = [x for x in self.ok("flow", jid).stdout.splitlines() if jid in x]
        self.assertEqual(len(line), 1, line)
        self.assertIn("  running  ", line[0])
        self.wait_state(jid, "completed")
        w.stop()

    def test_a_job_that_ended_without_starting_stops_waiting(self):
        """A parent failed by its child, and a cancelled flow: none of them
        started; each waited from its enqueue to its end, and that stays."""
        failed, kids, _ = self.add_flow({"type": "echo", "children": [
            {"type": "fail", "args": {"permanent": True}, "id": "f-kid"}, {"type": "noop", "id": "ok-kid"}]})
        self.run_all()
        cancelled, ckids, _ = self.add_flow({"type": "echo", "children": [{"type": "echo", "queue": "idle"}]})
        self.ok("cancel", cancelled)
        before = json.loads(self.ok("flow", failed, "--json").stdout), json.loads(self.ok("flow", cancelled,
                                                                                              "--json").stdout)
        time.sleep(0.5)   # on purpose: time passes after they ended
        after = json.loads(self.ok("flow", failed, "--json").stdout), json.loads(self.ok("flow", cancelled,
                                                                                             "--json").stdout)
        self.assertEqual(before, after)
        for job_id, node in ((failed, after[0]), (cancelled, after[1]), (ckids[0], after[1]["children"][0])):
            with self.subTest(job=job_id):
                rec = self.record(job_id)
                self.assertIn(rec["state"], ("failed", "cancelled"))
                self.assertNotIn("started_us", rec)
                self.assertNotIn("ran_s", node)
                ended = (iso_us(rec["finished_at"]) - int(rec["enqueued_us"])) / 1e6
                self.assertAlmostEqual(node["waited_s"], ended, delta=0.002)
        self.assertIn("failed  waited ", self.ok("flow", failed).stdout.splitlines()[0])


class TestBigFlowsAndKills(FlowCase):
    def big_flow_file(self, n):
        fd, path = tempfile.mkstemp(prefix="tickq-flow-", suffix=".json")
        self.addCleanup(os.unlink, path)
        with os.fdopen(fd, "w") as f:
            json.dump({"type": "echo", "args": {"n": n}, "children": [{"type": "noop"} for _ in range(n)]}, f)
        return path

    def test_a_flow_of_10000_children(self):
        path = self.big_flow_file(10000)
        out = json.loads(self.ok("flow", "add", path, "--json", timeout=120).stdout)
        self.assertEqual(len(out["children"]), 10000)
        self.assertEqual(self.record(out["id"])["deps_left"], "10000")
        self.run_all()
        self.assertEqual(self.state(out["id"]), "completed")
        last = max(int(self.r.hget(f"{PREFIX}:job:{k}", "finished_us")) for k in out["children"])
        self.assertGreaterEqual(int(self.record(out["id"])["started_us"]), last)
        self.assertEqual(len(self.ok("flow", out["id"]).stdout.splitlines()), 10001)

    def test_kill_9_while_adding_leaves_all_or_nothing(self):
        path = self.big_flow_file(10000)
        for delay in (0.05, 0.15, 0.3):
            with self.subTest(delay=delay):
                self.r.flushall()
                p = subprocess.Popen([TICKQ, "flow", "add", path], env=dict(os.environ, REDIS_URL=self.url),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(delay)
                p.send_signal(signal.SIGKILL)
                p.wait()
                time.sleep(0.2)   # Redis drops a transaction its client left unfinished
                n = len(self.r.keys(f"{PREFIX}:job:*"))
                self.assertIn(n, (0, 10001))

    def test_two_children_finishing_at_the_same_instant_on_two_hosts(self):
        """Two worker processes (two hosts, as far as Redis can tell) each run
        one child; Redis is paused for writes while both run, so both
        completions queue up and land back to back the moment it resumes.
        The parent must become ready exactly once and run once."""
        for policy in ("fail", "continue"):
            with self.subTest(policy=policy):
                self.r.flushall()
                # both hosts up and claiming before the flow exists, so each takes a child at once
                hosts = [self.worker("--workers", "1"), self.worker("--workers", "1")]
                for w in hosts:
                    wait_for(lambda: any(isinstance(x, dict) and x.get("msg") == "worker started"
                                         for x in w.log_lines()), 20, what="a worker to start")
                parent, kids, _ = self.add_flow({"type": "echo", "args": {"p": policy}, "policy": policy,
                                                 "children": [{"type": "sleep", "args": {"ms": 3000}},
                                                              {"type": "sleep", "args": {"ms": 3000}}]})
                running = lambda: [(self.result(k) or {}).get("status") for k in kids] == ["running", "running"]
                wait_for(running, 30, what="both children running")
                hosts_of = [self.result(k)["data"]["worker_id"].rsplit(":", 1)[0] for k in kids]
                self.assertNotEqual(hosts_of[0], hosts_of[1])
                self.r.execute_command("CLIENT", "PAUSE", 8000, "WRITE")
                try:
                    time.sleep(3.3)   # both sleeps end; both completions wait on the pause
                    self.assertTrue(running())
                finally:
                    self.r.execute_command("CLIENT", "UNPAUSE")
                wait_for(lambda: self.state(parent) == "completed", 30, what="the parent to complete")
                # ...once: a second ready of the parent would be a second entry, run again
                wait_for(lambda: self.ready() == 0 and self.pending() == 0, 30, what="the queue to drain")
                self.assertEqual(self.counters()["completed"], 3, self.counters())
                for w in hosts:
                    w.stop()
                p = self.record(parent)
                self.assertEqual(p["attempts"], "1")
                self.assertEqual(p["deps_left"], "0")
                self.assertEqual([self.state(k) for k in kids], ["completed", "completed"])
                self.assertGreaterEqual(int(p["started_us"]),
                                        max(int(self.record(k)["finished_us"]) for k in kids))

    def test_kill_9_of_a_child_and_of_the_parent_while_they_run(self):
        parent, kids, _ = self.add_flow({"type": "fail", "args": {"crash": True, "times": 1}, "children": [
            {"type": "fail", "args": {"crash": True, "times": 1}}, {"type": "echo", "args": {}}]})
        w = self.worker("--workers", "2", "--retry-base", "50ms")
        wait_for(lambda: self.state(parent) == "completed", 60, what="the flow to complete")
        w.stop()
        self.assertEqual(self.record(kids[0])["attempts"], "2")    # killed once, then completed
        self.assertEqual(self.record(parent)["attempts"], "2")
        self.assertGreaterEqual(int(self.record(parent)["started_us"]), int(self.record(kids[0])["finished_us"]))
