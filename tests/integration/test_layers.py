"""test_layers.py — scripts/check-layers, the include rule of src/
(docs/hacking.md, "Layers"): it passes on the tree as it is, and on a copy
of the tree with one wrong-way include planted it fails naming the file,
the line and the edge, also in a nested folder; a file directly in src/
fails. tests/run runs the check itself before the tests."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT

CHECK = os.path.join(ROOT, "scripts", "check-layers")


def check(root=None):
    args = [CHECK] + ([root] if root else [])
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


class TestLayers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tickq-layers-")
        self.addCleanup(shutil.rmtree, self.tmp)
        shutil.copytree(os.path.join(ROOT, "src"), os.path.join(self.tmp, "src"))

    def plant(self, relpath, include):
        """Adds an #include line after the file's first include."""
        path = os.path.join(self.tmp, "src", relpath)
        with open(path) as f:
            lines = f.read().split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith("#include")) + 1
        lines.insert(at, "#include \"%s\"" % include)
        with open(path, "w") as f:
            f.write("\n".join(lines))
        return at + 1

    def test_the_tree_points_down(self):
        code, out = check()
        self.assertEqual(code, 0, out)
        self.assertIn("every include in src/ points down", out)

    def test_the_copy_passes_before_planting(self):
        code, out = check(self.tmp)
        self.assertEqual(code, 0, out)

    def test_core_including_a_domain_fails(self):
        line = self.plant("core/queue.c", "strategy/strategy.h")
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn('src/core/queue.c:%d: core/ includes "strategy/strategy.h": strategy/ is not below core/'
                      % line, out)

    def test_data_including_a_domain_fails(self):
        line = self.plant("data/db.c", "options/option_pricing.h")
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn('src/data/db.c:%d: data/ includes "options/option_pricing.h"' % line, out)

    def test_a_domain_including_another_domain_fails(self):
        line = self.plant("options/option_synth.c", "strategy/performance.h")
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn('src/options/option_synth.c:%d: options/ includes "strategy/performance.h": '
                      'strategy/ is not below options/' % line, out)

    def test_a_header_reaching_up_fails(self):
        line = self.plant("core/job.h", "cmd/cli.h")
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn('src/core/job.h:%d: core/ includes "cmd/cli.h"' % line, out)

    def test_an_include_without_its_folder_fails(self):
        line = self.plant("sched/cron.c", "tz.h")
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn('src/sched/cron.c:%d: includes "tz.h" without its folder (write "sched/tz.h")' % line, out)

    def test_the_generated_library_text_is_core_only(self):
        line = self.plant("cmd/main.c", "lua_scripts.h")
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn("src/cmd/main.c:%d: includes the generated lua_scripts.h, which only core/ may" % line, out)

    def test_a_folder_without_a_layer_fails(self):
        os.mkdir(os.path.join(self.tmp, "src", "misc"))
        with open(os.path.join(self.tmp, "src", "misc", "x.c"), "w") as f:
            f.write('#include "core/log.h"\n')
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn("src/misc/x.c: folder src/misc/ has no layer", out)

    def test_a_file_directly_in_src_fails(self):
        with open(os.path.join(self.tmp, "src", "stray.c"), "w") as f:
            f.write('#include "core/log.h"\n')
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn("src/stray.c: a file directly in src/ has no layer", out)

    def test_a_nested_folder_is_part_of_its_top_folder(self):
        """src/core/x/ is core/: a wrong-way include there fails like one in
        core/, its own and downward includes pass, and an include without
        its folder is told its nested folder."""
        nested = os.path.join(self.tmp, "src", "core", "x")
        os.mkdir(nested)
        with open(os.path.join(nested, "ok.h"), "w") as f:
            f.write('#include "core/log.h"\n#include "core/x/ok.h"\n')
        code, out = check(self.tmp)
        self.assertEqual(code, 0, out)
        with open(os.path.join(nested, "up.c"), "w") as f:
            f.write('#include "core/x/ok.h"\n#include "data/db.h"\n#include "ok.h"\n')
        code, out = check(self.tmp)
        self.assertEqual(code, 1, out)
        self.assertIn('src/core/x/up.c:2: core/ includes "data/db.h": data/ is not below core/', out)
        self.assertIn('src/core/x/up.c:3: includes "ok.h" without its folder (write "core/x/ok.h")', out)
        self.assertNotIn("ok.h:", out)

    def test_downward_and_own_folder_includes_pass(self):
        self.plant("cmd/cmd_job.c", "options/option_pricing.h")
        self.plant("strategy/performance.c", "data/bars.h")
        self.plant("sched/cron.c", "sched/market_calendar.h")
        code, out = check(self.tmp)
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
