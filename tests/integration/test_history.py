"""test_history.py — job history follows what Redis recorded (issue 11):
the Redis functions that finish attempts append their rows to the
database's history stream in the same call, and the history process writes
them once each. Kills of worker children, of the supervisor and of the
history process lose no row and write none twice; a full backlog is
counted (history_dropped); --no-history writes no stream. Each test runs on
SQLite and on PostgreSQL."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

from harness import TickqTestCase, gone, kill_one, postgres, sqlite_rows, temp_sqlite, wait_for

FINAL = ("completed", "failed", "dead", "cancelled")


class HistoryStreamTests:
    # --- helpers -------------------------------------------------------
    def started(self, w):
        return wait_for(lambda: [x for x in w.log_lines()
                                 if isinstance(x, dict) and x.get("msg") == "worker started"],
                        10, what="the worker started line")[0]

    def stream_of(self, w):
        return self.started(w)["history_stream"]

    def recorder_reading(self, w, stream):
        """The history process, once it reads the stream (its start, which
        prunes old history, is over)."""
        def reading():
            names = [c["name"] for c in self.r.xinfo_consumers(stream, "history")]
            return [p for p in w.history_process() if any(n.endswith(":history") for n in names)]
        return wait_for(reading, 10, what="the history process to read the stream")[0]

    def history_state(self, stream):
        return {k: int(v) for k, v in self.r.hgetall(f"{stream}:state").items() if k != "database"}

    def submit_many(self, jobs):
        """Enqueues (type, args, max_retries) jobs in one pipeline; returns their ids."""
        self.load_library()
        ids = []
        now_ms = int(time.time() * 1000)
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + ".%03dZ" % (now_ms % 1000)
        header = ["tickq", str(now_ms), iso, "workers", "86400", "100000", "2000", "3600000", "12345"]
        pipe = self.r.pipeline(transaction=False)
        for i, (jtype, args, retries) in enumerate(jobs):
            jid = f"h{os.getpid()}-{time.time_ns()}-{i}"
            ids.append(jid)
            pipe.execute_command("FCALL", "tickq_p1_enqueue", 0, *header, jid, jtype, json.dumps(args), "backtest",
                                 "normal", str(retries), "3600000", "0", "1048576", str(time.time_ns() // 1000))
        for reply in pipe.execute():
            self.assertEqual(reply[0], 1, reply)
        return ids

    def final_count(self, ids):
        pipe = self.r.pipeline(transaction=False)
        for jid in ids:
            pipe.hget(f"tickq:job:{jid}", "state")
        return sum(1 for s in pipe.execute() if s in FINAL)

    def wait_final_or_stalled(self, ids, stall=2.0, timeout=120):
        """Waits until every job is final, or none got final for `stall`
        seconds; returns the count of final jobs."""
        deadline = time.time() + timeout
        last, since = -1, time.time()
        while time.time() < deadline:
            n = self.final_count(ids)
            if n == len(ids):
                return n
            if n != last:
                last, since = n, time.time()
            elif time.time() - since > stall:
                return n
            time.sleep(0.05)  # polling: the stall is told by time without progress, not by a state
        self.fail("jobs neither finished nor stalled")

    def expected_rows(self, ids):
        """What Redis recorded: per job its run and final state, and the
        failed attempts of its retry list as (run, attempt, kind)."""
        jobs, retries = {}, set()
        for jid in ids:
            rec = self.job(jid)
            self.assertIn(rec.get("state"), FINAL, (jid, rec))
            jobs[(jid, int(rec.get("run", 1)))] = rec["state"]
            for r in self.retries(jid):
                retries.add((jid, r["run"], r["attempt"], r["kind"]))
        return jobs, retries

    def assert_history_matches_redis(self, ids):
        jobs, retries = self.expected_rows(ids)
        wanted = set(ids)
        got_jobs = [r for r in self.query("SELECT job_id, run, state FROM job_history") if r[0] in wanted]
        self.assertEqual(len(got_jobs), len(jobs), "one job_history row per finished run")
        self.assertEqual({(r[0], int(r[1])): r[2] for r in got_jobs}, jobs)
        got_retries = [r for r in self.query("SELECT job_id, run, attempt, kind FROM job_retries") if r[0] in wanted]
        self.assertEqual(len(got_retries), len(retries), "one job_retries row per failed attempt Redis recorded")
        self.assertEqual({(r[0], int(r[1]), int(r[2]), r[3]) for r in got_retries}, retries)

    # --- a child killed after its outcomes are recorded ------------------
    def test_a_child_killed_right_after_recording_its_outcomes_loses_no_history(self):
        """The moment the issue's kill storm hit by chance, made certain:
        the history process is frozen (SIGSTOP), so before this fix the
        children's history records filled the pipe and each child blocked in
        its write *after* finish had recorded its batch in Redis; they are
        then killed there. Now the rows went to Redis in the finish call
        itself, and every finished job has its row."""
        w = self.worker("--workers", "2", env=self.env)
        recorder = wait_for(lambda: w.history_process(), 10, what="the history process")[0]
        wait_for(lambda: len(w.children()) == 2, 10, what="the worker children")
        os.kill(recorder, signal.SIGSTOP)
        message = "x" * 1000   # about 1 KiB of history per job: 1,500 jobs overfill a 1 MiB pipe
        ids = self.submit_many([("fail", {"permanent": True, "message": message}, 0)] * 1500)
        self.wait_final_or_stalled(ids)
        for pid in w.children():
            os.kill(pid, signal.SIGKILL)
        os.kill(recorder, signal.SIGCONT)
        wait_for(lambda: self.final_count(ids) == len(ids), 120, what="every job to finish")
        self.assertEqual(w.stop(60), 0, w.log()[-3000:])
        self.assert_history_matches_redis(ids)

    # --- a kill storm ----------------------------------------------------
    def test_rows_equal_finished_attempts_through_a_kill_storm(self):
        """A child is killed with -9 every 200 ms while they run four
        hundred short jobs (some failing once, some for good), and once the
        supervisor is, then started again: at the end every finished job has
        exactly one job_history row per run, and every failed attempt Redis
        recorded (crashes and lost workers included) its job_retries row."""
        rnd = random.Random(11)
        jobs = []
        for i in range(400):
            pick = rnd.random()
            if pick < 0.6:
                jobs.append(("sleep", {"ms": rnd.randint(20, 120)}, 3))
            elif pick < 0.85:
                jobs.append(("fail", {"times": 1, "message": f"flaky {i}"}, 3))
            elif pick < 0.95:
                jobs.append(("fail", {"permanent": True, "message": f"bad {i}"}, 3))
            else:
                jobs.append(("fail", {"message": f"down {i}"}, 1))
        ids = self.submit_many(jobs)
        args = ("--workers", "3", "--retry-base", "20ms", "--retry-max", "100ms", "--claim-timeout", "1s",
                "--heartbeat", "0.3s")
        w = self.worker(*args, env=self.env)
        first_recorder = wait_for(lambda: w.history_process(), 10, what="the history process")[0]
        kills, restarted, seen = 0, False, {}
        deadline = time.time() + 180
        while self.final_count(ids) < len(ids):
            self.assertLess(time.time(), deadline, "the jobs did not finish under the kill storm")
            time.sleep(0.2)  # polling; the loop also restarts the workers once, midway
            if not restarted and self.final_count(ids) > len(ids) * 0.4:
                w.proc.kill()          # the supervisor: its children die with it
                w.proc.wait()
                restarted = True
                w = self.worker(*args, env=self.env)
                continue
            # A child that dies within a second of its start is respawned a
            # second later (crash-loop backoff): kill those a second old.
            now = time.time()
            for pid in w.children():
                seen.setdefault(pid, now)
            old = [pid for pid in w.children() if now - seen[pid] >= 1.0]
            kills += kill_one(old, rnd)
        self.assertTrue(restarted)
        self.assertGreaterEqual(kills, 10)
        self.assertEqual(w.stop(60), 0, w.log()[-3000:])
        wait_for(lambda: gone(first_recorder), 30, what="the first supervisor's history process to end")
        crashes = sum(1 for jid in ids for r in self.retries(jid) if r["kind"] == "crash")
        self.assertGreater(crashes, 0)   # the storm hit running jobs
        self.assert_history_matches_redis(ids)

    # --- idempotency -----------------------------------------------------
    def test_rows_read_again_after_a_kill_between_commit_and_ack_are_written_once(self):
        """The history process is killed after its commit and before its
        acknowledgement (its ack held by CLIENT PAUSE WRITE and dropped with
        its connection; the database held locked by the test until then):
        the next history process reads the same entries again and the
        database keeps one row per job and attempt."""
        w = self.worker("--workers", "1", "--retry-base", "20ms", env=self.env)
        stream = self.stream_of(w)
        recorder = self.recorder_reading(w, stream)
        os.kill(recorder, signal.SIGSTOP)   # so that it reads every row in one batch
        ids = [self.enqueue("echo", {"i": i}) for i in range(5)]
        ids.append(self.enqueue("fail", {"times": 1}))
        for jid in ids:
            self.wait_state(jid, "completed")
        wait_for(lambda: self.history_state(stream)["waiting"] == 7, 10, what="every row in the stream")
        with self.database_locked():
            os.kill(recorder, signal.SIGCONT)
            wait_for(lambda: self.r.xpending(stream, "history")["pending"] == self.r.xlen(stream), 10,
                     what="the history process to read every entry")
            self.r.execute_command("CLIENT", "PAUSE", "30000", "WRITE")   # lifted below (UNPAUSE); long enough for a loaded machine
        try:
            wait_for(lambda: self.count("job_history") == 6, 10, what="the rows committed")
            self.assertGreater(self.r.xpending(stream, "history")["pending"], 0)   # not acknowledged
            os.kill(recorder, signal.SIGKILL)
            # Its ack may have reached Redis, held by the pause: drop it with
            # its connection.
            for c in self.r.client_list():
                if c["name"].startswith("tickq-history:"):
                    self.r.client_kill_filter(_id=c["id"])
        finally:
            self.r.execute_command("CLIENT", "UNPAUSE")
        wait_for(lambda: [p for p in w.history_process() if p != recorder], 10, what="a new history process")
        wait_for(lambda: self.r.xpending(stream, "history")["pending"] == 0, 10,
                 what="the entries read again and acknowledged")
        self.assertEqual(w.stop(), 0)
        self.assertEqual(self.history_state(stream)["waiting"], 0)
        self.assertEqual(self.r.xlen(stream), 0)
        self.assertEqual(sorted(r[0] for r in self.query("SELECT job_id FROM job_history")), sorted(ids))
        self.assertEqual(len(self.query("SELECT job_id FROM job_retries")), 1)
        self.assert_history_matches_redis(ids)

    def test_an_id_reused_after_its_record_expired_gets_new_rows(self):
        """Run numbers start at 1 again once a record expired: the record's
        created_at keeps the two runs' rows apart."""
        p = self.tickq("enqueue", "echo", "{}", "--id", "reused")
        self.assertEqual(p.returncode, 0, p.stderr)
        status, _ = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0)
        self.r.delete("tickq:job:reused", "task_result:reused")   # as if its TTL had passed
        time.sleep(0.01)  # the second run's created_at (ms) differs from the first's
        p = self.tickq("enqueue", "echo", "{}", "--id", "reused")
        self.assertEqual(p.returncode, 0, p.stderr)
        status, _ = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0)
        self.assertEqual(self.query("SELECT run, state FROM job_history WHERE job_id = 'reused'"),
                         [(1, "completed"), (1, "completed")])

    def test_rows_without_created_at_are_written_once(self):
        """A row whose job record had no created_at (a dead-letter entry
        from before it was kept, say) is still written once when its entry
        is delivered twice: unknown is stored as a value, not as NULL (NULLs
        never conflict in a unique index)."""
        w = self.worker("--workers", "1", env=self.env)
        stream = self.stream_of(w)
        recorder = self.recorder_reading(w, stream)
        os.kill(recorder, signal.SIGSTOP)   # both entries in one batch, and again in the next
        now = time.time_ns() // 1000
        job = "\0".join(["nocreated", "1", "", "2", "dead", "echo", "backtest", "h:1.abcd:0", str(now - 1000),
                         str(now), "boom"])
        retry = "\0".join(["nocreated", "1", "", "2", "transient", "h:1.abcd:0", str(now), "boom"])
        for _ in range(2):
            self.r.xadd(stream, {"job": job, "retry": retry})
        self.r.hincrby(f"{stream}:state", "waiting", 4)
        os.kill(recorder, signal.SIGCONT)
        wait_for(lambda: self.r.xlen(stream) == 0, 10, what="the entries written")
        self.r.xadd(stream, {"job": job, "retry": retry})   # delivered again later
        self.r.hincrby(f"{stream}:state", "waiting", 2)
        wait_for(lambda: self.r.xlen(stream) == 0, 10, what="the entry written")
        self.assertEqual(w.stop(), 0)
        self.assertEqual(self.query("SELECT job_id, run, attempts, state FROM job_history"),
                         [("nocreated", 1, 2, "dead")])
        self.assertEqual(self.query("SELECT job_id, run, attempt, kind FROM job_retries"),
                         [("nocreated", 1, 2, "transient")])

    def history_row(self, *columns):
        """A job or retry row as the history stream holds it (history.c):
        its columns, bytes or text, joined by NUL bytes."""
        return b"\0".join(v if isinstance(v, bytes) else str(v).encode() for v in columns)

    # --- rows that are not text, rows the database refuses --------------
    def test_a_row_the_database_refuses_is_skipped_counted_and_logged(self):
        """A row the database refuses (refuse_rows says how) is skipped,
        logged with its job and the database's error, and counted
        (history_refused); the rows of its batch and those behind it are
        written."""
        w = self.worker("--workers", "1", env=self.env)
        stream = self.stream_of(w)
        recorder = self.recorder_reading(w, stream)
        self.refuse_rows()
        os.kill(recorder, signal.SIGSTOP)   # the refused row in one batch with good ones
        try:
            now = time.time_ns() // 1000
            created = "2024-01-02T03:04:05.000Z"
            good = self.history_row("good-row", 1, created, 1, "completed", "echo", "backtest", "h:1.abcd:0",
                                    now - 1000, now, "")
            refused = self.history_row("refused-row", 1, self.REFUSED_CREATED, 1, "completed", "echo",
                                       "backtest", "h:1.abcd:0", now - 1000, now, "")
            retry = self.history_row("good-row", 1, created, 1, "transient", "h:1.abcd:0", now, "busy")
            self.r.xadd(stream, {"job": good})
            self.r.xadd(stream, {"job": refused, "retry": retry})
            self.r.hincrby(f"{stream}:state", "waiting", 3)
            ids = [self.enqueue("echo", {"i": i}) for i in range(3)]
            for jid in ids:
                self.wait_state(jid, "completed")
        finally:
            os.kill(recorder, signal.SIGCONT)
        wait_for(lambda: self.history_state(stream)["waiting"] == 0 and self.r.xlen(stream) == 0, 20,
                 what="the stream written")
        self.assertEqual(sorted(r[0] for r in self.query("SELECT job_id FROM job_history")),
                         sorted(["good-row"] + ids))
        self.assertEqual(self.query("SELECT job_id, attempt, kind FROM job_retries"), [("good-row", 1, "transient")])
        self.assertEqual(self.history_state(stream)["refused"], 1)
        stats = json.loads(self.tickq("stats", "--json").stdout)
        self.assertEqual((stats["history_refused"], stats["history"][0]["history_refused"]), (1, 1))
        self.assertIn("  1 rows refused by the database, skipped (history_refused", self.tickq("stats").stdout)
        logged = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith(
            "job history row refused by the database")]
        self.assertEqual([(x["row"], x["job_id"], x["run"], x["attempt"]) for x in logged],
                         [("job_history", "refused-row", 1, 1)])
        self.assertIn(self.REFUSED_ERROR, logged[0]["error"])
        self.assertEqual(w.stop(), 0)

    def test_a_batch_whose_every_row_is_refused_waits_instead_of_being_skipped(self):
        """Every row of a batch refused, each alone: the database's cause
        (its encoding, a constraint added by hand), not the rows'. Nothing
        is skipped or counted; the rows wait in Redis with a warning."""
        w = self.worker("--workers", "1", env=self.env)
        stream = self.stream_of(w)
        recorder = self.recorder_reading(w, stream)
        self.refuse_rows()
        os.kill(recorder, signal.SIGSTOP)   # both rows in one batch
        try:
            now = time.time_ns() // 1000
            for jid in ("bad-1", "bad-2"):
                row = self.history_row(jid, 1, self.REFUSED_CREATED, 1, "completed", "echo", "backtest", "h:1.abcd:0",
                                       now - 1000, now, "")
                self.r.xadd(stream, {"job": row})
            self.r.hincrby(f"{stream}:state", "waiting", 2)
        finally:
            os.kill(recorder, signal.SIGCONT)
        warned = wait_for(lambda: [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith(
            "cannot write job history yet")], 20, what="the warning that the history waits")
        self.assertIn("the database refused every row of a batch of 2, each alone", warned[0]["error"])
        self.assertEqual(self.history_state(stream).get("refused", 0), 0)
        self.assertEqual(self.history_state(stream)["waiting"], 2)
        self.assertEqual(self.r.xlen(stream), 2)
        self.assertEqual(self.count("job_history"), 0)
        self.assertFalse([x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith(
            "job history row refused by the database")])
        self.assertEqual(w.stop(), 0)

    def test_rows_that_are_not_text_are_written_as_text(self):
        """An entry whose error is not UTF-8 (as a tickq from before errors
        were made text wrote it) is written with U+FFFD for each bad
        sequence, as Python's "replace" reads it, and the rows behind it
        are written too: PostgreSQL refused the raw bytes, and every later
        row waited behind them."""
        w = self.worker("--workers", "1", env=self.env)
        stream = self.stream_of(w)
        self.recorder_reading(w, stream)
        now = time.time_ns() // 1000
        bad = b"handler crashed; stderr: \xff\xfe end \xe2\x82"
        created = "2024-01-02T03:04:05.000Z"
        job = self.history_row("nottext", 1, created, 1, "dead", "echo", "backtest", "h:1.abcd:0", now - 1000,
                               now, bad)
        retry = self.history_row("nottext", 1, created, 1, "crash", "h:1.abcd:0", now, bad)
        self.r.xadd(stream, {"job": job, "retry": retry})
        self.r.hincrby(f"{stream}:state", "waiting", 2)
        later = self.enqueue("echo", {})
        self.wait_state(later, "completed")
        wait_for(lambda: self.query(f"SELECT state FROM job_history WHERE job_id = '{later}'"), 20,
                 what="the later job's history")
        text = bad.decode("utf-8", "replace")
        self.assertEqual(self.query("SELECT state, error FROM job_history WHERE job_id = 'nottext'"),
                         [("dead", text)])
        self.assertEqual(self.query("SELECT kind, error FROM job_retries WHERE job_id = 'nottext'"),
                         [("crash", text)])
        self.assertEqual(json.loads(self.tickq("stats", "--json").stdout)["history_refused"], 0)

    # --- the backlog cap -------------------------------------------------
    def test_a_full_backlog_drops_the_oldest_unread_rows_and_counts_them(self):
        w = self.worker("--workers", "1", "--history-backlog", "5", env=self.env)
        stream = self.stream_of(w)
        recorder = self.recorder_reading(w, stream)
        wait_for(lambda: self.history_state(stream).get("cap") == 5, 10, what="the cap in Redis")
        os.kill(recorder, signal.SIGSTOP)
        ids = []
        for i in range(30):
            ids.append(self.enqueue("echo", {"i": i}))
            self.wait_state(ids[-1], "completed")   # one job per finish call: one row per entry
        state = self.history_state(stream)
        # The frozen process may hold one entry (its blocked read was served):
        # it is being written, so it is kept and counted as waiting.
        self.assertEqual((state["waiting"], state["dropped"], self.r.xlen(stream)), (5, 25, 5))
        stats = json.loads(self.tickq("stats", "--json").stdout)
        self.assertEqual(stats["history_dropped"], state["dropped"])
        self.assertIn(f"{state['waiting']} rows waiting in Redis, {state['dropped']} dropped (history_dropped",
                      self.tickq("stats").stdout)
        os.kill(recorder, signal.SIGCONT)
        wait_for(lambda: self.history_state(stream)["waiting"] == 0, 10, what="the backlog written")
        self.assertEqual(w.stop(), 0)
        self.assertEqual(self.count("job_history"), 30 - state["dropped"])
        dropped = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith(
            "job history rows dropped")]
        self.assertEqual([(x["dropped"], x["history_dropped"], x["cap"]) for x in dropped],
                         [(state["dropped"], state["dropped"], 5)])

    def test_history_backlog_must_be_a_positive_number(self):
        p = self.tickq("worker", "--check", "--history-backlog", "0")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--history-backlog '0' is not a number of rows from 1 to 1000000000", p.stderr)
        p = self.tickq("worker", "--check", "--history-backlog", "20", env=self.env)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertRegex(p.stdout, r"ok   job history: Redis stream tickq:history:[0-9a-f]{16}, backlog up to 20 rows\n")

    # --- a library from before the stream --------------------------------
    def test_a_worker_reloads_its_library_when_an_older_one_recorded_no_history(self):
        """During an upgrade an older tickq process may load its library,
        which writes no history rows: the worker sees the row count missing
        from finish's reply, logs the jobs concerned and loads its own
        library again, so the next jobs have their rows."""
        w = self.worker("--workers", "1", env=self.env)
        self.recorder_reading(w, self.stream_of(w))
        first = self.enqueue("echo", {"i": 1})
        self.wait_state(first, "completed")
        lua = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src", "lua")
        files = ["common.lua"] + sorted(f for f in os.listdir(lua) if f.endswith(".lua") and f != "common.lua")
        code = "".join(open(os.path.join(lua, f)).read() for f in files)
        older = code.replace("  history_on(c, keys[2])\n", "", 1).replace("  if c.history then out[#out + 1] = rows end\n", "", 1)
        self.assertNotEqual(older, code)
        self.r.function_load(older, replace=True)
        second = self.submit("echo", {"i": 2})   # not `tickq enqueue`: it would load the current library
        self.wait_state(second, "completed")
        third = self.submit("echo", {"i": 3})
        self.wait_state(third, "completed")
        self.assertEqual(w.stop(), 0)
        warned = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith(
            "job history not recorded: Redis ran an older tickq function library")]
        self.assertEqual([x["jobs"] for x in warned], [1])
        self.assertEqual(sorted(r[0] for r in self.query("SELECT job_id FROM job_history")), sorted([first, third]))

    def test_the_supervisor_warns_and_reloads_when_an_older_library_settled_a_job_without_history(self):
        """release (and reclaim, touch) append their row count when given a
        history stream; a library from before the stream answers without
        it: the supervisor logs the job whose rows are missing and loads
        its own library again, so later rows are written."""
        w = self.worker("--workers", "1", "--retry-base", "20ms", env=self.env)
        self.recorder_reading(w, self.stream_of(w))
        lua = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src", "lua")
        files = ["common.lua"] + sorted(f for f in os.listdir(lua) if f.endswith(".lua") and f != "common.lua")
        code = "".join(open(os.path.join(lua, f)).read() for f in files)
        older = code.replace("  history_on(c, args[15])\n", "", 1)   # release without history
        self.assertNotEqual(older, code)
        jid = self.enqueue("sleep", {"ms": 1500}, "--max-retries", "1")
        # Started, not only claimed (a kill before the start gives it back uncharged).
        wait_for(lambda: [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "job started"
                          and x.get("job_id") == jid], 15, what=f"job {jid} to start")
        self.r.function_load(older, replace=True)
        (child,) = w.children()
        os.kill(child, signal.SIGKILL)
        self.wait_state(jid, "completed", timeout=20)   # the crash retried, then the run completed
        self.assertEqual(w.stop(), 0)
        warned = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg", "").startswith(
            "job history not recorded: Redis ran an older tickq function library")]
        self.assertEqual([x["jobs"] for x in warned], [1])
        self.assertEqual(self.query(f"SELECT state FROM job_history WHERE job_id = '{jid}'"), [("completed",)])
        self.assertEqual(self.count("job_retries"), 0)   # the crash's row: lost, and said so
        self.assertEqual(len(self.retries(jid)), 1)

    # --- off -------------------------------------------------------------
    def test_no_history_writes_no_stream(self):
        ids = [self.enqueue("echo", {"a": 1}),
               self.enqueue("fail", {"times": 1}),
               self.enqueue("sleep", {"ms": 5000}, "--timeout", "0.3", "--max-retries", "0")]
        status, w = self.burst("--workers", "2", "--retry-base", "20ms", "--no-history", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual([self.state(j) for j in ids], ["completed", "completed", "dead"])
        self.assertEqual([k for k in self.r.scan_iter("tickq:histor*")], [])
        self.assertEqual(self.started(w)["history_stream"], "")


class TestHistoryStreamSqlite(HistoryStreamTests, TickqTestCase):
    # SQLite stores any text as created_at: a trigger, as a user could add
    # one, refuses the rows instead (RAISE(ABORT): SQLITE_CONSTRAINT).
    REFUSED_CREATED = "2024-01-02T03:04:05.000Z"
    REFUSED_ERROR = "refused by the test's trigger"

    def setUp(self):
        super().setUp()
        self.path, self.env = temp_sqlite(self, "tickq-hs-")

    def refuse_rows(self):
        con = sqlite3.connect(self.path, timeout=10)
        con.execute("CREATE TRIGGER test_refuse BEFORE INSERT ON job_history"
                    " WHEN NEW.job_id IN ('refused-row', 'bad-1', 'bad-2')"
                    " BEGIN SELECT RAISE(ABORT, 'refused by the test''s trigger'); END")
        con.commit()
        con.close()

    def query(self, sql):
        return sqlite_rows(self.path, sql)

    def count(self, table):
        return self.query(f"SELECT COUNT(*) FROM {table}")[0][0]

    def database_locked(self):
        test = self

        class Locked:
            def __enter__(self):
                self.con = sqlite3.connect(test.path, isolation_level=None, timeout=10)
                self.con.execute("BEGIN IMMEDIATE")   # writers wait (busy timeout)

            def __exit__(self, *exc):
                self.con.execute("COMMIT")
                self.con.close()
        return Locked()


class TestHistoryStreamPostgres(HistoryStreamTests, TickqTestCase):
    # A created_at that is no time, which only a hand-made entry holds:
    # PostgreSQL refuses it as a timestamptz (SQLSTATE class 22).
    REFUSED_CREATED = "no time at all"
    REFUSED_ERROR = "no time at all"

    def setUp(self):
        super().setUp()
        db_url, self.dbname = postgres().new_database()
        self.env = {"DATABASE_URL": db_url}

    def refuse_rows(self):
        pass

    def query(self, sql):
        return postgres().rows(self.dbname, sql)

    def count(self, table):
        return int(self.query(f"SELECT COUNT(*) FROM {table}")[0][0])

    def cut_connections(self):
        """What a restart, a failover or an administrator does to tickq's
        sessions of this test's database: the server ends them (FATAL,
        then closes the socket); returns once they are gone."""
        def sessions():
            return int(postgres().psql(self.dbname, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                                    f"'{self.dbname}' AND application_name = 'tickq'").stdout)
        wait_for(lambda: sessions() > 0, 10, what="tickq's sessions of the database")
        postgres().psql(self.dbname, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                                     f"'{self.dbname}' AND application_name = 'tickq'")
        wait_for(lambda: sessions() == 0, 10, what="tickq's sessions to end")

    def test_rows_are_written_again_after_the_server_ended_the_connection(self):
        """The database server ends the history process's session (what a
        PostgreSQL restart or failover does): it opens a new one and writes
        the rows behind, instead of failing every write on the dead one until
        the worker restarts (before: `PostgreSQL statement failed ...: ` every
        10 s, the rows waiting in Redis for ever)."""
        w = self.worker("--workers", "1", env=self.env)
        stream = self.stream_of(w)
        first = self.enqueue("echo", {"n": 1})
        wait_for(lambda: self.count("job_history") == 1, 10, what="the first job's row")
        self.cut_connections()
        ids = [self.enqueue("echo", {"n": i}) for i in range(3)]
        for jid in ids:
            self.wait_state(jid, "completed")
        wait_for(lambda: self.count("job_history") == 4, 10,
                 what=f"the rows written after the server ended the session ({self.count('job_history')} of 4; "
                      f"waiting in Redis: {self.history_state(stream).get('waiting')})")
        self.assert_history_matches_redis([first] + ids)
        self.assertEqual(self.history_state(stream)["waiting"], 0)
        self.assertEqual(w.stop(), 0)

    def database_locked(self):
        test = self

        class Locked:
            def __enter__(self):
                pg = postgres()
                self.psql = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres",
                                              "-d", test.dbname, "-v", "ON_ERROR_STOP=1", "-qAt"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                self.psql.stdin.write("BEGIN; LOCK TABLE job_history IN EXCLUSIVE MODE; SELECT 'locked';\n")
                self.psql.stdin.flush()
                test.assertEqual(self.psql.stdout.readline().strip(), "locked")

            def __exit__(self, *exc):
                self.psql.stdin.write("COMMIT;\n")
                self.psql.stdin.close()
                self.psql.wait(10)
        return Locked()
