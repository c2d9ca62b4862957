"""test_queue_controls.py — what operators do to queues and jobs (docs/cli.md:
tickq jobs, retry, delete, purge, pause, resume, limit, enqueue --expires, stats and
result notes; docs/protocol.md: the state index and the queue controls),
against a real redis-server and real workers. Waits are bounded (wait_for);
nothing asserts a speed: orders of events are read from the job records."""
import datetime
import json
import os
import re
import sys
import time

from harness import ROOT, TickqTestCase, fcall_header, fill_until_oom, postgres, temp_sqlite, wait_for

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
from tickq import Client  # noqa: E402

PREFIX = "tickq"
NORMAL = f"{PREFIX}:queue:backtest_normal"
STREAMS = [f"{PREFIX}:queue:backtest_{p}" for p in ("high", "normal", "low")]


def table(text):
    """A text table (text_table.c) as a list of {column: cell} dicts."""
    lines = [l for l in text.splitlines() if l.strip()]
    if not lines:
        return []
    head = lines[0]
    cols = [(m.start(), m.group()) for m in re.finditer(r"\S+", head)]
    rows = []
    for line in lines[1:]:
        row = {}
        for i, (start, name) in enumerate(cols):
            end = cols[i + 1][0] if i + 1 < len(cols) else None
            row[name] = line[start:end].strip() if end is not None else line[start:].strip()
        rows.append(row)
    return rows


def jsonl(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


class ControlsCase(TickqTestCase):
    def ok(self, *args, **kw):
        p = self.tickq(*args, **kw)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p

    def jobs(self, *args, **kw):
        return jsonl(self.ok("jobs", "--json", *args, **kw).stdout)

    def index(self, queue, state):
        return self.r.zrange(f"{PREFIX}:index:{queue}:{state}", 0, -1)

    def call(self, name, keys, *args, now_ms, ttl=86400):
        return self.r.fcall(f"tickq_p1_{name}", len(keys), *keys, *fcall_header(now_ms, ttl), *args)

    def add(self, job_id, now_ms, max_retries=3, expires_ms=None, jtype="noop", delay_ms=0, replace="0"):
        extra = [] if expires_ms is None else [str(expires_ms)]
        return self.call("enqueue", [], job_id, jtype, "{}", "backtest", "normal", str(max_retries), "3600000",
                         str(delay_ms), "1048576", str(now_ms * 1000), replace, *extra, now_ms=now_ms)

    def claim(self, consumer, now_ms, count=100):
        r = self.call("claim", STREAMS, consumer, str(count), now_ms=now_ms)
        return {r[i + 1]: r[i] for i in range(1, len(r), 8)} if r[0] else {}

    def finish(self, consumer, entry, job_id, kind, now_ms, ttl=86400):
        payload = json.dumps({"status": "completed", "data": {}}) if kind == "ok" else f"{kind} error"
        us = str(now_ms * 1000)
        return self.call("finish", [NORMAL], consumer, entry, job_id, kind, payload, "1", us, us, now_ms=now_ms,
                         ttl=ttl)


class TestStateIndex(ControlsCase):
    """The functions keep <prefix>:index:<queue>:<state> wherever a job
    enters or leaves failed, dead, cancelled or retrying."""

    def setUp(self):
        super().setUp()
        self.load_library()

    def test_every_transition_keeps_the_index(self):
        t = int(time.time() * 1000)
        self.add("r1", t)
        e = self.claim("w:0#1", t)
        self.finish("w:0#1", e["r1"], "r1", "transient", t)
        self.assertEqual(self.index("backtest", "retrying"), ["r1"])
        self.assertEqual(self.r.zscore(f"{PREFIX}:index:backtest:retrying", "r1"), t)
        e = self.claim("w:0#1", t + 3_600_000)  # due: promoted, out of the index
        self.assertEqual(self.index("backtest", "retrying"), [])
        self.finish("w:0#1", e["r1"], "r1", "permanent", t + 1)
        self.assertEqual(self.index("backtest", "failed"), ["r1"])
        self.assertEqual(self.add("r1", t + 2, replace="1")[3], 2)  # a new run: out of failed
        self.assertEqual(self.index("backtest", "failed"), [])
        e = self.claim("w:0#1", t + 2)
        self.finish("w:0#1", e["r1"], "r1", "ok", t + 2)

        self.add("d1", t, max_retries=0)
        e = self.claim("w:0#1", t + 3)
        self.finish("w:0#1", e["d1"], "d1", "transient", t + 3)
        self.assertEqual(self.index("backtest", "dead"), ["d1"])
        dead = self.r.hget(f"{PREFIX}:job:d1", "dead_entry")
        self.assertEqual(self.call("dlq_retry", [], dead, now_ms=t + 4), ["d1"])
        self.assertEqual(self.index("backtest", "dead"), [])
        e = self.claim("w:0#1", t + 4)
        self.finish("w:0#1", e["d1"], "d1", "ok", t + 4)

        self.add("c1", t)
        e = self.claim("w:0#1", t + 5)
        self.finish("w:0#1", e["c1"], "c1", "transient", t + 5)
        self.assertEqual(self.call("cancel", [], "c1", now_ms=t + 6), ["cancelled"])
        self.assertNotIn("c1", self.index("backtest", "retrying"))
        self.assertEqual(self.index("backtest", "cancelled"), ["c1"])

        # A crashed attempt (reclaim), and a cancel settled by release.
        self.add("k1", t)
        self.add("k2", t)
        self.claim("w:0#2", t + 7)
        self.call("reclaim", STREAMS, "host:1.abcd", "0", "Worker lost", now_ms=t + 8)
        self.assertEqual(set(self.index("backtest", "retrying")), {"k1", "k2"})
        self.add("k3", t)
        e = self.claim("w:0#3", t + 9)
        self.call("release", STREAMS, "w:0#3", e["k3"], "cancel", "cancelled", now_ms=t + 9)
        self.assertIn("k3", self.index("backtest", "cancelled"))
        # A finished id pushed again on the list with a bad entry: a failed run.
        self.r.lpush("strategy_queue", json.dumps({"task_id": "c1", "task_type": 5}))
        self.call("list_import", ["strategy_queue"], "backtest", "normal", "3", "3600000", "1048576",
                  str(t * 1000), "100", "2", now_ms=t + 9)
        self.assertNotIn("c1", self.index("backtest", "cancelled"))
        self.assertIn("c1", self.index("backtest", "failed"))

    def test_expiry_at_promotion_leaves_retrying(self):
        t = int(time.time() * 1000)
        self.add("x1", t, expires_ms=1_000)
        e = self.claim("w:0#1", t)
        self.finish("w:0#1", e["x1"], "x1", "transient", t)
        # The retry (base 2 s, +-20 %) is due after the expiry: it comes due at the expiry.
        self.assertEqual(self.r.zscore(f"{PREFIX}:retry:backtest_normal", "x1"), t + 1_000)
        self.assertEqual(self.claim("w:0#1", t + 1_000), {})
        self.assertEqual(self.r.hmget(f"{PREFIX}:job:x1", "state", "error"), ["cancelled", "Job expired"])
        self.assertEqual(self.index("backtest", "retrying"), [])
        self.assertEqual(self.index("backtest", "cancelled"), ["x1"])
        self.assertEqual(self.r.exists(f"{PREFIX}:expiring"), 0)

    def test_finished_entries_are_trimmed_with_the_record_ttl(self):
        t = int(time.time() * 1000)
        key = f"{PREFIX}:index:backtest:failed"
        self.r.zadd(key, {"gone": t - 61_000, "kept": t - 59_000})  # TTL 60 s below
        self.add("f1", t)
        e = self.claim("w:0#1", t)
        self.finish("w:0#1", e["f1"], "f1", "permanent", t, ttl=60)
        self.assertEqual(self.r.zrange(key, 0, -1), ["kept", "f1"])


class TestJobsCommand(ControlsCase):
    def test_failed_and_dead_first_then_the_waiting_ones(self):
        p = self.enqueue("fail", {"permanent": True, "message": "bad input"})
        d = self.enqueue("fail", {"message": "vendor down"}, "--max-retries", "0")
        q = self.enqueue("noop", None, "--queue", "elsewhere")
        later = self.enqueue("noop", None, "--delay", "3600")
        c = self.enqueue("noop", None, "--queue", "elsewhere")
        self.ok("cancel", c)
        status, w = self.burst("--workers", "1", "--queues", "backtest", "--retry-base", "10ms")
        self.assertEqual(status, 0, w.log())
        rows = table(self.ok("jobs").stdout)
        self.assertEqual([(r["ID"], r["STATE"]) for r in rows],
                         [(p, "failed"), (d, "dead"), (q, "queued"), (later, "delayed"), (c, "cancelled")])
        self.assertEqual(rows[0]["ERROR"], "bad input")
        self.assertEqual(rows[1]["ERROR"], "vendor down")
        self.assertEqual(rows[1]["ATTEMPTS"], "1")
        self.assertEqual(rows[2]["QUEUE"], "elsewhere")
        js = self.jobs()
        self.assertEqual([j["id"] for j in js], [p, d, q, later, c])
        self.assertEqual({j["source"] for j in js}, {"redis"})
        self.assertIn("due_at", js[3])
        # Filters.
        self.assertEqual([j["id"] for j in self.jobs("--state", "dead")], [d])
        self.assertEqual([j["id"] for j in self.jobs("--queue", "elsewhere")], [q, c])
        self.assertEqual([j["id"] for j in self.jobs("--type", "fail")], [p, d])
        self.assertEqual([j["id"] for j in self.jobs("--limit", "2")], [p, d])
        self.assertEqual(self.jobs("--since", "2026-01-01T00:00:00Z", "--state", "failed")[0]["id"], p)
        self.assertEqual(self.jobs("--queue", "nowhere"), [])

    def test_since_leaves_out_older_jobs_and_ages_are_shown(self):
        """--since within the record TTL, against jobs Redis holds: a job
        older than T is left out, a newer one kept; the TYPE and AGE columns
        and --json's since and age_s (to the millisecond) say the same."""
        old = self.enqueue("fail", {"permanent": True, "message": "old failure"})
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        (row,) = self.jobs()
        self.assertEqual(row["since"], self.job(old)["finished_at"])   # failed jobs: since they failed
        failed_s = datetime.datetime.fromisoformat(row["since"]).timestamp()
        time.sleep(max(0.0, failed_s + 2.2 - time.time()))             # the failure is now over 2 s old
        self.assertEqual(self.jobs("--since", "1s"), [])
        p = self.ok("jobs", "--since", "1s")
        self.assertEqual((p.stdout, p.stderr), ("", "no jobs match\n"))
        before = time.time()
        text = self.ok("jobs", "--json", "--since", "1h").stdout
        after = time.time()
        (row,) = jsonl(text)
        self.assertEqual((row["id"], row["type"], row["state"], row["source"]), (old, "fail", "failed", "redis"))
        # age_s: seconds to the millisecond, printed as such (not 2.2339999999999999)
        self.assertRegex(text, r'"age_s":\d+\.\d{1,3},')
        self.assertGreaterEqual(row["age_s"], 2.0)
        self.assertGreaterEqual(row["age_s"], round(before - failed_s, 3) - 0.001)
        self.assertLessEqual(row["age_s"], round(after - failed_s, 3) + 0.001)
        (line,) = table(self.ok("jobs", "--since", "1h").stdout)
        self.assertEqual((line["ID"], line["TYPE"], line["STATE"]), (old, "fail", "failed"))
        self.assertRegex(line["AGE"], r"^\d+s$")
        self.assertGreaterEqual(int(line["AGE"][:-1]), 2)
        # An ISO time between the two jobs: the newer one only.
        cut = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(failed_s) + 1))
        new = self.enqueue("noop", None, "--queue", "nobody")
        (row,) = self.jobs("--since", cut)
        self.assertEqual((row["id"], row["type"], row["state"]), (new, "noop", "queued"))
        self.assertGreaterEqual(datetime.datetime.fromisoformat(row["since"]).timestamp(), int(failed_s) + 1)
        self.assertEqual([(r["ID"], r["TYPE"]) for r in table(self.ok("jobs", "--since", "1h").stdout)],
                         [(old, "fail"), (new, "noop")])

    def test_running_and_held_jobs(self):
        self.ok("limit", "sleep", "1")
        a = self.enqueue("sleep", {"ms": 60000})
        b = self.enqueue("sleep", {"ms": 60000})
        w = self.worker("--workers", "2")
        wait_for(lambda: [j["id"] for j in self.jobs("--state", "running")] == [a], what="the first sleep to run")
        wait_for(lambda: [j["id"] for j in self.jobs("--state", "held")] == [b], what="the second to be held")
        running = self.jobs("--state", "running")[0]
        self.assertIn(f":{w.pid}.", running["worker"])  # <host>:<pid>.<tag>:<slot>
        self.assertEqual(running["attempts"], 1)
        self.assertEqual([r["STATE"] for r in table(self.ok("jobs").stdout)], ["running", "held"])

    def test_error_is_cut_to_the_line(self):
        long = "x" * 300 + " end"
        self.enqueue("fail", {"permanent": True, "message": long})
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        out = self.ok("jobs", env={"COLUMNS": "100"}).stdout
        line = out.splitlines()[1]
        self.assertLessEqual(len(line), 100)
        self.assertTrue(line.endswith("\u2026"), line)
        self.assertEqual(self.jobs()[0]["error"], long)  # --json keeps it whole

    def test_bad_usage_exits_64_naming_it(self):
        for args, said in ((["--state", "stuck"], "unknown state 'stuck'"),
                           (["--state", "completed"], "completed jobs are not listed"),
                           (["--since", "yesterday"], "--since 'yesterday'"),
                           (["--since", "2999-01-01"], "in the future"),
                           (["--limit", "0"], "--limit '0'"),
                           (["--queue", "a b"], "--queue"),
                           (["--type", "no/type"], "--type 'no/type'"),
                           (["extra"], "unexpected argument 'extra'")):
            with self.subTest(args=args):
                p = self.tickq("jobs", *args)
                self.assertEqual(p.returncode, 64, p.stderr)
                self.assertIn(said, p.stderr)
        for since in ("90s", "30m", "6h", "2d", "2026-01-15", "2026-01-15T10:00:00Z"):
            self.ok("jobs", "--since", since)


class TestJobsFromHistory(ControlsCase):
    """--since past the record TTL reads the job history database."""

    def check_history(self, env):
        fail_id = self.enqueue("fail", {"permanent": True, "message": "old failure"})
        status, w = self.burst("--workers", "1", "--result-ttl", "1", env=env)
        self.assertEqual(status, 0, w.log())
        wait_for(lambda: not self.r.exists(f"{PREFIX}:job:{fail_id}"), timeout=10, what="the record to expire")
        env = dict(env, TICKQ_RESULT_TTL="1")  # the reader's TTL: the records' age
        self.assertEqual(self.jobs("--state", "failed", env=env), [])  # Redis alone: gone
        got = wait_for(lambda: self.jobs("--since", "1h", env=env), timeout=10, what="the history row")
        self.assertEqual([(j["id"], j["state"], j["error"], j["source"]) for j in got],
                         [(fail_id, "failed", "old failure", "history")])
        self.assertEqual(self.jobs("--since", "1h", "--type", "noop", env=env), [])
        self.assertEqual(self.jobs("--since", "1h", "--queue", "other", env=env), [])
        p = self.ok("jobs", "--since", "1h", env=env)
        self.assertEqual(table(p.stdout)[0]["ID"], fail_id)
        self.assertIn("job history", p.stderr)

    def test_sqlite(self):
        path, env = temp_sqlite(self)
        self.check_history(env)

    def test_postgresql(self):
        pg = postgres()
        url, _ = pg.new_database()
        self.check_history({"DATABASE_URL": url, "TICKQ_DB": None})

    def test_a_database_that_cannot_open_is_an_error(self):
        p = self.tickq("jobs", "--since", "40d", "--db", "/nonexistent/dir/h.db")
        self.assertEqual(p.returncode, 73, p.stderr)


class TestRetryCommand(ControlsCase):
    def test_failed_and_dead_run_again_other_states_refused(self):
        f = self.enqueue("fail", {"permanent": True})
        d = self.enqueue("fail", None, "--max-retries", "0")
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual([self.state(f), self.state(d)], ["failed", "dead"])
        self.assertEqual(self.r.xlen(f"{PREFIX}:dead"), 1)
        for job_id in (f, d):
            p = self.ok("retry", job_id)
            self.assertEqual(p.stdout.strip(), f"requeued {job_id} (run 2)")
        self.assertEqual(self.r.xlen(f"{PREFIX}:dead"), 0)  # the dead one the dead-letter way
        self.assertEqual([j["id"] for j in self.jobs("--state", "queued")], [f, d])
        self.assertEqual((self.job(f)["attempts"], self.result(f)), ("0", None))
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        # fail {"times": 1} counts attempts within a run: run 2 ends as run 1 did.
        self.assertEqual((self.job(f)["state"], self.job(f)["run"]), ("failed", "2"))
        self.assertEqual((self.job(d)["state"], self.job(d)["run"]), ("dead", "2"))
        done = self.enqueue("noop")
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        p = self.tickq("retry", done)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"job {done} is completed, not failed or dead", p.stderr)
        q = self.enqueue("noop")
        p = self.tickq("retry", q)
        self.assertEqual(p.returncode, 1)
        self.assertIn("is queued", p.stderr)
        p = self.tickq("retry", "no-such-job")
        self.assertEqual(p.returncode, 3)
        self.assertEqual(self.tickq("retry").returncode, 64)


class TestDeleteCommand(ControlsCase):
    def test_finished_jobs_leave_redis_whole_other_states_refused(self):
        done = self.enqueue("noop")
        failed = self.enqueue("fail", {"permanent": True})
        dead = self.enqueue("fail", {"message": "feed down", "times": 5}, "--max-retries", "1")
        cancelled = self.enqueue("noop", None, "--queue", "nobody")
        self.ok("cancel", cancelled)
        status, w = self.burst("--workers", "1", "--queues", "backtest", "--retry-base", "10ms")
        self.assertEqual(status, 0, w.log())
        self.assertEqual([self.state(j) for j in (done, failed, dead, cancelled)],
                         ["completed", "failed", "dead", "cancelled"])
        self.assertEqual(len(self.retries(dead)), 2)                     # both attempts
        self.assertEqual(self.r.xlen(f"{PREFIX}:dead"), 1)
        counters = self.counters()
        for job_id, state in ((done, "completed"), (failed, "failed"), (dead, "dead"), (cancelled, "cancelled")):
            p = self.ok("delete", job_id)
            self.assertEqual(p.stdout.strip(), f"deleted {job_id} (was {state})")
            for key in (f"{PREFIX}:job:{job_id}", f"task_result:{job_id}", f"{PREFIX}:retries:{job_id}"):
                self.assertEqual(self.r.exists(key), 0, key)
        self.assertEqual(self.r.xlen(f"{PREFIX}:dead"), 0)              # the dead-letter entry went too
        for queue, state in (("backtest", "failed"), ("backtest", "dead"), ("nobody", "cancelled")):
            self.assertEqual(self.index(queue, state), [], (queue, state))
        self.assertEqual(self.jobs(), [])
        self.assertEqual(self.counters(), counters)                       # counters count what happened
        p = self.tickq("delete", done)
        self.assertEqual(p.returncode, 3)
        self.assertIn(f"no job {done}", p.stderr)
        # the id is free again: a new job under it starts at run 1, as after its record expired
        self.assertEqual(self.enqueue("noop", None, "--id", done), done)
        self.assertEqual((self.state(done), self.job(done)["run"]), ("queued", "1"))

    def test_unfinished_and_needed_jobs_are_refused_and_left_alone(self):
        q = self.enqueue("noop")
        p = self.tickq("delete", q)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"job {q} is queued, not finished: not deleted (`tickq cancel {q}` first)", p.stderr)
        self.assertEqual(self.ready(), 1)
        later = self.enqueue("noop", None, "--delay", "3600")
        self.assertEqual(self.tickq("delete", later).returncode, 1)
        self.assertEqual(self.state(later), "queued")
        self.ok("cancel", later)
        # a finished job whose result a waiting job depends on
        first = self.enqueue("noop", None, "--queue", "first")
        then = self.enqueue("noop", None, "--queue", "nobody", "--after", first)
        self.assertEqual(self.state(then), "deferred")
        self.assertEqual(self.tickq("delete", then).returncode, 1)
        status, w = self.burst("--workers", "1", "--queues", "first")
        self.assertEqual(status, 0, w.log())
        self.assertEqual((self.state(first), self.state(then)), ("completed", "queued"))
        p = self.tickq("delete", first)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"job {first} is needed by 1 waiting job(s) that depend on its result", p.stderr)
        self.assertEqual(self.result(first)["status"], "completed")
        self.ok("cancel", then)                                           # its dependent ended: now it may go
        self.ok("delete", first)
        self.assertEqual(self.tickq("delete").returncode, 64)
        self.assertEqual(self.tickq("delete", "a", "b").returncode, 64)

    def test_a_running_job_is_refused(self):
        jid = self.enqueue("sleep", {"ms": 60000})
        w = self.worker("--workers", "1")
        self.wait_running(jid)
        p = self.tickq("delete", jid)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"job {jid} is running", p.stderr)
        self.ok("cancel", jid)
        self.wait_state(jid, "cancelled", 20)
        self.ok("delete", jid)
        w.stop()


class TestPurgeCommand(ControlsCase):
    def test_refused_without_yes_then_every_waiting_job_cancelled(self):
        ids = [self.enqueue("noop", None, "--priority", p) for p in ("high", "normal", "low")]
        ids.append(self.enqueue("noop", None, "--delay", "3600"))
        other = self.enqueue("noop", None, "--queue", "other")
        p = self.tickq("purge", "backtest")
        self.assertEqual(p.returncode, 1)
        self.assertIn("would cancel 4 jobs (3 ready, 1 delayed, 0 retrying, 0 held", p.stderr)
        self.assertEqual({self.state(i) for i in ids}, {"queued"})
        p = self.ok("purge", "backtest", "--yes")
        self.assertIn("4 jobs cancelled", p.stdout)
        for i in ids:
            self.assertEqual(self.job(i)["error"], "Job purged")
            self.assertEqual(self.result(i)["status"], "error")
            self.assertEqual(self.result(i)["data"]["error"], "Job purged")
        self.assertEqual(self.state(other), "queued")
        self.assertIn("nothing to purge", self.ok("purge", "backtest").stdout)
        self.assertEqual(self.tickq("purge", "backtest_high", "--yes").returncode, 64)
        self.assertEqual(self.tickq("purge").returncode, 64)

    def test_running_jobs_finish_and_big_queues_go_in_batches(self):
        running = self.enqueue("sleep", {"ms": 1500})
        self.worker("--workers", "1")
        self.wait_running(running)
        pipe = self.r.pipeline()
        header = fcall_header()
        for i in range(2500):
            pipe.fcall("tickq_p1_enqueue", 0, *header, f"bulk-{i}", "noop", "{}", "backtest", "normal", "3",
                       "3600000", "0", "1048576", str(time.time_ns() // 1000), "0")
        pipe.execute()
        # The worker is busy: nothing of the bulk has started.
        p = self.ok("purge", "backtest", "--yes")
        self.assertIn("2500 jobs cancelled", p.stdout)
        self.assertIn("1 running jobs finish", p.stdout)
        self.assertEqual(self.wait_state(running, ("completed",)), "completed")
        self.assertEqual(len(self.index("backtest", "cancelled")), 2500)
        self.assertEqual(self.counters()["cancelled"], 2500)


class TestPauseResume(ControlsCase):
    def test_paused_queue_is_not_claimed_and_still_accepts_jobs(self):
        self.worker("--workers", "1", "--queues", "first,second")
        p = self.ok("pause", "first")
        self.assertIn("paused first", p.stdout)
        self.assertIn("was already paused", self.ok("pause", "first").stdout)
        # A job of the other queue shows the worker has claimed since the pause.
        s1 = self.enqueue("noop", None, "--queue", "second")
        self.wait_state(s1, ("completed",))
        held = self.enqueue("noop", None, "--queue", "first")
        s2 = self.enqueue("noop", None, "--queue", "second")
        self.wait_state(s2, ("completed",))
        self.assertEqual(self.state(held), "queued")
        self.assertEqual(self.pending("first_normal"), 0)
        stats = json.loads(self.ok("stats", "--json").stdout)
        self.assertEqual(stats["paused"], ["first"])
        first = [q for q in stats["queues"] if q["name"] == "first_normal"][0]
        self.assertEqual((first["paused"], first["ready"]), (True, 1))
        text = self.ok("stats").stdout
        self.assertRegex(text, r"first_normal\s+1\s+0\s+0\s+0\s+0\s+paused")
        self.assertIn("paused queues (tickq resume QUEUE): first", text)
        p = self.tickq("result", held)
        self.assertEqual(p.returncode, 3)
        self.assertIn(f"job {held} is queued on first_normal, which is paused (tickq resume first)", p.stderr)
        self.assertIn("resumed first", self.ok("resume", "first").stdout)
        self.wait_state(held, ("completed",))
        self.assertIn("was not paused", self.ok("resume", "first").stdout)
        self.assertEqual(self.r.exists(f"{PREFIX}:paused"), 0)

    def test_every_queue_paused_the_worker_waits(self):
        self.ok("pause", "backtest")
        self.worker("--workers", "1")
        j = self.enqueue("noop")
        s = self.enqueue("noop", None, "--queue", "other")  # not this worker's
        wait_for(lambda: json.loads(self.ok("stats", "--json").stdout)["workers"], what="the worker's heartbeat")
        self.assertEqual(self.state(j), "queued")
        self.ok("resume", "backtest")
        self.wait_state(j, ("completed",))
        self.assertEqual(self.state(s), "queued")

    def test_bad_queue_names(self):
        for args in (["pause"], ["pause", "a b"], ["pause", "q_high"], ["resume", "x", "y"]):
            with self.subTest(args=args):
                self.assertEqual(self.tickq(*args).returncode, 64)


class TestLimits(ControlsCase):
    def test_limit_holds_a_type_and_never_blocks_the_others(self):
        self.ok("limit", "sleep", "1")
        sleeps = [self.enqueue("sleep", {"ms": 300}) for _ in range(3)]
        noops = [self.enqueue("noop") for _ in range(3)]
        self.worker("--workers", "3")
        for j in sleeps + noops:
            self.wait_state(j, ("completed",), timeout=30)
        spans = sorted((int(self.job(j)["started_us"]), int(self.job(j)["finished_us"])) for j in sleeps)
        for (s1, f1), (s2, f2) in zip(spans, spans[1:]):
            self.assertLessEqual(f1, s2, "two sleep jobs ran at once under a limit of 1")
        # The noops behind the held sleeps did not wait for them.
        self.assertLess(max(int(self.job(j)["finished_us"]) for j in noops), spans[-1][0])
        rows = table(self.ok("limit").stdout)
        self.assertEqual(rows, [{"TYPE": "sleep", "LIMIT": "1", "RUNNING": "0", "HELD": "0"}])
        self.assertIn("limit sleep: 1 at once, 0 running, 0 held", self.ok("stats").stdout)

    def test_set_list_clear_and_bad_input(self):
        self.assertIn("no limits", self.ok("limit").stderr)
        self.assertIn("limited echo to 2 running at once (0 running now)", self.ok("limit", "echo", "2").stdout)
        self.assertIn("was 2", self.ok("limit", "echo", "3").stdout)
        self.assertEqual(jsonl(self.ok("limit", "--json").stdout),
                         [{"type": "echo", "limit": 3, "running": 0, "held": 0}])
        self.assertIn("cleared the limit of echo (was 3)", self.ok("limit", "echo", "--clear").stdout)
        self.assertIn("echo had no limit", self.ok("limit", "echo", "--clear").stdout)
        p = self.tickq("limit", "no_such_type", "1")
        self.assertEqual(p.returncode, 65)
        self.assertIn("tickq types add no_such_type", p.stderr)
        self.ok("types", "add", "vendor_fetch")
        self.ok("limit", "vendor_fetch", "0")
        for args in (["echo", "-1"], ["echo", "x"], ["echo"], ["echo", "1", "2"], ["echo", "1", "--clear"],
                     ["bad/type", "1"], ["echo", "--json"]):
            with self.subTest(args=args):
                self.assertEqual(self.tickq("limit", *args).returncode, 64)

    def test_clearing_a_limit_releases_its_held_jobs(self):
        self.ok("limit", "noop", "0")
        jobs = [self.enqueue("noop") for _ in range(3)]
        self.worker("--workers", "1")
        wait_for(lambda: len(self.jobs("--state", "held")) == 3, what="the jobs to be held")
        self.ok("limit", "noop", "--clear")
        for j in jobs:
            self.wait_state(j, ("completed",))
        self.assertEqual(self.r.exists(f"{PREFIX}:holding", f"{PREFIX}:held:noop"), 0)

    def test_a_leaked_slot_is_repaired_by_reclaim(self):
        self.ok("limit", "noop", "1")
        # A slot whose job no longer holds it (deleted by hand, say).
        self.r.zadd(f"{PREFIX}:running:noop", {"lost-job": 1})
        j = self.enqueue("noop")
        self.worker("--workers", "1", "--claim-timeout", "1s", "--heartbeat", "200ms")
        self.wait_state(j, ("completed",), timeout=30)
        self.assertIsNone(self.r.zscore(f"{PREFIX}:running:noop", "lost-job"))

    def test_a_crashed_worker_frees_its_slot(self):
        self.ok("limit", "fail", "1")
        crash = self.enqueue("fail", {"crash": True}, "--max-retries", "1")
        after = self.enqueue("fail", {"times": 0})  # of the same type: completes
        self.worker("--workers", "1", "--retry-base", "10ms")
        self.wait_state(crash, ("dead",), timeout=30)
        self.assertEqual(self.job(crash)["attempts"], "2")  # two crashed attempts, each freed its slot
        self.wait_state(after, ("completed",), timeout=30)
        self.assertEqual(self.r.zcard(f"{PREFIX}:running:fail"), 0)


class TestExpires(ControlsCase):
    def test_a_job_not_started_in_time_never_runs(self):
        self.ok("pause", "backtest")
        j = self.enqueue("noop", None, "--expires", "0.3")
        expiry = int(self.job(j)["expires_us"]) / 1e6
        self.assertAlmostEqual(expiry, time.time() + 0.3, delta=5)
        job = json.loads(self.ok("job", j).stdout)
        self.assertIn("expires_at", job)
        wait_for(lambda: time.time() > expiry + 0.05, what="the expiry to pass")
        self.ok("resume", "backtest")
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.result(j)["data"]["error"], "Job expired")
        self.assertNotIn("started_us", self.job(j))
        self.assertEqual([x["id"] for x in self.jobs("--state", "cancelled")], [j])
        self.assertEqual(self.r.exists(f"{PREFIX}:expiring"), 0)

    def test_delayed_and_retrying_jobs_expire(self):
        d = self.enqueue("noop", None, "--delay", "0.1", "--expires", "0.3")
        r = self.enqueue("fail", {"times": 1}, "--expires", "4")
        ok = self.enqueue("noop", None, "--expires", "60")
        self.worker("--workers", "1", "--retry-base", "30s")
        self.wait_state(ok, ("completed",))
        # Its first attempt fails before the expiry (4 s: room for a slow
        # worker start on a loaded machine); the retry is due in 30 s.
        wait_for(lambda: self.job(r)["attempts"] == "1", what="the first attempt of the expiring job", timeout=4)
        self.wait_state(r, ("cancelled",), timeout=15)  # its retry came due at its expiry
        self.assertEqual(self.job(r)["error"], "Job expired")
        self.assertEqual(self.job(r)["attempts"], "1")
        self.assertIn(self.state(d), ("completed", "cancelled"))  # promoted in time, or after its expiry

    def test_expired_while_delayed(self):
        self.ok("pause", "other")  # an unrelated control: the gates are on
        d = self.enqueue("noop", None, "--delay", "0.2", "--expires", "0.4")
        expiry = int(self.job(d)["expires_us"]) / 1e6
        wait_for(lambda: time.time() > expiry + 0.05, what="the expiry to pass")
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.job(d)["error"], "Job expired")

    def test_the_python_client_enqueues_with_an_expiry(self):
        self.ok("pause", "backtest")
        client = Client(self.url)
        j = client.enqueue("noop", expires=0.3)
        kept = client.enqueue("noop", id="kept", replace=True)  # replace still read from its option
        expiry = int(self.job(j)["expires_us"]) / 1e6
        self.assertNotIn("expires_us", self.job(kept))
        wait_for(lambda: time.time() > expiry + 0.05, what="the expiry to pass")
        self.ok("resume", "backtest")
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.job(j)["error"], "Job expired")
        self.assertEqual(self.state(kept), "completed")

    def test_an_expiry_whose_job_went_is_repaired_by_reclaim(self):
        j = self.enqueue("noop", None, "--queue", "nobody", "--expires", "0.2")
        self.r.delete(f"{PREFIX}:job:{j}")  # by hand: no function saw it go
        self.worker("--workers", "1", "--claim-timeout", "1s", "--heartbeat", "200ms")
        wait_for(lambda: not self.r.exists(f"{PREFIX}:expiring"), timeout=30, what="the expiring member to go")

    def test_bad_expiries_are_refused(self):
        for args, said in ((["--expires", "0"], "more than 0"), (["--expires", "-1"], "negative"),
                           (["--expires", "soon"], "--expires 'soon'"),
                           (["--expires", "1", "--delay", "2"], "before its delay ends"),
                           (["--expires", str(366 * 86400)], "at most a year")):
            with self.subTest(args=args):
                p = self.tickq("enqueue", "noop", *args)
                self.assertEqual(p.returncode, 65, p.stderr)
                self.assertIn(said, p.stderr)
        self.assertEqual(self.r.exists(f"{PREFIX}:expiring"), 0)


class TestUnservedQueues(ControlsCase):
    def test_stats_and_result_name_a_queue_no_live_worker_serves(self):
        lonely = self.enqueue("noop", None, "--queue", "lonely")
        p = self.tickq("result", lonely, "--wait", "0.2")
        self.assertEqual(p.returncode, 3)
        self.assertIn(f"job {lonely} is queued on lonely_normal, which no live worker serves", p.stderr)
        self.worker("--workers", "1", "--queues", "backtest", "--heartbeat", "200ms")
        wait_for(lambda: json.loads(self.ok("stats", "--json").stdout)["workers"], what="the worker's heartbeat")
        stats = json.loads(self.ok("stats", "--json").stdout)
        by_name = {q["name"]: q for q in stats["queues"]}
        self.assertEqual((by_name["lonely_normal"]["served"], by_name["lonely_normal"]["unserved"]), (0, True))
        self.assertEqual((by_name["backtest_normal"]["served"], by_name["backtest_normal"]["unserved"]), (1, False))
        text = self.ok("stats").stdout
        self.assertRegex(text, r"lonely_normal\s+1\s+0\s+0\s+0\s+0\s+no live worker")
        self.assertIn("lonely_normal: 1 ready jobs and no live worker serves it", text)
        self.ok("pause", "backtest")
        waiting = self.enqueue("noop")
        self.ok("resume", "backtest")
        self.wait_state(waiting, ("completed",))
        # Served but not started yet: said so.
        self.ok("limit", "sleep", "0")
        held = self.enqueue("sleep", {"ms": 1})
        p = self.tickq("result", held)
        self.assertIn(f"job {held} is queued on backtest_normal, not started yet", p.stderr)


class TestOutOfMemory(ControlsCase):
    """Redis at maxmemory (noeviction) refuses writes: the commands that
    write exit 75 naming the memory, and nothing changes; the listings
    (plain reads) still work."""

    def tearDown(self):
        self.r.config_set("maxmemory", 0)
        super().tearDown()

    def test_writers_exit_75_readers_still_read(self):
        failed = self.enqueue("fail", {"permanent": True})
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.ok("limit", "echo", "2")
        self.enqueue("noop")
        fill_until_oom(self.r)
        for args in (("retry", failed), ("purge", "backtest", "--yes"), ("pause", "backtest"), ("limit", "echo", "1"),
                     ("limit", "echo", "--clear"), ("enqueue", "noop", "--expires", "10")):
            with self.subTest(args=args):
                p = self.tickq(*args, timeout=30)
                self.assertEqual(p.returncode, 75, p.stderr)
                self.assertRegex(p.stderr, r"Redis is out of memory and refuses writes \(used memory ")
        self.assertEqual(self.state(failed), "failed")
        self.assertEqual(self.r.exists("tickq:paused"), 0)
        self.assertEqual(self.r.hgetall("tickq:limits"), {"echo": "2"})
        self.assertEqual([j["id"] for j in self.jobs("--state", "failed")], [failed])
        self.assertIn("limit echo: 2 at once", self.ok("stats").stdout)
        self.assertEqual(jsonl(self.ok("limit", "--json").stdout)[0]["limit"], 2)
