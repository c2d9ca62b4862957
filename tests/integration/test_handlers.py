"""test_handlers.py — users' own task code as handlers (issue 14,
docs/handlers.md): real handler processes speaking the wire format (fd 3
requests, fd 4 messages, JSON lines) from tests/integration/handlers/: a
Python one with a behaviour per job (wire_handler.py), a Node one and a
shell + jq one. Results, retries, permanent failures, crashes (exit status,
signal, stderr tail) and the restart that follows, timeouts and cancels
sent as cancel messages (a handler that honours them survives, one that
ignores them is killed with its process group after cancel_grace),
malformed messages, output in the worker's log, a huge result, progress,
the task types producers accept (tickq types) and the users' list protocol
feeding a handler type, `tickq tasks --config`, configuration errors, the
fds a handler gets (0-4 only), the retry records in SQLite and PostgreSQL,
and output that is not text (bytes that are not UTF-8, NUL) on its way to
the log, the error, the result and the history."""
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time

from harness import ROOT, TickqTestCase, gone, postgres, sqlite_rows, temp_sqlite, wait_for

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq  # noqa: E402

HANDLERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handlers")
WIRE = f"/usr/bin/python3 {os.path.join(HANDLERS, 'wire_handler.py')}"
FINAL = ("completed", "failed", "dead", "cancelled")

# The wire handler serving two types; short grace so that kills come fast.
WIRE_CONFIG = f"""# handlers for test_handlers.py
[handler wire]
command = {WIRE} wire wire_b
types = wire, wire_b
cancel_grace = 500ms
start_timeout = 10s
"""


def notes(path):
    """What a wire_handler job noted (its "note" file), as dicts."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.endswith("\n")]


class HandlerTestCase(TickqTestCase):
    """A TickqTestCase with a temp folder per test, config files in it, and
    workers serving the handlers of a config."""

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-handlers-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def write_config(self, text, name="handlers.ini"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def handler_worker(self, config=WIRE_CONFIG, announced="wire", *args, env=None, pass_fds=()):
        """One worker child serving config's handlers, once it has announced
        the type `announced` (so that `tickq enqueue` takes it)."""
        w = self.worker("--config", self.write_config(config), "--workers", "1", "--retry-base", "100ms", *args,
                        env=env, pass_fds=pass_fds)
        wait_for(lambda: self.r.sismember("tickq:types", announced) or w.proc.poll() is not None, 10,
                 what=f"the worker to announce {announced}")
        self.assertIsNone(w.proc.poll(), w.log())
        return w

    def note_path(self, name):
        return os.path.join(self.tmp, f"{name}.notes")

    def final(self, jid, timeout=15):
        return self.wait_state(jid, FINAL, timeout)

    def started_pids(self, w, handler="wire"):
        """The handler_pid of each "handler started" line of the worker's log."""
        return [x["handler_pid"] for x in w.log_lines()
                if isinstance(x, dict) and x.get("msg") == "handler started" and x.get("handler") == handler]

    def assert_started(self, w, pid, handler="wire"):
        """pid has a "handler started" line. A worker child writes its log
        once per batch (src/core/log.c), which may land just after the
        job's result: the line is waited for, not expected at once."""
        wait_for(lambda: pid in self.started_pids(w, handler), 10,
                 what=f"the 'handler started' line of pid {pid}")

    def ok_pid(self):
        """Runs an "ok" job to completion; returns the pid that served it."""
        jid = self.enqueue("wire", {"do": "ok"}, "--max-retries", "0")
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
        return self.result(jid)["data"]["pid"]

    def job_pid(self, note):
        """The pid of the process that took the job noted in `note`."""
        got = wait_for(lambda: [n for n in notes(note) if n["event"] == "job"], 10, what="the handler to get the job")
        return got[0]["pid"]


class TestHandlerJobs(HandlerTestCase):
    def test_result_data_and_the_request_the_handler_saw(self):
        w = self.handler_worker(WIRE_CONFIG, "wire", "--queues", "reports")
        before_ms = int(time.time() * 1000)
        jid = self.enqueue("wire", {"do": "ok", "symbol": "AAPL", "n": [1, 2]}, "--queue", "reports",
                           "--max-retries", "4", "--timeout", "60")
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
        after_ms = int(time.time() * 1000)
        data = self.completed_data(self.result(jid))
        self.assertEqual(data["args"], {"do": "ok", "symbol": "AAPL", "n": [1, 2]})
        req = data["request"]
        self.assertEqual((req["msg"], req["id"], req["type"], req["queue"], req["attempt"], req["max_retries"],
                          req["timeout_ms"]), ("job", jid, "wire", "reports", 1, 4, 60000))
        # The deadline is the attempt's start plus its timeout, in epoch ms.
        self.assertGreaterEqual(req["deadline_ms"] - req["timeout_ms"], before_ms - 5)
        self.assertLessEqual(req["deadline_ms"] - req["timeout_ms"], after_ms + 5)
        self.assertEqual(self.job(jid)["attempts"], "1")
        # The pid that served it is the handler the worker child started.
        self.assert_started(w, data["pid"])
        # A second type of the same handler, and a result that is not an object.
        jid2 = self.enqueue("wire_b", {"do": "scalar", "value": 42}, "--queue", "reports")
        self.assertEqual(self.final(jid2), "completed", self.job(jid2).get("error"))
        self.assertEqual(self.completed_data(self.result(jid2))["result"], 42)
        # The handler ends with its worker.
        w.stop()
        wait_for(lambda: gone(data["pid"]), 5, what="the handler to end with its worker")

    def test_a_handler_gets_the_users_glibc_tunables_not_the_workers(self):
        """The worker executes itself with glibc.malloc.hugetlb=1 added to
        GLIBC_TUNABLES (src/cmd/huge_pages.c) and then puts the user's
        value back: a handler it starts inherits the environment as the
        user gave it."""
        names = ["GLIBC_TUNABLES", "TICKQ_USER_GLIBC_TUNABLES"]
        for tunables in (None, "glibc.malloc.arena_max=2", "glibc.malloc.hugetlb=0"):
            with self.subTest(tunables=tunables):
                w = self.handler_worker(WIRE_CONFIG, "wire", env={"GLIBC_TUNABLES": tunables})
                try:
                    jid = self.enqueue("wire", {"do": "env", "names": names})
                    self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
                    self.assertEqual(self.completed_data(self.result(jid))["env"],
                                     {"GLIBC_TUNABLES": tunables, "TICKQ_USER_GLIBC_TUNABLES": None})
                finally:
                    w.stop()   # the next case's jobs go to the next worker only

    def test_a_handler_type_pushed_on_the_users_list_runs_on_the_handler(self):
        """The users' list protocol (LPUSH strategy_queue '{"task_id",
        "task_type", "args"}', docs/protocol.md) takes a handler type as
        any other, pushed before any worker announced it or after: the task
        runs on the handler as the list's task_id, in the list's target
        queue, and answers at task_result:<task_id>."""
        def push(task_id, args):
            self.r.lpush("strategy_queue", json.dumps({"task_id": task_id, "task_type": "wire", "args": args}))
        push("listed-early", {"do": "ok", "n": 1})
        self.assertFalse(self.r.sismember("tickq:types", "wire"))
        w = self.handler_worker()
        push("listed-late", {"do": "ok", "n": 2})
        for task_id, n in (("listed-early", 1), ("listed-late", 2)):
            with self.subTest(task_id=task_id):
                self.assertEqual(self.final(task_id), "completed", self.job(task_id).get("error"))
                data = self.completed_data(self.result(task_id))
                self.assertEqual(data["args"], {"do": "ok", "n": n})
                req = data["request"]
                self.assertEqual((req["id"], req["type"], req["queue"], req["attempt"]),
                                 (task_id, "wire", "backtest", 1))
                self.assert_started(w, data["pid"])
        self.assertEqual(self.r.llen("strategy_queue"), 0)
        self.assertEqual(self.counters("backtest").get("list_imported"), 2)

    def test_a_handler_has_only_fds_0_to_4_open(self):
        """A handler sees /dev/null on 0, its stdout and stderr pipes on 1
        and 2, its request and reply pipes on 3 and 4, and nothing else:
        never the worker child's Redis connection, nor an fd the worker was
        started with that is not close-on-exec (a shell's or a service
        manager's: here a file on an fd from 20 up)."""
        secret = os.path.join(self.tmp, "inherited")
        with open(secret, "w") as f:
            f.write("not for handlers")
        low = os.open(secret, os.O_RDONLY)
        fd = fcntl.fcntl(low, fcntl.F_DUPFD, 20)   # above the handler's 0-4, and not close-on-exec
        os.close(low)
        self.addCleanup(os.close, fd)
        w = self.handler_worker(pass_fds=(fd,))
        jid = self.enqueue("wire", {"do": "fds"})
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
        fds = self.result(jid)["data"]["fds"]
        self.assertEqual(sorted(fds, key=int), ["0", "1", "2", "3", "4"], fds)
        self.assertEqual(fds["0"], "/dev/null")
        self.assertTrue(all(fds[n].startswith("pipe:") for n in "1234"), fds)
        self.assertEqual(len({fds[n] for n in "1234"}), 4, fds)
        # What the worker child holds and must not pass on.
        child = w.children()[0]
        held = {os.readlink(f"/proc/{child}/fd/{n}") for n in os.listdir(f"/proc/{child}/fd")}
        self.assertIn(secret, held)
        self.assertTrue(any(x.startswith("socket:") for x in held), held)

    def test_retry_then_success(self):
        self.handler_worker()
        jid = self.enqueue("wire", {"do": "retry_then_ok"}, "--max-retries", "2")
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
        self.assertEqual(self.job(jid)["attempts"], "2")
        rec = self.retries(jid)
        self.assertEqual([(r["attempt"], r["kind"], r["error"]) for r in rec],
                         [(1, "transient", "feed busy, try again")])
        self.assertEqual(self.completed_data(self.result(jid))["request"]["attempt"], 2)

    def test_fail_is_permanent_at_once(self):
        self.handler_worker()
        jid = self.enqueue("wire", {"do": "fail"}, "--max-retries", "3")
        self.assertEqual(self.final(jid), "failed")
        self.assertEqual(self.permanent_error(self.result(jid), jid), "bad input: no such symbol")
        self.assertEqual(self.r.xlen("tickq:dead"), 0)

    def test_crashes_are_crash_attempts_and_the_next_job_gets_a_new_handler(self):
        """exit(3), SIGSEGV and an uncaught exception each end the process:
        a crash attempt naming the exit status or signal and quoting the end
        of stderr; the handler is started again for the next job."""
        w = self.handler_worker()
        cases = [
            ("exit3", "exit status 3", "wire_handler: exiting with status 3 on purpose"),
            ("segv", "killed by signal 11", "wire_handler: about to segfault on purpose"),
            ("raise", "exit status 1", "ValueError: wire_handler raised on purpose"),
        ]
        for do, how, tail in cases:
            with self.subTest(do=do):
                note = self.note_path(do)
                jid = self.enqueue("wire", {"do": do, "note": note}, "--max-retries", "0")
                self.assertEqual(self.final(jid), "dead", self.job(jid))
                crashed = self.job_pid(note)
                rec = self.retries(jid)
                self.assertEqual([(r["attempt"], r["kind"]) for r in rec], [(1, "crash")])
                error = self.result(jid)["data"]["error"]
                self.assertEqual(rec[0]["error"], error)
                self.assertIn(how, error)
                self.assertIn(tail, error)
                self.assertTrue(gone(crashed))
                fresh = self.ok_pid()
                self.assertNotEqual(fresh, crashed)
                self.assert_started(w, fresh)

    def test_a_handler_that_exits_between_jobs_is_started_again_for_the_next(self):
        """A handler that ends while it has no job (here: right after its
        reply) costs the next job nothing: that job runs on a new handler,
        on its first attempt, with no crash charged (docs/handlers.md,
        "Lifetime": a handler that exits is started again for the next
        job; only the job it was running fails)."""
        self.handler_worker()
        first = self.enqueue("wire", {"do": "exit_after_reply"})
        self.assertEqual(self.final(first), "completed")
        old = self.result(first)["data"]["pid"]
        wait_for(lambda: gone(old), 5, what="the handler to exit")
        jid = self.enqueue("wire", {"do": "ok"}, "--max-retries", "0")
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(self.retries(jid), [])
        self.assertNotEqual(self.result(jid)["data"]["pid"], old)

    def test_timeout_honoured_by_the_handler_keeps_it_running(self):
        self.handler_worker()
        note = self.note_path("hang")
        jid = self.enqueue("wire", {"do": "hang", "note": note}, "--timeout", "1", "--max-retries", "0")
        self.assertEqual(self.final(jid), "dead", self.job(jid))
        pid = self.job_pid(note)
        self.assertEqual([(n["event"], n.get("reason")) for n in notes(note)], [("job", None), ("cancel", "timeout")])
        rec = self.retries(jid)
        self.assertEqual([(r["attempt"], r["kind"]) for r in rec], [(1, "timeout")])
        self.assertIn("timeout", rec[0]["error"])
        self.assertIn("stopped on timeout", rec[0]["error"])   # what the handler replied
        # The handler stopped the job itself: the same process serves the next.
        self.assertFalse(gone(pid))
        self.assertEqual(self.ok_pid(), pid)

    def test_timeout_ignored_by_the_handler_kills_its_process_group(self):
        w = self.handler_worker()
        note = self.note_path("hang_ignoring")
        jid = self.enqueue("wire", {"do": "hang_ignoring_cancel", "note": note}, "--timeout", "1",
                           "--max-retries", "0")
        child = wait_for(lambda: [n["child"] for n in notes(note) if n["event"] == "child"], 10,
                         what="the handler's child")[0]
        self.addCleanup(self.kill_if_alive, child)
        self.assertEqual(self.final(jid), "dead", self.job(jid))
        pid = self.job_pid(note)
        self.assertEqual([n.get("reason") for n in notes(note) if n["event"] == "cancel"], ["timeout"])
        rec = self.retries(jid)
        self.assertEqual([(r["attempt"], r["kind"]) for r in rec], [(1, "timeout")])
        self.assertIn("cancel_grace", rec[0]["error"])
        self.assertIn("killed by signal 9", rec[0]["error"])
        # The handler and the child in its process group are gone.
        self.assertTrue(gone(pid))
        wait_for(lambda: gone(child), 5, what="the handler's child to be killed with its group")
        fresh = self.ok_pid()
        self.assertNotEqual(fresh, pid)
        self.assert_started(w, fresh)

    def kill_if_alive(self, pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def test_malformed_messages_are_crash_attempts_quoting_the_line(self):
        self.handler_worker()
        cases = [
            ("not JSON", "this is not JSON \x01 <garbage>", "this is not JSON \\x01 <garbage>"),
            ("unknown key", json.dumps({"msg": "result", "id": "X", "data": {}, "extra": 1}), "'extra'"),
            ("another job's id", json.dumps({"msg": "result", "id": "someone-else", "data": {}}), "someone-else"),
            ("unknown kind", json.dumps({"msg": "shout", "id": "X"}), "shout"),
        ]
        for what, line, quoted in cases:
            with self.subTest(what=what):
                note = self.note_path(what.replace(" ", "_").replace("'", ""))
                jid = self.enqueue("wire", {"do": "garbage_fd4", "line": line, "note": note}, "--max-retries", "0")
                self.assertEqual(self.final(jid), "dead", self.job(jid))
                pid = self.job_pid(note)
                rec = self.retries(jid)
                self.assertEqual([(r["attempt"], r["kind"]) for r in rec], [(1, "crash")])
                self.assertIn("malformed", rec[0]["error"])
                self.assertIn(quoted, rec[0]["error"])
                self.assertTrue(gone(pid))
                self.assertNotEqual(self.ok_pid(), pid)

    def test_a_result_tickq_cannot_read_fails_its_job_and_the_handler_runs_on(self):
        """A reply line that is JSON but holds what tickq's reader refuses
        (an integer beyond 64 bits, a NUL, a key given twice inside data),
        of a job the handler runs, fails that job at once (no retry, however
        many it has left), saying why; the handler replied as the protocol
        asks and serves the next job in the same process."""
        self.handler_worker()
        cases = [
            ("an integer beyond 64 bits", '{"msg":"result","id":"@ID@","data":{"n":18446744073709551616}}',
             "a number out of range at column @COLUMN@ (too big integer near '18446744073709551616'): tickq takes "
             "integers from -2^63 to 2^63-1"),
            ("a negative one", '{"msg":"result","id":"@ID@","data":[-9223372036854775809]}',
             "too big negative integer"),
            ("a NUL in a string", '{"msg":"result","id":"@ID@","data":{"s":"a\\u0000b"}}',
             "a NUL character (\\u0000) in a string at column"),
            ("a NUL in a key", '{"msg":"result","id":"@ID@","data":{"k\\u0000":1}}',
             "a NUL character (\\u0000) in a key at column"),
            ("a key twice inside data", '{"msg":"result","id":"@ID@","data":{"a":1,"a":2}}',
             "a key given twice in one object at column"),
        ]
        pid = self.ok_pid()
        for what, line, why in cases:
            with self.subTest(what=what):
                jid = self.enqueue("wire", {"do": "raw_lines", "lines": [line]}, "--max-retries", "3")
                self.assertEqual(self.final(jid), "failed", self.job(jid))
                error = self.permanent_error(self.result(jid), jid)
                self.assertTrue(error.startswith("handler wire replied with a result tickq cannot read: "), error)
                if "@COLUMN@" in why:   # where the number ends in the line sent, with the job's id in it
                    sent = line.replace("@ID@", jid)
                    why = why.replace("@COLUMN@", str(sent.index("18446744073709551616") + 20))
                self.assertIn(why, error)
                self.assertFalse(gone(pid))
                self.assertEqual(self.ok_pid(), pid)

    def test_a_nul_in_an_error_or_a_progress_message_is_taken_as_u_fffd(self):
        """JSON allows \\u0000 and tickq takes text without NUL: in the text
        of an error or a progress message it becomes U+FFFD, as in the
        handler's output, and the reply counts as sent."""
        self.handler_worker()
        pid = self.ok_pid()
        jid = self.enqueue("wire", {"do": "raw_lines", "lines": [
            '{"msg":"progress","id":"@ID@","fraction":0.5,"message":"half\\u0000way"}',
            '{"msg":"error","id":"@ID@","error":"bad\\u0000input","retry":false}']}, "--max-retries", "3")
        self.assertEqual(self.final(jid), "failed", self.job(jid))
        self.assertEqual(self.permanent_error(self.result(jid), jid), "bad\ufffdinput")
        self.assertEqual(self.ok_pid(), pid)

    def test_a_line_tickq_cannot_read_that_names_no_job_for_sure_is_malformed(self):
        """When the job cannot be told for sure (the message's own keys
        repeat; the id is not a job it runs), the line is malformed as
        before: the handler is killed, its job a crashed attempt, and the
        error says what tickq could not read."""
        self.handler_worker()
        cases = [
            ("its id twice", '{"msg":"result","id":"@ID@","id":"@ID@","data":{"n":18446744073709551616}}',
             "the message gives one of its own keys twice"),
            ("another job's id", '{"msg":"result","id":"someone-else","data":"a\\u0000b"}',
             "a result for job someone-else, which it is not running, holding a NUL character"),
        ]
        for what, line, why in cases:
            with self.subTest(what=what):
                note = self.note_path(what.replace(" ", "_").replace("'", ""))
                jid = self.enqueue("wire", {"do": "raw_lines", "lines": [line], "note": note}, "--max-retries", "0")
                self.assertEqual(self.final(jid), "dead", self.job(jid))
                pid = self.job_pid(note)
                rec = self.retries(jid)
                self.assertEqual([(r["attempt"], r["kind"]) for r in rec], [(1, "crash")])
                self.assertIn("sent a malformed message: ", rec[0]["error"])
                self.assertIn(why, rec[0]["error"])
                self.assertTrue(gone(pid))
                self.assertNotEqual(self.ok_pid(), pid)

    def test_a_crash_quotes_the_last_lines_of_stderr(self):
        """A crash's error quotes the END of stderr (its last line says what
        happened: a traceback's exception), cut in front at the start of a
        line, so that the whole error fits its 1,023 bytes."""
        self.handler_worker()
        last = "SystemExit: the last line of stderr \u00e9"
        jid = self.enqueue("wire", {"do": "stderr_lines_exit", "n": 60, "last": last}, "--max-retries", "0")
        self.assertEqual(self.final(jid), "dead", self.job(jid))
        error = self.result(jid)["data"]["error"]
        self.assertIn("handler wire died while running the job (exit status 3)", error)
        self.assertTrue(error.endswith("\n" + last), error)
        self.assertLessEqual(len(error.encode("utf-8")), 1023)
        self.assertGreater(len(error.encode("utf-8")), 900, error)   # the room is used
        quoted = error.split("; the end of its stderr: ", 1)[1]
        self.assertRegex(quoted, r"^stderr line \d{4} \u20ac x+\n")   # from the start of a line
        self.assertEqual(self.retries(jid)[0]["error"], error)

    def test_output_goes_to_the_log_tagged_with_the_job(self):
        """print() on stdout and stderr, a lot of it too (more than a pipe
        holds), never breaks the job; each line is logged with the handler,
        the stream and the job id."""
        w = self.handler_worker()
        jid = self.enqueue("wire", {"do": "print_stdout", "tag": "tag-7f3a", "bulk": 3000})
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
        expected = {("stdout", f"stdout line {i} tag-7f3a") for i in range(3)} | \
                   {("stderr", f"stderr line {i} tag-7f3a") for i in range(3)}

        def tagged():
            return {(x["stream"], x["line"]) for x in w.log_lines()
                    if isinstance(x, dict) and x.get("msg") == "handler output" and "tag-7f3a" in x.get("line", "")
                    and x.get("job_id") == jid and x.get("handler") == "wire"}
        wait_for(lambda: tagged() >= expected, 10, what="the handler's output in the log")
        bulk = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "handler output"
                and x.get("line", "").startswith("bulk ")]
        self.assertEqual(len(bulk), 3000)
        self.assertTrue(all(x["job_id"] == jid and x["stream"] == "stdout" for x in bulk))

    def test_a_5_mb_result_is_stored_intact(self):
        self.handler_worker()
        jid = self.enqueue("wire", {"do": "huge"})
        self.assertEqual(self.final(jid, timeout=30), "completed", self.job(jid).get("error"))
        data = self.completed_data(self.result(jid))
        blob = data["blob"]
        self.assertGreater(len(blob.encode("utf-8")), 5_000_000)
        self.assertEqual(hashlib.sha256(blob.encode("utf-8")).hexdigest(), data["sha256"])
        self.assertIn(' "\\/\u00e9\u20ac\n', blob)

    def test_progress_shows_while_running(self):
        self.handler_worker()
        go = os.path.join(self.tmp, "go")
        jid = self.enqueue("wire", {"do": "progress", "go": go})

        def shown():
            res = self.result(jid)
            return res and res["status"] == "running" and res["data"].get("progress") == 0.5 and res
        res = wait_for(shown, 10, what="progress 0.5 in the running result")
        self.assertEqual(res["data"]["progress_message"], "half way")
        self.assertEqual(res["data"]["attempt"], 1)
        p = self.tickq("job", jid)
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = json.loads(p.stdout)
        self.assertEqual(rec["state"], "running")
        self.assertEqual(float(rec["progress"]), 0.5)
        self.assertEqual(rec["progress_message"], "half way")
        open(go, "w").close()
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
        self.assertEqual(self.result(jid)["status"], "completed")

    def test_tickq_job_prints_progress_as_reported(self):
        """A progress of 0.1 (the record holds the text "0.1") prints as 0.1
        in `tickq job`, not as jansson's 0.10000000000000001."""
        self.handler_worker()
        go = os.path.join(self.tmp, "go")
        jid = self.enqueue("wire", {"do": "progress", "go": go, "fraction": 0.1})

        def shown():
            res = self.result(jid)
            return res and res["status"] == "running" and res["data"].get("progress") == 0.1 and res
        wait_for(shown, 10, what="progress 0.1 in the running result")
        self.assertEqual(self.job(jid)["progress"], "0.1")
        p = self.tickq("job", jid)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('\n  "progress": 0.1,\n', p.stdout)
        self.assertEqual(json.loads(p.stdout)["progress"], 0.1)
        open(go, "w").close()
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))

    def test_a_flood_of_progress_is_written_a_few_times_a_second(self):
        """1000 progress messages at once: the running result shows the
        last one (written at the next chance), and the result key is written
        at most about four times a second, not once per message."""
        self.handler_worker()
        self.r.config_set("notify-keyspace-events", "K$")
        self.addCleanup(self.server.client().config_set, "notify-keyspace-events", "")
        jid = f"flood-{time.time_ns()}"
        sub = self.server.client().pubsub()
        self.addCleanup(sub.close)
        sub.psubscribe(f"__keyspace@0__:task_result:{jid}")
        self.assertEqual(sub.get_message(timeout=5)["type"], "psubscribe")
        t0 = time.time()
        go = os.path.join(self.tmp, "go")
        self.enqueue("wire", {"do": "progress_flood", "n": 1000, "go": go}, "--id", jid)

        def last_shown():
            res = self.result(jid)
            return res and res["status"] == "running" and res["data"].get("progress") == 1 and res
        res = wait_for(last_shown, 10, what="the last progress in the running result")
        self.assertEqual(res["data"]["progress_message"], "step 1000")
        open(go, "w").close()
        self.assertEqual(self.final(jid), "completed", self.job(jid).get("error"))
        elapsed = time.time() - t0
        writes = 0
        while (m := sub.get_message(timeout=0.5)) is not None:
            if m["type"] == "pmessage" and m["data"] == "set":
                writes += 1
        # The running result, the throttled progress, the final result.
        self.assertGreaterEqual(writes, 3)
        self.assertLessEqual(writes, 4 * elapsed + 4, f"{writes} writes in {elapsed:.1f}s")

    def test_cancel_of_a_running_job_reaches_the_handler(self):
        self.handler_worker()
        note = self.note_path("cancel")
        jid = self.enqueue("wire", {"do": "hang", "note": note})
        pid = self.job_pid(note)
        p = self.tickq("cancel", jid)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.final(jid), "cancelled")
        res = self.result(jid)
        self.assertEqual(res["status"], "error")
        self.assertTrue(res["data"]["cancelled"])
        self.assertEqual([(n["event"], n.get("reason")) for n in notes(note)], [("job", None), ("cancel", "cancel")])
        self.assertEqual(self.job(jid)["attempts"], "1")
        # It honoured the cancel: it serves the next job.
        self.assertEqual(self.ok_pid(), pid)

    def test_cancel_ignored_by_the_handler_kills_it(self):
        self.handler_worker()
        note = self.note_path("cancel_ignored")
        jid = self.enqueue("wire", {"do": "hang_ignoring_cancel", "note": note})
        child = wait_for(lambda: [n["child"] for n in notes(note) if n["event"] == "child"], 10,
                         what="the handler's child")[0]
        self.addCleanup(self.kill_if_alive, child)
        pid = self.job_pid(note)
        self.assertEqual(self.tickq("cancel", jid).returncode, 0)
        self.assertEqual(self.final(jid), "cancelled")
        self.assertEqual([n.get("reason") for n in notes(note) if n["event"] == "cancel"], ["cancel"])
        self.assertTrue(gone(pid))
        wait_for(lambda: gone(child), 5, what="the handler's child to be killed with its group")
        self.assertNotEqual(self.ok_pid(), pid)


class TestHandlerStart(HandlerTestCase):
    def not_run(self, w, jid, needles):
        """The job went back to its queue uncharged (the handler would not
        start), at least twice, each time logged with why; then it is
        cancelled (it would wait for a fixed handler)."""
        def refusals():
            return [json.loads(x) for x in w.log().splitlines()
                    if x.startswith("{") and json.loads(x).get("msg") == "job not run: back to its queue, uncharged"
                    and json.loads(x).get("job_id") == jid]
        seen = wait_for(lambda: len(refusals()) >= 2 and refusals(), 15, what="the job handed back twice")
        for needle in needles:
            self.assertIn(needle, seen[0]["error"])
        job = self.job(jid)
        self.assertEqual((job["attempts"], self.retries(jid)), ("0", []))   # never charged
        self.assertIn(job["state"], ("queued",))
        self.assertEqual(self.tickq("cancel", jid).returncode, 0)
        self.assertEqual(self.final(jid), "cancelled")

    def test_a_handler_that_cannot_start_hands_its_jobs_back_uncharged(self):
        """A broken command costs no job an attempt: each goes back to its
        queue (the start tried again after 1 s, 2 s, ...) and waits for the
        handler to be fixed; the log says why."""
        config = WIRE_CONFIG + "\n[handler broken]\ncommand = /nonexistent/handler --flag\ntypes = broken_t\n"
        w = self.handler_worker(config, announced="broken_t")
        jid = self.enqueue("broken_t", {}, "--max-retries", "1")
        self.not_run(w, jid, ["exit status 127", "/nonexistent/handler"])
        # The other handler of the config serves as ever.
        self.ok_pid()

    def test_a_malformed_announcement_hands_the_job_back_quoting_it(self):
        config = WIRE_CONFIG + "\n[handler mute]\ncommand = /bin/echo '{\"msg\": \"hi\"}' >&4\ntypes = mute_t\n"
        w = self.handler_worker(config, announced="mute_t")
        jid = self.enqueue("mute_t", {}, "--max-retries", "0")
        self.not_run(w, jid, ["malformed announcement", '{"msg": "hi"}'])

    def test_a_type_the_handler_did_not_announce_fails_naming_both_lists(self):
        config = WIRE_CONFIG + f"\n[handler partial]\ncommand = {WIRE} partial_a\ntypes = partial_a, partial_b\n"
        self.handler_worker(config, announced="partial_b")
        ok = self.enqueue("partial_a", {"do": "ok"})
        self.assertEqual(self.final(ok), "completed", self.job(ok).get("error"))
        jid = self.enqueue("partial_b", {"do": "ok"})
        self.assertEqual(self.final(jid), "failed")
        error = self.permanent_error(self.result(jid), jid)
        self.assertIn("partial_b", error)
        self.assertIn("[handler partial]", error)
        self.assertIn("it announced: partial_a", error)
        self.assertIn("partial_a, partial_b", error)   # the types its section lists


class TestOtherLanguages(HandlerTestCase):
    """The wire format is all a handler needs: a Node script and a shell
    script with jq serve jobs."""

    CONFIG = f"""[handler node]
command = /usr/bin/node {os.path.join(HANDLERS, 'node_handler.js')}
types = node_square

[handler sh]
command = /bin/sh {os.path.join(HANDLERS, 'sh_handler.sh')}
types = sh_sum
"""

    def test_node_and_shell_handlers_serve_jobs(self):
        for tool in ("/usr/bin/node", "/usr/bin/jq"):
            self.assertTrue(os.access(tool, os.X_OK), f"{tool} is needed")
        w = self.handler_worker(self.CONFIG, announced="sh_sum")
        square = self.enqueue("node_square", {"n": 12})
        refused = self.enqueue("node_square", {"n": -1}, "--max-retries", "3")
        total = self.enqueue("sh_sum", {"a": 2, "b": 3.5}, "--queue", "backtest")
        bad = self.enqueue("sh_sum", {"a": "two"}, "--max-retries", "3")
        for jid in (square, refused, total, bad):
            self.final(jid)
        self.assertEqual(self.completed_data(self.result(square))["square"], 144)
        self.assertEqual(self.result(square)["data"]["lang"], "node")
        self.assertEqual(self.permanent_error(self.result(refused), refused), "n must be a number >= 0, not -1")
        data = self.completed_data(self.result(total))
        self.assertEqual((data["sum"], data["lang"], data["queue"]), (5.5, "sh", "backtest"))
        self.assertEqual(self.permanent_error(self.result(bad), bad), "a and b must be numbers")
        # Their output is logged with the job too: with the jobs in flight
        # when it is read, joined by commas when the handler had two at once
        # (`refused` may have been sent before `square` answered).
        wait_for(lambda: any(isinstance(x, dict) and x.get("msg") == "handler output" and x.get("handler") == "node"
                             and square in str(x.get("job_id")).split(",")
                             and x.get("line") == "node_handler: squaring 12"
                             for x in w.log_lines()), 10, what="the node handler's output in the log")
        # Each served its jobs from one process.
        self.assertEqual(len(self.started_pids(w, "node")), 1)
        self.assertEqual(len(self.started_pids(w, "sh")), 1)


class TestHandlerTypes(HandlerTestCase):
    """Producers accept the built-in types and those of the Redis set that
    workers and `tickq types add` fill; `tickq tasks --config` lists a
    config's handler types."""

    def test_unknown_type_refused_until_added(self):
        p = self.tickq("enqueue", "report_gen", "{}")
        self.assertEqual(p.returncode, 65, p.stderr)
        self.assertIn("unknown task type 'report_gen'", p.stderr)
        self.assertIn("tickq types add report_gen", p.stderr)
        self.assertEqual(self.ready(), 0)
        p = self.tickq("types", "add", "report_gen", "refresh_cache")
        self.assertEqual(p.returncode, 0, p.stderr)
        jid = self.enqueue("report_gen", {"day": "2026-12-03"})
        self.assertEqual(self.job(jid)["type"], "report_gen")
        self.assertEqual(self.ready(), 1)
        p = self.tickq("types")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["refresh_cache", "report_gen"])
        # A built-in name cannot be added.
        p = self.tickq("types", "add", "echo")
        self.assertEqual(p.returncode, 64)
        self.assertIn("built into tickq", p.stderr)

    def test_a_worker_announces_its_handler_types_for_good(self):
        p = self.tickq("enqueue", "wire_b", "{}")
        self.assertEqual(p.returncode, 65, p.stderr)
        w = self.handler_worker(announced="wire_b")
        self.assertTrue(self.r.sismember("tickq:types", "wire"))
        w.stop()
        # Once announced, the types stay accepted with no worker running.
        jid = self.enqueue("wire_b", {"do": "ok"})
        self.assertEqual(self.state(jid), "queued")
        self.assertEqual(self.tickq("types").stdout.split(), ["wire", "wire_b"])

    def test_tasks_lists_the_handler_types_of_a_config(self):
        path = self.write_config(WIRE_CONFIG)
        p = self.tickq("tasks", "--config", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = {line.split()[0]: line for line in p.stdout.splitlines() if line.strip()}
        for t in ("wire", "wire_b"):
            self.assertIn(t, lines)
            self.assertIn("[handler wire]", lines[t])
        self.assertIn("echo", lines)
        p = self.tickq("tasks", "wire", "--config", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("[handler wire]", p.stdout)
        self.assertIn("unchecked", p.stdout)
        # Without the config, no handler types.
        p = self.tickq("tasks")
        self.assertNotIn("wire", p.stdout.split())


class TestHandlerConfigErrors(HandlerTestCase):
    def test_bad_handler_sections_are_refused_naming_file_and_line(self):
        cases = [
            ("unknown key", "[handler a]\ncommand = x\ntypes = t1\nbogus = 1\n", 4, "unknown key 'bogus'"),
            ("no command", "# handlers\n[handler a]\ntypes = t1\n", 2, "has no command"),
            ("no types", "[handler a]\ncommand = x\n", 1, "has no types"),
            ("a built-in type", "[handler a]\ncommand = x\ntypes = t1, echo\n", 3, "'echo' is a task built into"),
            ("a type served twice", "[handler a]\ncommand = x\ntypes = t1\n\n[handler b]\ncommand = y\n"
             "types = t2, t1\n", 7, "'t1' is served by [handler a] already"),
        ]
        for what, text, line, message in cases:
            with self.subTest(what=what):
                path = self.write_config(text, name=what.replace(" ", "_") + ".ini")
                p = self.tickq("worker", "--config", path, "--workers", "1", timeout=30)
                self.assertEqual(p.returncode, 78, p.stderr)
                self.assertIn(f"{path}:{line}: ", p.stderr)
                self.assertIn(message, p.stderr)
                self.assertFalse(self.r.exists("tickq:types"))


    def test_an_empty_entry_in_a_list_is_refused_as_in_queues(self):
        """types of a [handler], handlers and types of a [pool]: "a,,b", a
        comma at the start or end, refuse the file (exit 78, file:line,
        the key), as queues does, rather than skip the empty name."""
        empty = "has an empty name (two commas in a row, or one at its start or end)"
        head = "[handler h]\ncommand = x\ntypes = t1, t2\n[pool p]\nqueues = qa\n"
        cases = [
            ("handler types", "[handler h]\ncommand = x\ntypes = t1,,t2,\n", 3,
             f"[handler h]: types: 't1,,t2,' {empty} as entry 2"),
            ("pool handlers", head + "handlers = h,,\n", 6, f"[pool p]: handlers: 'h,,' {empty} as entry 2"),
            ("pool types", head + "handlers = h\ntypes = t1, ,t2\n", 7,
             f"[pool p]: types: 't1, ,t2' {empty} as entry 2"),
            ("pool queues", head.replace("qa", "qa,,qb") + "handlers = h\n", 5, f"[pool p]: queues: 'qa,,qb' {empty}"),
        ]
        for what, text, line, message in cases:
            with self.subTest(what=what):
                path = self.write_config(text, name=what.replace(" ", "_") + ".ini")
                args = ("--pool", "p") if "[pool p]" in text else ()
                p = self.tickq("worker", "--check", "--config", path, *args, timeout=30)
                self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
                self.assertIn(f"{path}:{line}: {message}", p.stdout + p.stderr)


class RetryRecordsInHistory:
    """The retry record of a handler job that failed once then succeeded,
    in the job history database, as record_retry wrote it."""

    def test_retry_records_of_a_handler_job(self):
        self.assertEqual(self.tickq("types", "add", "wire").returncode, 0)
        jid = self.enqueue("wire", {"do": "retry_then_ok"}, "--max-retries", "2")
        path = self.write_config(WIRE_CONFIG)
        status, w = self.burst("--config", path, "--workers", "1", "--retry-base", "100ms", env=self.env)
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.state(jid), "completed")
        rows = self.query(f"SELECT run, attempt, kind, error FROM job_retries WHERE job_id = '{jid}'")
        self.assertEqual(rows, [(1, 1, "transient", "feed busy, try again")])
        jobs = self.query(f"SELECT type, state, attempts FROM job_history WHERE job_id = '{jid}'")
        self.assertEqual(jobs, [("wire", "completed", 2)])

    def test_binary_output_of_a_crashing_handler(self):
        """A handler writes bytes that are not UTF-8 and a NUL in the middle
        of a line on stdout and stderr, then crashes, twice. Its log lines
        are whole, with U+FFFD for each bad sequence and for the NUL (a
        line too long for one log line is cut between characters); the
        error quotes the end of stderr the same way, so the client's wait
        raises TaskFailed; both crash records reach the database, and so
        does a later job's history (PostgreSQL refused the raw bytes and
        stalled all history)."""
        out = b"out \xff\xfe before NUL\x00after NUL \xe2\x82 end"
        long_line = "\u20ac" * 2000   # 6,000 bytes: logged in parts, cut between characters
        err = b"bad bytes \xff\xfe\xc3 end\x00tail of stderr"

        def text(raw):   # what tickq makes of them: Python's "replace", NUL replaced too
            return raw.decode("utf-8", "replace").replace("\0", "\ufffd")
        w = self.handler_worker(env=self.env)
        client = tickq.Client(self.url)
        jid = client.enqueue("wire", {"do": "binary_crash", "stdout_hex": (out + b"\n" + long_line.encode()).hex(),
                                      "stderr_hex": err.hex()}, max_retries=1)
        with self.assertRaises(tickq.TaskFailed) as caught:
            client.wait(jid, timeout=30)
        self.assertEqual(caught.exception.status, "dead")
        self.assertIn("exit status 3", caught.exception.error)
        self.assertTrue(caught.exception.error.endswith("the end of its stderr: " + text(err)),
                        caught.exception.error)
        later = client.enqueue("wire", {"do": "ok"})
        client.wait(later, timeout=30)

        with open(w.log_path, "rb") as f:
            log = f.read().decode("utf-8")   # strict: the log is UTF-8 text
        lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
        logged = [(x["stream"], x["line"]) for x in lines if x.get("msg") == "handler output" and
                  x.get("job_id") == jid]
        self.assertEqual(logged.count(("stdout", text(out))), 2, logged)
        self.assertEqual(logged.count(("stderr", text(err))), 2, logged)
        parts = [line for stream, line in logged if stream == "stdout" and "\u20ac" in line]
        self.assertGreater(len(parts), 2)
        self.assertTrue("".join(parts) == long_line * 2, "the long line was cut inside a character")

        def rows():
            return (self.query(f"SELECT run, attempt, kind, error FROM job_retries WHERE job_id = '{jid}' "
                               "ORDER BY attempt"),
                    self.query(f"SELECT job_id, state, attempts FROM job_history WHERE job_id IN ('{jid}', "
                               f"'{later}') ORDER BY finished_at"))

        def arrived():
            got = rows()
            return got if len(got[0]) == 2 and len(got[1]) == 2 else None
        retries, jobs = wait_for(arrived, 20, what="the crash records and both jobs' history in the database")
        self.assertEqual([r[:3] for r in retries], [(1, 1, "crash"), (1, 2, "crash")])
        self.assertEqual(retries[1][3], caught.exception.error)
        self.assertTrue(retries[0][3].endswith(text(err)), retries[0][3])
        self.assertEqual(jobs, [(jid, "dead", 2), (later, "completed", 1)])


class TestRetryRecordsSqlite(RetryRecordsInHistory, HandlerTestCase):
    def setUp(self):
        super().setUp()
        self.path, self.env = temp_sqlite(self, "tickq-handlers-db-")

    def query(self, sql):
        return sqlite_rows(self.path, sql)


class TestRetryRecordsPostgres(RetryRecordsInHistory, HandlerTestCase):
    def setUp(self):
        super().setUp()
        db_url, self.dbname = postgres().new_database()
        self.env = {"DATABASE_URL": db_url}

    def query(self, sql):
        return postgres().rows(self.dbname, sql)
