#!/usr/bin/env python3
"""bench_redis_instructions.py — Redis's instructions per job, counted, not timed.

The development VM's speed swings by half from one hour to the next, so
timings cannot tell a 5 % change in the functions from noise. This runs a
private redis-server under valgrind's callgrind, which counts the
instructions Redis executes (the same count on every run), and drives
tickq's function library directly, the way the worker and the client call
it: a no-op FCALL with enqueue's arguments (what any function call costs
before its first line), enqueue one call each, enqueue_batch 400 a call,
and claim (100 a call) + finish (100 outcomes a call), without job history
and with it (rows appended to a history stream, as a worker with a
database does; nothing reads them here). Only the
phase itself is counted (callgrind_control switches counting on and off).

With --base REV the same phases run against the library as it was at git
revision REV too, and the JSON line gives both and the change.

With --tickq PATH (and REDIS_URL, a plain redis-server: scripts/with-redis),
the worker's side too: N no-op jobs enqueued, then `tickq worker --burst
--workers 1 --no-history` run under callgrind, and the instructions of its
worker child (the process that claims, runs and finishes the jobs) per job.
--tickq-base PATH counts another build's worker the same way.

    /usr/bin/python3 bench/bench_redis_instructions.py [--jobs N] [--base REV]
    scripts/with-redis /usr/bin/python3 bench/bench_redis_instructions.py --tickq build/tickq [--tickq-base OLD]

Needs valgrind (make bench-redis-instructions installs it). Prints one JSON
line: instructions per job by phase (Ir, callgrind's name for them)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import redis

from redis_lib import library_text
NOW_MS = 1765000000000
HEADER = ["tickq", str(NOW_MS), "2025-12-06T05:46:40.000Z", "workers", "86400", "100000", "2000", "3600000", "7"]
STREAM = "tickq:queue:bench_normal"
CONSUMER = "bench:1.abcd#1"
HISTORY = "tickq:history:bench"  # the job history stream a worker with a database passes
RESULT = '{"status":"completed","data":null,"updated_at":"2025-12-06T05:46:40.000Z"}'


def dump_total(path):
    """The instructions a callgrind dump file counted (its "totals:" line)."""
    with open(path) as f:
        for line in f:
            m = re.match(r"^totals: (\d+)", line)
            if m:
                return int(m.group(1))
    raise SystemExit(f"bench_redis_instructions: no totals in {path}")


class CountedRedis:
    """A redis-server on a unix socket under callgrind, counting nothing
    until told to."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tickq-callgrind.")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.out = os.path.join(self.dir, "callgrind.out")
        self.log = open(os.path.join(self.dir, "valgrind.log"), "w")
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={self.out}",
             "redis-server", "--port", "0", "--unixsocket", self.sock, "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=self.log, stderr=subprocess.STDOUT)
        self.r = redis.Redis(unix_socket_path=self.sock, decode_responses=True)
        deadline = time.time() + 60
        while True:
            try:
                self.r.ping()
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.proc.kill()
                    self.proc.wait()
                    raise SystemExit(f"bench_redis_instructions: redis-server under valgrind did not start "
                                     f"(see {self.log.name})")
                time.sleep(0.1)

    def control(self, option):
        """Tells the running callgrind `option` (--zero, --instr=on, --dump)."""
        subprocess.run(["callgrind_control", option, str(self.proc.pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def counted(self, fn):
        """Instructions Redis executed while fn ran."""
        self.control("--zero")
        self.control("--instr=on")
        fn()
        self.control("--instr=off")
        self.control("--dump")
        return self.total()

    def total(self):
        """The Ir total of the newest dump (callgrind writes one file per dump)."""
        dumps = [f for f in os.listdir(self.dir) if re.fullmatch(r"callgrind\.out\.\d+", f)]
        if not dumps:
            raise SystemExit("bench_redis_instructions: callgrind wrote no dump")
        newest = max(dumps, key=lambda f: int(f.rsplit(".", 1)[1]))
        return dump_total(os.path.join(self.dir, newest))

    def close(self):
        try:
            self.r.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        self.proc.wait(timeout=60)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def enqueue_args(tag, i):
    return [f"{tag}-{i}", "noop", "{}", "bench", "normal", "3", "0", "0", "1048576", str(NOW_MS * 1000), "0", "0"]


def phases(code, jobs):
    """Instructions per job of each phase against library `code`."""
    cr = CountedRedis()
    try:
        r = cr.r
        r.function_load(code, replace=True)
        r.function_load("#!lua name=bench_noop\nredis.register_function('bench_noop', function() return 1 end)",
                        replace=True)
        r.xgroup_create(STREAM, "workers", "0", mkstream=True)

        def single(fn, tag):
            p = r.pipeline(transaction=False)
            for i in range(jobs):
                p.execute_command("FCALL", fn, "0", *HEADER, *enqueue_args(tag, i))
            p.execute()

        def batch(tag):
            for b in range(0, jobs, 400):
                args = ["1048576", str(NOW_MS * 1000), "10"]
                for i in range(b, min(b + 400, jobs)):
                    args += [f"{tag}-{i}", "noop", "{}", "bench", "normal", "3", "0", "0", "0", "0"]
                r.execute_command("FCALL", "tickq_p1_enqueue_batch", "0", *HEADER, *args)

        def process(expect, history=None):
            keys = ["1", STREAM] if history is None else ["2", STREAM, history]
            done = 0
            while True:
                rep = r.execute_command("FCALL", "tickq_p1_claim", "1", STREAM, *HEADER, CONSUMER, "100")
                if rep[0] == 0:
                    break
                out = []
                for k in range(1, len(rep), 8):
                    out += [rep[k], rep[k + 1], "ok", RESULT, rep[k + 4], str(NOW_MS * 1000), str(NOW_MS * 1000)]
                r.execute_command("FCALL", "tickq_p1_finish", *keys, *HEADER, CONSUMER, *out)
                done += (len(rep) - 1) // 8
            if done != expect:
                raise SystemExit(f"bench_redis_instructions: processed {done} jobs, not {expect}")

        # Warm up: the first calls of each kind allocate what later ones reuse.
        single("tickq_p1_enqueue", "warm")
        process(jobs)
        out = {}
        out["fcall_noop"] = cr.counted(lambda: single("bench_noop", "n")) / jobs
        out["enqueue_one_per_call"] = cr.counted(lambda: single("tickq_p1_enqueue", "s")) / jobs
        process(jobs)
        out["enqueue_batch"] = cr.counted(lambda: batch("b")) / jobs
        out["claim_finish"] = cr.counted(lambda: process(jobs)) / jobs
        batch("h")
        out["claim_finish_history"] = cr.counted(lambda: process(jobs, HISTORY)) / jobs
        return {k: round(v) for k, v in out.items()}
    finally:
        cr.close()


def worker_per_job(tickq, jobs):
    """Instructions of a worker child per no-op job it runs (callgrind
    follows the worker's processes; the child is the one that counted the
    most)."""
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("bench_redis_instructions: --tickq needs REDIS_URL (run it through scripts/with-redis)")
    r = redis.Redis.from_url(url)
    r.flushall()
    lines = "".join('{"type":"noop","queue":"bench"}\n' for _ in range(jobs))
    subprocess.run([tickq, "--redis-url", url, "enqueue", "--file", "-"], input=lines, text=True, check=True,
                   capture_output=True)
    out = tempfile.mkdtemp(prefix="tickq-callgrind-worker.")
    try:
        env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=0")  # no re-exec under valgrind
        subprocess.run(["valgrind", "--tool=callgrind", "--trace-children=yes",
                        f"--callgrind-out-file={out}/callgrind.out.%p", tickq, "--redis-url", url, "worker", "--burst",
                        "--workers", "1", "--queues", "bench", "--no-history"], env=env, check=True,
                       capture_output=True, timeout=900)
        if r.hget("tickq:stats:bench", "completed") != str(jobs).encode():
            raise SystemExit("bench_redis_instructions: the worker did not complete every job")
        return round(max(dump_total(os.path.join(out, name)) for name in os.listdir(out)) / jobs)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--base", help="git revision whose library to count too")
    ap.add_argument("--tickq", help="count the worker child of this tickq binary per job too (needs REDIS_URL)")
    ap.add_argument("--tickq-base", help="and that of this other tickq binary")
    a = ap.parse_args()
    if not 100 <= a.jobs <= 1_000_000:
        raise SystemExit("bench_redis_instructions: --jobs must be 100 to 1000000")
    if shutil.which("valgrind") is None:
        raise SystemExit("bench_redis_instructions: needs valgrind (apt-get install valgrind)")
    version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    out = {"bench": "redis_instructions", "jobs": a.jobs,
           "redis": re.search(r"v=(\S+)", version).group(1), "ir_per_job": phases(library_text(lua_dir=os.environ.get("LUA_DIR")), a.jobs)}
    if a.base:
        base = phases(library_text(rev=a.base), a.jobs)
        out["base"] = a.base
        out["base_ir_per_job"] = base
        out["change_pct"] = {k: round(100.0 * (v - base[k]) / base[k], 1) for k, v in out["ir_per_job"].items()}
    if a.tickq:
        out["worker_ir_per_job"] = worker_per_job(a.tickq, a.jobs)
    if a.tickq_base:
        out["base_worker_ir_per_job"] = worker_per_job(a.tickq_base, a.jobs)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
