"""test_dashboard.py — the dashboard (GET /, src/http/dashboard.html) in a
real browser: Debian's chromium driven by playwright-core
(browser_harness.py). The Overview loads with no console error and no
failed request; enqueued jobs change its counts without a reload; a live
worker appears with its children; with a token set the page asks for it,
and a wrong one is refused while the right one shows the data; an unknown
query parameter and other methods are refused as on every route. Skipped,
saying why, where no browser can run (browser_harness.missing)."""
import json
import unittest

from browser_harness import Browser, missing
from harness import wait_for
from http_harness import TOKEN, HttpCase

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
        row = json.loads(self.b("eval", js="JSON.stringify([...document.querySelectorAll('#workers tbody tr')]"
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

    def test_a_token_is_asked_once_and_a_wrong_one_refused(self):
        s = self.serve(env={"TICKQ_API_TOKEN": TOKEN})
        self.enqueue("noop")
        self.b("goto", url=f"http://127.0.0.1:{s.port}/")
        self.b("wait_visible", selector="#token-section")
        self.assertIn("token", self.b("text", selector="#status"))
        problems = self.b("problems")   # the page's first calls were refused, as they must be
        self.assertTrue(problems and all("401" in p for p in problems), problems)
        self.b("fill", selector="#token-input", value="not-the-token-at-all")
        self.b("click", selector="#token-form button")
        self.b("wait_text", selector="#status", text="wrong token")
        self.assertTrue(all("403" in p for p in self.b("problems")))
        self.b("fill", selector="#token-input", value=TOKEN)
        self.b("click", selector="#token-form button")
        self.b("wait_text", selector='#queues tr[data-queue="backtest_normal"] td[data-field="ready"]', text="1")
        self.assertTrue(self.b("eval", js="document.getElementById('token-section').hidden"))
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
        page = r.body.decode()
        for outside in ("http://", "https://", "//cdn", "@import"):
            self.assertNotIn(outside, page)
        self.expect(self.get(s, "/?x=1"), 400, "unknown query parameter 'x'")
        self.assertEqual(self.post(s, "/", {}).status, 405)
        # the data stays behind the token
        self.assertEqual(self.get(s, "/api/queues").status, 401)


if __name__ == "__main__":
    unittest.main()
