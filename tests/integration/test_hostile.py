"""test_hostile.py — the hostile strategy catalogue (tests/hostile/) as part of
`make test`: every entry runs as a job through a real worker with two
children, under a stream of load jobs, and must end as catalogue.json says
(state, error, time bound, one attempt); a reference job after each must give
the same result as on a fresh worker; no worker child may die. The catalogue
itself is checked too: well-formed, every file listed, at least 30 entries."""
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

    def test_every_entry_ends_as_expected_and_nothing_leaks(self):
        lines = []
        outcomes, problems = hostile.run_catalogue(TICKQ, redis_url=self.url, log=lines.append)
        report = "\n".join(lines)
        self.assertEqual([o["name"] for o in outcomes if o["problems"]], [], report)
        self.assertEqual(problems, [], report)
        self.assertGreaterEqual(len(outcomes), 30, report)
