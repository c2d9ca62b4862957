"""test_enqueue_batch.py — many jobs in one go (docs/cli.md, enqueue --file;
docs/handlers.md, the client's enqueue_many; the function tickq_p1_enqueue_batch is
test_protocol's): every job is checked before any is sent, a bad one
enqueues nothing and is named by its line or index, ids that exist are
answered as they stand while the others go in, a call Redis refuses leaves
the calls before it in (the client's error says how many and their results,
ids included), and the jobs run as jobs enqueued one by one would, against
a real redis-server and real workers."""
import json
import os
import shutil
import sys
import tempfile
import time

from harness import ROOT, TickqTestCase

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
from tickq import Client  # noqa: E402


def jsonl(*jobs):
    return "".join(json.dumps(j) + "\n" for j in jobs)


class TestEnqueueFile(TickqTestCase):
    def test_every_line_goes_in_and_runs(self):
        self.enqueue("echo", '{"n": -1}', "--id", "there", "--queue", "fq")
        jobs = [{"type": "echo", "args": {"n": i}, "queue": "fq", "id": f"f-{i}"} for i in range(450)]
        jobs.insert(7, {"type": "echo", "args": {"n": -1}, "id": "there", "queue": "fq"})
        jobs.append({"type": "noop", "queue": "fq", "priority": "high", "max_retries": 0, "timeout": 5,
                     "expires": 60})
        path = os.path.join(tempfile.mkdtemp(prefix="tickq-batch-"), "jobs.jsonl")
        self.addCleanup(shutil.rmtree, os.path.dirname(path), True)
        with open(path, "w") as f:
            f.write(jsonl(*jobs[:100]) + "\n   \n" + jsonl(*jobs[100:]))   # blank lines are skipped
        p = self.tickq("enqueue", "--file", path)
        self.assertEqual(p.returncode, 4, p.stderr)                        # one id existed
        ids = p.stdout.split()
        self.assertEqual(len(ids), 452)
        self.assertEqual(ids[:8], [f"f-{i}" for i in range(7)] + ["there"])
        self.assertEqual(p.stderr.strip(), f"tickq: {path} line 8: job there already exists (state queued, run 1); "
                                           "nothing enqueued for it")
        last = ids[-1]
        self.assertEqual({k: self.job(last)[k] for k in ("type", "priority", "max_retries", "timeout_ms")},
                         {"type": "noop", "priority": "high", "max_retries": "0", "timeout_ms": "5000"})
        self.assertIn("expires_us", self.job(last))
        self.assertEqual(self.counters("fq")["submitted"], 452)              # 'there' once
        status, w = self.burst("--queues", "fq", "--workers", "2", timeout=120)
        self.assertEqual(status, 0, w.log())
        self.assertEqual({self.state(j) for j in ids}, {"completed"})
        self.assertEqual(self.result("f-449")["data"]["n"], 449)
        # --json: one object a line; stdin
        p = self.tickq("enqueue", "--file", "-", "--json",
                       input=jsonl({"type": "echo", "id": "f-1", "queue": "fq", "replace": True},
                                   {"type": "echo", "id": "g-1", "queue": "fq"}))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([json.loads(l) for l in p.stdout.splitlines()],
                         [{"id": "f-1", "created": True, "state": "queued", "run": 2, "replaced": "completed"},
                          {"id": "g-1", "created": True, "state": "queued", "run": 1}])

    def test_a_mixed_batch_registers_every_queue_and_keeps_args_exact(self):
        """One call over two queues and three priorities registers each
        physical queue (tickq stats lists them), and a real in the args is
        stored as it was written (0.1, not 0.10000000000000001)."""
        jobs = [{"type": "echo", "args": {"x": 0.1, "n": i}, "queue": q, "priority": pr, "id": f"m-{q}-{pr}-{i}"}
                for q in ("ma", "mb") for pr in ("high", "normal", "low") for i in range(3)
                if not (q == "mb" and pr == "low")]
        p = self.tickq("enqueue", "--file", "-", input=jsonl(*jobs))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.r.smembers("tickq:queues"),
                         {"ma_high", "ma_normal", "ma_low", "mb_high", "mb_normal"})
        self.assertEqual(self.job("m-ma-low-2")["args"], '{"x":0.1,"n":2}')

    def test_a_bad_line_enqueues_nothing_and_is_named(self):
        good = {"type": "echo", "queue": "fq"}
        cases = [
            (jsonl(good, {"type": "echo", "tmeout": 3}), 65, "standard input line 2: job refused: unknown field "
                                                              "'tmeout' (did you mean 'timeout'?)"),
            (jsonl(good) + '{"type": "echo"\n', 65, "standard input line 2 is not JSON"),
            (jsonl(good) + "[1]\n", 65, "standard input line 2: job refused: a task must be a JSON object"),
            (jsonl(good, {"type": "nosuch"}), 65, "standard input line 2: job refused: unknown task type 'nosuch'"),
            (jsonl(good, {"type": "echo", "depends_on": ["x"]}), 65, "line 2: job refused: depends_on is not taken"),
            (jsonl(good, {"type": "sleep", "args": {"ms": -1}}), 65, "line 2: job refused: "),
            (jsonl(good, {"type": "echo", "args": {"x": "y" * 2_000_000}}), 65, "line 2: job refused: args are"),
            ("\n\n", 65, "standard input holds no job"),
        ]
        for text, status, error in cases:
            with self.subTest(error=error):
                p = self.tickq("enqueue", "--file", "-", input=text)
                self.assertEqual(p.returncode, status, p.stderr)
                self.assertIn(error, p.stderr)
                self.assertIn("nothing enqueued", p.stderr)
                self.assertEqual(p.stdout, "")
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        p = self.tickq("enqueue", "--file", "-", "--queue", "x", input=jsonl(good))
        self.assertEqual(p.returncode, 64)
        self.assertIn("--queue is not taken with --file", p.stderr)
        p = self.tickq("enqueue", "--file", "-", "echo", input=jsonl(good))
        self.assertEqual(p.returncode, 64)
        p = self.tickq("enqueue", "--file", "/nonexistent/jobs.jsonl")
        self.assertEqual(p.returncode, 66)
        self.assertIn("cannot open /nonexistent/jobs.jsonl", p.stderr)
        self.assertEqual(self.r.keys("tickq:job:*"), [])

    def test_a_delay_takes_the_command_lines_range(self):
        """A delay of 8 days goes in from a file as from --delay (0 to a
        year either way: it was 7 days, a timeout's limit, in a file)."""
        p = self.tickq("enqueue", "--file", "-", input=jsonl({"type": "noop", "queue": "dq", "id": "d8",
                                                              "delay": 8 * 86400}))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.enqueue("noop", None, "--queue", "dq", "--id", "d8b", "--delay", str(8 * 86400))
        due = self.r.zrange("tickq:delayed:dq_normal", 0, -1, withscores=True)
        self.assertEqual([d[0] for d in due], ["d8", "d8b"])
        self.assertGreater(due[0][1], (time.time() + 8 * 86400 - 60) * 1000)   # due in 8 days
        p = self.tickq("enqueue", "noop", "--queue", "dq", "--delay", str(366 * 86400))
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("invalid delay: use 0 to 1 year", p.stderr)
        p = self.tickq("enqueue", "--file", "-", input=jsonl({"type": "noop", "queue": "dq", "delay": 366 * 86400}))
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("delay must be a number of seconds from 0 and at most 31536000", p.stderr)

    def test_a_refusal_redis_finds_names_the_line_and_what_went_in(self):
        # 'needed' completed, a job waiting on it: a replace of it is refused by Redis
        needed = self.enqueue("noop", None, "--queue", "first", "--id", "needed")
        status, w = self.burst("--queues", "first", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.enqueue("noop", None, "--queue", "nobody", "--after", needed)
        jobs = [{"type": "echo", "id": f"h-{i}", "queue": "fq"} for i in range(401)]
        jobs.append({"type": "noop", "id": "needed", "replace": True})
        p = self.tickq("enqueue", "--file", "-", input=jsonl(*jobs))
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("standard input line 402: job refused: (needed): job needed cannot run again yet: 1 waiting "
                      "job(s) depend on its result; the 400 jobs before its batch (from line 401) were enqueued",
                      p.stderr)
        self.assertEqual(p.stdout.split(), [f"h-{i}" for i in range(400)])
        self.assertEqual(self.state("h-399"), "queued")
        self.assertIsNone(self.state("h-400"))                            # its batch: none of it


class TestEnqueueMany(TickqTestCase):
    def setUp(self):
        super().setUp()
        self.load_library()   # a tickq process would have: the client only calls it

    def test_a_delayed_job_is_told_delayed_as_the_cli_and_the_api_tell_it(self):
        out = Client(self.url).enqueue_many([{"type": "noop", "queue": "dq", "delay": 60},
                                             {"type": "noop", "queue": "dq"}])
        self.assertEqual([o["state"] for o in out], ["delayed", "queued"])
        p = self.tickq("enqueue", "noop", "--queue", "dq", "--delay", "60", "--json")
        self.assertEqual(json.loads(p.stdout)["state"], "delayed")
        shown = json.loads(self.tickq("job", out[0]["id"]).stdout)
        self.assertEqual(shown["state"], "delayed")
        self.assertRegex(shown["due_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_jobs_go_in_in_batches_and_run(self):
        client = Client(self.url)
        client.enqueue("echo", {"n": -1}, id="there", queue="mq")
        jobs = [{"type": "echo", "args": {"n": i}, "queue": "mq"} for i in range(850)]
        jobs[3] = {"type": "echo", "args": {"n": -1}, "id": "there", "queue": "mq"}
        jobs.append({"type": "noop", "queue": "mq", "priority": "low", "timeout": 2.5, "max_retries": 1,
                     "expires": 30})
        out = client.enqueue_many(jobs)
        self.assertEqual(len(out), 851)
        self.assertEqual(out[3], {"id": "there", "created": False, "state": "queued", "run": 1})
        self.assertEqual(sum(o["created"] for o in out), 850)
        self.assertEqual(len({o["id"] for o in out}), 851)
        self.assertEqual({k: self.job(out[-1]["id"])[k] for k in ("priority", "timeout_ms", "max_retries")},
                         {"priority": "low", "timeout_ms": "2500", "max_retries": "1"})
        self.assertEqual(self.counters("mq")["submitted"], 851)
        status, w = self.burst("--queues", "mq", "--workers", "2", timeout=120)
        self.assertEqual(status, 0, w.log())
        self.assertEqual({self.state(o["id"]) for o in out}, {"completed"})
        self.assertEqual(self.result(out[849]["id"])["data"]["n"], 849)

    def test_a_call_timed_out_gives_what_went_in_and_the_ids_in_doubt(self):
        # A real fault: Redis pauses every client (CLIENT PAUSE, from
        # another connection) just before the third call, for longer than
        # the client's socket timeout, so that call times out; whether
        # Redis ran it once the pause ended is not known to the client.
        import redis

        admin = self.r

        class Paused(redis.Redis):
            fcalls = 0

            def execute_command(self, *args, **options):
                if args and args[0] == "FCALL":
                    Paused.fcalls += 1
                    if Paused.fcalls == 3:
                        admin.execute_command("CLIENT", "PAUSE", "1500", "ALL")
                return super().execute_command(*args, **options)

        client = Client(Paused.from_url(self.url, socket_timeout=0.4))
        jobs = [{"type": "echo", "queue": "mq", "args": {"n": i}} for i in range(900)]
        with self.assertRaises(redis.exceptions.TimeoutError) as e:
            client.enqueue_many(jobs)
        err = e.exception
        self.assertEqual(err.enqueued, 800)
        self.assertEqual(len(err.results), 800)
        self.assertEqual(len(err.in_doubt), 100)
        for i, r in enumerate(err.results):
            self.assertEqual(json.loads(self.r.hget(f"tickq:job:{r['id']}", "args")), {"n": i})
        # Sending the jobs in doubt again with their ids puts each in once,
        # whether or not the timed-out call went in.
        again = Client(self.url).enqueue_many([dict(jobs[800 + k], id=jid) for k, jid in enumerate(err.in_doubt)])
        self.assertEqual([r["id"] for r in again], err.in_doubt)
        self.assertEqual(len(self.r.keys("tickq:job:*")), 900)
        for k, jid in enumerate(err.in_doubt):
            self.assertEqual(json.loads(self.r.hget(f"tickq:job:{jid}", "args")), {"n": 800 + k})

    def test_a_bad_job_raises_naming_it_and_nothing_goes_in(self):
        client = Client(self.url)
        good = {"type": "echo", "queue": "mq"}
        for jobs, error in (([good, {"type": "echo", "priority": "urgent"}], "job 1: invalid priority 'urgent'"),
                            ([good, {"args": {}}], "job 1: no 'type'"),
                            ([good, "echo"], "job 1: a job is a dict"),
                            ([good, {"type": "echo", "depends_on": "x"}], "job 1: depends_on is not taken"),
                            ([good, {"type": "echo", "tmeout": 1}], "job 1: unknown enqueue option tmeout")):
            with self.subTest(error=error):
                with self.assertRaises(ValueError) as e:
                    client.enqueue_many(jobs)
                self.assertIn(error, str(e.exception))
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        self.assertEqual(client.enqueue_many([]), [])

    def test_a_refusal_redis_finds_says_how_many_went_in(self):
        client = Client(self.url)
        needed = client.enqueue("noop", queue="first", id="needed")
        status, w = self.burst("--queues", "first", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        client.enqueue("noop", queue="nobody", depends_on=needed)
        jobs = [{"type": "echo", "id": f"m-{i}", "queue": "mq"} for i in range(405)]
        jobs[402] = {"type": "noop", "id": "needed", "replace": True}
        with self.assertRaises(ValueError) as e:
            client.enqueue_many(jobs)
        self.assertIn("job 402 (needed): job refused: job needed cannot run again yet", str(e.exception))
        self.assertEqual(e.exception.enqueued, 400)
        self.assertEqual(self.state("m-399"), "queued")
        self.assertIsNone(self.state("m-400"))

    def test_a_refusal_redis_finds_gives_the_results_that_went_in(self):
        # two whole calls go in, the third is refused: the error holds the
        # 800 jobs' results, the ids the client made included
        client = Client(self.url)
        needed = client.enqueue("noop", queue="first", id="needed")
        status, w = self.burst("--queues", "first", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        waiting = client.enqueue("noop", queue="nobody", depends_on=needed)
        jobs = [{"type": "echo", "args": {"n": i}, "queue": "mq"} for i in range(830)]
        for i in (3, 401, 815):
            jobs[i]["id"] = f"given-{i}"
        jobs[810] = {"type": "noop", "id": "needed", "replace": True}
        with self.assertRaises(ValueError) as e:
            client.enqueue_many(jobs)
        self.assertIn("job 810 (needed): job refused: job needed cannot run again yet", str(e.exception))
        self.assertEqual(e.exception.enqueued, 800)
        results = e.exception.results
        self.assertEqual(len(results), 800)
        ids = [r["id"] for r in results]
        self.assertEqual(len(set(ids)), 800)
        self.assertEqual((ids[3], ids[401]), ("given-3", "given-401"))
        self.assertEqual({r["created"] for r in results}, {True})
        self.assertEqual({r["state"] for r in results}, {"queued"})
        self.assertEqual({r["run"] for r in results}, {1})
        for i, r in enumerate(results):                                 # each is its job, in order
            self.assertEqual((self.state(r["id"]), json.loads(self.job(r["id"])["args"])), ("queued", {"n": i}),
                             r["id"])
        self.assertIsNone(self.state("given-815"))                       # the refused call: none of it
        self.assertEqual(set(self.r.keys("tickq:job:*")),
                         {f"tickq:job:{x}" for x in ids + [needed, waiting]})
        self.assertEqual(self.counters("mq")["submitted"], 800)
        self.assertEqual(self.state(needed), "completed")               # not run again
