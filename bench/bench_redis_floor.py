#!/usr/bin/env python3
"""bench_redis_floor.py — protocol 1 against the floor: Redis CPU per job of
tickq's enqueue, claim and finish functions, and of the least a Redis queue
must write per job (bench/redis_floor.lua), driven the same way from this
process against the same Redis; then the floor plus one of protocol 1's
per-job writes at a time, to price each:

  floor                 a six-field record, the result written into it
  floor_running_result  + a running result (its own key, SET EX) per claimed
                        job, as tickq_p1_claim writes task_result:<id>
  floor_result_key      the result in a key of its own (SET EX) instead of
                        the record, as tickq_p1_finish writes task_result:<id>
  floor_full_record     the fifteen fields protocol 1's enqueue writes (its
                        finish writes four more, not priced here)

Two phases per case: N no-op jobs enqueued one call each (pipelined, so the
client is not the limit), then claimed and finished in batches of 100 by
one consumer (no history, no worker: only the functions' own cost; `make
bench-redis-time` measures it with real workers). Redis time is INFO cpu
(its main thread: all its work) around each phase, per job. The cases
alternate for --rounds rounds; medians are reported, with every round.

What the floor leaves out besides those writes is what protocol 1 also
does: the job is checked (its args parsed as JSON, its fields against their
ranges), priorities, delays, retries, dependencies, limits, expiries, the
history stream. Prints one JSON line.

    scripts/with-redis /usr/bin/python3 bench/bench_redis_floor.py [--jobs N] [--rounds R]
"""
import argparse
import json
import os
import statistics
import time

import redis

from redis_lib import load_library

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT = '{"status":"completed","data":{}}'
BATCH = 100


def cpu_us(r):
    i = r.info("cpu")
    return (i["used_cpu_user_main_thread"] + i["used_cpu_sys_main_thread"]) * 1e6


def header():
    # tickq's nine leading arguments (src/core/queue.c, the call header)
    now_ms = int(time.time() * 1000)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + ".%03dZ" % (now_ms % 1000)
    return ["tickq", str(now_ms), iso, "workers", "86400", "100000", "2000", "3600000", "12345"]


def pipelined(r, calls):
    p = r.pipeline(transaction=False)
    for call in calls:
        p.execute_command(*call)
        if len(p) == 1000:
            p.execute()
    p.execute()


def tickq_side(r, jobs):
    """Per job: Redis CPU of tickq_p1_enqueue, and of claim + finish."""
    load_library(r)
    h = header()
    cpu0 = cpu_us(r)
    pipelined(r, (["FCALL", "tickq_p1_enqueue", "0", *h, f"j-{i}", "noop", "{}", "bench", "normal", "3", "0", "0",
                   "1048576", str(time.time_ns() // 1000), "0", "0"] for i in range(jobs)))
    enqueue = (cpu_us(r) - cpu0) / jobs
    stream, done = "tickq:queue:bench_normal", 0
    cpu0 = cpu_us(r)
    while done < jobs:
        out = r.execute_command("FCALL", "tickq_p1_claim", "1", stream, *header(), "bench.1", str(BATCH))
        if out[0] == 0:
            break
        now, args = str(time.time_ns() // 1000), []
        for k in range(1, len(out), 8):  # entry, id, type, args, attempt, max_retries, timeout_ms, enqueued_us
            args += [out[k], out[k + 1], "ok", RESULT, out[k + 4], now, now]
        states = r.execute_command("FCALL", "tickq_p1_finish", "1", stream, *header(), "bench.1", *args)
        if states[0] != len(args) // 7:
            raise SystemExit(f"bench_redis_floor: tickq_p1_finish recorded {states[0]} of {len(args) // 7}")
        done += len(args) // 7
    process = (cpu_us(r) - cpu0) / max(done, 1)
    if done != jobs:
        raise SystemExit(f"bench_redis_floor: tickq side processed {done} of {jobs}")
    return enqueue, process


def floor_side(r, jobs, record="short", running="0", result_key="0"):
    """The same phases against redis_floor.lua, with the writes asked for."""
    with open(os.path.join(HERE, "redis_floor.lua")) as f:
        r.function_load(f.read(), replace=True)
    r.xgroup_create("floor:queue:bench", "floor", id="0", mkstream=True)
    cpu0 = cpu_us(r)
    pipelined(r, (["FCALL", "floor_enqueue", "0", f"j-{i}", "noop", "{}", "bench", str(time.time_ns() // 1000),
                   record] for i in range(jobs)))
    enqueue = (cpu_us(r) - cpu0) / jobs
    done = 0
    cpu0 = cpu_us(r)
    while done < jobs:
        entries = r.execute_command("FCALL", "floor_claim", "1", "floor:queue:bench", "bench.1", str(BATCH), running)
        if not entries:
            break
        packed = b"".join(e[0] + b"\0" + e[1][1] + b"\0" + RESULT.encode() + b"\0" for e in entries)
        n = r.execute_command("FCALL", "floor_finish", "1", "floor:queue:bench", "bench.1",
                              str(time.time_ns() // 1000), packed, result_key)
        if n != len(entries):
            raise SystemExit(f"bench_redis_floor: floor_finish recorded {n} of {len(entries)}")
        done += n
    process = (cpu_us(r) - cpu0) / max(done, 1)
    if done != jobs:
        raise SystemExit(f"bench_redis_floor: floor side processed {done} of {jobs}")
    return enqueue, process


CASES = {
    "tickq_p1": tickq_side,
    "floor": floor_side,
    "floor_running_result": lambda r, jobs: floor_side(r, jobs, running="1"),
    "floor_result_key": lambda r, jobs: floor_side(r, jobs, result_key="1"),
    "floor_full_record": lambda r, jobs: floor_side(r, jobs, record="full"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("unix://"):  # it flushes the Redis it is given
        raise SystemExit("bench_redis_floor: REDIS_URL must be a unix socket URL (run through scripts/with-redis)")
    r = redis.Redis.from_url(url)
    rounds = {name: [] for name in CASES}
    for _ in range(a.rounds):
        for name, side in CASES.items():
            r.flushall()
            rounds[name].append(side(r, a.jobs))
    r.flushall()
    out = {"bench": "redis_floor", "jobs": a.jobs, "rounds": a.rounds, "batch": BATCH,
           "redis": r.info("server")["redis_version"]}
    for name, runs in rounds.items():
        out[name] = {"enqueue_us_per_job": round(statistics.median(e for e, _ in runs), 2),
                     "claim_finish_us_per_job": round(statistics.median(p for _, p in runs), 2),
                     "rounds": [[round(e, 2), round(p, 2)] for e, p in runs]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
