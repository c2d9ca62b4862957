"""test_hostile.py — the hostile strategy catalogue (tests/hostile/) as part of
`make test`: every entry runs as a job through a real worker with two
children, under a stream of load jobs, and must end as catalogue.json says
(state, error, time bound, one attempt); a reference job after each must give
the same result as on a fresh worker (a Lua one after a Lua entry, a Python
one after a Python entry); no worker child may die. The catalogue itself is
checked too: well-formed, every file listed, at least 30 entries, the Python
entries' memory cases skipped under AddressSanitizer."""
import os
import sys

from harness import ROOT, TICKQ, TickqTestCase

sys.path.insert(0, os.path.join(ROOT, "tests", "hostile"))
import run as hostile  # noqa: E402  (tests/hostile/run.py)


class TestHostileCatalogue(TickqTestCase):
    def test_the_catalogue_is_well_formed(self):
        _, entries, refs = hostile.load_catalogue()
        self.assertGreaterEqual(len(entries), 30)
        self.assertTrue(refs)
        listed = {e["file"] for e in entries}
        for lang in ("lua", "python"):
            folder = os.path.join(hostile.HERE, lang)
            on_disk = {f"{lang}/{f}" for f in os.listdir(folder)} if os.path.isdir(folder) else set()
            self.assertEqual(on_disk - listed, set(), "files in tests/hostile/ that catalogue.json does not list")
        for e in entries:
            self.assertIn(e["language"], ("lua", "python"), e["name"])
            if e["expect"]["state"] != "completed":
                self.assertTrue(e["expect"]["error"], e["name"])
            if e["language"] == "python":
                self.assertTrue(e["name"].startswith("py_"), e["name"])
                with open(os.path.join(hostile.HERE, e["file"]), encoding="utf-8") as f:
                    self.assertTrue(f.read().startswith("# "), f"{e['file']}: no comment saying what it attempts")
        # Each language's entries are followed by a reference job in it.
        self.assertEqual({r["language"] for r in refs}, {"lua", "python"})
        for r in refs:
            for path in (r.get("prelude"), r["file"]):
                if path:
                    self.assertTrue(os.path.exists(os.path.join(hostile.HERE, path)), path)

    def test_python_memory_entries_are_skipped_under_a_sanitizer(self):
        """An AddressSanitizer build sets no address-space limit: the Python
        entries that need it are skipped there, and only those."""
        _, entries, _ = hostile.load_catalogue()
        needs = [e["name"] for e in entries if hostile.skip_reason(e, True)]
        self.assertIn("py_mem_spaces", needs)
        self.assertEqual([e["name"] for e in entries if hostile.skip_reason(e, False)], [])
        for e in entries:
            if e["language"] == "python" and "memory limit" in (e["expect"].get("error") or ""):
                self.assertIn(e["name"], needs)

    def test_every_entry_ends_as_expected_and_nothing_leaks(self):
        lines = []
        outcomes, problems = hostile.run_catalogue(TICKQ, redis_url=self.url, log=lines.append)
        report = "\n".join(lines)
        self.assertEqual([o["name"] for o in outcomes if o["problems"]], [], report)
        self.assertEqual(problems, [], report)
        self.assertGreaterEqual(len(outcomes), 30, report)
