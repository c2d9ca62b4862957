#!/usr/bin/env python3
"""bench_redis_time.py — where Redis spends its time per job, by function.

Against a private Redis (run it through scripts/with-redis), four phases:
100,000 no-op jobs enqueued one call each (pipelined, so the client is not
the limit), processed by `tickq worker --burst --workers 2` (with job
history), enqueued again in batches (`tickq enqueue --file`: 400 a call),
processed without history. Around each phase INFO cpu (Redis's main thread:
all its work) and INFO commandstats (every command; an FCALL's time includes
the commands it ran). Then the same phases with 20,000 jobs and the slow log
at threshold 0, which records each command's execution time with its
arguments: FCALL time by function, and the commands inside (the slow log
costs time of its own, hence a run apart). Prints one JSON line: per phase,
microseconds of Redis time per job.

    scripts/with-redis /usr/bin/python3 bench/bench_redis_time.py --tickq build/tickq [--jobs N]
"""
import argparse
import json
import os
import subprocess
import time

import redis

from redis_lib import load_library

PHASE_TIMEOUT = 600


def cpu_us(r):
    i = r.info("cpu")
    return (i["used_cpu_user_main_thread"] + i["used_cpu_sys_main_thread"]) * 1e6


def start(r):
    r.config_resetstat()
    r.slowlog_reset()
    return cpu_us(r)


def totals(r, cpu0, jobs):
    """Redis time of a phase per job: all of it (INFO cpu) and that of the
    commands (commandstats: an FCALL's time includes the commands it ran)."""
    cpu = cpu_us(r) - cpu0
    stats = r.info("commandstats")
    return {"cpu_us_per_job": round(cpu / jobs, 2),
            "all_commands_us_per_job": round(sum(v["usec"] for v in stats.values()) / jobs, 2),
            "calls_per_job": round(sum(v["calls"] for v in stats.values()) / jobs, 3)}


def split(r, jobs):
    """The slow log (threshold 0) of a phase: time per job of each function
    called (FCALL), and of each command run inside them or on its own."""
    functions, commands = {}, {}
    for e in r.slowlog_get(100_000_000):
        words = e["command"].split()
        name = words[0].decode().lower() if words else "?"
        if name == "fcall" and len(words) > 1:
            key = words[1].decode()
            functions[key] = functions.get(key, 0) + e["duration"]
        else:
            commands[name] = commands.get(name, 0) + e["duration"]
    per_job = lambda d: {k: round(v / jobs, 3) for k, v in sorted(d.items(), key=lambda kv: -kv[1]) if v / jobs >= 0.005}
    return {"functions_us_per_job": per_job(functions), "inner_and_other_commands_us_per_job": per_job(commands)}


def enqueue_single(r, jobs):
    # tickq_p1_enqueue as `tickq enqueue` sends it (queue.c, enqueue_args)
    now_ms = int(time.time() * 1000)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + ".%03dZ" % (now_ms % 1000)
    header = ["tickq", str(now_ms), iso, "workers", "86400", "100000", "2000", "3600000", "12345"]
    p = r.pipeline(transaction=False)
    for i in range(jobs):
        p.execute_command("FCALL", "tickq_p1_enqueue", "0", *header, f"s-{i}", "noop", "{}", "bench", "normal",
                          "3", "0", "0", "1048576", str(time.time_ns() // 1000), "0", "0")
        if len(p) == 1000:
            p.execute()
    p.execute()


def tickq(binary, url, *args, stdin=None):
    p = subprocess.run([binary, "--redis-url", url, *args], input=stdin, capture_output=True, text=True,
                       timeout=PHASE_TIMEOUT)
    if p.returncode != 0:
        raise SystemExit(f"bench_redis_time: tickq {' '.join(args[:3])} failed ({p.returncode}): {p.stderr[-400:]}")


def phases(a, url, r, jobs, slowlog):
    """Enqueue one a call, process (with history), enqueue in batches,
    process (without history): per phase the totals, or with slowlog the
    split by function (the slow log costs Redis time of its own)."""
    r.flushall()
    load_library(r)
    r.config_set("slowlog-log-slower-than", 0 if slowlog else 10000)
    r.config_set("slowlog-max-len", 16 * jobs if slowlog else 128)
    measure = (lambda cpu0: split(r, jobs)) if slowlog else (lambda cpu0: totals(r, cpu0, jobs))
    process = ["worker", "--burst", "--workers", "2", "--queues", "bench"]
    lines = "".join('{"type":"noop","queue":"bench"}\n' for _ in range(jobs))
    out = {}
    cpu0 = start(r)
    enqueue_single(r, jobs)
    out["enqueue_one_per_call"] = measure(cpu0)
    cpu0 = start(r)
    tickq(a.tickq, url, *process)
    out["process_with_history"] = measure(cpu0)
    cpu0 = start(r)
    tickq(a.tickq, url, "enqueue", "--file", "-", stdin=lines)
    out["enqueue_batch"] = measure(cpu0)
    cpu0 = start(r)
    tickq(a.tickq, url, *process, "--no-history")
    out["process_without_history"] = measure(cpu0)
    r.config_set("slowlog-log-slower-than", 10000)
    r.config_set("slowlog-max-len", 128)
    r.flushall()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickq", required=True)
    ap.add_argument("--jobs", type=int, default=100_000)
    ap.add_argument("--split-jobs", type=int, default=20_000, help="jobs of the slow-log run that splits the time")
    a = ap.parse_args()
    url = os.environ["REDIS_URL"]
    r = redis.Redis.from_url(url)
    out = {"bench": "redis_time", "jobs": a.jobs, "split_jobs": a.split_jobs,
           "redis": r.info("server")["redis_version"]}
    totals_run = phases(a, url, r, a.jobs, False)
    split_run = phases(a, url, r, a.split_jobs, True)
    for phase, t in totals_run.items():
        out[phase] = dict(t, **split_run[phase])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
