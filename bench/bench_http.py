"""bench_http.py — `make bench-http`: what the HTTP server costs and how
fast it answers (issue 15, docs/http.md).

1. Scrape time with 100 queues: 100 logical queues (300 physical, one job
   at each priority) and `tickq serve`; GET /metrics 50 times; p50 and max
   of the wall time a client sees, and the server's own
   tickq_scrape_duration_seconds. Target: <= 50 ms.
2. The queue's processing rate (bench_queue --only process: 2 workers over a
   full queue of no-op jobs) without --http, and with `--http
   --cluster-metrics` and a scraper polling that worker's /metrics every
   second; runs interleaved (A B A B) to spread the host's noise. Target:
   a drop of at most 5 %.
Prints one JSON line. Needs REDIS_URL (scripts/with-redis gives a private
server)."""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
from tickq import Client  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_up(url, proc, what):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench_http: {what} exited with {proc.returncode}")
        try:
            get(url, timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"bench_http: {what} did not answer at {url}")


def scrape_time(tickq, queues, scrapes):
    # The first enqueue through tickq loads the Functions library the client calls.
    subprocess.run([tickq, "enqueue", "noop", "--queue", "bq000", "--priority", "high"], check=True,
                   stdout=subprocess.DEVNULL)
    c = Client()
    for i in range(queues):
        for p in ("high", "normal", "low"):
            c.enqueue("noop", {}, queue=f"bq{i:03d}", priority=p)
    port = free_port()
    serve = subprocess.Popen([tickq, "serve", "--http", f"127.0.0.1:{port}", "--log-level", "warning"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_up(f"http://127.0.0.1:{port}/health/live", serve, "tickq serve")
        walls, server = [], []
        for _ in range(scrapes):
            t0 = time.perf_counter()
            text = get(url)
            walls.append((time.perf_counter() - t0) * 1000)
            for line in text.splitlines():
                if line.startswith("tickq_scrape_duration_seconds "):
                    server.append(float(line.split()[1]) * 1000)
            physical = sum(1 for line in text.splitlines()
                           if line.startswith("tickq_queue_jobs{") and 'state="ready"' in line)
    finally:
        serve.terminate()
        serve.wait(10)
    return {"scrape_queues": queues, "scrape_physical_queues": physical,
            "scrape_wall_p50_ms": round(statistics.median(walls), 2), "scrape_wall_max_ms": round(max(walls), 2),
            "scrape_server_p50_ms": round(statistics.median(server), 2)}


def process_rate(bench, tickq, jobs, http=None):
    cmd = [bench, "--tickq", tickq, "--jobs", str(jobs), "--workers", "2", "--log-level", "warning",
           "--only", "process"]
    stop = threading.Event()
    scrapes = [0]
    if http:
        cmd += ["--http", http]

        def scraper():
            while not stop.is_set():
                try:
                    get(f"http://{http}/metrics", timeout=2)
                    scrapes[0] += 1
                except OSError:
                    pass  # the worker starts and stops within the run: not up yet, or gone
                stop.wait(1.0)
        threading.Thread(target=scraper, daemon=True).start()
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900).stdout
    finally:
        stop.set()
    return json.loads(out.strip().splitlines()[-1])["process_per_s"], scrapes[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickq", default=os.path.join(ROOT, "build", "tickq"))
    ap.add_argument("--bench-queue", default=os.path.join(ROOT, "build", "bench_queue"))
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    out = {"bench": "http"}
    out.update(scrape_time(a.tickq, 100, 50))
    plain, served, scrapes = [], [], 0
    for _ in range(a.rounds):
        plain.append(process_rate(a.bench_queue, a.tickq, a.jobs)[0])
        rate, n = process_rate(a.bench_queue, a.tickq, a.jobs, f"127.0.0.1:{free_port()}")
        served.append(rate)
        scrapes += n
    p, s = statistics.mean(plain), statistics.mean(served)
    out.update({"jobs": a.jobs, "workers": 2, "process_per_s_plain": round(p), "process_per_s_http": round(s),
                "process_runs_plain": [round(x) for x in plain], "process_runs_http": [round(x) for x in served],
                "http_drop_pct": round(100 * (p - s) / p, 1), "scrapes_during_runs": scrapes})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
