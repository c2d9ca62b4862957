"""test_config_file.py — one configuration file for every command:
`--config FILE` (else $TICKQ_CONFIG). Its readers take their own sections
([scheduler], [schedule NAME] for the scheduler), skip the other known
kinds ([handler NAME], [pool NAME]) and refuse an unknown kind, naming the
section, the file and the line; a command that reads no section checks a
named file the same way. `worker --schedules FILE` is a deprecated alias of
--config that still works and says so in the log."""
import json
import os
import shutil
import signal
import tempfile
import time

from harness import ROOT, TickqTestCase, tickq, wait_for

SCHEDULE = ("[scheduler]\nlease_ttl = 1s\n\n"
            "[schedule minutely]\ncron = * * * * *\ntask = echo\nargs = {\"from\": \"config\"}\nqueue = sched\n")

# Sections another reader owns, before, between and after the schedules.
# A handler that starts and announces its type (tests/integration/handlers).
WIRE = "/usr/bin/python3 " + os.path.join(ROOT, "tests", "integration", "handlers", "wire_handler.py")
OTHERS = (f"[handler resize]\ncommand = {WIRE} resize_image\ntypes = resize_image\ncancel_grace = 3s\n\n"
          "[pool gpu]\nworkers = 2\nqueues = render\n\n")

UNKNOWN = "[weird thing]\nx = 1\n"


class ConfigCase(TickqTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-config-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write(self, text, name="tickq.ini"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def jobs(self):
        return sorted(k[len("tickq:job:"):] for k in self.r.keys("tickq:job:*"))


class TestConfigFlagAndEnvironment(ConfigCase):
    def test_worker_scheduler_fires_the_schedules_of_config(self):
        path = self.write(OTHERS + SCHEDULE)
        self.r.hset("tickq:scheduler:last", "minutely", str(int(time.time()) - 600))
        w = self.worker("--queues", "sched", "--scheduler", "--config", path, "--workers", "1")
        jid = wait_for(lambda: self.jobs(), timeout=10, what="the fired job")[0]
        self.wait_state(jid, "completed")
        self.assertEqual(self.result(jid)["data"]["from"], "config")
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(15), 0)
        self.assertNotIn("--schedules", w.log())

    def test_worker_check_and_schedule_commands_take_config(self):
        path = self.write(SCHEDULE + OTHERS)
        p = self.tickq("worker", "--check", "--scheduler", "--config", path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"ok   schedules: 1 in {path}", p.stdout)
        p = tickq("schedule", "list", "--config", path, "-n", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("minutely: * * * * * (UTC) -> echo on sched/normal\n"), p.stdout)
        # As a flag shared by every command, it may come before the command.
        p = self.tickq("--config", path, "worker", "--check", "--scheduler")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"ok   schedules: 1 in {path}", p.stdout)

    def test_tickq_config_names_the_file(self):
        path = self.write(SCHEDULE)
        old = self.write("[schedule other]\ncron = 0 0 * * *\ntask = noop\n", name="old.ini")
        env = {"TICKQ_CONFIG": path, "TICKQ_SCHEDULES": old}   # TICKQ_CONFIG wins over its old name
        p = tickq("schedule", "list", "-n", "1", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("minutely: "), p.stdout)
        p = self.tickq("worker", "--check", "--scheduler", env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"ok   schedules: 1 in {path}", p.stdout)
        # The flag wins over the environment.
        p = tickq("schedule", "list", "--config", old, "-n", "1", env=env)
        self.assertTrue(p.stdout.startswith("other: "), p.stdout)
        # Without it, the old name still works.
        p = tickq("schedule", "list", "-n", "1", env={"TICKQ_CONFIG": None, "TICKQ_SCHEDULES": old})
        self.assertTrue(p.stdout.startswith("other: "), p.stdout)

    def test_commands_that_read_no_section_check_a_named_file(self):
        good = self.write(OTHERS + SCHEDULE)
        for args in (("tasks",), ("stats",), ("options", "greeks", "--type", "call", "--spot", "100", "--strike",
                                               "100", "--years", "1", "--rate", "0.05", "--vol", "0.2")):
            p = self.tickq(*args, "--config", good)
            self.assertEqual(p.returncode, 0, (args, p.stderr))
            p = self.tickq(*args, env={"TICKQ_CONFIG": good})
            self.assertEqual(p.returncode, 0, (args, p.stderr))
        missing = os.path.join(self.tmp, "missing.ini")
        p = self.tickq("stats", "--config", missing)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f"cannot read {missing}", p.stderr)
        p = self.tickq("tasks", env={"TICKQ_CONFIG": missing})
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f"cannot read {missing}", p.stderr)


class TestSectionKinds(ConfigCase):
    def test_an_unknown_section_is_refused_naming_it_the_file_and_the_line(self):
        path = self.write(SCHEDULE + "\n" + UNKNOWN)   # its header is on line 10
        want = f"{path}:10: unknown section [weird thing]"
        runs = [
            tickq("schedule", "list", "--config", path),
            tickq("schedule", "next", "0 9 * * *", "--config", path),
            self.tickq("scheduler", "--config", path),
            self.tickq("worker", "--check", "--scheduler", "--config", path),
            self.tickq("worker", "--config", path),
            self.tickq("enqueue", "noop", "--config", path),
            self.tickq("stats", env={"TICKQ_CONFIG": path}),
            tickq("tasks", "--config", path),
            tickq("data", "list", "--config", path),
        ]
        for p in runs:
            self.assertEqual(p.returncode, 78, (p.args, p.stdout, p.stderr))
            self.assertIn(want, p.stdout + p.stderr, p.args)
        self.assertEqual(self.r.keys("tickq:queue:*"), [])   # enqueue did nothing

    def test_the_scheduler_reads_handler_and_pool_sections_too(self):
        """A schedule may fire a handler type of the same file, so the
        scheduler's readers read [handler] and [pool] sections (and refuse a
        bad one, as the worker does) beside the schedules."""
        fires_handler = SCHEDULE.replace("task = echo\nargs = {\"from\": \"config\"}\n", "task = resize_image\n")
        p = tickq("schedule", "list", "--config", self.write(OTHERS + fires_handler), "-n", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([x.split(":")[0] for x in p.stdout.splitlines() if not x.startswith(" ")], ["minutely"])
        self.assertIn("-> resize_image on sched/normal", p.stdout)
        path = self.write(OTHERS + SCHEDULE + "\n[handler thumbnail]\nanything = goes here\n", name="bad.ini")
        p = tickq("schedule", "list", "--config", path, "-n", "1")
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f"{path}:20: [handler thumbnail]: unknown key 'anything'", p.stderr)
        # A section of another kind ends the schedule before it: the same
        # schedule after it is a second definition, not more of the first.
        twice = self.write("[schedule a]\ncron = * * * * *\ntask = echo\n[pool p]\nqueues = q\n"
                           "[schedule a]\nqueue = other\n", name="twice.ini")
        p = tickq("schedule", "list", "--config", twice)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn(f"{twice}:6: [schedule a] appears twice (first at line 1)", p.stderr)
        # Only schedules count: a file of other sections has none.
        p = tickq("schedule", "list", "--config", self.write(OTHERS, name="none.ini"))
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("no schedules", p.stderr)


class TestSchedulesAlias(ConfigCase):
    def deprecation(self, lines):
        return [x for x in lines if isinstance(x, dict) and "--schedules is deprecated" in x.get("msg", "")]

    def test_worker_schedules_still_works_and_warns(self):
        path = self.write(SCHEDULE)
        p = self.tickq("worker", "--check", "--scheduler", "--schedules", path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn(f"ok   schedules: 1 in {path}", p.stdout)
        got = self.deprecation(json.loads(x) for x in p.stderr.splitlines() if x.startswith("{"))
        self.assertEqual(len(got), 1, p.stderr)
        self.assertEqual(got[0]["level"], "warning")
        self.assertIn("use --config FILE", got[0]["msg"])
        self.assertEqual(got[0]["config"], path)

        self.r.hset("tickq:scheduler:last", "minutely", str(int(time.time()) - 600))
        w = self.worker("--queues", "sched", "--scheduler", "--schedules", path, "--workers", "1")
        jid = wait_for(lambda: self.jobs(), timeout=10, what="the fired job")[0]
        self.wait_state(jid, "completed")
        got = self.deprecation(w.log_lines())
        self.assertEqual([(x["level"], x["config"]) for x in got], [("warning", path)])
        w.signal(signal.SIGTERM)
        self.assertEqual(w.wait(15), 0)
