"""test_keys.py — scripts/check-keys, the key rule of src/ (docs/hacking.md,
"A Redis function"): no C file but the key builders (core/queue.c,
core/queue_names.c, core/history_keys.c) spells a Redis key. It passes on
the tree as it is; on a copy of the tree with one key spelled by hand it
fails naming the file and the line, whether the key is one the builders
know or a new kind; comments and prose that name a key for the user pass.
tests/run runs the check itself before the tests."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT

CHECK = os.path.join(ROOT, "scripts", "check-keys")


def check(root=None):
    args = [CHECK] + ([root] if root else [])
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


class TestKeys(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickq-keys-")
        self.addCleanup(shutil.rmtree, self.tmp)
        shutil.copytree(os.path.join(ROOT, "src"), os.path.join(self.tmp, "src"))

    def plant(self, relpath, text):
        """Appends text to a file of the copy; returns its first line's number."""
        path = os.path.join(self.tmp, "src", relpath)
        with open(path) as f:
            lines = f.read().count("\n")
        with open(path, "a") as f:
            f.write(text)
        return lines + 1

    def test_the_tree_spells_keys_only_in_the_builders(self):
        code, out = check()
        self.assertEqual(code, 0, out)
        self.assertIn("no C file but core/queue.c, core/queue_names.c, core/history_keys.c spells a Redis key", out)

    def test_the_copy_passes_before_planting(self):
        code, out = check(self.tmp)
        self.assertEqual(code, 0, out)

    def test_each_shape_of_a_known_key_fails(self):
        cases = [
            ("core/job_children.c", 'static const char *k1 = "task_result:%s";\n', "task_result:%s"),
            ("http/http_ops.c", 'static const char *k2 = "%s:dead";\n', "%s:dead"),
            ("sched/scheduler.c", 'static const char *k3 = "tickq:job:";\n', "tickq:job:"),
            ("cmd/cmd_result.c", 'static const char *k4 = ":queue:";\n', ":queue:"),
            ("data/history.c", 'static const char *k5 = "%s:history:%016llx";\n', "%s:history:%016llx"),
        ]
        for relpath, text, literal in cases:
            with self.subTest(literal=literal):
                line = self.plant(relpath, text)
                code, out = check(self.tmp)
                self.assertEqual(code, 1, out)
                self.assertIn('src/%s:%d: spells the Redis key "%s"' % (relpath, line, literal), out)

    def test_a_new_key_kind_fails_before_it_has_a_builder(self):
        line = self.plant("http/http_sampler.c", 'static const char *k = "%s:gauges:%s";\n')
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn('src/http/http_sampler.c:%d: spells the Redis key "%%s:gauges:%%s"' % line, out)

    def test_comments_prose_and_other_colons_pass(self):
        self.plant("cmd/cmd_delete.c",
                   '/* the key "%s:job:%s" in a comment */\n'
                   '// and "task_result:%s" here\n'
                   'static const char *p1 = "its result (task_result:ID) and <prefix>:dead";\n'
                   'static const char *p2 = "%s:history";\n'    # a consumer name, not a key
                   'static const char *p3 = "%s:%d: %s";\n'     # file:line: message
                   "static const char c1 = '\"';\n")
        code, out = check(self.tmp)
        self.assertEqual(code, 0, out)

    def test_a_moved_builder_is_told(self):
        os.remove(os.path.join(self.tmp, "src", "core", "history_keys.c"))
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn("history_keys.c", out)


if __name__ == "__main__":
    unittest.main()
