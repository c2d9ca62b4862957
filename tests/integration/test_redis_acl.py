"""test_redis_acl.py — tickq as a Redis ACL user with exactly the rule of
docs/production-redis.md (read from the document, so the two cannot
drift): a worker with its children, the scheduler, the users' list (import
and watch) and the job history; `tickq enqueue`, `result`, `job`, `stats`,
`dlq`, `cancel`, `rejected`, `worker --check` and a standalone
`tickq scheduler`; `tickq serve` and `worker --http` with every endpoint
and the cluster's metrics; the producers' calls (tickq_client) as the document's
producer user. The server's ACL LOG stays empty. A user with a command or
a key pattern fewer gets an error that names the NOPERM."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import redis

from harness import ROOT, TICKQ, TickqTestCase, Worker, temp_sqlite, tickq, wait_for

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq_client  # noqa: E402

DOC = os.path.join(ROOT, "docs", "production-redis.md")
PASSWORD = "s3cret:p@ss/word"   # %-escaped in the URL
URL_PASSWORD = "s3cret%3Ap%40ss%2Fword"


def rule(user):
    """The words after `ACL SETUSER user` of the document's one line for
    that user, the password `>CHANGE-ME` replaced by the test's."""
    with open(DOC) as f:
        lines = [x for x in f.read().splitlines() if x.startswith(f"ACL SETUSER {user} ")]
    assert len(lines) == 1, f"{DOC} should hold one 'ACL SETUSER {user} ...' line, has {len(lines)}"
    words = lines[0].split()[3:]
    assert ">CHANGE-ME" in words, "the rule's password placeholder is >CHANGE-ME"
    return [">" + PASSWORD if w == ">CHANGE-ME" else w for w in words]


class AclCase(TickqTestCase):
    tcp = True

    def setUp(self):
        super().setUp()
        # Functions survive FLUSHALL: the user must load tickq's library itself.
        self.r.function_flush()
        for user in ("tickq", "strategy-producer"):
            self.r.execute_command("ACL", "DELUSER", user)
        self.r.execute_command("ACL", "SETUSER", "tickq", *rule("tickq"))
        self.r.execute_command("ACL", "SETUSER", "strategy-producer", *rule("strategy-producer"))
        self.r.execute_command("ACL", "LOG", "RESET")
        self.tmp = tempfile.mkdtemp(prefix="tickq-acl-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def user_url(self, user="tickq"):
        return f"redis://{user}:{URL_PASSWORD}@127.0.0.1:{self.server.port}/0"

    def as_user(self, *args, env=None):
        return tickq(*args, url=self.user_url(), env=env, timeout=60)

    def ok(self, *args, env=None):
        p = self.as_user(*args, env=env)
        self.assertEqual(p.returncode, 0, f"tickq {' '.join(args)}: {p.stdout}{p.stderr}")
        return p

    def acl_denials(self):
        """The server's ACL LOG: what it refused (empty: nothing)."""
        out = []
        for e in self.r.execute_command("ACL", "LOG"):
            d = e if isinstance(e, dict) else dict(zip(e[::2], e[1::2]))
            out.append(f"{d.get('username')}: {d.get('reason')} {d.get('object')} ({d.get('context')})")
        return out

    def schedules(self):
        path = os.path.join(self.tmp, "schedules.ini")
        with open(path, "w") as f:
            f.write("[scheduler]\nlease_ttl = 1s\n\n[schedule minutely]\ncron = * * * * *\ntask = echo\n"
                    'args = {"from": "scheduler"}\n')
        self.r.hset("tickq:scheduler:last", "minutely", str(int(time.time() - 600)))
        return path


class TestTheDocumentedRule(AclCase):
    def test_everything_runs_as_the_acl_user(self):
        db, dbenv = temp_sqlite(self)
        producer = redis.Redis(host="127.0.0.1", port=self.server.port, username="strategy-producer",
                               password=PASSWORD, decode_responses=True)
        self.addCleanup(producer.close)
        self.ok("worker", "--check")

        jid = self.ok("enqueue", "echo", json.dumps({"a": 1})).stdout.strip()
        self.ok("enqueue", "noop", "{}", "--id", "later", "--delay", "3600")
        self.ok("enqueue", "fail", "{}", "--id", "doomed", "--max-retries", "0")
        tickq_client.add_task(producer, "from-the-list", "echo", {"b": 2})
        producer.lpush("strategy_queue", "not json")

        w = Worker(self.user_url(), "--workers", "2", "--scheduler", "--config", self.schedules(), env=dbenv)
        self.workers.append(w)
        self.wait_state(jid, "completed")
        self.wait_state("from-the-list", "completed")
        self.wait_state("doomed", ("dead", "failed"))
        fired = wait_for(lambda: self.r.keys("tickq:job:minutely:*"), timeout=15, what="the scheduler's job")
        self.wait_state(fired[0][len("tickq:job:"):], "completed")
        # The watch's BLMOVE waits as the user: a task pushed now is taken.
        wait_for(lambda: any(c.get("name") == "tickq-list-watch" and c.get("user") == "tickq"
                             for c in self.r.client_list()), timeout=10, what="the list watch")
        tickq_client.add_task(producer, "watched", "echo", {"c": 3})
        self.wait_state("watched", "completed")
        self.assertEqual(tickq_client.get_task_result(producer, "watched")["data"]["c"], 3)

        p = self.ok("result", jid)
        self.assertEqual(json.loads(p.stdout)["data"]["a"], 1)
        self.ok("job", jid)
        p = self.ok("stats")
        self.assertIn("live workers: 1", p.stdout)
        self.assertIn("doomed", self.ok("dlq", "list").stdout)
        self.ok("dlq", "retry", "doomed")
        self.wait_state("doomed", ("dead", "failed"))
        self.ok("dlq", "purge")
        self.assertIn("not json", self.ok("rejected").stdout)
        self.ok("rejected", "purge")
        self.ok("cancel", "later")
        self.assertEqual(self.state("later"), "cancelled")
        # The job history reaches the database through the user's stream.
        wait_for(lambda: os.path.exists(db) and self.history_rows(db) >= 3, timeout=20, what="job history rows")
        self.assertEqual(w.stop(), 0, w.log())
        self.assertNotIn("NOPERM", w.log())
        self.assertNotIn("no permissions", w.log())

        # The scheduler on its own, as the user.
        log = open(os.path.join(self.tmp, "scheduler.log"), "w+")
        self.addCleanup(log.close)
        e = dict(os.environ, REDIS_URL=self.user_url())
        s = subprocess.Popen([TICKQ, "scheduler", "--config", self.schedules()], env=e, stdout=log, stderr=log)
        try:
            wait_for(lambda: self.r.get("tickq:scheduler:lease"), timeout=10, what="the scheduler's lease")
        finally:
            s.send_signal(signal.SIGTERM)
            self.assertEqual(s.wait(20), 0)
        log.seek(0)
        self.assertNotIn("NOPERM", log.read())

        self.assertEqual(self.acl_denials(), [])

    def test_dependencies_flows_and_chains_run_as_the_acl_user(self):
        """--after, a flow (its jobs in one MULTI/EXEC) and a schedule that
        fires a chain (likewise) and the cascade of a failed child: all
        within the documented rule."""
        path = os.path.join(self.tmp, "chain.ini")
        with open(path, "w") as f:
            f.write("[scheduler]\nlease_ttl = 1s\n\n[schedule first]\ncron = * * * * *\ntask = echo\n"
                    "\n[schedule second]\nafter = first\ntask = echo\n")
        self.r.hset("tickq:scheduler:last", "first", str(int(time.time() - 600)))
        first = self.ok("enqueue", "echo", "{}").stdout.strip()
        then = self.ok("enqueue", "echo", "{}", "--after", first).stdout.strip()
        flow = {"type": "echo", "args": {}, "children": [{"type": "echo", "args": {"c": 1}},
                                                          {"type": "fail", "args": {}, "max_retries": 0}]}
        p = tickq("flow", "add", "-", "--json", url=self.user_url(), input=json.dumps(flow))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = json.loads(p.stdout)
        w = Worker(self.user_url(), "--workers", "2", "--scheduler", "--config", path)
        self.workers.append(w)
        self.wait_state(then, "completed")
        self.wait_state(out["id"], "failed")   # its failing child fails it (the default policy)
        chain = wait_for(lambda: [k for k in self.r.keys("tickq:job:second:*")], timeout=20,
                         what="the chained schedule's job")
        self.wait_state(chain[0][len("tickq:job:"):], "completed")
        self.assertIn(out["id"], self.ok("flow", out["id"]).stdout)
        self.assertEqual(w.stop(), 0, w.log())
        self.assertNotIn("NOPERM", w.log())
        self.assertEqual(self.acl_denials(), [])

    def test_the_queue_controls_run_as_the_acl_user(self):
        """tickq jobs, retry, purge, pause, resume, limit and --expires: the
        functions' gates (EXISTS, ZSCORE, SREM) and the listings' reads
        (ZREVRANGEBYSCORE) are in the rule."""
        db, dbenv = temp_sqlite(self)
        self.ok("pause", "other")  # the claims' gates are on from here
        self.ok("limit", "sleep", "1")
        failed = self.ok("enqueue", "fail", json.dumps({"permanent": True})).stdout.strip()
        expiring = self.ok("enqueue", "noop", "{}", "--expires", "60").stdout.strip()
        held = [self.ok("enqueue", "sleep", json.dumps({"ms": 300})).stdout.strip() for _ in range(2)]
        waiting = self.ok("enqueue", "noop", "{}", "--queue", "other").stdout.strip()
        w = Worker(self.user_url(), "--workers", "2", "--queues", "backtest,other", env=dbenv)
        self.workers.append(w)
        for job_id in [expiring] + held:
            self.wait_state(job_id, "completed")
        self.wait_state(failed, "failed")
        rows = [json.loads(line) for line in self.ok("jobs", "--json", "--since", "40d", env=dbenv).stdout.splitlines()]
        self.assertEqual([(r["id"], r["state"]) for r in rows], [(failed, "failed"), (waiting, "queued")])
        self.assertIn("sleep", self.ok("limit").stdout)
        self.assertIn("paused", self.ok("stats").stdout)
        self.ok("retry", failed)
        self.wait_state(failed, "failed")
        self.assertNotEqual(self.as_user("purge", "other").returncode, 0)
        self.ok("purge", "other", "--yes")
        self.assertEqual(self.state(waiting), "cancelled")
        self.ok("resume", "other")
        self.ok("limit", "sleep", "--clear")
        self.assertEqual(w.stop(), 0, w.log())
        self.assertNotIn("NOPERM", w.log())
        self.assertEqual(self.acl_denials(), [])

    def history_rows(self, db):
        import sqlite3
        try:
            con = sqlite3.connect(db)
            try:
                return con.execute("SELECT count(*) FROM job_history").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return 0

    def test_the_rule_grants_no_dangerous_command(self):
        """FLUSHALL, CONFIG, KEYS and friends are refused to the user."""
        user = redis.Redis(host="127.0.0.1", port=self.server.port, username="tickq", password=PASSWORD)
        self.addCleanup(user.close)
        for command in (["FLUSHALL"], ["FLUSHDB"], ["CONFIG", "GET", "maxmemory"], ["KEYS", "*"], ["SCAN", "0"],
                        ["SHUTDOWN"], ["ACL", "LIST"], ["EVAL", "return 1", "0"]):
            with self.subTest(command=command[0]):
                with self.assertRaises(redis.exceptions.NoPermissionError):
                    user.execute_command(*command)
        with self.assertRaises(redis.exceptions.NoPermissionError):
            user.get("someone-elses-key")


class TestTheApiAsTheUser(AclCase):
    def test_tickq_serve_and_a_worker_with_http_run_as_the_acl_user(self):
        """Every endpoint of `tickq serve` and of a worker's HTTP process,
        and the cluster's metrics, work with the documented rule: the
        server's ACL LOG stays empty."""
        from http_harness import LISTENING, Serve, json_lines, request
        db, dbenv = temp_sqlite(self)
        s = Serve(self.user_url(), "--http", "127.0.0.1:0", "--config", self.schedules(), env=dbenv)
        self.addCleanup(s.close)

        def port_of(proc):
            def line():
                found = [x for x in json_lines(proc.log()) if x.get("msg") == LISTENING]
                self.assertIsNone(proc.proc.poll(), proc.log())
                return found[0]["port"] if found else None
            return wait_for(line, 20, what="the server to listen")
        port = port_of(s)

        def call(method, path, body=None, status=200, where=None):
            r = request(where or port, method, path, body)
            self.assertEqual(r.status, status, f"{method} {path}: {r}")
            return json.loads(r.body) if r.headers.get("Content-Type") == "application/json" else r.body.decode()

        self.assertEqual(call("GET", "/health")["status"], "healthy")
        jid = call("POST", "/api/tasks", {"type": "echo", "args": {"a": 1}}, 201)["id"]
        later = call("POST", "/api/tasks", {"type": "noop", "delay": 3600}, 201)["id"]
        scan = call("POST", "/api/opportunities/scan", {}, 201)["id"]
        w = Worker(self.user_url(), "--workers", "1", "--http", "127.0.0.1:0", "--cluster-metrics", env=dbenv)
        self.workers.append(w)
        wport = port_of(w)
        self.wait_state(jid, "completed")
        self.wait_state(scan, ("completed", "failed", "dead"))
        self.assertEqual(call("GET", f"/api/tasks/{jid}")["result"]["data"]["a"], 1)
        self.assertEqual(call("DELETE", f"/api/tasks/{later}")["state"], "cancelled")
        call("GET", "/api/queues")
        self.assertEqual(len(call("GET", "/api/workers")["workers"]), 1)
        self.assertEqual([x["name"] for x in call("GET", "/api/schedules")["schedules"]], ["minutely"])
        call("GET", "/api/dlq")
        for where in (port, wport):
            text = call("GET", "/metrics", where=where)
            self.assertIn("tickq_redis_up 1", text)
            self.assertIn("tickq_queue_jobs{", text)
        self.assertEqual(call("GET", "/health", where=wport)["status"], "healthy")
        self.assertEqual(w.stop(), 0, w.log())
        for log in (w.log(), s.log()):
            self.assertNotIn("NOPERM", log)
        self.assertEqual(self.acl_denials(), [])


class TestMissingPermissions(AclCase):
    def narrowed(self, *words):
        """The documented rule, then `words` taken away (ACL SETUSER tickq ...)."""
        self.r.execute_command("ACL", "SETUSER", "tickq", *words)

    def refused(self, p, *needles):
        self.assertEqual(p.returncode, 69, p.stdout + p.stderr)
        for n in ("NOPERM",) + needles:
            self.assertIn(n, p.stdout + p.stderr)
        self.assertIn("docs/production-redis.md", p.stdout + p.stderr)

    def test_a_command_tickq_calls_itself(self):
        self.narrowed("-fcall")
        self.refused(self.as_user("enqueue", "noop"), "'fcall'")

    def test_a_transaction(self):
        """A flow goes in one MULTI/EXEC: without +multi it is refused
        whole, naming the command and the rule."""
        self.narrowed("-multi")
        flow = {"type": "echo", "args": {}, "children": [{"type": "echo", "args": {}}]}
        p = tickq("flow", "add", "-", url=self.user_url(), input=json.dumps(flow))
        self.refused(p, "'multi'", "nothing enqueued")
        self.assertEqual(self.r.keys("tickq:job:*"), [])

    def test_a_command_inside_a_function(self):
        """Redis refuses it inside the function without naming it; tickq
        says NOPERM, and the server's ACL LOG names the command."""
        self.narrowed("-hset")
        self.refused(self.as_user("enqueue", "noop"), "Redis refused enqueue for this user")
        self.assertTrue(any("hset" in d for d in self.acl_denials()), self.acl_denials())

    def test_refused_reads_are_not_read_as_nothing(self):
        """Before, a refused read looked like "no such job" (exit 3) or an
        empty table (exit 0)."""
        jid = self.ok("enqueue", "noop").stdout.strip()
        self.narrowed("resetkeys", "~tickq:*", "~strategy_queue")        # no ~task_result:*
        self.refused(self.as_user("result", jid), f"GET task_result:{jid}")
        self.narrowed("~task_result:*", "-hgetall")
        self.refused(self.as_user("job", jid), "'hgetall'")
        self.narrowed("+hgetall", "-smembers")
        self.refused(self.as_user("stats"), "'smembers'")
        self.narrowed("+smembers", "-xrevrange")
        self.refused(self.as_user("dlq", "list"), "'xrevrange'")
        self.refused(self.as_user("rejected"), "'xrevrange'")
        self.narrowed("+xrevrange", "-info")
        self.refused(self.as_user("worker", "--check"), "'info'")

    def test_a_worker_says_what_it_may_not_do(self):
        self.narrowed("-xreadgroup")
        jid = self.ok("enqueue", "noop").stdout.strip()
        w = Worker(self.user_url(), "--workers", "1")
        self.workers.append(w)
        wait_for(lambda: "NOPERM" in w.log(), timeout=15, what="the worker's NOPERM error")
        self.assertIn("Redis refused", w.log())
        self.assertEqual(self.state(jid), "queued")
        w.stop()
