"""test_docs.py — the examples a new user runs as written: README.md's Use
section, the Python client example in docs/strategies.md (against the demo's
data), the options "typical day" in docs/options.md, and the example closure
dates (trading days). Each test takes the example's text from the document
itself, so a doc that drifts from the code fails here."""
import json
import os
import re
import shutil
import subprocess
import tempfile

import redis

from harness import ROOT, TICKQ, TickqTestCase, free_port, tickq


def read(relpath):
    with open(os.path.join(ROOT, relpath)) as f:
        return f.read()


def section(text, heading):
    """The text of a markdown section, from its heading to the next heading
    of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading + "\n")
    rest = text[start + len(heading) + 1:]
    out, fenced = [], False
    for line in rest.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"^#{1,%d} " % level, line):
            break
        out.append(line)
    return "".join(out)


def indented_blocks(text):
    """The indented (4-space) code blocks of a markdown text, dedented; a
    blank line between indented lines keeps them in one block."""
    blocks, cur = [], []
    for line in text.splitlines():
        if line.startswith("    "):
            cur.append(line[4:])
        elif line.strip() == "" and cur:
            cur.append("")
        elif cur:
            blocks.append("\n".join(cur).strip("\n"))
            cur = []
    if cur:
        blocks.append("\n".join(cur).strip("\n"))
    return blocks


def fenced_block(text, lang):
    m = re.search(r"^```%s\n(.*?)^```$" % lang, text, re.M | re.S)
    assert m, f"no ```{lang} block"
    return m.group(1)


def demo_synth_args():
    """The `tickq data synth` arguments scripts/demo loads its bars with."""
    m = re.search(r'"\$tickq" data synth ([^\n]*?) 2>', read("scripts/demo"))
    assert m, "scripts/demo no longer runs tickq data synth"
    return m.group(1).split()


class TestReadmeUse(TickqTestCase):
    def test_use_section_starts_a_redis_and_runs_as_written(self):
        """The Use section starts a Redis and waits for it before it exports
        REDIS_URL, and its commands run as written (on a free port instead of 6379, which
        another Redis may hold): every job they enqueue completes."""
        use = section(read("README.md"), "## Use")
        script = "\n".join(indented_blocks(use))
        lines = script.splitlines()
        start = next(i for i, x in enumerate(lines) if x.startswith("redis-server "))
        export = next(i for i, x in enumerate(lines) if x.startswith("export REDIS_URL="))
        self.assertLess(start, export)
        self.assertIn("6379", lines[start])
        self.assertIn("--daemonize yes", lines[start])
        # redis-server --daemonize returns before the server listens: the
        # next line waits for it, or the worker started next can find no Redis
        self.assertTrue(lines[start + 1].startswith("until redis-cli -p 6379 ping;"), lines[start + 1])
        port = free_port()
        tmp = tempfile.mkdtemp(prefix="tickq-readme-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.symlink(os.path.join(ROOT, "examples"), os.path.join(tmp, "examples"))

        def stop_redis():
            try:
                redis.Redis(port=port, socket_timeout=5).shutdown(nosave=True)
            except redis.RedisError:
                pass
        self.addCleanup(stop_redis)
        body = script.replace("6379", str(port)).replace("build/tickq", TICKQ)
        # Wait for every job the section enqueued; stop its worker and Redis.
        wrapper = (f"set -euo pipefail\n"
                   f"trap 'kill $(jobs -p) 2>/dev/null || true; wait || true; "
                   f"redis-cli -p {port} shutdown nosave >/dev/null 2>&1 || true' EXIT\n"
                   f"{body}\n"
                   f"for key in $(redis-cli -p {port} --scan --pattern 'tickq:job:*'); do\n"
                   f"  {TICKQ} result \"${{key#tickq:job:}}\" --wait 120 >/dev/null\n"
                   f"  echo \"completed ${{key#tickq:job:}}\"\n"
                   f"done\n")
        env = dict(os.environ, TICKQ_DB=os.path.join(tmp, "tickq.db"))
        env.pop("REDIS_URL", None)
        p = subprocess.run(["bash", "-c", wrapper], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        results = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
        self.assertEqual([(r["status"], r["data"]["symbol"]) for r in results], [("completed", "AAPL")])
        done = [x for x in p.stdout.splitlines() if x.startswith("completed ")]
        self.assertEqual(len(done), 2, p.stdout)   # the echo and the backtest


class TestStrategiesPythonExample(TickqTestCase):
    def example(self):
        code = fenced_block(section(read("docs/strategies.md"), "## The users' list protocol"), "python")
        self.assertNotIn("AAPL", code)   # the demo has SYN0001 ... only
        return code

    def run_example(self, code, db):
        self.worker("--workers", "2", env={"TICKQ_DB": db})
        return subprocess.run(["/usr/bin/python3", "-c", code], cwd=ROOT, env=dict(os.environ, REDIS_URL=self.url),
                              capture_output=True, text=True, timeout=180)

    def test_runs_as_written_against_the_demo_data(self):
        tmp = tempfile.mkdtemp(prefix="tickq-docs-")
        self.addCleanup(shutil.rmtree, tmp, True)
        db = os.path.join(tmp, "demo.db")
        p = tickq("data", "synth", *demo_synth_args(), env={"TICKQ_DB": db})
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.run_example(self.example(), db)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual([x.split(":")[0] for x in lines], ["backtest", "screening"], p.stdout)
        self.assertIn("'total_return'", lines[0])
        for task_id, kind in (("bt-42", "backtest"), ("scr-42", "screening")):
            res = json.loads(self.r.get(f"task_result:{task_id}"))
            self.assertEqual(res["status"], "completed", res)
            self.assertEqual(res["data"]["execution_mode"], kind)
        self.assertGreater(json.loads(self.r.get("task_result:bt-42"))["data"]["performance_metrics"]["trades"], 0)

    def test_an_error_result_raises_with_the_error(self):
        """Without the bars (an empty database) the backtest fails: the
        example raises an error naming the task and the reason, not a
        KeyError on the missing results."""
        tmp = tempfile.mkdtemp(prefix="tickq-docs-")
        self.addCleanup(shutil.rmtree, tmp, True)
        p = self.run_example(self.example(), os.path.join(tmp, "empty.db"))
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertNotIn("KeyError", p.stderr)
        last = p.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("RuntimeError: task bt-42 failed: "), p.stderr)
        error = json.loads(self.r.get("task_result:bt-42"))["data"]["error"]
        self.assertEqual(last, f"RuntimeError: task bt-42 failed: {error}")


class TestOptionsTypicalDay(TickqTestCase):
    def day(self):
        text = section(read("docs/options.md"), "## Options data and analysis tasks")
        start = text.index("A typical day")
        return indented_blocks(text[start:])[0]

    def test_each_step_runs_after_the_one_before(self):
        lines = [x.split("#")[0].strip() for x in self.day().splitlines()]
        lines = [x for x in lines if x]
        enqueues = [x for x in lines if " enqueue " in x]
        self.assertEqual(len(enqueues), 3, lines)
        self.assertEqual(lines[0], "set -e")
        names = []
        for x in enqueues:   # every step names the one before as its dependency
            m = re.match(r'^([a-z])=\$\(tickq enqueue .*?( --after "\$([a-z])")?\)$', x)
            self.assertIsNotNone(m, x)
            self.assertEqual(m.group(3), names[-1] if names else None, x)
            names.append(m.group(1))
        self.assertRegex(lines[len(enqueues) + 1], rf'^tickq result "\${names[-1]}" --wait \d+ > /dev/null$')

    def test_runs_in_order(self):
        """The typical day, run as written with two workers (so steps
        enqueued at once could overlap), after the bars are in: every step
        completes and the last one sees the IV analysis of the first."""
        tmp = tempfile.mkdtemp(prefix="tickq-docs-")
        self.addCleanup(shutil.rmtree, tmp, True)
        db = os.path.join(tmp, "bars.db")
        p = tickq("data", "synth", "--symbols", "4", "--days", "300", env={"TICKQ_DB": db})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.worker("--workers", "2", env={"TICKQ_DB": db})
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        os.symlink(TICKQ, os.path.join(bindir, "tickq"))
        env = dict(os.environ, REDIS_URL=self.url, TICKQ_DB=db, PATH=bindir + os.pathsep + os.environ["PATH"])
        p = subprocess.run(["bash", "-c", self.day()], cwd=tmp, env=env, capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        results = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
        self.assertEqual([r["status"] for r in results], ["completed"] * 3, p.stdout)
        chains, iv, scan = (r["data"] for r in results)
        self.assertEqual(chains["provider"], "synthetic")
        self.assertGreater(chains["rows_written"], 0)
        self.assertEqual(sorted(x["symbol"] for x in iv["results"]), ["SYN0001", "SYN0002", "SYN0003", "SYN0004"])
        self.assertTrue(all(x["solved"] > 0 for x in iv["results"]), iv)
        self.assertEqual(scan["as_of"], iv["results"][0]["date"])


class TestExampleClosures(TickqTestCase):
    """A closure in an example is a day the exchange would otherwise trade:
    one on a weekend or a holiday teaches nothing."""

    SOURCES = ("examples/schedules.ini", "docs/scheduler.md")

    def closure_dates(self, relpath):
        dates = []
        for m in re.finditer(r"^#?\s*closures\s*=\s*([0-9][0-9, -]*[0-9])", read(relpath), re.M):
            dates += [d.strip() for d in m.group(1).split(",")]
        return dates

    def test_example_closures_are_xnys_trading_days(self):
        for relpath in self.SOURCES:
            dates = self.closure_dates(relpath)
            self.assertTrue(dates, f"{relpath} has no closures example")
            for day in dates:
                # The first XNYS noon at or after the day's start is that day.
                p = tickq("schedule", "next", "0 12 * * *", "--tz", "America/New_York", "--calendar", "XNYS",
                          "--from", f"{day}T00:00:00Z", "-n", "1")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stdout[:10], day, f"{relpath}: closure {day} is not an XNYS trading day")
                # And the closure does close it.
                tmp = tempfile.mkdtemp(prefix="tickq-docs-")
                self.addCleanup(shutil.rmtree, tmp, True)
                path = os.path.join(tmp, "c.ini")
                with open(path, "w") as f:
                    f.write(f"[scheduler]\nclosures = {day}\n\n[schedule a]\ncron = 0 12 * * *\ncalendar = XNYS\n"
                            "task = echo\n")
                p = tickq("schedule", "next", "0 12 * * *", "--tz", "America/New_York", "--calendar", "XNYS",
                          "--from", f"{day}T00:00:00Z", "-n", "1", "--config", path)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertGreater(p.stdout[:10], day)
