"""test_http_metrics.py — the HTTP server's health and metrics, against a
real Redis: /health on `tickq serve` and beside a worker, with Redis down,
/health/ready while a worker shuts down; /metrics parsed by
prometheus_client's parser: a worker's own series (jobs by queue, type and
outcome, the duration histogram, children, sandbox kills), the cluster's
from `tickq serve` and from `worker --cluster-metrics` only (depths, ages,
events, dead letters, workers, job history, the list protocol, scheduler
fires); and the HTTP process beside a worker: restarted when killed, gone
when the worker stops."""
import os
import signal
import subprocess
import sys
import threading
import time

from harness import ISO_RE, ROOT, SynthBarsTestCase, free_port, gone, postgres, wait_for
from http_harness import HANDLER_ENV, LISTENING, HttpCase, parent_of
from test_scheduler import every_minute_but_the_next_few

sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import tickq_client  # noqa: E402

OUTCOMES = ("ok", "transient", "permanent", "timeout", "crash", "cancel")


class TestHealth(HttpCase):
    def test_serve_is_healthy_with_no_supervisor(self):
        s = self.serve()
        h = self.expect(self.get(s, "/health"), 200)
        self.assertEqual((h["status"], h["role"], h["problems"]), ("healthy", "serve", []))
        self.assertIs(h["redis"]["ok"], True)
        self.assertIs(h["database"]["ok"], True)
        self.assertIsNone(h["supervisor"])
        self.assertIsNone(h["last_job_finished"])
        self.assertNotIn("worker", h)
        self.assertEqual(self.expect(self.get(s, "/health/live"), 200), {"status": "alive"})
        self.assertEqual(self.expect(self.get(s, "/health/ready"), 200), {"status": "ready"})
        # A Redis that another tickq protocol version holds.
        self.r.set("tickq:protocol", "999")
        h = self.expect(self.get(s, "/health"), 503)
        self.assertEqual(h["redis"], {"ok": True, "protocol": "999"})
        self.assertEqual(h["problems"], [f"redis holds tickq protocol 999; this tickq speaks {h['protocol']}"])

    def test_serve_names_a_database_it_cannot_open(self):
        s = self.serve(env={"TICKQ_DB": "/dev/null/no/tickq.db"})
        h = self.expect(self.get(s, "/health"), 503)
        self.assertIs(h["redis"]["ok"], True)
        self.assertIs(h["database"]["ok"], False)
        self.assertEqual(h["problems"], ["database: " + h["database"]["error"]])
        self.assertIn("/dev/null/no/tickq.db", h["database"]["error"])
        self.assertEqual(self.get(s, "/health/ready").status, 200)   # the queue works without it

    def test_serve_opens_the_database_again_when_the_server_ended_its_session(self):
        """PostgreSQL ends serve's session (a restart, a failover): the next
        request that reads the database opens a new one. Before, the dead
        handle answered 503 ("server closed the connection unexpectedly")
        and /health said the database was down for up to 10 s after it was
        back."""
        url, name = postgres().new_database()
        s = self.serve(env={"DATABASE_URL": url})
        self.assertIs(self.expect(self.get(s, "/health"), 200)["database"]["ok"], True)
        self.expect(self.get(s, "/api/tables/none"), 404)

        def sessions():
            return int(postgres().psql(name, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                             f"'{name}' AND application_name = 'tickq'").stdout)
        self.assertEqual(sessions(), 1)
        postgres().psql(name, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                              f"'{name}' AND application_name = 'tickq'")
        wait_for(lambda: sessions() == 0, 10, what="serve's session to end")
        self.assertIn("no optimize table for job none", self.expect(self.get(s, "/api/tables/none"), 404)["error"])
        self.assertIs(self.expect(self.get(s, "/health"), 200)["database"]["ok"], True)
        self.assertEqual(sessions(), 1)

    def test_serve_keeps_database_url_settings_and_sets_keepalives(self):
        """What DATABASE_URL says wins over tickq's defaults (here
        application_name; before, tickq's own came after the URL and
        replaced it), and tickq's connection probes a silent server every
        10 s after 30 s idle (keepalives_idle), not after the kernel's two
        hours: a server or network gone silent ends the session in about a
        minute instead of hanging a statement."""
        url, name = postgres().new_database()
        s = self.serve(env={"DATABASE_URL": url + "?application_name=tickq-api"})
        self.assertIs(self.expect(self.get(s, "/health"), 200)["database"]["ok"], True)
        count = postgres().psql(name, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                      f"'{name}' AND application_name = 'tickq-api'").stdout
        self.assertEqual(int(count), 1)
        # The client end of that session in /proc/net/tcp: timer 2 is the
        # keepalive timer, its expiry in clock ticks (100 a second).
        pg_port = int(url.split(":")[2].split("/")[0])
        pids = {s.pid}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) in pids:
                            pids.add(int(d))
                except (OSError, IndexError, ValueError):
                    pass
        inodes = set()
        for pid in pids:
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
            except OSError:
                pass
        timers = []
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                col = line.split()
                if int(col[2].split(":")[1], 16) == pg_port and col[9] in inodes:
                    timer, when = col[5].split(":")
                    timers.append((int(timer, 16), int(when, 16)))
        self.assertEqual(len(timers), 1, timers)
        self.assertEqual(timers[0][0], 2, timers)            # the keepalive timer runs
        self.assertLessEqual(timers[0][1], 30 * 100, timers)  # due within 30 s, not 7,200

    def test_ready_answers_while_a_request_waits_on_the_database(self):
        """A request that waits on a locked table holds the server's lock
        (endpoints run one at a time); /health/ready pings Redis on a
        connection of its own, outside that lock, so the pod stays ready.
        Before, the probe waited behind the request until its timeout."""
        url, name = postgres().new_database()
        s = self.serve(env={"DATABASE_URL": url})
        self.assertIs(self.expect(self.get(s, "/health"), 200)["database"]["ok"], True)
        holder = subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", str(postgres().port), "-U", "postgres",
                                   "-d", name, "-c", "BEGIN; LOCK TABLE optimize_results IN ACCESS EXCLUSIVE MODE; "
                                   "SELECT pg_sleep(60);"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=dict(os.environ, PGAPPNAME="tickq-test-lock"))

        def release():
            holder.kill()
            holder.wait()
            postgres().psql(name, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                                  f"'{name}' AND application_name = 'tickq-test-lock'")
        self.addCleanup(release)

        def waiting():  # serve's session waits for the lock
            return postgres().psql(name, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                         f"'{name}' AND application_name = 'tickq' AND wait_event_type = "
                                         "'Lock'").stdout.strip() == "1"
        wait_for(lambda: postgres().psql(name, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = "
                                               "l.relation WHERE c.relname = 'optimize_results' AND l.granted"
                                         ).stdout.strip() == "1", 10, what="the table lock")
        blocked = {}
        t = threading.Thread(target=lambda: blocked.update(r=self.get(s, "/api/tables/none", timeout=90)))
        t.start()
        wait_for(waiting, 10, what="the request to wait on the lock")
        ready = self.get(s, "/health/ready", timeout=10)
        self.assertEqual((ready.status, ready.json()), (200, {"status": "ready"}))
        self.assertTrue(t.is_alive())   # the other request still waits
        release()
        t.join(30)
        self.assertFalse(t.is_alive())
        self.expect(blocked["r"], 404, "no optimize table for job none")

    def test_worker_health_names_its_supervisor_and_last_job(self):
        w = self.http_worker("--workers", "2", "--queues", "hq")
        instance = self.started_line(w)["worker"]
        h = wait_for(lambda: (lambda b: b["supervisor"]["children"] == 2 and b)(self.get(w, "/health").json()),
                     what="two children in /health")
        self.assertEqual((h["status"], h["role"], h["worker"], h["problems"]), ("healthy", "worker", instance, []))
        self.assertEqual((h["supervisor"]["state"], h["supervisor"]["workers"], h["supervisor"]["busy"]),
                         ("running", 2, 0))
        self.assertEqual(h["redis"]["protocol"], h["protocol"])   # the worker stored its protocol version
        self.assertIsNone(h["last_job_finished"])
        jid = self.enqueue("noop", None, "--queue", "hq")
        self.wait_state(jid, "completed")
        h = wait_for(lambda: (lambda b: b["last_job_finished"] and b)(self.get(w, "/health").json()),
                     what="last_job_finished in /health")
        self.assertRegex(h["last_job_finished"], ISO_RE)
        self.assertEqual(self.get(w, "/health/ready").status, 200)

    def test_ready_says_shutting_down_while_a_job_drains(self):
        """SIGTERM with a job running: readiness goes 503 "shutting down"
        while the job still runs (it holds until the test's marker file
        exists, so this does not depend on timing); then the job ends, the
        worker exits 0 and its HTTP process with it."""
        tmp = self.temp_dir()
        config = self.handler_config(tmp, "hold")
        marker = os.path.join(tmp, "let-go")
        self.addCleanup(lambda: open(marker, "w").close())   # a failed test does not leave the job holding
        w = self.http_worker("--config", config, "--workers", "1", "--grace", "60", env=HANDLER_ENV)
        wait_for(lambda: "handler started" in w.log(), 20, what="the handler's announcement")
        # A file of handlers and no schedules: none to show, no refusal.
        self.assertEqual(self.expect(self.get(w, "/api/schedules"), 200), {"schedules": [], "config": config})
        jid = self.enqueue("hold", {"marker": marker})
        self.wait_running(jid)
        self.assertEqual(self.expect(self.get(w, "/health/ready"), 200), {"status": "ready"})
        w.signal(signal.SIGTERM)
        ready = wait_for(lambda: (lambda r: r.status == 503 and r)(self.get(w, "/health/ready")),
                         what="/health/ready to say 503")
        self.assertEqual(ready.json(), {"status": "not ready", "reason": "shutting down"})
        h = self.expect(self.get(w, "/health"), 503)
        self.assertEqual((h["status"], h["supervisor"]["state"]), ("unhealthy", "stopping"))
        self.assertEqual(h["problems"], ["supervisor: stopping"])
        self.assertEqual(self.get(w, "/health/live").status, 200)   # not dead: no restart wanted
        self.assertEqual(self.metrics(w).value("tickq_worker_stopping"), 1)
        # The job still runs, and so does the worker.
        self.assertEqual(self.result(jid)["status"], "running")
        self.assertIsNone(w.proc.poll())
        open(marker, "w").close()
        self.assertEqual(w.wait(30), 0, w.log())
        self.assertEqual(self.state(jid), "completed")
        self.assertEqual(self.result(jid)["data"]["held"], True)
        self.assertTrue(gone(w.http_pid), "the HTTP process outlived its worker")


class TestRedisDown(HttpCase):
    """Stops and starts the class's redis-server: a class of its own."""

    def test_health_names_redis_while_it_is_down(self):
        s = self.serve()
        self.assertEqual(self.get(s, "/health").status, 200)
        self.addCleanup(lambda: self.server.proc is None and self.server.start())
        self.server.stop()
        h = self.expect(self.get(s, "/health"), 503)
        self.assertEqual(h["status"], "unhealthy")
        self.assertIs(h["redis"]["ok"], False)
        self.assertEqual(h["problems"], ["redis: " + h["redis"]["error"]])
        self.assertIs(h["database"]["ok"], True)
        # Its connection broke; the next request finds no Redis to connect to.
        h = self.expect(self.get(s, "/health"), 503)
        self.assertIn("cannot connect to Redis", h["redis"]["error"])
        self.assertEqual(self.expect(self.get(s, "/health/ready"), 503),
                         {"status": "not ready", "reason": "redis unreachable"})
        self.assertEqual(self.get(s, "/health/live").status, 200)
        m = self.metrics(s)
        self.assertEqual(m.value("tickq_redis_up"), 0)
        self.assertNotIn("tickq_queue_jobs", m.families)
        self.expect(self.get(s, "/api/queues"), 503, "cannot read the queues from Redis")
        # Back: the server connects again by itself (it waits 2 s after a
        # failed connect before it tries again: bounded by the wait).
        self.server.start()
        wait_for(lambda: self.get(s, "/health").status == 200, 10, what="/health to see Redis again")
        wait_for(lambda: self.get(s, "/health/ready").status == 200, 10, what="the probe's own connection again")
        h = self.expect(self.get(s, "/health"), 200)
        self.assertEqual(h["problems"], [])
        self.assertEqual(self.metrics(s).value("tickq_redis_up"), 1)

    def test_serve_against_a_closed_port_is_unhealthy(self):
        s = self.serve("--redis-url", f"redis://127.0.0.1:{free_port()}")
        h = self.expect(self.get(s, "/health"), 503)
        self.assertIs(h["redis"]["ok"], False)
        self.assertEqual(len(h["problems"]), 1, h["problems"])
        self.assertTrue(h["problems"][0].startswith("redis: "), h["problems"])
        self.assertIn("Connection refused", h["problems"][0])
        self.assertEqual(self.get(s, "/health/ready").status, 503)


class TestWorkerMetrics(HttpCase):
    def test_jobs_by_queue_type_and_outcome(self):
        w = self.http_worker("--workers", "2", "--queues", "mq")
        ids = [self.enqueue("sleep", {"ms": 20}, "--queue", "mq") for _ in range(3)]
        ids.append(self.enqueue("fail", {"permanent": True}, "--queue", "mq"))
        for jid in ids:
            self.wait_state(jid, ("completed", "failed"))
        m = self.wait_metric(w, "tickq_worker_job_duration_seconds_count", 1, queue="mq", type="fail")
        m = self.wait_metric(w, "tickq_worker_job_duration_seconds_count", 3, queue="mq", type="sleep")
        self.assertEqual(m.type_of("tickq_worker_jobs"), "counter")
        self.assertEqual(m.type_of("tickq_worker_job_duration_seconds"), "histogram")
        want = {("sleep", "ok"): 3, ("fail", "permanent"): 1}
        got = {(l["type"], l["outcome"]): v for l, v in m.samples("tickq_worker_jobs_total")}
        self.assertEqual(set(got), {(t, o) for t in ("sleep", "fail") for o in OUTCOMES})
        for key, v in got.items():
            self.assertEqual(v, want.get(key, 0), key)
        self.assertEqual({l["queue"] for l, _ in m.samples("tickq_worker_jobs_total")}, {"mq"})
        for jtype, n in (("sleep", 3), ("fail", 1)):
            buckets = sorted(((float(l["le"]), v) for l, v in m.samples("tickq_worker_job_duration_seconds_bucket")
                              if l["type"] == jtype), key=lambda b: b[0])
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), f"{jtype}: buckets not cumulative: {buckets}")
            self.assertEqual(buckets[-1], (float("inf"), n))
            self.assertEqual(m.value("tickq_worker_job_duration_seconds_count", queue="mq", type=jtype), n)
        # Each sleep lasted at least its 20 ms: none within the 10 ms bucket,
        # and the sum is at least 60 ms.
        self.assertEqual(m.value("tickq_worker_job_duration_seconds_bucket", queue="mq", type="sleep", le="0.01"), 0)
        self.assertGreaterEqual(m.value("tickq_worker_job_duration_seconds_sum", queue="mq", type="sleep"), 0.06)
        self.assertEqual(m.value("tickq_worker_children"), 2)
        self.assertEqual(m.value("tickq_worker_desired_children"), 2)
        self.assertEqual(m.value("tickq_worker_stopping"), 0)
        self.wait_metric(w, "tickq_worker_busy_children", 0)   # the supervisor sees them idle at its next turn
        self.assertEqual(m.value("tickq_worker_metrics_dropped_total"), 0)
        self.assertGreaterEqual(m.value("tickq_worker_last_job_finished_time_seconds"),
                                m.value("tickq_worker_start_time_seconds"))
        self.assertLessEqual(abs(m.value("tickq_worker_start_time_seconds") - time.time()), 600)
        self.assertEqual({l["reason"]: v for l, v in m.samples("tickq_sandbox_kills_total")},
                         {"time": 0, "memory": 0, "syscall": 0, "other": 0})
        # A worker's page has none of the cluster's series.
        for family in ("tickq_queue_jobs", "tickq_queue_events", "tickq_dead_letter_jobs", "tickq_redis_up"):
            self.assertNotIn(family, m.families)

    def test_cluster_series_only_with_cluster_metrics(self):
        plain = self.http_worker("--workers", "1", "--queues", "cq")
        cluster = self.http_worker("--workers", "1", "--queues", "cq", "--cluster-metrics")
        self.assertEqual(self.listening(plain)["cluster_metrics"], False)
        self.assertEqual(self.listening(cluster)["cluster_metrics"], True)
        m = self.metrics(plain)
        self.assertNotIn("tickq_queue_jobs", m.families)
        self.assertEqual(m.samples("tickq_queue_jobs"), [])
        self.assertIn("tickq_worker_children", m.families)
        m = self.metrics(cluster)
        self.assertEqual(m.type_of("tickq_queue_jobs"), "gauge")
        self.assertEqual(m.value("tickq_queue_jobs", queue="cq", priority="normal", state="ready"), 0)
        self.assertEqual(m.value("tickq_redis_up"), 1)
        self.assertIn("tickq_worker_children", m.families)   # its own series too
        m = self.wait_metric(cluster, "tickq_workers_live", 2)
        self.assertEqual(m.value("tickq_workers_children"), 2)


class TestClusterMetrics(HttpCase):
    def test_queue_depths_ages_and_events(self):
        s = self.serve()
        ready = [self.enqueue("noop", None, "--queue", "idle") for _ in range(2)]
        self.enqueue("noop", None, "--queue", "idle", "--delay", "300")
        self.enqueue("noop", None, "--queue", "idle", "--priority", "high")
        self.enqueue("noop", None, "--queue", "idle", "--after", ready[0])
        m = self.metrics(s)
        self.assertEqual(m.type_of("tickq_queue_jobs"), "gauge")
        depth = {(l["priority"], l["state"]): v for l, v in m.samples("tickq_queue_jobs") if l["queue"] == "idle"}
        self.assertEqual(depth, {("normal", "ready"): 2, ("normal", "running"): 0, ("normal", "delayed"): 1,
                                 ("normal", "retrying"): 0, ("normal", "deferred"): 1, ("high", "ready"): 1,
                                 ("high", "running"): 0, ("high", "delayed"): 0, ("high", "retrying"): 0,
                                 ("high", "deferred"): 0})
        self.assertEqual(m.type_of("tickq_queue_events"), "counter")
        self.assertEqual(m.value("tickq_queue_events_total", queue="idle", event="submitted"), 5)
        self.assertEqual(m.value("tickq_queue_events_total", queue="idle", event="completed"), 0)
        self.assertEqual(m.value("tickq_dead_letter_jobs"), 0)
        self.assertEqual(m.value("tickq_workers_live"), 0)
        self.assertEqual(m.value("tickq_redis_up"), 1)
        # The oldest ready job has waited, and keeps waiting.
        age = wait_for(lambda: self.metrics(s).value("tickq_queue_oldest_ready_age_seconds", queue="idle",
                                                     priority="normal"), what="an age above 0")
        self.assertGreater(age, 0)
        wait_for(lambda: self.metrics(s).value("tickq_queue_oldest_ready_age_seconds", queue="idle",
                                               priority="normal") > age, what="the age to grow")
        self.assertEqual(self.job(ready[0])["state"], "queued")
        # None of the page is a worker's own.
        self.assertNotIn("tickq_worker_jobs", m.families)

    def test_running_retrying_dead_and_live_workers(self):
        s = self.serve()
        w = self.worker("--workers", "2", "--queues", "busy", "--retry-base", "1h", "--heartbeat", "1s",
                        "--grace", "1")
        sleeper = self.enqueue("sleep", {"ms": 60000}, "--queue", "busy")
        flaky = self.enqueue("fail", {}, "--queue", "busy", "--max-retries", "3")
        self.wait_running(sleeper)
        self.wait_state(flaky, "retrying")
        m = self.wait_metric(s, "tickq_workers_busy_children", 1)
        depth = {l["state"]: v for l, v in m.samples("tickq_queue_jobs") if (l["queue"], l["priority"]) ==
                 ("busy", "normal")}
        self.assertEqual(depth, {"ready": 0, "running": 1, "delayed": 0, "retrying": 1, "deferred": 0})
        self.assertEqual((m.value("tickq_workers_live"), m.value("tickq_workers_children")), (1, 2))
        self.assertEqual(m.value("tickq_queue_oldest_ready_age_seconds", queue="busy", priority="normal"), 0)
        # The worker's job history stream, by its database.
        database = self.started_line(w)["database"]
        ((labels, _),) = m.samples("tickq_history_rows_waiting")
        self.assertTrue(labels["database"].endswith(":" + database), labels)   # host:file for SQLite
        self.assertEqual(m.value("tickq_history_rows_dropped_total", **labels), 0)
        self.assertEqual(m.value("tickq_history_rows_refused_total", **labels), 0)
        self.assertGreaterEqual(m.value("tickq_history_write_lag_seconds", **labels), 0)
        self.assertEqual(m.value("tickq_queue_events_total", queue="busy", event="failed_attempts"), 1)
        self.assertEqual(m.value("tickq_queue_events_total", queue="busy", event="retried"), 1)
        self.assertEqual(m.value("tickq_dead_letter_jobs"), 0)
        w.close()
        self.workers.remove(w)
        # A job that dies: in the dead letters.
        dead = self.enqueue("fail", {}, "--queue", "dq", "--max-retries", "0")
        status, burst = self.burst("--queues", "dq", "--workers", "1")
        self.assertEqual(status, 0, burst.log())
        self.assertEqual(self.state(dead), "dead")
        m = self.metrics(s)
        self.assertEqual(m.value("tickq_dead_letter_jobs"), 1)
        self.assertEqual(m.value("tickq_queue_events_total", queue="dq", event="dead"), 1)
        self.assertEqual(m.value("tickq_queue_events_total", queue="dq", event="submitted"), 1)

    def test_list_protocol_imports_rejections_and_duplicates(self):
        s = self.serve()
        tickq_client.add_task(self.r, "from-list", "noop", {})
        tickq_client.add_task(self.r, "from-list", "noop", {})   # the same id again
        self.r.lpush("strategy_queue", "not json")
        status, w = self.burst("--queues", "lq", "--list-target", "lq", "--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.state("from-list"), "completed")
        m = self.metrics(s)
        for family, counter in (("tickq_list_imports", "list_imported"), ("tickq_list_rejections", "list_rejected"),
                                ("tickq_list_duplicates", "list_duplicates")):
            self.assertEqual(m.type_of(family), "counter")
            self.assertEqual(m.value(family + "_total", queue="lq"), 1, family)
            self.assertEqual(self.counters("lq")[counter], 1, counter)

    def test_scheduler_fires_are_counted(self):
        """A worker with --scheduler fires a schedule that missed its last
        runs (misfire = run_once): one fire, and the runs it did not make
        up as misfires, in /metrics and /api/schedules."""
        tmp = self.temp_dir()
        now = time.time()
        config = os.path.join(tmp, "tickq.ini")
        with open(config, "w") as f:
            f.write("[scheduler]\nlease_ttl = 1s\nmisfire_grace = 1h\n\n"
                    f"[schedule tick]\ncron = {every_minute_but_the_next_few(now)}\ntask = noop\nqueue = sched\n"
                    "misfire = run_once\n")
        self.r.hset("tickq:scheduler:last", "tick", str(int(now - 600)))
        w = self.http_worker("--scheduler", "--config", config, "--cluster-metrics", "--workers", "1",
                             "--queues", "sched")
        m = self.wait_metric(w, "tickq_scheduler_fires_total", 1, schedule="tick")
        fired = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "schedule fired"]
        self.assertEqual(len(fired), 1, fired)
        self.assertGreaterEqual(fired[0]["missed_before"], 8)
        self.assertEqual(m.type_of("tickq_scheduler_fires"), "counter")
        self.assertEqual(m.value("tickq_scheduler_misfires_total", schedule="tick"), fired[0]["missed_before"])
        body = self.expect(self.get(w, "/api/schedules"), 200)
        self.assertEqual(body["config"], config)
        (tick,) = body["schedules"]
        self.assertEqual((tick["name"], tick["fires"], tick["misfires"]), ("tick", 1, fired[0]["missed_before"]))
        job_ids = [k[len("tickq:job:"):] for k in self.r.keys("tickq:job:tick:*")]
        self.assertEqual(len(job_ids), 1, job_ids)
        self.assertEqual(tick["last_fire"], job_ids[0][len("tick:"):])
        self.assertEqual(tick["last_job"], job_ids[0])   # the job that fire enqueued
        # /health names the scheduler replica that holds the lease: this one.
        (started,) = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "scheduler started"]
        self.assertEqual(self.get(w, "/health").json()["scheduler"], {"lease_holder": started["scheduler"]})


class TestSandboxKills(HttpCase, SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", "1", "--days", "60")

    def test_time_and_memory_kills_are_counted(self):
        w = self.http_worker("--workers", "1", "--queues", "kq", env=self.env)
        window = {"symbols": ["SYN0001"], "start_date": "2000-01-01", "end_date": "2100-01-01"}
        spin = self.enqueue("backtest", dict(window, strategy_code="function f(df) while true do end end",
                                             strategy_timeout_seconds=0.2), "--queue", "kq")
        grow = self.enqueue("backtest", dict(window, memory_mb=64, strategy_code="function f(df) local t = {} "
                                             "for i = 1, 1e9 do t[i] = {i} end end"), "--queue", "kq")
        for jid in (spin, grow):
            self.wait_state(jid, ("failed", "completed", "dead"), timeout=60)
        self.assertEqual(self.job(spin)["error"], "Strategy exceeded time limit (0.2 s)")
        self.assertEqual(self.job(grow)["error"], "Strategy exceeded memory limit (64 MiB)")
        m = self.wait_metric(w, "tickq_worker_jobs_total", 2, queue="kq", type="backtest", outcome="permanent")
        self.assertEqual({l["reason"]: v for l, v in m.samples("tickq_sandbox_kills_total")},
                         {"time": 1, "memory": 1, "syscall": 0, "other": 0})
        self.assertEqual(m.type_of("tickq_sandbox_kills"), "counter")


class TestHttpProcess(HttpCase):
    def test_restarted_when_killed_and_gone_with_its_worker(self):
        w = self.http_worker("--workers", "1", "--queues", "pq")
        first = self.listening(w)
        self.assertEqual(parent_of(first["pid"]), w.pid)
        self.assertEqual(first["role"], "worker")
        self.assertEqual(self.get(w, "/health/live").status, 200)
        os.kill(first["pid"], signal.SIGKILL)
        second = self.listening(w, count=2)
        self.assertNotEqual(second["pid"], first["pid"])
        self.assertEqual(parent_of(second["pid"]), w.pid)
        self.assertEqual(second["port"], first["port"])   # where it was: probes and scrapers find it again
        said = [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "the HTTP process stopped; "
                                                                                     "starting another"]
        self.assertEqual([(x["how"], x["status"]) for x in said], [("killed by a signal", signal.SIGKILL)])
        h = self.expect(self.get(second["port"], "/health"), 200)
        self.assertEqual(h["supervisor"]["state"], "running")
        # It stops after the worker, and is gone when the worker has exited.
        self.assertEqual(w.stop(), 0, w.log())
        self.assertTrue(gone(second["pid"]), "the HTTP process outlived its worker")
        msgs = [x.get("msg") for x in w.log_lines() if isinstance(x, dict)]
        self.assertIn("http server stopping", msgs)
        self.assertLess(msgs.index("shutting down"), msgs.index("http server stopping"))
        self.assertLess(msgs.index("http server stopping"), msgs.index("worker stopped"))
        self.assertEqual(msgs.count(LISTENING), 2)
