#!/usr/bin/env python3
"""chaos.py — tickq under faults, against the built binary: a SIGKILL storm
of worker children and supervisors, Redis SIGKILLed and restarted from its
AOF (appendfsync everysec and always), a TCP proxy stalling and dropping the
workers' connections, a maxmemory flood, and a job history database on a
disk that fills up.

Each scenario starts its own redis-server (private unix socket, or a
loopback port), workers and files, stops them whatever happens, and prints
one JSON line on stdout: scenario, jobs, completed, lost, stuck, ran_twice,
kills, history_rows_missing, seconds, then its own figures, "ok", and
"failures" when not ok. A scenario fails unless lost = 0, stuck = 0, the job
history holds exactly one row per finished run that Redis shows, and
ran_twice <= kills. The exit status is 1 when any scenario failed.

    tests/chaos/chaos.py [--scale S] [--tickq PATH] [SCENARIO...]

--scale (or CHAOS_SCALE; default 1: about 4 minutes in all) multiplies
durations and job counts; `make test` runs 0.2 (test_chaos.py). Two more
scenarios run only when named, redis_kill_rdb and redis_kill_none: they
measure what Redis without an AOF loses when killed (docs/operations.md),
and fail only on stuck jobs or workers that do not carry on. Progress goes
to stderr;
CHAOS_KEEP=1 keeps each scenario's folder (logs, database), which a failed
scenario always keeps. The disk-full scenario needs root (it mounts a
tmpfs); without it the line says "skipped".

What the figures mean (docs/operations.md):
- jobs: jobs Redis accepted (an enqueue whose reply came back);
- lost: accepted jobs whose record Redis no longer has;
- stuck: accepted jobs not final once the faults stopped and the claim
  timeout plus a margin has passed, with the workers still running;
- ran_twice: jobs started more than once (a "job started" log line per start,
  or attempts above 1 in Redis);
- kills: worker children SIGKILLed, directly or with their supervisor (each
  can make the one job it holds run again), or Redis SIGKILLs;
- history_rows_missing: finished runs (job id, run) without a job_history row.
"""
import argparse
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import chaoslib
from chaoslib import (FINAL, Enqueuer, Fleet, Outcome, Producer, RedisServer, history_count, job_states, log,
                      stuck_details, tickq, wait_final, wait_for)
from harness import kill_one  # noqa: E402 (on the path chaoslib sets)

SCENARIOS = ["kill_storm", "redis_kill_everysec", "redis_kill_always", "proxy_stall", "maxmemory_flood",
             "disk_full"]
MEASURES = ["redis_kill_rdb", "redis_kill_none"]  # what the other persistence settings lose; on request only
OPTIONS = {"aof_tmpfs": False}


def scaled(scale, value, minimum):
    return max(minimum, type(value)(value * scale))


# --- 1. SIGKILL storm -------------------------------------------------------
def kill_storm(out, scale, tmp, stack):
    """Supervisors with several children each run short sleep jobs (5-30 ms,
    so each is a batch of one and its start is logged before it runs: the
    starts counted are exact) while a killer SIGKILLs a random child every
    0.1-0.5 s, and every tenth time a whole supervisor, restarted 0.2-1 s
    later."""
    rng = random.Random(11)
    seconds = scaled(scale, 60.0, 10.0)
    total = scaled(scale, 15000, 2000)
    n_sup, n_children, claim_timeout = (3 if scale >= 0.5 else 2), 3, 10
    server = RedisServer()
    stack.callback(server.close)
    db = os.path.join(tmp, "history.db")
    fleet = Fleet(server.url, n_sup, ["--workers", n_children, "--claim-timeout", f"{claim_timeout}s",
                                      "--heartbeat", "1s", "--retry-base", "100ms", "--retry-max", "1s"],
                  env={"TICKQ_DB": db}, logdir=tmp)
    stack.callback(fleet.close)
    fleet.wait_children(n_children)
    r = server.client()
    producer = Producer(server.client, lambda rng, i: (f"storm-{i}", "sleep", {"ms": rng.randint(5, 30)}),
                        rate=total / seconds, total=total, max_retries=20)
    producer.start()
    stack.callback(producer.stop)
    child_kills = sup_kills = died_with_sup = 0
    restarts = []
    t_end = time.time() + seconds
    while time.time() < t_end:
        time.sleep(rng.uniform(0.1, 0.5))
        now = time.time()
        for due in [d for d in restarts if d <= now]:
            restarts.remove(due)
            fleet.start()
        if not fleet.live:
            continue
        w = rng.choice(fleet.live)
        if rng.random() < 0.1:
            died_with_sup += fleet.kill_supervisor(w)
            sup_kills += 1
            restarts.append(now + rng.uniform(0.2, 1.0))
            continue
        child_kills += kill_one(w.children(), rng)
        fleet.note_history()
    for _ in restarts:
        fleet.start()
    producer.stop()
    accepted = producer.snapshot()
    log(f"kill_storm: {child_kills} children and {sup_kills} supervisors killed; waiting for {len(accepted)} jobs")
    states = wait_final(r, accepted, claim_timeout + 30)
    out.jobs_from(states, accepted)
    out["stuck_jobs"] = stuck_details(r, states)
    fleet.stop()
    starts = fleet.starts()
    out["ran_twice"] = sum(1 for j in accepted if starts[j] > 1 or states[j][2] > 1)
    out["kills"] = child_kills + died_with_sup
    out["outcomes_skipped"], out["outcomes_applied_late"] = fleet.outcomes_skipped()
    out["child_kills"], out["supervisor_kills"], out["children_died_with_supervisor"] = \
        child_kills, sup_kills, died_with_sup
    out["params"] = {"supervisors": n_sup, "workers": n_children, "seconds": seconds,
                     "claim_timeout_s": claim_timeout}
    out.history_from(db, states)
    out.standard_checks()
    if producer.resent:
        out.fail(f"{producer.resent} enqueues sent again (Redis never went away here)")


# --- 2. Redis SIGKILLed and restarted from its AOF ----------------------------
PERSISTENCE = {"everysec": ["--appendonly", "yes", "--appendfsync", "everysec"],
               "always": ["--appendonly", "yes", "--appendfsync", "always"],
               "rdb": ["--save", "5 1"],  # a snapshot every 5 s (when anything changed)
               "none": []}                # harness's default: no AOF, no snapshots


def redis_kill(mode):
    def scenario(out, scale, tmp, stack):
        """Workers run no-op, echo and 1-3 ms sleep jobs enqueued at 1,000/s
        while Redis (appendonly yes, appendfsync `mode`) is SIGKILLed and
        restarted from its AOF a few times. A SIGKILL keeps what Redis
        wrote to the page cache: only a power loss tests fsync. But with
        everysec Redis does not write while a background fsync is still
        running (up to 2 s), and answers meanwhile: a SIGKILL then loses
        what it held back, and an acknowledged outcome lost that way makes
        its job run again (ran_twice above kills). The line shows the AOF's
        state just before each kill (aof_at_kill). --aof-tmpfs puts Redis's
        files on /dev/shm, where fsync takes no time, so no write is held
        back: `make test` runs everysec that way. An enqueue whose reply
        never came back is sent again with the same id once Redis is back
        (Producer).

        With mode rdb (a snapshot every 5 s) or none, not run by default,
        the same measures what those settings lose: the line has
        "expected_loss" and fails only when a job Redis still holds is
        stuck or the workers do not carry on."""
        rng = random.Random(22)
        kills = scaled(scale, 3, 1)
        rate = 1000
        expect_loss = mode in ("rdb", "none")
        redis_args = list(PERSISTENCE[mode])
        if OPTIONS["aof_tmpfs"]:
            files = tempfile.mkdtemp(prefix="tickq-chaos-aof-", dir="/dev/shm")
            stack.callback(shutil.rmtree, files, True)
            redis_args += ["--dir", files]
        server = RedisServer(args=redis_args)
        stack.callback(server.close)
        db = os.path.join(tmp, "history.db")
        fleet = Fleet(server.url, 2, ["--workers", 2, "--retry-base", "100ms", "--heartbeat", "1s"],
                      env={"TICKQ_DB": db}, logdir=tmp)
        stack.callback(fleet.close)
        fleet.wait_children(2)

        def make(rng, i):
            x = rng.random()
            if x < 0.6:
                return (f"aof-{i}", "noop", {})
            if x < 0.8:
                return (f"aof-{i}", "echo", {"i": i})
            return (f"aof-{i}", "sleep", {"ms": rng.randint(1, 3)})
        producer = Producer(server.client, make, rate=rate, max_retries=10)
        producer.start()
        stack.callback(producer.stop)
        lost_at_kill, lost_before, recovery, aof_at_kill = [], set(), [], []
        time.sleep(2)
        for k in range(kills):
            time.sleep(rng.uniform(2.0, 4.0))
            before = producer.snapshot()
            if mode in ("everysec", "always"):
                info = server.client().info("persistence")
                aof_at_kill.append({k: info.get(k) for k in ("aof_pending_bio_fsync", "aof_buffer_length",
                                                            "aof_delayed_fsync")})
            server.proc.kill()
            server.proc.wait()
            time.sleep(0.5)
            server.start()
            t_up = time.time()
            r = server.client()
            missing = {j for j, (s, _, _) in job_states(r, before).items() if s is None}
            lost_at_kill.append(len(missing - lost_before))
            lost_before |= missing
            c0 = int(r.hget("tickq:stats:backtest", "completed") or 0)
            try:
                wait_for(lambda: int(r.hget("tickq:stats:backtest", "completed") or 0) > c0, 30,
                         what="workers to complete jobs after the restart")
                recovery.append(round(time.time() - t_up, 2))
            except AssertionError:
                recovery.append(None)
            log(f"redis_kill_{mode}: kill {k + 1}/{kills}: {len(before)} accepted before, "
                f"{lost_at_kill[-1]} more missing after the restart; workers completing again after {recovery[-1]} s")
        time.sleep(1)
        producer.stop()
        r = server.client()
        accepted = producer.snapshot()
        states = wait_final(r, accepted, 30 + 20)
        out.jobs_from(states, accepted)
        out["stuck_jobs"] = stuck_details(r, states)
        out["enqueues_resent"], out["resent_found_existing"] = producer.resent, producer.found_existing
        out["lost_at_each_kill"] = lost_at_kill
        out["workers_resumed_after_s"] = recovery
        if aof_at_kill:
            out["aof_at_kill"] = aof_at_kill
        out["outcomes_skipped"], out["outcomes_applied_late"] = fleet.outcomes_skipped()
        out["workers_alive"] = sum(1 for w in fleet.live if w.proc.poll() is None)
        fleet.stop()
        starts = fleet.starts()
        out["ran_twice"] = sum(1 for j in accepted if starts[j] > 1 or states[j][2] > 1)
        out["kills"] = kills
        out["params"] = {"persistence": mode, "redis_args": PERSISTENCE[mode], "rate": rate, "supervisors": 2,
                         "workers": 2, "redis_files": "tmpfs" if OPTIONS["aof_tmpfs"] else "disk"}
        out.history_from(db, states)
        if expect_loss:
            out["expected_loss"] = True
            if out["stuck"]:
                out.fail(f"{out['stuck']} jobs stuck")
        else:
            out.standard_checks()
        if out["workers_alive"] != 2:
            out.fail("a supervisor exited while Redis restarted")
        if None in recovery:
            out.fail("workers did not complete jobs within 30 s of a restart")
    scenario.__name__ = f"redis_kill_{mode}"
    return scenario


# --- 3. A TCP proxy that stalls and drops -------------------------------------
def proxy_stall(out, scale, tmp, stack):
    """Two supervisors reach Redis through a TCP proxy (tests/tools/
    tcp_proxy.py) while a producer enqueues 300 jobs/s straight to Redis.
    Each round: 3 s of load, then one of these, in turn (the late claim
    last):
    - late claim: the proxy holds the next claim call a worker child sends
      (that connection only) for 10 s, longer than the child's 5 s command
      timeout, so the child gives up and goes on over a new connection;
      then 1,000 jobs are enqueued at once and Redis gets the held call
      after all, and the connection ends (the stale call of a stalled
      network);
    - stall, resume: every connection, current and new, stalls both ways
      for 10 s, then everything held goes through;
    - stall, drop, resume: the same, but the connections are dropped and
      what was held is lost;
    - stall, resume, drop: resumed, then dropped 0.2 s later.
    Stuck is measured with the workers running, 50 s after the last round
    (the default claim timeout is 30 s)."""
    try:
        from tcp_proxy import TcpProxy
    except ImportError as e:
        out.fail(f"tests/tools/tcp_proxy.py is missing ({e}); it comes from branch i11-stall")
        return
    rounds = scaled(scale, 8, 2)
    stall_s = 10.0
    server = RedisServer(tcp=True)
    stack.callback(server.close)
    proxy = TcpProxy(server.port)
    stack.callback(proxy.close)
    db = os.path.join(tmp, "history.db")
    fleet = Fleet(proxy.url(), 2, ["--workers", 2, "--retry-base", "100ms"], env={"TICKQ_DB": db}, logdir=tmp)
    stack.callback(fleet.close)
    fleet.wait_children(2)

    def make(rng, i):
        if rng.random() < 0.5:
            return (f"stall-{i}", "noop", {})
        return (f"stall-{i}", "sleep", {"ms": rng.randint(1, 5)})
    producer = Producer(server.client, make, rate=300, max_retries=10)
    producer.start()
    stack.callback(producer.stop)
    # The late claim goes last: a later stall would make its worker
    # reconnect, which returns what its name holds, the late claim's jobs too.
    variants = ["stall, resume", "stall, drop, resume", "stall, resume, drop"]
    done, burst = [], []
    for k in range(rounds):
        time.sleep(3)
        v = variants[k % len(variants)] if k < rounds - 1 else "late claim"
        entry = {"round": v, "connections": proxy.connections()}
        if v == "late claim":
            hold = proxy.hold_next(b"tickq_p1_claim")
            if not hold.wait(10):
                hold.release()
                entry["caught"] = False
            else:
                time.sleep(stall_s)
                # A backlog, so that the late claim finds jobs to take.
                created, _ = Enqueuer(server.client()).submit(
                    [(f"stall-burst-{k}-{i}", "noop", {}) for i in range(1000)])
                burst += created
                reply = hold.flush_and_close(10)
                entry["late_claimed"] = sorted({x.decode() for x in re.findall(rb"stall-[0-9a-z-]+", reply)})
        else:
            proxy.stall()
            time.sleep(stall_s)
            if v == "stall, resume":
                proxy.resume()
            elif v == "stall, drop, resume":
                proxy.drop()
                proxy.resume()
            else:
                proxy.resume()
                time.sleep(0.2)
                proxy.drop()
        done.append(entry)
        log(f"proxy_stall: round {k + 1}/{rounds}: {entry}")
    time.sleep(3)
    producer.stop()
    r = server.client()
    accepted = producer.snapshot() + burst
    states = wait_final(r, accepted, 30 + 20)
    out.jobs_from(states, accepted)
    out["stuck_jobs"] = stuck_details(r, states)
    out["rounds"] = done
    late = [j for e in done for j in e.get("late_claimed", [])]
    out["late_claimed_states"] = {j: states[j][0] if j in states else job_states(r, [j])[j][0] for j in late}
    out["outcomes_skipped"], out["outcomes_applied_late"] = fleet.outcomes_skipped()
    out["workers_alive"] = sum(1 for w in fleet.live if w.proc.poll() is None)
    fleet.stop()
    starts = fleet.starts()
    out["ran_twice"] = sum(1 for j in accepted if starts[j] > 1 or states[j][2] > 1)
    out["kills"] = 0
    out["params"] = {"stall_s": stall_s, "rate": 300, "supervisors": 2, "workers": 2}
    out.history_from(db, states)
    out.standard_checks()
    if out["workers_alive"] != 2:
        out.fail("a supervisor exited during the stalls")


# --- 4. maxmemory flood ----------------------------------------------------
def maxmemory_flood(out, scale, tmp, stack):
    """Redis with maxmemory 16 MB and noeviction. Two 4 s sleep jobs
    occupy both workers; echo jobs with 16 KB args (about 32 KB each in
    Redis: the record and the stream entry) are enqueued through the
    function, pipelined, until Redis refuses them, then `tickq enqueue` is
    tried a few more times: it must refuse with exit 75 (temporary
    failure; the line keeps its message). The sleeps end while memory is
    still full: their workers cannot record the outcomes and must hold them
    (and say so), nor claim the echo jobs. Then maxmemory is lifted, the
    held outcomes must be recorded, and every accepted job must complete."""
    probes = scaled(scale, 20, 5)
    server = RedisServer(args=["--maxmemory", "16mb", "--maxmemory-policy", "noeviction"])
    stack.callback(server.close)
    db = os.path.join(tmp, "history.db")
    fleet = Fleet(server.url, 1, ["--workers", 2, "--retry-base", "100ms"], env={"TICKQ_DB": db}, logdir=tmp)
    stack.callback(fleet.close)
    fleet.wait_children(2)
    r = server.client()
    accepted = []
    for k in range(2):
        p = tickq("enqueue", "sleep", '{"ms": 4000}', "--id", f"oom-sleep-{k}", url=server.url)
        if p.returncode != 0:
            raise AssertionError(f"enqueue of a sleep job: exit {p.returncode}: {p.stderr}")
        accepted.append(f"oom-sleep-{k}")
    t_sleeps = time.time()
    wait_for(lambda: all((r.get(f"task_result:{j}") or "").find('"running"') > 0 for j in accepted), 10,
             what="both sleep jobs running")
    pad = "x" * 16384
    enq = Enqueuer(r)
    flood_refused, n = [], 0
    while not flood_refused and n < 5000:
        batch = [(f"oom-{n + i}", "echo", {"pad": pad, "i": n + i}) for i in range(50)]
        n += len(batch)
        created, flood_refused = enq.submit(batch)
        accepted += created
    refused, codes, first_error, used_at_refusal = [j for j, _ in flood_refused], {}, None, None
    flood_error = flood_refused[0][1][:200] if flood_refused else None
    for k in range(probes):
        jid = f"oom-cli-{k}"
        p = tickq("enqueue", "echo", json.dumps({"pad": pad}), "--id", jid, url=server.url)
        if p.returncode == 0:
            accepted.append(jid)
            continue
        refused.append(jid)
        codes[str(p.returncode)] = codes.get(str(p.returncode), 0) + 1
        if first_error is None:
            first_error = p.stderr.strip()[:300]
            used_at_refusal = r.info("memory")["used_memory"]
    time.sleep(max(0.0, t_sleeps + 4.0 + 3.0 - time.time()))  # the sleeps end, and their workers meet the OOM
    held = sum(1 for s, _, _ in job_states(r, accepted).values() if s not in FINAL)
    sleeps_held = sum(1 for s, _, _ in job_states(r, accepted[:2]).values() if s not in FINAL)
    oom_logs = [x for x in fleet.log_lines() if "OOM" in json.dumps(x) and x.get("level") in ("warning", "error")]
    present = sum(1 for s, _, _ in job_states(r, refused).values() if s is not None)
    r.config_set("maxmemory", "0")
    states = wait_final(r, accepted, 30)
    after = tickq("enqueue", "echo", "{}", "--id", "oom-after", url=server.url)
    states.update(wait_final(r, ["oom-after"], 15))
    out.jobs_from(states, accepted)
    out["stuck_jobs"] = stuck_details(r, states)
    out["refused"] = len(refused)
    out["flood_refusal"] = flood_error
    out["cli_refused_exit_codes"] = codes
    out["cli_refusal_message"] = first_error
    out["used_memory_at_first_refusal"] = used_at_refusal
    out["refused_but_present"] = present
    out["unfinished_while_full"] = held
    out["finished_sleeps_held_while_full"] = sleeps_held
    out["worker_oom_log_lines"] = len(oom_logs)
    out["worker_oom_first"] = (oom_logs[0].get("msg", "") + ": " + str(oom_logs[0].get("error", ""))[:200]
                               if oom_logs else None)
    out["enqueue_after_freeing"] = after.returncode
    out["outcomes_held_warnings"] = len(fleet.messages("cannot record job outcomes; holding them"))
    out["outcomes_recorded_after"] = [x.get("held_ms") for x in fleet.messages("Redis accepts writes again")]
    out["workers_alive"] = sum(1 for w in fleet.live if w.proc.poll() is None)
    fleet.stop()
    starts = fleet.starts()
    out["ran_twice"] = sum(1 for j in accepted if starts[j] > 1 or states[j][2] > 1)
    out["params"] = {"maxmemory": "16mb", "policy": "noeviction", "args_bytes": len(pad), "cli_probes": probes}
    out.history_from(db, states)
    out.standard_checks()
    if not flood_refused or not codes:
        out.fail("Redis never refused an enqueue")
    if set(codes) != {"75"}:
        out.fail(f"tickq enqueue refused with exit status {codes}, not 75 (temporary failure)")
    if not out["outcomes_held_warnings"] or not out["outcomes_recorded_after"]:
        out.fail("the workers did not say they held outcomes while Redis was out of memory and recorded them after")
    if present:
        out.fail(f"{present} refused enqueues exist in Redis")
    if after.returncode != 0 or states["oom-after"][0] != "completed":
        out.fail(f"enqueue after freeing memory: exit {after.returncode}, state {states['oom-after'][0]}")
    if out["workers_alive"] != 1:
        out.fail("the supervisor exited during the flood")


# --- 5. The history database's disk fills up ---------------------------------
def disk_full(out, scale, tmp, stack):
    """The SQLite history database lives on an 8 MB tmpfs; once the worker
    has created it, a filler file takes all but 128 KB, and no-op jobs run
    (1,000/s) until they are all final in Redis: the jobs must complete
    whatever the disk does. Then the filler goes, and the history process
    must write every row it kept (docs/database.md: up to 64 MiB, retried)."""
    if os.geteuid() != 0:
        out["skipped"] = "needs root to mount a tmpfs"
        return
    total = scaled(scale, 8000, 2000)
    mnt = os.path.join(tmp, "disk")
    os.mkdir(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        out["skipped"] = f"cannot mount a tmpfs: {p.stderr.strip()}"
        return
    stack.callback(unmount, mnt)
    server = RedisServer()
    stack.callback(server.close)
    db = os.path.join(mnt, "history.db")
    fleet = Fleet(server.url, 1, ["--workers", 2], env={"TICKQ_DB": db}, logdir=tmp)
    stack.callback(fleet.close)
    fleet.wait_children(2)
    wait_for(lambda: os.path.exists(db), 10, what="the history database")
    filler = os.path.join(mnt, "filler")
    fill(filler, keep_free=128 * 1024)
    st = os.statvfs(mnt)
    out["free_bytes_at_start"] = st.f_bavail * st.f_frsize
    r = server.client()
    producer = Producer(server.client, lambda rng, i: (f"disk-{i}", "noop", {}), rate=1000, total=total)
    producer.start()
    stack.callback(producer.stop)
    producer.join(total / 1000 + 30)
    accepted = producer.snapshot()
    states = wait_final(r, accepted, 30)
    completed_while_full = sum(1 for s, _, _ in states.values() if s == "completed")
    time.sleep(1.0)  # a few more flushes of the history process
    rows_full = history_count(db)
    warnings = fleet.messages("cannot write job history")
    out["completed_while_full"] = completed_while_full
    out["rows_while_full"] = rows_full
    out["history_warnings"] = len(warnings)
    out["history_warning"] = ({"msg": warnings[-1]["msg"], "records": warnings[-1].get("records"),
                               "error": warnings[-1].get("error")} if warnings else None)
    os.unlink(filler)
    t_free = time.time()
    try:
        wait_for(lambda: history_count(db) >= completed_while_full, 30, interval=0.2,
                 what="the history to catch up")
        out["history_caught_up_after_s"] = round(time.time() - t_free, 2)
    except AssertionError:
        out["history_caught_up_after_s"] = None
    out.jobs_from(states, accepted)
    out["stuck_jobs"] = stuck_details(r, states)
    statuses = fleet.stop()
    out["supervisor_exit"] = statuses
    starts = fleet.starts()
    out["ran_twice"] = sum(1 for j in accepted if starts[j] > 1 or states[j][2] > 1)
    out["params"] = {"tmpfs": "8m", "free_at_start_kb": 128}
    out.history_from(db, states)
    out.standard_checks()
    if rows_full >= completed_while_full:
        out.fail("the disk never filled: every row was written while it was meant to be full")
    if out["history_caught_up_after_s"] is None:
        out.fail("history did not catch up within 30 s of freeing the disk")


def fill(path, keep_free):
    """Writes path until the file system is full, then gives back keep_free
    bytes."""
    chunk = b"\0" * 65536
    # Unbuffered: a write the disk refused leaves nothing pending that the
    # truncate or the close would try to write again (and fail on).
    with open(path, "wb", buffering=0) as f:
        try:
            while f.write(chunk):
                pass
        except OSError:
            pass
        size = f.tell()
        f.truncate(max(0, size - keep_free))
        os.fsync(f.fileno())


def unmount(mnt):
    for _ in range(20):
        if subprocess.run(["umount", mnt], capture_output=True).returncode == 0:
            return
        time.sleep(0.25)
    subprocess.run(["umount", "-l", mnt], capture_output=True)


FUNCTIONS = {"kill_storm": kill_storm, "redis_kill_everysec": redis_kill("everysec"),
             "redis_kill_always": redis_kill("always"), "redis_kill_rdb": redis_kill("rdb"),
             "redis_kill_none": redis_kill("none"), "proxy_stall": proxy_stall,
             "maxmemory_flood": maxmemory_flood, "disk_full": disk_full}


def run(name, scale):
    out = Outcome(name)
    tmp = tempfile.mkdtemp(prefix=f"tickq-chaos-{name}-")
    log(f"{name}: starting (scale {scale}, folder {tmp})")
    try:
        with contextlib.ExitStack() as stack:
            FUNCTIONS[name](out, scale, tmp, stack)
    except Exception as e:  # a scenario that breaks is a failed scenario, with its traceback
        traceback.print_exc()
        out.fail(f"{type(e).__name__}: {e}")
    line = out.line()
    print(line, flush=True)
    if out.failures or os.environ.get("CHAOS_KEEP"):
        log(f"{name}: kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return not out.failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=float(os.environ.get("CHAOS_SCALE", "1")))
    ap.add_argument("--tickq", help="the binary (default: $TICKQ_BIN, else build/tickq)")
    ap.add_argument("--aof-tmpfs", action="store_true",
                    help="Redis's files on /dev/shm in the redis_kill scenarios (fsync takes no time)")
    ap.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                    help="any of: " + ", ".join(SCENARIOS + MEASURES) + " (default: all but the last two)")
    a = ap.parse_args()
    if a.scale <= 0:
        ap.error(f"--scale must be above 0, got {a.scale}")
    for name in a.scenarios:
        if name not in SCENARIOS + MEASURES:
            ap.error(f"unknown scenario {name!r}: choose from {', '.join(SCENARIOS + MEASURES)}")
    if a.tickq:
        chaoslib.use_binary(a.tickq)
    OPTIONS["aof_tmpfs"] = a.aof_tmpfs
    ok = True
    for name in a.scenarios or SCENARIOS:
        ok = run(name, a.scale) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
