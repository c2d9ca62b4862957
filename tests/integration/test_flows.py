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
import signal
import subprocess
import tempfile
import time

from harness import TICKQ, TickqTestCase, wait_for

PREFIX = "tickq"


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
