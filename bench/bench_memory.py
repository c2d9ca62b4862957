#!/usr/bin/env python3
"""bench_memory.py — what a job costs in Redis memory (docs/scaling.md).

Against a private Redis (run it through scripts/with-redis): INFO memory's
used_memory before and after enqueueing N jobs (`tickq enqueue --file`),
then after a `tickq worker --burst --no-history` has run them all (their
records and results stay for the result TTL). Three kinds of job: a no-op
with empty args, an echo with 1 KiB of args (a small strategy's source),
and a no-op whose job waits delayed. Prints one JSON line: bytes per
waiting job and per finished job (record and result) of each kind.

    scripts/with-redis /usr/bin/python3 bench/bench_memory.py --tickq build/tickq [--jobs N]
"""
import argparse
import json
import os
import subprocess

import redis

from redis_lib import load_library


def used(r):
    r.execute_command("MEMORY", "PURGE")
    return r.info("memory")["used_memory"]


def run(tickq, url, *args, stdin=None):
    p = subprocess.run([tickq, "--redis-url", url, *args], input=stdin, capture_output=True, text=True,
                       timeout=600)
    if p.returncode not in (0, 4):
        raise SystemExit(f"bench_memory: tickq {' '.join(args)} failed ({p.returncode}): {p.stderr[-500:]}")
    return p


def measure(tickq, url, r, n, job):
    r.flushall()
    load_library(r)
    before = used(r)
    lines = "".join(json.dumps(dict(job, id=f"m-{i}")) + "\n" for i in range(n))
    run(tickq, url, "enqueue", "--file", "-", stdin=lines)
    waiting = used(r)
    out = {"waiting_bytes_per_job": round((waiting - before) / n, 1)}
    if "delay" not in job:
        run(tickq, url, "worker", "--burst", "--no-history", "--workers", "2", "--queues", job["queue"])
        done = used(r)
        assert r.hget("tickq:job:m-0", "state") == "completed"
        out["finished_bytes_per_job"] = round((done - before) / n, 1)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickq", required=True)
    ap.add_argument("--jobs", type=int, default=20000)
    a = ap.parse_args()
    url = os.environ["REDIS_URL"]
    r = redis.Redis.from_url(url, decode_responses=True)
    kinds = {
        "noop": {"type": "noop", "queue": "mem"},
        "echo_1k_args": {"type": "echo", "queue": "mem", "args": {"code": "x" * 1024}},
        "noop_delayed": {"type": "noop", "queue": "mem", "delay": 3600},
    }
    res = {"bench": "memory", "jobs": a.jobs, "redis": r.info("server")["redis_version"]}
    for name, job in kinds.items():
        res[name] = measure(a.tickq, url, r, a.jobs, job)
    r.flushall()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
