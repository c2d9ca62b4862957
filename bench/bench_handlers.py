"""bench_handlers.py — `make bench-handlers`: no-op jobs through a Python
handler (the shipped runtime, `python3 -m tickq.handler`) against the
built-in noop task, with 2 worker processes: jobs processed per second
over a full queue, and enqueue-to-finish latency p50/p99 at 200 jobs/s.
handler_overhead_us_per_job is what a handler adds to a job's time in a
worker child (1/rate difference, times the workers). Runs bench_queue
(bench/bench_queue.c) for each; prints one JSON line.

Needs REDIS_URL (scripts/with-redis gives a private server)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(bench, tickq, jobs, latency_jobs, workers, only, jtype=None, config=None):
    cmd = [bench, "--tickq", tickq, "--jobs", str(jobs), "--latency-jobs", str(latency_jobs), "--workers",
           str(workers), "--log-level", "warning", "--only", only]
    if jtype:
        cmd += ["--type", jtype, "--config", config]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickq", default=os.path.join(ROOT, "build", "tickq"))
    ap.add_argument("--bench-queue", default=os.path.join(ROOT, "build", "bench_queue"))
    ap.add_argument("--jobs", type=int, default=50000)
    ap.add_argument("--latency-jobs", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tickq-bench-handlers-") as tmp:
        config = os.path.join(tmp, "handlers.ini")
        with open(config, "w") as f:
            f.write("[handler bench]\ncommand = /usr/bin/python3 -m tickq.handler noop_tasks\ntypes = py_noop\n")
        os.environ["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "bench", "handlers"),
                                                    os.path.join(ROOT, "clients", "python")])
        built = run(a.bench_queue, a.tickq, a.jobs, a.latency_jobs, a.workers, "process")
        handled = run(a.bench_queue, a.tickq, a.jobs, a.latency_jobs, a.workers, "process", "py_noop", config)
        built_l = run(a.bench_queue, a.tickq, a.jobs, a.latency_jobs, a.workers, "latency")
        handled_l = run(a.bench_queue, a.tickq, a.jobs, a.latency_jobs, a.workers, "latency", "py_noop", config)
    rate, base = handled["process_per_s"], built["process_per_s"]
    print(json.dumps({
        "bench": "handlers", "jobs": a.jobs, "workers": a.workers,
        "handler_process_per_s": rate, "builtin_process_per_s": base,
        "handler_overhead_us_per_job": round(a.workers * 1e6 * (1 / rate - 1 / base), 1),
        "handler_done_latency_p50_ms": handled_l["done_latency_p50_ms"],
        "handler_done_latency_p99_ms": handled_l["done_latency_p99_ms"],
        "handler_start_latency_p50_ms": handled_l["latency_p50_ms"],
        "builtin_done_latency_p50_ms": built_l["done_latency_p50_ms"],
        "builtin_done_latency_p99_ms": built_l["done_latency_p99_ms"],
        "latency_rate_per_s": 200,
    }))


if __name__ == "__main__":
    sys.exit(main())
