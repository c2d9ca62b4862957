#!/usr/bin/python3
"""screenshots.py — the dashboard's screenshots in docs/images/
(`make screenshots`, under scripts/with-redis): synthetic bars and option
chains in a temp SQLite file, a worker with --http and a few schedules, real
jobs (a portfolio backtest, an optimize sweep, a failing job, a long one
running, IV analyses and a scan), then each view in Debian's chromium
(tests/browser/driver.mjs) at 1100 x 900. Progress on stderr.
Needs REDIS_URL and the tickq binary (--tickq PATH)."""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from browser_harness import Browser, missing  # noqa: E402

OUT = os.path.join(ROOT, "docs", "images")
SMA = "function sma_cross(df, p)\n  return where(gt(sma(df.close, p.fast), sma(df.close, p.slow)), 1, 0)\nend\n"
SCHEDULES = """[scheduler]
closures = 2027-01-06

[schedule market_data]
cron = */15 9-16 * * MON-FRI
timezone = America/New_York
calendar = XNYS
market_hours = true
task = noop

[schedule end_of_day]
cron = 30 16 * * MON-FRI
timezone = America/New_York
task = noop
"""


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Shots:
    def __init__(self, tickq, tmp):
        self.tickq, self.tmp = tickq, tmp
        self.env = dict(os.environ, TICKQ_DB=os.path.join(tmp, "bars.db"))
        self.r = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)

    def run(self, *args, data=None):
        p = subprocess.run([self.tickq, *args], env=self.env, input=data, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"screenshots: tickq {' '.join(args)}: {p.stderr}")
        return p.stdout.strip()

    def enqueue(self, jtype, args, *opts):
        return self.run("enqueue", jtype, "-", *opts, data=json.dumps(args))

    def wait(self, jid, states=("completed", "error"), timeout=300):
        deadline = time.time() + timeout
        while time.time() < deadline:
            raw = self.r.get("task_result:" + jid)
            if raw and json.loads(raw)["status"] in states:
                return json.loads(raw)
            time.sleep(0.05)
        sys.exit(f"screenshots: job {jid} did not finish")

    def prepare(self):
        self.run("data", "synth", "--symbols", "3", "--days", "500", "--start", "2021-01-01", "--seed", "7")
        config = os.path.join(self.tmp, "tickq.ini")
        with open(config, "w") as f:
            f.write(SCHEDULES)
        self.port = free_port()
        self.worker = subprocess.Popen([self.tickq, "worker", "--workers", "2", "--heartbeat", "1s", "--config", config,
                                        "--http", f"127.0.0.1:{self.port}"], env=self.env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        window = {"symbols": ["SYN0001", "SYN0002", "SYN0003"], "start_date": "2021-06-01", "end_date": "2022-11-30"}
        self.backtest = self.enqueue("portfolio_backtest", {**window, "strategy_code": SMA,
                                                            "params": {"fast": 10, "slow": 40}})
        self.optimize = self.enqueue("optimize", {**window, "strategy_code": SMA, "params": {
            "fast": {"from": 5, "to": 30, "step": 5}, "slow": {"from": 20, "to": 120, "step": 20}},
            "constraints": "fast < slow"})
        self.failed = self.enqueue("fail", {"message": "provider said 429: rate limited", "permanent": True})
        self.enqueue("fail", {"message": "feed down"}, "--max-retries", "1", "--delay", "0")
        # options: 25 days of synthetic chains for two symbols, IV analysed each day, then a scan
        days = json.loads("[" + ",".join(self.run("data", "show", "SYN0001", "--columns", "close", "--format", "json")
                                         .splitlines()) + "]")
        dates = [d["date"] for d in days][-25:]
        last = None
        for k, day in enumerate(dates):
            for sym, vol in (("SYN0001", 0.22 * 1.04 ** k), ("SYN0002", 0.45 * 0.96 ** k)):
                self.enqueue("update_options_data", {"symbols": [sym], "as_of": day, "provider": {
                    "type": "synthetic", "vol": vol, "noise": 0, "round_cents": False}}, "--queue", "options")
            last = self.enqueue("calculate_iv_analysis", {"symbols": ["SYN0001", "SYN0002"], "as_of": day},
                                "--queue", "options")
        self.wait(self.backtest)
        self.wait(self.optimize, timeout=600)
        self.options_worker = subprocess.Popen([self.tickq, "worker", "--workers", "1", "--queues", "options",
                                                "--burst"], env=self.env, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL)
        self.wait(last)
        self.options_worker.wait(120)
        scan = self.enqueue("scan_opportunities", {}, "--queue", "options")
        subprocess.run([self.tickq, "worker", "--workers", "1", "--queues", "options", "--burst"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        self.wait(scan)
        self.running = self.enqueue("sleep", {"ms": 600000})
        for _ in range(3):
            self.enqueue("noop", {}, "--queue", "reports", "--delay", "3600")
        for _ in range(5):
            self.enqueue("noop", {}, "--queue", "reports")
        time.sleep(2.5)   # a heartbeat with the sleeping child

    def shoot(self):
        b = Browser()
        try:
            b.call("viewport", width=1100, height=900)
            base = f"http://127.0.0.1:{self.port}/"
            views = [("overview", "#/", "#workers li"),
                     ("jobs", "#/jobs", f'#jobs tr[data-job="{self.failed}"]'),
                     ("job", "#/job/" + self.failed, "#job-retry"),
                     ("backtest", "#/result/" + self.backtest, "#chart-equity"),
                     ("optimize", "#/result/" + self.optimize, "#chart-heat"),
                     ("schedules", "#/schedules", "#schedules tbody tr"),
                     ("options", "#/options/SYN0001", "#chart-iv")]
            for name, hash_, ready in views:
                b.call("goto", url=base + hash_)
                b.call("wait_visible", selector=ready, timeout_ms=20000)
                time.sleep(0.3)
                path = os.path.join(OUT, f"dashboard-{name}.png")
                b.call("screenshot", path=path)
                log(f"{path}: {os.path.getsize(path) // 1024} KiB")
            problems = b.call("problems")
            if problems:
                sys.exit(f"screenshots: the page reported problems: {problems}")
        finally:
            b.close()

    def stop(self):
        self.run("cancel", self.running)
        if self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)
            try:
                self.worker.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickq", required=True)
    opts = ap.parse_args()
    why = missing()
    if why:
        sys.exit(f"screenshots: {why}")
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tickq-shots-") as tmp:
        s = Shots(os.path.abspath(opts.tickq), tmp)
        try:
            s.prepare()
            s.shoot()
        finally:
            if hasattr(s, "worker"):
                s.stop()


if __name__ == "__main__":
    main()
