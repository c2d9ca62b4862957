"""test_ids.py — reused ids and lost entries are never silent: a finished
task_id pushed again on the list runs again as its next run (result
replaced, attempts reset, run + 1, both runs in the job history on SQLite
and PostgreSQL); one still waiting or running is a duplicate (counted,
logged with both payloads, run once); `tickq enqueue --id` of an existing id
exits 4 and `--replace` re-runs a finished job; list entries that cannot be
used are kept in a capped stream listed by `tickq rejected`; `tickq job`
prints its fields in the documented order; listings stay aligned with long
names."""
import json
import os
import re
import time

from harness import ROOT, TickqTestCase, postgres, sqlite_exec, sqlite_rows, temp_sqlite, wait_for

LIST = "strategy_queue"


def push(r, task_id, task_type, args, list_name=LIST):
    """An entry as the users' clients push it."""
    r.lpush(list_name, json.dumps({"task_id": task_id, "task_type": task_type, "args": args}))


def documented_job_fields():
    """The field order of `tickq job` as docs/cli.md lists it."""
    text = open(os.path.join(ROOT, "docs", "cli.md")).read()
    section = text.split("## tickq job", 1)[1].split("\n## ", 1)[0]
    line = [l for l in section.splitlines() if l.startswith("Field order:")][0]
    return re.findall(r"`([a-z_]+)`", line)


def table_blocks(text):
    """The blocks of a text output separated by blank lines, as line lists."""
    return [b.splitlines() for b in text.strip("\n").split("\n\n")]


class AlignmentMixin:
    def assert_columns_aligned(self, lines, right=()):
        """Every row's cells start where the header's words start (left-aligned
        columns) or end where they end (right-aligned ones, by name)."""
        header = lines[0]
        words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", header)]
        self.assertGreater(len(lines), 1, lines)
        for row in lines[1:]:
            for start, end, name in words:
                if name in right:
                    self.assertTrue(row[end - 1] != " " and (end == len(row) or row[end] == " "),
                                    f"column {name} not right-aligned in {row!r} under {header!r}")
                else:
                    self.assertTrue(row[start] != " " and (start < 2 or row[start - 2:start] == "  "),
                                    f"column {name} not aligned in {row!r} under {header!r}")


class TestListReruns(TickqTestCase):
    def start_worker(self, *args):
        return self.worker("--workers", "1", "--retry-base", "20ms", "--heartbeat", "200ms", *args)

    def test_finished_task_id_runs_again_as_its_next_run(self):
        w = self.start_worker()
        push(self.r, "rr-1", "fail", {"times": 1, "message": "run one"})
        wait_for(lambda: (self.result("rr-1") or {}).get("status") == "completed", 20, what="run 1")
        self.assertEqual(self.job("rr-1")["attempts"], "2")
        self.assertEqual(self.job("rr-1")["run"], "1")
        self.assertEqual([x["run"] for x in self.retries("rr-1")], [1])
        self.assertEqual(self.result("rr-1")["data"]["succeeded_on_attempt"], 2)

        push(self.r, "rr-1", "echo", {"tag": "two"})
        wait_for(lambda: (self.result("rr-1") or {}).get("data", {}).get("tag") == "two", 20,
                 what="run 2 replacing the result")
        job = self.job("rr-1")
        self.assertEqual((job["state"], job["run"], job["attempts"]), ("completed", "2", "1"))
        self.assertEqual(json.loads(job["args"]), {"tag": "two"})
        self.assertEqual(self.retries("rr-1"), [])          # run 1's retry list went with it
        shown = json.loads(self.tickq("job", "rr-1").stdout)
        self.assertEqual((shown["run"], shown["attempts"]), (2, 1))
        c = self.counters()
        self.assertEqual((c.get("reruns"), c.get("list_imported"), c.get("list_duplicates", 0)), (1, 2, 0))
        self.assertEqual((c.get("submitted"), c.get("completed")), (2, 2))
        logs = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith("finished task pushed again")]
        self.assertEqual(len(logs), 1, logs)
        self.assertEqual((logs[0]["task_id"], logs[0]["run"], logs[0]["previous_state"]), ("rr-1", 2, "completed"))
        stats = self.tickq("stats")
        self.assertIn("re-runs of finished jobs (--replace, the list, dlq retry): 1", stats.stdout)
        self.assertEqual(json.loads(self.tickq("stats", "--json").stdout)["counters"]["total"]["reruns"], 1)

    def test_failed_dead_and_cancelled_ids_run_again(self):
        self.assertEqual(self.tickq("enqueue", "fail", '{"permanent": true}', "--id", "f-1").returncode, 0)
        self.assertEqual(self.tickq("enqueue", "fail", "{}", "--id", "d-1", "--max-retries", "0").returncode, 0)
        self.assertEqual(self.tickq("enqueue", "echo", "{}", "--id", "c-1", "--delay", "60").returncode, 0)
        self.assertEqual(self.tickq("cancel", "c-1").returncode, 0)
        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        self.assertEqual([self.state(j) for j in ("f-1", "d-1", "c-1")], ["failed", "dead", "cancelled"])
        self.assertEqual(self.r.xlen("tickq:dead"), 1)
        for jid in ("f-1", "d-1", "c-1"):
            push(self.r, jid, "echo", {"again": jid})
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        for jid in ("f-1", "d-1", "c-1"):
            self.assertEqual(self.result(jid)["status"], "completed", jid)
            self.assertEqual(self.result(jid)["data"]["again"], jid)
            self.assertEqual((self.state(jid), self.job(jid)["run"]), ("completed", "2"), jid)
        self.assertEqual(self.r.xlen("tickq:dead"), 0)      # d-1 is no longer dead
        runs = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith("finished task")]
        self.assertEqual(sorted((x["task_id"], x["previous_state"]) for x in runs),
                         [("c-1", "cancelled"), ("d-1", "dead"), ("f-1", "failed")])

    def test_duplicate_while_queued_is_counted_logged_and_runs_once(self):
        push(self.r, "dup-q", "echo", {"v": 1})
        self.r.lpush(LIST, '{"task_id": "dup-q", "task_type": "echo", "args": {"v": 2}}')
        w = self.start_worker()
        wait_for(lambda: (self.result("dup-q") or {}).get("status") == "completed", 20, what="the job")
        wait_for(lambda: self.counters().get("list_duplicates") == 1, what="the duplicate counted")
        self.assertEqual(self.result("dup-q")["data"]["v"], 1)
        c = self.counters()
        self.assertEqual((c.get("submitted"), c.get("completed"), c.get("list_imported"), c.get("reruns", 0)),
                         (1, 1, 1, 0))
        self.assertEqual(self.job("dup-q")["run"], "1")
        logs = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith("duplicate task")]
        self.assertEqual(len(logs), 1, logs)
        self.assertEqual(logs[0]["level"], "warning")
        self.assertEqual((logs[0]["task_id"], logs[0]["state"]), ("dup-q", "queued"))
        self.assertEqual(logs[0]["job_args"], '{"v": 1}')
        self.assertEqual(logs[0]["entry"], '{"task_id": "dup-q", "task_type": "echo", "args": {"v": 2}}')
        s = json.loads(self.tickq("stats", "--json").stdout)
        self.assertEqual(s["counters"]["total"]["list_duplicates"], 1)
        self.assertIn("duplicates (task_id still waiting or running, not run again): 1", self.tickq("stats").stdout)

    def test_duplicate_while_running_is_not_run_again(self):
        w = self.start_worker()
        push(self.r, "dup-r", "sleep", {"ms": 1500})
        self.wait_running("dup-r")
        push(self.r, "dup-r", "sleep", {"ms": 1})
        wait_for(lambda: self.counters().get("list_duplicates") == 1, what="the duplicate counted")
        self.wait_state("dup-r", "completed")
        self.assertEqual(self.result("dup-r")["data"]["slept_ms"], 1500)
        logs = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith("duplicate task")]
        self.assertEqual([(x["task_id"], x["state"], x["job_args"]) for x in logs], [("dup-r", "running", '{"ms": 1500}')])
        self.assertIn('"ms": 1}', logs[0]["entry"])
        # Nothing is waiting to run it a second time.
        self.assertEqual((self.ready(), self.pending(), self.r.zcard("tickq:delayed:backtest_normal")), (0, 0, 0))
        c = self.counters()
        self.assertEqual((c.get("submitted"), c.get("completed")), (1, 1))


class HistoryRuns:
    """Run 1 and run 2 of one id both stay in the job history, retries too."""

    def test_history_keeps_every_run(self):
        env = self.env
        push(self.r, "hist-1", "fail", {"times": 1})
        status, w = self.burst("--workers", "1", "--retry-base", "20ms", env=env)
        self.assertEqual(status, 0, w.log())
        push(self.r, "hist-1", "fail", {"times": 1, "message": "second run"})
        status, w = self.burst("--workers", "1", "--retry-base", "20ms", env=env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.job("hist-1")["run"], "2")
        jobs = self.query("SELECT run, state, attempts FROM job_history WHERE job_id = 'hist-1' ORDER BY run")
        self.assertEqual(jobs, [(1, "completed", 2), (2, "completed", 2)])
        retries = self.query("SELECT run, attempt, kind FROM job_retries WHERE job_id = 'hist-1' ORDER BY run")
        self.assertEqual(retries, [(1, 1, "transient"), (2, 1, "transient")])
        self.assertEqual(self.query("SELECT MAX(version) FROM schema_migrations"), [(7,)])

    def test_settled_jobs_carry_their_run(self):
        """A timeout settled by the supervisor records the run it belongs to."""
        env = self.env
        self.assertEqual(self.tickq("enqueue", "echo", "{}", "--id", "slow-1").returncode, 0)
        status, _ = self.burst("--workers", "1", env=env)
        self.assertEqual(status, 0)
        p = self.tickq("enqueue", "sleep", '{"ms": 5000}', "--id", "slow-1", "--replace", "--timeout", "0.3",
                       "--max-retries", "0")
        self.assertEqual(p.returncode, 0, p.stderr)
        status, w = self.burst("--workers", "1", env=env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.state("slow-1"), "dead")
        jobs = self.query("SELECT run, state FROM job_history WHERE job_id = 'slow-1' ORDER BY run")
        self.assertEqual(jobs, [(1, "completed"), (2, "dead")])
        self.assertEqual(self.query("SELECT run, kind FROM job_retries WHERE job_id = 'slow-1'"), [(2, "timeout")])
        dead = self.r.xrange("tickq:dead")
        self.assertEqual(dead[0][1]["run"], "2")
        self.assertIn("slow-1", self.tickq("dlq", "list").stdout)


class TestHistoryRunsSqlite(HistoryRuns, TickqTestCase):
    def setUp(self):
        super().setUp()
        self.path, self.env = temp_sqlite(self, "tickq-ids-")

    def query(self, sql):
        return sqlite_rows(self.path, sql)

    def test_migration_keeps_old_rows_as_run_1(self):
        """A database from before run numbers: its rows become run 1."""
        sqlite_exec(
            self.path,
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));"
            "CREATE TABLE job_history (seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, type TEXT NOT NULL,"
            " queue TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, worker TEXT, started_at TEXT,"
            " finished_at TEXT NOT NULL, duration_ms REAL, error TEXT);"
            "CREATE TABLE job_retries (seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL,"
            " kind TEXT NOT NULL, error TEXT, worker TEXT, at TEXT NOT NULL);"
            "CREATE TABLE bars (symbol TEXT NOT NULL, interval TEXT NOT NULL, ts INTEGER NOT NULL,"
            " open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,"
            " volume REAL NOT NULL, PRIMARY KEY (symbol, interval, ts)) WITHOUT ROWID;"
            "INSERT INTO schema_migrations (version, description) VALUES (1, 'bars, job history, job retries');"
            "INSERT INTO job_history (job_id, type, queue, state, attempts, finished_at)"
            " VALUES ('old', 'echo', 'backtest', 'completed', 1, '2024-01-02T00:00:00.000Z');"
            "INSERT INTO job_retries (job_id, attempt, kind, at) VALUES ('old', 1, 'transient', '2024-01-02T00:00:00.000Z');")
        p = self.tickq("worker", "--check", env=self.env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.query("SELECT job_id, run FROM job_history"), [("old", 1)])
        self.assertEqual(self.query("SELECT job_id, run FROM job_retries"), [("old", 1)])


class TestHistoryRunsPostgres(HistoryRuns, TickqTestCase):
    def setUp(self):
        super().setUp()
        url, self.dbname = postgres().new_database()
        self.env = {"DATABASE_URL": url}

    def query(self, sql):
        return postgres().rows(self.dbname, sql)

    def test_migration_keeps_old_rows_as_run_1(self):
        postgres().psql(self.dbname,
                        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
                        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now());"
                        "CREATE TABLE job_history (seq BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL, type TEXT NOT NULL,"
                        " queue TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, worker TEXT,"
                        " started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ NOT NULL, duration_ms DOUBLE PRECISION,"
                        " error TEXT);"
                        "CREATE TABLE job_retries (seq BIGSERIAL PRIMARY KEY, job_id TEXT NOT NULL,"
                        " attempt INTEGER NOT NULL, kind TEXT NOT NULL, error TEXT, worker TEXT, at TIMESTAMPTZ NOT NULL);"
                        "CREATE TABLE bars (symbol TEXT NOT NULL, interval TEXT NOT NULL, ts BIGINT NOT NULL,"
                        " open DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL, low DOUBLE PRECISION NOT NULL,"
                        " close DOUBLE PRECISION NOT NULL, volume DOUBLE PRECISION NOT NULL,"
                        " PRIMARY KEY (symbol, interval, ts));"
                        "INSERT INTO schema_migrations (version, description) VALUES (1, 'bars, job history, job retries');"
                        "INSERT INTO job_history (job_id, type, queue, state, attempts, finished_at)"
                        " VALUES ('old', 'echo', 'backtest', 'completed', 1, '2024-01-02T00:00:00Z');"
                        "INSERT INTO job_retries (job_id, attempt, kind, at) VALUES ('old', 1, 'transient', '2024-01-02T00:00:00Z');")
        p = self.tickq("worker", "--check", env=self.env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(self.query("SELECT job_id, run FROM job_history"), [("old", 1)])
        self.assertEqual(self.query("SELECT job_id, run FROM job_retries"), [("old", 1)])


class TestEnqueueExistingId(TickqTestCase):
    def test_existing_id_exits_4_with_its_state(self):
        self.assertEqual(self.tickq("enqueue", "echo", '{"n": 1}', "--id", "e-1").returncode, 0)
        p = self.tickq("enqueue", "echo", '{"n": 2}', "--id", "e-1")
        self.assertEqual(p.returncode, 4)
        self.assertIn("job e-1 already exists (state queued, run 1); nothing enqueued", p.stderr)
        p = self.tickq("enqueue", "echo", '{"n": 2}', "--id", "e-1", "--json")
        self.assertEqual(p.returncode, 4)
        self.assertEqual(json.loads(p.stdout), {"id": "e-1", "created": False, "state": "queued", "run": 1})
        self.assertEqual(json.loads(self.job("e-1")["args"]), {"n": 1})
        self.assertEqual(self.counters()["submitted"], 1)
        self.assertEqual(self.tickq("enqueue", "echo", "--replace").returncode, 64)   # --replace needs --id

    def test_replace_runs_a_finished_job_again(self):
        self.assertEqual(self.tickq("enqueue", "fail", '{"times": 1}', "--id", "e-2").returncode, 0)
        status, _ = self.burst("--workers", "1", "--retry-base", "20ms")
        self.assertEqual(status, 0)
        self.assertEqual((self.job("e-2")["attempts"], self.job("e-2")["run"]), ("2", "1"))
        first = self.result("e-2")
        p = self.tickq("enqueue", "echo", '{"n": 2}', "--id", "e-2")
        self.assertEqual(p.returncode, 4)
        self.assertIn("state completed", p.stderr)
        self.assertIn("--replace runs it again", p.stderr)
        p = self.tickq("enqueue", "echo", '{"n": 2}', "--id", "e-2", "--replace", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout),
                         {"id": "e-2", "created": True, "state": "queued", "run": 2, "replaced": "completed"})
        self.assertIsNone(self.result("e-2"))   # the old result is gone at once: no client reads it as the new one
        self.assertEqual((self.job("e-2")["attempts"], self.job("e-2")["run"]), ("0", "2"))
        self.assertEqual(self.retries("e-2"), [])
        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        res = self.result("e-2")
        self.assertNotEqual(res, first)
        self.assertEqual(res["data"]["n"], 2)
        self.assertEqual((self.job("e-2")["attempts"], self.job("e-2")["run"]), ("1", "2"))
        c = self.counters()
        self.assertEqual((c["submitted"], c["completed"], c["reruns"]), (2, 2, 1))

    def test_replace_refuses_a_waiting_or_running_job(self):
        self.assertEqual(self.tickq("enqueue", "sleep", '{"ms": 1500}', "--id", "e-3").returncode, 0)
        p = self.tickq("enqueue", "echo", "{}", "--id", "e-3", "--replace")
        self.assertEqual(p.returncode, 4)
        self.assertIn("job e-3 is still queued (run 1); not replaced", p.stderr)
        self.worker("--workers", "1")
        self.wait_running("e-3")
        p = self.tickq("enqueue", "echo", "{}", "--id", "e-3", "--replace", "--json")
        self.assertEqual(p.returncode, 4)
        self.assertEqual(json.loads(p.stdout), {"id": "e-3", "created": False, "state": "running", "run": 1})
        self.assertIn("is still running", p.stderr)
        self.wait_state("e-3", "completed")
        self.assertEqual(self.result("e-3")["data"]["slept_ms"], 1500)
        self.assertEqual(self.counters()["submitted"], 1)

    def test_dlq_retry_is_the_next_run(self):
        self.assertEqual(self.tickq("enqueue", "fail", "{}", "--id", "e-4", "--max-retries", "0").returncode, 0)
        status, _ = self.burst("--workers", "1")
        self.assertEqual(status, 0)
        self.assertEqual(self.tickq("dlq", "retry", "e-4").returncode, 0)
        self.assertEqual((self.state("e-4"), self.job("e-4")["run"]), ("queued", "2"))
        # after the record expired, the dead-letter entry says which run it was
        status, _ = self.burst("--workers", "1")
        self.assertEqual(self.r.xrange("tickq:dead")[0][1]["run"], "2")
        self.r.delete("tickq:job:e-4")
        self.assertEqual(self.tickq("dlq", "retry", "e-4").returncode, 0)
        self.assertEqual(self.job("e-4")["run"], "3")


class TestRunsInReplies(TickqTestCase):
    def test_reclaim_and_release_report_the_run(self):
        """What the supervisor settles (a dead host's job, a dead child's job)
        carries its run, appended where an older supervisor ignores it."""
        self.assertEqual(self.tickq("enqueue", "echo", "{}", "--id", "rc-1").returncode, 0)
        self.assertEqual(self.burst("--workers", "1")[0], 0)
        p = self.tickq("enqueue", "echo", "{}", "--id", "rc-1", "--replace", "--max-retries", "0")
        self.assertEqual(p.returncode, 0, p.stderr)
        stream = "tickq:queue:backtest_normal"
        claimed = self.fcall("claim", [stream], "gone-host:1.abcd:0", "1")
        self.assertEqual(claimed[2], "rc-1")
        reply = self.fcall("reclaim", [stream], "me:1.abcd", "0", "worker lost")
        self.assertEqual(reply[0], 1)                      # reply[1]: idle consumers removed, any number
        self.assertEqual(reply[2:8], ["rc-1", "echo", "backtest", "dead", 1, "worker lost"])
        self.assertEqual(reply[8:], [[2]])                 # one trailing element: the runs
        self.assertEqual(self.retries("rc-1")[0]["run"], 2)

        p = self.tickq("enqueue", "echo", "{}", "--id", "rc-1", "--replace")
        self.assertEqual(json.loads(self.tickq("job", "rc-1").stdout)["run"], 3)
        claimed = self.fcall("claim", [stream], "child:1.abcd:0", "1")
        reply = self.fcall("release", [stream], "child:1.abcd:0", claimed[1], "crash", "child died")
        self.assertEqual(reply, [0, "retrying", "rc-1", "echo", "backtest", 1, 3])


class TestRejectedEntries(AlignmentMixin, TickqTestCase):
    BAD_JSON = '{"task_id": "x1", "task_type": "echo", "args": {"a": 1,}}'

    def import_list(self, list_name=LIST):
        """One import call, as a worker makes it (reply format 2)."""
        return self.fcall("list_import", [list_name], "backtest", "normal", "3", "3600000", "1048576",
                          str(int(time.time() * 1e6)), "100", "2")

    def test_a_bad_push_of_a_finished_id_answers_at_its_result(self):
        """A finished id pushed again with an entry that cannot run: the
        poller must not read the previous run's result as the answer. The
        rejection is recorded as the id's next run, failed; a job still
        waiting keeps its own record and result."""
        push(self.r, "fin", "echo", {"x": 1})
        self.import_list()
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.result("fin")["status"], "completed")
        self.r.lpush(LIST, json.dumps({"task_id": "fin", "task_type": 5, "args": {}}))
        push(self.r, "wait", "echo", {})
        self.import_list()
        self.r.lpush(LIST, json.dumps({"task_id": "wait", "task_type": "echo", "args": [1]}))
        self.import_list()
        res = self.result("fin")
        self.assertEqual(res["status"], "error", res)
        self.assertIn("invalid task: task_type must be a string", res["data"]["error"])
        job = self.job("fin")
        self.assertEqual((job["state"], job["run"], job["attempts"]), ("failed", "2", "0"))
        self.assertIn("task_type must be a string", job["error"])
        self.assertEqual(self.state("wait"), "queued")
        self.assertEqual(self.result("wait"), None)      # still waiting: no result written over it
        self.assertEqual(self.r.xlen("tickq:rejected"), 2)

    def test_an_entry_setting_what_the_protocol_cannot_is_refused_naming_the_keys(self):
        """A priority or timeout in an entry would be dropped without a
        word: the entry is refused, its poller answered with the keys."""
        self.r.lpush(LIST, json.dumps({"task_id": "extra", "task_type": "sleep", "args": {"ms": 1},
                                       "priority": "high", "timeout": 1}))
        self.r.lpush(LIST, json.dumps({"task_id": "one", "task_type": "noop", "queue": "other"}))
        push(self.r, "plain", "noop", {})
        # the producer's own metadata is no setting: ignored, as the old workers ignored it
        self.r.lpush(LIST, json.dumps({"task_id": "meta", "task_type": "noop", "created_at": "2026-12-07",
                                       "source": "go-backend"}))
        self.import_list()
        why = ": an entry takes task_id, task_type and args, and cannot set a job's priority, queue, retries, " \
              "timeout or delay (tickq enqueue or POST /api/tasks can)"
        res = self.result("extra")
        self.assertEqual(res["status"], "error", res)
        self.assertEqual(res["data"]["error"], 'invalid task: keys "priority","timeout"' + why)
        self.assertEqual(self.result("one")["data"]["error"], 'invalid task: key "queue"' + why)
        self.assertEqual(self.state("plain"), "queued")
        self.assertEqual(self.state("meta"), "queued")
        self.assertEqual(self.r.xlen("tickq:rejected"), 2)

    def test_a_null_task_id_is_named_null(self):
        self.r.lpush(LIST, json.dumps({"task_id": None, "task_type": "echo"}))
        self.r.lpush(LIST, json.dumps({"task_id": {"a": 1}, "task_type": "echo"}))
        self.import_list()
        errors = [e[1]["error"] for e in self.r.xrange("tickq:rejected")]
        self.assertIn("(got null)", errors[0])
        self.assertIn("(got an object)", errors[1])

    def test_rejected_entries_are_kept_listed_and_counted(self):
        self.r.lpush(LIST, self.BAD_JSON)                                      # parse error at character 56
        self.r.lpush(LIST, json.dumps({"task_type": "echo", "args": {}}))         # no task_id
        self.r.lpush(LIST, "[1, 2]")                                            # not an object
        self.r.lpush(LIST, json.dumps({"task_id": "bad-type", "task_type": 7}))  # usable id, bad type
        self.r.lpush(LIST, '{\n  "task_id": "ml",\n  "args": {nope}\n}')         # line 3, column 12
        push(self.r, "good", "echo", {})
        w = self.worker("--workers", "1")
        wait_for(lambda: self.counters().get("list_rejected") == 5, what="five rejections")
        wait_for(lambda: (self.result("good") or {}).get("status") == "completed", what="the good task")
        self.assertEqual(self.result("bad-type")["status"], "error")          # the error result it always got

        lines = [json.loads(x) for x in self.tickq("rejected", "--json").stdout.splitlines()]
        self.assertEqual(len(lines), 5)
        ml, bad_type, not_obj, no_id, bad_json = lines                          # newest first
        self.assertEqual(bad_json["error"], "invalid JSON at column 56: expected object key string but found '}', "
                                            'near "}}"')
        self.assertEqual(bad_json["position"], 56)
        self.assertEqual(self.BAD_JSON[55 - 1:55 + 1], ",}")                    # the '}' is character 56, 1-based
        self.assertEqual(bad_json["entry"], self.BAD_JSON)
        self.assertEqual((bad_json["list"], bad_json["queue"], bad_json["task_id"]), (LIST, "backtest", None))
        self.assertEqual((bad_json["entry_bytes"], bad_json["truncated"]), (len(self.BAD_JSON), False))
        self.assertRegex(bad_json["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertTrue(ml["error"].startswith("invalid JSON at line 3, column 12 (character 33): "), ml["error"])
        self.assertIn("task_id is missing", no_id["error"])
        self.assertIsNone(no_id["position"])
        self.assertEqual(not_obj["error"], 'entry is an array, not a JSON object {"task_id": ..., "task_type": ..., '
                                           '"args": {...}}')
        self.assertEqual((bad_type["task_id"], bad_type["error"]),
                         ("bad-type", 'task_type must be a string such as "backtest" or "screening"'))

        text = self.tickq("rejected").stdout.splitlines()
        self.assertEqual(text[0].split(), ["AT", "LIST", "TASK_ID", "ERROR", "ENTRY"])
        self.assertEqual(len(text), 6)
        self.assertIn("invalid JSON at column 56", text[5])
        self.assertIn("bad-type", text[2])
        self.assertIn('{\\n  "task_id": "ml",\\n', text[1])                    # one line per entry
        self.assert_columns_aligned(text)
        self.assertEqual(self.tickq("rejected", "--count", "2").stdout.count("\n"), 3)

        s = json.loads(self.tickq("stats", "--json").stdout)
        self.assertEqual((s["rejected"], s["counters"]["total"]["list_rejected"]), (5, 5))
        self.assertIn("rejected list entries kept: 5 (see tickq rejected)", self.tickq("stats").stdout)

        logs = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith("malformed task")]
        self.assertEqual(len(logs), 5, logs)
        by_entry = {x["entry"]: x for x in logs}
        self.assertEqual(by_entry[self.BAD_JSON]["error"], bad_json["error"])
        self.assertFalse(any("entry is not a JSON object" in x["error"] for x in logs))
        self.assertEqual({x["rejected_id"] for x in logs}, {x["id"] for x in lines})

        p = self.tickq("rejected", "purge")
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "purged 5 rejected entries"))
        self.assertEqual(self.r.xlen("tickq:rejected"), 0)
        self.assertEqual(self.tickq("rejected").stdout.strip(), "no rejected list entries")
        self.assertEqual(self.tickq("rejected", "bogus").returncode, 64)

    def test_the_stream_is_capped_and_entries_are_cut(self):
        pipe = self.r.pipeline()
        for i in range(1500):
            pipe.lpush(LIST, f"bad entry {i}")
        pipe.execute()
        while self.r.llen(LIST) > 0:
            self.import_list()
        self.assertEqual(self.counters()["list_rejected"], 1500)
        n = self.r.xlen("tickq:rejected")
        self.assertTrue(1000 <= n < 1200, n)                                    # MAXLEN ~ 1000
        newest = self.r.xrevrange("tickq:rejected", count=1)[0][1]
        self.assertEqual(newest["entry"], "bad entry 1499")

        long_entry = "x" + "\u00e9" * 3000                                      # 6,001 bytes, not JSON
        self.r.lpush(LIST, long_entry)
        self.import_list()
        kept = json.loads(self.tickq("rejected", "--json", "--count", "1").stdout)
        self.assertEqual((kept["entry_bytes"], kept["truncated"]), (6001, True))
        self.assertEqual(len(kept["entry"].encode()), 4095)                       # 4 KiB, cut at a character
        self.assertTrue(long_entry.startswith(kept["entry"]))
        self.assertTrue(self.tickq("rejected", "--count", "1").stdout.splitlines()[1].endswith("..."))

    def test_rejected_listing_aligns_long_list_names(self):
        long_list = "strategy_queue_of_the_quantitative_research_desk"
        self.r.lpush(LIST, "nope")
        self.r.lpush(long_list, '{"task_id": 5}')
        self.import_list()
        self.import_list(long_list)
        text = self.tickq("rejected").stdout.splitlines()
        self.assertEqual(len(text), 3)
        self.assertIn(long_list, text[1])
        self.assert_columns_aligned(text)


class TestJobFieldOrder(TickqTestCase):
    def test_fields_come_in_the_documented_order(self):
        order = documented_job_fields()
        self.assertEqual(order[:4], ["id", "type", "state", "run"])
        jid = self.enqueue("fail", {"times": 1})
        status, _ = self.burst("--workers", "1", "--retry-base", "20ms")
        self.assertEqual(status, 0)
        shown = json.loads(self.tickq("job", jid).stdout)
        keys = list(shown)
        self.assertEqual(keys, [k for k in order if k in shown])
        self.assertEqual(set(keys) - set(order), set())
        self.assertEqual(shown["run"], 1)
        # A record written in another order (an older tickq, another client)
        # prints the same way; one without `run` is run 1.
        fields = list(self.r.hgetall(f"tickq:job:{jid}").items())
        self.r.delete(f"tickq:job:{jid}")
        for k, v in reversed(fields):
            if k != "run":
                self.r.hset(f"tickq:job:{jid}", k, v)
        again = json.loads(self.tickq("job", jid).stdout)
        self.assertEqual(list(again), keys)
        self.assertEqual(again["run"], 1)


class TestAlignment(AlignmentMixin, TickqTestCase):
    def test_stats_align_with_a_long_queue_name(self):
        queue = "options_analysis_for_the_research_desk_x"                     # 40 characters
        self.assertEqual(len(queue), 40)
        self.enqueue("echo", {}, "--queue", queue)
        self.enqueue("echo", {})
        text = self.tickq("stats").stdout
        depths, counters = table_blocks(text)[:2]
        self.assertIn(queue + "_normal", text)
        self.assert_columns_aligned(depths, right={"READY", "RUNNING", "DELAYED", "RETRYING", "DEFERRED"})
        self.assert_columns_aligned(counters, right={"submitted", "completed", "failed", "timeout", "retried",
                                                     "dead", "cancelled", "active"})
        self.assertTrue(any(l.startswith(queue + " ") for l in counters), counters)

    def test_dlq_list_aligns_with_long_names(self):
        queue = "options_analysis_for_the_research_desk_x"
        # Dead letters as the workers write them, without waiting for a real failure.
        for i, (jtype, q) in enumerate([("calculate_iv_analysis", queue), ("echo", "backtest")]):
            self.r.xadd("tickq:dead", {"job": f"dl-{i}", "type": jtype, "args": "{}", "queue": q, "priority": "normal",
                                       "max_retries": "0", "timeout_ms": "1000", "created_at": "", "attempts": "1",
                                       "error": "boom", "failed_at": "2026-01-01T00:00:00.000Z", "run": "1"})
        text = self.tickq("dlq", "list").stdout.splitlines()
        self.assertEqual(len(text), 3)
        self.assertIn("calculate_iv_analysis", text[2])
        self.assert_columns_aligned(text, right={"RUN", "ATTEMPTS"})
