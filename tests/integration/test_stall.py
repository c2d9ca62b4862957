"""test_stall.py — a worker whose connection to Redis stalls: calls it gave
up on and Redis runs late. Through tests/tools/tcp_proxy.py, each test holds
one exact call of the worker child on its connection until the child has
given up on it (its command timeout, 5 s) and reconnected, then lets Redis
run it: the bad sequence happens every time, not by luck."""
import os
import sys
import time

from harness import ROOT, TickqTestCase, Worker, wait_for

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from tcp_proxy import TcpProxy  # noqa: E402

STREAMS = ["tickq:queue:backtest_high", "tickq:queue:backtest_normal", "tickq:queue:backtest_low"]
# The FCALL of a function as it goes over the wire (RESP), never the
# library's text (which names every function too).
CLAIM = b"\r\ntickq_p1_claim\r\n"
FINISH = b"\r\ntickq_p1_finish\r\n"
COMMAND_TIMEOUT_S = 5   # config.c: command_timeout_ms


class TestStalledConnection(TickqTestCase):
    tcp = True

    def setUp(self):
        super().setUp()
        self.proxy = TcpProxy(self.server.port)
        self.addCleanup(self.proxy.close)  # after tearDown has stopped the workers

    def proxied_worker(self, *args):
        # A claim timeout far beyond the test: the reclaim cannot rescue a
        # stuck job, only the fix can.
        w = Worker(self.proxy.url(), "--workers", "1", "--heartbeat", "200ms", "--claim-timeout", "300s",
                   "--list-queue", "", *args)
        self.workers.append(w)
        return w

    def consumers(self):
        return sorted({c["name"] for s in STREAMS for c in self.r.xinfo_consumers(s, "workers")})

    def starts(self, w, jid):
        return [x for x in w.log_lines() if isinstance(x, dict) and x.get("msg") == "job started"
                and x.get("job_id") == jid]

    def test_claim_run_after_the_child_gave_up_is_released(self):
        """The child's claim sits in a stalled connection; the child gives
        up, reconnects and releases what it holds (nothing); Redis then runs
        the stale claim, which takes job J. J is pending for a name no child
        runs: it goes back to its queue within heartbeats and completes,
        once, its attempt not charged (without the fix it stayed `running`
        for as long as the worker lived, renewed by every heartbeat)."""
        stale = self.proxy.hold_next(CLAIM)
        w = self.proxied_worker()
        self.assertTrue(stale.wait(15), "the child's first claim never came")
        fresh = self.proxy.hold_next(CLAIM)
        # It gives up after its command timeout, reconnects, releases (that
        # call passes), and claims again on the new connection: held too,
        # so the stale claim is the one that meets J.
        self.assertTrue(fresh.wait(COMMAND_TIMEOUT_S + 15), "the child did not claim again after reconnecting")
        self.assertNotEqual(fresh.conn, stale.conn)

        jid = self.enqueue("echo", {"n": 1})
        reply = stale.flush_and_close()
        self.assertIn(jid.encode(), reply)        # Redis ran the late claim: J is claimed for the old name
        fresh.release()

        self.wait_state(jid, "completed", timeout=10)
        res = self.result(jid)
        self.assertEqual(res["status"], "completed")
        worker_id = res["data"]["worker_id"]
        self.assertRegex(worker_id, r":\d+\.[0-9a-f]{4}:0$")   # the worker id, not a consumer name
        job = self.job(jid)
        self.assertEqual(job["worker"], worker_id)
        self.assertEqual(job["attempts"], "1")                  # never ran before: not charged
        self.assertEqual(self.retries(jid), [])
        self.assertEqual(len(self.starts(w, jid)), 1)
        self.assertEqual(self.pending(), 0)
        self.assertIn("reconnected to Redis", w.log())  # a child's log is written out after each job
        released = [x for x in w.log_lines() if isinstance(x, dict) and "old consumer name" in x.get("msg", "")]
        self.assertEqual(len(released), 1, released)
        self.assertEqual(released[0]["job_ids"], jid)
        # The old name is gone from the group; the child consumes under its
        # second generation.
        self.assertEqual(self.consumers(), [worker_id + "#2"])
        w.stop()
        self.assertEqual(self.consumers(), [])

    def test_reconnect_while_recording_keeps_the_outcome(self):
        """The child's finish call sits in a stalled connection; it gives up,
        reconnects and records again under the same name (the entry is
        pending for it): recorded once, never released nor run twice; the
        late duplicate finish that Redis then runs changes nothing."""
        stalled = self.proxy.hold_next(FINISH)
        w = self.proxied_worker()
        jid = self.enqueue("echo", {"n": 2})
        self.assertTrue(stalled.wait(15), "the child never recorded")
        self.assertEqual(self.state(jid), "queued")
        self.wait_state(jid, "completed", timeout=COMMAND_TIMEOUT_S + 15)
        self.assertIn("reconnected to Redis", w.log())
        reply = stalled.flush_and_close()
        self.assertTrue(reply.startswith(b"*"), reply)       # the late finish ran and skipped the outcome
        time.sleep(0.6)                                      # three heartbeats: nothing is released
        self.assertEqual(self.state(jid), "completed")
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(len(self.starts(w, jid)), 1)
        log = w.log()
        self.assertNotIn("outcomes skipped", log)
        self.assertNotIn("old consumer name", log)
        self.assertEqual(self.counters()["completed"], 1)
        worker_id = self.result(jid)["data"]["worker_id"]
        self.assertEqual(self.consumers(), [worker_id + "#1"])
        wait_for(lambda: self.pending() == 0, 5, what="nothing pending")

    def test_a_finish_run_before_its_retry_is_known_as_recorded(self):
        """The held finish reaches Redis and runs, but the child's
        connection drops before the reply: the child reconnects and sends it
        again, which skips the outcome (no longer pending); the child sees
        in the job's record that its earlier call recorded it."""
        stalled = self.proxy.hold_next(FINISH)
        w = self.proxied_worker()
        jid = self.enqueue("echo", {"n": 4})
        self.assertTrue(stalled.wait(15), "the child never recorded")
        reply = stalled.flush_and_close()     # Redis ran it; the child never gets the reply
        self.assertTrue(reply.startswith(b"*"), reply)
        self.assertEqual(self.state(jid), "completed")
        wait_for(lambda: "outcomes already recorded by the earlier call" in w.log(), 15,
                 what="the child to see its earlier call applied")
        log = w.log()
        self.assertIn("reconnected to Redis", log)
        self.assertNotIn("outcomes skipped", log)
        self.assertEqual(self.job(jid)["attempts"], "1")
        self.assertEqual(len(self.starts(w, jid)), 1)
        self.assertEqual(self.counters()["completed"], 1)

    def test_late_running_result_never_hides_the_outcome(self):
        """An idle child takes a job in its blocking read and writes the
        job's running result without waiting for the reply; that write sits
        in a stalled connection, the child gives up on it, reconnects and
        records the outcome. When Redis runs the late write, the completed
        result stays (it used to go back to `running` for the result TTL)."""
        started = self.proxy.hold_next(b"\r\ntickq_p1_started\r\n")
        w = self.proxied_worker()

        def blocked():
            return [c for c in self.r.client_list() if c["name"].startswith("tickq-worker:")
                    and c["cmd"] == "xreadgroup" and "b" in c["flags"]]
        wait_for(blocked, 15, what="the child blocked in XREADGROUP")
        jid = self.enqueue("echo", {"n": 3})
        self.assertTrue(started.wait(15), "the child never wrote a running result")
        self.wait_state(jid, "completed", timeout=COMMAND_TIMEOUT_S + 15)
        reply = started.flush_and_close()
        self.assertEqual(self.result(jid)["status"], "completed")
        self.assertEqual(reply, b":0\r\n")                     # the late write ran and wrote nothing
        self.assertEqual(len(self.starts(w, jid)), 1)
        self.assertNotIn("outcomes skipped", w.log())


class TestConsumerGenerations(TickqTestCase):
    """touch and release on consumer names with generations, called as the
    supervisor calls them (docs/protocol.md, "Worker and consumer names")."""

    def claim_for(self, consumer):
        jid = self.submit("echo", {"for": consumer})
        reply = self.fcall("claim", STREAMS, consumer, "1")
        self.assertEqual(reply[2], jid)
        return jid, reply[1]

    def holders(self):
        return {c["name"]: c["pending"] for c in self.r.xinfo_consumers(STREAMS[1], "workers")}

    def test_touch_renews_the_current_name_releases_older_never_newer(self):
        old, _ = self.claim_for("h:1.abcd:0#1")        # a claim run late for a name the child left
        cur, cur_entry = self.claim_for("h:1.abcd:0#2")
        new, _ = self.claim_for("h:1.abcd:0#3")        # the child moved on after the supervisor read #2
        other, _ = self.claim_for("h:1.abcd:1#1")      # another slot's current name, not passed
        time.sleep(0.3)                                # idle time accrues, for the touch to reset
        (idle,) = self.r.xpending_range(STREAMS[1], "workers", cur_entry, cur_entry, 1)
        reply = self.fcall("touch", STREAMS, "h:1.abcd:0#2")
        self.assertEqual(reply, [1, 1, old, []])
        self.assertEqual(self.holders(), {"h:1.abcd:0#2": 1, "h:1.abcd:0#3": 1, "h:1.abcd:1#1": 1})
        self.assertEqual(self.state(old), "queued")
        self.assertEqual(self.job(old)["attempts"], "0")       # never started: not charged
        self.assertIsNone(self.result(old))                    # its running result went with the claim
        self.assertEqual(self.ready(), 1)
        (p,) = self.r.xpending_range(STREAMS[1], "workers", cur_entry, cur_entry, 1)
        # Renewed: idle for less than before the touch (not a bound in ms,
        # which a loaded machine may pass between the two calls).
        self.assertLess(p["time_since_delivered"], idle["time_since_delivered"])
        self.assertEqual(self.result(new)["status"], "running")
        self.assertEqual(self.result(other)["data"]["worker_id"], "h:1.abcd:1")

    def test_release_settles_the_last_name_and_every_older_one(self):
        old, _ = self.claim_for("h:1.abcd:0#4")
        cur, cur_entry = self.claim_for("h:1.abcd:0#5")
        other, _ = self.claim_for("h:1.abcd:1#9")
        reply = self.fcall("release", STREAMS, "h:1.abcd:0#5", cur_entry, "crash", "died")
        self.assertEqual(reply[:2], [1, "retrying"])
        self.assertEqual(self.holders(), {"h:1.abcd:1#9": 1})
        self.assertEqual(self.state(old), "queued")
        self.assertEqual(self.job(old)["attempts"], "0")
        job = self.job(cur)
        self.assertEqual((job["attempts"], job["worker"]), ("1", "h:1.abcd:0"))
        (rec,) = self.retries(cur)
        self.assertEqual((rec["kind"], rec["worker_id"]), ("crash", "h:1.abcd:0"))

    def test_names_without_a_generation_are_renewed_as_before(self):
        jid, _ = self.claim_for("oldhost:7.beef:0")
        self.claim_for("oldhost:7.beef:0#1")  # not a generation of a name given with one
        self.assertEqual(self.fcall("touch", STREAMS, "oldhost:7.beef:0"), [1, 0, []])
        self.assertEqual(self.holders(), {"oldhost:7.beef:0": 1, "oldhost:7.beef:0#1": 1})
        self.assertEqual(self.result(jid)["data"]["worker_id"], "oldhost:7.beef:0")

    def foreign_entry_held_by(self, consumer, **fields):
        """Something another client XADDed to the queue stream, taken by a
        late blocking XREADGROUP of `consumer` (the C side drops such an
        entry when it reads the reply; a connection given up on never does)."""
        entry = self.r.xadd(STREAMS[1], fields or {"hello": "world"})
        got = self.r.xreadgroup("workers", consumer, {STREAMS[1]: ">"}, count=1)
        self.assertEqual(got[0][1][0][0], entry)
        return entry

    def test_touch_drops_a_foreign_entry_an_old_generation_holds(self):
        """A non-job entry pending for an older generation is acked and
        deleted; the heartbeat still renews the current name's claims
        (it failed on the missing job id and renewed nothing after it)."""
        cur, cur_entry = self.claim_for("h:1.abcd:0#2")
        foreign = self.foreign_entry_held_by("h:1.abcd:0#1")
        reply = self.fcall("touch", STREAMS, "h:1.abcd:0#2")
        self.assertEqual(reply, [1, 0, []])
        self.assertEqual(self.holders(), {"h:1.abcd:0#2": 1})
        self.assertEqual(self.r.xrange(STREAMS[1], foreign, foreign), [])
        self.assertEqual(self.state(cur), "queued")
        self.assertEqual(self.result(cur)["status"], "running")

    def test_release_drops_foreign_entries_of_every_generation(self):
        cur, cur_entry = self.claim_for("h:1.abcd:0#2")
        old = self.foreign_entry_held_by("h:1.abcd:0#1")
        own = self.foreign_entry_held_by("h:1.abcd:0#2", job=cur, type="echo")   # a job field, not a job entry
        reply = self.fcall("release", STREAMS, "h:1.abcd:0#2", cur_entry, "crash", "died")
        self.assertEqual(reply[:3], [0, "retrying", cur])
        self.assertEqual(self.holders(), {})
        for e in (old, own):
            self.assertEqual(self.r.xrange(STREAMS[1], e, e), [])
        self.assertEqual(self.job(cur)["attempts"], "1")
        self.assertEqual(len(self.retries(cur)), 1)

    def test_reclaim_drops_a_foreign_entry(self):
        jid = self.submit("echo", {})
        self.fcall("claim", STREAMS, "h:1.abcd:0#1", "1")
        foreign = self.foreign_entry_held_by("h:1.abcd:0#1", job=jid)
        time.sleep(0.05)  # the entries idle past reclaim's minimum (10 ms)
        reply = self.fcall("reclaim", STREAMS, "sup", "10", "lost")
        self.assertEqual(reply[0], 1)                       # the job, not the foreign entry
        self.assertEqual(reply[2:4], [jid, "echo"])
        self.assertEqual(self.r.xrange(STREAMS[1], foreign, foreign), [])
        self.assertEqual(self.job(jid)["attempts"], "1")

    HISTORY = "tickq:history:0123456789abcdef"

    def history_rows(self):
        """The rows appended to HISTORY, as (kind, columns)."""
        return [(k, v.split("\0")) for _, fields in self.r.xrange(self.HISTORY) for k, v in fields.items()]

    def test_touch_ends_a_cancelled_old_claim_and_writes_its_history_row(self):
        """A cancel requested while a claim an old generation holds waits:
        touch ends the job cancelled, reports it apart from the jobs it
        returned to their queues, and appends its history row naming the
        worker id (it wrote none: touch had no history stream)."""
        old, _ = self.claim_for("h:1.abcd:0#1")
        back, _ = self.claim_for("h:1.abcd:0#1")
        self.assertEqual(self.fcall("cancel", [], old), ["running", "h:1.abcd:0"])
        reply = self.fcall("touch", STREAMS + [self.HISTORY], "h:1.abcd:0#2")
        self.assertEqual(reply, [0, 1, back, [old], 1])
        self.assertEqual((self.state(old), self.state(back)), ("cancelled", "queued"))
        ((kind, row),) = self.history_rows()
        self.assertEqual((kind, row[0], row[4], row[7]), ("job", old, "cancelled", "h:1.abcd:0"))
        self.assertEqual(self.r.hget(self.HISTORY + ":state", "waiting"), "1")
        # Without a history stream (--no-history): no row, the same reply
        # but the row count.
        self.r.delete(self.HISTORY)
        self.assertEqual(self.fcall("claim", STREAMS, "h:1.abcd:0#2", "1")[2], back)
        self.fcall("cancel", [], back)
        self.assertEqual(self.fcall("touch", STREAMS, "h:1.abcd:0#3"), [0, 0, [back]])
        self.assertEqual(self.r.xlen(self.HISTORY), 0)

    def test_release_and_reclaim_append_their_row_count_with_a_history_stream(self):
        """So that the caller can tell a library from before the stream
        (which writes no rows and answers without the count)."""
        cur, cur_entry = self.claim_for("h:1.abcd:0#1")
        reply = self.fcall("release", STREAMS, "h:1.abcd:0#1", cur_entry, "crash", "died", "", self.HISTORY)
        self.assertEqual(reply, [0, "retrying", cur, "echo", "backtest", 1, 1, 1])   # run 1, one retry row
        self.assertEqual(self.fcall("release", STREAMS, "h:1.abcd:0#1", "", "shutdown", "", "", self.HISTORY),
                         [0, "", "", "", "", 0, 0, 0])
        self.assertEqual(self.fcall("release", STREAMS, "h:1.abcd:0#1", "", "shutdown", ""),
                         [0, "", "", "", "", 0])                                  # as before without one
        self.r.delete("tickq:retry:backtest_normal")
        jid, _ = self.claim_for("h:1.abcd:0#2")
        time.sleep(0.05)  # the entry idles past reclaim's minimum (10 ms)
        reply = self.fcall("reclaim", STREAMS, "sup", "10", "lost", self.HISTORY)
        self.assertEqual(reply[0], 1)
        self.assertEqual(reply[-2:], [[1], 1])
        self.assertEqual(self.fcall("reclaim", STREAMS, "sup", "10", "lost", self.HISTORY), [0, 0, [], 0])

    def test_reclaim_records_the_worker_that_held_the_job(self):
        jid, _ = self.claim_for("h:1.abcd:3#7")
        time.sleep(0.05)  # the entry idles past reclaim's minimum (10 ms)
        reply = self.fcall("reclaim", STREAMS, "otherhost:9.beef", "10", "lost", self.HISTORY)
        self.assertEqual(reply[2:6], [jid, "echo", "backtest", "retrying"])
        self.assertEqual(self.job(jid)["worker"], "h:1.abcd:3")
        self.assertEqual(self.retries(jid)[0]["worker_id"], "h:1.abcd:3")
        ((kind, row),) = self.history_rows()
        self.assertEqual((kind, row[0], row[5]), ("retry", jid, "h:1.abcd:3"))
        self.assertEqual(self.result(jid)["data"]["worker_id"], "h:1.abcd:3")

    def test_a_late_started_call_writes_nothing_for_a_job_released_meanwhile(self):
        """The job went back to its queue (state queued again): a late
        `started` of the name that had claimed it must not say it runs."""
        jid, _ = self.claim_for("h:1.abcd:0#1")
        self.assertEqual(self.fcall("touch", STREAMS, "h:1.abcd:0#2"), [0, 1, jid, []])
        self.assertIsNone(self.result(jid))
        self.assertEqual(self.fcall("started", [], "h:1.abcd:0#1", jid, "1"), 0)
        self.assertIsNone(self.result(jid))
        # Claimed again, by another name: still only its holder's call writes.
        self.assertEqual(self.fcall("claim", STREAMS, "h:1.abcd:0#2", "1")[2], jid)
        self.assertEqual(self.fcall("started", [], "h:1.abcd:0#1", jid, "1"), 0)
        self.assertEqual(self.fcall("started", [], "h:1.abcd:0#2", jid, "1"), 1)
        self.assertEqual(self.result(jid)["data"]["worker_id"], "h:1.abcd:0")

    def test_a_retry_handed_back_unstarted_keeps_its_retry_result(self):
        """A retry claimed and handed back before it started: its result
        tells of the failed attempt again, not of a running one."""
        jid, entry = self.claim_for("h:1.abcd:0#1")
        self.assertEqual(self.fcall("release", STREAMS, "h:1.abcd:0#1", entry, "transient", "boom")[1], "retrying")
        before = self.result(jid)
        reply = self.fcall("claim", STREAMS, "h:1.abcd:0#2", "1", now_ms=int(time.time() * 1000) + 7200_000)
        self.assertEqual((reply[2], reply[5]), (jid, "2"))
        self.assertEqual(self.result(jid)["data"], {"attempt": 2, "worker_id": "h:1.abcd:0"})
        self.assertEqual(self.fcall("touch", STREAMS, "h:1.abcd:0#3"), [0, 1, jid, []])
        res = self.result(jid)
        self.assertEqual(res["status"], before["status"])
        self.assertEqual(res["data"], {"attempt": 1, "last_error": "boom", "worker_id": "h:1.abcd:0"})
        self.assertEqual(self.state(jid), "queued")

    def test_finish_never_recreates_a_record_that_is_gone(self):
        """A completed job whose record went while it ran (deleted by hand,
        evicted): its result is written for the client that waits for it,
        the entry leaves the group, but no partial record is made (it would
        hold neither queue nor type, and expire) and no history row, whose
        created_at and run nobody knows; its state says `missing`, as a
        failure's does."""
        jid, entry = self.claim_for("h:1.abcd:0#1")
        self.r.delete(f"tickq:job:{jid}")
        now = str(time.time_ns() // 1000)
        reply = self.fcall("finish", [STREAMS[1], self.HISTORY], "h:1.abcd:0#1",
                           entry, jid, "ok", '{"status":"completed","data":{}}', "1", now, now)
        self.assertEqual(reply, [1, 0, 0, 0, "missing", 0, 0])
        self.assertEqual(self.r.exists(f"tickq:job:{jid}"), 0)
        self.assertEqual(self.result(jid)["status"], "completed")
        self.assertEqual(self.history_rows(), [])
        self.assertEqual(self.pending(), 0)
