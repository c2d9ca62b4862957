"""test_tickq_package.py — the Python package tickq (clients/python): the
handler runtime driven as tickq drives it (`python3 -m tickq.handler` with
requests on fd 3 and messages on fd 4, docs/handlers.md), its command line,
the client's checks that need no Redis, and an offline install into a venv.

The client against Redis and a real worker is tested in tests/integration.
Every wait here has a bound (a hung handler fails the test, it does not hang
the suite); nothing asserts on timing.

Run from the worktree root:
    /usr/bin/python3 -m unittest discover -s tests/python -v
"""
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients" / "python"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
WAIT = 20.0   # seconds any single message or exit may take before the test fails

sys.path.insert(0, str(CLIENTS))
import tickq  # noqa: E402
from tickq import runtime  # noqa: E402
from tickq.client import Client, iso8601_ms, parse_duration_ms, settings_from_env  # noqa: E402
from tickq.streams import QueueManager, priority_name  # noqa: E402

TASKS = '''\
import asyncio
import time
from tickq import task, Retry, Fail

@task("ok")
def ok(args, job):
    return {"args": args, "id": job.id, "type": job.type, "attempt": job.attempt,
            "max_retries": job.max_retries, "queue": job.queue, "timeout_ms": job.timeout_ms,
            "deadline_ms": job.deadline_ms, "cancelled": job.cancelled}

@task("scalar")
def scalar(args, job):
    return args["n"] * 2

@task("retry")
def retry(args, job):
    raise Retry("the database is busy")

@task("fail")
def fail(args, job):
    raise Fail("bad input")

@task("boom")
def boom(args, job):
    table = {}
    return table["missing"]  # BOOM LINE

@task("progress")
def progress(args, job):
    job.progress(0.5, "half way")
    job.progress(1)
    return "done"

@task("bad_progress")
def bad_progress(args, job):
    job.progress(1.5)

@task("unserialisable")
def unserialisable(args, job):
    return {"when": {1, 2}}

@task("nan")
def nan(args, job):
    return float("nan")

@task("printer")
def printer(args, job):
    print("hello from the task")
    return {"printed": True}

@task("wait_cancel")
def wait_cancel(args, job):
    job.progress(0, "started")
    for _ in range(20000):          # about 20 s, then give up: the test fails
        if job.cancelled:
            return {"saw_cancel": True, "reason": job.cancel_reason}
        time.sleep(0.001)
    return {"saw_cancel": False}
'''

ASYNC_TASKS = '''\
import asyncio
from tickq import task

gate = None

def _gate():
    global gate
    if gate is None:
        gate = asyncio.Event()
    return gate

@task("first")
async def first(args, job):
    # finishes only after "second" has run: with one job at a time it never would
    await asyncio.wait_for(_gate().wait(), 20)
    return {"job": "first"}

@task("second")
async def second(args, job):
    job.progress(0.5)
    _gate().set()
    return {"job": "second"}

@task("forever")
async def forever(args, job):
    job.progress(0, "started")
    await asyncio.sleep(3600)
    return {"slept": True}

@task("plain")
def plain(args, job):
    return {"plain": args}
'''


def job(job_id, task_type, args=None, **over):
    msg = {"msg": "job", "id": job_id, "type": task_type, "args": args if args is not None else {},
           "attempt": 1, "max_retries": 3, "queue": "reports", "timeout_ms": 600000,
           "deadline_ms": 1796289000000}
    msg.update(over)
    return msg


class Handler:
    """`python3 ARGV` (by default -m tickq.handler ARGS) with fd 3 and fd 4
    as pipes, as a tickq worker starts a handler."""

    def __init__(self, cwd, *args, env=None, argv=None):
        req_r, self.req_w = os.pipe()
        self.msg_r, msg_w = os.pipe()
        # Above 10 so that the dup2s in the child cannot overwrite each other.
        hi_r = fcntl.fcntl(req_r, fcntl.F_DUPFD_CLOEXEC, 10)
        hi_w = fcntl.fcntl(msg_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(req_r)
        os.close(msg_w)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        full_env = dict(os.environ, PYTHONPATH=f"{CLIENTS}{os.pathsep}{cwd}")
        full_env.update(env or {})
        # close_fds=False: Popen would close the fds 3 and 4 that child_fds
        # makes (Python opens every fd close-on-exec, so no other leaks in).
        self.proc = subprocess.Popen([PYTHON, *(argv or ["-m", "tickq.handler", *args])], cwd=cwd, env=full_env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     preexec_fn=child_fds, close_fds=False)
        os.close(hi_r)
        os.close(hi_w)
        self.buf = b""

    def send(self, obj):
        self.send_raw((json.dumps(obj) + "\n").encode())

    def send_raw(self, data):
        os.write(self.req_w, data)

    def close_requests(self):
        if self.req_w >= 0:
            os.close(self.req_w)
            self.req_w = -1

    def recv(self):
        """The next message from fd 4, parsed; fails the test after WAIT s."""
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.msg_r], [], [], WAIT)
            if not ready:
                raise AssertionError(f"no message from the handler within {WAIT} s")
            chunk = os.read(self.msg_r, 65536)
            if not chunk:
                raise AssertionError(f"the handler closed fd 4 (exit {self.proc.poll()}); stderr: {self.stderr()}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def rest(self):
        """Whatever else the handler wrote to fd 4, up to its end."""
        data = self.buf
        while True:
            ready, _, _ = select.select([self.msg_r], [], [], WAIT)
            if not ready:
                raise AssertionError("fd 4 was not closed")
            chunk = os.read(self.msg_r, 65536)
            if not chunk:
                return data
            data += chunk

    def finish(self):
        """(exit status, stdout, stderr) once the process ends."""
        self.close_requests()
        try:
            out, err = self.proc.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"the handler did not exit within {WAIT} s; stderr: {err.decode()}")
        return self.proc.returncode, out.decode(), err.decode()

    def stderr(self):
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read().decode()

    def close(self):
        self.close_requests()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()
        os.close(self.msg_r)


class HandlerTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tickq-pkg-")
        Path(self.dir, "tq_tasks.py").write_text(TASKS)
        Path(self.dir, "tq_async.py").write_text(ASYNC_TASKS)
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start(self, *args, env=None, argv=None):
        h = Handler(self.dir, *args, env=env, argv=argv)
        self.addCleanup(h.close)
        return h

    def started(self, *args):
        """A handler that has said hello; returns (handler, hello)."""
        h = self.start(*args)
        return h, h.recv()

    def boom_line(self):
        lines = TASKS.splitlines()
        return next(i for i, text in enumerate(lines, 1) if "BOOM LINE" in text)


class TestInlineHandler(HandlerTestCase):
    """max_jobs 1, plain functions: jobs run inline."""

    def test_hello_announces_sorted_types_and_max_jobs(self):
        h, hello = self.started("tq_tasks")
        self.assertEqual(hello, {"msg": "hello", "protocol": 1, "max_jobs": 1,
                                 "types": sorted(["ok", "scalar", "retry", "fail", "boom", "progress", "bad_progress",
                                                  "unserialisable", "nan", "printer", "wait_cancel"])})
        self.assertEqual(h.finish()[0], 0)

    def test_hello_carries_the_argument_schemas_declared_with_task(self):
        Path(self.dir, "tq_schema.py").write_text(
            "from tickq import task\n"
            "ARGS = [{'name': 'day', 'type': 'date', 'required': True, 'doc': 'the day'}]\n"
            "@task('with_args', args=ARGS)\n"
            "def with_args(args, job):\n    return {}\n"
            "@task('without')\n"
            "def without(args, job):\n    return {}\n")
        h, hello = self.started("tq_schema")
        self.assertEqual(hello["types"], ["with_args", "without"])
        self.assertEqual(hello["schema"], {"with_args": [{"name": "day", "type": "date", "required": True,
                                                          "doc": "the day"}]})
        self.assertEqual(h.finish()[0], 0)

    def test_task_refuses_an_args_schema_that_is_not_a_list_of_named_dicts(self):
        for bad in ({"day": "date"}, ["day"], [{"type": "date"}], [{"name": "x", "default": {1, 2}}]):
            with self.assertRaises(TypeError, msg=repr(bad)) as cm:
                runtime.task("t_bad", args=bad)
            self.assertIn("t_bad", str(cm.exception))

    def test_success_passes_the_job_fields(self):
        h, _ = self.started("tq_tasks")
        h.send(job("j1", "ok", {"day": "2026-12-03"}, attempt=2, max_retries=5))
        self.assertEqual(h.recv(), {"msg": "result", "id": "j1", "data": {
            "args": {"day": "2026-12-03"}, "id": "j1", "type": "ok", "attempt": 2, "max_retries": 5,
            "queue": "reports", "timeout_ms": 600000, "deadline_ms": 1796289000000, "cancelled": False}})
        h.send(job("j2", "scalar", {"n": 21}))
        self.assertEqual(h.recv(), {"msg": "result", "id": "j2", "data": 42})
        status, _, err = h.finish()
        self.assertEqual(status, 0, err)

    def test_retry_fail_and_uncaught_exception(self):
        h, _ = self.started("tq_tasks")
        h.send(job("r", "retry"))
        self.assertEqual(h.recv(), {"msg": "error", "id": "r", "error": "the database is busy", "retry": True})
        h.send(job("f", "fail"))
        self.assertEqual(h.recv(), {"msg": "error", "id": "f", "error": "bad input", "retry": False})
        h.send(job("b", "boom"))
        reply = h.recv()
        self.assertEqual((reply["msg"], reply["id"], reply["retry"]), ("error", "b", True))
        where = f"{os.path.join(self.dir, 'tq_tasks.py')}:{self.boom_line()} in boom"
        self.assertEqual(reply["error"], f"KeyError: 'missing' (at {where})")
        # the handler goes on after an exception
        h.send(job("after", "scalar", {"n": 1}))
        self.assertEqual(h.recv()["data"], 2)
        status, _, err = h.finish()
        self.assertEqual(status, 0)
        self.assertIn("Traceback (most recent call last)", err)
        self.assertIn("KeyError: 'missing'", err)
        self.assertIn("job b (boom, attempt 1)", err)
        self.assertNotIn("the database is busy", err)  # Retry and Fail are answers, not crashes

    def test_progress_messages_then_the_result(self):
        h, _ = self.started("tq_tasks")
        h.send(job("p", "progress"))
        self.assertEqual(h.recv(), {"msg": "progress", "id": "p", "fraction": 0.5, "message": "half way"})
        self.assertEqual(h.recv(), {"msg": "progress", "id": "p", "fraction": 1.0})
        self.assertEqual(h.recv(), {"msg": "result", "id": "p", "data": "done"})
        h.send(job("bp", "bad_progress"))
        reply = h.recv()
        self.assertEqual((reply["msg"], reply["retry"]), ("error", True))
        self.assertTrue(reply["error"].startswith("ValueError: progress fraction must be from 0 to 1, not 1.5"),
                        reply)

    def test_a_result_that_is_not_json_fails_the_job_naming_the_type(self):
        h, _ = self.started("tq_tasks")
        h.send(job("u", "unserialisable"))
        reply = h.recv()
        self.assertEqual((reply["msg"], reply["id"], reply["retry"]), ("error", "u", False))
        self.assertIn("returned a dict, which is not JSON", reply["error"])
        self.assertIn("set", reply["error"])
        h.send(job("n", "nan"))
        reply = h.recv()
        self.assertEqual((reply["msg"], reply["retry"]), ("error", False))
        self.assertIn("returned a float, which is not JSON", reply["error"])

    def test_print_goes_to_stdout_not_to_fd_4(self):
        h, _ = self.started("tq_tasks")
        h.send(job("pr", "printer"))
        self.assertEqual(h.recv(), {"msg": "result", "id": "pr", "data": {"printed": True}})
        h.close_requests()
        self.assertEqual(h.rest(), b"")
        status, out, _ = h.finish()
        self.assertEqual(status, 0)
        self.assertEqual(out, "hello from the task\n")

    def test_a_cancel_sets_job_cancelled_of_a_plain_function(self):
        h, _ = self.started("tq_tasks")
        h.send(job("w", "wait_cancel"))
        self.assertEqual(h.recv(), {"msg": "progress", "id": "w", "fraction": 0.0, "message": "started"})
        h.send({"msg": "cancel", "id": "someone-else", "reason": "cancel"})  # already replied: ignored
        h.send({"msg": "cancel", "id": "w", "reason": "timeout"})
        self.assertEqual(h.recv(), {"msg": "result", "id": "w", "data": {"saw_cancel": True, "reason": "timeout"}})
        # a cancel arriving after the reply is ignored too
        h.send({"msg": "cancel", "id": "w", "reason": "cancel"})
        h.send(job("next", "scalar", {"n": 2}))
        self.assertEqual(h.recv()["data"], 4)
        self.assertEqual(h.finish()[0], 0)

    def test_end_of_file_on_fd_3_exits_0(self):
        h, _ = self.started("tq_tasks")
        status, out, err = h.finish()
        self.assertEqual((status, out, err), (0, "", ""))

    def test_a_job_of_a_type_it_does_not_serve_fails(self):
        h, _ = self.started("tq_tasks")
        h.send(job("x", "nope"))
        reply = h.recv()
        self.assertEqual((reply["msg"], reply["retry"]), ("error", False))
        self.assertIn("serves no task type 'nope'", reply["error"])


class TestMalformedRequests(HandlerTestCase):
    """A request the runtime does not understand: a line on stderr, exit 2."""

    def check_exit_2(self, data, words, *args):
        h, _ = self.started(*(args or ("tq_tasks",)))
        h.send_raw(data)
        status, _, err = h.finish()
        self.assertEqual(status, 2, err)
        self.assertIn("malformed request", err)
        self.assertIn(words, err)

    def test_bad_json(self):
        self.check_exit_2(b"{not json\n", "not JSON")

    def test_not_an_object(self):
        self.check_exit_2(b"[1, 2]\n", "not a JSON object")

    def test_unknown_kind(self):
        self.check_exit_2(b'{"msg": "shutdown"}\n', "unknown message kind 'shutdown'")

    def test_unknown_key(self):
        bad = dict(job("j", "ok"), priority="high")
        self.check_exit_2((json.dumps(bad) + "\n").encode(), "unknown key 'priority'")

    def test_missing_key(self):
        bad = job("j", "ok")
        del bad["deadline_ms"]
        self.check_exit_2((json.dumps(bad) + "\n").encode(), "missing key 'deadline_ms'")

    def test_wrong_type(self):
        self.check_exit_2((json.dumps(job("j", "ok", args=[1])) + "\n").encode(), "'args' must be an object")

    def test_bad_cancel_reason(self):
        self.check_exit_2(b'{"msg": "cancel", "id": "j", "reason": "because"}\n', "reason of timeout or cancel")

    def test_a_line_cut_at_end_of_file(self):
        self.check_exit_2(b'{"msg": "job"', "ends without a newline")

    def test_malformed_in_asyncio_mode(self):
        self.check_exit_2(b"{not json\n", "not JSON", "--max-jobs", "2", "tq_async")


class TestAsyncHandler(HandlerTestCase):
    """async def tasks, max_jobs > 1: an asyncio loop."""

    def test_two_async_jobs_overlap_and_reply_in_completion_order(self):
        h, hello = self.started("--max-jobs", "2", "tq_async")
        self.assertEqual(hello, {"msg": "hello", "protocol": 1, "types": ["first", "forever", "plain", "second"],
                                 "max_jobs": 2})
        h.send(job("a", "first"))
        h.send(job("b", "second"))
        self.assertEqual(h.recv(), {"msg": "progress", "id": "b", "fraction": 0.5})
        self.assertEqual(h.recv(), {"msg": "result", "id": "b", "data": {"job": "second"}})
        self.assertEqual(h.recv(), {"msg": "result", "id": "a", "data": {"job": "first"}})
        status, _, err = h.finish()
        self.assertEqual(status, 0, err)

    def test_cancel_of_an_async_job(self):
        h, _ = self.started("--max-jobs", "2", "tq_async")
        h.send(job("f", "forever"))
        self.assertEqual(h.recv(), {"msg": "progress", "id": "f", "fraction": 0.0, "message": "started"})
        h.send(job("p", "plain", {"x": 1}))   # a plain function beside it, in a thread
        self.assertEqual(h.recv(), {"msg": "result", "id": "p", "data": {"plain": {"x": 1}}})
        h.send({"msg": "cancel", "id": "f", "reason": "cancel"})
        self.assertEqual(h.recv(), {"msg": "error", "id": "f", "error": "cancelled (cancel)", "retry": True})
        self.assertEqual(h.finish()[0], 0)

    def test_a_cancel_that_comes_with_its_job(self):
        h, _ = self.started("--max-jobs", "2", "tq_async")
        h.send_raw((json.dumps(job("f", "forever")) + "\n"
                    + json.dumps({"msg": "cancel", "id": "f", "reason": "timeout"}) + "\n").encode())
        self.assertEqual(h.recv(), {"msg": "progress", "id": "f", "fraction": 0.0, "message": "started"})
        self.assertEqual(h.recv(), {"msg": "error", "id": "f", "error": "cancelled (timeout)", "retry": True})
        self.assertEqual(h.finish()[0], 0)

    def test_end_of_file_with_a_job_running_exits_0(self):
        h, _ = self.started("--max-jobs", "2", "tq_async")
        h.send(job("f", "forever"))
        self.assertEqual(h.recv()["msg"], "progress")
        status, _, err = h.finish()
        self.assertEqual(status, 0, err)

    def test_async_tasks_with_max_jobs_1(self):
        h, hello = self.started("tq_async")
        self.assertEqual(hello["max_jobs"], 1)
        h.send(job("s", "second"))
        self.assertEqual(h.recv()["msg"], "progress")
        self.assertEqual(h.recv(), {"msg": "result", "id": "s", "data": {"job": "second"}})
        self.assertEqual(h.finish()[0], 0)

    def test_plain_functions_with_max_jobs_2(self):
        h, _ = self.started("--max-jobs", "2", "tq_tasks")
        h.send(job("w", "wait_cancel"))
        self.assertEqual(h.recv()["msg"], "progress")
        h.send(job("r", "retry"))
        self.assertEqual(h.recv(), {"msg": "error", "id": "r", "error": "the database is busy", "retry": True})
        h.send({"msg": "cancel", "id": "w", "reason": "timeout"})
        self.assertEqual(h.recv(), {"msg": "result", "id": "w", "data": {"saw_cancel": True, "reason": "timeout"}})
        h.send(job("pr", "printer"))
        self.assertEqual(h.recv()["id"], "pr")
        status, out, err = h.finish()
        self.assertEqual((status, out), (0, "hello from the task\n"), err)

    def test_more_jobs_than_max_jobs_is_malformed(self):
        h, _ = self.started("--max-jobs", "2", "tq_async")
        for i in range(3):
            h.send(job(f"f{i}", "forever"))
        status, _, err = h.finish()
        self.assertEqual(status, 2, err)
        self.assertIn("max_jobs is 2", err)


class TestCommandLine(HandlerTestCase):
    def run_handler(self, *args):
        env = dict(os.environ, PYTHONPATH=f"{CLIENTS}{os.pathsep}{self.dir}")
        return subprocess.run([PYTHON, "-m", "tickq.handler", *args], cwd=self.dir, env=env, capture_output=True,
                              text=True, timeout=WAIT)

    def test_check_lists_the_types(self):
        r = self.run_handler("--check", "tq_async")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "first\nforever\nplain\nsecond\n", ""))

    def test_check_with_an_import_error(self):
        Path(self.dir, "tq_broken.py").write_text("import no_such_module_here\n")
        r = self.run_handler("--check", "tq_broken")
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot import tq_broken: ModuleNotFoundError", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_a_duplicate_task_type_is_an_error_at_start(self):
        Path(self.dir, "tq_dup.py").write_text("from tickq import task\n@task('ok')\ndef other_ok(args, job):\n"
                                               "    return 1\n")
        r = self.run_handler("--check", "tq_tasks", "tq_dup")
        self.assertEqual(r.returncode, 1)
        self.assertIn("task type 'ok' is defined twice: by tq_tasks.ok and by tq_dup.other_ok", r.stderr)

    def test_no_tasks(self):
        Path(self.dir, "tq_empty.py").write_text("x = 1\n")
        r = self.run_handler("--check", "tq_empty")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no @task functions in tq_empty", r.stderr)

    def test_bad_command_lines(self):
        for args, words in ((["--max-jobs", "0", "tq_tasks"], "invalid --max-jobs '0'"),
                            (["--max-jobs"], "--max-jobs needs a number"),
                            (["--frobnicate", "tq_tasks"], "unknown option '--frobnicate'"),
                            (["tq_tasks.py"], "not a module name"),
                            ([], "at least one module")):
            r = self.run_handler(*args)
            self.assertEqual(r.returncode, 64, args)
            self.assertIn(words, r.stderr)

    def test_without_fds_3_and_4_it_says_how_it_is_run(self):
        r = self.run_handler("tq_tasks")
        self.assertEqual(r.returncode, 1)
        self.assertIn("[handler] section", r.stderr)

    def test_task_needs_a_name_and_a_two_argument_function(self):
        with self.assertRaisesRegex(TypeError, "@task needs the task type"):
            tickq.task(lambda args, job: 1)
        with self.assertRaisesRegex(ValueError, "invalid task type 'has space'"):
            tickq.task("has space")
        with self.assertRaisesRegex(TypeError, r"must take two arguments \(args, job\)"):
            runtime.register("one_arg", lambda args: 1, {})


class TestClientChecks(unittest.TestCase):
    """What Client refuses before any Redis call (no Redis here)."""

    class FakeRedis:
        def execute_command(self, *args):
            raise AssertionError("no Redis call expected")

    def setUp(self):
        try:
            import redis  # noqa: F401
        except ImportError:
            self.skipTest("python3-redis is not installed")
        self.c = Client(self.FakeRedis(), prefix="tq", group="g")

    def test_the_fcall_mirrors_tickq_enqueue(self):
        cmd = self.c.enqueue_command("generate_report", {"day": "2026-12-03"}, queue="reports", priority="high",
                                     id="job-1", max_retries=5, timeout=600, delay=0.25)
        self.assertEqual(cmd[:3], ["FCALL", "tickq_p1_enqueue", "0"])
        header, own = cmd[3:12], cmd[12:]
        self.assertEqual(header[0], "tq")
        self.assertEqual(header[3], "g")
        self.assertEqual(header[2], iso8601_ms(int(header[1]) * 1000))
        self.assertEqual(header[4:8], ["86400", "100000", "2000", "3600000"])
        self.assertEqual(own[:9], ["job-1", "generate_report", b'{"day":"2026-12-03"}', "reports", "high", "5",
                                   "600000", "250", "1048576"])
        self.assertEqual(own[10], "0")
        self.assertEqual(len(own), 11)
        # Without a timeout: 0, the worker's default (as `tickq enqueue`
        # without --timeout); given, it is the job's own.
        self.assertEqual(self.c.enqueue_command("echo", {})[12 + 6], "0")
        self.assertEqual(self.c.enqueue_command("echo", {}, timeout=None)[12 + 6], "0")
        self.assertEqual(self.c.enqueue_command("echo", {}, timeout=3600)[12 + 6], "3600000")
        self.assertEqual(self.c.enqueue_command("echo", {}, timeout=0.001)[12 + 6], "1")
        # expires: the last argument only when given (older libraries take 11).
        cmd = self.c.enqueue_command("echo", {}, delay=1, expires=2.5)
        self.assertEqual(cmd[12:][7], "1000")
        self.assertEqual(cmd[12:][11:], ["2500"])

    def test_refusals_name_the_problem(self):
        cases = [({"priority": "urgent"}, "invalid priority 'urgent'"),
                 ({"colour": "red"}, "unknown enqueue option colour (known: queue, priority"),
                 ({"priorty": "high"}, "unknown enqueue option priorty (did you mean priority?) (known:"),
                 ({"tmeout": 1, "qeue": "x"},
                  "unknown enqueue options qeue (did you mean queue?), tmeout (did you mean timeout?) (known:"),
                 ({"queue": "reports_high"}, "may not end in _high"),
                 ({"max_retries": 101}, "max_retries 101"),
                 ({"timeout": 0}, "more than 0"),
                 ({"timeout": 0.0001}, "more than 0"),
                 ({"timeout": -1}, "must not be negative"),
                 ({"timeout": 8 * 86400}, "at most 7 days"),
                 ({"delay": -1}, "must not be negative"),
                 ({"id": "has space"}, "spaces and control characters"),
                 ({"replace": True}, "replace=True needs id"),
                 ({"expires": 0}, "more than 0"),
                 ({"expires": 366 * 86400}, "at most a year"),
                 ({"expires": -1}, "must not be negative"),
                 ({"expires": 1, "delay": 2}, "before its delay ends")]
        for opts, words in cases:
            with self.assertRaises(ValueError, msg=opts) as cm:
                self.c.enqueue_command("echo", {}, **opts)
            self.assertIn(words, str(cm.exception))
        with self.assertRaisesRegex(ValueError, "args must be a dict"):
            self.c.enqueue_command("echo", [1])
        with self.assertRaisesRegex(ValueError, "args are not JSON"):
            self.c.enqueue_command("echo", {"x": float("nan")})
        with self.assertRaisesRegex(ValueError, "over the payload limit"):
            self.c.enqueue_command("echo", {"x": "a" * (1 << 20)})

    def test_settings_from_the_environment(self):
        self.assertEqual(settings_from_env({}), {"prefix": "tickq", "group": "workers", "result_ttl_s": 86400})
        self.assertEqual(settings_from_env({"TICKQ_PREFIX": "p", "TICKQ_GROUP": "w", "TICKQ_RESULT_TTL": "2h"}),
                         {"prefix": "p", "group": "w", "result_ttl_s": 7200})
        with self.assertRaisesRegex(ValueError, "TICKQ_PREFIX='a b' is not valid"):
            settings_from_env({"TICKQ_PREFIX": "a b"})
        with self.assertRaisesRegex(ValueError, "at least 1 s"):
            settings_from_env({"TICKQ_RESULT_TTL": "500ms"})
        self.assertEqual(parse_duration_ms("0.5", 1000), 500)
        self.assertEqual(iso8601_ms(1768473000123456), "2026-01-15T10:30:00.123Z")

    def test_streams_priorities(self):
        self.assertEqual([priority_name(p) for p in (1, 3, 4, 7, 8, 10, "low", "high")],
                         ["low", "low", "normal", "normal", "high", "high", "low", "high"])
        for bad in (0, 11, True, "urgent", 5.0):
            with self.assertRaises(ValueError):
                priority_name(bad)
        with self.assertRaisesRegex(ValueError, "already registered"):
            qm = QueueManager(self.FakeRedis(), queue="reports")
            qm.register_handler("t", lambda payload: {})
            qm.register_handler("t", lambda payload: {})
        with self.assertRaisesRegex(TypeError, r"one argument \(payload\)"):
            QueueManager(self.FakeRedis()).register_handler("t", lambda payload, extra: {})


STREAMS_WORKER = '''\
import asyncio
from tickq import Fail
from tickq.streams import QueueManager

async def backtest(payload):
    await asyncio.sleep(0)
    return {"symbols": payload["symbols"], "rows": 10}

def data_fetch(payload):
    raise Fail("no provider for " + payload["symbol"])

qm = QueueManager(queue="backtest")
qm.register_handler("backtest", backtest)
qm.register_handler("data_fetch", data_fetch)
asyncio.run(qm.start_worker(max_jobs=4))
print("start_worker returned")
'''


class TestStreamsWorker(HandlerTestCase):
    """QueueManager.start_worker serves registered handlers as a handler."""

    def setUp(self):
        super().setUp()
        Path(self.dir, "tq_streams_worker.py").write_text(STREAMS_WORKER)

    def test_start_worker_under_tickq(self):
        h = self.start(argv=["tq_streams_worker.py"])
        self.assertEqual(h.recv(), {"msg": "hello", "protocol": 1, "types": ["backtest", "data_fetch"],
                                    "max_jobs": 4})
        h.send(job("b", "backtest", {"symbols": ["AAPL"]}))
        self.assertEqual(h.recv(), {"msg": "result", "id": "b", "data": {"symbols": ["AAPL"], "rows": 10}})
        h.send(job("d", "data_fetch", {"symbol": "MSFT"}))
        self.assertEqual(h.recv(), {"msg": "error", "id": "d", "error": "no provider for MSFT", "retry": False})
        status, out, err = h.finish()
        self.assertEqual((status, out), (0, "start_worker returned\n"), err)

    def test_start_worker_not_under_tickq_says_how_to_run_it(self):
        env = dict(os.environ, PYTHONPATH=str(CLIENTS))
        r = subprocess.run([PYTHON, "tq_streams_worker.py"], cwd=self.dir, env=env, capture_output=True, text=True,
                           timeout=WAIT)
        self.assertEqual(r.returncode, 1)
        self.assertIn("RuntimeError: start_worker() serves jobs to a tickq worker", r.stderr)
        self.assertIn("types = backtest, data_fetch", r.stderr)


class TestVenvInstall(unittest.TestCase):
    """pip install --no-build-isolation of clients/python into a venv with
    the system site packages, offline (Debian's python3-venv,
    python3-setuptools, python3-wheel)."""

    def test_offline_install_serves_check(self):
        tmp = Path(tempfile.mkdtemp(prefix="tickq-venv-"))
        self.addCleanup(shutil.rmtree, tmp, True)
        src = tmp / "src"
        # A copy, so that the build leaves nothing in the checkout.
        shutil.copytree(CLIENTS, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")
        r = subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", str(tmp / "v")], env=env,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, "python3 -m venv failed (scripts/setup must install python3-venv): "
                         + r.stderr)
        r = subprocess.run([str(tmp / "v" / "bin" / "pip"), "install", "--no-build-isolation", "--no-index",
                            str(src)], env=env, cwd=tmp, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, "pip install failed (scripts/setup must install python3-setuptools and "
                         "python3-wheel): " + r.stdout + r.stderr)
        work = tmp / "work"
        work.mkdir()
        (work / "tq_tasks.py").write_text(TASKS)
        vpy = str(tmp / "v" / "bin" / "python")
        r = subprocess.run([vpy, "-c", "import tickq, tickq_client, tickq.streams; print(tickq.__file__); "
                            "print(tickq_client.__file__); print(tickq.__version__)"],
                           env=env, cwd=work, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        pkg, single, version = r.stdout.split()
        self.assertTrue(pkg.startswith(str(tmp / "v")), pkg)
        self.assertTrue(single.startswith(str(tmp / "v")), single)
        self.assertEqual(version, tickq.__version__)
        r = subprocess.run([vpy, "-m", "tickq.handler", "--check", "tq_tasks"], env=env, cwd=work,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("wait_cancel\n", r.stdout)
        self.assertEqual(len(r.stdout.splitlines()), 11)


if __name__ == "__main__":
    unittest.main()
