"""tickq.client — enqueue native tickq jobs from Python and wait for them.

`Client.enqueue` does what `tickq enqueue` does, without a process: it
checks the job as the CLI does (src/core/job.c, job_spec_check) and calls
the same Redis function, `FCALL tickq_p1_enqueue 0 <header> <job>`, with
the same argument header (src/lua/common.lua; src/core/queue.c,
header_fill and enqueue_args): key prefix, now (epoch ms), now (ISO 8601),
consumer group, result TTL, dead-letter cap, retry backoff base and cap,
a random seed; then id, type, args, queue, priority, max_retries,
timeout_ms (0 without a timeout: the worker's default), delay_ms,
max_payload, now_us, replace[, expires_ms[, depends_on, after_any]]. The prefix and group
come from TICKQ_PREFIX and TICKQ_GROUP (defaults tickq and workers), the
result TTL from TICKQ_RESULT_TTL, like every tickq command.

Unlike the CLI it does not check the task type against the types tickq
knows, nor the args against the task's argument table (the worker refuses
a bad job when it takes it, with an error result). Needs the redis package
(Debian: python3-redis). On a Redis no tickq process has used yet it loads
tickq's function library itself, from library.lua beside this file (`make`
writes it from src/lua; a worker that starts later loads the same text).

    from tickq import Client, TaskFailed
    c = Client()                                   # $REDIS_URL
    job = c.enqueue("generate_report", {"day": "2026-12-03"}, queue="reports", timeout=600)
    try:
        data = c.wait(job, timeout=900, on_progress=lambda f, m: print(f"{f:.0%} {m or ''}"))
    except TaskFailed as e:
        print(e.status, e.error)                   # failed, dead or cancelled
"""
import difflib
import json
import math
import numbers
import os
import random
import re
import time
import uuid

from tickq import json_rules, runtime
from tickq_client import RESULT_PREFIX, TaskTimeout, get_task_result

PROTOCOL = "1"
LIBRARY = "tickq_p" + PROTOCOL
ENQUEUE_FUNCTION = LIBRARY + "_enqueue"
ENQUEUE_BATCH_FUNCTION = LIBRARY + "_enqueue_batch"
# The library's text, as tickq loads it (scripts/embed-lua; copied here by make).
LIBRARY_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "library.lua")
# Jobs per enqueue_batch call (src/core/queue.h, QUEUE_BATCH_MAX) and the
# fields each takes there (src/lua/enqueue_batch.lua).
BATCH_MAX = 400
BATCH_FIELDS = 10

# The C side's defaults and limits (src/core/config.c, job.h, queue_names.h).
DEFAULT_PREFIX = "tickq"
DEFAULT_GROUP = "workers"
DEFAULT_QUEUE = "backtest"
PRIORITIES = ("high", "normal", "low")
DEFAULT_MAX_RETRIES = 3
MAX_RETRIES_LIMIT = 100
TIMEOUT_UNSET = 0  # timeout_ms of a job enqueued without one: the worker's default (job.h)
MAX_TIMEOUT_MS = 7 * 86400 * 1000
MAX_DELAY_MS = 365 * 86400 * 1000
MAX_EXPIRES_MS = 365 * 86400 * 1000  # job.h, JOB_MAX_EXPIRES_MS
MAX_PAYLOAD = 1024 * 1024
ARGS_MAX_DEPTH = 1000  # job.h, JOB_ARGS_MAX_DEPTH: the nesting Redis's cjson reads
RESULT_TTL_S = 86400
DLQ_CAP = 100000
RETRY_BASE_MS = 2000
RETRY_MAX_MS = 3600 * 1000
JOB_ID_MAX = 128
QUEUE_NAME_MAX = 100
SETTING_NAME_MAX = 63

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_SETTING_CHARS = _NAME_CHARS | frozenset("{}")
_DURATION = re.compile(r"([0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)(ms|s|m|h)?")
_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}
_ENQUEUE_OPTIONS = ("queue", "priority", "id", "max_retries", "timeout", "delay", "replace", "expires",
                    "depends_on", "after_any")
MAX_DEPS = 10000  # src/core/job.h, JOB_MAX_DEPS

builtin_type = type  # enqueue's first parameter is called type, as in `tickq enqueue TYPE`

__all__ = ["Client", "TaskFailed", "TaskTimeout", "JobExists", "JobNotFound", "settings_from_env"]


class TaskFailed(Exception):
    """The job ended without a result: `status` is failed (a permanent
    error), dead (retries spent) or cancelled; `error` its error text and
    `data` the whole data of its result."""

    def __init__(self, task_id, error, status, data=None):
        super().__init__(f"job {task_id} {status}: {error}")
        self.task_id = task_id
        self.error = error
        self.status = status
        self.data = data if data is not None else {}


class JobNotFound(LookupError):
    """wait() on an id Redis holds no job for: neither its record
    (`record`, <prefix>:job:<id>) nor its task_result:<id>, for `missing_s`
    seconds (wait's missing_grace)."""

    def __init__(self, task_id, record, missing_s):
        super().__init__(f"no job {task_id}: Redis holds neither its record {record} nor its "
                         f"{RESULT_PREFIX}{task_id} (checked for {missing_s:.1f} s): a mistyped id, a job deleted, or "
                         "one whose result has expired")
        self.task_id = task_id
        self.record = record


class JobExists(Exception):
    """enqueue(id=...) of an id that exists: nothing was enqueued. `state`
    is the existing job's (queued, running, retrying, or a final state when
    replace was not asked), `run` its run number."""

    def __init__(self, task_id, state, run, replace):
        final = state in ("completed", "failed", "dead", "cancelled")
        if replace and not final:
            why = (f"job {task_id} is still {state} (run {run}); not replaced: replace=True runs again only a job "
                   "that has finished (completed, failed, dead or cancelled); cancel it first to stop it")
        elif replace:  # finished, yet not replaced: an older function library answered
            why = (f"job {task_id} already exists (state {state}) and Redis runs a tickq library without "
                   "replace: upgrade every tickq process; nothing enqueued")
        else:
            why = (f"job {task_id} already exists (state {state}, run {run}); nothing enqueued"
                   + (" (replace=True runs it again)" if final else ""))
        super().__init__(why)
        self.task_id = task_id
        self.state = state
        self.run = run


# --- settings -------------------------------------------------------------------

def _setting_name(value, what):
    if not (0 < len(value) <= SETTING_NAME_MAX) or not _SETTING_CHARS.issuperset(value):
        raise ValueError(f"{what}={value!r} is not valid: use 1-{SETTING_NAME_MAX} of A-Z a-z 0-9 _ - . {{ }}")
    return value


def parse_duration_ms(text, unit_ms):
    """A duration as tickq reads one (src/core/clock.c, clock_parse_duration):
    a number of `unit_ms`, or with a unit ms, s, m, h. Raises ValueError."""
    m = _DURATION.fullmatch(text)
    if m is None:
        raise ValueError(f"{text!r} is not a duration (e.g. 30, 0.5, 500ms, 5m, 24h)")
    total = float(m.group(1)) * (_DURATION_UNITS[m.group(2)] if m.group(2) else unit_ms)
    if not math.isfinite(total) or total > 9.0e15:
        raise ValueError(f"{text!r} is not a duration (e.g. 30, 0.5, 500ms, 5m, 24h)")
    return math.floor(total + 0.5)


def settings_from_env(environ=None):
    """{"prefix", "group", "result_ttl_s"} from TICKQ_PREFIX, TICKQ_GROUP
    and TICKQ_RESULT_TTL, as tickq's commands read them."""
    env = os.environ if environ is None else environ
    prefix = env.get("TICKQ_PREFIX") or DEFAULT_PREFIX
    group = env.get("TICKQ_GROUP") or DEFAULT_GROUP
    ttl = RESULT_TTL_S
    if env.get("TICKQ_RESULT_TTL"):
        v = env["TICKQ_RESULT_TTL"]
        try:
            ms = parse_duration_ms(v, 1000)
        except ValueError:
            ms = 0
        if ms < 1000:
            raise ValueError(f"TICKQ_RESULT_TTL='{v}' is not a duration of at least 1 s (e.g. 86400 or 24h)")
        ttl = ms // 1000
    return {"prefix": _setting_name(prefix, "TICKQ_PREFIX"), "group": _setting_name(group, "TICKQ_GROUP"),
            "result_ttl_s": ttl}


def iso8601_ms(us):
    """Epoch microseconds as "2026-01-15T10:30:00.123Z" (src/core/clock.c)."""
    ms = us // 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


# --- checks: the CLI's (src/core/job.c, job_spec_check) -----------------------

def _depends_args(depends_on, after_any):
    """depends_on and after_any as enqueue's last two arguments ([] for
    none), checked as the CLI checks --after (src/core/job.c,
    job_depends_check)."""
    if not isinstance(after_any, bool):
        raise ValueError(f"after_any must be True or False, not {after_any!r}")
    if depends_on is None:
        if after_any:
            raise ValueError("after_any=True needs depends_on: the jobs to run after")
        return []
    ids = [depends_on] if isinstance(depends_on, str) else depends_on
    if not isinstance(ids, (list, tuple)) or not ids:
        raise ValueError("depends_on must be a job id or a non-empty list of job ids")
    if len(ids) > MAX_DEPS:
        raise ValueError(f"depends_on lists more than {MAX_DEPS} jobs")
    for dep in ids:
        if not isinstance(dep, str):
            raise ValueError(f"depends_on: {dep!r} is not a job id (a string)")
        if "," in dep:
            raise ValueError(f"depends_on: job id {dep!r} holds a comma, which depends_on cannot name")
        _check_id(dep)
    return [",".join(ids), "1" if after_any else "0"]


def _check_id(task_id):
    if not isinstance(task_id, str):
        raise ValueError(f"invalid job id: a string, not {type(task_id).__name__}")
    n = len(task_id.encode("utf-8", "surrogatepass"))
    if n == 0 or n > JOB_ID_MAX:
        raise ValueError(f"invalid job id: use 1-{JOB_ID_MAX} characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in task_id):
        raise ValueError(f"invalid job id {task_id!r}: spaces and control characters are not allowed")


def _check_queue(queue):
    if (not isinstance(queue, str) or not 0 < len(queue) <= QUEUE_NAME_MAX
            or not _NAME_CHARS.issuperset(queue)):
        raise ValueError(f"invalid queue name {queue!r}: use 1-{QUEUE_NAME_MAX} characters from A-Z a-z 0-9 _ - .")
    for p in PRIORITIES:
        if len(queue) > len(p) + 1 and queue.endswith("_" + p):
            raise ValueError(f"invalid queue name {queue!r}: a queue name may not end in _high, _normal or _low "
                             "(those are its priority levels; pass priority= instead)")


def _seconds_ms(value, what, default_s):
    if value is None:
        value = default_s
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"invalid {what} {value!r}: give seconds as a number (e.g. 30 or 0.5)")
    if value < 0:
        raise ValueError(f"invalid {what} {value!r}: it must not be negative")
    return math.floor(value * 1000 + 0.5)


def _args_json(args):
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ValueError(f"args must be a dict (a JSON object like {{\"symbol\": \"AAPL\"}}), "
                         f"not {type(args).__name__}")
    try:   # first: json.dumps finds a cycle (ValueError), which depth() would follow for ever
        json_text = json.dumps(args, ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                               default=json_rules.numpy_default)
    except RecursionError:
        json_text = None    # deeper than Python's own recursion: named by the depth below
    except (TypeError, ValueError) as e:
        raise ValueError(f"args are not JSON: {type(e).__name__}: {e}") from None
    deep = json_rules.depth(args)   # acyclic here
    if deep > ARGS_MAX_DEPTH:
        raise ValueError(f"args are nested {deep} levels deep, more than the {ARGS_MAX_DEPTH} Redis reads")
    if json_text is None:
        raise ValueError("args are not JSON: RecursionError: nested deeper than Python's recursion limit")
    text = json_text.encode("utf-8")
    why = json_rules.problem(args, "args", ARGS_MAX_DEPTH, text=json_text)
    if why is not None:   # JSON that tickq's reader refuses (src/core/job.c, job_args_json_error)
        raise ValueError(why)
    if len(text) > MAX_PAYLOAD:
        raise ValueError(f"args are {len(text)} bytes, over the payload limit of {MAX_PAYLOAD} bytes")
    return text


def _text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else v


def _failed_status(data):
    if data.get("dead") is True:
        return "dead"
    if data.get("cancelled") is True:
        return "cancelled"
    return "failed"


def tls_options(redis_url, env=None):
    """redis.Redis.from_url's TLS keywords for `redis_url` from tickq's own
    settings (docs/production-redis.md), so that a producer trusts what the
    workers trust: TICKQ_REDIS_CACERT (the CA file; unset: the system's
    trust store), TICKQ_REDIS_CERT and TICKQ_REDIS_KEY (a client
    certificate: both or neither), TICKQ_REDIS_TLS_VERIFY (1, the default:
    check the certificate and the host name; 0: do not). Refuses what tickq
    refuses: a malformed switch, a certificate without its key, a CA with
    verification off, a TLS setting with a plain redis:// URL."""
    env = os.environ if env is None else env
    cacert = env.get("TICKQ_REDIS_CACERT") or None
    cert, key = env.get("TICKQ_REDIS_CERT") or None, env.get("TICKQ_REDIS_KEY") or None
    verify = env.get("TICKQ_REDIS_TLS_VERIFY")
    if verify not in (None, "", "0", "1"):
        raise ValueError(f"TICKQ_REDIS_TLS_VERIFY is {verify!r}: set it to 1 (check Redis's certificate, the "
                         "default) or 0")
    if (cert is None) != (key is None):
        raise ValueError("TICKQ_REDIS_CERT and TICKQ_REDIS_KEY go together: set both (a client certificate and "
                         "its key) or neither")
    tls = redis_url.startswith("rediss://")
    if not tls:
        given = [n for n, v in (("TICKQ_REDIS_CACERT", cacert), ("TICKQ_REDIS_CERT", cert),
                                ("TICKQ_REDIS_TLS_VERIFY", verify or None)) if v is not None]
        if given:
            raise ValueError(f"{given[0]} is set but the Redis URL is not rediss://: use rediss:// for TLS, or "
                             f"unset {given[0]}")
        return {}
    checked = verify != "0"
    if cacert is not None and not checked:
        raise ValueError("TICKQ_REDIS_CACERT is set but TICKQ_REDIS_TLS_VERIFY=0: a CA that nothing checks "
                         "against is a mistake; unset one of them")
    out = {"ssl_cert_reqs": "required" if checked else "none", "ssl_check_hostname": checked}
    if cacert is not None:
        out["ssl_ca_certs"] = cacert
    if cert is not None:
        out["ssl_certfile"], out["ssl_keyfile"] = cert, key
    return out


class Client:
    """A producer of native tickq jobs. `redis_url`: a URL
    (redis://host:6379/0, unix:///path/redis.sock?db=N), a redis.Redis
    client, or None for $REDIS_URL. `prefix` and `group` override
    TICKQ_PREFIX and TICKQ_GROUP, as --prefix and --group do."""

    def __init__(self, redis_url=None, *, prefix=None, group=None):
        settings = settings_from_env()
        self.prefix = _setting_name(prefix, "prefix") if prefix is not None else settings["prefix"]
        self.group = _setting_name(group, "group") if group is not None else settings["group"]
        self.result_ttl_s = settings["result_ttl_s"]
        try:
            import redis
        except ImportError:
            raise RuntimeError("tickq.Client needs the redis package: apt-get install python3-redis "
                               "(or pip install redis)") from None
        self._response_error = redis.exceptions.ResponseError
        self._link_errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        # ConnectionErrors that no wait will mend: a wrong password or user
        # (redis-py derives them from ConnectionError).
        self._refused_errors = tuple(getattr(redis.exceptions, n) for n in ("AuthenticationError",
                                                                              "AuthorizationError")
                                     if hasattr(redis.exceptions, n))
        if redis_url is None:
            redis_url = os.environ.get("REDIS_URL") or None
            if redis_url is None:
                raise ValueError("REDIS_URL is not set: export REDIS_URL=redis://host:6379/0 "
                                 "(or unix:///path/to/redis.sock), or pass Client(redis_url=...)")
        if isinstance(redis_url, str):
            try:
                self.redis = redis.Redis.from_url(redis_url, **tls_options(redis_url))
            except ValueError as e:
                raise ValueError(f"bad Redis URL {redis_url!r}: {e}") from None
        elif callable(getattr(redis_url, "execute_command", None)):
            self.redis = redis_url
        else:
            raise TypeError(f"redis_url must be a URL string, a redis.Redis client or None, not "
                            f"{type(redis_url).__name__}")

    # -- enqueue --

    def _header(self, now_us):
        """The argument header of every tickq function (src/lua/common.lua)."""
        return [self.prefix, str(now_us // 1000), iso8601_ms(now_us), self.group, str(self.result_ttl_s),
                str(DLQ_CAP), str(RETRY_BASE_MS), str(RETRY_MAX_MS), str(random.randrange(2147483647))]

    def enqueue_command(self, type, args=None, *, queue=DEFAULT_QUEUE, priority="normal", id=None,
                        max_retries=None, timeout=None, delay=None, replace=False, expires=None, depends_on=None,
                        after_any=False, **unknown):
        """The checked FCALL that enqueue() sends, as a list of arguments
        (for a pipeline or a test). Raises ValueError for a job tickq would
        refuse."""
        if unknown:
            named = ", ".join(name + "".join(f" (did you mean {m}?)" for m in
                                             difflib.get_close_matches(name, _ENQUEUE_OPTIONS, n=1))
                              for name in sorted(unknown))
            raise ValueError(f"unknown enqueue option{'s' if len(unknown) > 1 else ''} {named} "
                             f"(known: {', '.join(_ENQUEUE_OPTIONS)})")
        if not isinstance(type, str):
            raise ValueError(f"the task type must be a string, not {builtin_type(type).__name__}")
        runtime.check_type_name(type)
        args_text = _args_json(args)
        if not isinstance(replace, bool):
            raise ValueError(f"replace must be True or False, not {replace!r}")
        if replace and id is None:
            raise ValueError("replace=True needs id=...: it runs an existing job again")
        if id is not None:
            _check_id(id)
        else:
            id = str(uuid.uuid4())
        _check_queue(queue)
        if priority not in PRIORITIES:
            raise ValueError(f"invalid priority {priority!r}: use high, normal or low")
        if max_retries is None:
            max_retries = DEFAULT_MAX_RETRIES
        if (isinstance(max_retries, bool) or not isinstance(max_retries, int)
                or not 0 <= max_retries <= MAX_RETRIES_LIMIT):
            raise ValueError(f"invalid max_retries {max_retries!r}: use an integer from 0 to {MAX_RETRIES_LIMIT}")
        if timeout is None:
            timeout_ms = TIMEOUT_UNSET
        else:
            timeout_ms = _seconds_ms(timeout, "timeout", None)
            if not 0 < timeout_ms <= MAX_TIMEOUT_MS:
                raise ValueError("invalid timeout: it must be more than 0 and at most 7 days (604800 s); "
                                 "leave it out (None) for the worker's default")
        delay_ms = _seconds_ms(delay, "delay", 0)
        if delay_ms > MAX_DELAY_MS:
            raise ValueError("invalid delay: use 0 to 1 year")
        expiry = []
        if expires is not None:  # `tickq enqueue --expires`: job.c, job_expiry_check
            expires_ms = _seconds_ms(expires, "expires", None)
            if not 0 < expires_ms <= MAX_EXPIRES_MS:
                raise ValueError("invalid expiry: use more than 0 and at most a year (31536000 s)")
            if expires_ms <= delay_ms:
                raise ValueError(f"invalid expiry: the job would expire (after {expires_ms / 1000:.3f} s) before its "
                                 f"delay ends ({delay_ms / 1000:.3f} s); expires must be later than the delay")
            expiry = [str(expires_ms)]
        deps = _depends_args(depends_on, after_any)
        if deps and not expiry:
            expiry = ["0"]
        now_us = time.time_ns() // 1000
        return (["FCALL", ENQUEUE_FUNCTION, "0"] + self._header(now_us)
                + [id, type, args_text, queue, priority, str(max_retries), str(timeout_ms), str(delay_ms),
                   str(MAX_PAYLOAD), str(time.time_ns() // 1000), "1" if replace else "0"] + expiry + deps)

    def enqueue(self, type, args=None, **options):
        """Enqueues one job as `tickq enqueue` does and returns its id.
        Options: queue (default backtest), priority (high, normal, low),
        id (default a new UUID), max_retries (default 3), timeout (seconds;
        default None: the worker's default, 1 h unless its pool's
        job_timeout or its --job-timeout says otherwise), delay (seconds),
        replace (with id: run a finished job again). Raises ValueError for a job tickq refuses (the reason
        follows "job refused: " as the CLI says it), JobExists when the id
        exists and nothing was enqueued, RuntimeError when Redis cannot
        take it (out of memory, another tickq protocol, no library).
        expires (seconds, `tickq enqueue --expires`): a job not started
        within that long ends cancelled ("Job expired") and never runs.
        depends_on (a job id or a list of them, `tickq enqueue --after`):
        the job waits (state deferred) until they have all completed, and
        fails if one fails, dies or is cancelled; after_any=True runs it
        once they have all ended, however. An unknown id is a ValueError."""
        cmd = self.enqueue_command(type, args, **options)
        try:
            reply = self._fcall(cmd)
        except self._response_error as e:
            raise self._refusal(e) from None
        return self._created(reply, options.get("replace") is True)

    def enqueue_many(self, jobs):
        """Enqueues many jobs, each a dict {"type", "args", and enqueue()'s
        options: queue, priority, id, max_retries, timeout, delay, replace,
        expires} (no depends_on: a batch goes in together), as `tickq
        enqueue --file` does. Every job is checked before any is sent: a bad
        one raises ValueError naming its index and nothing is enqueued. Then
        they go BATCH_MAX to a Redis call, each call all or nothing. Returns
        one dict per job, in order: {"id", "created", "state", "run"}
        (created False: the id existed and nothing was enqueued for it,
        state and run being that job's). When a call fails (RuntimeError, or
        ValueError for a replace of a job waiting jobs still need) the calls
        before it went in: the exception's `enqueued` attribute says how many
        jobs, and its `results` their dicts, in order, as the return value
        would hold them (len(results) == enqueued), so that the ids the
        client made for them are known and they are not sent again. When the
        link to Redis fails instead (redis-py's ConnectionError or
        TimeoutError), the error carries `enqueued` and `results` too, and
        `in_doubt`: the ids of the call that failed, which may or may not
        have gone in; send those jobs again with those ids (an id that went
        in comes back created False)."""
        fields = []
        for i, job in enumerate(jobs):
            if not isinstance(job, dict):
                raise ValueError(f"job {i}: a job is a dict {{'type': ..., 'args': {{...}}, ...}}, not "
                                 f"{builtin_type(job).__name__}")
            options = dict(job)
            if "type" not in options:
                raise ValueError(f"job {i}: no 'type'")
            if "depends_on" in options or "after_any" in options:
                raise ValueError(f"job {i}: depends_on is not taken by enqueue_many (its jobs go in together): "
                                 "enqueue a job with dependencies with enqueue()")
            jtype, args = options.pop("type"), options.pop("args", None)
            try:
                cmd = self.enqueue_command(jtype, args, **options)
            except ValueError as e:
                raise ValueError(f"job {i}: {e}") from None
            # enqueue's arguments after FCALL, its name, 0 and the header:
            # id, type, args, queue, priority, max_retries, timeout_ms,
            # delay_ms, max_payload, now_us, replace[, expires_ms]
            own = cmd[12:]
            fields.append(own[0:8] + [own[10], own[11] if len(own) > 11 else "0"])
        out = []
        for start in range(0, len(fields), BATCH_MAX):
            chunk = fields[start:start + BATCH_MAX]
            now_us = time.time_ns() // 1000
            cmd = (["FCALL", ENQUEUE_BATCH_FUNCTION, "0"] + self._header(now_us)
                   + [str(MAX_PAYLOAD), str(now_us), str(BATCH_FIELDS)] + [x for f in chunk for x in f])
            try:
                reply = self._fcall(cmd)
            except self._response_error as e:
                err = self._refusal(e)
                if isinstance(err, ValueError):
                    err = ValueError(_batch_place(str(err), start))
                err.enqueued, err.results = start, out
                raise err from None
            except self._link_errors as e:
                # The link failed: the calls before went in; this one may
                # or may not have (its ids are in_doubt: sending the same
                # jobs with those ids again is safe, an existing id comes
                # back created False).
                e.enqueued, e.results, e.in_doubt = start, out, [f[0] for f in chunk]
                raise
            if not isinstance(reply, (list, tuple)) or len(reply) != 4 * len(chunk):
                err = RuntimeError(f"unexpected reply from {ENQUEUE_BATCH_FUNCTION}: {str(reply)[:200]}")
                err.enqueued, err.results = start, out
                raise err
            for k, f in enumerate(chunk):
                created, state, run = reply[4 * k:4 * k + 3]
                state = _text(state)
                if int(created) == 1 and state == "queued" and f[7] != "0":
                    state = "delayed"   # as tickq job and the API tell a job waiting for its delay
                out.append({"id": f[0], "created": int(created) == 1, "state": state, "run": int(run)})
        return out

    def _fcall(self, cmd):
        """Sends an FCALL; when Redis has no tickq library (a fresh Redis,
        or one restarted without persistence) it loads LIBRARY_FILE and
        sends it again, once. Without that file, or when Redis refuses the
        load (an ACL without FUNCTION), the "Function not found" error
        stands (_refusal says what to do)."""
        try:
            return self.redis.execute_command(*cmd)
        except self._response_error as e:
            if "Function not found" not in str(e) or not self._load_library():
                raise
        return self.redis.execute_command(*cmd)

    def _load_library(self):
        """FUNCTION LOAD of LIBRARY_FILE: True when Redis then holds the
        library (loaded now, or by another process meanwhile)."""
        try:
            with open(LIBRARY_FILE, encoding="utf-8") as f:
                code = f.read()
        except OSError:
            return False
        if not code.startswith(f"#!lua name={LIBRARY}\n"):   # a file of another protocol
            return False
        try:
            self.redis.execute_command("FUNCTION", "LOAD", code)
        except self._response_error as e:
            return "already exists" in str(e)
        return True

    def _refusal(self, e):
        said = str(e)
        if said.startswith("TICKQ_INVALID "):
            return ValueError("job refused: " + said[len("TICKQ_INVALID "):])
        if said.startswith("TICKQ_PROTOCOL "):
            return RuntimeError(said[len("TICKQ_PROTOCOL "):])
        if said.startswith("OOM "):
            return RuntimeError("Redis is out of memory and refuses writes: the job was not enqueued; free memory "
                                f"in Redis or raise its maxmemory, then try again (Redis said: {said})")
        if "Function not found" in said:
            return RuntimeError(f"Redis has no tickq function library {LIBRARY} (Redis said: {said}) and this "
                                f"client could not load it ({LIBRARY_FILE} missing, of another protocol, or "
                                "FUNCTION LOAD refused): a tickq process loads it when it first uses this Redis; "
                                "start a worker, or run `tickq enqueue` once, against it, then try again")
        return e

    @staticmethod
    def _created(reply, replace):
        """The job id from enqueue's reply {created, id, state, run, previous}."""
        if not isinstance(reply, (list, tuple)) or len(reply) not in (3, 5):
            raise RuntimeError(f"unexpected reply from {ENQUEUE_FUNCTION}: {reply!r}")
        created, task_id, state = int(reply[0]), _text(reply[1]), _text(reply[2])
        run = int(reply[3]) if len(reply) == 5 else 1
        if created != 1:
            raise JobExists(task_id, state, run, replace)
        return task_id

    # -- cancel --

    def cancel(self, task_id):
        """Cancels a job, as `tickq cancel` does (RQ's job.cancel(), arq's
        job.abort()). Returns what happened:

          "cancelled"  it was waiting (queued, delayed, deferred, retrying):
                       cancelled now, it never runs (again);
          "requested"  it is running: its worker stops it within a fraction
                       of a second (a handler is sent a cancel, then killed
                       after its cancel_grace); wait() then raises
                       TaskFailed with status "cancelled";
          "finished"   it had already finished: nothing was changed;
          "missing"    Redis holds no job of that id.

        Cancelling a flow's waiting parent cancels its children too; jobs
        that depend on a cancelled one fail. Raises RuntimeError when Redis
        cannot take the call (as enqueue does)."""
        _check_id(task_id)
        cmd = ["FCALL", LIBRARY + "_cancel", "0"] + self._header(time.time_ns() // 1000) + [task_id]
        try:
            reply = self._fcall(cmd)
        except self._response_error as e:
            raise self._refusal(e) from None
        what = _text(reply[0]) if isinstance(reply, (list, tuple)) and reply else None
        answers = {"cancelled": "cancelled", "running": "requested", "final": "finished", "missing": "missing"}
        if what not in answers:
            raise RuntimeError(f"unexpected reply from {LIBRARY}_cancel: {reply!r}")
        return answers[what]

    # -- results --

    def result(self, task_id):
        """task_result:<id> parsed ({"status", "data", "updated_at"}), or
        None while no worker has started the job (or after it expired)."""
        return get_task_result(self.redis, task_id)

    def wait(self, task_id, timeout=300.0, on_progress=None, poll_interval=0.05, missing_grace=None):
        """Polls the job's result until it is final. Returns the result's
        data when completed; raises TaskFailed (status failed, dead or
        cancelled) when it ended otherwise, TaskTimeout after `timeout`
        seconds. While the job runs, each new progress it reports calls
        on_progress(fraction, message) (message may be None). A link to
        Redis that fails meanwhile (redis-py's ConnectionError or
        TimeoutError: Redis restarting or failing over) is tried again until
        `timeout`, and raised only past it.

        With `missing_grace` (seconds, e.g. 2), an id Redis holds no job for
        (neither its record <prefix>:job:<id> nor its task_result:<id>: a
        mistyped id, a deleted job, one whose result has expired) raises
        JobNotFound once it has been missing that long, rather than a
        TaskTimeout after the whole timeout. The grace lets a wait begun
        while another process is enqueueing the job find it. It is off by
        default: a job of the users' list protocol (`add_task`) has no
        record until a worker takes it from the list, which may be later
        than any grace when the list has a backlog."""
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout >= 0:
            raise ValueError(f"invalid timeout {timeout!r}: give seconds, 0 or more")
        if missing_grace is not None and (isinstance(missing_grace, bool) or
                                          not isinstance(missing_grace, numbers.Real) or not missing_grace >= 0):
            raise ValueError(f"invalid missing_grace {missing_grace!r}: give seconds, 0 or more, or None")
        deadline = time.monotonic() + timeout
        last_progress = None
        record = f"{self.prefix}:job:{task_id}"
        missing_since = None   # when the id was first seen with no record and no result
        while True:
            try:
                res = self.result(task_id)
                now = time.monotonic()
                # Whether the id has a job at all, asked only when the answer
                # is used (the grace, or the timeout's message), not on every poll.
                absent = res is None and (missing_grace is not None or now >= deadline) and not self.redis.exists(
                    record)
            except self._link_errors as e:
                # Redis restarting, failing over, unreachable for a moment:
                # the job goes on meanwhile (workers ride it out), so the
                # wait does too, until its own timeout. Credentials Redis
                # refuses are said at once.
                if isinstance(e, self._refused_errors) or time.monotonic() >= deadline:
                    raise
                time.sleep(min(max(poll_interval, 0.1), max(0.0, deadline - time.monotonic())))
                continue
            if absent:
                missing_since = now if missing_since is None else missing_since
                if missing_grace is not None and now - missing_since >= missing_grace:
                    raise JobNotFound(task_id, record, now - missing_since)
            else:
                missing_since = None
            status = res.get("status") if isinstance(res, dict) else None
            data = res.get("data") if isinstance(res, dict) else None
            if status == "completed":
                return data
            if status == "error":
                data = data if isinstance(data, dict) else {}
                raise TaskFailed(task_id, data.get("error", ""), _failed_status(data), data)
            if status == "running":
                progress = (data.get("progress"), data.get("progress_message")) if isinstance(data, dict) else None
                if on_progress is not None and progress and progress[0] is not None and progress != last_progress:
                    last_progress = progress
                    on_progress(*_progress_of(task_id, *progress))
            elif res is not None:
                raise ValueError(f"{RESULT_PREFIX}{task_id} holds a result this client does not understand "
                                 f"(status {status!r}): {res!r}")
            if now >= deadline:
                why = f"last status: {status}" if missing_since is None else f"no job {record} yet"
                e = TaskTimeout(f"task {task_id} not finished after {timeout} s ({why})")
                e.task_id, e.status = task_id, status
                raise e
            time.sleep(poll_interval)


def _batch_place(message, start):
    """A batch call's refusal ("job refused: job <n> (...)", n within the
    call) with n made the job's place in the whole list (0-based, as
    enqueue_many's other errors count)."""
    head = "job refused: job "
    if message.startswith(head):
        number, _, rest = message[len(head):].partition(" ")
        which, _, why = rest.partition(": ")
        if number.isdigit() and why:
            return f"job {start + int(number) - 1} {which}: job refused: {why}"
    return message


def _progress_of(task_id, fraction, message):
    """(fraction, message) from a running result's data.progress (0 to 1)
    and data.progress_message (text; "" or absent: none), the handler's
    last progress."""
    if (isinstance(fraction, (int, float)) and not isinstance(fraction, bool) and 0 <= fraction <= 1
            and (message is None or isinstance(message, str))):
        return fraction, message or None
    raise ValueError(f"{RESULT_PREFIX}{task_id} holds a progress this client does not understand: "
                     f"progress={fraction!r}, progress_message={message!r} (expected a number from 0 to 1 and text)")
