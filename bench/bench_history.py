#!/usr/bin/env python3
"""bench_history.py — the Redis CPU time job history adds per job.

Against a private Redis (run it through scripts/with-redis): rounds of
enqueue, claim and finish of a batch of no-op jobs, the finish alternately
with and without a history stream; around each finish, and around the
history process's share (one XREADGROUP and one tickq_p1_history_ack for the
entries of ten finish calls),
the CPU time of Redis's main thread (INFO cpu: CPU, not wall time, so a busy
host inflates it less). Prints one JSON line per batch size: the finish's
CPU per job with and without history, and what reading and acknowledging
the rows adds per job.

    scripts/with-redis /usr/bin/python3 bench/bench_history.py [--rounds N] [--batches 100,10,1]
"""
import argparse
import json
import os
import statistics
import time

import redis

from redis_lib import load_library

STREAM = "tickq:queue:backtest_normal"
HISTORY = "tickq:history:bench"


def header():
    now_ms = int(time.time() * 1000)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + ".%03dZ" % (now_ms % 1000)
    return ["tickq", str(now_ms), iso, "workers", "86400", "100000", "2000", "3600000", "12345"]


def cpu_us(r):
    i = r.info("cpu")
    return (i["used_cpu_user_main_thread"] + i["used_cpu_sys_main_thread"]) * 1e6


def claimed(r, batch, tag):
    p = r.pipeline(transaction=False)
    for i in range(batch):
        p.execute_command("FCALL", "tickq_p1_enqueue", 0, *header(), f"{tag}-{i}", "noop", "{}", "backtest",
                          "normal", "3", "3600000", "0", "1048576", str(time.time_ns() // 1000))
    p.execute()
    jobs = r.execute_command("FCALL", "tickq_p1_claim", 1, STREAM, *header(), "bench:0", str(batch))[1:]
    args = []
    for k in range(0, len(jobs), 8):
        us = str(time.time_ns() // 1000)
        args += [jobs[k], jobs[k + 1], "ok", '{"status":"completed","data":{}}', str(jobs[k + 4]), us, us]
    return args


READ_EVERY = 10


def info_cost(r):
    """The CPU an INFO cpu call itself takes, between two of them."""
    samples = []
    for _ in range(200):
        t0 = cpu_us(r)
        samples.append(cpu_us(r) - t0)
    return statistics.mean(samples)


def run(r, batch, rounds):
    info = info_cost(r)
    finish = {True: [], False: []}
    reading = []
    n = 0
    for rnd in range(rounds):
        for with_history in (rnd % 2 == 0, rnd % 2 == 1):
            n += 1
            args = claimed(r, batch, f"b{batch}-{n}")
            keys = [STREAM, HISTORY] if with_history else [STREAM]
            t0 = cpu_us(r)
            out = r.execute_command("FCALL", "tickq_p1_finish", len(keys), *keys, *header(), "bench:0", *args)
            finish[with_history].append((cpu_us(r) - t0) / batch)
            assert out[0] == batch, out[:4]
        if rnd % (2 * READ_EVERY) == 2 * READ_EVERY - 1:
            # The history process reads what came in since its last read
            # (every 250 ms): here the entries of READ_EVERY finish calls.
            t0 = cpu_us(r)
            got = r.execute_command("XREADGROUP", "GROUP", "history", "bench:history", "COUNT", "100",
                                    "STREAMS", HISTORY, ">")
            acks = []
            for entry, fields in got[0][1]:   # raw: a flat list of fields and values
                acks += [entry, str(len(fields) // 2)]
            r.execute_command("FCALL", "tickq_p1_history_ack", 1, HISTORY, *header(), "history", *acks)
            reading.append((cpu_us(r) - t0 - info) / (batch * READ_EVERY))
    # Two INFO calls are in every figure: the difference of the finish
    # figures cancels them; the reading figure has their cost subtracted.
    on, off, rd = statistics.mean(finish[True]), statistics.mean(finish[False]), statistics.mean(reading)
    return {"batch": batch, "rounds": rounds, "finish_us_per_job": round(off, 2),
            "finish_with_history_us_per_job": round(on, 2), "finish_added_us_per_job": round(on - off, 2),
            "read_and_ack_us_per_job": round(rd, 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--batches", default="100,10,1")
    a = ap.parse_args()
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("unix://"):
        raise SystemExit("bench_history: REDIS_URL must be a unix socket URL (run through scripts/with-redis)")
    r = redis.Redis(unix_socket_path=url[len("unix://"):], decode_responses=True)
    load_library(r)
    r.hset(HISTORY + ":state", mapping={"cap": 10000000})
    r.xgroup_create(HISTORY, "history", "0", mkstream=True)
    for batch in (int(x) for x in a.batches.split(",")):
        print(json.dumps(dict(bench="history", **run(r, batch, a.rounds))), flush=True)


if __name__ == "__main__":
    main()
