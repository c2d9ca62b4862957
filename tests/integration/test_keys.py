"""test_keys.py — scripts/check-keys, the key rule of src/ (docs/hacking.md,
"A Redis function"): no C file but the key builders (core/queue_keys.c,
core/queue_names.c, core/history_keys.c) spells a Redis key. It passes on
the tree as it is; on a copy of the tree with one key spelled by hand it
fails naming the file and the line, whether the key is one the builders
know or a new kind; comments and prose that name a key for the user pass.
tests/run runs the check itself before the tests."""
import os
import unittest

from harness import SourceCheckCase


class TestKeys(SourceCheckCase):
    SCRIPT = "check-keys"

    def test_the_tree_spells_keys_only_in_the_builders(self):
        self.assert_passes(says="no C file but core/queue_keys.c, core/queue_names.c, core/history_keys.c spells a "
                                "Redis key")

    def test_the_copy_passes_before_planting(self):
        self.assert_passes(self.tmp)

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
                self.assert_fails('src/%s:%d: spells the Redis key "%s"' % (relpath, line, literal))

    def test_a_new_key_kind_fails_before_it_has_a_builder(self):
        line = self.plant("http/http_sampler.c", 'static const char *k = "%s:gauges:%s";\n')
        self.assert_fails('src/http/http_sampler.c:%d: spells the Redis key "%%s:gauges:%%s"' % line)

    def test_comments_prose_and_other_colons_pass(self):
        self.plant("cmd/cmd_delete.c",
                   '/* the key "%s:job:%s" in a comment */\n'
                   '// and "task_result:%s" here\n'
                   'static const char *p1 = "its result (task_result:ID) and <prefix>:dead";\n'
                   'static const char *p2 = "%s:history";\n'    # a consumer name, not a key
                   'static const char *p3 = "%s:%d: %s";\n'     # file:line: message
                   "static const char c1 = '\"';\n")
        self.assert_passes(self.tmp)

    def test_a_moved_builder_is_told(self):
        os.remove(os.path.join(self.tmp, "src", "core", "history_keys.c"))
        self.assert_fails("history_keys.c")


if __name__ == "__main__":
    unittest.main()
