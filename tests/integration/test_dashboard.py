"""test_dashboard.py — the dashboard (GET /, src/http/dashboard/) in a
real browser: Debian's chromium driven by playwright-core
(browser_harness.py). The Overview loads with no console error and no
failed request; enqueued jobs change its counts without a reload; a live
worker appears with its children; with a token set the page asks for it,
and a wrong one is refused while the right one shows the data; an unknown
query parameter and other methods are refused as on every route. Jobs: a
failed job is in the failed list with its error; the Retry button moves a
dead job back to its queue (checked in Redis); Cancel stops a running
sleep job; Delete removes a finished job once confirmed (and nothing when
not); the list pages by 50 and a job id opens its page; with a token set,
the buttons fail without it and change nothing. Skipped, saying why, where no browser can run
(browser_harness.missing). Without a browser: the samples of the last
hour in Redis, scored and trimmed by time whatever each host's slot
length, each slot start sampled once, the key expiring, an older tickq's
samples (scored by slot number) re-scored."""
import datetime
import json
import os
import time
import unittest

from browser_harness import Browser, missing
from harness import SynthBarsTestCase, temp_sqlite, wait_for, write_bars_csv
from http_harness import TOKEN, HttpCase
from test_options_tasks import BASE as OPTION_BASE, DATES as OPTION_DATES, all_bars_rows

WHY_NOT = missing()


@unittest.skipIf(WHY_NOT is not None, f"browser tests skipped: {WHY_NOT}")
class TestOverview(HttpCase):
    def setUp(self):
        super().setUp()
        self.browser = Browser()
        self.addCleanup(self.browser.close)

    def b(self, op, **kw):
        return self.browser.call(op, **kw)

    def cell(self, queue, field):
        return self.b("text", selector=f'#queues tr[data-queue="{queue}"] td[data-field="{field}"]')

    def assert_no_problems(self):
        self.assertEqual(self.b("problems"), [])

    def test_counts_change_without_a_reload_and_nothing_fails(self):
        s = self.serve()
        self.b("goto", url=f"http://127.0.0.1:{s.port}/")
        self.b("wait_text", selector="#status", text="updated")
        self.assertFalse(self.b("eval", js="document.getElementById('queues-empty').hidden"))
        self.assertIn("tickq worker", self.b("text", selector="#workers-empty"))
        marker = self.b("eval", js="window.__loaded = 1")   # gone if the page reloads
        self.assertEqual(marker, 1)
        for _ in range(3):
            self.enqueue("noop")
        self.b("wait_text", selector='#queues tr[data-queue="backtest_normal"] td[data-field="ready"]', text="3")
        self.assertIn("no worker", self.b("text", selector='#queues tr[data-queue="backtest_normal"]'))
        self.assertEqual(self.b("text", selector='[data-total="submitted"] .value'), "3")
        # a worker drains them: ready 0, completed 3, the worker listed with its children
        w = self.worker("--workers", "2")
        self.b("wait_text", selector='[data-total="completed"] .value', text="3", timeout_ms=20000)
        self.assertEqual(self.cell("backtest_normal", "ready"), "0")
        self.b("wait_visible", selector="#workers tbody tr")
        row = json.loads(self.b("eval", js="JSON.stringify([...document.querySelectorAll('#workers tbody tr[data-worker]')]"
                                             ".map(r => [...r.cells].map(c => c.textContent)))"))
        self.assertEqual(len(row), 1)
        self.assertEqual(row[0][4], "2")          # its children
        self.assertEqual(self.b("eval", js="window.__loaded"), 1)   # never reloaded
        # a failing job: the failed total turns red
        self.enqueue("fail", {"message": "boom", "permanent": True})
        self.b("wait_text", selector='[data-total="failed"] .value', text="1", timeout_ms=20000)
        self.assertIn("bad", self.b("eval", js="document.querySelector('[data-total=\"failed\"]').className"))
        w.stop()
        self.assert_no_problems()

    def test_the_last_hour_is_sampled_once_per_slot_across_hosts_and_charted(self):
        env = {"TICKQ_SAMPLE_MS": "1000"}
        s1, s2 = self.serve(env=env), self.serve(env=env)     # two API hosts sampling the same Redis
        for _ in range(4):
            self.enqueue("noop")

        def waiting():      # a sample taken while the four wait, old enough to show their age
            got = self.expect(self.get(s1, "/api/overview/history"), 200)["samples"]
            return any(x["ready"] == 4 and x["latency_s"] > 0 for x in got)
        wait_for(waiting, 15, what="a sample with the four jobs ready and their age")
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())

        def samples():
            got = self.expect(self.get(s1, "/api/overview/history"), 200)["samples"]
            return got if len(got) >= 4 and got[-1]["completed"] == 4 else None
        got = wait_for(samples, 15, what="four samples, the last after the burst")
        ts = [x["t"] for x in got]
        self.assertEqual(ts, sorted(set(ts)))                   # one sample per slot, however many hosts
        self.assertTrue(all(t % 1000 == 0 for t in ts))
        self.assertEqual(self.expect(self.get(s2, "/api/overview/history"), 200)["samples"][:len(got)], got)
        self.assertIn(4, [x["ready"] for x in got])             # a sample while the four waited...
        waited = [x["latency_s"] for x in got if x["ready"] == 4]
        self.assertTrue(any(v > 0 for v in waited), got)        # ...with the oldest one's age
        self.assertEqual(got[-1]["submitted"], 4)
        self.b("goto", url=f"http://127.0.0.1:{s1.port}/")
        self.b("wait_visible", selector="#chart-throughput")
        series = json.loads(self.b("eval", js="JSON.stringify([...document.querySelectorAll('#chart-throughput path')]"
                                             ".map(p => [p.dataset.series, +p.dataset.points]))"))
        self.assertEqual([n for n, _ in series], ["completed", "failed", "submitted"])
        self.assertTrue(all(p >= 1 for _, p in series), series)
        self.b("wait_visible", selector="#chart-latency")
        self.assertEqual(self.b("problems"), [])
        p = self.tickq("serve", "--http", "127.0.0.1:0", env={"TICKQ_SAMPLE_MS": "5"})
        self.assertEqual(p.returncode, 78)
        self.assertIn("TICKQ_SAMPLE_MS '5' must be a whole number of milliseconds from 1000 to 60000", p.stderr)

    def test_a_malformed_address_shows_the_overview(self):
        s = self.serve()
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/job/%E0%A4%A")
        self.b("wait_text", selector="#status", text="updated")
        self.assertFalse(self.b("eval", js="document.getElementById('view-overview').hidden"))
        self.assertEqual(self.b("problems"), [])

    def test_a_phone_width_and_the_keyboard(self):
        """At 390 px nothing but a table's own box scrolls sideways; the
        views are reached with Tab and Enter."""
        s = self.serve()
        self.enqueue("noop")
        self.b("viewport", width=390, height=844)
        self.b("goto", url=f"http://127.0.0.1:{s.port}/")
        self.b("wait_text", selector="#status", text="updated")
        self.assertLessEqual(self.b("eval", js="document.documentElement.scrollWidth"), 390)
        for _ in range(6):   # Tab from the top of the page to the Jobs link
            self.b("press", key="Tab")
            if self.b("eval", js="document.activeElement.textContent") == "Jobs":
                break
        self.assertEqual(self.b("eval", js="document.activeElement.textContent"), "Jobs")
        self.b("press", key="Enter")
        self.b("wait_visible", selector="#jobs-filter")
        self.assertEqual(self.b("eval", js="location.hash"), "#/jobs")
        self.assertLessEqual(self.b("eval", js="document.documentElement.scrollWidth"), 390)
        self.assertEqual(self.b("problems"), [])

    def test_a_token_is_asked_once_and_a_wrong_one_refused(self):
        s = self.serve(env={"TICKQ_API_TOKEN": TOKEN})
        self.enqueue("noop")
        self.b("goto", url=f"http://127.0.0.1:{s.port}/")
        self.b("wait_visible", selector="#token-section")
        self.assertIn("token", self.b("text", selector="#status"))
        problems = self.b("problems")   # the page's first calls were refused, as they must be
        self.assertTrue(problems and all("401" in p for p in problems), problems)
        self.b("fill", selector="#token-input", value="p\u20acss with spaces")      # no header can carry it
        self.b("click", selector="#token-form button")
        self.b("wait_text", selector="#status", text="printable ASCII")
        self.assertIsNone(self.b("eval", js="sessionStorage.getItem('tickq.token')"))
        self.b("fill", selector="#token-input", value="not-the-token-at-all")
        self.b("click", selector="#token-form button")
        self.b("wait_text", selector="#status", text="wrong token")
        self.b("fill", selector="#token-input", value=TOKEN)
        self.b("click", selector="#token-form button")
        self.b("wait_text", selector='#queues tr[data-queue="backtest_normal"] td[data-field="ready"]', text="1")
        self.assertTrue(self.b("eval", js="document.getElementById('token-section').hidden"))
        # the wrong token's calls (the overview's three run together, and the
        # first refusal shows the message while the others may still be on
        # their way) were all refused, and nothing else went wrong
        wrong = self.b("problems")
        self.assertTrue(wrong and all("403" in p for p in wrong), wrong)
        # kept for the session: a reload does not ask again
        self.b("goto", url=f"http://127.0.0.1:{s.port}/")
        self.b("wait_text", selector="#status", text="updated")
        self.assertTrue(self.b("eval", js="document.getElementById('token-section').hidden"))
        self.assert_no_problems()

    def test_the_page_is_public_self_contained_and_strict(self):
        s = self.serve(env={"TICKQ_API_TOKEN": TOKEN})
        r = self.get(s, "/")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'none'", r.headers["Content-Security-Policy"])
        self.assertIn("frame-ancestors 'none'", r.headers["Content-Security-Policy"])   # no clickjacking
        page = r.body.decode()
        # nothing loaded from elsewhere (the SVG namespace URI names, it loads nothing)
        for outside in (r"""(src|href|action)\s*=\s*["']?(https?:)?//""", r"""url\(\s*["']?(https?:)?//""",
                        r"@import", r"""fetch\(\s*["'`]https?:"""):
            self.assertNotRegex(page, outside)
        self.expect(self.get(s, "/?x=1"), 400, "unknown query parameter 'x'")
        self.assertEqual(self.post(s, "/", {}).status, 405)
        # the data stays behind the token
        self.assertEqual(self.get(s, "/api/queues").status, 401)



SAMPLES = "tickq:dash:samples"
HOUR_MS = 3600000


def sample(t):
    """A sample as an HTTP process writes one (src/http/http_sampler.c)."""
    return json.dumps({"t": t, "submitted": 0, "completed": 0, "failed": 0, "ready": 0, "latency_s": 0},
                      separators=(",", ":"))


class TestHistorySamples(HttpCase):
    """The samples of GET /api/overview/history in Redis, no browser needed."""

    def test_hosts_with_other_slot_lengths_order_and_trim_by_time(self):
        """Samples are scored by time (ms): hosts with another TICKQ_SAMPLE_MS
        neither wipe others' samples nor sort theirs out of place; a slot
        start is sampled once whatever the slot lengths; a sample past the
        hour goes, and so does the key once no host writes to it; a sample
        an older tickq scored by slot number is re-scored by its time."""
        now = int(time.time() * 1000)
        tens = [(now // 10000 - k) * 10000 for k in (3, 2)]     # a 10 s host's, scored by time
        for t in tens:
            self.r.zadd(SAMPLES, {sample(t): t})
        before = (now // 10000 - 4) * 10000                      # an older tickq's: scored by slot number
        self.r.zadd(SAMPLES, {sample(before): before // 10000})
        stale = (now - HOUR_MS) // 10000 * 10000 - 60000         # past the hour
        self.r.zadd(SAMPLES, {sample(stale): stale})
        one = self.serve(env={"TICKQ_SAMPLE_MS": "1000"})
        self.serve(env={"TICKQ_SAMPLE_MS": "2000"})             # its slot starts are the 1 s host's too

        def history():
            got = self.expect(self.get(one, "/api/overview/history"), 200)["samples"]
            return got if len([x for x in got if x["t"] > tens[-1]]) >= 6 else None
        got = wait_for(history, 20, what="six samples of the two hosts")
        ts = [x["t"] for x in got]
        self.assertEqual(ts, sorted(set(ts)), ts)               # in time, each slot start once
        self.assertEqual(ts[:3], [before] + tens)               # the others' kept, in their place
        self.assertNotIn(stale, ts)
        scored = self.r.zrange(SAMPLES, 0, -1, withscores=True)
        self.assertEqual([int(score) for _, score in scored], [json.loads(m)["t"] for m, _ in scored])
        self.assertNotIn(stale, [int(score) for _, score in scored])
        ttl = self.r.pttl(SAMPLES)
        self.assertTrue(HOUR_MS < ttl <= HOUR_MS + 600000, ttl)
        self.assertTrue(all(0 < self.r.pttl(k) <= 12000 for k in self.r.keys("tickq:dash:slot:*")))
        self.assertTrue(all(int(k.rsplit(":", 1)[1]) % 1000 == 0 and int(k.rsplit(":", 1)[1]) > now - 20000
                            for k in self.r.keys("tickq:dash:slot:*")))   # named by the slot's start in ms


@unittest.skipIf(WHY_NOT is not None, f"browser tests skipped: {WHY_NOT}")
class TestJobs(HttpCase):
    def setUp(self):
        super().setUp()
        self.browser = Browser()
        self.addCleanup(self.browser.close)

    def b(self, op, **kw):
        return self.browser.call(op, **kw)

    def record(self, job_id):
        return self.r.hgetall(f"tickq:job:{job_id}")

    def test_failed_list_shows_the_error_and_retry_requeues_a_dead_job(self):
        failed = self.enqueue("fail", {"message": "no such symbol ZZZ", "permanent": True})
        dead = self.enqueue("fail", {"message": "feed down"}, "--max-retries", "0")
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        self.assertEqual(self.record(dead)["state"], "dead")
        s = self.serve()
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/jobs?state=failed")
        self.b("wait_text", selector=f'#jobs tr[data-job="{failed}"]', text="no such symbol ZZZ")
        self.assertIsNone(self.b("text", selector=f'#jobs tr[data-job="{dead}"]'))
        self.assertEqual(self.b("eval", js="document.getElementById('f-state').value"), "failed")
        # the dead one, through the filter form, then its page
        self.b("eval", js="document.getElementById('f-state').value = 'dead'")
        self.b("click", selector="#jobs-filter button")
        self.b("wait_text", selector=f'#jobs tr[data-job="{dead}"]', text="feed down")
        self.b("click", selector=f'#jobs tr[data-job="{dead}"] a')
        self.b("wait_text", selector='#job-fields dd[data-field="state"]', text="dead")
        self.assertIn('"message": "feed down"', self.b("text", selector="#job-args"))
        self.assertTrue(self.b("eval", js="document.getElementById('job-cancel').hidden"))
        self.b("click", selector="#job-retry")
        self.b("wait_text", selector="#job-message", text="done: queued")
        self.assertEqual(self.b("dialogs"), [f"Run job {dead} again?"])
        self.assertEqual(self.record(dead)["state"], "queued")           # back on its queue, in Redis
        self.assertEqual(self.ready(), 1)
        self.b("wait_text", selector='#job-fields dd[data-field="state"]', text="queued")
        self.assertTrue(self.b("eval", js="document.getElementById('job-retry').hidden"))
        self.assertEqual(self.b("problems"), [])

    def test_the_list_pages_and_an_id_opens_its_job(self):
        ids = [self.enqueue("noop", None, "--queue", "waiting", "--id", f"job-{i:02d}") for i in range(55)]
        s = self.serve()
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/jobs?state=queued")
        self.b("wait_text", selector="#jobs-range", text="jobs 1–50")
        shown = lambda: self.b("eval", js="[...document.querySelectorAll('#jobs tbody tr')].map(r => r.dataset.job)")
        first = shown()
        self.assertEqual(len(first), 50)
        self.assertTrue(self.b("eval", js="document.getElementById('jobs-prev').disabled"))
        self.b("click", selector="#jobs-next")
        self.b("wait_text", selector="#jobs-range", text="jobs 51–55 (the last)")
        self.assertIn("page=2", self.b("eval", js="location.hash"))
        second = shown()
        self.assertEqual(sorted(first + second), ids)                       # each job once, none lost
        self.assertTrue(self.b("eval", js="document.getElementById('jobs-next').disabled"))
        self.b("click", selector="#jobs-prev")
        self.b("wait_text", selector="#jobs-range", text="jobs 1–50")
        self.assertEqual(shown(), first)
        self.b("fill", selector="#f-id", value="job-42")
        self.b("click", selector="#job-find button")
        self.b("wait_text", selector="#job-id", text="job-42")
        self.b("wait_text", selector='#job-fields dd[data-field="queue"]', text="waiting")
        self.assertEqual(self.b("problems"), [])

    def test_delete_removes_a_finished_job_once_confirmed(self):
        done = self.enqueue("noop")
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        waiting = self.enqueue("noop")
        s = self.serve()
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/job/{waiting}")
        self.b("wait_text", selector='#job-fields dd[data-field="state"]', text="queued")
        self.assertTrue(self.b("eval", js="document.getElementById('job-delete').hidden"))  # not finished
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/job/{done}")
        self.b("wait_visible", selector="#job-delete")
        question = f"Delete job {done}? Its record and result leave Redis for good."
        self.b("dialog_answer", accept=False)
        self.b("click", selector="#job-delete")
        self.assertEqual(self.b("dialogs"), [question])
        self.assertEqual(self.record(done)["state"], "completed")          # said no: nothing happened
        self.b("dialog_answer", accept=True)
        self.b("click", selector="#job-delete")
        self.b("wait_text", selector="#job-missing", text="Job deleted (it was completed)")
        self.assertEqual(self.b("dialogs"), [question])
        self.assertEqual(self.record(done), {})
        self.assertIsNone(self.r.get(f"task_result:{done}"))
        self.assertTrue(self.b("eval", js="document.getElementById('job-body').hidden"))
        # the polls after it (404: the API's way of saying it is gone; the
        # browser logs each) keep the message
        gone = (f"HTTP 404: http://127.0.0.1:{s.port}/api/tasks/{done}",
                "console error: Failed to load resource: the server responded with a status of 404 (Not Found)")
        self.assertEqual([p for p in self.b("problems") if p not in gone], [])
        self.assertTrue(self.b("eval", js="!document.getElementById('job-missing').hidden"))

    def test_cancel_stops_a_running_sleep_job(self):
        w = self.worker("--workers", "2", "--heartbeat", "1s")
        jid = self.enqueue("sleep", {"ms": 60000})
        self.wait_running(jid)
        s = self.serve()
        # the Overview shows which child runs it, and the other idle
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/")
        self.b("wait_text", selector='#workers li[data-busy="1"] a', text=jid, timeout_ms=15000)
        self.assertIn("sleep on backtest", self.b("text", selector='#workers li[data-busy="1"]'))
        self.assertIn("idle", self.b("text", selector='#workers li[data-busy="0"]'))
        self.assertIn("ago", self.b("text", selector='#workers td[data-field="heartbeat"]'))
        self.b("click", selector='#workers li[data-busy="1"] a')
        self.b("wait_visible", selector="#job-cancel")
        self.b("click", selector="#job-cancel")
        self.b("wait_text", selector='#job-fields dd[data-field="state"]', text="cancelled", timeout_ms=20000)
        self.assertEqual(self.b("dialogs"), [f"Cancel job {jid}?"])
        self.assertEqual(self.record(jid)["state"], "cancelled")
        self.assertEqual(self.pending(), 0)          # its worker let it go
        self.assertTrue(self.b("eval", js="document.getElementById('job-cancel').hidden"))
        w.stop()
        self.assertEqual(self.b("problems"), [])

    def test_with_a_token_the_buttons_fail_without_it(self):
        jid = self.enqueue("fail", {"permanent": True})
        status, w = self.burst("--workers", "1")
        self.assertEqual(status, 0, w.log())
        s = self.serve(env={"TICKQ_API_TOKEN": TOKEN})
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/job/{jid}")
        self.b("wait_visible", selector="#token-section")
        self.b("fill", selector="#token-input", value=TOKEN)
        self.b("click", selector="#token-form button")
        self.b("wait_visible", selector="#job-retry")
        self.b("problems")
        self.b("eval", js="sessionStorage.setItem('tickq.token', 'a-wrong-token-of-some-length'), 1")
        self.b("click", selector="#job-retry")
        self.b("wait_text", selector="#job-message", text="refused: wrong token")
        self.assertEqual(self.record(jid)["state"], "failed")            # nothing happened
        self.assertTrue(any("HTTP 403" in p and "/api/retry/" in p for p in self.b("problems")))
        self.b("eval", js="sessionStorage.removeItem('tickq.token'), 1")
        self.b("click", selector="#job-retry")
        self.b("wait_text", selector="#job-message", text="refused: token needed")
        self.assertEqual(self.record(jid)["state"], "failed")


    def test_schedules_with_next_fires_last_job_and_the_calendar(self):
        tmp = self.temp_dir()
        config = os.path.join(tmp, "tickq.ini")
        # a closure in the next 60 days: a weekday 20 to 30 days on that is a full trading day
        cal = json.loads(self.tickq("schedule", "calendar", "--days", "60", "--json").stdout)
        listed = {d["date"] for d in cal["closures_and_early_closes"]}
        start = datetime.date.fromisoformat(cal["from"])
        closure = next(d.isoformat() for d in (start + datetime.timedelta(days=k) for k in range(20, 31))
                       if d.weekday() < 5 and d.isoformat() not in listed)
        with open(config, "w") as f:
            f.write(f"[scheduler]\nclosures = {closure}\n\n"
                    "[schedule close]\ncron = 30 16 * * MON-FRI\ntimezone = America/New_York\ntask = noop\n\n"
                    "[schedule after_close]\nafter = close\ntask = echo\n")
        self.r.hset("tickq:scheduler:last", "close", "1780329600")   # 2026-06-01T16:00:00Z
        self.r.hset("tickq:scheduler:fires", "close", "4")
        self.r.hset("tickq:scheduler:misfires", "close", "1")
        s = self.serve("--config", config)
        api = self.expect(self.get(s, "/api/schedules"), 200)["schedules"]
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/schedules")
        self.b("wait_visible", selector='#schedules tr[data-schedule="close"]')
        row = self.b("text", selector='#schedules tr[data-schedule="close"]')
        self.assertIn("30 16 * * MON-FRI (America/New_York)", row)
        local = api[0]["next"][0]["local"]             # 2026-12-07T16:30:00-05:00, shown 2026-12-07 16:30 -05:00
        self.assertIn(f"{local[:10]} {local[11:16]} {local[19:]}", row)
        self.assertEqual(self.b("eval", js="document.querySelector('#schedules tr[data-schedule=\"close\"] "
                                           "td[data-field=\"last\"] a').getAttribute('href')"),
                         "#/job/close%3A2026-06-01T16%3A00%3A00Z")
        self.assertIn("after close", self.b("text", selector='#schedules tr[data-schedule="after_close"]'))
        self.assertIn("never", self.b("text", selector='#schedules tr[data-schedule="after_close"]'))
        # the calendar, with the configured closure
        cal = self.expect(self.get(s, "/api/calendar?days=60"), 200)
        self.assertIn({"date": closure, "kind": "closure"},
                      [{"date": d["date"], "kind": d["kind"]} for d in cal["closures_and_early_closes"]])
        listed = json.loads(self.b("eval", js="JSON.stringify([...document.querySelectorAll('#calendar tbody tr')]"
                                             ".map(r => r.dataset.date))"))
        self.assertEqual(listed, [d["date"] for d in cal["closures_and_early_closes"]])
        self.assertIn("next trading day " + cal["next_trading_day"], self.b("text", selector="#calendar-summary"))
        self.assertEqual(self.b("problems"), [])

    def test_no_configuration_says_how_to_get_schedules(self):
        s = self.serve()
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/schedules")
        self.b("wait_text", selector="#schedules-empty", text="read no configuration file")
        self.assertEqual(self.b("problems"), [])


SYMBOLS = ["SYN0001", "SYN0002"]
WINDOW = {"symbols": SYMBOLS, "start_date": "2020-03-02", "end_date": "2020-12-31"}
PORTFOLIO = """
function sma_cross(df)
  print("rows", df.n)
  return where(gt(sma(df.close, 5), sma(df.close, 20)), 1, 0)
end
"""
SIGNALS = """
function gaps(df)
  local out = {}
  for i = 2, df.n do
    if df.ticker[i] == df.ticker[i - 1] and df.close[i] > df.close[i - 1] * 1.01 then
      out[#out + 1] = {ticker = df.ticker[i], date = df.date[i], score = df.close[i] / df.close[i - 1]}
    end
  end
  return out
end
"""


@unittest.skipIf(WHY_NOT is not None, f"browser tests skipped: {WHY_NOT}")
class TestResults(HttpCase, SynthBarsTestCase):
    SYNTH_ARGS = ("--symbols", "2", "--days", "300", "--start", "2020-01-01")

    def setUp(self):
        super().setUp()
        self.browser = Browser()
        self.addCleanup(self.browser.close)

    def b(self, op, **kw):
        return self.browser.call(op, **kw)

    def run_job(self, jtype, args):
        jid = self.enqueue(jtype, args)
        status, w = self.burst("--workers", "1", env=self.env)
        self.assertEqual(status, 0, w.log())
        return jid, self.completed_data(self.result(jid))

    def cells(self, selector):
        return json.loads(self.b("eval", js=f"JSON.stringify([...document.querySelectorAll({json.dumps(selector)})]"
                                             ".map(e => e.textContent))"))

    def test_a_portfolio_backtest_draws_its_equity_curve_ending_at_final_equity(self):
        jid, data = self.run_job("portfolio_backtest", {**WINDOW, "strategy_code": PORTFOLIO})
        curve, trades = data["equity_curve"], data["trades"]
        self.assertGreater(len(trades), 2)
        s = self.serve(env=self.env)
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/job/{jid}")
        self.b("wait_visible", selector="#job-result-link a")
        self.b("click", selector="#job-result-link a")
        self.b("wait_visible", selector="#chart-equity circle")
        last = self.b("eval", js="document.querySelector('#chart-equity circle').dataset.equity")
        self.assertEqual(float(last), data["summary"]["final_equity"])
        self.assertEqual(float(last), curve[-1]["equity"])
        self.assertEqual(self.b("eval", js="document.querySelector('#chart-equity path').dataset.points"),
                         str(len(curve)))
        self.assertEqual(int(self.b("eval", js="document.getElementById('chart-returns').dataset.count")),
                         len([t for t in trades if t["return"] is not None]))
        worst = float(self.b("eval", js="document.querySelector('#chart-drawdown path').dataset.worst"))
        # the drawn drawdown is the metric's (the curve holds every bar here; the metric also
        # counts the initial capital as a peak, hence not to the last digit)
        self.assertLess(data["performance_metrics"]["max_drawdown"], 0)
        self.assertAlmostEqual(worst, data["performance_metrics"]["max_drawdown"], delta=0.01)
        self.assertEqual(len(self.cells("#result-table tbody tr")), len(trades))
        self.assertIn("sharpe", self.cells("#result-metrics th"))
        self.assertIn("function sma_cross", self.b("text", selector="#result-source"))
        self.assertIn("rows", self.b("text", selector="#result-output"))
        # sortable: return, ascending then descending
        cols = self.cells("#result-table thead th")
        at = cols.index("return")
        self.b("click", selector='#result-table th[data-key="return"] button')
        rets = sorted(t["return"] for t in trades if t["return"] is not None)
        first = self.cells(f"#result-table tbody tr:first-child td:nth-child({at + 1})")[0]
        self.assertAlmostEqual(float(first), rets[0], places=4)
        self.b("click", selector='#result-table th[data-key="return"] button')
        first = self.cells(f"#result-table tbody tr:first-child td:nth-child({at + 1})")[0]
        self.assertAlmostEqual(float(first), rets[-1], places=4)
        self.assertEqual(self.b("eval", js="document.querySelector('#result-table th[data-key=\"return\"]')"
                                           ".getAttribute('aria-sort')"), "descending")
        self.assertEqual(self.b("problems"), [])

    def test_an_optimize_job_shows_its_heat_map_best_curve_and_whole_table(self):
        code = "function s(df, p) return where(gt(sma(df.close, p.fast), sma(df.close, p.slow)), 1, 0) end"
        jid, data = self.run_job("optimize", {**WINDOW, "strategy_code": code, "top": 2,
                                              "params": {"fast": [3, 5], "slow": [10, 20, 30]}})
        s = self.serve(env=self.env)
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/result/{jid}")
        self.b("wait_text", selector="#result-table-h", text="Every combination, ranked by sharpe")
        self.b("wait_visible", selector="#result-table tbody tr")
        cells = json.loads(self.b("eval", js="JSON.stringify([...document.querySelectorAll('#chart-heat rect')]"
                                             ".map(r => [r.dataset.x, r.dataset.y, r.dataset.z, r.dataset.best]))"))
        self.assertEqual(len(cells), 6)
        hm = data["heat_map"]
        for x, y, z, best in cells:
            want = hm["z"][hm["y"]["values"].index(int(y))][hm["x"]["values"].index(int(x))]
            self.assertEqual(float(z), want)
        marked = [c for c in cells if c[3] == "1"]
        self.assertEqual([(int(marked[0][0]), int(marked[0][1]))],
                         [(data["best"]["params"]["fast"], data["best"]["params"]["slow"])])
        last = float(self.b("eval", js="document.querySelector('#chart-equity circle').dataset.equity"))
        self.assertEqual(last, data["best"]["equity_curve"][-1]["equity"])
        self.assertEqual(last, data["best"]["metrics"]["final_equity"])
        self.assertEqual(len(self.cells("#result-table tbody tr")), 6)      # the whole table, not the top 2
        self.assertEqual(self.b("problems"), [])

    def test_a_backtest_and_a_screening_show_their_rows(self):
        bt, bdata = self.run_job("backtest", {**WINDOW, "strategy_code": SIGNALS})
        sc, sdata = self.run_job("screening", {"universe": SYMBOLS, "strategy_code": SIGNALS,
                                               "as_of": "2020-09-30", "lookback_bars": 60})
        s = self.serve(env=self.env)
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/result/{bt}")
        self.b("wait_text", selector="#result-table-h", text="Instances")
        self.assertEqual(len(self.cells("#result-table tbody tr")), len(bdata["instances"]))
        self.assertIn("win_rate", self.cells("#result-metrics th"))
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/result/{sc}")
        self.b("wait_text", selector="#result-table-h", text="Ranked results")
        self.assertEqual(len(self.cells("#result-table tbody tr")), len(sdata["ranked_results"]))
        # what is not a drawable result says why
        other = self.enqueue("noop")
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/result/{other}")
        self.b("wait_text", selector="#result-none", text="results are drawn for backtest")
        self.assertEqual(self.b("problems"), [])



@unittest.skipIf(WHY_NOT is not None, f"browser tests skipped: {WHY_NOT}")
class TestOptions(HttpCase):
    """IV histories of 25 days of synthetic chains (HI's IV climbing, LO's
    falling, as test_options_tasks makes them) and a scan."""

    def setUp(self):
        super().setUp()
        self.browser = Browser()
        self.addCleanup(self.browser.close)
        self.path, self.env = temp_sqlite(self, "tickq-dash-opt-", "o.db")
        csv = os.path.join(os.path.dirname(self.path), "bars.csv")
        write_bars_csv(csv, [r for r in all_bars_rows() if r[0] in ("HI", "LO")])
        p = self.tickq("data", "import", csv, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)

    def b(self, op, **kw):
        return self.browser.call(op, **kw)

    def test_iv_history_charts_and_the_latest_scan(self):
        jobs = []
        for k, day in enumerate(OPTION_DATES):
            for sym in ("HI", "LO"):
                jobs.append(("update_options_data", {"symbols": [sym], "as_of": day, "provider": {
                    "type": "synthetic", "vol": OPTION_BASE[sym][k], "noise": 0, "round_cents": False}}))
            jobs.append(("calculate_iv_analysis", {"symbols": ["HI", "LO"], "as_of": day}))
        jobs.append(("scan_opportunities", {}))
        ids, results = self.drain(jobs, env=self.env)
        scan = self.completed_data(results[-1])
        self.assertEqual([x["symbol"] for x in scan["sell_premium"]], ["HI"])
        s = self.serve(env=self.env)
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/options")
        self.b("wait_visible", selector='#iv-symbols tr[data-symbol="HI"]')
        self.assertIn(OPTION_DATES[-1], self.b("text", selector='#iv-symbols tr[data-symbol="HI"]'))
        self.assertIn("Generated", self.b("text", selector="#scan-when"))
        self.assertTrue(self.b("eval", js="document.getElementById('iv-section').hidden"))
        self.b("click", selector='#iv-symbols tr[data-symbol="HI"] a')
        self.b("wait_visible", selector="#chart-iv")
        self.assertEqual(self.b("text", selector="#iv-symbol"), "HI")
        points = json.loads(self.b("eval", js="JSON.stringify(Object.fromEntries([...document.querySelectorAll("
                                             "'#chart-iv path')].map(p => [p.dataset.series, +p.dataset.points])))"))
        self.assertEqual(points["ATM IV 30d"], len(OPTION_DATES))
        ranks = json.loads(self.b("eval", js="JSON.stringify([...document.querySelectorAll('#chart-iv-rank path')]"
                                             ".map(p => p.dataset.series))"))
        self.assertEqual(ranks, ["IV rank", "IV percentile"])
        self.assertEqual(self.b("eval", js="[...document.querySelectorAll('#scan-sell tbody tr')]"
                                           ".map(r => r.dataset.symbol).join()"), "HI")
        self.assertEqual(self.b("eval", js="[...document.querySelectorAll('#scan-buy tbody tr')]"
                                           ".map(r => r.dataset.symbol).join()"), "LO")
        # a symbol with no history says what to do
        self.b("goto", url=f"http://127.0.0.1:{s.port}/#/options/NOPE")
        self.b("wait_text", selector="#iv-empty", text="No IV history of NOPE")
        self.assertEqual(self.b("problems"), [])


if __name__ == "__main__":
    unittest.main()
