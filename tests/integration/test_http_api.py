"""test_http_api.py — the HTTP server's REST API against a real Redis:
POST /api/tasks (run through a worker, every refusal, 409, replace, 413),
GET and DELETE /api/tasks/{id} (a job's failed attempts, a handler job's
progress), queues, workers, schedules, dead letters and their retry, the
scan trigger; routing (404, 405 with Allow, unknown query parameters, the
route table against docs/http.md); the API token on every route of the
server's route table (src/http/http_app.c: a route with no line in
ENDPOINTS fails), 401, 403, /health and the page without it, audit lines,
413 on every mutating route; the browser guard (literal loopback Host
names, whole origins); a NUL in a path; Redis stalled under an enqueue
(SIGSTOP: the outcome is unknown, the ids named) or refusing it (nothing
done); and the command line: a bind beyond loopback without a token, a bad
TICKQ_SAMPLE_MS, a port in use, bad --http values."""
import json
import os
import re
import socket
import subprocess
import time

from harness import ROOT, fill_until_oom, wait_for
from http_harness import HANDLER_ENV, TOKEN, HttpCase, json_lines, stalled
from test_scheduler import yearly_after

BODY_LIMIT = 1024 * 1024 + 64 * 1024   # the payload limit (1 MiB) plus 64 KiB
ROUTE_RE = re.compile(r'\{\s*"([A-Z]+)",\s*"([^"]+)",\s*\w+,\s*([A-Z_ |0]+?)\s*\}')
PUBLIC = {("GET", "/"), ("GET", "/health"), ("GET", "/health/live"), ("GET", "/health/ready")}
UPDATE_BODY = {"options_provider": {"type": "synthetic"}}
# Every route but the public ones, keyed as the route table writes it: a
# path to call it on, a body, its status with the token, and the jobs such
# a call enqueues.
ENDPOINTS = {
    ("GET", "/metrics"): ("/metrics", None, 200, 0),
    ("POST", "/api/tasks"): ("/api/tasks", {"type": "noop"}, 201, 1),
    ("GET", "/api/tasks"): ("/api/tasks?state=failed", None, 200, 0),
    ("GET", "/api/tasks/{id*}"): ("/api/tasks/none", None, 404, 0),
    ("DELETE", "/api/tasks/{id*}"): ("/api/tasks/none", None, 404, 0),
    ("POST", "/api/retry/{id*}"): ("/api/retry/none", None, 404, 0),
    ("POST", "/api/delete/{id*}"): ("/api/delete/none", None, 404, 0),
    ("GET", "/api/tables/{id*}"): ("/api/tables/none", None, 404, 0),
    ("GET", "/api/queues"): ("/api/queues", None, 200, 0),
    ("POST", "/api/queues/{name}/purge"): ("/api/queues/nothing_here/purge", None, 200, 0),
    ("GET", "/api/workers"): ("/api/workers", None, 200, 0),
    ("GET", "/api/overview/history"): ("/api/overview/history", None, 200, 0),
    ("GET", "/api/schedules"): ("/api/schedules", None, 200, 0),
    ("GET", "/api/calendar"): ("/api/calendar", None, 200, 0),
    ("GET", "/api/options"): ("/api/options", None, 200, 0),
    ("GET", "/api/iv/{symbol*}"): ("/api/iv/AAPL", None, 200, 0),
    ("GET", "/api/opportunities"): ("/api/opportunities", None, 200, 0),
    ("GET", "/api/dlq"): ("/api/dlq", None, 200, 0),
    ("POST", "/api/dlq/{entry}/retry"): ("/api/dlq/1-0/retry", None, 404, 0),
    ("POST", "/api/opportunities/scan"): ("/api/opportunities/scan", {}, 201, 1),
    ("POST", "/api/update/{symbol}"): ("/api/update/AAPL", UPDATE_BODY, 201, 3),
    ("POST", "/api/update-all"): ("/api/update-all", UPDATE_BODY, 201, 3),
}


def route_table():
    """The server's routes as src/http/http_app.c lists them (g_routes):
    [(method, pattern, flags)], flags the set of its HTTP_* names."""
    with open(os.path.join(ROOT, "src", "http", "http_app.c")) as f:
        text = f.read()
    start = text.index("g_routes[] = {")
    table = text[start:text.index("};", start)]
    routes = [(m, p, set(flags.replace(" ", "").split("|")) - {"0"}) for m, p, flags in ROUTE_RE.findall(table)]
    assert len(routes) == table.count('{ "'), table   # every row read
    return routes


def pattern_re(pattern):
    """A route pattern as a regular expression: {name} one segment, {name*}
    the rest of the path."""
    out = re.escape(pattern)
    out = re.sub(r"\\\{\w+\\\*\\\}", ".+", out)
    return "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", out) + "$"
ENTRY_RE = re.compile(r"^\d+-\d+$")
WINDOW = {"strategy_code": "function f(df) return {} end", "symbols": ["AAA"], "start_date": "2024-01-01",
          "end_date": "2024-06-30"}


class TestTasks(HttpCase):
    def jobs(self):
        return sorted(k[len("tickq:job:"):] for k in self.r.keys("tickq:job:*"))

    def test_post_then_a_worker_completes_it(self):
        s = self.serve()
        body = self.expect(self.post(s, "/api/tasks", {"type": "echo", "args": {"x": 1}, "queue": "rq",
                                                        "priority": "high", "max_retries": 1, "timeout": 30}), 201)
        jid = body["id"]
        self.assertEqual(body, {"id": jid, "created": True, "state": "queued", "run": 1})
        self.assertEqual(self.jobs(), [jid])
        job = self.expect(self.get(s, f"/api/tasks/{jid}"), 200)
        self.assertEqual((job["id"], job["type"], job["state"], job["queue"], job["priority"], job["max_retries"],
                          job["timeout_seconds"], job["args"], job["result"]),
                         (jid, "echo", "queued", "rq", "high", 1, 30.0, {"x": 1}, None))
        status, w = self.burst("--queues", "rq", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        job = self.expect(self.get(s, f"/api/tasks/{jid}"), 200)
        self.assertEqual((job["state"], job["attempts"], job["retries"]), ("completed", 1, []))
        self.assertEqual(job["result"]["status"], "completed")
        self.assertEqual(job["result"]["data"]["x"], 1)
        self.assertEqual(job["result"], self.result(jid))
        (line,) = self.audit(s)
        self.assertEqual((line["client"], line["method"], line["path"], line["status"], line["auth"]),
                         ("127.0.0.1", "POST", "/api/tasks", 201, "none"))

    def test_get_prints_numbers_in_their_fewest_exact_digits(self):
        """GET /api/tasks/{id} writes timeout_seconds (timeout_ms / 1000),
        the args' decimals and the result's as `tickq job` does: 0.1, not
        jansson's 17 digits (0.10000000000000001)."""
        s = self.serve()
        jid = self.expect(self.post(s, "/api/tasks", {"type": "echo", "args": {"qty": 0.1, "px": 101.7},
                                                      "queue": "rq", "timeout": 0.1}), 201)["id"]
        reply = self.get(s, f"/api/tasks/{jid}")
        self.assertEqual(reply.status, 200, reply)
        self.assertIn(b'"timeout_seconds":0.1,', reply.body)
        self.assertIn(b'"args":{"qty":0.1,"px":101.7},', reply.body)
        self.assertIn(b'"timeout_ms":100,', reply.body)
        status, w = self.burst("--queues", "rq", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        reply = self.get(s, f"/api/tasks/{jid}")
        job = self.expect(reply, 200)
        self.assertEqual(job["result"]["data"]["qty"], 0.1)
        self.assertEqual(reply.body.count(b'"qty":0.1,'), 2, reply.body)   # the args, the result's echo
        # The result's reals as the worker wrote them (each in its fewest exact
        # digits), not padded to 17.
        stored = re.search(r'"execution_time_seconds":([^,}]+)', self.r.get(f"task_result:{jid}")).group(1)
        shown = re.search(rb'"execution_time_seconds":([^,}]+)', reply.body).group(1).decode()
        self.assertEqual(shown, stored)

    def test_refusals_name_the_problem_and_enqueue_nothing(self):
        s = self.serve()
        cases = [
            ('{"type": "echo",', "the body is not JSON"),
            ("", "the body is not JSON"),
            ('{"type": "echo", "type": "noop"}', "the body is not JSON"),
            ('{"type": "echo", "args": {"x": "\\u0000"}}',
             "the body holds a NUL character (\\u0000, line 1, column 39): tickq takes text without NUL"),
            ("[]", "the list has 0 tasks: post 1 to 10000"),
            ('[{"type": "echo"}, 3]', "task 1: a task is a JSON object"),
            ('[{"type": "echo"}, {"type": "echo", "tmeout": 3}]', "task 1: unknown field 'tmeout'"),
            ('[{"type": "echo"}, {"type": "nosuch"}]', "task 1: job refused: unknown task type 'nosuch'"),
            ('[{"type": "echo", "depends_on": ["x"]}]', "task 0: depends_on is not taken in a batch"),
            ('[{"type": "echo", "after_any": true}]', "task 0: after_any is not taken in a batch"),
            ('"echo"', "a task must be a JSON object"),
            ({"type": "echo", "tmeout": 3}, "unknown field 'tmeout' (did you mean 'timeout'?)"),
            ({"type": "echo", "args": [1]}, "args must be a JSON object"),
            ({"type": "echo", "args": "x=1"}, "args must be a JSON object"),
            ({"type": "backtest", "args": dict(WINDOW, hold_bar=2)},
             "unknown argument 'hold_bar' (did you mean 'hold_bars'?)"),
            ({"type": "sleep", "args": {"ms": -1}}, "job refused: "),
            ({"type": "nosuch"}, "unknown task type 'nosuch'"),
            ({"args": {}}, "type must be a string"),
            ({"type": "echo", "timeout": 0}, "timeout must be a number of seconds above 0"),
            ({"type": "echo", "timeout": "30"}, "timeout must be a number of seconds"),
            ({"type": "echo", "delay": -1}, "delay must be a number of seconds from 0"),
            ({"type": "echo", "max_retries": -1}, "max_retries must be an integer from 0"),
            ({"type": "echo", "max_retries": 1.5}, "max_retries must be an integer"),
            ({"type": "echo", "replace": True}, "replace needs an id"),
            ({"type": "echo", "replace": "yes", "id": "r"}, "replace must be true or false"),
            ({"type": "echo", "queue": 7}, "queue must be a string"),
        ]
        for body, error in cases:
            with self.subTest(body=body):
                self.expect(self.post(s, "/api/tasks", body), 400, error)
        self.assertEqual(self.jobs(), [])
        self.assertEqual(self.counters("backtest").get("submitted", 0), 0)
        self.assertEqual(self.get(s, "/health").status, 200)   # the server goes on

    def test_a_list_goes_in_together_or_not_at_all(self):
        s = self.serve()
        self.expect(self.post(s, "/api/tasks", {"type": "echo", "id": "there", "queue": "lq"}), 201)
        body = self.expect(self.post(s, "/api/tasks", [
            {"type": "echo", "args": {"n": 1}, "id": "l-1", "queue": "lq"},
            {"type": "echo", "id": "there", "queue": "lq"},
            {"type": "noop", "queue": "lq", "priority": "high", "max_retries": 0, "timeout": 5}]), 201)
        self.assertEqual((body["created"], body["existing"]), (2, 1))
        self.assertEqual([(j["id"], j["created"], j["state"], j["run"]) for j in body["jobs"][:2]],
                         [("l-1", True, "queued", 1), ("there", False, "queued", 1)])
        third = body["jobs"][2]["id"]
        self.assertEqual(self.r.hmget(f"tickq:job:{third}", "type", "priority", "max_retries", "timeout_ms"),
                         ["noop", "high", "0", "5000"])
        self.assertEqual(self.counters("lq")["submitted"], 3)
        status, w = self.burst("--queues", "lq", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual([self.state(j) for j in ("l-1", "there", third)], ["completed"] * 3)
        self.assertEqual(self.result("l-1")["data"]["n"], 1)
        # one refusal Redis finds (a replace of a job a waiting job needs) refuses the whole list
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "nobody", "depends_on": ["l-1"]}), 201)
        body = self.expect(self.post(s, "/api/tasks", [{"type": "echo", "id": "l-2", "queue": "lq"},
                                                       {"type": "echo", "id": "l-1", "replace": True,
                                                        "queue": "lq"}]),
                           400, "task 1 (l-1): job refused: job l-1 cannot run again yet: 1 waiting job(s)")
        self.assertEqual((body["enqueued"], body["ids"]), (0, []))
        self.assertIsNone(self.state("l-2"))
        self.assertEqual(self.state("l-1"), "completed")

    def test_duplicate_id_conflicts_and_replace_runs_a_finished_job_again(self):
        s = self.serve()
        first = {"type": "echo", "args": {"n": 1}, "id": "job-1", "queue": "dup"}
        self.expect(self.post(s, "/api/tasks", first), 201)
        body = self.expect(self.post(s, "/api/tasks", first), 409, "job job-1 already exists (state queued, run 1)")
        self.assertEqual((body["id"], body["state"], body["run"]), ("job-1", "queued", 1))
        body = self.expect(self.post(s, "/api/tasks", dict(first, replace=True)), 409,
                           "replace runs again only a finished job")
        self.assertEqual(body["state"], "queued")
        status, w = self.burst("--queues", "dup", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.expect(self.post(s, "/api/tasks", first), 409, "(state completed, run 1)")
        body = self.expect(self.post(s, "/api/tasks", dict(first, args={"n": 2}, replace=True)), 201)
        self.assertEqual(body, {"id": "job-1", "created": True, "state": "queued", "run": 2, "replaced": "completed"})
        job = self.expect(self.get(s, "/api/tasks/job-1"), 200)
        self.assertEqual((job["run"], job["state"], job["args"]), (2, "queued", {"n": 2}))
        self.assertEqual(self.jobs(), ["job-1"])

    def test_bodies_over_the_limit_are_413(self):
        s = self.serve()
        small = json.dumps({"type": "echo", "args": {}, "id": "at-limit"})
        # Whitespace is JSON too: a body of exactly the limit is read.
        at = small + " " * (BODY_LIMIT - len(small))
        self.expect(self.post(s, "/api/tasks", at), 201)
        over = small.replace("at-limit", "over-limit") + " " * (BODY_LIMIT + 1 - len(small))
        self.expect(self.post(s, "/api/tasks", over), 413, f"the request body is over {BODY_LIMIT} bytes")
        huge = {"type": "echo", "args": {"pad": "x" * (4 * BODY_LIMIT)}, "id": "huge"}
        self.expect(self.post(s, "/api/tasks", huge), 413, "over")
        # Within the body limit, args over the payload limit (1 MiB).
        args = {"type": "echo", "args": {"pad": "x" * (1024 * 1024)}, "id": "big-args"}
        self.expect(self.post(s, "/api/tasks", args), 413, "job refused")
        self.assertEqual(self.jobs(), ["at-limit"])
        self.assertEqual(self.get(s, "/health").status, 200)
        statuses = [(x["path"], x["status"]) for x in self.audit(s)]
        self.assertEqual(statuses, [("/api/tasks", 201), ("/api/tasks", 413), ("/api/tasks", 413),
                                    ("/api/tasks", 413)])

    def test_get_shows_each_failed_attempt_as_tickq_job_does(self):
        s = self.serve()
        jid = self.expect(self.post(s, "/api/tasks", {"type": "fail", "args": {"message": "vendor down"},
                                                        "max_retries": 1}), 201)["id"]
        self.assertEqual(self.expect(self.get(s, f"/api/tasks/{jid}"), 200)["retries"], [])
        status, w = self.burst("--workers", "1", "--retry-base", "10ms")
        self.assertEqual(status, 0, w.log())
        job = self.expect(self.get(s, f"/api/tasks/{jid}"), 200)
        self.assertEqual((job["state"], job["attempts"], job["max_retries"], job["error"]),
                         ("dead", 2, 1, "vendor down"))
        retries = job["retries"]
        self.assertEqual([(r["attempt"], r["kind"], r["error"], r["run"]) for r in retries],
                         [(1, "transient", "vendor down", 1), (2, "transient", "vendor down", 1)])
        worker = self.started_line(w)["worker"]
        for r in retries:
            self.assertTrue(r["worker_id"].startswith(worker), (r, worker))
            self.assertRegex(r["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertLessEqual(retries[0]["at"], retries[1]["at"])
        self.assertEqual(retries, self.retries(jid))   # Redis's list, as stored
        self.assertEqual(job["result"]["data"]["attempts"], 2)
        # `tickq job` shows the same record, retries included (the API adds the result).
        p = self.tickq("job", jid)
        self.assertEqual(p.returncode, 0, p.stderr)
        del job["result"]
        self.assertEqual(json.loads(p.stdout), job)

    def test_get_shows_a_handler_jobs_progress(self):
        tmp = self.temp_dir()
        config = self.handler_config(tmp, "progress_wait")
        marker = os.path.join(tmp, "go-on")
        self.addCleanup(lambda: open(marker, "w").close())   # a failed test does not leave the job holding
        w = self.http_worker("--config", config, "--workers", "1", env=HANDLER_ENV)
        wait_for(lambda: "handler started" in w.log(), 20, what="the handler's announcement")
        jid = self.expect(self.post(w, "/api/tasks", {"type": "progress_wait", "args": {"marker": marker}}), 201)["id"]
        job = wait_for(lambda: (lambda j: j.get("progress") == 0.5 and j)(self.get(w, f"/api/tasks/{jid}").json()),
                       20, what="the job's progress")
        self.assertEqual((job["state"], job["progress_message"]), ("running", "half way"))
        self.assertTrue(job["worker"].startswith(self.started_line(w)["worker"]), job["worker"])
        self.assertGreaterEqual(job["running_for_ms"], 0)
        self.assertEqual(job["result"]["status"], "running")
        open(marker, "w").close()
        self.wait_state(jid, "completed", 20)
        job = self.expect(self.get(w, f"/api/tasks/{jid}"), 200)
        self.assertEqual(job["result"]["data"]["saw_marker"], True)

    def test_ids_with_slashes_are_addressable(self):
        """A job id may hold '/': GET and DELETE reach it sent as is or as %2F."""
        s = self.serve()
        for jid in ("AAPL/2024-06-03", "a/b/c"):
            self.expect(self.post(s, "/api/tasks", {"type": "noop", "id": jid, "queue": "nobody"}), 201)
        self.assertEqual(self.expect(self.get(s, "/api/tasks/AAPL/2024-06-03"), 200)["id"], "AAPL/2024-06-03")
        self.assertEqual(self.expect(self.get(s, "/api/tasks/AAPL%2F2024-06-03"), 200)["id"], "AAPL/2024-06-03")
        self.assertEqual(self.expect(self.call(s, "DELETE", "/api/tasks/a%2Fb/c"), 200),
                         {"id": "a/b/c", "state": "cancelled"})
        self.assertEqual(self.state("a/b/c"), "cancelled")
        self.assertEqual(self.state("AAPL/2024-06-03"), "queued")
        self.expect(self.get(s, "/api/tasks/a/b"), 404, "no job a/b")

    def test_get_and_delete_unknown_ids_are_404(self):
        s = self.serve()
        self.expect(self.get(s, "/api/tasks/nope"), 404, "no job nope")
        self.expect(self.call(s, "DELETE", "/api/tasks/nope"), 404, "no job nope")

    def test_retry_runs_a_failed_job_again_and_refuses_other_states(self):
        s = self.serve()
        failed = self.enqueue("fail", {"permanent": True, "message": "bad input"})
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.expect(self.post(s, "/api/retry/" + failed), 200),
                         {"id": failed, "state": "queued", "run": 2})
        self.assertEqual(self.state(failed), "queued")
        body = self.expect(self.post(s, "/api/retry/" + failed), 409, f"job {failed} is queued, not failed or dead")
        self.assertEqual(body["state"], "queued")
        self.expect(self.post(s, "/api/retry/nope"), 404, "no job nope")
        self.expect(self.post(s, "/api/retry/a%20b"), 400, "spaces and control characters")
        self.expect(self.get(s, "/api/retry/" + failed), 405)
        self.assertTrue(any(x.get("msg") == "api audit" and x.get("path") == "/api/retry/" + failed
                            for x in s.log_lines()), s.log())

    def test_delete_removes_a_finished_job_and_refuses_the_others(self):
        s = self.serve()
        failed = self.enqueue("fail", {"permanent": True, "message": "bad input"})
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        waiting = self.enqueue("noop")
        body = self.expect(self.post(s, "/api/delete/" + waiting), 409, f"job {waiting} is queued, not finished")
        self.assertEqual(body["state"], "queued")
        self.assertEqual(self.state(waiting), "queued")
        self.expect(self.get(s, "/api/delete/" + failed), 405)
        self.expect(self.post(s, "/api/delete/" + failed + "?force=1"), 400, "force")
        self.assertEqual(self.expect(self.post(s, "/api/delete/" + failed), 200),
                         {"id": failed, "state": "failed", "deleted": True})
        self.assertIsNone(self.state(failed))
        self.assertIsNone(self.r.get(f"task_result:{failed}"))
        self.expect(self.get(s, "/api/tasks/" + failed), 404, f"no job {failed}")
        self.assertNotIn(failed, [j["id"] for j in self.expect(self.get(s, "/api/tasks?state=failed"), 200)["jobs"]])
        self.expect(self.post(s, "/api/delete/" + failed), 404, f"no job {failed}")
        self.expect(self.post(s, "/api/delete/a%20b"), 400, "spaces and control characters")
        self.assertTrue(any(x.get("msg") == "api audit" and x.get("path") == "/api/delete/" + failed
                            for x in s.log_lines()), s.log())

    def test_delete_refuses_a_job_waiting_jobs_depend_on(self):
        s = self.serve()
        first = self.enqueue("noop", None, "--queue", "first")
        then = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "nobody", "depends_on": [first]}),
                           201)["id"]
        status, w = self.burst("--workers", "1", "--queues", "first")
        self.assertEqual(status, 0, w.log())
        body = self.expect(self.post(s, "/api/delete/" + first), 409, "needed by 1 waiting job(s)")
        self.assertEqual(body["needed_by"], 1)
        self.assertEqual(self.state(first), "completed")
        self.assertEqual(self.state(then), "queued")

    def test_workers_list_their_children_and_the_job_each_runs(self):
        s = self.serve()
        w = self.worker("--workers", "2", "--heartbeat", "1s")
        jid = self.enqueue("sleep", {"ms": 60000})
        self.wait_running(jid)

        def children():
            ws = self.get(s, "/api/workers").json()["workers"]
            return ws[0]["children"] if ws and any(c["busy"] for c in ws[0].get("children", [])) else None
        kids = wait_for(children, 15, what="a busy child in the heartbeat")
        self.assertEqual(len(kids), 2)
        (busy,) = [c for c in kids if c["busy"]]
        (idle,) = [c for c in kids if not c["busy"]]
        self.assertEqual((busy["job"]["id"], busy["job"]["type"], busy["job"]["queue"]), (jid, "sleep", "backtest"))
        self.assertRegex(busy["job"]["started_at"], r"^\d{4}-\d\d-\d\dT")
        self.assertIsNone(idle["job"])
        self.assertEqual(self.result(jid)["data"]["worker_id"], busy["id"])
        self.assertTrue(all(isinstance(c["pid"], int) and c["pid"] > 0 for c in kids))
        self.assertEqual(self.tickq("cancel", jid).returncode, 0)   # not to wait a minute for it at stop
        self.assertEqual(w.stop(), 0)

    def test_what_cannot_be_a_job_id_is_400(self):
        """An id no job can have is refused as such (job ids have no spaces
        or control characters, 1 to 128 bytes of UTF-8), not looked up."""
        s = self.serve()
        self.expect(self.get(s, "/api/tasks/a%20b"), 400, "spaces and control characters are not allowed")
        self.expect(self.call(s, "DELETE", "/api/tasks/a%09b"), 400, "spaces and control characters")
        self.expect(self.get(s, "/api/tasks/" + "x" * 129), 400, "use 1-128 characters")
        self.expect(self.get(s, "/api/tasks/%FF%FE"), 400, "a job id is UTF-8 text")
        # A path of bytes that are not UTF-8 is named, not an "out of memory".
        self.expect(self.get(s, "/nope%FF"), 404, "no such endpoint: GET /nope?")
        # A NUL (%00), which would cut the path short, is named with the id as any control character is.
        self.expect(self.get(s, "/api/tasks/a%01b"), 400,
                    "invalid job id 'a\x01b': spaces and control characters are not allowed")
        self.expect(self.get(s, "/api/tasks/%00abc"), 400,
                    "invalid job id '\x00abc': spaces and control characters are not allowed")
        self.expect(self.call(s, "DELETE", "/api/tasks/%00"), 400, "invalid job id '\x00': spaces and control")
        self.expect(self.call(s, "DELETE", "/api/tasks/AAPL/%00/x"), 400, "invalid job id 'AAPL/\x00/x'")
        self.expect(self.post(s, "/api/retry/a%00b"), 400, "invalid job id 'a\x00b'")
        self.expect(self.post(s, "/api/queues/q%00/purge"), 400, "invalid queue name 'q\x00'")
        self.expect(self.get(s, "/api/retry/a%00b"), 405, "GET is not allowed")
        self.expect(self.get(s, "/api/tasks/a%2500"), 404, "no job a%00 ")       # the text %00, no NUL
        self.expect(self.get(s, "/api/tasks/" + "x" * 600), 400,            # not "no such endpoint"
                    "invalid job id: its 600 bytes are more than any job id has")
        self.assertEqual(self.r.keys("tickq:job:*"), [])

    def test_a_browser_page_elsewhere_cannot_call_the_api(self):
        """Another site's page (its Origin) is refused, and without a token
        only loopback Host names are answered (DNS rebinding)."""
        s = self.serve()
        body = json.dumps({"type": "noop"})
        self.expect(self.call(s, "POST", "/api/tasks", body, headers={"Origin": "http://evil.example"}), 403,
                    "cross-origin requests are refused")
        self.expect(self.call(s, "POST", "/api/tasks", body, headers={"Host": "evil.example"}), 403,
                    "is not a loopback name")
        # The same call from the server's own origin, or a script (no Origin), works.
        port = s.port
        self.expect(self.call(s, "POST", "/api/tasks", body, headers={"Origin": f"http://127.0.0.1:{port}"}), 201)
        self.expect(self.call(s, "POST", "/api/tasks", body), 201)
        # Health stays public.
        self.expect(self.get(s, "/health/live", headers={"Host": "evil.example"}), 200)

    def test_the_browser_guard_takes_only_literal_loopback_names_and_whole_origins(self):
        """A Host that only starts like a loopback address is a DNS name
        (a rebinding attack's), and an Origin is the request's own only by
        scheme, host and port (a page on another port of this host is
        elsewhere)."""
        s = self.serve()
        port = s.port
        body = json.dumps({"type": "noop", "queue": "guard"})
        for host in ("127.0.0.1.evil.com", "127.evil.com", f"127.0.0.1.evil.com:{port}", "127.0.0.256",
                     f"localhost.evil.com:{port}", f"127.0.0.1:{port}0"):
            with self.subTest(host=host):
                self.expect(self.get(s, "/api/queues", headers={"Host": host}), 403, "is not a loopback name")
        self.expect(self.call(s, "POST", "/api/tasks", body, headers={"Host": f"127.0.0.1.evil.com:{port}",
                                                                    "Origin": f"http://127.0.0.1.evil.com:{port}"}),
                    403, "is not a loopback name")
        for origin in ("http://127.0.0.1:3000", "https://127.0.0.1:3000", f"http://localhost:{port}",
                       "http://127.0.0.1", "null", f"http://127.0.0.1:{port}.evil.com"):
            with self.subTest(origin=origin):
                self.expect(self.call(s, "POST", "/api/tasks", body, headers={"Origin": origin}), 403,
                            "cross-origin requests are refused")
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        # Literal loopback names, each with its own origin, are answered.
        for host, origin in ((f"localhost:{port}", f"http://localhost:{port}"),
                             (f"[::1]:{port}", f"http://[::1]:{port}"),
                             (f"127.1.2.3:{port}", f"http://127.1.2.3:{port}"),
                             ("127.0.0.1", "http://127.0.0.1:80")):     # no port: 80
            with self.subTest(host=host):
                self.expect(self.call(s, "POST", "/api/tasks", body, headers={"Host": host, "Origin": origin}), 201)
        self.assertEqual(self.counters("guard")["submitted"], 4)
        # With a token, any Host is answered (with the token), but the Origin rule holds.
        t = self.serve(env={"TICKQ_API_TOKEN": TOKEN})
        self.expect(self.get(t, "/api/queues", token=TOKEN, headers={"Host": f"tickq.internal:{t.port}"}), 200)
        self.expect(self.call(t, "POST", "/api/tasks", body, token=TOKEN,
                              headers={"Origin": "http://127.0.0.1:3000"}), 403, "cross-origin requests are refused")
        self.expect(self.call(t, "POST", "/api/tasks", body, token=TOKEN,
                              headers={"Host": f"tickq.internal:{t.port}",
                                       "Origin": f"http://tickq.internal:{t.port}"}), 201)

    def test_get_is_the_job_as_the_docs_command_prints_it(self):
        """docs/http.md says which command prints the job as GET
        /api/tasks/{id} gives it; that command runs, and prints it."""
        with open(os.path.join(ROOT, "docs", "http.md")) as f:
            doc = f.read()
        command = re.search(r"`GET /api/tasks/\{id\}`: the job as `(tickq [^`]+)` prints it", doc)
        self.assertIsNotNone(command, "docs/http.md: GET /api/tasks/{id} names no command")
        s = self.serve()
        jid = self.expect(self.post(s, "/api/tasks", {"type": "echo", "args": {"x": 1}, "queue": "nobody"}), 201)["id"]
        p = self.tickq(*command.group(1).replace("ID", jid).split()[1:])
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.expect(self.get(s, f"/api/tasks/{jid}"), 200)
        self.assertIsNone(got.pop("result"))
        self.assertEqual(got, json.loads(p.stdout))

    def test_a_delayed_job_is_delayed_in_the_reply_the_job_and_the_listing(self):
        s = self.serve()
        made = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "later", "delay": 100}), 201)
        listed = self.expect(self.get(s, "/api/tasks?state=delayed&queue=later"), 200)["jobs"]
        self.assertEqual([j["id"] for j in listed], [made["id"]])
        self.assertEqual(made["state"], "delayed")
        self.assertEqual(self.expect(self.get(s, f"/api/tasks/{made['id']}"), 200)["state"], "delayed")
        self.assertEqual(self.expect(self.get(s, "/api/tasks?state=queued&queue=later"), 200)["jobs"], [])

    def test_cancel_queued_running_and_finished_jobs(self):
        s = self.serve()
        queued = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "nobody"}), 201)["id"]
        self.assertEqual(self.expect(self.call(s, "DELETE", f"/api/tasks/{queued}"), 200),
                         {"id": queued, "state": "cancelled"})
        self.assertEqual(self.state(queued), "cancelled")
        self.assertEqual(self.result(queued)["data"]["error"], "Job cancelled")
        body = self.expect(self.call(s, "DELETE", f"/api/tasks/{queued}"), 409,
                           f"job {queued} already finished (state cancelled)")
        self.assertEqual(body["state"], "cancelled")
        # Running: the worker stops it.
        self.worker("--queues", "run", "--workers", "1")
        running = self.expect(self.post(s, "/api/tasks", {"type": "sleep", "args": {"ms": 60000},
                                                          "queue": "run"}), 201)["id"]
        self.wait_running(running)
        self.assertEqual(self.expect(self.call(s, "DELETE", f"/api/tasks/{running}"), 202),
                         {"id": running, "state": "running", "cancel_requested": True})
        self.wait_state(running, "cancelled")
        self.assertEqual(self.expect(self.get(s, f"/api/tasks/{running}"), 200)["state"], "cancelled")
        # Finished.
        done = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "run"}), 201)["id"]
        self.wait_state(done, "completed")
        body = self.expect(self.call(s, "DELETE", f"/api/tasks/{done}"), 409, "already finished (state completed)")
        self.assertEqual(body["state"], "completed")
        deletes = [(x["path"], x["status"]) for x in self.audit(s) if x["method"] == "DELETE"]
        self.assertEqual(deletes, [(f"/api/tasks/{queued}", 200), (f"/api/tasks/{queued}", 409),
                                   (f"/api/tasks/{running}", 202), (f"/api/tasks/{done}", 409)])


class TestOps(HttpCase):
    def test_queues_and_workers(self):
        s = self.serve()
        w = self.worker("--queues", "opsq", "--workers", "2")
        instance = self.started_line(w)["worker"]
        for extra in ({}, {}, {"delay": 300}):
            self.expect(self.post(s, "/api/tasks", dict({"type": "noop", "queue": "waitq"}, **extra)), 201)
        body = self.expect(self.get(s, "/api/queues"), 200)
        self.assertNotIn("workers", body)
        (waitq,) = [q for q in body["queues"] if q["name"] == "waitq_normal"]
        self.assertEqual(waitq, {"name": "waitq_normal", "queue": "waitq", "priority": "normal", "ready": 2,
                                 "running": 0, "delayed": 1, "retrying": 0, "deferred": 0, "paused": False,
                                 "served": 0,
                                 "unserved": True})
        self.assertEqual((body["paused"], body["limits"]), ([], []))
        self.assertEqual(body["counters"]["waitq"]["submitted"], 3)
        self.assertEqual(body["dead_letter"], 0)
        workers = wait_for(lambda: self.get(s, "/api/workers").json()["workers"], what="a live worker")
        self.assertEqual([(x["id"], x["workers"], x["queues"]) for x in workers],
                         [(instance, 2, "opsq_high,opsq_normal,opsq_low")])
        self.assertEqual(w.stop(), 0)
        wait_for(lambda: self.get(s, "/api/workers").json() == {"workers": []}, what="the worker to leave")

    def test_schedules_with_their_next_fire_times(self):
        tmp = self.temp_dir()
        config = os.path.join(tmp, "schedules.ini")
        with open(config, "w") as f:
            f.write('[schedule yearly]\ncron = 0 12 1 6 *\ntimezone = America/New_York\ntask = echo\n'
                    'args = {"a": 1}\nqueue = sq\npriority = high\n\n'
                    '[schedule spring]\ncron = 30 6 15 3 *\ntask = noop\n')
        self.r.hset("tickq:scheduler:last", "yearly", "1780329600")   # 2026-06-01T16:00:00Z
        self.r.hset("tickq:scheduler:fires", "yearly", "3")
        self.r.hset("tickq:scheduler:misfires", "yearly", "2")
        s = self.serve("--config", config)
        now = time.time()
        body = self.expect(self.get(s, "/api/schedules"), 200)
        self.assertEqual(body["config"], config)
        yearly, spring = body["schedules"]
        self.assertEqual({k: yearly[k] for k in ("name", "cron", "timezone", "task", "queue", "priority")},
                         {"name": "yearly", "cron": "0 12 1 6 *", "timezone": "America/New_York", "task": "echo",
                          "queue": "sq", "priority": "high"})
        self.assertEqual([(x["local"], x["utc"]) for x in yearly["next"]],
                         yearly_after(now, "America/New_York", 6, 1, 12, 0))
        self.assertEqual((yearly["last_fire"], yearly["fires"], yearly["misfires"]), ("2026-06-01T16:00:00Z", 3, 2))
        self.assertEqual((spring["name"], spring["timezone"], spring["task"], spring["queue"], spring["priority"]),
                         ("spring", "UTC", "noop", "backtest", "normal"))
        self.assertEqual([(x["local"], x["utc"]) for x in spring["next"]], yearly_after(now, "UTC", 3, 15, 6, 30))
        self.assertEqual((spring["last_fire"], spring["fires"], spring["misfires"]), (None, 0, 0))
        self.assertEqual((yearly["last_job"], spring["last_job"]), ("yearly:2026-06-01T16:00:00Z", None))

    def test_the_calendar_with_the_configured_closures(self):
        tmp = self.temp_dir()
        config = os.path.join(tmp, "tickq.ini")
        with open(config, "w") as f:
            f.write("[scheduler]\nclosures = 2027-03-10\n\n[schedule s]\ncron = 0 9 * * *\ntask = noop\n")
        s = self.serve("--config", config)
        body = self.expect(self.get(s, "/api/calendar?from=2026-12-20&days=90"), 200)
        days = {d["date"]: d for d in body["closures_and_early_closes"]}
        self.assertEqual(days["2026-12-24"], {"date": "2026-12-24", "weekday": "Thu", "kind": "early_close",
                                              "close": "13:00"})
        self.assertEqual(days["2026-12-25"]["kind"], "holiday")
        self.assertEqual(days["2027-03-10"]["kind"], "closure")     # the file's
        self.assertEqual((body["from"], body["days"], body["next_trading_day"]), ("2026-12-20", 90, "2026-12-21"))
        self.assertNotIn("open_now", body)
        # the CLI says the same
        p = self.tickq("schedule", "calendar", "--from", "2026-12-20", "--days", "90", "--json", "--config", config)
        self.assertEqual(json.loads(p.stdout), body)
        today = self.expect(self.get(s, "/api/calendar"), 200)
        self.assertEqual(today["days"], 14)
        self.assertIn("open_now", today)
        self.expect(self.get(s, "/api/calendar?days=0"), 400, "days must be an integer from 1 to 3660")
        self.expect(self.get(s, "/api/calendar?from=2026-02-30"), 400, "'2026-02-30' is not a date")
        self.expect(self.get(s, "/api/calendar?from=9999-12-25"), 400, "calendar covers 2000-01-01 to 9999-12-31")
        self.expect(self.get(s, "/api/calendar?x=1"), 400, "unknown query parameter 'x'")

    def test_schedules_of_handler_types_and_of_no_file(self):
        tmp = self.temp_dir()
        config = self.handler_config(tmp, "hold", "\n[schedule held]\ncron = 0 9 * * MON\ntask = hold\n")
        s = self.serve("--config", config)
        (held,) = self.expect(self.get(s, "/api/schedules"), 200)["schedules"]
        self.assertEqual((held["name"], held["task"], len(held["next"])), ("held", "hold", 3))
        # No file named, none in the folder: none.
        s = self.serve(env={"TICKQ_CONFIG": None, "TICKQ_SCHEDULES": None}, cwd=self.temp_dir())
        self.assertEqual(self.expect(self.get(s, "/api/schedules"), 200), {"schedules": [], "config": None})

    def test_expires_as_tickq_enqueue_expires(self):
        """A job posted with expires that no worker starts in time ends
        cancelled, 'Job expired', when a worker would claim it."""
        s = self.serve()
        jid = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "exq", "expires": 0.05}), 201)["id"]
        wait_for(lambda: time.time() * 1000 > int(self.job(jid)["expires_us"]) / 1000 + 50, 5,
                 what="the job's expiry to pass")
        status, w = self.burst("--queues", "exq", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.state(jid), "cancelled")
        self.assertEqual(self.job(jid)["error"], "Job expired")
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "expires": 0}), 400, "expires must be a number")
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "expires": 0.0001}), 400, "at least 0.001")
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "expires": 5, "delay": 10}), 400,
                    "expires must be later than the delay")

    def test_jobs_listed_by_state_queue_and_type(self):
        """GET /api/tasks lists jobs as `tickq jobs --json` does: failed
        ones with their error, waiting ones by queue; bad filters are 400."""
        s = self.serve()
        self.enqueue("fail", '{"permanent": true}', "--queue", "lq", "--max-retries", "0", "--id", "broken")
        status, w = self.burst("--queues", "lq", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        for i in range(3):
            self.enqueue("noop", "{}", "--queue", "waitq", "--id", f"wait-{i}")
        self.enqueue("echo", "{}", "--queue", "waitq", "--id", "wait-echo")
        failed = self.expect(self.get(s, "/api/tasks?state=failed"), 200)["jobs"]
        self.assertEqual([(j["id"], j["state"], j["queue"], j["type"]) for j in failed],
                         [("broken", "failed", "lq", "fail")])
        self.assertIn("failed on purpose", failed[0]["error"])
        queued = self.expect(self.get(s, "/api/tasks?state=queued&queue=waitq"), 200)["jobs"]
        self.assertEqual(sorted(j["id"] for j in queued), ["wait-0", "wait-1", "wait-2", "wait-echo"])
        typed = self.expect(self.get(s, "/api/tasks?state=queued&type=echo"), 200)["jobs"]
        self.assertEqual([j["id"] for j in typed], ["wait-echo"])
        self.assertEqual(len(self.expect(self.get(s, "/api/tasks?state=queued&limit=2"), 200)["jobs"]), 2)
        every = [j["id"] for j in self.expect(self.get(s, "/api/tasks"), 200)["jobs"]]
        self.assertEqual(every[0], "broken")   # failed and dead first
        self.assertEqual(sorted(every[1:]), ["wait-0", "wait-1", "wait-2", "wait-echo"])
        body = self.get(s, "/api/tasks").body.decode()
        ages = re.findall(r'"age_s":([^,}]*)', body)
        self.assertEqual(len(ages), 5, body)
        for age in ages:   # seconds to the millisecond, as `tickq jobs --json` prints them
            self.assertRegex(age, r"^\d+\.\d{1,3}$")
        self.expect(self.get(s, "/api/tasks?state=complete"), 400, "unknown state 'complete' (one of: failed")
        self.expect(self.get(s, "/api/tasks?limit=0"), 400, "limit must be an integer from 1 to 1000")
        self.expect(self.get(s, "/api/tasks?queue=bad%20name"), 400, "queue:")
        self.expect(self.get(s, "/api/tasks?type=no%20such"), 400, "is not a task type")
        self.expect(self.get(s, "/api/tasks?sate=failed"), 400, "unknown query parameter 'sate'")
        # a repeated one is refused, not read as its first (libmicrohttpd's lookup)
        self.expect(self.get(s, "/api/tasks?limit=1&limit=2"), 400, "query parameter 'limit' is given twice")
        self.expect(self.get(s, "/api/tasks?state=queued&state=failed"), 400, "query parameter 'state' is given twice")
        # pages: offset and limit over the same listing, more while rows follow
        pages = [self.expect(self.get(s, f"/api/tasks?limit=2&offset={o}"), 200) for o in (0, 2, 4)]
        self.assertEqual([(p["offset"], p["limit"], p["more"], len(p["jobs"])) for p in pages],
                         [(0, 2, True, 2), (2, 2, True, 2), (4, 2, False, 1)])
        self.assertEqual([j["id"] for p in pages for j in p["jobs"]], every)
        self.assertEqual(self.expect(self.get(s, "/api/tasks?offset=5"), 200)["jobs"], [])
        self.assertFalse(self.expect(self.get(s, "/api/tasks"), 200)["more"])
        self.expect(self.get(s, "/api/tasks?offset=10001"), 400, "offset must be an integer from 0 to 10000")
        self.expect(self.get(s, "/api/tasks?offset=-1"), 400, "offset")
        self.expect(self.get(s, "/api/tasks?offset=two"), 400, "offset")

    def test_purge_cancels_the_waiting_jobs_of_a_queue(self):
        s = self.serve()
        for i in range(5):
            self.enqueue("noop", "{}", "--queue", "pq", "--id", f"p-{i}")
        self.enqueue("noop", "{}", "--queue", "pq", "--id", "p-later", "--delay", "3600")
        self.enqueue("noop", "{}", "--queue", "other", "--id", "kept")
        self.assertEqual(self.expect(self.post(s, "/api/queues/pq/purge"), 200),
                         {"queue": "pq", "cancelled": 6, "running": 0})
        for jid in [f"p-{i}" for i in range(5)] + ["p-later"]:
            self.assertEqual(self.state(jid), "cancelled")
            self.assertEqual(self.job(jid).get("error"), "Job purged")
        self.assertEqual(self.state("kept"), "queued")
        self.assertEqual(self.expect(self.post(s, "/api/queues/pq/purge"), 200)["cancelled"], 0)
        self.expect(self.post(s, "/api/queues/bad%20name/purge"), 400)
        audit = [x for x in self.audit(s) if x["path"].endswith("/purge")]
        self.assertEqual([x["status"] for x in audit], [200, 200, 400])

    def test_dead_letters_listed_and_retried(self):
        s = self.serve()
        for jid in ("dead-1", "dead-2"):
            self.enqueue("fail", {}, "--queue", "dq", "--max-retries", "0", "--id", jid)
        status, w = self.burst("--queues", "dq", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        dead = self.expect(self.get(s, "/api/dlq"), 200)["dead"]
        self.assertEqual([d["job"] for d in dead], ["dead-2", "dead-1"])   # newest first
        for d in dead:
            self.assertRegex(d["entry"], ENTRY_RE)
            self.assertEqual((d["type"], d["queue"], d["attempts"], d["error"]),
                             ("fail", "dq", "1", "failed on purpose (fail task)"))
        self.assertEqual([d["job"] for d in self.expect(self.get(s, "/api/dlq?limit=1"), 200)["dead"]], ["dead-2"])
        for bad in ("0", "-1", "10001", "abc", ""):
            self.expect(self.get(s, f"/api/dlq?limit={bad}"), 400, "limit must be an integer from 1 to 10000")
        self.expect(self.get(s, "/api/dlq?lmit=5"), 400, "unknown query parameter 'lmit' (this endpoint takes: limit)")
        # Retry one: back on its queue, its entry gone.
        entry1 = dead[1]["entry"]
        self.assertEqual(self.expect(self.post(s, f"/api/dlq/{entry1}/retry"), 200),
                         {"entry": entry1, "id": "dead-1", "requeued": True})
        self.assertEqual(self.state("dead-1"), "queued")
        self.assertEqual([d["job"] for d in self.get(s, "/api/dlq").json()["dead"]], ["dead-2"])
        self.expect(self.post(s, f"/api/dlq/{entry1}/retry"), 404, f"no dead-letter entry {entry1}")
        # Its record expired and a new job took its id: the entry is dropped.
        self.r.delete("tickq:job:dead-2")
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "id": "dead-2", "queue": "dq"}), 201)
        self.expect(self.post(s, f"/api/dlq/{dead[0]['entry']}/retry"), 409, "job dead-2 was enqueued again")
        self.assertEqual(self.get(s, "/api/dlq").json(), {"dead": []})
        self.expect(self.post(s, "/api/dlq/1-0/retry"), 404, "no dead-letter entry 1-0")
        for bad in ("abc", "12", "1-x", "1-", "-", "-5", "1-2-3", "1--2", "99999999999999999999-0"):
            self.expect(self.post(s, f"/api/dlq/{bad}/retry"), 400, f"'{bad}' is not a dead-letter entry id")

    def test_scan_trigger_enqueues_scan_opportunities(self):
        s = self.serve()
        args = {"limit": 5, "min_iv_rank_sell": 60}
        jid = self.expect(self.post(s, "/api/opportunities/scan", args), 201)["id"]
        job = self.expect(self.get(s, f"/api/tasks/{jid}"), 200)
        self.assertEqual((job["type"], job["args"], job["state"]), ("scan_opportunities", args, "queued"))
        jid = self.expect(self.post(s, "/api/opportunities/scan?queue=opq"), 201)["id"]
        job = self.expect(self.get(s, f"/api/tasks/{jid}"), 200)
        self.assertEqual((job["type"], job["args"], job["queue"]), ("scan_opportunities", {}, "opq"))
        self.expect(self.post(s, "/api/opportunities/scan", []), 400, "the body must be the task's args, a JSON object")
        self.expect(self.post(s, "/api/opportunities/scan", '"AAPL"'), 400, "a JSON object")
        self.expect(self.post(s, "/api/opportunities/scan", "symbols=AAPL"), 400, "the body is not JSON")
        self.expect(self.post(s, "/api/opportunities/scan", {"limt": 5}), 400,
                    "unknown argument 'limt' (did you mean 'limit'?)")
        self.expect(self.post(s, "/api/opportunities/scan?symbol=AAPL"), 400, "unknown query parameter 'symbol'")
        self.assertEqual(len(self.r.keys("tickq:job:*")), 2)
        self.assertEqual([x["status"] for x in self.audit(s)], [201, 201, 400, 400, 400, 400, 400])


class TestStalledRedis(HttpCase):
    """Redis stopped (SIGSTOP) while a call waits on it: the call was sent
    and Redis runs it when it resumes, so a 503 then says the outcome is
    unknown and names the ids to look up; a 503 whose call Redis refused
    says nothing was done."""

    def test_an_enqueue_redis_stalls_on_may_have_gone_in_and_names_its_id(self):
        s = self.serve()
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "warm"}), 201)   # connected, library loaded
        with stalled(self.server):
            body = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "stall"}, timeout=30), 503,
                               "may have been enqueued: Redis failed after the call was sent")
        jid = body["id"]          # made by the server before it sent the call
        self.assertEqual(body["outcome"], "unknown")
        self.assertIn("timed out", body["error"])
        self.assertIn(f"look it up by id (GET /api/tasks/{jid}), or retry with \"id\": \"{jid}\"", body["error"])
        # Redis ran it once resumed: the id finds it, and the retry the reply
        # asks for makes no second job.
        job = wait_for(lambda: (lambda r: r.status == 200 and r.json())(self.get(s, f"/api/tasks/{jid}")),
                       what="the stalled job in Redis")
        self.assertEqual((job["state"], job["queue"]), ("queued", "stall"))
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "stall", "id": jid}), 409, "already exists")
        self.assertEqual(self.counters("stall")["submitted"], 1)
        # a task posted with an id: that id
        with stalled(self.server):
            body = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "stall", "id": "mine-1"},
                                         timeout=30), 503, "job mine-1 may have been enqueued")
        self.assertEqual((body["id"], body["outcome"]), ("mine-1", "unknown"))
        wait_for(lambda: self.state("mine-1") == "queued", what="mine-1 in Redis")

    def test_a_list_redis_stalls_on_names_the_tasks_of_the_call_in_flight(self):
        s = self.serve()
        self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "warm"}), 201)
        with stalled(self.server):
            body = self.expect(self.post(s, "/api/tasks", [{"type": "noop", "queue": "stall"},
                                                           {"type": "noop", "queue": "stall", "id": "l-1"}],
                                         timeout=30), 503, "tasks 0 to 1 may have been enqueued")
        self.assertEqual((body["outcome"], body["enqueued"], body["ids"]), ("unknown", 0, []))
        made, given = body["outcome_unknown"]
        self.assertEqual(given, "l-1")
        wait_for(lambda: self.state(made) == "queued" and self.state("l-1") == "queued", what="both in Redis")
        again = self.expect(self.post(s, "/api/tasks", [{"type": "noop", "queue": "stall", "id": made},
                                                        {"type": "noop", "queue": "stall", "id": "l-1"}]), 201)
        self.assertEqual((again["created"], again["existing"]), (0, 2))

    def test_a_503_redis_refused_did_nothing_and_says_so(self):
        s = self.serve()
        queued = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "full"}), 201)["id"]
        self.addCleanup(self.r.config_set, "maxmemory", 0)
        fill_until_oom(self.r)
        body = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "full", "id": "not-in"}), 503,
                           "cannot enqueue (nothing was): Redis is out of memory")
        self.assertNotIn("outcome", body)
        body = self.expect(self.call(s, "DELETE", f"/api/tasks/{queued}"), 503, "cannot cancel (nothing was done)")
        self.assertNotIn("outcome", body)
        self.r.config_set("maxmemory", 0)
        self.assertIsNone(self.state("not-in"))
        self.assertEqual(self.state(queued), "queued")


class TestRouting(HttpCase):
    def test_a_url_over_the_request_limit_is_libmicrohttpds_414_as_documented(self):
        """A request line over libmicrohttpd's memory for a request is
        answered by libmicrohttpd itself (HTML, not JSON): docs/http.md's
        status table says so."""
        s = self.serve()
        reply = self.get(s, "/api/tasks/" + "a" * 100000)
        self.assertEqual(reply.status, 414, reply)
        with open(os.path.join(ROOT, "docs", "http.md")) as f:
            row = next((line for line in f if line.startswith("| 414")), "")
        self.assertIn("not JSON", row)
        self.assertEqual(self.get(s, "/health").status, 200)

    def test_unknown_paths_methods_and_query_parameters(self):
        s = self.serve()
        for path in ("/nope", "/api", "/api/queues/x", "/healthz", "/api/dlq/1-0", "/metrics/x", "/api/tasks/"):
            with self.subTest(path=path):
                self.expect(self.get(s, path), 404, f"no such endpoint: GET {path}")
        for method, path, allow in (("POST", "/health", "GET"), ("DELETE", "/metrics", "GET"),
                                    ("PUT", "/api/tasks", "POST, GET"), ("PUT", "/api/tasks/x", "GET, DELETE"),
                                    ("GET", "/api/dlq/1-0/retry", "POST"), ("GET", "/api/opportunities/scan", "POST"),
                                    ("POST", "/api/queues", "GET")):
            with self.subTest(method=method, path=path):
                reply = self.call(s, method, path)
                self.expect(reply, 405, f"{method} is not allowed on {path}")
                self.assertEqual(reply.headers["Allow"], allow)
        for path in ("/health?verbose=1", "/health/live?x=1", "/health/ready?x", "/metrics?name[]=x",
                     "/api/queues?all=1", "/api/workers?x=1", "/api/schedules?n=3", "/api/tasks/some-id?full=1"):
            with self.subTest(path=path):
                self.expect(self.get(s, path), 400, "unknown query parameter")
        self.expect(self.post(s, "/api/tasks?wait=1", {"type": "noop"}), 400,
                    "unknown query parameter 'wait' (this endpoint takes: none)")
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        self.assertEqual(self.get(s, "/health").headers["Cache-Control"], "no-store")


    def test_docs_name_every_route_and_only_routes(self):
        """docs/http.md writes each route as `METHOD /path` ({id*} as {id}
        or ID, a name's case free); every `METHOD /path` it writes is a
        route."""
        with open(os.path.join(ROOT, "docs", "http.md")) as f:
            doc = f.read()
        written = re.findall(r"`(GET|POST|DELETE|PUT|PATCH) (/[^`?]*)(?:\?[^`]*)?`", doc)
        routes = route_table()
        for m, p, _ in routes:
            with self.subTest(route=f"{m} {p}"):
                shown = p.replace("*}", "}").lower()
                self.assertIn(shown, [w.lower() for n, w in written if n == m], "not in docs/http.md")
        for m, w in written:
            with self.subTest(written=f"{m} {w}"):
                self.assertTrue(any(n == m and re.match(pattern_re(p), w) for n, p, _ in routes),
                                "docs/http.md names a route the server does not have")


class TestToken(HttpCase):
    def test_the_route_table_and_the_tests_name_the_same_routes(self):
        """A route added to the server without a line in ENDPOINTS (its
        token check below) fails here; so do a public route beyond /health*
        and the page, and a mutating route left out of the audit."""
        routes = route_table()
        private = {(m, p) for m, p, flags in routes if "HTTP_PUBLIC" not in flags}
        self.assertEqual(sorted(private - set(ENDPOINTS)), [], "routes with no token test: add them to ENDPOINTS")
        self.assertEqual(sorted(set(ENDPOINTS) - private), [], "ENDPOINTS names routes the server does not have")
        self.assertEqual({(m, p) for m, p, flags in routes if "HTTP_PUBLIC" in flags}, PUBLIC)
        for m, p, flags in routes:
            self.assertEqual("HTTP_AUDIT" in flags, m != "GET", (m, p, "mutating routes, and only they, audit"))
        for (m, p), (path, _, _, _) in ENDPOINTS.items():   # each is called on its own route
            self.assertRegex(path.split("?")[0], pattern_re(p), (m, p))
            self.assertEqual([q for n, q, _ in routes if n == m and re.match(pattern_re(q), path.split("?")[0])],
                             [p], (m, path))

    def test_every_endpoint_but_health_and_the_page_needs_the_token(self):
        s = self.serve(env={"TICKQ_API_TOKEN": TOKEN})
        self.assertEqual(self.listening(s)["token"], True)
        refusals = [({}, 401), ({"Authorization": "Basic dXNlcjpwYXNz"}, 401), ({"Authorization": TOKEN}, 401),
                    ({"Authorization": "Bearer wrong"}, 403), ({"Authorization": f"Bearer {TOKEN[:-1]}"}, 403),
                    ({"Authorization": f"Bearer {TOKEN}x"}, 403), ({"Authorization": "Bearer "}, 403)]
        for (method, _), (path, body, ok, _) in ENDPOINTS.items():
            with self.subTest(method=method, path=path):
                for headers, status in refusals:
                    reply = self.call(s, method, path, body, headers=headers)
                    self.assertEqual(reply.status, status, (headers, reply))
                    if status == 401:
                        self.assertEqual(reply.headers["WWW-Authenticate"], "Bearer")
                        self.assertIn("Authorization: Bearer", reply.json()["error"])
                    else:
                        self.assertEqual(reply.json(), {"error": "the API token is wrong"})
                self.assertEqual(self.call(s, method, path, body, token=TOKEN).status, ok)
                # The scheme's case does not matter.
                self.assertEqual(self.call(s, method, path, body, headers={"Authorization": f"bearer {TOKEN}"}).status,
                                 ok)
        # only the calls with the token enqueued
        self.assertEqual(len(self.r.keys("tickq:job:*")), 2 * sum(jobs for _, _, _, jobs in ENDPOINTS.values()))
        # A refusal comes before the body: an oversize one without the token is 401.
        oversize = " " * (BODY_LIMIT + 1)
        self.assertEqual(self.post(s, "/api/tasks", oversize).status, 401)
        self.assertEqual(self.post(s, "/api/tasks", oversize, token="wrong").status, 403)
        self.assertEqual(self.post(s, "/api/tasks", oversize, token=TOKEN).status, 413)
        self.assertEqual(self.post(s, "/api/nothing", oversize).status, 404)
        for method, path in sorted(PUBLIC):
            self.assertEqual(self.call(s, method, path).status, 200, path)
            self.assertEqual(self.call(s, method, path, token="wrong").status, 200, path)
        lines = self.audit(s)
        self.assertEqual({x["method"] for x in lines}, {"POST", "DELETE"})   # reads are not audited
        mutating = [(m, path, ok) for (m, _), (path, _, ok, _) in ENDPOINTS.items() if m != "GET"]
        want = [(m, path, st, "refused") for m, path, _ in mutating for _, st in refusals]
        want += [(m, path, ok, "token") for m, path, ok in mutating for _ in range(2)]
        want += [("POST", "/api/tasks", 401, "refused"), ("POST", "/api/tasks", 403, "refused"),
                 ("POST", "/api/tasks", 413, "token")]
        self.assertEqual(sorted((x["method"], x["path"], x["status"], x["auth"]) for x in lines), sorted(want))
        self.assertEqual({x["client"] for x in lines}, {"127.0.0.1"})

    def test_every_mutating_endpoint_reads_bodies_up_to_the_limit(self):
        """Over the limit is 413 on each POST and DELETE route, before the
        route runs (nothing enqueued, audited as 413); a body of exactly the
        limit (its JSON padded with blanks) is read and answered."""
        s = self.serve(env={"TICKQ_API_TOKEN": TOKEN})
        mutating = [(m, path, body, ok) for (m, _), (path, body, ok, _) in ENDPOINTS.items() if m != "GET"]
        for method, path, body, _ in mutating:
            with self.subTest(method=method, path=path):
                text = json.dumps(body) if body is not None else ""
                over = text + " " * (BODY_LIMIT + 1 - len(text))
                self.expect(self.call(s, method, path, over, token=TOKEN), 413,
                            f"the request body is over {BODY_LIMIT} bytes")
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        for method, path, body, ok in mutating:
            with self.subTest(method=method, path=path, at_limit=True):
                text = json.dumps(body) if body is not None else ""
                self.assertEqual(self.call(s, method, path, text + " " * (BODY_LIMIT - len(text)),
                                           token=TOKEN).status, ok)
        self.assertEqual(len(self.r.keys("tickq:job:*")), sum(jobs for _, _, _, jobs in ENDPOINTS.values()))
        statuses = sorted((x["method"], x["path"], x["status"]) for x in self.audit(s))
        self.assertEqual(statuses, sorted([(m, path, 413) for m, path, _, _ in mutating] +
                                          [(m, path, ok) for m, path, _, ok in mutating]))

    def test_a_body_sent_to_a_route_that_reads_none_is_refused(self):
        """Routes that take no body (cancel, retry, delete, purge, a dead
        letter's retry, every GET) refuse one that is not blank with 400
        naming the route, and do nothing; blanks are no body."""
        s = self.serve(env={"TICKQ_API_TOKEN": TOKEN})
        jid = self.expect(self.post(s, "/api/tasks", {"type": "noop", "queue": "bq"}, token=TOKEN), 201)["id"]
        for method, path in (("DELETE", f"/api/tasks/{jid}"), ("POST", f"/api/retry/{jid}"),
                             ("POST", f"/api/delete/{jid}"), ("POST", "/api/queues/bq/purge"),
                             ("POST", "/api/dlq/1-1/retry"), ("GET", f"/api/tasks/{jid}"), ("GET", "/api/queues")):
            with self.subTest(method=method, path=path):
                self.expect(self.call(s, method, path, '{"force": true}', token=TOKEN), 400,
                            f"{method} {path} takes no body (it got 15 bytes)")
        self.assertEqual(self.r.hget(f"tickq:job:{jid}", "state"), "queued")  # not cancelled, not purged
        self.assertEqual(self.expect(self.call(s, "GET", f"/api/tasks/{jid}", " \r\n", token=TOKEN), 200)["state"],
                         "queued")

    def test_worker_metrics_need_the_token(self):
        w = self.http_worker("--workers", "1", "--queues", "tq", env={"TICKQ_API_TOKEN": TOKEN})
        self.assertEqual(self.get(w, "/metrics").status, 401)
        self.assertEqual(self.get(w, "/metrics", token="x" * 32).status, 403)
        self.assertIn("tickq_worker_children", self.metrics(w, token=TOKEN).families)
        self.assertEqual(self.get(w, "/health/live").status, 200)

    def test_any_address_with_a_token(self):
        token16 = "0123456789abcdef"
        s = self.serve(env={"TICKQ_API_TOKEN": token16}, bind="0.0.0.0:0")
        line = self.listening(s)
        self.assertEqual((line["address"], line["token"]), (f"0.0.0.0:{s.port}", True))
        self.assertEqual(self.get(s, "/api/queues").status, 401)
        self.assertEqual(self.get(s, "/api/queues", token=token16).status, 200)


class TestCommandLine(HttpCase):
    def test_beyond_loopback_without_a_token_refuses_to_start(self):
        for cmd in ("serve", "worker"):
            for env in ({"TICKQ_API_TOKEN": None}, {"TICKQ_API_TOKEN": ""}):
                with self.subTest(cmd=cmd, env=env):
                    p = self.tickq(cmd, "--http", "0.0.0.0:0", env=env, timeout=30)
                    self.assertEqual(p.returncode, 78, p.stderr)
                    self.assertIn("--http 0.0.0.0:0 listens beyond this host: set TICKQ_API_TOKEN", p.stderr)
            for token in ("short", "0123456789abcde"):   # 5 and 15 characters: under 16
                with self.subTest(cmd=cmd, token=token):
                    p = self.tickq(cmd, "--http", "127.0.0.1:0", env={"TICKQ_API_TOKEN": token}, timeout=30)
                    self.assertEqual(p.returncode, 78, p.stderr)
                    self.assertIn(f"TICKQ_API_TOKEN is {len(token)} characters: use at least 16", p.stderr)
        # worker --check says what the worker would refuse: a short token, and no token beyond this host.
        p = self.tickq("worker", "--check", "--http", "127.0.0.1:0", env={"TICKQ_API_TOKEN": "short"}, timeout=30)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("FAIL config: TICKQ_API_TOKEN is 5 characters: use at least 16", p.stdout)
        p = self.tickq("worker", "--check", "--http", "0.0.0.0:0", env={"TICKQ_API_TOKEN": None}, timeout=30)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("FAIL config: --http 0.0.0.0:0 listens beyond this host: set TICKQ_API_TOKEN", p.stdout)
        self.assertEqual(self.r.keys("tickq:worker*"), [])

    def test_a_bad_sample_period_refuses_to_start(self):
        """TICKQ_SAMPLE_MS is read by every HTTP process: a bad one stops the
        command before it starts any, not a server started again every
        second. The timeout is the check that it does not loop: a process
        left running would keep stderr open and run() would wait for it."""
        for cmd, args in (("worker", ("--workers", "1")), ("serve", ())):
            for value in ("abc", "5"):
                with self.subTest(cmd=cmd, value=value):
                    try:
                        p = self.tickq(cmd, "--http", "127.0.0.1:0", *args, env={"TICKQ_SAMPLE_MS": value},
                                       timeout=30)
                    except subprocess.TimeoutExpired as e:
                        self.fail(f"tickq {cmd} still running after 30 s (restarting its HTTP process?): "
                                  f"{(e.stderr or b'')[-2000:]!r}")
                    self.assertEqual(p.returncode, 78, p.stderr)
                    self.assertIn(f"TICKQ_SAMPLE_MS '{value}' must be a whole number of milliseconds from 1000 to "
                                  "60000", p.stderr)
                    self.assertNotIn("http server listening", p.stderr)
        p = self.tickq("worker", "--check", "--http", "127.0.0.1:0", env={"TICKQ_SAMPLE_MS": "abc"}, timeout=30)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("FAIL config: TICKQ_SAMPLE_MS 'abc' must be", p.stdout)
        self.assertEqual(self.r.keys("tickq:worker*"), [])

    def test_a_port_in_use_exits_69_naming_it(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            where = f"127.0.0.1:{taken.getsockname()[1]}"
            p = self.tickq("worker", "--http", where, "--workers", "1", timeout=30)
            self.assertEqual(p.returncode, 69, p.stderr)
            self.assertIn(f"cannot listen on {where}", p.stderr)
            p = self.tickq("serve", "--http", where, timeout=30)
            self.assertEqual(p.returncode, 69, p.stderr)
            (line,) = [x for x in json_lines(p.stderr) if x.get("level") == "error"]
            self.assertIn(f"cannot listen on {where}", line["error"])

    def test_bad_flags_are_usage_errors(self):
        cases = [("70000", "the port must be a number from 0 to 65535"),
                 ("-1", "the port must be a number from 0 to 65535"),
                 ("abc", "the port must be a number from 0 to 65535"),
                 ("", "the port must be a number from 0 to 65535"),
                 ("127.0.0.1:", "the port must be a number from 0 to 65535"),
                 ("host:1", "'host' is not an IP address"),
                 (":8080", "is not ADDR:PORT"),
                 ("[::1]8080", "is not [IPV6]:PORT")]
        for cmd in ("serve", "worker"):
            for value, error in cases:
                with self.subTest(cmd=cmd, value=value):
                    p = self.tickq(cmd, "--http", value, timeout=30)
                    self.assertEqual(p.returncode, 64, p.stderr)
                    self.assertIn(f"--http: '{value}'", p.stderr)
                    self.assertIn(error, p.stderr)
        p = self.tickq("worker", "--cluster-metrics", "--workers", "1", timeout=30)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("--cluster-metrics needs --http ADDR:PORT", p.stderr)
        p = self.tickq("serve", "--http", "127.0.0.1:0", "extra", timeout=30)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("unexpected argument 'extra'", p.stderr)
        self.assertEqual(self.r.keys("tickq:worker*"), [])
