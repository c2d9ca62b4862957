"""test_cli.py — the command line: help, usage errors, exit statuses,
configuration and connectivity checks, and bad input refused at the CLI."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

from harness import ROOT, TICKQ, TickqTestCase, fill_until_oom, free_port, tickq, wait_for

COMMANDS = ["worker", "enqueue", "result", "job", "cancel", "stats", "dlq", "rejected", "tasks", "jobs", "retry",
            "purge", "pause", "resume", "limit"]


class TestUsage(TickqTestCase):
    def test_shared_flags_may_come_before_the_command(self):
        jid = self.enqueue("echo", {})
        p = tickq("--redis-url", self.url, "--group=workers", "stats", "--json", env={"REDIS_URL": None})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["counters"]["backtest"]["submitted"], 1)
        p = tickq("--prefix", "tickq", "--redis-url", self.url, "job", jid, env={"REDIS_URL": None})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(jid, p.stdout)
        self.assertEqual(tickq("--redis-url", self.url, "--bogus", "stats").returncode, 64)
        self.assertEqual(tickq("--redis-url").returncode, 64)

    def test_help_on_every_command(self):
        for cmd in COMMANDS:
            p = tickq(cmd, "--help")
            self.assertEqual(p.returncode, 0, cmd)
            self.assertIn("usage: tickq " + cmd, p.stdout, cmd)
        p = tickq("--help")
        self.assertEqual(p.returncode, 0)
        for cmd in COMMANDS:
            self.assertIn(cmd, p.stdout)

    def test_wrong_flag_prints_usage_and_exits_64(self):
        for cmd in ["worker", "enqueue", "result", "job", "cancel", "stats", "dlq", "rejected", "jobs", "retry",
                    "purge", "pause", "resume", "limit"]:
            p = self.tickq(cmd, "--no-such-flag")
            self.assertEqual(p.returncode, 64, cmd)
            self.assertIn("usage: tickq " + cmd, p.stderr, cmd)
        self.assertEqual(tickq("bogus").returncode, 64)
        self.assertEqual(tickq().returncode, 64)
        self.assertEqual(self.tickq("worker", "--workers", "0").returncode, 64)
        self.assertEqual(self.tickq("worker", "--grace", "soon").returncode, 64)
        self.assertEqual(self.tickq("worker", "--log-format", "xml").returncode, 64)
        self.assertEqual(self.tickq("dlq", "explode").returncode, 64)
        self.assertEqual(self.tickq("tasks", "extra").returncode, 64)

    def test_a_wrong_flag_is_named_with_the_closest_one_and_the_synopsis(self):
        """The error is the first line and says what was wrong; the
        synopsis and where the options are follow, not the whole help."""
        cases = [
            (("enqueue", "noop", "--prioirty", "high"), "unknown option '--prioirty' (did you mean --priority?)"),
            (("enqueue", "noop", "--priority"), "--priority needs a value"),
            (("enqueue", "noop", "--json=yes"), "--json takes no value (got 'yes')"),
            (("enqueue", "noop", "--re", "x"), "option '--re' is ambiguous: --replace, --redis-url"),
            (("enqueue", "noop", "-x"), "unknown option '-x'"),
            (("enqueue", "noop", "--zzzzzz"), "unknown option '--zzzzzz'"),
            (("worker", "--wrokers", "2"), "unknown option '--wrokers' (did you mean --workers?)"),
            (("schedule", "next", "* * * * *", "-n"), "-n needs a value"),
            (("schedule", "next", "* * * * *", "--tzz", "UTC"), "unknown option '--tzz' (did you mean --tz?)"),
            # a bundle of short flags after a long one: the bundle is named, not the flag before it
            (("jobs", "--limit=5", "-json"), "unknown option '-j' (in '-json': did you mean --json?)"),
            (("jobs", "--json", "-state", "failed"), "unknown option '-s' (in '-state': did you mean --state?)"),
            (("schedule", "--from=2024-01-01", "-xn", "3"), "unknown option '-x'"),
        ]
        for args, first_line in cases:
            p = self.tickq(*args)
            self.assertEqual(p.returncode, 64, args)
            lines = p.stderr.splitlines()
            self.assertEqual(lines[0], "tickq: " + first_line, args)
            self.assertTrue(lines[1].startswith("usage: tickq " + args[0]), (args, lines))
            self.assertEqual(lines[-1], f"Run 'tickq {args[0]} --help' for every option.", args)
            self.assertNotIn("Exit status", p.stderr, args)   # the synopsis, not the whole help
        p = tickq("enqeue")
        self.assertEqual(p.returncode, 64)
        self.assertEqual(p.stderr.splitlines()[0], "tickq: unknown command 'enqeue' (did you mean enqueue?)")
        p = tickq("--bogus", "stats")
        self.assertEqual(p.returncode, 64)
        self.assertIn("unknown option '--bogus' before the command", p.stderr)
        p = tickq("--redis-url")
        self.assertEqual((p.returncode, p.stderr.splitlines()[0]),
                         (64, "tickq: --redis-url needs a value, and a command after it: "
                              "tickq --redis-url VALUE COMMAND ..."))
        for args in (("--prefix", "x"), ("--redis-url=redis://h",)):
            p = tickq(*args)
            flag = args[0].split("=")[0]
            self.assertEqual((p.returncode, p.stderr.splitlines()[0]),
                             (64, f"tickq: a command must follow {flag} VALUE: tickq {flag} VALUE COMMAND ..."))
        self.assertEqual(tickq("versoin").stderr.splitlines()[0],
                         "tickq: unknown command 'versoin' (did you mean version?)")

    def test_version_and_tasks(self):
        p = tickq("version")
        self.assertEqual(p.returncode, 0)
        self.assertIn("protocol 1", p.stdout)
        p = tickq("tasks")
        for name in ["noop", "echo", "sleep", "spin", "fail"]:
            self.assertIn(name, p.stdout)


class TestConnectivity(TickqTestCase):
    def test_missing_redis_url_exits_78(self):
        p = tickq("worker", env={"REDIS_URL": None})
        self.assertEqual(p.returncode, 78)
        self.assertIn("REDIS_URL is not set", p.stderr)
        self.assertIn("export REDIS_URL=redis://", p.stderr)
        p = tickq("enqueue", "noop", env={"REDIS_URL": None})
        self.assertEqual(p.returncode, 78)

    def test_bad_urls_exit_78(self):
        # rediss:// is TLS now (test_redis_tls.py); its bad settings are what exits 78.
        p = tickq("worker", url="rediss://127.0.0.1:6380", env={"TICKQ_REDIS_TLS_VERIFY": "maybe"})
        self.assertEqual(p.returncode, 78)
        self.assertIn("TICKQ_REDIS_TLS_VERIFY='maybe' is not 0 or 1", p.stderr)
        p = tickq("worker", url="rediss://127.0.0.1:6380?verify=0")
        self.assertEqual(p.returncode, 78)
        self.assertIn("TICKQ_REDIS_TLS_VERIFY", p.stderr)
        p = tickq("worker", url="http://nope")
        self.assertEqual(p.returncode, 78)
        self.assertIn("unsupported Redis URL", p.stderr)
        p = tickq("stats", url="redis://127.0.0.1:notaport")
        self.assertEqual(p.returncode, 78)

    def test_redis_down_exits_69(self):
        port = free_port()
        p = tickq("worker", url=f"redis://127.0.0.1:{port}/0", timeout=30)
        self.assertEqual(p.returncode, 69)
        self.assertIn("cannot connect to Redis", p.stderr)
        p = tickq("worker", url="unix:///nonexistent/redis.sock")
        self.assertEqual(p.returncode, 69)
        p = tickq("enqueue", "noop", url=f"redis://127.0.0.1:{port}")
        self.assertEqual(p.returncode, 69)

    def test_check_reports_and_processes_nothing(self):
        jid = self.enqueue("echo", {"a": 1})
        p = self.tickq("worker", "--check")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for word in ["config:", "redis:", "protocol:", "task types:", "check passed"]:
            self.assertIn(word, p.stdout)
        self.assertIn("backtest_high,backtest_normal,backtest_low", p.stdout)
        # The documented defaults are the ones in effect.
        self.assertIn(f"; {os.cpu_count()} workers; group workers; prefix tickq", p.stdout)
        self.assertIn("ok   limits: grace 30s; result ttl 86400s; retry base 2s, max 3600s; claim timeout 30s; "
                      "heartbeat 5s; stats every 10s; dead-letter cap 100000; payload max 1048576 bytes; "
                      "job timeout 3600s for jobs without one; job history kept 90 days\n", p.stdout)
        p = self.tickq("worker", "--check", "--grace", "5", "--result-ttl", "60", "--dlq-cap", "10")
        self.assertIn("ok   limits: grace 5s; result ttl 60s;", p.stdout)
        self.assertIn("dead-letter cap 10;", p.stdout)
        p = self.tickq("worker", "--check", "--no-history")
        self.assertIn("; job history off\n", p.stdout)
        self.assertEqual(self.ready(), 1)
        self.assertIsNone(self.result(jid))

    def test_check_opens_the_database_as_the_worker_would(self):
        # It creates and migrates TICKQ_DB (and writes nothing to Redis);
        # a database folder that does not exist is exit 73.
        with tempfile.TemporaryDirectory() as d:
            db = os.path.join(d, "fresh.db")
            p = self.tickq("worker", "--check", env={"TICKQ_DB": db, "DATABASE_URL": None})
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertTrue(os.path.exists(db))
            self.assertRegex(p.stdout, r"ok   database: .*fresh\.db \(schema version [1-9]")
            p = self.tickq("worker", "--check", env={"TICKQ_DB": os.path.join(d, "missing", "t.db"),
                                                     "DATABASE_URL": None})
            self.assertEqual(p.returncode, 73, p.stdout + p.stderr)
            self.assertIn("FAIL database", p.stdout)
        self.assertEqual(self.r.dbsize(), 0)
        with open(os.path.join(ROOT, "docs", "cli.md")) as f:
            doc = f.read()
        check = doc[doc.index("- `--check`"):doc.index("- `--grace S`")]
        self.assertIn("creating and migrating it", check)
        self.assertRegex(check, r"exit 0, 69, 73 or 78")
        self.assertNotIn("writes nothing.", check)

    def test_check_failures(self):
        p = tickq("worker", "--check", env={"REDIS_URL": None})
        self.assertEqual(p.returncode, 78)
        self.assertIn("FAIL config", p.stdout)
        p = tickq("worker", "--check", url=f"redis://127.0.0.1:{free_port()}")
        self.assertEqual(p.returncode, 69)
        self.assertIn("FAIL redis", p.stdout)
        p = self.tickq("worker", "--check", "--queues", "bad name")
        self.assertEqual(p.returncode, 64)
        self.assertIn("--queues: invalid queue name 'bad name'", p.stderr)


class TestOutOfMemory(TickqTestCase):
    """A Redis at maxmemory (noeviction) refuses writes with OOM: every
    command that writes says so, with the memory figures, and exits 75
    (EX_TEMPFAIL: try again later), not 69 (unavailable)."""

    MEMORY = (r"used memory [0-9.]+[BKMG], maxmemory [0-9.]+[BKMG], maxmemory-policy noeviction")

    def tearDown(self):
        self.r.config_set("maxmemory", 0)
        super().tearDown()

    def test_writing_commands_exit_75_naming_the_memory(self):
        queued = self.enqueue("echo", {"a": 1})
        dead = self.enqueue("fail", {"message": "x"}, "--max-retries", "0")
        status, _ = self.burst("--workers", "1", "--queues", "backtest_normal")
        self.assertEqual(status, 0)
        self.assertEqual(self.state(dead), "dead")
        queued = self.enqueue("echo", {"a": 2}, "--delay", "3600")
        fill_until_oom(self.r)
        refused = re.compile(r"^tickq: (cannot enqueue|cannot cancel|cannot retry|)[: ]*Redis is out of memory and "
                             r"refuses writes \(" + self.MEMORY + r"\): [A-Za-z_0-9: ]+ was not done; free memory "
                             r"in Redis or raise its maxmemory, then try again \(Redis said: OOM command not allowed "
                             r"when used memory > 'maxmemory'\.\)")
        for args in (("enqueue", "echo", '{"a": 3}'), ("cancel", queued), ("dlq", "retry", dead),
                     ("worker", "--burst", "--workers", "1")):
            p = self.tickq(*args, timeout=30)
            self.assertEqual(p.returncode, 75, (args, p.stderr))
            self.assertRegex(p.stderr, refused, args)
        self.assertEqual(self.state(queued), "queued")
        self.assertEqual(self.state(dead), "dead")
        # A Redis user that may not run INFO gets maxmemory from CONFIG GET;
        # one that may run neither is told the figures are unknown.
        self.r.acl_setuser("noinfo", enabled=True, passwords=["+pw"], keys=["*"], channels=["*"],
                           commands=["+@all", "-info"])
        self.r.acl_setuser("neither", enabled=True, passwords=["+pw"], keys=["*"], channels=["*"],
                           commands=["+@all", "-info", "-config"])
        for user, figures in (("noinfo", r"\(maxmemory [0-9]+ bytes, maxmemory-policy noeviction; used memory "
                                         r"unknown \(INFO is not allowed for this Redis user\)\)"),
                              ("neither", r"\(memory figures unknown: INFO and CONFIG GET are not allowed for this "
                                          r"Redis user\)")):
            p = self.tickq("enqueue", "echo", '{"a": 4}', url=f"unix://{user}:pw@{self.server.sock}")
            self.assertEqual(p.returncode, 75, p.stderr)
            self.assertRegex(p.stderr, r"cannot enqueue: Redis is out of memory and refuses writes " + figures)
        # Memory freed: the same commands work again.
        self.r.config_set("maxmemory", 0)
        self.enqueue("echo", {"a": 5})
        self.assertEqual(self.tickq("cancel", queued).returncode, 0)
        self.assertEqual(self.tickq("dlq", "retry", dead).returncode, 0)


class TestUrlForms(TickqTestCase):
    """Real servers behind every URL form: TCP, db index, password, ACL user."""
    tcp = True
    redis_args = ("--requirepass", "s3cr@t")

    def setUp(self):
        self.r = self.server.client(password="s3cr@t")
        self.r.flushall()
        self.workers = []
        self.r.acl_setuser("app", enabled=True, passwords=["+apppw"], commands=["+@all"], keys=["*"],
                           channels=["*"])

    def roundtrip(self, url):
        p = tickq("enqueue", "echo", '{"via": "url"}', url=url)
        self.assertEqual(p.returncode, 0, p.stderr)
        jid = p.stdout.strip()
        w = subprocess.run([TICKQ, "worker", "--burst", "--workers", "1"],
                           env={**os.environ, "REDIS_URL": url}, capture_output=True, timeout=30)
        self.assertEqual(w.returncode, 0, w.stderr)
        p = tickq("result", jid, url=url)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["data"]["via"], "url")

    def test_tcp_password_and_db(self):
        self.roundtrip(f"redis://:s3cr%40t@127.0.0.1:{self.server.port}/3")
        self.assertEqual(self.server.client(password="s3cr@t", db=3).dbsize() > 0, True)
        self.assertEqual(self.r.dbsize(), 0)

    def test_acl_user(self):
        self.roundtrip(f"redis://app:apppw@127.0.0.1:{self.server.port}/0")

    def test_unix_socket_with_password_query(self):
        self.roundtrip(f"unix://{self.server.sock}?password=s3cr%40t&db=2")

    def test_wrong_password_exits_69(self):
        p = tickq("worker", url=f"redis://:wrong@127.0.0.1:{self.server.port}/0")
        self.assertEqual(p.returncode, 69)
        self.assertIn("refused the credentials", p.stderr)
        self.assertNotIn("wrong", p.stderr.replace("refused", ""))


class TestBadInputAtCli(TickqTestCase):
    def refused(self, *args, needle, stdin=None):
        p = self.tickq("enqueue", *args, input=stdin)
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn(needle, p.stderr)

    def test_a_priority_level_where_a_logical_queue_belongs_names_the_queue(self):
        # The words fit every command and the HTTP API: none names a flag.
        for args in (["jobs", "--queue", "fq_high"], ["purge", "fq_high", "--yes"], ["pause", "fq_high"]):
            p = self.tickq(*args)
            self.assertEqual(p.returncode, 64, args)
            self.assertIn("invalid queue name 'fq_high': a queue name may not end in _high, _normal or _low (those "
                          "are its priority levels: queue 'fq' with priority high)", p.stderr)
            self.assertNotIn("--priority", p.stderr)
        for args in (["jobs", "--queue", "x_low_high"], ["purge", "x_low_high"]):
            p = self.tickq(*args)
            self.assertEqual(p.returncode, 64, args)
            self.assertIn("invalid queue name 'x_low_high': a queue name may not end in _high, _normal or _low "
                          "(those are priority levels)", p.stderr)
        # Other bad names keep their reason; good ones work.
        self.assertIn("invalid queue name 'a b'", self.tickq("purge", "a b").stderr)
        self.assertIn("invalid queue name 'a b'", self.tickq("jobs", "--queue", "a b").stderr)
        self.assertEqual(self.tickq("purge", "fq", "--yes").returncode, 0)
        self.assertEqual(self.tickq("jobs", "--queue", "fq").returncode, 0)

    def test_a_negative_limit_is_told_as_a_limit(self):
        # getopt would take "-1" for flags ("unknown option '-1'").
        for n in ("-1", "-0.5", "-7"):
            p = self.tickq("limit", "sleep", n)
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn(f"tickq: the limit '{n}' is not a whole number from 0 to 1000000", p.stderr)
            self.assertNotIn("unknown option", p.stderr)
        for args in (["--prefix", "tickq", "sleep", "-1"], ["sleep", "-1", "--prefix=tickq"], ["sleep", "--", "-1"]):
            p = self.tickq("limit", *args)
            self.assertEqual(p.returncode, 64, (args, p.stderr))
            self.assertIn("the limit '-1' is not a whole number", p.stderr)
        self.assertIn("--json is for the list", self.tickq("limit", "sleep", "3", "--json").stderr)
        self.assertIn("tickq: unknown option '-x'", self.tickq("limit", "sleep", "-x").stderr)
        self.assertEqual(self.tickq("limit", "--json").stdout, "")  # nothing was set
        p = self.tickq("limit", "sleep", "3")
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_each_bad_input_exits_65_and_enqueues_nothing(self):
        self.refused("echo", '{"a": ', needle="not valid JSON")
        self.refused("echo", "[1, 2]", needle="must be a JSON object")
        self.refused("echo", '"text"', needle="must be a JSON object")
        self.refused(needle="missing task type")
        self.refused("no_such_task", "{}", needle="unknown task type 'no_such_task'")
        self.refused("echo", "{}", "--timeout", "-5", needle="invalid --timeout '-5': it is negative")
        self.refused("echo", "{}", "--timeout", "0", needle="invalid timeout")
        self.refused("echo", "{}", "--max-retries", "-1", needle="max-retries")
        self.refused("echo", "{}", "--priority", "urgent", needle="priority")
        self.refused("echo", "{}", "--queue", "a b", needle="invalid queue name")
        big = '{"blob": "' + "x" * (1024 * 1024) + '"}'
        self.refused("echo", "-", needle="over the payload limit", stdin=big)
        self.assertEqual(self.r.keys("tickq:job:*"), [])
        self.assertEqual(self.r.keys("tickq:queue:*"), [])

    def test_args_from_stdin(self):
        p = self.tickq("enqueue", "echo", "-", input='{"from": "stdin"}')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(self.job(p.stdout.strip())["args"]), {"from": "stdin"})

    def test_arg_file_sets_a_field_from_a_file(self):
        with tempfile.TemporaryDirectory() as d:
            code = os.path.join(d, "s.lua")
            text = 'function f(df)\n  return {} -- "quotes", \\ and caf\u00e9\nend\n'
            with open(code, "w") as f:
                f.write(text)
            p = self.tickq("enqueue", "echo", '{"symbols": ["A"]}', "--arg-file", f"strategy_code={code}",
                           "--arg-file", f"other={code}")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(self.job(p.stdout.strip())["args"]),
                             {"symbols": ["A"], "strategy_code": text, "other": text})
            p = self.tickq("enqueue", "echo", "--arg-file", f"code={code}")  # no ARGS_JSON: {}
            self.assertEqual(json.loads(self.job(p.stdout.strip())["args"]), {"code": text})
            bad = os.path.join(d, "bad.lua")
            with open(bad, "wb") as f:
                f.write(b"\xff\xfe")
            self.refused("echo", "--arg-file", f"code={bad}", needle="is not UTF-8 text")
            self.refused("echo", "--arg-file", f"code={d}/missing.lua", needle="cannot read")
            self.refused("echo", "--arg-file", f"code={d}", needle="Is a directory")
            self.refused("echo", "[1]", "--arg-file", f"code={code}", needle="must be a JSON object")
            p = self.tickq("enqueue", "echo", "--arg-file", "code")
            self.assertEqual(p.returncode, 64)
            self.assertIn("KEY=PATH", p.stderr)


class TestResultCommand(TickqTestCase):
    def test_waiting_jobs_are_named_delayed_or_deferred(self):
        self.worker("--workers", "1", "--queues", "rq", "--grace", "1")
        self.enqueue("sleep", {"ms": 60000}, "--queue", "rq", "--id", "r0")
        self.wait_running("r0")
        self.enqueue("sleep", {"ms": 1}, "--queue", "rq", "--id", "r1", "--delay", "3600")
        p = self.tickq("result", "r1")
        self.assertEqual(p.returncode, 3)
        due = self.job("r1")["scheduled_for"]
        self.assertRegex(p.stderr, rf"tickq: job r1 is delayed on rq_normal until {re.escape(due)} "
                                   r"\(in (3600|359\d) s\)\n")
        self.enqueue("sleep", {"ms": 1}, "--queue", "rq", "--id", "r2", "--after", "r0")
        p = self.tickq("result", "r2")
        self.assertEqual(p.returncode, 3)
        self.assertIn("tickq: job r2 is deferred on rq_normal: it waits for r0 to complete\n", p.stderr)
        self.enqueue("sleep", {"ms": 1}, "--queue", "rq", "--id", "r3", "--after", "r0,r1", "--after-any")
        self.assertIn("job r3 is deferred on rq_normal: it waits for one of r0, r1 to complete\n",
                      self.tickq("result", "r3").stderr)
        self.enqueue("sleep", {"ms": 1}, "--queue", "rq", "--id", "r4", "--after", "r0", "--delay", "600")
        not_before = json.loads(self.tickq("job", "r4").stdout)["not_before"]
        self.assertIn(f"job r4 is deferred on rq_normal: it waits for r0 to complete, then for its delay until "
                      f"{not_before}\n", self.tickq("result", "r4").stderr)
        # A delayed job on a queue nobody serves says both.
        self.enqueue("sleep", {"ms": 1}, "--queue", "lonely", "--id", "r5", "--delay", "60")
        self.assertRegex(self.tickq("result", "r5").stderr,
                         r"job r5 is delayed on lonely_normal until \S+ \(in (60|59) s\); no live worker serves "
                         r"lonely_normal\n")

    def test_an_interrupted_wait_exits_130_or_143(self):
        # As load-test: 128 + the signal, not 3 (which says "not finished in time").
        for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            with self.subTest(sig=sig.name):
                proc = subprocess.Popen([TICKQ, "result", "r9", "--wait", "60"],
                                        env=dict(os.environ, REDIS_URL=self.url), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
                self.addCleanup(lambda proc=proc: proc.poll() is None and proc.kill())
                wait_for(lambda: any(c.get("cmd") == "get" for c in self.r.client_list()), 10,
                         what="result polling for r9")
                t0 = time.time()
                proc.send_signal(sig)
                out, err = proc.communicate(timeout=30)
                self.assertEqual(proc.returncode, status, err)
                self.assertLess(time.time() - t0, 5)
                self.assertEqual(out, "")
                self.assertIn("tickq: interrupted while waiting for job r9", err)


    def test_exit_codes(self):
        ok = self.enqueue("echo", {"x": 1})
        bad = self.enqueue("fail", {"permanent": True})
        slow = self.enqueue("sleep", {"ms": 3000}, "--priority", "low")
        self.assertEqual(self.tickq("result", "missing-id").returncode, 3)
        w = self.worker("--workers", "1")
        p = self.tickq("result", ok, "--wait", "10")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["status"], "completed")
        p = self.tickq("result", bad, "--wait", "10")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(json.loads(p.stdout)["status"], "error")
        self.wait_running(slow)
        t0 = time.time()
        p = self.tickq("result", slow, "--wait", "0.3")
        self.assertEqual(p.returncode, 3)
        self.assertLess(time.time() - t0, 2.5)
        self.assertEqual(json.loads(p.stdout)["status"], "running")
        w.stop()
