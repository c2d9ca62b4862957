"""chaoslib.py — what the chaos and soak runners share: a producer that
enqueues through the Redis function as any client may, fleets of `tickq
worker` supervisors that can be killed and restarted, and the checks every
scenario ends with (lost, stuck, ran twice, job history complete).

The servers and workers come from tests/integration/harness.py (which also
points TICKQ_DB and XDG_DATA_HOME at a scratch folder); the binary is
$TICKQ_BIN, else build/tickq, or use_binary()'s."""
import collections
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))

import harness  # noqa: E402
from harness import (RedisServer, Worker, comm, fcall_header, gone, load_library,  # noqa: E402
                     tickq, wait_for)

__all__ = ["RedisServer", "Worker", "comm", "gone", "tickq", "wait_for", "Enqueuer", "Producer", "Fleet",
           "FINAL", "job_states", "wait_final", "history_check", "stuck_details", "rss_kb", "log",
           "Outcome", "use_binary", "history_count"]

FINAL = ("completed", "failed", "dead", "cancelled")


def use_binary(path):
    """Runs this tickq binary instead of $TICKQ_BIN (harness's default)."""
    harness.TICKQ = os.path.abspath(path)


def log(*parts):
    """Progress for the operator, on stderr (stdout carries the JSON lines)."""
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


class Enqueuer:
    """Enqueues jobs with FCALL tickq_p1_enqueue, pipelined. submit() returns
    the ids Redis created and the refusals (id, error text); a connection
    error is raised, and the caller then cannot know which of the batch
    Redis took."""

    def __init__(self, client, queue="backtest", priority="normal", max_retries=3, timeout_ms=600000,
                 result_ttl=86400):
        self.r = client
        self.queue, self.priority = queue, priority
        self.max_retries, self.timeout_ms, self.result_ttl = max_retries, timeout_ms, result_ttl

    def submit(self, jobs):
        """jobs: (id, type, args dict[, max_retries]) tuples."""
        for attempt in range(2):
            now_ms = int(time.time() * 1000)
            header = fcall_header(now_ms, self.result_ttl)
            pipe = self.r.pipeline(transaction=False)
            for job in jobs:
                jid, jtype, args = job[:3]
                retries = job[3] if len(job) > 3 else self.max_retries
                pipe.fcall("tickq_p1_enqueue", 0, *header, jid, jtype, json.dumps(args), self.queue,
                           self.priority, str(retries), str(self.timeout_ms), "0", "1048576", str(now_ms * 1000))
            replies = pipe.execute(raise_on_error=False)
            if attempt == 0 and any(isinstance(x, redis.ResponseError) and "Function not found" in str(x)
                                    for x in replies):
                load_library(self.r)
                continue
            created, refused = [], []
            for job, reply in zip(jobs, replies):
                if isinstance(reply, Exception):
                    refused.append((job[0], str(reply)))
                elif reply[0] == 1:
                    created.append(job[0])
                else:
                    refused.append((job[0], f"exists: {reply[2]}"))
            return created, refused
        raise AssertionError("unreachable")


class Producer(threading.Thread):
    """Enqueues `make_job(rng, n)` jobs at `rate` per second, in batches every
    `tick` seconds, until stop() or `total` jobs. Survives Redis going away,
    as a careful client does: a batch whose replies did not all come back is
    sent again, with the same ids, once Redis answers (an id Redis already
    holds is not enqueued twice: its reply says it exists, and the job
    counts as accepted; `found_existing` counts those, which Redis had taken
    although the reply was lost)."""

    def __init__(self, connect, make_job, rate, total=None, tick=0.05, seed=1, **enqueue_kw):
        super().__init__(daemon=True)
        self.connect, self.make_job, self.rate, self.total, self.tick = connect, make_job, rate, total, tick
        self.enqueue_kw = enqueue_kw
        self.rng = random.Random(seed)
        self.accepted, self.refused = [], []
        self.resent = self.found_existing = 0
        self.errors = collections.Counter()
        self.stopping = threading.Event()
        self.n = 0
        self.lock = threading.Lock()

    def stop(self):
        self.stopping.set()
        self.join(60)

    def run(self):
        enq, retry = None, None
        t0 = time.monotonic()
        while True:
            if retry is not None:
                jobs = retry
            else:
                if self.stopping.is_set() or (self.total is not None and self.n >= self.total):
                    break
                due = int((time.monotonic() - t0) * self.rate) - self.n
                if self.total is not None:
                    due = min(due, self.total - self.n)
                if due <= 0:
                    self.stopping.wait(self.tick)
                    continue
                jobs = [self.make_job(self.rng, self.n + i) for i in range(min(due, 1000))]
                self.n += len(jobs)
            try:
                if enq is None:
                    enq = Enqueuer(self.connect(), **self.enqueue_kw)
                created, refused = enq.submit(jobs)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
                self.errors[type(e).__name__] += 1
                if retry is None:
                    self.resent += len(jobs)
                retry, enq = jobs, None
                time.sleep(0.05)
                continue
            if retry is not None:
                existing = [j for j, why in refused if why.startswith("exists:")]
                self.found_existing += len(existing)
                created += existing
                refused = [(j, why) for j, why in refused if not why.startswith("exists:")]
            retry = None
            with self.lock:
                self.accepted.extend(created)
                self.refused.extend(refused)

    def snapshot(self):
        with self.lock:
            return list(self.accepted)


class Fleet:
    """Supervisors (`tickq worker` processes) started with the same
    arguments; killed ones can be replaced. Keeps every worker's log until
    close(), and the ids of their job history processes, so stop() can wait
    until all history is written."""

    def __init__(self, url, n, args, env=None, logdir=None):
        self.url, self.args, self.env, self.logdir = url, [str(a) for a in args], env, logdir
        self.all, self.live = [], []
        self.history_pids = set()
        for _ in range(n):
            self.start()

    def start(self):
        w = Worker(self.url, *self.args, env=self.env, logdir=self.logdir)
        self.all.append(w)
        self.live.append(w)
        return w

    def note_history(self):
        for w in self.live:
            self.history_pids.update(w.history_process())

    def wait_children(self, n, timeout=15):
        wait_for(lambda: all(len(w.children()) >= n for w in self.live), timeout,
                 what=f"{n} children per supervisor")
        self.note_history()

    def kill_supervisor(self, w):
        """SIGKILLs a supervisor; returns how many worker children it had
        (they die with it)."""
        self.note_history()
        children = w.children()
        w.proc.kill()
        w.proc.wait()
        self.live.remove(w)
        return len(children)

    def stop(self, timeout=60):
        """SIGTERM to every live supervisor, then waits for them and for every
        job history process seen (they drain their pipe before exiting).
        Returns the supervisors' exit statuses."""
        self.note_history()
        for w in self.live:
            w.signal(signal.SIGTERM)
        statuses = []
        for w in self.live:  # one signal each: a second would cut the grace period short
            try:
                statuses.append(w.proc.wait(timeout))
            except subprocess.TimeoutExpired:
                w.proc.kill()
                statuses.append(w.proc.wait())
        self.live = []
        deadline = time.time() + timeout
        while time.time() < deadline and not all(gone(p) for p in self.history_pids):
            time.sleep(0.05)
        return statuses

    def close(self):
        """Stops what still runs; the logs stay in logdir (the caller
        removes it, or keeps it to look at a failure)."""
        for w in self.all:
            w.stop()
            w.log_file.close()
        self.all, self.live = [], []

    def log_lines(self):
        """Every worker's log as parsed JSON lines (other lines are skipped)."""
        for w in self.all:
            for line in w.log().splitlines():
                if line.startswith("{"):
                    try:
                        yield json.loads(line)
                    except ValueError:
                        pass

    def starts(self):
        """job id → how many "job started" lines the logs hold for it."""
        return collections.Counter(x.get("job_id") for x in self.log_lines() if x.get("msg") == "job started")

    def messages(self, needle):
        return [x for x in self.log_lines() if needle in x.get("msg", "")]

    def outcomes_skipped(self):
        """Outcomes a child found already settled when it recorded them:
        (reclaimed meanwhile: its "outcomes skipped" warnings, for which it
        writes no history; applied by an earlier call whose reply was lost:
        "outcomes already recorded by the earlier call")."""
        return (sum(int(x.get("skipped", 0)) for x in self.messages("outcomes skipped")),
                sum(int(x.get("outcomes", 0)) for x in self.messages("outcomes already recorded")))


def job_states(r, ids):
    """id → (state or None when the record is gone, run, attempts)."""
    out = {}
    ids = list(ids)
    for i in range(0, len(ids), 2000):
        chunk = ids[i:i + 2000]
        pipe = r.pipeline(transaction=False)
        for jid in chunk:
            pipe.hmget(f"tickq:job:{jid}", "state", "run", "attempts")
        for jid, (state, run, attempts) in zip(chunk, pipe.execute()):
            out[jid] = (state, int(run or 1), int(attempts or 0))
    return out


def wait_final(r, ids, timeout, poll=0.25):
    """Waits until every job of ids is final (or its record is gone), at
    most `timeout` seconds; returns the last states."""
    deadline = time.time() + timeout
    states = {}
    waiting = list(ids)
    while True:
        now = job_states(r, waiting)
        states.update(now)
        waiting = [j for j, (s, _, _) in now.items() if s is not None and s not in FINAL]
        if not waiting or time.time() > deadline:
            return states
        time.sleep(poll)


def stuck_details(r, states, limit=5):
    """What a few jobs that are not final look like: record, result,
    and who holds their stream entry."""
    out = []
    for jid, (state, run, attempts) in states.items():
        if state is None or state in FINAL:
            continue
        if len(out) >= limit:
            break
        rec = r.hgetall(f"tickq:job:{jid}")
        res = r.get(f"task_result:{jid}")
        holder = None
        stream, entry = rec.get("stream"), rec.get("entry")
        if stream and entry:
            try:
                p = r.xpending_range(stream, "workers", min=entry, max=entry, count=1)
                if p:
                    holder = {"consumer": p[0]["consumer"], "idle_ms": p[0]["time_since_delivered"],
                              "deliveries": p[0]["times_delivered"]}
            except redis.ResponseError:
                pass
        out.append({"id": jid, "state": state, "run": run, "attempts": attempts,
                    "result": json.loads(res)["status"] if res else None, "pending": holder})
    return out


def history_check(db_path, states):
    """Compares job_history with what Redis recorded: one row per finished
    run (job id, run) with the same state. Returns (missing, duplicate,
    wrong_state, extra): the ids of the rows missing, (id, run) pairs with more than one
    row, rows whose state differs, rows for runs Redis does not show
    finished."""
    expected = {(jid, run): state for jid, (state, run, _) in states.items() if state in FINAL}
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        rows = con.execute("SELECT job_id, run, state, COUNT(*) FROM job_history GROUP BY job_id, run").fetchall()
    finally:
        con.close()
    got = {(jid, run): (state, n) for jid, run, state, n in rows if jid in states}
    missing = sorted(k[0] for k in expected if k not in got)
    duplicate = sum(1 for k, (_, n) in got.items() if n > 1)
    wrong = sum(1 for k, (s, _) in got.items() if k in expected and s != expected[k])
    extra = sum(1 for k in got if k not in expected)
    return missing, duplicate, wrong, extra


def history_count(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT COUNT(*) FROM job_history").fetchone()[0]
    finally:
        con.close()


def rss_kb(pid):
    """A process's resident set (VmRSS, KiB), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class Outcome:
    """One scenario's line: the common figures first, then its own; fail()
    adds a reason; the line says ok only without reasons."""

    def __init__(self, scenario):
        self.t0 = time.time()
        self.fields = {"scenario": scenario, "jobs": 0, "completed": 0, "lost": 0, "stuck": 0, "ran_twice": 0,
                       "kills": 0, "history_rows_missing": 0, "seconds": 0.0}
        self.failures = []

    def __setitem__(self, k, v):
        self.fields[k] = v

    def __getitem__(self, k):
        return self.fields[k]

    def fail(self, why):
        self.failures.append(why)

    def jobs_from(self, states, accepted):
        """lost: accepted jobs Redis no longer has; stuck: present but not
        final; completed."""
        self["jobs"] = len(accepted)
        self["completed"] = sum(1 for j in accepted if states[j][0] == "completed")
        self["lost"] = sum(1 for j in accepted if states[j][0] is None)
        self["stuck"] = sum(1 for j in accepted if states[j][0] not in FINAL and states[j][0] is not None)
        others = collections.Counter(states[j][0] for j in accepted if states[j][0] not in ("completed", None))
        if others:
            self["other_states"] = dict(others)

    def standard_checks(self):
        if self["lost"]:
            self.fail(f"{self['lost']} jobs lost")
        if self["stuck"]:
            self.fail(f"{self['stuck']} jobs stuck")
        if self["ran_twice"] > self["kills"]:
            self.fail(f"ran_twice {self['ran_twice']} > kills {self['kills']}")
        if self["history_rows_missing"]:
            self.fail(f"{self['history_rows_missing']} job_history rows missing")
        for k in ("history_rows_duplicate", "history_rows_wrong_state", "history_rows_extra"):
            if self.fields.get(k):
                self.fail(f"{self[k]} {k[len('history_'):].replace('_', ' ')}")

    def history_from(self, db_path, states):
        missing, dup, wrong, extra = history_check(db_path, states)
        self["history_rows_missing"] = len(missing)
        if missing:
            self["history_missing_ids"] = missing[:5]
        self["history_rows_duplicate"] = dup
        self["history_rows_wrong_state"] = wrong
        self["history_rows_extra"] = extra

    def line(self):
        self["seconds"] = round(time.time() - self.t0, 1)
        self["ok"] = not self.failures
        if self.failures:
            self["failures"] = self.failures
        return json.dumps(self.fields)
