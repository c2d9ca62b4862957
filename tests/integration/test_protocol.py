"""test_protocol.py — docs/protocol.md is the code: the Redis functions the
library registers (`FUNCTION LIST`, loaded by the tickq binary as any
command loads it) are exactly the documented ones, and every reply shape
the document gives for a function (its ```reply block, and finish's table
of states per outcome kind) is what the function answers when called as
src/core/queue.c calls it. Every documented shape must be met by some call
here, so a shape that drifts from the code, in either direction, fails."""
import json
import os
import re
import time

import redis

from harness import ROOT, TickqTestCase, fcall_header

PREFIX = "tickq"
STREAMS = [f"{PREFIX}:queue:backtest_{p}" for p in ("high", "normal", "low")]
NORMAL = STREAMS[1]
HISTORY = f"{PREFIX}:history:00000000000000aa"
MAX_PAYLOAD = str(1024 * 1024)  # JOB_DEFAULT_MAX_PAYLOAD


# --- the document ------------------------------------------------------------

def protocol_doc():
    with open(os.path.join(ROOT, "docs", "protocol.md")) as f:
        return f.read()


def functions_section(text):
    start = text.index("\n## Functions")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def function_sections(text):
    """{function name: its ### section's text} of the Functions section."""
    section = functions_section(text)
    parts = re.split(r"^### `(tickq_p\d+_\w+)`\s*$", section, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def reply_shapes(section_text):
    """{label: parsed shape} of a section's ```reply block."""
    blocks = re.findall(r"^```reply\n(.*?)^```$", section_text, re.M | re.S)
    assert len(blocks) == 1, f"{len(blocks)} ```reply blocks (want one)"
    shapes = {}
    for line in blocks[0].splitlines():
        if not line.strip():
            continue
        label, _, shape = line.partition(":")
        assert label and shape, f"not 'label: shape': {line!r}"
        assert label.strip() not in shapes, f"label {label!r} twice"
        shapes[label.strip()] = parse_shape(shape.strip())
    return shapes


def outcome_states(section_text):
    """finish's table: {outcome kind: set of states}; the row without a
    backticked kind (a skipped outcome) under the key 'skipped'. Also the
    rows as (kinds, states) pairs."""
    table, rows = {}, []
    header = re.search(r"^\| Outcome kind \|.*\n\|[- |]+\|\n((?:\|.*\|\n)+)", section_text, re.M)
    assert header, "no '| Outcome kind |' table"
    for line in header.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        kinds = re.findall(r"`([^`]*)`", cells[0]) or [cells[0].split()[0]]
        states = {s if s != "''" else "" for s in re.findall(r"`([^`]*)`", cells[1])}
        rows.append((kinds, states))
        for k in kinds:
            table[k] = states
    return table, rows


# --- the shape notation (docs/protocol.md, "Reply shapes") ----------------------

TOKEN = re.compile(r"\s*(?:(\{\w+\})|('(?:[^'])*')|(-?\d+)|(\w+)|([\[\](),|*+?]))")


def tokenize(text):
    out, i = [], 0
    text = text.strip()
    while i < len(text):
        m = TOKEN.match(text, i)
        assert m and m.end() > i, f"cannot read shape at {text[i:]!r}"
        count, lit, num, word, punct = m.groups()
        if count:
            out.append(("count", count[1:-1]))
        elif lit:
            out.append(("lit", lit[1:-1]))
        elif num:
            out.append(("lit", int(num)))
        elif word:
            out.append(("word", word))
        else:
            out.append(("p", punct))
        i = m.end()
    return out


def parse_shape(text):
    toks = tokenize(text)
    if toks and toks[0] == ("word", "error"):
        assert len(toks) == 2 and toks[1][0] == "word", f"bad error shape {text!r}"
        return ("error", toks[1][1])
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take(want=None):
        t = peek()
        assert t is not None, f"shape ends early: {text!r}"
        assert want is None or t == want, f"expected {want} at {t} in {text!r}"
        pos[0] += 1
        return t

    def alt(closer):
        seqs = [seq(closer)]
        while peek() == ("p", "|"):
            take()
            seqs.append(seq(closer))
        return ("alt", seqs)

    def seq(closer):
        terms = []
        while peek() is not None and peek() not in (("p", closer), ("p", "|")):
            terms.append(term())
            if peek() == ("p", ","):
                take()
        return ("seq", terms)

    def term():
        a = atom()
        t = peek()
        if t in (("p", "*"), ("p", "+"), ("p", "?")):
            take()
            return ("rep", a, t[1])
        if t is not None and t[0] == "count":
            take()
            return ("count", a, t[1])
        return a

    def atom():
        t = take()
        if t == ("p", "["):
            inner = alt("]")
            take(("p", "]"))
            return ("arr", inner)
        if t == ("p", "("):
            inner = alt(")")
            take(("p", ")"))
            return inner
        if t[0] == "lit":
            return t
        if t in (("word", "int"), ("word", "str")):
            n = peek()
            if n is not None and n[0] == "word" and n[1] not in ("int", "str"):
                take()
            return (t[1],)
        raise AssertionError(f"unexpected {t} in shape {text!r}")

    node = alt(None)
    assert peek() is None, f"left over {toks[pos[0]:]} in shape {text!r}"
    return node


class ErrorReply(str):
    """An error reply's message."""


def _one(node, items, i, env):
    """Matches node against items[i:]; yields (next index, env)."""
    kind = node[0]
    if kind == "seq":
        yield from _seq(node[1], items, i, env)
    elif kind == "alt":
        for s in node[1]:
            yield from _one(s, items, i, env)
    elif kind == "rep":
        yield from _rep(node[1], node[2], items, i, env, 0)
    elif kind == "count":
        var = node[2]
        if var in env:
            yield from _times(node[1], env[var], items, i, env)
        else:
            for k in range(0, len(items) - i + 1):
                for j, e in _times(node[1], k, items, i, env):
                    yield j, dict(e, **{var: k})
    elif i < len(items):
        v = items[i]
        if kind == "int" and isinstance(v, int) and not isinstance(v, bool):
            yield i + 1, env
        elif kind == "str" and isinstance(v, str) and not isinstance(v, ErrorReply):
            yield i + 1, env
        elif kind == "lit" and type(v) is type(node[1]) and v == node[1]:
            yield i + 1, env
        elif kind == "arr" and isinstance(v, list):
            for j, e in _one(node[1], v, 0, env):
                if j == len(v):
                    yield i + 1, e
                    break


def _seq(terms, items, i, env):
    if not terms:
        yield i, env
        return
    for j, e in _one(terms[0], items, i, env):
        yield from _seq(terms[1:], items, j, e)


def _times(node, k, items, i, env):
    if k == 0:
        yield i, env
        return
    for j, e in _one(node, items, i, env):
        yield from _times(node, k - 1, items, j, e)


def _rep(node, q, items, i, env, done):
    if q == "?" and done == 1:
        yield i, env
        return
    for j, e in _one(node, items, i, env):
        if j > i:
            yield from _rep(node, q, items, j, e, done + 1)
    if q != "+" or done > 0:
        yield i, env


def matches(shape, reply, env=None):
    """True when reply (as redis-py decodes it; an error as ErrorReply) has
    the shape; env binds count variables ({n})."""
    if shape[0] == "error":
        return isinstance(reply, ErrorReply) and reply.startswith(shape[1] + " ")
    if isinstance(reply, ErrorReply):
        return False
    return any(j == 1 for j, _ in _one(shape, [reply], 0, dict(env or {})))


# --- the tests ------------------------------------------------------------------

class TestProtocolDocument(TickqTestCase):
    """Every registered function is documented, and each documented reply
    shape is what the function answers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doc = protocol_doc()
        cls.sections = function_sections(cls.doc)
        cls.shapes = {name: reply_shapes(text) for name, text in cls.sections.items()}
        cls.states, cls.state_rows = outcome_states(cls.sections["tickq_p1_finish"])

    def setUp(self):
        super().setUp()
        # The library as the binary registers it: any command loads it.
        p = self.tickq("cancel", "protocol-probe")
        self.assertIn("protocol-probe", p.stdout + p.stderr)
        self.assertTrue(self.r.function_list(library="tickq_p1"), "the tickq binary loaded no library")
        self.seen = set()
        self.clock_ms = int(time.time() * 1000)

    # --- calls as src/core/queue.c makes them ------------------------------------

    def call(self, fn, keys, *args):
        """FCALL tickq_p1_<fn>: keys, the header (queue.c's header_fill),
        then the function's arguments; an error reply as ErrorReply."""
        self.clock_ms += 1
        header = fcall_header(self.clock_ms)
        try:
            return self.r.fcall(f"tickq_p1_{fn}", len(keys), *keys, *header, *args)
        except redis.ResponseError as e:
            return ErrorReply(str(e))

    def expect(self, fn, label, reply, **env):
        """Asserts that the reply has the documented shape `label` of
        function fn; records that the shape was met. Returns the reply."""
        name = f"tickq_p1_{fn}"
        shapes = self.shapes.get(name)
        self.assertIsNotNone(shapes, f"{name} is not documented")
        self.assertIn(label, shapes, f"{name}: no documented reply shape {label!r}")
        self.assertTrue(matches(shapes[label], reply, env),
                        f"{name}: reply {reply!r} does not have the documented shape {label!r}")
        self.seen.add((name, label))
        return reply

    def assert_all_shapes_met(self, fn):
        name = f"tickq_p1_{fn}"
        documented = {(name, label) for label in self.shapes[name]}
        self.assertEqual(documented - self.seen, set(), f"{name}: documented shapes no call here met")

    def assert_state(self, kind, state):
        self.assertIn(kind, self.states, f"outcome kind {kind!r} not in the document's table")
        self.assertIn(state, self.states[kind], f"outcome {kind!r} answered {state!r}, not a documented state")

    def enqueue(self, job_id, replace="0", max_retries=3, delay_ms=0, args="{}", priority="normal",
                queue="backtest", jtype="noop", timeout_ms="3600000", expires_ms=None, depends_on=None,
                after_any="0"):
        # enqueue_args: id, type, args, queue, priority, max_retries,
        # timeout_ms, delay_ms, max_payload, now_us, replace, expires_ms,
        # depends_on, after_any
        extra = [] if replace is None else [replace]
        if expires_ms is not None or depends_on is not None:
            extra.append(str(expires_ms or 0))
        if depends_on is not None:
            extra += [depends_on, after_any]
        return self.call("enqueue", [], job_id, jtype, args, queue, priority, str(max_retries), timeout_ms,
                         str(delay_ms), MAX_PAYLOAD, str(time.time_ns() // 1000), *extra)

    def add_jobs(self, *ids, **kw):
        for job_id in ids:
            self.assertEqual(self.enqueue(job_id, **kw)[0], 1)

    def claim(self, consumer, count=100, streams=STREAMS):
        return self.call("claim", streams, consumer, str(count))

    def claimed(self, consumer, *ids, **kw):
        """Enqueues ids and claims them, and nothing else, for consumer:
        {id: entry}."""
        self.add_jobs(*ids, **kw)
        got = self.claimed_any(consumer)
        self.assertEqual(set(got), set(ids))
        return got

    def claimed_any(self, consumer):
        """Claims whatever is ready for consumer: {id: entry}."""
        reply = self.claim(consumer)
        return {reply[i + 1]: reply[i] for i in range(1, len(reply), 8)} if reply[0] else {}

    def outcome(self, entry, job_id, kind, payload=None, attempt="1"):
        now = str(time.time_ns() // 1000)
        if payload is None:
            payload = json.dumps({"status": "completed", "data": {}}) if kind == "ok" else f"{kind} error"
        return [entry, job_id, kind, payload, attempt, now, now]

    def finish(self, consumer, outcomes, history=False, stream=NORMAL):
        keys = [stream, HISTORY] if history else [stream]
        return self.call("finish", keys, consumer, *[x for o in outcomes for x in o])

    def release(self, consumer, current, kind, history=False, started=""):
        extra = [started, HISTORY] if history else []
        return self.call("release", STREAMS, consumer, current, kind, f"{kind} error", *extra)

    def reclaim(self, history=False, min_idle="0"):
        extra = [HISTORY] if history else []
        return self.call("reclaim", STREAMS, "host:1.abcd", min_idle, "Worker lost", *extra)

    def touch(self, *consumers, history=False):
        keys = STREAMS + ([HISTORY] if history else [])
        return self.call("touch", keys, *consumers)

    def run_twice(self, job_id):
        """job_id completed once, then enqueued again (run 2), ready."""
        entry = self.claimed("w:9#1", job_id)[job_id]
        self.finish("w:9#1", [self.outcome(entry, job_id, "ok")])
        self.assertEqual(self.enqueue(job_id, replace="1")[3], 2)

    def fresh(self):
        """An empty Redis again between steps (the library stays)."""
        self.r.flushall()

    def with_protocol(self, version, fn):
        self.r.set(f"{PREFIX}:protocol", version)
        try:
            return fn()
        finally:
            self.r.set(f"{PREFIX}:protocol", "1")

    # --- (a) registered = documented ---------------------------------------------

    def test_registered_functions_are_the_documented_ones(self):
        libs = self.r.function_list(library="tickq_p1")
        self.assertEqual(len(libs), 1, libs)
        lib = libs[0]
        lib = {k.decode() if isinstance(k, bytes) else k: v for k, v in (lib.items() if isinstance(lib, dict)
                                                                         else zip(lib[::2], lib[1::2]))}
        self.assertIn("Redis Functions library `%s`" % lib["library_name"], self.doc)
        registered = set()
        for f in lib["functions"]:
            f = dict(f.items()) if isinstance(f, dict) else dict(zip(f[::2], f[1::2]))
            registered.add(f["name"])
        documented = set(self.sections)
        self.assertEqual(registered - documented, set(), "registered functions docs/protocol.md lacks")
        self.assertEqual(documented - registered, set(), "documented functions Redis lacks")
        # Every documented function has its test here.
        for name in documented:
            short = name[len("tickq_p1_"):]
            self.assertTrue(hasattr(self, f"test_{short}"), f"no test_{short} for {name}")
        # The summary table names the same functions.
        summary = set(re.findall(r"^\| `(tickq_p\d+_\w+)` \|", functions_section(self.doc), re.M))
        self.assertEqual(summary, documented)

    def test_shape_notation(self):
        """The matcher itself: a few shapes that must and must not match."""
        s = parse_shape("[int a, (str x){n}, (int y){n}]")
        self.assertTrue(matches(s, [1, "a", "b", 1, 2]))
        self.assertFalse(matches(s, [1, "a", "b", 1]))
        self.assertFalse(matches(s, [1, "a", 1, 2]))
        s = parse_shape("[0, int x, int y]")
        self.assertTrue(matches(s, [0, -1, 0]))
        self.assertFalse(matches(s, [0, -1, 0, "x"]))
        self.assertFalse(matches(s, [1, -1, 0]))
        s = parse_shape("[(['a', int x] | ['b', str y])*]")
        self.assertTrue(matches(s, [["a", 1], ["b", "z"], ["a", 2]]))
        self.assertFalse(matches(s, [["a", "1"]]))
        self.assertTrue(matches(parse_shape("int rows"), 3))
        self.assertFalse(matches(parse_shape("int rows"), "3"))
        self.assertTrue(matches(parse_shape("error TICKQ_INVALID"), ErrorReply("TICKQ_INVALID bad")))
        self.assertFalse(matches(parse_shape("error TICKQ_INVALID"), ErrorReply("TICKQ_PROTOCOL bad")))

    # --- (b) each function's replies ------------------------------------------------

    def test_enqueue(self):
        self.expect("enqueue", "created", self.enqueue("e1", replace=None))
        r = self.expect("enqueue", "exists", self.enqueue("e1", replace=None))
        self.assertEqual(r[2], "queued")
        r = self.expect("enqueue", "created_replace", self.enqueue("e2"))
        self.assertEqual(r[3:], [1, ""])
        self.expect("enqueue", "exists_replace", self.enqueue("e2", replace="1"))  # not finished: kept
        self.fresh()
        entry = self.claimed("w:0#1", "e4")["e4"]
        r = self.expect("enqueue", "exists_replace", self.enqueue("e4"))
        self.assertEqual(r[2], "running")
        self.finish("w:0#1", [self.outcome(entry, "e4", "permanent")])
        r = self.expect("enqueue", "created_replace", self.enqueue("e4", replace="1"))
        self.assertEqual(r[3:], [2, "failed"])
        self.expect("enqueue", "invalid", self.enqueue("e5", priority="urgent"))
        self.expect("enqueue", "invalid", self.enqueue("e5", replace="2"))
        self.expect("enqueue", "invalid", self.enqueue("e5", args="[1]"))
        self.expect("enqueue", "protocol", self.with_protocol("2", lambda: self.enqueue("e6")))
        self.assertEqual(self.r.exists(f"{PREFIX}:job:e6"), 0)
        self.assert_all_shapes_met("enqueue")

    def test_enqueue_timeout_ms(self):
        # 0: not set, kept as 0 in the record, the entry and the claim's
        # reply (the worker resolves it); 1 ms to 7 days: the job's own.
        for job_id, timeout_ms in (("t0", "0"), ("t1", "1"), ("t7d", "604800000")):
            self.expect("enqueue", "created_replace", self.enqueue(job_id, timeout_ms=timeout_ms))
            self.assertEqual(self.r.hget(f"{PREFIX}:job:{job_id}", "timeout_ms"), timeout_ms)
        r = self.expect("claim", "jobs", self.claim("w:0#1"))
        self.assertEqual({r[i + 1]: r[i + 6] for i in range(1, len(r), 8)},
                         {"t0": "0", "t1": "1", "t7d": "604800000"})
        for bad in ("-1", "604800001", "1.5", "soon", ""):
            with self.subTest(timeout_ms=bad):
                r = self.expect("enqueue", "invalid", self.enqueue("t-bad", timeout_ms=bad))
                self.assertIn("timeout_ms must be an integer from 1 to 604800000 (7 days), or 0 (not set: "
                              "the worker's default)", str(r))
        self.assertEqual(self.r.exists(f"{PREFIX}:job:t-bad"), 0)

    def test_enqueue_dependencies(self):
        self.add_jobs("d1")
        r = self.expect("enqueue", "created_replace", self.enqueue("d2", depends_on="d1"))
        self.assertEqual(r[2], "deferred")
        self.assertEqual(self.r.hmget(f"{PREFIX}:job:d2", "state", "entry", "deps", "deps_left"),
                         ["deferred", "", "1", "1"])
        self.assertEqual(self.r.lrange(f"{PREFIX}:deps:d2", 0, -1), ["d1"])
        self.assertEqual(self.r.smembers(f"{PREFIX}:dependents:d1"), {"d2"})
        self.assertEqual(self.r.hget(f"{PREFIX}:job:d1", "needed_by"), "1")
        self.assertIsNotNone(self.r.zscore(f"{PREFIX}:deferred:backtest_normal", "d2"))
        for deps, why in (("nope", "dependency nope is not a job"), ("d3", "job d3 cannot depend on itself")):
            r = self.expect("enqueue", "invalid", self.enqueue("d3", depends_on=deps))
            self.assertIn(why, str(r))
        self.assertEqual(self.r.exists(f"{PREFIX}:job:d3"), 0)
        # d1 completes: d2 is ready, appended to its stream.
        entry = self.claimed_any("w:0#1")["d1"]
        self.finish("w:0#1", [self.outcome(entry, "d1", "ok")])
        self.assertEqual(self.r.hget(f"{PREFIX}:job:d2", "state"), "queued")
        self.assertEqual(set(self.claimed_any("w:0#1")), {"d2"})

    def test_claim(self):
        r = self.expect("claim", "empty", self.claim("w:0#1"))
        self.assertEqual(r, [0, -1, 0, 0, []])  # no gates, no paused stream
        self.add_jobs("c1", "c2")
        r = self.expect("claim", "jobs", self.claim("w:0#1"))
        self.assertEqual(r[0], 2)  # backtest_normal, the second stream
        self.assertEqual([r[2], r[10]], ["c1", "c2"])
        self.assertEqual(r[5], "1")  # attempt
        # A retry waiting: empty, with its due time and count.
        self.finish("w:0#1", [self.outcome(r[1], "c1", "transient"), self.outcome(r[9], "c2", "ok")])
        r = self.expect("claim", "empty", self.claim("w:0#1"))
        self.assertGreater(r[1], self.clock_ms - 10)
        self.assertEqual(r[2], 1)
        self.r.sadd(f"{PREFIX}:paused", "backtest")
        r = self.expect("claim", "empty", self.claim("w:0#1"))
        self.assertEqual(r[3:], [1, [1, 2, 3]])  # gates set; every stream's queue paused
        self.expect("claim", "protocol", self.with_protocol("2", lambda: self.claim("w:0#1")))
        self.assert_all_shapes_met("claim")

    def read_blocking(self, consumer):
        """What queue_claim_blocking does: XREADGROUP of the ready entries,
        as admit's arguments (stream index, entry, id, attempt) per job."""
        for s in STREAMS:
            try:
                self.r.xgroup_create(s, "workers", "0", mkstream=True)
            except redis.ResponseError:
                pass
        got = self.r.xreadgroup("workers", consumer, {s: ">" for s in STREAMS}, count=10) or []
        args = []
        for stream, entries in got:
            for entry, fields in entries:
                args += [str(STREAMS.index(stream) + 1), entry, fields["job"], str(int(fields["attempts"]) + 1)]
        return args

    def test_admit(self):
        self.add_jobs("a1")
        r = self.expect("admit", "admitted", self.call("admit", STREAMS, "w:0#1", *self.read_blocking("w:0#1")))
        self.assertEqual(r, [1])
        self.assertEqual(json.loads(self.r.get("task_result:a1"))["status"], "running")
        # A paused queue's job goes back to its queue unstarted, a limited
        # type's at its limit is held, an expired job ends cancelled.
        self.r.sadd(f"{PREFIX}:paused", "backtest")
        self.add_jobs("a2")
        self.assertEqual(self.call("admit", STREAMS, "w:0#1", *self.read_blocking("w:0#1")), [0])
        self.assertEqual(self.r.hget(f"{PREFIX}:job:a2", "state"), "queued")
        self.assertIsNone(self.r.get("task_result:a2"))
        self.assertEqual(self.r.xpending(NORMAL, "workers")["pending"], 1)  # a1 only
        self.r.delete(f"{PREFIX}:paused")
        self.r.xtrim(NORMAL, maxlen=0)  # a2's entry: out of the way
        self.assertEqual(self.call("limit", [], "set", "noop", "0")[0], "set")
        self.add_jobs("a3")
        self.assertEqual(self.call("admit", STREAMS, "w:0#1", *self.read_blocking("w:0#1")), [0])
        self.assertIsNotNone(self.r.zscore(f"{PREFIX}:held:noop", "a3"))
        self.assertEqual(self.r.hget(f"{PREFIX}:job:a3", "entry"), "")
        self.call("limit", [], "clear", "noop")
        self.assertEqual(self.enqueue("a4", expires_ms=1)[0], 1)
        self.clock_ms += 5
        self.assertEqual(self.call("admit", STREAMS, "w:0#1", *self.read_blocking("w:0#1")), [0])
        self.assertEqual(self.r.hmget(f"{PREFIX}:job:a4", "state", "error"), ["cancelled", "Job expired"])
        self.assertEqual(json.loads(self.r.get("task_result:a4"))["data"]["error"], "Job expired")
        # Not pending for that consumer: nothing done.
        self.add_jobs("a5")
        args = self.read_blocking("w:0#2")
        self.assertEqual(self.call("admit", STREAMS, "w:0#9", *args), [0])
        self.assertIsNone(self.r.get("task_result:a5"))
        self.expect("admit", "protocol", self.with_protocol("2", lambda: self.call("admit", STREAMS, "w:0#2", *args)))
        self.assert_all_shapes_met("admit")

    def test_started(self):
        self.add_jobs("s1")
        self.r.xgroup_create(NORMAL, "workers", "0", mkstream=True)
        self.r.xreadgroup("workers", "w:0#1", {NORMAL: ">"}, count=10)  # queue_claim_blocking
        r = self.expect("started", "written", self.call("started", [], "w:0#1", "s1", "1"))
        self.assertEqual(r, 1)
        self.assertEqual(json.loads(self.r.get("task_result:s1"))["status"], "running")
        r = self.expect("started", "written", self.call("started", [], "w:0#2", "s1", "1"))
        self.assertEqual(r, 0)  # not pending for that consumer
        self.expect("started", "protocol",
                    self.with_protocol("2", lambda: self.call("started", [], "w:0#1", "s1", "1")))
        self.assert_all_shapes_met("started")

    def test_progress(self):
        self.add_jobs("p1")
        self.r.xgroup_create(NORMAL, "workers", "0", mkstream=True)
        self.r.xreadgroup("workers", "w:0#1", {NORMAL: ">"}, count=10)
        r = self.expect("progress", "written", self.call("progress", [], "w:0#1", "p1", "1", "0.25", "a quarter"))
        self.assertEqual(r, 1)
        res = json.loads(self.r.get("task_result:p1"))
        self.assertEqual((res["status"], res["data"]["progress"], res["data"]["progress_message"]),
                         ("running", 0.25, "a quarter"))
        self.assertEqual(self.r.hmget(f"{PREFIX}:job:p1", "progress", "progress_message"), ["0.25", "a quarter"])
        # Not pending for that consumer, or not a number: nothing written.
        self.expect("progress", "skipped", self.call("progress", [], "w:0#2", "p1", "1", "0.5", "half"))
        self.expect("progress", "skipped", self.call("progress", [], "w:0#1", "p1", "1", "lots", "x"))
        self.assertEqual(self.r.hget(f"{PREFIX}:job:p1", "progress"), "0.25")
        self.expect("progress", "protocol",
                    self.with_protocol("2", lambda: self.call("progress", [], "w:0#1", "p1", "1", "0.5", "")))
        self.assert_all_shapes_met("progress")

    def test_finish(self):
        """One call with every outcome kind and every state the document's
        table lists for it; then one without a history stream."""
        c = "w:0#1"
        cases = [  # id, kind, max_retries, what is done to it before finish, expected state
            ("f-ok", "ok", 3, None, "completed"),
            ("f-ok-missing", "ok", 3, "delete", "missing"),
            ("f-transient", "transient", 3, None, "retrying"),
            ("f-transient-missing", "transient", 3, "delete", "missing"),
            ("f-timeout-dead", "timeout", 0, None, "dead"),
            ("f-timeout-missing", "timeout", 3, "delete", "missing"),
            ("f-crash-cancel", "crash", 3, "cancel", "cancelled"),
            ("f-crash-missing", "crash", 3, "delete", "missing"),
            ("f-permanent", "permanent", 3, None, "failed"),
            ("f-permanent-cancel", "permanent", 3, "cancel", "cancelled"),
            ("f-permanent-missing", "permanent", 3, "delete", "missing"),
            ("f-cancel", "cancel", 3, None, "cancelled"),
            ("f-cancel-missing", "cancel", 3, "delete", "missing"),
            ("f-shutdown", "shutdown", 3, None, "queued"),
            ("f-shutdown-cancel", "shutdown", 3, "cancel", "cancelled"),
            ("f-shutdown-missing", "shutdown", 3, "delete", "missing"),
            ("f-children", "children", 3, None, "deferred"),
            ("f-children-bad", "children", 3, None, "failed"),
            ("f-children-missing", "children", 3, "delete", "missing"),
            ("f-children-cancel", "children", 3, "cancel", "cancelled"),
        ]
        entries = {}
        for job_id, _, max_retries, _, _ in cases:
            entries.update(self.claimed(c, job_id, max_retries=max_retries))
        # A job that waits for children has started: its expiry goes.
        self.r.hset(f"{PREFIX}:job:f-children", "expires_us", str((time.time_ns() // 1000) + 60_000_000))
        self.r.zadd(f"{PREFIX}:expiring", {"f-children": time.time() * 1000 + 60000})
        for job_id, _, _, change, _ in cases:
            if change == "delete":
                self.r.delete(f"{PREFIX}:job:{job_id}")
            elif change == "cancel":
                self.r.hset(f"{PREFIX}:job:{job_id}", "cancel_requested", "1")
        def payload(job_id, kind):
            if kind != "children":
                return None
            kids = [] if job_id.endswith("-bad") else [
                {"id": f"{job_id}-c{i}", "type": "noop", "args": "{}", "queue": "backtest", "priority": "normal",
                 "max_retries": 3, "timeout_ms": 0} for i in range(2)]
            return json.dumps({"policy": "fail", "max_payload": 1048576, "children": kids})
        outcomes = [self.outcome(entries[job_id], job_id, kind, payload(job_id, kind))
                    for job_id, kind, _, _, _ in cases]
        outcomes.append(self.outcome("1-1", "f-not-pending", "ok"))  # skipped
        n = len(outcomes)
        r = self.expect("finish", "history", self.finish(c, outcomes, history=True), n=n)
        states, runs = r[4:4 + n], r[4 + n:4 + 2 * n]
        observed = {}
        for (job_id, kind, _, _, want), state in zip(cases, states):
            self.assertEqual(state, want, job_id)
            self.assert_state(kind, state)
            observed.setdefault(kind, set()).add(state)
        self.assertEqual(states[-1], "")
        self.assert_state("skipped", "")
        observed["skipped"] = {""}
        self.assertEqual(r[:4], [n - 1, 1, states.count("retrying"), states.count("dead")])
        for state, run in zip(states, runs):
            self.assertEqual(run, 0 if state in ("", "missing") else 1)
        # A record gone stays gone: finish writes no partial one.
        for job_id, kind, _, change, _ in cases:
            if change == "delete":
                self.assertEqual(self.r.exists(f"{PREFIX}:job:{job_id}"), 0, f"{kind}: {job_id} written")
        self.assertGreater(r[-1], 0)
        # The job that waits for its children: deferred on them, they queued.
        self.assertEqual(self.r.lrange(f"{PREFIX}:deps:f-children", 0, -1), ["f-children-c0", "f-children-c1"])
        self.assertEqual(self.r.hmget(f"{PREFIX}:job:f-children", "flow", "deps_left", "attempts"), ["1", "2", "1"])
        self.assertEqual(self.r.hget(f"{PREFIX}:job:f-children-c1", "state"), "queued")
        self.assertEqual(self.r.hget(f"{PREFIX}:job:f-children-bad", "error"),
                         "the task asked to wait for children but gave none")
        self.assertEqual(self.r.keys(f"{PREFIX}:job:f-children-cancel-c*"), [])   # cancelled: no child made
        self.assertIsNone(self.r.hget(f"{PREFIX}:job:f-children", "expires_us"))
        self.assertIsNone(self.r.zscore(f"{PREFIX}:expiring", "f-children"))
        self.assertEqual(self.r.hget(f"{PREFIX}:job:f-children", "waited_children"), "1")
        # Every row of the table: each kind exercised, each state met.
        for kinds, documented in self.state_rows:
            met = set().union(*(observed.get(k, set()) for k in kinds))
            self.assertTrue(all(k in observed for k in kinds), kinds)
            self.assertEqual(met, documented, f"finish states for {kinds}")

        self.fresh()
        entry = self.claimed("w:0#2", "f-plain")["f-plain"]
        r = self.expect("finish", "no_history",
                        self.finish("w:0#2", [self.outcome(entry, "f-plain", "ok")]), n=1)
        self.assertEqual(r, [1, 0, 0, 0, "completed", 1])
        self.assert_all_shapes_met("finish")

    def test_release(self):
        entries = self.claimed("w:0#1", "r1", "r2")
        r = self.expect("release", "no_history", self.release("w:0#1", entries["r1"], "timeout"))
        self.assertEqual(r, [1, "retrying", "r1", "noop", "backtest", 1])
        self.assert_state("timeout", r[1])
        self.fresh()
        self.run_twice("r3")
        entry = self.claimed_any("w:0#2")["r3"]
        r = self.expect("release", "no_history_rerun", self.release("w:0#2", entry, "crash"))
        self.assertEqual(r[6], 2)
        self.assert_state("crash", r[1])
        entry = self.claimed("w:0#3", "r4")["r4"]
        r = self.expect("release", "history",
                        self.release("w:0#3", entry, "cancel", history=True, started=str(time.time_ns() // 1000)))
        self.assertEqual(r[1], "cancelled")
        self.assert_state("cancel", r[1])
        self.assertEqual(r[6:], [1, 1])
        entry = self.claimed("w:0#4", "r5")["r5"]
        r = self.expect("release", "history", self.release("w:0#4", entry, "shutdown", history=True))
        self.assertEqual(r, [0, "queued", "r5", "noop", "backtest", 0, 1, 0])
        self.assert_state("shutdown", r[1])
        r = self.expect("release", "no_history", self.release("w:0#5", "", "shutdown"))
        self.assertEqual(r, [0, "", "", "", "", 0])
        self.assert_all_shapes_met("release")

    def test_reclaim(self):
        r = self.expect("reclaim", "none", self.reclaim())
        self.assertEqual(r[0], 0)
        self.claimed("w:0#1", "k1", "k2")
        r = self.expect("reclaim", "jobs", self.reclaim(), n=2)
        self.assertEqual(r[0], 2)
        self.assertEqual(r[-1], [1, 1])
        for i in range(2):
            self.assert_state("crash", r[2 + 6 * i + 3])
        self.claimed("w:0#2", "k3")
        self.r.hset(f"{PREFIX}:job:k3", "cancel_requested", "1")
        r = self.expect("reclaim", "history", self.reclaim(history=True))
        self.assertEqual(r[2:8], ["k3", "noop", "backtest", "cancelled", 1, "Worker lost"])
        self.assertEqual(r[-1], 1)
        r = self.expect("reclaim", "history", self.reclaim(history=True))
        self.assertEqual(r[0], 0)
        self.assert_all_shapes_met("reclaim")

    def test_touch(self):
        self.claimed("w:0#1", "t1")
        r = self.expect("touch", "no_history", self.touch("w:0#1"))
        self.assertEqual(r, [1, 0, []])
        r = self.expect("touch", "no_history", self.touch("w:0#2"))  # generation 1 is old now
        self.assertEqual(r, [0, 1, "t1", []])
        self.add_jobs("t2")
        self.assertEqual(set(self.claimed_any("w:0#3")), {"t1", "t2"})
        self.r.hset(f"{PREFIX}:job:t2", "cancel_requested", "1")
        r = self.expect("touch", "history", self.touch("w:0#4", history=True))
        self.assertEqual(r, [0, 1, "t1", ["t2"], 1])
        self.assert_all_shapes_met("touch")

    def test_cancel(self):
        self.expect("cancel", "missing", self.call("cancel", [], "x1"))
        self.add_jobs("x2")
        self.expect("cancel", "cancelled", self.call("cancel", [], "x2"))
        r = self.expect("cancel", "final", self.call("cancel", [], "x2"))
        self.assertEqual(r, ["final", "cancelled"])
        self.claimed("w:0#1", "x3")
        r = self.expect("cancel", "running", self.call("cancel", [], "x3"))
        self.assertEqual(r, ["running", "w:0"])
        # A flow's parent: its waiting child x4 and running child x3 too.
        self.add_jobs("x4")
        self.add_jobs("x5", depends_on="x3,x4")
        self.r.hset(f"{PREFIX}:job:x5", "flow", "1")
        r = self.expect("cancel", "cancelled_flow", self.call("cancel", [], "x5"))
        self.assertEqual(r, ["cancelled", 2])
        self.assertEqual([self.r.hget(f"{PREFIX}:job:{x}", "state") for x in ("x4", "x5")], ["cancelled"] * 2)
        self.assertEqual(self.r.hget(f"{PREFIX}:job:x3", "cancel_requested"), "1")
        self.assert_all_shapes_met("cancel")

    def test_dlq_retry(self):
        entry = self.claimed("w:0#1", "d1", max_retries=0)["d1"]
        self.finish("w:0#1", [self.outcome(entry, "d1", "transient")])
        dead = self.r.hget(f"{PREFIX}:job:d1", "dead_entry")
        r = self.expect("dlq_retry", "requeued", self.call("dlq_retry", [], dead))
        self.assertEqual(r, ["d1"])
        r = self.expect("dlq_retry", "requeued", self.call("dlq_retry", [], dead))
        self.assertEqual(r, [])
        self.assert_all_shapes_met("dlq_retry")

    def test_retry(self):
        self.expect("retry", "missing", self.call("retry", [], "y1"))
        self.add_jobs("y1")
        r = self.expect("retry", "refused", self.call("retry", [], "y1"))
        self.assertEqual(r, ["refused", "queued"])
        entry = self.claimed_any("w:0#1")["y1"]
        self.assertEqual(self.call("retry", [], "y1"), ["refused", "running"])
        self.finish("w:0#1", [self.outcome(entry, "y1", "permanent")])
        self.assertEqual(self.r.zscore(f"{PREFIX}:index:backtest:failed", "y1") is not None, True)
        r = self.expect("retry", "requeued", self.call("retry", [], "y1"))
        self.assertEqual(r, ["requeued", 2])
        self.assertEqual(self.r.hmget(f"{PREFIX}:job:y1", "state", "attempts", "run", "error"), ["queued", "0", "2", None])
        self.assertEqual(self.r.ttl(f"{PREFIX}:job:y1"), -1)  # waiting again: no expiry
        self.assertIsNone(self.r.zscore(f"{PREFIX}:index:backtest:failed", "y1"))
        self.assertIsNone(self.r.get("task_result:y1"))
        # Dead, with its dead-letter entry: the dead-letter way (entry gone);
        # dead after the cap trimmed its entry: from the record.
        for job_id, trim in (("y2", False), ("y3", True)):
            self.fresh()
            entry = self.claimed("w:0#1", job_id, max_retries=0)[job_id]
            self.finish("w:0#1", [self.outcome(entry, job_id, "transient")])
            dead = self.r.hget(f"{PREFIX}:job:{job_id}", "dead_entry")
            if trim:
                self.r.xdel(f"{PREFIX}:dead", dead)
            r = self.expect("retry", "requeued", self.call("retry", [], job_id))
            self.assertEqual(r, ["requeued", 2])
            self.assertEqual(self.r.xlen(f"{PREFIX}:dead"), 0)
            self.assertIsNone(self.r.zscore(f"{PREFIX}:index:backtest:dead", job_id))
            self.assertEqual(set(self.claimed_any("w:0#2")), {job_id})
        entry = self.claimed("w:0#1", "y4")["y4"]
        self.finish("w:0#1", [self.outcome(entry, "y4", "ok")])
        self.assertEqual(self.call("retry", [], "y4"), ["refused", "completed"])
        self.expect("retry", "protocol", self.with_protocol("2", lambda: self.call("retry", [], "y4")))
        self.assert_all_shapes_met("retry")

    def batch(self, *jobs, fields="10"):
        """enqueue_batch of jobs, each a dict of the fields that differ from
        a default job."""
        args = [MAX_PAYLOAD, str(time.time_ns() // 1000), fields]
        for j in jobs:
            d = {"id": None, "type": "noop", "args": "{}", "queue": "backtest", "priority": "normal",
                 "max_retries": "3", "timeout_ms": "3600000", "delay_ms": "0", "replace": "0", "expires_ms": "0"}
            d.update(j)
            args += [d[k] for k in ("id", "type", "args", "queue", "priority", "max_retries", "timeout_ms",
                                    "delay_ms", "replace", "expires_ms")]
        return self.call("enqueue_batch", [], *args)

    def test_enqueue_batch(self):
        self.add_jobs("b0")
        r = self.expect("enqueue_batch", "jobs", self.batch({"id": "b1"}, {"id": "b0"}, {"id": "b1"},
                                                            {"id": "b2", "priority": "high", "delay_ms": "60000"},
                                                            {"id": "b3", "expires_ms": "5000"}))
        self.assertEqual(r, [1, "queued", 1, "", 0, "queued", 1, "", 0, "queued", 1, "", 1, "queued", 1, "",
                             1, "queued", 1, ""])
        self.assertEqual(self.r.xlen(NORMAL), 3)                           # b0, b1, b3: b2 is delayed
        self.assertIsNotNone(self.r.zscore(f"{PREFIX}:delayed:backtest_high", "b2"))
        self.assertIsNotNone(self.r.zscore(f"{PREFIX}:expiring", "b3"))
        self.assertEqual(self.r.hget(f"{PREFIX}:stats:backtest", "submitted"), "4")   # b0 and three here
        self.assertEqual(self.expect("enqueue_batch", "jobs", self.batch()), [])
        # one bad job refuses the call: nothing written
        for bad, why in (({"id": "c2", "args": "[1]"}, "job 2 (c2): args must be a JSON object"),
                         ({"id": "c2", "replace": "2"}, "job 2 (c2): replace must be 0 or 1"),
                         ({"id": "c2", "expires_ms": "-5"}, "job 2 (c2): expires_ms must be an integer"),
                         ({"id": "c 2"}, "job 2 (c 2): job id must be"),
                         # checks whose verdicts a call keeps per value (passes): job 1's values
                         # passed, job 2's differ, and a value passed for one field is not for another
                         ({"id": "c2", "queue": "backtest_high"}, "job 2 (c2): invalid queue name: backtest_high"),
                         ({"id": "c2", "queue": "noop x"}, "job 2 (c2): invalid queue name: noop x"),
                         ({"id": "c2", "type": "a b"}, "job 2 (c2): task type must be"),
                         ({"id": "c2", "max_retries": "101"}, "job 2 (c2): max_retries must be an integer"),
                         ({"id": "c2", "max_retries": "3.5"}, "job 2 (c2): max_retries must be an integer"),
                         ({"id": "c2", "max_retries": "3600000"}, "job 2 (c2): max_retries must be an integer"),
                         ({"id": "c2", "max_retries": "noop"}, "job 2 (c2): max_retries must be an integer"),
                         ({"id": "c2", "timeout_ms": "604800001"}, "job 2 (c2): timeout_ms must be an integer"),
                         ({"id": "c2", "timeout_ms": "-1"}, "job 2 (c2): timeout_ms must be an integer"),
                         ({"id": "c2", "delay_ms": "-1"}, "job 2 (c2): delay must not be negative")):
            with self.subTest(why=why):
                self.assertIn(why, self.expect("enqueue_batch", "invalid", self.batch({"id": "c1"}, bad)))
                self.assertEqual(self.r.exists(f"{PREFIX}:job:c1"), 0)
        self.assertIn("takes 10 fields per job, not 11",
                      self.expect("enqueue_batch", "invalid", self.batch({"id": "c1"}, fields="11")))
        self.assertIn("a batch is 0 to 1000 jobs",
                      self.expect("enqueue_batch", "invalid",
                                  self.call("enqueue_batch", [], MAX_PAYLOAD, "1", "10", "x")))
        # a replace: a finished job runs again; one a waiting job needs refuses the call
        entry = self.claimed_any("w:0#1")
        self.finish("w:0#1", [self.outcome(entry["b0"], "b0", "ok")])
        r = self.batch({"id": "b0", "replace": "1"})
        self.assertEqual(r, [1, "queued", 2, "completed"])
        self.fresh()
        entry = self.claimed("w:0#1", "d1")["d1"]
        self.finish("w:0#1", [self.outcome(entry, "d1", "ok")])
        self.enqueue("d2", depends_on="d1", queue="nobody")
        self.assertIn("job 2 (d1): job d1 cannot run again yet: 1 waiting job(s)",
                      self.expect("enqueue_batch", "invalid", self.batch({"id": "d3"}, {"id": "d1", "replace": "1"})))
        self.assertEqual(self.r.exists(f"{PREFIX}:job:d3"), 0)
        self.expect("enqueue_batch", "protocol", self.with_protocol("2", lambda: self.batch({"id": "p1"})))
        self.assert_all_shapes_met("enqueue_batch")

    def test_delete(self):
        self.expect("delete", "missing", self.call("delete", [], "z1"))
        self.add_jobs("z1")
        self.assertEqual(self.expect("delete", "refused", self.call("delete", [], "z1")), ["refused", "queued"])
        self.assertEqual(self.expect("enqueue", "created_replace", self.enqueue("z2", depends_on="z1"))[2], "deferred")
        self.assertEqual(self.call("delete", [], "z2"), ["refused", "deferred"])
        entry = self.claimed_any("w:0#1")["z1"]
        self.assertEqual(self.call("delete", [], "z1"), ["refused", "running"])
        self.finish("w:0#1", [self.outcome(entry, "z1", "ok")])
        # z2 is ready now, and depends on z1's result
        self.assertEqual(self.expect("delete", "needed", self.call("delete", [], "z1")), ["needed", 1])
        self.assertEqual(self.r.hget(f"{PREFIX}:job:z1", "state"), "completed")
        self.assertIsNotNone(self.r.get("task_result:z1"))
        entry = self.claimed_any("w:0#1")["z2"]
        self.finish("w:0#1", [self.outcome(entry, "z2", "ok")])
        r = self.expect("delete", "deleted", self.call("delete", [], "z1"))
        self.assertEqual(r, ["deleted", "completed"])
        self.assertEqual(self.r.exists(f"{PREFIX}:job:z1", "task_result:z1", f"{PREFIX}:dependents:z1"), 0)
        self.assertEqual(self.call("delete", [], "z2"), ["deleted", "completed"])
        self.assertEqual(self.r.exists(f"{PREFIX}:deps:z2"), 0)
        # retrying, then dead: the dead-letter entry and the index entry go with it
        entry = self.claimed("w:0#1", "z3", max_retries=1)["z3"]
        self.finish("w:0#1", [self.outcome(entry, "z3", "transient")])
        self.assertEqual(self.call("delete", [], "z3"), ["refused", "retrying"])
        self.r.zadd(f"{PREFIX}:retry:backtest_normal", {"z3": 0})   # due now
        entry = self.claimed_any("w:0#1")["z3"]
        self.finish("w:0#1", [self.outcome(entry, "z3", "transient", attempt="2")])
        self.assertEqual(self.r.xlen(f"{PREFIX}:dead"), 1)
        self.assertIsNotNone(self.r.zscore(f"{PREFIX}:index:backtest:dead", "z3"))
        self.assertEqual(self.call("delete", [], "z3"), ["deleted", "dead"])
        self.assertEqual(self.r.xlen(f"{PREFIX}:dead"), 0)
        self.assertIsNone(self.r.zscore(f"{PREFIX}:index:backtest:dead", "z3"))
        self.assertEqual(self.r.exists(f"{PREFIX}:job:z3", f"{PREFIX}:retries:z3", "task_result:z3"), 0)
        self.add_jobs("z4")
        self.expect("delete", "protocol", self.with_protocol("2", lambda: self.call("delete", [], "z4")))
        self.assertEqual(self.r.hget(f"{PREFIX}:job:z4", "state"), "queued")
        self.assert_all_shapes_met("delete")

    def test_purge(self):
        r = self.expect("purge", "count", self.call("purge", [], "backtest", "count"))
        self.assertEqual(r, [0, 0, 0, 0, 0, 0])
        running = self.claimed("w:0#1", "u1", "u2")
        self.finish("w:0#1", [self.outcome(running["u2"], "u2", "transient")])  # retrying
        self.call("limit", [], "set", "echo", "0")
        self.add_jobs("u7", jtype="echo")  # held by the claim below
        self.add_jobs("u3", "u4", "u5")
        self.add_jobs("u6", delay_ms=60000)
        self.add_jobs("u8", depends_on="u1")  # deferred
        r = self.claim("w:0#1", count=1)
        self.assertEqual(r[2], "u3")  # u7 held, u3 runs
        r = self.expect("purge", "count", self.call("purge", [], "backtest", "count"))
        # ready u4 u5, delayed u6, retrying u2, held u7; running u1 u3; deferred u8
        self.assertEqual(r, [2, 1, 1, 1, 2, 1])
        self.r.xadd(NORMAL, {"junk": "1"})  # not a job: dropped too
        r = self.expect("purge", "purge", self.call("purge", [], "backtest", "purge", "2"))
        self.assertEqual(r, [2, 1])
        r = self.expect("purge", "purge", self.call("purge", [], "backtest", "purge", "1000"))
        self.assertEqual(r, [4, 0])
        for job_id in ("u2", "u4", "u5", "u6", "u7", "u8"):
            self.assertEqual(self.r.hmget(f"{PREFIX}:job:{job_id}", "state", "error"), ["cancelled", "Job purged"])
            self.assertEqual(json.loads(self.r.get(f"task_result:{job_id}"))["data"]["error"], "Job purged")
            self.assertIsNotNone(self.r.zscore(f"{PREFIX}:index:backtest:cancelled", job_id))
        for job_id in ("u1", "u3"):  # running: left to finish
            self.assertEqual(self.r.hget(f"{PREFIX}:job:{job_id}", "state"), "queued")
        self.assertEqual(self.call("purge", [], "backtest", "count"), [0, 0, 0, 0, 2, 0])
        # Read through the group, not deleted unread: the group's lag stays known.
        self.assertEqual([g["lag"] for g in self.r.xinfo_groups(NORMAL)], [0])
        self.assertIsNone(self.r.zscore(f"{PREFIX}:index:backtest:retrying", "u2"))
        self.assert_all_shapes_met("purge")

    def test_limit(self):
        self.claimed("w:0#1", "m1", "m2")
        r = self.expect("limit", "set", self.call("limit", [], "set", "noop", "1"))
        self.assertEqual(r, ["set", -1, 2])  # counted from the pending entries
        r = self.expect("limit", "set", self.call("limit", [], "set", "noop", "3"))
        self.assertEqual(r, ["set", 1, 2])
        self.assertEqual(self.r.hgetall(f"{PREFIX}:limits"), {"noop": "3"})
        self.assertEqual(self.r.zrange(f"{PREFIX}:running:noop", 0, -1), ["m1", "m2"])
        for bad in (["set", "noop", "-1"], ["set", "noop", "1.5"], ["set", "bad type", "1"], ["list"]):
            self.expect("limit", "invalid", self.call("limit", [], *bad))
        r = self.expect("limit", "cleared", self.call("limit", [], "clear", "noop"))
        self.assertEqual(r, ["cleared", 3, 0])
        self.assertEqual(self.r.exists(f"{PREFIX}:running:noop", f"{PREFIX}:limits"), 0)
        self.assertEqual(self.call("limit", [], "clear", "noop"), ["cleared", -1, 0])
        self.assert_all_shapes_met("limit")

    def test_lease(self):
        r = self.expect("lease", "held", self.call("lease", [], "a", "acquire", "5000"))
        self.assertEqual(r, [1, "a"])
        r = self.expect("lease", "taken", self.call("lease", [], "b", "acquire", "5000"))
        self.assertEqual(r, [0, "a"])
        self.expect("lease", "released", self.call("lease", [], "b", "release", "5000"))
        self.expect("lease", "released", self.call("lease", [], "a", "release", "5000"))
        self.assertIsNone(self.r.get(f"{PREFIX}:scheduler:lease"))
        self.assert_all_shapes_met("lease")

    def test_list_import(self):
        lst = "strategy_queue"

        def imp(fmt=True):
            # queue_list_import: queue, normal, 3, 3600000, max_payload, now_us, max entries, "2"
            return self.call("list_import", [lst], "backtest", "normal", "3", "3600000", MAX_PAYLOAD,
                             str(time.time_ns() // 1000), "100", *(["2"] if fmt else []))

        def push(*entries):
            for e in entries:
                self.r.lpush(lst, e if isinstance(e, str) else json.dumps(e))

        push({"task_id": "l1", "task_type": "noop", "args": {}}, {"task_id": "l2", "task_type": "noop"})
        r = self.expect("list_import", "format2", imp())
        self.assertEqual(r, [2, 0, 0, 0])
        entry = self.claimed_any("w:0#1")  # l1 and l2
        self.finish("w:0#1", [self.outcome(e, i, "ok") for i, e in entry.items() if i == "l1"])
        push({"task_id": "l1", "task_type": "noop"}, {"task_id": "l2", "task_type": "noop"}, "{not json",
             {"task_id": "l3", "task_type": 7})
        r = self.expect("list_import", "format2", imp())
        self.assertEqual(r[:4], [1, 1, 0, 1])
        self.assertEqual([e[0] for e in r[4:]], ["rerun", "duplicate", "rejected", "rejected"])
        self.assertEqual(r[4][1:], ["l1", 2, "completed"])
        self.assertEqual(r[5][1:3], ["l2", "running"])
        self.assertEqual(r[6][1], "")
        self.assertEqual(r[7][1], "l3")
        push("[1]")
        r = self.expect("list_import", "format1", imp(fmt=False))
        self.assertEqual(r[:3], [0, 0, 0])
        self.assertEqual(r[3].split("\t")[0], "")
        push({"task_id": "l4", "task_type": "noop"})
        self.expect("list_import", "protocol", self.with_protocol("2", imp))
        self.assertEqual(self.r.llen(lst), 1)
        self.assert_all_shapes_met("list_import")

    def test_history_ack(self):
        entries = self.claimed("w:0#1", "h1", "h2")
        self.finish("w:0#1", [self.outcome(e, i, "ok") for i, e in entries.items()], history=True)
        self.r.xgroup_create(HISTORY, "history", "0")
        got = self.r.xreadgroup("history", "host:1.abcd:history", {HISTORY: ">"}, count=10)
        # Rows per entry: its fields / 2 (redis-py folds the repeated
        # field names into a dict, so they are counted in Redis).
        count = "return #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1][2] / 2"
        acks = [x for eid, _ in got[0][1] for x in (eid, str(self.r.eval(count, 1, HISTORY, eid)))]
        r = self.expect("history_ack", "rows", self.call("history_ack", [HISTORY], "history", *acks))
        self.assertEqual(r, 2)
        self.assertEqual(int(self.r.hget(HISTORY + ":state", "waiting")), 0)
        r = self.expect("history_ack", "rows", self.call("history_ack", [HISTORY], "history", *acks))
        self.assertEqual(r, 0)  # already deleted: not counted again
        self.assert_all_shapes_met("history_ack")
