"""test_dependencies.py — jobs that wait for other jobs (docs/protocol.md,
"Dependencies"; docs/cli.md, enqueue --after): the deferred state, the
order they run in, failures running down a chain, --after-any, refusals at
enqueue, cancel and purge, results kept past their TTL while a dependent
needs them, a worker killed while running a dependency, and the same through
the REST API and the Python client. Against a real redis-server and real
workers; orders are read from the job records, never from timings."""
import json
import os
import signal
import sys
import time

from harness import ROOT, fcall_header, wait_for
from http_harness import HttpCase

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
from tickq import Client  # noqa: E402

PREFIX = "tickq"


class DepsCase(HttpCase):
    def ok(self, *args, **kw):
        p = self.tickq(*args, **kw)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def add(self, jtype, args=None, *opts):
        """Enqueues with --json; returns (id, state)."""
        cmd = ["enqueue", jtype, json.dumps(args or {}), "--json", *opts]
        out = json.loads(self.ok(*cmd).stdout)
        return out["id"], out["state"]

    def refused(self, *opts, jtype="echo", status=65):
        p = self.tickq("enqueue", jtype, "{}", *opts)
        self.assertEqual(p.returncode, status, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "")
        return p.stderr

    def job(self, job_id):
        return json.loads(self.ok("job", job_id).stdout)

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
        return w


class TestChain(DepsCase):
    def test_a_chain_waits_deferred_and_runs_in_order(self):
        a, sa = self.add("sleep", {"ms": 150})
        b, sb = self.add("echo", {"step": "b"}, "--after", a)
        c, sc = self.add("echo", {"step": "c"}, "--after", b)
        self.assertEqual((sa, sb, sc), ("queued", "deferred", "deferred"))
        # Shown as deferred everywhere: the record, tickq job, tickq jobs, stats.
        view = self.job(b)
        self.assertEqual(view["state"], "deferred")
        self.assertEqual(view["depends_on"], [{"id": a, "state": "queued"}])
        self.assertEqual(view["deps_left"], 1)
        self.assertFalse(view["after_any"])
        self.assertEqual(self.job(a)["needed_by"], 1)
        listed = [json.loads(l) for l in self.ok("jobs", "--state", "deferred", "--json").stdout.splitlines()]
        self.assertEqual(sorted(x["id"] for x in listed), sorted([b, c]))
        self.assertTrue(all(x["state"] == "deferred" for x in listed))
        everything = self.ok("jobs").stdout
        self.assertIn("deferred", everything)
        stats = json.loads(self.ok("stats", "--json").stdout)
        normal = next(q for q in stats["queues"] if q["name"] == "backtest_normal")
        self.assertEqual((normal["ready"], normal["deferred"]), (1, 2))
        self.assertIn("DEFERRED", self.ok("stats").stdout)
        # Two children: b and c could only run in order if they waited.
        self.run_all()
        recs = [self.record(x) for x in (a, b, c)]
        self.assertEqual([r["state"] for r in recs], ["completed"] * 3)
        self.assertGreaterEqual(int(recs[1]["started_us"]), int(recs[0]["finished_us"]))
        self.assertGreaterEqual(int(recs[2]["started_us"]), int(recs[1]["finished_us"]))
        self.assertEqual(self.result(c)["data"]["step"], "c")
        # Nothing waits any more: a and b expire with the result TTL again.
        for x in (a, b):
            self.assertGreater(self.r.ttl(f"task_result:{x}"), 0)
            self.assertGreater(self.r.ttl(f"{PREFIX}:job:{x}"), 0)
            self.assertNotIn("needed_by", self.record(x))
        self.assertEqual(self.r.keys(f"{PREFIX}:dependents:*"), [])
        self.assertEqual(self.r.zcard(f"{PREFIX}:deferred:backtest_normal"), 0)

    def test_a_burst_runs_long_chains_to_their_end(self):
        """--burst ends only when every child is idle at one instant: a
        dependant made ready by a finishing job, and handed to the other
        (idle) child, is run before the burst ends. Two chains of 150 on 2
        children: each link is one such hand-over."""
        self.load_library()
        client = Client(self.url)
        chains = []
        for c in range(2):
            prev, ids = None, []
            for i in range(150):
                prev = client.enqueue("echo", {"chain": c, "n": i}, depends_on=prev)
                ids.append(prev)
            chains.append(ids)
        self.run_all()
        for ids in chains:
            states = [self.state(x) for x in ids]
            self.assertEqual(states, ["completed"] * len(ids), f"first not completed: {states.index(states[-1])}")

    def test_a_burst_does_not_end_while_an_idle_child_holds_a_dependant(self):
        """One child runs `c`; the other, idle, is stopped (SIGSTOP), caught
        in its blocking read if it makes one. Cancelling `a` (on a queue
        this worker does not serve) makes its dependant `b` ready. A
        blocked child would be handed `b` by Redis while stopped: both
        children read as idle once `c` ends, the burst ends, and `b` goes
        back unrun. A burst child polls instead, so `c`'s child takes `b`."""
        a, _ = self.add("noop", {}, "--queue", "elsewhere")
        b, _ = self.add("echo", {"step": "b"}, "--after", a, "--after-any")
        c, _ = self.add("sleep", {"ms": 1500})
        w = self.worker("--burst", "--workers", "2", "--log-level", "debug")

        def logged(msg, **fields):
            return [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == msg
                    and all(x.get(k) == v for k, v in fields.items())]
        (runner,) = wait_for(lambda: logged("job started", job_id=c), timeout=10, what="c to start")
        (idle,) = [x for x in logged("worker child started") if x["child_pid"] != runner["pid"]]

        def blocked():
            name = f"tickq-worker:{idle['worker_id']}"
            return any(x.get("name") == name and x.get("cmd") == "xreadgroup" and "b" in x.get("flags", "")
                       for x in self.r.client_list())
        deadline = time.monotonic() + 1.0
        while True:
            os.kill(idle["child_pid"], signal.SIGSTOP)
            if blocked() or time.monotonic() > deadline:
                break
            os.kill(idle["child_pid"], signal.SIGCONT)
            time.sleep(0.005)
        try:
            self.ok("cancel", a)
            wait_for(lambda: self.state(c) == "completed", timeout=10, what="c completed")
            # No wait before SIGCONT: the supervisor sends its children
            # SIGTERM before it logs the burst's end (begin_stop), so a child
            # stopped holding b finds its stop pending when it continues and
            # b stays unrun (the assertion below fails); when b completed,
            # the stopped child has nothing left to do.
            wait_for(lambda: self.state(b) == "completed" or "burst: queues are empty" in w.log(), timeout=10,
                     what="b to run or the burst to end")
        finally:
            os.kill(idle["child_pid"], signal.SIGCONT)
        self.assertEqual(w.wait(30), 0, w.log())
        self.assertEqual(self.state(b), "completed", w.log())

    def test_a_fan_in_runs_once_after_every_dependency(self):
        deps = [self.add("sleep", {"ms": 5})[0] for _ in range(60)]
        j, state = self.add("echo", {"fan": "in"}, "--after", ",".join(deps))
        self.assertEqual(state, "deferred")
        self.assertEqual(self.job(j)["deps_left"], 60)
        self.run_all()
        rec = self.record(j)
        self.assertEqual(rec["state"], "completed")
        self.assertEqual(rec["attempts"], "1")
        last = max(int(self.record(d)["finished_us"]) for d in deps)
        self.assertGreaterEqual(int(rec["started_us"]), last)
        self.assertEqual(rec["deps_left"], "0")

    def test_dependencies_on_other_queues_and_a_delay(self):
        a, _ = self.add("echo", {}, "--queue", "data", "--priority", "high")
        b, state = self.add("echo", {}, "--after", a, "--delay", "1.5")
        self.assertEqual(state, "deferred")
        self.run_all("--queues", "data")
        self.assertEqual(self.state(a), "completed")
        # Ready as far as a goes; its delay still counts (the record keeps it).
        self.assertEqual(self.state(b), "queued")
        rec = self.record(b)
        self.assertLessEqual(abs(int(rec["not_before"]) - (int(rec["enqueued_us"]) // 1000 + 1500)), 5)
        created = int(self.record(b)["enqueued_us"]) // 1000
        wait_for(lambda: time.time() * 1000 >= created + 1500, 5, what="the delay")
        self.run_all()
        rec = self.record(b)
        self.assertEqual(rec["state"], "completed")
        self.assertGreaterEqual(int(rec["started_us"]) // 1000, created + 1500)

    def test_an_already_completed_dependency_counts_at_once(self):
        a, _ = self.add("echo", {})
        self.run_all()
        b, state = self.add("echo", {}, "--after", a)
        self.assertEqual(state, "queued")
        # b still needs a's result until it has run: kept past the TTL.
        self.assertEqual(self.r.ttl(f"task_result:{a}"), -1)
        self.run_all()
        self.assertEqual(self.state(b), "completed")
        self.assertGreater(self.r.ttl(f"task_result:{a}"), 0)


class TestFailures(DepsCase):
    def test_a_failure_runs_down_the_chain_and_after_any_still_runs(self):
        f, _ = self.add("fail", {"permanent": True})
        b, _ = self.add("echo", {}, "--after", f)
        c, _ = self.add("echo", {}, "--after", b)
        d, _ = self.add("echo", {"ran": True}, "--after", b, "--after-any")
        self.run_all()
        self.assertEqual(self.state(f), "failed")
        self.assertEqual((self.state(b), self.state(c), self.state(d)), ("failed", "failed", "completed"))
        rb, rc = self.result(b), self.result(c)
        self.assertEqual(rb["status"], "error")
        self.assertEqual(rb["data"]["error"], f"dependency {f} ended failed")
        self.assertEqual(rb["data"]["dependency"], f)
        self.assertEqual(rc["data"]["error"], f"dependency {b} ended failed")
        self.assertEqual(self.record(b)["attempts"], "0")
        self.assertTrue(self.result(d)["data"]["ran"])
        failed = [json.loads(l)["id"] for l in self.ok("jobs", "--state", "failed", "--json").stdout.splitlines()]
        self.assertEqual(sorted(failed), sorted([f, b, c]))
        stats = json.loads(self.ok("stats", "--json").stdout)
        self.assertEqual(stats["counters"]["backtest"]["failed"], 3)

    def test_a_dead_dependency_fails_its_dependents(self):
        f, _ = self.add("fail", {}, "--max-retries", "0")
        b, _ = self.add("echo", {}, "--after", f)
        self.run_all()
        self.assertEqual(self.state(f), "dead")
        self.assertEqual(self.result(b)["data"]["error"], f"dependency {f} ended dead")

    def test_fan_in_with_after_any_runs_when_all_have_ended(self):
        ok, _ = self.add("echo", {})
        bad, _ = self.add("fail", {"permanent": True})
        strict, _ = self.add("echo", {}, "--after", f"{ok},{bad}")
        anyway, _ = self.add("echo", {}, "--after", f"{ok},{bad}", "--after-any")
        self.run_all()
        self.assertEqual(self.state(strict), "failed")
        self.assertEqual(self.result(strict)["data"]["error"], f"dependency {bad} ended failed")
        self.assertEqual(self.state(anyway), "completed")
        self.assertEqual(self.job(anyway)["depends_on"], [{"id": ok, "state": "completed"},
                                                          {"id": bad, "state": "failed"}])

    def test_a_worker_killed_while_running_a_dependency(self):
        # The first attempt kills its worker child; the retry completes and
        # only then does the dependent run.
        a, _ = self.add("fail", {"crash": True, "times": 1})
        b, _ = self.add("echo", {}, "--after", a)
        w = self.worker("--workers", "1", "--retry-base", "50ms")
        wait_for(lambda: self.state(b) == "completed", 30, what="the dependent to complete")
        w.stop()
        ra, rb = self.record(a), self.record(b)
        self.assertEqual(ra["state"], "completed")
        self.assertEqual(ra["attempts"], "2")
        self.assertGreaterEqual(int(rb["started_us"]), int(ra["finished_us"]))


class TestRefusals(DepsCase):
    def test_unknown_ids_and_bad_lists_are_refused(self):
        err = self.refused("--after", "no-such-job")
        self.assertIn("dependency no-such-job is not a job (unknown, or its record expired)", err)
        self.assertIn("depends_on has an empty job id", self.refused("--after", "a,,b"))
        self.assertIn("more than 10000", self.refused("--after", ",".join(f"j{i}" for i in range(10001))))
        err = self.refused("--after-any", status=64)
        self.assertIn("--after-any needs --after", err)
        self.assertIn("--after given twice", self.refused("--after", "a", "--after", "b", status=64))
        a, _ = self.add("echo", {})
        self.assertIn("cannot depend on itself", self.refused("--id", "me", "--after", f"{a},me"))
        # Nothing was written by a refused enqueue: no record, no link.
        self.assertEqual(self.r.keys(f"{PREFIX}:job:me"), [])
        self.assertEqual(self.r.keys(f"{PREFIX}:dependents:*"), [])
        self.assertNotIn("needed_by", self.record(a))

    def test_a_dependency_that_already_failed_is_refused_unless_after_any(self):
        f, _ = self.add("fail", {"permanent": True})
        self.run_all()
        err = self.refused("--after", f)
        self.assertIn(f"dependency {f} has already ended failed", err)
        self.assertIn("after_any", err)
        j, state = self.add("echo", {}, "--after", f, "--after-any")
        self.assertEqual(state, "queued")
        self.run_all()
        self.assertEqual(self.state(j), "completed")

    def test_a_needed_result_cannot_be_replaced(self):
        a, _ = self.add("echo", {}, "--id", "src")
        self.run_all()
        self.add("echo", {}, "--after", "src", "--queue", "later")
        err = self.refused("--id", "src", "--replace")
        self.assertIn("job src cannot run again yet: 1 waiting job(s) depend on its result", err)
        self.run_all("--queues", "later")
        self.add("echo", {}, "--id", "src", "--replace")


class TestLongChainsAndReruns(DepsCase):
    def test_a_failure_runs_down_a_chain_of_10000_in_one_call(self):
        """The cascade is a loop, not a recursion: a chain of 10,000 fails
        whole when its head fails (one finish call), nothing left deferred."""
        self.load_library()
        pipe = self.r.pipeline(transaction=False)
        n = 10000
        header = fcall_header()
        for i in range(n):
            extra = ["0", f"c{i - 1}", "0"] if i else []
            args = [f"c{i}", "fail" if i == 0 else "noop", '{"permanent": true}' if i == 0 else "{}", "backtest",
                    "normal", "0", "0", "0", "1048576", str(time.time_ns() // 1000), "0", *extra]
            pipe.fcall("tickq_p1_enqueue", 0, *header, *args)
        replies = pipe.execute()
        self.assertEqual([r[2] for r in replies[:2]], ["queued", "deferred"])
        self.run_all()
        self.assertEqual(self.state(f"c{n - 1}"), "failed")
        self.assertEqual(self.result(f"c{n - 1}")["data"]["error"], f"dependency c{n - 2} ended failed")
        self.assertEqual(self.r.zcard(f"{PREFIX}:deferred:backtest_normal"), 0)
        self.assertEqual(self.r.keys(f"{PREFIX}:dependents:*"), [])
        self.assertEqual(json.loads(self.ok("stats", "--json").stdout)["counters"]["backtest"]["failed"], n)

    def test_a_needed_result_survives_a_list_push_and_refuses_retry(self):
        f, _ = self.add("fail", {"permanent": True}, "--id", "F")
        self.run_all()
        self.add("echo", {}, "--id", "W", "--after", "F", "--after-any", "--queue", "later")
        kept = self.r.get("task_result:F")
        p = self.tickq("retry", "F")
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("job F cannot run again yet: 1 waiting job(s) depend on its result", p.stderr)
        # The users' list: a push of F's id is refused, F's kept result stays.
        self.r.lpush("strategy_queue", json.dumps({"task_id": "F", "task_type": "echo", "args": {}}))
        self.run_all()
        self.assertEqual(self.r.get("task_result:F"), kept)
        self.assertEqual(self.r.ttl("task_result:F"), -1)
        self.assertEqual(self.state("F"), "failed")
        self.run_all("--queues", "later")
        self.assertEqual(self.state("W"), "completed")
        self.assertGreater(self.r.ttl("task_result:F"), 0)


class TestCancelAndPurge(DepsCase):
    def test_cancelling_a_dependency_or_a_deferred_job(self):
        a, _ = self.add("echo", {})
        b, _ = self.add("echo", {}, "--after", a)
        c, _ = self.add("echo", {}, "--after", b)
        self.ok("cancel", b)
        self.assertEqual(self.state(b), "cancelled")
        self.assertEqual(self.state(c), "failed")
        self.assertEqual(self.result(c)["data"]["error"], f"dependency {b} ended cancelled")
        self.assertEqual(self.r.zcard(f"{PREFIX}:deferred:backtest_normal"), 0)
        # a's result is needed by nobody now, and nothing is left waiting on a.
        self.assertNotIn("needed_by", self.record(a))
        self.assertEqual(self.r.keys(f"{PREFIX}:dependents:*"), [])
        d, _ = self.add("echo", {}, "--after", a)
        self.ok("cancel", a)
        self.assertEqual(self.result(d)["data"]["error"], f"dependency {a} ended cancelled")
        self.assertEqual(self.r.keys(f"{PREFIX}:dependents:*"), [])

    def test_a_cancelled_dependent_run_again_is_not_settled_by_its_old_dependency(self):
        a, _ = self.add("echo", {}, "--id", "A")
        self.add("echo", {}, "--id", "D", "--after", "A")
        self.ok("cancel", "D")                     # D ends first: A no longer lists it
        self.assertEqual(self.r.smembers(f"{PREFIX}:dependents:A"), set())
        self.add("echo", {}, "--id", "E", "--after", "A")
        self.add("echo", {}, "--id", "X", "--queue", "qx")
        self.add("echo", {}, "--id", "D", "--replace", "--after", "X")   # run 2 waits for X only
        self.ok("cancel", "A")
        self.assertEqual(self.state("E"), "failed")
        self.assertEqual(self.state("D"), "deferred")     # not failed by A, D's run-1 dependency
        self.run_all("--queues", "qx")
        self.assertEqual(self.state("D"), "queued")
        self.assertEqual(self.r.keys(f"{PREFIX}:dependents:*"), [])

    def test_purge_cancels_deferred_jobs(self):
        a, _ = self.add("echo", {}, "--queue", "other")
        b, _ = self.add("echo", {}, "--after", a)
        p = self.tickq("purge", "backtest")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("1 deferred", p.stderr)
        self.ok("purge", "backtest", "--yes")
        self.assertEqual(self.state(b), "cancelled")
        self.assertEqual(self.result(b)["data"]["error"], "Job purged")
        self.assertNotIn("needed_by", self.record(a))
        self.assertEqual(self.r.keys(f"{PREFIX}:dependents:*"), [])

    def test_purge_cancels_a_chain_in_its_queue_as_purged_not_failed(self):
        """A ready job of the queue with a chain deferred on it in the same
        queue: the purge ends the whole chain cancelled "Job purged" and
        counts it, whichever it reaches first; a dependent in another queue
        is failed by the cancelled dependency, as a cancel would."""
        a, _ = self.add("echo", {}, "--queue", "pq", "--id", "pa")
        b, _ = self.add("echo", {}, "--queue", "pq", "--id", "pb", "--after", a)
        c, _ = self.add("echo", {}, "--queue", "pq", "--id", "pc", "--after", b)
        x, _ = self.add("echo", {}, "--queue", "other", "--id", "px")
        d, _ = self.add("echo", {}, "--queue", "pq", "--id", "pd", "--after", x)
        e, _ = self.add("echo", {}, "--queue", "elsewhere", "--id", "pe", "--after", a)
        any_, _ = self.add("echo", {}, "--queue", "pq", "--id", "pany", "--after", a, "--after-any")
        p = self.ok("purge", "pq", "--yes")
        self.assertIn('purged pq: 5 jobs cancelled ("Job purged")', p.stdout)
        for jid in (a, b, c, d, any_):     # the after-any one too: not released into the queue being emptied
            self.assertEqual(self.state(jid), "cancelled", jid)
            self.assertEqual(self.result(jid)["data"]["error"], "Job purged", jid)
        self.assertEqual(self.state(e), "failed")
        self.assertEqual(self.result(e)["data"]["error"], f"dependency {a} ended cancelled")
        counts = self.counters("pq")
        self.assertEqual((counts["cancelled"], counts.get("failed", 0)), (5, 0))
        self.assertEqual(self.state(x), "queued")
        self.assertEqual(self.r.zcard("tickq:deferred:pq_normal") + self.r.xlen("tickq:queue:pq_normal"), 0)

    def test_a_dependents_result_carries_its_dependencys_error_cut_whole(self):
        """dependency_error is the dependency's error, its first 500 bytes
        cut at a character: valid UTF-8 that clients read."""
        message = "a" * 499 + "\u00e9" + "tail"       # the é straddles byte 500
        a, _ = self.add("fail", {"permanent": True, "message": message}, "--queue", "de")
        b, _ = self.add("echo", {}, "--queue", "de", "--after", a)
        self.run_all("--queues", "de")
        data = self.result(b)["data"]
        self.assertEqual((data["dependency"], data["dependency_state"]), (a, "failed"))
        self.assertEqual(data["dependency_error"], "a" * 499)
        self.assertEqual(self.tickq("result", b).returncode, 1)

    def test_a_deferred_job_past_its_expiry_ends_cancelled_when_ready(self):
        a, _ = self.add("echo", {}, "--queue", "other")
        b, _ = self.add("echo", {}, "--after", a, "--expires", "0.3")
        created = int(self.record(b)["enqueued_us"]) // 1000
        wait_for(lambda: time.time() * 1000 > created + 400, 5, what="the expiry")
        self.run_all("--queues", "other")
        self.assertEqual(self.state(b), "cancelled")
        self.assertEqual(self.result(b)["data"]["error"], "Job expired")


class TestApiAndClient(DepsCase):
    def test_rest_api_and_metrics(self):
        s = self.serve()
        a = self.expect(self.post(s, "/api/tasks", {"type": "echo"}), 201)["id"]
        made = self.expect(self.post(s, "/api/tasks", {"type": "echo", "depends_on": [a]}), 201)
        self.assertEqual(made["state"], "deferred")
        self.expect(self.post(s, "/api/tasks", {"type": "echo", "depends_on": a}), 400,
                    "depends_on must be a non-empty list of job ids")
        self.expect(self.post(s, "/api/tasks", {"type": "echo", "depends_on": ["x,y"]}), 400,
                    "depends_on[0] must be a job id")
        self.expect(self.post(s, "/api/tasks", {"type": "echo", "depends_on": ["nope"]}), 400,
                    "dependency nope is not a job")
        self.expect(self.post(s, "/api/tasks", {"type": "echo", "after_any": True}), 400,
                    "after_any needs depends_on")
        self.expect(self.post(s, "/api/tasks", {"type": "echo", "depends_on": [a], "after_any": 1}), 400,
                    "after_any must be true or false")
        view = self.expect(self.get(s, f"/api/tasks/{made['id']}"), 200)
        self.assertEqual(view["state"], "deferred")
        listed = self.expect(self.get(s, "/api/tasks?state=deferred"), 200)
        self.assertEqual([x["id"] for x in listed["jobs"]], [made["id"]])
        m = self.metrics(s)
        self.assertEqual(m.value("tickq_queue_jobs", queue="backtest", priority="normal", state="deferred"), 1)
        self.run_all()
        self.assertEqual(self.state(made["id"]), "completed")
        self.wait_metric(s, "tickq_queue_jobs", 0, queue="backtest", priority="normal", state="deferred")

    def test_python_client(self):
        self.load_library()
        client = Client(self.url)
        a = client.enqueue("echo", {"n": 1})
        b = client.enqueue("echo", {"n": 2}, depends_on=a)
        c = client.enqueue("echo", {"n": 3}, depends_on=[a, b], after_any=True)
        self.assertEqual((self.state(b), self.state(c)), ("deferred", "deferred"))
        self.assertEqual(self.record(c)["after_any"], "1")
        with self.assertRaisesRegex(ValueError, "job refused: dependency nope is not a job"):
            client.enqueue("echo", depends_on=["nope"])
        with self.assertRaisesRegex(ValueError, "after_any=True needs depends_on"):
            client.enqueue("echo", after_any=True)
        with self.assertRaisesRegex(ValueError, "holds a comma"):
            client.enqueue("echo", depends_on=["a,b"])
        self.run_all()
        self.assertEqual([self.state(x) for x in (a, b, c)], ["completed"] * 3)


class TestChainTimes(DepsCase):
    def test_a_dependent_failed_by_its_dependency_stops_waiting(self):
        """`tickq flow` of a chain: the step its dependency failed never
        started; it waited from its enqueue to its end, and that stays."""
        a, _ = self.add("fail", {"permanent": True})
        b, _ = self.add("echo", {}, "--after", a)
        self.run_all()
        self.assertEqual((self.state(a), self.state(b)), ("failed", "failed"))
        before = json.loads(self.ok("flow", b, "--json").stdout)
        time.sleep(0.5)   # on purpose: time passes after it ended
        after = json.loads(self.ok("flow", b, "--json").stdout)
        self.assertEqual(before, after)
        self.assertEqual(after["children"][0]["id"], a)
        self.assertNotIn("ran_s", after)
        self.assertNotIn("started_us", self.record(b))
        self.assertLess(after["waited_s"], 5)
