#!/usr/bin/env python3
"""tests/hostile/run.py — runs the hostile strategy catalogue (catalogue.json)
as jobs through a real `tickq worker` and checks each against its expected
outcome.

What one run does (README.md in this folder says more):
  1. a private redis-server (unless --redis-url) and a SQLite file of
     synthetic bars;
  2. the reference jobs (catalogue.json "reference") on a fresh worker: their
     results are the baseline;
  3. one long-running worker with 2 children, and a stream of no-op and sleep
     jobs enqueued beside the catalogue for the whole run (the load);
  4. every entry as a job, each followed by a reference job in the entry's
     language, all enqueued at once so both children interleave them;
  5. the checks: every entry ended in its expected state, with its expected
     error, within its time bound, in one attempt (strategy failures are
     permanent); every reference job's result is identical to the baseline
     (nothing leaked through the warm state or the Python host), and each
     child ran one in the entry's language after each entry; the load
     completed; no worker child died and the supervisor is still up.

Entries that rely on the evaluation's address-space limit (Python's memory
limit), which an AddressSanitizer build does not set, say why in
`skip_sanitized`: against such a build they are listed as skipped.

Prints one line per entry (name, state, seconds, head of the error) and a
summary; exits 1 when anything did not match. tests/integration/test_hostile.py
runs it in `make test`; `make hostile` runs it alone."""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import redis   # Debian's python3-redis

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import RedisServer  # noqa: E402  (its servers: unix socket, no persistence)
CATALOGUE = os.path.join(HERE, "catalogue.json")
LANGUAGES = ("lua", "python")  # languages the worker runs; entries in others are skipped
EXTENSIONS = {"lua": "lua", "python": "py"}
STATES = ("completed", "failed", "refused", "rejected")
FINAL = ("completed", "failed", "dead", "cancelled")
# Result fields that differ from run to run by design.
VOLATILE = ("worker_id", "completed_at", "execution_time_ms", "execution_time_seconds")
ENTRY_KEYS = {"name", "file", "language", "task", "args", "expand", "submit", "entry", "expect", "skip_sanitized"}
REFERENCE_KEYS = {"name", "file", "prelude", "language", "task", "args"}
# Values a file may ask for with an `expand` marker ({"@MARKER@": "redis_url"}).
RUN_VALUES = ("redis_url",)
EXPECT_KEYS = {"state", "error", "seconds", "output", "output_truncated", "result"}
PYTHON_MIN_BOUND_S = 30      # the least time bound of a Python entry
# A safety net: no process of the worker may map more than this, so that a
# defect in a memory limit fails an entry instead of starving the machine.
WORKER_ADDRESS_SPACE = 3 << 30


class CatalogueError(Exception):
    pass


def load_catalogue(path=CATALOGUE):
    """The manifest with each entry's defaults filled in; refuses unknown keys,
    missing files, duplicate names and bad regular expressions."""
    with open(path) as f:
        cat = json.load(f)
    d = cat["defaults"]
    names = set()
    entries = []
    for raw in cat["entries"]:
        unknown = set(raw) - ENTRY_KEYS
        if unknown:
            raise CatalogueError(f"{raw.get('name')}: unknown keys {sorted(unknown)}")
        e = dict(raw)
        if e["name"] in names:
            raise CatalogueError(f"{e['name']}: listed twice")
        names.add(e["name"])
        e.setdefault("language", d["language"])
        e.setdefault("task", d["task"])
        e.setdefault("submit", "cli")
        e.setdefault("file", f"{e['language']}/{e['name']}.{EXTENSIONS[e['language']]}")
        args = dict(d["args"][e["task"]])
        args.update(d["limits"])
        args.update(d.get("language_limits", {}).get(e["language"], {}))
        args.update(e.get("args", {}))
        e["args"] = args
        x = dict(e["expect"])
        unknown = set(x) - EXPECT_KEYS
        if unknown:
            raise CatalogueError(f"{e['name']}: unknown expect keys {sorted(unknown)}")
        x.setdefault("seconds", d["seconds"])
        if e["language"] == "python" or args.get("language", "lua") != "lua":
            # A hang guard, not a speed check (that is make bench-strategy's):
            # a Python evaluation's cost varies with the machine's load, and
            # the first on a worker child starts its Python host. Also for
            # an entry in the Lua folder whose args send "python" or leave
            # the language to detection (code_python).
            x["seconds"] = max(x["seconds"], PYTHON_MIN_BOUND_S)
        if x["state"] not in STATES:
            raise CatalogueError(f"{e['name']}: state {x['state']!r} is not one of {STATES}")
        if x["state"] != "completed" and not x.get("error"):
            raise CatalogueError(f"{e['name']}: a {x['state']} entry needs its expected error")
        for k in ("error", "output", "result"):
            if x.get(k) is not None:
                re.compile(x[k])
        if e["language"] == "python" and "memory limit" in (x.get("error") or "") and not e.get("skip_sanitized"):
            raise CatalogueError(f"{e['name']}: a Python memory-limit entry needs skip_sanitized (no address-space "
                                 f"limit under AddressSanitizer)")
        for marker, how in e.get("expand", {}).items():
            if isinstance(how, str) and how not in RUN_VALUES:
                raise CatalogueError(f"{e['name']}: expand {marker}: {how!r} is not one of {RUN_VALUES}")
        e["expect"] = x
        if not os.path.exists(os.path.join(HERE, e["file"])):
            raise CatalogueError(f"{e['name']}: no file {e['file']}")
        entries.append(e)
    refs = []
    for r in cat["reference"]:
        unknown = set(r) - REFERENCE_KEYS
        if unknown:
            raise CatalogueError(f"reference {r.get('name')}: unknown keys {sorted(unknown)}")
        r = dict(r)
        r.setdefault("language", d["language"])
        args = dict(d["args"][r["task"]])
        args.update(r.get("args", {}))
        args["language"] = r["language"]
        r["args"] = args
        refs.append(r)
    missing = {e["language"] for e in entries} - {r["language"] for r in refs}
    if missing:
        raise CatalogueError(f"no reference job in {sorted(missing)}: each entry is followed by one in its language")
    return cat, entries, refs


def code_of(e, values=None):
    """The entry's code: its file, with each marker of `expand` replaced by its
    text repeated (very long code is made, not stored: [text, times]) or by a
    value of the run (a name of RUN_VALUES, from `values`: the Redis URL a
    strategy tries to reach). Bytes: a file may hold bytes that are not UTF-8
    on purpose."""
    with open(os.path.join(HERE, e["file"]), "rb") as f:
        code = f.read()
    for marker, how in e.get("expand", {}).items():
        text = (values or {}).get(how, "") if isinstance(how, str) else how[0] * how[1]
        code = code.replace(marker.encode(), text.encode())
    return code


def reference_code(r):
    """A reference job's code: its prelude (code it shares with the other
    references of its language), then its file."""
    code = b""
    for path in (r.get("prelude"), r["file"]):
        if path:
            with open(os.path.join(HERE, path), "rb") as f:
                code += f.read()
    return code


def canonical(data):
    """A result's data as text that does not depend on the run: volatile fields
    dropped, keys sorted (Lua's table order differs between Lua states)."""
    return json.dumps({k: v for k, v in data.items() if k not in VOLATILE}, sort_keys=True, separators=(",", ":"))


def limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_ADDRESS_SPACE, WORKER_ADDRESS_SPACE))


def sanitized(binary):
    """True for an AddressSanitizer build (make sanitize): it reserves terabytes
    of address space, so it gets no address-space limit, and it runs slower,
    so the time bounds are tripled."""
    p = subprocess.run(["ldd", binary], capture_output=True, text=True)
    return "libasan" in p.stdout


class Redis:
    """A private redis-server (the integration harness's), or the one at `url`."""

    def __init__(self, url=None):
        self.server = None if url else RedisServer()
        self.url = url or self.server.url
        self.r = redis.Redis.from_url(self.url)
        self.r.ping()

    def hgetall(self, key):
        return {k.decode(): v.decode("utf-8", "replace") for k, v in self.r.hgetall(key).items()}

    def get_json(self, key):
        text = self.r.get(key)
        return json.loads(text) if text else None

    def close(self):
        self.r.close()
        if self.server is not None:
            self.server.close()


class Run:
    """One run of the catalogue against one Redis."""

    def __init__(self, tickq, redis_url=None, prefix="hostile", log=print):
        self.tickq = os.path.abspath(tickq)
        self.redis = Redis(redis_url)
        self.prefix = prefix
        self.log = log
        self.tmp = tempfile.mkdtemp(prefix="tickq-hostile-")
        self.env = dict(os.environ)
        self.env.pop("RQ_QUEUES", None)
        self.env.pop("DATABASE_URL", None)
        self.env.update({"REDIS_URL": self.redis.url, "TICKQ_DB": os.path.join(self.tmp, "bars.db"),
                         "TICKQ_PREFIX": prefix})
        self.workers = []
        self.base_problems = []
        self.seq = 0
        self.sanitized = sanitized(self.tickq)

    def close(self):
        for w, _ in self.workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
                try:
                    w.wait(20)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait()
        for _, f in self.workers:
            f.close()
        self.redis.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- jobs ------------------------------------------------------------------
    def tq(self, *args, stdin=None, timeout=60):
        return subprocess.run([self.tickq, *[str(a) for a in args]], env=self.env, input=stdin,
                              capture_output=True, timeout=timeout)

    def new_id(self, kind):
        self.seq += 1
        return f"{kind}-{self.seq:04d}-{time.time_ns() % 10**9}"

    def enqueue(self, task, args, code=None, job_id=None, submit="cli"):
        """Enqueues a job; returns (id, None) or (None, why the CLI refused it).
        Code goes in through --arg-file as a user's file would (cli), or as a
        raw JSON entry of the users' list protocol (list), past the CLI's own
        checks."""
        job_id = job_id or self.new_id(task)
        if submit == "list":
            a = dict(args)
            a["strategy_code"] = code.decode("utf-8")
            entry = json.dumps({"task_id": job_id, "task_type": task, "args": a})
            self.redis.r.lpush("strategy_queue", entry)
            return job_id, None
        cmd = ["enqueue", task, "-", "--id", job_id, "--max-retries", "2", "--timeout", "60"]
        if code is not None:
            path = os.path.join(self.tmp, job_id + ".code")
            with open(path, "wb") as f:
                f.write(code)
            cmd += ["--arg-file", f"strategy_code={path}"]
        p = self.tq(*cmd, stdin=json.dumps(args).encode())
        if p.returncode != 0:
            return None, p.stderr.decode("utf-8", "replace").strip()
        return job_id, None

    def job(self, job_id):
        return self.redis.hgetall(f"{self.prefix}:job:{job_id}")

    def rejected(self, job_id):
        """The list import's rejection of a task id, if any."""
        for _, fields in self.redis.r.xrange(f"{self.prefix}:rejected"):
            if fields.get(b"task_id", b"").decode() == job_id:
                return fields.get(b"error", b"").decode("utf-8", "replace")
        return None

    def wait_final(self, ids, timeout):
        """Waits for every job to reach a final state (or the list import to
        reject it); returns the ids that did not."""
        left = set(ids)
        deadline = time.time() + timeout
        while left and time.time() < deadline:
            for j in list(left):
                st = self.redis.r.hget(f"{self.prefix}:job:{j}", "state")
                if (st and st.decode() in FINAL) or (st is None and self.rejected(j) is not None):
                    left.discard(j)
            if left:
                time.sleep(0.1)
        return left

    def start_worker(self, *args, burst=False):
        log = open(os.path.join(self.tmp, f"worker-{len(self.workers)}.log"), "w+")
        cmd = [self.tickq, "worker", "--no-history", "--heartbeat", "1s", "--stats-interval", "1h",
               "--retry-base", "100ms", *args]
        if burst:
            cmd.append("--burst")
        p = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log,
                             preexec_fn=None if self.sanitized else limit_address_space)
        self.workers.append((p, log))
        return p, log

    def children(self, pid):
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except FileNotFoundError:
            return []
        out = []
        for k in kids:
            try:
                with open(f"/proc/{k}/comm") as f:
                    if f.read().strip() != "tickq-history":
                        out.append(k)
            except FileNotFoundError:
                pass
        return out

    # --- the run -----------------------------------------------------------------
    def prepare(self):
        p = self.tq("data", "synth", "--symbols", "3", "--days", "120", "--seed", "7")
        if p.returncode != 0:
            raise RuntimeError(p.stderr.decode())

    def baseline(self, refs):
        """Each reference job's canonical result on a fresh worker, None for
        one that failed there (a problem of the run, self.base_problems: the
        entries are still run and checked)."""
        ids = {}
        for r in refs:
            jid, why = self.enqueue(r["task"], r["args"], reference_code(r))
            if jid is None:
                raise RuntimeError(f"reference {r['name']} refused: {why}")
            ids[r["name"]] = jid
        w, log = self.start_worker("--workers", "1", burst=True)
        if w.wait(120) != 0:
            log.seek(0)
            raise RuntimeError("the baseline worker failed: " + log.read()[-2000:])
        base = {}
        for name, jid in ids.items():
            res = self.redis.get_json(f"task_result:{jid}")
            if res is None or res["status"] != "completed":
                self.base_problems.append(f"reference {name} did not complete on a fresh worker: "
                                          f"{json.dumps(res)[:300]}")
                base[name] = None
            else:
                base[name] = canonical(res["data"])
        return base

    def run(self, entries, refs, load=True):
        """Runs the entries; returns (outcomes, problems of the run as a whole)."""
        self.prepare()
        base = self.baseline(refs)
        codes = {r["name"]: reference_code(r) for r in refs}
        jobs, ref_jobs = [], []      # (entry, id, why refused), (reference name, language, id)
        by_language = {}
        for r in refs:
            by_language.setdefault(r["language"], []).append(r)
        turn = {lang: 0 for lang in by_language}

        def next_reference(lang):
            """Enqueues the next reference job of `lang` (they take turns)."""
            r = by_language[lang][turn[lang] % len(by_language[lang])]
            turn[lang] += 1
            rid, why = self.enqueue(r["task"], r["args"], codes[r["name"]])
            if rid is None:
                raise RuntimeError(f"reference {r['name']} refused: {why}")
            ref_jobs.append((r["name"], lang, rid))
            return rid
        worker, wlog = self.start_worker("--workers", "2", "--list-queue", "strategy_queue")
        deadline = time.time() + 15
        while len(self.children(worker.pid)) < 2 and time.time() < deadline:
            time.sleep(0.05)
        kids_before = sorted(self.children(worker.pid))

        stop = threading.Event()
        load_ids = []

        def loader():
            n = 0
            while not stop.is_set():
                task, args = ("sleep", {"ms": 20}) if n % 3 == 0 else ("noop", {})
                jid, _ = self.enqueue(task, args)
                if jid:
                    load_ids.append(jid)
                n += 1
                stop.wait(0.05)
        t = threading.Thread(target=loader, daemon=True)
        if load:
            t.start()

        values = {"redis_url": self.redis.url}
        for e in entries:
            a = dict(e["args"])
            a.setdefault("language", e["language"])   # null: detected from the code
            if e.get("entry"):
                a["entry"] = e["entry"]
            jid, refused = self.enqueue(e["task"], a, code_of(e, values), submit=e["submit"])
            jobs.append((e, jid, refused))
            next_reference(e["language"])
        ids = [j for _, j, _ in jobs if j] + [r for _, _, r in ref_jobs]
        budget = 30 + sum(e["expect"]["seconds"] for e in entries) * (3 if self.sanitized else 1) / 2
        stuck = self.wait_final(ids, budget)
        # More references until each child that ran an entry has run one in
        # the entry's language after its last such entry (which child takes
        # a job is up to them).
        last = {}
        for e, jid, _ in jobs:
            job = self.job(jid) if jid else {}
            if job.get("worker") and job.get("finished_us"):
                key = (job["worker"], e["language"])
                last[key] = max(last.get(key, 0), int(job["finished_us"]))
        for k in range(40):
            runs = [(lang, self.job(rid)) for _, lang, rid in ref_jobs]
            behind = [(w, lang) for (w, lang), t in last.items()
                      if not any(rl == lang and r.get("worker") == w and int(r.get("started_us") or 0) > t
                                 for rl, r in runs)]
            if not behind:
                break
            stuck |= self.wait_final([next_reference(behind[k % len(behind)][1])], 30)
        stop.set()
        if load:
            t.join(10)
        stuck |= self.wait_final(load_ids, 30)

        outcomes = [self.outcome(e, jid, refused, stuck) for e, jid, refused in jobs]
        problems = list(self.base_problems)
        for name, _, rid in ref_jobs:
            res = self.redis.get_json(f"task_result:{rid}")
            if base[name] is None:
                continue  # failed on the fresh worker too: one problem, above
            if rid in stuck:
                problems.append(f"reference job {rid} ({name}) did not finish")
            elif res is None or res["status"] != "completed":
                problems.append(f"reference job {rid} ({name}) failed: {json.dumps(res)[:300]}")
            elif canonical(res["data"]) != base[name]:
                problems.append(f"reference job {rid} ({name}) differs from the fresh worker's result "
                                f"(state leaked?): {canonical(res['data'])[:300]}")
        # Each entry's worker child ran a reference job in its language after it.
        ref_runs = [(lang, self.job(rid)) for _, lang, rid in ref_jobs]
        for e, jid, _ in jobs:
            job = self.job(jid) if jid else {}
            if job.get("worker") and job.get("finished_us") and not any(
                    lang == e["language"] and r.get("worker") == job["worker"]
                    and int(r.get("started_us") or 0) > int(job["finished_us"]) for lang, r in ref_runs):
                problems.append(f"no {e['language']} reference job ran after {e['name']} on its worker child "
                                f"{job['worker']}")
        for jid in load_ids:
            st = self.job(jid).get("state")
            if st != "completed":
                problems.append(f"load job {jid} ended {st}")
        kids_after = sorted(self.children(worker.pid))
        if worker.poll() is not None:
            problems.append(f"the worker exited (status {worker.returncode})")
        elif kids_after != kids_before:
            problems.append(f"worker children changed: {kids_before} -> {kids_after}")
        wlog.flush()
        wlog.seek(0)
        for line in wlog.read().splitlines():
            if "worker child stopped" in line or "job timed out" in line or '"level":"error"' in line:
                problems.append("worker log: " + line[:300])
        self.load_jobs = len(load_ids)
        self.reference_jobs = len(ref_jobs)
        return outcomes, problems

    def outcome(self, e, jid, refused, stuck):
        """What happened to one entry, and what of it was not expected."""
        x = e["expect"]
        o = {"name": e["name"], "state": None, "seconds": None, "error": None, "problems": []}
        if jid is None:
            o["state"], o["error"] = "refused", refused
        elif self.rejected(jid) is not None and not self.job(jid):
            o["state"], o["error"] = "rejected", self.rejected(jid)
        else:
            job = self.job(jid)
            o["state"] = job.get("state")
            if jid in stuck:
                o["state"] = f"stuck ({o['state']})"
            res = self.redis.get_json(f"task_result:{jid}") or {}
            data = res.get("data") or {}
            o["error"] = data.get("error")
            if job.get("started_us") and job.get("finished_us"):
                o["seconds"] = (int(job["finished_us"]) - int(job["started_us"])) / 1e6
            if o["state"] == "failed" and (job.get("attempts") != "1" or
                                           self.redis.r.llen(f"{self.prefix}:retries:{jid}") != 0):
                o["problems"].append(f"retried ({job.get('attempts')} attempts): a strategy failure is permanent")
            if o["state"] in FINAL and o["seconds"] is None:
                o["problems"].append("no start and finish times")
            elif o["seconds"] is not None and o["seconds"] > x["seconds"] * (3 if self.sanitized else 1):
                o["problems"].append(f"took {o['seconds']:.2f} s, over its bound of {x['seconds']} s"
                                     f"{' (x3: sanitizer build)' if self.sanitized else ''}")
            if x.get("output") is not None and not re.search(x["output"], data.get("strategy_output", "")):
                o["problems"].append(f"output {data.get('strategy_output', '')[:80]!r} does not match "
                                     f"/{x['output']}/")
            if x.get("output_truncated") is not None:
                got = bool(data.get("strategy_output_truncated"))
                if got != x["output_truncated"]:
                    o["problems"].append(f"strategy_output_truncated is {got}, expected {x['output_truncated']}")
                if len(data.get("strategy_output", "").encode()) > 64 * 1024:
                    o["problems"].append("strategy_output is over 64 KiB")
            if x.get("result") is not None and not re.search(x["result"], canonical(data)):
                o["problems"].append(f"result does not match /{x['result']}/: {canonical(data)[:200]}")
        if o["state"] != x["state"]:
            o["problems"].insert(0, f"state {o['state']}, expected {x['state']}")
        if x.get("error") is not None and not re.search(x["error"], o["error"] or ""):
            o["problems"].insert(0, f"error does not match /{x['error']}/")
        if x.get("error") is None and o["error"]:
            o["problems"].insert(0, "an error where none was expected")
        return o


def head(text, n=100):
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[:n - 3] + "..."


def skip_reason(e, is_sanitized):
    """Why an entry is not run against this binary, or None."""
    if e["language"] not in LANGUAGES:
        return f"{e['language']}: language not supported yet"
    if is_sanitized and e.get("skip_sanitized"):
        return "AddressSanitizer build: " + e["skip_sanitized"]
    return None


def run_catalogue(tickq, redis_url=None, only=None, load=True, log=print):
    """Runs the catalogue (entries whose name matches `only`, a regex); returns
    (outcomes, problems). Prints one line per entry with `log`, and one per
    entry skipped (a language the worker does not run, or an entry that needs
    what an AddressSanitizer build lacks)."""
    cat, entries, refs = load_catalogue()
    entries = [e for e in entries if not only or re.search(only, e["name"])]
    is_sanitized = sanitized(tickq)
    skipped = [(e, skip_reason(e, is_sanitized)) for e in entries if skip_reason(e, is_sanitized)]
    entries = [e for e in entries if not skip_reason(e, is_sanitized)]
    languages = {e["language"] for e in entries} or {"lua"}
    refs = [r for r in refs if r["language"] in languages]
    r = Run(tickq, redis_url, log=log)
    t0 = time.time()
    try:
        outcomes, problems = r.run(entries, refs, load=load)
    finally:
        r.close()
    for e, why in skipped:
        log(f"skip {e['name']:28} {why}")
    for o in outcomes:
        secs = "-" if o["seconds"] is None else f"{o['seconds']:.2f}"
        log(f"{'ok' if not o['problems'] else 'FAIL':4} {o['name']:28} {o['state'] or '-':10} {secs:>6}  "
            f"{head(o['error'])}")
        for p in o["problems"]:
            log(f"       {p}")
    for p in problems:
        log(f"FAIL run: {p}")
    bad = sum(1 for o in outcomes if o["problems"])
    log(f"hostile: {len(outcomes) - bad} of {len(outcomes)} entries as expected, {len(skipped)} skipped "
        f"(listed above); {r.reference_jobs} reference jobs, {r.load_jobs} load jobs, "
        f"{len(problems)} run problems; {time.time() - t0:.1f} s")
    return outcomes, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tickq", default=os.environ.get("TICKQ_BIN", os.path.join(ROOT, "build", "tickq")))
    ap.add_argument("--redis-url", help="use this Redis (default: a private redis-server); its keys under the "
                                        "prefix 'hostile' and the list strategy_queue are used")
    ap.add_argument("--only", help="run only the entries whose name matches this regular expression")
    ap.add_argument("--no-load", action="store_true", help="no stream of load jobs beside the catalogue")
    ap.add_argument("--list", action="store_true", help="list the entries and their expectations, run nothing")
    a = ap.parse_args()
    if a.list:
        _, entries, _ = load_catalogue()
        for e in entries:
            x = e["expect"]
            print(f"{e['name']:28} {e['language']:6} {e['task']:18} {x['state']:9} <{x['seconds']:>4} s  "
                  f"{x.get('error') or ''}{'  (skipped under ASan)' if e.get('skip_sanitized') else ''}")
        return 0
    outcomes, problems = run_catalogue(a.tickq, a.redis_url, a.only, not a.no_load)
    return 0 if not problems and not any(o["problems"] for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
