"""test_handler_schema.py — the argument schema a handler announces (issue
14, docs/handlers.md "Argument schemas"): a Python task declared with
@task(NAME, args=[...]) has its jobs' args checked by tickq before the
handler sees them (an unknown key, a wrong type or range, a missing
required argument fail the job permanently, naming it); a type announced
without one is passed unchecked; `tickq tasks TYPE --config` prints the
announced table (text, JSON, Markdown) or says the args are unchecked; a
malformed schema stops the handler at its announcement, named by
`worker --check` and `tickq tasks`."""
import json
import os
import shutil
import tempfile

from harness import TickqTestCase, wait_for

APPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "handler_apps")
PY = "/usr/bin/python3"


class SchemaCase(TickqTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="tickq-schema-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.notes = os.path.join(self.tmp, "notes")
        self.env = {"PYTHONPATH": f"{self.tmp}:{APPS}", "PYTHONDONTWRITEBYTECODE": "1", "TICKQ_CONFIG": None,
                    "SCHEMA_NOTES": self.notes}
        self.config = self.write("tickq.ini", f"[handler reports]\ncommand = {PY} -m tickq.handler schema_tasks\n"
                                              "types = report, free\n")

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def seen(self):
        """The jobs the handler ran: their ids."""
        if not os.path.exists(self.notes):
            return []
        with open(self.notes) as f:
            return [json.loads(line)["id"] for line in f]


class TestArgsChecked(SchemaCase):
    def test_jobs_are_checked_against_the_announced_schema_before_the_handler_sees_them(self):
        w = self.worker("--config", self.config, "--workers", "1", env=self.env)
        wait_for(lambda: "handler started" in w.log(), 20, what="the handler's announcement")
        good = self.enqueue("report", {"day": "2026-12-03", "format": "html", "top": 5})
        self.assertEqual(self.wait_state(good, ("completed", "failed", "dead"), 20), "completed",
                         self.job(good).get("error"))
        data = self.completed_data(self.result(good))
        self.assertEqual((data["day"], data["format"], data["top"]), ("2026-12-03", "html", 5))
        bad = {
            "typo": ({"day": "2026-12-03", "dayy": 1}, "unknown argument 'dayy' (did you mean 'day'?)"),
            "range": ({"day": "2026-12-03", "top": 500}, "top must be an integer from 1 to 100, got 500"),
            "type": ({"day": "2026-12-03", "top": "5"}, "top must be an integer from 1 to 100, got \"5\""),
            "choice": ({"day": "2026-12-03", "format": "csv"}, "format must be one of pdf, html"),
            "missing": ({"format": "pdf"}, "missing day: the trading day"),
            "list": ({"day": "2026-12-03", "symbols": "AAPL"}, "symbols is the string 'AAPL'"),
        }
        ids = {k: self.enqueue("report", args, "--max-retries", "3") for k, (args, _) in bad.items()}
        for k, jid in ids.items():
            self.assertEqual(self.wait_state(jid, ("completed", "failed", "dead"), 20), "failed", k)
            error = self.permanent_error(self.result(jid), jid)
            self.assertIn(bad[k][1], error, k)
        # A type announced without a schema takes any args.
        free = self.enqueue("free", {"anything": [1, {"x": None}]})
        self.assertEqual(self.wait_state(free, ("completed", "failed", "dead"), 20), "completed",
                         self.job(free).get("error"))
        # The handler saw the good jobs only: the refused ones never reached it.
        self.assertEqual(sorted(self.seen()), sorted([good, free]))


class TestTasksShowsTheSchema(SchemaCase):
    def test_text_json_and_markdown(self):
        p = self.tickq("tasks", "report", "--config", self.config, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("checked against the schema its handler announces", p.stdout)
        self.assertIn("the trading day", p.stdout)
        self.assertIn("integer from 1 to 100; default: 10", p.stdout)
        self.assertNotIn("unchecked", p.stdout)
        p = self.tickq("tasks", "report", "--json", "--config", self.config, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = json.loads(p.stdout)
        self.assertEqual([a["name"] for a in got["args"]], ["day", "format", "top", "symbols"])
        self.assertEqual([a["type"] for a in got["args"]], ["date", "enum", "integer", "list"])
        self.assertTrue(got["args"][0]["required"])
        self.assertNotIn("any_args", got)
        p = self.tickq("tasks", "report", "--markdown", "--config", self.config, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("| `top` | integer from 1 to 100 | 10 | rows in the table |", p.stdout)
        self.assertIn("| `format` | one of pdf, html | \"pdf\" | the output format |", p.stdout)
        # Announced without a schema: said so.
        p = self.tickq("tasks", "free", "--config", self.config, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("announces no argument schema: its args are passed to it unchecked", p.stdout)
        p = self.tickq("tasks", "free", "--json", "--config", self.config, env=self.env)
        self.assertTrue(json.loads(p.stdout)["any_args"])


class TestMalformedSchema(SchemaCase):
    BAD = '''from tickq import task

@task("bad_schema", args=[{"name": "n", "type": "integer", "doc": "a count", "colour": "red"}])
def bad_schema(args, job):
    return {}
'''

    def test_a_malformed_schema_stops_the_handler_at_its_announcement(self):
        self.write("bad_tasks.py", self.BAD)
        config = self.write("bad.ini", f"[handler bad]\ncommand = {PY} -m tickq.handler bad_tasks\n"
                                       "types = bad_schema\n")
        p = self.tickq("worker", "--check", "--config", config, env=self.env)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        out = p.stdout + p.stderr
        self.assertIn("malformed announcement", out)
        self.assertIn("\"schema\" of 'bad_schema': argument 0: unknown key 'colour'", out)
        p = self.tickq("tasks", "bad_schema", "--config", config, env=self.env)
        self.assertEqual(p.returncode, 78, p.stdout + p.stderr)
        self.assertIn("cannot read the argument schema of 'bad_schema'", p.stderr)
        self.assertIn("unknown key 'colour'", p.stderr)
