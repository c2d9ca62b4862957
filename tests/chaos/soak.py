#!/usr/bin/env python3
"""soak.py — tickq under a steady mixed load for a long time: does anything
grow? One `tickq worker --workers 2` (result TTL 5 s) runs no-op jobs, short
sleeps, small backtests on synthetic bars (`tickq data synth`), jobs that
fail once or twice and then complete on a retry, jobs that fail permanently
and jobs that go to the dead letters (capped at 50), at a steady rate
against a private redis-server.

    tests/chaos/soak.py [--seconds S] [--rate R] [--tickq PATH]

--seconds (or SOAK_SECONDS; default 600) is the time under load, warm-up
included; the warm-up is a tenth of it (20 s to 120 s). After the warm-up
and again at the end the load stops, every job finishes, the result TTL
passes (every key is touched so expired ones go), and the runner measures
the resident memory (VmRSS) of the supervisor, each worker child and the
job history process, Redis's used_memory and its number of keys. It fails
unless each grew by less than 5 % from the first measurement to the last,
the keys are back to the first count, every job submitted finished, and the
children were never replaced. One JSON line on stdout at the end (progress
on stderr)."""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import chaoslib
from chaoslib import Fleet, Producer, RedisServer, log, rss_kb, tickq, wait_for

RESULT_TTL = 5
GROWTH_LIMIT_PCT = 5.0
STRATEGIES = {name: open(os.path.join(chaoslib.ROOT, "examples", "strategies", name + ".lua")).read()
              for name in ("gap_up", "momentum")}
# A few fixed universes and windows, so the workers' bar cache and warm
# state fill during the warm-up (as a user's recurring backtests would).
BACKTESTS = [
    {"symbols": ["SYN0001", "SYN0002"], "start_date": "2020-03-02", "end_date": "2020-12-31", "strategy": "gap_up"},
    {"symbols": ["SYN0003", "SYN0004", "SYN0005"], "start_date": "2020-06-01", "end_date": "2021-02-24",
     "strategy": "gap_up"},
    {"symbols": ["SYN0006", "SYN0007", "SYN0008", "SYN0009", "SYN0010"], "start_date": "2020-01-02",
     "end_date": "2020-12-31", "strategy": "momentum"},
    {"symbols": ["SYN0011"], "start_date": "2020-09-01", "end_date": "2021-02-24", "strategy": "gap_up"},
]


def make_job(rng, i):
    """The mix: 60 % no-op, 15 % sleep 5-20 ms, 10 % backtest, 12 % fail
    once or twice then complete, 2 % fail permanently, 1 % dead."""
    jid = f"soak-{i}"
    x = rng.random()
    if x < 0.60:
        return (jid, "noop", {})
    if x < 0.75:
        return (jid, "sleep", {"ms": rng.randint(5, 20)})
    if x < 0.85:
        b = rng.choice(BACKTESTS)
        args = {k: v for k, v in b.items() if k != "strategy"}
        args["strategy_code"] = STRATEGIES[b["strategy"]]
        return (jid, "backtest", args)
    if x < 0.97:
        return (jid, "fail", {"times": rng.randint(1, 2)}, 3)
    if x < 0.99:
        return (jid, "fail", {"permanent": True})
    return (jid, "fail", {}, 1)


def counters(r):
    return {k: int(v) for k, v in r.hgetall("tickq:stats:backtest").items()}


def settled(r):
    """True once every job submitted has finished (nothing ready, running or
    waiting for a retry)."""
    c = counters(r)
    return c.get("submitted", 0) == c.get("completed", 0) + c.get("failed", 0) + c.get("dead", 0)


def backlog(r):
    c = counters(r)
    return c.get("submitted", 0) - c.get("completed", 0) - c.get("failed", 0) - c.get("dead", 0)


def measure(r, w):
    """Quiescent figures: processes' RSS, Redis memory and keys, once every
    result has expired (touching every key makes Redis drop expired ones)."""
    wait_for(lambda: settled(r), 120, interval=0.2, what="every job to finish")
    time.sleep(RESULT_TTL + 1.5)
    for key in r.scan_iter(count=1000):
        r.type(key)
    children = sorted(w.children())
    history = w.history_process()
    return {"supervisor_rss_kb": rss_kb(w.pid),
            "children_rss_kb": [rss_kb(p) for p in children],
            "history_rss_kb": rss_kb(history[0]) if history else None,
            "redis_used_memory": r.info("memory")["used_memory"],
            "keys": r.dbsize(),
            "children": children}


def growth(a, b):
    return None if not a or b is None else round(100.0 * (b - a) / a, 2)


def run_load(server, w, seconds, rate, first_id, seed, samples):
    """Enqueues the mix at `rate` jobs/s for `seconds`, sampling the figures
    every 30 s (kept in samples, logged)."""
    r = server.client()
    p = Producer(server.client, lambda rng, i: make_job(rng, first_id + i), rate, seed=seed, max_retries=3)
    p.start()
    t_end = time.time() + seconds
    while time.time() < t_end:
        time.sleep(min(30.0, max(0.0, t_end - time.time())))
        samples.append({"backlog": backlog(r), "supervisor_rss_kb": rss_kb(w.pid),
                        "children_rss_kb": [rss_kb(c) for c in sorted(w.children())],
                        "history_rss_kb": [rss_kb(h) for h in w.history_process()],
                        "redis_used_memory": r.info("memory")["used_memory"], "keys": r.dbsize()})
        log(f"soak: {samples[-1]}")
    p.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    ap.add_argument("--rate", type=float, default=150.0, help="jobs per second (default 150)")
    ap.add_argument("--tickq", help="the binary (default: $TICKQ_BIN, else build/tickq)")
    a = ap.parse_args()
    if a.seconds < 30:
        ap.error(f"--seconds must be at least 30, got {a.seconds}")
    if a.tickq:
        chaoslib.use_binary(a.tickq)
    warmup = min(120.0, max(20.0, a.seconds / 10))
    tmp = tempfile.mkdtemp(prefix="tickq-soak-")
    out = {"scenario": "soak", "seconds": a.seconds, "warmup_s": warmup, "rate": a.rate,
           "result_ttl_s": RESULT_TTL}
    failures = []
    server = RedisServer()
    fleet = None
    t0 = time.time()
    try:
        db = os.path.join(tmp, "soak.db")
        env = {"TICKQ_DB": db}
        p = tickq("data", "synth", "--symbols", "12", "--days", "300", env=env)
        if p.returncode != 0:
            raise RuntimeError(f"tickq data synth: {p.stderr}")
        fleet = Fleet(server.url, 1, ["--workers", 2, "--result-ttl", RESULT_TTL, "--retry-base", "200ms",
                                      "--retry-max", "1s", "--dlq-cap", 50, "--log-level", "warning"],
                      env=env, logdir=tmp)
        fleet.wait_children(2)
        w = fleet.live[0]
        r = server.client()
        samples = []
        log(f"soak: warm-up {warmup:.0f} s at {a.rate:.0f} jobs/s (folder {tmp})")
        run_load(server, w, warmup, a.rate, 0, 7, samples)
        start = measure(r, w)
        log(f"soak: after the warm-up: {start}")
        run_load(server, w, a.seconds - warmup, a.rate, 10_000_000, 8, samples)
        end = measure(r, w)
        log(f"soak: at the end: {end}")
        c = counters(r)
        out.update({"jobs": c.get("submitted", 0), "completed": c.get("completed", 0),
                    "failed": c.get("failed", 0), "dead": c.get("dead", 0), "retried": c.get("retried", 0),
                    "max_backlog": max(s["backlog"] for s in samples)})
        out["start"] = {k: v for k, v in start.items() if k != "children"}
        out["end"] = {k: v for k, v in end.items() if k != "children"}
        out["growth_pct"] = {
            "supervisor": growth(start["supervisor_rss_kb"], end["supervisor_rss_kb"]),
            "children": [growth(x, y) for x, y in zip(start["children_rss_kb"], end["children_rss_kb"])],
            "history": growth(start["history_rss_kb"], end["history_rss_kb"]),
            "redis_used_memory": growth(start["redis_used_memory"], end["redis_used_memory"])}
        out["peak"] = {"supervisor_rss_kb": max(s["supervisor_rss_kb"] or 0 for s in samples),
                       "children_rss_kb": max(max(s["children_rss_kb"] or [0]) for s in samples),
                       "redis_used_memory": max(s["redis_used_memory"] for s in samples),
                       "keys": max(s["keys"] for s in samples)}
        g = out["growth_pct"]
        for name, value in [("supervisor", g["supervisor"]), ("history process", g["history"]),
                            ("Redis used_memory", g["redis_used_memory"])] + \
                [(f"child {i}", x) for i, x in enumerate(g["children"])]:
            if value is None or value >= GROWTH_LIMIT_PCT:
                failures.append(f"{name} grew by {value} % (limit {GROWTH_LIMIT_PCT} %)")
        if end["children"] != start["children"]:
            failures.append(f"worker children were replaced: {start['children']} -> {end['children']}")
        if end["keys"] != start["keys"]:
            failures.append(f"{end['keys']} keys at the end, {start['keys']} after the warm-up")
        if c.get("submitted", 0) != c.get("completed", 0) + c.get("failed", 0) + c.get("dead", 0):
            failures.append(f"jobs not finished: {c}")
        fleet.stop()
    except Exception as e:  # a soak that breaks is a failed soak
        failures.append(f"{type(e).__name__}: {e}")
        import traceback
        traceback.print_exc()
    finally:
        if fleet is not None:
            fleet.close()
        server.close()
    out["total_seconds"] = round(time.time() - t0, 1)
    out["ok"] = not failures
    if failures:
        out["failures"] = failures
        log(f"soak: kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out), flush=True)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
