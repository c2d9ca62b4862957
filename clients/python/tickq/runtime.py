"""tickq.runtime — the handler side of tickq's wire format (docs/handlers.md).

Holds the task registry (`@task`), the `Job` a task receives, `Retry` and
`Fail`, and the two ways of serving jobs over fd 3 (requests, read) and fd 4
(messages, written):

- inline: every task is a plain function and max_jobs is 1. Each job runs
  on the main thread as soon as its line is read; no asyncio, no threads.
  This is the fast path (benchmarked: make bench-handlers). A cancel can
  only be seen when the task asks (`job.cancelled` polls fd 3 without
  blocking);
- asyncio: some task is `async def`, or max_jobs > 1. An event loop reads
  fd 3 (loop.add_reader), runs up to max_jobs jobs at once (coroutines on
  the loop, plain functions in a thread pool of max_jobs threads) and
  replies in completion order. A cancel cancels a coroutine's asyncio task
  (reply: a transient error "cancelled (<reason>)"); a plain function only
  sees `job.cancelled` become true.

Invariants:
  (1) every job gets exactly one reply, and nothing for a job is written
      after its reply (`_Messages.reply` and `.progress` check `Job._done`
      under one lock);
  (2) nothing but protocol messages is ever written to fd 4: users' print()
      goes to fd 1 as usual;
  (3) a request this runtime does not understand (not JSON, an unknown
      `msg`, a missing or unknown key, a wrong type) ends the process with
      status 2 after one line on stderr (tickq starts it again);
  (4) end of file on fd 3 ends the process with status 0;
  (5) every line written to fd 4 is JSON tickq reads (tickq.json_rules: no
      integer beyond 64 bits, no NUL, no key twice): a result that json
      takes and tickq would not becomes a permanent error naming where it
      is, and a NUL in an error text or a progress message becomes U+FFFD.
"""
import contextvars
import json
import numbers
import os
import select
import sys
import threading
import traceback

from tickq import json_rules

PROTOCOL = 1
REQUEST_FD = 3
MESSAGE_FD = 4
LINE_MAX = 64 << 20          # the longest line tickq takes (docs/handlers.md)
MAX_JOBS_LIMIT = 1000        # --max-jobs upper bound: what tickq accepts in an announcement (HANDLER_MAX_JOBS_LIMIT)
TYPE_MAX = 64                # a task type: 1-64 of A-Z a-z 0-9 _ - . (src/core/job.h, JOB_TYPE_MAX)
EXIT_EOF = 0
EXIT_MALFORMED = 2

_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_JOB_KEYS = frozenset(("msg", "id", "type", "args", "attempt", "max_retries", "queue", "timeout_ms", "deadline_ms"))
_CANCEL_KEYS = frozenset(("msg", "id", "reason"))
_CANCEL_REASONS = ("timeout", "cancel")

# Compact, UTF-8 (encoded below: a lone surrogate fails there, in our hands,
# instead of reaching tickq as an escape it refuses), no NaN (not JSON);
# numpy's bool, integer and float scalars as the numbers they are.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                           default=json_rules.numpy_default).encode
_loads = json.loads


class Retry(Exception):
    """Raised by a task: this attempt failed for a passing reason; tickq
    retries the job with backoff while it has retries left."""


class Fail(Exception):
    """Raised by a task: the job cannot succeed (bad input...); tickq fails
    it at once, without retries."""


class _Malformed(Exception):
    """A request this runtime does not understand (invariant 3)."""

    def __init__(self, why, line=b""):
        super().__init__(why)
        self.line = bytes(line[:200])


# --- the registry -------------------------------------------------------------

_registry = {}


def check_type_name(name):
    """Raises ValueError unless `name` is a task type tickq accepts."""
    if not isinstance(name, str):
        raise TypeError(f"a task type is a string, not {type(name).__name__}: use @task(\"name\")")
    if not name or len(name) > TYPE_MAX or not _TYPE_CHARS.issuperset(name):
        raise ValueError(f"invalid task type {name!r}: use 1-{TYPE_MAX} characters from A-Z a-z 0-9 _ - .")


def _where(fn):
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _check_signature(name, fn):
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # a callable without a signature (a builtin): taken on trust
    try:
        sig.bind(None, None)
    except TypeError as e:
        raise TypeError(f"task {name!r}: {_where(fn)} must take two arguments (args, job): {e}") from None


_schemas = {}                 # task type -> its announced argument list (docs/handlers.md, "Argument schemas")


def _check_schema(name, args):
    """A light check of an argument schema (tickq checks it in full when the
    handler announces it, and refuses the announcement naming what is
    wrong): a list of dicts, each with a name, that JSON can carry."""
    if not isinstance(args, (list, tuple)) or not all(isinstance(a, dict) and "name" in a for a in args):
        raise TypeError(f"task {name!r}: args must be a list of dicts like "
                        "{\"name\": \"day\", \"type\": \"date\", \"required\": True, \"doc\": \"...\"}")
    try:
        _encode(list(args))
    except (TypeError, ValueError) as e:
        raise TypeError(f"task {name!r}: args cannot be sent as JSON: {e}") from None
    why = json_rules.problem(list(args), "args")
    if why is not None:
        raise TypeError(f"task {name!r}: args cannot be sent as JSON tickq reads: {why}")
    return list(args)


def register(name, fn, registry=None, args=None):
    """Registers `fn` (def or async def, called as fn(args, job)) as the task
    type `name` in `registry` (default: the one @task fills). `args`, when
    given, is the argument schema announced for it: tickq then refuses a job
    whose args do not fit before this process sees it. A name taken by
    another function is a ValueError naming both; the same function defined
    again (a module imported anew) replaces itself."""
    check_type_name(name)
    if not callable(fn):
        raise TypeError(f"task {name!r}: {fn!r} is not callable")
    _check_signature(name, fn)
    schema = None if args is None else _check_schema(name, args)
    reg = _registry if registry is None else registry
    old = reg.get(name)
    if old is not None and _where(old) != _where(fn):
        raise ValueError(f"task type {name!r} is defined twice: by {_where(old)} and by {_where(fn)}")
    reg[name] = fn
    if schema is None:
        _schemas.pop(name, None)
    else:
        _schemas[name] = schema
    return fn


def task(name, args=None):
    """Decorator: @task("generate_report") makes the function below the
    handler of that task type; @task("generate_report", args=[...]) also
    announces its argument schema. Returns the function unchanged."""
    if callable(name) and not isinstance(name, str):
        raise TypeError(f"@task needs the task type: write @task(\"name\") above {_where(name)}")
    check_type_name(name)
    if args is not None:
        _check_schema(name, args)
    return lambda fn: register(name, fn, args=args)


def registered():
    """The tasks @task has registered so far, as a new dict name -> function."""
    return dict(_registry)


def is_async(fn):
    import inspect
    return inspect.iscoroutinefunction(fn)


# --- the job a task receives ----------------------------------------------------

# The job whose task is running in this thread (a plain task) or asyncio
# task (an async def one): get_current_job().
_current_job = contextvars.ContextVar("tickq_current_job", default=None)


def get_current_job():
    """The Job of the task running here, or None outside a task: RQ's
    rq.get_current_job() for code deep in a task that was never handed the
    job (helpers that log its id or report progress). Set for the task's
    own thread or coroutine, as RQ's is (a thread the task starts itself
    sees None)."""
    return _current_job.get()


class Job:
    """What a task knows of its job: id, type, attempt (1 on the first run),
    max_retries, queue (logical), timeout_ms, deadline_ms (epoch ms at which
    tickq sends a cancel); progress() and cancelled."""

    __slots__ = ("id", "type", "attempt", "max_retries", "queue", "timeout_ms", "deadline_ms",
                 "cancel_reason", "_cancelled", "_done", "_out", "_poll")

    def __init__(self, msg, out, poll=None):
        self.id = msg["id"]
        self.type = msg["type"]
        self.attempt = msg["attempt"]
        self.max_retries = msg["max_retries"]
        self.queue = msg["queue"]
        self.timeout_ms = msg["timeout_ms"]
        self.deadline_ms = msg["deadline_ms"]
        self.cancel_reason = None
        self._cancelled = False
        self._done = False
        self._out = out
        self._poll = poll

    @property
    def cancelled(self):
        """True once tickq has sent a cancel for this job (its timeout, or
        `tickq cancel`): the task should stop soon and return or raise."""
        if not self._cancelled and self._poll is not None:
            self._poll(self)
        return self._cancelled

    def progress(self, fraction, message=None):
        """Reports progress: `fraction` from 0 to 1, `message` an optional
        string. Shown in task_result:<id> while the job runs."""
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
            raise TypeError(f"progress fraction must be a number from 0 to 1, not {type(fraction).__name__}")
        f = float(fraction)
        if not 0.0 <= f <= 1.0:
            raise ValueError(f"progress fraction must be from 0 to 1, not {fraction!r}")
        if message is not None and not isinstance(message, str):
            raise TypeError(f"progress message must be a string or None, not {type(message).__name__}")
        self._out.progress(self, f, message)

    def __repr__(self):
        return f"<tickq Job {self.id} {self.type} attempt {self.attempt}>"


# --- fd 4: messages ---------------------------------------------------------------

def _utf8(text):
    """Text safe to send (error texts and progress messages): a lone
    surrogate and a NUL become U+FFFD, as tickq makes them of a handler's
    output (json_rules: tickq takes text without NUL)."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\0", "\ufffd")


class _Messages:
    """Writes whole lines to fd 4. One lock orders progress and replies of
    jobs running in threads (invariant 1)."""

    def __init__(self, fd=MESSAGE_FD):
        self.fd = fd
        self.lock = threading.Lock()
        self.closed = False    # tickq has closed fd 3: nothing more is sent

    def _write(self, data):
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def send(self, line):
        with self.lock:
            self._write(line)

    def reply(self, job, line):
        with self.lock:
            if job._done:
                raise RuntimeError(f"job {job.id} has already replied")
            job._done = True
            if not self.closed:
                self._write(line)

    def progress(self, job, fraction, message):
        if message is None:
            line = '{"msg":"progress","id":%s,"fraction":%s}\n' % (_encode(job.id), _encode(fraction))
        else:
            line = '{"msg":"progress","id":%s,"fraction":%s,"message":%s}\n' % (
                _encode(job.id), _encode(fraction), _encode(_utf8(message)))
        data = line.encode("utf-8")
        with self.lock:
            if job._done:
                raise RuntimeError(f"job {job.id} has already replied: progress after the reply is refused")
            if not self.closed:
                self._write(data)


def hello_line(types, max_jobs):
    hello = {"msg": "hello", "protocol": PROTOCOL, "types": sorted(types), "max_jobs": max_jobs}
    schema = {name: _schemas[name] for name in sorted(types) if name in _schemas}
    if schema:
        hello["schema"] = schema
    return (_encode(hello) + "\n").encode("utf-8")


def _error_line(job, text, retry):
    return ('{"msg":"error","id":%s,"error":%s,"retry":%s}\n' % (
        _encode(job.id), _encode(_utf8(text)), "true" if retry else "false")).encode("utf-8")


def _result_line(job, value):
    try:
        data = _encode(value)
        line = ('{"msg":"result","id":%s,"data":%s}\n' % (_encode(job.id), data)).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as e:
        return _error_line(job, _not_json(value, e), False)
    why = json_rules.problem(value, "result", text=data)
    if why is not None:   # JSON to Python, not to tickq: sent, it would be a line tickq cannot read
        return _error_line(job, f"the task returned a {type(value).__name__} that tickq cannot read as JSON: {why}",
                           False)
    if len(line) > LINE_MAX:
        return _error_line(job, f"the task's result is {len(line)} bytes of JSON, over tickq's line limit of "
                                f"{LINE_MAX} bytes: return less, or store it elsewhere and return where", False)
    return line


def _not_json(value, e):
    import inspect
    if inspect.iscoroutine(value):
        value.close()  # never awaited: say so here rather than in a warning
        return ("the task returned a coroutine (a plain def returning an awaitable): declare it async def "
                "so that the runtime awaits it")
    head = f"the task returned a {type(value).__name__}, which is not JSON"
    where = json_rules.unencodable(value, "result", _encode) if isinstance(value, (dict, list, tuple)) else None
    return f"{head}: {where}" if where is not None else f"{head}: {type(e).__name__}: {e}"


def describe_exception(e):
    """'ExcType: message (at file:line in func)', the last frame of its traceback."""
    name = type(e).__name__
    text = str(e)
    head = f"{name}: {text}" if text else name
    tb = e.__traceback__
    if tb is None:
        return head
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return f"{head} (at {code.co_filename}:{tb.tb_lineno} in {code.co_name})"


def _exception_line(job, e):
    """The reply for a task that raised `e` (an Exception)."""
    if isinstance(e, Fail):
        return _error_line(job, str(e) or "Fail raised without a message", False)
    if isinstance(e, Retry):
        return _error_line(job, str(e) or "Retry raised without a message", True)
    sys.stderr.write(f"tickq: job {job.id} ({job.type}, attempt {job.attempt}) raised:\n")
    traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)
    sys.stderr.flush()
    return _error_line(job, describe_exception(e), True)


def _unknown_type_line(job, tasks):
    return _error_line(job, f"this handler serves no task type {job.type!r} (it serves: {', '.join(sorted(tasks))})",
                       False)


def run_sync(fn, args, job):
    """Runs a plain task; returns its reply line."""
    token = _current_job.set(job)
    try:
        value = fn(args, job)
    except Exception as e:
        return _exception_line(job, e)
    finally:
        _current_job.reset(token)
    return _result_line(job, value)


# --- fd 3: requests -----------------------------------------------------------------

def _bad_job(msg):
    """Why a job message with the right keys is malformed."""
    kinds = {str: "a string", dict: "an object", int: "an integer"}
    want = (("id", str), ("type", str), ("args", dict), ("attempt", int), ("max_retries", int),
            ("queue", str), ("timeout_ms", int), ("deadline_ms", int))
    for key, kind in want:
        v = msg[key]
        if type(v) is not kind:
            return f"job field {key!r} must be {kinds[kind]}, not {type(v).__name__}"
    if not msg["id"]:
        return "job field 'id' is empty"
    return None


def _keys_problem(msg, keys):
    unknown = sorted(set(msg) - keys)
    missing = sorted(keys - set(msg))
    parts = []
    if unknown:
        parts.append("unknown key" + ("s " if len(unknown) > 1 else " ") + ", ".join(map(repr, unknown)))
    if missing:
        parts.append("missing key" + ("s " if len(missing) > 1 else " ") + ", ".join(map(repr, missing)))
    return f"a {msg['msg']!r} message with " + " and ".join(parts)


def parse_request(line):
    """The request on one line (bytes, without its newline), checked; raises
    _Malformed."""
    try:
        msg = _loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise _Malformed(f"not JSON ({e})", line) from None
    if type(msg) is not dict:
        raise _Malformed(f"not a JSON object (a {type(msg).__name__})", line)
    kind = msg.get("msg")
    if kind == "job":
        if msg.keys() != _JOB_KEYS:
            raise _Malformed(_keys_problem(msg, _JOB_KEYS), line)
        if not (type(msg["id"]) is str and type(msg["type"]) is str and type(msg["args"]) is dict
                and type(msg["attempt"]) is int and type(msg["max_retries"]) is int and type(msg["queue"]) is str
                and type(msg["timeout_ms"]) is int and type(msg["deadline_ms"]) is int and msg["id"]):
            raise _Malformed(_bad_job(msg), line)
        return msg
    if kind == "cancel":
        if msg.keys() != _CANCEL_KEYS:
            raise _Malformed(_keys_problem(msg, _CANCEL_KEYS), line)
        if type(msg["id"]) is not str or msg["reason"] not in _CANCEL_REASONS:
            raise _Malformed(f"a cancel needs a string id and a reason of {' or '.join(_CANCEL_REASONS)}", line)
        return msg
    raise _Malformed(f"unknown message kind {kind!r} (this runtime knows job and cancel)", line)


class _Requests:
    """fd 3 as lines, over a buffer of our own, so that a running inline job
    can look for its cancel without blocking (poll_during)."""

    def __init__(self, fd=REQUEST_FD):
        self.fd = fd
        self.buf = bytearray()
        self.eof = False
        self.fatal = None        # a _Malformed seen while a job ran
        self._poller = None
        self._polling = threading.Lock()  # a task's own threads may ask job.cancelled at once

    def line(self):
        """The next line (without its newline), blocking; None at end of file."""
        buf = self.buf
        while True:
            i = buf.find(b"\n")
            if i >= 0:
                line = buf[:i]
                del buf[:i + 1]
                return line
            if self.eof:
                if buf:
                    raise _Malformed("the last request ends without a newline", buf)
                return None
            chunk = os.read(self.fd, 1 << 16)
            if chunk:
                buf += chunk
            else:
                self.eof = True

    def poll_during(self, job):
        """Inline mode: reads what tickq has sent while `job` runs, without
        blocking. A cancel for it (or end of file, or a malformed request,
        kept in self.fatal for after the job) sets job.cancelled."""
        if self.eof or self.fatal is not None:
            job._cancelled = True
            return
        if not self._polling.acquire(blocking=False):
            return  # another thread of the task is reading: it will set the flag
        try:
            self._poll(job)
        finally:
            self._polling.release()

    def _poll(self, job):
        if self._poller is None:
            self._poller = select.poll()
            self._poller.register(self.fd, select.POLLIN)
        while self._poller.poll(0):
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                self.eof = True
                job._cancelled = True
                break
            self.buf += chunk
        buf = self.buf
        while True:
            i = buf.find(b"\n")
            if i < 0:
                return
            line = buf[:i]
            del buf[:i + 1]
            try:
                msg = parse_request(line)
            except _Malformed as e:
                self.fatal = e
                job._cancelled = True
                return
            if msg["msg"] != "cancel":
                self.fatal = _Malformed(f"job {msg['id']} came while job {job.id} runs, but max_jobs is 1", line)
                job._cancelled = True
                return
            if msg["id"] == job.id:
                job._cancelled = True
                job.cancel_reason = msg["reason"]


# --- serving ------------------------------------------------------------------------

def fds_problem():
    """None when fds 3 and 4 look like tickq's pipes (3 a readable pipe, 4 a
    writable one), else what is wrong. Pipes only: an event loop's epoll fd
    or a socket a program opened early may sit at 3 or 4 in a process tickq
    did not start."""
    import fcntl
    import stat
    for fd, want, name in ((REQUEST_FD, (os.O_RDONLY, os.O_RDWR), "readable"),
                           (MESSAGE_FD, (os.O_WRONLY, os.O_RDWR), "writable")):
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            mode = os.fstat(fd).st_mode
        except OSError:
            return f"fd {fd} is not open"
        if not stat.S_ISFIFO(mode):
            return f"fd {fd} is not a pipe"
        if flags & os.O_ACCMODE not in want:
            return f"fd {fd} is a pipe but not {name}"
    return None


def _line_buffered_stdout():
    """print() output reaches tickq's log line by line, while its job runs
    (tickq tags each line with the running job's id)."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(line_buffering=True)
        except (ValueError, OSError):  # pragma: no cover - a detached or closed stdout
            pass


def _prepare_fds():
    # A task's own child processes must not hold tickq's pipes open.
    os.set_inheritable(REQUEST_FD, False)
    os.set_inheritable(MESSAGE_FD, False)
    _line_buffered_stdout()


def report_malformed(e):
    sys.stderr.write(f"tickq.handler: malformed request from tickq: {e}; the line began {e.line!r}\n")
    sys.stderr.flush()


def serve(tasks, max_jobs=1):
    """Serves `tasks` (name -> function) over fds 3 and 4 until tickq closes
    fd 3. Returns the exit status: 0 at end of file, 2 after a malformed
    request (reported on stderr)."""
    if max_jobs == 1 and not any(is_async(fn) for fn in tasks.values()):
        return _serve_inline(tasks)
    import asyncio
    return asyncio.run(serve_async(tasks, max_jobs))


def _serve_inline(tasks):
    _prepare_fds()
    out = _Messages()
    reqs = _Requests()
    try:
        out.send(hello_line(tasks, 1))
        line_of, poll = reqs.line, reqs.poll_during
        while True:
            line = line_of()
            if line is None:
                return EXIT_EOF
            msg = parse_request(line)
            if msg["msg"] == "cancel":
                continue  # for a job that has already replied
            job = Job(msg, out, poll)
            fn = tasks.get(job.type)
            reply = run_sync(fn, msg["args"], job) if fn is not None else _unknown_type_line(job, tasks)
            if reqs.fatal is not None:
                raise reqs.fatal
            out.reply(job, reply)
    except _Malformed as e:
        report_malformed(e)
        return EXIT_MALFORMED
    except BrokenPipeError:
        sys.stderr.write("tickq.handler: tickq closed fd 4 (its end of the messages); exiting\n")
        return EXIT_EOF


async def serve_async(tasks, max_jobs):
    """The asyncio way of serving (see the top of this file), as a coroutine
    that runs in the caller's event loop. Returns the exit status as serve()
    does; when jobs running in threads are still busy at the end it cannot
    wait for them and ends the process (os._exit) with that status."""
    import asyncio
    loop = asyncio.get_running_loop()
    _prepare_fds()
    out = _Messages()
    fd = REQUEST_FD
    buf = bytearray()
    running = {}                      # job id -> (job, asyncio task)
    finished = loop.create_future()   # (status, _Malformed or None)
    coroutines = frozenset(name for name, fn in tasks.items() if is_async(fn))
    pool = None
    if len(coroutines) < len(tasks):
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(max_jobs, thread_name_prefix="tickq-job")
    busy = [0]                        # plain tasks running in threads (they cannot be cancelled)
    busy_lock = threading.Lock()

    def in_thread(fn, args, job):
        try:
            return run_sync(fn, args, job)
        finally:
            with busy_lock:
                busy[0] -= 1

    def stop(status, why=None):
        loop.remove_reader(fd)
        if not finished.done():
            finished.set_result((status, why))

    async def outcome(job, fn, args):
        """The job's reply line; CancelledError passes through."""
        if fn is None:
            return _unknown_type_line(job, tasks)
        if job.type not in coroutines:
            with busy_lock:
                busy[0] += 1
            return await loop.run_in_executor(pool, in_thread, fn, args, job)
        _current_job.set(job)          # this asyncio task's own context
        try:
            value = await fn(args, job)
        except Exception as e:
            return _exception_line(job, e)
        return _result_line(job, value)

    async def run(job, fn, args):
        try:
            line = await outcome(job, fn, args)
        except asyncio.CancelledError as e:
            if finished.done():
                raise                  # shutting down: no reply
            if job._cancelled:
                line = _error_line(job, f"cancelled ({job.cancel_reason})", True)
            else:                      # the task's own code was cancelled by someone else
                line = _exception_line(job, e)
        running.pop(job.id, None)
        try:
            out.reply(job, line)
        except BrokenPipeError:
            sys.stderr.write("tickq.handler: tickq closed fd 4 (its end of the messages); exiting\n")
            stop(EXIT_EOF)

    def handle(line):
        msg = parse_request(line)
        if msg["msg"] == "cancel":
            entry = running.get(msg["id"])
            if entry is not None:       # else it has already replied
                job, t = entry
                job._cancelled = True
                job.cancel_reason = msg["reason"]
                if job.type in coroutines:
                    # After the task's first step, not now: a task cancelled
                    # before it starts never enters run() and would not reply.
                    # (call_soon is FIFO, and create_task queued that step.)
                    loop.call_soon(t.cancel)
            return
        if msg["id"] in running:
            raise _Malformed(f"job {msg['id']} is already running here", line)
        if len(running) >= max_jobs:
            raise _Malformed(f"job {msg['id']} came while {len(running)} jobs run, but max_jobs is {max_jobs}", line)
        job = Job(msg, out)
        t = loop.create_task(run(job, tasks.get(job.type), msg["args"]))
        running[job.id] = (job, t)

    def on_readable():
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            return
        if not chunk:
            if buf:
                stop(EXIT_MALFORMED, _Malformed("the last request ends without a newline", buf))
            else:
                stop(EXIT_EOF)
            return
        buf.extend(chunk)
        while not finished.done():
            i = buf.find(b"\n")
            if i < 0:
                return
            line = buf[:i]
            del buf[:i + 1]
            try:
                handle(line)
            except _Malformed as e:
                stop(EXIT_MALFORMED, e)

    os.set_blocking(fd, False)
    try:
        out.send(hello_line(tasks, max_jobs))
    except BrokenPipeError:
        return EXIT_EOF
    loop.add_reader(fd, on_readable)
    status, why = await finished
    if why is not None:
        report_malformed(why)
    out.closed = True                  # tickq is not listening any more
    for job, t in list(running.values()):
        t.cancel()
    pending = [t for _, t in running.values()]
    if pending:
        await asyncio.wait(pending, timeout=1.0)
    if busy[0] or any(not t.done() for t in pending):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)               # threads running tasks cannot be stopped
    if pool is not None:
        pool.shutdown(wait=False)
    return status
