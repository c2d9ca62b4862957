"""test_handler_pools.py — worker pools and reload, with real Python
handlers (tests/integration/handler_apps, served by `python3 -m
tickq.handler`). A [pool NAME] runs the built-in and handler types it
lists, and fails any other job permanently, naming the pool and what it
serves (a handler type whose handler the pool does not name included);
--queues and --workers win over the pool's; every mistake in a pool's
configuration is refused with exit 78; `worker --check --pool` starts the
pool's handlers and says in a line each what is right or wrong. `worker
--watch` reloads under load: a module edited mid-way runs in new handler
processes, no job is lost or run twice, and a configuration that does not
read is refused while the old one keeps running; a watched folder reloads
when a module in it changes."""
import os
import shutil
import sys
import tempfile
import threading
import time

from harness import ROOT, TickqTestCase, wait_for

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq  # noqa: E402

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handler_apps")
PY = sys.executable
# No bytecode written into the source tree by the handlers.
ENV = {"PYTHONPATH": APPS, "PYTHONDONTWRITEBYTECODE": "1", "TICKQ_CONFIG": None}

HANDLERS = (f"[handler apps]\ncommand = {PY} -m tickq.handler app_tasks\ntypes = greet, flaky\n\n"
            f"[handler media]\ncommand = {PY} -m tickq.handler media_tasks\ntypes = resize\n\n")


class PoolCase(TickqTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-pools-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, text, name="tickq.ini"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def enqueue_on(self, queue, jtype, args=None):
        return self.enqueue(jtype, args or {}, "--queue", queue)

    def final(self, jid, timeout=20):
        return self.wait_state(jid, ("completed", "failed", "dead"), timeout)

    def versioned_app(self):
        """A copy of the versioned handler app in a folder of its own:
        (the folder, its module's path, the module's text)."""
        app = os.path.join(self.tmp, "app")
        os.mkdir(app)
        module = os.path.join(app, "versioned.py")
        shutil.copy(os.path.join(APPS, "versioned.py"), module)
        with open(module) as f:
            return app, module, f.read()


class TestPoolTypes(PoolCase):
    def test_pool_runs_the_types_it_lists_and_refuses_others_naming_itself(self):
        path = self.write(HANDLERS + "[pool main]\nqueues = main\nworkers = 1\ntypes = echo, greet\nhandlers = apps\n")
        self.worker("--config", path, "--pool", "main", env=ENV)
        echo = self.enqueue_on("main", "echo", {"x": 1})
        # greet is enqueued once the worker has announced it (tickq:types).
        wait_for(lambda: self.r.sismember("tickq:types", "greet"), 15, what="the pool's handler types announced")
        greet = self.enqueue_on("main", "greet", {"name": "pool"})
        noop = self.enqueue_on("main", "noop")
        for jid in (echo, greet, noop):
            self.final(jid)
        self.assertEqual(self.completed_data(self.result(echo))["x"], 1)
        data = self.completed_data(self.result(greet))
        self.assertEqual((data["hello"], data["queue"], data["attempt"]), ("pool", "main", 1))
        # A built-in type the pool does not list: failed at once, no retry.
        self.assertEqual(self.permanent_error(self.result(noop), noop),
                         "task type noop is not served by pool main (serves: echo, greet)")
        # flaky is its handler's, but not in the pool's types.
        flaky = self.enqueue_on("main", "flaky")
        self.final(flaky)
        self.assertEqual(self.permanent_error(self.result(flaky), flaky),
                         "task type flaky is not served by pool main (serves: echo, greet)")

    def test_a_type_of_a_handler_outside_the_pool_fails_the_same_way(self):
        path = self.write(HANDLERS + "[pool main]\nqueues = main\nworkers = 1\nhandlers = apps\n")
        self.worker("--config", path, "--pool", "main", env=ENV)
        wait_for(lambda: self.r.sismember("tickq:types", "greet"), 15, what="the pool's handler types announced")
        # The worker announces only its pool's handler types: resize is
        # refused by producers until someone adds it.
        self.assertFalse(self.r.sismember("tickq:types", "resize"))
        p = self.tickq("enqueue", "resize", "{}", "--queue", "main")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("unknown task type 'resize'", p.stderr)
        self.assertIn("tickq types add resize", p.stderr)
        p = self.tickq("types", "add", "resize")
        self.assertEqual((p.returncode, p.stdout), (0, "added resize\n"), p.stderr)
        p = self.tickq("types")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("resize", p.stdout.split("\n"))
        self.assertIn("greet", p.stdout.split("\n"))
        resize = self.enqueue_on("main", "resize", {"width": 10})
        greet = self.enqueue_on("main", "greet")
        echo = self.enqueue_on("main", "echo", {"y": 2})
        for jid in (resize, greet, echo):
            self.final(jid)
        # A pool without types runs every built-in task and its handlers' types.
        self.assertEqual(self.permanent_error(self.result(resize), resize),
                         "task type resize is not served by pool main (serves: every built-in task, greet, flaky)")
        self.completed_data(self.result(greet))
        self.assertEqual(self.completed_data(self.result(echo))["y"], 2)

    def test_a_pool_may_come_before_the_handlers_it_names(self):
        path = self.write("[pool main]\nqueues = main\nworkers = 1\nhandlers = media\ntypes = resize\n\n" + HANDLERS)
        self.worker("--config", path, "--pool", "main", env=ENV)
        wait_for(lambda: self.r.sismember("tickq:types", "resize"), 15, what="resize announced")
        jid = self.enqueue_on("main", "resize", {"width": 7})
        self.final(jid)
        self.assertEqual(self.completed_data(self.result(jid))["resized"], 7)

    def test_queues_and_workers_flags_win_over_the_pool(self):
        path = self.write(HANDLERS + "[pool main]\nqueues = main\nworkers = 2\ntypes = echo, greet\nhandlers = apps\n")
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", env=ENV)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   config: queues main_high,main_normal,main_low; 2 workers;", p.stdout)
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", "--queues", "other", "--workers", "1",
                       env=ENV)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   config: queues other_high,other_normal,other_low; 1 workers;", p.stdout)
        self.assertIn("ok   pool main: runs echo, greet\n", p.stdout)

        w = self.worker("--config", path, "--pool", "main", "--queues", "other", "--workers", "1", env=ENV)
        on_main = self.enqueue_on("main", "echo", {"q": "main"})
        on_other = self.enqueue_on("other", "echo", {"q": "other"})
        self.final(on_other)
        self.assertEqual(self.completed_data(self.result(on_other))["q"], "other")
        self.assertEqual(len(w.children()), 1)
        # main was the pool's queue; the flag replaced it.
        self.assertEqual(self.state(on_main), "queued")
        # The pool's types still hold on the flag's queues.
        noop = self.enqueue_on("other", "noop")
        self.final(noop)
        self.assertEqual(self.permanent_error(self.result(noop), noop),
                         "task type noop is not served by pool main (serves: echo, greet)")
        self.assertEqual(self.state(on_main), "queued")


class TestPoolConfigErrors(PoolCase):
    def refused(self, args, text):
        """Runs `worker ARGS` and `worker --check ARGS`: both must refuse
        with exit 78 and say `text`."""
        w = self.worker(*args, env=ENV)
        self.assertEqual(w.wait(30), 78, w.log())
        self.assertIn(text, w.log())
        self.assertNotIn("worker started", w.log())
        p = self.tickq("worker", "--check", *args, env=ENV)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("FAIL config: " + text, p.stdout)
        self.assertNotIn("check passed", p.stdout)

    def test_pool_without_a_configuration_file(self):
        self.refused(["--pool", "main"],
                     "--pool main needs the configuration file that defines it (--config FILE, or TICKQ_CONFIG)")

    def test_unknown_pool(self):
        path = self.write(HANDLERS + "[pool main]\nqueues = main\n\n[pool batch]\nqueues = batch\n")
        self.refused(["--config", path, "--pool", "gpu"], f"--pool gpu: {path} has no [pool gpu] (its pools: main, batch)")
        path = self.write(HANDLERS, name="nopools.ini")
        self.refused(["--config", path, "--pool", "gpu"], f"--pool gpu: {path} has no [pool gpu] (it defines no pool)")

    def test_pool_naming_an_unknown_handler(self):
        path = self.write(HANDLERS + "[pool main]\nqueues = main\nhandlers = apps, video\n")
        self.refused(["--config", path, "--pool", "main"],
                     f"{path}:11: [pool main]: handlers: there is no [handler video] in this file")

    def test_pool_type_neither_built_in_nor_its_handlers(self):
        # Line 12 is the types line (9: [pool main], 10: queues, 11: handlers).
        path = self.write(HANDLERS + "[pool main]\nqueues = main\nhandlers = apps\ntypes = greet, transcode\n")
        self.refused(["--config", path, "--pool", "main"],
                     f"{path}:12: [pool main]: types: 'transcode' is neither built in nor served by one of its handlers")
        path = self.write(HANDLERS + "[pool main]\nqueues = main\nhandlers = apps\ntypes = greet, resize\n")
        self.refused(["--config", path, "--pool", "main"],
                     f"{path}:12: [pool main]: types: 'resize' is neither built in nor served by one of its handlers "
                     "(it is [handler media]: add it to handlers)")

    def test_a_bad_job_timeout_is_refused(self):
        # (A good one: test_job_timeout.py.)
        cases = [("0", ":11: [pool main]: job_timeout = 0 is not a duration of more than 0 and at most 7 days "
                       "(e.g. 600, 90s, 10m, 2h)"),
                 ("8d", ":11: [pool main]: job_timeout = 8d is not a duration of more than 0 and at most 7 days"),
                 ("169h", ":11: [pool main]: job_timeout = 169h is not a duration of more than 0 and at most 7 days")]
        for i, (value, said) in enumerate(cases):
            with self.subTest(value=value):
                path = self.write(HANDLERS + f"[pool main]\nqueues = main\njob_timeout = {value}\n",
                                  name=f"timeout{i}.ini")
                self.refused(["--config", path, "--pool", "main"], path + said)
        path = self.write(HANDLERS + "[pool main]\nqueues = main\njob_timeout = 60s\njob_timeout = 2m\n",
                          name="twice.ini")
        self.refused(["--config", path, "--pool", "main"], f"{path}:12: [pool main]: job_timeout is given twice")

    def test_unknown_key_missing_queues_bad_workers_twice(self):
        cases = [
            ("[pool main]\nqueues = main\nconcurrency = 4\n",
             ":11: [pool main]: unknown key 'concurrency' (known: queues, workers, types, handlers, job_timeout)"),
            ("[pool main]\nworkers = 2\n",
             ":9: [pool main] has no queues (the queues it serves, as --queues takes them)"),
            ("[pool main]\nqueues = main\nworkers = 0\n", ":11: [pool main]: workers = 0 is not a number from 1 to 256"),
            ("[pool main]\nqueues = main\nworkers = two\n",
             ":11: [pool main]: workers = two is not a number from 1 to 256"),
            ("[pool main]\nqueues = main\n\n[pool main]\nqueues = other\n",
             ":12: [pool main] appears twice (first at line 9)"),
            ("[pool main]\nqueues = main\nhandlers =\n", ":11: [pool main]: handlers is empty"),
        ]
        for i, (pool, said) in enumerate(cases):
            with self.subTest(said=said):
                path = self.write(HANDLERS + pool, name=f"case{i}.ini")
                self.refused(["--config", path, "--pool", "main"], path + said)

    def test_a_bad_pool_is_refused_even_when_another_is_run(self):
        # The whole file is checked, whichever pool runs: a mistake never
        # waits for the day its pool is started.
        path = self.write(HANDLERS + "[pool main]\nqueues = main\n\n[pool broken]\nqueues = b\nhandlers = video\n")
        self.refused(["--config", path, "--pool", "main"],
                     f"{path}:14: [pool broken]: handlers: there is no [handler video] in this file")


    def test_handler_durations_have_bounds(self):
        """cancel_grace and start_timeout are refused past their bounds
        (a minute, ten minutes) and when given twice, as the pool's
        job_timeout is; a value an inline comment cut says so."""
        handler = f"[handler apps]\ncommand = {PY} -m tickq.handler app_tasks\ntypes = greet, flaky\n"
        cases = [("cancel_grace = 99999h", ":4: [handler apps]: cancel_grace = 99999h is not a duration from 0 to "
                                           "1 min (e.g. 2s, 500ms): 99999 h is too long"),
                 ("start_timeout = 99999h", ":4: [handler apps]: start_timeout = 99999h is not a duration from "
                                            "100 ms to 10 min (e.g. 2s, 500ms): 99999 h is too long"),
                 ("start_timeout = 11m", ":4: [handler apps]: start_timeout = 11m is not a duration from 100 ms to "
                                         "10 min"),
                 ("cancel_grace = 2s\ncancel_grace = 3s", ":5: [handler apps]: cancel_grace is given twice"),
                 ("cancel_grace = 2 #m", None)]
        for i, (lines, said) in enumerate(cases):
            with self.subTest(lines=lines):
                path = self.write(handler + lines + "\n\n[pool main]\nqueues = main\nhandlers = apps\n",
                                  name=f"durations{i}.ini")
                if said is not None:
                    self.refused(["--config", path, "--pool", "main"], path + said)
                    continue
                p = self.tickq("worker", "--check", "--config", path, "--pool", "main", env=ENV)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        path = self.write(HANDLERS + "[pool main]\nqueues = main\njob_timeout = 9 d ;ays\n", name="cut.ini")
        self.refused(["--config", path, "--pool", "main"],
                     f"{path}:11: [pool main]: job_timeout = 9 d is not a duration of more than 0 and at most 7 days "
                     "(e.g. 600, 90s, 10m, 2h): not a decimal number, with a unit ms, s, m or h or without (the value "
                     "was cut at ' ;' on line 11")


class TestPoolCheck(PoolCase):
    def test_a_worker_without_pool_says_it_runs_none_of_the_files_pools(self):
        """A file with pools and a worker without --pool: it serves its
        queues with every handler, and says so (a forgotten --pool would
        otherwise leave the pools' queues without a worker unnoticed)."""
        path = self.write(HANDLERS + "[pool main]\nqueues = main\nhandlers = apps\n\n"
                                     "[pool media]\nqueues = media\nhandlers = media\n")
        p = self.tickq("worker", "--check", "--config", path, env=ENV)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("warn pools: the configuration file defines main, media and this worker runs none of them: it "
                      "serves its queues with every handler (--pool NAME runs one)\n", p.stdout)
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", env=ENV)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertNotIn("warn pools", p.stdout)
        status, w = self.burst("--config", path, "--workers", "1", env=ENV)
        self.assertEqual(status, 0, w.log())
        warned = [x for x in w.log_lines() if isinstance(x, dict) and x.get("pools") == "main, media"]
        self.assertEqual(len(warned), 1, w.log())
        self.assertEqual(warned[0]["level"], "warning")

    def test_check_starts_the_pools_handlers_only(self):
        bad = "[handler broken]\ncommand = /nonexistent/tickq-no-such-handler\ntypes = nothing_here\n\n"
        path = self.write(HANDLERS + bad +
                          "[pool main]\nqueues = main\ntypes = echo, greet\nhandlers = apps\n\n"
                          "[pool media]\nqueues = media\nhandlers = media\n\n"
                          "[pool bad]\nqueues = bad\nhandlers = apps, broken\n")
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", env=ENV)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   pool main: runs echo, greet\n", p.stdout)
        self.assertIn("ok   handler apps: started and announced greet, flaky (max_jobs 1)\n", p.stdout)
        self.assertNotIn("handler media", p.stdout)
        self.assertNotIn("handler broken", p.stdout)
        self.assertTrue(p.stdout.endswith("check passed\n"), p.stdout)

        p = self.tickq("worker", "--check", "--config", path, "--pool", "media", env=ENV)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok   pool media: runs every built-in task, resize\n", p.stdout)
        self.assertIn("ok   handler media: started and announced resize (max_jobs 1)\n", p.stdout)
        self.assertNotIn("handler apps", p.stdout)

        p = self.tickq("worker", "--check", "--config", path, "--pool", "bad", env=ENV)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("ok   pool bad: runs every built-in task, greet, flaky, nothing_here\n", p.stdout)
        self.assertIn("ok   handler apps: started and announced greet, flaky (max_jobs 1)\n", p.stdout)
        self.assertRegex(p.stdout, r"\nFAIL handler broken: handler broken .*exit status 127")
        self.assertNotIn("check passed", p.stdout)

        # Without --pool every handler of the file is checked.
        p = self.tickq("worker", "--check", "--config", path, env=ENV)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        for line in ("ok   handler apps: ", "ok   handler media: ", "FAIL handler broken: "):
            self.assertIn("\n" + line, p.stdout)
        self.assertNotIn("ok   pool", p.stdout)

    def test_check_fails_a_handler_that_does_not_announce_its_types(self):
        path = self.write(f"[handler apps]\ncommand = {PY} -m tickq.handler app_tasks\ntypes = greet, transcode\n\n"
                          "[pool main]\nqueues = main\nhandlers = apps\n")
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", env=ENV)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        line = next((x for x in p.stdout.splitlines() if x.startswith("FAIL handler apps: ")), None)
        self.assertIsNotNone(line, p.stdout)
        self.assertIn("does not announce transcode, which [handler apps] lists", line)
        self.assertIn("it announced: ", line)
        self.assertIn("greet", line.split("it announced: ", 1)[1])
        self.assertNotIn("check passed", p.stdout)

    def test_check_fails_a_module_that_does_not_import(self):
        path = self.write(f"[handler apps]\ncommand = {PY} -m tickq.handler no_such_module_here\ntypes = greet\n\n"
                          "[pool main]\nqueues = main\nhandlers = apps\n")
        p = self.tickq("worker", "--check", "--config", path, "--pool", "main", env=ENV)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        line = next((x for x in p.stdout.splitlines() if x.startswith("FAIL handler apps: ")), None)
        self.assertIsNotNone(line, p.stdout)
        # Its exit status, and the tail of its stderr naming the module.
        self.assertIn("exit status 1", line)
        self.assertIn("no_such_module_here", line)


VERSIONED_CONFIG = """[handler v]
command = {py} -m tickq.handler versioned
types = versioned

[pool load]
queues = load
workers = 2
types = versioned
handlers = v
{extra}"""


class TestWatchUnderLoad(PoolCase):
    """--watch on the module and on the configuration, while jobs flow."""

    FIRST = 200          # enqueued steadily from the start; the module is edited mid-way
    SECOND = 100         # enqueued once every child has been replaced
    AFTER_REFUSAL = 40   # enqueued after a broken configuration was refused

    def handler_starts(self, w):
        """{handler pid: index of its "handler started" line in the log}."""
        starts = {}
        for i, line in enumerate(w.log_lines()):
            if isinstance(line, dict) and line.get("msg") == "handler started":
                starts[line["handler_pid"]] = i
        return starts

    def log_index(self, w, msg):
        """Index of the first log line whose msg is `msg`, or None."""
        for i, line in enumerate(w.log_lines()):
            if isinstance(line, dict) and line.get("msg") == msg:
                return i
        return None

    def completed(self):
        return self.counters("load").get("completed", 0)

    def test_reload_under_load_loses_nothing_and_runs_the_new_code(self):
        app, module, source = self.versioned_app()
        self.assertIn("\nVERSION = 1\n", source)
        config = self.write(VERSIONED_CONFIG.format(py=PY, extra=""))
        w = self.worker("--config", config, "--pool", "load", "--watch", module, "--watch", config,
                        "--heartbeat", "200ms", "--claim-timeout", "2s", env={"PYTHONPATH": app, "TICKQ_CONFIG": None})
        wait_for(lambda: len(self.handler_starts(w)) == 2, 20, what="both children's handlers started")
        old_children = set(w.children())
        self.assertEqual(len(old_children), 2)

        client = tickq.Client(self.url)
        ids = []
        replaced = threading.Event()
        quit = threading.Event()       # the test ended early: enqueue no more
        self.addCleanup(quit.set)
        errors = []

        def produce():
            try:
                for n in range(self.FIRST + self.SECOND):
                    if n == self.FIRST and not replaced.wait(60):
                        raise AssertionError("the children were never replaced")
                    if quit.is_set():
                        return
                    ids.append(client.enqueue("versioned", {"n": n}, queue="load"))
                    time.sleep(0.001)   # a steady flow, faster than two children drain it
            except Exception as e:  # reported by the test thread
                errors.append(e)

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        wait_for(lambda: self.completed() >= 60, 30, what="60 jobs done before the edit")
        # A new size as well as new text: Python's cached bytecode is keyed
        # on the source's mtime in whole seconds and its size.
        with open(module, "w") as f:
            f.write(source.replace("\nVERSION = 1\n", "\nVERSION = 2  # edited under load\n"))
        wait_for(lambda: self.log_index(w, "reload: configuration read again") is not None, 20,
                 what="the reload in the log")
        wait_for(lambda: len(w.children()) == 2 and not (set(w.children()) & old_children), 30,
                 what="both children replaced")
        new_children = set(w.children())
        replaced.set()
        producer.join(120)
        self.assertFalse(producer.is_alive(), "the producer did not finish")
        self.assertEqual(errors, [])
        total = self.FIRST + self.SECOND
        self.assertEqual(len(ids), total)
        wait_for(lambda: self.completed() >= total, 60, what=f"all {total} jobs done (now {self.completed()})")

        reload_at = self.log_index(w, "reload: configuration read again")
        starts = self.handler_starts(w)
        new_handlers = {pid for pid, i in starts.items() if i > reload_at}
        self.assertEqual(len(new_handlers), 2, starts)
        started_lines = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "job started"]
        runs = {}
        for x in started_lines:
            runs[x["job_id"]] = runs.get(x["job_id"], 0) + 1
        versions = {1: 0, 2: 0}
        for n, jid in enumerate(ids):
            job = self.job(jid)
            self.assertEqual((job["state"], job["attempts"]), ("completed", "1"), f"job {n}: {job}")
            self.assertEqual(self.retries(jid), [], f"job {n}")
            self.assertEqual(runs.get(jid), 1, f"job {n} started {runs.get(jid)} times")
            data = self.completed_data(self.result(jid))
            self.assertEqual(data["n"], n)
            # The new code runs exactly in the handlers started after the reload.
            self.assertEqual(data["version"], 2 if data["pid"] in new_handlers else 1, f"job {n}: {data}")
            versions[data["version"]] += 1
            if n >= self.FIRST:
                self.assertEqual(data["version"], 2, f"job {n}, enqueued after the children were replaced")
        self.assertGreaterEqual(versions[1], 60)
        self.assertGreaterEqual(versions[2], self.SECOND)
        counters = self.counters("load")
        self.assertEqual(counters.get("completed"), total, counters)
        self.assertEqual(counters.get("submitted"), total, counters)
        for k in ("failed", "failed_attempts", "dead", "retried", "timeout", "cancelled"):
            self.assertEqual(counters.get(k, 0), 0, counters)
        self.assertEqual(len(runs), total)

        # A configuration that does not read is refused; the old one keeps running.
        with open(config, "w") as f:
            f.write(VERSIONED_CONFIG.format(py=PY, extra="bogus = 1\n"))
        refusal = wait_for(lambda: next((x for x in w.log_lines() if isinstance(x, dict)
                                         and x.get("msg", "").startswith("reload refused")), None), 20,
                           what="the refusal in the log")
        self.assertEqual(refusal["msg"], "reload refused: the configuration does not read; the old one keeps running")
        self.assertIn("[pool load]: unknown key 'bogus'", refusal["error"])
        self.assertIn(config, refusal["error"])
        later = [client.enqueue("versioned", {"n": total + k}, queue="load") for k in range(self.AFTER_REFUSAL)]
        for jid in later:
            self.wait_state(jid, ("completed", "failed", "dead"), 30)
            data = self.completed_data(self.result(jid))
            self.assertEqual(data["version"], 2)
            self.assertIn(data["pid"], new_handlers)
            self.assertEqual(self.job(jid)["attempts"], "1")
        # Refused: nothing was replaced, and no second reload was logged.
        self.assertEqual(set(w.children()), new_children)
        self.assertEqual(sum(1 for x in w.log_lines() if isinstance(x, dict)
                             and x.get("msg") == "reload: configuration read again"), 1)
        self.assertEqual(self.counters("load").get("completed"), total + self.AFTER_REFUSAL)
        self.assertEqual(w.stop(), 0, w.log()[-3000:])


class TestWatchFolder(PoolCase):
    def reloads(self, w):
        return [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "reload: configuration read again"]

    def test_a_watched_folder_reloads_when_a_module_in_it_changes(self):
        """--watch on a folder (the users' app, not one of its files): a
        module edited in it reloads, once, and the new code runs in a new
        handler process."""
        app, module, source = self.versioned_app()
        config = self.write(VERSIONED_CONFIG.format(py=PY, extra=""))
        env = {"PYTHONPATH": app, "TICKQ_CONFIG": None, "PYTHONDONTWRITEBYTECODE": None}
        w = self.worker("--config", config, "--pool", "load", "--workers", "1", "--watch", app, env=env)
        wait_for(lambda: '"msg":"handler started"' in w.log(), 20, what="the handler started")
        client = tickq.Client(self.url)
        before = client.wait(client.enqueue("versioned", {"n": 1}, queue="load"), timeout=30)
        self.assertEqual(before["version"], 1)
        old = set(w.children())
        self.assertEqual(self.reloads(w), [])

        # A new size as well as new text: Python's cached bytecode (written
        # in the watched folder's __pycache__) is keyed on the source's mtime
        # in whole seconds and its size.
        with open(module, "w") as f:
            f.write(source.replace("\nVERSION = 1\n", "\nVERSION = 2  # edited in a watched folder\n"))
        reload = wait_for(lambda: self.reloads(w), 20, what="the reload in the log")
        self.assertEqual(reload[0]["changed"], module)
        wait_for(lambda: len(w.children()) == 1 and not (set(w.children()) & old), 20, what="the child replaced")
        for n in (2, 3):
            after = client.wait(client.enqueue("versioned", {"n": n}, queue="load"), timeout=30)
            self.assertEqual((after["version"], after["n"]), (2, n))
            self.assertNotEqual(after["pid"], before["pid"])
        self.assertEqual(len(self.reloads(w)), 1)
        self.assertEqual(w.stop(), 0, w.log()[-3000:])


class TestWatchConfig(PoolCase):
    def test_a_reloaded_pool_runs_its_new_types_and_handlers(self):
        pool = "[pool main]\nqueues = main\nworkers = 1\ntypes = {types}\nhandlers = {handlers}\n"
        config = self.write(HANDLERS + pool.format(types="echo, greet", handlers="apps"))
        w = self.worker("--config", config, "--pool", "main", "--watch", config, env=ENV)
        wait_for(lambda: len(w.children()) == 1, 15, what="the worker child")
        old = set(w.children())
        noop = self.enqueue_on("main", "noop")
        self.final(noop)
        self.assertEqual(self.permanent_error(self.result(noop), noop),
                         "task type noop is not served by pool main (serves: echo, greet)")

        with open(config, "w") as f:
            f.write(HANDLERS + pool.format(types="echo, greet, noop, resize", handlers="apps, media"))
        wait_for(lambda: "reload: configuration read again" in w.log(), 20, what="the reload in the log")
        wait_for(lambda: len(w.children()) == 1 and not (set(w.children()) & old), 20, what="the child replaced")
        noop = self.enqueue_on("main", "noop")
        self.final(noop)
        self.completed_data(self.result(noop))
        # resize is a type of the handler the reload added to the pool
        # (submitted past the producers' type check: see below).
        resize = self.submit("resize", {"width": 3}, queue="main")
        self.final(resize)
        self.assertEqual(self.completed_data(self.result(resize))["resized"], 3)
        # A worker announces the handler types it serves, so that producers
        # accept them: after a reload too.
        wait_for(lambda: self.r.sismember("tickq:types", "resize"), 5,
                 what="the reloaded pool's new handler type announced in tickq:types")
