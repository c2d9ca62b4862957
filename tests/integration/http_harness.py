"""http_harness.py — what the HTTP tests (test_http_api, test_http_metrics)
share: `tickq serve` as a process, `tickq worker --http` and `tickq serve`
on a port the kernel picks (127.0.0.1:0, read from the "http server
listening" log line), requests over http.client, /metrics parsed by
prometheus_client's own parser (Debian python3-prometheus-client), and a
Redis stalled for a while (stalled: SIGSTOP, then SIGCONT)."""
import contextlib
import http.client
import json
import os
import shutil
import signal
import sys
import tempfile

from prometheus_client.parser import text_string_to_metric_families

from harness import TickqProcess, TickqTestCase, wait_for

LISTENING = "http server listening"
APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handler_apps")
# For handler_apps/app_tasks.py served by the shipped Python runtime.
HANDLER_ENV = {"PYTHONPATH": APPS, "PYTHONDONTWRITEBYTECODE": "1", "TICKQ_CONFIG": None}
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TOKEN = "t0ken-for-tests-" + "x" * 16   # 32 characters: above the 16 the server asks for


def json_lines(text):
    """The JSON log lines of a log (other lines left out)."""
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def parent_of(pid):
    """A process's parent pid (/proc/PID/stat), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None


@contextlib.contextmanager
def stalled(server):
    """A harness RedisServer stopped (SIGSTOP) for the with-block: it reads
    and answers nothing, as a Redis stuck on a long command or a paused VM,
    then runs what it was sent once continued (SIGCONT), which always
    follows, whatever the block raised."""
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)


class Serve(TickqProcess):
    """A running `tickq serve`; its log (stdout and stderr) goes to a file we can read.
    `port` is set once it listens (HttpCase.serve)."""

    def __init__(self, url, *args, env=None, cwd=None):
        super().__init__("serve", url, args, env=env, cwd=cwd)
        self.port = None

    def log_lines(self):
        return json_lines(self.log())


class Reply:
    """An HTTP reply: status, headers (http.client.HTTPMessage), body bytes."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def request(port, method, path, body=None, token=None, headers=None, timeout=15):
    """One request to 127.0.0.1:port on its own connection. body: bytes,
    text, or a JSON value (dict/list). token: sent as a Bearer token."""
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


class Metrics:
    """A /metrics page as prometheus_client's parser reads it. Families are
    keyed by the parser's name (a counter's without _total); samples by
    their own name (tickq_worker_jobs_total, ..._bucket)."""

    def __init__(self, text):
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def type_of(self, family):
        return self.families[family].type

    def samples(self, name):
        """(labels, value) of every sample called `name`."""
        return [(s.labels, s.value) for f in self.families.values() for s in f.samples if s.name == name]

    def value(self, name, **labels):
        """The value of the one sample `name` whose labels are exactly
        `labels`; None when there is none."""
        found = [v for l, v in self.samples(name) if l == labels]
        assert len(found) <= 1, (name, labels, found)
        return found[0] if found else None


class HttpCase(TickqTestCase):
    """A TickqTestCase that also runs `tickq serve` processes (stopped in
    tearDown) and talks HTTP to them and to `worker --http`."""

    def setUp(self):
        super().setUp()
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()
        super().tearDown()

    def listening(self, proc, count=1, timeout=20):
        """The count-th "http server listening" line of proc's log (a Serve
        or a Worker), waited for; fails naming the log when proc exits
        first."""
        def line():
            found = [x for x in json_lines(proc.log()) if x.get("msg") == LISTENING]
            if len(found) >= count:
                return found[count - 1]
            if proc.proc.poll() is not None:
                raise AssertionError(f"exited {proc.proc.returncode} before listening:\n{proc.log()}")
            return None
        return wait_for(line, timeout, what=f"'{LISTENING}' #{count}")

    def serve(self, *args, env=None, bind="127.0.0.1:0", cwd=None):
        """`tickq serve --http BIND ARGS`, once it listens (s.port)."""
        s = Serve(self.url, "--http", bind, *args, env=env, cwd=cwd)
        self.servers.append(s)
        s.port = self.listening(s)["port"]
        return s

    def http_worker(self, *args, env=None):
        """`tickq worker --http 127.0.0.1:0 ARGS`, once its HTTP process
        listens: w.port, and w.http_pid (that process)."""
        w = self.worker("--http", "127.0.0.1:0", *args, env=env)
        line = self.listening(w)
        w.port, w.http_pid = line["port"], line["pid"]
        return w

    def call(self, where, method, path, body=None, **kw):
        """A request to a Serve or Worker (its .port), or to a port."""
        return request(getattr(where, "port", where), method, path, body, **kw)

    def get(self, where, path, **kw):
        return self.call(where, "GET", path, **kw)

    def post(self, where, path, body=None, **kw):
        return self.call(where, "POST", path, body, **kw)

    def expect(self, reply, status, error_part=None):
        """Asserts a reply's status (and, for an error, that its JSON error
        holds error_part); returns its JSON."""
        self.assertEqual(reply.status, status, reply)
        self.assertEqual(reply.headers["Content-Type"], "application/json", reply)
        body = reply.json()
        if error_part is not None:
            self.assertIn(error_part, body["error"])
        return body

    def temp_dir(self):
        """A temp folder that goes when the test ends."""
        tmp = tempfile.mkdtemp(prefix="tickq-http-")
        self.addCleanup(shutil.rmtree, tmp, True)
        return tmp

    def handler_config(self, folder, types, extra=""):
        """A configuration file in folder serving handler_apps/app_tasks.py's
        `types` (comma-separated), then `extra`; returns its path."""
        path = os.path.join(folder, "tickq.ini")
        with open(path, "w") as f:
            f.write(f"[handler apps]\ncommand = {sys.executable} -m tickq.handler app_tasks\ntypes = {types}\n"
                    + extra)
        return path

    def started_line(self, w):
        """A worker's "worker started" log line (its instance id: "worker")."""
        return wait_for(lambda: next((x for x in json_lines(w.log()) if x.get("msg") == "worker started"), None),
                        what="the worker's start line")

    def audit(self, proc):
        """The "api audit" lines of proc's log."""
        return [x for x in json_lines(proc.log()) if x.get("msg") == "api audit"]

    def metrics(self, where, token=None):
        """GET /metrics, parsed."""
        reply = self.get(where, "/metrics", token=token)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.headers["Content-Type"], METRICS_TYPE)
        return Metrics(reply.body.decode())

    def wait_metric(self, where, name, want, timeout=15, **labels):
        """Polls /metrics until sample `name` with `labels` equals want;
        returns that page."""
        box = {}

        def seen():
            box["m"] = self.metrics(where)
            return box["m"].value(name, **labels) == want
        try:
            wait_for(seen, timeout, interval=0.05, what=f"{name}{labels} == {want}")
        except AssertionError as e:
            last = box["m"].value(name, **labels) if "m" in box else None
            raise AssertionError(f"{e} (last seen: {last})") from None
        return box["m"]
