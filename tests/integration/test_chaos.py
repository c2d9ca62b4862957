"""test_chaos.py — the short chaos run: each scenario of tests/chaos/chaos.py
(a SIGKILL storm of workers and supervisors, Redis SIGKILLed and restarted
from its AOF with appendfsync everysec and always, a TCP proxy stalling and
dropping the workers' connections, a maxmemory flood, a history database
whose disk fills up) at scale 0.2, about a minute and a half in all. Each
must lose no job, leave none stuck, run none twice more often than processes
were killed, and leave one job_history row per finished run. `make chaos`
runs the long version (docs/operations.md)."""
import json
import os
import subprocess
import sys
import unittest

from harness import ROOT, TICKQ

CHAOS = os.path.join(ROOT, "tests", "chaos", "chaos.py")
SCALE = "0.2"
FIGURES = ["scenario", "jobs", "completed", "lost", "stuck", "ran_twice", "kills", "history_rows_missing",
           "seconds", "ok"]


class TestChaosShort(unittest.TestCase):
    def scenario(self, name, *options):
        p = subprocess.run([sys.executable, CHAOS, "--scale", SCALE, "--tickq", TICKQ, *options, name],
                           capture_output=True, text=True, timeout=600)
        lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
        self.assertEqual(len(lines), 1, p.stdout + p.stderr[-4000:])
        line = json.loads(lines[0])
        if "skipped" in line:
            self.skipTest(line["skipped"])
        for key in FIGURES:
            self.assertIn(key, line)
        self.assertEqual(line["scenario"], name)
        self.assertTrue(line["ok"], lines[0] + "\n" + p.stderr[-4000:])
        self.assertEqual(p.returncode, 0, p.stderr[-4000:])
        self.assertGreater(line["jobs"], 0)
        self.assertEqual((line["lost"], line["stuck"], line["history_rows_missing"]), (0, 0, 0))
        self.assertLessEqual(line["ran_twice"], line["kills"])
        return line

    def test_kill_storm(self):
        line = self.scenario("kill_storm")
        self.assertGreater(line["kills"], 0)

    def test_redis_kill_everysec(self):
        # On a disk, everysec may hold writes back while an fsync runs, and a
        # SIGKILL then loses them (make chaos shows it): here Redis's files
        # are on a tmpfs, so the run is the same every time.
        line = self.scenario("redis_kill_everysec", "--aof-tmpfs")
        self.assertEqual(line["lost_at_each_kill"], [0] * line["kills"])

    def test_redis_kill_always(self):
        line = self.scenario("redis_kill_always")
        self.assertEqual(line["lost_at_each_kill"], [0] * line["kills"])

    def test_proxy_stall(self):
        self.scenario("proxy_stall")

    def test_maxmemory_flood(self):
        line = self.scenario("maxmemory_flood")
        self.assertGreater(line["refused"], 0)

    def test_disk_full(self):
        line = self.scenario("disk_full")
        self.assertLess(line["rows_while_full"], line["completed_while_full"])


if __name__ == "__main__":
    unittest.main()
