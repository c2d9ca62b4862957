"""harness.py — what the integration tests share: a private redis-server per
test class (unix socket, optionally TCP), the tickq binary, worker processes,
a fake HTTP server, the databases (a temp SQLite file, the run's PostgreSQL),
bar files, and polling helpers. Every server and worker is stopped in
tearDown, so a failing test leaves nothing running."""
import atexit
import dataclasses
import http.server
import json
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
import urllib.parse

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The function library as the binary loads it: the benchmarks' loader
# (bench/redis_lib.py, which imports nothing of the tests).
sys.path.insert(0, os.path.join(ROOT, "bench"))
from redis_lib import load_library  # noqa: E402,F401  (chaoslib and the tests import it from here)
# Tests never touch the repository's var/: job history and market data go to
# a SQLite file per test run unless a test says otherwise.
SCRATCH = tempfile.mkdtemp(prefix="tickq-it-db-")
atexit.register(shutil.rmtree, SCRATCH, True)
os.environ.setdefault("TICKQ_DB", os.path.join(SCRATCH, "tickq.db"))
# A test that drops TICKQ_DB gets the default database, which lives under
# XDG_DATA_HOME: never the real home's.
os.environ["XDG_DATA_HOME"] = os.path.join(SCRATCH, "xdg-data")
os.environ.pop("DATABASE_URL", None)
TICKQ = os.path.abspath(os.environ.get("TICKQ_BIN", os.path.join(ROOT, "build", "tickq")))
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server: unix socket always, TCP on request."""

    def __init__(self, tcp=False, args=()):
        self.dir = tempfile.mkdtemp(prefix="tickq-it-")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.port = free_port() if tcp else 0
        self.args = list(args)
        self.proc = None
        self.start()

    def start(self):
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
               "--unixsocket", self.sock, "--unixsocketperm", "700", "--save", "",
               "--appendonly", "no", "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")]
        self.proc = subprocess.Popen(cmd + self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if self.client().ping():
                    return
            except (redis.AuthenticationError, redis.ResponseError):
                return  # it answers; it wants a password
            except redis.ConnectionError:
                pass
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self):
        return "unix://" + self.sock

    def client(self, **kw):
        return redis.Redis(unix_socket_path=self.sock, decode_responses=True, **kw)


PG_BIN = "/usr/lib/postgresql/15/bin"


class PostgresServer:
    """A throwaway PostgreSQL 15 cluster on 127.0.0.1 and a unix socket in a
    temp dir. initdb and postgres refuse to run as root, so they run as the
    postgres user. One server serves the whole test run (see postgres())."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tickq-pg-")
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/initdb", "-A", "trust", "-U", "postgres",
                        "-E", "UTF8", "--locale", "C", "--no-sync", "-D", self.data],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.proc = subprocess.Popen(
            ["runuser", "-u", "postgres", "--", f"{PG_BIN}/postgres", "-D", self.data, "-k", self.dir,
             "-h", "127.0.0.1", "-p", str(self.port), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "server.log"), "w"))
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.psql("postgres", "SELECT 1", check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("postgres did not start")
        self.count = 0

    def psql(self, db, sql, check=True):
        return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                               "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                              capture_output=True, text=True, check=check)

    def new_database(self):
        """A fresh, empty database; returns its URL and its name."""
        self.count += 1
        name = f"t{os.getpid()}_{self.count}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}", name

    def rows(self, db, sql, numbers=True):
        """The rows a query returns, as tuples of text (numbers=True: cells
        that are whole numbers become ints, as SQLite would return them)."""
        out = self.psql(db, sql).stdout
        if not numbers:
            return [tuple(line.split("|")) for line in out.splitlines()]
        return [tuple(int(x) if x.lstrip("-").isdigit() else x for x in line.split("|")) for line in out.splitlines()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


_postgres = None


def postgres():
    """The test run's PostgreSQL server, started on first use."""
    global _postgres
    if _postgres is None:
        _postgres = PostgresServer()
        atexit.register(_postgres.stop)
    return _postgres


def sqlite_rows(path, sql):
    """The rows a query on the SQLite file at path returns, as tuples."""
    con = sqlite3.connect(path)
    try:
        return [tuple(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def sqlite_exec(path, sql):
    """Runs SQL statements (a script) on the SQLite file at path, committed."""
    con = sqlite3.connect(path)
    try:
        con.executescript(sql)
    finally:
        con.close()


def temp_sqlite(test, prefix="tickq-db-", name="h.db"):
    """A fresh SQLite file in a temp folder that goes when `test` ends;
    returns its path and the environment that points tickq at it."""
    folder = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, folder, True)
    path = os.path.join(folder, name)
    return path, {"TICKQ_DB": path, "DATABASE_URL": None}


BAR_HEADER = "date,open,high,low,close,volume"


def bars_csv(rows, with_symbol=True):
    """The text of a bar file: the header line, with the symbol column (the
    import format) or without it (a provider's file of one symbol's bars),
    then one line per row, a tuple in the header's column order."""
    header = ("symbol," if with_symbol else "") + BAR_HEADER
    return "\n".join([header] + [",".join(str(x) for x in row) for row in rows]) + "\n"


def write_bars_csv(path, rows, with_symbol=True):
    """Writes bars_csv(rows) to path; returns path."""
    with open(path, "w") as f:
        f.write(bars_csv(rows, with_symbol))
    return path


@dataclasses.dataclass
class Reply:
    """What FakeHttpServer answers to one GET: a status and a body, text
    (sent UTF-8) or bytes (sent as they are), as text/csv. length: the Content-Length to claim instead of the
    body's (the connection closes after the body, so a longer one is a cut
    transfer). location: a redirect's target. delay: seconds to wait before
    answering (a slow server), whatever happens meanwhile. hold: at most
    this many seconds to wait before answering, cut short once the server's
    `release` event is set (a stalled server the test lets go)."""
    status: int = 200
    body: str | bytes = ""
    length: int = None
    location: str = None
    delay: float = 0.0
    hold: float = 0.0

    @classmethod
    def redirect(cls, location):
        return cls(302, location=location)


class FakeHttpServer:
    """A fake HTTP server on 127.0.0.1 (a thread per request) for the tests
    of providers: `respond(path, hits)` picks the Reply for a GET of path
    (percent-decoded, without the query) that is its hits-th request.
    `hits` counts the requests per path. An exception in `respond` (or
    anywhere in the server but a client hanging up) is not a dropped
    connection: it goes to `errors`, and check() (also run by close())
    fails the test naming it. Stop it with close()."""

    def __init__(self, respond):
        self.respond = respond
        self.hits = {}
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.errors = []
        self.httpd = _FakeHttpd(self)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path=""):
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path):
        """A thread-safe count of one path's requests."""
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]

    def record_error(self):
        """Keeps the exception being handled (for check())."""
        with self.lock:
            self.errors.append(traceback.format_exc())

    def check(self):
        """Fails (AssertionError) when the server raised since the last check."""
        with self.lock:
            errors, self.errors = self.errors, []
        if errors:
            raise AssertionError("the fake HTTP server raised:\n" + "\n".join(errors))

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.check()


def serve_folder(root):
    """A FakeHttpServer `respond` serving the files under root byte for
    byte (404 else)."""
    def respond(path, hits):
        file = os.path.join(root, path.lstrip("/"))
        if not os.path.isfile(file):
            return Reply(404, "no such file\n")
        with open(file, "rb") as f:
            return Reply(200, f.read())
    return respond


class _FakeHttpHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        fake = self.server.fake
        path = urllib.parse.unquote(urllib.parse.urlparse(self.path).path)
        try:
            reply = fake.respond(path, fake.count(path))
            data = reply.body if isinstance(reply.body, bytes) else reply.body.encode()
        except Exception:
            fake.record_error()  # no answer: the connection closes
            self.close_connection = True
            return
        if reply.delay:
            time.sleep(reply.delay)   # time that must pass: the slow server's answer time
        if reply.hold:
            fake.release.wait(reply.hold)
        try:
            self.send_response(reply.status)
            if reply.location is not None:
                self.send_header("Location", reply.location)
            else:
                self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(data) if reply.length is None else reply.length))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout)
        if reply.length is not None:
            self.close_connection = True


class _FakeHttpd(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, fake):
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _FakeHttpHandler)

    def handle_error(self, request, client_address):
        """A client hanging up is no error of the server; anything else is."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            self.fake.record_error()


def comm(pid):
    """A process's name (/proc/PID/comm), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return None


def gone(pid):
    """True once a process has exited (a zombie nobody reaped counts)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def tickq(*args, url=None, env=None, input=None, timeout=60, cwd=None):
    """Runs the tickq CLI (in the folder cwd, else this one); returns
    CompletedProcess with text stdout/stderr."""
    e = dict(os.environ)
    e.pop("RQ_QUEUES", None)
    if url is not None:
        e["REDIS_URL"] = url
    if env:
        for k, v in env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
    return subprocess.run([TICKQ] + [str(a) for a in args], env=e, input=input,
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)


class TickqProcess:
    """A running tickq command (`tickq worker`, `tickq serve`) against the
    Redis at url; its log (stdout and stderr) goes to a file we can read.
    env: variables to set, or to drop (None)."""

    def __init__(self, command, url, args, env=None, logdir=None, cwd=None, **popen):
        e = dict(os.environ)
        e["REDIS_URL"] = url
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        fd, self.log_path = tempfile.mkstemp(prefix=command + "-", suffix=".log", dir=logdir)
        self.log_file = os.fdopen(fd, "w")
        self.proc = subprocess.Popen([TICKQ, command] + [str(a) for a in args], env=e, stdout=self.log_file,
                                     stderr=self.log_file, cwd=cwd, **popen)

    @property
    def pid(self):
        return self.proc.pid

    def wait(self, timeout=30):
        return self.proc.wait(timeout)

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL after `timeout` seconds; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self):
        self.log_file.flush()
        with open(self.log_path) as f:
            return f.read()

    def close(self):
        self.stop()
        self.log_file.close()
        os.unlink(self.log_path)


class Worker(TickqProcess):
    """A running `tickq worker` (RQ_QUEUES of the test run's environment
    dropped unless env gives it). Its children die with it
    (PR_SET_PDEATHSIG)."""

    def __init__(self, url, *args, env=None, logdir=None, new_group=False, pass_fds=(), cwd=None):
        super().__init__("worker", url, args, env={"RQ_QUEUES": None, **(env or {})}, logdir=logdir, cwd=cwd,
                         start_new_session=new_group, pass_fds=pass_fds)

    def all_children(self):
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return []

    def children(self):
        """The worker children (not the job history process)."""
        return [p for p in self.all_children() if comm(p) not in ("tickq-history", None)]

    def history_process(self):
        return [p for p in self.all_children() if comm(p) == "tickq-history"]

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log_lines(self):
        """The log as parsed JSON lines (non-JSON lines are returned as text)."""
        out = []
        for line in self.log().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append(line)
        return out


def fcall_header(now_ms=None, result_ttl=86400):
    """The argument header every tickq library function takes
    (docs/protocol.md, "Functions"): prefix, now, group, limits, seed."""
    now_ms = now_ms or int(time.time() * 1000)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + ".%03dZ" % (now_ms % 1000)
    return ["tickq", str(now_ms), iso, "workers", str(result_ttl), "100000", "2000", "3600000", "12345"]


def fill_until_oom(r, headroom=1 << 20):
    """Caps Redis at the memory it uses plus `headroom` (policy noeviction)
    and writes filler keys until it refuses a write for lack of memory
    (OOM); then pins maxmemory `headroom` under what it uses, so that
    client buffers freed later (a worker's, the test's own) cannot let a
    write through. Returns the
    number of filler keys. Undo with r.config_set("maxmemory", 0)."""
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", int(r.info("memory")["used_memory"]) + headroom)
    value = "x" * 65536
    for i in range(100000):
        try:
            r.set(f"filler:{i}", value)
        except redis.ResponseError as e:
            if "maxmemory" not in str(e):
                raise
            r.config_set("maxmemory", int(r.info("memory")["used_memory"]) - headroom)
            return i
    raise AssertionError("Redis never refused a write")


def kill_one(pids, rng):
    """SIGKILLs one of pids, chosen by rng (random.Random); True when it was
    still there to kill, False when it was gone or pids is empty."""
    if not pids:
        return False
    try:
        os.kill(rng.choice(pids), signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


class SourceCheckCase(unittest.TestCase):
    """A test of one of scripts/'s checks over src/ (check-layers,
    check-keys): self.tmp holds a copy of src/ to plant faults in, and
    check() runs the script on it (or, with no root, on the tree)."""
    SCRIPT = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=f"tickq-{self.SCRIPT}-")
        self.addCleanup(shutil.rmtree, self.tmp)
        shutil.copytree(os.path.join(ROOT, "src"), os.path.join(self.tmp, "src"))

    def plant(self, relpath, text):
        """Inserts text (one line or more) after the first #include of
        src/relpath in the copy; returns the number of its first line."""
        path = os.path.join(self.tmp, "src", relpath)
        with open(path) as f:
            lines = f.read().split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith("#include")) + 1
        lines[at:at] = text.rstrip("\n").split("\n")
        with open(path, "w") as f:
            f.write("\n".join(lines))
        return at + 1

    def check(self, root=None):
        """(exit status, output) of the script."""
        args = [os.path.join(ROOT, "scripts", self.SCRIPT)] + ([root] if root else [])
        p = subprocess.run(args, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout + p.stderr

    def assert_passes(self, root=None, says=""):
        """The script passes on root (the copy: self.tmp; None: the tree),
        printing `says`."""
        code, out = self.check(root)
        self.assertEqual(code, 0, out)
        self.assertIn(says, out)

    def assert_fails(self, *lines):
        """The script fails on the copy, printing each of `lines`; returns
        its output."""
        code, out = self.check(self.tmp)
        self.assertEqual(code, 1, out)
        for line in lines:
            self.assertIn(line, out)
        return out


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls predicate() until it returns a true value, and returns that;
    after `timeout` seconds fails the test, naming `what` was awaited. Use
    it, not time.sleep, wherever a test waits for a state."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class TickqTestCase(unittest.TestCase):
    """One redis-server per class, flushed before every test."""

    redis_args = ()
    tcp = False

    @classmethod
    def setUpClass(cls):
        cls.server = RedisServer(tcp=cls.tcp, args=cls.redis_args)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def setUp(self):
        self.r = self.server.client()
        self.r.flushall()
        self.workers = []

    def tearDown(self):
        for w in self.workers:
            w.close()
        self.r.close()

    # --- helpers -------------------------------------------------------
    @property
    def url(self):
        return self.server.url

    def tickq(self, *args, **kw):
        kw.setdefault("url", self.url)
        return tickq(*args, **kw)

    def enqueue(self, jtype, args=None, *opts):
        cmd = ["enqueue", jtype]
        if args is not None:
            cmd.append(args if isinstance(args, str) else json.dumps(args))
        p = self.tickq(*cmd, *opts)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def submit(self, jtype, args, job_id=None, max_retries=3, timeout_ms=3600000, queue="backtest",
               priority="normal"):
        """Enqueues through the Redis function, as any client may, without
        the argument check `tickq enqueue` makes: for tests of what the
        worker itself refuses. Returns the job id."""
        job_id = job_id or f"raw-{time.time_ns()}"
        payload = args if isinstance(args, str) else json.dumps(args)
        reply = self.fcall("enqueue", [], job_id, jtype, payload, queue, priority, str(max_retries),
                           str(timeout_ms), "0", "1048576", str(time.time_ns() // 1000))
        self.assertEqual(reply[0], 1, reply)
        return job_id

    def worker(self, *args, env=None, new_group=False, pass_fds=(), cwd=None):
        w = Worker(self.url, *args, env=env, new_group=new_group, pass_fds=pass_fds, cwd=cwd)
        self.workers.append(w)
        return w

    def burst(self, *args, timeout=60, env=None):
        """Runs `tickq worker --burst` to completion; returns (status, worker)."""
        w = self.worker("--burst", *args, env=env)
        status = w.wait(timeout)
        return status, w

    def drain(self, jobs, env=None, unchecked=False):
        """Enqueues (type, args) pairs (unchecked: through the Redis function,
        past the CLI's argument check), drains them in order with one burst
        worker child; returns (their ids, their task_result JSONs)."""
        ids = [self.submit(t, a) if unchecked else self.enqueue(t, a) for t, a in jobs]
        status, w = self.burst("--workers", "1", env=env)
        self.assertEqual(status, 0, w.log())
        return ids, [self.result(i) for i in ids]

    def completed_data(self, res):
        """The data of a task_result that completed."""
        self.assertIsNotNone(res)
        self.assertEqual(res["status"], "completed", res["data"].get("error"))
        return res["data"]

    def permanent_error(self, res, job_id):
        """The error of a job that failed permanently: one attempt, no retry."""
        self.assertIsNotNone(res)
        self.assertEqual(res["status"], "error", json.dumps(res)[:500])
        self.assertEqual(self.state(job_id), "failed")
        self.assertEqual(self.job(job_id)["attempts"], "1")
        self.assertEqual(self.retries(job_id), [])
        return res["data"]["error"]

    def result(self, job_id):
        raw = self.r.get(f"task_result:{job_id}")
        return json.loads(raw) if raw else None

    def job(self, job_id):
        return self.r.hgetall(f"tickq:job:{job_id}")

    def retries(self, job_id):
        return [json.loads(x) for x in self.r.lrange(f"tickq:retries:{job_id}", 0, -1)]

    def state(self, job_id):
        return self.r.hget(f"tickq:job:{job_id}", "state")

    def wait_state(self, job_id, states, timeout=15):
        if isinstance(states, str):
            states = (states,)
        return wait_for(lambda: self.state(job_id) in states and self.state(job_id), timeout,
                        what=f"job {job_id} to reach {states} (now {self.state(job_id)})")

    def wait_running(self, job_id, timeout=15):
        def running():
            res = self.result(job_id)
            return res is not None and res["status"] == "running"
        wait_for(running, timeout, what=f"job {job_id} to start")

    def counters(self, queue="backtest"):
        return {k: int(v) for k, v in self.r.hgetall(f"tickq:stats:{queue}").items()}

    def stream_len(self, physical="backtest_normal"):
        return self.r.xlen(f"tickq:queue:{physical}")

    def ready(self, physical="backtest_normal"):
        """Entries waiting for delivery (acked entries may linger in a stream
        until their node is trimmed, so the stream length is not this)."""
        key = f"tickq:queue:{physical}"
        try:
            groups = self.r.xinfo_groups(key)
        except redis.ResponseError:
            return 0
        if not groups:
            return self.r.xlen(key)
        lag = groups[0].get("lag")
        return lag if lag is not None else self.r.xlen(key) - groups[0]["pending"]

    def pending(self, physical="backtest_normal"):
        try:
            return self.r.xpending(f"tickq:queue:{physical}", "workers")["pending"]
        except redis.ResponseError:
            return 0

    def load_library(self):
        load_library(self.r)

    def fcall(self, name, keys, *args, now_ms=None):
        """Calls a tickq library function with the standard argument header."""
        header = fcall_header(now_ms)
        try:
            return self.r.fcall(f"tickq_p1_{name}", len(keys), *keys, *header, *args)
        except redis.ResponseError as e:
            if "Function not found" not in str(e):
                raise
            self.load_library()
            return self.r.fcall(f"tickq_p1_{name}", len(keys), *keys, *header, *args)


class SynthBarsTestCase(TickqTestCase):
    """A TickqTestCase with a class-wide SQLite database of synthetic bars
    (`tickq data synth SYNTH_ARGS`) named by cls.env's TICKQ_DB, in a temp
    folder (cls.tmp) removed after the class."""

    SYNTH_ARGS = ("--symbols", "2", "--days", "300")
    TMP_PREFIX = "tickq-synth-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix=cls.TMP_PREFIX)
        cls.env = {"TICKQ_DB": os.path.join(cls.tmp, "bars.db")}
        p = tickq("data", "synth", *cls.SYNTH_ARGS, env=cls.env)
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()


def sample_cuts(marked, dates):
    """The look-ahead check's cut dates (docs/strategies.md, "Cuts"): of the
    marked dates and the other dates, half each, evenly spaced."""
    def even(d, k):
        if len(d) <= k:
            return d
        if k == 1:
            return [d[(len(d) - 1) // 2]]
        return [d[(j * (len(d) - 1) + (k - 1) // 2) // (k - 1)] for j in range(k)]
    m, o = sorted(marked), sorted(set(dates) - set(marked))
    take_m = min(len(m), 10)
    take_o = min(len(o), 20 - take_m)
    take_m = min(len(m), 20 - take_o)
    return sorted(even(m, take_m) + even(o, take_o))
